"""Study commands: review, solve, due, history, suspend, unsuspend."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from studycli.study.settings import Settings

from .app import (
    app,
    content_given,
    exit_interrupted,
    finite_seconds,
    options,
    print_prose,
    stdout,
)
from .completion import (
    DeckOption,
    TagOption,
    TopicOption,
    complete_runnable_id,
    complete_study_id,
)
from .context import now, open_study, reviews_kept, session_cards, settings

if TYPE_CHECKING:
    from studycli.study.api import Review

    from .table import Column


@app.command()
def review(
    ctx: typer.Context,
    deck: DeckOption = None,
    topic: TopicOption = None,
    tag: TagOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many cards.")] = None,
) -> None:
    """Study what is due: learning cards, then reviews, then today's new cards.

    Enter or space reveals (a derivation step by step), 1-4 rate (Again, Hard, Good, Easy; each
    shows the interval it gives), s solves a coding card by running its check, h shows a hint,
    b buries the card until tomorrow (not rated, as Anki's bury), @ suspends it (not rated, as
    `studycli suspend` its id: a cloze card's every deletion; `studycli unsuspend` brings it
    back), u undoes the last rating, bury or suspension, q quits. Every rating is saved at once.

    Example: studycli review --deck transformers --limit 20
    """
    from .review_session import ReviewSession
    from .terminal import getkey, quiet_keys

    content, items, card_of = session_cards(
        ctx,
        "review",
        "scripts can use `studycli due --json` and `studycli solve`",
        deck,
        topic,
        tag,
        rows=True,
    )
    with open_study(ctx) as study, quiet_keys():
        session = ReviewSession(
            stdout(), study, content, items, clock=now, getkey=getkey, limit=limit, card_of=card_of
        )
        summary = session.run()
    if summary.interrupted:  # Ctrl-C (its ratings are saved): 130, as for any command; q is 0
        raise typer.Exit(130)


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
    A pass exits 0 and records Good on a first try, Hard when it took hints or failed runs
    first (in a terminal you may pick 2 Hard, 3 Good or 4 Easy instead; Enter takes that
    default); a failure shows the failing case, records Again and exits 1 (an attempt that
    does not compile shows its syntax error and records nothing). With --watch the
    editor is not opened: edit the file shown in your own editor, and every save re-runs the
    check until it passes (a save that does not compile once it has stayed so for a moment:
    one caught half written is not checked; a save that changes no byte is not checked again;
    h shows the next hint; q or Ctrl-C stops, and the last finished check is recorded).

    Example: studycli solve online-softmax --watch
    """
    from studycli.check.solve import (
        compiles,
        ensure_attempt,
        follow_rename,
        is_untouched,
        read_attempt,
        require_runnable,
        warm_up,
    )

    from .solve_flow import Attempt, Limits, StoppedAtPrompt, check, edit, stopped_by
    from .solve_flow import watch as watch_file
    from .terminal import getkey

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
    if not no_record:  # a database the rating cannot go to: said before the learner's work
        study = open_study(ctx)
        opened, mark, moves = study.opened_file, study.latest_review_id(), study.moves_mark
        flags = study.flags(card)  # as `review` shows them: an attempt written from the card's
        study.close()  # starter before it changed no longer fits it
    else:  # (read only: the learner practising still learns that the card changed)
        flags = _flags_read_only(ctx, card)
    if flags:
        console.print(" · ".join(flags), style="bold yellow", soft_wrap=True, markup=False)
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
    compiled = True  # (--watch: a save left not compiling is a failed run, as it says)
    try:
        if watch:
            attempt = watch_file(console, card, content, path, limits)
        else:
            compiled = compiles(path)
            attempt = Attempt(check(console, card, content, path, limits))
    except KeyboardInterrupt:
        exit_interrupted("interrupted: the check was stopped; nothing was recorded")
    if attempt is None:  # `q` in --watch before a check of the learner's code finished
        console.print("nothing recorded: no check of your code finished")
        raise typer.Exit(1)
    if is_untouched(card, content, path):
        console.print("not recorded: the attempt is still the starter (write your answer first)")
    elif not compiled and attempt.outcome.status != "pass":  # a typo is no failed recall: a
        # missing colon recorded Again
        console.print("not recorded: the attempt does not compile; fix it and check it again")
    elif not no_record:
        _record_check(
            ctx, card, attempt, path, started, getkey if interactive else None, given=file,
            opened=opened, mark=mark, moves=moves, solve=_solve_command(ctx, content.root),
        )  # fmt: skip
    if attempt.outcome.status != "pass":  # (unwrapped: the command is pasted in one piece)
        how = " --watch" if watch else " --no-edit" if no_edit else ""
        kept = (f" --timeout {timeout:g}" if timeout is not None else "") + (
            f" --memory {memory}" if memory is not None else ""
        )  # (and --no-record: pasted without it, a solve for practice recorded Again)
        kept += " --no-record" if no_record else ""
        console.print(
            _next_try(_solve_command(ctx, content.root), card.id, path, file, how, kept),
            style="dim", soft_wrap=True, markup=False,
        )  # fmt: skip
    raise typer.Exit(0 if attempt.outcome.status == "pass" else 1)


