"""The keeper of a worker (Linux): the process the command starts, which forks the worker's
server at once and then only waits, the subreaper of all the server leaves; when the server
ends it kills what is left, and ends as the server did. When the command ends, it kills the
server first (`keeper_command.end_with_the_command`: one whose check held the GIL never saw
it end). (A device worker's too, which runs its checks in itself: what a check left in a
session of its own escaped a worker killed at its check's time limit, never swept: see
`zygote.serve`. It also reads each check's output there, and says how the worker ended in a
check, with what the check printed: `output_keeper`. It is the subreaper of what the worker's
checks start, not the worker, which the command starts under a guard: `keeper_guard`.)

The server is the subreaper of its checks (`fork_server`): a process a check leaves running in a
session of its own (a daemon: a double fork and setsid) comes to it once its parent ends, and is
killed. An attempt that killed the server itself (`os.kill(os.getppid(), signal.SIGKILL)`) left
its daemon to init, running after the command had ended. Its keeper, the server's parent, gets
it instead, with all else the server left (the check that killed it, a server it forked), and
kills it all. The server is in a process group of its own (what kills its group spares the
keeper), and dies with the keeper (PR_SET_PDEATHSIG: the command kills the keeper of one that
never started; a device worker, whose checks can kill its keeper, first kills what its check
started, and says so: `device_worker.end_with_the_keeper`).

Not the command itself as that subreaper: a check whose server died was then the command's
child, and one that killed its parent in a loop killed the command next (3 runs of `solve` in
10 ended "Killed", with no outcome, on the 2-core box; 1 in 30 with the check dying with its
server, which the signal reaches a moment after the check has a new parent).

As root, a check could still kill the keeper (found as its worker's parent, or through /proc)
before its worker's death signal reached it, and free its daemon (about 1 run in 30 of a loop
that killed its parent, the 2-core box), or kill the command. There the server and all it
starts are in a PID namespace of their own (`pid_namespace`), whose init stands between the
keeper and the server (`_apart`): no check can signal the keeper, the init or the command, and
when the server ends the init ends, and the kernel kills all that is left in the namespace.

This module forks the three (`keep`; as root `_apart`, and the init's life, `_init`); the
rest is in parts named for what they hold: `keeper_watch` (the keeper's watch over the server,
and its end as the server's), `keeper_children` (the children it reaps, and what is left,
killed) and `keeper_command` (what it holds of the command: a pidfd, to see it end).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from typing import Any, NoReturn

from . import device_sweep, keeper_guard, landlock, output_keeper, pid_namespace
from .keeper_children import wait_for
from .keeper_command import detach, end_with_the_command, pidfd_of_the_command
from .keeper_watch import STATUS, watch
from .protocol import one_way


def keep(apart: bool = True, replies: int = -1) -> None:
    """(First thing in a new worker.) Fork the server, which returns from here and serves; this
    process stays as its keeper (`keeper_watch.watch`), and never returns. Where it cannot be
    (not Linux), this process is the server, with no keeper. As root, with `apart` (a worker
    that forks checks), the server and all it starts are in a PID namespace of their own,
    whose init stands between the keeper and the server (`_apart`). With `replies` (a device
    worker's socket to the command, where it runs its checks), the keeper reads each check's
    output and tells the command how the server ended in one (`output_keeper`)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return
    if prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        return
    command = pidfd_of_the_command()
    if apart and pid_namespace.unshare():
        _apart(prctl, command)
        return
    guard = keeper_guard.guard(prctl, command) if replies >= 0 else -1
    guarded = keeper_guard.pidfd_of_the_guard() if guard >= 0 else -1
    keeper = os.getpid()
    pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) if replies >= 0 else None
    server = os.fork()
    if server == 0:
        _close(guard)
        _close(guarded)
        from .device_worker import end_with_the_keeper

        if pair is not None:  # (a device worker, before its first thread: see `landlock`)
            landlock.confine()

        # (a device worker kills what its check started first: see `end_with_the_keeper`)
        if pair is None or not end_with_the_keeper(keeper, replies):
            prctl(1, signal.SIGKILL.value, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != keeper:  # (it ended before that was said)
            os._exit(1)
        os.setpgid(0, 0)
        _close(command)
        if pair is not None:
            pair[0].close()
            output_keeper.CHANNEL = pair[1]
            device_sweep.KEEPER = keeper  # (what its checks leave comes to the keeper)
        return
    if guard >= 0:
        keeper_guard.tell(guard, server)
    keeping = None
    if pair is not None:
        pair[1].close()
        keeping = output_keeper.Keeping(pair[0], replies)
    watch(server, command=command, keeping=keeping, guard=guarded)


def _apart(prctl: Any, command: int) -> None:
    """(In the keeper, its next child the init of a PID namespace: `pid_namespace`.) Fork that
    init, which forks the server and returns in it; the keeper watches the init, which tells it
    how the server ended (on a socket: the init cannot end by a signal it sends itself,
    which the kernel drops), and ends so. Each dies with its parent (PR_SET_PDEATHSIG).
    The init, not the keeper, kills the server when the command ends
    (`keeper_command.end_with_the_command`): the keeper, its PID namespace unshared, cannot
    start a thread (the kernel refuses CLONE_THREAD where a process's children go to another
    namespace than its own).

    No check reaches the keeper or the init (see `pid_namespace`): as their subreaper, the
    init gets what the server leaves, and when the server ends, the init ends, and the kernel
    kills all that is left in the namespace, whatever a check killed. (The init tells the
    keeper on a Unix socket, `protocol.one_way`: a check opened a pipe the keeper read through
    /proc/KEEPER/fd/N, and the keeper of a server it had killed ended as the check told it.)"""
    told, tell = one_way()  # (not a pipe, which a check could open and tell first)
    init = os.fork()
    if init != 0:
        os.close(tell)
        _close(command)
        watch(init, told=told)
    os.close(told)
    prctl(1, signal.SIGKILL.value, 0, 0, 0)
    if _no_reader(tell):  # (the keeper ended before that was said)
        os._exit(1)
    server = os.fork()
    if server == 0:
        prctl(1, signal.SIGKILL.value, 0, 0, 0)
        if os.getppid() != 1:  # (the init ended before that was said)
            os._exit(1)
        os.close(tell)
        _close(command)
        os.setpgid(0, 0)
        return
    _init(server, tell, command)


def _no_reader(channel: int) -> bool:
    """Whether the other end of `channel` (a socket of a pair, or a pipe's write end) is
    closed: its reader has ended."""
    import select

    poll = select.poll()
    poll.register(channel, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))


def _init(server: int, tell: int, command: int) -> NoReturn:
    """(The namespace's init.) Reap what comes here until the server ends (killed when the
    process of pidfd `command` ends), say how it ended on `tell`, and end: the kernel then
    kills what is left in the namespace, and waits for it to be gone, before the keeper sees
    this process end."""
    detach(tell, command)
    end_with_the_command(command, server)
    status = wait_for(server)
    with contextlib.suppress(OSError):
        os.write(tell, STATUS.pack(status))
    os._exit(0)


def _close(fd: int) -> None:
    if fd >= 0:
        os.close(fd)
