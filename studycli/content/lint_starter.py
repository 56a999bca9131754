"""Lint's rules for a coding card's starter: it compiles and defines the reference's function
with its parameters, and no line of it is wider than an 80-column terminal shows (the fix
named by the part of the reference the line comes from)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .card import CardProblem
from .lint_text import MAX_CODE_WIDTH, wide_lines
from .source import parameters, starter_for, starter_lines

if TYPE_CHECKING:
    from .card import Card
    from .key_lines import KeyLines
    from .source import ModuleInfo


def _lint_starter(
    card: Card, info: ModuleInfo, expected: list[str], where: KeyLines
) -> list[CardProblem]:
    assert card.solution is not None
    name = card.solution.function
    at = ("starter", "solution")  # no starter: the reference's signature makes it
    written = bool(card.starter)  # (a line of the card's own starter is a line of its file)
    try:
        tree = ast.parse(starter_for(card, info))
    except SyntaxError as exc:
        return [
            where.problem(
                card,
                at,
                f"the starter does not compile: {exc.msg} (starter line {exc.lineno})",
                text_line=exc.lineno if written else None,
            )
        ]
    defined = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if not defined:
        return [where.problem(card, at, f"the starter must define {name}({', '.join(expected)})")]
    found = parameters(defined[0])
    if found != expected:
        return [
            where.problem(
                card,
                at,
                f"the starter's {name} takes ({', '.join(found)}); the reference "
                f"takes ({', '.join(expected)})",
                text_line=defined[0].lineno if written else None,
            )
        ]
    return []


def _lint_starter_width(
    card: Card, info: ModuleInfo, reference: ast.FunctionDef, where: KeyLines
) -> list[CardProblem]:
    """No line of the starter wider than an 80-column terminal shows (`show` and review put
    it in a box, as a card's code). A starter made from the reference is its imports,
    signature and docstring: the line to fix is the module's, which ruff's 100 columns let
    through (314 docstring lines over 74 columns in 80 starters, each continued after a ↪)."""
    assert card.solution is not None
    if card.starter:
        wide = wide_lines(card.starter)
        if not wide:
            return []
        number, width = wide[0]
        message = f"starter, line {number}: a line {_too_wide(width, len(wide) - 1)}"
        return [
            where.problem(
                card, "starter", f"{message}: break it where it reads well", text_line=number
            )
        ]
    lines = starter_lines(info, card.solution.function)
    wide = wide_lines("\n".join(text for text, _ in lines))
    if not wide:
        return []
    number, width = wide[0]
    line = lines[number - 1][1]
    part, fix = _starter_part(reference, line)
    message = (
        f"the starter of card {card.id}, made from {card.solution.function}'s {part}, has a "
        f"line {_too_wide(width, len(wide) - 1)}: {fix}"
    )
    return [CardProblem(info.path, message, line, card.id)]


def _too_wide(width: int, others: int) -> str:
    more = f" (and {others} more line{'s' * (others > 1)} over {MAX_CODE_WIDTH})" if others else ""
    return (
        f"{width} columns wide{more}; an 80-column terminal shows {MAX_CODE_WIDTH} columns of "
        "a starter (`show`, review) and continues the rest on the next line (after ↪)"
    )


def _starter_part(reference: ast.FunctionDef, line: int | None) -> tuple[str, str]:
    """The part of the reference's starter that line `line` of its module is in, and how to
    narrow a line of it."""
    docstring = reference.body[0] if ast.get_docstring(reference) is not None else None
    if line is None:  # (a line the starter adds)
        return "starter", "shorten it"
    if docstring and docstring.lineno <= line <= (docstring.end_lineno or line):
        return "docstring", (
            f"rewrap the docstring at {MAX_CODE_WIDTH} columns, its indentation included (a "
            "formula or an example broken by hand where it reads well)"
        )
    if line < reference.lineno - len(reference.decorator_list):
        return "imports", "break the import over lines, in parentheses"
    return "signature", (
        "put the parameters one a line, with a comma after the last (`ruff format` keeps "
        "that layout)"
    )
