"""The keeper of a worker (Linux): the process the command starts, which forks the worker's
server at once and then only waits, the subreaper of all the server leaves; when the server
ends it kills what is left, and ends as the server did. When the command ends, it kills the
server first (`_end_with_the_command`: one whose check held the GIL never saw it end). (A
device worker's too, which runs its checks in itself: what a check left in a session of its
own escaped a worker killed at its check's time limit, never swept: see `zygote.serve`. It
also reads each check's output there, and says how the worker ended in a check, with what the
check printed: `output_keeper`.)

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
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys
import threading
import time
from typing import Any, NoReturn

from . import output_keeper, pid_namespace
from .protocol import one_way

SWEEP_LIMIT = 1.0  # seconds the keeper waits for what it killed to come to it in turn


def keep(apart: bool = True, replies: int = -1) -> None:
    """(First thing in a new worker.) Fork the server, which returns from here and serves; this
    process stays as its keeper (`_watch`), and never returns. Where it cannot be (not Linux),
    this process is the server, with no keeper. As root, with `apart` (a worker that forks
    checks), the server and all it starts are in a PID namespace of their own, whose init
    stands between the keeper and the server (`_apart`). With `replies` (a device worker's
    socket to the command, where it runs its checks), the keeper reads each check's output
    and tells the command how the server ended in one (`output_keeper`)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return
    if prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        return
    command = _pidfd_of_the_command()
    if apart and pid_namespace.unshare():
        _apart(prctl, command)
        return
    keeper = os.getpid()
    pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) if replies >= 0 else None
    server = os.fork()
    if server == 0:
        from .device_worker import end_with_the_keeper

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
        return
    keeping = None
    if pair is not None:
        pair[1].close()
        keeping = output_keeper.Keeping(pair[0], replies)
    _watch(server, command=command, keeping=keeping)


def _apart(prctl: Any, command: int) -> None:
    """(In the keeper, its next child the init of a PID namespace: `pid_namespace`.) Fork that
    init, which forks the server and returns in it; the keeper watches the init, which tells it
    how the server ended (on a socket: the init cannot end by a signal it sends itself,
    which the kernel drops), and ends so. Each dies with its parent (PR_SET_PDEATHSIG).
    The init, not the keeper, kills the server when the command ends (`_end_with_the_command`):
    the keeper, its PID namespace unshared, cannot start a thread (the kernel refuses
    CLONE_THREAD where a process's children go to another namespace than its own).

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
        _watch(init, told=told)
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
    _detach(tell, command)
    _end_with_the_command(command, server)
    status = _wait_for(server)
    with contextlib.suppress(OSError):
        os.write(tell, _STATUS.pack(status))
    os._exit(0)


_STATUS = struct.Struct("=i")  # a wait status, as the init tells it


def _watch(
    server: int,
    *,
    told: int = -1,
    command: int = -1,
    keeping: output_keeper.Keeping | None = None,
) -> NoReturn:
    """Reap what comes here until the server ends (its init, which says on `told` how the
    server ended; killed when the process of pidfd `command` ends), then kill what is left,
    and leave, as the server did. With `keeping`, read the output of the checks the server
    runs meanwhile, and say how it ended in one."""
    _detach(told, command, *(keeping.fds if keeping is not None else ()))
    if keeping is not None:
        keeping.start()
    _end_with_the_command(command, server)
    status = _wait_for(server)
    if told >= 0:
        with contextlib.suppress(OSError, struct.error):
            status = _STATUS.unpack(os.read(told, _STATUS.size))[0]
    if keeping is not None:
        keeping.ended(status)
    _kill_all()
    _end_as(status)


def _pidfd_of_the_command() -> int:
    """A pidfd of this process's parent, the command (-1 where there is no pidfd: a kernel
    before 5.3). Where the command has ended already, this process ends: there is no one to
    serve."""
    command = os.getppid()
    try:
        pidfd = os.pidfd_open(command)
    except (AttributeError, OSError):
        pidfd = -1
    if os.getppid() != command:  # (the pid may be another process's)
        os._exit(1)
    return pidfd


def _close(fd: int) -> None:
    if fd >= 0:
        os.close(fd)


def _end_with_the_command(command: int, server: int) -> None:
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


def _detach(*keep: int) -> None:
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


def _wait_for(child: int) -> int:
    """Reap what comes here until `child` ends: its wait status (0 if it was not a child)."""
    with contextlib.suppress(ChildProcessError):
        while (ended := os.wait())[0] != child:
            pass  # (an orphan that ended: reaped)
        return ended[1]
    return 0


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


def children_of_this_process(known: dict[int, int] | None = None) -> list[int]:
    """This process's children, as the kernel lists them (a kernel without the listing: none);
    the keeper's, and the fork server's (`_Zygote._orphans`). The listing gives /proc's pids:
    in a PID namespace (`pid_namespace`) each is given as this process knows it, from `known`
    (/proc's pid -> this process's) where it is there, else as /proc says (one gone: left out)."""
    listed = pid_namespace.host_children()
    if not pid_namespace.inside():
        return listed
    known = known or {}
    found = (known.get(pid) or pid_namespace.local_pid(pid) for pid in listed)
    return [pid for pid in found if pid is not None]
