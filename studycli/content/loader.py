"""Loading the content folder: every card file, with every problem collected, none fatal."""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studycli.errors import CardNotFound, ContentError
from studycli.paths import FileTooLarge, NotRegularFile, read_regular
from studycli.records import Record

from . import index as _index

if TYPE_CHECKING:  # imported where used: `due` makes no card (load_study_items)
    from collections.abc import Iterable

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
        learner's history under the old id belongs (see `renamed_ids`)."""
        return renamed_ids((card.id, card.renamed_from) for card in self.cards.values())

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
        card = self.get(base)
        items = card.study_items()
        if number is None:
            return card, items
        named = [item for item in items if item.id == item_id]
        if not named:
            known = ", ".join(item.id for item in items)
            raise CardNotFound(f"{card.id} has no study item {item_id}: it has {known}")
        return card, named

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
        from .kind import Kind

        for what, value in (("deck", deck), ("topic", topic), ("kind", kind), ("tag", tag)):
            if value is None:
                continue
            if what == "kind":
                known = {k.value for k in Kind}
            elif what == "tag":
                known = {t for card in self.cards.values() for t in card.tags}
            else:
                known = {getattr(card, what) for card in self.cards.values()}
            _refuse_unknown(what, value, known)
        chosen = [
            card
            for card in self.cards.values()
            if (deck is None or card.deck == deck)
            and (topic is None or card.topic == topic)
            and (kind is None or card.kind.value == kind)
            and (tag is None or tag in card.tags)
        ]
        return sorted(chosen, key=lambda c: (c.deck, c.id))


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
    offered gau-flash, or nothing."""
    import difflib

    names = sorted(names)
    begun = sorted((name for name in names if typed and name.startswith(typed)), key=len)
    return list(dict.fromkeys(begun + difflib.get_close_matches(typed, names, n=n)))[:n]


def _refuse_unknown(what: str, value: str, known: set[str]) -> None:
    """Raises ContentError: a filter's `value` (a deck, topic, kind or tag) that no card has (a
    typo, most likely), with the closest of `known` as suggestions."""
    if value in known:
        return
    close = closest(value, known)
    if close:
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


_ID, _DECK, _REQUIRES, _RENAMED = (
    _index.HEAD.index(name) for name in ("id", "deck", "requires", "renamed_from")
)
_NUMBERS, _DRAFT = _index.NUMBERS, _index.DRAFT


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


def _duplicate(path: Path, card_id: str, first: Path, root: Path) -> CardProblem:
    """The problem of the card file `path`, left out: its id is that of `first`'s card."""
    from .card import CardProblem, shown_path

    return CardProblem(
        path,
        f"duplicate id {card_id!r}: {shown_path(first, root)} already uses it{_DUPLICATE_FIX}",
        card_id=card_id,
    )


_YML = "card files end in .yaml: rename it"


