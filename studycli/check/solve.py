"""Answering a coding card with code: the attempt file, the editor, the check, the rating.

The attempt lives at `<data dir>/attempts/<card-id>.py`, written once from the card's starter
and then only ever changed by the learner. The check runs in `runner`'s isolated process with
a time limit and a memory cap, so a hang or a blow-up in the attempt is its outcome.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fsrs import Rating

from studycli.assertions import ANSWERS_ASSERT, RAISED
from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.content.source import (
    card_module,
    card_starter,
    checker_ref,
    code_without_docstrings,
    raises_not_implemented,
    read_module,
)
from studycli.errors import StudyError
from studycli.paths import FileTooLarge, NotRegularFile, attempts_dir, create_file, read_regular

from . import lazy_imports, pool
from .runner import Candidate, Job, Outcome, run_job

_EXPECTED_GOT = re.compile(
    r"expected (?P<expected>.+?),? got (?P<actual>.+?)"
    r"(?: \((?P<detail>\d+ of \d+ values off[^)]*)\))?$"
)


def attempt_path(card_id: str) -> Path:
    return attempts_dir() / f"{card_id}.py"


def rated_path(card_id: str) -> Path:
    """Where the attempt whose pass was last recorded is kept (see `put_aside`)."""
    return attempts_dir() / "rated" / f"{card_id}.py"


def follow_rename(card: Card, content: Content) -> str | None:
    """Give `card` the attempt file it had under an id of its `renamed_from`, where it has
    none under its own: after its author renamed it, `solve NEW` started from the starter, the
    learner's answer begun under the old id left behind. (The answer put aside with a pass,
    `rated_path`, stays: see `put_aside`.)

    The newest old id's file is taken, renamed within the folder in one step (os.replace);
    a file of the new id is never replaced: where both are there, both stay as they are and
    the new id's is the attempt. Only the card's own old ids are looked at, no scan of the
    folder, and only by the commands about to open the attempt (`ensure_attempt`'s callers).
    An old id that is still a card's own, or that another card lists too, is no rename (`lint`
    says so; `Content.renames` leaves it out): its attempt stays, as its history does, where
    it is (the copy of a card took the attempt of the card it copied).

    Returns:
        What to tell the learner, once (the file is then under the new id); None where
        nothing moved: no old id's file, one of the new id already, or a move the system
        refused (the card then starts from its starter, as before the rename).
    """
    new = attempt_path(card.id)
    if not card.renamed_from or os.path.lexists(new):
        return None
    renames = content.renames
    for old_id in reversed(card.renamed_from):  # (oldest first in the card)
        old = attempt_path(old_id)
        if renames.get(old_id) != card.id or not os.path.lexists(old):
            continue
        try:
            os.replace(old, new)
        except OSError:
            return None
        return f"your attempt at {old_id} is now {card.id}'s: {new}"
    return None


def put_aside(card_id: str) -> str | None:
    """Move the attempt of `card_id`, whose pass was just recorded, to `rated_path`, so that
    the card's next review starts from its starter and asks for the answer again: reopened,
    the passing code passed unchanged, and a review weeks later recorded Good without recall.
    The answer put aside before it is replaced (one put aside under an id the card had before
    it was renamed stays where it is: no undo reaches a rating made before the rename, and so
    none brings it back). What to tell the learner; None where there was none to move, or it
    could not be moved (the next review then opens it again, as before)."""
    target = rated_path(card_id)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(attempt_path(card_id), target)
    except OSError:
        return None
    return f"your answer is kept in {target}: the next review starts from the starter"


def bring_back(card_id: str, untouched: Callable[[Path], bool] = lambda path: False) -> Path | None:
    """Undo's side of `put_aside`: the answer kept in `rated_path` is the attempt again, where
    the attempt file is not there, or is still the starter (`untouched`: a `solve` reopened
    and closed unchanged wrote one, and the answer stayed aside); a new one, written since, is
    the learner's: it stays. Its path, or None where nothing was brought back. (After `u` to
    change a pass's rating, `s` opened the starter, the answer just checked in
    `attempts/rated/`.)"""
    kept, path = rated_path(card_id), attempt_path(card_id)
    try:
        if not kept.is_file() or (path.exists() and not untouched(path)):
            return None
        os.replace(kept, path)
    except OSError:
        return None
    return path


def ensure_attempt(card: Card, content: Content, path: Path | None = None) -> Path:
    """The attempt file for `card`, created from its starter when it does not exist yet.

    An existing file is never overwritten: it holds the learner's work. (A caller gives a
    renamed card its attempt under an old id first: `follow_rename`, whose note it shows.)

    Raises:
        StudyError: the card is not answered with code.
        ContentError: the card's solution module cannot be read.
    """
    require_runnable(card)
    path = path or attempt_path(card.id)
    if not path.exists():
        starter = card_starter(card, content.solutions_dir)
        try:  # (in one step: a full disk left the file cut short, kept as the learner's)
            create_file(path, starter.encode("utf-8"))
        except OSError as exc:
            raise StudyError(
                f"cannot write your attempt file {path} ({exc.strerror or exc}): free some "
                f"space on its disk or make {path.parent} writable, or set STUDYCLI_HOME to a "
                "folder you can write"
            ) from None
    return path


def is_untouched(card: Card, content: Content, path: Path) -> bool:
    """Whether the attempt at `path` is still a starter (nothing to record yet): the card's
    starter, or a file whose function still only raises NotImplementedError, as the starter
    an older studycli wrote before the card's starter changed (see `is_older_starter`)."""
    return starter_kind(card, content, path) is not None


