"""Planning a card's checks for `studycli check`: the jobs that verify it (`plan`), and the
workers they need started before they run (`warm_up`).

A card is verified by one job per candidate: its reference, each correct variant its solution
module lists (CORRECT_VARIANTS), its starter, each wrong answer (WRONG_ANSWERS). A job says
where it runs (the CPU's workers, or the device's where its checker makes tensors there:
`_runs_on`), whether it may use torch and what its code imports on first use (`Job.torch`,
`Job.lazy`: which worker it forks from), and how long it may run (`_limit`). `verify` runs the
jobs, `picker` hands them to free slots, `verdict` judges their outcomes.
"""

from __future__ import annotations

import ast
import contextlib

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.content.solution_code import code_without_docstrings, uses_device
from studycli.content.solution_tables import expected_failures, table_entries
from studycli.content.source import (
    ModuleInfo,
    checker_ref,
    module_names,
    read_module,
    starter_for,
)

from .lazy_imports import lazy_modules, uses_torch
from .limits import LEARNER_MARGIN
from .pool import preload
from .pool import warm_up as pool_warm_up
from .runner import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, Candidate, Job


def plan(
    card: Card,
    content: Content,
    *,
    device: str = "cpu",
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> list[Job]:
    """The jobs that verify one card: reference, variants, starter, wrong answers."""
    assert card.solution is not None
    info = read_module(content.solutions_dir, card.solution.module)
    check = checker_ref(card, info)
    starter = starter_for(card, info)
    written = _starter_written(card, content, info)
    candidates = [
        *_candidates(card, info),
        Candidate("code", card.solution.function, code=starter, written=written),
    ]
    device = _runs_on(card, content, device, info)
    modules = _modules(card, content)
    torch = _uses_torch(modules, starter)
    return [
        Job(
            str(content.solutions_dir),
            check.module,
            check.function,
            c,
            device,
            timeout,
            memory_mb,
            lazy=lazy,
            torch=torch,
        )
        for c, lazy in zip(candidates, _lazy(modules, info, candidates))
    ]


# The kinds of candidate a solution module lists, and the table each is listed in
TABLES = {"variant": "CORRECT_VARIANTS", "wrong": "WRONG_ANSWERS"}


def _candidates(card: Card, info: ModuleInfo) -> list[Candidate]:
    """The answers that verify `card` but its starter: reference, variants, wrong answers."""
    assert card.solution is not None
    function, module = card.solution.function, card.solution.module
    candidates = [Candidate("reference", function, module)]
    for kind, table in TABLES.items():
        entries = table_entries(info, table, function)
        declared = expected_failures(info, table, function) if kind == "wrong" else []
        candidates += [
            Candidate(
                kind,
                function,
                module,
                index=i,
                fails_with=declared[i] if i < len(declared) else None,
                name=ast.unparse(entry),
                line=_defined_on(info, entry),
            )
            for i, entry in enumerate(entries)
        ]
    return candidates


def _starter_written(card: Card, content: Content, info: ModuleInfo) -> str:
    """Where `card`'s starter is written, as `check` names it to an author whose starter the
    checker accepts: the card's `starter:` (its file and line), else the reference its
    signature and docstring come from (its module and `def` line)."""
    from studycli.content.card import shown_path
    from studycli.content.key_lines import KeyLines

    assert card.solution is not None
    root = content.root.resolve()
    if card.starter:
        line = KeyLines().line(card.path, "starter")
        at = shown_path(card.path.resolve(), root).as_posix() + (f":{line}" if line else "")
        return f"the card's `starter:` at {at}"
    module = content.solutions_dir / f"{card.solution.module}.py"
    at = shown_path(module.resolve(), root).as_posix()
    reference = info.function(card.solution.function)
    at += f":{reference.lineno}" if reference is not None else ""
    return f"made from the reference's signature and docstring at {at}"


def _defined_on(info: ModuleInfo, entry: ast.expr) -> int:
    """The line of a table's `entry`: its function's `def` where the module defines one of that
    name at top level, else the entry itself (a lambda, a call)."""
    defined = info.function(entry.id) if isinstance(entry, ast.Name) else None
    return defined.lineno if defined is not None else entry.lineno


def _modules(card: Card, content: Content) -> list[ModuleInfo] | None:
    """`card`'s solution and checker modules, parsed; None if one cannot be read."""
    try:
        return [read_module(content.solutions_dir, name) for name in sorted(module_names(card))]
    except (OSError, SyntaxError):  # lint reports those
        return None


def _uses_torch(modules: list[ModuleInfo] | None, *more: str) -> bool:
    """Whether checks with these modules (None: unread) may use torch (`Job.torch`)."""
    return modules is None or uses_torch([*(found.source for found in modules), *more])


def _lazy(
    modules: list[ModuleInfo] | None, info: ModuleInfo, candidates: list[Candidate]
) -> list[tuple[str, ...]]:
    """What the check of each of `candidates` imports on first use (`lazy_imports.lazy_modules`):
    what its modules' code imports, but the wrong answers' and variants' own functions
    (`ModuleInfo.code_parts`), and what its own function or code does. Docstrings are left
    out: a card's text may name what its reference does not use. (One variant of the
    directional derivative uses forward-mode autograd, which imports torch._dynamo: its 12
    other checks need not wait for it.)"""
    if modules is None:  # one cannot be read: lint reports it
        return [() for _ in candidates]
    shared = set(lazy_modules(found.code_parts[0] for found in modules))
    own = info.code_parts[1]
    lazies = []
    for candidate in candidates:
        if candidate.kind in TABLES:
            entries = table_entries(info, TABLES[candidate.kind], candidate.function)
            entry = entries[candidate.index] if candidate.index < len(entries) else None
            text = own.get(entry.id, "") if isinstance(entry, ast.Name) else ""
        else:
            text = code_without_docstrings(candidate.code) if candidate.code else ""
        lazies.append(tuple(sorted(shared.union(lazy_modules([text]) if text else ()))))
    return lazies


def _runs_on(card: Card, content: Content, device: str, info=None) -> str:
    """Where `card`'s checks run in a run on `device`: the CPU's workers run a checker that
    makes no tensor on the device. (`info`: its solution module's, when already read.)"""
    assert card.solution is not None
    if device == "cpu":
        return device
    info = info or read_module(content.solutions_dir, card.solution.module)
    check = checker_ref(card, info)
    same = check.module == card.solution.module
    checker = info if same else read_module(content.solutions_dir, check.module)
    return device if uses_device(checker, check.function) else "cpu"


def _limit(job: Job, learner_timeout: float | None) -> float:
    """The seconds `job` may run: no longer than a learner's limit (and a margin) where one
    is given."""
    if learner_timeout:
        return min(job.timeout, learner_timeout + LEARNER_MARGIN)
    return job.timeout


def warm_up(cards: list[Card], content: Content, device: str = "cpu", jobs: int = 1) -> None:
    """Start the checks' workers in the background, with the solution modules of `cards`
    loaded and what their checkers import on first use (see `lazy_imports.lazy_modules`) imported,
    so that they are ready when the checks run.

    Each worker imports only what the checks it runs need: the CPU's checks whose checkers
    import something on first use (torch._dynamo for an optimizer's step, 1-2 s) fork from a
    worker of their own that imports it (`Job.lazy`), so that the others fork from a lighter
    one, which is ready sooner; in a run on CUDA, so do the device's: a few of the device
    workers for `jobs` checks at a time import it (see `pool.warm_up`), no more than there
    are such checks.
    """
    names: set[str] = set()
    # (ordered sets) "torchless": the CPU's checks that do not use torch (`Job.torch`)
    lazy: dict[str, dict[str, None]] = {"cpu": {}, device: {}, "torchless": {}}
    torchless = False
    heavy = 0  # the device's checks that import something on first use
    for card in cards:
        names |= module_names(card)
        with contextlib.suppress(OSError, SyntaxError):  # lint reports those
            if card.solution is not None:
                info = read_module(content.solutions_dir, card.solution.module)
                where = _runs_on(card, content, device, info)
                modules = _modules(card, content)
                if where == "cpu" and not _uses_torch(modules):
                    where, torchless = "torchless", True
                for found in _lazy(modules, info, _candidates(card, info)):
                    lazy[where].update(dict.fromkeys(found))
                    heavy += bool(found) and where not in ("cpu", "torchless")
    solutions = (str(content.solutions_dir), sorted(names))
    preload([], solutions=solutions)
    pool_warm_up(
        device,
        jobs,
        lazy=tuple(lazy["cpu"]),
        device_lazy=tuple(lazy[device]),
        heavy=heavy,
        torchless=tuple(lazy["torchless"]) if torchless else None,
    )
