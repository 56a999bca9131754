"""The base of the study API's `Study` (api.py): the open review database and the settings
it is studied with, and what each of its parts (api_queue.py, api_reviews.py,
api_parameters.py) builds on: an item's state, the items kept out of the queue (buried, or
held by their card's suspension under the ids of its other kind), the ids of the cards that
are not new (kept between queues), and what a review records of what it was made on (its
text's hash, a coding card's contract).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .queue import CardIndex, Item, ItemT
from .review_records import CardState
from .settings import Settings
from .store import Store

if TYPE_CHECKING:  # imported where used: `due` and `review` need none of them (~20 ms)
    from studycli.content.card import Card


class StudyBase:
    """An open review database and the settings it is studied with (see api.py's `Study`)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        renames: Mapping[str, str] | None = None,
        solutions_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        # the content's solutions/ folder: a review of a coding card records its contract
        # (starter and checker), so that a change to it flags the card (`contract`); None:
        # the text alone
        self.solutions_dir = solutions_dir
        # the content's renamed ids (old card id -> new, `Content.renames`): their history is
        # the new ids' (`renames.carry`, on opening), and so is an import's
        self.renames: Mapping[str, str] = renames or {}
        # The ids of the cards that are not new, kept between queues (a review session asks
        # for one per card) and brought up to date by this Study's own ratings; read again
        # after an undo or a suspension, or when another process wrote to the database.
        self._seen: set[str] | None = None
        self._seen_version = -1
        # the items of the last queue by id, kept between queues
        self._index: CardIndex[Item] = CardIndex()
        # the moves of renamed cards' histories as this Study opened (its own made): one made
        # since, by a command with other content, refuses a rating of the card (`rate`)
        self.moves_mark: int | None = None
        # the record of the parameters the memory states stand on, as this Study last read it
        # (`_follow_recompute`)
        self._parameters_seen = store.memory_parameters()

    def _follow_recompute(self) -> Settings:
        """Schedule with the parameters of a recompute of the memory states that another
        command made since this Study last looked (`optimize --write` or `--recompute` in
        another terminal while a session is open): its ratings went on with the parameters
        read at its start, on states that stand on the new ones, and the doctor counted those
        cards' states as not what settings.toml gives, which no other command said. One row
        read. The record found on opening is left as it is: where it disagrees with
        settings.toml (a hand edit), the commands that schedule say how to bring them in line.
        Returns the settings to schedule with (`rate` asks under the write lock it rates in)."""
        record = self.store.memory_parameters()
        if record != self._parameters_seen:
            self._parameters_seen = record
            if record is not None and record.parameters != ():  # (): a log of several, upgraded
                self.settings = self.settings._replace(parameters=record.parameters)
        return self.settings

    def state(self, item_id: str) -> CardState | None:
        return self.store.state(item_id)

    def _unburied(
        self, items: Sequence[ItemT], now: datetime
    ) -> tuple[Sequence[ItemT], datetime | None]:
        """`items` less those buried at `now` (the same list where none is), and when the first
        of those comes back (None: none of them is buried)."""
        buried = self.store.buried(now)
        if not buried:
            return items, None
        kept = [item for item in items if item.id not in buried]
        back = [buried[item.id] for item in items if item.id in buried]
        return kept, min(back, default=None)

    def _unsuspended(self, items: Sequence[ItemT]) -> Sequence[ItemT]:
        """`items` less those whose card is suspended under the ids of its other kind
        (`suspension.held`); the same list where none is."""
        held = self._held(self._index.of(items))
        return [item for item in items if item.id not in held] if held else items

    def _held(self, item_ids: Collection[str]) -> set[str]:
        """The ids among `item_ids` held by their card's suspension under the ids of its other
        kind (`suspension.held`)."""
        # only an id that is no item's can hold one: where every id the store knows (studied
        # or suspended) is an item's, as in most collections, no more is read (0.2 ms with
        # 10,000 cards studied)
        if not self._not_new().difference(item_ids):
            return set()
        from .suspension import held

        return held(item_ids, self.store.suspended())

    def _not_new(self) -> set[str]:
        version = self.store.data_version()
        if self._seen is None or version != self._seen_version:
            self._seen, self._seen_version = self.store.not_new(), version
        return self._seen

    def contract(self, item: Card) -> str | None:
        """The hash of `item`'s contract (`content.contract.contract_hash`, kept between
        commands by `content.contract_cache`): None for an item that runs no code, or where
        this Study has no solutions folder."""
        if not item.runnable or self.solutions_dir is None:
            return None
        from studycli.content.contract_cache import cached_contract

        return cached_contract(item, self.solutions_dir)

    def recorded_hash(self, item: Card) -> str:
        """What a review of `item` records of what it was made on: the hash of its text, and
        of a coding card's contract (`content.contract.recorded_hash`)."""
        from studycli.content.contract import recorded_hash

        return recorded_hash(item, self.contract(item))
