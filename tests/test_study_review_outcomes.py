"""Each card's outcomes in the review state (`Store.review_outcomes`: stats' topic retention),
kept by the log's triggers (migration 0012), against a plain reading of the whole log: every
way the log changes (a rating, an undo, a replay's schedule, a rename), a migration of an
existing log, and an import, in bulk or not; the doctor's check and repair of the table and
of the triggers that keep it."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from studycli.study import migrations, renames, store_sql
from studycli.study import rating as core
from studycli.study.api import Study
from studycli.study.doctor import examine_database
from studycli.study.review_records import CardState, Review
from studycli.study.settings import Settings
from studycli.study.store import Store

from .study_support import NO_FUZZ, NOW, fixture_content, open_store, rows, schema_of
from .test_study_doctor import rated_many

QUEUES = ("new", "learning", "review", "relearning")
METHODS = ("self", "self", "check", "import", "cram")


def read_from_the_log(store: Store) -> dict[str, tuple[int, int]]:
    """(reviews, passed) per card, read review by review: those given in the review state,
    not cram, not undone; a card with none left out."""
    undone = {row[0] for row in store.conn.execute("SELECT review_id FROM undos")}
    found: dict[str, tuple[int, int]] = {}
    for review_id, card, rating, method, queue in store.conn.execute(
        "SELECT id, card_id, rating, method, queue FROM reviews"
    ):
        if review_id in undone or queue != "review" or method == "cram":
            continue
        reviews, passed = found.get(card, (0, 0))
        found[card] = (reviews + 1, passed + (rating > 1))
    return found


def rate(store: Store, rng: random.Random, card: str, minutes: int) -> int:
    """A rating of `card`, of a random rating, method and queue; its id."""
    method = rng.choice(METHODS)
    review = Review(
        card_id=card,
        rating=rng.randint(1, 4),
        reviewed_at=NOW + timedelta(minutes=minutes),
        method=method,
        content_hash="h",
        queue=rng.choice(QUEUES),
        scheduler="{}",
        state_after="{}",
    )
    recorded = store.record(review, None if method == "cram" else CardState(card, fsrs="{}"))
    assert recorded.id is not None
    return recorded.id


def change(store: Store, rng: random.Random, ids: list[int], step: int) -> None:
    """One change of the log, as the store makes them: a rating (most often), an undo of any
    rating (an import's undo need not be the latest), a replay's new queue for a few ratings,
    or a card's ratings moved to another id (a rename; the other id may have some)."""
    cards = [f"card-{i}" for i in range(5)]
    roll = rng.random()
    if roll < 0.6 or not ids:
        ids.append(rate(store, rng, rng.choice(cards), step))
    elif roll < 0.75:
        store.conn.execute(
            "INSERT OR IGNORE INTO undos (review_id, undone_at) VALUES (?, ?)",
            (rng.choice(ids), "2030-01-01T00:00:00.000000+00:00"),
        )
    elif roll < 0.92:
        chosen = rng.sample(ids, min(len(ids), 3))
        store.write_schedule([(rng.choice(QUEUES), "{}", review_id) for review_id in chosen])
    else:
        old, new = rng.sample(cards, 2)
        store.move_items([(old, new)], NOW)


@pytest.mark.parametrize("seed", range(16))
def test_the_outcomes_kept_are_those_read_from_the_log_after_every_change(tmp_path, seed):
    rng = random.Random(seed)
    ids: list[int] = []
    with open_store(tmp_path) as store:
        for step in range(120):
            change(store, rng, ids, step)
            expected = read_from_the_log(store)
            assert store.review_outcomes() == expected, step
            assert store.review_outcomes_counted() == expected, step
    assert expected  # (some cards counted)


def test_an_existing_log_is_counted_by_the_migration_and_kept_after(tmp_path, monkeypatch):
    """A log made before 0012 (ratings, undos, replays, renames) upgraded: its table holds
    what the log gives, and the triggers keep it from there."""
    rng = random.Random(7)
    ids: list[int] = []
    with monkeypatch.context() as patch:
        schema_of(
            patch, migrations.MIGRATIONS[: migrations.NAMES.index(store_sql.OUTCOME_MIGRATION)]
        )
        with open_store(tmp_path) as store:
            for step in range(150):
                change(store, rng, ids, step)
            assert store_sql.OUTCOME_MIGRATION not in migrations.applied(store.conn)
            older = read_from_the_log(store)
            assert store.review_outcomes() == older  # (no table: counted from the log)
    with open_store(tmp_path) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
        assert store.review_outcomes() == older and older
        for step in range(150, 200):
            change(store, rng, ids, step)
        assert store.review_outcomes() == read_from_the_log(store)


SAMPLE = Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv"
LATER = datetime(2030, 1, 1, tzinfo=UTC)  # "now" for importing the 2024 sample


def test_imports_in_bulk_and_not_keep_the_outcomes_the_log_gives(tmp_path):
    """The sample's first 2,000 reviews (an import through the triggers), then the whole
    sample (a bulk import: 10,580 more, its insert trigger dropped and the table counted
    again after), then a file of a few reviews before the log's (their cards replayed: queues
    written again) and of a few ratings undone there."""
    path = tmp_path / "reviews.sqlite3"
    lines = SAMPLE.read_text().splitlines()
    start = tmp_path / "start.csv"
    start.write_text("\n".join(lines[:2001]) + "\n")
    found = []
    with Study.open(path, Settings()) as study:
        assert study.import_reviews(start, [], LATER).added == 2000
        found.append(read_from_the_log(study.store))
        assert study.import_reviews(SAMPLE, [], LATER).added == len(lines) - 2001 >= 10_000
        found.append(read_from_the_log(study.store))
        assert study.store.review_outcomes() == found[-1] != found[0]
    earlier, rows = tmp_path / "earlier.csv", []
    for number, line in enumerate(lines[1:400]):
        card, rating, at, duration = line.split(",")
        moment = datetime.fromisoformat(at)
        if number % 10 == 0:  # this very rating, undone there
            rows.append(f"{card},{rating},{at},{duration},,{LATER.isoformat()}")
        else:  # one more, a second before it
            rows.append(f"{card},{rating},{(moment - timedelta(seconds=1)).isoformat()},,,")
    header = "card_id,review_rating,review_time,review_duration,content_hash,undone_at"
    earlier.write_text("\n".join([header, *rows]) + "\n")
    with Study.open(path, Settings()) as study:
        result = study.import_reviews(earlier, [], LATER)
        assert result.added > 300 and result.undos > 0
        expected = read_from_the_log(study.store)
        assert study.store.review_outcomes() == expected != found[-1]


def corrupt_outcomes(path: Path) -> None:
    """The table made to disagree with the log three ways, as a hand edit, a bug or a write
    with a trigger dropped might: a card's passes wrong, a card's row lost, a card the log has
    no review of."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE review_outcomes SET passed = passed - 1 WHERE card_id = 'add-one'")
        conn.execute("DELETE FROM review_outcomes WHERE card_id = 'bias-concept'")
        conn.execute("INSERT INTO review_outcomes VALUES ('ghost', 3, 2)")
    conn.close()


def test_the_doctor_reports_outcomes_that_differ_from_the_log_and_counts_them_again(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 40)
    with Store.open(path) as store:
        counted = store.review_outcomes_counted()
        assert set(counted) == {"add-one", "bias-concept"}  # (each with reviews in review)
        assert store.review_outcomes() == counted
    assert examine_database(path, repair=False).healthy  # (nothing to say of a healthy log)
    corrupt_outcomes(path)
    with Store.open(path) as store:
        corrupted = store.review_outcomes()
        assert corrupted != counted
    checked = examine_database(path, repair=False)
    assert checked.outcomes_drifted == ["add-one", "bias-concept", "ghost"]
    assert not checked.healthy and not checked.repaired and checked.drifted == []
    assert checked.to_dict()["drifted_outcomes"] == ["add-one", "bias-concept", "ghost"]
    with Store.open(path) as store:
        assert store.review_outcomes() == corrupted  # (a dry run changes nothing)
    repaired = examine_database(path)
    assert repaired.outcomes_drifted == ["add-one", "bias-concept", "ghost"]
    assert repaired.repaired and repaired.healthy and repaired.backup is not None
    with Store.open(path) as store:
        assert store.review_outcomes() == counted == read_from_the_log(store)
    assert examine_database(path, repair=False).outcomes_drifted == []


def outcome_triggers(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """The schema's triggers that keep the table of outcomes: (table, SQL) by name."""
    return {
        name: (table, sql)
        for name, table, sql in conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
            " AND name LIKE 'review_outcomes%' ORDER BY name"
        )
    }


