"""The review store: migrations, WAL, refusing a foreign or corrupt file, the append-only log,
exact undo, and the log as the source of truth (a replay gives the live state)."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studycli.errors import StoreError
from studycli.study import backups, migrations
from studycli.study import rating as core
from studycli.study.review_records import CardState, Review, ReviewCap
from studycli.study.settings import Settings
from studycli.study.store import Store
from studycli.study.times import parse_time

from .conftest import REPO_ROOT
from .study_support import NO_FUZZ, NOW, fixture_content, open_store, rows, schema_of


def test_migrations_are_named_recorded_and_run_once(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    with Store.open(path) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
        assert migrations.migrate(store.conn) == []
    with Store.open(path) as store:
        assert migrations.applied(store.conn) == migrations.NAMES


def test_the_database_is_in_wal_mode(tmp_path):
    with open_store(tmp_path) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_corrupt_file_is_refused_with_the_fix_and_left_untouched(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    garbage = b"this is not a database, it is my thesis\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    message = str(caught.value)
    assert str(path) in message and "mv" in message and "--db" in message
    assert path.read_bytes() == garbage


def test_a_rating_the_disk_has_no_room_for_is_store_full_and_nothing_of_it_written(tmp_path):
    """SQLite's own "database or disk is full" (here the connection's page limit, which SQLite
    reports as it reports a full disk) escaped the store as a raw sqlite3 error, where every
    session keeps its card for a StoreFull only: a full disk under `review` ended the session
    (seen on a 600 KB tmpfs filled mid-session). It is a StoreFull, the transaction rolled
    back: the log and the card's state are as before it, and the same rating is saved once
    there is room."""
    from studycli.errors import StoreFull

    card = fixture_content().get("bias-concept")
    with open_store(tmp_path) as store:
        (pages,) = store.conn.execute("PRAGMA page_count").fetchone()
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # no room for another page
        for day in range(1, 1000):
            before = (store.reviews(include_undone=True), store.states())
            try:
                core.rate(store, card, 3, NOW + timedelta(days=day), NO_FUZZ)
            except StoreFull as full:
                assert str(store.path) in str(full) and "free some space" in str(full)
                break
        else:
            raise AssertionError("a thousand ratings fitted in the pages the file had")
        assert (store.reviews(include_undone=True), store.states()) == before
        store.conn.execute(f"PRAGMA max_page_count = {pages * 100}")  # room again
        core.rate(store, card, 3, NOW + timedelta(days=day), NO_FUZZ)
        assert len(store.reviews()) == day and core.rebuild(store) == store.states()


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="another program"):
        Store.open(path)


def test_a_database_from_a_newer_studycli_is_refused(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    with Store.open(path) as store:
        store.conn.execute("INSERT INTO migrations VALUES ('9999_future', 'x')")
    with pytest.raises(StoreError, match="newer studycli"):
        Store.open(path)


def test_the_cli_reports_a_corrupt_database_without_a_traceback(cli, tmp_path):
    from .conftest import FIXTURE_CONTENT

    path = tmp_path / "broken.sqlite3"
    path.write_text("not sqlite")
    result = cli("--content", FIXTURE_CONTENT, "--db", path, "due")
    assert result.exit_code == 1
    assert f"{path} is not an SQLite database" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_the_log_is_append_only(tmp_path):
    content = fixture_content()
    with open_store(tmp_path) as store:
        core.rate(store, content.get("bias-concept"), 3, NOW, NO_FUZZ)
        for sql in ("UPDATE reviews SET rating = 4", "DELETE FROM reviews"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                store.conn.execute(sql)
        assert len(store.reviews()) == 1


APPEND_ONLY = ("reviews", "undos", "recomputes", "renames")


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("verb", ["REPLACE", "INSERT OR REPLACE"])
def test_the_log_is_append_only_against_replace(tmp_path, table, verb):
    """`REPLACE INTO reviews` (or `INSERT OR REPLACE`) of a review's id overwrote the review
    silently: SQLite deletes the row it replaces without firing the append-only delete
    trigger unless `recursive_triggers` is on (an audit). The store's connections turn it on."""
    content = fixture_content()
    with open_store(tmp_path) as store:
        core.rate(store, content.get("bias-concept"), 3, NOW, NO_FUZZ)
        latest = store.reviews()[0]
        store.undo(latest.id, NOW + timedelta(minutes=1))  # (an undos row)
        store.conn.execute(  # (a row of each of the other two, as their writers append them)
            "INSERT INTO recomputes (made_at, scheduler_id) SELECT 'x', id FROM schedulers"
        )
        store.conn.execute(
            "INSERT INTO renames (old_id, new_id, moved_through) VALUES ('a', 'b', 1)"
        )
        before = rows(store), store.conn.execute(f"SELECT * FROM {table}").fetchall()
        assert before[1], table
        columns = [row[1] for row in store.conn.execute(f"PRAGMA table_info({table})")]
        changed = ", ".join(
            f"'x' AS {c}" if c in ("card_id", "made_at", "old_id") else c for c in columns
        )
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute(f"{verb} INTO {table} SELECT {changed} FROM {table}")
        assert (rows(store), store.conn.execute(f"SELECT * FROM {table}").fetchall()) == before


FIRST_0003 = """
ALTER TABLE cards ADD COLUMN due TEXT GENERATED ALWAYS AS (json_extract(fsrs, '$.due')) VIRTUAL;
ALTER TABLE cards ADD COLUMN fsrs_state INTEGER
    GENERATED ALWAYS AS (json_extract(fsrs, '$.state')) VIRTUAL;
CREATE INDEX cards_by_due ON cards (due, card_id, fsrs_state)
    WHERE suspended = 0 AND fsrs IS NOT NULL;
CREATE INDEX cards_not_new ON cards (card_id) WHERE fsrs IS NOT NULL OR suspended = 1;
"""


def test_a_database_of_the_first_0003_finds_the_due_cards_through_the_index(tmp_path, monkeypatch):
    """0003 was first released as an index on generated columns, which the due query (on the
    expressions) never used: `due` scanned every card there. After 0005 the query plan
    searches the index, and the cards due are the same."""
    content = fixture_content()
    first = [*migrations.MIGRATIONS[:2], ("0003_due_index", FIRST_0003)]
    schema_of(monkeypatch, first)
    with open_store(tmp_path) as store:
        for card_id in ("bias-concept", "add-one", "poisson-concept"):
            core.rate(store, content.get(card_id), 3, NOW, NO_FUZZ)
        due_before = store.schedule(NOW + timedelta(days=400)).due
    monkeypatch.undo()
    with open_store(tmp_path) as store:
        assert store.schedule(NOW + timedelta(days=400)).due == due_before != []
        query = "SELECT card_id FROM cards WHERE suspended = 0 AND fsrs IS NOT NULL AND "
        query += "json_extract(fsrs, '$.due') <= ? ORDER BY json_extract(fsrs, '$.due'), card_id"
        plan = " ".join(
            row[-1] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {query}", ("x",))
        )
        assert "USING INDEX cards_by_due" in plan, plan


