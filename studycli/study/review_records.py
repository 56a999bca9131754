"""The review store's records: a card's scheduling state (`CardState`), one rating in the log
(`Review`, given one of the `ReviewMethod` ways), and what the queue reads of the store
(`Schedule`, `ReviewCap`, `REVIEW_STATE`).

Values only, no SQL: `Store` (store.py and its parts, store_*.py) reads and writes them in the
tables that migrations.py makes; the core (rating.py, queue.py, review_io.py, ...) passes them.
"""

from __future__ import annotations

from collections.abc import Container
from collections.abc import Set as AbstractSet
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypedDict

from studycli.records import Record

from .times import iso

if TYPE_CHECKING:  # (a TypedDict costs a class to make: annotations only need its name)

    class CardStateDict(TypedDict):
        card_id: str
        fsrs: str | None
        content_hash: str | None
        lapses: int
        reps: int


class ReviewMethod(StrEnum):
    """How a rating entered the log: chosen by the learner, decided by running a check, given
    while cramming (logged, but it does not move the schedule), or imported from a CSV file."""

    SELF = "self"
    CHECK = "check"
    CRAM = "cram"
    IMPORT = "import"


# What a replay reads of a review's method (`store_sql.CRAM_KIND`): a rating that makes the
# schedule (0, false), a cram rating (`CRAMMED`), or one whose attempt was checked
# (`CRAMMED_CHECKED`: its record of a coding card's contract stands, `CardReplay.crammed`).
CRAMMED, CRAMMED_CHECKED = 1, 2


class CardState(Record):  # named tuples: a frozen dataclass costs ~1 ms at start-up
    """One card's scheduling state. `fsrs` is fsrs's `Card.to_json()`, None while new."""

    card_id: str
    fsrs: str | None = None
    content_hash: str | None = None
    lapses: int = 0
    reps: int = 0
    suspended: bool = False

    def to_dict(self) -> CardStateDict:
        """The shape saved as a review's `state_before` (suspension is not part of a review)."""
        return {
            "card_id": self.card_id,
            "fsrs": self.fsrs,
            "content_hash": self.content_hash,
            "lapses": self.lapses,
            "reps": self.reps,
        }

    @classmethod
    def from_dict(cls, data: CardStateDict, suspended: bool = False) -> CardState:
        return cls(
            card_id=data["card_id"],
            fsrs=data["fsrs"],
            content_hash=data["content_hash"],
            lapses=int(data["lapses"]),
            reps=int(data["reps"]),
            suspended=suspended,
        )


class Review(Record):
    """One rating in the log. `queue` is what the card was before it: new, learning, review or
    relearning. `scheduler` is the fsrs `Scheduler.to_json()` it was scheduled with."""

    card_id: str
    rating: int
    reviewed_at: datetime
    method: str
    content_hash: str
    queue: str
    scheduler: str
    state_after: str
    state_before: CardState | None = None
    duration_ms: int | None = None
    check_status: str | None = None
    id: int | None = None
    undone: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The public shape (history --json)."""
        return {
            "id": self.id,
            "card": self.card_id,
            "rating": self.rating,
            "reviewed_at": iso(self.reviewed_at),
            "duration_ms": self.duration_ms,
            "method": self.method,
            "check_status": self.check_status,
            "content_hash": self.content_hash,
            "queue": self.queue,
            "undone": self.undone,
        }


class Schedule(Record):
    """What the queue reads of the store: the cards due up to a time, and which are not new.

    `due` holds (card id, fsrs state value, due time as stored text, last review as stored
    text where read, else None) of every studied, unsuspended card due by then, by due time
    then id (with a `ReviewCap`: the cards that are not in review so, then the capped review
    cards so). `seen` holds the ids of every card that is not new: studied, or suspended.
    """

    due: list[tuple[str, int, str, str | None]]
    seen: AbstractSet[str]


# fsrs's State.Review, as fsrs's JSON holds it: the queue counts what is due without importing
# fsrs (a test checks it is fsrs's value)
REVIEW_STATE = 2


class ReviewCap(Record):
    """Of the cards in review, what a queue can show: the first `limit` of `cards` that are
    due by `now` (see `Store.schedule`)."""

    now: datetime
    cards: Container[str]
    limit: int
