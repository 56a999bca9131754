"""The guard above a device worker's keeper (`keeper`): the process the command starts, which
forks the keeper at once and then only waits, the subreaper of what the keeper leaves. When
the keeper ends it gives its worker, where that runs on, a moment to end by itself, kills what
is left, and ends as the keeper did.

A device worker runs its checks in itself: made the subreaper of what they start, it was the
parent of each orphan its check's programs left (a shell's background job), and `os.wait()` in
the check gave it an orphan's pid, where a forked check, whose zygote is their subreaper, gets
its own child's. So its keeper, its parent, is their subreaper, and the worker kills what came
to the keeper once each check ends (`device_sweep`). But a check can kill the keeper (it is
the worker's parent: a device worker's Landlock domain is not scoped, `landlock.confine`), and
so can a user, or the out-of-memory killer: what had come to the keeper went to init (a daemon,
holding the worker's replies, kept the command waiting to the check's time limit). It comes
here instead; the worker, which sees its keeper end (`device_worker.end_with_the_keeper`),
sweeps what it started itself and tells the command so; then this process kills the rest.

A check can kill this process too, then the keeper: what had come to the keeper went to init,
the guard gone from above it. So the keeper watches its guard (a pidfd: `pidfd_of_the_guard`)
and, once it has ended, kills its worker and all it holds at once, the card saying that the
keeper was killed (`keeper_watch.watch`). (Two kills sent one right after the other can still
outrun it: no process of the user is out of a device check's reach, `landlock`.)
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
from typing import Any

from .keeper_children import kill_all, wait_for
from .keeper_command import detach, pidfd_of_the_parent
from .keeper_watch import end_as

# Seconds the guard waits for a worker whose keeper was killed to end by itself (its sweep, and
# its word to the command that the keeper was killed, `device_worker.end_with_the_keeper`)
# before it is killed with the rest (its sweep may take a while: torch.compile's workers are
# started anew in it); one whose check holds the GIL never does
SERVER_GRACE = 5.0
_PID = struct.Struct("=i")  # the server's pid, as the keeper tells it


def guard(prctl: Any, command: int) -> int:
    """(In the process the command started, the subreaper of what it starts: `keeper.keep`.)
    Fork the keeper, which returns from here with the write end of a pipe on which it is to
    say the pid of the server it forks (`tell`); this process stays above it, and never
    returns."""
    told, tell = os.pipe()
    keeper = os.fork()
    if keeper == 0:
        os.close(told)
        # (Not dying with this process: a check that killed it, its worker's parent's parent,
        # had the keeper die too, and what had come to the keeper went to init. The keeper
        # ends with its worker, and the worker with the command)
        prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER (a fork's is not set)
        # (Nor in this process's group: a check that killed its keeper's group, os.killpg, took
        # this process with it in one call, and what had come to the keeper went to init)
        os.setpgid(0, 0)
        return tell
    os.close(tell)
    if command >= 0:
        os.close(command)  # (the keeper ends with the command, and this process with it)
    detach(told)
    server = _told(told)
    status = wait_for(keeper)
    if server:
        _wait_for(server, SERVER_GRACE)
    kill_all()
    end_as(status)


def pidfd_of_the_guard() -> int:
    """(The keeper, as `guard` returns in it.) A pidfd of its guard, its parent, whose end has
    the keeper kill all it holds (`keeper_watch.watch`); -1 where there is none (a kernel
    before 5.3). Where the guard has ended already, this process ends: it would hold what its
    worker leaves with none above it."""
    return pidfd_of_the_parent()


def tell(fd: int, server: int) -> None:
    """(The keeper, once it has forked the server.) Say its pid to the guard on `fd`."""
    with contextlib.suppress(OSError):
        os.write(fd, _PID.pack(server))
    os.close(fd)


def _told(fd: int) -> int:
    """The server's pid, as the keeper says it on `fd` (0: it ended before it said it)."""
    said = b""
    with contextlib.suppress(OSError):
        while len(said) < _PID.size and (more := os.read(fd, _PID.size - len(said))):
            said += more
    os.close(fd)
    return _PID.unpack(said)[0] if len(said) == _PID.size else 0


def _wait_for(server: int, seconds: float) -> None:
    """Wait up to `seconds` for `server` to end, where it is this process's child (it ran on
    after its keeper ended), and reap it."""
    try:
        pidfd = os.pidfd_open(server)
    except (AttributeError, OSError):
        return
    try:
        if os.waitpid(server, os.WNOHANG)[0]:  # (ended already)
            return
        poll = select.poll()
        poll.register(pidfd, select.POLLIN)
        poll.poll(int(seconds * 1000))
        os.waitpid(server, os.WNOHANG)
    except ChildProcessError:  # (not this process's: it ended before its keeper)
        return
    finally:
        os.close(pidfd)
