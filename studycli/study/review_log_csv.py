"""Review logs from a CSV file, as fsrs `ReviewLog` values (for `studycli optimize --from-csv`).

The format is the one of the FSRS sample data and of exports from other FSRS tools:

    card_id,review_rating,review_time,review_duration
    1711684180217,1,2024-03-29T20:32:32.250000+00:00,25060

card_id is an integer, review_rating 1-4 (Again, Hard, Good, Easy), review_time ISO-8601 with a
timezone offset, review_duration milliseconds (optional: the column may be left out or a cell
left empty). Columns may come in any order; other columns are ignored. Lines are counted as an
editor counts them (the header is line 1), so every error points at the line to fix.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from fsrs import Rating, ReviewLog

from studycli.errors import ImportFormatError

REQUIRED = ("card_id", "review_rating", "review_time")
OPTIONAL = ("review_duration",)
HEADER = ",".join(REQUIRED + OPTIONAL)


def read_review_logs(path: Path) -> list[ReviewLog]:
    """Read every row of the CSV at `path`, in file order.

    Returns:
        One fsrs ReviewLog per row, times in UTC.

    Raises:
        ImportFormatError: the file cannot be read, is empty, lacks a column, or has a row with
            a bad value; the message names the file, the line and the fix.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(csv.reader(handle), path)
    except OSError as exc:
        raise ImportFormatError(
            f"cannot read the review log {path}: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError:
        raise ImportFormatError(
            f"{path} is not UTF-8 text: export the review log as a UTF-8 CSV file"
        ) from None
    except csv.Error as exc:
        raise ImportFormatError(f"{path} is not a readable CSV file ({exc})") from None


def _read(reader, path: Path) -> list[ReviewLog]:
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise ImportFormatError(
            f"{path} is empty: a review log starts with the header line "
            f"{HEADER!r}, then one review per line"
        )
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFormatError(
            f"{path}, line 1: the header has no {', '.join(missing)} column: "
            f"the header should be {HEADER!r} (found {','.join(header)!r})"
        )
    column = {name: header.index(name) for name in REQUIRED + OPTIONAL if name in header}
    logs = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # blank lines (a trailing newline) are not reviews
        logs.append(_row(row, column, f"{path}, line {reader.line_num}"))
    if not logs:
        raise ImportFormatError(
            f"{path} has a header but no reviews: add one review per line under {HEADER!r}"
        )
    return logs


def _row(row: list[str], column: dict[str, int], where: str) -> ReviewLog:
    def cell(name: str) -> str:
        index = column.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    for name in REQUIRED:
        if not cell(name):
            raise ImportFormatError(
                f"{where}: the {name} cell is empty: every review needs "
                f"{', '.join(REQUIRED)} (the row has {len(row)} of "
                f"{len(column)} columns)"
            )
    return ReviewLog(
        card_id=_card_id(cell("card_id"), where),
        rating=_rating(cell("review_rating"), where),
        review_datetime=_time(cell("review_time"), where),
        review_duration=_duration(cell("review_duration"), where),
    )


def _card_id(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ImportFormatError(
            f"{where}: card_id {text!r} is not a whole number: fsrs needs an integer id per card"
        ) from None


def _rating(text: str, where: str) -> Rating:
    if text not in ("1", "2", "3", "4"):
        raise ImportFormatError(
            f"{where}: review_rating {text!r} is not 1-4: use 1 Again, 2 Hard, 3 Good or 4 Easy"
        )
    return Rating(int(text))


def _time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ImportFormatError(
            f"{where}: review_time {text!r} is not an ISO-8601 time: write "
            "it as 2024-03-29T20:32:32+00:00"
        ) from None
    if moment.tzinfo is None:
        raise ImportFormatError(
            f"{where}: review_time {text!r} has no timezone: add its offset, "
            f"e.g. {text}+00:00 for UTC"
        )
    return moment.astimezone(UTC)


def _duration(text: str, where: str) -> int | None:
    if not text:
        return None
    try:
        duration = int(text)
    except ValueError:
        duration = -1
    if duration < 0:
        raise ImportFormatError(
            f"{where}: review_duration {text!r} is not a whole number of "
            "milliseconds: write it as e.g. 25060, or leave the cell empty"
        )
    return duration
