"""The interactive study session: one card at a time, keys read one by one.

Enter or space reveals (a derivation one step per press, then the answer); 1-4 rate, each key
labelled with the interval FSRS would give; `s` answers a coding card by running its check
(a pass offers Good, or Hard when it took hints or failed runs); `h` shows the next hint; `u`
undoes the last rating; `q` (or Ctrl-C) ends the session. Each rating is committed to the
store before the next card is drawn.

One session, two uses: `studycli review` draws what is due and reschedules every rating;
`studycli cram` draws a `CramQueue` (weakest first, due or not) and logs its ratings without
moving the schedule. The session takes the queue and a `reschedule` flag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.text import Text

from studycli.content.card import Card, Kind
from studycli.content.loader import Content
from studycli.errors import (
    ClockBehind,
    RatedElsewhere,
    StoreUnavailable,
    StudyError,
    UndoneAlready,
)
from studycli.study.api import Review, ReviewMethod, Study, study_items
from studycli.study.labels import (
    AGAIN,
    EASY,
    GOOD,
    HARD,
    RATING_NAMES,
    counted,
    format_interval,
    held_new_note,
    held_reviews_note,
    rating_label,
)
from studycli.study.queue import Due

from . import render
from .terminal import ENTER

if TYPE_CHECKING:  # the solve flow, the checking machinery, the scheduler: imported once a card
    # is shown (the first card is on screen sooner)
    from fsrs import Rating

    from studycli.check.runner import Outcome

    from .solve_flow import Hints

RATING_STYLE = {AGAIN: "red", HARD: "yellow", GOOD: "green", EASY: "cyan"}


class Summary:
    """What a session did: ratings, Agains, time, the next due time, whether Ctrl-C ended it.
    (Plain classes here, not dataclasses: a dataclass costs ~0.5 ms of `review`'s start-up.)"""

    def __init__(
        self,
        reviewed: int = 0,
        again: int = 0,
        seconds: float = 0.0,
        next_due: datetime | None = None,
        interrupted: bool = False,
    ) -> None:
        self.reviewed, self.again, self.seconds = reviewed, again, seconds
        self.next_due, self.interrupted = next_due, interrupted

    @property
    def again_rate(self) -> float:
        return self.again / self.reviewed if self.reviewed else 0.0


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
        self.why_at_check = "first try"  # the same, in words, for the line under a pass
        self.started = time.monotonic()
        self._hints: Hints | None = None

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
    def help_seen(self) -> int:
        """Hints, derivation steps and the answer seen so far."""
        shown = self._hints.shown if self._hints is not None else 0
        return shown + self.steps_read + int(self.answer_before_check)

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
    that reschedules, `b` buries the card until tomorrow)."""
    keys = "Enter reveal" + (" step" if card.kind == Kind.DERIVATION else "")
    keys += " · s solve" if card.runnable else ""
    keys += " · h hint" if card.hints else ""
    keys += " · b bury" if bury else ""
    return keys + " · u undo · q quit"


def _rate_later(shown: _Card, key: str) -> str:
    """What a rating key pressed before the answer is shown says: nothing is rated yet, and
    the key that gets there."""
    said = f"{key} rates once the answer is shown: {_answer_key(shown)}"
    return said + (" (s checks your code)" if shown.card.runnable else "")


class SessionQueue(Protocol):
    """Where a session's cards come from."""

    def next(self) -> Card | None:
        """The card to show now; None when the session is done."""

    def rated(self, item: Card, rating: Rating) -> None:
        """`item`, just shown, was rated."""

    def undone(self, item: Card, rating: Rating) -> None:
        """The rating of `item` was undone: it comes back next."""

    def left(self, item: Card) -> None:
        """`item`, just shown, leaves the session unrated: buried, or rated but the rating not
        saved (another session's came first, or the clock is behind its last review). It is
        not shown again this session."""

    def status(self) -> str:
        """The line above each card."""


