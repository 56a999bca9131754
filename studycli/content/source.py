"""Reading solution modules without running them (AST only), and making starters.

`lint` and `show` must not import torch, so everything they need from `solutions/` (which
functions exist, their parameters, the listed wrong answers, the default starter) comes from
the module's syntax tree. What only `lint` and `check` read of a module is in
solution_tables.py (the wrong answers and variants it lists) and solution_code.py (its code as
the checks split it); a reference with what it uses, in reference_code.py.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from .card import Card, Ref


@dataclass(frozen=True)
class ModuleInfo:
    """What a solution module defines at top level."""

    path: Path
    tree: ast.Module
    source: str

    def function(self, name: str) -> ast.FunctionDef | None:
        """The top-level function `name` (the first of that name), if there is one."""
        return self._functions.get(name)

    @cached_property
    def _functions(self) -> dict[str, ast.FunctionDef]:
        """The top-level functions by name, the first of each, found once: `check` of the
        shipped cards looked one up 10,180 times, each a scan of the module's statements."""
        found: dict[str, ast.FunctionDef] = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, node)
        return found

    @cached_property
    def tables_read(self) -> dict[str, dict]:
        """`solution_tables`' reading of each table (`WRONG_ANSWERS`...) of the module, by its
        name, kept as it is made: `check` of the shipped cards read them 5,240 times."""
        return {}

    @cached_property
    def code_parts(self) -> tuple[str, dict[str, str]]:
        """`solution_code.code_parts` of the module, made once."""
        from .solution_code import code_parts

        return code_parts(self)

    def imports(self, function: ast.FunctionDef) -> list[tuple[str, int]]:
        """The module's top-level imports that `function` uses (in its body, signature or
        decorators), for its starter, each with the line it begins on: the module's checkers
        import more (`torch.optim`'s AdamW as AdamW's ground truth, `heapq` for
        sliding-window-max's slow wrong answer), which handed a learner the routine the checker
        refuses or the method the prompt warns of. A statement that binds some names used and
        some not keeps the used ones only."""
        # (and the array libraries the module works in, used by name or not: the answer's
        # vocabulary, whatever the reference happens to call)
        used = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
        used |= {*ARRAY_LIBRARIES, "*"}  # (`from m import *`: kept)
        source_lines = self.source.splitlines()
        lines = []
        for node in self.tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            text = "\n".join(source_lines[node.lineno - 1 : node.end_lineno])
            if "studycli" in text:
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                lines.append((text, node.lineno))  # (changes how the code reads, used or not)
                continue
            kept = [alias for alias in node.names if bound_name(alias) in used]
            if len(kept) == len(node.names):
                lines.append((text, node.lineno))
            elif kept:
                shortened = ast.unparse(type(node)(**{**vars(node), "names": kept}))
                lines.append((shortened, node.lineno))
        return lines


ARRAY_LIBRARIES = ("torch", "np", "numpy")  # names a starter keeps when its module imports them


def bound_name(alias: ast.alias) -> str:
    """The name an import's `alias` binds: `import a.b` binds `a`."""
    return alias.asname or alias.name.split(".", 1)[0]


def module_names(card: Card) -> set[str]:
    """The solution modules `card` names: its solution's and its checker's (none for a card
    that runs no code)."""
    return {ref.module for ref in (card.solution, card.check) if ref is not None}


def module_path(solutions_dir: Path, module: str) -> Path:
    return solutions_dir / f"{module}.py"


def _head(path: Path, function: str) -> ModuleInfo | None:
    """The module up to the end of top-level `function`, parsed, where that is all a starter
    needs (the reference comes first in a solution module, its checker after: `show` parsed
    ten times what it used). None, for the whole module to be read, where `function` is not
    found, the cut is not at a statement's end (the text up to it does not parse, or does not
    end with `function`), or an import follows it."""
    try:
        source = decode_module(path, path.read_bytes())
    except (OSError, NotUtf8Error):
        return None
    found = re.search(rf"^def {re.escape(function)}\b", source, re.MULTILINE)
    if found is None:
        return None
    body = source.find("\n", found.end()) + 1 or len(source)  # the line after `def ...`
    # the next top-level line (not the `)` that closes a signature of several lines)
    after = re.search(r"^[^\s#)\]}]", source[body:], re.MULTILINE)
    end = body + after.start() if after else len(source)
    if re.search(r"^(?:import|from)\s", source[end:], re.MULTILINE):
        return None
    try:
        tree = ast.parse(source[:end], filename=str(path))
    except SyntaxError:
        return None
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.FunctionDef) or last.name != function:
        return None
    return ModuleInfo(path=path, tree=tree, source=source[:end])


class NotUtf8Error(SyntaxError):
    """A solution module whose bytes are not UTF-8 text, at the line they are on: a
    SyntaxError, as Python's own for such a file, so that every reader of a module that
    reports a syntax error by its line reports this one too (a UnicodeDecodeError went past
    them all: `lint` and `check` ended in a traceback)."""


