"""What `export-reviews` reads of the store (`ExportMixin`, a part of `Store`): the schedule's
reviews in time order (`exported_rows`, `exporting`: read again from the tables themselves where
an index is damaged), each card's latest scheduler (`latest_schedulers`), and the counts of what
an export leaves out (`methods_count`, `suspended_count`). The doctor reads
them of a damaged file too.

`Store` (store.py) inherits it; review_io.py writes the file. It works through
`StoreConnection` (store_connection.py) on the tables that migrations.py makes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import TypeVar

from . import busy
from .store_connection import StoreConnection
from .store_sql import _LOG_FROM, NOT_CRAM, SCHEDULED

_T = TypeVar("_T")


class ExportMixin(StoreConnection):
    """What an export reads of `Store` (see store.py)."""

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
