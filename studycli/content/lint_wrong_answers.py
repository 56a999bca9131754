"""Lint's rules for the answers a solution module lists for a card: each wrong answer a `def`
of its own with a docstring naming its mistake and a declared failure (@fails_with), and no
answer listed twice in WRONG_ANSWERS or CORRECT_VARIANTS."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .card import CardProblem
from .solution_tables import declared_failure, table_entries

if TYPE_CHECKING:
    from .card import Card
    from .source import ModuleInfo


def _lint_wrong_answers(card: Card, info: ModuleInfo) -> list[CardProblem]:
    """Every wrong answer is a top-level function of its own, listed once, with a docstring
    that names its mistake (check's report names it by that line), and declares with
    @fails_with the failure the checker must give it (check then proves it is rejected for
    that mistake)."""
    assert card.solution is not None
    function = card.solution.function
    problems = _lint_repeats(card, info, "WRONG_ANSWERS")
    seen = set()  # (a repeat's own problems are its first listing's)
    for entry in table_entries(info, "WRONG_ANSWERS", function):
        if (text := ast.unparse(entry)) in seen:
            continue
        seen.add(text)
        node = info.function(entry.id) if isinstance(entry, ast.Name) else None
        if node is None:
            problems.append(
                CardProblem(
                    info.path,
                    f"WRONG_ANSWERS[{function!r}] lists {ast.unparse(entry)}, which is not a "
                    f"top-level function of {info.path.name}: define each wrong answer with "
                    "`def`, so that it can declare @fails_with",
                    entry.lineno,
                    card.id,
                )
            )
        elif node.name == function:
            problems.append(
                CardProblem(
                    info.path,
                    f"WRONG_ANSWERS[{function!r}] lists {function}, the reference itself: "
                    "check would demand that the checker reject the correct answer; list only "
                    "wrong answers, each a `def` of its own that makes one mistake",
                    entry.lineno,
                    card.id,
                )
            )
        else:
            problems += _lint_wrong_answer(card, info, node)
    return problems


def _lint_wrong_answer(card: Card, info: ModuleInfo, node: ast.FunctionDef) -> list[CardProblem]:
    """One wrong answer's docstring and declared failure, each reported at its `def` line."""
    assert card.solution is not None
    what = f"wrong answer {node.name} (for {card.solution.function!r})"
    problems = []
    if not (ast.get_docstring(node) or "").strip():
        problems.append(
            CardProblem(
                info.path,
                f"{what} has no docstring: write one line under `def {node.name}` that names "
                "its mistake (check's report names the wrong answer by it)",
                node.lineno,
                card.id,
            )
        )
    declared = declared_failure(node)
    if declared is None or not declared.strip():
        problems.append(
            CardProblem(
                info.path,
                f"{what} "
                + ("declares an empty failure" if declared is not None else "declares no failure")
                + f': put @fails_with("<a part of the checker\'s message for this mistake>") '
                f"on the line above `def {node.name}`, a string literal "
                "(from studycli.assertions import fails_with)",
                node.lineno,
                card.id,
            )
        )
    elif declared.strip().lower() in card.solution.function.lower():
        problems.append(
            CardProblem(
                info.path,
                f"{what} declares the failure {declared!r}, a part of the function's name: "
                "every failure message names the call, so it proves nothing about this "
                "mistake; quote the part of the checker's message that is about it",
                node.lineno,
                card.id,
            )
        )
    return problems


def _lint_repeats(card: Card, info: ModuleInfo, table: str) -> list[CardProblem]:
    """An entry listed twice in the card's list of `table`: check runs it twice and counts it
    twice ("2 wrong answer(s) rejected" for one mistake), so the list looks longer than what
    it proves."""
    assert card.solution is not None
    function = card.solution.function
    first: dict[str, int] = {}
    problems = []
    for entry in table_entries(info, table, function):
        text = ast.unparse(entry)
        if text not in first:
            first[text] = entry.lineno
            continue
        problems.append(
            CardProblem(
                info.path,
                f"{table}[{function!r}] lists {text} more than once"
                + (f" (first on line {first[text]})" if first[text] != entry.lineno else "")
                + ": "
                "check would run it twice and count it twice; list each answer once "
                "(write another one if the list needs more)",
                entry.lineno,
                card.id,
            )
        )
    return problems
