"""`renamed_from` entries that leave a history behind, for `check --changed`.

An id that a card at the base listed in `renamed_from` and no card lists now (the card merged
into another, renamed again, or a deletion of it split off since, without its own old ids) is
forgotten: a learner who has not studied since that first rename keeps its reviews under it
(`forgotten_ids`, told the entry that carries it where its item is now).

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
from studycli.content.cloze import SEPARATOR, split_study_id, study_id
from studycli.content.cloze import numbers as numbers_of
from studycli.content.loader import Content
from studycli.content.renamed_from import moved_to, renamed_id
from studycli.records import Record


class Forgotten(Record):
    """An id that a card at the base listed in `renamed_from` and no card lists now, though
    the card's own history goes on under another card (itself, or the card it was renamed
    to)."""

    old: str  # the id listed at the base
    was: str  # the card that listed it
    card_id: str  # the card that carries `was`'s history now (or its item's, `old`'s entry's)
    path: Path  # its file
    entry: str  # what that card lists to carry `old` on: `old`, or `old -> c1` in a cloze card


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


def forgotten_ids(was: dict[str, Card | None], content: Content) -> tuple[Forgotten, ...]:
    """The old ids (or items) in the `renamed_from` of the cards at the base (`was`: the cards
    of the changed card files then, by id) that no card now lists nor has, where the item their
    entry carried them to goes on in the content (`renamed_id`: under the card itself, the id
    it was renamed to, or the card a deletion of it was split off into since), each with the
    entry that carries it there now (`_carried_by`). A card removed on its own takes its old
    ids' histories with it, as its own: nothing is forgotten there."""
    renames, forgotten = content.renames, []
    for card_id, card in sorted(was.items()):
        if card is None:
            continue
        numbers = numbers_of(card.prompt) if card.kind == Kind.CLOZE else []
        for entry in card.renamed_from:
            old, target = moved_to(card_id, entry)
            if old in renames or _is_item(old, content):
                continue
            now = renamed_id(target, renames)  # (the card itself, its new id, or an item)
            if not numbers or SEPARATOR in old + target or now in content.cards:
                items = [(old, now)]  # (`old` listed by a cloze card goes deletion by deletion)
            else:  # (a cloze card split whole since: its old id's deletions, each where it went)
                items = [
                    (study_id(old, n), renamed_id(study_id(target, n), renames)) for n in numbers
                ]
            forgotten += [
                Forgotten(item, card_id, owner, content.cards[owner].path, listed)
                for item, new in items
                if renamed_id(item, renames) == item and _is_item(new, content)
                for owner, listed in [_carried_by(item, new)]
            ]
    return tuple(forgotten)


def _carried_by(item: str, new: str) -> tuple[str, str]:
    """(the card that carries the old id `item` on, its entry there) where `item`'s history
    goes on as the item `new`: `item` itself in a card, `'item -> c1'` onto a deletion."""
    owner, number = split_study_id(new)
    return owner, item if number is None else f"{item} -> c{number}"


def _is_item(item_id: str, content: Content) -> bool:
    """Whether `item_id` is a card's id of the content, or one of its cloze deletions'."""
    card_id, number = split_study_id(item_id)
    if number is None:
        return item_id in content.cards
    return card_id in content.cards and number in content.deletions(card_id)
