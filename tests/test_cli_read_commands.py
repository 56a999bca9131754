"""What the commands that only read the review database do to it: they leave its folder as
they found it (no -wal or -shm file made and left), and a writer in another process goes on
writing meanwhile. Real SQLite files, the writer a real process."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studycli.study import busy
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT
from .test_study_database import rated_database

SIDE_FILES = ("-wal", "-shm")


def _side_files(path: Path) -> list[str]:
    return [suffix for suffix in SIDE_FILES if Path(f"{path}{suffix}").exists()]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# commands that read the database, each run on a card the fixture deck has
READS = [
    ("show", "bias-concept"),
    ("show", "no-such-card"),  # (exit 1: an unknown id looks for the reviews kept of it)
    ("due",),
    ("stats",),
    ("history",),
    ("list", "--edited"),
    ("list", "--leeches"),
    ("export-reviews", "-"),
    ("optimize",),  # (exit 1: too few reviews to fit)
]


@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_a_read_leaves_no_side_files_beside_a_wal_database(cli, tmp_path, command):
    """`show` opened the database read-only (as it is, nothing written), and SQLite's read-only
    connection makes the -wal and -shm files of a WAL database and leaves them: empty files in
    the learner's data folder after a command that only showed a card. The file itself is not
    written either."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    assert _side_files(path) == []  # (closed by its last connection: none left)
    before = _digest(path)
    cli("--content", FIXTURE_CONTENT, "--db", path, *command)
    assert _side_files(path) == [], command
    assert _digest(path) == before


@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_a_read_makes_no_side_files_beside_a_database_it_cannot_write(cli, tmp_path, command):
    """Another user's database in a folder this one can write: SQLite's read-only connection
    made its -wal and -shm files, this user's, and left them (they are removed by a connection
    that can write the file, which this user has not), and the owner's next write failed on
    them ("cannot write reviews.sqlite3-wal"). The read makes none; it reads what it read."""
    from .test_study_database import unwritable

    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    readable = cli("--content", FIXTURE_CONTENT, "--db", path, *command)
    assert _side_files(path) == []
    with unwritable(path):  # (as root, immutable: root writes any other user's file)
        read = cli("--content", FIXTURE_CONTENT, "--db", path, *command)
        assert _side_files(path) == [], command
    assert (read.exit_code, read.stdout) == (readable.exit_code, readable.stdout), read.output


@pytest.mark.parametrize(
    "command", [("show", "no-such-card"), ("export-reviews", "-")], ids=" ".join
)
def test_a_read_that_meets_a_damaged_database_leaves_no_side_files(cli, tmp_path, command):
    """A reading command that met a damaged WAL database removed the -wal and -shm files its
    read made, then had SQLite's integrity check say whether the file is damaged (to word the
    error), through a read-only connection of its own, which made them again and left them."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    with path.open("r+b") as file:  # (its third and fourth pages: the header still reads)
        file.seek(3 * 4096)
        file.write(b"\xff" * 8192)
    before = _digest(path)
    read = cli("--content", FIXTURE_CONTENT, "--db", path, *command)
    assert read.exit_code == 1, read.output
    assert _side_files(path) == [], command
    assert _digest(path) == before


WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("SELECT COUNT(*) FROM cards").fetchone()  # open: the -wal and -shm in use
print("open", flush=True)
sys.stdin.readline()
conn.execute("UPDATE cards SET suspended = 1")
print(conn.execute("SELECT COUNT(*) FROM cards WHERE suspended = 1").fetchone()[0], flush=True)
sys.stdin.readline()  # (open until told: what it wrote is in its -wal alone meanwhile)
"""


def test_a_read_leaves_the_side_files_a_writer_opened_meanwhile(tmp_path):
    """A database with no -wal or -shm file, read as it is (`show`'s reading): another process
    opens it meanwhile (a review in another terminal), the files the read made now its own
    too. Closing the read leaves them to it, and what it writes afterwards is read by every
    other connection: with them deleted under it, it would write into files no other
    connection opens, its ratings unseen and then lost."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    reading = Store.open(path, write=False, as_is=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdin is not None and writer.stdout is not None
    try:
        assert writer.stdout.readline().strip() == "open"
        reading.close()
        assert _side_files(path) == list(SIDE_FILES)
        writer.stdin.write("\n")
        writer.stdin.flush()
        written = int(writer.stdout.readline())
        with sqlite3.connect(path) as conn:  # (while the writer has it open)
            (seen,) = conn.execute("SELECT COUNT(*) FROM cards WHERE suspended = 1").fetchone()
        conn.close()
        writer.communicate("\n", timeout=30)
    finally:
        writer.kill()
    assert written > 0 and seen == written


HOLD_EXCLUSIVE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")  # (a rollback journal: no other connection reads meanwhile)
print("holding", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@pytest.mark.parametrize("card", ["bias-concept", "no-such-card"])
def test_show_waits_briefly_for_a_database_another_process_keeps_from_being_read(
    cli, tmp_path, monkeypatch, card
):
    """An older database (a rollback journal, not WAL) that another process holds under BEGIN
    EXCLUSIVE (a `sqlite3` shell left open): `show` waited the whole busy timeout (30 s) for
    the flags above the card, or for the reviews kept of an unknown id, which it then did
    without all the same. It waits `busy.BRIEF_WAIT`, shows the card, and says the flags are
    left out and why (of an unknown id, the error alone)."""
    path = tmp_path / "reviews.sqlite3"
    _older_database(path)
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 6.0)  # (before the fix, each waited this long)
    monkeypatch.setattr(busy, "on_wait", None)  # (the command sets it: restored after)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_EXCLUSIVE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        shown = cli("--content", FIXTURE_CONTENT, "--db", path, "show", card)
        took = time.monotonic() - started
    finally:
        holder.communicate("\n", timeout=30)
    assert took < busy.BRIEF_WAIT + 2.5, took
    said = " ".join(shown.stderr.split())
    if card == "no-such-card":
        assert shown.exit_code == 1 and said.startswith(f"error: no card with id '{card}'"), said
        assert "busy" not in said and "waiting" not in said, said
        return
    assert shown.exit_code == 0, shown.output
    assert "Why a neuron needs a bias" in shown.stdout
    assert said.startswith(
        "note: without the flags `review` shows (edited, leech): the review database is busy: "
        f"process {holder.pid} ("
    ), said
    assert said.endswith(f"kept it locked for {busy.BRIEF_WAIT:g} s"), said


def _older_database(path: Path) -> None:
    """A database as an older studycli kept it: a rollback journal, not WAL."""
    rated_database(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    conn.close()


@pytest.mark.parametrize("card", ["bias-concept", "no-such-card"])
def test_show_writes_nothing_to_an_older_database(cli, tmp_path, card):
    """`show` of an unknown id looked for the reviews kept of it through a connection that
    can write, which switched an older database to WAL (and would have upgraded an older
    schema, a backup beside it): an error message that changed the learner's file. It reads
    it as it is, as the flags above a card are read."""
    path = tmp_path / "reviews.sqlite3"
    _older_database(path)
    before = _digest(path)
    shown = cli("--content", FIXTURE_CONTENT, "--db", path, "show", card)
    assert shown.exit_code == (1 if card == "no-such-card" else 0), shown.output
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
