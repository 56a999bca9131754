"""FSRS scheduling through the `fsrs` package (FSRS-6), with deterministic fuzz.

fsrs draws its interval fuzz with `random.random()`; here that one draw is the SHA-256 of the
card id and the card's previous review time, read as a number in [0, 1) (the global `random`
is never touched; reviews scheduled before drew the first number of a generator seeded with
that digest, and replay so: `DRAW_KEY`). So a replay of the log gives exactly the intervals the
learner got, and the interval shown on a rating key is the one that rating gives even if the
key is pressed a while later. Different cards, and each review of one card, still draw
different fuzz. The digest is only computed when fsrs actually draws (an interval of 3 days or
more), which keeps a replay of a long log fast.
"""

from __future__ import annotations

import hashlib
import json
import random
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

import fsrs.scheduler as _fsrs_scheduler
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from .settings import Settings


class Queue(StrEnum):
    """What a card was before a rating: never studied, in (re)learning steps, or in review."""

    NEW = "new"
    LEARNING = "learning"
    REVIEW = "review"
    RELEARNING = "relearning"


QUEUE_NAMES = {
    State.Learning: Queue.LEARNING,
    State.Review: Queue.REVIEW,
    State.Relearning: Queue.RELEARNING,
}


def fsrs_card_id(card_id: str) -> int:
    """The stable int that stands for `card_id` inside fsrs (never fsrs's time-based default).

    The top 53 bits of its SHA-256: exact in JSON and in any reader that parses numbers as floats.
    """
    return (
        int.from_bytes(hashlib.sha256(card_id.encode("utf-8")).digest()[:7], "big") >> 3
    )  # 56 - 3 = 53 bits


