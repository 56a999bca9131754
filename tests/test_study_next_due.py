"""`Study.next_due` over random states of a collection says what the rule (`due_at`) says of
its items one by one, whichever way the store reads their rows (`Store.due_rows`): by due time
across every card, by the items' ids (a few items), or by due time and then by id (a deck
behind many cards due, as after a topic just studied)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from studycli.content.study_view import StudyItem
from studycli.study.api import Study
from studycli.study.settings import Settings
from studycli.study.store import Store
from studycli.study.study_days import due_at, next_day_start

NOW = datetime(2025, 3, 29, 12, tzinfo=UTC)  # (Berlin's clocks go forward the next night)
ZONES = (UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("Australia/Lord_Howe"))
DAY = timedelta(days=1)


class Row(NamedTuple):
    in_review: bool
    due: datetime
    last: datetime
    suspended: bool


def _collection(rng: random.Random) -> dict[str, Row]:
    """Up to 300 studied cards: most in review, due from two months ago to two months ahead,
    the rest in a learning step (minutes to two days) rated up to three days ago; a tenth
    suspended. In two collections of five the cards share one to three due times (the id
    orders the rows that share one: where a read by due time stops, the rest goes on)."""
    rows = {}
    shared = [NOW + DAY * rng.uniform(-3, 3) for _ in range(rng.randint(1, 3))]
    shared = shared if rng.random() < 0.4 else []
    for number in range(rng.randint(1, 300)):
        in_review = rng.random() < 0.8
        if in_review:
            interval = DAY * rng.uniform(0.3, 60)
            due = rng.choice(shared) if shared else NOW + DAY * rng.uniform(-60, 60)
        else:
            interval = timedelta(minutes=rng.choice([1, 10, 60, 24 * 60, 2 * 24 * 60]))
            due = rng.choice(shared) if shared else NOW - DAY * rng.uniform(0, 3) + interval
        rows[f"card-{number:03}"] = Row(in_review, due, due - interval, rng.random() < 0.1)
    return rows


def _asked(rng: random.Random, rows: dict[str, Row]) -> list[str]:
    """Some of the cards' ids (and one no card has), a few or many: at random, or the cards
    due last (a topic just studied, behind the others), or first."""
    ids = sorted(rows)
    count = rng.randint(1, min(len(ids), rng.choice([8, 40, 300])))
    by_due = sorted(ids, key=lambda card_id: (rows[card_id].due, card_id))  # (as read)
    chosen = rng.choice([rng.sample(ids, count), by_due[-count:], by_due[:count]])
    return [*chosen, "never-studied"]


def _expected(
    rows: dict[str, Row], asked: list[str], held_at: datetime | None, hour: int, tz
) -> datetime | None:
    """What `next_due` answers, worked out item by item: the earliest `due_at`; where that is
    by `held_at`, the next study day's start, or a learning step due before it."""
    ats = {
        card_id: due_at(row.in_review, row.due, row.last, hour, tz)
        for card_id in asked
        if (row := rows.get(card_id)) is not None and not row.suspended
    }
    found = min(ats.values(), default=None)
    if held_at is not None and found is not None and found <= held_at:
        later = [at for card_id, at in ats.items() if not rows[card_id].in_review and at > held_at]
        found = min([*later, next_day_start(held_at, hour, tz)])
    return found


def _written(store: Store, rows: dict[str, Row]) -> None:
    with store.transaction() as conn:
        conn.execute("DELETE FROM cards")
        conn.executemany(
            "INSERT INTO cards (card_id, fsrs, suspended) VALUES (?, ?, ?)",
            [
                (card_id, json.dumps(_fsrs(row)), int(row.suspended))
                for card_id, row in rows.items()
            ],
        )
        conn.execute("INSERT INTO cards (card_id, suspended) VALUES ('new-suspended', 1)")


def _fsrs(row: Row) -> dict:
    """A state as fsrs's `Card.to_json` writes it, of what the rule reads."""
    return {
        "state": 2 if row.in_review else 1,
        "due": row.due.isoformat(),
        "last_review": row.last.isoformat(),
    }


def _ways(statements: list[str]) -> set[str]:
    """How `due_rows` read its rows in each call traced: "by due" (every card, by due time),
    "by id" (the ids asked, looked up), or "by due, then by id"."""
    ways, call = set(), []
    for sql in [*statements, "SELECT count(*) FROM cards"]:
        if sql.startswith("SELECT count(*) FROM cards"):
            by_due = any(" LIMIT " in s for s in call)
            by_id = any("json_each" in s for s in call)
            if call:
                ways.add(" then ".join(w for w, on in (("by due", by_due), ("by id", by_id)) if on))
            call = []
        elif "json_extract(fsrs, '$.last_review')" in sql:
            call.append(sql)
    return ways


def test_next_due_says_what_the_rule_says_of_each_item_whichever_way_rows_are_read(tmp_path):
    ways: set[str] = set()
    with Store.open(tmp_path / "reviews.sqlite3") as store:
        for seed in range(400):
            rng = random.Random(seed)
            rows = _collection(rng)
            _written(store, rows)
            asked = _asked(rng, rows)
            tz, hour = rng.choice(ZONES), rng.choice([0, 4, 23])
            held_at = rng.choice([None, NOW, NOW + DAY * rng.uniform(-3, 3)])
            study = Study(store, Settings(day_starts_at=hour))
            items = [StudyItem(card_id, "deck", ()) for card_id in asked]
            statements: list[str] = []
            store.conn.set_trace_callback(statements.append)
            found = study.next_due(items, held_at, tz)
            store.conn.set_trace_callback(None)
            expected = _expected(rows, asked, held_at, hour, tz)
            assert found == expected, (seed, len(rows), len(asked), held_at, tz, hour)
            ways |= _ways(statements)
    # (the random states reach each way; a change of `due_rows`' SQL may need `_ways` changed)
    assert ways == {"by due", "by id", "by due then by id"}, ways


def test_due_later_is_a_later_study_days_start_and_none_for_what_is_due_today(tmp_path):
    """`Study.due_later`, what `solve` says of a card it records ahead of its schedule: when
    it is due, where that is a later study day than now's; nothing for a review due today (at
    any hour of it), a learning step later today (the next try after Again), a card suspended,
    or one never studied."""
    hour = timedelta(hours=1)
    rows = {
        "tomorrow": Row(True, NOW + DAY, NOW - 3 * DAY, False),
        "tonight": Row(True, NOW + 8 * hour, NOW - 3 * DAY, False),
        "next-step": Row(False, NOW + hour / 60, NOW, False),
        "interday-step": Row(False, NOW + DAY, NOW, False),
        "held": Row(True, NOW + DAY, NOW - 3 * DAY, True),
    }
    tomorrow = datetime(2025, 3, 30, 4, tzinfo=UTC)  # (day_starts_at: 4 am)
    expected = {"tomorrow": tomorrow, "interday-step": tomorrow}
    with Store.open(tmp_path / "reviews.sqlite3") as store:
        _written(store, rows)
        study = Study(store, Settings(day_starts_at=4))
        found = {
            card_id: study.due_later(StudyItem(card_id, "deck", ()), NOW, UTC)
            for card_id in [*rows, "never-studied"]
        }
    assert found == {card_id: expected.get(card_id) for card_id in found}
