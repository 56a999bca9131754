"""A disk that fills under a running `studycli review`, for real: the review database on a small
tmpfs of its own (mounted in a mount namespace of the session's own, so root only), filled
while a card is on screen, then freed, through a pseudo-terminal (pexpect)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pexpect
import pytest
from fsrs import Rating

from studycli.content.loader import load_content
from studycli.study.settings import Settings

from .conftest import FIXTURE_CONTENT, REPO_ROOT, reading_keys, terminal_env
from .study_support import NOW


def _can_mount_a_tmpfs() -> bool:
    """Whether this process may mount a tmpfs in a mount namespace of its own (root on Linux,
    with `unshare`; not in a container that refuses it)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs -o size=64k tmpfs /mnt"]  # fmt: skip
    return subprocess.run(probe, capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _can_mount_a_tmpfs(), reason="root on Linux, with unshare")


def _fill(folder: Path) -> Path:
    """Write a file into `folder` until its disk has no room left; the file."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(descriptor, b"\0" * 4096):
            pass
    except OSError:  # (ENOSPC)
        pass
    finally:
        os.close(descriptor)
    return filler


def _ratings(db: Path, folder: Path) -> list[tuple[int]]:
    """The ratings in the log of the database at `db`, read from a copy (its -wal too) in
    `folder`: SQLite follows /proc/PID/root back to this namespace's root."""
    folder.mkdir()
    for side in ("", "-wal"):
        if Path(f"{db}{side}").exists():
            shutil.copyfile(f"{db}{side}", folder / f"{db.name}{side}")
    conn = sqlite3.connect(folder / db.name)
    try:
        return conn.execute("SELECT rating FROM reviews").fetchall()
    finally:
        conn.close()


def test_a_rating_a_really_full_disk_refuses_keeps_the_card_and_its_key_saves_it_after(tmp_path):
    """README: a rating "that a full disk refused, is not lost: `review` keeps the card and its
    key tries again". On a real full disk SQLite's own error ("database or disk is full")
    escaped the session, which keeps the card for a StoreFull only: the session ended with
    the command's error, exit status 1 (a helper's test on a 600 KB tmpfs; the session test
    that raised a StoreFull by hand passed). Now the rating is said not saved, the card stays,
    and once there is room its key saves it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    config = tmp_path / "settings.toml"
    config.write_text("enable_fuzzing = false\n")
    db = disk / "reviews.sqlite3"
    command = 'mount -t tmpfs -o size=1m tmpfs "$1" && shift && exec "$@"'
    child = pexpect.spawn(
        "unshare",
        ["--mount", "--propagation", "private", "sh", "-c", command, "sh", str(disk),
         sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "review"],
        env=terminal_env(db, config, tmp_path / "home", NOW, COLUMNS="250"),
        cwd=str(REPO_ROOT), encoding="utf-8", timeout=60, dimensions=(50, 250),
    )  # fmt: skip
    try:
        child.expect("q quit")
        reading_keys(child)
        seen = Path(f"/proc/{child.pid}/root") / disk.relative_to("/")  # its tmpfs, from here
        child.send(" ")
        child.expect(r"4 +Easy")
        filler = _fill(seen)
        child.send("3")
        child.expect(rf"Good was not saved: the disk holding {db} is full; press 3 again")
        filler.unlink()
        child.send("3")
        child.expect("due again in")
        child.expect("q quit")  # the next card
        assert _ratings(seen / db.name, tmp_path / "copy") == [(3,)]
        child.send("q")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0 and "Traceback" not in (child.before or "")
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)


# Another process with the database open (its -shm file made, and kept), until it is killed.
_HOLD_OPEN = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
open(sys.argv[2], "w").close()
time.sleep(120)
"""


