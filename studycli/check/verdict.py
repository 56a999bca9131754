"""Judging a card by its checks' outcomes: the card's result (`CardResult`), and `verdict`,
which folds the outcomes into one status and the message that says why, for the author to act
on: a correct answer rejected (where it went wrong), a wrong answer accepted or rejected for
another reason than its mistake (where it is written), a correct answer's check that prints
(where it first did) or takes longer than a learner's may. A card not filled in yet is "not
done" (`_unfinished`, `_not_done_result`). Where a traceback went through the solution modules,
and what a check's error says, is `outcome_reading`'s.

`plan` makes a card's jobs, `verify` runs them and asks this for each card's result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import output_tail
from .error_report import UNSAID_FAILURE
from .outcome_reading import (
    _TIMED_OUT,
    _defined_at,
    _error_fix,
    _import_failed,
    _innermost_solution_frame,
    _never_ended,
    _own_typo,
    _raised,
    _raised_at,
    _rejected_for_another_reason,
    _where,
)
from .plan import LEARNER_MARGIN
from .runner import Candidate, Job, Outcome, Status


@dataclass
class CardResult:
    """The verdict on one card: status pass, fail, error, timeout or busy (a check not
    judged, twice starved of CPU)."""

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


# A correct answer's check that takes longer than this is reported with the card's pass: the
# learner waits that long for every attempt (in `solve --watch`, at each save)
SLOW_CHECK = 2.0


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
    # in a fixed order (the wrong answers as listed), not as the checks happened to end: two
    # run side by side were said in either order
    for job, outcome in sorted(results, key=_said_order):
        name = _name(job.candidate, outcome)
        located = name + _defined_at(job)  # (a wrong answer or variant: where it is written)
        if outcome.status == Status.BUSY:  # (run twice, the second time alone: `verify`)
            problems.append((outcome.status, f"{located}: {outcome.message}"))
        elif job.candidate.expect_pass and outcome.status != "pass":
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
        elif _slower_than_learners(job, outcome, learner_timeout):
            problems.append(
                (
                    "fail",
                    f"{name}'s check took {outcome.alone:.1f} s, past the "
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
            if job.candidate.kind != "code":
                fix = (
                    "make the checker catch its mistake, or, if it is right after all, list "
                    "it in CORRECT_VARIANTS instead"
                )
            elif _only_raises(job.candidate):
                fix = (
                    "the starter only raises NotImplementedError: the checker returned before "
                    "it called the answer, or caught what the call raised (call it as "
                    "call(impl, what, ...), and let the failure through)"
                )
            elif job.candidate.written:
                fix = "the starter must not answer the card"
            else:
                fix = (
                    "the starter (the card's `starter:`, else the reference's signature and "
                    "docstring) must not answer the card"
                )
            problems.append(("fail", f"{located} should fail but the checker accepted it: {fix}"))
        elif reference_passes and _hung_undeclared(job.candidate, outcome):
            problems.append(("fail", f"{located} {_HUNG}{outcome.message}){_HUNG_FIX}"))
        elif reference_passes and _rejected_for_another_reason(job.candidate, outcome):
            at = _raised_at(job, outcome)  # (the line that raised, where the answer did)
            if _own_typo(outcome):
                why = f" (a NameError in the wrong answer is its own typo{at and f', at {at}'})"
            else:
                why = f" (raised at {at})" if at else _error_fix(job, outcome)
            problems.append(
                (
                    "fail",
                    f"{located} was rejected, but not for its mistake: its @fails_with expects "
                    f"{job.candidate.fails_with!r} in the checker's message, which was: "
                    f"{outcome.message}{why}",
                )
            )
    if problems:
        statuses = [status for status, _ in problems]
        result.status = next(
            s for s in (Status.ERROR, Status.TIMEOUT, Status.FAIL, Status.BUSY) if s in statuses
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


def _slower_than_learners(job: Job, outcome: Outcome, learner_timeout: float | None) -> bool:
    """Whether a correct answer's check took longer than a learner's may (`learner_timeout`)
    with a core of its own (`Outcome.alone`): its seconds are also a busy machine's, whose
    check that waited for a core most of 12 s failed the card as past a 10 s limit. Not one
    given time past its limit, starved of CPU (`Outcome.starved`), as a learner's would be
    given it too."""
    if not (job.candidate.expect_pass and learner_timeout) or outcome.starved:
        return False
    return outcome.alone > learner_timeout


def _hung_undeclared(candidate: Candidate, outcome: Outcome) -> bool:
    """Whether a wrong answer that declares no failure was stopped at its time limit: no
    rejection, as a declared one's is not (`_rejected_for_another_reason`), though only one
    declared is checked against its declaration."""
    return candidate.kind == "wrong" and candidate.fails_with is None and _never_ended(outcome)


_HUNG = "hung: its check did not finish, and was stopped ("
_HUNG_FIX = (
    ", which is no rejection: a wrong answer that does not finish proves nothing of the "
    "checker's cases; make it end with its mistake, or, if being too slow is its mistake, "
    f"declare it: put @fails_with({_TIMED_OUT!r}) on the line above its `def`"
)


def _only_raises(starter: Candidate) -> bool:
    """Whether the starter's function does nothing but raise NotImplementedError (as the
    scaffold's and the one made from the reference do): no checker that calls it and lets its
    failure through can accept it."""
    import ast

    from studycli.content.solution_code import raises_not_implemented

    try:
        tree = ast.parse(starter.code)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == starter.function:
            return raises_not_implemented(node)  # (with a message too, as a card's may)
    return False


def _printed_problem(job: Job, outcome: Outcome, lines: list[str], located: str) -> str:
    """What a correct answer's check that printed `lines` fails the card with: how many, the
    first, and where the first print is (`first_print._FirstWrite`); `located`: the answer's
    name, and for a variant where it is written."""
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
    correct = [  # (with a core of its own: see `_slower_than_learners`)
        (o.alone, _name(job.candidate, o)) for job, o in results if job.candidate.expect_pass
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
    cut = output_tail.NOT_SHOWN.match(lines[0])
    if cut is None or len(lines) == 1:
        return len(lines), f"first: {lines[0][:80]!r}"
    earlier = int(cut["count"].replace(",", "")) if cut["unit"] == "line" else 1
    return earlier + len(lines) - 1, f"the first shown: {lines[1][:80]!r}"


_WARNING = re.compile(r"^\S.*:\d+: \w*Warning: ")  # how `warnings` shows one: path:line: Kind: ...


def _said_order(found: tuple) -> tuple[int, int]:
    """Where a candidate's problem comes in the card's message: by kind (`_ORDER`), then as
    its module lists it (`Candidate.index`)."""
    candidate = found[0].candidate
    return _ORDER.get(candidate.kind, 2), candidate.index


def _name(candidate: Candidate, outcome: Outcome) -> str:
    if candidate.kind == "reference":
        return "the reference"
    if candidate.kind == "code":
        return f"the starter ({candidate.written})" if candidate.written else "the starter"
    kind = "wrong answer" if candidate.kind == "wrong" else "correct variant"
    return f"{kind} {outcome.label or candidate.name or f'#{candidate.index + 1}'}"


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


def _not_done_result(card_id: str, reasons: list[str]) -> CardResult:
    return CardResult(card_id, Status.NOT_DONE, 0.0, "not done yet: " + "; ".join(reasons))
