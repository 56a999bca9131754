"""Waiting while another process holds the review database: for how long (`BUSY_TIMEOUT`;
less in a read a command can do without, `waiting_at_most`), retrying a step SQLite refuses
at once instead of waiting (`when_free`), taking the write lock or a first read in waits a
Ctrl-C ends (`begin_write`, `when_readable`), telling the learner of a wait that lasts
(`on_wait`, `waits_said`), and whether an SQLite error says busy (`is_busy`; `_code` and
`_extended` read an error's result code for the other modules).

Part of the store (SQL lives only in `database.py`, which opens the database, the modules it
builds on, `store.py` with its parts, `store_*.py`, and `migrations.py`). Every part of it that
may meet a busy database asks `is_busy`, and those that read `BUSY_TIMEOUT` when they run read
it here (`busy.BUSY_TIMEOUT`), so that one setting reaches them all. The command line sets
`on_wait`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

BUSY_TIMEOUT = 30.0  # seconds a command waits for another process's write before giving up
# Seconds a read that only adds to what a command shows (`show`'s flags: edited, leech) waits
# instead (`waiting_at_most`): under `WAIT_NOTICE_AFTER`, so that no "waiting ... up to" line
# comes before it gives up; a rating holds a lock that stops readers (a rollback journal's, in
# an older database) for milliseconds, so a lock held longer is an import or a program left
# holding it, which the command need not wait for.
BRIEF_WAIT = 0.5
WAIT_NOTICE_AFTER = 1.0  # seconds of such a wait before `on_wait` is told
# Called with the database's path and who holds it, in words (`lock_holders.who_holds`: the
# process and its command line where the system says), once a step has waited
# `WAIT_NOTICE_AFTER` s for another process's lock (an import holds the write lock for as
# long as it runs): the command line says so on stderr, where a command otherwise sat silent
# for up to `BUSY_TIMEOUT`. None: nothing is said (the store itself prints nothing).
on_wait: Callable[[Path, str], object] | None = None

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_T = TypeVar("_T")


@contextlib.contextmanager
def waits_said(path: Path) -> Iterator[Callable[[], None]]:
    """Around a step that may wait for another process's lock on the database at `path`:
    once it has waited `WAIT_NOTICE_AFTER` s, `on_wait(path, who)` is called, once, from a
    timer's thread (SQLite waits without holding Python's lock). Yields what to call where
    the step turns to work of its own that takes a while (an upgrade): no notice after that."""
    if on_wait is None:
        yield _nothing
        return
    import threading

    timer = threading.Timer(WAIT_NOTICE_AFTER, _tell, (on_wait, path))
    timer.daemon = True
    timer.start()
    try:
        yield timer.cancel
    finally:
        timer.cancel()
        timer.join()
        _let_go(timer.native_id)  # gone, not going: a fork soon after (the import's reader)


@contextlib.contextmanager
def waiting_at_most(seconds: float) -> Iterator[None]:
    """Within: every wait for another process's lock lasts at most `seconds` (`BUSY_TIMEOUT`
    lowered, and a busy error says that wait), for a read a command can do without."""
    global BUSY_TIMEOUT
    kept = BUSY_TIMEOUT
    BUSY_TIMEOUT = min(kept, seconds)
    try:
        yield
    finally:
        BUSY_TIMEOUT = kept


def _tell(told: Callable[[Path, str], object], path: Path) -> None:
    """`told(path, who)`, who holding the database at `path` read as the notice is given (the
    waiting line named no one; only the busy message at the end of the wait did)."""
    from .lock_holders import who_holds

    told(path, who_holds(path))


def _let_go(native_id: int | None) -> None:
    """Wait until the system has let the thread `native_id` go (Linux; at most
    `THREAD_EXIT_WAIT` s). `join` returns once the thread's Python side is done, while the
    system's thread may still be exiting: in about half of 3,000 tries here it was still
    counted right after, and the import's reader, forked right after the database opened,
    counted two threads (Python 3.12 warns of a fork in a process running threads, and
    counts them as the system does). It is gone in about 30 us, at most a few ms when the
    machine is busy."""
    task = f"/proc/self/task/{native_id}"
    deadline = time.monotonic() + THREAD_EXIT_WAIT
    while native_id is not None and os.path.exists(task) and time.monotonic() < deadline:
        os.sched_yield()


THREAD_EXIT_WAIT = 0.05


def _nothing() -> None:
    pass


def when_free(step: Callable[[], _T], timeout: float | None = None) -> _T:
    """`step()`, tried again while SQLite reports the database busy, for up to `timeout` s
    (`BUSY_TIMEOUT` when None).

    Most busy waits happen inside SQLite (the connection's busy timeout), but a few steps
    (switching a new database to WAL, as two processes may at the same moment) get "database
    is locked" at once, without waiting: those are retried here.
    """
    deadline = time.monotonic() + (BUSY_TIMEOUT if timeout is None else timeout)
    pause = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def begin_write(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE on `conn`, waiting up to `BUSY_TIMEOUT` s for another process's write
    lock in short tries, between which a Ctrl-C is seen (`_in_tries`).

    Raises:
        sqlite3.OperationalError: busy past the wait, or as SQLite raised it.
    """
    _in_tries(conn, lambda: conn.execute("BEGIN IMMEDIATE"))


def when_readable(conn: sqlite3.Connection, timeout: float | None = None) -> None:
    """Read `conn`'s schema, waiting up to `timeout` s (`BUSY_TIMEOUT` when None) while
    another process keeps the database from being read at all (an exclusive locking mode, or
    a rollback journal under BEGIN EXCLUSIVE), in short tries between which a Ctrl-C is seen
    (`_in_tries`).

    Raises:
        sqlite3.Error: busy past the wait, or as SQLite raised it (not a database ...).
    """
    _in_tries(conn, lambda: conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone(), timeout)


def _in_tries(
    conn: sqlite3.Connection, step: Callable[[], object], timeout: float | None = None
) -> None:
    """`step()` on `conn`, retried while busy for up to `timeout` s (`when_free`), SQLite's
    own wait lowered to `_TRY_MS` per try meanwhile. In SQLite's wait (the busy timeout) a
    Ctrl-C was not seen: Python sees a signal only once SQLite returns, and a learner's Ctrl-C
    behind another terminal's import went unanswered for the rest of the 30 s (an audit)."""
    (timeout_ms,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute(f"PRAGMA busy_timeout = {_TRY_MS}")
    try:
        when_free(step, timeout)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")


_TRY_MS = 20  # SQLite's own wait per try of `_in_tries`, in ms: a Ctrl-C is seen after it


def is_busy(exc: BaseException) -> bool:
    """The error says another connection holds the database (busy or locked), nothing worse."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY
    text = str(exc)
    return "locked" in text or "busy" in text


def _code(exc: BaseException) -> int:
    """SQLite's primary result code of `exc` (0 when it carries none)."""
    return _extended(exc) & 0xFF


def _extended(exc: BaseException) -> int:
    """SQLite's extended result code of `exc` (0 when it carries none)."""
    return getattr(exc, "sqlite_errorcode", None) or 0
