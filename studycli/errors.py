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
    """The disk holding the review database is full: the same step works once there is room."""


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


class HistoryMoved(StudyError):
    """A rating refused because another command moved the card's history since this one began
    (a renamed card's, `renames.carry`): `old_id` -> `new_id`, one of them the rated card's.
    Rated under the id it had, the card was a new card; rated under the new id, on a state
    that changed since it was shown."""

    def __init__(self, card_id: str, old_id: str, new_id: str) -> None:
        super().__init__(f"{card_id}'s history was moved ({old_id} -> {new_id}) meanwhile")
        self.card_id, self.old_id, self.new_id = card_id, old_id, new_id

    def said(self, ran: str, again: Callable[[str], str]) -> str:
        """What the learner is told: the move, made while `ran` ("this session") ran, and
        what studies the card again (`again`, given the id it has now)."""
        if self.card_id == self.old_id:
            return (
                f"{self.card_id}'s history was moved to {self.new_id} while {ran} ran (its card "
                "was renamed: `renamed_from` in its file), and rated as it is here it would "
                f"start over as a new card: {again(self.new_id)} studies it as {self.new_id}"
            )
        return (
            f"{self.old_id}'s history was moved onto {self.card_id} while {ran} ran (its "
            "ratings under the id the card had before: `renamed_from`), and the card's "
            f"schedule changed since it was read: {again(self.card_id)} studies it again"
        )


class ConfigError(StudyError):
    """The settings file is unreadable or holds an invalid value."""


class ImportFormatError(StudyError):
    """A review log to import has a malformed row."""