def _flags_read_only(ctx: typer.Context, card) -> list[str]:
    """`card`'s flags for a solve that records nothing (--no-record), the database read as it
    is: nothing reaches its file (no migration, no switch to WAL, a renamed card's history
    moved in memory only); none where there is no database yet or it cannot be read now: the
    flags are not worth an error in a solve that needs no database."""
    from studycli.errors import StudyError
    from studycli.paths import database_path

    if not database_path(options(ctx).db).exists():  # (nothing reviewed: none to flag)
        return []
    try:  # (`config`: the note on the FSRS parameters is for a solve that schedules)
        with open_study(ctx, as_is=True, config=settings()) as study:
            return study.flags(card)
    except StudyError:
        return []


def _solve_command(ctx: typer.Context, root: Path) -> str:
    """`studycli solve`, with the --content the command line gave (the folder whole, quoted):
    pasted elsewhere without it, the command found no card. One from STUDYCLI_CONTENT is not
    named: the environment gives it again."""
    if not content_given(ctx):
        return "studycli solve"
    import shlex

    return f"studycli --content {shlex.quote(str(root))} solve"


def _next_try(
    solve: str, card_id: str, path: Path, given: Path | None, how: str, kept: str = ""
) -> str:
    """After a solve that did not pass: where the attempt stays and the command that checks it
    again, given as this one was (`solve`: `studycli solve`, with its --content; `how`: its
    --watch or --no-edit; `kept`: its --timeout, --memory and --no-record). It ended at
    "recorded Again: due again in 1m", exit status 1, and a newcomer knew neither."""
    import shlex

    if given is not None:
        command = f"{solve} {card_id} --file {shlex.quote(str(given))}{kept}"
        return f"mend it, then `{command}` checks it again"
    again = "checks it again" if how else "opens it again"
    return f"your attempt stays in {path}: `{solve} {card_id}{how}{kept}` {again}"


