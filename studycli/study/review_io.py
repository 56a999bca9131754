"""Moving a review history in and out: `import-reviews` merges a CSV log, `export-reviews`
writes one (the format is in review_log_csv.py).

A review's identity is its card id and its time, at the precision the store keeps
(microseconds): importing a review the log already has adds nothing, so an import can be run
twice, and importing another machine's export gives the union of both histories. The cards
whose history changed are replayed in time order, each of their reviews with the scheduler it
was made with (imported ones with the learner's current settings), and their states replaced,
in the same transaction as the new reviews. Card ids that are not in the content are kept:
history from elsewhere stays history.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import scheduler as sched
from .rating import scheduler_from_json
from .replay import CardReplay
from .review_log_csv import ReviewRow, write_reviews
from .settings import Settings
from .store import CardState, ReviewMethod, Store, iso, parse_time


@dataclass(frozen=True)
class ImportResult:
    """What an import did. rows: reviews in the file; added: new to the log; duplicates: the
    log had them already (or the file had them twice); cards: cards replayed; unknown: of
    those, ids that are not in the content (kept)."""

    rows: int
    added: int
    duplicates: int
    cards: int
    unknown: int

    def to_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "added": self.added,
            "duplicates": self.duplicates,
            "cards": self.cards,
            "unknown_cards": self.unknown,
        }


def import_reviews(
    store: Store, rows: list[ReviewRow], settings: Settings, content_hashes: Mapping[str, str]
) -> ImportResult:
    """Merge `rows` (already checked, see `review_log_csv.read_reviews`) into the log.

    Args:
        store: the open review database.
        rows: the reviews to merge, any order.
        settings: the learner's settings; the imported reviews are scheduled with them.
        content_hashes: the content hash of every study item in the content, by id (an
            imported review of a known card carries it, so the card is not flagged edited).

    Returns:
        What was added (nothing, when the log has every row already).
    """
    with store.transaction():  # what is read to plan the merge cannot change under it
        fresh: dict[tuple[str, str], ReviewRow] = {}
        for row in rows:
            fresh.setdefault((row.card_id, iso(row.reviewed_at)), row)
        for key in store.scheduled_identities({card_id for card_id, _ in fresh}):
            fresh.pop(key, None)
        touched = {card_id for card_id, _ in fresh}
        if fresh:
            scheduler_json = sched.make_scheduler(settings).to_json()
            merge = _Merge(store, fresh, scheduler_json, content_hashes)
            store.append(merge.rows(), scheduler_json, merge.states, count=len(fresh))
    return ImportResult(
        rows=len(rows),
        added=len(fresh),
        duplicates=len(rows) - len(fresh),
        cards=len(touched),
        unknown=sum(card_id not in content_hashes for card_id in touched),
    )


def export_reviews(store: Store, path: Path) -> int:
    """Write the learner's history (every review that makes the schedule: undone and cram
    ratings left out) to `path` as CSV, oldest first. Returns how many reviews."""
    return write_reviews(path, store.exported_rows())


PARALLEL_FROM = 20_000  # new reviews from which the replay is spread over the CPU cores


class _Merge:
    """The touched cards' histories, old and new reviews in time order, replayed: yields the
    rows to insert, then gives the cards' new states.

    A large import replays its cards in forked worker processes (the cards are independent;
    fsrs's scheduling is most of an import's time), while this process inserts the rows they
    send back, in card order, so the result does not depend on how many cores did it.
    """

    def __init__(
        self,
        store: Store,
        fresh: dict[tuple[str, str], ReviewRow],
        scheduler_json: str,
        content_hashes: Mapping[str, str],
    ) -> None:
        self.scheduler = scheduler_from_json(scheduler_json)
        self.content_hashes = content_hashes
        self.schedulers = store.schedulers()
        self.suspended = {c for c, state in store.states().items() if state.suspended}
        self.size = len(fresh)
        # per card: (time as stored, 0 for a logged review / 1 for a new one, payload)
        self.history: dict[str, list[tuple]] = defaultdict(list)
        for card_id, rating, moment, scheduler_id, content_hash in store.scheduled_log(
            {card_id for card_id, _ in fresh}
        ):
            self.history[card_id].append((moment, 0, rating, scheduler_id, content_hash))
        for order, ((card_id, moment), row) in enumerate(fresh.items()):
            self.history[card_id].append((moment, 1, order, row))
        self._states: list[CardState] = []

    def rows(self) -> Iterator[tuple]:
        cards = list(self.history)
        workers = _workers() if self.size >= PARALLEL_FROM else 1
        if workers == 1:
            rows, self._states = self.replay(cards)
            yield from rows
            return
        global _ACTIVE
        _ACTIVE = self  # the workers inherit it when forked: nothing is pickled on the way in
        chunks = [cards[start : start + 500] for start in range(0, len(cards), 500)]
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for rows, states in pool.imap(_replay_chunk, chunks):
                    self._states.extend(states)
                    yield from rows
        finally:
            _ACTIVE = None

    def states(self) -> list[CardState]:
        """The touched cards' states after the merge (once `rows` is exhausted)."""
        return self._states

    def replay(self, cards: list[str]) -> tuple[list[tuple], list[CardState]]:
        """Replay these cards: the rows of their new reviews, and their states after."""
        rows: list[tuple] = []
        states = []
        for card_id in cards:
            entries = self.history[card_id]
            entries.sort(key=lambda entry: entry[:3])
            replay = CardReplay(CardState(card_id=card_id, suspended=card_id in self.suspended))
            content_hash = self.content_hashes.get(card_id, "")
            for entry in entries:
                if entry[1] == 0:
                    _, _, rating, scheduler_id, logged_hash = entry
                    scheduler = scheduler_from_json(self.schedulers[scheduler_id])
                    replay.apply(rating, parse_time(entry[0]), scheduler, logged_hash)
                    continue
                row: ReviewRow = entry[3]
                queue = replay.queue
                replay.apply(row.rating, row.reviewed_at, self.scheduler, content_hash)
                rows.append(
                    (
                        card_id,
                        row.rating,
                        entry[0],
                        row.duration_ms,
                        _IMPORT,
                        None,
                        content_hash,
                        queue.value,
                        None,  # state_before: for undo, which an imported review never has
                        replay.fsrs_json(),
                    )
                )
            states.append(replay.state())
        return rows, states


_IMPORT = ReviewMethod.IMPORT.value
_ACTIVE: _Merge | None = None  # the merge a forked worker replays


def _replay_chunk(cards: list[str]) -> tuple[list[tuple], list[CardState]]:
    assert _ACTIVE is not None, "a replay worker must be forked from the importing process"
    return _ACTIVE.replay(cards)


def _workers() -> int:
    """Worker processes for a large replay: one per core this process may use, where worker
    processes can be forked (Linux); else 1 (the replay runs here)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(8, len(os.sched_getaffinity(0))))
