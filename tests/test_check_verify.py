"""`check` and the isolated runner: verdicts, and that a hang, a memory blow-up or a crash in
one check is that check's outcome while the run goes on."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studycli.check.runner import Candidate, Job, Outcome, run_job
from studycli.check.verdict import SLOW_CHECK, CardResult, verdict
from studycli.check.verify import run_checks
from studycli.cli.check import SKIPPED_NAMED
from studycli.content.loader import load_content

from .conftest import FIXTURE_CONTENT, REPO_ROOT, edit, write_card

TROUBLE = '''
import os

from studycli.assertions import assert_equal, call, fails_with


def hang(x):
    """Return x."""
    return x


def check_hang(impl, device="cpu"):
    if impl is hang:
        if "TROUBLE_HANGS" in os.environ:  # a file that says the hang has begun
            open(os.environ["TROUBLE_HANGS"], "w").close()
        while True:
            pass
    assert_equal(call(impl, "hang(1)", 1), 1, "hang(1)")


def hog(x):
    """Return x."""
    return x


def check_hog(impl, device="cpu"):
    if impl is hog:
        blocks = []
        while True:
            blocks.append(bytearray(64 * 1024 * 1024))
    assert_equal(call(impl, "hog(1)", 1), 1, "hog(1)")


def crash(x):
    """Return x."""
    return x


def check_crash(impl, device="cpu"):
    if impl is crash:
        import os
        os._exit(3)
    assert_equal(call(impl, "crash(1)", 1), 1, "crash(1)")


def lenient(x):
    """Return x."""
    return x


def check_lenient(impl, device="cpu"):
    call(impl, "lenient(1)", 1)  # accepts anything that does not raise


@fails_with("expected 1, got 2")
def _wrong_a(x):
    """Returns x + 1."""
    return x + 1


@fails_with("expected 1, got 0")
def _wrong_b(x):
    """Returns 0."""
    return 0


WRONG_ANSWERS = {
    "hang": [_wrong_a, _wrong_b],
    "hog": [_wrong_a, _wrong_b],
    "crash": [_wrong_a, _wrong_b],
    "lenient": [_wrong_a, _wrong_b],
}
'''


def card(name: str) -> str:
    return (
        f"id: {name}\nkind: coding\ntopic: bias\ntitle: {name}\nprompt: Return x.\n"
        f"solution: trouble:{name}\n"
    )


@pytest.fixture
def trouble(content_copy):
    (content_copy / "solutions" / "trouble.py").write_text(TROUBLE)
    for name in ("hang", "hog", "crash", "lenient"):
        write_card(content_copy, "trouble", name, card(name))
    return content_copy


def job(root, candidate, check="check_add_one", module="arith", timeout=10.0, memory_mb=512):
    return Job(
        str(root / "solutions"), module, check, candidate, timeout=timeout, memory_mb=memory_mb
    )


def test_reference_passes_and_wrong_answer_fails_with_the_input_named():
    passed = run_job(job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")))
    assert passed.status == "pass", passed
    failed = run_job(job(FIXTURE_CONTENT, Candidate("wrong", "add_one", "arith", index=0)))
    assert failed.status == "fail"
    assert "add_one(-3): expected -2, got -1" in failed.message
    assert failed.label.startswith("_wrong_add_two (Adds two instead of one.)")


def test_starter_fails_as_not_implemented():
    starter = "def add_one(x):\n    raise NotImplementedError\n"
    outcome = run_job(job(FIXTURE_CONTENT, Candidate("code", "add_one", code=starter)))
    assert outcome.status == "fail" and "not implemented yet" in outcome.message


def test_learner_file_failure_shows_only_their_frames(tmp_path):
    attempt = tmp_path / "attempt.py"
    attempt.write_text("def add_one(x):\n    print('debug', x)\n    return x // 0\n")
    outcome = run_job(job(FIXTURE_CONTENT, Candidate("file", "add_one", path=str(attempt))))
    assert outcome.status == "fail"
    assert "add_one(-3): raised ZeroDivisionError" in outcome.message
    assert str(attempt) in outcome.traceback and "child.py" not in outcome.traceback
    assert "debug -3" in outcome.output


def test_a_failing_reference_shows_the_solution_frames_and_not_the_runners(tmp_path):
    """A reference's traceback shows every frame but the runner's own (`error_report`'s
    `_own_frames` names the files that run the check: they must follow the code when it
    moves)."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "broken.py").write_text(
        "def f(x):\n    return x\n\n\ndef check_f(impl, device='cpu'):\n"
        "    assert impl(1) == 2, 'f(1) should be 2'\n"
    )
    outcome = run_job(job(tmp_path, Candidate("reference", "f", "broken"), "check_f", "broken"))
    assert outcome.status == "fail", outcome
    assert 'broken.py", line 6, in check_f' in outcome.traceback, outcome.traceback
    assert "studycli/check/" not in outcome.traceback, outcome.traceback


def test_a_reference_whose_module_raises_on_import_shows_its_line_and_not_the_runners(tmp_path):
    """What runs in a check's process is six modules (child, child_limits, timer, first_print,
    loading, error_report: one file, child.py, until it was split), and a reference's traceback
    leaves out the frames of each (`error_report.RUNNERS_FILES`): a solution module that raises
    as it is imported goes through loading's, which showed once the filter named child.py
    alone."""
    from studycli.check import child, child_limits, error_report, first_print, loading, timer

    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "broken.py").write_text(
        "def f(x):\n    return x\n\n\nraise ValueError('a mistake at its top')\n\n\n"
        "def check_f(impl, device='cpu'):\n    assert impl(1) == 1\n"
    )
    outcome = run_job(job(tmp_path, Candidate("reference", "f", "broken"), "check_f", "broken"))
    assert outcome.status == "error", outcome
    assert outcome.message.startswith("importing solutions/broken.py, line 5, raised ValueError")
    assert 'broken.py", line 5, in <module>' in outcome.traceback, outcome.traceback
    assert "studycli/check/" not in outcome.traceback, outcome.traceback
    # (error_report's frames: never raised in)
    for module in (child, child_limits, timer, first_print, loading, error_report):
        assert error_report.RUNNERS_FILES.search(Path(module.__file__).as_posix()), module


