"""What is due: learning, then reviews by due date, then new cards (prerequisites first), with
daily limits counted per study day (rolling over at 4 am local), suspended cards left out."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studycli.content.card import Card, Kind
from studycli.content.study_view import StudyItem
from studycli.study import labels
from studycli.study import rating as core
from studycli.study.queue import (
    due_by_deck,
    due_from,
    leeches,
    prerequisite_order,
)
from studycli.study.review_records import CardState
from studycli.study.settings import NEW_ORDERS
from studycli.study.store import Store
from studycli.study.study_days import next_day_start, study_date, study_day_start

from .study_support import NO_FUZZ, NOW, fixture_content, open_store

UTC = UTC


def _due(store, cards, moment, config=NO_FUZZ, tz=UTC):
    return due_from(store, cards, moment, config, tz)


def _card(card_id: str, requires=(), deck="d") -> Card:
    return Card(
        id=card_id,
        kind=Kind.CONCEPT,
        topic="t",
        title=card_id,
        prompt="p",
        deck=deck,
        path=Path(f"{card_id}.yaml"),
        answer="a",
        requires=tuple(requires),
    )


def test_the_study_day_starts_at_the_configured_local_hour():
    day = datetime(2025, 3, 2, tzinfo=UTC)
    assert study_day_start(day.replace(hour=3, minute=59), 4, UTC) == day.replace(day=1, hour=4)
    assert study_day_start(day.replace(hour=4), 4, UTC) == day.replace(hour=4)
    tokyo = timezone(timedelta(hours=9))  # 4 am in Tokyo is 19:00 UTC the day before
    assert study_day_start(day.replace(hour=20), 4, tokyo) == day.replace(hour=19)
    assert study_day_start(day.replace(hour=18), 4, tokyo) == day.replace(day=1, hour=19)


@pytest.mark.parametrize(
    ("zone", "months"),
    [
        ("Europe/Berlin", (3, 10)),
        ("America/New_York", (3, 11)),
        ("Australia/Sydney", (4, 10)),
        ("America/Santiago", (4, 9)),
    ],
)
@pytest.mark.parametrize("system", [False, True])
def test_the_next_study_day_starts_at_its_local_hour_across_a_clock_change(
    zone, months, system, monkeypatch
):
    """The day after a study day is the next local date at its hour, where the clocks change
    too: 24 hours on was the day after next (the hour before 4 am on the eve of spring
    forward: tomorrow's reviews due an hour early) or today (the hour after 4 am on the eve of
    fall back: today's reviews held until 5 am); and a day starting in the hour the clocks
    skip (2 am in Berlin, midnight in Santiago) started an hour early in the system's zone,
    and one starting in the hour they repeat (1 am in New York) at its second occurrence.
    Every 20 minutes of the months of the changes, in the zone given and in the system's (the
    CLI passes None: TZ)."""
    here = ZoneInfo(zone)
    with zone_passed(monkeypatch, zone, system) as tz:
        for hour in (0, 1, 2, 4):
            for now in every(timedelta(minutes=20), months):  # the zone's two changes
                day = study_date(now, hour, here)
                began = datetime.combine(day, clock(hour), here).astimezone(UTC)
                want = datetime.combine(day + timedelta(days=1), clock(hour), here)
                want = want.astimezone(UTC)
                assert next_day_start(now, hour, tz) == want, (hour, now)
                if system:  # (`day` is this zone's study_date: the system's must agree)
                    assert study_date(now, hour, tz) == day, (hour, now)
                assert study_day_start(now, hour, tz) == began <= now < want, (hour, now)


@contextmanager
def zone_passed(monkeypatch, zone: str, system: bool) -> Iterator[tzinfo | None]:
    """The zone a caller passes: `zone` itself, or None (what the CLI passes) with the
    system's zone set to `zone` (TZ) meanwhile."""
    with monkeypatch.context() as patch:
        if system:
            patch.setenv("TZ", zone)
            time.tzset()
        try:
            yield None if system else ZoneInfo(zone)
        finally:
            patch.undo()
            time.tzset()


