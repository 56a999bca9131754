"""Containing one check: the child's side (its own session, limits, closed stdin and descriptors,
output into a pipe) and the parent's (killing the whole session, keeping the output's tail).

Each check runs in a session of its own, so every process it starts is in its process group
and dies with it: at the time limit, on Ctrl-C, and after every check, passed or not. The
number of processes it may start is capped (RLIMIT_NPROC; as root, which Linux exempts from
it, the check first becomes a user of its own for the count: see `as_root`), stdin reads
nothing, descriptors inherited from the caller are closed, and what it writes to stdout and
stderr, from Python or from C, goes into a pipe whose last `OUTPUT_LIMIT` bytes are kept (the
pipe's reader is `output_tail`'s). No file it writes may grow past `FILE_SIZE_LIMIT_MB`
(RLIMIT_FSIZE, which pipes are not held to: see `_limit_file_size`).

This keeps mistakes contained: a loop, a blow-up, a flood of output or of a file, a forgotten
child process. It is not a security sandbox: code that means harm can still read and write your
files, use the network, or leave its session. Card pull requests are reviewed like code.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import time
from typing import Protocol

from . import as_root, landlock, proc_stat
from .limits import FILE_SIZE_LIMIT_MB

MAX_PROCESSES = 256  # processes (and threads) a check may add to what its user already runs


class _Descriptor(Protocol):
    def fileno(self) -> int: ...

    def close(self) -> None: ...


# --- the child's side ------------------------------------------------------------------------


def enter(
    output: _Descriptor,
    keep: int,
    processes: int = MAX_PROCESSES,
    file_size_mb: int = FILE_SIZE_LIMIT_MB,
) -> None:
    """Make this process a contained check; call it first thing in the child.

    Args:
        output: the write end of the output pipe; it becomes stdout and stderr (then closed).
        keep: the one inherited descriptor to keep open (the pipe the result goes back on).
        processes: how many processes and threads the check may start.
        file_size_mb: the size in MB that no file the check writes may grow past.
    """
    if hasattr(os, "setsid"):  # POSIX; elsewhere only the time limit and the pipe apply
        os.setsid()  # a new session and process group, led by this process: killed as one
    landlock.enter()  # what it runs out of other checks' reach (before its worker's ruleset
    # is closed below with what else it inherited)
    # A SIGINT that reaches a check is its own code's (no terminal's Ctrl-C reaches another
    # session): a KeyboardInterrupt to report, even where the command started ignoring it
    # (a shell's background job, nohup), which left the check asleep until its time limit.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _limit_processes(processes)
    no_core_files()
    _limit_file_size(file_size_mb)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    output.close()
    _close_descriptors(keep)
    global _KEPT
    _KEPT = (keep, _identity(keep))
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115  (fd 0 is /dev/null)
    # Python's streams onto the pipe, as UTF-8 (it is read so) whatever the locale: those
    # inherited kept the terminal's encoding (an ASCII one failed a check that printed a ✓),
    # and cannot be reconfigured where they were files (they would seek). Line-buffered, so
    # that what was printed before a crash, an os._exit or the kill is kept.
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = open(  # noqa: SIM115
            fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
        )
        setattr(sys, name, stream)
    _forget_closed_plumbing()
    # A crash (a segfault in native code, a stack overflow) writes where it was into the
    # output: the check's outcome could say only which signal ended it.
    faulthandler.enable(file=sys.stderr, all_threads=False)


def kept_intact() -> bool:
    """Whether the descriptor `enter` kept (the report's pipe) is still the one it kept: the
    code checked may have closed it, or put another file in its place (os.dup2, or a file it
    opened after closing it, which takes the lowest number free), and a report sent then is
    lost, or written into that file."""
    if _KEPT is None:
        return True
    fd, identity = _KEPT
    try:
        return _identity(fd) == identity
    except OSError:  # closed
        return False


_KEPT: tuple[int, tuple[int, int]] | None = None  # (descriptor, its `_identity`): see `enter`


def _identity(fd: int) -> tuple[int, int]:
    """What tells the file open on `fd` from another (a pipe's inode is its own)."""
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def flush_output() -> None:
    """Push Python's buffered stdout and stderr into the pipe (before reporting)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def count_user_tasks(within: float = 1.0) -> int | None:
    """The processes and threads of this real user (what RLIMIT_NPROC counts), counted at
    most `within` seconds ago; None where RLIMIT_NPROC does not apply (root, or no /proc).

    The worker that forks the checks calls it before each fork, and each check caps its
    processes from the count it inherits: the count reads every process's status in /proc,
    3.7 ms with 74 processes on the 2-core box and more on a desktop's hundreds, which every
    check paid before it ran.
    """
    global _COUNTED
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return None  # Linux does not enforce RLIMIT_NPROC for root
    now = time.monotonic()
    if _COUNTED is None or now - _COUNTED[0] > within:
        try:
            _COUNTED = (now, _user_tasks())
        except OSError:  # no /proc
            return None
    return _COUNTED[1]


_COUNTED: tuple[float, int] | None = None  # (when, how many): see count_user_tasks


def process_cap() -> int | None:
    """How many processes and threads this check may start, as `enter` capped them; None where
    no cap holds (no /proc or no setrlimit, or root where `as_root.count_apart` could not be done)."""
    return _CAP


_CAP: int | None = None


def _limit_processes(extra: int) -> None:
    global _CAP
    running = count_user_tasks()  # as the forking worker counted it, when recent enough
    if running is None:
        running = as_root.count_apart()
    if running is None:
        return
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        limit = running + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        _CAP = limit - running
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no setrlimit: the session is still killed whole


def file_cap_of(file_size_mb: int) -> int:
    """The size in bytes that no file a check capped at `file_size_mb` may grow past: that, or
    less where the command was already held to less (`ulimit -f`), which the check keeps to."""
    cap = file_size_mb << 20
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (ImportError, OSError, ValueError):
        return cap
    return cap if soft == resource.RLIM_INFINITY else min(cap, soft)


def file_cap() -> int | None:
    """The size in bytes that no file this check writes may grow past, as `enter` capped it;
    None where no cap holds (a device worker's check, or no setrlimit)."""
    return _FILE_CAP


def file_cap_met() -> bool:
    """Whether a write of this check's process met its cap on a file's size (SIGXFSZ came, to
    the handler `_limit_file_size` set: code that ignores the signal, or handles it itself,
    meets it unnoticed here, but the write still fails with EFBIG)."""
    return _FILE_CAP_MET


_FILE_CAP: int | None = None  # the cap `_limit_file_size` set, in bytes
_FILE_CAP_MET = False  # whether a write of this check's process met it (`_note_file_cap`)


def _limit_file_size(file_size_mb: int) -> None:
    """Cap the size of every file this check writes (RLIMIT_FSIZE, the hard limit too, so that
    the check cannot lift it): an attempt that wrote a file in a loop filled the disk within
    its time limit, and on a full disk the review database could not commit the rating. Only
    files are held to it: the pipes of the check's output and report are not.

    A write past the cap sends SIGXFSZ, which Python ignores: the write fails with EFBIG
    ("File too large"; numpy's and torch's own words say less: "unexpected pos") and the
    check goes on. A handler of its own notes that it came (`file_cap_met`), so that the
    check's outcome says the cap was met, whatever error its code then raised. (Code that
    restores the signal's default is killed by it instead: `crash_report` says so.)"""
    global _FILE_CAP
    if not file_size_mb:
        return
    try:
        import resource

        cap = file_cap_of(file_size_mb)
        signal.signal(signal.SIGXFSZ, _note_file_cap)
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
    except (ImportError, OSError, ValueError, AttributeError):  # (no SIGXFSZ: not POSIX)
        return
    _FILE_CAP = cap


def _note_file_cap(*_: object) -> None:
    global _FILE_CAP_MET
    _FILE_CAP_MET = True


def no_core_files() -> None:
    """A check that crashes (a segfault in C code it called) writes no core file: where the
    shell allowed them (`ulimit -c unlimited`), one of 170 MB landed in the folder the command
    ran in. Its outcome says how it ended."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, OSError, ValueError):
        pass


def _user_tasks() -> int:
    """Processes and threads of this real user now (what RLIMIT_NPROC counts).

    Raises:
        OSError: there is no /proc.
    """
    uid, count = os.getuid(), 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue  # gone meanwhile, or unreadable
    return count


def _close_descriptors(keep: int) -> None:
    try:
        open_now = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        return
    for fd in open_now:
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):  # the listing's own descriptor is gone already
                os.close(fd)


def _forget_closed_plumbing() -> None:
    """multiprocessing's resource tracker pipe was among the descriptors closed: forget it, so
    that a check using multiprocessing starts a tracker of its own instead of writing to
    whatever file reuses that number."""
    with contextlib.suppress(Exception):
        from multiprocessing import resource_tracker

        resource_tracker._resource_tracker._fd = None  # type: ignore[attr-defined]
        resource_tracker._resource_tracker._pid = None  # type: ignore[attr-defined]


# --- the parent's side -----------------------------------------------------------------------


def wait_gone(group: int | None, seconds: float) -> bool:
    """Wait until no process of `group` runs any more (a killed process takes a moment to
    die, 200 of them on a busy machine longer); False if some still run after `seconds`."""
    deadline = time.monotonic() + seconds
    while group is not None and hasattr(os, "killpg"):
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return True  # no such group (or the number is someone else's now)
        if not _running_in_group(group):
            return True  # only zombies left, waiting to be reaped
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def left_running(session: int | None = None) -> int | None:
    """How many processes of the check whose session is `session` (its first process's pid
    as /proc numbers it; in the check, by default, its own: `enter` made it the session's
    leader) still run, that one left out: what a check stopped at its time limit had started
    (a fork bomb that had not reached the process cap by then). None where that cannot be
    told: no /proc, or, in the check, not a contained one (a device worker's). A scan of /proc:
    called only at a time limit."""
    if session is None:
        if _KEPT is None:
            return None
        from . import pid_namespace

        session = pid_namespace.own_host_pid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    count = 0
    for name in names:
        if not name.isdigit() or int(name) == session:
            continue
        try:
            state, _, _, own = (proc_stat.fields(f"/proc/{name}/stat") or [])[:4]
        except ValueError:
            continue  # gone meanwhile
        count += int(own) == session and state not in ("Z", "X")
    return count


def _running_in_group(group: int) -> bool:
    try:
        names = os.listdir("/proc")
    except OSError:
        return False  # no /proc: the kill was sent, that is all one can tell
    for name in names:
        if not name.isdigit():
            continue
        try:
            state, _, pgrp = (proc_stat.fields(f"/proc/{name}/stat") or [])[:3]
        except ValueError:
            continue  # gone meanwhile
        if int(pgrp) == group and state not in ("Z", "X"):
            return True
    return False
