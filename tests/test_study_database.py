"""Opening the review database under pressure: other processes holding it, many processes
creating it at once, damage, files of other programs or a newer studycli, folders that cannot
be written, and a backup before every migration. Real processes and real SQLite files.

The rule under test: busy is waited for and, past the timeout, called busy; only a file that
`PRAGMA integrity_check` finds damaged is called damaged and advised to be moved aside."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from studycli.errors import StoreError, WaitInterrupted
from studycli.study import backups, busy, database, migrations, read_only, side_files, sqlite_errors
from studycli.study import rating as core
from studycli.study.api import Study
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT
from .study_support import NO_FUZZ, NOW, damage, fixture_content, hold_write_lock, schema_of

ADVICE_TO_MOVE = ("mv ", "move it aside", "damaged", "corrupt")


def rated_database(path: Path, ratings: int = 3) -> None:
    content = fixture_content()
    with Store.open(path) as store:
        for i in range(ratings):
            core.rate(store, content.get("bias-concept"), 3, NOW + timedelta(days=i), NO_FUZZ)


# --- busy is busy --------------------------------------------------------------------------


def test_a_new_database_being_created_by_another_process_is_waited_for(tmp_path):
    """A second process switching a new file to WAL while the first holds its write lock got
    "database is locked" at once (SQLite does not wait there), reported as corrupt."""
    path = tmp_path / "reviews.sqlite3"
    holder = hold_write_lock(path, 1.5)
    started = time.monotonic()
    with Store.open(path) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
    assert time.monotonic() - started > 0.5  # it waited for the holder
    holder.communicate(timeout=30)
    assert holder.returncode == 0


OPEN_AT = """
import sys, time
from pathlib import Path
from studycli.errors import StoreError
from studycli.study.store import Store
start = float(sys.argv[2])
while time.time() < start:
    pass
try:
    with Store.open(Path(sys.argv[1])):
        print("ok")
except StoreError as exc:
    print("error:", exc)
"""


def test_processes_creating_one_database_at_the_same_moment_all_open_it(tmp_path):
    results = []
    for round_ in range(3):
        path = tmp_path / f"reviews-{round_}.sqlite3"
        start = time.time() + 1.0
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT, str(path), str(start)],
                stdout=subprocess.PIPE,
                text=True,
                cwd=REPO_ROOT,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            )
            for _ in range(5)
        ]
        results += [opener.communicate(timeout=60)[0].strip() for opener in openers]
        with Store.open(path) as store:
            assert migrations.applied(store.conn) == migrations.NAMES  # each once
    assert results == ["ok"] * 15


def test_a_database_busy_past_the_timeout_is_called_busy_never_damaged(cli, tmp_path, monkeypatch):
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.5)
    holder = hold_write_lock(path, 10)
    try:
        result = cli("--content", FIXTURE_CONTENT, "--db", path, "suspend", "add-one")
    finally:
        holder.kill()
        holder.communicate()
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert "is busy" in message and str(path) in message and "run the command again" in message
    assert not any(advice in message for advice in ADVICE_TO_MOVE), message
    assert "Traceback" not in result.output


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="the system lists no file locks")
def test_a_database_busy_past_the_timeout_names_the_process_that_holds_it(
    cli, tmp_path, monkeypatch
):
    """The busy message said "another studycli command (or another program)": a learner with
    a forgotten `sqlite3` shell (BEGIN EXCLUSIVE) in another terminal had nothing to look for
    (an audit). It names the process holding the lock, with its command line."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.3)
    holder = hold_write_lock(path)
    try:
        result = cli("--content", FIXTURE_CONTENT, "--db", path, "suspend", "add-one")
    finally:
        holder.communicate("\n", timeout=30)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1
    # (the holder's command line, `python -c SCRIPT ...`, cut to its first 80 characters; the
    # interpreter as it was started: `python` in a virtual environment, `python3.11` elsewhere)
    started = os.path.basename(sys.executable)
    assert f"the review database {path} is busy: process {holder.pid} ({started} -c " in said, said
    assert "...) kept it locked for 0.3 s" in said, said
    assert "run the command again" in said


def test_a_lock_whose_holder_the_system_numbers_0_names_no_process(tmp_path, monkeypatch):
    """/proc/locks says pid 0 for a lock whose holder is in no PID namespace the reader sees
    (another container's program, through a shared folder) or is gone, and -1 for an open
    file's lock (OFD): the busy message said "process 0" kept it locked, naming none. Such a
    holder is unknown; one that is known is still named; lines of other shapes are passed."""
    from studycli.study import lock_holders

    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    key = lock_holders._file_key(path)
    table = tmp_path / "locks"
    lines = [
        f"1: POSIX  ADVISORY  WRITE 0 {key} 1073741825 1073741825",
        f"2: OFDLCK ADVISORY  WRITE -1 {key} 0 EOF",
        "3: FLOCK  ADVISORY  WRITE",
        f"4: -> POSIX  ADVISORY  WRITE 77 {key} 0 EOF",
    ]
    table.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(lock_holders, "LOCKS", table)
    assert lock_holders.holders(path) == []
    parent = os.getppid()
    table.write_text(f"{lines[0]}\n5: POSIX  ADVISORY  WRITE {parent} {key} 0 EOF\n")
    assert [pid for pid, _ in lock_holders.holders(path)] == [parent]


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="the system lists no file locks")
def test_a_lock_on_a_range_that_covers_the_write_byte_names_its_holder(tmp_path):
    """A lock of the -shm file from byte 0 to its end, or over 119 to 121, holds SQLite's
    write byte (120) as surely as a lock of that byte alone (the system merges a process's
    adjacent locks of one kind into one range: the writer's 120 and the checkpointer's 121
    read as "120 121"), but only a lock starting on 120 was matched: its holder went
    unnamed. One that covers it is matched; one that stops short of it, or starts past it,
    is not."""
    from studycli.study import lock_holders

    path = tmp_path / "reviews.sqlite3"
    path.touch()
    shm = tmp_path / "reviews.sqlite3-shm"
    shm.write_bytes(bytes(32768))
    expected = {(0, 0): True, (119, 3): True, (120, 2): True, (100, 20): False, (121, 5): False}
    found = {}
    for start, length in expected:
        holder = fcntl_lock_holder(shm, start, length)
        try:
            found[start, length] = holder.pid in [pid for pid, _ in lock_holders.holders(path)]
        finally:
            holder.communicate("\n", timeout=30)
    assert found == expected


FCNTL_HOLD = """
import fcntl, sys
with open(sys.argv[1], "r+b") as handle:
    fcntl.lockf(handle, fcntl.LOCK_EX, int(sys.argv[3]), int(sys.argv[2]))
    print("holding", flush=True)
    sys.stdin.readline()
"""