def every(step: timedelta, months: tuple[int, ...]) -> Iterator[datetime]:
    """Every `step` of these months of 2025, in UTC."""
    for month in months:
        start = datetime(2025, month, 1, tzinfo=UTC)
        for count in range(timedelta(days=31) // step):
            yield start + count * step


@functools.cache
def first_reading(day, hour: int, zone: ZoneInfo) -> datetime:
    """The first minute (UTC) at which the clock in `zone` reads `hour` o'clock on `day` or
    later, found by reading it every minute from six hours before."""
    target = datetime.combine(day, clock(hour))
    moment = datetime.combine(day, clock(hour), zone).astimezone(UTC) - timedelta(hours=6)
    while moment.astimezone(zone).replace(tzinfo=None) < target:
        moment += timedelta(minutes=1)
    return moment


@pytest.mark.parametrize(
    ("zone", "months", "hours"),
    [
        ("Antarctica/Troll", (3, 10), (1, 2, 3)),  # two hours skipped at 1 am, in March
        ("Pacific/Chatham", (4, 9), (2, 3, 4)),  # an hour at 2:45 (3:45 back, in April)
        ("Australia/Lord_Howe", (4, 10), (1, 2)),  # half an hour at 2 am (back at 2)
    ],
)
@pytest.mark.parametrize("system", [False, True])
def test_the_study_day_starts_when_the_clock_first_reads_its_hour_in_any_zone(
    zone, months, hours, system, monkeypatch
):
    """Where the clocks skip more than the hour or not on the hour, a day starting in what
    they skip started late (an hour in Troll at 2 am, a quarter in Chatham at 3 am): it
    starts at the moment they skip to. And where they go back from 3:45 to 2:45 (Chatham),
    the second 2:45 to 3:00 belonged to the day before, started a day earlier again (and its
    date, stats' day and the fit's, was the day before's until this day's start was found)."""
    here = ZoneInfo(zone)
    with zone_passed(monkeypatch, zone, system) as tz:
        for hour in hours:
            for now in every(timedelta(minutes=15), months):  # the zone's changes
                near = (now.astimezone(here) - timedelta(hours=hour)).date()
                day = next(
                    d for d in (near + timedelta(days=k) for k in (1, 0, -1))
                    if first_reading(d, hour, here) <= now
                )  # fmt: skip
                began = first_reading(day, hour, here)
                want = first_reading(day + timedelta(days=1), hour, here)
                assert study_day_start(now, hour, tz) == began <= now < want, (hour, now)
                assert next_day_start(now, hour, tz) == want, (hour, now)
                assert study_date(now, hour, tz) == day, (hour, now)  # stats' and fits' days


def test_a_review_is_due_the_whole_study_day_it_falls_due_in(tmp_path):
    """Rated at 22:00, a card in review falls due at 22:00 some days later; it was not due the
    morning of that day (an evening learner's reviews all came most of a day late). As Anki,
    it is due from the start of that study day (4 am) on, and not before."""
    card = fixture_content().get("bias-concept")
    evening = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)
    with open_store(tmp_path) as store:
        core.rate(store, card, 4, evening, NO_FUZZ)  # Easy: in review, due days later
        due = core.fsrs_card(store.state(card.id)).due
        assert (due.hour, due.minute) == (22, 0) and due.date() > evening.date()

        def reviews_at(hour: int, minute: int = 0, day=due) -> list[str]:
            moment = day.replace(hour=hour, minute=minute)
            return [c.id for c in _due(store, [card], moment, NO_FUZZ).review]

        assert reviews_at(8) == reviews_at(4) == reviews_at(21, 59) == ["bias-concept"]
        assert reviews_at(3, 59) == [] and reviews_at(23, day=due - timedelta(days=1)) == []


def test_the_new_card_limit_is_per_study_day_and_rolls_over_at_4_am(tmp_path):
    content = fixture_content()
    cards = list(content.cards.values())
    config = NO_FUZZ._replace(new_per_day=2)
    evening = datetime(2025, 3, 1, 23, 0, tzinfo=UTC)
    with open_store(tmp_path) as store:
        first = _due(store, cards, evening, config)
        assert len(first.new) == 2
        for card in first.new:
            core.rate(store, card, 4, evening, config)
        assert _due(store, cards, evening.replace(day=2, hour=3, minute=59), config).new == []
        assert len(_due(store, cards, evening.replace(day=2, hour=4), config).new) == 2


def test_undone_ratings_do_not_count_against_the_daily_limit(tmp_path):
    content = fixture_content()
    config = NO_FUZZ._replace(new_per_day=1)
    with open_store(tmp_path) as store:
        entry = core.rate(store, content.get("add-one"), 4, NOW, config)
        assert _due(store, list(content.cards.values()), NOW, config).new == []
        core.undo(store, entry.id, NOW)
        assert [c.id for c in _due(store, list(content.cards.values()), NOW, config).new] == [
            "add-one"
        ]


def test_ratings_of_a_later_day_do_not_fill_todays_limit(tmp_path):
    """Two new cards rated tomorrow (another machine's clock ahead, its export imported
    here; or this clock set back): today still offers its two new cards (they counted
    against today's limit, which left none)."""
    content = fixture_content()
    cards = list(content.cards.values())
    config = NO_FUZZ._replace(new_per_day=2)
    tomorrow = NOW + timedelta(days=1)
    with open_store(tmp_path) as store:
        for card in _due(store, cards, tomorrow, config).new:
            core.rate(store, card, 4, tomorrow, config)
        today = _due(store, cards, NOW, config).new
        assert len(today) == 2
        assert _due(store, cards, tomorrow, config).new == []  # tomorrow's are its own


def test_new_cards_come_prerequisites_first():
    content = fixture_content()
    order = [c.id for c in prerequisite_order(list(content.cards.values()))]
    assert order == ["add-one", "bias-concept", "poisson-concept", "triangle-derivation"]
    cards = [_card("a-first-by-name", requires=["z-basis"]), _card("m-middle"), _card("z-basis")]
    assert [c.id for c in prerequisite_order(cards)] == ["m-middle", "z-basis", "a-first-by-name"]


def test_a_requirement_left_out_by_a_filter_still_comes_first_until_studied(tmp_path):
    """`review --deck numbers`: both its cards require a card of deck basics; a requirement
    outside the filtered cards was ignored. Now a card whose requirement was never studied
    comes after those whose requirements were."""
    content = fixture_content()
    numbers = [c for c in content.cards.values() if c.deck == "numbers"]
    assert {c.id: c.requires for c in numbers} == {
        "poisson-concept": ("bias-concept",), "triangle-derivation": ("add-one",)
    }  # fmt: skip
    with open_store(tmp_path) as store:
        core.rate(store, content.get("add-one"), 3, NOW, NO_FUZZ)
        order = [c.id for c in _due(store, numbers, NOW).new]
    assert order == ["triangle-derivation", "poisson-concept"]  # (by id, poisson came first)
    cards = [_card("b", requires=["a"]), _card("c")]
    assert [c.id for c in prerequisite_order(cards, None, None, set())] == ["c", "b"]
    assert [c.id for c in prerequisite_order(cards, None, None, {"a"})] == ["b", "c"]


