"""Where the learner stands (`studycli stats`): study items by state, reviews per day, the due
forecast, true retention, the weakest topics, the streak.

Days are study days: they roll over at `day_starts_at` in the learner's time zone, as the daily
limits do. True retention is Anki's: among the reviews of the last 30 days given to cards in
the review state (cram ratings left out), the share not rated Again; young cards had an
interval under 21 days before the review, mature ones 21 or more. A topic's retention is the
same share over the whole log; its recall is fsrs's predicted probability of recall now,
averaged over its studied cards. Topics are listed weakest first (lowest recall; topics with
nothing studied last). Reviews per day and the streak count every rating, cram included.
The items by state and the forecast count only the given items: an item known only from the
history (imported, or removed or renamed in the content since) is never shown, so it is none
of the learner's study items and no work to come; its reviews count in the figures of what
happened (reviews per day, true retention, the streak), `not_in_content_ids` names it, and
`reviews_not_in_content` says how many of the reviews per day are its.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import partial
from typing import Any

from fsrs import Card as FsrsCard
from fsrs import State

from studycli.content.card import Card
from studycli.content.cloze import split_study_id
from studycli.errors import StoreError

from . import scheduler as sched
from .memories import Memory, memories
from .queue import family_of, waiting_siblings
from .review_records import ReviewMethod
from .settings import Settings
from .store import Store
from .study_days import day_start_of, due_date, next_day_start, study_date, study_day_start
from .suspension import held
from .times import iso

DAYS = 30  # the window of reviews per day, true retention and the forecast
MATURE_DAYS = 21  # as Anki: a card whose interval was 21 days or more is mature
STATES = ("new", "learning", "review", "relearning", "suspended")


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "count": self.count}


@dataclass(frozen=True)
class Retention:
    """Passed (Hard, Good or Easy) and failed (Again) reviews; `rate` is None without any."""

    passed: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float | None:
        return self.passed / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "retention": self.rate}


@dataclass(frozen=True)
class TopicStats:
    """One topic: its cards and their study items (a cloze card's deletions each), how many
    items are studied, its review-state reviews over the whole log and their retention, and
    the average predicted recall of its studied items now."""

    topic: str
    cards: int
    items: int
    studied: int
    retention: Retention
    recall: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "cards": self.cards,
            "items": self.items,
            "studied": self.studied,
            "reviews": self.retention.total,
            "retention": self.retention.rate,
            "recall": self.recall,
        }


@dataclass(frozen=True)
class Stats:
    """The figures. `cards_by_state` counts the `study_items` (a cloze card is one per
    deletion) made from `cards` cards of the content, so its counts add up to `study_items`;
    the items known only from the history, `not_in_content_ids` (imported from elsewhere, or
    removed or renamed in the content since they were studied), are not among them; their
    reviews count in `reviews_per_day`, `reviews_not_in_content` of them."""

    today: date
    cards_by_state: dict[str, int]  # its name predates cloze cards; kept for --json
    study_items: int
    cards: int
    not_in_content_ids: tuple[str, ...]  # sorted
    reviews_per_day: list[DayCount]  # the last 30 study days, oldest first, today last
    forecast: list[DayCount]  # items due on each of the next 30 study days (overdue: today)
    true_retention: dict[str, Retention]  # young, mature, all
    topics: list[TopicStats]  # weakest first
    streak: int  # study days in a row with a rating, up to today (or yesterday)
    last_studied: date | None = None  # the study day of the latest rating (None: never)
    reviews_not_in_content: int = 0  # of `reviews_per_day`'s, those of `not_in_content_ids`

    @property
    def not_in_content(self) -> int:
        return len(self.not_in_content_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "cards_by_state": self.cards_by_state,
            "study_items": self.study_items,
            "cards": self.cards,
            "not_in_content": self.not_in_content,
            "not_in_content_ids": list(self.not_in_content_ids),
            "reviews_per_day": [d.to_dict() for d in self.reviews_per_day],
            "reviews_not_in_content": self.reviews_not_in_content,
            "forecast": [d.to_dict() for d in self.forecast],
            "true_retention": {k: v.to_dict() for k, v in self.true_retention.items()},
            "topics": [t.to_dict() for t in self.topics],
            "streak": self.streak,
            "last_studied": self.last_studied and self.last_studied.isoformat(),
        }


def stats(
    store: Store,
    items: list[Card],
    settings: Settings,
    now: datetime,
    tz: tzinfo | None = None,
    *,
    elsewhere: bool = False,
) -> Stats:
    """The statistics of `items` at `now`.

    Args:
        store: the open review database.
        items: the study items to describe (a deck's, a topic's, or all).
        settings: for the study day's start and the scheduler that predicts recall.
        now: the current time, timezone-aware.
        tz: the learner's time zone (None: the system's).
        elsewhere: also count the store's reviewed cards that are not in the content
            (history imported from elsewhere, or of items removed or renamed since): in the
            reviews per day, true retention and the streak, and name them
            (`not_in_content_ids`); never in the items by state, the forecast or the topics.
    """
    content = {item.id for item in items}
    parsed, suspended, learnt = memories(store, content)
    # an item its card's suspension holds under the ids of its other kind counts as suspended
    suspended |= held(content, suspended)
    # A card the content lacks counts when it has a history: a row of one never reviewed (a
    # card suspended, then removed) holds nothing to count.
    pool = content | learnt if elsewhere else content
    today = study_date(now, settings.day_starts_at, tz)
    day = partial(study_date, day_starts_at=settings.day_starts_at, tz=tz)
    first = today - timedelta(days=DAYS - 1)
    since = study_day_start(now, settings.day_starts_at, tz) - timedelta(days=DAYS)  # a margin
    until = next_day_start(now, settings.day_starts_at, tz)
    recent, per_day = _window(store, since, until, pool, elsewhere, first, settings, tz)
    return Stats(
        today=today,
        cards_by_state=_by_state(content, suspended, parsed),
        study_items=len(content),
        cards=len({item.card_id for item in items}),
        not_in_content_ids=tuple(sorted(pool - content)),
        reviews_per_day=[
            DayCount(first + timedelta(days=i), per_day[first + timedelta(days=i)])
            for i in range(DAYS)
        ],
        forecast=_forecast(
            content,
            suspended,
            parsed,
            today,
            partial(_due_day, day_starts_at=settings.day_starts_at, tz=tz),
            waiting_siblings(store, now, settings, tz),
            {card_id: day(back) for card_id, back in store.buried(now).items()},
        ),
        true_retention=_true_retention(recent),
        reviews_not_in_content=sum(r[0] not in content for r in recent),
        topics=_topics(items, suspended, parsed, store.review_outcomes(), settings, now),
        **_streak(store, None if elsewhere else pool, now, settings, tz),
    )


Parsed = dict[str, Memory | FsrsCard]  # each item's memory state, where it has one, read once


def _window(
    store: Store,
    since: datetime,
    until: datetime,
    pool: set[str],
    elsewhere: bool,
    first: date,
    settings: Settings,
    tz: tzinfo | None,
) -> tuple[list[tuple], Counter[date]]:
    """The ratings of `pool` from the study day `first` on (`Store.recent_reviews`' rows), and
    how many fell on each study day. A rating's day is found among the days' starts as
    stored times (the store's one shape: text order is time order), not worked out of each
    rating's time (the synthetic collection's 28,000 ratings of a month took 0.1 s so)."""
    starts = [
        iso(day_start_of(first + timedelta(days=i), settings.day_starts_at, tz))
        for i in range(DAYS)
    ]
    recent, per_day = [], Counter[date]()
    for r in store.recent_reviews(since, until, None if elsewhere else pool):
        if r[0] in pool and (index := bisect_right(starts, r[2]) - 1) >= 0:
            recent.append(r)
            per_day[first + timedelta(days=index)] += 1
    return recent, per_day


def _by_state(pool: Collection[str], suspended: set[str], parsed: Parsed) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for card_id in pool:
        card = parsed.get(card_id)
        if card_id in suspended:
            counts["suspended"] += 1
        elif card is None:
            counts["new"] += 1
        else:
            counts[sched.queue_name(card).value] += 1
    return counts


def _forecast(
    pool: Collection[str],
    suspended: set[str],
    parsed: Parsed,
    today: date,
    due_day: Callable[[Memory | FsrsCard], date],
    waiting: set[str] | None,
    buried: dict[str, date],
) -> list[DayCount]:
    """Items due on each study day from today (overdue ones today); a review of a cloze card
    studied today (`waiting`; None: siblings are not buried), or of one with another item
    due the same day, the next day it has none, as `due` and `review` hold it back (one
    deletion a day: an item in learning is never held back, and goes first); a buried item
    not before the day it comes back (`buried`).

    An item due well after the last day shown is left out before its day is worked out (the
    synthetic collection's 16,000 items took 0.1 s, 2,700 of them due within the 30 days): its
    day and any a sibling is moved to for it lie after the last day shown too. (A sibling moved
    on finds the first day no other item of its card has: which days its card's items take
    does not depend on the order they are placed in, as in a hash table's linear probing.)"""
    due: Counter[date] = Counter()
    taken = {(family, today) for family in waiting or ()}  # a cloze card's days with an item
    # a due day can be up to a day before the due time's UTC date (a zone's offset, less the
    # day's start hour): three days on from the last day shown is later than any of it
    horizon = datetime.combine(today + timedelta(days=DAYS + 3), time(), UTC)
    shown = [
        (card_id, card)
        for card_id in pool
        if (card := parsed.get(card_id)) is not None
        and card_id not in suspended
        and card.due < horizon
    ]
    shown.sort(key=lambda item: item[1].state == State.Review)  # (learning first, as `due`)
    for card_id, card in shown:
        when = max(today, due_day(card))
        if card_id in buried:
            when = max(when, buried[card_id])
        if waiting is not None and (family := family_of(card_id)):
            while (family, when) in taken and card.state == State.Review:
                when += timedelta(days=1)
            taken.add((family, when))
        due[when] += 1
    return [
        DayCount(today + timedelta(days=i), due[today + timedelta(days=i)]) for i in range(DAYS)
    ]


def _due_day(card: Memory | FsrsCard, day_starts_at: int, tz: tzinfo | None) -> date:
    """The study day `card` is due on, as the queue takes it (`study_days.due_date`); a
    learning step within the day of its rating, the day of its due time."""
    in_review = card.state == State.Review
    day = due_date(in_review, card.due, card.last_review, day_starts_at, tz)
    return day or study_date(card.due, day_starts_at, tz)


def _true_retention(recent: list[tuple]) -> dict[str, Retention]:
    tally = {"young": [0, 0], "mature": [0, 0]}
    for card, rating, reviewed_at, method, queue, previous in recent:
        if queue != sched.Queue.REVIEW or method == ReviewMethod.CRAM:
            continue
        try:
            interval = _interval_days(previous)
        except (TypeError, ValueError):  # (a time edited by hand: naive, or not a time)
            raise StoreError(
                f"the review log's state after the rating of {card} before its review at "
                f"{reviewed_at[:19].replace('T', ' ')} UTC does not read (a time in it is not a "
                "UTC time): run `studycli doctor`, which rebuilds every review's state from "
                "the log"
            ) from None
        age = "mature" if interval >= MATURE_DAYS else "young"
        tally[age][0 if rating > 1 else 1] += 1
    young, mature = Retention(*tally["young"]), Retention(*tally["mature"])
    return {
        "young": young,
        "mature": mature,
        "all": Retention(young.passed + mature.passed, young.failed + mature.failed),
    }


def _interval_days(previous: tuple[str, str | None] | None) -> float:
    """The interval the card had before a review, in days, from the fsrs state its previous
    rating left: its (due, last_review) as stored (`Store.recent_reviews` takes them out; 0
    when there was none: a new card), as `fsrs.Card.from_json` reads them."""
    if previous is None:
        return 0.0
    due, last_review = previous
    if not last_review:
        return 0.0
    span = datetime.fromisoformat(due) - datetime.fromisoformat(last_review)
    return span.total_seconds() / 86400


def _topics(
    items: list[Card],
    suspended: set[str],
    parsed: Parsed,
    outcomes: dict[str, tuple[int, int]],
    settings: Settings,
    now: datetime,
) -> list[TopicStats]:
    scheduler = sched.make_scheduler(settings)
    groups: dict[str, list[Card]] = {}
    for item in items:
        groups.setdefault(item.topic, []).append(item)
    found = []
    for topic, members in groups.items():
        recalls, passed, total = [], 0, 0
        for item in members:
            reviews, ok = outcomes.get(item.id, (0, 0))
            passed, total = passed + ok, total + reviews
            card = parsed.get(item.id)
            if card is not None and item.id not in suspended:
                # (it reads the card's last_review and stability: a `Memory` has them)
                recalls.append(scheduler.get_card_retrievability(card, now))  # type: ignore[arg-type]
        found.append(
            TopicStats(
                topic=topic,
                # (it counted the items as cards: 16 for a topic `topics` says has 11)
                cards=len({split_study_id(item.id)[0] for item in members}),
                items=len(members),
                studied=len(recalls),
                retention=Retention(passed, total - passed),
                recall=sum(recalls) / len(recalls) if recalls else None,
            )
        )
    return sorted(
        found,
        key=lambda t: (
            t.recall is None,
            t.recall or 0.0,
            t.retention.rate if t.retention.rate is not None else 1.0,
            t.topic,
        ),
    )


def _streak(
    store: Store,
    card_ids: Collection[str] | None,
    now: datetime,
    settings: Settings,
    tz: tzinfo | None,
) -> dict[str, Any]:
    """`streak`: study days in a row with a rating, ending today, or yesterday when today has
    none yet; `last_studied`: the study day of the latest rating (a streak of 0 is a broken
    one, not "none yet", where there is one). Walks back one study day at a time: one indexed
    query per day of the streak."""
    today = study_date(now, settings.day_starts_at, tz)
    before = next_day_start(now, settings.day_starts_at, tz)  # tomorrow's start
    streak, expected, last = 0, today, None
    while (latest := store.latest_rating_before(before, card_ids)) is not None:
        studied = study_date(latest, settings.day_starts_at, tz)
        last = last or studied
        if studied == expected or (streak == 0 and studied == today - timedelta(days=1)):
            streak, expected = streak + 1, studied - timedelta(days=1)
            before = study_day_start(latest, settings.day_starts_at, tz)
        else:
            break
    return {"streak": streak, "last_studied": last}
