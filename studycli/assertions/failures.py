"""What a failed check raises, and what it says of an exception the answer raised: `CheckFailure`
(a checker's verdict), `OutOfTime`, `fails_with` (the failure a wrong answer must get),
`message_of` and `answers_message`."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

RAISED = ": raised "  # between a call and the exception it raised, in `call`'s failures
# Before the message of an `assert` of the answer's own that failed (in `call`'s failures, and
# the runner's where a checker called the answer without `call`): the words after it are the
# learner's, never a checker's verdict, whatever they say ("expected 3, got 4").
ANSWERS_ASSERT = "an assert in the answer failed"


def fails_with(expected: str) -> Callable[[Callable], Callable]:
    """Declare, on a wrong answer, the failure the checker must give it: a substring of the
    checker's message (or of the status line, such as "did not finish").

    `studycli check` reports a wrong answer that was rejected for another reason, so that each
    listed mistake proves the rule it stands for:

        @fails_with("missing exp(m_old - m_new) rescale")
        def _wrong_no_rescale(x, block_size): ...
    """

    def mark(function: Callable) -> Callable:
        function.fails_with = expected  # type: ignore[attr-defined]
        return function

    return mark


def message_of(exc: BaseException) -> str:
    """`str(exc)`, or a note where the answer's exception cannot say it (its __str__ raises:
    a check died without a report, and looked like a call to os._exit)."""
    try:
        return str(exc)
    except Exception:
        return f"{type(exc).__name__} (its message could not be read)"


def answers_message(exc: BaseException) -> str:
    """`message_of` an exception the answer raised, cut at MESSAGE_SHOWN characters or
    MESSAGE_LINES lines, saying how much more it had: an attempt's 10 MB message filled the failure panel with 263 lines
    of it (the 20,000 characters a report keeps, cut with nothing said), the call and the
    traceback scrolled out of sight; 2000 line feeds made 2000 lines (so: MESSAGE_LINES)."""
    said = message_of(exc)
    if not said and type(exc).__module__ == "bdb":  # (BdbQuit, which says nothing)
        return STOPPED_AT_A_BREAKPOINT
    lines = said[:MESSAGE_SHOWN].split("\n")
    kept = "\n".join(lines[:MESSAGE_LINES])
    if len(kept) == len(said):
        return said
    return f"{kept} … {len(said) - len(kept):,} more characters not shown"


# What a breakpoint() (or pdb.set_trace()) left in an answer comes to in a check: the debugger
# reads the end of the check's input at its prompt and quits, and its BdbQuit said nothing
# ("add_one(-3): raised BdbQuit: ")
STOPPED_AT_A_BREAKPOINT = (
    "a breakpoint() (or pdb.set_trace()) stopped the answer, and a check gives the debugger "
    "no terminal: it read the end of its input and quit. Take it out, or step through the "
    "function in a Python session of your own"
)
MESSAGE_SHOWN = 2000  # characters of an answer's exception's message kept (output: 2000 bytes)
MESSAGE_LINES = 40  # its lines kept


class OutOfTime(BaseException):
    """Raised in a check that nears its time limit (a timer of its own, see `child._child`),
    so that its report names the call it was in, and the learner's line, where a kill at the
    limit said only that it did not finish. A BaseException: an answer's `except Exception`
    does not swallow it."""

    def __init__(self) -> None:
        super().__init__()
        self.what: str | None = None


class CheckFailure(AssertionError):
    """A checker's verdict on the answer (what `_fail`, `call` and `forbid` raise), where a
    plain AssertionError out of the learner's function is an `assert` of its own."""


def _fail(what: str, message: str, hint: str) -> NoReturn:
    text = f"{what}: {message}"
    if hint:
        text += f"\n  hint: {hint}"
    raise CheckFailure(text)
