"""A review database that cannot be written: what stops the writing (`_unwritable_part`, and
`unwritable`, the StoreError naming it with the fix), whether a folder can be written
(`folder_writable`), and opening the file read-only (`_open_for_reading`), its -wal file
read too, or the reviews there said to be out of reach where no -shm file can be made; a
file read alone goes through a copy in memory (`whole_file.py`), which its owner's
checkpoint cannot tear.

Part of the store (see `database.py`): `database.connect` opens a database it cannot write
read-only (`database.connect_read_only`, through `_open_for_reading`), and
`backups.reviews_held` and `sqlite_errors.integrity_problems` open the files they check so.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

from studycli.errors import StoreError

from . import busy
from .busy import _code, _extended, waits_said
from .side_files import _files_of, _named, held_as_found, made_by_this_read, remove_unless_in_use


def _can_write(path: Path) -> bool:
    """Whether the database at `path`, its folder and its -wal and -shm files (where they
    exist) can be written: what SQLite needs to open it in WAL mode for writing."""
    return _unwritable_part(path) is None


def _open_for_reading(path: Path, timeout: float | None = None) -> sqlite3.Connection:
    """A read-only connection to the database at `path`, which has read its schema, waiting
    up to `timeout` s (`busy.BUSY_TIMEOUT` when None) for another process's lock.

    SQLite reads a WAL database read-only when its -shm file exists, or can be made, and
    then reads what the -wal file holds too. On a read-only medium, or in a folder this user
    cannot write, or on a full disk (where the -shm file cannot grow), without a -shm file it
    can only read the file alone: that is done only when there is no -wal file with something
    in it; otherwise the reviews it holds would be silently left out, and this says so
    instead. Beside a file this user cannot write (another user's, in a folder this one can
    write) no -wal or -shm file is made either: SQLite's read-only connection leaves the ones
    it makes, this user's, and the owner's next write failed on them ("cannot write
    ...-wal"); the file is read alone too. Where the owner's session ends between the look
    that found its files and the open, and they go, those SQLite makes in their place are
    removed (`side_files.made_by_this_read`), and it looks again.

    A file read alone, where its owner may write it, is read through a copy in memory
    (`whole_file`), else as `immutable`. A -wal file found with something in it and no -shm
    is looked at again, `LOOKS` times: the owner's session, closing, removes its -shm file
    before its -wal (a loop of reads beside an owner rating in a loop was told, 3 in 7,200
    times, that the reviews in it could not be read, and once the -wal went between the
    look and its size: a traceback).

    Raises:
        sqlite3.Error: as SQLite raised it (busy, cannot open, not a database ...).
        StoreError: a -wal file holds reviews that cannot be read (StoreFull: on a full
            disk).
    """
    real = path.resolve()  # (a link's -wal is beside the file it points to)
    timeout = busy.BUSY_TIMEOUT if timeout is None else timeout
    _, wal, shm = _files_of(real)
    writable = os.access(real, os.W_OK)
    full = False
    for look in range(LOOKS):
        if look:
            time.sleep(LOOK_AGAIN)
        conn, full = _through_side_files(path, wal, shm, timeout, writable)
        if conn is not None:
            return conn
        if not _holds_frames(wal):
            return _alone(real, timeout)  # the file holds everything
        if full:  # (no room for a -shm file: not a moment's)
            break
    raise _wal_out_of_reach(path, wal, full)


LOOKS = 5  # looks at a -wal file out of reach before saying so, LOOK_AGAIN s apart
LOOK_AGAIN = 0.05


def _through_side_files(
    path: Path, wal: Path, shm: Path, timeout: float, writable: bool
) -> tuple[sqlite3.Connection | None, bool]:
    """A read through the -wal and -shm files of the database at `path` (`_read_through_shm`);
    None where there are none to read through and none can be made, and whether that is for
    want of room (a full disk)."""
    for _ in range(3):  # (the owner's files removed between the look and the open, each time)
        if not (writable or (wal.exists() and shm.exists())):  # (none to make)
            break
        try:
            conn = _read_through_shm(path, timeout, writable)
        except sqlite3.OperationalError as exc:
            # no -shm file that can be made: CANTOPEN on a read-only medium, READONLY (its
            # _DIRECTORY or _CANTINIT form) in a folder this user cannot write, IOERR_SHMSIZE
            # on a full disk (no room to grow it)
            full = _extended(exc) == sqlite3.SQLITE_IOERR_SHMSIZE
            if not full and _code(exc) not in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
                raise
            return None, full
        if conn is not None:
            return conn, False
    return None, False


def _holds_frames(wal: Path) -> bool:
    """Whether the -wal file `wal` holds anything (none: False)."""
    try:
        return wal.stat().st_size > 0
    except FileNotFoundError:  # (none, or its owner's session removed it since the look)
        return False


def _alone(real: Path, timeout: float) -> sqlite3.Connection:
    """The database file `real` read without a -wal file: through a copy in memory, which
    no checkpoint of its owner's tears (`whole_file`), except on a read-only filesystem (no
    one writes it there) or past the copy's size; else as `immutable`."""
    if not _on_read_only_filesystem(real.parent):
        from .whole_file import read_settled

        if (conn := read_settled(real, timeout)) is not None:
            return conn
    return _first_read(f"{real.as_uri()}?immutable=1", timeout)


