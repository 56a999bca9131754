"""The review store: an SQLite file holding the append-only review log and each card's state.

No scheduling here: the core (review.py) computes states with fsrs and hands them over as
values. Every write is one transaction, committed before the call returns, so a killed process
loses nothing already rated. Times are stored as UTC ISO-8601 strings of one fixed shape, so
that they also sort as text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from studycli.errors import StoreError, UndoneAlready
from studycli.records import Record

from . import backups, busy, database, sqlite_errors

_T = TypeVar("_T")

if TYPE_CHECKING:  # (a TypedDict costs a class to make: annotations only need its name)

    class CardStateDict(TypedDict):
        card_id: str
        fsrs: str | None
        content_hash: str | None
        lapses: int
        reps: int


def iso(moment: datetime) -> str:
    """`moment` as UTC ISO-8601 with microseconds: one shape, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("datetimes in the store must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def iso_text(text: str) -> str | None:
    """`iso()` of the time that ISO-8601 `text` (already parsed: it is a valid time) writes,
    made from the text alone where it is UTC with a whole second, milliseconds or microseconds,
    as review logs write it (an export, the FSRS tools); else None. A fifth of `iso`'s time: an
    import of a million reviews spent 2 s formatting times again."""
    if _stored_shape(text):
        return text  # in that shape already (an export's): the most common
    if text.endswith("+00:00"):
        clock = text[:-6]
    elif text.endswith("Z"):
        clock = text[:-1]
    else:
        return None
    if len(clock) == 19:
        clock += ".000000"
    elif len(clock) == 23:
        clock += "000"
    elif len(clock) != 26:
        return None
    if clock[4:20:3] != "--T::.":  # (the characters at 4, 7, 10, 13, 16 and 19)
        return None  # another of the shapes `fromisoformat` reads (basic format, a space...)
    return clock + "+00:00"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def isoformat_of(text: str) -> str:
    """`parse_time(text).isoformat()`; from `text` alone where it is in `iso()`'s shape (as
    the store keeps times): the same, less a zero fraction of a second."""
    if not _stored_shape(text):
        return parse_time(text).isoformat()
    return text[:19] + text[26:] if text[20:26] == "000000" else text


def _stored_shape(text: str) -> bool:
    """Whether `text` (a valid ISO-8601 time) is in `iso()`'s shape: UTC with microseconds,
    "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" (the characters at 4, 7, 10, 13, 16 and 19: "--T::.")."""
    return len(text) == 32 and text[26:] == "+00:00" and text[4:20:3] == "--T::."


class ReviewMethod(StrEnum):
    """How a rating entered the log: chosen by the learner, decided by running a check, given
    while cramming (logged, but it does not move the schedule), or imported from a CSV file."""

    SELF = "self"
    CHECK = "check"
    CRAM = "cram"
    IMPORT = "import"


# The reviews that make up the schedule: not undone, not cram (a filter over `r` and `u`).
NOT_CRAM = f"r.method != '{ReviewMethod.CRAM}'"
SCHEDULED = f"u.review_id IS NULL AND {NOT_CRAM}"


class CardState(Record):  # named tuples: a frozen dataclass costs ~1 ms at start-up
    """One card's scheduling state. `fsrs` is fsrs's `Card.to_json()`, None while new."""

    card_id: str
    fsrs: str | None = None
    content_hash: str | None = None
    lapses: int = 0
    reps: int = 0
    suspended: bool = False

    def to_dict(self) -> CardStateDict:
        """The shape saved as a review's `state_before` (suspension is not part of a review)."""
        return {
            "card_id": self.card_id,
            "fsrs": self.fsrs,
            "content_hash": self.content_hash,
            "lapses": self.lapses,
            "reps": self.reps,
        }

    @classmethod
    def from_dict(cls, data: CardStateDict, suspended: bool = False) -> CardState:
        return cls(
            card_id=data["card_id"],
            fsrs=data["fsrs"],
            content_hash=data["content_hash"],
            lapses=int(data["lapses"]),
            reps=int(data["reps"]),
            suspended=suspended,
        )


class Review(Record):
    """One rating in the log. `queue` is what the card was before it: new, learning, review or
    relearning. `scheduler` is the fsrs `Scheduler.to_json()` it was scheduled with."""

    card_id: str
    rating: int
    reviewed_at: datetime
    method: str
    content_hash: str
    queue: str
    scheduler: str
    state_after: str
    state_before: CardState | None = None
    duration_ms: int | None = None
    check_status: str | None = None
    id: int | None = None
    undone: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The public shape (history --json)."""
        return {
            "id": self.id,
            "card": self.card_id,
            "rating": self.rating,
            "reviewed_at": iso(self.reviewed_at),
            "duration_ms": self.duration_ms,
            "method": self.method,
            "check_status": self.check_status,
            "content_hash": self.content_hash,
            "queue": self.queue,
            "undone": self.undone,
        }


# A card's due time and fsrs state, as the index cards_by_due (migrations 0003, 0005) holds them.
_DUE = "json_extract(fsrs, '$.due')"
_STATE = "json_extract(fsrs, '$.state')"


class Schedule(Record):
    """What the queue reads of the store: the cards due up to a time, and which are not new.

    `due` holds (card id, fsrs state value, due time as stored text) of every studied,
    unsuspended card due by then, by due time then id (with a `ReviewCap`: the cards that are
    not in review so, then the capped review cards so). `seen` holds the ids of every card that
    is not new: studied, or suspended.
    """

    due: list[tuple[str, int, str]]
    seen: AbstractSet[str]


# fsrs's State.Review, as fsrs's JSON holds it: the queue counts what is due without importing
# fsrs (a test checks it is fsrs's value)
REVIEW_STATE = 2


class ReviewCap(Record):
    """Of the cards in review, what a queue can show: the first `limit` of `cards` that are
    due by `now` (see `Store.schedule`)."""

    now: datetime
    cards: Container[str]
    limit: int


_REVIEW_COLUMNS = (
    "r.id, r.card_id, r.rating, r.reviewed_at, r.duration_ms, r.method, "
    "r.check_status, r.content_hash, r.queue, s.settings, r.state_before, "
    "r.state_after, u.review_id IS NOT NULL"
)
_REVIEW_FROM = (
    "reviews r JOIN schedulers s ON s.id = r.scheduler_id LEFT JOIN undos u ON u.review_id = r.id"
)
_IMPORT_CACHE_KIB = 64 * 1024  # page cache while importing: at most this much memory
_STAGE_CACHE_KIB = 32 * 1024  # the same for the temporary table of the file's reviews
_BULK_FROM = 10_000  # an import of this many reviews or more may rebuild the indexes
_APPEND_SQL = (
    "INSERT INTO reviews (card_id, rating, reviewed_at, duration_ms, content_hash, queue,"
    " state_after, method, check_status, state_before, scheduler_id) VALUES "
)
IMPORTED_COLUMNS = 7  # values per review that `Store.append_imported` takes
_APPEND_ROWS = 999 // IMPORTED_COLUMNS  # imported reviews per INSERT (SQLite < 3.32: 999 values)
_UNDONE_JOIN = "LEFT JOIN undos u ON u.review_id = r.id"
_LOG_FROM = f"reviews r {_UNDONE_JOIN}"


class Conflicts:
    """An import's rows left out that gave another rating for a card and time than the log
    has, or than an earlier row of the file (a review is its card and time: an import never
    changes a rating): how many, and the first `SHOWN` as (card_id, reviewed_at, the row's
    rating, the other rating, where that one is: "log" or "file"); and how many rows were
    left out as ratings undone in the log (`undone`)."""

    SHOWN = 3

    def __init__(self) -> None:
        self.count = 0
        self.first: list[tuple[str, str, int, int, str]] = []
        self.undone = 0  # rows left out as reviews undone in the log (not conflicts: a count)

    def add(self, conn: sqlite3.Connection, query: str, columns: str, order: str) -> None:
        """Count those `query` finds (its {} takes the columns) and keep its first few."""
        self.count += conn.execute(query.format("COUNT(*)")).fetchone()[0]
        if len(self.first) < self.SHOWN:
            found = conn.execute(f"{query.format(columns)} ORDER BY {order} LIMIT {self.SHOWN}")
            self.first += found.fetchall()[: self.SHOWN - len(self.first)]


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
    found = backups.backups(path) if path.parent.is_dir() else []
    restore = f" (the latest backup next to it: {found[-1].name})" if found else ""
    return StoreError(
        f"{path} was removed or replaced while studycli had it open (by code a check ran, or "
        "another program): nothing more is written to it. Restore it from a backup"
        f"{restore} or from an export (`studycli import-reviews FILE`), then study again"
    )


def _unbury(conn: sqlite3.Connection, card_id: str) -> None:
    conn.execute("DELETE FROM buried WHERE card_id = ?", (card_id,))


class Store:
    """An open review database. Use `Store.open(path)`; close it (or use `with`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.notes: list[str] = []  # for the learner: an upgrade on opening (`open`)
        self._selected: frozenset[str] | None = None  # what the temporary table holds
        self._tables: dict[str, bool] = {}  # optional tables the schema has (`_has_table`)
        self._file = file_id(path)  # the file opened (see `transaction`)
        self.copied = False  # read through a copy in memory since it opened (`read_a_copy`)

    @classmethod
    def open(cls, path: Path, *, write: bool = True) -> Store:
        """Open (creating if needed) and migrate the database at `path`; without `write`, one
        that cannot be written is opened read-only instead (see `database.connect`).

        Raises:
            StoreError: the file is not a studycli database, is damaged, is from a newer
                studycli, cannot be created, or stays busy longer than the busy timeout
                (another process writing). The file is never overwritten. A busy database
                is waited for, never reported as damaged (see `sqlite_errors.explain`).
        """
        notes: list[str] = []
        store = cls(database.connect(path, write=write, notes=notes), path)
        store.notes = notes
        return store

    @property
    def opened_file(self) -> tuple[int, int] | None:
        """The device and inode of the file opened (see `file_id`)."""
        return self._file

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close()
        if isinstance(error, sqlite3.DatabaseError):  # busy, unwritable or damaged, in use
            raise sqlite_errors.explain(self.path, error) from None

    def refuse_if_damaged(self) -> None:
        """Raise StoreDamaged (see `sqlite_errors.explain`) where `PRAGMA quick_check` finds the
        file damaged (0.7 s for a million reviews). SQLite meets damage only where it reads: an
        import of a backup into a damaged log found its lost reviews "already in your log" (in
        an index whose table pages were gone), restored none, and said nothing was wrong."""
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
        """
        if self.conn.in_transaction:
            yield self.conn
            return
        refuse_replaced(self.path, self._file)
        try:
            with busy.waits_said(self.path):
                self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if busy.is_busy(exc):
                raise sqlite_errors.explain(self.path, exc) from None
            raise
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def integrity_problems(self) -> list[str]:
        """What `PRAGMA integrity_check` finds wrong ([] when the file is intact); a check
        that cannot even run on the file is a problem too."""
        try:
            return sqlite_errors.check_integrity(self.conn)
        except sqlite3.DatabaseError as exc:
            if busy.is_busy(exc):
                raise
            return [str(exc)]

    # --- card states ---------------------------------------------------------------------

    def state(self, card_id: str) -> CardState | None:
        row = self.conn.execute(
            f"SELECT {_STATE_COLUMNS} FROM cards WHERE card_id = ?", (card_id,)
        ).fetchone()
        return _state(row) if row else None

    def states(self) -> dict[str, CardState]:
        """Every card the store knows, removed cards included."""
        rows = self.conn.execute(f"SELECT {_STATE_COLUMNS} FROM cards ORDER BY card_id")
        return {row[0]: _state(row) for row in rows}

    def schedule(
        self,
        until: datetime,
        seen: AbstractSet[str] | None = None,
        *,
        reviews: ReviewCap | None = None,
    ) -> Schedule:
        """The cards due at or before `until` and the cards that are not new (see `Schedule`);
        `seen` when the caller knows them already (see `not_new`). With `reviews`, the cards
        in review (fsrs's State.Review) are only those the cap asks for: the first that a
        queue can show today, rather than every review card due (thousands, in a large
        collection studied every few days).

        Reads only the rows it returns (an index on the due time), not every card's state.
        """
        capped = f" AND {_STATE} != {REVIEW_STATE}" if reviews is not None else ""
        due = self.conn.execute(
            f"SELECT card_id, {_STATE}, {_DUE} FROM cards WHERE suspended = 0"
            f" AND fsrs IS NOT NULL AND {_DUE} <= ?{capped} ORDER BY {_DUE}, card_id",
            (iso(until),),
        ).fetchall()
        if reviews is not None:
            due += self._first_reviews(reviews)
        return Schedule(due=due, seen=self.not_new() if seen is None else seen)

    def _first_reviews(self, cap: ReviewCap) -> list[tuple[str, int, str]]:
        """The review cards due by `cap.now`, by due time then id, the first `cap.limit` of
        those in `cap.cards`: read a page at a time (one page, when most cards are wanted)."""
        found: list[tuple[str, int, str]] = []
        # (named parameters, bound from a dict: Python 3.12.3, Ubuntu 24.04's, took numbered
        # ones (?1) bound from a tuple for named ones and warned, python/cpython#117995; with
        # warnings as errors, as the tests run, every review session with reviews due failed)
        at = {"now": iso(cap.now), "due": "", "card": ""}
        page = max(cap.limit, 64)
        while len(found) < cap.limit:
            rows = self.conn.execute(
                f"SELECT card_id, {_STATE}, {_DUE} FROM cards WHERE suspended = 0"
                f" AND fsrs IS NOT NULL AND {_DUE} BETWEEN :due AND :now"
                f" AND ({_DUE}, card_id) > (:due, :card)"
                f" AND {_STATE} = {REVIEW_STATE} ORDER BY {_DUE}, card_id LIMIT {int(page)}",
                at,
            ).fetchall()
            found += (row for row in rows if row[0] in cap.cards)
            if len(rows) < page:
                break
            at.update(due=rows[-1][2], card=rows[-1][0])
            page *= 4
        return found[: cap.limit]

    def not_new(self) -> set[str]:
        """The ids of the cards that are not new: studied, or suspended (read from an index;
        one string split here, rather than a row per card)."""
        (joined,) = self.conn.execute(
            "SELECT group_concat(card_id, char(31)) FROM cards"
            " WHERE fsrs IS NOT NULL OR suspended = 1"
        ).fetchone()
        return set(joined.split("\x1f")) if joined else set()

    def data_version(self) -> int:
        """A number that changes when another connection (another process) commits here."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def earliest_due(
        self, card_ids: Container[str], after: datetime | None = None, *, review: bool | None = None
    ) -> datetime | None:
        """When the first of these cards (studied, not suspended) falls due, of those due after
        `after` when given, and with `review`, of those in review (True) or in learning or
        relearning (False); None if none."""
        later = f" AND {_DUE} > ?" if after is not None else ""
        state = "" if review is None else f" AND {_STATE} {'=' if review else '!='} {REVIEW_STATE}"
        rows = self.conn.execute(
            f"SELECT card_id, {_DUE} FROM cards"
            f" WHERE suspended = 0 AND fsrs IS NOT NULL{state}{later} ORDER BY {_DUE}, card_id",
            () if after is None else (iso(after),),
        )
        for card_id, due in rows:
            if card_id in card_ids:
                return parse_time(due)
        return None

    def set_suspended(self, card_id: str, suspended: bool) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO cards (card_id, suspended) VALUES (?, ?) ON CONFLICT (card_id)"
                " DO UPDATE SET suspended = excluded.suspended",
                (card_id, int(suspended)),
            )

    def bury(self, card_id: str, until: datetime) -> None:
        """Leave `card_id` out of the queues until `until` (see migration 0008)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO buried (card_id, until) VALUES (?, ?) ON CONFLICT (card_id)"
                " DO UPDATE SET until = excluded.until",
                (card_id, iso(until)),
            )

    def unbury(self, card_id: str) -> None:
        with self.transaction() as conn:
            _unbury(conn, card_id)

    def buried(self, now: datetime) -> dict[str, datetime]:
        """The study items buried at `now`, each with when it comes back (none in a database
        older than migration 0008 read as it is: a backup, a dry run)."""
        if not self._has_table("buried"):
            return {}
        rows = self.conn.execute("SELECT card_id, until FROM buried WHERE until > ?", (iso(now),))
        return {card_id: parse_time(until) for card_id, until in rows}

    def replace_states(self, states: list[CardState]) -> None:
        """Overwrite the scheduling state of these cards (their suspension is kept)."""
        with self.transaction() as conn:
            for state in states:
                _write_state(conn, state)

    # --- the log ---------------------------------------------------------------------------

    def record(self, review: Review, after: CardState | None) -> Review:
        """Append `review` and set the card's state to `after` (None: leave the card's state
        as it is, for a cram rating), in one transaction.

        Returns:
            The review with its `id`.
        """
        import json  # here, not at the top: `due` needs none (~1 ms)

        with self.transaction() as conn:
            scheduler_id = _scheduler_id(conn, review.scheduler)
            before = json.dumps(review.state_before.to_dict()) if review.state_before else None
            cursor = conn.execute(
                "INSERT INTO reviews (card_id, rating, reviewed_at, duration_ms, method,"
                " check_status, content_hash, queue, scheduler_id, state_before, state_after)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    review.card_id,
                    review.rating,
                    iso(review.reviewed_at),
                    review.duration_ms,
                    review.method,
                    review.check_status,
                    review.content_hash,
                    review.queue,
                    scheduler_id,
                    before,
                    review.state_after,
                ),
            )
            if after is not None:
                _write_state(conn, after)
                if self._has_table("buried"):  # rated (`solve`, another session): unburied
                    _unbury(conn, review.card_id)
        return review._replace(id=cursor.lastrowid)

    # --- importing a log (review_io): staged in a temporary table, then replayed by card ----

    @contextmanager
    def importing(self, scheduler: str, *, sort_threads: int = 0) -> Iterator[int]:
        """The frame of an import: one write transaction (a failure or a kill anywhere in it
        leaves the store as it was), an empty temporary table `staged` for the file's
        reviews (see `stage`), a bounded page cache, SQLite's sorts (the staged rows, an index
        made again) helped by `sort_threads` threads; yields the id of `scheduler` (the fsrs
        `Scheduler.to_json()` the imported reviews are scheduled with).
        """
        with self.transaction() as conn:
            kept = {
                pragma: conn.execute(f"PRAGMA {pragma}").fetchone()[0]
                for pragma in ("cache_size", "temp.cache_size", "threads")
            }
            conn.execute(f"PRAGMA cache_size = {-_IMPORT_CACHE_KIB}")
            conn.execute(f"PRAGMA temp.cache_size = {-_STAGE_CACHE_KIB}")
            conn.execute(f"PRAGMA threads = {int(sort_threads)}")
            for table in ("staged", "staged_rows"):
                conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
            # the file's rows as they come (appended: cheap), then sorted once into `staged`,
            # where a review's identity, (card, time), is the key
            conn.execute(
                "CREATE TEMP TABLE staged_rows (card_id TEXT NOT NULL,"
                " reviewed_at TEXT NOT NULL, rating INTEGER NOT NULL, duration_ms INTEGER)"
            )
            conn.execute(
                "CREATE TEMP TABLE staged (card_id TEXT NOT NULL, reviewed_at TEXT NOT NULL,"
                " rating INTEGER NOT NULL, duration_ms INTEGER,"
                " PRIMARY KEY (card_id, reviewed_at)) WITHOUT ROWID"
            )
            try:
                yield _scheduler_id(conn, scheduler)
                for table in ("staged", "staged_rows"):  # on a failure, the rollback does it
                    conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
            finally:
                for pragma, value in kept.items():
                    conn.execute(f"PRAGMA {pragma} = {int(value)}")

    def stage(self, rows: Iterable[tuple[str, str, int, int | None]]) -> None:
        """Add reviews (card_id, reviewed_at as `iso()`, rating, duration_ms) to the import,
        in file order (see `settle_staged`)."""
        self.conn.executemany(
            "INSERT INTO temp.staged_rows (card_id, reviewed_at, rating, duration_ms)"
            " VALUES (?, ?, ?, ?)",
            rows,
        )

    def settle_staged(self) -> Conflicts:
        """Once every row is staged: keep one review per (card, time), the first the file
        gives, in `staged`, and leave out those the log has already: in the schedule, or
        undone (an export made before the undo brings the rating back, not the undone one
        back to life). Returns the rows left out that gave another rating for their card and
        time than the log has, or than the file's first row for them."""
        staged = self.conn.execute("SELECT max(rowid) FROM temp.staged_rows").fetchone()[0]
        kept = self.conn.execute(
            "INSERT OR IGNORE INTO temp.staged (card_id, reviewed_at, rating, duration_ms)"
            " SELECT card_id, reviewed_at, rating, duration_ms FROM temp.staged_rows"
            " ORDER BY card_id, reviewed_at, rowid"
        ).rowcount
        conflicts = Conflicts()
        if kept < (staged or 0):  # the file gives some card and time twice
            conflicts.add(
                self.conn,
                "SELECT {} FROM temp.staged_rows r JOIN temp.staged s"
                " ON s.card_id = r.card_id AND s.reviewed_at = r.reviewed_at"
                " WHERE r.rating != s.rating",
                "r.card_id, r.reviewed_at, r.rating, s.rating, 'file'",
                "r.rowid",
            )
        self.conn.execute("DROP TABLE temp.staged_rows")
        if self.conn.execute("SELECT 1 FROM reviews LIMIT 1").fetchone():
            conflicts.add(
                self.conn,
                "SELECT {} FROM reviews r JOIN temp.staged s"
                " ON s.card_id = r.card_id AND s.reviewed_at = r.reviewed_at"
                f" WHERE r.card_id IN (SELECT card_id FROM temp.staged) AND {NOT_CRAM}"
                " AND r.rating != s.rating AND r.id NOT IN (SELECT review_id FROM undos)",
                "r.card_id, r.reviewed_at, s.rating, r.rating, 'log'",
                "r.card_id, r.reviewed_at",
            )
            # (the undos drive it, CROSS JOIN: SQLite scanned the whole log, 3x a small import)
            conflicts.undone = self.conn.execute(
                "SELECT COUNT(*) FROM undos u CROSS JOIN reviews r ON r.id = u.review_id"
                " JOIN temp.staged s ON s.card_id = r.card_id AND s.reviewed_at = r.reviewed_at"
                f" WHERE {NOT_CRAM}"
            ).fetchone()[0]
        # the touched cards' reviews read in card order (`reviews_by_card_time`), not a lookup
        # in the time index per staged row: half the time when the log has them all
        self.conn.execute(
            "DELETE FROM temp.staged WHERE (card_id, reviewed_at) IN"
            " (SELECT r.card_id, r.reviewed_at FROM reviews r"
            f" WHERE r.card_id IN (SELECT card_id FROM temp.staged) AND {NOT_CRAM})"
        )
        return conflicts

    def staged_cards(self) -> list[tuple[str, int]]:
        """(card_id, how many staged reviews) of each card with staged reviews, by id."""
        return self.conn.execute(
            "SELECT card_id, COUNT(*) FROM temp.staged GROUP BY card_id ORDER BY card_id"
        ).fetchall()

    def suspended(self) -> set[str]:
        """The ids of the suspended cards."""
        return {c for (c,) in self.conn.execute("SELECT card_id FROM cards WHERE suspended = 1")}

    def staged_histories(self, first: str, last: str) -> tuple[list[tuple], list[tuple]]:
        """The cards with staged reviews whose ids are from `first` to `last`: their reviews
        not undone, as (card_id, rating, reviewed_at, scheduler_id, content_hash, id, cram) in
        time order (ties by id; `cram`: a cram rating, out of the schedule), and, per card by
        id, its staged reviews in one text, as (card_id, text): "reviewed_at rating
        duration_ms" per review (duration_ms empty when None), joined by commas, in no
        particular order (see `staged_reviews`).

        One row per card, not per review: a million staged reviews are a few thousand rows
        to read here and to send to a replay worker, which takes them apart."""
        logged = self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.scheduler_id, r.content_hash, r.id,"
            f" r.method = '{ReviewMethod.CRAM.value}'"
            f" FROM reviews r {_UNDONE_JOIN} WHERE r.card_id BETWEEN :first AND :last"
            " AND r.card_id IN"
            "  (SELECT card_id FROM temp.staged WHERE card_id BETWEEN :first AND :last)"
            " AND u.review_id IS NULL ORDER BY r.reviewed_at, r.id",
            {"first": first, "last": last},
        ).fetchall()
        staged = self.conn.execute(
            "SELECT card_id, group_concat(reviewed_at || ' ' || rating || ' '"
            " || ifnull(duration_ms, ''), ',') FROM temp.staged"
            " WHERE card_id BETWEEN ? AND ? GROUP BY card_id ORDER BY card_id",
            (first, last),
        ).fetchall()
        return logged, staged

    @contextmanager
    def bulk(self, count: int) -> Iterator[None]:
        """Around appending `count` reviews inside `importing`: when they at least double the
        log, its time index is dropped first and made again after (sorting once is cheaper
        than a million B-tree inserts at random places). The card index stays: the import
        reads each card's history through it, and appends to it in card order."""
        indexes: list[tuple[str, str]] = []
        if count >= _BULK_FROM and count >= self._size():
            indexes = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'reviews' AND sql IS NOT NULL AND name != 'reviews_by_card_time'"
            ).fetchall()
        for name, _ in indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        yield
        for _, sql in indexes:
            self.conn.execute(sql)

    def append_imported(
        self,
        values: Sequence[Any],
        scheduler_id: int,
        states: Iterable[CardState],
        replayed: Iterable[tuple[str, str, int]] = (),
    ) -> None:
        """Append imported reviews and overwrite their cards' states, inside `importing`. An
        imported review has method "import", no check status and no state before (undo never
        takes one back): those are written here, not passed.

        Args:
            values: the reviews' values one after another, `IMPORTED_COLUMNS` per review
                (card_id, rating, reviewed_at as `iso()`, duration_ms, content_hash, queue,
                state_after JSON), in the order they are to be appended (their ids follow it).
            scheduler_id: what `importing` gave.
            states: the cards' states after them.
            replayed: (queue, state_after JSON, id) of the log's reviews that an imported
                one came before: their schedule in the merged history (what a review
                records of itself is never rewritten; see migration 0004).
        """
        if not self.conn.in_transaction:
            raise RuntimeError("Store.append_imported must run inside Store.importing()")
        if len(values) % IMPORTED_COLUMNS:
            raise ValueError(f"append_imported takes {IMPORTED_COLUMNS} values per review")
        # many reviews per INSERT: a statement per review (executemany) costs SQLite its
        # per-statement work (AUTOINCREMENT's sqlite_sequence row, a reset) a million times
        # over, a third of the insert's time; the columns every imported review shares are
        # written in the statement, not bound (a third less again)
        constant = f"'{ReviewMethod.IMPORT.value}', NULL, NULL, {int(scheduler_id)}"
        row = f"({', '.join('?' * IMPORTED_COLUMNS)}, {constant})"
        step = _APPEND_ROWS * IMPORTED_COLUMNS
        whole = len(values) - len(values) % step
        if whole:
            many = _APPEND_SQL + ", ".join([row] * _APPEND_ROWS)
            for start in range(0, whole, step):
                self.conn.execute(many, values[start : start + step])
        if whole < len(values):  # the last few, a statement each
            self.conn.executemany(
                _APPEND_SQL + row,
                (
                    values[start : start + IMPORTED_COLUMNS]
                    for start in range(whole, len(values), IMPORTED_COLUMNS)
                ),
            )
        self.write_schedule(replayed)
        for state in states:
            _write_state(self.conn, state)

    def _size(self) -> int:
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'reviews'").fetchone()
        return int(row[0]) if row else 0

    # --- the schedule's log, lean (replay, import, export, optimize, stats) -------------------

    def schedulers(self) -> dict[int, str]:
        """Every scheduler settings JSON the log refers to, by id."""
        return dict(self.conn.execute("SELECT id, settings FROM schedulers").fetchall())

    def readable_schedulers(self) -> dict[int, str] | None:
        """`schedulers`, or None where the table does not read (a damaged file whose log
        still exports), as `suspended_count`."""
        try:
            return self.schedulers()
        except sqlite3.DatabaseError:
            return None

    def recomputes(self) -> list[tuple[str, int]]:
        """(made_at as stored, scheduler_id) of each recompute of the memory states (new
        parameters saved), in time order: a replay applies each at its time."""
        if not self._has_table("recomputes"):
            return []
        return self.conn.execute(
            "SELECT made_at, scheduler_id FROM recomputes ORDER BY made_at, id"
        ).fetchall()

    def schedulers_since_recompute(self) -> set[str]:
        """The scheduler settings (JSON) the memory states stand on: the latest recompute's
        and those of every review logged at or after it (every review's, with none)."""
        recomputes = self.recomputes()
        since, ids = "", set()
        if recomputes:
            since, latest = recomputes[-1]
            ids.add(latest)
        ids.update(
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT scheduler_id FROM reviews WHERE reviewed_at >= ?", (since,)
            )
        )
        known = self.schedulers()
        return {known[i] for i in ids if i in known}

    def latest_schedulers(self) -> list[tuple[str, int | None, int]] | None:
        """(card_id, scheduler_id, fsrs state) of every studied card, `scheduler_id` that of
        its latest review that makes the schedule (the one its due date comes from; None if
        none). One look into the log's card index per card, not a pass over the log (an
        export of a million reviews asks for it). None where the cards table does not read
        (a damaged file whose log still exports), as `suspended_count`."""
        latest = (
            f"SELECT r.scheduler_id FROM {_LOG_FROM} WHERE r.card_id = c.card_id AND {SCHEDULED}"
            " ORDER BY r.reviewed_at DESC, r.id DESC LIMIT 1"
        )
        try:
            return self.conn.execute(
                f"SELECT c.card_id, ({latest}), json_extract(c.fsrs, '$.state') FROM cards c"
                " WHERE c.fsrs IS NOT NULL"
            ).fetchall()
        except sqlite3.DatabaseError:
            return None

    def _has_table(self, name: str) -> bool:
        """Whether the schema has the optional table `name` (`recomputes`, migration 0006;
        `buried`, 0008): an older database read as it is (larger than `database.COPY_AT_MOST`:
        a backup, a dry run) has neither, and nothing in them (the doctor's dry run failed on
        it: "no such table")."""
        if name not in self._tables:
            found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
            self._tables[name] = self.conn.execute(found, (name,)).fetchone() is not None
        return self._tables[name]

    def record_recompute(self, made_at: datetime, scheduler: str) -> None:
        """Log that from `made_at` on the memory states are those of `scheduler` (its JSON);
        inside the caller's transaction, if any, where the recomputed states are written."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO recomputes (made_at, scheduler_id) VALUES (?, ?)",
                (iso(made_at), _scheduler_id(conn, scheduler)),
            )

    def latest_review_id(self) -> int:
        """The id of the log's latest review (0 when none): ids grow with every review
        written, whatever its time, so a review with a larger id was written after this was
        read."""
        (found,) = self.conn.execute("SELECT max(id) FROM reviews").fetchone()
        return found or 0

    def imported_after(self, review_id: int) -> bool:
        """Whether the log holds imported reviews written after review `review_id`."""
        found = self.conn.execute(
            f"SELECT 1 FROM reviews WHERE id > ? AND method = '{ReviewMethod.IMPORT.value}'"
            " LIMIT 1",
            (review_id,),
        ).fetchone()
        return found is not None

    def rating_after(self, card_id: str, review_id: int) -> int | None:
        """The rating of `card_id`'s latest review given after review `review_id` (see
        `latest_review_id`) in another session: undone, cram and imported ones left out (an
        import merges reviews given on another machine, and a rating here builds on them,
        even one given there while the card was on screen here); None if none."""
        found = self.conn.execute(
            f"SELECT r.rating FROM {_LOG_FROM} WHERE r.card_id = ? AND r.id > ? AND {SCHEDULED}"
            " AND r.method != ? ORDER BY r.id DESC LIMIT 1",
            (card_id, review_id, ReviewMethod.IMPORT),
        ).fetchone()
        return found[0] if found else None

    def latest_recompute(self) -> datetime | None:
        """When the memory states were last recomputed; None if never."""
        if not self._has_table("recomputes"):
            return None
        (made_at,) = self.conn.execute("SELECT max(made_at) FROM recomputes").fetchone()
        return parse_time(made_at) if made_at else None

    def latest_scheduled(self) -> datetime | None:
        """The time of the log's latest review that makes the schedule; None if none."""
        (moment,) = self.conn.execute(
            f"SELECT max(r.reviewed_at) FROM {_LOG_FROM} WHERE {SCHEDULED}"
        ).fetchone()
        return parse_time(moment) if moment else None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction (see `database.snapshot`): no lock that stops a writer."""
        with database.snapshot(self.conn):
            yield

    def scheduled_log(self, card_ids: Collection[str] | None = None) -> list[tuple]:
        """The reviews that make the schedule (not undone, not cram), in time order (ties by
        id), as (card_id, rating, reviewed_at as stored, scheduler_id, content_hash); of
        `card_ids` only when given."""
        sql = (
            "SELECT r.card_id, r.rating, r.reviewed_at, r.scheduler_id, r.content_hash"
            f" FROM {self._selected_from(card_ids)} WHERE {SCHEDULED}"
            " ORDER BY r.reviewed_at, r.id"
        )
        return self.conn.execute(sql).fetchall()

    def exported_rows(self, *, indexed: bool = True) -> Iterator[tuple[str, int, str, int | None]]:
        """(card_id, rating, reviewed_at as stored, duration_ms) of the schedule's reviews, in
        time order: what `export-reviews` writes. `indexed=False` reads the tables themselves
        and sorts (slower): the same rows from a file whose indexes are damaged."""
        if indexed:
            return self.conn.execute(
                f"SELECT r.card_id, r.rating, r.reviewed_at, r.duration_ms FROM {_LOG_FROM}"
                f" WHERE {SCHEDULED} ORDER BY r.reviewed_at, r.id"
            )
        return self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.duration_ms FROM reviews r NOT INDEXED"
            f" WHERE {NOT_CRAM} AND r.id NOT IN (SELECT review_id FROM undos NOT INDEXED)"
            " ORDER BY r.reviewed_at, r.id"
        )

    def exporting(self, write: Callable[[Iterator[tuple[str, int, str, int | None]]], _T]) -> _T:
        """`write(rows)` of `exported_rows`; where reading them through the indexes fails (a
        damaged index: the doctor sends the learner to export the history of a damaged file),
        again with the tables themselves read whole (an error then is the log's own)."""
        try:
            return write(self.exported_rows())
        except sqlite3.DatabaseError as exc:  # (`write` leaves no half file)
            if busy.is_busy(exc):
                raise
        return write(self.exported_rows(indexed=False))

    def suspended_count(self) -> int | None:
        """How many cards are suspended; None where the cards table does not read (a damaged
        file whose log still exports: `doctor` sends the learner to export it)."""
        try:
            (count,) = self.conn.execute(
                "SELECT COUNT(*) FROM cards WHERE suspended = 1"
            ).fetchone()
        except sqlite3.DatabaseError:
            return None
        return count

    def scheduled_count(self, card_ids: Collection[str]) -> int:
        """How many reviews of `card_ids` make the schedule (undone and cram ones left out)."""
        if not card_ids:
            return 0
        among = self._among(card_ids)
        return self.conn.execute(
            f"SELECT COUNT(*) FROM {_LOG_FROM} WHERE {SCHEDULED}{among}"
        ).fetchone()[0]

    def methods_count(self) -> dict[str, int]:
        """How many reviews of the log (undone ones left out) were rated each way (`method`):
        self, check, import, cram."""
        rows = self.conn.execute(
            f"SELECT r.method, COUNT(*) FROM {_LOG_FROM} WHERE u.review_id IS NULL GROUP BY r.method"
        )
        return dict(rows.fetchall())

    def recent_reviews(
        self, since: datetime, until: datetime, card_ids: Collection[str] | None = None
    ) -> list[tuple]:
        """Every rating from `since` to before `until` (cram included, undone ones not), in
        time order, as (card_id, rating, reviewed_at as stored, method, queue, previous), where
        `previous` is the `state_after` of the card's rating before it (its fsrs state then;
        None if none); of `card_ids` only when given. Reads the window's ratings and, through
        `reviews_by_card_time`, each of its cards' last one before it: not their histories
        (on the synthetic million-review log, 0.3 s where a window function over each card's
        whole history took 5.6 s)."""
        chosen = self._among(card_ids)
        bounds = {"since": iso(since), "until": iso(until)}
        window = self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.method, r.queue, r.state_after"
            f" FROM {_LOG_FROM} WHERE u.review_id IS NULL{chosen}"
            " AND r.reviewed_at >= :since AND r.reviewed_at < :until ORDER BY r.reviewed_at, r.id",
            bounds,
        ).fetchall()
        previous: dict[str, str | None] = dict(  # each card's state before the window
            self.conn.execute(
                "SELECT w.card_id, (SELECT p.state_after FROM reviews p"
                "  WHERE p.card_id = w.card_id AND p.reviewed_at < :since"
                "  AND p.id NOT IN (SELECT review_id FROM undos)"
                "  ORDER BY p.reviewed_at DESC, p.id DESC LIMIT 1)"
                " FROM (SELECT DISTINCT r.card_id FROM reviews r WHERE r.reviewed_at >= :since"
                f"  AND r.reviewed_at < :until{chosen}) w",
                bounds,
            ).fetchall()
        )
        rows = []
        for card_id, rating, reviewed_at, method, queue, after in window:
            rows.append((card_id, rating, reviewed_at, method, queue, previous[card_id]))
            previous[card_id] = after
        return rows

    def review_outcomes(self) -> dict[str, tuple[int, int]]:
        """Per card: (reviews, passed) of its schedule's reviews given in the review state
        (Again is a fail), over the whole log."""
        rows = self.conn.execute(
            "SELECT r.card_id, COUNT(*), SUM(r.rating > 1)"
            f" FROM {_LOG_FROM} WHERE {SCHEDULED} AND r.queue = 'review' GROUP BY r.card_id"
        )
        return {card_id: (count, passed) for card_id, count, passed in rows}

    def latest_rating_before(
        self, moment: datetime, card_ids: Collection[str] | None = None
    ) -> datetime | None:
        """When the last rating (cram included, undone ones not) before `moment` was given;
        of `card_ids` only when given. None if there is none."""
        # (`+`: the time index, read back from `moment` to the first of `card_ids`' ratings,
        # not the cards' index with all their ratings sorted at each call: the streak asks
        # once a day of it, and `stats --deck` of a three-year streak on a log of a million
        # ratings took 100 s, 93 ms a day)
        where = self._among(card_ids, "+r.card_id")
        row = self.conn.execute(
            f"SELECT r.reviewed_at FROM {_LOG_FROM} WHERE u.review_id IS NULL"
            f" AND r.reviewed_at < ?{where} ORDER BY r.reviewed_at DESC LIMIT 1",
            (iso(moment),),
        ).fetchone()
        return parse_time(row[0]) if row else None

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
        # a read-only connection (a backup, a read-only medium) refuses every write with
        # query_only, the temporary database's too: let it write there, and only there (its
        # main database is opened read-only besides)
        (query_only,) = self.conn.execute("PRAGMA query_only").fetchone()
        if query_only:
            self.conn.execute("PRAGMA query_only = OFF")
        try:
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS selected (card_id TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM temp.selected")
            self.conn.executemany(
                "INSERT INTO temp.selected (card_id) VALUES (?)", ((c,) for c in chosen)
            )
        finally:
            if query_only:
                self.conn.execute("PRAGMA query_only = ON")
        self._selected = chosen

    # --- renamed cards (renames.py): their history moved onto their new ids ----------------

    def held_items(self, card_id: str) -> set[str]:
        """The ids of `card_id`'s study items that the store holds a review, a state or a
        burial of: the card's own id and its cloze deletions' (`card_id#c2`). A few lookups
        in the tables' indexes, none where it holds nothing of the card."""
        items = "card_id = :id OR (card_id >= :first AND card_id < :past)"
        tables = ["cards", "reviews", *(["buried"] if self._has_table("buried") else [])]
        found = self.conn.execute(
            " UNION ".join(f"SELECT card_id FROM {table} WHERE {items}" for table in tables),
            {"id": card_id, "first": f"{card_id}#c", "past": f"{card_id}#d"},
        )
        return {item for (item,) in found}

    def can_move(self) -> bool:
        """Whether the open database takes a move of a renamed card's history: written, or a
        copy of it read in memory (`read_a_copy`); not one of a schema before migration 0009
        read as it is."""
        (query_only,) = self.conn.execute("PRAGMA query_only").fetchone()
        return not query_only and self._has_table("renames")

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

    def move_items(self, moves: Sequence[tuple[str, str]]) -> set[str]:
        """Move everything the store holds under each old study item id of `moves` (old id,
        new id) onto the new one, inside one transaction (the caller's, if any), each move
        recorded first (migration 0009): its reviews; its state where the new id has none (the
        caller replays it), suspended if either was; its burial, until the later time. Returns
        the new ids that reviews moved to: their states and schedule are to be replayed."""
        moved = set()
        with self.transaction() as conn:
            through = self.latest_review_id()
            for old, new in moves:
                if self._reviewed(old):
                    moved.add(new)
                conn.execute(
                    "INSERT INTO renames (old_id, new_id, moved_through) VALUES (?, ?, ?)",
                    (old, new, through),
                )
                conn.execute("UPDATE reviews SET card_id = ? WHERE card_id = ?", (new, old))
                conn.execute(_MOVE_STATE, (new, old))
                conn.execute("DELETE FROM cards WHERE card_id = ?", (old,))
                if self._has_table("buried"):
                    conn.execute(_MOVE_BURIAL, (new, old))
                    _unbury(conn, old)
        return moved

    def _reviewed(self, card_id: str) -> bool:
        found = "SELECT 1 FROM reviews WHERE card_id = ? LIMIT 1"
        return self.conn.execute(found, (card_id,)).fetchone() is not None

    def moved_through(self, card_id: str) -> int | None:
        """The id of the log's latest review when a history was last moved onto `card_id`
        (`move_items`); None if none ever was."""
        if not self._has_table("renames"):
            return None
        (found,) = self.conn.execute(
            "SELECT max(moved_through) FROM renames WHERE new_id = ?", (card_id,)
        ).fetchone()
        return found

    def logged_histories(self, card_ids: Collection[str]) -> list[tuple]:
        """The reviews of `card_ids` not undone, as `staged_histories` gives the log's: (card_id,
        rating, reviewed_at, scheduler_id, content_hash, id, cram), in time order (ties by
        id)."""
        return self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.scheduler_id, r.content_hash, r.id,"
            f" r.method = '{ReviewMethod.CRAM.value}' FROM {self._selected_from(card_ids)}"
            " WHERE u.review_id IS NULL ORDER BY r.reviewed_at, r.id"
        ).fetchall()

    def write_schedule(self, replayed: Iterable[tuple[str, str, int]]) -> None:
        """Write again the schedule of the log's reviews that a replay of a merged history
        changed: (queue, state_after JSON, id) each (see migration 0004)."""
        self.conn.executemany(
            "UPDATE reviews SET queue = ?, state_after = ? WHERE id = ?", replayed
        )

    def undo(self, review_id: int, now: datetime) -> CardState:
        """Mark review `review_id` undone and put its card's row back exactly as it was.

        Raises:
            UndoneAlready: the review is undone already.
            StoreError: the review does not exist, is not its card's
                latest review (undo goes back one step at a time), was imported, or was
                made before the memory states were recomputed, or before its card's
                history was moved from its old id (its state before is stale).
        """
        with self.transaction() as conn:
            review = self._review(review_id)
            if review is None:
                raise StoreError(f"the log has no review {review_id} to undo")
            if review.undone:
                raise UndoneAlready(f"{review.card_id}'s rating was undone already")
            moved = self.moved_through(review.card_id)
            if moved is not None and review_id <= moved:  # (its state before may be another
                # id's, or stand on half of a history merged since: `move_items`)
                raise StoreError(
                    f"{review.card_id}'s history was carried over from the id its card had "
                    "before (it was renamed: `renamed_from`) after this rating: only a rating "
                    "made since can be undone"
                )
            latest = self.reviews(card_id=review.card_id, limit=1)[0]
            if latest.id != review_id and latest.method == ReviewMethod.IMPORT:
                # (imported since: the import may hold an earlier review of the card, so the
                # rating is the latest in time and yet not the last step of the card's state)
                raise StoreError(
                    f"a review of {review.card_id} from another log was imported since this "
                    "rating, and the card's state was replayed with both: a rating made before "
                    "an import of its card cannot be undone"
                )
            if latest.id != review_id:
                raise StoreError(
                    f"{review.card_id} was rated again since (in another session?): only a "
                    "card's latest review can be undone"
                )
            if review.method == ReviewMethod.IMPORT:
                raise StoreError(
                    f"review {review_id} was imported and cannot be undone here: "
                    "it came from another review log (re-import that log instead)"
                )
            recomputed = self.latest_recompute()  # (one made after a review is later than it)
            if recomputed is not None and recomputed > review.reviewed_at:
                raise StoreError(
                    f"{review.card_id}'s memory state was recomputed with new parameters at "
                    f"{recomputed:%Y-%m-%d %H:%M:%S} UTC, after this rating: only a rating made "
                    "since can be undone"
                )
            conn.execute(
                "INSERT INTO undos (review_id, undone_at) VALUES (?, ?)", (review_id, iso(now))
            )
            if review.state_before is None:  # the card had no row before its first rating
                # a suspension made since stays, on the card new again (as `suspend` leaves a
                # card never rated: a row with no state); it was deleted with the row
                conn.execute(
                    "DELETE FROM cards WHERE card_id = ? AND suspended = 0", (review.card_id,)
                )
                conn.execute(
                    "UPDATE cards SET fsrs = NULL, content_hash = NULL, lapses = 0, reps = 0"
                    " WHERE card_id = ?",
                    (review.card_id,),
                )
            else:
                _write_state(conn, review.state_before)
            after = self.state(review.card_id)  # (in the transaction: what it wrote, no later)
        return after or CardState(card_id=review.card_id)

    def reviews(
        self,
        card_id: str | None = None,
        *,
        card_prefix: str | None = None,
        include_undone: bool = False,
        since: datetime | None = None,
        oldest_first: bool = False,
        by_time: bool = False,
        limit: int | None = None,
    ) -> list[Review]:
        """Reviews, the latest recorded first unless `oldest_first`, or the latest reviewed with
        `by_time` (an imported log records old reviews after newer ones); undone ones only when
        asked; of one card, or of the cards whose ids start with `card_prefix`, or of either
        when both are given; at most `limit`."""
        where, params = _review_filter(card_id, card_prefix, include_undone, since)
        sql = f"SELECT {_REVIEW_COLUMNS} FROM {_REVIEW_FROM}{where}"
        order = " DESC" if not oldest_first else ""
        sql += (
            f" ORDER BY r.reviewed_at{order}, r.id{order}" if by_time else f" ORDER BY r.id{order}"
        )
        sql += f" LIMIT {int(limit)}" if limit is not None else ""
        return [_review(row) for row in self.conn.execute(sql, params)]

    def count_reviews(self, card_id: str | None = None, *, card_prefix: str | None = None) -> int:
        """How many reviews `reviews` gives with these filters (and no limit)."""
        where, params = _review_filter(card_id, card_prefix, False, None)
        (count,) = self.conn.execute(
            f"SELECT COUNT(*) FROM {_REVIEW_FROM}{where}", params
        ).fetchone()
        return count

    def counts_since(self, since: datetime) -> dict[str, int]:
        """Ratings since `since` (not undone, not cram) per queue: how many new cards were
        introduced and how many review cards were answered, for the daily limits."""
        return self.studied_since(since)[0]

    def studied_since(
        self, since: datetime, until: datetime | None = None
    ) -> tuple[dict[str, int], set[str], set[str]]:
        """What the queue needs of the ratings since `since` (not undone, not cram), and
        before `until` if given: their counts per queue (`counts_since`), the ids rated, and
        the ids rated new (first studied then: the decks' turns of `new_order`). One query: a
        study day holds hundreds of ratings at most."""
        counts: dict[str, int] = {}
        rated = set()
        introduced = set()
        end = "9999" if until is None else iso(until)  # (every stored time is before it)
        for queue, card_id in self.conn.execute(
            f"SELECT r.queue, r.card_id FROM {_LOG_FROM} WHERE {SCHEDULED}"
            " AND r.reviewed_at >= ? AND r.reviewed_at < ?",
            (iso(since), end),
        ):
            counts[queue] = counts.get(queue, 0) + 1
            rated.add(card_id)
            if queue == "new":
                introduced.add(card_id)
        return counts, rated, introduced

    def _review(self, review_id: int) -> Review | None:
        row = self.conn.execute(
            f"SELECT {_REVIEW_COLUMNS} FROM {_REVIEW_FROM} WHERE r.id = ?", (review_id,)
        ).fetchone()
        return _review(row) if row else None


