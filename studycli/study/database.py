"""Opening the review database: creating it, switching it to WAL and migrating it (one
migration when several processes start at once, a backup before it), a check on opening that
a writer can write, and reading read-only what cannot be written or must not be (a backup, a
dry run; a database of an older studycli through an upgraded copy in memory).

`Store.open` calls `connect` and `Store.snapshot` uses `snapshot`; the doctor opens with
`connect_read_only`. SQL lives only in the store: `store.py` and its parts (`store_*.py`: the
log and the card states), `migrations.py` (the schema), this module and those it builds on:

- `busy.py`: waiting while another process holds the database;
- `side_files.py`: the -wal and -shm files beside it; orphaned ones refused;
- `read_only.py`: what stops a write, and opening read-only;
- `backups.py`: the copies taken before an upgrade or a repair;
- `sqlite_errors.py`: SQLite's errors as messages (`explain`), and the integrity check;
- `damaged_log.py`: what a damaged file's review log still holds (for the doctor).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from studycli.errors import StoreError, StoreFull, WaitInterrupted

from . import busy, migrations  # busy.BUSY_TIMEOUT read there: tests shorten it
from .busy import _extended, _nothing, is_busy, waits_said, when_free

# backups.py, read_only.py, side_files.py and sqlite_errors.py are imported where they are
# used: opening a database that can be written, as a review session does, needs none of them
# (they cost its first card 1.9 M instructions), only a first database, an upgrade, a reading
# command, or an error does.


def connect(
    path: Path, *, write: bool = True, notes: list[str] | None = None, as_is: bool = False
) -> sqlite3.Connection:
    """Open (creating if needed), switch to WAL and migrate the database at `path`.

    Args:
        write: the caller will write. The database is then checked to take a write before
            this returns (a review session finds out before its first card, not at its
            first rating, that its ratings could not be saved). False for a command that
            only reads: where there is no database yet, an empty one in memory is read (none
            is made); where the database, its folder or its -wal and -shm files cannot be
            written (a backup on a read-only medium, an immutable file), or the file is one
            of the backups studycli writes, it is opened read-only instead, neither created
            nor changed (see `connect_read_only`).
        notes: where to append a line for the learner when the database was upgraded (a
            migration ran on it: which, and where the copy from before it is).
        as_is: a dry run (with `write` False): the database is read as it is, read-only
            even where it can be written, so that nothing reaches the file: no migration, no
            backup, no switch to WAL (`connect_read_only`, as the doctor's dry run reads it).

    Raises:
        StoreError: one line saying what is wrong and the fix; the file is never overwritten.
    """
    _refuse_no_file(path)
    if not path.exists():
        from .side_files import refuse_orphaned_side_files

        refuse_orphaned_side_files(path)
    if not write and not path.exists():  # nothing reviewed yet: nothing to read, none made
        return _empty()
    if not write:
        from .backups import is_backup
        from .read_only import _can_write

        if as_is or not _can_write(path) or is_backup(path):
            return connect_read_only(path)
    _make_folder(path.parent)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=busy.BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        from .sqlite_errors import explain

        raise explain(path, exc) from None
    try:
        with _closed_on_error(conn, path), waits_said(path) as working:
            _wait_readable(conn, write)
            note = when_free(lambda: _prepare(conn, path, working))
            if note and notes is not None:
                notes.append(note)
            if write:
                _try_a_write(conn, path)
    except _NoRoomToRead:  # a full disk: read as it is, as where it cannot be written
        return connect_read_only(path)
    except StoreFull:  # no room to upgrade it (its backup, or the upgrade itself)
        if write:
            raise
        return connect_read_only(path)  # through an upgraded copy in memory, as read-only
    except _Unreadable:  # an older database, damaged: not upgraded; read as it is, or refused
        if not write:
            return connect_read_only(path)
        from .sqlite_errors import explain

        raise explain(path, sqlite3.DatabaseError("database disk image is malformed")) from None
    return conn


def _wait_readable(conn: sqlite3.Connection, write: bool = True) -> None:
    """Wait while another process keeps the database from being read, in waits a Ctrl-C ends
    (`busy.when_readable`; `_prepare`'s own reads wait in SQLite, where it was not seen for up
    to 30 s). What else is wrong is left for `_prepare` to meet and say, as before.

    Raises:
        WaitInterrupted: a Ctrl-C as it waited (nothing read, nothing written), as a write's
            wait says it (`Store.transaction`): `solve`, whose rating opens the database,
            says the rating was not recorded, where a plain Ctrl-C there said "interrupted".
        _NoRoomToRead: a command that only reads (not `write`), on a full disk.
    """
    try:
        busy.when_readable(conn)
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise
        if not write and _extended(exc) == sqlite3.SQLITE_IOERR_SHMSIZE:
            raise _NoRoomToRead from None
    except KeyboardInterrupt:
        raise WaitInterrupted from None


def _refuse_no_file(path: Path) -> None:
    """Refuse a database path that is there but is no regular file, a link followed: SQLite
    read a named pipe for ever (`--db <(...)` gives one), told after a second as another
    command "using it", and took /dev/null for an empty database it failed to write, told as
    "run the command again" (and made /dev/null-journal, as root).

    Raises:
        StoreError: naming what it is, with the fix.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # none yet, or a link to nothing: opening it says what is wrong
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise StoreError(f"the review database {path} is a folder: pass a file path to --db")
    if stat.S_ISFIFO(mode):
        kind = "a named pipe"
    else:
        kind = "a socket" if stat.S_ISSOCK(mode) else "a device"
    target = f" ({os.path.realpath(path)})" if path.is_symlink() else ""
    raise StoreError(
        f"the review database {path} is {kind}{target}, not a file: SQLite keeps a database in "
        "a regular file; point --db (or STUDYCLI_DB) at one (a new path makes a new database)"
    )


def _empty() -> sqlite3.Connection:
    """An empty review database in memory: what a command that only reads sees where no
    database is yet (`due`, `stats` before the first review made one, and the folders for
    it, wherever --db pointed). (Not query-only: a read may stage ids in a temporary table.)"""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn)
    return conn


