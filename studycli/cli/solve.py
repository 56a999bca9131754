"""`studycli solve`: a coding card answered at the command line, its attempt edited (or watched)
and checked, and the outcome recorded (solve_record.py); the check on a terminal is
solve_flow.py's, shared with the review session."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from studycli.errors import StudyError
from studycli.records import Record
from studycli.study.settings import Settings

from .app import (
    app,
    exit_interrupted,
    finite_seconds,
    options,
    print_prose,
    stdout,
)
from .completion import complete_runnable_id
from .context import flags_as_is, now, open_study, settings
from .solve_record import _record_check

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from studycli.content.card import Card
    from studycli.content.loader import Content


@app.command()
def solve(
    ctx: typer.Context,
    card_id: Annotated[
        str,
        typer.Argument(help="The coding card to answer.", autocompletion=complete_runnable_id),
    ],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Check this file instead of your attempt file (no editor).",
            readable=False,  # (click's check was a usage error: read_attempt says the fix)
        ),
    ] = None,
    no_edit: Annotated[bool, typer.Option("--no-edit", help="Check the attempt as it is.")] = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Re-run on every save until it passes.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            max=3600,
            callback=finite_seconds,
            help="Seconds the check may take "
            f"(default: check_timeout in settings, {Settings().check_timeout:g}).",
        ),
    ] = None,
    memory: Annotated[
        int | None,
        typer.Option(
            min=64,
            help="Memory cap of the check in MB "
            f"(default: check_memory_mb in settings, {Settings().check_memory_mb}).",
        ),
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record a review.")] = False,
) -> None:
    """Answer a coding card: edit your attempt, run the card's checker on it, record the outcome.

    Your attempt is kept in your data folder between sessions and opened in $VISUAL or $EDITOR.

    A pass exits 0 and records Good on a first try in this solve, Hard when it took hints or
    failed runs first (an earlier solve's Again is in the card's history already, and is not
    counted again). In a terminal you may pick 2 Hard, 3 Good or 4 Easy instead, or q to record
    nothing; Enter takes that default.

    A failure shows the failing case, records Again and exits 1. An attempt that does not
    compile shows its syntax error and records nothing, as does one that defines no function of
    the card's name (misnamed: it was never called); the starter untouched is not checked at
    all, as in `review`.

    With --watch the editor is not opened: edit the file shown in your own editor, and every
    save re-runs the check until it passes; h shows the next hint. q or Ctrl-C stops the watch
    before a pass, and the last finished check is recorded (a typo's, as above, only where a
    check of your answer failed before it); a pass ends the watch with the choice above.

    While it watches, a save that does not compile is checked once it has stayed so for a
    moment (one caught half written is not checked), and counts as a failed run before a pass,
    as a misnamed one does, as in `review`. A save that changes no byte is not checked again,
    nor is the file while it is still the starter, as in `review`.

    A card that is not due yet is recorded all the same: the review moves its schedule (FSRS
    takes an early review into account). --no-record checks your attempt and records nothing, to
    practise a card ahead of time.

    Example: studycli solve online-softmax --watch
    """
    from studycli.check.attempt_files import follow_rename
    from studycli.check.solve import (
        compiles,
        ensure_attempt,
        read_attempt,
        require_runnable,
        unanswered,
        warm_up,
    )
    from studycli.check.starters import is_untouched

    from .solve_flow import Attempt, Limits, StoppedAtPrompt, check, edit, stopped_by
    from .solve_watch import watch as watch_file
    from .terminal import getkey

    if watch and not sys.stdin.isatty():  # (it watched for ever, offering keys it never read)
        raise StudyError(
            "`studycli solve --watch` reads keys from a terminal: run it in one (scripts can "
            f"use `studycli solve {card_id} --no-edit`, or --file FILE)"
        )
    content = options(ctx).load()
    card, _ = content.card_of(card_id)  # (a cloze deletion's id: its card, not runnable)
    require_runnable(card)
    warm_up(card, content)  # torch's import in the checking worker, while the learner edits
    config = settings()
    limits = Limits(timeout or config.check_timeout, memory or config.check_memory_mb)
    console = stdout()
    if file is not None:
        read_attempt(file)  # missing, a folder, unreadable or not text: say so before anything
    elif said := follow_rename(card, content):  # (unwrapped: its path copies in one piece)
        console.print(said, style="dim", soft_wrap=True, markup=False)
    path = file or ensure_attempt(card, content)
    opened = None  # (the file, which the check's code could remove: see `_record_check`)
    mark = moves = None  # the log's latest review, and move, as the solve began (`_record_check`)
    ahead = None  # the study day the card is due on, where this solve records it ahead of it
    if not no_record:  # a database the rating cannot go to: said before the learner's work
        study = open_study(ctx)
        opened, mark, moves = study.opened_file, study.latest_review_id(), study.moves_mark
        flags = study.flags(card)  # as `review` shows them: an attempt written from the card's
        # starter before it changed no longer fits it
        ahead = _ahead(study.due_later(card, now()))
        study.close()
    else:  # (read only: the learner practising still learns that the card changed)
        flags = flags_as_is(ctx, [card]).get(card.id, [])
    if flags:
        console.print(" · ".join(flags), style="bold yellow", soft_wrap=True, markup=False)
    if ahead is not None:  # before the work, while --no-record can still be chosen: a failure
        # is recorded at once (Again, its schedule restarted), with no prompt to stop it
        print_prose(console, ahead.said, style="yellow", markup=False)
    started = time.monotonic()
    interactive = sys.stdin.isatty()
    if file is None and not no_edit and not watch:
        try:
            edit(
                console,
                path,
                getkey if interactive else None,
                lambda: is_untouched(card, content, path),
            )
        except KeyboardInterrupt as stopped:  # in the editor (its own Ctrl-C) or at its prompt
            from rich.markup import escape

            gave_up = isinstance(stopped, StoppedAtPrompt) and stopped.key == "q"  # exit 1
            print_prose(
                console,
                f"{'stopped' if gave_up else 'interrupted'}: {stopped_by(stopped)}; "
                f"nothing was checked or recorded ({escape(str(path))} is as it was last saved)",
            )
            raise typer.Exit(1 if gave_up else 130) from None
    how = " --watch" if watch else " --no-edit" if no_edit else ""
    kept = (f" --timeout {timeout:g}" if timeout is not None else "") + (
        f" --memory {memory}" if memory is not None else ""
    )  # (and --no-record: pasted without it, a solve for practice recorded Again)
    kept += " --no-record" if no_record else ""
    untouched = "not recorded: the attempt is still the starter (write your answer first)"
    if not watch and is_untouched(card, content, path):  # no attempt: not checked, as in
        # `review`'s `s` and --watch (its NotImplementedError panel was shown, as if the
        # learner's answer had failed)
        _modules_read(card, content)
        _starter_left(console, card, content, path, given=file)
        print_prose(console, untouched)
        console.print(
            _next_try(_solve_command(ctx, content.root), card.id, path, file, how, kept),
            style="dim", soft_wrap=True, markup=False,
        )  # fmt: skip
        raise typer.Exit(1)
    try:
        if watch:
            attempt = watch_file(console, card, content, path, limits)
        else:
            compiled = compiles(path)
            outcome = check(console, card, content, path, limits)
            attempt = Attempt(outcome, typo=unanswered(compiled, outcome))
    except KeyboardInterrupt:
        exit_interrupted("interrupted: the check was stopped; nothing was recorded")
    if attempt is None:  # `q` in --watch before a check of the learner's code finished
        console.print("nothing recorded: no check of your code finished")
        raise typer.Exit(1)
    if is_untouched(card, content, path):  # (--watch's last check, saved back to the starter)
        print_prose(console, untouched)
    elif attempt.typo:  # a typo is no failed recall: a missing colon, or a misnamed function,
        # recorded Again (and did so at q in --watch, where the last check was one)
        # (a misnamed answer's check just said what it defines: `misnamed`; --watch's q may
        # come long after that check, and says it again. What to do next is `_next_try`'s
        # line, below: "fix it and check it again" here said it twice)
        why = f"the attempt {attempt.typo}"
        if attempt.outcome.missing and not watch:
            why = "its answer was never called"
        print_prose(
            console, f"not recorded: {why}", markup=False
        )  # (piped, one line: Rich broke it at 80 columns, a long function name's "again")
    elif not no_record:
        _record_check(
            ctx, card, attempt, path, started, getkey if interactive else None, given=file,
            opened=opened, mark=mark, moves=moves, solve=_solve_command(ctx, content.root),
            ahead=ahead.day if ahead is not None else None,
        )  # fmt: skip
    if attempt.outcome.status != "pass":  # (unwrapped: the command is pasted in one piece)
        console.print(
            _next_try(
                _solve_command(ctx, content.root), card.id, path, file, how, kept,
                mend=attempt.outcome.status != "busy",
            ),
            style="dim", soft_wrap=True, markup=False,
        )  # fmt: skip
    raise typer.Exit(0 if attempt.outcome.status == "pass" else 1)


class _Ahead(Record):
    """A card solved ahead of its schedule: the study day it is due on, and what is said of
    it before the solve."""

    day: str
    said: str


def _ahead(due: datetime | None) -> _Ahead | None:
    """What a solve that records says of a card due on a later study day (`Study.due_later`):
    a learner practising a card ahead of time may not know that a recorded review moves its
    schedule (FSRS takes the early review into account: with the default parameters, a card
    due 11 days after its last review and passed Good after 3 of them came back in 23 days,
    passed on time in 46; a failure restarts it), nor that --no-record checks without
    recording. None where the card is due (nothing is said: a solve of a due card is the usual
    one), new, or not in the database."""
    if due is None:
        return None
    from studycli.study.labels import format_interval

    day = f"{due.astimezone():%Y-%m-%d}"
    said = (
        f"not due until {day} (in {format_interval(due - now())}): recording this solve "
        "moves its schedule; --no-record to practise only"
    )
    return _Ahead(day, said)


def _modules_read(card: Card, content: Content) -> None:
    """Read the card's solution module and its checker's, as a check of the attempt would
    first: a module that does not read (an author's syntax error) is said as the check said
    it, not passed over because the attempt was still the starter.

    Raises:
        ContentError: one line naming the module, the line of its error, and the fix.
    """
    from studycli.content.source import card_module, checker_ref

    info = card_module(card, content.solutions_dir)
    card_module(card, content.solutions_dir, checker_ref(card, info).module)


def _starter_left(
    console: Console, card: Card, content: Content, path: Path, given: Path | None
) -> None:
    """Of an attempt file that is a starter the card no longer has (an older studycli wrote
    it), how to get the new one (`changed_starter`); nothing of a file given with --file:
    deleting that one gives no starter."""
    from studycli.check.starters import starter_kind

    from .solve_flow import changed_starter

    if given is None and starter_kind(card, content, path) == "older":
        print_prose(console, changed_starter(path), style="yellow", markup=False)


def _solve_command(ctx: typer.Context, root: Path) -> str:
    """`studycli solve`, with the --content and --db the command line gave (`again`)."""
    from .again import studycli_again

    return f"{studycli_again(ctx, root)} solve"


def _next_try(
    solve: str,
    card_id: str,
    path: Path,
    given: Path | None,
    how: str,
    kept: str = "",
    mend: bool = True,
) -> str:
    """After a solve that did not pass: where the attempt stays and the command that checks it
    again, given as this one was (`solve`: `studycli solve`, with its --content; `how`: its
    --watch or --no-edit; `kept`: its --timeout, --memory and --no-record). It ended at
    "recorded Again: due again in 1m", exit status 1, and a newcomer knew neither. `mend`:
    whether the attempt is to be mended first (not one the machine was too busy to judge)."""
    from .again import shell_path

    if given is not None:
        command = f"{solve} {card_id} --file {shell_path(given)}{kept}"
        return (
            f"mend it, then `{command}` checks it again" if mend else f"`{command}` checks it again"
        )
    again = "checks it again" if how else "opens it again"
    return f"your attempt stays in {path}: `{solve} {card_id}{how}{kept}` {again}"
