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

Where the kernel has Landlock's sixth version (Linux 6.12), the domain is scoped too: a process
in it signals (kill, killpg, pidfd_send_signal; signal 0, the asking whether one runs, as
well) only the processes of its own domain and those nested in it, and connects to an abstract
Unix socket only where one of those made it; anything else is refused (EPERM). All of a user's
processes could signal one another: a check killed another check running beside it, its
worker, its worker's keeper, or the command (found as its parents, or in /proc), as any user
(as root the PID namespace keeps the keeper and the command out of its reach, `pid_namespace`,
but not its worker nor the checks beside it); now it kills what it started alone. What signals
a check from outside its domain is unchanged: its worker's kill of its session (at its time
limit, after it reports), the sweeps of what it left (the worker's, the keeper's, a device
worker's `device_sweep`, from its own domain), the command's; and so is what the kernel sends,
which no scope holds (a death signal, PR_SET_PDEATHSIG; SIGCHLD to a parent; a timer's
SIGALRM). So is what a check signals in its own domain: itself (faulthandler's re-raised
signal, `os.kill(os.getpid(), ...)`) and what it started. A device worker's domain, where its
checks run, is scoped as well (`confine`). Nothing studycli runs uses an abstract socket
across the domain's border: the worker, its keeper and the command talk over socket pairs,
which have no address (`protocol.one_way`), CUDA's MPS over sockets named in its pipe
folder, a file's path, and Python's multiprocessing listens on a file's path too. Before that
version the ruleset is made as it was (its first field alone): a check signals any process of
its user, as it did.

The domain restricts nothing else that a check does: its ruleset handles only the rights to
make a block device and to link or rename a file into another directory (REFER, which every
ruleset of Landlock's second version denies unless it is granted), both granted beneath "/".
It needs no_new_privs (a setuid program a check runs gets no privileges from it; as root the
worker has it already, `uid_filter`). Where Landlock is off, older, or refuses (16 domains
nested already), the check runs without one: a program it runs is in reach of other checks of
the same user, as before, and so is every process of the user to its signals.

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
# LANDLOCK_SCOPE_*: the field `scoped` of struct landlock_ruleset_attr (after its
# handled_access_fs and handled_access_net), read from the ABI `SCOPED_ABI` on (Linux 6.12)
ABSTRACT_UNIX_SOCKET, SIGNAL = 1 << 0, 1 << 1
SCOPED, SCOPED_ABI = ABSTRACT_UNIX_SOCKET | SIGNAL, 6
PR_SET_NO_NEW_PRIVS = 38


def prepare(scoped: bool = True) -> None:
    """(In the worker that forks the checks, once: they inherit it.) Make the ruleset each
    check enters, where Landlock is there, and set no_new_privs (which a check needs to enter
    it: set here, once, a check saves 30 us of its own start); else nothing. Without `scoped`,
    the ruleset is not scoped (`confine`)."""
    global _RESTRICT
    if _RESTRICT is not None or not sys.platform.startswith("linux"):
        return
    _RESTRICT = ()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        ruleset = _ruleset(libc, ctypes, scoped)
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
    of its own, as `enter` does a check, and close the ruleset; whether it is in one.

    Scoped as a check's is (signals and abstract sockets kept inside): CUDA's driver and its
    MPS client, which run here, neither signal out of it nor connect to an abstract socket
    (`check --device cuda` on an H100 host, Linux 6.18, Landlock ABI 7, with the command's
    private MPS daemon, a shared one and none: 82 of 82 each, fifty-eighth session)."""
    global _RESTRICT
    prepare()
    entered = enter()
    if _RESTRICT:
        os.close(_RESTRICT[2].value)  # (its checks run here, not in forks that enter it)
        _RESTRICT = ()
    return entered


# landlock_restrict_self(2), to call with its arguments (empty: not to be had), by `prepare`
_RESTRICT: tuple[Any, ...] | None = None


def abi(libc: Any = None) -> int:
    """The version of Landlock this kernel has (its ABI: 6 and on scope a domain's signals,
    `SCOPED`); 0 where there is none (not Linux, Landlock off or not built)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        if libc is None:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
        version = libc.syscall(_long(CREATE_RULESET), None, _long(0), _long(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _ruleset(libc: Any, ctypes: Any, scoped: bool = True) -> int:
    """A ruleset that handles `HANDLED` and grants it beneath "/", scoped (`SCOPED`) where the
    kernel has `SCOPED_ABI`, as a descriptor (closed on exec; a forked check closes it,
    `contain.enter`, once in its domain); -1 where Landlock is off, or older than `LEAST_ABI`."""
    version = abi(libc)
    if version < LEAST_ABI:
        return -1
    ruleset = -1
    if (
        scoped and version >= SCOPED_ABI
    ):  # (struct landlock_ruleset_attr up to its `scoped`, 24 bytes)
        ruleset = _create(libc, ctypes, (ctypes.c_uint64 * 3)(HANDLED, 0, SCOPED))
    if ruleset < 0:  # (its first field alone, handled_access_fs, 8 bytes: as every ABI reads it)
        ruleset = _create(libc, ctypes, ctypes.c_uint64(HANDLED))
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


def _create(libc: Any, ctypes: Any, attributes: Any) -> int:
    """landlock_create_ruleset(2) of `attributes` (the leading fields of struct
    landlock_ruleset_attr, their size said), as a descriptor; -1 where it is refused."""
    size = _long(ctypes.sizeof(attributes))
    return int(libc.syscall(_long(CREATE_RULESET), ctypes.byref(attributes), size, _long(0)))


def _long(value: int) -> Any:
    """`value` as a C long (syscall(2) reads each of its arguments as one)."""
    import ctypes

    return ctypes.c_long(value)
