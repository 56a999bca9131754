"""One card's state, review after review: the step shared by live rating and every replay.

A live rating (`rating.advance`), a rebuild of every state from the log (`rating.rebuild`) and
an import that merges history into the log (`import_replay`) all step a card with
`CardReplay.apply`, and a cram rating's record of the text it showed with
`CardReplay.crammed`, so a replay gives exactly the live state. The fsrs card stays an object
between steps and is serialised only when asked: a replay of a long log costs fsrs's own
scheduling and little else.
"""

from __future__ import annotations

from copy import copy
from datetime import datetime

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from studycli.content.contract import seen_hash

from . import scheduler as sched
from .review_records import CardState


class CardReplay:
    """A card's scheduling state while its reviews are applied one by one, oldest first."""

    __slots__ = (
        "_json", "card_id", "content_hash", "fsrs", "history", "lapses", "reps", "suspended",
    )  # fmt: skip

    def __init__(self, start: CardState, *, recomputed: bool = False) -> None:
        """Start from `start` (a state without fsrs data for a replay from the first review).

        Args:
            recomputed: the log holds recomputes (`recompute`): keep the ratings applied.
        """
        self.card_id = start.card_id
        self.history: list[tuple[int, datetime]] | None = [] if recomputed else None
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
        if self.history is not None:
            self.history.append((rating, moment))

    def crammed(self, content_hash: str, *, checked: bool) -> None:
        """A cram rating that recorded `content_hash` (its attempt `checked` or not): the
        schedule stays as it was; a studied card records the text the cram showed as seen
        (`contract.seen_hash`: a coding card's contract only where it was checked), so that
        an edit it showed is flagged no more. A new card stays new, with nothing recorded."""
        if self.fsrs is not None:
            self.content_hash = seen_hash(self.content_hash, content_hash, checked=checked)

    def recompute(self, scheduler: Scheduler) -> None:
        """Give the card the stability and difficulty of its reviews so far replayed under
        `scheduler` (new parameters), its due date, state and step kept: Anki's recomputed
        memory state. Needs a replay made with `recomputed=True`; a new card stays new."""
        if self.fsrs is None or not self.history:
            return
        memory = sched.new_card(self.card_id, self.history[0][1])
        for rating, moment in self.history:
            memory = sched.review(scheduler, memory, rating, moment)
        card = copy(self.fsrs)
        card.stability, card.difficulty = memory.stability, memory.difficulty
        self.fsrs = card
        self._json = None

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


Recompute = tuple[datetime, Scheduler]  # when new parameters were saved, and their scheduler


def recompute_until(
    replay: CardReplay, recomputes: list[Recompute], done: int, moment: datetime | None
) -> int:
    """Bring `replay` past the recomputes made at or before `moment` (all of them where
    `moment` is None: the card's history is over), of which the first `done` are applied
    already; returns how many are. Of several with no review of the card between them, the
    last alone counts (a recompute reads the card's reviews, never the state it replaces), so
    only it is applied. A review at a recompute's very moment comes after it: one is made at
    a later time than every review before it (`Study.recompute_memory`), and a rating is
    refused before it (`rating.rate`), not at it."""
    passed = done
    while passed < len(recomputes) and (moment is None or recomputes[passed][0] <= moment):
        passed += 1
    if passed > done:
        replay.recompute(recomputes[passed - 1][1])
    return passed


def recomputed(
    state: CardState, ratings: list[tuple[int, datetime]], scheduler: Scheduler
) -> CardState:
    """`state` with the stability and difficulty of `ratings` (the card's whole history, its
    reviews that make the schedule, oldest first) replayed under `scheduler`: what a replay
    of the log gives for a card at a recompute made after all of them."""
    replay = CardReplay(state)
    replay.history = ratings
    replay.recompute(scheduler)
    return replay.state()
