"""Loading the content folder: every card file, with every problem collected, none fatal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from studycli.errors import CardNotFound, ContentError

from .card_scan import _entries, renamed_ids

if TYPE_CHECKING:  # imported where used: `due` makes no card (load_study_items)
    from collections.abc import Iterable, Mapping

    from .card import Card, CardProblem


class Content:
    """The cards of a content folder and the problems met while reading them. (A plain class:
    as a dataclass it cost every command's start 1.8 M instructions to make, and no command
    compares two contents or prints one.)"""

    def __init__(
        self,
        root: Path,
        cards: dict[str, Card] | None = None,
        problems: list[CardProblem] | None = None,
    ) -> None:
        self.root = root
        self.cards: dict[str, Card] = {} if cards is None else cards
        self.problems: list[CardProblem] = [] if problems is None else problems

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def renames(self) -> dict[str, str]:
        """The ids the cards had before (`renamed_from`), each with the card's id now: where a
        learner's history under the old id belongs (see `renamed_ids`); an old cloze deletion
        (`old#c2`), with the card or the deletion it is now (`new#c1`)."""
        return renamed_ids(
            ((card.id, card.renamed_from) for card in self.cards.values()), self.deletions
        )

    def deletions(self, card_id: str) -> list[int]:
        """The deletion numbers of the card `card_id` (none where it is no cloze card)."""
        from .card import Kind
        from .cloze import numbers

        card = self.cards.get(card_id)
        return numbers(card.prompt) if card is not None and card.kind == Kind.CLOZE else []

    def unloaded(self) -> list[CardProblem]:
        """The problems of card files that did not load at all (a card that loads with a
        problem is not among them): each such file is left out of the content."""
        if not self.problems:
            return []
        loaded = {card.path for card in self.cards.values()}
        return [problem for problem in self.problems if problem.path not in loaded]

    def get(self, card_id: str) -> Card:
        """The card with this id.

        Raises:
            CardNotFound: with the closest ids as suggestions.
        """
        try:
            return self.cards[card_id]
        except KeyError:
            from .card import shown_path, why_unloaded

            unloaded = self.unloaded()
            for problem in unloaded:  # its file is there but does not load
                if card_id in (problem.card_id, problem.path.stem):
                    why = why_unloaded([p for p in unloaded if p.path == problem.path])
                    raise CardNotFound(
                        f"{shown_path(problem.path, self.root)}: the card {card_id!r} does not "
                        f"load: {why}"
                    ) from None
            if (renamed := self.renames.get(card_id)) is not None:
                raise CardNotFound(
                    f"no card with id {card_id!r}: it was renamed {renamed!r} (its "
                    "`renamed_from` names it), and its reviews are that card's now"
                ) from None
            close = closest(card_id, self.cards)
            tip = (
                f"; did you mean {', '.join(close)}?"
                if close
                else "; `studycli list` shows all ids"
            )
            raise CardNotFound(f"no card with id {card_id!r}{tip}") from None

    def card_of(self, item_id: str) -> tuple[Card, list[Card]]:
        """The card of a study item's id (a card's own id, or `card#c2` for one deletion of a
        cloze card), and the study items that id names (every item of the card, for its own
        id).

        Raises:
            CardNotFound: no card has that id (with the closest as suggestions), or the card
                has no such item (with the ones it has).
        """
        from .cloze import split_study_id

        base, number = split_study_id(item_id)
        if number is not None and base not in self.cards:
            self._refuse_moved(item_id)
        card = self.get(base)
        items = card.study_items()
        if number is None:
            return card, items
        named = [item for item in items if item.id == item_id]
        if not named:
            self._refuse_moved(item_id)
            known = ", ".join(item.id for item in items)
            raise CardNotFound(f"{card.id} has no study item {item_id}: it has {known}")
        return card, named

    def _refuse_moved(self, item_id: str) -> None:
        """Raises CardNotFound where the cloze deletion `item_id` was split off its card
        (another card's `renamed_from` names it), naming the item it is now."""
        if (moved := self.renames.get(item_id)) is not None:
            raise CardNotFound(
                f"no study item {item_id!r}: it is {moved!r} now (that card's `renamed_from` "
                "names it), and its reviews are that item's"
            )

    def select(
        self,
        deck: str | None = None,
        topic: str | None = None,
        kind: str | None = None,
        tag: str | None = None,
    ) -> list[Card]:
        """Cards matching every given filter, sorted by deck then id.

        Raises:
            ContentError: a deck, topic, kind or tag that no card has (a typo, most likely),
                with the closest as suggestions.
        """
        for what, value in (("deck", deck), ("topic", topic), ("kind", kind), ("tag", tag)):
            if value is None:
                continue
            known = self._names(what)
            if value not in known:  # (another filter's name: `--topic vision` for a deck)
                others = {other: self._names(other) for other in _FILTERS if other != what}
                _refuse_unknown(what, value, known, others)
        chosen = [
            card
            for card in self.cards.values()
            if (deck is None or card.deck == deck)
            and (topic is None or card.topic == topic)
            and (kind is None or card.kind.value == kind)
            and (tag is None or tag in card.tags)
        ]
        return sorted(chosen, key=lambda c: (c.deck, c.id))

    def _names(self, what: str) -> set[str]:
        """The values the cards give the filter `what` (deck, topic, kind or tag)."""
        from .kind import Kind

        if what == "kind":
            return {k.value for k in Kind}
        if what == "tag":
            return {t for card in self.cards.values() for t in card.tags}
        return {getattr(card, what) for card in self.cards.values()}


def load_content(root: Path, *, index: Path | None = None) -> Content:
    """Read every `cards/<deck>/<id>.yaml` under `root`.

    A broken file becomes a `CardProblem` (with the YAML line where there is one) and the rest
    still loads, so `lint` can report everything at once. Duplicate ids keep the first file.

    Args:
        root: the content folder (it holds cards/).
        index: a cache file (see `content.index`): files unchanged since they were cached, by
            path, size, mtime and ctime, are not parsed again, and the index is rewritten when any
            file was. None reads every file (as `lint` does).
    """
    from .card import CardProblem
    from .indexed import card as make

    cached, found, fresh = _entries(root, index)
    folder = str(root / "cards")
    content = Content(root=root)
    cards = content.cards
    refs: dict = {}
    for relative, entry in found:
        if entry is None:  # a .yml file
            content.problems.append(CardProblem(Path(folder, relative), _YML))
            continue
        if entry[3]:
            path = Path(folder, relative)
            content.problems += [CardProblem(path, *problem) for problem in entry[3]]
        if entry[2] is not None:
            body = fresh.get(relative)
            rest = (cached, relative, folder) if body is None else (Path(folder, relative), body)
            card = make(entry[2], refs, rest)
            if card.id in cards:
                content.problems.append(_duplicate(card.path, card.id, cards[card.id].path, root))
            else:
                cards[card.id] = card
    return content


def closest(typed: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The `n` names a mistyped `typed` most likely meant: those it begins, shortest first,
    then difflib's closest. A name typed in part ('flash' for flash-attention, 'sliding' for
    sliding-window-max) is one difflib's ratio leaves out (0.5 and 0.56, under its 0.6): it
    offered gau-flash, or nothing. Case is no typo: ids and topics are lowercase (decks and
    tags, as written, nearly always), and `show NMS` or `--topic ROPE`, every letter counted
    as a typo, offered nothing where 'Vision' (one letter) offered vision. Names that differ
    in case alone (tags PyTorch and pytorch of two cards) are each offered: one name for each
    folded one kept the last."""
    by_folded: dict[str, list[str]] = {}
    for name in sorted(names):
        by_folded.setdefault(name.casefold(), []).append(name)
    folded, typed = list(by_folded), typed.casefold()
    begun = sorted((name for name in folded if typed and name.startswith(typed)), key=len)
    found = dict.fromkeys(begun + _misspelt(typed, folded))
    return [name for key in found for name in by_folded[key]][:n]


_TYPO_CHARACTERS = 4  # the most characters a typo leaves unmatched: two letters changed


def _misspelt(typed: str, names: list[str]) -> list[str]:
    """The names that `typed` may be a typo of, the closest first: difflib's ratio at least its
    0.6, and at most `_TYPO_CHARACTERS` characters of the two unmatched (a cutoff that rises
    with their length: 1 - 4 / (both lengths)). The ratio alone offered unrelated words of the
    length that makes 0.6 easy: tag 'nonexistent' suggested noise (0.625, 6 characters
    unmatched); 'nope' still suggests rope (2), 'code' coding (4). A name of three or four
    letters two letters off is not offered: the two it keeps are what unrelated short words
    share with it (a ratio of 0.5 with 3 unmatched and the first letter kept offered tag adam
    for 'add', beit and bert for 'but', topic map for 'math': a tag for 146 more card-text
    words, where it found 29 more of 197 two-edit typos of the shipped 3-4 letter tags)."""
    import difflib

    found = []
    for name in difflib.get_close_matches(typed, names, n=max(len(names), 1)):
        blocks = difflib.SequenceMatcher(None, typed, name).get_matching_blocks()
        unmatched = len(typed) + len(name) - 2 * sum(block.size for block in blocks)
        if unmatched <= _TYPO_CHARACTERS:
            found.append(name)
    return found


_FILTERS = ("deck", "topic", "kind", "tag")


def _refuse_unknown(
    what: str, value: str, known: set[str], others: Mapping[str, Iterable[str]] | None = None
) -> None:
    """Raises ContentError: a filter's `value` (a deck, topic, kind or tag) that no card has (a
    typo, most likely), with the closest of `known` as suggestions; or, where `value` is the
    name of another filter (`others`: each filter's names; `--topic vision`, a deck), that
    filter to use: the list of the 45 topics did not say that vision is a deck."""
    if value in known:
        return
    close = closest(value, known)
    if (other := _another_filter(value, known, others or {})) is not None:
        name, which = other
        tip = f"{name} is a {which}: --{which} {name}"
    elif close:
        tip = f"did you mean {', '.join(close)}?"
    elif what == "tag":  # (hundreds of them: where to see them)
        tip = "`studycli list --json` shows each card's tags"
    elif not known:  # (no card at all: it said "decks: ", naming none)
        tip = (
            "the content holds no cards (`studycli lint` says why, where a card file does not load)"
        )
    else:
        tip = f"{what}s: {', '.join(sorted(known))}"
    raise ContentError(f"no card has {what} {value!r}; {tip}")


def _another_filter(
    value: str, known: set[str], others: Mapping[str, Iterable[str]]
) -> tuple[str, str] | None:
    """(the name, the filter) where `value` is the name of another filter than its own (whose
    names are `known`): as typed, else in other case, where its own has no name in that case
    (case is no typo, as `closest` takes it): `--topic VISION` listed the 45 topics where
    `--topic vision` said that vision is a deck."""
    for which, names in others.items():
        if value in names:
            return value, which
    folded = value.casefold()
    if any(name.casefold() == folded for name in known):
        return None
    for which, names in others.items():
        for name in sorted(names):
            if name.casefold() == folded:
                return name, which
    return None


def _duplicate(path: Path, card_id: str, first: Path, root: Path) -> CardProblem:
    """The problem of the card file `path`, left out: its id is that of `first`'s card."""
    from .card import CardProblem, shown_path

    return CardProblem(
        path,
        f"duplicate id {card_id!r}: {shown_path(first, root)} already uses it{_DUPLICATE_FIX}",
        card_id=card_id,
    )


_YML = "card files end in .yaml: rename it"


_DUPLICATE_FIX = (
    ": give the new card of the two another id, and its file that name (a published card keeps "
    "its id, under which its learners' reviews are kept, unless it is renamed with "
    "`renamed_from`)"
)
