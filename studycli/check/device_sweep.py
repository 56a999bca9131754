"""What a device worker's checks leave running, killed after each (`sweep`).

A forked check runs in a session of its own, killed whole when it ends, and its zygote is the
subreaper of what escapes that session (`fork_server._Zygote._sweep`). A device worker runs its
checks in itself (`device_worker`): a process a check, its attempt or a solution module started
and left (`subprocess.Popen` at a module's top, its output sent to /dev/null so that the pipe
`output_aside` looks through never had it) ran on for the worker's life, and after it under
init. So after each check the worker's children are killed, with the groups they lead, and so
is what came to its keeper, the subreaper of what they start (`KEEPER`), until none is left.

Not the worker as that subreaper (it was, from 3142a00e): it runs its checks' code, and
`os.wait()` in a check gave it the pid of an orphan its programs left (a shell's background
job), where a forked check gets its own child's. (The keeper, which a check can kill, is kept
by a guard in turn: `keeper_guard`.) None of the worker's children, nor its keeper's but the
worker, is its own: it starts no process but its checks' (the MPS daemon is the command's, and
CUDA's driver forks nothing); the compile workers a check's torch.compile started are
forgotten as a forked child forgets them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

from . import proc_stat

SWEEP_ROUNDS = 20  # looks for children at most: each round kills those found (and their groups)
SWEEP_LIMIT = 1.0  # seconds the keeper's children are looked for, at most
KEEPER = 0  # the pid of this worker's keeper (set by `keeper.keep`; 0: none, not Linux)


def sweep() -> None:
    """Kill this process's children, each with the group it leads, and its keeper's but this
    process (what came to the keeper as they died: their own children, orphaned), until none
    is left; this process's reaped, none a zombie (the keeper reaps its own). A child's pid is
    not given to another process until it is reaped: none but those are signalled, and the
    keeper's are each held by a pidfd as they are (`_kill_kept`)."""
    from .pipe_holders import reap

    if not _any_child() and not _kept():
        return
    deadline = time.monotonic() + SWEEP_LIMIT
    for _ in range(SWEEP_ROUNDS):
        children, kept = _children(), _kept()
        if not children and not kept:
            break
        for pid in children:
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == pid != os.getpgrp():  # (a group of its own: not ours)
                    os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in kept:
            _kill_kept(pid)
        reap(children)
        if time.monotonic() > deadline:
            break
        if kept and not children:
            time.sleep(0.005)  # (for the keeper to have them: their own come to it as they die)
    _forget_compile_workers()


# The pools of compile workers (processes) that torch.compile's inductor starts and keeps for
# the process's life, which a sweep kills: forgotten as in a forked child, it starts new ones
COMPILE_WORKERS = "torch._inductor.async_compile"


def _forget_compile_workers() -> None:
    """Have torch.compile start its compile workers anew, where a check started them (killed
    now): it kept the dead pool, and the next check that compiled in this worker failed."""
    if (module := sys.modules.get(COMPILE_WORKERS)) is not None:
        with contextlib.suppress(Exception):
            module.after_fork()  # (what a forked child's copy does: the pools forgotten)


def _any_child() -> bool:
    """Whether this process has a child (one system call, where listing them reads a file of
    each thread's: 260 us a check with 14 threads on the 2-core box). One that has exited is
    reaped by the asking: nothing waits for it once its check has ended."""
    try:
        os.waitpid(-1, os.WNOHANG)  # (a thread's children are every thread's to wait for)
    except ChildProcessError:
        return False
    return True


def _children() -> list[int]:
    """This process's children, started by any of its threads (a kernel without the listing,
    or no /proc: none)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            path = f"/proc/self/task/{task}/children"
            with contextlib.suppress(OSError, ValueError), open(path, encoding="ascii") as listing:
                found += [int(pid) for pid in listing.read().split()]
    return found


def _kept() -> list[int]:
    """The keeper's children but this process, still running (a zombie the keeper has yet to
    reap is left out: its own children have come to the keeper already), as /proc numbers
    them: the worker's numbers too (a device worker's keeper makes no PID namespace)."""
    if not KEEPER or os.getppid() != KEEPER:  # (the keeper gone: its pid may be another's)
        return []
    try:
        with open(f"/proc/{KEEPER}/task/{KEEPER}/children", encoding="ascii") as listing:
            listed = [int(pid) for pid in listing.read().split()]
    except (OSError, ValueError):  # (the keeper gone: what it had is its guard's now)
        return []
    own = os.getpid()
    return [pid for pid in listed if pid != own and _parent_state(pid)[1] not in ("Z", "X", "")]


def _kill_kept(pid: int) -> None:
    """Kill process `pid` where it is the keeper's child, held by a pidfd as that is read (a
    pid the keeper reaped, and the system gave another process meanwhile: that one is spared)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return
    try:
        # (the keeper, this process's parent still, is alive after the process was read to
        # be its child: the keeper's pid was the keeper's then)
        if _parent_state(pid)[0] == KEEPER == os.getppid():
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(pidfd)


def _parent_state(pid: int) -> tuple[int, str]:
    """Process `pid`'s parent and state, as its /proc stat says them ((0, ""): gone)."""
    state, parent = (proc_stat.fields(f"/proc/{pid}/stat") or ["", "0"])[:2]
    return int(parent), state
