"""A card's Markdown without the layout the terminal does not show: what `text_hash` hashes.

The terminal renders card text as Rich's Markdown does (CommonMark, with tables), which joins
the lines of a paragraph with spaces and wraps them to its width: where a paragraph's lines
break, how its words are spaced, the whitespace a line ends with and the blank lines around
the text do not show. `shown(text)` takes that layout out, so that an author who reflows a
paragraph flags no learner's card as edited; what shows stays: the words and punctuation, the
breaks between paragraphs, lists and their nesting, headings, tables, hard line breaks (a
line ending in two spaces or a backslash), code spans as written, and code blocks (fenced, or
indented four spaces) line for line, only the whitespace their lines end with taken off.

It errs one way only: what Markdown could read as anything but a paragraph's text is kept as
written but for the whitespace its lines end with (a quote, a table, a line indented four
spaces or more, a line that begins with a list marker or `#`, a link reference definition
(`[label]: url`, which shows nothing) and the lines after it, blank lines between blocks, and
after HTML or a code block this reader cannot place, every line), so that two texts that
render differently never give one result (tests/test_content_layout.py holds `shown(text)`
to render as `text` does, with markdown-it); a reflow that puts such a line at a line's start
(`- ` or `> ` in a sentence, which Markdown would read so) is an edit. It reads no Markdown
library: a new version of markdown-it changes no card's hash. The hard break a two-space line
end makes is kept (the terminal shows it), and in a code span that a line break cuts, the
whitespace at the line's end is not.
"""

from __future__ import annotations

import re

# A line (its indentation off) that Markdown may read as other than a paragraph's text: an ATX
# heading, a quote, a fence, HTML, a list item; a line of only `*_=:|+-` and spaces (a
# thematic break, a setext heading's underline, a table's delimiter row).
_NOT_PLAIN = re.compile(
    r"#{1,6}(?:[ \t]|$)|>|`{3,}[^`]*$|~{3,}|<[A-Za-z/!?]"
    r"|(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)|[ \t*_=:|+-]*$"
)
# A list item whose text begins within four spaces of its marker (more: code in the item)
_ITEM = re.compile(r"(?:[-+*]|\d{1,9}[.)]) {1,4}(?=\S)")
# An ordered list item's marker (`_continues`)
_ORDERED = re.compile(r"(\d{1,9})[.)](?:[ \t]|$)")
# After one of these a paragraph begins: an ATX heading, a thematic break, and after a
# paragraph's line a setext heading's underline
_BREAK = re.compile(r"#{1,6}(?:[ \t]|$)|(?:\*[ \t]*){3,}$|(?:-[ \t]*){3,}$|(?:_[ \t]*){3,}$")
_UNDERLINE = re.compile(r"=+[ \t]*$|-+[ \t]*$")
_FENCE = re.compile(r"`{3,}|~{3,}")
_MARKERS = re.compile(r"(?:(?:[-+*]|\d{1,9}[.)])[ \t]{1,4})*")
_HTML = re.compile(r"<[A-Za-z/!?]")
# A line that may begin a link reference definition, which shows nothing and may go on in the
# next lines (its destination, its title): `[label]: destination "title"`. It cannot interrupt
# a paragraph, so only a line no paragraph continues is read so (`_Reader.begin`).
_DEFINITION = re.compile(r"\[(?:\\.|[^\\\]])+\]:")
_TABLE_DELIMITER = re.compile(r"[ \t|:-]*-[ \t|:-]*")
_SPACES = re.compile(r"[ \t]+")
_TICKS = re.compile(r"\\.|`+", re.DOTALL)  # an escape, or a run of backticks
_HARD = "\0"  # a hard break of two spaces while spaces are made one (YAML has no NUL)


def shown(text: str) -> str:
    """`text` (Markdown) with the layout the terminal does not show taken out (see the
    module's docstring): two texts that give the same result render alike."""
    lines = text.split("\n")
    reader = _Reader(lines)
    for number, line in enumerate(lines):
        reader.read(number, line)
    reader.close_paragraph()
    return "\n".join(reader.out).strip("\n")