def renamed_ids(cards: Iterable[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """Each earlier id that one of `cards` ((id, renamed_from) of each card of the content)
    lists, with that card's id: where a learner's history under the old id belongs. An old id
    that is still a card's own, or that two cards list, belongs to neither (`lint` says why):
    its history stays where it is."""
    claimed: dict[str, str | None] = {}
    ids = set()
    for card_id, earlier in cards:
        ids.add(card_id)
        for old in earlier:
            claimed[old] = None if old in claimed else card_id
    return {old: new for old, new in claimed.items() if new is not None and old not in ids}


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
        _refuse_unknown("deck", deck, decks)
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


def _study_rows(
    found: list[tuple[str, _index.Entry | None]],
) -> tuple[list[tuple], list[str], list[tuple], dict[str, str]]:
    """(id, deck, requires) of each study item of these files' cards, in order; the files
    (relative to cards/) that give none: unusable, or a duplicate id's; (id, deck) of the
    drafts, which give none either (`Card.draft`); and the renamed ids (`renamed_ids`)."""
    from .cloze import study_id

    rows: list[tuple] = []
    left_out: list[str] = []
    drafts: list[tuple] = []
    ids: set[str] = set()
    renamed: list[tuple[str, tuple[str, ...]]] = []
    for relative, entry in found:
        head = entry and entry[2]
        if not head or head[_ID] in ids:  # unusable, or a duplicate id (the first file keeps it)
            left_out.append(relative)
            continue
        card_id, deck, requires, numbers = head[_ID], head[_DECK], head[_REQUIRES], head[_NUMBERS]
        ids.add(card_id)
        renamed.append((card_id, head[_RENAMED]))
        if head[_DRAFT]:
            drafts.append((card_id, deck))
        elif numbers is None:
            rows.append((card_id, deck, requires))
        else:
            rows += [(study_id(card_id, n), deck, requires) for n in numbers]
    return rows, left_out, drafts, renamed_ids(renamed)


def _cards_dir(root: Path) -> Path:
    cards_dir = root / "cards"
    if not cards_dir.is_dir():
        raise ContentError(f"{root} has no cards/ folder")
    return cards_dir


def _entries(
    root: Path,
    index: Path | None,
    *,
    cached: _index.Index | None = None,
    scan: list[_index.Stamp] | None = None,
    rewrite: bool = False,
) -> tuple[_index.Index, list[tuple[str, _index.Entry | None]], dict[str, tuple]]:
    """Every card file under `root/cards` in path order, with its index entry (None for a
    `.yml` file): from the index where it still stands for the file, else parsed now; the
    index it read; and the body rows of the files parsed now. The index is rewritten when any
    file was parsed, the files are not those it holds, or `rewrite` (its study rows are stale).
    `cached` and `scan`: the index and the scan, when the caller has them already.

    Raises:
        ContentError: `root` has no cards/ folder.
    """
    folder = str(_cards_dir(root))
    if cached is None:
        cached = _index.read(index, root) if index is not None else _index.Index()
    cached.reparse = _body_of
    found: list[tuple[str, _index.Entry | None]] = []
    entries: dict[str, _index.Entry] = {}
    fresh: dict[str, tuple] = {}  # the bodies of the files parsed now
    # an entry stands for a file of its size, mtime and ctime, where that mtime is older than
    # the index by more than RACY_NS (a file written within it may have changed since, unseen)
    known, settled = cached.entries.get, cached.written - _index.RACY_NS
    if scan is None:
        scan = _scan(folder)
    for relative, depth, size, mtime_ns, ctime_ns in scan:
        if size < 0:  # a .yml file
            found.append((relative, None))
            continue
        entry = known(relative)
        if entry is not None and (
            entry[0] != size or entry[1] != mtime_ns or entry[4] != ctime_ns or mtime_ns >= settled
        ):
            entry = None
        if entry is None:
            hashed = index is not None  # (a read of every file, as lint's, hashes no text)
            head, body, problems = _parse_file(Path(folder, relative), relative, depth, hashed)
            entry = (size, mtime_ns, head, problems, ctime_ns)
            if head is not None:
                fresh[relative] = body
        entries[relative] = entry
        found.append((relative, entry))
    if index is not None and (rewrite or fresh or entries.keys() != cached.entries.keys()):
        bodies = {  # a damaged body section: the unchanged files are read again
            relative: fresh[relative]
            if relative in fresh
            else cached.body(relative, Path(folder, relative))
            for relative, entry in entries.items()
            if entry[2] is not None
        }
        _index.write(index, root, entries, bodies, (scan, *_study_rows(found)))
    return cached, found, fresh


def _scan(folder: str, prefix: str = "", depth: int = 1) -> list[_index.Stamp]:
    """Every card file under `folder`, in path order: (its path relative to the cards folder,
    its depth there, size, mtime and ctime in ns). A `.yml` file has size -1. Hidden files
    are skipped, and symlinked folders not followed, as `Path.rglob` does, but for a deck
    folder (`cards/<deck>`) that is a link: a deck kept elsewhere (a synced folder) and
    linked in was left out whole, without a word. One stat per card file, relative to its
    open folder: with 10,000 cards, the stats are most of a warm index's load."""
    found: list[_index.Stamp] = []
    relative = os.stat in os.supports_dir_fd and os.listdir in os.supports_fd  # not Windows
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if relative else -1
    try:
        for name in sorted(os.listdir(descriptor if relative else folder)):
            is_card = name.endswith(".yaml") and not name.startswith(".")
            if name.endswith(".yml") and not name.startswith("."):
                found.append((prefix + name, depth, -1, 0, 0))
                continue
            try:
                info = os.stat(name, dir_fd=descriptor) if relative else os.stat(f"{folder}/{name}")
            except OSError:  # a link to nothing: an editor's lock file (`.#card.yaml`), ...
                if is_card:  # (read, it says why it does not load)
                    found.append((prefix + name, depth, 0, -1, -1))
                continue
            if stat.S_ISDIR(info.st_mode):
                path = os.path.join(folder, name)
                if depth == 1 or not os.path.islink(path):
                    found += _scan(path, f"{prefix}{name}/", depth + 1)
            elif is_card:
                found.append(
                    (prefix + name, depth, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
                )
    finally:
        if relative:
            os.close(descriptor)
    return found


def _parse_file(
    path: Path, relative: str, depth: int, hashed: bool = True
) -> tuple[tuple | None, tuple, tuple]:
    """A card file parsed: (the card's head and body rows, or None and (); its problems as
    (message, line, card_id) tuples). `hashed`: the body row ends with the hash of the card's
    text, for the index (else None: see `indexed.split`)."""
    if depth != 2:
        return None, (), (("a card lives at cards/<deck>/<id>.yaml: move it into a deck folder",),)
    import yaml  # only when a file is read: a warm index needs no YAML parser

    from .indexed import split
    from .parse import parse_card

    raw = b""
    try:  # opened without waiting: a named pipe called x.yaml held every command for ever
        raw = read_regular(path, MAX_CARD_BYTES)
        text = raw.decode("utf-8")
        data = yaml.load(text, Loader=yaml_loader())
    except NotRegularFile:
        return None, (), ((_NOT_A_FILE,),)
    except FileTooLarge:
        return None, (), ((_TOO_LARGE,),)
    except UnicodeDecodeError as exc:
        from .source import undecodable

        line, bad = undecodable(raw, exc)
        return None, (), ((f"{bad}: save the file as UTF-8", line),)
    except OSError as exc:  # a link to a file that is gone, a file this user may not read
        return None, (), ((f"the file cannot be read: {exc.strerror or exc}",),)
    except yaml.YAMLError as exc:
        return None, (), (_yaml_problem(exc, text),)
    card, problems = parse_card(data, path, deck=relative.split("/", 1)[0])
    card_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    found = tuple((message, None, card_id) for message in problems)
    if card is None:
        return None, (), found
    return (*split(card, hashed), found)


_DUPLICATE_FIX = (
    ": give the new card of the two another id, and its file that name (a published card keeps "
    "its id, under which its learners' reviews are kept, unless it is renamed with "
    "`renamed_from`)"
)
# The most bytes a card file may hold: the longest shipped card has 3.5 KB. One of 50 MB
# (a text pasted in whole) was read, indexed and linted clean.
MAX_CARD_BYTES = 64 * 1024
_NOT_A_FILE = (
    "not a regular file (a named pipe, a device, ...): a card is a YAML file; remove it, or "
    "rename it away from .yaml"
)
_TOO_LARGE = (
    f"the file is over {MAX_CARD_BYTES // 1024} KB, and a card is a few KB (the longest shipped "
    "card has 3.5): a card teaches one thing; split it into cards, or cut what a learner need "
    "not recall"
)


def _yaml_problem(exc: Exception, text: str) -> tuple[str, int | None]:
    """The message and line of PyYAML's error `exc` in the card file `text`: the line to fix,
    which is not always the one PyYAML names, and what fixes it."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc)
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        # libyaml says "found character that cannot start any token" of a tab that starts
        # a line, without naming it: the fix it got (quote the text) misled
        reason = "found a tab character where a field or list entry should start"
    opened = getattr(exc, "context_mark", None)
    context = str(getattr(exc, "context", ""))
    if "quoted scalar" in context and "end of stream" in reason and opened is not None:
        # a quote never closed: PyYAML finds out at the end of the file; the line to fix
        # is the one the quote opened on
        fix = ": close it, or write the text without the quote (or as `key: |`)"
        return f"YAML syntax error: a quote opened here is not closed{fix}", opened.line + 1
    flow = "[]" if "flow sequence" in context else "{}" if "flow mapping" in context else ""
    if flow and opened is not None and mark is not None and mark.line > opened.line:
        # a `[` or `{` never closed on its line: libyaml finds out on a later line (the next
        # field, the end of the file), and the fix it got (quote, or indent, that line) misled
        return f"YAML syntax error: {_UNCLOSED[flow]}", opened.line + 1
    if "simple key" in context and opened is not None:
        # a line with no `: ` where a field should start (a `|` text's line written at the
        # start of the line, `kind:coding`): libyaml finds out lines later, and names that
        return f"YAML syntax error: {reason}{_KEYLESS_LINE_FIX}", opened.line + 1
    fix = _yaml_fix(reason)
    # the line itself out of place (nothing before the mark on its line): a field indented,
    # or a list entry that is not indented under its key
    before = text[text.rfind("\n", 0, mark.index) + 1 : mark.index] if mark is not None else "x"
    if fix == _QUOTE_FIX and not before.strip():
        fix = _INDENTATION_FIX
    elif fix == _QUOTE_FIX and before[:1] in (" ", "\t") and before.strip() in _field_names():
        fix = _INDENTATION_FIX  # a field indented (`  topic: x`): libyaml marks its colon
    return f"YAML syntax error: {reason}{fix}", line


def _field_names() -> frozenset[str]:
    from .fields import FIELDS  # (only for an error's message: not at start-up)

    return FIELDS


_UNCLOSED = {
    "[]": "a `[` opened here is not closed: close the list with `]` on this line, or write its "
    "entries one per line (`  - entry`); a text that begins with `[` is quoted",
    "{}": "a `{` opened here is not closed: a text that begins with `{` is quoted (YAML reads "
    "`{...}` as a mapping)",
}
_KEYLESS_LINE_FIX = (
    ": a line with no `key: value` where a field should start: if it is text of the field "
    "above, indent it as the lines above it; if it is a field, put a space after its colon"
)
_INDENTATION_FIX = (
    ": this line is indented wrongly: start every field at the beginning of its line, and "
    "indent a field's list entries (`  - `) and its `|` text under it"
)


def _yaml_fix(reason: str) -> str:
    """What fixes the YAML error `reason` (PyYAML's words), as a suffix to it."""
    if "duplicate key" in reason:
        return ": give each field once (a merge may have left both)"
    if reason == ALIAS_PROBLEM:
        return ": a card has no use for one; write the value out where it is needed"
    if "tab" in reason:
        return ": indent with spaces, not tabs"
    if "another document" in reason or "single document" in reason:
        return ": one card per file, without `---` lines"
    return _QUOTE_FIX


_QUOTE_FIX = " (text with `: `, `#` or quotes in it: quote it, or use `key: |`)"


ALIAS_PROBLEM = "a value anchored here (&name) is repeated by an alias (*name)"


@functools.cache
def yaml_loader():
    """PyYAML's safe loader (libyaml's when present, 10x faster: the topic list 4 ms against
    33 ms), which refuses a mapping with a key twice (YAML's rule; PyYAML keeps the last, so
    a merge that left two answers in a card passed lint with the second) and a value repeated
    by an alias (`&text` ... `*text`): a card has no use for one, and a 64 KB card whose hints
    were 5,000 aliases of a long answer was hundreds of megabytes of text to lint and index."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        def construct_document(self, node):
            seen: set[int] = set()
            nodes = [node]
            while nodes:
                current = nodes.pop()
                if id(current) in seen:  # (met once more: through an alias)
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        ALIAS_PROBLEM,
                        current.start_mark,
                    )
                seen.add(id(current))
                if isinstance(current, yaml.SequenceNode):
                    nodes += current.value
                elif isinstance(current, yaml.MappingNode):
                    nodes += [part for pair in current.value for part in pair]
            return super().construct_document(node)

        def construct_mapping(self, node, deep=False):
            lines: dict[object, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str) and key in lines:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first on line {lines[key]})",
                        key_node.start_mark,
                    )
                lines[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep)

    return Loader


def _body_of(path: Path) -> tuple:
    """The body row of the card file at `path`, read again (when the index's is unusable)."""
    head, body, problems = _parse_file(path, f"{path.parent.name}/{path.name}", 2)
    if head is None:
        raise ContentError(f"{path} changed while studycli read it: {problems[0][0]}")
    return body