@pytest.mark.parametrize("prompt", ["x = {{c2::y}}, z = {{c3::w}}", ""], ids=["card", "row"])
def test_a_requirement_on_a_cloze_card_without_c1_still_comes_first(prompt):
    """A published cloze card may have lost c1 (its number stays unused): a card requiring it
    waited for `need#c1`, which no item has, and came after every other new card. The rows
    `due` counts have no prompt ("row"): there it still waited for c1, so `due` counted
    fewer new cards than `review` showed."""
    items = [replace(_card(f"a-cloze#c{n}"), prompt=prompt) for n in (2, 3)]
    items += [_card("b", requires=["a-cloze"])] + [_card(f"z-other{i}") for i in range(3)]
    order = [c.id for c in prerequisite_order(items, 4, None, set())]
    assert order == ["a-cloze#c2", "a-cloze#c3", "b", "z-other0"]
    # the rows `due` counts (no prompt): as before, c1 is the first
    rows = [StudyItem(c.id, c.deck, c.requires) for c in items]
    assert prerequisite_order(rows, 4, None, set())[0].id == "a-cloze#c2"  # (it raised)
    # once one of its deletions is studied (and so not among the new items), b is free
    studied = {"a-cloze#c3"}
    rest = [c for c in items if c.id not in studied]
    assert [c.id for c in prerequisite_order(rest, 2, None, studied)][:2] == ["a-cloze#c2", "b"]


def test_a_prerequisite_cycle_does_not_hang():
    cards = [_card("a", requires=["b"]), _card("b", requires=["a"]), _card("c")]
    assert [c.id for c in prerequisite_order(cards)] == ["c", "a", "b"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcdefgh"),
            st.sampled_from("xy"),
            st.sets(st.sampled_from("abcdefghz")),
        ),
        max_size=12,
    ),
    st.integers(0, 14),
    st.none() | st.dictionaries(st.sampled_from("xyw"), st.integers(0, 3)),
)
def test_the_first_cards_of_the_order_are_the_orders_first(specs, limit, interleave):
    """With a limit (a review's new cards for today), the order stops early: its first cards
    are those of the whole order, with cycles, duplicate ids and unknown requires, deck by
    deck or the decks in turn (from any turns taken earlier in the day)."""
    cards = [_card(i, deck=deck, requires=sorted(needs)) for i, deck, needs in specs]
    whole = prerequisite_order(cards, interleave=interleave)
    assert prerequisite_order(cards, limit, interleave=interleave) == whole[:limit]
    assert {c.id for c in whole} == {c.id for c in cards}


def test_new_cards_come_from_the_decks_in_turn_unless_new_order_is_deck(tmp_path):
    """With 20 new cards a day, deck by deck, a learner's first weeks held only the first
    decks by name (algorithms, classical-ml) and transformers came weeks later. By default
    the decks take turns, each in its own order; `new_order = "deck"` keeps deck by deck."""
    cards = [_card(f"b-{i}", deck="biology") for i in (3, 1, 2, 5, 4)]
    cards += [_card(f"a-{i}", deck="algebra") for i in (2, 1, 3)]
    with open_store(tmp_path) as store:
        interleaved = _ids(_due(store, cards, NOW).new)
        deck_by_deck = _ids(_due(store, cards, NOW, NO_FUZZ._replace(new_order="deck")).new)
    assert interleaved == ["a-1", "b-1", "a-2", "b-2", "a-3", "b-3", "b-4", "b-5"]
    assert deck_by_deck == ["a-1", "a-2", "a-3", "b-1", "b-2", "b-3", "b-4", "b-5"]


def test_interleaved_new_cards_still_come_prerequisites_first():
    """A deck whose free cards wait for another deck's is passed over until they are free."""
    content = fixture_content()  # numbers' cards require basics'
    order = _ids(prerequisite_order(list(content.cards.values()), interleave={}))
    assert order == ["add-one", "triangle-derivation", "bias-concept", "poisson-concept"]
    cards = [_card("x-1", ["y-3"], deck="x"), _card("x-2", deck="x")]
    cards += [_card(f"y-{i}", deck="y") for i in (1, 2, 3)]
    assert _ids(prerequisite_order(cards, interleave={})) == ["x-2", "y-1", "y-2", "y-3", "x-1"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("xyz"), st.sets(st.integers(0, 11), max_size=3)), max_size=12
    ),
    st.dictionaries(st.sampled_from("xyz"), st.integers(0, 3)),
)
def test_the_decks_in_turn_keep_each_deck_s_order_and_its_prerequisites_first(specs, given):
    """Cards that require earlier ones (no cycle), in any decks: each card comes after what
    it requires, and each deck's cards, where they require only their own deck's, come in the
    order the deck gives on its own."""
    cards = [
        _card(f"c{at:02d}", [f"c{n:02d}" for n in needs if n < at], deck=deck)
        for at, (deck, needs) in enumerate(specs)
    ]
    order = _ids(prerequisite_order(cards, interleave=given))
    assert sorted(order) == _ids(cards)
    for card in cards:
        assert all(order.index(need) < order.index(card.id) for need in card.requires)
    decks = {card.id: card.deck for card in cards}
    for deck in "xyz":
        own = [c for c in cards if c.deck == deck]
        if all(decks[need] == deck for card in own for need in card.requires):
            assert [i for i in order if decks[i] == deck] == _ids(prerequisite_order(own))