def fcntl_lock_holder(file: Path, start: int, length: int) -> subprocess.Popen:
    """Another process holding a write lock (fcntl, as SQLite takes its own) on `length`
    bytes of `file` from `start` (0: to its end), until told to let go."""
    holder = subprocess.Popen(
        [sys.executable, "-c", FCNTL_HOLD, str(file), str(start), str(length)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_wait_for_another_process_is_told_once_it_lasts(tmp_path, monkeypatch):
    """A write behind another process's lock: `on_wait` hears of it once the wait has lasted
    `WAIT_NOTICE_AFTER` (the command line says so on stderr), once, and the write goes
    through when the lock is let go; a write that does not wait tells nothing."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    told: list[Path] = []
    monkeypatch.setattr(busy, "on_wait", lambda path, who: told.append(path))
    monkeypatch.setattr(busy, "WAIT_NOTICE_AFTER", 0.2)
    with Store.open(path) as store:
        with store.transaction() as conn:
            conn.execute("UPDATE cards SET suspended = 0")
        assert told == []
        holder = hold_write_lock(path, 1.0)
        try:
            with store.transaction() as conn:
                conn.execute("UPDATE cards SET suspended = 1")
        finally:
            holder.communicate()
        assert told == [path]
        assert store.suspended() == {"bias-concept"}


def test_a_ctrl_c_ends_a_wait_for_another_process_at_once_writing_nothing(tmp_path, monkeypatch):
    """A Ctrl-C while a write waits behind another process's lock: SQLite's own wait (the
    busy timeout) sleeps where Python sees no signal, and the Ctrl-C was answered only when
    the lock was let go or the wait was over (an audit: 18 s in a review session behind
    another terminal's import). It ends the wait within a moment, as WaitInterrupted (a
    KeyboardInterrupt), with nothing written and no transaction left open."""
    import signal

    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 3.0)  # (before the fix: the Ctrl-C came after it)
    with Store.open(path) as store:
        before = store.suspended()
        holder = hold_write_lock(path)
        ctrl_c = threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,))
        stopped: BaseException | None = None
        try:
            started = time.monotonic()
            ctrl_c.start()
            with store.transaction() as conn:
                conn.execute("UPDATE cards SET suspended = 1 - suspended")
        except (KeyboardInterrupt, StoreError) as exc:
            stopped = exc
        finally:
            waited = time.monotonic() - started
            ctrl_c.cancel()
            holder.communicate("\n", timeout=30)
        assert isinstance(stopped, WaitInterrupted) and waited < 2, (stopped, waited)
        assert not store.conn.in_transaction
        assert store.suspended() == before


@pytest.mark.parametrize("write", [True, False], ids=["writes", "reads"])
def test_a_ctrl_c_ends_a_wait_to_open_a_database_nothing_can_read(tmp_path, monkeypatch, write):
    """Another program keeping the database from being read at all (an exclusive locking
    mode): a command's opening waited in SQLite, where a Ctrl-C was seen only once the wait
    was over (an audit: 13.6 s of `review` and `stats`). It ends the wait within a moment."""
    import signal

    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 3.0)  # (before the fix: the Ctrl-C came after it)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE cards SET suspended = suspended")  # (the lock taken now)
    ctrl_c = threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,))
    stopped: BaseException | None = None
    started = time.monotonic()
    try:
        ctrl_c.start()
        Store.open(path, write=write).close()
    except (KeyboardInterrupt, StoreError) as exc:
        stopped = exc
    finally:
        waited = time.monotonic() - started
        ctrl_c.cancel()
        holder.execute("ROLLBACK")
        holder.close()
    assert isinstance(stopped, KeyboardInterrupt) and waited < 2, (stopped, waited)


def test_the_doctor_waits_once_for_a_database_another_program_keeps_locked(
    cli, tmp_path, monkeypatch
):
    """Another program holding the database so that nothing reads it (an exclusive locking
    mode, or a rollback journal, under BEGIN EXCLUSIVE): the doctor's read-only opening gave
    up after the wait, then it opened the file again and waited as long again, saying "up to
    30 s" twice (an audit: 46 s). It waits once, and says the database is busy."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 1.0)
    monkeypatch.setattr(busy, "WAIT_NOTICE_AFTER", 0.1)
    monkeypatch.setattr(busy, "on_wait", None)  # (the command sets it: restored after)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE cards SET suspended = suspended")  # (the lock taken now)
    try:
        result = cli("--content", FIXTURE_CONTENT, "--db", path, "doctor", "--dry-run")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert said.count("waiting for the review database") == 1, said
    assert f"the review database {path} is busy" in said and "run the command again" in said


def _suspended_behind_a_lock(cli, tmp_path, monkeypatch):
    """`suspend` run while another process holds the write lock until the command has said,
    after 0.2 s, that it waits: the database's path, the holder (a finished process) and the
    command's result. (A holder that let go after 1 s was gone before the command, started
    in a CI run at load 8, had looked: it never waited, and said nothing.)"""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(busy, "on_wait", None)  # (the command sets it: restored after)
    monkeypatch.setattr(busy, "WAIT_NOTICE_AFTER", 0.2)
    holder = hold_write_lock(path)
    tell = busy._tell

    def told_then_let_go(*args):
        tell(*args)
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()

    monkeypatch.setattr(busy, "_tell", told_then_let_go)
    try:
        result = cli("--content", FIXTURE_CONTENT, "--db", path, "suspend", "add-one")
    finally:
        holder.communicate()
    return path, holder, result


def test_a_command_waiting_for_the_database_says_so_and_then_writes(cli, tmp_path, monkeypatch):
    """`suspend` behind another process's write (an import runs for as long as it takes):
    it says on stderr that it waits and for how long at most, then does its work (it sat
    silent for up to 30 s)."""
    path, _, result = _suspended_behind_a_lock(cli, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert f"waiting for the review database {path}: " in said and "is using it" in said
    assert "up to 30 s" in said
    with Store.open(path) as store:
        assert store.suspended() == {"add-one"}


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="the system lists no file locks")
def test_the_waiting_line_names_the_process_that_holds_the_database(cli, tmp_path, monkeypatch):
    """The line said while a command waits for another process's lock named no one ("another
    studycli command (or another program)"); only the busy message, 30 s later, named the
    holder. It names it as the wait begins, with its command line."""
    path, holder, result = _suspended_behind_a_lock(cli, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    started = os.path.basename(sys.executable)
    waiting = f"waiting for the review database {path}: process {holder.pid} ({started} -c "
    assert waiting in said, said
    assert "...) is using it; up to 30 s" in said, said


def test_a_rating_reads_the_state_inside_its_write_transaction(tmp_path):
    """Two sessions rating one card at the same moment: the second builds on the first."""
    path = tmp_path / "reviews.sqlite3"
    card = fixture_content().get("add-one")
    done = []

    def rate_in_another_session() -> None:
        with Store.open(path) as second:
            done.append(core.rate(second, card, 4, NOW + timedelta(seconds=1), NO_FUZZ))

    with Store.open(path) as first:
        with first.transaction():
            core.rate(first, card, 3, NOW, NO_FUZZ)
            racer = threading.Thread(target=rate_in_another_session)
            racer.start()
            time.sleep(0.5)  # the racer is waiting for the write lock now
        racer.join(timeout=60)
        [late] = done
        early = first.reviews(oldest_first=True)[0]
        assert late.state_before is not None and late.state_before.fsrs == early.state_after
        assert core.rebuild(first) == first.states()


# --- damaged, foreign or newer files -------------------------------------------------------


def test_damage_found_while_in_use_is_confirmed_by_the_integrity_check(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    rated_database(path, ratings=300)
    damage(path)
    with pytest.raises(StoreError) as caught, Store.open(path) as store:
        store.reviews()
    message = str(caught.value)
    assert "damaged" in message and f"mv '{path}'" in message and "--db" in message


def test_damage_names_a_backup_only_where_one_lies_beside_the_file(tmp_path):
    """It said "restore a backup (reviews.sqlite3.before-*.bak next to it)" beside a file that
    had none, while doctor said there was none."""

    def message() -> str:
        with pytest.raises(StoreError) as caught, Store.open(path) as store:
            store.reviews()
        return " ".join(str(caught.value).split())

    path = tmp_path / "reviews.sqlite3"
    rated_database(path, ratings=300)
    damage(path)
    assert "restore a backup" not in message() and "first run `studycli doctor`" in message()
    kept = backups.backup_path(path, "0003_indexes")
    kept.write_bytes(b"a backup")
    assert f"or to restore a backup ({kept.name} next to it)" in message()


def test_an_error_on_an_intact_file_never_advises_moving_it(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    with pytest.raises(StoreError) as caught, Store.open(path):
        raise sqlite3.DatabaseError("database disk image is malformed")
    message = str(caught.value)
    assert "integrity check passes" in message
    assert not any(advice in message for advice in ("mv ", "move it aside")), message


def test_a_foreign_sqlite_file_is_refused_without_advice_to_move_it(tmp_path):
    path = tmp_path / "notes.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert "another program" in str(caught.value) and "mv " not in str(caught.value)


def test_the_cli_refuses_a_database_of_a_newer_studycli_in_one_line(cli, tmp_path):
    path = tmp_path / "reviews.sqlite3"
    with Store.open(path) as store:
        store.conn.execute("INSERT INTO migrations VALUES ('9999_future', 'x')")
    result = cli("--content", FIXTURE_CONTENT, "--db", path, "due")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "newer studycli" in lines[0]
    assert "pip install -U studycli" in lines[0] and "git pull" in lines[0]
    assert "export-reviews" in lines[0] and "Traceback" not in result.output


@pytest.mark.parametrize(
    "command", [["history"], ["due", "--json"], ["stats", "--json"], ["doctor", "--dry-run"]]
)
def test_an_older_schema_reads_as_it_is(cli, tmp_path, monkeypatch, command):
    """Above `COPY_AT_MOST` an older database that must not be upgraded is read as it is (a
    copy of 400 MB in memory took 1.5 s and 445 MB each command): what the reading commands
    read must read the same on the first schema as on an upgraded copy."""
    made = tmp_path / "made" / "reviews.sqlite3"
    made.parent.mkdir()
    first_schema_database(made, monkeypatch)
    backup = backups.backup(made, backups.backup_path(tmp_path / "reviews.sqlite3", "x"))
    through_a_copy = cli("--content", FIXTURE_CONTENT, "--db", backup, *command)
    monkeypatch.setattr(database, "COPY_AT_MOST", 0)
    as_it_is = cli("--content", FIXTURE_CONTENT, "--db", backup, *command)
    assert through_a_copy.exit_code == as_it_is.exit_code == 0, as_it_is.output
    assert as_it_is.stdout == through_a_copy.stdout != ""


def test_a_database_of_a_newer_studycli_names_the_copy_it_kept_from_before(cli, tmp_path):
    """The newer studycli kept the file as it was before its upgrade: this one can open that."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    kept = backups.backup(path, backups.backup_path(path, "9999_future"))
    with Store.open(path) as store:
        store.conn.execute("INSERT INTO migrations VALUES ('9999_future', 'x')")
    result = cli("--content", FIXTURE_CONTENT, "--db", path, "due")
    assert result.exit_code == 1 and f"open {kept.name} next to it" in result.stderr
    assert cli("--content", FIXTURE_CONTENT, "--db", kept, "history").exit_code == 0


# --- folders that cannot be written --------------------------------------------------------


def test_a_db_path_in_a_folder_that_does_not_exist_is_refused_not_made(cli, tmp_path):
    """`--db ~/studdy/reviews.sqlite3` (a typo) made the folder and a new, empty database in
    it, and the rating went there. The default database's folder is still made (above)."""
    typo = tmp_path / "studdy" / "deeper" / "reviews.sqlite3"
    result = cli("--content", FIXTURE_CONTENT, "--db", typo, "suspend", "add-one")
    assert result.exit_code == 1 and "Traceback" not in result.output
    said = " ".join(result.stderr.split())
    assert f"{typo} (--db or STUDYCLI_DB) is in a folder that does not exist" in said
    assert f"mkdir -p {typo.parent}" in said
    assert not (tmp_path / "studdy").exists()
    read = cli("--content", FIXTURE_CONTENT, "--db", typo, "due")  # (it read none, exit 0)
    assert read.exit_code == 1 and "is in a folder that does not exist" in read.stderr
    typo.parent.mkdir(parents=True)
    assert cli("--content", FIXTURE_CONTENT, "--db", typo, "suspend", "add-one").exit_code == 0
    assert typo.is_file()


@pytest.mark.parametrize(
    "command",
    [["--db", "{}/reviews.sqlite3", "suspend", "add-one"], ["export-reviews", "{}/out.csv"]],
)
def test_the_mkdir_a_missing_folder_is_told_to_run_makes_it_whatever_its_name(
    cli, tmp_path, command
):
    """The fix is a command to paste into a shell: a folder with a space in its name was
    written unquoted (`mkdir -p /x/my notes`), which makes `/x/my` and `./notes`."""
    missing = tmp_path / "my notes" / "deeper"
    result = cli("--content", FIXTURE_CONTENT, *(word.format(missing) for word in command))
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "mkdir -p" in said, said
    told = re.search(r"mkdir -p (.+?)(?:\)|, or)", said)
    assert told, said
    subprocess.run(["sh", "-c", f"mkdir -p {told[1]}"], cwd=tmp_path, check=True)
    assert missing.is_dir()
    assert (
        cli("--content", FIXTURE_CONTENT, *(word.format(missing) for word in command)).exit_code
        == 0
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes as POSIX has them")
@pytest.mark.parametrize("command", ["due", "doctor", "suspend add-one"])
def test_a_db_path_that_is_a_named_pipe_is_refused_at_once(tmp_path, command):
    """`--db` at a named pipe (a FIFO; `--db <(...)` gives one): SQLite opened it and read
    from it for ever, and after a second the command said "another studycli command (or
    another program) is using it", which no other ever was. (The timeout only stops the
    command that hangs: a refusal takes well under a second.)"""
    pipe = tmp_path / "reviews.sqlite3"
    os.mkfifo(pipe)
    done = subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "--db", str(pipe),
         *command.split()],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"the review database {pipe} is a named pipe, not a file" in said
    assert "using it" not in said


@pytest.mark.skipif(not Path("/dev/null").is_char_device(), reason="no /dev/null")
def test_a_db_path_linked_to_a_device_is_refused_without_writing_beside_it(tmp_path):
    """`--db` at a link to /dev/null: every command said "failed (disk I/O error), but its
    integrity check passes: ... run the command again", the doctor that another program had
    dropped the cards table, and SQLite made /dev/null-journal where it could (as root)."""
    link = tmp_path / "reviews.sqlite3"
    link.symlink_to("/dev/null")
    journal = Path("/dev/null-journal")
    there = journal.exists()
    for write in (True, False):
        with pytest.raises(StoreError) as error:
            Store.open(link, write=write)
        said = str(error.value)
        assert said.startswith(f"the review database {link} is a device (/dev/null), not a file")
        assert "run the command again" not in said
    assert journal.exists() == there


def test_a_db_path_linked_into_a_missing_folder_is_one_line_naming_that_folder(cli, tmp_path):
    """SQLite cannot even open the file (its folder, behind the link, is not there): the one
    path where `sqlite3.connect` itself fails, even as root, whose explanation database.py
    imports only then."""
    link = tmp_path / "reviews.sqlite3"
    link.symlink_to(tmp_path / "gone" / "reviews.sqlite3")
    result = cli("--content", FIXTURE_CONTENT, "--db", link, "suspend", "add-one")
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = result.stderr.strip().splitlines()
    assert (
        f"cannot write in {tmp_path / 'gone'}" in line and f"(a link to {link.resolve()})" in line
    )
    assert not (tmp_path / "gone").exists()  # (a link's folder is not made)


@pytest.mark.parametrize("command", [("due",), ("stats",), ("suspend", "add-one")], ids=" ".join)
def test_a_db_path_that_is_a_loop_of_links_is_an_error_naming_it(cli, tmp_path, command):
    """`--db` a link to itself (or links that lead round to one another): every command that
    opens the database ended in a traceback (RuntimeError: "Symlink loop from ...", from
    `Path.resolve`, as the -wal and -shm files beside it were looked for)."""
    link = tmp_path / "reviews.sqlite3"
    link.symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(link)
    result = cli("--content", FIXTURE_CONTENT, "--db", link, *command)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert f"error: the review database {link} is a link in a loop of links" in " ".join(
        result.stderr.split()
    ), result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other", link.name]


def test_a_data_folder_that_cannot_be_created_is_one_line_naming_it(cli, tmp_path, monkeypatch):
    blocker = tmp_path / "home"
    blocker.write_text("a file where the data folder should go")
    monkeypatch.setenv("STUDYCLI_HOME", str(blocker))
    assert cli("--content", FIXTURE_CONTENT, "due").exit_code == 0  # reads: makes nothing
    result = cli("--content", FIXTURE_CONTENT, "suspend", "add-one")  # writes: makes it
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert f"cannot create the folder {blocker / 'data'}" in line and f"{blocker} is a file" in line
    assert "STUDYCLI_HOME" in line and "Traceback" not in result.output
    solve = cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--no-edit")
    assert solve.exit_code == 1 and "cannot write your attempt file" in solve.stderr
    assert "STUDYCLI_HOME" in solve.stderr and "Traceback" not in solve.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_folder_is_one_line_naming_it(cli, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "reviews.sqlite3"
    rated_database(path)
    folder.chmod(0o555)
    try:
        result = cli("--content", FIXTURE_CONTENT, "--db", path, "suspend", "add-one")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 1 and str(folder) in result.stderr
    assert "mv " not in result.stderr and "Traceback" not in result.output


# --- a backup before every migration -------------------------------------------------------

EXTRA = ("9000_test_notes", "CREATE TABLE notes (card_id TEXT, text TEXT);")
RELEASED = list(migrations.NAMES)  # the migrations of this version, before the test adds one


@pytest.fixture
def next_migration(monkeypatch):
    """A second migration, as a later studycli would add one."""
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, EXTRA])
    monkeypatch.setattr(migrations, "NAMES", [*migrations.NAMES, EXTRA[0]])
    return EXTRA[0]


def test_a_backup_is_written_before_a_migration_of_an_existing_database(tmp_path, monkeypatch):
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    name = EXTRA[0]
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, EXTRA])
    monkeypatch.setattr(migrations, "NAMES", [*migrations.NAMES, name])
    with Store.open(path) as store:
        assert migrations.applied(store.conn)[-1] == name
    backup = backups.backup_path(path, name)
    assert backup.name == f"reviews.sqlite3.before-{name}.bak"
    assert not Path(f"{backup}-wal").exists()  # one self-contained file
    with sqlite3.connect(backup) as old:
        assert [row[0] for row in old.execute("SELECT name FROM migrations")] == RELEASED
        assert old.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 3
    old.close()


def pending_upgrade(tmp_path: Path, monkeypatch) -> tuple[Path, list[Path]]:
    """A database with a migration to run, and the paths `on_wait` is told (after 0.2 s)."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, EXTRA])
    monkeypatch.setattr(migrations, "NAMES", [*migrations.NAMES, EXTRA[0]])
    told: list[Path] = []
    monkeypatch.setattr(busy, "on_wait", lambda path, who: told.append(path))
    monkeypatch.setattr(busy, "WAIT_NOTICE_AFTER", 0.2)
    return path, told


def test_an_upgrade_that_takes_a_while_is_not_called_a_wait(tmp_path, monkeypatch):
    """Upgrading a large database (its check, its copy, its migrations: 8 s for a million
    reviews) is the command's own work: it said it was waiting for another command."""
    path, told = pending_upgrade(tmp_path, monkeypatch)
    copy = backups.backup

    def slow_copy(*args, **kwargs):
        time.sleep(0.6)  # (a large file's copy)
        return copy(*args, **kwargs)

    monkeypatch.setattr(backups, "backup", slow_copy)  # (`connect` imports it from there)
    with Store.open(path) as store:
        assert migrations.applied(store.conn)[-1] == EXTRA[0]
    assert told == []


def test_an_upgrade_waiting_for_another_commands_lock_says_so(tmp_path, monkeypatch):
    """The upgrade's own work is not a wait, but its wait for the write lock is one (the
    notice was stopped before it, and an upgrade behind an import sat silent)."""
    path, told = pending_upgrade(tmp_path, monkeypatch)
    holder = hold_write_lock(path, 1.0)
    try:
        with Store.open(path) as store:
            assert migrations.applied(store.conn)[-1] == EXTRA[0]
    finally:
        holder.communicate()
    assert told == [path]


def test_a_new_database_needs_no_backup(tmp_path, next_migration):
    path = tmp_path / "reviews.sqlite3"
    Store.open(path).close()
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak" in p.name) == []


def test_a_migration_whose_backup_fails_is_not_run(tmp_path, monkeypatch):
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    name = EXTRA[0]
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, EXTRA])
    monkeypatch.setattr(migrations, "NAMES", [*migrations.NAMES, name])
    blocked = backups.backup_path(path, name)
    blocked.mkdir()
    (blocked / "keep").write_text("a folder where the backup should go")
    with pytest.raises(StoreError, match="cannot write the backup") as caught:
        Store.open(path)
    assert str(path) in str(caught.value) and "unchanged" in str(caught.value)
    with sqlite3.connect(path) as conn:
        assert [row[0] for row in conn.execute("SELECT name FROM migrations")] == RELEASED
    conn.close()


