"""The child side of a check: what runs in the check's own process (or, on CUDA, in the device
worker that runs it).

`_child` loads the checker and the candidate (`loading`), caps the check's memory and threads
(`child_limits`), arms its own timer a little before the time limit (`timer`), runs the
checker, notes where a correct answer's check first writes (`first_print`), and sends back a
report: a failure's message, the learner's frames of its traceback, and what an error means in
words (`error_report`). The worker that forks it is `fork_server`'s (on CUDA, `device_worker`
runs it); the parent that waits for its report is `runner`; what a check that died before
reporting says is `crash_report`'s.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any, cast

from . import contain, output_aside, output_tail, starvation, timer
from .child_limits import _limit_memory, _set_threads, memory_cap_mb
from .error_report import (
    UNSAID_FAILURE,
    _answers_own_assert,
    _describe_error,
    _over_process_cap,
    _returned_message,
    _trimmed_traceback,
    _undescribed,
    _with_file_cap,
    _with_memory_note,
)
from .first_print import _noting_first_write
from .limits import MESSAGE_LIMIT, OUTPUT_LIMIT
from .loading import MODULE_KINDS, _load_solution, _resolve, never_called
from .own_writes import noting_own_writes
from .starvation import busy_message
from .timer import _stop_before

if TYPE_CHECKING:
    from .runner import Job


def _timeout_message(limit: float, what: str | None = None, running: int | None = 0) -> str:
    """What a check stopped at its time `limit` says (in `what`, the call it was in), with the
    processes it started that still ran (`running`, `contain.left_running`): a fork bomb that
    had not reached the process cap by then (a busy machine's) read "an infinite loop"."""
    stuck = f"{what}: " if what else ""
    if running:
        return (
            f"{stuck}did not finish in {limit:g} s, with {running:,} "
            f"process{'es' if running != 1 else ''} it started still running: a loop that "
            "starts them (a fork bomb), or far too slow for the input sizes?"
        )
    return (
        f"{stuck}did not finish in {limit:g} s: an infinite loop, or far too slow for the "
        "input sizes?"
    )


def _child(job: Job, sender, output=None) -> None:
    """Run `job` here and send its result through `sender`.

    With `output` (the write end of a pipe) this process becomes a contained check (see
    `contain.enter`): a child of its own, its output from Python or C going into the pipe.
    Without, it is a device worker running checks one after another: what is written to fds
    1 and 2 and Python's streams is read as it runs, its tail into the result
    (`output_aside.into`).
    """
    if output is not None:
        contain.enter(output, sender.fileno(), job.processes, job.file_size_mb)
        _stop_before(job.timeout)  # (a contained check alone: a device worker runs many)
    capped = memory_cap_mb(job)
    _limit_memory(capped)
    _set_threads(job.threads, capped)
    checking = os.getpid()  # the one process whose outcome is the check's (see the end)
    tail = output_tail.OutputTail(OUTPUT_LIMIT)  # (a device worker's: see the docstring)
    started = time.monotonic()
    times = None  # (the checker's thread's, as it was called: `Outcome.waited`)
    label = loading = ""
    printed: dict[str, str] = {}  # (a correct answer's: where it first wrote, `_FirstWrite`)
    try:
        try:
            with contextlib.ExitStack() as stack:
                if output is None:  # (a forked check's fds 1 and 2 are its output pipe)
                    stack.enter_context(output_aside.into(tail))
                if job.candidate.expect_pass:
                    stack.enter_context(_noting_first_write(job.solutions_dir, printed))
                if job.own_writes and job.candidate.path:
                    stack.enter_context(noting_own_writes(job.candidate.path, job.own_writes))
                loading = job.check_module
                checker = getattr(
                    _load_solution(job.solutions_dir, job.check_module), job.check_function
                )
                loading = job.candidate.module if job.candidate.kind in MODULE_KINDS else ""
                impl, label = _resolve(job)
                loading = ""
                started, times = time.monotonic(), starvation.thread_usage()
                returned = checker(impl, device=job.device)
        finally:
            _stop_before(None)
        result: dict[str, Any] = (
            {"status": "pass", "message": "passed"}
            if returned is None
            else {"status": "error", "message": _returned_message(returned, job)}
        )
    except BaseException as exc:
        result = _described(exc, job, loading)
        if never_called(exc):  # (the answer was never called: `Outcome.missing`)
            result["missing"] = job.candidate.function
    # A check its timer stopped took its limit, as one killed at the limit does (`runner._wait`):
    # the timer stops it `timer.STOP_AHEAD` early, only so that it can say where it was, and
    # the results' seconds read 14.71 beside "did not finish in 15 s".
    timed_out = result["status"] == "timeout"
    result.update(
        seconds=job.timeout if timed_out else time.monotonic() - started,
        waited=round(starvation.waited_since(times), 4),
        label=label,
        message=result["message"][:MESSAGE_LIMIT],
    )
    if printed:
        result["printed_at"] = printed["at"]
    if output is None:
        result["output"] = tail.text()
    contain.flush_output()
    if os.getpid() != checking:
        # a copy the answer forked that got here (returned, or raised) instead of exiting:
        # its outcome is not the check's, which the answer's own process reports (a child
        # running the reference while its parent returned a wrong answer passed the check)
        os._exit(0)
    if output is not None and not contain.kept_intact():
        os._exit(REPORT_LOST)  # (what `crash_report._crash_message` says of it)
    try:
        sender.send(result)
    finally:
        sender.close()


def _described(exc: BaseException, job: Job, loading: str) -> dict[str, Any]:
    """The report of a check that raised `exc` (`loading`: the module that was loading).

    Where describing it raises in turn (an exception class of the code's own whose
    __cause__, __traceback__ or __class__ raises when read), a checker's failure says its
    message alone (`call` made it of the answer's exception, which it names), and any other
    exception that it could not be described: the check died without a report, and read
    "exited with status 1 before reporting (a call to os._exit()?)"."""
    from studycli.assertions import message_of

    try:
        return _with_file_cap(_describing(exc, job, loading), exc, job)
    except BaseException as broken:  # (the timer is off: no OutOfTime of its own comes here)
        try:
            if issubclass(type(exc), AssertionError) and (said := message_of(exc)):
                return {"status": "fail", "message": said}
        except BaseException:
            pass
        return {"status": "error", "message": _undescribed(exc, broken)}


def _describing(exc: BaseException, job: Job, loading: str) -> dict[str, Any]:
    from studycli.assertions import OutOfTime, message_of

    kind = type(exc)  # (not isinstance, which reads __class__ too)
    if issubclass(kind, OutOfTime) and timer._STOP_FIRED and timer._STARVED is not None:
        return {"status": "busy", "message": busy_message(job.timeout, *timer._STARVED)}
    if issubclass(kind, OutOfTime):
        return {
            "status": "timeout" if timer._STOP_FIRED else "error",
            "message": _timeout_message(
                job.timeout, getattr(exc, "what", None), contain.left_running()
            )
            if timer._STOP_FIRED
            else _describe_error(exc, job, timer._ALARMED_AFTER),
            "traceback": _trimmed_traceback(exc, job),
            "loading": loading if timer._STOP_FIRED else "",
        }
    if issubclass(kind, AssertionError):
        refused = _over_process_cap(exc, job)  # (under `call`: a failure it raised from it)
        said = _answers_own_assert(cast(AssertionError, exc), job) or message_of(exc)
        said = said or UNSAID_FAILURE
        return {
            "status": "error" if refused else "fail",
            "message": refused or _with_memory_note(said, exc, job),
            "traceback": _trimmed_traceback(exc, job),
        }
    if issubclass(kind, MemoryError):
        capped = memory_cap_mb(job)
        return {
            "status": "error",
            "message": "ran out of memory" + (f" (limit {capped} MB)" if capped else ""),
        }
    return {
        "status": "error",
        "message": _describe_error(exc, job),
        "traceback": _trimmed_traceback(exc, job),
    }


# The status a contained check exits with where the code checked closed or replaced the
# descriptor of its report's pipe (`contain.kept_intact`), so that it could not report: it
# said "exited with status 1 before reporting (a call to os._exit()?)" (0 where the report
# went into another file), and the learner looked for an exit in their code. (One an answer
# is unlikely to pass to os._exit itself.)
REPORT_LOST = 117
