"""A review log's columns: their names (py-fsrs's and studycli's own), and its header line read
into each column's place, with what fixes a header that is not a review log's."""

from __future__ import annotations

from pathlib import Path

from studycli.errors import ImportFormatError

REQUIRED = ("card_id", "review_rating", "review_time")
OPTIONAL = ("review_duration",)
OWN = ("content_hash", "undone_at")  # studycli's own columns (the module's docstring)
COLUMNS = REQUIRED + OPTIONAL + OWN
HEADER = ",".join(REQUIRED + OPTIONAL)  # py-fsrs's, as messages give it


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
