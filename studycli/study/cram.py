"""Cramming (`studycli cram`): study items whether due or not, weakest first, without moving
the schedule, as Anki's filtered decks without rescheduling.

The order: studied items by their predicted probability of recall now, lowest first (what is
most likely forgotten comes first); then the items never studied, prerequisites first, taken
from the decks in turn or deck by deck as `review` takes them (`new_order`). New items come
last because a cram session is for what was learned: a new item has no memory to refresh,
and it is introduced properly by `studycli review`. Suspended items are left out, and so
are buried ones until the next study day (`Study.cram_queue`), as Anki's filtered decks pull
in neither: a card `b` buried in `review` came back first in cram, and took a place in its
`--limit` that `review`'s limit gives to the next card. The siblings `review` buries are left
out too (`bury_siblings`): the other deletions of a cloze card with one rated today or buried
wait for the next study day, as Anki's filtered decks pull in no buried sibling (cram showed
them, their answers seen on the deletion studied). A cram rating holds no sibling back, as it
moves no schedule: a cram session shows each of a card's other deletions, where holding them
back for one crammed would keep them out of every cram that day (a cram rating leaves the
order it was first in as it was).
An item rated Again comes back at the end of the session; any other rating ends it for the
session. Cram ratings are logged (method `cram`) and never replayed into the schedule; a
studied item records the text a cram rating showed, so that an edit it showed is flagged no
more (a coding card's starter and checker only where its attempt was checked: `rating.cram`).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from fsrs import Rating

from studycli.content.card import Card

from . import scheduler as sched
from .queue import prerequisite_order
from .rating import fsrs_card
from .review_records import CardState
from .settings import Settings


def cram_order(
    items: list[Card], states: dict[str, CardState], now: datetime, settings: Settings
) -> list[Card]:
    """`items` in cram order (see the module's docstring), suspended ones left out."""
    scheduler = sched.make_scheduler(settings)
    studied: list[tuple[float, str, Card]] = []
    new: list[Card] = []
    for item in items:
        state = states.get(item.id)
        if state is not None and state.suspended:
            continue
        card = fsrs_card(state)
        if card is None:
            new.append(item)
        else:
            studied.append((scheduler.get_card_retrievability(card, now), item.id, item))
    studied.sort(key=lambda entry: (entry[0], entry[1]))
    # no turns taken before: a cram rating introduces nothing (the item stays new)
    interleave: dict[str, int] | None = {} if settings.new_order == "interleaved" else None
    return [item for _, _, item in studied] + prerequisite_order(new, interleave=interleave)


class CramQueue:
    """A cram session's queue: the items in order, each studied once unless rated Again."""

    def __init__(self, items: list[Card], waiting: int = 0) -> None:
        self.pending: deque[Card] = deque(items)
        # the items selected but left out until the next study day (buried, or held back as
        # siblings): said where none is left to cram
        self.waiting = waiting

    def next(self) -> Card | None:
        """The item to show now (it stays first until it is rated)."""
        return self.pending[0] if self.pending else None

    def rated(self, item: Card, rating: Rating) -> None:
        """`item` (shown first) was rated: it is done, or, rated Again, comes back last."""
        if self.pending and self.pending[0].id == item.id:
            self.pending.popleft()
        if rating == Rating.Again:
            self.pending.append(item)

    def undone(self, item: Card, rating: Rating) -> None:
        """The rating of `item` was undone: it is first again, as it was before."""
        if rating == Rating.Again:
            for index in range(len(self.pending) - 1, -1, -1):
                if self.pending[index].id == item.id:
                    del self.pending[index]
                    break
        self.pending.appendleft(item)

    def status(self) -> str:
        return f"cram · {len(self.pending)} left · your schedule is not changed"
