"""A check's time limit is wall-clock: on a busy machine, a check starved of CPU (waiting for a
core most of its limit) is given more time, up to `starvation.LONGEST` times its limit, and
one starved still is not judged (`Status.BUSY`), never "did not finish". One that spins, or
sleeps, ends at its limit as before (`check.starvation`, `timer._stop_before`,
`runner._wait`).

The starved check here runs where the command was given one core (`confined`), shared with
spinners this test starts there: a check that narrows its own cores starved itself, and is
judged by its limit."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from studycli.check import proc_stat, starvation
from studycli.check.runner import Candidate, Job, Outcome, Status, run_job
from studycli.check.solve import NOT_JUDGED, unanswered
from studycli.check.starvation import Usage
from studycli.check.verdict import verdict
from studycli.content.loader import load_content

from .conftest import FIXTURE_CONTENT

LIMIT = 2.0  # seconds each check may run
SLACK = 2.5  # start-up, killing and reading what is left, on a busy shared machine
CORES = os.sched_getaffinity(0)  # (the command's)
CORE = max(CORES)  # the core the starved check and the spinners share
SPINNERS = 12  # on it: the check gets a thirteenth of it at most
# The starved check spins, pinned there, until this many seconds have passed since its answer
# was called: past its limit, starved at it (a thirteenth of a core at most: under a third of
# its limit of CPU), and done well before `starvation.LONGEST` limits, however busy the machine
# is besides (a busier core leaves it more starved, and it needs only a moment of CPU after
# its time to return). Spinning for seconds of CPU instead (0.2 s of it) read busy in a full
# run of the suite (0.1 s of CPU in 6 s: other tests' processes on the core too)
NEEDS = 1.2 * LIMIT
# and one still starved when it has been given the most time (3 limits): busy
NEEDS_LONGER = 5 * LIMIT

CHECKED = """
import time

