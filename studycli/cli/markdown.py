"""Card text (Markdown) as a Rich renderable, without Rich's Markdown parser where the text
does not need it.

Rich's `Markdown` imports markdown-it and pygments, about a fifth of a command's start-up, and
most card texts are paragraphs with `inline code`, **bold** and *italic*, some with a bullet
list or a code block with no language (indented, or fenced with none or `text`). `markdown(text)`
renders exactly that subset itself, segment for segment as Rich's `Markdown` does (a code
block as `Syntax` draws plain text, without importing pygments; tests/test_cli_markdown.py
compares the two on every shipped card text, with and without colour), and hands any other
text to Rich's `Markdown`. The subset is checked conservatively: anything that could be other
Markdown (headings, quotes, numbered lists, fences with a language or a blank line, links,
HTML, escapes, entities, tables, nested or ambiguous emphasis, `_` that could open emphasis,
loose lists) is left to Rich.
"""

from __future__ import annotations

import re
from functools import cache
from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from .code import CodeLines, highlighted

# A line that could begin a block other than a paragraph, or be a setext underline, a
# thematic break or a table's delimiter row.
_BLOCK_START = re.compile(r"[#>|<\[]|[-+*](?:\s|$)|\d{1,9}[.)](?:\s|$)|[\s*_=:|+-]*$")
# Inline syntax outside code spans that the subset leaves to Rich: escapes, entities, HTML
# and autolinks, strikethrough, links and images.
_OTHER_INLINE = re.compile(r"[\\&]|~~|\]\(|<[A-Za-z/!?]")
_DELIMITERS = re.compile(r"\*+|_+")
_FENCES = ("```", "```text")  # the opening lines of the fenced code blocks drawn as text

STRONG, EMPHASIS, CODE = "markdown.strong", "markdown.em", "markdown.code"
# pygments' monokai (the theme of Rich's Markdown code blocks): its background, and the style
# `PygmentsSyntaxTheme` gives its Text token.
MONOKAI_BACKGROUND = Style(bgcolor="#272822")
MONOKAI_TEXT = Style(color="#f8f8f2", bgcolor="#272822", bold=False, italic=False, underline=False)

# A run of text with the inline styles it is in; a paragraph is a list of runs.
Run = tuple[str, tuple[str, ...]]


class _Bullets:
    def __init__(self, items: list[list[Run]]) -> None:
        self.items = items


class _CodeBlock:
    """A code block with no language (indented, or fenced with none or `text`), laid out as
    Rich's Markdown lays it out through `Syntax(code, "text", theme="monokai", word_wrap=True,
    padding=1)` (but for `CodeLines`' continued lines), without pygments: the "text" lexer makes
    the whole block one token, so it is monokai's text colour on monokai's background
    (tests/test_cli_markdown.py pins both to pygments' monokai), padded as `code_padding`
    says."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = Text(justify="left", style=MONOKAI_BACKGROUND, tab_size=4, no_wrap=False)
        text.append(self.code + "\n", MONOKAI_TEXT)
        lines = CodeLines(text.split("\n", allow_blank=False), MONOKAI_BACKGROUND, pad=True)
        yield Padding(lines, style=MONOKAI_BACKGROUND, pad=code_padding(console))


def code_padding(console: Console) -> tuple[int, int]:
    """A code block's padding (above and below, left and right): Rich's one cell of its
    background on every side where the terminal shows that background. Without colour the
    lines above and below are blank lines: with the blank line that parts blocks, a code
    block stood between two empty lines above and two below, and a box that begins or ends
    with one began or ended empty. There only the cell left and right is kept, which sets
    the code in from the text."""
    return (1, 1) if console.color_system and not console.no_color else (0, 1)


Block = list[Run] | _Bullets | _CodeBlock


def markdown(text: str) -> RenderableType:
    """`text` rendered as Rich's `Markdown(text)` renders it."""
    blocks = _blocks(text)
    if blocks is None:
        return rich_markdown(text)
    return _Subset(blocks)


def rich_markdown(text: str) -> RenderableType:
    """Rich's `Markdown(text)`, its code blocks drawn as `CodeLines` (continued lines indented)."""
    return _hanging_markdown()(text)


@cache
def _hanging_markdown() -> type:
    """Rich's `Markdown` with code blocks of `CodeLines` (made on first use: rich.markdown
    imports markdown-it)."""
    from rich.markdown import CodeBlock, Markdown, MarkdownElement

    class HangingCodeBlock(CodeBlock):
        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            lines = highlighted(str(self.text).rstrip(), self.lexer_name, self.theme)
            yield Padding(lines, style=lines.style, pad=code_padding(console))

    class HangingMarkdown(Markdown):
        elements: ClassVar[dict[str, type[MarkdownElement]]] = {
            **Markdown.elements,
            "fence": HangingCodeBlock,
            "code_block": HangingCodeBlock,
        }

    return HangingMarkdown


