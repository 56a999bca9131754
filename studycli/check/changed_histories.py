"""What a change does to the learners' review histories, for `check --changed` (changed.py).

The histories are keyed by card id and, for a cloze card,
by id and deletion number: a card id that was there at the base and is gone, with a new id in
the change, is a rename, which passes where the new card lists the old id in `renamed_from`
(its learners' histories follow it: `study.renames`), and fails where it does not; a published
cloze card whose deletions' texts moved to other numbers (or whose numbers were removed), under
its id or the one it was renamed to, is renumbered. Both are read from the card files' texts
at the base and now, so a rename made with plain `mv`, not staged, counts as one made with
`git mv`.
A published card changed to a cloze card or from one is rekinded: its reviews were kept under
other keys than it has now. An id that a card at the base listed in `renamed_from` and no
card lists now (the card merged into another, or renamed again, without its own old ids) is
forgotten: a learner who has not studied since that first rename keeps its reviews under it
(changed_entries.py, as an entry that carries nothing is).
A card whose first id at the base is listed now after another is reordered: an Anki export
keys its note by the first id listed.
A card's text now under another id, while its own card holds another, is moved (two ids
swapped: neither is gone, so no rename is seen): the reviews of the text stay with its old id.
So is a removed card's text put over a card there at the base (its id not new, no rename is
seen either).

The records of what is found (`Histories`, and one for each kind of change): changed_records.py;
what a change does to a cloze card's deletions (renumbered, split off): changed_deletions.py;
texts moved between ids and first ids listed after another: changed_moves.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from studycli.content.card import Card, Kind
from studycli.content.cloze import SEPARATOR, split_study_id, study_id
from studycli.content.cloze import numbers as numbers_of  # (a local is named numbers)
from studycli.content.loader import Content

from .changed_deletions import renumbering, rest_of_split, split_off
from .changed_entries import forgotten_ids, unfit_entries
from .changed_git import _texts_at
from .changed_moves import moved_texts, reordered_cards
from .changed_records import (
    Gapped,
    Histories,
    Rekinded,
    Renamed,
    Renumbered,
)


def _histories(repo: Path, base: str, content: Content, paths: set[Path]) -> Histories:
    """What the change since `base` (`paths`: its changed files) does to the learners'
    histories (`Histories`, field by field): a cloze card renamed with `renamed_from` is
    compared with its old id's text for its numbers. Only changed card files can have
    changed: their texts at `base` (one `git cat-file --batch`) and now are compared."""
    cards = content.root.resolve() / "cards"
    files = sorted(p for p in paths if p.suffix == ".yaml" and cards in p.parents)
    was = {_id_of(p, text): text for p, text in _texts_at(repo, base, files).items()}
    then = {card_id: _card_at_base(text) for card_id, text in was.items()}
    now = {}
    for path in files:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            now[_id_of(path, text)] = (path, text)
    kept = {i for i, card in content.cards.items() if card.path.resolve() not in paths}
    renames = content.renames
    split = split_off(then, content)
    unfit = unfit_entries(then, content)
    named = {u.old for u in unfit}  # (by an entry that carries nothing: said as such)
    carried = tuple(  # (a plain card's id may be a cloze card's deletion now: `new#c1`)
        Renamed(old, renames[old], content.cards[split_study_id(renames[old])[0]].path)
        for old in sorted(was.keys() - now.keys() - kept - named)
        if old in renames
    ) + tuple(split.values())
    split_whole = {  # a cloze card gone, every deletion of it taken over by another card
        card_id
        for card_id, card in then.items()
        if card is not None and card.kind == Kind.CLOZE and card_id not in content.cards
        and all(study_id(card_id, n) in split for n in numbers_of(card.prompt))
    }  # fmt: skip
    gone = sorted(was.keys() - now.keys() - kept - renames.keys() - split_whole - named)
    added = {i: now[i] for i in now.keys() - was.keys() - kept}
    paired = {old: _most_like(old, was[old], added) for old in gone} if added else {}
    # a new card is one old card renamed at most: the one most like it (two cards of a topic
    # removed beside one new card of it were both "renamed" to it)
    best: dict[str, str] = {}
    for old, pair in paired.items():
        if pair is not None and (
            pair.new not in best
            or _likeness(was[old], added[pair.new][1])
            > _likeness(was[best[pair.new]], added[pair.new][1])
        ):
            best[pair.new] = old
    paired = {old: pair if pair is not None and best.get(pair.new) == old else None
              for old, pair in paired.items()}  # fmt: skip
    renamed = tuple(
        rest_of_split(pair, then[pair.old], content, split, set(added))
        for pair in paired.values()
        if pair is not None
    )
    renumbered, rekinded, edited = [], [], []
    # each card there at the base and now, under its id, or the id it was renamed to
    pairs = [(card_id, card_id) for card_id in sorted(was.keys() & now.keys())]
    pairs += [(r.old, r.new) for r in carried if r.new in now and r.old in then]
    for old_id, card_id in pairs:
        card, before_card = content.cards.get(card_id), then[old_id]
        before, kind_before = (
            (before_card.prompt, before_card.kind.value) if before_card else (None, None)
        )
        kind_now = _kind_of(now[card_id][1])
        cloze = Kind.CLOZE.value
        if kind_before and kind_now and (kind_before == cloze) != (kind_now == cloze):
            rekinded.append(Rekinded(card_id, now[card_id][0], kind_before, kind_now))
        elif card is not None and before_card is not None:
            edited += _edited(before_card, card)
        if card is None or card.kind != Kind.CLOZE or before is None or kind_before != cloze:
            continue
        moved, removed = renumbering(before, card.prompt)
        removed = tuple(n for n in removed if study_id(old_id, n) not in split)
        if moved or removed:
            renumbered.append(Renumbered(card_id, card.path, moved, removed))
    edited += _carried_edits(carried, then, content)
    gapped = []
    renamed_to = {r.new for r in (*renamed, *carried)}
    for card_id in sorted(added.keys() - renamed_to):  # (a rename says so)
        card = content.cards.get(card_id)
        if card is not None and card.kind == Kind.CLOZE:
            numbers = tuple(numbers_of(card.prompt))
            if numbers != tuple(range(1, len(numbers) + 1)):
                gapped.append(Gapped(card_id, card.path, numbers))
    forgotten = forgotten_ids(then, content)
    gone_ids = tuple(old for old in gone if paired.get(old) is None)
    texts_moved = moved_texts(then, content, set(now))
    return Histories(
        renamed=renamed,
        carried=carried,
        removed=gone_ids,
        renumbered=tuple(renumbered),
        rekinded=tuple(rekinded),
        gapped=tuple(gapped),
        moved=texts_moved,
        forgotten=forgotten,
        reordered=reordered_cards(then, content, set(was)),
        unfit=unfit,
        edited=tuple(sorted(set(edited))),
    )


def _edited(before: Card, card: Card) -> list[str]:
    """The study items of `card` (a card there at the base as `before`, of the same kind)
    whose text as shown changed since: what each learner who studied one is told at its next
    review ("edited since your last review", `Card.content_hash`); a reflow, an explanation or
    a hint is none, and a cloze card's item shows its own deletion's hint only. An item new
    since (a deletion's number that `before` lacks) has no history to flag; nor has a card
    that was a draft at the base (never studied: `study_items` leaves drafts out), and one
    that is a draft now is shown to no one until it is written again."""
    if before.draft or card.draft:
        return []
    then = {item.cloze: item.content_hash for item in before.study_items()}
    return [
        item.id
        for item in card.study_items()
        if item.cloze in then and then[item.cloze] != item.content_hash
    ]


def _carried_edits(
    carried: tuple[Renamed, ...], then: dict[str, Card | None], content: Content
) -> list[str]:
    """The study items now that a history carried from another item takes over (a cloze
    deletion split off to a card of its own, `old#c3` -> `new`; a plain card moved onto a
    deletion, `old` -> `new#c1`), whose text as shown is not that item's at the base: each of
    its learners is told so at its next review, as of an edit (`_edited`; a whole card
    renamed is compared there)."""
    found = []
    for entry in carried:
        if SEPARATOR not in entry.old and SEPARATOR not in entry.new:
            continue  # (a whole card renamed: `_edited`)
        before = _item(then.get(split_study_id(entry.old)[0]), entry.old)
        now = _item(content.cards.get(split_study_id(entry.new)[0]), entry.new)
        if before is None or now is None or before.draft or now.draft:
            continue
        if before.content_hash != now.content_hash:
            found.append(entry.new)
    return found


def _item(card: Card | None, item_id: str) -> Card | None:
    """The study item `item_id` of `card` (a deletion of a cloze card, else the card)."""
    if card is None:
        return None
    return next((item for item in card.study_items() if item.id == item_id), None)


# A gone id is taken for renamed to a new card that shares at least this share of its lines
# (a shipped card with its id and title changed keeps 0.71 or more; two cards of one deck
# share at most 0.31) or that is about the same topic: a card removed beside an unrelated
# new one is a removal, not a rename to it.
RENAMED_LIKENESS = 0.5


def _most_like(old: str, text: str, added: dict[str, tuple[Path, str]]) -> Renamed | None:
    """`old` paired with the new card whose text shares the most lines with its own (the
    share of their lines in common; the first id in order on a tie), if it is like enough
    (`RENAMED_LIKENESS`) or of the same topic; None when no new card is."""

    def likeness(card_id: str) -> float:
        return _likeness(text, added[card_id][1])

    new = max(sorted(added), key=likeness)
    topic = _topic_of(text)
    if likeness(new) < RENAMED_LIKENESS:
        same = [card_id for card_id in sorted(added) if _topic_of(added[card_id][1]) == topic]
        if topic is None or not same:
            return None
        new = max(same, key=likeness)
    return Renamed(old, new, added[new][0])


def _kind_of(text: str) -> str | None:
    """The kind a card file's text declares (None where it declares none, or does not read)."""
    data = _mapping(text)
    kind = data.get("kind") if data is not None else None
    return kind if isinstance(kind, str) else None


def _card_at_base(text: str) -> Card | None:
    """The card a card file's text at the base held; None where it is not a card that loads:
    no learner has reviews of it, whatever it becomes."""
    from studycli.content.parse import parse_card

    data = _mapping(text)
    if data is None:
        return None
    return parse_card(data, Path(f"{data.get('id')}.yaml"), deck="deck")[0]


def _mapping(text: str) -> dict | None:
    """A card file's text as YAML, where it reads as a mapping."""
    import yaml

    from studycli.content.card_yaml import yaml_loader

    try:
        data = yaml.load(text, Loader=yaml_loader())
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


_ID_LINE = re.compile(r"^id:[ \t]*[\"']?([^\"'\s#]+)", re.MULTILINE)


def _likeness(one: str, other: str) -> float:
    """The share of two card texts' lines that they have in common."""
    lines, theirs = set(one.splitlines()), set(other.splitlines())
    return len(lines & theirs) / max(len(lines | theirs), 1)


_TOPIC_LINE = re.compile(r"^topic:[ \t]*[\"']?([^\"'\s#]+)", re.MULTILINE)


def _topic_of(text: str) -> str | None:
    """The topic a card file's text declares (None when it declares none)."""
    found = _TOPIC_LINE.search(text)
    return found.group(1) if found else None


def _id_of(path: Path, text: str) -> str:
    """The id a card file's text declares (its name's stem when it declares none)."""
    found = _ID_LINE.search(text)
    return found.group(1) if found else path.stem
