"""Scheduling goes through fsrs: the same ratings at the same times give what fsrs itself gives."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from studycli.study import labels
from studycli.study import rating as core
from studycli.study import scheduler as sched
from studycli.study.labels import counted, format_interval
from studycli.study.review_records import CardState
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
            stored = FsrsCard.from_json(store.state(card.id).fsrs)
            # fsrs's card, but for a due date Anki's order of intervals may put later
            assert replace(stored, due=direct.due).to_json() == direct.to_json()
            assert stored.due >= direct.due and (stored.due - direct.due) % timedelta(
                days=1
            ) == timedelta(0)
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
    assert scheduler.to_dict() == Scheduler(
        desired_retention=0.8,
        learning_steps=(timedelta(minutes=2),),
        relearning_steps=(),
        maximum_interval=30,
        enable_fuzzing=False,
    ).to_dict() | {sched.ORDER_KEY: 1, sched.DRAW_KEY: sched.DIGEST}


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


@pytest.mark.parametrize(
    "seconds, label",
    [  # each unit's edges from both sides (a mutation audit found none pinned)
        (0, "0s"),
        (-5, "0s"),  # a negative interval is clamped
        (59, "59s"),
        (59 * 60, "59m"),
        (3569, "59m"),
        (23 * 3600, "23h"),
        (84599, "23h"),
        (8.5 * 86400, "9d"),  # halves go up
        (8.5 * 86400 - 1, "8d"),
        (29 * 86400, "29d"),
        (30 * 86400, "1mo"),
        (364 * 86400, "12.1mo"),
        (365 * 86400, "1y"),
        (730 * 86400, "2y"),  # a whole number of years without ".0"
        (384 * 86400, "1.1y"),  # years in tenths, as months are
        (1000 * 86400, "2.7y"),
    ],
)
def test_interval_labels_at_each_units_edges(seconds, label):
    assert format_interval(timedelta(seconds=seconds)) == label


def test_counts_are_plural_but_for_one_and_grouped_by_thousands():
    assert counted(1, "review") == "1 review"
    assert counted(0, "card") == "0 cards"
    assert counted(12_580, "review") == "12,580 reviews"


def test_a_card_is_edited_since_its_review_only_when_reviewed_and_its_text_changed():
    card = fixture_content().get("add-one")
    changed = CardState(card_id=card.id, content_hash="other", reps=1)
    assert labels.edits(card, changed) == ("text",)
    assert labels.edits(card, changed._replace(content_hash=card.content_hash)) == ()
    assert labels.edits(card, changed._replace(reps=0)) == ()
    assert labels.edits(card, None) == ()


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
    """The import's replay (`import_replay._replay`, which writes each review's time from its
    text) gives the states and per-review JSON that rating the card live gives."""
    from studycli.study import import_replay
    from studycli.study.replay import CardReplay
    from studycli.study.review_records import CardState
    from studycli.study.store_import import IMPORTED_COLUMNS
    from studycli.study.times import iso

    scheduler = sched.make_scheduler(Settings(enable_fuzzing=True))
    moments = [NOW + timedelta(days=day * 1.7, microseconds=day % 2 * 5000) for day in range(40)]
    ratings = [(1 + day * 7 % 4) for day in range(40)]
    text = ",".join(f"{iso(m)} {r} 1000  0" for m, r in zip(moments, ratings, strict=True))
    rows, states, replayed = import_replay._replay(
        scheduler.to_json(), {}, [], [("card", False, "h", [], text, False)]
    )
    assert replayed == []  # no review in the log
    live = CardReplay(CardState(card_id="card"))
    expected = []
    for moment, rating in zip(moments, ratings, strict=True):
        live.apply(rating, moment, scheduler, "h")
        expected.append(live.fsrs.to_json())
    # each review's state after (its last value), as fsrs writes it
    assert rows[IMPORTED_COLUMNS - 1 :: IMPORTED_COLUMNS] == expected
    assert states == [live.state()]


def _cards_in_review(count: int, seed: int = 7) -> list[tuple[FsrsCard, datetime]]:
    """Cards in review, each with a moment to rate it: weak and strong, early, on time, late
    and on the day of their last review."""
    rng = random.Random(seed)
    cards = []
    for i in range(count):
        stability = rng.choice((0.3, 0.8, 1.5, 3.0)) if i % 2 else rng.uniform(0.1, 1500.0)
        last = NOW - timedelta(days=rng.uniform(0.0, 2 * stability + 1))
        card = FsrsCard(
            card_id=i,
            state=State.Review,
            stability=stability,
            difficulty=rng.uniform(1.0, 10.0),
            due=last + timedelta(days=max(1, round(stability))),
            last_review=last,
        )
        cards.append((card, NOW))
    return cards


@pytest.mark.parametrize("fuzz", [False, True])
@pytest.mark.parametrize(
    ("maximum", "retention"), [(36500, 0.9), (60, 0.9), (365, 0.85), (365, 0.95), (12, 0.8)]
)
def test_passing_ratings_of_a_card_in_review_are_a_day_apart_at_least(
    fuzz, maximum, retention, monkeypatch
):
    """As Anki and ts-fsrs keep them (fsrs alone gives Hard and Good the same day whenever
    their stabilities round alike): Hard < Good < Easy in days, and each is fsrs's own
    interval unless that was not past the rating below it (at most the maximum interval);
    near a maximum of a year, and at retentions other than 0.9 (the days per unit of
    stability), too."""
    _fsrs_draws_the_digest(monkeypatch)
    settings = Settings(enable_fuzzing=fuzz, maximum_interval=maximum, desired_retention=retention)
    ordered, plain = sched.make_scheduler(settings), Scheduler(**_fsrs_args(settings))
    ties = 0
    for card, now in _cards_in_review(400):
        days = {r: _days(ordered, card, r, now) for r in (Rating.Hard, Rating.Good, Rating.Easy)}
        own = {r: _days(plain, card, r, now) for r in days}
        ties += own[Rating.Hard] == own[Rating.Good] or own[Rating.Good] == own[Rating.Easy]
        assert days[Rating.Hard] == own[Rating.Hard]
        assert days[Rating.Good] == max(own[Rating.Good], min(days[Rating.Hard] + 1, maximum))
        assert days[Rating.Easy] == max(own[Rating.Easy], min(days[Rating.Good] + 1, maximum))
        # the card after the rating is fsrs's, its due date aside
        after = sched.review(ordered, card, Rating.Good, now)
        fsrs_own = sched.review(plain, card, Rating.Good, now)
        assert (after.stability, after.difficulty, after.state) == (
            fsrs_own.stability,
            fsrs_own.difficulty,
            fsrs_own.state,
        )
    assert ties > 40  # (what the order mends: fsrs alone ties often on these cards)


def test_what_the_order_computes_of_a_lower_rating_is_what_fsrs_gives_it(monkeypatch):
    """`_floor` computes a lower rating's stability by `review_card`'s own steps for a card in
    review, and skips its fuzz where even the most fuzz could not reach the rating above:
    both pinned against fsrs itself, fuzz and a short maximum interval included."""
    for settings in (Settings(enable_fuzzing=True), Settings(maximum_interval=20)):
        plain = Scheduler(**_fsrs_args(settings))
        for card, now in _cards_in_review(300, seed=11):
            for rating in (Rating.Hard, Rating.Good, Rating.Easy):
                after = sched.review(plain, card, rating, now)  # (fsrs's own: no order)
                assert sched._stability(plain, card, rating, now) == after.stability
                interval = plain._next_interval(stability=after.stability)
                assert (after.due - now).days <= sched._most_fuzzed(plain, interval)
    fuzzy = sched.make_scheduler(Settings(enable_fuzzing=True, maximum_interval=36500))
    for draw in (0.0, 0.2, 0.5, 0.8, 0.999999):  # for any draw, at every interval:
        monkeypatch.setattr(sched, "_fuzz_draw", lambda *_, draw=draw: draw)
        monkeypatch.setattr(sched._fsrs_scheduler, "random", lambda draw=draw: draw)
        own = Scheduler(enable_fuzzing=True, maximum_interval=36500)  # fsrs's, not overridden
        fuzzed = [own._get_fuzzed_interval(interval=timedelta(days=d)).days for d in range(37000)]
        for days in range(1, 36500):
            assert sched._fuzzed(fuzzy, days) == fuzzed[days]  # fsrs's fuzz, step for step
            assert fuzzy._get_fuzzed_interval(interval=timedelta(days=days)).days == fuzzed[days]
            assert fuzzed[days] <= sched._most_fuzzed(fuzzy, days)  # the bound
            # `_SPREAD`: 2 days apart before the fuzz stay apart, 4 stay 2 apart, where the
            # fuzz's range is not cut by the maximum interval (as `_floor` tests it)
            if (days + 4) * 1.05 + 4 < 36500:
                assert fuzzed[days + 2] >= fuzzed[days] + 1
                assert fuzzed[days + 4] >= fuzzed[days] + 2
    for stability in (0.01, 0.3, 1.0, 2.5, 17.0, 365.0, 5000.0):  # the unrounded days
        assert (
            abs(
                fuzzy._next_interval(stability=stability)
                - max(stability * fuzzy.days_per_stability, 1)
            )
            <= 0.5
        )


@pytest.mark.parametrize("steps", [(), (10,), (1, 10), (1, 10, 60)])
@pytest.mark.parametrize("fuzz", [False, True])
def test_the_order_at_each_step_of_learning_and_relearning(steps, fuzz, monkeypatch):
    """Where the ratings graduate a card from its (re)learning steps, each that does is a day
    past the one below it that does too (none with no steps: all graduate then; with steps,
    Hard never does, Good at the last)."""
    _fsrs_draws_the_digest(monkeypatch)
    minutes = tuple(timedelta(minutes=m) for m in steps)
    settings = Settings(learning_steps=minutes, relearning_steps=minutes, enable_fuzzing=fuzz)
    ordered, plain = sched.make_scheduler(settings), Scheduler(**_fsrs_args(settings))
    checked = 0
    for i in range(60):
        card = sched.new_card(f"card-{i}", NOW)
        moment = NOW
        for rating in (Rating.Good,) * (i % 4) + (Rating.Again,) * (i % 3 == 1):
            card = sched.review(plain, card, rating, moment)
            moment = card.due + timedelta(hours=i % 5)
            if card.state is State.Review and i % 3 == 1:
                moment += timedelta(days=card.stability)  # then the Again: relearning
        days = {}
        for rating in (Rating.Hard, Rating.Good, Rating.Easy):
            own = sched.review(plain, card, rating, moment)
            if own.state is not State.Review:
                continue
            least = max((days[r] + 1 for r in days if r < rating), default=1)
            days[rating] = max((own.due - moment) // timedelta(days=1), least)
            assert _days(ordered, card, rating, moment) == days[rating]
            checked += 1
    assert checked > 60


def test_the_order_at_the_maximum_interval():
    """A short maximum interval caps every rating, as Anki's does (ties at the cap)."""
    capped = sched.make_scheduler(Settings(enable_fuzzing=False, maximum_interval=2))
    strong = FsrsCard(
        card_id=1, state=State.Review, stability=300.0, difficulty=3.0, due=NOW,
        last_review=NOW - timedelta(days=300),
    )  # fmt: skip
    assert {_days(capped, strong, r, NOW) for r in (Rating.Good, Rating.Easy)} == {2}


