"""Lint's rules for the text a learner reads: no LaTeX, no lines meant to stand apart that
Markdown joins into a paragraph, no cloze answer in plain sight on its question, and titles,
prompts and concept answers short enough to be learnt."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from . import cloze
from .card import Card, CardProblem, Kind
from .fences import FENCES, Fences
from .key_lines import KeyLines

# A LaTeX command, and what to write instead: card text is read in a terminal
LATEX = {
    "\\frac": "a / b",
    "\\sum": "sum_j x_j, or Σ",
    "\\prod": "prod_j x_j, or Π",
    "\\sqrt": "sqrt(x), or √x",
    "\\cdot": "*, or ·",
    "\\mathbb": "the letter itself: R, E[x], or ℝ",
    "\\begin{": "one row a line",
    "$$": "the formula on a line of its own",
}
# The minimum information principle: what is read at every review stays short. Each limit is
# just above the shipped cards (in words: median, 99th percentile, longest): titles 7, 13, 14;
# concept prompts 21, 44, 50; cloze texts 42, 71, 77.
MAX_TITLE_WORDS = 14
MAX_CONCEPT_PROMPT_WORDS = 50
MAX_CLOZE_PROMPT_WORDS = 80
MAX_CONCEPT_ANSWER_WORDS = 90
# A card answered by working it out states its task and contract, read before every attempt:
# the longest shipped prompts have 202 words (coding) and 94 (derivation)
MAX_WORKED_PROMPT_WORDS = {Kind.CODING: 250, Kind.DERIVATION: 150}


def lint_text(card: Card, where: KeyLines) -> list[CardProblem]:
    """The text the learner reads has no LaTeX and no indented lines joined into a paragraph,
    and is short enough to be learnt (`lint_lengths`). A problem is reported at the line of
    the file where it is, where the file shows it (`KeyLines.text_at`)."""
    texts: list[tuple[str, str, int | None, str]]  # (field, label, list entry, text)
    texts = [(name, name, None, getattr(card, name)) for name in ("title", "prompt", "answer")]
    texts += [("explanation", "explanation", None, card.explanation)]
    texts += [("steps", f"step {n}", n, text) for n, text in enumerate(card.steps, 1)]
    texts += [("hints", f"hint {n}", n, text) for n, text in enumerate(card.hints, 1)]
    problems = []
    for field, label, item, text in texts:
        if found := [marker for marker in LATEX if marker in text]:
            lines = enumerate(text.split("\n"), 1)
            first = next(n for n, line in lines if any(marker in line for marker in found))
            problems.append(
                where.problem(
                    card,
                    field,
                    f"{label} has LaTeX ({', '.join(found)}), which does not read in a "
                    "terminal: write the formula in plain text or Unicode, e.g. "
                    "exp(x_i) / sum_j exp(x_j) ("
                    + "; ".join(f"{marker}: {LATEX[marker]}" for marker in found)
                    + ")",
                    item=item,
                    text_line=first,
                )
            )
    for field, label, item, text in texts:
        for line, message in _layout_problems(text):
            problems.append(
                where.problem(
                    card, field, f"{label}, line {line}: {message}", item=item, text_line=line
                )
            )
    if card.kind is Kind.CLOZE and (shown := given_away(card.prompt)):
        number, line, hidden = shown
        problems.append(
            where.problem(
                card,
                "prompt",
                f"prompt, line {line}: deletion c{number} hides {hidden!r}, which its question "
                "shows here (as the text around the blank, or a hint), so the learner reads "
                "the answer off the card: reword this mention, or hide it under "
                f"c{number} too",
                text_line=line,
            )
        )
    return problems + lint_lengths(card, where)


def _layout_problems(text: str) -> Iterator[tuple[int, str]]:
    """What Markdown or the terminal would do to `text` that its author did not mean: (the
    line (1-based) where, what happens and the fix), one per rule."""
    if line := list_swallowed_line(text):
        yield (
            line,
            (
                "a line right under a list item is joined to that item (Markdown: the terminal "
                "and Anki show it inside the list): put a blank line before it to start a "
                "paragraph, or indent it under the item's text to continue the item"
            ),
        )
    if eaten := emphasis_eaten(text):
        line, run = eaten
        yield (
            line,
            (
                f"Markdown reads the `*` or `_` around {run!r} as emphasis and drops them (the "
                "terminal and Anki show the text between in bold or italics): put the formula in "
                "`backticks`, or write emphasis as *word* or **words** with a space or "
                "punctuation outside the stars"
            ),
        )
    if made := list_interrupting(text):
        line, marker = made
        yield (
            line,
            (
                f"a line that begins with {marker!r} right under a paragraph's line starts a list "
                "(Markdown: the terminal and Anki show a bullet there, the "
                f"{marker.strip()!r} of the formula gone): end the line above with the "
                f"{marker.strip()!r} instead; if a list is meant, put a blank line before it"
            ),
        )
    if wide := long_code_line(text):
        line, width = wide
        yield (
            line,
            (
                f"a line of code {width} columns wide; an 80-column terminal shows "
                f"{MAX_CODE_WIDTH} columns of a card's code and continues the rest on the next "
                "line (after ↪), out of the formula's layout: break it where it reads well"
            ),
        )
    if line := joined_line(text):
        joined = text.split("\n")[line - 1]
        tab = (
            " (its indentation holds a tab, which an editor may show as spaces: indent with spaces)"
            if "\t" in joined[: len(joined) - len(joined.lstrip())]
            else ""
        )
        yield (
            line,
            (
                f"an indented line under a paragraph's line is joined to it{tab} (Markdown: the "
                "terminal and Anki show one run-on paragraph): put lines that must stay apart "
                "between ``` lines, or make them a list; if it is not meant to stand apart, "
                "indent it as the line above it (the first line of a `|` text sets the "
                "indentation of its lines)"
            ),
        )


# A hidden text that the rest of its question must not show: one with a word in it. A number
# or a symbol shown elsewhere (`12` layers and `12` heads, `β_t` in a second formula) is most
# often the card's own notation, not its answer.
_WORD = re.compile(r"[^\W\d_]{3}")


def given_away(text: str) -> tuple[int, int, str] | None:
    """The first deletion of cloze text `text` whose hidden text, one with a word in it, its
    question shows elsewhere (the text with its number blanked as review blanks it, hints
    included): (its number, the line (1-based) where the question shows it, the hidden
    text); None if none."""
    for deletion in cloze.deletions(text):
        hidden = " ".join(deletion.text.split())
        if not _WORD.search(hidden):
            continue
        front = cloze.blank(text, deletion.number, _blank_keeping_lines)
        words = r"\s+".join(map(re.escape, hidden.split()))
        if found := re.search(rf"(?<!\w){words}(?!\w)", front, re.IGNORECASE):
            return deletion.number, front.count("\n", 0, found.start()) + 1, hidden
    return None


def _blank_keeping_lines(deletion: cloze.Deletion) -> str:
    """A deletion's blank, `[hint]` or `[...]`, on as many lines as the deletion."""
    lines = deletion.text.count("\n") + (deletion.hint or "").count("\n")
    return f"[{deletion.hint or '...'}]" + "\n" * lines


