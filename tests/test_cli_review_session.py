"""Whole `studycli review` sessions through a pseudo-terminal (pexpect), fixed clock, temp store:
reveal, rate, undo, quit, Ctrl-C, SIGKILL, an edited card, and answering by running the check."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect
import pytest
from fsrs import Rating

from studycli.cli.context import settings_file
from studycli.content.loader import load_content
from studycli.study import rating as core
from studycli.study.labels import RATING_NAMES, format_interval, rating_label
from studycli.study.settings import load_settings
from studycli.study.store import Store

from .check_support import (
    DAEMON_THEN_KILLS_ITS_WORKER,
    KILLS_WORKER,
    PROC_PIDS,
    asks_from_outside,
    gone_within,
    marker,
    signals_from_outside,
)
from .conftest import (
    EDITOR_UNTIL_CTRL_C,
    FIXTURE_CONTENT,
    REPO_ROOT,
    ignoring_ctrl_c,
    reading_keys,
    terminal_env,
)
from .study_support import NOW, hold_write_lock, rows

FRONT = "q quit"  # the last line of every card's front


@pytest.fixture
def session(tmp_path):
    """spawn(content=..., now=..., command=..., **env) -> a pexpect child running `studycli
    review` (or `command`: cram)."""
    config = tmp_path / "settings.toml"
    # the fixture's new cards deck by deck (add-one, bias-concept, poisson-concept, then
    # triangle-derivation), the order these sessions' keys are written for; the decks in turn,
    # the default, in test_a_session_takes_new_cards_from_the_decks_in_turn
    config.write_text('enable_fuzzing = false\nnew_order = "deck"\n')
    db = tmp_path / "reviews.sqlite3"
    children = []

    def spawn(
        content: Path = FIXTURE_CONTENT, now=NOW, *extra: str, command: str = "review", **env: str
    ):
        environment = terminal_env(db, config, tmp_path / "home", now, **env)
        child = pexpect.spawn(
            sys.executable,
            ["-m", "studycli", "--content", str(content), command, *extra],
            env=environment,
            cwd=str(REPO_ROOT),
            encoding="utf-8",
            timeout=60,
            dimensions=(50, 100),
        )
        children.append(child)
        return child

    spawn.db = db
    spawn.config = config
    yield spawn
    for child in children:
        if child.isalive():
            child.kill(signal.SIGKILL)


def _store(db: Path) -> Store:
    return Store.open(db)


def _rate(child, key: str) -> None:
    """Reveal the answer, press a rating key, wait until the next card (or the end) shows."""
    child.send(" ")
    child.expect("4 +Easy")
    child.send(key)
    child.expect("due again in")


def test_reveal_rate_undo_and_quit(session):
    child = session()
    child.expect("Add one")
    child.expect(FRONT)
    child.send(" ")
    child.expect("Answer")
    child.expect("加一")
    # the rating keys carry the intervals fsrs gives a new card at NOW
    intervals = core.preview("add-one", None, NOW, load_settings(session.config))
    labels = [f"{int(r)} +{RATING_NAMES[r]} {format_interval(intervals[r])}" for r in Rating]
    child.expect(" +".join(labels))
    child.send("3")
    child.expect("Why a neuron needs a bias")
    child.expect(FRONT)
    _rate(child, "4")
    child.expect("Mean of a Poisson variable")
    child.expect(FRONT)
    with _store(session.db) as store:
        before = rows(store)
    _rate(child, "1")
    child.expect(FRONT)
    child.send("u")
    child.expect("undone: poisson-concept is back as it was")
    child.expect("Mean of a Poisson variable")
    child.expect(FRONT)
    with _store(session.db) as store:
        after = rows(store)
        assert after["cards"] == before["cards"]
        assert after["reviews"][:2] == before["reviews"] and len(after["reviews"]) == 3
        assert [u[0] for u in after["undos"]] == [after["reviews"][2][0]]
        assert [(r.card_id, r.rating) for r in store.reviews(oldest_first=True)] == [
            ("add-one", 3),
            ("bias-concept", 4),
        ]
    child.send("q")
    child.expect("2 reviews · again 0%")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("filters", [[], ["--topic", "bias"]], ids=["rows", "cards"])
def test_a_card_still_being_written_is_not_shown(session, content_copy, filters):
    """A card `studycli new` wrote (first in the deck's order here) was shown to the learner:
    "TODO: a short title", "TODO: the question, in your own words.". The session leaves it
    out, over the index's study rows (run twice: the first writes the index) or over cards
    (a filter but the deck), and says so."""
    from studycli.content.card import Kind
    from studycli.content.scaffold import plan_card, write_card

    content = load_content(content_copy)
    write_card(content, plan_card(content, Kind.CONCEPT, "aa-draft", "bias", "basics"))
    for path in (content_copy / "cards").rglob("*.yaml"):  # settled: the index stands for them
        os.utime(path, (time.time() - 3600,) * 2)
    for _ in range(2):
        child = session(content_copy, NOW, *filters)
        child.expect(FRONT)
        note, _, front = child.before.partition("says what is left")
        assert "aa-draft: still being written (a text begins with TODO)" in " ".join(note.split())
        assert "Add one" in front and "TODO" not in front
        child.send("q")
        child.expect(pexpect.EOF)


def test_a_rating_behind_another_process_says_it_waits_then_saves(session):
    """Rating while another terminal's command holds the database (an import of a large log
    holds its write lock for as long as it runs): the session says it waits, and for whom
    (the process holding the lock: it named no one), on the terminal, and saves the rating
    once the lock is let go."""
    child = session()
    child.expect(FRONT)
    child.send(" ")
    child.expect("4 +Easy")
    holder = hold_write_lock(session.db)  # until the session has said it waits
    try:
        child.send("3")
        child.expect("waiting for the review database")
        if Path("/proc/locks").exists():  # (where the system lists who holds a file's locks)
            child.expect(rf"process\s+{holder.pid}\s+\(")
    finally:
        holder.communicate("\n", timeout=30)
    child.expect("due again in")
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        assert [(r.card_id, r.rating) for r in store.reviews()] == [("add-one", 3)]


def test_keys_pressed_while_a_rating_waits_do_not_rate_the_next_card(session):
    """Enter and 3 pressed again while a rating waits behind another process's lock (an
    import): once the rating was saved they revealed the next card and rated it Good, a
    review the learner never gave (an audit, on a real terminal). They are dropped, and
    that is said."""
    child = session()
    child.expect(FRONT)
    child.send(" ")
    child.expect("4 +Easy")
    holder = hold_write_lock(session.db)
    try:
        child.send("3")
        child.expect("waiting for the review database")
        child.send(" ")
        child.send("3")
        time.sleep(0.5)  # (on the terminal, unread, before the lock is let go)
    finally:
        holder.communicate("\n", timeout=30)
    child.expect("Good: due again in")
    child.expect("Why a neuron needs a bias")
    child.expect(FRONT)
    time.sleep(0.5)  # (what the dropped keys would have done, shown before the q)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        assert [(r.card_id, r.rating) for r in store.reviews()] == [("add-one", 3)]
    assert "keys pressed while waiting for the review database were ignored" in child.before


def test_a_ctrl_c_while_a_rating_waits_ends_the_session_saying_it_was_not_saved(session):
    """Ctrl-C while a rating waits behind another process's lock: it was answered only once
    the lock was let go (18 s of an import here, up to the 30 s wait), then said "every
    rating so far is saved" of a rating that was not (an audit, on a real terminal). The
    session ends at once and says the rating was not saved."""
    child = session()
    child.expect(FRONT)
    child.send(" ")
    child.expect("4 +Easy")
    holder = hold_write_lock(session.db)
    try:
        child.send("3")
        child.expect("waiting for the review database")
        child.sendintr()
        child.expect("Good was not saved: interrupted while waiting for the review database", 10)
        child.expect(pexpect.EOF, 10)
    finally:
        holder.communicate("\n", timeout=30)
    child.close()
    assert child.exitstatus == 130
    with _store(session.db) as store:
        assert store.reviews() == []


def test_review_limit_caps_the_status_line_on_the_terminal(session):
    child = session(FIXTURE_CONTENT, NOW, "--limit", "2")
    child.expect("new 2 · learning 0 · review 0")  # four new cards, two for this session
    child.expect(FRONT)
    _rate(child, "3")
    child.expect("new 1 · learning 1 · review 0")
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)


def test_a_derivation_reveals_one_step_per_key(session):
    child = session()
    for _ in range(3):  # add-one, bias-concept, poisson-concept come first
        child.expect(FRONT)
        _rate(child, "4")
    child.expect("The sum 1 \\+ 2")
    child.expect(FRONT)
    for step in (1, 2, 3):
        child.send("\r")
        child.expect(f"Step {step} of 3")
        assert "Answer" not in child.before
    child.send("\r")
    child.expect("Answer")
    child.expect("4 +Easy")
    child.send("q")
    child.expect(pexpect.EOF)


def test_sigkill_mid_session_loses_no_committed_rating(session):
    child = session()
    child.expect(FRONT)
    _rate(child, "3")
    child.expect(FRONT)
    _rate(child, "2")
    child.expect(FRONT)  # the third card is on screen: two ratings are committed
    child.send(" ")
    child.expect("Answer")
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        assert [(r.card_id, r.rating) for r in store.reviews(oldest_first=True)] == [
            ("add-one", 3),
            ("bias-concept", 2),
        ]
        assert core.rebuild(store) == store.states()


def test_ctrl_c_quits_with_the_summary_and_keeps_the_ratings(session):
    """It exited 0, as `q` does, where every other command a Ctrl-C ends exits 130 (a shell's
    `studycli review && ...` went on)."""
    child = session()
    child.expect(FRONT)
    _rate(child, "1")
    child.expect(FRONT)
    child.send("\x03")
    child.expect("interrupted")
    child.expect("1 review · again 100%")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    with _store(session.db) as store:
        assert len(store.reviews()) == 1


def test_ctrl_c_ends_cram_with_status_130_and_ctrl_d_ends_review_as_q_does(session):
    child = session(command="cram")
    child.expect(FRONT)
    child.send(" ")
    child.expect("4 +Easy")
    child.send("3")
    child.expect("logged, schedule unchanged")
    child.expect(FRONT)
    child.send("\x03")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    child = session()  # Ctrl-D, the end of input: a session ended, as by q
    child.expect(FRONT)
    reading_keys(child)
    child.send("\x04")
    child.expect("0 reviews")
    assert "interrupted" not in child.before  # (it said so, and exited 0)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_d_ends_a_session_as_q_does_its_ratings_kept_and_says_so(session, cli):
    """Ctrl-D ended a session as `q` does, and nothing said so: not `review --help`, where the
    keys are, nor `cram --help`, nor the README's keys. Pressed at a card's front after one
    rating and at the next card's answer, before its rating: the rating made is kept, the
    card shown is not rated, the summary is the one `q` gives, exit status 0."""
    child = session()
    child.expect(FRONT)
    _rate(child, "3")  # add-one
    child.expect(FRONT)
    child.send(" ")
    child.expect("4 +Easy")  # bias-concept's answer, its rating keys
    reading_keys(child)
    child.send("\x04")
    child.expect("1 review · again 0%")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in child.before and "interrupted" not in child.before
    with _store(session.db) as store:
        assert [(r.card_id, r.rating) for r in store.reviews()] == [("add-one", 3)]
    for command in ("review", "cram"):
        said = " ".join(cli(command, "--help").stdout.replace("│", " ").split())
        assert "q or Ctrl-D quits" in said, said
    readme = " ".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`q` ends the session, and so do Ctrl-D (as `q`: exit status 0)" in readme


def test_an_edited_card_keeps_its_history_and_is_flagged(session, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content, ignore=shutil.ignore_patterns("__pycache__"))
    child = session(content)
    child.expect(FRONT)
    _rate(child, "3")  # add-one: learning step 2, due in 10 minutes
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        state_before_edit = store.state("add-one")

    card_file = content / "cards" / "basics" / "add-one.yaml"
    card_file.write_text(
        card_file.read_text().replace("returns `x + 1`.", "returns `x + 1` (one more than x).")
    )
    child = session(content, NOW + timedelta(hours=1))
    child.expect("edited since your last review")
    child.expect("Add one")
    child.expect("one more than x")
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        assert store.state("add-one") == state_before_edit  # not reset
        assert len(store.reviews(card_id="add-one")) == 1
    edited = load_content(content).get("add-one")
    assert edited.content_hash != state_before_edit.content_hash


def test_a_coding_card_whose_starter_changed_is_flagged(session, tmp_path):
    """A change to a coding card's function (here its signature, in its solution module)
    flags the card as an edit of its text does, saying what changed; its schedule is kept."""
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content, ignore=shutil.ignore_patterns("__pycache__"))
    child = session(content)
    child.expect(FRONT)
    _rate(child, "3")  # add-one
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        before = store.state("add-one")

    module = content / "solutions" / "arith.py"
    module.write_text(module.read_text().replace("def add_one(x: int)", "def add_one(x: int, k=1)"))
    child = session(content, NOW + timedelta(hours=1))
    child.expect(r"edited since your last review: its starter \(signature or docstring\)")
    child.expect("Add one")
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        assert store.state("add-one") == before


def test_ctrl_c_in_an_editor_that_takes_it_is_the_editors(session, tmp_path):
    """An editor that handles Ctrl-C itself goes on, and its saved answer is checked (the
    session took the Ctrl-C, killed the editor with its unsaved work, and said a check had
    not finished)."""
    answer = tmp_path / "answer.py"
    answer.write_text("def add_one(x):\n    return x + 1\n")
    editor = tmp_path / "editor.py"
    editor.write_text(  # it saves once it has had its Ctrl-C, however late that comes
        "import os, shutil, signal, sys, threading\n"
        "got = threading.Event()\n"
        "def mine(*_):  # (os.write: the Ctrl-C may come while print('editing') flushes)\n"
        "    os.write(1, b'editor: Ctrl-C is mine\\n')\n"
        "    got.set()\n"
        "signal.signal(signal.SIGINT, mine)\n"
        "print('editing', flush=True)\n"
        "got.wait(60)\n"
        f"shutil.copy({str(answer)!r}, sys.argv[1])\n"
    )
    child = session(EDITOR=f"{sys.executable} {editor}", VISUAL="")
    child.expect(FRONT)
    child.send("s")
    child.expect("editing")
    ignoring_ctrl_c(child.pid)
    child.sendintr()
    child.expect("editor: Ctrl-C is mine")
    child.expect("passed every case")
    child.send("\r")
    child.expect("Good: due again in")
    child.send("q")
    child.expect(pexpect.EOF)
    assert "did not finish" not in child.before


def test_ctrl_c_that_ends_the_editor_checks_nothing_and_keeps_the_card(session, tmp_path):
    """An editor the Ctrl-C ends: nothing is checked, the message says so (it said a check
    had not finished), and the card is still there."""
    child = session(EDITOR=EDITOR_UNTIL_CTRL_C, VISUAL="")
    child.expect(FRONT)
    child.send("s")
    child.expect("editor runs")
    ignoring_ctrl_c(child.pid)
    child.sendintr()
    child.expect("stopped: Ctrl-C ended the editor; nothing was checked")
    child.send(" ")
    child.expect("Answer")
    child.send("q")
    child.expect(pexpect.EOF)


def test_ctrl_c_at_the_prompt_without_an_editor_says_no_editor_ran(session):
    """With no $EDITOR, `s` asks the learner to edit the file and press Enter; a Ctrl-C there
    said "Ctrl-C ended the editor", though no editor ran. Nothing is checked; the card stays."""
    child = session(EDITOR="", VISUAL="")
    child.expect(FRONT)
    child.send("s")
    child.expect(r"press\s+Enter\s+here")
    child.sendintr()
    child.expect(r"stopped: Ctrl-C (.*?); nothing was checked \(add-one\.py is as it was")
    assert child.match.group(1) == "at the prompt"
    child.expect(r"s\s+asks\s+again\)")
    child.send(" ")
    child.expect("Answer")
    child.send("q")
    child.expect(pexpect.EOF)


def test_q_at_the_prompt_without_an_editor_gives_the_attempt_up(session):
    """q at the no-$EDITOR prompt leaves the attempt, as Ctrl-C there does (it waited for
    Enter or Ctrl-C only); the card stays to be answered."""
    child = session(EDITOR="", VISUAL="")
    child.expect(FRONT)
    child.send("s")
    child.expect(r"press\s+Enter\s+here,\s+or\s+q\s+to\s+give\s+up")
    child.send("q")
    child.expect(r"stopped: q at the prompt; nothing was checked \(add-one\.py is as it was")
    child.send(" ")
    child.expect("Answer")
    child.send("q")
    child.expect(pexpect.EOF)


def test_solving_a_coding_card_in_the_session_rates_it_by_the_check(session, tmp_path):
    answer = tmp_path / "answer.py"
    answer.write_text("def add_one(x):\n    return x + 1\n")
    child = session(EDITOR=f"cp {answer}", VISUAL="")
    child.expect(FRONT)
    child.send("3")  # no rating before the answer is revealed or checked
    child.send("s")
    child.expect("passed every case")
    child.expect("Enter: Good")
    child.send("1")
    child.expect("the check passed: rate with 2, 3 or 4")
    child.send("\r")
    child.expect("Good: due again in")
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        [entry] = store.reviews()
    assert (entry.card_id, entry.rating, entry.method, entry.check_status) == (
        "add-one",
        3,
        "check",
        "pass",
    )


@pytest.mark.parametrize(
    ("typo", "shown", "why"),
    [
        ("def add_one(x)\n    return x + 1\n", "SyntaxError", "does not compile"),
        (  # (one line names the function and what the attempt defines; the next, what next)
            "def add_on(x):\n    return x + 1\n",
            r"defines\s+no\s+function\s+'add_one':\s+it\s+defines\s+add_on\s+instead;\s+name"
            r"\s+the\s+answer\s+add_one",
            "answer was never called",
        ),
    ],
    ids=["missing-colon", "misnamed-function"],
)
def test_an_attempt_with_a_typo_keeps_the_answer_hidden(session, tmp_path, typo, shown, why):
    """A missing colon, or an answer written under another name (a new learner's first hour),
    showed the whole answer, and only Again was left to rate (a QA pass): a typo costs no
    recall (a misnamed function was never called). Its error is shown, the answer stays
    hidden, and it counts as a failed run, as a save left not compiling does in `solve
    --watch`."""
    answer = tmp_path / "answer.py"
    answer.write_text(typo)
    child = session(EDITOR=f"cp {answer}", VISUAL="")
    child.expect(FRONT)
    child.send("s")
    child.expect(shown)
    said = child.expect([f"{why}: fix it, save, and press s again", "Enter: Again"])
    assert said == 0 and "Answer" not in child.before
    answer.write_text("def add_one(x):\n    return x + 1\n")
    child.send("s")
    child.expect("passed every case")
    child.expect(r"Enter: Hard \(1 failed run first\)")
    child.send("\r")
    child.expect("Hard: due again in")
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        [entry] = store.reviews()
    assert (entry.rating, entry.check_status) == (2, "pass")


CODE_PROMPT = (
    "Write `add_one(x)` that returns `x + 1`:\n\n"
    "    add_one(1)  ->  2\n\n"
    "```\nadd_one(-1)  ->  0\n```\n\n"
    "Then return.\n"
)
# `studycli review` whose check worker starts only once the test lets it: the front must be
# on screen while its start is still pending.
HELD_WORKER = """
import pathlib, sys, time
import studycli.check.solve as solve
started = pathlib.Path(sys.argv.pop(1))
def held(card, content):
    started.write_text(card.id)
    time.sleep(120)
solve.warm_up = held
sys.argv[0] = "studycli"
from studycli.cli import main
main()
"""

# The question panel as Rich's Markdown draws it on the pty's console (100 columns, 256 colours).
RICH_QUESTION = """
import io, sys
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="256")
question = Panel(Markdown(sys.argv[1]), title="Question", title_align="left", border_style="blue")
console.print(question)
sys.stdout.write(console.file.getvalue())
"""


def test_a_coding_card_with_code_blocks_shows_as_rich_draws_it_before_its_worker(tmp_path):
    """The first card's front on a colour pty: its prompt's code blocks (indented and fenced,
    no language) exactly as Rich's Markdown draws them through `Syntax`; all of it on screen
    while the card's check worker has not even started (the worker starts after the front)."""
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content, ignore=shutil.ignore_patterns("__pycache__"))
    card = content / "cards" / "basics" / "add-one.yaml"
    old = "prompt: |\n  Write `add_one(x)` that returns `x + 1`.\n"
    assert old in card.read_text()
    indented = "".join(f"  {line}\n" if line else "\n" for line in CODE_PROMPT.splitlines())
    card.write_text(card.read_text().replace(old, "prompt: |\n" + indented))
    started = tmp_path / "worker-started"
    config = tmp_path / "settings.toml"
    config.write_text("enable_fuzzing = false\n")
    environment = terminal_env(
        tmp_path / "db.sqlite3", config, tmp_path / "home", NOW, TERM="xterm-256color"
    )
    for name in ("COLORTERM", "NO_COLOR", "FORCE_COLOR"):  # 256 colours, as the pty says
        environment.pop(name, None)
    child = pexpect.spawn(
        sys.executable,
        ["-c", HELD_WORKER, str(started), "--content", str(content), "review"],
        env=environment, cwd=str(REPO_ROOT), encoding="utf-8", timeout=60, dimensions=(50, 100),
    )  # fmt: skip
    try:
        child.expect(FRONT)
        shown = (child.before or "").replace("\r\n", "\n")
        drawn = subprocess.run(  # in a fresh process: Rich keeps colour caches per process
            [sys.executable, "-c", RICH_QUESTION, CODE_PROMPT],
            env=environment, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "\x1b[48;5;235m" in drawn and "add_one(-1)  ->  0" in drawn  # monokai, on the pty
        assert drawn in shown
        child.expect(pexpect.TIMEOUT, timeout=0.5)
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:  # the worker starts next
            time.sleep(0.05)
        assert started.read_text() == "add-one"
    finally:
        child.kill(signal.SIGKILL)


# --- the same loop in-process, keys from a list (fast, for the paths pexpect does not walk) ---


def _run_in_process(
    tmp_path, keys: str, limit=None, cards=None, root=FIXTURE_CONTENT, now=NOW, bury=True, view=None,
    new_order="deck", width=100,
):  # fmt: skip
    """With `view` (a `study_view.StudyView` of `root`), the session studies its items (`cards`:
    some of them), making each card as `review` does where the content index stands for every
    file. The new cards come deck by deck (`new_order`), as the `session` fixture's."""
    from rich.console import Console

    from studycli.cli.review_session import ReviewSession
    from studycli.content.loader import Content
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    content = load_content(root) if view is None else Content(root=root)
    console = Console(record=True, width=width, color_system=None)
    pressed = iter(keys)
    settings = Settings(enable_fuzzing=False, bury_siblings=bury, new_order=new_order)
    tmp_path.mkdir(parents=True, exist_ok=True)
    with Study.open(tmp_path / "db.sqlite3", settings) as study:
        summary = ReviewSession(
            console,
            study,
            content,
            cards if cards is not None else view.items if view else list(content.cards.values()),
            clock=lambda: now,
            getkey=lambda: next(pressed),
            limit=limit,
            card_of=view.card if view else None,
        ).run()
        reviews = study.history()[::-1]
    return summary, reviews, console.export_text()


def test_a_capital_key_is_its_lowercase_key(session):
    """Shift or Caps Lock: `Q` was "Q is no key here" in a session. The session's keys are
    lowercase letters, so a capital one is unambiguous: `H` shows a hint, `Q` quits."""
    child = session()
    child.logfile_read = io.StringIO()
    child.expect("Add one")
    child.expect(FRONT)
    child.send("H")
    child.expect("Hint 1 of")
    child.send("Q")
    child.expect("0 reviews")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "no key here" not in child.logfile_read.getvalue()


def test_review_help_says_b_buries_until_the_next_study_day(cli):
    """`review --help` said `b` buries the card "until tomorrow": it is until the next study
    day's start (`day_starts_at`), which after midnight and before 4 am is today."""
    said = " ".join(cli("review", "--help").stdout.split())
    assert "tomorrow" not in said
    assert "b buries the card until the next study day, which starts at day_starts_at" in said


def test_a_key_that_does_nothing_says_the_keys_that_do(tmp_path):
    """Keys other than the session's were ignored without a word (a QA pass pressed x, as
    Anki's keys would have it): the session looked stuck. Said, with the keys of the moment;
    a key the card has no use for (h with no hints) is one of them."""
    bias = load_content(FIXTURE_CONTENT).get("bias-concept")
    summary, reviews, text = _run_in_process(tmp_path, "xh 4", cards=[bias])
    said = " ".join(text.split())
    assert "x is no key here: Enter reveal · b bury · @ suspend · u undo · q quit" in said, said
    assert "h is no key here: Enter reveal · b bury · @ suspend · u undo · q quit" in said
    assert len(reviews) == 1  # (and the session went on)
    summary, reviews, text = _run_in_process(tmp_path / "2", " x4", cards=[bias])
    # the answer read, Enter does nothing: it is not offered (it was, "1-4 rate · Enter reveal")
    said = " ".join(text.split())
    assert "x is no key here: 1-4 rate · b bury · @ suspend · u undo · q quit" in said


def test_enter_once_the_answer_is_shown_says_the_keys_that_rate(tmp_path):
    """Enter or space again under the answer (Anki's key for Good) did nothing, without a
    word: the session looked stuck, as it did for any other key that does nothing."""
    bias = load_content(FIXTURE_CONTENT).get("bias-concept")
    summary, reviews, text = _run_in_process(tmp_path, " \r 3q", cards=[bias])
    said = " ".join(text.split())
    keys = "1-4 rate · b bury · @ suspend · u undo · q quit"
    assert said.count(f"the answer is shown: {keys}") == 2, said
    assert [review.rating for review in reviews] == [3]


def test_after_a_check_a_key_that_does_nothing_says_the_rating_the_check_allows(
    tmp_path, monkeypatch
):
    """After a failed check it said "1-4 rate · Enter reveal": 2-4 are refused there, and
    Enter takes the check's Again. It says the ratings the check allows and what Enter gives."""
    answer = tmp_path / "answer.py"
    answer.write_text("def add_one(x):\n    return x + 2\n")
    monkeypatch.setenv("EDITOR", f"cp {answer}")
    monkeypatch.delenv("VISUAL", raising=False)
    add_one = load_content(FIXTURE_CONTENT).get("add-one")
    summary, reviews, text = _run_in_process(tmp_path / "db", "sx\rq", cards=[add_one])
    said = " ".join(text.split())
    keys = "1 rate · Enter Again · s solve · h hint · b bury · @ suspend"
    assert f"x is no key here: {keys}" in said, said
    assert [review.rating for review in reviews] == [1]


@pytest.mark.parametrize("width", [40, 55, 80])
def test_the_lines_of_keys_break_between_keys_never_inside_one(tmp_path, width):
    """Wrapped as prose, a card's line of keys broke inside one (at 55 columns `q` ended a
    line and `quit` began the next; at 40 `u` and `undo`), and so did what a key that does
    nothing says: each key and what it does stays on one line. At 80 columns a front's keys fit
    one line (the longest a front can have, a coding derivation's with hints, is 75 columns)."""
    content = load_content(FIXTURE_CONTENT)
    rest = ["s solve", "b bury", "@ suspend", "u undo", "q quit"]
    for card, parts in (
        ("add-one", ["Enter reveal", "s solve", "h hint", *rest[1:]]),
        ("triangle-derivation", ["Enter reveal step", *rest]),
    ):
        _, _, text = _run_in_process(tmp_path / card, "xq", cards=[content.get(card)], width=width)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width
        if width == 80:
            assert " · ".join(parts) in lines, text
        front = [line for line in lines if "q quit" in line or "undo" in line]
        assert len(front) >= 2, text  # the front's line, and the one x gets
        for part in parts[1:]:
            assert sum(part in line for line in lines) == 2, (part, text)
        assert any(line.startswith(f"x is no key here: {parts[0]}") for line in lines), text


def test_b_buries_the_card_until_the_next_study_day_without_rating_it(tmp_path):
    """Anki's bury, missing (a QA pass: to skip a card the learner had to quit and suspend it):
    `b` leaves the card out of the session, of `due` and of the next session until the next
    study day, with no rating and its schedule as it was; then it is back."""
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    content = load_content(FIXTURE_CONTENT)
    bias, poisson = content.get("bias-concept"), content.get("poisson-concept")
    settings = Settings(enable_fuzzing=False)
    said = session_said(tmp_path, settings, [bias, poisson], "b 4", NOW)
    assert "Enter reveal · b bury · @ suspend · u undo · q quit" in said
    assert "buried until the next study day (2025-03-02 04:00): not rated" in said, said
    assert said.endswith("next due in 19h"), said  # (its return: it said poisson's 9d)
    with Study.open(tmp_path / "db.sqlite3", settings) as study:
        assert [review.card_id for review in study.history()] == ["poisson-concept"]
        assert study.state("bias-concept") is None  # still new: its schedule untouched
        counts = study.due_counts([bias, poisson], NOW + timedelta(hours=1))
        assert counts.new == 0 and counts.next_due == datetime(2025, 3, 2, 4, tzinfo=UTC)
        assert study.due_counts([bias], NOW + timedelta(days=1)).new == 1  # back
    later = session_said(tmp_path, settings, [bias, poisson], "", NOW + timedelta(hours=2))
    assert "Nothing is due now." in later and "Why a neuron" not in later


def test_u_right_after_b_unburies_the_card_and_shows_it(tmp_path):
    """`b` pressed by mistake, then `u`: the undo took back the rating of a card before it and
    left the bury. `u` takes back the last thing done: the bury; after a rating, the rating."""
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    content = load_content(FIXTURE_CONTENT)
    bias, poisson = content.get("bias-concept"), content.get("poisson-concept")
    settings = Settings(enable_fuzzing=False)
    said = session_said(tmp_path, settings, [bias, poisson], "bu 4 4", NOW)
    assert "unburied: bias-concept is back" in said, said
    assert said.index("unburied") < said.rindex("Why a neuron needs a bias")
    with Study.open(tmp_path / "db.sqlite3", settings) as study:
        rated = sorted(review.card_id for review in study.history())
        assert rated == ["bias-concept", "poisson-concept"]
        assert study.store.buried(NOW) == {}


def test_u_after_burying_the_last_card_still_takes_the_bury_back(tmp_path):
    """With nothing left after `b`, the session ended at once: a `b` pressed by mistake on the
    last card could not be taken back. `u` is offered first; any other key ends it."""
    bias = load_content(FIXTURE_CONTENT).get("bias-concept")
    summary, reviews, text = _run_in_process(tmp_path, "bu 4", cards=[bias])
    said = " ".join(text.split())
    assert "u unburies bias-concept (nothing else is due now), any other key ends" in said
    assert "unburied: bias-concept is back" in said
    assert [r.card_id for r in reviews] == ["bias-concept"]
    summary, reviews, text = _run_in_process(tmp_path / "2", "bx", cards=[bias])
    assert reviews == [] and "Nothing more is due now." in text


def test_the_summary_counts_the_cards_buried_and_suspended(tmp_path):
    """A session of `b` and `@` ended "0 reviews · again 0% · ...", with no word of them. The
    summary counts them (a `u` that takes one back un-counts it), and names them only where
    there are some."""
    content = load_content(FIXTURE_CONTENT)
    bias, poisson, add_one = (
        content.get(i) for i in ("bias-concept", "poisson-concept", "add-one")
    )
    summary, reviews, text = _run_in_process(tmp_path, "b@ 1q", cards=[bias, poisson, add_one])
    last = text.strip().splitlines()[-1]
    assert (summary.buried, summary.suspended, summary.reviewed) == (1, 1, 1), text
    assert last.startswith("1 review · 1 buried · 1 suspended · again 100% · "), last
    summary, _, text = _run_in_process(tmp_path / "u", "bu@u 4 4", cards=[bias, poisson])
    last = text.strip().splitlines()[-1]
    assert (summary.buried, summary.suspended, summary.reviewed) == (0, 0, 2), text
    assert last.startswith("2 reviews · again 0% · "), last


# --- `@` suspends the card on screen, as `studycli suspend` its card's id --------------------


def _studycli(session, tmp_path, content, *args: str) -> str:
    """What `studycli ARGS` prints on the session's database, settings and clock."""
    environment = terminal_env(session.db, session.config, tmp_path / "home", NOW)
    return subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(content), *args],
        env=environment, cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_at_suspends_the_card_on_screen_from_its_front_or_its_answer(session, tmp_path):
    """There was no way to suspend a card from a session (a newcomer quit and ran `studycli
    suspend ID`; Anki's key is `@`). `@` suspends the card shown, from its front or after its
    answer, not rated; says how to take it back; the next card shows; and the card is out of
    this session, of `due` and of the next session, as `studycli suspend` leaves it."""
    child = session()
    child.logfile_read = shown = io.StringIO()
    child.expect("Add one")
    child.expect(FRONT)
    child.send("@")  # from its front
    child.expect(
        re.escape("suspended add-one, not rated: u takes it back, or later `studycli unsuspend")
        + r"\s+add-one`"
    )
    child.expect("Why a neuron needs a bias")
    child.expect(FRONT)
    child.send(" ")
    child.expect("4 +Easy")
    child.send("@")  # after its answer
    child.expect("suspended bias-concept, not rated")
    child.expect("Mean of a Poisson variable")
    child.expect(FRONT)
    with _store(session.db) as store:
        assert store.suspended() == {"add-one", "bias-concept"}
        assert store.reviews() == [] and store.state("bias-concept").fsrs is None  # not rated
    _rate(child, "4")  # poisson-concept; then triangle-derivation, step by step
    child.expect("The sum 1")
    child.expect(FRONT)
    child.send("\r\r\r")
    _rate(child, "4")
    child.expect("Nothing more is due now")  # neither suspended card came back
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    said = shown.getvalue()
    assert said.count("Add one") == 1 and said.count("Why a neuron needs a bias") == 1
    with _store(session.db) as store:
        assert [r.card_id for r in store.reviews()] == ["triangle-derivation", "poisson-concept"]
    due = _studycli(session, tmp_path, FIXTURE_CONTENT, "due", "--json")
    assert json.loads(due)["new"] == 0  # (2 without the suspension: neither was rated)
    again = _studycli(session, tmp_path, FIXTURE_CONTENT, "suspend", "add-one")
    assert again.startswith("add-one is suspended already")
    _studycli(session, tmp_path, FIXTURE_CONTENT, "unsuspend", "add-one")
    assert json.loads(_studycli(session, tmp_path, FIXTURE_CONTENT, "due", "--json"))["new"] == 1


