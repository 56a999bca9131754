"""The study API's part that says what to study (api.py's `Study`): the queue, the counts of
what is due and when the next item is, burying, suspension and leeches, and what to tell the
learner of an item before it is studied.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from studycli.content.cloze import split_study_id
from studycli.records import Record

from .api_base import StudyBase
from .queue import (
    CardIndex,
    Due,
    Item,
    ItemT,
    due_by_deck,
    due_from,
    leeches,
)
from .study_days import CLOCK_SHIFT, first_due_at, next_day_start

if TYPE_CHECKING:  # imported where used: `due` and `review` need none of them (~20 ms)
    from studycli.content.card import Card


class DueCounts(Record):
    """What is due now, in all and per deck: reviews, learning cards, new cards for today, and
    the new cards and the reviews that today's limits hold back."""

    due: int
    learning: int
    new: int
    next_due: datetime | None
    decks: dict[str, dict[str, int]]
    held_new: int = 0
    held_reviews: int = 0

    def to_dict(self) -> dict:
        return {
            "due": self.due,
            "learning": self.learning,
            "new": self.new,
            "held_new": self.held_new,
            "held_reviews": self.held_reviews,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "decks": self.decks,
        }


class QueueMixin(StudyBase):
    """What to study (see api.py's `Study`)."""

    def queue(self, items: list[Card], now: datetime, tz: tzinfo | None = None) -> Due[Card]:
        """What is due at `now` among `items`, in the order to show it, daily limits applied."""
        return self._queue(items, now, tz)

    def _queue(self, items: Sequence[ItemT], now: datetime, tz: tzinfo | None = None) -> Due[ItemT]:
        seen = self._not_new()
        index: CardIndex[ItemT] = self._index  # type: ignore[assignment]  # made again for others
        items = self._unsuspended(self._unburied(items, now)[0])
        return due_from(self.store, items, now, self.settings, tz, seen, index)

    def bury(self, item: Card, now: datetime, tz: tzinfo | None = None) -> datetime:
        """Leave `item` out of every queue until the next study day's start (Anki's bury: no
        rating, its schedule unchanged); returns that start."""
        back = next_day_start(now, self.settings.day_starts_at, tz)
        self.store.bury(item.id, back)
        return back

    def unbury(self, item: Card) -> None:
        """Take back `bury`: `item` is studied again from now."""
        self.store.unbury(item.id)

    def due_counts(self, items: Sequence[Item], now: datetime) -> DueCounts:
        """How many reviews, learning and new items are due now, in all and in each deck on its
        own (what `review --deck D` shows: the day's limits apply to each, so the decks' counts
        need not add up to the whole's). `items` are cards' study items, or `StudyItem` rows
        (`study_view.load_study_items`: no card made)."""
        seen = self._not_new()
        items = self._unsuspended(items)
        unburied = self._unburied(items, now)[0]
        queue, decks = due_by_deck(
            self.store, unburied, now, self.settings, None, seen, self._index
        )
        shown = [*queue.learning, *queue.review]  # due now: the oldest of those review shows
        return DueCounts(
            due=len(queue.review),
            learning=len(queue.learning),
            new=len(queue.new),
            next_due=(
                self._studied_from({item.id for item in shown}, None)
                if shown
                else self.next_due(items, now)  # (a buried item counted from its return)
            ),
            decks={
                deck: {"due": len(d.review), "learning": len(d.learning), "new": len(d.new)}
                for deck, d in decks.items()
            },
            held_new=queue.held_new,
            held_reviews=queue.held_reviews,
        )

    def next_due(
        self, items: Sequence[Item], held_at: datetime | None = None, tz: tzinfo | None = None
    ) -> datetime | None:
        """When the earliest of these items (studied, not suspended) can next be studied, as
        the queue takes it (`study_days.due_at`): a card in review, or in a learning step on a
        later study day than its rating, from the start of its study day (a review due at
        22:00 is due from 04:00), a learning step within the day at its due time.

        `held_at`: a time at which the queue held none of them (no review, no card in
        learning): any due by then waits for the next study day (a sibling of a cloze card
        studied today, a review past the day's limit). The answer is then when one can next be
        studied: the next study day's start, or a due time before it. An item buried at
        `held_at` counts from its return (the session's summary said "next due in 5m" of one)."""
        back = None
        items = self._unsuspended(items)
        if held_at is not None:
            items, back = self._unburied(items, held_at)
        ids = self._index.of(items)
        found = self._studied_from(ids, tz)
        if held_at is not None and found is not None and found <= held_at:
            day = next_day_start(held_at, self.settings.day_starts_at, tz)
            # only a card in learning can come before then: a review due after `held_at` is
            # held until then with the rest, or falls on a later study day
            later = self._first_due(ids, tz, review=False, after=held_at)
            found = min(later, day) if later is not None else day
        if back is not None:
            found = back if found is None else min(found, back)
        return found

    def due_later(self, item: Item, now: datetime, tz: tzinfo | None = None) -> datetime | None:
        """When `item` is next due, where that is on a later study day than `now`'s: a card
        rated now is rated ahead of its schedule (`solve` says so before it records); None
        where it is due today, or new, or suspended (`next_due`). A card in a learning step
        due later today is not counted: `solve` after a failed one (Again: due in 1m) is its
        next try, not study ahead."""
        at = self.next_due([item], tz=tz)
        if at is None or at < next_day_start(now, self.settings.day_starts_at, tz):
            return None
        return at

    def _studied_from(self, ids: Collection[str], tz: tzinfo | None) -> datetime | None:
        """When the first of `ids` can be studied."""
        learning = self._first_due(ids, tz, review=False)
        review = self._first_due(ids, tz, review=True)
        return min((t for t in (learning, review) if t is not None), default=None)

    def _first_due(
        self,
        ids: Collection[str],
        tz: tzinfo | None,
        *,
        review: bool,
        after: datetime | None = None,
    ) -> datetime | None:
        """When the first of `ids` in review (or in learning) can be studied, of those
        after `after` if given."""
        since = None if after is None else after - CLOCK_SHIFT  # (see `first_due_at`)
        rows = self.store.due_rows(ids, review=review, after=since)
        return first_due_at(rows, review, self.settings.day_starts_at, tz, after)

    def leeches(self, items: list[Card]) -> list[Card]:
        return leeches(items, self.store.states())

    def edited(self, items: list[Card]) -> dict[str, tuple[str, ...]]:
        """What of each of `items` changed since its last review (`labels.edits`: its text,
        and a coding card's starter and checker), by id, of the items edited alone."""
        from functools import partial

        from .labels import edits

        states = self.store.states()
        return {
            item.id: parts
            for item in items
            if (parts := edits(item, states.get(item.id), partial(self.contract, item)))
        }

    def flags(self, item: Card) -> list[str]:
        """What to tell the learner about an item before it is studied."""
        from .labels import edited_flag, edits, is_leech  # (not rating: fsrs is not needed yet)

        state = self.store.state(item.id)
        flags = []
        if edited := edits(item, state, lambda: self.contract(item)):
            flags.append(edited_flag(edited))
        if state is not None and is_leech(state):
            flags.append(f"leech: forgotten {state.lapses} times")
        return flags

    def suspended(self, items: Sequence[Item]) -> set[str]:
        """The ids of `items` kept out of reviews: suspended under their own id, or held by
        their card's suspension under the ids of its other kind (`suspension`)."""
        own = {item.id for item in items if (state := self.state(item.id)) and state.suspended}
        return own | self._held({item.id for item in items})

    def set_suspended(
        self, items: list[Card], suspended: bool, card_items: Sequence[Card] | None = None
    ) -> None:
        """Suspend `items` (or let them back into reviews), items of one card, whose items now
        are `card_items` (None: `items`). A suspension the card keeps under the ids of its
        other kind (made before its author changed its kind: `suspension`) is first moved onto
        the items it holds, so that `unsuspend` lifts it, and what is not changed here stays
        suspended (one deletion let back, the others not)."""
        from .suspension import held, left_behind

        self._seen = None
        every = items if card_items is None else card_items
        with self.store.transaction():
            ids = {item.id for item in every}
            keys = self.store.suspended()
            holding = held(ids, keys)
            for card_id in sorted({split_study_id(item_id)[0] for item_id in holding}):
                for key in left_behind(card_id, ids, keys):
                    self.store.set_suspended(key, False)
            for item_id in sorted(holding):
                self.store.set_suspended(item_id, True)
            for item in items:
                self.store.set_suspended(item.id, suspended)
