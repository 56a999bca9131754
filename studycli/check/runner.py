"""Running a checker on one candidate answer, isolated in its own process.

Every check runs in a child forked from a fork server that has numpy and torch already
imported, so a check starts in milliseconds, yet a crash, a hang or a memory blow-up in it is
that check's outcome and never the caller's. The child runs in a session of its own (see
`contain`: its whole process group is killed at the time limit and after it reports, its
processes are capped, stdin is closed, inherited descriptors are closed, and its output, from
Python or C, is captured and cut to its tail); the parent enforces the wall-clock limit and
the child caps its own address space.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from . import contain
from .limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT

OUTPUT_LIMIT = 4000  # bytes of a check's output kept (its tail)
MESSAGE_LIMIT = 20000  # characters of a failure message kept


class Status(StrEnum):
    """A check's outcome: pass, fail (the checker rejected it), error, or timeout (and, for a
    card's verdict only, not done)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    TIMEOUT = "timeout"
    # A card verdict, never a check's outcome: the card still holds what `studycli new` left
    # to be written (TODO text, code raising NotImplementedError), so nothing was run.
    NOT_DONE = "not done"


@dataclass(frozen=True)
class Candidate:
    """One answer to run a checker on.

    `kind` says where the code comes from: "reference" (the solution module's function),
    "wrong" / "variant" (entry `index` of WRONG_ANSWERS / CORRECT_VARIANTS), "code" (source text,
    such as a starter) or "file" (a learner's attempt file).
    """

    kind: str
    function: str
    module: str = ""
    index: int = 0
    code: str = ""
    path: str = ""
    fails_with: str | None = None  # a wrong answer's declared failure (see assertions.fails_with)

    @property
    def expect_pass(self) -> bool:
        return self.kind in ("reference", "variant")


@dataclass(frozen=True)
class Job:
    solutions_dir: str
    check_module: str
    check_function: str
    candidate: Candidate
    device: str = "cpu"
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class Outcome:
    """What happened: `status` is pass, fail (the checker rejected it), error or timeout."""

    status: Status
    message: str
    seconds: float
    label: str = ""
    traceback: str = ""
    output: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))  # plain text from the child


