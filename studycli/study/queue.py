"""What to study now: cards in learning, reviews due, and today's new cards.

Order, as Anki: learning cards that are due, then review cards by due date, then new cards with
prerequisites (`requires`) first, taken from the decks in turn (`new_order`, "interleaved") or
deck by deck ("deck"), each deck's in id order. New cards and reviews are capped per study
day, and the study day rolls over at a local hour (`day_starts_at`), while every stored time
is UTC; a card in review, or in a learning step that falls on a later study day than its
rating, is due for the whole of its study day (study_days.py). Suspended cards never show.

Siblings, as Anki buries them: the deletions of one cloze card (`<card id>#c<n>`) are
studied one a day. Once one is rated in a study day, buried, or shown before it in the queue
(a card in learning first, then a review, then a new card), its review and new siblings wait
for the next day (`bury_siblings`; cards in learning are never held back).
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from studycli.content.cloze import SEPARATOR, numbers, split_study_id, study_id
from studycli.records import Record

from .review_records import REVIEW_STATE, ReviewCap, Schedule
from .settings import Settings
from .store import Store
from .study_days import DueToday, next_day_start, study_day_start

if TYPE_CHECKING:
    from .review_records import CardState


class Item(Protocol):
    """What the queue reads of a study item: a `Card` (`Card.study_items`), or the
    `StudyItem` rows that `due` counts without making cards (`study_view.load_study_items`)."""

    @property
    def id(self) -> str: ...

    @property
    def deck(self) -> str: ...

    @property
    def requires(self) -> tuple[str, ...]: ...


ItemT = TypeVar("ItemT", bound=Item)  # the queue gives back the items it was given

LEARN_AHEAD = timedelta(minutes=20)  # as Anki: with nothing else left, show learning cards early


class Due(Record, Generic[ItemT]):  # a named tuple: cheaper to make than a dataclass
    """The cards to study, each list in the order they are shown."""

    learning: list[ItemT]
    review: list[ItemT]
    new: list[ItemT]
    ahead: list[ItemT]  # learning cards due within LEARN_AHEAD, in a step within today
    held_new: int = 0  # new cards held back for a later day: today's new limit is reached
    # reviews due today that today's review limit holds back: all of them where every review
    # due was read (`due_by_deck`), those read past the limit where a cap read few (`due_from`)
    held_reviews: int = 0

    def next(self, exclude: frozenset[str] = frozenset()) -> ItemT | None:
        """The card to show now; learning cards due soon only when nothing else is left."""
        for group in (self.learning, self.review, self.new, self.ahead):
            for card in group:
                if card.id not in exclude:
                    return card
        return None


def due_from(
    store: Store,
    cards: Sequence[ItemT],
    now: datetime,
    settings: Settings,
    tz: tzinfo | None = None,
    seen: AbstractSet[str] | None = None,
    index: CardIndex[ItemT] | None = None,
) -> Due[ItemT]:
    """What is due at `now` among `cards`, read from `store`.

    Args:
        store: the review store.
        cards: the candidate cards (already filtered by deck, topic or tag).
        now: the current time, timezone-aware.
        settings: the daily limits and the hour the study day starts.
        tz: the learner's time zone; None for the system's local zone.
        seen: the ids of the cards that are not new, if known (`Store.not_new`).
        index: what the caller keeps of `cards` between queues (see `CardIndex`).
    """
    index = index or CardIndex()
    today = DueToday(now, settings.day_starts_at, tz)
    done_today, buried, introduced = _today(store, now, settings, tz, today.end)
    wanted = _reviews_left(settings, done_today)
    extra = 0  # reviews read beyond the day's limit, for the siblings that wait
    until = today.until(now + LEARN_AHEAD)
    while True:
        cap = ReviewCap(until, index.of(cards), wanted + extra)
        schedule = store.schedule(until, seen, reviews=cap, near=today.near, learning=today.moment)
        due = due_now(cards, schedule, now, settings, done_today, index, buried, today, introduced)
        if len(due.review) >= wanted:
            return due
        # fewer shown than the limit: a sibling that waits, or a review read near the day's
        # end that is due tomorrow (a clock change: `DueToday`), took a place of the cap
        read = sum(1 for _, state, _, _ in schedule.due if state == REVIEW_STATE)
        if read < cap.limit:  # every review due was read
            return due
        extra = max(16, 2 * extra)


def due_by_deck(
    store: Store,
    cards: Sequence[ItemT],
    now: datetime,
    settings: Settings,
    tz: tzinfo | None = None,
    seen: AbstractSet[str] | None = None,
    index: CardIndex[ItemT] | None = None,
) -> tuple[Due[ItemT], dict[str, Due[ItemT]]]:
    """What is due at `now` among all of `cards` (as `due_from`), and in each of their decks
    on its own: what `studycli review --deck D` would show, the day's limits applied to each
    (as Anki's deck list counts them), so that the decks' counts need not add up to the
    whole's. One read of the schedule, with every review due in it. See `due_from` for the
    arguments."""
    today = DueToday(now, settings.day_starts_at, tz)
    done_today, buried, introduced = _today(store, now, settings, tz, today.end)
    schedule = store.schedule(
        today.until(now + LEARN_AHEAD), seen, near=today.near, learning=today.moment
    )
    whole = due_now(cards, schedule, now, settings, done_today, index, buried, today, introduced)
    decks: dict[str, list[ItemT]] = {}
    for card in cards:
        decks.setdefault(card.deck, []).append(card)
    return whole, {
        deck: due_now(members, schedule, now, settings, done_today, None, buried, today)
        for deck, members in sorted(decks.items())
    }


def waiting_siblings(
    store: Store, now: datetime, settings: Settings, tz: tzinfo | None = None
) -> set[str] | None:
    """The cloze cards (`card`, of `card#c2`) with an item rated this study day: their other
    items wait for the next day (None, where siblings are not buried)."""
    day_end = next_day_start(now, settings.day_starts_at, tz)
    return _today(store, now, settings, tz, day_end)[1]


def _today(
    store: Store, now: datetime, settings: Settings, tz: tzinfo | None, day_end: datetime
) -> tuple[dict[str, int], set[str] | None, set[str]]:
    """The ratings so far this study day per queue (`Store.studied_since`), the cloze cards
    with an item rated in it or buried now, whose siblings wait (None when siblings are not
    buried: a buried deletion's siblings showed its answer the moment after `b`), and the
    items first studied in it. Ratings from `day_end` on (another machine's clock ahead,
    imported; this one's set back) count on their own day: they filled today's limits."""
    start = study_day_start(now, settings.day_starts_at, tz)
    done_today, rated, introduced = store.studied_since(start, day_end)
    return done_today, _families_held(store, now, settings, rated), introduced


def without_waiting_siblings(
    items: list[ItemT], store: Store, now: datetime, settings: Settings, tz: tzinfo | None = None
) -> list[ItemT]:
    """`items` less the deletions that wait for the next study day as `review` holds them
    back: those of a cloze card with another deletion rated this study day or buried at
    `now` (`waiting_siblings`). A deletion rated today stays: its own rating showed nothing
    of it that was not seen. `items` itself where siblings are not buried."""
    day_end = next_day_start(now, settings.day_starts_at, tz)
    rated = store.studied_since(study_day_start(now, settings.day_starts_at, tz), day_end)[1]
    waiting = _families_held(store, now, settings, rated)
    if not waiting:
        return items
    return [item for item in items if item.id in rated or family_of(item.id) not in waiting]


def _families_held(
    store: Store, now: datetime, settings: Settings, rated: AbstractSet[str]
) -> set[str] | None:
    """The cloze cards with an item in `rated` (this study day's) or buried at `now`, whose
    other items wait for the next day; None where siblings are not buried."""
    if not settings.bury_siblings:
        return None
    held = (*rated, *store.buried(now))
    return {family for item_id in held if (family := family_of(item_id))}


def due_now(
    cards: Sequence[ItemT],
    schedule: Schedule,
    now: datetime,
    settings: Settings,
    done_today: dict[str, int],
    index: CardIndex[ItemT] | None = None,
    studied: AbstractSet[str] | None = None,
    today: DueToday | None = None,
    introduced: AbstractSet[str] = frozenset(),
) -> Due[ItemT]:
    """Sort `cards` into what is due at `now`.

    Args:
        cards: the candidate cards (already filtered by deck, topic or tag).
        schedule: `Store.schedule`: the cards that can be due by `now + LEARN_AHEAD` or
            the study day's end (`DueToday.until`), by due time, with the last reviews of
            those near the day's end and of those in learning (`DueToday.near`), and the
            cards that are not new.
        now: the current time, timezone-aware.
        settings: the daily limits.
        done_today: ratings so far this study day per queue (`Store.studied_since`).
        index: what the caller keeps of `cards` between queues (see `CardIndex`).
        studied: the cloze cards (`family_of`) with an item rated this study day, whose
            other review and new items wait for the next day; None buries no sibling.
        today: this study day (`DueToday`: a card in review, or in a learning step on a
            later study day than its rating, is due for the whole of its study day, as
            Anki's are: due at 22:00 after an evening's study, it was not due the next
            morning; a learning step within the day at its time); None: `now`'s, in the
            system's zone.
        introduced: the items first studied this study day: with `new_order` "interleaved",
            the decks whose turns they took (see `prerequisite_order`).
    """
    index = index or CardIndex()
    by_id = index.of(cards)
    today = today or DueToday(now, settings.day_starts_at)
    # (compared as text, most rows: a row due before `near` is due on a day up to today; a
    # review is then due, and a card in learning due by `now` is too, at its time or not)
    near, moment = today.near, today.moment
    soon = now + LEARN_AHEAD
    learning: list[ItemT] = []
    review: list[ItemT] = []
    ahead: list[ItemT] = []
    for card_id, state, due, last_review in schedule.due:  # each kind in due order
        card = by_id.get(card_id)
        if card is None:
            continue
        if state == REVIEW_STATE:
            if due < near or today.review_is_due(due, last_review):
                review.append(card)
        elif (due <= moment and due < near) or (at := today.learning_at(due, last_review)) <= now:
            learning.append(card)
        elif at <= soon and at < today.end:
            # (a step to a later study day, due from its start, `end` or later, is never
            # learnt ahead, as Anki's interday steps are not)
            ahead.append(card)
    new = index.unseen(schedule.seen)
    reviews_left = _reviews_left(settings, done_today)
    new_left = max(0, settings.new_per_day - done_today.get("new", 0))
    interleave = None
    if settings.new_order == "interleaved":
        interleave = _given_by_deck(introduced, by_id)
    taken = None
    held = review[reviews_left:]
    if studied is not None:
        taken = set(studied)
        taken.update(family for card in learning if (family := family_of(card.id)))
        review, held = _shown_and_held(review, taken, reviews_left)
    return Due(
        learning=learning,
        review=review[:reviews_left],
        new=prerequisite_order(new, new_left, taken, schedule.seen, interleave=interleave),
        ahead=ahead,
        held_new=0 if new_left else len(new),
        held_reviews=len(held),
    )


def _given_by_deck(introduced: AbstractSet[str], by_id: dict[str, ItemT]) -> dict[str, int]:
    """How many of the items first studied today each deck of `by_id` gave."""
    given: dict[str, int] = {}
    for item_id in introduced:
        item = by_id.get(item_id)
        if item is not None:
            given[item.deck] = given.get(item.deck, 0) + 1
    return given


def family_of(item_id: str) -> str | None:
    """The card a cloze item belongs to (`card#c2` -> `card`); None for a card that is its
    own only item. (Found by hand, not by `split_study_id`: this runs for every due item as
    the queue is built, 0.15 us a call where `split_study_id` takes 0.46.)"""
    cut = item_id.find(SEPARATOR)
    return item_id[:cut] if cut > 0 else None


def _shown_today(item_id: str, taken: set[str]) -> bool:
    """Whether the item can be shown today: not a cloze item whose card is in `taken` (the
    cards with an item rated or shown before it); a cloze item that can takes its card."""
    family = family_of(item_id)
    if family is None:
        return True
    if family in taken:
        return False
    taken.add(family)
    return True


def _unburied(items: list[ItemT], taken: set[str]) -> list[ItemT]:
    """`items` less the siblings that wait for the next day (`_shown_today`), in order."""
    return [item for item in items if _shown_today(item.id, taken)]


def _shown_and_held(
    review: list[ItemT], taken: set[str], limit: int
) -> tuple[list[ItemT], list[ItemT]]:
    """The reviews shown today, the first `limit` of `review` that are not siblings waiting
    (`_unburied`), and those held past the day's limit. Only a review shown holds its
    siblings back, as Anki's queue buries the siblings of what it gathers: one held past the
    limit is not shown today, and a session's queue, which reads only the reviews it can show,
    never saw it. Siblings held past the limit count once."""
    shown: list[ItemT] = []
    for at, item in enumerate(review):
        if len(shown) == limit:
            held = _unburied(review[at:], set(taken))
            return shown, held
        if _shown_today(item.id, taken):
            shown.append(item)
    return shown, []


def _reviews_left(settings: Settings, done_today: dict[str, int]) -> int:
    return max(0, settings.reviews_per_day - done_today.get("review", 0))


class CardIndex(Generic[ItemT]):
    """What a queue works out from its cards alone, kept for the next queue over the same
    cards: a review session asks for a queue per card shown, over thousands of cards, and
    walking them all again costs milliseconds (their objects are out of the CPU's caches by
    then). Made again when asked about other cards."""

    def __init__(self) -> None:
        self._cards: list[ItemT] = []
        self._by_id: dict[str, ItemT] = {}
        self._unseen: list[ItemT] | None = None
        self._seen: AbstractSet[str] = frozenset()
        self._seen_size = 0

    def of(self, cards: Sequence[ItemT]) -> dict[str, ItemT]:
        """`cards` by id (the same dict as last time when `cards` holds the same objects)."""
        if len(cards) != len(self._cards) or not all(map(operator.is_, cards, self._cards)):
            self._cards, self._by_id = list(cards), {card.id: card for card in cards}
            self._unseen = None
        return self._by_id

    def unseen(self, seen: AbstractSet[str]) -> list[ItemT]:
        """The cards of the last `of` whose ids are not in `seen` (the new cards).

        Asked again with the same set object, grown since (a `Study`'s not-new ids only grow
        between queues, by its own ratings; anything else makes it a new set), only the last
        answer is filtered again.
        """
        if self._unseen is None or seen is not self._seen:
            self._unseen = [card for card_id, card in self._by_id.items() if card_id not in seen]
        elif len(seen) != self._seen_size:
            self._unseen = [card for card in self._unseen if card.id not in seen]
        self._seen, self._seen_size = seen, len(seen)
        return self._unseen


def prerequisite_order(
    cards: list[ItemT],
    limit: int | None = None,
    taken: set[str] | None = None,
    studied: AbstractSet[str] | None = None,
    *,
    interleave: Mapping[str, int] | None = None,
) -> list[ItemT]:
    """`cards` ordered so that each card's `requires` (among them) come before it; with
    `limit`, only the first `limit` of that order (a review shows 20 of 700 new cards).

    Among the cards free to come next, the first by deck then id, so the order is stable. With
    `interleave` (how many new cards each deck gave earlier in the study day), the decks take
    turns: the next card is the first by id of the deck that has given the fewest, the first
    such deck by name. So the decks go round, deck 1's first, deck 2's first, ..., then each
    deck's second (deck by deck, a learner's first weeks of 20 new cards a day came from the
    first two decks by name); a deck whose cards all wait for others' requires, or are all
    placed, is passed over. Counted from the day's, the turns go on where they were when a
    review session asks for its queue again after each rating. A cycle (which `lint` reports)
    does not hang: its cards follow in deck, id order. With `taken` (cloze families, see
    `due_now`), a cloze item whose card is in it, or has an item earlier in the order, is
    left out (and the items that require it wait with it); `taken` gains the families kept.
    With `studied` (the items that are not new), a card that requires one outside `cards`
    (left out by --deck, --topic or --tag) and never studied comes after the others, as if
    it waited for it among them (it was released at once).
    """
    by_id = {card.id: card for card in cards}
    waiting, unlocks = _requires(by_id, studied)
    free = (card for card_id, card in by_id.items() if card_id not in waiting)
    ready = _Ready(free, None if interleave is None else by_id.values(), interleave or {})
    ordered: list[ItemT] = []
    wanted = len(cards) if limit is None else limit
    while len(ordered) < wanted and (next_id := ready.pop()) is not None:
        if taken is not None and not _shown_today(next_id, taken):
            ready.keep_turn()  # (its deck gives another)
            continue
        ordered.append(by_id[next_id])
        for follower in unlocks.get(next_id, ()):
            waiting[follower].discard(next_id)
            if not waiting[follower]:
                ready.push(by_id[follower])
    if len(ordered) >= wanted:
        return ordered[:wanted]
    placed = {card.id for card in ordered}
    left = sorted((c for c in cards if c.id not in placed), key=lambda c: (c.deck, c.id))
    if taken is not None:
        left = _unburied(left, taken)
    return (ordered + left)[:wanted]


def _requires(
    by_id: Mapping[str, Item], studied: AbstractSet[str] | None
) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """For `prerequisite_order` (see it for `studied`): the items that wait for others, each
    with the ids it waits for, and the items that wait for each id.

    A require among the items is waited for as it is, at once; one of no item (a cloze card,
    whose items are `card#c1`..., a card studied, or one left out by a filter) comes after:
    only those few find out which item stands for them (a pass over every item's requires
    just for them cost a review's first card 0.8 M instructions).
    """
    waiting: dict[str, set[str]] = {}
    unlocks: dict[str, list[str]] = {}

    def wait(card_id: str, need: str) -> None:
        needs = waiting.setdefault(card_id, set())
        if need not in needs:  # (named twice, it unlocks the card once)
            needs.add(need)
            unlocks.setdefault(need, []).append(card_id)

    outside: list[tuple[str, str]] = []  # (item id, a require of no item)
    for card_id, card in by_id.items():
        for need in card.requires:
            if need not in by_id:
                outside.append((card_id, need))
            elif need != card_id:
                wait(card_id, need)
    # a cloze card's first deletion: a published card may lack c1 (a dropped deletion's
    # number stays unused), and a card requiring it waited for an item no card had. With
    # `studied`, the lowest number among the items and the studied ones (the rows `due`
    # counts have no prompt, and they and the cards must agree); without, read from a card's
    # prompt (c1 for a row). Only for the cards some card requires (a rating's queue: 10,000
    # studied items read once more cost 0.6 ms); `seen`, the families of those among `studied`.
    needed = {need for _, need in outside}
    seen: set[str] | None = None if studied is None else set()
    first_of: dict[str, int] = {}
    if needed and studied is None:
        for item_id, item in by_id.items():
            family, number = split_study_id(item_id)
            if number is not None and family in needed and family not in first_of:
                first_of[family] = min(numbers(getattr(item, "prompt", "")), default=1)
    elif needed and studied is not None and seen is not None:
        for item_id in (*by_id, *studied):
            if item_id.partition(SEPARATOR)[0] in needed:  # (few: split those alone)
                family, number = split_study_id(item_id)
                if item_id in studied:
                    seen.add(family)
                if number is not None and number < first_of.get(family, number + 1):
                    first_of[family] = number
    for card_id, need in outside:
        first = study_id(need, first_of.get(need, 1))
        if first in by_id:  # a cloze card's: its first deletion, while it is new
            if first != card_id:
                wait(card_id, first)
        elif seen is not None and need not in seen:  # left out and never studied: it waits
            wait(card_id, need)
        # (else studied, or no way to know without `studied`: it waits for nothing)
    return waiting, unlocks


class _Ready:
    """The new items free to come next (their requires placed), for `prerequisite_order`: in
    one heap by deck then id, or, where the decks take turns (`items_of` all the items, whose
    decks take them), in a heap per deck, the next from the deck that has given the fewest
    (`given` counted before), the first such by name. O(n) to make, as one heap."""

    def __init__(
        self, free: Iterable[Item], items_of: Iterable[Item] | None, given: Mapping[str, int]
    ) -> None:
        decks = sorted({item.deck for item in items_of}) if items_of is not None else [""]
        self._lane = {deck: at for at, deck in enumerate(decks)}  # ("": the one heap)
        self._heaps: list[list[tuple[str, str]]] = [[] for _ in decks]
        self._given = [given.get(deck, 0) for deck in decks]
        for item in free:
            self._heaps[self._lane.get(item.deck, 0)].append((item.deck, item.id))
        for heap in self._heaps:
            heapq.heapify(heap)
        self._last = 0  # the heap of the last item taken

    def push(self, item: Item) -> None:
        """`item` is free to come next (its last requirement was placed)."""
        heapq.heappush(self._heaps[self._lane.get(item.deck, 0)], (item.deck, item.id))

    def pop(self) -> str | None:
        """The id of the item to come next; None when no item is free."""
        turn = None
        for at, heap in enumerate(self._heaps):
            if heap and (turn is None or self._given[at] < self._given[turn]):
                turn = at
        if turn is None:
            return None
        self._given[turn] += 1
        self._last = turn
        return heapq.heappop(self._heaps[turn])[1]

    def keep_turn(self) -> None:
        """The last item taken was left out: its deck has not given one."""
        self._given[self._last] -= 1


def leeches(cards: list[ItemT], states: dict[str, CardState]) -> list[ItemT]:
    """Cards forgotten `labels.LEECH_LAPSES` times or more, the most forgotten first."""
    from .labels import is_leech

    found = [card for card in cards if is_leech(states.get(card.id))]
    return sorted(found, key=lambda card: -states[card.id].lapses)
