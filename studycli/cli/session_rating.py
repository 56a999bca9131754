"""Rating the card on screen in a review session, and `u`: a part of `ReviewSession`
(review_session.py), which mixes it in.

`_offer_ratings` shows the rating keys, in `RATING_STYLE`'s colours, with the interval each
gives; `_rate` takes a key (one that goes against the coding card's check is refused) and
`_save` commits it to the store, or logs it for cram, and says when the card comes back (or
shows the keys again, as they are now, and asks again, where another terminal changed the
card's history meanwhile: `_changed_meanwhile`); a passed answer is put aside once rated
(`_put_aside`). `_undo` takes back the last thing done: a bury or a suspension (`@`), or this
session's latest rating.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.errors import (
    ClockBehind,
    HistoryMoved,
    IntervalsMoved,
    RatedElsewhere,
    StateChanged,
    StoreUnavailable,
    StudyError,
    UndoneAlready,
    WaitInterrupted,
)
from studycli.study.api import Review, ReviewMethod, Study
from studycli.study.labels import (
    AGAIN,
    EASY,
    GOOD,
    HARD,
    RATING_NAMES,
    format_interval,
    rating_label,
)

from . import render

if TYPE_CHECKING:  # (the scheduler is imported once a card is rated)
    from fsrs import Rating

    from .session_card import _Card
    from .session_queue import SessionQueue
    from .session_suspend import Suspension

RATING_STYLE = {AGAIN: "red", HARD: "yellow", GOOD: "green", EASY: "cyan"}


class SessionRating:
    """The rating keys and `u` of `ReviewSession`, which sets what they read (below)."""

    console: Console
    study: Study
    content: Content
    clock: Callable[[], datetime]
    queue: SessionQueue
    reschedule: bool
    done: list[Review]
    buried: Card | None
    suspended: Suspension | None
    items: list[Any]
    card_of: Callable[[Any], Card] | None
    buries: int
    suspensions: int

    def _offer_ratings(self, shown: _Card, allowed: tuple[Rating, ...] | None = None) -> None:
        """Show the rating keys (all by default), each with the interval it gives (when the
        session reschedules), and keep what those were computed from (`_save` hands it to
        the rating); after a check, the line under them says what Enter gives (shown again
        with them where the rating is asked again: `_changed_meanwhile`)."""
        from fsrs import Rating

        previewed = self.study.previewed(shown.card, self.clock()) if self.reschedule else None
        shown.bar = (previewed, allowed)
        intervals = previewed.intervals if previewed is not None else {}
        bar = render.KeyBar(
            [
                (
                    str(int(rating)),
                    rating_label(rating, intervals.get(rating)),
                    f"bold reverse {RATING_STYLE[int(rating)]}",
                )
                for rating in allowed or tuple(Rating)
            ]
        )
        self.console.print(bar)
        if shown.outcome is not None:  # why Enter is Hard after a pass, as `solve` says it
            why = f" ({shown.why_at_check})" if shown.outcome.status == "pass" else ""
            enter = f"Enter: {RATING_NAMES[shown.check_rating()]}{why}"
            self.console.print(render.KeyLine(f"{enter} · s: edit and run again"))
        elif said := shown.hints_read():  # rated by the learner: the hints they took, said
            self.console.print(Text(said, style="dim"))

    def _changed_meanwhile(self, shown: _Card, rating: Rating, refused: StateChanged) -> None:
        """The rating was refused (`StateChanged`): another terminal changed the card's state
        without rating it since its keys were shown (an import merged its history, an undo,
        new parameters' recompute), or a day since its last review passed meanwhile
        (`IntervalsMoved`), and it would have given other intervals than those the learner
        chose by. That is said, and the keys shown again as they are now: the learner rates
        again."""
        self.console.print(
            Text(
                f"{RATING_NAMES[rating]} was not saved: {shown.card.id}'s {why_intervals_moved(refused)}"
                ": rate again by those below",
                style="yellow",
            )
        )
        self._offer_ratings(shown, shown.bar[1] if shown.bar is not None else None)

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
        except WaitInterrupted:  # a Ctrl-C while it waited for the lock: the session ends
            self.console.print(
                Text(
                    f"\n{RATING_NAMES[rating]} was not saved: interrupted while waiting for the "
                    "review database",
                    style="bold yellow",
                )
            )
            raise

    def _leave_unrated(self, card: Card) -> None:
        """`card`, just shown, leaves the session unrated (`DueQueue.left`). Only a session
        that reschedules gets here: `CramQueue` has no such step."""
        from .session_queue import DueQueue

        assert isinstance(self.queue, DueQueue), "only review's queue leaves a card unrated"
        self.queue.left(card)

    def _not_kept_out(self, what: str, busy: StoreUnavailable, key: str) -> None:
        """Say that a bury or a suspension (`what`), or its taking back, or an undo, was not
        saved, as a rating that was not is said: why, and that `key` tries again."""
        self.console.print(
            Text(
                f"{what}: {busy.why}; press {key} again to try again, or q to quit",
                style="bold yellow",
            )
        )

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
                shown=shown.bar[0] if shown.bar is not None else None,
            )
        except StateChanged as refused:  # (nothing written: the card stays, its keys asked again)
            self._changed_meanwhile(shown, rating, refused)
            return False
        except RatedElsewhere as other:  # two sessions at once: studied there meanwhile
            self._leave_unrated(shown.card)
            self.console.print(
                Text(
                    f"not saved: {shown.card.id} was rated {RATING_NAMES[other.rating]} in "
                    "another session while it was on screen here (a second rating would count "
                    "a second review of it now)",
                    style="yellow",
                )
            )
            return True
        except HistoryMoved as moved:  # a renamed card's, by a command with the new content
            self._leave_unrated(shown.card)
            said = moved.said("this session", lambda _: "`studycli review` again")
            self.console.print(Text(f"not saved: {said}", style="yellow"))
            return True
        except ClockBehind as behind:  # (nothing written: the session goes on without it)
            self._leave_unrated(shown.card)
            self.console.print(Text(str(behind), style="yellow"))
            return True
        self.done.append(rated.review)
        self.buried = self.suspended = None
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
        the starter (see `attempt_files.put_aside`)."""
        if shown.outcome is None or shown.outcome.status != "pass":
            return
        from studycli.check.attempt_files import put_aside

        if said := put_aside(shown.card.id):  # (unwrapped: its path copies in one piece)
            self.console.print(Text(said, style="dim"), soft_wrap=True)

    def _undo(self) -> bool:
        if self.buried is not None:  # the last thing done: `u` takes it back, not the rating
            # before it (a `b` pressed by mistake, then `u`, undid an earlier card's rating)
            card = self.buried
            try:
                self.study.unbury(card)
            except StoreUnavailable as busy:  # (it ended the session): `u` tries again
                self._not_kept_out(f"{card.id} is still buried", busy, "u")
                return False
            self.buried = None
            self.buries -= 1
            getattr(self.queue, "unburied", lambda _: None)(card)
            self.console.print(Text(f"unburied: {card.id} is back", style="yellow"))
            return True
        if self.suspended is not None:  # the same: what `@` suspended is let back, and shown
            taken = self.suspended
            try:
                taken.take_back(self.study)
            except StoreUnavailable as busy:
                self._not_kept_out(f"{taken.card_id} is still suspended", busy, "u")
                return False
            self.suspended = None
            self.suspensions -= 1
            getattr(self.queue, "unburied", lambda _: None)(taken.shown)
            self.console.print(Text(f"unsuspended: {taken.card_id} is back", style="yellow"))
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
        except StoreUnavailable as busy:  # an import holding it, a full disk: `u` tries again
            said = f"{entry.card_id} {RATING_NAMES[entry.rating]} is not undone yet"
            self._not_kept_out(said, busy, "u")
            return False
        except StudyError as exc:  # e.g. another session has rated the card since
            self.console.print(Text(f"cannot undo: {exc}", style="yellow"))
            return False  # the rating stands, and stays this session's
        self.done.pop()
        item = next((i for i in self.items if i.id == entry.card_id), None)
        back = ""  # (the session had said the answer was put aside: where it is now, as
        # `studycli undo` says it; `s` opened the answer, not the starter, unannounced)
        if entry.check_status == "pass":  # its answer, put aside with the rating, comes back
            from studycli.check.attempt_files import bring_back
            from studycli.check.starters import is_untouched

            rated = item if item is None or self.card_of is None else self.card_of(item)
            path = bring_back(
                entry.card_id,
                lambda path: rated is not None and is_untouched(rated, self.content, path),
            )
            back = f"; your answer is back in {path}" if path is not None else ""
        state = self.study.state(entry.card_id)
        if state is not None and state.suspended:  # (suspended in another terminal since)
            self.console.print(
                Text(f"{said}: {entry.card_id} is back as it was, and suspended{back}"),
                style="yellow",
                soft_wrap=True,
            )
            return True
        if item is not None:
            from fsrs import Rating

            self.queue.undone(item, Rating(entry.rating))
        self.console.print(  # (unwrapped: the path copies in one piece)
            Text(f"{said}: {entry.card_id} is back as it was{back}"), style="yellow", soft_wrap=True
        )
        return True


def why_intervals_moved(refused: StateChanged, meanwhile: str = "it was on screen") -> str:
    """Why a rating's intervals changed `meanwhile` (while they were shown), to follow the
    card's id and "'s": its history (`StateChanged`), or the time since its last review
    (`IntervalsMoved`)."""
    if isinstance(refused, IntervalsMoved):
        days = refused.days  # (a review card's move at 7 days was said as "24 hours")
        passed = (
            "24 hours have"
            if days is None or days <= 1
            else f"{days} days ({24 * days} hours) have"
        )
        return (
            f"intervals changed while {meanwhile}: {passed} passed since its last review, "
            "and fsrs counts the time since it in whole days"
        )
    return (
        f"history changed while {meanwhile} (another terminal imported or undid a review of "
        "it, or recomputed the memory states), and its intervals with it"
    )
