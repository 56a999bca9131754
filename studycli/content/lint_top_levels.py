"""Lint's rules for what importing a solution module runs: its top level imports only the
standard library, numpy, torch and studycli.assertions, prints nothing, and holds no `assert`
statement."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .card import CardProblem
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
    __import__("x") (`_imports_run`). Its top level prints nothing (see `_prints`), and it holds no `assert`
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
        for node, via in _imports_on_import(info.tree):
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
    run = [(node, "") for node in _run_by_import(tree.body)] + _called_on_import(tree)
    for node, via in run:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and ast.unparse(inner.func) in PRINTS:
                found.setdefault(inner.lineno, via)
    return sorted(found.items())


def _imports_on_import(tree: ast.Module) -> list[tuple[Importing, str]]:
    """The imports a module's import runs (`_imports_run`), each with the call of
    the module's own function that runs it ("" for the top level's own): `ERF = _erf()` at the
    top level runs the `import scipy.special` in `_erf` as the module is imported."""
    found = [(node, "") for node in _imports_run(tree.body)]
    for function, via in _called_on_import(tree):
        found += [(node, via) for node in _imports_run(function.body)]
    return found


def _called_on_import(tree: ast.Module) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    """The module's own functions that its import calls, at its top level or in a function
    so called, each with the top level's call that runs it ("_setup() at line 10"); and of a
    call of what such a function returns (`@_cached(3)`, a decorator factory: `_cached(3)` is
    called, then what it returns, with the function decorated), the function it returns by
    name, where it defines it or the module does (`_returned`)."""
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    called: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = {}
    todo: list[tuple[ast.AST, str]] = [(node, "") for node in _run_by_import(tree.body)]
    while todo:
        node, via = todo.pop(0)  # (in order: a function is said by its first call)
        for inner in ast.walk(node):
            if not isinstance(inner, ast.Call):
                continue
            found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, str]] = []
            name = ast.unparse(inner.func)
            if name in functions:
                found.append((name, functions[name], f"{name}() at line {inner.lineno}"))
            elif (
                isinstance(inner.func, ast.Call)
                and (made := ast.unparse(inner.func.func)) in functions
            ):
                said = f"what {made}() at line {inner.lineno} returns"
                found += [
                    (key, function, said) for key, function in _returned(functions[made], functions)
                ]
            for key, function, said in found:
                if key not in called:
                    called[key] = (function, via or said)
                    todo.append((function, called[key][1]))
    return list(called.values())


def _returned(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """The functions that `function` returns by name (`return deco`), each with a key of its
    own: one it defines in its body (keyed `function.deco`), else the module's (`functions`).
    A name bound any other way (assigned, passed in) is not followed."""
    own = {
        node.name: node
        for node in function.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    found = []
    for node in _own_statements(function.body):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
            name = node.value.id
            if name in own:
                found.append((f"{function.name}.{name}", own[name]))
            elif name in functions:
                found.append((name, functions[name]))
    return found


def _own_statements(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of `body`, those of the functions and classes it defines left out."""
    for node in body:
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _own_statements(
                [n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt)]
            )


def _run_by_import(body: list[ast.stmt]) -> list[ast.AST]:
    """The statements of `body` that importing the module runs (a class body's included; of
    an `if` whose test `_on_import` knows, the branch it takes), and of a function's or a
    class's definition what it evaluates (`_on_definition`)."""
    run: list[ast.AST] = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            run += _on_definition(node)
        elif isinstance(node, ast.ClassDef):
            run += _on_definition(node) + _run_by_import(node.body)
        elif isinstance(node, ast.If) and (taken := _on_import(node.test)) is not None:
            run += _run_by_import(node.body if taken else node.orelse)
        else:
            run.append(node)
    return run


Importing = ast.Import | ast.ImportFrom | ast.Call  # (a call of `_import_call`'s)


def _imports_run(nodes: Iterable[ast.AST]) -> Iterator[Importing]:
    """The imports among `nodes` that importing the module runs: import statements, and calls
    of importlib.import_module or __import__ with a constant name (`_import_call`), of its
    top level and inside what it runs there, a `try:`, `if`, `with` or `for` block's (a
    `try: import scipy` as much as a plain one), a class's body, or what a function's
    definition evaluates (`_on_definition`); not a function's body, nor one under
    `if TYPE_CHECKING:` or `if __name__ == "__main__":` (their `else:`'s are: of an `if`
    whose test `_on_import` knows, the branch it takes)."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Call) and _import_call(node) is not None
        ):
            yield node
        elif isinstance(node, ast.If) and (taken := _on_import(node.test)) is not None:
            yield from _imports_run(node.body if taken else node.orelse)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _imports_run(_on_definition(node))
        elif not isinstance(node, ast.Lambda):
            yield from _imports_run(ast.iter_child_nodes(node))


def _on_definition(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[ast.AST]:
    """What a `def` or `class` statement evaluates as it runs (the import runs it at the top
    level): its decorators, a function's default values, a class's bases and keywords. A
    decorator is called with what it decorates: it is given as that call, so that the
    module's own function it names (`@_register`), or the one its call returns (`@_cached(3)`,
    see `_called_on_import`), is followed as one called. (Annotations are left out: most
    modules postpone them.)"""
    evaluated: list[ast.AST] = [
        ast.copy_location(ast.Call(func=decorator, args=[], keywords=[]), decorator)
        for decorator in node.decorator_list
    ]
    if isinstance(node, ast.ClassDef):
        return evaluated + node.bases + [keyword.value for keyword in node.keywords]
    arguments = node.args
    return evaluated + arguments.defaults + [d for d in arguments.kw_defaults if d is not None]


IMPORT_CALLS = ("importlib.import_module", "import_module", "__import__", "builtins.__import__")


def _import_call(node: ast.AST) -> str | None:
    """The module a call of importlib.import_module or __import__ (`IMPORT_CALLS`) imports,
    where its name is a constant string; None for any other node."""
    if not isinstance(node, ast.Call) or ast.unparse(node.func) not in IMPORT_CALLS:
        return None
    first = node.args[0] if node.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _on_import(test: ast.expr) -> bool | None:
    """The value of an `if`'s `test` as the module is imported, where it is known: False for
    `TYPE_CHECKING` and `__name__ == "__main__"`, True for `__name__ != "__main__"` (its body
    runs), and a `not` of one; None for any other."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _on_import(test.operand)
        return None if inner is None else not inner
    if ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
        return False
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Eq, ast.NotEq))
        and {ast.unparse(test.left), ast.unparse(test.comparators[0])} == _NAME_AND_MAIN
    ):
        return isinstance(test.ops[0], ast.NotEq)
    return None


_NAME_AND_MAIN = {"__name__", "'__main__'"}  # (as ast.unparse writes either quote)


def _imported(node: Importing) -> list[str]:
    """The modules an import imports, as lint names them. A name a `from` imports
    may be a submodule of its package: `from studycli import assertions` imports
    studycli.assertions (refused as 'studycli' where studycli.assertions is allowed); the
    package is named where every name it imports is refused (`from scipy import special`)."""
    if isinstance(node, ast.Call):
        return [module] if (module := _import_call(node)) is not None else []
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
