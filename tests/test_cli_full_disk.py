"""A disk that fills under a running `studycli review`, for real: the review database on a small
tmpfs of its own (mounted in a mount namespace of the session's own, so root only), filled
while a card is on screen, then freed, through a pseudo-terminal (pexpect)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

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
