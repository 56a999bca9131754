"""What `check --changed` finds a change does to the learners' review histories, as records:
each card renamed, renumbered, rekinded, moved, reordered or gapped, and all of them together
(`Histories`). How they are found: changed_histories.py; what `check` says of each:
changed.py."""

from __future__ import annotations

from pathlib import Path

from studycli.records import Record

from .changed_entries import Forgotten, Unfit


class Renamed(Record):
    """A card id there at the base and gone now, with the new card most like it."""

    old: str
    new: str
    path: Path  # the new card's file
    # where `old` was a cloze card split (some deletions listed by cards now, `old#c2`): the
    # entry each other deletion needs, with the file of the card its text went to (else `new`'s)
    entries: tuple[tuple[str, Path], ...] = ()


class Rekinded(Record):
    """A card there at the base changed to a cloze card, or from one."""

    card_id: str
    path: Path
    was: str  # its kind at the base
    now: str


class Moved(Record):
    """A card's text at the base, now another card's: of an id there at the base too (two ids
    swapped), or of a new one, while its own card, still there, holds another text; or of an
    id there at the base, its own card gone (a text put over another card's)."""

    old: str  # the id whose text it was at the base
    new: str  # the id whose text it is now
    path: Path  # the file of `new`


class Reordered(Record):
    """A card whose first id at the base (its `renamed_from`'s first, else its id: the key of
    its Anki note, `export.anki`) is listed by it now (or by the card it was renamed to), but
    not first: its ids out of order, oldest not first."""

    first: str  # the card's first id at the base
    card_id: str  # the card that lists it now
    listed: tuple[str, ...]  # that card's `renamed_from` now
    path: Path  # its file


class Gapped(Record):
    """A cloze card new in the change whose deletion numbers skip one (c1, c3)."""

    card_id: str
    path: Path
    numbers: tuple[int, ...]


class Renumbered(Record):
    """A cloze card there at the base whose deletions' numbers changed."""

    card_id: str
    path: Path
    moved: tuple[tuple[int, int], ...]  # (number at the base, number now) of a deletion's text
    removed: tuple[int, ...]  # numbers at the base whose texts are under no number now


class Histories(Record):
    """What a change does to the learners' review histories (changed_histories.py's
    `_histories`)."""

    renamed: tuple[Renamed, ...]  # ids gone, with a new card like them, not listing them
    carried: tuple[Renamed, ...]  # ids gone, listed in a card's `renamed_from`
    removed: tuple[str, ...]  # ids gone, with no new card like them
    renumbered: tuple[Renumbered, ...]  # cloze cards whose deletions changed numbers
    rekinded: tuple[Rekinded, ...]  # cards changed to a cloze card, or from one
    gapped: tuple[Gapped, ...]  # new cloze cards whose numbers skip one
    moved: tuple[Moved, ...]  # card texts now under another id
    forgotten: tuple[Forgotten, ...]  # old ids listed at the base, by no card now
    reordered: tuple[Reordered, ...]  # cards whose first id is listed after another now
    unfit: tuple[Unfit, ...]  # entries that carry nothing
    edited: tuple[str, ...]  # study items whose text as shown changed (`_edited`)
