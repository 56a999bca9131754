"""import-reviews and export-reviews: the sample's round trip, idempotence, merging two
machines' histories (replayed in time order), bad files refused whole, and the edge cases
(an empty log, one review); the migration that lets the log hold imported and cram ratings."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studycli.errors import ImportFormatError
from studycli.study import (
    import_file,
    import_replay,
    import_workers,
    migrations,
    review_export,
    review_io,
    store_import,
)
from studycli.study import rating as core
from studycli.study.api import Study, study_items
from studycli.study.labels import edits
from studycli.study.review_log_csv import read_reviews
from studycli.study.review_log_rows import LONGEST_CARD_ID
from studycli.study.review_log_write import write_reviews
from studycli.study.review_records import CardState, ReviewMethod
from studycli.study.settings import Settings
from studycli.study.store import Store
from studycli.study.times import iso, iso_text, isoformat_of, parse_time

from .conftest import FIXTURE_CONTENT, write_card
from .study_support import NO_FUZZ, NOW, fixture_content, rows, schema, schema_of

SAMPLE = Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv"
HEADER = "card_id,review_rating,review_time,review_duration\n"
LATER = datetime(2030, 1, 1, tzinfo=UTC)  # "now" for importing the 2024 sample


def items():
    return study_items(fixture_content().cards.values())


def open_study(path: Path, settings: Settings = NO_FUZZ) -> Study:
    return Study.open(path, settings)


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def parsed(path: Path) -> list[tuple]:
    return sorted(read_reviews(path))


# --- the sample --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """The sample imported once into a fresh database (about 2 s)."""
    path = tmp_path_factory.mktemp("sample") / "db.sqlite3"
    with open_study(path, Settings()) as study:
        result = study.import_reviews(SAMPLE, items(), LATER)
    return path, result


def test_the_sample_imports_to_exactly_its_reviews_with_unknown_ids_kept(sample_db):
    path, result = sample_db
    found = result.to_dict()
    named = found.pop("first_unknown_cards")  # the first five ids, in order
    assert len(named) == 5 and named == sorted(named)
    assert found == {
        "rows": 12_580,
        "added": 12_580,
        "duplicates": 0,
        "cards": 1_205,
        "unknown_cards": 1_205,
        "cloze_cards_own_id": [],
        "conflicts": 0,
        "first_conflicts": [],
        "undone": 0,
        "closest_known_cards": {},  # (numeric ids: none close to the fixture's)
        "dry_run": False,
        "undos_applied": 0,
        "undone_added": 0,
        "ahead_of_clock": 0,
        "most_ahead_seconds": 0.0,
    }
    with Store.open(path) as store:
        assert len(store.reviews()) == 12_580
        assert {r.method for r in store.reviews()} == {"import"}
        assert len(store.states()) == 1_205  # every card kept, though none is in the content


def test_exporting_the_sample_gives_back_the_same_rows(sample_db, tmp_path):
    path, _ = sample_db
    out = tmp_path / "out.csv"
    with open_study(path) as study:
        assert study.export_reviews(out) == (12_580, 0)
    assert parsed(out) == parsed(SAMPLE)
    assert read_reviews(out)[0].reviewed_at == datetime(2024, 3, 29, 20, 32, 32, 250000, UTC)
    assert (
        out.read_text().splitlines()[1]
        == "1711684180217,1,2024-03-29T20:32:32.250000+00:00,25060,,"  # (no hash: unknown ids)
    )


def test_a_bulk_import_leaves_the_log_indexed_as_before(sample_db, tmp_path):
    """A large import drops the log's indexes and makes them again: the schema is unchanged."""
    path, _ = sample_db
    with Store.open(path) as imported, Store.open(tmp_path / "fresh.sqlite3") as fresh:
        assert schema(imported) == schema(fresh)


def test_importing_the_sample_again_changes_nothing(sample_db, tmp_path):
    path, _ = sample_db
    with Store.open(path) as store:
        before = rows(store)
    with open_study(path, Settings()) as study:
        again = study.import_reviews(SAMPLE, items(), LATER)
    assert (again.added, again.duplicates, again.cards) == (0, 12_580, 0)
    with Store.open(path) as store:
        assert rows(store) == before


def test_the_imported_states_are_what_a_replay_of_the_log_gives(sample_db):
    path, _ = sample_db
    with Store.open(path) as store:
        assert core.rebuild(store) == store.states()


# --- edge cases --------------------------------------------------------------------------------


def test_an_empty_log_exports_a_header_and_imports_as_nothing(tmp_path):
    out = tmp_path / "empty.csv"
    with open_study(tmp_path / "a.sqlite3") as study:
        assert study.export_reviews(out) == (0, 0)
    assert out.read_text() == HEADER.replace("\n", ",content_hash,undone_at\n")
    with open_study(tmp_path / "b.sqlite3") as study:
        result = study.import_reviews(out, items(), NOW)
        assert (result.rows, result.added, result.cards) == (0, 0, 0)
        assert study.history() == []


def test_one_review_schedules_its_card_as_a_live_rating_would(tmp_path):
    csv = write_csv(tmp_path / "one.csv", ["add-one,3,2025-02-27T10:00:00+00:00,4200"])
    with open_study(tmp_path / "db.sqlite3") as study:
        result = study.import_reviews(csv, items(), NOW)
        [review] = study.history()
        state = study.state("add-one")
    assert (result.added, result.unknown) == (1, 0)
    assert (review.card_id, review.rating, review.method, review.duration_ms) == (
        "add-one",
        3,
        "import",
        4200,
    )
    assert review.queue == "new" and review.state_before is None
    assert review.content_hash == fixture_content().get("add-one").content_hash  # not "edited"
    with open_study(tmp_path / "live.sqlite3") as live:
        live.rate(fixture_content().get("add-one"), 3, datetime(2025, 2, 27, 10, tzinfo=UTC))
        assert live.state("add-one") == state


def test_a_bad_row_refuses_the_whole_file_and_writes_nothing(tmp_path):
    csv = write_csv(
        tmp_path / "bad.csv",
        [
            "add-one,3,2025-02-27T10:00:00+00:00,",
            "bias-concept,5,2025-02-27T10:01:00+00:00,",
            "bias-concept,3,2025-02-27T10:02:00+00:00,",
        ],
    )
    db = tmp_path / "db.sqlite3"
    with open_study(db) as study:
        with pytest.raises(ImportFormatError) as error:
            study.import_reviews(csv, items(), NOW)
        assert study.history() == [] and study.state("add-one") is None
    assert str(error.value) == (
        f"{csv}, line 3: review_rating '5' is not 1-4: use 1 Again, 2 Hard, 3 Good or 4 Easy"
    )


@pytest.mark.parametrize(
    "line, problem",
    [
        (
            "add-one,3,2025-02-27T10:00:00+00:00,99999999999999999999999",
            "review_duration '99999999999999999999999' is not a whole number of milliseconds "
            "(at most 12 digits)",
        ),
        (
            "add-one,3,2025-02-27T10:00:00+00:00,\u0663",
            "review_duration '\u0663' is not a whole number of milliseconds",
        ),
        (
            "add-one,3,2025-02-27T10:00:00+00:00,25,7",
            "the row has 5 cells, the header 4: a cell with a comma in it must be quoted",
        ),
        (
            "add\x00one,3,2025-02-27T10:00:00+00:00,",
            "card_id 'add\\x00one' holds a control character",
        ),
        (
            "x" * 201 + ",3,2025-02-27T10:00:00+00:00,",
            f"card_id {'x' * 40!r}... has 201 characters, where a card id has at most 200",
        ),
    ],
)
def test_a_row_sqlite_cannot_hold_or_the_header_does_not_fit_is_named(tmp_path, line, problem):
    """A duration past SQLite's integers (a traceback), digits of another script, a row longer
    than the header (a comma unquoted: its cells shift) and a card id with a control
    character are refused by line, with the fix (they were taken, or crashed the import)."""
    csv = write_csv(tmp_path / "odd.csv", [line])
    with open_study(tmp_path / "db.sqlite3") as study:
        with pytest.raises(ImportFormatError) as error:
            study.import_reviews(csv, items(), NOW)
        assert study.history() == []
    assert str(error.value).startswith(f"{csv}, line 2: {problem}")


@pytest.mark.parametrize(
    "naive", ["2025-02-27T10:00:00", "2025-02-27", "2025-02-27 10:00", "20250227T1000"]
)
def test_the_offset_a_time_without_one_is_told_to_add_is_taken(tmp_path, naive):
    """The fix the message gives for a time with no timezone imports. It appended `+00:00` to
    the text as written: for a date alone ('2025-02-27+00:00') Python reads that as a date with
    no timezone again, and the next message advised '2025-02-27+00:00+00:00'."""
    with open_study(tmp_path / "db.sqlite3") as study:
        with pytest.raises(ImportFormatError) as error:
            study.import_reviews(
                write_csv(tmp_path / "naive.csv", [f"add-one,3,{naive},"]), items(), NOW
            )
        suggested = re.search(r"e\.g\. (.+?) for UTC", str(error.value))
        assert suggested, str(error.value)
        fixed = write_csv(tmp_path / "fixed.csv", [f"add-one,3,{suggested[1]},"])
        assert study.import_reviews(fixed, items(), NOW).added == 1
        assert study.history()[0].reviewed_at == datetime.fromisoformat(naive).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "line, cell",
    [
        ("add-one,0,2025-02-27T10:00:00+00:00,", "review_rating '0'"),  # Anki's revlog has ease 0
        ("add-one,3,2025-02-27T10:00:00+00:00,-25", "review_duration '-25'"),
    ],
)
def test_a_rating_below_1_or_a_negative_duration_is_a_bad_row(tmp_path, line, cell):
    """py-fsrs's ratings are 1-4 and a duration is milliseconds spent, never negative: a row
    with rating 0 (the manual reschedules of an Anki revlog) or a duration of -25 is refused
    by its line and cell, and nothing of the file is imported."""
    csv = write_csv(tmp_path / "odd.csv", [line])
    with open_study(tmp_path / "db.sqlite3") as study:
        with pytest.raises(ImportFormatError) as error:
            study.import_reviews(csv, items(), NOW)
        assert study.history() == [] and study.state("add-one") is None
    assert str(error.value).startswith(f"{csv}, line 2: {cell} ")


def test_a_review_twice_in_a_file_or_at_another_precision_is_one_review(tmp_path):
    csv = write_csv(
        tmp_path / "twice.csv",
        [
            "add-one,3,2025-02-27T10:00:00+00:00,",
            "add-one,3,2025-02-27T11:00:00.000000+01:00,",  # the same moment, written otherwise
            "add-one,3,2025-02-27T10:00:00.000001+00:00,",  # a microsecond later: another review
        ],
    )
    with open_study(tmp_path / "db.sqlite3") as study:
        result = study.import_reviews(csv, items(), NOW)
        assert (result.rows, result.added, result.duplicates) == (3, 2, 1)
        assert len(study.history()) == 2


# --- two machines ------------------------------------------------------------------------------


def _machine(path: Path, plan: list[tuple[str, int, datetime]]) -> None:
    content = fixture_content()
    with open_study(path) as study:
        for card_id, rating, moment in plan:
            study.rate(content.get(card_id), rating, moment)


def _two_machines(tmp_path: Path, laptop: list[tuple], desktop: list[tuple]) -> tuple[Path, ...]:
    """A laptop's and a desktop's logs rated as planned, each exported: (their databases,
    their exports)."""
    a, b = tmp_path / "laptop.sqlite3", tmp_path / "desktop.sqlite3"
    export_a, export_b = tmp_path / "laptop.csv", tmp_path / "desktop.csv"
    for path, plan, export in ((a, laptop, export_a), (b, desktop, export_b)):
        _machine(path, plan)
        with open_study(path) as study:
            study.export_reviews(export)
    return a, b, export_a, export_b


