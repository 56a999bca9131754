"""Opening the review database: waiting while it is busy, one migration when several processes
start at once, a backup before every migration, a check on opening that a writer can write,
reading (read-only) what cannot be written, and errors that say what is really wrong.

Part of the store (SQL lives only here, in `store.py` and in `migrations.py`): `Store.open`
calls `connect`, `Store.__exit__` calls `explain`, and `doctor` uses `backup`, `snapshot`
and `read_log` (how much of a damaged file's review log still reads).

The rule for messages: "busy" or "locked" is never called corrupt, and no message advises
moving a database aside unless `PRAGMA integrity_check` finds it damaged (or cannot read it
at all).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from studycli.errors import StoreBusy, StoreDamaged, StoreError, StoreFull
from studycli.paths import sync_folder
from studycli.records import Record

from . import migrations

BUSY_TIMEOUT = 30.0  # seconds a command waits for another process's write before giving up
WAIT_NOTICE_AFTER = 1.0  # seconds of such a wait before `on_wait` is told
# Called with the database's path once a step has waited `WAIT_NOTICE_AFTER` s for another
# process's lock (an import holds the write lock for as long as it runs): the command line
# says so on stderr, where a command otherwise sat silent for up to `BUSY_TIMEOUT`. None:
# nothing is said (the store itself prints nothing).
on_wait: Callable[[Path], object] | None = None

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_NO_ACCESS = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM)
_T = TypeVar("_T")


def connect(
    path: Path, *, write: bool = True, notes: list[str] | None = None
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

    Raises:
        StoreError: one line saying what is wrong and the fix; the file is never overwritten.
    """
    _refuse_no_file(path)
    if not path.exists():
        refuse_orphaned_side_files(path)
    if not write and not path.exists():  # nothing reviewed yet: nothing to read, none made
        return _empty()
    if not write and (not _can_write(path) or is_backup(path)):
        return connect_read_only(path)
    _make_folder(path.parent)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        raise explain(path, exc) from None
    try:
        with _closed_on_error(conn, path), waits_said(path) as working:
            note = when_free(lambda: _prepare(conn, path, working))
            if note and notes is not None:
                notes.append(note)
            if write:
                _try_a_write(conn, path)
    except _Unreadable:  # an older database, damaged: not upgraded; read as it is, or refused
        if not write:
            return connect_read_only(path)
        raise explain(path, sqlite3.DatabaseError("database disk image is malformed")) from None
    return conn


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
        raise explain(path, exc) from None
    except BaseException:
        conn.close()
        raise


@contextlib.contextmanager
def waits_said(path: Path) -> Iterator[Callable[[], None]]:
    """Around a step that may wait for another process's lock on the database at `path`:
    once it has waited `WAIT_NOTICE_AFTER` s, `on_wait(path)` is called, once, from a timer's
    thread (SQLite waits without holding Python's lock). Yields what to call where the step
    turns to work of its own that takes a while (an upgrade): no notice after that."""
    if on_wait is None:
        yield _nothing
        return
    import threading

    timer = threading.Timer(WAIT_NOTICE_AFTER, on_wait, (path,))
    timer.daemon = True
    timer.start()
    try:
        yield timer.cancel
    finally:
        timer.cancel()
        timer.join()  # gone, not going: a fork soon after (the import's reader) had it running
        # still on a loaded machine, and Python 3.12 warns of a fork with threads running


def _nothing() -> None:
    pass


