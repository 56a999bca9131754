"""The SQL that several parts of `Store` share: the log's filters (`NOT_CRAM`, `SCHEDULED`,
`_LOG_FROM`: the reviews that make the schedule), a card's state row (`_STATE_COLUMNS`, read by
`_state`, written by `_write_state`), a scheduler's id (`_scheduler_id`), an unburial
(`_unbury`) and each card's outcomes counted again from the log (`recount_outcomes`).

The tables are those migrations.py makes; each part of the store (store_*.py) keeps the SQL it
alone uses.
"""

from __future__ import annotations

import sqlite3

from .review_records import CardState, ReviewMethod

# The reviews that make up the schedule: not undone, not cram (a filter over `r` and `u`).
NOT_CRAM = f"r.method != '{ReviewMethod.CRAM}'"
SCHEDULED = f"u.review_id IS NULL AND {NOT_CRAM}"

_UNDONE_JOIN = "LEFT JOIN undos u ON u.review_id = r.id"
_LOG_FROM = f"reviews r {_UNDONE_JOIN}"

_STATE_COLUMNS = "card_id, fsrs, content_hash, lapses, reps, suspended"


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


def _unbury(conn: sqlite3.Connection, card_id: str) -> None:
    conn.execute("DELETE FROM buried WHERE card_id = ?", (card_id,))


def recount_outcomes(conn: sqlite3.Connection) -> None:
    """Count the `review_outcomes` table (migration 0012) again from the whole log, as the
    migration counts it first: after a bulk import that dropped its insert trigger, and in
    the doctor's repair of a table that differs from the log (a million reviews: 0.2 s)."""
    conn.execute("DELETE FROM review_outcomes")
    conn.execute(
        "INSERT INTO review_outcomes (card_id, reviews, passed)"
        " SELECT card_id, COUNT(*), SUM(rating > 1) FROM reviews"
        f" WHERE queue = 'review' AND method != '{ReviewMethod.CRAM.value}'"
        " AND id NOT IN (SELECT review_id FROM undos) GROUP BY card_id"
    )
