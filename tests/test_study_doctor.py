"""The doctor's core (study/doctor.py): the integrity check, the replay of the log against the
stored states, and the repair from the log after a backup."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from studycli.study import database
from studycli.study import rating as core
from studycli.study.doctor import examine
from studycli.study.store import Store

from .study_support import NO_FUZZ, NOW, damage, fixture_content, rows


def reviewed(path: Path) -> dict[str, object]:
    """A database with a few ratings, one undone and one card suspended; its states."""
    content = fixture_content()
    with Store.open(path) as store:
        for i, card in enumerate(["add-one", "bias-concept", "add-one", "poisson-concept"]):
            core.rate(store, content.get(card), 3, NOW + timedelta(minutes=20 * i), NO_FUZZ)
        last = core.rate(store, content.get("bias-concept"), 1, NOW + timedelta(hours=2), NO_FUZZ)
        core.undo(store, last.id, NOW + timedelta(hours=2))  # type: ignore[arg-type]
        store.set_suspended("poisson-concept", True)
        return dict(store.states())


def drift(path: Path) -> None:
    """Damage two stored states the way a bug or a hand edit might (the log stays right)."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE cards SET reps = 99 WHERE card_id = 'add-one'")
        conn.execute("UPDATE cards SET fsrs = NULL WHERE card_id = 'bias-concept'")
    conn.close()


def test_a_healthy_database_is_reported_healthy_and_left_as_it_is(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    with Store.open(path) as store:
        before = rows(store)
        report = examine(store)
        assert rows(store) == before
    assert report.healthy and report.integrity == [] and report.drifted == []
    assert (report.reviews, report.cards, report.backup) == (4, 3, None)


def test_drifted_states_are_repaired_from_the_log_after_a_backup(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    states = reviewed(path)
    drift(path)
    with Store.open(path) as store:
        report = examine(store)
        assert store.states() == states  # the states the log gives, suspension kept
        assert core.rebuild(store) == store.states()
    assert report.drifted == ["add-one", "bias-concept"] and report.repaired and report.healthy
    assert report.backup == database.backup_path(path, "repair")
    with sqlite3.connect(report.backup) as old:  # the backup holds the states before the repair
        assert old.execute("SELECT reps FROM cards WHERE card_id = 'add-one'").fetchone() == (99,)
    old.close()


def test_a_dry_run_reports_the_drift_and_changes_nothing(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    drift(path)
    with Store.open(path) as store:
        before = rows(store)
        report = examine(store, repair=False)
        assert rows(store) == before
    assert report.drifted == ["add-one", "bias-concept"] and not report.repaired
    assert not report.healthy and report.backup is None
    assert not database.backup_path(path, "repair").exists()


def test_a_damaged_file_is_reported_and_not_repaired(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    content = fixture_content()
    with Store.open(path) as store:
        for i in range(300):
            core.rate(store, content.get("bias-concept"), 3, NOW + timedelta(days=i), NO_FUZZ)
    damage(path, "reviews_by_time")  # an index: the file opens, the check finds the damage
    with Store.open(path) as store:
        report = examine(store)
    assert report.integrity and not report.healthy and not report.repaired
    assert not database.backup_path(path, "repair").exists()
