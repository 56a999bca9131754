"""Importing a review log (`ImportMixin`, a part of `Store`), as review_io.py drives it: staged
in a temporary table, then replayed by card. The frame (`importing`: one write transaction, the
temporary table `staged` for the file's reviews), the rows staged (`stage`) and settled
(`settle_staged`: one review per card and time, those the log has left out, the file's undos
applied to the log's reviews, the `Conflicts` counted), read back by card (`staged_cards`,
`staged_histories`, `staged_reviews`), then the replayed reviews appended (`bulk`,
`append_imported`, `mark_undone`) and the log's reviews' schedule written again
(`write_schedule`). A dry run (`importing(dry_run=True)`) stages and settles in a read
snapshot (the undos counted, not applied), and stops there.

`Store` (store.py) inherits it; it works through `StoreConnection` (store_connection.py) on the
tables that migrations.py makes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from .review_records import CardState, ReviewMethod
from .store_connection import StoreConnection
from .store_sql import (
    _UNDONE_JOIN,
    CRAM_KIND,
    NOT_CRAM,
    _scheduler_id,
    _write_state,
    recount_outcomes,
)
from .times import iso, parse_time

_STAGING = ("staged", "staged_rows", "staged_undone")  # the temporary tables of an import
_IMPORT_CACHE_KIB = 64 * 1024  # page cache while importing: at most this much memory
_STAGE_CACHE_KIB = 32 * 1024  # the same for the temporary table of the file's reviews
_BULK_FROM = 10_000  # an import of this many reviews or more may rebuild the indexes
_APPEND_SQL = (
    "INSERT INTO reviews (card_id, rating, reviewed_at, duration_ms, content_hash, queue,"
    " state_after, method, check_status, state_before, scheduler_id) VALUES "
)
IMPORTED_COLUMNS = 7  # values per review that `Store.append_imported` takes
_APPEND_ROWS = 999 // IMPORTED_COLUMNS  # imported reviews per INSERT (SQLite < 3.32: 999 values)
# The file's reviews that the log holds undone, and only undone: a rating the learner took back
# here. One the log holds undone and standing too is no such rating: a renamed card's review
# held under both ids was kept once, its copy marked undone (`store_renames._UNDO_TWINS`), and
# a rating undone and given again at the same time (a fixed STUDYCLI_NOW) stands. Each card and
# time once. (The undos drive it, CROSS JOIN: SQLite scanned the whole log, 3x a small import.)
_UNDONE_HERE = (
    "SELECT COUNT(*) FROM (SELECT DISTINCT r.card_id, r.reviewed_at"
    " FROM undos u CROSS JOIN reviews r ON r.id = u.review_id"
    " JOIN temp.staged s ON s.card_id = r.card_id AND s.reviewed_at = r.reviewed_at"
    f" WHERE {NOT_CRAM} AND NOT EXISTS (SELECT 1 FROM reviews k"
    " WHERE k.card_id = r.card_id AND k.reviewed_at = r.reviewed_at"
    f" AND k.method != '{ReviewMethod.CRAM.value}'"
    " AND k.id NOT IN (SELECT review_id FROM undos)))"
)


class Conflicts:
    """An import's rows left out that gave another rating for a card and time than the log
    has, or than an earlier row of the file (a review is its card and time: an import never
    changes a rating): how many, and the first `SHOWN` as (card_id, reviewed_at, the row's
    rating, the other rating, where that one is: "log" or "file"); how many rows were left
    out as ratings undone in the log (`undone`); and what became of the file's undone rows:
    `applied`, those whose rating stood in the log and is undone now (their cards,
    `undone_cards`, to be replayed), `undone_new`, those the log did not have, staged to be
    logged undone (`undone_new_cards`: how many of each card)."""

    SHOWN = 3

    def __init__(self) -> None:
        self.count = 0
        self.first: list[tuple[str, str, int, int, str]] = []
        self.undone = 0  # rows left out as reviews undone in the log (not conflicts: a count)
        self.applied = 0
        self.undone_cards: set[str] = set()
        self.undone_new = 0
        self.undone_new_cards: dict[str, int] = {}  # of those, how many, by card

    def add(self, conn: sqlite3.Connection, query: str, columns: str, order: str) -> None:
        """Count those `query` finds (its {} takes the columns) and keep its first few."""
        self.count += conn.execute(query.format("COUNT(*)")).fetchone()[0]
        if len(self.first) < self.SHOWN:
            found = conn.execute(f"{query.format(columns)} ORDER BY {order} LIMIT {self.SHOWN}")
            self.first += found.fetchall()[: self.SHOWN - len(self.first)]


class ImportMixin(StoreConnection):
    """`Store`'s import of a review log (see store.py)."""

    @contextmanager
    def importing(
        self, scheduler: str, *, sort_threads: int = 0, dry_run: bool = False
    ) -> Iterator[int | None]:
        """The frame of an import: one write transaction (a failure or a kill anywhere in it
        leaves the store as it was), an empty temporary table `staged` for the file's
        reviews (see `stage`), a bounded page cache, SQLite's sorts (the staged rows, an index
        made again) helped by `sort_threads` threads; yields the id of `scheduler` (the fsrs
        `Scheduler.to_json()` the imported reviews are scheduled with).

        With `dry_run` (a store opened `as_is`, read-only), one read snapshot instead, which
        takes no write lock (a review in another terminal goes on), and only the temporary
        tables written: the reviews are staged and settled as an import's are, nothing can be
        appended, and None is yielded (no scheduler row is written either).
        """
        frame = self._trial() if dry_run else self.transaction()
        with frame as conn:
            kept = {
                pragma: conn.execute(f"PRAGMA {pragma}").fetchone()[0]
                for pragma in ("cache_size", "temp.cache_size", "threads")
            }
            conn.execute(f"PRAGMA cache_size = {-_IMPORT_CACHE_KIB}")
            conn.execute(f"PRAGMA temp.cache_size = {-_STAGE_CACHE_KIB}")
            conn.execute(f"PRAGMA threads = {int(sort_threads)}")
            for table in _STAGING:
                conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
            # the file's rows that stand as they come (appended: cheap), then sorted once into
            # `staged`, where a review's identity, (card, time), is the key; its undone rows
            # (few) apart, each card and time once, the first the file gives
            conn.execute(
                "CREATE TEMP TABLE staged_rows (card_id TEXT NOT NULL,"
                " reviewed_at TEXT NOT NULL, rating INTEGER NOT NULL, duration_ms INTEGER,"
                " undone_at TEXT, content_hash TEXT)"
            )
            conn.execute(
                "CREATE TEMP TABLE staged (card_id TEXT NOT NULL, reviewed_at TEXT NOT NULL,"
                " rating INTEGER NOT NULL, duration_ms INTEGER, content_hash TEXT,"
                " undone_at TEXT, PRIMARY KEY (card_id, reviewed_at)) WITHOUT ROWID"
            )
            conn.execute(
                "CREATE TEMP TABLE staged_undone (card_id TEXT NOT NULL,"
                " reviewed_at TEXT NOT NULL, rating INTEGER NOT NULL, duration_ms INTEGER,"
                " content_hash TEXT, undone_at TEXT NOT NULL,"
                " PRIMARY KEY (card_id, reviewed_at)) WITHOUT ROWID"
            )
            try:
                yield None if dry_run else _scheduler_id(conn, scheduler)
                for table in _STAGING:  # on a failure, the rollback does it
                    conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
            finally:
                for pragma, value in kept.items():
                    conn.execute(f"PRAGMA {pragma} = {int(value)}")

    @contextmanager
    def _trial(self) -> Iterator[sqlite3.Connection]:
        """A dry run's frame (see `importing`): a read snapshot, temporary tables written."""
        with self.snapshot(), self.temp_writes():
            yield self.conn

    def stage(
        self, rows: Sequence[tuple[str, str, int, int | None, str | None, str | None]]
    ) -> None:
        """Add reviews (card_id, reviewed_at as `iso()`, rating, duration_ms, the time it was
        undone as `iso()` or None, content hash or None) to the import, in file order (see
        `settle_staged`)."""
        undone = [row for row in rows if row[4] is not None]
        if undone:
            self.conn.executemany(
                "INSERT OR IGNORE INTO temp.staged_undone (card_id, reviewed_at, rating,"
                " duration_ms, undone_at, content_hash) VALUES (?, ?, ?, ?, ?, ?)",
                undone,
            )
            rows = [row for row in rows if row[4] is None]
        self.conn.executemany(  # (undone_at: None, every row here; bound all the same)
            "INSERT INTO temp.staged_rows (card_id, reviewed_at, rating, duration_ms,"
            " undone_at, content_hash) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def settle_staged(self, now: datetime | None = None, *, dry_run: bool = False) -> Conflicts:
        """Once every row is staged: keep one review per (card, time), the first the file
        gives, in `staged`, and leave out those the log has already: in the schedule, or
        undone (an export made before the undo brings the rating back, not the undone one
        back to life). The file's undone rows (`_settle_undone`) undo the log's rating where
        it stands, and those the log has not are staged to be logged undone. Returns the
        rows left out that gave another rating for their card and time than the log has, or
        than the file's first row for them, and what became of the undone rows. `now`: when
        the undos are made here (default: the clock's time); with `dry_run`, they are
        counted, not made."""
        staged = self.conn.execute("SELECT max(rowid) FROM temp.staged_rows").fetchone()[0]
        kept = self.conn.execute(
            "INSERT OR IGNORE INTO temp.staged (card_id, reviewed_at, rating, duration_ms,"
            " content_hash) SELECT card_id, reviewed_at, rating, duration_ms, content_hash"
            " FROM temp.staged_rows ORDER BY card_id, reviewed_at, rowid"
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
        logged = self.conn.execute("SELECT 1 FROM reviews LIMIT 1").fetchone() is not None
        if logged:
            conflicts.add(
                self.conn,
                "SELECT {} FROM reviews r JOIN temp.staged s"
                " ON s.card_id = r.card_id AND s.reviewed_at = r.reviewed_at"
                f" WHERE r.card_id IN (SELECT card_id FROM temp.staged) AND {NOT_CRAM}"
                " AND r.rating != s.rating AND r.id NOT IN (SELECT review_id FROM undos)",
                "r.card_id, r.reviewed_at, s.rating, r.rating, 'log'",
                "r.card_id, r.reviewed_at",
            )
            conflicts.undone = self.conn.execute(_UNDONE_HERE).fetchone()[0]
        if self.conn.execute("SELECT 1 FROM temp.staged_undone LIMIT 1").fetchone():
            made = None if dry_run else self._undo_time(now or datetime.now(UTC))
            self._settle_undone(conflicts, logged, made)
        # the touched cards' reviews read in card order (`reviews_by_card_time`), not a lookup
        # in the time index per staged row: half the time when the log has them all
        self.conn.execute(
            "DELETE FROM temp.staged WHERE (card_id, reviewed_at) IN"
            " (SELECT r.card_id, r.reviewed_at FROM reviews r"
            f" WHERE r.card_id IN (SELECT card_id FROM temp.staged) AND {NOT_CRAM})"
        )
        if conflicts.undone_new:  # (after: the log has none of them)
            self.conn.execute(
                "INSERT INTO temp.staged (card_id, reviewed_at, rating, duration_ms,"
                " content_hash, undone_at) SELECT card_id, reviewed_at, rating, duration_ms,"
                " content_hash, undone_at FROM temp.staged_undone"
            )
        return conflicts

    def _undo_time(self, now: datetime) -> str:
        """When the undos an import applies are logged: at `now`, or just after the log's
        latest review where that is later (a review from a machine whose clock is ahead, or
        a rating logged just after one: `rating.rating_time`). `Store.undo` tells a rating
        given before such an undo, on the state it took back, by its time: one given before
        it and timed after it was let through, and put back a state no replay gives."""
        (latest,) = self.conn.execute("SELECT max(reviewed_at) FROM reviews").fetchone()
        made = iso(now)
        if latest is not None and latest >= made:
            return iso(parse_time(latest) + timedelta(microseconds=1))
        return made

    def _settle_undone(self, conflicts: Conflicts, logged: bool, now: str | None) -> None:
        """The file's undone rows (`staged_undone`): one the file also gives standing is that
        one's twin, or a rating undone and given again at the same time, and stands (left
        out); one whose rating stands in the log is undone there now (`Conflicts.applied`,
        its card to be replayed: the undone rating need not be the card's latest); one the
        log has undone already is left out; one with another rating than the log's for its
        card and time is a conflict; the rest the log has not at all, and they stay, to be
        logged undone (`Conflicts.undone_new`: no rating, so that the rating, brought back
        by an export made before the undo, is left out as undone here). An undo made here
        is timed `now` (the import's time, or just after the log's latest review:
        `_undo_time`; `Store.undo` refuses a rating given before it on the state it undid;
        None: a dry run, which makes none), one logged undone at the file's time."""
        self.conn.execute(
            "DELETE FROM temp.staged_undone WHERE EXISTS (SELECT 1 FROM temp.staged s"
            " WHERE s.card_id = staged_undone.card_id"
            " AND s.reviewed_at = staged_undone.reviewed_at)"
        )
        if logged:
            conflicts.add(
                self.conn,
                "SELECT {} FROM temp.staged_undone s JOIN reviews r"
                " ON r.card_id = s.card_id AND r.reviewed_at = s.reviewed_at"
                f" WHERE {NOT_CRAM} AND r.rating != s.rating"
                " AND r.id NOT IN (SELECT review_id FROM undos)",
                "r.card_id, r.reviewed_at, s.rating, r.rating, 'log'",
                "r.card_id, r.reviewed_at",
            )
            standing = self.conn.execute(
                "SELECT r.id, s.card_id, s.reviewed_at FROM temp.staged_undone s"
                " JOIN reviews r ON r.card_id = s.card_id AND r.reviewed_at = s.reviewed_at"
                f" WHERE {NOT_CRAM} AND r.rating = s.rating"
                " AND r.id NOT IN (SELECT review_id FROM undos)"
            ).fetchall()
            if now is not None:
                self.conn.executemany(
                    "INSERT INTO undos (review_id, undone_at) VALUES (?, ?)",
                    [(review_id, now) for review_id, _, _ in standing],
                )
            conflicts.applied = len({(card, moment) for _, card, moment in standing})
            conflicts.undone_cards = {card for _, card, _ in standing}
            self.conn.execute(
                "DELETE FROM temp.staged_undone WHERE EXISTS (SELECT 1 FROM reviews r"
                " WHERE r.card_id = staged_undone.card_id"
                f" AND r.reviewed_at = staged_undone.reviewed_at AND {NOT_CRAM})"
            )
        conflicts.undone_new_cards = dict(
            self.conn.execute("SELECT card_id, COUNT(*) FROM temp.staged_undone GROUP BY card_id")
        )
        conflicts.undone_new = sum(conflicts.undone_new_cards.values())

    def staged_cards(self) -> list[tuple[str, int]]:
        """(card_id, how many staged reviews) of each card with staged reviews, by id."""
        return self.conn.execute(
            "SELECT card_id, COUNT(*) FROM temp.staged GROUP BY card_id ORDER BY card_id"
        ).fetchall()

    def staged_histories(self, first: str, last: str) -> tuple[list[tuple], list[tuple]]:
        """The cards with staged reviews whose ids are from `first` to `last`: their reviews
        not undone, as (card_id, rating, reviewed_at, scheduler_id, content_hash, id, cram) in
        time order (ties by id; `cram`: 0, or a cram rating, out of the schedule, checked or
        not: `CRAM_KIND`), and, per card by id, its staged reviews in one text, and whether
        one of them has no content hash, as (card_id, text, unhashed): "reviewed_at rating duration_ms content_hash undone" per
        review (duration_ms and content_hash empty when None; undone 1 or 0), joined by
        commas, in no particular order (see `staged_reviews`).

        One row per card, not per review: a million staged reviews are a few thousand rows
        to read here and to send to a replay worker, which takes them apart."""
        logged = self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.scheduler_id, r.content_hash, r.id,"
            f" {CRAM_KIND} FROM reviews r {_UNDONE_JOIN} WHERE r.card_id BETWEEN :first AND :last"
            " AND r.card_id IN"
            "  (SELECT card_id FROM temp.staged WHERE card_id BETWEEN :first AND :last)"
            " AND u.review_id IS NULL ORDER BY r.reviewed_at, r.id",
            {"first": first, "last": last},
        ).fetchall()
        staged = self.conn.execute(
            "SELECT card_id, group_concat(reviewed_at || ' ' || rating || ' '"
            " || ifnull(duration_ms, '') || ' ' || ifnull(content_hash, '') || ' '"
            " || (undone_at IS NOT NULL), ','), max(content_hash IS NULL) FROM temp.staged"
            " WHERE card_id BETWEEN ? AND ? GROUP BY card_id ORDER BY card_id",
            (first, last),
        ).fetchall()
        return logged, staged

    def mark_undone(self, after: int) -> None:
        """Mark undone the reviews appended since review `after` (`latest_review_id`) that
        the file gave undone and the log did not have (`Conflicts.undone_new`), with the
        times the file gives: inside `importing`, once they are appended."""
        self.conn.execute(
            "INSERT INTO undos (review_id, undone_at) SELECT r.id, s.undone_at"
            " FROM temp.staged_undone s JOIN reviews r"
            " ON r.card_id = s.card_id AND r.reviewed_at = s.reviewed_at WHERE r.id > ?",
            (after,),
        )

    @contextmanager
    def bulk(self, count: int) -> Iterator[None]:
        """Around appending `count` reviews inside `importing`: when they at least double the
        log, its time index is dropped first and made again after (sorting once is cheaper
        than a million B-tree inserts at random places), and so is the trigger that counts
        each card's outcomes (migration 0012): they are counted again from the log after
        (300,000 appended: 0.1-0.2 s, where the trigger added 1.6 s, 5 us a review). The card
        index stays: the import reads each card's history through it, and appends to it in
        card order."""
        dropped: list[tuple[str, str, str]] = []
        if count >= _BULK_FROM and count >= self._size():
            dropped = self.conn.execute(
                "SELECT name, sql, type FROM sqlite_master WHERE tbl_name = 'reviews'"
                " AND (type = 'index' AND sql IS NOT NULL AND name != 'reviews_by_card_time'"
                " OR type = 'trigger' AND name = 'review_outcomes_insert')"
            ).fetchall()
        for name, _, kind in dropped:
            self.conn.execute(f'DROP {kind.upper()} "{name}"')
        yield
        for _, sql, _ in dropped:
            self.conn.execute(sql)
        if any(kind == "trigger" for _, _, kind in dropped):
            recount_outcomes(self.conn)

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

    def write_schedule(self, replayed: Iterable[tuple[str, str, int]]) -> None:
        """Write again the schedule of the log's reviews that a replay of a merged history
        changed: (queue, state_after JSON, id) each (see migration 0004)."""
        self.conn.executemany(
            "UPDATE reviews SET queue = ?, state_after = ? WHERE id = ?", replayed
        )


def staged_reviews(text: str) -> list[tuple[str, int, int | None, str | None, bool]]:
    """A card's staged reviews from `Store.staged_histories`'s text: (reviewed_at, rating,
    duration_ms, content_hash, undone) in time order."""
    reviews = text.split(",")
    reviews.sort()  # the times have one shape (`iso`): text order is time order
    return [
        (moment, int(rating), int(duration) if duration else None, made_on or None, undone == "1")
        for moment, rating, duration, made_on, undone in (review.split(" ") for review in reviews)
    ]
