"""The content index: what each card file parsed to, cached by path, size, mtime and ctime.

Reading 10,000 YAML cards takes seconds; reading their index takes tens of milliseconds. The
index is a hint, never the truth: an entry is used only when its file still has the size and
modification time it had when it was parsed, and the whole index is ignored (then rebuilt) when
it cannot be read, fails its checksum, or was written by another version of the parser. `lint`
never uses it. It lives in the user's cache folder (`paths.content_index_path`).

A file changed twice within the file system's timestamp resolution keeps its mtime, so an
entry whose mtime is within `RACY_NS` of the moment the index was written is parsed again (as
git treats "racily clean" files), and the index rewritten, until the file is older than that.
An entry also holds its file's change time (ctime), as git's index does, which no program can
set back: a file given back its old mtime (`touch -d`, `cp -p`, an archive's times) after a
same-size edit, or made readable again by `chmod`, which leaves size and mtime as they were,
is parsed again.

Most commands (`due`, `list`) read only a card's id, kind, deck, topic, title, tags and
references, so a card from the index carries its long text (prompt, answer, steps, hints,
starter, explanation) and its path unread until one of them is first used (`indexed`). `due`
makes no card at all: it reads the study rows kept apart, with the scan of the files they were
made from (`study_view.load_study_items`); `review` reads them too, and makes the card it shows
from that card's body row alone, which ends with the card's head row (`study_view.StudyView`).
This module imports nothing of the card format, so that `due` need not.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import mmap
import os
import struct
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from studycli.paths import replace_file

FORMAT = 12  # 4: the study rows of `due`, with the scan they were made from, apart; 5: and
# the files that gave none; 6: a body row ends with the hash of its card's text; 7: then with
# the card's head row (a session makes the card it shows from its body row alone); 8: a file's
# ctime in its entry and its stamp; 9: a head row ends with whether the card is a draft, and
# the drafts are kept apart from the study rows; 10: a head row holds the card's
# `renamed_from`, and the study rows section the content's renamed ids (`card_scan.renamed_ids`);
# 11: a body row ends with the hashes of its card's text as a pair, the text as shown and as
# an earlier studycli hashed it (`text_hash`); 12: and a cloze card's items' hashes (what each
# deletion's item shows) by deletion number
MAGIC = b"studycli content index\n"
RACY_NS = 3_000_000_000  # FAT keeps mtimes to 2 s; every other file system does better

# An entry: (size, mtime_ns, the card's head row or None, problems as (message, line, card_id),
# ctime_ns).
Entry = tuple[int, int, tuple | None, tuple, int]
# A file as the loader's scan finds it: (path relative to cards/, depth there, size, mtime_ns,
# ctime_ns).
Stamp = tuple[str, int, int, int, int]

# Card's fields in order (a test holds them to `dataclasses.fields(Card)`: named here, so that
# reading the index needs no card class), those of the head row, then the deletion numbers and
# whether the card is still being written (`Card.draft`: it is not studied).
NAMES = (
    "id", "kind", "topic", "title", "prompt", "deck", "path", "answer", "tags", "hints",
    "requires", "steps", "solution", "check", "starter", "explanation", "renamed_from", "cloze",
)  # fmt: skip
HEAD = (
    "id", "kind", "topic", "title", "deck", "tags", "requires", "solution", "check",
    "renamed_from", "cloze",
)  # fmt: skip
NUMBERS = len(HEAD)  # a head row's value after HEAD's: a cloze card's deletion numbers, else None
DRAFT = NUMBERS + 1  # its last: whether the card is a draft
BODY = tuple(name for name in NAMES if name not in HEAD and name != "path")
_PARSER_FILES = (
    "card.py", "kind.py", "fields.py", "parse.py", "cloze.py", "loader.py", "card_scan.py",
    "card_yaml.py", "study_view.py", "index.py", "indexed.py", "layout.py", "text_hash.py",
    "renamed_from.py",
)  # fmt: skip
# After MAGIC: the checksum and length of each section (what the index is of; the entries;
# the study rows), then the length of the body rows, which carry a checksum each.
_HEADER = struct.Struct(">IIIQIQQ")


class Index:
    """An index as read from its file. Each section is checked and unmarshalled on first use:
    `due` reads only its study rows, `list` only the entries, a card's long text its own row."""

    def __init__(self, sections: tuple = (), written: int = 0) -> None:
        self.written = written  # the index file's mtime (ns): entries newer than it are racy
        self.reparse: Callable[[Path], tuple] | None = None  # a file's body row, from the file
        # (checksum, marshalled bytes) of the entries and the study rows; the bodies' bytes
        self._sections = sections or ((0, b""), (0, b""), b"")
        self._entries: dict[str, Entry] | None = None if sections else {}
        self._blobs: dict[str, tuple[int, bytes]] | None = None  # the body rows, marshalled
        self._bodies: dict[str, tuple] = {}

    @property
    def entries(self) -> dict[str, Entry]:
        """Every file's entry, by path relative to cards/; empty if the section is damaged."""
        if self._entries is None:
            found = _unmarshal(*self._sections[0])
            self._entries = found if isinstance(found, dict) else {}
        return self._entries

    def study_rows(
        self, scan: list[Stamp]
    ) -> tuple[list[tuple], list[str], list[tuple], dict[str, str]] | None:
        """The study rows (id, deck, requires) written with the index, the files that gave
        none, the drafts, which give none either (id, deck), and the renamed ids (old ->
        new), if the files are still those it was written from: the same paths, sizes, mtimes
        and ctimes, none of them racy. One comparison of two lists, with no entry
        unmarshalled: `due` with 10,000 cards."""
        found = _unmarshal(*self._sections[1])
        if not isinstance(found, tuple) or found[0] != scan:
            return None
        settled = self.written - RACY_NS
        if any(stamp[3] >= settled for stamp in scan):
            return None
        return found[1], found[2], found[3], found[4]

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
            blobs = _unmarshal(None, self._sections[2])
            self._blobs = blobs if isinstance(blobs, dict) else {}
            self._sections = (*self._sections[:2], b"")
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