@pytest.mark.parametrize("made_by", ["this version", "the third migration"])
def test_only_a_reviews_schedule_can_be_written_again(tmp_path, monkeypatch, made_by):
    """Migration 0004: an import's replay writes a review's queue and state after again;
    what the review records of itself is refused as before, in a new database and in one
    made before 0004."""
    content = fixture_content()
    if made_by != "this version":
        schema_of(monkeypatch, migrations.MIGRATIONS[:3])
    with open_store(tmp_path) as store:
        core.rate(store, content.get("bias-concept"), 3, NOW, NO_FUZZ)
    monkeypatch.undo()
    with open_store(tmp_path) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
        store.conn.execute("UPDATE reviews SET queue = 'review', state_after = '{}'")
        assert (store.reviews()[0].queue, store.reviews()[0].state_after) == ("review", "{}")
        for column, value in [("rating", 4), ("reviewed_at", "x"), ("method", "cram"),
                              ("card_id", "x"), ("content_hash", "x"), ("state_before", "x")]:  # fmt: skip
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                store.conn.execute(f"UPDATE reviews SET {column} = ?", (value,))


@pytest.mark.parametrize("made_by", ["this version", "the ninth migration"])
def test_a_reviews_id_cannot_change_through_its_rowid(tmp_path, monkeypatch, made_by):
    """Migration 0010: `SET rowid` (or `oid`, `_rowid_`) named no column of the trigger's
    `UPDATE OF` list, which SQLite matches by name, and a review's id changed. Refused in a
    new database and in one made before 0010, upgraded with a backup of it as it was; the
    replay's write of a review's schedule still goes through."""
    content = fixture_content()
    if made_by != "this version":
        schema_of(monkeypatch, migrations.MIGRATIONS[:9])
    with open_store(tmp_path) as store:
        core.rate(store, content.get("bias-concept"), 3, NOW, NO_FUZZ)
        core.rate(store, content.get("add-one"), 3, NOW, NO_FUZZ)
    monkeypatch.undo()
    with open_store(tmp_path) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
        for sql in ["UPDATE reviews SET rowid = 7 WHERE id = 1", "UPDATE reviews SET OID = 7",
                    'UPDATE reviews SET "_rowid_" = 7', "UPDATE reviews SET (queue, rowid) = ('x', 7)",
                    "UPDATE OR REPLACE reviews SET rowid = 2 WHERE id = 1"]:  # fmt: skip
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                store.conn.execute(sql)
        store.conn.execute("UPDATE reviews SET queue = 'review', state_after = '{}', rowid = rowid")
        assert sorted((r.id, r.card_id, r.queue) for r in store.reviews()) == [
            (1, "bias-concept", "review"), (2, "add-one", "review")
        ]  # fmt: skip
    backup = backups.backup_path(tmp_path / "reviews.sqlite3", "0010_review_rowid_fixed")
    assert backup.exists() == (made_by != "this version")


def test_undo_restores_every_row_exactly_and_marks_the_review(tmp_path):
    content = fixture_content()
    card = content.get("bias-concept")
    with open_store(tmp_path) as store:
        core.rate(store, card, 3, NOW, NO_FUZZ)
        core.rate(store, card, 3, NOW + timedelta(minutes=10), NO_FUZZ)
        before = rows(store)["cards"]
        last = core.rate(store, card, 1, NOW + timedelta(days=3), NO_FUZZ)
        assert rows(store)["cards"] != before
        core.undo(store, last.id, NOW + timedelta(days=3))
        assert rows(store)["cards"] == before
        assert [r.id for r in store.reviews(include_undone=True) if r.undone] == [last.id]
        assert last.id not in [r.id for r in store.reviews()]
        with pytest.raises(StoreError, match=r"^bias-concept's rating was undone already$"):
            core.undo(store, last.id, NOW)
        with pytest.raises(StoreError, match=r"^the log has no review 999 to undo$"):
            core.undo(store, 999, NOW)


def test_undo_returns_the_state_it_wrote_not_a_later_sessions(tmp_path, monkeypatch):
    """Another session that writes the card the moment undo's transaction commits does not
    change what undo says it put back (it read the card after its commit)."""
    from contextlib import contextmanager

    card = fixture_content().get("bias-concept")
    with open_store(tmp_path) as store:
        core.rate(store, card, 3, NOW, NO_FUZZ)
        last = core.rate(store, card, 3, NOW + timedelta(days=1), NO_FUZZ)
        assert last.state_before is not None
        committed = Store.transaction

        @contextmanager
        def then_another_writes(self, *args, **kwargs):
            outermost = not self.conn.in_transaction  # (a nested one commits nothing)
            with committed(self, *args, **kwargs) as conn:
                yield conn
            if not outermost:
                return
            other = sqlite3.connect(self.path)
            other.execute("UPDATE cards SET reps = 99 WHERE card_id = ?", (card.id,))
            other.commit()
            other.close()

        monkeypatch.setattr(Store, "transaction", then_another_writes)
        assert core.undo(store, last.id, NOW + timedelta(days=1)) == last.state_before


def test_undoing_a_first_review_leaves_no_row(tmp_path):
    with open_store(tmp_path) as store:
        first = core.rate(store, fixture_content().get("add-one"), 4, NOW, NO_FUZZ)
        core.undo(store, first.id, NOW)
        assert rows(store)["cards"] == []


def test_undoing_a_first_review_keeps_a_suspension_made_since(tmp_path):
    """Rated new in one terminal, suspended in another, then the rating undone: the card is
    new again and still suspended (its row was deleted, and the suspension with it)."""
    with open_store(tmp_path) as store:
        first = core.rate(store, fixture_content().get("add-one"), 3, NOW, NO_FUZZ)
        store.set_suspended("add-one", True)
        core.undo(store, first.id, NOW)
        assert store.state("add-one") == CardState("add-one", suspended=True)
        assert store.suspended() == {"add-one"}