def _on_a_full_disk(
    tmp_path: Path,
    files: list[Path],
    commands: list[list[str]],
    held: bool = False,
    room: int = 0,
) -> list[str]:
    """Run each studycli command of `commands` (their `{db}` the copy) on a tmpfs of its own
    that holds a copy of `files` (a database and its side files) and is then filled; what
    each said (stdout and stderr) with its exit status, as `exit N` on its last line, and
    last the names of the files on the disk then (`filler` too), one a line.
    `held`: another process holds the copy open meanwhile (its -shm made before the fill).
    `room`: bytes freed after the fill (what is left is that, to a page)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    db = disk / files[0].name
    steps = [f'cp {" ".join(shlex.quote(str(f)) for f in files)} "$1"']
    if held:
        marker = shlex.quote(str(tmp_path / "held"))
        hold = shlex.join([sys.executable, "-c", _HOLD_OPEN, str(db)])
        steps.append(f"{hold} {marker} & holder=$!; while [ ! -e {marker} ]; do sleep 0.05; done")
    steps.append('dd if=/dev/zero of="$1/filler" bs=4096 2>/dev/null; df -k "$1" >&2')
    if room:
        steps.append(f'truncate -s -{room} "$1/filler"')
    for command in commands:
        argv = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), *command]
        steps.append(f'{shlex.join(argv).replace("{db}", str(db))} 2>&1; echo "exit $?"; echo ==')
    if held:
        steps.append('kill "$holder"')
    steps.append('ls -A "$1"; echo ==')
    script = 'mount -t tmpfs -o size=1m tmpfs "$1" || exit 9\n' + "\n".join(steps)
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(disk)],
        env=terminal_env(db, tmp_path / "settings.toml", tmp_path / "home", NOW),
        cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "Use%" in done.stderr and " 100% " in done.stderr, done
    return done.stdout.split("==\n")[:-1]  # (the commands', then the files')


def _rated(path: Path) -> None:
    from studycli.study.api import Study

    card = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    with Study.open(path, Settings(enable_fuzzing=False)) as study:
        for day in range(3):
            study.rate(card, Rating.Good, NOW - timedelta(days=3 - day))


def test_the_reading_commands_read_a_database_on_a_full_disk(tmp_path):
    """On a full disk every command failed, those that only read too: "the disk holding ...
    is full: free some space and run the command again (... what this command was saving was
    not saved)" from `due`, `stats`, `history`, an export to another disk, an import's dry
    run and the doctor's check. SQLite reads a WAL database through a -shm file it cannot
    grow there (SQLITE_IOERR_SHMSIZE); where the -wal holds nothing, the file holds every
    review, and it is read as it is (`immutable`), as on a read-only medium."""
    db = tmp_path / "reviews.sqlite3"
    _rated(db)
    exported = tmp_path / "exported.csv"  # (another disk)
    said = _on_a_full_disk(
        tmp_path,
        [db],
        [["due"], ["stats"], ["history"], ["export-reviews", str(exported)],
         ["import-reviews", "--dry-run", str(exported)], ["doctor"], ["doctor", "--dry-run"],
         ["undo"]],
    )  # fmt: skip
    *read, undo, _ = said
    assert [text.splitlines()[-1] for text in read] == ["exit 0"] * 7, said
    assert "bias-concept" in said[2] and "3 Good" in said[2]
    assert len(exported.read_text().splitlines()) == 4  # a header and 3 reviews
    assert "0 of 3" in said[4] and "every stored card state matches the log" in said[5]
    assert not any("full" in text or "Traceback" in text for text in read), said
    # a command that writes says what it says for a rating there
    assert undo.splitlines()[-1] == "exit 1" and "is full: free some space" in undo, undo
    assert "was not saved" in undo and "Traceback" not in undo


def test_a_reading_command_on_a_full_disk_that_cannot_read_the_wal_says_so_without_loss(
    tmp_path,
):
    """A -wal file that holds reviews is read only through a -shm file, which the full disk
    has no room for: the command says the disk is full and what to do, not that what it was
    saving was not saved (it saved nothing)."""
    from studycli.study.api import Study

    db = tmp_path / "reviews.sqlite3"
    _rated(db)
    copy = tmp_path / "copy"
    copy.mkdir()
    card = load_content(FIXTURE_CONTENT).cards["add-one"]
    with Study.open(db, Settings(enable_fuzzing=False)) as study:  # a session, still open
        study.rate(card, Rating.Good, NOW)  # in the -wal, not the file
        for side in ("", "-wal"):
            shutil.copyfile(f"{db}{side}", copy / f"{db.name}{side}")
    assert (copy / f"{db.name}-wal").stat().st_size > 0
    *said, _ = _on_a_full_disk(
        tmp_path, [copy / db.name, copy / f"{db.name}-wal"], [["history"], ["due"]]
    )
    for text in said:
        assert text.splitlines()[-1] == "exit 1" and "Traceback" not in text, said
        assert "the disk holding" in text and "is full" in text and "free some space" in text
        assert "not saved" not in text, text


def test_the_reading_commands_read_an_older_database_another_process_holds_on_a_full_disk(
    tmp_path,
):
    """A database of an older studycli, held open by another process (its -shm file made
    before the disk filled): a command that only reads went on to upgrade it and said "the
    disk ... is full: ... what this command was saving was not saved" (the upgrade, no room
    for it), or that its backup could not be written. It reads it through an upgraded copy
    in memory, as with no -shm file; a command that writes says the disk is full and how to
    make room, never "not saved"."""
    from studycli.study import migrations

    from .study_support import schema_of

    db = tmp_path / "reviews.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        schema_of(patch, migrations.MIGRATIONS[:-1])
        _rated(db)
    conn = sqlite3.connect(db)
    assert len(migrations.applied(conn)) == len(migrations.NAMES) - 1  # (one to upgrade)
    conn.close()
    *said, _ = _on_a_full_disk(tmp_path, [db], [["history"], ["stats"], ["undo"]], held=True)
    *read, undo = said
    assert [text.splitlines()[-1] for text in read] == ["exit 0"] * 2, said
    assert "3 Good" in read[0] and "3 reviews" in read[0], read
    assert "bias       1/2" in read[1], read[1]
    assert undo.splitlines()[-1] == "exit 1" and "is full" in undo, undo
    assert "free some space" in undo and "Traceback" not in undo
    assert not any("not saved" in text for text in said), said


def test_a_backup_with_no_room_for_its_side_files_leaves_none_of_them(tmp_path):
    """Room on the disk for the copy an upgrade keeps, not for the -shm file SQLite makes to
    set the copy's journal mode: the backup failed (a StoreFull: the reading command read on)
    and left its temporary copy's -wal and -shm files beside the database, a 20 KB -shm on
    the full disk, this user's, until a later backup succeeded (a reviewer's finding on a
    real tmpfs). It leaves none of its files."""
    from studycli.study import migrations

    from .study_support import schema_of

    db = tmp_path / "reviews.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        schema_of(patch, migrations.MIGRATIONS[:-1])
        _rated(db)
    room = db.stat().st_size + 16384  # the copy, and less than its -shm file
    *said, files = _on_a_full_disk(tmp_path, [db], [["history"]], held=True, room=room)
    assert said[0].splitlines()[-1] == "exit 0" and "3 Good" in said[0], said
    assert not any(".tmp" in name for name in files.split()), files
