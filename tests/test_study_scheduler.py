"""Scheduling goes through fsrs: the same ratings at the same times give what fsrs itself gives."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from studycli.study import rating as core
from studycli.study import scheduler as sched
from studycli.study.labels import format_interval
from studycli.study.settings import Settings

from .study_support import NO_FUZZ, NOW, fixture_content, open_store

SEQUENCE = [  # (rating, minutes after NOW): learning, graduation, a lapse, relearning, reviews
    (3, 0),
    (3, 10),
    (3, 60 * 24),
    (1, 60 * 24 * 5),
    (2, 60 * 24 * 5 + 10),
    (3, 60 * 24 * 5 + 30),
    (4, 60 * 24 * 20),
    (3, 60 * 24 * 90),
]


def test_card_ids_map_to_stable_distinct_ints_that_json_keeps_exact():
    ids = [f"card-{i}" for i in range(2000)]
    mapped = [sched.fsrs_card_id(i) for i in ids]
    assert len(set(mapped)) == len(ids)
    assert all(0 <= m < 2**53 for m in mapped)
    assert sched.fsrs_card_id("online-softmax") == sched.fsrs_card_id("online-softmax")
    assert sched.fsrs_card_id("online-softmax") == 2387045081860065  # pinned: stored states use it


def test_ratings_move_the_card_exactly_as_fsrs_does(tmp_path):
    card = fixture_content().get("bias-concept")
    direct = FsrsCard(card_id=sched.fsrs_card_id(card.id), due=NOW)
    scheduler = Scheduler(enable_fuzzing=False)
    with open_store(tmp_path) as store:
        for rating, minutes in SEQUENCE:
            moment = NOW + timedelta(minutes=minutes)
            direct, _ = scheduler.review_card(direct, Rating(rating), moment)
            core.rate(store, card, rating, moment, NO_FUZZ)
            assert store.state(card.id).fsrs == direct.to_json()
        state = store.state(card.id)
    assert state.reps == len(SEQUENCE) and state.lapses == 1
    assert direct.state == State.Review


def test_settings_reach_fsrs():
    config = Settings(
        desired_retention=0.8,
        learning_steps=(timedelta(minutes=2),),
        relearning_steps=(),
        maximum_interval=30,
        enable_fuzzing=False,
    )
    scheduler = sched.make_scheduler(config)
    assert (
        scheduler.to_dict()
        == Scheduler(
            desired_retention=0.8,
            learning_steps=(timedelta(minutes=2),),
            relearning_steps=(),
            maximum_interval=30,
            enable_fuzzing=False,
        ).to_dict()
    )


def test_the_preview_labels_are_the_intervals_the_ratings_give(tmp_path):
    card = fixture_content().get("bias-concept")
    fuzzy = Settings(enable_fuzzing=True)
    with open_store(tmp_path) as store:
        core.rate(store, card, 3, NOW, fuzzy)
        core.rate(store, card, 3, NOW + timedelta(minutes=10), fuzzy)
        later = NOW + timedelta(days=30)
        state = store.state(card.id)
        shown = core.preview(card.id, state, later, fuzzy)
        for rating in Rating:
            after = core.advance(state, card.id, rating, later, sched.make_scheduler(fuzzy), "h")
            assert core.fsrs_card(after).due - later == shown[rating]
    assert shown[Rating.Again] == timedelta(minutes=10)  # relearning step
    assert shown[Rating.Hard] < shown[Rating.Good] < shown[Rating.Easy]


def test_fuzz_is_deterministic_per_review_and_leaves_global_random_alone():
    scheduler = Scheduler(enable_fuzzing=True)
    card = FsrsCard(
        card_id=1,
        state=State.Review,
        stability=40.0,
        difficulty=5.0,
        due=NOW,
        last_review=NOW - timedelta(days=40),
    )
    random.seed(123)
    expected_next = random.Random(123).random()
    dues = {sched.review(scheduler, card, Rating.Good, NOW).due for _ in range(5)}
    assert len(dues) == 1
    assert random.random() == expected_next
    later = sched.review(scheduler, card, Rating.Good, NOW + timedelta(minutes=30)).due
    assert later - timedelta(minutes=30) in dues  # pressing the key later gives what was shown
    spread = {
        sched.review(scheduler, replace(card, card_id=i), Rating.Good, NOW).due for i in range(30)
    }
    assert len(spread) > 1  # different cards draw different fuzz


def test_new_card_due_now_and_naive_times_refused():
    card = sched.new_card("add-one", NOW)
    assert card.due == NOW and card.state == State.Learning
    with pytest.raises(ValueError):
        sched.review(Scheduler(), card, Rating.Good, datetime(2025, 1, 1))


@pytest.mark.parametrize(
    "seconds, label",
    [
        (30, "30s"),
        (60, "1m"),
        (59.996, "1m"),  # a rating bar's 1m confirmed a few ms later: not 60s
        (330, "6m"),
        (329.996, "6m"),  # 5.5 minutes a moment later: not 5m
        (3599.7, "1h"),
        (23.5 * 3600, "1d"),
        (600, "10m"),
        (3 * 3600, "3h"),
        (86400, "1d"),
        (8 * 86400, "8d"),
        (45 * 86400, "1.5mo"),
        (60 * 86400, "2mo"),
        (400 * 86400, "1.1y"),
    ],
)
def test_interval_labels(seconds, label):
    assert format_interval(timedelta(seconds=seconds)) == label


def test_times_in_other_zones_are_converted_to_utc(tmp_path):
    card = fixture_content().get("bias-concept")
    tokyo = timezone(timedelta(hours=9))
    with open_store(tmp_path) as store:
        core.rate(store, card, 3, NOW.astimezone(tokyo), NO_FUZZ)
        assert store.reviews()[0].reviewed_at == NOW
        assert core.fsrs_card(store.state(card.id)).last_review == NOW


def test_card_json_is_fsrs_to_json_character_for_character():
    scheduler = Scheduler(enable_fuzzing=True)
    card = sched.new_card("add-one", NOW)
    assert sched.card_json(card) == card.to_json()
    moment = NOW
    for rating in (Rating.Good, Rating.Good, Rating.Again, Rating.Hard, Rating.Easy) * 3:
        moment += timedelta(days=3, microseconds=1234)
        card = sched.review(scheduler, card, rating, moment)
        assert sched.card_json(card) == card.to_json()


def test_the_fuzz_is_the_draw_of_a_generator_seeded_per_card_and_previous_review():
    """The number studycli has always used: `random.seed(sha256(id|last)); random.random()`,
    so a history recorded before keeps its intervals when it is replayed."""
    import hashlib

    import fsrs.scheduler as fsrs_module

    scheduler = Scheduler(enable_fuzzing=True, maximum_interval=36500)
    original = fsrs_module.random
    drawn: list[float] = []

    def spy() -> float:
        drawn.append(original())
        return drawn[-1]

    expected = []
    fsrs_module.random = spy
    try:
        for index in range(40):
            card = FsrsCard(
                card_id=index,
                state=State.Review,
                stability=10.0 + 7 * index,
                difficulty=5.0,
                due=NOW,
                # whole seconds and not: fsrs's isoformat() leaves out a zero fraction
                last_review=NOW - timedelta(days=index + 3, microseconds=index % 3 * 250_000),
            )
            key = f"{index}|{card.last_review.isoformat()}"
            expected.append(
                random.Random(
                    int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
                ).random()
            )
            sched.review(scheduler, card, Rating.Good, NOW)
    finally:
        fsrs_module.random = original
    assert drawn == expected


def test_the_rating_labels_are_fsrs_s_ratings():
    from fsrs import Rating

    from studycli.study import labels

    assert {int(r): r.name for r in Rating} == labels.RATING_NAMES
    assert tuple(Rating) == (labels.AGAIN, labels.HARD, labels.GOOD, labels.EASY)


def test_fsrs_copies_a_card_as_the_copy_module_would():
    """fsrs copies the card at every review: the quick copier makes what copy's own route
    (`__reduce_ex__`) makes, a new card of equal fields, and leaves the original alone."""
    import copy

    from fsrs import Card

    assert "__copy__" in vars(Card)  # installed: this fsrs's Card is a plain dataclass
    card = sched.new_card("add-one", NOW)
    for rating in (Rating.Good, Rating.Again, Rating.Good):
        before = dict(vars(card))
        quick = copy.copy(card)
        generic = copy._reconstruct(card, None, *card.__reduce_ex__(4))  # type: ignore[attr-defined]
        assert quick is not card and type(quick) is Card
        assert vars(quick) == vars(generic) == before
        card = sched.review(Scheduler(), card, rating, NOW + timedelta(days=3))
        assert vars(quick) == before  # the review changed a copy


def test_isoformat_is_the_moments_own_for_the_very_object_only():
    """`sched.isoformat` keeps its last answers by the moment's identity: an equal time in
    another zone is written in that zone, and a remembered text serves only its own moment."""
    tokyo = timezone(timedelta(hours=9))
    moment = NOW + timedelta(microseconds=1)
    same_in_tokyo = moment.astimezone(tokyo)
    assert moment == same_in_tokyo
    for asked in (moment, same_in_tokyo, moment, NOW, same_in_tokyo):
        assert sched.isoformat(asked) == asked.isoformat()
    later = NOW + timedelta(days=1)
    sched.remember_isoformat(later, later.isoformat())
    assert sched.isoformat(later) == later.isoformat()
    assert sched.isoformat(later + timedelta(0)) == later.isoformat()
    equal = datetime.fromisoformat(later.isoformat())  # equal, not the same object
    assert equal is not later and sched.isoformat(equal.astimezone(tokyo)).endswith("+09:00")


def test_a_replayed_import_steps_each_card_as_a_live_rating_would():
    """The import's replay (`review_io._replay`, which writes each review's time from its
    text) gives the states and per-review JSON that rating the card live gives."""
    from studycli.study import review_io
    from studycli.study.replay import CardReplay
    from studycli.study.store import IMPORTED_COLUMNS, CardState, iso

    scheduler = sched.make_scheduler(Settings(enable_fuzzing=True))
    moments = [NOW + timedelta(days=day * 1.7, microseconds=day % 2 * 5000) for day in range(40)]
    ratings = [(1 + day * 7 % 4) for day in range(40)]
    text = ",".join(f"{iso(m)} {r} 1000" for m, r in zip(moments, ratings, strict=True))
    rows, states = review_io._replay(scheduler.to_json(), {}, [("card", False, "h", [], text)])
    live = CardReplay(CardState(card_id="card"))
    expected = []
    for moment, rating in zip(moments, ratings, strict=True):
        live.apply(rating, moment, scheduler, "h")
        expected.append(live.fsrs.to_json())
    # each review's state after (its last value), as fsrs writes it
    assert rows[IMPORTED_COLUMNS - 1 :: IMPORTED_COLUMNS] == expected
    assert states == [live.state()]