class _Reader:
    """`shown`'s state, line by line."""

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.verbatim = lines, _in_tables(lines)
        self.out: list[str] = []
        self.paragraph: list[str] = []  # the open paragraph: its first line's prefix, then
        # its lines as written (the first without the prefix)
        self.start = 0  # the number of the open paragraph's first line
        self.top = False  # whether the open paragraph is the document's own (in no list item)
        self.fence = ""  # the fence of the open fenced code block
        self.fence_indent = 0  # the columns its opening line is indented
        # what the last line was: "text" (a paragraph's, which a plain line continues),
        # "break" (a blank line, a heading, a fence's end: a plain line begins a paragraph)
        # or "other" (a plain line is kept as written: it may be a quote's, a table's, code)
        self.after = "break"
        self.blanks = 0  # blank lines not yet put out
        # Every line from here on kept as written: after HTML (a block of it may go on past a
        # blank line, and the terminal shows none), or a line less indented than the fence
        # of its code block (which a list item may have ended: where, this reader does not
        # follow)
        self.raw = False

    def read(self, number: int, line: str) -> None:
        body = line.rstrip(" \t")
        if self.fence and body and _indent(body) < self.fence_indent:
            self.raw = True
        if self.raw:
            self.out.append(body + _hard(self.lines, number))
        elif self.fence:
            self.out.append(body)
            stripped = body.lstrip(" ")
            closing = stripped.startswith(self.fence) and not stripped.strip(self.fence[0])
            if closing and _indent(body) < 4:
                self.fence, self.after = "", "break"
        elif not body:
            self.blanks += 1
            self.after = "break"
        else:
            stripped = body.lstrip(" \t")
            plain = not _NOT_PLAIN.match(stripped) and not self.verbatim[number]
            if self.after == "text" and (plain or (self.top and _continues(stripped))):
                self.paragraph.append(line)
                return
            self.close_paragraph(_hard(self.lines, number - 1), ended=False)
            if self.out:  # (a run of them can matter: in a code block, after an empty item)
                self.out.extend([""] * self.blanks)
            self.blanks = 0
            self.begin(number, line, body, plain)

    def begin(self, number: int, line: str, body: str, plain: bool) -> None:
        """Read `line` (`body` without the whitespace it ends with, not blank), which no
        paragraph continues."""
        stripped = body.lstrip(" \t")
        indent = len(body) - len(stripped)
        found = _MARKERS.match(stripped)  # (a fence may begin a list item)
        markers = found.end() if found else 0
        opened = _FENCE.match(stripped, markers) if _indent(body) < 4 else None
        if opened and opened.group()[0] == "`" and "`" in stripped[opened.end() :]:
            opened = None  # (not a fence: a backtick fence's info string has none)
        item = _ITEM.match(stripped)
        if opened:
            # (a list item that may not begin here, a column this reader does not count, or
            # a table's row that Markdown may read as a fence)
            self.raw = self.verbatim[number] or (
                markers > 0 and (self.after != "break" or "\t" in stripped[:markers])
            )
            self.fence, self.after = opened.group(), "other"
            self.fence_indent = _indent(body) + markers
            self.out.append(body + _hard(self.lines, number) * self.raw)
        elif _HTML.match(stripped, markers) or (
            _indent(body) >= 4 and _FENCE.match(stripped, markers)
        ):
            # (HTML, also in a list item; or a fence indented four columns or more: code, or a
            # list item's fence, whose code lines may be indented less, blank lines and all)
            self.out.append(body + _hard(self.lines, number))
            self.raw = True
        elif (
            _indent(body) >= 4
            or self.verbatim[number]
            or self.after == "other"
            or _DEFINITION.match(stripped, markers)
        ):
            self.out.append(body + _hard(self.lines, number))
            self.after = "other"
        elif plain:
            self.start = number
            self.paragraph += [body[:indent], line[indent:]]
            self.after, self.top = "text", indent == 0
        elif item and not _NOT_PLAIN.match(stripped[item.end() :]):
            self.start = number
            self.paragraph += [body[: indent + item.end()], line[indent + item.end() :]]
            self.after, self.top = "text", False
        else:
            self.out.append(body + _hard(self.lines, number))
            ends = _BREAK.match(stripped) or (self.after == "text" and _UNDERLINE.match(stripped))
            self.after = "break" if ends else "other"

    def close_paragraph(self, hard: str = "", ended: bool = True) -> None:
        """Put the open paragraph out, `hard` after it (`_hard`): its code spans as written
        (a line break in one a space), the rest as `_prose`. `ended`: by a blank line or the
        text's end, where Markdown surely ends it too."""
        if not self.paragraph:
            return
        prefix, text = self.paragraph[0], "\n".join(self.paragraph[1:]).rstrip(" \t")
        spans, unclosed = _code_spans(text)
        parts, start = [prefix], 0
        for begin, end in spans:
            parts += [_prose(text[start:begin]), text[begin:end].replace("\n", " ")]
            start = end
        parts.append(_prose(text[start:]))
        lines = "".join(parts).replace(_HARD, "  \n").split("\n")
        if (unclosed and not ended) or any(_NOT_PLAIN.match(line) for line in lines[1:]):
            # as written: a backtick left open may open a code span that goes on in the next
            # line (a paragraph's, where it is not taken for one), or a line after a hard
            # break would begin a block
            numbers = range(self.start, self.start + len(self.paragraph) - 2)
            lines = [self.lines[n].rstrip(" \t") + _hard(self.lines, n) for n in numbers]
            lines.append(self.lines[numbers.stop].rstrip(" \t"))
        self.out.append("\n".join(lines) + hard)
        self.paragraph.clear()