def test_the_fuzz_draws_the_digest_itself_and_a_review_logged_before_replays_its_generator():
    """A scheduler made now draws the top 53 bits of sha256(id|last) as a number in [0, 1):
    no generator to seed. One read from a review's JSON without `DRAW_KEY` (logged before,
    the order kept or not) draws as it did then, the first number of a generator seeded
    with the digest's top 64 bits."""
    import hashlib

    settings = Settings(enable_fuzzing=True, maximum_interval=36500)
    made = sched.make_scheduler(settings)
    assert json.loads(made.to_json())[sched.DRAW_KEY] == sched.DIGEST
    old_json = json.dumps({k: v for k, v in made.to_dict().items() if k != sched.DRAW_KEY})
    for scheduler, digest in (
        (made, True),
        (core.scheduler_from_json(made.to_json()), True),
        (core.scheduler_from_json(old_json), False),
        (core.scheduler_from_json(Scheduler(**_fsrs_args(settings)).to_json()), False),
    ):
        for index in range(30):
            card = FsrsCard(
                card_id=index, state=State.Review, stability=30.0 + 11 * index, difficulty=5.0,
                due=NOW, last_review=NOW - timedelta(days=index + 20),
            )  # fmt: skip
            hashed = hashlib.sha256(f"{index}|{card.last_review.isoformat()}".encode()).digest()
            if digest:
                expected = (int.from_bytes(hashed[:7], "big") >> 3) / 2**53
            else:
                expected = random.Random(int.from_bytes(hashed[:8], "big")).random()
            interval = scheduler._next_interval(
                stability=sched.review(scheduler, card, Rating.Easy, NOW).stability
            )
            low, high = sched._fuzz_range(scheduler, interval)
            got = sched.review(scheduler, card, Rating.Easy, NOW).due - NOW
            assert got.days == min(round(expected * (high - low + 1) + low), 36500)


