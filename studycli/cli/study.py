"""Study commands: review, due, suspend, unsuspend (solve: solve.py; history: history.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from .app import app, options, print_prose, stdout
from .completion import DeckOption, TagOption, TopicOption, complete_study_id
from .context import now, open_study, reviews_kept, settings, settings_file

if TYPE_CHECKING:
    from .table import Column


@app.command()
def review(
    ctx: typer.Context,
    deck: DeckOption = None,
    topic: TopicOption = None,
    tag: TagOption = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="At most this many study items (a cloze card's deletions each), not reviews: "
            "each is finished through its learning steps (one rated Again comes back), so "
            "there can be more reviews than items. A card buried or suspended before it is "
            "rated takes no place: the next comes.",
        ),
    ] = None,
) -> None:
    """Study what is due: learning cards, then reviews, then today's new cards.

    Enter or space reveals (a derivation step by step), 1-4 rate (Again, Hard, Good, Easy; each
    shows the interval it gives), h shows a hint. Every rating is saved at once.

    s solves a coding card by running its check, whose outcome is the rating, as `studycli
    solve` records it: a failure is Again; a pass offers Hard, Good or Easy, Enter taking Good
    on a first try, Hard after hints, derivation steps, the answer or a failed run. A coding
    card whose answer Enter shows is rated by you instead (an answer written on paper), and the
    log says so (self, not check); the hints you took are said under its keys.

    b buries the card until the next study day, which starts at day_starts_at in settings (not
    rated, as Anki's bury), @ suspends it (not rated, as `studycli suspend` its id: a cloze
    card's every deletion; `studycli unsuspend` brings it back), u undoes the last rating, bury
    or suspension, q or Ctrl-D quits (Ctrl-C too, with exit status 130).

    Example: studycli review --deck transformers --limit 20
    """
    from .review_session import ReviewSession
    from .session_selection import session_cards
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
def due(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Count what is due now, per deck, and say when the next card falls due.

    A deck's counts are what `studycli review --deck D` shows, the day's limits applied to it
    alone (as Anki's deck list counts), so the decks' counts can add up to more than all's.
    `--json` prints {"due", "learning", "new", "held_new", "held_reviews", "next_due", "decks":
    {deck: {...}}}: reviews due now, learning items due now, new items available today (after
    the daily limits), new items and reviews due today that the day's limits hold back, each
    counted in study items, as `studycli stats` counts them (a cloze card's deletions each).

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

    due_now = bool(counts.due or counts.learning)
    line = _next_due_line(counts.next_due, moment, due_now, counts.new)
    if counts.held_new and counts.next_due is not None:  # (else the line says so already;
        # "next card due in 6d" alone was read as the end of the deck)
        from studycli.study.labels import held_new_note

        line += "; " + held_new_note(counts.held_new, settings().new_per_day, settings_file())
    if counts.held_reviews:  # (a session ended "Nothing more is due now", 20 reviews due)
        from studycli.study.labels import held_reviews_note

        line += "; " + held_reviews_note(
            counts.held_reviews, settings().reviews_per_day, settings_file()
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
    from studycli.study.labels import counted, format_interval

    if upcoming is None and not new:  # (review would say the day's new cards are studied)
        return (
            "none of these cards is scheduled yet, and no new study item is left today "
            f"(new_per_day in {settings_file()}; `studycli cram` studies them now)"
        )
    if upcoming is None:
        return "none of these cards is scheduled yet: `studycli review` starts with the new cards"
    when = upcoming.astimezone().strftime("%Y-%m-%d %H:%M")
    study = ": `studycli review` studies them"  # (it said no next step)
    if upcoming <= moment:
        return f"cards are due now (the oldest since {when}){study}"
    if due_now:
        return f"cards are due now{study}"
    later = f"next card due in {format_interval(upcoming - moment)} ({when})"
    if new:  # ("next card due in 2d" alone read as nothing to study until then, the day's
        # new cards counted in the table above it)
        return f"{counted(new, 'new study item')} to study today{study}; {later}"
    return later


@app.command()
def suspend(
    ctx: typer.Context,
    card_id: Annotated[
        str,
        typer.Argument(
            autocompletion=complete_study_id,
            help="The card to keep out (a cloze card's every deletion; card#c2: that one).",
        ),
    ],
) -> None:
    """Keep a card out of reviews (its history and schedule are kept); `card#c2` keeps one
    deletion of a cloze card out.

    Example: studycli suspend flash-attention
    """
    _set_suspended(ctx, card_id, True)


@app.command()
def unsuspend(
    ctx: typer.Context,
    card_id: Annotated[
        str,
        typer.Argument(
            autocompletion=complete_study_id,
            help="The card to bring back (a cloze card's every deletion; card#c2: that one).",
        ),
    ],
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
