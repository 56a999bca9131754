"""An import's file read: its rows checked and made what `Store.stage` takes, a chunk at a time
(`_parsed`); a large file in a forked reader process, which sends each chunk as it is done."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path

from studycli.errors import StudyError

from .import_workers import _workers, forking_helpers, helper_of
from .renames import renamed_id
from .review_log_csv import read_chunks
from .times import iso, iso_text

# A row of the file as `Store.stage` takes it: (card_id, reviewed_at as the store writes times,
# rating, duration_ms, the time it was undone as the store writes times or None, content hash
# or None)
Staged = tuple[str, str, int, "int | None", "str | None", "str | None"]


def _staged(
    card_id: str,
    rating: int,
    moment: datetime,
    duration_ms: int | None,
    text: str,
    undone: datetime | None,
    made_on: str | None,
) -> Staged:
    """A row of the file as `Store.stage` takes it, its times as the store writes them."""
    undone_at = None if undone is None else iso(undone)
    return card_id, iso_text(text) or iso(moment), rating, duration_ms, undone_at, made_on


def _staged_renamed(
    renames: Mapping[str, str],
    card_id: str,
    rating: int,
    moment: datetime,
    duration_ms: int | None,
    text: str,
    undone: datetime | None,
    made_on: str | None,
) -> Staged:
    """`_staged`, a row under a renamed card's old id (`renames`: old card id -> new) under
    its new one (`renames.renamed_id`)."""
    new_id = renamed_id(card_id, renames)
    return _staged(new_id, rating, moment, duration_ms, text, undone, made_on)


def _parsed(
    path: Path, now: datetime | None, renames: Mapping[str, str] | None = None
) -> Iterator[list[tuple]]:
    """The rows of the file as `Store.stage` takes them, `READ_ROWS` at a time, checked
    (see `read_chunks`: its ImportFormatError comes after the last chunk), those under a
    renamed card's old id (`renames`) under its new one.

    A large file is parsed in a forked process, which sends each chunk as it is done, while
    this one stages the chunk before: parsing and checking (csv, fromisoformat) is most of
    the reading, and the other core would idle meanwhile. A pipe holds at most a chunk in
    flight: the reader waits while this process is behind, so memory stays bounded.
    """
    make = partial(_staged_renamed, renames) if renames else _staged
    chunks = partial(read_chunks, path, now=now, size=READ_ROWS, make=make)
    if _workers() == 1 or _file_size(path) < PARSE_APART_FROM:
        yield from chunks()
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    try:
        with forking_helpers():
            reader = context.Process(
                target=_send_chunks, args=(sender, chunks, os.getpid()), daemon=True
            )
            reader.start()
    finally:
        sender.close()
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                reader.join()
                raise StudyError(
                    f"the process reading {path} stopped (exit code {reader.exitcode}) before"
                    " the end of the file, so nothing was imported: run the import again"
                ) from None
            if message is None:
                break
            if isinstance(message, BaseException):
                raise message
            yield message
    finally:
        receiver.close()
        if reader.is_alive():  # this import failed or was stopped: the reader is not needed
            reader.terminate()
        reader.join()


def _send_chunks(sender, chunks: partial[Iterator[list[tuple]]], parent: int) -> None:
    """In the reader process: each chunk, then None, or the error reading raised."""
    helper_of(parent)
    try:
        for chunk in chunks():
            sender.send(chunk)
        sender.send(None)
    except Exception as exc:  # ImportFormatError: raised by the importing process
        sender.send(exc)
    finally:
        sender.close()


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # (read_chunks says what is wrong)


READ_ROWS = 50_000  # rows of the file parsed and staged at a time
PARSE_APART_FROM = 4 << 20  # bytes of CSV (~50,000 rows) from which a process parses it apart
