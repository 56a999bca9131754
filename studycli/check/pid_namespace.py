"""A PID namespace of its own for each worker that forks checks, as root (Linux; see `keeper`).

The keeper of such a worker makes one (`unshare`) and forks its init, which forks the server:
the server, its checks and all they start are in it, the keeper and the command are not. A check
cannot see nor signal a process outside it (a pid it names is this namespace's; /proc still
lists the machine's, but kill() and pidfd_send_signal() do not reach them from inside), nor kill
its init (the kernel drops SIGKILL and SIGSTOP sent to a namespace's init from inside it); and
when the init ends, the kernel kills every process left in it. A check that killed the keeper
in a loop freed a daemon about one run in 30, one that killed the command left its checks
running, and a program a check ran as root lost its death signal (PR_SET_PDEATHSIG, cleared on
a change of credentials): none can now outlive its worker.

Pids cross the namespace's border: the command kills and watches (/proc) the server and its
checks by the pids it knows them by, which /proc's (the machine's, not remounted) are, and the
server knows its own by this namespace's. `host_pid` and `local_pid` translate a child's pid
each way; `own_host_pid` is this process's. Outside such a namespace (not root, not Linux, a
kernel that refused: unprivileged users keep the keeper alone, see `unshare`) they return the
pid given.
"""

from __future__ import annotations

import os
import sys

CLONE_NEWPID = 0x20000000  # (linux/sched.h)


def unshare() -> bool:
    """(In the keeper, before it forks.) As root, put this process's next child, and all that
    descends from it, in a new PID namespace, whose init that child is. Whether it was done:
    not as another user (CLONE_NEWUSER would make one too, in which a check holds every
    capability and its ids read as 65534 until mapped, which the count of its user's processes
    in `contain` reads), nor where the kernel refuses (a container without CAP_SYS_ADMIN)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWPID) == 0)
    except (OSError, AttributeError):
        return False


# (/proc's pid of this process, whether it differs from its own), read once, forgotten at a fork
_OWN: tuple[int, bool] | None = None


def own_host_pid() -> int:
    """This process's pid as /proc numbers it (what the command knows it by)."""
    global _OWN
    if _OWN is None:
        try:
            host = int(os.readlink("/proc/self"))
        except (OSError, ValueError):  # (no /proc: no namespace either)
            host = os.getpid()
        _OWN = (host, host != os.getpid())
    return _OWN[0]


def remember_own_host_pid(host: int) -> None:
    """(In a check, told by its server.) Take `host` as `own_host_pid`, without asking /proc."""
    global _OWN
    _OWN = (host, host != os.getpid())


def inside() -> bool:
    """Whether this process is in a PID namespace other than /proc's (its pids are not the
    command's)."""
    own_host_pid()
    assert _OWN is not None
    return _OWN[1]


def host_pid(pid: int) -> int | None:
    """The pid /proc knows this process's child `pid` by (a pidfd's, which says it as /proc
    numbers it: five system calls, 15-20 us; where that fails, this process's children as /proc
    lists them, the one whose NSpid says `pid`); `pid` where this process is not inside a
    namespace. None where it is inside one and neither says: `pid` is this namespace's, and
    the command, outside, would signal whatever process /proc numbers so."""
    if not inside():
        return pid
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # (AttributeError: a Python built without it, conda's)
        return _listed_host_pid(pid)
    try:
        return pidfd_host_pid(fd) or _listed_host_pid(pid)
    finally:
        os.close(fd)


def pidfd_host_pid(fd: int) -> int | None:
    """The pid /proc knows the process of pidfd `fd` by (its fdinfo's; None: not to be read,
    or the process is gone)."""
    try:
        info = os.open(f"/proc/self/fdinfo/{fd}", os.O_RDONLY)
        try:
            text = os.read(info, 4096)
        finally:
            os.close(info)
        pid = int(text.split(b"\nPid:", 1)[1].split(None, 1)[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid > 0 else None  # (-1: it has ended)


def _listed_host_pid(pid: int) -> int | None:
    """The /proc pid of this process's child `pid`, found in /proc's listing of this process's
    children (None: not there, or no listing)."""
    return next((host for host in host_children() if local_pid(host) == pid), None)


def host_children() -> list[int]:
    """This process's children as the kernel lists them, by /proc's pids (a kernel without the
    listing: none)."""
    me = own_host_pid()
    try:
        with open(f"/proc/{me}/task/{me}/children", encoding="ascii") as listing:
            return [int(child) for child in listing.read().split()]
    except (OSError, ValueError):
        return []


def local_pid(host: int) -> int | None:
    """The pid this process knows process `host` (a /proc pid) by: its NSpid's at this
    process's depth; None if it is gone or not in this namespace."""
    if not inside():
        return host
    depth = _depth()
    try:
        with open(f"/proc/{host}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    pids = line.split()[1:]
                    return int(pids[depth]) if len(pids) > depth else None
    except (OSError, ValueError):
        pass
    return None


_DEPTH: int | None = None  # `_depth`, read once, forgotten at a fork


def _depth() -> int:
    """How deep this process's namespace is below /proc's (0: /proc's own)."""
    global _DEPTH
    if _DEPTH is None:
        _DEPTH = 0
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    _DEPTH = len(line.split()) - 2
    return _DEPTH


def _forget() -> None:
    global _OWN, _DEPTH
    _OWN = _DEPTH = None


os.register_at_fork(after_in_child=_forget)  # (a child has pids of its own)