_STATE_COLUMNS = "card_id, fsrs, content_hash, lapses, reps, suspended"
# A moved study item's state row onto its new id (`Store.move_items`): the new id's state where
# it has one, else the old one's (either way replayed after, from the reviews moved); suspended
# if either is. (In DO UPDATE, a bare column is the new id's row as it was.)
_MOVE_STATE = (
    f"INSERT INTO cards ({_STATE_COLUMNS}) SELECT ?, fsrs, content_hash, lapses, reps, suspended"
    " FROM cards WHERE card_id = ? ON CONFLICT (card_id) DO UPDATE SET"
    " suspended = max(suspended, excluded.suspended),"
    " content_hash = CASE WHEN fsrs IS NULL THEN excluded.content_hash ELSE content_hash END,"
    " lapses = CASE WHEN fsrs IS NULL THEN excluded.lapses ELSE lapses END,"
    " reps = CASE WHEN fsrs IS NULL THEN excluded.reps ELSE reps END,"
    " fsrs = ifnull(fsrs, excluded.fsrs)"
)
_MOVE_BURIAL = (
    "INSERT INTO buried (card_id, until) SELECT ?, until FROM buried WHERE card_id = ?"
    " ON CONFLICT (card_id) DO UPDATE SET until = max(until, excluded.until)"
)


