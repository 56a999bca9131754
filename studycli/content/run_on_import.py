"""What importing a solution module runs, read from its syntax tree (no module is imported):
the statements of its top level and what they call of its own functions (`run_by_import`,
`called_on_import`), and the imports among them (`imports_on_import`). Lint's rules on them:
lint_top_levels.py."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator


def imports_on_import(tree: ast.Module) -> list[tuple[Importing, str]]:
    """The imports a module's import runs (`_imports_run`), each with the call of
    the module's own function that runs it ("" for the top level's own): `ERF = _erf()` at the
    top level runs the `import scipy.special` in `_erf` as the module is imported."""
    found = [(node, "") for node in _imports_run(tree.body)]
    for function, via in called_on_import(tree):
        found += [(node, via) for node in _imports_run(function.body)]
    return found


def called_on_import(tree: ast.Module) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
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
    todo: list[tuple[ast.AST, str]] = [(node, "") for node in run_by_import(tree.body)]
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


def run_by_import(body: list[ast.stmt]) -> list[ast.AST]:
    """The statements of `body` that importing the module runs (a class body's included; of
    an `if` whose test `_on_import` knows, the branch it takes), and of a function's or a
    class's definition what it evaluates (`_on_definition`)."""
    run: list[ast.AST] = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            run += _on_definition(node)
        elif isinstance(node, ast.ClassDef):
            run += _on_definition(node) + run_by_import(node.body)
        elif isinstance(node, ast.If) and (taken := _on_import(node.test)) is not None:
            run += run_by_import(node.body if taken else node.orelse)
        else:
            run.append(node)
    return run


Importing = ast.Import | ast.ImportFrom | ast.Call  # (a call of `import_call`'s)


def _imports_run(nodes: Iterable[ast.AST]) -> Iterator[Importing]:
    """The imports among `nodes` that importing the module runs: import statements, and calls
    of importlib.import_module or __import__ with a constant name (`import_call`), of its
    top level and inside what it runs there, a `try:`, `if`, `with` or `for` block's (a
    `try: import scipy` as much as a plain one), a class's body, or what a function's
    definition evaluates (`_on_definition`); not a function's body, nor one under
    `if TYPE_CHECKING:` or `if __name__ == "__main__":` (their `else:`'s are: of an `if`
    whose test `_on_import` knows, the branch it takes)."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Call) and import_call(node) is not None
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
    see `called_on_import`), is followed as one called. (Annotations are left out: most
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


def import_call(node: ast.AST) -> str | None:
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
