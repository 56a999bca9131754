"""`due` counts the content index's head rows (`study_view.load_study_items`), not cards: the rows
are the study items `load_content` gives (cloze deletions, duplicate ids, broken files, a
stale, missing or absent index), and the counts from them equal the counts from the cards."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from studycli.content import card_scan, card_yaml
from studycli.content import index as content_index
from studycli.content.card import Card
from studycli.content.loader import load_content
from studycli.content.study_view import load_study_items
from studycli.study.api import Study, study_items

from .conftest import FIXTURE_CONTENT, REPO_ROOT, write_card
from .study_support import NO_FUZZ

sys.path.insert(0, str(REPO_ROOT / "bench"))
import synthetic


def from_cards(root, index=None) -> list[tuple]:
    cards = load_content(root, index=index).cards.values()
    return [(item.id, item.deck, item.requires) for item in study_items(cards)]


def from_rows(root, index=None) -> list[tuple]:
    return [tuple(item) for item in load_study_items(root, index=index)[0]]


def left_out(root, index=None) -> list:
    return load_study_items(root, index=index)[1]


def test_the_index_names_the_card_fields_in_order():
    assert tuple(f.name for f in dataclasses.fields(Card)) == content_index.NAMES


@pytest.mark.parametrize("root", [FIXTURE_CONTENT, REPO_ROOT], ids=["fixture", "shipped"])
def test_rows_are_the_study_items_of_the_cards(root, tmp_path):
    expected = from_cards(root)
    assert any("#c" in item[0] for item in expected) or root == FIXTURE_CONTENT
    index = tmp_path / "content.index"
    assert from_rows(root) == expected  # no index
    assert from_rows(root, index) == expected  # a missing index: written
    assert index.is_file()
    assert from_rows(root, index) == expected  # through it


def test_rows_follow_edits_duplicates_broken_files_and_a_damaged_index(content_copy, tmp_path):
    index = tmp_path / "content.index"
    from_rows(content_copy, index)
    cloze = "id: new-cloze\nkind: cloze\ntopic: t\ntitle: T\nprompt: '{{c1::a}} {{c2::b}}'\n"
    write_card(content_copy, "basics", "new-cloze", cloze)
    write_card(content_copy, "numbers", "new-cloze", cloze)  # a duplicate id: the first stays
    write_card(content_copy, "basics", "broken", "id: broken\nkind: essay\n")
    (content_copy / "cards" / "basics" / "odd.yml").write_text("id: odd\n")
    bias = content_copy / "cards" / "basics" / "bias-concept.yaml"
    bias.write_text(bias.read_text() + "requires: [add-one]\n")
    expected = from_cards(content_copy)
    assert ("new-cloze#c2", "basics", ()) in expected
    assert ("bias-concept", "basics", ("add-one",)) in expected
    assert from_rows(content_copy, index) == expected  # a stale index
    unloaded = sorted({problem.path for problem in load_content(content_copy).unloaded()})
    assert len(unloaded) == 3  # broken, odd.yml, the duplicate: what `due` names on stderr
    assert sorted(left_out(content_copy)) == unloaded
    settled(content_copy)
    assert sorted(left_out(content_copy, index)) == unloaded  # the index rewritten
    assert content_index.read(index, content_copy).study_rows(
        card_scan._scan(str(content_copy / "cards"))
    )[1] == [str(path.relative_to(content_copy / "cards")) for path in unloaded]
    assert sorted(left_out(content_copy, index)) == unloaded  # through its study rows
    index.write_bytes(index.read_bytes()[:-40] + b"\0" * 40)  # damaged: rebuilt
    assert from_rows(content_copy, index) == expected
    assert from_rows(content_copy, index) == from_cards(content_copy, index)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """300 cards made from the shipped ones (cloze cards and `requires` among them), two
    thirds of their items studied in a store with a history."""
    root = tmp_path_factory.mktemp("generated")
    synthetic.make_content(root / "content", 300)
    ids = synthetic.study_ids(root / "content")
    synthetic.make_store(root / "reviews.sqlite3", ids[: len(ids) * 2 // 3], 3000)
    return root


@pytest.mark.parametrize("later", [timedelta(0), timedelta(days=3), timedelta(days=40)])
@pytest.mark.parametrize("new_per_day", [0, 7, 1000])
def test_counts_from_rows_equal_counts_from_cards(generated, tmp_path, later, new_per_day):
    content = generated / "content"
    cards = study_items(load_content(content).cards.values())
    rows, _, _, _ = load_study_items(content, index=tmp_path / "content.index")
    settings = NO_FUZZ._replace(new_per_day=new_per_day, reviews_per_day=50)
    now = synthetic.NOW + later
    with Study.open(generated / "reviews.sqlite3", settings) as study:
        from_card_items = study.due_counts(cards, now)
    with Study.open(generated / "reviews.sqlite3", settings) as study:
        counts = study.due_counts(rows, now)
    assert counts == from_card_items
    assert counts.due + counts.learning + counts.new > 0


PROBE = """
import atexit, sys
sys.argv = ["studycli", "--content", sys.argv[1], "due"]
atexit.register(  # main() leaves at once
    lambda: print([m for m in ("studycli.content.card", "yaml", "json", "fsrs") if m in sys.modules])
)
from studycli.cli import run as main
main()
"""


def test_due_makes_no_card_through_a_warm_index(content_copy, tmp_path):
    """`due` with a warm index imports neither the card class nor a YAML parser."""
    shutil.rmtree(content_copy / "solutions", ignore_errors=True)
    environ = {
        **os.environ,
        "STUDYCLI_CACHE": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    command = [sys.executable, "-c", PROBE, str(content_copy)]
    for path in (content_copy / "cards").rglob("*.yaml"):  # settled: not 'racy' for the index
        os.utime(path, (0, 1_000_000_000))
    cold = subprocess.run(command, capture_output=True, text=True, env=environ, cwd=tmp_path)
    warm = subprocess.run(command, capture_output=True, text=True, env=environ, cwd=tmp_path)
    assert "'yaml'" in cold.stdout.splitlines()[-1], cold.stderr
    assert warm.stdout.splitlines()[-1] == "[]", warm.stderr
    assert "all" in warm.stdout


def settled(root) -> None:
    """Every card file dated an hour back: not 'racy' for an index written now."""
    for path in (root / "cards").rglob("*.y*ml"):
        os.utime(path, (time.time() - 3600, time.time() - 3600))


def study_section(index) -> tuple[int, int]:
    """Where the index file keeps its study rows: (offset, length)."""
    data = index.read_bytes()
    sizes = content_index._HEADER.unpack_from(data, len(content_index.MAGIC))
    start = len(content_index.MAGIC) + content_index._HEADER.size + sizes[1] + sizes[3]
    return start, sizes[5]


def rows_from_section(root, index):
    found = content_index.read(index, root).study_rows(card_scan._scan(str(root / "cards")))
    return found and found[0]


def test_a_warm_index_gives_the_rows_without_reading_an_entry(content_copy, tmp_path, monkeypatch):
    settled(content_copy)
    index = tmp_path / "content.index"
    expected = from_cards(content_copy)
    assert from_rows(content_copy, index) == expected  # written

    def refuse(*args):
        raise AssertionError("an entry was read, or a file parsed")

    monkeypatch.setattr(content_index.Index, "entries", property(refuse))
    monkeypatch.setattr(card_yaml, "_parse_file", refuse)
    assert from_rows(content_copy, index) == expected


def test_study_rows_are_not_used_for_files_changed_since(content_copy, tmp_path):
    """A touched file (its mtime), a new one or a removed one: the rows come from the entries
    and the files read again, and the index is rewritten with rows the next call can use."""
    settled(content_copy)
    index = tmp_path / "content.index"
    from_rows(content_copy, index)
    assert rows_from_section(content_copy, index) is not None
    bias = content_copy / "cards" / "basics" / "bias-concept.yaml"
    changes = [
        lambda: os.utime(bias, (time.time() - 60, time.time() - 60)),
        lambda: write_card(content_copy, "numbers", "extra", "id: extra\nkind: essay\n"),
        lambda: (content_copy / "cards" / "numbers" / "extra.yaml").unlink(),
    ]
    for change in changes:
        change()
        assert rows_from_section(content_copy, index) is None
        settled(content_copy)
        assert rows_from_section(content_copy, index) is None  # (mtimes changed again)
        assert from_rows(content_copy, index) == from_cards(content_copy)
        assert rows_from_section(content_copy, index) == [
            tuple(r) for r in from_cards(content_copy)
        ]


def test_study_rows_are_not_used_for_a_racy_file(content_copy, tmp_path):
    """A file as new as the index (a second same-size edit in its clock tick keeps the mtime)."""
    index = tmp_path / "content.index"
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    path.write_text(path.read_text())  # edited just now
    from_rows(content_copy, index)
    assert rows_from_section(content_copy, index) is None
    assert from_rows(content_copy, index) == from_cards(content_copy)


def test_damaged_study_rows_are_made_again_from_the_entries(content_copy, tmp_path, monkeypatch):
    settled(content_copy)
    index = tmp_path / "content.index"
    expected = from_rows(content_copy, index)
    start, length = study_section(index)
    data = bytearray(index.read_bytes())
    data[start + length // 2] ^= 0xFF
    index.write_bytes(bytes(data))
    assert rows_from_section(content_copy, index) is None

    def refuse(*args):
        raise AssertionError("a file was parsed")

    monkeypatch.setattr(card_yaml, "_parse_file", refuse)  # the entries are sound: no file read
    assert from_rows(content_copy, index) == expected
    assert rows_from_section(content_copy, index) == [tuple(r) for r in expected]  # rewritten


@pytest.mark.parametrize("kind", ["concept", "cloze", "coding"])
def test_a_draft_gives_no_study_item_until_it_is_written(content_copy, tmp_path, kind):
    """A card `studycli new` wrote, its texts still beginning with TODO, was counted by `due`
    and shown by `review` ("TODO: the question, in your own words."): it gives no study item,
    from its rows (the index warm, or its files read) or from its card, and is named as a
    draft, until no text begins with TODO."""
    from studycli.content.card import Kind
    from studycli.content.scaffold import plan_card, write_card
    from studycli.content.study_view import Draft

    request = plan_card(load_content(content_copy), Kind(kind), "half-written", "bias", None)
    path = write_card(load_content(content_copy), request)[0]
    index = tmp_path / "content.index"
    settled(content_copy)
    expected = [("add-one", "basics", ()), ("bias-concept", "basics", ())]
    for _ in range(2):  # the index written, then its study rows read
        assert from_rows(content_copy, index)[:2] == expected
        assert from_cards(content_copy, index) == from_rows(content_copy, index)
        assert load_study_items(content_copy, index=index)[2] == [Draft("half-written", "basics")]
        assert load_content(content_copy, index=index).get("half-written").draft
    assert rows_from_section(content_copy, index) == from_rows(content_copy)
    assert load_study_items(content_copy)[2] == [Draft("half-written", "basics")]  # no index
    text = path.read_text(encoding="utf-8").replace("TODO", "Done")
    path.write_text(text, encoding="utf-8")
    settled(content_copy)
    written = [row[0] for row in from_rows(content_copy, index)]
    assert any(item.startswith("half-written") for item in written)
    assert from_cards(content_copy, index) == from_rows(content_copy, index)
    assert load_study_items(content_copy, index=index)[2] == []
    assert not load_content(content_copy, index=index).get("half-written").draft
