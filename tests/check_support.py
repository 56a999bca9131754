"""Shared pieces of the tests of what a check leaves running (containment, solve, review)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid

# An attempt that leaves a daemon (a double fork, a session of its own: `sleep MARKER`) and
# kills the worker that forked its check (as `kill` says), once (its parent is another process
# afterwards).
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
KILLS_WORKER = "os.kill(WORKER, signal.SIGKILL)"


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


def proc_stat(field):
    """This process's parent ("ppid") or process group ("pgrp"), as /proc numbers it."""
    with open("/proc/self/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[("ppid", "pgrp").index(field) + 1])
'''


def close_pool(pool) -> None:
    """Close every worker of `pool` (a `pool._Pool` of a test's own: the `fresh_pool` fixture's),
    as the command does at exit."""
    for worker in [*pool.idle, *pool.zygotes.values()]:
        worker.close()