def test_a_rating_keeps_the_text_the_card_had_so_only_a_later_edit_flags_it(tmp_path):
    """A card's state records the content hash of the text it was last rated on: rated, it
    is not "edited"; its text changed since, it is; rated again on the new text, it is not
    any more. A replay of the log records the same."""
    from dataclasses import replace

    from studycli.study import labels

    card = fixture_content().get("add-one")
    edited = replace(card, prompt=card.prompt + " (reworded)")
    assert edited.content_hash != card.content_hash
    with open_store(tmp_path) as store:
        core.rate(store, card, 3, NOW, NO_FUZZ)
        first = store.state(card.id)
        assert labels.edits(card, first) == () and labels.edits(edited, first) == ("text",)
        core.rate(store, edited, 3, NOW + timedelta(days=1), NO_FUZZ)
        second = store.state(card.id)
        assert labels.edits(edited, second) == ()
        assert core.rebuild(store)[card.id].content_hash == edited.content_hash


def test_a_refused_rating_rolls_back_and_the_next_rating_is_saved(tmp_path):
    """A rating refused inside its write transaction (the clock behind the card's last
    review) rolls it back: the session goes on without the write lock held, and its next
    rating is committed (another process sees it), not joined to a transaction left open."""
    from studycli.errors import ClockBehind

    content = fixture_content()
    with open_store(tmp_path) as store:
        core.rate(store, content.get("add-one"), 3, NOW, NO_FUZZ)
        with pytest.raises(ClockBehind):
            core.rate(store, content.get("add-one"), 3, NOW - timedelta(minutes=6), NO_FUZZ)
        assert not store.conn.in_transaction
        core.rate(store, content.get("bias-concept"), 3, NOW, NO_FUZZ)
        with sqlite3.connect(tmp_path / "reviews.sqlite3") as other:
            assert other.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 2
        other.close()


def test_a_rating_written_while_this_one_waited_for_the_lock_is_not_the_clocks_fault(tmp_path):
    """Two `solve`s of one card at once, the database's write lock held by a third process:
    each took its time, then waited; the later one got the lock first and wrote its rating,
    and the earlier one was refused with "the system clock is behind", which it was not. It
    is now told the card was rated in another session."""
    from studycli.errors import ClockBehind, RatedElsewhere

    card = fixture_content().get("add-one")
    with open_store(tmp_path) as store, open_store(tmp_path) as other:
        core.rate(store, card, 3, NOW, NO_FUZZ)
        waits = store.transaction

        def while_waiting():  # the other process's rating, written during this one's wait
            core.rate(other, card, 3, NOW + timedelta(seconds=2), NO_FUZZ)
            return waits()

        store.transaction = while_waiting  # type: ignore[method-assign]
        with pytest.raises(RatedElsewhere, match="add-one was rated in another session"):
            core.rate(store, card, 3, NOW + timedelta(seconds=1), NO_FUZZ)
        store.transaction = waits  # type: ignore[method-assign]
        assert store.count_reviews(card.id) == 2
        with pytest.raises(ClockBehind):  # (a clock behind is still said as such)
            core.rate(store, card, 3, NOW - timedelta(minutes=6), NO_FUZZ)


@pytest.mark.parametrize("how", ["removed", "replaced", "emptied"])
def test_a_database_removed_or_replaced_while_open_is_not_written_into(tmp_path, how):
    """Removed under an open connection (by an attempt's code), the file went on taking the
    session's ratings, into the unlinked file, lost at its close. A write now says so."""
    card = fixture_content().get("add-one")
    path = tmp_path / "reviews.sqlite3"
    with open_store(tmp_path) as store:
        assert store.path == path
        core.rate(store, card, 3, NOW, NO_FUZZ)
        if how == "emptied":  # in place, its inode kept (`open(path, "w")`: a QA pass)
            path.write_bytes(b"")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        if how == "replaced":
            path.write_bytes(b"SQLite format 3\0")
        with pytest.raises(StoreError, match="was removed or replaced while studycli had it"):
            core.rate(store, card, 3, NOW + timedelta(minutes=1), NO_FUZZ)


def test_a_buried_item_is_buried_until_its_time_and_no_longer(tmp_path):
    """(migration 0008) What `b` in a session writes: an item and when it comes back; no
    review, no state."""
    with open_store(tmp_path) as store:
        assert store.buried(NOW) == {}
        store.bury("add-one", NOW + timedelta(hours=3))
        store.bury("poisson-cloze#c2", NOW + timedelta(hours=1))
        store.bury("poisson-cloze#c2", NOW + timedelta(hours=2))  # again: the later time
        assert store.buried(NOW) == {
            "add-one": NOW + timedelta(hours=3),
            "poisson-cloze#c2": NOW + timedelta(hours=2),
        }
        assert set(store.buried(NOW + timedelta(hours=2))) == {"add-one"}
        assert store.buried(NOW + timedelta(hours=3)) == {}
        assert store.count_reviews() == 0 and store.state("add-one") is None
        # rated meanwhile (`solve`, another session): no longer buried (it stayed hidden)
        core.rate(store, fixture_content().get("add-one"), 3, NOW, NO_FUZZ)
        assert store.buried(NOW) == {"poisson-cloze#c2": NOW + timedelta(hours=2)}


def test_only_a_cards_latest_review_can_be_undone(tmp_path):
    card = fixture_content().get("add-one")
    with open_store(tmp_path) as store:
        first = core.rate(store, card, 3, NOW, NO_FUZZ)
        core.rate(store, card, 3, NOW + timedelta(minutes=1), NO_FUZZ)
        with pytest.raises(StoreError):
            core.undo(store, first.id, NOW)


REVIEW = st.builds(
    dict,
    rating=st.integers(1, 4),
    minutes=st.integers(0, 10**6),
    duration_ms=st.none() | st.integers(0, 10**8),
    method=st.sampled_from(["self", "check"]),
    check_status=st.none() | st.sampled_from(["pass", "fail", "error", "timeout"]),
    content_hash=st.text("0123456789abcdef", min_size=16, max_size=16),
    card_id=st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,3}", fullmatch=True),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=REVIEW)
