"""The keeper of a worker that forks checks (Linux): the process the command starts, which forks
the worker's server at once and then only waits, the subreaper of all the server leaves; when
the server ends it kills what is left, and ends as the server did.

The server is the subreaper of its checks (`fork_server`): a process a check leaves running in a
session of its own (a daemon: a double fork and setsid) comes to it once its parent ends, and is
killed. An attempt that killed the server itself (`os.kill(os.getppid(), signal.SIGKILL)`) left
its daemon to init, running after the command had ended. Its keeper, the server's parent, gets
it instead, with all else the server left (the check that killed it, a server it forked), and
kills it all. The server is in a process group of its own (what kills its group spares the
keeper), and dies with the keeper (PR_SET_PDEATHSIG: the command kills the keeper of one that
never started).

Not the command itself as that subreaper: a check whose server died was then the command's
child, and one that killed its parent in a loop killed the command next (3 runs of `solve` in
10 ended "Killed", with no outcome, on the 2-core box; 1 in 30 with the check dying with its
server, which the signal reaches a moment after the check has a new parent).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from typing import NoReturn

SWEEP_LIMIT = 1.0  # seconds the keeper waits for what it killed to come to it in turn


def keep() -> None:
    """(First thing in a new worker.) Fork the server, which returns from here and serves; this
    process stays as its keeper (`_watch`), and never returns. Where it cannot be (not Linux),
    this process is the server, with no keeper."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return
    if prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        return
    keeper = os.getpid()
    server = os.fork()
    if server == 0:
        prctl(1, signal.SIGKILL.value, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != keeper:  # (it ended before that was said)
            os._exit(1)
        os.setpgid(0, 0)
        return
    _watch(server)


def _watch(server: int) -> NoReturn:
    """Reap what comes here until the server ends, then kill what is left, and leave. Without
    the server's descriptors (the command sees its end as the server ends) nor the command's
    output (a reader of it waits until every writer has closed it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # (the command's to stop; none reaches here)
    nowhere = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(nowhere, fd)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    status = 0
    with contextlib.suppress(ChildProcessError):
        while (ended := os.wait())[0] != server:
            pass  # (an orphan that ended: reaped)
        status = ended[1]
    _kill_all()
    _end_as(status)


def _end_as(status: int) -> NoReturn:
    """End as the server did (`status`, as os.wait said it): the command sees this process's
    end as the server's (one it killed, say). Without a core file: where they are allowed,
    this process's replaced the one of a server that crashed (the kernel's default pattern,
    "core", names both alike, in the folder both ran in)."""
    if os.WIFSIGNALED(status):
        with contextlib.suppress(ImportError, OSError, ValueError):
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with contextlib.suppress(OSError, ValueError):  # (SIGKILL's cannot be set)
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _kill_all() -> None:
    """Kill every child of this process, with its process group, and reap it; what they leave
    comes here in turn, and is killed as it comes, for at most `SWEEP_LIMIT` seconds."""
    deadline = time.monotonic() + SWEEP_LIMIT
    while children := children_of_this_process():
        for pid in children:
            with contextlib.suppress(OSError):
                if (group := os.getpgid(pid)) != os.getpgrp():
                    os.killpg(group, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


def children_of_this_process() -> list[int]:
    """This process's children, as the kernel lists them (a kernel without the listing: none);
    the keeper's, and the fork server's (`_Zygote._orphans`)."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children", encoding="ascii") as listing:
            return [int(pid) for pid in listing.read().split()]
    except (OSError, ValueError):
        return []
