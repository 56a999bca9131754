"""The interactive study session: one card at a time, keys read one by one.

Enter or space reveals (a derivation one step per press, then the answer); 1-4 rate, each key
labelled with the interval FSRS would give; `s` answers a coding card by running its check
(a pass offers Good, or Hard when it took hints or failed runs); `h` shows the next hint; `b`
buries the card and `@` suspends it (as `studycli suspend` its card's id), neither rating it;
`u` undoes the last rating, or the bury or suspension just made; `q` (or Ctrl-C) ends the
session. Each rating is committed to the store before the next card is drawn.

One session, two uses: `studycli review` draws what is due and reschedules every rating;
`studycli cram` draws a `CramQueue` (weakest first, due or not) and logs its ratings without
moving the schedule. The session takes the queue and a `reschedule` flag.

This module holds `ReviewSession` and its loop: a card shown, its keys read, a step or the
answer revealed, a card buried or suspended. The rest is in modules named for it, each mixed
in or called from here: session_queue.py (`DueQueue`, what is due), session_card.py (`_Card`,
what the learner has seen of the card on screen, and the keys the lines under it offer),
session_rating.py (rating, and `u`), session_solve.py (a coding card's `s`),
session_suspend.py (`@`, imported when it is pressed) and session_summary.py (the session's
end and its summary).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.errors import StoreUnavailable
from studycli.study.api import Review, Study, study_items

from . import render
from .app import print_prose
from .session_card import _answer_key, _Card, _front_keys, _keys_now, _rate_later
from .session_queue import DueQueue, SessionQueue
from .session_solve import SessionSolve
from .session_summary import SessionSummary, Summary, summary_view
from .terminal import ENTER

if TYPE_CHECKING:  # (imported when `@` is pressed)
    from .session_suspend import Suspension


class ReviewSession(SessionSolve, SessionSummary):
    """One study session over `cards` (already filtered by deck, topic and tag); a cloze card
    is studied once per deletion number.

    Args:
        queue: where the cards come from (default: what is due, `DueQueue`).
        reschedule: whether a rating moves the card's schedule (False: cram, logged only).
        cards: the cards; with `card_of`, their study items already (`StudyView.items`).
        card_of: what makes the card of a study item when it is to be shown
            (`study_view.StudyView.card`: no card is made before). `content` then gives the
            session its folder only (for the solutions).
    """

    def __init__(
        self,
        console: Console,
        study: Study,
        content: Content,
        cards: Sequence[Any],
        clock: Callable[[], datetime],
        getkey: Callable[[], str],
        limit: int | None = None,
        tz: tzinfo | None = None,
        *,
        queue: SessionQueue | None = None,
        reschedule: bool = True,
        card_of: Callable[[Any], Card] | None = None,
    ) -> None:
        self.console, self.study, self.content = console, study, content
        self.card_of = card_of
        self.items: list[Any] = list(cards) if card_of else study_items(cards)
        self.settings = study.settings
        self.clock, self.getkey = clock, getkey
        self.queue = queue or DueQueue(study, self.items, clock, limit, tz)
        self.reschedule, self.tz = reschedule, tz
        self.done: list[Review] = []  # this session's ratings, for undo and the summary
        self.buried: Card | None = None  # the card `b` buried, while nothing came after it
        self.suspended: Suspension | None = None  # what `@` suspended, while nothing came after
        self.buries = self.suspensions = 0  # `b`s and `@`s, less those `u` took back
        self.limit = limit
        self.past_limit = 0  # the cards the limit left that could be studied now
        self.seen: set[str] = set()

    def run(self) -> Summary:
        """Study until nothing is due, `q`, or Ctrl-C; returns the summary (also printed)."""
        started = time.monotonic()
        interrupted = finished = False
        try:
            while (card := self._next()) is not None or self._last_taken_back():
                if card is not None and self._study(card) == "quit":
                    break
            else:
                finished = True
                self.past_limit = getattr(self.queue, "past_limit", lambda: 0)()
                print_prose(  # (a path in it, the settings file's, stays whole)
                    self.console, self._finished(), style="bold", markup=False, emoji=False,
                    highlight=False,
                )  # fmt: skip
        except (KeyboardInterrupt, EOFError) as stopped:
            # Ctrl-C: the command exits 130, as every command a Ctrl-C ends; Ctrl-D (the end
            # of input) ends the session as `q` does
            interrupted = isinstance(stopped, KeyboardInterrupt)
            if interrupted:  # (Ctrl-D is no interruption: it said "interrupted" and exited 0)
                self.console.print("\n[yellow]interrupted[/]: every rating so far is saved")
        summary = self._summary(time.monotonic() - started, interrupted, finished)
        self.console.print(summary_view(summary, self.clock()))
        return summary

    def _last_taken_back(self) -> bool:
        """With nothing left after a bury or a suspension, the session ended at once, and the
        `u` that takes it back (a `b` or `@` pressed by mistake) came too late: it is offered
        first, with what ends the session: nothing else due, or `--limit` reached (where the
        next line says the cards left: "nothing else is due now" over "3 more cards can be
        studied now" read as a contradiction)."""
        ended = "nothing else is due now"
        held = self.buried is not None or self.suspended is not None
        if held and getattr(self.queue, "past_limit", lambda: 0)():
            ended = f"--limit {self.limit} is reached"
        while True:  # (again after a `u` the database was too busy for: said by `_undo`)
            if self.buried is not None:
                undo = f"u unburies {self.buried.id}"
            elif self.suspended is not None:
                undo = f"u unsuspends {self.suspended.card_id}"
            else:
                return False
            self.console.print(Text(f"{undo} ({ended}), any other key ends the session", "yellow"))
            if self.getkey() != "u":
                return False
            if self._undo():
                return True

    def _next(self) -> Card | None:
        item = self.queue.next()
        return item if item is None or self.card_of is None else self.card_of(item)

    def _study(self, card: Card) -> str:
        """Show `card` and handle keys until it is rated, undone past, or the session quits."""
        self.seen.add(card.id)
        self._show_front(card)
        shown = _Card(card, self.study.latest_review_id())
        while True:
            key = self.getkey()
            if key in ENTER or key == " ":
                if self._reveal(shown):
                    return "rated"
            elif len(key) == 1 and key in "1234":
                if not (shown.answer_shown or shown.outcome):  # said, not ignored: ignored,
                    # the session looked stuck to a learner rating before revealing
                    self.console.print(Text(_rate_later(shown, key), style="yellow"))
                    continue
                from fsrs import Rating

                if self._rate(shown, Rating(int(key))):
                    return "rated"
            elif key == "s" and card.runnable:
                self._solve(shown)
            elif key == "h" and card.hints:
                self.console.print(shown.hints.next(_answer_key(shown)))
            elif key == "u":
                if self._undo():
                    return "undone"
            elif key == "q":
                return "quit"
            elif key == "b" and self.reschedule:
                if self._bury(card):
                    return "buried"
            elif key == "@" and self.reschedule:
                if self._suspend(card):
                    return "suspended"
            else:
                render.said_no_key(self.console, key, _keys_now(shown, self.reschedule))

    def _bury(self, card: Card) -> bool:
        """Leave `card` out until the next study day's start (Anki's bury: not rated, its schedule
        unchanged), and out of this session (until `u` takes it back). False where the
        database cannot take it now (said: the card stays on screen, `b` tries again)."""
        try:
            back = self.study.bury(card, self.clock(), self.tz)
        except StoreUnavailable as busy:  # (it ended the session, as a rating did)
            self._not_kept_out(f"{card.id} was not buried", busy, "b")
            return False
        self._leave_unrated(card)
        self.buried, self.suspended = card, None
        self.buries += 1
        when = back.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        self.console.print(
            Text(f"buried until the next study day ({when}): not rated", style="dim")
        )
        return True

    def _suspend(self, card: Card) -> bool:
        """Keep `card` out of reviews as `studycli suspend` keeps its card's id (a cloze card:
        every deletion), not rated, and out of this session (until `u` takes it back). False
        where the database cannot take it now (said: the card stays on screen)."""
        from .session_suspend import already, suspend  # (on `@` only: not at start-up)

        try:
            suspension = suspend(self.study, card)
        except StoreUnavailable as busy:
            self._not_kept_out(f"{card.card_id} was not suspended", busy, "@")
            return False
        self.suspended, self.buried = suspension, None
        self.suspensions += self.suspended is not None  # (not one suspended already)
        self._leave_unrated(card)
        said = self.suspended.said() if self.suspended else already(card)
        # unwrapped: the command in it copies in one piece, as `studycli suspend` prints it
        self.console.print(Text(said, style="dim"), soft_wrap=True)
        return True

    def _show_front(self, card: Card) -> None:
        if card.runnable:  # keys typed from its front on, while its worker starts (below),
            from .terminal import hold_quiet  # wait for the session, unechoed

            hold_quiet()
        self.console.rule(Text(self.queue.status(), style="dim"))
        flags = self.study.flags(card)
        if flags:
            self.console.print(Text(" · ".join(flags), style="bold yellow"))
        self.console.print(render.header(card))
        self.console.print(render.prompt(card))
        self.console.print(render.KeyLine(_front_keys(card, self.reschedule)))
        if card.runnable:  # its check's worker gets torch imported while the learner reads;
            # started once the front is on screen, so that the front never waits for it
            self.console.file.flush()
            from studycli.check.solve import warm_up

            warm_up(card, self.content)
            # and its contract, which its rating records, made now while the learner reads:
            # on the cache's miss (a card never rated) it took 20-90 ms between the rating's
            # key and the next card (`contract_cache` keeps it for the rating)
            self.study.contract(card)

    def _reveal(self, shown: _Card) -> bool:
        """Show the next step or the answer; after a check, Enter takes its rating (True), as
        the line under the check's outcome says."""
        card = shown.card
        if shown.outcome is not None:
            return self._rate(shown, shown.check_rating())
        if shown.steps_shown < len(card.steps):
            self.console.print(render.step(card, shown.steps_shown))
            shown.steps_shown += 1
            shown.steps_read += 1
        elif not shown.answer_shown:
            self.console.print(render.answer(card))
            shown.answer_shown = True
            shown.answer_before_check = True
            shown.hints_at_answer = shown.hints_shown
            self._offer_ratings(shown)
        else:  # said, not ignored: Enter or space again (Anki's Good) did nothing without a word
            keys = _keys_now(shown, self.reschedule)
            self.console.print(render.KeyLine(f"the answer is shown: {keys}", "yellow"))
        return False
