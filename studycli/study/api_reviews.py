"""The study API's part that records and reads back reviews (api.py's `Study`): the interval
each rating would give, a rating (and when the card is due again), a cram rating, undo, and
the history of an item or of the whole log.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from studycli.records import Record

from .api_base import StudyBase
from .review_records import CardState, Review, ReviewMethod

if TYPE_CHECKING:  # imported where used: `due` and `review` need none of them (~20 ms)
    from fsrs import Rating

    from studycli.content.card import Card

    from .cram import CramQueue


class Rated(Record):  # named tuples: cheaper than frozen dataclasses at start-up
    """A recorded rating: the review (its id undoes it), the state after and when it is due."""

    review: Review
    state: CardState
    due: datetime

    @property
    def leech(self) -> bool:
        from .labels import is_leech

        return is_leech(self.state)


class Previewed(Record):
    """The intervals a rating bar shows (`Study.previewed`) and the item's state they were
    computed from (fsrs's JSON; "" while new), which a rating chosen by them hands to `rate`
    (`shown`): refused there, under the write lock, if the state is another by then and gives
    other intervals."""

    intervals: dict[Rating, timedelta]
    fsrs: str


class ReviewsMixin(StudyBase):
    """Rating, undo and history (see api.py's `Study`)."""

    def preview(self, item: Card, now: datetime) -> dict[Rating, timedelta]:
        """The interval each rating would give `item` at `now` (the rating keys' labels)."""
        return self.previewed(item, now).intervals

    def previewed(self, item: Card, now: datetime) -> Previewed:
        """`preview`, with the state it was computed from (see `rate`'s `shown`)."""
        from . import rating as core

        self._follow_recompute()
        state = self.store.state(item.id)
        intervals = core.preview(item.id, state, now, self.settings)
        return Previewed(intervals, (state.fsrs if state is not None else None) or "")

    def rate(
        self,
        item: Card,
        rating: Rating,
        now: datetime,
        *,
        method: ReviewMethod = ReviewMethod.SELF,
        check_status: str | None = None,
        duration_ms: int | None = None,
        unless_rated_after: int | None = None,
        unless_moved_after: int | None = None,
        shown: Previewed | None = None,
    ) -> Rated:
        """Schedule `item` with `rating` at `now` and commit the review before returning;
        with `unless_rated_after` (`latest_review_id` when the item was shown), refuse with
        RatedElsewhere if another session rated it since; and with HistoryMoved where another
        command moved the history of its id, away or onto it, since `unless_moved_after`
        (`moves_mark` of the Study the item's content was read with), by default since this
        Study opened; and with `shown` (the intervals the rating was chosen by), with
        StateChanged where the item's state is no longer the one they were computed from
        (another command imported reviews of it, undid one, or recomputed the memory states)
        and gives other intervals now, or IntervalsMoved where the state is the same and a
        day since its last review passed meanwhile, which moves them (`rating.rate`'s
        `unless_changed_from` and `shown`)."""
        from . import rating as core

        moved_after = self.moves_mark if unless_moved_after is None else unless_moved_after
        review = core.rate(
            self.store,
            item,
            int(rating),
            now,
            self.settings,
            method=method,
            check_status=check_status,
            duration_ms=duration_ms,
            unless_rated_after=unless_rated_after,
            unless_moved_after=moved_after,
            unless_changed_from=None if shown is None else shown.fsrs,
            shown=None if shown is None else shown.intervals,
            content_hash=self.recorded_hash(item),
            follow=self._follow_recompute,  # (under the write lock: a recompute committed
            # while the rating waited for it is what the state it builds on stands on)
        )
        state = self.store.state(item.id)
        assert state is not None and state.fsrs is not None  # just written
        if self._seen is not None:
            self._seen.add(item.id)  # rated: not new any more
        return Rated(review=review, state=state, due=core.fsrs_card(state).due)  # type: ignore[union-attr]

    def cram_queue(
        self, items: list[Card], now: datetime, limit: int | None = None, tz: tzinfo | None = None
    ) -> CramQueue:
        """A cram session over `items`: weakest first, due or not (see `cram`), those buried
        at `now` or suspended left out, and the deletions `review` holds back as siblings
        until the next study day (`queue.without_waiting_siblings`), so that `limit` counts
        the cards after them (as a buried card takes no place in `review`'s limit), and counted
        as `waiting`. `tz`: the learner's zone, where the study day starts (None: the
        system's)."""
        from .cram import CramQueue, cram_order
        from .queue import without_waiting_siblings

        unsuspended = self._unsuspended(items)
        kept = list(self._unburied(unsuspended, now)[0])
        kept = without_waiting_siblings(kept, self.store, now, self.settings, tz)
        ordered = cram_order(kept, self.store.states(), now, self.settings)[:limit]
        return CramQueue(ordered, waiting=len(unsuspended) - len(kept))

    def cram_rate(
        self,
        item: Card,
        rating: Rating,
        now: datetime,
        *,
        check_status: str | None = None,
        duration_ms: int | None = None,
    ) -> Review:
        """Log a cram rating: committed before returning; the item's schedule is unchanged."""
        from . import rating as core

        return core.cram(
            self.store,
            item,
            int(rating),
            now,
            self.settings,
            check_status=check_status,
            duration_ms=duration_ms,
            content_hash=self.recorded_hash(item),
        )

    def undo(self, review_id: int, now: datetime) -> CardState:
        """Undo one review: the item goes back exactly as it was; the log marks it undone."""
        from . import rating as core

        self._seen = None
        return core.undo(self.store, review_id, now)

    def history(
        self,
        item_id: str | None = None,
        *,
        limit: int | None = None,
        since: datetime | None = None,
    ) -> list[Review]:
        """Reviews, the latest reviewed first (undone ones left out), at most `limit`, from
        `since` on; of one item, or of a card and every item of it when `item_id` is a card's
        id."""
        card_id, prefix = self._history_of(item_id)
        return self.store.reviews(
            card_id, card_prefix=prefix, by_time=True, limit=limit, since=since
        )

    def latest_review_id(self) -> int:
        """A mark of the log as it is now: a rating written later has a larger id (see
        `rate`'s `unless_rated_after`)."""
        return self.store.latest_review_id()

    def imported_since(self, review_id: int, undos: int | None = None) -> bool:
        """Whether the log holds imported reviews written after review `review_id` (a mark
        from `latest_review_id`), or more undos than `undos` (from `undo_count`: an import
        that only undid ratings appends no review)."""
        return self.store.imported_after(review_id, undos)

    def undo_count(self) -> int:
        """How many reviews the log holds undone: with `latest_review_id`, a mark an
        import's undos move (`imported_since`)."""
        return self.store.undo_count()

    def history_size(self, item_id: str | None = None) -> int:
        """How many reviews `history(item_id)` gives without a limit."""
        card_id, prefix = self._history_of(item_id)
        return self.store.count_reviews(card_id, card_prefix=prefix)

    def _history_of(self, item_id: str | None) -> tuple[str | None, str | None]:
        """The store's filter for `item_id`'s history: a deletion's (`card#c2`) own reviews; a
        card's own and its deletions' (a card made a cloze card, or made one no more, has
        both: those of one kind were shown, the other's left out)."""
        if item_id is None or "#" in item_id:
            return item_id, None
        return item_id, f"{item_id}#c"
