"""The review store: an SQLite file holding the append-only review log and each card's state.

No scheduling here: the core (rating.py) computes states with fsrs and hands them over as
values. Every write is one transaction, committed before the call returns, so a killed process
loses nothing already rated. Times are stored as UTC ISO-8601 strings of one fixed shape, so
that they also sort as text.

`Store` is one class, put together here from parts named for what they do, each a mixin in a
module of its own over `StoreConnection` (store_connection.py: the connection, its
transactions, the file opened):

- store_states.py: the cards' states, the schedule the queue reads, suspensions and burials;
- store_log.py: a rating recorded, the log read back;
- store_import.py: an import's staging, settling and appending (review_io.py drives it);
- store_replay.py: what a replay reads (the schedule's reviews, their schedulers), recomputes;
- store_parameters.py: the FSRS parameters the memory states stand on, as recorded;
- store_export.py: what `export-reviews` writes, and what it leaves out;
- store_stats.py: what the statistics read;
- store_renames.py: a renamed card's history moved onto its new id.

A part calls only its own methods and the connection's, so that each reads (and type-checks)
alone. Here: opening (`Store.open`, through database.py, which migrates the schema of
migrations.py) and `undo`, which calls several parts (the log, the card's state, the
recomputes, the moves). The records the store holds are in review_records.py, its times' text
in times.py, and the SQL its parts share in store_sql.py.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from studycli.errors import ClockBehind, StoreError, UndoneAlready

from . import database
from .clock_skew import undo_behind, undone_before
from .review_records import CardState, Review, ReviewMethod
from .store_export import ExportMixin
from .store_import import ImportMixin
from .store_log import ReviewLogMixin
from .store_parameters import ParametersMixin
from .store_renames import RenamesMixin, moved_from
from .store_replay import ReplayMixin
from .store_sql import _write_state
from .store_states import CardStatesMixin
from .store_stats import StatsMixin
from .times import iso


class Store(
    CardStatesMixin,
    ReviewLogMixin,
    ImportMixin,
    ReplayMixin,
    ParametersMixin,
    ExportMixin,
    StatsMixin,
    RenamesMixin,
):
    """An open review database. Use `Store.open(path)`; close it (or use `with`)."""

    @classmethod
    def open(cls, path: Path, *, write: bool = True, as_is: bool = False) -> Store:
        """Open (creating if needed) and migrate the database at `path`; without `write`, one
        that cannot be written is opened read-only instead (see `database.connect`); `as_is`
        (a dry run) reads it read-only whatever it is, changing nothing, none made. A store
        that only reads leaves the folder as it found it: the -wal and -shm files a read-only
        connection makes there, and leaves, are removed on closing where there were none.

        Raises:
            StoreError: the file is not a studycli database, is damaged, is from a newer
                studycli, cannot be created, or stays busy longer than the busy timeout
                (another process writing). The file is never overwritten. A busy database
                is waited for, never reported as damaged (see `sqlite_errors.explain`).
        """
        notes: list[str] = []
        write = write and not as_is
        tidy = False
        if not write:
            from . import side_files  # (a reading command's: see database.py)

            tidy = not side_files.side_files_there(path)
        conn = database.connect(path, write=write, notes=notes, as_is=as_is)
        store = cls(conn, path)
        store.notes = notes
        store.tidy = tidy
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close()
        if isinstance(error, sqlite3.DatabaseError):  # busy, unwritable or damaged, in use
            from . import sqlite_errors  # (an error's path: see database.py)

            raise sqlite_errors.explain(self.path, error) from None

    def undo(self, review_id: int, now: datetime) -> CardState:
        """Mark review `review_id` undone and put its card's row back exactly as it was.

        Raises:
            UndoneAlready: the review is undone already.
            StoreError: the review does not exist, is not its card's
                latest review (undo goes back one step at a time), was imported, or was
                made before the memory states were recomputed, or before its card's
                history was moved from its old id, or before an import undid an earlier
                rating of its card (its state before is stale).
        """
        with self.transaction() as conn:
            review = self._review(review_id)
            if review is None:
                raise StoreError(f"the log has no review {review_id} to undo")
            if review.undone:
                raise UndoneAlready(f"{review.card_id}'s rating was undone already")
            moved = self.moved_through(review.card_id)
            if moved is not None and review_id <= moved[0]:  # (its state before may be
                # another id's, or stand on half of a history merged since: `move_items`)
                came = moved_from(moved[1], review.card_id)
                raise StoreError(
                    f"{review.card_id}'s history was carried over from {came} after this "
                    "rating: only a rating made since can be undone"
                )
            latest = self.reviews(card_id=review.card_id, limit=1)[0]
            if latest.id != review_id and latest.method == ReviewMethod.IMPORT:
                # (imported since: the import may hold an earlier review of the card, so the
                # rating is the latest in time and yet not the last step of the card's state)
                raise StoreError(
                    f"a review of {review.card_id} from another log was imported since this "
                    "rating, and the card's state was replayed with both: a rating made before "
                    "an import of its card cannot be undone"
                )
            if latest.id != review_id:
                raise StoreError(
                    f"{review.card_id} was rated again since (in another session?): only a "
                    "card's latest review can be undone"
                )
            if review.method == ReviewMethod.IMPORT:
                raise StoreError(
                    f"review {review_id} was imported and cannot be undone here: "
                    "it came from another review log (re-import that log instead)"
                )
            recomputed = self.latest_recompute()  # (one made after a review is later than it)
            if recomputed is not None and recomputed > review.reviewed_at:
                raise StoreError(
                    f"{review.card_id}'s memory state was recomputed with new parameters at "
                    f"{recomputed:%Y-%m-%d %H:%M:%S} UTC, after this rating: only a rating made "
                    "since can be undone"
                )
            if self._undone_since(review):
                raise StoreError(
                    f"an import took back an earlier rating of {review.card_id} since this one "
                    "(undone on the machine that gave it), and the card was rescheduled "
                    "without it: the state this rating was given on is gone, so it cannot be "
                    "undone"
                )
            if undone_before(review.reviewed_at, now):
                raise ClockBehind(undo_behind(review.reviewed_at, now))
            conn.execute(
                "INSERT INTO undos (review_id, undone_at) VALUES (?, ?)", (review_id, iso(now))
            )
            if review.state_before is None:  # the card had no row before its first rating
                # a suspension made since stays, on the card new again (as `suspend` leaves a
                # card never rated: a row with no state); it was deleted with the row
                conn.execute(
                    "DELETE FROM cards WHERE card_id = ? AND suspended = 0", (review.card_id,)
                )
                conn.execute(
                    "UPDATE cards SET fsrs = NULL, content_hash = NULL, lapses = 0, reps = 0"
                    " WHERE card_id = ?",
                    (review.card_id,),
                )
            else:
                _write_state(conn, review.state_before)
            after = self.state(review.card_id)  # (in the transaction: what it wrote, no later)
        return after or CardState(card_id=review.card_id)

    def _undone_since(self, review: Review) -> bool:
        """Whether an earlier rating of `review`'s card (by id) was undone after `review` was
        given: by an import, which took back a rating that the machine that gave it undid
        (`Store.settle_staged`, at the import's time); an undo here takes back a card's
        latest rating alone, so before a later one is given."""
        found = self.conn.execute(
            "SELECT 1 FROM reviews r JOIN undos u ON u.review_id = r.id"
            " WHERE r.card_id = ? AND r.id < ? AND u.undone_at > ? LIMIT 1",
            (review.card_id, review.id, iso(review.reviewed_at)),
        ).fetchone()
        return found is not None