class DueQueue:
    """What is due, drawn afresh from the store after every rating (`studycli review`). With
    a limit, once that many cards were shown only those are finished."""

    def __init__(
        self,
        study: Study,
        items: list[Card],
        clock: Callable[[], datetime],
        limit: int | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.study, self.items, self.clock, self.limit, self.tz = study, items, clock, limit, tz
        self.seen: set[str] = set()
        self.unsaved: set[str] = set()  # rated, the rating not saved: left for this session
        self.again_next: Card | None = None  # the card an undo brings back
        self._front: Due | None = None  # what was due when `next` picked, for `status`

    def _due(self) -> Due:
        pool = [c for c in self.items if c.id not in self.unsaved] if self.unsaved else self.items
        if self.limit is not None and len(self.seen) >= self.limit:
            pool = [c for c in pool if c.id in self.seen]  # only finish what was started
        return self.study.queue(pool, self.clock(), self.tz)

    def next(self) -> Card | None:
        if self.again_next is not None:
            return self.again_next
        self._front = self._due()
        card = self._front.next()
        if card is not None:
            self.seen.add(card.id)
        return card

    def rated(self, item: Card, rating: Rating) -> None:
        self.again_next = None

    def undone(self, item: Card, rating: Rating) -> None:
        self.again_next = item

    def left(self, item: Card) -> None:
        self.again_next = None
        self.unsaved.add(item.id)  # (still due: drawn afresh, it would come first again)

    def unburied(self, item: Card) -> None:
        """`item`, buried by this session, was taken back: it comes next."""
        self.unsaved.discard(item.id)
        self.again_next = item

    def held_new(self) -> int:
        """How many new cards the last queue drawn held back: the day's new limit is reached."""
        return self._front.held_new if self._front is not None else 0

    def held_reviews(self) -> int:
        """How many reviews due today the day's review limit holds back (at the session's end:
        a queue reads only the reviews it can show, so they are counted here, at once)."""
        if self._front is None or self._front.review:
            return 0
        pool = [c for c in self.items if c.id not in self.unsaved]
        return self.study.due_counts(pool, self.clock()).held_reviews

    def past_limit(self) -> int:
        """How many cards the session's limit left that could be studied now (another
        `studycli review` shows them): 0 without a limit, or where it cut nothing off."""
        if self.limit is None or len(self.seen) < self.limit:
            return 0
        return self._studiable(also_left=self.seen)

    def left_now(self) -> int:
        """How many cards another `studycli review` would show now, the one on screen
        included, once the session was left before its end (q, Ctrl-C)."""
        return self._studiable()

    def _studiable(self, also_left: Container[str] = frozenset()) -> int:
        """How many cards are due now (learning, review or new: not one in learning that
        would be shown early, ahead), less those left for this session and `also_left`."""
        pool = [c for c in self.items if c.id not in self.unsaved and c.id not in also_left]
        due = self.study.queue(pool, self.clock(), self.tz)
        return len(due.learning) + len(due.review) + len(due.new)

    def status(self) -> str:
        due, self._front = self._front or self._due(), None  # one queue per card shown
        learning, review, new, ahead = self._left(due)
        return f"new {new} · learning {learning + ahead} · review {review}"

    def _left(self, due: Due) -> list[int]:
        """How many of `due`'s learning, review, new and ahead cards this session still shows,
        the one on screen included. With a limit, a card already shown counts (it is finished),
        and the others only as far as the limit leaves room, in the order they come."""
        groups = (due.learning, due.review, due.new, due.ahead)  # `Due.next`'s order
        if self.limit is None:
            return [len(group) for group in groups]
        room, counts = self.limit - len(self.seen), []
        for group in groups:
            shown = sum(1 for card in group if card.id in self.seen)
            taken = min(room, len(group) - shown)
            room -= taken
            counts.append(shown + taken)
        return counts


class ReviewSession:
    """One study session over `cards` (already filtered by deck, topic and tag); a cloze card
    is studied once per deletion number.

    Args:
        queue: where the cards come from (default: what is due, `DueQueue`).
        reschedule: whether a rating moves the card's schedule (False: cram, logged only).
        cards: the cards; with `card_of`, their study items already (`StudyView.items`).
        card_of: what makes the card of a study item when it is to be shown
            (`loader.StudyView.card`: no card is made before). `content` then gives the
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
        self.buried: Card | None = None  # the card `b` buried, while no rating came after it
        self.limit = limit
        self.past_limit = 0  # the cards the limit left that could be studied now
        self.seen: set[str] = set()

    def run(self) -> Summary:
        """Study until nothing is due, `q`, or Ctrl-C; returns the summary (also printed)."""
        started = time.monotonic()
        interrupted = finished = False
        try:
            while (card := self._next()) is not None or self._last_bury_taken_back():
                if card is not None and self._study(card) == "quit":
                    break
            else:
                finished = True
                self.past_limit = getattr(self.queue, "past_limit", lambda: 0)()
                self.console.print(Text(self._finished(), style="bold"))
        except (KeyboardInterrupt, EOFError) as stopped:
            # Ctrl-C: the command exits 130, as every command a Ctrl-C ends; Ctrl-D (the end
            # of input) ends the session as `q` does
            interrupted = isinstance(stopped, KeyboardInterrupt)
            if interrupted:  # (Ctrl-D is no interruption: it said "interrupted" and exited 0)
                self.console.print("\n[yellow]interrupted[/]: every rating so far is saved")
        summary = self._summary(time.monotonic() - started, interrupted, finished)
        self.console.print(summary_view(summary, self.clock()))
        return summary

    def _last_bury_taken_back(self) -> bool:
        """With nothing left after a bury, the session ended at once, and the `u` that takes a
        bury back (a `b` pressed by mistake) came too late: it is offered first."""
        if self.buried is None:
            return False
        self.console.print(
            Text(
                f"u unburies {self.buried.id} (nothing else is due now), any other key ends "
                "the session",
                style="yellow",
            )
        )
        return self.getkey() == "u" and self._undo()

    def _finished(self) -> str:
        if not self.reschedule:
            return "Cram done: every card was rated." if self.seen else "Nothing to cram."
        if self.past_limit:  # not "Nothing more is due now.": `review` would show them
            return (
                f"--limit {self.limit} reached: {counted(self.past_limit, 'more card')} "
                "can be studied now (`studycli review` goes on)."
                + (" (`studycli undo` takes back the last rating.)" if self.done else "")
            )
        said = "Nothing more is due now." if self.seen else "Nothing is due now."
        if held := getattr(self.queue, "held_reviews", lambda: 0)():
            said += f" {held_reviews_note(held, self.settings.reviews_per_day)}."
        if held := getattr(self.queue, "held_new", lambda: 0)():
            said += f" {held_new_note(held, self.settings.new_per_day)}."
        return said + (" (`studycli undo` takes back the last rating.)" if self.done else "")

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
                self._bury(card)
                return "buried"
            elif len(key) == 1 and key.isprintable() and not key.isspace():
                # said, not ignored: a key that did nothing looked like a session stuck
                answered = shown.answer_shown or shown.outcome is not None
                keys = ("1-4 rate · " if answered else "") + _front_keys(card, self.reschedule)
                self.console.print(Text(f"{key} is no key here: {keys}", style="yellow"))

    def _bury(self, card: Card) -> None:
        """Leave `card` out until tomorrow's study day (Anki's bury: not rated, its schedule
        unchanged), and out of this session (until `u` takes it back)."""
        back = self.study.bury(card, self.clock(), self.tz)
        self.queue.left(card)
        self.buried = card
        when = back.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        self.console.print(
            Text(f"buried until the next study day ({when}): not rated", style="dim")
        )

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
        self.console.print(Text(_front_keys(card, self.reschedule), style="dim"))
        if card.runnable:  # its check's worker gets torch imported while the learner reads;
            # started once the front is on screen, so that the front never waits for it
            self.console.file.flush()
            from studycli.check.solve import warm_up

            warm_up(card, self.content)

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
            self.console.print(self._rating_bar(card))
        return False

    def _rating_bar(self, card: Card, allowed: tuple[Rating, ...] | None = None) -> render.KeyBar:
        """The rating keys (all by default), each with the interval it gives (when the session
        reschedules)."""
        from fsrs import Rating

        intervals = self.study.preview(card, self.clock()) if self.reschedule else {}
        return render.KeyBar(
            [
                (
                    str(int(rating)),
                    rating_label(rating, intervals.get(rating)),
                    f"bold reverse {RATING_STYLE[int(rating)]}",
                )
                for rating in allowed or tuple(Rating)
            ]
        )

    def _solve(self, shown: _Card) -> None:
        try:  # (0.1 s the first time: a Ctrl-C meant for the editor can come meanwhile)
            from fsrs import Rating

            from studycli.check.solve import compiles, ensure_attempt, is_untouched, starter_kind

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
        if not compiled and outcome.status != "pass":  # a typo costs no recall: the answer
            # stays hidden (it was shown, and only Again was left, for a missing colon); it
            # counts as a failed run, as a save left not compiling does in `solve --watch`
            shown.failed_runs += 1  # (an earlier run's outcome is counted at the next check)
            self.console.print(
                Text(
                    f"{path.name} does not compile: fix it, save, and press s again "
                    "(Enter shows the answer)",
                    style="yellow",
                )
            )
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
        if outcome.status == "pass":
            default = RATING_NAMES[shown.check_rating()]
            self.console.print(self._rating_bar(card, (Rating.Hard, Rating.Good, Rating.Easy)))
            self.console.print(  # why Enter is Hard after a pass, as `solve` says it
                Text(
                    f"Enter: {default} ({shown.why_at_check}) · s: edit and run again", style="dim"
                )
            )
        else:
            self.console.print(self._rating_bar(card, (Rating.Again,)))
            self.console.print(Text("Enter: Again · s: edit and run again", style="dim"))

    def _rate(self, shown: _Card, rating: Rating) -> bool:
        outcome = shown.outcome
        if outcome is not None and shown.check_rating(rating) != rating:
            self.console.print(
                Text(
                    f"the check {'passed' if outcome.status == 'pass' else 'failed'}"
                    f": rate with {'2, 3 or 4' if outcome.status == 'pass' else '1'}"
                    ", or press s to run it again",
                    style="yellow",
                )
            )
            return False
        try:
            return self._save(shown, rating)
        except StoreUnavailable as busy:  # an import holding it, a full disk: the card stays
            self.console.print(
                Text(
                    f"{RATING_NAMES[rating]} was not saved: {busy.why}; press {int(rating)} "
                    "again to try again, or q to quit",
                    style="bold yellow",
                )
            )
            return False

    def _save(self, shown: _Card, rating: Rating) -> bool:
        """Commit the rating of the card on screen and say when it comes back."""
        from fsrs import Rating

        outcome = shown.outcome
        duration = int((time.monotonic() - shown.started) * 1000)
        status = outcome.status if outcome else None
        if not self.reschedule:
            review = self.study.cram_rate(
                shown.card, rating, self.clock(), check_status=status, duration_ms=duration
            )
            self.done.append(review)
            self.queue.rated(shown.card, rating)
            again = " (it comes back later in this session)" if rating == Rating.Again else ""
            self.console.print(
                Text(f"{RATING_NAMES[rating]}: logged, schedule unchanged{again}", style="dim")
            )
            self._put_aside(shown)
            return True
        try:
            rated = self.study.rate(
                shown.card,
                rating,
                self.clock(),
                method=ReviewMethod.CHECK if outcome else ReviewMethod.SELF,
                check_status=status,
                duration_ms=duration,
                unless_rated_after=shown.log_mark,
            )
        except RatedElsewhere as other:  # two sessions at once: studied there meanwhile
            self.queue.left(shown.card)
            self.console.print(
                Text(
                    f"not saved: {shown.card.id} was rated {RATING_NAMES[other.rating]} in "
                    "another session while it was on screen here (a second rating would count "
                    "a second review of it now)",
                    style="yellow",
                )
            )
            return True
        except ClockBehind as behind:  # (nothing written: the session goes on without it)
            self.queue.left(shown.card)
            self.console.print(Text(str(behind), style="yellow"))
            return True
        self.done.append(rated.review)
        self.buried = None
        self.queue.rated(shown.card, rating)
        self.console.print(
            Text(
                f"{RATING_NAMES[rating]}: due again in {format_interval(rated.due - self.clock())}",
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
        self._put_aside(shown)
        return True

    def _put_aside(self, shown: _Card) -> None:
        """After a pass is rated, its attempt is put aside: the card's next review starts from
        the starter (see `solve.put_aside`)."""
        if shown.outcome is None or shown.outcome.status != "pass":
            return
        from studycli.check.solve import put_aside

        if said := put_aside(shown.card.id):  # (unwrapped: its path copies in one piece)
            self.console.print(Text(said, style="dim"), soft_wrap=True)

    def _undo(self) -> bool:
        if self.buried is not None:  # the last thing done: `u` takes it back, not the rating
            # before it (a `b` pressed by mistake, then `u`, undid an earlier card's rating)
            card, self.buried = self.buried, None
            self.study.unbury(card)
            getattr(self.queue, "unburied", lambda _: None)(card)
            self.console.print(Text(f"unburied: {card.id} is back", style="yellow"))
            return True
        if not self.done:
            said = "nothing to undo in this session"
            if self.reschedule:  # an earlier session's rating: `u` cannot reach it, this can
                said += " (`studycli undo` takes back an earlier session's rating of today)"
            self.console.print(Text(said, style="yellow"))
            return False
        entry = self.done[-1]
        said = "undone"
        try:
            self.study.undo(entry.id, self.clock())  # type: ignore[arg-type]
        except UndoneAlready:  # (`studycli undo` in another terminal): it no longer stands,
            # so it leaves this session's ratings (the summary counted it, and `u` stuck on it)
            said = "undone already (in another terminal?)"
        except StudyError as exc:  # e.g. another session has rated the card since
            self.console.print(Text(f"cannot undo: {exc}", style="yellow"))
            return False  # the rating stands, and stays this session's
        self.done.pop()
        item = next((i for i in self.items if i.id == entry.card_id), None)
        if entry.check_status == "pass":  # its answer, put aside with the rating, comes back
            from studycli.check.solve import bring_back, is_untouched

            rated = item if item is None or self.card_of is None else self.card_of(item)
            bring_back(
                entry.card_id,
                lambda path: rated is not None and is_untouched(rated, self.content, path),
            )
        state = self.study.state(entry.card_id)
        if state is not None and state.suspended:  # (suspended in another terminal since)
            self.console.print(
                Text(f"{said}: {entry.card_id} is back as it was, and suspended", style="yellow")
            )
            return True
        if item is not None:
            from fsrs import Rating

            self.queue.undone(item, Rating(entry.rating))
        self.console.print(Text(f"{said}: {entry.card_id} is back as it was", style="yellow"))
        return True

    def _summary(self, seconds: float, interrupted: bool, finished: bool = False) -> Summary:
        return Summary(
            reviewed=len(self.done),
            again=sum(1 for r in self.done if r.rating == AGAIN),
            seconds=seconds,
            next_due=self.clock()  # "more cards are due now", not the next scheduled one
            if self.past_limit or self._left_now(finished)
            else self.study.next_due(self.items, self._held_at(finished), self.tz),
            interrupted=interrupted,
        )

    def _left_now(self, finished: bool) -> bool:
        """Whether a session left before its end (q, Ctrl-C) leaves cards to study now. Its
        summary said when the next scheduled card falls due ("next due in 10m", or "nothing
        scheduled yet" after one card) over the day's new cards still waiting: a learner
        who quit after a few cards read that there was nothing more to do today."""
        if finished or not self.reschedule:
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
        text.append(f"next due in {format_interval(summary.next_due - now)}")
    return text