def test_the_triggers_kept_here_are_those_the_migrations_make(tmp_path):
    """`store_sql.OUTCOME_TRIGGERS`, what the doctor makes a trigger again from, and the
    migrations' text (never edited) give the same schema rows: a migration that changes a
    trigger and not this copy would have the doctor undo it."""
    with Store.open(tmp_path / "migrated.sqlite3") as migrated:
        expected = outcome_triggers(migrated.conn)
    with Store.open(tmp_path / "made.sqlite3") as made, made.transaction():
        made.recreate_outcome_triggers(list(store_sql.OUTCOME_TRIGGERS))
        found = outcome_triggers(made.conn)
        assert made.outcome_triggers_differing() == ([], [])
    assert sorted(expected) == sorted(found) == sorted(store_sql.OUTCOME_TRIGGERS)
    for name, (table, sql) in expected.items():
        assert found[name][0] == table, name
        assert found[name][1].split() == sql.split(), name  # (the same but for the layout)


# each trigger, made again with its name and table to count nothing (a hand edit)
DOING_NOTHING = {
    "review_outcomes_insert": "AFTER INSERT ON reviews",
    "review_outcomes_update": "AFTER UPDATE OF card_id, queue ON reviews",
    "review_outcomes_undo": "AFTER INSERT ON undos",
}