def _unmarshal(checksum: int | None, data: Any) -> Any:
    """`data` unmarshalled if it matches its checksum (None: no checksum); else None."""
    try:
        if checksum is not None and zlib.crc32(data) != checksum:
            return None
        return marshal.loads(data)
    except Exception:  # cut short or damaged
        return None


def read(path: Path, root: Path) -> Index:
    """The index of `root` stored at `path`; an empty one when there is none usable (missing,
    unreadable, or written by another parser or for another folder). A damaged section is
    found when it is first used, and counts as empty.

    The file is mapped, not read: a section is read from it only when it is used (the mapping
    keeps this version of the file even if another process replaces it).
    """
    try:
        with open(path, "rb") as handle:
            found = os.fstat(handle.fileno())
            written = found.st_mtime_ns
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(data)
        if view[: len(MAGIC)] != MAGIC:
            return Index()
        *sums, body_length = _HEADER.unpack_from(data, len(MAGIC))
        sections, start = [], len(MAGIC) + _HEADER.size
        for checksum, length in zip(sums[::2], sums[1::2], strict=True):
            sections.append((checksum, view[start : start + length]))
            start += length
        bodies = view[start : start + body_length]
        if len(bodies) != body_length:  # cut short
            return Index()
    except Exception:  # any failure to read means no index: the files are read instead
        return Index()
    if _unmarshal(*sections[0]) != (FORMAT, _signature(), str(root)):
        return Index()
    _mark_used(path, written, found.st_atime_ns)
    return Index((sections[1], sections[2], bodies), written)


def _mark_used(path: Path, written: int, read: int) -> None:
    """Mark an index read now (its access time; once a day at most), so that it is not taken
    for one nothing uses (`_forget_old_indexes`): an index is written only when its content
    changes, and an unchanged collection reads the same one for months. Its modification time
    stays when it was written (what `loader.load_content` compares card files with)."""
    now = time.time_ns()
    if now - read > 86400 * 10**9:
        with contextlib.suppress(OSError):
            os.utime(path, ns=(now, written))


def write(
    path: Path,
    root: Path,
    entries: dict[str, Entry],
    bodies: dict[str, tuple],
    study: tuple[list[Stamp], list[tuple], list[str], list[tuple], dict[str, str]],
) -> None:
    """Replace the index atomically; a cache folder that cannot be written is not an error.

    Args:
        entries: every file's entry, by path relative to cards/.
        bodies: the body row of every card, by the same path.
        study: the loader's scan of the files, the study rows made from these entries, the
            files that gave none, the drafts and the renamed ids (see `study_rows`).
    """
    sections = [marshal.dumps(part) for part in ((FORMAT, _signature(), str(root)), entries, study)]
    blobs = {relative: marshal.dumps(row) for relative, row in bodies.items()}
    body = marshal.dumps({relative: (zlib.crc32(blob), blob) for relative, blob in blobs.items()})
    sums = [number for part in sections for number in (zlib.crc32(part), len(part))]
    header = _HEADER.pack(*sums, len(body))  # each body row has its checksum
    with contextlib.suppress(OSError):
        replace_file(path, MAGIC + header + b"".join(sections) + body)
        _forget_old_indexes(path)


UNUSED_DAYS = 60  # an index in the cache folder neither written nor read this long is let go


def _forget_old_indexes(path: Path) -> None:
    """Remove the content indexes beside `path` nothing wrote or read for `UNUSED_DAYS`: those
    of a folder no longer used, or named by an older studycli (they were kept for good). One
    in use was read lately (`_mark_used`); were it removed, it would only be made again."""
    cutoff = time.time() - UNUSED_DAYS * 86400
    for other in path.parent.glob("content-*.index"):
        with contextlib.suppress(OSError):
            found = other.stat()
            if other != path and max(found.st_atime, found.st_mtime) < cutoff:
                other.unlink()


@functools.cache
def _signature() -> tuple:
    """What the parse of a file depends on besides the file: the parser's own source files."""
    return (NAMES, HEAD, marshal.version, *code_stamps(_PARSER_FILES))


def code_stamps(names: Iterable[str]) -> list[tuple]:
    """(name, size, mtime) of each of these modules of this package, (name, None, None) of one
    that cannot be read: what a cache made by their code is kept by."""
    here = Path(__file__).parent
    stamps: list[tuple] = []
    for name in names:
        try:
            info = os.stat(here / name)
            stamps.append((name, info.st_size, info.st_mtime_ns))
        except OSError:
            stamps.append((name, None, None))
    return stamps
