"""`studycli check`: prove each card's checker accepts the reference and rejects wrong answers.

For every card with a solution: the reference (and every listed correct variant) must pass
its checker; the starter and every listed wrong answer must fail it. Each of these runs as its
own isolated job (see `runner`), in parallel.
"""

from __future__ import annotations

import ast
import contextlib
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.content.scaffold import not_done, stubbed
from studycli.content.source import (
    ModuleInfo,
    checker_ref,
    code_without_docstrings,
    module_names,
    read_module,
    starter_for,
)
from studycli.errors import StudyError

from . import contain, durations
from .error_report import UNSAID_FAILURE
from .loading import IMPORT_FAILED
from .pool import cores, device_workers, lazy_modules, preload, ready, uses_torch
from .pool import warm_up as pool_warm_up
from .runner import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    Candidate,
    Job,
    Outcome,
    Status,
    clear_stop,
    kill_all,
    kill_jobs,
    run_job,
)


@dataclass
class CardResult:
    """The verdict on one card: status pass, fail, error or timeout."""

    card_id: str
    status: Status = Status.PASS
    seconds: float = 0.0
    message: str = ""

    def to_dict(self) -> dict:
        return {
            "id": self.card_id,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "message": self.message,
        }


def _not_run(stuck: Outcome) -> Outcome:
    """The outcome of a check not run because its solution module's top level ran out of
    another check's time (`stuck`): that one's message, which says where it was."""
    return replace(
        stuck,
        message=f"not run: in another check of this run, solutions/{stuck.loading}.py did not "
        f"finish loading ({stuck.message}): move what its top level runs into a function",
        seconds=0.0,
        output="",
    )


def checkable(cards: list[Card], content: Content) -> list[Card]:
    """The cards among `cards` that `check` reports on: the runnable ones, and any other that
    `studycli new` wrote and that is not filled in yet; once `lint` finds nothing wrong.

    Raises:
        StudyError: `lint` reports a problem in one of them (checking it would mislead), or
            another card file has the id of one of `cards`, whatever its kind.
    """
    from studycli.content.lint import lint

    chosen = [card for card in cards if card.runnable or not_done(card, content.solutions_dir)]
    ids = {card.id for card in chosen}
    asked = {card.id: card.path for card in cards}
    # and, of any card asked for, another file with its id (a duplicate id, which lint reports
    # whatever `only` says): which card the id means is not known, and a concept card's
    # "nothing to run" hid it, even where the file left out was a coding card's
    problems = [
        problem
        for problem in lint(content, only=ids)
        if problem.card_id in ids
        or (problem.card_id in asked and problem.path != asked[problem.card_id])
    ]
    if problems:  # each with its file and line, as lint says it: no second command to learn it
        bad = sorted({problem.card_id for problem in problems if problem.card_id})
        listed = "".join(
            f"\n  {problem.location(content.root)}: {problem.message}"
            for problem in problems[:LISTED_PROBLEMS]
        )
        if len(problems) > LISTED_PROBLEMS:
            listed += f"\n  and {len(problems) - LISTED_PROBLEMS} more (`studycli lint` lists all)"
        raise StudyError(
            f"fix what `studycli lint` reports first (cards: {', '.join(bad)}):{listed}"
        )
    return chosen


LISTED_PROBLEMS = 10  # of the lint problems that stop a check, the most it lists


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
    candidates = [*_candidates(card, info), Candidate("code", card.solution.function, code=starter)]
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
# A correct answer's check that takes longer than this is reported with the card's pass: the
# learner waits that long for every attempt (in `solve --watch`, at each save)
SLOW_CHECK = 2.0


