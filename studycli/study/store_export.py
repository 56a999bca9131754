"""What `export-reviews` reads of the store (`ExportMixin`, a part of `Store`): the schedule's
reviews and the undone ones in time order (`exported_rows`, `exporting`: read again from the
tables themselves where an index is damaged), each card's latest scheduler
(`latest_schedulers`), and the counts of what an export leaves out (`methods_count`,
`suspended_count`). The doctor reads them of a damaged file too.

`Store` (store.py) inherits it; review_export.py writes the file. It works through
`StoreConnection` (store_connection.py) on the tables that migrations.py makes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from . import busy
from .review_records import ReviewMethod
from .store_connection import StoreConnection
from .store_sql import _LOG_FROM, NOT_CRAM, SCHEDULED

if TYPE_CHECKING:  # (the CSV module is the export's and the import's: `due` needs none of it)
    from .review_log_write import WrittenRow

_T = TypeVar("_T")

_EXPORTED = "r.card_id, r.rating, r.reviewed_at, r.duration_ms, r.content_hash, u.undone_at"
# An undone review (`r`), written where no review of its card and time stands, and once: a
# renamed card's review the log holds under both ids is kept once, its copy marked undone
# (`store_renames._UNDO_TWINS`), and a rating undone and given again at the same time (a fixed
# STUDYCLI_NOW) stands; of several undone at one time, the first.
_UNDONE_ROW = (
    "NOT EXISTS (SELECT 1 FROM reviews k LEFT JOIN undos v ON v.review_id = k.id"
    " WHERE k.card_id = r.card_id AND k.reviewed_at = r.reviewed_at"
    f" AND k.method != '{ReviewMethod.CRAM.value}' AND (v.review_id IS NULL OR k.id < r.id))"
)


class ExportMixin(StoreConnection):
    """What an export reads of `Store` (see store.py)."""

    def exported_rows(self, *, indexed: bool = True) -> Iterator[WrittenRow]:
        """(card_id, rating, reviewed_at as stored, duration_ms, content_hash, undone_at) of
        the reviews that are not cram ratings, in time order: what `export-reviews` writes.
        Those that make the schedule (undone_at None), and those undone (undone_at the time
        they were undone; `_UNDONE_ROW`). `indexed=False` reads the tables themselves and
        sorts (slower): the same rows that make the schedule from a file whose indexes are
        damaged, and no undone ones (which a lookup per row would find: a scan each)."""
        if indexed:
            return self.conn.execute(
                f"SELECT {_EXPORTED} FROM {_LOG_FROM} WHERE {NOT_CRAM}"
                f" AND (u.review_id IS NULL OR {_UNDONE_ROW}) ORDER BY r.reviewed_at, r.id"
            )
        return self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.duration_ms, r.content_hash, NULL"
            f" FROM reviews r NOT INDEXED WHERE {NOT_CRAM} AND r.id NOT IN (SELECT review_id FROM undos NOT INDEXED)"
            " ORDER BY r.reviewed_at, r.id"
        )

    def exporting(self, write: Callable[[Iterator[WrittenRow]], _T]) -> _T:
        """`write(rows)` of `exported_rows`; where reading them through the indexes fails (a
        damaged index: the doctor sends the learner to export the history of a damaged file),
        again with the tables themselves read whole (an error then is the log's own)."""
        try:
            return write(self.exported_rows())
        except sqlite3.DatabaseError as exc:  # (`write` leaves no half file)
            if busy.is_busy(exc):
                raise
        return write(self.exported_rows(indexed=False))

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

    def methods_count(self) -> dict[str, int]:
        """How many reviews of the log (undone ones left out) were rated each way (`method`):
        self, check, import, cram."""
        rows = self.conn.execute(
            f"SELECT r.method, COUNT(*) FROM {_LOG_FROM} WHERE u.review_id IS NULL GROUP BY r.method"
        )
        return dict(rows.fetchall())

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
