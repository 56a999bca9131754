"""Moving a review history in and out: `import-reviews` merges a CSV log, `export-reviews`
writes one (the format is in review_log_csv.py).

A review's identity is its card id and its time, at the precision the store keeps
(microseconds): importing a review the log already has adds nothing, so an import can be run
twice, and importing another machine's export gives the union of both histories. The cards
whose history changed are replayed in time order, each of their reviews with the scheduler it
was made with (imported ones with the learner's current settings), and their states replaced,
in the same transaction as the new reviews. Card ids that are not in the content are kept:
history from elsewhere stays history.

The import's parts: import_file.py (the file read and checked, a large one in a process of its
own), import_replay.py (the touched cards' histories replayed), import_workers.py (the helper
processes both fork); the export is review_export.py's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from studycli.content.cloze import split_study_id

from . import scheduler as sched
from .clock_skew import Ahead
from .import_file import _parsed
from .import_replay import _Merge
from .import_workers import _workers
from .settings import Settings
from .store import Store


@dataclass(frozen=True)
class ImportResult:
    """What an import did. rows: reviews in the file (undone ones too); added: new to the log
    (ratings that stand); duplicates: the log had them already (or the file had them twice);
    undos: the file's undone rows whose ratings stood in the log, undone now; undone_added:
    its undone rows the log did not have, logged undone; cards: cards replayed (those
    `undos` touched too); unknown: of
    those, ids that are not in the content (kept); cloze_own: the others of those, cloze cards'
    own ids (reviews from before the card was made a cloze card: kept as that id's history, no
    deletion's, as the log that wrote them keeps them); conflicts: of the duplicates, those
    that gave another rating for their card and time than the log has or the file's first row
    for them, and the first few (`store_import.Conflicts`)."""

    rows: int
    added: int
    duplicates: int
    cards: int
    unknown: int
    conflicts: int = 0
    first_conflicts: tuple[tuple[str, str, int, int, str], ...] = ()
    first_unknown: tuple[str, ...] = ()  # the first few of the unknown ids, in order
    undone: int = 0  # rows left out as ratings undone in the log (they stay undone)
    cloze_own: tuple[str, ...] = ()  # cloze cards whose own id had new reviews, sorted
    # of `first_unknown`, those close to an id of the content (a mistyped id in a hand-edited
    # file, or one from another version of the content): (unknown id, the closest)
    close_to_known: tuple[tuple[str, str], ...] = ()
    dry_run: bool = False  # nothing was written: what an import would do (`import_reviews`)
    undos: int = 0
    undone_added: int = 0
    # rows later than this machine's clock (up to `CLOCK_SKEW`: a file with one further ahead
    # is refused), and how far the latest is: one of the two machines' clocks is off
    ahead: int = 0
    most_ahead: timedelta = timedelta(0)

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "added": self.added,
            "duplicates": self.duplicates,
            "cards": self.cards,
            "unknown_cards": self.unknown,
            "first_unknown_cards": list(self.first_unknown),
            "closest_known_cards": dict(self.close_to_known),
            "cloze_cards_own_id": list(self.cloze_own),
            "undone": self.undone,
            "undos_applied": self.undos,
            "undone_added": self.undone_added,
            "conflicts": self.conflicts,
            "first_conflicts": [
                dict(
                    card_id=card,
                    review_time=time,
                    rating=rating,
                    other_rating=other,
                    other_in=where,
                )
                for card, time, rating, other, where in self.first_conflicts
            ],
            "ahead_of_clock": self.ahead,
            "most_ahead_seconds": round(self.most_ahead.total_seconds(), 6),
            "dry_run": self.dry_run,
        }


def import_reviews(
    store: Store,
    path: Path,
    settings: Settings,
    content_hashes: Mapping[str, str],
    *,
    now: datetime | None = None,
    renames: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Merge the review log CSV at `path` into the log, in one transaction.

    The file is read in chunks into a temporary table (where its duplicates fall out) and
    checked as it goes; a bad row anywhere refuses the whole file with every bad line, and
    the transaction rolls back. Then the reviews the log has already are left out, and the
    touched cards are replayed a few hundred at a time in card order: memory stays bounded
    by a chunk, whatever the size of the file or the log.

    Args:
        store: the open review database.
        path: the CSV file (format: review_log_csv).
        settings: the learner's settings; the imported reviews are scheduled with them.
        content_hashes: the content hash of every study item in the content, by id: what an
            imported review of a known card records of the text it was made on where the
            file does not say (no content_hash), asked only then.
        now: this machine's time: a review more than `clock_skew.CLOCK_SKEW` later is a bad
            row (a clock set wrong), and those up to that far later are counted (`ahead`).
        renames: the content's renamed ids (old card id -> new, `Content.renames`): a row
            under an old id (a log exported before the rename) is imported under the new one.
        dry_run: only say what the import would do (`store` opened `as_is`): the file is read,
            checked and settled against the log as for an import, in a read snapshot, and
            nothing is written. Every figure of the result is known by then: the replay that
            follows only computes the states and schedule written, so a dry run skips it.

    Returns:
        What was added (nothing, when the log has every row already), or would be.

    Raises:
        ImportFormatError: the file is unreadable or has bad rows (nothing is written).
        StoreDamaged: the database is damaged (nothing is written).
    """
    store.refuse_if_damaged()  # (an import is how a backup is restored: not into a damaged log)
    scheduler_json = sched.make_scheduler(settings).to_json()
    rows = 0
    ahead = Ahead(now) if now is not None else None
    # one transaction; the cores that replay also sort (the time index made again)
    threads = _workers() - 1
    with store.importing(scheduler_json, sort_threads=threads, dry_run=dry_run) as scheduler_id:
        for chunk in _parsed(path, now, renames or {}):
            rows += len(chunk)
            if ahead is not None:
                ahead.add(chunk, 1)  # (`Staged`: the time as the store writes it)
            store.stage(chunk)
        settled = store.settle_staged(now, dry_run=dry_run)
        cards = _with_undone(store.staged_cards(), settled.undone_cards)
        staged = sum(count for _, count in cards)
        added = staged - settled.undone_new
        if cards and scheduler_id is not None:  # (a dry run has none: it appends nothing)
            merge = _Merge(store, scheduler_json, content_hashes, settled.undone_cards)
            before = store.latest_review_id()
            with store.bulk(staged):
                for values, states, replayed in merge.replayed(cards, staged):
                    store.append_imported(values, scheduler_id, states, replayed)
            if settled.undone_new:
                store.mark_undone(before)
    # (a card of which the file brings nothing but ratings undone there is not rescheduled)
    undone = settled.undone_new_cards
    cards = [(c, n) for c, n in cards if n != undone.get(c) or c in settled.undone_cards]
    clozes = _cloze_cards(content_hashes)
    unknown = sorted(c for c, _ in cards if c not in content_hashes and c not in clozes)
    first_unknown = unknown[:FIRST_UNKNOWN]
    return ImportResult(
        rows=rows,
        added=added,
        duplicates=rows - added - settled.applied - settled.undone_new,
        cards=len(cards),
        unknown=len(unknown),
        conflicts=settled.count,
        first_conflicts=tuple(settled.first),
        first_unknown=tuple(first_unknown),
        undone=settled.undone,
        cloze_own=tuple(sorted(c for c, _ in cards if c in clozes)),
        close_to_known=_close_to_known(first_unknown, content_hashes),
        dry_run=dry_run,
        undos=settled.applied,
        undone_added=settled.undone_new,
        ahead=0 if ahead is None else ahead.count,
        most_ahead=timedelta(0) if ahead is None else ahead.most,
    )


def _close_to_known(unknown: list[str], known: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(id, the closest of `known`) for each of `unknown` that one is close to, as the
    content's "did you mean" suggestions find them (`loader.closest`): a mistyped id in a
    hand-edited file, or one another version of the content gave the card."""
    if not unknown:
        return ()
    from studycli.content.loader import closest

    names = sorted(known)
    found = ((card_id, closest(card_id, names, n=1)) for card_id in unknown)
    return tuple((card_id, close[0]) for card_id, close in found if close)


def _with_undone(cards: list[tuple[str, int]], undone: Collection[str]) -> list[tuple[str, int]]:
    """`cards` (card_id, staged reviews: `Store.staged_cards`), and by id among them the cards
    whose ratings the file's undos took back (none staged, where the file has no new review
    of them): they are replayed too."""
    if not undone:
        return cards
    staged = dict(cards)
    return sorted((card, staged.get(card, 0)) for card in {*staged, *undone})


def _cloze_cards(study_ids: Iterable[str]) -> frozenset[str]:
    """The cloze cards among the study items' ids (`card#c1` -> `card`): a review under one's
    own id was made before it was a cloze card."""
    return frozenset(card for card, number in map(split_study_id, study_ids) if number)


FIRST_UNKNOWN = 5  # unknown card ids an import names
