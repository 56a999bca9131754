"""A review log's row checked and made (`_row`: the fast path of a well-formed row), and the
times a review may have."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .clock_skew import CLOCK_SKEW, latest_accepted, undone_before

if TYPE_CHECKING:
    from .review_log_csv import MakeRow, Row


_RATINGS = {"1": 1, "2": 2, "3": 3, "4": 4}


# The longest card id an import takes: studycli's are slugs of at most 60 characters, Anki's
# and the FSRS sample's numbers; an id of 128 KB was taken, and shown whole by `stats` and
# `history` for good (the log is append-only)
LONGEST_CARD_ID = 200


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
        if undone_before(moment, undone_at):  # (`_undone_before_problem`)
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
