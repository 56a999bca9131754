"""Rating a card, undoing a rating, and rebuilding every state from the log.

The one function that turns (state before, rating, time) into the state after is `advance`;
both a live rating and a replay of the log go through it, so a rebuild gives the live state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from studycli.content.card import Card

from . import scheduler as sched
from .settings import LEECH_LAPSES, Settings
from .store import CardState, Review, Store


def fsrs_card(state: CardState | None) -> FsrsCard | None:
    """The fsrs card of a stored state; None for a card never rated."""
    return FsrsCard.from_json(state.fsrs) if state is not None and state.fsrs else None


def is_leech(state: CardState | None) -> bool:
    return state is not None and state.lapses >= LEECH_LAPSES


def is_edited(card: Card, state: CardState | None) -> bool:
    """The card's text changed since its last review (its history is kept, it is flagged)."""
    return state is not None and state.reps > 0 and state.content_hash != card.content_hash


def advance(
    before: CardState | None,
    card_id: str,
    rating: int,
    now: datetime,
    scheduler: Scheduler,
    content_hash: str,
) -> CardState:
    """The card's state after `rating` at `now`.

    Args:
        before: the state before (None or a state without fsrs data for a new card).
        card_id: the card's id.
        rating: 1 Again, 2 Hard, 3 Good, 4 Easy.
        now: the review time, timezone-aware.
        scheduler: the fsrs scheduler to schedule with.
        content_hash: the card's content hash at review time.

    Returns:
        A new CardState (suspension copied from `before`).
    """
    previous = fsrs_card(before) or sched.new_card(card_id, now)
    after = sched.review(scheduler, previous, Rating(rating), now)
    lapsed = previous.state == State.Review and rating == Rating.Again
    base = before or CardState(card_id=card_id)
    return CardState(
        card_id=card_id,
        fsrs=after.to_json(),
        content_hash=content_hash,
        lapses=base.lapses + int(lapsed),
        reps=base.reps + 1,
        suspended=base.suspended,
    )


def rate(
    store: Store,
    card: Card,
    rating: int,
    now: datetime,
    settings: Settings,
    *,
    method: str = "self",
    check_status: str | None = None,
    duration_ms: int | None = None,
) -> Review:
    """Rate `card` at `now`: schedule it with fsrs and commit the review before returning.

    Returns:
        The recorded review (with its id, for undo).
    """
    scheduler = sched.make_scheduler(settings)
    before = store.state(card.id)
    after = advance(before, card.id, rating, now, scheduler, card.content_hash)
    entry = Review(
        card_id=card.id,
        rating=int(rating),
        reviewed_at=now,
        method=method,
        content_hash=card.content_hash,
        queue=sched.queue_name(fsrs_card(before)),
        scheduler=scheduler.to_json(),
        state_after=after.fsrs or "",
        state_before=before,
        duration_ms=duration_ms,
        check_status=check_status,
    )
    return store.record(entry, after)


def undo(store: Store, review_id: int, now: datetime) -> CardState:
    """Undo one review: the card's row goes back exactly; the log marks the review undone."""
    return store.undo(review_id, now)


def preview(
    card_id: str, state: CardState | None, now: datetime, settings: Settings
) -> dict[Rating, timedelta]:
    """The interval each rating would give now (the labels of the rating keys)."""
    current = fsrs_card(state) or sched.new_card(card_id, now)
    return sched.preview(sched.make_scheduler(settings), current, now)


def rebuild(store: Store, *, write: bool = False) -> dict[str, CardState]:
    """Recompute every card's state by replaying the log, oldest first, each review with the
    scheduler settings it was made with. Undone reviews are skipped.

    Args:
        write: also store the recomputed states (repairs a state table that drifted).

    Returns:
        The state of every card the store knows, keyed by id.
    """
    current = store.states()
    rebuilt = {
        card_id: CardState(card_id=card_id, suspended=state.suspended)
        for card_id, state in current.items()
    }
    for entry in store.reviews(oldest_first=True):
        before = rebuilt.get(entry.card_id)
        rebuilt[entry.card_id] = advance(
            before,
            entry.card_id,
            entry.rating,
            entry.reviewed_at,
            _scheduler(entry.scheduler),
            entry.content_hash,
        )
    if write:
        store.replace_states(list(rebuilt.values()))
    return rebuilt


@lru_cache(maxsize=32)
def _scheduler(settings_json: str) -> Scheduler:
    return Scheduler.from_json(settings_json)


def next_due(cards: list[Card], states: dict[str, CardState]) -> datetime | None:
    """When the earliest of these cards (studied, not suspended) falls due; None if none."""
    dues = [
        fsrs_card(states.get(c.id))
        for c in cards
        if states.get(c.id) is not None and not states[c.id].suspended
    ]
    return min((card.due for card in dues if card is not None), default=None)
