"""The solve flow on a terminal: edit the attempt, run the check, show what failed; `--watch`.

Shared by `studycli solve` and the `s` key of `studycli review`. The work itself (attempt
files, the isolated check, the rating) is in `check/`'s `solve.py` (with `attempt_files.py`,
`starters.py`, `editor.py`); this module only talks to the learner.
Its parts: solve_run.py (a check running in a thread), solve_watch.py (`--watch`) and
check_outcome.py (the outcome shown).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fsrs import Rating
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.text import Text

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.errors import StudyError
from studycli.study.labels import RATING_NAMES, rating_label

from .check_outcome import as_shown, outcome_view
from .solve_run import WATCH_POLL, _Run
from .terminal import ENTER, normal_terminal

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
    # what makes the outcome no failed recall, in words (`solve.unanswered`: a file that does
    # not compile, or defines no function of the card's name); "" for a check of the answer
    typo: str = ""

    def rating(self, chosen: int | None = None) -> Rating:
        from studycli.check import solve

        return solve.rating_for(
            self.outcome, chosen, hints_shown=self.hints_shown, failed_runs=self.failed_runs
        )

    def how(self) -> str:
        """Why the default rating is what it is, in a few words: of this solve's checks (one
        recorded earlier, Again, is in the card's history already: counted again, it would be
        counted twice), and so said ("first try" alone, after an earlier solve's Again, read
        as untrue)."""
        if self.outcome.status != "pass":
            return "the check did not pass"
        reasons = []
        if self.hints_shown:
            reasons.append(f"{self.hints_shown} hint{'s' if self.hints_shown != 1 else ''}")
        if self.failed_runs:
            reasons.append(
                f"{self.failed_runs} failed run{'s' if self.failed_runs != 1 else ''} first"
            )
        return ", ".join(reasons) if reasons else "first try this solve"


def choose_rating(
    console: Console,
    attempt: Attempt,
    getkey: Callable[[], str],
    intervals: Mapping[Rating, timedelta] | None = None,
    *,
    ahead: str | None = None,
) -> Rating | None:
    """After a pass: offer Hard, Good and Easy, each with the interval it gives (`intervals`,
    where known), with the graded default on Enter; None when the learner chooses to record
    nothing (q). `ahead`: the study day the card is due on, where it is solved ahead of it,
    said beside q (the line before the editor saying so may have scrolled away, or been
    hidden by it).

    Raises:
        KeyboardInterrupt: Ctrl-C.
    """
    default = attempt.rating()
    from .render import KeyBar, KeyLine, said_no_key

    choices = (Rating.Hard, Rating.Good, Rating.Easy)
    console.print(
        KeyBar(
            [
                (str(int(r)), rating_label(r, (intervals or {}).get(r)), "bold reverse")
                for r in choices
            ]
        )
    )
    console.print(
        KeyLine(
            f"Enter: {RATING_NAMES[default]} ({attempt.how()}) · 2, 3 or 4 to choose · "
            f"q: record nothing{f' (not due until {ahead})' if ahead else ''}"
        )
    )
    while True:
        key = getkey()
        if key in ENTER:
            return default
        if key == "q":
            return None
        if key in ("2", "3", "4"):
            return Rating(int(key))
        said_no_key(  # (1, Again, is no choice once the check passed)
            console,
            key,
            f"Enter {RATING_NAMES[default]} · 2, 3 or 4 to choose · q record nothing",
            "the check passed: 1 is no choice here" if key == "1" else "",
        )


class StoppedAtPrompt(KeyboardInterrupt):
    """Ctrl-C, Ctrl-D or q (`key`) at the prompt that waits while the learner edits the
    attempt in an editor of their own (no $EDITOR set): no editor ran, so none was ended."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def stopped_by(interrupt: KeyboardInterrupt) -> str:
    """What ended an `edit`: "Ctrl-C ended the editor", or "q at the prompt"."""
    if isinstance(interrupt, StoppedAtPrompt):
        return f"{interrupt.key} at the prompt"
    return "Ctrl-C ended the editor"