def answer(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return seconds

def loops(seconds):
    while True:
        pass

def sleeps(seconds):
    time.sleep(600)

def check(impl, device="cpu"):
    assert impl({needs}) == {needs}
"""


@pytest.fixture
def solutions(tmp_path: Path) -> Path:
    (tmp_path / "burn.py").write_text(CHECKED.format(needs=NEEDS))
    (tmp_path / "longer.py").write_text(CHECKED.format(needs=NEEDS_LONGER))
    (tmp_path / "quick.py").write_text(CHECKED.format(needs=0.0))
    return tmp_path


def job(solutions: Path, function: str, module: str = "burn", **options) -> Job:
    reference = Candidate("reference", function, module)
    return Job(str(solutions), module, "check", reference, timeout=LIMIT, **options)


def run_timed(job: Job) -> tuple[Outcome, float]:
    started = time.monotonic()
    outcome = run_job(job)
    return outcome, time.monotonic() - started


@pytest.fixture
def busy_core():
    """`SPINNERS` processes spinning on `CORE`, ended after the test. (Each in a session of
    its own: with autogroup scheduling the kernel shares a core out by session first, and the
    check has one of its own: in one, six spinners left it a third of the core.)"""
    with spinning([CORE] * SPINNERS):
        yield


@contextlib.contextmanager
def spinning(cores):
    """A process spinning on each of `cores` (one per entry), each in a session of its own,
    ended when the block ends."""
    spinners = []
    for core in cores:
        code = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True:\n    pass\n"
        spinners.append(subprocess.Popen([sys.executable, "-c", code], start_new_session=True))
    for spinner, core in zip(spinners, cores):
        _spinning_on(spinner.pid, core)
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _spinning_on(pid: int, core: int) -> None:
    """Wait until process `pid` has pinned itself to `core` and spun there (its loop reached):
    a fixed 0.2 s was too short on the box at load 8 (a Python's start-up took longer), and a
    check timed meanwhile had more of the core than the test means, a third of its limit in
    CPU, and was judged by its limit (TIMEOUT, `starved` False): 3 of 12 runs."""
    deadline = time.monotonic() + 60
    while True:
        fields = proc_stat.fields(f"/proc/{pid}/stat") or []
        spun = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        if os.sched_getaffinity(pid) == {core} and spun >= 0.05:
            return
        assert time.monotonic() < deadline, f"spinner {pid} never spun on core {core}"
        time.sleep(0.01)


@pytest.fixture
def warm(request, solutions):
    """The worker of the test's device (its `device` parameter; else the CPU's) started before
    anything is timed (it imports torch once)."""
    callspec = getattr(request.node, "callspec", None)
    device = callspec.params.get("device", "cpu") if callspec else "cpu"
    quick = replace(job(solutions, "answer", "quick", device=device), timeout=60)
    assert run_job(quick).status == "pass"


@pytest.fixture
def confined(request, solutions, fresh_pool):
    """The command given `CORE` alone (the test's thread, which starts the workers and judges
    their checks): workers of its own started there, `warm`, before anything is timed; its
    cores given back after the test."""
    os.sched_setaffinity(0, {CORE})
    try:
        request.getfixturevalue("warm")
        yield
    finally:
        os.sched_setaffinity(0, CORES)


@pytest.mark.parametrize("device", ["cpu", "cuda"], ids=["forked check", "device worker"])
def test_a_check_starved_of_cpu_is_given_time_not_said_to_be_an_infinite_loop(
    solutions, confined, busy_core, device
):
    """On the 2-core box at load 6, a correct answer (1.4 s of CPU alone) hit its card's 10 s
    and read "did not finish in 10 s: an infinite loop, or far too slow", rated Again; the next
    run passed. (A device worker runs its check itself, the parent alone keeping the time.)"""
    outcome, seconds = run_timed(job(solutions, "answer", device=device))
    assert outcome.status == Status.PASS, outcome
    assert outcome.starved and seconds > LIMIT  # (it needed the time it was given)
    # and it says how long it waited for a core: a thirteenth of its time it had one, at most
    assert outcome.alone < outcome.seconds / 2, outcome


def test_a_check_starved_still_at_its_longest_is_not_judged(solutions, confined, busy_core):
    """One that needs more time than `starvation.LONGEST` limits there ends busy: not judged,
    which `solve` and `review` do not rate, not a timeout."""
    outcome, seconds = run_timed(job(solutions, "answer", "longer"))
    assert outcome.status == Status.BUSY, outcome
    assert "did not finish" not in outcome.message
    assert outcome.message.startswith("not judged: the machine was too busy: the check had ")
    assert f"(its limit is {LIMIT:g} s)" in outcome.message
    assert starvation.LONGEST * LIMIT - 0.5 < seconds < starvation.LONGEST * LIMIT + SLACK
    assert unanswered(True, outcome) == NOT_JUDGED


@pytest.mark.parametrize("function", ["loops", "sleeps"])
def test_a_check_that_spins_or_sleeps_still_ends_as_did_not_finish(solutions, warm, function):
    """An infinite loop had its CPU (on a busy machine it is starved too, and is given time
    until it had a third of its limit of CPU), and a sleep wanted none: neither is starved."""
    outcome, seconds = run_timed(job(solutions, function))
    assert outcome.status == Status.TIMEOUT, outcome
    assert outcome.message.startswith(f"did not finish in {LIMIT:g} s: an infinite loop")
    assert outcome.seconds == LIMIT
    longest = starvation.LONGEST * LIMIT if function == "loops" else LIMIT
    assert seconds < longest + SLACK


PINS_ITSELF = f"""
import os

def pins(seconds):
    os.sched_setaffinity(0, [{CORE}])
    while True:  # an infinite loop, a wrong answer
        pass

def check(impl, device="cpu"):
    impl(1)
"""


@pytest.mark.skipif(len(CORES) < 2, reason="a core to narrow to, of several")
@pytest.mark.parametrize("device", ["cpu", "cuda"], ids=["forked check", "device worker"])
def test_a_check_that_narrows_its_cores_is_judged_by_its_limit(solutions, warm, busy_core, device):
    """An infinite loop that pinned itself to a core that spinners held, the command's other
    cores free, waited for a core most of its limit: it ran to three times its limit and was
    not judged (busy), which `solve` does not rate. It starved itself: it did not finish."""
    (solutions / "pins.py").write_text(PINS_ITSELF)
    outcome, seconds = run_timed(job(solutions, "pins", "pins", device=device))
    assert outcome.status == Status.TIMEOUT, outcome
    assert outcome.message.startswith(f"did not finish in {LIMIT:g} s")
    assert seconds < LIMIT + SLACK


SELF_STARVED = f"""
import os

def lowers(seconds):
    os.sched_setaffinity(0, [{CORE}])
    if os.fork() == 0:  # (its own competitor on its core, killed with the check)
        while True:
            pass
    {{lower}}
    while True:  # an infinite loop, a wrong answer
        pass

def check(impl, device="cpu"):
    impl(1)
"""


@pytest.mark.parametrize(
    "lower",
    ["os.nice(19)", "os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))"],
    ids=["nice 19", "SCHED_IDLE"],
)
def test_a_check_that_lowers_its_own_priority_is_judged_by_its_limit(solutions, warm, lower):
    """An infinite loop at nice 19 (or SCHED_IDLE) beside a spinner of its own on its core was
    starved, by itself: it ran to three times its limit and was not judged, which `solve` does
    not rate, where it was rated Again before. It ends at its limit, did not finish."""
    (solutions / "lowers.py").write_text(SELF_STARVED.format(lower=lower))
    outcome, seconds = run_timed(job(solutions, "lowers", "lowers"))
    assert outcome.status == Status.TIMEOUT, outcome
    assert outcome.message.startswith(f"did not finish in {LIMIT:g} s")
    assert seconds < LIMIT + SLACK


FORKS_SPINNERS = """
import os

def forks(seconds):
    for _ in range(12):  # its own competitors for the cores, killed with the check
        if os.fork() == 0:
            {leave}
            while True:
                pass
    while True:  # an infinite loop, a wrong answer
        pass

def check(impl, device="cpu"):
    impl(1)
"""
SETSID = "os.setsid()"  # a session of its own
DOUBLE_FORK = "os.setsid()\n            if os.fork():\n                os._exit(0)"  # (a daemon)


@pytest.mark.parametrize(
    ("leave", "device"),
    [("pass", "cpu"), (SETSID, "cpu"), (DOUBLE_FORK, "cpu"), (DOUBLE_FORK, "cuda")],
    ids=["in its session", "setsid", "double fork", "device worker, double fork"],
)
def test_a_check_starved_by_processes_it_started_is_judged_by_its_limit(
    solutions, warm, leave, device
):
    """An infinite loop that forked twelve spinners waited for a core most of its limit, for
    its own processes: it ran to three times its limit and was not judged, which `solve` does
    not rate, where it was rated Again before. Their CPU is the check's, in its session or not
    (a setsid, a double fork, which left the check's session uncounted): it did not finish."""
    (solutions / "forks.py").write_text(FORKS_SPINNERS.format(leave=leave))
    outcome, seconds = run_timed(job(solutions, "forks", "forks", device=device))
    assert outcome.status == Status.TIMEOUT, outcome
    assert outcome.message.startswith(f"did not finish in {LIMIT:g} s")
    assert seconds < LIMIT + SLACK


def test_starved_is_ran_little_yet_wanted_to_run():
    """A check's own times (`Usage`) at its limit: one that spun, one that slept, one that
    waited for a core most of the time."""
    limit = 10.0
    assert not starvation.starved(Usage(cpu=9.8, waited=0.1), 10.0, limit)  # spun
    assert not starvation.starved(Usage(cpu=0.01, waited=0.0), 10.0, limit)  # slept
    assert starvation.starved(Usage(cpu=2.0, waited=7.5), 10.0, limit)  # starved
    assert starvation.starved(Usage(cpu=3.5, waited=20.0), 25.0, limit, slack=0.3)
    assert not starvation.starved(Usage(cpu=3.7, waited=20.0), 25.0, limit, slack=0.3)
    assert not starvation.starved(Usage(cpu=2.0, waited=3.0), 25.0, limit)  # (mostly slept)
    assert not starvation.starved(None, 10.0, limit)  # (not known: the limit holds)


def test_usage_reads_this_process_threads():
    before = starvation.usage()
    end = time.process_time() + 0.05
    while time.process_time() < end:
        pass
    after = starvation.usage()
    assert before is not None and after is not None
    assert after.since(before).cpu >= 0.04


def test_a_busy_check_fails_no_card_as_a_mistake_and_says_not_judged(solutions):
    """A card whose check was starved twice (`verify` runs it again, alone) says so, busy: a
    wrong answer's was "rejected, but not for its mistake"."""
    wrong = replace(job(solutions, "loops").candidate, kind="wrong", fails_with="too slow")
    busy = Outcome(Status.BUSY, "not judged: the machine was too busy: ...", 6.0)
    reference = job(solutions, "answer")
    result = verdict(
        "burn",
        [
            (reference, Outcome(Status.PASS, "passed", 0.1)),
            (replace(reference, candidate=wrong), busy),
        ],
    )
    assert result.status == Status.BUSY
    assert "wrong answer #1: not judged: the machine was too busy" in result.message
    assert "not for its mistake" not in result.message


def test_check_says_how_many_cards_were_not_judged(cli, monkeypatch):
    """A card whose check the machine starved of CPU failed `check` as "1 do not", as a
    wrong checker would, the summary not saying that nothing was judged."""
    from studycli.check.verdict import CardResult
    from studycli.cli import check as check_command

    results = [
        CardResult("add-one", Status.BUSY, 6.0, "the reference: not judged: ..."),
        CardResult("square", Status.PASS, 0.1, ""),
    ]
    monkeypatch.setattr(check_command, "_checked", lambda *_: results)
    result = cli("--content", FIXTURE_CONTENT, "check", "add-one", "square")
    assert result.exit_code == 1, result.output
    summary = " ".join(result.output.split())
    assert "1 of 2 cards pass; 1 do not (1 not judged: the machine was too busy;" in summary


@pytest.mark.parametrize("cpus", [None, 0.5], ids=["no quota", "a quota"])
def test_checks_summary_of_busy_cards_says_the_quota_not_to_wait(cli, monkeypatch, cpus):
    """Under a cgroup's CPU quota, `check`'s summary told to check the busy cards again when
    the machine is less busy, which it never is there: it says the quota."""
    from studycli.check import cpu_quota
    from studycli.check.verdict import CardResult
    from studycli.cli import check as check_command

    results = [CardResult("add-one", Status.BUSY, 6.0, "the reference: not judged: ...")]
    monkeypatch.setattr(check_command, "_checked", lambda *_: results)
    monkeypatch.setattr(cpu_quota, "quota", lambda: cpus)
    summary = " ".join(cli("--content", FIXTURE_CONTENT, "check", "add-one").output.split())
    assert "(1 not judged: the machine was too busy;" in summary
    assert ("less busy" in summary) == (cpus is None), summary
    assert ("a CPU quota of 0.5 CPUs" in summary) == (cpus is not None), summary


def test_solve_rates_no_check_that_was_not_judged(cli, tmp_path, monkeypatch):
    """A correct answer starved of CPU was rated Again by `solve` (its timeout). Not judged,
    it is shown, nothing is recorded, and the learner is told to check it again."""
    from studycli.check import solve

    said = "not judged: the machine was too busy: the check had 0.4 s of CPU in 30 s"
    busy = Outcome(Status.BUSY, said, 30.0)
    monkeypatch.setattr(solve, "run_check", lambda *args, **kwargs: busy)
    answer = tmp_path / "attempt.py"
    answer.write_text("def add_one(x):\n    return x + 1\n")
    result = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", answer)
    shown = " ".join(result.stdout.split())
    assert result.exit_code == 1, result.output
    assert said in shown and "recorded Again" not in shown
    assert f"not recorded: the attempt {NOT_JUDGED}" in shown
    assert "mend it" not in shown and "--file " in shown and "checks it again" in shown
    history = cli("--content", FIXTURE_CONTENT, "history", "--json")
    assert json.loads(history.stdout) == []


@pytest.mark.parametrize("starved", [1, 2], ids=["once", "twice"])
def test_check_runs_a_check_not_judged_again_alone_before_it_fails_the_card(monkeypatch, starved):
    """`check` (CI) failed a card whose correct answer the machine starved of CPU. A check not
    judged runs once more, alone, once the others ended; not judged again, the card fails as
    busy, saying so."""
    from studycli.check import verify

    content = load_content(FIXTURE_CONTENT)
    real, ran = verify.run_job, []

    def starved_first(job: Job) -> Outcome:
        ran.append(job)
        first = [done for done in ran if done.candidate == job.candidate]
        if job.candidate.kind == "reference" and len(first) <= starved:
            return Outcome(Status.BUSY, "not judged: the machine was too busy: ...", 6.0)
        return real(job)

    monkeypatch.setattr(verify, "run_job", starved_first)
    [result] = verify.run_checks([content.get("add-one")], content, jobs=2, timeout=20)
    references = [job for job in ran if job.candidate.kind == "reference"]
    assert len(references) == 2 and references[1] is ran[-1]  # (after every other check)
    if starved == 1:
        assert result.status == Status.PASS, result
    else:
        assert result.status == Status.BUSY, result
        assert "reference: not judged: the machine was too busy" in result.message


def test_check_runs_no_more_checks_again_once_one_run_alone_was_not_judged(monkeypatch):
    """Each check not judged ran again, one after another, each up to three times its limit:
    on a machine busy all along, every one of them (a 60 s limit: three minutes a check, after
    the rest). Once one run alone is not judged either, the rest fail busy as they were."""
    from studycli.check import verify

    content = load_content(FIXTURE_CONTENT)
    ran: list[Job] = []

    def always_busy(job: Job) -> Outcome:
        ran.append(job)
        return Outcome(Status.BUSY, "not judged: the machine was too busy: ...", 6.0)

    monkeypatch.setattr(verify, "run_job", always_busy)
    done: list[Outcome] = []
    [result] = verify.run_checks(
        [content.get("add-one")],
        content,
        jobs=2,
        timeout=20,
        on_job_done=lambda _, outcome: done.append(outcome),
    )
    checks = len({id(job) for job in ran})
    assert checks > 1  # (a reference and its wrong answers)
    assert len(ran) == checks + 1, ran
    assert result.status == Status.BUSY, result
    assert [verify.NOT_AGAIN in outcome.message for outcome in done] == [False] + [True] * (
        checks - 1
    )


def test_solve_watch_runs_a_check_not_judged_again_and_counts_no_failed_run(tmp_path, monkeypatch):
    """In `solve --watch`, a check not judged is shown and run again on the file as it is
    (no save needed), and is no failed run: the pass after it is a first try's, Good."""
    from rich.console import Console

    from studycli.check import solve
    from studycli.cli import solve_flow, solve_watch

    from .study_support import fixture_content
    from .test_check_solve import WATCH_DEADLINE, _ending_after

    content = fixture_content()
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    path.write_text("def add_one(x):\n    return x + 1\n")
    real, runs = solve.run_check, []

    def starved_first(*args, **kwargs) -> Outcome:
        runs.append(1)
        if len(runs) == 1:
            return Outcome(Status.BUSY, "not judged: the machine was too busy: ...", 30.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(solve, "run_check", starved_first)
    gave_up = _ending_after(monkeypatch, solve_watch, WATCH_DEADLINE)
    console = Console(record=True, width=100)
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(20, 1024))
    text = console.export_text()
    assert not gave_up and len(runs) == 2, text
    assert text.index("not judged") < text.index("running it again") < text.index("passed")
    assert attempt is not None and attempt.outcome.status == "pass"
    assert attempt.failed_runs == 0 and attempt.how() == "first try this solve"


def test_solve_watch_runs_a_check_not_judged_again_once_then_waits_for_a_save(
    tmp_path, monkeypatch
):
    """Not judged twice on the same file, the watch waits for a save (the same bytes saved
    again too), where it ran the check again and again, each run up to three times its limit,
    until q (r5: a true infinite loop on a machine at load 18 reads busy)."""
    import threading

    from rich.console import Console

    from studycli.check import solve
    from studycli.cli import solve_flow, solve_watch

    from .study_support import fixture_content
    from .test_check_solve import _ending_after

    content = fixture_content()
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    source = "def add_one(x):\n    return x + 1\n"
    path.write_text(source)
    runs: list[float] = []

    def always_starved(*args, **kwargs) -> Outcome:
        runs.append(time.monotonic())
        return Outcome(Status.BUSY, "not judged: the machine was too busy: ...", 30.0)

    def save_again_after_two_runs() -> None:
        while len(runs) < 2:
            time.sleep(0.05)
        time.sleep(1.0)  # (no third run meanwhile: asserted below)
        path.write_text(source)  # the same bytes, saved again
        stamp = path.stat().st_mtime_ns + 1_000_000_000
        os.utime(path, ns=(stamp, stamp))

    monkeypatch.setattr(solve, "run_check", always_starved)
    gave_up = _ending_after(monkeypatch, solve_watch, 4.0)
    saver = threading.Thread(target=save_again_after_two_runs, daemon=True)
    saver.start()
    console = Console(record=True, width=100)
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(20, 1024))
    text = console.export_text()
    assert gave_up and len(runs) == 3, (len(runs), text)  # once again, then at the save
    assert runs[2] - runs[1] > 0.9, text
    assert text.count("running it again") == 1 and "not judged again: save to check" in text
    assert attempt is None or attempt.failed_runs == 0


def test_check_times_are_a_checks_own_not_a_busy_machines(tmp_path):
    """The check times (`durations`) recorded a starved check's seconds (12 s, of which it
    waited for a core 10.6 s) as its own, and the next run started it first, ahead of the
    checks that are long. Each records what it took with a core of its own; one not judged
    (it never ended) records nothing, what was known kept."""
    from studycli.check import durations

    times = tmp_path / "check-times.json"
    starved, busy = (job(tmp_path, "answer", module) for module in ("starved", "busy"))
    known = {durations.key(busy): 0.5}
    done = [
        (starved, Outcome(Status.PASS, "passed", 12.0, starved=True, waited=10.6)),
        (busy, Outcome(Status.BUSY, "not judged: the machine was too busy: ...", 6.0)),
    ]
    durations.save(times, known, done)
    assert durations.load(times) == {durations.key(starved): 1.4, durations.key(busy): 0.5}


def test_a_correct_check_slowed_by_a_busy_machine_is_not_slower_than_a_learners_limit(tmp_path):
    """A correct answer's check that took 12 s, of which it waited for a core 10.6 s (a busy
    machine, short of starved at its limit: 15 s for a learner's 10 s), failed its card as
    past the 10 s a learner's check may run, and noted as slow. Its own time is 1.4 s. One
    that took 12 s with a core (a sleep too) is past it."""
    reference = replace(job(tmp_path, "answer"), timeout=15.0)
    wrong = replace(reference, candidate=replace(reference.candidate, kind="wrong"))
    rejected = (wrong, Outcome(Status.FAIL, "expected 1, got 2", 0.1))
    slowed = Outcome(Status.PASS, "passed", 12.0, waited=10.6)
    result = verdict("burn", [(reference, slowed), rejected], learner_timeout=10.0)
    assert result.status == Status.PASS, result.message
    assert "past the" not in result.message and "slow:" not in result.message
    slow = Outcome(Status.PASS, "passed", 12.0, waited=0.2)
    result = verdict("burn", [(reference, slow), rejected], learner_timeout=10.0)
    assert result.status == Status.FAIL
    assert "the reference's check took 11.8 s, past the 10 s a learner's" in result.message


@pytest.fixture
def each_core_busy():
    """A spinner on each of the command's cores, each in a session of its own (`busy_core`):
    a check at its session's share of a core has half of one at least."""
    with spinning(CORES):
        yield


@pytest.fixture
def group_kept():
    """This process's autogroup's nice put back after the test: a device worker shares the
    command's session, and so its autogroup, with the test."""
    group = Path("/proc/self/autogroup")
    before = group.read_text()
    try:
        yield
    finally:
        for _ in range(20):  # (unprivileged, one write each 0.1 s, of all processes: EAGAIN)
            if group.read_text() == before:
                break
            with contextlib.suppress(BlockingIOError):
                group.write_text(before.split()[-1])
            time.sleep(0.1)


LOWERS_ITS_GROUP = """
import subprocess, time

def lowers(seconds):
    # (a program it runs: /proc/self of a check, which is not dumpable, is root's)
    while subprocess.run(["sh", "-c", "echo 19 > /proc/self/autogroup"]).returncode:
        time.sleep(0.05)  # (unprivileged, one write each 0.1 s, of all processes: EAGAIN)
    while True:  # an infinite loop, a wrong answer
        pass

def check(impl, device="cpu"):
    impl(1)
"""


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="autogroup scheduling")
@pytest.mark.parametrize("device", ["cpu", "cuda"], ids=["forked check", "device worker"])
def test_a_check_that_lowers_its_sessions_autogroup_is_judged_by_its_limit(
    solutions, warm, each_core_busy, group_kept, device
):
    """An infinite loop that set its session's autogroup to nice 19 (its threads' nice left
    at 0) beside a spinner on each core had 0.0 s of CPU in 7 s, and was not judged. It
    starved itself: it did not finish. (A device worker's autogroup is the command's, this
    test's: it is starved with the check until the worker is killed, 4.7 s in one run; the
    command puts it back after, where it stayed at 19.)"""
    before = Path("/proc/self/autogroup").read_text()
    (solutions / "lowers.py").write_text(LOWERS_ITS_GROUP)
    outcome, seconds = run_timed(job(solutions, "lowers", "lowers", device=device))
    assert outcome.status == Status.TIMEOUT, outcome
    assert outcome.message.startswith(f"did not finish in {LIMIT:g} s")
    assert seconds < (LIMIT + SLACK if device == "cpu" else starvation.LONGEST * LIMIT)
    assert Path("/proc/self/autogroup").read_text() == before


