"""What a replay of the log reads, and the recomputes it applies (`ReplayMixin`, a part of
`Store`): the reviews that make the schedule (`scheduled_log`), the scheduler settings they were
made with (`schedulers`), and the recomputes of the memory states with new parameters
(`recomputes`, `record_recompute`, `restate_crammed`, `latest_recompute`), and whether
anything follows a review in a replay's order (`replayed_after`). A rebuild (rating.py), an
import (review_io.py, import_replay.py) and the optimiser (api.py) read them.

`Store` (store.py) inherits it; it works through `StoreConnection` (store_connection.py) on the
`reviews`, `schedulers` and `recomputes` tables that migrations.py makes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime

from .review_records import CardState, ReviewMethod
from .store_connection import StoreConnection
from .store_sql import _LOG_FROM, CRAM_KIND, SCHEDULED, _scheduler_id
from .times import iso, parse_time


class ReplayMixin(StoreConnection):
    """What a replay reads of `Store`, and its recomputes (see store.py)."""

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

    def logged_schedule(self) -> list[tuple]:
        """The reviews not undone (cram ones included: each logs the state it left as it
        was), in time order (ties by id), as `scheduled_log` gives them, followed by their id,
        whether it is a cram rating (`CRAM_KIND`: 0, or a cram rating, checked or not), and the queue and state after that the log holds for them
        (derived from the card's history: what a replay gives, `rating.replay_log` compares)."""
        return self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.scheduler_id, r.content_hash, r.id,"
            f" {CRAM_KIND}, r.queue, r.state_after FROM {_LOG_FROM}"
            " WHERE u.review_id IS NULL ORDER BY r.reviewed_at, r.id"
        ).fetchall()

    def schedule_of(self, review_ids: list[int]) -> dict[int, tuple[str, str]]:
        """The (queue, state_after) that the log holds for each of `review_ids`."""
        found: dict[int, tuple[str, str]] = {}
        for first in range(0, len(review_ids), 500):  # (SQLite's bound on variables)
            chunk = review_ids[first : first + 500]
            found.update(
                (review_id, (queue, after))
                for review_id, queue, after in self.conn.execute(
                    "SELECT id, queue, state_after FROM reviews"
                    f" WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
            )
        return found

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

    def record_recompute(self, made_at: datetime, scheduler: str) -> None:
        """Log that from `made_at` on the memory states are those of `scheduler` (its JSON);
        inside the caller's transaction, if any, where the recomputed states are written."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO recomputes (made_at, scheduler_id) VALUES (?, ?)",
                (iso(made_at), _scheduler_id(conn, scheduler)),
            )

    def restate_crammed(self, made_at: datetime, states: Collection[CardState]) -> None:
        """Log `states` (recomputed at `made_at`) as the state after of their cards' cram
        ratings, not undone, timed at or after `made_at`: a replay applies the recompute
        before them, and a cram rating's state after is the state it left as it was. (A
        recompute is timed after every review that makes the schedule, not after a cram
        rating: a cram rating timed later comes of a clock behind, or set back since.)"""
        self.conn.executemany(
            f"UPDATE reviews SET state_after = :fsrs WHERE id IN (SELECT r.id FROM {_LOG_FROM}"
            f" WHERE r.card_id = :card_id AND r.reviewed_at >= :made_at AND r.method = '{ReviewMethod.CRAM.value}'"
            " AND u.review_id IS NULL)",
            [
                {"fsrs": state.fsrs, "card_id": state.card_id, "made_at": iso(made_at)}
                for state in states
            ],
        )

    def replayed_after(self, review_id: int) -> bool:
        """Whether the log holds, after review `review_id` in a replay's order, a review of
        its card, not undone, timed after it (a cram rating logged before a rating timed
        earlier), or a recompute of the memory states at its time or after (one made with the
        clock held at a cram rating's time): `rating.undo`."""
        row = self.conn.execute(
            f"SELECT o.reviewed_at, EXISTS (SELECT 1 FROM {_LOG_FROM} WHERE r.card_id ="
            " o.card_id AND r.reviewed_at > o.reviewed_at AND u.review_id IS NULL)"
            " FROM reviews o WHERE o.id = ?",
            (review_id,),
        ).fetchone()
        if row is None:
            return False
        recomputed = self.latest_recompute()
        return bool(row[1]) or (recomputed is not None and recomputed >= parse_time(row[0]))

    def latest_recompute(self) -> datetime | None:
        """When the memory states were last recomputed; None if never."""
        if not self._has_table("recomputes"):
            return None
        (made_at,) = self.conn.execute("SELECT max(made_at) FROM recomputes").fetchone()
        return parse_time(made_at) if made_at else None
