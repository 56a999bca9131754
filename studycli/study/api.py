"""The study layer's public API: what the CLI calls to study, never the store or SQL itself.

`Study` pairs an open review database with the learner's settings and offers the operations a
command needs: the queue and the due counts, rating (and when the card is due again), undo,
the interval each rating would give, history, suspension and leeches; cramming; statistics;
importing and exporting the review log; fitting the FSRS parameters. Items are `Card`s as
`Card.study_items()` gives them: a cloze card is one item per deletion number.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from studycli.records import Record

from .queue import (
    CardIndex,
    Due,
    Item,
    ItemT,
    due_by_deck,
    due_from,
    leeches,
)
from .review_records import CardState, Review, ReviewMethod
from .settings import Settings
from .store import Store
from .study_days import CLOCK_SHIFT, first_due_at, next_day_start
from .times import parse_time

if TYPE_CHECKING:  # imported where used: `due` and `review` need none of them (~20 ms)
    from fsrs import Rating, Scheduler

    from studycli.content.card import Card

    from . import optimize
    from .cram import CramQueue
    from .memory_parameters import Disagreement, Parameters
    from .review_io import ImportResult, LeftOut
    from .review_log_csv import Written
    from .stats import Stats

_MICROSECOND = timedelta(microseconds=1)  # (the log's times are to the microsecond)

__all__ = ["CardState", "DueCounts", "Rated", "Review", "ReviewMethod", "Study", "study_items"]


class Rated(Record):  # named tuples: cheaper than frozen dataclasses at start-up
    """A recorded rating: the review (its id undoes it), the state after and when it is due."""

    review: Review
    state: CardState
    due: datetime

    @property
    def leech(self) -> bool:
        from .labels import is_leech

        return is_leech(self.state)


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


def refuse_replaced(path: Path, opened: tuple[int, int] | None) -> None:
    """Raise StoreError where the database file at `path` is no longer the one opened before
    (`Study.opened_file`): removed or replaced meanwhile (by code a check ran), it is not made
    again, empty, to write into."""
    from . import store_connection

    store_connection.refuse_replaced(path, opened)


def study_items(cards: Iterable[Card]) -> list[Card]:
    """The scheduled items of `cards`: each card, or each deletion number of a cloze card; a
    draft (`Card.draft`: a text still begins with TODO) gives none until it is written."""
    return [item for card in cards if not card.draft for item in card.study_items()]


def fit_file(
    path: Path,
    settings: Settings,
    tz: tzinfo | None = None,
    renames: Mapping[str, str] | None = None,
) -> optimize.Fit:
    """Fit FSRS parameters to the review log CSV at `path` and prove them on held-out reviews.

    Args:
        renames: the content's renamed ids (old card id -> new, `Content.renames`): a row under
            an old id (a log exported before the rename) is one of the new id's history, as an
            import reads it (`renames.renamed_id`).

    Raises:
        ImportFormatError: the file is unreadable or has bad rows.
        StudyError: too few reviews to fit.
    """
    from . import optimize
    from .renames import renamed_id
    from .review_log_csv import read_reviews

    history = ((r.card_id, r.rating, r.reviewed_at) for r in read_reviews(path))
    if renames:
        history = ((renamed_id(card, renames), rating, moment) for card, rating, moment in history)
    items, reviews, cards, item_cards = optimize.fsrs_items(history, settings.day_starts_at, tz)
    return optimize.fit(
        items, reviews=reviews, cards=cards, item_cards=item_cards, source=str(path)
    )


class Study:
    """An open review database and the settings it is studied with. Use as a context manager."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        renames: Mapping[str, str] | None = None,
        solutions_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        # the content's solutions/ folder: a review of a coding card records its contract
        # (starter and checker), so that a change to it flags the card (`contract`); None:
        # the text alone
        self.solutions_dir = solutions_dir
        # the content's renamed ids (old card id -> new, `Content.renames`): their history is
        # the new ids' (`renames.carry`, on opening), and so is an import's
        self.renames: Mapping[str, str] = renames or {}
        # The ids of the cards that are not new, kept between queues (a review session asks
        # for one per card) and brought up to date by this Study's own ratings; read again
        # after an undo or a suspension, or when another process wrote to the database.
        self._seen: set[str] | None = None
        self._seen_version = -1
        # the items of the last queue by id, kept between queues
        self._index: CardIndex[Item] = CardIndex()
        # the moves of renamed cards' histories as this Study opened (its own made): one made
        # since, by a command with other content, refuses a rating of the card (`rate`)
        self.moves_mark: int | None = None

    @classmethod
    def open(
        cls,
        path: Path,
        settings: Settings,
        *,
        write: bool = True,
        renames: Mapping[str, str] | None = None,
        solutions_dir: Path | None = None,
        as_is: bool = False,
    ) -> Study:
        """Open (creating and migrating if needed) the review database at `path`, and move the
        history of each renamed card onto its new id (`renames.carry`; said in `store.notes`).

        Args:
            write: whether the command writes; False opens a database that cannot be written
                read-only instead of failing (see `database.connect`).
            renames: the content's renamed ids (old card id -> new, `Content.renames`).
            solutions_dir: the content's `solutions/` folder (see `Study.solutions_dir`).
            as_is: a dry run: the database is read as it is, nothing about the file changed
                (no migration, no backup; a renamed card's history moved in a copy in memory
                only, as on a read-only medium); implies not `write`.

        Raises:
            StoreError: the file cannot be opened or is not a studycli database; or, when
                `write`, it cannot be written; StoreBusy where a history to move waited past
                the busy timeout for another process's lock.
        """
        write = write and not as_is
        study = cls(Store.open(path, write=write, as_is=as_is), settings, renames, solutions_dir)
        if renames:
            from .renames import carry, note

            try:
                moves = carry(study.store, renames, settings)
            except BaseException as exc:  # closed; an SQLite error said as the store says one
                study.__exit__(type(exc), exc, exc.__traceback__)
                raise
            if moves:
                study.store.notes.append(note(moves, written=not study.store.copied))
        if write:  # (a command that reads only rates nothing)
            study.moves_mark = study.store.latest_move_id()
        return study

    @property
    def opened_file(self) -> tuple[int, int] | None:
        """The device and inode of the database file opened (see `refuse_replaced`)."""
        return self.store.opened_file

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.store.__exit__(*exc_info)

    # --- what to study ---------------------------------------------------------------------

    def state(self, item_id: str) -> CardState | None:
        return self.store.state(item_id)

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

    def _unburied(
        self, items: Sequence[ItemT], now: datetime
    ) -> tuple[Sequence[ItemT], datetime | None]:
        """`items` less those buried at `now` (the same list where none is), and when the first
        of those comes back (None: none of them is buried)."""
        buried = self.store.buried(now)
        if not buried:
            return items, None
        kept = [item for item in items if item.id not in buried]
        back = [buried[item.id] for item in items if item.id in buried]
        return kept, min(back, default=None)

    def _unsuspended(self, items: Sequence[ItemT]) -> Sequence[ItemT]:
        """`items` less those whose card is suspended under the ids of its other kind
        (`suspension.held`); the same list where none is."""
        held = self._held(self._index.of(items))
        return [item for item in items if item.id not in held] if held else items

    def _held(self, item_ids: Collection[str]) -> set[str]:
        """The ids among `item_ids` held by their card's suspension under the ids of its other
        kind (`suspension.held`)."""
        # only an id that is no item's can hold one: where every id the store knows (studied
        # or suspended) is an item's, as in most collections, no more is read (0.2 ms with
        # 10,000 cards studied)
        if not self._not_new().difference(item_ids):
            return set()
        from .suspension import held

        return held(item_ids, self.store.suspended())

    def _not_new(self) -> set[str]:
        version = self.store.data_version()
        if self._seen is None or version != self._seen_version:
            self._seen, self._seen_version = self.store.not_new(), version
        return self._seen

    def due_counts(self, items: Sequence[Item], now: datetime) -> DueCounts:
        """How many reviews, learning and new items are due now, in all and in each deck on its
        own (what `review --deck D` shows: the day's limits apply to each, so the decks' counts
        need not add up to the whole's). `items` are cards' study items, or `StudyItem` rows
        (`loader.load_study_items`: no card made)."""
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

    def contract(self, item: Card) -> str | None:
        """The hash of `item`'s contract (`content.contract.contract_hash`, kept between
        commands by `content.contract_cache`): None for an item that runs no code, or where
        this Study has no solutions folder."""
        if not item.runnable or self.solutions_dir is None:
            return None
        from studycli.content.contract_cache import cached_contract

        return cached_contract(item, self.solutions_dir)

    def recorded_hash(self, item: Card) -> str:
        """What a review of `item` records of what it was made on: the hash of its text, and
        of a coding card's contract (`content.contract.recorded_hash`)."""
        from studycli.content.contract import recorded_hash

        return recorded_hash(item, self.contract(item))

    # --- rating ------------------------------------------------------------------------------

    def preview(self, item: Card, now: datetime) -> dict[Rating, timedelta]:
        """The interval each rating would give `item` at `now` (the rating keys' labels)."""
        from . import rating as core

        return core.preview(item.id, self.store.state(item.id), now, self.settings)

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
    ) -> Rated:
        """Schedule `item` with `rating` at `now` and commit the review before returning;
        with `unless_rated_after` (`latest_review_id` when the item was shown), refuse with
        RatedElsewhere if another session rated it since; and with HistoryMoved where another
        command moved the history of its id, away or onto it, since `unless_moved_after`
        (`moves_mark` of the Study the item's content was read with), by default since this
        Study opened (see `rating.rate`)."""
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
            content_hash=self.recorded_hash(item),
        )
        state = self.store.state(item.id)
        assert state is not None and state.fsrs is not None  # just written
        if self._seen is not None:
            self._seen.add(item.id)  # rated: not new any more
        return Rated(review=review, state=state, due=core.fsrs_card(state).due)  # type: ignore[union-attr]

    def cram_queue(self, items: list[Card], now: datetime, limit: int | None = None) -> CramQueue:
        """A cram session over `items`: weakest first, due or not (see `cram`)."""
        from .cram import CramQueue, cram_order

        unsuspended = list(self._unsuspended(items))
        return CramQueue(cram_order(unsuspended, self.store.states(), now, self.settings)[:limit])

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

    # --- history and suspension --------------------------------------------------------------

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

    def imported_since(self, review_id: int) -> bool:
        """Whether the log holds imported reviews written after review `review_id` (a mark
        from `latest_review_id`)."""
        return self.store.imported_after(review_id)

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
            for card_id in sorted({item_id.partition("#")[0] for item_id in holding}):
                for key in left_behind(card_id, ids, keys):
                    self.store.set_suspended(key, False)
            for item_id in sorted(holding):
                self.store.set_suspended(item_id, True)
            for item in items:
                self.store.set_suspended(item.id, suspended)

    # --- insight and portability -------------------------------------------------------------

    def stats(
        self, items: list[Card], now: datetime, tz: tzinfo | None = None, *, elsewhere: bool = False
    ) -> Stats:
        """Where the learner stands on `items` (see `stats.stats`); `elsewhere` also counts the
        log's cards that are not in the content, in every figure but the forecast and the
        topics."""
        from .stats import stats

        return stats(self.store, items, self.settings, now, tz, elsewhere=elsewhere)

    def import_reviews(
        self, path: Path, items: list[Card], now: datetime, *, dry_run: bool = False
    ) -> ImportResult:
        """Merge the review log CSV at `path` into this log (idempotent; see `review_io`).

        Args:
            path: the CSV file.
            items: every study item of the content (imported reviews of these carry their
                content hash, and a coding card's contract: `recorded_hash`).
            now: a review later than this is a bad row.
            dry_run: say what the import would do, writing nothing (a study opened `as_is`).

        Raises:
            ImportFormatError: the file is unreadable or has bad rows (nothing is written).
        """
        from .review_io import import_reviews

        hashes = _RecordedHashes(self, items)
        self._seen = None  # cards the import studies are not new any more
        return import_reviews(
            self.store,
            path,
            self.settings,
            hashes,
            now=now,
            renames=self.renames,
            dry_run=dry_run,
        )

    def export_reviews(self, path: Path, *, plain: bool = False) -> Written:
        """Write the log (cram ratings left out, undone ones marked) to `path` as CSV; how
        many rows of each (`review_io.export_reviews`; `plain`: py-fsrs's four columns, the
        ratings that stand alone)."""
        from .review_io import export_reviews

        return export_reviews(self.store, path, plain=plain)

    def left_out_of_export(self, item_ids: Collection[str] | None = None) -> LeftOut:
        """What `export_reviews` cannot write (cram ratings, suspensions, check outcomes, the
        settings cards were scheduled with); suspensions of the content's items `item_ids`
        apart from those of items it no longer has (None: all counted as its)."""
        from .review_io import left_out

        return left_out(self.store, self.settings, item_ids)

    def wait_to_write(self) -> None:
        """Take the write lock and let it go: what another process holds is waited for, and
        what it keeps past the wait is found before a change outside the database (new
        parameters in settings.toml) is made that a write here must follow.

        Raises:
            StoreBusy: another process kept the database locked.
        """
        with self.store.transaction():
            pass

    def recompute_memory(
        self, now: datetime, *, saving: bool = False, replaced: Sequence[float] | None = None
    ) -> int:
        """Give every studied card the stability and difficulty its history gives under the
        settings' parameters, its due date kept (Anki recomputes memory states so when a
        preset's parameters change), and log the recompute, so that a replay of the log gives
        the same states (`rating.rebuild`). It is logged at `now`, or just after the log's
        latest review or recompute where the clock is behind them: it follows the whole
        history; one that changes no card's state is not logged for the replay. The
        parameters are recorded with the states, in their transaction, changed or not
        (`memory_parameters`: what `parameters_disagreement` compares settings.toml's with).
        Computed from a snapshot, without the write lock (a review session in another
        terminal goes on rating), and written with the log as it was; where another process
        wrote meanwhile, computed again. Returns how many cards' states changed (a state that
        had drifted from the log keeps its drift, which the doctor repairs).

        Args:
            saving: the settings' parameters are new, written to settings.toml once this
                commits (`optimize --write`), which holds `replaced` until then (None: the
                defaults): where it never does, the next command says so.

        Raises:
            StoreBusy: another process kept the database locked (nothing was changed).
        """
        from . import scheduler as sched
        from .memory_parameters import as_recorded

        scheduler = sched.make_scheduler(self.settings)
        record = (as_recorded(self.settings.parameters), saving, as_recorded(replaced))
        for _ in range(2):
            with self.store.snapshot():
                version = self.store.data_version()
                made_at, changed = self._recomputed(scheduler, now)
            with self.store.transaction():
                if self.store.data_version() == version:
                    return self._write_recompute(scheduler, made_at, changed, record)
        with self.store.transaction():  # written to all along: computed inside the lock
            return self._write_recompute(scheduler, *self._recomputed(scheduler, now), record)

    def parameters_saved(self, now: datetime) -> None:
        """The settings' parameters, which a `recompute_memory` with `saving` stood the
        states on, reached settings.toml: recorded at `now`, so that a later change there (the
        parameters put back by hand) is told as a hand edit, not as a `--write` stopped before
        the file. Where the log cannot take it now (busy past the wait, a full disk), nothing
        is recorded: the file and the states agree as they are."""
        from .memory_parameters import as_recorded

        self.store.record_parameters_if_possible(now, as_recorded(self.settings.parameters))

    def parameters_disagreement(self, now: datetime, *, write: bool) -> Disagreement | None:
        """Where the memory states stand on other FSRS parameters than the settings' (see
        memory_parameters.py): one row read, and, only where there is no record and the
        settings have parameters of their own, whether the log holds a review that makes a
        memory state (undone and cram ratings make none). With `write` (the command writes),
        a log with neither record nor such review records those parameters at `now`: the
        states its first reviews make stand on them, not on the defaults that no record means
        (a new log with the defaults writes nothing)."""
        record = self.store.memory_parameters()
        if record is None and self.settings.parameters is None:
            return None  # (most learners, until they fit: nothing more read, nor imported)
        from .memory_parameters import as_recorded, disagreement

        own = as_recorded(self.settings.parameters)
        if record is None and own is not None and write and not self.store.has_scheduled_reviews():
            self.store.record_parameters(now, own)
            return None
        return disagreement(record, self.settings.parameters, self.store.has_scheduled_reviews)

    def stale_memory_states(self, now: datetime) -> int:
        """How many studied cards' memory states a recompute with the settings' parameters
        would change (nothing is written): 0 where they agree; more where the parameters in
        settings.toml were edited by hand, or an `optimize --write` was killed between saving
        them and recomputing (SIGKILL, which no handler sees)."""
        import json

        from . import scheduler as sched

        scheduler = sched.make_scheduler(self.settings)
        wanted = [float(w) for w in scheduler.parameters]
        with self.store.snapshot():
            used = self.store.schedulers_since_recompute()
            # every state stands on these parameters already (most learners: no replay, which
            # costs the doctor as much again as its own)
            if all(json.loads(text).get("parameters") == wanted for text in used):
                return 0
            return len(self._recomputed(scheduler, now)[1])

    def _write_recompute(
        self,
        scheduler: Scheduler,
        made_at: datetime,
        changed: list[CardState],
        record: tuple[Parameters, bool, Parameters],
    ) -> int:
        parameters, saving, replaced = record
        self.store.record_parameters(made_at, parameters, saving=saving, replaced=replaced)
        if not changed:  # a replay without it gives the same states: the log stays as it is
            return 0
        self.store.record_recompute(made_at, scheduler.to_json())
        self.store.replace_states(changed)
        return len(changed)

    def _recomputed(self, scheduler: Scheduler, now: datetime) -> tuple[datetime, list[CardState]]:
        """When a recompute made now is logged, and the states it changes."""
        from collections import defaultdict

        from .replay import recomputed

        latest = (self.store.latest_scheduled(), self.store.latest_recompute())
        made_at = max([now, *(moment + _MICROSECOND for moment in latest if moment is not None)])
        histories: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
        for card_id, rating, moment, _, _ in self.store.scheduled_log():
            histories[card_id].append((rating, parse_time(moment)))
        changed = []
        for card_id, state in self.store.states().items():
            if state.fsrs and card_id in histories:
                new = recomputed(state, histories[card_id], scheduler)
                if new != state:
                    changed.append(new)
        return made_at, changed

    def fit(self, tz: tzinfo | None = None) -> optimize.Fit:
        """Fit FSRS parameters to this log (undone and cram ratings left out) and prove them
        on held-out reviews.

        Raises:
            StudyError: too few reviews to fit.
        """
        history = (
            (card_id, rating, parse_time(moment))
            for card_id, rating, moment, _, _ in self.store.scheduled_log()
        )
        from . import optimize

        items, reviews, cards, item_cards = optimize.fsrs_items(
            history, self.settings.day_starts_at, tz
        )
        return optimize.fit(items, reviews=reviews, cards=cards, item_cards=item_cards)


class _RecordedHashes(Mapping[str, str]):
    """`Study.recorded_hash` of each of `items`, by id, each made on first use: an import reads
    the solution modules of the coding cards it brings reviews of, not of every one (the 82
    shipped coding cards' contracts: 1 s, which an import of one review took on top of 0.5 s)."""

    def __init__(self, study: Study, items: Iterable[Card]) -> None:
        self._study = study
        self._items = {item.id: item for item in items}
        self._made: dict[str, str] = {}

    def __getitem__(self, item_id: str) -> str:
        if item_id not in self._made:
            self._made[item_id] = self._study.recorded_hash(self._items[item_id])
        return self._made[item_id]

    def __contains__(self, item_id: object) -> bool:
        # (Mapping's asks for the hash, and so makes it: a dry run, which replays nothing,
        # made every imported card's to say which are not in the content, 8 of its 10 s for
        # 100,000 reviews of 16,000 cards)
        return item_id in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
