"""Mutation audit of the checkers: do they reject plausible wrong answers nobody listed?

For each runnable card's reference function this makes mutants of that function alone (an
operator swapped, a constant off by one, a statement deleted...: `OPERATORS`), writes each as
a whole copy of its solution module with the one function changed, as a learner's attempt
file would be, and runs the card's checker on it the way `studycli solve --file` does
(`runner.run_job`: forked from the warm worker, isolated, with a time limit and a memory
cap), two at a time. A mutant that the checker accepts survives; the report shows each
survivor's diff, for a person to judge: equivalent to the reference on every input its
docstring allows, or a gap in the checker.

    STUDYCLI_HOME=/tmp/mutants/home .venv/bin/python scripts/mutants.py            # every card
    STUDYCLI_HOME=/tmp/mutants/home .venv/bin/python scripts/mutants.py smooth-l1  # some cards
    .venv/bin/python scripts/mutants.py --list    # only count the mutants, run nothing

Options: --cap N (mutants per function, spread over the operators; default 150,
more than any shipped function has), --jobs N
(checks at a time; default 2), --out DIR (default /tmp/mutants: report.md, report.json, and
the mutant files under files/). Cards that share a function and a checker are run once.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from studycli.check import runner
from studycli.check.plan import plan, warm_up
from studycli.check.runner import Candidate, Job, Outcome, Status
from studycli.content.card import Card
from studycli.content.loader import Content, load_content
from studycli.paths import content_dir

# --- the operators --------------------------------------------------------------------------

# An edit takes the node at a site (in a copy of the function) and returns its replacement
# (the node itself, changed in place, or a new one).
Edit = Callable[[ast.AST], ast.AST]

ARITHMETIC: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div, ast.Pow),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,),
    ast.Pow: (ast.Mult,),
    ast.Mod: (ast.FloorDiv,),
    ast.MatMult: (ast.Mult,),
}
COMPARISONS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt,),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt,),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
# Functions and methods (torch's, numpy's, Python's), each with the one it is mistaken for.
_SWAPPED_PAIRS = [
    ("max", "min"),
    ("maximum", "minimum"),
    ("amax", "amin"),
    ("argmax", "argmin"),
    ("cummax", "cummin"),
    ("sum", "mean"),
    ("floor", "ceil"),
    ("triu", "tril"),
    ("softmax", "log_softmax"),
]
FUNCTION_SWAPS = dict(_SWAPPED_PAIRS) | {b: a for a, b in _SWAPPED_PAIRS}
# Keyword arguments never dropped: they say where a tensor is made or which random stream it
# draws from, not what the card's computation is.
KEPT_KEYWORDS = {"device", "generator", "out", "layout", "pin_memory", "non_blocking"}
# Calls whose two arguments are never swapped (a swap only breaks the call).
UNSWAPPED = {"isinstance", "issubclass", "getattr", "hasattr", "setattr", "print"}


def _arithmetic(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.BinOp | ast.AugAssign):
        for other in ARITHMETIC.get(type(node.op), ()):
            yield _set("op", other())
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        yield lambda n: n.operand  # -x -> x


def _comparison(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for other in COMPARISONS.get(type(op), ()):
                yield _set_item("ops", i, other())


def _boolean(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.BoolOp):
        yield _set("op", ast.Or() if isinstance(node.op, ast.And) else ast.And())
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        yield _set("op", ast.BitOr() if isinstance(node.op, ast.BitAnd) else ast.BitAnd())
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield _set("value", not node.value)


def _negation(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
        yield lambda n: n.operand


def _integer(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        yield _set("value", node.value + 1)
        yield _set("value", node.value - 1)


def _off_by_one(node: ast.AST) -> Iterator[Edit]:
    """Bounds that are not constants (`_integer` moves those): range()'s arguments, slices'."""
    bounds: list[tuple[str, int | None]] = []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        bounds = [("args", i) for i in range(len(node.args))]
    elif isinstance(node, ast.Slice):
        bounds = [("lower", None), ("upper", None)]
    for name, index in bounds:
        bound = getattr(node, name) if index is None else getattr(node, name)[index]
        if bound is not None and not _is_number(bound):
            yield _bumped(name, index, ast.Add)
            yield _bumped(name, index, ast.Sub)


def _float(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.Constant) and type(node.value) is float:
        value = node.value
        if value == 0:
            changed = [1.0]
        elif abs(value) < 1e-3:  # an epsilon
            changed = [0.0]
        else:
            changed = [value * 2, value / 2]
        for new in changed:
            yield _set("value", new)


def _delete(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.stmt) and not isinstance(node, ast.Pass) and not _is_string(node):
        yield lambda n: ast.Pass()


def _function(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.Call):
        name = _called(node)
        if name in FUNCTION_SWAPS:
            target = node.func
            key = "id" if isinstance(target, ast.Name) else "attr"
            yield lambda n: _renamed(n, key, FUNCTION_SWAPS[name])


def _keyword(node: ast.AST) -> Iterator[Edit]:
    if isinstance(node, ast.Call):
        for i, keyword in enumerate(node.keywords):
            if keyword.arg is not None and keyword.arg not in KEPT_KEYWORDS:
                yield _without_keyword(i)


def _arguments(node: ast.AST) -> Iterator[Edit]:
    """The two arguments of a binary call swapped (and torch.where's two branches)."""
    if not isinstance(node, ast.Call) or _called(node) in UNSWAPPED:
        return
    if any(isinstance(a, ast.Starred) for a in node.args):
        return
    pairs = {2: (0, 1), 3: (1, 2)} if _called(node) == "where" else {2: (0, 1)}
    if len(node.args) in pairs:
        i, j = pairs[len(node.args)]
        if ast.unparse(node.args[i]) != ast.unparse(node.args[j]):
            yield _swapped(i, j)


# Every operator, by the name the report gives it, in the order a capped run shares them out.
OPERATORS: dict[str, Callable[[ast.AST], Iterator[Edit]]] = {
    "arithmetic": _arithmetic,
    "comparison": _comparison,
    "boolean": _boolean,
    "not-removed": _negation,
    "int-constant": _integer,
    "off-by-one": _off_by_one,
    "float-constant": _float,
    "statement-deleted": _delete,
    "function-swap": _function,
    "keyword-dropped": _keyword,
    "arguments-swapped": _arguments,
}


def _set(name: str, value: object) -> Edit:
    def edit(n: ast.AST) -> ast.AST:
        setattr(n, name, value)
        return n

    return edit


def _set_item(name: str, index: int, value: object) -> Edit:
    def edit(n: ast.AST) -> ast.AST:
        getattr(n, name)[index] = value
        return n

    return edit


def _renamed(node: ast.Call, key: str, name: str) -> ast.AST:
    setattr(node.func, key, name)
    return node


def _bumped(name: str, index: int | None, op: type) -> Edit:
    """An edit adding (or subtracting) one to the node's field `name` (its item `index`)."""

    def edit(n: ast.AST) -> ast.AST:
        bound = getattr(n, name) if index is None else getattr(n, name)[index]
        moved = ast.BinOp(left=bound, op=op(), right=ast.Constant(1))
        if index is None:
            setattr(n, name, moved)
        else:
            getattr(n, name)[index] = moved
        return n

    return edit


def _without_keyword(index: int) -> Edit:
    def edit(n: ast.AST) -> ast.AST:
        del n.keywords[index]
        return n

    return edit


def _swapped(i: int, j: int) -> Edit:
    def edit(n: ast.AST) -> ast.AST:
        n.args[i], n.args[j] = n.args[j], n.args[i]
        return n

    return edit


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _is_string(node: ast.AST) -> bool:
    """A bare string statement: a docstring (or any other, which does nothing either)."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


# --- making mutants -------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One mutant of a function: what changed (the lines of the function that differ, as
    `ast.unparse` writes them) and the whole module with it, as an attempt file holds it."""

    index: int
    operator: str
    line: int  # where the change is, in the solution module
    before: str
    after: str
    source: str = field(repr=False)


# Nodes that are parts of others (an operator, a load or a store): their parents are the sites.
_PARTS = (ast.expr_context, ast.operator, ast.cmpop, ast.boolop, ast.unaryop)
_UNMUTATED_FIELDS = {"annotation", "returns", "decorator_list", "type_comment"}


def _sites(function: ast.FunctionDef) -> list[ast.AST]:
    """The nodes of `function`'s body that a mutant may change, depth first: its docstring,
    other bare strings, f-strings (messages) and annotations left out."""
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        found.append(node)
        for name, value in ast.iter_fields(node):
            if name in _UNMUTATED_FIELDS:
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST) and not _skipped(child):
                    visit(child)

    for statement in function.body:
        if not _skipped(statement):
            visit(statement)
    return found


