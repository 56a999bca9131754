"""The interactive review session: one card at a time, keys read one by one.

Enter or space reveals (a derivation one step per press, then the answer); 1-4 rate, each key
labelled with the interval FSRS would give; `s` answers a coding card by running its check;
`h` shows the next hint; `u` undoes the last rating; `q` (or Ctrl-C) ends the session. Each
rating is committed to the store before the next card is drawn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from fsrs import Rating
from rich.console import Console
from rich.text import Text

from studycli.check.runner import Outcome
from studycli.check.solve import ensure_attempt, rating_for
from studycli.content.card import Card, Kind
from studycli.content.loader import Content
from studycli.errors import StudyError
from studycli.study import scheduler as sched
from studycli.study.api import Review, ReviewMethod, Study, study_items
from studycli.study.queue import Due

from . import render
from .solve_flow import Hints, Limits, check, edit
from .terminal import ENTER

RATING_STYLE = {
    Rating.Again: "red",
    Rating.Hard: "yellow",
    Rating.Good: "green",
    Rating.Easy: "cyan",
}


@dataclass
class Summary:
    reviewed: int = 0
    again: int = 0
    seconds: float = 0.0
    next_due: datetime | None = None
    interrupted: bool = False

    @property
    def again_rate(self) -> float:
        return self.again / self.reviewed if self.reviewed else 0.0


@dataclass
class _Card:
    """What the learner has seen of the card on screen."""

    card: Card
    steps_shown: int = 0
    answer_shown: bool = False
    outcome: Outcome | None = None
    started: float = field(default_factory=time.monotonic)
    hints: Hints = field(init=False)

    def __post_init__(self) -> None:
        self.hints = Hints(self.card)


class ReviewSession:
    """One `studycli review` run over `cards` (already filtered by deck, topic and tag); a
    cloze card is studied once per deletion number."""

    def __init__(
        self,
        console: Console,
        study: Study,
        content: Content,
        cards: list[Card],
        clock: Callable[[], datetime],
        getkey: Callable[[], str],
        limit: int | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.console, self.study, self.content = console, study, content
        self.items = study_items(cards)
        self.settings = study.settings
        self.clock, self.getkey, self.limit, self.tz = clock, getkey, limit, tz
        self.done: list[Review] = []  # this session's ratings, for undo and the summary
        self.seen: set[str] = set()
        self.again_next: Card | None = None  # the card an undo brings back

    def run(self) -> Summary:
        """Study until nothing is due, `q`, or Ctrl-C; returns the summary (also printed)."""
        started = time.monotonic()
        interrupted = False
        try:
            while (card := self._next()) is not None:
                if self._study(card) == "quit":
                    break
            else:
                self.console.print(
                    Text(
                        "Nothing more is due now." if self.seen else "Nothing is due now.",
                        style="bold",
                    )
                )
        except (KeyboardInterrupt, EOFError):
            interrupted = True
            self.console.print("\n[yellow]interrupted[/]: every rating so far is saved")
        summary = self._summary(time.monotonic() - started, interrupted)
        self.console.print(summary_view(summary, self.clock()))
        return summary

    def _due(self) -> Due:
        pool = self.items
        if self.limit is not None and len(self.seen) >= self.limit:
            pool = [c for c in self.items if c.id in self.seen]  # only finish what was started
        return self.study.queue(pool, self.clock(), self.tz)

    def _next(self) -> Card | None:
        if self.again_next is not None:
            card, self.again_next = self.again_next, None
            return card
        return self._due().next()

    def _study(self, card: Card) -> str:
        """Show `card` and handle keys until it is rated, undone past, or the session quits."""
        self.seen.add(card.id)
        self._show_front(card)
        shown = _Card(card)
        while True:
            key = self.getkey()
            if key in ENTER or key == " ":
                if self._reveal(shown):
                    return "rated"
            elif len(key) == 1 and key in "1234" and (shown.answer_shown or shown.outcome):
                if self._rate(shown, Rating(int(key))):
                    return "rated"
            elif key == "s" and card.runnable:
                self._solve(shown)
            elif key == "h" and card.hints:
                self.console.print(shown.hints.next())
            elif key == "u":
                if self._undo():
                    return "undone"
            elif key == "q":
                return "quit"

    def _show_front(self, card: Card) -> None:
        due = self._due()
        learning = len(due.learning) + len(due.ahead)
        self.console.rule(
            Text(
                f"new {len(due.new)} · learning {learning} · review {len(due.review)}", style="dim"
            )
        )
        flags = self.study.flags(card)
        if flags:
            self.console.print(Text(" · ".join(flags), style="bold yellow"))
        self.console.print(render.header(card))
        self.console.print(render.prompt(card))
        keys = "Enter reveal" + (" step" if card.kind == Kind.DERIVATION else "")
        keys += " · s solve" if card.runnable else ""
        keys += " · h hint" if card.hints else ""
        self.console.print(Text(keys + " · u undo · q quit", style="dim"))

    def _reveal(self, shown: _Card) -> bool:
        """Show the next step or the answer; after a check, Enter takes its rating (True)."""
        card = shown.card
        if shown.steps_shown < len(card.steps):
            self.console.print(render.step(card, shown.steps_shown))
            shown.steps_shown += 1
        elif not shown.answer_shown:
            self.console.print(render.answer(card))
            shown.answer_shown = True
            self.console.print(self._rating_bar(card))
        elif shown.outcome is not None:
            return self._rate(shown, rating_for(shown.outcome))
        return False

    def _rating_bar(self, card: Card, allowed: tuple[Rating, ...] = tuple(Rating)) -> Text:
        intervals = self.study.preview(card, self.clock())
        bar = Text()
        for rating in allowed:
            bar.append(f" {int(rating)} ", style=f"bold reverse {RATING_STYLE[rating]}")
            bar.append(
                f" {sched.RATING_NAMES[rating]} {sched.format_interval(intervals[rating])}   "
            )
        return bar

    def _solve(self, shown: _Card) -> None:
        card = shown.card
        limits = Limits(self.settings.check_timeout, self.settings.check_memory_mb)
        try:
            path = ensure_attempt(card, self.content)
            edit(self.console, path, self.getkey)
            shown.outcome = check(self.console, card, self.content, path, limits)
        except StudyError as exc:  # a broken editor or card ends this attempt, not the session
            self.console.print(Text(f"error: {exc}", style="bold red"))
            return
        if not shown.answer_shown:
            self.console.print(render.answer(card))
            shown.answer_shown = True
        if shown.outcome.status == "pass":
            self.console.print(self._rating_bar(card, (Rating.Hard, Rating.Good, Rating.Easy)))
            self.console.print(Text("Enter: Good · s: edit and run again", style="dim"))
        else:
            self.console.print(self._rating_bar(card, (Rating.Again,)))
            self.console.print(Text("Enter: Again · s: edit and run again", style="dim"))

    def _rate(self, shown: _Card, rating: Rating) -> bool:
        outcome = shown.outcome
        if outcome is not None and rating_for(outcome, rating) != rating:
            self.console.print(
                Text(
                    f"the check {'passed' if outcome.status == 'pass' else 'failed'}"
                    f": rate with {'2, 3 or 4' if outcome.status == 'pass' else '1'}"
                    ", or press s to run it again",
                    style="yellow",
                )
            )
            return False
        duration = int((time.monotonic() - shown.started) * 1000)
        rated = self.study.rate(
            shown.card,
            rating,
            self.clock(),
            method=ReviewMethod.CHECK if outcome else ReviewMethod.SELF,
            check_status=outcome.status if outcome else None,
            duration_ms=duration,
        )
        self.done.append(rated.review)
        self.console.print(
            Text(
                f"{sched.RATING_NAMES[rating]}: due again in "
                f"{sched.format_interval(rated.due - self.clock())}",
                style="dim",
            )
        )
        if rated.leech and rating == Rating.Again:
            self.console.print(
                Text(
                    f"{shown.card.id} is a leech (forgotten {rated.state.lapses} times): "
                    f"rewrite it, or `studycli suspend {shown.card.card_id}`",
                    style="bold yellow",
                )
            )
        return True

    def _undo(self) -> bool:
        if not self.done:
            self.console.print(Text("nothing to undo in this session", style="yellow"))
            return False
        entry = self.done.pop()
        self.study.undo(entry.id, self.clock())  # type: ignore[arg-type]
        self.again_next = next((i for i in self.items if i.id == entry.card_id), None)
        self.console.print(Text(f"undone: {entry.card_id} is back as it was", style="yellow"))
        return True

    def _summary(self, seconds: float, interrupted: bool) -> Summary:
        return Summary(
            reviewed=len(self.done),
            again=sum(1 for r in self.done if r.rating == Rating.Again),
            seconds=seconds,
            next_due=self.study.next_due(self.items),
            interrupted=interrupted,
        )


def summary_view(summary: Summary, now: datetime) -> Text:
    minutes, seconds = divmod(round(summary.seconds), 60)
    text = Text("\n")
    text.append(f"{summary.reviewed} review{'s' if summary.reviewed != 1 else ''}", style="bold")
    text.append(f" · again {summary.again_rate:.0%} · {minutes}m {seconds:02d}s · ")
    if summary.next_due is None:
        text.append("nothing scheduled yet")
    elif summary.next_due <= now:
        text.append("more cards are due now")
    else:
        text.append(f"next due in {sched.format_interval(summary.next_due - now)}")
    return text