def studied(path: Path, start: int) -> None:
    """What each trigger counts, done as studycli does it: ratings (of cards in review, passed
    and failed), one of them undone, and a card's reviews moved to a new id (a rename)."""
    content = fixture_content()
    with Store.open(path) as store:
        for i, (card, rating) in enumerate([("add-one", 3), ("bias-concept", 1), ("add-one", 3)]):
            last = core.rate(
                store, content.get(card), rating, NOW + timedelta(days=start + i), NO_FUZZ
            )
        core.undo(store, last.id, NOW + timedelta(days=start + 3))  # type: ignore[arg-type]
        moved = {"add-one": f"add-one-{start}"}
        assert renames.carry(store, moved, Settings(), NOW + timedelta(days=start + 3))


@pytest.mark.parametrize("name", sorted(DOING_NOTHING))
@pytest.mark.parametrize("how", ["dropped", "altered"])
def test_a_trigger_of_the_outcomes_dropped_or_altered_is_named_and_made_again(tmp_path, name, how):
    """A trigger of the table dropped by hand (or left dropped by an import) or edited: the
    doctor counted the table again, and the next ratings drifted it again. It names the
    trigger, makes it again (a dry run changes nothing) and counts the table again; nothing
    of the log is lost, and the table keeps up with the log after."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 20)
    with Store.open(path) as store:
        made = outcome_triggers(store.conn)
    with sqlite3.connect(path) as conn:
        conn.execute(f"DROP TRIGGER {name}")
        if how == "altered":
            conn.execute(f"CREATE TRIGGER {name} {DOING_NOTHING[name]} BEGIN SELECT 1; END")
    conn.close()
    studied(path, 30)
    with Store.open(path) as store:
        log, broken = rows(store), outcome_triggers(store.conn)
    checked = examine_database(path, repair=False)
    said = ([name], []) if how == "dropped" else ([], [name])
    assert (checked.triggers_missing, checked.triggers_altered) == said
    assert checked.outcomes_drifted  # (the trigger missed some changes of the log)
    assert not checked.healthy and not checked.repaired and checked.drifted == []
    assert checked.to_dict()["recreated_triggers"] == []
    with Store.open(path) as store:
        assert outcome_triggers(store.conn) == broken  # (a dry run changes nothing)
    repaired = examine_database(path)
    assert repaired.repaired and repaired.healthy and repaired.backup is not None
    found = repaired.to_dict()
    assert (found["missing_triggers"], found["altered_triggers"]) == said
    assert found["recreated_triggers"] == [name]
    with Store.open(path) as store:
        assert rows(store) == log
        again = outcome_triggers(store.conn)
        assert {n: (t, sql.split()) for n, (t, sql) in again.items()} == {
            n: (t, sql.split()) for n, (t, sql) in made.items()
        }
        assert store.review_outcomes() == read_from_the_log(store)
    studied(path, 40)
    with Store.open(path) as store:
        assert store.review_outcomes() == read_from_the_log(store)  # (no drift again)
    assert examine_database(path, repair=False).healthy


def test_the_table_kept_here_is_the_one_the_migrations_make(tmp_path):
    """`store_sql.OUTCOME_TABLE`, what the doctor makes the table again from, and migration
    0012's text give the same schema row but for layout."""
    with Store.open(tmp_path / "migrated.sqlite3") as migrated:
        (expected,) = migrated.conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'review_outcomes'"
        ).fetchone()
    assert expected.split() == store_sql.OUTCOME_TABLE.split()
    assert store_sql.OUTCOME_MIGRATION in migrations.NAMES


