"""The tables a solution module lists, read from its syntax tree: the wrong answers
(`WRONG_ANSWERS`) and the correct variants (`CORRECT_VARIANTS`) of each function, and the
failure each entry declares (`@fails_with`). `lint`, `check` and the scaffold read them; `show`
and a review do not."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .source import ModuleInfo


def tables(info: ModuleInfo, table: str) -> dict[str, list[ast.expr]]:
    """For `WRONG_ANSWERS` or `CORRECT_VARIANTS`: the expressions listed per function name,
    in order. Reads `TABLE = {"f": [a, b]}` and `TABLE["f"] = [a, b]` at module top level;
    the last assignment wins."""
    return {name: list(entries) for name, (entries, _) in _table(info, table).items()}


def table_lines(info: ModuleInfo, table: str) -> dict[str, int]:
    """The line where each function name of `tables(table)` is given its entries."""
    return {name: line for name, (_, line) in _table(info, table).items()}


def _table(info: ModuleInfo, table: str) -> dict[str, tuple[list[ast.expr], int]]:
    """`table`'s entries per function name, with the line each is given on: read once per
    module (`ModuleInfo.tables_read`)."""
    found = info.tables_read.get(table)
    if found is None:
        found = info.tables_read[table] = _read_table(info, table)
    return found


def _read_table(info: ModuleInfo, table: str) -> dict[str, tuple[list[ast.expr], int]]:
    found: dict[str, tuple[list[ast.expr], int]] = {}
    for node in info.tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and target.id == table
                and isinstance(node.value, ast.Dict)
            ):
                for key, value in zip(node.value.keys, node.value.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        found[key.value] = (_elements(value), key.lineno)
            elif (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == table
                and isinstance(target.slice, ast.Constant)
            ):
                found[str(target.slice.value)] = (_elements(node.value), node.lineno)
    return found


def table_entries(info: ModuleInfo, table: str, function: str) -> list[ast.expr]:
    """The expressions listed in `TABLE["function"]`, in order."""
    return tables(info, table).get(function, [])


def expected_failures(info: ModuleInfo, table: str, function: str) -> list[str | None]:
    """For each entry of `TABLE["function"]`, the text its `@fails_with("...")` declares
    (None where it declares none or the entry is not a top-level function)."""
    return [
        declared_failure(info.function(e.id)) if isinstance(e, ast.Name) else None
        for e in table_entries(info, table, function)
    ]


def _elements(node: ast.expr) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, (ast.List, ast.Tuple)) else []


def declared_failure(function: ast.FunctionDef | None) -> str | None:
    """The string of a `@fails_with("...")` decorator on `function`, if it has one."""
    for decorator in function.decorator_list if function else []:
        if (
            isinstance(decorator, ast.Call)
            and getattr(decorator.func, "id", getattr(decorator.func, "attr", None)) == "fails_with"
            and decorator.args
            and isinstance(decorator.args[0], ast.Constant)
            and isinstance(decorator.args[0].value, str)
        ):
            return decorator.args[0].value
    return None
