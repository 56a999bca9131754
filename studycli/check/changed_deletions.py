"""What a change does to a cloze card's deletions, for `check --changed`
(changed_histories.py): their texts moved to other numbers or removed (`renumbering`), and
deletions split off to cards of their own (`split_off`), with the `renamed_from` entries that
the rest of a split card needs (`rest_of_split`)."""

from __future__ import annotations

import re
from pathlib import Path

from studycli.content.card import Card, Kind
from studycli.content.cloze import deletions, split_study_id, study_id
from studycli.content.cloze import numbers as numbers_of  # (a local is named numbers)
from studycli.content.loader import Content
from studycli.content.renamed_from import moved_to

from .changed_records import Renamed


def renumbering(before: str, after: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """How the deletions of a cloze prompt changed numbers from `before` to `after`: (number
    then, number now) of each deletion text now under another number and no longer under its
    own, and the numbers gone whose texts are under none. Texts compare with their spacing
    ignored; an edited text is a new text, and moves nothing."""
    was, now = _facts(before), _facts(after)
    where: dict[str, set[int]] = {}
    for number, texts in now.items():
        for text in texts:
            where.setdefault(text, set()).add(number)
    moved = sorted(
        {
            (number, other)
            for number, texts in was.items()
            for text in texts
            if number not in where.get(text, set())
            for other in where.get(text, set())
        }
    )
    left = {a for a, _ in moved}
    removed = tuple(n for n in sorted(was) if n not in now and n not in left)
    return tuple(moved), removed


def _facts(prompt: str) -> dict[int, set[str]]:
    """Each deletion number of a cloze prompt and the texts it hides, spacing normalised."""
    found: dict[int, set[str]] = {}
    for deletion in deletions(prompt):
        found.setdefault(deletion.number, set()).add(" ".join(deletion.text.split()))
    return found


def split_off(was: dict[str, Card | None], content: Content) -> dict[str, Renamed]:
    """The deletions of the cloze cards at the base (`was`: the cards of the changed card
    files then, by id) that a card now takes over by itself (`old#c2` in its `renamed_from`),
    by their study item id: their learners' histories follow them (`study.renames`)."""
    renames = content.renames
    split = {}
    for card_id, card in sorted(was.items()):
        if card is None or card.kind != Kind.CLOZE:
            continue
        for number in numbers_of(card.prompt):
            item = study_id(card_id, number)
            new = renames.get(item)
            if new is not None and (owner := split_study_id(new)[0]) in content.cards:
                split[item] = Renamed(item, new, content.cards[owner].path)
    return split


def rest_of_split(
    pair: Renamed, was: Card | None, content: Content, split: dict[str, Renamed], added: set[str]
) -> Renamed:
    """`pair` (a gone card paired with the new card most like it), with the entries that its
    deletions no card lists need, where it was a cloze card some of whose deletions were split
    off (`split`): each to the card new in the change (`added`) its text went to, else to
    `pair.new` (`_entry_for`). A new cloze card that lists no deletion of it and holds a text
    of it under the same number is it renamed: `renamed_from: [old]` carries its deletions
    under their numbers (`pair` as it is)."""
    if was is None or was.kind != Kind.CLOZE:
        return pair
    numbers = numbers_of(was.prompt)
    left = [n for n in numbers if study_id(pair.old, n) not in split]
    if len(left) == len(numbers):
        return pair
    then, card = _facts(was.prompt), content.cards.get(pair.new)
    if card is None:  # (a new file that does not load: lint says why)
        return pair
    if card.kind == Kind.CLOZE:
        now = _facts(card.prompt)
        took = any(moved_to(card.id, e)[0].startswith(f"{pair.old}#") for e in card.renamed_from)
        if not took and any(now.get(n, set()) & then[n] for n in left):
            return pair
    # (`card` the last one looked in: cN where it has no such text)
    cards = [content.cards[i] for i in sorted(added) if i in content.cards and i != card.id]
    cards.append(card)
    return pair._replace(
        entries=tuple(_entry_for(study_id(pair.old, n), then[n], cards) for n in left)
    )


def _entry_for(item: str, texts: set[str], cards: list[Card]) -> tuple[str, Path]:
    """The `renamed_from` entry that takes the deletion `item` (its texts, spacing normalised)
    over, with the file to list it in: of the first of `cards` that holds one of its texts, a
    cloze card's deletion (`'old#c3 -> c1'`) or a plain card's prompt or answer (`old#c3`);
    else of the last of `cards` (`'old#c3 -> cN'` in a cloze card)."""
    for card in cards:
        if card.kind == Kind.CLOZE:
            numbers = [k for k, facts in sorted(_facts(card.prompt).items()) if facts & texts]
            if numbers:
                return f"{item} -> c{numbers[0]}", card.path
        elif any(_holds_words(f"{card.prompt} {card.answer}", t) for t in texts):
            return item, card.path
    last = cards[-1]
    return (f"{item} -> cN" if last.kind == Kind.CLOZE else item), last.path


def _holds_words(text: str, words: str) -> bool:
    """Whether `words` (a deletion's text) stand in `text` as words of their own, case and
    spacing aside: matched as a substring, a short deletion ("rate", "x") was found inside
    unrelated words ("accurate", "max"), and its entry suggested for the wrong card. (An end
    of `words` that is no word character, as in "(x)" or "-1", needs no boundary there.)"""
    text, words = " ".join(text.split()).casefold(), " ".join(words.split()).casefold()
    if not words:
        return False
    before = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", words[-1]) else ""
    return re.search(before + re.escape(words) + after, text) is not None