def _candidates(card: Card, info: ModuleInfo) -> list[Candidate]:
    """The answers that verify `card` but its starter: reference, variants, wrong answers."""
    assert card.solution is not None
    function, module = card.solution.function, card.solution.module
    candidates = [Candidate("reference", function, module)]
    for kind, table in TABLES.items():
        entries = info.table_entries(table, function)
        declared = info.expected_failures(table, function) if kind == "wrong" else []
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
    """What the check of each of `candidates` imports on first use (`pool.lazy_modules`):
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
            entries = info.table_entries(TABLES[candidate.kind], candidate.function)
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
    return device if checker.uses_device(check.function) else "cpu"


def verdict(
    card_id: str, results: list[tuple[Job, Outcome]], learner_timeout: float | None = None
) -> CardResult:
    """Fold a card's job outcomes into one status and the message that explains it.
    `learner_timeout`: the seconds a learner's check may run (their settings' default); a
    correct answer whose check takes longer fails the card: no learner could pass it."""
    result = CardResult(card_id)
    result.seconds = sum(outcome.seconds for _, outcome in results)
    broken = sorted({o.message for _, o in results if o.status == "error" and _import_failed(o)})
    if broken:  # every check of the card met it: said once, not once per candidate
        result.status = Status.ERROR
        result.message = "; ".join(broken) + " (the card's checks could not run)"
        return result
    problems: list[tuple[str, str]] = []
    # a reference that does not pass (a checker that hangs or raises, say) is the cause to
    # read first, and the wrong answers' rejections then say nothing of their mistakes
    reference_passes = all(
        o.status == "pass" for job, o in results if job.candidate.kind == "reference"
    )
    for job, outcome in sorted(results, key=lambda found: _ORDER.get(found[0].candidate.kind, 2)):
        name = _name(job.candidate, outcome)
        located = name + _defined_at(job)  # (a wrong answer or variant: where it is written)
        if job.candidate.expect_pass and outcome.status != "pass":
            # where it went wrong: an error's line, or where the answer raised (its own line
            # in the solution module, not the checker's `call` of it); else the checker's line
            # that rejected it
            if outcome.status == "fail" and _raised(outcome):
                where = _where(outcome, job.solutions_dir, checker=job.check_function)
            else:
                where = _where(outcome, job.solutions_dir)
            if outcome.message.startswith(UNSAID_FAILURE):  # nothing else says what it is
                where += _UNSAID_FIX
            capped = learner_timeout and job.timeout == learner_timeout + LEARNER_MARGIN
            if outcome.status == "timeout" and capped:  # (stopped by `_limit`)
                where += f"; a learner's check may run {learner_timeout:g} s"
            problems.append(
                (
                    outcome.status,
                    f"{located} should pass but got {outcome.status}: {outcome.message}{where}",
                )
            )
        elif job.candidate.expect_pass and learner_timeout and outcome.seconds > learner_timeout:
            problems.append(
                (
                    "fail",
                    f"{name}'s check took {outcome.seconds:.1f} s, past the "
                    f"{learner_timeout:g} s a learner's check may run (`check_timeout`): a "
                    "learner's right answer would time out; make the checker's cases fewer "
                    "or smaller",
                )
            )
        elif job.candidate.expect_pass and (lines := _printed(outcome.output)):
            # a correct variant's too: a learner whose answer is that one reads its lines
            # as their own output (a wrong answer's are not counted: it fails anyway)
            problems.append(("fail", _printed_problem(job, outcome, lines, located)))
        elif not job.candidate.expect_pass and outcome.status == "pass":
            fix = (
                "the starter (the card's `starter:`, else the reference's signature and "
                "docstring) must not answer the card"
                if job.candidate.kind == "code"
                else "make the checker catch its mistake, or, if it is right after all, list "
                "it in CORRECT_VARIANTS instead"
            )
            problems.append(("fail", f"{located} should fail but the checker accepted it: {fix}"))
        elif reference_passes and _rejected_for_another_reason(job.candidate, outcome):
            problems.append(
                (
                    "fail",
                    f"{located} was rejected, but not for its mistake: its @fails_with expects "
                    f"{job.candidate.fails_with!r} in the checker's message, which was: "
                    f"{outcome.message}"
                    + (
                        " (a NameError in the wrong answer is its own typo)"
                        if _own_typo(outcome)
                        else ""
                    ),
                )
            )
    if problems:
        statuses = [status for status, _ in problems]
        result.status = next(
            s for s in (Status.ERROR, Status.TIMEOUT, Status.FAIL) if s in statuses
        )
        result.message = "; ".join(message for _, message in problems)
    else:
        kinds = [job.candidate.kind for job, _ in results]
        variants = kinds.count("variant")
        accepted = (
            f"reference and {variants} correct variant(s) pass" if variants else "reference passes"
        )
        result.message = f"{accepted}; starter and {kinds.count('wrong')} wrong answer(s) rejected"
        result.message += _slow(results)
    return result


def _printed_problem(job: Job, outcome: Outcome, lines: list[str], located: str) -> str:
    """What a correct answer's check that printed `lines` fails the card with: how many, the
    first, and where the first print is (`child._FirstWrite`); `located`: the answer's name,
    and for a variant where it is written."""
    count, first = _count_printed(lines)
    if site := _innermost_solution_frame(outcome.printed_at, job.solutions_dir):
        first += f"; its first print at {site}"
    reference = job.candidate.kind == "reference"
    whose = "the reference's check" if reference else f"the check of {located}"
    return (
        f"{whose} printed {count:,} line(s) ({first}): a learner sees whatever a check prints "
        "as their own answer's output; remove the prints of the checker, and of the "
        f"{'reference' if reference else 'correct variant'} (its output is in the check's too)"
    )


_UNSAID_FIX = (
    ": an AssertionError with no message (a bare `assert`?), and a learner who fails it reads "
    "no more than that: use expect, assert_close or assert_equal from studycli.assertions, "
    "which name the input, the expected and the actual value"
)
_ORDER = {"reference": 0, "variant": 1, "code": 2, "wrong": 3}  # problems said in this order


def _slow(results: list[tuple[Job, Outcome]]) -> str:
    """A note on the slowest correct answer's check when it is over `SLOW_CHECK`: a pass, but
    one the author should hear of (its checker's cases are too many or too large)."""
    correct = [
        (o.seconds, _name(job.candidate, o)) for job, o in results if job.candidate.expect_pass
    ]
    seconds, name = max(correct, default=(0.0, ""))
    if seconds <= SLOW_CHECK:
        return ""
    return (
        f"; slow: {name}'s check took {seconds:.1f} s, which a learner waits for every attempt "
        f"(keep it under {SLOW_CHECK:.0f} s: fewer or smaller cases)"
    )


def _printed(output: str) -> list[str]:
    """The lines a check's `output` holds but Python's warnings (a library's, which depend on
    its version and the device: torch's autograd warns on CUDA only, on some versions)."""
    lines: list[str] = []
    in_warning = False
    for line in output.strip().splitlines():
        if _WARNING.match(line):
            in_warning = True  # and its source line after it, indented
        elif not (in_warning and line.startswith(" ")):
            in_warning = False
            lines.append(line)
    return lines


def _count_printed(lines: list[str]) -> tuple[int, str]:
    """How many lines a check printed, and its first line to show: the output kept is the
    tail, after a line saying how many came before ("… 999,867 earlier lines not shown"),
    which is neither a line printed nor one to show as the first."""
    cut = contain.NOT_SHOWN.match(lines[0])
    if cut is None or len(lines) == 1:
        return len(lines), f"first: {lines[0][:80]!r}"
    earlier = int(cut["count"].replace(",", "")) if cut["unit"] == "line" else 1
    return earlier + len(lines) - 1, f"the first shown: {lines[1][:80]!r}"


_WARNING = re.compile(r"^\S.*:\d+: \w*Warning: ")  # how `warnings` shows one: path:line: Kind: ...


def _where(outcome: Outcome, solutions_dir: str, checker: str | None = None) -> str:
    """ " (at solutions/m.py:12, in f)": the last line of the solution modules that the error
    of a correct answer's check went through (a checker's own bug, said where it is). With
    `checker` (the checker's name, where the answer raised inside `call`): the last before the
    checker's first frame, the traceback holding the answer's own frames (the failure's
    cause) first."""
    found = _innermost_solution_frame(outcome.traceback, solutions_dir, checker)
    return f" (at {found})" if found else ""


def _innermost_solution_frame(
    traceback: str, solutions_dir: str, checker: str | None = None
) -> str:
    """ "solutions/m.py:12, in f": the last frame of `traceback` (its text) in a solution
    module, "" where none is; with `checker`, the last before the checker's first (see
    `_where`)."""
    folder = Path(solutions_dir).resolve()
    found = ""
    frames = list(_FRAME.finditer(traceback))
    ends = [i for i, match in enumerate(frames) if match["function"] == checker]
    if ends and ends[0] > 0:
        frames = frames[: ends[0]]
    for match in frames:
        path = Path(match["path"]).resolve()
        if path.is_relative_to(folder):
            shown = path.relative_to(folder.parent).as_posix()
            found = f"{shown}:{match['line']}, in {match['function']}"
    return found


def _defined_at(job: Job) -> str:
    """ " at solutions/m.py:40": where the wrong answer or variant `job` checks is written, its
    path as `_where` says one (an author told of a wrong answer the checker accepts looks for it
    next: its name alone left them to search); "" for others."""
    if not job.candidate.line:
        return ""
    folder = Path(job.solutions_dir).resolve()
    shown = (folder / f"{job.candidate.module}.py").relative_to(folder.parent).as_posix()
    return f" at {shown}:{job.candidate.line}"


_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)')


