"""Rating a card, a cram rating, undoing a rating, and rebuilding every state from the log.

What turns (state before, rating, time) into the state after is `replay.CardReplay.apply`;
a live rating (`advance`) and a replay of the log (`rebuild`) both go through it, so a rebuild
gives the live state. The log is replayed in time order (ties by id), so a history merged from
another machine replays right; undone ratings are not part of it, nor is a cram rating, but
for the text it showed (`CardReplay.crammed`). New parameters saved recompute every card's
memory state (`recompute_memory` in api.py), logged so that a replay does the same at the
same point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler

from studycli.content.card import Card
from studycli.errors import (
    ClockBehind,
    HistoryMoved,
    IntervalsMoved,
    RatedElsewhere,
    StateChanged,
    StoreError,
)

from . import scheduler as sched
from .clock_skew import CLOCK_SKEW, MICROSECOND, SKEW_SAID, shown, spoken
from .replay import CardReplay, Recompute, recompute_until
from .review_records import CRAMMED_CHECKED, CardState, Review, ReviewMethod
from .settings import Settings
from .store import Store
from .times import parse_time


def fsrs_card(state: CardState | None) -> FsrsCard | None:
    """The fsrs card of a stored state; None for a card never rated.

    Raises:
        StoreError: the stored state does not read (edited by hand, or damaged): the doctor
            rebuilds it from the log.
    """
    if state is None or not state.fsrs:
        return None
    try:
        card = FsrsCard.from_json(state.fsrs)
        if card.due.tzinfo is None or (card.last_review and card.last_review.tzinfo is None):
            # (read, then compared with an aware time: a TypeError out of `stats` and `due`)
            raise ValueError("a time without its UTC offset")
        return card
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise StoreError(
            f"the stored state of {state.card_id} does not read ({type(exc).__name__}: {exc}): "
            "run `studycli doctor`, which rebuilds every card's state from the review log"
        ) from None


def advance(
    before: CardState | None,
    card_id: str,
    rating: int,
    now: datetime,
    scheduler: Scheduler,
    content_hash: str,
) -> CardState:
    """The card's state after `rating` at `now`.

    Args:
        before: the state before (None or a state without fsrs data for a new card).
        card_id: the card's id.
        rating: 1 Again, 2 Hard, 3 Good, 4 Easy.
        now: the review time, timezone-aware.
        scheduler: the fsrs scheduler to schedule with.
        content_hash: the card's content hash at review time.

    Returns:
        A new CardState (suspension copied from `before`).
    """
    replay = CardReplay(before or CardState(card_id=card_id))
    replay.apply(rating, now, scheduler, content_hash)
    return replay.state()


def rate(
    store: Store,
    card: Card,
    rating: int,
    now: datetime,
    settings: Settings,
    *,
    method: str = "self",
    check_status: str | None = None,
    duration_ms: int | None = None,
    unless_rated_after: int | None = None,
    unless_moved_after: int | None = None,
    unless_changed_from: str | None = None,
    shown: Mapping[Rating, timedelta] | None = None,
    content_hash: str | None = None,
    follow: Callable[[], Settings] | None = None,
) -> Review:
    """Rate `card` at `now`: schedule it with fsrs and commit the review before returning.

    Args:
        content_hash: what the review records of what it was made on (`Study.recorded_hash`:
            a coding card's contract too); default: the card's `content_hash`.
        unless_rated_after: a review id (`Store.latest_review_id` when the card was shown):
            refuse if another rating of the card was written since (two sessions showing it
            at once), checked under the write lock, so that of two sessions rating at the
            same moment one saves and the other is told.
        unless_moved_after: a move id (`Store.latest_move_id` when the content the card came
            from was read): refuse if a history was moved away from the card's id or onto it
            since (a card renamed meanwhile, its history moved by another command with the
            new content), checked under the write lock as `unless_rated_after` is. Rated
            under the old id, the card was rated as new; the next command merged that rating
            into the new id's history.
        unless_changed_from: the card's state (fsrs's JSON, "" while new) when the intervals
            the rating was chosen by were computed (`Study.previewed`): refuse if the state
            differs, checked under the write lock, where the rating reads the state it builds
            on (after `unless_rated_after`'s check: a rating there is said as such). Checked
            before the lock, a key pressed while another process's import held it (for as
            long as it ran) found no change, waited, and the rating built on the history the
            import merged, chosen by intervals that were not its own.
        shown: the intervals the rating was chosen by (`Study.previewed`'s, computed from
            `unless_changed_from`): a state changed meanwhile is rated all the same where it
            gives those very intervals now (a recompute that moved its stability, not its
            intervals: the learner was asked to choose again by a bar just like the one
            they chose by).
        follow: called under the write lock, the settings to schedule with in place of
            `settings` (`Study._follow_recompute`: the parameters of a recompute of the memory
            states that another process committed while this one waited for the lock, which
            the states it builds on stand on).

    Returns:
        The recorded review (with its id, for undo).

    Raises:
        RatedElsewhere: see `unless_rated_after` (nothing written).
        HistoryMoved: see `unless_moved_after` (nothing written).
        StateChanged: see `unless_changed_from` and `shown` (nothing written); its
            IntervalsMoved where the state is the same and a day since the last review
            passed while the intervals were shown, which changes them.
        ClockBehind: `now` is before the card's last review or the last recompute by more
            than `clock_skew.CLOCK_SKEW` (up to that, the rating is logged just after it:
            `rating_time`).
    """
    scheduler = sched.make_scheduler(settings)
    # (before the transaction's wait for the write lock, which another process may hold for
    # seconds: a rating it writes meanwhile can be later than `now`, taken before the wait)
    began = store.latest_review_id() if unless_rated_after is None else unless_rated_after
    # read the state and write the rating in one transaction: another session rating the same
    # card at the same moment then waits, and this rating builds on its result
    with store.transaction():
        recomputed = follow is not None and (followed := follow()) != settings
        if recomputed:
            settings, scheduler = followed, sched.make_scheduler(followed)
        if unless_moved_after is not None:
            moved = store.moved_since(card.id, unless_moved_after)
            if moved is not None:
                raise HistoryMoved(card.id, *moved)
        before = store.state(card.id)
        last = fsrs_card(before)
        # (without `unless_rated_after`, asked only of a rating later than `now`: two `solve`s
        # of one card at once, the other's written while this one waited, is no clock's fault,
        # which it was said to be)
        behind = last is not None and last.last_review is not None and now < last.last_review
        if unless_rated_after is not None or behind:
            other = store.rating_after(card.id, began)
            if other is not None:
                raise RatedElsewhere(card.id, other)
        if unless_changed_from is not None:
            _refuse_other_intervals(
                card.id, before, now, settings, unless_changed_from, shown, recomputed
            )
        logged = store.latest_logged(card.id)
        moment = rating_time(card.id, last, store.latest_recompute(), now, logged)
        made_on = card.content_hash if content_hash is None else content_hash
        after = advance(before, card.id, rating, moment, scheduler, made_on)
        entry = Review(
            card_id=card.id,
            rating=int(rating),
            reviewed_at=moment,
            method=method,
            content_hash=made_on,
            queue=sched.queue_name(fsrs_card(before)),
            scheduler=scheduler.to_json(),
            state_after=after.fsrs or "",
            state_before=before,
            duration_ms=duration_ms,
            check_status=check_status,
        )
        review = store.record(entry, after)
        if logged is not None and logged > moment:  # a cram rating of the card timed later
            # (a clock set back since; or one undone): the replay puts this rating before it,
            # which records the text it showed over this one's, and logged the card new or as
            # it was; so the card's log is replayed, as a cram rating's timed before a review
            # is (`cram`)
            _replay_card(store, card.id, settings)
        return review


def _refuse_other_intervals(
    card_id: str,
    before: CardState | None,
    now: datetime,
    settings: Settings,
    unless_changed_from: str,
    shown: Mapping[Rating, timedelta] | None,
    recomputed: bool,
) -> None:
    """Refuse a rating whose intervals now are not those it was chosen by (`rate`'s
    `unless_changed_from` and `shown`; `recomputed`: other parameters followed under the lock,
    which a state left as it was, a new card's, is rated on as before).

    Raises:
        StateChanged: the card's state changed since (where `shown` is given, only where the
            intervals now differ from it).
        IntervalsMoved: the state is the same, and the intervals differ: a whole day more
            since the last review passed meanwhile (fsrs counts whole days: 24 hours, or 7
            days, ...). Saved, the rating gave other days than those shown (Good 2d shown, 7d
            saved, for a learning card); its `days`, the whole days since the last review.
    """
    held = (before.fsrs if before is not None else None) or ""
    changed = held != unless_changed_from
    if not changed and (shown is None or recomputed):
        return
    if shown is None or preview(card_id, before, now, settings) != shown:
        if changed:
            raise StateChanged(card_id)
        last = getattr(fsrs_card(before), "last_review", None)
        raise IntervalsMoved(card_id, None if last is None else (now - last).days)


def _replay_card(store: Store, card_id: str, settings: Settings) -> None:
    """Replay `card_id`'s whole log and write its state and its reviews' schedule again
    (`import_replay.replay_logged`): for a rating logged out of time order with another."""
    from .import_replay import replay_logged

    replay_logged(store, [card_id], settings)


def rating_time(
    card_id: str,
    before: FsrsCard | None,
    recomputed: datetime | None,
    now: datetime,
    logged: datetime | None = None,
) -> datetime:
    """When a rating of `card_id` (its state `before`) made at `now` is logged: at `now`, or
    just after the card's last review or the log's last recompute of the memory states
    (`recomputed`) where one is later than `now` by `CLOCK_SKEW` at most. The log is replayed
    in time order: a rating timed before either would be replayed before it, and the state
    stored now would differ from the log's (the doctor would call it drift). Such a time comes
    from another machine whose clock is a little ahead of this one's (an imported review,
    or a recompute logged just after one, `Study.recompute_memory`), and the rating's is then
    as far off as that clock: the learner is not refused a rating for a clock they may not
    know is off. Nor is it logged at or before the card's latest review in the log
    (`logged`: one undone, or a cram rating, included) where that is ahead of `now` by
    `CLOCK_SKEW` at most: a rating undone and given again on such a review was timed as the
    one undone, and an export, whose rows are a card and a time, carried two ratings as one
    (the other machine kept the one undone, each told of a conflict).

    Raises:
        ClockBehind: the last review or recompute is later than `now` by more than that: a
            clock set wrong, this one or the other machine's.
    """
    last = before.last_review if before is not None else None
    latest = max((moment for moment in (last, recomputed) if moment is not None), default=None)
    if latest is None or now >= latest:
        return _after_logged(now, logged, now)
    if latest - now <= CLOCK_SKEW:
        return _after_logged(latest + MICROSECOND, logged, now)
    what = (
        f"{card_id} was last reviewed"
        if latest == last
        else "the memory states were recomputed with new parameters"
    )
    raise ClockBehind(
        f"not saved: {what} at {shown(latest)}, {spoken(latest - now)} after this machine's "
        f"time now ({shown(now)}), more than the {SKEW_SAID} two machines' clocks may be apart: "
        "the system clock (or STUDYCLI_NOW) is behind, or that time came from a machine whose "
        "clock was ahead (an import); set the wrong clock right, or rate the card from "
        f"{shown(latest - CLOCK_SKEW)} on"
    )


def _after_logged(moment: datetime, logged: datetime | None, now: datetime) -> datetime:
    """`moment`, or just after `logged` where that is as late or later and ahead of `now`,
    by `CLOCK_SKEW` at most (`rating_time`). A logged review at `now` itself is no clock's
    skew: two ratings at one time come of a clock held still (`STUDYCLI_NOW`), and stay at it."""
    if logged is not None and moment <= logged and now < logged <= now + CLOCK_SKEW:
        return logged + MICROSECOND
    return moment


def cram(
    store: Store,
    card: Card,
    rating: int,
    now: datetime,
    settings: Settings,
    *,
    check_status: str | None = None,
    duration_ms: int | None = None,
    content_hash: str | None = None,
) -> Review:
    """Log a cram rating of `card` at `now`: recorded with the method `cram`, the card's
    schedule untouched (as Anki's filtered decks without rescheduling). A studied card records
    the text the cram showed as seen (`CardReplay.crammed`: a coding card's contract only
    where `check_status` says its attempt was checked), so that an edit it showed is flagged
    no more; a replay does the same from the log, and skips it otherwise. `content_hash`: as
    `rate`'s.

    Returns:
        The recorded review (with its id, for undo).
    """
    # the state read and the rating written in one transaction, as `rate` does: the state is
    # what an undo puts back, and another session's rating of the card written in between
    # was undone with it (the card put back as it was before that rating too)
    with store.transaction():
        before = store.state(card.id)
        made_on = card.content_hash if content_hash is None else content_hash
        entry = Review(
            card_id=card.id,
            rating=int(rating),
            reviewed_at=now,
            method=ReviewMethod.CRAM,
            content_hash=made_on,
            queue=sched.queue_name(fsrs_card(before)),
            scheduler=sched.make_scheduler(settings).to_json(),
            state_after=(before.fsrs if before is not None else None) or "",
            state_before=before,
            duration_ms=duration_ms,
            check_status=check_status,
        )
        later = [store.latest_logged(card.id), store.latest_recompute()]
        review = store.record(entry, None)
        if any(moment is not None and moment > now for moment in later):  # a review of the
            # card timed later (a clock set back since, an import), or a recompute of the
            # memory states (timed after the log's latest review that makes the schedule, not
            # after a cram rating): the replay puts this rating before it, which it is not
            # here; so the card's log is replayed, as a rename's is
            _replay_card(store, card.id, settings)
        elif before is not None and before.fsrs:
            replay = CardReplay(before)
            replay.crammed(made_on, checked=check_status is not None)
            if replay.content_hash != before.content_hash:
                store.replace_states([replay.state()])
        return review


def undo(store: Store, review_id: int, now: datetime) -> CardState:
    """Undo one review: the card's row goes back exactly; the log marks the review undone.
    Where a review of the card is timed after it (a rating given with the clock set back,
    before a cram rating logged earlier), that review's logged schedule was replayed with the
    one undone; where a recompute of the memory states is at its time (a cram rating made just
    before it, the clock held), the row put back is from before the recompute: the card's log
    is replayed again without it (`_replay_card`, `Store.replayed_after`)."""
    with store.transaction():
        later = store.replayed_after(review_id)
        state = store.undo(review_id, now)
        if later:  # (a whole history replayed: it schedules no new review with `Settings`)
            _replay_card(store, state.card_id, Settings())
            state = store.state(state.card_id) or state
        return state


def preview(
    card_id: str, state: CardState | None, now: datetime, settings: Settings
) -> dict[Rating, timedelta]:
    """The interval each rating would give now (the labels of the rating keys)."""
    current = fsrs_card(state) or sched.new_card(card_id, now)
    return sched.preview(sched.make_scheduler(settings), current, now)


def rebuild(store: Store, *, write: bool = False) -> dict[str, CardState]:
    """Recompute every card's state by replaying the log in time order (ties by id), each
    review with the scheduler settings it was made with. Undone ratings are skipped; a cram
    rating moves no schedule, and records the text it showed (`CardReplay.crammed`). Each
    recompute of the memory states (new parameters saved) is applied at its time, after
    the reviews made before it (`CardReplay.recompute`).

    Args:
        write: also store the recomputed states (repairs a state table that drifted).

    Returns:
        The state of every card the store knows, keyed by id.
    """
    rebuilt, _ = replay_log(store)
    if write:
        store.replace_states(list(rebuilt.values()))
    return rebuilt


def replay_log(store: Store, *, compare: bool = False) -> tuple[dict[str, CardState], list]:
    """`rebuild`'s replay (never written): every card's state, and, when `compare`, the
    reviews (not undone, cram ones included) whose queue or state after, as the log holds
    them, differ from the replay's or do not read, as (queue, state_after, id) of the
    replay's, which `Store.write_schedule` writes. Comparing costs a state's JSON per review
    (`card_json`), a few per cent of the replay (see `doctor.examine`)."""
    schedulers = store.schedulers()
    recomputes = recomputes_of(store, schedulers)
    tracked = bool(recomputes)
    replays = {
        card_id: CardReplay(
            CardState(card_id=card_id, suspended=state.suspended), recomputed=tracked
        )
        for card_id, state in store.states().items()
    }
    done: dict[str, int] = {}  # recomputes applied, by card (each is every card's)
    differing: list[tuple[str, str, int]] = []
    # cards the store holds no row of, met so far in cram ratings alone: a cram rating leaves
    # a new card as it was, with no row (`cram`), so the replay gives them none either
    crammed_only: set[str] = set()
    # (cram ratings too: each records the text it showed, `CardReplay.crammed`)
    for row in store.logged_schedule():
        card_id, rating, reviewed_at, scheduler_id, content_hash, review_id, cram = row[:7]
        moment = parse_time(reviewed_at)
        replay = replays.get(card_id)
        if replay is None:
            replay = replays[card_id] = CardReplay(CardState(card_id=card_id), recomputed=tracked)
            if cram:
                crammed_only.add(card_id)
        if tracked:
            done[card_id] = recompute_until(replay, recomputes, done.get(card_id, 0), moment)
        replayed_queue = _NEW if replay.fsrs is None else _QUEUES[replay.fsrs.state]
        if cram:  # (it leaves the schedule as it was: its state)
            replay.crammed(content_hash, checked=cram == CRAMMED_CHECKED)
        else:
            crammed_only.discard(card_id)
            replay.apply(
                rating, moment, scheduler_from_json(schedulers[scheduler_id]), content_hash
            )
        if not compare:
            continue
        queue, state_after = row[7:]
        after = replay.fsrs_json() or ""
        if queue != replayed_queue or (
            state_after != after and not _same_state(state_after, after)
        ):
            differing.append((replayed_queue, after, review_id))
    if tracked:
        for card_id, replay in replays.items():
            recompute_until(replay, recomputes, done.get(card_id, 0), None)
    states = {
        card_id: replay.state()
        for card_id, replay in replays.items()
        if card_id not in crammed_only
    }
    return states, differing


_NEW = sched.Queue.NEW.value  # what `CardReplay.queue` says, as text (a lookup: per review)
_QUEUES = {state: queue.value for state, queue in sched.QUEUE_NAMES.items()}


def _same_state(logged: object, replayed: str) -> bool:
    """Whether a review's logged state after, which is not the replay's text, holds the same
    fields all the same (written by another serialisation: fsrs's own `to_json`)."""
    import json

    try:
        return bool(logged and replayed) and json.loads(logged) == json.loads(replayed)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def recomputes_of(store: Store, schedulers: dict[int, str]) -> list[Recompute]:
    """The log's recomputes of the memory states (new parameters saved), in time order, with
    their schedulers (`schedulers`: the store's, by id)."""
    return [
        (parse_time(made_at), scheduler_from_json(schedulers[scheduler_id]))
        for made_at, scheduler_id in store.recomputes()
    ]


@lru_cache(maxsize=32)
def scheduler_from_json(settings_json: str) -> Scheduler:
    """The fsrs scheduler a review was made with (its `Scheduler.to_json()`), cached."""
    return sched.scheduler_from_json(settings_json)