def test_the_new_order_changes_which_new_cards_come_not_how_many(tmp_path):
    """`due` counts the day's new cards in all and in each deck (`due_by_deck`, over the rows
    `due` reads or the cards `review` shows): the order picks which come first under the
    day's limit, never how many, and a cloze card's deletions wait one a day either way."""
    cards = [_card(i, deck="a") for i in ("a-1", "a-2#c1", "a-2#c2", "a-3", "a-4", "a-5")]
    cards += [_card("b-1", ["a-4"], deck="b"), _card("b-3", ["a-2"], deck="b")]
    cards += [_card(i, deck="b") for i in ("b-2#c1", "b-2#c2", "b-4")]
    rows = [StudyItem(card.id, card.deck, card.requires) for card in cards]
    picked = set()
    with open_store(tmp_path) as store:
        for card in cards[:2]:  # a-1 and a-2#c1 introduced today: a-2#c2 waits
            core.rate(store, card, 3, NOW - timedelta(hours=1), NO_FUZZ)
        for new_per_day in range(2, 12):  # 0 to 9 left today, of 7 to show
            for items in (cards, rows):
                counts = set()
                for order in NEW_ORDERS:
                    config = NO_FUZZ._replace(new_per_day=new_per_day, new_order=order)
                    whole, decks = due_by_deck(store, items, NOW, config, UTC)
                    by_deck = {deck: len(due.new) for deck, due in decks.items()}
                    counts.add((len(whole.new), whole.held_new, tuple(by_deck.items())))
                    picked.add((new_per_day, tuple(_ids(whole.new))))
                assert len(counts) == 1, (new_per_day, counts)
                assert len(whole.new) == min(new_per_day - 2, 7)
    assert len(picked) > len(range(2, 12))  # (the orders differ: the test can fail)


@pytest.mark.parametrize("bury", [True, False])
def test_the_decks_turns_go_on_where_they_were_after_each_rating(tmp_path, bury):
    """A review session asks for its queue again after each rating: the decks' turns are
    counted from the new cards studied today, so the day's order goes on where it was (taken
    afresh each time, the first deck's cards came first until it had none). A cloze sibling
    left for tomorrow gives its deck's turn to the deck's next card."""
    cards = [_card(i, deck="a") for i in ("a-1", "a-2#c1", "a-2#c2", "a-3")]
    cards += [_card(f"b-{i}", deck="b") for i in (1, 2, 3)]
    config = NO_FUZZ._replace(bury_siblings=bury)
    with open_store(tmp_path) as store:
        first = _ids(_due(store, cards, NOW, config).new)
        if bury:
            assert first == ["a-1", "b-1", "a-2#c1", "b-2", "a-3", "b-3"]
        else:
            assert first == ["a-1", "b-1", "a-2#c1", "b-2", "a-2#c2", "b-3", "a-3"]
        by_id = {card.id: card for card in cards}
        for at, card_id in enumerate(first):
            core.rate(store, by_id[card_id], 3, NOW + timedelta(seconds=at), config)
            later = NOW + timedelta(seconds=at + 1)
            assert _ids(_due(store, cards, later, config).new) == first[at + 1 :]
        # the next day's turns start again from the first deck (deck a gave more today)
        more = [*cards, _card("a-9", deck="a"), _card("b-0", deck="b")]
        tomorrow = _ids(_due(store, more, NOW + timedelta(days=1), config).new)
        assert tomorrow[:2] == ["a-9", "b-0"]


def test_learning_first_then_reviews_by_due_date_then_new(tmp_path):
    content = fixture_content()
    cards = list(content.cards.values())
    with open_store(tmp_path) as store:
        core.rate(store, content.get("poisson-concept"), 4, NOW, NO_FUZZ)  # review, later
        core.rate(store, content.get("bias-concept"), 4, NOW - timedelta(days=9), NO_FUZZ)  # review
        core.rate(store, content.get("add-one"), 1, NOW + timedelta(days=20), NO_FUZZ)  # learning
        later = NOW + timedelta(days=40)
        due = _due(store, cards, later)
        assert [c.id for c in due.learning] == ["add-one"]
        assert [c.id for c in due.review] == ["bias-concept", "poisson-concept"]
        assert [c.id for c in due.new] == ["triangle-derivation"]
        assert due.next().id == "add-one"


def test_learning_cards_due_soon_come_only_when_nothing_else_is_left(tmp_path):
    content = fixture_content()
    cards = [content.get("add-one"), content.get("bias-concept")]
    with open_store(tmp_path) as store:
        core.rate(store, content.get("add-one"), 3, NOW, NO_FUZZ)  # next step in 10 minutes
        due = _due(store, cards, NOW)
        assert due.learning == [] and [c.id for c in due.ahead] == ["add-one"]
        assert due.next().id == "bias-concept"
        core.rate(store, content.get("bias-concept"), 3, NOW, NO_FUZZ)
        assert _due(store, cards, NOW).next().id == "add-one"