def list_interrupting(text: str) -> tuple[int, str] | None:
    """The first line (1-based) of `text` that continues a paragraph's sentence or formula
    but begins with `+ ` or `* ` (`+ v W_K,Rᵀ ...` under `... + u W_K,Eᵀ x_jᵀ`), which
    Markdown makes a list item right there, and its marker; None if none. A list written
    under a line that ends with ':' ("Pitfalls:") is meant, and so is one of `- ` items
    (the cards' bullet: YAML folds away the blank line above one in a quoted string)."""
    if not _LIST_START.search(text):
        return None
    blocks = _markdown().parse(text)
    lines = text.split("\n")
    for before, block in zip(blocks, blocks[1:], strict=False):
        if (
            block.type == "bullet_list_open"
            and block.markup in ("+", "*")
            and block.level == 0
            and before.type == "paragraph_close"
            and block.map is not None
            and block.map[0] > 0
            and lines[block.map[0] - 1].strip()
            and not lines[block.map[0] - 1].rstrip().endswith(":")
        ):
            line = block.map[0]
            return line + 1, block.markup + " "
    return None


_LIST_START = re.compile(r"\n[ ]{0,3}[+*][ \t]")


# The widest line of a code block an 80-column terminal shows whole: the card's box takes 4
# columns (its borders and a space inside each), the code block's padding 2.
MAX_CODE_WIDTH = 74


