"""`studycli doctor` on the command line: what it reports, its exit status, --dry-run, --json,
a damaged file, no database yet, and no torch at start-up."""

from __future__ import annotations

import json
import shlex
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from studycli.errors import StoreDamaged
from studycli.study import backups, database, migrations
from studycli.study import rating as core
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT
from .study_support import NO_FUZZ, NOW, damage, fixture_content, schema_of
from .test_study_doctor import damage_leaf, drift, rated_many, reviewed
from .test_study_review_outcomes import corrupt_outcomes


def _doctor(cli, path: Path, *args: str):
    return cli("--content", FIXTURE_CONTENT, "--db", path, "doctor", *args)


def test_the_cli_reports_repairs_and_exits_by_health(cli, tmp_path):
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    with Store.open(path) as store:  # a cram rating: logged, never replayed (it was counted)
        core.cram(store, fixture_content().get("add-one"), 2, NOW + timedelta(hours=3), NO_FUZZ)
    healthy = _doctor(cli, path)
    assert healthy.exit_code == 0, healthy.output
    assert "integrity check: ok" in healthy.stdout
    assert (
        "replayed 4 reviews of 3 cards: every stored card state matches the log" in healthy.stdout
    )

    drift(path)
    dry = _doctor(cli, path, "--dry-run")
    assert dry.exit_code == 1 and "2 stored card state(s) differ" in dry.stdout
    assert "add-one, bias-concept" in dry.stdout and "nothing changed" in dry.stdout

    fixed = _doctor(cli, path)
    assert fixed.exit_code == 0 and "repaired them from the log" in fixed.stdout
    assert str(backups.backup_path(path, "repair")) in fixed.stdout.replace("\n", "")

    report = json.loads(_doctor(cli, path, "--json").stdout)
    assert report["healthy"] and report["drifted"] == [] and report["integrity_problems"] == []