def test_at_on_a_cloze_deletion_suspends_the_whole_card_as_suspend_its_id_does(
    session, tmp_path, content_copy
):
    """`studycli suspend poisson-cloze` suspends every deletion (`poisson-cloze#c1` one):
    `@` on a deletion does as the command does with its card's id, and says so. Its other
    deletion is not shown next, and `studycli unsuspend poisson-cloze` lets both back."""
    _poisson_cloze(content_copy)
    child = session(content_copy, NOW, "--deck", "numbers")
    child.logfile_read = shown = io.StringIO()
    child.expect("poisson-cloze#c1")
    child.expect(FRONT)
    child.send("@")
    child.expect(
        re.escape("suspended poisson-cloze (its 2 deletions), not rated: u takes it back, or")
        + r"\s+later\s+`studycli unsuspend poisson-cloze`"
    )
    child.expect("Mean of a Poisson variable")  # not c2, whose front shows c1's answer
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    assert "E[X] = λ and Var(X) = [a parameter]" not in shown.getvalue()
    with _store(session.db) as store:
        assert store.suspended() == {"poisson-cloze#c1", "poisson-cloze#c2"}
        assert store.reviews() == []
    again = _studycli(session, tmp_path, content_copy, "suspend", "poisson-cloze")
    assert again.startswith("poisson-cloze is suspended already")
    back = _studycli(session, tmp_path, content_copy, "unsuspend", "poisson-cloze")
    assert back.strip() == "poisson-cloze is back in reviews"
    with _store(session.db) as store:
        assert store.suspended() == set()


