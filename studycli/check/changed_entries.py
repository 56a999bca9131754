"""`renamed_from` entries that carry nothing, for `check --changed` (changed_histories.py).

A learner's reviews are keyed by the card's kind: a cloze card's per deletion (`old#c1`, ...),
a plain card's under its id. An entry that names a cloze card at the base as a whole onto one
deletion (`'old -> c1'`), or a deletion of a plain card at the base (`old#c1`, `'old#c1 ->
c1'`), names a key no learner's store holds: the loader, which sees no base, takes it, and the
history stays behind while the check said it was carried over. Such an entry is unfit, and
told the entry that carries it.
"""

from __future__ import annotations

from pathlib import Path

from studycli.content.card import Card, Kind
from studycli.content.cloze import SEPARATOR, split_study_id
from studycli.content.cloze import numbers as numbers_of
from studycli.content.loader import Content
from studycli.content.renamed_from import moved_to
from studycli.records import Record


class Unfit(Record):
    """An entry of a card's `renamed_from` naming a card at the base of the other kind as
    it was keyed."""

    entry: str  # as the card lists it
    old: str  # the id of the card at the base it names
    kind: str  # that card's kind at the base
    card_id: str  # the card that lists it
    path: Path  # its file
    fix: str | None  # the entry that carries the history; None where one entry cannot


def unfit_entries(was: dict[str, Card | None], content: Content) -> tuple[Unfit, ...]:
    """The entries of the content's cards that name a card at the base (`was`: the cards of
    the changed card files then, by id) as a key its kind never had: a cloze card's id moved
    onto one deletion (its reviews are its deletions'), or a plain card's deletion (it has
    none)."""
    found = []
    for card in sorted(content.cards.values(), key=lambda c: c.id):
        for entry in card.renamed_from:
            old, target = moved_to(card.id, entry)
            old_card, number = split_study_id(old)
            base = was.get(old_card)
            if base is None:
                continue
            onto = target.partition("#")[2]  # ("c1" in a cloze card's entry, else "")
            if number is None and base.kind == Kind.CLOZE and onto:
                numbers = numbers_of(base.prompt)
                fix = f"{old}{SEPARATOR}{numbers[0]} -> {onto}" if len(numbers) == 1 else None
            elif number is not None and base.kind != Kind.CLOZE:
                fix = f"{old_card} -> {onto}" if onto else old_card
            else:
                continue
            found.append(Unfit(entry, old_card, base.kind.value, card.id, card.path, fix))
    return tuple(found)
