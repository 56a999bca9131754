"""`solve --watch` on a pseudo-terminal while a check runs: `q`, a new save and `h` act at once,
not when the check ends (an infinite loop's check ends only at its time limit).

The limit is set high (`LIMIT`) and each reaction must come well within a third of it: these
machines are noisy, so the bound is relative to the limit that the old behaviour waited for.
"""

from __future__ import annotations

import io
import time

import pexpect
import pytest

from .test_check_solve import (
    CORRECT,
    WRONG,
    _older_starter,
    _recorded,
    _save,
    _spawn_solve,
    called_at,
    loops_marking,
)

STARTER = "waiting for add-one.py to be saved"  # the starter, when the watch starts
LIMIT = 30  # check_timeout, seconds: what a looping check would take to end by itself
PROMPTLY = LIMIT / 3


@pytest.fixture
def watching(tmp_path):
    """watching(*args) -> (child, its output so far): `solve add-one --watch` with the check's
    limit at LIMIT s."""
    config = tmp_path / "home" / "config" / "settings.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"check_timeout = {LIMIT}\n")
    children = []

    def spawn(*args: str):
        child = _spawn_solve(tmp_path, "--watch", *args)
        child.logfile_read = io.StringIO()
        children.append(child)
        child.expect("watching")
        return child

    yield spawn
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def _within(child, pattern, what: str) -> float:
    """Seconds until `pattern` shows; fails unless it does within PROMPTLY."""
    started = time.monotonic()
    try:
        child.expect(pattern, timeout=PROMPTLY)
    except pexpect.TIMEOUT:
        pytest.fail(f"{what}: not within {PROMPTLY:g} s (the check's limit is {LIMIT} s)")
    return time.monotonic() - started


def _attempt(tmp_path):
    return tmp_path / "home" / "data" / "attempts" / "add-one.py"


def _looping(child, tmp_path) -> None:
    """Save an infinite loop as the attempt and wait until its check has started (it calls
    the loop: it was a sleep of 0.5 s after "checking")."""
    time.sleep(0.1)  # a later modification time than the last check's
    mark = tmp_path / "loop-called"
    _save(_attempt(tmp_path), loops_marking(mark))
    child.expect("checking")
    called_at(mark)


def _output(child) -> str:
    return child.logfile_read.getvalue()


@pytest.mark.parametrize(
    "key, said", [("q", "q pressed"), ("\x03", "Ctrl-C pressed"), ("\x04", "Ctrl-D pressed")]
)
def test_q_during_a_looping_check_stops_it_at_once_and_records_the_last_finished(
    tmp_path, watching, key, said
):
    """Ctrl-C and Ctrl-D end a watch as q does: the wrong answer that failed is the attempt.
    (Ctrl-D ended it with click's bare "Aborted.", the check's process left to the exit, and
    nothing recorded.)"""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    _save(_attempt(tmp_path), WRONG)
    child.expect("expected")  # the learner's wrong answer: a finished check of their code
    _looping(child, tmp_path)
    child.send(key)
    _within(child, pexpect.EOF, f"exit after {said}")
    child.close()
    assert child.exitstatus == 1
    assert f"stopped: {said}" in _output(child) and "Traceback" not in _output(child)
    assert _recorded(tmp_path) == [(1, "check")]  # Again, for the wrong answer that failed


def test_ctrl_c_after_a_failed_check_records_it(tmp_path, watching):
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    _save(_attempt(tmp_path), WRONG)
    child.expect("expected")  # the wrong answer: its failing case
    child.sendintr()
    _within(child, "recorded Again", "the failed attempt recorded")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1 and "interrupted" not in _output(child)
    assert _recorded(tmp_path) == [(1, "check")]


def test_a_save_during_a_looping_check_checks_the_new_file_at_once(tmp_path, watching):
    """The loop's stopped check is no failed run: the pass is a first try (Good)."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    _looping(child, tmp_path)
    _save(_attempt(tmp_path), CORRECT)
    _within(child, "passed every case", "the new file's pass")
    child.expect(r"Enter: Good \(first try this solve\)")
    child.send("\r")
    child.expect("recorded Good")
    child.expect(pexpect.EOF)
    out = _output(child)
    assert "stopped: the file changed" in out
    assert "Traceback" not in out and "✗ error" not in out and "✗ timeout" not in out
    assert _recorded(tmp_path) == [(3, "check")]


def test_q_during_the_first_check_exits_at_once_and_records_nothing(tmp_path, watching):
    """Quitting before any check of one's code finished is no attempt."""
    loop = tmp_path / "loop.py"
    mark = tmp_path / "loop-called"
    loop.write_text(loops_marking(mark))
    child = watching("--file", str(loop))
    child.expect("checking")
    called_at(mark)  # (it was a sleep of 0.5 s)
    child.send("q")
    _within(child, pexpect.EOF, "exit after q during the first check")
    child.close()
    assert child.exitstatus == 1
    out = _output(child)
    assert "nothing recorded" in out and "Traceback" not in out and "✗" not in out
    assert _recorded(tmp_path) == []