def _skipped(node: ast.AST) -> bool:
    return isinstance(node, (*_PARTS, ast.JoinedStr)) or _is_string(node)


def _replace(root: ast.AST, old: ast.AST, new: ast.AST) -> None:
    """Put `new` where `old` is, in the tree under `root`."""
    for node in ast.walk(root):
        for name, value in ast.iter_fields(node):
            if value is old:
                setattr(node, name, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                setattr(node, name, [new if item is old else item for item in value])
                return


def make_mutants(source: str, function_name: str) -> list[Mutant]:
    """Every mutant of top-level `function_name` in the module `source`, in source order (each
    site's operators in `OPERATORS` order), leaving out those that read as the reference or
    as an earlier mutant."""
    tree = ast.parse(source)
    function = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function_name
    )
    original = ast.unparse(function)
    lines = source.splitlines(keepends=True)
    start = min([function.lineno, *(d.lineno for d in function.decorator_list)]) - 1
    head, tail = "".join(lines[:start]), "".join(lines[function.end_lineno :])
    seen = {original}
    made: list[Mutant] = []
    for i, site in enumerate(_sites(function)):
        for operator, generate in OPERATORS.items():
            for edit in generate(site):
                text = _apply(function, i, edit)
                if text in seen:
                    continue
                seen.add(text)
                line = getattr(site, "lineno", function.lineno)
                before, after = _changed_lines(original, text)
                source = f"{head}{text}\n{tail}"
                made.append(Mutant(len(made), operator, line, before, after, source))
    return made