def test_u_right_after_at_takes_the_suspension_back_not_the_rating_before(session):
    """`@` pressed by mistake, then `u`: the card is let back into reviews and shown again,
    and the rating of the card before it stands (as `u` after `b`)."""
    child = session()
    child.expect(FRONT)
    _rate(child, "4")  # add-one
    child.expect("Why a neuron needs a bias")
    child.expect(FRONT)
    child.send("@")
    child.expect("suspended bias-concept, not rated")
    child.expect(FRONT)
    child.send("u")
    child.expect("unsuspended: bias-concept is back")
    child.expect("Why a neuron needs a bias")
    child.expect(FRONT)
    child.send("q")
    child.expect(pexpect.EOF)
    with _store(session.db) as store:
        assert store.suspended() == set()
        assert [(r.card_id, r.rating) for r in store.reviews()] == [("add-one", 4)]


@pytest.mark.parametrize("over", ["cards", "rows"])
def test_u_after_at_lets_back_only_what_at_suspended(tmp_path, content_copy, over):
    """One deletion suspended before (`studycli suspend poisson-cloze#c2`): `@` on the other
    suspends the card, and `u` lets back that one only, over the loaded cards and over the
    content index's study rows (`study_view.StudyView`: the card made from its index row)."""
    from studycli.content.study_view import load_study_view

    _poisson_cloze(content_copy)
    for path in (content_copy / "cards").rglob("*.yaml"):
        os.utime(path, (time.time() - 3600,) * 2)
    index = tmp_path / "content.index"
    content = load_content(content_copy, index=index)
    view = load_study_view(content_copy, index) if over == "rows" else None
    cards = view.select("numbers") if view else content.select(deck="numbers")
    (tmp_path / "db").mkdir()
    with Store.open(tmp_path / "db" / "db.sqlite3") as store:
        store.set_suspended("poisson-cloze#c2", True)
    _, reviews, text = _run_in_process(
        tmp_path / "db", "@uq", cards=cards, root=content_copy, view=view
    )
    said = " ".join(text.split())
    assert "suspended poisson-cloze (its 2 deletions), not rated" in said, said
    assert "unsuspended: poisson-cloze is back" in said
    assert said.count("poisson-cloze#c1") == 2 and reviews == []  # shown again after `u`
    with Store.open(tmp_path / "db" / "db.sqlite3") as store:
        assert store.suspended() == {"poisson-cloze#c2"}  # as it was before `@`


def test_u_after_suspending_the_last_card_still_takes_it_back(tmp_path):
    """With nothing left after `@`, the session ends at once: `u` is offered first (as after
    `b`); any other key ends it, and the card stays suspended."""
    bias = load_content(FIXTURE_CONTENT).get("bias-concept")
    summary, reviews, text = _run_in_process(tmp_path, "@u 4", cards=[bias])
    said = " ".join(text.split())
    assert "u unsuspends bias-concept (nothing else is due now), any other key ends" in said
    assert "unsuspended: bias-concept is back" in said
    assert [r.card_id for r in reviews] == ["bias-concept"]
    summary, reviews, text = _run_in_process(tmp_path / "2", "@x", cards=[bias])
    assert reviews == [] and "Nothing more is due now." in text
    with Store.open(tmp_path / "2" / "db.sqlite3") as store:
        assert store.suspended() == {"bias-concept"}


def test_at_on_a_card_suspended_in_another_terminal_says_so_and_leaves_it(tmp_path):
    """Suspended elsewhere while on screen: `@` has nothing to suspend, says so, and leaves
    nothing for `u` to let back (it would have shown a suspended card again)."""
    bias, poisson = (
        load_content(FIXTURE_CONTENT).get(i) for i in ("bias-concept", "poisson-concept")
    )

    def keys():
        with Store.open(tmp_path / "db.sqlite3") as other:
            other.set_suspended("bias-concept", True)
        yield from "@uq"

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [bias, poisson])
    said = " ".join(text.split())
    assert "bias-concept is suspended already (in another terminal?)" in said, said
    assert "nothing to undo in this session" in said
    assert text.count("Why a neuron needs a bias") == 1
    with Store.open(tmp_path / "db.sqlite3") as store:
        assert store.suspended() == {"bias-concept"}


def test_limit_finishes_started_cards_through_their_learning_steps(tmp_path):
    summary, reviews, text = _run_in_process(tmp_path, " 3 3", limit=1)
    assert [(r.card_id, r.queue) for r in reviews] == [("add-one", "new"), ("add-one", "learning")]
    assert summary.reviewed == 2 and "Good: due again in 2d" in text


