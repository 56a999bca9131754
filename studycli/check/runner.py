"""Running a checker on one candidate answer, isolated in its own process.

Every check runs in a child forked from a warm worker (see `zygote`) that has numpy and torch
already imported (numpy alone for a check that does not use torch), so a check starts in
milliseconds, yet a crash, a hang or a memory blow-up in it is that check's outcome and never
the caller's. The child runs in a session of its own (see
`contain`: its whole process group is killed at the time limit and after it reports, its
processes are capped, stdin is closed, inherited descriptors are closed, and its output, from
Python or C, is captured and cut to its tail); the parent enforces the wall-clock limit and
the child caps its own address space. On CUDA, where a forked child cannot use the device,
each worker runs the checks itself and keeps its CUDA context (Python's output captured); one
that dies, times out, leaks memory or meets a CUDA error is replaced.

What makes a check start fast (see bench/check_all.py): the worker also imports what checkers
would otherwise import on first use in every child (`preload`, `lazy_modules`: torch._dynamo
alone takes a second and a half), and the solution modules of a whole `check`; each child keeps
to `Job.threads` threads, so that checks side by side do not oversubscribe the cores; and the
parent kills a check's session as soon as it reports. `warm_up` starts the worker ahead of the
first check.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import reprlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from . import contain, mps
from .limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT

OUTPUT_LIMIT = 2000  # bytes of a check's output kept (its tail, as the failure panel shows it)
# Bytes of the tail of a check that ended without a report read for its crash dump, which is
# tidied, then cut to OUTPUT_LIMIT (`_crash_dump`): faulthandler writes at most 100 frames
DUMP_LIMIT = 64 * 1024
MESSAGE_LIMIT = 20000  # characters of a failure message kept


class Status(StrEnum):
    """A check's outcome: pass, fail (the checker rejected it), error, or timeout (and, for a
    card's verdict only, not done)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    TIMEOUT = "timeout"
    # A card verdict, never a check's outcome: the card still holds what `studycli new` left
    # to be written (TODO text, code raising NotImplementedError), so nothing was run.
    NOT_DONE = "not done"


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
    threads: int = 1  # torch's threads in the child: cores / checks run side by side
    # What its checker imports on first use (`lazy_modules`). Checks that import something
    # fork from a worker of their own that imported it (on CUDA: run in device workers that
    # imported it): the others from a lighter one, ready sooner (see `_Pool.worker`).
    lazy: tuple[str, ...] = ()
    # Whether its checker or answer may use torch (`uses_torch`): the CPU's checks that cannot
    # fork from a zygote without it, ready in 0.15-0.2 s, while torch's import (1.2-1.7 s)
    # goes on in the others.
    torch: bool = True
    processes: int = contain.MAX_PROCESSES  # processes and threads the check may start


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
    # a reference's check that printed: the solution modules' frames the first text written
    # came through, as a traceback shows them (see `_FirstWrite`)
    printed_at: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))  # plain text from the child


def run_job(job: Job) -> Outcome:
    """Run one job in an isolated child and wait at most `job.timeout` seconds for it.

    Whatever the outcome, nothing the check started is left running when this returns. A check
    on a GPU that meets a fault of the device's libraries (`DEVICE_FAULTS`) runs once more, in
    a fresh worker, before that counts: on an H200 under MPS, runs of `check --device cuda`
    now and then met cuBLAS or cuSOLVER failing to make a handle, in a check that passed in
    every other run.
    """
    outcome = _run_once(job)
    failed = outcome.status in (Status.FAIL, Status.ERROR)
    if job.device != "cpu" and failed and _device_fault(outcome.message):
        outcome = _run_once(job)  # (the worker that met it was replaced: `_Pool.release`)
    return outcome


# What CUDA and its libraries say about a fault of the device or of a worker's context (a
# handle they could not make, a context that broke), never about an answer as such.
DEVICE_FAULTS = ("CUDA error", "CUBLAS_STATUS_", "CUSOLVER_STATUS_", "CUDNN_STATUS_", "CUFFT_")


def _device_fault(message: str) -> bool:
    return any(fault in message for fault in DEVICE_FAULTS)


def _run_once(job: Job, tries: int = 2) -> Outcome:
    """(`tries`: how many workers may go before starting it, see the end.)"""
    worker = _pool.worker(job.device, job.lazy, job.torch)
    oom_kills = _oom_kills()  # (37 us: what a check that dies says, `_crash_message`)
    running = worker.submit(job) if worker is not None else _Spawned(job)
    started = time.monotonic()
    _LIVE[running] = job
    # (`kill_jobs` ran while this job waited for its worker)
    if (why := next((why for which, why in _CANCEL_RULES if which(job)), None)) is not None:
        _cancel(running, why)
    result = None
    try:
        if _STOPPING.is_set():  # kill_all ran while this job was starting
            running.kill()
        result = _wait(running, job)
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
        if worker is not None:
            _pool.release(worker, job, result if isinstance(result, dict) else None)
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
        return replace(result, output=running.output)
    if result is None:
        crash = _crash_message(running.exitcode, running.contained, oom_kills)
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


def _wait(running, job: Job):
    """The child's report (None if it died silently), or an Outcome if it had to be killed.
    (Its worker reads the child's output as it comes, so that a flood of it never blocks.)

    On the CPU the child caps its own address space. CUDA reserves far more address space than
    it uses, so there the parent watches the worker's resident memory instead.
    """
    # The limit counts from the check's start, not from the worker's: a check sent while the
    # worker still imports torch (or, on CUDA, runs the check before it) waits for it first.
    if not _wait_started(running):
        return Outcome(Status.ERROR, "the worker that runs checks did not start", 0.0)
    deadline = time.monotonic() + job.timeout
    watch = job.device != "cpu" and job.memory_mb
    baseline = None
    stopped: str | None = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return Outcome(Status.TIMEOUT, _timeout_message(job.timeout), job.timeout)
        if running.wait(min(left, 0.1 if watch else STOPPED_LOOK)):
            return running.result
        seen, stopped = stopped, _stopped_by_check(running)
        if stopped is not None and stopped == seen:  # (its kill kills a stopped worker too)
            return Outcome(Status.ERROR, stopped, job.timeout - left)
        if watch and running.pid is not None:
            resident = _resident_mb(running.pid)
            baseline = resident if baseline is None else baseline
            if resident - baseline > job.memory_mb:
                return Outcome(
                    Status.ERROR,
                    f"ran out of memory (limit {job.memory_mb} MB of host memory)",
                    job.timeout - left,
                )


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
    py-spy's many a second, is not counted, see `zygote.Worker.stopped`.)
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


def _timeout_message(limit: float, what: str | None = None) -> str:
    stuck = f"{what}: " if what else ""
    return (
        f"{stuck}did not finish in {limit:g} s: an infinite loop, or far too slow for the "
        "input sizes?"
    )


