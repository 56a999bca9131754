"""A `solve`'s check recorded: the rating chosen after a pass, and a database busy, full or
changed by another command while the check ran, each said with the command that records the
attempt later."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .app import options, print_prose, stdout
from .context import now, open_study


def _previewed(ctx: typer.Context, card):
    """The interval each rating would give `card` now, for the rating keys' labels, and the
    state they were computed from (`Study.previewed`: the rating hands it back, refused where
    the state changed since); None where the database cannot be read now (the rating itself
    then says why)."""
    from studycli.errors import StudyError

    try:
        with open_study(ctx, write=False) as study:
            return study.previewed(card, now())
    except StudyError:
        return None


def _choose(ctx: typer.Context, card, attempt, getkey, again: str, ahead: str | None = None):
    """The rating the learner chooses after a pass (`choose_rating`), and the intervals it
    was chosen by (`_previewed`); None where they record nothing (q, Ctrl-D: said, with
    `again`, the command that checks the attempt again to record it). `ahead`: the study day
    the card is due on, where it is solved ahead of it (`solve._ahead`).

    Raises:
        typer.Exit: Ctrl-C (130), said as q is.
    """
    from .solve_flow import choose_rating

    shown = _previewed(ctx, card)
    # (these lines unwrapped: the command is pasted, and copied in one piece)
    try:
        chosen = choose_rating(
            stdout(), attempt, getkey, shown.intervals if shown else None, ahead=ahead
        )
    except KeyboardInterrupt:  # (a pass was lost without a word)
        stdout().print(f"interrupted: nothing was recorded; {again}", soft_wrap=True)
        raise typer.Exit(130) from None
    except EOFError:  # Ctrl-D, as q (click said "Aborted." only)
        stdout().print(f"nothing recorded (Ctrl-D); {again}", soft_wrap=True)
        return None
    if chosen is None:
        stdout().print(f"nothing recorded (q); {again}", soft_wrap=True)
        return None
    return chosen, shown


def _record_check(
    ctx: typer.Context,
    card,
    attempt,
    path: Path,
    started: float,
    getkey,
    given: Path | None = None,
    opened: tuple[int, int] | None = None,
    mark: int | None = None,
    moves: int | None = None,
    solve: str = "studycli solve",
    ahead: str | None = None,
) -> None:
    """Record the check's rating: on a pass, the learner's choice when a terminal is there to
    ask (Enter takes the graded default), else the default. A database kept busy past the wait
    (an import of a large log), or a full disk, is tried again on Enter where there is a
    terminal; else the error says how to record it later. `given`: the file of `--file`, which
    the command that checks it again names (`--no-edit` alone checks the attempt file).
    `opened`: the database file as it was before the check (`Study.opened_file`): one removed
    or replaced since (by the attempt's code) is not made again, empty, to record into.
    `mark`: the log's latest review as the solve began: a rating of the card given since, in
    another terminal's `solve` or session, is not followed by a second one (both were
    recorded, seconds apart, the second counted a review of a card just reviewed). `moves`:
    the moves of renamed cards' histories as the solve began (`Study.moves_mark`): a card
    renamed since, its history moved by another command, is not rated under the id it had, as
    a new card. `solve`: `studycli solve` as the commands it says begin it
    (`solve._solve_command`: with --content). `ahead`: the study day the card is due on, where
    it is solved ahead of it: the choice after a pass says it beside q (`choose_rating`)."""
    from rich.text import Text

    from studycli.errors import (
        HistoryMoved,
        RatedElsewhere,
        StateChanged,
        StoreFull,
        StoreUnavailable,
        WaitInterrupted,
    )
    from studycli.study.api import ReviewMethod
    from studycli.study.labels import RATING_NAMES, format_interval

    from .again import shell_path
    from .terminal import ENTER

    rating, shown = attempt.rating(), None  # (shown: the intervals a choice was made by)
    again = ""
    if attempt.outcome.status == "pass" and getkey is not None:
        named = f" --file {shell_path(given)}" if given is not None else ""
        again = f"`{solve} {card.id} --no-edit{named}` checks it again to record it"
        if (chosen := _choose(ctx, card, attempt, getkey, again, ahead)) is None:
            return
        rating, shown = chosen
    if opened is not None:
        from studycli.paths import database_path
        from studycli.study.api import refuse_replaced

        refuse_replaced(database_path(options(ctx).db), opened)
    record_later = (
        f"`{solve} {card.id} --no-edit --file {shell_path(path)}` checks your attempt "
        "again and records it"
    )
    while True:
        moment = now()
        try:
            with open_study(ctx) as study:
                rated = study.rate(
                    card,
                    rating,
                    moment,
                    method=ReviewMethod.CHECK,
                    check_status=attempt.outcome.status,
                    duration_ms=int((time.monotonic() - started) * 1000),
                    unless_rated_after=mark,
                    unless_moved_after=moves,
                    shown=shown,
                )
            break
        except StateChanged as refused:  # (only where intervals were shown: asked again)
            from .session_rating import why_intervals_moved

            why = why_intervals_moved(refused, "the rating was asked")
            print_prose(
                stdout(),
                f"{RATING_NAMES[rating]} was not recorded: {card.id}'s {why}: choose again by "
                "those below",
                markup=False,
            )
            if (chosen := _choose(ctx, card, attempt, getkey, again, ahead)) is None:
                return
            rating, shown = chosen
        except RatedElsewhere as other:
            print_prose(
                stdout(),
                f"not recorded: {card.id} was rated {RATING_NAMES[other.rating]} in another "
                "session while this solve ran (a second rating would count a second review of "
                f"it now); your attempt stays in {path}",
                markup=False,
            )
            return
        except HistoryMoved as moved:
            told = moved.said("this solve", lambda new: f"`{solve} {new}`")
            print_prose(
                stdout(), f"not recorded: {told}; your attempt stays in {path}", markup=False
            )
            return
        except WaitInterrupted:  # (a Ctrl-C while it waited for another process's lock)
            stdout().print(
                f"interrupted: {RATING_NAMES[rating]} was not recorded; {record_later}",
                soft_wrap=True,
                markup=False,
            )
            raise typer.Exit(130) from None
        except StoreUnavailable as busy:  # (an import holding it, a full disk)
            unsaved = f"{RATING_NAMES[rating]} was not recorded: {busy.why}"
            if getkey is None:
                if isinstance(busy, StoreFull):  # its own fix (`ulimit -f`'s): not "room"
                    message = f"{unsaved}; {busy.room}, then {record_later}"
                    raise StoreFull(message, busy.why, busy.room) from None
                message = f"{unsaved}; once it is free, {record_later}"
                raise type(busy)(message, busy.why) from None
            stdout().print(
                Text(f"{unsaved}; press Enter to try again, or q to give up", style="bold yellow")
            )
            try:
                while (key := getkey()) not in ENTER:
                    if key == "q":  # (it said only what Enter does)
                        stdout().print(
                            f"nothing recorded (q); {record_later}", soft_wrap=True, markup=False
                        )
                        raise typer.Exit(1) from None
            except KeyboardInterrupt:  # (at the prompt: it said only "interrupted")
                stdout().print(
                    f"interrupted: {RATING_NAMES[rating]} was not recorded; {record_later}",
                    soft_wrap=True,
                    markup=False,
                )
                raise typer.Exit(130) from None
    stdout().print(
        f"recorded {RATING_NAMES[rated.review.rating]}: due again in "
        f"{format_interval(rated.due - moment)}"
    )
    if attempt.outcome.status == "pass" and given is None:  # (a --file is the learner's own)
        from studycli.check.attempt_files import put_aside

        if said := put_aside(card.id):
            stdout().print(said, style="dim", soft_wrap=True, markup=False)