@contextlib.contextmanager
def _closed_on_error(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """Close `conn` when the block raises; an SQLite error comes out as `explain`'s."""
    try:
        yield
    except sqlite3.Error as exc:
        conn.close()
        from .sqlite_errors import explain

        raise explain(path, exc) from None
    except BaseException:
        conn.close()
        raise


def _prepare(
    conn: sqlite3.Connection, path: Path, working: Callable[[], None] = _nothing
) -> str | None:
    """Check, set up and migrate the database; a line for the learner when it was upgraded.

    An upgrade keeps one copy of the database as it was, taken before its first migration
    (one per migration was three full copies for an upgrade across three). An upgrade's
    check, copy and migrations take a while on a large database (a million reviews: 8 s):
    `working` is called before them (they are not a wait for another command, see
    `waits_said`), and a notice of its own covers the wait for the write lock alone."""
    upgrade = _check_identity(conn, path) and _pending(conn)
    if upgrade:
        working()
        if not _intact(conn):
            raise _Unreadable  # never upgraded, nor copied as a backup: see `connect`
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # A REPLACE (`REPLACE INTO reviews`, `INSERT OR REPLACE`, `UPDATE OR REPLACE`) deletes the
    # row it replaces without firing its delete trigger unless this is on: the log's append-only
    # guard let a review be overwritten so. No trigger of the store does more than refuse, so
    # nothing else changes (an import of 100,000 reviews took the same time, see the commit).
    conn.execute("PRAGMA recursive_triggers = ON")
    kept: list[Path] = []
    with waits_said(path) if upgrade else contextlib.nullcontext(_nothing) as locked:

        def keep_a_copy(name: str) -> None:  # (the write lock held)
            from .backups import backup, backup_path

            locked()
            if not kept:
                kept.append(backup(path, backup_path(path, name)))

        try:
            ran = migrations.migrate(conn, before=keep_a_copy)
        except sqlite3.Error as exc:
            if upgrade and (full := _no_room_to_upgrade(path, exc)) is not None:
                # (its backup, a copy of the database as it still is, took the room the
                # upgrade wants, and the next try's backup needs room for a second copy)
                for copy in kept:
                    with contextlib.suppress(OSError):
                        copy.unlink()
                raise full from None
            raise
    if not kept:
        return None  # a new database, or nothing to do
    _compact(conn)
    return (
        f"upgraded the review database {path} for this studycli ({', '.join(ran)}); the file "
        f"as it was before: {kept[0]}"
    )


def _no_room_to_upgrade(path: Path, exc: sqlite3.Error) -> StoreFull | None:
    """The StoreFull for an upgrade that `exc` stopped for want of room (None: another
    error). A command that only reads then reads the database through an upgraded copy in
    memory (`connect`); one that writes says the upgrade needs room, where it said "what this
    command was saving was not saved" (the upgrade is rolled back whole: nothing changed)."""
    from .sqlite_errors import no_room

    if (full := no_room(path, exc)) is None:
        return None
    return StoreFull(
        f"cannot upgrade the review database {path} for this studycli: {full.why}; "
        f"{full.room} and run the command again (the database is unchanged; the commands "
        "that only read it, such as `due` and `stats`, read it meanwhile)",
        full.why,
        full.room,
    )


def _intact(conn: sqlite3.Connection) -> bool:
    """SQLite's quick check, before an upgrade: a damaged file upgraded in place spread its
    damage (0005 reads every card's state), and its backup, a copy of the damage, was then
    named as the one to restore."""
    try:
        return conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError as exc:  # (a page it cannot read at all)
        if is_busy(exc):
            raise
        return False


def _compact(conn: sqlite3.Connection) -> None:
    """After an upgrade that left most of the file free (0002 copies the review log into a
    new table: a database of 615 MB grew to 1.16 GB), give the free pages back (VACUUM, once;
    it takes the write lock, as the upgrade did)."""
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    if free * 4 > conn.execute("PRAGMA page_count").fetchone()[0]:
        conn.execute("VACUUM")


def _try_a_write(conn: sqlite3.Connection, path: Path) -> None:
    """Write a row as it is, and roll back: SQLITE_READONLY now, rather than at the first
    rating, when SQLite opened the file read-only (an immutable file, a read-only medium).
    (BEGIN IMMEDIATE alone succeeds there: only a write finds out.) Some microseconds; nothing
    reaches the file. While another process writes, the access check answers instead: a
    session does not wait at its start for another's import."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        from .read_only import _can_write, unwritable

        if not _can_write(path):
            raise unwritable(path, "no write access") from None
        return
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy.BUSY_TIMEOUT * 1000)}")
    try:
        conn.execute(
            "UPDATE migrations SET name = name WHERE rowid = (SELECT max(rowid) FROM migrations)"
        )
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _check_identity(conn: sqlite3.Connection, path: Path) -> set[str]:
    """Refuse a file that is not ours (or from a newer studycli) before writing anything; its
    tables."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return tables
    if "migrations" not in tables:
        raise StoreError(
            f"{path} is an SQLite database of another program, not a studycli review "
            "database: point --db (or STUDYCLI_DB) at your review database, or at a new file"
        )
    unknown = [name for name in migrations.applied(conn) if name not in migrations.NAMES]
    if unknown:
        from .backups import backups

        found = [backup for backup in backups(path) if not _newer(backup)]
        before = (
            f"; or open {found[-1].name} next to it, its copy from before that" if found else ""
        )
        raise StoreError(
            f"{path} was upgraded by a newer studycli (schema {', '.join(unknown)}), which this "
            "one cannot read: update studycli (`git pull` and `pip install -e .` in your "
            f"clone, or pip install -U studycli){before}; or move your history with "
            "`export-reviews` there and `import-reviews` here. This version leaves it as it is"
        )
    return tables


def _newer(path: Path) -> bool:
    """Whether the database at `path` (a backup) holds a migration this studycli does not
    know, or does not read at all."""
    from .read_only import _open_for_reading

    try:
        conn = _open_for_reading(path, timeout=1.0)
    except (sqlite3.Error, StoreError):
        return True
    try:
        return any(name not in migrations.NAMES for name in migrations.applied(conn))
    except sqlite3.Error:
        return True
    finally:
        conn.close()


def connect_read_only(path: Path) -> sqlite3.Connection:
    """The database at `path`, read-only (see `_open_for_reading`): for a command that only
    reads a database it cannot write, or must not (a backup, a dry run). One made by an older
    studycli is read through an upgraded copy in memory (a damaged one, or one larger than
    `COPY_AT_MOST`, as it is): the file stays as it is.

    Raises:
        StoreError: the file cannot be read or is not ours.
    """
    from .read_only import _open_for_reading

    _refuse_no_file(path)  # (the doctor opens a file here first)
    try:
        conn = _open_for_reading(path)
    except sqlite3.Error as exc:
        from .sqlite_errors import explain

        raise explain(path, exc) from None
    with _closed_on_error(conn, path):
        tables = when_free(lambda: _check_identity(conn, path))
        if tables and _pending(conn) and path.stat().st_size <= COPY_AT_MOST:
            with contextlib.suppress(_Unreadable):
                return _upgraded_copy(conn)
    return conn


# Above this size an older database is read as it is, not through an upgraded copy in memory
# (a copy of 400 MB took 1.5 s and 445 MB of memory, every command). Every migration so far
# leaves what the reading commands read readable on the schema before it (0002 widened two
# checks, 0003, 0005 and 0007 are indexes, 0004 and 0010 triggers, 0006 a table the store
# reads as empty where it is missing, 0012 one it counts from the log where it is missing):
# `test_an_older_schema_reads_as_it_is`.
COPY_AT_MOST = 64 << 20


class _NoRoomToRead(Exception):
    """SQLite cannot grow the -shm file it reads a WAL database through (a full disk: SQLITE_
    IOERR_SHMSIZE): every command failed there, those that only read too ("what this command
    was saving was not saved"). A command that only reads then reads the file as it is, as
    one that cannot be written (`read_only._open_for_reading`)."""


class _Unreadable(Exception):
    """An older database that is damaged (SQLite's quick check fails, or its copy in memory
    could not be upgraded): it is read as it is, never upgraded."""


def _pending(conn: sqlite3.Connection) -> bool:
    """Whether the database (ours) lacks a migration of this version."""
    applied = migrations.applied(conn)
    return any(name not in applied for name in migrations.NAMES)


def _upgraded_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    """An upgraded copy in memory of the database `conn` reads (which is closed then).

    Raises:
        _Unreadable: it is damaged where an upgrade reads (0005 reads every card's state):
            it is then read as it is, as far as it reads (the doctor saves its log so).
    """
    copy = sqlite3.connect(":memory:", isolation_level=None)
    try:
        when_free(lambda: conn.backup(copy))
        migrations.migrate(copy)
    except sqlite3.DatabaseError as exc:
        copy.close()
        if is_busy(exc):
            raise
        raise _Unreadable from None
    conn.close()
    return copy


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {folder} for the review database "
            f"({_why_not_folder(folder, exc)}): make it writable, or point --db (or "
            "STUDYCLI_DB, or STUDYCLI_HOME) at a place you can write"
        ) from None


def _why_not_folder(folder: Path, exc: OSError) -> str:
    for ancestor in (folder, *folder.parents):
        if ancestor.exists():
            return f"{ancestor} is a file" if not ancestor.is_dir() else str(exc.strerror or exc)
    return str(exc.strerror or exc)


@contextlib.contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: what is read inside it comes from one state of the database,
    whatever other processes commit meanwhile. Takes no lock that stops a writer, and works
    on a read-only connection (where `Store.transaction` cannot)."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