def _intervals(ctx: typer.Context, card) -> dict:
    """The interval each rating would give `card` now, for the rating keys' labels; none where
    the database cannot be read now (the rating itself then says why)."""
    from studycli.errors import StudyError

    try:
        with open_study(ctx, write=False) as study:
            return study.preview(card, now())
    except StudyError:
        return {}


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
    a new card. `solve`:
    `studycli solve` as the commands it says begin it (`_solve_command`: with --content)."""
    import shlex

    from rich.text import Text

    from studycli.errors import (
        HistoryMoved,
        RatedElsewhere,
        StoreFull,
        StoreUnavailable,
        WaitInterrupted,
    )
    from studycli.study.api import ReviewMethod
    from studycli.study.labels import RATING_NAMES, format_interval

    from .solve_flow import choose_rating
    from .terminal import ENTER

    rating = attempt.rating()
    if attempt.outcome.status == "pass" and getkey is not None:
        named = f" --file {shlex.quote(str(given))}" if given is not None else ""
        again = f"`{solve} {card.id} --no-edit{named}` checks it again to record it"
        # (these lines unwrapped: the command is pasted, and copied in one piece)
        try:
            chosen = choose_rating(stdout(), attempt, getkey, _intervals(ctx, card))
        except KeyboardInterrupt:  # (a pass was lost without a word)
            stdout().print(f"interrupted: nothing was recorded; {again}", soft_wrap=True)
            raise typer.Exit(130) from None
        except EOFError:  # Ctrl-D, as q (click said "Aborted." only)
            stdout().print(f"nothing recorded (Ctrl-D); {again}", soft_wrap=True)
            return
        if chosen is None:
            stdout().print(f"nothing recorded (q); {again}", soft_wrap=True)
            return
        rating = chosen
    if opened is not None:
        from studycli.paths import database_path
        from studycli.study.api import refuse_replaced

        refuse_replaced(database_path(options(ctx).db), opened)
    record_later = (
        f"`{solve} {card.id} --no-edit --file {shlex.quote(str(path))}` checks your attempt "
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
                )
            break
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
                later = "there is room" if isinstance(busy, StoreFull) else "it is free"
                raise type(busy)(
                    f"{unsaved}; once {later}, `{solve} {card.id} --no-edit --file "
                    f"{shlex.quote(str(path))}` checks your attempt again and records it",
                    busy.why,
                ) from None
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
        from studycli.check.solve import put_aside

        if said := put_aside(card.id):
            stdout().print(said, style="dim", soft_wrap=True, markup=False)


@app.command()
def due(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Count what is due now, per deck, and say when the next card falls due.

    A deck's counts are what `studycli review --deck D` shows, the day's limits applied to it
    alone (as Anki's deck list counts), so the decks' counts can add up to more than all's.
    `--json` prints {"due", "learning", "new", "held_new", "held_reviews", "next_due", "decks":
    {deck: {...}}}: reviews due now, learning cards due now, new cards available today (after
    the daily limits), new cards and reviews due today that the day's limits hold back.

    Example: studycli due --json
    """
    items = options(ctx).study_items()
    moment = now()
    with open_study(ctx) as study:
        counts = study.due_counts(items, moment)
    if as_json:
        import json

        print(json.dumps(counts.to_dict(), indent=2))
        return
    from .table import print_table

    console = stdout()
    rows = [
        (deck, *(str(row[k]) for k in ("due", "learning", "new")))
        for deck, row in counts.decks.items()
    ]
    rows.append(("all", *(str(n) for n in (counts.due, counts.learning, counts.new))))
    print_table(console, "due now", due_columns(), rows, bold_rows=frozenset({len(rows) - 1}))

    from studycli.paths import config_path

    due_now = bool(counts.due or counts.learning)
    line = _next_due_line(counts.next_due, moment, due_now, counts.new)
    if counts.held_new and counts.next_due is not None:  # (else the line says so already;
        # "next card due in 6d" alone was read as the end of the deck)
        from studycli.study.labels import held_new_note

        line += "; " + held_new_note(counts.held_new, settings().new_per_day, config_path())
    if counts.held_reviews:  # (a session ended "Nothing more is due now", 20 reviews due)
        from studycli.study.labels import held_reviews_note

        line += "; " + held_reviews_note(
            counts.held_reviews, settings().reviews_per_day, config_path()
        )
    # no markup, no emoji; wrapped at words, a path wider than the terminal (the settings
    # file's, in a note) whole on its own line: Rich's wrap cut it at the width
    print_prose(console, line, markup=False, emoji=False, highlight=False)


def due_columns() -> list[Column]:
    """The columns of `due`'s table. A deck's name too long for a narrow terminal is cut short
    (`representati…`): it has no parts to break at, and a fold broke it mid-word."""
    from .table import Column

    return [
        Column("deck", overflow="ellipsis"),
        Column("due", justify="right"),
        Column("learning", justify="right", short="learn"),  # (30 columns: 31 wide with it)
        Column("new", justify="right"),
    ]


def _next_due_line(
    upcoming: datetime | None, moment: datetime, due_now: bool = False, new: int = 1
) -> str:
    """`due`'s last line; `due_now`: the table counts cards due now (a review card is due all
    the study day it falls due in, while `upcoming`, its due time, may be later today); `new`:
    the new cards `review` shows today."""
    from studycli.study.labels import format_interval

    if upcoming is None and not new:  # (review would say the day's new cards are studied)
        from studycli.paths import config_path

        return (
            "none of these cards is scheduled yet, and no new card is left today "
            f"(new_per_day in {config_path()}; `studycli cram` studies them now)"
        )
    if upcoming is None:
        return "none of these cards is scheduled yet: `studycli review` starts with the new cards"
    when = upcoming.astimezone().strftime("%Y-%m-%d %H:%M")
    study = ": `studycli review` studies them"  # (it said no next step)
    if upcoming <= moment:
        return f"cards are due now (the oldest since {when}){study}"
    if due_now:
        return f"cards are due now{study}"
    return f"next card due in {format_interval(upcoming - moment)} ({when})"


HISTORY_LIMIT = 50  # reviews `history` shows unless told