class _Subset:
    """Paragraphs and bullet lists, laid out as Rich's `Markdown` lays them out."""

    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = blocks

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        options = options.update(height=None)
        base = console.get_style("none")
        for index, block in enumerate(self.blocks):
            if index or isinstance(block, _Bullets):  # Rich's quirk: a blank line before any list
                yield Segment.line()
            if isinstance(block, _Bullets):
                yield from _bullets(console, options, block, base)
            elif isinstance(block, _CodeBlock):
                yield from console.render(block, options)
            else:
                yield from console.render(_paragraph(console, block, base), options)


def _paragraph(console: Console, runs: list[Run], style) -> Text:
    text = Text(justify="left")
    style = style + console.get_style("markdown.paragraph", default="none")
    for chunk, names in runs:
        run_style = style
        for name in names:
            run_style = run_style + console.get_style(name, default="none")
        text.append(chunk, run_style)
    return text


def _bullets(console: Console, options: ConsoleOptions, bullets: _Bullets, base) -> RenderResult:
    item_style = base + console.get_style("markdown.item", default="none")
    bullet_style = console.get_style("markdown.item.bullet", default="none")
    item_options = options.update(width=options.max_width - 3)
    for item in bullets.items:
        paragraph = _paragraph(console, item, item_style)
        lines = console.render_lines(paragraph, item_options, style=item_style)
        for index, line in enumerate(lines):
            yield Segment(" • " if index == 0 else "   ", bullet_style)
            yield from line
            yield Segment("\n")


def _blocks(text: str) -> list[Block] | None:
    """The paragraphs, bullet lists and code blocks of `text`, or None when it is more."""
    if "\t" in text or "\r" in text:
        return None
    groups: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line != line.rstrip():  # a hard break, or a blank line of spaces
            return None
        if line:
            groups[-1].append(line)
        elif groups[-1]:
            groups.append([])
    blocks: list[Block] = []
    for lines in filter(None, groups):
        after = blocks[-1] if blocks else None
        if isinstance(after, _Bullets | _CodeBlock) and lines[0].startswith(("- ", " ")):
            return None  # a loose list item, or a code block with a blank line
        block: Block | None
        if lines[0] in _FENCES:
            block = _fence(lines)
        elif lines[0].startswith("- "):
            block = _bullet_list(lines)
        elif all(line.startswith("    ") for line in lines):
            block = _CodeBlock("\n".join(line[4:] for line in lines))
        elif all(_plain(line) for line in lines):
            block = _inline("\n".join(lines))
        else:
            return None
        if block is None:
            return None
        blocks.append(block)
    return blocks


def _fence(lines: list[str]) -> _CodeBlock | None:
    """A fenced code block with no language (or `text`), closed by the group's last line."""
    body = lines[1:-1]
    if not body or lines[-1] != "```":
        return None
    if any(line.lstrip(" ").startswith(("```", "~~~")) for line in body):
        return None  # a fence closed early, or another opened
    return _CodeBlock("\n".join(body))


def _plain(line: str) -> bool:
    """Whether `line` can only be a paragraph's line (or a list item's text)."""
    return not line[0].isspace() and not _BLOCK_START.match(line)


def _bullet_list(lines: list[str]) -> _Bullets | None:
    items: list[list[str]] = []
    for line in lines:
        if line.startswith("- "):
            items.append([line[2:]])
        elif line.startswith("  "):
            items[-1].append(line[2:])
        else:
            return None
    paragraphs = []
    for item in items:
        if not all(line and _plain(line) for line in item):
            return None
        runs = _inline("\n".join(item))
        if runs is None:
            return None
        paragraphs.append(runs)
    return _Bullets(paragraphs)


def _inline(source: str) -> list[Run] | None:
    """The runs of a paragraph's text: code spans, matched `*`/`**` pairs, soft breaks."""
    if "``" in source:
        return None
    pieces = source.split("`")
    if len(pieces) % 2 == 0:
        return None  # a backtick left open
    code_spans, offset = [], 0
    for index, piece in enumerate(pieces):
        if index % 2:
            code_spans.append((offset - 1, offset + len(piece) + 1))
        elif _OTHER_INLINE.search(piece):
            return None
        offset += len(piece) + 1
    marks = _emphasis(source, code_spans)
    if marks is None:
        return None
    events = sorted([*((start, end, "code") for start, end in code_spans), *marks])
    runs: list[Run] = []
    styles: list[str] = []
    position = 0
    for start, end, kind in events:
        _text(runs, source[position:start], tuple(styles))
        if kind == "code":
            runs.append((_code(source[start + 1 : end - 1]), (*styles, CODE)))
        elif kind.startswith("open"):
            styles.append(STRONG if end - start == 2 else EMPHASIS)
        else:
            styles.pop()
        position = end
    _text(runs, source[position:], tuple(styles))
    return runs