def _apply(function: ast.FunctionDef, index: int, edit: Edit) -> str:
    """The source of `function` with `edit` made at its site number `index`."""
    changed = copy.deepcopy(function)
    target = _sites(changed)[index]
    new = edit(target)
    if new is not target:
        _replace(changed, target, new)
    return ast.unparse(ast.fix_missing_locations(changed))


def _changed_lines(original: str, mutated: str) -> tuple[str, str]:
    diff = list(difflib.unified_diff(original.splitlines(), mutated.splitlines(), n=0))
    removed = [line[1:] for line in diff[2:] if line.startswith("-")]
    added = [line[1:] for line in diff[2:] if line.startswith("+")]
    return "\n".join(removed), "\n".join(added)


def spread(mutants: list[Mutant], cap: int) -> list[Mutant]:
    """At most `cap` of `mutants`: shared out over the operators in turn, and within an
    operator spread evenly over the function (the same choice every run)."""
    if len(mutants) <= cap:
        return mutants
    groups = {op: [m for m in mutants if m.operator == op] for op in OPERATORS}
    quota = dict.fromkeys(groups, 0)
    left = cap
    while left:
        for op, group in groups.items():
            if left and quota[op] < len(group):
                quota[op] += 1
                left -= 1
    chosen = [
        group[k * len(group) // quota[op]] for op, group in groups.items() for k in range(quota[op])
    ]
    return sorted(chosen, key=lambda m: m.index)


# --- running them ---------------------------------------------------------------------------

CAP = 150  # mutants run per function, at most (the most any shipped function has: 143)
MIN_TIMEOUT = 10.0  # seconds a mutant's check may take, at least
TIMEOUT_FACTOR = 5.0  # and at least this many times the reference's check
# How a checker reports an exception the answer raised (`assertions.call`)
_RAISED = re.compile(r": raised [A-Za-z_.]+")


@dataclass
class Target:
    """A reference function and its checker, with the cards that use both."""

    module: str
    function: str
    checker: str
    cards: list[str]
    job: Job  # the reference's check, as `studycli check` plans it
    generated: int = 0
    baseline: str = ""  # the reference, as a file, failing its check: why
    seconds: float = 0.0
    results: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.module}:{self.function}"

    def counts(self) -> dict[str, int]:
        found = {verdict: 0 for verdict in VERDICTS}
        for result in self.results:
            found[result["verdict"]] += 1
        return found