LEAVES_ITS_SCHEDULING = f"""
import os, subprocess, time

def group():
    with open("/proc/self/autogroup") as file:
        return file.read().split()[-1:]  # (empty: in no autogroup, see the test)

def leaves(seconds):
    os.sched_setaffinity(0, [{CORE}])
    os.nice(19)
    while group() and subprocess.run(["sh", "-c", "echo 19 > /proc/self/autogroup"]).returncode:
        time.sleep(0.05)  # (unprivileged, one write each 0.1 s, of all processes: EAGAIN)
    return seconds

def finds(seconds):
    return sorted(os.sched_getaffinity(0)), os.nice(0), group()

def leaves_it(impl, device="cpu"):
    impl(1)

def finds_it(impl, device="cpu"):
    assert impl(1) == {{found}}, impl(1)
"""


@pytest.mark.skipif(len(CORES) < 2, reason="a core to narrow to, of several")
def test_a_device_check_leaves_its_worker_as_it_found_it(solutions, warm, group_kept):
    """A device check runs in its worker: one that pinned itself to a core, or lowered its
    nice or its autogroup's, left the worker so (its later checks judged by their limit,
    starved or not; the command's session at autogroup nice 19). The worker puts its threads'
    back after each check, or, where Linux lets it not (a nice lowered, unprivileged), is
    retired, and the command its autogroup (unprivileged, the worker's /proc is root's): the
    next check finds the command's. (A session that no process of it began with setsid, as
    under a runner that pid 1 started, is in no autogroup: /proc/self/autogroup reads empty,
    and is not written.)"""
    group = Path("/proc/self/autogroup").read_text().split()[-1:]  # (see LEAVES_ITS_SCHEDULING)
    found = (sorted(CORES), os.nice(0), group)
    (solutions / "leaves.py").write_text(LEAVES_ITS_SCHEDULING.format(found=found))
    for function, checker in [("leaves", "leaves_it"), ("finds", "finds_it")] * 2:
        reference = Candidate("reference", function, "leaves")
        checked = Job(str(solutions), "leaves", checker, reference, timeout=10, device="cuda")
        outcome = run_job(checked)  # (the worker it left, or, retired, its successor)
        assert outcome.status == Status.PASS, outcome


