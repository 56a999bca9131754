"""Coding cards' contracts kept between commands (`content.contract_cache`): read back while
their solution modules are as they were, and the file read once a process while it stays so."""

from __future__ import annotations

import pytest

from studycli.content import contract_cache
from studycli.content.contract import contract_hash
from studycli.content.loader import load_content


@pytest.fixture
def reads(monkeypatch):
    """The paths `contract_cache` reads the cache file from, in order (the reads spied on)."""
    read = contract_cache._read
    done: list = []

    def counting(path):
        done.append(path)
        return read(path)

    monkeypatch.setattr(contract_cache, "_read", counting)
    monkeypatch.setattr(contract_cache, "_held", None, raising=False)  # (another test's)
    return done


@pytest.fixture(autouse=True)
def settled(monkeypatch):
    """Contracts made of the modules just copied are kept (their ctime is now: within
    `RACY_NS` of it, a contract is not kept)."""
    from studycli.content import index

    monkeypatch.setattr(index, "RACY_NS", 0)


def test_the_cache_file_is_read_once_while_it_stays_as_it_was(content_copy, reads):
    """`review` asks for a coding card's contract at each card shown (its flags), and read
    and unmarshalled the whole cache file each time."""
    content = load_content(content_copy)
    card = content.get("add-one")
    made = contract_cache.cached_contract(card, content.solutions_dir)  # made, and kept
    assert made == contract_hash(card, content.solutions_dir)
    path = contract_cache._cache_path()
    assert path.is_file()
    reads.clear()
    for _ in range(5):
        assert contract_cache.cached_contract(card, content.solutions_dir) == made
    assert reads == []  # (held since it was written: nothing read)
    contract_cache._write(path, {})  # another process's write: the file replaced, emptied
    assert contract_cache.cached_contract(card, content.solutions_dir) == made
    assert contract_cache.cached_contract(card, content.solutions_dir) == made
    assert reads == [path]  # read again, once (its write held, not read back)
    assert contract_cache._read(path) != {}  # made again, and written back


def test_a_process_reads_what_another_wrote_since(content_copy, reads):
    """A contract another process kept (its `review` rated the card) is read back, not made."""
    content = load_content(content_copy)
    card = content.get("add-one")
    path = contract_cache._cache_path()
    assert contract_cache.cached_contract(card, content.solutions_dir) is not None
    entries = contract_cache._read(path)
    ((key, (stamps, _)),) = entries.items()
    contract_cache._write(path, {key: (stamps, "another+contract")})
    assert contract_cache.cached_contract(card, content.solutions_dir) == "another+contract"