def is_older_starter(card: Card, content: Content, path: Path) -> bool:
    """Whether the attempt at `path` is a starter the card had before: not the starter as it
    is now, but the same code apart from docstrings (a starter changes in its contract), and
    its function a stub. (A file the learner edited, a helper added, is not: deleting it
    would lose their work.)"""
    return starter_kind(card, content, path) == "older"


def starter_kind(card: Card, content: Content, path: Path) -> str | None:
    """ "current" (the card's starter), "older" (an earlier one), "stub" (edited, its function
    still a stub) or None (an attempt, or a file that does not read): `is_untouched` and
    `is_older_starter` at once, the file read and the starter made once."""
    text = _text_of(path)
    if text is None:
        return None
    now = card_starter(card, content.solutions_dir)
    if text == now:
        return "current"
    if not _still_a_stub(card, text):
        return None
    carried = _imported(card_module(card, content.solutions_dir).tree.body)
    return "older" if _starter_code(text, carried) == _starter_code(now, carried) else "stub"


def _starter_code(text: str, carried: set[tuple[str, int, str, str | None]]) -> str:
    """A starter's code, its docstrings, blank lines and top-level imports of names its module
    imports (`carried`) left out: the parts in which a card's starter changes (its contract
    reworded; the imports of its module's checkers no longer carried over) while a file
    written from it is still no attempt. Compared as text, so that a comment of the learner's
    (their plan) or an import of their own is still theirs: compared as syntax trees, such a
    file was called a changed starter, to be deleted for the new one."""
    code = code_without_docstrings(text)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    lines = code.splitlines()
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or not _imported([node]) <= carried:
            continue
        end = node.end_lineno or node.lineno
        alone = all(  # (no other statement on its lines: `import heapq; LIMIT = 3`)
            other is node or (other.end_lineno or other.lineno) < node.lineno or other.lineno > end
            for other in tree.body
        )
        if alone:
            lines[node.lineno - 1 : end] = [""] * (end - node.lineno + 1)
    return "\n".join(line for line in lines if line.strip())