def _prose(text: str) -> str:
    """A paragraph's text outside its code spans: each line break soft (a space) or hard
    (`_ending`), runs of spaces and tabs one space."""
    pieces = text.split("\n")
    joined = pieces[0]
    for piece in pieces[1:]:
        ending = _ending(joined)
        if ending.endswith("  "):
            ending = ending[:-2] + _HARD
        elif not ending and joined.endswith("\\"):
            ending = "\n"  # (a backslash before the newline: a hard break)
        joined = joined.rstrip(" \t") + (ending or " ") + piece.lstrip(" \t")
    return _SPACES.sub(" ", joined)


def _continues(line: str) -> bool:
    """Whether `line`, which is not plain, still continues a paragraph of the document's own
    (in no list): it begins with an ordered list's marker whose number is not 1 ("2017. The"),
    or is that marker alone ("1."), which starts no list there (CommonMark)."""
    found = _ORDERED.match(line)
    return found is not None and (int(found.group(1)) != 1 or not line[found.end() :].strip())


def _indent(line: str) -> int:
    """The columns `line`'s indentation takes (a tab to the next multiple of 4)."""
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += 4 - column % 4
        else:
            break
    return column


def _hard(lines: list[str], number: int) -> str:
    """What line `number` keeps of the whitespace it ends with (`_ending`), where a line
    follows; else nothing."""
    if number + 1 >= len(lines) or not lines[number + 1].strip(" \t"):
        return ""
    return _ending(lines[number])


def _ending(line: str) -> str:
    """What of the whitespace `line` ends with matters where a line follows in its paragraph:
    two spaces (a hard break), and one after a backslash (markdown-it reads the two as one
    escape: the break needs two more); else nothing (a backslash alone before the newline is
    a hard break too, and stays)."""
    body = line.rstrip(" \t")
    trailing = line[len(body) :]
    kept = ""
    if trailing and (len(body) - len(body.rstrip("\\"))) % 2:
        kept, trailing = " ", trailing[1:]
    return kept + ("  " if trailing.endswith("  ") else "")


def _code_spans(text: str) -> tuple[list[tuple[int, int]], bool]:
    """Where the code spans of the paragraph `text` are, as (start, end) offsets: a run of
    backticks not escaped, closed by the next run of as many (CommonMark); and whether a run
    is left open."""
    spans: list[tuple[int, int]] = []
    unclosed = False
    position = 0
    while found := _TICKS.search(text, position):
        position = found.end()
        if found.group()[0] == "\\":  # (an escape: what it escapes is no backtick run)
            continue
        closing = re.compile(f"(?<!`){found.group()}(?!`)").search(text, position)
        if closing is None:
            unclosed = True
        else:
            spans.append((found.start(), closing.end()))
            position = closing.end()
    return spans, unclosed


def _in_tables(lines: list[str]) -> list[bool]:
    """For each line, whether it is in a group of lines (between blank lines) that holds a
    table's delimiter row and a `|`: such a group is kept as written (a table's rows are not a
    paragraph's lines)."""
    marked: list[bool] = []
    group: list[str] = []
    for line in [*lines, ""]:
        if line.strip(" \t"):
            group.append(line)
            continue
        table = any(_TABLE_DELIMITER.fullmatch(g.strip()) for g in group) and any(
            "|" in g for g in group
        )
        marked += [table] * len(group) + [False]
        group = []
    return marked[: len(lines)]
