"""The content index: what each card file parsed to, cached by path, size and mtime.

Reading 10,000 YAML cards takes seconds; reading their index takes tens of milliseconds. The
index is a hint, never the truth: an entry is used only when its file still has the size and
modification time it had when it was parsed, and the whole index is ignored (then rebuilt) when
it cannot be read, fails its checksum, or was written by another version of the parser. `lint`
never uses it. It lives in the user's cache folder (`paths.content_index_path`).

A file changed twice within the file system's timestamp resolution keeps its mtime, so an
entry whose mtime is within `RACY_NS` of the moment the index was written is parsed again (as
git treats "racily clean" files), and the index rewritten, until the file is older than that.

Most commands (`due`, `list`) read only a card's id, kind, deck, topic, title, tags and
references, so a card from the index carries its long text (prompt, answer, steps, hints,
starter, explanation) and its path unread until one of them is first used.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import mmap
import os
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from studycli.paths import replace_file

from . import cloze
from .card import Card, Kind, Ref

FORMAT = 2
MAGIC = b"studycli content index\n"
RACY_NS = 3_000_000_000  # FAT keeps mtimes to 2 s; every other file system does better

# An entry: (size, mtime_ns, the card's head row or None, problems as (message, line, card_id)).
Entry = tuple[int, int, tuple | None, tuple]

NAMES = tuple(f.name for f in fields(Card))
HEAD = ("id", "kind", "topic", "title", "deck", "tags", "requires", "solution", "check", "cloze")
BODY = tuple(name for name in NAMES if name not in HEAD and name != "path")
_SHARED = ("topic", "deck", "tags")  # values many cards share
_KINDS = {kind.value: kind for kind in Kind}
_PARSER_FILES = ("card.py", "fields.py", "cloze.py", "loader.py", "index.py")
_HEADER = struct.Struct(">IQI")  # the heads' checksum and length, the bodies' checksum


class Index:
    """An index as read from its file: the entries, by path relative to cards/, and the cards'
    long text, checked and unmarshalled on first use."""

    def __init__(
        self,
        entries: dict[str, Entry],
        body: Any = b"",
        checksum: int = 0,
        written: int = 0,
    ) -> None:
        self.entries = entries
        self.written = written  # the index file's mtime (ns): entries newer than it are racy
        self.reparse: Callable[[Path], tuple] | None = None  # a file's body row, from the file
        self._body, self._checksum = body, checksum
        self._bodies: dict[str, tuple] | None = None

    def trusted(self, relative: str, size: int, mtime_ns: int) -> Entry | None:
        """The entry of a file of this size and mtime, if the index still stands for it."""
        entry = self.entries.get(relative)
        if (
            entry is not None
            and entry[0] == size
            and entry[1] == mtime_ns
            and mtime_ns < self.written - RACY_NS
        ):
            return entry
        return None

    def body(self, relative: str, path: Path) -> tuple:
        """The body row of the card at `relative`; from its file if the index's is unusable."""
        if self._bodies is None:
            self._bodies = {}
            with contextlib.suppress(Exception):  # a damaged body: each card reads its file
                if zlib.crc32(self._body) == self._checksum:
                    self._bodies = marshal.loads(self._body)
            self._body = b""
        found = self._bodies.get(relative)
        if found is None:
            if self.reparse is None:
                raise KeyError(relative)
            found = self._bodies[relative] = self.reparse(path)
        return found


def read(path: Path, root: Path) -> Index:
    """The index of `root` stored at `path`; an empty one when there is none usable (missing,
    unreadable, corrupt, or written by another parser or for another folder).

    The file is mapped, not read: the bodies are read from it only when a card's long text is
    used (the mapping keeps this version of the file even if another process replaces it).
    """
    try:
        with open(path, "rb") as handle:
            written = os.fstat(handle.fileno()).st_mtime_ns
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(data)
        if view[: len(MAGIC)] != MAGIC:
            return Index({})
        heads_sum, heads_length, body_sum = _HEADER.unpack_from(data, len(MAGIC))
        start = len(MAGIC) + _HEADER.size
        heads = view[start : start + heads_length]
        if zlib.crc32(heads) != heads_sum:
            return Index({})
        version, signature, folder, entries = marshal.loads(heads)
    except Exception:  # any failure to read means no index: the files are read instead
        return Index({})
    if (version, signature, folder) != (FORMAT, _signature(), str(root)) or not isinstance(
        entries, dict
    ):
        return Index({})
    return Index(entries, view[start + heads_length :], body_sum, written)


def write(path: Path, root: Path, entries: dict[str, Entry], bodies: dict[str, tuple]) -> None:
    """Replace the index atomically; a cache folder that cannot be written is not an error."""
    heads = marshal.dumps((FORMAT, _signature(), str(root), entries))
    body = marshal.dumps(bodies)
    header = _HEADER.pack(zlib.crc32(heads), len(heads), zlib.crc32(body))
    with contextlib.suppress(OSError):
        replace_file(path, MAGIC + header + heads + body)


def split(card: Card) -> tuple[tuple, tuple]:
    """A card as plain values (marshal writes only those): its head row and its body row. The
    path is not kept: it is derived from where the file is."""
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
    numbers = [item.cloze for item in card.study_items()] if card.kind == Kind.CLOZE else None
    head.append(tuple(numbers) if numbers is not None else None)
    return tuple(head), tuple(getattr(card, name) for name in BODY)


class IndexedCard(Card):
    """A card built from index rows, whose body and path are read on first use (see `_Lazy`)."""

    def _read(self, name: str) -> None:
        values = self.__dict__
        index, relative, cards_dir = values["_index"]
        if name == "path":
            values["path"] = Path(cards_dir, relative)
        else:
            values.update(zip(BODY, index.body(relative, self.path), strict=True))

    def study_items(self) -> list[Card]:
        """As Card.study_items, but a cloze card's items are made from the deletion numbers
        the index keeps, as cheap copies that read the text only when it is shown."""
        numbers = self.__dict__.get("_cloze_numbers")
        if numbers is None:
            return super().study_items() if self.kind == Kind.CLOZE else [self]
        if self.cloze is not None:
            return [self]
        items: list[Card] = []
        for number in numbers:
            item = object.__new__(IndexedCard)
            item.__dict__.update(self.__dict__)
            item.__dict__.update(id=cloze.study_id(self.id, number), cloze=number)
            item.__dict__["_cloze_numbers"] = None
            items.append(item)
        return items

    def __eq__(self, other: object) -> bool:  # equal to any Card with the same fields
        if not isinstance(other, Card):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in NAMES)

    __hash__ = Card.__hash__

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
    values["_cloze_numbers"] = head[len(HEAD)]
    values["kind"] = _KINDS[values["kind"]]
    for name in ("solution", "check"):
        ref = values[name]
        if ref is not None:
            values[name] = refs.get(ref) or refs.setdefault(ref, Ref(*ref))
    if len(rest) == 2:
        values["path"] = rest[0]
        values.update(zip(BODY, rest[1], strict=True))
        values["_cloze_numbers"] = None  # the card is whole: Card.study_items will do
    else:
        values["_index"] = rest
    return built


@functools.cache
def _signature() -> tuple:
    """What the parse of a file depends on besides the file: the parser's own source files."""
    here = Path(__file__).parent
    stamps: list[Any] = [NAMES, HEAD, marshal.version]
    for name in _PARSER_FILES:
        try:
            info = os.stat(here / name)
            stamps.append((name, info.st_size, info.st_mtime_ns))
        except OSError:
            stamps.append((name, None, None))
    return tuple(stamps)
