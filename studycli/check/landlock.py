"""Each forked check in a Landlock domain of its own (Linux 5.19+ with Landlock on): what it
runs is out of every other check's reach through /proc.

A process opens another's descriptors through /proc/PID/fd/N where the kernel's ptrace access
check lets it: a process of the same user that is dumpable. A check's own process is not
(`out_of_reach`), but a program it runs is (an exec makes a process dumpable again), and holds
the check's output pipe as its fds 1 and 2: another check of the same user opened
/proc/PROGRAM/fd/1 and wrote a line into that check's output (as root it could not: each check
is a user of its own, `as_root`). Landlock refuses that access, and ptrace itself, to a
process in a domain towards any process that is neither in that domain nor in one nested in
it: a check reaches its own processes alone, dumpable or not, and neither another check's nor
its worker, its keeper, a device worker or the command.

The domain restricts nothing else that a check does: its ruleset handles only the rights to
make a block device and to link or rename a file into another directory (REFER, which every
ruleset of Landlock's second version denies unless it is granted), both granted beneath "/".
It needs no_new_privs (a setuid program a check runs gets no privileges from it; as root the
worker has it already, `uid_filter`). Where Landlock is off, older, or refuses (16 domains
nested already), the check runs without one: a program it runs is in reach of other checks of
the same user, as before.

The worker makes the ruleset once (`prepare`); each check enters it (`enter`, one system
call) before it closes what it inherited. A device worker, which runs its checks in itself,
enters a domain of its own as it starts (`confine`): its checks, and what they run, out of
the reach of every other check, and every other check's out of theirs (a device check opened
the fd 1 of a program a CPU check ran, and wrote into that check's output; as root too, with
the capabilities a device worker keeps). Its keeper stays out of it, to sweep what it leaves.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

# (linux/landlock.h; the same system call numbers on every architecture)
CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION, RULE_PATH_BENEATH = 1, 1
MAKE_BLOCK, REFER = 1 << 11, 1 << 13  # LANDLOCK_ACCESS_FS_*
HANDLED = MAKE_BLOCK | REFER
LEAST_ABI = 2  # (REFER's: the first where a rename into another directory can be granted)
PR_SET_NO_NEW_PRIVS = 38


def prepare() -> None:
    """(In the worker that forks the checks, once: they inherit it.) Make the ruleset each
    check enters, where Landlock is there, and set no_new_privs (which a check needs to enter
    it: set here, once, a check saves 30 us of its own start); else nothing."""
    global _RESTRICT
    if _RESTRICT is not None or not sys.platform.startswith("linux"):
        return
    _RESTRICT = ()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        ruleset = _ruleset(libc, ctypes)
        if ruleset < 0:
            return
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            os.close(ruleset)  # (no domain can be entered without it: none is)
            return
        # (the call's arguments made here: in a check, a fresh fork of a worker of a few
        # hundred megabytes, their making cost 40 us more)
        _RESTRICT = (libc.syscall, _long(RESTRICT_SELF), _long(ruleset), _long(0))


def enter() -> bool:
    """(In a check, first thing.) Put this process, and all it starts, in a domain of its own
    (`prepare`'s ruleset); whether it is in one."""
    if not _RESTRICT:
        return False
    call, *arguments = _RESTRICT
    return bool(call(*arguments) == 0)


def confine() -> bool:
    """(A device worker, first thing, while it has one thread: a domain holds the thread
    that enters it and those it starts after, not the others.) Put this process in a domain
    of its own, as `enter` does a check, and close the ruleset; whether it is in one."""
    global _RESTRICT
    prepare()
    entered = enter()
    if _RESTRICT:
        os.close(_RESTRICT[2].value)  # (its checks run here, not in forks that enter it)
        _RESTRICT = ()
    return entered


# landlock_restrict_self(2), to call with its arguments (empty: not to be had), by `prepare`
_RESTRICT: tuple[Any, ...] | None = None


def _ruleset(libc: Any, ctypes: Any) -> int:
    """A ruleset that handles `HANDLED` and grants it beneath "/", as a descriptor (closed on
    exec; a forked check closes it, `contain.enter`, once in its domain); -1 where Landlock is
    off, or older than `LEAST_ABI`."""
    abi = libc.syscall(_long(CREATE_RULESET), None, _long(0), _long(CREATE_RULESET_VERSION))
    if abi < LEAST_ABI:
        return -1
    handled = ctypes.c_uint64(HANDLED)  # (struct landlock_ruleset_attr's first field alone)
    size = _long(ctypes.sizeof(handled))
    ruleset = libc.syscall(_long(CREATE_RULESET), ctypes.byref(handled), size, _long(0))
    if ruleset < 0:
        return -1

    class PathBeneath(ctypes.Structure):  # struct landlock_path_beneath_attr
        _pack_ = 1
        _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))

    root = os.open("/", os.O_PATH | os.O_CLOEXEC)
    try:
        rule = PathBeneath(HANDLED, root)
        add = _long(ADD_RULE), _long(ruleset), _long(RULE_PATH_BENEATH)
        if libc.syscall(*add, ctypes.byref(rule), _long(0)) != 0:
            os.close(ruleset)
            return -1
    finally:
        os.close(root)
    return int(ruleset)


def _long(value: int) -> Any:
    """`value` as a C long (syscall(2) reads each of its arguments as one)."""
    import ctypes

    return ctypes.c_long(value)
