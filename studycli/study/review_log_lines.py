"""A review log's lines as the CSV reader gets them: none longer than a review's line, each
UTF-8 text, the file no SQLite database; and what says that a quote ran a cell on over lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from studycli.errors import ImportFormatError

from .review_log_columns import HEADER

# The longest line a review log may have, in characters: a review is a short line, and the
# csv module holds each cell to 131,072 characters. A line is read whole before any cell of it
# is looked at: one that never ended (`import-reviews /dev/zero`) took every byte of memory,
# and one of 300 MB of short cells ("a,a,a,...") made 150 million of them (a MemoryError).
LONGEST_LINE = 1 << 20


def _lines(handle: IO[str], path: Path) -> Iterator[str]:
    """The lines of `handle`, none held longer than `LONGEST_LINE` characters (the csv
    reader counts them as they come, so its line numbers stay an editor's), each UTF-8 text
    (`handle` decodes with errors="surrogateescape": a byte that is not UTF-8 comes as a lone
    surrogate, on the line it was found on).

    Raises:
        ImportFormatError: a line runs past that, or holds bytes that are not UTF-8, named
            by its number.
    """
    number = 0
    while True:
        line = handle.readline(LONGEST_LINE + 1)
        if not line:
            return
        number += 1
        if number == 1 and line.startswith(SQLITE_HEADER):
            raise ImportFormatError(_a_database(path))
        if number == 1 and line.startswith(ZIP_HEADER):
            raise ImportFormatError(_an_archive(path))
        if len(line) > LONGEST_LINE:
            raise ImportFormatError(
                f"{path}, line {number}: the line runs past {LONGEST_LINE:,} characters, and a "
                f"review is one short line ({HEADER}): is this a review log? (nothing of it "
                "was read)"
            )
        if not line.isascii() and (bad := _ESCAPED.search(line)):
            raise ImportFormatError(_not_utf8(path, number, bad[0]))
        yield line


SQLITE_HEADER = "SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def _a_database(path: Path) -> str:
    """The refusal of an SQLite database given as a review log: another machine's review
    database, copied over to be merged (it was told "byte 0xfb is not UTF-8 text ...: save the
    review log as UTF-8"), or to `optimize --from-csv`. Its history exported to a file beside
    it is the review log to give, both named absolute, as the commands of `cli/again.py` name
    theirs: `import-reviews laptop.sqlite3` said `studycli --db laptop.sqlite3 ...`, which,
    pasted in another folder, wrote 0 reviews (of no database there) to a file there."""
    import shlex

    from studycli.paths import absolute

    stdin = str(path) == "/dev/stdin"  # (`-`: the command names it "standard input")
    whole = absolute(path)
    database = "DATABASE" if stdin else shlex.quote(str(whole))
    csv = "reviews.csv" if stdin else shlex.quote(f"{whole}.csv")
    return (
        f"{path} is an SQLite database (a studycli review database, another machine's?), not "
        f"a review log: {'save it as a file, DATABASE, ' if stdin else ''}export its history "
        f"(`studycli --db {database} export-reviews {csv}`) and give {csv} instead"
    )


ZIP_HEADER = "PK\x03\x04"  # the first 4 bytes of a zip archive, an Anki package (.apkg) too


def _an_archive(path: Path) -> str:
    """The refusal of a zip archive given as a review log: an Anki package (`export-anki`'s
    .apkg, or Anki's own export) was told "line 1: byte 0x91 is not UTF-8 text ...: save the
    review log as UTF-8", which no saving mends."""
    return (
        f"{path} is a zip archive (an Anki package, .apkg?), not a review log: import-reviews "
        "reads a CSV review log, as `studycli export-reviews FILE` writes one; the reviews "
        "Anki makes of exported cards stay in Anki"
    )


# the lone surrogates that "surrogateescape" decodes a byte that is not UTF-8 to, in a row
_ESCAPED = re.compile("[\udc80-\udcff]+")


def _not_utf8(path: Path, line: int, escaped: str) -> str:
    """The refusal of a file whose bytes are not UTF-8, by the number of the line they are on
    (a log of thousands of lines with one pasted in from another tool was refused without
    one; one with old Mac line ends, CR alone, was given one that counted line feeds only,
    hundreds too few), found without reading the file again (standard input cannot be).
    `escaped` is the bad bytes as "surrogateescape" decodes them."""
    bad = [ord(char) - 0xDC00 for char in escaped[:4]]
    shown = " ".join(f"0x{byte:02x}" for byte in bad)
    named = f"byte {shown} is" if len(bad) == 1 else f"bytes {shown} are"
    return (
        f"{path}, line {line}: {named} not UTF-8 text (written in another encoding, such as "
        "Latin-1, Windows-1252 or UTF-16): save the review log as UTF-8"
    )


def _stray_quote(end: int | None) -> str:
    """A row that ran over several lines (to line `end`; None: past the csv module's limit on
    a cell): a review is one line, and a quote that opens a cell and does not close it on
    that line makes the cell go on."""
    if end is None:
        return (
            'a cell starting here runs on and on: a quote (") that opens a cell and never '
            "closes does that; a review is one line: remove the stray quote, or close it"
        )
    return (
        f'a quote (") opens a cell here and it runs on to line {end}: a review is one line; '
        "remove the stray quote, or close it"
    )
