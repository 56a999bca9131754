"""Review logs as CSV files: py-fsrs's format, read with every bad row named, and written.

    card_id,review_rating,review_time,review_duration
    add-one,3,2024-03-29T20:32:32.250000+00:00,25060

card_id is the card's id (any text: studycli's ids, or the integers of the FSRS sample data and
other FSRS tools), review_rating 1-4 (Again, Hard, Good, Easy), review_time ISO-8601 with a
timezone offset (or milliseconds since 1970, as the FSRS optimizer's logs give it),
review_duration milliseconds (optional: the column may be left out or a cell left empty). Columns may come in any order; other columns are ignored. Lines are counted as an
editor counts them (the header is line 1), so every error points at the line to fix.

Two more columns, optional, are studycli's own (`export-reviews` writes them; py-fsrs, other
FSRS tools and a studycli from before them ignore them, as every other column):

    card_id,review_rating,review_time,review_duration,content_hash,undone_at
    add-one,3,2024-03-29T20:32:32.250000+00:00,25060,m25c934f51f307134+7927b290+f90fa1b1,
    add-one,1,2024-03-30T08:00:00.000000+00:00,4100,m25c934f51f307134+7927b290+f90fa1b1,2024-03-30T08:01:10.000000+00:00

content_hash is what the review recorded of the card's text (and a coding card's contract:
content/contract.py) when it was made, empty where unknown: the text as shown ("m" and 16 hex
digits; "n" and 16 for a cloze deletion's item, what it shows), or as written where an earlier
studycli recorded it (16 hex digits), of which content/text_hash.py says how each is compared;
undone_at, when the rating was undone on the machine that wrote the file (by an import there:
when it ran), empty for one that stands: after the row's review_time, or at most 5 minutes
before it (two machines' clocks, `clock_skew`). An undone row is no rating: an import applies
its undo, and a fit (`read_reviews`) leaves it out.

Reading checks every row: a file with bad rows is refused whole, with each bad line and its fix,
so that nothing is ever half-imported. `read_reviews` returns the rows once all are checked;
`read_chunks` gives them a chunk at a time, for a reader that writes inside a transaction which
the refusal, raised after the last chunk, rolls back.

The parts: review_log_columns.py (the columns, the header read), review_log_lines.py (the lines
read), review_log_rows.py (a row checked), review_log_problems.py (what is wrong with a bad row);
review_log_write.py writes a log.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from studycli.errors import ImportFormatError
from studycli.records import Record

from .review_log_columns import _columns
from .review_log_lines import _lines, _stray_quote
from .review_log_problems import SHOWN_ERRORS, _problem, _refusal
from .review_log_rows import _latest, _row


class ReviewRow(Record):
    """One review of a CSV log. `reviewed_at` is in UTC."""

    card_id: str
    rating: int
    reviewed_at: datetime
    duration_ms: int | None


Row = TypeVar("Row")
# What a reader makes of each checked row: from (card_id, rating, review time in UTC,
# duration_ms or None, the review_time cell as the file writes it, the time the rating was
# undone in UTC or None, the content hash it was made on or None).
MakeRow = Callable[[str, int, datetime, "int | None", str, "datetime | None", "str | None"], Row]


def _review_row(
    card: str,
    rating: int,
    moment: datetime,
    duration: int | None,
    _: str,
    undone: datetime | None,
    __: str | None,
) -> ReviewRow | None:
    return None if undone is not None else ReviewRow(card, rating, moment, duration)


def read_reviews(path: Path, *, now: datetime | None = None) -> list[ReviewRow]:
    """Read and check every row of the CSV at `path`, in file order.

    Args:
        path: the file.
        now: when given, a review more than `clock_skew.CLOCK_SKEW` (5 minutes) later than
            `now` is a bad row (a clock set wrong); one up to that far ahead is taken (a
            machine whose clock is a little ahead of this one's wrote it).

    Returns:
        One row per rating, undone ones left out (they are no ratings: an undone row, see
        the module's docstring); a file with only its header gives none.

    Raises:
        ImportFormatError: the file cannot be read, has no header or lacks a column, or has
            bad rows; the message names the file, each bad line and its fix.
    """
    chunks = read_chunks(path, now=now, make=_review_row)
    return [row for chunk in chunks for row in chunk if row is not None]


def read_chunks(
    path: Path,
    *,
    now: datetime | None = None,
    size: int = 50_000,
    make: MakeRow[Row],
) -> Iterator[list[Row]]:
    """The rows of the CSV at `path` in file order, `size` at a time, checked as they come: a
    large file is never held whole. Each row is what `make` makes of it (see `MakeRow`).

    Once a bad row is met no more rows are given, but the rest of the file is still checked;
    when the file is done, ImportFormatError names every bad line (see `read_reviews`). So a
    consumer that writes the rows as they come must do it in a transaction that this error
    rolls back, to keep a bad file all-or-nothing.

    Raises:
        ImportFormatError: as `read_reviews`, raised after the last chunk.
    """
    try:
        # bytes that are not UTF-8 come through as lone surrogates, for `_lines` to name the
        # line they are on as the reader counts lines: CR, LF or CR LF
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            lines = _lines(handle, path)
            yield from _read(csv.reader(lines), path, now, size, make)
    except OSError as exc:
        raise ImportFormatError(
            f"cannot read the review log {path}: {exc.strerror or exc}"
        ) from None
    except csv.Error as exc:
        raise ImportFormatError(f"{path} is not a readable CSV file ({exc})") from None


def _read(
    reader,
    path: Path,
    now: datetime | None,
    size: int,
    make: MakeRow[Row],
) -> Iterator[list[Row]]:
    header: list[str] = next(reader, [])
    column = _columns(header, path)
    card, rating, time = column["card_id"], column["review_rating"], column["review_time"]
    extra = (column.get("review_duration"), column.get("content_hash"), column.get("undone_at"))
    width = max(column.values()) + 1
    cells = max(len(header), width)  # more than the header's: a comma in a cell, unquoted
    latest = _latest(now)
    rows: list[Row] = []
    shown: list[tuple[int, str]] = []  # the first SHOWN_ERRORS bad lines; the rest counted
    bad = 0
    line = reader.line_num  # the last line read: a row starts on the one after
    try:
        for row in reader:
            first, line = line + 1, reader.line_num
            if width <= len(row) <= cells:
                try:  # the fast path: a well-formed row
                    good = _row(row[card], row[rating], row[time], row, extra, latest, make)
                except ValueError:
                    pass
                else:
                    if not bad:
                        rows.append(good)
                        if len(rows) >= size:
                            yield rows
                            rows = []
                    continue
            if not any(cell.strip() for cell in row):
                continue  # blank lines (a trailing newline) are not reviews
            bad += 1
            rows = []
            if len(shown) < SHOWN_ERRORS:
                problem = _problem(row, column, cells, now)
                if line > first:  # a quote opened a cell and the lines after went into it
                    problem = f"{_stray_quote(line)}; and {problem}"
                shown.append((first, problem))
    except csv.Error as exc:  # a cell past the csv module's limit: a quote that never closed
        raise ImportFormatError(f"{path}, line {line + 1}: {_stray_quote(None)} ({exc})") from None
    if bad:
        raise ImportFormatError(_refusal(path, shown, bad))
    if rows:
        yield rows
