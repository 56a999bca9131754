"""Backups of the review database: where one goes (`backup_path`, a name `is_backup`
recognises), writing one (`backup`: the committed state, one file, written atomically), the
ones next to a database (`backups`, the latest last), and how many of some reviews one holds
(`reviews_held`).

Part of the store (see `database.py`): `database.connect` writes one before it upgrades a
database (`migrations.py`), the doctor one before a repair; `sqlite_errors.py`,
`store_connection.py` and the doctor name the latest as the one to restore.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from studycli.errors import StoreError, StoreFull
from studycli.paths import sync_folder

from . import busy  # busy.BUSY_TIMEOUT read there: tests shorten it
from .read_only import _open_for_reading


def is_backup(path: Path) -> bool:
    """Whether `path` is named as the backups studycli writes (`backup_path`)."""
    return path.name.endswith(".bak") and ".before-" in path.name


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
        source = sqlite3.connect(path, timeout=busy.BUSY_TIMEOUT)
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
        # (the copy is a WAL database until its journal mode is set: with no room for that,
        # SQLite left its -wal and -shm files beside the database, a 20 KB -shm on a full disk)
        for part in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                temporary.with_name(temporary.name + part).unlink(missing_ok=True)
        from .sqlite_errors import no_room  # (the one place that says "no room")

        unchanged = f"(the review database {path} is unchanged)"
        if (full := no_room(target, exc)) is not None:  # (a reading command reads on)
            raise StoreFull(
                f"cannot write the backup {target} ({exc}): {full.why}; {full.fix} {unchanged}",
                full.why,
                full.room,
            ) from None
        raise StoreError(
            f"cannot write the backup {target} ({exc}): free some space or make "
            f"{target.parent} writable, then run the command again {unchanged}"
        ) from None
    return target
