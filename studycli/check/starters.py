"""Whether an attempt file is still a starter, nothing of the learner's in it: the card's
starter as it is now, one it had before (its contract reworded), or a file whose function is
still only a stub (`starter_kind`)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from studycli.content.solution_code import code_without_docstrings, raises_not_implemented
from studycli.content.source import card_module, card_starter

if TYPE_CHECKING:
    from pathlib import Path

    from studycli.content.card import Card
    from studycli.content.loader import Content


def is_untouched(card: Card, content: Content, path: Path) -> bool:
    """Whether the attempt at `path` is still a starter (nothing to record yet): the card's
    starter, or a file whose function still only raises NotImplementedError, as the starter
    an older studycli wrote before the card's starter changed (see `is_older_starter`)."""
    return starter_kind(card, content, path) is not None


def is_older_starter(card: Card, content: Content, path: Path) -> bool:
    """Whether the attempt at `path` is a starter the card had before: not the starter as it
    is now, but the same code apart from docstrings (a starter changes in its contract), and
    its function a stub. (A file the learner edited, a helper added, is not: deleting it
    would lose their work.)"""
    return starter_kind(card, content, path) == "older"


def starter_kind(card: Card, content: Content, path: Path) -> str | None:
    """ "current" (the card's starter), "older" (an earlier one), "stub" (edited, its function
    still a stub) or None (an attempt, or a file that does not read): `is_untouched` and
    `is_older_starter` at once, the file read and the starter made once."""
    text = _text_of(path)
    if text is None:
        return None
    now = card_starter(card, content.solutions_dir)
    if text == now:
        return "current"
    if not _still_a_stub(card, text):
        return None
    carried = _imported(card_module(card, content.solutions_dir).tree.body)
    return "older" if _starter_code(text, carried) == _starter_code(now, carried) else "stub"


def _starter_code(text: str, carried: set[tuple[str, int, str, str | None]]) -> str:
    """A starter's code, its docstrings, blank lines and top-level imports of names its module
    imports (`carried`) left out: the parts in which a card's starter changes (its contract
    reworded; the imports of its module's checkers no longer carried over) while a file
    written from it is still no attempt. Compared as text, so that a comment of the learner's
    (their plan) or an import of their own is still theirs: compared as syntax trees, such a
    file was called a changed starter, to be deleted for the new one."""
    code = code_without_docstrings(text)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    lines = code.splitlines()
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or not _imported([node]) <= carried:
            continue
        end = node.end_lineno or node.lineno
        alone = all(  # (no other statement on its lines: `import heapq; LIMIT = 3`)
            other is node or (other.end_lineno or other.lineno) < node.lineno or other.lineno > end
            for other in tree.body
        )
        if alone:
            lines[node.lineno - 1 : end] = [""] * (end - node.lineno + 1)
    return "\n".join(line for line in lines if line.strip())


def _imported(body: list[ast.stmt]) -> set[tuple[str, int, str, str | None]]:
    """The names that the import statements in `body` bind, each as (module, level, name,
    alias)."""
    names = set()
    for node in body:
        if isinstance(node, ast.Import):
            names |= {("", 0, alias.name, alias.asname) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names |= {(module, node.level, alias.name, alias.asname) for alias in node.names}
    return names


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # (the check says what is wrong with the file)


def _still_a_stub(card: Card, text: str) -> bool:
    """Whether `text` defines the card's function with a body (its docstring aside) that is
    only `raise NotImplementedError`, as a starter's is: every call of it fails so."""
    assert card.solution is not None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # (a null byte; too deep)
        return False
    defined = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == card.solution.function
    ]
    return bool(defined) and raises_not_implemented(defined[-1])  # the last one is called
