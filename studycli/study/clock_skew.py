"""Two machines' clocks, a little apart: how far ahead of this machine's clock a review may be.

A learner who syncs two machines (`export-reviews` on one, `import-reviews` on the other)
carries reviews timed by the other machine's clock, which is seconds to minutes off this one's
(a laptop that slept, no network time). Anki's sync refuses only when the clocks differ by more
than 5 minutes; so here: an import takes reviews up to `CLOCK_SKEW` ahead of this clock, and
says how many and how far (`Ahead`), and a rating of a card whose last review is up to that far
ahead is recorded just after that review (`rating.rate`), so that the log stays in time order
and a replay gives the state stored. Further ahead is a clock set wrong, refused with the fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from .times import iso, parse_time

CLOCK_SKEW = timedelta(minutes=5)  # as Anki's sync: clocks further apart are to be set right
SKEW_SAID = "5 minutes"  # CLOCK_SKEW, as messages give it
MICROSECOND = timedelta(microseconds=1)  # the store's precision: "just after" a time
# How far before its rating's logged time an undo may be: studycli logs a rating up to a
# microsecond after a review `CLOCK_SKEW` ahead of the clock (`rating.rating_time`), and an
# undo at the clock's time (`Store.undo`), both of which the log's export then carries
UNDO_SKEW = CLOCK_SKEW + MICROSECOND


def latest_accepted(now: datetime) -> datetime:
    """The latest time a review read at `now` may have (`CLOCK_SKEW` ahead of it)."""
    return now + CLOCK_SKEW


def undone_before(given: datetime, undone: datetime) -> bool:
    """Whether an undo at `undone` of a rating logged at `given` is further before it than
    studycli logs one (`UNDO_SKEW`): a clock put back between the two (`Store.undo` refuses
    it, `undo_behind`), or an export's cell edited (the import refuses the file)."""
    return undone < given - UNDO_SKEW


def undo_behind(given: datetime, now: datetime) -> str:
    """Why an undo at `now` of a rating logged at `given` is refused (`undone_before`)."""
    return (
        f"this rating was given at {shown(given)}, {spoken(given - now)} after this machine's "
        f"time now ({shown(now)}), more than the {SKEW_SAID} two machines' clocks may be "
        "apart: the system clock (or STUDYCLI_NOW) is behind, and an undo logged before the "
        "rating it takes back makes the log's export one that no import takes; set the clock "
        f"right, or undo it from {shown(given - CLOCK_SKEW)} on"
    )


def spoken(interval: timedelta) -> str:
    """How far apart two times are, as a message says it: "40 s", "6 min 3 s", "2 h 5 min",
    "3 days" (whole seconds, rounded up: "ahead by 0 s" would say nothing is wrong)."""
    seconds = max(1, math.ceil(interval.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days = hours // 24
    return f"{days:,} day" + ("s" if days > 1 else "")


def shown(moment: datetime) -> str:
    """A time as a message gives it: "2025-03-01 09:05:00 UTC"."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


class Ahead:
    """The reviews of an import later than this machine's clock (`now`), which it takes up to
    `CLOCK_SKEW` ahead: how many (`count`) and the latest's lead (`most`)."""

    def __init__(self, now: datetime) -> None:
        self.now, self._now = now, iso(now)
        self.count = 0
        self._latest = ""

    def add(self, rows: Sequence[Sequence], at: int) -> None:
        """Count the reviews of `rows` later than `now`, each row's time at index `at` as the
        store writes times (`iso`: text order is time order). The latest is found first, and
        the rows counted only where it is later: most files have none so late, and finding
        the latest costs 0.1 s a million rows (half of counting them)."""
        time = itemgetter(at)
        if max(map(time, rows), default="") <= self._now:
            return
        later = [moment for moment in map(time, rows) if moment > self._now]
        self.count += len(later)
        self._latest = max(self._latest, *later)

    @property
    def most(self) -> timedelta:
        """How far the latest review is ahead of `now` (zero: none is)."""
        return parse_time(self._latest) - self.now if self._latest else timedelta(0)
