"""Text on an output whose encoding is not UTF-8 (a latin-1 locale, LC_ALL=C's ASCII): each
character it cannot encode is spelled in ASCII that reads the same (≤ as <=, θ as theta, x⁻¹
as x^-1) before Rich lays the text out. Imported only where an output is not UTF-8.

The stream's own replacement came after the layout: Rich had measured `θ` one cell wide and
the terminal got `theta`, five, so box lines ran past their border (on latin-1, in 313 of the
493 shipped cards), and what had no spelling was a `?` (`↪`, `ξ`, `ŷ`). `LimitedConsole`
spells every text it renders; the renderables that measure text themselves (a card's header,
lines of code, `list`'s table) spell theirs with `shown` or `spelled` first.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable
from functools import cache
from itertools import accumulate
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Span, Text

# ASCII for what card text and the screens use, where Unicode's decomposition gives none or
# a worse one (it gives ½ as 1⁄2, ŷ as y and a hat, ℝ as R); Greek letters go by their names
# (λ: lambda, Δ: Delta), superscripts and subscripts after ^ and _ (ᵀ: ^T, ₖ: _k).
# fmt: off
ASCII_FOR = {
    **dict.fromkeys("▁▂▃▄▅▆▇█▏▎▍▌▋▊▉", "#"),  # a chart's bars
    **dict(zip("│┃─━", "||--", strict=True)),  # the borders of list's and due's tables
    **dict.fromkeys("└┘┌┐├┤┬┴┼╭╮╯╰┏┓┗┛┣┫┳┻╋┡┩╇", "+"),
    "Σ": "sum", "Π": "prod",  # as card text uses them
    "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~", "∑": "sum", "∏": "prod", "√": "sqrt",
    "≲": "<~", "≳": ">~",
    "∞": "inf", "→": "->", "←": "<-", "↔": "<->", "⇒": "=>", "↪": ">", "∇": "grad", "∂": "d",
    "∈": "in", "∉": "not in", "∅": "{}", "⊙": "(.)", "⊗": "(x)", "·": "*", "⋅": "*",
    "×": "x", "−": "-", "±": "+-", "‖": "||", "∥": "||", "⊥": "perp", "⟂": "perp",
    "∝": "propto", "∫": "int", "∪": "U", "⟨": "<", "⟩": ">", "⁄": "/", "⋯": "...",
    "…": "...", "°": "deg", "—": "--", "–": "-", "✓": "v", "✗": "x", "•": "*", "‘": "'",
    "’": "'", "“": '"', "”": '"',
    "\u0302": "hat", "\u0304": "bar", "\u0303": "tilde",  # combining: ŷ, x̄, x̃
}
# fmt: on
_SCRIPTS = {"<super>": "^", "<sub>": "_"}


class LimitedConsole(Console):
    """A Rich console on an output that is not UTF-8: each text it renders is spelled
    (`shown`) before it is wrapped and measured, a string once its markup is parsed; what a
    renderable draws itself that the output lacks (Rich's `…` where it cuts a text short, a
    bullet) is put one ASCII character a cell, after the layout, where it keeps the width."""

    def render_str(self, text: str, **options: Any) -> Text:
        return shown(super().render_str(text, **options), self.encoding)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        encoding = self.encoding
        if isinstance(renderable, Text):
            renderable = shown(renderable, encoding)
        for segment in super().render(renderable, options):
            if segment.text.isascii() or _encodes(segment.text, encoding):
                yield segment
            else:
                yield segment._replace(text=_cell_for_cell(segment.text, encoding))


def shown(text: Text, encoding: str) -> Text:
    """`text` as an output in `encoding` shows it (`spelled`), each style on what stands for
    the characters it was on."""
    plain = text.plain
    if plain.isascii():
        return text
    pieces = _pieces(plain, encoding)
    at = list(accumulate(map(len, pieces), initial=0))  # where each character's piece begins
    end = len(plain)
    spelt = text.blank_copy("".join(pieces))
    spelt.spans = [
        Span(at[min(span.start, end)], at[min(span.end, end)], span.style) for span in text.spans
    ]
    return spelt


def spelled(text: str, encoding: str) -> str:
    """`text` as an output in `encoding` shows it: what it cannot encode spelled in ASCII."""
    return text if text.isascii() else "".join(_pieces(text, encoding))


def _pieces(plain: str, encoding: str) -> list[str]:
    """What stands for each character of `plain`: itself where the encoding has it, else its
    ASCII spelling. A superscript or subscript is always spelled, `^` or `_` once for a run
    (x⁻¹: x^-1, not x^-¹ in latin-1, which has ¹), and a spelled word or run is set apart
    from a letter or digit beside it (λI: lambda I, k∈S: k in S, Wᵀx: W^T x; but x̄: xbar,
    the bar a mark on the x)."""
    pieces: list[str] = []
    run = ""  # the mark of the run of superscripts or subscripts spelled last
    apart = False  # whether the piece before is a spelled word or run
    for char in plain:
        mark, ascii = ("", char) if char.isascii() else _spelled(char)
        kept = not mark and (char.isascii() or _encodes(char, encoding))
        in_run = bool(mark) and mark == run
        piece = char if kept else ascii if in_run else mark + ascii
        word = not kept and not mark and len(ascii) > 1
        touching = bool(pieces) and pieces[-1][-1:].isalnum() and piece[:1].isalnum()
        if touching and (word or apart) and not in_run and not _combining(char):
            piece = " " + piece
        apart, run = not kept and (bool(mark) or len(ascii) > 1), mark
        pieces.append(piece)
    return pieces


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@cache
def _spelled(char: str) -> tuple[str, str]:
    """A character's mark (`^` for a superscript, `_` for a subscript, else "") and its ASCII
    spelling: `ASCII_FOR`'s, else that of the characters Unicode decomposes it into, a Greek
    letter's name, nothing for a mark with none (an acute accent), else `?`."""
    if char in ASCII_FOR:
        return "", ASCII_FOR[char]
    import unicodedata

    parts = unicodedata.normalize("NFKD", char)
    if parts != char:
        tag = unicodedata.decomposition(char).split(" ")[0]
        mark = _SCRIPTS.get(tag, "") if len(parts) == 1 else ""  # (™ is TM, not ^TM)
        return mark, "".join(part if part.isascii() else _spelled(part)[1] for part in parts)
    name = unicodedata.name(char, "").replace("LAMDA", "LAMBDA").split(" ")
    if name[:2] == ["GREEK", "SMALL"]:
        return "", name[-1].lower()
    if name[:2] == ["GREEK", "CAPITAL"]:
        return "", name[-1].capitalize()
    return "", "" if _combining(char) else "?"


