"""The child side of a check: what runs in the check's own process (or, on CUDA, in the device
worker that runs it).

`_child` loads the checker and the candidate (`_load_solution`, `_resolve`), caps the check's
memory and threads, arms its own timer a little before the time limit (`_stop_before`), runs
the checker, and sends back a report: a failure's message, the learner's frames of its
traceback, and what an error means in words (`_describe_error` and its helpers). The worker
that forks or runs it is `zygote`'s; the parent that waits for its report is `runner`; what a
check that died before reporting says is `crash_report`'s.
"""

from __future__ import annotations

import contextlib
import io
import os
import reprlib
import sys
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import contain
from .limits import MESSAGE_LIMIT, OUTPUT_LIMIT

if TYPE_CHECKING:
    from .runner import Job


def _timeout_message(limit: float, what: str | None = None) -> str:
    stuck = f"{what}: " if what else ""
    return (
        f"{stuck}did not finish in {limit:g} s: an infinite loop, or far too slow for the "
        "input sizes?"
    )


def _stop_before(limit: float | None) -> None:
    """Raise `OutOfTime` in this check a little before its time limit, where Python code runs
    (the kill at the limit still ends one stuck in C); None: not any more.

    Where Python cannot raise it, in a hook that os.fork runs (logging's, or any library's
    `os.register_at_fork`) or a __del__, Python prints it and goes on: the learner's output
    showed its traceback, through this module's `stop`, and the check ran on to the kill,
    unreported. It comes again a moment later instead, where the code checked runs."""
    import signal
    import sys

    from studycli.assertions import OutOfTime

    global _STOP_ARMED
    if limit is None:
        _STOP_ARMED = False  # (a signal already on its way is then ignored)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return

    def stop(*_: object) -> None:
        global _STOP_FIRED
        if _STOP_ARMED:
            _STOP_FIRED = True
            raise OutOfTime

    previous = sys.unraisablehook

    def again(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, OutOfTime):
            signal.setitimer(signal.ITIMER_REAL, STOP_AGAIN)
        else:
            previous(unraisable)

    _STOP_ARMED = True
    signal.signal(signal.SIGALRM, stop)
    sys.unraisablehook = again
    signal.setitimer(signal.ITIMER_REAL, max(limit - STOP_AHEAD, limit * 0.8))


STOP_AHEAD = 0.3  # seconds before the limit that a check stops itself, to report where it was
STOP_AGAIN = 0.01  # seconds after an OutOfTime that Python could not raise, to raise it again
_STOP_ARMED = False
_STOP_FIRED = False  # whether this check's timer raised `OutOfTime` (an answer can raise it too)


def _child(job: Job, sender, output=None) -> None:
    """Run `job` here and send its result through `sender`.

    With `output` (the write end of a pipe) this process becomes a contained check (see
    `contain.enter`): a child of its own, its output from Python or C going into the pipe.
    Without, it is a device worker running checks one after another: only Python's output is
    captured, into the result.
    """
    from studycli.assertions import OutOfTime, message_of

    if output is not None:
        contain.enter(output, keep=sender.fileno(), processes=job.processes)
        _stop_before(job.timeout)  # (a contained check alone: a device worker runs many)
    if job.device == "cpu":
        _limit_memory(job.memory_mb)
    _set_threads(job.threads)
    checking = os.getpid()  # the one process whose outcome is the check's (see the end)
    captured = io.StringIO()
    started = time.monotonic()
    label = loading = ""
    printed: dict[str, str] = {}  # (a correct answer's: where it first wrote, `_FirstWrite`)
    try:
        try:
            with contextlib.ExitStack() as stack:
                if output is None:
                    stack.enter_context(redirect_stdout(captured))
                    stack.enter_context(redirect_stderr(captured))
                if job.candidate.expect_pass:
                    stack.enter_context(_noting_first_write(job.solutions_dir, printed))
                loading = job.check_module
                checker = getattr(
                    _load_solution(job.solutions_dir, job.check_module), job.check_function
                )
                loading = job.candidate.module if job.candidate.kind in MODULE_KINDS else ""
                impl, label = _resolve(job)
                loading = ""
                started = time.monotonic()
                returned = checker(impl, device=job.device)
        finally:
            _stop_before(None)
        result: dict[str, Any] = (
            {"status": "pass", "message": "passed"}
            if returned is None
            else {"status": "error", "message": _returned_message(returned, job)}
        )
    except OutOfTime as exc:
        result = {
            "status": "timeout" if _STOP_FIRED else "error",
            "message": _timeout_message(job.timeout, exc.what)
            if _STOP_FIRED
            else _describe_error(exc, job),
            "traceback": _trimmed_traceback(exc, job),
            "loading": loading if _STOP_FIRED else "",
        }
    except AssertionError as exc:
        refused = _over_process_cap(exc, job)  # (under `call`: a failure it raised from it)
        said = _answers_own_assert(exc, job) or message_of(exc) or UNSAID_FAILURE
        result = {
            "status": "error" if refused else "fail",
            "message": refused or _with_memory_note(said, exc, job),
            "traceback": _trimmed_traceback(exc, job),
        }
    except MemoryError:
        result = {"status": "error", "message": f"ran out of memory (limit {job.memory_mb} MB)"}
    except BaseException as exc:
        result = {
            "status": "error",
            "message": _describe_error(exc, job),
            "traceback": _trimmed_traceback(exc, job),
        }
    result.update(
        seconds=time.monotonic() - started,
        label=label,
        message=result["message"][:MESSAGE_LIMIT],
    )
    if printed:
        result["printed_at"] = printed["at"]
    if output is None:
        tail = contain.OutputTail(OUTPUT_LIMIT)
        tail.add(captured.getvalue().encode("utf-8", errors="replace"))
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


