"""The cards' states (`CardStatesMixin`, a part of `Store`): one card's or every card's, the
cards due that the queue reads (`schedule`), which are not new, when the next falls due,
suspensions and burials, and states written anew (`replace_states`).

`Store` (store.py) inherits it; it works through `StoreConnection` (store_connection.py) on the
`cards` and `buried` tables that migrations.py makes. A rating writes its card's state with its
review (store_log.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from collections.abc import Set as AbstractSet
from datetime import datetime

from .review_records import REVIEW_STATE, CardState, ReviewCap, Schedule
from .store_connection import StoreConnection
from .store_sql import _STATE_COLUMNS, _state, _unbury, _write_state
from .times import iso, parse_time

# A card's due time and fsrs state, as the index cards_by_due (migrations 0003, 0005) holds them.
_DUE = "json_extract(fsrs, '$.due')"
_STATE = "json_extract(fsrs, '$.state')"
# Its last review, read where the queue needs it (not in the index: a read of the row): due
# from :near on, or in learning and due after :learning (see `schedule`)
_LAST_REVIEW = (
    f"CASE WHEN {_DUE} >= :near OR ({_STATE} != {REVIEW_STATE} AND {_DUE} > :learning)"
    " THEN json_extract(fsrs, '$.last_review') END"
)
_LAST_REVIEWED = "json_extract(fsrs, '$.last_review')"
# `due_rows` counts ids as few under a `_FEW`th of the cards: a row looked up by id costs what
# a read by due time pays to walk past `_FEW` entries of the due index (4 us against 0.12 on
# the 2-core box). It reads `_SCAN_LEAST` rows by due time at least before it looks ids up.
_FEW, _SCAN_LEAST = 32, 64


def _json_list(texts: list[str]) -> str:
    import json  # (here: 2 ms to import, which a command that looks no ids up does without)

    return json.dumps(texts)


class CardStatesMixin(StoreConnection):
    """`Store`'s cards' states (see store.py)."""

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
        near: str = "",
        learning: str = "",
    ) -> Schedule:
        """The cards due at or before `until` and the cards that are not new (see `Schedule`);
        `seen` when the caller knows them already (see `not_new`). With `reviews`, the cards
        in review (fsrs's State.Review) are only those the cap asks for: the first that a
        queue can show today, rather than every review card due (thousands, in a large
        collection studied every few days). Each card's last review is read where it is due at or
        after `near`, or in learning and due after `learning` (stored text; "": every card's).

        Reads only the rows it returns (an index on the due time), not every card's state,
        and a row itself only for its last review.
        """
        capped = f" AND {_STATE} != {REVIEW_STATE}" if reviews is not None else ""
        due = self.conn.execute(
            f"SELECT card_id, {_STATE}, {_DUE}, {_LAST_REVIEW} FROM cards WHERE suspended = 0"
            f" AND fsrs IS NOT NULL AND {_DUE} <= :until{capped} ORDER BY {_DUE}, card_id",
            {"until": iso(until), "near": near, "learning": learning},
        ).fetchall()
        if reviews is not None:
            due += self._first_reviews(reviews, near)
        return Schedule(due=due, seen=self.not_new() if seen is None else seen)

    def _first_reviews(self, cap: ReviewCap, near: str) -> list[tuple[str, int, str, str | None]]:
        """The review cards due by `cap.now`, by due time then id, the first `cap.limit` of
        those in `cap.cards`: read a page at a time (one page, when most cards are wanted)."""
        found: list[tuple[str, int, str, str | None]] = []
        # (named parameters, bound from a dict: Python 3.12.3, Ubuntu 24.04's, took numbered
        # ones (?1) bound from a tuple for named ones and warned, python/cpython#117995; with
        # warnings as errors, as the tests run, every review session with reviews due failed)
        at = {"now": iso(cap.now), "due": "", "card": "", "near": near, "learning": ""}
        page = max(cap.limit, 64)
        while len(found) < cap.limit:
            rows = self.conn.execute(
                f"SELECT card_id, {_STATE}, {_DUE}, {_LAST_REVIEW} FROM cards WHERE suspended = 0"
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

    def due_rows(
        self, card_ids: Collection[str], *, review: bool, after: datetime | None = None
    ) -> Iterator[tuple[str, str | None]]:
        """The due times and last reviews (stored text) of these cards (studied, not
        suspended), in review or not (`review`), by due time then id, of those due after
        `after` when given: read as they are asked for (the first few, often).

        What this costs grows with the ids asked about, not with the collection. They are read
        by due time across every card, which finds a deck's first rows at once (the reviews
        due, asked about by `due`), but at most as many rows as there are ids, or
        `_SCAN_LEAST` where they are few (under a `_FEW`th of the cards): a deck behind the
        others (a topic just studied, behind thousands due) is then looked up by id from
        there. A few in learning are looked up at once: a read of the cards in learning by due
        time walks past every review due before them.
        """
        where = f"suspended = 0 AND fsrs IS NOT NULL AND {_STATE} {'=' if review else '!='}"
        where += f" {REVIEW_STATE}{f' AND {_DUE} > :after' if after is not None else ''}"
        at = {"after": "" if after is None else iso(after), "due": "", "card": ""}
        (cards,) = self.conn.execute("SELECT count(*) FROM cards").fetchone()  # (its pages')
        few = len(card_ids) * _FEW < cards
        limit = _SCAN_LEAST if few else max(len(card_ids), _SCAN_LEAST)
        if review or not few:
            read = 0
            for card_id, due, last in self.conn.execute(
                f"SELECT card_id, {_DUE}, {_LAST_REVIEWED} FROM cards WHERE {where}"
                f" ORDER BY {_DUE}, card_id LIMIT {limit}",
                at,
            ):
                read += 1
                if card_id in card_ids:
                    yield due, last
            if read < limit:
                return
            at.update(due=due, card=card_id)
        at["ids"] = _json_list(sorted(card_ids))  # (in order: the index's pages in turn)
        # each id found by the primary key's index (CROSS JOIN keeps the ids the outer loop)
        yield from self.conn.execute(
            f"SELECT {_DUE}, {_LAST_REVIEWED} FROM json_each(:ids) AS asked CROSS JOIN cards"
            f" ON cards.card_id = asked.value WHERE {where} AND ({_DUE}, card_id) > (:due, :card)"
            f" ORDER BY {_DUE}, card_id",
            at,
        )

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

    def suspended(self) -> set[str]:
        """The ids of the suspended cards."""
        return {c for (c,) in self.conn.execute("SELECT card_id FROM cards WHERE suspended = 1")}