def test_the_help_and_the_summary_say_that_limit_counts_cards_not_reviews(tmp_path):
    """`--limit 1` with a card rated Again (its learning step within the session) ended as
    "2 reviews" over "--limit 1 reached", and the help said only "At most this many cards":
    the limit counts cards, each finished through its learning steps, which the help, the
    summary and the README now say."""
    summary, reviews, text = _run_in_process(tmp_path, " 1 3 3", limit=1)
    assert [r.card_id for r in reviews] == ["add-one"] * 3 and summary.reviewed == 3
    assert "--limit 1 reached (it counts study items, not reviews)" in " ".join(text.split())
    from typer.main import get_command

    from studycli.cli.help_panels import whole_app

    review = get_command(whole_app()).commands["review"]  # type: ignore[attr-defined]
    limit = " ".join(next(p.help for p in review.params if p.name == "limit").split())
    assert "At most this many study items (a cloze card's deletions each), not reviews" in limit
    assert "more reviews than items" in limit
    # README said that a card buried or suspended unrated takes no place; the help did not
    assert "A card buried or suspended before it is rated takes no place" in limit, limit
    readme = " ".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`--limit N` counts study items (a cloze card's deletions each), not reviews" in readme


def test_a_card_buried_unstudied_leaves_its_place_in_the_limit_to_the_next(tmp_path):
    """`--limit 1`, its first card buried: the session ended "0 reviews · 1 buried · again
    0%", the buried card counted as studied and no other card in its place. As Anki's limit
    counts the cards studied, the next due card takes its place; a card rated before it is
    buried stays counted; and no "again 0%" is said of no review."""
    content = load_content(FIXTURE_CONTENT)
    bias, poisson = content.get("bias-concept"), content.get("poisson-concept")
    summary, reviews, text = _run_in_process(tmp_path, "b 3 3", limit=1, cards=[bias, poisson])
    assert [r.card_id for r in reviews] == ["poisson-concept"] * 2, text
    assert (summary.buried, summary.reviewed) == (1, 2)
    summary, reviews, text = _run_in_process(
        tmp_path / "rated", " 1bx", limit=1, cards=[bias, poisson]
    )  # bias-concept rated Again, then buried in its learning step: the limit is spent
    assert [r.card_id for r in reviews] == ["bias-concept"], text
    assert "--limit 1 reached" in " ".join(text.split())
    _, _, text = _run_in_process(tmp_path / "alone", "bx", cards=[bias])
    last = text.strip().splitlines()[-1]
    assert last.startswith("0 reviews · 1 buried · 0m ") and "again" not in last, last


def test_limit_counts_study_items_as_stats_does(tmp_path, content_copy):
    """A cloze card is one study item per deletion, as `stats` counts them ("213 study items
    from 133 cards"), and `--limit` counts study items: `--limit 1` ended "2 more cards can be
    studied now" with one card left, a cloze card of two deletions (its siblings not buried,
    `bury_siblings = false`); `--limit 2` over it alone studies both deletions."""
    cloze = _poisson_cloze(content_copy)
    bias = load_content(content_copy).get("bias-concept")
    _, reviews, text = _run_in_process(
        tmp_path, " 3 3", limit=1, cards=[bias, *cloze], root=content_copy, bury=False
    )
    assert [r.card_id for r in reviews] == ["bias-concept"] * 2, text
    said = " ".join(text.split())
    assert "--limit 1 reached (it counts study items, not reviews): 2 more study items" in said
    _, reviews, text = _run_in_process(
        tmp_path / "both", " 3 3 3 3", limit=2, cards=cloze, root=content_copy, bury=False
    )
    assert {r.card_id for r in reviews} == {"poisson-cloze#c1", "poisson-cloze#c2"}, text


def test_the_studied_card_buried_at_the_limit_is_not_said_to_leave_nothing_due(session):
    """`review --limit 1`, its card rated Again then buried in its learning step: the offer
    to take the bury back said "(nothing else is due now)" and the next line "3 more cards
    can be studied now". What ends the session there is the limit, and the offer says so."""
    child = session(FIXTURE_CONTENT, NOW, "--limit", "1")
    child.logfile_read = io.StringIO()
    child.expect(FRONT)
    _rate(child, "1")  # add-one: Again, back within the session
    child.expect(FRONT)
    child.send("b")
    child.expect("any other key ends the session")
    child.send("x")
    child.expect(pexpect.EOF)
    said = " ".join(child.logfile_read.getvalue().split())
    assert "u unburies add-one (--limit 1 is reached), any other key ends" in said, said
    assert "nothing else is due now" not in said, said
    assert "--limit 1 reached (it counts study items, not reviews): 3 more study items can" in said


def test_a_limit_that_leaves_cards_says_so_not_that_nothing_is_due(tmp_path):
    """--limit 1 over the fixture's four new cards ended with "Nothing more is due now." and
    "next due in 2d", where `studycli review` at once shows the three others (a learner's
    week with `review --limit 12`: 13 new cards left that day, told to come back tomorrow)."""
    _, _, text = _run_in_process(tmp_path, " 3 3", limit=1)
    said = " ".join(text.split())
    assert "Nothing more is due now." not in said and "next due in" not in said
    assert (
        "--limit 1 reached (it counts study items, not reviews): 3 more study items can be "
        "studied now "
        "(`studycli review` goes on)." in said
    )
    assert said.endswith("more cards are due now")
    content = load_content(FIXTURE_CONTENT)
    both = [content.get("bias-concept"), content.get("poisson-concept")]
    _, _, text = _run_in_process(tmp_path / "all", " 3 3" * 2, limit=2, cards=both)  # none left
    assert "Nothing more is due now." in text and "--limit" not in text


def test_a_session_quit_with_cards_left_says_more_are_due_now(tmp_path):
    """Quit after one of the fixture's four new cards, the summary said "next due in 10m"
    (the card just rated, in learning) while three new cards waited: a learner who quit
    read that there was nothing more to study until then."""
    summary, reviews, text = _run_in_process(tmp_path, " 3q")
    assert [r.card_id for r in reviews] == ["add-one"]
    said = " ".join(text.split())
    assert said.endswith("more cards are due now"), said
    assert summary.next_due == NOW
    # a card in learning that would only be shown early is not due now: it says when it is
    bias = load_content(FIXTURE_CONTENT).get("bias-concept")
    summary, reviews, text = _run_in_process(tmp_path / "one", " 3q", cards=[bias])
    assert " ".join(text.split()).endswith("next due in 10m")


STATUS = re.compile(r"new \d+ · learning \d+ · review \d+")


def test_with_a_limit_the_status_line_counts_what_the_session_still_shows(tmp_path):
    """--limit 3 over the fixture's four new cards: the line above each card counts the cards
    this session will still show, the one on screen included. A card rated Again comes back as
    learning; an undo brings its card back as new; after the third card only those three are
    finished, through their learning steps."""
    keys = (
        " 1"  # add-one: Again, back in a minute
        "u"  # on bias-concept: undo add-one's Again
        " 3"  # add-one again: Good, back in 10 minutes
        " 3"  # bias-concept: Good
        " 3"  # poisson-concept: Good; the limit is reached
        " 3 3 3"  # the three learning cards graduate
    )
    _, reviews, text = _run_in_process(tmp_path, keys, limit=3)
    assert STATUS.findall(text) == [
        "new 3 · learning 0 · review 0",  # add-one on screen, then two more new cards
        "new 2 · learning 1 · review 0",  # bias-concept on screen, one more; add-one learning
        "new 3 · learning 0 · review 0",  # add-one new again, bias-concept, one more
        "new 2 · learning 1 · review 0",
        "new 1 · learning 2 · review 0",  # poisson-concept: the third and last new card
        "new 0 · learning 3 · review 0",
        "new 0 · learning 2 · review 0",
        "new 0 · learning 1 · review 0",
    ]
    assert {r.card_id for r in reviews} == {"add-one", "bias-concept", "poisson-concept"}
    assert "--limit 3 reached (it counts study items, not reviews): 1 more study item can be" in (
        " ".join(text.split())
    )


def test_a_session_takes_new_cards_from_the_decks_in_turn(tmp_path):
    """By default (`new_order`) the decks take turns, from one card to the next of a session
    (its queue is made again after each rating): basics' first, numbers' first (free once
    add-one, which it requires, is studied), then each deck's second. Deck by deck, a
    learner's first weeks were the first decks by name only."""
    from studycli.study.settings import Settings

    keys = " 3" + "\r" * 4 + "3" + " 3" + " 3" + "q"  # (the derivation: a key per step)
    _, reviews, text = _run_in_process(tmp_path, keys, new_order=Settings().new_order)
    assert [r.card_id for r in reviews] == [
        "add-one", "triangle-derivation", "bias-concept", "poisson-concept"
    ]  # fmt: skip
    titles = ["Add one", "The sum 1 + 2", "Why a neuron needs a bias", "Mean of a Poisson"]
    assert sorted(titles, key=text.index) == titles


def test_without_a_limit_the_status_line_counts_everything_due(tmp_path):
    _, _, text = _run_in_process(tmp_path, " 1q")
    assert STATUS.findall(text) == [
        "new 4 · learning 0 · review 0",
        "new 3 · learning 1 · review 0",
    ]


def test_hints_come_one_per_key_and_nothing_due_is_said(tmp_path):
    content = load_content(FIXTURE_CONTENT)
    _, _, text = _run_in_process(tmp_path, "hhhq", cards=[content.get("add-one")])
    assert "Hint 1 of 2" in text and "Hint 2 of 2" in text and "Hint 3" not in text
    hints = text.split("Hint 1 of 2")[1].split("no more hints")[0]
    assert "Use the + operator." in hints and "`" not in hints  # Markdown, as the card's text
    _, _, text = _run_in_process(tmp_path / "x", "", cards=[])
    assert "Nothing is due now." in text and "nothing scheduled yet" in text


def test_nothing_due_says_when_the_days_new_limit_holds_new_cards_back(tmp_path):
    """A topic never studied, the day's new cards spent on others: "Nothing is due now." and
    no word of the limit, as if the topic were done (a helper's review of the daily use)."""

    from studycli.study.settings import Settings

    content = load_content(FIXTURE_CONTENT)
    cards = [content.get("bias-concept"), content.get("poisson-concept")]
    settings = Settings(enable_fuzzing=False, new_per_day=1)
    # one new card rated Easy; then a session with the day's spent
    said = [session_said(tmp_path, settings, cards, keys, NOW) for keys in (" 4", "")]
    wait = (
        "1 new study item waits: the day's limit of 1 new study item is reached, more come "
        f"tomorrow (new_per_day in {settings_file()}; `studycli cram` studies them now)."
    )
    assert f"Nothing more is due now. {wait}" in said[0]
    assert f"Nothing is due now. {wait}" in said[1]


def session_said(tmp_path, settings, cards, keys: str, when) -> str:
    """What a review session of `cards` at `when` says (its text, on one line), `keys`
    pressed, on the database in `tmp_path`."""
    from rich.console import Console

    from studycli.cli.review_session import ReviewSession
    from studycli.study.api import Study

    console = Console(record=True, width=200, color_system=None)
    pressed = iter(keys)
    with Study.open(tmp_path / "db.sqlite3", settings) as study:
        content = load_content(FIXTURE_CONTENT)
        ReviewSession(console, study, content, cards, clock=lambda: when,
                      getkey=pressed.__next__, tz=UTC).run()  # fmt: skip
    return " ".join(console.export_text().split())


def test_a_session_ended_by_the_days_review_limit_says_the_reviews_that_wait(tmp_path):
    """Two reviews due, reviews_per_day = 1: the session showed one and said "Nothing more is
    due now.", with no word of the limit (a QA pass, as Anki's end screen says it)."""
    from datetime import timedelta

    from studycli.study.settings import Settings

    content = load_content(FIXTURE_CONTENT)
    cards = [content.get("bias-concept"), content.get("poisson-concept")]
    later = NOW + timedelta(days=60)
    said = [
        session_said(tmp_path, Settings(enable_fuzzing=False, reviews_per_day=limit), cards,
                     keys, when)
        for keys, when, limit in ((" 4 4", NOW, 200), (" 3", later, 1), ("", later, 1))
    ]  # fmt: skip
    wait = (
        "1 more review due today waits: past the day's limit of 1 review "
        f"(reviews_per_day in {settings_file()}; they come first tomorrow, and `studycli cram` "
        "studies them now)."
    )
    assert "waits" not in said[0]
    assert f"Nothing more is due now. {wait}" in said[1], said[1]
    assert f"Nothing is due now. {wait}" in said[2], said[2]


def test_new_cards_held_by_a_new_limit_of_0_are_not_said_to_wait_for_tomorrow(tmp_path):
    """new_per_day = 0 (new cards paused): the session said "2 new cards wait for tomorrow:
    the day's limit of 0 new cards is reached", where none comes tomorrow either."""
    from rich.console import Console

    from studycli.cli.review_session import ReviewSession
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    content = load_content(FIXTURE_CONTENT)
    cards = [content.get("bias-concept"), content.get("poisson-concept")]
    console = Console(record=True, width=200, color_system=None)
    with Study.open(
        tmp_path / "db.sqlite3", Settings(enable_fuzzing=False, new_per_day=0)
    ) as study:
        ReviewSession(console, study, content, cards, clock=lambda: NOW,
                      getkey=iter("").__next__).run()  # fmt: skip
    said = " ".join(console.export_text().split())
    assert "tomorrow" not in said, said
    assert (
        f"Nothing is due now. 2 new study items wait: new_per_day is 0 in {settings_file()} "
        "(raise it to study them; `studycli cram` studies them now)."
    ) in said


def test_the_last_hint_in_a_session_says_the_sessions_key_for_the_answer(tmp_path, content_copy):
    """Past the last hint the session sent the learner to `studycli show ID --answer`, another
    command (whose answer the rating of a later pass never counted as read), where Enter on
    this screen shows it; once it is shown, there is nothing to point to."""
    content = load_content(FIXTURE_CONTENT)
    _, _, text = _run_in_process(tmp_path, "hhh hq", cards=[content.get("add-one")])
    said = re.findall(r"no more hints.*", text)
    assert said == ["no more hints: Enter shows the answer", "no more hints"]
    assert "studycli show" not in text
    card = content_copy / "cards" / "numbers" / "triangle-derivation.yaml"
    card.write_text(card.read_text() + "hints: [Pair the terms.]\n", encoding="utf-8")
    derivation = load_content(content_copy).get("triangle-derivation")
    _, _, text = _run_in_process(tmp_path / "x", "hhq", cards=[derivation], root=content_copy)
    assert "no more hints: Enter shows the next step, then the answer" in text


def test_a_rating_key_before_the_answer_says_how_to_reveal_it_and_rates_nothing(tmp_path):
    """1-4 on a card's front did nothing at all: the learner took the session for stuck. Each
    says which key shows the answer (a derivation's next step; `s` on a coding card), and the
    card is rated only once the answer is on screen."""
    content = load_content(FIXTURE_CONTENT)
    concept = content.get("bias-concept")
    summary, reviews, text = _run_in_process(tmp_path, "3 3q", cards=[concept])
    assert re.findall(r"3 rates once.*", text) == [
        "3 rates once the answer is shown: Enter shows the answer"
    ]
    assert [(r.card_id, r.rating) for r in reviews] == [("bias-concept", 3)]
    derivation, coding = content.get("triangle-derivation"), content.get("add-one")
    summary, reviews, text = _run_in_process(tmp_path / "x", "1 4q", cards=[derivation])
    assert "1 rates once the answer is shown: Enter shows the next step, then the answer" in text
    assert reviews == [] and summary.reviewed == 0  # (one step shown: still no answer)
    summary, reviews, text = _run_in_process(tmp_path / "y", "2q", cards=[coding])
    assert "2 rates once the answer is shown: Enter shows the answer (s checks your code)" in text
    assert reviews == []


@pytest.mark.parametrize(
    "editor, said",
    [
        ("false", "exited with status 1"),
        # a quote left open: shlex's ValueError ended the session with a traceback
        ('nano "', "error: $EDITOR='nano \"' cannot be read as a command"),
    ],
    ids=["fails", "cannot be split"],
)
def test_a_failing_editor_ends_the_attempt_not_the_session(tmp_path, monkeypatch, editor, said):
    monkeypatch.setenv("EDITOR", editor)
    monkeypatch.delenv("VISUAL", raising=False)
    content = load_content(FIXTURE_CONTENT)
    summary, reviews, text = _run_in_process(tmp_path, "s 1q", cards=[content.get("add-one")])
    assert said in text
    assert [(r.card_id, r.rating, r.method) for r in reviews] == [("add-one", 1, "self")]


def _poisson_cloze(content_copy):
    (content_copy / "cards" / "numbers" / "poisson-cloze.yaml").write_text(
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::the mean::a parameter}}'\n"
        "explanation: Both come from the generating function.\n",
        encoding="utf-8",
    )
    return [load_content(content_copy).cards["poisson-cloze"]]


