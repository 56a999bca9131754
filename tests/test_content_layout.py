"""`layout.shown`: a card's Markdown without the layout the terminal does not show. Texts that
differ only there give one result; texts that render differently never do (checked against
markdown-it, the parser of Rich's Markdown, on generated texts and on every shipped text)."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from studycli.content.layout import shown
from studycli.content.loader import load_content

from .conftest import REPO_ROOT

PARAGRAPH = (
    "Without a bias term, which decision boundaries can `w·x` express? Only those\n"
    "through the origin: the bias shifts the threshold, in 2017. Such is life.\n"
)


def test_a_reflowed_paragraph_is_the_same_text():
    reflowed = (
        "\n\nWithout a bias term,  which decision\n"
        "boundaries can `w·x` express?   Only those through the origin: the bias shifts\t\n"
        "   the threshold, in\n"
        "2017. Such is life.  "  # (a number that begins a line begins no list there)
    )
    assert shown(reflowed) == shown(PARAGRAPH)
    assert shown(PARAGRAPH) == PARAGRAPH.replace("\n", " ").strip()


def test_a_changed_word_or_punctuation_is_another_text():
    assert shown(PARAGRAPH.replace("bias term", "bias")) != shown(PARAGRAPH)
    assert shown(PARAGRAPH.replace("origin:", "origin;")) != shown(PARAGRAPH)


def test_paragraph_breaks_and_hard_breaks_count():
    two = "One paragraph.\n\nAnother one.\n"
    assert shown(two) != shown("One paragraph.\nAnother one.\n")  # the break removed
    assert shown(two) == shown("\nOne paragraph.  \n \nAnother one.\t\n\n")
    assert shown("a line  \nand the next") != shown("a line\nand the next")  # a hard break
    assert shown("a line\\\nand the next") != shown("a line\nand the next")
    assert shown("a line  \nand the next") == shown("a line     \n   and the next")


def test_a_list_item_reflows_but_the_list_stays_a_list():
    items = "Two kinds:\n- the first kind, which is\n  long\n- the second\n"
    assert shown(items) == shown("Two kinds:\n- the first kind,\n  which is long\n- the second")
    assert shown(items) != shown("Two kinds: - the first kind, which is long - the second")
    assert shown(items) != shown("Two kinds:\n- the first kind, which is long\n  - the second")
    assert shown("1. one\n2. two") != shown("1. one 2. two")


def test_code_keeps_its_lines_but_not_their_trailing_whitespace():
    fenced = "Run:\n\n```python\nx = 1\nif x:\n    y  = 2\n```\n"
    assert shown(fenced) == shown(fenced.replace("x = 1\n", "x = 1   \n"))
    assert shown(fenced) != shown(fenced.replace("x = 1\nif x:", "x = 1 if x:"))
    assert shown(fenced) != shown(fenced.replace("    y  = 2", "    y = 2"))
    assert shown(fenced) != shown(fenced.replace("    y  = 2", "  y  = 2"))
    indented = "Run:\n\n    x = 1\n    y  = 2\n"
    assert shown(indented) == shown(indented.replace("= 1\n", "= 1 \n"))
    assert shown(indented) != shown(indented.replace("y  = 2", "y = 2"))
    assert shown(indented) != shown("Run:\n\n    x = 1 y  = 2\n")
    assert shown("a `x  y` b") != shown("a `x y` b")  # a code span as written
    assert shown("a `x\ny` b") == shown("a `x y`\nb")


def test_what_may_not_be_a_paragraph_is_kept_as_written():
    quote = "> quoted  words\n> go on"
    assert shown(quote) == quote
    table = "| a  | b |\n|---|---|\n| 1 | 2 |"
    assert shown(table) == table
    assert shown("<div>\nx  y\n</div>\n\nlater  on") == "<div>\nx  y\n</div>\n\nlater  on"


def test_a_link_reference_definition_joined_to_the_next_line_is_another_text():
    """A definition shows nothing; joined to the line after it, it is a paragraph's text."""
    definition = "[paper]: https://arxiv.org/abs/2006.11239\nSee [paper] for the derivation."
    joined = definition.replace("\n", " ")
    assert rendered(definition) != rendered(joined)
    assert shown(definition) != shown(joined)
    item = "- [paper]: https://arxiv.org/abs/2006.11239\n  See [paper]."
    assert shown(item) != shown(item.replace("\n  ", " "))
    # (a line that looks like one but continues a paragraph is the paragraph's)
    assert shown("a bound\n[y s <= 0]: zero") == shown("a bound [y s <= 0]: zero")


def test_a_list_items_fence_or_html_keeps_what_follows_as_written():
    """A fence indented four columns can open a list item's code block, whose lines may be
    indented less than the fence, past a blank line; HTML after a list marker is an HTML
    block in the item. Their lines are no paragraph's: joining two is an edit."""
    fence = "- Run:\n\n    ```\n  x = 1\n\n  y = 2\n  z = 3\n    ```"
    joined = fence.replace("y = 2\n  z", "y = 2 z")
    assert rendered(fence) != rendered(joined)
    assert shown(fence) != shown(joined)
    html = "- <!--\n\n  hidden\nshown"
    assert rendered(html) != rendered(html.replace("\nshown", " shown"))
    assert shown(html) != shown(html.replace("\nshown", " shown"))


