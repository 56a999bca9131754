"""Study days, and when a studied item is due in them.

A study day rolls over at a local hour (`day_starts_at`, 4 am by default), while every stored
time is UTC: `study_day_start`, `next_day_start` and `study_date` place a moment in its day,
where the clocks change too (a day of 23 or 25 hours).

When an item is due (`due_at`, the one rule that the queue, `due`'s counts, the next card's
time and `stats`' forecast share), as Anki counts it: a card in review, and a card in learning
whose step falls on a later study day than its rating (an "interday" step: 1d), for the whole
of that study day, from its start; a learning step within the study day of its rating (10m, 1h)
at its time. The study day is counted in whole days from the rating's: the stored due (the
last review plus the interval, an instant) read as a wall-clock time in the zone's offset at
the last review, so that a clock change between them moves no card to the same day or two
days on ("Good 1d" at 04:30 CEST falls due at 03:30 CET, the same study day's).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from .times import iso, parse_time


def study_day_start(now: datetime, day_starts_at: int, tz: tzinfo | None = None) -> datetime:
    """The UTC start of the study day holding `now`: the first moment the local clock reads
    `day_starts_at` o'clock or later (where the clocks skip that hour, the moment they skip
    to; where they repeat it, its first occurrence).

    Args:
        now: a timezone-aware time.
        day_starts_at: the local hour at which a study day begins (0-23).
        tz: the learner's time zone; None for the system's local zone.
    """
    wall = now.astimezone(tz).replace(
        tzinfo=None, hour=day_starts_at, minute=0, second=0, microsecond=0, fold=0
    )
    start = _first_moment_at(wall, tz)
    if now < start:  # (moments compared, not wall times: a repeated hour reads twice)
        start = _first_moment_at(wall - timedelta(days=1), tz)
    return start


def _first_moment_at(wall: datetime, tz: tzinfo | None) -> datetime:
    """The first moment (UTC) whose local time in `tz` (None: the system's zone) is the naive
    `wall` or later."""
    first = _moment(wall, tz, fold=0)  # (a repeated time's first occurrence)
    if _wall(first, tz) == wall:
        return first
    # the clocks skip `wall`: its two readings fall either side of the jump (an hour in most
    # zones, two or a quarter past in a few), which is found to the second
    early, late = sorted((_moment(wall, tz, fold=1), first))
    while late - early > _SECOND:
        middle = early + timedelta(seconds=(late - early) // _SECOND // 2)
        if _wall(middle, tz) >= wall:
            late = middle
        else:
            early = middle
    return late


def _moment(wall: datetime, tz: tzinfo | None, fold: int) -> datetime:
    local = wall.replace(fold=fold) if tz is None else wall.replace(tzinfo=tz, fold=fold)
    return local.astimezone(UTC)  # (a naive time is read in the system's zone)


def _wall(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


_SECOND = timedelta(seconds=1)


def next_day_start(now: datetime, day_starts_at: int, tz: tzinfo | None = None) -> datetime:
    """The UTC start of the study day after the one holding `now` (a day of 23 or 25 hours
    where the clocks change)."""
    # 36 hours after this day's start lies in the next day, whatever its length: 24 hours
    # after `now` did not (the day after next, or this one, in the hour next to 4 am on the
    # eve of a change).
    start = study_day_start(now, day_starts_at, tz)
    return study_day_start(start + _WITHIN_NEXT_DAY, day_starts_at, tz)


_WITHIN_NEXT_DAY = timedelta(hours=36)


def study_date(moment: datetime, day_starts_at: int, tz: tzinfo | None = None) -> date:
    """The date of the study day holding `moment`, the day `study_day_start` begins: its
    local time less `day_starts_at` hours, but where the clocks went back since the day
    began (their second pass through a repeated hour reads earlier than the day's start:
    Chatham's second 2:45 to 3:00, Troll's second 1:00 to 3:00)."""
    local = moment.astimezone(tz)
    offset = local.utcoffset()
    assert offset is not None  # (an aware time's)
    before = (moment - _A_DAY_AND_A_JUMP).astimezone(tz).utcoffset()
    if before is not None and offset < before:
        return study_day_start(moment, day_starts_at, tz).astimezone(tz).date()
    return (local - timedelta(hours=day_starts_at)).date()


# Further back than a day's start can be from a moment in it: a day and a clock change
_A_DAY_AND_A_JUMP = timedelta(hours=27)


def day_start_of(day: date, day_starts_at: int, tz: tzinfo | None = None) -> datetime:
    """The UTC start of the study day dated `day` (whose `study_date` is `day`)."""
    return _first_moment_at(datetime.combine(day, time(day_starts_at)), tz)


def due_date(
    in_review: bool,
    due: datetime,
    last_review: datetime | None,
    day_starts_at: int,
    tz: tzinfo | None = None,
) -> date | None:
    """The study day an item is due for as a whole (see the module's docstring); None for a
    learning step within the study day of its rating, due at its time.

    Args:
        in_review: whether the item is in review (fsrs's State.Review), not in learning or
            relearning.
        due: its stored due time (its last review plus its interval).
        last_review: its last review; None where unknown (a card in review is then due from
            the start of the study day its due time falls in, a learning card at its time).
        day_starts_at: the local hour at which a study day begins.
        tz: the learner's time zone; None for the system's local zone.
    """
    if last_review is None:
        return study_date(due, day_starts_at, tz) if in_review else None
    offset = last_review.astimezone(tz).utcoffset()
    assert offset is not None  # (an aware time's)
    shift = offset - timedelta(hours=day_starts_at)  # to the wall clock less the day's start
    days = (_utc(due) + shift).date() - (_utc(last_review) + shift).date()
    if not in_review and days.days <= 0:
        return None
    return study_date(last_review, day_starts_at, tz) + days


def due_at(
    in_review: bool,
    due: datetime,
    last_review: datetime | None,
    day_starts_at: int,
    tz: tzinfo | None = None,
) -> datetime:
    """When an item can be studied: the start of its study day (`due_date`), or, for a
    learning step within the study day of its rating, its due time. See `due_date`."""
    day = due_date(in_review, due, last_review, day_starts_at, tz)
    return due if day is None else day_start_of(day, day_starts_at, tz)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# More than a clock change moves a local time (an hour in most zones, two at Troll): a stored
# due time further than this from a study day's start is on the same side of it as the item
CLOCK_SHIFT = timedelta(hours=3)


class DueToday:
    """Whether the store's rows (fsrs state, due time and last review as stored text) are due
    at `now` (`due_at`), for a queue that reads thousands of them: a row due more than
    `CLOCK_SHIFT` before the study day's end is due on a day up to today (a review is due, and
    a card in learning due by now), and one due as long after it is not, without a time
    parsed; the rows between (`near` to `far`), and the cards in learning due later, are read
    in full, the store reading their last reviews (`Store.schedule`'s `near` and `learning`)."""

    def __init__(self, now: datetime, day_starts_at: int, tz: tzinfo | None = None) -> None:
        self.now, self.moment = now, iso(now)
        self._start = start = study_day_start(now, day_starts_at, tz)
        self.start = iso(start)
        self._before = iso(start - _SECOND)  # (a time stored without a fraction is earlier)
        self._settled = iso(start + CLOCK_SHIFT)
        self.end = study_day_start(start + _WITHIN_NEXT_DAY, day_starts_at, tz)  # (next's)
        self.near = iso(self.end - CLOCK_SHIFT)
        self.far = iso(self.end + CLOCK_SHIFT)  # (no row due from here is read: see `until`)
        self._day_starts_at, self._tz = day_starts_at, tz

    def until(self, learn_ahead: datetime) -> datetime:
        """The latest due time of a row that can be due today, or learnt ahead by
        `learn_ahead` (a learning step due then)."""
        return max(self.end + CLOCK_SHIFT, learn_ahead)

    def review_is_due(self, due: str, last_review: str | None) -> bool:
        """Whether a card in review due at `due` is due now (`last_review`: None where the
        store did not read it, before `near`)."""
        if due < self.near:
            return True
        if due >= self.far:
            return False
        return self.at(True, due, last_review) <= self.now

    def learning_at(self, due: str, last_review: str | None) -> datetime:
        """`due_at` of a row of a card in learning, without its day worked out where its due
        time is well inside today (after the day's start and CLOCK_SHIFT, before `near`): rated
        today, a step within the day, due at its time; rated before, a step to today, due from
        its start."""
        if last_review is not None and self._settled <= due < self.near:
            if last_review >= self.start:
                return parse_time(due)
            if last_review < self._before:
                return self._start
        return self.at(False, due, last_review)

    def at(self, in_review: bool, due: str, last_review: str | None) -> datetime:
        """`due_at` of a row."""
        last = None if last_review is None else parse_time(last_review)
        return due_at(in_review, parse_time(due), last, self._day_starts_at, self._tz)


def first_due_at(
    rows: Iterable[tuple[str, str | None]],
    in_review: bool,
    day_starts_at: int,
    tz: tzinfo | None = None,
    after: datetime | None = None,
) -> datetime | None:
    """The earliest `due_at` of `rows` later than `after` if given; None if none.

    Args:
        rows: due times and last reviews as stored text, by due time, of items all in review
            or all in learning (`in_review`), those due after `after - CLOCK_SHIFT` where
            `after` is given (no earlier one can be due after it): read until no later row can
            come before the earliest found (an item's study day starts at most CLOCK_SHIFT
            after its due time).
        in_review: whether the rows are of items in review.
        day_starts_at: the local hour at which a study day begins.
        tz: the learner's time zone; None for the system's local zone.
        after: only a time after this counts.
    """
    best: datetime | None = None
    stop = ""
    for due, last_review in rows:
        if best is not None and due >= stop:
            break
        moment = parse_time(due)
        last = None if last_review is None else parse_time(last_review)
        day = due_date(in_review, moment, last, day_starts_at, tz)
        at = moment if day is None else day_start_of(day, day_starts_at, tz)
        if (after is None or at > after) and (best is None or at < best):
            best = at
            # a row due later than this is due on a later day, or later than `best`: a day's
            # start, or a learning step's time, which may be any time of its day
            bound = best if day is not None else next_day_start(best, day_starts_at, tz)
            stop = iso(bound + CLOCK_SHIFT)
    return best
