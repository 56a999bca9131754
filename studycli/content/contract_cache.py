"""Coding cards' contracts (`contract.contract_hash`) kept between commands, each with the size
and times of the solution modules it was made from.

A contract is made by parsing the card's solution module whole and reading its checker's code
as tokens, and `review` makes one before the front of each coding card whose last review
recorded one (`Study.flags` compares the two): 84 M instructions more to the front of a card
whose module has 350 lines, 154 M where it has 900, on a front of 387 M (bench/instructions.py,
whose target is 1.25 times the floor's 327 M). Kept here from the rating that recorded it, the
contract is read back while every module it was made from has the same size, mtime and ctime,
as the content index trusts a card file (`index`); one made within `index.RACY_NS` of a
module's change is not kept, as the file may change again within its time's resolution.

The file is a cache: one that does not read counts as empty, one that cannot be written is not
written, and it is made again where the code that makes contracts changed (`_signature`). A
process reads it once and keeps what it read while the file stays as it was (`_entries`): `review`
asks for the contract of each coding card it shows, and read and unmarshalled the whole file for
each (2,000 entries at most).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .card import Card

_LIMIT = 2000  # entries kept: past it the file starts again (each content folder's cards,
# and each `starter:` a card had)
# the code a contract depends on besides the modules
_MAKERS = ("contract.py", "code_tokens.py", "source.py")


def cached_contract(card: Card, solutions_dir: Path) -> str | None:
    """`contract.contract_hash(card, solutions_dir)`, from the cache where the solution
    modules it read are as they were then; made (and kept) otherwise."""
    from .contract import contract_hash

    if card.solution is None:
        return None
    stamps = _stamps(solutions_dir, card)
    if stamps is None:  # a module missing: nothing to keep
        return contract_hash(card, solutions_dir)
    key = (str(solutions_dir), str(card.solution), str(card.check or ""), card.starter or "")
    path = _cache_path()
    kept = _kept(_entries(path).get(key), stamps)
    if kept is not None:
        return kept
    made = contract_hash(card, solutions_dir)
    if made is not None and _settled(stamps):
        entries = _entries(path)  # (as the file is now: another process may have written it)
        if len(entries) >= _LIMIT:
            entries = {}
        entries[key] = (stamps, made)
        _write(path, entries)
        _hold(path, entries)
    return made


# What this process last read from the cache file or wrote to it: (the file's path, its
# `_identity` then, its entries)
_held: tuple[Path, tuple | None, dict] | None = None


def _entries(path: Path) -> dict:
    """The entries of the cache file at `path`: read once, then what this process holds while
    the file is the one it read or wrote (another process's write replaces it: read again)."""
    identity = _identity(path)
    if _held is not None and identity is not None and _held[:2] == (path, identity):
        return _held[2]
    entries = _read(path)
    if identity is not None:  # (before the read: a file replaced meanwhile is read again)
        _hold(path, entries, identity)
    return entries


def _hold(path: Path, entries: dict, identity: tuple | None = None) -> None:
    global _held
    _held = (path, identity or _identity(path), entries)


def _identity(path: Path) -> tuple | None:
    """The file at `path` as `_entries` tells one from another (its inode, size and times: the
    cache is replaced whole, never written in place); None where there is none."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _kept(found: Any, stamps: tuple) -> str | None:
    """The contract of a cache entry `found`, where it was made from modules with these
    `stamps`; else None."""
    if isinstance(found, tuple) and len(found) == 2 and found[0] == stamps:
        return found[1] if isinstance(found[1], str) else None
    return None


def _stamps(solutions_dir: Path, card: Card) -> tuple | None:
    """(module, size, mtime, ctime) of each solution module `card` names, by name; None where
    one cannot be read."""
    names = sorted({ref.module for ref in (card.solution, card.check) if ref is not None})
    found = []
    for name in names:
        try:
            info = os.stat(solutions_dir / f"{name}.py")
        except (OSError, ValueError):
            return None
        found.append((name, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    return tuple(found)


def _settled(stamps: tuple) -> bool:
    """No module of `stamps` changed within `index.RACY_NS` of now."""
    from .index import RACY_NS

    settled = time.time_ns() - RACY_NS
    return all(max(mtime, ctime) < settled for _, _, mtime, ctime in stamps)


def _cache_path() -> Path:
    from studycli.paths import contracts_cache_path

    return contracts_cache_path()


def _signature() -> tuple:
    """What a contract depends on besides the modules: the code that makes it, and Python's
    version (its tokenizer)."""
    from .index import code_stamps

    return (sys.version_info[:2], marshal.version, *code_stamps(_MAKERS))


def _read(path: Path) -> dict:
    """The entries of the cache file at `path`; none where it does not read (missing, no
    regular file, damaged, or made by other code)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # (a pipe: no wait)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return {}
            data = marshal.loads(handle.read())
    except Exception:  # any failure to read means no cache: contracts are made again
        return {}
    if not (isinstance(data, tuple) and len(data) == 2 and data[0] == _signature()):
        return {}
    return data[1] if isinstance(data[1], dict) else {}


def _write(path: Path, entries: dict) -> None:
    """Replace the cache file; a cache folder that cannot be written is not an error."""
    from studycli.paths import replace_regular_file

    # (NotRegularFile, a folder or a pipe at its path, is an OSError)
    with contextlib.suppress(OSError):
        replace_regular_file(path, marshal.dumps((_signature(), entries)))
