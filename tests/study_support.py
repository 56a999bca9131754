"""Shared pieces of the study tests (store, scheduler, queue, solve, review session)."""

from __future__ import annotations

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