def test_a_hang_is_killed_at_the_time_limit(trouble):
    """Within a few seconds of its 2 s limit, counted once a worker is ready: counted from a
    cold start, the bound took in the worker's start (its torch import, seconds on a loaded
    machine), and the test failed with the hang killed in time (11.9 s against 10)."""
    warm = run_job(job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")))
    assert warm.status == "pass"  # (a worker started and ready: its start is not the hang's)
    started = time.monotonic()
    outcome = run_job(
        job(
            trouble, Candidate("reference", "hang", "trouble"), "check_hang", "trouble", timeout=2.0
        )
    )
    assert outcome.status == "timeout" and "did not finish in 2 s" in outcome.message
    assert time.monotonic() - started < 10
    # its seconds are the limit's, as the message says (they read 1.68: its timer stops it
    # early to say where it was)
    assert outcome.seconds == 2.0


def test_a_memory_blowup_is_stopped_by_the_cap(trouble):
    started = time.monotonic()
    outcome = run_job(
        job(
            trouble, Candidate("reference", "hog", "trouble"), "check_hog", "trouble", memory_mb=256
        )
    )
    assert outcome.status == "error" and "memory" in outcome.message
    assert time.monotonic() - started < 10


def test_check_run_goes_on_past_hangs_crashes_and_blowups(trouble):
    content = load_content(trouble)
    cards = [content.get(i) for i in ("hang", "hog", "crash", "lenient", "add-one")]
    results = {r.card_id: r for r in run_checks(cards, content, jobs=2, timeout=5.0, memory_mb=256)}
    assert results["hang"].status == "timeout"
    assert results["hog"].status == "error" and "memory" in results["hog"].message
    assert results["crash"].status == "error" and "exited with status 3" in results["crash"].message
    assert results["lenient"].status == "fail"
    assert (
        "_wrong_a" in results["lenient"].message
        and "should fail but the checker accepted it: make the checker catch its mistake, or, "
        "if it is right after all, list it in CORRECT_VARIANTS"
        in results["lenient"].message
    )
    assert results["add-one"].status == "pass"
    assert (
        "1 correct variant(s) pass; starter and 2 wrong answer(s) rejected"
        in results["add-one"].message
    )


def test_a_correct_answers_check_is_stopped_past_the_learners_limit_and_located(trouble):
    """A correct answer whose check runs past a learner's limit fails the card anyway: a
    checker that hung ran to the whole --timeout (60 s) for the reference and again for each
    variant, and the message named neither the checker's line nor the limit (an author's
    report: 180 s on 2 cores)."""
    content = load_content(trouble)
    started = time.monotonic()
    [result] = run_checks([content.get("hang")], content, jobs=1, learner_timeout=1.0)
    assert time.monotonic() - started < 30
    assert result.status == "timeout"
    assert "the reference should pass but got timeout: did not finish in 6 s" in result.message
    assert result.seconds >= 6.0  # (the results' column read 5.70 beside it)
    assert "(at solutions/trouble.py:" in result.message and "in check_hang)" in result.message
    assert "a learner's check may run 1 s" in result.message


def checked_add_one(content_copy, **limits) -> tuple[CardResult, list, float]:
    """`check` of the add-one card of `content_copy` with a learner's limit of 0.5 s: its
    result, each check's (kind, outcome) as it ended, and the seconds it took."""
    content = load_content(content_copy)
    seen: list[tuple[str, Outcome]] = []
    started = time.monotonic()
    [result] = run_checks(
        [content.get("add-one")],
        content,
        learner_timeout=0.5,
        on_job_done=lambda job, outcome: seen.append((job.candidate.kind, outcome)),
        **limits,
    )
    return result, seen, time.monotonic() - started


def test_a_wrong_answer_that_never_ends_is_stopped_at_the_learners_limit(content_copy):
    """A wrong answer that hung (a loop left in it) ran the whole --timeout (60 s) before
    `check` could say it proves nothing: a learner's attempt of it is stopped at their limit,
    and so is its check, with the margin a correct answer's has."""
    module = content_copy / "solutions" / "arith.py"
    edit(module, '    """Adds two instead of one."""\n', '    """Adds two instead of one."""\n'
         "    while True:\n        pass\n")  # fmt: skip
    result, seen, seconds = checked_add_one(content_copy, jobs=2, timeout=60.0)
    assert seconds < 30, (seconds, seen)
    assert result.status == "fail", result.message
    assert "did not finish in 5.5 s" in result.message, result.message
    assert "proves nothing of the checker's cases" in result.message


def test_a_wrong_answer_that_never_ends_and_declares_nothing_is_no_rejection(content_copy):
    """A wrong answer with no @fails_with that hung (a loop left in it) was counted as
    rejected: only a declared failure was checked against the timeout, so `check` passed the
    card on a wrong answer that proved nothing of the checker's cases (lint refuses the
    missing declaration, but `check` alone should not call a hang a rejection)."""
    module = content_copy / "solutions" / "arith.py"
    edit(module, '@fails_with("add_one(-3): expected -2, got -1")\ndef _wrong_add_two(x):\n'
         '    """Adds two instead of one."""\n', 'def _wrong_add_two(x):\n'
         '    """Adds two instead of one."""\n    while True:\n        pass\n')  # fmt: skip
    result, seen, seconds = checked_add_one(content_copy, jobs=2, timeout=60.0)
    assert result.status == "fail", result.message
    assert result.message.startswith("wrong answer _wrong_add_two (Adds two instead of one.) at ")
    assert "hung: its check did not finish" in result.message, result.message
    assert "did not finish in 5.5 s" in result.message
    assert "@fails_with('did not finish')" in result.message


def test_a_card_whose_reference_fails_stops_its_other_checks(content_copy):
    """A checker that hangs for every answer: once the reference's check was stopped (a margin
    past a learner's limit), each wrong answer's check still ran to the whole --timeout (an
    author's report: 60 s for a card whose reference was reported at 15 s). The card's other
    checks are stopped, or not run, and the card is judged by its reference alone."""
    edit(
        content_copy / "solutions" / "arith.py",
        "    for x in (-3, 0, 1, 41, 10**12):\n",
        "    while True:\n        pass\n    for x in (-3, 0, 1, 41, 10**12):\n",
    )
    result, seen, seconds = checked_add_one(content_copy, jobs=2, timeout=60.0)
    assert seconds < 30  # (60 s a wrong answer before)
    assert result.status == "timeout"
    assert result.message.startswith("the reference should pass but got timeout"), result.message
    assert "wrong" not in result.message and "starter" not in result.message
    # the starter's and the wrong answers' checks (the variant's, capped as the reference's
    # is, may end on its own first)
    rejected = [outcome for kind, outcome in seen if kind in ("code", "wrong")]
    assert len(rejected) == 3 and all(o.status == "error" for o in rejected), seen
    assert all(o.message.startswith("not run") for o in rejected), seen


def test_a_cards_reference_starts_before_its_checks_timed_longer_last_time(content_copy, tmp_path):
    """The checks that took longest last time start first: a checker that then hung for every
    answer had its wrong answers (quick last time, but not first: run longest first) started
    before its reference, each running its whole --timeout before anything could stop them,
    75 s for a card reported at 14.7 s (a QA pass). The reference starts first now."""
    import json

    times = tmp_path / "check-times.json"
    assert checked_add_one(content_copy, jobs=1, times=times)[0].status == "pass"
    recorded = json.loads(times.read_text())  # as a run where the checker hung left them
    times.write_text(json.dumps({k: 50.0 if "/wrong/" in k else 0.001 for k in recorded}))
    edit(
        content_copy / "solutions" / "arith.py",
        "    for x in (-3, 0, 1, 41, 10**12):\n",
        "    while True:\n        pass\n    for x in (-3, 0, 1, 41, 10**12):\n",
    )
    result, seen, seconds = checked_add_one(content_copy, jobs=1, timeout=60.0, times=times)
    assert result.status == "timeout" and seconds < 30, (seconds, seen)
    assert seen[0][0] == "reference"


def test_a_solution_module_whose_top_level_never_ends_costs_one_checks_time(content_copy):
    """A loop or a sleep at a solution module's top level: each of the card's checks loaded
    the module in its own child and waited out its own limit, about 2 minutes for one card (a
    hostile-author pass). Once one check's time ran out while the module was loading, the
    card's other checks are not run, and say why."""
    module = content_copy / "solutions" / "arith.py"
    module.write_text("import time\ntime.sleep(3600)\n" + module.read_text())
    result, kinds_seen, seconds = checked_add_one(content_copy, jobs=1)
    seen = [outcome for _, outcome in kinds_seen]
    assert seconds < 20
    assert result.status == "timeout"
    ran, skipped = seen[0], seen[1:]
    assert ran.status == "timeout" and ran.loading == "arith" and "in <module>" in ran.traceback
    assert len(skipped) >= 3, seen
    for outcome in skipped:
        assert outcome.status == "timeout" and outcome.seconds == 0.0
        assert outcome.message.startswith(
            "not run: in another check of this run, solutions/arith.py did not finish loading"
        ), outcome.message


def test_a_starter_the_checker_accepts_says_what_the_starter_is():
    passed = Outcome("pass", "passed", 0.01)
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")), passed),
        (job(FIXTURE_CONTENT, Candidate("code", "add_one", code="def add_one(x): ...")), passed),
    ]
    message = verdict("add-one", found).message
    assert (
        "the starter should fail but the checker accepted it: the starter (the card's " in message
    )
    assert "must not answer the card" in message


@pytest.mark.parametrize("written", [True, False])
def test_a_starter_the_checker_accepts_is_named_by_where_it_is_written(content_copy, written):
    """The author of a starter that answers the card was told "the starter (the card's
    `starter:`, else the reference's signature and docstring)", and left to find which: the
    message names the one that ran, by its file and line."""
    card = content_copy / "cards" / "basics" / "add-one.yaml"
    if written:
        card.write_text(card.read_text() + "starter: |\n  def add_one(x):\n      return x + 1\n")
        at = f"the card's `starter:` at cards/basics/add-one.yaml:{card.read_text().count(chr(10)) - 2}"
    else:  # (the one made from the reference: a checker that never calls the answer)
        edit(content_copy / "solutions" / "arith.py", "def check_add_one(impl, device=\"cpu\"):\n",
             "def check_add_one(impl, device=\"cpu\"):\n"
             "    if impl.__module__ != add_one.__module__:\n        return\n")  # fmt: skip
        line = (
            (content_copy / "solutions" / "arith.py")
            .read_text()
            .split("\n")
            .index("def add_one(x: int) -> int:")
        )
        at = f"made from the reference's signature and docstring at solutions/arith.py:{line + 1}"
    result, _, _ = checked_add_one(content_copy, jobs=1)
    assert f"the starter ({at}) should fail but the checker accepted it" in result.message


def test_a_cards_problems_are_said_as_its_wrong_answers_are_listed_whatever_ended_first():
    """Two wrong answers accepted, their checks run side by side: the card's message said them
    in the order their checks ended, so one run differed from the next (and CI's test of the
    message's parts failed now and then)."""
    passed = Outcome("pass", "passed", 0.01)
    reference = (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")), passed)
    wrong = [
        (
            job(FIXTURE_CONTENT, Candidate("wrong", "add_one", "arith", index, name=f"w{index}")),
            passed,
        )
        for index in range(3)
    ]
    for ended in (wrong, wrong[::-1], [wrong[1], wrong[2], wrong[0]]):
        message = verdict("add-one", [reference, *ended]).message
        assert message.index("w0") < message.index("w1") < message.index("w2"), message


@pytest.mark.parametrize(
    "raised", ["NotImplementedError", 'NotImplementedError("write add_one")']
)  # (the scaffold's, and a card's `starter:` with a message, a stub as `check` counts one)
def test_a_starter_that_only_raises_accepted_says_the_checker_never_saw_it_raise(raised):
    """The scaffold's starter raises NotImplementedError: a checker that accepted it returned
    before calling the answer, or caught what the call raised. check said "the starter ...
    must not answer the card", which sent the author to a starter that answers nothing."""
    passed = Outcome("pass", "passed", 0.01)
    starter = f'def add_one(x):\n    """Return x + 1."""\n    raise {raised}\n'
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")), passed),
        (job(FIXTURE_CONTENT, Candidate("code", "add_one", code=starter)), passed),
    ]
    message = verdict("add-one", found).message
    assert "the starter should fail but the checker accepted it" in message
    assert "must not answer the card" not in message
    assert (
        "the starter only raises NotImplementedError: the checker returned before it called "
        "the answer, or caught what the call raised"
    ) in message


def test_a_checker_that_hangs_is_said_as_the_references_problem_first():
    """A checker that hangs times out on every candidate: the reference's timeout comes first
    (it came after the variant's and the wrong answers'), and the wrong answers are not said
    to be rejected "but not for their mistake" (a timeout is no rejection)."""
    hung = Outcome("timeout", "did not finish in 3 s: an infinite loop?", 3.0)
    found = [
        (job(FIXTURE_CONTENT, Candidate(kind, "add_one", "arith", fails_with=expected)), hung)
        for kind, expected in (("wrong", "expected -2"), ("variant", None), ("reference", None))
    ]
    result = verdict("add-one", found)
    assert result.status == "timeout"
    assert result.message.startswith("the reference should pass but got timeout")
    assert "not for its mistake" not in result.message


def test_a_reference_that_prints_a_lot_is_counted_and_named():
    """A reference printing a million lines: the check said "the checker printed 134 line(s)
    (first: '… 999,867 earlier lines not shown')": the lines of the kept tail, its cut marker
    for the first line, and the checker blamed for the reference's prints."""
    tail = "… 999,867 earlier lines not shown\n" + "".join(f"debug {i}\n" for i in range(133))
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")),
         Outcome("pass", "passed", 0.5, output=tail)),
        (job(FIXTURE_CONTENT, Candidate("code", "add_one", code="def add_one(x): ...")),
         Outcome("fail", "not implemented", 0.01)),
    ]  # fmt: skip
    result = verdict("add-one", found)
    assert result.status == "fail"
    assert "printed 1,000,000 line(s) (the first shown: 'debug 0')" in result.message
    assert "earlier lines not shown'" not in result.message
    assert "remove the prints of the checker, and of the reference" in result.message


@pytest.mark.parametrize(
    "declared, status, message",
    [
        ("fail", "fail", "add_one(1): raised NameError: name 'y' is not defined"),
        ("FAIL:", "fail", "add_one(1): raised NameError: name 'y' is not defined"),
        ("timeout", "timeout", "add_one(1): did not finish in 3 s: an infinite loop?"),
        # a declaration every message holds (the call's text) was met by the answer's typo
        ("add_one(1)", "fail", "add_one(1): raised NameError: name 'y' is not defined"),
        ("add_one(1)", "fail", "add_one(1): raised UnboundLocalError: cannot access local"),
    ],
)
def test_a_declared_failure_is_looked_for_in_the_message_not_its_status(declared, status, message):
    """@fails_with("fail") was met by every rejection: the status was read before the
    message ("fail: add_one(1): raised NameError: ..."), so a wrong answer rejected for a typo
    of its own passed as rejected for its mistake."""
    passed = Outcome("pass", "passed", 0.01)
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")), passed),
        (job(FIXTURE_CONTENT, Candidate("wrong", "add_one", "arith", fails_with=declared)),
         Outcome(status, message, 0.01)),
    ]  # fmt: skip
    result = verdict("add-one", found)
    assert result.status == "fail" and "not for its mistake" in result.message
    assert ("its own typo" in result.message) == ("Error:" in message)


@pytest.mark.parametrize(
    "declared, rejected", [("add_one(1)", False), ("add_one(1): expected 2", False),
                           ("did not finish", True)]
)  # fmt: skip
def test_a_wrong_answer_that_never_ends_proves_its_mistake_only_if_it_declares_so(
    declared, rejected
):
    """A wrong answer that hung (a loop left in it by mistake) was "rejected" after the whole
    --timeout (60 s), for the mistake it declared, as the timeout's message names the call
    its declaration quoted ("add_one(1)"): it proved nothing of the checker's cases. One
    whose mistake is to be too slow declares it ("did not finish")."""
    passed = Outcome("pass", "passed", 0.01)
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")), passed),
        (job(FIXTURE_CONTENT, Candidate("wrong", "add_one", "arith", fails_with=declared)),
         Outcome("timeout", "add_one(1): did not finish in 60 s: an infinite loop?", 60.0)),
    ]  # fmt: skip
    result = verdict("add-one", found)
    assert (result.status == "pass") == rejected, result.message
    if not rejected:
        assert "not for its mistake" in result.message
        assert "a wrong answer that does not finish proves nothing" in result.message


def test_a_wrong_answer_declared_to_raise_a_name_error_may():
    passed = Outcome("pass", "passed", 0.01)
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")), passed),
        (job(FIXTURE_CONTENT, Candidate("wrong", "add_one", "arith", fails_with="NameError")),
         Outcome("fail", "add_one(1): raised NameError: name 'y' is not defined", 0.01)),
    ]  # fmt: skip
    assert verdict("add-one", found).status == "pass"


def test_a_pass_whose_correct_answer_checks_slowly_says_so():
    """The learner waits for a correct answer's check at every attempt: a card whose reference
    or variant takes longer than SLOW_CHECK still passes, with a note naming the slowest."""

    def results(reference: float, variant: float, wrong: float) -> list[tuple[Job, Outcome]]:
        kinds = (("reference", reference, "pass"), ("variant", variant, "pass"),
                 ("wrong", wrong, "fail"), ("code", 0.01, "fail"))  # fmt: skip
        return [
            (job(FIXTURE_CONTENT, Candidate(kind, "add_one", "arith")),
             Outcome(status, "", seconds, label="_loop" if kind == "variant" else ""))
            for kind, seconds, status in kinds
        ]  # fmt: skip

    quick = verdict("add-one", results(0.2, 0.3, SLOW_CHECK * 5))  # a slow wrong answer: fine
    assert quick.status == "pass" and "slow" not in quick.message
    slow = verdict("add-one", results(0.2, SLOW_CHECK + 1.5, 0.1))
    assert slow.status == "pass"
    assert slow.message.endswith(
        f"; slow: correct variant _loop's check took {SLOW_CHECK + 1.5:.1f} s, which a learner "
        f"waits for every attempt (keep it under {SLOW_CHECK:.0f} s: fewer or smaller cases)"
    )
    assert "the reference's check took" in verdict("add-one", results(9.0, 0.1, 0.1)).message


def test_check_cli_json_and_exit_codes(cli, trouble):
    ok = cli("--content", trouble, "check", "add-one", "triangle-derivation", "--json")
    assert ok.exit_code == 0, ok.output
    assert [(r["id"], r["status"]) for r in json.loads(ok.stdout)] == [
        ("add-one", "pass"),
        ("triangle-derivation", "pass"),
    ]
    assert set(json.loads(ok.stdout)[0]) == {"id", "status", "seconds", "message"}
    bad = cli("--content", trouble, "check", "lenient", "add-one")
    assert bad.exit_code == 1
    assert "lenient" in bad.stdout and "fail" in bad.stdout and "1 of 2 cards pass" in bad.stdout


def test_check_refuses_cards_that_lint_rejects(cli, content_copy):
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text().replace("arith:add_one", "arith:missing"))
    result = cli("--content", content_copy, "check")
    assert result.exit_code == 1 and "fix what `studycli lint` reports first" in result.stderr
    # what to fix, where: the author need not run lint to learn it (a hostile-author pass
    # found the refusal naming the card only)
    said = " ".join(result.stderr.split())
    assert "cards/basics/add-one.yaml:" in said and "'missing'" in said, result.stderr


def test_check_reads_the_cards_through_the_index_and_an_edited_card_again(cli, content_copy):
    """`check` loads the content through its index (the cards unchanged are not parsed again:
    0.1 s of an author's `check ONE-CARD`), and a card edited since is parsed again, even where
    the edit kept its size and put back its mtime (its ctime tells)."""
    import os

    from studycli.paths import content_dir, content_index_path

    path = content_copy / "cards" / "basics" / "add-one.yaml"
    os.utime(path, (1_600_000_000, 1_600_000_000))  # (an entry long settled: not racy)
    first = cli("--content", content_copy, "check", "add-one")
    assert first.exit_code == 0 and "1 of 1 cards pass" in first.stdout, first.output
    assert content_index_path(content_dir(content_copy)).exists()
    path.write_text(path.read_text().replace("arith:add_one", "arith:missing"))  # (same size)
    os.utime(path, (1_600_000_000, 1_600_000_000))
    second = cli("--content", content_copy, "check", "add-one")
    assert second.exit_code == 1 and "'missing'" in second.stderr, second.output


def test_check_unknown_card_is_a_clean_error(cli):
    result = cli("--content", FIXTURE_CONTENT, "check", "no-such-card")
    assert result.exit_code == 1
    assert "no card with id 'no-such-card'" in result.stderr and "Traceback" not in result.output


def test_off_cpu_the_parent_watches_resident_memory(trouble):
    """CUDA reserves more address space than a cap allows, so off the CPU the parent watches RSS
    (this checker ignores its device, so it runs here without a GPU)."""
    j = Job(
        str(trouble / "solutions"),
        "trouble",
        "check_hog",
        Candidate("reference", "hog", "trouble"),
        device="cuda",
        timeout=20.0,
        memory_mb=300,
    )
    started = time.monotonic()
    outcome = run_job(j)
    assert outcome.status == "error" and "300 MB of host memory" in outcome.message
    assert time.monotonic() - started < 15


def test_ctrl_c_stops_the_running_checks_at_once(trouble, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    hangs = tmp_path / "hangs"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studycli",
            "--content",
            str(trouble),
            "check",
            "hang",
        ],  # (its default limit, 15 s: Ctrl-C stops it first)
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
        env={**os.environ, "TROUBLE_HANGS": str(hangs)},
    )
    deadline = time.monotonic() + 60  # (it was a sleep of 4 s, the check's start guessed)
    while not hangs.exists():  # the hanging check is running
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: to the terminal's process group
    started = time.monotonic()
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted" in err
    assert "Traceback" not in err  # a worker that the signal reached printed one
    assert time.monotonic() - started < 10


DECLARED = '''
from studycli.assertions import assert_equal, call, fails_with


def double(x):
    """Return 2 x."""
    return 2 * x


def check_double(impl, device="cpu"):
    for x in (0, 1, 5):
        assert_equal(call(impl, f"double({x})", x), 2 * x, f"double({x})", hint="HINT-" + str(x))


@fails_with("HINT-1")
def _wrong_square(x):
    """Squares: right at 0, caught at 1."""
    return x * x


@fails_with("off by one")
def _wrong_plus_one(x):
    """Adds one; declares a failure the checker never gives."""
    return 2 * x + 1


WRONG_ANSWERS = {"double": [_wrong_square, _wrong_plus_one]}
'''


def test_a_wrong_answer_rejected_for_another_reason_than_it_declares_fails_the_card(content_copy):
    (content_copy / "solutions" / "declared.py").write_text(DECLARED)
    write_card(
        content_copy,
        "trouble",
        "double",
        "id: double\nkind: coding\ntopic: bias\ntitle: Double\nprompt: Return 2 x.\n"
        "solution: declared:double\n",
    )
    content = load_content(content_copy)
    [result] = run_checks([content.cards["double"]], content, jobs=2, timeout=20)

    assert result.status == "fail"
    assert "_wrong_plus_one" in result.message and "not for its mistake" in result.message
    assert "'off by one'" in result.message and "_wrong_square" not in result.message


UNGUARDED = '''
"""A checker that calls the answer without `call`, and uses its result unchecked."""

from studycli.assertions import assert_equal, fails_with


def halve(x):
    """Return x / 2."""
    return x / 2


def check_halve(impl, device="cpu"):
    for x in (0, 2, 5):
        got = impl(x)
        assert_equal(got + 0, x / 2, f"halve({x})")


@fails_with("expected 1.0, got")
def _wrong_raises(x):
    """Divides by x - x: raises ZeroDivisionError."""
    return x / (x - x)


@fails_with("expected 1.0, got None")
def _wrong_returns_nothing(x):
    """Forgets to return."""
    x / 2


WRONG_ANSWERS = {"halve": [_wrong_raises, _wrong_returns_nothing]}
'''


