"""The review database's file and the -wal and -shm files SQLite keeps beside it (`_files_of`;
a link to the database is named with the file it points to, `_named`): refusing to make a
database where only they are left (`refuse_orphaned_side_files`), whether they are there
(`side_files_there`), removing those a read-only connection leaves behind
(`remove_side_files_of_reading`, after a read: `left_as_found`; beside a file this user cannot
write, those its read made: `held_as_found`, `made_by_this_read`, `remove_unless_in_use`), and
the commands that move a database aside with them (`aside_commands`).

Part of the store (see `database.py`): `database.connect` and the doctor refuse orphaned side
files before opening; `read_only.py` checks that they can be written; `sqlite_errors.py` and
the doctor tell how to move a database aside with them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from studycli.errors import StoreError


def _files_of(path: Path) -> tuple[Path, Path, Path]:
    """The database file and its -wal and -shm files."""
    return path, Path(f"{path}-wal"), Path(f"{path}-shm")


def _real(path: Path) -> Path:
    """`path` with the links to it followed: SQLite keeps the -wal and -shm files beside the
    file a link points to.

    Raises:
        StoreError: the links lead round in a loop (`--db` a link to itself ended every
            command that opens the database in a traceback: RuntimeError, "Symlink loop");
            `path` is relative and the current folder was removed (`paths.absolute` leaves
            it as given: `--db x.db` or a relative STUDYCLI_HOME there, a FileNotFoundError).
    """
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # (a loop: RuntimeError up to Python 3.12)
        if isinstance(exc, FileNotFoundError) and not path.is_absolute():
            raise StoreError(
                f"the review database {path} is named from the current folder, which no longer "
                "exists (removed or moved): cd to another folder, or give --db (or STUDYCLI_DB, "
                "STUDYCLI_HOME) an absolute path"
            ) from None
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            raise
        raise StoreError(
            f"the review database {path} is a link in a loop of links (each one leads on to "
            "another, and back): point --db (or STUDYCLI_DB) at a file, or fix the link"
        ) from None


def refuse_orphaned_side_files(path: Path) -> None:
    """Refuse to make a database at `path`, which has none, where its -wal or -shm file is
    still there (a database deleted or moved without them, one a studycli still running
    has open, or one a sync from another machine has not brought yet: deleting them there
    would sync back and delete that machine's). SQLite has no way to tell whose they are:
    it deletes a -wal found beside an empty new file, the reviews it held with it (the ones
    saved since the last checkpoint: after a crash, or of a young database, all of them),
    and folds one found beside any other file into that file, whatever database it is; a
    -shm still in use makes the new database's writes fail (disk I/O error) and the running
    session's ratings are lost.

    Raises:
        StoreError: saying which files are there, what they hold and what to do.
    """
    # SQLite follows a link to the database (and links among its folders): its -wal and -shm
    # lie beside the file linked to, whether that is there or not
    real = _real(path)
    _, wal, shm = _files_of(real)
    left = [side for side in (wal, shm) if side.exists() or side.is_symlink()]
    # the database looked for again, after them: SQLite makes its file before them, so where
    # another process made all three since the caller looked, it is there now
    if not left or path.exists():
        return
    import shlex  # (only here: a first command, with no database yet, has no use for it)

    named = _named(path)
    names = " and ".join(side.name for side in left)
    them, are = ("it", "is") if len(left) == 1 else ("them", "are")
    afresh = (
        f"close any studycli still running (a review in another terminal keeps {them} open), "
        f"then delete {them} (rm {' '.join(shlex.quote(str(side)) for side in left)}): "
        "studycli then starts a new database there. But if this folder is synced from another "
        f"machine, delete nothing: wait for the sync to bring {real.name} (deleting {them} "
        "here would sync back and delete the other machine's)"
    )
    try:
        held = wal.stat().st_size
    except OSError:  # (none, or deleted since: a session still running on the file closed)
        held = 0
    if held:
        raise StoreError(
            f"the review database {named} is gone, but {names} {are} still beside it: "
            f"{wal.name} holds {held:,} bytes of it (the reviews saved since its last "
            f"checkpoint), which only {real.name} itself can read. If you deleted or moved "
            f"{real.name} by mistake, put that very file back beside {them} (from the trash), "
            f"or move {them} to where that file is now: SQLite folds {them} into whatever "
            f"database is at this path, and deletes {them} when a new one is made here. To "
            f"start afresh instead, {afresh}"
        )
    raise StoreError(
        f"the review database {named} is gone, but {names} {are} still beside it, with no "
        f"reviews in {them}: the database was deleted or moved without {them}, or a studycli "
        f"still running has it open. To start afresh, {afresh}"
    )


def side_files_there(path: Path) -> bool:
    """Whether the -wal or -shm file of the database at `path` is there.

    Raises:
        StoreError: `path` is a link in a loop of links (`_real`).
    """
    _, wal, shm = _files_of(_real(path))
    return wal.exists() or shm.exists()


@contextlib.contextmanager
def left_as_found(path: Path) -> Iterator[None]:
    """Within: a read of the database at `path` through read-only connections, closed
    within; after it, the -wal and -shm files they made beside it removed where there were
    none before (`remove_side_files_of_reading`), as `Store.open`'s reading store does."""
    tidy = not side_files_there(path)
    try:
        yield
    finally:
        if tidy:
            remove_side_files_of_reading(path)


def remove_side_files_of_reading(path: Path) -> None:
    """Have SQLite delete the -wal and -shm files beside the database at `path` where the
    -wal is empty: what a read-only connection makes on opening and, read-only, leaves on
    closing (the doctor's, which must not write the file; a reading command's, where there
    were none before it: see `Store.open`). A connection that can write, closed as the last
    one, deletes them, as every other command's does; with the -wal empty, the checkpoint it
    makes first copies nothing, so the database file is not written. Where another process
    has the database open, SQLite sees that and leaves them; where they cannot be deleted (a
    read-only folder), or the database does not open, nothing is done: they are only
    clutter. (They are beside the file a link points to: SQLite keeps them there.)"""
    try:
        real = path.resolve()  # (a loop of links made since it opened: RuntimeError)
        if Path(f"{real}-wal").stat().st_size > 0:  # (or no -wal: OSError)
            return
        conn = sqlite3.connect(f"{real.as_uri()}?mode=rw", uri=True, timeout=0)
    except (OSError, RuntimeError, sqlite3.Error):
        return
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # (opens the -wal)
    except sqlite3.Error:
        pass
    finally:
        conn.close()


def aside_commands(path: Path, aside: Path, sides: Iterable[str] = ("-wal", "-shm")) -> list[str]:
    """The shell commands that move the database at `path` to `aside`, with the files SQLite
    keeps beside it (`sides`, each moved where it exists when the command runs): their pages
    belong to it, and a new database made at `path` that met them could not be read (disk I/O
    error). Each command succeeds where its file is not there (`test -e F && mv ...` failed so:
    the move aside, all done, ended with exit status 1); the form reads the same in bash, zsh
    and fish."""
    import shlex

    commands = [f"mv {shlex.quote(str(path))} {shlex.quote(str(aside))}"]
    for suffix in sides:
        here, there = shlex.quote(f"{path}{suffix}"), shlex.quote(f"{aside}{suffix}")
        commands.append(f"test ! -e {here} || mv {here} {there}")
    return commands


def _named(path: Path) -> str:
    """The database at `path` as a message names it: with the file it points to, if a link."""
    return f"{path} (a link to {path.resolve()})" if path.is_symlink() else str(path)


@contextlib.contextmanager
def held_as_found(real: Path) -> Iterator[dict[Path, tuple[int, int, int]]]:
    """Within: the -wal and -shm files beside `real` that are there, (device, inode, owner)
    of each, held open where the system can (Linux's O_PATH: no lock is taken, and closing
    it drops none of SQLite's) so that no file made in one's place while held takes its
    inode and is taken for it."""
    ids = {}
    held = []
    try:
        for part in _files_of(real)[1:]:
            with contextlib.suppress(OSError):
                if hasattr(os, "O_PATH"):
                    held.append(os.open(part, os.O_PATH))
                    found = os.fstat(held[-1])
                else:
                    found = part.stat()
                ids[part] = (found.st_dev, found.st_ino, found.st_uid)
        yield ids
    finally:
        for fd in held:
            os.close(fd)


def made_by_this_read(real: Path, before: dict[Path, tuple[int, int, int]] | None) -> list[Path]:
    """The -wal and -shm files beside `real` that a read-only connection just made, beside
    a file this user cannot write (`before`: those there before it opened; None: it can
    write the file, and they are its own to leave). The owner's session may end, removing
    its own, between the look that found them and the open: SQLite's read-only connection
    then makes new ones, this user's, and leaves them on closing, and the owner's next write
    failed on them ("cannot write ...-wal"), in a sticky folder unable to remove them.
    Only files this user owns, not there before, that no one else could have written (no
    group or other write bit; the -wal empty) are named: never the owner's, whose -wal
    holds reviews; all or none."""
    if before is None:
        return []
    made = []
    for part in _files_of(real)[1:]:
        try:
            now = part.stat()
        except OSError:
            continue
        if (now.st_dev, now.st_ino, now.st_uid) == before.get(part):
            return []
        if now.st_uid != os.geteuid() or now.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return []
        if part.name.endswith("-wal") and now.st_size > 0:
            return []
        made.append(part)
    return made


@contextlib.contextmanager
def _in_use_by_none(parts: list[Path]) -> Iterator[bool]:
    """Within: whether no connection has the -shm file among `parts` open, none able to open
    it while this holds it. SQLite holds a read lock on its byte 128 (the "DMS" lock) while
    a connection has it open: another read of this user's (two `due`s at once) may have
    opened what this one made, and removing them leaves it reading through unlinked files.
    Linux's OFD lock conflicts with a connection of this process too; a lock refused keeps
    its descriptor open (`_REFUSED`): closing one drops this process's POSIX locks on the
    file, SQLite's among them. Without fcntl (Windows) an open file cannot be removed."""
    shm = next((part for part in parts if part.name.endswith("-shm")), None)
    try:
        import fcntl
    except ImportError:
        yield True
        return
    if shm is None:
        yield True
        return
    try:
        fd = _opened_to_lock(shm)
    except OSError:
        yield False
        return
    try:
        if hasattr(fcntl, "F_OFD_SETLK"):  # (struct flock: type, whence, start, len, pid)
            lock = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, _DMS_BYTE, 1, 0)
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, lock)
        else:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _DMS_BYTE)
    except OSError:
        _REFUSED.append(fd)
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)


def _opened_to_lock(shm: Path) -> int:
    """A descriptor of `shm`, open for writing (a write lock needs it). SQLite makes the -wal
    and -shm with the database file's permission bits: beside a file whose write bits are off
    (this user's own, as a reader who is no root has it), the -shm it made is not writable
    either; as its owner, this user gives itself the bit for the open and takes it back."""
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(shm, flags)
    except PermissionError:
        mode = stat.S_IMODE(os.lstat(shm).st_mode)
        os.chmod(shm, mode | stat.S_IWUSR)
        try:
            return os.open(shm, flags)
        finally:
            os.chmod(shm, mode)


_DMS_BYTE = 128  # (SQLite's os_unix.c: UNIX_SHM_DMS, after the -shm's 120 bytes and 8 locks)
_REFUSED: list[int] = []  # descriptors of -shm files found in use, kept open (`_in_use_by_none`)


def remove_unless_in_use(parts: list[Path]) -> None:
    """Remove `parts`, unless another connection has them open (`_in_use_by_none`): another
    read of this user's, two `due`s at once, may read through what this one made."""
    with _in_use_by_none(parts) as free:
        for part in parts if free else []:
            with contextlib.suppress(OSError):  # (where it cannot: only clutter)
                part.unlink()
