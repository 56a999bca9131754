"""Study commands: review, solve, due, history, suspend, unsuspend.

The only place that reads the clock: `STUDYCLI_NOW` (ISO-8601 with an offset) fixes it, for
tests and for recording a session.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from studycli.errors import StudyError

from .app import app, options, stdout


def now() -> datetime:
    """The current time in UTC, or `STUDYCLI_NOW` when set."""
    text = os.environ.get("STUDYCLI_NOW")
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise StudyError(
            f"STUDYCLI_NOW={text!r} must be an ISO-8601 time with an offset, "
            "e.g. 2025-03-01T09:00:00+00:00 (or unset it to use the clock)"
        )
    return moment.astimezone(UTC)


def settings():
    from studycli.paths import config_path
    from studycli.study.settings import load_settings

    return load_settings(config_path())


def open_store(ctx: typer.Context):
    from studycli.paths import database_path
    from studycli.study.store import Store

    return Store.open(database_path(options(ctx).db))


@app.command()
def review(
    ctx: typer.Context,
    deck: Annotated[str | None, typer.Option(help="Only this deck.")] = None,
    topic: Annotated[str | None, typer.Option(help="Only this topic slug.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only cards with this tag.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many cards.")] = None,
) -> None:
    """Study what is due: learning cards, then reviews, then today's new cards.

    Enter or space reveals (a derivation step by step), 1-4 rate (Again, Hard, Good, Easy; each
    shows the interval it gives), s solves a coding card by running its check, h shows a hint,
    u undoes the last rating, q quits. Every rating is saved at once.

    Example: studycli review --deck transformers --limit 20
    """
    from .review_session import ReviewSession
    from .terminal import getkey

    if not sys.stdin.isatty():
        raise StudyError(
            "`studycli review` reads keys from a terminal: run it in one "
            "(scripts can use `studycli due --json` and `studycli solve`)"
        )
    content = options(ctx).load()
    cards = content.select(deck=deck, topic=topic, tag=tag)
    if not cards:
        raise StudyError("no cards match those filters: `studycli list` shows decks and topics")
    with open_store(ctx) as store:
        ReviewSession(
            stdout(), store, content, cards, settings(), clock=now, getkey=getkey, limit=limit
        ).run()


@app.command()
def solve(
    ctx: typer.Context,
    card_id: Annotated[str, typer.Argument(help="The coding card to answer.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Check this file instead of your attempt file (no editor)."),
    ] = None,
    no_edit: Annotated[bool, typer.Option("--no-edit", help="Check the attempt as it is.")] = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Re-run on every save until it passes.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds the check may take (default: check_timeout in settings, 10)."),
    ] = None,
    memory: Annotated[
        int | None,
        typer.Option(
            help="Memory cap of the check in MB (default: check_memory_mb in settings, 1024)."
        ),
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record a review.")] = False,
) -> None:
    """Answer a coding card: edit your attempt, run the card's checker on it, record the outcome.

    Your attempt is kept in your data folder between sessions and opened in $VISUAL or $EDITOR.
    A pass records Good and exits 0; a failure shows the failing case, records Again and exits
    1. With --watch the editor is not opened: edit the file shown in your own editor, and every
    save re-runs the check until it passes (h shows the next hint, q stops).

    Example: studycli solve online-softmax --watch
    """
    from studycli.check.solve import ensure_attempt, require_runnable
    from studycli.content.source import card_starter

    from .solve_flow import Limits, check, edit
    from .solve_flow import watch as watch_file
    from .terminal import getkey

    content = options(ctx).load()
    card = content.get(card_id)
    require_runnable(card)
    config = settings()
    limits = Limits(timeout or config.check_timeout, memory or config.check_memory_mb)
    console = stdout()
    if file is not None and not file.is_file():
        raise StudyError(f"--file {file}: no such file")
    path = file or ensure_attempt(card, content)
    started = time.monotonic()
    if file is None and not no_edit and not watch:
        edit(console, path, getkey if sys.stdin.isatty() else None)
    outcome = (watch_file if watch else check)(console, card, content, path, limits)
    if path.read_text(encoding="utf-8") == card_starter(card, content.solutions_dir):
        console.print("not recorded: the attempt is still the starter (write your answer first)")
    elif not no_record:
        _record_check(ctx, card, outcome, config, int((time.monotonic() - started) * 1000))
    raise typer.Exit(0 if outcome.status == "pass" else 1)


def _record_check(ctx: typer.Context, card, outcome, config, duration_ms: int) -> None:
    from studycli.check.solve import rating_for
    from studycli.study import rating as core
    from studycli.study.scheduler import RATING_NAMES, format_interval

    rating = rating_for(outcome)
    moment = now()
    with open_store(ctx) as store:
        core.rate(
            store,
            card,
            rating,
            moment,
            config,
            method="check",
            check_status=outcome.status,
            duration_ms=duration_ms,
        )
        due = core.fsrs_card(store.state(card.id)).due  # type: ignore[union-attr]
    stdout().print(f"recorded {RATING_NAMES[rating]}: due again in {format_interval(due - moment)}")


@app.command()
def due(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Count what is due now, per deck, and say when the next card falls due.

    `--json` prints {"due", "learning", "new", "next_due", "decks": {deck: {...}}}: reviews due
    now, learning cards due now, new cards available today (after the daily limits).

    Example: studycli due --json
    """
    from studycli.study.queue import due_now, study_day_start
    from studycli.study.rating import next_due

    content = options(ctx).load()
    config = settings()
    moment = now()
    cards = list(content.cards.values())
    with open_store(ctx) as store:
        states = store.states()
        done = store.counts_since(study_day_start(moment, config.day_starts_at))
    queue = due_now(cards, states, moment, config, done)
    upcoming = next_due(cards, states)
    decks = {
        deck: {
            "due": sum(c.deck == deck for c in queue.review),
            "learning": sum(c.deck == deck for c in queue.learning),
            "new": sum(c.deck == deck for c in queue.new),
        }
        for deck in sorted({c.deck for c in cards})
    }
    counts = {
        "due": len(queue.review),
        "learning": len(queue.learning),
        "new": len(queue.new),
        "next_due": upcoming.isoformat() if upcoming else None,
        "decks": decks,
    }
    if as_json:
        print(json.dumps(counts, indent=2))
        return
    table = Table(title="due now")
    for column in ("deck", "due", "learning", "new"):
        table.add_column(column, justify="left" if column == "deck" else "right")
    for deck, row in decks.items():
        table.add_row(deck, *(str(row[k]) for k in ("due", "learning", "new")))
    table.add_row("[bold]all[/]", *(f"[bold]{counts[k]}[/]" for k in ("due", "learning", "new")))
    console = stdout()
    console.print(table)
    console.print(_next_due_line(upcoming, moment))


