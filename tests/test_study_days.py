"""When a studied item is due (study_days.py): a card in review, and a learning step that falls
on a later study day than its rating, for the whole of its study day counted from the rating's
(across a clock change too); a learning step within the day at its time. The queue, `due`'s
counts, the next card's time and `stats`' forecast agree on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studycli.study import rating as core
from studycli.study.api import Study, study_items
from studycli.study.stats import stats
from studycli.study.study_days import DueToday, due_at, first_due_at

from .study_support import NO_FUZZ, fixture_content
from .test_study_queue import zone_passed

BERLIN = ZoneInfo("Europe/Berlin")
CARD = "bias-concept"


def _berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)


def _learnt_to_a_day(study: Study, when: datetime) -> None:
    """A new card rated Again, Good, Good at `when`, as the simulation did: in review, 1 day."""
    card = fixture_content().get(CARD)
    for rating in (1, 3, 3):
        core.rate(study.store, card, rating, when, study.settings)
    state = core.fsrs_card(study.store.state(CARD))
    assert state.state.name == "Review" and state.due - when == timedelta(days=1)


def _shown(study: Study, moment: datetime, tz) -> dict[str, int]:
    """What the queue, today's forecast and, in the system's zone (`tz` None, as the CLI's),
    `due`'s counts say of `moment`: the card due now in the queue (review or learning), the
    cards due now in `due`'s counts, those due today in the forecast."""
    items = study_items(fixture_content().cards.values())
    queue = study.queue(items, moment, tz)
    forecast = stats(study.store, items, study.settings, moment, tz).forecast
    shown = {
        "queue": sum(c.id == CARD for c in (*queue.review, *queue.learning)),
        "forecast today": forecast[0].count,
    }
    if tz is None:
        counts = study.due_counts(items, moment)
        shown["due"] = counts.due + counts.learning
    return shown


def _due_on(study: Study, moment: datetime, tz, count: int) -> None:
    shown = _shown(study, moment, tz)
    assert shown == dict.fromkeys(shown, count), moment


@pytest.mark.parametrize("system", [False, True])
def test_a_day_rated_just_after_the_days_start_before_the_clocks_go_back_is_the_next(
    tmp_path, monkeypatch, system
):
    """ "Good 1d" at 04:30 CEST on 2026-10-24 falls due at 03:30 CET on the 25th: an instant of
    study day 10-24, so the card came straight back in the same session. Counted in whole
    study days, it is due from the 25th's start (04:00 CET), and not before."""
    rated = _berlin(2026, 10, 24, 4, 30)
    with (
        zone_passed(monkeypatch, "Europe/Berlin", system) as tz,
        Study.open(tmp_path / "reviews.sqlite3", NO_FUZZ._replace(new_per_day=0)) as study,
    ):
        _learnt_to_a_day(study, rated)
        _due_on(study, rated + timedelta(minutes=1), tz, 0)
        _due_on(study, _berlin(2026, 10, 25, 3, 59), tz, 0)
        _due_on(study, _berlin(2026, 10, 25, 4, 0), tz, 1)
        items = study_items(fixture_content().cards.values())
        assert study.next_due(items, rated, tz) == _berlin(2026, 10, 25, 4, 0)


@pytest.mark.parametrize("system", [False, True])
def test_a_day_rated_just_before_the_days_start_before_the_clocks_go_forward_is_the_next(
    tmp_path, monkeypatch, system
):
    """ "Good 1d" at 03:30 CET on 2026-03-28 (study day 03-27) falls due at 04:30 CEST on the
    29th, an instant of study day 03-29: it was due on no study day 03-28. It is due for the
    whole of 03-28, from its start, half an hour after the rating."""
    rated = _berlin(2026, 3, 28, 3, 30)
    with (
        zone_passed(monkeypatch, "Europe/Berlin", system) as tz,
        Study.open(tmp_path / "reviews.sqlite3", NO_FUZZ._replace(new_per_day=0)) as study,
    ):
        _learnt_to_a_day(study, rated)
        _due_on(study, rated + timedelta(minutes=1), tz, 0)
        _due_on(study, _berlin(2026, 3, 28, 4, 0), tz, 1)
        _due_on(study, _berlin(2026, 3, 28, 20, 0), tz, 1)
        _due_on(study, _berlin(2026, 3, 29, 3, 59), tz, 1)
        items = study_items(fixture_content().cards.values())
        assert study.next_due(items, rated, tz) == _berlin(2026, 3, 28, 4, 0)


def _stepped(tmp_path, steps: tuple[timedelta, ...], rated: datetime) -> Study:
    """A study whose new card was rated Good at `rated`, to its second learning step."""
    settings = NO_FUZZ._replace(new_per_day=0, learning_steps=steps)
    study = Study.open(tmp_path / "reviews.sqlite3", settings)
    core.rate(study.store, fixture_content().get(CARD), 3, rated, settings)
    state = core.fsrs_card(study.store.state(CARD))
    assert state.state.name == "Learning" and state.due - rated == steps[1]
    return study


@pytest.mark.parametrize("system", [False, True])
def test_a_learning_step_of_a_day_is_due_the_whole_next_study_day(tmp_path, monkeypatch, system):
    """Learning steps 10m, 1d: Good at 20:00 is a step to the next study day. It was due at
    20:00 the next evening, not that morning ("next card due in 13h (20:00)" at 07:30); as
    Anki's interday steps, it is due from that day's start (04:00)."""
    rated = _berlin(2025, 5, 4, 20, 0)
    day = (timedelta(minutes=10), timedelta(days=1))
    with (
        zone_passed(monkeypatch, "Europe/Berlin", system) as tz,
        _stepped(tmp_path, day, rated) as study,
    ):
        _due_on(study, _berlin(2025, 5, 5, 3, 59), tz, 0)
        _due_on(study, _berlin(2025, 5, 5, 4, 0), tz, 1)
        _due_on(study, _berlin(2025, 5, 5, 7, 30), tz, 1)
        items = study_items(fixture_content().cards.values())
        assert study.next_due(items, rated, tz) == _berlin(2025, 5, 5, 4, 0)


@pytest.mark.parametrize("rated_at", [(4, 30), (9, 0)])
def test_a_learning_step_of_a_day_is_not_learnt_ahead_before_its_day(tmp_path, rated_at):
    """Learning steps 10m, 1d: a step to the next study day is due from that day's start and
    not before, as Anki's interday steps are never learnt ahead. Rated just after 04:00, its
    due time fell within the hours after the next day's start that the queue reads, and at
    03:45 the session showed it early: rated then (the study day before its own), Good
    graduated it to a day counted from that day, due at 04:00, a quarter of an hour on. Rated
    at 09:00 it was not shown early: the queue never read it."""
    rated = _berlin(2025, 5, 4, *rated_at)
    day = (timedelta(minutes=10), timedelta(days=1))
    with _stepped(tmp_path, day, rated) as study:
        items = study_items(fixture_content().cards.values())
        before = study.queue(items, _berlin(2025, 5, 5, 3, 45), BERLIN)
        assert (before.learning, before.ahead, before.next()) == ([], [], None)
        start = study.queue(items, _berlin(2025, 5, 5, 4, 0), BERLIN)
        assert [c.id for c in start.learning] == [CARD]
        assert study.next_due(items, _berlin(2025, 5, 5, 3, 45), BERLIN) == _berlin(2025, 5, 5, 4)


def test_a_learning_step_within_the_day_is_due_at_its_minute(tmp_path):
    """Learning steps 10m, 1h: Good at 20:00 is due at 21:00, not from any day's start."""
    rated = _berlin(2025, 5, 4, 20, 0)
    hour = (timedelta(minutes=10), timedelta(hours=1))
    with _stepped(tmp_path, hour, rated) as study:
        items = study_items(fixture_content().cards.values())
        assert study.next_due(items, rated, BERLIN) == _berlin(2025, 5, 4, 21, 0)
        early = study.queue(items, _berlin(2025, 5, 4, 20, 59), BERLIN)
        assert (early.learning, [c.id for c in early.ahead]) == ([], [CARD])  # (soon)
        assert [c.id for c in study.queue(items, _berlin(2025, 5, 4, 21), BERLIN).learning] == [
            CARD
        ]
        forecast = stats(study.store, items, study.settings, rated, BERLIN).forecast
        assert (forecast[0].day, forecast[0].count) == (date(2025, 5, 4), 1)


@pytest.mark.parametrize("rated", [_berlin(2026, 10, 24, 4, 30), _berlin(2026, 3, 28, 3, 30)])
def test_due_the_queue_and_the_forecast_agree_every_half_hour_across_a_clock_change(
    tmp_path, monkeypatch, rated
):
    """Every half hour of the two days after a rating on the eve of a clock change, the queue,
    `due`'s counts and today's forecast count the card alike, and the day it becomes due on
    is the forecast's tomorrow the moment before."""
    with (
        zone_passed(monkeypatch, "Europe/Berlin", True) as tz,
        Study.open(tmp_path / "reviews.sqlite3", NO_FUZZ._replace(new_per_day=0)) as study,
    ):
        _learnt_to_a_day(study, rated)
        items = study_items(fixture_content().cards.values())
        became = None
        for half_hours in range(1, 96):
            moment = rated + half_hours * timedelta(minutes=30)
            shown = _shown(study, moment, tz)
            assert len(set(shown.values())) == 1, (moment, shown)
            if shown["queue"] and became is None:
                became = moment
                earlier = moment - timedelta(minutes=30)
                before = stats(study.store, items, study.settings, earlier, tz).forecast
                assert [d.count for d in before[:2]] == [0, 1]
        assert became is not None


ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Antarctica/Troll", "UTC")
_moments = st.integers(0, 2 * 365 * 24 * 60).map(
    lambda minutes: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
)
_lengths = st.sampled_from([timedelta(minutes=10), timedelta(hours=1), timedelta(hours=20)]) | (
    st.integers(1, 40).map(lambda days: timedelta(days=days))
)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.sampled_from([0, 2, 4, 23]),
    rated=_moments,
    length=_lengths,
    later=st.integers(-3 * 24 * 60, 3 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    in_review=st.booleans(),
)
def test_the_queues_shortcuts_say_what_the_rule_says(zone, hour, rated, length, later, in_review):
    """`DueToday` decides most rows from their stored text alone; it says what `due_at` says of
    each, near clock changes and the day's start too; and `first_due_at` finds the least."""
    tz = ZoneInfo(zone)
    due = rated + length
    now = due + later
    today = DueToday(now, hour, tz)
    last_text, due_text = rated.isoformat(), due.isoformat()
    at = due_at(in_review, due, rated, hour, tz)
    if in_review:
        assert today.review_is_due(due_text, last_text) == (at <= now)
    else:
        assert today.learning_at(due_text, last_text) == at
    others = [(due + step * timedelta(hours=5), rated) for step in range(6)]
    rows = sorted((d.isoformat(), r.isoformat()) for d, r in [(due, rated), *others])
    least = min(due_at(in_review, d, r, hour, tz) for d, r in [(due, rated), *others])
    assert first_due_at(rows, in_review, hour, tz) == least
