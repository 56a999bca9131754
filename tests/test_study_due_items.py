"""`due` counts the content index's head rows (`loader.load_study_items`), not cards: the rows
are the study items `load_content` gives (cloze deletions, duplicate ids, broken files, a
stale, missing or absent index), and the counts from them equal the counts from the cards."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest

from studycli.content import index as content_index
from studycli.content.card import Card
from studycli.content.loader import load_content, load_study_items
from studycli.study.api import Study, study_items

from .conftest import FIXTURE_CONTENT, REPO_ROOT, write_card
from .study_support import NO_FUZZ

sys.path.insert(0, str(REPO_ROOT / "bench"))
import synthetic


def from_cards(root, index=None) -> list[tuple]:
    cards = load_content(root, index=index).cards.values()
    return [(item.id, item.deck, item.requires) for item in study_items(cards)]


def from_rows(root, index=None) -> list[tuple]:
    return [tuple(item) for item in load_study_items(root, index=index)]


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
    rows = load_study_items(content, index=tmp_path / "content.index")
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
from studycli.cli.app import main
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
