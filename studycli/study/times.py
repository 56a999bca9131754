"""The store's times as text: `iso` writes a time as the store keeps it (UTC ISO-8601 with
microseconds: one shape, so that text order is time order), `parse_time` reads one back, and
`iso_text` and `isoformat_of` make those texts from a file's or the store's text without a parse
where they can (an import of a million reviews).

Part of the review store (store.py and its parts, store_*.py), with no SQL: the queue, the import
and export (review_io.py and its parts, review_export.py) and the records (review_records.py) use it too.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """`moment` as UTC ISO-8601 with microseconds: one shape, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("datetimes in the store must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def iso_text(text: str) -> str | None:
    """`iso()` of the time that ISO-8601 `text` (already parsed: it is a valid time) writes,
    made from the text alone where it is UTC with a whole second, milliseconds or microseconds,
    as review logs write it (an export, the FSRS tools); else None. A fifth of `iso`'s time: an
    import of a million reviews spent 2 s formatting times again."""
    if _stored_shape(text):
        return text  # in that shape already (an export's): the most common
    if text.endswith("+00:00"):
        clock = text[:-6]
    elif text.endswith("Z"):
        clock = text[:-1]
    else:
        return None
    if len(clock) == 19:
        clock += ".000000"
    elif len(clock) == 23:
        clock += "000"
    elif len(clock) != 26:
        return None
    if clock[4:20:3] != "--T::.":  # (the characters at 4, 7, 10, 13, 16 and 19)
        return None  # another of the shapes `fromisoformat` reads (basic format, a space...)
    return clock + "+00:00"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def isoformat_of(text: str) -> str:
    """`parse_time(text).isoformat()`; from `text` alone where it is in `iso()`'s shape (as
    the store keeps times): the same, less a zero fraction of a second."""
    if not _stored_shape(text):
        return parse_time(text).isoformat()
    return text[:19] + text[26:] if text[20:26] == "000000" else text


def _stored_shape(text: str) -> bool:
    """Whether `text` (a valid ISO-8601 time) is in `iso()`'s shape: UTC with microseconds,
    "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" (the characters at 4, 7, 10, 13, 16 and 19: "--T::.")."""
    return len(text) == 32 and text[26:] == "+00:00" and text[4:20:3] == "--T::."
