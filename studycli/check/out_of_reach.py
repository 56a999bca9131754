"""A CPU worker's descriptors, and its checks', out of the checks' reach through /proc (Linux).

Any process can open a file that another process of the same user holds, through
/proc/PID/fd/N, unless that process is not dumpable (PR_SET_DUMPABLE 0): then its descriptors,
like its memory, are open only to itself and to a process with CAP_SYS_PTRACE. The zygote that
forks the checks holds the read end of each check's output pipe (a pipe: C code writes to fds 1
and 2, and the zygote widens it, `output_tail.widen`), and the command's output as its own fds
1 and 2; a check opened another's output pipe through /proc/ZYGOTE/fd/N and wrote a line into
it (in `studycli check`, a correct answer's card then failed for what it "printed"), and wrote
to the learner's terminal through /proc/ZYGOTE/fd/1. So a zygote is not dumpable (`hide`),
from its start (its keeper too, which it starts), nor are the checks it forks, which inherit it
(each holds its own output pipe as its fds 1 and 2). A check's code may make its own process
dumpable again, or run a program (an exec makes a process dumpable): that opens its own
descriptors, no one else's. Nothing is read here per check: a fork inherits it.

What is still readable of a process that is not: /proc/PID/stat, status, cmdline and
task/*/children (what the command, the keeper and the zygote read of their checks). What is not,
but to the process itself and root: fd/, fdinfo/, environ, maps, mem; and a crash leaves no core
file (a check's never did: `contain.no_core_files`).

`output_aside` (through `pipe_holders`) finds the processes a solution module's load left by
their descriptors: the zygote is dumpable while it loads them (`in_reach`), so that those it
forks are too, and found.

Root reads any process's descriptors with CAP_SYS_PTRACE, which each check gives up (`as_root`).
The command's own descriptors are not covered here: see `hide`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4  # (linux/prctl.h)


def hide() -> None:
    """Make this process not dumpable, and what it forks from here (Linux; else nothing).

    Not the command: a check's process can open the command's output through
    /proc/COMMAND/fd/1 still (as a user's process, not as root: `as_root`), as it can open
    the learner's terminal itself (/dev/pts/N, the user's own), whose number
    /proc/COMMAND/stat says."""
    if (prctl := _prctl()) is not None:
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


@contextlib.contextmanager
def in_reach() -> Iterator[None]:
    """This process dumpable while it lasts (what it forks meanwhile too), where it was hidden
    (`hide`): a zygote's loads of solution modules, whose processes `pipe_holders` finds by
    their descriptors (a process that is not dumpable hides them from its parent too)."""
    prctl = _prctl()
    hidden = prctl is not None and prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0
    if hidden:
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        yield
    finally:
        if hidden:
            prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _prctl() -> Any:
    """libc's prctl (Linux; else None), loaded once."""
    global _PRCTL
    if _PRCTL is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            _PRCTL = ctypes.CDLL(None).prctl
    return _PRCTL


_PRCTL: Any = None
