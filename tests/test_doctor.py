"""`studycli doctor`: the integrity check, the replay of the log against the stored states, the
repair (with a backup first), and what it reports; in the core and through the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from studycli.study import database
from studycli.study import rating as core
from studycli.study.doctor import examine
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT
from .study_support import NO_FUZZ, NOW, fixture_content, rows
from .test_database import damage


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


def _doctor(cli, path: Path, *args: str):
    return cli("--content", FIXTURE_CONTENT, "--db", path, "doctor", *args)


def test_the_cli_reports_repairs_and_exits_by_health(cli, tmp_path):
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    healthy = _doctor(cli, path)
    assert healthy.exit_code == 0, healthy.output
    assert "integrity check: ok" in healthy.stdout
    assert (
        "replayed 4 reviews of 3 cards: every stored card state matches the log" in healthy.stdout
    )

    drift(path)
    dry = _doctor(cli, path, "--dry-run")
    assert dry.exit_code == 1 and "2 stored card state(s) differ" in dry.stdout
    assert "add-one, bias-concept" in dry.stdout and "nothing changed" in dry.stdout

    fixed = _doctor(cli, path)
    assert fixed.exit_code == 0 and "repaired them from the log" in fixed.stdout
    assert str(database.backup_path(path, "repair")) in fixed.stdout.replace("\n", "")

    report = json.loads(_doctor(cli, path, "--json").stdout)
    assert report["healthy"] and report["drifted"] == [] and report["integrity_problems"] == []


def test_the_cli_says_a_damaged_file_is_damaged(cli, tmp_path):
    path = tmp_path / "reviews.sqlite3"
    content = fixture_content()
    with Store.open(path) as store:
        for i in range(300):
            core.rate(store, content.get("bias-concept"), 3, NOW + timedelta(days=i), NO_FUZZ)
    damage(path, "reviews_by_time")
    result = _doctor(cli, path)
    assert result.exit_code == 1 and "integrity check failed" in result.stdout
    assert "nothing was repaired" in result.stdout and "Traceback" not in result.output


def test_the_cli_with_no_database_yet_creates_none(cli, tmp_path):
    path = tmp_path / "none.sqlite3"
    result = _doctor(cli, path)
    assert result.exit_code == 0 and "nothing to check" in result.stdout
    assert not path.exists()


def test_doctor_imports_neither_torch_nor_numpy(tmp_path):
    probe = (
        "import sys\nfrom typer.testing import CliRunner\nfrom studycli.cli import app\n"
        "result = CliRunner().invoke(app, sys.argv[1:])\n"
        "print(result.exit_code, 'torch' in sys.modules, 'numpy' in sys.modules)\n"
    )
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    out = subprocess.run(
        [sys.executable, "-c", probe, "--db", str(path), "doctor"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert out.stdout.split() == ["0", "False", "False"], out.stderr
