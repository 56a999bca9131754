"""The SQL that several parts of `Store` share: the log's filters (`NOT_CRAM`, `SCHEDULED`,
`_LOG_FROM`: the reviews that make the schedule), a card's state row (`_STATE_COLUMNS`, read by
`_state`, written by `_write_state`), a scheduler's id (`_scheduler_id`), an unburial
(`_unbury`), and each card's outcomes counted again from the log (`recount_outcomes`) with
the table and triggers that keep them (`OUTCOME_TABLE`, `OUTCOME_TRIGGERS`).

The tables are those migrations.py makes; each part of the store (store_*.py) keeps the SQL it
alone uses.
"""

from __future__ import annotations

import sqlite3

from .review_records import CRAMMED, CardState, ReviewMethod

# The reviews that make up the schedule: not undone, not cram (a filter over `r` and `u`).
NOT_CRAM = f"r.method != '{ReviewMethod.CRAM}'"
SCHEDULED = f"u.review_id IS NULL AND {NOT_CRAM}"

# A review's part in a replay (`review_records.CRAMMED`): 0 (it makes the schedule), or a cram
# rating, checked or not (a filter over `r`).
CRAM_KIND = (
    f"CASE WHEN r.method = '{ReviewMethod.CRAM.value}'"
    f" THEN {CRAMMED} + (r.check_status IS NOT NULL) ELSE 0 END"
)

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


# The table of outcomes as the migrations leave it (0012 made it): the doctor makes it again
# where a database that ran 0012 lacks it (dropped by hand), its triggers left failing every
# rating ("no such table"); `test_the_table_and_triggers_kept_here_are_those_the_migrations_make`.
OUTCOME_TABLE = """
        CREATE TABLE review_outcomes (
            card_id TEXT    PRIMARY KEY,
            reviews INTEGER NOT NULL,
            passed  INTEGER NOT NULL
        ) WITHOUT ROWID"""
OUTCOME_MIGRATION = "0012_review_outcomes"

# The triggers that keep `review_outcomes` as the log changes, as the migrations leave them
# (0012 made them): the doctor makes again one that is missing or altered
# (`Store.outcome_triggers_differing`), which the recount alone left to drift again. A
# migration's text is never edited, so this copy is kept beside it; a migration that changes
# one changes it here too (`test_the_triggers_kept_here_are_those_the_migrations_make`).
OUTCOME_TRIGGERS = {
    "review_outcomes_insert": """
        CREATE TRIGGER review_outcomes_insert AFTER INSERT ON reviews
            WHEN NEW.queue = 'review' AND NEW.method != 'cram'
            BEGIN
                INSERT INTO review_outcomes (card_id, reviews, passed)
                    VALUES (NEW.card_id, 1, NEW.rating > 1)
                    ON CONFLICT (card_id) DO UPDATE
                    SET reviews = reviews + 1, passed = passed + excluded.passed;
            END""",
    "review_outcomes_update": """
        CREATE TRIGGER review_outcomes_update AFTER UPDATE OF card_id, queue ON reviews
            WHEN (NEW.card_id IS NOT OLD.card_id OR NEW.queue IS NOT OLD.queue)
                AND NEW.method != 'cram'
                AND NOT EXISTS (SELECT 1 FROM undos WHERE review_id = NEW.id)
            BEGIN
                UPDATE review_outcomes
                    SET reviews = reviews - 1, passed = passed - (OLD.rating > 1)
                    WHERE card_id = OLD.card_id AND OLD.queue = 'review';
                INSERT INTO review_outcomes (card_id, reviews, passed)
                    SELECT NEW.card_id, 1, NEW.rating > 1 WHERE NEW.queue = 'review'
                    ON CONFLICT (card_id) DO UPDATE
                    SET reviews = reviews + 1, passed = passed + excluded.passed;
            END""",
    "review_outcomes_undo": """
        CREATE TRIGGER review_outcomes_undo AFTER INSERT ON undos
            BEGIN
                UPDATE review_outcomes SET reviews = reviews - 1, passed = passed - (
                        SELECT rating > 1 FROM reviews WHERE id = NEW.review_id
                    )
                    WHERE card_id = (
                        SELECT card_id FROM reviews WHERE id = NEW.review_id
                            AND queue = 'review' AND method != 'cram'
                    );
            END""",
}


def same_sql(first: str, second: str) -> bool:
    """Whether two statements are the same but for their layout (SQLite keeps a statement's
    text as it was written: the doctor's copy of a trigger is indented as this file is, the
    migration's as its own). No statement compared holds whitespace inside a literal."""
    return first.split() == second.split()
