"""The doctor's core (study/doctor.py): the integrity check, the replay of the log against the
stored states, and the repair from the log after a backup."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from studycli.errors import StoreError
from studycli.study import backups, damaged_log
from studycli.study import rating as core
from studycli.study.doctor import examine, examine_database, salvage_commands
from studycli.study.store import Store

from .study_support import NO_FUZZ, NOW, damage, fixture_content, rows


def reviewed(path: Path) -> dict[str, object]:
    """A database with a few ratings, one undone and one card suspended; its states."""
    content = fixture_content()
    with Store.open(path) as store:
        for i, card in enumerate(["add-one", "bias-concept", "add-one", "poisson-concept"]):
            core.rate(store, content.get(card), 3, NOW + timedelta(minutes=20 * i), NO_FUZZ)
        last = core.rate(store, content.get("bias-concept"), 1, NOW + timedelta(hours=2), NO_FUZZ)
        core.undo(store, last.id, NOW + timedelta(hours=2))  # type: ignore[arg-type]
        store.set_suspended("poisson-concept", True)
        return dict(store.states())


def drift(path: Path) -> None:
    """Damage two stored states the way a bug or a hand edit might (the log stays right)."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE cards SET reps = 99 WHERE card_id = 'add-one'")
        conn.execute("UPDATE cards SET fsrs = NULL WHERE card_id = 'bias-concept'")
    conn.close()