def when_free(step: Callable[[], _T], timeout: float = BUSY_TIMEOUT) -> _T:
    """`step()`, tried again while SQLite reports the database busy, for up to `timeout` s.

    Most busy waits happen inside SQLite (the connection's busy timeout), but a few steps
    (switching a new database to WAL, as two processes may at the same moment) get "database
    is locked" at once, without waiting: those are retried here.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def is_busy(exc: BaseException) -> bool:
    """The error says another connection holds the database (busy or locked), nothing worse."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY
    text = str(exc)
    return "locked" in text or "busy" in text


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
    kept: list[Path] = []
    with waits_said(path) if upgrade else contextlib.nullcontext(_nothing) as locked:

        def keep_a_copy(name: str) -> None:  # (the write lock held)
            locked()
            if not kept:
                kept.append(backup(path, backup_path(path, name)))

        ran = migrations.migrate(conn, before=keep_a_copy)
    if not kept:
        return None  # a new database, or nothing to do
    _compact(conn)
    return (
        f"upgraded the review database {path} for this studycli ({', '.join(ran)}); the file "
        f"as it was before: {kept[0]}"
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
        if not _can_write(path):
            raise unwritable(path, "no write access") from None
        return
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
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


# --- reading what cannot be written --------------------------------------------------------


def _can_write(path: Path) -> bool:
    """Whether the database at `path`, its folder and its -wal and -shm files (where they
    exist) can be written: what SQLite needs to open it in WAL mode for writing."""
    return _unwritable_part(path) is None


def _files_of(path: Path) -> tuple[Path, Path, Path]:
    """The database file and its -wal and -shm files."""
    return path, Path(f"{path}-wal"), Path(f"{path}-shm")


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
    real = path.resolve()
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


def remove_side_files_of_reading(path: Path) -> None:
    """Have SQLite delete the -wal and -shm files beside the database at `path` where the
    -wal is empty: what a read-only connection (the doctor's, which must not write the file)
    makes on opening and, read-only, leaves on closing. A connection that can write, closed
    as the last one, deletes them, as every other command's does; with the -wal empty, the
    checkpoint it makes first copies nothing, so the database file is not written. Where
    another process has the database open, SQLite sees that and leaves them; where they
    cannot be deleted (a read-only folder), or the database does not open, nothing is done:
    they are only clutter."""
    _, wal, _ = _files_of(path)
    try:
        if wal.stat().st_size > 0:  # (or no -wal: OSError)
            return
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=0)
    except (OSError, sqlite3.Error):
        return
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # (opens the -wal)
    except sqlite3.Error:
        pass
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
    _refuse_no_file(path)  # (the doctor opens a file here first)
    try:
        conn = _open_for_reading(path)
    except sqlite3.Error as exc:
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
# checks, 0003, 0005 and 0007 are indexes, 0004 a trigger, 0006 a table the store reads as
# empty where it is missing): `test_an_older_schema_reads_as_it_is`.
COPY_AT_MOST = 64 << 20


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


def is_backup(path: Path) -> bool:
    """Whether `path` is named as the backups studycli writes (`backup_path`)."""
    return path.name.endswith(".bak") and ".before-" in path.name


def _open_for_reading(path: Path, timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """A read-only connection to the database at `path`, which has read its schema.

    SQLite reads a WAL database read-only when its -shm file exists, or can be made, and
    then reads what the -wal file holds too. On a read-only medium, or in a folder this user
    cannot write, without a -shm file it can only open the file as `immutable`, which ignores
    any -wal file: that is done only when there is no -wal file with something in it;
    otherwise the reviews it holds would be silently left out, and this says so instead.

    Raises:
        sqlite3.Error: as SQLite raised it (busy, cannot open, not a database ...).
        StoreError: a -wal file holds reviews that cannot be read.
    """
    uri = path.resolve().as_uri()
    try:
        with waits_said(path):
            return _first_read(f"{uri}?mode=ro", timeout)
    except sqlite3.OperationalError as exc:
        # no -shm file that can be made: CANTOPEN on a read-only medium, READONLY (its
        # _DIRECTORY or _CANTINIT form) in a folder this user cannot write
        if _code(exc) not in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
            raise
    real = path.resolve()  # (a link's -wal is beside the file it points to)
    _, wal, _ = _files_of(real)
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"cannot read the review database {_named(path)}: its {wal.name} file holds "
            f"reviews not yet in {real.name}, and SQLite reads them only with a {real.name}-shm "
            f"file, which cannot be made there ({_why_unwritable(path)}): copy {real.name} and "
            f"{wal.name} together to a folder you can write and point --db (or STUDYCLI_DB) "
            "at the copy"
        )
    return _first_read(f"{uri}?immutable=1", timeout)  # the file holds everything


