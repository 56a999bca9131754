"""The fast card-text path (cli/markdown.py) renders what Rich's Markdown renders, byte for byte,
on every shipped card text, with and without colour; anything outside its subset goes to Rich.
The same for a starter without colour (plain text instead of a lexed `Syntax`)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from functools import cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax

from studycli.cli import render
from studycli.cli.markdown import MONOKAI_BACKGROUND, MONOKAI_TEXT, markdown, rich_markdown
from studycli.content import cloze
from studycli.content.card import Kind
from studycli.content.loader import load_content
from studycli.content.source import card_starter

from .conftest import REPO_ROOT

EXAMPLES = int(os.environ.get("STUDYCLI_EXAMPLES", "150"))
CONSOLES = [(40, None), (100, None), (100, "truecolor"), (57, "256")]  # (width, colour system)


def rendered(renderable, width: int, colours: str | None) -> str:
    """`renderable` in a card's panel, as a console of that width and colour system prints it."""
    return printed(Panel(renderable, title="Question"), width, colours)


def shipped_texts() -> list[tuple[str, str]]:
    """Every text a card shows as Markdown, as `render` passes it: prompts (a cloze card's
    blanked and revealed for each deletion), answers, explanations, steps."""
    content = load_content(REPO_ROOT)
    texts = []
    for card in content.cards.values():
        texts += [(card.id, text) for text in (card.answer, card.explanation, *card.steps)]
        if card.kind == Kind.CLOZE:
            for item in card.study_items():
                texts.append(
                    (item.id, cloze.blank(card.prompt, item.cloze, lambda d: f"**[{d.hint}]**"))
                )
                texts.append((item.id, cloze.reveal(card.prompt, item.cloze, lambda h: f"**{h}**")))
        else:
            texts.append((card.id, card.prompt))
    return [(card_id, text) for card_id, text in texts if text]


SHIPPED = shipped_texts()


@cache
def _parsed(text: str):
    """`rich_markdown(text)`, parsed once for every console it is drawn on."""
    return rich_markdown(text)


@cache
def drawn_by_rich(text: str, width: int, colours: str | None) -> str:
    """`rendered(rich_markdown(text), width, colours)`, drawn once for the tests that compare
    with it: each of the 2,200 shipped texts at 100 columns is compared in two tests (of the
    file's slowest: 20 s each on the 2-core box)."""
    return rendered(_parsed(text), width, colours)


def test_most_shipped_texts_take_the_fast_path():
    """The test below compares something: the subset covers most cards (and the card the
    start-up benchmark shows)."""
    fast = [text for _, text in SHIPPED if not isinstance(markdown(text), Markdown)]
    assert len(fast) > 0.8 * len(SHIPPED)
    flash = load_content(REPO_ROOT).get("flash-attention")
    assert not isinstance(markdown(flash.prompt), Markdown)


@pytest.mark.parametrize(("width", "colours"), CONSOLES)
def test_every_shipped_text_renders_as_rich_markdown_renders_it(width, colours):
    for card_id, text in SHIPPED:
        expected = drawn_by_rich(text, width, colours)
        assert rendered(markdown(text), width, colours) == expected, card_id


# Emphasis a card means: `*word*` or `**Some words.**`, the opening run not right after a letter,
# a digit or a star, the closing run not right before one.
INTENDED_EMPHASIS = re.compile(r"(?<![\w*])(\*\*?)(?=[^\s*])(.+?)(?<=[^\s*])\1(?![\w*])", re.DOTALL)


def test_no_formula_in_a_card_loses_a_star_or_underscore_to_emphasis():
    """Markdown reads `z*z ... codebook*codebook`, `mu**2 + sigma**2` or `∇_μ E_{z}` as emphasis
    and drops the delimiters: the learner saw `(zz).sum(1)`, `0.5 * (mu2 + sigma2 ...)` and
    `∇μ E{z ~ ...}`. Every `*` and `_` of a card's text (hints included), other than the
    delimiters of intended emphasis, must be on screen; a formula that needs them goes in
    `code`."""
    content = load_content(REPO_ROOT)
    texts = []
    for card in content.cards.values():
        texts += [(card.id, text) for text in (card.answer, card.explanation, *card.steps)]
        texts += [(card.id, text) for text in card.hints]
        if card.kind == Kind.CLOZE:  # every deletion revealed, without the bold `render` adds
            texts.append((card.id, cloze.reveal(card.prompt, None)))
        else:
            texts.append((card.id, card.prompt))
    lost = []
    for card_id, text in filter(lambda pair: pair[1], texts):
        shown = printed(markdown(text), 1000, None)
        meant = INTENDED_EMPHASIS.sub(r"\2", text)
        for mark in "*_":
            if shown.count(mark) < meant.count(mark):
                lost.append(f"{card_id}: {mark!r} lost from {text.strip()[:70]!r}")
    assert not lost, "\n".join(lost)


