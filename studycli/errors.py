"""The one exception family of studycli.

Everything a user can cause (a broken card, a missing file, a corrupt database, a bad CSV row)
is raised as a `StudyError` subclass whose message says what is wrong and how to fix it. The CLI
renders it once, on stderr, and exits 1; nothing else is allowed to reach the user as a
traceback.
"""


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


class ConfigError(StudyError):
    """The settings file is unreadable or holds an invalid value."""


class ImportFormatError(StudyError):
    """A review log to import has a malformed row."""
