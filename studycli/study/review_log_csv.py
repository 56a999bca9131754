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
digits), or as written where an earlier studycli recorded it (16 hex digits), of which
content/text_hash.py says how each is compared; undone_at, when the rating was
undone on the machine that wrote the file (by an import there: when it ran), empty for one
that stands: after the row's review_time, or at most 5 minutes before it (two machines'
clocks, `clock_skew`). An undone row is no rating: an import applies its undo,
and a fit (`read_reviews`) leaves it out.

Reading checks every row: a file with bad rows is refused whole, with each bad line and its fix,
so that nothing is ever half-imported. `read_reviews` returns the rows once all are checked;
`read_chunks` gives them a chunk at a time, for a reader that writes inside a transaction which
the refusal, raised after the last chunk, rolls back.
"""

from __future__ import annotations

import contextlib
import csv
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TypeVar

from studycli.errors import ImportFormatError
from studycli.paths import replacing
from studycli.records import Record

from .clock_skew import CLOCK_SKEW, SKEW_SAID, latest_accepted, shown, spoken

REQUIRED = ("card_id", "review_rating", "review_time")
OPTIONAL = ("review_duration",)
OWN = ("content_hash", "undone_at")  # studycli's own columns (the module's docstring)
COLUMNS = REQUIRED + OPTIONAL + OWN
HEADER = ",".join(REQUIRED + OPTIONAL)  # py-fsrs's, as messages give it
SHOWN_ERRORS = 20  # a refused file lists this many bad lines in full, then counts the rest
_RATINGS = {"1": 1, "2": 2, "3": 3, "4": 4}


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


# The longest card id an import takes: studycli's are slugs of at most 60 characters, Anki's
# and the FSRS sample's numbers; an id of 128 KB was taken, and shown whole by `stats` and
# `history` for good (the log is append-only)
LONGEST_CARD_ID = 200
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
    it is the review log to give."""
    import shlex

    stdin = str(path) == "/dev/stdin"  # (`-`: the command names it "standard input")
    database = "DATABASE" if stdin else shlex.quote(str(path))
    csv = "reviews.csv" if stdin else shlex.quote(f"{path}.csv")
    return (
        f"{path} is an SQLite database (a studycli review database, another machine's?), not "
        f"a review log: {'save it as a file, DATABASE, ' if stdin else ''}export its history "
        f"(`studycli --db {database} export-reviews {csv}`) and give {csv} instead"
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


_OTHER_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"))


def _columns(header: list[str], path: Path) -> dict[str, int]:
    names = [name.strip() for name in header]
    if not any(names):
        raise ImportFormatError(
            f"{path} is empty: a review log starts with the header line "
            f"{HEADER!r}, then one review per line"
        )
    misspelt = [
        (name, known)
        for name in names
        if name not in COLUMNS and (known := _KNOWN.get(_folded(name))) and known not in names
    ]
    if misspelt:  # (read as unknown, an undone_at column's rows were ratings)
        shown = ", ".join(f"{name!r} as {known!r}" for name, known in misspelt)
        raise ImportFormatError(
            f"{path}, line 1: write the column{'s' if len(misspelt) > 1 else ''} {shown}: "
            "column names are read exactly, in lower case, and a column under another name "
            "is ignored"
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        for separator, named in _OTHER_SEPARATORS:  # (a spreadsheet's own list separator)
            cells = [cell.strip() for cell in header[0].split(separator)]
            if all(name in cells for name in REQUIRED):
                raise ImportFormatError(
                    f"{path}, line 1: the columns are separated by {named}, and a review "
                    "log's by commas: save it as CSV with commas (comma-separated values), "
                    f"its header {HEADER!r}"
                )
        raise ImportFormatError(
            f"{path}, line 1: the header has no {', '.join(missing)} column: "
            f"the header should be {HEADER!r} (found {','.join(names)!r})"
        )
    return {name: names.index(name) for name in COLUMNS if name in names}


def _folded(name: str) -> str:
    """A column's name as `_KNOWN` keys it: lower case, words joined by `_`."""
    return "_".join(name.lower().replace("-", " ").replace("_", " ").split())


_KNOWN = {_folded(name): name for name in COLUMNS}  # a column's name, however written


def _row(
    card: str,
    rating: str,
    time: str,
    row: list[str],
    extra: tuple[int | None, int | None, int | None],
    latest: datetime,
    make: MakeRow[Row],
) -> Row:
    """A well-formed row, or ValueError (then `_problem` says what is wrong). `extra`: the
    indexes of the optional columns (review_duration, content_hash, undone_at), None for
    those the file lacks; `latest`, the latest review time taken (`_latest`)."""
    card = card.strip()
    score = _RATINGS.get(rating.strip())
    time = time.strip()
    try:
        moment = datetime.fromisoformat(time)
    except ValueError:  # (the other forms: tried only here, off the common path)
        moment = _moment(time)
    if moment.tzinfo is None:  # (fromisoformat reads some times in milliseconds as the basic
        moment = _moment(time)  # form, without a timezone: 1420070400123 as 1420-07-04 01:23)
    if not card or _CONTROL.search(card) or score is None or moment.tzinfo is None:
        raise ValueError
    if len(card) > LONGEST_CARD_ID:
        raise ValueError
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 ahead of UTC, or year 9999 behind it
        raise ValueError from None
    if not _EARLIEST <= moment <= latest:  # (latest: none far ahead of now either)
        raise ValueError
    duration, hashed, undone = extra
    milliseconds = None
    if duration is not None and (text := row[duration].strip()):
        if not _DURATION.fullmatch(text):
            raise ValueError
        milliseconds = int(text)
    made_on = None
    if hashed is not None and (text := row[hashed].strip()):
        if not RECORDED_HASH.fullmatch(text):
            raise ValueError
        made_on = text
    undone_at = None
    if undone is not None and (text := row[undone].strip()):
        undone_at = _undone_time(text, latest)
        if undone_at < moment - CLOCK_SKEW:  # (`_undone_before_problem`)
            raise ValueError
    return make(card, score, moment, milliseconds, time, undone_at, made_on)


def _undone_time(text: str, latest: datetime) -> datetime:
    """An undone_at cell's time in UTC (as review_time's forms), or ValueError: also one
    later than `latest` (`_latest`), as a review_time is (a clock set ahead). An import logs
    a rating new to the log undone at this time, and `Store.undo` refuses a rating given
    before an undo of an earlier one: a time an hour ahead of this machine's clock refused an
    undo of this machine's next rating of the card, given on a state no undo had changed."""
    moment = _moment(text)
    if moment.tzinfo is None:
        raise ValueError
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError from None
    if not _EARLIEST <= moment <= latest:
        raise ValueError
    return moment


# What a review records of the card it was made on: the text's hash, and a coding card's
# contract's after `+` (content/contract.py); letters and digits, as an export writes them
RECORDED_HASH = re.compile(r"[0-9A-Za-z]{1,64}(\+[0-9A-Za-z]{1,64}){0,4}")
_DURATION = re.compile(r"[0-9]{1,12}")  # milliseconds: ASCII digits, under 31 years
# The times a review can have: imported at the edge of what a datetime holds (the year 1), one
# broke every command that counts in days (optimize, history in a zone west of UTC) for good
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)
_LAST = _LATEST - timedelta(microseconds=1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # a NUL, a line feed, an escape ...


def _latest(now: datetime | None) -> datetime:
    """The latest review time a file read at `now` may hold: `CLOCK_SKEW` ahead of it, a
    review made on a machine whose clock is a little ahead (clock_skew.py); any, without
    `now`."""
    return _LAST if now is None or now >= _LATEST - CLOCK_SKEW else latest_accepted(now)


def _moment(time: str) -> datetime:
    """The time a review_time cell gives: ISO-8601 (with RFC 3339's lower-case zone letter,
    `...20:32:32z`, too), or milliseconds since 1970 in UTC, as the FSRS optimizer's review
    logs give it (`1711744352250`: refused as "not an ISO-8601 time", row by row); ValueError
    for anything else."""
    if _MILLISECONDS.fullmatch(time):
        return _EARLIEST + timedelta(milliseconds=int(time))
    return datetime.fromisoformat(_zulu(time))


_MILLISECONDS = re.compile(r"[0-9]{12,13}")  # 1973 to 2286: shorter is no review's time


def _zulu(time: str) -> str:
    """An ISO-8601 time with RFC 3339's lower-case zone letter (`...20:32:32z`) as Python
    reads it (`Z`)."""
    return time[:-1] + "Z" if time.endswith("z") else time


def _problem(
    row: list[str],
    column: dict[str, int],
    cells: int,
    now: datetime | None,
) -> str:
    """What is wrong with a row that `_row` refused, and how to fix it: a row that is not a
    review's shape at all (a header again, cells missing or too many) as that, else every cell
    that is wrong (`foo,5,xx,1` was refused for its rating alone, and fixed, for its time)."""

    def cell(name: str) -> str:
        index = column.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    if all(cell(name) == name for name in REQUIRED):  # (`cat a.csv b.csv`: b's header)
        return (
            "this line is a header line again (two review logs joined into one?): delete it, "
            "or import each log on its own (an import merges)"
        )
    empty = [name for name in REQUIRED if not cell(name)]
    width = max(column.values()) + 1
    if len(row) < width:
        if empty:
            return f"{_empty(empty)} (the row has {len(row)} of {len(column)} columns)"
        return (
            f"the row has {len(row)} of the header's {width} columns: give every column, an "
            "empty one as nothing between two commas (e.g. a trailing comma)"
        )
    if len(row) > cells:
        return (
            f"the row has {len(row)} cells, the header {cells}: a cell with a comma in it "
            'must be quoted ("like, this")'
        )
    found: list[str | None] = [_empty(empty)] if empty else []
    if card := cell("card_id"):
        found.append(_card_problem(card))
    if rating := cell("review_rating"):
        found.append(_rating_problem(rating))
    if time := cell("review_time"):
        found.append(_time_problem(time, now))
    found.append(_duration_problem(cell("review_duration")))
    found.append(_hash_problem(cell("content_hash")))
    found.append(_undone_problem(cell("undone_at"), now, cell("review_time")))
    return "; ".join(problem for problem in found if problem)


def _empty(names: list[str]) -> str:
    cells = f"the {names[0]} cell is" if len(names) == 1 else f"the {' and '.join(names)} cells are"
    return f"{cells} empty: every review needs {', '.join(REQUIRED)}"


def _card_problem(card: str) -> str | None:
    if _CONTROL.search(card):
        return f"card_id {card!r} holds a control character: a card id is text without them"
    if len(card) > LONGEST_CARD_ID:
        return (
            f"card_id {card[:40]!r}... has {len(card):,} characters, where a card id has "
            f"at most {LONGEST_CARD_ID}: is this column a card's id? (the log keeps every id it "
            "takes for good, and `stats` and `history` show it)"
        )
    return None


def _rating_problem(rating: str) -> str | None:
    if rating not in _RATINGS:
        return f"review_rating {rating!r} is not 1-4: use 1 Again, 2 Hard, 3 Good or 4 Easy"
    return None


def _time_problem(text: str, now: datetime | None) -> str | None:
    try:
        moment = _moment(text)
    except ValueError:
        return (
            f"review_time {text!r} is not an ISO-8601 time: write it as 2024-03-29T20:32:32+00:00"
            " (or as milliseconds since 1970, 13 digits, as the FSRS optimizer's logs do)"
        )
    if moment.tzinfo is None:  # the example is the time in full: a date alone with `+00:00`
        # added ('2025-02-27+00:00') is still read as a date with no timezone
        example = moment.replace(tzinfo=UTC).isoformat()
        return f"review_time {text!r} has no timezone: add its offset, e.g. {example} for UTC"
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 ahead of UTC, or year 9999 behind it
        return f"review_time {text!r} is out of range in UTC: write a time in the years 1 to 9999"
    if not _EARLIEST <= moment < _LATEST:
        return (
            f"review_time {text!r} is not a time a review was given (before 1970, or in the "
            "year 9999): check that the column holds each review's time"
        )
    if now is not None and moment > _latest(now):
        return _ahead_problem(text, moment, now)
    return None


def _ahead_problem(
    text: str, moment: datetime, now: datetime, column: str = "review_time", did: str = "rated"
) -> str:
    """A review (or its undo: `column` undone_at, what the other machine `did`) further ahead
    of this machine's clock (`now`) than two clocks may be apart (`CLOCK_SKEW`): a clock set
    wrong, this one or the other machine's when it rated, whose reviews keep the times it
    gave them; or, a day and more ahead, no review's time at all."""
    ahead = f"{column} {text!r} is {spoken(moment - now)} ahead of this machine's clock"
    if moment - now >= timedelta(days=1):
        return (
            f"{ahead} (now {shown(now)}): is it in the future? Check this machine's clock, and "
            "that the column holds "
            + ("each review's time" if column == "review_time" else "when each was undone")
        )
    return (
        f"{ahead} (now {shown(now)}), more than the {SKEW_SAID} two machines' clocks may be "
        "apart: one of the two clocks is off. Set this machine's clock right (automatic "
        f"date and time) if it is behind; if the other machine's was ahead when it {did}, set "
        f"that one right, and this file imports from {shown(moment - CLOCK_SKEW)} on"
    )


def _duration_problem(text: str) -> str | None:
    if text and not _DURATION.fullmatch(text):
        return (
            f"review_duration {text!r} is not a whole number of milliseconds "
            "(at most 12 digits): write it as e.g. 25060, or leave the cell empty"
        )
    return None


def _hash_problem(text: str) -> str | None:
    if text and not RECORDED_HASH.fullmatch(text):
        return (
            f"content_hash {text[:40]!r} is not a hash of a card's text (letters and digits, "
            "a coding card's parts joined by +, as export-reviews writes it): leave the cell "
            "empty, and the review counts as made on the card's text of today"
        )
    return None


def _undone_problem(text: str, now: datetime | None, time: str) -> str | None:
    if not text:
        return None
    try:
        moment = _undone_time(text, _LAST)
    except ValueError:
        return (
            f"undone_at {text[:40]!r} is not a time with a timezone: it is when the rating "
            "was undone, e.g. 2024-03-29T20:35:00+00:00, and empty for a rating that stands"
        )
    if now is not None and moment > _latest(now):
        return _ahead_problem(text, moment, now, "undone_at", "undid the rating")
    return _undone_before_problem(text, moment, time)


def _undone_before_problem(text: str, moment: datetime, time: str) -> str | None:
    """An undone_at (`moment`) further before its own row's review_time (`time`) than two
    clocks may be apart: a rating is undone after it is given. Up to `CLOCK_SKEW` before is
    taken: studycli writes such rows itself (a rating logged just after a review from a
    machine whose clock was a little ahead, `rating.rating_time`, then undone at this
    machine's time). Further is a clock put back between the two, or a cell edited by hand;
    it was taken unchecked, a rating logged undone before it was given."""
    try:
        reviewed = _undone_time(time, _LAST)  # (review_time's forms; its own problem else)
    except ValueError:
        return None
    if moment >= reviewed - CLOCK_SKEW:
        return None
    return (
        f"undone_at {text[:40]!r} is {spoken(reviewed - moment)} before the row's review_time "
        f"{time[:40]!r}, more than the {SKEW_SAID} two machines' clocks may be apart, and a "
        "rating is undone after it is given: the clock of the machine that undid it was put "
        "back, or the cell was edited. Write when the rating was undone (at or after its "
        "review_time), or empty the cell if the rating stands"
    )


def _refusal(path: Path, shown: list[tuple[int, str]], bad: int) -> str:
    """The message for a refused file: its `bad` bad lines, of which `shown` the first."""
    if bad == 1:
        line, problem = shown[0]
        return f"{path}, line {line}: {problem}"
    listed = [f"  line {line}: {problem}" for line, problem in shown[:SHOWN_ERRORS]]
    more = bad - SHOWN_ERRORS
    if more > 0:
        listed.append(f"  ... and {more:,} more bad lines")
    return (
        f"{path} has {bad:,} bad lines, so none of it was read: fix each, then try again\n"
        + "\n".join(listed)
    )
