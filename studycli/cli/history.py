"""`studycli history`: the review log, the latest reviewed first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .app import app, options, stdout
from .completion import complete_study_id
from .context import open_study

if TYPE_CHECKING:
    from studycli.study.api import Review

    from .table import Column


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
    """The columns of `history`'s table: an id copied from it whole (at 80 columns one of 54
    characters was broken after a dash), a date at its space (not "2025-03-"), the seconds,
    then the method, hidden first to keep them so."""
    from .table import Column

    return [
        Column("when", overflow="ignore"),
        Column("card", overflow="ignore"),
        Column("rating"),
        Column("how", wrap=True, hide=1),
        Column("seconds", justify="right", hide=2),
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
