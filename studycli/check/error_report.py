"""What a check's report says of how it ended, other than passing (`child` sends it): an
error in words (`_describe_error` and its helpers: an exit, a Ctrl-C or an OutOfTime the code
raised itself, a process or thread refused by the cap, memory run out, a file written past its
cap, a checker that returned a value, the answer's own assert), and the frames of its
traceback that are the code checked's (`_trimmed_traceback`, `_own_frames`). What a check that
died before reporting says is `crash_report`'s.
"""

from __future__ import annotations

import errno
import re
import reprlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import child_limits, contain
from .loading import SolutionImportError
from .map_count import limit_met

if TYPE_CHECKING:
    from .runner import Job


def _returned_message(returned: object, job: Job) -> str:
    """A checker that returned a value: `check` reads none, so a checker written to return
    False for a wrong answer accepted every answer, and check said only "the checker accepted
    it", with no word of why."""
    # (its repr is the author's code, run outside the check's time limit)
    return (
        f"the checker {job.check_function} returned {_plainly(returned)}, and a checker's return value is "
        "not read: it rejects an answer by raising (assert_equal or expect from "
        "studycli.assertions, or an AssertionError) and returns nothing; fix "
        f"solutions/{job.check_module}.py"
    )


def _plainly(value: object) -> str:
    """`value` cut short where it is a plain value, else named by its type: another object's
    repr is the code's own, which may raise, hang or run to megabytes."""
    plain = (bool, int, float, str, bytes, tuple, list, dict, type(None))
    if type(value) in plain:
        try:
            return reprlib.repr(value)
        except ValueError:  # an int past Python's 4300 digits (sys.get_int_max_str_digits)
            return "an int too long to show" if type(value) is int else "a value too long to show"
    return f"a {_type_name(value)}"


def _answers_own_assert(exc: AssertionError, job: Job) -> str | None:
    """What a check says of an `assert` of the learner's that failed in their file (where it
    was raised, the innermost frame) and reached the runner as it was (its checker called the
    answer without `call`, which says so itself): the answer's own assert failing, and its
    line. Its message alone read as the checker's verdict, and "expected 3, got 4" in it was
    shown as what the checker expected. None for any other AssertionError: a checker's."""
    from studycli.assertions import ANSWERS_ASSERT, CheckFailure, answers_message

    if isinstance(exc, CheckFailure) or job.candidate.kind not in ("file", "code"):
        return None
    raised = _innermost(exc.__traceback__)
    if raised is None or raised.tb_frame.f_code.co_filename != (job.candidate.path or "<starter>"):
        return None
    said = answers_message(exc)
    return f"{ANSWERS_ASSERT}{_where(exc, job)}" + (f": {said}" if said else "")


def _innermost(tb: Any) -> Any:
    """The last entry of traceback `tb`, where its exception was raised (None for None)."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _describe_error(exc: BaseException, job: Job, alarmed: float | None = None) -> str:
    """(`alarmed`: seconds into the check of a SIGALRM of the code's own, which raised `exc`,
    an OutOfTime: see `timer._stop_before`.)"""
    from studycli.assertions import OutOfTime, answers_message

    if isinstance(exc, SolutionImportError):
        return str(exc)
    if isinstance(exc, SystemExit):
        # (sys.exit("x" * 10_000_000) filled the panel; a code whose repr raised was said
        # to be an exception class of the code's own that could not be described)
        return f"the code called exit ({_plainly(exc.code)}) instead of returning a value"
    if isinstance(exc, KeyboardInterrupt):
        return _interrupted_itself(exc, job)
    if isinstance(exc, OutOfTime) and alarmed is not None:
        who = "your attempt" if job.candidate.kind == "file" else "the code"
        return (
            f"{who} set off SIGALRM {alarmed:.1f} s into the check{_where(exc, job)}, "
            f"before its time limit ({job.timeout:g} s): signal.alarm, signal.setitimer or a "
            "SIGALRM sent to itself? The check's timer uses that signal: an answer must not"
        )
    if isinstance(exc, OutOfTime):  # (one the check's own timer raised is a timeout)
        return _raised_itself(
            exc, job, "the check's own signal that its time ran out: an answer must not raise it"
        )
    if (refused := _over_process_cap(exc, job)) is not None:
        return refused
    text = f"{type(exc).__name__}: {answers_message(exc)}"
    if _allocator_failed(text):
        capped = child_limits.memory_cap_mb(job)
        limit = f" (limit {capped} MB)" if capped else ""
        return f"ran out of memory{limit}: {text.splitlines()[0]}"
    return text


def _undescribed(exc: BaseException, broken: BaseException) -> str:
    """What a check says of an exception `exc` whose description raised `broken` in turn."""
    return (
        f"the code raised {_type_name(exc)}, which could not be described: reading it raised "
        f"{_type_name(broken)} in turn (an exception class of its own whose __cause__, "
        "__traceback__ or __class__ raises?)"
    )


def _type_name(value: object) -> str:
    """The name of `value`'s class, or "an exception" where even that cannot be read (a
    metaclass of the code's own)."""
    try:
        name = type(value).__name__
    except BaseException:
        return "an exception"
    return name if type(name) is str else "an exception"


