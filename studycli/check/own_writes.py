"""Whether the code a check runs writes the attempt file it was loaded from, for `solve --watch`,
which then takes the file's change for the check's own and not for a save of the learner's: an
attempt that appended a log of its runs to its own file was checked again and again, for ever,
each check a failed run.

The check's process notes it with an audit hook (`sys.addaudithook`): at the first opening of
the attempt file for writing (`open`, `os.open`, `Path.write_text`), a rename onto it, its
truncation or a change of its times, it makes the file the job names (`Job.own_writes`), which
the watch looks for. The hook runs before the write: whenever the watch can see the write, the
file is there. A hook cannot be removed, so it is added once per process and acts only while a
check has set its target (a device worker runs many checks). Writes Python does not see are
not noted: a program the attempt starts (`sed -i`), or C code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

# the flags of an opening that may change the file
_WRITES = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT

_target: tuple[str, str] | None = None  # (the attempt's real path, the file to make)
_hooked = False


@contextlib.contextmanager
def noting_own_writes(attempt: str, marker: str) -> Iterator[None]:
    """While in it, the first write of this process to `attempt` makes the file `marker`."""
    global _target, _hooked
    if not _hooked:
        sys.addaudithook(_hook)
        _hooked = True
    _target = (os.path.realpath(attempt), marker)
    try:
        yield
    finally:
        _target = None


def _hook(event: str, args: tuple) -> None:
    global _target
    target = _target
    if target is None:
        return
    try:
        written = _written(event, args)
        if written is not None and os.path.realpath(written) == target[0]:
            _target = None  # noted once (and the marker's own opening is not looked at)
            os.close(os.open(target[1], os.O_WRONLY | os.O_CREAT, 0o600))
    except Exception:  # (never an error of the check's: the watch is only not told)
        pass


def _written(event: str, args: tuple) -> str | None:
    """The path `event` writes to, or None (not a write, or of a descriptor)."""
    if event == "open":
        path, _, flags = args
        path = path if isinstance(flags, int) and flags & _WRITES else None
    elif event in ("os.utime", "os.truncate"):
        path = args[0]
    elif event == "os.rename":  # (os.replace's too)
        path = args[1]
    else:
        return None
    if path is None or isinstance(path, int):
        return None
    return os.fsdecode(os.fspath(path))
