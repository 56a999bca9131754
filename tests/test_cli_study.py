"""The non-interactive study commands through CliRunner: due, history, suspend, unsuspend,
list --leeches; the clock override; no heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from studycli.paths import config_path, database_path
from studycli.study import rating as core
from studycli.study.store import CardState, Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT
from .study_support import NO_FUZZ, NOW, fixture_content


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("enable_fuzzing = false\n")


def run(cli, *args):
    return cli("--content", FIXTURE_CONTENT, *args)


def _rate(card_id: str, rating: int, when=NOW):
    with Store.open(database_path()) as store:
        return core.rate(store, fixture_content().get(card_id), rating, when, NO_FUZZ)


def test_due_json_on_a_fresh_database(cli):
    result = run(cli, "due", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "due": 0,
        "learning": 0,
        "new": 4,
        "next_due": None,
        "decks": {
            "basics": {"due": 0, "learning": 0, "new": 2},
            "numbers": {"due": 0, "learning": 0, "new": 2},
        },
    }


def test_due_counts_reviews_learning_and_new_per_deck(cli, monkeypatch):
    _rate("bias-concept", 4, NOW - timedelta(days=30))  # a review card, due by now
    _rate("add-one", 1, NOW - timedelta(minutes=5))  # learning, due a minute later
    data = json.loads(run(cli, "due", "--json").stdout)
    assert (data["due"], data["learning"], data["new"]) == (1, 1, 2)
    assert data["decks"]["basics"] == {"due": 1, "learning": 1, "new": 0}
    assert data["next_due"] == (NOW - timedelta(days=30 - 8)).isoformat()  # Easy: 8 days
    text = run(cli, "due").stdout
    assert "basics" in text and "cards are due now" in text


def test_history_is_newest_first_and_filters_by_card(cli):
    _rate("add-one", 3, NOW)
    _rate("bias-concept", 2, NOW + timedelta(minutes=1))
    entries = json.loads(run(cli, "history", "--json").stdout)
    assert [(e["card"], e["rating"]) for e in entries] == [("bias-concept", 2), ("add-one", 3)]
    assert entries[0]["reviewed_at"] == (NOW + timedelta(minutes=1)).isoformat(
        timespec="microseconds"
    )
    only = json.loads(run(cli, "history", "--card", "add-one", "--json").stdout)
    assert [e["card"] for e in only] == ["add-one"]
    table = run(cli, "history").stdout
    assert "2 Hard" in table and "self" in table


def test_suspend_and_unsuspend(cli):
    assert run(cli, "suspend", "add-one").exit_code == 0
    assert json.loads(run(cli, "due", "--json").stdout)["new"] == 3
    assert run(cli, "unsuspend", "add-one").exit_code == 0
    assert json.loads(run(cli, "due", "--json").stdout)["new"] == 4


def test_suspending_an_unknown_card_suggests_ids(cli):
    result = run(cli, "suspend", "add-on")
    assert result.exit_code == 1 and "did you mean add-one" in result.stderr


def test_list_leeches(cli):
    with Store.open(database_path()) as store:
        store.replace_states([CardState("bias-concept", lapses=8), CardState("add-one", lapses=2)])
    result = run(cli, "list", "--leeches", "--json")
    assert [c["id"] for c in json.loads(result.stdout)] == ["bias-concept"]


def test_review_needs_a_terminal(cli):
    result = run(cli, "review")
    assert result.exit_code == 1 and "terminal" in result.stderr


def test_a_bad_clock_override_is_reported(cli, monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", "2025-03-01 09:00")  # no offset
    result = run(cli, "due")
    assert result.exit_code == 1 and "STUDYCLI_NOW" in result.stderr


def test_the_db_option_picks_the_file(cli, tmp_path):
    db = tmp_path / "elsewhere.sqlite3"
    assert cli("--content", FIXTURE_CONTENT, "--db", db, "suspend", "add-one").exit_code == 0
    with Store.open(db) as store:
        assert store.state("add-one").suspended


PROBE = """
import sys
from typer.testing import CliRunner
from studycli.cli.app import whole_app
app = whole_app()
result = CliRunner().invoke(app, sys.argv[1:])
print(result.exit_code, "torch" in sys.modules, "numpy" in sys.modules, "fsrs.optimizer" in sys.modules)
"""


@pytest.mark.parametrize(
    "args", [["due"], ["history"], ["suspend", "add-one"], ["list", "--leeches"]]
)
def test_study_commands_do_not_import_torch_or_numpy(args, tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "--content",
            str(FIXTURE_CONTENT),
            "--db",
            str(tmp_path / "db.sqlite3"),
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert out.stdout.split() == ["0", "False", "False", "False"], out.stderr


def test_a_card_removed_from_the_content_keeps_its_history(cli, content_copy):
    from studycli.content.loader import load_content

    with Store.open(database_path()) as store:
        core.rate(store, load_content(content_copy).get("bias-concept"), 3, NOW, NO_FUZZ)
    (content_copy / "cards" / "basics" / "bias-concept.yaml").unlink()
    (content_copy / "cards" / "numbers" / "poisson-concept.yaml").unlink()  # it required it
    assert cli("--content", content_copy, "due", "--json").exit_code == 0
    entries = json.loads(cli("--content", content_copy, "history", "--json").stdout)
    assert [e["card"] for e in entries] == ["bias-concept"]
    with Store.open(database_path()) as store:
        assert store.state("bias-concept").reps == 1