def connect_damaged(path: Path) -> sqlite3.Connection:
    """A read-only connection to a damaged database whose schema does not read whole (a file
    cut short by a page: the schema's last page gone, and SQLite refuses every statement),
    with SQLite told to take its schema as it reads (`writable_schema`; the connection is
    read-only: nothing is written): the doctor then reads what it can of the log.

    Raises:
        StoreError: not even so does its log read (StoreDamaged for a damaged file).
    """
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("SELECT id FROM reviews LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        conn.close()
        raise explain(path, exc) from None
    return conn


def _first_read(uri: str, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    try:
        conn.execute("PRAGMA query_only = ON")
        when_free(lambda: conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone(), timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def _code(exc: BaseException) -> int:
    """SQLite's primary result code of `exc` (0 when it carries none)."""
    return _extended(exc) & 0xFF


def _extended(exc: BaseException) -> int:
    """SQLite's extended result code of `exc` (0 when it carries none)."""
    return getattr(exc, "sqlite_errorcode", None) or 0


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


# --- what went wrong -----------------------------------------------------------------------


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
    if code == sqlite3.SQLITE_FULL:
        return _full(path)
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
    if _extended(exc) == sqlite3.SQLITE_IOERR_WRITE and (limit := file_size_limit()) is not None:
        return StoreError(
            f"the review database {path} failed ({exc}): a write failed, and this process "
            f"may write no file larger than {limit:,} bytes (the shell's file-size limit, "
            "`ulimit -f`), past which the database or SQLite's temporary files may have had "
            "to grow. Nothing is damaged: raise the limit (`ulimit -f unlimited`) and run "
            "the command again"
        )
    return StoreError(
        f"the review database {path} failed ({exc}), but its integrity check passes: nothing "
        "is damaged; run the command again (`studycli doctor` checks it in full)"
    )


def _io_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """The error for a database that SQLite cannot read or write at all (an I/O error, even
    for the integrity check): nothing says the file is damaged, so it is never advised to be
    moved aside (a full disk, where the -shm file SQLite makes on opening cannot be, read
    as damaged to every command)."""
    import shutil

    with contextlib.suppress(OSError):
        if shutil.disk_usage(path.parent).free < 1 << 20:
            return _full(path)  # (SQLite cannot make the -shm file it opens a database with)
    return StoreError(
        f"the review database {path} cannot be read ({exc}): its -wal file may have been "
        "removed while a studycli command had it open (end other studycli sessions: each "
        "saves its ratings as it closes the database), or the disk is failing; then run the "
        "command again. Nothing says the file itself is damaged (`studycli doctor` checks it "
        "in full)"
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
    restore = f", or restore a backup ({found[-1].name} next to it)" if found else ""
    return StoreError(
        f"the review database {path} has no {kind} {name}: another program changed what "
        "studycli made, and studycli cannot use it so. Save the review log it still holds "
        f"(`studycli export-reviews --db {quoted} history.csv`), move the file aside ({aside}) "
        f"and import the log into a new one there (`studycli import-reviews --db {quoted} "
        f"history.csv`){restore}"
    )


_LOG_TABLES = ("reviews", "undos")  # what an export reads: the ratings, and which were undone


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
    why = f"another studycli command (or another program) kept it locked for {BUSY_TIMEOUT:g} s"
    return StoreBusy(
        f"the review database {path} is busy: {why}; let that one finish and run the command "
        "again (the database is fine)",
        f"the review database is busy: {why}",
    )


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
            f"({exc}): {_make_writable(part, 'u+rw')}, {elsewhere}"
        )
    return StoreError(
        f"cannot open the review database {named} ({exc}): check that you can write it and "
        f"its folder {folder} (and the {real.name}-wal and -shm files next to it)"
    )


def _named(path: Path) -> str:
    """The database at `path` as a message names it: with the file it points to, if a link."""
    return f"{path} (a link to {path.resolve()})" if path.is_symlink() else str(path)


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


def integrity_problems(path: Path) -> list[str]:
    """What `PRAGMA integrity_check` finds wrong in the database at `path` ([] when intact).

    The file is opened read-only (see `_open_for_reading`). A file SQLite cannot read at all
    ("file is not a database") is a problem too; one it cannot open (no access) or read (an
    I/O error: a full disk, a -wal file removed under an open connection) is not.

    Raises:
        sqlite3.OperationalError: it is busy, or cannot be opened or read.
        StoreError: its -wal file cannot be read.
    """
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


# every column of the log, so that every page of it is read (long states overflow the row)
_LOG_COLUMNS = (
    "id, method, card_id, rating, reviewed_at, duration_ms, check_status, content_hash, queue,"
    " scheduler_id, state_before, state_after"
)


class LogReading(Record):
    """How much of the review log reads from a file whose integrity check fails: `reviews`
    rows read; `complete` when that is every review and `export-reviews` reads every one of
    the schedule's; else `problem` says what stopped it."""

    reviews: int
    complete: bool
    problem: str | None = None


def read_log(conn: sqlite3.Connection, exported: Callable[[], Iterable[object]]) -> LogReading:
    """Read every row of the review log (`reviews` and `undos`) from the tables themselves,
    no index used, then the schedule's reviews through `exported` (the query `export-reviews`
    falls back to where its indexes are damaged): whether a damaged file's history can be
    saved whole by exporting it.

    The log is append-only and its ids (AUTOINCREMENT) run from 1 without a gap, so a review
    lost in a damaged page that SQLite skips without an error still shows as a missing id.
    """
    read = last = 0
    cram: set[int] = set()
    try:
        for row in conn.execute(f"SELECT {_LOG_COLUMNS} FROM reviews NOT INDEXED"):
            read, last = read + 1, max(last, row[0])
            if row[1] == "cram":
                cram.add(row[0])
        undone = {row[0] for row in conn.execute("SELECT * FROM undos NOT INDEXED")}
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise
        return LogReading(read, False, f"{read} reviews read, then: {exc}")
    with contextlib.suppress(sqlite3.DatabaseError):
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'reviews'").fetchone()
        last = max(last, int(row[0]) if row else 0)
    if read != last:
        return LogReading(read, False, f"{read} reviews read, {last - read} missing")
    scheduled = read - len(cram) - len({i for i in undone if i not in cram and i <= last})
    try:
        written = sum(1 for _ in exported())
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise
        return LogReading(read, False, f"{read} reviews read, but an export fails: {exc}")
    if written != scheduled:
        return LogReading(
            read, False, f"{read} reviews read, but an export gives {written} of {scheduled}"
        )
    return LogReading(read, True)


class ReadableLog(Record):
    """What still reads of a damaged file's review log, read around its damaged pages
    (`readable_log`). `scheduled`: the schedule's reviews that read (cram and undone ones left
    out) as (card_id, rating, reviewed_at, duration_ms), in time order; `lost`: the ranges of
    review ids (first, last) that do not read, or read as no review; `undos_whole`: whether
    every undo reads (else some undone ratings may be among `scheduled`)."""

    scheduled: list[tuple[str, int, str, int | None]]
    lost: list[tuple[int, int]]
    undos_whole: bool


def ids_in(ranges: Iterable[tuple[int, int]]) -> int:
    """How many ids the ranges (first, last) span."""
    return sum(last - first + 1 for first, last in ranges)


def readable_log(conn: sqlite3.Connection) -> ReadableLog:
    """Read what still reads of the review log of a damaged file: rows are read by id ranges
    through the table's own B-tree, and a range that fails is halved until the ids that do not
    read are found, so that one damaged page costs the reviews on it, not every review after it
    (a plain scan stops at the first). A row whose values are not a review's (garbage that
    parses) counts as lost. Only the columns an export writes are read: a row whose long state
    lies on a damaged overflow page still reads.

    Raises:
        StoreBusy: another process holds the file.
    """
    last = _last_id(conn, "reviews", "id")
    kept: dict[int, tuple[str, int, str, int | None]] = {}
    cram: set[int] = set()
    columns = "id, method, card_id, rating, reviewed_at, duration_ms"
    for id_, method, card_id, rating, reviewed_at, duration in _read_by_id(
        conn, "reviews", "id", columns, last
    ):
        if _a_review(card_id, rating, reviewed_at, duration):
            kept[id_] = (card_id, rating, reviewed_at, duration)
            if method == "cram":
                cram.add(id_)
    last_undo = _last_id(conn, "undos", "review_id")
    undone = [row[0] for row in _read_by_id(conn, "undos", "review_id", "review_id", last_undo)]
    undos_whole = _undos_read_whole(conn, len(undone))
    lost, start = [], 1
    for id_ in sorted(kept) + [last + 1]:
        if id_ > start:
            lost.append((start, id_ - 1))
        start = id_ + 1
    left_out = cram.union(undone)
    scheduled = sorted(
        (row for id_, row in kept.items() if id_ not in left_out), key=lambda row: row[2]
    )  # (a stable sort of rows in id order: ties stay in the order they were logged)
    return ReadableLog(scheduled, lost, undos_whole)


_PROBE_IDS = 4096  # ids read a query at a time while reading around damaged pages


def _read_by_id(
    conn: sqlite3.Connection, table: str, key: str, columns: str, last: int
) -> Iterator[tuple]:
    """`columns` of the rows of `table` whose rowid (`key`) is 1 to `last`, in rowid order,
    leaving out the ranges that do not read."""
    ranges = [
        (start, min(start + _PROBE_IDS - 1, last)) for start in range(1, last + 1, _PROBE_IDS)
    ]
    ranges.reverse()  # (a stack: popped in order)
    while ranges:
        first, end = ranges.pop()
        try:
            rows = conn.execute(
                f"SELECT {columns} FROM {table} WHERE {key} BETWEEN ? AND ? ORDER BY {key}",
                (first, end),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            if is_busy(exc):
                raise
            if first < end:  # halve it: the half that reads is kept
                middle = (first + end) // 2
                ranges += [(middle + 1, end), (first, middle)]
            continue
        yield from rows


def _last_id(conn: sqlite3.Connection, table: str, key: str) -> int:
    """The largest rowid `table` has had: AUTOINCREMENT's record of it, or the largest that
    reads (0 where neither does)."""
    found = 0
    for query in (
        f"SELECT seq FROM sqlite_sequence WHERE name = '{table}'",
        f"SELECT MAX({key}) FROM {table}",
    ):
        try:
            row = conn.execute(query).fetchone()
        except sqlite3.DatabaseError as exc:
            if is_busy(exc):
                raise
            continue
        if row and isinstance(row[0], int):
            found = max(found, row[0])
    return found


def _undos_read_whole(conn: sqlite3.Connection, read: int) -> bool:
    """Whether the undos read around damaged pages (`read` of them) are all there are."""
    try:
        (count,) = conn.execute("SELECT COUNT(*) FROM undos").fetchone()
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise
        return False
    return count == read


def _a_review(card_id: object, rating: object, reviewed_at: object, duration: object) -> bool:
    """Whether a row read from a damaged page holds a review's values, not garbage."""
    from datetime import datetime

    if not (isinstance(card_id, str) and card_id and card_id.isprintable()):
        return False
    if rating not in (1, 2, 3, 4) or not (duration is None or isinstance(duration, int)):
        return False
    try:
        return datetime.fromisoformat(str(reviewed_at)).tzinfo is not None
    except ValueError:
        return False


# --- backups -------------------------------------------------------------------------------


def backups(path: Path) -> list[Path]:
    """The backups of the database at `path` that lie next to it (`backup_path`'s), the
    latest written last."""
    import glob  # (here: a command that opens the database needs none, ~1 M instructions)

    found = path.parent.glob(f"{glob.escape(path.name)}.before-*.bak")
    return sorted(found, key=lambda backup: (backup.stat().st_mtime_ns, backup.name))


def reviews_held(path: Path, ranges: Iterable[tuple[int, int]]) -> int | None:
    """How many reviews with ids in `ranges` (first, last) the database at `path` (a backup)
    holds; None where it does not open read-only or fails SQLite's quick check."""
    try:
        conn = _open_for_reading(path, timeout=1.0)
    except (sqlite3.Error, StoreError):
        return None
    try:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            return None
        return sum(
            conn.execute(
                "SELECT COUNT(*) FROM reviews WHERE id BETWEEN ? AND ?", (first, last)
            ).fetchone()[0]
            for first, last in ranges
        )
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def backup_path(path: Path, reason: str) -> Path:
    """Where the backup taken before `reason` (a migration's name, or "repair") goes."""
    return path.with_name(f"{path.name}.before-{reason}.bak")


def backup(path: Path, target: Path) -> Path:
    """Copy the committed state of the database at `path` (WAL included) to `target`, one
    self-contained file, written atomically (a crash leaves the old backup or the new one).

    Works while another connection of this process holds a write transaction on `path`: the
    copy is then exactly what that transaction started from.

    Raises:
        StoreError: the backup cannot be written; the database is left as it was.
    """
    temporary = target.with_name(target.name + ".tmp")
    try:
        temporary.unlink(missing_ok=True)
        source = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
        try:
            copy = sqlite3.connect(temporary)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
            finally:
                copy.close()
        finally:
            source.close()
        os.replace(temporary, target)  # (SQLite synced the copy's pages as it committed them)
        sync_folder(target.parent)  # the new name on the disk too, before the change it guards
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise StoreError(
            f"cannot write the backup {target} ({exc}): free some space or make "
            f"{target.parent} writable, then run the command again (the review database "
            f"{path} is unchanged)"
        ) from None
    return target
