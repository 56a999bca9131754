"""`import-reviews --dry-run`: what an import would do, said as the import says it, with the
review database left as it was (its bytes, its rows, its schema: no upgrade, no backup); and
the ids of a file that the content does not know, named with the closest id it knows, before
an import keeps them in the append-only log for ever. Through the CLI, on real databases."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from studycli.paths import config_path, database_path
from studycli.study import import_file, migrations
from studycli.study import rating as core
from studycli.study.backups import backups
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT
from .study_support import NO_FUZZ, NOW, fixture_content, hold_write_lock, schema_of

HEADER = "card_id,review_rating,review_time,review_duration\n"
TABLES = ("reviews", "cards", "undos", "schedulers", "migrations")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("enable_fuzzing = false\n")


def run(cli, *args):
    return cli("--content", FIXTURE_CONTENT, *args)


def day(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def a_home_with_reviews(cli, tmp_path: Path) -> Path:
    """The default home's database with a rating given here and two reviews imported."""
    card = fixture_content().get("poisson-concept")
    with Store.open(database_path()) as store:
        core.rate(store, card, 3, NOW - timedelta(days=2), NO_FUZZ)
    first = write_csv(
        tmp_path / "first.csv", [f"add-one,3,{day(9)},900", f"bias-concept,3,{day(8)},"]
    )
    assert run(cli, "import-reviews", first).exit_code == 0
    return database_path()


def laptop_export(tmp_path: Path) -> Path:
    """A file to merge: a review the log holds, one it holds with another rating (a conflict),
    new reviews of known cards, one under a mistyped id and one of a card from elsewhere."""
    return write_csv(
        tmp_path / "laptop.csv",
        [
            f"add-one,3,{day(9)},900",
            f"bias-concept,4,{day(8)},",
            f"add-one,2,{day(3)},1200",
            f"triangle-derivation,3,{day(4)},",
            f"add-on,3,{day(1)},",
            f"elsewhere-card,1,{day(1)},",
        ],
    )