def test_each_cloze_deletion_is_studied_and_scheduled_on_its_own(tmp_path, content_copy):
    cards = _poisson_cloze(content_copy)
    summary, reviews, text = _run_in_process(
        tmp_path, " 3 1q", cards=cards, root=content_copy, bury=False
    )

    assert [(r.card_id, r.rating) for r in reviews] == [
        ("poisson-cloze#c1", 3),
        ("poisson-cloze#c2", 1),
    ]
    assert "E[X] = [...] and Var(X) = the mean" in text  # c1 asked, c2 shown
    assert "E[X] = λ and Var(X) = [a parameter]" in text  # c2 asked, c1 shown
    assert "Both come from the generating function." in text  # the explanation, after
    assert summary.reviewed == 2


def test_a_cloze_cards_deletions_are_studied_one_a_day(tmp_path, content_copy):
    """As Anki buries siblings: once c1 is rated, c2 (whose text shows c1's answer) waits for
    the next study day, even in a session that has nothing else to show."""
    cards = _poisson_cloze(content_copy)
    summary, reviews, text = _run_in_process(tmp_path, " 4q", cards=cards, root=content_copy)
    assert [(r.card_id, r.rating) for r in reviews] == [("poisson-cloze#c1", 4)]
    assert "E[X] = λ and Var(X) = [a parameter]" not in text and summary.reviewed == 1

    tomorrow = NOW + timedelta(days=1)
    summary, reviews, text = _run_in_process(
        tmp_path, " 3q", cards=cards, root=content_copy, now=tomorrow
    )
    assert [(r.card_id, r.rating) for r in reviews][1:] == [("poisson-cloze#c2", 3)]
    assert "E[X] = λ and Var(X) = [a parameter]" in text


def test_burying_a_cloze_deletion_holds_its_siblings_to_the_next_study_day(tmp_path, content_copy):
    """`b` on c1 showed c2 next, whose text is c1's answer ("E[X] = λ"): a buried deletion
    holds its siblings as a rated one does, in the session and in `due`; `unbury` takes the
    bury back, siblings and all."""
    from studycli.study.api import Study, study_items
    from studycli.study.settings import Settings

    cards = _poisson_cloze(content_copy)
    bias = load_content(content_copy).get("bias-concept")
    summary, reviews, text = _run_in_process(
        tmp_path, " 4 bq", cards=[*cards, bias], root=content_copy
    )
    assert [r.card_id for r in reviews] == ["bias-concept"], reviews
    assert "buried until the next study day" in text
    assert "E[X] = λ and Var(X) = [a parameter]" not in text, text
    items = study_items(cards)
    later, tomorrow = NOW + timedelta(hours=1), NOW + timedelta(days=1)
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        assert study.due_counts(items, later).new == 0
        assert study.due_counts(items, tomorrow).new == 1  # back, one deletion a day
        study.unbury(items[0])
        assert study.due_counts(items, later).new == 1


def test_a_session_left_with_buried_siblings_says_when_the_next_card_can_be_studied(
    tmp_path, content_copy
):
    """Both deletions due, one studied: its sibling waits for the next study day. The summary
    said "more cards are due now" (and `due` "cards are due now" under a table of zeros),
    sending the learner back to a session with nothing to show."""
    from studycli.study.api import Study, study_items
    from studycli.study.queue import next_day_start
    from studycli.study.rating import fsrs_card
    from studycli.study.settings import Settings

    [card] = _poisson_cloze(content_copy)
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        items = {item.id: item for item in study_items([card])}
        for item in items.values():  # Easy: both in review, due days later
            study.rate(item, Rating.Easy, NOW)
        later = max(fsrs_card(study.state(i)).due for i in items) + timedelta(hours=1)  # type: ignore[union-attr]
    summary, reviews, text = _run_in_process(
        tmp_path, " 3", cards=[card], root=content_copy, now=later
    )
    assert [r.card_id for r in reviews][2:] == [
        "poisson-cloze#c1"
    ] and "Nothing more is due now" in text
    assert summary.next_due == next_day_start(later, Settings().day_starts_at)
    assert "more cards are due now" not in text and "next due in" in text


# --- a pass is graded by how it was reached ------------------------------------------------------


def test_a_pass_after_a_hint_offers_hard_on_enter(tmp_path, monkeypatch):
    _editor_writes_the_answer(tmp_path, monkeypatch)
    content = load_content(FIXTURE_CONTENT)
    summary, reviews, text = _run_in_process(tmp_path, "hs\rq", cards=[content.get("add-one")])
    assert "Hint 1 of 2" in text and "Enter: Hard (1 hint) · s: edit and run again" in text
    assert [(r.card_id, r.rating, r.method, r.check_status) for r in reviews] == [
        ("add-one", 2, "check", "pass")
    ]


def test_a_pass_after_a_failed_run_offers_hard_and_a_choice_still_counts(tmp_path, monkeypatch):
    from studycli.paths import attempts_dir

    monkeypatch.setenv("EDITOR", "true")  # the learner edits the file outside, here below
    monkeypatch.delenv("VISUAL", raising=False)
    content = load_content(FIXTURE_CONTENT)

    def keys():
        attempts_dir().mkdir(parents=True, exist_ok=True)
        (attempts_dir() / "add-one.py").write_text("def add_one(x):\n    return x\n")
        yield "s"  # a wrong answer fails
        (attempts_dir() / "add-one.py").write_text("def add_one(x):\n    return x + 1\n")
        yield "s"  # now it passes, after one failed run
        yield "3"  # the learner picks Good over the offered Hard
        yield "q"

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [content.get("add-one")])
    assert "Enter: Again" in text and "Enter: Hard (1 failed run first)" in text
    assert [(r.rating, r.check_status) for r in reviews] == [(3, "pass")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: a subreaper")
def test_a_daemon_an_attempt_leaves_as_it_kills_its_worker_is_gone_while_the_session_runs(
    tmp_path, monkeypatch
):
    """`s` checks in the workers `solve` and `check` use: an attempt that killed the worker
    that forked its check left its daemon (a double fork, setsid) to init, running on through
    the session and after it. (The worker is killed by this test's process, as the attempt
    asks: see `KILLS_WORKER`.)"""
    from studycli.paths import attempts_dir

    monkeypatch.setenv("EDITOR", "true")  # the attempt is written here, below
    monkeypatch.delenv("VISUAL", raising=False)
    argument = marker()
    left: list[int] = []

    def keys():
        attempts_dir().mkdir(parents=True, exist_ok=True)
        attempt = DAEMON_THEN_KILLS_ITS_WORKER.format(marker=argument, kill=KILLS_WORKER)
        asks = asks_from_outside(tmp_path / "asks")
        (attempts_dir() / "add-one.py").write_text(attempt + PROC_PIDS + asks)
        yield "s"
        left.extend(gone_within(argument, 5.0))  # (the session still runs: it waits for a key)
        yield "q"

    pressed = keys()
    try:
        with signals_from_outside(tmp_path / "asks"):
            _, _, text = _run_keys(
                tmp_path, lambda: next(pressed), [load_content(FIXTURE_CONTENT).get("add-one")]
            )
    finally:
        gone_within(argument, 0)
    assert "the worker that forked the check died" in " ".join(text.split())
    assert left == []


def test_a_rated_pass_is_put_aside_and_the_next_review_starts_from_the_starter(
    tmp_path, monkeypatch
):
    """Once a pass is rated, its attempt moves to attempts/rated/: the card's next review (a
    later session, weeks on) opens the starter, and its `s` checks nothing until an answer is
    written. Reopened, the passing code passed again unchanged: Good without recall."""
    from studycli.check.attempt_files import attempt_path, rated_path

    _editor_writes_the_answer(tmp_path, monkeypatch)
    card = load_content(FIXTURE_CONTENT).get("add-one")
    _, reviews, text = _run_keys(tmp_path, iter("s\rq").__next__, [card])
    assert [(r.rating, r.check_status) for r in reviews] == [(3, "pass")]
    assert "Good: due again in" in text and "your answer is kept in" in text
    assert rated_path("add-one").read_text() == "def add_one(x):\n    return x + 1\n"
    assert not attempt_path("add-one").exists()

    monkeypatch.setenv("EDITOR", "true")  # the learner saves what the editor opened
    later = NOW + timedelta(days=30)
    _, reviews, text = _run_keys(tmp_path, iter("sq").__next__, [card], clock=lambda: later)
    assert "add-one.py is still the starter: write your answer in it" in text
    assert len(reviews) == 1  # nothing more recorded


def test_where_a_rated_pass_is_kept_is_named_unbroken_in_a_narrow_terminal(tmp_path, monkeypatch):
    """The line naming where a rated pass is kept was wrapped to the terminal's width, which
    cut the path in two (`.../rated/monotonic-stack-next-greate` / `r.py` at 60 columns: a
    helper's simulated week), so it could not be copied; `solve` and `undo` print it whole."""
    from studycli.check.attempt_files import rated_path

    _editor_writes_the_answer(tmp_path, monkeypatch)
    card = load_content(FIXTURE_CONTENT).get("add-one")
    _, reviews, text = _run_keys(tmp_path, iter("s\rq").__next__, [card], width=40)
    assert [(r.rating, r.check_status) for r in reviews] == [(3, "pass")]
    assert f"your answer is kept in {rated_path('add-one')}: the next review" in text, text


def test_undoing_a_pass_brings_its_answer_back(tmp_path, monkeypatch):
    """`u` after a pass (to give Easy rather than Good, say): the answer put aside with the
    rating is the attempt again, and `s` checks it at once (it opened the starter)."""
    from studycli.check.attempt_files import attempt_path, rated_path

    _editor_writes_the_answer(tmp_path, monkeypatch)
    card = load_content(FIXTURE_CONTENT).get("add-one")

    def keys():
        yield from "s\r"  # a pass, rated Good: the answer is put aside
        monkeypatch.setenv("EDITOR", "true")  # from here the learner types nothing
        yield from "us4q"  # undone, checked again as it is, rated Easy

    pressed = keys()
    _, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [card])
    assert [(r.rating, r.check_status) for r in reviews] == [(4, "pass")]
    assert text.count("passed every case") == 2 and "still the starter" not in text
    assert rated_path("add-one").exists() and not attempt_path("add-one").exists()


