"""Reading solution modules without running them (AST only), and making starters.

`lint` and `show` must not import torch, so everything they need from `solutions/` (which
functions exist, their parameters, the listed wrong answers, the default starter) comes from
the module's syntax tree.
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
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
        return None

    def tables(self, table: str) -> dict[str, list[ast.expr]]:
        """For `WRONG_ANSWERS` or `CORRECT_VARIANTS`: the expressions listed per function name,
        in order. Reads `TABLE = {"f": [a, b]}` and `TABLE["f"] = [a, b]` at module top level;
        the last assignment wins."""
        return {name: entries for name, (entries, _) in self._table(table).items()}

    def table_lines(self, table: str) -> dict[str, int]:
        """The line where each function name of `tables(table)` is given its entries."""
        return {name: line for name, (_, line) in self._table(table).items()}

    def _table(self, table: str) -> dict[str, tuple[list[ast.expr], int]]:
        found: dict[str, tuple[list[ast.expr], int]] = {}
        for node in self.tree.body:
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

    def listed(self, table: str) -> dict[str, int]:
        """For `WRONG_ANSWERS` or `CORRECT_VARIANTS`: entries per function name."""
        return {name: len(entries) for name, entries in self.tables(table).items()}

    def table_entries(self, table: str, function: str) -> list[ast.expr]:
        """The expressions listed in `TABLE["function"]`, in order."""
        return self.tables(table).get(function, [])

    def expected_failures(self, table: str, function: str) -> list[str | None]:
        """For each entry of `TABLE["function"]`, the text its `@fails_with("...")` declares
        (None where it declares none or the entry is not a top-level function)."""
        return [
            declared_failure(self.function(e.id)) if isinstance(e, ast.Name) else None
            for e in self.table_entries(table, function)
        ]

    def uses_device(self, function: str) -> bool:
        """Whether checker `function` uses its `device` parameter (passes it on or builds a
        tensor with it). One that never names it checks the same thing on any device. Unknown
        functions count as using it."""
        node = self.function(function)
        if node is None:
            return True
        return any(
            isinstance(name, ast.Name) and name.id == "device"
            for statement in node.body
            for name in ast.walk(statement)
        )

    @cached_property
    def code_parts(self) -> tuple[str, dict[str, str]]:
        """The module's code, docstrings left out, split into the functions that only the
        tables (`WRONG_ANSWERS`, `CORRECT_VARIANTS`) name, by name, and the rest: what a check
        of a wrong answer or a variant may run is the rest and that answer's own function
        (`plan.plan` tells from these what each check imports on first use)."""
        data = self.source.encode("utf-8")  # (the tree's column offsets count UTF-8 bytes)
        starts = [0]
        for line in data.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        docstrings = [
            (starts[node.lineno - 1] + node.col_offset, starts[end - 1] + node.end_col_offset)
            for node in sorted(_docstrings(self.tree.body), key=lambda n: (n.lineno, n.col_offset))
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
            for entries in self.tables(table).values()
            for entry in entries
            if isinstance(entry, ast.Name)
        ]
        own: dict[str, tuple[int, int]] = {}
        for node in self.tree.body:
            # named nowhere else (no call from a checker or another answer, no alias; a longer
            # name containing it counts too, which only keeps it in the rest)
            if (
                isinstance(node, ast.FunctionDef)
                and node.name in listed
                and node.end_lineno
                and self.source.count(node.name) == 1 + listed.count(node.name)
            ):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                own[node.name] = (starts[first - 1], starts[node.end_lineno])
        rest, at = [], 0
        for low, high in sorted(own.values()):
            rest.append(text(at, low))
            at = high
        rest.append(text(at, len(data)))
        return "".join(rest), {name: text(*span) for name, span in own.items()}

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
            kept = [alias for alias in node.names if _bound_name(alias) in used]
            if len(kept) == len(node.names):
                lines.append((text, node.lineno))
            elif kept:
                shortened = ast.unparse(type(node)(**{**vars(node), "names": kept}))
                lines.append((shortened, node.lineno))
        return lines


ARRAY_LIBRARIES = ("torch", "np", "numpy")  # names a starter keeps when its module imports them


def _bound_name(alias: ast.alias) -> str:
    """The name an import's `alias` binds: `import a.b` binds `a`."""
    return alias.asname or alias.name.split(".", 1)[0]


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
        return [_bound_name(alias) for alias in statement.names]
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


def starter_for(card: Card, info: ModuleInfo) -> str:
    assert card.solution is not None
    return card.starter if card.starter else default_starter(info, card.solution.function)
