"""Running a checker on one candidate answer, isolated in its own process.

Every check runs in a child forked from a warm worker (see `zygote`) that has numpy and torch
already imported (numpy alone for a check that does not use torch), so a check starts in
milliseconds, yet a crash, a hang or a memory blow-up in it is that check's outcome and never
the caller's. As root, a worker's checks are in a PID namespace of their own, which nothing
they start outlives and from which they cannot signal the command (see `keeper`,
`pid_namespace`). The child runs in a session of its own (see
`contain`: its whole process group is killed at the time limit and after it reports, its
processes and the size of the files it writes are capped, stdin is closed, inherited
descriptors are closed, and its output, from Python or C, is captured and cut to its tail);
the parent enforces the wall-clock limit (giving a check starved of CPU by a busy machine
more, see `starvation`) and the child caps its own address space. On CUDA,
where a forked child cannot use the device, each worker runs the checks itself and keeps its
CUDA context (Python's output captured; none of these caps but the memory's, watched from
outside); one that dies, times out, leaks memory or meets a CUDA error is replaced.

What makes a check start fast (see bench/check_all.py): the worker also imports what checkers
would otherwise import on first use in every child (`pool.preload`, `lazy_imports.lazy_modules`:
torch._dynamo alone takes a second and a half), and the solution modules of a whole `check`;
each child keeps to `Job.threads` threads, so that checks side by side do not oversubscribe
the cores; and the parent kills a check's session as soon as it reports. `pool.warm_up`
starts the worker ahead of the first check.

This module is the parent's side of one check: what is checked and what came of it (`Job`,
`Candidate`, `Outcome`, `Status`: the objects sent to the workers, kept here), `run_job`, and
the waiting, stopping and time limit around it. The rest lives beside it: `pool` (the workers
and their warm-up), `child` (what runs in the check's own process; `loading` and
`error_report` its parts), `crash_report` (what a check that died without a report says),
`limits` (the limits and how much output is kept).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from . import contain, pool, starvation
from .child import _timeout_message
from .crash_report import (
    _crash_dump,
    _crash_message,
    _killed_past_file_cap,
    _oom_kills,
    _openmp_gave_up,
)
from .limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, FILE_SIZE_LIMIT_MB
from .starvation import busy_message
from .timer import stop_after

WORKER_START_LIMIT = 600.0  # seconds a worker may take to start (torch's import, CUDA's)
STOPPED_LOOK = 1.0  # seconds between two looks at whether a check's worker is stopped


class Status(StrEnum):
    """A check's outcome: pass, fail (the checker rejected it), error, timeout, or busy (and,
    for a card's verdict only, not done)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    TIMEOUT = "timeout"
    # Not judged: starved of CPU by a busy machine still at `starvation.LONGEST` times its
    # limit. No failed recall (`solve.unanswered`); `check` runs it again once, alone.
    BUSY = "busy"
    # A card verdict, never a check's outcome: the card still holds what `studycli new` left
    # to be written (TODO text, code raising NotImplementedError), so nothing was run.
    NOT_DONE = "not done"


# Torch's threads for a check, `solve`'s and each of `check`'s: one, however many cores. The
# checkers' problems are tiny (small tensors, many small ops), where threads within an
# operation only add synchronisation, and on a busy machine each waits for a thread that was
# descheduled. Every coding card's reference through `solve`'s check on the 2-core box (82
# cards, medians of 3, `python bench/feedback.py --threads`), load 8-10: 11.2 s in all with one
# thread, 49.6 s with one per core (flash-attention 0.71 s against 11.6 s, past the 10 s limit;
# online-softmax 0.31 against 1.21 s); a busy loop on one core besides: 15.2 s against 59.8 s.
# No card was slower with one past noise (the closest, 9 runs each: within 3%). `check` shared
# the cores out (`--jobs 1`: one a core, as slow). A checker or an answer that wants more asks
# torch for them when it runs (torch.set_num_threads), within the check's cap on threads.
CHECK_THREADS = 1


@dataclass(frozen=True)
class Candidate:
    """One answer to run a checker on.

    `kind` says where the code comes from: "reference" (the solution module's function),
    "wrong" / "variant" (entry `index` of WRONG_ANSWERS / CORRECT_VARIANTS), "code" (source text,
    such as a starter) or "file" (a learner's attempt file).
    """

    kind: str
    function: str
    module: str = ""
    index: int = 0
    code: str = ""
    path: str = ""
    fails_with: str | None = None  # a wrong answer's declared failure (see assertions.fails_with)
    name: str = ""  # how its table lists it (a function's name): said where its check died
    line: int = 0  # the line its solution module defines it on (0: not known), said by `check`
    written: str = (
        ""  # a starter's origin as `check` names it: "the card's `starter:` at FILE:LINE"
    )

    @property
    def expect_pass(self) -> bool:
        return self.kind in ("reference", "variant")