def _raised(outcome: Outcome) -> bool:
    """Whether the check failed on the answer raising (`call`'s failure)."""
    from studycli.assertions import RAISED

    return RAISED in outcome.message


def _import_failed(outcome: Outcome) -> bool:
    """Whether the check met its solution module raising as it was imported."""
    return outcome.message.startswith(IMPORT_FAILED)


def _rejected_for_another_reason(candidate: Candidate, outcome: Outcome) -> bool:
    expected = candidate.fails_with
    if expected is None or outcome.status == "pass":
        return False
    # the message alone: with the status before it ("fail: ..."), @fails_with("fail") or
    # ("error") matched every rejection, a wrong answer's own NameError among them
    message, expected = outcome.message.lower(), expected.lower()
    if _own_typo(outcome) and "nameerror" not in expected and "unboundlocalerror" not in expected:
        return True  # (a declaration every message holds, the call's text, met it too)
    return expected not in message


def _own_typo(outcome: Outcome) -> bool:
    """Whether the answer's call raised a NameError (an UnboundLocalError is one): a typo in
    the wrong answer itself, which proves nothing of the checker."""
    from studycli.assertions import RAISED

    return any(f"{RAISED}{name}:" in outcome.message for name in _TYPOS)


_TYPOS = ("NameError", "UnboundLocalError")


def _name(candidate: Candidate, outcome: Outcome) -> str:
    if candidate.kind == "reference":
        return "the reference"
    if candidate.kind == "code":
        return "the starter"
    kind = "wrong answer" if candidate.kind == "wrong" else "correct variant"
    return f"{kind} {outcome.label or candidate.name or f'#{candidate.index + 1}'}"


def run_checks(
    cards: list[Card],
    content: Content,
    *,
    jobs: int = 2,
    device: str = "cpu",
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    on_job_done: Callable[[Job, Outcome], None] | None = None,
    times: Path | None = None,
    learner_timeout: float | None = None,
) -> list[CardResult]:
    """Verify every card, running up to `jobs` isolated checks at a time (`learner_timeout`:
    see `verdict`).

    A card that is not filled in yet (see `scaffold.not_done`) is reported "not done": without
    running anything while its code is a stub (`scaffold.stubbed`), else with how its checks
    went (its texts are what is left: the author wrote the code first). Returns one
    `CardResult` per card reported, in the order of `cards`.
    With `times` (a file, see `durations`), the checks that took longest last time start first
    and this run's times are recorded there.
    """
    unfinished = {
        card.id: reasons for card in cards if (reasons := not_done(card, content.solutions_dir))
    }
    stubs = {
        card.id for card in cards if card.id in unfinished and stubbed(card, content.solutions_dir)
    }
    threads = max(1, cores() // max(1, jobs))  # the cores, shared out
    planned = {
        card.id: [
            replace(job, threads=threads, timeout=_limit(job, learner_timeout))
            for job in plan(card, content, device=device, timeout=timeout, memory_mb=memory_mb)
        ]
        for card in cards
        if card.runnable and card.id not in stubs
    }
    warm_up(cards, content, device, jobs)
    collected: dict[str, list[tuple[Job, Outcome]]] = {card_id: [] for card_id in planned}
    # Checks on a GPU take turns on it in a few device workers, each busy on a core of its
    # own (launching kernels, waiting for them); the CPU's checks share out the other cores.
    on_device = device != "cpu" and any(
        job.device != "cpu" for card_jobs in planned.values() for job in card_jobs
    )
    held = device_workers(jobs) if on_device else 0
    pools = {"cpu": ThreadPoolExecutor(max_workers=max(1, jobs - held))}
    if on_device:
        pools[device] = ThreadPoolExecutor(max_workers=held)
    # The longest jobs first, so that none is left to run alone at the end.
    known = durations.load(times) if times is not None else {}
    # A card's reference starts no later than its longest check: once it fails, its other
    # checks stop (see `refused`); the wrong answers of a checker that hung for every answer
    # (timed at 0.002 s by the run before) ran their whole --timeout first.
    expected = {
        card_id: [durations.expected(job, known) for job in card_jobs]
        for card_id, card_jobs in planned.items()
    }
    queue = sorted(
        ((card_id, job) for card_id, card_jobs in planned.items() for job in card_jobs),
        key=lambda item: (
            -(max(expected[item[0]]) if item[1].candidate.kind == "reference"
              else durations.expected(item[1], known)),
            item[1].candidate.kind != "reference",
        ),
    )  # fmt: skip
    pickers = {  # a device's slots keep to their cards (see `Picker`)
        where: Picker(
            [item for item in queue if item[1].device == where], ready, sticky=where != "cpu"
        )
        for where in pools
    }
    last = threading.local()  # the card of the slot's last check
    # solution modules whose top level ran out of a check's time (a loop, a sleep): each of
    # their other checks waited out its own limit too, ~2 minutes a card for one bad line
    stuck: dict[str, Outcome] = {}
    # cards whose reference did not pass: they fail whatever their other checks do, which say
    # nothing then (`verdict`), so those are not run, or are stopped; a checker that hangs
    # held each wrong answer's check for the whole --timeout (60 s) after the reference's
    refused: set[str] = set()

    def run_next(picker: Picker) -> tuple[str, Job, Outcome]:
        card_id, job = picker.take(getattr(last, "card", None))
        last.card = card_id
        found = stuck.get(job.check_module) or stuck.get(job.candidate.module)
        if found is not None:
            return card_id, job, _not_run(found)
        if card_id in refused:
            return card_id, job, Outcome(Status.ERROR, f"not run: {_REFERENCE_FAILED}", 0.0)
        outcome = run_job(job)
        if outcome.status is Status.TIMEOUT and outcome.loading:
            stuck.setdefault(outcome.loading, outcome)
        if job.candidate.kind == "reference" and outcome.status is not Status.PASS:
            refused.add(card_id)
            theirs = {id(other) for other in planned[card_id]}
            kill_jobs(lambda other: id(other) in theirs, _REFERENCE_FAILED)
        return card_id, job, outcome

    try:
        futures = [pools[job.device].submit(run_next, pickers[job.device]) for _, job in queue]
        for future in as_completed(futures):
            card_id, job, outcome = future.result()
            if card_id not in refused or job.candidate.kind == "reference":
                collected[card_id].append((job, outcome))
            if on_job_done is not None:
                on_job_done(job, outcome)
    except KeyboardInterrupt:
        for pool in pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        kill_all()
        raise
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)
        clear_stop()  # every job has returned: a later run in this process starts afresh
    if times is not None:
        durations.save(times, known, [done for results in collected.values() for done in results])
    for card_id in refused:  # judged by the reference alone, whatever else ended before it
        collected[card_id] = [
            done for done in collected[card_id] if done[0].candidate.kind == "reference"
        ]
    return [
        _not_done_result(card.id, unfinished[card.id])
        if card.id in stubs or (card.id in unfinished and card.id not in planned)
        else _unfinished(verdict(card.id, collected[card.id], learner_timeout), unfinished)
        for card in cards
        if card.id in unfinished or card.id in planned
    ]


