"""Answering a coding card with code: the attempt file made from the starter and read, the
check, the rating.

The attempt lives at `<data dir>/attempts/<card-id>.py` (`attempt_files`), written once from
the card's starter and then only ever changed by the learner (in `editor`'s editor). The check
runs in `runner`'s isolated process with a time limit and a memory cap, so a hang or a blow-up
in the attempt is its outcome.
"""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

from fsrs import Rating

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.content.source import card_module, card_starter, checker_ref, read_module
from studycli.errors import StudyError
from studycli.paths import FileTooLarge, NotRegularFile, create_file, read_regular

from . import lazy_imports, pool
from .attempt_files import attempt_path
from .runner import Candidate, Job, Outcome, run_job


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
        write_starter(card, content, path)
    return path


def write_starter(card: Card, content: Content, path: Path) -> bytes | None:
    """Write `card`'s starter as the new file `path`, never over a file there: the bytes
    written; None where a file was there already (left as it is: the learner's work, or a save
    of theirs that came first).

    Raises:
        StudyError: the file cannot be written.
        ContentError: the card's solution module cannot be read.
    """
    starter = card_starter(card, content.solutions_dir).encode("utf-8")
    try:  # (in one step: a full disk left the file cut short, kept as the learner's)
        return starter if create_file(path, starter) else None
    except OSError as exc:
        raise StudyError(
            f"cannot write your attempt file {path} ({exc.strerror or exc}): free some "
            f"space on its disk or make {path.parent} writable, or set STUDYCLI_HOME to a "
            "folder you can write"
        ) from None


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
    Again, as a missing colon once did). So is a check the machine starved of CPU
    (`Status.BUSY`): nothing was judged, and a correct answer was rated Again."""
    if outcome.status == "pass":
        return ""
    if outcome.status == "busy":
        return NOT_JUDGED
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
NOT_JUDGED = "was not judged: the machine was too busy to run its check"  # (`unanswered`)


def require_runnable(card: Card) -> None:
    if not card.runnable:
        raise StudyError(
            f"{card.id} is a {card.kind.value} card with no solution to run: "
            "study it with `studycli review`"
        )


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
    job = check_job(
        card, content, path, timeout=timeout, memory_mb=memory_mb, own_writes=own_writes
    )
    warm_up(card, content)
    return run_job(job)


def check_job(
    card: Card,
    content: Content,
    path: Path,
    *,
    timeout: float,
    memory_mb: int,
    own_writes: Path | None = None,
) -> Job:
    """The isolated check `run_check` runs on the attempt at `path` (see there; it raises
    the same errors)."""
    require_runnable(card)
    assert card.solution is not None
    read_attempt(path)  # an unreadable attempt is the learner's to fix, not a check outcome
    info = card_module(card, content.solutions_dir)
    check = checker_ref(card, info)
    if check.module != card.solution.module:
        card_module(card, content.solutions_dir, check.module)
    return Job(
        solutions_dir=str(content.solutions_dir),
        check_module=check.module,
        check_function=check.function,
        candidate=Candidate(kind="file", function=card.solution.function, path=str(path.resolve())),
        timeout=timeout,
        memory_mb=memory_mb,
        own_writes=str(own_writes or ""),
    )


def warm_up(card: Card, content: Content) -> None:
    """Start, in the background, the isolated worker that checks `card`'s attempts (with what
    its checker imports on first use already imported, and its solution modules loaded),
    unless it runs already: the first attempt then does not wait for torch's import, and none
    waits for it again, nor for what the modules import at their top (each attempt imported
    them again, a module's `import sympy` 0.4 s of every one)."""
    if card.solution is None:
        return
    with contextlib.suppress(OSError, SyntaxError):  # the check itself reports those
        info = read_module(content.solutions_dir, card.solution.module)
        modules = {checker_ref(card, info).module, card.solution.module}
        pool.preload(
            lazy_imports.lazy_modules(
                read_module(content.solutions_dir, m).source for m in modules
            ),
            solutions=(str(content.solutions_dir), sorted(modules)),
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