def test_a_review_reads_back_as_written(tmp_path, data):
    review = Review(
        card_id=data["card_id"],
        rating=data["rating"],
        reviewed_at=NOW + timedelta(minutes=data["minutes"], microseconds=7),
        method=data["method"],
        content_hash=data["content_hash"],
        queue="review",
        scheduler='{"s": 1}',
        state_after='{"x": 1}',
        state_before=CardState(data["card_id"], '{"y": 2}', "h", 3, 4),
        duration_ms=data["duration_ms"],
        check_status=data["check_status"],
    )
    after = CardState(data["card_id"], '{"x": 1}', data["content_hash"], 3, 5)
    with open_store(tmp_path) as store:
        saved = store.record(review, after)
        assert store.reviews(card_id=data["card_id"], limit=1)[0] == saved
        assert saved.reviewed_at == review.reviewed_at
        assert store.state(data["card_id"]) == after


def _random_history(store, content, seed: int, steps: int) -> None:
    """Ratings, undos and a settings change at irregular times, fuzz on."""
    rng = random.Random(seed)
    cards = list(content.cards.values())
    moment, done = NOW, []
    config = Settings(enable_fuzzing=True)
    for step in range(steps):
        moment += timedelta(minutes=rng.choice([0, 1, 7, 60, 600, 3000, 20000]))
        if step == steps // 2:
            config = Settings(
                enable_fuzzing=True, desired_retention=0.8, learning_steps=(timedelta(minutes=5),)
            )
        if done and rng.random() < 0.15:
            entry = done.pop()
            if store.reviews(card_id=entry.card_id, limit=1)[0].id == entry.id:
                core.undo(store, entry.id, moment)
            continue
        card = rng.choice(cards)
        done.append(core.rate(store, card, rng.choice([1, 2, 3, 3, 3, 4]), moment, config))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_the_log_gives_the_live_state(tmp_path, seed):
    content = fixture_content()
    with open_store(tmp_path) as store:
        _random_history(store, content, seed, steps=150)
        store.set_suspended("poisson-concept", True)
        live = store.states()
        assert any(state.lapses for state in live.values())
        assert core.rebuild(store) == live


def test_rebuild_repairs_a_drifted_state_table(tmp_path):
    content = fixture_content()
    with open_store(tmp_path) as store:
        _random_history(store, content, seed=7, steps=40)
        live = store.states()
        store.conn.execute("UPDATE cards SET fsrs = NULL, reps = 0")
        core.rebuild(store, write=True)
        assert store.states() == live


def test_what_is_due_is_read_through_the_due_index(tmp_path):
    """Migration 0003: the due time and fsrs state come out of each card's fsrs JSON, indexed,
    so a large collection's due cards (and the cards that are not new) are found without
    reading every card's state: every query the queue makes uses an index."""
    with open_store(tmp_path) as store:
        sql = []
        store.conn.set_trace_callback(sql.append)
        store.schedule(NOW)
        store.schedule(NOW, reviews=ReviewCap(NOW, {"add-one"}, 5))  # the queue's, capped
        store.conn.set_trace_callback(None)
        for query in (q for q in sql if q.startswith("SELECT") and "cards" in q):
            plan = store.conn.execute("EXPLAIN QUERY PLAN " + query).fetchall()
            assert any("cards_by_due" in row[-1] or "cards_not_new" in row[-1] for row in plan), (
                query,
                plan,
            )


def test_the_suspended_cards_are_read_through_their_index(tmp_path):
    """Migration 0013: a queue of some cards (a topic's) asks for the suspended ones each
    time, and the query scanned every card's row (12 ms with 16,000 cards, `Study.next_due`
    of a topic 15 ms against its 5 ms target): it reads only the suspended ones' index."""
    with open_store(tmp_path) as store:
        store.set_suspended("add-one", True)
        sql = []
        store.conn.set_trace_callback(sql.append)
        assert store.suspended() == {"add-one"}
        store.conn.set_trace_callback(None)
        (query,) = (q for q in sql if q.startswith("SELECT"))
        plan = store.conn.execute("EXPLAIN QUERY PLAN " + query).fetchall()
        assert any("USING INDEX cards_suspended" in row[-1] for row in plan), plan


def test_the_due_index_migration_applies_to_a_database_that_has_cards(tmp_path):
    """A database written before 0003 (with cards in it) gets its due times on opening."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(migrations._LEDGER)
    for statement in migrations.statements(migrations.MIGRATIONS[0][1]):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (migrations.NAMES[0], "x")
    )
    rated = core.advance(None, "add-one", 3, NOW, core.sched.make_scheduler(NO_FUZZ), "h")
    conn.execute(
        "INSERT INTO cards (card_id, fsrs, content_hash, lapses, reps) VALUES (?, ?, ?, 0, 1)",
        ("add-one", rated.fsrs, "h"),
    )
    conn.close()
    with Store.open(path) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
        due = core.fsrs_card(store.state("add-one")).due
        schedule = store.schedule(due)
        assert [row[0] for row in schedule.due] == ["add-one"] and schedule.seen == {"add-one"}
        assert store.schedule(due - timedelta(microseconds=1)).due == []


def test_the_schedule_orders_by_due_time_and_knows_what_is_not_new(tmp_path):
    content = fixture_content()
    cards = {card.id: card for card in content.cards.values()}
    with open_store(tmp_path) as store:
        core.rate(store, cards["bias-concept"], 3, NOW, NO_FUZZ)  # learning: due in 10 minutes
        core.rate(store, cards["add-one"], 1, NOW, NO_FUZZ)  # learning: due in 1 minute
        core.rate(store, cards["poisson-concept"], 4, NOW, NO_FUZZ)  # review: days away
        store.set_suspended("triangle-derivation", True)  # never studied, suspended
        schedule = store.schedule(NOW + timedelta(hours=1))
        assert [row[0] for row in schedule.due] == ["add-one", "bias-concept"]
        assert schedule.seen == {
            "add-one",
            "bias-concept",
            "poisson-concept",
            "triangle-derivation",
        }


@pytest.mark.parametrize("count", [0, 1, 141, 142, 143, 2 * 142 + 7])
def test_appended_imports_keep_their_order_and_values(tmp_path, count):
    """`append_imported` takes the values flat and writes many reviews per statement (142):
    each review gets its values, and the ids follow the given order, whole statements or
    not; every imported review is written with method "import", no check status and no
    state before."""
    from studycli.study.store_import import IMPORTED_COLUMNS

    reviews = [
        (f"card-{index % 7}", 1 + index % 4, f"2024-01-01T00:00:{index:06d}+00:00",
         None if index % 3 else index, "hash", "review", f'{{"n": {index}}}')
        for index in range(count)
    ]  # fmt: skip
    with open_store(tmp_path) as store:
        with store.importing("{}") as scheduler_id:
            store.append_imported(
                [value for review in reviews for value in review], scheduler_id, []
            )
            with pytest.raises(ValueError):
                store.append_imported([1] * (IMPORTED_COLUMNS + 1), scheduler_id, [])
        written = store.conn.execute(
            "SELECT card_id, rating, reviewed_at, duration_ms, content_hash, queue,"
            " state_after, method, check_status, state_before, scheduler_id FROM reviews"
            " ORDER BY id"
        ).fetchall()
    assert written == [(*review, "import", None, None, scheduler_id) for review in reviews]


def test_a_cards_staged_reviews_come_back_whole_and_in_time_order(tmp_path):
    """`staged_histories` gives each card's staged reviews as one text, which
    `staged_reviews` takes apart: every review, its duration or None, by time."""
    from studycli.study.store_import import staged_reviews

    staged = [
        ("b", "2024-01-02T00:00:00.000000+00:00", 2, None, None, "h1"),
        ("a", "2024-01-03T00:00:00.000000+00:00", 4, 0, None, None),
        ("a", "2024-01-01T00:00:00.250000+00:00", 1, 12345678901234, None, "h2+s+c"),
        (
            "a",
            "2023-12-31T23:59:59.999999+00:00",
            3,
            None,
            "2024-01-01T00:00:00.000000+00:00",
            None,
        ),
    ]
    with open_store(tmp_path) as store, store.importing("{}"):
        store.stage(staged)
        store.settle_staged()
        logged, texts = store.staged_histories("a", "b")
    assert logged == [] and [(card, unhashed) for card, _, unhashed in texts] == [
        ("a", 1),
        ("b", 0),
    ]
    assert {card: staged_reviews(text) for card, text, _ in texts} == {
        card: sorted(
            (moment, rating, ms, made_on, undone is not None)
            for c, moment, rating, ms, undone, made_on in staged
            if c == card
        )
        for card in ("a", "b")
    }


def test_an_import_sorts_with_helper_threads_and_leaves_the_connection_as_it_was(tmp_path):
    """`importing` bounds the page caches and lets SQLite's sorts use `sort_threads` helper
    threads while it lasts; after it (done or failed) the connection's settings are back."""
    pragmas = ("cache_size", "temp.cache_size", "threads")
    with open_store(tmp_path) as store:
        before = {p: store.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas}
        with store.importing("{}", sort_threads=1):
            assert store.conn.execute("PRAGMA threads").fetchone()[0] == 1
            assert store.conn.execute("PRAGMA cache_size").fetchone()[0] < 0  # KiB: bounded
        with pytest.raises(RuntimeError), store.importing("{}", sort_threads=1):
            raise RuntimeError("the import failed")
        after = {p: store.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas}
    assert after == before and before["threads"] == 0


