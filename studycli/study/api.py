"""The study layer's public API: what the CLI calls to study, never the store or SQL itself.

`Study` pairs an open review database with the learner's settings and offers the operations a
command needs: the queue and the due counts, rating (and when the card is due again), undo,
the interval each rating would give, history, suspension and leeches; cramming; statistics;
importing and exporting the review log; fitting the FSRS parameters. Items are `Card`s as
`Card.study_items()` gives them: a cloze card is one item per deletion number.

`Study` is one class, put together here from parts named for what they do, each a mixin in a
module of its own over `StudyBase` (api_base.py: the database and settings, the items kept
out of the queue, what a review records):

- api_queue.py: what to study: the queue, the due counts, burying, suspension, leeches;
- api_reviews.py: rating, cramming, undo, the history read back;
- api_parameters.py: the FSRS parameters: fitting them, the memory states recomputed.

Here: opening and closing, statistics, and importing and exporting the review log.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from .api_parameters import FsrsParametersMixin
from .api_queue import DueCounts, QueueMixin
from .api_reviews import Previewed, Rated, ReviewsMixin
from .review_records import CardState, Review, ReviewMethod
from .settings import Settings
from .store import Store

if TYPE_CHECKING:  # imported where used: `due` and `review` need none of them (~20 ms)
    from studycli.content.card import Card

    from .review_export import LeftOut
    from .review_io import ImportResult
    from .review_log_write import Written
    from .stats import Stats

__all__ = [
    "CardState",
    "DueCounts",
    "Previewed",
    "Rated",
    "Review",
    "ReviewMethod",
    "Study",
    "study_items",
]


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


class Study(QueueMixin, ReviewsMixin, FsrsParametersMixin):
    """An open review database and the settings it is studied with. Use as a context manager."""

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
        now: datetime | None = None,
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
            now: the command's time (the clock's, or `STUDYCLI_NOW`), at which a moved
                history's duplicate review is marked undone (default: the clock's).

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
                moves = carry(study.store, renames, settings, now)
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
            now: this machine's time: a review more than 5 minutes later is a bad row, one
                up to that far later is taken and counted (`clock_skew`).
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
        many rows of each (`review_export.export_reviews`; `plain`: py-fsrs's four columns, the
        ratings that stand alone)."""
        from .review_export import export_reviews

        return export_reviews(self.store, path, plain=plain)

    def left_out_of_export(self, item_ids: Collection[str] | None = None) -> LeftOut:
        """What `export_reviews` cannot write (cram ratings, suspensions, check outcomes, the
        settings cards were scheduled with); suspensions of the content's items `item_ids`
        apart from those of items it no longer has (None: all counted as its)."""
        from .review_export import left_out

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
