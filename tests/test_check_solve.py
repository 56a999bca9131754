"""`solve`: attempt files, the editor, and the check with its time and memory limits; the
outcome becomes the rating (a first-try pass -> Good, a pass after hints or failed runs ->
Hard, anything else -> Again; in a terminal the learner may pick 2, 3 or 4)."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from studycli.check import solve, starters
from studycli.check.editor import editor_command, open_editor
from studycli.check.failing_case import FailingCase, failing_case
from studycli.check.runner import Outcome
from studycli.cli.solve_flow import WINDOW_EDITOR
from studycli.content.loader import load_content
from studycli.errors import StudyError
from studycli.paths import attempts_dir

from .conftest import EDITOR_UNTIL_CTRL_C, FIXTURE_CONTENT, ignoring_ctrl_c, reading_keys
from .study_support import fixture_content

CORRECT = "def add_one(x):\n    return x + 1\n"
WRONG = "def add_one(x):\n    return x + 2\n"
LOOPS = "def add_one(x):\n    while True:\n        pass\n"
HOGS = (
    "def add_one(x):\n    blocks = []\n    while True:\n"
    "        blocks.append(bytearray(32 * 1024 * 1024))\n"
)


def loops_marking(mark: Path) -> str:
    """An attempt that loops for ever once it has written to `mark` the time its check called
    it, by the monotonic clock (one clock for every process of the machine): a test waits for
    that file rather than for a time it guesses the check takes to start, which on a loaded
    machine (torch imported by the check's worker) it did not."""
    return (
        "import time\n\n"
        "def add_one(x):\n"
        f"    with open({str(mark)!r}, 'w') as mark:\n"
        "        mark.write(repr(time.monotonic()))\n"
        "    while True:\n"
        "        pass\n"
    )


def called_at(mark: Path, process=None) -> float:
    """When the check called the attempt of `loops_marking(mark)`, once it has (waited for, up
    to a minute; `process`, the command that runs the check, must not end first)."""
    deadline = time.monotonic() + 60
    while not (mark.exists() and mark.read_text()):
        assert time.monotonic() < deadline, "the check never called the attempt"
        assert process is None or process.poll() is None, "the command ended before its check"
        time.sleep(0.02)
    return float(mark.read_text())


@pytest.fixture
def attempt(tmp_path):
    def write(text: str):
        path = tmp_path / "attempt.py"
        path.write_text(text)
        return path

    return write


def _history(cli):
    return json.loads(cli("--content", FIXTURE_CONTENT, "history", "--json").stdout)


def test_a_correct_attempt_passes_and_records_good(cli, attempt):
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    assert result.exit_code == 0, result.output
    assert "passed" in result.stdout and "recorded Good" in result.stdout
    [entry] = _history(cli)
    assert (entry["card"], entry["rating"], entry["method"], entry["check_status"]) == (
        "add-one",
        3,
        "check",
        "pass",
    )


def test_a_rating_at_a_time_before_the_cards_last_review_is_refused(cli, attempt, monkeypatch):
    """A clock behind the log (a hand-set clock, a restored snapshot): the rating would be
    replayed before the card's last review, and the state stored then was not the log's (the
    doctor found drift after normal use). It is refused, said, and nothing is written."""
    solved = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    assert solved.exit_code == 0, solved.output
    last = _history(cli)[0]["reviewed_at"]
    monkeypatch.setenv("STUDYCLI_NOW", "2020-01-01T09:00:00+00:00")
    behind = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    said = " ".join(behind.stderr.split())
    assert behind.exit_code == 1 and "passed" in behind.stdout
    assert "not saved: add-one was last reviewed at" in said and "clock" in said
    assert [entry["reviewed_at"] for entry in _history(cli)] == [last]
    assert "every stored card state matches" in cli("--content", FIXTURE_CONTENT, "doctor").stdout


def test_a_solve_records_nothing_where_another_rated_the_card_while_it_ran(
    cli, attempt, monkeypatch
):
    """Two terminals solving one card: both passes were recorded, seconds apart, the second
    counting a review of a card just reviewed (a review session refuses that). The later one
    says so and records nothing; the attempt stays where it is."""
    from studycli.cli import solve_flow

    checked, calls = solve_flow.check, []

    def check_while_another_terminal_rates(*args, **kwargs):
        outcome = checked(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # the other terminal's solve, while this one's check ran
            other = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", args[3])
            assert other.exit_code == 0 and "recorded Good" in other.stdout, other.output
        return outcome

    monkeypatch.setattr(solve_flow, "check", check_while_another_terminal_rates)
    path = attempt(CORRECT)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", path)
    said = " ".join(result.stdout.split())
    assert "not recorded: add-one was rated Good in another session while this solve ran" in said
    assert [entry["rating"] for entry in _history(cli)] == [3] and path.exists()


def test_a_wrong_attempt_fails_shows_the_failing_case_and_records_again(cli, attempt):
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(WRONG))
    assert result.exit_code == 1
    out = result.stdout
    assert "failed" in out and "add_one(-3)" in out
    assert "expected" in out and "-2" in out and "actual" in out and "-1" in out
    assert _history(cli)[0]["rating"] == 1


def test_an_attempt_stopped_at_a_breakpoint_is_told_so(cli, attempt):
    """A breakpoint() left in an attempt quits in the check (the debugger reads the end of its
    input): the failure said "raised BdbQuit: " and nothing after it."""
    stops = "def add_one(x):\n    breakpoint()\n    return x + 1\n"
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(stops))
    assert result.exit_code == 1, result.output
    said = " ".join(result.stdout.replace("│", " ").split())
    assert "raised BdbQuit: a breakpoint() (or pdb.set_trace()) stopped the answer" in said


# Many small maps at once: the system's limit on a process's mappings (vm.max_map_count, 65,530
# by default) refuses them long before the memory cap (1024 MB: 65,530 pages are 256 MB). Kept
# in a list as the failure is described, they are counted; kept only inside a comprehension,
# they are gone by then, and the check's peak size says only that either limit may have been met
MAPS_SMALL_PAGES = (
    "import mmap\n\n"
    "def add_one(x):\n"
    "    kept = []\n"
    "    for _ in range(1_000_000):\n"
    "        kept.append(mmap.mmap(-1, 4096))\n"
    "    return x + 1\n"
)
MAPS_SMALL_PAGES_IN_A_COMPREHENSION = (
    "import mmap\n\n"
    "def add_one(x):\n"
    "    kept = [mmap.mmap(-1, 4096) for _ in range(1_000_000)]\n"
    "    return x + 1\n"
)


@pytest.mark.skipif(not Path("/proc/sys/vm/max_map_count").exists(), reason="Linux's limit")
@pytest.mark.parametrize(
    "source, words",
    [
        (MAPS_SMALL_PAGES, "Cannot allocate memory (ran out of memory mappings, not memory: "),
        (
            MAPS_SMALL_PAGES_IN_A_COMPREHENSION,
            "Cannot allocate memory (ran out of memory (the limit is 1024 MB), or of memory "
            "mappings (the system lets a process hold ",
        ),
    ],
    ids=["kept", "in a comprehension"],
)
def test_an_attempt_out_of_memory_mappings_is_told_so_not_only_the_memory_cap(
    cli, attempt, source, words
):
    """mmap's ENOMEM comes from the memory cap or from the system's limit on a process's
    mappings; an attempt that made 65,530 small maps (256 MB) was told it had run out of
    memory, "the limit is 1024 MB", and looked for what took a gigabyte. It is told which
    limit it met, or that it may be either, and recorded as a failure, the database whole."""
    import sqlite3

    from studycli.paths import database_path

    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(source))
    said = " ".join(result.stdout.replace("│", " ").split())
    assert result.exit_code == 1, result.output
    assert words in said and "vm.max_map_count" in said, said
    assert _history(cli)[0]["rating"] == 1
    with contextlib.closing(sqlite3.connect(database_path())) as database:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


# the command a failed solve of the fixture's content says (its --content kept: see below)
SOLVE = f"studycli --content {FIXTURE_CONTENT.resolve()} solve"


def test_a_solve_that_fails_says_where_the_attempt_stays_and_how_to_check_it_again(cli, attempt):
    """A failure ended at "recorded Again: due again in 1m", exit status 1: a newcomer knew
    neither that the attempt was kept nor the command that tries it again. It is said as the
    solve was given: with --file, --no-edit, or neither (the editor opens it again)."""
    given = attempt(WRONG)
    failed = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", given)
    assert failed.exit_code == 1
    assert f"`{SOLVE} add-one --file {given}` checks it again" in failed.stdout
    attempts_dir().mkdir(parents=True, exist_ok=True)
    (attempts_dir() / "add-one.py").write_text(WRONG)
    mine = attempts_dir() / "add-one.py"
    failed = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    assert failed.exit_code == 1
    said = f"your attempt stays in {mine}: `{SOLVE} add-one --no-edit` checks it again"
    assert said in failed.stdout, failed.stdout
    passed = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    assert passed.exit_code == 0 and "again" not in passed.stdout.replace("due again", "")


def test_the_command_that_checks_an_attempt_again_keeps_its_db(cli, attempt, tmp_path):
    """A solve given --db said the command that checks the attempt again without it: pasted,
    it recorded in the default review database, not the one this solve records in. It keeps
    --db as given, as --content; one from STUDYCLI_DB is not named (the environment has it)."""
    db = tmp_path / "other reviews.sqlite3"
    given = attempt(WRONG)
    failed = cli("--content", FIXTURE_CONTENT, "--db", db, "solve", "add-one", "--file", given)
    assert failed.exit_code == 1
    solve = f"studycli --content {FIXTURE_CONTENT.resolve()} --db '{db}' solve"
    assert f"`{solve} add-one --file {given}` checks it again" in failed.stdout, failed.stdout
    from_env = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", given)
    assert f"`{SOLVE} add-one --file {given}` checks it again" in from_env.stdout


def test_the_command_that_checks_an_attempt_again_works_from_another_folder(
    cli, tmp_path, monkeypatch
):
    """A solve given a relative --db or --file said them as typed: pasted after a `cd`, the
    command checked no attempt, or recorded into another database (`reviews.sqlite3` there).
    Each path is said absolute and quoted for a shell, --content too; the command said, run
    from another folder, checks the same attempt and records in the same database."""
    import shlex
    import shutil

    work = tmp_path / "my work"  # (a space: the command is pasted into a shell)
    shutil.copytree(FIXTURE_CONTENT, work / "content")
    (work / "try it.py").write_text(WRONG)
    monkeypatch.chdir(work)
    args = ("--content", "content", "--db", "my reviews.sqlite3", "solve", "add-one")
    failed = cli(*args, "--file", "try it.py")
    assert failed.exit_code == 1, failed.output
    [said] = re.findall(r"`(studycli [^`]*)` checks it again", failed.stdout)
    here = work.resolve()
    content, db, given = (shlex.quote(str(here / name)) for name in args[1:4:2] + ("try it.py",))
    assert said == f"studycli --content {content} --db {db} solve add-one --file {given}", said
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    again = cli(*shlex.split(said)[1:])
    assert again.exit_code == 1 and f"`{said}` checks it again" in again.stdout, again.output
    assert not (tmp_path / "elsewhere" / "my reviews.sqlite3").exists()
    history = cli("--content", FIXTURE_CONTENT, "--db", here / args[3], "history", "--json")
    assert [entry["rating"] for entry in json.loads(history.stdout)] == [1, 1]


def test_the_command_that_checks_a_failed_attempt_again_keeps_its_options(cli, attempt):
    """The command said after a failure dropped --no-record, --timeout and --memory: pasted,
    a solve given --no-record (practice) recorded Again in the learner's history, and one
    given a longer time limit ran out of the default one."""
    given = attempt(WRONG)
    options = ("--timeout", "30", "--memory", "512", "--no-record")
    failed = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", given, *options)
    assert failed.exit_code == 1
    said = f"`{SOLVE} add-one --file {given} --timeout 30 --memory 512 --no-record`"
    assert said in failed.stdout, failed.stdout
    attempts_dir().mkdir(parents=True, exist_ok=True)
    (attempts_dir() / "add-one.py").write_text(WRONG)
    failed = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit", "--no-record")
    assert failed.exit_code == 1
    assert f"`{SOLVE} add-one --no-edit --no-record` checks it again" in failed.stdout
    assert _history(cli) == []


