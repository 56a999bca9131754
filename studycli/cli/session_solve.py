"""A coding card's `s` key in a review session: its attempt opened in the editor, checked,
the outcome shown with the whole answer, and the rating keys the check leaves (a pass: Hard,
Good or Easy, Enter taking the one the help seen gives; a failure: Again). A part of
`ReviewSession` (review_session.py), which mixes it in. The solve flow it runs (the editor,
the check on a terminal) is `solve_flow.py`, shared with `studycli solve`; the work itself
(attempt files, the isolated check) is `check/solve.py` (with `attempt_files.py` and
`starters.py`). They are imported at the first `s`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from studycli.content.loader import Content
from studycli.errors import StudyError
from studycli.study.settings import Settings

from . import render
from .session_rating import SessionRating

if TYPE_CHECKING:
    from .session_card import _Card


class SessionSolve(SessionRating):
    """The `s` key of `ReviewSession`, which sets what it reads (below); after a check it
    offers the rating keys (`SessionRating._offer_ratings`)."""

    console: Console
    content: Content
    settings: Settings
    getkey: Callable[[], str]

    def _solve(self, shown: _Card) -> None:
        try:  # (0.1 s the first time: a Ctrl-C meant for the editor can come meanwhile)
            from fsrs import Rating

            from studycli.check.attempt_files import follow_rename
            from studycli.check.solve import compiles, ensure_attempt, unanswered
            from studycli.check.starters import is_untouched, starter_kind

            from .solve_flow import (
                Limits,
                StoppedAtPrompt,
                changed_starter,
                check,
                edit,
                stopped_by,
            )
        except KeyboardInterrupt:  # the attempt stops, not the session
            self.console.print(
                Text(
                    "stopped: Ctrl-C pressed; nothing was checked (s opens it again)",
                    style="yellow",
                )
            )
            return
        card = shown.card
        limits = Limits(self.settings.check_timeout, self.settings.check_memory_mb)
        if said := follow_rename(card, self.content):  # (unwrapped: its path copies in one piece)
            self.console.print(Text(said, style="dim"), soft_wrap=True)
        try:
            path = ensure_attempt(card, self.content)
            edit(
                self.console,
                path,
                self.getkey,
                lambda: is_untouched(card, self.content, path),
            )
        except StudyError as exc:  # a broken editor or card ends this attempt, not the session
            self.console.print(Text(f"error: {exc}", style="bold red"))
            return
        except KeyboardInterrupt as stopped:  # in the editor or at its prompt: no check started
            self.console.print(
                Text(
                    f"stopped: {stopped_by(stopped)}; "
                    f"nothing was checked ({path.name} is as it was last saved; "
                    f"s {'asks' if isinstance(stopped, StoppedAtPrompt) else 'opens it'} again)",
                    style="yellow",
                )
            )
            return
        try:
            kind = starter_kind(card, self.content, path)
            if kind is not None:  # no attempt: nothing checked or shown
                # the whole path, unwrapped: where to write the answer, for an editor that
                # did not wait (or none of studycli's), copied in one piece
                said = (
                    changed_starter(path)
                    if kind == "older"
                    else f"{path} is still the starter: write your answer in it"
                )
                self.console.print(
                    Text(
                        f"{said}, save, and press s again (Enter shows the answer)", style="yellow"
                    ),
                    soft_wrap=True,
                )
                return
            compiled = compiles(path)
            outcome = check(self.console, card, self.content, path, limits)
        except StudyError as exc:  # a broken editor or card ends this attempt, not the session
            self.console.print(Text(f"error: {exc}", style="bold red"))
            return
        except KeyboardInterrupt:  # stops the check, not the session (a second one ends it)
            self.console.print(
                Text(
                    "stopped: Ctrl-C pressed; the check did not finish, so nothing changed "
                    "(s runs it again)",
                    style="yellow",
                )
            )
            return
        if why := unanswered(compiled, outcome):  # a typo costs no recall: the answer stays
            # hidden (it was shown, and only Again was left, for a missing colon or a misnamed
            # function); it counts as a failed run, as a save left not compiling does in
            # `solve --watch`. A check the machine starved of CPU judged nothing: no run.
            busy = outcome.status == "busy"
            shown.failed_runs += 0 if busy else 1  # (an earlier run's is counted at the next)
            fix = "press s to run it again" if busy else "fix it, save, and press s again"
            said = f"{path.name} {why}"
            if outcome.missing:  # (its check's line named the function and those it defines)
                said = f"{path.name}'s answer was never called"
            self.console.print(Text(f"{said}: {fix} (Enter shows the answer)", style="yellow"))
            return
        if shown.outcome is not None and shown.outcome.status != "pass":
            shown.failed_runs += 1
        shown.outcome = outcome
        shown.help_at_check, shown.why_at_check = shown.help_seen, shown.help_words()
        if not shown.answer_shown:  # the whole answer: a derivation's steps not read yet too
            for step in range(shown.steps_shown, len(card.steps)):
                self.console.print(render.step(card, step))
            shown.steps_shown = len(card.steps)
            self.console.print(render.answer(card))
            shown.answer_shown = True
        passed = outcome.status == "pass"  # (the line under the keys says what Enter gives)
        self._offer_ratings(
            shown, (Rating.Hard, Rating.Good, Rating.Easy) if passed else (Rating.Again,)
        )