def test_suspended_cards_never_show_and_come_back_as_they_were(tmp_path):
    content = fixture_content()
    cards = list(content.cards.values())
    with open_store(tmp_path) as store:
        core.rate(store, content.get("bias-concept"), 4, NOW, NO_FUZZ)
        state = store.state("bias-concept")
        store.set_suspended("bias-concept", True)
        store.set_suspended("add-one", True)
        due = _due(store, cards, NOW + timedelta(days=60))
        assert {"bias-concept", "add-one"}.isdisjoint(c.id for c in due.review + due.new)
        store.set_suspended("bias-concept", False)
        assert store.state("bias-concept") == state
        assert [c.id for c in _due(store, cards, NOW + timedelta(days=60)).review] == [
            "bias-concept"
        ]


def test_the_daily_review_limit(tmp_path):
    content = fixture_content()
    cards = list(content.cards.values())
    config = NO_FUZZ._replace(reviews_per_day=1)
    with open_store(tmp_path) as store:
        for card in cards:
            core.rate(store, card, 4, NOW, config)
        later = NOW + timedelta(days=60)
        assert len(_due(store, cards, later, config).review) == 1
        core.rate(store, _due(store, cards, later, config).review[0], 3, later, config)
        assert _due(store, cards, later, config).review == []


def test_the_card_shown_next_is_learning_then_review_then_new_then_learning_due_soon(tmp_path):
    """As Anki and the module's docstring order them: a card in learning due (this very
    moment counts), then a review due, then a new card, and last a card in relearning due
    within the learn-ahead window (shown early only when nothing else is left)."""
    from fsrs import Card as FsrsCard
    from fsrs import State

    def state(card_id, fsrs_state, due):
        step = None if fsrs_state is State.Review else 0
        # (a learning step of 10 minutes: one of days would be due all its day)
        last = NOW - timedelta(days=2) if step is None else due - timedelta(minutes=10)
        card = FsrsCard(card_id=1, state=fsrs_state, step=step, stability=3.0, difficulty=5.0,
                        due=due, last_review=last)  # fmt: skip
        return CardState(card_id=card_id, fsrs=card.to_json(), reps=1)

    cards = list(fixture_content().cards.values())
    with open_store(tmp_path) as store:
        store.replace_states(
            [
                state("add-one", State.Review, NOW - timedelta(days=1)),
                state("bias-concept", State.Learning, NOW),
                state("poisson-concept", State.Relearning, NOW + timedelta(minutes=5)),
            ]
        )
        due = _due(store, cards, NOW)
    shown: list[str] = []
    while (card := due.next(frozenset(shown))) is not None:
        shown.append(card.id)
    assert shown == ["bias-concept", "add-one", "triangle-derivation", "poisson-concept"]


def test_leeches_have_eight_lapses():
    content = fixture_content()
    cards = list(content.cards.values())
    states = {
        "add-one": CardState("add-one", lapses=8),
        "bias-concept": CardState("bias-concept", lapses=7),
    }
    assert [c.id for c in leeches(cards, states)] == ["add-one"]


def test_lapses_count_forgotten_review_cards(tmp_path):
    card = fixture_content().get("bias-concept")
    moment = NOW
    with open_store(tmp_path) as store:
        core.rate(store, card, 4, moment, NO_FUZZ)
        for _ in range(8):
            moment += timedelta(days=30)
            core.rate(store, card, 1, moment, NO_FUZZ)  # a lapse: Review -> Relearning
            core.rate(store, card, 1, moment, NO_FUZZ)  # again while relearning: no lapse
            core.rate(store, card, 4, moment, NO_FUZZ)  # back to Review
        assert store.state(card.id).lapses == 8
        assert labels.is_leech(store.state(card.id))