def _halve_checked(content_copy: Path, module: str, source: str):
    """The result of `check` of a card "halve" (return x / 2) answered by `module`'s `halve`,
    the module's code `source`."""
    (content_copy / "solutions" / f"{module}.py").write_text(source)
    write_card(
        content_copy,
        "trouble",
        "halve",
        "id: halve\nkind: coding\ntopic: bias\ntitle: Halve\nprompt: Return x / 2.\n"
        f"solution: {module}:halve\n",
    )
    content = load_content(content_copy)
    [result] = run_checks([content.cards["halve"]], content, jobs=2, timeout=20)
    return result


def test_a_wrong_answer_whose_check_ends_in_an_error_says_where_and_the_fix(content_copy):
    """A wrong answer rejected by an error, not a failure, said only "which was:
    ZeroDivisionError: division by zero": neither the checker's line that let the answer's
    exception through (it called the answer without `call`) nor the one that broke on what the
    answer returned, nor what to do; a learner making that mistake reads a bare error."""
    result = _halve_checked(content_copy, "unguarded", UNGUARDED)

    assert result.status == "fail"
    raises, returns_nothing = result.message.split("; wrong answer ")
    assert "_wrong_raises" in raises and "not for its mistake" in raises
    assert "the wrong answer raised it at solutions/unguarded.py:21, in _wrong_raises" in raises
    assert "the checker let it through at solutions/unguarded.py:14, in check_halve" in raises
    assert "call(impl, what, ...)" in raises
    assert "_wrong_returns_nothing" in returns_nothing
    assert "an error of the checker at solutions/unguarded.py:15, in check_halve" in returns_nothing
    assert "expect, assert_equal or assert_close" in returns_nothing


RAISING = '''
from studycli.assertions import assert_equal, call, fails_with


def halve(x):
    """Return x / 2."""
    return x / 2


def check_halve(impl, device="cpu"):
    for x in (2, 4):
        assert_equal(call(impl, f"halve({x})", x), x / 2, f"halve({x})")


def _divide(x, by):
    return x / by


@fails_with("expected 1.0, got")
def _wrong_raises(x):
    """Divides by x - x: raises ZeroDivisionError."""
    return _divide(x, x - x)


@fails_with("expected 1.0, got")
def _wrong_typo(x):
    """Misspells x."""
    return xx / 2


WRONG_ANSWERS = {"halve": [_wrong_raises, _wrong_typo]}
'''


def test_a_wrong_answer_rejected_for_raising_says_the_line_that_raised(content_copy):
    """A wrong answer whose call raised, not the mistake it declares, named its `def` line and
    the exception ("which was: halve(2): raised ZeroDivisionError: division by zero"), not the
    line that raised it."""
    result = _halve_checked(content_copy, "raising", RAISING)

    assert result.status == "fail"
    raises, typo = result.message.split("; wrong answer ")
    assert (
        "_wrong_raises (Divides by x - x: raises ZeroDivisionError.) at solutions/raising.py:20"
        in raises
    )
    assert raises.endswith(
        "raised ZeroDivisionError: division by zero (raised at solutions/raising.py:16, in _divide)"
    )
    assert typo.endswith(
        "(a NameError in the wrong answer is its own typo, at solutions/raising.py:28, in _wrong_typo)"
    )


DEVICE_CHECKERS = """
def check_ignores(impl, device="cpu"):
    assert impl(2) == 3


def check_builds_on_it(impl, device="cpu"):
    import torch
    assert impl(torch.ones(2, device=device)).sum() == 4


def check_passes_it_on(impl, device="cpu"):
    _cases(impl, device)
"""


def test_a_checker_uses_its_device_only_when_its_body_names_it(tmp_path):
    from studycli.content.solution_code import uses_device
    from studycli.content.source import read_module

    (tmp_path / "devices.py").write_text(DEVICE_CHECKERS)
    info = read_module(tmp_path, "devices")
    assert not uses_device(info, "check_ignores")
    assert uses_device(info, "check_builds_on_it")
    assert uses_device(info, "check_passes_it_on")
    assert uses_device(info, "no_such_checker")  # unknown: assume it does


def test_with_cuda_a_checker_that_ignores_the_device_is_planned_on_the_cpu():
    """`check --device cuda` sends only the checks whose checker uses the device to the GPU's
    workers; the others run in the CPU's (the same check, without a CUDA context)."""
    from studycli.check.plan import plan

    content = load_content(REPO_ROOT)
    planned = {
        card_id: {job.device for job in plan(content.get(card_id), content, device="cuda")}
        for card_id in ("sliding-window-max", "flash-attention")
    }
    assert planned == {"sliding-window-max": {"cpu"}, "flash-attention": {"cuda"}}


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_each_worker_imports_what_its_own_checks_import_on_first_use(device, monkeypatch):
    """A checker that imports torch._dynamo on first use (1-2 s; as AdamW's did when it made
    an optimizer object: here its source is taken to): its checks run where it is imported
    (on the CPU, forked from a zygote of their own; on CUDA, whose device its checker uses, in
    device workers told to import it), and the others where it is not. No worker is told to
    import it for every check."""
    import re

    from studycli.check import lazy_imports, plan

    lazy = ["torch._dynamo", "torch.profiler"]
    patterns = lazy_imports._lazy_patterns()
    monkeypatch.setattr(
        lazy_imports,
        "_lazy_patterns",
        lambda: [(re.compile(r"def adamw_step\b"), tuple(lazy)), *patterns],
    )
    preloaded: dict[str | None, list[str]] = {}
    loaded = []
    started: dict[str, list[str]] = {}

    def preload(modules, solutions=None, device=None):
        preloaded.setdefault(device, []).extend(modules)
        loaded.append(solutions)

    def warm_up(device, jobs, lazy, device_lazy, heavy, torchless):
        started.update(cpu=list(lazy), device=list(device_lazy), torchless=list(torchless))
        started.update(heavy=heavy)

    monkeypatch.setattr(plan, "preload", preload)
    monkeypatch.setattr(plan, "pool_warm_up", warm_up)
    content = load_content(REPO_ROOT)
    plan.warm_up(list(content.cards.values()), content, device)
    # (and sympy, for the directional derivative's forward-mode variant: its own test below)
    assert sorted(started["cpu" if device == "cpu" else "device"]) == sorted([*lazy, "sympy"])
    # no torchless check imports anything first (the hungarian algorithm's checker refuses
    # scipy with a stand-in: it imports none of it)
    assert started["torchless"] == []
    if device != "cpu":
        assert started["cpu"] == []  # their checkers use the device: no CPU check imports it
    assert all(not modules for modules in preloaded.values())
    solutions = {card.solution.module for card in content.cards.values() if card.solution}
    assert all(solutions <= set(modules) for _, modules in loaded)
    jobs = {
        card_id: {
            (job.device, job.lazy)
            for job in plan.plan(content.get(card_id), content, device=device)
        }
        for card_id in ("adamw-step", "sliding-window-max")
    }
    assert jobs == {"adamw-step": {(device, tuple(lazy))}, "sliding-window-max": {("cpu", ())}}
    # as many heavy device workers as there are device checks to run in them, at most
    on_device = [
        job
        for card in content.cards.values()
        if card.runnable
        for job in plan.plan(card, content, device=device)
        if job.device != "cpu" and job.lazy and job.candidate.kind != "code"
    ]
    assert started["heavy"] == len(on_device) and (device == "cpu") == (not on_device)


def test_the_checks_that_took_longest_last_time_start_first(tmp_path):
    """`times` keeps each check's seconds; the next run starts the longest first (one at a time
    here, so the order they end in is the order they started in). A corrupt file is ignored."""
    from studycli.check import durations

    content = load_content(FIXTURE_CONTENT)
    card = content.get("add-one")
    times = tmp_path / "check-times.json"
    times.write_text("{not json")
    run_checks([card], content, jobs=1, times=times)
    recorded = json.loads(times.read_text())
    assert recorded and all(isinstance(v, float) for v in recorded.values())
    assert {name.split("/")[3] for name in recorded} == {"reference", "variant", "wrong"}

    slow_wrong = next(name for name in recorded if name.endswith("/wrong/1"))
    times.write_text(json.dumps({**recorded, slow_wrong: 99.0}))
    order: list = []
    run_checks([card], content, jobs=1, times=times, on_job_done=lambda j, o: order.append(j))
    # the card's reference first (a failing one stops the rest), then the longest
    assert order[0].candidate.kind == "reference" and durations.key(order[1]) == slow_wrong
    assert order[-1].candidate.kind == "code"  # never timed, guessed the shortest
    assert json.loads(times.read_text())[slow_wrong] < 99.0  # this run's time replaces it


def test_the_checks_are_counted_once_planned_and_warmed_workers_not_warmed_again(monkeypatch):
    """`on_planned` is told how many checks run (`check`'s progress bar: it planned every card
    a second time to count them), before the first runs; `warmed` leaves out the warm-up that
    `check` ran already."""
    from studycli.check import verify

    content = load_content(FIXTURE_CONTENT)
    told: list = []
    done: list = []
    warmed: list = []
    monkeypatch.setattr(verify, "warm_up", lambda *args: warmed.append(args))
    run_checks(
        [content.get("add-one")],
        content,
        jobs=1,
        on_planned=lambda count: told.append((count, len(done))),
        on_job_done=lambda job, outcome: done.append(job),
        warmed=True,
    )
    assert told == [(len(done), 0)] and len(done) > 1 and warmed == []


@pytest.mark.parametrize(
    "text",
    [
        *("[" * 100_000, "[1, 2]", "3.5"),  # not a JSON object (a list one read as "items")
        *('{"a": 1' + "0" * 400 + "}", '{"a": NaN}', '{"a": -Infinity}', '{"a": -1}'),
    ],
)
def test_check_times_that_cannot_be_read_are_passed_over(tmp_path, text):
    """The check times are a cache: what cannot be read in them is ignored. Lists in lists,
    thousands deep (RecursionError), or a number too large for a float (OverflowError) ended
    `check` in a traceback before its first check; NaN, an infinity or a negative time, read
    as seconds, put the checks in a wrong order."""
    from studycli.check import durations

    times = tmp_path / "check-times.json"
    times.write_text(text)
    assert durations.load(times) == {}
    if text.startswith("{"):  # the other entries are kept
        times.write_text(text.replace('{"a"', '{"b": 2.5, "a"'))
        assert durations.load(times) == {"b": 2.5}