def test_undoing_a_pass_says_where_its_answer_is(tmp_path, monkeypatch):
    """`u` after a pass said only "undone: add-one is back as it was", while the line above it
    said the answer was kept in attempts/rated/ and the next review would start from the
    starter: `s` then opened the answer, unannounced (a new learner's first hour). It says
    where the answer is now, as `studycli undo` does, whole in a narrow terminal."""
    from studycli.check.attempt_files import attempt_path

    _editor_writes_the_answer(tmp_path, monkeypatch)
    card = load_content(FIXTURE_CONTENT).get("add-one")
    _, reviews, text = _run_keys(tmp_path, iter("s\ruq").__next__, [card], width=40)
    assert reviews == []
    said = f"undone: add-one is back as it was; your answer is back in {attempt_path('add-one')}"
    assert said in text, text


def test_a_failed_run_rated_again_keeps_the_attempt_to_mend(tmp_path, monkeypatch):
    """Only a pass is put aside: after Again the learner goes on from their own code."""
    from studycli.check.attempt_files import attempt_path, rated_path
    from studycli.paths import attempts_dir

    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    attempts_dir().mkdir(parents=True, exist_ok=True)
    attempt_path("add-one").write_text("def add_one(x):\n    return x\n")
    card = load_content(FIXTURE_CONTENT).get("add-one")
    _, reviews, _ = _run_keys(tmp_path, iter("s\rq").__next__, [card])
    assert [(r.rating, r.check_status) for r in reviews] == [(1, "fail")]
    assert attempt_path("add-one").read_text() == "def add_one(x):\n    return x\n"
    assert not rated_path("add-one").exists()


def test_the_line_under_a_pass_says_why_enter_takes_hard(tmp_path, monkeypatch):
    """A pass after two derivation steps read: the line said "Enter: Hard" and no
    more, where `solve` says why ("1 hint, 3 failed runs first"): a learner who passed took
    Hard for a mistake (a helper's simulated week)."""
    answer = tmp_path / "answer.py"
    answer.write_text("def triangle(n):\n    return n * (n + 1) // 2\n")
    monkeypatch.setenv("EDITOR", f"cp {answer}")
    monkeypatch.delenv("VISUAL", raising=False)
    card = load_content(FIXTURE_CONTENT).get("triangle-derivation")
    _, reviews, text = _run_in_process(tmp_path, "  s\rq", cards=[card])
    assert "Enter: Hard (2 steps read) · s: edit and run again" in text, text
    assert [(r.rating, r.check_status) for r in reviews] == [(2, "pass")]


def test_the_untouched_starter_is_not_checked_and_the_answer_stays_hidden(tmp_path, monkeypatch):
    """`s`, then leaving the editor with the starter as it was: no attempt of the learner's, so
    nothing is checked and the answer is not shown (its check would fail, show the answer, and
    the pass copied from it would count as a first try); the pass that follows is Good."""
    from studycli.paths import attempts_dir

    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    content = load_content(FIXTURE_CONTENT)

    def keys():
        yield "s"  # the untouched starter
        (attempts_dir() / "add-one.py").write_text("def add_one(x):\n    return x + 1\n")
        yield "s"
        yield "\r"
        yield "q"

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [content.get("add-one")])
    before, _, after = text.partition("add-one.py is still the starter: write your answer in it")
    assert after, text
    assert "checking" not in before and "Answer" not in before and "Enter: Again" not in text
    assert "Enter: Good" in after
    assert [(r.rating, r.check_status) for r in reviews] == [(3, "pass")]


def test_an_editor_back_at_once_on_the_starter_is_told_where_to_write(tmp_path, monkeypatch):
    """`s` with an editor that returned at once (a window editor without --wait): the session
    said "the starter is checked as it is", then that the starter was not checked, and named
    the attempt by its file name alone, so the learner could not tell where to write the
    answer (a helper's simulated week). It names the whole path, unbroken, and checks
    nothing."""
    from studycli.check.attempt_files import attempt_path

    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    card = load_content(FIXTURE_CONTENT).get("add-one")
    _, reviews, text = _run_keys(tmp_path, iter("sq").__next__, [card])
    assert "returned at once, the file unchanged" in text, text
    assert "checked as it is" not in text and "checking" not in text, text
    assert f"{attempt_path('add-one')} is still the starter: write your answer in it" in text
    assert reviews == []


def test_a_starter_an_older_version_wrote_is_not_checked_and_deleting_it_is_offered(
    tmp_path, monkeypatch
):
    """The attempt file an older version wrote from the card's starter, changed since: as the
    untouched starter, nothing is checked (its check failed and was rated Again) and the
    answer stays hidden; the line says that deleting the file gives the new starter."""
    from studycli.paths import attempts_dir

    from .test_check_solve import _older_starter

    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    content = load_content(FIXTURE_CONTENT)
    path = attempts_dir() / "add-one.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_older_starter())

    def keys():
        yield "s"  # the older starter, as it was written
        path.write_text("def add_one(x):\n    return x + 1\n")
        yield "s"
        yield "\r"
        yield "q"

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [content.get("add-one")])
    before, _, after = " ".join(text.split()).partition("the card's starter has changed since")
    assert after, text
    assert "checking" not in before and "Answer" not in before and "Enter: Again" not in text
    assert "delete" in after.partition("checking")[0]
    assert "Enter: Good" in after
    assert [(r.rating, r.check_status) for r in reviews] == [(3, "pass")]


def test_reading_the_answer_before_solving_counts_as_help(tmp_path, monkeypatch):
    _editor_writes_the_answer(tmp_path, monkeypatch)
    content = load_content(FIXTURE_CONTENT)
    _, reviews, text = _run_in_process(tmp_path, " s\rq", cards=[content.get("add-one")])
    assert "Enter: Hard (the answer read)" in text and [r.rating for r in reviews] == [2]


def test_enter_after_a_derivations_check_takes_its_rating_and_shows_the_steps(
    tmp_path, monkeypatch
):
    """A first-try pass of a derivation card: Enter is Good, as the line under the outcome
    says; the steps come with the answer and are not help (Enter showed them one by one,
    each counted as help read before the check: the pass was saved as Hard)."""
    answer = tmp_path / "answer.py"
    answer.write_text("def triangle(n):\n    return n * (n + 1) // 2\n")
    monkeypatch.setenv("EDITOR", f"cp {answer}")
    monkeypatch.delenv("VISUAL", raising=False)
    content = load_content(FIXTURE_CONTENT)
    card = content.get("triangle-derivation")
    _, reviews, text = _run_in_process(tmp_path, "s\rq", cards=[card])
    checked = text.partition("Enter: Good (first try) · s: edit and run again")[0]
    assert all(f"Step {n} of 3" in checked for n in (1, 2, 3)), text
    assert [(r.card_id, r.rating, r.check_status) for r in reviews] == [
        ("triangle-derivation", 3, "pass")
    ]


def test_a_derivations_check_run_again_keeps_its_rating(tmp_path, monkeypatch):
    """The steps shown with the answer after the first check are not help read before the
    second: the same pass, run again, offered Hard."""
    answer = tmp_path / "answer.py"
    answer.write_text("def triangle(n):\n    return n * (n + 1) // 2\n")
    monkeypatch.setenv("EDITOR", f"cp {answer}")
    monkeypatch.delenv("VISUAL", raising=False)
    card = load_content(FIXTURE_CONTENT).get("triangle-derivation")
    _, reviews, text = _run_in_process(tmp_path, "ss\rq", cards=[card])
    assert text.count("Enter: Good (first try) · s: edit and run again") == 2, text
    assert [(r.rating, r.check_status) for r in reviews] == [(3, "pass")]


def test_a_hint_read_after_a_pass_does_not_lower_its_rating(tmp_path, monkeypatch):
    _editor_writes_the_answer(tmp_path, monkeypatch)
    content = load_content(FIXTURE_CONTENT)
    _, reviews, text = _run_in_process(tmp_path, "sh\rq", cards=[content.get("add-one")])
    assert "Hint 1 of 2" in text.partition("Enter: Good")[2], text
    assert [(r.rating, r.check_status) for r in reviews] == [(3, "pass")]


def _editor_writes_the_answer(tmp_path, monkeypatch) -> None:
    """The "editor" opened on add-one's attempt writes a right answer into it."""
    answer = tmp_path / "answer.py"
    answer.write_text("def add_one(x):\n    return x + 1\n")
    monkeypatch.setenv("EDITOR", f"cp {answer}")
    monkeypatch.delenv("VISUAL", raising=False)


def _run_keys(tmp_path, getkey, cards, clock=lambda: NOW, width=100):
    from rich.console import Console

    from studycli.cli.review_session import ReviewSession
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    content = load_content(FIXTURE_CONTENT)
    console = Console(record=True, width=width, color_system=None)
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        summary = ReviewSession(console, study, content, cards, clock=clock, getkey=getkey).run()
        reviews = study.history()[::-1]
    return summary, reviews, console.export_text()


def _other_session_rates(tmp_path, card_id: str, rating: Rating, when) -> None:
    """A second session, in another terminal, on the database `_run_keys` uses, rates."""
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    card = load_content(FIXTURE_CONTENT).cards[card_id]
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as other:
        other.rate(card, rating, when)


def test_an_import_while_the_card_is_on_screen_shows_its_intervals_again_then_rates_on_it(
    tmp_path,
):
    """An import (another machine's log) bringing an older review of the card on screen: the
    rating was refused as "rated Easy in another session while it was on screen", lost, and
    the card left the session (a helper's review). It builds on the merged history; but the
    bar on screen still showed the intervals of the card as it was before (new: Good in
    minutes, where the merged history gives months), which the learner rated by. The key is
    asked again, under the bar as it is now; the rating then builds on the merged history
    (the state stored is the log's replay)."""
    from studycli.study.api import Study, study_items
    from studycli.study.settings import Settings

    log = tmp_path / "laptop.csv"
    log.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"bias-concept,4,{(NOW - timedelta(days=300)).isoformat()},\n",
        encoding="utf-8",
    )
    content = load_content(FIXTURE_CONTENT)
    card = content.cards["bias-concept"]
    good = {}

    def keys():
        yield " "  # the answer; meanwhile another terminal imports the laptop's log
        with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as other:
            good["shown"] = rating_label(Rating.Good, other.preview(card, NOW)[Rating.Good])
            assert other.import_reviews(log, study_items(content.cards.values()), NOW).added
            good["merged"] = rating_label(Rating.Good, other.preview(card, NOW)[Rating.Good])
        yield from "33q"  # Good, asked again; Good

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [card])
    said = " ".join(text.split())
    assert good["shown"] != good["merged"], good
    notice = said.index("Good was not saved: bias-concept's history changed while it was on")
    assert said.index(good["shown"]) < notice < said.index(good["merged"], notice), said
    assert "rate again" in said and "due again in" in said.split("rate again")[1]
    assert [(r.rating, r.method) for r in reviews] == [(4, "import"), (3, "self")]
    assert reviews[1].state_before is not None and reviews[1].state_before.fsrs is not None
    with Store.open(tmp_path / "db.sqlite3") as store:
        assert core.rebuild(store)["bias-concept"].fsrs == store.state("bias-concept").fsrs


def test_a_day_since_the_last_review_passing_while_the_card_is_on_screen_asks_again(tmp_path):
    """A card shown 10 s before 24 hours since its last review and rated 20 s later: the bar
    said Good 2d and the rating saved 7d (fsrs counts the time since the last review in whole
    days), nothing said (a helper's finding). The key is asked again under the bar as it is
    now, saying why, and the rating then saves what that bar shows."""
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    last = NOW - timedelta(days=1) + timedelta(seconds=10)
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        study.rate(card, Rating.Good, last)  # learning: due 10 minutes later
        shown, later = (
            study.preview(card, when)[Rating.Good] for when in (NOW, NOW + timedelta(seconds=20))
        )
    reviews, said = _good_twice_the_second_20_s_later(tmp_path, card)
    notice = said.index("Good was not saved: bias-concept's intervals changed while it was on")
    assert "24 hours have passed since its last review" in said[notice:], said
    shown_label, later_label = (rating_label(Rating.Good, days) for days in (shown, later))
    assert shown_label != later_label
    assert said.index(shown_label) < notice < said.index(later_label, notice), said
    assert f"due again in {format_interval(later)}" in said[notice:], said
    assert [(r.rating, r.reviewed_at) for r in reviews] == [
        (3, last),
        (3, NOW + timedelta(seconds=20)),
    ]


def _good_twice_the_second_20_s_later(tmp_path, card):
    """A session showing `card`'s answer and bar at NOW, Good pressed 20 s later, then again
    (where it was asked again), then q: its reviews and what it said, on one line."""
    clock = [NOW]

    def keys():
        yield " "  # the answer, and its bar; then 20 s pass
        clock[0] = NOW + timedelta(seconds=20)
        yield from "33q"  # Good, asked again; Good

    pressed = keys()
    _, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [card], lambda: clock[0])
    return reviews, " ".join(text.split())


def test_a_whole_day_more_since_a_review_cards_last_review_says_how_many_days(tmp_path):
    """A review card, its last review 7 days minus 10 s before its bar, rated 20 s later: its
    intervals moved (the retrievability fsrs computes by whole days since the last review,
    6 then 7), and the session said "24 hours have passed since its last review", as for a
    card reviewed the day before (a reviewer's finding). It says the days that have passed."""
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    last = NOW - timedelta(days=7) + timedelta(seconds=10)
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        study.rate(card, Rating.Good, last - timedelta(minutes=10))
        study.rate(card, Rating.Good, last)  # in review now
        shown, later = (study.preview(card, when) for when in (NOW, NOW + timedelta(seconds=20)))
    assert shown != later
    reviews, said = _good_twice_the_second_20_s_later(tmp_path, card)
    notice = said.index("Good was not saved: bias-concept's intervals changed while it was on")
    assert "7 days (168 hours) have passed since its last review" in said[notice:], said
    assert "24 hours" not in said, said
    assert [r.reviewed_at for r in reviews][-1] == NOW + timedelta(seconds=20)


