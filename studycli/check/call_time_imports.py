"""`lint`'s notes on a checker or reference that imports a module each time it is called
(`import sympy` inside `check_...`), which every check then pays for.

Each check runs in a process of its own, forked from a worker that has imported torch, numpy,
the card's solution modules (`zygote._prepare`; for a learner's attempts too, `solve.warm_up`)
and what `lazy_imports` says the checkers import on first use. A module that a checker imports
inside its body, and that none of those imports, is imported again by every check: `import
sympy` in a checker made each of a learner's attempts take 0.4 s more on the 2-core box (0.40
to 0.56 s against 0.02 s once LAZY_IMPORTS named it). It cannot go to the module's top, where
lint allows only what every install has (`lint_top_levels`): LAZY_IMPORTS is where it goes.
These are notes, not problems: the checks are right, only slower. A module that is not
installed here is noted as such (its checks fail here, unless the import is guarded), a note
too: the same content is right on an install that has it.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

from studycli.content.card import CardProblem
from studycli.content.loader import Content
from studycli.content.source import ModuleInfo, checker_ref, module_path, read_module

from .lazy_imports import _installed, first_use_modules

# what every worker imports before its checks (`zygote.BASE_PRELOAD`), and the project's own
PRELOADED = frozenset({"numpy", "torch", "studycli"})


def call_time_imports(content: Content) -> list[CardProblem]:
    """A note for each import, in a runnable card's checker or reference (or in a function of
    their module that they call), of a module that no worker has imported before the checks:
    none of the standard library, torch, numpy, the project or its solution modules, nor one
    that `lazy_imports` preloads or the module's top imports already. Each import is noted
    once, however many cards reach it."""
    notes: dict[tuple[Path, int], CardProblem] = {}  # (each import once)
    walked: set[tuple[Path, str]] = set()  # (a module, a function of it) looked at already
    for card in content.cards.values():
        if not card.runnable or card.solution is None:
            continue
        try:
            info = read_module(content.solutions_dir, card.solution.module)
            check = checker_ref(card, info)
            checker_info = (
                info
                if check.module == card.solution.module
                else read_module(content.solutions_dir, check.module)
            )
        except (OSError, SyntaxError, ValueError):  # (lint's problem already)
            continue
        for module, root, role in (
            (checker_info, check.function, "checker"),
            (info, card.solution.function, "reference"),
        ):
            if (module.path, root) in walked or not _may_import(module, content.solutions_dir):
                continue
            walked.add((module.path, root))
            for note in _notes(module, root, role, card.id, content.solutions_dir):
                notes.setdefault((note.path, note.line or 0), note)
    return sorted(notes.values(), key=lambda note: (str(note.path), note.line or 0))


def _notes(
    info: ModuleInfo, root: str, role: str, card_id: str, solutions_dir: Path
) -> list[CardProblem]:
    """The notes of the costly imports that `root`, the card's checker or reference (`role`),
    reaches in its module."""
    notes = []
    for function in _reached(info, root):
        said = function if function == root else f"{function} (which the {role} {root} calls)"
        notes += [
            CardProblem(info.path, _message(said, role, name), node.lineno, card_id)
            for node, name in _costly_imports(function, info, solutions_dir)
        ]
    return notes


def _reached(info: ModuleInfo, root: str) -> list[str]:
    """The module's top-level function `root` and those of its functions it names, and they
    name, and so on."""
    seen: dict[str, None] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name not in seen and name in _functions(info):
            seen[name] = None
            todo += _walked(info, name)[0]
    return list(seen)


@functools.cache
def _functions(info: ModuleInfo) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in info.tree.body if isinstance(node, ast.FunctionDef)}


@functools.cache
def _walked(info: ModuleInfo, name: str) -> tuple[list[str], list[tuple[ast.stmt, str]]]:
    """The module's functions that its function `name` names, and the modules it imports
    (each with its import statement): one walk of it."""
    functions = _functions(info)
    named: list[str] = []
    imports: list[tuple[ast.stmt, str]] = []
    for node in ast.walk(functions[name]):
        if isinstance(node, ast.Name) and node.id in functions:
            named.append(node.id)
        elif isinstance(node, ast.Import):
            imports += [(node, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imports.append((node, node.module))
    return named, imports


def _may_import(info: ModuleInfo, solutions_dir: Path) -> bool:
    """Whether an indented line of the module imports a costly module (or reads as if it did,
    in a docstring): the functions of the others are not walked (0.28 s of a `lint`, where
    none of the shipped modules is such)."""
    return any(
        _costly(plain or of, info, solutions_dir)
        for plain, of in _INDENTED_IMPORT.findall(info.source)
    )


# (`import x` alone, as, or one of several; `from x import`)
_INDENTED_IMPORT = re.compile(
    r"^[ \t]+(?:import[ \t]+([\w.]+)[ \t]*(?:$|,|as\b|#)|from[ \t]+([\w.]+)[ \t]+import\b)",
    re.MULTILINE,
)


def _costly(name: str, info: ModuleInfo, solutions_dir: Path) -> bool:
    """Whether module `name` is one that no worker imports before the checks of `info`."""
    top = name.partition(".")[0]
    return (
        top not in sys.stdlib_module_names
        and top not in PRELOADED
        and name not in _imported_first(info)
        and not module_path(solutions_dir, top).is_file()
    )


def _costly_imports(
    function: str, info: ModuleInfo, solutions_dir: Path
) -> list[tuple[ast.stmt, str]]:
    """The imports inside `function` of a module no worker imported before the checks."""
    return [
        (node, name)
        for node, name in _walked(info, function)[1]
        if _costly(name, info, solutions_dir)
    ]


@functools.cache
def _imported_first(info: ModuleInfo) -> frozenset[str]:
    """The modules a worker imports before the checks of this module besides the base ones:
    those its top imports (the worker loads it), and those `lazy_imports` finds its checkers
    import on first use."""
    found = set(first_use_modules([info.source]))
    for node in info.tree.body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return frozenset(found)


def _message(who: str, role: str, module: str) -> str:
    if not _installed(module):  # (LAZY_IMPORTS preloads only what is installed: no help)
        return (
            f"{who} imports {module}, which is not installed here: each check that runs it "
            "fails with ModuleNotFoundError, unless the import is guarded (a `try:` with "
            "`except ImportError:`, or importlib.util.find_spec, for a package not every "
            f"install has); install the package that provides {module}, or write the card "
            "without it (naming it in LAZY_IMPORTS does not help: a worker preloads only "
            "what is installed)"
        )
    pays = (
        "every check of the card, each attempt a learner makes included,"
        if role == "checker"
        else "each check that runs it"
    )
    return (
        f"{who} imports {module} at each call, and each check runs in a process of its own, so "
        f"{pays} imports it again: name it in LAZY_IMPORTS (studycli/check/lazy_imports.py), "
        "with a pattern of the code that uses it, as torch._dynamo is there (torch.compile), and "
        "the worker that runs the checks imports it once, before them, where it is installed "
        "(not at the module's top: lint refuses a package that not every install has)"
    )
