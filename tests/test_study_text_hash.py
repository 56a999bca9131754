"""The hash a review records of a card's text (`content.text_hash`): a reflowed paragraph is
no edit, a changed word is; a review recorded by an earlier studycli (the text's hash as
written) flags no card on upgrade, and flags one edited since, whether rated here or
imported from a file."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from fsrs import Rating

from studycli.content.card import Card
from studycli.content.loader import load_content
from studycli.study import rating as core
from studycli.study.api import Study, study_items

from .study_support import NO_FUZZ, NOW

EDITED = "edited since your last review"
STARTER = "edited since your last review: its starter (signature or docstring)"
OWN_HEADER = "card_id,review_rating,review_time,review_duration,content_hash,undone_at\n"


def old_scheme(card: Card) -> str:
    """The hash an earlier studycli recorded (its `Card.content_hash`, as it was)."""
    shown = {
        "prompt": card.prompt,
        "answer": card.answer,
        "steps": list(card.steps),
        "solution": str(card.solution or ""),
        "title": card.title,
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _reflow(content_dir) -> None:
    """bias-concept's prompt and answer broken at other places, spaced and ended otherwise:
    the terminal shows them as before."""
    card = content_dir / "cards" / "basics" / "bias-concept.yaml"
    _edit(card, "which decision boundaries can", "which decision  \t\n  boundaries can")
    _edit(card, "origin; the bias", "origin;\n  the   bias")
    _edit(card, "the threshold.\n", "the threshold.   \n\n")


def _word(content_dir) -> None:
    _edit(content_dir / "cards" / "basics" / "bias-concept.yaml", "bias term", "bias weight")


def _flags(content_dir, db, card_id="bias-concept") -> list[str]:
    content = load_content(content_dir)
    with Study.open(db, NO_FUZZ, solutions_dir=content.solutions_dir) as study:
        return study.flags(content.get(card_id))


def _rate(content_dir, db, when, card_id="bias-concept", made_on=None) -> None:
    content = load_content(content_dir)
    card = content.get(card_id)
    with Study.open(db, NO_FUZZ, solutions_dir=content.solutions_dir) as study:
        if made_on is None:
            study.rate(card, Rating.Good, when)
        else:  # as an earlier studycli rated: its own hash of the text
            core.rate(study.store, card, Rating.Good, when, NO_FUZZ, content_hash=made_on(card))


def test_a_reflowed_card_is_not_flagged_and_a_changed_word_is(content_copy, tmp_path):
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW)
    _reflow(content_copy)
    assert "\n" in load_content(content_copy).get("bias-concept").prompt  # (reflowed)
    assert _flags(content_copy, db) == []
    _word(content_copy)
    assert _flags(content_copy, db) == [EDITED]


def test_a_link_reference_definition_joined_to_its_next_line_flags_the_card(content_copy, tmp_path):
    """The definition shows nothing; joined to the answer's line (a fill-paragraph over
    both), the learner reads it as text: an edit."""
    card = content_copy / "cards" / "basics" / "bias-concept.yaml"
    _edit(card, "  Only boundaries", "  [origin]: https://example.org/origin\n  Only boundaries")
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW)
    _edit(card, "/origin\n  Only", "/origin Only")
    assert _flags(content_copy, db) == [EDITED]


def test_a_review_recorded_before_the_upgrade_flags_the_card_only_once_edited(
    content_copy, tmp_path
):
    """Its hash is compared with the old scheme's hash of the text now: equal, the card is
    not flagged; once a word changed, it is. The next review records the new scheme, from
    which on a reflow is no edit."""
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW, made_on=old_scheme)
    assert _flags(content_copy, db) == []
    _word(content_copy)
    assert _flags(content_copy, db) == [EDITED]
    _rate(content_copy, db, NOW + timedelta(days=1))
    with Study.open(db, NO_FUZZ) as study:
        recorded = study.store.state("bias-concept").content_hash
    assert recorded.startswith("m") and recorded != old_scheme(
        load_content(content_copy).get("bias-concept")
    )
    _reflow(content_copy)
    assert _flags(content_copy, db) == []


def test_a_coding_cards_review_recorded_before_the_upgrade_compares_its_contract_too(
    content_copy, tmp_path
):
    db = tmp_path / "reviews.sqlite3"
    content = load_content(content_copy)
    with Study.open(db, NO_FUZZ, solutions_dir=content.solutions_dir) as study:
        card = content.get("add-one")
        made_on = f"{old_scheme(card)}+{study.contract(card)}"
        core.rate(study.store, card, Rating.Good, NOW, NO_FUZZ, content_hash=made_on)
    assert _flags(content_copy, db, "add-one") == []
    solutions = content_copy / "solutions" / "arith.py"
    _edit(solutions, "def add_one(x: int)", "def add_one(x: int, k=1)")
    assert _flags(content_copy, db, "add-one") == [STARTER]


def test_a_hash_of_no_known_scheme_is_another_text(content_copy, tmp_path):
    """(A later studycli's scheme, or a hand-edited file: the card is shown as edited.)"""
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW, made_on=lambda card: "z" + card.content_hash[1:])
    assert _flags(content_copy, db) == [EDITED]


def _import(content_dir, db, rows: list[str], tmp_path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(OWN_HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    content = load_content(content_dir)
    with Study.open(db, NO_FUZZ, solutions_dir=content.solutions_dir) as study:
        study.import_reviews(path, study_items(content.cards.values()), NOW)


def test_an_import_of_an_earlier_studycli_s_export_flags_only_the_cards_edited_since(
    content_copy, tmp_path
):
    """Its content_hash cells hold the old scheme: of the text as it is here, no flag; of a
    text edited since, the flag."""
    content = load_content(content_copy)
    bias, poisson = content.get("bias-concept"), content.get("poisson-concept")
    row = "{},3,2025-02-27T10:00:00+00:00,5000,{},"
    _word(content_copy)
    db = tmp_path / "reviews.sqlite3"
    rows = [row.format("bias-concept", old_scheme(bias))]
    _import(content_copy, db, rows + [row.format("poisson-concept", old_scheme(poisson))], tmp_path)
    assert _flags(content_copy, db, "poisson-concept") == []
    assert _flags(content_copy, db) == [EDITED]


def test_an_import_of_a_review_made_before_a_reflow_flags_nothing(content_copy, tmp_path):
    """Exported by a studycli that records the text as shown, on a machine that had not
    pulled the reflow yet."""
    made_on = load_content(content_copy).get("bias-concept").content_hash
    _reflow(content_copy)
    db = tmp_path / "reviews.sqlite3"
    _import(
        content_copy, db, [f"bias-concept,3,2025-02-27T10:00:00+00:00,5000,{made_on},"], tmp_path
    )
    assert _flags(content_copy, db) == []