VERDICTS = ("killed", "crashed", "timeout", "survived")


def targets(cards: list[Card], content: Content) -> list[Target]:
    """The cards' reference functions, one per function and checker, in card order."""
    found: dict[tuple[str, ...], Target] = {}
    for card in cards:
        if not card.runnable or card.solution is None:
            continue
        job = plan(card, content)[0]  # (the reference comes first)
        checker = f"{job.check_module}:{job.check_function}"
        key = (card.solution.module, card.solution.function, checker)
        if key in found:
            found[key].cards.append(card.id)
        else:
            found[key] = Target(*key, cards=[card.id], job=job)
    return list(found.values())


def verdict(outcome: Outcome) -> str:
    """survived (the checker passed it), killed (it rejected the answer's output), crashed
    (the answer raised, or did not load: killed trivially) or timeout."""
    if outcome.status == Status.PASS:
        return "survived"
    if outcome.status == Status.TIMEOUT:
        return "timeout"
    if outcome.status == Status.ERROR or _RAISED.search(outcome.message.partition("\n")[0]):
        return "crashed"
    return "killed"


def run_target(target: Target, content: Content, folder: Path, cap: int, jobs: int) -> None:
    """Check the target's reference as a file, then its mutants (at most `cap`)."""
    source = (content.solutions_dir / f"{target.module}.py").read_text(encoding="utf-8")
    made = make_mutants(source, target.function)
    target.generated = len(made)
    files = folder / "files" / f"{target.module}.{target.function}"
    files.mkdir(parents=True, exist_ok=True)
    reference = files / "reference.py"
    reference.write_text(source, encoding="utf-8")
    started = time.monotonic()
    outcome = runner.run_job(_file_job(target.job, target.function, reference))
    if outcome.status != Status.PASS:
        target.baseline = f"{outcome.status}: {outcome.message.splitlines()[0]}"
        return
    timeout = max(MIN_TIMEOUT, TIMEOUT_FACTOR * outcome.seconds)
    chosen = spread(made, cap)
    checks = []
    for mutant in chosen:
        path = files / f"mutant_{mutant.index:03d}.py"
        path.write_text(mutant.source, encoding="utf-8")
        checks.append(replace(_file_job(target.job, target.function, path), timeout=timeout))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(runner.run_job, checks))
    for mutant, done in zip(chosen, outcomes, strict=True):
        described = {k: v for k, v in asdict(mutant).items() if k != "source"}
        message = done.message.partition("\n")[0][:300]
        target.results.append({**described, "verdict": verdict(done), "message": message})
    target.seconds = time.monotonic() - started


def _file_job(job: Job, function: str, path: Path) -> Job:
    """`job` with an attempt file as its candidate, as `studycli solve --file` runs it."""
    return replace(job, candidate=Candidate("file", function, path=str(path)), threads=1)


# --- the report -----------------------------------------------------------------------------


