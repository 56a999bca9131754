"""Lint's rules for the text a learner reads: no LaTeX, no lines meant to stand apart that
Markdown joins into a paragraph, and concept answers short enough to recall."""

from __future__ import annotations

import re

from .card import Card, CardProblem, Kind
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
MAX_CONCEPT_ANSWER_WORDS = 90  # the minimum information principle: recalled in seconds


def lint_text(card: Card, where: KeyLines) -> list[CardProblem]:
    """The text the learner reads has no LaTeX and no indented lines joined into a paragraph,
    and a concept answer is short enough to recall and judge in seconds (its why goes in
    `explanation`, which is never rated)."""
    texts = [(name, name, getattr(card, name)) for name in ("title", "prompt", "answer")]
    texts += [("explanation", "explanation", card.explanation)]
    texts += [("steps", f"step {n}", text) for n, text in enumerate(card.steps, 1)]
    texts += [("hints", f"hint {n}", text) for n, text in enumerate(card.hints, 1)]
    problems = []
    for field, label, text in texts:
        if found := [marker for marker in LATEX if marker in text]:
            problems.append(
                where.problem(
                    card,
                    field,
                    f"{label} has LaTeX ({', '.join(found)}), which does not read in a "
                    "terminal: write the formula in plain text or Unicode, e.g. "
                    "exp(x_i) / sum_j exp(x_j) ("
                    + "; ".join(f"{marker}: {LATEX[marker]}" for marker in found)
                    + ")",
                )
            )
    for field, label, text in texts:
        if line := joined_line(text):
            problems.append(
                where.problem(
                    card,
                    field,
                    f"{label}, line {line}: an indented line under a paragraph's line is joined "
                    "to it (Markdown: the terminal and Anki show one run-on paragraph): put "
                    "lines that must stay apart between ``` lines, or make them a list",
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


def joined_line(text: str) -> int | None:
    """The first line (1-based) of `text` that is indented but continues a paragraph, which
    Markdown then joins to it: formulas or code meant to stand apart, written without a fence.
    Lines of a fenced block, of an indented code block (after a blank line) and the indented
    continuations of a list item are as meant."""
    fenced = in_list = indented_block = False
    after_blank = True
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped.startswith(("```", "~~~")):
            fenced, after_blank = not fenced, False
            continue
        if fenced:
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