# --- the store's queries, each pinned where a mutation audit found it loose ---------------------

H = timedelta(hours=1)
D = timedelta(days=1)


def stamp(card: str, at, what: str = "after") -> str:
    """A state's JSON (the cards table indexes its due time: it must be JSON) naming the card."""
    return f'{{"card": "{card}", "{what}": "{at.isoformat()}"}}'


def spanned(card: str, at, what: str = "after") -> str:
    """A state's JSON with the due time and last review `recent_reviews` reads of it (each
    naming the card and the call, to tell the states apart)."""
    return json.dumps({"due": f"{card} {what} {at.isoformat()}", "last_review": f"{card} {what}"})


def span(state: str) -> tuple[str, str]:
    """What `recent_reviews` gives of a state written by `spanned`: (due, last_review)."""
    fields = json.loads(state)
    return fields["due"], fields["last_review"]


def log(
    store: Store,
    card: str,
    at,
    *,
    rating: int = 3,
    method: str = "self",
    queue: str = "review",
    after: str | None = None,
    first: bool = False,
) -> Review:
    """Record one rating of `card` at `at` (ids follow the calls, whatever the times);
    `state_after` is `after` (default: `spanned`, a state with the due time and last review
    `recent_reviews` reads, naming the card and time to tell them apart)."""
    state_after = after if after is not None else spanned(card, at)
    before = None if first else CardState(card, fsrs=stamp(card, at, "before"))
    review = Review(
        card_id=card,
        rating=rating,
        reviewed_at=at,
        method=method,
        content_hash="h",
        queue=queue,
        scheduler="{}",
        state_after=state_after,
        state_before=before,
    )
    return store.record(review, None if method == "cram" else CardState(card, fsrs=state_after))


# --- recent_reviews (stats: reviews per day, true retention) -------------------------------
def test_recent_reviews_are_those_from_since_on_in_time_order_with_the_previous_state(tmp_path):
    """A rating exactly at `since` counts, an older one does not (it is only `previous`), nor
    one at `until`; one recorded after a later one (as an import records it) comes first."""
    since = NOW
    with open_store(tmp_path) as store:
        log(store, "a", since - D, first=True, after=spanned("a", since - D))
        log(store, "a", since)  # exactly at `since`: a's only rating from then on
        log(store, "b", since + 2 * H, first=True)  # recorded first ...
        log(store, "c", since + H, first=True)  # ... this one is earlier
        log(store, "d", since + D)  # at `until`: after the window
        got = store.recent_reviews(since, since + D)
    assert [(card, at, previous) for card, _, at, _, _, previous in got] == [
        ("a", "2025-03-01T09:00:00.000000+00:00", span(spanned("a", since - D))),
        ("c", "2025-03-01T10:00:00.000000+00:00", None),
        ("b", "2025-03-01T11:00:00.000000+00:00", None),
    ]


def test_recent_reviews_of_some_cards_are_theirs_as_the_whole_log_gives_them(tmp_path):
    """(`stats --deck`: only the deck's cards' histories are windowed.) The same rows, their
    previous states included, as the unfiltered query's of those cards; a card without
    reviews gives none."""
    since = NOW
    with open_store(tmp_path) as store:
        log(store, "a", since - D, first=True)
        log(store, "a", since + H)
        log(store, "b", since + 2 * H, first=True)
        log(store, "c", since + 3 * H, first=True)
        whole = store.recent_reviews(since, since + D)
        assert store.recent_reviews(since, since + D, {"a", "c", "z"}) == [
            row for row in whole if row[0] in ("a", "c")
        ]
        assert store.recent_reviews(since, since + D, {"z"}) == [] and len(whole) == 3