def _combining(char: str) -> bool:
    """A mark on the character before it, or a character of no width (a zero-width space)."""
    import unicodedata

    return unicodedata.category(char) in ("Mn", "Me", "Cf")


def _cell_for_cell(text: str, encoding: str) -> str:
    """`text`, laid out already, each character the encoding lacks as one ASCII character a
    cell: its spelling where that is one character (a bullet, a border), `.` for Rich's `…`,
    else `?` (not a spelling's first character: ≤ as < would say something else)."""
    from rich.cells import cell_len

    def one(char: str) -> str:
        spelling = "." if char == "…" else _spelled(char)[1]
        return (spelling if len(spelling) == 1 else "?").ljust(cell_len(char))[: cell_len(char)]

    return "".join(
        char if char.isascii() or _encodes(char, encoding) else one(char) for char in text
    )


def replace_what_the_streams_cannot_show(streams: list[io.TextIOWrapper]) -> None:
    """Make `streams` write what they cannot encode spelled (`spelled`) where it comes other
    than through a `LimitedConsole` (a `print`, a note on stderr, which is not laid out): one
    such character ended the command with a UnicodeEncodeError."""
    codecs.register_error("studycli-ascii", _in_ascii)
    for stream in streams:
        stream.reconfigure(errors="studycli-ascii")


def _in_ascii(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)
    return spelled(error.object[error.start : error.end], "ascii"), error.end


def limit_typers_consoles() -> None:
    """Make typer draw its help on `LimitedConsole`s. It makes its own consoles (in
    `typer.rich_utils`, which it imports for help and usage errors only) and cannot be given
    one; at 40 columns the option names it cut short with Rich's `…` were written `...` after
    the layout, two columns past the box's border."""
    from typer import rich_utils

    rich_utils.Console = LimitedConsole  # type: ignore[misc]  # (the name it makes them by)
