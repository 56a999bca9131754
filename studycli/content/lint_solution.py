"""Lint's rules for a runnable card's solution module: the reference its `solution:` names,
the checker, and the wrong answers listed (at least MIN_WRONG_ANSWERS different ones). Each
wrong answer's own rules are lint_wrong_answers.py's, the starter's lint_starter.py's, and
what the module's import runs lint_top_levels.py's."""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

from .card import Card, CardProblem, Ref
from .key_lines import KeyLines
from .lint_starter import _lint_starter, _lint_starter_width
from .lint_wrong_answers import _lint_repeats, _lint_wrong_answers
from .solution_code import raises_not_implemented
from .solution_tables import table_entries, tables
from .source import (
    ModuleInfo,
    NotUtf8Error,
    checker_ref,
    module_path,
    parameters,
    read_module,
)

MIN_WRONG_ANSWERS = 2


def lint_solution(card: Card, solutions_dir: Path, where: KeyLines) -> list[CardProblem]:
    """The problems of a runnable card's solution: its module and reference function exist,
    a checker is there, at least MIN_WRONG_ANSWERS different wrong answers are listed (each
    well formed), variants are listed once, and the starter matches the reference."""
    assert card.solution is not None
    ref = card.solution
    path = module_path(solutions_dir, ref.module)
    if not path.is_file():
        return [
            where.problem(
                card,
                "solution",
                f"solution {ref}: there is no solutions/{ref.module}.py"
                + _module_meant(solutions_dir, ref),
            )
        ]
    try:
        info = read_module(solutions_dir, ref.module)
    except NotUtf8Error as exc:
        return [CardProblem(path, exc.msg, exc.lineno, card.id)]
    except SyntaxError as exc:
        return [CardProblem(path, f"Python syntax error: {exc.msg}", exc.lineno, card.id)]
    reference = info.function(ref.function)
    if reference is None:
        return [
            where.problem(
                card,
                "solution",
                f"solution {ref}: solutions/{ref.module}.py defines no "
                f"top-level function {ref.function!r}" + _missing_reference_fix(ref, info),
            )
        ]
    problems = []
    check = checker_ref(card, info)
    if check.module != ref.module and not module_path(solutions_dir, check.module).is_file():
        problems.append(
            where.problem(
                card,
                "check",
                f"check {check}: there is no solutions/{check.module}.py"
                + _module_meant(solutions_dir, check),
            )
        )
    elif (
        checker := (
            read_module(solutions_dir, check.module) if check.module != ref.module else info
        ).function(check.function)
    ) is None:
        named = card.check is not None
        problems.append(
            where.problem(
                card,
                ("check", "solution"),
                f"check {check}: solutions/{check.module}.py defines no function {check.function!r}"
                if named
                else f"no checker: define check_{ref.function}(impl, device='cpu') "
                f"in solutions/{ref.module}.py, or name one with 'check:'"
                + _meant(f"check_{ref.function}", _function_names(info)),
            )
        )
    else:
        problems += _lint_checker_uses_answer(
            card, module_path(solutions_dir, check.module), checker
        )
    listed = table_entries(info, "WRONG_ANSWERS", ref.function)
    wrong = len({ast.unparse(entry) for entry in listed})  # a repeat proves nothing more
    if wrong < MIN_WRONG_ANSWERS:
        problems.append(
            where.problem(
                card,
                "solution",
                f"solutions/{ref.module}.py lists {wrong} wrong answer(s) for "
                f"{ref.function!r} in WRONG_ANSWERS"
                + (" (repeats not counted)" if len(listed) > wrong else "")
                + f"; at least {MIN_WRONG_ANSWERS} different ones are needed (a dict literal "
                "of lists, so lint can read it without running the module)"
                + _meant("WRONG_ANSWERS", _assigned_names(info)),
            )
        )
    problems += _lint_wrong_answers(card, info)
    problems += _lint_repeats(card, info, "CORRECT_VARIANTS")
    problems += _lint_starter(card, info, parameters(reference), where)
    problems += _lint_starter_width(card, info, reference, where)
    return problems


def _lint_checker_uses_answer(
    card: Card, path: Path, checker: ast.FunctionDef
) -> list[CardProblem]:
    """A checker that never reads its first parameter, the answer it checks (one that calls
    the reference instead, say): it passes every answer. `check` then said that the starter
    "must not answer the card" and that every wrong answer was accepted, never why."""
    assert card.solution is not None
    positional = [*checker.args.posonlyargs, *checker.args.args]
    if not positional or raises_not_implemented(checker):
        return []  # (a stub, `new`'s or one with a message: `check` says the card is not done)
    answer = positional[0].arg
    if any(isinstance(node, ast.Name) and node.id == answer for node in ast.walk(checker)):
        return []
    return [
        CardProblem(
            path,
            f"the checker {checker.name} never uses {answer}, the answer it checks, so it "
            "passes every answer (the starter's and the wrong answers' too): call it as "
            f"call({answer}, what, ...), not the reference {card.solution.function}",
            checker.lineno,
            card.id,
        )
    ]


def _module_meant(solutions_dir: Path, ref: Ref) -> str:
    """ "; did you mean m:f?" where a module of `solutions_dir` has a name close to `ref`'s
    missing one (lint otherwise said of the module meant only that it was an orphan)."""
    meant = module_meant(solutions_dir, ref.module)
    return f"; did you mean {meant}:{ref.function}?" if meant else ""


def module_meant(solutions_dir: Path, module: str) -> str | None:
    """The module of `solutions_dir` that `module`, which is not there, is most likely a typo
    of; None where none is close."""
    modules = [path.stem for path in solutions_dir.glob("*.py")]
    close = difflib.get_close_matches(module, modules, n=1, cutoff=0.8)
    return close[0] if close else None


def _meant(wanted: str, names: list[str]) -> str:
    """ "; is x meant to be wanted?" where one of `names` is `wanted` mistyped (else nothing): a
    checker named check_running_varianse was said to be missing, with no word of the near
    miss."""
    import difflib

    close = difflib.get_close_matches(wanted, [n for n in names if n != wanted], n=1, cutoff=0.8)
    return f"; is {close[0]!r} meant to be {wanted}?" if close else ""


def _function_names(info: ModuleInfo) -> list[str]:
    return [node.name for node in info.tree.body if isinstance(node, ast.FunctionDef)]


def _assigned_names(info: ModuleInfo) -> list[str]:
    """The names a module's top level assigns (`WRONG_ANSWER = {...}`)."""
    return [
        target.id
        for node in info.tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    ]


def _missing_reference_fix(ref: Ref, info: ModuleInfo) -> str:
    """What to do about a card's `solution:` function that its module does not define. A
    table keyed by the card's name says the card is right and the `def` is missing (or
    misspelled); otherwise a function the module defines under a close name is most likely
    what the card meant, and the card is what to fix (lint used to say to rename the table's
    key, which was right, to the card's typo)."""
    defined = [
        node.name
        for node in info.tree.body
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith(("_", "check"))  # wrong answers, variants, checkers
    ]
    close = difflib.get_close_matches(ref.function, defined, n=1)
    keyed = [
        table
        for table in ("WRONG_ANSWERS", "CORRECT_VARIANTS")
        if ref.function in tables(info, table)
    ]
    if keyed:
        verb = "name" if len(keyed) > 1 else "names"
        return (
            f", which its {' and '.join(keyed)} {verb} too: define `def {ref.function}(...)` "
            "there" + (f" (is `def {close[0]}` a misspelling of it?)" if close else "")
        )
    if close:
        return f": did you mean {ref.module}:{close[0]}? set the card's `solution:` to it"
    return ""
