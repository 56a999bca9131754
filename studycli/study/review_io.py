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

import contextlib
import gc
import multiprocessing
import os
import sys
from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from studycli.content.cloze import split_study_id
from studycli.errors import StudyError

from . import scheduler as sched
from .clock_skew import Ahead
from .rating import scheduler_from_json
from .renames import renamed_id
from .replay import CardReplay, recompute_until
from .review_log_csv import Written, read_chunks, write_reviews
from .review_records import REVIEW_STATE, CardState, ReviewMethod
from .settings import Settings
from .store import Store
from .store_import import staged_reviews
from .suspension import gone, held
from .times import iso, iso_text, isoformat_of, parse_time


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


# A row of the file as `Store.stage` takes it: (card_id, reviewed_at as the store writes times,
# rating, duration_ms, the time it was undone as the store writes times or None, content hash
# or None)
Staged = tuple[str, str, int, "int | None", "str | None", "str | None"]


def _staged(
    card_id: str,
    rating: int,
    moment: datetime,
    duration_ms: int | None,
    text: str,
    undone: datetime | None,
    made_on: str | None,
) -> Staged:
    """A row of the file as `Store.stage` takes it, its times as the store writes them."""
    undone_at = None if undone is None else iso(undone)
    return card_id, iso_text(text) or iso(moment), rating, duration_ms, undone_at, made_on


def _staged_renamed(
    renames: Mapping[str, str],
    card_id: str,
    rating: int,
    moment: datetime,
    duration_ms: int | None,
    text: str,
    undone: datetime | None,
    made_on: str | None,
) -> Staged:
    """`_staged`, a row under a renamed card's old id (`renames`: old card id -> new) under
    its new one (`renames.renamed_id`)."""
    new_id = renamed_id(card_id, renames)
    return _staged(new_id, rating, moment, duration_ms, text, undone, made_on)


def _parsed(
    path: Path, now: datetime | None, renames: Mapping[str, str] | None = None
) -> Iterator[list[tuple]]:
    """The rows of the file as `Store.stage` takes them, `READ_ROWS` at a time, checked
    (see `read_chunks`: its ImportFormatError comes after the last chunk), those under a
    renamed card's old id (`renames`) under its new one.

    A large file is parsed in a forked process, which sends each chunk as it is done, while
    this one stages the chunk before: parsing and checking (csv, fromisoformat) is most of
    the reading, and the other core would idle meanwhile. A pipe holds at most a chunk in
    flight: the reader waits while this process is behind, so memory stays bounded.
    """
    make = partial(_staged_renamed, renames) if renames else _staged
    chunks = partial(read_chunks, path, now=now, size=READ_ROWS, make=make)
    if _workers() == 1 or _file_size(path) < PARSE_APART_FROM:
        yield from chunks()
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    try:
        with forking_helpers():
            reader = context.Process(
                target=_send_chunks, args=(sender, chunks, os.getpid()), daemon=True
            )
            reader.start()
    finally:
        sender.close()
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                reader.join()
                raise StudyError(
                    f"the process reading {path} stopped (exit code {reader.exitcode}) before"
                    " the end of the file, so nothing was imported: run the import again"
                ) from None
            if message is None:
                break
            if isinstance(message, BaseException):
                raise message
            yield message
    finally:
        receiver.close()
        if reader.is_alive():  # this import failed or was stopped: the reader is not needed
            reader.terminate()
        reader.join()


def _send_chunks(sender, chunks: partial[Iterator[list[tuple]]], parent: int) -> None:
    """In the reader process: each chunk, then None, or the error reading raised."""
    helper_of(parent)
    try:
        for chunk in chunks():
            sender.send(chunk)
        sender.send(None)
    except Exception as exc:  # ImportFormatError: raised by the importing process
        sender.send(exc)
    finally:
        sender.close()