@dataclass(frozen=True)
class Job:
    solutions_dir: str
    check_module: str
    check_function: str
    candidate: Candidate
    device: str = "cpu"
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    threads: int = CHECK_THREADS  # torch's, in the child
    # What its checker imports on first use (`lazy_imports.lazy_modules`). Checks that import
    # something fork from a worker of their own that imported it (on CUDA: run in device
    # workers that imported it): the others from a lighter one, ready sooner (see
    # `pool._Pool.worker`).
    lazy: tuple[str, ...] = ()
    # Whether its checker or answer may use torch (`lazy_imports.uses_torch`): the CPU's checks
    # that cannot fork from a zygote without it, ready in 0.15-0.2 s, while torch's import
    # (1.2-1.7 s) goes on in the others.
    torch: bool = True
    processes: int = contain.MAX_PROCESSES  # processes and threads the check may start
    file_size_mb: int = FILE_SIZE_LIMIT_MB  # the size no file the check writes may grow past
    # a file the check makes where its code writes the attempt file it checks (`own_writes`:
    # `solve --watch` takes that change for the check's, not for a save); "" for none
    own_writes: str = ""


@dataclass(frozen=True)
class Outcome:
    """What happened: `status` is pass, fail (the checker rejected it), error or timeout."""

    status: Status
    message: str
    seconds: float
    label: str = ""
    traceback: str = ""
    output: str = ""
    # a timeout met while the solution module named here was still loading (its top level)
    loading: str = ""
    # a correct answer's check that printed: the solution modules' frames the first text
    # written came through, as a traceback shows them (see `first_print._FirstWrite`)
    printed_at: str = ""
    # the function an attempt does not define (misnamed, or another file's code): its check
    # never called the answer, so, as an attempt that does not compile, it is no failed recall
    missing: str = ""
    # given time past its limit, starved of CPU by a busy machine (`starvation`): its seconds
    # count that time too, and say nothing of how long it takes where it has a core
    starved: bool = False
    # of its seconds, those its checker's thread was ready to run and waited for a core (a
    # busy machine's, or the other checks' where more run than there are cores), as the
    # child read them (`starvation.thread_usage`; 0: not read, as where it was killed)
    waited: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))  # plain text from the child

    @property
    def alone(self) -> float:
        """Its seconds had it had a core to itself: `seconds` less what it `waited` for one.
        What the check takes, where its seconds are also the machine's load: a correct
        answer's check that took 12 s on a busy machine had waited 10.6 s of them."""
        return max(0.0, self.seconds - self.waited)


def run_job(job: Job) -> Outcome:
    """Run one job in an isolated child and wait at most `job.timeout` seconds for it.

    Whatever the outcome, nothing the check started is left running when this returns. A check
    on a GPU that meets a fault of the device's libraries (`pool.DEVICE_FAULTS`) runs once more, in
    a fresh worker, before that counts: on an H200 under MPS, runs of `check --device cuda`
    now and then met cuBLAS or cuSOLVER failing to make a handle, in a check that passed in
    every other run.
    """
    outcome = _run_once(job)
    failed = outcome.status in (Status.FAIL, Status.ERROR)
    if job.device != "cpu" and failed and pool._device_fault(outcome.message):
        outcome = _run_once(job)  # (the worker that met it was replaced: `pool._Pool.release`)
    return outcome


