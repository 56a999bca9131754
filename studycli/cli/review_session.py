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
from studycli.study import rating as core
from studycli.study import scheduler as sched
from studycli.study.queue import Due, due_now, study_day_start
from studycli.study.settings import Settings
from studycli.study.store import Review, Store

from . import render
from .solve_flow import Limits, check, edit, hint_view
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
    hints_shown: int = 0
    outcome: Outcome | None = None
    started: float = field(default_factory=time.monotonic)


class ReviewSession:
    """One `studycli review` run over `cards` (already filtered by deck, topic and tag)."""

    def __init__(
        self,
        console: Console,
        store: Store,
        content: Content,
        cards: list[Card],
        settings: Settings,
        clock: Callable[[], datetime],
        getkey: Callable[[], str],
        limit: int | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.console, self.store, self.content, self.cards = console, store, content, cards
        self.settings, self.clock, self.getkey, self.limit, self.tz = (
            settings,
            clock,
            getkey,
            limit,
            tz,
        )
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
        now = self.clock()
        pool = self.cards
        if self.limit is not None and len(self.seen) >= self.limit:
            pool = [c for c in self.cards if c.id in self.seen]  # only finish what was started
        day = study_day_start(now, self.settings.day_starts_at, self.tz)
        return due_now(pool, self.store.states(), now, self.settings, self.store.counts_since(day))

    def _next(self) -> Card | None:
        if self.again_next is not None:
            card, self.again_next = self.again_next, None
            return card
        return self._due().next()

    def _study(self, card: Card) -> str:
        """Show `card` and handle keys until it is rated, undone past, or the session quits."""
        self.seen.add(card.id)
        state = self.store.state(card.id)
        self._show_front(card, state)
        shown = _Card(card)
        while True:
            key = self.getkey()
            if key in ENTER or key == " ":
                if self._reveal(shown, state):
                    return "rated"
            elif len(key) == 1 and key in "1234" and (shown.answer_shown or shown.outcome):
                if self._rate(shown, Rating(int(key))):
                    return "rated"
            elif key == "s" and card.runnable:
                self._solve(shown, state)
            elif key == "h":
                self._hint(shown)
            elif key == "u":
                if self._undo():
                    return "undone"
            elif key == "q":
                return "quit"

    def _show_front(self, card: Card, state) -> None:
        due = self._due()
        learning = len(due.learning) + len(due.ahead)
        self.console.rule(
            Text(
                f"new {len(due.new)} · learning {learning} · review {len(due.review)}", style="dim"
            )
        )
        flags = []
        if core.is_edited(card, state):
            flags.append("edited since your last review")
        if core.is_leech(state):
            flags.append(f"leech: forgotten {state.lapses} times")
        if flags:
            self.console.print(Text(" · ".join(flags), style="bold yellow"))
        self.console.print(render.header(card))
        self.console.print(render.prompt(card))
        keys = "Enter reveal" + (" step" if card.kind == Kind.DERIVATION else "")
        keys += " · s solve" if card.runnable else ""
        keys += " · h hint" if card.hints else ""
        self.console.print(Text(keys + " · u undo · q quit", style="dim"))

    def _reveal(self, shown: _Card, state) -> bool:
        """Show the next step or the answer; after a check, Enter takes its rating (True)."""
        card = shown.card
        if shown.steps_shown < len(card.steps):
            self.console.print(render.step(card, shown.steps_shown))
            shown.steps_shown += 1
        elif not shown.answer_shown:
            self.console.print(render.answer(card))
            shown.answer_shown = True
            self.console.print(self._rating_bar(card, state))
        elif shown.outcome is not None:
            return self._rate(shown, rating_for(shown.outcome))
        return False

    def _rating_bar(self, card: Card, state, allowed=tuple(Rating)) -> Text:
        intervals = core.preview(card.id, state, self.clock(), self.settings)
        bar = Text()
        for rating in allowed:
            bar.append(f" {int(rating)} ", style=f"bold reverse {RATING_STYLE[rating]}")
            bar.append(
                f" {sched.RATING_NAMES[rating]} {sched.format_interval(intervals[rating])}   "
            )
        return bar

    def _solve(self, shown: _Card, state) -> None:
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
            self.console.print(
                self._rating_bar(card, state, (Rating.Hard, Rating.Good, Rating.Easy))
            )
            self.console.print(Text("Enter: Good · s: edit and run again", style="dim"))
        else:
            self.console.print(self._rating_bar(card, state, (Rating.Again,)))
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
        entry = core.rate(
            self.store,
            shown.card,
            rating,
            self.clock(),
            self.settings,
            method="check" if outcome else "self",
            check_status=outcome.status if outcome else None,
            duration_ms=duration,
        )
        self.done.append(entry)
        after = self.store.state(shown.card.id)
        due = core.fsrs_card(after).due  # type: ignore[union-attr]
        self.console.print(
            Text(
                f"{sched.RATING_NAMES[rating]}: due again in "
                f"{sched.format_interval(due - self.clock())}",
                style="dim",
            )
        )
        if core.is_leech(after) and rating == Rating.Again:
            self.console.print(
                Text(
                    f"{shown.card.id} is a leech (forgotten {after.lapses} times): "
                    f"rewrite it, or `studycli suspend {shown.card.id}`",
                    style="bold yellow",
                )
            )
        return True

    def _hint(self, shown: _Card) -> None:
        if shown.hints_shown < len(shown.card.hints):
            self.console.print(hint_view(shown.card, shown.hints_shown))
            shown.hints_shown += 1

    def _undo(self) -> bool:
        if not self.done:
            self.console.print(Text("nothing to undo in this session", style="yellow"))
            return False
        entry = self.done.pop()
        core.undo(self.store, entry.id, self.clock())  # type: ignore[arg-type]
        self.again_next = self.content.cards.get(entry.card_id)
        self.console.print(Text(f"undone: {entry.card_id} is back as it was", style="yellow"))
        return True

    def _summary(self, seconds: float, interrupted: bool) -> Summary:
        states = self.store.states()
        return Summary(
            reviewed=len(self.done),
            again=sum(1 for r in self.done if r.rating == Rating.Again),
            seconds=seconds,
            next_due=core.next_due(self.cards, states),
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
