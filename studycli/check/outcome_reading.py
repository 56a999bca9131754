"""Reading a check's outcome for `verdict`: where its traceback went through the solution
modules (`_where`, `_innermost_solution_frame`, `_solution_frames`), where a wrong answer or
variant is written (`_defined_at`), where its answer raised (`_raised_at`), and what its
error says (`_raised`, `_import_failed`, `_own_typo`, `_rejected_for_another_reason`,
`_error_fix`).
"""

from __future__ import annotations

import re
from pathlib import Path

from .loading import IMPORT_FAILED
from .runner import Candidate, Job, Outcome, Status


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
    frames = list(_FRAME.finditer(traceback))
    ends = [i for i, match in enumerate(frames) if match["function"] == checker]
    if ends and ends[0] > 0:
        frames = frames[: ends[0]]
    found = _solution_frames(frames, solutions_dir)
    return found[-1][0] if found else ""


def _solution_frames(frames: list[re.Match], solutions_dir: str) -> list[tuple[str, str]]:
    """Of a traceback's `frames` (`_FRAME`'s matches), those in a solution module, outermost
    first: each as "solutions/m.py:12, in f", and its function's name."""
    folder = Path(solutions_dir).resolve()
    found = []
    for match in frames:
        path = Path(match["path"]).resolve()
        if path.is_relative_to(folder):
            shown = path.relative_to(folder.parent).as_posix()
            found.append((f"{shown}:{match['line']}, in {match['function']}", match["function"]))
    return found


def _error_fix(job: Job, outcome: Outcome) -> str:
    """Where a wrong answer's check ended in an error, not a failure, and what to do: the
    answer raised and its checker, which called it without `call`, let that through; or the
    checker broke on what the answer returned. Either way a learner who makes this mistake
    reads a bare error that names no input, and the author read only "which was:
    ZeroDivisionError: division by zero", with no line to look at."""
    if _never_ended(outcome):
        return (
            " (a wrong answer that does not finish proves nothing of the checker's cases: make "
            f"it end with its mistake, or, if being too slow is the mistake, declare "
            f"{_TIMED_OUT!r})"
        )
    if outcome.status != Status.ERROR:
        return ""
    frames = _solution_frames(list(_FRAME.finditer(outcome.traceback)), job.solutions_dir)
    if not frames:
        return ""
    functions = [function for _, function in frames]
    if job.candidate.name in functions:
        answer = functions.index(job.candidate.name)
        through = f" at {frames[answer - 1][0]}" if answer > 0 else ""
        return (
            f" (an error, not a failure: the wrong answer raised it at {frames[-1][0]}, and "
            f"the checker let it through{through}: call the answer through call(impl, what, "
            "...) from studycli.assertions, which makes what it raises a failure that names "
            "the input)"
        )
    return (
        f" (an error of the checker at {frames[-1][0]}, not a failure: a learner who makes "
        "this mistake reads this error, and not the input it failed on: test what the answer "
        "returned with expect, assert_equal or assert_close before using it)"
    )


def _raised_at(job: Job, outcome: Outcome) -> str:
    """ "solutions/m.py:12, in f": where the answer of a check that failed on its raising
    (`call`'s failure) raised, its innermost line in the solution modules; "" for another
    outcome. A wrong answer rejected for it named its `def` and the exception alone."""
    if outcome.status != Status.FAIL or not _raised(outcome):
        return ""
    return _innermost_solution_frame(outcome.traceback, job.solutions_dir, job.check_function)


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
    if _never_ended(outcome) and _TIMED_OUT not in expected:
        return True  # (so did the timeout's message, which names the call too)
    return expected not in message


def _never_ended(outcome: Outcome) -> bool:
    """Whether the check was stopped at its time limit (`child`'s message): a wrong answer
    that never ends proves nothing of the checker's cases, unless being too slow is the
    mistake it declares (`_TIMED_OUT`)."""
    return outcome.status == Status.TIMEOUT


_TIMED_OUT = "did not finish"  # (in child.py's message of a check stopped at its limit)


def _own_typo(outcome: Outcome) -> bool:
    """Whether the answer's call raised a NameError (an UnboundLocalError is one): a typo in
    the wrong answer itself, which proves nothing of the checker."""
    from studycli.assertions import RAISED

    return any(f"{RAISED}{name}:" in outcome.message for name in _TYPOS)


_TYPOS = ("NameError", "UnboundLocalError")
