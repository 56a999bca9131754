"""Opening the review database: waiting while it is busy, one migration when several processes
start at once, a backup before every migration, and errors that say what is really wrong.

Part of the store (SQL lives only here, in `store.py` and in `migrations.py`): `Store.open`
calls `connect`, `Store.__exit__` calls `explain`, and `doctor` uses `backup`.

The rule for messages: "busy" or "locked" is never called corrupt, and no message advises
moving a database aside unless `PRAGMA integrity_check` finds it damaged (or cannot read it
at all).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from studycli.errors import StoreError

from . import migrations

BUSY_TIMEOUT = 30.0  # seconds a command waits for another process's write before giving up

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_NO_ACCESS = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM)
_T = TypeVar("_T")


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed), switch to WAL and migrate the database at `path`.

    Raises:
        StoreError: one line saying what is wrong and the fix; the file is never overwritten.
    """
    if path.is_dir():
        raise StoreError(f"the review database {path} is a folder: pass a file path to --db")
    _make_folder(path.parent)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        raise explain(path, exc) from None
    try:
        when_free(lambda: _prepare(conn, path))
    except sqlite3.Error as exc:
        conn.close()
        raise explain(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return conn


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


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    _check_identity(conn, path)
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    migrations.migrate(conn, before=lambda name: backup(path, backup_path(path, name)))


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a file that is not ours (or from a newer studycli) before writing anything."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return
    if "migrations" not in tables:
        raise StoreError(
            f"{path} is an SQLite database of another program, not a studycli review "
            "database: point --db (or STUDYCLI_DB) at your review database, or at a new file"
        )
    unknown = [name for name in migrations.applied(conn) if name not in migrations.NAMES]
    if unknown:
        raise StoreError(
            f"{path} was written by a newer studycli (schema {unknown[-1]}): "
            "upgrade studycli (pip install -U studycli) to use it; this version leaves it as it is"
        )


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


# --- what went wrong -----------------------------------------------------------------------


def explain(path: Path, exc: sqlite3.Error) -> StoreError:
    """The StoreError to show for `exc`, raised while opening or using the database at `path`.

    Busy is busy; an unwritable file or folder says so; only a file that `PRAGMA
    integrity_check` finds damaged is called damaged and advised to be moved aside.
    """
    if is_busy(exc):
        return _busy(path)
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in _NO_ACCESS:
        return _unwritable(path, exc)
    if code == sqlite3.SQLITE_FULL:
        return StoreError(
            f"the disk holding the review database {path} is full: free some space and run "
            "the command again (nothing was lost: the last rating that showed is saved)"
        )
    try:
        problems = integrity_problems(path)
    except sqlite3.Error as again:
        if is_busy(again):
            return _busy(path)
        return _unwritable(path, again)
    if problems:
        return StoreError(
            f"{path} is damaged, or not a studycli review database at all (integrity check: "
            f"{problems[0]}): move it aside (mv '{path}' '{path}.damaged') to start a new "
            f"one or to restore a backup ({path.name}.before-*.bak next to it), or point "
            "--db / STUDYCLI_DB at another file"
        )
    return StoreError(
        f"the review database {path} failed ({exc}), but its integrity check passes: nothing "
        "is damaged; run the command again (`studycli doctor` checks it in full)"
    )


def _busy(path: Path) -> StoreError:
    return StoreError(
        f"the review database {path} is busy: another studycli command (or another program) "
        f"kept it locked for {BUSY_TIMEOUT:g} s; let that one finish and run the command again "
        "(the database is fine)"
    )


def _unwritable(path: Path, exc: sqlite3.Error) -> StoreError:
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return StoreError(
            f"cannot write in {folder}, the folder of the review database {path} ({exc}): "
            f"make it writable (chmod u+rwx '{folder}'), or point --db / STUDYCLI_DB at a "
            "file in a folder you can write"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return StoreError(
            f"cannot write the review database {path} ({exc}): make it writable "
            f"(chmod u+rw '{path}'), or point --db / STUDYCLI_DB at another file"
        )
    return StoreError(
        f"cannot open the review database {path} ({exc}): check that you can write it and "
        f"its folder {folder} (and the {path.name}-wal and -shm files next to it)"
    )


def integrity_problems(path: Path) -> list[str]:
    """What `PRAGMA integrity_check` finds wrong in the database at `path` ([] when intact).

    The file is opened read-only. A file SQLite cannot read at all ("file is not a
    database") is a problem too. Raises sqlite3.OperationalError when it is busy.
    """
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        if is_busy(exc):
            raise
        return [str(exc)]
    try:
        return check_integrity(conn)
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
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


# --- backups -------------------------------------------------------------------------------


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
        os.replace(temporary, target)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise StoreError(
            f"cannot write the backup {target} ({exc}): free some space or make "
            f"{target.parent} writable, then run the command again (the review database "
            f"{path} is unchanged)"
        ) from None
    return target