def _read_through_shm(path: Path, timeout: float, writable: bool) -> sqlite3.Connection | None:
    """`_first_read` of the database at `path` with mode=ro, through its -wal and -shm files;
    None where, beside a file this user cannot write (`writable` False), it made them: it is
    closed and they are removed (`made_by_this_read`) unless another connection has them
    (`remove_unless_in_use`)."""
    real = path.resolve()
    with held_as_found(real) as before:
        try:
            with waits_said(path):
                conn = _first_read(f"{real.as_uri()}?mode=ro", timeout)
        except sqlite3.OperationalError:
            remove_unless_in_use(made_by_this_read(real, None if writable else before))
            raise
        made = made_by_this_read(real, None if writable else before)
    if not made:
        return conn
    conn.close()  # (before they go: it reads through them)
    remove_unless_in_use(made)
    return None  # (and it looks again)


def _wal_out_of_reach(path: Path, wal: Path, full: bool) -> StoreError:
    """The error for a database whose -wal file holds reviews that cannot be read, there being
    no -shm file (and none can be made: `full`, the disk has no room for one)."""
    real = path.resolve()
    if full:
        from studycli.errors import StoreFull

        why = f"the disk holding {_named(path)} is full"
        return StoreFull(
            f"cannot read the review database {_named(path)}: the disk holding its folder "
            f"{real.parent} is full, and its {wal.name} file holds reviews not yet in "
            f"{real.name}, which SQLite reads only through a {real.name}-shm file it has no "
            "room to make: free some space there and run the command again (nothing was "
            "changed)",
            why,
        )
    return StoreError(
        f"cannot read the review database {_named(path)}: its {wal.name} file holds "
        f"reviews not yet in {real.name}, and SQLite reads them only with a {real.name}-shm "
        f"file, which cannot be made there ({_why_unwritable(path)}): copy {real.name} and "
        f"{wal.name} together to a folder you can write and point --db (or STUDYCLI_DB) "
        "at the copy"
    )


