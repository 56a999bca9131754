"""A solution module's code as the checks read it: without its docstrings, split into what each
check runs (`code_parts`), whether a checker uses its device, whether a function is only a
starter's `raise NotImplementedError`. `check`, `lint` and the scaffold read these; `show` and
a review do not."""

from __future__ import annotations

import ast
from pathlib import Path

from .solution_tables import tables
from .source import ModuleInfo


def code_parts(info: ModuleInfo) -> tuple[str, dict[str, str]]:
    """The module's code, docstrings left out, split into the functions that only the
    tables (`WRONG_ANSWERS`, `CORRECT_VARIANTS`) name, by name, and the rest: what a check
    of a wrong answer or a variant may run is the rest and that answer's own function
    (`plan.plan` tells from these what each check imports on first use)."""
    data = info.source.encode("utf-8")  # (the tree's column offsets count UTF-8 bytes)
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    docstrings = [
        (starts[node.lineno - 1] + node.col_offset, starts[end - 1] + node.end_col_offset)
        for node in sorted(_docstrings(info.tree.body), key=lambda n: (n.lineno, n.col_offset))
        if (end := node.end_lineno) is not None and node.end_col_offset is not None
    ]

    def text(start: int, end: int) -> str:
        kept, at = [], start
        for low, high in docstrings:
            if start <= low and high <= end:
                kept.append(data[at:low])
                at = high
        return b"".join([*kept, data[at:end]]).decode("utf-8", errors="replace")

    listed = [
        entry.id
        for table in ("WRONG_ANSWERS", "CORRECT_VARIANTS")
        for entries in tables(info, table).values()
        for entry in entries
        if isinstance(entry, ast.Name)
    ]
    own: dict[str, tuple[int, int]] = {}
    for node in info.tree.body:
        # named nowhere else (no call from a checker or another answer, no alias; a longer
        # name containing it counts too, which only keeps it in the rest)
        if (
            isinstance(node, ast.FunctionDef)
            and node.name in listed
            and node.end_lineno
            and info.source.count(node.name) == 1 + listed.count(node.name)
        ):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            own[node.name] = (starts[first - 1], starts[node.end_lineno])
    rest, at = [], 0
    for low, high in sorted(own.values()):
        rest.append(text(at, low))
        at = high
    rest.append(text(at, len(data)))
    return "".join(rest), {name: text(*span) for name, span in own.items()}


def code_without_docstrings(source: str) -> str:
    """`source` with its docstrings left out (as it is, where it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # (too deep to parse)
        return source
    return ModuleInfo(path=Path(), tree=tree, source=source).code_parts[0]


def _docstrings(body: list) -> list[ast.expr]:
    """The bare strings in `body` and in the bodies within it: docstrings (and any other string
    statement, which does nothing either)."""
    found: list[ast.expr] = []
    for node in body:
        value = node.value if isinstance(node, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.append(value)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                found += _docstrings(inner)
    return found


def uses_device(info: ModuleInfo, function: str) -> bool:
    """Whether checker `function` uses its `device` parameter (passes it on or builds a
    tensor with it). One that never names it checks the same thing on any device. Unknown
    functions count as using it."""
    node = info.function(function)
    if node is None:
        return True
    return any(
        isinstance(name, ast.Name) and name.id == "device"
        for statement in node.body
        for name in ast.walk(statement)
    )


def raises_not_implemented(node: ast.FunctionDef | None) -> bool:
    """Whether a function's body (its docstring aside) is only `raise NotImplementedError`,
    as a starter's is."""
    if node is None:
        return False
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