@app.command()
def history(
    ctx: typer.Context,
    card: Annotated[
        str | None,
        typer.Option("--card", help="Only this card's reviews.", autocompletion=complete_study_id),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            help=f"The latest N reviews (default {HISTORY_LIMIT}; with --json all); 0 for all.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reviews as JSON.")] = False,
) -> None:
    """Show the review log, the latest reviewed first (undone ratings left out).

    By default the latest 50 reviews and a line counting the older ones. `--json` prints every
    review unless --limit is given.

    Example: studycli history --card online-softmax --limit 10
    """
    if limit is None:
        limit = 0 if as_json else HISTORY_LIMIT  # JSON is for scripts: all, as it always was
    with open_study(ctx) as study:
        reviews = study.history(card, limit=limit or None)
        total = study.history_size(card) if limit and len(reviews) == limit else len(reviews)
    if card is not None and not reviews:  # a typo ('' too), or a card not studied yet?
        options(ctx).load().card_of(card)  # an unknown id: the closest ones
    if as_json:
        import json

        print(json.dumps([r.to_dict() for r in reviews], indent=2))
        return
    _print_history(reviews, total, card)


def history_columns() -> list[Column]:
    """The columns of `history`'s table."""
    from .table import Column

    return [
        Column("when"),
        Column("card"),
        Column("rating"),
        Column("how", wrap=True),
        Column("seconds", justify="right", hide=1),
    ]


def _print_history(reviews: list[Review], total: int, card: str | None) -> None:
    """The reviews as a table, and a line saying how many older ones it leaves out."""
    from rich.text import Text

    from studycli.study.labels import counted

    from .table import print_table

    console = stdout()
    if not total:  # (an empty table said it too, in more lines)
        console.print(Text(f"no reviews{f' of {card}' if card else ''} yet"))
        return
    title = (
        counted(total, "review")
        if len(reviews) == total
        else f"the latest {len(reviews)} of {counted(total, 'review')}"
    )
    print_table(
        console,
        title + (f" of {card}" if card else ""),
        history_columns(),
        [_history_row(r) for r in reviews],
    )
    older = total - len(reviews)
    if older:
        command = "studycli history" + (f" --card {card}" if card else "") + " --limit 0"
        noun = "review" if older == 1 else "reviews"
        console.print(Text(f"{older:,} older {noun} not shown: `{command}` shows all"))


def _history_row(r: Review) -> tuple[str, str, str, str, str]:
    from studycli.study.labels import RATING_NAMES

    how = str(r.method)
    if r.check_status is not None:
        how = f"check: {r.check_status}" if how == "check" else f"{how}, check: {r.check_status}"
    return (
        r.reviewed_at.astimezone().strftime("%Y-%m-%d %H:%M"),
        r.card_id,
        f"{r.rating} {RATING_NAMES[r.rating]}",
        how,
        f"{r.duration_ms / 1000:.1f}" if r.duration_ms is not None else "",
    )


@app.command()
def suspend(
    ctx: typer.Context,
    card_id: Annotated[str, typer.Argument(autocompletion=complete_study_id)],
) -> None:
    """Keep a card out of reviews (its history and schedule are kept); `card#c2` keeps one
    deletion of a cloze card out.

    Example: studycli suspend flash-attention
    """
    _set_suspended(ctx, card_id, True)


@app.command()
def unsuspend(
    ctx: typer.Context,
    card_id: Annotated[str, typer.Argument(autocompletion=complete_study_id)],
) -> None:
    """Bring a suspended card back into reviews, with its schedule as it was.

    Example: studycli unsuspend flash-attention
    """
    _set_suspended(ctx, card_id, False)


def _set_suspended(ctx: typer.Context, card_id: str, suspended: bool) -> None:
    """(Un)suspend a card (every deletion of a cloze card), or one deletion (`card#c2`, as
    `history` shows it)."""

    from studycli.errors import CardNotFound

    try:
        card, items = options(ctx).load().card_of(card_id)
    except CardNotFound as missing:  # (a removed card's "did you mean" alone read as a typo)
        raise CardNotFound(f"{missing}{reviews_kept(ctx, card_id)}") from None
    with open_study(ctx) as study:
        kept_out = study.suspended(items)  # (under the ids of the kind it had, too)
        if all((item.id in kept_out) == suspended for item in items):
            stdout().print(
                f"{card_id} is suspended already: `studycli unsuspend {card_id}` brings it back"
                if suspended
                else f"{card_id} is not suspended: it is in reviews already",
                soft_wrap=True,  # (unwrapped: a command to paste, copied in one piece)
            )
            return
        study.set_suspended(items, suspended, card.study_items())
    stdout().print(
        f"suspended {card_id}: `studycli unsuspend {card_id}` brings it back"
        if suspended
        else f"{card_id} is back in reviews",
        soft_wrap=True,
    )
