"""A cloze card's study item (`<id>#c<n>`) records the hash of what it shows
(`text_hash.deletion_hash`): an edit that changes nothing an item shows (a word wrapped as a
new deletion, another deletion's hint) flags no review of it; one that does (another
deletion's text, shown revealed; a word outside the deletions) flags it. A review recorded
before items had their own hash (the whole card's, "m") is compared as it was."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from fsrs import Rating

from studycli.content import text_hash
from studycli.content.loader import load_content
from studycli.paths import content_index_path
from studycli.study import rating as core
from studycli.study.api import Study, study_items

from .study_support import NO_FUZZ, NOW

EDITED = "edited since your last review"
CARD = "moments-cloze"
PROMPT = (
    "For X ~ Poisson(λ), E[X] = {{c1::λ}}, Var(X) = {{c2::λ::a parameter}} and X + Y with Y\n"
    "an independent Poisson is {{c3::Poisson::a family}}, with j the sum's parameter.\n"
)


def _write(content_dir, prompt: str = PROMPT) -> None:
    folder = content_dir / "cards" / "numbers"
    indented = "".join(f"  {line}\n" for line in prompt.splitlines())
    (folder / f"{CARD}.yaml").write_text(
        f"id: {CARD}\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\nprompt: |\n{indented}",
        encoding="utf-8",
    )


def _edit(content_dir, old: str, new: str) -> None:
    assert old in PROMPT, old
    _write(content_dir, PROMPT.replace(old, new))


def _items(content_dir) -> dict:
    content = load_content(content_dir)
    return {item.id: item for item in study_items(content.cards.values())}


def _rate(content_dir, db, numbers=(1, 2, 3), made_on=None, when=NOW) -> None:
    items = _items(content_dir)
    with Study.open(db, NO_FUZZ) as study:
        for number in numbers:
            item = items[f"{CARD}#c{number}"]
            if made_on is None:
                study.rate(item, Rating.Good, when)
            else:  # as an earlier studycli rated: its own hash of the text
                core.rate(study.store, item, Rating.Good, when, NO_FUZZ, content_hash=made_on(item))


def _flagged(content_dir, db) -> list[str]:
    """The ids of the card's items flagged as edited."""
    items = _items(content_dir)
    with Study.open(db, NO_FUZZ) as study:
        return [
            item_id
            for item_id, item in items.items()
            if item_id.startswith(CARD) and EDITED in " ".join(study.flags(item))
        ]


def test_a_word_wrapped_as_a_new_deletion_flags_no_item_and_a_word_outside_them_flags_all(
    content_copy, tmp_path
):
    db = tmp_path / "reviews.sqlite3"
    _write(content_copy)
    _rate(content_copy, db)
    _edit(content_copy, "with j the", "with {{c4::j}} the")
    assert f"{CARD}#c4" in _items(content_copy)  # (new: no review to compare with)
    assert _flagged(content_copy, db) == []
    _edit(content_copy, "with j the", "with {{c4::j}} the new")  # a word outside the deletions
    assert _flagged(content_copy, db) == [f"{CARD}#c{n}" for n in (1, 2, 3)]


def test_a_deletions_hint_flags_its_item_only_and_its_text_every_item(content_copy, tmp_path):
    """c3's hint shows in c3's blank only; its text shows in every item (c1's and c2's show
    it as plain text, c3's answer reveals it)."""
    db = tmp_path / "reviews.sqlite3"
    _write(content_copy)
    _rate(content_copy, db)
    _edit(content_copy, "Poisson::a family", "Poisson::a law's name")
    assert _flagged(content_copy, db) == [f"{CARD}#c3"]
    _edit(content_copy, "Poisson::a family", "a Poisson law::a family")
    assert _flagged(content_copy, db) == [f"{CARD}#c{n}" for n in (1, 2, 3)]