def test_a_review_logged_before_the_order_is_replayed_as_it_was_scheduled():
    """The log keeps the scheduler each review was made with: one whose JSON predates the
    order (fsrs's own `to_json`) replays without it, so that the doctor finds no drift in
    the states those reviews left; a new review's JSON says it keeps the order."""
    settings = Settings(enable_fuzzing=False)
    before = core.scheduler_from_json(Scheduler(**_fsrs_args(settings)).to_json())
    now = core.scheduler_from_json(sched.make_scheduler(settings).to_json())
    assert type(before) is Scheduler and isinstance(now, sched.OrderedScheduler)
    tied = next(
        (card, moment)
        for card, moment in _cards_in_review(400)
        if _days(before, card, Rating.Hard, moment) == _days(before, card, Rating.Good, moment)
    )
    assert _days(before, *tied[:1], Rating.Good, tied[1]) == _days(
        before, tied[0], Rating.Hard, tied[1]
    )
    assert (
        _days(now, tied[0], Rating.Good, tied[1]) == _days(now, tied[0], Rating.Hard, tied[1]) + 1
    )


def _fsrs_draws_the_digest(monkeypatch) -> None:
    """fsrs's own scheduler (the order's reference) draws its fuzz as a scheduler made now
    does: the two then differ by the order alone."""
    monkeypatch.setattr(sched._fsrs_scheduler, "random", lambda: sched._fuzz_draw(True))


def _days(scheduler: Scheduler, card: FsrsCard, rating: Rating, now: datetime) -> float:
    return (sched.review(scheduler, card, rating, now).due - now) / timedelta(days=1)


def _fsrs_args(settings: Settings) -> dict:
    return {
        "desired_retention": settings.desired_retention,
        "learning_steps": settings.learning_steps,
        "relearning_steps": settings.relearning_steps,
        "maximum_interval": settings.maximum_interval,
        "enable_fuzzing": settings.enable_fuzzing,
    }