def _allocator_failed(text: str) -> bool:
    """Whether an error's text is torch's allocator failing for want of memory."""
    return "can't allocate memory" in text or "DefaultCPUAllocator" in text


def _with_memory_note(message: str, exc: BaseException, job: Job) -> str:
    """The failure `message`, with the check's memory limit where `exc` came from running out
    of it: `call` makes the answer's MemoryError a failure that said only "raised MemoryError:
    ", no word of the limit (a reference over it read as a bug of its own)."""
    if not _out_of_memory(exc):
        return message
    note = _memory_note(job)
    # on the failing case's line, the first: a hint (`hinted`) follows it on lines of its own
    case, newline, rest = message.partition("\n")
    stripped = case.rstrip()
    case = f"{stripped} {note}" if stripped.endswith(":") else f"{stripped} ({note})"
    return case + newline + rest


def _memory_note(job: Job) -> str:
    """What a check that ran out of memory says of it: the limit it met, the check's memory
    cap, or the system's on the mappings a process holds (`map_count`; "Cannot allocate
    memory" from 100,000 small mmaps, under a cap they were far from, read as the cap's)."""
    capped = child_limits.memory_cap_mb(job)
    memory = "ran out of memory" + (f" (the limit is {capped} MB)" if capped else "")
    return limit_met(memory, child_limits.SIZE_AT_CAP_KB)


