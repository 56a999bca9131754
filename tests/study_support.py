"""Shared pieces of the study tests (store, scheduler, queue, solve, review session)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from studycli.content.loader import load_content
from studycli.study.settings import Settings
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NO_FUZZ = Settings(enable_fuzzing=False)


def fixture_content():
    return load_content(FIXTURE_CONTENT)


def open_store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "reviews.sqlite3")


def rows(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table that holds study data: to compare states exactly."""
    tables = ("cards", "reviews", "undos", "schedulers")
    return {t: store.conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


def schema(store: Store) -> list[tuple]:
    """Every table, index and trigger with its SQL: what a failed write must leave as it was
    (an import in bulk drops some of them for the time it appends)."""
    return store.conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()


def damage(path: Path, table: str = "reviews") -> None:
    """Overwrite the first page of `table` with garbage, as a failing disk might."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        root = page.fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\xff" * size)


def schema_of(patch, kept: list[tuple[str, str]]) -> None:
    """Make databases with the migrations `kept` alone, as the release that had them did
    (`patch`: pytest's monkeypatch or one of its contexts)."""
    from studycli.study import migrations

    patch.setattr(migrations, "MIGRATIONS", kept)
    patch.setattr(migrations, "NAMES", [name for name, _ in kept])


HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")  # the write lock, as a migration or a rating holds it
print("holding", flush=True)
if sys.argv[2] == "until-told":
    sys.stdin.readline()
else:
    time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def hold_write_lock(path: Path, seconds: float | None = None) -> subprocess.Popen:
    """Another process that takes the database's write lock for `seconds`, once it says so;
    with no `seconds`, until the test tells it to let go (`holder.communicate("\\n")`), so
    that a test waits on what it means to see rather than for a time it guesses is enough."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), "until-told" if seconds is None else str(seconds)],
        stdin=subprocess.PIPE if seconds is None else None,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder
