"""The memory states the statistics read (`memories`): of each study item, the few fields of its
fsrs state that `stats` uses (its state, due time, last review and stability), read from the
fields `Store.memory_fields` takes out in SQL rather than from each whole state parsed (the
synthetic collection's 16,000 states took 0.1-0.2 s through `fsrs.Card.from_json`).

A `Memory` reads as an fsrs `Card` where stats.py reads one: `scheduler.queue_name`, the
forecast's due day and `Scheduler.get_card_retrievability` (which reads `last_review` and
`stability` only) give the same answers of both.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from fsrs import Card as FsrsCard
from fsrs import State

from .rating import fsrs_card
from .review_records import CardState
from .store import Store

_STATES = {int(state): state for state in State}  # (`State(n)`, a fifth of the cost)


class Memory(NamedTuple):
    """The fields of an fsrs `Card` that the statistics read, as `Card.from_dict` reads them."""

    state: State
    due: datetime
    last_review: datetime | None
    stability: float | None


def memories(
    store: Store, item_ids: Collection[str]
) -> tuple[dict[str, Memory | FsrsCard], set[str], set[str]]:
    """(the memory of each of `item_ids` that has one, the store's suspended ids, the ids of
    every card with a state: the learnt ones, removed ones included).

    Raises:
        StoreError: an item's stored state does not read (as `rating.fsrs_card`).
    """
    found: dict[str, Memory | FsrsCard] = {}
    suspended, learnt = set(), set()
    for card_id, held, known, whole, state, due, last, stability in store.memory_fields():
        if held:
            suspended.add(card_id)
        if not known:
            continue
        learnt.add(card_id)
        if card_id not in item_ids:
            continue
        card = _read(card_id, whole, state, due, last, stability, store)
        if card is not None:
            found[card_id] = card
    return found, suspended, learnt


def _read(
    card_id: str,
    whole: str | None,
    state: int | None,
    due: str | None,
    last: str | None,
    stability: str | None,
    store: Store,
) -> Memory | FsrsCard | None:
    """The memory of a card from its fields; from its whole state where they are not given
    or do not read as fsrs reads them (`fsrs_card` then says what is wrong, or reads it)."""
    if whole is not None:
        return fsrs_card(CardState(card_id, fsrs=whole))
    try:
        if state is None or due is None:
            raise ValueError(card_id)  # (a field missing: read whole, where it is said)
        if not (due.endswith("+00:00") and (not last or last.endswith("+00:00"))):
            raise ValueError(due)  # (not as stored: read whole, where it is said)
        strength = None if stability is None or stability == "null" else float(stability)
        return Memory(  # (positional: 16,000 of them)
            _STATES[int(state)],
            datetime.fromisoformat(due),
            datetime.fromisoformat(last) if last else None,
            strength or None,  # (as `Card.from_dict`: a stability of 0 is None)
        )
    except (KeyError, ValueError, TypeError, AttributeError):
        return fsrs_card(store.state(card_id))