def test_a_review_that_recorded_the_whole_cards_hash_compares_it_as_before(content_copy, tmp_path):
    """A studycli before this one recorded an item's review as the whole card's "m" hash:
    an upgrade flags nothing, any deletion edited since flags it, as then; its next review
    records the item's own hash, from which on another deletion's hint is no edit."""
    db = tmp_path / "reviews.sqlite3"
    _write(content_copy)
    _rate(content_copy, db, (1,), made_on=text_hash.shown_hash)
    assert _flagged(content_copy, db) == []
    _edit(content_copy, "Poisson::a family", "Poisson::a law's name")
    assert _flagged(content_copy, db) == [f"{CARD}#c1"]
    _rate(content_copy, db, (1,), when=NOW + timedelta(days=1))
    with Study.open(db, NO_FUZZ) as study:
        recorded = study.store.state(f"{CARD}#c1").content_hash
    assert recorded == text_hash.deletion_hash(_items(content_copy)[f"{CARD}#c1"])
    _write(content_copy)  # c3's hint back as it was
    assert _flagged(content_copy, db) == []


def test_a_card_from_the_index_keeps_its_items_hashes(content_copy, tmp_path, monkeypatch):
    """`review` makes the item it shows from the index: its hash is read there, not made."""
    monkeypatch.setenv("STUDYCLI_HOME", str(tmp_path / "home"))
    _write(content_copy)
    parsed = {i: item.content_hash for i, item in _items(content_copy).items()}
    hour_ago = time.time() - 3600  # not 'racy' for an index written now (`index.RACY_NS`)
    for path in (content_copy / "cards").rglob("*.yaml"):
        os.utime(path, (hour_ago, hour_ago))
    index = content_index_path(content_copy)
    load_content(content_copy, index=index)  # (writes the index)

    def hashed(card):
        raise AssertionError(f"{card.id} hashed again")

    monkeypatch.setattr(text_hash, "deletion_hash", hashed)
    monkeypatch.setattr(text_hash, "shown_hash", hashed)
    content = load_content(content_copy, index=index)
    items = {item.id: item for item in study_items(content.cards.values())}
    assert {i: item.content_hash for i, item in items.items() if i.startswith(CARD)} == {
        i: digest for i, digest in parsed.items() if i.startswith(CARD)
    }
    assert items[f"{CARD}#c1"].card_hash == content.get(CARD).content_hash


def test_an_items_hash_round_trips_through_an_export(content_copy, tmp_path):
    db, other = tmp_path / "reviews.sqlite3", tmp_path / "other.sqlite3"
    _write(content_copy)
    _rate(content_copy, db)
    exported = tmp_path / "reviews.csv"
    with Study.open(db, NO_FUZZ) as study:
        study.export_reviews(exported)
        recorded = study.store.state(f"{CARD}#c1").content_hash
    assert recorded.startswith(text_hash.DELETION) and f",{recorded}," in exported.read_text()
    items = list(_items(content_copy).values())
    with Study.open(other, NO_FUZZ) as study:
        study.import_reviews(exported, items, NOW + timedelta(hours=1))
        assert study.store.state(f"{CARD}#c1").content_hash == recorded
    _edit(content_copy, "Poisson::a family", "Poisson::a law's name")
    assert _flagged(content_copy, other) == [f"{CARD}#c3"]


def test_a_colon_moved_from_a_deletions_text_to_its_hint_flags_it(content_copy, tmp_path):
    """`{{c3::Poisson:}}` hides 'Poisson:' behind `[...]`; `{{c3::Poisson:::}}` hides
    'Poisson' behind `[:]` (the first '::' ends the text): c3's front and answer both changed,
    and the others show c3's text without its colon."""
    db = tmp_path / "reviews.sqlite3"
    _edit(content_copy, "Poisson::a family", "Poisson:")
    _rate(content_copy, db)
    _edit(content_copy, "Poisson::a family", "Poisson:::")
    assert _flagged(content_copy, db) == [f"{CARD}#c{n}" for n in (1, 2, 3)]
