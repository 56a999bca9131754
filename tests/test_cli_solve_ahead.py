"""`solve` of a card not due yet records a review all the same, moving its schedule (FSRS takes
the early review into account), which a learner practising a card ahead of time may not know:
it is said before the check, with --no-record, and beside q at the choice after a pass; of a
card that is due, or in a learning step later today (the next try after a failure), nothing
is said."""

from __future__ import annotations

import json
import re
import sys

import pexpect

from .conftest import FIXTURE_CONTENT, REPO_ROOT

CORRECT = "def add_one(x):\n    return x + 1\n"
WRONG = "def add_one(x):\n    return x + 2\n"
AHEAD = re.compile(
    r"not due until \d{4}-\d\d-\d\d \(in \d+[hd]\): recording this solve moves its schedule; "
    r"--no-record to practise only"
)


def _solve(cli, monkeypatch, now: str, answer, *extra: str) -> str:
    monkeypatch.setenv("STUDYCLI_NOW", now)
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer, *extra)
    assert "passed" in result.stdout or "failed" in result.stdout, result.output
    return result.stdout


def _ratings(cli) -> list[int]:
    history = cli("--content", FIXTURE_CONTENT, "history", "--json").stdout
    return [entry["rating"] for entry in reversed(json.loads(history))]


def test_a_solve_of_a_card_not_due_says_so_before_the_check(cli, monkeypatch, tmp_path):
    answer = tmp_path / "answer.py"
    answer.write_text(CORRECT)
    new = _solve(cli, monkeypatch, "2025-03-01T09:00:00+00:00", answer)  # Good: due in 10m
    step = _solve(cli, monkeypatch, "2025-03-01T09:15:00+00:00", answer)  # due: Good, 2 days
    assert "not due" not in new + step
    ahead = _solve(cli, monkeypatch, "2025-03-01T09:30:00+00:00", answer)
    assert AHEAD.search(ahead), ahead
    assert ahead.index("not due until") < ahead.index("checking")  # (before the work)
    assert _ratings(cli) == [3, 3, 3]  # (recorded all the same, as it says)
    practised = _solve(cli, monkeypatch, "2025-03-01T09:45:00+00:00", answer, "--no-record")
    assert "not due" not in practised and _ratings(cli) == [3, 3, 3]


def test_the_next_try_after_a_failure_is_not_called_ahead_of_time(cli, monkeypatch, tmp_path):
    """Again puts the card in a learning step due a minute later: `solve` run again at once
    (as the failure's last line says) is the next try, not study ahead of the schedule."""
    answer = tmp_path / "answer.py"
    answer.write_text(WRONG)
    failed = _solve(cli, monkeypatch, "2025-03-01T09:00:00+00:00", answer)
    answer.write_text(CORRECT)
    again = _solve(cli, monkeypatch, "2025-03-01T09:00:20+00:00", answer)
    assert "not due" not in failed + again and _ratings(cli) == [1, 3]


def test_the_choice_after_a_pass_says_the_card_is_not_due_beside_q(cli, monkeypatch, tmp_path):
    """The line before the check may be hidden by the editor, or scrolled away in --watch: the
    choice, where q still records nothing, says it again."""
    home = tmp_path / "home"
    monkeypatch.setenv("STUDYCLI_HOME", str(home))  # (the terminal's solve below reads it)
    answer = tmp_path / "answer.py"
    answer.write_text(CORRECT)
    _solve(cli, monkeypatch, "2025-02-28T09:00:00+00:00", answer)
    _solve(cli, monkeypatch, "2025-02-28T09:15:00+00:00", answer)  # due again on 03-02
    child = pexpect.spawn(
        sys.executable,
        ["-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve", "add-one", "--file",
         str(answer)],
        env={**_environment(home), "STUDYCLI_NOW": "2025-03-01T09:00:00+00:00"},
        cwd=str(REPO_ROOT), encoding="utf-8", timeout=30, dimensions=(40, 120),
    )  # fmt: skip
    child.expect_exact("not due until 2025-03-02 (in 19h)")
    child.expect("passed every case")
    child.expect_exact("q: record nothing (not due until 2025-03-02)")
    child.send("q")
    child.expect_exact("nothing recorded (q)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and _ratings(cli) == [3, 3]


def _environment(home) -> dict[str, str]:
    import os

    return {**os.environ, "STUDYCLI_HOME": str(home), "TERM": "dumb", "TZ": "UTC"}


def test_solves_help_says_a_card_not_due_is_recorded_and_how_to_practise_it(cli):
    said = " ".join(cli("solve", "--help").stdout.split())
    assert "A card that is not due yet is recorded all the same: the review moves its" in said
    assert "--no-record checks your attempt and records nothing, to practise" in said, said