def test_the_command_that_checks_a_failed_attempt_again_names_the_content_given(
    cli, attempt, tmp_path, monkeypatch
):
    """`studycli --content DIR solve ...` failed, and the command it said to check the attempt
    again left --content out: pasted elsewhere, it did not find the card. The folder given on
    the command line is named (whole, quoted for a shell); one from STUDYCLI_CONTENT is not."""
    import shlex
    import shutil

    mine = tmp_path / "my content"  # (a space: the command is pasted into a shell)
    shutil.copytree(FIXTURE_CONTENT, mine)
    given = attempt(WRONG)
    failed = cli("--content", mine, "solve", "add-one", "--file", given)
    assert failed.exit_code == 1
    said = f"`studycli --content {shlex.quote(str(mine.resolve()))} solve add-one --file {given}`"
    assert said in failed.stdout, failed.stdout
    monkeypatch.setenv("STUDYCLI_CONTENT", str(mine))
    failed = cli("solve", "add-one", "--file", given)
    assert failed.exit_code == 1
    assert f"`studycli solve add-one --file {given}` checks it again" in failed.stdout


def test_an_attempt_that_does_not_compile_records_nothing(cli, attempt):
    """A missing colon recorded Again (a QA pass): a typo is no failed recall. Its syntax error
    is shown, nothing is recorded, and the exit status is a failure's."""
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt("def add_one(x)\n")
    )
    assert result.exit_code == 1 and "SyntaxError" in result.stdout
    said = " ".join(result.stdout.split())
    assert "not recorded: the attempt does not compile mend it, then" in said
    assert _history(cli) == []


def test_an_attempt_that_defines_no_such_function_records_nothing(cli, attempt):
    """An answer written under another name (a typo in it) recorded Again, as a missing colon
    once did (a new learner's first hour): its check never called the answer, so it is no
    failed recall. What it defines instead is said, nothing is recorded, and the exit status
    is a failure's. It is said once, in one line naming the function the card wants and those
    the attempt defines: a failure's panel said it, and the line under it said "the attempt
    defines no function add_one" again."""
    result = cli(
        "--content",
        FIXTURE_CONTENT,
        "solve",
        "add-one",
        "--file",
        attempt("def add_on(x):\n    return x + 1\n\n\ndef helper():\n    pass\n"),
    )
    lines = result.stdout.splitlines()
    assert result.exit_code == 1 and "✗ failed" not in result.stdout, result.stdout
    [named] = [line for line in lines if "defines no function" in line]
    assert named.startswith("✗ ") and named.endswith(
        "attempt.py defines no function 'add_one': it defines add_on and helper instead; "
        "name the answer add_one"
    ), named
    assert "not recorded: its answer was never called" in lines
    assert any(line.startswith("mend it, then `") for line in lines), lines
    assert _history(cli) == []


def test_solves_sentences_are_one_line_each_piped(cli, attempt, monkeypatch):
    """Piped, `solve`'s sentences were broken by Rich at the width (80 columns, or COLUMNS):
    a misnamed answer's "not recorded: ... fix it and check it" ended one line and "again"
    began the next, at 80 columns for a card whose function's name has 8 letters or more
    (`rope`'s apply_rope); so was the warning of an editor that returned at once (179
    characters, with `code`). A script reads each whole, as every other sentence piped
    (`print_prose`); COLUMNS=40 breaks the fixture card's lines as 80 broke those."""
    monkeypatch.setenv("COLUMNS", "40")
    answer = attempt("def add_on(x):\n    return x + 1\n")
    misnamed = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    said = "not recorded: its answer was never called"
    assert said in misnamed.stdout.splitlines(), misnamed.stdout
    assert any(line.endswith("; name the answer add_one") for line in misnamed.stdout.splitlines())
    editor = f'{sys.executable} -c "pass"'
    monkeypatch.setenv("EDITOR", editor)
    monkeypatch.delenv("VISUAL", raising=False)
    at_once = cli("--content", FIXTURE_CONTENT, "solve", "add-one").stdout.splitlines()
    warning = WINDOW_EDITOR.format(command=" ".join(editor_command() or ()))
    assert warning in at_once, at_once
    assert "not recorded: the attempt is still the starter (write your answer first)" in at_once


def test_the_checking_line_is_one_line_piped(cli, attempt, monkeypatch):
    """Piped, "checking FILE (limit 10 s, 1024 MB) ..." was broken by Rich at the width: at 80
    columns for a card id of 40 characters or more; COLUMNS=40 breaks the fixture card's."""
    monkeypatch.setenv("COLUMNS", "40")
    answer = attempt(CORRECT)
    said = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer).stdout
    assert "checking attempt.py (limit 10 s, 1024 MB) ..." in said.splitlines(), said


def test_an_attempt_that_raises_the_missing_function_error_itself_is_a_failure(cli, attempt):
    """The check's report said an attempt missed the card's function wherever the error that
    says so came from: one whose own code raised it as it was imported (it defines add_one)
    was called misnamed, "not recorded: the attempt defines no function add_one". Only the
    check's own look for the function says so; the attempt's raise is its failure (Again)."""
    code = (
        "from studycli.check.loading import NoAnswerFunction\n\n\n"
        "def add_one(x):\n    return x + 2\n\n\nraise NoAnswerFunction('not mine')\n"
    )
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(code))
    said = " ".join(result.stdout.split())
    assert result.exit_code == 1 and "not mine" in said
    assert "defines no function" not in said and "recorded Again" in said
    assert [entry["rating"] for entry in _history(cli)] == [1]


def test_a_syntax_error_shows_its_line_and_where_in_it(cli, attempt, monkeypatch):
    """ "SyntaxError: '(' was never closed (attempt.py, line 2)" and nothing more, where a
    runtime error shows the file's line, and Python shows the line with a caret (a QA pass)."""
    monkeypatch.setenv("COLUMNS", "250")  # (the file's path on one line)
    path = attempt("def add_one(x):\n    return max(x + 1, x\n")
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", path, "--no-record")
    assert result.exit_code == 1
    lines = [line.strip("│ ").rstrip() for line in result.stdout.splitlines()]
    assert "SyntaxError: '(' was never closed (attempt.py, line 2)" in lines
    at = lines.index("return max(x + 1, x")
    assert lines[at + 1] == "^", lines
    # the file's line just above, its path wrapped wherever the panel is narrower than it (a
    # long temporary folder: pytest-xdist's popen-gw0/ took it past the panel's 100 columns)
    assert "".join(lines[:at]).replace(" ", "").endswith(f'File"{path}",line2'), lines


def test_a_failed_checks_panel_is_as_wide_as_the_cards_panels_at_200_columns(
    cli, attempt, monkeypatch
):
    """At 200 columns a failure's panel filled the terminal while the card's panels above it
    (the question, a hint: `render.TEXT_WIDTH`) stop at 100, in `solve` and a review's `s`."""
    import io

    from rich.console import Console

    from studycli.cli import render

    monkeypatch.setenv("COLUMNS", "200")
    path = attempt("def add_one(x):\n    raise ValueError('not today')\n")
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", path, "--no-record")
    assert result.exit_code == 1 and "not today" in result.stdout
    failure = [line for line in result.stdout.splitlines() if line.startswith(("╭", "│", "╰"))]
    question = Console(file=io.StringIO(), width=200, record=True)
    question.print(render.prompt(fixture_content().get("add-one")))
    card_box = question.export_text().splitlines()
    assert failure and {len(line) for line in failure} == {len(card_box[0])}, failure
    assert len(card_box[0]) < 200


def test_a_syntax_errors_caret_is_under_the_mistake_after_wide_characters(cli, attempt):
    """Python puts the caret by characters: after "中文" (four columns, two characters) it
    stood two columns short of the mistake, under the space before `*`."""
    path = attempt('def add_one(x):\n    s = "中文" + * 2\n')
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", path, "--no-record")
    lines = [line.removeprefix("│").removesuffix("│") for line in result.stdout.splitlines()]
    source = next(line for line in lines if "中文" in line)
    caret = lines[lines.index(source) + 1]
    assert caret.strip() == "^", lines
    columns = source.index("*") + source[: source.index("*")].count("中") + source.count("文")
    assert len(caret) - len(caret.lstrip()) == columns, (source, caret)


def test_what_the_attempt_prints_reaches_the_terminal_as_text_not_as_control(
    cli, attempt, monkeypatch
):
    """Escape sequences an attempt prints or raises (clear the screen, the alternate screen,
    the window's title) are shown written out, a progress bar as its last state, and a
    traceback wraps rather than losing its line number off the edge of 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    noisy = attempt(
        "import sys\n"
        "def add_one(x):\n"
        '    sys.stdout.write("\\x1b[2J\\x1b[?1049h\\x1b]0;HACKED\\x07\\n 10%\\r 100%\\n")\n'
        '    raise ValueError("\\x1b[?25l hidden cursor")\n'
    )
    deep = noisy.parent / ("a-folder-name-long-enough-to-push-the-line-number-away" * 2)
    deep.mkdir()
    moved = noisy.rename(deep / noisy.name)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", moved, "--no-record")
    assert result.exit_code == 1
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out  # no control character at all
    assert "\\x1b[2J\\x1b[?1049h\\x1b]0;HACKED\\x07" in out
    assert "100%" in out and "10%" not in out
    assert "\\x1b[?25l hidden cursor" in out
    assert "line 4" in " ".join(out.replace("│", " ").split())


def test_a_lone_surrogate_the_attempt_raises_is_written_out_not_a_crash():
    """A lone surrogate in what an attempt raises (a file name that os.listdir decoded with
    surrogateescape, put into a message) ended `solve`, and a review session, with a
    UnicodeEncodeError traceback as the outcome was printed to a UTF-8 terminal."""
    import io

    from rich.console import Console

    from studycli.cli.check_outcome import outcome_view

    outcome = Outcome(
        "fail",
        "add_one(1): raised ValueError: no file caf\udce9.csv",
        0.1,
        traceback='  File "attempt.py", line 2, in add_one\n    raise ValueError(name)\n',
        output="listing caf\udce9.csv\n",
    )
    terminal = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # (errors: strict, as a tty's)
    Console(file=terminal, width=100).print(outcome_view(outcome))
    terminal.flush()
    shown = terminal.buffer.getvalue().decode("utf-8")
    assert shown.count("caf\\udce9.csv") == 2, shown


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_what_an_attempt_prints_does_not_depend_on_the_terminals_encoding(
    attempt, tmp_path, encoding
):
    """A correct attempt that prints a check mark passes whatever the locale: its output is
    the check's, written as UTF-8 to the pipe the command reads (the worker's stdout kept the
    terminal's encoding: UnicodeEncodeError, the check failed and the review was Again)."""
    import os
    import subprocess

    path = attempt('def add_one(x):\n    print("mean ✓ μ")\n    return x + 1\n')
    out = subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve",
         "add-one", "--file", str(path), "--no-record"],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": encoding, "STUDYCLI_HOME": str(tmp_path / "h")},
    )  # fmt: skip
    shown = out.stdout.decode(encoding)
    assert out.returncode == 0, shown + out.stderr.decode(encoding)
    assert "passed" in shown


def test_what_an_attempt_printed_before_it_died_is_shown(cli, attempt):
    """A print, then os._exit (or a crash in native code, or the kill at the time limit): the
    line printed is the learner's clue, and it was lost in the stream's buffer."""
    dying = attempt(
        "import os\ndef add_one(x):\n    print('debug: before the exit')\n    os._exit(3)\n"
    )
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", dying, "--no-record")
    assert result.exit_code == 1 and "debug: before the exit" in result.stdout, result.stdout


def test_a_flood_of_output_is_shown_from_a_whole_line_after_how_many_were_left_out(cli, attempt):
    """An attempt that printed 200,000 lines: its "your output" panel began in a line's middle
    ("line 199882" of "spam line 199882") and nothing said that earlier output was left out."""
    flood = "def add_one(x):\n    for i in range(200_000):\n        print(f'spam line {i}')\n"
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(flood + "    return x\n"),
        "--no-record",
    )  # fmt: skip
    assert result.exit_code == 1 and "your output" in result.stdout
    panel = [line.strip("│ ") for line in result.stdout.splitlines()]
    start = next(i for i, line in enumerate(panel) if line.startswith("╭─ your output")) + 1
    said = panel[start]
    assert said.startswith("… ") and said.endswith(" earlier lines not shown"), result.stdout
    left_out = int(said.split()[1].replace(",", ""))
    shown = panel[start + 1 : panel.index("spam line 199999") + 1]
    assert shown == [f"spam line {i}" for i in range(left_out, 200_000)]  # whole, none lost
    assert 50 < len(shown) < 200


def test_no_record_leaves_the_log_alone(cli, attempt):
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--no-record", "--file", attempt(CORRECT)
    )
    assert result.exit_code == 0
    assert _history(cli) == []


def test_a_database_the_rating_cannot_go_to_is_said_before_the_check(cli, attempt):
    """The check ran (and the learner's work was done) before the rating failed to be saved:
    now the database is opened, as a writer, first. With --no-record it is not needed."""
    from studycli.paths import database_path

    from .test_study_database import rated_database, unwritable

    rated_database(database_path())
    with unwritable(database_path()):
        refused = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
        assert refused.exit_code == 1
        assert "cannot write the review database" in " ".join(refused.stderr.split())
        assert "checking" not in refused.stdout and "passed" not in refused.stdout
        unrecorded = cli(
            "--content", FIXTURE_CONTENT, "solve", "add-one", "--no-record",
            "--file", attempt(CORRECT),
        )  # fmt: skip
        assert unrecorded.exit_code == 0 and "passed" in unrecorded.stdout