def test_a_healthy_database_is_reported_healthy_and_left_as_it_is(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    with Store.open(path) as store:
        before = rows(store)
        report = examine(store)
        assert rows(store) == before
    assert report.healthy and report.integrity == [] and report.drifted == []
    assert (report.reviews, report.cards, report.backup) == (4, 3, None)


def test_a_card_crammed_before_it_was_ever_studied_is_no_drift(tmp_path):
    """A cram rating leaves a new card as it was, with no stored row; the doctor's replay made
    it a row of its own (a new card's), so a learner who crammed a card never studied was told
    "1 stored card state(s) differ from the log", and a repair wrote that row after a backup.
    Once the card is rated in earnest, its state counts as any card's."""
    path = tmp_path / "reviews.sqlite3"
    content = fixture_content()
    with Store.open(path) as store:
        core.cram(store, content.get("triangle-derivation"), 3, NOW, NO_FUZZ)
        before = rows(store)
        report = examine(store)
        assert rows(store) == before
        assert report.healthy and report.drifted == [] and report.backup is None
        assert (report.reviews, report.cards) == (0, 0)
        core.rate(store, content.get("triangle-derivation"), 3, NOW + timedelta(hours=1), NO_FUZZ)
        assert examine(store).healthy
        store.conn.execute("UPDATE cards SET reps = 9 WHERE card_id = 'triangle-derivation'")
        assert examine(store, repair=False).drifted == ["triangle-derivation"]


def test_drifted_states_are_repaired_from_the_log_after_a_backup(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    states = reviewed(path)
    drift(path)
    with Store.open(path) as store:
        report = examine(store)
        assert store.states() == states  # the states the log gives, suspension kept
        assert core.rebuild(store) == store.states()
    assert report.drifted == ["add-one", "bias-concept"] and report.repaired and report.healthy
    assert report.backup == backups.backup_path(path, "repair")
    with sqlite3.connect(report.backup) as old:  # the backup holds the states before the repair
        assert old.execute("SELECT reps FROM cards WHERE card_id = 'add-one'").fetchone() == (99,)
    old.close()


def test_a_dry_run_reports_the_drift_and_changes_nothing(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    drift(path)
    with Store.open(path) as store:
        before = rows(store)
        report = examine(store, repair=False)
        assert rows(store) == before
    assert report.drifted == ["add-one", "bias-concept"] and not report.repaired
    assert not report.healthy and report.backup is None
    assert not backups.backup_path(path, "repair").exists()


def test_a_damaged_file_is_reported_and_not_repaired(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    content = fixture_content()
    with Store.open(path) as store:
        for i in range(300):
            core.rate(store, content.get("bias-concept"), 3, NOW + timedelta(days=i), NO_FUZZ)
    damage(path, "reviews_by_time")  # an index: the file opens, the check finds the damage
    with Store.open(path) as store:
        report = examine(store)
    assert report.integrity and not report.healthy and not report.repaired
    assert not backups.backup_path(path, "repair").exists()


def test_a_card_whose_row_is_lost_is_rebuilt_from_the_log(tmp_path):
    """A card the log has and the cards table lacks (its row deleted by hand, or lost) gets
    its state from the log, and the doctor puts the row back (found by a mutation audit: no
    test made `rebuild` meet such a card)."""
    path = tmp_path / "reviews.sqlite3"
    content = fixture_content()
    with Store.open(path) as store:
        core.rate(store, content.get("add-one"), 3, NOW, NO_FUZZ)
        core.rate(store, content.get("bias-concept"), 3, NOW, NO_FUZZ)
        states = store.states()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM cards WHERE card_id = 'add-one'")
    conn.close()
    with Store.open(path) as store:
        assert core.rebuild(store) == states
        report = examine(store)
        assert report.drifted == ["add-one"] and store.states() == states


def rated_many(path: Path, count: int = 300) -> None:
    """A log of `count` reviews over two cards (several pages of it), the last one undone."""
    content = fixture_content()
    with Store.open(path) as store:
        for i in range(count):
            card = content.get(("bias-concept", "add-one")[i % 2])
            last = core.rate(store, card, 3, NOW + timedelta(days=i), NO_FUZZ)
        core.undo(store, last.id, NOW + timedelta(days=count))  # type: ignore[arg-type]


def damage_leaf(path: Path, table: str) -> None:
    """Garbage over a leaf page in the middle of `table` (found through SQLite's dbstat)."""
    with sqlite3.connect(path) as conn:
        try:
            leaves = conn.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                (table,),
            ).fetchall()
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find a table's pages with")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    assert len(leaves) > 2, f"{table} should span several pages"
    with open(path, "r+b") as handle:
        handle.seek((leaves[len(leaves) // 2][0] - 1) * size)
        handle.write(b"\xff" * size)


def test_damage_only_in_the_card_states_gives_the_commands_that_save_the_log(tmp_path):
    """The advice was "restore a backup, or start a new one" (the history thrown away), while
    the log, which every state is rebuilt from, read in full."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    damage(path, "cards")
    report = examine_database(path)
    assert report is not None and report.integrity and not report.healthy
    assert report.log == damaged_log.LogReading(reviews=300, complete=True)
    db, saved = str(path), f"{path}.saved.csv"
    beside = [  # SQLite's files beside it (a reader of a WAL database may make them)
        f"test ! -e {db}{suffix} || mv {db}{suffix} {path}.damaged{suffix}"
        for suffix in ("-wal", "-shm")
        if Path(f"{db}{suffix}").exists()
    ]
    assert report.salvage == [  # the doctor saved the log itself (the export step was
        f"mv {db} {path}.damaged",  # the learner's, as for a log that reads only in part)
        *beside,
        f"studycli --db {db} import-reviews {saved}",
    ]
    assert report.saved is not None and report.saved.written and report.saved.reviews == 299
    assert report.saved.lost == [] and report.saved.backup is None
    assert len(Path(saved).read_text().splitlines()) == 300  # the header and 299 reviews
    assert not backups.backup_path(path, "repair").exists()  # nothing written into it
    dry = examine_database(path, repair=False)  # a dry run saves nothing: the export to run
    assert dry is not None and dry.salvage[0].startswith(f"studycli --db {db} export-reviews")


def history_of(path: Path) -> list[tuple[str, int, str, int | None, str, str | None]]:
    """What `export-reviews` writes of the database at `path`, oldest first."""
    with Store.open(path) as store:
        return list(store.exported_rows())


def test_a_damaged_log_says_how_much_of_it_reads_and_saves_what_reads_around_the_damage(
    tmp_path,
):
    """A plain read of the log stops at the first damaged page: the doctor said "restore a
    backup, or start a new one", and every review after that page was thrown away with the
    file. Now the log is read around the damaged pages and what reads is saved beside it."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    history = history_of(path)
    damage_leaf(path, "reviews")
    report = examine_database(path)
    assert report is not None and report.log is not None and not report.log.complete
    assert 0 < report.log.reviews < 300
    assert f"{report.log.reviews} reviews read, then:" in (report.log.problem or "")
    saved = report.saved
    assert saved is not None and saved.written and saved.backup is None
    [(first, last)] = saved.lost  # one damaged page: the reviews on it, in a row of ids
    assert first == report.log.reviews + 1 and saved.lost_count == last - first + 1
    assert 0 < saved.lost_count < 50 and saved.undos_whole
    with open(saved.path, newline="") as handle:
        written = list(csv.reader(handle))[1:]
    kept = [
        [c, str(r), t, "" if d is None else str(d), h, ""]
        for c, r, t, d, h, undone in history
        if undone is None  # (the saved log holds the schedule's reviews)
    ]
    # reviews 1..299 are the schedule (300 was undone): every one but the lost is saved
    lost = set(range(first, last + 1))
    assert written == [row for day, row in enumerate(kept, start=1) if day not in lost]
    assert saved.reviews == len(written) == 299 - saved.lost_count
    assert report.salvage[-1] == f"studycli --db {path} import-reviews {saved.path}"
    assert not any("export-reviews" in command for command in report.salvage)


def test_a_backup_imported_into_a_damaged_log_is_refused(cli, tmp_path):
    """An export made before the damage, imported into the damaged file: the lost reviews'
    rows were "already in your log" (the index that finds them still read), none came back,
    and nothing said the file was damaged (a QA pass). The import now refuses a damaged file,
    as every command does where SQLite meets the damage, and writes nothing into it."""
    from .conftest import FIXTURE_CONTENT

    path, backup = tmp_path / "reviews.sqlite3", tmp_path / "backup.csv"
    rated_many(path)
    exported = cli("--content", FIXTURE_CONTENT, "--db", path, "export-reviews", backup)
    assert exported.exit_code == 0, exported.output
    damage_leaf(path, "reviews")
    before = path.read_bytes()
    result = cli("--content", FIXTURE_CONTENT, "--db", path, "import-reviews", backup)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path} is damaged" in said and "first run `studycli doctor`" in said, said
    assert path.read_bytes() == before


def test_a_dry_run_on_a_damaged_log_says_what_would_be_saved_and_writes_nothing(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    damage_leaf(path, "reviews")
    report = examine_database(path, repair=False)
    assert report is not None and report.saved is not None and not report.saved.written
    assert 0 < report.saved.reviews < 299 and report.salvage == []
    files = {p.name for p in tmp_path.iterdir()} - {f"{path.name}-wal", f"{path.name}-shm"}
    assert files == {path.name}  # (a reader of a WAL database may make those two)


def test_the_newest_intact_backup_is_offered_with_how_many_lost_reviews_it_holds(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    old = backups.backup(path, backups.backup_path(path, "0001_old"))
    newest = backups.backup(path, backups.backup_path(path, "repair"))
    os.utime(old, ns=(1, 1))  # (the older by its time, not its name)
    damage(newest, "reviews")  # the newest is itself damaged: the one before it is offered
    damage_leaf(path, "reviews")
    report = examine_database(path)
    assert report is not None and report.saved is not None
    assert report.saved.backup == old and report.saved.backup_holds == report.saved.lost_count
    assert f"cp {old} {path}" in report.salvage


def test_of_two_intact_backups_the_one_written_last_is_offered_whatever_their_names(tmp_path):
    """Both backups read: the salvage restores the later one (the more history it holds, the
    less is lost), found by when each was written: the earlier is named `repair`, which sorts
    after the later one's migration name."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    earlier = backups.backup(path, backups.backup_path(path, "repair"))
    later = backups.backup(path, backups.backup_path(path, "0001_later"))
    os.utime(earlier, ns=(1, 1))
    damage_leaf(path, "reviews")
    report = examine_database(path)
    assert report is not None and report.saved is not None
    assert report.saved.backup == later
    assert f"cp {later} {path}" in report.salvage


def test_a_review_missing_from_the_log_without_an_error_is_found(tmp_path):
    """A damaged page SQLite skips without an error: the ids, 1 to the last, show the gap."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, count=5)
    with Store.open(path) as store:
        store.conn.execute("DROP TRIGGER reviews_append_only_delete")
        store.conn.execute("DELETE FROM reviews WHERE id = 2")
        reading = damaged_log.read_log(store.conn, store.exported_rows)
    assert reading == damaged_log.LogReading(4, False, "4 reviews read, 1 missing")


def test_the_salvage_moves_the_files_sqlite_keeps_beside_the_database_and_overwrites_none(
    tmp_path,
):
    path = tmp_path / "reviews.sqlite3"
    for name in (f"{path.name}.damaged", f"{path.name}.saved.csv", f"{path.name}-wal"):
        (tmp_path / name).write_text("kept")
    commands, elsewhere = salvage_commands(path)
    assert elsewhere is None
    assert commands[0].endswith(f"export-reviews {path}.saved.csv-2")
    assert f"test ! -e {path}-wal || mv {path}-wal {path}.damaged-2-wal" in commands
    assert commands[-1].endswith(f"import-reviews {path}.saved.csv-2")


def test_the_salvage_takes_no_name_whose_wal_is_left_beside_it(tmp_path):
    """A `.damaged` name whose file is gone but whose -wal stayed (an earlier salvage's, moved
    by hand) is not taken: the database moved there would meet that -wal's pages as its own."""
    path = tmp_path / "reviews.sqlite3"
    (tmp_path / f"{path.name}.damaged-wal").write_text("an earlier salvage's")
    commands, _ = salvage_commands(path)
    assert f"mv {path} {path}.damaged-2" in commands, commands


@pytest.mark.parametrize("repair", [False, True], ids=["dry-run", "repair"])
def test_a_damaged_file_and_its_wal_are_left_byte_for_byte(tmp_path, repair):
    """The doctor said it wrote nothing to a damaged file, but closing its connection folded
    the -wal (maybe the only copy of the latest ratings) into the file and deleted it."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, count=60)
    damage(path, "cards")
    with sqlite3.connect(path) as conn:  # ratings in the -wal only, as after a crash
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("INSERT INTO undos (review_id, undone_at) VALUES (1, 'x')")
        copy = tmp_path / "copy"
        copy.mkdir()
        for suffix in ("", "-wal"):
            Path(f"{path}{suffix}").replace(copy / f"{path.name}{suffix}")
    conn.close()
    path = copy / path.name
    wal = Path(f"{path}-wal")
    before = path.read_bytes(), wal.read_bytes()
    assert before[1]  # something in the -wal
    report = examine_database(path, repair=repair)
    assert report is not None and report.integrity
    assert (path.read_bytes(), wal.read_bytes()) == before


def test_reviews_made_before_the_order_of_intervals_replay_as_they_were_made(tmp_path, monkeypatch):
    """A database whose reviews were scheduled by fsrs alone (before Hard < Good < Easy was
    kept) and then by the ordered scheduler: the doctor's replay gives each review what it
    gave, and finds nothing to repair; fsrs alone, for all of them, would differ."""
    from fsrs import Scheduler

    from studycli.study import scheduler as sched

    content = fixture_content()
    card = content.get("bias-concept")
    moments = [NOW + timedelta(minutes=m) for m in (0, 10, 60 * 30, 60 * 30 + 60 * 4)]
    ordered = sched.make_scheduler
    with Store.open(tmp_path / "reviews.sqlite3") as store:
        monkeypatch.setattr(sched, "make_scheduler", lambda s: Scheduler(enable_fuzzing=False))
        for moment in moments:  # Good, Good (graduates), then two reviews a day later
            core.rate(store, card, 3, moment, NO_FUZZ)
        monkeypatch.setattr(sched, "make_scheduler", ordered)
        core.rate(store, card, 3, moments[-1] + timedelta(hours=2), NO_FUZZ)
        assert not examine(store, repair=False).drifted
        monkeypatch.setattr(core, "scheduler_from_json", lambda _: Scheduler(enable_fuzzing=False))
        assert examine(store, repair=False).drifted == [card.id]  # (the test can fail)


def test_reviews_made_with_the_fuzz_drawn_from_a_generator_replay_as_they_were_made(
    tmp_path, monkeypatch
):
    """Reviews logged when the fuzz was drawn from a seeded generator (their scheduler's JSON
    has no `DRAW_KEY`), then reviews drawing the digest itself: the doctor's replay gives each
    what it gave and finds nothing to repair. A card's state shows the draw of its last
    review: one draw for all would differ for the card last reviewed the other way."""
    from studycli.study import scheduler as sched
    from studycli.study.settings import Settings

    def generator_drawn(settings: Settings) -> sched.OrderedScheduler:
        scheduler = made(settings)
        scheduler.digest_draw = False
        return scheduler

    content = fixture_content()
    fuzzy, made = Settings(enable_fuzzing=True), sched.make_scheduler
    before, after = content.get("bias-concept"), content.get("add-one")  # upgraded in between
    with Store.open(tmp_path / "reviews.sqlite3") as store:
        for card in (before, after):
            moment = NOW
            for step, rating in enumerate((3, 3, 4, 4, 3, 3)):
                maker = generator_drawn if card is before or step < 3 else made
                monkeypatch.setattr(sched, "make_scheduler", maker)
                core.rate(store, card, rating, moment, fuzzy)
                moment = core.fsrs_card(store.state(card.id)).due
        monkeypatch.setattr(sched, "make_scheduler", made)
        assert len(set(store.schedulers().values())) == 2
        assert not examine(store, repair=False).drifted
        monkeypatch.setattr(core, "scheduler_from_json", lambda _: made(fuzzy))
        assert examine(store, repair=False).drifted == [before.id]  # (the test can fail)
        monkeypatch.setattr(core, "scheduler_from_json", lambda _: generator_drawn(fuzzy))
        assert examine(store, repair=False).drifted == [after.id]


@pytest.mark.parametrize("repair", [False, True], ids=["dry-run", "repair"])
def test_checking_a_healthy_database_leaves_it_as_it_was_with_no_side_files(tmp_path, repair):
    """`doctor --dry-run` promises to change nothing, yet left an empty -wal and a -shm beside
    the file (its connection is read-only, and SQLite deletes them only when a connection
    that can write closes last); the doctor without --dry-run, with nothing to repair, too."""
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    before = path.read_bytes(), path.stat().st_mtime_ns
    report = examine_database(path, repair=repair)
    assert report is not None and report.healthy
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_the_side_files_of_a_database_open_elsewhere_are_left_to_it(tmp_path):
    """Where another connection has the database open (a review session before its first
    rating: its -wal is empty), its -wal and -shm stay, and it goes on working."""
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    script = (
        "import sqlite3, sys\n"
        f"conn = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "conn.execute('SELECT COUNT(*) FROM reviews').fetchone()\n"
        "print('open', flush=True); sys.stdin.readline()\n"
        "conn.execute(\"INSERT INTO undos (review_id, undone_at) VALUES (1, 'x')\")\n"
        "print(conn.execute('SELECT COUNT(*) FROM undos').fetchone()[0], flush=True)\n"
        "conn.close()\n"
    )
    session = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert session.stdout is not None and session.stdin is not None
        assert session.stdout.readline() == "open\n"
        assert Path(f"{path}-wal").stat().st_size == 0  # (its -wal made, nothing written)
        report = examine_database(path, repair=False)
        assert report is not None and report.healthy
        assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
        written, _ = session.communicate("go\n", timeout=30)
    finally:
        session.kill()
    assert session.returncode == 0 and written.strip() == "2"  # (one undo in `reviewed`)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # its close tidied


def test_the_doctor_names_the_side_files_of_a_database_that_is_gone(tmp_path):
    """No database but its -wal and -shm: "nothing to check" hid what they hold."""
    path = tmp_path / "reviews.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").write_bytes(b"")
    with pytest.raises(StoreError) as caught:
        examine_database(path, repair=False)
    assert f"the review database {path} is gone, but reviews.sqlite3-wal and" in str(caught.value)
    assert not path.exists()


@pytest.mark.parametrize(
    "state_after", ["not json", '{"card_id": 1}', '{"due": "2025-03-01T09:20:00"}', "[]", ""]
)
def test_a_logged_state_after_that_differs_or_does_not_read_is_repaired_from_the_log(
    tmp_path, state_after
):
    """The state a rating left, as the log holds it (what `stats` reads a review's interval
    from): one edited is found and rebuilt by the replay, in the transaction that repairs the
    card states (a dry run changes nothing); the doctor compared only the card states, and
    called such a log healthy."""
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    with Store.open(path) as store:
        core.cram(store, fixture_content().get("add-one"), 2, NOW + timedelta(hours=3), NO_FUZZ)
        logged = store.conn.execute("SELECT id, queue, state_after FROM reviews").fetchall()
    first, cram = logged[0][0], logged[-1][0]
    drift(path)
    with sqlite3.connect(path) as conn:  # (updating state_after is allowed: imports do)
        conn.execute("UPDATE reviews SET state_after = ? WHERE id = ?", (state_after, first))
        conn.execute("UPDATE reviews SET state_after = 'x', queue = 'new' WHERE id = ?", (cram,))
    conn.close()
    with Store.open(path) as store:
        before = rows(store)
        dry = examine(store, repair=False)
        assert rows(store) == before
        assert dry.drifted_reviews == [first, cram] and not dry.healthy
        report = examine(store)
        assert store.conn.execute("SELECT id, queue, state_after FROM reviews").fetchall() == logged
    assert report.drifted == ["add-one", "bias-concept"] and report.drifted_reviews == [first, cram]
    assert report.repaired and report.healthy
    with Store.open(path) as store:
        again = examine(store)
    assert again.drifted_reviews == [] and again.healthy and again.backup is None


def test_the_count_of_stale_memory_states_reads_no_clock(tmp_path, monkeypatch):
    """The doctor read the system's clock (`datetime.now`) for its count of stale memory
    states, where the rest of the command has its time from `STUDYCLI_NOW`. The count does
    not depend on the time: a recompute follows every review in the log, whenever it is
    made. So the core reads no clock for it: one that fails when read is never asked, and
    the count is as it was (none stale under the parameters the states were made with; each
    studied card's under others)."""
    from datetime import datetime

    from studycli.study import api_parameters
    from studycli.study import doctor as doctor_module

    from .test_study_recompute import NEW

    class Unread(datetime):
        @classmethod
        def now(cls, tz=None):
            raise AssertionError("the doctor's core read the clock")

    path = tmp_path / "reviews.sqlite3"
    studied = [card for card, state in reviewed(path).items() if state.fsrs]
    for module in (doctor_module, api_parameters):
        monkeypatch.setattr(module, "datetime", Unread, raising=False)
    same = examine_database(path, repair=False, settings=NO_FUZZ)
    other = examine_database(path, repair=False, settings=NEW)
    assert same is not None and other is not None
    assert (same.stale, other.stale) == (0, len(studied)) and studied
