"""The review database's schema, as named migrations applied in order, each in its own transaction.

A migration is never edited once released: change the schema by appending a new one. The
`migrations` table records which have run, so a database made by a newer studycli is refused
instead of being misread. Before a migration runs on an existing database, the store writes
a backup of it next to it (`<db>.before-<migration>.bak`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

# fsrs 6's default parameters as a scheduler's JSON holds them (0011 records them as NULL)
_FSRS6_DEFAULTS = (
    "[0.212,1.2931,2.3065,8.2956,6.4133,0.8334,3.0194,0.001,1.8722,0.1666,0.796,1.4835,0.0614,"
    "0.2629,1.6483,0.6014,1.8729,0.5425,0.0912,0.0658,0.1542]"
)

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_review_log",
        """
        -- The source of truth: one row per rating, never updated or deleted.
        CREATE TABLE reviews (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            card_id       TEXT    NOT NULL,
            rating        INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            reviewed_at   TEXT    NOT NULL,  -- UTC, ISO-8601 with microseconds
            duration_ms   INTEGER,
            method        TEXT    NOT NULL CHECK (method IN ('self', 'check')),
            check_status  TEXT    CHECK (check_status IN ('pass', 'fail', 'error', 'timeout')),
            content_hash  TEXT    NOT NULL,  -- the card's text when it was rated
            queue         TEXT    NOT NULL,  -- new, learning, review or relearning before the rating
            scheduler_id  INTEGER NOT NULL REFERENCES schedulers (id),
            state_before  TEXT,              -- the card's state row before (JSON), for exact undo
            state_after   TEXT    NOT NULL   -- fsrs Card.to_json() after the rating
        );
        CREATE INDEX reviews_by_card ON reviews (card_id, id);
        CREATE INDEX reviews_by_time ON reviews (reviewed_at);

        -- The fsrs Scheduler settings each review was made with (Scheduler.to_json()), so that a
        -- replay reproduces every interval even after the settings change.
        CREATE TABLE schedulers (
            id       INTEGER PRIMARY KEY,
            settings TEXT NOT NULL UNIQUE
        );

        -- An undo appends a row here; the undone review stays in the log, marked.
        CREATE TABLE undos (
            review_id INTEGER PRIMARY KEY REFERENCES reviews (id),
            undone_at TEXT NOT NULL
        );

        -- Each card's current state: derived from the log (see review.rebuild), kept for speed.
        CREATE TABLE cards (
            card_id      TEXT PRIMARY KEY,
            fsrs         TEXT,               -- fsrs Card.to_json(); NULL while the card is new
            content_hash TEXT,               -- the card's text at its last review
            lapses       INTEGER NOT NULL DEFAULT 0,
            reps         INTEGER NOT NULL DEFAULT 0,
            suspended    INTEGER NOT NULL DEFAULT 0
        );

        CREATE TRIGGER reviews_append_only_update BEFORE UPDATE ON reviews
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER reviews_append_only_delete BEFORE DELETE ON reviews
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER undos_append_only_update BEFORE UPDATE ON undos
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER undos_append_only_delete BEFORE DELETE ON undos
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
    """,
    ),
    (
        "0002_review_methods_cram_import",
        """
        -- Two more ways a rating enters the log: `cram` (studied out of schedule, which it does
        -- not move) and `import` (history from a CSV file, e.g. another machine's export).
        -- SQLite cannot widen a CHECK in place, so the log is copied into a table that allows
        -- them, and `undos` (whose foreign key must follow) is copied too; every row and id is
        -- kept, and the indexes and the append-only triggers are made again. The checks are
        -- written with OR: SQLite evaluates `x IN (list)` in a CHECK at some microseconds a
        -- row, which a million-review import pays twice over.
        ALTER TABLE reviews RENAME TO reviews_0001;
        CREATE TABLE reviews (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            card_id       TEXT    NOT NULL,
            rating        INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            reviewed_at   TEXT    NOT NULL,  -- UTC, ISO-8601 with microseconds
            duration_ms   INTEGER,
            method        TEXT    NOT NULL CHECK (
                method = 'self' OR method = 'check' OR method = 'cram' OR method = 'import'
            ),
            check_status  TEXT    CHECK (
                check_status = 'pass' OR check_status = 'fail' OR check_status = 'error'
                OR check_status = 'timeout'
            ),
            content_hash  TEXT    NOT NULL,  -- the card's text when it was rated
            queue         TEXT    NOT NULL,  -- new, learning, review or relearning before the rating
            scheduler_id  INTEGER NOT NULL REFERENCES schedulers (id),
            state_before  TEXT,              -- the card's state row before (JSON), for exact undo
            state_after   TEXT    NOT NULL   -- fsrs Card.to_json() after the rating
        );
        INSERT INTO reviews SELECT * FROM reviews_0001;
        CREATE TABLE undos_0002 (
            review_id INTEGER PRIMARY KEY REFERENCES reviews (id),
            undone_at TEXT NOT NULL
        );
        INSERT INTO undos_0002 SELECT * FROM undos;
        DROP TABLE undos;
        ALTER TABLE undos_0002 RENAME TO undos;
        DROP TABLE reviews_0001;
        CREATE INDEX reviews_by_card ON reviews (card_id, id);
        CREATE INDEX reviews_by_time ON reviews (reviewed_at);
        CREATE TRIGGER reviews_append_only_update BEFORE UPDATE ON reviews
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER reviews_append_only_delete BEFORE DELETE ON reviews
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER undos_append_only_update BEFORE UPDATE ON undos
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER undos_append_only_delete BEFORE DELETE ON undos
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
    """,
    ),
    (
        "0003_due_index",
        """
        -- Each card's due time and fsrs state, indexed as SQLite reads them from its fsrs JSON
        -- (stored once, there): what is due is found without reading every card's state. Due
        -- times are fsrs's UTC ISO-8601 text, whose order is time order. The second index
        -- holds the ids of the cards that are not new (studied or suspended). The store's
        -- queries repeat these expressions word for word, or SQLite would not use the index.
        CREATE INDEX cards_by_due
            ON cards (json_extract(fsrs, '$.due'), card_id, json_extract(fsrs, '$.state'))
            WHERE suspended = 0 AND fsrs IS NOT NULL;
        CREATE INDEX cards_not_new ON cards (card_id) WHERE fsrs IS NOT NULL OR suspended = 1;
    """,
    ),
    (
        "0004_replayed_schedule",
        """
        -- What a review records stays as it was: its card, rating, time, method, check and
        -- content. Its queue and state after are the schedule's, derived from the card's
        -- history: an import that adds a review before it (another machine's, rated in
        -- between) replays the card and writes them again, so that two machines holding the
        -- same log hold the same schedule (and show the same retention).
        DROP TRIGGER reviews_append_only_update;
        CREATE TRIGGER reviews_append_only_update BEFORE UPDATE OF
            id, card_id, rating, reviewed_at, duration_ms, method, check_status, content_hash,
            scheduler_id, state_before ON reviews
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
    """,
    ),
    (
        "0005_due_index_on_expressions",
        """
        -- 0003 was released twice under one name: first as an index on two generated
        -- columns (due, fsrs_state), then on the expressions themselves. A database made by
        -- the first kept that index, which the store's queries (on the expressions) never
        -- use: every `due` read each card's state. The index is made again on the
        -- expressions (the generated columns, unused, stay); elsewhere the same index is
        -- made again.
        DROP INDEX IF EXISTS cards_by_due;
        CREATE INDEX cards_by_due
            ON cards (json_extract(fsrs, '$.due'), card_id, json_extract(fsrs, '$.state'))
            WHERE suspended = 0 AND fsrs IS NOT NULL;
    """,
    ),
    (
        "0006_memory_recomputed",
        """
        -- New parameters saved (`optimize --write`, `optimize --recompute`): from `made_at`
        -- on, each card's stability and difficulty are those of its reviews until then
        -- replayed with this scheduler's parameters (its due date, state and step kept), as
        -- Anki recomputes memory states when a preset's parameters change. A replay of the
        -- log applies each at its time, so the doctor's replay gives what was stored.
        CREATE TABLE recomputes (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            made_at      TEXT    NOT NULL,  -- UTC, ISO-8601 with microseconds
            scheduler_id INTEGER NOT NULL REFERENCES schedulers (id)
        );
        CREATE TRIGGER recomputes_append_only_update BEFORE UPDATE ON recomputes
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER recomputes_append_only_delete BEFORE DELETE ON recomputes
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
    """,
    ),
    (
        "0007_card_history_index",
        """
        -- Each card's reviews in time order, with what retention counts (the queue, the
        -- method, the rating), in place of its reviews in id order: `stats` finds the review
        -- before each one of its window by a seek, where it read every card's whole history,
        -- and counts each card's passes from the index alone, where it read every row of the
        -- log (a million-review log: 10 s); an import finds the reviews the log has already
        -- from it alone. What read a card's reviews by id reads them by card as before.
        DROP INDEX IF EXISTS reviews_by_card;
        CREATE INDEX reviews_by_card_time ON reviews (card_id, reviewed_at, queue, method, rating);
    """,
    ),
    (
        "0008_buried",
        """
        -- Study items the learner buried from a review session (`b`, as Anki's bury): left
        -- out of every queue until `until`, the next study day's start when buried. No review
        -- was given: the log has none of it, and a row past its time means nothing.
        CREATE TABLE buried (
            card_id TEXT PRIMARY KEY,
            until   TEXT NOT NULL  -- UTC, ISO-8601
        );
    """,
    ),
    (
        "0009_renamed_cards",
        """
        -- A card its author renamed (`renamed_from:` in its file) keeps the learner's history:
        -- the reviews, state and burial of each of its study items under the old id move to
        -- the new one (`renames.carry`), and each move is recorded here first. The log stays
        -- append-only but for that: a review's card may change only to the id a move records
        -- for it, and nothing else it records of itself may change (0004).
        CREATE TABLE renames (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            old_id        TEXT    NOT NULL,  -- a study item's id before (`card`, `card#c2`)
            new_id        TEXT    NOT NULL,  -- and after
            moved_through INTEGER NOT NULL   -- the log's latest review id when it moved
        );
        CREATE INDEX renames_by_ids ON renames (old_id, new_id);
        CREATE TRIGGER renames_append_only_update BEFORE UPDATE ON renames
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER renames_append_only_delete BEFORE DELETE ON renames
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        DROP TRIGGER reviews_append_only_update;
        CREATE TRIGGER reviews_append_only_update BEFORE UPDATE OF
            id, card_id, rating, reviewed_at, duration_ms, method, check_status, content_hash,
            scheduler_id, state_before ON reviews
            WHEN NEW.id IS NOT OLD.id OR NEW.rating IS NOT OLD.rating
                OR NEW.reviewed_at IS NOT OLD.reviewed_at
                OR NEW.duration_ms IS NOT OLD.duration_ms OR NEW.method IS NOT OLD.method
                OR NEW.check_status IS NOT OLD.check_status
                OR NEW.content_hash IS NOT OLD.content_hash
                OR NEW.scheduler_id IS NOT OLD.scheduler_id
                OR NEW.state_before IS NOT OLD.state_before
                OR (NEW.card_id IS NOT OLD.card_id AND NOT EXISTS (
                    SELECT 1 FROM renames WHERE old_id = OLD.card_id AND new_id = NEW.card_id
                ))
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
    """,
    ),
    (
        "0010_review_rowid_fixed",
        """
        -- A review's id could still change through its rowid: `UPDATE reviews SET rowid = 5`
        -- (or `oid`, `_rowid_`) names no column of the `UPDATE OF` list, and SQLite matches
        -- that list to the SET clause by name, so 0009's trigger never ran. The list names
        -- them too; `NEW.id` is the new rowid, which the trigger compares as before. (A
        -- trigger on every update comparing the rowids, `WHEN NEW.rowid IS NOT OLD.rowid`,
        -- would cost an import's replay, rewriting each review's schedule, about a sixth
        -- more per review rewritten; this one never runs there.)
        DROP TRIGGER reviews_append_only_update;
        CREATE TRIGGER reviews_append_only_update BEFORE UPDATE OF
            id, rowid, oid, _rowid_, card_id, rating, reviewed_at, duration_ms, method,
            check_status, content_hash, scheduler_id, state_before ON reviews
            WHEN NEW.id IS NOT OLD.id OR NEW.rating IS NOT OLD.rating
                OR NEW.reviewed_at IS NOT OLD.reviewed_at
                OR NEW.duration_ms IS NOT OLD.duration_ms OR NEW.method IS NOT OLD.method
                OR NEW.check_status IS NOT OLD.check_status
                OR NEW.content_hash IS NOT OLD.content_hash
                OR NEW.scheduler_id IS NOT OLD.scheduler_id
                OR NEW.state_before IS NOT OLD.state_before
                OR (NEW.card_id IS NOT OLD.card_id AND NOT EXISTS (
                    SELECT 1 FROM renames WHERE old_id = OLD.card_id AND new_id = NEW.card_id
                ))
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
    """,
    ),
    (
        "0011_memory_parameters",
        f"""
        -- The FSRS parameters the cards' memory states stand on, recorded with them: by each
        -- recompute (`optimize --write`, `optimize --recompute`), in the transaction that
        -- writes the states, and on a log's first opening to study (no state yet). Each
        -- command that schedules compares the latest with settings.toml's, one row read,
        -- and says where they differ: a hand edit, or an `optimize --write` stopped between
        -- its commit and settings.toml (`saving`, `replaced`). `parameters` is settings.toml's
        -- list as JSON; NULL: fsrs's defaults; `[]`: several (a log upgraded here whose
        -- reviews were made with more than one). `recomputes` (0006) keeps what a replay
        -- needs; this table, what the learner is told.
        CREATE TABLE memory_parameters (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            made_at    TEXT    NOT NULL,            -- UTC, ISO-8601
            parameters TEXT,
            saving     INTEGER NOT NULL DEFAULT 0,  -- 1: settings.toml written after the commit
            replaced   TEXT                         -- with `saving`: its `parameters` until then
        );
        CREATE TRIGGER memory_parameters_append_only_update BEFORE UPDATE ON memory_parameters
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
        CREATE TRIGGER memory_parameters_append_only_delete BEFORE DELETE ON memory_parameters
            BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;

        -- An existing log: its latest recompute's parameters, or, never recomputed, those its
        -- states were made with (the settings of the schedulers of its reviews that make one:
        -- not undone, not cram), or `[]` where they differ; none where no review makes a
        -- state (it stands on nothing, as a new log). Cram and undone ratings, and an import
        -- that added nothing (its scheduler row alone), made with other parameters, were
        -- counted: a log was recorded as standing on several, and every scheduling command
        -- sent the learner to a recompute that changed nothing. fsrs 6's defaults, as the
        -- schedulers' JSON holds them, are NULL here.
        INSERT INTO memory_parameters (made_at, parameters)
            SELECT r.made_at, NULLIF(json_extract(s.settings, '$.parameters'), '{_FSRS6_DEFAULTS}')
            FROM recomputes r JOIN schedulers s ON s.id = r.scheduler_id
            ORDER BY r.made_at DESC, r.id DESC LIMIT 1;
        INSERT INTO memory_parameters (made_at, parameters)
            SELECT made_at, parameters FROM (
                SELECT (
                    SELECT r.reviewed_at FROM reviews r LEFT JOIN undos u ON u.review_id = r.id
                    WHERE u.review_id IS NULL AND r.method != 'cram'
                    ORDER BY r.reviewed_at DESC LIMIT 1
                ) AS made_at, CASE
                    WHEN count(DISTINCT json_extract(settings, '$.parameters')) > 1 THEN '[]'
                    ELSE NULLIF(max(json_extract(settings, '$.parameters')), '{_FSRS6_DEFAULTS}')
                END AS parameters
                FROM schedulers
                WHERE id IN (  -- (one scan of the log: 0.2 s at a million reviews)
                    SELECT r.scheduler_id FROM reviews r LEFT JOIN undos u ON u.review_id = r.id
                    WHERE u.review_id IS NULL AND r.method != 'cram'
                )
            )
            WHERE made_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM memory_parameters);
    """,
    ),
    (
        "0012_review_outcomes",
        """
        -- Each card's reviews given in the review state that make its schedule (not cram,
        -- not undone), and how many of them passed (not Again): what `stats` counts for each
        -- topic's retention over the whole log. Kept by triggers as the log changes, where
        -- `stats` counted them from every row of the log at each call (a million reviews:
        -- 0.2-0.35 s, a fifth of the command or more). What decides whether a review counts:
        -- its card and queue (a rename and a replay change them), its method and rating
        -- (never changed) and whether it is undone (an undo is never taken back). A bulk
        -- import drops the insert trigger and counts the table again once it has appended
        -- (`Store.bulk`); `Store.review_outcomes` counts from the log where the table is
        -- missing (an older database read as it is).
        CREATE TABLE review_outcomes (
            card_id TEXT    PRIMARY KEY,
            reviews INTEGER NOT NULL,
            passed  INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO review_outcomes (card_id, reviews, passed)
            SELECT card_id, COUNT(*), SUM(rating > 1) FROM reviews
            WHERE queue = 'review' AND method != 'cram'
                AND id NOT IN (SELECT review_id FROM undos)
            GROUP BY card_id;
        CREATE TRIGGER review_outcomes_insert AFTER INSERT ON reviews
            WHEN NEW.queue = 'review' AND NEW.method != 'cram'
            BEGIN
                INSERT INTO review_outcomes (card_id, reviews, passed)
                    VALUES (NEW.card_id, 1, NEW.rating > 1)
                    ON CONFLICT (card_id) DO UPDATE
                    SET reviews = reviews + 1, passed = passed + excluded.passed;
            END;
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
            END;
        CREATE TRIGGER review_outcomes_undo AFTER INSERT ON undos
            BEGIN
                UPDATE review_outcomes SET reviews = reviews - 1, passed = passed - (
                        SELECT rating > 1 FROM reviews WHERE id = NEW.review_id
                    )
                    WHERE card_id = (
                        SELECT card_id FROM reviews WHERE id = NEW.review_id
                            AND queue = 'review' AND method != 'cram'
                    );
            END;
    """,
    ),
    (
        "0013_suspended_index",
        """
        -- The ids of the suspended cards, found without reading every card: a queue of some
        -- cards (a topic's, a deck's) asks for them each time (`Store.suspended`), and a scan
        -- of every card's row took 3-12 ms with 16,000 cards, more than the rest of
        -- `Study.next_due` for a topic. Usually empty, and left alone by a rating (which
        -- changes no card's suspension).
        CREATE INDEX cards_suspended ON cards (card_id) WHERE suspended = 1;
    """,
    ),
]

NAMES = [name for name, _ in MIGRATIONS]

_LEDGER = """
    CREATE TABLE IF NOT EXISTS migrations (
        name       TEXT PRIMARY KEY,
        applied_at TEXT NOT NULL
    )
"""


def _ledger_exists(conn: sqlite3.Connection) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    return conn.execute(query).fetchone() is not None


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations already recorded in the database, in the order they ran."""
    return [row[0] for row in conn.execute("SELECT name FROM migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection, before: Callable[[str], object] | None = None) -> list[str]:
    """Apply every pending migration, all in one write transaction; returns their names.

    `conn` must be in autocommit mode (isolation_level=None). The caller checks first that the
    database holds no migration unknown to this version (see `store.Store.open`). Processes
    opening one database at once are safe: what is pending is decided under the write lock,
    so the first upgrades it whole and the others find nothing left to do. (Each migration
    had its own transaction: another process could take the lock between two, and an upgrade
    came out split in two, each half with a backup, one of them half upgraded and named as
    "the file as it was"; and a new database, created by one process while another looked,
    could be called upgraded.)

    Args:
        before: called with a pending migration's name just before it runs on an existing
            database (one with a migration already recorded), inside the write transaction so
            nothing else writes meanwhile: the store writes its backup there. Not called for a
            new, empty database, which has nothing to lose.
    """
    if _ledger_exists(conn) and set(NAMES) <= set(applied(conn)):
        return []  # the usual case: read only, no write lock taken
    conn.execute(_LEDGER)
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = set(applied(conn))
        new = not done  # nothing can be in a database before it is fully migrated
        ran = []
        for name, script in MIGRATIONS:
            if name in done:
                continue
            if not new and before is not None:
                before(name)
            for statement in statements(script):
                conn.execute(statement)
            stamp = datetime.now(UTC).isoformat()  # bookkeeping, not study time
            conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, stamp))
            ran.append(name)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (a full disk)
            conn.execute("ROLLBACK")
        raise
    return ran


def statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (trigger bodies hold semicolons too)."""
    found, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            found.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {buffer.strip()[:60]}")
    return found