def test_recent_reviews_leave_out_an_undone_rating(tmp_path):
    """Undone ratings are left out: `stats` would count a rating taken back in the
    reviews per day and the true retention."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True)
        last = log(store, "a", NOW + H, rating=1)
        store.undo(last.id, NOW + 2 * H)
        got = store.recent_reviews(NOW - D, NOW + D)
    assert [(card, rating) for card, rating, *_ in got] == [("a", 3)]


@pytest.mark.parametrize("seed", range(12))
def test_recent_reviews_previous_is_the_cards_rating_before_in_the_whole_log(tmp_path, seed):
    """Each window rating's `previous` is the `state_after` of its card's rating just before
    it in the whole log, by time then id (undone ones left out, cram ones counted), however
    far back that is; as a plain reading of every review gives it. Times repeat, ratings are
    recorded out of time order (as imports record them), some are undone."""
    rng = random.Random(seed)
    cards = [f"card-{i}" for i in range(6)]
    times = [NOW + timedelta(days=rng.randrange(-30, 5)) for _ in range(80)]  # ties: same day
    since, until = NOW - 10 * D, NOW + 2 * D
    with open_store(tmp_path) as store:
        for index, at in enumerate(times):
            card = rng.choice(cards)
            method = rng.choice(["self", "self", "check", "cram"])
            review = log(
                store, card, at, method=method, after=spanned(card, at, str(index)), first=True
            )
            if rng.random() < 0.15:
                store.conn.execute(
                    "INSERT INTO undos (review_id, undone_at) VALUES (?, ?)",
                    (review.id, "2030-01-01T00:00:00.000000+00:00"),
                )
        kept = sorted(
            (r for r in store.reviews(include_undone=False)),
            key=lambda r: (r.reviewed_at, r.id),
        )
        expected, last = [], {}
        for r in kept:
            if since <= r.reviewed_at < until:
                expected.append((r.card_id, r.reviewed_at, last.get(r.card_id)))
            last[r.card_id] = span(r.state_after)
        got = store.recent_reviews(since, until)
        chosen = set(rng.sample(cards, 3))  # (`stats --deck`: some cards' rows, as the whole's)
        assert store.recent_reviews(since, until, chosen) == [r for r in got if r[0] in chosen]
    assert [(card, parse_time(at), previous) for card, _, at, _, _, previous in got] == expected
    assert expected  # (the window holds ratings)


# --- review_outcomes (stats: each topic's retention) ---------------------------------------
def test_review_outcomes_count_only_the_schedules_reviews(tmp_path):
    """A cram Again of a card in review and
    an undone Again leave the card's (reviews, passed) as its one scheduled Good made them."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True)
        log(store, "a", NOW + H, rating=1, method="cram")
        undone = log(store, "a", NOW + 2 * H, rating=1)
        store.undo(undone.id, NOW + 3 * H)
        assert store.review_outcomes() == {"a": (1, 1)}


# --- latest_rating_before (stats: the streak) ----------------------------------------------
def test_latest_rating_before_is_strictly_before_by_time_and_not_undone(tmp_path):
    """Strictly before (a rating exactly at a study day's start would end the streak's walk
    there), by time (an older imported rating recorded last), undone ratings left out."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW + 2 * H, first=True)
        log(store, "b", NOW, first=True)  # recorded after, reviewed before
        undone = log(store, "a", NOW + 3 * H)
        store.undo(undone.id, NOW + 4 * H)
        assert store.latest_rating_before(NOW + 5 * H) == NOW + 2 * H
        assert store.latest_rating_before(NOW + 2 * H) == NOW
        assert store.latest_rating_before(NOW + 2 * H, {"a"}) is None


# --- studied_since / counts_since (the queue's daily limits) -------------------------------
def test_a_rating_at_the_very_start_of_the_study_day_counts_for_that_day(tmp_path):
    """A rating at exactly `since` (the study day's first moment) is
    one of the day's, for the daily limits and the cards rated today."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW - H, first=True, queue="new")
        log(store, "b", NOW, first=True, queue="new")
        assert store.studied_since(NOW) == ({"new": 1}, {"b"}, {"b"})
        assert store.counts_since(NOW) == {"new": 1}


def test_the_items_first_studied_since_are_those_rated_new(tmp_path):
    """`new_order`'s turns count the new cards each deck gave today: the items rated in the
    new queue (an item rated again, in learning, or a review, is not one more)."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True, queue="new")
        log(store, "a", NOW + H, queue="learning")
        log(store, "r", NOW + H, first=True, queue="review")
        assert store.studied_since(NOW) == ({"new": 1, "learning": 1, "review": 1},
                                            {"a", "r"}, {"a"})  # fmt: skip


# --- _review_filter (history of a cloze card: its ids from a prefix; since) -----------------
def test_reviews_of_a_prefix_are_the_ids_that_start_with_it_and_since_is_inclusive(tmp_path):
    """A prefix takes the id equal to it and those that extend it, not the next id after its
    range; `since` is inclusive (`history(since=)`: undo's look at today's ratings)."""
    with open_store(tmp_path) as store:
        for card in ("x#b", "x#c", "x#c1", "x#d", "x#d1"):
            log(store, card, NOW, first=True)
        assert [r.card_id for r in store.reviews(card_prefix="x#c", oldest_first=True)] == [
            "x#c",
            "x#c1",
        ]
        assert store.count_reviews(card_prefix="x#c") == 2
        log(store, "y", NOW + H, first=True)
        assert [r.card_id for r in store.reviews(since=NOW + H)] == ["y"]


# --- settle_staged (an import: one review per card and time, the first the file gives) -----
def _rows(*rows: tuple) -> list[tuple]:
    """Rows of a file (card_id, reviewed_at, rating, duration_ms) as `stage` takes them: none
    undone, none with a content hash."""
    return [(*row, None, None) for row in rows]


def test_of_two_staged_rows_with_the_same_card_and_time_the_files_first_is_kept(tmp_path):
    """The file's first row of a card and time is kept, not its last."""
    at = "2024-01-01T00:00:00.000000+00:00"
    with open_store(tmp_path) as store, store.importing("{}"):
        store.stage(_rows(("a", at, 2, 10), ("a", at, 4, 20), ("a", at, 1, None)))
        store.settle_staged()
        _, texts = store.staged_histories("a", "a")
    assert texts == [("a", f"{at} 2 10  0", 1)]


def test_staged_rows_that_contradict_the_log_or_an_earlier_row_are_told(tmp_path):
    """A row left out because the log has its card and time, or an earlier row does, with
    another rating is a conflict (an edited rating, imported again, changes nothing): each
    counted once, the first few shown, in the file's order, then the log's; the same rating
    again is no conflict, nor a cram rating's time (that row is imported)."""
    at = "2025-03-01T09:00:00.000000+00:00"
    later = "2025-03-01T10:00:00.000000+00:00"
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True)  # rating 3 at `at`
        log(store, "b", NOW + H, method="cram", first=True, rating=1)
        with store.importing("{}"):
            store.stage(
                _rows(
                    ("c", at, 2, None),
                    ("c", at, 2, None),  # the same again: no conflict
                    ("c", at, 4, None),  # against the file's first: one
                    ("a", at, 1, None),  # against the log's 3: one
                    ("a", at, 3, None),  # (left out against the file's first 1: one)
                    ("a", later, 3, None),
                    ("b", later, 2, None),  # at a cram rating's time: imported, none
                )
            )
            conflicts = store.settle_staged()
            assert store.staged_cards() == [("a", 1), ("b", 1), ("c", 1)]
    assert conflicts.count == 3
    assert conflicts.first == [
        ("c", at, 4, 2, "file"),
        ("a", at, 3, 1, "file"),
        ("a", at, 1, 3, "log"),
    ]


