"""The entries of a card's `renamed_from`: whose learners' history the card carries on.

An entry names a card (`old-id`: the card had that id, and every item of it moves, a cloze
card's deletion by deletion) or one study item: a plain card's entry `old-id#c2` takes that
cloze deletion's history, and a cloze card's entry `old-item -> c1` (a deletion `old-id#c2`, or
a plain card's id) takes that item's history onto its own deletion c1: a card split by its
author keeps each moved deletion's history. (`Content.renames` maps each old id to its new one:
`moved_to`.) Only text is read here, nothing of the card format: the study rows that `due`
reads are made with it (`card_scan.renamed_ids`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cloze import SEPARATOR

if TYPE_CHECKING:
    from collections.abc import Mapping

ARROW = "->"  # between an item and the deletion it is now, in a cloze card's entry
# An entry's form, for the card schema (editors' checks; `entry_problem` is the loader's): an
# id, a deletion's (`#c2`), and in a cloze card the deletion it is now (` -> c1`).
ENTRY_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*(#c[1-9][0-9]*)?( *-> *c[1-9][0-9]*)?$"


def moved_to(card_id: str, entry: str) -> tuple[str, str]:
    """(the old id an entry of `card_id`'s `renamed_from` names, the id its history moves to):
    `old` -> `card_id`, `old#c2` -> `card_id`, `old#c2 -> c1` -> `card_id#c1`."""
    old, arrow, target = entry.partition(ARROW)
    if not arrow:
        return entry, card_id
    return old.strip(), f"{card_id}#{target.strip()}"


def renamed_id(study_id: str, renames: Mapping[str, str]) -> str:
    """The id of `study_id` now (`renames`: old id -> new, `Content.renames`): the item it
    moved to where an entry names it (a cloze deletion split off, `old#c2` -> `new` or
    `new#c1`); else under its card's new id where the card was renamed, a cloze deletion's by
    its number (`old#c2` -> `new#c2`), and on where that deletion was split off since; else
    `study_id` as it is. How a review log written before the rename is read (an import, a fit
    to the file), and where `carry` moves what the store holds."""
    new = renames.get(study_id)
    if new is not None:
        return new
    card, separator, number = study_id.partition(SEPARATOR)
    new = renames.get(card) if separator else None
    if new is None or SEPARATOR in new:  # (no rename; or a card's id taken by one deletion)
        return study_id
    return renames.get(new + separator + number, new + separator + number)


def card_entries(renamed_from: tuple[str, ...]) -> tuple[str, ...]:
    """The entries of `renamed_from` that name a whole card (the ids the card itself had),
    oldest first: an entry of one item names none of its card's notes or files."""
    return tuple(entry for entry in renamed_from if SEPARATOR not in entry and ARROW not in entry)


def entry_problem(entry: str, card_id: str, deletions: list[int] | None) -> str | None:
    """What is wrong with one entry of `card_id`'s `renamed_from` (`deletions`: the card's
    deletion numbers, None for a plain card), with its fix; None where it may carry a
    history. What only the whole content tells (an old item still there, one two cards
    claim) is lint's."""
    from .fields import ID_PATTERN, MAX_ID_LENGTH

    old, arrow, target = (part.strip() for part in entry.partition(ARROW))
    old_card, separator, number = old.partition(SEPARATOR)
    written = (
        "the id the card had before, as its `id:` line gave it, or one cloze deletion's "
        "(`old-id#c2`)"
    )
    if deletions is not None:
        written += ", followed in this cloze card by the deletion it is now (`old-id#c2 -> c1`)"
    if len(old_card) > MAX_ID_LENGTH or not ID_PATTERN.match(old_card):
        return (
            f"is {entry[: MAX_ID_LENGTH + 10]!r}, which is not an id (kebab-case, at most "
            f"{MAX_ID_LENGTH} characters): write {written}"
        )
    if separator and not _is_number(number):
        return f"names {old!r}, which is no cloze deletion: write {written}"
    if old_card == card_id and separator:
        return (
            f"names {old!r}, a deletion of this card: a deletion keeps its number (its history "
            "is under it); remove the entry"
        )
    if arrow and deletions is None:
        return (
            f"moves {old!r} onto deletion {target!r}, and this card is no cloze card: write "
            f"`{old}` alone (its history becomes this card's)"
        )
    if arrow and not (target[:1] == "c" and _is_number(target[1:])):
        return f"moves {old!r} onto {target!r}, which is no deletion: write `{old} -> c1`"
    if arrow and deletions is not None and int(target[1:]) not in deletions:
        have = ", ".join(f"c{n}" for n in deletions)
        return (
            f"moves {old!r} onto deletion {target}, which this card does not have (it has "
            f"{have}): name the one that holds its fact; if that fact left this card (split "
            f"off into another), list {old!r} in the card that took it over, beside "
            f"`{card_id}#{target}`, and take this entry out"
        )
    if separator and deletions is not None and not arrow:
        return (
            f"names the deletion {old!r} and not the deletion of this card it is now: write "
            f"`{old} -> c1` (with the number it has here)"
        )
    return None


def _is_number(text: str) -> bool:
    """Whether `text` is a deletion's number as its id writes it: 1, 2, ..., no leading 0."""
    return text.isdigit() and text.isascii() and not text.startswith("0")