def test_h_during_a_looping_check_shows_the_hints_at_once(tmp_path, watching):
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    _looping(child, tmp_path)
    child.send("h")
    _within(child, "Hint 1 of 2", "the first hint")
    child.send("h")
    _within(child, "Hint 2 of 2", "the second hint")
    child.send("h")  # no more: the line names the command that shows this card's answer
    _within(child, "no more hints: `studycli show add-one --answer`", "the last line")
    child.send("q")
    _within(child, pexpect.EOF, "exit after q")
    assert _recorded(tmp_path) == []  # the loop's check never finished: nothing to record


def test_a_file_deleted_and_written_again_is_waited_for_and_finished_attempts_kept(
    tmp_path, watching
):
    """Some editors and sync tools delete the file, then write it: the check of the missing
    file ended the watch ("no such file") and threw away the wrong answer that had failed."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    _save(_attempt(tmp_path), WRONG)
    child.expect("expected")  # a finished check of the learner's code
    _attempt(tmp_path).unlink()
    _within(child, "waiting for add-one.py to be saved again", "the wait for the file")
    time.sleep(0.3)
    _save(_attempt(tmp_path), CORRECT)
    _within(child, "passed every case", "the pass once the file is back")
    child.expect(r"Enter: Hard \(1 failed run first\)")
    child.send("\r")
    child.expect(pexpect.EOF)
    out = _output(child)
    assert "no such file" not in out and "Traceback" not in out
    assert _recorded(tmp_path) == [(2, "check")]  # Hard: the wrong answer counted, once


def test_a_file_emptied_before_it_is_written_is_not_checked_empty(tmp_path, watching):
    """An editor that truncates the file, then writes it: about one save in three was checked
    while empty ("defines no function"), a failed run of the learner's, so that the right answer
    saved next passed as Hard (a helper's simulated week, `solve --watch`)."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    _save(_attempt(tmp_path), WRONG)
    child.expect("expected")  # a finished check of the learner's code
    time.sleep(0.1)
    _attempt(tmp_path).write_text("")
    _within(child, "waiting for add-one.py to be saved again", "the wait for the file")
    time.sleep(0.5)  # (longer than the check of an empty file took)
    _save(_attempt(tmp_path), CORRECT)
    _within(child, "passed every case", "the pass once the file is written")
    child.expect(r"Enter: Hard \(1 failed run first\)")  # the wrong answer, not the empty file
    child.send("\r")
    child.expect(pexpect.EOF)
    assert "defines no function" not in _output(child)
    assert _recorded(tmp_path) == [(2, "check")]


def test_a_syntax_error_left_saved_is_reported_and_counted(tmp_path, watching):
    """A save that does not compile is checked once it has stayed so for a moment (one caught
    half written is not: see test_check_solve); the learner's own syntax error, left saved,
    is still shown, and counts as a failed run before the pass."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    _save(_attempt(tmp_path), CORRECT.replace("):", ")", 1))  # "def add_one(x)": no colon
    _within(child, "✗ error", "the syntax error's check")
    child.expect("SyntaxError")
    time.sleep(0.1)
    _save(_attempt(tmp_path), CORRECT)
    _within(child, "passed every case", "the pass")
    child.expect(r"Enter: Hard \(1 failed run first\)")
    child.send("\r")
    child.expect(pexpect.EOF)
    assert _recorded(tmp_path) == [(2, "check")]


def test_without_a_terminal_the_watch_is_refused_as_review_is(tmp_path):
    """With stdin not a terminal (`</dev/null`, a script), the watch ran for ever, offering
    "h next hint · q stop", keys it could not read. Refused at once, as `review` is."""
    import os
    import subprocess
    import sys

    from .conftest import FIXTURE_CONTENT, REPO_ROOT

    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT)]
    environment = {**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")}
    try:
        done = subprocess.run(
            [*command, "solve", "add-one", "--watch"], stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60, env=environment, cwd=REPO_ROOT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("solve --watch without a terminal was still watching after 60 s")
    said = " ".join(done.stderr.split())
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert "`studycli solve --watch` reads keys from a terminal: run it in one" in said
    assert "studycli solve add-one --no-edit" in said
    assert not (tmp_path / "home" / "data" / "attempts").exists()  # (refused before anything)


def test_the_starter_is_not_checked_when_the_watch_starts(tmp_path, watching):
    """The watch checked the untouched starter first thing, and showed its "✗ failed ... not
    implemented yet" box: a starter is no attempt, and `review`'s `s` checks none (README).
    It says where to write the answer, and waits for a save."""
    child = watching()
    _within(child, STARTER, "the wait for a save")
    child.send("q")
    _within(child, pexpect.EOF, "exit after q")
    child.close()
    out = " ".join(_output(child).split())
    assert f"{_attempt(tmp_path)} is still the starter: write your answer in it" in out, out
    assert "checking" not in out and "not implemented yet" not in out and "✗" not in out
    assert child.exitstatus == 1 and "nothing recorded" in out
    assert _recorded(tmp_path) == []


def test_q_at_an_older_starter_records_nothing(tmp_path, watching):
    """The attempt file an older version wrote, its card's starter changed since: it is a
    starter, no attempt of the learner's (its check was recorded Again once), and is not
    checked: the watch says the starter changed, and waits."""
    _attempt(tmp_path).parent.mkdir(parents=True)
    _attempt(tmp_path).write_text(_older_starter())
    child = watching()
    child.expect(STARTER)
    child.send("q")
    _within(child, pexpect.EOF, "exit after q")
    child.close()
    out = " ".join(_output(child).split())
    assert "starter has changed since" in out and "nothing recorded" in out
    assert "checking" not in out and "not implemented yet" not in out
    assert child.exitstatus == 1 and "Traceback" not in out
    assert _recorded(tmp_path) == []


def test_a_save_that_is_not_utf8_is_said_and_the_watch_goes_on(tmp_path, watching):
    """An editor set to Latin-1 (an accent in a comment) saves a file the check cannot read:
    the watch ended with the error, the learner's earlier failed run unrecorded, and the fix
    the message asked for ("save your attempt as UTF-8") found no watch to check it."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    _save(_attempt(tmp_path), WRONG)
    child.expect("expected")  # a finished check of the learner's code
    time.sleep(0.1)
    partial = _attempt(tmp_path).with_suffix(".saving")
    partial.write_bytes(("# caf\xe9\n" + CORRECT).encode("latin-1"))
    partial.replace(_attempt(tmp_path))
    _within(child, "not UTF-8 text", "the error")
    time.sleep(0.5)
    assert child.isalive(), _output(child)
    _save(_attempt(tmp_path), "# café\n" + CORRECT)
    _within(child, "passed every case", "the pass once saved as UTF-8")
    child.expect(r"Enter: Hard \(1 failed run first\)")  # the wrong answer, not the unreadable save
    child.send("\r")
    child.expect(pexpect.EOF)
    assert "Traceback" not in _output(child)
    assert _recorded(tmp_path) == [(2, "check")]


def test_an_attempt_that_writes_other_bytes_to_its_own_file_is_checked_once(tmp_path, watching):
    """An attempt whose code appends to its own file (a log of its runs) left different bytes
    each check: the watch took the check's write for a save, stopped the check ("the file
    changed") or checked again once it ended, and did so for ever, every check a failed run.
    Its own writes start no check; the learner's next save does."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    logs = (
        "import time\n\n\ndef add_one(x):\n"
        "    with open(__file__, 'a') as own:\n"
        "        own.write(f'# run at {time.time()}\\n')\n"
        "    return x + 2\n"
    )
    _save(_attempt(tmp_path), logs)
    child.expect("expected")  # its failing case
    written = _attempt(tmp_path).read_text()
    assert written.startswith(logs) and "# run at" in written  # (it did write its file)
    child.expect(pexpect.TIMEOUT, timeout=2)  # what it says in 2 s (the watch's many looks)
    assert _output(child).count("checking add-one.py") == 1, _output(child)  # logs, once
    time.sleep(0.1)
    _save(_attempt(tmp_path), CORRECT)
    _within(child, "passed every case", "the next save's pass")
    child.expect(r"Enter: Hard \(1 failed run first\)")
    child.send("\r")
    child.expect(pexpect.EOF)
    out = " ".join(_output(child).split())
    assert "stopped: the file changed" not in out
    assert "your attempt wrote add-one.py itself while it was checked" in out
    assert _recorded(tmp_path) == [(2, "check")]


def test_an_attempt_that_writes_its_own_file_then_loops_is_not_stopped_by_its_write(
    tmp_path, watching
):
    """A check whose code wrote its own file while it ran was stopped at that write ("the file
    changed") and the file checked again, which wrote it again: no check ever finished."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    time.sleep(0.1)
    mark = tmp_path / "loop-called"
    writes = loops_marking(mark).replace(
        "    while True:\n", "    open(__file__, 'a').write('# run\\n')\n    while True:\n"
    )
    _save(_attempt(tmp_path), writes)
    child.expect("checking")
    called_at(mark)
    child.expect(pexpect.TIMEOUT, timeout=2)  # what it says in 2 s (the watch's many looks)
    assert _attempt(tmp_path).read_text().endswith("# run\n")  # (it did write its file)
    out = _output(child)
    assert "stopped" not in out and out.count("checking add-one.py") == 1, out
    child.send("q")
    _within(child, pexpect.EOF, "exit after q")
    assert "stopped: q pressed" in _output(child)


MISNAMED = CORRECT.replace("add_one", "add_on")


@pytest.mark.parametrize("earlier", [[], [WRONG]], ids=["alone", "after-a-failure"])
def test_q_after_a_typo_records_what_solve_without_watch_does(tmp_path, watching, earlier):
    """A save that defines no function of the card's name is a typo, as one that does not
    compile: `solve` without --watch records nothing for it, but q after its check in a watch
    recorded Again (a failed recall of an answer never called). A wrong answer's failure
    before it still stands: q then records Again."""
    child = watching()
    child.expect(STARTER)  # not checked: the watch waits for a save
    for text in [*earlier, MISNAMED]:
        time.sleep(0.1)
        _save(_attempt(tmp_path), text)
        child.expect("checking")
        child.expect("✗ ")
    child.expect(r"name\s+the\s+answer\s+add_one")  # (its one line, no failure's panel)
    child.send("q")
    _within(child, pexpect.EOF, "exit after q")
    child.close()
    out = " ".join(_output(child).split())
    assert child.exitstatus == 1 and "Traceback" not in out
    if earlier:
        assert "recorded Again" in out and _recorded(tmp_path) == [(1, "check")]
    else:
        said = "not recorded: the attempt defines no function add_one your attempt stays in"
        assert said in out and _recorded(tmp_path) == []


def test_an_older_starter_deleted_during_the_watch_is_written_again_as_the_new_starter(
    tmp_path, watching
):
    """The watch says of an older starter "delete PATH to get the new one"; deleted, the file
    stayed gone ("waiting for add-one.py to be saved again"): the new starter came only from a
    solve run after the watch. Now the watch writes it, and waits for a save."""
    from studycli.content.source import card_starter

    from .study_support import fixture_content

    _attempt(tmp_path).parent.mkdir(parents=True)
    _attempt(tmp_path).write_text(_older_starter())
    child = watching()
    child.expect("starter has changed since")
    child.expect(STARTER)
    _attempt(tmp_path).unlink()
    _within(child, "wrote the card's starter", "the new starter")
    content = fixture_content()
    assert _attempt(tmp_path).read_text() == card_starter(
        content.get("add-one"), content.solutions_dir
    )
    time.sleep(0.1)
    _save(_attempt(tmp_path), CORRECT)
    _within(child, "passed every case", "the pass")
    child.expect(r"Enter: Good \(first try this solve\)")  # the starters were no failed runs
    child.send("\r")
    child.expect(pexpect.EOF)
    out = _output(child)
    assert "checking" in out and "not implemented yet" not in out and "Traceback" not in out
    assert _recorded(tmp_path) == [(3, "check")]


def test_an_attempt_deleted_during_the_watch_is_not_replaced_by_the_starter(tmp_path, watching):
    """Only a starter deleted is written again: the learner's own attempt deleted (an editor
    or sync tool that deletes, then writes) is waited for, as before."""
    child = watching()
    child.expect(STARTER)
    time.sleep(0.1)
    _save(_attempt(tmp_path), WRONG)
    child.expect("expected")
    _attempt(tmp_path).unlink()
    _within(child, "waiting for add-one.py to be saved again", "the wait for the file")
    time.sleep(1.0)  # (well past the moment a deleted starter is written again)
    assert not _attempt(tmp_path).exists()
    child.send("q")
    _within(child, pexpect.EOF, "exit after q")
    assert "wrote the card's starter" not in _output(child)