def test_a_run_keeps_the_check_times_of_the_cards_it_did_not_run(tmp_path):
    """`check add-one` records its own checks' times beside those already known: the other
    cards' times, kept, still order the next whole run. A check never timed is guessed by
    its kind: a correct answer's runs every case of its checker, a wrong answer's mostly
    fails at an early one."""
    from studycli.check import durations

    times = tmp_path / "check-times.json"
    reference = job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith"))
    wrong = job(FIXTURE_CONTENT, Candidate("wrong", "add_one", "arith"))
    assert durations.expected(reference, {}) > durations.expected(wrong, {})
    other = "cpu/other.check_f/other.f/reference/0"
    durations.save(times, {other: 7.5}, [(reference, Outcome("pass", "passed", 0.25))])
    assert durations.load(times) == {other: 7.5, durations.key(reference): 0.25}


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_warming_up_skips_a_solution_module_that_does_not_parse(device, content_copy, monkeypatch):
    """`check` starts its workers while lint still runs: a broken module is lint's to report."""
    from studycli.check import plan

    (content_copy / "solutions" / "arith.py").write_text("def add_one(x:\n")
    started = []
    monkeypatch.setattr(plan, "preload", lambda modules, solutions=None, device=None: None)
    monkeypatch.setattr(
        plan,
        "pool_warm_up",
        lambda device, jobs, lazy, device_lazy, heavy, torchless: started.append(lazy),
    )
    content = load_content(content_copy)
    plan.warm_up(list(content.cards.values()), content, device)
    assert started == [()]


def test_a_free_slot_takes_the_longest_check_whose_worker_is_ready():
    """While the zygote some checks fork from is still starting, a free slot takes the next
    check that can start at once; with none that can, the first (the longest)."""
    from studycli.check.picker import Picker

    def job(name: str, lazy: tuple[str, ...] = ()) -> Job:
        return Job(
            "solutions", "arith", name, Candidate("reference", "add_one", "arith"), lazy=lazy
        )

    starting = {"torch._dynamo"}
    queue = [
        ("a", job("slow", ("torch._dynamo",))),
        ("b", job("mid")),
        ("c", job("short", ("torch._dynamo",))),
    ]
    picker = Picker(queue, lambda j: not starting.intersection(j.lazy), patience=0.05)
    assert picker.take()[0] == "b"
    assert picker.take()[0] == "a"  # only checks whose worker is starting: the longest
    starting.clear()
    assert picker.take()[0] == "c"


def test_while_no_worker_is_ready_a_free_slot_waits_for_one():
    """At the start no worker is ready: the slot waits for the first that is (the torchless
    zygote, while torch's import goes on), rather than take a check that would wait longer."""
    from studycli.check.picker import Picker

    def job(torch: bool) -> Job:
        return Job(
            "solutions", "arith", "check", Candidate("reference", "add_one", "arith"), torch=torch
        )

    picker = Picker([("long", job(True)), ("short", job(False))], lambda j: not j.torch)
    started = time.monotonic()
    assert picker.take()[0] == "short" and time.monotonic() - started < 0.3
    # (an event of its own: the first part's timer, had it one, could set it early, on a
    # loaded machine where the first part took over 50 ms)
    torch_ready = threading.Event()
    picker = Picker([("long", job(True)), ("short", job(False))], lambda j: torch_ready.is_set())
    threading.Timer(0.3, torch_ready.set).start()
    started = time.monotonic()
    assert picker.take()[0] == "long" and time.monotonic() - started >= 0.25


def test_a_device_slot_keeps_to_its_card_while_it_has_checks_left():
    """On a device, a slot takes its last card's next check (a CUDA worker pays for a card's
    first check once), else the first; on the CPU (a fresh child each check), the first."""
    from studycli.check.picker import Picker

    def job(device: str) -> Job:
        return Job("solutions", "arith", "check", Candidate("reference", "add_one", "arith"),
                   device=device)  # fmt: skip

    for device, sticky in (("cuda", True), ("cpu", False)):
        queue = [("a", job(device)), ("b", job(device)), ("a", job(device)), ("b", job(device))]
        picker = Picker(queue, lambda j: True, sticky=sticky)
        taken = [picker.take("b")[0], picker.take("b")[0], picker.take("b")[0]]
        assert taken == (["b", "b", "a"] if sticky else ["a", "b", "a"])


def test_checks_that_do_not_use_torch_are_planned_to_fork_from_a_zygote_without_it():
    from studycli.check.plan import plan

    content = load_content(REPO_ROOT)
    planned = {
        card_id: {job.torch for job in plan(content.get(card_id), content)}
        for card_id in ("sliding-window-max", "flash-attention", "voc-ap")
    }
    assert planned == {"sliding-window-max": {False}, "flash-attention": {True}, "voc-ap": {False}}


def test_a_check_whose_worker_is_still_starting_lets_the_others_go_first(content_copy, monkeypatch):
    """`run_checks` hands out its checks through a `Picker` asking `pool.ready`: here the
    zygote of the checks that use torch is ready, the torchless one never is."""
    from studycli.check import picker, verify

    source = (content_copy / "solutions" / "arith.py").read_text()
    (content_copy / "solutions" / "tensors.py").write_text("# (uses torch)\n" + source)
    card = (content_copy / "cards" / "basics" / "add-one.yaml").read_text()
    edited = card.replace("id: add-one", "id: add-one-t").replace("arith:", "tensors:")
    write_card(content_copy, "basics", "add-one-t", edited)
    content = load_content(content_copy)
    monkeypatch.setattr(verify, "ready", lambda job: job.torch)
    monkeypatch.setattr(picker, "PATIENCE", 0.01)
    order: list = []
    cards = [content.get("add-one"), content.get("add-one-t")]
    run_checks(cards, content, jobs=1, on_job_done=lambda j, o: order.append(j))
    assert [job.torch for job in order] == sorted((job.torch for job in order), reverse=True)
    assert {job.candidate.module for job in order if job.torch} == {"tensors", ""}


SPLIT = '''"""A module whose docstring names torch.func."""

import torch


def slope(f, x):
    """The derivative of f at x (torch.func's jvp would do: ‖this‖ is a docstring)."""
    return _helper(f, x)


def _helper(f, x):
    "Reverse mode."
    (grad,) = torch.autograd.grad(f(x), x)
    return grad


def check_slope(impl, device="cpu"):
    return _variant_called(impl)


@fails_with("forward mode")
def _variant_forward(f, x):
    """Forward mode, ‖v‖."""
    return torch.func.jvp(f, (x,), (torch.ones_like(x),))[1]


def _variant_called(f, x):
    return _helper(f, x)


def _wrong_twice(f, x):
    """Twice the slope."""
    return 2 * _helper(f, x)


WRONG_ANSWERS = {"slope": [_wrong_twice]}
CORRECT_VARIANTS = {"slope": [_variant_forward, _variant_called, lambda f, x: _helper(f, x)]}
'''


def test_a_modules_code_splits_off_the_answers_only_its_tables_name(tmp_path):
    """`code_parts`: the code without docstrings (the tree's column offsets are bytes: the
    non-ASCII ones must not shift a cut), the functions that only the tables name on their
    own, and everything else, a variant that the checker calls too among it."""
    from studycli.content.source import read_module

    (tmp_path / "split.py").write_text(SPLIT, encoding="utf-8")
    rest, own = read_module(tmp_path, "split").code_parts
    assert set(own) == {"_variant_forward", "_wrong_twice"}
    assert own["_variant_forward"].startswith('@fails_with("forward mode")\ndef _variant_forward(')
    assert "torch.func.jvp(f" in own["_variant_forward"]
    assert "torch.func" not in rest and "‖" not in rest and "Reverse mode" not in rest
    assert "def _variant_called(f, x):\n    return _helper(f, x)" in rest
    assert "    \n    (grad,) = torch.autograd.grad(f(x), x)\n" in rest
    # every line of code is in exactly one part
    code = [line for line in (rest + "".join(own.values())).splitlines() if line.strip()]
    assert sorted(code) == sorted(
        line for line in SPLIT.splitlines() if line.strip() and '"' not in line.strip()[:1]
    )


def test_only_a_check_whose_own_code_imports_something_waits_for_it(content_copy, monkeypatch):
    """A check is heavy (`Job.lazy`) by what it may run: its modules' code but the other
    answers' own functions, and its own; not by what a docstring names. (torch.func here
    stands for what imports a module on first use, as it did torch._dynamo before
    `lazy_dynamo`.)"""
    import re

    from studycli.check import lazy_imports, plan

    pytest.importorskip("torch")
    patterns = lazy_imports._lazy_patterns()
    monkeypatch.setattr(
        lazy_imports,
        "_lazy_patterns",
        lambda: [(re.compile(r"torch\.func\b"), ("torch._dynamo",)), *patterns],
    )
    (content_copy / "solutions" / "split.py").write_text(SPLIT, encoding="utf-8")
    write_card(
        content_copy,
        "basics",
        "slope",
        "id: slope\nkind: coding\ntopic: poisson\ntitle: Slope\n"
        "prompt: |\n  Take the slope.\nsolution: split:slope\n",
    )
    content = load_content(content_copy)
    jobs = plan.plan(content.get("slope"), content)
    heavy = {(job.candidate.kind, job.candidate.index) for job in jobs if job.lazy}
    assert heavy == {("variant", 0)}
    # (its torch.func.jvp: and sympy, which jvp's decompositions import on first use)
    assert set(next(job for job in jobs if job.lazy).lazy) == {"torch._dynamo", "sympy"}


