"""`stats` against a straightforward recomputation on random histories: the figures that
stats.py reads from fields taken out in SQL (the memory states, the interval before each review),
counts per study day among the days' starts, leaves out items due after the forecast, and counts
in review less the undone reviews are those of every review read and worked out one by one."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card as FsrsCard

from studycli.study import scheduler as sched
from studycli.study.api import Study
from studycli.study.rating import fsrs_card
from studycli.study.settings import Settings
from studycli.study.stats import DAYS, MATURE_DAYS, _due_day
from studycli.study.study_days import study_date
from studycli.study.times import parse_time

from .study_support import NOW
from .test_study_stats import items

SETTINGS = Settings(enable_fuzzing=False, bury_siblings=False)


def _random_history(study: Study, seed: int) -> None:
    """Ratings, cram ratings and undos of random items at random times over 90 days."""
    rng = random.Random(seed)
    chosen = items()  # (all of them: the fixture deck is small)
    moment = NOW - timedelta(days=90)
    while (moment := moment + timedelta(hours=rng.expovariate(1 / 9))) < NOW:
        item = rng.choice(chosen)
        rating = rng.choice((1, 2, 3, 3, 3, 4))
        if rng.random() < 0.1:
            study.cram_rate(item, rating, moment)
        else:
            study.rate(item, rating, moment)
        if rng.random() < 0.08:
            (last,) = study.store.conn.execute("SELECT max(id) FROM reviews").fetchone()
            study.undo(last, moment)


def _recomputed(study: Study, tz: ZoneInfo) -> dict:
    """The figures from every review of the log and every stored state, read whole."""
    content = {item.id for item in items()}
    rows = study.store.conn.execute(
        "SELECT card_id, rating, reviewed_at, method, queue, state_after FROM reviews"
        " WHERE id NOT IN (SELECT review_id FROM undos) ORDER BY reviewed_at, id"
    ).fetchall()
    today = study_date(NOW, SETTINGS.day_starts_at, tz)
    first = today - timedelta(days=DAYS - 1)
    per_day: Counter[date] = Counter()
    tally = {"young": [0, 0], "mature": [0, 0]}
    outcomes: Counter[tuple[str, bool]] = Counter()
    previous: dict[str, str] = {}
    for card_id, rating, reviewed_at, method, queue, after in rows:
        day = study_date(parse_time(reviewed_at), SETTINGS.day_starts_at, tz)
        scheduled = queue == "review" and method != "cram"
        if first <= day <= today and card_id in content:
            per_day[day] += 1
            if scheduled:
                before = FsrsCard.from_json(previous[card_id]) if card_id in previous else None
                days = 0.0
                if before is not None and before.last_review is not None:
                    days = (before.due - before.last_review).total_seconds() / 86400
                tally["mature" if days >= MATURE_DAYS else "young"][rating == 1] += 1
        if scheduled:
            outcomes[card_id, rating > 1] += 1
        previous[card_id] = after
    cards = {card_id: fsrs_card(study.store.state(card_id)) for card_id in content}
    due: Counter[date] = Counter()
    for card in cards.values():
        if card is not None:
            due[max(today, _due_day(card, SETTINGS.day_starts_at, tz))] += 1
    scheduler = sched.make_scheduler(SETTINGS)
    recall: dict[str, list[float]] = {}
    for item in items():
        if (card := cards[item.id]) is not None:
            recall.setdefault(item.topic, []).append(scheduler.get_card_retrievability(card, NOW))
    topics = {}
    for item in items():
        reviews, passed = topics.get(item.topic, (0, 0))
        ok, failed = outcomes[item.id, True], outcomes[item.id, False]
        topics[item.topic] = (reviews + ok + failed, passed + ok)
    return {
        "per_day": [per_day[first + timedelta(days=i)] for i in range(DAYS)],
        "retention": {age: tuple(counts) for age, counts in tally.items()},
        "forecast": [due[today + timedelta(days=i)] for i in range(DAYS)],
        "states": Counter(sched.queue_name(card).value for card in cards.values()),
        "topics": {
            topic: (*counts, sum(recall[topic]) / len(recall[topic]) if topic in recall else None)
            for topic, counts in topics.items()
        },
    }


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Australia/Lord_Howe"])
def test_the_figures_are_those_of_every_review_read_one_by_one(tmp_path, seed, zone):
    tz = ZoneInfo(zone)
    with Study.open(tmp_path / "db.sqlite3", SETTINGS) as study:
        _random_history(study, seed)
        found = study.stats(items(), NOW, tz)
        expected = _recomputed(study, tz)
    assert [day.count for day in found.reviews_per_day] == expected["per_day"]
    for age, (passed, failed) in expected["retention"].items():
        assert (found.true_retention[age].passed, found.true_retention[age].failed) == (
            passed,
            failed,
        )
    assert [day.count for day in found.forecast] == expected["forecast"]
    assert {k: v for k, v in found.cards_by_state.items() if v} == expected["states"]
    assert {
        topic.topic: (topic.retention.total, topic.retention.passed, topic.recall)
        for topic in found.topics
    } == expected["topics"]
