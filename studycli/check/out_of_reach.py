"""A worker's descriptors, and its checks', out of the checks' reach through /proc (Linux).

Any process can open a file that another process of the same user holds, through
/proc/PID/fd/N, unless that process is not dumpable (PR_SET_DUMPABLE 0): then its descriptors,
like its memory, are open only to itself and to a process with CAP_SYS_PTRACE. The zygote that
forks the checks holds the read end of each check's output pipe (a pipe: C code writes to fds 1
and 2, and the zygote widens it, `output_tail.widen`), and the command's output as its own fds
1 and 2; a check opened another's output pipe through /proc/ZYGOTE/fd/N and wrote a line into
it (in `studycli check`, a correct answer's card then failed for what it "printed"), and wrote
to the learner's terminal through /proc/ZYGOTE/fd/1. So a zygote is not dumpable (`hide`),
from its start (its keeper too, which it starts), nor are the checks it forks, which inherit it
(each holds its own output pipe as its fds 1 and 2). A check's code may make its own process
dumpable again, or run a program (an exec makes a process dumpable): that opens its own
descriptors, no one else's. Nothing is read here per check: a fork inherits it.

What is still readable of a process that is not: /proc/PID/stat, status, cmdline and
task/*/children (what the command, the keeper and the zygote read of their checks). What is not,
but to the process itself and root: fd/, fdinfo/, environ, maps, mem; and a crash leaves no core
file (a check's never did: `contain.no_core_files`).

`output_aside` (through `pipe_holders`) finds the processes a solution module's load left by
their descriptors: what the zygote forks while it loads them is dumpable (`in_reach`), and
found; the zygote is not. (It was dumpable for its loads: a later preload's (`pool.preload`: a
review session's next card) ran beside the checks running then, and one that polled
/proc/ZYGOTE/fd, run as a user, opened the command's output and the load's pipe for the load's
time.)

A device worker, which runs its checks in itself, is not dumpable either, nor is its keeper:
its descriptors (the output pipe of the check it runs, the command's output) are out of the
CPU's checks' reach; what its checks fork is in reach, as a zygote's loads' is (`in_reach`).
A program a check runs is dumpable, its descriptors in reach of every other process of the
user: a forked check's are kept from the others by a Landlock domain (`landlock`).

Root reads any process's descriptors with CAP_SYS_PTRACE, which each check gives up (`as_root`).
The command's own descriptors are not covered here: see `hide`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4  # (linux/prctl.h)


def hide() -> None:
    """Make this process not dumpable, and what it forks from here (Linux; else nothing).

    Not the command: a check's process can open the command's output through
    /proc/COMMAND/fd/1 still (as a user's process, not as root: `as_root`), as it can open
    the learner's terminal itself (/dev/pts/N, the user's own), whose number
    /proc/COMMAND/stat says."""
    if (prctl := _prctl()) is not None:
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


@contextlib.contextmanager
def in_reach() -> Iterator[None]:
    """What this process forks while it lasts (os.fork) dumpable, where it is hidden (`hide`):
    a zygote's loads of solution modules, whose processes `pipe_holders` finds by their
    descriptors (a process that is not dumpable hides them from its parent too). Not this
    process, whose descriptors the checks running meanwhile would reach, but for each fork's
    own system call (`_at_fork`). (A program a load runs is dumpable by its exec; a fork made
    in C, not os.fork, stays hidden.)"""
    global _FORKS_IN_REACH
    prctl = _prctl()
    if prctl is None or prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0:
        yield
        return
    _at_fork()
    _FORKS_IN_REACH = True
    try:
        yield
    finally:
        _FORKS_IN_REACH = False


def _at_fork() -> None:
    """Have os.fork, while `_FORKS_IN_REACH`, make this process dumpable for the fork only, so
    that the child is from its first instruction (a child that made itself dumpable once it
    ran was not yet, on a busy machine, as the load ended and its holders were looked for);
    registered once."""
    global _REGISTERED
    if not _REGISTERED:
        os.register_at_fork(
            before=_fork_in_reach, after_in_parent=_forked, after_in_child=_forked_in_child
        )
        _REGISTERED = True


def _fork_in_reach() -> None:
    if _FORKS_IN_REACH and (prctl := _prctl()) is not None:
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)


def _forked() -> None:
    if _FORKS_IN_REACH and (prctl := _prctl()) is not None:
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _forked_in_child() -> None:
    """(The child stays dumpable, and so does what it forks in turn.)"""
    global _FORKS_IN_REACH
    _FORKS_IN_REACH = False


def _prctl() -> Any:
    """libc's prctl (Linux; else None), loaded once."""
    global _PRCTL
    if _PRCTL is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            _PRCTL = ctypes.CDLL(None).prctl
    return _PRCTL


_PRCTL: Any = None
_FORKS_IN_REACH = False  # (within `in_reach`: what os.fork makes is dumpable)
_REGISTERED = False  # (`_at_fork`'s hooks, with os.register_at_fork)
