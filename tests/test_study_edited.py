"""A card edited since its last review is flagged, its schedule kept: its text, and for a coding
card its contract (starter, checker), which a review records beside the text's hash; a review
recorded before contracts were (a database upgraded) is compared by its text alone."""

from __future__ import annotations

import os
from datetime import timedelta

from fsrs import Rating

from studycli.content import contract, index, source
from studycli.content.loader import load_content
from studycli.paths import contracts_cache_path
from studycli.study import rating as core
from studycli.study.api import Study

from .study_support import NO_FUZZ, NOW

STARTER = "edited since your last review: its starter (signature or docstring)"
CHECKER = "edited since your last review: its checker (an answer that passed then may fail now)"


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _flags(content_dir, db, card_id="add-one") -> list[str]:
    content = load_content(content_dir)
    with Study.open(db, NO_FUZZ, solutions_dir=content.solutions_dir) as study:
        return study.flags(content.get(card_id))


def _rate(content_dir, db, when, card_id="add-one") -> None:
    content = load_content(content_dir)
    with Study.open(db, NO_FUZZ, solutions_dir=content.solutions_dir) as study:
        study.rate(content.get(card_id), Rating.Good, when)


def test_a_coding_card_whose_starter_changed_is_flagged_and_keeps_its_schedule(
    content_copy, tmp_path
):
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW)
    assert _flags(content_copy, db) == []
    with Study.open(db, NO_FUZZ) as study:
        before = study.store.state("add-one")
    _edit(
        content_copy / "solutions" / "arith.py", "def add_one(x: int)", "def add_one(x: int, k=1)"
    )
    assert _flags(content_copy, db) == [STARTER]
    with Study.open(db, NO_FUZZ) as study:
        assert study.store.state("add-one") == before  # flagged, not reset
    _rate(content_copy, db, NOW + timedelta(days=1))  # reviewed on the new starter
    assert _flags(content_copy, db) == []


def test_a_coding_card_whose_checker_tests_more_is_flagged(content_copy, tmp_path):
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW)
    solutions = content_copy / "solutions" / "arith.py"
    _edit(solutions, "(-3, 0, 1, 41, 10**12)", "(-3, 0, 1, 41, 10**12, 7)")
    assert _flags(content_copy, db) == [CHECKER]
    _edit(solutions, "def add_one(x: int)", "def add_one(x: int, k=1)")
    card_file = content_copy / "cards" / "basics" / "add-one.yaml"
    _edit(card_file, "returns `x + 1`.", "returns `x + k`.")
    assert _flags(content_copy, db) == [
        "edited since your last review: its text, starter (signature or docstring) and checker "
        "(an answer that passed then may fail now)"
    ]


def test_an_upgraded_database_flags_no_card_that_was_not_edited(content_copy, tmp_path):
    """A review recorded by an earlier studycli holds the hash of the card's text alone: the
    card is not flagged for a contract it never recorded, whatever its contract is now; from
    its next review on, a change to its contract is."""
    db = tmp_path / "reviews.sqlite3"
    content = load_content(content_copy)
    with Study.open(db, NO_FUZZ) as study:  # as an earlier studycli rated: the text's hash
        core.rate(study.store, content.get("add-one"), Rating.Good, NOW, NO_FUZZ)
        assert study.store.state("add-one").content_hash == content.get("add-one").content_hash
    assert _flags(content_copy, db) == []
    solutions = content_copy / "solutions" / "arith.py"
    _edit(solutions, "(-3, 0, 1, 41, 10**12)", "(-3, 0, 1, 41, 10**12, 7)")
    assert _flags(content_copy, db) == []  # (no contract recorded to compare with)
    _rate(content_copy, db, NOW + timedelta(days=1))
    _edit(solutions, "(-3, 0, 1, 41, 10**12, 7)", "(-3, 0, 1, 41, 10**12)")
    assert _flags(content_copy, db) == [CHECKER]


def test_a_rebuild_from_the_log_keeps_the_contract_recorded(content_copy, tmp_path):
    """The doctor's replay gives each card the hash its last review recorded: a coding card
    edited since is still flagged after it."""
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW)
    with Study.open(db, NO_FUZZ) as study:
        stored = study.store.state("add-one")
        assert core.rebuild(study.store)["add-one"].content_hash == stored.content_hash
    _edit(content_copy / "solutions" / "arith.py", "def add_one(x: int)", "def add_one(x)")
    assert _flags(content_copy, db) == [STARTER]


def test_a_coding_cards_flags_make_no_contract_while_its_module_is_as_it_was(
    content_copy, tmp_path, monkeypatch
):
    """`review` made a coding card's contract before its front, each time: its module parsed
    whole and its checker tokenized (84 M instructions more to a front of 387 M for a module
    of 350 lines, 154 M for 900). The contract made for a rating is kept, and read back while
    the module keeps its size and times; a module changed since, even to the same size with
    its mtime put back, has its contract made again."""
    monkeypatch.setattr(index, "RACY_NS", 0)  # (the copied files are seconds old)
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW)

    def made(*args):
        raise AssertionError("a contract was made again")

    with monkeypatch.context() as patch:
        patch.setattr(contract, "contract_hash", made)
        assert _flags(content_copy, db) == []
    module = content_copy / "solutions" / "arith.py"
    was = module.stat()
    _edit(module, "(-3, 0, 1, 41, 10**12)", "(-3, 0, 1, 41, 10**13)")
    os.utime(module, ns=(was.st_atime_ns, was.st_mtime_ns))
    assert module.stat().st_size == was.st_size
    source._read.cache_clear()  # (as a new command: this one parsed the module by its mtime)
    assert _flags(content_copy, db) == [CHECKER]


def test_a_contracts_cache_that_does_not_read_is_made_again(content_copy, tmp_path, monkeypatch):
    """The kept contracts are a cache: a damaged file, or a folder in its place, counts as
    none (the contract is made), and never stops the flags."""
    monkeypatch.setattr(index, "RACY_NS", 0)
    db = tmp_path / "reviews.sqlite3"
    _rate(content_copy, db, NOW)
    cache = contracts_cache_path()
    assert cache.is_file()
    cache.write_bytes(b"\x00not marshal")
    _edit(content_copy / "solutions" / "arith.py", "def add_one(x: int)", "def add_one(x)")
    assert _flags(content_copy, db) == [STARTER]
    cache.unlink()
    cache.mkdir()
    assert _flags(content_copy, db) == [STARTER]