def _text(runs: list[Run], text: str, styles: tuple[str, ...]) -> None:
    """Text and the soft breaks in it, each its own run (as markdown-it tokenises them)."""
    for index, line in enumerate(text.split("\n")):
        if index:
            runs.append((" ", styles))
        if line:
            runs.append((line, styles))


def _code(content: str) -> str:
    content = content.replace("\n", " ")
    if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
        return content[1:-1]
    return content


def _emphasis(source: str, code_spans: list[tuple[int, int]]) -> list[tuple[int, int, str]] | None:
    """The `*` and `**` pairs of `source` as (start, end, "open"/"close"); None when its
    emphasis is more than strictly alternating pairs of the same length, or a `_` could
    open emphasis."""
    marks: list[tuple[int, int, str]] = []
    for match in _DELIMITERS.finditer(source):
        start, end = match.span()
        if any(a <= start < b for a, b in code_spans):
            continue
        before = source[start - 1] if start else " "
        after = source[end] if end < len(source) else " "
        left = not _space(after) and (
            not _punctuation(after) or _space(before) or _punctuation(before)
        )
        right = not _space(before) and (
            not _punctuation(before) or _space(after) or _punctuation(after)
        )
        if match.group()[0] == "_":
            if left and (not right or _punctuation(before)):
                return None
            continue
        if end - start > 2:
            return None
        if left and right:  # (a cloze's "(**[...]**)."): it can open and close
            if not marks or marks[-1][2] != "open":
                marks.append((start, end, "open"))
                continue
            if marks[-1][1] - marks[-1][0] != end - start:
                return None
            marks.append((start, end, "close"))  # (CommonMark's rule of 3 never bites 1+1, 2+2)
        elif left:
            if marks and marks[-1][2] == "open":
                return None
            marks.append((start, end, "open"))
        elif right:
            if not marks or marks[-1][2] != "open" or marks[-1][1] - marks[-1][0] != end - start:
                return None
            marks.append((start, end, "close"))
    if marks and marks[-1][2] == "open":
        return None
    return marks


# ASCII answered without unicodedata (imported only for other characters): its spaces and its
# punctuation, every one of which is in Unicode's P or S categories.
_ASCII_SPACE = frozenset(" \t\n\v\f\r")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _space(char: str) -> bool:
    if char.isascii():
        return char in _ASCII_SPACE
    import unicodedata

    return unicodedata.category(char) == "Zs"


def _punctuation(char: str) -> bool:
    if char.isascii():
        return char in _ASCII_PUNCTUATION
    import unicodedata

    return unicodedata.category(char)[0] in "PS"


# A code span: a run of backticks, then text, then a run of as many (CommonMark). This pattern
# and `_LIST_ITEM` are a cloze card's only (`code_spans`): strings, which `re` compiles on
# first use, not at every command's start (0.9 M instructions before a card's front)
_CODE_SPAN = r"(?s)(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)"


def code_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` is code to Markdown, as (start, end) offsets: fenced code blocks, indented
    ones (4 spaces after a blank line, outside a list) and `code spans` within a paragraph.
    What is marked up there is shown as written (a cloze deletion's `**` around its blank
    were drawn as two stars each side)."""
    spans: list[tuple[int, int]] = []
    fence = ""  # the fence of the open fenced block
    indented = in_list = False
    after_blank = True
    paragraph = -1  # where the paragraph being read began, -1 outside one
    position = 0
    for line in text.splitlines(keepends=True):
        start, position = position, position + len(line)
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        code = True
        if fence:
            fence = "" if stripped.startswith(fence) and not stripped.strip(fence[0]) else fence
        elif indent < 4 and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif indent >= 4 and (indented or (after_blank and not in_list)):
            indented = True
        else:
            code = indented = False
        if (code or not stripped) and paragraph >= 0:
            spans += _inline_code(text, paragraph, start)
            paragraph = -1
        if code:
            spans.append((start, position))
        elif stripped:
            in_list = bool(re.match(_LIST_ITEM, line.lstrip(" "))) or (in_list and indent > 0)
            paragraph = start if paragraph < 0 else paragraph
        after_blank = not stripped
    if paragraph >= 0:
        spans += _inline_code(text, paragraph, len(text))
    return spans


_LIST_ITEM = r"([-*+]|\d{1,9}[.)])(\s|$)"


def _inline_code(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The code spans of the paragraph `text[start:end]`, as offsets into `text`."""
    return [
        (start + a, start + b)
        for a, b in (m.span() for m in re.finditer(_CODE_SPAN, text[start:end]))
    ]
