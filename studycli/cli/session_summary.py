"""How a review session ends: the line said when nothing is left to study (`_finished`: the
day's limits that hold cards back, a `--limit` reached), and the summary (`Summary`,
`summary_view`): how many ratings, how many Again, how long, and when the next card is due
(`_summary`: "more cards are due now" where the session was left before its end or a limit
cut it off). `SessionSummary` is a part of `ReviewSession` (review_session.py), which mixes
it in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text

from studycli.study.api import Review, Study
from studycli.study.labels import (
    AGAIN,
    counted,
    format_interval,
    held_new_note,
    held_reviews_note,
)
from studycli.study.settings import Settings

from .session_queue import SessionQueue


class Summary:
    """What a session did: ratings, Agains, cards buried (`b`) and suspended (`@`) and not
    taken back, time, the next due time, whether Ctrl-C ended it. (Plain classes here, not
    dataclasses: a dataclass costs ~0.5 ms of `review`'s start-up.)"""

    def __init__(
        self,
        reviewed: int = 0,
        again: int = 0,
        seconds: float = 0.0,
        next_due: datetime | None = None,
        interrupted: bool = False,
        buried: int = 0,
        suspended: int = 0,
    ) -> None:
        self.reviewed, self.again, self.seconds = reviewed, again, seconds
        self.next_due, self.interrupted = next_due, interrupted
        self.buried, self.suspended = buried, suspended

    @property
    def again_rate(self) -> float:
        return self.again / self.reviewed if self.reviewed else 0.0


def summary_view(summary: Summary, now: datetime) -> Text:
    minutes, seconds = divmod(round(summary.seconds), 60)
    text = Text("\n")
    text.append(f"{summary.reviewed} review{'s' if summary.reviewed != 1 else ''}", style="bold")
    for count, what in ((summary.buried, "buried"), (summary.suspended, "suspended")):
        if count:  # (a session of `b` and `@` said "0 reviews" and no word of them)
            text.append(f" · {count} {what}")
    if summary.reviewed:  # (no "again 0%" of no review)
        text.append(f" · again {summary.again_rate:.0%}")
    text.append(f" · {minutes}m {seconds:02d}s · ")
    if summary.next_due is None:
        text.append("nothing scheduled yet")
    elif summary.next_due <= now:
        text.append("more cards are due now")
    else:
        text.append(f"next due in {format_interval(summary.next_due - now)}")
    return text


class SessionSummary:
    """The end of `ReviewSession`, which sets what it reads (below)."""

    study: Study
    settings: Settings
    clock: Callable[[], datetime]
    queue: SessionQueue
    reschedule: bool
    tz: tzinfo | None
    items: list[Any]
    done: list[Review]
    limit: int | None
    past_limit: int
    seen: set[str]
    buries: int
    suspensions: int

    def _finished(self) -> str:
        if not self.reschedule:
            return "Cram done: every card was rated." if self.seen else self._nothing_to_cram()
        if self.past_limit:  # not "Nothing more is due now.": `review` would show them
            return (
                f"--limit {self.limit} reached (it counts study items, not reviews): "
                f"{counted(self.past_limit, 'more study item')} "
                "can be studied now (`studycli review` goes on)."
                + (" (`studycli undo` takes back the last rating.)" if self.done else "")
            )
        from .context import settings_file

        said = "Nothing more is due now." if self.seen else "Nothing is due now."
        if held := getattr(self.queue, "held_reviews", lambda: 0)():
            said += f" {held_reviews_note(held, self.settings.reviews_per_day, settings_file())}."
        if held := getattr(self.queue, "held_new", lambda: 0)():
            said += f" {held_new_note(held, self.settings.new_per_day, settings_file())}."
        return said + (" (`studycli undo` takes back the last rating.)" if self.done else "")

    def _nothing_to_cram(self) -> str:
        """What a cram with no card to show says: where the cards selected wait for the next
        study day, how many and why (it said only "Nothing to cram.")."""
        if not (waiting := getattr(self.queue, "waiting", 0)):
            return "Nothing to cram."
        return (
            f"Nothing to cram: {counted(waiting, 'study item')} selected "
            f"wait{'s' if waiting == 1 else ''} for the next study day, buried, or the other "
            "deletions of a cloze card with one studied today (bury_siblings in settings.toml)."
        )

    def _summary(self, seconds: float, interrupted: bool, finished: bool = False) -> Summary:
        return Summary(
            reviewed=len(self.done),
            again=sum(1 for r in self.done if r.rating == AGAIN),
            seconds=seconds,
            next_due=self.clock()  # "more cards are due now", not the next scheduled one
            if self.past_limit or self._left_now(finished)
            else self.study.next_due(self.items, self._held_at(finished), self.tz),
            interrupted=interrupted,
            buried=self.buries,
            suspended=self.suspensions,
        )

    def _left_now(self, finished: bool) -> bool:
        """Whether a session left before its end (q, Ctrl-C) leaves cards to study now. Its
        summary said when the next scheduled card falls due ("next due in 10m", or "nothing
        scheduled yet" after one card) over the day's new cards still waiting: a learner
        who quit after a few cards read that there was nothing more to do today. A cram
        session changes no schedule: whether `review` has cards of its own now, ended or not
        (it said "next due in 10h" while the day's new cards waited)."""
        if not self.reschedule:
            due = self.study.queue(self.items, self.clock(), self.tz)
            return bool(due.learning or due.review or due.new)
        if finished:
            return False
        left_now = getattr(self.queue, "left_now", None)  # (a cram queue has no schedule)
        return bool(left_now and left_now())

    def _held_at(self, finished: bool) -> datetime | None:
        """Now, where the session ran out of cards and no review or card in learning is due
        (a limit aside): any card due by now then waits for the next study day (a sibling of
        a cloze card studied today, a review past the day's limit), and the summary says when
        the next can be studied, not "more cards are due now" (`Study.next_due`)."""
        if not (finished and self.reschedule):
            return None
        now = self.clock()
        due = self.study.queue(self.items, now, self.tz)
        return None if due.review or due.learning else now