def test_an_import_that_agrees_with_the_log_has_no_conflicts(tmp_path):
    at = "2025-03-01T09:00:00.000000+00:00"
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True)
        with store.importing("{}"):
            store.stage(_rows(("a", at, 3, None), ("a", at, 3, 5)))
            conflicts = store.settle_staged()
            assert store.staged_cards() == []
    assert (conflicts.count, conflicts.first) == (0, [])


def test_a_staged_review_at_a_cram_ratings_time_is_still_imported(tmp_path):
    """A cram rating is out of the schedule (no
    export has it), so a file's review of that card at that moment is new to the schedule;
    one the schedule has is left out."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True)
        log(store, "a", NOW + H, method="cram")
        with store.importing("{}"):
            store.stage(
                _rows(
                    ("a", "2025-03-01T09:00:00.000000+00:00", 3, None),
                    ("a", "2025-03-01T10:00:00.000000+00:00", 2, None),
                )
            )
            store.settle_staged()
            assert store.staged_cards() == [("a", 1)]
            _, texts = store.staged_histories("a", "a")
    assert texts == [("a", "2025-03-01T10:00:00.000000+00:00 2   0", 1)]


# --- staged_histories (the log's side of an import's replay) -------------------------------
def test_the_logged_history_an_import_replays_leaves_out_undone_ratings(tmp_path):
    """A card rated twice, its second rating undone, then
    a file with a newer review of it: the replay must build on the first rating alone."""
    with open_store(tmp_path) as store:
        first = log(store, "a", NOW, first=True)
        undone = log(store, "a", NOW + H, rating=1)
        store.undo(undone.id, NOW + 2 * H)
        with store.importing("{}"):
            store.stage(_rows(("a", "2025-03-02T09:00:00.000000+00:00", 3, None)))
            store.settle_staged()
            logged, _ = store.staged_histories("a", "a")
    assert [row[5] for row in logged] == [first.id]


# --- undo's guard against a recompute (migration 0006) -------------------------------------
def test_undo_after_a_recompute_is_refused_for_a_rating_before_it_only(tmp_path):
    """A rating before a recompute has a stale state before (the recompute changed it): not
    undone. One at the recompute's very moment comes after it (as every replay has it: under
    a fixed clock a session rates at the moment `optimize --write` recomputed) and is undone."""
    from studycli.errors import StoreError

    with open_store(tmp_path) as store:
        before = log(store, "a", NOW - H, first=True)
        store.record_recompute(NOW, "{}")
        with pytest.raises(StoreError, match="recomputed"):
            store.undo(before.id, NOW + H)
        at = log(store, "b", NOW, first=True)
        store.undo(at.id, NOW + H)
        assert store.state("b") is None


def test_undo_of_a_rating_between_two_recomputes_is_refused(tmp_path):
    """`optimize --write` run twice, a rating made between the two: its state before is
    stale after the second, so undo is refused against the latest recompute, not the first
    (undone, it would put back a state the second recompute replaced)."""
    with open_store(tmp_path) as store:
        store.record_recompute(NOW, '{"w": "first"}')
        between = log(store, "a", NOW + H, first=True)
        store.record_recompute(NOW + 2 * H, '{"w": "second"}')
        assert store.latest_recompute() == NOW + 2 * H
        with pytest.raises(StoreError, match="recomputed"):
            store.undo(between.id, NOW + 3 * H)


def test_recomputes_come_in_time_order_and_at_one_time_in_the_order_made(tmp_path):
    """By time (a clock set back between two recomputes), and at one moment in the order
    made (else the earlier parameters would be applied last and win)."""
    with open_store(tmp_path) as store:
        store.record_recompute(NOW + D, '{"w": "late"}')
        store.record_recompute(NOW, '{"w": "first"}')
        store.record_recompute(NOW, '{"w": "second"}')
        ids = {text: id_ for id_, text in store.schedulers().items()}
        assert store.recomputes() == [
            ("2025-03-01T09:00:00.000000+00:00", ids['{"w": "first"}']),
            ("2025-03-01T09:00:00.000000+00:00", ids['{"w": "second"}']),
            ("2025-03-02T09:00:00.000000+00:00", ids['{"w": "late"}']),
        ]


# --- staged_reviews (takes apart staged_histories' text, whose order SQLite does not promise) ---
def test_staged_reviews_puts_a_text_in_any_order_into_time_order():
    """Sorted here: SQLite happens to concatenate in key order, which `staged_histories` does
    not promise."""
    from studycli.study.store_import import staged_reviews

    text = "2024-01-02T00:00:00.000000+00:00 3  a1+b2 0,2024-01-01T00:00:00.000000+00:00 1 250  1"
    assert staged_reviews(text) == [
        ("2024-01-01T00:00:00.000000+00:00", 1, 250, None, True),
        ("2024-01-02T00:00:00.000000+00:00", 3, None, "a1+b2", False),
    ]


# --- append_imported's guard ---------------------------------------------------------------
def test_append_imported_outside_an_import_is_refused_and_writes_nothing(tmp_path):
    """Outside `importing` the
    rows would be written in an implicit transaction no one commits or rolls back."""
    values = ["a", 3, "2024-01-01T00:00:00.000000+00:00", None, "h", "new", "{}"]
    with open_store(tmp_path) as store:
        with pytest.raises(RuntimeError, match=r"inside Store\.importing"):
            store.append_imported(values, 1, [])
        assert store.count_reviews() == 0


# --- iso_text (an import's times: the stored shape made from the text alone, or None) ------
@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00.5Z",
        "2024-01-01T00:00:00.12345+00:00",
        "2024-01-01T00:00:00.1234Z",
    ],
)
def test_iso_text_of_a_fraction_of_other_digits_is_none_or_the_stored_shape(text):
    """A fraction of 1, 2, 4 or 5 digits
    (read by `fromisoformat`) came back as it was, not in `iso()`'s shape, and was stored so
    (text order no longer time order)."""
    from studycli.study.times import iso, iso_text, parse_time

    assert iso_text(text) in (None, iso(parse_time(text)))


def due_state(card: str, due, state: int = 2) -> str:
    """A card's fsrs JSON as the store reads it: its due time (fsrs's text) and state."""
    return f'{{"card_id": "{card}", "due": "{due.isoformat()}", "state": {state}}}'


def test_a_card_due_at_the_very_moment_asked_is_due_and_not_due_after_it(tmp_path):
    """`schedule` takes the cards due at or before its moment; `due_rows` after a moment
    those due strictly after it. (Due times with a fraction of a second: fsrs writes a whole
    second without one, which sorts before the store's text of the same second.)"""
    due = NOW + D + timedelta(microseconds=500_000)
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True, after=due_state("a", due, state=1))
        log(store, "b", NOW, first=True, after=due_state("b", due + D, state=1))
        assert [row[0] for row in store.schedule(due).due] == ["a"]
        after = store.due_rows({"a", "b"}, review=False, after=due)
        assert [parse_time(moment) for moment, _ in after] == [due + D]
        every = store.due_rows({"a", "b"}, review=False)
        assert [parse_time(moment) for moment, _ in every] == [due, due + D]


