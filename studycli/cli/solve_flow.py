"""The solve flow on a terminal: edit the attempt, run the check, show what failed; `--watch`.

Shared by `studycli solve` and the `s` key of `studycli review`. The work itself (attempt
files, the isolated check, the rating) is in `solve.py`; this module only talks to the learner.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fsrs import Rating
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.errors import StudyError
from studycli.study.labels import RATING_NAMES

from .terminal import ENTER, key_poller

if TYPE_CHECKING:  # the checking machinery is imported on the first check, not to show a card
    from studycli.check.runner import Outcome


@dataclass(frozen=True)
class Limits:
    timeout: float
    memory_mb: int


@dataclass(frozen=True)
class Attempt:
    """How an answer was reached: the last check's outcome, the hints shown and the failed
    checks before it (a pass with either is graded Hard by default)."""

    outcome: Outcome
    hints_shown: int = 0
    failed_runs: int = 0

    def rating(self, chosen: int | None = None) -> Rating:
        from studycli.check import solve

        return solve.rating_for(
            self.outcome, chosen, hints_shown=self.hints_shown, failed_runs=self.failed_runs
        )

    def how(self) -> str:
        """Why the default rating is what it is, in a few words."""
        if self.outcome.status != "pass":
            return "the check did not pass"
        reasons = []
        if self.hints_shown:
            reasons.append(f"{self.hints_shown} hint{'s' if self.hints_shown != 1 else ''}")
        if self.failed_runs:
            reasons.append(
                f"{self.failed_runs} failed run{'s' if self.failed_runs != 1 else ''} first"
            )
        return ", ".join(reasons) if reasons else "first try"


def choose_rating(console: Console, attempt: Attempt, getkey: Callable[[], str]) -> Rating:
    """After a pass: offer Hard, Good and Easy with the graded default on Enter."""
    default = attempt.rating()
    bar = Text()
    for rating in (Rating.Hard, Rating.Good, Rating.Easy):
        bar.append(f" {int(rating)} ", style="bold reverse")
        bar.append(f" {RATING_NAMES[rating]}   ")
    console.print(bar)
    console.print(
        Text(f"Enter: {RATING_NAMES[default]} ({attempt.how()}) · 2, 3 or 4 to choose", style="dim")
    )
    while True:
        key = getkey()
        if key in ENTER:
            return default
        if key in ("2", "3", "4"):
            return Rating(int(key))


def edit(console: Console, path: Path, getkey: Callable[[], str] | None) -> None:
    """Open $VISUAL/$EDITOR on `path`; without one, ask the learner to edit it and press Enter.

    Raises:
        StudyError: no editor is set and there is no terminal to wait on (`getkey` is None).
    """
    from studycli.check import solve

    command = solve.editor_command()
    if command is not None:
        solve.open_editor(path, command)
        return
    if getkey is None:
        raise StudyError(
            f"no editor: set $EDITOR (e.g. export EDITOR=nano), or edit {path} "
            "yourself and run the check with --no-edit"
        )
    console.print(
        f"No $EDITOR is set: edit [bold]{escape(str(path))}[/] in your editor, save, "
        "then press Enter here. (Set $EDITOR to open it for you.)"
    )
    while getkey() not in ENTER:
        pass


def check(console: Console, card: Card, content: Content, path: Path, limits: Limits) -> Outcome:
    """Run the check on `path` and show the outcome."""
    from studycli.check import solve

    console.print(
        Text(
            f"checking {path.name} (limit {limits.timeout:g} s, {limits.memory_mb} MB) ...",
            style="dim",
        )
    )
    outcome = solve.run_check(
        card, content, path, timeout=limits.timeout, memory_mb=limits.memory_mb
    )
    console.print(outcome_view(outcome))
    return outcome


def outcome_view(outcome: Outcome):
    """Pass, or the failing case: the call, expected vs actual, the learner's traceback."""
    from rich.syntax import Syntax
    from rich.table import Table

    from studycli.check import solve

    if outcome.status == "pass":
        return Text(f"✓ passed every case in {outcome.seconds:.2f} s", style="bold green")
    title = {"fail": "✗ failed", "error": "✗ error", "timeout": "✗ timeout"}[outcome.status]
    parts: list = [Text(outcome.message)]
    case = solve.failing_case(outcome.message) if outcome.status == "fail" else None
    if case is not None:
        table = Table(show_header=False, box=None, padding=(0, 1))
        table.add_row(Text("call", style="dim"), Text(case.what))
        table.add_row(Text("expected", style="green"), Text(case.expected, style="green"))
        table.add_row(Text("actual", style="red"), Text(case.actual, style="red"))
        parts = [table, *[Text(line, style="yellow") for line in outcome.message.splitlines()[1:]]]
    if outcome.traceback:
        parts.append(Syntax(outcome.traceback.rstrip(), "pytb", theme="ansi_dark"))
    if outcome.output.strip():
        parts.append(
            Panel(
                Text(outcome.output.rstrip()[-2000:]),
                title="your output",
                title_align="left",
                border_style="dim",
            )
        )
    return Panel(Group(*parts), title=title, title_align="left", border_style="red")


class Hints:
    """A card's hints, shown one more at each request (the review session and `--watch`)."""

    def __init__(self, card: Card) -> None:
        self.card = card
        self.shown = 0

    def next(self) -> RenderableType:
        """The next hint's panel, or a line saying there are no more."""
        hints = self.card.hints
        if self.shown >= len(hints):
            return Text("no more hints: `studycli show --answer` shows the answer", style="dim")
        self.shown += 1
        return Panel(
            Text(hints[self.shown - 1]),
            title=f"Hint {self.shown} of {len(hints)}",
            title_align="left",
            border_style="yellow",
        )


WATCH_POLL = 0.05  # seconds between looks at the file: a save is checked this soon at most


def watch(console: Console, card: Card, content: Content, path: Path, limits: Limits) -> Attempt:
    """Check `path`, then again on every save until it passes; `h` shows the next hint,
    `q` stops. Returns the last outcome, with the hints shown and the failed runs before it:
    checks of the learner's code, not of the untouched starter (checked when the watch starts,
    or saved unchanged), which is no attempt of theirs."""
    from studycli.check import solve

    console.print(f"watching [bold]{escape(str(path))}[/]: save to re-run · h next hint · q stop")
    hints = Hints(card)
    seen = _stamp(path)
    counts = not solve.is_untouched(card, content, path)  # the starter's check is no attempt
    outcome = check(console, card, content, path, limits)
    failed = 0
    with key_poller() as poll:
        while outcome.status != "pass":
            key = poll(WATCH_POLL)
            if key == "q":
                break
            if key == "h":
                console.print(hints.next())
            stamp = _stamp(path)
            if stamp != seen:
                seen = stamp
                if counts:  # the check before this one did not pass
                    failed += 1
                counts = not solve.is_untouched(card, content, path)
                outcome = check(console, card, content, path, limits)
    return Attempt(outcome, hints_shown=hints.shown, failed_runs=failed)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size
