"""`solve`: attempt files, the editor, and the check with its time and memory limits; the
outcome becomes the rating (a first-try pass -> Good, a pass after hints or failed runs ->
Hard, anything else -> Again; in a terminal the learner may pick 2, 3 or 4)."""

from __future__ import annotations

import json
import sys
import time

import pytest

from studycli.check import solve
from studycli.check.runner import Outcome
from studycli.errors import StudyError
from studycli.paths import attempts_dir

from .conftest import FIXTURE_CONTENT
from .study_support import fixture_content

CORRECT = "def add_one(x):\n    return x + 1\n"
WRONG = "def add_one(x):\n    return x + 2\n"
LOOPS = "def add_one(x):\n    while True:\n        pass\n"
HOGS = (
    "def add_one(x):\n    blocks = []\n    while True:\n"
    "        blocks.append(bytearray(32 * 1024 * 1024))\n"
)


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


def test_a_wrong_attempt_fails_shows_the_failing_case_and_records_again(cli, attempt):
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(WRONG))
    assert result.exit_code == 1
    out = result.stdout
    assert "failed" in out and "add_one(-3)" in out
    assert "expected" in out and "-2" in out and "actual" in out and "-1" in out
    assert _history(cli)[0]["rating"] == 1


def test_no_record_leaves_the_log_alone(cli, attempt):
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--no-record", "--file", attempt(CORRECT)
    )
    assert result.exit_code == 0
    assert _history(cli) == []


def test_an_infinite_loop_is_ended_by_the_time_limit(cli, attempt):
    started = time.monotonic()
    result = cli(
        "--content", FIXTURE_CONTENT, "solve", "add-one", "--timeout", "1", "--file", attempt(LOOPS)
    )
    assert time.monotonic() - started < 8
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


def test_the_attempt_file_starts_from_the_starter_and_is_never_overwritten():
    content = fixture_content()
    card = content.get("add-one")
    path = solve.ensure_attempt(card, content)
    assert path == attempts_dir() / "add-one.py"
    assert "def add_one(x: int) -> int:" in path.read_text()
    assert "raise NotImplementedError" in path.read_text()
    path.write_text(CORRECT)
    assert solve.ensure_attempt(card, content).read_text() == CORRECT


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
    assert (attempts_dir() / "add-one.py").read_text() == CORRECT


def test_without_an_editor_or_a_terminal_the_message_says_what_to_do(cli, monkeypatch):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one")
    assert result.exit_code == 1
    assert "set $EDITOR" in result.stderr and "--no-edit" in result.stderr


def test_no_edit_checks_the_attempt_as_it_is(cli):
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    assert result.exit_code == 1
    assert "not implemented yet" in result.stdout  # the fresh starter
    assert "not recorded: the attempt is still the starter" in result.stdout
    assert _history(cli) == []


def test_a_check_review_records_how_long_it_took(cli, attempt):
    cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt(CORRECT))
    [entry] = _history(cli)
    assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0


def test_a_concept_card_has_nothing_to_solve(cli):
    result = cli("--content", FIXTURE_CONTENT, "solve", "bias-concept", "--no-edit")
    assert result.exit_code == 1 and "no solution to run" in result.stderr


def test_editor_command_prefers_visual_and_splits_like_a_shell():
    assert solve.editor_command({"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert solve.editor_command({"EDITOR": "'my editor' -n"}) == ["my editor", "-n"]
    assert solve.editor_command({}) is None


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
    case = solve.failing_case("add_one(-3): expected -2, got -1")
    assert (case.what, case.expected, case.actual) == ("add_one(-3)", "-2", "-1")
    case = solve.failing_case("f(x): at index (0, 1): expected 0.5, got 0.25 (3 of 9 values off)")
    assert (case.expected, case.actual) == ("0.5", "0.25")
    assert solve.failing_case("something else broke") is None


def test_watch_reruns_on_save_until_it_passes(tmp_path):
    """Driven in-process: a thread saves a fixed answer while `watch` polls the file."""
    import threading

    from rich.console import Console

    from studycli.cli.solve_flow import Limits, watch

    content = fixture_content()
    path = tmp_path / "attempt.py"
    path.write_text(WRONG)
    console = Console(record=True, width=100)

    def save_fix():
        time.sleep(1.5)
        path.write_text(CORRECT + "\n# fixed\n")

    saver = threading.Thread(target=save_fix)
    saver.start()
    attempt = watch(console, content.get("add-one"), content, path, Limits(10, 1024))
    saver.join()
    assert attempt.outcome.status == "pass"
    text = console.export_text()
    assert text.index("failed") < text.index("passed")
    assert (attempt.failed_runs, attempt.hints_shown) == (1, 0)
    assert attempt.rating() == 2 and attempt.how() == "1 failed run first"  # Hard by default


def test_the_solve_error_for_a_missing_file(cli, tmp_path):
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", tmp_path / "nope.py")
    assert result.exit_code == 1 and "no such file" in result.stderr


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
    child.expect(r"Enter: Good \(first try\) · 2, 3 or 4 to choose")
    child.send("1")  # not a choice after a pass: ignored
    child.send(key)
    child.expect("recorded")
    child.expect(pexpect_eof())
    assert _recorded(tmp_path) == [(recorded, "check")]


def test_a_watched_pass_after_a_hint_and_a_failed_run_offers_hard(tmp_path):
    import time as clock

    child = _spawn_solve(tmp_path, "--watch")
    child.expect("watching")
    path = tmp_path / "home" / "data" / "attempts" / "add-one.py"
    child.expect("failed")  # the starter raises NotImplementedError
    child.send("h")
    child.expect("Hint 1 of 2")
    clock.sleep(0.1)
    with open(path, "w") as handle:
        handle.write(CORRECT)
    child.expect("passed every case")
    child.expect(r"Enter: Hard \(1 hint, 1 failed run first\)")
    child.send("\r")
    child.expect("recorded Hard")
    child.expect(pexpect_eof())
    assert _recorded(tmp_path) == [(2, "check")]


def pexpect_eof():
    import pexpect

    return pexpect.EOF
