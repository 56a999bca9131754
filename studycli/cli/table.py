"""Tables of many plain rows (`list`, `due`), laid out here rather than by rich.table.Table.

Rich measures and renders every cell as a renderable of its own, and every line of output as
segments: 450 rows took `studycli list` longer than everything else it does. These tables hold
only short plain strings, so the layout is simple arithmetic: each column as wide as its widest
cell, the widest wrapping columns narrowed (text wrapped at spaces) when the table is wider
than the terminal, and when that is not enough the columns that may be hidden left out (the
least needed first; a line under the table names them). When even that is too wide (40
columns, ids of 50 characters), the columns of text (not those aligned right: numbers) may
break too, at spaces, after `-` or `/` and before `#` (`position-encoding-` `cloze#c6`), and
as a last resort anywhere, down to their header's width; or, in a column that says so (a
name with no parts, `representation`, which a fold made `representatio` and `n`), a word is
cut short with an ellipsis (`representati…`). A column whose header is the widest of its cells
may name a shorter one (`learning`: `learn`, as Anki heads it), shown only when the table does
not fit even then. They look like Rich's default table (a
heavy head, a light body). The title and the head go through the console (styles, colour as the
terminal allows); the body's plain lines are written to the console's file as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from studycli.records import Record

MIN_WRAPPED = 10  # a wrapping column is never made narrower than this (or its header)...
# ... unless the table is still too wide with every column that may go hidden: then a column of
# text may break its words here (an id at its parts, a cloze deletion's `#c1` kept whole)
_BREAKS = re.compile(r"(?<=[-/])|(?=#)")


class Column(Record):  # a named tuple: cheaper than a frozen dataclass at start-up
    """A column: its header, how its cells align, whether they may wrap when space is short,
    whether the column may be left out when even that is not enough (`hide`: 0 never; the
    highest goes first), and what becomes of a word too long for it (`overflow`, as Rich names
    it): "fold", broken into lines (an id, which must be read whole), "ellipsis", cut
    short, its words never broken (a deck's name, which `--json` gives whole), or "ignore",
    its words never broken while the table can fit otherwise (an id copied from the table:
    other columns wrap or hide first; folded as the last resort). `short`: its
    header where the table is too wide even with its text broken (a number's column, which
    never narrows, is as wide as its header). `least`: how narrow a wrapping column is made
    before a column that may hide is hidden (at least `MIN_WRAPPED`; its longest word too)."""

    header: str
    justify: str = "left"  # or "right"
    wrap: bool = False
    hide: int = 0
    overflow: str = "fold"  # or "ellipsis", "ignore"
    short: str = ""
    least: int = 0


def print_table(
    console: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    bold_rows: frozenset[int] = frozenset(),
) -> None:
    """Print the table, at most the console's width where the columns allow.

    Args:
        console: where to print (its width and its file).
        title: shown centred above, in italics.
        columns: the columns, left to right.
        rows: one string per column each.
        bold_rows: indices of rows shown in bold (a total, say).
    """
    every = list(columns)
    ellipsis = "…"
    from .app import shows_unicode

    if not shows_unicode(console):  # spelled, then measured (see `charset`)
        from .charset import spelled

        title = spelled(title, console.encoding)
        rows = [[spelled(cell, console.encoding) for cell in row] for row in rows]
        ellipsis = spelled(ellipsis, console.encoding)
    natural = [
        max([_width(column.header), *(_width(row[i]) for row in rows)])
        for i, column in enumerate(every)
    ]
    words = [_longest_part(rows, i) if column.wrap else 0 for i, column in enumerate(every)]
    shown = list(range(len(every)))  # the columns kept, by index: measured once, above
    hidden = []
    while True:
        columns = [every[i] for i in shown]
        widths = [natural[i] for i in shown]
        _narrow(widths, _wrap_floors(columns, widths, [words[i] for i in shown]), console.width)
        spare = [k for k, column in enumerate(columns) if column.hide]
        if _total(widths) <= console.width or not spare:
            break
        gone = max(spare, key=lambda k: columns[k].hide)
        hidden.append(columns[gone].header)
        del shown[gone]
    if _total(widths) > console.width:  # (a column's `least` yields before its words break)
        floors = _wrap_floors(columns, widths, [words[i] for i in shown], least=False)
        _narrow(widths, floors, console.width)
    if hidden:
        rows = [[row[i] for i in shown] for row in rows]
    split = _total(widths) > console.width
    if split:
        widths = [natural[i] for i in shown]
        _split(widths, columns, rows, console.width)
        if _total(widths) > console.width and any(column.short for column in columns):
            columns = [c._replace(header=c.short) if c.short else c for c in columns]
            widths = [
                max([_width(column.header), *(_width(row[k]) for row in rows)])
                for k, column in enumerate(columns)
            ]
            _split(widths, columns, rows, console.width)
    wraps = [column.wrap or (split and column.justify != "right") for column in columns]
    head = Text(no_wrap=True, overflow="ignore")
    head.append(title.center(_total(widths)).rstrip() + "\n", style="italic")
    head.append(_rule("┏", "━", "┳", "┓", widths) + "\n")
    for i, column in enumerate(columns):
        head.append("┃ " if i == 0 else " ┃ ")
        head.append(_pad(column.header, widths[i], column.justify), style="bold")
    head.append(" ┃\n" + _rule("┡", "━", "╇", "┩", widths))
    console.print(head, soft_wrap=True)
    body: list[str] = []
    for number, row in enumerate(rows):
        lines = _row(row, columns, widths, wraps, split, ellipsis)
        if number in bold_rows:
            _write(console, body)
            console.print(Text("\n".join(lines), style="bold"), soft_wrap=True)
        else:
            body += lines
    body.append(_rule("└", "─", "┴", "┘", widths))
    _write(console, body)
    if hidden:
        console.print(
            Text(
                f"hidden to fit {console.width} columns: {', '.join(hidden)} (--json shows all)",
                style="dim",
            )
        )


def _total(widths: list[int]) -> int:
    """The table's width with these column widths: the cells, their padding and the borders."""
    return sum(widths) + 3 * len(widths) + 1


def _row(
    row: Sequence[str],
    columns: Sequence[Column],
    widths: list[int],
    wraps: list[bool],
    split: bool,
    ellipsis: str,
) -> list[str]:
    cuts = [ellipsis if column.overflow == "ellipsis" else "" for column in columns]
    cells = [
        _lines(row[i], widths[i], wraps[i], split and columns[i].overflow != "ignore", cuts[i])
        for i in range(len(columns))
    ]
    height = max(len(lines) for lines in cells)
    padded = [
        [_pad(line, widths[i], columns[i].justify) for line in lines]
        + [" " * widths[i]] * (height - len(lines))
        for i, lines in enumerate(cells)
    ]
    return ["│ " + " │ ".join(parts) + " │" for parts in zip(*padded)]


def _write(console: Console, lines: list[str]) -> None:
    if lines:
        console.file.write("\n".join(lines) + "\n")
        lines.clear()


def _wrap_floors(
    columns: Sequence[Column], widths: list[int], words: list[int], least: bool = True
) -> list[int]:
    """How narrow each column may be made before any is hidden: a wrapping one down to
    `MIN_WRAPPED` (or its `least`, where its cells are that wide, unless `least` is false:
    once none is left to hide), its header or its longest word (`words`: a part of one, up to
    a dash), whichever is widest, the others not at all. Below its longest word a title's
    words broke mid-word ("directiona" over "l" at 80 columns) while a column that may hide
    was shown."""
    floors = list(widths)
    for i, column in enumerate(columns):
        if column.wrap:
            wanted = min(column.least, widths[i]) if least else 0
            floors[i] = max(MIN_WRAPPED, wanted, _width(column.header), words[i])
    return floors


def _longest_part(rows: Sequence[Sequence[str]], index: int) -> int:
    """The width of the longest word in column `index`, a word split where `_lines` may break
    it (after a dash): what the column must hold to wrap at spaces and dashes only."""
    longest = 0
    for row in rows:  # (a word no wider than the longest part so far is not split: 500 rows)
        for word in row[index].split() if _width(row[index]) > longest else ():
            if _width(word) > longest:
                longest = max(longest, *(_width(part) for part in _parts(word)))
    return longest


def _split(
    widths: list[int], columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int
) -> None:
    """Narrow a table still too wide with every column that may go hidden, from its natural
    `widths`, the widest column first: every column of text down to its longest part of a word
    (split at spaces and `_BREAKS`: an id broken after a `-`; a column cut with an ellipsis, its
    longest word), then down to its header's width (a word folded anywhere, or cut short).
    Columns aligned right (numbers) keep their width."""
    text = [i for i, column in enumerate(columns) if column.justify != "right"]
    parts = list(widths)
    for i in text:
        whole = columns[i].overflow != "fold"  # (its words whole: cut short, or kept)
        longest = (
            _width(part)
            for row in rows
            for word in row[i].split()
            for part in ((word,) if whole else _parts(word))
        )
        parts[i] = max([_width(columns[i].header), *longest])  # (a table with no rows too)
    _narrow(widths, parts, width)
    headers = [max(1, _width(column.header)) for column in columns]
    _narrow(widths, [headers[i] if i in text else w for i, w in enumerate(widths)], width)


def _parts(word: str) -> list[str]:
    return [part for part in _BREAKS.split(word) if part]


def _narrow(widths: list[int], floors: list[int], width: int) -> None:
    """Narrow the widest column that can give, one cell at a time, until the table fits (or
    none is wider than its floor)."""
    excess = _total(widths) - width
    while excess > 0:
        candidates = [i for i, floor in enumerate(floors) if widths[i] > floor]
        if not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def wrapped(cell: str, width: int) -> list[str]:
    """`cell` in lines of at most `width` cells, broken at spaces, after `-` or `/` and before
    `#` where it can, else anywhere."""
    return _lines(cell, width, True, split=True)


def _lines(cell: str, width: int, wrap: bool, split: bool = False, ellipsis: str = "") -> list[str]:
    """The cell in lines of at most `width` cells: wrapped at spaces (with `split`, or where a
    word is wider than the column, within a word at `_BREAKS` too: a topic's slug after a
    dash), a longer word (or part) folded; with an `ellipsis` ("…", or "..." where the output
    lacks it), words are never broken, and one longer than the column is cut short, ending in
    it."""
    measure = len if cell.isascii() else cell_len
    if not wrap or measure(cell) <= width:
        return [cell]
    lines: list[str] = []
    line, used = "", 0
    for word in cell.split():
        parted = (split or measure(word) > width) and not ellipsis
        for number, part in enumerate(_parts(word) if parted else (word,)):
            size = measure(part)
            if ellipsis and size > width:
                room = width - len(ellipsis)
                part = (part[: _fit(part, room)] if room > 0 else "") + ellipsis[:width]
                size = measure(part)
            while size > width:  # fold a word (or part) longer than the column
                if line:
                    lines.append(line)
                    line, used = "", 0
                cut = _fit(part, width)
                lines.append(part[:cut])
                part = part[cut:]
                size = measure(part)
            gap = 0 if number else 1  # a word's parts join without a space
            if not line:
                line, used = part, size
            elif used + gap + size <= width:
                line += " " * gap + part
                used += gap + size
            else:
                lines.append(line)
                line, used = part, size
    return [*lines, line] if line or not lines else lines


def _fit(word: str, width: int) -> int:
    """How many of `word`'s characters fill `width` cells (at least one)."""
    used = 0
    for count, character in enumerate(word):
        used += cell_len(character)
        if used > width:
            return max(1, count)
    return len(word)


def _pad(cell: str, width: int, justify: str) -> str:
    if cell.isascii():
        return cell.rjust(width) if justify == "right" else cell.ljust(width)
    space = " " * (width - cell_len(cell))
    return space + cell if justify == "right" else cell + space


def _rule(left: str, line: str, cross: str, right: str, widths: list[int]) -> str:
    return left + cross.join(line * (w + 2) for w in widths) + right