def test_a_dropped_table_of_the_outcomes_is_named_made_again_and_counted(tmp_path):
    """The table dropped by hand, its triggers (on the log's tables) stayed: every rating
    failed ("no such table"), and the doctor, which read no table as an older database's,
    said the database was healthy. It names the table, makes it again and counts it from
    the log; a dry run changes nothing, and the ratings work again after."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 20)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE review_outcomes")
    conn.close()
    checked = examine_database(path, repair=False)
    assert checked.table_missing and not checked.healthy and not checked.repaired
    assert checked.to_dict()["missing_outcomes_table"] is True
    with Store.open(path) as store:
        assert not store._has_table("review_outcomes")  # (a dry run changes nothing)
        log = rows(store)
    repaired = examine_database(path)
    assert repaired.repaired and repaired.healthy and repaired.backup is not None
    with Store.open(path) as store:
        assert rows(store) == log
        assert store.outcome_table_missing() is False
        assert store.review_outcomes() == read_from_the_log(store) != {}
    studied(path, 30)  # (failed before: no such table)
    with Store.open(path) as store:
        assert store.review_outcomes() == read_from_the_log(store)
    assert examine_database(path, repair=False).healthy


def test_an_older_database_without_the_table_is_not_told_it_is_missing(tmp_path):
    """A database from before migration 0012 lacks the table rightly: read as it is (a
    dry run of one larger than database.COPY_AT_MOST), no table is said to be missing."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 5)
    with Store.open(path) as store:
        store.conn.execute("DROP TABLE review_outcomes")
        store.conn.execute("DELETE FROM migrations WHERE name = ?", (store_sql.OUTCOME_MIGRATION,))
        assert store.outcome_table_missing() is False


def test_a_trigger_of_the_outcomes_renamed_is_dropped_and_made_again_under_its_name(tmp_path):
    """A trigger made again under another name by hand: the doctor made the one of its own
    name again, as missing, and the two counted each rating twice, the table drifting again
    at once (the doctor then counting it again, each time, saying nothing of why). The
    trigger of the other name is named and dropped."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 20)
    made = store_sql.OUTCOME_TRIGGERS["review_outcomes_insert"]
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER review_outcomes_insert")
        conn.execute(made.replace("TRIGGER review_outcomes_insert", "TRIGGER counted"))
    conn.close()
    checked = examine_database(path, repair=False)
    assert checked.triggers_missing == ["review_outcomes_insert"]
    assert checked.triggers_foreign == ["counted"] and not checked.healthy
    repaired = examine_database(path)
    assert repaired.repaired and repaired.healthy
    assert repaired.to_dict()["dropped_triggers"] == ["counted"]
    with Store.open(path) as store:
        assert list(outcome_triggers(store.conn)) == sorted(store_sql.OUTCOME_TRIGGERS)
    studied(path, 30)
    with Store.open(path) as store:
        assert store.review_outcomes() == read_from_the_log(store)  # (counted once)
    assert examine_database(path, repair=False).healthy