def _stop_before(limit: float | None) -> None:
    """Raise `OutOfTime` in this check a little before its time limit, where Python code runs
    (the kill at the limit still ends one stuck in C); None: not any more.

    Where Python cannot raise it, in a hook that os.fork runs (logging's, or any library's
    `os.register_at_fork`) or a __del__, Python prints it and goes on: the learner's output
    showed its traceback, through this module's `stop`, and the check ran on to the kill,
    unreported. It comes again a moment later instead, where the code checked runs."""
    import signal
    import sys

    from studycli.assertions import OutOfTime

    global _STOP_ARMED
    if limit is None:
        _STOP_ARMED = False  # (a signal already on its way is then ignored)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return

    def stop(*_: object) -> None:
        global _STOP_FIRED
        if _STOP_ARMED:
            _STOP_FIRED = True
            raise OutOfTime

    previous = sys.unraisablehook

    def again(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, OutOfTime):
            signal.setitimer(signal.ITIMER_REAL, STOP_AGAIN)
        else:
            previous(unraisable)

    _STOP_ARMED = True
    signal.signal(signal.SIGALRM, stop)
    sys.unraisablehook = again
    signal.setitimer(signal.ITIMER_REAL, max(limit - STOP_AHEAD, limit * 0.8))


STOP_AHEAD = 0.3  # seconds before the limit that a check stops itself, to report where it was
STOP_AGAIN = 0.01  # seconds after an OutOfTime that Python could not raise, to raise it again
_STOP_ARMED = False
_STOP_FIRED = False  # whether this check's timer raised `OutOfTime` (an answer can raise it too)


def _crash_message(exitcode: int | None, contained: bool, oom_kills: int | None) -> str:
    """What a check that ended without a report says (`oom_kills`: `_oom_kills()` at its
    start). A SIGKILL, or a worker's death, is blamed on memory only where the system's
    out-of-memory killer killed a process while the check ran (or that cannot be told): else a
    process killed it, and code can kill itself or the worker that forked it (a crash in
    native code ends in another signal)."""
    import signal

    if contained and exitcode == REPORT_LOST:
        return (
            "the code closed or replaced the descriptor studycli reads the check's result from "
            "(os.close or os.dup2 on a descriptor it did not open), so the check could not "
            "report: an answer must leave alone the descriptors it did not open"
        )
    if exitcode is not None and exitcode >= 0:
        return f"the process exited with status {exitcode} before reporting (a call to os._exit()?)"
    if exitcode is not None and exitcode != -signal.SIGKILL:
        return f"the process was killed by signal {-exitcode} ({_crash_causes(-exitcode)})"
    if exitcode is not None:
        what, maybe, asked = (
            "the process was killed by signal 9 (SIGKILL)",
            "out of memory, or killed by a process",
            "did the code kill itself?",
        )
    elif contained:
        what, maybe, asked = (
            "the worker that forked the check died before the check reported",
            "out of memory, or killed by a process",
            "did the code kill its parent process?",
        )
    else:
        what, maybe, asked = (
            "the process running the check died",
            "out of memory, or a crash in native code",
            "a crash in native code, or killed by a process?",
        )
    now = _oom_kills()
    if now is None or now != oom_kills:
        return f"{what} ({maybe})"
    return (
        f"{what}, not for want of memory (the system killed no process for it while the check "
        f"ran): {asked}"
    )


def _tidied_crash_dump(output: str) -> str:
    """The `output` of a check that died without a report, the stack that faulthandler wrote
    into it at a crash (`contain.enter`) kept to what tells the learner where it was: their
    file's frames and what they called (the innermost), without studycli's own (the checker's
    `call`, the runner, the worker's loop down to its `python -c`) nor the line of extension
    modules loaded (numpy's and torch's, 600 of the 2,000 characters kept); a frame repeated
    (a recursion) said once, with how many times. (Here, not in the crashing child, where
    only faulthandler's own code may run.)"""
    kept: list[str] = []
    repeated = 0
    for line in output.splitlines(keepends=True):
        if line.startswith("Extension modules: "):
            if kept and not kept[-1].strip():
                kept.pop()  # (the blank line before it)
            continue
        frame = _DUMPED_FRAME.match(line)
        if frame and (frame["path"].startswith(_STUDYCLI) or frame["path"] == "<string>"):
            continue
        if frame and kept and line == kept[-1]:
            repeated += 1
            continue
        if repeated:
            kept.append(f"  [Previous line repeated {repeated} more times]\n")
            repeated = 0
        kept.append(line)
    if repeated:
        kept.append(f"  [Previous line repeated {repeated} more times]\n")
    return "".join(kept)