def test_two_machines_exports_merge_into_the_same_union_either_way(tmp_path):
    day = timedelta(days=1)
    laptop = [("add-one", 3, NOW), ("add-one", 3, NOW + 3 * day), ("bias-concept", 1, NOW)]
    desktop = [("add-one", 4, NOW + day), ("poisson-concept", 3, NOW + 2 * day)]
    a, b, export_a, export_b = _two_machines(tmp_path, laptop, desktop)
    now = NOW + 10 * day
    with open_study(a) as study:
        assert study.import_reviews(export_b, items(), now).added == 2
    with open_study(b) as study:
        assert study.import_reviews(export_a, items(), now).added == 3
    union_a, union_b = tmp_path / "union-a.csv", tmp_path / "union-b.csv"
    with open_study(a) as study:
        assert study.export_reviews(union_a) == (5, 0)
        states_a = {i.id: study.state(i.id) for i in items()}
    with open_study(b) as study:
        study.export_reviews(union_b)
        states_b = {i.id: study.state(i.id) for i in items()}
    assert union_a.read_text() == union_b.read_text()
    assert parsed(union_a) == sorted(parsed(export_a) + parsed(export_b))
    assert states_a == states_b


def test_an_import_replays_the_schedule_around_a_cram_rating_without_applying_it(tmp_path):
    """A cram rating never moves the schedule, and an import that replays a card's history
    (here a review from before everything in the log) leaves it out as the log's own replay
    does: the card ends as it does in a log holding the same ratings and no cram rating."""
    card = fixture_content().get("add-one")
    start = NOW - timedelta(days=10)
    csv = write_csv(tmp_path / "earlier.csv", [f"add-one,3,{start.isoformat()},"])
    states = []
    for name, crammed in (("crammed", True), ("plain", False)):
        with open_study(tmp_path / f"{name}.sqlite3") as study:
            study.rate(card, 3, start + timedelta(days=1))
            if crammed:
                study.cram_rate(card, 1, start + timedelta(days=2))
            study.rate(card, 3, start + timedelta(days=4))
            study.import_reviews(csv, items(), NOW)
            states.append(study.state("add-one"))
            assert core.rebuild(study.store)["add-one"] == states[-1]
    assert states[0] == states[1]


def test_two_machines_record_the_same_schedule_for_each_review_after_merging_both_ways(tmp_path):
    """laptop: a card learnt over days 0-20 (a long interval by then), and rated again at day
    100; desktop: the same card at day 50, new to it. After both imports, every review's queue
    and state after (what stats' young/mature, true retention and per-topic figures read) must
    be the merged history's on both machines: they were each machine's own, so the desktop's
    log said the day-100 review followed a young card's (its day-50 rating of a new card) and
    the laptop's that it followed a mature one."""
    day = timedelta(days=1)
    laptop = [("add-one", 3, NOW + days * day) for days in (0, 1, 5, 20, 100)]
    desktop = [("add-one", 3, NOW + 50 * day)]
    a, b, export_a, export_b = _two_machines(tmp_path, laptop, desktop)
    now = NOW + 200 * day
    with open_study(a) as study:
        study.import_reviews(export_b, items(), now)
    with open_study(b) as study:
        study.import_reviews(export_a, items(), now)

    def schedule(path: Path) -> dict[datetime, tuple]:
        with Store.open(path) as store:
            return {r.reviewed_at: (r.queue, r.state_after) for r in store.reviews()}

    def retention(path: Path) -> dict:
        with open_study(path) as study:
            cards = study_items([fixture_content().get("add-one")])
            return study.stats(cards, NOW + 101 * day).true_retention  # day 100 in its window

    assert len(schedule(a)) == 6
    assert schedule(a) == schedule(b)
    assert retention(a) == retention(b)
    assert retention(a)["mature"].failed + retention(a)["mature"].passed == 1


def test_a_cram_rating_between_takes_the_merged_schedule_too(tmp_path):
    """A cram rating logs the card's state as it was; stats' retention reads the state before
    each review from the one logged before it, cram ratings included. The laptop's cram at day
    60 kept the state computed without the desktop's days 50-51, so the machines disagreed on
    whether the day-100 review was of a young card or a mature one."""
    from fsrs import Rating

    day = timedelta(days=1)
    content = fixture_content()
    laptop, desktop = tmp_path / "laptop.sqlite3", tmp_path / "desktop.sqlite3"
    with open_study(laptop) as study:
        for days in (0, 1, 5, 20):
            study.rate(content.get("add-one"), Rating.Good, NOW + days * day)
        study.cram_rate(content.get("add-one"), Rating.Good, NOW + 60 * day)
        study.rate(content.get("add-one"), Rating.Good, NOW + 100 * day)
    _machine(desktop, [("add-one", 1, NOW + 50 * day), ("add-one", 3, NOW + 51 * day)])
    exports = {path: tmp_path / f"{path.stem}.csv" for path in (laptop, desktop)}
    for path, export in exports.items():
        with open_study(path) as study:
            study.export_reviews(export)
    for path, other in ((laptop, desktop), (desktop, laptop)):
        with open_study(path) as study:
            study.import_reviews(exports[other], items(), NOW + 200 * day)

    def retention(path: Path) -> dict:
        with open_study(path) as study:
            cards = study_items([content.get("add-one")])
            return study.stats(cards, NOW + 101 * day).true_retention

    assert retention(laptop) == retention(desktop)
    assert retention(laptop)["all"].passed == 1  # the day-100 review, in the window


def test_an_export_made_before_an_undo_does_not_bring_the_rating_back(tmp_path):
    """Rate, export (a synced file), undo, import that file: the undone review is the same
    review (same card, same time), so nothing is added and the card stays as the undo left it
    (the rating came back, beside its undone copy)."""
    from fsrs import Rating

    card = fixture_content().get("add-one")
    export = tmp_path / "before-undo.csv"
    with open_study(tmp_path / "db.sqlite3") as study:
        rated = study.rate(card, Rating.Good, NOW)
        study.export_reviews(export)
        study.undo(rated.review.id, NOW + timedelta(minutes=1))
        result = study.import_reviews(export, items(), NOW + timedelta(minutes=2))
        assert (result.added, result.duplicates) == (0, 1)
        assert study.history("add-one") == [] and study.state("add-one") is None
        # counted apart: the export made before the undo gives it standing
        assert result.undone == 1 and result.to_dict()["undone"] == 1
        # its rating edited in the file: counted as undone, not also as a conflict with a
        # rating the log no longer has
        edited = export.read_text().replace(",3,", ",1,")
        export.write_text(edited)
        result = study.import_reviews(export, items(), NOW + timedelta(minutes=2))
        assert (result.conflicts, result.undone) == (0, 1)
        study.rate(card, Rating.Good, NOW + timedelta(minutes=3))
        study.export_reviews(export)
        again = study.import_reviews(export, items(), NOW + timedelta(minutes=4))
        # (the export marks the rating undone, which the log has undone: already there)
        assert (again.rows, again.duplicates, again.undone) == (2, 2, 0)


def test_a_merged_history_is_replayed_in_time_order(tmp_path):
    """add-one: laptop at day 0 and day 3, desktop at day 1 in between. After the merge its
    state is that of the three ratings in time order, and a rebuild agrees."""
    day = timedelta(days=1)
    _machine(tmp_path / "laptop.sqlite3", [("add-one", 3, NOW), ("add-one", 1, NOW + 3 * day)])
    _machine(tmp_path / "desktop.sqlite3", [("add-one", 4, NOW + day)])
    export = tmp_path / "desktop.csv"
    with open_study(tmp_path / "desktop.sqlite3") as study:
        study.export_reviews(export)
    with open_study(tmp_path / "laptop.sqlite3") as study:
        study.import_reviews(export, items(), NOW + 10 * day)
        merged = study.state("add-one")
        with Store.open(tmp_path / "laptop.sqlite3") as store:
            assert core.rebuild(store) == store.states()
    _machine(
        tmp_path / "ordered.sqlite3",
        [("add-one", 3, NOW), ("add-one", 4, NOW + day), ("add-one", 1, NOW + 3 * day)],
    )
    with open_study(tmp_path / "ordered.sqlite3") as study:
        ordered = study.state("add-one")
    assert merged is not None and ordered is not None
    assert (merged.fsrs, merged.reps, merged.lapses) == (ordered.fsrs, ordered.reps, ordered.lapses)
    assert merged.lapses == 1  # the Again came after the desktop's Easy made it a review card


def test_reviews_at_one_time_are_replayed_by_an_import_in_the_order_they_were_given(tmp_path):
    """Good, Again, Good at one time (a clock held still) and a review imported days later:
    the import's replay ordered the three by rating (Again first), the doctor's rebuild by id,
    and the stored state then differed from the log's."""
    day = timedelta(days=1)
    _machine(
        tmp_path / "laptop.sqlite3", [("add-one", 3, NOW), ("add-one", 1, NOW), ("add-one", 3, NOW)]
    )
    _machine(tmp_path / "desktop.sqlite3", [("add-one", 3, NOW + 3 * day)])
    export = tmp_path / "desktop.csv"
    with open_study(tmp_path / "desktop.sqlite3") as study:
        study.export_reviews(export)
    with open_study(tmp_path / "laptop.sqlite3") as study:
        study.import_reviews(export, items(), NOW + 10 * day)
    with Store.open(tmp_path / "laptop.sqlite3") as store:
        assert core.rebuild(store) == store.states()


def test_live_ratings_after_an_import_still_equal_a_replay(tmp_path):
    csv = write_csv(
        tmp_path / "old.csv",
        ["add-one,3,2025-02-01T10:00:00+00:00,", "add-one,3,2025-02-02T10:00:00+00:00,"],
    )
    with open_study(tmp_path / "db.sqlite3", Settings(enable_fuzzing=True)) as study:
        study.import_reviews(csv, items(), NOW)
        study.rate(fixture_content().get("add-one"), 2, NOW)
        study.rate(fixture_content().get("add-one"), 3, NOW + timedelta(days=9))
    with Store.open(tmp_path / "db.sqlite3") as store:
        assert core.rebuild(store) == store.states()


def test_an_import_replays_only_the_cards_it_touches_and_keeps_suspension(tmp_path):
    db = tmp_path / "db.sqlite3"
    _machine(db, [("bias-concept", 3, NOW - timedelta(days=5)), ("add-one", 3, NOW)])
    with Store.open(db) as store:
        store.set_suspended("add-one", True)
        store.replace_states([CardState("bias-concept", None, "drifted", 0, 0)])  # untouched
    csv = write_csv(tmp_path / "in.csv", ["add-one,1,2025-02-28T10:00:00+00:00,"])
    with open_study(db) as study:
        study.import_reviews(csv, items(), NOW)
        assert study.state("bias-concept") == CardState("bias-concept", None, "drifted", 0, 0)
        add_one = study.state("add-one")
        assert add_one is not None and add_one.suspended and add_one.reps == 2


def _forced_workers(monkeypatch, count: int) -> None:
    """The import's helper processes `count` whatever the cores, in each part that asks
    (`import_workers._workers`: the import's sort, its reader and its replay)."""
    for part in (review_io, import_file, import_replay):
        monkeypatch.setattr(part, "_workers", lambda: count)


def test_the_parallel_replay_writes_what_the_serial_one_does(tmp_path, monkeypatch):
    serial, parallel = tmp_path / "serial.sqlite3", tmp_path / "parallel.sqlite3"
    with open_study(serial, Settings()) as study:
        study.import_reviews(SAMPLE, items(), LATER)
    monkeypatch.setattr(import_replay, "PARALLEL_FROM", 1)
    _forced_workers(monkeypatch, 2)
    with open_study(parallel, Settings()) as study:
        study.import_reviews(SAMPLE, items(), LATER)
    with Store.open(serial) as one, Store.open(parallel) as other:
        assert rows(one) == rows(other)


