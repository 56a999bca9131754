"""A lock on the record of Anki exports (`anki_record`) held across processes while one export
reads the record as it is now, adds its notes and writes it (`anki_record.merge_into`): two
exports at once (two decks in two terminals, a script's) each wrote what it had read at its
start plus its own notes, and the one that wrote last dropped the other's.

The lock is the operating system's on a file beside the record (`fcntl.flock` on POSIX,
`msvcrt.locking` on Windows): it goes with the process that holds it, so a killed export
leaves none behind. The file stays (removed, a third export could lock a new file while the
second still held the old one).

Where there can be no lock (its file cannot be made: a folder in its place, a file of another
user's left by a `sudo` export; a file system that cannot lock: NFS with no lock daemon, some
FUSE and SMB mounts), the block runs unlocked, as every export did before the lock: refused,
a record that could be written was not, and the next export dated its notes anew.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

WAIT = 10.0  # seconds an export waits for another's lock (held for a read and a write)


def lock_path(record: Path) -> Path:
    """The file whose lock guards `record`."""
    return record.with_name(record.name + ".lock")


@contextlib.contextmanager
def locked(record: Path, wait: float = WAIT) -> Iterator[None]:
    """Hold the lock of `record` while the block runs (its folder made where missing); run
    it unlocked where there can be no lock (the module's docstring).

    Raises:
        TimeoutError: another process held the lock for `wait` s.
    """
    path = lock_path(record)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # (a folder that cannot be written: the block's own write says so)
        descriptor = None
    if descriptor is None:
        yield
        return
    try:
        held = _take(descriptor, path, wait)
        try:
            yield
        finally:
            if held:
                _let_go(descriptor)
    finally:
        os.close(descriptor)


def _take(descriptor: int, path: Path, wait: float) -> bool:
    """Take the lock on `descriptor`, waiting up to `wait` s for another process to let it
    go; False where this file system cannot lock (nothing is taken)."""
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            if _tried(descriptor):
                return True
        except OSError:  # not held by another: no lock here (ENOLCK, EOPNOTSUPP, ...)
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(
                errno.ETIMEDOUT, f"another export held its lock {path} for {wait:g} s"
            )
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.1)


if sys.platform == "win32":  # pragma: no cover (CI runs POSIX; mypy reads this check)
    import msvcrt

    def _tried(descriptor: int) -> bool:
        """Whether the lock was taken now (not held by another process).

        Raises:
            OSError: the lock cannot be had here (not another process's: a network drive
                that cannot lock), where every error was taken for a held lock.
        """
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLK):  # (the CRT's for a locked range)
                return False
            raise
        return True

    def _let_go(descriptor: int) -> None:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _tried(descriptor: int) -> bool:
        """Whether the lock was taken now (not held by another process).

        Raises:
            OSError: the lock cannot be had here (ENOLCK, EOPNOTSUPP).
        """
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _let_go(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