def test_ctrl_c_during_a_repair_repairs_nothing_and_says_so(cli, tmp_path, monkeypatch):
    """Ctrl-C while the doctor repairs (its replay, seconds on a large log): the repair is one
    transaction, so nothing changed, and it says so (it exited 130 without a word, and once
    the repair was committed a third replay ran after it, a third of the run, where a Ctrl-C
    ended it silently with the database changed)."""
    from studycli.study import doctor

    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    drift(path)
    with Store.open(path) as store:
        before = store.states()
    replays = []
    replay_log = doctor.replay_log

    def interrupted(store, **kwargs):
        replays.append(1)
        if len(replays) > 2:  # after the look and the repair's own replay
            raise KeyboardInterrupt
        return replay_log(store, **kwargs)

    monkeypatch.setattr(doctor, "replay_log", interrupted)
    fixed = _doctor(cli, path)
    assert fixed.exit_code == 0 and "repaired them from the log" in fixed.stdout
    assert len(replays) == 2  # the look, the repair: checked against its replay before commit
    with Store.open(path) as store:
        repaired = store.states()
    assert repaired != before
    drift(path)
    monkeypatch.setattr(
        doctor, "replay_log", lambda store, **_: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    stopped = _doctor(cli, path)
    assert stopped.exit_code == 130
    assert "interrupted: nothing was repaired (the database is as it was)" in stopped.stderr
    with Store.open(path) as store:
        assert store.states() != repaired  # the drift is still there


@pytest.mark.parametrize("edited", ["{}", '{"card_id": 1, "state": 9}', "[]"])
def test_a_state_edited_by_hand_sends_the_learner_to_the_doctor_which_repairs_it(
    cli, tmp_path, edited
):
    """`stats` read a stored state the fsrs package cannot (a KeyError's traceback); now it
    names the card and the doctor, and after the doctor's repair it works."""
    import sqlite3

    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE cards SET fsrs = ? WHERE card_id = 'add-one'", (edited,))
    conn.close()
    stats = cli("--content", FIXTURE_CONTENT, "--db", path, "stats")
    said = " ".join(stats.stderr.split())
    assert stats.exit_code == 1 and "Traceback" not in stats.output
    assert "the stored state of add-one does not read" in said and "studycli doctor" in said
    assert _doctor(cli, path).exit_code == 0
    assert cli("--content", FIXTURE_CONTENT, "--db", path, "stats").exit_code == 0


def test_the_cli_says_a_damaged_file_is_damaged(cli, tmp_path):
    path = tmp_path / "reviews.sqlite3"
    content = fixture_content()
    with Store.open(path) as store:
        for i in range(300):
            core.rate(store, content.get("bias-concept"), 3, NOW + timedelta(days=i), NO_FUZZ)
    damage(path, "reviews_by_time")
    result = _doctor(cli, path)
    assert result.exit_code == 1 and "integrity check failed" in result.stdout
    assert "nothing was repaired" in result.stdout and "Traceback" not in result.output


def test_a_database_whose_folder_is_missing_is_said_to_need_it(cli, tmp_path):
    """`doctor` said "your first review creates it" where the first review refuses, the
    database's folder (a mistyped --db) not existing: it says to make the folder."""
    path = tmp_path / "missing" / "reviews.sqlite3"
    result = _doctor(cli, path)
    said = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "its folder does not exist" in said, said
    assert f"mkdir -p {path.parent}" in said and "your first review creates it" not in said
    assert not path.parent.exists()


def test_the_cli_with_no_database_yet_creates_none(cli, tmp_path):
    path = tmp_path / "none.sqlite3"
    result = _doctor(cli, path)
    assert result.exit_code == 0 and "nothing to check" in result.stdout
    assert not path.exists()
    as_json = _doctor(cli, path, "--json")  # JSON, as asked (it printed the sentence)
    assert as_json.exit_code == 0
    found = json.loads(as_json.stdout)  # a report's every key, as for a database (a script
    # reading "drifted" on a fresh machine got a KeyError)
    assert found["exists"] is False and found["healthy"] is True and found["drifted"] == []
    assert found["stale_memory_states"] == 0
    assert found["database"] == str(path) and found["reviews_replayed"] == 0
    assert not path.exists()


def test_a_file_that_does_not_open_gets_the_doctors_report(cli, tmp_path):
    """A truncated file (its schema does not read): the doctor reports it, with what to do,
    where its error told the learner to run the doctor, from the doctor itself."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    for args in ((), ("--dry-run",)):
        result = _doctor(cli, path, *args)
        text = " ".join(result.stdout.split())
        assert result.exit_code == 1 and result.stderr == "", result.output
        assert "integrity check failed" in text and "does not open as a database" in text
        assert "restore a backup" in text and "run `studycli doctor`" not in result.output
    report = json.loads(_doctor(cli, path, "--json").stdout)
    assert report["healthy"] is False and report["review_log"]["complete"] is False


def test_a_file_cut_short_by_its_last_page_has_its_log_saved(cli, tmp_path, monkeypatch):
    """A copy cut short, or a disk that filled: the last page gone, SQLite refused every
    statement (the schema's last page was among them) and the doctor saved nothing, though
    every review still read (a new user's report). Read with the schema taken as it reads.
    The file is one of the schema up to 0010, whose last schema page holds the undos' table:
    a later migration's entries move it onto the page before (0011's did), and the undos
    then read whole."""
    path = tmp_path / "reviews.sqlite3"
    with monkeypatch.context() as patch:
        schema_of(patch, migrations.MIGRATIONS[:10])
        reviewed(path)  # a young database: the schema's last page is among its last (see below)
        with Store.open(path) as store:
            history = sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())
    whole = path.read_bytes()
    cut = len(whole) - _pages_from_the_schemas_last(path)
    path.write_bytes(whole[:cut])
    with pytest.raises(StoreDamaged):
        database.connect_read_only(path)  # (what the doctor met: nothing reads as it was)
    found = json.loads(_doctor(cli, path, "--json").stdout)
    assert found["healthy"] is False and found["saved_log"]["written"]
    # every rating reads; the undos' table went with the schema's page, so the undone one is
    # among them, and the report says so
    assert found["saved_log"]["reviews"] == len(history) + 1
    assert found["saved_log"]["undos_whole"] is False
    result = _doctor(cli, path)
    assert result.exit_code == 1 and "does not open as a database" not in result.stdout
    assert "a rating you undid may be among the saved ones" in " ".join(result.stdout.split())
    assert path.read_bytes() == whole[:cut]  # read, never written
    rebuilt = _rebuilt(cli, path, result.stdout)
    assert set(history) < set(rebuilt) and len(rebuilt) == len(history) + 1


def _by_hand(path: Path, *statements: str) -> None:
    """Run `statements` on the database at `path` as a hand with sqlite3 would, committed."""
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def _pages_from_the_schemas_last(path: Path) -> int:
    """The bytes from the schema's last page to the end of the database at `path` (its last
    tables' pages follow it: a cut there loses the schema's page and them)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        try:
            pages = conn.execute(
                "SELECT max(pageno) FROM dbstat WHERE name = 'sqlite_schema'"
            ).fetchone()[0]
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find the schema's pages with")
        count, size = (
            conn.execute(f"PRAGMA {what}").fetchone()[0] for what in ("page_count", "page_size")
        )
    conn.close()
    return (count - pages + 1) * size


def test_a_file_that_is_no_sqlite_database_is_not_called_damaged(cli, tmp_path):
    """A CSV export passed as --db (or random bytes): every command says it is no SQLite
    database and to point --db at the review database; the doctor reports the same."""
    path = tmp_path / "reviews.csv"
    path.write_text("card_id,review_rating,review_time,review_duration\n", encoding="utf-8")
    stats = cli("--content", FIXTURE_CONTENT, "--db", path, "stats")
    said = " ".join(stats.stderr.split())
    assert stats.exit_code == 1 and f"{path} is not an SQLite database" in said
    assert "point --db / STUDYCLI_DB at your review database" in said and "damaged," not in said
    doctor = _doctor(cli, path)
    assert doctor.exit_code == 1 and "no SQLite database" in " ".join(doctor.stdout.split())
    assert path.read_text(encoding="utf-8").startswith("card_id,")  # untouched


def test_doctor_imports_neither_torch_nor_numpy(tmp_path):
    probe = (
        "import sys\nfrom typer.testing import CliRunner\nfrom studycli.cli.help_panels import whole_app\napp = whole_app()\n"
        "result = CliRunner().invoke(app, sys.argv[1:])\n"
        "print(result.exit_code, 'torch' in sys.modules, 'numpy' in sys.modules)\n"
    )
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    out = subprocess.run(
        [sys.executable, "-c", probe, "--db", str(path), "doctor"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert out.stdout.split() == ["0", "False", "False"], out.stderr


def _run_as_printed(cli, command: str):
    """Run one line the doctor printed: `studycli ARGS` in-process, any other in a real shell
    (`mv A B`; `test ! -e A || mv A B` for a file the export, closing, may have folded in:
    exit status 0 whether it is there or not)."""
    words = shlex.split(command)
    if words[0] != "studycli":
        done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (command, done.stderr)
        return None
    result = cli("--content", FIXTURE_CONTENT, *words[1:])
    assert result.exit_code == 0, (command, result.output)
    return result


@pytest.mark.parametrize("damaged", ["cards", "reviews_by_time"])
def test_the_commands_given_for_a_damaged_file_whose_log_reads_save_the_whole_history(
    cli, tmp_path, damaged
):
    """Damage only in `cards`: the doctor said "restore a backup ..., or start a new one",
    which throws the history away, while `export-reviews` read the whole log. Damage only in
    the log's time index: the log read whole, but the export read through that index and
    failed, so no command was given (the export now reads the table itself)."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    with Store.open(path) as store:  # every review of the schedule (the undone one is not)
        history = sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())
    damage_leaf(path, damaged) if damaged == "reviews_by_time" else damage(path, damaged)
    result = _doctor(cli, path)
    assert result.exit_code == 1 and "integrity check failed" in result.stdout
    assert "reads in full (300 reviews)" in result.stdout
    assert "start a new one" not in result.stdout and "Traceback" not in result.output
    commands = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    firsts = [c.split()[0] for c in commands]
    assert firsts[0] == "mv" and firsts[-1] == "studycli", result.stdout  # saved by the doctor
    assert set(firsts[1:-1]) <= {"test"}, result.stdout  # SQLite's files beside it, if there
    assert f"saved your history to {path}.saved.csv" in " ".join(result.stdout.split())
    for command in commands:
        _run_as_printed(cli, command)
    assert _doctor(cli, path).exit_code == 0  # a new, healthy database
    with Store.open(path) as store:
        saved = sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())
    assert saved == history and len(saved) == 299
    assert Path(f"{path}.damaged").exists()  # kept


def test_the_commands_given_for_a_relative_db_work_from_another_folder(cli, tmp_path, monkeypatch):
    """`--db reviews.sqlite3` (relative): the doctor's commands named the file as typed, so
    run after a `cd` they exported and moved nothing there, or made a new database there.
    They name it absolute, and, run from another folder, save the whole history in place."""
    folder = tmp_path / "my reviews"  # (a space: the commands are pasted into a shell)
    folder.mkdir()
    path = folder / "reviews.sqlite3"
    rated_many(path)
    with Store.open(path) as store:
        history = sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())
    damage(path, "cards")
    monkeypatch.chdir(folder)
    result = _doctor(cli, Path("reviews.sqlite3"))
    assert result.exit_code == 1 and "integrity check failed" in result.stdout
    commands = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    quoted = shlex.quote(str(folder.resolve() / "reviews.sqlite3"))
    assert commands[-1].startswith(f"studycli --db {quoted} import-reviews "), commands
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for command in commands:
        _run_as_printed(cli, command)
    assert list(elsewhere.iterdir()) == []
    assert _doctor(cli, path).exit_code == 0  # a new, healthy database, where it was
    with Store.open(path) as store:
        assert sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews()) == history


def _rebuilt(cli, path: Path, stdout: str) -> list[tuple[str, str, int]]:
    """Run the commands the doctor printed, as printed; the new database's history."""
    commands = [line.strip() for line in stdout.splitlines() if line.startswith("  ")]
    assert commands and commands[0].startswith("mv "), stdout
    for command in commands:
        _run_as_printed(cli, command)
    assert _doctor(cli, path).exit_code == 0  # a new, healthy database
    with Store.open(path) as store:
        return sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())


def test_a_damaged_database_of_an_older_schema_is_read_as_it_is_never_upgraded(
    cli, tmp_path, monkeypatch
):
    """A damaged file from the previous release (its card states' first page garbage): the
    upgrade's new index reads every card's state, so the doctor said its log "cannot be
    saved", export-reviews failed after writing a backup of the damage (then named as the one
    to restore), and nothing could be saved. It is read as it is; writers refuse it."""
    from studycli.study import migrations

    path = tmp_path / "reviews.sqlite3"
    with monkeypatch.context() as old:
        schema_of(old, migrations.MIGRATIONS[:3])
        rated_many(path)
    damage(path, "cards")
    report = _doctor(cli, path, "--dry-run", "--json")
    found = json.loads(report.stdout)
    assert found["review_log"] == {"reviews_read": 300, "complete": True, "problem": None}
    exported = cli("--content", FIXTURE_CONTENT, "--db", path, "export-reviews", tmp_path / "x.csv")
    assert exported.exit_code == 0 and "wrote 299 reviews" in exported.stdout, exported.output
    refused = cli("--content", FIXTURE_CONTENT, "--db", path, "suspend", "add-one")
    assert refused.exit_code == 1 and "damaged" in refused.stderr and "doctor" in refused.stderr
    assert not backups.backups(path)  # no copy of the damage, to be named for a restore
    imported = cli(  # the salvage's import works"--content", FIXTURE_CONTENT, "--db", tmp_path / "new.sqlite3",
                   "import-reviews", tmp_path / "x.csv")  # fmt: skip
    assert imported.exit_code == 0, imported.output


@pytest.mark.parametrize("with_backup", [False, True])
def test_a_log_damaged_in_the_middle_is_saved_around_the_damage_and_rebuilt(
    cli, tmp_path, with_backup
):
    """The doctor said "restore a backup ..., or start a new one": the reviews after the
    damaged page were thrown away, and restoring the backup threw away every review since it.
    Now what reads is saved and imported over the newest intact backup: without one, only
    the damaged page's reviews are lost; with one taken before them, none."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    if with_backup:  # taken before the damage's page was written (as a migration's is)
        backups.backup(path, backups.backup_path(path, "repair"))
    content = fixture_content()
    with Store.open(path) as store:
        for day in range(20):  # since the backup
            core.rate(store, content.get("add-one"), 2, NOW + timedelta(days=400 + day), NO_FUZZ)
        history = sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())
    damage_leaf(path, "reviews")
    result = _doctor(cli, path)
    said = " ".join(result.stdout.split())
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "read around its damaged pages:" in said and "saved the" in said
    rebuilt = _rebuilt(cli, path, result.stdout)
    if with_backup:
        assert "holds" in said and rebuilt == history and len(history) == 319
    else:
        assert "the lost reviews are gone" in said
        assert set(rebuilt) < set(history) and 260 < len(rebuilt) < 319
    assert Path(f"{path}.damaged").exists()  # kept


def test_the_json_report_of_a_damaged_log_says_what_was_saved_and_lost(cli, tmp_path):
    path = tmp_path / "reviews.sqlite3"
    rated_many(path)
    damage_leaf(path, "reviews")
    result = _doctor(cli, path, "--json")
    found = json.loads(result.stdout)
    saved = found["saved_log"]
    assert result.exit_code == 1 and saved["written"] and Path(saved["file"]).exists()
    [[first, last]] = saved["lost_ids"]
    assert saved["lost_reviews"] == last - first + 1 and saved["backup"] is None
    assert saved["reviews"] + saved["lost_reviews"] == 299
    assert found["salvage_commands"][-1].endswith(f"import-reviews {saved['file']}")


def test_a_damaged_file_on_a_read_only_medium_is_saved_into_a_folder_that_can_be_written(
    cli, tmp_path, monkeypatch
):
    """The commands exported the history next to the damaged file and moved it aside: on a
    read-only medium (a mounted backup) both failed. Now the export and a new database go to
    the data folder, and the damaged file stays where it is."""
    from .test_study_database import read_only_medium

    home = tmp_path / "home"
    monkeypatch.setenv("STUDYCLI_HOME", str(home))
    backup = tmp_path / "backup"
    backup.mkdir()
    path = backup / "reviews.sqlite3"
    rated_many(path)
    with Store.open(path) as store:
        history = sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())
    damage(path, "cards")
    with read_only_medium(backup) as (mounted, _):
        damaged = mounted / path.name
        result = _doctor(cli, damaged)
        said = " ".join(result.stdout.split())
        assert result.exit_code == 1 and "reads in full (300 reviews)" in said
        new = home / "data" / "reviews.saved.sqlite3"
        assert f"the history goes into a new database, {new}" in said
        commands = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
        assert [c.split()[0] for c in commands] == ["studycli"], commands  # the import
        for command in commands:
            _run_as_printed(cli, command)
    assert _doctor(cli, new).exit_code == 0
    with Store.open(new) as store:
        saved = sorted((r.reviewed_at, r.card_id, r.rating) for r in store.reviews())
    assert saved == history and len(saved) == 299


def test_a_wal_file_removed_under_an_open_connection_is_not_called_damaged(
    cli, tmp_path, monkeypatch
):
    """`rm *-wal` while a session has the database open: every other command called the file
    damaged and advised moving it aside to start a new one, though nothing was lost (the
    session's close folds its -wal back in); a full disk (no room for the -shm file) did the
    same (a helper's review)."""
    import os

    path = tmp_path / "reviews.sqlite3"
    store = Store.open(path)
    core.rate(store, fixture_content().get("add-one"), 3, NOW, NO_FUZZ)
    os.unlink(f"{path}-wal")
    for command in (("due",), ("doctor", "--dry-run"), ("history",)):
        result = cli("--content", FIXTURE_CONTENT, "--db", path, *command)
        said = " ".join(result.stderr.split())
        assert result.exit_code == 1 and "Traceback" not in result.output, command
        assert "its -wal file may have been removed while a studycli command had it open" in said
        assert "start a new one" not in said and ".damaged" not in said, said
    import shutil

    room = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: room._replace(free=4096))
    full = cli("--content", FIXTURE_CONTENT, "--db", path, "due")
    said = " ".join(full.stderr.split())
    assert full.exit_code == 1 and f"the disk holding {path} is full: free some space" in said
    store.close()  # (its checkpoint writes the frames of the -wal it still holds)
    history = cli("--content", FIXTURE_CONTENT, "--db", path, "history", "--json")
    assert [r["card"] for r in json.loads(history.stdout)] == ["add-one"]


def test_a_logged_state_that_does_not_read_stops_stats_until_the_doctor_repairs_it(
    cli, tmp_path, monkeypatch
):
    """A rating's state after edited into text that is not JSON: `stats` said the database
    "failed (malformed JSON) ... run the command again", and the doctor, which compared only
    the card states, found nothing. Now stats names the rating and sends the learner to the
    doctor, which says how many such reviews it repaired."""
    path = tmp_path / "reviews.sqlite3"
    reviewed(path)
    _by_hand(path, "UPDATE reviews SET state_after = 'not json' WHERE id = 1")
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(days=1)).isoformat())
    stats = cli("--content", FIXTURE_CONTENT, "--db", path, "stats")
    assert stats.exit_code == 1 and "run the command again" not in stats.stderr
    said = " ".join(stats.stderr.split())
    assert "rating of add-one at 2025-03-01 09:00:00 UTC does not read" in said
    assert "run `studycli doctor`" in said
    dry = _doctor(cli, path, "--dry-run")
    assert dry.exit_code == 1 and "the state after 1 review" in " ".join(dry.stdout.split())
    fixed = _doctor(cli, path)
    assert fixed.exit_code == 0 and "repaired them from the log" in fixed.stdout
    assert cli("--content", FIXTURE_CONTENT, "--db", path, "stats").exit_code == 0


def test_outcomes_that_differ_from_the_log_are_named_and_counted_again(cli, tmp_path):
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 40)
    corrupt_outcomes(path)
    checked = _doctor(cli, path, "--dry-run")
    assert checked.exit_code == 1, checked.output
    assert "differ from the log for 3 cards: add-one, bias-concept, ghost" in checked.stdout
    assert "dry run: nothing changed" in checked.stdout
    repaired = _doctor(cli, path)
    assert repaired.exit_code == 0, repaired.output
    assert "repaired them from the log" in repaired.stdout
    again = _doctor(cli, path, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["drifted_outcomes"] == []


def test_a_dropped_trigger_of_the_outcomes_is_named_and_made_again(cli, tmp_path):
    """The doctor counted the table again and said the database was healthy, while the trigger
    that keeps it was gone: the next rating drifted it again. It names the trigger and makes
    it again; --json says which were missing and which were made again."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 40)
    _by_hand(path, "DROP TRIGGER review_outcomes_insert")
    checked = _doctor(cli, path, "--dry-run")
    assert checked.exit_code == 1, checked.output
    said = " ".join(checked.stdout.split())
    assert "the trigger review_outcomes_insert, which keeps the counts of reviews passed" in said
    assert "up to date as the log changes, is missing" in said, said
    assert "dry run: nothing changed" in said
    dry = json.loads(_doctor(cli, path, "--dry-run", "--json").stdout)
    assert dry["missing_triggers"] == ["review_outcomes_insert"]
    assert dry["recreated_triggers"] == [] and not dry["healthy"]
    repaired = _doctor(cli, path)
    assert repaired.exit_code == 0, repaired.output
    assert "made the trigger review_outcomes_insert again" in " ".join(repaired.stdout.split())
    with Store.open(path) as store:
        assert store.outcome_triggers_differing() == ([], [])
    again = _doctor(cli, path)
    assert again.exit_code == 0 and "is missing" not in again.stdout, again.output
    _by_hand(path, "DROP TRIGGER review_outcomes_undo", "DROP TRIGGER review_outcomes_update")
    found = json.loads(_doctor(cli, path, "--json").stdout)
    assert found["recreated_triggers"] == ["review_outcomes_update", "review_outcomes_undo"]
    assert found["repaired"] and found["healthy"]


def test_a_dropped_table_of_the_outcomes_is_named_and_made_again(cli, tmp_path):
    """With the table dropped, every rating failed and the doctor said nothing: it names the
    table, exits 1 on a dry run, and makes it again."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 20)
    _by_hand(path, "DROP TABLE review_outcomes")
    checked = _doctor(cli, path, "--dry-run")
    assert checked.exit_code == 1, checked.output
    said = " ".join(checked.stdout.split())
    assert "the table review_outcomes, which holds the counts of reviews passed" in said
    assert "is missing: every rating fails without it" in said
    assert json.loads(_doctor(cli, path, "--dry-run", "--json").stdout)["missing_outcomes_table"]
    repaired = _doctor(cli, path)
    assert repaired.exit_code == 0, repaired.output
    assert "made the table review_outcomes again" in " ".join(repaired.stdout.split())
    again = json.loads(_doctor(cli, path, "--json").stdout)
    assert again["healthy"] and not again["missing_outcomes_table"] and not again["repaired"]


def test_a_trigger_of_another_name_on_the_outcomes_is_named_and_dropped(cli, tmp_path):
    """A copy of the insert trigger under another name counts each rating twice: named, and
    dropped by the repair."""
    path = tmp_path / "reviews.sqlite3"
    rated_many(path, 20)
    with sqlite3.connect(path) as conn:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'review_outcomes_insert'"
        ).fetchone()
        conn.execute(sql.replace("TRIGGER review_outcomes_insert", "TRIGGER twice"))
    conn.close()
    checked = _doctor(cli, path, "--dry-run")
    assert checked.exit_code == 1, checked.output
    said = " ".join(checked.stdout.split())
    assert "the trigger twice, not studycli's, names the table of the counts" in said, said
    repaired = _doctor(cli, path, "--json")
    found = json.loads(repaired.stdout)
    assert found["foreign_triggers"] == found["dropped_triggers"] == ["twice"]
    assert found["healthy"] and found["repaired"]
    assert json.loads(_doctor(cli, path, "--json").stdout)["foreign_triggers"] == []
