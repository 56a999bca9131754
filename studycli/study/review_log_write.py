"""Review logs written as CSV (`write_reviews`, the columns review_log_csv.py describes): to a
file atomically, or to standard output once all of it is written."""

from __future__ import annotations

import contextlib
import csv
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from studycli.errors import ImportFormatError
from studycli.paths import replacing
from studycli.records import Record

from .review_log_columns import COLUMNS, OPTIONAL, REQUIRED


class Written(Record):
    """What `write_reviews` wrote: `ratings`, the rows that stand, and `undone`, the rows
    marked undone."""

    ratings: int
    undone: int


# (card_id, rating, review time as ISO-8601 text, duration_ms or None, content hash or None,
# the time the rating was undone as ISO-8601 text or None)
WrittenRow = tuple[str, int, str, "int | None", "str | None", "str | None"]


def write_reviews(path: Path, rows: Iterable[WrittenRow], *, plain: bool = False) -> Written:
    """Write `rows` to `path` under the header (`COLUMNS`), atomically: a crash leaves the old
    file or the whole new one (see `paths.replacing`). "-" writes them to standard output.

    Args:
        plain: py-fsrs's four columns alone, and the rows that stand alone: for another FSRS
            tool or a studycli from before `OWN`, which read an undone row as a rating.

    Raises:
        ImportFormatError: the file cannot be written.
        BrokenPipeError: standard output's reader left (`- | head`): ends as every command's
            output to a closed pipe does.
    """
    ratings = undone = 0
    try:
        with _writing(path) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(REQUIRED + OPTIONAL if plain else COLUMNS)
            for card_id, rating, moment, duration, made_on, undone_at in rows:
                if undone_at is not None:
                    if plain:
                        continue
                    undone += 1
                else:
                    ratings += 1
                cells = (card_id, rating, moment, "" if duration is None else duration)
                writer.writerow(cells if plain else (*cells, made_on or "", undone_at or ""))
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise ImportFormatError(f"cannot write {path}: {exc.strerror or exc}") from None
    return Written(ratings, undone)


def _writing(path: Path) -> contextlib.AbstractContextManager[IO[str]]:
    """The file to write the CSV to: "-" is standard output (see `_to_stdout`)."""
    if str(path) == "-":
        return _to_stdout()
    return replacing(path, "w", encoding="utf-8", newline="")


SPOOL_BYTES = 8 << 20  # what `_to_stdout` keeps in memory before it spills to a temporary file


@contextlib.contextmanager
def _to_stdout() -> Iterator[IO[str]]:
    """A file whose text goes to standard output once it is all written: a read that fails
    half way (a damaged database) writes nothing there, as a file's export leaves the file as
    it was, instead of a part of the history that a reader took for the whole."""
    import io
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+b") as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        try:
            try:
                yield text
            finally:
                text.detach()  # (flushed into the spool, which stays open)
        except OSError as exc:  # not standard output's fault ("cannot write -" misled)
            raise ImportFormatError(
                f"cannot keep the export in a temporary file in {tempfile.gettempdir()} before "
                f"writing it to standard output: {exc.strerror or exc}; free space there, set "
                "TMPDIR to a folder with room, or export to a file"
            ) from None
        spool.seek(0)
        sys.stdout.flush()
        shutil.copyfileobj(spool, sys.stdout.buffer)
        sys.stdout.buffer.flush()
