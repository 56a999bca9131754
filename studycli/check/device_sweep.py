"""What a device worker's checks leave running, killed after each (`sweep`).

A forked check runs in a session of its own, killed whole when it ends, and its zygote is the
subreaper of what escapes that session (`fork_server._Zygote._sweep`). A device worker runs its
checks in itself (`device_worker`): a process a check, its attempt or a solution module started
and left (`subprocess.Popen` at a module's top, its output sent to /dev/null so that the pipe
`output_aside` looks through never had it) ran on for the worker's life, and after it under
init. So the worker is made the subreaper of what its checks start (`adopt`): a process left by
one that ended comes to it, rather than to init, and after each check the worker's children
are killed, with the groups they lead, until none is left. None of them is the worker's own:
it starts no process but its checks' (the MPS daemon is the command's, and CUDA's driver forks
nothing); the compile workers a check's torch.compile started are forgotten as a forked
child forgets them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

SWEEP_ROUNDS = 20  # looks for children at most: each round kills those found (and their groups)


def adopt() -> None:
    """Make this process the subreaper of what its checks start (PR_SET_CHILD_SUBREAPER; not
    on Linux, or refused: what escapes stays with init, as before)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)


def sweep() -> None:
    """Kill this process's children, each with the group it leads, and what comes here as
    they die (their own children, orphaned), until none is left; reaped, none a zombie.
    A child's pid is not given to another process until it is reaped: none but those are
    signalled."""
    from .pipe_holders import reap

    if not _any_child():
        return
    for _ in range(SWEEP_ROUNDS):
        children = _children()
        if not children:
            break
        for pid in children:
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == pid != os.getpgrp():  # (a group of its own: not ours)
                    os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        reap(children)
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
