"""The review log (`ReviewLogMixin`, a part of `Store`): a rating recorded with its card's new
state (`record`), the reviews read back (`reviews`, `count_reviews`: the history, undo), and
what a session asks of the ratings since a time (`studied_since`, `rating_after`,
`imported_after`, `undo_count`, `latest_logged`, `latest_scheduled`).

`Store` (store.py) inherits it, and undoes a rating there (`Store.undo`); it works through
`StoreConnection` (store_connection.py) on the `reviews`, `schedulers` and `undos` tables that
migrations.py makes. An import appends its reviews through store_import.py.
"""

from __future__ import annotations

from datetime import datetime

from .review_records import CardState, Review, ReviewMethod
from .store_connection import StoreConnection
from .store_sql import _LOG_FROM, SCHEDULED, _scheduler_id, _unbury, _write_state
from .times import iso, parse_time

_REVIEW_COLUMNS = (
    "r.id, r.card_id, r.rating, r.reviewed_at, r.duration_ms, r.method, "
    "r.check_status, r.content_hash, r.queue, s.settings, r.state_before, "
    "r.state_after, u.review_id IS NOT NULL"
)
_REVIEW_FROM = (
    "reviews r JOIN schedulers s ON s.id = r.scheduler_id LEFT JOIN undos u ON u.review_id = r.id"
)


class ReviewLogMixin(StoreConnection):
    """`Store`'s review log (see store.py)."""

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

    def _review(self, review_id: int) -> Review | None:
        row = self.conn.execute(
            f"SELECT {_REVIEW_COLUMNS} FROM {_REVIEW_FROM} WHERE r.id = ?", (review_id,)
        ).fetchone()
        return _review(row) if row else None

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

    def imported_after(self, review_id: int, undos: int | None = None) -> bool:
        """Whether the log holds imported reviews written after review `review_id`, or, where
        `undos` (an `undo_count`) is given, more undos than that: an import whose file brings
        no review new to the log but ratings undone there appends none, and undoes them."""
        found = self.conn.execute(
            f"SELECT 1 FROM reviews WHERE id > ? AND method = '{ReviewMethod.IMPORT.value}'"
            " LIMIT 1",
            (review_id,),
        ).fetchone()
        return found is not None or (undos is not None and self.undo_count() > undos)

    def undo_count(self) -> int:
        """How many reviews the log holds undone (the undos are appended, never taken out)."""
        (count,) = self.conn.execute("SELECT COUNT(*) FROM undos").fetchone()
        return count

    def latest_logged(self, card_id: str) -> datetime | None:
        """The time of `card_id`'s latest review in the log, undone and cram ones included;
        None if none (`rating.rating_time`)."""
        (moment,) = self.conn.execute(
            "SELECT max(reviewed_at) FROM reviews WHERE card_id = ?", (card_id,)
        ).fetchone()
        return parse_time(moment) if moment else None

    def latest_scheduled(self) -> datetime | None:
        """The time of the log's latest review that makes the schedule; None if none."""
        (moment,) = self.conn.execute(
            f"SELECT max(r.reviewed_at) FROM {_LOG_FROM} WHERE {SCHEDULED}"
        ).fetchone()
        return parse_time(moment) if moment else None


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