def _unfinished(result: CardResult, unfinished: dict[str, list[str]]) -> CardResult:
    """`result`, of a card whose checks ran, if it is done; else "not done", with how its
    checks went: a card whose texts still begin with TODO passes no `check` (nor CI), but its
    author, who wrote the code first, hears whether the code holds."""
    reasons = unfinished.get(result.card_id)
    if not reasons:
        return result
    ran = "its checks pass" if result.status is Status.PASS else f"its checks: {result.message}"
    return replace(
        result, status=Status.NOT_DONE, message=f"not done yet: {'; '.join(reasons)} ({ran})"
    )


# Seconds a free slot waits for a check whose worker is ready, while none is: torch's import
# takes 1-2 s (more from a cold disk); past this, it takes the first and waits for its worker.
PATIENCE = 10.0


class Picker:
    """Hands a free slot its next check: the first of `queue` (longest first) whose worker is
    ready (`is_ready`); while none is, it waits for one, up to `patience` seconds, then takes
    the first.

    A check whose worker is still starting would hold its slot while it waits: on the 16-core
    host, checks forking from the heavy zygote (torch._dynamo, scipy.optimize) held slots for
    1.6-3.3 s, for 0.2-0.44 s of work, while light checks waited; taking the light ones first
    made `check --jobs 16` 4.35 -> 3.77 s and 4.68 -> 4.01 s (medians of 6 and 8 interleaved
    runs). Waiting at the start lets the checks that do not use torch take every slot while
    torch's import goes on (`Job.torch`).

    With `sticky` (a device's checks), a slot takes its last card's next check while the card
    has one left, and keeps its worker (`pool._Pool`): a CUDA worker pays for a card's first
    check (its kernels loaded, its libraries' handles made) once. On the H200 host the device
    checks took 9.5 s in one worker, 17.2 s spread over 10 (the cards of many short checks
    4.8-5.5x: ssm, arcface, rope, clip_loss); keeping to the card made the CUDA run 4.43 ->
    4.23 s (medians of 6 interleaved runs, faster in 5)."""

    POLL = 0.005  # seconds between looks while no worker is ready

    def __init__(
        self,
        queue: list[tuple[str, Job]],
        is_ready: Callable[[Job], bool],
        patience: float | None = None,
        sticky: bool = False,
    ) -> None:
        self.queue, self.is_ready, self.sticky = queue, is_ready, sticky
        self.patience = PATIENCE if patience is None else patience
        self.lock = threading.Lock()

    def take(self, card: str | None = None) -> tuple[str, Job]:
        """The next check; when `sticky`, one of `card` (the slot's last card) if any is left
        and ready."""
        deadline = time.monotonic() + self.patience
        while True:
            with self.lock:
                found = self._first_ready(card if self.sticky else None)
                if found is not None or time.monotonic() >= deadline:
                    return self.queue.pop(found or 0)
            time.sleep(self.POLL)

    def _first_ready(self, card: str | None) -> int | None:
        """(With `self.lock` held.) Each kind of worker is asked once."""
        asked: dict[tuple, bool] = {}
        first = None
        for i, (card_id, job) in enumerate(self.queue):
            kind = (job.device, job.lazy, job.torch)
            if kind not in asked:
                asked[kind] = self.is_ready(job)
            if asked[kind]:
                if card is None or card_id == card:
                    return i
                first = i if first is None else first
        return first