def _old_due_now(cards, states, now, config, done_today, introduced=frozenset()):
    """The queue as it was computed before the due index: every card's fsrs state parsed. In
    UTC (no clock change), a card in review, or in a learning step that falls on a later study
    day than its rating, is due for the whole study day it falls due in; a learning step
    within its day at its time; a card is learnt ahead only on its own study day (a step
    rated before the day's start and due after it is not). `introduced`: the cards first studied today, whose decks took
    their turns (`new_order` "interleaved")."""
    from fsrs import State

    from studycli.study.queue import LEARN_AHEAD, Due

    start = timedelta(hours=config.day_starts_at)

    def day(moment):  # the study day of a UTC moment, and its start
        return (moment - start).date()

    def day_start(moment):
        return datetime.combine(day(moment), clock(), UTC) + start

    learning, review, ahead, new = [], [], [], []
    for card in cards:
        state = states.get(card.id)
        if state is not None and state.suspended:
            continue
        current = core.fsrs_card(state)
        if current is None:
            new.append(card)
            continue
        entry = (current.due, card.id, card)
        whole_day = current.state == State.Review or day(current.due) > day(current.last_review)
        at = day_start(current.due) if whole_day else current.due
        if current.state == State.Review:
            if at <= now:
                review.append(entry)
        elif at <= now:
            learning.append(entry)
        elif at <= now + LEARN_AHEAD and day(at) == day(now):  # (not before its study day)
            ahead.append(entry)

    def by_due(entries):
        return [card for _, _, card in sorted(entries, key=lambda e: (e[0], e[1]))]

    new_left = max(0, config.new_per_day - done_today.get("new", 0))
    given = None
    if config.new_order == "interleaved":
        given = {}
        for card in cards:
            if card.id in introduced:
                given[card.deck] = given.get(card.deck, 0) + 1
    return Due(
        learning=by_due(learning),
        review=by_due(review)[: max(0, config.reviews_per_day - done_today.get("review", 0))],
        new=prerequisite_order(new, interleave=given)[:new_left],
        ahead=by_due(ahead),
        held_new=0 if new_left else len(new),  # the day's new limit reached: all wait
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000))
def test_the_indexed_queue_equals_the_queue_from_every_state(tmp_path_factory, seed):
    """Random ratings at random times over 40 cards: what the due index gives is what parsing
    every card's state gave, in the same order, limits included."""
    rng = random.Random(seed)
    cards = [_card(f"c{i:02d}", deck=rng.choice("ab")) for i in range(40)]
    config = NO_FUZZ._replace(
        new_per_day=rng.randint(0, 8),
        reviews_per_day=rng.randint(0, 8),
        new_order=rng.choice(NEW_ORDERS),
    )
    with open_store(tmp_path_factory.mktemp("queue")) as store:
        moment = NOW
        for _ in range(rng.randint(0, 120)):
            moment += timedelta(minutes=rng.choice([0, 1, 5, 30, 600, 3000]))
            card = rng.choice(cards)
            if rng.random() < 0.05:
                store.set_suspended(card.id, rng.random() < 0.7)
            else:
                core.rate(store, card, rng.randint(1, 4), moment, config)
        for later in (timedelta(0), timedelta(minutes=15), timedelta(days=3)):
            now = moment + later
            day = study_day_start(now, config.day_starts_at, UTC)
            done_today, _, introduced = store.studied_since(day)
            expected = _old_due_now(cards, store.states(), now, config, done_today, introduced)
            assert _due(store, cards, now, config) == expected


def test_a_study_keeps_its_queue_up_to_date_with_its_own_and_others_ratings(tmp_path):
    """Study.queue keeps which cards are not new between calls (a review session asks for a
    queue per card): its own ratings update it, another connection's writes refresh it."""
    from studycli.study.api import Study

    content = fixture_content()
    cards = list(content.cards.values())
    path = tmp_path / "reviews.sqlite3"
    with Study.open(path, NO_FUZZ) as study:
        assert len(study.queue(cards, NOW).new) == 4
        study.rate(content.get("add-one"), 3, NOW)
        assert "add-one" not in {c.id for c in study.queue(cards, NOW).new}
        with Store.open(path) as other:  # another process, say
            core.rate(other, content.get("bias-concept"), 3, NOW, NO_FUZZ)
        assert {c.id for c in study.queue(cards, NOW).new} == {
            "poisson-concept",
            "triangle-derivation",
        }
        study.set_suspended([content.get("poisson-concept")], True)
        assert [c.id for c in study.queue(cards, NOW).new] == ["triangle-derivation"]


def test_the_card_index_is_kept_for_the_same_cards_and_made_again_for_others():
    from studycli.study.api import study_items
    from studycli.study.queue import CardIndex

    cards = study_items(fixture_content().cards.values())
    index = CardIndex()
    first = index.of(cards)
    assert first == {card.id: card for card in cards}
    assert index.of(cards) is first  # the same list: the same dict, not made again
    assert index.of(list(cards)) is first  # the same cards in another list
    fewer = cards[:3]
    assert index.of(fewer) == {card.id: card for card in fewer}
    swapped = [cards[1], cards[0], *cards[2:3]]
    assert list(index.of(swapped)) == [cards[1].id, cards[0].id, cards[2].id]
    cards.append(cards.pop(0))  # changed in place, same length: made again, in the new order
    assert list(index.of(cards))[-1] == cards[-1].id


def test_the_store_s_review_state_is_fsrs_s():
    from fsrs import State

    from studycli.study.review_records import REVIEW_STATE

    assert State.Review.value == REVIEW_STATE


def test_the_card_index_s_new_cards_follow_a_growing_seen_set_and_a_new_one():
    from studycli.study.api import study_items
    from studycli.study.queue import CardIndex

    cards = study_items(fixture_content().cards.values())
    index = CardIndex()
    index.of(cards)
    seen = {cards[0].id}
    assert index.unseen(seen) == cards[1:]
    seen.add(cards[1].id)  # rated: the same set, grown
    assert index.unseen(seen) == cards[2:]
    assert index.unseen({cards[2].id}) == [cards[0], cards[1], *cards[3:]]  # another set
    index.of(cards[:2])  # other cards: worked out again
    assert index.unseen(set()) == cards[:2]


def test_a_deck_s_queue_finds_its_first_reviews_past_many_of_other_decks(tmp_path):
    """The store reads review cards a page at a time and stops at the daily limit: a queue
    over one deck, whose cards are few among many due, still gets its first reviews in due
    order, the same as parsing every card's state gives (pages of 64, then 256, ...)."""
    cards = [_card(f"c{i:03d}", deck="ab"[i % 7 == 0]) for i in range(300)]
    config = NO_FUZZ._replace(reviews_per_day=12, new_per_day=0)
    with open_store(tmp_path) as store:
        for i, card in enumerate(cards):
            core.rate(store, card, 4, NOW + timedelta(minutes=(i * 37) % 300), config)  # Review
        later = NOW + timedelta(days=60)
        few = [card for card in cards if card.deck == "b"]
        day = study_day_start(later, config.day_starts_at, UTC)
        for chosen in (few, cards, few[:1], []):
            expected = _old_due_now(chosen, store.states(), later, config, store.counts_since(day))
            assert _due(store, chosen, later, config) == expected
        assert len(_due(store, few, later, config).review) == 12


