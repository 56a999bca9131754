"""Rich renderings of cards, shared by `show` and `review`. No I/O here: it returns renderables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.segment import Segment
from rich.text import Text

from studycli.content.card import Card, Kind

from .code import CodeLines, highlighted
from .markdown import code_spans, markdown

# Titles are given as Text: a str title is parsed as markup, and the first markup parsed imports
# Rich's table of emoji names (a few milliseconds before the first card shows).
KIND_STYLE = {"concept": "cyan", "derivation": "magenta", "coding": "green", "cloze": "blue"}
# A card's panels are at most this wide: lines of text much longer are hard to read (and the
# terminal's width is used where it is narrower)
TEXT_WIDTH = 100


def _panel(body: RenderableType, title: str, style: str) -> Panel:
    """A card's part in a box titled on the left, at most `TEXT_WIDTH` wide."""
    return Panel(body, title=Text(title), title_align="left", border_style=style, width=TEXT_WIDTH)


def _text(text: str) -> RenderableType:
    """A card's Markdown text; one that begins with a list without the blank line Rich's
    Markdown draws above a list (a box's first line was empty)."""
    body = markdown(text)
    return _FromFirstLine(body) if _LIST_START.match(text) else body


_LIST_START = re.compile(r"\s*(?:[-*+]|\d+[.)])\s")


class _FromFirstLine:
    """`body` without the blank lines it begins with."""

    def __init__(self, body: RenderableType) -> None:
        self.body = body

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.body, options, pad=False)
        while lines and not "".join(segment.text for segment in lines[0]).strip():
            del lines[0]
        for line in lines:
            yield from line
            yield Segment.line()


def header(card: Card) -> _Header:
    """The card's kind, title, and where it is (deck · topic · id)."""
    return _Header(card)


class _Header:
    """The header on one line where it fits; else where it is goes on a line of its own
    (wrapped with the title, the id was split across two lines), and a title too long for
    its line goes on under its own first word, not under the kind (at 50 columns a third
    of the cards' titles went on at the first column, below the kind's badge); where it is,
    too long for its line, goes on one space in, as it begins."""

    def __init__(self, card: Card) -> None:
        kind = card.kind.value
        self.kind = Text()
        self.kind.append(f" {kind} ", style=f"bold reverse {KIND_STYLE[kind]}")
        self.kind.append("  ")
        self.words = Text(card.title, style="bold")
        self.where = Text(f"{card.deck} · {card.topic} · {card.id}", style="dim")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, words, where = options.max_width, self.words, self.where
        if options.ascii_only:  # measured as the output spells them (`charset`)
            from .charset import shown

            words, where = shown(words, options.encoding), shown(where, options.encoding)
        title = Text.assemble(self.kind, words)
        if title.cell_len + 3 + where.cell_len <= width:
            yield Text.assemble(title, "   ", where)
            return
        indent = self.kind.cell_len
        if title.cell_len <= width or width - indent < 20:
            yield title
        else:
            for index, line in enumerate(words.wrap(console, width - indent)):
                yield Text.assemble(self.kind if index == 0 else " " * indent, line)
        for line in where.wrap(console, max(width - 1, 1)):  # (each line a space in)
            yield Text.assemble(" ", line)


