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
starter, explanation) and its path unread until one of them is first used (`indexed`); `due`
reads only the head rows, and makes no card at all (`loader.load_study_items`). This module
imports nothing of the card format, so that `due` need not.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import mmap
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studycli.paths import replace_file

FORMAT = 3  # 3: each card's body row marshalled on its own
MAGIC = b"studycli content index\n"
RACY_NS = 3_000_000_000  # FAT keeps mtimes to 2 s; every other file system does better

# An entry: (size, mtime_ns, the card's head row or None, problems as (message, line, card_id)).
Entry = tuple[int, int, tuple | None, tuple]

# Card's fields in order (a test holds them to `dataclasses.fields(Card)`: named here, so that
# reading the index needs no card class), those of the head row, then the deletion numbers.
NAMES = (
    "id", "kind", "topic", "title", "prompt", "deck", "path", "answer", "tags", "hints",
    "requires", "steps", "solution", "check", "starter", "explanation", "cloze",
)  # fmt: skip
HEAD = ("id", "kind", "topic", "title", "deck", "tags", "requires", "solution", "check", "cloze")
NUMBERS = len(HEAD)  # a head row's last value: a cloze card's deletion numbers, else None
BODY = tuple(name for name in NAMES if name not in HEAD and name != "path")
_PARSER_FILES = (
    "card.py", "kind.py", "fields.py", "parse.py", "cloze.py", "loader.py", "index.py", "indexed.py",
)  # fmt: skip
_HEADER = struct.Struct(">IQI")  # the heads' checksum and length; the body rows' length


class Index:
    """An index as read from its file: the entries, by path relative to cards/, and the cards'
    long text, checked and unmarshalled on first use."""

    def __init__(
        self,
        entries: dict[str, Entry],
        body: Any = b"",
        length: int = 0,
        written: int = 0,
    ) -> None:
        self.entries = entries
        self.written = written  # the index file's mtime (ns): entries newer than it are racy
        self.reparse: Callable[[Path], tuple] | None = None  # a file's body row, from the file
        self._body, self._length = body, length
        # Each card's body row, still marshalled, with its checksum: read on first use.
        self._blobs: dict[str, tuple[int, bytes]] | None = None
        self._bodies: dict[str, tuple] = {}

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
        """The body row of the card at `relative`; from its file if the index's is unusable.

        Only this card's row is checked and unmarshalled: a session that shows one card reads
        one (every card's long text, checked and unmarshalled, cost 5 M instructions before
        the first card).
        """
        found = self._bodies.get(relative)
        if found is not None:
            return found
        if self._blobs is None:
            self._blobs = {}
            with contextlib.suppress(Exception):  # a damaged section: each card reads its file
                if len(self._body) == self._length:  # (not cut short)
                    self._blobs = marshal.loads(self._body)
            self._body = b""
        try:
            checksum, blob = self._blobs[relative]
            if zlib.crc32(blob) != checksum:
                raise ValueError(relative)
            found = marshal.loads(blob)
        except Exception:  # not there, or damaged
            if self.reparse is None:
                raise KeyError(relative) from None
            found = self.reparse(path)
        self._bodies[relative] = found
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
        heads_sum, heads_length, body_length = _HEADER.unpack_from(data, len(MAGIC))
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
    return Index(entries, view[start + heads_length :], body_length, written)


def write(path: Path, root: Path, entries: dict[str, Entry], bodies: dict[str, tuple]) -> None:
    """Replace the index atomically; a cache folder that cannot be written is not an error."""
    heads = marshal.dumps((FORMAT, _signature(), str(root), entries))
    blobs = {relative: marshal.dumps(row) for relative, row in bodies.items()}
    body = marshal.dumps({relative: (zlib.crc32(blob), blob) for relative, blob in blobs.items()})
    header = _HEADER.pack(zlib.crc32(heads), len(heads), len(body))  # each row has its checksum
    with contextlib.suppress(OSError):
        replace_file(path, MAGIC + header + heads + body)


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