def test_the_first_reviews_read_page_after_page_without_a_card_twice(tmp_path):
    """Of 300 review cards due, the queue wants the 150 with an odd number: the first page
    (150 rows) holds 75 of them, and the next page starts after its last row, not at it."""
    with open_store(tmp_path) as store:
        cards = [f"c{i:03d}" for i in range(300)]
        for i, card in enumerate(cards):
            log(store, card, NOW, first=True, after=due_state(card, NOW + i * H))
        wanted = set(cards[1::2])
        cap = ReviewCap(now=NOW + 400 * H, cards=wanted, limit=150)
        due = store.schedule(NOW + 400 * H, reviews=cap).due
        assert [row[0] for row in due] == cards[1::2]


def test_the_export_of_a_damaged_index_reads_the_log_in_time_order(tmp_path):
    """`exported_rows(indexed=False)`, the export from a file whose indexes are damaged,
    gives the rows the indexed read gives: in time order, not in the order recorded."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW + D, first=True)
        log(store, "b", NOW, first=True)  # recorded after, reviewed before
        log(store, "a", NOW + 2 * D)
        indexed = list(store.exported_rows())
        assert list(store.exported_rows(indexed=False)) == indexed
        assert [row[0] for row in indexed] == ["b", "a", "a"]


def test_the_export_of_a_damaged_index_leaves_out_cram_ratings(tmp_path):
    """A cram rating is out of the schedule: the export from a file whose indexes are damaged
    (`exported_rows(indexed=False)`, where the doctor sends the learner) leaves it out, as
    the indexed read does; written there, it would be imported back as a scheduled review."""
    with open_store(tmp_path) as store:
        log(store, "a", NOW, first=True)
        log(store, "a", NOW + H, rating=1, method="cram")
        assert list(store.exported_rows(indexed=False)) == list(store.exported_rows())
        assert [row[2] for row in store.exported_rows(indexed=False)] == [
            "2025-03-01T09:00:00.000000+00:00"
        ]


_LIMITED_RATING = """
import resource, sys
from datetime import timedelta
from pathlib import Path
from studycli.errors import StoreFull
from studycli.study import rating as core
from tests.study_support import NO_FUZZ, NOW, fixture_content, open_store
card = fixture_content().get("bias-concept")
with open_store(Path(sys.argv[1])) as store:
    core.rate(store, card, 3, NOW, NO_FUZZ)
    wal = Path(f"{store.path}-wal").stat().st_size  # the next frame would begin past the limit
    resource.setrlimit(resource.RLIMIT_FSIZE, (wal, resource.RLIM_INFINITY))  # (SIGXFSZ ignored)
    try:
        core.rate(store, card, 3, NOW + timedelta(days=1), NO_FUZZ)
    except StoreFull as full:
        print("StoreFull", full.why, "|", full.fix, "|", len(store.reviews()))
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    core.rate(store, card, 3, NOW + timedelta(days=1), NO_FUZZ)
    print("saved after", len(store.reviews()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux file-size limit")
def test_a_rating_a_file_size_limit_refuses_is_store_full_that_names_the_limit(tmp_path):
    """Past `ulimit -f` SQLite's write of the -wal fails as SQLITE_IOERR_WRITE (EFBIG), which
    escaped the store as a raw sqlite3 error and ended a `review` session (the card lost
    from the session): it is a StoreFull that names the limit and its fix, not "the disk is
    full", nothing of the rating written, and the same rating is saved once it is raised."""
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_RATING, str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    full, saved = done.stdout.splitlines()
    assert full.startswith("StoreFull the file-size limit (`ulimit -f`)"), full
    assert full.endswith("| raise the limit (`ulimit -f unlimited`) and run the command again | 1")
    assert "is full" not in full and saved == "saved after 2"


def test_a_shm_file_a_full_disk_cannot_grow_is_store_full(tmp_path, monkeypatch):
    """A -wal past 4,096 frames needs a second -shm region, which a full disk has no room for:
    SQLITE_IOERR_SHMSIZE escaped the store, and a `review` session ended with it. (Made by
    hand: the error of a -wal of 16 MB on a full disk.)"""
    import shutil

    from studycli.errors import StoreFull

    card = fixture_content().get("bias-concept")
    with open_store(tmp_path) as store:
        real_usage = shutil.disk_usage(tmp_path)
        monkeypatch.setattr(shutil, "disk_usage", lambda path: real_usage._replace(free=4096))
        with pytest.raises(StoreFull) as caught, store.transaction():
            error = sqlite3.OperationalError("disk I/O error")
            error.sqlite_errorcode = sqlite3.SQLITE_IOERR_SHMSIZE
            raise error
        assert caught.value.why == f"the disk holding {store.path} is full"
        monkeypatch.undo()
        core.rate(store, card, 3, NOW, NO_FUZZ)
        assert len(store.reviews()) == 1