def long_code_line(text: str) -> tuple[int, int] | None:
    """The first line (1-based) of a code block of `text` wider than `MAX_CODE_WIDTH`
    columns, and its width; None if none is. A cloze text is measured with every deletion
    shown and with every one blanked (a hint can be the longer)."""
    if "    " not in text and not any(fence in text for fence in FENCES):
        return None
    for shown in dict.fromkeys((cloze.reveal(text, None), cloze.blank(text, None))):
        for block in _markdown().parse(shown):
            if block.type not in ("fence", "code_block") or block.map is None:
                continue
            first = block.map[0] + 1 + (block.type == "fence")
            if wide := wide_lines(block.content):
                number, width = wide[0]
                return first + number - 1, width
    return None


def wide_lines(code: str) -> list[tuple[int, int]]:
    """The lines (1-based) of `code` wider than `MAX_CODE_WIDTH` columns, with their
    widths."""
    return [
        (number, width)
        for number, line in enumerate(code.split("\n"), 1)
        if (width := _columns(line)) > MAX_CODE_WIDTH
    ]


def _columns(line: str) -> int:
    """The terminal columns `line` takes: none for a combining mark, two for a wide
    character."""
    import unicodedata

    return sum(
        0 if unicodedata.combining(char) else 1 + (unicodedata.east_asian_width(char) in "WF")
        for char in line.expandtabs(4)
    )


def lint_lengths(card: Card, where: KeyLines) -> list[CardProblem]:
    """Cards short enough to be learnt: a title that names the card in a glance, and for a
    card recalled from memory (concept, cloze) a prompt read in seconds and a concept answer
    recalled and judged in seconds (the why goes in `explanation`, which is never rated).
    Words are runs of text between spaces (a formula's symbols count: `Ā B̄` is two)."""
    problems = []
    words = len(card.title.split())
    if words > MAX_TITLE_WORDS:
        problems.append(
            where.problem(
                card,
                "title",
                f"the title has {words} words; a title names the card above its prompt, read "
                f"at a glance (at most {MAX_TITLE_WORDS} words, about 7 at best): name the "
                "idea, and leave the question to the prompt and the result to the answer",
            )
        )
    words = len(card.prompt.split())  # (a cloze card's: its deletions' text, not their hints)
    if card.kind is Kind.CONCEPT and words > MAX_CONCEPT_PROMPT_WORDS:
        problems.append(
            where.problem(
                card,
                "prompt",
                f"the prompt has {words} words; a concept prompt is read before every recall "
                f"(at most {MAX_CONCEPT_PROMPT_WORDS} words, about 20 at best): ask for one "
                "fact in the words the question needs, and split a card that asks several "
                "into one card per fact",
            )
        )
    if card.kind is Kind.CLOZE:
        words = len(re.sub(cloze.DELETION, r"\2", card.prompt).split())
    if card.kind is Kind.CLOZE and words > MAX_CLOZE_PROMPT_WORDS:
        problems.append(
            where.problem(
                card,
                "prompt",
                f"the prompt has {words} words (a deletion's hidden text counted, not its "
                "hint); a cloze text is read whole at every one of its deletions (at most "
                f"{MAX_CLOZE_PROMPT_WORDS} words, about 40 at best): keep the words the "
                "deletions need, and move the rest into 'explanation' or a card of its own",
            )
        )
    most = MAX_WORKED_PROMPT_WORDS.get(card.kind)
    if most is not None and words > most:
        problems.append(
            where.problem(
                card,
                "prompt",
                f"the prompt has {words} words; a {card.kind.value} prompt is read before "
                f"every attempt (at most {most} words): state the task and its contract, and "
                "move the background into 'explanation' (shown with the answer) or split the "
                "task into cards of their own",
            )
        )
    words = len(card.answer.split())
    if card.kind is Kind.CONCEPT and words > MAX_CONCEPT_ANSWER_WORDS:
        problems.append(
            where.problem(
                card,
                "answer",
                f"the answer has {words} words; a concept answer is recalled and judged in "
                f"seconds (at most {MAX_CONCEPT_ANSWER_WORDS} words, about 50 at best): keep "
                "the fact to recall and move the why into 'explanation', which is never rated",
            )
        )
    return problems


