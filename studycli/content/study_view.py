"""The content as `due` and a study session read it, no card made but the one shown: the study
items from the content index's study rows (`load_study_items`), why a file is left out of
them (`unloaded_problems`), and `StudyView`, which makes a card when it is shown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from studycli.records import Record

from . import index as _index
from .card_scan import _ID, _body_of, _cards_dir, _entries, _scan, _study_rows
from .loader import _YML, _duplicate, _refuse_unknown

if TYPE_CHECKING:  # imported where used: `due` makes no card (load_study_items)
    from .card import Card, CardProblem


class StudyItem(Record):
    """What `due` needs of a study item (see `Card.study_items`): its id, its card's deck and
    the ids of the cards its card requires."""

    id: str
    deck: str
    requires: tuple[str, ...]


class Draft(Record):
    """A card still being written (`Card.draft`), which gives no study item: its id and deck."""

    id: str
    deck: str


def load_study_items(
    root: Path, *, index: Path | None = None
) -> tuple[list[StudyItem], list[Path], list[Draft], dict[str, str]]:
    """The study items of the cards under `root`, as `load_content(root, index=index)`'s cards
    give them (`study.api.study_items`, in the same order: a draft gives none), no card made:
    from the index's study rows while the files are those it was written from, else from its
    entries (a file it no longer stands for is read, and the index rewritten). And the card
    files left out, as `Content.unloaded()` names them (a file that does not load, a duplicate
    id's second), the drafts, and the renamed ids, as `Content.renames` gives them.

    Raises:
        ContentError: `root` has no cards/ folder.
    """
    cached, scan = None, None
    if index is not None:
        view, cached, scan = _study_view(root, index)
        if view is not None:
            return view.items, view.left_out, view.drafts, view.renames
    _, found, _ = _entries(root, index, cached=cached, scan=scan, rewrite=True)
    rows, left_out, drafts, renames = _study_rows(found)
    folder = root / "cards"
    return (
        [tuple.__new__(StudyItem, row) for row in rows],
        [folder / r for r in left_out],
        [tuple.__new__(Draft, row) for row in drafts],
        renames,
    )


def unloaded_problems(root: Path, paths: list[Path], *, index: Path) -> list[CardProblem]:
    """The problems of the card files `paths`, left out of the study items (`load_study_items`,
    `StudyView.left_out`), as `Content.unloaded()` gives them: to say why each is left out.
    Read only where a file is left out, from the content index's entries, which hold each
    file's problems as its parse found them (6 ms with 10,000 cards, where loading the
    content again took 134 ms); a file the index does not hold as it is now (a cache folder that
    cannot be written) is parsed again."""
    from .card import CardProblem
    from .card_yaml import _parse_file

    folder = root / "cards"
    entries = _index.read(index, root).entries
    problems: list[CardProblem] = []
    for path in paths:
        if path.suffix == ".yml":
            problems.append(CardProblem(path, _YML))
            continue
        relative = path.relative_to(folder).as_posix()
        entry = entries.get(relative)
        if entry is None or _stamp(path) != (entry[0], entry[1], entry[4]):
            head, _, found = _parse_file(path, relative, relative.count("/") + 1, False)
        else:
            head, found = entry[2], entry[3]
        problems += [CardProblem(path, *problem) for problem in found]
        if not found and head is not None:  # it loads: a duplicate id, the first file's
            card_id = head[_ID]
            first = next(
                (r for r, e in entries.items() if r != relative and e[2] and e[2][_ID] == card_id),
                None,
            )
            if first is not None:
                problems.append(_duplicate(path, card_id, folder / first, root))
    return problems


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """A file's size, mtime and ctime (ns), as an index entry holds them; None if gone."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns, found.st_ctime_ns


class StudyView:
    """An unchanged content folder as a study session reads it: its study items from the
    index's study rows (`items`, as `load_study_items` gives them: no card made), and a card
    made from its own row of the index only when it is shown (`card`). Making every card
    first, from every card's entry, was most of what `review` spent loading the content:
    with the 452 shipped cards, 418 M instructions to its first card against 403 M now; with
    10,000 cards 0.22 s against 0.17 s (`due` 0.16 s)."""

    def __init__(
        self,
        root: Path,
        cached: _index.Index,
        items: list[StudyItem],
        left_out: list[Path],
        drafts: list[Draft],
        renames: dict[str, str],
    ) -> None:
        self.root, self.items, self.left_out, self.drafts = root, items, left_out, drafts
        self.renames = renames  # as `Content.renames` gives them
        self._cached, self._folder = cached, root / "cards"
        self._made: dict[str, Card] = {}
        self._refs: dict = {}

    def select(self, deck: str | None = None) -> list[StudyItem]:
        """The items of the cards in `deck` (None: every item); none, of a deck of drafts.

        Raises:
            ContentError: a deck no card has, as `Content.select` says it.
        """
        if deck is None:
            return self.items
        decks = {item.deck for item in self.items} | {draft.deck for draft in self.drafts}
        if deck not in decks:  # (a topic's slug, `--deck diffusion`: the filter to use)
            from .topics import topics

            _refuse_unknown("deck", deck, decks, {"topic": topics()})
        return [item for item in self.items if item.deck == deck]

    def card(self, item: Any) -> Card:
        """The card (a cloze card's: the deletion's item) to show for `item`, one of `items`;
        a `Card` already made is itself."""
        if type(item) is not StudyItem:
            return item
        from .cloze import split_study_id

        card_id = split_study_id(item.id)[0]
        made = self._made.get(card_id)
        if made is None:
            from .indexed import card as make

            # a card loads only from cards/<its deck>/<its id>.yaml (lint's rule), and of two
            # with one id the first in path order keeps it: its study rows carry its deck
            relative = f"{item.deck}/{card_id}.yaml"
            head = self._cached.body(relative, self._folder / relative)[-1]
            made = make(head, self._refs, (self._cached, relative, str(self._folder)))
            self._made[card_id] = made
        if made.id == item.id:
            return made
        return next(part for part in made.study_items() if part.id == item.id)


def load_study_view(root: Path, index: Path) -> StudyView | None:
    """The content folder as a study session reads it (see `StudyView`), while the index at
    `index` stands for every card file (the same paths, sizes and mtimes, none racy); else None
    (load it with `load_content`, which reads what changed).

    Raises:
        ContentError: `root` has no cards/ folder.
    """
    return _study_view(root, index)[0]


def _study_view(
    root: Path, index: Path
) -> tuple[StudyView | None, _index.Index, list[_index.Stamp]]:
    """`load_study_view`'s answer, with the index read and the scan of the files."""
    folder = _cards_dir(root)
    cached, scan = _index.read(index, root), _scan(str(folder))
    cached.reparse = _body_of  # a card's damaged row in the index: read from its file
    study = cached.study_rows(scan)
    if study is None:
        return None, cached, scan
    rows, left_out, drafts, renames = study
    items = [tuple.__new__(StudyItem, row) for row in rows]
    left = [folder / r for r in left_out]
    made = [tuple.__new__(Draft, row) for row in drafts]
    view = StudyView(root, cached, items, left, made, renames)
    return view, cached, scan