class _FirstWrite:
    """sys.stdout or sys.stderr in a correct answer's check (the reference's or a variant's):
    notes in `found["at"]` the solution modules' frames that the first text written came
    through, as a traceback shows them (the parent says the innermost: `verify`). "The
    reference's check printed 5 line(s)" named the first line, but not the print, and its
    author searched the reference, the checker and their helpers for it (a QA pass). Python's
    warnings, which `verify` does not count as printed, are passed over."""

    def __init__(self, stream: Any, solutions_dir: str, found: dict[str, str]) -> None:
        self._stream, self._found = stream, found
        self._folder = os.path.join(solutions_dir, "")

    def write(self, text: str) -> int:
        if "at" not in self._found and text.strip():
            frames = _solution_frames(sys._getframe(1), self._folder)
            if frames is not None:
                self._found["at"] = frames
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:  # the stream's other methods (flush, fileno, ...)
        return getattr(self._stream, name)


@contextlib.contextmanager
def _noting_first_write(solutions_dir: str, found: dict[str, str]) -> Iterator[None]:
    """sys.stdout and sys.stderr as `_FirstWrite`s while it lasts."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (_FirstWrite(stream, solutions_dir, found) for stream in saved)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _solution_frames(frame: Any, folder: str) -> str | None:
    """The frames of `frame`'s stack in files under `folder`, outermost first, as a traceback
    shows them; None where the stack goes through Python's `warnings` (one written out)."""
    shown: list[str] = []
    while frame is not None:
        code = frame.f_code
        if frame.f_globals.get("__name__") in _WARNINGS:
            return None
        if code.co_filename.startswith(folder):
            shown.append(f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}\n')
        frame = frame.f_back
    return "".join(reversed(shown))


# Python's modules that write a warning out (`warnings.showwarning`; 3.14's pure-Python one)
_WARNINGS = ("warnings", "_py_warnings")


# The status a contained check exits with where the code checked closed or replaced the
# descriptor of its report's pipe (`contain.kept_intact`), so that it could not report: it
# said "exited with status 1 before reporting (a call to os._exit()?)" (0 where the report
# went into another file), and the learner looked for an exit in their code. (One an answer
# is unlikely to pass to os._exit itself.)
REPORT_LOST = 117


def _returned_message(returned: object, job: Job) -> str:
    """A checker that returned a value: `check` reads none, so a checker written to return
    False for a wrong answer accepted every answer, and check said only "the checker accepted
    it", with no word of why."""
    # (a plain value shown cut short; another object by its type: its repr is the author's
    # code, run outside the check's time limit)
    plain = (bool, int, float, str, bytes, tuple, list, dict)
    shown = reprlib.repr(returned) if type(returned) in plain else f"a {type(returned).__name__}"
    return (
        f"the checker {job.check_function} returned {shown}, and a checker's return value is "
        "not read: it rejects an answer by raising (assert_equal or expect from "
        "studycli.assertions, or an AssertionError) and returns nothing; fix "
        f"solutions/{job.check_module}.py"
    )


