"""Shared pieces of the tests of what a check leaves running (containment, solve, review)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator

# An attempt that leaves a daemon (a double fork, a session of its own: `sleep MARKER`) and
# kills the worker that forked its check (as `kill` says), once (its parent is another process
# afterwards). `KILLS_WORKER` has the test's process kill it: the attempt ends with `PROC_PIDS`
# and `asks_from_outside`, and runs within `signals_from_outside`.
DAEMON_THEN_KILLS_ITS_WORKER = """
import os, signal, time

WORKER = os.getppid()  # (read as the attempt loads, in the check)

def add_one(x):
    if os.getppid() == WORKER:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", {marker!r}])
            os._exit(0)
        time.sleep(0.2)  # (its first child gone: the daemon is an orphan, the worker's)
        {kill}
    return x + 1
"""
KILLS_WORKER = 'from_outside(proc_stat("ppid"), signal.SIGKILL)'  # (WORKER, as /proc numbers it)


def marker() -> str:
    """A `sleep` argument no other process has: how a test finds the daemon it left."""
    return f"600.{uuid.uuid4().int % 10**12}"


def running_with(argument: str) -> list[int]:
    """The processes running now (zombies are not) whose command line has `argument`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                if argument.encode() not in cmdline.read().split(b"\0"):
                    continue
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    continue
        except OSError:
            continue
        found.append(int(name))
    return found


def gone_within(argument: str, seconds: float) -> list[int]:
    """Wait at most `seconds` for every process with `argument` to end; those still running
    then (killed: the machines that run the tests are shared)."""
    deadline = time.monotonic() + seconds
    while (left := running_with(argument)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


# Functions an attempt (or a solution module) may end with, to say pids as /proc numbers them,
# as the test reads them: run as root, a check is in a PID namespace of its worker's (see
# check/pid_namespace.py), whose pids are not /proc's. At the end, they move no line; without
# braces, the test may format them.
PROC_PIDS = '''

def proc_pid(pid=0):
    """Process `pid` (this one: 0), a child of this one, as /proc numbers it."""
    import os

    if not pid:
        return int(os.readlink("/proc/self"))
    fd = os.pidfd_open(pid)
    try:
        with open("/proc/self/fdinfo/" + str(fd)) as info:
            return next(int(line.split()[1]) for line in info if line.startswith("Pid:"))
    finally:
        os.close(fd)


def proc_stat(field, pid="self"):
    """This process's parent ("ppid") or process group ("pgrp"), as /proc numbers it (or
    process `pid`'s, /proc's pid)."""
    with open("/proc/" + str(pid) + "/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[("ppid", "pgrp").index(field) + 1])
'''


def close_pool(pool) -> None:
    """Close every worker of `pool` (a `pool._Pool` of a test's own: the `fresh_pool` fixture's),
    as the command does at exit."""
    for worker in [*pool.idle, *pool.zygotes.values()]:
        worker.close()


# Where an attempt has this test's process signal for it (`signals_from_outside`): a check signals
# no process outside its Landlock domain (its worker, the worker's keeper, another check) where
# the kernel scopes a domain's signals (Linux 6.12: check/landlock.py), while the tests of what
# follows such a process's end mid-check (the run goes on, nothing is left running) still want
# it ended then, as something else may end it (the out-of-memory killer, a user's kill). The
# attempt asks by writing "PID SIGNAL" (/proc's pid; negative: its process group) into a file
# of `asks`, named *.ask; the test's process sends it and renames the file *.sent. Appended to
# an attempt (no braces: before its format, or after); `asks` a folder of the test's.
def asks_from_outside(asks) -> str:
    """The functions an attempt calls to have the test's process send a signal for it:
    `from_outside(pid, number, wait=True)`, and `shell_asks(pid, number)`, the same as a
    shell's command (it waits)."""
    return f'''

def from_outside(pid, number, wait=True):
    """Have the test's process send signal `number` to process `pid` (/proc's pid; negative:
    its process group); with `wait`, until it has (10 s at most)."""
    import os, time, uuid

    ask = os.path.join({str(asks)!r}, uuid.uuid4().hex)
    with open(ask + ".part", "w") as part:
        part.write("%d %d" % (pid, number))
    os.rename(ask + ".part", ask + ".ask")
    end = time.monotonic() + 10
    while wait and not os.path.exists(ask + ".sent") and time.monotonic() < end:
        time.sleep(0.005)


def shell_asks(pid, number):
    """`from_outside(pid, number)` as a command of sh."""
    import uuid

    ask = "%s/%s" % ({str(asks)!r}, uuid.uuid4().hex)
    wait = "i=0; while [ ! -e %s.sent ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done"
    return "echo '%d %d' > %s.part && mv %s.part %s.ask; " % (
        pid, number, ask, ask, ask
    ) + wait % ask
'''


@contextlib.contextmanager
def signals_from_outside(asks) -> Iterator[list[tuple[int, int, str]]]:
    """For the duration, send from this process the signals that attempts ask for in folder
    `asks` (`asks_from_outside`), to this process's descendants alone (never to this process,
    its parents, nor init: an attempt whose parent had died named whatever adopted it); what
    was asked, as (pid, signal, the error: "" where it was sent)."""
    import threading

    asks.mkdir(exist_ok=True)
    asked: list[tuple[int, int, str]] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.wait(0.005):
            for ask in sorted(asks.glob("*.ask")):
                pid, number = map(int, ask.read_text().split())
                error = "" if _descends_from_here(abs(pid)) else "not a descendant"
                if not error:
                    try:
                        (os.killpg if pid < 0 else os.kill)(abs(pid), number)
                    except OSError as refused:
                        error = str(refused)
                asked.append((pid, number, error))
                ask.rename(ask.with_suffix(".sent"))

    thread = threading.Thread(target=serve, name="signals-from-outside", daemon=True)
    thread.start()
    try:
        yield asked
    finally:
        stop.set()
        thread.join()


def _descends_from_here(pid: int) -> bool:
    """Whether process `pid` descends from this one (its parents, as /proc says them)."""
    here = os.getpid()
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                pid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            return False
        if pid == here:
            return True
    return False


def torchless_reference():
    """The fixture content's add_one reference as a job of the torchless worker (a fresh one
    starts in 0.2 s): what a test runs to have a worker started, or to see that the next
    check still passes."""
    from studycli.check.runner import Candidate, Job

    from .conftest import FIXTURE_CONTENT

    return Job(
        str(FIXTURE_CONTENT / "solutions"),
        "arith",
        "check_add_one",
        Candidate("reference", "add_one", "arith"),
        torch=False,
    )


@contextlib.contextmanager
def running_until(job, started, seconds: float = 10) -> Iterator[list]:
    """`job` run in a thread of this process, the block entered once file `started` exists
    (the check says it has begun) or `seconds` have passed; the list yielded holds its
    outcome once the block has ended (the thread joined)."""
    import threading

    from studycli.check.runner import run_job

    outcomes: list = []
    thread = threading.Thread(target=lambda: outcomes.append(run_job(job)))
    thread.start()
    deadline = time.monotonic() + seconds
    while not os.path.exists(started) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield outcomes
    finally:
        thread.join()
