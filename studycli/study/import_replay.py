"""An import's replay: the touched cards' histories, the log's reviews and the file's in time
order, replayed a chunk of cards at a time (by forked workers, for a large import), giving the
rows to append and the cards' new states; and `replay_logged`, a card's whole logged history
replayed again (a renamed card's)."""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict, deque
from collections.abc import Collection, Iterator, Mapping
from functools import partial

from . import scheduler as sched
from .import_workers import _workers, forking_helpers, helper_of
from .rating import scheduler_from_json
from .replay import CardReplay, recompute_until
from .review_records import CRAMMED_CHECKED, CardState
from .settings import Settings
from .store import Store
from .store_import import staged_reviews
from .times import isoformat_of, parse_time

PARALLEL_FROM = 20_000  # new reviews from which the replay is spread over the CPU cores
CHUNK_REVIEWS = 10_000  # about this many new reviews are replayed and written at a time


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
                if cram:  # (it leaves the schedule as it was: its state; the text it showed)
                    replay.crammed(logged_hash, checked=cram == CRAMMED_CHECKED)
                else:
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