def test_an_attempt_that_removes_the_database_is_not_recorded_into_a_new_one(cli, attempt):
    """An attempt that deleted the review database (and its -wal) as it was imported: `solve`
    said "recorded Good" into a new, empty database made in its place, and nothing said the
    history was gone (a hostile-attempt pass)."""
    from studycli.paths import database_path

    from .test_study_database import rated_database

    database = database_path()
    rated_database(database)
    removes = (
        "import os\n"
        f"for suffix in ('', '-wal', '-shm'):\n"
        f"    if os.path.exists({str(database)!r} + suffix):\n"
        f"        os.remove({str(database)!r} + suffix)\n\n" + CORRECT
    )
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(removes))
    assert result.exit_code == 1 and "passed" in result.stdout
    said = " ".join(result.stderr.split())
    assert f"{database} was removed or replaced while studycli had it open" in said, said
    assert "recorded" not in result.stdout and not database.exists()


@pytest.fixture
def busy_after_the_check(monkeypatch):
    """Another process (an import of a large log) takes the database's write lock while the
    check runs and keeps it past the wait (shortened to 0.2 s); `release()` ends it."""
    import sqlite3

    from studycli.cli import solve_flow
    from studycli.paths import database_path
    from studycli.study import busy

    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.2)
    held: list[sqlite3.Connection] = []
    real_check = solve_flow.check

    def check_then_lock(*args, **kwargs):
        outcome = real_check(*args, **kwargs)
        lock = sqlite3.connect(database_path(), isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        held.append(lock)
        return outcome

    monkeypatch.setattr(solve_flow, "check", check_then_lock)

    class Busy:
        @staticmethod
        def release() -> None:
            for lock in held:
                lock.execute("ROLLBACK")
                lock.close()
            held.clear()

    yield Busy
    Busy.release()


def test_a_rating_the_busy_database_refuses_says_how_to_record_it(
    cli, attempt, busy_after_the_check
):
    """No terminal to ask on: the error says the rating was not recorded and the command that
    records it once the database is free (it said only to run the command again)."""
    answer = attempt(CORRECT)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    assert result.exit_code == 1 and "passed" in result.stdout
    said = " ".join(result.stderr.split())
    assert "Good was not recorded: the review database is busy" in said
    assert f"{SOLVE} add-one --no-edit --file {answer}" in said  # (--content, as given)
    busy_after_the_check.release()
    assert _history(cli) == []


@pytest.mark.parametrize(
    "limit, why, room",
    [
        (None, "the disk holding", "is full; free some space"),
        (49_152, "the file-size limit (`ulimit -f`) of 49,152 bytes stopped a file growing",
         "growing; raise the limit (`ulimit -f unlimited`)"),
    ],
)  # fmt: skip
def test_a_rating_a_full_disk_refuses_says_how_to_record_it(
    cli, attempt, monkeypatch, limit, why, room
):
    """The error said "nothing was lost: the last rating that showed is saved", of a passed
    check that was not recorded, and gave no way to record it (a helper's review). Stopped by
    a file-size limit it said "once there is room", where room was there and the limit was
    what to raise (`review` names the limit): each says its own fix, then the command."""
    from studycli.study import sqlite_errors
    from studycli.study.api import Study

    from .test_cli_review_session import _disk_full_error

    def full(self, *args, **kwargs):
        raise sqlite_errors.explain(self.store.path, _disk_full_error())

    monkeypatch.setattr(Study, "rate", full)
    monkeypatch.setattr(sqlite_errors, "file_size_limit", lambda: limit)
    answer = attempt(CORRECT)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and f"Good was not recorded: {why}" in said, said
    assert f"{room}, then `{SOLVE} add-one --no-edit --file {answer}` checks" in said, said
    assert "there is room" not in said and "last rating that showed" not in said


def test_a_ctrl_c_while_the_rating_waits_says_it_was_not_recorded(cli, attempt, monkeypatch):
    """A Ctrl-C while the passed check's rating waited behind another process's lock (an
    import) said only "interrupted" (an audit, on a real terminal): it says the rating was
    not recorded and the command that records it."""
    from studycli.errors import WaitInterrupted
    from studycli.study.api import Study

    def interrupted(self, *args, **kwargs):
        raise WaitInterrupted

    monkeypatch.setattr(Study, "rate", interrupted)
    answer = attempt(CORRECT)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    said = " ".join(result.stdout.split())
    assert result.exit_code == 130 and "passed" in said
    assert "interrupted: Good was not recorded" in said, said
    assert f"`{SOLVE} add-one --no-edit --file {answer}` checks your attempt again" in said
    assert _history(cli) == []


def test_a_rating_the_busy_database_refuses_is_tried_again_on_enter(
    cli, attempt, busy_after_the_check, monkeypatch
):
    """In a terminal the rating waits for the learner: Enter tries again once the database is
    free (the check's rating was lost, and the learner had to run the check again)."""
    from studycli.cli import terminal

    def keys():
        yield "4"  # Easy, chosen after the pass
        yield "x"  # not Enter: nothing happens
        busy_after_the_check.release()
        yield "\r"

    pressed = keys()
    monkeypatch.setattr(terminal, "getkey", lambda: next(pressed))
    from types import SimpleNamespace

    from studycli.cli import solve as solve_command

    terminal_stdin = SimpleNamespace(isatty=lambda: True)  # (the runner replaces sys.stdin)
    monkeypatch.setattr(solve_command, "sys", SimpleNamespace(stdin=terminal_stdin))
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    said = " ".join(result.stdout.split())
    assert "Easy was not recorded: the review database is busy" in said
    assert "press Enter to try again, or q to give up" in said
    assert result.exit_code == 0 and "recorded Easy" in said
    assert [(e["rating"], e["method"]) for e in _history(cli)] == [(4, "check")]


def test_giving_up_on_a_rating_the_busy_database_refuses_says_how_to_record_it(
    cli, attempt, busy_after_the_check, monkeypatch
):
    """q at "press Enter to try again, or q to give up" exited 1 without a word: it says
    nothing was recorded and the command that checks the attempt again and records it, as
    q at the rating's choice says."""
    from types import SimpleNamespace

    from studycli.cli import solve as solve_command
    from studycli.cli import terminal

    pressed = iter(["4", "q"])  # Easy, chosen after the pass; then give up
    monkeypatch.setattr(terminal, "getkey", lambda: next(pressed))
    terminal_stdin = SimpleNamespace(isatty=lambda: True)  # (the runner replaces sys.stdin)
    monkeypatch.setattr(solve_command, "sys", SimpleNamespace(stdin=terminal_stdin))
    answer = attempt(CORRECT)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    said = " ".join(result.stdout.split())
    assert result.exit_code == 1 and "Easy was not recorded: the review database is busy" in said
    assert f"nothing recorded (q); `{SOLVE} add-one --no-edit --file {answer}` checks" in said
    busy_after_the_check.release()
    assert _history(cli) == []


def test_a_ctrl_c_at_the_busy_ratings_prompt_says_how_to_record_it(
    cli, attempt, busy_after_the_check, monkeypatch
):
    """A Ctrl-C at "press Enter to try again, or q to give up" said only "interrupted": it says
    the rating was not recorded and the command that records it, as q there does."""
    from types import SimpleNamespace

    from studycli.cli import solve as solve_command
    from studycli.cli import terminal

    pressed = iter(["4"])  # Easy, chosen after the pass; then Ctrl-C at the prompt

    def key() -> str:
        for chosen in pressed:
            return chosen
        raise KeyboardInterrupt

    monkeypatch.setattr(terminal, "getkey", key)
    terminal_stdin = SimpleNamespace(isatty=lambda: True)  # (the runner replaces sys.stdin)
    monkeypatch.setattr(solve_command, "sys", SimpleNamespace(stdin=terminal_stdin))
    answer = attempt(CORRECT)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    said = " ".join(result.stdout.split())
    assert result.exit_code == 130, result.output
    assert "Easy was not recorded: the review database is busy" in said
    assert (
        f"interrupted: Easy was not recorded; `{SOLVE} add-one --no-edit --file {answer}` checks"
        in said
    )
    busy_after_the_check.release()
    assert _history(cli) == []


def test_a_rating_chosen_by_intervals_an_import_changed_meanwhile_is_asked_again(
    cli, attempt, monkeypatch, tmp_path
):
    """Another terminal imports a review of the card (the laptop's log) while `solve` asks
    for the rating: the keys had shown the card new (Easy in days), and the rating chosen by
    them was recorded on the merged history (months). It is not recorded: the keys are shown
    again as they are now and the learner chooses again."""
    from types import SimpleNamespace

    from studycli.cli import solve as solve_command
    from studycli.cli import terminal
    from studycli.paths import database_path
    from studycli.study.api import Study, study_items
    from studycli.study.settings import Settings

    from .study_support import NOW

    log = tmp_path / "laptop.csv"
    log.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"add-one,3,{(NOW - timedelta(days=300)).isoformat()},\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    content = load_content(FIXTURE_CONTENT)

    def keys():
        with Study.open(database_path(), Settings()) as other:  # at the rating's prompt
            assert other.import_reviews(log, study_items(content.cards.values()), NOW).added
        yield "4"  # Easy, by the keys shown before the import
        yield "4"  # Easy, by those shown again

    pressed = keys()
    monkeypatch.setattr(terminal, "getkey", lambda: next(pressed))
    terminal_stdin = SimpleNamespace(isatty=lambda: True)  # (the runner replaces sys.stdin)
    monkeypatch.setattr(solve_command, "sys", SimpleNamespace(stdin=terminal_stdin))
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    said = " ".join(result.stdout.split())
    notice = "Easy was not recorded: add-one's history changed while the rating was asked"
    assert result.exit_code == 0 and notice in said, said
    before, _, after = said.partition(notice)
    easy = re.compile(r"4 Easy (\S+)")
    assert easy.findall(before) != easy.findall(after) and "recorded Easy" in after, said
    assert [(e["rating"], e["method"]) for e in _history(cli)] == [(4, "check"), (3, "import")]


def test_an_infinite_loop_is_ended_by_the_time_limit(cli, attempt, tmp_path):
    """Ended within a few seconds of its 1 s limit, counted from the check's call of the
    attempt: counted from the command's start, the bound took in the worker's start (its
    torch import), and the test failed on a loaded machine (9.3 s against 8)."""
    mark = tmp_path / "called"
    loop = attempt(loops_marking(mark))
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--timeout", "1", "--file", loop)
    assert time.monotonic() - called_at(mark) < 1 + 3  # the limit, the kill and the report
    assert result.exit_code == 1
    assert "timeout" in result.stdout and "did not finish in 1 s" in result.stdout
    assert _history(cli)[0]["check_status"] == "timeout"


def test_a_memory_blow_up_is_ended_by_the_memory_cap(cli, attempt):
    started = time.monotonic()
    result = cli(
        "--content",
        FIXTURE_CONTENT,
        "solve",
        "add-one",
        "--memory",
        "256",
        "--timeout",
        "20",
        "--file",
        attempt(HOGS),
    )
    assert time.monotonic() - started < 15
    assert result.exit_code == 1
    assert "memory" in result.stdout and "256 MB" in result.stdout


def test_a_file_written_past_the_cap_is_said_and_the_rating_still_recorded(
    cli, attempt, tmp_path, monkeypatch
):
    """An attempt that wrote a file in a loop filled the disk within its time limit, and the
    rating then could not be committed. Its check is held to the cap (2 MB here, for speed);
    the command, which records the rating, is not."""
    from functools import partial

    from studycli.check.runner import Job

    monkeypatch.setattr(solve, "Job", partial(Job, file_size_mb=2))
    big = tmp_path / "big"
    writes = (
        "from pathlib import Path\n\n"
        "def add_one(x):\n"
        f"    Path({str(big)!r}).write_bytes(b'x' * (5 << 20))\n"
        "    return x + 1\n"
    )
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(writes))
    said = " ".join(result.stdout.split())
    assert result.exit_code == 1, result.output
    assert "your attempt wrote a file past 2 MB" in said and "recorded Again" in said, said
    assert big.stat().st_size == 2 << 20
    assert _history(cli)[0]["check_status"] == "error"


def test_the_attempt_file_starts_from_the_starter_and_is_never_overwritten():
    content = fixture_content()
    card = content.get("add-one")
    path = solve.ensure_attempt(card, content)
    assert path == attempts_dir() / "add-one.py"
    assert "def add_one(x: int) -> int:" in path.read_text()
    assert "raise NotImplementedError" in path.read_text()
    path.write_text(CORRECT)
    assert solve.ensure_attempt(card, content).read_text() == CORRECT


