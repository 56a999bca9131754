"""A function of a solution module with what of the module it uses: the reference's source as
`show --answer` prints it (`reference_source`), and the top-level statements a function needs
(`used_top_level`: a checker's code, which a coding card's contract hashes)."""

from __future__ import annotations

import ast
from pathlib import Path

from .card import Card
from .source import bound_name, card_module


def reference_source(card: Card, solutions_dir: Path) -> str | None:
    """The reference function's source as the module has it, its decorators included and its
    docstring left out (the starter shows it), after what of the module it uses: the imports,
    helpers and constants it names, and theirs in turn, in the module's order (alone, a
    reference that called `_cholesky_solve` could not be read, or run); None where the module
    has no such function (`lint` says so).

    Raises:
        ContentError: the module does not parse (see `card_module`).
    """
    assert card.solution is not None
    info = card_module(card, solutions_dir)
    node = info.function(card.solution.function)
    if node is None:
        return None
    lines = info.source.splitlines()

    def text(of: ast.stmt) -> str:
        decorators = getattr(of, "decorator_list", [])
        first = min([of.lineno, *(d.lineno for d in decorators)])
        kept = list(range(first, (of.end_lineno or of.lineno) + 1))
        if of is node and ast.get_docstring(node) is not None and len(node.body) > 1:
            doc = node.body[0]
            kept = [n for n in kept if not doc.lineno <= n <= (doc.end_lineno or doc.lineno)]
        return "\n".join(lines[n - 1] for n in kept)

    used = used_top_level(info.tree, node)
    imports = [text(of) for of in used if isinstance(of, (ast.Import, ast.ImportFrom))]
    others = [text(of) for of in used if not isinstance(of, (ast.Import, ast.ImportFrom))]
    parts = ["\n".join(imports)] if imports else []
    return "\n\n\n".join([*parts, *others, text(node)])


def used_top_level(tree: ast.Module, function: ast.FunctionDef) -> list[ast.stmt]:
    """The module's top-level statements that `function` needs, directly or through another
    of them, in the module's order: the imports and definitions of the names it reads."""
    defines: dict[str, ast.stmt] = {}
    for statement in tree.body:
        for name in _top_level_names(statement):
            defines.setdefault(name, statement)
    needed: list[ast.stmt] = []
    todo: list[ast.AST] = [function]
    while todo:
        for name in _names_read(todo.pop()):
            defining = defines.get(name)
            if defining is None or defining is function or defining in needed:
                continue
            needed.append(defining)
            todo.append(defining)
    return sorted(needed, key=lambda statement: statement.lineno)


def _top_level_names(statement: ast.stmt) -> list[str]:
    """The names a module-level statement binds (an import, a definition, an assignment)."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [bound_name(alias) for alias in statement.names]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    targets = (
        statement.targets
        if isinstance(statement, ast.Assign)
        else [statement.target]
        if isinstance(statement, ast.AnnAssign)
        else []
    )
    return [target.id for target in targets if isinstance(target, ast.Name)]


def _names_read(node: ast.AST) -> set[str]:
    return {
        name.id
        for name in ast.walk(node)
        if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load)
    }
