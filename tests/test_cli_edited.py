"""What `show` and `list` say of a card edited since the learner's last review: `show` the
flag `review` shows above its front (of a cloze card, each deletion whose item changed, by
id), `list --edited` only the edited items, with what of each changed; a real review database
and a copy of the deck."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from fsrs import Rating

from studycli.content.loader import load_content
from studycli.study.api import Study, study_items

from .conftest import FIXTURE_CONTENT, REPO_ROOT, edit, write_card
from .study_support import NO_FUZZ, NOW
from .test_cli_startup import NEVER, PROBE, framework_modules

EDITED = "edited since your last review"
CHECKER = f"{EDITED}: its checker (an answer that passed then may fail now)"
CLOZE = (
    "id: moments-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\nprompt: |\n"
    "  E[X] = {{c1::λ}}, Var(X) = {{c2::λ::a parameter}}, and a sum is {{c3::Poisson}}.\n"
)


def _studied(content, tmp_path):
    """Every item of the deck and of a cloze card reviewed at NOW: the database, the cloze
    card's file."""
    cloze = write_card(content, "cloze", "moments-cloze", CLOZE)
    db = tmp_path / "reviews.sqlite3"
    loaded = load_content(content)
    with Study.open(db, NO_FUZZ, solutions_dir=loaded.solutions_dir) as study:
        for item in study_items(loaded.cards.values()):
            study.rate(item, Rating.Good, NOW)
    return db, cloze


def test_show_says_what_was_edited_as_review_does(cli, content_copy, tmp_path):
    db, cloze = _studied(content_copy, tmp_path)
    shown = cli("--content", content_copy, "--db", db, "show", "moments-cloze")
    assert shown.exit_code == 0 and EDITED not in shown.stdout
    edit(cloze, "λ::a parameter", "λ::the mean")  # the hint c2 shows in its blank
    edit(content_copy / "solutions" / "arith.py", "(-3, 0, 1, 41, 10**12)", "(-3, 0, 7)")
    shown = cli("--content", content_copy, "--db", db, "show", "moments-cloze")
    assert shown.exit_code == 0
    assert [line for line in shown.stdout.splitlines() if EDITED in line] == [
        f"moments-cloze#c2: {EDITED}"
    ]
    one = cli("--content", content_copy, "--db", db, "show", "moments-cloze#c2").stdout
    assert one.splitlines()[0] == EDITED
    assert (
        cli("--content", content_copy, "--db", db, "show", "moments-cloze#c1").stdout.find(EDITED)
        == -1
    )
    coding = cli("--content", content_copy, "--db", db, "show", "add-one").stdout
    assert coding.splitlines()[0] == CHECKER
    never = cli("--content", content_copy, "--db", tmp_path / "none.sqlite3", "show", "add-one")
    assert never.exit_code == 0 and EDITED not in never.stdout
    assert not (tmp_path / "none.sqlite3").exists()  # (show made no database)


def test_show_reads_the_flags_without_the_scheduler_json_or_hashlib(content_copy, tmp_path):
    """`show` reads an edited card's flag through the study API, the review database opened
    as it is, and imports none of fsrs, json or hashlib (the content index keeps each card's
    hash), nor what no command may import. (A coding card's contract is read from the
    contracts' cache, kept from its rating, where its module's times are not seconds old.)"""
    db, _ = _studied(content_copy, tmp_path)
    edit(content_copy / "cards" / "basics" / "bias-concept.yaml", "Only boundaries", "Boundaries")
    an_hour_ago = time.time() - 3600  # (a card file changed within seconds is read again)
    for path in (content_copy / "cards").rglob("*.yaml"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    command = [sys.executable, "-c", PROBE, "--content", str(content_copy), "--db", str(db)]
    command += ["show", "bias-concept"]
    subprocess.run(command, capture_output=True, check=True, cwd=REPO_ROOT)  # (the index)
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.splitlines()[0] == EDITED
    loaded = set(out.stderr.splitlines()[-1].split()) - framework_modules()
    assert [name for name in (*NEVER, "json", "fsrs", "hashlib") if name in loaded] == []


def test_list_edited_gives_the_items_edited_and_what_of_each(cli, content_copy, tmp_path):
    db, cloze = _studied(content_copy, tmp_path)
    listed = cli("--content", content_copy, "--db", db, "list", "--edited")
    assert listed.exit_code == 0
    assert listed.stdout.strip() == "no edited cards: no card changed since your last review of it"
    edit(cloze, "λ::a parameter", "λ::the mean")
    edit(content_copy / "solutions" / "arith.py", "(-3, 0, 1, 41, 10**12)", "(-3, 0, 7)")
    listed = cli("--content", content_copy, "--db", db, "list", "--edited", "--json")
    assert listed.exit_code == 0
    assert [(c["id"], c["edited"]) for c in json.loads(listed.stdout)] == [
        ("add-one", ["checker"]),
        ("moments-cloze#c2", ["text"]),
    ]
    table = cli("--content", content_copy, "--db", db, "list", "--edited", "--deck", "cloze")
    assert "1 edited card · deck cloze" in table.stdout and "moments-cloze#c2" in table.stdout
    assert "add-one" not in table.stdout
    leeches = cli("--content", content_copy, "--db", db, "list", "--edited", "--leeches")
    assert leeches.stdout.strip() == (
        "no edited leeches: no leech changed since your last review of it"
    )


@pytest.mark.parametrize("flags", [["--edited"], ["--leeches"], ["--edited", "--leeches"]])
def test_list_edited_before_any_review_says_nothing_was_reviewed_yet(cli, flags):
    """With no review database yet (the default one, in the test's home), `list --edited`
    said "no card changed since your last review of it", of reviews never made. It says what
    `history` says there, exit 0 as `history`, and makes no database."""
    from studycli.paths import database_path

    history = cli("--content", FIXTURE_CONTENT, "history")
    listed = cli("--content", FIXTURE_CONTENT, "list", *flags)
    assert (history.exit_code, listed.exit_code) == (0, 0), listed.output
    many = "leeches" if "--leeches" in flags else "cards"
    many = f"edited {many}" if "--edited" in flags else many
    assert listed.stdout.strip() == f"no {many}: {history.stdout.strip()}"
    assert not database_path(None).exists()


def test_list_edited_hides_columns_before_it_squeezes_the_titles(
    cli, content_copy, tmp_path, monkeypatch
):
    """`list --edited` of a few cards kept the deck and topic columns and narrowed the titles
    to their longest word (13 columns, 5 lines a title) where `list` of every card hides them:
    a title is made narrower than 20 only once no column is left to hide."""
    db, _ = _studied(content_copy, tmp_path)
    edit(content_copy / "cards" / "basics" / "bias-concept.yaml", "Only boundaries", "Boundaries")
    monkeypatch.setenv("COLUMNS", "60")
    listed = cli("--content", content_copy, "--db", db, "list", "--edited")
    assert listed.exit_code == 0, listed.output
    rows = [line.split("│")[1:-1] for line in listed.stdout.splitlines() if line[:1] == "│"]
    assert [cells[0].strip() for cells in rows][:1] == ["bias-concept"]
    title = [cells[-2] for cells in rows]  # (the last column: what was edited)
    assert " ".join(line.strip() for line in title) == "Why a neuron needs a bias"
    assert len(title[0]) - 2 >= 20, listed.stdout  # (13 before, beside the deck)
    assert "hidden to fit 60 columns: topic, deck" in listed.stdout