# `ensure_attempt` in a process whose files may not grow past 16 bytes (RLIMIT_FSIZE: a write
# past it fails, as on a full disk), for the card add-one of the fixture content.
CUT_SHORT_STARTER = """
import resource, signal, sys
from pathlib import Path
from studycli.check import solve
from studycli.content.loader import load_content
from studycli.errors import StudyError

content = load_content(Path(sys.argv[1]))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))
try:
    solve.ensure_attempt(content.get("add-one"), content, Path(sys.argv[2]))
except StudyError as exc:
    print(exc)
    sys.exit(3)
"""


def test_an_attempt_file_its_starter_could_not_be_written_to_is_not_left_half_written(tmp_path):
    """On a full disk the attempt file was made, its starter cut short (empty, here 16
    bytes), and kept from then on as the learner's work: the next `solve` opened it so,
    without the function's signature, and recorded Again."""
    import subprocess

    path = tmp_path / "attempts" / "add-one.py"
    child = subprocess.run(
        [sys.executable, "-c", CUT_SHORT_STARTER, str(FIXTURE_CONTENT), str(path)],
        capture_output=True,
        text=True,
    )
    assert child.returncode == 3, child.stderr
    assert f"cannot write your attempt file {path}" in child.stdout
    assert list(path.parent.iterdir()) == []  # neither the file nor a part of it
    content = fixture_content()
    solve.ensure_attempt(content.get("add-one"), content, path)
    assert "def add_one(x: int) -> int:" in path.read_text()


def test_the_editor_opens_the_attempt_file(cli, tmp_path, monkeypatch):
    source = tmp_path / "typed.py"
    source.write_text(CORRECT)
    # An "editor" that copies a finished answer over the attempt file it is given.
    monkeypatch.setenv(
        "EDITOR",
        f'{sys.executable} -c "import shutil, sys; shutil.copy({str(source)!r}, sys.argv[1])"',
    )
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one")
    assert result.exit_code == 0, result.output
    # the recorded pass is put aside: the next review asks for the answer again
    assert (attempts_dir() / "rated" / "add-one.py").read_text() == CORRECT
    assert not (attempts_dir() / "add-one.py").exists()
    assert "your answer is kept in" in result.stdout


def test_an_editor_that_returns_at_once_is_told_to_wait(cli, monkeypatch):
    """`EDITOR=code` (no --wait) opens a window and returns at once: the starter was checked
    (a NotImplementedError panel, "not recorded: still the starter") and the answer saved in
    the window later never was, without a word of why. Said, with the flags that make such
    editors wait; an answer written before, the editor closed at once, is checked as before."""
    monkeypatch.setenv("EDITOR", f'{sys.executable} -c "pass"')
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one")
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "returned at once, the file unchanged" in said, said
    assert "code --wait" in said and "not recorded: the attempt is still the starter" in said
    (attempts_dir() / "add-one.py").write_text(CORRECT)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one")
    assert result.exit_code == 0 and "returned at once" not in result.output, result.output


def test_after_a_recorded_pass_the_next_solve_starts_from_the_starter(cli):
    """Reopened, the passing code passed unchanged: `solve ID --no-edit` at the next review
    recorded Good again without recall. Now it checks the starter and records nothing."""
    attempts_dir().mkdir(parents=True, exist_ok=True)
    (attempts_dir() / "add-one.py").write_text(CORRECT)
    first = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    assert first.exit_code == 0 and "recorded Good" in first.stdout, first.output
    again = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    assert "not recorded: the attempt is still the starter" in again.stdout, again.output
    assert len(_history(cli)) == 1


def test_undo_of_a_recorded_pass_brings_its_answer_back(cli):
    """`studycli undo` of a pass: the answer put aside is the attempt again, to be rated anew
    with `solve --no-edit`; an attempt written since is the learner's and stays."""
    attempts_dir().mkdir(parents=True, exist_ok=True)
    (attempts_dir() / "add-one.py").write_text(CORRECT)
    assert cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit").exit_code == 0
    undone = cli("--content", FIXTURE_CONTENT, "undo")
    assert "your answer is back in" in " ".join(undone.stdout.split()), undone.output
    assert (attempts_dir() / "add-one.py").read_text() == CORRECT
    assert not (attempts_dir() / "rated" / "add-one.py").exists()
    again = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    assert again.exit_code == 0 and "recorded Good" in again.stdout, again.output
    (attempts_dir() / "add-one.py").write_text("# mine, begun since\n")
    undone = cli("--content", FIXTURE_CONTENT, "undo")
    assert undone.exit_code == 0 and "your answer is kept in" in undone.stdout, undone.output
    assert (attempts_dir() / "add-one.py").read_text() == "# mine, begun since\n"
    assert (attempts_dir() / "rated" / "add-one.py").read_text() == CORRECT


def test_undo_brings_the_answer_back_over_a_starter_written_since(cli):
    """A pass recorded, `solve` opened again and closed unchanged (a fresh starter written),
    then `studycli undo`: the answer stayed in attempts/rated/, the starter taken for work
    begun since, and the undo did not say where the answer was."""
    from studycli.check.solve import ensure_attempt

    attempts_dir().mkdir(parents=True, exist_ok=True)
    (attempts_dir() / "add-one.py").write_text(CORRECT)
    assert cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit").exit_code == 0
    content = load_content(FIXTURE_CONTENT)
    ensure_attempt(content.get("add-one"), content)  # the starter, as `solve` writes it
    undone = cli("--content", FIXTURE_CONTENT, "undo")
    assert "your answer is back in" in " ".join(undone.stdout.split()), undone.output
    assert (attempts_dir() / "add-one.py").read_text() == CORRECT


def test_a_pass_left_unrecorded_or_of_a_file_given_stays_where_it_is(cli, attempt):
    """Only the attempt file of a recorded pass is put aside: a --file is the learner's own, and
    a --no-record pass is not a review."""
    given = attempt(CORRECT)
    solved = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", given)
    assert solved.exit_code == 0 and "recorded Good" in solved.stdout, solved.output
    assert Path(given).read_text() == CORRECT and not (attempts_dir() / "rated").exists()
    attempts_dir().mkdir(parents=True, exist_ok=True)
    (attempts_dir() / "add-one.py").write_text(CORRECT)
    kept = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit", "--no-record")
    assert kept.exit_code == 0, kept.output
    assert (attempts_dir() / "add-one.py").read_text() == CORRECT


def test_without_an_editor_or_a_terminal_the_message_says_what_to_do(cli, monkeypatch):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one")
    assert result.exit_code == 1
    assert "set $EDITOR" in result.stderr and "--no-edit" in result.stderr


def _older_starter() -> str:
    """add-one's starter as an older studycli wrote it: the same stub under another docstring
    (7 of the 82 cards' starters changed so since commit f253383)."""
    from studycli.content.source import card_starter

    content = fixture_content()
    starter = card_starter(content.get("add-one"), content.solutions_dir)
    older = starter.replace('"""Return x + 1.', '"""Return one more than x.')
    assert older != starter
    return older


def test_a_file_whose_function_is_still_a_stub_is_untouched_even_from_an_older_starter(tmp_path):
    content = fixture_content()
    card = content.get("add-one")
    current = solve.ensure_attempt(card, content, tmp_path / "current.py")
    older = tmp_path / "older.py"
    older.write_text(_older_starter())
    answered = tmp_path / "answered.py"
    answered.write_text(_older_starter().replace("raise NotImplementedError", "return x + 1"))
    broken = tmp_path / "broken.py"
    broken.write_text(_older_starter() + "def (\n")
    deep = tmp_path / "deep.py"  # ast.parse raised RecursionError: a traceback from solve
    deep.write_text("BIG = " + "1+" * 200_000 + "1\n" + _older_starter())
    helped = tmp_path / "helped.py"  # the learner's work beside a stub: not to be deleted
    helped.write_text("def helper(x):\n    return x\n\n\n" + current.read_text())
    assert starters.is_untouched(card, content, current) and starters.is_untouched(
        card, content, older
    )
    assert starters.is_older_starter(card, content, older)
    assert not starters.is_older_starter(card, content, current)
    assert starters.is_untouched(card, content, helped)  # nothing to check: not recorded
    assert not starters.is_older_starter(card, content, helped)  # but no "delete it"
    for written in (answered, broken, deep, tmp_path / "missing.py"):
        assert not starters.is_untouched(card, content, written)
        assert not starters.is_older_starter(card, content, written)


def test_a_starter_written_with_imports_the_card_no_longer_carries_is_an_older_starter(
    tmp_path, content_copy
):
    """Starters once carried every import of their module, the checkers' too: a file written
    then is still a starter (the learner is told the starter changed), not an attempt."""
    module = content_copy / "solutions" / "arith.py"
    checkers = "import heapq\nfrom contextlib import contextmanager\n"
    module.write_text(checkers + module.read_text())
    content = load_content(content_copy)
    card = content.get("add-one")
    current = solve.ensure_attempt(card, content, tmp_path / "current.py").read_text()
    older = tmp_path / "older.py"
    older.write_text(checkers + "\n\n" + current)
    assert starters.starter_kind(card, content, older) == "older"
    helped = tmp_path / "helped.py"  # an import with code of the learner's own: not a starter
    helped.write_text("import heapq\n\nLIMIT = heapq.nlargest(1, [2, 3])\n\n\n" + current)
    assert starters.starter_kind(card, content, helped) == "stub"


def test_a_starter_with_the_learners_notes_or_imports_is_not_called_an_older_starter(tmp_path):
    """Older starters are told apart by their code, imports aside: compared as syntax trees,
    a starter with a comment of the learner's (their plan) or an import the module never had
    was "older", and the learner was told that the card's starter had changed since, and to
    delete the file for the new one, though it had not changed and the notes were theirs."""
    content = fixture_content()
    card = content.get("add-one")
    current = solve.ensure_attempt(card, content, tmp_path / "current.py").read_text()
    noted = tmp_path / "noted.py"
    noted.write_text(
        current.replace("    raise", "    # plan: x + 1, no overflow in Python\n    raise")
    )
    imported = tmp_path / "imported.py"
    imported.write_text("import operator\n\n\n" + current)
    for written in (noted, imported):
        assert starters.starter_kind(card, content, written) == "stub"
        assert not starters.is_older_starter(card, content, written)


def test_no_edit_records_nothing_for_a_starter_an_older_version_wrote(cli, attempt):
    """A starter written before the card's docstring changed failed its check with
    NotImplementedError and was recorded as Again. Now it is not checked, as the starter is
    not. (Given with --file, it is not recorded either, and deleting that file is not offered:
    it gives no starter.)"""
    path = attempts_dir() / "add-one.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_older_starter())
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    said = " ".join(result.stdout.split())
    assert result.exit_code == 1
    assert "not implemented yet" not in said and "not recorded" in said
    assert "starter has changed since" in said and f"delete {path}" in said
    assert _history(cli) == []
    assert path.read_text() == _older_starter()  # the learner's file is never replaced
    given = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(_older_starter())
    )
    assert given.exit_code == 1 and "not recorded" in given.stdout
    assert "delete" not in given.stdout and _history(cli) == []


def test_a_check_review_records_how_long_it_took(cli, attempt):
    cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    [entry] = _history(cli)
    assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0


def test_a_concept_card_has_nothing_to_solve(cli):
    result = cli("--content", FIXTURE_CONTENT, "solve", "bias-concept", "--no-edit")
    assert result.exit_code == 1 and "no solution to run" in result.stderr


def test_editor_command_prefers_visual_and_splits_like_a_shell():
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "'my editor' -n"}) == ["my editor", "-n"]
    assert editor_command({}) is None


@pytest.mark.parametrize("name", ["VISUAL", "EDITOR"])
def test_an_editor_variable_with_a_quote_left_open_is_named_with_the_fix(name):
    """`EDITOR='code "'` ended `solve` (and a review session) with shlex's traceback."""
    with pytest.raises(StudyError, match=rf"\${name}='code \"' cannot be read as a command"):
        editor_command({name: 'code "'})


def test_the_rating_follows_the_outcome():
    passed, failed = Outcome("pass", "passed", 0.1), Outcome("timeout", "slow", 1.0)
    assert solve.rating_for(passed) == 3
    assert solve.rating_for(passed, chosen=4) == 4 and solve.rating_for(passed, chosen=2) == 2
    assert solve.rating_for(passed, chosen=1) == 3
    assert solve.rating_for(failed, chosen=4) == 1


def test_a_pass_is_graded_by_how_it_was_reached():
    passed, failed = Outcome("pass", "passed", 0.1), Outcome("fail", "f(1): no", 0.1)
    assert solve.rating_for(passed, hints_shown=0, failed_runs=0) == 3  # first try: Good
    assert solve.rating_for(passed, hints_shown=1) == 2  # after a hint: Hard
    assert solve.rating_for(passed, failed_runs=2) == 2  # after failed runs: Hard
    assert solve.rating_for(passed, chosen=3, hints_shown=2) == 3  # the learner may still choose
    assert solve.rating_for(passed, chosen=4, failed_runs=1) == 4
    assert solve.rating_for(passed, chosen=1, hints_shown=1) == 2  # Again is no choice on a pass
    assert solve.rating_for(failed, chosen=3, hints_shown=1) == 1