class KeyBar:
    """Keys and what each does (` 3 ` in its style, then " Good 10m"), on as few lines as the
    width allows, a line never ending inside one (at 40 columns "Good" was left on one line
    and its interval "10m" began the next)."""

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        self.keys = [  # (key, what it does, the key's style)
            Text.assemble((f" {key} ", style), f" {words}") for key, words, style in keys
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _packed(self.keys, Text("   "), options.max_width)


def said_no_key(console: Console, key: str | None, keys: str, said: str = "") -> None:
    """Say that `key`, a printable key that does nothing where it was pressed, is no key there,
    with the `keys` that are (`said`: what to say of it instead of "KEY is no key here"):
    ignored without a word, a review session, `solve`'s rating prompt and its watch each looked
    stuck. Enter, space and the terminal's escape sequences are passed over."""
    if key is None or len(key) != 1 or not key.isprintable() or key.isspace():
        return
    console.print(KeyLine(f"{said or f'{key} is no key here'}: {keys}", "yellow"))


class KeyLine:
    """A line of keys and what each does (`Enter reveal · s solve · q quit`), in one style,
    on as few lines as the width allows, a line breaking only between two of them, the
    separator left out there: wrapped as prose, at 60 columns `q` ended one line and `quit`
    began the next (`b` and `bury` at 40). A part wider than the line wraps on its own."""

    SEPARATOR = " · "

    def __init__(self, line: str, style: str = "dim") -> None:
        self.parts = [Text(part, style=style) for part in line.split(self.SEPARATOR)]
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        parts, gap = self.parts, Text(self.SEPARATOR, style=self.style)
        if options.ascii_only:  # measured as the output spells them (`charset`)
            from .charset import shown

            parts = [shown(part, options.encoding) for part in parts]
            gap = shown(gap, options.encoding)
        yield from _packed(parts, gap, options.max_width)


def _packed(parts: list[Text], gap: Text, width: int) -> Iterator[Text]:
    """`parts` joined by `gap` on as few lines as `width` allows, a line breaking only between
    two of them (the gap left out there); a part wider than a line is a line of its own."""
    line = Text()
    for part in parts:
        if line.cell_len and line.cell_len + gap.cell_len + part.cell_len > width:
            yield line
            line = Text()
        line = Text.assemble(line, gap, part) if line.cell_len else part.copy()
    yield line


def prompt(card: Card) -> RenderableType:
    """The question; for a cloze card its text with the deletion being asked blanked."""
    text = card.prompt
    if card.kind == Kind.CLOZE:
        from studycli.content import cloze

        marks = _Marks()
        text = marks.put(cloze.blank(text, card.cloze, lambda d: marks(f"[{d.hint or '...'}]")))
    return _panel(_text(text), "Question", "blue")


class _Marks:
    """A cloze deletion's blank (front) or hidden text (back), in bold: each is first left as
    a placeholder, then written `**shown**`, or as it is where the text around it is code
    (a code block or span shows the stars: `L = **[...]** + λ · CE(...)`)."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def __call__(self, shown: str) -> str:
        self.shown.append(shown)
        return f"\ue000{len(self.shown) - 1}\ue001"  # (private use: no Markdown in it)

    def put(self, text: str) -> str:
        """`text` with the placeholders replaced."""
        code = code_spans(text)

        def shown(found: re.Match[str]) -> str:
            mark = self.shown[int(found.group(1))]
            return mark if any(a <= found.start() < b for a, b in code) else f"**{mark}**"

        return re.sub("\ue000(\\d+)\ue001", shown, text)


def step(card: Card, index: int) -> RenderableType:
    return _panel(_text(card.steps[index]), f"Step {index + 1} of {len(card.steps)}", "magenta")


def hint(text: str, title: str) -> RenderableType:
    """A hint in a box as wide as the card's others (it took the terminal's whole width)."""
    return _panel(_text(text), title, "yellow")


def answer(card: Card) -> RenderableType:
    """The answer (a cloze card's text with its deletion shown), then the explanation."""
    if card.kind == Kind.CLOZE:
        from studycli.content import cloze

        marks = _Marks()
        text = marks.put(cloze.reveal(card.prompt, card.cloze, marks))
    else:
        text = card.answer or "_(no written answer: run the checker)_"
    shown = _panel(_text(text), "Answer", "green")
    if not card.explanation:
        return shown
    why = _panel(_text(card.explanation), "Why", "dim")
    return Group(shown, why)


def code(source: str, title: str) -> RenderableType:
    """`source` in a box, without the blank lines it ends with: a file's last newline made
    `Syntax` draw an empty last line in every Starter box."""
    return _panel(_Python(source.rstrip()), title, "dim")


class _Python:
    """Python source, highlighted on a colour terminal, a line too long for the width continued
    at its own indentation (`CodeLines`). Without colour it is the plain text laid out the same
    way, without lexing it (pygments' Python lexer compiles its patterns on first use: tens of
    milliseconds)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if console.color_system is None:
            yield CodeLines(Text(self.source.expandtabs(4)).split("\n", allow_blank=True))
            return
        yield highlighted(self.source, "python", "ansi_dark")


def print_full(
    console: Console,
    card: Card,
    *,
    with_answer: bool,
    starter: str | None = None,
    reference: tuple[str | None, Path] | None = None,
) -> None:
    """Print the whole card: header, prompt, starter; with the answer, steps and answer too,
    and the reference solution (`reference`: its function's source, and its module's file).
    The file's line is printed whole (soft_wrap), for the terminal to wrap: Rich's wrap cut a
    long path (an installed package's, in site-packages) mid-word, and it was copied, or
    piped, in two."""
    parts: list[RenderableType] = [header(card), prompt(card)]
    if starter is not None:
        parts.append(code(starter, "Starter"))
    where = None
    if with_answer:
        parts += [step(card, i) for i in range(len(card.steps))]
        parts.append(answer(card))
        if card.solution is not None and reference is not None:
            source, module = reference
            if source is not None:
                parts.append(code(source, "Reference"))
            where = Text(f"reference: {module} :: {card.solution.function}", style="dim")
    console.print(Group(*parts))
    if where is not None:
        console.print(where, soft_wrap=True)
    if card.requires:
        console.print(Text("requires: " + ", ".join(card.requires), style="dim"))
