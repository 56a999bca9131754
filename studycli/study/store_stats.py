"""What the statistics read of the log (`StatsMixin`, a part of `Store`): the ratings of a time
window with each card's state before it (`recent_reviews`), each card's passes in review
(`review_outcomes`), and the last rating before a time (`latest_rating_before`: the streak).

`Store` (store.py) inherits it; stats.py computes the statistics. It works through
`StoreConnection` (store_connection.py) on the tables that migrations.py makes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from .store_connection import StoreConnection
from .store_sql import _LOG_FROM, SCHEDULED
from .times import iso, parse_time


class StatsMixin(StoreConnection):
    """What the statistics read of `Store` (see store.py)."""

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