class OrderedScheduler(Scheduler):
    """fsrs's scheduler, with the order Anki (and ts-fsrs) keep among the intervals of the
    passing ratings: where Good and the rating below it both put a card in review, Hard < Good
    < Easy in days. fsrs alone gives Hard and Good the same day whenever their stabilities
    round alike: in half the reviews of cards in review in the FSRS sample log (most of them
    at one day, where Good then did not move the card on), and Good and Easy the same day in a
    third of them.

    Its JSON says so (`ORDER_KEY`): a review logged with a scheduler's JSON that does not (one
    made before this order) is replayed as it was scheduled then. The same for its fuzz's
    draw (`DRAW_KEY`, see `_fuzz_draw`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digest_draw = True  # (`scheduler_from_json` sets it from the JSON)
        # days per unit of stability, before fsrs rounds them (its `_next_interval`)
        self.days_per_stability = (self.desired_retention ** (1 / self._DECAY) - 1) / self._FACTOR

    def to_dict(self) -> Any:
        return {
            **super().to_dict(),
            ORDER_KEY: 1,
            **({DRAW_KEY: DIGEST} if self.digest_draw else {}),
        }

    def _get_fuzzed_interval(self, *, interval: timedelta) -> timedelta:
        """fsrs's own fuzz, step for step (`_fuzzed`), with this scheduler's draw and the
        range cached (`_fuzz_range`), not the function fsrs makes at every call."""
        if interval.days < 2.5:
            return interval
        return timedelta(days=_fuzzed(self, interval.days))


ORDER_KEY = "studycli_interval_order"
DRAW_KEY, DIGEST = "studycli_fuzz_draw", "sha256"


def scheduler_from_json(text: str) -> Scheduler:
    """The scheduler a review was made with, from its JSON (`Scheduler.to_json()`)."""
    source = json.loads(text)
    if not source.get(ORDER_KEY):
        return Scheduler.from_dict(source)
    scheduler = OrderedScheduler.from_dict(source)
    scheduler.digest_draw = source.get(DRAW_KEY) == DIGEST
    return scheduler


def make_scheduler(settings: Settings) -> OrderedScheduler:
    """The fsrs scheduler for these settings (fsrs's default weights unless `parameters` set)."""
    weights = {} if settings.parameters is None else {"parameters": settings.parameters}
    return OrderedScheduler(
        **weights,
        desired_retention=settings.desired_retention,
        learning_steps=settings.learning_steps,
        relearning_steps=settings.relearning_steps,
        maximum_interval=settings.maximum_interval,
        enable_fuzzing=settings.enable_fuzzing,
    )


def new_card(card_id: str, now: datetime) -> FsrsCard:
    """A never-reviewed fsrs card for `card_id`, due at `now`."""
    return FsrsCard(card_id=fsrs_card_id(card_id), due=_utc(now))


_RATINGS = {int(rating): rating for rating in Rating}


def review(
    scheduler: Scheduler,
    card: FsrsCard,
    rating: Rating | int,
    now: datetime,
    duration_ms: int | None = None,
) -> FsrsCard:
    """The card after `rating` (a Rating, or 1-4) at `now` (a new value; `card` is not changed).

    Raises:
        ValueError: `now` is not timezone-aware.
    """
    now = _utc(now)
    # (the table, not `Rating(rating)`: an enum's call is 5% of a replay's review)
    chosen = _RATINGS.get(rating) or Rating(rating)  # (an unknown value: ValueError)
    token = _REVIEWED.set(card)
    try:
        after, _log = scheduler.review_card(card, chosen, now, duration_ms)
        if (
            chosen > Rating.Hard
            and after.state is State.Review
            and isinstance(scheduler, OrderedScheduler)
        ):
            days = (after.due - now) // _DAY
            above = after.stability or 0.0
            floor = _floor(scheduler, card, _RATINGS[chosen - 1], now, days, above)
            if days < floor:
                after.due = now + floor * _DAY
    finally:
        _REVIEWED.reset(token)
    return after


_DAY = timedelta(days=1)
# Days before the fuzz between `lower` and the rating above that leave the rating above past
# `lower`'s floor after it: Hard's floor is its days + 1, Good's (kept past Hard) at most its
# own days + 2 (`tests/test_study_scheduler.py` checks the fuzz's spread for every interval)
_SPREAD = {Rating.Hard: 2, Rating.Good: 4}


def _floor(
    scheduler: OrderedScheduler,
    card: FsrsCard,
    lower: Rating,
    now: datetime,
    days: int,
    above: float,
) -> int:
    """The fewest days a rating above `lower` may give `card` (with `_REVIEWED` set): a day
    more than `lower` gives, where `lower` puts the card in review too (else 0). `days` and
    `above`, the days and the stability fsrs gives the rating above: 0 at once where `lower`
    cannot reach those days (most reviews)."""
    if card.state is not State.Review:  # (re)learning: a graduation, once or twice a card
        steps = (
            scheduler.learning_steps if card.state is State.Learning else scheduler.relearning_steps
        )
        if lower is Rating.Hard and card.step is not None and card.step < len(steps):
            return 0  # (fsrs keeps a card in its steps at Hard)
        below = review(scheduler, card, lower, now)
        if below.state is not State.Review:
            return 0
        return min((below.due - now) // _DAY + 1, scheduler.maximum_interval)
    assert card.stability is not None
    if card.last_review is not None and (now - card.last_review).days >= 1:
        # fsrs's recall step scales the growth of S by the rating's factor (Hard w15, Good 1,
        # Easy w16), the rest the same: `lower`'s stability follows from the one above's (a
        # hair more, for the rounding). The fuzz (one draw for every rating of a review) keeps
        # days 2 apart before it apart after it, and 4 apart 2 days apart (`_SPREAD`): where
        # the unrounded days are a day more apart than that, the rating above is past the
        # floor already (most reviews: no more is computed).
        factor = scheduler.parameters[15] if lower is Rating.Hard else 1 / scheduler.parameters[16]
        most = card.stability + (above - card.stability) * factor * (1 + 1e-9)
        highest = scheduler._next_interval(stability=most)
        # (below the maximum interval by more than the fuzz's reach: there its range is cut)
        if above * scheduler.days_per_stability * 1.05 + 5 < scheduler.maximum_interval:
            if (above - most) * scheduler.days_per_stability >= _SPREAD[lower] + 1:
                return 0
            if scheduler._next_interval(stability=above) - highest >= _SPREAD[lower]:
                return 0  # (rounded: a day closer at most)
        if _most_fuzzed(scheduler, highest) + 1 < days:
            return 0  # (even the most fuzz cannot reach them)
    stability = _stability(scheduler, card, lower, now)
    interval = scheduler._next_interval(stability=stability)
    # `lower`'s days, fuzzed, and then kept above the rating below it, are at most this
    if _most_fuzzed(scheduler, interval) + 1 < days:
        return 0
    interval = _fuzzed(scheduler, interval)
    if lower > Rating.Hard:
        interval = max(
            interval, _floor(scheduler, card, _RATINGS[lower - 1], now, interval, stability)
        )
    return min(interval + 1, scheduler.maximum_interval)


def _stability(scheduler: Scheduler, card: FsrsCard, rating: Rating, now: datetime) -> float:
    """The stability fsrs's `review_card` gives `card`, in review, rated Hard, Good or Easy at
    `now`, by its own steps for that case (`tests/test_study_scheduler.py` pins the days)."""
    assert card.stability is not None and card.difficulty is not None
    if card.last_review is not None and (now - card.last_review).days < 1:
        return scheduler._short_term_stability(stability=card.stability, rating=rating)
    return scheduler._next_stability(
        difficulty=card.difficulty,
        stability=card.stability,
        retrievability=scheduler.get_card_retrievability(card, current_datetime=now),
        rating=rating,
    )


def _fuzzed(scheduler: Scheduler, interval: int) -> int:
    """fsrs's `_get_fuzzed_interval` of `interval` days, step for step (a third of its time:
    no timedelta, no function made per call; `tests/test_study_scheduler.py` pins the two
    equal for any draw), with the reviewed card's own draw."""
    if not scheduler.enable_fuzzing or interval < 2.5:
        return interval
    low, high = _fuzz_range(scheduler, interval)
    drawn = _fuzz_draw(getattr(scheduler, "digest_draw", False))
    return min(round(drawn * (high - low + 1) + low), scheduler.maximum_interval)


def _most_fuzzed(scheduler: Scheduler, interval: int) -> int:
    """The most days fsrs's fuzz can make of `interval` days: the top of its range, or a day
    past it where the draw rounds up."""
    if not scheduler.enable_fuzzing or interval < 2.5:
        return interval
    return min(_fuzz_range(scheduler, interval)[1] + 1, scheduler.maximum_interval)


def _fuzz_range(scheduler: Scheduler, interval: int) -> tuple[int, int]:
    """fsrs's range of fuzzed days for `interval` (its `_get_fuzz_range`)."""
    return _range_of(interval, scheduler.maximum_interval)


@lru_cache(maxsize=1 << 16)  # (a replay asks for the same few hundred intervals again and again)
def _range_of(interval: int, maximum: int) -> tuple[int, int]:
    delta = 1.0
    for start, end, factor in _FUZZ_RANGES:
        delta += factor * max(min(float(interval), end) - start, 0.0)
    high = min(round(interval + delta), maximum)
    return min(max(2, round(interval - delta)), high), high


_FUZZ_RANGES = tuple((r["start"], r["end"], r["factor"]) for r in _fsrs_scheduler.FUZZ_RANGES)


def preview(scheduler: Scheduler, card: FsrsCard, now: datetime) -> dict[Rating, timedelta]:
    """For each rating, the interval until the card would be due again if rated so at `now`."""
    return {rating: review(scheduler, card, rating, now).due - _utc(now) for rating in Rating}


class Stated(Protocol):
    """What `queue_name` reads of a card: an fsrs `Card`, or stats' `Memory` of one."""

    @property
    def state(self) -> State: ...


def queue_name(card: Stated | None) -> Queue:
    """new, learning, review or relearning."""
    return Queue.NEW if card is None else QUEUE_NAMES[card.state]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("scheduling needs a timezone-aware datetime")
    return moment.astimezone(UTC)


def card_json(card: FsrsCard) -> str:
    """`card.to_json()`, character for character, in a fifth of its time (a replay writes one
    per review; `tests/test_scheduler.py` pins the equality)."""
    step = "null" if card.step is None else card.step
    stability = "null" if card.stability is None else repr(card.stability)
    difficulty = "null" if card.difficulty is None else repr(card.difficulty)
    last = "null" if card.last_review is None else f'"{isoformat(card.last_review)}"'
    return (
        f'{{"card_id": {card.card_id}, "state": {card.state.value}, "step": {step}, '
        f'"stability": {stability}, "difficulty": {difficulty}, '
        f'"due": "{card.due.isoformat()}", "last_review": {last}}}'
    )


# The card being reviewed, while fsrs schedules it: its fuzz draw is seeded from it.
_REVIEWED: ContextVar[FsrsCard | None] = ContextVar("studycli_reviewed_card", default=None)


def _fuzz_draw(digest: bool = False) -> float:
    """fsrs's one fuzz draw, from the SHA-256 of the reviewed card's id and previous review
    time: its top 53 bits as a number in [0, 1) where `digest` (a scheduler whose JSON has
    `DRAW_KEY`), else, as every review before it, the first number of a generator seeded by
    that digest's top 64 bits (`random.seed(that); random.random()`): seeding it was a tenth
    of a replay's instructions."""
    card = _REVIEWED.get()
    if card is None:  # fsrs used outside `review`: its own behaviour
        return random.random()
    global _DRAWN
    last = isoformat(card.last_review) if card.last_review else "new"
    key = (card.card_id, last, digest)
    if _DRAWN[0] == key:  # the same review's other ratings (`_floor`, `preview`)
        return _DRAWN[1]
    hashed = hashlib.sha256(f"{card.card_id}|{last}".encode()).digest()
    if digest:
        drawn = (int.from_bytes(hashed[:7], "big") >> 3) * _TO_UNIT
    else:
        _seed(int.from_bytes(hashed[:8], "big"))
        drawn = _GENERATOR.random()
    _DRAWN = (key, drawn)  # (one assignment: a reader sees whole pairs)
    return drawn


_TO_UNIT = 2.0**-53  # 53 bits, 0 to 2**53 - 1, to [0, 1): every float a draw can be is exact
_DRAWN: tuple[tuple[int, str, bool] | None, float] = (None, 0.0)  # the last draw, and for what


_GENERATOR = random.Random()  # reseeded for every draw; never the global one
# `_GENERATOR.seed(n)` for an int n is the C generator's own seeding and nothing else
# (random.Random.seed only converts str and bytes first): called directly, a fifth less
_seed = super(random.Random, _GENERATOR).seed


def isoformat(moment: datetime) -> str:
    """`moment.isoformat()`, kept for the last two moments asked (or given to
    `remember_isoformat`). A review's time is written in the card's state after it, then
    seeds the fuzz of the card's next review: one formatting (a microsecond) serves both."""
    newest, older = _ISOFORMATS
    if moment is newest[0]:  # the very object (a datetime never changes), not an equal one:
        return newest[1]  # equal times in other zones write differently
    if moment is older[0]:
        return older[1]
    text = moment.isoformat()
    remember_isoformat(moment, text)
    return text


def remember_isoformat(moment: datetime, text: str) -> None:
    """Keep `text` as `moment.isoformat()` (the caller knows it already, from the text the
    time was read from)."""
    global _ISOFORMATS
    _ISOFORMATS = ((moment, text), _ISOFORMATS[0])  # one assignment: a reader sees whole pairs


_ISOFORMATS: tuple[tuple[datetime | None, str], tuple[datetime | None, str]] = ((None, ""),) * 2


# fsrs.scheduler does `from random import random` and calls `random()` for its fuzz.
if not callable(getattr(_fsrs_scheduler, "random", None)):
    raise ImportError("this fsrs version draws its fuzz differently: pin fsrs>=6,<7")
_fsrs_scheduler.random = _fuzz_draw


def _copy_card(card: FsrsCard) -> FsrsCard:
    """`copy.copy(card)` as copy makes it (a new Card, its `__dict__` the same values), without
    copy's generic route (`__reduce_ex__`, `_reconstruct`): fsrs copies the card at every
    review, and that route was a tenth of a replay's review."""
    copied = object.__new__(FsrsCard)
    copied.__dict__.update(card.__dict__)
    return copied


# fsrs.scheduler reviews `copy(card)`: a class's own `__copy__` is what `copy.copy` calls first
# (fsrs's Card has a plain `__dict__` and no copier of its own; a version that changes either
# keeps its own way)
if "__copy__" not in vars(FsrsCard) and "__slots__" not in vars(FsrsCard):
    FsrsCard.__copy__ = _copy_card  # type: ignore[attr-defined]
