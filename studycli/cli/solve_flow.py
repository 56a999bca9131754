"""The solve flow on a terminal: edit the attempt, run the check, show what failed; `--watch`.

Shared by `studycli solve` and the `s` key of `studycli review`. The work itself (attempt
files, the isolated check, the rating) is in `solve.py`; this module only talks to the learner.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from studycli.check import solve
from studycli.check.runner import Outcome
from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.errors import StudyError

from .terminal import ENTER, key_poller


@dataclass(frozen=True)
class Limits:
    timeout: float
    memory_mb: int


def edit(console: Console, path: Path, getkey: Callable[[], str] | None) -> None:
    """Open $VISUAL/$EDITOR on `path`; without one, ask the learner to edit it and press Enter.

    Raises:
        StudyError: no editor is set and there is no terminal to wait on (`getkey` is None).
    """
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


def watch(console: Console, card: Card, content: Content, path: Path, limits: Limits) -> Outcome:
    """Check `path`, then again on every save until it passes; `h` shows the next hint,
    `q` stops. Returns the last outcome."""
    console.print(f"watching [bold]{escape(str(path))}[/]: save to re-run · h next hint · q stop")
    hints = Hints(card)
    seen = _stamp(path)
    outcome = check(console, card, content, path, limits)
    with key_poller() as poll:
        while outcome.status != "pass":
            key = poll(0.2)
            if key == "q":
                break
            if key == "h":
                console.print(hints.next())
            stamp = _stamp(path)
            if stamp != seen:
                seen = stamp
                outcome = check(console, card, content, path, limits)
    return outcome


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size
