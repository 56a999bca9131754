"""What a damaged review database still holds, for the doctor: opening a file whose schema
does not read whole (`connect_damaged`), whether its whole review log reads and exports
(`read_log`, `LogReading`), and what still reads of it around its damaged pages
(`readable_log`, `ReadableLog`), which the doctor saves as an export.

Part of the store (see `database.py`): the doctor opens a damaged file through
`database.connect_read_only` where it can, through `connect_damaged` where not, and reads its
log with these; the log's tables are `migrations.py`'s, read here as the tables themselves
(no index), since an index of a damaged file may be damaged too.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from studycli.records import Record

from .busy import is_busy
from .review_log_rows import RECORDED_HASH
from .review_log_write import WrittenRow
from .sqlite_errors import explain


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
    out) as `write_reviews` takes them (card_id, rating, reviewed_at, duration_ms,
    content_hash, None), in time order; `lost`: the ranges of
    review ids (first, last) that do not read, or read as no review; `undos_whole`: whether
    every undo reads (else some undone ratings may be among `scheduled`)."""

    scheduled: list[WrittenRow]
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
    kept: dict[int, WrittenRow] = {}
    cram: set[int] = set()
    columns = "id, method, card_id, rating, reviewed_at, duration_ms, content_hash"
    for id_, method, card_id, rating, reviewed_at, duration, made_on in _read_by_id(
        conn, "reviews", "id", columns, last
    ):
        if _a_review(card_id, rating, reviewed_at, duration):
            if not (isinstance(made_on, str) and RECORDED_HASH.fullmatch(made_on)):
                made_on = None  # (unknown: an import counts it made on the text of today)
            kept[id_] = (card_id, rating, reviewed_at, duration, made_on, None)
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
