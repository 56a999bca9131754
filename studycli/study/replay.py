"""One card's state, review after review: the step shared by live rating and every replay.

A live rating (`rating.advance`), a rebuild of every state from the log (`rating.rebuild`) and
an import that merges history into the log (`review_io`) all step a card with
`CardReplay.apply`, so a replay gives exactly the live state. The fsrs card stays an object
between steps and is serialised only when asked: a replay of a long log costs fsrs's own
scheduling and little else.
"""

from __future__ import annotations

from datetime import datetime

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from . import scheduler as sched
from .store import CardState


class CardReplay:
    """A card's scheduling state while its reviews are applied one by one, oldest first."""

    __slots__ = ("_json", "card_id", "content_hash", "fsrs", "lapses", "reps", "suspended")

    def __init__(self, start: CardState) -> None:
        self.card_id = start.card_id
        self.fsrs: FsrsCard | None = FsrsCard.from_json(start.fsrs) if start.fsrs else None
        self._json: str | None = start.fsrs
        self.content_hash = start.content_hash
        self.lapses = start.lapses
        self.reps = start.reps
        self.suspended = start.suspended

    def apply(self, rating: int, moment: datetime, scheduler: Scheduler, content_hash: str) -> None:
        """Review the card with `rating` (1-4) at `moment` (timezone-aware) under `scheduler`.

        A new card starts due at `moment`; an Again given to a card in review is a lapse.
        """
        previous = self.fsrs or sched.new_card(self.card_id, moment)
        self.fsrs = sched.review(scheduler, previous, rating, moment)
        self._json = None
        if rating == Rating.Again and previous.state == State.Review:
            self.lapses += 1
        self.reps += 1
        self.content_hash = content_hash

    @property
    def queue(self) -> sched.Queue:
        """new, learning, review or relearning: what the card is before its next review."""
        return sched.queue_name(self.fsrs)

    def fsrs_json(self) -> str | None:
        """fsrs's `Card.to_json()` of the state now; None while the card is new."""
        if self._json is None and self.fsrs is not None:
            self._json = sched.card_json(self.fsrs)
        return self._json

    def state(self) -> CardState:
        return CardState(
            card_id=self.card_id,
            fsrs=self.fsrs_json(),
            content_hash=self.content_hash,
            lapses=self.lapses,
            reps=self.reps,
            suspended=self.suspended,
        )