def _run_once(job: Job, tries: int = 2) -> Outcome:
    """(`tries`: how many workers may go before starting it, see the end.)"""
    worker = pool._pool.worker(job.device, job.lazy, job.torch)
    oom_kills = _oom_kills()  # (37 us: what a check that dies says, `_crash_message`)
    # (the command's scheduling, against which the check's is judged: read before the check
    # runs, as a device check shares the command's session, whose autogroup it can lower)
    start = starvation.standing()
    running = worker.submit(job) if worker is not None else pool._Spawned(job)
    started = time.monotonic()
    _LIVE[running] = job
    # (`kill_jobs` ran while this job waited for its worker)
    if (why := next((why for which, why in _CANCEL_RULES if which(job)), None)) is not None:
        _cancel(running, why)
    result = None
    try:
        if _STOPPING.is_set():  # kill_all ran while this job was starting
            running.kill()
        result = _wait(running, job, start)
    finally:
        if running.contained or isinstance(result, Outcome) or _STOPPING.is_set():
            # Its session, at once: after a report nothing it does matters, and the next check
            # need not wait for it to exit. (A device worker that reported goes on running.)
            running.kill()
            # its worker reaps it and says how it ended; one that has not started it yet
            # (still importing, seconds at a command's start) is not waited for: it kills the
            # check as it starts it (`Running._started`), or is killed itself at exit
            if running.pid is not None or worker is None or worker.ready.is_set():
                running.gone.wait(5)
            if running.contained:
                contain.wait_gone(running.pid, 10.0)  # and what it started
        del _LIVE[running]
        if not running.contained:  # (a device check shares the command's autogroup)
            starvation.restore_group(start)
        if worker is not None:
            pool._pool.release(worker, job, result if isinstance(result, dict) else None)
    elapsed = time.monotonic() - started
    why = _CANCELLED.pop(running, None)
    if why is not None:
        return Outcome(Status.ERROR, f"not run: {why}", elapsed)
    if result is None and running.pid is None and tries > 1 and not _STOPPING.is_set():
        # Its worker went before it started this check (one that a check stopped is killed,
        # see `_wait_started`): the check ran nothing and did nothing wrong, so it runs in a
        # fresh worker, rather than failing as if its code had killed its parent.
        return _run_once(job, tries - 1)
    if isinstance(result, Outcome):
        if result.status == Status.TIMEOUT and (openmp := _openmp_gave_up(running.output, job)):
            return Outcome(Status.ERROR, openmp, elapsed, output=running.output)
        return replace(result, output=running.output)
    if isinstance(result, _Starved):  # (it reported, or died, past its limit)
        result = result.result
        if isinstance(result, dict):
            result = {**result, "starved": True}
    if result is None:
        crash = (
            _openmp_gave_up(running.output, job)
            or _killed_past_file_cap(running.exitcode, running.contained, job)
            or _crash_message(running.exitcode, running.contained, oom_kills)
        )
        output = _crash_dump(running.output, running.dump)
        return Outcome(Status.ERROR, crash, elapsed, output=output)
    return Outcome(**{"output": running.output, **result})


_LIVE: dict = {}  # the checks running now, with their jobs: `kill_all` and `kill_jobs` end them
_CANCELLED: dict = {}  # those `kill_jobs` ended, with why (each one's `_run_once` says so)
_CANCEL_RULES: list = []  # `kill_jobs`' (which, why), for the jobs that start later in the run
_STOPPING = threading.Event()


def kill_all() -> None:
    """End every check still running (on Ctrl-C): their waiting threads then return at once.

    Jobs that start while the stop is on are killed at once too, until `clear_stop()`.
    """
    _STOPPING.set()
    for running in list(_LIVE):
        running.kill()


def kill_jobs(which: Callable[[Job], bool], why: str) -> None:
    """End the running checks whose jobs `which` picks: each one's `run_job` returns at once,
    with an error outcome "not run: `why`" (it is not run again); so do those it picks that
    start later, until `clear_stop`."""
    _CANCEL_RULES.append((which, why))
    for running, job in list(_LIVE.items()):
        if which(job):
            _cancel(running, why)


def _cancel(running, why: str) -> None:
    """Kill the check `running`, its `_run_once` to say "not run: `why`"."""
    _CANCELLED[running] = why
    running.kill()


def clear_stop() -> None:
    """End the stop that `kill_all` began, once every job of the interrupted run returned,
    so that a later run in this process (a second `check` after Ctrl-C) works; and the rules
    of `kill_jobs`."""
    _STOPPING.clear()
    _CANCEL_RULES.clear()


def _wait(running, job: Job, start: starvation.Standing):
    """The child's report (None if it died silently), or an Outcome if it had to be killed.
    (Its worker reads the child's output as it comes, so that a flood of it never blocks.)

    On the CPU the child caps its own address space. CUDA reserves far more address space than
    it uses, so there the parent watches the worker's resident memory instead.
    """
    # The limit counts from the check's start, not from the worker's: a check sent while the
    # worker still imports torch (or, on CUDA, runs the check before it) waits for it first.
    if not _wait_started(running):
        return Outcome(Status.ERROR, "the worker that runs checks did not start", 0.0)
    started_at = time.monotonic()
    deadline = started_at + job.timeout
    # what the process had run before the check (a device worker's earlier checks), read only
    # where there was any: a contained check's process is new (0.2 ms a check saved)
    before = None if running.contained else _usage(running, start)
    given = False  # whether it was given time past its limit, starved (`_Starved`)
    watch = job.device != "cpu" and job.memory_mb
    baseline = None
    stopped: str | None = None
    while True:
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            judged = _at_limit(running, job, started_at, before, start)
            if isinstance(judged, Outcome):
                return judged
            deadline, given = judged, True
            continue
        if running.wait(min(left, 0.1 if watch else STOPPED_LOOK)):
            return _Starved(running.result) if given else running.result
        seen, stopped = stopped, _stopped_by_check(running)
        if stopped is not None and stopped == seen:  # (its kill kills a stopped worker too)
            return Outcome(Status.ERROR, stopped, now - started_at)
        if watch and running.pid is not None:
            resident = _resident_mb(running.pid)
            baseline = resident if baseline is None else baseline
            if resident - baseline > job.memory_mb:
                return Outcome(
                    Status.ERROR,
                    f"ran out of memory (limit {job.memory_mb} MB of host memory)",
                    now - started_at,
                )