def _answers_own_assert(exc: AssertionError, job: Job) -> str | None:
    """What a check says of an `assert` of the learner's that failed in their file (where it
    was raised, the innermost frame) and reached the runner as it was (its checker called the
    answer without `call`, which says so itself): the answer's own assert failing, and its
    line. Its message alone read as the checker's verdict, and "expected 3, got 4" in it was
    shown as what the checker expected. None for any other AssertionError: a checker's."""
    from studycli.assertions import ANSWERS_ASSERT, CheckFailure, message_of

    if isinstance(exc, CheckFailure) or job.candidate.kind not in ("file", "code"):
        return None
    raised = _innermost(exc.__traceback__)
    if raised is None or raised.tb_frame.f_code.co_filename != (job.candidate.path or "<starter>"):
        return None
    said = message_of(exc)
    return f"{ANSWERS_ASSERT}{_where(exc, job)}" + (f": {said}" if said else "")


def _innermost(tb: Any) -> Any:
    """The last entry of traceback `tb`, where its exception was raised (None for None)."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _describe_error(exc: BaseException, job: Job) -> str:
    from studycli.assertions import OutOfTime, message_of

    if isinstance(exc, SolutionImportError):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"the code called exit ({exc.code!r}) instead of returning a value"
    if isinstance(exc, KeyboardInterrupt):
        return _interrupted_itself(exc, job)
    if isinstance(exc, OutOfTime):  # (one the check's own timer raised is a timeout)
        return _raised_itself(
            exc, job, "the check's own signal that its time ran out: an answer must not raise it"
        )
    if (refused := _over_process_cap(exc, job)) is not None:
        return refused
    text = f"{type(exc).__name__}: {message_of(exc)}"
    if _allocator_failed(text):
        return f"ran out of memory (limit {job.memory_mb} MB): {text.splitlines()[0]}"
    return text


def _allocator_failed(text: str) -> bool:
    """Whether an error's text is torch's allocator failing for want of memory."""
    return "can't allocate memory" in text or "DefaultCPUAllocator" in text


def _with_memory_note(message: str, exc: BaseException, job: Job) -> str:
    """The failure `message`, with the check's memory limit where `exc` came from running out
    of it: `call` makes the answer's MemoryError a failure that said only "raised MemoryError:
    ", no word of the limit (a reference over it read as a bug of its own)."""
    if not _out_of_memory(exc):
        return message
    note = "ran out of memory" + (f" (the limit is {job.memory_mb} MB)" if job.memory_mb else "")
    # on the failing case's line, the first: a hint (`hinted`) follows it on lines of its own
    case, newline, rest = message.partition("\n")
    stripped = case.rstrip()
    case = f"{stripped} {note}" if stripped.endswith(":") else f"{stripped} ({note})"
    return case + newline + rest