# `studycli import-reviews` with its file parsed in a process of its own and its replay
# spread over two workers; each fork's count of this process's threads, a line in argv[1].
FORKS_COUNTED = """
import os, sys
from pathlib import Path
counts = Path(sys.argv[1])
def before():
    with open("/proc/self/status") as status:
        threads = next(line.split()[1] for line in status if line.startswith("Threads:"))
    with counts.open("a") as out:
        out.write(threads + "\\n")
os.register_at_fork(before=before)
from studycli.study import import_file, import_replay, review_io
import_replay.PARALLEL_FROM, import_replay.CHUNK_REVIEWS, import_file.PARSE_APART_FROM = 1, 2000, 1
review_io._workers = import_file._workers = import_replay._workers = lambda: 2
from studycli.cli import main
sys.argv = ["studycli", "import-reviews", sys.argv[2]]
main()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the import forks on Linux only")
def test_the_import_forks_with_no_other_thread_running(tmp_path):
    """Python 3.12 warns of a fork in a process running other threads (a lock one of them
    held stays held in the child: a deadlock). The import's reader process and replay
    workers are forked from the command alone. (This test process forks with threads: the
    workers of in-process sessions read in threads of their own; pyproject.toml's filter.)"""
    import subprocess

    counts = tmp_path / "threads"
    done = subprocess.run(
        [sys.executable, "-c", FORKS_COUNTED, str(counts), str(SAMPLE)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "imported 12,580 of 12,580 reviews" in " ".join(done.stdout.split())
    forks = counts.read_text().split()
    assert len(forks) >= 3 and set(forks) == {"1"}, forks  # the reader and two workers


@pytest.mark.skipif(sys.platform != "linux", reason="the replay forks workers on Linux only")
def test_the_replay_workers_are_capped_whatever_the_cores(tmp_path, monkeypatch):
    """On a 64-core machine a large import forks MAX_WORKERS replay workers, not 64 (each
    costs ~30 MB: the cap bounds the import's memory), and writes what the serial replay
    writes; on 2 cores it forks 2."""
    import multiprocessing.pool

    serial = tmp_path / "serial.sqlite3"
    with open_study(serial, Settings()) as study:
        study.import_reviews(SAMPLE, items(), LATER)
    forked: list[int] = []
    pool_init = multiprocessing.pool.Pool.__init__

    def counted(self, processes=None, *args, **kwargs):
        forked.append(processes)
        pool_init(self, processes, *args, **kwargs)

    monkeypatch.setattr(multiprocessing.pool.Pool, "__init__", counted)
    monkeypatch.setattr(import_replay, "PARALLEL_FROM", 1)
    for cores, expected in ((64, import_workers.MAX_WORKERS), (2, 2)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)))
        db = tmp_path / f"{cores}.sqlite3"
        with open_study(db, Settings()) as study:
            study.import_reviews(SAMPLE, items(), LATER)
        assert forked.pop() == expected
        with Store.open(serial) as one, Store.open(db) as other:
            assert rows(one) == rows(other)
    assert import_workers.MAX_WORKERS <= 4  # the bound that _workers explains


# --- the commands ------------------------------------------------------------------------------


def test_a_row_twice_in_a_file_is_not_said_to_be_in_the_log(cli, tmp_path, monkeypatch):
    """A fresh database has no review: the skipped row was the file's own repeat."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    row = "add-one,3,2025-02-27T10:00:00+00:00,900"
    result = cli(
        "--content", FIXTURE_CONTENT, "import-reviews", write_csv(tmp_path / "in.csv", [row, row])
    )
    assert result.exit_code == 0, result.output
    assert "imported 1 of 2 reviews" in result.stdout
    assert "(1 already in your log, or in the file twice)" in " ".join(result.stdout.split())


def test_a_rating_edited_in_an_export_and_imported_again_is_said_to_change_nothing(
    cli, tmp_path, monkeypatch
):
    """A learner fixes a mis-rating in an exported file and imports it again: the review is
    known by its card and time, so the log keeps its rating, and the import says so (it said
    only "already in your log"), naming the card, the time and both ratings."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    at = "2025-02-27T10:00:00+00:00"
    csv = write_csv(tmp_path / "in.csv", [f"add-one,1,{at},900", f"bias-concept,3,{at},"])
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", csv).exit_code == 0
    edited = write_csv(tmp_path / "edited.csv", [f"add-one,3,{at},900", f"bias-concept,3,{at},"])
    result = cli("--content", FIXTURE_CONTENT, "import-reviews", edited)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    # the edited row is counted once, as left out: it said "2 already in your log" too
    assert "imported 0 of 2 reviews" in said and "(1 already in your log" in said, said
    assert "or in the file twice; 1 left out, below)" in said
    assert (
        "1 row left out gave another rating for a card and time than your log has, or an "
        "earlier row: add-one at 2025-02-27T10:00:00.000000+00:00: 3 in the file, 1 in your log"
    ) in said
    assert "an import never changes one's rating" in said
    again = json.loads(cli("--content", FIXTURE_CONTENT, "import-reviews", edited, "--json").stdout)
    assert again["conflicts"] == 1 and again["first_conflicts"] == [
        {
            "card_id": "add-one",
            "review_time": "2025-02-27T10:00:00.000000+00:00",
            "rating": 3,
            "other_rating": 1,
            "other_in": "log",
        }
    ]
    out = tmp_path / "out.csv"
    assert cli("--content", FIXTURE_CONTENT, "export-reviews", out).exit_code == 0
    assert parsed(out) == parsed(csv)  # the log's rating stands


def test_ctrl_c_during_an_export_keeps_the_file_and_says_so(cli, tmp_path, monkeypatch):
    """Ctrl-C while an export writes (a large log takes seconds): the file it replaces is as
    it was, and the command says so (it exited 130 without a word)."""
    from studycli.study import review_export

    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,900"])
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", csv).exit_code == 0
    out = tmp_path / "out.csv"
    out.write_text("yesterday's export\n", encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(review_export, "write_reviews", interrupted)
    result = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    assert result.exit_code == 130
    assert f"interrupted: {out} is as it was" in " ".join(result.stderr.split())
    assert out.read_text(encoding="utf-8") == "yesterday's export\n"


@pytest.mark.parametrize("where", ["content", "database"])
def test_ctrl_c_before_an_import_starts_says_nothing_was_imported(
    cli, tmp_path, monkeypatch, where
):
    """Ctrl-C while the content loads or the database opens, before the import's own
    transaction (it exited 130 without a word)."""
    from studycli.study import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(
        *(api, "study_items") if where == "content" else (Study, "open"), interrupted
    )
    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,900"])
    result = cli("--content", FIXTURE_CONTENT, "import-reviews", csv)
    assert result.exit_code == 130
    assert "interrupted: nothing was imported" in result.stderr


def test_ctrl_c_once_an_import_or_export_is_done_says_it_is(cli, tmp_path, monkeypatch):
    """A Ctrl-C that comes as the import's transaction commits (Python raises it just after)
    or once the export's file took its place (while its folder is written to the disk) must
    not say the log or the file is as it was: the command looks."""
    from studycli import paths

    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    importing = Study.import_reviews

    def committed_then_interrupted(self, *args, **kwargs):
        importing(self, *args, **kwargs)
        raise KeyboardInterrupt

    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,900"])
    with monkeypatch.context() as patched:
        patched.setattr(Study, "import_reviews", committed_then_interrupted)
        result = cli("--content", FIXTURE_CONTENT, "import-reviews", csv)
    assert result.exit_code == 130
    assert f"interrupted: the import of {csv} is saved" in " ".join(result.stderr.split())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    out = tmp_path / "out.csv"
    for where in ("sync_folder", "left_out_of_export"):
        out.write_text("yesterday's export\n", encoding="utf-8")
        with monkeypatch.context() as patched:
            if where == "sync_folder":
                patched.setattr(paths, where, interrupted)
            else:
                patched.setattr(Study, where, interrupted)
            result = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
        assert result.exit_code == 130
        assert f"interrupted: {out} is written" in " ".join(result.stderr.split()), where
        assert parsed(out) == parsed(csv)  # the import was saved, and the export written


def test_ctrl_c_once_an_import_that_only_undid_is_done_says_it_is_saved(cli, tmp_path, monkeypatch):
    """An import whose file brings nothing new but a rating undone on the other machine
    appends no review: it undoes the rating here and reschedules its card. A Ctrl-C as its
    transaction committed said "interrupted: nothing was imported (your log is as it was)"
    (the command looked for imported reviews alone), though the undo was saved."""
    from fsrs import Rating

    db = tmp_path / "db.sqlite3"
    monkeypatch.setenv("STUDYCLI_DB", str(db))
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    undone = tmp_path / "undone.csv"
    with open_study(tmp_path / "laptop.sqlite3") as laptop:
        rated = laptop.rate(fixture_content().get("add-one"), Rating.Good, NOW - timedelta(hours=2))
        laptop.export_reviews(tmp_path / "before.csv")
        laptop.undo(rated.review.id or 0, NOW - timedelta(hours=1))
        laptop.export_reviews(undone)
    with open_study(db) as desktop:
        desktop.import_reviews(tmp_path / "before.csv", items(), NOW)
    importing = Study.import_reviews

    def committed_then_interrupted(self, *args, **kwargs):
        importing(self, *args, **kwargs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(Study, "import_reviews", committed_then_interrupted)
        result = cli("--content", FIXTURE_CONTENT, "import-reviews", undone)
    assert result.exit_code == 130
    with open_study(db) as desktop:
        assert desktop.history() == []  # the undo was saved
    said = " ".join(result.stderr.split())
    assert f"interrupted: the import of {undone} is saved" in said, said


def test_cli_import_export_and_a_bad_file(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    csv = write_csv(
        tmp_path / "in.csv",
        ["add-one,3,2025-02-27T10:00:00+00:00,900", "elsewhere-card,1,2025-02-27T10:00:00Z,"],
    )
    result = cli("--content", FIXTURE_CONTENT, "import-reviews", csv)
    assert result.exit_code == 0, result.output
    assert "imported 2 of 2 reviews" in result.stdout
    said = " ".join(result.stdout.split())
    # named (it said how many, not which)
    assert "1 of them not in the content (their history is kept): elsewhere-card" in said
    again = cli("--content", FIXTURE_CONTENT, "import-reviews", csv, "--json")
    assert json.loads(again.stdout) == {
        "rows": 2,
        "added": 0,
        "duplicates": 2,
        "cards": 0,
        "unknown_cards": 0,
        "conflicts": 0,
        "first_conflicts": [],
        "first_unknown_cards": [],
        "closest_known_cards": {},
        "cloze_cards_own_id": [],
        "undone": 0,
        "dry_run": False,
        "undos_applied": 0,
        "undone_added": 0,
        "ahead_of_clock": 0,
        "most_ahead_seconds": 0.0,
    }
    out = tmp_path / "out.csv"
    exported = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    assert exported.exit_code == 0 and "wrote 2 reviews" in exported.stdout
    assert "not in the file" not in exported.stdout  # nothing stayed behind: nothing said
    typo = cli("--content", FIXTURE_CONTENT, "export-reviews", tmp_path / "no" / "such" / "x.csv")
    assert typo.exit_code == 1 and "the folder" in typo.stderr and "does not exist" in typo.stderr
    assert not (tmp_path / "no").exists()  # a mistyped path made the folders it named
    assert parsed(out) == parsed(csv)
    bad = write_csv(tmp_path / "bad.csv", ["add-one,3,2030-01-01T00:00:00+00:00,", "x,3,now,"])
    refused = cli("--content", FIXTURE_CONTENT, "import-reviews", bad)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "2 bad lines" in refused.stderr and "line 2: review_time" in refused.stderr
    assert "in the future" in refused.stderr and "line 3: review_time 'now'" in refused.stderr


def test_a_card_made_a_cloze_card_keeps_its_reviews_as_it_was_through_export_and_import(
    cli, content_copy, tmp_path, monkeypatch
):
    """A learner rated a concept card, then made it a cloze card: the reviews under its own id
    were left out of the export (never reaching a new machine), and the learner's older export
    (made before the change) was refused whole, told to write the deletion's number, wrong for
    concept reviews. Every review the log holds is exported, and an import keeps those under
    the card's own id as that id's history, here and on a fresh machine, which then agree."""
    from studycli.content.loader import load_content

    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    db, fresh = tmp_path / "db.sqlite3", tmp_path / "fresh.sqlite3"
    base = ("--content", content_copy)

    def rate(item_id: str, *days: int) -> None:
        with open_study(db, Settings()) as study:  # (the CLI's settings: none written)
            item = next(i for i in study_items(load_content(content_copy).cards.values())
                        if i.id == item_id)  # fmt: skip
            for day in days:
                study.rate(item, core.Rating.Good, NOW - timedelta(days=day))

    rate("bias-concept", 9, 5)
    before = tmp_path / "before.csv"  # an export made while it was a concept card
    assert cli(*base, "--db", db, "export-reviews", before).exit_code == 0
    write_card(
        content_copy, "basics", "bias-concept",
        "id: bias-concept\nkind: cloze\ntopic: bias\ntitle: Bias\n"
        "prompt: Without a bias, w·x draws boundaries through the {{c1::origin}}.\n",
    )  # fmt: skip
    rate("bias-concept#c1", 2)
    after = tmp_path / "after.csv"
    exported = cli(*base, "--db", db, "export-reviews", after)
    assert exported.exit_code == 0 and "wrote 3 reviews" in exported.stdout, exported.output
    assert sorted(r.card_id for r in read_reviews(after)) == [
        "bias-concept", "bias-concept", "bias-concept#c1"
    ]  # fmt: skip
    for file in (before, after):  # the learner's own exports, back into the log
        again = cli(*base, "--db", db, "import-reviews", file, "--json")
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["added"] == 0
    moved = cli(*base, "--db", fresh, "import-reviews", after)
    said = " ".join(moved.stdout.split())
    assert moved.exit_code == 0 and "imported 3 of 3 reviews" in said, moved.output
    assert "bias-concept is a cloze card's own id" in said and "not in the content" not in said

    def shown(target: Path, *command: str) -> object:
        done = cli(*base, "--db", target, *command, "--json")
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)

    def reviews(target: Path, *card: str) -> list[tuple]:
        keys = ("card", "rating", "reviewed_at", "queue")
        return [tuple(r[k] for k in keys) for r in shown(target, "history", *card)]

    assert len(reviews(db)) == 3 and reviews(fresh) == reviews(db)
    whole = reviews(db, "--card", "bias-concept")  # the card's history: both kinds
    assert len(whole) == 3 and reviews(fresh, "--card", "bias-concept") == whole
    assert shown(fresh, "stats") == shown(db, "stats")
    assert shown(db, "stats")["not_in_content_ids"] == ["bias-concept"]
    with open_study(db) as here, open_study(fresh) as there:  # the deletion's own schedule
        assert there.state("bias-concept#c1") == here.state("bias-concept#c1")
    for target in (db, fresh):
        doctor = cli(*base, "--db", target, "doctor", "--dry-run")
        assert doctor.exit_code == 0 and "every stored card state matches the log" in " ".join(
            doctor.stdout.split()
        ), doctor.output


def test_a_read_only_database_exports_and_gives_stats_of_a_deck(cli, tmp_path, monkeypatch):
    """A database opened read-only (a backup, a read-only medium) refused the temporary table
    that a deck's stats and an export (counting reviews under cloze ids) fill: "cannot write
    the review database" from commands that only read (a helper's review)."""
    import shutil

    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    db = tmp_path / "reviews.sqlite3"
    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,"])
    assert cli("--content", FIXTURE_CONTENT, "--db", db, "import-reviews", csv).exit_code == 0
    backup = tmp_path / "reviews.sqlite3.before-repair.bak"  # (opened read-only, as a backup)
    shutil.copy(db, backup)
    stats = cli("--content", FIXTURE_CONTENT, "--db", backup, "stats", "--deck", "basics", "--json")
    assert stats.exit_code == 0, stats.output
    out = tmp_path / "out.csv"
    exported = cli("--content", FIXTURE_CONTENT, "--db", backup, "export-reviews", out)
    assert exported.exit_code == 0, exported.output
    assert [r.card_id for r in read_reviews(out)] == ["add-one"]


def test_import_reads_standard_input_and_times_in_lower_case_z(tmp_path):
    """`export-reviews -` writes to standard output; `import-reviews -` said "No such file".
    RFC 3339 allows a lower-case zone letter (`...10:00:00z`): refused."""
    import subprocess

    text = "card_id,review_rating,review_time,review_duration\nadd-one,3,2025-02-27T10:00:00z,\n"
    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "--db",
               str(tmp_path / "db.sqlite3")]  # fmt: skip
    env = {**os.environ, "STUDYCLI_NOW": NOW.isoformat(), "STUDYCLI_HOME": str(tmp_path)}
    done = subprocess.run(
        [*command, "import-reviews", "-"], input=text, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "imported 1 of 1 review from standard input" in " ".join(done.stdout.split())
    exported = subprocess.run(
        [*command, "export-reviews", "-"], capture_output=True, text=True, env=env
    )
    assert "add-one,3,2025-02-27T10:00:00.000000+00:00," in exported.stdout
    bad = subprocess.run(
        [*command, "import-reviews", "-"],
        input=text.replace(",3,", ",7,"),
        capture_output=True,
        text=True,
        env=env,
    )
    said = " ".join(bad.stderr.split())
    assert bad.returncode == 1 and "standard input, line 2: review_rating '7'" in said
    assert "/dev/stdin" not in said


def test_times_in_milliseconds_as_the_fsrs_optimizers_logs_give_them_are_read(tmp_path):
    """The FSRS optimizer's review logs give review_time in milliseconds since 1970 (and more
    columns, review_state among them): each row was refused, "not an ISO-8601 time". A number
    of other lengths is still refused, saying both forms."""
    path = tmp_path / "revlog.csv"
    path.write_text(
        "card_id,review_time,review_rating,review_state,review_duration\n"
        "1711684180217,1711744352250,3,1,25060\n"
        "1711684180217,1711830752000,4,2,\n",
        encoding="utf-8",
    )
    rows = read_reviews(path)
    assert [(r.rating, r.reviewed_at, r.duration_ms) for r in rows] == [
        (3, datetime(2024, 3, 29, 20, 32, 32, 250000, UTC), 25060),
        (4, datetime(2024, 3, 30, 20, 32, 32, tzinfo=UTC), None),
    ]
    path.write_text(
        "card_id,review_time,review_rating\n1711684180217,1711744352,3\n", encoding="utf-8"
    )
    with pytest.raises(ImportFormatError) as error:
        read_reviews(path)
    assert "line 2: review_time '1711744352' is not an ISO-8601 time" in str(error.value)
    assert "milliseconds since 1970, 13 digits" in str(error.value)


def test_a_time_in_milliseconds_that_reads_as_a_basic_iso_form_is_read_as_milliseconds(
    tmp_path,
):
    """`datetime.fromisoformat` reads some 13-digit numbers as ISO-8601's basic form with no
    timezone ('1420070400123' as 1420-07-04 01:23, where it is 2015-01-01 in milliseconds: about
    one in 27 of the times since 2015): such a row was refused, the whole file with it, and with no
    word of why (its time read well as milliseconds when the problem was looked for)."""
    path = tmp_path / "revlog.csv"
    path.write_text(
        "card_id,review_time,review_rating\n1,1420070400123,3\n1,1704067200000,4\n",
        encoding="utf-8",
    )
    rows = read_reviews(path)
    assert [(r.rating, r.reviewed_at) for r in rows] == [
        (3, datetime(2015, 1, 1, 0, 0, 0, 123000, UTC)),
        (4, datetime(2024, 1, 1, tzinfo=UTC)),
    ]


def test_export_and_import_paths_starting_with_a_tilde_are_in_the_home_folder(
    cli, tmp_path, monkeypatch
):
    """A quoted `~/reviews.csv` was checked as the home folder's file and written to a
    folder named `~` in the current one, made for it."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "db.sqlite3"
    csv = write_csv(tmp_path / "home" / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,"])
    assert csv.exists()
    imported = cli("--content", FIXTURE_CONTENT, "--db", db, "import-reviews", "~/in.csv")
    assert imported.exit_code == 0, imported.output
    exported = cli("--content", FIXTURE_CONTENT, "--db", db, "export-reviews", "~/out.csv")
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "home" / "out.csv").is_file() and not (tmp_path / "~").exists()
    typo = cli("--content", FIXTURE_CONTENT, "--db", db, "export-reviews", "~/no/out.csv")
    assert typo.exit_code == 1 and not (tmp_path / "~").exists()
    deck = cli("--content", FIXTURE_CONTENT, "export-anki", "~/deck.apkg")
    assert deck.exit_code == 0, deck.output
    assert (tmp_path / "home" / "deck.apkg").is_file() and not (tmp_path / "~").exists()


def test_an_export_counts_what_its_file_has_no_place_for(cli, tmp_path, monkeypatch):
    """Cram ratings (not written), suspensions and check outcomes (the rating is written, the
    check's outcome is not: an import logs it as `import`) stay behind when a learner moves
    machines: export-reviews says how many of each. Undone ratings are written marked undone
    (for the import to undo them where they stand), counted apart."""
    db, out = tmp_path / "db.sqlite3", tmp_path / "out.csv"
    monkeypatch.setenv("STUDYCLI_DB", str(db))
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    content = fixture_content()
    add_one, bias, poisson = (
        content.get(i) for i in ("add-one", "bias-concept", "poisson-concept")
    )
    day = timedelta(days=1)
    with open_study(db) as study:
        study.rate(add_one, 3, NOW - 3 * day, method=ReviewMethod.CHECK, check_status="pass")
        study.rate(bias, 3, NOW - 3 * day)
        study.cram_rate(bias, 1, NOW - 2 * day)
        study.cram_rate(add_one, 4, NOW - 2 * day)
        undone = study.cram_rate(add_one, 2, NOW - day)
        study.undo(undone.id, NOW - day)
        undone = study.rate(poisson, 1, NOW - day, method=ReviewMethod.CHECK, check_status="fail")
        study.undo(undone.review.id or 0, NOW - day)
        study.set_suspended([poisson], True)
        assert study.export_reviews(out) == (2, 1)
        assert review_export.left_out(study.store, NO_FUZZ) == review_export.LeftOut(
            cram=2, suspended=1, checked=1
        )

    exported = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    assert exported.exit_code == 0, exported.output
    assert " ".join(exported.stdout.split()) == (
        f"wrote 2 reviews to {out}, and 1 undone rating, marked for an import to undo; not in"
        " the file: 2 cram ratings, 1 suspended card, 1 check outcome (py-fsrs's format has no"
        " place for them)"
    )
    with open_study(tmp_path / "new.sqlite3") as study:  # where they would have gone
        study.import_reviews(out, items(), NOW)
        assert sorted((r.card_id, r.method) for r in study.history()) == [
            ("add-one", "import"),
            ("bias-concept", "import"),
        ]
        assert review_export.left_out(study.store, NO_FUZZ) == review_export.LeftOut(0, 0, 0)


def test_an_export_counts_the_suspended_cards_a_cloze_card_one(cli, content_copy, tmp_path):
    """A learner suspended one cloze card of three deletions, and export-reviews said "3
    suspensions": the store keeps one suspension per deletion. It counts the cards, as they
    were suspended, and the deletions among them."""
    write_card(
        content_copy, "numbers", "poisson-cloze",
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}}, Var(X) = {{c2::λ}}, P(X=0) = {{c3::e^-λ}}'\n",
    )  # fmt: skip
    db, out = tmp_path / "db.sqlite3", tmp_path / "out.csv"

    def left_out(*suspended: str) -> str:
        for card_id in suspended:
            done = cli("--content", content_copy, "--db", db, "suspend", card_id)
            assert done.exit_code == 0, done.output
        exported = cli("--content", content_copy, "--db", db, "export-reviews", out)
        assert exported.exit_code == 0, exported.output
        return " ".join(exported.stdout.split()).partition("not in the file: ")[2]

    assert left_out("poisson-cloze").startswith("1 suspended card (3 cloze deletions) (py-fsrs")
    assert left_out("bias-concept").startswith("2 suspended cards (3 cloze deletions) (py-fsrs")


def test_an_export_counts_the_suspended_cards_of_the_content_as_stats_does(
    cli, content_copy, tmp_path
):
    """export-reviews said "2 suspended cards" where stats said "suspended 0": it counted the
    suspensions of cards removed from the content. It counts the content's, as stats does (a
    card made a cloze card since it was suspended, one whose deletions its suspension holds),
    and those of what the content no longer has apart, named so."""
    db, out = tmp_path / "db.sqlite3", tmp_path / "out.csv"
    base = ("--content", content_copy, "--db", db)
    for card_id in ("add-one", "bias-concept", "poisson-concept"):
        assert cli(*base, "suspend", card_id).exit_code == 0
    (content_copy / "cards" / "basics" / "add-one.yaml").unlink()
    (content_copy / "cards" / "basics" / "bias-concept.yaml").unlink()
    write_card(
        content_copy, "numbers", "poisson-concept",
        "id: poisson-concept\nkind: cloze\ntopic: poisson\ntitle: Poisson\n"
        "prompt: 'E[X] = {{c1::λ}}, Var(X) = {{c2::λ}}'\n",
    )  # fmt: skip
    stats = json.loads(cli(*base, "stats", "--json").stdout)
    assert stats["cards_by_state"]["suspended"] == 2  # poisson-concept's two deletions
    exported = cli(*base, "export-reviews", out)
    assert exported.exit_code == 0, exported.output
    said = " ".join(exported.stdout.split()).partition("not in the file: ")[2]
    assert said.startswith(
        "1 suspended card (2 cloze deletions), 2 suspensions of cards or deletions no longer in "
        "the content (py-fsrs"
    ), said


def test_imported_reviews_are_scheduled_with_the_settings_of_now_and_the_import_says_so(
    cli, tmp_path, monkeypatch
):
    """The file holds no settings. A learner who lowered desired_retention after a card's last
    review gets that card, on the new machine, with the same stability and difficulty but the
    due date the current settings give; a card last reviewed under the current settings comes
    out exactly as it was. import-reviews names the settings it scheduled with."""
    before, now_settings = Settings(enable_fuzzing=False, desired_retention=0.95), NO_FUZZ
    content = fixture_content()
    day = timedelta(days=1)
    old, export = tmp_path / "old.sqlite3", tmp_path / "old.csv"
    with open_study(old, before) as study:
        for card_id in ("add-one", "bias-concept"):
            study.rate(content.get(card_id), 3, NOW - 20 * day)
            study.rate(content.get(card_id), 3, NOW - 19 * day)
    with open_study(old, now_settings) as study:  # desired_retention changed: 0.95 -> 0.9
        study.rate(content.get("bias-concept"), 3, NOW - 10 * day)
        study.export_reviews(export)
        there = {card_id: study.state(card_id) for card_id in ("add-one", "bias-concept")}
    config = tmp_path / "settings.toml"
    config.write_text("desired_retention = 0.9\nenable_fuzzing = false\n", "utf-8")
    monkeypatch.setenv("STUDYCLI_CONFIG", str(config))
    monkeypatch.setenv("STUDYCLI_DB", str(tmp_path / "new.sqlite3"))
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())

    imported = cli("--content", FIXTURE_CONTENT, "import-reviews", export)
    assert imported.exit_code == 0, imported.output
    assert "2 cards rescheduled with your current settings (desired_retention 0.9, FSRS's" in (
        " ".join(imported.stdout.split())
    )
    with open_study(tmp_path / "new.sqlite3") as study:
        here = {card_id: study.state(card_id) for card_id in ("add-one", "bias-concept")}
    assert here["bias-concept"] == there["bias-concept"]
    old_card, new_card = (json.loads(state.fsrs) for state in (there["add-one"], here["add-one"]))
    assert old_card["stability"] == new_card["stability"]
    assert old_card["difficulty"] == new_card["difficulty"]
    assert new_card["due"] > old_card["due"]  # 0.9 asks for less recall than 0.95 did: later


def test_an_export_after_new_parameters_says_which_due_dates_an_import_would_move(
    cli, tmp_path, monkeypatch
):
    """After `optimize --write` (new parameters, memory states recomputed, due dates kept), an
    import of the export with settings.toml copied along gives the cards last reviewed before
    it other due dates: the file holds no settings. export-reviews says how many, and which
    two files to copy instead to move the schedule as it is; nothing where every card would
    come back the same. A card in its learning steps is due a step after its review under
    any parameters: not counted."""
    from fsrs import Scheduler

    from studycli.study.settings import load_settings

    db, config, out = tmp_path / "reviews.sqlite3", tmp_path / "settings.toml", tmp_path / "r.csv"
    monkeypatch.setenv("STUDYCLI_DB", str(db))
    monkeypatch.setenv("STUDYCLI_CONFIG", str(config))
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    config.write_text("enable_fuzzing = false\n", "utf-8")
    content = fixture_content()
    day = timedelta(days=1)
    in_review, learning = ["add-one", "bias-concept"], "poisson-concept"
    with open_study(db, load_settings(config)) as study:
        for card_id in in_review:
            for days_ago in (20, 19, 9):
                study.rate(content.get(card_id), 3, NOW - days_ago * day)
        study.rate(content.get(learning), 1, NOW - day)
    same = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    assert same.exit_code == 0 and "other settings" not in same.output, same.output

    fitted = [w * 2 if i < 4 else w for i, w in enumerate(Scheduler().parameters)]
    config.write_text(f"enable_fuzzing = false\nparameters = {fitted}\n", "utf-8")
    assert cli("--content", FIXTURE_CONTENT, "optimize", "--recompute").exit_code == 0
    told = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    assert told.exit_code == 0, told.output
    said = " ".join(told.stderr.split())
    assert "2 cards were last scheduled under other settings than yours now" in said, said
    assert f"copy {os.path.realpath(db)} and {os.path.realpath(config)} instead" in said
    assert "other settings" not in told.stdout  # (the summary's line is as it was)

    def due_dates(path: Path) -> dict[str, str]:
        with open_study(path, load_settings(config)) as study:
            states = {card_id: study.state(card_id) for card_id in [*in_review, learning]}
        return {card_id: json.loads(state.fsrs)["due"] for card_id, state in states.items()}

    with open_study(tmp_path / "new.sqlite3", load_settings(config)) as study:
        study.import_reviews(out, items(), NOW)
    there, here = due_dates(db), due_dates(tmp_path / "new.sqlite3")
    assert [card_id for card_id in there if there[card_id] != here[card_id]] == in_review
    monkeypatch.setenv("STUDYCLI_DB", str(tmp_path / "new.sqlite3"))
    moved = cli("--content", FIXTURE_CONTENT, "export-reviews", tmp_path / "again.csv")
    assert moved.exit_code == 0 and "other settings" not in moved.output, moved.output
    config.unlink()  # the defaults now: another machine's settings.toml would stand instead
    monkeypatch.setenv("STUDYCLI_DB", str(db))
    told = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    said = " ".join(told.stderr.split())
    assert f"copy {os.path.realpath(db)} instead, and leave no settings.toml there" in said, said


def test_history_shows_imported_and_cram_ratings_by_method(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,900"])
    cli("--content", FIXTURE_CONTENT, "import-reviews", csv)
    shown = json.loads(cli("--content", FIXTURE_CONTENT, "history", "--json").stdout)
    assert [(r["card"], r["method"]) for r in shown] == [("add-one", "import")]
    assert "import" in cli("--content", FIXTURE_CONTENT, "history").stdout


# --- the migration -----------------------------------------------------------------------------


def test_a_database_of_the_first_schema_is_migrated_with_its_log_intact(tmp_path, monkeypatch):
    db = tmp_path / "old.sqlite3"
    schema_of(monkeypatch, migrations.MIGRATIONS[:1])
    content = fixture_content()
    with Store.open(db) as store:
        core.rate(store, content.get("add-one"), 3, NOW, NO_FUZZ)
        undone = core.rate(store, content.get("add-one"), 1, NOW + timedelta(minutes=5), NO_FUZZ)
        core.undo(store, undone.id, NOW + timedelta(minutes=6))
        with pytest.raises(sqlite3.IntegrityError):  # the first schema knows no cram
            core.cram(store, content.get("add-one"), 3, NOW, NO_FUZZ)
        before = rows(store)
    monkeypatch.undo()
    with Store.open(db) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
        assert rows(store) == before
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        cram = core.cram(store, content.get("add-one"), 1, NOW + timedelta(minutes=7), NO_FUZZ)
        assert cram.id == undone.id + 1 and cram.method == "cram"
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.conn.execute("DELETE FROM reviews")
        insert = (
            "INSERT INTO reviews (card_id, rating, reviewed_at, method, check_status,"
            " content_hash, queue, scheduler_id, state_after) VALUES ('x', 3, 't', ?, ?, '', 'new', 1, '')"
        )
        for method, status in (("bogus", None), ("import", "weird"), ("cram", "")):
            with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
                store.conn.execute(insert, (method, status))
        assert [r.id for r in store.reviews(include_undone=True)] == [3, 2, 1]
        assert core.rebuild(store) == store.states()


# --- round trips of any history ----------------------------------------------------------------

ROW = st.tuples(
    st.text(  # (a longer id is refused by name: a column that is no card's id)
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=LONGEST_CARD_ID,
    ).filter(lambda text: text.strip() == text),
    st.integers(1, 4),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2029, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
    st.none() | st.integers(0, 10**9),
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROW, max_size=30))
def test_any_rows_written_read_back_as_they_were(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "log.csv"
    written = [
        (card, rating, iso(moment), duration, None, None) for card, rating, moment, duration in rows
    ]
    assert write_reviews(path, written) == (len(rows), 0)
    assert read_reviews(path) == [
        (card, rating, moment.astimezone(UTC), duration) for card, rating, moment, duration in rows
    ]


def test_an_export_whose_rows_fail_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("the old export\n", encoding="utf-8")

    def rows():
        yield ("a", 3, "2025-03-01T09:00:00+00:00", None, None, None)
        raise sqlite3.DatabaseError("database disk image is malformed")

    with pytest.raises(sqlite3.DatabaseError):
        write_reviews(path, rows())
    assert path.read_text(encoding="utf-8") == "the old export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_an_export_never_overwrites_the_database_it_reads(cli, tmp_path, monkeypatch):
    """`export-reviews` given the database's own path (or its -wal) refuses, and the history
    stays (it wrote the CSV over the database, which then read as damaged)."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    db = tmp_path / "reviews.sqlite3"
    monkeypatch.setenv("STUDYCLI_DB", str(db))
    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,900"])
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", csv).exit_code == 0
    (tmp_path / "link").symlink_to(db)
    for target in (db, tmp_path / f"{db.name}-wal", tmp_path / "link"):
        refused = cli("--content", FIXTURE_CONTENT, "export-reviews", target)
        assert refused.exit_code == 1, refused.output
        assert f"{target} is your review database" in " ".join(refused.stderr.split())
    history = cli("--content", FIXTURE_CONTENT, "history", "--json")
    assert [entry["card"] for entry in json.loads(history.stdout)] == ["add-one"]


def test_an_export_to_a_dash_is_written_to_standard_output(cli, tmp_path, monkeypatch):
    """`-` is standard output (to pipe it on), the count said on stderr; it wrote a file
    named -."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.chdir(tmp_path)
    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,900"])
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", csv).exit_code == 0
    result = cli("--content", FIXTURE_CONTENT, "export-reviews", "-")
    assert result.exit_code == 0, result.output
    lines = csv.read_text(encoding="utf-8").replace("+00:00,", ".000000+00:00,").splitlines()
    header, row = result.stdout.splitlines()
    assert header == f"{lines[0]},content_hash,undone_at"  # (then the text's hash and the
    text = fixture_content().get("add-one").content_hash  # contract's, and not undone)
    assert (
        row.startswith(f"{lines[1]},{text}+")
        and row.endswith(",")
        and row.split(",")[4].count("+") == 2
    )
    assert "wrote 1 review to standard output" in result.stderr
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("index_only", [True, False], ids=["damaged-index", "damaged-log"])
def test_an_export_to_a_dash_that_fails_half_way_writes_nothing_of_it(
    cli, tmp_path, monkeypatch, index_only
):
    """Reading a damaged file's log failed after some rows: `export-reviews -` had streamed
    them, then (a damaged index: read again from the tables) every row once more, or (the
    log's own damage) exited 1 after a part of the history that a reader took for all of it.
    Now standard output gets the rows once the read is done, as a file's export is replaced."""
    from studycli.study.store import Store

    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    lines = [f"add-one,3,2025-02-{day:02d}T10:00:00+00:00,900" for day in range(1, 6)]
    assert (
        cli(
            "--content", FIXTURE_CONTENT, "import-reviews", write_csv(tmp_path / "in.csv", lines)
        ).exit_code
        == 0
    )
    whole = cli("--content", FIXTURE_CONTENT, "export-reviews", "-").stdout
    assert whole.count("add-one") == 5
    rows = Store.exported_rows

    def failing(self, indexed=True):
        if indexed or not index_only:
            found = rows(self, indexed=indexed)
            yield next(found)
            yield next(found)
            raise sqlite3.DatabaseError("database disk image is malformed")
        yield from rows(self, indexed=indexed)

    monkeypatch.setattr(Store, "exported_rows", failing)
    result = cli("--content", FIXTURE_CONTENT, "export-reviews", "-")
    if index_only:
        assert result.exit_code == 0 and result.stdout == whole, result.output
    else:
        assert result.exit_code == 1 and result.stdout == "", result.output


def test_an_export_to_a_dash_whose_temporary_file_fails_names_the_temporary_folder(
    cli, tmp_path, monkeypatch
):
    """`export-reviews -` keeps the rows in a temporary file past 8 MiB: a full temporary
    folder said "cannot write -: No space left on device", blaming standard output."""
    import tempfile

    from studycli.study import review_log_write

    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    csv = write_csv(tmp_path / "in.csv", ["add-one,3,2025-02-27T10:00:00+00:00,900"])
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", csv).exit_code == 0
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))
    monkeypatch.setattr(review_log_write, "SPOOL_BYTES", 1)  # to the file at the first row
    result = cli("--content", FIXTURE_CONTENT, "export-reviews", "-")
    assert result.exit_code == 1 and result.stdout == "", result.output
    said = " ".join(result.stderr.split())
    assert f"cannot keep the export in a temporary file in {blocker}" in said, said
    assert "cannot write -" not in said


def test_an_export_to_a_reader_that_left_ends_quietly_as_history_does(cli, tmp_path, monkeypatch):
    """`export-reviews - | head -1`: the reader gone, the export said "error: cannot write -:
    Broken pipe" and exited 1. It ends as `history | head` does: nothing said, killed by SIGPIPE
    as `ls | head` is (test_cli_closed_pipe)."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    start = NOW - timedelta(days=400)
    lines = [f"add-one,3,{(start + timedelta(days=day)).isoformat()},900" for day in range(300)]
    imported = cli(
        "--content", FIXTURE_CONTENT, "import-reviews", write_csv(tmp_path / "in.csv", lines)
    )
    assert imported.exit_code == 0, imported.output
    export = _into_a_closed_pipe("export-reviews", "-")  # 16 kB: more than stdout's buffer
    killed = -signal.SIGPIPE
    assert export == _into_a_closed_pipe("history", "--limit", "1000") == (killed, "")


def _into_a_closed_pipe(*args: str) -> tuple[int, str]:
    """Run studycli with its output a pipe whose reader has gone: its exit status and stderr."""
    import subprocess

    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), *args],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    return done.returncode, done.stderr


WRITTEN = [  # review_time as logs write it: (timespec, separator, how UTC is written)
    (timespec, separator, utc)
    for timespec in ("seconds", "milliseconds", "microseconds", "minutes", "auto")
    for separator in ("T", " ")
    for utc in ("+00:00", "Z", "+05:30", "-00:00")
]


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    written=st.sampled_from(WRITTEN),
)
def test_a_time_taken_from_the_files_text_is_the_time_as_stored(moment, written):
    """The import stages a UTC time from its text without formatting it again (`iso_text`):
    whatever shape the file writes it in, that is `iso()` of the time, or nothing."""
    timespec, separator, utc = written
    zone = timezone(timedelta(hours=5, minutes=30)) if utc == "+05:30" else UTC
    text = moment.replace(tzinfo=zone).isoformat(separator, timespec)
    if utc in ("Z", "-00:00"):
        text = text.removesuffix("+00:00") + utc
    parsed = datetime.fromisoformat(text)
    taken = iso_text(text)
    assert taken is None or taken == iso(parsed), text
    if separator == "T" and utc in ("+00:00", "Z") and timespec != "minutes":
        assert taken is not None, text  # the shapes logs write: no formatting again
    # and the replay writes the stored time as fsrs would, from that text alone
    stored = iso(parsed)
    assert isoformat_of(stored) == parse_time(stored).isoformat(), stored
    assert isoformat_of(text) == parse_time(text).isoformat(), text


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, max_size=25))
def test_any_history_imports_exports_and_reimports_to_the_same(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("round")
    source = folder / "in.csv"
    write_reviews(source, [(c, r, iso(m), d, None, None) for c, r, m, d in rows])
    out = folder / "out.csv"
    with open_study(folder / "db.sqlite3", Settings()) as study:
        result = study.import_reviews(source, items(), LATER)
        assert result.added == len({(c, iso(m)) for c, _, m, _ in rows})
        study.export_reviews(out)
        assert study.import_reviews(out, items(), LATER).added == 0
    with Store.open(folder / "db.sqlite3") as store:
        assert core.rebuild(store) == store.states()
    unique = {(c, iso(m)): (c, r, m.astimezone(UTC), d) for c, r, m, d in reversed(rows)}
    assert parsed(out) == sorted(unique.values())


def test_an_imported_review_cannot_be_undone_and_the_card_keeps_its_row(tmp_path):
    from studycli.errors import StoreError

    log = write_csv(tmp_path / "log.csv", ["add-one,3,2025-02-01T09:00:00+00:00,5000"])
    with open_study(tmp_path / "db.sqlite3") as study:
        study.import_reviews(log, items(), LATER)
        [review] = study.history()
        before = study.state("add-one")
        with pytest.raises(StoreError, match="imported and cannot be undone"):
            study.undo(review.id, LATER)  # type: ignore[arg-type]
        assert study.state("add-one") == before is not None


# --- a large file, a chunk at a time -----------------------------------------------------------


def _small_chunks(monkeypatch, rows: int = 5, reviews: int = 4) -> None:
    """Read `rows` lines and replay about `reviews` reviews at a time: every boundary is met."""
    monkeypatch.setattr(import_file, "READ_ROWS", rows)
    monkeypatch.setattr(import_replay, "CHUNK_REVIEWS", reviews)


def _history(tmp_path: Path) -> Path:
    """A log on one machine (to merge into) and a CSV of another's: 30 reviews of 4 cards,
    two of them also in the log, with duplicates in the file across read chunks."""
    _machine(tmp_path / "template.sqlite3", [("add-one", 3, NOW), ("bias-concept", 1, NOW)])
    lines = []
    for day in range(1, 8):
        for card_id in ("add-one", "bias-concept", "poisson-concept", "elsewhere-card"):
            moment = NOW - timedelta(days=40 - 5 * day, hours=day)
            lines.append(f"{card_id},{1 + (day * len(card_id)) % 4},{moment.isoformat()},{day}")
    lines.insert(9, lines[1].replace(",3,", ",1,").replace(",2,", ",1,"))  # a later duplicate
    lines += lines[:2]  # the first two again, a few chunks later
    return write_csv(tmp_path / "other.csv", lines)


def test_an_import_in_small_chunks_writes_what_one_chunk_does(tmp_path, monkeypatch):
    """Read 5 rows and replay 4 reviews at a time, or all at once: the same log and states,
    duplicates across chunks kept once (the first of them), logged and new reviews merged."""
    csv = _history(tmp_path)
    one, many = tmp_path / "one.sqlite3", tmp_path / "many.sqlite3"
    for db in (one, many):
        db.write_bytes((tmp_path / "template.sqlite3").read_bytes())
    with open_study(one) as study:
        whole = study.import_reviews(csv, items(), NOW)
    _small_chunks(monkeypatch)
    with open_study(many) as study:
        chunked = study.import_reviews(csv, items(), NOW)
    assert whole == chunked
    assert (whole.rows, whole.added, whole.duplicates, whole.cards) == (31, 28, 3, 4)
    with Store.open(one) as a, Store.open(many) as b:
        assert rows(a) == rows(b)
        assert core.rebuild(b) == b.states()
        first = b.conn.execute(
            "SELECT rating FROM reviews WHERE card_id = 'bias-concept' AND method = 'import'"
            " ORDER BY reviewed_at LIMIT 1"
        ).fetchone()
    assert first == (int(csv.read_text().splitlines()[2].split(",")[1]),)


def test_the_parallel_replay_in_small_chunks_writes_what_the_serial_one_does(tmp_path, monkeypatch):
    csv = _history(tmp_path)
    serial, parallel = tmp_path / "serial.sqlite3", tmp_path / "parallel.sqlite3"
    for db in (serial, parallel):
        db.write_bytes((tmp_path / "template.sqlite3").read_bytes())
    with open_study(serial) as study:
        study.import_reviews(csv, items(), NOW)
    _small_chunks(monkeypatch)
    monkeypatch.setattr(import_replay, "PARALLEL_FROM", 1)
    _forced_workers(monkeypatch, 2)
    with open_study(parallel) as study:
        study.import_reviews(csv, items(), NOW)
    with Store.open(serial) as one, Store.open(parallel) as other:
        assert rows(one) == rows(other)


def test_a_bad_row_in_the_last_chunk_refuses_the_file_and_leaves_the_store_unchanged(
    tmp_path, monkeypatch
):
    """Earlier chunks were already staged when the bad rows come: all of it is rolled back,
    and every bad line is named."""
    csv = _history(tmp_path)
    lines = csv.read_text().splitlines()
    lines[-1] = lines[-1].replace("+00:00", "")  # no timezone
    lines[-3] = "," + lines[-3].split(",", 1)[1]  # no card id
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "template.sqlite3"
    with Store.open(db) as store:
        before = rows(store)
    _small_chunks(monkeypatch)
    with open_study(db) as study, pytest.raises(ImportFormatError) as error:
        study.import_reviews(csv, items(), NOW)
    message = str(error.value)
    assert message.startswith(f"{csv} has 2 bad lines, so none of it was read")
    assert f"line {len(lines) - 2}: the card_id cell is empty" in message
    assert f"line {len(lines)}: review_time" in message and "has no timezone" in message
    with Store.open(db) as store:
        assert rows(store) == before
        assert store.conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == []


def _parse_apart(monkeypatch) -> None:
    """Parse every file in a forked reader process, as a large file is."""
    monkeypatch.setattr(import_file, "PARSE_APART_FROM", 0)
    _forced_workers(monkeypatch, 2)


@pytest.mark.skipif(sys.platform != "linux", reason="the reader is forked on Linux only")
def test_a_file_parsed_in_a_reader_process_imports_as_one_read_here(tmp_path, monkeypatch):
    """The reader sends the checked chunks in file order: the same log, states and counts
    (duplicates across chunks kept once, the first), and no process left behind."""
    import multiprocessing

    csv = _history(tmp_path)
    here, apart = tmp_path / "here.sqlite3", tmp_path / "apart.sqlite3"
    for db in (here, apart):
        db.write_bytes((tmp_path / "template.sqlite3").read_bytes())
    _small_chunks(monkeypatch)
    with open_study(here) as study:
        serial = study.import_reviews(csv, items(), NOW)
    _parse_apart(monkeypatch)
    send = import_file._send_chunks

    def sending(sender, chunks, parent):  # (in the reader: it leaves a mark with its pid)
        (tmp_path / "reader").write_text(str(os.getpid()))
        send(sender, chunks, parent)

    monkeypatch.setattr(import_file, "_send_chunks", sending)
    with open_study(apart) as study:
        assert study.import_reviews(csv, items(), NOW) == serial
    assert int((tmp_path / "reader").read_text()) != os.getpid()
    assert multiprocessing.active_children() == []
    with Store.open(here) as one, Store.open(apart) as other:
        assert rows(one) == rows(other)


@pytest.mark.skipif(sys.platform != "linux", reason="the reader is forked on Linux only")
def test_a_reader_process_that_dies_refuses_the_import_with_a_message(tmp_path, monkeypatch):
    """Killed midway (out of memory, say): a message that says so, and nothing written."""
    from studycli.errors import StudyError

    csv = _history(tmp_path)
    db = tmp_path / "db.sqlite3"
    db.write_bytes((tmp_path / "template.sqlite3").read_bytes())
    with Store.open(db) as store:
        before = rows(store)
    _small_chunks(monkeypatch)
    _parse_apart(monkeypatch)

    def dying(sender, chunks, parent):  # one chunk, then the reader is gone
        sender.send(next(chunks()))
        os._exit(9)

    monkeypatch.setattr(import_file, "_send_chunks", dying)
    with open_study(db) as study, pytest.raises(StudyError) as error:
        study.import_reviews(csv, items(), NOW)
    assert str(error.value).startswith(f"the process reading {csv} stopped (exit code 9)")
    with Store.open(db) as store:
        assert rows(store) == before


@pytest.mark.skipif(sys.platform != "linux", reason="the reader is forked on Linux only")
def test_a_file_parsed_in_a_reader_process_is_refused_with_the_same_message(tmp_path, monkeypatch):
    """Bad rows, a file that is not there or not UTF-8: the reader's error is raised here,
    word for word what reading here says, and nothing is written."""
    good = _history(tmp_path)
    lines = good.read_text().splitlines()
    lines[-1] = lines[-1].replace("+00:00", "")
    lines[-3] = "," + lines[-3].split(",", 1)[1]
    bad = write_csv(tmp_path / "bad.csv", lines[1:])
    binary = tmp_path / "binary.csv"
    binary.write_bytes(HEADER.encode() + b"add-one,3,\xff\xfe,1\n")
    db = tmp_path / "template.sqlite3"
    with Store.open(db) as store:
        before = rows(store)
    _small_chunks(monkeypatch)
    _forced_workers(monkeypatch, 2)
    for path in (bad, tmp_path / "missing.csv", binary):
        messages = []
        for apart in (False, True):
            monkeypatch.setattr(import_file, "PARSE_APART_FROM", 0 if apart else 1 << 60)
            with open_study(db) as study, pytest.raises(ImportFormatError) as error:
                study.import_reviews(path, items(), NOW)
            messages.append(str(error.value))
        assert messages[0] == messages[1]
    with Store.open(db) as store:
        assert rows(store) == before


@pytest.mark.skipif(sys.platform != "linux", reason="the reader is forked on Linux only")
def test_a_failure_while_staging_stops_the_reader_process(tmp_path, monkeypatch):
    import multiprocessing

    csv = _history(tmp_path)
    db = tmp_path / "template.sqlite3"
    with Store.open(db) as store:
        before = rows(store)
    _small_chunks(monkeypatch)
    _parse_apart(monkeypatch)
    stage = Store.stage

    def failing(self, chunk):
        stage(self, chunk)
        raise OSError("disk full")

    monkeypatch.setattr(Store, "stage", failing)
    with open_study(db) as study, pytest.raises(OSError, match="disk full"):
        study.import_reviews(csv, items(), NOW)
    assert multiprocessing.active_children() == []
    with Store.open(db) as store:
        assert rows(store) == before


@pytest.mark.parametrize("bulk", [False, True])
def test_a_failure_mid_replay_leaves_the_store_as_it_was(tmp_path, monkeypatch, bulk):
    """The import is one transaction: an error after some chunks were written rolls all
    of them back (a kill does too: see the next test). In bulk, that takes back the drop of
    the log's time index and of the trigger that counts each card's outcomes (migration
    0012), which the import makes again only once it has appended all."""
    csv = _history(tmp_path)
    db = tmp_path / "template.sqlite3"
    with Store.open(db) as store:
        before, made = rows(store), schema(store)
    _small_chunks(monkeypatch)
    monkeypatch.setattr(store_import, "_BULK_FROM", 1 if bulk else 1 << 60)
    dropped = Store.bulk

    @contextmanager
    def bulk_seen(self, count):
        with dropped(self, count):
            seen.append(schema(self))  # (what the appends run with)
            yield

    seen: list[list[tuple]] = []
    monkeypatch.setattr(Store, "bulk", bulk_seen)
    written = []
    append = Store.append_imported

    def failing(self, new_rows, scheduler_id, states, replayed):
        if written:
            raise OSError("disk full")
        written.append(len(new_rows))
        append(self, new_rows, scheduler_id, states, replayed)

    monkeypatch.setattr(Store, "append_imported", failing)
    with open_study(db) as study, pytest.raises(OSError, match="disk full"):
        study.import_reviews(csv, items(), NOW)
    assert written and written[0] > 0  # a chunk was written before the failure
    assert (seen[0] != made) == bulk  # (in bulk, the index and trigger were dropped)
    with Store.open(db) as store:
        assert rows(store) == before and schema(store) == made
        assert store.outcome_triggers_differing() == ([], [])


KILLED_MID_IMPORT = """
import os, signal, sys
from pathlib import Path
from studycli.study import import_file, import_replay, review_io, store_import
from studycli.study.store import Store
from studycli.study.settings import Settings

written = []
append = Store.append_imported

def killed(self, new_rows, scheduler_id, states, replayed):
    if written:  # the second chunk: the first is written, uncommitted
        os.kill(os.getpid(), signal.SIGKILL)
    written.append(len(new_rows))
    append(self, new_rows, scheduler_id, states, replayed)

Store.append_imported = killed
import_file.READ_ROWS, import_replay.CHUNK_REVIEWS = 5, 4
store_import._BULK_FROM = int(sys.argv[3])  # 1: in bulk, the time index and a trigger dropped
with Store.open(Path(sys.argv[1])) as store:
    review_io.import_reviews(store, Path(sys.argv[2]), Settings(), {})
"""


@pytest.mark.parametrize("bulk", [False, True])
def test_an_import_killed_mid_replay_leaves_the_store_as_it_was(tmp_path, bulk):
    import subprocess
    import sys

    csv = _history(tmp_path)
    db = tmp_path / "template.sqlite3"
    with Store.open(db) as store:
        before, made = rows(store), schema(store)
    bulk_from = str(1 if bulk else 1 << 60)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_MID_IMPORT, str(db), str(csv), bulk_from],
        capture_output=True,
    )
    assert done.returncode == -9, done.stderr
    with Store.open(db) as store:
        assert store.integrity_problems() == []
        assert rows(store) == before and schema(store) == made


def test_a_row_short_of_the_headers_columns_says_so(tmp_path):
    """A row without its last (optional) cell was refused for a review_duration of '' not
    being a number, "or leave the cell empty": what it had done. It says what is missing."""
    csv = write_csv(tmp_path / "short.csv", ["add-one,3,2025-02-27T10:00:00+00:00"])
    with open_study(tmp_path / "db.sqlite3") as study, pytest.raises(ImportFormatError) as error:
        study.import_reviews(csv, items(), NOW)
    assert str(error.value) == (
        f"{csv}, line 2: the row has 3 of the header's 4 columns: give every column, an empty "
        "one as nothing between two commas (e.g. a trailing comma)"
    )


# --- Ctrl-C and a killed import: its helper processes ----------------------------------------


def _children(pid: int) -> list[int]:
    """The processes `pid` forked that are still running (Linux's /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="the helpers are forked on Linux only")
def test_ctrl_c_during_a_large_import_stops_it_quietly_and_imports_nothing(tmp_path):
    """Ctrl-C while the replay's workers run: the command says nothing was imported, and no
    helper prints a traceback (each worker printed a KeyboardInterrupt's)."""
    import pexpect

    lines = [
        f"card{card},{1 + (card + day) % 4},{(NOW - timedelta(days=3000 - day)).isoformat()},900"
        for card in range(600)
        for day in range(0, 3000, 30)
    ]  # 60,000 reviews: parsed apart and replayed by workers (PARALLEL_FROM)
    csv = write_csv(tmp_path / "big.csv", lines)
    db = tmp_path / "db.sqlite3"
    env = {**os.environ, "STUDYCLI_DB": str(db), "STUDYCLI_HOME": str(tmp_path / "home")}
    child = pexpect.spawn(
        sys.executable, ["-m", "studycli", "import-reviews", str(csv)], env=env,
        encoding="utf-8", timeout=120,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while (
        len(_children(child.pid)) < min(2, import_workers._workers())
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)  # until the replay's workers are there (one core: none come)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    said = child.before
    assert "Traceback" not in said and "KeyboardInterrupt" not in said, said
    assert "interrupted: nothing was imported" in said and child.exitstatus == 130
    with Store.open(db) as store:
        assert store.count_reviews() == 0


@pytest.mark.skipif(sys.platform != "linux", reason="the helpers are forked on Linux only")
def test_a_helper_ignores_ctrl_c_and_dies_with_the_importing_process(tmp_path):
    """`import_workers.helper_of`: Ctrl-C is the importing process's to handle, and a helper of a
    killed import does not run on (orphans wrote BrokenPipeError tracebacks to the terminal)."""
    import signal
    import subprocess

    script = (
        "import os, sys, time\n"
        "from studycli.study.import_workers import helper_of\n"
        "parent = os.getpid()\n"
        "if os.fork() == 0:\n"
        "    helper_of(parent)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(60)\n"
    )
    importing = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not (helpers := _children(importing.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    [helper] = helpers
    time.sleep(0.5)  # (helper_of has run)
    os.kill(helper, signal.SIGINT)
    time.sleep(0.2)
    assert Path(f"/proc/{helper}").exists()  # ignored
    importing.kill()
    importing.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{helper}").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not Path(f"/proc/{helper}").exists() or _zombie(helper)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /dev/zero as Linux has them")
def test_a_line_that_never_ends_is_refused_before_it_fills_the_memory(tmp_path):
    """A review log's line was read whole before a cell of it was looked at: a line that never
    ends (`import-reviews /dev/zero`, a stream without newlines) took every byte of memory,
    and a line of 300 MB of short cells ("a,a,a,...") a list of 150 million of them (a
    MemoryError traceback; a 2 GB one is 16 GB). The import runs here under a memory limit
    of 768 MB, where it used to end in a MemoryError: the line is refused, by number."""
    import resource
    import subprocess

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))

    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "--db",
               str(tmp_path / "db.sqlite3"), "import-reviews", "/dev/zero"]  # fmt: skip
    env = {**os.environ, "STUDYCLI_NOW": NOW.isoformat(), "STUDYCLI_HOME": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=limited)
    said = " ".join(done.stderr.split())
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert said.startswith("error: /dev/zero, line 1: the line runs past 1,048,576 characters")


def test_a_line_of_the_longest_length_reads_and_one_past_it_is_named(tmp_path):
    """The longest line read is `LONGEST_LINE` characters, its line feed included (padded
    here with extra columns, ignored, each within the csv module's limit on a cell); the line
    one character longer is named by the number an editor shows it at."""
    from studycli.study.review_log_lines import LONGEST_LINE

    header = "card_id,review_rating,review_time,review_duration" + ",note" * 9 + "\n"
    first = "add-one,3,2025-02-27T10:00:00+00:00,12" + "," * 9 + "\n"
    review = "bias-concept,3,2025-02-27T10:01:00+00:00,12"
    cell = (LONGEST_LINE - len(review) - 1) // 9
    longest = review + ("," + "x" * cell) * 8
    longest += "," + "x" * (LONGEST_LINE - len(longest) - 2) + "\n"
    assert len(longest) == LONGEST_LINE
    csv = tmp_path / "long.csv"
    csv.write_text(header + first + longest, encoding="utf-8")
    assert [row.card_id for row in read_reviews(csv)] == ["add-one", "bias-concept"]
    csv.write_text(header + first + "x" + longest, encoding="utf-8")
    with pytest.raises(ImportFormatError) as error:
        read_reviews(csv)
    assert str(error.value).startswith(f"{csv}, line 3: the line runs past 1,048,576 characters")


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_a_line_in_another_encoding_is_named_by_its_number(tmp_path, bom, end):
    """A log of thousands of UTF-8 lines with one written in Latin-1 (a card id with an é,
    pasted in from another tool) was refused as "not UTF-8 text" with no line to look at. Its
    line is named, past the first block that is decoded (8 KB), a BOM or none, and its byte;
    and with any line end the reader takes: old Mac files (CR alone), which it reads line by
    line, were given a number that counted line feeds only (line 434 here)."""
    good = [f"card-{i},3,2025-02-27T10:{i // 60:02d}:{i % 60:02d}+00:00," for i in range(500)]
    text = bom + HEADER.encode() + end.join(good).encode() + end.encode()
    text += b"caf\xe9,3,2025-02-27T11:00:00+00:00," + end.encode()
    text += end.join(good).encode() + end.encode()
    csv = tmp_path / "latin.csv"
    csv.write_bytes(text)
    with pytest.raises(ImportFormatError) as error:
        read_reviews(csv)
    said = str(error.value)
    assert said.startswith(f"{csv}, line 502: byte 0xe9 is not UTF-8 text")
    assert "save the review log as UTF-8" in said


def test_a_header_line_again_in_the_file_is_named_as_one(tmp_path):
    """Two exports joined into one (`cat laptop.csv desktop.csv > both.csv`) hold the header
    again at the start of the second: it was refused as "review_rating 'review_rating' is not
    1-4", which named no fix a learner could see. It is named as a header line, with the fix."""
    csv = write_csv(
        tmp_path / "both.csv",
        ["add-one,3,2025-02-27T10:00:00+00:00,", HEADER.strip(), "add-one,3,2025-02-28T10:00:00Z,"],
    )
    with open_study(tmp_path / "db.sqlite3") as study, pytest.raises(ImportFormatError) as error:
        study.import_reviews(csv, items(), NOW)
    assert str(error.value) == (
        f"{csv}, line 3: this line is a header line again (two review logs joined into one?): "
        "delete it, or import each log on its own (an import merges)"
    )


@pytest.mark.parametrize(("separator", "named"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_log_separated_by_another_character_is_named_so(tmp_path, separator, named):
    """A review log saved by a spreadsheet set to another list separator (semicolons, in much
    of Europe) or as tab-separated text was refused for a header with "no card_id,
    review_rating, review_time column", which it has. The separator is named, with the fix."""
    csv = tmp_path / "saved.csv"
    csv.write_text(
        HEADER.replace(",", separator) + separator.join(["add-one", "3", "2025-02-27T10:00Z", ""])
    )
    with open_study(tmp_path / "db.sqlite3") as study, pytest.raises(ImportFormatError) as error:
        study.import_reviews(csv, items(), NOW)
    assert str(error.value) == (
        f"{csv}, line 1: the columns are separated by {named}, and a review log's by commas: "
        "save it as CSV with commas (comma-separated values), its header "
        "'card_id,review_rating,review_time,review_duration'"
    )


@pytest.mark.parametrize(
    ("header", "fix"),
    [
        (HEADER.strip() + ",Undone_At", "the column 'Undone_At' as 'undone_at'"),
        (
            "Card_ID,Review Rating,review_time,review-duration,undone_at",
            "the columns 'Card_ID' as 'card_id', 'Review Rating' as 'review_rating', "
            "'review-duration' as 'review_duration'",
        ),
    ],
)
def test_a_column_named_in_another_case_or_spelling_is_named_with_its_fix(tmp_path, header, fix):
    """Column names are read exactly: a hand-edited `Undone_At` was ignored as any unknown
    column, so its undone row imported as a rating that stands (and a `Card_ID` was said to be
    missing). A column whose name is a known one written otherwise is named with the fix,
    and nothing is imported."""
    csv = tmp_path / "edited.csv"
    csv.write_text(f"{header}\nadd-one,3,2025-02-27T10:00:00+00:00,,2025-02-27T10:01:00+00:00\n")
    with open_study(tmp_path / "db.sqlite3") as study, pytest.raises(ImportFormatError) as error:
        study.import_reviews(csv, items(), NOW)
    assert str(error.value) == (
        f"{csv}, line 1: write {fix}: column names are read exactly, in lower case, and a "
        "column under another name is ignored"
    )
    with Store.open(tmp_path / "db.sqlite3") as store:
        assert store.reviews() == []


def test_a_log_saved_as_utf_16_names_its_bytes_in_a_sentence(tmp_path):
    """A spreadsheet's "Unicode text" is UTF-16, whose first two bytes are not UTF-8: they
    were said as "bytes 0xff 0xfe is not UTF-8 text"."""
    csv = tmp_path / "unicode.csv"
    csv.write_bytes((HEADER + "add-one,3,2025-02-27T10:00:00+00:00,\n").encode("utf-16"))
    with pytest.raises(ImportFormatError) as error:
        read_reviews(csv)
    assert str(error.value).startswith(f"{csv}, line 1: bytes 0xff 0xfe are not UTF-8 text (")


def test_a_file_whose_schedulers_table_is_damaged_still_exports_its_log(cli, tmp_path, monkeypatch):
    """The doctor sends the learner to export the log of a damaged file. With the schedulers
    table's page damaged, the export wrote every review and the command then failed on the
    count of cards scheduled under other settings ("first run `studycli doctor`"): that count
    is not known there (as the suspensions where the cards table does not read)."""
    from .study_support import damage

    db, out = tmp_path / "reviews.sqlite3", tmp_path / "r.csv"
    monkeypatch.setenv("STUDYCLI_DB", str(db))
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    content = fixture_content()
    with open_study(db) as study:
        for days_ago in (20, 10):
            study.rate(content.get("add-one"), 3, NOW - timedelta(days=days_ago))
    damage(db, "schedulers")
    exported = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    assert exported.exit_code == 0, exported.output
    assert "wrote 2 reviews" in exported.stdout
    assert len(read_reviews(out)) == 2


# --- studycli's own columns: the hash a review was made on, the time it was undone ----------

OWN_HEADER = "card_id,review_rating,review_time,review_duration,content_hash,undone_at\n"


def test_a_bad_content_hash_or_undone_at_cell_is_named_with_its_fix(tmp_path):
    """The columns an export adds are checked as the others are: a cell that is not a hash,
    or an undone_at that is not a time ("yes", "0": a rating that stands taken for undone),
    refuses the file, each named; empty cells are a review that stands, its hash unknown."""
    path = tmp_path / "bad.csv"
    path.write_text(
        OWN_HEADER
        + "add-one,3,2025-02-27T10:00:00+00:00,,abc def,\n"
        + "add-one,3,2025-02-27T11:00:00+00:00,,,yes\n"
        + "add-one,3,2025-02-27T12:00:00+00:00,,,2025-02-27T12:01:00\n"
        + "add-one,3,2025-02-27T13:00:00+00:00,,,\n",
        encoding="utf-8",
    )
    with open_study(tmp_path / "db.sqlite3") as study:
        with pytest.raises(ImportFormatError) as refused:
            study.import_reviews(path, items(), NOW)
        assert study.history() == []
    said = str(refused.value)
    assert "3 bad lines" in said
    assert "line 2: content_hash 'abc def' is not a hash of a card's text" in said
    assert "line 3: undone_at 'yes' is not a time with a timezone" in said
    assert "line 4: undone_at '2025-02-27T12:01:00' is not a time with a timezone" in said
    assert "line 5" not in said


def test_a_rating_undone_before_it_was_given_is_a_bad_row_named_with_its_fix(tmp_path):
    """An undone_at an hour before its own row's review_time (a clock put back between the
    rating and its undo, or a cell edited by hand) was taken unchecked: the rating logged
    undone before it was given. It is a bad row, named with its fix, the file refused whole.
    One a few minutes before is taken: studycli writes such rows itself (a rating logged just
    after a review from a machine whose clock was a little ahead, then undone at this
    machine's time)."""
    given = datetime(2025, 2, 27, 12, 0, tzinfo=UTC)
    hour_before = iso(given - timedelta(hours=1))
    skewed = iso(given - timedelta(minutes=2))
    path = tmp_path / "undone.csv"
    path.write_text(
        OWN_HEADER
        + f"add-one,3,{iso(given)},,,{hour_before}\n"
        + f"bias-concept,3,{iso(given)},,,{skewed}\n",
        encoding="utf-8",
    )
    with open_study(tmp_path / "db.sqlite3") as study:
        with pytest.raises(ImportFormatError) as refused:
            study.import_reviews(path, items(), NOW)
        assert study.store.reviews(include_undone=True) == []
    said = " ".join(str(refused.value).split())
    assert said.startswith(f"{path}, line 2: undone_at '{hour_before}' is 1 h before the row's")
    assert f"review_time '{iso(given)}'" in said and "line 3" not in said
    assert "Write when the rating was undone (at or after its review_time)" in said
    assert "or empty the cell if the rating stands" in said

    path.write_text(OWN_HEADER + f"bias-concept,3,{iso(given)},,,{skewed}\n", encoding="utf-8")
    with open_study(tmp_path / "db.sqlite3") as study:
        assert study.import_reviews(path, items(), NOW).undone_added == 1
        assert study.history() == [] and study.store.undo_count() == 1


def test_an_imported_review_records_the_hash_the_file_gives_and_the_current_one_without(
    tmp_path,
):
    """A review made on another machine records what the file says it was made on (the text
    it showed there, perhaps not this machine's), and a row with no hash the card's text of
    today, as a file without the column does."""
    card = fixture_content().get("bias-concept")
    path = tmp_path / "in.csv"
    path.write_text(
        OWN_HEADER
        + "bias-concept,3,2025-02-27T10:00:00+00:00,,0123abcd0123abcd,\n"
        + "add-one,3,2025-02-27T10:00:00+00:00,,,\n",
        encoding="utf-8",
    )
    with open_study(tmp_path / "db.sqlite3") as study:
        study.import_reviews(path, items(), NOW)
        recorded = {r.card_id: r.content_hash for r in study.history()}
        assert recorded == {
            "bias-concept": "0123abcd0123abcd",
            "add-one": fixture_content().get("add-one").content_hash,
        }
        assert study.state("bias-concept").content_hash == "0123abcd0123abcd"
        assert edits(card, study.state("bias-concept")) == ("text",)


def test_a_plain_export_is_py_fsrs_four_columns_and_the_ratings_that_stand(
    cli, tmp_path, monkeypatch
):
    """For another FSRS tool, or a studycli that reads four columns and would take an undone
    row for a rating: `--plain` leaves out the undone ratings and studycli's own columns."""
    from fsrs import Rating

    db, out = tmp_path / "db.sqlite3", tmp_path / "plain.csv"
    monkeypatch.setenv("STUDYCLI_DB", str(db))
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    content = fixture_content()
    with open_study(db) as study:
        study.rate(content.get("bias-concept"), Rating.Good, NOW - timedelta(minutes=2))
        undone = study.rate(content.get("add-one"), Rating.Again, NOW - timedelta(minutes=1))
        study.undo(undone.review.id or 0, NOW)
    exported = cli("--content", FIXTURE_CONTENT, "export-reviews", "--plain", out)
    assert exported.exit_code == 0, exported.output
    assert " ".join(exported.stdout.split()) == f"wrote 1 review to {out}"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == [HEADER.strip(), f"bias-concept,3,{iso(NOW - timedelta(minutes=2))},"]
    whole = cli("--content", FIXTURE_CONTENT, "export-reviews", out)
    assert "and 1 undone rating, marked for an import to undo" in " ".join(whole.stdout.split())
    assert [line.split(",")[0] for line in out.read_text().splitlines()] == [
        "card_id",
        "bias-concept",
        "add-one",
    ]
