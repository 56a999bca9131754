"""What is wrong with a refused row of a review log, cell by cell, with how to fix it, and the
refusal of a file with bad rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from .clock_skew import CLOCK_SKEW, SKEW_SAID, shown, spoken, undone_before
from .review_log_columns import REQUIRED
from .review_log_rows import (
    _CONTROL,
    _DURATION,
    _EARLIEST,
    _LAST,
    _LATEST,
    _RATINGS,
    LONGEST_CARD_ID,
    RECORDED_HASH,
    _latest,
    _moment,
    _undone_time,
)

SHOWN_ERRORS = 20  # a refused file lists this many bad lines in full, then counts the rest


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
    clocks may be apart: a rating is undone after it is given. Up to `CLOCK_SKEW` before (and
    the microsecond a rating is logged after a review that far ahead) is taken: studycli
    writes such rows itself (a rating logged just after a review from a machine whose clock
    was a little ahead, `rating.rating_time`, then undone at this machine's time;
    `clock_skew.undone_before`). Further is a clock put back between the two, or a cell
    edited by hand; it was taken unchecked, a rating logged undone before it was given."""
    try:
        reviewed = _undone_time(time, _LAST)  # (review_time's forms; its own problem else)
    except ValueError:
        return None
    if not undone_before(reviewed, moment):
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