def _at_limit(
    running, job: Job, started_at: float, before, start: starvation.Standing
) -> float | Outcome:
    """At the deadline of the check `running`, started at `started_at` (`before`: its
    process's times then, see `_wait`; `start`: the command's scheduling): a later deadline
    where it is starved of CPU (see `starvation`), else its outcome: timed out, or, starved
    still at its longest, busy."""
    now = time.monotonic()
    used = _usage(running, start, started=True)
    used = used.since(before) if used is not None else None
    # (allowing for the child's own timer, which looked earlier: see `starvation.starved`)
    ahead = job.timeout - stop_after(job.timeout)
    if used is not None and starvation.starved(used, now - started_at, job.timeout, ahead):
        longest = started_at + starvation.LONGEST * job.timeout
        if now < longest:
            return min(longest, now + starvation.next_look(used, job.timeout))
        return Outcome(
            Status.BUSY, busy_message(job.timeout, used, now - started_at), now - started_at
        )
    started = None  # (what the check started and left running: a fork bomb's)
    if running.contained and running.pid is not None:
        started = contain.left_running(running.pid)
    return Outcome(Status.TIMEOUT, _timeout_message(job.timeout, None, started), job.timeout)


@dataclass(frozen=True)
class _Starved:
    """(`_wait`'s) the report of a check given time past its limit (`Outcome.starved`)."""

    result: dict | None


def _usage(running, start: starvation.Standing, started: bool = False) -> starvation.Usage | None:
    """The times of the process that runs the check `running` (None: not known); with
    `started`, the CPU of the processes its code started counts as its own. (Against `start`,
    the command's scheduling and cores, which the process inherited: a check that lowered its
    own, or narrowed its cores, starved itself.)"""
    if running.pid is None:
        return None
    # (what a check started is its descendants, and a contained check's session, and what its
    # zygote adopted from it, the other checks running left out; a device worker's keeper
    # is the subreaper of its checks', and has none between them)
    if not running.contained:
        return starvation.usage(running.pid, start, None, started, kept=True)
    beside = frozenset(str(other.pid) for other in list(_LIVE) if other.contained)
    return starvation.usage(running.pid, start, running.pid, started, beside)


STOPPED_WORKER = (
    "stopped the process that runs it (a SIGSTOP to its parent), which then could not report "
    "its outcome: an answer must not signal other processes"
)
STOPPED_ITSELF = "stopped itself (a SIGSTOP to its own process), so it could never finish"


def _stopped_by_check(running) -> str | None:
    """What the contained check `running` stopped (SIGSTOP), if anything: its worker, which
    relays the check's report, or itself. Either held the check to its time limit, reported as
    too slow; `_wait` ends it when two looks in a row see the same (one may catch a stop that
    is no signal's: py-spy sampling the worker)."""
    if not running.contained:
        return None
    if running.worker.stopped():
        return STOPPED_WORKER
    return STOPPED_ITSELF if running.stopped() else None


def _wait_started(running) -> bool:
    """Wait for the check to start, at most `WORKER_START_LIMIT`; False if it did not.

    A worker seen stopped (SIGSTOP) at two looks in a row, `STOPPED_LOOK` apart, is killed
    meanwhile: stopped, it never starts the check, and nothing else would end it. What a check
    left running (a process in a session of its own, until its worker sweeps it) can stop the
    worker after the check reported: the next check then waited the whole limit, ten minutes.
    (Two looks: a stop for a moment, SIGSTOP then SIGCONT, is left alone; a tracer's stop,
    py-spy's many a second, is not counted, see `worker.Worker.stopped`.)
    """
    deadline = time.monotonic() + WORKER_START_LIMIT
    worker = getattr(running, "worker", None)  # (a spawned process has none)
    seen = False
    while not running.started.wait(min(STOPPED_LOOK, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            return False
        if worker is None:
            continue
        stopped = worker.stopped()
        if stopped and seen:
            worker.kill_stopped()  # its end ends the check's wait (see `_run_once`)
        seen = stopped
    return True


def _resident_mb(pid: int | None) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            line = next(l for l in status if l.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration, ValueError):
        return 0.0