def _first_read(uri: str, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    try:
        conn.execute("PRAGMA query_only = ON")
        busy.when_readable(conn, timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def unwritable(path: Path, exc: object) -> StoreError:
    """The StoreError for the database at `path` that cannot be written (`exc` says how that
    showed): what stops the writing, and its fix. (Where `path` is a link, what is named is
    the file it points to, its folder and its -wal and -shm files: SQLite writes those.)"""
    real = path.resolve()
    folder, named = real.parent, _named(path)
    elsewhere = "or point --db (or STUDYCLI_DB) at a file in a folder you can write"
    if _on_read_only_filesystem(folder):
        return StoreError(
            f"the review database {named} is on a read-only filesystem ({exc}): the commands "
            "that only read it work there (due, stats, history, export-reviews, doctor "
            "--dry-run); to study or "
            f"change it, copy {real.name} (with {real.name}-wal, if there is one) to a folder "
            "you can write and point --db (or STUDYCLI_DB) at the copy, or mount the "
            "filesystem read-write"
        )
    part = _unwritable_part(path)
    if part == folder:
        return StoreError(
            f"cannot write in {folder}, the folder of the review database {named} ({exc}): "
            f"{_make_writable(folder, 'u+rwx')}, {elsewhere}"
        )
    if part == real:
        return StoreError(
            f"cannot write the review database {named} ({exc}): "
            f"{_make_writable(real, 'u+rw')}, or point --db / STUDYCLI_DB at another file"
        )
    if part is not None:
        return StoreError(
            f"cannot write {part}, which SQLite keeps next to the review database {named} "
            f"({exc}): {_side_file_fix(part)}, {elsewhere}"
        )
    return StoreError(
        f"cannot open the review database {named} ({exc}): check that you can write it and "
        f"its folder {folder} (and the {real.name}-wal and -shm files next to it)"
    )


def _unwritable_part(path: Path) -> Path | None:
    """The first of the folder, the file and its -wal and -shm files that cannot be written
    (None: all can, or do not exist yet). Where `path` is a link, those of the file it points
    to: SQLite writes that file, and keeps its -wal and -shm beside it."""
    real = path.resolve()
    if not os.access(real.parent, os.W_OK | os.X_OK):
        return real.parent
    for part in _files_of(real):
        if part.exists() and not os.access(part, os.R_OK | os.W_OK):
            return part
    return None


def _why_unwritable(path: Path) -> str:
    """Why the database at `path` cannot be written, in a few words."""
    if _on_read_only_filesystem(path.resolve().parent):
        return "a read-only filesystem"
    part = _unwritable_part(path)
    return f"{part or path} cannot be written"


def folder_writable(folder: Path) -> bool:
    """Whether files can be made, moved and written in `folder` (not a read-only medium)."""
    return os.access(folder, os.W_OK | os.X_OK) and not _on_read_only_filesystem(folder)


def _on_read_only_filesystem(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _side_file_fix(part: Path) -> str:
    """How to make the -wal or -shm file `part` writable: chmod where it is this user's (or
    root's to change); where it is another user's, whom it belongs to and who can remove it
    (chmod is refused on another user's file, and in a sticky folder, /tmp or a shared one,
    only its owner or root can remove it). Another user's command that only read the
    database leaves such a file holding none of its reviews (an empty -wal, or a -shm, which
    SQLite makes anew); a -wal with something in it holds reviews, to be given, not removed."""
    try:
        found = part.stat()
    except OSError:
        return _make_writable(part, "u+rw")
    if os.geteuid() in (0, found.st_uid):
        return _make_writable(part, "u+rw")
    owner, you = _user_named(found.st_uid), _user_named(os.geteuid())
    if part.name.endswith("-wal") and found.st_size > 0:
        return (
            f"it belongs to another user, {owner}, and holds reviews not yet in the database: "
            f"have root give it to you (chown {you} '{part}': only root can give a file "
            "away) while no studycli command has the database open"
        )
    theirs = [  # (its sibling too, where it is theirs and holds no reviews)
        side
        for side in _files_of(Path(str(part)[:-4]))[1:]
        if (sides := _stat(side)) is not None
        and sides.st_uid == found.st_uid
        and not (side.name.endswith("-wal") and sides.st_size)
    ]
    removal = " ".join(f"'{side}'" for side in theirs)
    return (
        f"it belongs to another user, {owner} (as a command of theirs that only read the "
        "database leaves one; it holds none of your reviews): have them or root remove it "
        f"(rm {removal}) while no studycli command has the database open"
    )


def _stat(part: Path) -> os.stat_result | None:
    try:
        return part.stat()
    except OSError:
        return None


def _user_named(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _make_writable(target: Path, bits: str) -> str:
    """How to make `target` writable: chmod, or, where its permission bits allow writing and
    the system still refuses (root is refused only so), the immutable flag."""
    try:
        mode = target.stat()
    except OSError:
        return f"make it writable (chmod {bits} '{target}')"
    if os.geteuid() == 0:
        allowed = True
    elif mode.st_uid == os.geteuid():
        allowed = bool(mode.st_mode & stat.S_IWUSR)
    elif mode.st_gid == os.getegid() or mode.st_gid in os.getgroups():
        allowed = bool(mode.st_mode & stat.S_IWGRP)
    else:
        allowed = bool(mode.st_mode & stat.S_IWOTH)
    if not allowed:
        return f"make it writable (chmod {bits} '{target}')"
    listing = "lsattr -d" if target.is_dir() else "lsattr"
    return (
        f"its permissions allow writing but the system refuses: it is probably immutable "
        f"(`{listing} '{target}'` shows an i); clear that (chattr -i '{target}', as root)"
    )