def edit(
    console: Console,
    path: Path,
    getkey: Callable[[], str] | None,
    untouched: Callable[[], bool] = lambda: False,
) -> None:
    """Open $VISUAL/$EDITOR on `path`; without one, ask the learner to edit it and press Enter.
    An editor back at once with the file unchanged, `untouched()` (still the starter), is
    said to have not waited (`WINDOW_EDITOR`).

    Raises:
        StudyError: no editor is set and there is no terminal to wait on (`getkey` is None).
        KeyboardInterrupt: the editor itself was ended by a Ctrl-C; StoppedAtPrompt (a
            KeyboardInterrupt) when no editor is set and q, Ctrl-C or Ctrl-D came at the
            prompt (q gives the attempt up, as at the other prompts).
    """
    from studycli.check import editor

    command = editor.editor_command()
    if command is not None:
        with normal_terminal():  # the terminal as the session found it
            at_once = editor.open_editor(path, command)
        if at_once and untouched():  # (one who wrote the answer before, and closed the
            # editor at once, has it checked without a word)
            from .app import print_prose  # (piped, one line: Rich broke it at 80 columns)

            said = WINDOW_EDITOR.format(command=" ".join(command))
            print_prose(console, said, style="yellow", markup=False)
        return
    if getkey is None:
        raise StudyError(
            f"no editor: set $EDITOR (e.g. export EDITOR=nano), or edit {path} "
            "yourself and run the check with --no-edit"
        )
    # the key reader's modules imported before the prompt shows: a Ctrl-C that came while
    # `getkey` imported them could land in the import system's lock callback, where Python
    # ignores it ("Exception ignored ... KeyboardInterrupt"), and the prompt waited on
    import termios  # noqa: F401
    import tty  # noqa: F401

    try:
        console.print(
            f"No $EDITOR is set: edit [bold]{escape(str(path))}[/] in your editor, save, "
            "then press Enter here, or q to give up. (Set $EDITOR to open it for you.)"
        )
        while (key := getkey()) not in ENTER and key != "q":
            pass
    except KeyboardInterrupt:
        raise StoppedAtPrompt("Ctrl-C") from None
    except EOFError:  # (Ctrl-D: `solve` said only "Aborted.")
        raise StoppedAtPrompt("Ctrl-D") from None
    if key == "q":
        raise StoppedAtPrompt("q")


# (what follows it says what became of the starter: `solve` checks it and records nothing,
# `review` checks nothing; "the starter is checked as it is" was wrong in review)
WINDOW_EDITOR = (
    "the editor {command!r} returned at once, the file unchanged: an editor that opens a "
    "window returns before you write unless told to wait (code --wait, subl -w, gedit -s: set "
    "$EDITOR so)"
)


def check(console: Console, card: Card, content: Content, path: Path, limits: Limits) -> Outcome:
    """Run the check on `path` and show the outcome.

    Raises:
        KeyboardInterrupt: Ctrl-C during the check, once the check is stopped (its process
            killed, the runner ready for the next one).
    """
    run = _Run(console, card, content, path, limits)
    try:
        while not run.finished.wait(WATCH_POLL):
            pass
    except KeyboardInterrupt:
        run.stop(console, None)
        raise
    outcome = run.result()
    _show(console, outcome, card, content, path)
    return outcome


def _show(console: Console, outcome: Outcome, card: Card, content: Content, path: Path) -> None:
    """The outcome, then, for an attempt file written from a starter that has changed since
    (its check fails only with NotImplementedError), how to get the new starter. (Not for a
    file given with --file: deleting that one gives no starter.)"""
    from studycli.check.attempt_files import attempt_path
    from studycli.check.starters import is_older_starter

    if outcome.missing:  # the answer never called: one line, no failure's panel (`misnamed`)
        misnamed(console, outcome)
    else:
        console.print(outcome_view(outcome))
    if (
        outcome.status != "pass"
        and path == attempt_path(card.id)
        and is_older_starter(card, content, path)
    ):
        from .app import print_prose  # (a path to delete: whole, on a terminal and piped)

        print_prose(console, changed_starter(path), style="yellow", markup=False)


def misnamed(console: Console, outcome: Outcome) -> None:
    """An attempt that defines no function of the card's name, said once: its check's message
    names the function wanted and those the attempt defines ("attempt.py defines no function
    'add_one': it defines add_on instead; name the answer add_one"). It was a failure's red
    panel, and the line under it (`solve`'s "not recorded", review's "press s again") said
    "defines no function add_one" again: that line says what follows, and why, alone."""
    from .app import print_prose  # (piped, one line: a script reads it whole)

    print_prose(console, f"✗ {as_shown(outcome.message)}", style="yellow", markup=False)


def changed_starter(path: Path) -> str:
    """What to say of an attempt file that is a starter the card no longer has."""
    return (
        f"{path.name} is still a starter, but the card's starter has changed since the file "
        f"was written: delete {path} to get the new one, or write your answer in it"
    )


class Hints:
    """A card's hints, shown one more at each request (the review session and `--watch`)."""

    def __init__(self, card: Card) -> None:
        self.card = card
        self.shown = 0

    def next(self, answer: str | None = None) -> RenderableType:
        """The next hint's panel, or a line saying there are no more and how to see the answer:
        `answer` ("" where it is on screen already), by default `studycli show`'s command."""
        hints = self.card.hints
        if self.shown >= len(hints):
            if answer is None:
                answer = f"`studycli show {self.card.id} --answer` shows the answer"
            return Text("no more hints" + (f": {answer}" if answer else ""), style="dim")
        from .render import hint

        self.shown += 1
        return hint(hints[self.shown - 1], f"Hint {self.shown} of {len(hints)}")