def _imported(body: list[ast.stmt]) -> set[tuple[str, int, str, str | None]]:
    """The names that the import statements in `body` bind, each as (module, level, name,
    alias)."""
    names = set()
    for node in body:
        if isinstance(node, ast.Import):
            names |= {("", 0, alias.name, alias.asname) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names |= {(module, node.level, alias.name, alias.asname) for alias in node.names}
    return names


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # (the check says what is wrong with the file)


def _still_a_stub(card: Card, text: str) -> bool:
    """Whether `text` defines the card's function with a body (its docstring aside) that is
    only `raise NotImplementedError`, as a starter's is: every call of it fails so."""
    assert card.solution is not None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # (a null byte; too deep)
        return False
    defined = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == card.solution.function
    ]
    return bool(defined) and raises_not_implemented(defined[-1])  # the last one is called


def compiles(path: Path) -> bool:
    """Whether the attempt at `path` compiles (nothing of it is run). A file that cannot be
    read counts as compiling: its check says what is wrong with it.

    `solve --watch` checks a save that does not compile only once it has stayed as it is for
    a moment: an editor that truncates the file, then writes it, can be caught half way.
    """
    import warnings

    try:
        source = read_regular(path, ATTEMPT_LIMIT)
    except (OSError, NotRegularFile, FileTooLarge):
        return True
    with warnings.catch_warnings():  # ("invalid escape sequence": the check's to say)
        warnings.simplefilter("ignore")
        try:
            compile(source, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError):  # (ValueError: a null byte, before Python 3.12)
            return False
        except (RecursionError, MemoryError):  # (nested too deep to compile here)
            return True
    return True


def unanswered(compiled: bool, outcome: Outcome) -> str:
    """What keeps a failed check of an attempt from being a failed recall, in words ("" for
    nothing): it does not compile, or it defines no function of the card's name (misnamed,
    or another card's code), so the answer was never called. Either is a typo: the answer
    stays hidden and nothing is recorded (a misnamed function showed the answer and recorded
    Again, as a missing colon once did)."""
    if outcome.status == "pass":
        return ""
    if not compiled:
        return "does not compile"
    return f"defines no function {outcome.missing}" if outcome.missing else ""


