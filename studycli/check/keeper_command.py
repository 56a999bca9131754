"""What a keeper (`keeper`), and the init of its PID namespace, hold of the command that started
the worker: a pidfd, to kill the server when the command ends, and nothing else (none of its
descriptors, none of its output, not its SIGINT)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading


def pidfd_of_the_command() -> int:
    """A pidfd of this process's parent, the command (-1 where there is no pidfd: a kernel
    before 5.3). Where the command has ended already, this process ends: there is no one to
    serve."""
    return pidfd_of_the_parent()


def pidfd_of_the_parent() -> int:
    """A pidfd of this process's parent (-1 where there is no pidfd: a kernel before 5.3);
    where the parent has ended already, this process ends."""
    parent = os.getppid()
    try:
        pidfd = os.pidfd_open(parent)
    except (AttributeError, OSError):
        pidfd = -1
    if os.getppid() != parent:  # (the pid may be another process's)
        os._exit(1)
    return pidfd


def end_with_the_command(command: int, server: int) -> None:
    """(In the server's parent: the keeper, or the init of its namespace.) Kill `server` when
    the process of pidfd `command` (the command) ends: the keeper then kills what is left, and
    ends. A thread that waits on the pidfd (none where there is none).

    The server ends with the command by itself: a zygote's loop, or a device worker's thread
    (`device_worker.end_with_the_command`), sees its end of the requests' socket close. That
    thread runs only once the check lets go of the GIL: a command killed with -9 in a device
    check that held it (`sum(range(10**12))`, a regex that backtracks for hours) left the
    worker, its keeper and what the check started running on. (Not PR_SET_PDEATHSIG on the
    keeper: it fires when the command's thread that started it ends, not the command.)"""
    if command < 0:
        return
    try:
        child = os.pidfd_open(server)
    except OSError:
        return

    def wait() -> None:
        import select

        poll = select.poll()
        poll.register(command, select.POLLIN)  # (readable once the process has ended)
        poll.poll()
        # (a pidfd: the server's pid reaped meanwhile and taken by another, that one is spared)
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(child, signal.SIGKILL)

    threading.Thread(target=wait, name="studycli-command-gone", daemon=True).start()


def detach(*keep: int) -> None:
    """Let go of the server's descriptors (the command sees its end as the server ends) but
    `keep`, and of the command's output (a reader of it waits until every writer has closed
    it); ignore SIGINT (the command's to stop; none reaches here)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    nowhere = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(nowhere, fd)
    start = 3
    for fd in sorted(fd for fd in keep if fd >= 3):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX"))