_LIST_ITEM = re.compile(r"([-*+]|\d+[.)])\s")


def list_swallowed_line(text: str) -> int | None:
    """The first line (1-based) of `text` that reads as a paragraph of its own but is written
    right under a list item, less indented than the item's text: Markdown makes it part of
    that item. A line that begins with a capital letter is taken for a new sentence; one in
    lower case, for the item's text wrapped at the start of the line (as meant)."""
    fences = Fences()
    item_indent = None  # where the text of the list item above begins; None: no item above
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if fences.code(stripped) or not stripped:
            item_indent = None
            continue
        indent = len(line) - len(stripped)
        if item := _LIST_ITEM.match(stripped):
            item_indent = indent + len(item[0])
        elif item_indent is not None and indent < item_indent and stripped[0].isupper():
            return number
    return None


# Emphasis as cards mean it: `*word*` or `**some words**`, the opening stars not right after a
# letter, a digit or a star, the closing ones not right before one. A `_` is never meant so.
_MEANT_EMPHASIS = re.compile(r"(?<![\w*])(\*\*?)(?=[^\s*])(.+?)(?<=[^\s*])\1(?![\w*])", re.DOTALL)


def emphasis_eaten(text: str) -> tuple[int, str] | None:
    """Where Markdown takes a `*` or `_` of `text` for emphasis that is not meant (a formula's
    `z*z ... codebook*codebook`, `β1**t ... β2**t`, `∇_μ E_{z}`) and drops it: (the line,
    1-based, where that emphasis opens; the text Markdown emphasises, its delimiters put back);
    None if nowhere. Each paragraph's `*` and `_` shown (in its text and code spans) are counted
    against those of its source less the delimiters of meant emphasis."""
    if "*" not in text and "_" not in text:
        return None
    for block in _markdown().parse(text):
        if block.type != "inline" or block.map is None or not block.children:
            continue
        shown = "".join(
            child.content for child in block.children if child.type in ("text", "code_inline")
        )
        meant = _MEANT_EMPHASIS.sub(r"\2", block.content)
        if all(shown.count(mark) >= meant.count(mark) for mark in "*_"):
            continue
        run, opening = _emphasised(block.children)
        at = max(block.content.find(opening), 0)  # (the paragraph's first line if not found)
        return block.map[0] + 1 + block.content.count("\n", 0, at), run
    return None


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt  # (lint only: no command's start-up pays for it)

    return MarkdownIt("commonmark")


def _emphasised(children: list) -> tuple[str, str]:
    """The first emphasis among inline tokens `children`, as written (its delimiters put back,
    a line break as a space), and how it opens in the source: its delimiters and the first of
    its text."""
    run, opening, depth = "", "", 0
    for child in children:
        if child.type in ("em_open", "strong_open"):
            depth += 1
            run += child.markup
        elif child.type in ("em_close", "strong_close"):
            depth -= 1
            run += child.markup
            if depth == 0:
                break
        elif depth:
            opening = opening or run + child.content[:8]
            run += {"code_inline": f"`{child.content}`", "softbreak": " "}.get(
                child.type, child.content
            )
    return run, opening


def joined_line(text: str) -> int | None:
    """The first line (1-based) of `text` that is indented but continues a paragraph, which
    Markdown then joins to it: formulas or code meant to stand apart, written without a fence.
    Lines of a fenced block, of an indented code block (after a blank line) and the indented
    continuations of a list item are as meant. A tab indents to the next multiple of 4, as
    Markdown counts it (a tab-indented code block is one)."""
    fences = Fences()
    in_list = indented_block = False
    after_blank = True
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        indent = len(line[: len(line) - len(stripped)].expandtabs(4))
        if fences.code(stripped):
            after_blank = False  # (the line after a closing fence follows a line)
            continue
        if not stripped:
            after_blank = True
            continue
        if indented_block and indent >= 4:
            after_blank = False
            continue
        indented_block = False
        if _LIST_ITEM.match(stripped):
            in_list = True
        elif indent == 0:
            in_list = False
        elif not in_list and after_blank:
            indented_block = indent >= 4
        elif not in_list:
            return number
        after_blank = False
    return None