# Each check of a card, run in a child forked from a process that imported torch (as a
# worker does, `lazy_dynamo` installed), the child importing what its job names
# (`Job.lazy`): its kind, those names, and the top-level modules the check imported on top.
FIRST_USE = """
import json, os, sys
from studycli.check import lazy_dynamo
lazy_dynamo.install()
import torch
from studycli.check import loading, plan
from studycli.content.loader import load_content
from pathlib import Path
content = load_content(Path(sys.argv[1]))
found = []
for job in plan.plan(content.get(sys.argv[2]), content):
    read, write = os.pipe()
    if os.fork() == 0:
        for name in job.lazy:
            __import__(name)
        module = loading._load_solution(job.solutions_dir, job.check_module)
        impl, _ = loading._resolve(job)
        before = {name.partition(".")[0] for name in sys.modules}
        try:
            getattr(module, job.check_function)(impl, device="cpu")
        except AssertionError:
            pass
        new = sorted({name.partition(".")[0] for name in sys.modules} - before)
        os.write(write, json.dumps([job.candidate.kind, job.lazy, new]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as reader:
        found.append(json.loads(reader.read()))
    os.wait()
print(json.dumps(found))
"""


def test_the_forward_mode_check_forks_from_a_worker_that_imported_sympy():
    """`torch.func.jvp` runs decompositions that import sympy on their first call (0.5 s on
    the 2-core box; 3.6-4.0 s in a check on a 16-core host with every core busy, the last
    check of the CPU run and of the CUDA run there): the directional derivative's check of
    its forward-mode variant names it (`lazy_imports.LAZY_IMPORTS`), and forks from a worker that
    imported it; its other checks import nothing new."""
    pytest.importorskip("sympy")
    ran = subprocess.run(
        [sys.executable, "-c", FIRST_USE, str(REPO_ROOT), "directional-derivative"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    assert len(found) >= 8 and all(new == [] for _, _, new in found), found
    assert [kind for kind, lazy, _ in found if lazy] == ["variant"]
    assert [lazy for _, lazy, _ in found if lazy] == [["sympy"]]


def test_no_shipped_check_waits_for_torch_dynamo():
    """No shipped check waits for a worker with torch._dynamo imported (`lazy_imports`'s
    `LAZY_IMPORTS`): the directional derivative's forward-mode variant and AdamW's checks
    did, which imported it only to turn it off (`lazy_dynamo`)."""
    from studycli.check import plan

    pytest.importorskip("torch")
    content = load_content(REPO_ROOT)
    heavy = [
        (card.id, job.candidate.kind, job.candidate.index)
        for card in content.cards.values()
        if card.runnable
        for job in plan.plan(card, content)
        if "torch._dynamo" in job.lazy
    ]
    assert heavy == []


def test_a_solution_module_that_raises_on_import_is_reported_once_with_its_error(content_copy):
    """A module that cannot be imported (a missing package, a mistake at its top level) is the
    card's one error, with the module's own exception: not the checker "missing" in it, once
    per candidate (the half-run module was kept and each later check found it empty)."""
    module = content_copy / "solutions" / "arith.py"
    module.write_text("import math\nimport no_such_package_here\n" + module.read_text())
    content = load_content(content_copy)
    [result] = run_checks([content.cards["add-one"]], content, jobs=2, timeout=20)
    assert result.status == "error"
    assert result.message == (  # (with its line: the message had none)
        "importing solutions/arith.py, line 2, raised ModuleNotFoundError: No module named "
        "'no_such_package_here' (the card's checks could not run)"
    )


def test_checking_a_card_without_a_checker_says_so(cli):
    """A concept card asked for by name ran nothing and printed an empty table: "0 of 0 cards
    pass". It says which cards have nothing to run, and why."""
    result = cli("--content", FIXTURE_CONTENT, "check", "bias-concept", "add-one")
    assert result.exit_code == 0, result.output
    assert (
        "nothing to run for bias-concept: only coding cards and derivation cards with a "
        "`solution:` have checkers" in " ".join(result.stderr.split())
    )  # (it said only coding and derivation cards, of a derivation card without a solution)
    assert "1 of 1 cards pass" in result.stdout
    alone = cli("--content", FIXTURE_CONTENT, "check", "bias-concept")  # no table, no "0 of 0"
    assert alone.exit_code == 0 and alone.stderr == "", alone.stderr  # (said once, below)
    assert " ".join(alone.stdout.split()) == (
        "no card to check: bias-concept has no checks; only coding cards and derivation cards "
        "with a `solution:` have checkers (`studycli review` studies the others)"
    )


@pytest.mark.parametrize("second", ["bias-concept", "add-one"], ids=["concept", "coding"])
def test_checking_a_card_whose_id_another_file_has_names_both_files(cli, content_copy, second):
    """`check ID` of a concept card whose id a second card file has too said "nothing to run
    for ID ... no card to check" (exit 0): the second file is left out of the content, and,
    were it a coding card, its checks never ran. It says the duplicate id and both files, as
    `lint` does, and checks nothing, as for a duplicated coding card."""
    text = (content_copy / "cards" / "basics" / f"{second}.yaml").read_text(encoding="utf-8")
    write_card(content_copy, "numbers", "bias-concept", text.replace(second, "bias-concept"))
    result = cli("--content", content_copy, "check", "bias-concept")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert (
        "cards/numbers/bias-concept.yaml:1: duplicate id 'bias-concept': "
        "cards/basics/bias-concept.yaml already uses it" in said
    ), said
    assert "nothing to run" not in said and "no card to check" not in result.stdout


def test_many_cards_without_a_checker_are_counted_not_all_named(cli, content_copy):
    """`check --changed` with a ref git does not know checks every card: the cards without
    checks (hundreds in the shipped content) are named up to SKIPPED_NAMED, then counted."""
    concept = (content_copy / "cards" / "basics" / "bias-concept.yaml").read_text()
    ids = [f"concept-{n}" for n in range(SKIPPED_NAMED + 2)]
    for card_id in ids:
        write_card(content_copy, "basics", card_id, concept.replace("bias-concept", card_id))
    result = cli("--content", content_copy, "check", *ids, "add-one")
    assert result.exit_code == 0, result.output
    named = ", ".join(ids[:SKIPPED_NAMED])
    assert f"nothing to run for {named} and 2 more cards: only coding" in " ".join(
        result.stderr.split()
    )
    assert ids[-1] not in result.stderr


def test_torchs_build_is_read_from_its_version_file(tmp_path):
    from studycli.check.pool import torch_gpu_build

    version = tmp_path / "version.py"
    cpu = "\n".join(
        [
            "from typing import Optional",
            "__version__ = '2.13.0+cpu'",
            "cuda: Optional[str] = None",
            "hip: Optional[str] = None",
        ]
    )
    version.write_text(cpu)
    assert torch_gpu_build(version) is False
    version.write_text(cpu.replace("cuda: Optional[str] = None", "cuda: Optional[str] = '13.0'"))
    assert torch_gpu_build(version) is True
    version.write_text(cpu.replace("hip: Optional[str] = None", "hip = '6.2'"))
    assert torch_gpu_build(version) is True
    version.write_text("something else\n")
    assert torch_gpu_build(version) is None  # not told: the checks find out


def test_check_on_cuda_with_a_cpu_build_of_torch_is_one_clear_error(cli, monkeypatch):
    """Each candidate failed with "Torch not compiled with CUDA enabled", in a long cell per
    card; now the run does not start, and says what to do."""
    from studycli.check import pool

    monkeypatch.setattr(pool, "torch_gpu_build", lambda: False)
    result = cli("--content", FIXTURE_CONTENT, "check", "add-one", "--device", "cuda")
    assert result.exit_code == 1
    assert "the installed torch is built for the CPU only" in result.stderr
    assert "use --device cpu, or install a CUDA build of torch" in result.stderr


SLIPS = '''
import os
import time

from studycli.assertions import assert_equal, call, fails_with


def chatty(x):
    """Return x."""
    return x


def check_chatty(impl, device="cpu"):
    import warnings

    warnings.warn("a library's warning: not the checker's print")  # (left out of the count)
    for i in range(3):
        print("debug", i)  # a checker's print: the learner would take it for theirs
    assert_equal(call(impl, "chatty(1)", 1), 1, "chatty(1)")


def buggy(x):
    """Return x."""
    return x


def check_buggy(impl, device="cpu"):
    assert_equal(call(impl, "buggy(1)", 1), 1, "buggy(1)")
    assert_equal(call(impl, "buggy(2)", 2), 2 + undefined_name, "buggy(2)")  # noqa: F821


def slow(x):
    """Return x."""
    return x


def check_slow(impl, device="cpu"):
    time.sleep(1.0)
    assert_equal(call(impl, "slow(1)", 1), 1, "slow(1)")


@fails_with("expected 1, got 2")
def _wrong_plus_one(x):
    """Returns x + 1."""
    return x + 1


@fails_with("expected 1, got 0")
def _wrong_exits(x):
    """Leaves the process instead of returning."""
    os._exit(0)


WRONG_ANSWERS = {
    "chatty": [_wrong_plus_one],
    "buggy": [_wrong_plus_one],
    "slow": [_wrong_plus_one, _wrong_exits],
}
'''


@pytest.fixture
def slips(content_copy):
    (content_copy / "solutions" / "slips.py").write_text(SLIPS)
    for name in ("chatty", "buggy", "slow"):
        write_card(content_copy, "slips", name, card(name).replace("trouble:", "slips:"))
    return content_copy


def test_an_authors_slips_in_a_checker_fail_check_and_say_where(slips):
    """From a contributor's walkthrough: a checker's prints passed (the learner saw them as
    their own output); a checker's own bug was blamed on the reference with no place named; a
    check slower than a learner's limit passed (check allows 60 s, a learner's check 10 s);
    a wrong answer whose process died was named "#2"."""
    content = load_content(slips)
    cards = [content.get(name) for name in ("chatty", "buggy", "slow")]
    found = {
        r.card_id: r for r in run_checks(cards, content, jobs=2, timeout=10.0, learner_timeout=0.5)
    }
    chatty, buggy, slow = found["chatty"], found["buggy"], found["slow"]
    assert chatty.status == "fail" and "the reference's check printed 3 line(s)" in chatty.message
    assert "'debug 0'" in chatty.message  # the warning before it is not counted
    assert buggy.status == "error" and "NameError" in buggy.message
    assert "(at solutions/slips.py:29, in check_buggy)" in buggy.message
    assert slow.status == "fail" and "the reference's check took 1." in slow.message
    assert "past the 0.5 s a learner's check may run" in slow.message
    line = SLIPS.splitlines().index("def _wrong_exits(x):") + 1
    assert f"wrong answer _wrong_exits at solutions/slips.py:{line} was rejected, but not" in (
        slow.message
    )


def test_check_of_every_card_stops_at_a_card_file_that_does_not_load(cli, content_copy):
    """It left the file out without a word: "81 of 81 cards pass", exit 0."""
    write_card(content_copy, "math", "broken", "id: broken\ntitle: a: b\n")
    result = cli("--content", content_copy, "check")
    assert result.exit_code != 0
    assert "cards/math/broken.yaml: not a card that loads" in " ".join(result.output.split())
    named = cli("--content", content_copy, "check", "broken", "broken")  # (named once)
    assert named.exit_code != 0 and "no card with id broken, and" in named.output
    assert cli("--content", content_copy, "check", "add-one").exit_code == 0  # others: as before


def test_a_card_named_twice_is_checked_once(cli):
    """`check nms pixel-shuffle nms` checked nms twice, listed it twice and said "3 of 3 cards
    pass" of two cards."""
    result = cli("--content", FIXTURE_CONTENT, "check", "add-one", "add-one", "--json")
    assert result.exit_code == 0, result.output
    assert [card["id"] for card in json.loads(result.stdout)] == ["add-one"]


def test_a_checker_that_returns_a_value_is_an_error_that_says_it_is_not_read(content_copy):
    """A checker written to return False for a wrong answer (and True for a right one) rejects
    nothing: its return value is not read. Check said only that each wrong answer "should fail
    but the checker accepted it", which sends the author to the cases, not to the return."""
    edit(
        content_copy / "solutions" / "arith.py",
        "        assert_equal(call(impl, what, x), x + 1, what)\n",
        "        if impl(x) != x + 1:\n            return False\n    return True\n",
    )
    content = load_content(content_copy)
    [result] = run_checks([content.cards["add-one"]], content, jobs=2, timeout=20)
    assert result.status == "error"
    assert result.message.startswith(
        "the reference should pass but got error: the checker check_add_one returned True, and "
        "a checker's return value is not read: it rejects an answer by raising"
    )
    assert "fix solutions/arith.py" in result.message


def test_a_named_pipe_where_the_check_times_go_is_passed_over():
    """The record of each check's seconds is a cache: one that cannot be read is ignored. A
    named pipe there (no writer) held `check` for ever before its first check, reading it."""
    import os
    import subprocess
    import sys

    from studycli.paths import check_times_path

    times = check_times_path()  # (in this test's own home, which the command inherits)
    times.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(times)
    done = subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "check", "add-one"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 of 1 cards pass" in done.stdout


def test_a_cards_status_is_its_worst_problems_error_then_timeout_then_fail():
    """A card with problems of several kinds reports the one to read first: a correct answer
    whose check raised (the checker's own bug) over one that timed out, either over a
    failure (a wrong answer the checker accepted)."""
    accepted = Outcome("pass", "passed", 0.01)
    starter = job(FIXTURE_CONTENT, Candidate("code", "add_one", code="def add_one(x): ..."))
    for worst in ("error", "timeout"):
        found = [
            (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")),
             Outcome(worst, "ZeroDivisionError: division by zero", 0.1)),
            (starter, accepted),
        ]  # fmt: skip
        if worst == "error":
            found.append(
                (job(FIXTURE_CONTENT, Candidate("variant", "add_one", "arith")),
                 Outcome("timeout", "did not finish in 3 s", 3.0))
            )  # fmt: skip
        assert verdict("add-one", found).status == worst


def test_a_reference_that_raises_is_located_at_its_line(content_copy):
    """A reference with a typo: "add_one(-3): raised NameError: name 'undefined_name' is not
    defined", and no line, where a checker's own error gets one (a QA pass)."""
    edit(
        content_copy / "solutions" / "arith.py",
        '        x: any integer.\n    """\n    return x + 1\n',
        '        x: any integer.\n    """\n    return undefined_name  # noqa: F821\n',
    )
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    assert result.status == "fail"
    assert "raised NameError: name 'undefined_name' is not defined" in result.message
    assert result.message.endswith("(at solutions/arith.py:12, in add_one)"), result.message


def test_a_reference_that_writes_a_non_str_gets_pythons_own_type_error(content_copy):
    """`sys.stdout.write(1)` in a reference raised AttributeError: 'int' object has no
    attribute 'strip', from the checker's tracking of the first print, not the TypeError
    Python gives (an audit)."""
    edit(
        content_copy / "solutions" / "arith.py",
        '        x: any integer.\n    """\n    return x + 1\n',
        '        x: any integer.\n    """\n    __import__("sys").stdout.write(1)\n'
        "    return x + 1\n",
    )
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    assert result.status == "fail"
    assert "add_one(-3): raised TypeError: " in result.message, result.message
    assert "int" in result.message.partition("TypeError: ")[2], result.message
    assert "AttributeError" not in result.message and "strip" not in result.message
    assert result.message.endswith("(at solutions/arith.py:12, in add_one)"), result.message


def test_a_bare_assert_that_fails_the_reference_is_located_and_said_to_teach_nothing(
    content_copy,
):
    """A checker's `assert got == want` that failed the reference said only "the checker
    rejected the answer": no line, no input, and nothing told its author that a learner would
    read no more than that (a QA pass of the author's path)."""
    edit(
        content_copy / "solutions" / "arith.py",
        "        assert_equal(call(impl, what, x), x + 1, what)\n",
        "        assert call(impl, what, x) == x + 2\n",
    )
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    assert result.status == "fail"
    assert result.message.startswith(
        "the reference should pass but got fail: the checker rejected the answer (at "
        "solutions/arith.py:18, in check_add_one): an AssertionError with no message"
    ), result.message
    assert "use expect, assert_close or assert_equal" in result.message


def test_where_a_correct_answers_check_raised_is_the_innermost_line_of_the_solutions():
    """The line said is the last of the solution modules' frames the error went through (a
    helper's, not the checker's call of it), whatever frames outside them came after."""
    solutions = FIXTURE_CONTENT / "solutions"
    frames = (
        f'  File "{solutions / "arith.py"}", line 20, in check_add_one\n'
        f'  File "{solutions / "arith.py"}", line 7, in _cases\n'
        f'  File "{REPO_ROOT / "studycli" / "assertions.py"}", line 90, in call\n'
    )
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")),
         Outcome("error", "ZeroDivisionError: division by zero", 0.1, traceback=frames)),
    ]  # fmt: skip
    assert verdict("add-one", found).message.endswith(
        "ZeroDivisionError: division by zero (at solutions/arith.py:7, in _cases)"
    )