# markdown-it as Rich's Markdown sets it up, and what the terminal shows of its tokens: a soft
# break a space, runs of spaces and tabs one, no whitespace before a hard break, code blocks'
# lines without the whitespace they end with, no HTML (Rich draws none)
_MARKDOWN = MarkdownIt().enable("strikethrough").enable("table")


def rendered(text: str) -> list[tuple]:
    found: list[tuple] = []
    for token in _MARKDOWN.parse(text):
        if token.type == "inline":
            found.append(("inline", *_inline(token.children or [])))
        elif token.type in ("fence", "code_block"):
            code = "\n".join(line.rstrip(" \t") for line in token.content.split("\n"))
            found.append((token.type, token.info.strip(), code.rstrip("\n")))
        elif token.type == "html_block":
            found.append((token.type,))
        else:
            found.append((token.type, token.tag, tuple(sorted((token.attrs or {}).items()))))
    return found


def _inline(children: list) -> list[tuple]:
    parts: list[tuple] = []
    for child in children:
        if child.type in ("text", "softbreak"):
            text = child.content if child.type == "text" else " "
            if parts and parts[-1][0] == "text":
                text = parts.pop()[1] + text
            parts.append(("text", text))
        elif child.type == "code_inline":  # (whitespace a line ends with in it: not shown)
            parts.append(("code", " ".join(child.content.split())))
        elif child.type != "html_inline":
            parts.append((child.type, child.tag, tuple(sorted((child.attrs or {}).items()))))
    for index, part in enumerate(parts):
        if part[0] == "text":
            text = re.sub(r"[ \t]+", " ", part[1])
            if index + 1 < len(parts) and parts[index + 1][0] == "hardbreak":
                text = text.rstrip(" ")
            parts[index] = ("text", text)
    return [part for part in parts if part != ("text", "")]


FRAGMENTS = [
    "a", "b c", "word", " ", "  ", "   ", "    ", "\t", "\n", "\n", "\n", "\n\n", "- ", "* ",
    "+ ", "1. ", "2. ", "1) ", "`", "``", "```", "~~~", "#", "# ", "> ", "|", "---", "===",
    "\\", "*", "_", "**", "<a>", "<div>", "<!--", "    ```\n", "x  \n", "y\\\n", "```\n", "    code  x\n",
    "| a | b |\n|---|---|\n", "[l](u)", "[x]: /u\n", "&amp;", "2017. ", "1.", ":", "  - ",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_the_result_renders_as_the_text_does(text):
    """So two texts with one result render alike: what `shown` takes out does not show."""
    assert rendered(shown(text)) == rendered(text)


@pytest.fixture(scope="module")
def shipped_texts() -> list[str]:
    texts = []
    for card in load_content(REPO_ROOT).cards.values():
        texts += [card.prompt, card.answer, card.explanation, *card.steps, *card.hints]
    return [text for text in texts if text]


def test_every_shipped_text_renders_as_its_result(shipped_texts):
    assert [text for text in shipped_texts if rendered(shown(text)) != rendered(text)] == []


def test_every_shipped_text_reflowed_is_the_same_text(shipped_texts):
    """Each paragraph of a shipped text broken again at a random width (of those that render
    as the text does: one that puts `- ` at a line's start makes a list)."""
    chance = random.Random(0)
    missed = []
    for text in shipped_texts:
        as_rendered, as_shown = rendered(text), shown(text)  # (once, not at each width)
        spans = _paragraphs(text)
        for _ in range(3):
            reflowed = _reflowed(text, chance.randint(20, 100), spans)
            if rendered(reflowed) == as_rendered and shown(reflowed) != as_shown:
                missed.append((text, reflowed))
    assert missed == []


def _paragraphs(text: str) -> list[list[int]]:
    """The line spans of `text`'s paragraphs (markdown-it's `map`: first line, line after)."""
    spans = [token.map for token in _MARKDOWN.parse(text) if token.type == "paragraph_open"]
    return [span for span in spans if span]


def _reflowed(text: str, width: int, spans: list[list[int]]) -> str:
    """`text` with each of its paragraphs (`spans`, of `_paragraphs`) broken at `width`."""
    lines = text.split("\n")
    for start, end in reversed(spans):
        indent = re.match(" *", lines[start]).group()  # type: ignore[union-attr]
        if any(not line.startswith(indent) or line[len(indent) :].startswith(("- ", "> "))
               for line in lines[start:end]):  # fmt: skip
            continue
        words = " ".join(line.strip() for line in lines[start:end]).split(" ")
        broken = [""]
        for word in words:
            if broken[-1] and len(broken[-1]) + 1 + len(word) > width:
                broken.append(word)
            else:
                broken[-1] = f"{broken[-1]} {word}".lstrip(" ")
        lines[start:end] = [indent + line for line in broken]
    return "\n".join(lines)