LEAVES_ORPHANS = """
import os, subprocess

def answer(seconds):
    for _ in range(300):  # (each shell's background job outlives it: an orphan)
        subprocess.run(["sh", "-c", "true & exit 0"], check=True)
    own = subprocess.Popen(["sh", "-c", "exit 3"])
    pid, status = os.wait()
    return pid == own.pid and os.waitstatus_to_exitcode(status) == 3

def check(impl, device="cpu"):
    assert impl(1), "os.wait() gave another process than the one the answer started"
"""


@pytest.mark.parametrize("device", ["cpu", "cuda"], ids=["forked check", "device worker"])
def test_a_check_whose_programs_leave_orphans_forks_and_waits_as_anywhere(solutions, warm, device):
    """Made the subreaper of what it starts, a check was the parent of each orphan its programs
    left (a shell's background job), which no one reaped: the 256th shell could not fork ("sh:
    0: Cannot fork", the check's process cap), and os.wait() gave an orphan's pid. A correct
    answer failed that passed before; the check's zygote is their subreaper (`starvation`).
    A device check runs in its worker, which was their subreaper: os.wait() gave an orphan's
    pid there too; its keeper is (`device_sweep`), kept in turn by a guard (`keeper_guard`)."""
    (solutions / "orphans.py").write_text(LEAVES_ORPHANS)
    outcome = run_job(replace(job(solutions, "answer", "orphans", device=device), timeout=60))
    assert outcome.status == Status.PASS, outcome