@pytest.mark.parametrize(
    "output, said",
    [
        # one long line whose start was cut: bytes before it, not lines
        ("… 5,000 earlier bytes not shown\n" + "y" * 50 + "\n", "(the first shown: 'yyyy"),
        # the tail shown holds only Python's warnings: the cut line is all there is to say
        ("… 10 earlier lines not shown\nx.py:3: UserWarning: w\n  warn()\n", "(first: '… 10"),
    ],
)
def test_a_reference_whose_printed_tail_was_cut_is_counted_from_what_was_kept(output, said):
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")),
         Outcome("pass", "passed", 0.1, output=output)),
    ]  # fmt: skip
    result = verdict("add-one", found)
    assert result.status == "fail" and "the reference's check printed" in result.message
    assert said in result.message and "5,00" not in result.message


def test_a_wrong_answer_declared_to_raise_an_unbound_local_error_may():
    passed = Outcome("pass", "passed", 0.01)
    found = [
        (job(FIXTURE_CONTENT, Candidate("reference", "add_one", "arith")), passed),
        (job(FIXTURE_CONTENT,
             Candidate("wrong", "add_one", "arith", fails_with="UnboundLocalError")),
         Outcome("fail", "add_one(1): raised UnboundLocalError: cannot access local", 0.01)),
    ]  # fmt: skip
    assert verdict("add-one", found).status == "pass"


def test_a_learners_limit_shortens_a_check_and_never_lengthens_one():
    """A correct answer's check stops a margin past a learner's limit (it fails the card
    then anyway), but never later than `--timeout`; so does a wrong answer's: one rejected
    only after the learner's limit is rejected, for a learner who makes its mistake, by a
    timeout ("did not finish"), not by the failure it declares (a wrong answer's check kept
    `--timeout`, 60 s, which one that hung ran to the end)."""
    from studycli.check.plan import LEARNER_MARGIN, _limit

    reference = Candidate("reference", "add_one", "arith")
    assert _limit(job(FIXTURE_CONTENT, reference, timeout=60.0), 10.0) == 10.0 + LEARNER_MARGIN
    assert _limit(job(FIXTURE_CONTENT, reference, timeout=3.0), 10.0) == 3.0
    wrong = Candidate("wrong", "add_one", "arith")
    assert _limit(job(FIXTURE_CONTENT, wrong, timeout=60.0), 10.0) == 10.0 + LEARNER_MARGIN
    assert _limit(job(FIXTURE_CONTENT, wrong, timeout=3.0), 10.0) == 3.0
    assert _limit(job(FIXTURE_CONTENT, reference, timeout=60.0), None) == 60.0


def test_check_lists_the_first_lint_problems_and_counts_the_rest(content_copy):
    """Eleven problems: ten listed, with the file and line of each, and "and 1 more"."""
    from studycli.check.verify import LISTED_PROBLEMS, checkable
    from studycli.errors import StudyError

    text = (content_copy / "cards" / "basics" / "add-one.yaml").read_text(encoding="utf-8")
    for i in range(LISTED_PROBLEMS + 1):
        name = f"add-{i:02}"
        write_card(content_copy, "more", name, text.replace("id: add-one", f"id: {name}")
                   .replace("topic: bias", "topic: no-such-topic"))  # fmt: skip
    content = load_content(content_copy)
    with pytest.raises(StudyError) as raised:
        checkable(list(content.cards.values()), content)
    said = str(raised.value)
    assert said.count("cards/more/add-") == LISTED_PROBLEMS and "add-10" in said  # (its id)
    assert said.endswith("\n  and 1 more (`studycli lint` lists all)")