def _out_of_memory(exc: BaseException) -> bool:
    """Whether the failure `exc` came from a MemoryError (or torch's allocator failing)."""
    from studycli.assertions import message_of

    return any(
        isinstance(cause, MemoryError) or _allocator_failed(message_of(cause))
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


def _limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at its size now plus `memory_mb`, the hard limit too:
    under the soft limit alone, code the check ran (or a library it called) could set it to
    the hard one, unlimited, and had no cap. (Only a check's own process is capped: a worker
    that runs checks itself, on a GPU, never is.)"""
    if not memory_mb:
        return
    try:
        import resource

        # the size in pages, statm's first field: /proc/self/status says it too (VmSize),
        # but the kernel takes five times as long to write all that (0.3 ms a check)
        with open("/proc/self/statm", encoding="ascii") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
        limit = current + memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, IndexError, ValueError):
        pass  # no /proc or no setrlimit: the time limit still applies


def _set_threads(threads: int) -> None:
    import sys

    torch = sys.modules.get("torch")
    wanted = max(1, threads)
    # (setting it costs 0.2 ms even when it is so already, as it is in most checks: the
    # worker starts with one thread a check)
    if torch is not None and torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def _load_solution(solutions_dir: str, module: str):
    from studycli.content.source import module_path

    return _load_file(module_path(Path(solutions_dir), module), f"studycli_solutions.{module}")


def _load_file(path: Path, name: str):
    """The module in `path`, loaded once; again if the file changed (a worker lives long)."""
    import importlib.util
    import sys

    info = path.stat()
    stamp = (str(path), info.st_mtime_ns, info.st_size)
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__studycli_stamp__", None) == stamp:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__studycli_stamp__ = stamp  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]  # half run: the next check imports it again, and fails the same
        if isinstance(exc, Exception | SystemExit):  # (an exit at its top: not the run's)
            import traceback

            where = f"{path.parent.name}/{path.name}"
            lines = [
                frame.lineno
                for frame in traceback.extract_tb(exc.__traceback__)
                if frame.filename == str(path) and frame.lineno
            ]
            if lines:  # the module's own line (a SyntaxError says its line itself)
                where += f", line {lines[-1]},"
            raise SolutionImportError(
                f"{IMPORT_FAILED}{where} raised {type(exc).__name__}: {exc}"
            ) from exc
        raise
    return module


IMPORT_FAILED = "importing "  # how a SolutionImportError's message starts
# a failure whose AssertionError says nothing: a bare `assert` of the checker's, most likely
UNSAID_FAILURE = "the checker rejected the answer"


class SolutionImportError(ImportError):
    """A solution module raised while it was imported (a missing package, a mistake at its
    top level): what each of its checks reports, rather than the checker found missing."""


ATTEMPT_MODULE = "studycli_attempt"  # the learner's file's name in sys.modules, while checked


def _load_attempt(path: Path):
    """The learner's file as a module, compiled from its text: never from a cached .pyc, which
    a second save within the same second (of the same size) would leave looking fresh.

    Decoded first (its coding line honoured, as an import does): compiled from bytes, a syntax
    error's column counted bytes, and its caret stood two columns past the mistake for each
    CJK character before it. Bytes that do not decode are compiled as they are, for Python's
    own message naming their line."""
    import sys
    import types
    from importlib.util import decode_source

    module = types.ModuleType(ATTEMPT_MODULE)
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    raw = path.read_bytes()
    try:
        source: str | bytes = decode_source(raw)
    except (UnicodeDecodeError, SyntaxError):
        source = raw
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


MODULE_KINDS = ("reference", "wrong", "variant")  # the candidates a solution module holds


def _resolve(job: Job):
    """The callable under test, and a label naming it (with a wrong answer's docstring)."""
    candidate = job.candidate
    if candidate.kind in MODULE_KINDS:
        module = _load_solution(job.solutions_dir, candidate.module)
        if candidate.kind == "reference":
            return getattr(module, candidate.function), "reference"
        table = module.WRONG_ANSWERS if candidate.kind == "wrong" else module.CORRECT_VARIANTS
        impl = table[candidate.function][candidate.index]
        doc = (impl.__doc__ or "").strip().splitlines()
        return impl, f"{impl.__name__}" + (f" ({doc[0]})" if doc else "")
    if candidate.kind == "code":
        namespace: dict = {"__name__": ATTEMPT_MODULE}
        exec(compile(candidate.code, "<starter>", "exec"), namespace)
        return namespace[candidate.function], "starter"
    module = _load_attempt(Path(candidate.path))
    if not hasattr(module, candidate.function):
        raise AssertionError(
            f"{candidate.path} defines no function {candidate.function!r}"
            + _functions_instead(module, candidate.function)
        )
    return getattr(module, candidate.function), "attempt"


def _functions_instead(module: Any, wanted: str) -> str:
    """The functions an attempt without `wanted` defines itself (not those it imports), in
    words: a typo in the name, or the answer written under another name, is seen at once."""
    import types

    own = [
        name
        for name, value in vars(module).items()
        if isinstance(value, types.FunctionType) and value.__module__ == ATTEMPT_MODULE
    ]
    if not own:
        return ""
    return f" (it defines {', '.join(own)}: name the answer {wanted})"


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


FRAMES_SHOWN = 5  # the innermost frames of the code checked that a failure's traceback shows


def _own_frames(exc: BaseException, job: Job, keep: int = FRAMES_SHOWN) -> tuple[list[Any], int]:
    """The innermost `keep` frames of `exc`'s traceback (and its causes') in the code checked,
    innermost last, and how many such frames there were in all: the learner's file's alone;
    for reference code, all but the runner's (this module's). (Their lines are not read yet.)

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
        return "studycli/check/child.py" not in filename.replace("\\", "/")

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