SPUN_IN_A_THREAD = """
import os, threading, time

read, write = os.pipe()
if os.fork() == 0:  # (what a check started: a thread of it spun, and ended)
    def spin():
        while time.thread_time() < 0.3:
            pass
    thread = threading.Thread(target=spin)
    thread.start()
    thread.join()
    os.write(write, b"x")
    time.sleep(60)
    os._exit(0)
os.read(read, 1)
print("spun", flush=True)
time.sleep(60)
"""


def test_started_cpu_counts_the_threads_that_ended():
    """The CPU of what a check started was its live threads' (their schedstat): a process
    whose thread spun and ended counted none of it (0.0 s here, 0.3 s spun), nor did one
    of its threads that ended between the listing and the reading, the process's others."""
    import signal

    started = subprocess.Popen(
        [sys.executable, "-c", SPUN_IN_A_THREAD], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert started.stdout is not None and started.stdout.readline() == b"spun\n"
        cpu = starvation._started_cpu(str(started.pid), None) / 1e9
        assert cpu >= 0.25, cpu  # (0.3 s, in clock ticks: 0.29 read)
    finally:
        os.killpg(started.pid, signal.SIGKILL)
        started.communicate()


@pytest.mark.parametrize(
    ("cpus", "said"),
    [
        (None, "run it again when the machine is less busy"),
        (0.5, "a CPU quota of 0.5 CPUs (its cgroup's"),
        (0.05, "under a ninth of a CPU no limit can be judged"),
    ],
    ids=["no quota", "a quota", "under a ninth of a CPU"],
)
def test_a_busy_check_under_a_cpu_quota_is_told_the_quota_not_to_wait(monkeypatch, cpus, said):
    """Under a cgroup's CPU quota (a container's, a CI job's), a starved check was told to run
    again when the machine is less busy, which it never is there: it is told the quota, and
    what it can do under it (fewer checks at once, a longer --timeout)."""
    from studycli.check import cpu_quota

    monkeypatch.setattr(cpu_quota, "quota", lambda: cpus)
    message = starvation.busy_message(10.0, Usage(cpu=0.5, waited=25.0), 30.0)
    assert message.startswith("not judged: the machine was too busy: the check had 0.5 s")
    assert said in message, message
    assert ("less busy" in message) == (cpus is None), message
    assert ("--timeout" in message) == (cpus is not None), message