def test_off_cpu_the_memory_watched_is_what_the_check_adds_not_what_its_worker_holds(
    content_copy,
):
    """A device worker holds its libraries (torch, CUDA's context: gigabytes) before a check
    starts: the cap applies to what the check adds to that, so a check that adds nothing
    passes under a cap far below what its worker holds."""
    (content_copy / "solutions" / "slow.py").write_text(
        "import time\n\n\ndef slow(x):\n    return x\n\n\n"
        "def check_slow(impl, device='cpu'):\n    time.sleep(0.5)\n    assert impl(1) == 1\n"
    )
    outcome = run_job(
        Job(str(content_copy / "solutions"), "slow", "check_slow",
            Candidate("reference", "slow", "slow"), device="cuda", timeout=20.0, memory_mb=16)
    )  # fmt: skip
    assert outcome.status == "pass", outcome


def line_of(path, text: str) -> int:
    """The number of the line of file `path` that is `text`."""
    return path.read_text().splitlines().index(text) + 1


def test_a_wrong_answer_accepted_and_a_reference_rejected_are_each_located(content_copy):
    """A wrong answer the checker accepted was named, not located: its author searched the
    solution module for it. A reference the checker rejected (its verdict, not a raise) was
    located nowhere, neither the reference nor the checker's line that rejected it (a QA
    pass). Both now say `solutions/<module>.py:LINE`, as the other messages do."""
    arith = content_copy / "solutions" / "arith.py"
    edit(arith, "    for n in range(0, 50):\n", "    for n in range(0, 1):\n")  # (lenient)
    edit(arith, '    """\n    return x + 1\n', '    """\n    return x + 2\n')  # (wrong)
    content = load_content(content_copy)
    cards = [content.get("triangle-derivation"), content.get("add-one")]
    found = {r.card_id: r for r in run_checks(cards, content, jobs=2, timeout=20)}
    lenient, rejected = found["triangle-derivation"], found["add-one"]
    assert lenient.status == "fail"
    for name, doc in (("_wrong_off_by_one", "Sums 1 .. n-1."), ("_wrong_float", "Uses n² / 2.")):
        line = line_of(arith, f"def {name}(n):")
        assert (
            f"wrong answer {name} ({doc}) at solutions/arith.py:{line} should fail but the "
            "checker accepted it" in lenient.message
        ), lenient.message
    assert rejected.status == "fail"
    line = line_of(arith, "        assert_equal(call(impl, what, x), x + 1, what)")
    assert rejected.message == (
        "the reference should pass but got fail: add_one(-3): expected -2, got -1 "
        f"(at solutions/arith.py:{line}, in check_add_one)"
    )


def test_a_reference_that_prints_is_located_at_its_first_print(content_copy):
    """ "The reference's check printed 5 line(s) (first: 'debug -3')" named the line printed,
    not the print: its author searched the reference, the checker and their helpers for it (a
    QA pass). A warning written before it (not counted as printed) is not taken for it."""
    arith = content_copy / "solutions" / "arith.py"
    edit(arith, '    """\n    return x + 1\n', '    """\n    print("debug", x)\n    return x + 1\n')
    edit(
        arith,
        "    for x in (-3, 0, 1, 41, 10**12):\n",
        '    import warnings\n\n    warnings.warn("a library\'s")\n'
        "    for x in (-3, 0, 1, 41, 10**12):\n",
    )
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    assert result.status == "fail"
    line = line_of(arith, '    print("debug", x)')
    assert (
        "the reference's check printed 5 line(s) (first: 'debug -3'; its first print at "
        f"solutions/arith.py:{line}, in add_one): a learner sees"
    ) in result.message, result.message


def test_a_correct_variant_that_prints_is_located_at_its_first_print_and_a_wrong_answer_not(
    content_copy,
):
    """A correct variant's prints passed with nothing said, where the reference's failed the
    card: a learner whose answer is that variant reads its lines as their own output. A wrong
    answer's prints are not counted: it fails anyway, and no learner's answer is it."""
    arith = content_copy / "solutions" / "arith.py"
    edit(
        arith,
        'CORRECT_VARIANTS = {"add_one": [lambda x: 1 + x]}\n',
        "def _plus_one_chatty(x):\n"
        '    """Adds one, saying so."""\n'
        '    print("adding one to", x)\n'
        "    return 1 + x\n\n\n"
        'CORRECT_VARIANTS = {"add_one": [lambda x: 1 + x, _plus_one_chatty]}\n',
    )
    edit(arith, "    return x + 2\n", '    print("wrong", x)\n    return x + 2\n')
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    assert result.status == "fail", result.message
    defined, printed = (
        line_of(arith, "def _plus_one_chatty(x):"),
        line_of(arith, '    print("adding one to", x)'),
    )
    assert result.message == (
        "the check of correct variant _plus_one_chatty (Adds one, saying so.) at "
        f"solutions/arith.py:{defined} printed 5 line(s) (first: 'adding one to -3'; "
        f"its first print at solutions/arith.py:{printed}, in _plus_one_chatty): a learner "
        "sees whatever a check prints as their own answer's output; remove the prints of the "
        "checker, and of the correct variant (its output is in the check's too)"
    )


def test_a_solution_module_that_prints_as_it_is_imported_fails_its_card_and_not_on_screen(
    content_copy, capfd
):
    """A solution module that printed at its top (a debug line, an escape sequence) passed
    `check`: the worker that loads it before forking its checks wrote the line straight to
    the author's terminal, escape sequences raw (a title set, the screen cleared), while each
    learner's failed check showed it as their own answer's output. Loaded where its output is
    not kept, the module is left for each check to import: the check's output has the line,
    and the card fails for it as for a checker's print."""
    arith = content_copy / "solutions" / "arith.py"
    arith.write_text('print("\\x1b]0;title\\x07debug at import")\n' + arith.read_text())
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    out, err = capfd.readouterr()
    assert "\x1b" not in out + err and "debug at import" not in out + err, (out, err)
    assert result.status == "fail", result.message
    assert "the reference's check printed 1 line(s)" in result.message, result.message


# A solution module that starts a process at its top and leaves it running (`{marker}`: how
# the test finds it): one quiet, one that prints at once, one that prints once loaded
LEAVES_A_PROCESS = (
    'subprocess.Popen(["sleep", "{marker}"])',
    'subprocess.Popen(["sh", "-c", "echo process says hi; exec sleep {marker}"])',
    'subprocess.Popen(["sh", "-c", "sleep 0.3; echo process says bye; exec sleep {marker}"])',
)


@pytest.mark.parametrize("start", LEAVES_A_PROCESS)
def test_a_solution_module_that_leaves_a_process_running_fails_its_card_saying_so(
    content_copy, capfd, start
):
    """A process that a solution module started at its top inherited the pipe the worker
    loads it with (its output set aside): left running, the card passed or failed from one run
    to the next as its first line came before the load ended or after (the module taken for
    one that prints, or for a quiet one), and it ran on in the worker. It is killed, and the
    card's checks say what it left, in the same words at each run."""
    from .check_support import gone_within, marker

    argument = marker()
    arith = content_copy / "solutions" / "arith.py"
    source = "import subprocess\n" + start.format(marker=argument) + "\n"
    arith.write_text(source + arith.read_text())
    content = load_content(content_copy)
    try:
        [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
        assert gone_within(argument, 1.0) == []  # (a kill takes a moment to land)
    finally:
        gone_within(argument, 0)
    out, err = capfd.readouterr()
    assert "process says" not in out + err, (out, err)
    assert result.status == "error", result.message
    assert result.message.startswith("importing solutions/arith.py left "), result.message
    assert f"sleep {argument}" in result.message, result.message


# A solution module that starts a thread at its top and leaves it running: one quiet, one that
# prints at once, one that prints once loaded (each print to sys.stdout, and to fd 1)
LEAVES_A_THREAD = """import os
import threading
import time


def _tick():
    time.sleep({delay})
    while {prints}:
        print("thread says hi", flush=True)
        os.write(1, b"thread writes hi\\n")
        time.sleep(0.05)
    threading.Event().wait()


threading.Thread(target=_tick, daemon=True).start()
"""


@pytest.mark.parametrize(("delay", "prints"), [(0, False), (0, True), (0.3, True)])
def test_a_solution_module_that_leaves_a_thread_running_fails_its_card_saying_so(
    content_copy, capfd, fresh_pool, delay, prints
):
    """A thread that a solution module started at its top ran on in the worker after the load
    (no signal ends a thread): its lines went to the command's output (a zygote's sys.stdout is
    the command's then) at any time in the run, and the card passed where the thread printed
    only once the module had loaded. Its checks fail saying what it left, as a process left
    does, and nothing the thread prints reaches the command's output."""
    import time

    from .check_support import close_pool

    arith = content_copy / "solutions" / "arith.py"
    arith.write_text(LEAVES_A_THREAD.format(delay=delay, prints=prints) + arith.read_text())
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    time.sleep(0.5)  # (the worker lives on: what the thread prints meanwhile)
    close_pool(fresh_pool)
    out, err = capfd.readouterr()
    assert "thread says" not in out + err and "thread writes" not in out + err, (out, err)
    assert result.status == "error", result.message
    assert result.message.startswith(
        "importing solutions/arith.py left 1 thread running that it started (Thread-"
    ), result.message
    assert "(_tick)" in result.message and "join them there" in result.message, result.message


def test_each_check_gets_one_torch_thread_however_few_jobs(monkeypatch):
    """`check --jobs 1` gave its checks a thread per core (the cores shared out among the
    jobs), where the checkers' tiny problems only wait on threads' synchronisation: as slow as
    `solve`'s were (`runner.CHECK_THREADS`)."""
    from studycli.check import pool, verify

    monkeypatch.setattr(pool, "cores", lambda: 8)
    monkeypatch.setattr(verify, "cores", lambda: 8, raising=False)
    monkeypatch.setattr(verify, "warm_up", lambda *args: None)
    jobs: list[Job] = []
    lock = threading.Lock()

    def record(job: Job) -> Outcome:
        with lock:
            jobs.append(job)
        return Outcome("pass" if job.candidate.expect_pass else "fail", "", 0.0)

    monkeypatch.setattr(verify, "run_job", record)
    content = load_content(FIXTURE_CONTENT)
    run_checks([content.get("add-one")], content, jobs=1)
    assert jobs and {job.threads for job in jobs} == {1}