def what_is_there(path: Path) -> tuple[bytes, dict[str, int], int]:
    """The database file's bytes, each table's row count, and the bytes its -wal file holds
    (what SQLite reads as the database too: frames there would be a write)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes(), counts, wal.stat().st_size if wal.exists() else 0


def as_done(said: str) -> str:
    """A dry run's summary in the import's words, its own notes left out."""
    for tried, done in [
        ("would import", "imported"),
        ("would be rescheduled", "rescheduled"),
        ("would be kept", "is kept"),
        ("would be left out, giving", "left out gave"),
    ]:
        said = said.replace(tried, done)
    return "\n".join(line for line in said.splitlines() if not _dry_run_note(line))


def _dry_run_note(line: str) -> bool:
    return line.startswith(("dry run: nothing was written", "Once imported, the reviews"))


def test_the_import_a_dry_run_names_keeps_its_db_and_works_from_another_folder(
    cli, tmp_path, monkeypatch
):
    """The import a dry run said to run named the file as typed and no --db: pasted after a
    `cd`, it found no file, and, given `--db`, it imported into the default database. It
    names --content, --db and the file absolute and quoted for a shell, and, run from another
    folder, imports into the database the dry run read."""
    import re
    import shlex

    work = tmp_path / "my work"  # (a space: the command is pasted into a shell)
    work.mkdir()
    write_csv(work / "laptop reviews.csv", [f"add-one,3,{day(3)},900"])
    monkeypatch.chdir(work)
    tried = run(cli, "--db", "mine.sqlite3", "import-reviews", "laptop reviews.csv", "--dry-run")
    assert tried.exit_code == 0, tried.output
    [said] = re.findall(r"\(`(studycli [^`]*)`\) imports it", " ".join(tried.stdout.split()))
    here = work.resolve()
    db, csv = (shlex.quote(str(here / name)) for name in ("mine.sqlite3", "laptop reviews.csv"))
    content = shlex.quote(str(FIXTURE_CONTENT.resolve()))
    assert said == f"studycli --content {content} --db {db} import-reviews {csv}", said
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    done = cli(*shlex.split(said)[1:])
    assert done.exit_code == 0, done.output
    with Store.open(here / "mine.sqlite3") as store:
        assert [review.card_id for review in store.reviews()] == ["add-one"]
    assert not database_path().exists() and not Path("mine.sqlite3").exists()


def test_a_dry_run_says_what_the_import_says_and_leaves_the_database_as_it_was(cli, tmp_path):
    db = a_home_with_reviews(cli, tmp_path)
    laptop = laptop_export(tmp_path)
    before = what_is_there(db)
    tried = run(cli, "import-reviews", laptop, "--dry-run", "--json")
    assert tried.exit_code == 0, tried.output
    said = run(cli, "import-reviews", laptop, "--dry-run")
    assert said.exit_code == 0, said.output
    assert what_is_there(db) == before  # not a byte, not a row, no frame in its -wal
    text = " ".join(said.stdout.split())
    assert (
        f"dry run: nothing was written; the same command without --dry-run (`studycli "
        f"--content {FIXTURE_CONTENT.resolve()} import-reviews {laptop}`) imports it" in text
    )
    assert "would import 4 of 6 reviews" in text, text

    copy = tmp_path / "copy.sqlite3"  # the real import, in words, into a copy of the database
    copy.write_bytes(db.read_bytes())
    done = run(cli, "--db", copy, "import-reviews", laptop)
    assert done.exit_code == 0, done.output
    assert as_done(said.stdout).replace(str(copy), str(db)) == done.stdout.rstrip("\n")
    imported = run(cli, "import-reviews", laptop, "--json")  # and as JSON, into the database
    assert imported.exit_code == 0, imported.output
    expected = {**json.loads(imported.stdout), "dry_run": True}
    assert json.loads(tried.stdout) == expected
    assert expected["added"] == 4 and expected["conflicts"] == 1 and expected["cards"] == 4
    assert what_is_there(db)[1]["reviews"] == before[1]["reviews"] + 4  # (the import wrote)
    again = json.loads(run(cli, "import-reviews", laptop, "--dry-run", "--json").stdout)
    assert again["added"] == 0 and again["duplicates"] == 6  # as importing twice would say


def test_ids_not_in_the_content_are_named_with_the_closest_id_it_has(cli, tmp_path):
    """A mistyped id in a hand-edited file (`add-on`) was told as one more card "not in the
    content", its reviews kept for ever; its likely meaning is named, and a dry run says,
    before anything is kept, that they would stay and the file is to be fixed first."""
    a_home_with_reviews(cli, tmp_path)
    laptop = laptop_export(tmp_path)
    tried = run(cli, "import-reviews", laptop, "--dry-run")
    text = " ".join(tried.stdout.split())
    named = "add-on (did you mean add-one?), elsewhere-card"
    assert f"2 of them not in the content (their history would be kept): {named}" in text
    assert (
        "Once imported, the reviews of ids not in the content stay in your log for ever (it "
        "is append-only: no command takes a review out of it): where an id is mistyped" in text
    )
    as_json = json.loads(run(cli, "import-reviews", laptop, "--dry-run", "--json").stdout)
    assert as_json["closest_known_cards"] == {"add-on": "add-one"}
    done = run(cli, "import-reviews", laptop)
    text = " ".join(done.stdout.split())
    assert f"2 of them not in the content (their history is kept): {named}" in text
    assert "dry run" not in text and "Once imported" not in text


def test_a_dry_run_neither_upgrades_an_older_database_nor_backs_it_up(cli, tmp_path, monkeypatch):
    """Opening a database of an older studycli to write upgrades it, a backup first: a dry run
    reads it as it is (as `doctor --dry-run` does), and says what the import would do after
    the upgrade the import makes."""
    with monkeypatch.context() as patch:
        schema_of(patch, migrations.MIGRATIONS[:10])
        db = a_home_with_reviews(cli, tmp_path)
    laptop = laptop_export(tmp_path)
    before = what_is_there(db)
    tried = run(cli, "import-reviews", laptop, "--dry-run", "--json")
    assert tried.exit_code == 0, tried.output
    assert what_is_there(db) == before and backups(db) == []
    assert "upgraded the review database" not in tried.stderr
    done = run(cli, "import-reviews", laptop, "--json")
    assert "upgraded the review database" in " ".join(done.stderr.split())
    assert json.loads(tried.stdout) == {**json.loads(done.stdout), "dry_run": True}


def test_a_dry_run_makes_no_database_where_there_is_none(cli, tmp_path):
    laptop = laptop_export(tmp_path)
    tried = run(cli, "import-reviews", laptop, "--dry-run", "--json")
    assert tried.exit_code == 0, tried.output
    assert json.loads(tried.stdout)["added"] == 6
    assert not database_path().exists() and not database_path().parent.exists()


def test_a_dry_run_of_a_large_file_waits_for_no_writer_and_writes_nothing(
    cli, tmp_path, monkeypatch
):
    """A large file is read by a process of its own, and an import takes the write lock: a
    dry run takes none (a review in another terminal goes on), and writes nothing either."""
    db = a_home_with_reviews(cli, tmp_path)
    monkeypatch.setattr(import_file, "PARSE_APART_FROM", 0)  # the reader forked, as for 4 MB
    rows = [f"add-one,3,{(NOW - timedelta(minutes=m + 1)).isoformat()}," for m in range(2000)]
    big = write_csv(tmp_path / "big.csv", rows + [f"add-one,3,{day(9)},900"])
    before = what_is_there(db)
    holder = hold_write_lock(db)
    try:
        tried = run(cli, "import-reviews", big, "--dry-run", "--json")
    finally:
        holder.communicate("\n")
    assert tried.exit_code == 0, tried.output
    found = json.loads(tried.stdout)
    assert (found["rows"], found["added"], found["duplicates"]) == (2001, 2000, 1)
    assert what_is_there(db) == before


def test_a_dry_run_refuses_a_bad_file_as_the_import_does(cli, tmp_path):
    db = a_home_with_reviews(cli, tmp_path)
    before = what_is_there(db)
    bad = write_csv(tmp_path / "bad.csv", [f"add-one,3,{day(1)},", "add-one,7,yesterday,"])
    tried = run(cli, "import-reviews", bad, "--dry-run")
    assert tried.exit_code == 1 and "Traceback" not in tried.output
    assert "line 3: review_rating" in " ".join(tried.stderr.split()), tried.stderr
    assert what_is_there(db) == before


def test_a_dry_run_reads_no_cards_contract(cli, tmp_path, monkeypatch):
    """What an imported review records of its card (its text's hash, a coding card's contract
    read from its solution module) is made for the replay, which a dry run skips; asking
    whether each id is in the content made it anyway: 8 of a dry run's 10 s, for 100,000
    reviews of 16,000 cards."""
    from studycli.study.api import Study

    made: list[str] = []
    monkeypatch.setattr(Study, "recorded_hash", lambda study, item: made.append(item.id) or "")
    tried = run(cli, "import-reviews", laptop_export(tmp_path), "--dry-run", "--json")
    assert tried.exit_code == 0, tried.output
    assert json.loads(tried.stdout)["cards"] == 5 and made == []


def test_the_import_a_dry_run_names_keeps_a_relative_studycli_db_from_another_folder(
    cli, tmp_path, monkeypatch
):
    """A --db or --content the environment gives is not named in the command a dry run says
    to run, as the environment gives it again; but a relative STUDYCLI_DB or STUDYCLI_CONTENT
    names another file, or none, after a `cd`: pasted there, the command imported into a new
    database in that folder. They are named, absolute, as the command line's are."""
    import os
    import re
    import shlex

    work = tmp_path / "work"
    work.mkdir()
    write_csv(work / "laptop.csv", [f"add-one,3,{day(3)},900"])
    monkeypatch.chdir(work)
    monkeypatch.setenv("STUDYCLI_DB", "mine.sqlite3")
    monkeypatch.setenv("STUDYCLI_CONTENT", os.path.relpath(FIXTURE_CONTENT, work))
    tried = cli("import-reviews", "laptop.csv", "--dry-run")
    assert tried.exit_code == 0, tried.output
    [said] = re.findall(r"\(`(studycli [^`]*)`\) imports it", " ".join(tried.stdout.split()))
    elsewhere = tmp_path / "else" / "where"  # (deeper: the relative content names none)
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    done = cli(*shlex.split(said)[1:])
    assert done.exit_code == 0, done.output
    with Store.open(work / "mine.sqlite3") as store:
        assert [review.card_id for review in store.reviews()] == ["add-one"]
    assert not Path("mine.sqlite3").exists()