def test_failing_cases_are_split_for_the_diff():
    case = failing_case("add_one(-3): expected -2, got -1")
    assert (case.what, case.expected, case.actual) == ("add_one(-3)", "-2", "-1")
    case = failing_case("f(x): at index (0, 1): expected 0.5, got 0.25 (3 of 9 values off)")
    assert (case.expected, case.actual) == ("0.5", "0.25")
    assert failing_case("something else broke") is None
    # an exception the answer raised, whose own text reads "expected ..., but got ...": no case
    raised = (
        "running_stats_update(m=tensor(-inf), s=tensor(0.), x_block=tensor([1., 2.])): raised "
        "IndexError: Dimension out of range (expected to be in range of [-1, 0], but got 1)"
    )
    assert failing_case(raised) is None


def test_an_assert_of_the_answers_own_is_shown_as_its_own_not_as_a_failing_case():
    """A learner's `assert total == 3, "expected 3, got 4"` failed under `call`, and its words
    were split into the failure's table: 'expected 3, actual 4' as if the checker said it."""
    from rich.console import Console

    from studycli.assertions import CheckFailure, call
    from studycli.cli.check_outcome import outcome_view

    def answer(nums):
        total = 4
        assert total == 3, "expected 3, got 4"

    with pytest.raises(CheckFailure) as failed:
        call(answer, "total([1, 2])", [1, 2])
    message = str(failed.value)
    assert failing_case(message) is None
    console = Console(record=True, width=200)
    console.print(outcome_view(Outcome("fail", message, 0.1)))
    text = console.export_text()
    assert "an assert in the answer failed: expected 3, got 4" in text
    assert "actual" not in text


@pytest.mark.parametrize(
    ("output", "flood"),
    [
        ("… 7,388,160 earlier lines not shown\nxxx\n", "more than 7,388,160 lines"),
        ("… 5,499,998,109 earlier bytes not shown\nxxx", "more than 5,499,998,109 bytes"),
        ("… 120 earlier lines not shown\nxxx\n", None),  # (a loop's few prints: not the time)
        ("1\n2\n", None),
    ],
)
def test_a_timeout_after_a_flood_of_output_names_the_printing(output, flood):
    """An answer that printed 50 MB a call read "an infinite loop, or far too slow" above
    "… 5,499,998,109 earlier bytes not shown": the printing, which took the time, unsaid."""
    from rich.console import Console

    from studycli.cli.check_outcome import outcome_view

    message = "add_one(-3): did not finish in 10 s: an infinite loop, or far too slow?"
    console = Console(record=True, width=200)
    console.print(outcome_view(Outcome("timeout", message, 10.0, output=output)))
    text = " ".join(console.export_text().replace("│", " ").split())
    if flood is None:
        assert "printing that much" not in text, text
    else:
        assert f"hint: it printed {flood} before it was stopped: printing that much" in text


def test_a_failing_case_keeps_where_the_output_went_wrong_and_by_how_much():
    """The output's label and the element's index, and the count and tolerances, were
    dropped: 'expected 3.92, actual 3.92' told a learner nothing of a dtype's lost digits."""
    message = (
        "adamw_step(p, {'lr': 0.1, 'eps': 1e-8}): param: at index (3,): expected 3.92, got "
        "3.9200001 (4 of 4 values off; atol=1e-12, rtol=1e-09)\n  hint: keep float64"
    )
    case = failing_case(message)
    assert case == FailingCase(
        what="adamw_step(p, {'lr': 0.1, 'eps': 1e-8})",
        expected="3.92",
        actual="3.9200001",
        where="param: at index (3,)",
        detail="4 of 4 values off; atol=1e-12, rtol=1e-09",
    )
    shape = failing_case("nms(boxes): expected [1, 2], got tensor of shape (3, 4)")
    assert (shape.actual, shape.detail) == ("tensor of shape (3, 4)", "")

    from rich.console import Console

    from studycli.cli.check_outcome import outcome_view

    console = Console(record=True, width=120)
    console.print(outcome_view(Outcome("fail", message, 0.1)))
    text = console.export_text()
    assert "where" in text and "param: at index (3,)" in text
    assert "4 of 4 values off; atol=1e-12, rtol=1e-09" in text


def test_a_failed_case_shows_its_hint_once():
    from rich.console import Console

    from studycli.cli.check_outcome import outcome_view

    hint = "answer 0 is -1, but nums[3] = 4 > nums[0] = 2"
    message = (
        "next_greater([2, 1, 2, 4, 3]): expected [3, 2, 3, -1, -1], got [-1, -1, -1, -1, -1]"
        f"\n  hint: {hint}"
    )
    console = Console(record=True, width=200)
    console.print(outcome_view(Outcome("fail", message, 0.1)))
    text = console.export_text()
    assert text.count(hint) == 1 and text.count("hint:") == 1
    case = failing_case(message)  # the hint is not part of the actual value
    assert case is not None and case.actual == "[-1, -1, -1, -1, -1]"


def _save(path, text: str) -> None:
    """Save as an editor does, whole at once: `watch` never sees a half-written file."""
    partial = path.with_suffix(".saving")
    partial.write_text(text)
    partial.replace(path)


def _watch_saving(
    tmp_path, monkeypatch, *saves: str, first: str | None = None, pause=0.05, wait=30.0
):
    """Run `watch` on an add-one attempt (`first`, else the untouched starter); after each
    check or wait for a save of a starter (after the first, or after `wait` s with none), and
    `pause` s more, a thread saves the next of `saves`. Returns the attempt and the console's
    text."""
    import threading

    from rich.console import Console

    from studycli.cli import solve_flow, solve_watch

    content = fixture_content()
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    if first is not None:
        path.write_text(first)
    solve.ensure_attempt(card, content, path)
    console = Console(record=True, width=100)
    checked = threading.Semaphore(0)
    show = solve_flow._show

    def show_and_signal(*args, **kwargs):
        show(*args, **kwargs)
        checked.release()  # (not when the check returns: a save before the watch took its
        # outcome is one the check may have read, and stops it)

    def save_each():
        for index, text in enumerate(saves):
            # else save anyway: fail on the counts, never hang
            checked.acquire(timeout=30 if index == 0 else wait)
            time.sleep(pause)  # (at least 0.05 s: a later modification time than the check's)
            _save(path, text)

    def waits_and_signals(*args, **kwargs):
        waits = still_a_starter(*args, **kwargs)
        if waits:  # (the starter is not checked: the watch waits for a save)
            checked.release()
        return waits

    still_a_starter = solve_watch._still_a_starter
    monkeypatch.setattr(solve_watch, "_show", show_and_signal)
    monkeypatch.setattr(solve_watch, "_still_a_starter", waits_and_signals)
    saver = threading.Thread(target=save_each)
    saver.start()
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(10, 1024))
    saver.join()
    return attempt, console.export_text()


def test_watch_reruns_on_save_until_it_passes(tmp_path, monkeypatch):
    """Driven in-process: a thread saves a fixed answer while `watch` polls the file."""
    attempt, text = _watch_saving(tmp_path, monkeypatch, CORRECT + "\n# fixed\n", first=WRONG)
    assert attempt.outcome.status == "pass"
    assert text.index("failed") < text.index("passed")
    assert (attempt.failed_runs, attempt.hints_shown) == (1, 0)
    assert attempt.rating() == 2 and attempt.how() == "1 failed run first"  # Hard by default


def test_a_save_that_lands_as_the_watch_writes_the_starter_again_is_checked(tmp_path, monkeypatch):
    """The starter deleted during the watch is written again once it stays gone; a save of
    the learner's that lands in that moment, before the starter's file is made (which never
    writes over a file), was said to be "wrote the card's starter", taken for the starter and
    never checked: the watch waited for a save already made. It is checked, as any save."""
    import threading

    from rich.console import Console

    from studycli.check.attempt_files import attempt_path
    from studycli.cli import solve_flow, solve_watch

    monkeypatch.setenv("STUDYCLI_HOME", str(tmp_path / "home"))
    content = fixture_content()
    card = content.get("add-one")
    path = solve.ensure_attempt(card, content, attempt_path(card.id))  # the starter
    create_file = solve.create_file

    def saved_first(target, data):  # the learner's editor saves just before the watch writes
        _save(target, CORRECT)
        return create_file(target, data)

    monkeypatch.setattr(solve, "create_file", saved_first)
    deadline = time.monotonic() + 15  # (q then, where the save is never checked)

    @contextlib.contextmanager
    def keys():
        def poll(seconds):
            time.sleep(seconds)
            return "q" if time.monotonic() > deadline else None

        yield poll

    monkeypatch.setattr(solve_watch, "key_poller", keys)
    threading.Timer(0.5, path.unlink).start()  # deleted, once the watch waits for a save
    console = Console(record=True, width=100)
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(10, 1024))
    text = console.export_text()
    assert attempt is not None and attempt.outcome.status == "pass", text
    assert "wrote the card's starter" not in text and path.read_text() == CORRECT


def test_watch_does_not_count_the_starter_as_a_failed_run(tmp_path, monkeypatch):
    from studycli.content.source import card_starter

    content = fixture_content()
    starter = card_starter(content.get("add-one"), content.solutions_dir)
    attempt, text = _watch_saving(tmp_path, monkeypatch, starter, CORRECT, wait=1.0)
    assert attempt.outcome.status == "pass"
    # the answer alone: the starter is not checked, nor when it is saved unchanged
    assert text.count("checking attempt.py") == 1 and "still the starter" in text, text
    assert attempt.failed_runs == 0
    assert attempt.rating() == 3 and attempt.how() == "first try this solve"  # Good by default


@pytest.mark.parametrize(
    "writes",
    [
        "os.utime(__file__)",  # touches it
        "open(__file__, 'r+b').write(open(__file__, 'rb').read())",  # writes its bytes again
    ],
)
def test_watch_does_not_check_again_an_attempt_that_writes_its_own_file(
    tmp_path, monkeypatch, writes
):
    """A wrong attempt that touched its own file when run was checked again and again, each
    check stopped or followed by another ("the file changed"), every one a failed run, until
    the learner saved (an audit: 25 checks in 6 s). A change that leaves the bytes as they were
    checked starts no check: the answer saved a second later is the second check."""
    touching = f"import os\n\n\ndef add_one(x):\n    {writes}\n    return x + 2\n"
    attempt, text = _watch_saving(tmp_path, monkeypatch, CORRECT, first=touching, pause=1.0)
    assert attempt.outcome.status == "pass" and "stopped" not in text, text
    assert text.count("checking attempt.py") == 2, text  # the wrong answer, then the right
    assert attempt.failed_runs == 1 and attempt.rating() == 2  # Hard: the wrong one, once


def test_watch_does_not_count_an_older_starter_as_a_failed_run(tmp_path, monkeypatch):
    attempt, text = _watch_saving(tmp_path, monkeypatch, CORRECT, first=_older_starter())
    assert attempt.outcome.status == "pass" and text.count("checking attempt.py") == 1
    assert "starter has changed since" in " ".join(text.split())
    assert attempt.failed_runs == 0
    assert attempt.rating() == 3 and attempt.how() == "first try this solve"  # Good by default


def test_watch_counts_a_wrong_save_after_the_starter(tmp_path, monkeypatch):
    attempt, text = _watch_saving(tmp_path, monkeypatch, WRONG, CORRECT)
    assert attempt.outcome.status == "pass" and text.count("checking attempt.py") == 2
    assert attempt.failed_runs == 1
    assert attempt.rating() == 2 and attempt.how() == "1 failed run first"  # Hard by default