def run_job(job: Job) -> Outcome:
    """Run one job in an isolated child and wait at most `job.timeout` seconds for it.

    Whatever the outcome, nothing the check started is left running when this returns.
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    output_end, output_sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(job, sender, output_sender), daemon=True)
    output = contain.OutputTail(OUTPUT_LIMIT)
    started = time.monotonic()
    process.start()
    _LIVE.add(process)
    sender.close()
    output_sender.close()
    try:
        if _STOPPING.is_set():  # kill_all ran while this job was starting
            contain.kill_group(process)
        result = _wait(process, receiver, output_end, output, job)
        if not isinstance(result, Outcome):
            process.join(timeout=1)  # it reported: let it exit by itself
    finally:
        contain.kill_group(process)  # what it left running; all of it on a timeout or Ctrl-C
        contain.wait_gone(process.pid, 10.0)
        output.drain(output_end.fileno(), 1.0)
        process.join(timeout=5)
        receiver.close()
        output_end.close()
        _LIVE.discard(process)
    elapsed = time.monotonic() - started
    if isinstance(result, Outcome):
        return replace(result, output=output.text())
    if result is None:
        return Outcome(
            Status.ERROR, _crash_message(process.exitcode), elapsed, output=output.text()
        )
    return Outcome(**result, output=output.text())


_LIVE: set = set()  # the children running now, so that an interrupt can end them all
_STOPPING = threading.Event()


def kill_all() -> None:
    """End every check still running (on Ctrl-C): their waiting threads then return at once.

    Jobs that start while the stop is on are killed at once too, until `clear_stop()`.
    """
    _STOPPING.set()
    for process in list(_LIVE):
        contain.kill_group(process)


def clear_stop() -> None:
    """End the stop that `kill_all` began, once every job of the interrupted run returned,
    so that a later run in this process (a second `check` after Ctrl-C) works."""
    _STOPPING.clear()


def _wait(process, receiver, output_end, output: contain.OutputTail, job: Job):
    """The child's report (None if it died silently), or an Outcome if it had to be killed.
    Meanwhile the child's output is read as it comes, so that a flood of it never blocks.

    On the CPU the child caps its own address space. CUDA reserves far more address space than
    it uses, so there the parent watches the child's resident memory instead.
    """
    deadline = time.monotonic() + job.timeout
    watch = job.device != "cpu" and job.memory_mb
    baseline = _resident_mb(process.pid) if watch else 0.0
    waiting = [receiver, output_end, process.sentinel]
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return Outcome(Status.TIMEOUT, _timeout_message(job.timeout), job.timeout)
        ready = wait(waiting, min(left, 0.1) if watch else left)
        if output_end in ready and not output.read(output_end.fileno()):
            waiting.remove(output_end)  # every writer closed it
        if receiver in ready:
            try:
                return receiver.recv()
            except EOFError:
                return None
        if process.sentinel in ready:  # died without a report (its children may hold the pipe)
            return None if not receiver.poll() else _received(receiver)
        if watch and _resident_mb(process.pid) - baseline > job.memory_mb:
            return Outcome(
                Status.ERROR,
                f"ran out of memory (limit {job.memory_mb} MB of host memory)",
                job.timeout - left,
            )


def _received(receiver):
    try:
        return receiver.recv()
    except EOFError:
        return None


def _resident_mb(pid: int | None) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            line = next(l for l in status if l.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration, ValueError):
        return 0.0


def _timeout_message(limit: float) -> str:
    return f"did not finish in {limit:g} s: an infinite loop, or far too slow for the input sizes?"


def _crash_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"the process was killed by signal {-exitcode} (out of memory, or a crash in native code)"
    return f"the process exited with status {exitcode} before reporting (a call to os._exit()?)"


_CONTEXT = None


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        try:
            _CONTEXT = multiprocessing.get_context("forkserver")
            _CONTEXT.set_forkserver_preload(["studycli.check._preload"])
        except ValueError:  # a platform without fork (Windows): plain spawn still isolates
            _CONTEXT = multiprocessing.get_context("spawn")
    return _CONTEXT


# --- the child side -------------------------------------------------------------------------


def _child(job: Job, sender, output) -> None:
    contain.enter(output, keep=sender.fileno())
    if job.device == "cpu":
        _limit_memory(job.memory_mb)
    _single_thread()
    started = time.monotonic()
    label = ""
    try:
        checker = getattr(_load_solution(job.solutions_dir, job.check_module), job.check_function)
        impl, label = _resolve(job)
        started = time.monotonic()
        checker(impl, device=job.device)
        result: dict[str, Any] = {"status": "pass", "message": "passed"}
    except AssertionError as exc:
        result = {
            "status": "fail",
            "message": str(exc) or "the checker rejected the answer",
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
    contain.flush_output()
    try:
        sender.send(result)
    finally:
        sender.close()


def _describe_error(exc: BaseException, job: Job) -> str:
    if isinstance(exc, SystemExit):
        return f"the code called exit ({exc.code!r}) instead of returning a value"
    text = f"{type(exc).__name__}: {exc}"
    if "can't allocate memory" in text or "DefaultCPUAllocator" in text:
        return f"ran out of memory (limit {job.memory_mb} MB): {text.splitlines()[0]}"
    return text


def _limit_memory(memory_mb: int) -> None:
    if not memory_mb:
        return
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            line = next(l for l in status if l.startswith("VmSize:"))
        current = int(line.split()[1]) * 1024
        limit = current + memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, StopIteration, ValueError):
        pass  # no /proc or no setrlimit: the time limit still applies


def _single_thread() -> None:
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _load_solution(solutions_dir: str, module: str):
    return _load_file(Path(solutions_dir) / f"{module}.py", f"studycli_solutions.{module}")


def _load_file(path: Path, name: str):
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _resolve(job: Job):
    """The callable under test, and a label naming it (with a wrong answer's docstring)."""
    candidate = job.candidate
    if candidate.kind in ("reference", "wrong", "variant"):
        module = _load_solution(job.solutions_dir, candidate.module)
        if candidate.kind == "reference":
            return getattr(module, candidate.function), "reference"
        table = module.WRONG_ANSWERS if candidate.kind == "wrong" else module.CORRECT_VARIANTS
        impl = table[candidate.function][candidate.index]
        doc = (impl.__doc__ or "").strip().splitlines()
        return impl, f"{impl.__name__}" + (f" ({doc[0]})" if doc else "")
    if candidate.kind == "code":
        namespace: dict = {"__name__": "studycli_attempt"}
        exec(compile(candidate.code, "<starter>", "exec"), namespace)
        return namespace[candidate.function], "starter"
    module = _load_file(Path(candidate.path), "studycli_attempt")
    if not hasattr(module, candidate.function):
        raise AssertionError(f"{candidate.path} defines no function {candidate.function!r}")
    return getattr(module, candidate.function), "attempt"


def _trimmed_traceback(exc: BaseException, job: Job) -> str:
    """The traceback frames in the learner's own code (or all frames for reference code)."""
    import traceback

    frames: list[traceback.FrameSummary] = []
    seen: BaseException | None = exc
    while seen is not None and len(frames) < 200:  # the learner's frames hang off the cause
        frames = traceback.extract_tb(seen.__traceback__) + frames
        seen = seen.__cause__ or seen.__context__
    own = job.candidate.path or "<starter>"
    if job.candidate.kind in ("file", "code"):
        frames = [f for f in frames if f.filename == own]
    else:
        frames = [f for f in frames if "studycli/runner.py" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    return "".join(traceback.format_list(frames[-5:]))
