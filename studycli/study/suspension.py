"""A suspension is the learner's word on a card, whatever kind its author gives it.

The store keys a suspension by study item, as it keys a schedule: a card's own id (`X`), or
for a cloze card each deletion's (`X#c1`, ...). An author who makes a card a cloze card, or
makes one no more, changes its items' ids: its reviews stay under the old ones and it starts
again as new (`check --changed` warns of it), but a suspension left there held nothing, so
the card the learner had suspended came back, and `unsuspend X` said it was not suspended
(it looked only at the new ids). Here a suspension under the card's other kind's ids holds
every item of the card: `X` suspended holds `X#c1`, ...; one deletion `X#c2` suspended holds
`X` (the learner kept part of what it asks out of reviews).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from studycli.content.cloze import split_study_id


def held(item_ids: Collection[str], suspended: Iterable[str]) -> set[str]:
    """The ids among `item_ids` whose card is suspended under an id it no longer has: its own
    id `X`, where its items are a cloze card's (`X#c1`, ...), or a deletion's `X#c2`, where
    its item is the card itself (`X`).

    Args:
        item_ids: the study items' ids (a dict of items by id will do).
        suspended: the ids the store holds suspended (`Store.suspended`).
    """
    found: set[str] = set()
    whole: set[str] = set()  # cards suspended under their own id, which is no item's now
    for key in suspended:
        if key in item_ids:
            continue  # suspended under its own id: the store holds it already
        card, number = split_study_id(key)
        if number is None:
            whole.add(key)
        elif card in item_ids:
            found.add(card)
    if whole:
        for item_id in item_ids:
            card, number = split_study_id(item_id)
            if number is not None and card in whole:
                found.add(item_id)
    return found


def left_behind(card_id: str, item_ids: Collection[str], suspended: Iterable[str]) -> list[str]:
    """The ids `suspended` holds of the card `card_id` that none of its items (`item_ids`) has
    now: those its other kind had."""
    return sorted(
        key for key in suspended if key not in item_ids and split_study_id(key)[0] == card_id
    )


def gone(item_ids: Collection[str], suspended: Iterable[str]) -> set[str]:
    """The ids among `suspended` that neither are one of `item_ids` nor hold one (`held`):
    suspensions of items the content no longer has (a card removed, a deletion taken out).

    Args:
        item_ids: the study items' ids.
        suspended: the ids the store holds suspended (`Store.suspended`).
    """
    clozes = {card for card, number in map(split_study_id, item_ids) if number is not None}
    found: set[str] = set()
    for key in suspended:
        if key in item_ids:
            continue
        card, number = split_study_id(key)
        if not (card in item_ids if number is not None else key in clozes):
            found.add(key)
    return found
