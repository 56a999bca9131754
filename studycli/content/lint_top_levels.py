"""Lint's rules for what importing a solution module runs: its top level imports only the
standard library, numpy, torch and studycli.assertions, prints nothing, and holds no `assert`
statement. What the import runs is read by run_on_import.py."""

from __future__ import annotations

import ast
import sys
from typing import TYPE_CHECKING

from .card import CardProblem
from .run_on_import import (
    Importing,
    called_on_import,
    import_call,
    imports_on_import,
    run_by_import,
)
from .source import module_names, module_path, read_module

if TYPE_CHECKING:
    from .loader import Content


ALLOWED_IMPORTS = ("numpy", "torch", "studycli.assertions")  # beside the standard library


def lint_top_levels(content: Content) -> list[CardProblem]:
    """A solution module imports, at its top level, only the standard library, numpy, torch
    and studycli.assertions: what every install has (a missing package would otherwise show
    only when `check` imports it). An optional one is imported inside the function that
    needs it; a `try:` or `if` block at the top level imports as the top level does, and so
    do a function's default values and decorators, and importlib.import_module("x") or
    __import__("x") (`imports_on_import`). Its top level prints nothing (see `_prints`), and it holds no `assert`
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
                f"prints when imported{f' (the top level calls {via})' if via else ''}: "
                "each check imports such a module itself, so its line is in every check's "
                "output: `check` fails its cards for it, and a learner's failed check shows it "
                "as their own; remove the print, or move it into a function the import does not "
                "call",
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
        for node, via in imports_on_import(info.tree):
            problems += [
                CardProblem(
                    info.path,
                    f"imports {module!r}{f' (the top level calls {via})' if via else ''}: a "
                    "solution module imports only the standard library, numpy, torch and "
                    "studycli.assertions at its top level; import an optional package inside "
                    "the function that needs it"
                    + (", called by a check, not by the top level" if via else ""),
                    node.lineno,
                )
                for module in _imported(node)
                if not _allowed_import(module) and not _of_solutions(module, content)
            ]
        problems += [
            CardProblem(
                info.path,
                f"imports {module!r}, a solution module: solution modules do not import each "
                "other, at the top level or inside a function (`check` loads each from its "
                "file under a name of its own, not from a package on the path, so the import "
                "raises ModuleNotFoundError in each check that runs it); copy what this module "
                f"uses of {_shown(module)} into it",
                node.lineno,
            )
            for node in ast.walk(info.tree)
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.Call))
            for module in _imported(node)
            if _of_solutions(module, content)
        ]
    return problems


def _of_solutions(module: str, content: Content) -> bool:
    """Whether `module` names a solution module: a relative one (`.other`), or one of a
    file in `solutions/` (a name of the standard library, numpy or torch aside: those are
    what the import gets)."""
    if module.startswith("."):
        return True
    return not _allowed_import(module) and (
        module_path(content.solutions_dir, module.partition(".")[0]).is_file()
    )


def _shown(module: str) -> str:
    """The file a solution module's import names, as lint shows it."""
    name = module.lstrip(".").partition(".")[0]
    return f"solutions/{name}.py" if name else "the module it names"


PRINTS = ("print", "sys.stdout.write", "sys.stderr.write")


def _prints(tree: ast.Module) -> list[tuple[int, str]]:
    """The lines of the `print(...)` calls (and `sys.stdout.write`, `sys.stderr.write`) that a
    module's import runs, each with the call of the module's own function that runs it (""
    where the top level prints itself): its top level and its classes' bodies, not a function's
    body unless the import calls it, nor under `if __name__ == "__main__":`."""
    found: dict[int, str] = {}
    run = [(node, "") for node in run_by_import(tree.body)] + called_on_import(tree)
    for node, via in run:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and ast.unparse(inner.func) in PRINTS:
                found.setdefault(inner.lineno, via)
    return sorted(found.items())


def _imported(node: Importing) -> list[str]:
    """The modules an import imports, as lint names them. A name a `from` imports
    may be a submodule of its package: `from studycli import assertions` imports
    studycli.assertions (refused as 'studycli' where studycli.assertions is allowed); the
    package is named where every name it imports is refused (`from scipy import special`)."""
    if isinstance(node, ast.Call):
        return [module] if (module := import_call(node)) is not None else []
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level or node.module is None:
        return ["." * node.level + (node.module or node.names[0].name)]
    names = [f"{node.module}.{alias.name}" for alias in node.names]
    refused = [name for name in names if not _allowed_import(name)]
    return [node.module] if len(refused) == len(names) else refused


def _allowed_import(module: str) -> bool:
    if module.startswith("."):
        return False
    top = module.partition(".")[0]
    if top == "studycli":
        return any(module == name or module.startswith(name + ".") for name in ALLOWED_IMPORTS)
    return top in sys.stdlib_module_names or top in ALLOWED_IMPORTS