def _review_filter(
    card_id: str | None, card_prefix: str | None, include_undone: bool, since: datetime | None
) -> tuple[str, list[str]]:
    """The WHERE clause (empty, or with a leading space) of `Store.reviews` and its parameters."""
    where, params = [], []
    ids = []  # the card, or the cards of the prefix, or either
    if card_id is not None:
        ids.append("r.card_id = ?")
        params.append(card_id)
    if card_prefix:  # a range, not LIKE: no wildcards to escape, and reviews_by_card_time serves it
        ids.append("r.card_id >= ? AND r.card_id < ?")
        params += [card_prefix, card_prefix[:-1] + chr(ord(card_prefix[-1]) + 1)]
    if ids:
        where.append(f"({' OR '.join(ids)})")
    if not include_undone:
        where.append("u.review_id IS NULL")
    if since is not None:
        where.append("r.reviewed_at >= ?")
        params.append(iso(since))
    return (" WHERE " + " AND ".join(where)) if where else "", params


def staged_reviews(text: str) -> list[tuple[str, int, int | None]]:
    """A card's staged reviews from `Store.staged_histories`'s text: (reviewed_at, rating,
    duration_ms) in time order."""
    reviews = text.split(",")
    reviews.sort()  # the times have one shape (`iso`): text order is time order
    return [
        (moment, int(rating), int(duration) if duration else None)
        for moment, rating, duration in (review.split(" ") for review in reviews)
    ]