# Seconds past a learner's limit a correct answer's check may run before it is stopped: it
# fails the card past the limit anyway (`verdict`), and a checker that hangs is then reported
# in seconds, not after the whole `--timeout` (60 s) for each of the card's correct answers.
# (The stop counts from the check's start, its module's import included; the limit from the
# checker's call: hence a margin of a few seconds.)
LEARNER_MARGIN = 5.0


def _limit(job: Job, learner_timeout: float | None) -> float:
    """The seconds `job` may run: a correct answer's, no longer than a learner's limit (and a
    margin) where one is given."""
    if learner_timeout and job.candidate.expect_pass:
        return min(job.timeout, learner_timeout + LEARNER_MARGIN)
    return job.timeout


_REFERENCE_FAILED = "the card's reference did not pass its checker"


def _not_done_result(card_id: str, reasons: list[str]) -> CardResult:
    return CardResult(card_id, Status.NOT_DONE, 0.0, "not done yet: " + "; ".join(reasons))


def warm_up(cards: list[Card], content: Content, device: str = "cpu", jobs: int = 1) -> None:
    """Start the checks' workers in the background, with the solution modules of `cards`
    loaded and what their checkers import on first use (see `pool.lazy_modules`) imported,
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


def count_jobs(cards: list[Card], content: Content) -> int:
    return sum(
        len(plan(card, content))
        for card in cards
        if card.runnable and not stubbed(card, content.solutions_dir)
    )
