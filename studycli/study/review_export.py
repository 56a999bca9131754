"""Writing the review history out (`export-reviews`): the CSV file (its format in
review_log_csv.py), never over the database itself, and what the file cannot carry
(`left_out`)."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from studycli.content.cloze import split_study_id
from studycli.errors import StudyError

from . import scheduler as sched
from .review_log_write import Written, write_reviews
from .review_records import REVIEW_STATE, ReviewMethod
from .settings import Settings
from .store import Store
from .suspension import gone, held


def export_reviews(store: Store, path: Path, *, plain: bool = False) -> Written:
    """Write the learner's history (every review that makes the schedule, and the undone ones
    marked undone: cram ratings left out) to `path` as CSV, oldest first, with the content
    hash each review recorded, whatever card id it is under (a card removed, or made a cloze
    card since: an import keeps them as that id's history). `plain`: py-fsrs's four columns
    and the ratings that stand alone (`write_reviews`). Returns how many of each were written
    (`left_out` says what the file has no place for).

    Raises:
        StudyError: `path` is the database itself, or one of the files SQLite keeps beside it.
        ImportFormatError: `path` cannot be written.
    """
    if str(path) != "-":
        target = os.path.realpath(path)
        if any(target == os.path.realpath(f"{store.path}{end}") for end in DATABASE_FILES):
            raise StudyError(
                f"{path} is your review database ({store.path}): an export there would "
                "overwrite your history; write it to a file of its own, such as reviews.csv"
            )
    return store.exporting(partial(write_reviews, path, plain=plain))


DATABASE_FILES = ("", "-wal", "-shm", "-journal")  # the database and what SQLite keeps by it


@dataclass(frozen=True)
class LeftOut:
    """What the log holds and an export cannot carry (py-fsrs's four columns have no place for
    it), so that a learner moving machines knows what stays behind. cram: cram ratings (not
    written: they never moved the schedule); suspended: suspended cards of the content, as
    `stats` counts its items suspended (those held under the ids of the card's other kind
    too), a cloze card one however many of its deletions are (not written: no review says
    it), and suspended_deletions: the cloze deletions among them (suspending one cloze card
    of three deletions was told as "3 suspensions"); suspended_gone: suspensions of items the
    content no longer has (a card removed, a deletion taken out), apart (they were counted
    among the suspended cards, which `stats` said were none); checked: of the reviews
    written, those a check decided, written as plain ratings (an import logs them as
    `import`, the check's outcome lost). Undone ratings are written, marked undone
    (`Written.undone` counts them)."""

    cram: int
    suspended: int | None  # None: the cards table does not read (a damaged file)
    checked: int
    # cards due when settings other than the current ones said (see `scheduled_elsewhere`)
    other_settings: int | None = 0  # None: the cards table does not read
    suspended_deletions: int = 0
    suspended_gone: int = 0


def left_out(store: Store, settings: Settings, item_ids: Collection[str] | None = None) -> LeftOut:
    """What `export_reviews` leaves out of the file, or writes without its detail (see
    `LeftOut`); `settings`, the learner's current ones; `item_ids`, the content's study
    items (None: every suspension counted as the content's, where it cannot be read)."""
    methods = store.methods_count()
    count = store.suspended_count()  # None: the cards table does not read (a damaged file)
    suspended = store.suspended() if count else set()  # (a cloze card's: one per deletion)
    removed: set[str] = set()  # suspensions of items the content no longer has
    if item_ids is not None and suspended:
        removed = gone(item_ids, suspended)
        suspended = {key for key in suspended if key in item_ids} | held(item_ids, suspended)
    return LeftOut(
        cram=methods.get(ReviewMethod.CRAM, 0),
        suspended=None if count is None else len({split_study_id(key)[0] for key in suspended}),
        suspended_deletions=sum(split_study_id(key)[1] is not None for key in suspended),
        suspended_gone=len(removed),
        checked=methods.get(ReviewMethod.CHECK, 0),
        other_settings=scheduled_elsewhere(store, settings),
    )


# the settings that say when a card in its (re)learning steps is due: the rest (parameters,
# desired_retention, maximum_interval, fuzz) schedule only a card in review
_STEPS = ("learning_steps", "relearning_steps")


def scheduled_elsewhere(store: Store, settings: Settings) -> int | None:
    """How many cards are due when settings other than `settings` said: their latest review
    (which set the due date) was scheduled with others, and an import of the export, which
    schedules every review with the importing machine's settings, gives them another date.
    After an `optimize --write`, every card reviewed before it: the recompute kept its due
    date. A card in its steps counts only where the steps were others (its due date is a
    step away, whatever the parameters). An upper bound: an interval the new settings round
    to the same day comes back the same. None where the cards or schedulers table does not
    read (a damaged file whose log still exports)."""
    import json

    current = json.loads(sched.make_scheduler(settings).to_json())
    known = store.readable_schedulers()
    if known is None:
        return None
    used = {key: json.loads(text) for key, text in known.items()}
    same = {key for key, their in used.items() if their == current}
    if len(same) == len(used):  # (most learners: one set of settings, ever)
        return 0
    latest = store.latest_schedulers()
    if latest is None:
        return None
    same_steps = {
        key for key, their in used.items() if all(their.get(k) == current.get(k) for k in _STEPS)
    }
    return sum(
        1
        for card_id, scheduler_id, state in latest
        if scheduler_id is not None
        and scheduler_id not in same
        and (scheduler_id not in same_steps or state == REVIEW_STATE)
    )