SUBSET = [
    "One paragraph.",
    "Two lines\nof one paragraph.\n\nAnd a second paragraph.",
    "Inline `code`, ` a ` and `a\nb` across lines.",
    "**Bold** and *italic*, **bold with `code` in it**, *(parenthesised)* here.",
    "**Starts a line.** then text; a lone * star and 2 * 3 and snake_case_name.",
    "- first item\n- second item, wrapped\n  onto a continuation line\n- `code` item",
    "Intro:\n\n- a\n- b\n\nAfter the list.",
    "Code:\n\n    x = [1, 2, 3]\n      indented more\n\nAfter the code.",
    "    code first\n\nthen prose",
    "Fenced:\n\n```\nx = f(a)  ->  [3, 3]\n    indented inside\n- not a list\n```\n\nAfter.",
    "```text\nplain text, " + "long " * 30 + "enough to wrap\n```",
    "- a list\n\n```\ncode after it\n```\n\nThen prose.",
    "Unicode: ≤ ≠ √d, **ünï**, *κ*, x_i, m_{t-1}, a < b, 3 > 2, ~ 10, [x] (y), 1. in text.",
    "A cloze's blank: **[...]**. In brackets (**[...]**) W2, and *a (b)*, **c.** d, *[e]*!",
    '(**[a]**)(**[b]**), (*(c)*), "**[d]**" and **[e]**: *[f]*.',
    "",
]
OTHER = [
    "# Heading",
    "> quote",
    "1. one\n2. two",
    "* star item",
    "+ plus item",
    "_emphasis_ with underscores",
    "__strong__",
    "an \\* escape",
    "an &amp; entity",
    "<b>html</b>",
    "a [link](https://example.org)",
    "***both***",
    "*a **nested** b*",
    "line with a hard break  \nnext",
    "tab\tinside",
    "- loose\n\n- list",
    "---",
    "Title\n=====",
    "a | b\n--|--\n1 | 2",
    "```python\nx = 1\n```",
    "```\nblank\n\nline inside\n```",
    "```\nunclosed",
    "```\n```",
    "```\na\n````",
    "~~~\ntilde fence\n~~~",
    "Para\n```\nfence interrupting it\n```",
    "~~struck~~",
    "`unclosed code",
    "**unclosed bold",
    "**[a]**[b]** c",
    "(**[a]",
    "(**[a]*)",
    "a**[b]**c**d**",
    "Para\n    not code: a continuation",
    "- item\n    more indented continuation",
]


@pytest.mark.parametrize("text", SUBSET)
def test_the_subset_renders_as_rich_markdown(text):
    assert not isinstance(markdown(text), Markdown)
    for width, colours in CONSOLES:
        assert rendered(markdown(text), width, colours) == rendered(
            rich_markdown(text), width, colours
        )


@pytest.mark.parametrize("text", OTHER)
def test_other_markdown_goes_to_rich(text):
    assert isinstance(markdown(text), Markdown)


def test_code_blocks_use_monokai_as_rich_syntax_does():
    """The fast code block's two styles are those `Syntax` takes from pygments' monokai."""
    from pygments.token import Token
    from rich.syntax import PygmentsSyntaxTheme

    theme = PygmentsSyntaxTheme("monokai")
    assert theme.get_background_style() == MONOKAI_BACKGROUND
    assert theme.get_style_for_token(Token.Text) == MONOKAI_TEXT