def test_an_import_committed_while_the_rating_waits_for_the_lock_asks_the_rating_again(
    tmp_path, monkeypatch
):
    """The key pressed while another terminal's import holds the write lock, not committed
    yet: the bar was not outdated then, and the rating waited for the lock (an import holds
    it for as long as it runs), then built on the merged history the import committed
    meanwhile, saved by a bar that had shown the card new (Good in minutes where the merged
    history gives months). Compared under the write lock, where the rating reads the state it
    builds on, the key is asked again under the bar as it is now."""
    import threading

    from studycli.study import busy
    from studycli.study.api import Study, study_items
    from studycli.study.settings import Settings

    log = tmp_path / "laptop.csv"
    log.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"bias-concept,4,{(NOW - timedelta(days=300)).isoformat()},\n",
        encoding="utf-8",
    )
    content = load_content(FIXTURE_CONTENT)
    card = content.cards["bias-concept"]
    holding, waiting = threading.Event(), threading.Event()
    begin_write = busy.begin_write

    def begin(conn):  # the session's rating, about to wait for the import's lock
        if threading.current_thread() is threading.main_thread():
            waiting.set()
        begin_write(conn)

    monkeypatch.setattr(busy, "begin_write", begin)
    merged = {}

    def imports():  # another terminal: its import holds the lock until the rating waits
        with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as other:
            with other.store.transaction():
                holding.set()
                assert waiting.wait(10)
                assert other.import_reviews(log, study_items(content.cards.values()), NOW).added
            merged["good"] = rating_label(Rating.Good, other.preview(card, NOW)[Rating.Good])

    importer = threading.Thread(target=imports)

    def keys():
        yield " "  # the answer and its bar; then the import takes the lock
        importer.start()
        assert holding.wait(10)
        yield "3"  # Good: waits for the import, which commits
        importer.join()
        yield from "3q"  # Good, under the bar as it is now

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [card])
    said = " ".join(text.split())
    notice = said.index("Good was not saved: bias-concept's history changed while it was on")
    assert said.index(merged["good"], notice) > notice, said
    assert [(r.rating, r.method) for r in reviews] == [(4, "import"), (3, "self")]


def test_enter_after_a_pass_under_keys_an_import_changed_shows_what_enter_gives_again(
    tmp_path, monkeypatch
):
    """Enter after a pass takes the check's rating, through the same refusal as a rating key
    where another terminal's import changed the card meanwhile: the keys were shown again,
    but not the line under them that says what Enter gives (and that s runs it again), and
    the learner was left with 2, 3 and 4 alone. It is shown with them."""
    from studycli.paths import attempts_dir
    from studycli.study.api import Study, study_items
    from studycli.study.settings import Settings

    monkeypatch.setenv("EDITOR", "true")  # the learner wrote the answer outside, here below
    monkeypatch.delenv("VISUAL", raising=False)
    log = tmp_path / "laptop.csv"
    log.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"add-one,3,{(NOW - timedelta(days=300)).isoformat()},\n",
        encoding="utf-8",
    )
    content = load_content(FIXTURE_CONTENT)

    def keys():
        attempts_dir().mkdir(parents=True, exist_ok=True)
        (attempts_dir() / "add-one.py").write_text("def add_one(x):\n    return x + 1\n")
        yield "s"  # a pass: Enter is Good
        with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as other:
            assert other.import_reviews(log, study_items(content.cards.values()), NOW).added
        yield from "\r\r"  # Good, refused and asked again; Good

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [content.get("add-one")])
    said = " ".join(text.split())
    enter = "Enter: Good (first try) · s: edit and run again"
    _, notice, after = said.partition("Good was not saved: add-one's history changed")
    assert notice and enter in said.split(notice)[0] and enter in after, said
    assert after.index(enter) < after.index("due again in"), said
    assert [(r.rating, r.method) for r in reviews] == [(3, "import"), (3, "check")]


def test_undo_after_another_session_rated_the_card_is_a_notice_not_the_end(tmp_path):
    def keys():
        yield from " 3"  # this session rates the card Good
        _other_session_rates(tmp_path, "bias-concept", Rating.Again, NOW + timedelta(seconds=1))
        yield from "uq"

    pressed = keys()
    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [card])
    assert (
        "cannot undo: bias-concept was rated again since (in another session?): only a card's latest "
        "review can be undone"
    ) in " ".join(text.split())
    assert [r.rating for r in reviews] == [3, 1]  # both kept: the other's is not rolled back
    assert summary.reviewed == 1  # the rating that stayed is still this session's (it said 0)


def test_u_with_nothing_rated_in_this_session_names_the_undo_command(tmp_path):
    """A card rated Good, the session quit, a second session started: `u` said "nothing to
    undo in this session" and no more, where `studycli undo` takes that rating back (README's
    keys say "`u` undoes the last rating": a learner tried it first)."""
    _run_in_process(tmp_path, " 3q")
    _, reviews, text = _run_in_process(tmp_path, "uq")
    said = " ".join(text.split())
    assert "nothing to undo in this session (`studycli undo` takes back an earlier" in said
    assert len(reviews) == 1  # the first session's Good stands


def test_undo_of_a_rating_undone_in_another_terminal_leaves_the_sessions_count(tmp_path):
    """`studycli undo` in another terminal took back this session's rating; `u` here said
    "cannot undo: ... undone already" and kept it as the session's: the summary counted a
    review the log no longer has, and every later `u` said the same."""
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    def keys():
        yield from " 3"  # this session rates the card Good
        with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as other:
            other.undo(other.latest_review_id(), NOW)  # `studycli undo` elsewhere
        yield from "uuq"

    pressed = keys()
    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [card])
    assert "undone already (in another terminal?): bias-concept is back as it was" in text
    assert "nothing to undo in this session" in text and "cannot undo" not in text
    assert reviews == [] and summary.reviewed == 0
    assert "0 reviews" in text


def test_undo_of_a_card_suspended_in_another_terminal_does_not_show_it_again(tmp_path):
    """Rated, suspended elsewhere, then undone here: the card stays suspended (the store keeps
    it) and the session does not bring it back on screen (it did)."""
    from studycli.study.store import Store

    def keys():
        yield from " 4"  # Easy: not back in this session
        with Store.open(tmp_path / "db.sqlite3") as other:
            other.set_suspended("bias-concept", True)
        yield from "uq"

    pressed = keys()
    cards = load_content(FIXTURE_CONTENT).cards
    two = [cards["bias-concept"], cards["poisson-concept"]]  # (the undo comes on the second)
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), two)
    assert "undone: bias-concept is back as it was, and suspended" in " ".join(text.split())
    assert text.count("Why a neuron needs a bias") == 1 and reviews == []


@pytest.mark.parametrize(
    ("racing", "after"),
    [
        (False, timedelta(seconds=-30)),
        (True, timedelta(seconds=-30)),
        (True, timedelta(seconds=30)),
    ],
    ids=["on-screen", "at-the-key", "at-the-key-later"],
)
def test_a_card_rated_in_another_session_while_on_screen_is_not_rated_twice(
    tmp_path, monkeypatch, racing, after
):
    """Two sessions show the same card; the other rates it while it is on screen here, or at
    the moment this one's key is pressed (its write takes the lock first: `racing`): this
    rating is not saved, and says the card was rated in another session. It counted a second
    review moments after the first; in the race it was saved too (the guard read the log
    before taking the lock), or, where the other's time was later than this key's, it blamed
    the system clock."""
    from studycli.study.api import Study

    other_at = NOW + timedelta(minutes=1) + after
    rate = Study.rate
    raced = []

    def first_the_other(self, item, *args, **kwargs):
        if not raced:  # the other session's write wins the lock
            raced.append(item.id)
            _other_session_rates(tmp_path, item.id, Rating.Easy, other_at)
        return rate(self, item, *args, **kwargs)

    if racing:
        monkeypatch.setattr(Study, "rate", first_the_other)
    now = [NOW]

    def keys():
        yield " "  # the answer: then the other terminal rates the card meanwhile
        if not racing:
            _other_session_rates(tmp_path, "bias-concept", Rating.Easy, other_at)
        now[0] = NOW + timedelta(minutes=1)
        yield from "3q"

    pressed = keys()
    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    summary, reviews, text = _run_keys(
        tmp_path, lambda: next(pressed), [card], clock=lambda: now[0]
    )
    said = " ".join(text.split())
    assert (
        "not saved: bias-concept was rated Easy in another session while it was on screen" in said
    )
    assert "behind" not in said
    assert [r.rating for r in reviews] == [4] and summary.reviewed == 0
    assert raced == (["bias-concept"] if racing else [])


def test_a_rating_the_database_is_too_busy_for_keeps_the_card_to_rate_again(tmp_path, monkeypatch):
    """Another command (an import of a large log) holding the database past the wait: the
    rating is not saved, the session goes on with the card still on screen, and the same key
    saves it once the database is free (the session used to end with an error)."""
    import sqlite3

    from studycli.study import busy

    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.2)
    content = load_content(FIXTURE_CONTENT)
    held = []

    def keys():
        yield " "
        lock = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        held.append(lock)
        yield "3"  # not saved: the database is busy
        lock.execute("ROLLBACK")
        lock.close()
        yield "3"
        yield "q"

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [content.get("add-one")])
    said = " ".join(text.split())  # (the console wraps the line)
    assert (
        "Good was not saved: the review database is busy: another studycli command (or another "
        "program) kept it locked for 0.2 s; press 3 again to try again, or q to quit" in said
    )
    assert "interrupted" not in text
    assert [(r.card_id, r.rating) for r in reviews] == [("add-one", 3)] and held


def _holding_the_database(tmp_path):
    """Another process's connection to `_run_keys`' database holding its write lock."""
    import sqlite3

    lock = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    return lock


def _kept_out(tmp_path) -> tuple[set[str], set[str]]:
    """(the suspended ids, the ids buried at NOW) in `_run_keys`' database."""
    from studycli.study.store import Store

    with Store.open(tmp_path / "db.sqlite3") as store:
        return store.suspended(), set(store.buried(NOW))


@pytest.mark.parametrize("key, done", [("@", "suspended"), ("b", "buried")])
def test_a_suspension_or_bury_the_database_is_too_busy_for_keeps_the_card_on_screen(
    tmp_path, monkeypatch, key, done
):
    """`@` or `b` while another command holds the database past the wait ended the whole
    session with the busy error (exit 1), as a rating did before it was kept on screen (an
    audit): it is said, and the same key suspends or buries the card once the database is free."""
    from studycli.study import busy

    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.2)
    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    kept_out: list[tuple[set[str], set[str]]] = []

    def keys():
        lock = _holding_the_database(tmp_path)
        yield key  # not done: the database is busy
        kept_out.append(_kept_out_now(lock))
        lock.execute("ROLLBACK")
        lock.close()
        yield key
        yield "q"  # (nothing else is due: "any other key ends the session")

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [card])
    said = " ".join(text.split())  # (the console wraps the line)
    assert (
        f"bias-concept was not {done}: the review database is busy: another studycli command "
        f"(or another program) kept it locked for 0.2 s; press {key} again to try again, or q "
        "to quit" in said
    ), said
    assert kept_out == [(set(), set())]  # not while the database was held
    suspended, buried = _kept_out(tmp_path)
    assert ("bias-concept" in suspended, "bias-concept" in buried) == (key == "@", key == "b")
    assert reviews == [] and "interrupted" not in text


def _kept_out_now(lock) -> tuple[set[str], set[str]]:
    """`_kept_out`, read through `lock`'s connection (inside its transaction)."""
    suspended = {c for (c,) in lock.execute("SELECT card_id FROM cards WHERE suspended = 1")}
    buried = {c for (c,) in lock.execute("SELECT card_id FROM buried WHERE until > ?", ("0",))}
    return suspended, buried


@pytest.mark.parametrize("key, undone", [("@", "suspended"), ("b", "buried")])
@pytest.mark.parametrize("others", [["poisson-concept"], []])
def test_taking_back_a_suspension_or_bury_the_database_is_too_busy_for_keeps_it_to_take_back(
    tmp_path, monkeypatch, key, undone, others
):
    """`u` right after `@` or `b`, the database held past the wait: the session ended with
    the busy error; it says the card is still kept out, and `u` again takes it back (with
    no other card left too, where the session offers `u` before it ends)."""
    from studycli.study import busy

    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.2)
    content = load_content(FIXTURE_CONTENT)
    cards = [content.cards[i] for i in ("bias-concept", *others)]

    def keys():
        yield key
        lock = _holding_the_database(tmp_path)
        yield "u"  # not taken back: the database is busy
        lock.execute("ROLLBACK")
        lock.close()
        yield "u"
        yield "q"

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), cards)
    said = " ".join(text.split())
    assert (
        f"bias-concept is still {undone}: the review database is busy: another studycli "
        "command (or another program) kept it locked for 0.2 s; press u again to try again" in said
    ), said
    assert f"un{undone}: bias-concept is back" in said
    assert _kept_out(tmp_path) == (set(), set()) and "interrupted" not in text


def test_an_undo_the_database_is_too_busy_for_says_u_tries_again(tmp_path, monkeypatch):
    """`u` while another command holds the database past the wait: the session said "cannot
    undo: ... let that one finish and run the command again", a command's advice, in a
    session (an audit). It says the rating is not undone yet and that `u` tries again, as a
    rating the database was too busy for says; `u` again undoes it."""
    from studycli.study import busy

    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.2)
    content = load_content(FIXTURE_CONTENT)
    cards = [content.cards[i] for i in ("bias-concept", "poisson-concept")]

    def keys():
        yield " "
        yield "3"
        lock = _holding_the_database(tmp_path)
        yield "u"  # not undone: the database is busy
        lock.execute("ROLLBACK")
        lock.close()
        yield "u"
        yield "q"

    pressed = keys()
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), cards)
    said = " ".join(text.split())
    assert (
        "bias-concept Good is not undone yet: the review database is busy: another studycli "
        "command (or another program) kept it locked for 0.2 s; press u again to try again, "
        "or q to quit" in said
    ), said
    assert "run the command again" not in said
    assert "undone: bias-concept is back as it was" in said and reviews == []