def _watch_a_half_written_save(tmp_path, monkeypatch, first: str | None, wait_for: str):
    """`solve --watch` on add-one, its attempt `first` (None: the starter, not checked: then
    once the watch waits), with a save caught half written ("return x +") once the first
    check has `wait_for` ("finished" or "started";
    "starting": before the check reads the file, the watch looking next only once that check
    has ended, as on a loaded machine), and the whole file written once the watch has looked
    at that save; SETTLE is 30 s, so the whole file is saved first however slow the machine.
    (attempt, the console's text)."""
    import threading

    from rich.console import Console

    from studycli.cli import solve_flow, solve_watch

    content = fixture_content()
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    if first is None:
        solve.ensure_attempt(card, content, path)
    else:
        path.write_text(first)
    reached, looked = threading.Event(), threading.Event()
    run_check, compiles = solve.run_check, getattr(solve, "compiles", None)

    half = CORRECT[: CORRECT.index("+") + 1]  # "return x +": half written

    def check_and_signal(*args, **kwargs):
        if wait_for == "starting" and not reached.is_set():
            path.write_text(half)
        if wait_for in ("started", "starting"):
            reached.set()
        outcome = run_check(*args, **kwargs)
        reached.set()
        return outcome

    def compiles_and_signal(where):
        answer = compiles(where)  # (code without the wait never asks: it checks the half file)
        # asked by the watch, not by a check as it starts (`_Run.compiled`): that one, of the
        # starter or LOOPS, had the whole file written at once after the half one, so that the
        # watch seldom saw the half save at all
        if sys._getframe(1).f_globals["__name__"] == solve_watch.__name__:
            looked.set()
        return answer

    def save():
        reached.wait(timeout=30)
        if wait_for != "starting":
            time.sleep(0.05)  # a later modification time than the check's
            path.write_text(half)
        looked.wait(timeout=30)  # the watch has seen it; then the rest is written
        path.write_text(CORRECT)

    def waits_and_signals(*args, **kwargs):
        waits = still_a_starter(*args, **kwargs)
        if waits:  # the starter is not checked: "finished" once the watch waits for a save
            reached.set()
        return waits

    still_a_starter = solve_watch._still_a_starter
    monkeypatch.setattr(solve, "run_check", check_and_signal)
    monkeypatch.setattr(solve, "compiles", compiles_and_signal, raising=False)
    monkeypatch.setattr(solve_watch, "_still_a_starter", waits_and_signals)
    monkeypatch.setattr(solve_watch, "SETTLE", 30, raising=False)
    if wait_for == "starting":
        monkeypatch.setattr(solve_watch, "key_poller", _polling_once_checks_end)
    gave_up = _ending_after(monkeypatch, solve_watch, WATCH_DEADLINE)
    saver = threading.Thread(target=save)
    saver.start()
    console = Console(record=True, width=100)
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(20, 1024))
    saver.join()
    text = console.export_text()
    # (the whole file saved, the watch checks it and ends: one still watching is a failure,
    # with what it showed, not a test run that hangs until CI's limit)
    assert not gave_up, f"the watch was still watching after {WATCH_DEADLINE} s:\n{text}"
    return attempt, text


WATCH_DEADLINE = 120  # s: the saver's waits are 30 s each at most


def _ending_after(monkeypatch, solve_watch, seconds: float) -> list[bool]:
    """Have the watch's key poller (whichever is set) press q once `seconds` have passed;
    the list it returns holds True once it did."""
    deadline, gave_up = time.monotonic() + seconds, []
    polling = solve_watch.key_poller

    @contextlib.contextmanager
    def bounded():
        with polling() as poll:

            def poll_until(wait: float):
                if time.monotonic() > deadline:
                    gave_up.append(True)
                    return "q"
                return poll(wait)

            yield poll_until

    monkeypatch.setattr(solve_watch, "key_poller", bounded)
    return gave_up


@contextlib.contextmanager
def _polling_once_checks_end():
    """A `key_poller` for a watch starved while a check runs: it reads no key, and returns
    only once every check running has ended."""
    import threading

    def poll(seconds: float) -> None:
        for thread in threading.enumerate():
            if thread.name == "studycli-check":
                thread.join(timeout=30)
        time.sleep(seconds)

    yield poll


def test_watch_checks_a_save_caught_half_written_only_once_it_is_whole(tmp_path, monkeypatch):
    """An editor that truncates the file, then writes it, caught half way (cut mid-token): that
    save's SyntaxError was shown and counted as a failed run, so that the whole answer saved
    a moment later passed as Hard. A save that does not compile is checked only once it has
    stayed so for SETTLE seconds, and the whole file's check is the one shown."""
    attempt, text = _watch_a_half_written_save(tmp_path, monkeypatch, None, "finished")
    assert attempt is not None and attempt.outcome.status == "pass"
    assert "SyntaxError" not in text and "✗ error" not in text
    assert text.count("checking attempt.py") == 1  # the whole file (the starter: none)
    assert attempt.failed_runs == 0 and attempt.rating() == 3  # Good: a first try


def test_watch_checks_a_syntax_error_saved_twice_once_it_has_settled(tmp_path, monkeypatch):
    """A save that does not compile, written again with the same bytes before SETTLE passed
    (a second Ctrl-S, an editor or sync tool that touches the file): the same-bytes change
    dropped the wait, so that the learner's syntax error was never checked nor shown and the
    watch sat silent until the next save. It is checked once it has stayed so."""
    import os
    import threading

    from rich.console import Console

    from studycli.cli import solve_flow, solve_watch

    content = fixture_content()
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    path.write_text(WRONG)
    checked, looked = threading.Semaphore(0), threading.Event()
    show, compiles = solve_flow._show, solve.compiles
    broken = "def add_one(x):\n    return x +\n"

    def show_and_signal(*args, **kwargs):
        show(*args, **kwargs)
        checked.release()  # (once the watch took the outcome: see `_watch_saving`)

    def compiles_and_signal(where):
        answer = compiles(where)
        looked.set()
        return answer

    def save():
        checked.acquire(timeout=30)  # the wrong answer's check
        time.sleep(0.05)  # a later modification time than the check's
        _save(path, broken)
        looked.wait(timeout=30)  # the watch has seen it, and waits for it to settle
        stat = os.stat(path)  # saved again, the same bytes: a later modification time
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        checked.acquire(timeout=10)  # the syntax error's check (else save anyway)
        time.sleep(0.05)
        _save(path, CORRECT)

    monkeypatch.setattr(solve_watch, "_show", show_and_signal)
    monkeypatch.setattr(solve, "compiles", compiles_and_signal)
    monkeypatch.setattr(solve_watch, "SETTLE", 1.0)
    saver = threading.Thread(target=save)
    saver.start()
    console = Console(record=True, width=100)
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(20, 1024))
    saver.join()
    text = console.export_text()
    assert attempt is not None and attempt.outcome.status == "pass"
    assert "SyntaxError" in text and text.count("checking attempt.py") == 3, text
    assert attempt.failed_runs == 2  # the wrong answer, then the syntax error


def test_watch_never_shows_a_check_it_stopped_for_a_half_written_save(tmp_path, monkeypatch):
    """A save caught half written while a check of the learner's code still runs (a slow
    check, here one that loops): the watch stopped that check, and with no new check to take
    its place, the stopped one was taken for finished on the next look: its kill shown as
    the outcome ('killed by signal 9 (SIGKILL) ... did the code kill itself?') and kept as
    the last check, so that the whole file saved a moment later counted it as a failed run
    and passed as Hard. A stopped check is no attempt: the whole file passes as Good."""
    attempt, text = _watch_a_half_written_save(tmp_path, monkeypatch, LOOPS, "started")
    assert "stopped: the file changed" in text
    assert "✗ error" not in text and "SIGKILL" not in text
    assert attempt is not None and attempt.outcome.status == "pass"
    assert attempt.failed_runs == 0 and attempt.rating() == 3  # Good: no finished run failed


def test_watch_never_shows_a_check_of_a_save_it_had_not_seen_when_the_check_ended(
    tmp_path, monkeypatch
):
    """A save caught half written by a check that had just started, the watch looking next
    only once that check had ended (a loaded machine): the check's SyntaxError of the half
    file was shown and kept as the last check, so that the whole file saved a moment later
    counted it as a failed run and passed as Hard (seen once in CI, under load). A check whose
    file changed while it ran is stopped by the save: the whole file passes as Good."""
    attempt, text = _watch_a_half_written_save(tmp_path, monkeypatch, LOOPS, "starting")
    assert "stopped: the file changed" in text
    assert "✗ error" not in text and "SyntaxError" not in text, text
    assert attempt is not None and attempt.outcome.status == "pass"
    assert attempt.failed_runs == 0 and attempt.rating() == 3  # Good: no finished run failed


def test_the_solve_error_for_a_missing_file(cli, tmp_path):
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", tmp_path / "nope.py")
    assert result.exit_code == 1 and "no such file" in result.stderr
    assert "give your attempt's path (--file)" in " ".join(result.stderr.split())


def test_require_runnable_raises_a_study_error():
    with pytest.raises(StudyError):
        solve.require_runnable(fixture_content().get("poisson-concept"))


# --- `solve` in a terminal: the graded default and the learner's choice (a real pty) ----------


def _spawn_solve(tmp_path, *args: str):
    import os

    import pexpect

    from .conftest import REPO_ROOT

    environment = {
        **os.environ,
        "STUDYCLI_HOME": str(tmp_path / "home"),
        "STUDYCLI_NOW": "2025-03-01T09:00:00+00:00",
        "TERM": "dumb",
        "TZ": "UTC",
    }
    return pexpect.spawn(
        sys.executable,
        ["-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve", "add-one", *args],
        env=environment,
        cwd=str(REPO_ROOT),
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 100),
    )


def _recorded(tmp_path) -> list[tuple[int, str]]:
    from studycli.study.store import Store

    with Store.open(tmp_path / "home" / "data" / "reviews.sqlite3") as store:
        return [(r.rating, r.method) for r in store.reviews(oldest_first=True)]


@pytest.mark.parametrize("key, recorded", [("\r", 3), ("4", 4), ("2", 2)])
def test_a_first_try_pass_offers_good_and_the_learner_may_choose(tmp_path, key, recorded):
    answer = tmp_path / "answer.py"
    answer.write_text(CORRECT)
    child = _spawn_solve(tmp_path, "--file", str(answer))
    child.expect("passed every case")
    # each key with the interval it gives, as review's rating keys show them
    child.expect(r"2  Hard (\d+[smhd])\s+3  Good (\d+[smhd])\s+4  Easy (\d+[smhd])")
    shown = dict(zip((2, 3, 4), child.match.groups(), strict=True))
    child.expect(r"Enter: Good \(first try this solve\) · 2, 3 or 4 to choose")
    child.send("1")  # not a choice after a pass: said, and nothing chosen
    child.send(key)
    child.expect(r"recorded \w+: due again in (\S+)")
    assert child.match.group(1).strip() == shown[recorded]
    child.expect(pexpect_eof())
    assert _recorded(tmp_path) == [(recorded, "check")]


def test_a_key_that_chooses_nothing_after_a_pass_says_the_keys_that_do():
    """1 after a pass, or a typo, was ignored without a word, and the prompt looked stuck; a
    review session says such a key is no key there (`test_a_key_that_does_nothing_...`)."""
    from rich.console import Console

    from studycli.cli.solve_flow import Attempt, choose_rating

    console = Console(record=True, width=100, color_system=None)
    keys = iter(["1", "x", " ", "4"])
    chosen = choose_rating(console, Attempt(Outcome("pass", "", 0.1)), lambda: next(keys))
    said = console.export_text().splitlines()
    choices = "Enter Good · 2, 3 or 4 to choose · q record nothing"
    assert said[2:] == [
        f"the check passed: 1 is no choice here: {choices}",
        f"x is no key here: {choices}",
    ]
    assert int(chosen) == 4


def test_a_pass_after_an_earlier_solve_recorded_again_says_it_is_this_solve_s_first_try(
    tmp_path,
):
    """A solve that passed after an earlier solve had recorded Again offered "Good (first
    try)", untrue of the card; the default is of this solve's checks (the Again is in the
    card's history already), and says so."""
    answer = tmp_path / "answer.py"
    answer.write_text(WRONG)
    failed = _spawn_solve(tmp_path, "--file", str(answer))
    failed.expect("recorded Again")
    failed.expect(pexpect_eof())
    answer.write_text(CORRECT)
    child = _spawn_solve(tmp_path, "--file", str(answer))
    child.expect("passed every case")
    child.expect(r"Enter: Good \(([^)]*)\)")
    assert child.match.group(1) == "first try this solve"
    child.send("\r")
    child.expect("recorded Good")
    child.expect(pexpect_eof())
    assert _recorded(tmp_path) == [(1, "check"), (3, "check")]


@pytest.mark.parametrize(
    "key, said, status",
    [
        ("q", "nothing recorded (q)", 0),
        ("\x03", "interrupted: nothing was recorded", 130),
        ("\x04", "nothing recorded (Ctrl-D)", 0),
    ],
)
def test_q_or_ctrl_c_after_a_pass_records_nothing_and_says_so(tmp_path, key, said, status):
    """The choice after a pass took only Enter, 2, 3 and 4: q did nothing, Ctrl-C ended the
    command without a word, the pass unrecorded, and Ctrl-D with click's "Aborted." only.
    The command it gives records the pass: for a file given with --file it named only
    `--no-edit`, which checks the attempt file (the untouched starter) and records nothing."""
    import shlex

    answer = tmp_path / "my answer.py"  # (a space: the command is pasted into a shell)
    answer.write_text(CORRECT)
    child = _spawn_solve(tmp_path, "--file", str(answer))
    child.expect("q: record nothing")
    reading_keys(child)  # (a Ctrl-D before that is the line discipline's, and lost)
    child.send(key)
    child.expect_exact(said)
    child.expect(r"`studycli --content \S+ (solve add-one [^`]*)` checks it again to record it")
    advised = shlex.split(child.match.group(1))
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == status
    assert _recorded(tmp_path) == []
    again = _spawn_solve(tmp_path, *advised[2:])  # (the same card: _spawn_solve names it)
    again.expect("q: record nothing")
    again.send("\r")
    again.expect(pexpect_eof())
    assert _recorded(tmp_path) == [(3, "check")]


