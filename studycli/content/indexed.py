"""Cards made from the content index's rows (see `index`): the head row at once, the long
text, its hash and the path on first use."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .card import Card, Kind, Ref
from .index import BODY, DRAFT, HEAD, NAMES, NUMBERS

_SHARED = ("topic", "deck", "tags")  # values many cards share
_KINDS = {kind.value: kind for kind in Kind}


def split(card: Card, hashed: bool = True) -> tuple[tuple, tuple]:
    """A card as plain values (marshal writes only those): its head row and its body row (the
    long text, then its `card_hash`, `legacy_hash` and, for a cloze card, each study item's
    `content_hash` by deletion number (else None), or None where not `hashed`, then the head
    row again:
    a study session makes the card it shows from the body row alone, `study_view.StudyView`).
    The path is not kept: it is derived from where the file is."""
    head = []
    for name in HEAD:
        value = getattr(card, name)
        if isinstance(value, Kind):
            value = value.value
        elif isinstance(value, Ref):
            value = (value.module, value.function)
        elif name in _SHARED:  # written once, then referenced: the index reads much faster
            value = sys.intern(value) if isinstance(value, str) else tuple(map(sys.intern, value))
        head.append(value)
    # a cloze card's deletion numbers, so that its study items need not read its prompt
    items = card.study_items() if card.kind == Kind.CLOZE else None
    head.append(tuple(item.cloze for item in items) if items is not None else None)
    head.append(card.draft)
    digests = None
    if hashed:
        by_number = {item.cloze: item.content_hash for item in items} if items else None
        digests = (card.card_hash, card.legacy_hash, by_number)
    head_row = tuple(head)
    return head_row, (*(getattr(card, name) for name in BODY), digests, head_row)


class IndexedCard(Card):
    """A card built from index rows, whose body and path are read on first use (see `_Lazy`)."""

    def _read(self, name: str) -> None:
        values = self.__dict__
        index, relative, cards_dir = values["_index"]
        if name == "path":
            values["path"] = Path(cards_dir, relative)
        else:
            _set_body(values, index.body(relative, self.path))

    @property
    def content_hash(self) -> str:
        """As `Card.content_hash`, hashed when the index was written: hashed here, it imported
        hashlib and json before the front of any card studied before (3.4 ms of `review`'s
        start). A cloze item's is kept by its deletion number."""
        if self.cloze is None:
            return self.card_hash
        found = self._stored("_item_hashes")
        digest = found.get(self.cloze) if found is not None else None
        return digest if digest is not None else super().content_hash

    @property
    def card_hash(self) -> str:
        """As `Card.card_hash`, hashed when the index was written (as `content_hash`)."""
        found = self._stored("_card_hash")
        return found if found is not None else super().card_hash

    @property
    def legacy_hash(self) -> str:
        """As `Card.legacy_hash`, hashed when the index was written (as `content_hash`)."""
        found = self._stored("_legacy_hash")
        return found if found is not None else super().legacy_hash

    def _stored(self, name: str) -> Any:
        """A hash of the card's body row (see `split`), read with it; None where the card
        holds none (not made from the index, or hashed when it was written)."""
        values = self.__dict__
        if name not in values and "_index" in values:
            self._read("prompt")  # its body row, unread yet, holds it
        return values.get(name)

    @property
    def draft(self) -> bool:
        """As `Card.draft`, found when the file was parsed: `list` reads no card's text."""
        found = self.__dict__.get("_draft")  # (not on a copy made by pickle or `replace`)
        return super().draft if found is None else found

    def study_items(self) -> list[Card]:
        """As Card.study_items, but a cloze card's items are made from the deletion numbers
        the index keeps, as cheap copies that read the text only when it is shown."""
        numbers = self.__dict__.get("_cloze_numbers")
        if numbers is None:
            return super().study_items() if self.kind == Kind.CLOZE else [self]
        if self.cloze is not None:
            return [self]
        from .cloze import study_id

        items: list[Card] = []
        for number in numbers:
            item = object.__new__(IndexedCard)
            item.__dict__.update(self.__dict__)
            item.__dict__.update(id=study_id(self.id, number), cloze=number)
            item.__dict__["_cloze_numbers"] = None
            items.append(item)
        return items

    def __getstate__(self) -> dict[str, Any]:  # pickle and copy get every field, read
        return {name: getattr(self, name) for name in NAMES}


class _Lazy:
    """A body field (or the path) of an IndexedCard: read from the index the first time.

    It takes the place of the dataclass's class attribute (the field's default), which would
    answer for a value not read yet. Once read, the value is in the instance's __dict__, which
    Python consults first: the descriptor is not called again.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, card: IndexedCard | None, owner: type) -> Any:
        if card is None:
            return getattr(Card, self.name)
        values = card.__dict__
        if self.name not in values:
            card._read(self.name)
        return values[self.name]


for _name in (*BODY, "path"):
    setattr(IndexedCard, _name, _Lazy(_name))


def card(head: tuple, refs: dict[Any, Ref], rest: tuple) -> IndexedCard:
    """The card of a head row; `rest` is (path, body row), or (index, relative, cards_dir) to
    read them on first use. `refs` shares equal Refs between cards."""
    # As pickle and copy do: set the fields without running __init__ again. The values were
    # validated by parse_card when the file was read, and the dataclass has no __post_init__.
    built = object.__new__(IndexedCard)
    values = built.__dict__
    values.update(zip(HEAD, head))
    values["_cloze_numbers"] = head[NUMBERS]
    values["_draft"] = head[DRAFT]
    values["kind"] = _KINDS[values["kind"]]
    for name in ("solution", "check"):
        ref = values[name]
        if ref is not None:
            values[name] = refs.get(ref) or refs.setdefault(ref, Ref(*ref))
    if len(rest) == 2:
        values["path"] = rest[0]
        _set_body(values, rest[1])
        values["_cloze_numbers"] = None  # the card is whole: Card.study_items will do
    else:
        values["_index"] = rest
    return built


def _set_body(values: dict[str, Any], row: tuple) -> None:
    """Set a card's body fields, and the hashes of its text, from its body row (see `split`)."""
    *body, digests, _ = row
    values.update(zip(BODY, body, strict=True))
    values["_card_hash"], values["_legacy_hash"], values["_item_hashes"] = digests or (None,) * 3