def _crash_dump(output: str, dump: str) -> str:
    """What a check that ended without a report shows of its output, `OUTPUT_LIMIT` bytes or
    about: the tail `output` where `dump` (a longer tail) holds no crash dump, else `dump`
    tidied (`_tidied_crash_dump`) and, where still too long, cut in the middle of the crash
    dump, keeping its head (what happened, then the innermost frames: faulthandler writes the
    most recent call first, the learner's among them) and its end, and the tail of what the
    check printed before it where room is left; each cut said. The tail alone lost the head of
    a dump longer than the limit (a recursion through two functions: 100 frames), the "Fatal
    Python error" and the learner's innermost frames with it."""
    lines = _tidied_crash_dump(dump).splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(_DUMP_HEAD)), None)
    if start is None:
        return _tidied_crash_dump(output)
    printed, crashed = lines[:start], lines[start:]
    if _size(crashed) > OUTPUT_LIMIT:
        head = crashed[:1] + _fitting(crashed[1:], OUTPUT_LIMIT * 2 // 3 - _size(crashed[:1]))
        end = _fitting(crashed[len(head) :][::-1], OUTPUT_LIMIT - _size(head) - 40)[::-1]
        cut = len(crashed) - len(head) - len(end)
        crashed = [*head, f"  [… {cut:,} line{'s' if cut != 1 else ''} not shown]\n", *end]
    earlier = 0  # the lines printed before the crash that are not shown
    if printed and (said := contain.NOT_SHOWN.match(printed[0].rstrip("\n"))):
        printed = printed[1:]
        earlier = int(said["count"].replace(",", "")) if said["unit"] == "line" else 1
    kept = _fitting(printed[::-1], OUTPUT_LIMIT - _size(crashed) - 40)[::-1]
    earlier += len(printed) - len(kept)
    return (contain.not_shown(earlier) if earlier else "") + "".join(kept + crashed)


def _fitting(lines: list[str], room: int) -> list[str]:
    """The first of `lines` that fit in `room` bytes."""
    kept: list[str] = []
    for line in lines:
        room -= _size([line])
        if room < 0:
            break
        kept.append(line)
    return kept


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8", errors="replace")) for line in lines)


_DUMP_HEAD = "Fatal Python error: "  # faulthandler's first line (a signal's name follows)
_DUMPED_FRAME = re.compile(r'  File "(?P<path>.*)", line \d+ in \S+$')  # faulthandler's
_STUDYCLI = os.path.dirname(os.path.dirname(__file__)) + os.sep  # studycli's own code


def _crash_causes(number: int) -> str:
    """What ends a check with signal `number` (its output says where it was: `contain`). A
    segfault is a learner's stack overflow as often as native code's bug: a recursion under a
    raised sys.setrecursionlimit, through C (a cache's wrapper) on its way."""
    import signal

    if number == signal.SIGSEGV:
        return (
            "SIGSEGV: a stack overflow from deep recursion (sys.setrecursionlimit raised?), "
            "out of memory, or a crash in native code"
        )
    return "out of memory, or a crash in native code"


def _oom_kills() -> int | None:
    """How many processes the kernel's out-of-memory killer has killed since boot (for a
    cgroup's limit too), or None where that cannot be read (not Linux, or Linux before 4.13)."""
    try:
        with open("/proc/vmstat", "rb") as vmstat:
            counters = vmstat.read()
        start = counters.index(b"\noom_kill ") + len(b"\noom_kill ")
        return int(counters[start : counters.index(b"\n", start)])
    except (OSError, ValueError):
        return None


# Modules that a library (or a checker) imports the first time one of its functions is
# called, by a pattern of what the code a check may run uses (`verify.plan`: its modules'
# code, docstrings and the other answers' own functions left out; a match in a comment only
# makes the check start later). Each child would import them
# again; the worker does once. Those of a package that is not installed are left out
# (`lazy_modules`). (Each pattern starts with a literal: the search then skips to it, 40x
# faster over the shipped modules than one starting with \b.) As of torch 2.13:
LAZY_IMPORTS = {
    # an optimizer object, made (torch.optim.AdamW(...)) or imported by its class's name, and
    # its step(): 1.4 s; not torch.optim's functional updates (torch.optim.adamw.adamw)
    r"optim(?:\.[A-Z]\w*\(| import [^\n]*\b[A-Z])": ("torch._dynamo", "torch.profiler"),
    # torch.func's transforms but jvp. Forward-mode autograd (torch.func.jvp, forward_ad)
    # went through decompositions that imported it only to turn it off: not in a check's
    # worker since `lazy_dynamo`
    r"torch\.func\b(?!\.jvp\b)": ("torch._dynamo",),
    r"torch\.compile\b": ("torch._dynamo",),
    # forward-mode autograd: the decompositions it runs for a product, a sum or a scalar
    # factor find their dtypes through torch._prims_common.elementwise_dtypes, which imports
    # sympy on its first call (0.5 s on the 2-core box; 3.6-4.0 s in a check on a 16-core
    # host whose every core was busy, the last check of the CPU run and of the CUDA run)
    r"torch\.func\.jvp\b": ("sympy",),
    r"forward_ad\b": ("sympy",),
    # hungarian's checker makes scipy's matcher refuse, where scipy is installed: each of its
    # checks imported scipy.optimize, 0.3-0.4 s, the tail of a run on the 16-core host. (Its
    # module named, not the word: poisson's message "... inf in numpy, scipy and torch" sent
    # its checks to a worker importing scipy.optimize where scipy is installed.)
    r"scipy\.optimize\b": ("scipy.optimize",),
}
WORKER_START_LIMIT = 600.0  # seconds a worker may take to start (torch's import, CUDA's)
STOPPED_LOOK = 1.0  # seconds between two looks at whether a check's worker is stopped
# A CUDA worker holding this much more (device memory, or host memory) than after its first
# check is replaced by a fresh one.
CUDA_LEAK_MB = 512
HOST_LEAK_MB = 2048
DEVICE_WORKERS = 4
# Under CUDA's MPS (mps.py): this share of the jobs, the rest for the CPU's checks. In a run on
# CUDA the device's checks are most of the work (389 of the 560 checks of the shipped cards),
# and the CPU's are done long before them: on an H200 host `check --jobs 16` took 6.3 s with
# 6 device workers, 5.7 s with 8 and 5.7 s with 10 (the CPU run 5.6 s; medians of 3); once a
# device slot kept to its card (`verify.Picker`), 4.9 s with 10, 4.6 s with 12 (faster in each
# of 3 interleaved rounds) and 5.5 s with 14 (the CPU run 3.7 s).
MPS_DEVICE_SHARE = 0.75
# Device workers that import, once they have torch, what the checks with a `Job.lazy` import
# (AdamW's and the directional derivative's, a few seconds of the shipped cards' checks on
# CUDA), told as soon as the cards are read; a check for them waits while all are busy.
HEAVY_DEVICE_WORKERS = 3
# The CPU's checks at a time per light zygote, at most `MAX_LIGHT_ZYGOTES`: a zygote forks its
# checks one after another (each fork about 2 ms of kernel time copying its page tables), and
# with 16 at a time on the 16-core host one zygote held the run up: 4.6 s, against 4.5 s with
# 2 zygotes and 3.8 s with 4 (`check --jobs 16`, 4 interleaved rounds).
CHECKS_PER_ZYGOTE = 4
MAX_LIGHT_ZYGOTES = 4


def torch_gpu_build(version_file: Path | None = None) -> bool | None:
    """Whether the installed torch was built for a GPU (CUDA or ROCm), read from its
    `torch/version.py` without importing torch (a second or more); None when that cannot be
    told (no torch, or a file not as expected)."""
    import ast
    import importlib.util

    if version_file is None:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.submodule_search_locations:
            return None
        version_file = Path(next(iter(spec.submodule_search_locations)), "version.py")
    try:
        tree = ast.parse(version_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    found: dict[str, object] = {}
    for node in tree.body:
        targets: list[ast.expr] = [node.target] if isinstance(node, ast.AnnAssign) else []
        if isinstance(node, ast.Assign):
            targets = node.targets
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                found[target.id] = value.value
    if "cuda" not in found:
        return None
    return found.get("cuda") is not None or found.get("hip") is not None


def cores() -> int:
    """The cores this process may run on (fewer than the machine's under a CPU affinity or
    a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def uses_torch(sources: Iterable[str]) -> bool:
    """Whether code with these sources may use torch: whether any names it. (A checker that
    names it nowhere may still reach it through a library; its check then imports torch
    itself: slower, never wrong.)"""
    return any("torch" in source for source in sources)


def lazy_modules(sources: Iterable[str]) -> list[str]:
    """The modules checkers with these solution-module sources import on first use (of the
    packages installed here). Comments are no use: a checker's comment naming torch.func had
    all 32 checks of its module wait for a worker with torch._dynamo imported. (From a `#` to
    the line's end, even in a string: a use that follows one on its line is missed, and its
    check imports the module itself, slower, never wrong.)"""
    found: dict[str, None] = {}
    for source in sources:
        source = _COMMENT.sub("", source)
        for used, modules in _lazy_patterns():
            if used.search(source):
                found.update(dict.fromkeys(m for m in modules if _installed(m)))
    return list(found)


_COMMENT = re.compile(r"#[^\n]*")


@functools.cache
def _lazy_patterns() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    return [(re.compile(pattern), modules) for pattern, modules in LAZY_IMPORTS.items()]


@functools.cache
def _installed(module: str) -> bool:
    """Whether the package of `module` is there to import (scipy is optional); it is not
    imported."""
    import importlib.util

    return importlib.util.find_spec(module.partition(".")[0]) is not None


def preload(
    modules: Iterable[str],
    solutions: tuple[str, list[str]] | None = None,
    device: str | None = None,
) -> None:
    """Have the workers import `modules` too, so that no check pays for them, and load the
    solution modules `solutions` (a folder and module names) as each check would.

    A worker started later starts with them; one already running imports them (the checks
    started after that find them). `device`: only the workers of checks on it import
    `modules` ("cpu": the one that forks the CPU's checks; else the device workers); None:
    all of them.
    """
    _pool.preload(tuple(modules), solutions, device)


def ready(job: Job) -> bool:
    """Whether a check of `job` would start at once: on the CPU, whether a zygote it forks
    from has started (none asked for yet counts as ready: waiting would not start one); a
    check on a device, always (its workers are started up front)."""
    return _pool.ready(job.device, job.lazy, job.torch)


def device_workers(jobs: int) -> int:
    """How many checks run on one GPU at once, each in its own worker. Without MPS, more than a
    few only time-slice the device between their contexts (a check's many small kernels then
    wait for the others' turns: with 4 workers each ran at about half its speed alone); under
    MPS their kernels run side by side, and more workers pay: a share of the jobs, leaving at
    least one for the CPU's checks."""
    if mps.running():
        return max(1, min(jobs - 1, round(jobs * MPS_DEVICE_SHARE)))
    return max(1, min(jobs, DEVICE_WORKERS))


def warm_up(
    device: str = "cpu",
    workers: int = 1,
    lazy: tuple[str, ...] = (),
    device_lazy: tuple[str, ...] | None = None,
    torchless: tuple[str, ...] | None = None,
    heavy: int = HEAVY_DEVICE_WORKERS,
) -> None:
    """Start the workers for checks on `device` now, in the background, so that the first check
    finds torch (and what was preloaded) imported: on the CPU the one that forks every check
    (a check started meanwhile waits for it), and with `lazy` the one for the checks that
    import those modules on first use (see `Job.lazy`); on CUDA those too (for the checkers
    that ignore the device) and `device_workers(workers)` device workers. With `device_lazy`,
    a few of those (`HEAVY_DEVICE_WORKERS`, no more than `heavy`, the device's checks that
    import it) import it too, for those checks.
    With `torchless` (what they import on first use), the one for the checks that do not use
    torch (see `Job.torch`). The CPU's checks fork from `light_zygotes` light zygotes, by how
    many run at once."""
    total = device_workers(workers) if device != "cpu" else 0  # the device's, of `workers`
    _pool.light_count = light_zygotes(max(1, workers - total))
    _pool.worker("cpu")
    if lazy:
        _pool.worker("cpu", lazy)
    if torchless is not None:
        _pool.worker("cpu", torchless, torch=False)
    if device != "cpu":
        _pool.start(device, total)
        if device_lazy:
            _pool.make_heavy(min(HEAVY_DEVICE_WORKERS, total // 2, heavy), device_lazy)


def light_zygotes(checks: int) -> int:
    """How many light zygotes fork the CPU's checks when `checks` run at once."""
    return max(1, min(MAX_LIGHT_ZYGOTES, checks // CHECKS_PER_ZYGOTE))


def _kind(lazy: tuple[str, ...], torch: bool) -> str:
    """Which of the CPU's zygotes a check forks from (see `_Pool`)."""
    return "torchless" if not torch else "heavy" if lazy else "light"


def _side(device: str) -> str:
    """Which workers run checks on `device`: the CPU's ("cpu"), or the device workers."""
    return "cpu" if device == "cpu" else "device"


class _Pool:
    """The workers: zygotes for the CPU, which fork a child per check; for CUDA, a worker per
    check running at once, each keeping its CUDA context from check to check.

    The CPU's checks fork from a zygote that imported what every check needs (from several,
    when many run at once: `light_zygotes`), except those whose checkers import more on first
    use (`Job.lazy`: torch._dynamo for an optimizer's step), which fork from a zygote of their
    own that imported that too. A fork and its exit cost with the size of the process they
    copy: on the 2-core box a trivial check forked from torch's import took 17.5 ms, from
    torch and torch._dynamo 23.5 ms. The heavy zygote is forked from the (first) light one
    once that has imported torch, and imports torch._dynamo on top. The checks that do not use
    torch (`Job.torch`: a sliding-window maximum's, a quarter of the shipped cards' check time)
    fork from a torchless zygote, a new interpreter ready long before torch is imported.

    A CUDA worker runs its checks itself, one after another, in its CUDA context. Each starts
    light, a new interpreter (see `_device_worker`); the checks with a `Job.lazy` run in heavy
    ones, light ones told to import it too (`make_heavy`). (Heavy ones started as new
    interpreters were ready 2 s after the light ones, and the checks that waited for them
    ended the run.)"""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.modules: dict[str, tuple[str, ...]] = {"cpu": (), "device": ()}  # to import
        self.solutions: tuple[str, tuple[str, ...]] | None = None
        # "light" ("light 2", ... up to `light_count`, see `_light`); "heavy" for the checks
        # with a `Job.lazy`, which imports `self.lazy["heavy"]` too; "torchless" for those
        # without `Job.torch`, which imports `self.lazy["torchless"]` and not torch
        self.zygotes: dict[str, Any] = {}
        self.light_count = 1
        self.lazy: dict[str, tuple[str, ...]] = {"heavy": (), "torchless": ()}
        self.device_lazy: tuple[str, ...] = ()  # what the heavy device workers import
        self.idle: list[Any] = []  # CUDA workers waiting for a check
        self.kinds: dict[int, str] = {}  # every live CUDA worker's: light or heavy
        self.freed = threading.Condition(self.lock)  # a CUDA worker went back to the idle ones
        self.baseline: dict[int, tuple[float, float]] = {}  # a CUDA worker's memory at first
        self.last: dict[int, Any] = {}  # a thread's last CUDA worker (see `_idle_device_worker`)

    def preload(self, modules: tuple[str, ...], solutions, device: str | None = None) -> None:
        sides = ("cpu", "device") if device is None else (_side(device),)
        with self.lock:
            new = {side: tuple(m for m in modules if m not in self.modules[side]) for side in sides}
            for side in sides:
                self.modules[side] += new[side]
            if solutions is not None:
                known = (
                    self.solutions[1]
                    if self.solutions and self.solutions[0] == solutions[0]
                    else ()
                )
                fresh = (solutions[0], tuple(sorted(set(solutions[1]) | set(known))))
                loaded = fresh == self.solutions
                self.solutions = fresh
            else:
                loaded = True
            running = [w for w in [*self.zygotes.values(), *self.idle] if not w.dead]
        for worker in running:
            more = new.get(_side(worker.device), ())
            if more or not loaded:
                worker.preload(more, None if loaded else self.solutions)

    def ready(self, device: str, lazy: tuple[str, ...], torch: bool = True) -> bool:
        if device != "cpu":
            return True
        with self.lock:
            kind = _kind(lazy, torch)
            names = self._light_names() if kind == "light" else [kind]
            found = [w for name in names if (w := self.zygotes.get(name)) and not w.dead]
        return not found or any(worker.ready.is_set() for worker in found)

    def worker(self, device: str, lazy: tuple[str, ...] = (), torch: bool = True) -> Any:
        """The worker for a check on `device` whose checker imports `lazy` on first use (and
        uses `torch`, on the CPU); None where there is no fork (Windows: a process is spawned
        for each check instead)."""
        if not hasattr(os, "fork"):
            return None
        with self.lock:
            if device == "cpu":
                return self._zygote(_kind(lazy, torch), lazy)
            kind = "heavy" if lazy else "light"
            while True:
                found = self._idle_device_worker(kind, lazy)
                if found is None and (kind == "light" or self._heavy() < HEAVY_DEVICE_WORKERS):
                    found = self._device_worker(device, kind, lazy)
                if found is not None:
                    self.last[threading.get_ident()] = found
                    return found
                # a heavy worker's checks are short: one is free sooner than another light
                # worker would have imported `lazy` (1.2 s for torch._dynamo)
                self.freed.wait(0.5)

    def _idle_device_worker(self, kind: str, lazy: tuple[str, ...]) -> Any:
        """An idle device worker for a check of `kind`, taken from the idle ones, or None: for
        a light check a light one, else a heavy one; for a heavy check a heavy one, else,
        while there are fewer than `HEAVY_DEVICE_WORKERS`, a light one told to import `lazy`
        (`_make_heavy`). Of those, the one this thread ran its last check in: a thread runs a
        card's checks one after another (`verify.Picker`), and a worker pays for a card's
        first check (its kernels loaded, its libraries' handles made) once. (With
        `self.lock` held.)"""
        fits = [w for w in self.idle if not w.dead]
        for worker in [w for w in self.idle if w.dead]:
            self.idle.remove(worker)
            self.kinds.pop(id(worker), None)
        if kind == "heavy" and self._heavy() >= HEAVY_DEVICE_WORKERS:
            fits = [w for w in fits if self.kinds.get(id(w)) == "heavy"]
        if not fits:
            return None
        mine = self.last.get(threading.get_ident())
        fits.sort(key=lambda w: (self.kinds.get(id(w)) == kind, w is mine))  # the best last
        worker = fits[-1]
        self.idle.remove(worker)
        if kind == "heavy":
            self._make_heavy(worker, lazy)
        return worker

    def _heavy(self) -> int:
        """How many device workers are heavy, busy or idle. (With `self.lock` held.)"""
        return sum(kind == "heavy" for kind in self.kinds.values())

    def _zygote(self, kind: str, lazy: tuple[str, ...] = ()) -> Any:
        """The CPU's zygote of `kind`, started if it is not running: "heavy" imports `lazy`
        too, forked from the light one once that imported torch (else it would import torch
        again beside it, 1.5 s of CPU on the 2-core box); "torchless" imports `lazy` but not
        torch, a new interpreter. (With `self.lock` held.)"""
        from . import zygote

        if kind == "light":
            return self._light()
        more = tuple(m for m in lazy if m not in self.lazy[kind])
        self.lazy[kind] += more
        found = self.zygotes.get(kind)
        if found is None or found.dead:
            modules = self.modules["cpu"] + self.lazy[kind]
            if kind == "torchless":
                found = zygote.Worker(modules, self.solutions, torch=False)
            else:
                light = self.zygotes.get("light")
                parent = light if light is not None and not light.dead else None
                found = zygote.Worker(modules, self.solutions, parent=parent)
            self.zygotes[kind] = found
        elif more:
            found.preload(more, None)
        return found

    def _light(self) -> Any:
        """The light zygote a check forks from: of the `light_count`, each started if it is not
        running (a new interpreter: they import torch side by side, on cores idle at the
        start), the ready one with the fewest checks running. (With `self.lock` held.)"""
        from . import zygote

        names = self._light_names()
        for name in names:
            found = self.zygotes.get(name)
            if found is None or found.dead:
                self.zygotes[name] = zygote.Worker(self.modules["cpu"], self.solutions)
        return min(
            (self.zygotes[name] for name in names),
            key=lambda worker: (not worker.ready.is_set(), worker.running()),
        )

    def _light_names(self) -> list[str]:
        """The names of the `light_count` light zygotes in `self.zygotes`."""
        return ["light", *(f"light {number}" for number in range(2, self.light_count + 1))]

    def _device_worker(self, device: str, kind: str, lazy: tuple[str, ...] = ()) -> Any:
        """A new worker for checks on `device`, a new interpreter (see `zygote.serve`: it makes
        its CUDA context while torch imports); a heavy one imports what the checks with a
        `Job.lazy` import too. (With `self.lock` held.)"""
        from . import zygote

        self._add_device_lazy(lazy)
        modules = self.modules["device"] + (self.device_lazy if kind == "heavy" else ())
        worker = zygote.Worker(modules, self.solutions, fork=False, device=device)
        self.kinds[id(worker)] = kind
        return worker

    def make_heavy(self, count: int, lazy: tuple[str, ...]) -> None:
        """Have idle light device workers (started or starting) import `lazy` too, until
        `count` device workers have."""
        with self.lock:
            light = [w for w in self.idle if not w.dead and self.kinds.get(id(w)) == "light"]
            for worker in light[: max(0, count - self._heavy())]:
                self._make_heavy(worker, lazy)

    def _make_heavy(self, worker: Any, lazy: tuple[str, ...]) -> None:
        """(With `self.lock` held.)"""
        self._add_device_lazy(lazy)
        if self.kinds.get(id(worker)) != "heavy":
            worker.preload(self.device_lazy, None)
            self.kinds[id(worker)] = "heavy"

    def _add_device_lazy(self, lazy: tuple[str, ...]) -> None:
        """What the heavy device workers import grows by `lazy`. (With `self.lock` held.)"""
        self.device_lazy += tuple(m for m in lazy if m not in self.device_lazy)

    def _retire(self, worker: Any) -> None:
        """Close a device worker, in the background (it may still be starting)."""
        self.baseline.pop(id(worker), None)
        with self.lock:
            self.kinds.pop(id(worker), None)
            self.last = {thread: w for thread, w in self.last.items() if w is not worker}
            self.freed.notify_all()
        threading.Thread(target=worker.close, daemon=True).start()

    def start(self, device: str, count: int) -> None:
        """Start light device workers until `count` device workers are idle."""
        if not hasattr(os, "fork"):
            return
        with self.lock:
            while len([w for w in self.idle if not w.dead]) < count:
                self.idle.append(self._device_worker(device, "light"))

    def release(self, worker: Any, job: Job, result: dict | None) -> None:
        """After a check: a CUDA worker goes back to the idle ones, unless it died, leaks or
        met a fault of the device (then it is closed: the next check starts a fresh one)."""
        if job.device == "cpu":
            return
        held = (worker.memory.get("device_mb", 0.0), worker.memory.get("rss_mb", 0.0))
        first = self.baseline.setdefault(id(worker), held)
        broken = result is None or _device_fault(str(result.get("message", "")))
        leaks = held[0] > first[0] + CUDA_LEAK_MB or held[1] > first[1] + HOST_LEAK_MB
        if worker.dead or broken or leaks:
            self._retire(worker)
            return
        with self.lock:
            self.idle.append(worker)
            self.freed.notify_all()


_pool = _Pool()


class _Spawned:
    """A check in a spawned process (where there is no fork), with a worker's Running's face."""

    def __init__(self, job: Job) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(job, sender), daemon=True)
        self._process.start()
        sender.close()
        self.pid = self._process.pid
        self.result: dict | None = None
        self.exitcode: int | None = None
        self.output = ""  # Python's, in the result (no C-level capture here)
        self.dump = ""  # (no crash dump either)
        self.contained = False
        self.started = threading.Event()
        self.started.set()  # a spawned process starts its own interpreter: its limit counts
        self.gone = threading.Event()

    def wait(self, timeout: float | None) -> bool:
        if not self._receiver.poll(timeout):
            if self._process.is_alive():
                return False
        else:
            with contextlib.suppress(EOFError):
                from .zygote import report_of

                self.result = report_of(self._receiver.recv_bytes())
        if self.result is None:
            self._process.join()
            self.exitcode = self._process.exitcode
            self.gone.set()
        return True

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self.exitcode = self._process.exitcode
        self.gone.set()


# --- the child side -------------------------------------------------------------------------


def _child(job: Job, sender, output=None) -> None:
    """Run `job` here and send its result through `sender`.

    With `output` (the write end of a pipe) this process becomes a contained check (see
    `contain.enter`): a child of its own, its output from Python or C going into the pipe.
    Without, it is a device worker running checks one after another: only Python's output is
    captured, into the result.
    """
    from studycli.assertions import OutOfTime, message_of

    if output is not None:
        contain.enter(output, keep=sender.fileno(), processes=job.processes)
        _stop_before(job.timeout)  # (a contained check alone: a device worker runs many)
    if job.device == "cpu":
        _limit_memory(job.memory_mb)
    _set_threads(job.threads)
    checking = os.getpid()  # the one process whose outcome is the check's (see the end)
    captured = io.StringIO()
    started = time.monotonic()
    label = loading = ""
    printed: dict[str, str] = {}  # (a reference's check: where it first wrote, `_FirstWrite`)
    try:
        try:
            with contextlib.ExitStack() as stack:
                if output is None:
                    stack.enter_context(redirect_stdout(captured))
                    stack.enter_context(redirect_stderr(captured))
                if job.candidate.kind == "reference":
                    stack.enter_context(_noting_first_write(job.solutions_dir, printed))
                loading = job.check_module
                checker = getattr(
                    _load_solution(job.solutions_dir, job.check_module), job.check_function
                )
                loading = job.candidate.module if job.candidate.kind in MODULE_KINDS else ""
                impl, label = _resolve(job)
                loading = ""
                started = time.monotonic()
                returned = checker(impl, device=job.device)
        finally:
            _stop_before(None)
        result: dict[str, Any] = (
            {"status": "pass", "message": "passed"}
            if returned is None
            else {"status": "error", "message": _returned_message(returned, job)}
        )
    except OutOfTime as exc:
        result = {
            "status": "timeout" if _STOP_FIRED else "error",
            "message": _timeout_message(job.timeout, exc.what)
            if _STOP_FIRED
            else _describe_error(exc, job),
            "traceback": _trimmed_traceback(exc, job),
            "loading": loading if _STOP_FIRED else "",
        }
    except AssertionError as exc:
        refused = _over_process_cap(exc, job)  # (under `call`: a failure it raised from it)
        said = _answers_own_assert(exc, job) or message_of(exc) or UNSAID_FAILURE
        result = {
            "status": "error" if refused else "fail",
            "message": refused or _with_memory_note(said, exc, job),
            "traceback": _trimmed_traceback(exc, job),
        }
    except MemoryError:
        result = {"status": "error", "message": f"ran out of memory (limit {job.memory_mb} MB)"}
    except BaseException as exc:
        result = {
            "status": "error",
            "message": _describe_error(exc, job),
            "traceback": _trimmed_traceback(exc, job),
        }
    result.update(
        seconds=time.monotonic() - started,
        label=label,
        message=result["message"][:MESSAGE_LIMIT],
    )
    if printed:
        result["printed_at"] = printed["at"]
    if output is None:
        tail = contain.OutputTail(OUTPUT_LIMIT)
        tail.add(captured.getvalue().encode("utf-8", errors="replace"))
        result["output"] = tail.text()
    contain.flush_output()
    if os.getpid() != checking:
        # a copy the answer forked that got here (returned, or raised) instead of exiting:
        # its outcome is not the check's, which the answer's own process reports (a child
        # running the reference while its parent returned a wrong answer passed the check)
        os._exit(0)
    if output is not None and not contain.kept_intact():
        os._exit(REPORT_LOST)  # (what `_crash_message` says of it)
    try:
        sender.send(result)
    finally:
        sender.close()


class _FirstWrite:
    """sys.stdout or sys.stderr in a reference's check: notes in `found["at"]` the solution
    modules' frames that the first text written came through, as a traceback shows them (the
    parent says the innermost: `verify`). "The reference's check printed 5 line(s)" named the
    first line, but not the print, and its author searched the reference, the checker and their
    helpers for it (a QA pass). Python's warnings, which `verify` does not count as printed,
    are passed over."""

    def __init__(self, stream: Any, solutions_dir: str, found: dict[str, str]) -> None:
        self._stream, self._found = stream, found
        self._folder = os.path.join(solutions_dir, "")

    def write(self, text: str) -> int:
        if "at" not in self._found and text.strip():
            frames = _solution_frames(sys._getframe(1), self._folder)
            if frames is not None:
                self._found["at"] = frames
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:  # the stream's other methods (flush, fileno, ...)
        return getattr(self._stream, name)


@contextlib.contextmanager
def _noting_first_write(solutions_dir: str, found: dict[str, str]) -> Iterator[None]:
    """sys.stdout and sys.stderr as `_FirstWrite`s while it lasts."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (_FirstWrite(stream, solutions_dir, found) for stream in saved)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _solution_frames(frame: Any, folder: str) -> str | None:
    """The frames of `frame`'s stack in files under `folder`, outermost first, as a traceback
    shows them; None where the stack goes through Python's `warnings` (one written out)."""
    shown: list[str] = []
    while frame is not None:
        code = frame.f_code
        if frame.f_globals.get("__name__") in _WARNINGS:
            return None
        if code.co_filename.startswith(folder):
            shown.append(f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}\n')
        frame = frame.f_back
    return "".join(reversed(shown))


# Python's modules that write a warning out (`warnings.showwarning`; 3.14's pure-Python one)
_WARNINGS = ("warnings", "_py_warnings")


# The status a contained check exits with where the code checked closed or replaced the
# descriptor of its report's pipe (`contain.kept_intact`), so that it could not report: it
# said "exited with status 1 before reporting (a call to os._exit()?)" (0 where the report
# went into another file), and the learner looked for an exit in their code. (One an answer
# is unlikely to pass to os._exit itself.)
REPORT_LOST = 117


def _returned_message(returned: object, job: Job) -> str:
    """A checker that returned a value: `check` reads none, so a checker written to return
    False for a wrong answer accepted every answer, and check said only "the checker accepted
    it", with no word of why."""
    # (a plain value shown cut short; another object by its type: its repr is the author's
    # code, run outside the check's time limit)
    plain = (bool, int, float, str, bytes, tuple, list, dict)
    shown = reprlib.repr(returned) if type(returned) in plain else f"a {type(returned).__name__}"
    return (
        f"the checker {job.check_function} returned {shown}, and a checker's return value is "
        "not read: it rejects an answer by raising (assert_equal or expect from "
        "studycli.assertions, or an AssertionError) and returns nothing; fix "
        f"solutions/{job.check_module}.py"
    )


def _answers_own_assert(exc: AssertionError, job: Job) -> str | None:
    """What a check says of an `assert` of the learner's that failed in their file (where it
    was raised, the innermost frame) and reached the runner as it was (its checker called the
    answer without `call`, which says so itself): the answer's own assert failing, and its
    line. Its message alone read as the checker's verdict, and "expected 3, got 4" in it was
    shown as what the checker expected. None for any other AssertionError: a checker's."""
    from studycli.assertions import ANSWERS_ASSERT, CheckFailure, message_of

    if isinstance(exc, CheckFailure) or job.candidate.kind not in ("file", "code"):
        return None
    raised = _innermost(exc.__traceback__)
    if raised is None or raised.tb_frame.f_code.co_filename != (job.candidate.path or "<starter>"):
        return None
    said = message_of(exc)
    return f"{ANSWERS_ASSERT}{_where(exc, job)}" + (f": {said}" if said else "")


def _innermost(tb: Any) -> Any:
    """The last entry of traceback `tb`, where its exception was raised (None for None)."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _describe_error(exc: BaseException, job: Job) -> str:
    from studycli.assertions import OutOfTime, message_of

    if isinstance(exc, SolutionImportError):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"the code called exit ({exc.code!r}) instead of returning a value"
    if isinstance(exc, KeyboardInterrupt):
        return _interrupted_itself(exc, job)
    if isinstance(exc, OutOfTime):  # (one the check's own timer raised is a timeout)
        return _raised_itself(
            exc, job, "the check's own signal that its time ran out: an answer must not raise it"
        )
    if (refused := _over_process_cap(exc, job)) is not None:
        return refused
    text = f"{type(exc).__name__}: {message_of(exc)}"
    if _allocator_failed(text):
        return f"ran out of memory (limit {job.memory_mb} MB): {text.splitlines()[0]}"
    return text


def _allocator_failed(text: str) -> bool:
    """Whether an error's text is torch's allocator failing for want of memory."""
    return "can't allocate memory" in text or "DefaultCPUAllocator" in text


def _with_memory_note(message: str, exc: BaseException, job: Job) -> str:
    """The failure `message`, with the check's memory limit where `exc` came from running out
    of it: `call` makes the answer's MemoryError a failure that said only "raised MemoryError:
    ", no word of the limit (a reference over it read as a bug of its own)."""
    if not _out_of_memory(exc):
        return message
    note = "ran out of memory" + (f" (the limit is {job.memory_mb} MB)" if job.memory_mb else "")
    # on the failing case's line, the first: a hint (`hinted`) follows it on lines of its own
    case, newline, rest = message.partition("\n")
    stripped = case.rstrip()
    case = f"{stripped} {note}" if stripped.endswith(":") else f"{stripped} ({note})"
    return case + newline + rest


def _out_of_memory(exc: BaseException) -> bool:
    """Whether the failure `exc` came from a MemoryError (or torch's allocator failing)."""
    from studycli.assertions import message_of

    return any(
        isinstance(cause, MemoryError) or _allocator_failed(message_of(cause))
        for cause in _causes(exc)
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """What `exc` was raised from, and what that was, and so on (a context too: `hinted` raises
    its failure from None, the answer's failure its context)."""
    seen: set[int] = set()
    cause: BaseException | None = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__


def _over_process_cap(exc: BaseException, job: Job) -> str | None:
    """What a check says whose code was refused a process or a thread by its cap on them
    (`contain`, RLIMIT_NPROC): a fork bomb, or a loop of Process(...).start(), Popen(...) or
    Thread(...).start(). It said "raised BlockingIOError: [Errno 11] Resource temporarily
    unavailable", and read as the answer's own mistake with that input. None where `exc` (or
    what it was raised from) is no such refusal, or no cap holds: the system's own limits
    refused it."""
    from studycli.assertions import message_of

    cap = contain.process_cap()
    if cap is None:
        return None
    for cause in (exc, *_causes(exc)):
        if (refused := _start_refused(cause)) is not None:
            break
    else:
        return None
    who = "your attempt" if job.candidate.kind == "file" else "the code"
    if refused == "process":
        what, limit = "processes than a check may", f"{cap}, threads included"
    else:  # each thread reserves address space (a stack, a pool of malloc's): 15 of them
        # filled a 1024 MB check, long before its cap of 256
        memory = f", within {job.memory_mb} MB of memory" if job.memory_mb else ""
        what, limit = "threads than a check can run", f"{cap} processes and threads{memory}"
    return (
        f"{who} started more {what} ({limit}){_where(exc, job)}: "
        f"{type(cause).__name__}: {message_of(cause)}"
    )


def _start_refused(exc: BaseException) -> str | None:
    """Whether `exc` is the system refusing to start a process ("process": EAGAIN out of a call
    that forks or spawns, as `os.fork`, `multiprocessing` and `subprocess` do) or a thread
    ("thread"), or neither (None)."""
    import errno
    import linecache

    from studycli.assertions import message_of

    if isinstance(exc, RuntimeError) and message_of(exc) == "can't start new thread":
        return "thread"
    if not isinstance(exc, OSError) or exc.errno != errno.EAGAIN:
        return None
    # the call that raised it, the innermost frame's line (extract_tb(limit=-1) finds each
    # frame's columns on its way there: a second and a half under a deep recursion)
    tb = _innermost(exc.__traceback__)
    call = ""
    if tb is not None:
        code = tb.tb_frame.f_code
        call = linecache.getline(code.co_filename, tb.tb_lineno, tb.tb_frame.f_globals).lower()
    return "process" if "fork" in call or "spawn" in call else None


def _interrupted_itself(exc: KeyboardInterrupt, job: Job) -> str:
    """A KeyboardInterrupt in a check is the code's own (a `raise`, a SIGINT it sent itself),
    never a Ctrl-C: the check runs apart from the terminal (a session, or a worker's process
    group, of its own), and a Ctrl-C there stops the check in the command instead. Said
    bare, "KeyboardInterrupt:" read as if the learner had pressed it."""
    return _raised_itself(
        exc,
        job,
        "no Ctrl-C was pressed (a Ctrl-C stops the check, and is never its outcome)",
    )


def _raised_itself(exc: BaseException, job: Job, why: str) -> str:
    """What a check says of an exception that only the runner or the terminal should raise,
    raised by the code checked: where it was raised, and `why` it is no outcome of the kind
    it names."""
    who = "your attempt" if job.candidate.kind == "file" else "the code"
    return f"{who} raised {type(exc).__name__} itself{_where(exc, job)}: {why}"


def _where(exc: BaseException, job: Job) -> str:
    """Where `exc` came through the code checked, its innermost line (", at line 6 (in f)"), or
    nothing."""
    frames, _ = _own_frames(exc, job, keep=1)
    return f", at line {frames[-1].lineno} (in {frames[-1].name})" if frames else ""


def _limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at its size now plus `memory_mb`, the hard limit too:
    under the soft limit alone, code the check ran (or a library it called) could set it to
    the hard one, unlimited, and had no cap. (Only a check's own process is capped: a worker
    that runs checks itself, on a GPU, never is.)"""
    if not memory_mb:
        return
    try:
        import resource

        # the size in pages, statm's first field: /proc/self/status says it too (VmSize),
        # but the kernel takes five times as long to write all that (0.3 ms a check)
        with open("/proc/self/statm", encoding="ascii") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
        limit = current + memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, IndexError, ValueError):
        pass  # no /proc or no setrlimit: the time limit still applies


def _set_threads(threads: int) -> None:
    import sys

    torch = sys.modules.get("torch")
    wanted = max(1, threads)
    # (setting it costs 0.2 ms even when it is so already, as it is in most checks: the
    # worker starts with one thread a check)
    if torch is not None and torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def _load_solution(solutions_dir: str, module: str):
    from studycli.content.source import module_path

    return _load_file(module_path(Path(solutions_dir), module), f"studycli_solutions.{module}")


def _load_file(path: Path, name: str):
    """The module in `path`, loaded once; again if the file changed (a worker lives long)."""
    import importlib.util
    import sys

    info = path.stat()
    stamp = (str(path), info.st_mtime_ns, info.st_size)
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__studycli_stamp__", None) == stamp:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__studycli_stamp__ = stamp  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]  # half run: the next check imports it again, and fails the same
        if isinstance(exc, Exception | SystemExit):  # (an exit at its top: not the run's)
            import traceback

            where = f"{path.parent.name}/{path.name}"
            lines = [
                frame.lineno
                for frame in traceback.extract_tb(exc.__traceback__)
                if frame.filename == str(path) and frame.lineno
            ]
            if lines:  # the module's own line (a SyntaxError says its line itself)
                where += f", line {lines[-1]},"
            raise SolutionImportError(
                f"{IMPORT_FAILED}{where} raised {type(exc).__name__}: {exc}"
            ) from exc
        raise
    return module


IMPORT_FAILED = "importing "  # how a SolutionImportError's message starts
# a failure whose AssertionError says nothing: a bare `assert` of the checker's, most likely
UNSAID_FAILURE = "the checker rejected the answer"


class SolutionImportError(ImportError):
    """A solution module raised while it was imported (a missing package, a mistake at its
    top level): what each of its checks reports, rather than the checker found missing."""


ATTEMPT_MODULE = "studycli_attempt"  # the learner's file's name in sys.modules, while checked


def _load_attempt(path: Path):
    """The learner's file as a module, compiled from its text: never from a cached .pyc, which
    a second save within the same second (of the same size) would leave looking fresh.

    Decoded first (its coding line honoured, as an import does): compiled from bytes, a syntax
    error's column counted bytes, and its caret stood two columns past the mistake for each
    CJK character before it. Bytes that do not decode are compiled as they are, for Python's
    own message naming their line."""
    import sys
    import types
    from importlib.util import decode_source

    module = types.ModuleType(ATTEMPT_MODULE)
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    raw = path.read_bytes()
    try:
        source: str | bytes = decode_source(raw)
    except (UnicodeDecodeError, SyntaxError):
        source = raw
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


MODULE_KINDS = ("reference", "wrong", "variant")  # the candidates a solution module holds


def _resolve(job: Job):
    """The callable under test, and a label naming it (with a wrong answer's docstring)."""
    candidate = job.candidate
    if candidate.kind in MODULE_KINDS:
        module = _load_solution(job.solutions_dir, candidate.module)
        if candidate.kind == "reference":
            return getattr(module, candidate.function), "reference"
        table = module.WRONG_ANSWERS if candidate.kind == "wrong" else module.CORRECT_VARIANTS
        impl = table[candidate.function][candidate.index]
        doc = (impl.__doc__ or "").strip().splitlines()
        return impl, f"{impl.__name__}" + (f" ({doc[0]})" if doc else "")
    if candidate.kind == "code":
        namespace: dict = {"__name__": ATTEMPT_MODULE}
        exec(compile(candidate.code, "<starter>", "exec"), namespace)
        return namespace[candidate.function], "starter"
    module = _load_attempt(Path(candidate.path))
    if not hasattr(module, candidate.function):
        raise AssertionError(
            f"{candidate.path} defines no function {candidate.function!r}"
            + _functions_instead(module, candidate.function)
        )
    return getattr(module, candidate.function), "attempt"


def _functions_instead(module: Any, wanted: str) -> str:
    """The functions an attempt without `wanted` defines itself (not those it imports), in
    words: a typo in the name, or the answer written under another name, is seen at once."""
    import types

    own = [
        name
        for name, value in vars(module).items()
        if isinstance(value, types.FunctionType) and value.__module__ == ATTEMPT_MODULE
    ]
    if not own:
        return ""
    return f" (it defines {', '.join(own)}: name the answer {wanted})"


def _trimmed_traceback(exc: BaseException, job: Job) -> str:
    """The traceback frames in the learner's own code (or all frames for reference code)."""
    import traceback

    if isinstance(exc, SyntaxError) and exc.text:  # no frame in the file: Python's own lines,
        # the source line and a caret under the mistake (the message said only its line)
        shown = _caret_by_columns(traceback.format_exception_only(type(exc), exc)[:-1])
        return "".join(line[:TRACEBACK_LINE] + ("\n" if len(line) > TRACEBACK_LINE else "")
                       for line in shown)  # fmt: skip
    frames, count = _own_frames(exc, job)
    if not frames:
        return ""
    lines = "".join(traceback.format_list(frames)).splitlines()
    if count > len(frames):  # (a runaway recursion: how deep it went)
        left_out = count - len(frames)
        lines.insert(0, f"  [{left_out:,} earlier frame{'s' if left_out != 1 else ''} not shown]")
    # a source line can be megabytes (a literal of data): it was shown whole, and drawing it
    # took longer than the check
    return "".join(
        line if len(line) <= TRACEBACK_LINE else line[:TRACEBACK_LINE] + " ...\n"
        for line in (line + "\n" for line in lines)
    )


def _caret_by_columns(lines: list[str]) -> list[str]:
    """Python's lines of a syntax error with its caret under the mistake as a terminal shows
    the source line: Python counts characters, and a wide character (CJK: two columns) before
    the mistake put the caret that many columns short of it."""
    import unicodedata

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    for at in range(1, len(lines)):
        caret = lines[at].rstrip("\n")
        marks = caret.lstrip(" ")
        if not marks or marks.strip("^~") or not caret.startswith(" "):
            continue
        source, lead = lines[at - 1], len(caret) - len(marks)
        widened = " " * columns(source[:lead]) + "^" * columns(source[lead : lead + len(marks)])
        lines[at] = widened + "\n"
    return lines


FRAMES_SHOWN = 5  # the innermost frames of the code checked that a failure's traceback shows


def _own_frames(exc: BaseException, job: Job, keep: int = FRAMES_SHOWN) -> tuple[list[Any], int]:
    """The innermost `keep` frames of `exc`'s traceback (and its causes') in the code checked,
    innermost last, and how many such frames there were in all: the learner's file's alone;
    for reference code, all but the runner's. (Their lines are not read yet.)

    Only the frames kept are summarised: a runaway recursion under a raised
    sys.setrecursionlimit left a million frames, and summarising each of them took longer than
    the recursion itself (1.6 s of a check's 3.4), after the check's timer was off, where a
    tighter limit could not stop it. Each exception of the chain once, as Python's own
    traceback takes it: one raised as its own cause (`raise error from error`) showed its
    frames over and over, and causes in a cycle that held no frame were walked until the
    check's kill (a timeout)."""
    import traceback
    from collections import deque

    own = job.candidate.path or "<starter>"
    learners = job.candidate.kind in ("file", "code")

    def checked(filename: str) -> bool:
        if learners:
            return filename == own
        return "studycli/check/runner.py" not in filename.replace("\\", "/")

    chain: list[deque] = []  # each exception's innermost frames checked, the outermost first
    count = walked = 0
    walked_already: set[int] = set()
    seen: BaseException | None = exc
    while seen is not None and id(seen) not in walked_already and walked < 200:
        walked_already.add(id(seen))  # (the learner's frames hang off the cause)
        innermost: deque = deque(maxlen=keep)
        tb = seen.__traceback__
        while tb is not None:
            walked += 1
            if checked(tb.tb_frame.f_code.co_filename):  # (not summarised yet)
                innermost.append((tb.tb_frame, tb.tb_lineno))
                count += 1
            tb = tb.tb_next
        chain.append(innermost)
        seen = seen.__cause__ or seen.__context__
    kept = [frame for innermost in reversed(chain) for frame in innermost][-keep:]
    return list(traceback.StackSummary.extract(iter(kept), lookup_lines=False)), count


TRACEBACK_LINE = 300  # characters of a traceback's line kept