def write_reports(found: list[Target], folder: Path, cap: int) -> None:
    """report.json (every mutant run, with its verdict) and report.md (counts, survivors)."""
    totals = {"functions": len(found), "generated": sum(t.generated for t in found)}
    totals |= {"run": sum(len(t.results) for t in found)}
    totals |= {v: sum(t.counts()[v] for t in found) for v in VERDICTS}
    data = {
        "cap": cap,
        "totals": totals,
        "targets": [
            {
                "module": t.module,
                "function": t.function,
                "checker": t.checker,
                "cards": t.cards,
                "generated": t.generated,
                "baseline_failure": t.baseline,
                "seconds": round(t.seconds, 1),
                **t.counts(),
                "mutants": t.results,
            }
            for t in found
        ],
    }
    (folder / "report.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(_markdown(found, totals, cap), encoding="utf-8")


def _markdown(found: list[Target], totals: dict[str, int], cap: int) -> str:
    lines = [
        "# Mutation audit of the checkers",
        "",
        f"{totals['functions']} reference functions, {totals['generated']} mutants generated, "
        f"{totals['run']} run (at most {cap} a function); killed {totals['killed']}, crashed "
        f"{totals['crashed']} (raised or did not load: killed trivially), timed out "
        f"{totals['timeout']}, survived {totals['survived']}.",
        "",
        "| function | cards | generated | run | killed | crashed | timeout | survived |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in found:
        c = t.counts()
        lines.append(
            f"| {t.name} | {', '.join(t.cards)} | {t.generated} | {len(t.results)} | "
            f"{c['killed']} | {c['crashed']} | {c['timeout']} | {c['survived']} |"
        )
    failed = [t for t in found if t.baseline]
    if failed:
        lines += ["", "## References that failed as attempt files (not run)", ""]
        lines += [f"- {t.name}: {t.baseline}" for t in failed]
    lines += ["", "## Survivors", ""]
    for t in found:
        survivors = [r for r in t.results if r["verdict"] == "survived"]
        if not survivors:
            continue
        lines += [f"### {t.name} ({', '.join(t.cards)})", ""]
        for r in survivors:
            lines += [f"- #{r['index']} {r['operator']}, solutions/{t.module}.py:{r['line']}"]
            lines += ["  ```diff"]
            lines += [f"  - {line}" for line in r["before"].splitlines()]
            lines += [f"  + {line}" for line in r["after"].splitlines()]
            lines += ["  ```"]
        lines.append("")
    return "\n".join(lines) + "\n"


# --- the command ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cards", nargs="*", help="card ids (default: every runnable card)")
    parser.add_argument("--cap", type=int, default=CAP, help="mutants run per function")
    parser.add_argument("--jobs", type=int, default=2, help="checks at a time")
    parser.add_argument("--out", type=Path, default=Path("/tmp/mutants"))
    parser.add_argument("--list", action="store_true", help="count the mutants, run nothing")
    args = parser.parse_args(argv)
    content = load_content(content_dir())
    cards = [content.get(i) for i in args.cards] or sorted(
        content.cards.values(), key=lambda c: c.id
    )
    found = targets(cards, content)
    if args.list:
        for t in found:
            source = (content.solutions_dir / f"{t.module}.py").read_text(encoding="utf-8")
            made = make_mutants(source, t.function)
            print(f"{t.name}: {len(made)} mutants, {len(spread(made, args.cap))} run")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    warm_up(cards, content, "cpu", args.jobs)
    try:
        for done, target in enumerate(found, 1):
            run_target(target, content, args.out, args.cap, args.jobs)
            write_reports(found[:done], args.out, args.cap)
            counts = ", ".join(f"{n} {v}" for v, n in target.counts().items())
            failed = f" REFERENCE FAILED: {target.baseline}" if target.baseline else ""
            print(
                f"[{done}/{len(found)}] {target.name}: {target.generated} generated, "
                f"{counts} ({target.seconds:.1f} s){failed}",
                file=sys.stderr,
                flush=True,
            )
    except KeyboardInterrupt:
        runner.kill_all()
        raise


if __name__ == "__main__":
    main()
