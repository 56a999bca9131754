"""The schema every way of coming to this version ends with: its triggers and indexes, on a new
database and on one made by each earlier version and upgraded. A migration that rebuilds a table
(`reviews`, `undos`: SQLite drops a table's triggers and indexes with it, as 0002 rebuilt both)
must make each of them again; one that forgets fails here, where otherwise the log would lose
its append-only guard or the table of outcomes (0012) would drift without a word."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studycli.study import migrations
from studycli.study.store import Store

from .study_support import schema_of

# What the migrations leave, by (type, name): the table each is on. A new migration that adds,
# drops or moves one changes this list with it.
EXPECTED = {
    ("index", "cards_by_due"): "cards",
    ("index", "cards_not_new"): "cards",
    ("index", "cards_suspended"): "cards",
    ("index", "renames_by_ids"): "renames",
    ("index", "reviews_by_card_time"): "reviews",
    ("index", "reviews_by_time"): "reviews",
    ("index", "sqlite_autoindex_buried_1"): "buried",
    ("index", "sqlite_autoindex_cards_1"): "cards",
    ("index", "sqlite_autoindex_migrations_1"): "migrations",
    ("index", "sqlite_autoindex_schedulers_1"): "schedulers",
    ("trigger", "memory_parameters_append_only_delete"): "memory_parameters",
    ("trigger", "memory_parameters_append_only_update"): "memory_parameters",
    ("trigger", "recomputes_append_only_delete"): "recomputes",
    ("trigger", "recomputes_append_only_update"): "recomputes",
    ("trigger", "renames_append_only_delete"): "renames",
    ("trigger", "renames_append_only_update"): "renames",
    ("trigger", "review_outcomes_insert"): "reviews",
    ("trigger", "review_outcomes_undo"): "undos",
    ("trigger", "review_outcomes_update"): "reviews",
    ("trigger", "reviews_append_only_delete"): "reviews",
    ("trigger", "reviews_append_only_update"): "reviews",
    ("trigger", "undos_append_only_delete"): "undos",
    ("trigger", "undos_append_only_update"): "undos",
}


def triggers_and_indexes(path: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    """The schema's triggers and indexes by (type, name): their table and SQL."""
    with Store.open(path) as store:
        return {
            (kind, name): (table, sql)
            for kind, name, table, sql in store.conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
                " WHERE type IN ('trigger', 'index')"
            )
        }


def test_a_new_database_has_every_trigger_and_index_and_no_other(tmp_path):
    found = triggers_and_indexes(tmp_path / "new.sqlite3")
    assert {key: table for key, (table, _) in found.items()} == EXPECTED


def _with_a_rating(path: Path) -> None:
    """One rating of the schedule and one undone, as any version's log can hold them."""
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schedulers (settings) VALUES ('{}')")
        for card in ("add-one", "bias-concept"):
            conn.execute(
                "INSERT INTO reviews (card_id, rating, reviewed_at, method, content_hash, queue,"
                " scheduler_id, state_after) VALUES (?, 3, '2025-03-01T09:00:00.000000+00:00',"
                " 'self', 'h', 'review', 1, '{}')",
                (card,),
            )
        conn.execute("INSERT INTO undos VALUES (2, '2025-03-01T10:00:00.000000+00:00')")
    conn.close()


@pytest.mark.parametrize("version", migrations.NAMES[:-1])
def test_a_database_of_each_earlier_version_upgraded_has_what_a_new_one_has(
    tmp_path, monkeypatch, version
):
    """Made with the migrations up to `version`, with a rating and an undo in it, then opened
    by this version: the same triggers and indexes, each with the same SQL, as a new one."""
    old = tmp_path / "old.sqlite3"
    with monkeypatch.context() as patch:
        schema_of(patch, migrations.MIGRATIONS[: migrations.NAMES.index(version) + 1])
        Store.open(old).close()
    _with_a_rating(old)
    upgraded = triggers_and_indexes(old)
    assert upgraded == triggers_and_indexes(tmp_path / "new.sqlite3")
    with Store.open(old) as store:
        assert migrations.applied(store.conn) == migrations.NAMES
        assert store.review_outcomes() == {"add-one": (1, 1)}  # (the undone one left out)