def test_solves_help_says_what_q_does_at_the_choice_after_a_pass(cli):
    """q at the choice after a pass records nothing (its line says "q: record nothing"), and
    exits 0, the check having passed; the help named only 2, 3, 4 and Enter there, and said
    that q in --watch records the last finished check, which read as if q at that choice did."""
    said = " ".join(cli("solve", "--help").stdout.split())
    assert "pick 2 Hard, 3 Good or 4 Easy instead, or q to record nothing" in said, said
    assert "q or Ctrl-C stops the watch before a pass, and the last finished check" in said


def test_ctrl_c_that_ends_the_editor_checks_and_records_nothing(tmp_path, monkeypatch):
    """`solve` whose editor a Ctrl-C ends: it says nothing was checked (click's "Aborted!"
    said nothing of the attempt)."""
    monkeypatch.setenv("EDITOR", EDITOR_UNTIL_CTRL_C)
    monkeypatch.setenv("VISUAL", "")
    child = _spawn_solve(tmp_path)
    child.expect("editor runs")
    ignoring_ctrl_c(child.pid)
    child.sendintr()
    child.expect_exact("interrupted: Ctrl-C ended the editor; nothing was checked or recorded")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 130 and _recorded(tmp_path) == []


def test_ctrl_c_at_the_prompt_without_an_editor_says_no_editor_ran(tmp_path, monkeypatch):
    """With no $EDITOR, `solve` asks the learner to edit the file and press Enter; a Ctrl-C
    there said "Ctrl-C ended the editor", though no editor ran."""
    monkeypatch.setenv("EDITOR", "")
    monkeypatch.setenv("VISUAL", "")
    child = _spawn_solve(tmp_path)
    child.expect(r"press\s+Enter\s+here")
    child.sendintr()
    child.expect(r"interrupted: Ctrl-C (.*?); nothing was checked or recorded")
    assert child.match.group(1) == "at the prompt"
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 130 and _recorded(tmp_path) == []


def test_q_at_the_prompt_without_an_editor_gives_the_attempt_up(tmp_path, monkeypatch):
    """q at the no-$EDITOR prompt gives up, as q does at solve's other prompts: it waited for
    Enter, Ctrl-C or Ctrl-D only (a new user's find). Not an interrupt: exit status 1."""
    monkeypatch.setenv("EDITOR", "")
    monkeypatch.setenv("VISUAL", "")
    child = _spawn_solve(tmp_path)
    child.expect(r"press\s+Enter\s+here,\s+or\s+q\s+to\s+give\s+up")
    child.send("q")
    child.expect(r"stopped: q at the prompt; nothing was checked or recorded")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 1 and _recorded(tmp_path) == []


def test_ctrl_d_at_the_prompt_without_an_editor_says_what_happened(tmp_path, monkeypatch):
    """Ctrl-D at the same prompt ended `solve` with click's bare "Aborted."."""
    monkeypatch.setenv("EDITOR", "")
    monkeypatch.setenv("VISUAL", "")
    child = _spawn_solve(tmp_path)
    child.expect(r"press\s+Enter\s+here")
    reading_keys(child)  # the terminal is raw while the prompt waits: Ctrl-D's byte
    child.send("\x04")
    child.expect(r"interrupted: Ctrl-D at the prompt; nothing was checked or recorded")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 130 and _recorded(tmp_path) == []


def test_a_watched_pass_after_a_hint_offers_hard_not_counting_the_starter(tmp_path):
    import time as clock

    child = _spawn_solve(tmp_path, "--watch")
    child.expect("watching")
    path = tmp_path / "home" / "data" / "attempts" / "add-one.py"
    child.expect("waiting for add-one.py to be saved")  # the starter: not checked
    child.send("h")
    child.expect("Hint 1 of 2")
    clock.sleep(0.1)
    _save(path, CORRECT)
    child.expect("passed every case")
    child.expect(r"Enter: Hard \(1 hint\) ")
    child.send("\r")
    child.expect("recorded Hard")
    child.expect(pexpect_eof())
    assert _recorded(tmp_path) == [(2, "check")]


def test_a_watched_first_save_that_passes_offers_good(tmp_path):
    import time as clock

    child = _spawn_solve(tmp_path, "--watch")
    child.expect("watching")
    child.expect("waiting for add-one.py to be saved")  # the starter: not checked
    clock.sleep(0.1)
    _save(tmp_path / "home" / "data" / "attempts" / "add-one.py", CORRECT)
    child.expect("passed every case")
    child.expect(r"Enter: Good \(first try this solve\)")
    child.send("\r")
    child.expect("recorded Good")
    child.expect(pexpect_eof())
    assert _recorded(tmp_path) == [(3, "check")]


def pexpect_eof():
    import pexpect

    return pexpect.EOF


def test_ctrl_c_during_a_check_stops_it_records_nothing_and_says_so(tmp_path, cli):
    """Ctrl-C reaches the terminal's process group: the command says it was interrupted, with
    no traceback (the checking worker printed one, where the signal found it)."""
    import os
    import signal
    import subprocess

    loop, mark = tmp_path / "loop.py", tmp_path / "called"
    loop.write_text(loops_marking(mark))
    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve",
               "add-one", "--file", str(loop), "--timeout", "60"]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, process_group=0
    )
    called_at(mark, process)  # the looping check is running (it was a sleep of 4 s)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted: the check was stopped; nothing was recorded" in err
    assert "Traceback" not in err
    assert _history(cli) == []


def test_an_attempt_that_is_not_a_regular_file_is_refused_at_once(tmp_path):
    """A pipe (`--file <(cat a.py)`) read once then gave the check nothing, and the error was
    recorded as Again; a fifo with no writer waited forever, /dev/zero filled the memory."""
    import os

    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    read, write = os.pipe()
    os.write(write, b"def add_one(x):\n    return x + 1\n")
    os.close(write)
    started = time.monotonic()
    for path in (fifo, f"/dev/fd/{read}", "/dev/zero"):
        with pytest.raises(StudyError, match="is not a regular file: save your attempt"):
            solve.read_attempt(Path(path))
    assert time.monotonic() - started < 5
    os.close(read)
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * (solve.ATTEMPT_LIMIT + 1))
    with pytest.raises(StudyError, match="is over 5 MB"):
        solve.read_attempt(big)
    loop = tmp_path / "loop.py"
    loop.symlink_to(tmp_path / "back.py")
    (tmp_path / "back.py").symlink_to(loop)
    with pytest.raises(StudyError, match="is a loop of symbolic links"):
        solve.read_attempt(loop)
    (tmp_path / "ok.py").write_text("x = 1\n")
    assert solve.read_attempt(tmp_path / "ok.py") == "x = 1\n"


def test_a_traceback_through_a_huge_line_is_cut(cli, attempt):
    """A line of 2 MB (a literal of data) in a traceback was shown whole: drawing it took 34 s
    and wrote 2.4 MB to the terminal."""
    huge = "def add_one(x):\n    return [" + "1, " * 300_000 + "][10**9]\n"
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(huge))
    assert result.exit_code == 1 and "IndexError" in result.stdout
    assert len(result.stdout) < 20_000 and "1, 1, 1, 1" in result.stdout


def test_escape_sequences_in_a_check_s_message_or_a_file_name_are_written_out():
    """`check`'s table printed a wrong answer's message raw (a screen clear, an OSC 52
    clipboard write), and `solve` the attempt file's name."""
    from rich.console import Console

    from studycli.check.runner import Status
    from studycli.check.verdict import CardResult
    from studycli.cli.check_results import _results_table
    from studycli.cli.solve_flow import Limits
    from studycli.cli.solve_run import _checking

    console = Console(record=True, width=200, force_terminal=True)
    message = "raised ValueError: \x1b[2J\x1b]52;c;aGk=\x07 boom"
    console.print(_results_table([CardResult("add-one", Status.FAIL, 0.1, message)]))
    console.print(
        _checking(Path("esc\x1b[2J\x1b]0;TITLE\x07.py"), Limits(10.0, 1024)), markup=False
    )
    text = console.export_text(styles=False)
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J\\x1b]52;c;aGk=\\x07 boom" in text and "esc\\x1b[2J" in text


def test_bidirectional_overrides_in_what_an_attempt_prints_are_written_out():
    """An attempt's output with U+202E (right-to-left override) or an isolate reached the
    terminal raw, and what followed it on the line read backwards ("Trojan Source"): written
    out, as the control characters are."""
    from studycli.cli.check_outcome import as_shown

    for mark in ("\u202a", "\u202e", "\u2066", "\u2069"):
        shown = as_shown(f"passed {mark}deliaf")
        assert (
            mark not in shown and shown == f"passed {mark.encode('unicode_escape').decode()}deliaf"
        )
    assert as_shown("naïve → ∑ 中文") == "naïve → ∑ 中文"  # (other text is left as it is)


def test_ctrl_c_is_the_editors_from_its_start_and_the_editor_still_gets_it(tmp_path, monkeypatch):
    """`open_editor` ignored Ctrl-C only once the editor had started: a Ctrl-C while it started
    ended the command (KeyboardInterrupt) and left the editor running (found by a helper's
    reading). A handler that does nothing covers the start; the editor, which inherits an
    ignored signal but not a handler, gets Ctrl-C as usual."""
    import signal
    import subprocess

    at_start = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        at_start.append(signal.getsignal(signal.SIGINT))
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    before = signal.getsignal(signal.SIGINT)
    seen = tmp_path / "attempt.py"
    editor = "import signal, sys; open(sys.argv[1], 'w').write(str(signal.getsignal(2)))"
    open_editor(seen, [sys.executable, "-c", editor])
    handler = at_start[0]
    assert handler not in (signal.SIG_IGN, signal.SIG_DFL, signal.default_int_handler)
    handler(signal.SIGINT, None)  # a Ctrl-C then: nothing happens (no KeyboardInterrupt)
    assert seen.read_text() == str(signal.default_int_handler)  # not ignored in the editor
    assert signal.getsignal(signal.SIGINT) is before


def test_a_carried_import_sharing_its_line_with_the_learners_code_keeps_the_file_theirs(
    tmp_path, content_copy
):
    """An import the starter once carried is left out of the comparison only where it is
    alone on its lines: `import heapq; LIMIT = 3` is the learner's code too, and a file
    holding it is no older starter, to be deleted for the new one."""
    module = content_copy / "solutions" / "arith.py"
    module.write_text("import heapq\n" + module.read_text())
    content = load_content(content_copy)
    card = content.get("add-one")
    current = solve.ensure_attempt(card, content, tmp_path / "current.py").read_text()
    shared = tmp_path / "shared.py"
    shared.write_text("import heapq; LIMIT = 3\n\n\n" + current)
    assert starters.starter_kind(card, content, shared) == "stub"


def test_the_last_definition_of_the_function_is_the_one_that_counts(tmp_path):
    """A file with the starter's stub and, below it, the learner's answer under the same name:
    the answer is what the check calls, so the file is no untouched starter."""
    content = fixture_content()
    card = content.get("add-one")
    path = solve.ensure_attempt(card, content, tmp_path / "answered.py")
    path.write_text(path.read_text() + "\n\ndef add_one(x):\n    return x + 1\n")
    assert not starters.is_untouched(card, content, path)


def test_a_save_that_does_not_compile_is_told_apart_from_one_that_does(tmp_path):
    """`solve --watch` waits for a save that does not compile to settle (an editor caught half
    way through writing it); one that compiles, or cannot be read, is checked at once."""
    half = tmp_path / "half.py"
    half.write_text("def add_one(x):\n    return x +")
    whole = tmp_path / "whole.py"
    whole.write_text("def add_one(x):\n    return x + 1\n")
    assert not solve.compiles(half)
    assert solve.compiles(whole) and solve.compiles(tmp_path / "missing.py")


def test_an_editor_variable_of_blanks_is_no_editor():
    assert editor_command({"EDITOR": "   "}) is None


def test_an_editor_ended_by_a_signal_other_than_ctrl_c_is_an_error(tmp_path):
    """Killed (SIGTERM, a closed terminal's SIGHUP), the editor may not have saved: the
    attempt is not checked as if the learner had finished."""
    path = tmp_path / "attempt.py"
    path.write_text("")
    with pytest.raises(StudyError, match="exited with status -15; your file is"):
        open_editor(path, ["sh", "-c", "kill -TERM $$", "editor"])


def test_an_attempts_check_finds_the_solution_module_loaded_by_its_worker(
    content_copy, tmp_path, fresh_pool
):
    """Each attempt's check loaded the card's solution module itself, and ran its top level
    again (its imports, its tables): the worker that checks a card's attempts loads it once,
    as a whole `check`'s workers do. (A pool of its own: one an earlier test's `check` left
    held up to four zygotes that fork the CPU's checks, each loading the module once: after
    test_check_verify in one process it read 3 loads.)"""
    loads = tmp_path / "loads"  # a line per load of the module (the path is in its text: a
    # worker started by an earlier test has not this test's environment)
    module = content_copy / "solutions" / "arith.py"
    module.write_text(
        f"with open({str(loads)!r}, 'a') as _loads:\n"
        "    _loads.write('loaded\\n')\n" + module.read_text()
    )
    content = load_content(content_copy)
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    path.write_text(CORRECT)
    solve.warm_up(card, content)
    for _ in range(4):
        outcome = solve.run_check(card, content, path, timeout=30.0, memory_mb=1024)
        assert outcome.status == "pass", outcome
    # once by the worker that forks the checks, never once a check (4)
    assert len(loads.read_text().splitlines()) == 1


def test_an_attempt_that_cannot_be_read_is_the_learners_to_fix_not_a_checks_outcome(tmp_path):
    content = fixture_content()
    card = content.get("add-one")
    with pytest.raises(StudyError, match="is a folder, not an attempt"):
        solve.run_check(card, content, tmp_path, timeout=5.0, memory_mb=512)


def test_watch_ctrl_c_as_its_first_check_starts_ends_it_as_q_does(tmp_path, monkeypatch):
    """A Ctrl-C that lands while the first check is being started (after its "checking ..."
    line, in the ms the starter is compared) escaped the watch: `solve --watch` said
    "interrupted" and exited 130, where a Ctrl-C ends a watch as q does (exit 1, nothing
    recorded), and the check's thread, started or not, was never stopped."""
    from rich.console import Console

    from studycli.cli import solve_flow, solve_watch

    content = fixture_content()
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    path.write_text(WRONG)  # (the starter starts no check)

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(starters, "is_untouched", interrupted)
    console = Console(record=True, width=100)
    try:
        attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(10, 1024))
    except KeyboardInterrupt:
        pytest.fail("the Ctrl-C escaped the watch")
    assert attempt is None  # no check finished: nothing to record
    assert "checking attempt.py" in console.export_text()


def test_a_hint_that_wraps_stays_indented_under_the_failure():
    """At 80 columns a failure's hint ran over two lines, the second from the panel's edge:
    it read as the checker's next sentence, not as more of the hint."""
    from rich.console import Console

    from studycli.cli.check_outcome import outcome_view

    hint = "a heap or a sorted window costs O(log k) per element, max() of a window O(k)"
    for message in (
        f"max_sliding_window(nums, k=1024): made more than 81920 comparisons\n  hint: {hint}",
        f"next_greater([2, 1]): expected [-1, -1], got [1, -1]\n  hint: {hint}",  # a case
    ):
        console = Console(record=True, width=60)
        console.print(outcome_view(Outcome("fail", message, 0.1)))
        lines = [line.strip("│").rstrip() for line in console.export_text().splitlines()]
        start = next(i for i, line in enumerate(lines) if "hint:" in line)
        hint_lines = lines[start : start + 2]
        assert hint_lines[0].startswith("   hint: a heap"), lines
        assert hint_lines[1].startswith("   ") and hint_lines[1].strip(), lines
        assert " ".join(line.strip() for line in hint_lines) == f"hint: {hint}"


def test_a_traceback_line_that_wraps_stays_at_its_indent():
    """At 80 columns a traceback's `File ".../attempts/sliding-window-max.py", line 2, in ...`
    went on at the panel's edge, and so did a long line of the answer's code, each rest read
    as a line of its own (a hint's lines keep their indent: the test above)."""
    from rich.console import Console

    from studycli.cli.check_outcome import outcome_view

    path = "/home/learner/.local/share/studycli/attempts/sliding-window-max.py"
    code = "return [max(nums[i : i + k]) for i in range(len(nums) - k + 1)]  # O(n k): max()"
    traceback = f'  File "{path}", line 2, in max_sliding_window\n    {code}\n'
    console = Console(record=True, width=80)
    console.print(outcome_view(Outcome("fail", "too slow", 0.1, traceback=traceback)))
    lines = [line[2:-2].rstrip() for line in console.export_text().splitlines()[1:-1]]
    start = next(i for i, line in enumerate(lines) if line.startswith("  File"))
    shown = lines[start:]
    assert len(shown) == 4, lines  # each of the two lines wrapped once
    assert shown[1] == "  line 2, in max_sliding_window", lines
    assert shown[2].startswith("    return") and shown[3].startswith("    ") and shown[3].strip()
    assert " ".join(" ".join(shown).split()) == " ".join(traceback.split())


def test_a_solve_says_the_card_was_edited_since_its_last_review(cli, attempt, content_copy):
    """As `review` shows a card's flags before it: `solve` after the card's starter changed
    (an attempt file written from the old one no longer fits it) says so before the check."""
    first = cli("--content", content_copy, "solve", "add-one", "--file", attempt(CORRECT))
    assert first.exit_code == 0, first.output
    assert "edited since your last review" not in first.stdout
    module = content_copy / "solutions" / "arith.py"
    module.write_text(module.read_text().replace("def add_one(x: int)", "def add_one(x: int, k=1)"))
    again = cli("--content", content_copy, "solve", "add-one", "--file", attempt(CORRECT))
    assert again.exit_code == 0, again.output
    said = again.stdout.splitlines()[0]
    assert said == "edited since your last review: its starter (signature or docstring)"


def test_a_solve_that_records_nothing_says_the_card_was_edited_and_writes_nothing(
    cli, attempt, content_copy
):
    """`solve --no-record` showed no flag: the learner practising a card whose starter changed
    since their last review was not told, though reading the flags writes nothing. The
    database is read as it is: its file, and what it holds, are left byte for byte."""
    import sqlite3

    from studycli.paths import database_path

    first = cli("--content", content_copy, "solve", "add-one", "--file", attempt(CORRECT))
    assert first.exit_code == 0, first.output
    module = content_copy / "solutions" / "arith.py"
    module.write_text(module.read_text().replace("def add_one(x: int)", "def add_one(x: int, k=1)"))
    db = database_path()
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists()  # (the recording solve closed it: every review is in the file)

    def held() -> tuple:
        """The file's bytes, and the rows of each table, read as SQLite reads them."""
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        rows = {name: conn.execute(f"SELECT * FROM {name}").fetchall() for (name,) in tables}
        conn.close()
        return db.read_bytes(), rows

    before = held()
    again = cli(
        "--content", content_copy, "solve", "add-one", "--file", attempt(WRONG), "--no-record"
    )  # fmt: skip
    assert again.exit_code == 1, again.output
    said = again.stdout.splitlines()[0]
    assert said == "edited since your last review: its starter (signature or docstring)"
    assert held() == before
    assert not wal.exists() or wal.stat().st_size == 0  # (a reader's -wal is left empty)


def test_a_ctrl_c_while_the_rating_waits_to_open_the_database_says_it_was_not_recorded(
    cli, attempt, monkeypatch
):
    """Another program keeping the database from being read at all (an exclusive locking
    mode) once the check has passed: the rating's wait is in opening the database, and a
    Ctrl-C there said only "interrupted", where a Ctrl-C in the write's wait says that the
    rating was not recorded and how to record it."""
    import signal
    import sqlite3
    import threading

    from studycli.cli import solve_flow
    from studycli.paths import database_path
    from studycli.study import busy

    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 5.0)
    held: list[sqlite3.Connection] = []
    real_check = solve_flow.check

    def check_then_lock(*args, **kwargs):
        outcome = real_check(*args, **kwargs)
        lock = sqlite3.connect(database_path(), isolation_level=None)
        lock.execute("PRAGMA locking_mode = EXCLUSIVE")
        lock.execute("BEGIN EXCLUSIVE")
        held.append(lock)
        threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,)).start()
        return outcome

    cli("--content", FIXTURE_CONTENT, "list")  # (the database made before the lock)
    monkeypatch.setattr(solve_flow, "check", check_then_lock)
    answer = attempt(CORRECT)
    try:
        result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    finally:
        for lock in held:
            lock.execute("ROLLBACK")
            lock.close()
    said = " ".join(result.stdout.split())
    assert result.exit_code == 130 and "passed" in said, said
    assert "interrupted: Good was not recorded" in said, said
    assert _history(cli) == []


@pytest.mark.parametrize(
    "raising",
    [
        "def add_one(x):\n    raise ValueError('x' * 10_000_000 + 'EN' + 'D')\n",  # in the call
        "raise ValueError('x' * 10_000_000 + 'EN' + 'D')\ndef add_one(x):\n    return x + 1\n",
        "class Stop(BaseException):\n    pass\ndef add_one(x):\n    raise Stop('x' * 10**7 + 'EN' + 'D')\n",
    ],
)
def test_an_exception_with_a_huge_message_is_shown_cut_saying_so(cli, attempt, raising):
    """An attempt raising a 10 MB message filled the failure panel with 263 lines of it (the
    first 20,000 characters, cut with nothing said), the call and the traceback scrolled out
    of sight. Its start is shown, as much as an output's tail, and how much more it had."""
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(raising), "--no-record"
    )  # fmt: skip
    assert result.exit_code == 1, result.stdout
    panel = "".join(line.strip("│ ") for line in result.stdout.splitlines())
    assert "END" not in panel and panel.count("x") < 2100, result.stdout
    assert "… 9,998,003 more characters not shown" in panel, result.stdout


def test_an_exception_message_of_many_lines_is_shown_cut_saying_so(cli, attempt):
    """A message of 100,000 line feeds: its first 2000 characters were 2000 empty lines."""
    raising = "def add_one(x):\n    raise ValueError('\\n' * 100_000 + 'EN' + 'D')\n"
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(raising), "--no-record"
    )  # fmt: skip
    assert result.exit_code == 1 and "END" not in result.stdout, result.stdout
    assert len(result.stdout.splitlines()) < 60, result.stdout
    assert "… 99,964 more characters not shown" in result.stdout, result.stdout


def test_an_output_of_many_short_lines_is_shown_to_its_last_lines(cli, attempt):
    """`print()` in a loop: the 2000 bytes of output kept were 1990 empty lines in the panel,
    the failing call scrolled far out of sight. Its last lines are shown, after how many came
    before them (counted with those the check left out)."""
    flood = "def add_one(x):\n    print('\\n' * 100_000 + 'bottom')\n    return x\n"
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(flood), "--no-record"
    )  # fmt: skip
    assert result.exit_code == 1 and "your output" in result.stdout
    assert len(result.stdout.splitlines()) < 80, result.stdout
    panel = [line.strip("│ ") for line in result.stdout.splitlines()]
    start = next(i for i, line in enumerate(panel) if line.startswith("╭─ your output")) + 1
    said = panel[start]
    assert said.startswith("… ") and said.endswith(" earlier lines not shown"), result.stdout
    left_out = int(said.split()[1].replace(",", ""))
    shown = panel[start + 1 : panel.index("bottom") + 1]
    assert shown == [""] * (len(shown) - 1) + ["bottom"]
    assert left_out + len(shown) == 100_001, (left_out, len(shown))


def test_the_untouched_starter_is_not_checked(cli):
    """`solve` checked the starter left as it was written (a NotImplementedError panel, as if
    the learner's answer had failed) before saying it was still the starter, where `review`'s
    `s` and `solve --watch` check no starter. Now it says so without a check, and how to go on."""
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    said = " ".join(result.stdout.split())
    assert result.exit_code == 1, result.output
    assert "not recorded: the attempt is still the starter (write your answer first)" in said
    assert "checking" not in said and "NotImplementedError" not in said, said
    assert f"your attempt stays in {attempts_dir() / 'add-one.py'}" in said, said
    assert _history(cli) == []


def test_a_solves_check_gets_one_torch_thread_however_many_cores(attempt, monkeypatch):
    """The checkers' problems are tiny (small tensors, many small ops): a thread per core only
    added synchronisation, and on a busy machine waits for descheduled threads (online-softmax's
    check 0.09 s with one thread, 0.7 s with two on the loaded 2-core box)."""
    monkeypatch.setattr(solve.pool, "cores", lambda: 8)
    monkeypatch.setattr(solve, "warm_up", lambda card, content: None)
    jobs = []
    monkeypatch.setattr(solve, "run_job", lambda job: jobs.append(job) or Outcome("pass", "", 0.0))
    content = load_content(FIXTURE_CONTENT)
    solve.run_check(content.get("add-one"), content, attempt(CORRECT), timeout=10, memory_mb=1024)
    [job] = jobs
    assert job.threads == 1