_BACKUP_PAST_THE_LIMIT = """
import errno, os, resource, sys
from pathlib import Path
from studycli.errors import StoreFull
from studycli.study import backups
from tests.study_support import open_store
folder = Path(sys.argv[1])
with open_store(folder) as store:  # (a database to back up)
    path = store.path
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 22, resource.RLIM_INFINITY))  # (SIGXFSZ ignored)
try:  # a copy written by hand past `ulimit -f`: the OSError the system gives (EFBIG)
    with open(folder / "copy", "wb") as copy:
        copy.write(bytes(1 << 23))
except OSError as refused:
    too_large = refused
assert too_large.errno == errno.EFBIG, too_large
for error in (too_large, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))):
    def copied(source, target, error=error):
        raise error
    backups.os.replace = copied  # (the backup's copy, as the system refused it)
    try:
        backups.backup(path, folder / "reviews.bak")
    except StoreFull as full:
        print(full.why, "|", full.fix, "|", full)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux file-size limit")
def test_a_backup_the_file_size_limit_stops_says_the_limit_and_a_full_disk_says_full(tmp_path):
    """backups.py said "no room" in its own words beside `sqlite_errors.no_room`, and only for
    ENOSPC: a copy the system refused with EFBIG under `ulimit -f` was told to "free some
    space or make the folder writable". Both are said by `no_room`: the limit, and how to
    raise it; a full disk, and to free some space."""
    done = subprocess.run(
        [sys.executable, "-c", _BACKUP_PAST_THE_LIMIT, str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    limited, full = done.stdout.splitlines()
    assert limited.startswith("the file-size limit (`ulimit -f`) of 4,194,304 bytes"), limited
    assert "| raise the limit (`ulimit -f unlimited`) and run the command again |" in limited
    assert "is full" not in limited and "free some space" not in limited, limited
    backup = tmp_path / "reviews.bak"
    assert full.startswith(f"the disk holding {backup} is full | free some space"), full
    assert not backup.exists() and not (tmp_path / "reviews.bak.tmp").exists()


def test_the_released_second_migration_backs_up_a_first_schema_database(tmp_path, monkeypatch):
    path = tmp_path / "reviews.sqlite3"
    schema_of(monkeypatch, migrations.MIGRATIONS[:1])
    rated_database(path)
    monkeypatch.undo()
    with Store.open(path) as store:
        assert migrations.applied(store.conn) == RELEASED and len(store.reviews()) == 3
    backup = backups.backup_path(path, RELEASED[1])
    with sqlite3.connect(backup) as old:
        assert [row[0] for row in old.execute("SELECT name FROM migrations")] == RELEASED[:1]
        assert old.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 3
    old.close()


# --- an upgrade, and what must not be upgraded ----------------------------------------------


def first_schema_database(path: Path, monkeypatch) -> str:
    """A database as the first released schema made it, with 3 ratings; its SHA-256."""
    with monkeypatch.context() as old:
        schema_of(old, migrations.MIGRATIONS[:1])
        rated_database(path)
    return sha256(path)


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_upgrade_a_full_disk_stops_is_read_through_a_copy_or_said_as_the_upgrade(
    cli, tmp_path, monkeypatch
):
    """An older database on a disk with room for its backup and not for its upgrade (another
    process held its -shm file, so it was opened for writing; `test_cli_full_disk` fills a real
    disk): a command that only reads said "the disk ... is full: ... what this command was
    saving was not saved", of an upgrade it never asked for. It reads the database through an
    upgraded copy in memory, as where it cannot be written; one that writes says the upgrade
    needs room, and that the database is unchanged."""
    path = tmp_path / "reviews.sqlite3"
    before = first_schema_database(path, monkeypatch)
    _no_room_past_the_backup(monkeypatch)
    read = cli("--content", FIXTURE_CONTENT, "--db", path, "history")
    assert read.exit_code == 0 and "3 reviews" in read.stdout, read.output
    written = cli("--content", FIXTURE_CONTENT, "--db", path, "undo")
    said = " ".join(written.stderr.split())
    assert written.exit_code == 1 and f"cannot upgrade the review database {path}" in said, said
    assert "is full" in said and "free some space and run the command again" in said
    assert "not saved" not in read.output + said and sha256(path) == before


def _no_room_past_the_backup(monkeypatch):
    """Upgrades run out of room once their backup is written (the upgrade of a copy in memory
    still runs); the real `migrations.migrate`, returned."""
    from .test_cli_review_session import _disk_full_error

    upgrade = migrations.migrate

    def no_room(conn, before=None):
        if before is None:  # (the copy in memory)
            return upgrade(conn)
        before(migrations.NAMES[-1])  # the backup, written
        raise _disk_full_error()

    monkeypatch.setattr(migrations, "migrate", no_room)
    return upgrade


def test_an_upgrade_a_full_disk_stops_leaves_no_backup_to_take_its_room(cli, tmp_path, monkeypatch):
    """An upgrade that ran out of room after its backup was written left the backup, a full
    copy of the database as it still is, on the full disk: it said "free some space and run
    the command again", and the run again wrote the backup anew beside the one left (room
    for a second copy), never said to be there to delete (a reviewer's finding). The
    backup of an upgrade stopped for want of room goes with it."""
    path = tmp_path / "reviews.sqlite3"
    first_schema_database(path, monkeypatch)
    upgrade = _no_room_past_the_backup(monkeypatch)
    for command in ("history", "undo"):
        cli("--content", FIXTURE_CONTENT, "--db", path, command)
        assert not list(tmp_path.glob("*.bak*")), command
    monkeypatch.setattr(migrations, "migrate", upgrade)  # room made: upgraded, backup kept
    cli("--content", FIXTURE_CONTENT, "--db", path, "undo")
    kept = [p.name for p in tmp_path.glob("*.bak*")]
    assert kept == [f"{path.name}.before-{migrations.NAMES[1]}.bak"], kept


def test_an_upgrade_keeps_one_copy_from_before_and_says_so(cli, tmp_path, monkeypatch):
    """An upgrade across every migration wrote a backup before each (three full copies), and
    no command said that anything had happened."""
    path = tmp_path / "reviews.sqlite3"
    before = first_schema_database(path, monkeypatch)
    result = cli("--content", FIXTURE_CONTENT, "--db", path, "due")
    assert result.exit_code == 0, result.output
    kept = [p for p in tmp_path.iterdir() if p.name.endswith(".bak")]
    assert kept == [backups.backup_path(path, RELEASED[1])]
    with sqlite3.connect(kept[0]) as old:
        assert [row[0] for row in old.execute("SELECT name FROM migrations")] == RELEASED[:1]
    old.close()
    said = " ".join(result.stderr.split())
    assert f"upgraded the review database {path}" in said and str(kept[0]) in said
    assert all(name in said for name in RELEASED[1:]) and "upgraded" not in result.stdout
    again = cli("--content", FIXTURE_CONTENT, "--db", path, "due")
    assert again.exit_code == 0 and again.stderr == ""  # once
    assert sha256(path) != before


def test_an_upgrade_is_one_transaction_no_other_process_sees_half_done(tmp_path, monkeypatch):
    """Another process looking while an older database is upgraded sees it as it was until
    the whole upgrade commits. (Each migration was its own transaction: a process opening the
    file between two saw it half upgraded and upgraded the rest itself, with a second backup,
    half upgraded, named in its note as "the file as it was before".)"""
    path = tmp_path / "reviews.sqlite3"
    first_schema_database(path, monkeypatch)
    seen = []

    def before(name: str) -> None:  # the store backs the file up here
        other = sqlite3.connect(path)  # another process's view of the file
        seen.append([row[0] for row in other.execute("SELECT name FROM migrations")])
        other.close()

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrations.migrate(conn, before=before) == RELEASED[1:]
    finally:
        conn.close()
    assert seen == [RELEASED[:1]] * len(RELEASED[1:])


# An upgrade in a process of its own, killed (SIGKILL, which no handler sees) at one point:
# as its backup's copy is written, not yet named; midway through 0002, which copies the
# log into a new table; once it has committed, before giving the free pages back.
KILLED_UPGRADE = """
import os, signal, sys
from pathlib import Path
from studycli.study import backups, database, migrations
from studycli.study.store import Store

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

point = sys.argv[2]
if point == "backup":
    backups.os.replace = die
elif point == "migration":
    split = migrations.statements
    def statements(script):
        for number, statement in enumerate(split(script)):
            if "reviews_0001" in script and number == 3:
                die()
            yield statement
    migrations.statements = statements
else:
    database._compact = die
Store.open(Path(sys.argv[1]))
"""


@pytest.mark.parametrize("point", ["backup", "migration", "committed"])
def test_an_upgrade_killed_anywhere_leaves_the_file_whole_and_the_next_command_ends_it(
    tmp_path, monkeypatch, point
):
    path = tmp_path / "reviews.sqlite3"
    first_schema_database(path, monkeypatch)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_UPGRADE, str(path), point],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    with sqlite3.connect(path) as conn:  # (recovers the WAL the kill left)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        applied = [row[0] for row in conn.execute("SELECT name FROM migrations")]
    conn.close()
    assert applied == (RELEASED if point == "committed" else RELEASED[:1])
    with Store.open(path) as store:  # the next command
        assert migrations.applied(store.conn) == RELEASED
        assert len(store.reviews()) == 3
        assert store.integrity_problems() == []
    backup = backups.backup_path(path, RELEASED[1])
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "reviews.sqlite3-wal") == [
        path.name,
        *([f"{path.name}-shm"] if (tmp_path / f"{path.name}-shm").exists() else []),
        backup.name,
    ]
    with sqlite3.connect(backup) as old:  # the file as it was, whole
        assert [row[0] for row in old.execute("SELECT name FROM migrations")] == RELEASED[:1]
        assert old.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 3
    old.close()


def test_an_upgrade_that_copied_the_log_gives_the_space_back(tmp_path, monkeypatch):
    """0002 copies the review log into a new table: the file kept the old table's pages free,
    twice its size for good (615 MB -> 1.16 GB in a walkthrough)."""
    path = tmp_path / "reviews.sqlite3"
    with monkeypatch.context() as old:
        schema_of(old, migrations.MIGRATIONS[:1])
        rated_database(path, ratings=2000)
    with Store.open(path) as store:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        free = store.conn.execute("PRAGMA freelist_count").fetchone()[0]
        assert len(store.reviews()) == 2000 and migrations.applied(store.conn) == RELEASED
    assert free * 4 <= pages, (free, pages)


@pytest.mark.parametrize("command", [["history"], ["due"], ["stats"], ["doctor", "--dry-run"]])
def test_reading_a_backup_or_a_dry_run_leaves_an_older_database_as_it_is(
    cli, tmp_path, monkeypatch, command
):
    """Reading commands upgraded the file they read in place: a backup kept for an older
    studycli (which then no longer opened it), and the doctor's dry run, which promises to
    write nothing. They read an upgraded copy in memory instead."""
    made = tmp_path / "made" / "reviews.sqlite3"
    made.parent.mkdir()
    first_schema_database(made, monkeypatch)
    backup = backups.backup(made, backups.backup_path(tmp_path / "reviews.sqlite3", "x"))
    before = sha256(backup)
    result = cli("--content", FIXTURE_CONTENT, "--db", backup, *command)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "upgraded" not in result.stderr
    assert sha256(backup) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["made", backup.name]
    if command == ["history"]:
        assert result.stdout.count("bias-concept") == 3
    dry = tmp_path / "old.sqlite3"
    before = first_schema_database(dry, monkeypatch)
    assert cli("--content", FIXTURE_CONTENT, "--db", dry, "doctor", "--dry-run").exit_code == 0
    assert sha256(dry) == before and not backups.backups(dry)


# --- a database that cannot be written -----------------------------------------------------
# Root ignores permission bits, so as root a file is made immutable (chattr +i) and a
# read-only medium is a read-only bind mount; otherwise the permission bits do it.


@contextmanager
def unwritable(target: Path) -> Iterator[str]:
    """`target` (a file or a folder) made unwritable, root included; yields how."""
    if os.geteuid() != 0:
        mode = target.stat().st_mode
        target.chmod(mode & ~0o222)
        try:
            yield "chmod"
        finally:
            target.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", target], capture_output=True).returncode:
        pytest.skip("as root only an immutable file cannot be written: chattr +i fails here")
    try:
        yield "chattr"
    finally:
        subprocess.run([chattr, "-i", target], check=True)


@contextmanager
def read_only_medium(folder: Path) -> Iterator[tuple[Path, str]]:
    """`folder` as a mounted backup shows it: (the folder to use, how it was made read-only).
    As root, a read-only bind mount of it (else every file and the folder made immutable);
    otherwise the folder and its files with their write bits off."""
    if os.geteuid() == 0:
        target = folder.with_name(folder.name + "-mounted")
        target.mkdir()
        mounted = subprocess.run(
            ["mount", "--bind", "-o", "ro", folder, target], capture_output=True
        )
        if mounted.returncode == 0:
            try:
                yield target, "mount"
            finally:  # lazily where a failed test left a file open in it
                if subprocess.run(["umount", target], capture_output=True).returncode:
                    subprocess.run(["umount", "--lazy", target], check=True)
            return
    with ExitStack() as stack:
        how = ""
        for part in [*sorted(p for p in folder.iterdir() if p.is_file()), folder]:
            how = stack.enter_context(unwritable(part))
        yield folder, how


def reviews_in_wal(folder: Path, ratings: int, shm: bool) -> Path:
    """A database in `folder` whose last `ratings` ratings are in its -wal file only, as a
    copy taken while studycli was running leaves it (with or without its -shm file)."""
    live = folder.parent / "live" / "reviews.sqlite3"
    live.parent.mkdir()
    rated_database(live)  # 3 ratings, checkpointed into the file
    content = fixture_content()
    with Store.open(live) as store:
        for i in range(ratings):
            core.rate(store, content.get("add-one"), 3, NOW + timedelta(days=10 + i), NO_FUZZ)
        folder.mkdir(exist_ok=True)
        for suffix in ("", "-wal", *(["-shm"] if shm else [])):
            shutil.copyfile(f"{live}{suffix}", folder / f"reviews.sqlite3{suffix}")
    assert (folder / "reviews.sqlite3-wal").stat().st_size > 0
    return folder / "reviews.sqlite3"


def test_a_database_that_cannot_be_written_is_refused_on_opening_to_write(tmp_path):
    """An immutable file opened fine and failed at the first rating, after the work."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    with unwritable(path) as how:
        with pytest.raises(StoreError) as caught:
            Store.open(path)
        with Study.open(path, NO_FUZZ, write=False) as study:  # reading still works
            assert len(study.history()) == 3
    message = str(caught.value)
    assert f"cannot write the review database {path}" in message, message
    fix = "chattr -i" if how == "chattr" else "chmod u+rw"
    assert fix in message and "mv " not in message


def test_a_read_only_medium_is_read_and_named_when_writing(tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    rated_database(folder / "reviews.sqlite3")  # closed cleanly: no -wal, no -shm
    with read_only_medium(folder) as (where, how):
        path = where / "reviews.sqlite3"
        with Study.open(path, NO_FUZZ, write=False) as study:
            assert len(study.history()) == 3
        assert sqlite_errors.integrity_problems(path) == []  # not "damaged" for want of a -shm
        with pytest.raises(StoreError) as caught:
            Study.open(path, NO_FUZZ)
    message = str(caught.value)
    assert str(path) in message and "mv " not in message
    if how == "mount":
        assert "read-only filesystem" in message and "chmod" not in message, message


def test_a_database_in_a_folder_this_user_cannot_write_is_read(tmp_path, monkeypatch):
    """A user's database in a folder without write permission (a backup owned by another
    user, a folder made 555): SQLite's read-only open fails with SQLITE_READONLY_DIRECTORY,
    no -shm file can be made, where a read-only medium gives CANTOPEN; `due`, `stats`,
    `history` and `export-reviews` failed there. Root is not stopped by permission bits, so
    the error is raised here as SQLite raises it for such a user (`read_only_medium` makes
    the real case when the suite runs as one)."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    real = read_only._first_read

    def as_a_user_who_cannot_write_the_folder(uri: str, timeout: float):
        if "mode=ro" in uri:
            exc = sqlite3.OperationalError("attempt to write a readonly database")
            exc.sqlite_errorcode = 1544  # type: ignore[attr-defined]  # READONLY_DIRECTORY
            raise exc
        return real(uri, timeout)

    monkeypatch.setattr(read_only, "_first_read", as_a_user_who_cannot_write_the_folder)
    monkeypatch.setattr(read_only, "_can_write", lambda _: False)  # (`connect` imports it)
    with Study.open(path, NO_FUZZ, write=False) as study:
        assert len(study.history()) == 3


def test_a_read_beside_another_users_session_ending_leaves_no_side_files(tmp_path, monkeypatch):
    """A read of a file this user cannot write found the owner's -wal and -shm (its session
    open) and opened it read-only; the session ended between the look and the open, removing
    them, and SQLite's read-only connection made new ones, this user's, and left them: the
    owner's next write failed on them ("cannot write ...-wal"), in a sticky folder unable to
    remove them (r4: uid 65534 reading uid 1000's file, after 81 sessions of a stress loop).
    The read removes what it made and reads the file as it is, its reviews all there."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)  # closed cleanly: every review in the file
    sides = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    real = read_only._first_read

    def the_owners_session_ends(uri: str, timeout: float):
        if "mode=ro" in uri:
            for side in sides:
                side.unlink(missing_ok=True)
        return real(uri, timeout)

    monkeypatch.setattr(read_only, "_first_read", the_owners_session_ends)
    with unwritable(path):
        for side in sides:  # (the owner's, while its session is open)
            side.touch()
        conn = read_only._open_for_reading(path)
        try:
            reviews = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        finally:
            conn.close()
        assert [side.name for side in sides if side.exists()] == []
    assert reviews == 3


def test_a_read_leaves_the_side_files_another_read_of_this_user_reads_through(
    tmp_path, monkeypatch
):
    """Two reads of this user at once (two `due`s): the owner's session ended between the
    first's look and its open, and the -wal and -shm it made were opened by the second, which
    reads through them; the first removed them under it (the second's view then unlinked, and
    the owner's next session makes new ones it does not see). It leaves the files another
    connection holds (SQLite's lock on the -shm's byte 128 while it has it open)."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    sides = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    real = read_only._first_read
    other = []

    def the_owners_session_ends_and_another_read_opens(uri: str, timeout: float):
        if "mode=ro" in uri and not other:  # (the first open only)
            for side in sides:
                side.unlink(missing_ok=True)
        conn = real(uri, timeout)
        if "mode=ro" in uri and not other:
            other.append(real(uri, timeout))  # (reads through what this one made)
        return conn

    monkeypatch.setattr(read_only, "_first_read", the_owners_session_ends_and_another_read_opens)
    with unwritable(path):
        for side in sides:
            side.touch()
        read_only._open_for_reading(path).close()
        try:
            assert [side.name for side in sides if side.exists()] == [s.name for s in sides]
            reviews = other[0].execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        finally:
            other[0].close()
    assert reviews == 3


def test_a_read_as_another_users_session_closes_waits_for_its_wal_to_go(tmp_path):
    """The owner's session, closing, checkpoints its -wal into the file and removes its -shm,
    then its -wal: a read of the file (this user cannot write it) in between found a -wal
    with frames and no -shm, and said its reviews could not be read (3 in 7,200 reads of a
    loop beside an owner rating in a loop). It looks again, a few times, and reads the file
    once the -wal is gone; a -wal that stays is still said to hold reviews out of reach."""
    live = tmp_path / "live" / "reviews.sqlite3"
    live.parent.mkdir()
    rated_database(live)
    path = tmp_path / "shared" / "reviews.sqlite3"
    path.parent.mkdir()
    with Store.open(live) as store:  # (the owner's session: two more ratings, checkpointed,
        for days in (10, 11):  # its -wal not yet removed)
            core.rate(
                store, fixture_content().get("add-one"), 3, NOW + timedelta(days=days), NO_FUZZ
            )
        store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        for suffix in ("", "-wal"):  # (its -shm removed already)
            shutil.copyfile(f"{live}{suffix}", f"{path}{suffix}")
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    with unwritable(path):
        with pytest.raises(StoreError) as staying:
            read_only._open_for_reading(path).close()
        closing = threading.Timer(0.02, wal.unlink)  # (the owner's close, a moment later)
        closing.start()
        try:
            conn = read_only._open_for_reading(path)
        finally:
            closing.join()
        try:
            reviews = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        finally:
            conn.close()
    assert "its reviews.sqlite3-wal file holds reviews not yet in" in str(staying.value)
    assert reviews == 5


def test_a_read_of_another_users_file_sees_it_as_it_was_while_its_owner_writes(tmp_path):
    """A file this user cannot write, with no -wal to read, was read as `immutable`, taking
    no lock: the owner's checkpoint, writing pages into it while the command read, showed
    it torn ("database disk image is malformed ... run the command again": 4 in 7,200 reads
    of a loop beside an owner rating and checkpointing in a loop). It is read through a
    copy in memory, the file read twice alike: what the owner writes after the open is not
    seen, and cannot tear what is."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    with unwritable(path):
        conn = read_only._open_for_reading(path)
    try:
        with Store.open(path) as owner:  # many ratings, checkpointed into the file
            for days in range(10, 400):
                core.rate(
                    owner, fixture_content().get("add-one"), 3, NOW + timedelta(days=days), NO_FUZZ
                )
            owner.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 3
    finally:
        conn.close()
    with Store.open(path) as owner:
        assert len(owner.reviews()) == 393


def test_an_empty_file_another_user_owns_reads_as_empty_not_a_memory_error(tmp_path):
    """An empty file this user cannot write (one `touch` made) was read as `immutable`, an
    empty database, which `due` then said had no table cards, with how to start a new one;
    its copy in memory, handed to SQLite's deserialize as no bytes at all, raised
    MemoryError, a traceback for every command. It reads as an empty database again."""
    path = tmp_path / "reviews.sqlite3"
    path.touch()
    with unwritable(path):
        conn = database.connect(path, write=False)
    try:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_read_beside_another_users_session_leaves_its_side_files(tmp_path):
    """What a read removes is only what it made: the owner's -wal and -shm, its session open,
    stay as they were (the -wal holds reviews not yet in the file), and are read through."""
    path = reviews_in_wal(tmp_path / "shared", ratings=2, shm=True)
    sides = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    found = [(side.stat().st_ino, side.stat().st_size) for side in sides]
    with unwritable(path):
        conn = read_only._open_for_reading(path)
        try:
            reviews = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        finally:
            conn.close()
        assert [(side.stat().st_ino, side.stat().st_size) for side in sides] == found
    assert reviews == 5  # the 2 in the -wal too


@pytest.mark.parametrize("wal", [b"", b"frames"], ids=["empty-wal", "wal-with-reviews"])
def test_a_side_file_of_another_user_is_said_to_be_theirs(tmp_path, monkeypatch, wal):
    """The owner's write stopped by a -wal another user's read left: "make it writable (chmod
    u+rw ...)", which is refused on another user's file (and in a sticky folder the owner
    cannot remove it either). It says whose it is and what to do. (This user is made
    another by its uid as the message sees it: a test cannot give a file away unless root.)"""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    side = Path(f"{path}-wal")
    side.write_bytes(wal)
    import pwd

    uid = side.stat().st_uid
    owner = pwd.getpwuid(uid).pw_name
    you = next((user.pw_name for user in pwd.getpwall() if user.pw_uid == uid + 1), str(uid + 1))
    monkeypatch.setattr(os, "geteuid", lambda: uid + 1)
    monkeypatch.setattr(read_only, "_unwritable_part", lambda _: side)
    message = str(read_only.unwritable(path, "attempt to write a readonly database"))
    assert "chmod" not in message, message
    assert f"it belongs to another user, {owner}" in message, message
    if wal:  # (chown to another user is refused to all but root)
        assert f"have root give it to you (chown {you} '{side}'" in message, message
    else:
        assert f"have them or root remove it (rm '{side}')" in message, message


@pytest.mark.parametrize("shm", [True, False], ids=["with-shm", "without-shm"])
def test_reviews_in_a_wal_file_on_a_read_only_medium_are_read_or_reported(tmp_path, shm):
    """SQLite opens a WAL database on a read-only medium without a -shm file only as
    `immutable`, which ignores the -wal file: its reviews would be silently left out."""
    path = reviews_in_wal(tmp_path / "backup", ratings=2, shm=shm)
    with read_only_medium(path.parent) as (where, _):
        copy = where / path.name
        if shm:
            with Study.open(copy, NO_FUZZ, write=False) as study:
                assert len(study.history()) == 5  # the 2 in the -wal file too
            return
        with pytest.raises(StoreError) as caught:
            Study.open(copy, NO_FUZZ, write=False)
    message = str(caught.value)
    assert "its reviews.sqlite3-wal file holds reviews not yet in reviews.sqlite3" in message
    assert "copy reviews.sqlite3 and reviews.sqlite3-wal together" in message


def test_a_linked_database_whose_wal_cannot_be_written_is_named_as_such(tmp_path):
    """--db a link to the database kept elsewhere: SQLite keeps its -wal and -shm beside the
    file linked to. What could not be written was looked for beside the link: a -wal that
    could not be written there was told as "cannot open ... check that you can write it and
    its folder" (the link's), and a command that only reads opened it to write."""
    target = reviews_in_wal(tmp_path / "synced", ratings=2, shm=True)
    link = tmp_path / "data" / "reviews.sqlite3"
    link.parent.mkdir()
    link.symlink_to(target)
    wal = Path(f"{target}-wal")
    with unwritable(wal) as how:
        assert not read_only._can_write(link)
        with Study.open(link, NO_FUZZ, write=False) as study:
            assert len(study.history()) == 5  # the 2 in the -wal too
        with pytest.raises(StoreError) as caught:
            Study.open(link, NO_FUZZ)
    message = str(caught.value)
    assert (
        f"cannot write {wal}, which SQLite keeps next to the review database {link} (a link "
        f"to {target})"
    ) in message, message
    assert ("chattr -i" if how == "chattr" else "chmod u+rw") + f" '{wal}'" in message


def test_a_linked_database_on_a_read_only_medium_is_named_so(tmp_path):
    """A link to a database on a mounted backup: the filesystem was looked at where the link
    is, and the learner was told the file was probably immutable (chattr -i); the -wal was
    looked for beside the link, and, none found there, the database was read without the
    reviews its -wal holds."""
    path = reviews_in_wal(tmp_path / "backup", ratings=2, shm=False)
    with read_only_medium(path.parent) as (where, how):
        link = tmp_path / "data" / "reviews.sqlite3"
        link.parent.mkdir()
        link.symlink_to(where / path.name)
        with pytest.raises(StoreError) as reading:
            Study.open(link, NO_FUZZ, write=False)
        with pytest.raises(StoreError) as writing:
            Study.open(link, NO_FUZZ)
    assert "its reviews.sqlite3-wal file holds reviews not yet in" in str(reading.value)
    message = str(writing.value)
    assert f"{link} (a link to {where / path.name})" in message, message
    if how == "mount":
        assert "read-only filesystem" in message and "chattr" not in message, message


def test_a_read_only_medium_holding_an_older_schema_is_read_through_an_upgraded_copy(
    tmp_path, monkeypatch
):
    """It was refused ("must be upgraded, which means writing it: copy it first")."""
    folder = tmp_path / "backup"
    folder.mkdir()
    before = first_schema_database(folder / "reviews.sqlite3", monkeypatch)
    with (
        read_only_medium(folder) as (where, _),
        Study.open(where / "reviews.sqlite3", NO_FUZZ, write=False) as study,
    ):
        assert len(study.history()) == 3 and study.store.notes == []
        assert migrations.applied(study.store.conn) == migrations.NAMES
    assert sha256(folder / "reviews.sqlite3") == before


def test_the_commands_that_only_read_are_commands_and_the_writers_are_not_among_them():
    from studycli.cli.app import COMMANDS
    from studycli.cli.context import READS_ONLY

    assert set(COMMANDS) >= READS_ONLY
    writers = {"review", "solve", "cram", "suspend", "unsuspend", "import-reviews", "doctor"}
    assert not READS_ONLY & writers


def test_read_commands_work_on_a_read_only_medium_and_writers_say_why_not(cli, tmp_path):
    """A mounted backup: every command said "cannot write in <folder> ... chmod u+rwx", even
    `export-reviews`, the way to rescue the history from it."""
    folder = tmp_path / "backup"
    folder.mkdir()
    rated_database(folder / "reviews.sqlite3")
    exported = tmp_path / "saved.csv"
    with read_only_medium(folder) as (where, how):
        path = where / "reviews.sqlite3"
        results = {
            args[0]: cli("--content", FIXTURE_CONTENT, "--db", path, *args)
            for args in (
                ("due", "--json"),
                ("stats", "--json"),
                ("history", "--json"),
                ("export-reviews", exported),
                ("list", "--leeches"),
                ("doctor", "--dry-run"),
                ("suspend", "add-one"),
            )
        }
    for name, result in results.items():
        assert "Traceback" not in result.output, (name, result.output)
        if name != "suspend":
            assert result.exit_code == 0, (name, result.output)
    assert len(exported.read_text().splitlines()) == 1 + 3
    assert len(json.loads(results["history"].stdout)) == 3
    refused = results["suspend"]
    assert refused.exit_code == 1 and str(path) in refused.stderr
    if how == "mount":
        assert "read-only filesystem" in refused.stderr and "chmod" not in refused.stderr


def test_a_command_that_only_reads_makes_no_database_where_there_is_none(cli, tmp_path):
    """`due`, `stats`, `history`, `list`, `export-reviews` before any review: they show an
    empty history and make nothing (they made the database and every folder to it, wherever
    --db pointed); the first command that writes makes it (in a folder that exists: see
    `test_a_db_path_in_a_folder_that_does_not_exist_is_refused_not_made`)."""
    from .conftest import FIXTURE_CONTENT

    path = tmp_path / "not" / "yet" / "reviews.sqlite3"
    commands = (["due"], ["stats"], ["history"], ["list", "--leeches"], ["export-reviews", "-"])
    for command in commands:  # in a folder that does not exist: a mistyped path, refused
        result = cli("--content", FIXTURE_CONTENT, "--db", path, *command)
        said = " ".join(result.stderr.split())
        assert result.exit_code == 1, (command, result.output)
        assert f"{path} (--db or STUDYCLI_DB) is in a folder that does not exist" in said
        assert "mkdir" not in said and "fix the path" in said  # (nothing to make to read)
    assert not (tmp_path / "not").exists()
    path.parent.mkdir(parents=True)
    for command in commands:
        result = cli("--content", FIXTURE_CONTENT, "--db", path, *command)
        assert result.exit_code == 0, (command, result.output)
        # (a mistyped --db showed an empty history without a word)
        assert f"note: no review database at {path}" in " ".join(result.stderr.split())
    assert not path.exists()
    assert cli("--content", FIXTURE_CONTENT, "--db", path, "suspend", "add-one").exit_code == 0
    assert path.exists()


@pytest.mark.parametrize("table", ["cards", "undos", "reviews"])
def test_a_table_another_program_dropped_is_named_with_a_way_out(cli, tmp_path, table):
    """The advice was "nothing is damaged; run the command again", which never helps (the
    doctor too). Without a table outside the log, the log is exported and imported into a
    new database, as said; without one of the log's, a backup is what is left."""
    folder = tmp_path / "my reviews"  # a path a shell splits unless quoted
    folder.mkdir()
    db = folder / "reviews.sqlite3"
    rated_database(db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"DROP TABLE {table}")
    conn.close()
    said = " ".join(cli("--db", db, "doctor").stderr.split())  # (it reads every table)
    assert f"has no table {table}" in said and "run the command again" not in said, said
    if table in ("undos", "reviews"):
        assert "a part of its review log" in said and "restore a backup" in said
        return
    # The way out, followed as told, as a shell runs each command (from a folder of its own):
    # the log exported, the file moved aside, the log imported into a new database in its place
    told = re.findall(r"`(studycli [^`]+)`|\((mv [^)]+)\)", said)
    assert [bool(command) for command, _ in told] == [True, False, True], told
    work = tmp_path / "work"
    work.mkdir()
    for command, move in told:
        if move:  # (with the -wal and -shm beside it: a new database that met them was unreadable)
            subprocess.run(["sh", "-c", move], check=True)
            continue
        words = shlex.split(command)
        assert "--db" in words  # (the import named none, and went to the default database)
        run = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), *words[1:]]
        done = subprocess.run(run, capture_output=True, text=True, cwd=work)
        assert done.returncode == 0, (words, done.stderr)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM reviews").fetchone() == (3,)
    conn.close()