def read_attempt(path: Path) -> str:
    """The text of the attempt file at `path`.

    Raises:
        StudyError: it is missing, a folder, unreadable, or not UTF-8 text; the message names
            the file and the fix.
    """
    try:
        data = read_regular(path, ATTEMPT_LIMIT)
        return data.decode("utf-8")
    except NotRegularFile:  # a pipe reads once (the check reads it again), a fifo with no
        raise StudyError(  # writer waits, /dev/zero never ends
            f"{path} is not a regular file: save your attempt to a .py file and give that (--file)"
        ) from None
    except FileTooLarge:
        raise StudyError(
            f"{path} is over {ATTEMPT_LIMIT // 1_000_000} MB: an attempt is a function, "
            "not data; give the .py file with your answer (--file)"
        ) from None
    except UnicodeDecodeError as exc:
        raise StudyError(
            f"{path} is not UTF-8 text (byte {exc.start}): save your attempt as UTF-8 Python source"
        ) from None
    except IsADirectoryError:
        raise StudyError(
            f"{path} is a folder, not an attempt: give your attempt's .py file (--file), or "
            "move the folder away"
        ) from None
    except FileNotFoundError:
        raise StudyError(
            f"{path}: no such file (moved or deleted?): give your attempt's path (--file), or "
            "solve without --file to start again from the starter"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # (not a permission: chmod was no fix)
            raise StudyError(
                f"{path} is a loop of symbolic links: point it at your attempt's .py file, or "
                "pass that file (--file)"
            ) from None
        raise StudyError(
            f"cannot read the attempt {path} ({exc.strerror or exc}): make it readable "
            f"(chmod u+r '{path}') or pass another file"
        ) from None


ATTEMPT_LIMIT = 5_000_000  # bytes


def require_runnable(card: Card) -> None:
    if not card.runnable:
        raise StudyError(
            f"{card.id} is a {card.kind.value} card with no solution to run: "
            "study it with `studycli review`"
        )


def editor_command(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """`$VISUAL`, else `$EDITOR`, split as a shell would; None when neither is set.

    Raises:
        StudyError: the variable cannot be split (a quote left open), naming it.
    """
    env = os.environ if environ is None else environ
    name = "VISUAL" if env.get("VISUAL") else "EDITOR"
    chosen = env.get(name)
    if not chosen or not chosen.strip():
        return None
    try:
        return shlex.split(chosen)
    except ValueError as exc:  # (a traceback, and in `review` the end of the session)
        raise StudyError(
            f"${name}={chosen!r} cannot be read as a command ({str(exc).lower()}): "
            f"fix its quotes, e.g. export {name}=nano"
        ) from None


def open_editor(path: Path, command: list[str]) -> bool:
    """Run the editor on `path` and wait for it to exit; whether it returned at once with the
    file unchanged (an editor that opens a window and does not wait: `code` without --wait).

    Ctrl-C is the editor's while it runs, as git does: this process ignores it, so that an
    editor that takes Ctrl-C for itself keeps the learner's work (subprocess.run killed the
    editor on the KeyboardInterrupt, unsaved text and all).

    Raises:
        StudyError: the editor cannot be started or exits with an error.
        KeyboardInterrupt: the editor itself was ended by the Ctrl-C.
    """
    import signal
    import threading

    here = threading.current_thread() is threading.main_thread()  # (signals are its alone)
    # A Ctrl-C from the editor's start on is the editor's: a handler that does nothing while
    # it starts (a handler, unlike SIG_IGN, is not inherited: the editor gets Ctrl-C as
    # usual), then ignored. Ignored only once it had started, a Ctrl-C in between ended the
    # command and left the editor running.
    previous = signal.signal(signal.SIGINT, _nothing) if here else None
    before, started = _stamp(path), time.monotonic()
    try:
        try:
            editor = subprocess.Popen([*command, str(path)])
        except OSError as exc:
            raise StudyError(
                f"cannot start the editor {command[0]!r} ({exc}): set $EDITOR to an "
                "editor on your PATH, e.g. export EDITOR=nano"
            ) from None
        if here:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        status = editor.wait()
    finally:
        if here:
            signal.signal(signal.SIGINT, previous)
    if status == -signal.SIGINT:
        raise KeyboardInterrupt
    if status != 0:
        raise StudyError(
            f"the editor {' '.join(command)!r} exited with status {status}; your file is {path}"
        )
    return time.monotonic() - started < RETURNED_AT_ONCE and _stamp(path) == before


RETURNED_AT_ONCE = 1.0  # seconds: an editor back sooner, the file unchanged, did not wait


def _stamp(path: Path) -> tuple[int, int] | None:
    """The file's mtime and size (None where it cannot be read): whether an editor saved it."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _nothing(*_: object) -> None:
    """A signal handler that does nothing (see `open_editor`)."""


def run_check(
    card: Card,
    content: Content,
    path: Path,
    *,
    timeout: float,
    memory_mb: int,
    own_writes: Path | None = None,
) -> Outcome:
    """Run the card's checker on the function in `path`, isolated, within the limits; where
    the code checked writes `path`, make the file `own_writes` (see `check.own_writes`).

    Returns:
        The runner's Outcome: pass, fail (the checker's message names the failing case), error
        or timeout.

    Raises:
        StudyError: the attempt cannot be read; ContentError: the card's solution module
            cannot be read or has a syntax error.
    """
    require_runnable(card)
    assert card.solution is not None
    read_attempt(path)  # an unreadable attempt is the learner's to fix, not a check outcome
    info = card_module(card, content.solutions_dir)
    check = checker_ref(card, info)
    if check.module != card.solution.module:
        card_module(card, content.solutions_dir, check.module)
    warm_up(card, content)
    job = Job(
        solutions_dir=str(content.solutions_dir),
        check_module=check.module,
        check_function=check.function,
        candidate=Candidate(kind="file", function=card.solution.function, path=str(path.resolve())),
        timeout=timeout,
        memory_mb=memory_mb,
        threads=pool.cores(),  # the only check running
        own_writes=str(own_writes or ""),
    )
    return run_job(job)


def warm_up(card: Card, content: Content) -> None:
    """Start, in the background, the isolated worker that checks `card`'s attempts (with what
    its checker imports on first use already imported), unless it runs already: the first
    attempt then does not wait for torch's import, and none waits for it again."""
    if card.solution is None:
        return
    with contextlib.suppress(OSError, SyntaxError):  # the check itself reports those
        info = read_module(content.solutions_dir, card.solution.module)
        modules = {checker_ref(card, info).module, card.solution.module}
        pool.preload(
            lazy_imports.lazy_modules(read_module(content.solutions_dir, m).source for m in modules)
        )
    pool.warm_up()