def decode_module(path: Path, data: bytes) -> str:
    """The text of the solution module at `path` whose bytes are `data`: UTF-8, with a byte
    order mark or none (Python runs a module that has one; it was "invalid non-printable
    character U+FEFF" to lint).

    Raises:
        NotUtf8Error: the bytes are not UTF-8, named by their line and the fix.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, bad = undecodable(data, exc)
        raise NotUtf8Error(f"{bad}: save the module as UTF-8", (str(path), line, 1, None)) from None


def undecodable(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    """The line of `data` where UTF-8 decoding failed (`exc`), and what is wrong there."""
    line = len(re.findall(rb"\r\n?|\n", data[: exc.start])) + 1  # Python's line ends
    bad = " ".join(f"0x{byte:02x}" for byte in data[exc.start : exc.end][:4])
    named = f"byte {bad} is" if exc.end - exc.start == 1 else f"bytes {bad} are"
    return line, (
        f"{named} not UTF-8 text (written in another encoding, such as Latin-1 or Windows-1252)"
    )


@lru_cache(maxsize=256)
def _read(path: Path, mtime: float) -> ModuleInfo:
    source = decode_module(path, path.read_bytes())
    return ModuleInfo(path=path, tree=ast.parse(source, filename=str(path)), source=source)


def read_module(solutions_dir: Path, module: str) -> ModuleInfo:
    """Parse `solutions/<module>.py`; raises OSError or SyntaxError for the caller to report."""
    path = module_path(solutions_dir, module)
    return _read(path, path.stat().st_mtime)


def parameters(function: ast.FunctionDef) -> list[str]:
    """Parameter names in order, keyword-only ones included, with * and ** marked."""
    args = function.args
    names = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return names


def default_checker(info: ModuleInfo, solution: Ref) -> Ref:
    """`check_<function>` when the module has it, else `check`."""
    specific = f"check_{solution.function}"
    return Ref(solution.module, specific if info.function(specific) else "check")


def checker_ref(card: Card, info: ModuleInfo) -> Ref:
    assert card.solution is not None
    return card.check or default_checker(info, card.solution)


def default_starter(info: ModuleInfo, function_name: str) -> str:
    """The reference's imports, signature and docstring, then `raise NotImplementedError`."""
    return "".join(f"{text}\n" for text, _ in starter_lines(info, function_name))


def starter_lines(info: ModuleInfo, function_name: str) -> list[tuple[str, int | None]]:
    """The lines of `default_starter`, each with the line of the module it shows (None for
    the blank lines and the `raise` the starter adds): lint names the line to fix."""
    node = info.function(function_name)
    assert node is not None
    source_lines = info.source.splitlines()
    first = node.lineno - len(node.decorator_list)
    header = "\n".join(source_lines[first - 1 : node.body[0].lineno - 1]).rstrip()
    lines: list[tuple[str, int | None]] = []
    imports = info.imports(node)
    for text, line in imports:
        lines += [(shown, line + n) for n, shown in enumerate(text.split("\n"))]
    if imports:
        lines += [("", None), ("", None)]
    lines += [(shown, first + n) for n, shown in enumerate(header.split("\n"))]
    doc = ast.get_docstring(node, clean=False)
    if doc is not None:
        start, end = node.body[0].lineno, node.body[0].end_lineno or node.body[0].lineno
        shown = f'    """{doc}"""'.replace("\n    \n", "\n\n")
        lines += [(text, min(start + n, end)) for n, text in enumerate(shown.split("\n"))]
    lines.append(("    raise NotImplementedError", None))
    while lines and lines[0][0] == "":  # (an empty header, the docstring on the `def` line)
        del lines[0]
    return lines


def card_module(card: Card, solutions_dir: Path, module: str | None = None) -> ModuleInfo:
    """The card's solution module (or `module`, such as its checker's), parsed.

    Raises:
        ContentError: one line naming the file, the line of a syntax error, and the fix.
    """
    from studycli.errors import ContentError

    assert card.solution is not None
    name = module or card.solution.module
    path = module_path(solutions_dir, name)
    try:
        return read_module(solutions_dir, name)
    except NotUtf8Error as exc:
        why = f"line {exc.lineno}: {exc.msg}"
    except SyntaxError as exc:
        why = f"line {exc.lineno} has a syntax error ({exc.msg})"
    except OSError as exc:
        why = str(exc.strerror or exc)
    raise ContentError(
        f"cannot read solutions/{name}.py, which card {card.id} runs: {why}: fix {path} "
        "(`studycli lint` lists every problem)"
    )


def card_starter(card: Card, solutions_dir: Path) -> str:
    """The starter a learner edits, or a ContentError saying what `lint` would say."""
    from studycli.errors import ContentError

    assert card.solution is not None
    if card.starter is None:
        head = _head(module_path(solutions_dir, card.solution.module), card.solution.function)
        if head is not None:
            return default_starter(head, card.solution.function)
    info = card_module(card, solutions_dir)
    if card.starter is None and info.function(card.solution.function) is None:
        raise ContentError(
            f"{card.id}: solutions/{card.solution.module}.py has no function "
            f"{card.solution.function!r}; run `studycli lint`"
        )
    return starter_for(card, info)


def starter_for(card: Card, info: ModuleInfo) -> str:
    assert card.solution is not None
    return card.starter if card.starter else default_starter(info, card.solution.function)