# --- siblings: a cloze card's deletions, one a day ---------------------------------------------


def _ids(cards) -> list[str]:
    return [card.id for card in cards]


def test_new_siblings_come_one_a_day_and_the_limit_is_filled_with_other_cards(tmp_path):
    cards = [_card(i) for i in ("a#c1", "a#c2", "a#c3", "b", "c#c1", "c#c2", "d")]
    config = NO_FUZZ._replace(new_per_day=4)
    with open_store(tmp_path) as store:
        assert _ids(_due(store, cards, NOW, config).new) == ["a#c1", "b", "c#c1", "d"]
        entry = core.rate(store, cards[0], 4, NOW, config)
        assert _ids(_due(store, cards, NOW, config).new) == ["b", "c#c1", "d"]
        tomorrow = NOW + timedelta(days=1)
        assert _ids(_due(store, cards, tomorrow, config).new)[:2] == ["a#c2", "b"]
        core.undo(store, entry.id, NOW)  # an undone rating buries nothing
        assert _ids(_due(store, cards, NOW, config).new) == ["a#c1", "b", "c#c1", "d"]
        unburied = config._replace(bury_siblings=False)
        assert _ids(_due(store, cards, NOW, unburied).new) == ["a#c1", "a#c2", "a#c3", "b"]


def test_review_siblings_due_together_are_shown_on_different_days(tmp_path):
    first, second = _card("a#c1"), _card("a#c2")
    with open_store(tmp_path) as store:
        # both learnt on the same day, with the same ratings
        for card in (first, second):
            core.rate(store, card, 4, NOW, NO_FUZZ)
        later = _due_at(store, first) + timedelta(hours=1)
        assert _due_at(store, second) <= later
        assert _ids(_due(store, [first, second], later).review) == ["a#c1"]
        core.rate(store, first, 3, later, NO_FUZZ)
        assert _due(store, [first, second], later).review == []
        next_day = later + timedelta(days=1)
        assert "a#c2" in _ids(_due(store, [first, second], next_day).review)
        unburied = NO_FUZZ._replace(bury_siblings=False)
        assert _ids(_due(store, [first, second], later, unburied).review) == ["a#c2"]


def test_a_sibling_in_learning_holds_back_the_others(tmp_path):
    """a#c1 failed yesterday and still in learning today (nothing rated today): shown first,
    it holds back its new sibling."""
    first, second = _card("a#c1"), _card("a#c2")
    with open_store(tmp_path) as store:
        core.rate(store, first, 1, NOW - timedelta(days=1), NO_FUZZ)  # Again: in learning
        due = _due(store, [first, second], NOW)
        assert _ids(due.learning) == ["a#c1"] and due.new == []


def test_a_card_that_requires_a_cloze_card_waits_for_its_first_deletion():
    cards = [_card("a-uses-it", requires=["z-cloze"]), _card("z-cloze#c1"), _card("z-cloze#c2")]
    assert _ids(prerequisite_order(cards)) == ["z-cloze#c1", "a-uses-it", "z-cloze#c2"]
    assert _ids(prerequisite_order(cards[::2])) == ["a-uses-it", "z-cloze#c2"]  # c1 seen


def test_a_buried_review_sibling_leaves_its_place_in_the_days_limit_to_another_card(tmp_path):
    """Two reviews a day: a#c1 and a#c2 come first by due time, b after them. a#c2 waits for
    the next day, and b takes its place today (the store's first two were a#c1 and a#c2)."""
    cards = [_card("a#c1"), _card("a#c2"), _card("b")]
    config = NO_FUZZ._replace(reviews_per_day=2)
    with open_store(tmp_path) as store:
        for minutes, card in enumerate(cards):  # learnt a minute apart: due in that order
            core.rate(store, card, 4, NOW + timedelta(minutes=minutes), config)
        later = _due_at(store, cards[2]) + timedelta(hours=1)
        assert _due_at(store, cards[0]) < _due_at(store, cards[1]) < later
        assert _ids(_due(store, cards, later, config).review) == ["a#c1", "b"]


# --- the day's review limit, read past buried siblings (from a mutation audit) ---------------


def _learnt_a_minute_apart(store, cards, config):
    """Rate each card Easy a minute after the one before: due in that order."""
    for minutes, card in enumerate(cards):
        core.rate(store, card, 4, NOW + timedelta(minutes=minutes), config)
    return max(_due_at(store, card) for card in cards) + timedelta(hours=1)


def _due_at(store, card) -> datetime:
    """When `card` (rated) falls due, as its stored state says."""
    return core.fsrs_card(store.state(card.id)).due


def test_the_review_limit_is_filled_when_siblings_are_not_buried(tmp_path):
    """Five reviews due, three a day, burying off: three shown (the queue's first read is the
    whole of the day's limit; no second read makes up for one that is short)."""
    cards = [_card(name) for name in "abcde"]
    config = NO_FUZZ._replace(reviews_per_day=3, bury_siblings=False)
    with open_store(tmp_path) as store:
        later = _learnt_a_minute_apart(store, cards, config)
        assert _ids(_due(store, cards, later, config).review) == ["a", "b", "c"]