@pytest.mark.skipif(sys.platform != "linux", reason="the file-size limit of a Linux process")
def test_a_file_size_limit_that_stops_the_database_growing_is_named_with_its_fix(tmp_path):
    """Under `ulimit -f`, SQLite's write past the limit fails as "disk I/O error", which the
    command called a failure to run again (it fails again, the same way); it names the limit
    and how to raise it, and nothing is lost: without the limit the same import succeeds."""
    import resource

    csv = tmp_path / "big.csv"
    lines = ["card_id,review_rating,review_time,review_duration"]
    lines += [
        f"card-{i % 500},3,2025-01-01T00:00:{i % 60:02d}.{i:06d}+00:00,900" for i in range(30_000)
    ]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "reviews.sqlite3"
    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "--db", str(db)]
    command += ["import-reviews", str(csv)]
    env = {**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")}
    limit = 1 << 20  # bytes: past the CSV's staging, short of any file the test writes

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    done = subprocess.run(
        command, env=env, preexec_fn=limited, capture_output=True, text=True, check=False
    )
    said = " ".join(done.stderr.split())
    assert done.returncode == 1 and "Traceback" not in said, said
    assert f"no file larger than {limit:,} bytes" in said and "ulimit -f unlimited" in said

    again = subprocess.run(command + ["--json"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["added"] == 30_000


@pytest.mark.parametrize(
    "code, named", [(sqlite3.SQLITE_IOERR_WRITE, True), (sqlite3.SQLITE_IOERR_READ, False)]
)
def test_only_a_failed_write_is_put_down_to_a_file_size_limit(tmp_path, monkeypatch, code, named):
    """A read that fails (a failing disk) under a file-size limit is not put down to it."""
    path = tmp_path / "reviews.sqlite3"
    rated_database(path)
    monkeypatch.setattr(sqlite_errors, "file_size_limit", lambda: 100 << 20)
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = code
    said = str(sqlite_errors.explain(path, error))
    assert ("ulimit -f" in said) == named, said


def test_the_wait_notices_timer_is_gone_once_its_step_is_done(tmp_path, monkeypatch):
    """Its thread was cancelled, not waited for: the import forks its reader right after
    opening the database, and on a loaded machine the timer's thread still ran then (Python
    3.12 warns of a fork with threads running: a lock one held stays held in the child)."""
    monkeypatch.setattr(busy, "on_wait", lambda path, who: None)
    before = threading.active_count()
    for _ in range(20):
        with busy.waits_said(tmp_path / "db.sqlite3"):
            pass
        assert threading.active_count() == before


@pytest.mark.skipif(sys.platform != "linux", reason="counts the threads in /proc")
def test_the_wait_notices_timer_is_gone_for_the_system_too(tmp_path, monkeypatch):
    """Joined, the timer's thread was gone for Python but, in about half of the tries, still
    exiting for the system, which Python 3.12 asks when it warns of a fork with threads
    running (the import's reader, forked right after the database opens: CI counted two)."""

    def system_threads() -> int:
        with open("/proc/self/status") as status:
            return int(next(line.split()[1] for line in status if line.startswith("Threads:")))

    monkeypatch.setattr(busy, "on_wait", lambda path, who: None)
    before = system_threads()
    counted = []
    for _ in range(200):
        with busy.waits_said(tmp_path / "db.sqlite3"):
            pass
        counted.append(system_threads())
    assert set(counted) == {before}


@pytest.mark.parametrize("write", [True, False], ids=["writing", "reading"])
def test_a_database_deleted_without_its_wal_is_not_made_anew_beside_it(tmp_path, write):
    """The database file deleted (or moved) while its -wal and -shm stayed, as a crash leaves
    them: the next command made a new database there, and SQLite, finding a -wal beside an
    empty file, deleted it with the reviews it held (here two ratings, the only copy): gone
    without a word, and gone too for the file put back from the trash. Nothing is made or
    deleted; the learner is told what the files hold and what to do, and the database put
    back reads every rating."""
    path = reviews_in_wal(tmp_path / "data", ratings=2, shm=True)
    gone = tmp_path / "trash.sqlite3"
    path.replace(gone)
    sides = {suffix: Path(f"{path}{suffix}").read_bytes() for suffix in ("-wal", "-shm")}
    with pytest.raises(StoreError) as caught:
        Study.open(path, NO_FUZZ, write=write)
    said = str(caught.value)
    wal = Path(f"{path}-wal")
    assert f"the review database {path} is gone" in said
    assert f"reviews.sqlite3-wal holds {wal.stat().st_size:,} bytes of it" in said
    assert "put that very file back beside them" in said
    assert f"rm {wal} {path}-shm" in said and "close any studycli still running" in said
    # (a synced folder: the -wal may come before the file, and deleting it here deletes the
    # other machine's live one)
    assert (
        "if this folder is synced from another machine, delete nothing: wait for the sync to "
        "bring reviews.sqlite3 (deleting them here would sync back and delete the other "
        "machine's)"
    ) in said
    assert not path.exists()
    assert {suffix: Path(f"{path}{suffix}").read_bytes() for suffix in sides} == sides
    gone.replace(path)
    with Study.open(path, NO_FUZZ) as study:
        assert len(study.history()) == 5  # the 2 in the -wal too


@pytest.mark.parametrize("left", [("-wal", "-shm"), ("-shm",)])
def test_empty_side_files_of_a_deleted_database_are_named_with_what_to_do(tmp_path, left):
    """Side files with no reviews in them (a reader's, or a session's that has not rated
    yet, maybe still running: a new database beside its -shm failed to write, disk I/O
    error): the learner is told they hold none, and how to start afresh."""
    path = tmp_path / "reviews.sqlite3"
    for suffix in left:
        Path(f"{path}{suffix}").write_bytes(b"")
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    said = str(caught.value)
    them = "them" if len(left) == 2 else "it"
    assert "is gone" in said and f"with no reviews in {them}" in said
    assert "rm " + " ".join(f"{path}{suffix}" for suffix in left) in said
    assert f"wait for the sync to bring reviews.sqlite3 (deleting {them} here" in said
    assert not path.exists()
    for suffix in left:
        Path(f"{path}{suffix}").unlink()
    Store.open(path).close()  # as told: a new database
    assert path.exists()


def test_side_files_of_a_database_made_meanwhile_are_not_taken_for_a_deleted_ones(tmp_path):
    """Processes opening one new database at the same moment: one found no file, another made
    it and its -wal and -shm, and the first then called them left by a deleted database
    (`test_processes_creating_one_database_at_the_same_moment_all_open_it` failed so, once)."""
    path = tmp_path / "reviews.sqlite3"
    with Store.open(path):  # (its -wal and -shm are there while it is open)
        assert Path(f"{path}-wal").exists()
        side_files.refuse_orphaned_side_files(path)  # (what `connect` asks having found none)


@pytest.mark.parametrize("write", [True, False], ids=["writing", "reading"])
def test_a_linked_database_deleted_without_its_wal_is_not_made_anew_beside_it(tmp_path, write):
    """--db a link to the database kept elsewhere (a synced folder): SQLite follows the link
    and keeps the -wal and -shm beside the file it points to, not beside the link. The file
    deleted while they stayed, the side files were looked for beside the link, none found,
    and the next command made a new file through the link and SQLite deleted the -wal with
    the two ratings it held."""
    target = reviews_in_wal(tmp_path / "synced", ratings=2, shm=True)
    link = tmp_path / "data" / "reviews.sqlite3"
    link.parent.mkdir()
    link.symlink_to(target)
    gone = tmp_path / "trash.sqlite3"
    target.replace(gone)
    wal = Path(f"{target}-wal")
    held = wal.read_bytes()
    with pytest.raises(StoreError) as caught:
        Study.open(link, NO_FUZZ, write=write)
    said = str(caught.value)
    assert f"{wal.name} holds {len(held):,} bytes of it" in said
    assert f"rm {wal} {target}-shm" in said
    assert not target.exists() and wal.read_bytes() == held
    gone.replace(target)
    with Study.open(link, NO_FUZZ) as study:
        assert len(study.history()) == 5  # the 2 in the -wal too


def test_a_wal_left_alone_by_a_deleted_database_is_named_as_one_file(tmp_path):
    """Only the -wal left (a copy taken without its -shm): the message spoke of it as of two
    files ("reviews.sqlite3-wal are still beside it ... put that very file back beside
    them")."""
    path = reviews_in_wal(tmp_path / "data", ratings=1, shm=False)
    path.unlink()
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    said = str(caught.value)
    assert "reviews.sqlite3-wal is still beside it" in said
    assert (
        "put that very file back beside it (from the trash), or move it to where that file is"
        in said
    )
    assert " them" not in said


def test_the_table_of_outcomes_dropped_is_told_to_the_doctor_which_makes_it_again(tmp_path):
    """Without review_outcomes every rating failed, told to export the log and import it into
    a new database: the log is whole, and `studycli doctor` makes the table again (as told,
    the rating then goes through)."""
    folder = tmp_path / "my reviews"  # a path a shell splits unless quoted
    folder.mkdir()
    db = folder / "reviews.sqlite3"
    rated_database(db)

    def rated(days: int) -> None:
        with Store.open(db) as store:
            card = fixture_content().get("bias-concept")
            core.rate(store, card, 3, NOW + timedelta(days=days), NO_FUZZ)

    with Store.open(db) as store:
        (reviews, passed) = store.review_outcomes()["bias-concept"]
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE review_outcomes")
    conn.close()
    with pytest.raises(StoreError) as caught:
        rated(10)
    said = str(caught.value)
    assert "has no table review_outcomes" in said and "export-reviews" not in said, said
    [told] = re.findall(r"`(studycli doctor [^`]+)`", said)
    run = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT)]
    done = subprocess.run([*run, *shlex.split(told)[1:]], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    rated(11)
    with Store.open(db) as store:
        assert store.review_outcomes() == {"bias-concept": (reviews + 1, passed + 1)}
        assert store.review_outcomes() == store.review_outcomes_counted()
