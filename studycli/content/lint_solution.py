"""Lint's rules for a runnable card's solution module: the reference its `solution:` names,
the checker, the wrong answers listed (each a `def` with a docstring and a declared failure,
listed once), the correct variants, the starter, and what the module imports."""

from __future__ import annotations

import ast
import difflib
import sys
from pathlib import Path

from .card import Card, CardProblem, Ref
from .key_lines import KeyLines
from .lint_text import MAX_CODE_WIDTH, wide_lines
from .loader import Content
from .source import (
    ModuleInfo,
    NotUtf8Error,
    checker_ref,
    declared_failure,
    module_names,
    module_path,
    parameters,
    raises_not_implemented,
    read_module,
    starter_for,
    starter_lines,
)

MIN_WRONG_ANSWERS = 2
ALLOWED_IMPORTS = ("numpy", "torch", "studycli.assertions")  # beside the standard library


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
    listed = info.table_entries("WRONG_ANSWERS", ref.function)
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
    modules = [path.stem for path in solutions_dir.glob("*.py")]
    close = difflib.get_close_matches(ref.module, modules, n=1, cutoff=0.8)
    return f"; did you mean {close[0]}:{ref.function}?" if close else ""


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
        if ref.function in info.tables(table)
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


def _lint_wrong_answers(card: Card, info: ModuleInfo) -> list[CardProblem]:
    """Every wrong answer is a top-level function of its own, listed once, with a docstring
    that names its mistake (check's report names it by that line), and declares with
    @fails_with the failure the checker must give it (check then proves it is rejected for
    that mistake)."""
    assert card.solution is not None
    function = card.solution.function
    problems = _lint_repeats(card, info, "WRONG_ANSWERS")
    seen = set()  # (a repeat's own problems are its first listing's)
    for entry in info.table_entries("WRONG_ANSWERS", function):
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
    for entry in info.table_entries(table, function):
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


def lint_top_levels(content: Content) -> list[CardProblem]:
    """A solution module imports, at its top level, only the standard library, numpy, torch
    and studycli.assertions: what every install has (a missing package would otherwise show
    only when `check` imports it). An optional one is imported inside the function that
    needs it. Its top level prints nothing (see `_prints`), and it holds no `assert`
    statement (dropped under -O: a checker's would pass every answer)."""
    names = {
        name for card in content.cards.values() if card.runnable for name in module_names(card)
    }
    problems = []
    for name in sorted(names):
        try:
            info = read_module(content.solutions_dir, name)
        except (OSError, SyntaxError):
            continue  # reported with its card
        problems += [
            CardProblem(
                info.path,
                f"prints when imported{f' (the top level calls {via})' if via else ''}: the "
                "checks' workers load a solution module once, before any check, so its output "
                "is no check's (none says it printed) and lands above `check`'s results; remove "
                "the print, or move it into a function the import does not call",
                line,
            )
            for line, via in _prints(info.tree)
        ]
        problems += [
            CardProblem(
                info.path,
                "an `assert` statement: Python run with -O (or PYTHONOPTIMIZE set) drops it, "
                "and the check it guards then accepts any answer; use expect(...), assert_equal "
                "or assert_close from studycli.assertions, which also name the input and the "
                "values a learner failing it reads",
                node.lineno,
            )
            for node in ast.walk(info.tree)
            if isinstance(node, ast.Assert)
        ]
        for node in info.tree.body:
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = ["." * node.level + (node.module or node.names[0].name)]
            else:
                continue
            problems += [
                CardProblem(
                    info.path,
                    f"imports {module!r}: a solution module imports only the standard library, "
                    "numpy, torch and studycli.assertions at its top level (not another solution "
                    "module); import an optional package inside the function that needs it",
                    node.lineno,
                )
                for module in imported
                if not _allowed_import(module)
            ]
    return problems


PRINTS = ("print", "sys.stdout.write", "sys.stderr.write")


def _prints(tree: ast.Module) -> list[tuple[int, str]]:
    """The lines of the `print(...)` calls (and `sys.stdout.write`, `sys.stderr.write`) that a
    module's import runs, each with the call of the module's own function that runs it (""
    where the top level prints itself): its top level and its classes' bodies, not a function's
    body unless the import calls it, nor under `if __name__ == "__main__":`."""
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    found: dict[int, str] = {}
    todo: list[tuple[ast.AST, str]] = [(node, "") for node in _run_by_import(tree.body)]
    called: set[str] = set()
    while todo:
        node, via = todo.pop()
        for inner in ast.walk(node):
            if not isinstance(inner, ast.Call):
                continue
            name = ast.unparse(inner.func)
            if name in PRINTS:
                found.setdefault(inner.lineno, via)
            elif name in functions and name not in called:
                called.add(name)
                todo.append((functions[name], via or f"{name}() at line {inner.lineno}"))
    return sorted(found.items())


def _run_by_import(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of `body` that importing the module runs (a class body's included)."""
    run = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.ClassDef):
            run += _run_by_import(node.body)
        elif not (isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)):
            run.append(node)
    return run


def _allowed_import(module: str) -> bool:
    if module.startswith("."):
        return False
    top = module.partition(".")[0]
    if top == "studycli":
        return any(module == name or module.startswith(name + ".") for name in ALLOWED_IMPORTS)
    return top in sys.stdlib_module_names or top in ALLOWED_IMPORTS
