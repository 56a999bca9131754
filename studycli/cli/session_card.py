"""The card on screen in a review session: what the learner has seen of it (`_Card`: a
derivation's steps, the answer, hints), the runs of a coding card's answer that failed and the
rating the latest check gives; and what the lines under it say of the keys: those its front
offers (`_front_keys`), what shows the answer (`_answer_key`, said under the last hint), what
a rating key pressed before the answer says (`_rate_later`). `ReviewSession._study` makes a
`_Card` for each card it shows and reads the keys; the `s` run (session_solve.py) and the
rating (session_rating.py) read and update it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from studycli.content.card import Card, Kind
from studycli.study.labels import RATING_NAMES, counted

if TYPE_CHECKING:  # the solve flow, the checking machinery, the scheduler: imported once a card
    # is shown (the first card is on screen sooner)
    from fsrs import Rating

    from studycli.check.runner import Outcome
    from studycli.study.api import Previewed

    from .solve_flow import Hints


class _Card:
    """What the learner has seen of the card on screen."""

    def __init__(self, card: Card, log_mark: int) -> None:
        self.card = card
        # the log's latest review id when shown: another session's rating written after it
        # makes this one moot (`Study.rate`'s `unless_rated_after`)
        self.log_mark = log_mark
        self.steps_shown = 0
        self.steps_read = 0  # steps shown by Enter (not with the answer after a check): help
        self.answer_shown = False
        self.answer_before_check = False  # the answer was read before the code was checked
        self.failed_runs = 0  # checks of the learner's code that failed before the outcome
        self.outcome: Outcome | None = None
        self.help_at_check = 0  # `help_seen` when the latest check ran: what grades its pass
        self.hints_at_answer = 0  # hints shown before Enter showed the answer (`hints_read`)
        self.why_at_check = "first try"  # the same, in words, for the line under a pass
        self.started = time.monotonic()
        self._hints: Hints | None = None
        # the rating bar on screen: what its intervals were computed from (None: no
        # intervals, a cram session), and the ratings it offers (None: all)
        self.bar: tuple[Previewed | None, tuple[Rating, ...] | None] | None = None

    @property
    def hints(self) -> Hints:
        """The card's hints, shown one at a time: made on the first `h`, so that the solve
        flow is imported then, not as the card is shown (where a key pressed during the
        import, Ctrl-C for the editor after `s`, ended the session)."""
        if self._hints is None:
            from .solve_flow import Hints

            self._hints = Hints(self.card)
        return self._hints

    @property
    def hints_shown(self) -> int:
        return self._hints.shown if self._hints is not None else 0

    def hints_read(self) -> str:
        """Under the rating keys of a coding card whose answer Enter showed (rated by the
        learner, no code run: one answered on paper), the hints shown before it, and how a
        check would have graded them: a pass after hints is Hard by default in `s` and
        `solve`, and the learner rating a card themselves was told nothing of them; "" where
        none was shown, or the card has no check. The learner's rating is theirs still, as a
        pass's choice is in `solve` (2, 3 or 4 after hints)."""
        if not self.card.runnable or not self.hints_at_answer:
            return ""
        hints = counted(self.hints_at_answer, "hint")
        return f"{hints} seen first: s and solve grade a pass after hints Hard"

    @property
    def help_seen(self) -> int:
        """Hints, derivation steps and the answer seen so far."""
        return self.hints_shown + self.steps_read + int(self.answer_before_check)

    def help_words(self) -> str:
        """The help seen and the failed runs, in words ("1 hint, 1 failed run first"), as
        `solve` says why its pass is Hard; "first try" when there were none."""
        parts = [counted(self._hints.shown, "hint")] if self._hints and self._hints.shown else []
        if self.steps_read:
            parts.append(f"{counted(self.steps_read, 'step')} read")
        if self.answer_before_check:
            parts.append("the answer read")
        if self.failed_runs:
            parts.append(f"{counted(self.failed_runs, 'failed run')} first")
        return ", ".join(parts) or "first try"

    def check_rating(self, chosen: int | None = None) -> Rating:
        """The rating the latest check gives: help seen before it grades a pass Hard (what is
        read after it, a hint or the steps shown with the answer, does not)."""
        from studycli.check.solve import rating_for

        assert self.outcome is not None
        return rating_for(
            self.outcome, chosen, hints_shown=self.help_at_check, failed_runs=self.failed_runs
        )


def _answer_key(shown: _Card) -> str:
    """What shows the answer of the card on screen, said under its last hint: this session's
    Enter (`studycli show`, which a session's last hint named, is another command, and an
    answer read there is no help the rating of a later pass sees); "" once it is shown."""
    if shown.answer_shown:
        return ""
    if shown.steps_shown < len(shown.card.steps):
        return "Enter shows the next step, then the answer"
    return "Enter shows the answer"


def _front_keys(card: Card, bury: bool = False) -> str:
    """The keys a card's front offers, as the line under it says them (`bury`: in a session
    that reschedules, `b` buries the card until the next study day and `@` suspends it)."""
    return (
        "Enter reveal" + (" step" if card.kind == Kind.DERIVATION else "") + _more_keys(card, bury)
    )


def _keys_now(shown: _Card, bury: bool = False) -> str:
    """The keys that do something now, as a key that does nothing says them: the front's until
    the answer shows; then the ratings, and Enter only where it still does something (after a
    check it takes the check's rating, which alone the keys may give). It said "1-4 rate ·
    Enter reveal" under an answer read, where Enter did nothing, and after a failed check,
    where only 1 rates."""
    card = shown.card
    if shown.outcome is not None:
        rate = "2-4 rate" if shown.outcome.status == "pass" else "1 rate"
        enter = f"Enter {RATING_NAMES[shown.check_rating()]}"
        return f"{rate} · {enter}" + _more_keys(card, bury)
    if shown.answer_shown:
        return "1-4 rate" + _more_keys(card, bury)
    return _front_keys(card, bury)


def _more_keys(card: Card, bury: bool) -> str:
    """The keys after Enter's, each after a " · "."""
    keys = " · s solve" if card.runnable else ""
    keys += " · h hint" if card.hints else ""
    keys += " · b bury · @ suspend" if bury else ""
    return keys + " · u undo · q quit"


def _rate_later(shown: _Card, key: str) -> str:
    """What a rating key pressed before the answer is shown says: nothing is rated yet, and
    the key that gets there."""
    said = f"{key} rates once the answer is shown: {_answer_key(shown)}"
    return said + (" (s checks your code)" if shown.card.runnable else "")
