"""Lines of code as `Syntax(..., word_wrap=True)` lays them out, except a line too long for
the width: it goes on at its own indentation after a dim `↪`, not at column 0, where Python's
indentation would read wrong. Used for starters (`render`) and for code blocks in card text
(`markdown`)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

CONTINUED = "↪ "  # before the rest of a code line too long for the width


class CodeLines:
    """Lines of code (plain or highlighted) as `Syntax(..., word_wrap=True)` draws them, but for
    a line too long for the width: it goes on at its own indentation after a dim `↪`, not at
    column 0, where Python's indentation read wrong (a docstring's words continued outside
    its function, `over blocks.`). `style` is under every line; `pad` pads the lines with it."""

    def __init__(
        self, lines: Iterable[Text], style: Style | None = None, pad: bool = False
    ) -> None:
        self.lines, self.style, self.pad = list(lines), style or Style.null(), pad

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        line_options = options.update(height=None, justify="left")
        new_line = Segment.line()
        lines, mark = self.lines, CONTINUED
        if options.ascii_only:  # cut where the output's spelling of them is too long (`charset`)
            from .charset import shown, spelled

            lines = [shown(line, options.encoding) for line in lines]
            mark = spelled(CONTINUED, options.encoding)
        for line in lines:
            for part in continued(line, options.max_width, mark):
                for wrapped in console.render_lines(
                    part, line_options, style=self.style, pad=self.pad
                ):
                    yield from wrapped
                    yield new_line


def highlighted(code: str, lexer: str, theme: str) -> CodeLines:
    """`code`'s lines as `Syntax(code, lexer, theme=theme, word_wrap=True)` highlights them (its
    base style under them, and padding unless the theme's background is the terminal's)."""
    from rich.syntax import Syntax

    syntax = Syntax(code, lexer, theme=theme, word_wrap=True)
    base = Syntax.get_theme(theme).get_background_style() + syntax.background_style
    ends = code.endswith("\n")
    text = syntax.highlight((code if ends else code + "\n").expandtabs(syntax.tab_size))
    if base.transparent_background:
        return CodeLines(text.split("\n", allow_blank=ends))
    return CodeLines(text.split("\n", allow_blank=ends), base, pad=True)


def continued(line: Text, width: int, mark: str = CONTINUED) -> list[Text]:
    """`line` in parts of at most `width` cells, cut at a space where one leaves words on both
    sides (else folded); each part after the first begins at the line's indentation (at most
    half the width), then `mark`."""
    plain = line.plain
    if cell_len(plain) <= width:
        return [line]
    indent = min(len(plain) - len(plain.lstrip(" ")), width // 2)
    room = width - indent - cell_len(mark)
    if room < 1:
        return [line]
    parts, start, fit = [], 0, width
    while cell_len(plain[start:]) > fit:
        end, start_next = _cut(plain, start, fit)
        parts.append(line[start:end])
        start, fit = start_next, room
    if start < len(plain):
        parts.append(line[start:])
    head = Text(" " * indent)
    head.append(mark, style="dim")
    return [parts[0], *(Text.assemble(head, part) for part in parts[1:])]


def _cut(plain: str, start: int, width: int) -> tuple[int, int]:
    """Where the part of `plain` from `start` ends (at most `width` cells), and where the next
    begins: at the last space after a word (the spaces dropped), else after `width` cells."""
    fit, used = start, 0
    while fit < len(plain) and used + cell_len(plain[fit]) <= width:
        used += cell_len(plain[fit])
        fit += 1
    fit = max(fit, start + 1)
    words = len(plain) - len(plain[start:].lstrip(" "))  # (not a space of the indentation)
    space = plain.rfind(" ", words + 1, fit + 1)
    end = len(plain[:space].rstrip(" ")) if space > words else fit
    after = end
    while after < len(plain) and plain[after] == " ":
        after += 1
    return end, after