def _disk_full_error():
    """A real SQLite error for a full disk (a database at its page limit says the same)."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA max_page_count = 2")
    try:
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("no error")


def test_a_rating_a_full_disk_stops_keeps_the_card_to_rate_again(tmp_path, monkeypatch):
    """A full disk as the rating is saved: the session ended with an error (exit 1), where a
    busy database keeps the card on screen to try again; and the error said "nothing was
    lost: the last rating that showed is saved" (a helper's review)."""
    from studycli.study import sqlite_errors
    from studycli.study.api import Study

    rate, failed = Study.rate, []

    def rate_once_full(self, *args, **kwargs):
        if not failed:
            failed.append(True)
            raise sqlite_errors.explain(self.store.path, _disk_full_error())
        return rate(self, *args, **kwargs)

    monkeypatch.setattr(Study, "rate", rate_once_full)
    content = load_content(FIXTURE_CONTENT)
    pressed = iter([" ", "3", "3", "q"])
    summary, reviews, text = _run_keys(tmp_path, lambda: next(pressed), [content.get("add-one")])
    said = " ".join(text.split())
    assert (
        f"Good was not saved: the disk holding {tmp_path / 'db.sqlite3'} is full; press 3" in said
    )
    assert [(r.card_id, r.rating) for r in reviews] == [("add-one", 3)] and failed


def test_ctrl_c_during_a_check_stops_the_check_not_the_session(session, tmp_path):
    """An attempt that loops: Ctrl-C stops its check at once and the card stays on screen
    (it ended the whole session, and the check ran on to its time limit)."""
    from .test_check_solve import called_at, loops_marking

    session.config.write_text("enable_fuzzing = false\ncheck_timeout = 30\n")
    looping, mark = tmp_path / "loops.py", tmp_path / "called"
    looping.write_text(loops_marking(mark))
    child = session(EDITOR=f"cp {looping}")
    child.expect(FRONT)
    child.send("s")
    child.expect("checking")
    called_at(mark)  # the loop has started
    started = time.monotonic()
    child.sendintr()
    child.expect("stopped: Ctrl-C pressed; the check did not finish", timeout=10)
    assert time.monotonic() - started < 10  # not the check's 30 s limit
    child.send(" ")  # the card is still there: its answer shows
    child.expect("Again")
    child.send("q")
    child.expect(pexpect.EOF)
    out = child.before or ""
    assert "interrupted" not in out and "Traceback" not in out


def test_a_rating_refused_for_a_clock_behind_the_log_is_said_and_the_card_left(tmp_path):
    """The clock behind the card's last review (an Again at 10:00; the session at 09:50 shows
    the card early, its step due within the learn-ahead window): the session said every key
    "was rated in another session" (any review after the card was shown counted as one) and
    showed the card again, forever. Now `rate`'s refusal is said once, nothing is written,
    and the card is left for this session."""
    from fsrs import Rating

    from studycli.study.api import Study
    from studycli.study.settings import Settings

    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        study.rate(card, Rating.Again, NOW)
    earlier = NOW - timedelta(minutes=10)
    pressed = iter(" 3 3 3q")
    summary, reviews, text = _run_keys(
        tmp_path, lambda: next(pressed), [card], clock=lambda: earlier
    )
    assert "another session" not in text
    said = " ".join(text.split())
    assert said.count("after this machine's time now") == 1, text
    assert "Nothing more is due now" in text, text
    assert [r.rating for r in reviews] == [1] and summary.reviewed == 0


def test_a_key_typed_while_a_coding_cards_worker_starts_is_neither_echoed_nor_lost(session):
    """The session read keys in cbreak mode only from its first key read, after the first
    coding card's front was drawn and its check worker started: a key typed meanwhile was
    read in line mode, echoed onto the card, and a Ctrl-D (line mode's end of file, a NUL byte
    once in raw mode) was lost (a helper's find, making the Ctrl-D test wait). Sent the
    moment the front shows, the Ctrl-D now ends the session."""
    child = session()
    child.delaybeforesend = None  # at once: the worker starts right after the front
    child.expect(FRONT)
    child.send("\x04")
    child.expect("0 reviews", timeout=20)
    assert "^D" not in child.before  # (line mode echoes it so)
    child.expect(pexpect.EOF)


@pytest.mark.parametrize("deck", [None, "numbers"])
def test_a_session_over_the_indexs_study_rows_is_the_session_over_the_cards(
    tmp_path, content_copy, deck
):
    """`review` with no filter but the deck, the content index standing for every file,
    studies the index's study rows and makes a card only when it is shown
    (`study_view.StudyView`): the same session, key for key, as over the loaded cards (cloze
    deletions, an undo, a hint, the summary)."""
    from studycli.content.study_view import load_study_view

    _poisson_cloze(content_copy)
    for path in (content_copy / "cards").rglob("*.yaml"):
        os.utime(path, (time.time() - 3600,) * 2)
    index = tmp_path / "content.index"
    load_content(content_copy, index=index)
    view = load_study_view(content_copy, index)
    assert view is not None and any("#c" in item.id for item in view.items)
    keys = "h 3 1u 3 2 4 " + " 3" * 12 + "q"
    cards = load_content(content_copy).select(deck=deck)
    over_cards = _run_in_process(tmp_path / "cards", keys, cards=cards, root=content_copy)
    rows = view.select(deck)
    over_rows = _run_in_process(tmp_path / "rows", keys, cards=rows, root=content_copy, view=view)
    summary, reviews, text = over_rows
    assert [(r.card_id, r.rating, r.queue) for r in reviews] == [
        (r.card_id, r.rating, r.queue) for r in over_cards[1]
    ]
    # the same text but the summary's time spent, the wall clock's (1 s apart on a loaded box)
    assert _untimed(text) == _untimed(over_cards[2]) and summary.reviewed == over_cards[0].reviewed
    assert "_m __s" in _untimed(text)  # (the summary's time, as it is written)
    assert len(reviews) > 3 and any("#c" in r.card_id for r in reviews)
    assert "is back as it was" in text  # the undo brought its item back
    if deck:
        assert {r.card_id.partition("#")[0] for r in reviews} <= {c.id for c in cards}


def _untimed(text: str) -> str:
    """A session's text with its summary's time spent (`5m 02s`) left out."""
    return re.sub(r"\d+m \d\ds", "_m __s", text)


# `studycli` with the whole content's load refused: what `review` makes no use of, where the
# content index stands for every card file
NO_WHOLE_LOAD = """
import sys
import studycli.content.loader as loader
def refuse(*args, **kwargs):
    raise SystemExit("the whole content was loaded")
loader.load_content = refuse
sys.argv[0] = "studycli"
from studycli.cli import main
main()
"""


def test_review_on_an_indexed_folder_makes_no_card_it_does_not_show(session, tmp_path):
    """With no filter, once the content index stands for every file, `review` studies the
    index's study rows and makes each card as it is shown: solved, rated, undone, with a deck
    or not, the session never loads the whole content (a topic or tag filter still does)."""
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (content / "cards").rglob("*.yaml"):
        os.utime(path, (time.time() - 3600,) * 2)
    first = session(content)  # writes the index
    first.expect(FRONT)
    first.send("q")
    first.expect(pexpect.EOF)
    answer = tmp_path / "answer.py"
    answer.write_text("def add_one(x):\n    return x + 1\n")
    environment = terminal_env(
        session.db, session.config, tmp_path / "home", NOW, EDITOR=f"cp {answer}", VISUAL=""
    )

    def review(*extra: str):
        return pexpect.spawn(
            sys.executable,
            ["-c", NO_WHOLE_LOAD, "--content", str(content), "review", *extra],
            env=environment, cwd=str(REPO_ROOT), encoding="utf-8", timeout=60,
            dimensions=(50, 100),
        )  # fmt: skip

    child = review()
    child.expect(FRONT)
    child.send("s")  # add-one, a coding card: solved, its check run, rated by it
    child.expect("passed every case")
    child.expect("Enter: Good")
    child.send("\r")
    child.expect("Good: due again in")
    child.expect(FRONT)
    _rate(child, "3")
    child.expect(FRONT)
    child.send("u")
    child.expect("is back as it was")
    child.expect(FRONT)
    child.send("q")
    child.expect("1 review ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    deck = review("--deck", "basics")  # (the study rows carry the deck)
    deck.expect(FRONT)
    deck.send("q")
    deck.expect(pexpect.EOF)
    deck.close()
    assert deck.exitstatus == 0
    filtered = review("--topic", "bias")
    filtered.expect(pexpect.EOF)
    filtered.close()
    assert "the whole content was loaded" in filtered.before and filtered.exitstatus == 1


def test_a_coding_card_revealed_and_rated_by_hand_is_logged_self_rated_as_the_readme_says(
    tmp_path,
):
    """README's opening said of coding cards that "the outcome becomes the rating", but one
    can be revealed with Enter and rated without running any code (deliberate: the learner who
    answered on paper). The log says which, and so does the README now."""
    add_one = load_content(FIXTURE_CONTENT).get("add-one")
    summary, reviews, text = _run_in_process(tmp_path, " 3q", cards=[add_one])
    assert [(r.card_id, r.rating, r.method) for r in reviews] == [("add-one", 3, "self")]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    opening = " ".join(readme.split("## Quick start")[0].split())
    assert "when you run your answer, the check's outcome becomes the rating" in opening
    assert "reveal the answer and rate yourself, and the log says so" in opening


def test_a_settings_path_wider_than_the_terminal_stays_whole_at_the_sessions_end(
    tmp_path, monkeypatch
):
    """The session's last line names the settings file where a day's limit holds cards back;
    on a terminal narrower than its path, Rich's wrap cut the path at the width (a copy of it
    pasted in two). Wrapped at words, the path whole on a line of its own."""
    from rich.console import Console

    from studycli.cli.review_session import ReviewSession
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    config = tmp_path / ("a-settings-folder-with-a-long-name-" * 2) / "settings.toml"
    monkeypatch.setenv("STUDYCLI_CONFIG", str(config))
    content = load_content(FIXTURE_CONTENT)
    cards = [content.get("bias-concept"), content.get("poisson-concept")]
    console = Console(record=True, width=50, force_terminal=True, color_system=None)
    pressed = iter(" 4")
    settings = Settings(enable_fuzzing=False, new_per_day=1)
    with Study.open(tmp_path / "db.sqlite3", settings) as study:
        ReviewSession(console, study, content, cards, clock=lambda: NOW,
                      getkey=pressed.__next__, tz=UTC).run()  # fmt: skip
    lines = console.export_text().splitlines()
    assert len(str(config)) > 50 and any(str(config) in line for line in lines), lines


def test_a_new_coding_cards_contract_is_made_with_its_front_not_at_its_rating(
    tmp_path, content_copy, monkeypatch
):
    """The first rating of a coding card records its contract (its starter's and checker's
    hashes), which was made then, on the cache's miss: 20-90 ms of parsing and tokenising its
    solution module on the 2-core box, between the learner's key and the next card. It is
    made once the card's front is on screen, while the learner reads it."""
    from rich.console import Console

    from studycli.check import solve
    from studycli.cli import review_session
    from studycli.content import contract, index
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    monkeypatch.setattr(index, "RACY_NS", 0)  # (the copy's modules were just written: kept)
    monkeypatch.setattr(solve, "warm_up", lambda *args: None)  # (no worker: nothing is run)
    phase = ["start"]
    made: list[str] = []
    real = contract.contract_hash
    monkeypatch.setattr(
        contract, "contract_hash", lambda *args: made.append(phase[0]) or real(*args)
    )
    show_front = review_session.ReviewSession._show_front

    def front(self, card):
        phase[0] = "front"
        show_front(self, card)
        phase[0] = "read"  # the front on screen: the learner reads it, then reveals and rates

    monkeypatch.setattr(review_session.ReviewSession, "_show_front", front)
    content = load_content(content_copy)
    card = content.get("add-one")
    keys = iter(" 3q")
    with Study.open(
        tmp_path / "db.sqlite3",
        Settings(enable_fuzzing=False),
        solutions_dir=content.solutions_dir,
    ) as study:
        review_session.ReviewSession(
            Console(record=True, width=100, color_system=None),
            study,
            content,
            [card],
            clock=lambda: NOW,
            getkey=lambda: next(keys, "q"),
        ).run()
        (review,) = study.history()
    assert review.content_hash == f"{card.content_hash}+{real(card, content.solutions_dir)}"
    assert made == ["front"]  # once, with the front, and not again at the rating


def test_a_coding_card_rated_by_hand_after_hints_names_them_under_its_keys(tmp_path):
    """A coding card's answer shown with Enter is the learner's to rate (answered on paper),
    where a pass after hints is Hard by default in `s` and `solve`: the hints taken before the
    answer were said nowhere, and a Good after both hints read as a first try. They are named
    under its keys; the rating stays the learner's, as it is after a pass in `solve`."""
    add_one = load_content(FIXTURE_CONTENT).get("add-one")
    _, reviews, text = _run_in_process(tmp_path / "hints", "hh 3q", cards=[add_one])
    said = " ".join(text.split())
    assert "2 hints seen first: s and solve grade a pass after hints Hard" in said, said
    assert [(r.rating, r.method) for r in reviews] == [(3, "self")]
    _, _, text = _run_in_process(tmp_path / "none", " h3q", cards=[add_one])  # (a hint after)
    assert "seen first" not in text, text
