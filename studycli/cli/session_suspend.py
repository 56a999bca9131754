"""`@` in a review session: the card on screen suspended as `studycli suspend ID` suspends its
card's id (a cloze card: every deletion, whichever one is asked), not rated; and `u` right after
it, which takes back what `@` suspended (a deletion suspended before stays so).

`ReviewSession._suspend` imports this module when `@` is pressed: a session's start-up imports
none of it, nor `study.suspension`.
"""

from __future__ import annotations

from dataclasses import replace

from studycli.content.card import Card
from studycli.records import Record
from studycli.study.api import Study
from studycli.study.labels import counted


class Suspension(Record):
    """What `@` suspended: `shown`, the item on screen, and `suspended`, the items of its card
    that `@` suspended (those suspended already are not among them); `every`, all its items."""

    shown: Card
    suspended: list[Card]
    every: list[Card]

    @property
    def card_id(self) -> str:
        return self.shown.card_id

    def said(self) -> str:
        """The line that says what was suspended, and how to take it back."""
        card_id = self.card_id
        what = card_id
        if self.shown.cloze is not None:  # (every deletion, not only the one asked)
            what += f" (its {counted(len(self.every), 'deletion')})"
        return (
            f"suspended {what}, not rated: u takes it back, or later `studycli unsuspend {card_id}`"
        )

    def take_back(self, study: Study) -> None:
        """Let back into reviews what `@` suspended, nothing more."""
        study.set_suspended(self.suspended, False, self.every)


def suspend(study: Study, shown: Card) -> Suspension | None:
    """Suspend the card of `shown` (a cloze deletion's: every deletion, as `studycli suspend`
    its card's id does); None where it was suspended already (in another terminal since it
    was drawn): nothing of it is `@`'s to take back."""
    every = _card_items(shown)
    before = study.suspended(every)
    suspended = [item for item in every if item.id not in before]
    if not suspended:
        return None
    study.set_suspended(suspended, True, every)
    return Suspension(shown, suspended, every)


def already(shown: Card) -> str:
    """What `@` says of a card suspended already."""
    return (
        f"{shown.card_id} is suspended already (in another terminal?): "
        f"`studycli unsuspend {shown.card_id}` brings it back"
    )


def _card_items(shown: Card) -> list[Card]:
    """Every study item of `shown`'s card: itself, or each deletion of its cloze card."""
    if shown.cloze is None:
        return [shown]
    return replace(shown, id=shown.card_id, cloze=None).study_items()