def _state(row: tuple) -> CardState:
    return CardState(
        card_id=row[0],
        fsrs=row[1],
        content_hash=row[2],
        lapses=row[3],
        reps=row[4],
        suspended=bool(row[5]),
    )


def _write_state(conn: sqlite3.Connection, state: CardState) -> None:
    conn.execute(
        "INSERT INTO cards (card_id, fsrs, content_hash, lapses, reps) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (card_id) DO UPDATE SET fsrs = excluded.fsrs,"
        " content_hash = excluded.content_hash, lapses = excluded.lapses, reps = excluded.reps",
        (state.card_id, state.fsrs, state.content_hash, state.lapses, state.reps),
    )


def _scheduler_id(conn: sqlite3.Connection, settings: str) -> int:
    conn.execute("INSERT OR IGNORE INTO schedulers (settings) VALUES (?)", (settings,))
    return conn.execute("SELECT id FROM schedulers WHERE settings = ?", (settings,)).fetchone()[0]


def _review(row: tuple) -> Review:
    import json

    before = CardState.from_dict(json.loads(row[10])) if row[10] else None
    return Review(
        id=row[0],
        card_id=row[1],
        rating=row[2],
        reviewed_at=parse_time(row[3]),
        duration_ms=row[4],
        method=row[5],
        check_status=row[6],
        content_hash=row[7],
        queue=row[8],
        scheduler=row[9],
        state_before=before,
        state_after=row[11],
        undone=bool(row[12]),
    )