@contextlib.contextmanager
def forking_helpers() -> Iterator[None]:
    """Around forking the import's helper processes (which call `helper_of` first): their
    garbage collections leave the objects they inherit alone (frozen: not written, so not
    copied), and they start with Ctrl-C blocked (one pressed between a fork and `helper_of`
    was a traceback). This process's Ctrl-C is held meanwhile, and comes once they are
    forked."""
    import signal

    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def helper_of(parent: int) -> None:
    """Called first in a process forked to help process `parent` (the import's reader and
    replay workers): Ctrl-C is the parent's to handle (it stops its helpers; each of them
    printed a KeyboardInterrupt traceback), and the helper dies with the parent (helpers of
    a killed import ran on, printing BrokenPipeError tracebacks into the terminal)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # (`forking_helpers`)
    with contextlib.suppress(OSError, AttributeError):  # (Linux's; forked helpers are too)
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that took hold
        os._exit(1)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # (read_chunks says what is wrong)


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


PARALLEL_FROM = 20_000  # new reviews from which the replay is spread over the CPU cores
CHUNK_REVIEWS = 10_000  # about this many new reviews are replayed and written at a time
READ_ROWS = 50_000  # rows of the file parsed and staged at a time
PARSE_APART_FROM = 4 << 20  # bytes of CSV (~50,000 rows) from which a process parses it apart


class _Merge:
    """The touched cards' histories, old and new reviews in time order, replayed a chunk of
    cards at a time: gives each chunk's rows to insert and its cards' new states.

    A large import replays its chunks in forked worker processes (the cards are
    independent; fsrs's scheduling is most of an import's time) while this process reads the
    next chunks and writes the ones that are done, in card order, so the result does not
    depend on how many cores did it. At most two chunks per worker are in flight.
    """

    def __init__(
        self,
        store: Store,
        scheduler_json: str,
        content_hashes: Mapping[str, str],
        undone: Collection[str] = (),
    ):
        self.store = store
        self.scheduler_json = scheduler_json
        self.schedulers = store.schedulers()
        self.recomputes = [  # (text, JSON): what a worker is sent
            (made_at, self.schedulers[scheduler_id]) for made_at, scheduler_id in store.recomputes()
        ]
        self.content_hashes = content_hashes
        self.suspended = store.suspended()
        self.undone = frozenset(undone)  # cards whose ratings the file's undos took back

    def replayed(
        self, cards: list[tuple[str, int]], size: int
    ) -> Iterator[tuple[list, list[CardState], list[tuple[str, str, int]]]]:
        """Per chunk of `cards` ((card_id, staged reviews), by id): (values, states, replayed)
        as `Store.append_imported` takes them."""
        chunks = (self._chunk(first, last) for first, last in _ranges(cards, CHUNK_REVIEWS))
        workers = _workers() if size >= PARALLEL_FROM else 1
        if workers == 1:
            for chunk in chunks:
                yield _replay(self.scheduler_json, self.schedulers, self.recomputes, chunk)
            return
        replay = partial(_replay, self.scheduler_json, self.schedulers, self.recomputes)
        with forking_helpers():
            pool = multiprocessing.get_context("fork").Pool(
                workers, initializer=helper_of, initargs=(os.getpid(),)
            )
        with pool:
            pending: deque = deque()
            for chunk in chunks:
                pending.append(pool.apply_async(replay, (chunk,)))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

    def _chunk(self, first: str, last: str) -> list[tuple]:
        """The histories of the cards from `first` to `last` (by id) that have staged reviews,
        or whose ratings the file's undos took back: per card (card_id, suspended, content
        hash for its imported reviews that the file gives none, its logged reviews, its new
        ones, whether an undo took back one of its ratings), where a logged review is (time
        as stored, 0, rating, scheduler_id, content_hash, id, cram), in time order, and the
        new ones are one text (see `Store.staged_histories`: the worker takes it apart)."""
        logged, staged = self.store.staged_histories(first, last)
        history = _by_card(logged)
        texts = {card_id: (reviews, unhashed) for card_id, reviews, unhashed in staged}
        undone = sorted(c for c in self.undone if first <= c <= last and c not in texts)
        if undone:  # (no review of theirs staged: the log's history alone)
            history.update(_by_card(self.store.logged_histories(undone)))
            texts.update((card_id, ("", 0)) for card_id in undone)
        return [
            (
                card_id,
                card_id in self.suspended,
                self.content_hashes.get(card_id, "") if unhashed else "",
                history.get(card_id, []),
                reviews,
                card_id in self.undone,
            )
            for card_id, (reviews, unhashed) in sorted(texts.items())
        ]


def _by_card(logged: list[tuple]) -> dict[str, list[tuple]]:
    """The log's reviews (as `Store.staged_histories` gives them) by card, each as `_replay`
    takes a logged review: (time as stored, 0, rating, scheduler_id, content_hash, id, cram)."""
    history: dict[str, list[tuple]] = defaultdict(list)
    for card_id, rating, moment, *rest in logged:  # rest: scheduler_id, hash, id, cram
        history[card_id].append((moment, 0, rating, *rest))
    return history


def replay_logged(store: Store, card_ids: Collection[str], settings: Settings) -> None:
    """Replay the whole history the log holds of each of `card_ids` and write its state, and
    each of its reviews' schedule, again, as an import writes those of a card it merged
    reviews into (`_replay`): for a renamed card's reviews, moved onto its new id, where it
    may have had reviews too (`renames`). Inside the caller's transaction."""
    merge = _Merge(store, sched.make_scheduler(settings).to_json(), {})
    history = _by_card(store.logged_histories(card_ids))
    chunk = [
        (card_id, card_id in merge.suspended, "", history.get(card_id, []), "", True)
        for card_id in sorted(card_ids)
    ]
    _, states, replayed = _replay(merge.scheduler_json, merge.schedulers, merge.recomputes, chunk)
    store.write_schedule(replayed)
    store.replace_states(states)


def _ranges(cards: list[tuple[str, int]], reviews: int) -> Iterator[tuple[str, str]]:
    """(first, last) card ids of consecutive runs of `cards` holding about `reviews` each."""
    start, count = 0, 0
    for index, (_, staged) in enumerate(cards):
        count += staged
        if count >= reviews or index == len(cards) - 1:
            yield cards[start][0], cards[index][0]
            start, count = index + 1, 0