def _out_of_memory(exc: BaseException) -> bool:
    """Whether the failure `exc` came from a MemoryError, an OSError of ENOMEM (mmap's: "[Errno
    12] Cannot allocate memory" said no word of the cap) or torch's allocator failing."""
    from studycli.assertions import message_of

    return any(
        isinstance(cause, MemoryError)
        or (isinstance(cause, OSError) and cause.errno == errno.ENOMEM)
        or _allocator_failed(message_of(cause))
        for cause in _causes(exc)
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """What `exc` was raised from, and what that was, and so on (a context too: `hinted` raises
    its failure from None, the answer's failure its context)."""
    seen: set[int] = set()
    cause: BaseException | None = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__


def _over_process_cap(exc: BaseException, job: Job) -> str | None:
    """What a check says whose code was refused a process or a thread by its cap on them
    (`contain`, RLIMIT_NPROC): a fork bomb, or a loop of Process(...).start(), Popen(...) or
    Thread(...).start(). It said "raised BlockingIOError: [Errno 11] Resource temporarily
    unavailable", and read as the answer's own mistake with that input. None where `exc` (or
    what it was raised from) is no such refusal, or no cap holds: the system's own limits
    refused it."""
    from studycli.assertions import message_of

    cap = contain.process_cap()
    if cap is None:
        return None
    for cause in (exc, *_causes(exc)):
        if (refused := _start_refused(cause)) is not None:
            break
    else:
        return None
    who = "your attempt" if job.candidate.kind == "file" else "the code"
    if refused == "process":
        what, limit = "processes than a check may", f"{cap}, threads included"
    else:  # each thread reserves address space (a stack, a pool of malloc's): 15 of them
        # filled a 1024 MB check, long before its cap of 256
        memory = f", within {job.memory_mb} MB of memory" if job.memory_mb else ""
        what, limit = "threads than a check can run", f"{cap} processes and threads{memory}"
    return (
        f"{who} started more {what} ({limit}){_where(exc, job)}: "
        f"{type(cause).__name__}: {message_of(cause)}"
    )


def _with_file_cap(described: dict[str, Any], exc: BaseException, job: Job) -> dict[str, Any]:
    """The report `described` of a check that ended in `exc`, said to have written a file past
    its cap where a write of its met the cap (`contain.file_cap_met`, or EFBIG in `exc`): the
    write failed with "[Errno 27] File too large" at best (numpy said "524288 requested and
    131072 written", torch "unexpected pos 704 vs 598"), and what the code did then (a retry,
    another error, a wrong answer, a loop to the time limit) hid why. What it said follows."""
    import errno

    cap = contain.file_cap()
    if cap is None:
        return described
    too_large = (cause for cause in (exc, *_causes(exc)) if isinstance(cause, OSError))
    if not contain.file_cap_met() and all(cause.errno != errno.EFBIG for cause in too_large):
        return described
    who = "your attempt" if job.candidate.kind == "file" else "the code"
    status = described["status"]
    where = _where(exc, job) if status != "timeout" else ""  # (not where the timer found it)
    return {
        **described,
        "status": "error" if status == "fail" else status,
        "message": past_file_cap(who, cap, where, described["message"]),
    }


def past_file_cap(who: str, cap: int, where: str, then: str) -> str:
    """What a check says whose code (`who`) wrote a file past the `cap` on a file's size (in
    bytes), `where` it was (", at line 6 (in f)", or nothing), and what came `then`."""
    size = f"{round(cap / 2**20, 1):g} MB"
    return (
        f"{who} wrote a file past {size}, the most a check may write to one file{where}: "
        f"a loop that never stops writing? Write less, or keep the data in memory. Then: {then}"
    )


def _start_refused(exc: BaseException) -> str | None:
    """Whether `exc` is the system refusing to start a process ("process": EAGAIN out of a call
    that forks or spawns, as `os.fork`, `multiprocessing` and `subprocess` do) or a thread
    ("thread"), or neither (None)."""
    import errno
    import linecache

    from studycli.assertions import message_of

    if isinstance(exc, RuntimeError) and message_of(exc) == "can't start new thread":
        return "thread"
    if not isinstance(exc, OSError) or exc.errno != errno.EAGAIN:
        return None
    # the call that raised it, the innermost frame's line (extract_tb(limit=-1) finds each
    # frame's columns on its way there: a second and a half under a deep recursion)
    tb = _innermost(exc.__traceback__)
    call = ""
    if tb is not None:
        code = tb.tb_frame.f_code
        call = linecache.getline(code.co_filename, tb.tb_lineno, tb.tb_frame.f_globals).lower()
    return "process" if "fork" in call or "spawn" in call else None


def _interrupted_itself(exc: KeyboardInterrupt, job: Job) -> str:
    """A KeyboardInterrupt in a check is the code's own (a `raise`, a SIGINT it sent itself),
    never a Ctrl-C: the check runs apart from the terminal (a session, or a worker's process
    group, of its own), and a Ctrl-C there stops the check in the command instead. Said
    bare, "KeyboardInterrupt:" read as if the learner had pressed it."""
    return _raised_itself(
        exc,
        job,
        "no Ctrl-C was pressed (a Ctrl-C stops the check, and is never its outcome)",
    )


def _raised_itself(exc: BaseException, job: Job, why: str) -> str:
    """What a check says of an exception that only the runner or the terminal should raise,
    raised by the code checked: where it was raised, and `why` it is no outcome of the kind
    it names."""
    who = "your attempt" if job.candidate.kind == "file" else "the code"
    return f"{who} raised {type(exc).__name__} itself{_where(exc, job)}: {why}"


def _where(exc: BaseException, job: Job) -> str:
    """Where `exc` came through the code checked, its innermost line (", at line 6 (in f)"), or
    nothing."""
    frames, _ = _own_frames(exc, job, keep=1)
    return f", at line {frames[-1].lineno} (in {frames[-1].name})" if frames else ""


# a failure whose AssertionError says nothing: a bare `assert` of the checker's, most likely
UNSAID_FAILURE = "the checker rejected the answer"


def _trimmed_traceback(exc: BaseException, job: Job) -> str:
    """The traceback frames in the learner's own code (or all frames for reference code)."""
    import traceback

    if isinstance(exc, SyntaxError) and exc.text:  # no frame in the file: Python's own lines,
        # the source line and a caret under the mistake (the message said only its line)
        shown = _caret_by_columns(traceback.format_exception_only(type(exc), exc)[:-1])
        return "".join(line[:TRACEBACK_LINE] + ("\n" if len(line) > TRACEBACK_LINE else "")
                       for line in shown)  # fmt: skip
    frames, count = _own_frames(exc, job)
    if not frames:
        return ""
    lines = "".join(traceback.format_list(frames)).splitlines()
    if count > len(frames):  # (a runaway recursion: how deep it went)
        left_out = count - len(frames)
        lines.insert(0, f"  [{left_out:,} earlier frame{'s' if left_out != 1 else ''} not shown]")
    # a source line can be megabytes (a literal of data): it was shown whole, and drawing it
    # took longer than the check
    return "".join(
        line if len(line) <= TRACEBACK_LINE else line[:TRACEBACK_LINE] + " ...\n"
        for line in (line + "\n" for line in lines)
    )


def _caret_by_columns(lines: list[str]) -> list[str]:
    """Python's lines of a syntax error with its caret under the mistake as a terminal shows
    the source line: Python counts characters, and a wide character (CJK: two columns) before
    the mistake put the caret that many columns short of it."""
    import unicodedata

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    for at in range(1, len(lines)):
        caret = lines[at].rstrip("\n")
        marks = caret.lstrip(" ")
        if not marks or marks.strip("^~") or not caret.startswith(" "):
            continue
        source, lead = lines[at - 1], len(caret) - len(marks)
        widened = " " * columns(source[:lead]) + "^" * columns(source[lead : lead + len(marks)])
        lines[at] = widened + "\n"
    return lines


# The files of what runs a check in its own process (child.py, before it was split), whose
# frames a reference's traceback leaves out: the check's `_child`, its caps (`child_limits`),
# its timer (`timer`: the handler that raises OutOfTime), the noting of its first print
# (`first_print`: a print the timer stops in is in its `write`), the loading of its modules
RUNNERS_FILES = re.compile(
    r"studycli/check/(child|child_limits|timer|first_print|loading|error_report)\.py"
)
FRAMES_SHOWN = 5  # the innermost frames of the code checked that a failure's traceback shows


def _own_frames(exc: BaseException, job: Job, keep: int = FRAMES_SHOWN) -> tuple[list[Any], int]:
    """The innermost `keep` frames of `exc`'s traceback (and its causes') in the code checked,
    innermost last, and how many such frames there were in all: the learner's file's alone;
    for reference code, all but the runner's (`RUNNERS_FILES`). (Their lines are not read yet.)

    Only the frames kept are summarised: a runaway recursion under a raised
    sys.setrecursionlimit left a million frames, and summarising each of them took longer than
    the recursion itself (1.6 s of a check's 3.4), after the check's timer was off, where a
    tighter limit could not stop it. Each exception of the chain once, as Python's own
    traceback takes it: one raised as its own cause (`raise error from error`) showed its
    frames over and over, and causes in a cycle that held no frame were walked until the
    check's kill (a timeout)."""
    import traceback
    from collections import deque

    own = job.candidate.path or "<starter>"
    learners = job.candidate.kind in ("file", "code")

    def checked(filename: str) -> bool:
        if learners:
            return filename == own
        return RUNNERS_FILES.search(filename.replace("\\", "/")) is None

    chain: list[deque] = []  # each exception's innermost frames checked, the outermost first
    count = walked = 0
    walked_already: set[int] = set()
    seen: BaseException | None = exc
    while seen is not None and id(seen) not in walked_already and walked < 200:
        walked_already.add(id(seen))  # (the learner's frames hang off the cause)
        innermost: deque = deque(maxlen=keep)
        tb = seen.__traceback__
        while tb is not None:
            walked += 1
            if checked(tb.tb_frame.f_code.co_filename):  # (not summarised yet)
                innermost.append((tb.tb_frame, tb.tb_lineno))
                count += 1
            tb = tb.tb_next
        chain.append(innermost)
        seen = seen.__cause__ or seen.__context__
    kept = [frame for innermost in reversed(chain) for frame in innermost][-keep:]
    return list(traceback.StackSummary.extract(iter(kept), lookup_lines=False)), count


TRACEBACK_LINE = 300  # characters of a traceback's line kept
