"""SQLite's errors said as what is wrong and the fix: `explain` makes the StoreError to show
for one, and SQLite's integrity check (`integrity_problems`, `check_integrity`) decides
whether a file is called damaged.

The rule for messages: "busy" or "locked" is never called corrupt, and no message advises
moving a database aside unless `PRAGMA integrity_check` finds it damaged (or cannot read it
at all).

Part of the store (see `database.py`): opening (`database.connect`) and using it (`Store`'s
transactions, `Store.__exit__`) raise `explain`'s errors, and `Store.integrity_problems` runs
`check_integrity`; the messages name a backup to restore (`backups.py`) and move a database
aside with its side files (`side_files.aside_commands`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from studycli.errors import StoreBusy, StoreDamaged, StoreError, StoreFull

from . import busy  # busy.BUSY_TIMEOUT read there: tests shorten it
from .backups import backups
from .busy import _code, _extended, is_busy
from .read_only import _open_for_reading, unwritable
from .side_files import aside_commands, left_as_found

_NO_ACCESS = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM)


def explain(path: Path, exc: sqlite3.Error) -> StoreError:
    """The StoreError to show for `exc`, raised while opening or using the database at `path`.

    Busy is busy; an unwritable file or folder says so; only a file that `PRAGMA
    integrity_check` finds damaged is called damaged and advised to be moved aside.
    """
    if is_busy(exc):
        return _busy(path)
    code = _code(exc)
    if code in _NO_ACCESS:
        return unwritable(path, exc)
    if (room := no_room(path, exc)) is not None:
        return room
    if _extended(exc) == sqlite3.SQLITE_IOERR_SHMSIZE:  # (no room for the -shm file: the
        # integrity check reads the file without one, `immutable`, and finds nothing wrong)
        return _io_error(path, exc)
    try:
        problems = integrity_problems(path)
    except StoreError as unreadable:
        return unreadable
    except sqlite3.Error as again:
        if is_busy(again):
            return _busy(path)
        if _code(again) == sqlite3.SQLITE_IOERR:
            return _io_error(path, again)
        return unwritable(path, again)
    if problems:
        found = backups(path)
        restore = f" or to restore a backup ({found[-1].name} next to it)" if found else ""
        if not is_sqlite(path):
            return StoreDamaged(
                f"{path} is not an SQLite database (it does not start as one does): point --db "
                "/ STUDYCLI_DB at your review database; if this file was it, its reviews are "
                f"lost: move it aside (mv '{path}' '{path}.damaged') to start a new one{restore}",
                [NOT_SQLITE],
            )
        return StoreDamaged(
            f"{path} is damaged, or not a studycli review database at all (integrity check: "
            f"{problems[0]}): first run `studycli doctor`, which says whether your review "
            f"history can be saved from it; then move it aside (mv '{path}' '{path}.damaged') "
            f"to start a new one{restore}, or point --db / STUDYCLI_DB at another file",
            problems,
        )
    import re  # (only when something failed)

    # SQLite's words for a schema that lacks what studycli made (another program changed it)
    if (missing := re.match(r"no such (table|column): (\S+)", str(exc))) is not None:
        return _lacks(path, missing.group(1), missing.group(2))
    return StoreError(
        f"the review database {path} failed ({exc}), but its integrity check passes: nothing "
        "is damaged; run the command again (`studycli doctor` checks it in full)"
    )


def _io_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """The error for a database that SQLite cannot read or write at all (an I/O error, even
    for the integrity check): nothing says the file is damaged, so it is never advised to be
    moved aside (a full disk, where the -shm file SQLite makes on opening cannot be, read
    as damaged to every command)."""
    if _disk_full(path):
        return _full(path)  # (SQLite cannot make the -shm file it opens a database with)
    return StoreError(
        f"the review database {path} cannot be read ({exc}): its -wal file may have been "
        "removed while a studycli command had it open (end other studycli sessions: each "
        "saves its ratings as it closes the database), or the disk is failing; then run the "
        "command again. Nothing says the file itself is damaged (`studycli doctor` checks it "
        "in full)"
    )


_NO_ROOM = (sqlite3.SQLITE_IOERR_WRITE, sqlite3.SQLITE_IOERR_SHMSIZE)


def no_room(path: Path, exc: sqlite3.Error | OSError) -> StoreFull | None:
    """The StoreFull for `exc` where it means there was no room to write (None where not): the
    disk holding `path` is full, or the file-size limit (`ulimit -f`) stopped a file growing.
    The one place that says so, for SQLite's errors and for a file written by hand (a
    backup's: `backups.backup`).

    SQLite says SQLITE_FULL for a write cut short (ENOSPC, or a file-size limit reached in
    it), and SQLITE_IOERR_WRITE for one refused whole (EFBIG: it began past the limit; Python
    ignores SIGXFSZ); SQLITE_IOERR_SHMSIZE where the -shm file cannot grow (a -wal past 4,096
    frames needs its second region). Which it was is read from the disk's free space and the
    limit: SQLite's own error does not say (Python reads no `sqlite3_system_errno`). An
    OSError says which: ENOSPC or EDQUOT a full disk (or quota), EFBIG the limit."""
    if isinstance(exc, OSError):
        return _no_room_for_file(path, exc)
    if _code(exc) != sqlite3.SQLITE_FULL and _extended(exc) not in _NO_ROOM:
        return None
    if _disk_full(path):
        return _full(path)
    if (limit := file_size_limit()) is not None:
        return _size_limited(path, exc, limit)
    return _full(path) if _code(exc) == sqlite3.SQLITE_FULL else None  # (else: a failing disk)


def _no_room_for_file(path: Path, exc: OSError) -> StoreFull | None:
    """`no_room` of an OSError: EFBIG past `ulimit -f` (one past the filesystem's largest
    file, with no limit set, is no want of room: None), ENOSPC or EDQUOT a full disk."""
    import errno

    if exc.errno == errno.EFBIG:
        limit = file_size_limit()
        return None if limit is None else _size_limited(path, exc, limit)
    return _full(path) if exc.errno in (errno.ENOSPC, errno.EDQUOT) else None


def _disk_full(path: Path) -> bool:
    """Whether the disk holding `path` has less than 1 MiB left for this user."""
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < 1 << 20
    except OSError:
        return False


def _size_limited(path: Path, exc: sqlite3.Error | OSError, limit: int) -> StoreFull:
    why = f"the file-size limit (`ulimit -f`) of {limit:,} bytes stopped a file growing"
    room = "raise the limit (`ulimit -f unlimited`)"
    return StoreFull(
        f"the review database {path} failed ({exc}): a write failed, and this process "
        f"may write no file larger than {limit:,} bytes (the shell's file-size limit, "
        "`ulimit -f`), past which the database or SQLite's temporary files may have had "
        f"to grow. Nothing is damaged: {room} and run the command again (what was saved "
        "before is kept; what this command was saving was not saved)",
        why,
        room,
    )


def _full(path: Path) -> StoreFull:
    why = f"the disk holding {path} is full"
    return StoreFull(
        f"{why}: free some space and run the command again (what was saved before is "
        "kept; what this command was saving was not saved)",
        why,
    )


def file_size_limit() -> int | None:
    """The largest file this process may write, in bytes (`ulimit -f`); None without one.
    (Python ignores the signal the system sends past it: the write fails, and SQLite says
    "disk I/O error".)"""
    try:
        import resource
    except ImportError:  # (not on Windows)
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft


def _lacks(path: Path, kind: str, name: str) -> StoreError:
    """The error for a database whose schema lost a table or a column: running again never
    helps (the advice was to), and the doctor opens it the same way."""
    import shlex  # (an error's path: not at every command's start)

    found = backups(path)
    quoted = shlex.quote(str(path))
    aside = "; ".join(aside_commands(path, path.with_name(f"{path.name}.damaged")))
    if kind == "table" and name in _LOG_TABLES:  # no export reads the log without it
        restore = (
            f"restore a backup ({found[-1].name} next to it)"
            if found
            else "restore a backup of it if you keep one"
        )
        return StoreError(
            f"the review database {path} has no table {name}, a part of its review log: "
            f"another program changed what studycli made. Move the file aside ({aside}) and "
            f"{restore}; without a backup, studycli starts a new log there"
        )
    if kind == "table" and name.removeprefix("main.") == "review_outcomes":
        return StoreError(
            f"the review database {path} has no table review_outcomes (the counts of reviews "
            "passed that `stats` keeps): another program changed what studycli made. The log "
            f"is whole: `studycli doctor --db {quoted}` makes the table again from it"
        )
    restore = f", or restore a backup ({found[-1].name} next to it)" if found else ""
    return StoreError(
        f"the review database {path} has no {kind} {name}: another program changed what "
        "studycli made, and studycli cannot use it so. Save the review log it still holds "
        f"(`studycli export-reviews --db {quoted} history.csv`), move the file aside ({aside}) "
        f"and import the log into a new one there (`studycli import-reviews --db {quoted} "
        f"history.csv`){restore}"
    )


_LOG_TABLES = ("reviews", "undos")  # what an export reads: the ratings, and which were undone


NOT_SQLITE = "not an SQLite database: the file does not start with SQLite's header"


def is_sqlite(path: Path) -> bool:
    """Whether the file at `path` starts as an SQLite database does (an empty one counts: SQLite
    makes a database of it)."""
    try:
        with path.open("rb") as handle:
            start = handle.read(16)
    except OSError:
        return True  # unreadable: not for this to say
    return not start or start == b"SQLite format 3\x00"


def _busy(path: Path) -> StoreBusy:
    from .lock_holders import who_holds  # (an error's path)

    why = f"{who_holds(path)} kept it locked for {busy.BUSY_TIMEOUT:g} s"
    return StoreBusy(
        f"the review database {path} is busy: {why}; let that one finish and run the command "
        "again (the database is fine)",
        f"the review database is busy: {why}",
    )


def integrity_problems(path: Path) -> list[str]:
    """What `PRAGMA integrity_check` finds wrong in the database at `path` ([] when intact).

    The file is opened read-only (see `_open_for_reading`). A file SQLite cannot read at all
    ("file is not a database") is a problem too; one it cannot open (no access) or read (an
    I/O error: a full disk, a -wal file removed under an open connection) is not.

    Raises:
        sqlite3.OperationalError: it is busy, or cannot be opened or read.
        StoreError: its -wal file cannot be read.
    """
    # (the -wal and -shm files its read-only connection makes, removed where there were none:
    # a reading command that met a damaged database left them, made after its own were removed)
    with left_as_found(path):
        return _integrity_problems(path)


def _integrity_problems(path: Path) -> list[str]:
    try:
        conn = _open_for_reading(path, timeout=5)
    except sqlite3.Error as exc:
        if is_busy(exc) or _code(exc) in (*_NO_ACCESS, sqlite3.SQLITE_IOERR):
            raise
        return [str(exc)]
    try:
        return check_integrity(conn)
    except sqlite3.DatabaseError as exc:
        if is_busy(exc) or _code(exc) == sqlite3.SQLITE_IOERR:
            raise
        return [str(exc)]
    finally:
        conn.close()


def check_integrity(conn: sqlite3.Connection) -> list[str]:
    """`PRAGMA integrity_check` and `foreign_key_check` on an open connection: what they
    find wrong, [] when the file is intact."""
    found = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    problems = [] if found == ["ok"] else found
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} refers to a missing row of {parent}")
    return problems