def test_a_code_block_is_drawn_without_pygments():
    """A card text with indented and fenced code renders without importing pygments (7 ms of
    `review`'s first card) or markdown-it."""
    script = (
        "import sys\n"
        "from rich.console import Console\n"
        "from studycli.cli.markdown import markdown\n"
        "text = 'Code:\\n\\n    x = 1\\n\\n```\\ny = 2\\n```'\n"
        "Console(force_terminal=True, color_system='truecolor', width=60).print(markdown(text))\n"
        "print(sorted(m for m in ('pygments', 'markdown_it', 'rich.syntax') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert "x = 1" in out and "y = 2" in out and "48;2;39;40;34" in out  # monokai's background
    assert out.rstrip().endswith("[]")


def test_ascii_spaces_and_punctuation_are_unicodes():
    """The emphasis rules' ASCII fast path says what unicodedata says, for every ASCII char."""
    import unicodedata

    from studycli.cli.markdown import _punctuation, _space

    for char in map(chr, range(128)):
        category = unicodedata.category(char)
        assert _space(char) == (char in "\t\n\v\f\r" or category == "Zs"), repr(char)
        assert _punctuation(char) == (category[0] in "PS"), repr(char)
    assert _space("\u3000") and _punctuation("·") and not _punctuation("é")


MARKDOWN_CHARACTERS = st.lists(
    st.sampled_from(
        [*"ab1 `*_-\n#>.[]()<&\\~|=+:!", "é", "·", "    ", "- ", "\n\n", "**", "\n```\n"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWN_CHARACTERS)
@example("a *b* c")
@example("- a\n  *b*\n- `c`")
def test_any_text_renders_as_rich_markdown_or_is_left_to_it(text):
    fast = markdown(text)
    if isinstance(fast, Markdown):
        return
    for width, colours in CONSOLES[1:3]:
        assert rendered(fast, width, colours) == rendered(rich_markdown(text), width, colours)


def printed(renderable, width: int, colours: str | None) -> str:
    console = Console(
        file=io.StringIO(),
        width=width,
        force_terminal=colours is not None,
        color_system=colours,
        legacy_windows=False,
    )
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def highlighted(source: str) -> Panel:
    """A starter as it was always shown: its Python lexed by `Syntax`."""
    syntax = Syntax(source, "python", theme="ansi_dark", line_numbers=False, word_wrap=True)
    return Panel(syntax, title="Starter", title_align="left", border_style="dim")


def starters() -> list[str]:
    content = load_content(REPO_ROOT)
    shipped = [
        card_starter(card, content.solutions_dir)
        for card in content.cards.values()
        if card.runnable
    ]
    return [
        *shipped,
        "\tdef f():\n\t\treturn 1",
        "no newline at the end",
        "x = 1\n\n\n",
        "y = " + "9" * 150,
        "def f(x):\n    return some_function(x, another_argument, a_third_one) + x  # why\n",
    ]


def test_a_starter_without_colour_is_the_text_syntax_would_lay_out():
    """Where every line fits, the plain starter is what `Syntax` lays out; at any width it is
    the highlighted starter's text (lines too long continued the same way)."""
    for source in starters():
        if all(len(line) <= 96 for line in source.expandtabs(4).splitlines()):
            expected = printed(highlighted(source.rstrip()), 100, None)
            assert printed(render.code(source, "Starter"), 100, None) == expected
        for width in (40, 57, 100):
            colour = printed(render.code(source, "Starter"), width, "256")
            plain = printed(render.code(source, "Starter"), width, None)
            assert plain == re.sub("\x1b\\[[0-9;]*m", "", colour), (width, source)


def test_a_starter_on_a_colour_terminal_is_highlighted():
    source = "def f(x):\n    return x + 1\n"
    expected = printed(highlighted(source.rstrip()), 80, "256")
    assert printed(render.code(source, "Starter"), 80, "256") == expected
    assert "\x1b[" in expected


@pytest.mark.parametrize("colours", [None, "256"])
def test_a_starters_box_ends_with_its_last_line_of_code(cli, monkeypatch, colours):
    """A starter file ends with a newline, which `Syntax` draws as an empty last line: every
    Starter box ended with one (`show online-softmax`). Blank lines at the end are not drawn;
    those inside the code are."""
    boxed = printed(render.code("def f():\n\n    pass\n\n\n", "Starter"), 40, colours)
    inside = [line[2:-2].rstrip() for line in re.sub("\x1b\\[[0-9;]*m", "", boxed).splitlines()]
    assert inside[1:-1] == ["def f():", "", "    pass"]
    monkeypatch.setenv("COLUMNS", "80")
    shown = cli("show", "online-softmax").stdout.splitlines()  # the shipped card, piped
    end = next(i for i, line in enumerate(shown) if "NotImplementedError" in line)
    assert shown[end + 1].startswith("╰")


LONG_LINE = "def f(x):\n    return some_function(x, another_argument, a_third_one) + x  # why\n"


def code_lines(out: str) -> list[str]:
    """The lines of the code in the innermost panel, without its border, the panel's space and
    a code block's one cell of padding; blank lines left out."""
    inside = [line.strip("│") for line in out.splitlines() if line.startswith("│")]
    inside = [line.strip("│")[1:-1].rstrip() for line in inside if "╭" not in line + "╰"]
    indent = min(len(line) - len(line.lstrip()) for line in inside if line.strip())
    return [line[indent:] for line in inside if line.strip()]


def rejoined(lines: list[str]) -> list[str]:
    """The code lines the drawn lines show: a `↪` line joined to the one before."""
    joined: list[str] = []
    for line in lines:
        if line.lstrip().startswith("↪ "):
            joined[-1] += " " + line.lstrip()[2:]
        else:
            joined.append(line)
    return joined


@pytest.mark.parametrize("colours", [None, "256", "truecolor"])
def test_a_long_code_line_continues_at_its_indentation(colours):
    """Wrapped by `Syntax` (with colour) or as plain text (without), a code line too long for
    the panel went on at column 0 (the starter of online-softmax at 80 columns: `│ over
    blocks.`, its docstring outside its function); now at its own indentation after a `↪`:
    a starter, a code block of the fast path and a fenced block with a language (Rich's)."""
    fenced = "```python\n" + LONG_LINE + "```\n"
    indented = "".join(f"    {line}\n" for line in LONG_LINE.splitlines())
    assert isinstance(markdown(fenced), Markdown) and not isinstance(markdown(indented), Markdown)
    for out in (
        printed(render.code(LONG_LINE, "Starter"), 40, colours),
        rendered(markdown(fenced), 40, colours),
        rendered(markdown(indented), 40, colours),
    ):
        lines = code_lines(re.sub("\x1b\\[[0-9;]*m", "", out))
        assert rejoined(lines) == LONG_LINE.splitlines(), out
        continued = lines[2:]
        assert continued and all(line.startswith("    ↪ ") for line in continued), out


def test_a_code_line_too_long_for_a_very_narrow_panel_is_cut_where_it_must():
    """A word longer than the room is folded; an indentation deeper than half the width is
    kept at half; nothing of the line is lost."""
    from rich.text import Text

    from studycli.cli.code import continued

    line = Text("            " + "x" * 30 + " y")
    parts = [part.plain for part in continued(line, 20)]
    assert parts == [
        "            xxxxxxxx",
        "          ↪ xxxxxxxx",
        "          ↪ xxxxxxxx",
        "          ↪ xxxxxx y",
    ]
    assert "".join(part.replace("↪ ", "").strip() for part in parts) == "x" * 30 + " y"


def test_rich_markdown_is_rich_markdown_where_no_code_line_is_too_long():
    """The slow path changes only code lines too long for the width, and without colour the
    blank lines above and below a code block: at 100 columns every shipped text is drawn as
    Rich's own `Markdown` draws it, and without colour its lines that are not blank are."""
    for card_id, text in SHIPPED:
        expected = rendered(Markdown(text), 100, "truecolor")
        assert drawn_by_rich(text, 100, "truecolor") == expected, card_id
        expected = rendered(Markdown(text), 100, None)
        assert text_lines(drawn_by_rich(text, 100, None)) == text_lines(expected)


def text_lines(out: str) -> list[str]:
    """The lines of `out` that are not blank inside their panel."""
    return [line for line in out.splitlines() if line.strip("│ ")]


CODE_BETWEEN_TEXT = "Example:\n\n    f(x)  ->  [3]\n\nAfter."


@pytest.mark.parametrize("draw", [markdown, rich_markdown])
def test_a_code_block_without_colour_is_one_blank_line_from_the_text(draw):
    """Without colour, a code block's padding (a cell of monokai's background above and below
    it) is a blank line: piped, `show monotonic-stack-next-greater` drew two empty lines above
    its example and two below, and `show gau-attention --answer` began its box with an empty
    line. Now one blank line parts the block from the text, a box that begins with code
    begins with it, and the code is still set in by a cell; with colour it is as before."""
    inside = [
        line[2:-2].rstrip() for line in rendered(draw(CODE_BETWEEN_TEXT), 40, None).splitlines()
    ]
    assert inside[1:-1] == ["Example:", "", " f(x)  ->  [3]", "", "After."]
    first = [
        line[2:-2].rstrip()
        for line in rendered(draw("```\nx = 1\n```\n\nThen."), 40, None).splitlines()
    ]
    assert first[1:-1] == [" x = 1", "", "Then."]
    coloured = rendered(draw(CODE_BETWEEN_TEXT), 40, "truecolor").splitlines()
    assert len(coloured) == 2 + 7 and "48;2;39;40;34" in coloured[3]  # monokai's background


def test_show_continues_a_starters_long_line_at_its_indentation(cli, monkeypatch):
    """The walkthrough's case: `COLUMNS=80 studycli show online-softmax`, piped (no colour);
    at 60 columns since the shipped starters fit 80 (lint holds them to 74 columns)."""
    monkeypatch.setenv("COLUMNS", "60")
    shown = cli("show", "online-softmax").stdout.splitlines()  # the shipped card
    start = shown.index(next(line for line in shown if "Read the last dimension" in line))
    assert shown[start].startswith("│     Read the last dimension in blocks of")
    assert shown[start + 1].startswith("│     ↪ entries (the last")
    assert not any(line.startswith("│ entries ") for line in shown)


@pytest.mark.parametrize("colours", [False, True])
def test_a_text_that_begins_with_a_list_has_no_blank_first_line_in_its_box(colours):
    """Rich's Markdown draws a blank line above a list: an answer that begins with one showed
    an empty first line in its box (`show faster-rcnn-two-stage-structure --answer`). The
    lines themselves are drawn as before."""
    card = load_content(REPO_ROOT).get("faster-rcnn-two-stage-structure")
    assert re.match(r"\s*1\. ", card.answer)

    def lines(renderable, width: int = 80) -> list[str]:
        console = Console(
            width=width, file=io.StringIO(), force_terminal=colours, color_system=None
        )
        console.print(renderable)
        return console.file.getvalue().splitlines()

    boxed = lines(render.answer(card))
    assert boxed[0].startswith("╭─ Answer") and boxed[1].strip("│ ")
    assert "1 A fully convolutional trunk" in boxed[1]
    drawn = [line.strip("│ ").rstrip() for line in boxed]
    plain = [line.rstrip() for line in lines(markdown(card.answer), 76) if line.strip()]  # (inside)
    assert [line.strip() for line in plain[:4]] == [line.strip() for line in drawn[1:5]]


def test_a_cloze_deletion_in_code_is_blanked_and_shown_without_stars():
    """A deletion was blanked as `**[...]**` and shown on the back as `**text**`, which a code
    block or span draws as written: `show oadtr-loss#c1` read `L = **[...]** + λ · CE(...)`
    and its back `L = **CE(current action)** + ...` (four shipped cards, formulas in an
    indented block). In code the blank and the answer are drawn as they are; in prose they
    are bold as before. Every shipped deletion: no star its card does not have."""
    from dataclasses import replace

    content = load_content(REPO_ROOT)
    oadtr = content.get("oadtr-loss").study_items()[0]
    front = printed(render.prompt(oadtr), 80, None)
    assert "│  L = [...]  " in front
    assert "│  L = CE(current action)  " in printed(render.answer(oadtr), 80, None)
    prompt = "In prose {{c1::a}}, in a span `f({{c1::b}})`, and\n\n    x = {{c1::c}}\n\nafter."
    card = replace(oadtr, prompt=prompt, cloze=1, explanation="")
    for part, shown in ((render.prompt(card), "[...]"), (render.answer(card), "")):
        drawn = printed(part, 60, "256")
        bold = "\x1b[1m"
        assert f"{bold}{shown or 'a'}\x1b[0m" in drawn, drawn
        plain = re.sub("\x1b\\[[0-9;]*m", "", drawn)
        assert f"f({shown or 'b'})" in plain and f"x = {shown or 'c'}" in plain, plain
        assert "**" not in plain
    for card in content.cards.values():
        for item in card.study_items() if card.kind == Kind.CLOZE else []:
            for part in (render.prompt(item), render.answer(item)):
                drawn = printed(part, 100, None)
                assert drawn.count("*") <= card.prompt.count("*") + card.explanation.count("*"), (
                    item.id
                )
