"""The commands studycli gives to run later (`cli/again.py`), pasted into a shell in another
folder: they reach the database, the attempt file, the settings and the content the command
that said them used, whatever it found from its own folder (a relative STUDYCLI_HOME or
STUDYCLI_CONFIG, content found from the current folder); and the paths it says are absolute.
Through real processes, each command said run by `sh -c` as a learner pastes it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT
from .study_support import NOW

CORRECT = "def add_one(x):\n    return x + 1\n"


def pasting(tmp_path: Path, **variables: str) -> dict[str, str]:
    """An environment with `studycli` on PATH (this Python's, this checkout's), a fixed clock
    (`NOW`), and `variables` (relative paths, read from whichever folder a command runs in)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "studycli"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m studycli "$@"\n')
    shim.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    clock = {"STUDYCLI_NOW": NOW.isoformat(), "TZ": "UTC"}
    return {**os.environ, "PATH": path, **clock, **variables}


def studycli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["studycli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def pasted(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` as a learner runs it, pasted into a shell in the folder `cwd`."""
    return subprocess.run(
        ["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def a_work_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A content folder to run in (found from the current folder: no --content), with a
    space in its name (the commands are pasted into a shell), and another folder."""
    work = tmp_path / "my work"
    shutil.copytree(FIXTURE_CONTENT, work)
    elsewhere = tmp_path / "else" / "where"  # (deeper: a relative path above names none)
    elsewhere.mkdir(parents=True)
    return work, elsewhere


def test_a_dry_run_s_command_imports_into_its_home_with_its_settings_and_content(tmp_path):
    """With a relative STUDYCLI_HOME (`STUDYCLI_HOME=home studycli ...`), the database's path
    was said relative ("no review database at home/data/reviews.sqlite3"), and the command
    a dry run said to run, pasted in another folder with the variable still set, imported into
    a new database there, with that home's settings, and read the installed content, not the
    content the dry run found in its folder. The paths are said absolute; the command gives
    the home, the settings and the content folder again, and imports into the database read."""
    work, elsewhere = a_work_folder(tmp_path)
    (work / "laptop.csv").write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "add-one,3,2025-02-28T10:00:00+00:00,900\n"
    )
    (work / "mine.toml").write_text("desired_retention = 0.8\n")
    env = pasting(tmp_path, STUDYCLI_HOME="home", STUDYCLI_CONFIG="mine.toml")
    here = work.resolve()
    database = here / "home" / "data" / "reviews.sqlite3"

    doctor = studycli(work, env, "doctor")
    assert doctor.returncode == 0, doctor.stderr
    assert f"no review database at {database} yet" in doctor.stdout, doctor.stdout

    tried = studycli(work, env, "import-reviews", "laptop.csv", "--dry-run")
    assert tried.returncode == 0, tried.stderr
    assert "desired_retention 0.8" in tried.stdout, tried.stdout
    [said] = re.findall(r"\(`([^`]*)`\) imports it", tried.stdout)
    done = pasted(said, elsewhere, env)
    assert done.returncode == 0, done.stderr
    assert "desired_retention 0.8" in done.stdout, done.stdout  # (the settings read)
    with Store.open(database) as store:
        assert [review.card_id for review in store.reviews()] == ["add-one"]
    assert not (elsewhere / "home").exists(), done.stdout
    assert shlex.split(said) == [
        f"STUDYCLI_HOME={here / 'home'}",
        f"STUDYCLI_CONFIG={here / 'mine.toml'}",
        "studycli",
        "--content",
        str(here),
        "import-reviews",
        str(here / "laptop.csv"),
    ]


def test_a_solve_s_command_checks_the_attempt_in_its_home_from_another_folder(tmp_path):
    """A solve run in a content folder with a relative STUDYCLI_HOME said "your attempt
    stays in home/data/attempts/add-one.py", and its command, pasted in another folder, looked
    for the attempt in another home (and found the installed content, without the card): it
    wrote a new starter there. The attempt is said absolute, and the command checks it and
    records in the same database."""
    work, elsewhere = a_work_folder(tmp_path)
    env = pasting(tmp_path, STUDYCLI_HOME="home", EDITOR="true")
    here = work.resolve()

    first = studycli(work, env, "solve", "add-one", "--no-edit")
    assert first.returncode == 1, first.stderr
    stays = re.search(r"your attempt stays in (.*): `([^`]*)` checks it again", first.stdout)
    assert stays is not None, first.stdout
    attempt, said = Path(stays[1]), stays[2]
    assert attempt == here / "home" / "data" / "attempts" / "add-one.py"
    attempt.write_text(CORRECT)
    again = pasted(said, elsewhere, env)
    assert again.returncode == 0, again.stdout + again.stderr
    with Store.open(here / "home" / "data" / "reviews.sqlite3") as store:
        assert [(review.card_id, review.rating) for review in store.reviews()] == [("add-one", 3)]
    assert not (elsewhere / "home").exists(), again.stdout


def test_the_export_a_database_given_to_import_says_works_from_another_folder(tmp_path):
    """`import-reviews laptop.sqlite3` (a review database copied over, not its log) said to
    run `studycli --db laptop.sqlite3 export-reviews laptop.sqlite3.csv`, the path as typed:
    pasted in another folder, it wrote 0 reviews of no database there. The command names the
    database and the log absolute; run from another folder, it exports the database's history,
    which the import then takes."""
    work, elsewhere = a_work_folder(tmp_path)
    env = pasting(tmp_path, STUDYCLI_HOME=str(tmp_path / "home"))
    laptop = {**env, "STUDYCLI_HOME": str(tmp_path / "laptop")}
    (work / "log.csv").write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "add-one,3,2025-02-28T10:00:00+00:00,900\n"
    )
    assert studycli(work, laptop, "import-reviews", "log.csv").returncode == 0
    shutil.copy(tmp_path / "laptop" / "data" / "reviews.sqlite3", work / "laptop.db")

    refused = studycli(work, env, "import-reviews", "laptop.db")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    said = " ".join(refused.stderr.split())
    export = re.search(r"\(`(studycli --db .+ export-reviews (.+))`\) and give \2 instead", said)
    assert export is not None, said
    done = pasted(export[1], elsewhere, env)
    assert done.returncode == 0, done.stdout + done.stderr
    imported = pasted(f"studycli import-reviews {export[2]}", elsewhere, env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    with Store.open(tmp_path / "home" / "data" / "reviews.sqlite3") as store:
        assert [review.card_id for review in store.reviews()] == ["add-one"]
    assert shlex.split(export[2]) == [f"{work.resolve() / 'laptop.db'}.csv"]


def test_a_dry_run_in_a_removed_folder_with_a_relative_config_says_its_command(tmp_path):
    """A relative STUDYCLI_CONFIG in a folder that was removed (the shell still in it) names
    no file, and the import read the defaults, as it did before the variable was given again;
    the dry run's summary, which gives it again, ended in a traceback (FileNotFoundError: no
    current folder to make it absolute from). It is given again as it was."""
    work, _ = a_work_folder(tmp_path)
    log = work / "laptop.csv"
    log.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "add-one,3,2025-02-28T10:00:00+00:00,900\n"
    )
    env = pasting(tmp_path, STUDYCLI_HOME=str(tmp_path / "home"), STUDYCLI_CONFIG="mine.toml")
    gone = tmp_path / "gone"
    gone.mkdir()
    command = shlex.join(["studycli", "--content", str(work), "import-reviews", str(log)])
    tried = pasted(f"cd gone && rmdir ../gone && {command} --dry-run", tmp_path, env)
    assert tried.returncode == 0, tried.stderr
    said = " ".join(tried.stdout.split())
    assert f"(`STUDYCLI_CONFIG=mine.toml {command}`) imports it" in said, said
