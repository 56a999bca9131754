"""The processes that hold a pipe, found through /proc and killed (`kill_holders`): what code
loaded with its output set aside (`output_aside`) started and left running with that pipe as
its output. Each is held by a pidfd while it is looked at and killed, so that a pid given to
another process meanwhile kills none (`_kill_holder`); those that are this process's children
are reaped (`reap`, which `device_sweep` uses too: a device worker reaps nothing otherwise).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal

HOLDER_ROUNDS = 20  # looks for holders at most: each round kills those found (and their forks)


def kill_holders(inode: int) -> list[str]:
    """Kill the other processes that hold pipe `inode` open (those that made a process group
    of their own, with their group), until none does; their command lines. Only processes
    started while it was set aside have it (its descriptors are this process's alone), and
    only those are killed: a process of the module's that redirected its output is not found
    here (a zygote kills it as an orphan, `fork_server._Zygote._sweep`)."""
    from studycli.check import pid_namespace

    # (nor this process's parent: a device worker's keeper, which kept a check's pipe where its
    # socket to the worker was closed under it, was killed as a holder, and the worker with it)
    ours = {pid_namespace.own_host_pid(), *(() if pid_namespace.inside() else (os.getppid(),))}
    killed: dict[int, str] = {}
    for _ in range(HOLDER_ROUNDS):
        holders = [pid for pid in _holding(inode) if pid not in ours]
        if not holders:
            break
        for host in holders:
            if (command := _kill_holder(host, f"pipe:[{inode}]")) and host not in killed:
                killed[host] = command  # (none: one gone, or dying already, killed earlier)
        reap(holders)
    return list(killed.values())


def _kill_holder(host: int, target: str) -> str:
    """Kill process `host` (/proc's pid) if it holds `target` (a pipe, as /proc names it) as
    it is killed, with its group where it made one of its own; its command line ("": not
    killed, or exiting).

    The pid /proc listed may be another process's by then: the listing reads every process's
    descriptors, a while on a busy machine, and one that ended meanwhile gave its pid back
    (pid_max is 32,768 on a small machine, where checks fork by the thousand), to be killed
    in its place: a sibling check, or any process of the user's. So the process is held by a
    pidfd, found to hold the pipe while held, and signalled through the pidfd, which reaches
    that process or none."""
    from studycli.check import pid_namespace

    pid = pid_namespace.local_pid(host)
    if pid is None:  # (gone, or not in this process's namespace: not its to kill)
        return ""
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except OSError as error:  # gone (or a kernel before pidfds, 5.3: signalled by pid)
        if error.errno != errno.ENOSYS:
            return ""
        pidfd = None
    except AttributeError:  # (a Python built without it, against older headers: conda's)
        pidfd = None
    try:
        if pidfd is not None and not _is_listed(pidfd, host):  # (its pid is another's now)
            return ""
        if not _holds(host, target):  # (here /proc's `host` is the pidfd's, or gone)
            return ""
        command = _command(host)
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pid != os.getpgrp():  # (a group of its own: not ours)
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            if pidfd is None:
                os.kill(pid, signal.SIGKILL)
            else:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        return command
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _is_listed(pidfd: int, host: int) -> bool:
    """Whether the process of `pidfd` is /proc's `host` (outside a PID namespace, its pid)."""
    from studycli.check import pid_namespace

    return not pid_namespace.inside() or pid_namespace.pidfd_host_pid(pidfd) == host


def _holding(inode: int) -> list[int]:
    """The processes (/proc's pids) with pipe `inode` among their open files."""
    target = f"pipe:[{inode}]"
    try:
        names = os.listdir("/proc")
    except OSError:  # (no /proc: none found)
        return []
    return [int(name) for name in names if name.isdigit() and _holds(int(name), target)]


def _holds(pid: int, target: str) -> bool:
    """Whether process `pid` (/proc's) has `target` among its open files (False: gone, or
    another user's)."""
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return True
    return False


def _command(pid: int) -> str:
    """Process `pid`'s command line (/proc's pid), as a shell would show it ("": gone, or
    exiting)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().rstrip(b"\0").split(b"\0")
    except OSError:
        return ""
    return " ".join(word.decode("utf-8", "replace") for word in words)[:200]


def reap(hosts: list[int]) -> None:
    """Wait (a second at most) for those of `hosts` killed that are this process's children,
    so that none is left a zombie in a worker that never reaps (a device worker's)."""
    import time

    from studycli.check import pid_namespace

    deadline = time.monotonic() + 1.0
    pids = {pid for host in hosts if (pid := pid_namespace.local_pid(host)) is not None}
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            except ChildProcessError:  # not this process's child, or reaped elsewhere
                pass
            pids.discard(pid)
        if pids:
            time.sleep(0.005)