def rating_for(
    outcome: Outcome, chosen: int | None = None, *, hints_shown: int = 0, failed_runs: int = 0
) -> Rating:
    """The rating a check gives, graded by how the answer was reached.

    Args:
        outcome: the check's outcome.
        chosen: the rating the learner picked, if any: Hard, Good or Easy count on a pass.
        hints_shown: hints (or derivation steps, or the answer) the learner saw first.
        failed_runs: checks of this attempt that failed before this one.

    Returns:
        Again unless the check passed. On a pass the learner's choice; without one, Good for a
        first-try pass, Hard for a pass reached with hints or after failed runs.
    """
    if outcome.status != "pass":
        return Rating.Again
    if chosen in (Rating.Hard, Rating.Good, Rating.Easy):
        return Rating(chosen)
    return Rating.Hard if hints_shown or failed_runs else Rating.Good


@dataclass(frozen=True)
class FailingCase:
    """A checker's message split into the call, where in its output the answer went wrong (a
    label the checker gave it, an element's index: "" when the whole value is compared), the
    expected and the actual value, and what follows them ("4 of 9 values off; atol=...")."""

    what: str
    expected: str
    actual: str
    where: str = ""
    detail: str = ""


def failing_case(message: str) -> FailingCase | None:
    """Parse "add_one(3): expected 4, got 5" and "f(x): out: at index (1,): expected 0.5, got
    0.25 (1 of 4 values off; atol=1e-05, rtol=1e-05)" (the shapes `assertions` writes); None
    otherwise.

    Only a checker's verdict is a case: the message of an exception the answer raised, or of
    an `assert` of its own, is the learner's text, "expected 3, got 4" as they wrote it.
    Only the first line is the case: the lines after it (the hint `assertions` adds) are not
    part of the actual value, and the outcome view shows them below the case.
    """
    first = message.partition("\n")[0]
    match = _EXPECTED_GOT.search(first)
    if match is None:
        return None
    head = first[: match.start()]
    if RAISED in head or ANSWERS_ASSERT in head:  # the answer's own words follow
        return None
    what, where = _call_and_rest(head)
    if not what:
        return None
    return FailingCase(
        what=what,
        expected=match["expected"].strip(),
        actual=match["actual"].strip(),
        where=where.strip().removesuffix(":").strip(),
        detail=match["detail"] or "",
    )


def _call_and_rest(head: str) -> tuple[str, str]:
    """ "call(a, {'k': 1}): label: " -> the call (up to the first ": " outside brackets, so a
    dict or a slice in the call stays whole) and the rest."""
    depth = 0
    for i, char in enumerate(head):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == ":" and depth == 0 and head[i + 1 : i + 2] in (" ", ""):
            return head[:i], head[i + 1 :]
    return "", head
