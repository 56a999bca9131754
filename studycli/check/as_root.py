"""A check run as root, held to its process cap as any user's is (Linux).

Linux does not apply RLIMIT_NPROC to a process whose real user id is 0, nor to one that holds
CAP_SYS_RESOURCE or CAP_SYS_ADMIN: run as root (in a container, a CI job), a check that forked
512 processes made all of them (2 s on the 2-core box), and an unbounded fork bomb ran to its
time limit, which on a machine with more cores could fill the process table first, for everyone
on it. So the worker that forks the checks gives up those two capabilities and keeps its
checks from taking real user id 0 back (`drop_root_exemption`, once: its checks inherit it),
and each check takes a real user id of its own (`count_apart`), which `contain` then caps.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from . import pid_namespace, uid_filter

# A check run as root counts its processes as a user of its own: this real user id plus the
# check's pid (below 2**22), above the ranges systemd assigns (users, and containers up to
# 1879048191), so that no one else's processes, nor another check's, count with its own.
CHECK_UIDS = 2_000_000_000
PID_LIMIT = 1 << 22  # (the most a pid can be: PID_MAX_LIMIT)
CAP_SETUID, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_RESOURCE = 7, 19, 21, 24  # (capability.h)


def drop_root_exemption() -> None:
    """(In the worker that forks the checks, once: they inherit it.) As root, give up the two
    capabilities that exempt a process from RLIMIT_NPROC (dropped in each check instead, they
    took 0.2-1 ms of it on the 2-core box: neither the worker nor a check needs them), so that
    each check need only take a real user id of its own to be held to its cap
    (`count_apart`); and keep the checks to theirs.

    A check keeps effective user id 0, which lets a process set its real id to 0 whatever
    capabilities it lacks: `os.setresuid(0, 0, 0)` in an attempt made it exempt again, and a
    fork bomb ran to its time limit. A seccomp filter, which this process and all it starts
    keep for good, refuses every change of a real user id but a check's own (`uid_filter`);
    CAP_SETUID, which this worker keeps for its checks' setresuid, each check gives up once it
    is done (`_give_up_setuid`: else it could take a fresh id, whose count starts at 1); it is
    out of the bounding and inheritable sets from here on, so that no program a check runs
    gets it back. So is CAP_SYS_PTRACE, which each check gives up with it: with it, a check
    opened any process's descriptors through /proc/PID/fd/N, another check's output pipe held
    by this worker among them (`out_of_reach`, which a process that is not dumpable keeps from
    the others of its user, but not from CAP_SYS_PTRACE), and could trace any process. Without
    it, a check opens those of no process with capabilities it lacks (the worker's, its keeper's,
    the command's) nor of another check (another real user id).
    """
    global _EXEMPTION_DROPPED
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _drop_capabilities(libc, (CAP_SYS_ADMIN, CAP_SYS_RESOURCE))
        # (from the inheritable set: the worker keeps them, its checks give them up)
        _drop_capabilities(libc, (CAP_SETUID, CAP_SYS_PTRACE), sets=(2,))
        _prepare_give_up(libc)
    except (OSError, AttributeError):  # (AttributeError: a libc without capget)
        return
    uid_filter.install(libc, CHECK_UIDS, CHECK_UIDS + PID_LIMIT)
    _EXEMPTION_DROPPED = True


_EXEMPTION_DROPPED = False  # see drop_root_exemption


def count_apart() -> int | None:
    """(As root, in the check, first thing.) Make this check a user of its own for
    RLIMIT_NPROC: the real user id `CHECK_UIDS` + its pid, keeping 0 as its effective one: what
    it may read, write and signal is what root may, as before. What asks for the real id sees
    that one (`os.access`, `getpass.getuser()` where $USER is not set), and a program it runs
    starts as a setuid one would (glibc drops TMPDIR and LD_* from its environment). Its code
    cannot change it (see `drop_root_exemption`).

    Returns:
        How many processes and threads that user runs now (this one: 1); None where it cannot
        be done (not root, a worker that kept the capabilities, a user namespace that maps no
        such id). Where CAP_SETUID cannot then be given up (capset refused), the process ends,
        with status `KEPT_SETUID`, before the check runs (`crash_report` says why).
    """
    if not _EXEMPTION_DROPPED:
        return None
    try:
        os.setresuid(CHECK_UIDS + pid_namespace.own_host_pid(), -1, -1)
    except OSError:
        return None
    if not _give_up_setuid():
        # Kept, CAP_SETUID lets its code take any check's real id the filter allows, a fresh
        # one whose count starts at 1, and start as many processes again: it does not run.
        os._exit(KEPT_SETUID)
    return 1


KEPT_SETUID = 118  # the exit status of a check that could not give up CAP_SETUID (`count_apart`)


def _drop_capabilities(libc: Any, capabilities: tuple[int, ...], sets=(0, 1, 2)) -> None:
    """Drop `capabilities` from this process's bounding set (else a program it runs as root
    gets them back) and from its `sets` (0 effective, 1 permitted, 2 inheritable).

    Raises:
        OSError: they could not be dropped.
    """
    import ctypes

    for capability in capabilities:
        libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP (it needs CAP_SETPCAP)
    header, data = _capabilities(libc, capabilities, sets)
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _capabilities(libc: Any, without: tuple[int, ...], sets=(0, 1, 2)) -> tuple[Any, Any]:
    """This process's capabilities less `without` in `sets`, as capset takes them: (header,
    data).

    Raises:
        OSError: capget failed.
    """
    import ctypes

    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: of 0-31, then of 32-63
    if libc.capget(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    for capability in without:
        for which in sets:
            data[3 * (capability // 32) + which] &= ~(1 << capability % 32)
    return header, data


def _prepare_give_up(libc: Any) -> None:
    """(In the worker.) Make ready the one call with which a check gives up CAP_SETUID: the
    check then spends a system call on it, not ctypes' loading."""
    global _GIVE_UP
    _GIVE_UP = (libc.capset, *_capabilities(libc, (CAP_SETUID, CAP_SYS_PTRACE)))


def _give_up_setuid() -> bool:
    """(In the check, once it has its user id.) Whether CAP_SETUID is gone (CAP_SYS_PTRACE with
    it: see `drop_root_exemption`)."""
    if _GIVE_UP is None:
        return False
    capset, header, data = _GIVE_UP
    return capset(header, data) == 0


_GIVE_UP: tuple[Any, Any, Any] | None = None  # (capset, its header, its data)