def test_the_limit_reads_past_more_buried_siblings_than_its_first_extra_read(tmp_path):
    """Forty deletions of one cloze card due before b, two reviews a day: a#c1 and b. The
    queue reads further each time its read held too few unburied reviews (16, then twice as
    many), so it ends, and with b."""
    siblings = [_card(f"a#c{n}") for n in range(1, 41)]
    cards = [*siblings, _card("b")]
    config = NO_FUZZ._replace(reviews_per_day=2, bury_siblings=False)
    with open_store(tmp_path) as store:
        later = _learnt_a_minute_apart(store, cards, config)
        buried = config._replace(bury_siblings=True)
        assert _ids(_due(store, cards, later, buried).review) == ["a#c1", "b"]


def test_a_review_past_the_days_limit_holds_back_no_sibling_in_due_or_the_session(tmp_path):
    """One review a day: b (due first) is shown, a#c1 waits past the limit. The session's
    queue, which reads only the reviews it can show, offered a#c2 as new; `due`, reading every
    review, counted a#c1's family as shown and a#c2 as held: `due` said no new card of the
    deck where `review --deck` showed one. A review not shown today holds no sibling back (as
    Anki's queue buries the siblings of what it gathers)."""
    first, second, other = _card("a#c1"), _card("a#c2"), _card("b")
    config = NO_FUZZ._replace(reviews_per_day=1)
    with open_store(tmp_path) as store:
        later = _learnt_a_minute_apart(store, [other, first], config)
        session = _due(store, [first, second, other], later, config)
        whole, decks = due_by_deck(store, [first, second, other], later, config, UTC)
        assert _ids(session.review) == _ids(whole.review) == ["b"]
        assert _ids(session.new) == _ids(whole.new) == _ids(decks["d"].new) == ["a#c2"]
        assert whole.held_reviews == 1


def test_no_review_is_due_once_the_days_limit_is_done_even_when_lowered_below_it(tmp_path):
    """Five reviews rated today, then reviews_per_day lowered to 3 with more due: none due,
    in the queue and in `due`'s counts (which read the whole schedule at once)."""
    cards = [_card(name) for name in "abcdefghij"]
    config = NO_FUZZ._replace(reviews_per_day=10, bury_siblings=False)
    with open_store(tmp_path) as store:
        later = _learnt_a_minute_apart(store, cards, config)
        for card in cards[:5]:
            core.rate(store, card, 3, later, config)
        lowered = config._replace(reviews_per_day=3)
        assert _due(store, cards, later, lowered).review == []
        whole, decks = due_by_deck(store, cards, later, lowered, UTC)
        assert whole.review == [] and decks["d"].review == []


def test_the_study_day_starts_on_the_hour_to_the_second():
    """A rating at 04:00:10 belongs to the study day that began at 04:00:00, not the one
    before (the seconds and microseconds of `now` are not the day's)."""
    moment = datetime(2025, 3, 2, 4, 0, 30, 500_000, tzinfo=UTC)
    assert study_day_start(moment, 4, UTC) == datetime(2025, 3, 2, 4, tzinfo=UTC)
    assert study_day_start(moment, 4, None) <= moment


def test_a_suspension_holds_its_card_after_its_author_changes_its_kind(tmp_path):
    """Suspensions are kept per study item, and a card made a cloze card (or made one no more)
    has items of other ids: what the learner suspended came back, new or due, in `review`'s
    queue, `cram` and `next_due`. It stays out until it is let back, under either kind."""
    from studycli.study.api import Study

    content = fixture_content()
    concept = content.get("poisson-concept")
    cloze = replace(concept, kind=Kind.CLOZE, prompt="{{c1::λ}} and {{c2::λ}}", answer="")
    others = [card for card in content.cards.values() if card.id != concept.id]
    as_concept, as_cloze = others + [concept], others + cloze.study_items()
    later = NOW + timedelta(days=30)  # the concept card's review is due by then
    apart = NO_FUZZ._replace(bury_siblings=False)  # (both deletions in one queue)
    with Study.open(tmp_path / "reviews.sqlite3", apart) as study:
        study.rate(concept, 3, NOW)
        study.set_suspended([concept], True)

        def shown(items, when=later) -> set[str]:
            due = study.queue(items, when)
            return {item.id for group in due[:4] for item in group}

        assert shown(as_cloze) == {"add-one", "bias-concept", "triangle-derivation"}
        crammed = study.cram_queue(as_cloze, later).pending
        assert "poisson-concept" not in {item.id.partition("#")[0] for item in crammed}
        assert study.suspended(as_cloze) >= {"poisson-concept#c1", "poisson-concept#c2"}
        study.set_suspended(cloze.study_items(), False)
        assert shown(as_cloze) >= {"poisson-concept#c1", "poisson-concept#c2"}

        study.rate(cloze.study_items()[0], 3, NOW)
        study.set_suspended(cloze.study_items()[:1], True)  # one deletion: its card is held
        assert "poisson-concept" not in shown(as_concept)
        assert study.next_due([concept]) is None
        study.set_suspended([concept], False)
        assert "poisson-concept" in shown(as_concept)
        assert study.next_due([concept]) is not None
