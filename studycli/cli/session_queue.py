"""Where a review session's cards come from: `SessionQueue`, what `ReviewSession` asks of a
queue, and `DueQueue`, what is due (`studycli review`'s queue), drawn afresh from the store
after every rating, a `--limit` kept. `studycli cram`'s queue is `study.cram.CramQueue`
(weakest first, due or not), made by `Study.cram_queue`.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Protocol

from studycli.content.card import Card
from studycli.study.api import Study
from studycli.study.queue import Due

if TYPE_CHECKING:
    from fsrs import Rating


class SessionQueue(Protocol):
    """Where a session's cards come from."""

    def next(self) -> Card | None:
        """The card to show now; None when the session is done."""

    def rated(self, item: Card, rating: Rating) -> None:
        """`item`, just shown, was rated."""

    def undone(self, item: Card, rating: Rating) -> None:
        """The rating of `item` was undone: it comes back next."""

    def status(self) -> str:
        """The line above each card."""


class DueQueue:
    """What is due, drawn afresh from the store after every rating (`studycli review`). With
    a limit, once that many cards were studied (shown, and rated at least once) only those are
    finished: a card left unrated (buried, suspended, its rating not saved) counts for none,
    as Anki's limit counts the cards studied, and the next due card takes its place (`--limit
    3`, the first buried: the session ended after two, "0 reviews · 1 buried" after one)."""

    def __init__(
        self,
        study: Study,
        items: list[Card],
        clock: Callable[[], datetime],
        limit: int | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.study, self.items, self.clock, self.limit, self.tz = study, items, clock, limit, tz
        self.seen: set[str] = set()  # shown (the one on screen too): what the limit counts
        self.studied: set[str] = set()  # rated at least once this session (stay counted)
        self.unsaved: set[str] = set()  # rated, the rating not saved: left for this session
        self.again_next: Card | None = None  # the card an undo brings back
        self._front: Due | None = None  # what was due when `next` picked, for `status`

    def _due(self) -> Due:
        pool = [c for c in self.items if c.id not in self.unsaved] if self.unsaved else self.items
        if self.limit is not None and len(self.seen) >= self.limit:
            pool = [c for c in pool if c.id in self.seen]  # only finish what was started
        return self.study.queue(pool, self.clock(), self.tz)

    def next(self) -> Card | None:
        if self.again_next is not None:
            return self.again_next
        self._front = self._due()
        card = self._front.next()
        if card is not None:
            self.seen.add(card.id)
        return card

    def rated(self, item: Card, rating: Rating) -> None:
        self.again_next = None
        self.studied.add(item.id)

    def undone(self, item: Card, rating: Rating) -> None:
        self.again_next = item

    def left(self, item: Card) -> None:
        """`item`, just shown, leaves the session unrated: buried, suspended, or rated but the
        rating not saved (another session's came first, or the clock is behind its last
        review). It is not shown again this session. Only `review`'s queue has this: a cram
        session has no `b` or `@`, and a cram rating is saved or stays on screen."""
        self.again_next = None
        self.unsaved.add(item.id)  # (still due: drawn afresh, it would come first again)
        if item.id not in self.studied:  # not studied: the limit's room is given back
            self.seen.discard(item.id)

    def unburied(self, item: Card) -> None:
        """`item`, buried or suspended by this session, was taken back: it comes next."""
        self.unsaved.discard(item.id)
        self.again_next = item
        self.seen.add(item.id)  # (shown again, as `next` gives it: counted again)

    def held_new(self) -> int:
        """How many new cards the last queue drawn held back: the day's new limit is reached."""
        return self._front.held_new if self._front is not None else 0

    def held_reviews(self) -> int:
        """How many reviews due today the day's review limit holds back (at the session's end:
        a queue reads only the reviews it can show, so they are counted here, at once)."""
        if self._front is None or self._front.review:
            return 0
        pool = [c for c in self.items if c.id not in self.unsaved]
        return self.study.due_counts(pool, self.clock()).held_reviews

    def past_limit(self) -> int:
        """How many study items the session's limit left that could be studied now (another
        `studycli review` shows them): 0 without a limit, or where it cut nothing off."""
        if self.limit is None or len(self.seen) < self.limit:
            return 0
        return self._studiable(also_left=self.seen)

    def left_now(self) -> int:
        """How many cards another `studycli review` would show now, the one on screen
        included, once the session was left before its end (q, Ctrl-C)."""
        return self._studiable()

    def _studiable(self, also_left: Container[str] = frozenset()) -> int:
        """How many cards are due now (learning, review or new: not one in learning that
        would be shown early, ahead), less those left for this session and `also_left`."""
        pool = [c for c in self.items if c.id not in self.unsaved and c.id not in also_left]
        due = self.study.queue(pool, self.clock(), self.tz)
        return len(due.learning) + len(due.review) + len(due.new)

    def status(self) -> str:
        due, self._front = self._front or self._due(), None  # one queue per card shown
        learning, review, new, ahead = self._left(due)
        return f"new {new} · learning {learning + ahead} · review {review}"

    def _left(self, due: Due) -> list[int]:
        """How many of `due`'s learning, review, new and ahead cards this session still shows,
        the one on screen included. With a limit, a card already shown counts (it is finished),
        and the others only as far as the limit leaves room, in the order they come."""
        groups = (due.learning, due.review, due.new, due.ahead)  # `Due.next`'s order
        if self.limit is None:
            return [len(group) for group in groups]
        room, counts = self.limit - len(self.seen), []
        for group in groups:
            shown = sum(1 for card in group if card.id in self.seen)
            taken = min(room, len(group) - shown)
            room -= taken
            counts.append(shown + taken)
        return counts
