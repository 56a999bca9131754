"""The card files under a content folder's cards/, each with its content index entry: from the
index where the entry still stands for the file, else parsed again (the index then rewritten,
with the study rows made from the entries)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from studycli.errors import ContentError

from . import index as _index
from .cloze import split_study_id

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable


_ID, _DECK, _REQUIRES, _RENAMED = (
    _index.HEAD.index(name) for name in ("id", "deck", "requires", "renamed_from")
)


_NUMBERS, _DRAFT = _index.NUMBERS, _index.DRAFT


def renamed_ids(
    cards: Iterable[tuple[str, tuple[str, ...]]], deletions: Callable[[str], Collection[int]]
) -> dict[str, str]:
    """Each earlier id that one of `cards` ((id, renamed_from) of each card of the content)
    lists, with the id its history belongs to now (`renamed_from.moved_to`): a card's id, or
    a study item's (`card#c1`) where the entry names one item. An old id that is still a card's
    own, an old deletion its card still has (`deletions`: a card's deletion numbers, none for a
    plain card or an id no card has), or an old id that two cards list belongs to none (`lint`
    says why): its history stays where it is."""
    from .renamed_from import moved_to

    claimed: dict[str, str | None] = {}
    ids = set()
    for card_id, earlier in cards:
        ids.add(card_id)
        for entry in earlier:
            old, new = moved_to(card_id, entry)
            claimed[old] = None if old in claimed else new
    return {
        old: new
        for old, new in claimed.items()
        if new is not None and not _still_there(old, ids, deletions)
    }


def _still_there(old: str, ids: set[str], deletions: Callable[[str], Collection[int]]) -> bool:
    """Whether the study item or card `old` is still one of the content (`ids`: its cards)."""
    card_id, number = split_study_id(old)
    if number is None:
        return old in ids
    return card_id in ids and number in deletions(card_id)


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
    numbers_of: dict[str, list[int]] = {}
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
        if numbers is not None:
            numbers_of[card_id] = numbers
    return rows, left_out, drafts, renamed_ids(renamed, lambda i: numbers_of.get(i, ()))


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
            from .card_yaml import _parse_file  # (only where a file is read)

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


def _body_of(path: Path) -> tuple:
    """The body row of the card file at `path`, read again (when the index's is unusable)."""
    from .card_yaml import _parse_file

    head, body, problems = _parse_file(path, f"{path.parent.name}/{path.name}", 2)
    if head is None:
        raise ContentError(f"{path} changed while studycli read it: {problems[0][0]}")
    return body