def _next_due_line(upcoming: datetime | None, moment: datetime) -> str:
    from studycli.study.scheduler import format_interval

    if upcoming is None:
        return "no card studied yet: `studycli review` starts with the new cards"
    when = upcoming.astimezone().strftime("%Y-%m-%d %H:%M")
    if upcoming <= moment:
        return f"cards are due now (the oldest since {when})"
    return f"next card due in {format_interval(upcoming - moment)} ({when})"


@app.command()
def history(
    ctx: typer.Context,
    card: Annotated[str | None, typer.Option("--card", help="Only this card's reviews.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reviews as JSON.")] = False,
) -> None:
    """Show the review log, newest first (undone ratings left out).

    Example: studycli history --card online-softmax
    """
    from studycli.study.scheduler import RATING_NAMES

    with open_store(ctx) as store:
        reviews = store.reviews(card_id=card)
    if as_json:
        print(json.dumps([r.to_dict() for r in reviews], indent=2))
        return
    table = Table(title=f"{len(reviews)} reviews" + (f" of {card}" if card else ""))
    for column in ("when", "card", "rating", "how", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for r in reviews:
        how = f"check: {r.check_status}" if r.method == "check" else "self"
        seconds = f"{r.duration_ms / 1000:.1f}" if r.duration_ms is not None else ""
        table.add_row(
            r.reviewed_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            escape(r.card_id),
            f"{r.rating} {RATING_NAMES[r.rating]}",
            how,
            seconds,
        )  # type: ignore[index]
    stdout().print(table)


@app.command()
def suspend(ctx: typer.Context, card_id: str) -> None:
    """Keep a card out of reviews (its history and schedule are kept).

    Example: studycli suspend flash-attention
    """
    _set_suspended(ctx, card_id, True)


@app.command()
def unsuspend(ctx: typer.Context, card_id: str) -> None:
    """Bring a suspended card back into reviews, with its schedule as it was.

    Example: studycli unsuspend flash-attention
    """
    _set_suspended(ctx, card_id, False)


def _set_suspended(ctx: typer.Context, card_id: str, suspended: bool) -> None:
    card = options(ctx).load().get(card_id)
    with open_store(ctx) as store:
        store.set_suspended(card.id, suspended)
    stdout().print(
        f"suspended {card.id}: `studycli unsuspend {card.id}` brings it back"
        if suspended
        else f"{card.id} is back in reviews"
    )
