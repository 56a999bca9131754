"""The one exception family of studycli.

Everything a user can cause (a broken card, a missing file, a corrupt database, a bad CSV row)
is raised as a `StudyError` subclass whose message says what is wrong and how to fix it. The CLI
renders it once, on stderr, and exits 1; nothing else is allowed to reach the user as a
traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class StudyError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""


class ContentError(StudyError):
    """The content folder (cards/, solutions/) is missing or invalid."""


class CardNotFound(StudyError):
    """A card id that no card in the content has."""


class StoreError(StudyError):
    """The review database cannot be opened, migrated or written."""


class UndoneAlready(StoreError):
    """A rating to undo was undone already (by `studycli undo` in another terminal, say)."""


class StoreUnavailable(StoreError):
    """The review database cannot take a step now, for a reason that passes: nothing is wrong
    with it, and the same step works again once that is over (a session keeps its card)."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why  # what stopped it, for a message of the caller's own


class StoreBusy(StoreUnavailable):
    """Another process kept the review database locked longer than a command waits: the same
    step works once that process is done."""


class WaitInterrupted(KeyboardInterrupt):
    """A Ctrl-C while a write waited for another process's lock on the review database:
    nothing of that write was made (a KeyboardInterrupt still, handled as every Ctrl-C is)."""


class StoreFull(StoreUnavailable):
    """The disk holding the review database is full (or a file-size limit stops it growing):
    the same step works once there is room. `room`: what makes room ("free some space", or
    raise the file-size limit), and `fix` that and the command again, for a message of the
    caller's own."""

    def __init__(self, message: str, why: str, room: str = "free some space") -> None:
        super().__init__(message, why)
        self.room = room

    @property
    def fix(self) -> str:
        """What makes room, then the command again."""
        return f"{self.room} and run the command again"


class StoreDamaged(StoreError):
    """The review database's file fails SQLite's integrity check, or is no SQLite database at
    all: `problems` says what the check found."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class ClockBehind(StudyError):
    """A rating at a time before the card's last review: the clock is behind the log (a
    replay, in time order, would put it first and give another state than the one stored)."""


class RatedElsewhere(StudyError):
    """A rating refused because another session rated the card since this one showed it (a
    second rating would count a second review of it now). `rating`: the other's (1-4)."""

    def __init__(self, card_id: str, rating: int) -> None:
        super().__init__(f"{card_id} was rated in another session")
        self.card_id, self.rating = card_id, rating


class StateChanged(StudyError):
    """A rating refused because the card's state changed, without a rating of it, since the
    intervals it was chosen by were shown: another command imported reviews of it, undid one,
    or recomputed the memory states. Rated, it would build on the state as it is now and give
    other intervals than those shown; the learner is shown them and chooses again."""

    def __init__(self, card_id: str) -> None:
        super().__init__(f"{card_id}'s state changed since its intervals were shown")
        self.card_id = card_id


class IntervalsMoved(StateChanged):
    """A rating refused because the card's intervals are no longer those shown, its state the
    same: a whole day more since its last review passed while they were on screen (fsrs
    counts the time since it in whole days: Good went from 2d to 7d for a learning card 24
    hours on, from 20d to 21d for a review card 7 days on). Rated, it would give other
    intervals than those the learner chose by; they are shown the new ones and choose again.
    `days`: the whole days since the card's last review now (None: it has none)."""

    def __init__(self, card_id: str, days: int | None = None) -> None:
        StudyError.__init__(self, f"{card_id}'s intervals changed since they were shown")
        self.card_id = card_id
        self.days = days


class HistoryMoved(StudyError):
    """A rating refused because another command moved the card's history since this one began
    (a renamed card's, or a cloze deletion's split off into another card: `renames.carry`):
    `old_id` -> `new_id`, one of them the rated card's. Rated under the id it had, the card
    was a new card; rated under the new id, on a state that changed since it was shown."""

    def __init__(self, card_id: str, old_id: str, new_id: str) -> None:
        super().__init__(f"{card_id}'s history was moved ({old_id} -> {new_id}) meanwhile")
        self.card_id, self.old_id, self.new_id = card_id, old_id, new_id

    def said(self, ran: str, again: Callable[[str], str]) -> str:
        """What the learner is told: the move, made while `ran` ("this session") ran, and
        what studies the card again (`again`, given the id it has now)."""
        if self.card_id == self.old_id:
            return (
                f"{self.card_id}'s history was moved to {self.new_id} while {ran} ran "
                f"({self._why_away()}), and rated as it is here it would start over as a new "
                f"card: {again(self.new_id)} studies it as {self.new_id}"
            )
        return (
            f"{self.old_id}'s history was moved onto {self.card_id} while {ran} ran "
            f"({self._why_onto()}), and the card's schedule changed since it was read: "
            f"{again(self.card_id)} studies it again"
        )

    def _why_away(self) -> str:
        """Why the history left the rated id: its card renamed (the same deletion number, or
        none, under the new id), else one item taken over by another card."""
        old_card, old_number = _card_and_number(self.old_id)
        new_card, new_number = _card_and_number(self.new_id)
        if old_number == new_number:
            return "its card was renamed: `renamed_from` in its file"
        if old_number:
            return f"that deletion was split off into {new_card}: `renamed_from` in its file"
        return f"that card became a deletion of {new_card}: `renamed_from` in its file"

    def _why_onto(self) -> str:
        """Why a history came onto the rated id (see `_why_away`)."""
        old_card, old_number = _card_and_number(self.old_id)
        if old_number == _card_and_number(self.new_id)[1]:
            return "its ratings under the id the card had before: `renamed_from`"
        if old_number:
            return (
                f"its ratings as a deletion of {old_card}, split off into this card: `renamed_from`"
            )
        return f"its ratings as the card {old_card}, which is this deletion now: `renamed_from`"


def _card_and_number(item_id: str) -> tuple[str, str]:
    """A study item id's card id and deletion number (`old#c2` -> ("old", "2"); "" for a
    plain card's). (`cloze.split_study_id`, without the card format imported.)"""
    card_id, _, number = item_id.partition("#c")
    return card_id, number


class ConfigError(StudyError):
    """The settings file is unreadable or holds an invalid value."""


class ImportFormatError(StudyError):
    """A review log to import has a malformed row."""
