"""Which other processes hold the review database's write lock (`holders`), read from the
system's table of file locks (/proc/locks, Linux): a busy database's message names the process
to let finish, where it said only "another studycli command (or another program)", which left
a learner with a forgotten `sqlite3` shell in another terminal nothing to look for.

Part of the store (see `database.py`); `sqlite_errors` asks it when it says a database is busy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

LOCKS = Path("/proc/locks")
WAL_WRITE_LOCK = 120  # the byte of the -shm file that SQLite's writer of a WAL database locks
SHOWN = 80  # characters of a command line shown


def holders(path: Path) -> list[tuple[int, str]]:
    """(pid, command line) of the other processes holding a write lock on the database at
    `path`: the write lock of a WAL database (a byte of its -shm file), or any write lock on
    the file itself (an exclusive locking mode, or a rollback journal's writer). [] where the
    system does not say (not Linux, no access) or none is found."""
    real = path.resolve()
    files = ((real, None), (real.with_name(f"{real.name}-shm"), WAL_WRITE_LOCK))
    wanted = {key: byte for file, byte in files if (key := _file_key(file)) is not None}
    try:
        table = LOCKS.read_text()
    except OSError:
        return []
    found: dict[int, str] = {}
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 8 or fields[1] == "->":  # (a waiter, not a holder)
            continue
        access, pid, key = fields[3], fields[4], fields[5]
        # (pid 0: a holder in no PID namespace this process sees, or gone; -1: an open
        # file's lock, OFD, which no process holds: neither can be named)
        if access != "WRITE" or key not in wanted or not pid.isdigit() or int(pid) == 0:
            continue
        byte = wanted[key]
        if (byte is None or _covers(fields[6], fields[7], byte)) and int(pid) != os.getpid():
            found[int(pid)] = _command_line(int(pid))
    return sorted(found.items())


def who_holds(path: Path) -> str:
    """Who holds the write lock on the database at `path`, in words: the processes `holders`
    finds ("process 4242 (sqlite3 reviews.sqlite3)"), or "another studycli command (or
    another program)" where it finds none."""
    found = holders(path)
    if not found:
        return "another studycli command (or another program)"
    return ", ".join(
        f"process {pid}" + (f" ({command})" if command else "") for pid, command in found
    )


def _covers(start: str, end: str, byte: int) -> bool:
    """Whether a lock from byte `start` to `end` (inclusive; "EOF": to the end of the file,
    as /proc/locks writes them) covers `byte`. The system merges a process's adjacent locks
    of one kind into one line (the write byte 120 and the checkpointer's 121, held at once:
    "120 121"), and a program other than SQLite may lock a range or the whole file ("0
    EOF"): each holds the write byte as surely as a lock of that byte alone, which was all
    that was matched."""
    if not start.isdigit() or not (end.isdigit() or end == "EOF"):
        return False
    return int(start) <= byte and (end == "EOF" or byte <= int(end))


def _file_key(path: Path) -> str | None:
    """How /proc/locks names the file at `path` (major:minor:inode, in hex, hex, decimal)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"


def _command_line(pid: int) -> str:
    """The command line of process `pid`, on one line, cut to `SHOWN` characters ("" where it
    cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    words = raw.rstrip(b"\0").decode("utf-8", "replace").split("\0")
    if words and words[0]:
        words[0] = os.path.basename(words[0])
    text = re.sub(r"\s+", " ", " ".join(words)).strip()
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."
