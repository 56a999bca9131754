"""Loading what a check runs, in the check's process (`child`) or in a worker that prepares for
its checks (`zygote`): a solution module (`_load_solution`: loaded again only once its file
changed), the learner's attempt (`_load_attempt`: compiled from its text), and the callable a
job checks (`_resolve`). A solution module that raises as it is imported is a
`SolutionImportError`, which each of its checks reports (see `error_report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import Job


def _load_solution(solutions_dir: str, module: str):
    from studycli.content.source import module_path

    return _load_file(module_path(Path(solutions_dir), module), solution_name(module))


def solution_name(module: str) -> str:
    """The name in sys.modules of solution module `module` (of the solutions folder)."""
    return f"studycli_solutions.{module}"


def solution_stamp(solutions_dir: str, module: str) -> tuple[str, int, int] | None:
    """The `file_stamp` of solution module `module`'s file now (None: it cannot be read)."""
    from studycli.content.source import module_path

    try:
        return file_stamp(module_path(Path(solutions_dir), module))
    except OSError:
        return None


def file_stamp(path: Path) -> tuple[str, int, int]:
    """What tells one version of file `path` from another: its path, mtime (ns) and size."""
    info = path.stat()
    return (str(path), info.st_mtime_ns, info.st_size)


def _load_file(path: Path, name: str):
    """The module in `path`, loaded once; again if the file changed (a worker lives long)."""
    import importlib.util
    import sys

    stamp = file_stamp(path)
    if (refused := REFUSED.get(name)) is not None and refused[0] == stamp:
        raise SolutionImportError(refused[1])
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

# Solution modules (by their names in sys.modules) whose import, as a worker prepared, left
# processes (`zygote._prepare` killed them) or threads running: the stamp of the file so loaded,
# and what each of their checks says instead of loading it again (a file changed since loads)
REFUSED: dict[str, tuple[tuple, str]] = {}


def refuse(module: Any, processes: list[str], threads: list[str]) -> None:
    """Have the checks of `module`, whose import left the processes of commands `processes`
    (killed) or the threads named `threads` running, fail saying so, rather than load it.
    Such a process had the worker's output (the command's) as its own, or a check's, where its
    lines came or not as the race went: the card passed or failed from one run to the next; so
    did such a thread's (which runs on: `output_aside.silence`)."""
    import sys

    del sys.modules[module.__name__]
    path = Path(module.__file__)
    REFUSED[module.__name__] = (
        module.__studycli_stamp__,
        f"{IMPORT_FAILED}{path.parent.name}/{path.name} {_left(processes, threads)}",
    )


def _left(processes: list[str], threads: list[str]) -> str:
    """What a module's import left running, in words, with what to do instead."""
    kinds = [
        (names, noun) for names, noun in ((processes, "process"), (threads, "thread")) if names
    ]
    if len(kinds) == 1:
        [(names, noun)] = kinds
        what = f"{_counted(len(names), noun)} running that it started ({_listed(names)})"
    else:
        counted = (f"{_counted(len(names), noun)} ({_listed(names)})" for names, noun in kinds)
        what = " and ".join(counted) + " running that it started"
    behind = " or ".join(PLURALS[noun] for _, noun in kinds)
    wait = "wait for them" if processes else "join them"
    return (
        f"left {what}: a solution module's top level must not leave {behind} behind; start "
        f"them in a function, and {wait} there"
    )


PLURALS = {"process": "processes", "thread": "threads"}


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun if count == 1 else PLURALS[noun]}"


def _listed(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3:,} more" if len(names) > 3 else "")


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
        raise NoAnswerFunction(
            f"{candidate.path} defines no function {candidate.function!r}"
            + _functions_instead(module, candidate.function)
        )
    return getattr(module, candidate.function), "attempt"


class NoAnswerFunction(AssertionError):
    """An attempt that defines no function of the card's name: it was never called, so its
    check tells nothing of what the learner recalled (`Outcome.missing` says so)."""


def never_called(exc: BaseException) -> bool:
    """Whether `exc` is `_resolve`'s own NoAnswerFunction, raised where it found no function
    of the card's name, not one the attempt's code raised as it was imported (it was said to
    define no function it defined, and recorded nothing for it). Its type is looked at first:
    the code's own exception may raise when its __traceback__ is read (`child._described`)."""
    if type(exc) is not NoAnswerFunction:
        return False
    innermost = exc.__traceback__
    while innermost is not None and innermost.tb_next is not None:
        innermost = innermost.tb_next
    return innermost is not None and innermost.tb_frame.f_code is _resolve.__code__


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
    names = own[0] if len(own) == 1 else f"{', '.join(own[:-1])} and {own[-1]}"
    return f": it defines {names} instead; name the answer {wanted}"
