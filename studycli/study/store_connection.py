"""The open connection every part of `Store` works through (`StoreConnection`, their base):
its write transactions (refused once the file was replaced under it: `refuse_replaced`), read
snapshots, the integrity checks, which optional tables the schema has, the temporary table of
a selection of cards that queries join (`_among`, `_selected_from`), and a copy in memory of a
database opened read-only (`read_a_copy`).

database.py opens the connection (`Store.open`, in store.py, calls it) and migrations.py makes
the schema; the parts (store_*.py) add what `Store` does with them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from studycli.errors import StoreError, WaitInterrupted

from . import busy, database  # (backups and sqlite_errors where used: see database.py)
from .store_sql import _LOG_FROM, _UNDONE_JOIN


def file_id(path: Path) -> tuple[int, int] | None:
    """The device and inode of the file at `path` (None where there is none, or it is empty: a
    database emptied in place, `open(path, 'w')`, is no longer the one opened)."""
    try:
        found = path.stat()
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino) if found.st_size else None


def refuse_replaced(path: Path, opened: tuple[int, int] | None) -> None:
    """Raise StoreError where the database file at `path` is no longer `opened` (`file_id` of
    the file when it was opened; None: not checked)."""
    if opened is not None and file_id(path) != opened:
        raise replaced_error(path)


def replaced_error(path: Path) -> StoreError:
    """A database file removed or replaced under an open connection, which went on writing
    into the unlinked file and lost it at its close (an attempt that deleted it: a hostile-
    attempt pass saw `solve` record into the copy it no longer had)."""
    from .backups import backups

    found = backups(path) if path.parent.is_dir() else []
    restore = f" (the latest backup next to it: {found[-1].name})" if found else ""
    return StoreError(
        f"{path} was removed or replaced while studycli had it open (by code a check ran, or "
        "another program): nothing more is written to it. Restore it from a backup"
        f"{restore} or from an export (`studycli import-reviews FILE`), then study again"
    )


class StoreConnection:
    """The connection of an open `Store` (made by `Store.open`, store.py), and what every
    part of the store uses of it."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.notes: list[str] = []  # for the learner: an upgrade on opening (`open`)
        self._selected: frozenset[str] | None = None  # what the temporary table holds
        self._tables: dict[str, bool] = {}  # optional tables the schema has (`_has_table`)
        self._file = file_id(path)  # the file opened (see `transaction`)
        self.copied = False  # read through a copy in memory since it opened (`read_a_copy`)
        # whether to remove on closing the -wal and -shm files that a read-only connection
        # makes beside the file and leaves there (there were none: `Store.open`)
        self.tidy = False

    @property
    def opened_file(self) -> tuple[int, int] | None:
        """The device and inode of the file opened (see `file_id`)."""
        return self._file

    def close(self) -> None:
        self.conn.close()
        if self.tidy:
            from .side_files import remove_side_files_of_reading

            remove_side_files_of_reading(self.path)

    def refuse_if_damaged(self) -> None:
        """Raise StoreDamaged (see `sqlite_errors.explain`) where `PRAGMA quick_check` finds the
        file damaged (0.7 s for a million reviews). SQLite meets damage only where it reads: an
        import of a backup into a damaged log found its lost reviews "already in your log" (in
        an index whose table pages were gone), restored none, and said nothing was wrong."""
        from . import sqlite_errors

        try:
            found = [str(row[0]) for row in self.conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            raise sqlite_errors.explain(self.path, exc) from None
        if found != ["ok"]:
            raise sqlite_errors.explain(self.path, sqlite3.DatabaseError(found[0]))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed on exit (rolled back on an exception).

        It takes the write lock at once (waiting while another process holds it), so what is
        read inside it is still true when it commits. Nested use joins the outer one.

        Raises:
            StoreBusy: another process kept the lock past the wait (nothing was written).
            StoreFull: the disk had no room for what it wrote, or the file-size limit
                stopped it (nothing was written): the same step works once there is room,
                as one the lock stopped does.
            WaitInterrupted: a Ctrl-C while it waited (nothing was written).
        """
        if self.conn.in_transaction:
            yield self.conn
            return
        refuse_replaced(self.path, self._file)
        try:
            with busy.waits_said(self.path):
                busy.begin_write(self.conn)
        except sqlite3.OperationalError as exc:
            if busy.is_busy(exc):
                from . import sqlite_errors

                raise sqlite_errors.explain(self.path, exc) from None
            raise
        except KeyboardInterrupt:  # a Ctrl-C as it waited: nothing written
            if self.conn.in_transaction:  # (begun, the Ctrl-C seen just after)
                self.conn.execute("ROLLBACK")
            raise WaitInterrupted from None
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                # SQLite's own error escaped to a session, which keeps the card for a
                # StoreFull only: a real full disk ended `review` (`sqlite_errors.no_room`:
                # a -shm file that cannot grow, a file-size limit, too)
                from . import sqlite_errors

                if (room := sqlite_errors.no_room(self.path, exc)) is not None:
                    raise room from None
            raise

    def integrity_problems(self) -> list[str]:
        """What `PRAGMA integrity_check` finds wrong ([] when the file is intact); a check
        that cannot even run on the file is a problem too."""
        from . import sqlite_errors

        try:
            return sqlite_errors.check_integrity(self.conn)
        except sqlite3.DatabaseError as exc:
            if busy.is_busy(exc):
                raise
            return [str(exc)]

    def data_version(self) -> int:
        """A number that changes when another connection (another process) commits here."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def latest_review_id(self) -> int:
        """The id of the log's latest review (0 when none): ids grow with every review
        written, whatever its time, so a review with a larger id was written after this was
        read."""
        (found,) = self.conn.execute("SELECT max(id) FROM reviews").fetchone()
        return found or 0

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction (see `database.snapshot`): no lock that stops a writer."""
        with database.snapshot(self.conn):
            yield

    def _has_table(self, name: str) -> bool:
        """Whether the schema has the optional table `name` (`recomputes`, migration 0006;
        `buried`, 0008): an older database read as it is (larger than `database.COPY_AT_MOST`:
        a backup, a dry run) has neither, and nothing in them (the doctor's dry run failed on
        it: "no such table")."""
        if name not in self._tables:
            found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
            self._tables[name] = self.conn.execute(found, (name,)).fetchone() is not None
        return self._tables[name]

    def read_a_copy(self) -> bool:
        """Go on with a copy in memory of a database opened read-only (one that cannot be
        written, or a backup), which can be written without changing the file, where it is
        at most `database.COPY_AT_MOST` bytes (as a database of an older schema is read); False,
        nothing done, where it is larger."""
        page_count = self.conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        if page_count * page_size > database.COPY_AT_MOST:
            return False
        copy = sqlite3.connect(":memory:", isolation_level=None)
        try:
            self.conn.backup(copy)
        except BaseException:
            copy.close()
            raise
        self.conn.close()
        self.conn, self._selected, self._tables, self.copied = copy, None, {}, True
        return True

    def _among(self, card_ids: Collection[str] | None, column: str = "r.card_id") -> str:
        """A condition (`AND ...`) keeping the log's rows of `card_ids` (all: "" when None),
        through the temporary table `selected`, filled here."""
        if card_ids is None:
            return ""
        self._select(card_ids)
        return f" AND {column} IN (SELECT card_id FROM temp.selected)"

    def _selected_from(self, card_ids: Collection[str] | None) -> str:
        """The FROM clause of the log, joined to a temporary table of `card_ids` when given."""
        if card_ids is None:
            return _LOG_FROM
        self._select(card_ids)
        return f"temp.selected c JOIN reviews r ON r.card_id = c.card_id {_UNDONE_JOIN}"

    def _select(self, card_ids: Collection[str]) -> None:
        """Fill the temporary table `selected` with `card_ids` (kept when they are the same
        as last time: a query per study day of a streak reuses it)."""
        chosen = frozenset(card_ids)
        if chosen == self._selected:
            return
        with self.temp_writes():
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS selected (card_id TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM temp.selected")
            self.conn.executemany(
                "INSERT INTO temp.selected (card_id) VALUES (?)", ((c,) for c in chosen)
            )
        self._selected = chosen

    @contextmanager
    def temp_writes(self) -> Iterator[None]:
        """Around writes to temporary tables: a read-only connection (a backup, a read-only
        medium, a dry run) refuses every write with query_only, the temporary database's too;
        it is let write meanwhile, and can only write there (its main database is opened
        read-only besides: `read_only._open_for_reading`)."""
        (query_only,) = self.conn.execute("PRAGMA query_only").fetchone()
        if query_only:
            self.conn.execute("PRAGMA query_only = OFF")
        try:
            yield
        finally:
            if query_only:
                self.conn.execute("PRAGMA query_only = ON")