def _replay(
    scheduler_json: str,
    schedulers: dict[int, str],
    recompute_texts: list[tuple[str, str]],
    chunk: list[tuple],
) -> tuple[list, list[CardState], list[tuple[str, str, int]]]:
    """Replay the cards of a chunk (see `_Merge._chunk`): the values of their new reviews,
    one after another as `Store.append_imported` takes them (a flat list: cheaper to make,
    to send back from a worker and to bind than a tuple per review), their states after,
    and (queue, state_after, id) of each logged review that a new one came before (its
    schedule in the merged history). The log's recomputes of the memory states
    (`recompute_texts`: their times as stored and their schedulers' JSON) are applied at their
    times, as a rebuild applies them. Runs here or in a worker process."""
    scheduler = scheduler_from_json(scheduler_json)
    recomputes = [(parse_time(made), scheduler_from_json(text)) for made, text in recompute_texts]
    rows: list = []
    states = []
    replayed: list[tuple[str, str, int]] = []
    for card_id, suspended, content_hash, logged, reviews, undone in chunk:
        entries: list[tuple] = (
            [
                (at, 1, rating, ms, made_on, was)
                for at, rating, ms, made_on, was in staged_reviews(reviews)
            ]
            if reviews
            else []
        )  # (none: a whole history replayed, `replay_logged`)
        if logged:  # old and new reviews in time order (the new ones are in order already);
            entries += logged  # a stable sort by time alone: the log's reviews at one time
            entries.sort(key=lambda entry: entry[:2])  # stay in id order, as a rebuild has them
        replay = CardReplay(
            CardState(card_id=card_id, suspended=suspended), recomputed=bool(recomputes)
        )
        # a new review came before, or an undo took one of the log's back: the logged ones
        # after it are replayed (all of them, where an undo did, and in `replay_logged`)
        merged = undone
        done = 0  # recomputes applied
        for entry in entries:
            if recomputes:
                done = recompute_until(replay, recomputes, done, parse_time(entry[0]))
            queue = _NEW if replay.fsrs is None else _QUEUES[replay.fsrs.state]
            if entry[1] == 0:
                moment, _, rating, scheduler_id, logged_hash, review_id, cram = entry
                if not cram:  # (a cram rating leaves the schedule as it was: its state)
                    replay.apply(
                        rating, parse_time(moment), scheduler_from_json(schedulers[scheduler_id]),
                        logged_hash,
                    )  # fmt: skip
                if merged:
                    replayed.append((queue, replay.fsrs_json() or "", review_id))
                continue
            moment, _, rating, duration_ms, made_on, was_undone = entry
            if not was_undone:  # (one undone where the file was made moves nothing: it
                merged = True  # records the state it left, as a cram rating, `mark_undone`)
                reviewed_at = parse_time(moment)
                replay.apply(rating, reviewed_at, scheduler, made_on or content_hash)
                # the state's JSON and the card's next fuzz draw write this time: from its text
                sched.remember_isoformat(reviewed_at, isoformat_of(moment))
            rows += (  # the values of one review, as `Store.append_imported` takes them
                card_id,
                rating,
                moment,
                duration_ms,
                made_on or content_hash,
                queue,
                replay.fsrs_json() or "",
            )
        recompute_until(replay, recomputes, done, None)
        if replay.reps or logged or undone:  # (nothing but new undone ratings: unstudied)
            states.append(replay.state())
    return rows, states, replayed


_NEW = sched.Queue.NEW.value  # what `CardReplay.queue` says, as text: fsrs state -> queue
_QUEUES = {state: queue.value for state, queue in sched.QUEUE_NAMES.items()}


MAX_WORKERS = 4  # replay workers at most, whatever the cores: bounds the import's memory


def _workers() -> int:
    """Worker processes for a large replay: one per core this process may use, at most
    `MAX_WORKERS`, where worker processes can be forked (Linux); else 1 (the replay runs here).

    The cap bounds the import's peak memory (the summed PSS of this process and its workers)
    whatever the core count. This process peaks near 270-290 MB (its page caches, 64 + 32 MB,
    the content, two chunks per worker in flight); each worker adds what it writes of its
    own: its chunk of about `CHUNK_REVIEWS` reviews in and out, fsrs's objects, and the pages
    of this process's heap that its allocations land in (copied on write), 25-30 MB. Measured
    on the 1,000,000-row file (2-core box, Python 3.11, forcing the worker count): 4 workers
    340 MB for the tree, 2 workers 281 MB; 8 workers with 20,000-review chunks (before the
    cap) 618 MB, and 539 MB on a 16-core host. The replay, fsrs's ~23 us a review, is then
    ~6 s of CPU per worker for a million reviews, alongside this process, which reads, sorts
    and writes every row (the import took 27.0 s with 8 workers on that host, 24.8-25.7 s
    with 4; on the 2-core box, 4 workers took 39-44 s, 2 workers 53-54 s).
    """
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))
