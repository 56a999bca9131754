"""Authoring commands: new (scaffold a card to fill in) and schema (the card format)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from studycli.content.fields import Kind

from .app import app, options, stdout
from .completion import complete_deck, complete_kind, complete_topic


def kind(value: str) -> Kind:
    """A card's kind from the command line. (The function's name is what `new --help` shows in
    its type column, `<kind>`: Typer shows a choice there as `<concept|derivation|coding|cloze>`,
    a word too long for the column that Rich cut anywhere, `...|cl` above `oze>`.)"""
    try:
        return Kind(value)
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not a kind of card: concept, derivation, coding or cloze"
        ) from None


@app.command()
def new(
    ctx: typer.Context,
    card_kind: Annotated[
        Kind,
        typer.Argument(
            metavar="KIND",
            parser=kind,
            help="concept, derivation, coding or cloze.",
            autocompletion=complete_kind,
        ),
    ],
    card_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="The new card's id, in kebab-case: also its file name, for good."
        ),
    ],
    topic: Annotated[
        str,
        typer.Option(
            help="Its topic slug (`studycli topics` lists them).", autocompletion=complete_topic
        ),
    ],
    deck: Annotated[
        str | None,
        typer.Option(
            help="Its deck, a folder under cards/ (default: the deck of the topic's cards). "
            "For a new deck, make its folder first: mkdir cards/DECK.",
            autocompletion=complete_deck,
        ),
    ] = None,
) -> None:
    """Write a new card to fill in, and for a coding card its solution module.

    The card goes to cards/<deck>/<id>.yaml, in a deck folder that exists (make a new deck's
    folder first, so that a mistyped --deck is not taken for one); a coding card's module,
    solutions/<module>.py, holds a reference, a checker and two wrong answers, all stubs.
    Never overwrites a file.

    The card passes `studycli lint` at once, and editors that speak the YAML language server
    validate it as you type. What is left to write begins with TODO or raises
    NotImplementedError, and `studycli check` reports the card as not done yet until it is
    written; while a text begins with TODO, the card is not studied (`due`, `review`, `cram` and
    `stats` leave it out, and say so).

    Example: studycli new coding gelu-erf --topic activations (the topics: studycli topics)
    """
    from studycli.content.scaffold import plan_card, write_card
    from studycli.paths import from_here

    from .again import studycli_content

    content = options(ctx).load()
    request = plan_card(content, card_kind, card_id, topic, deck)
    written = write_card(content, request)
    console = stdout()
    for path in written:  # (unwrapped: a path named absolute is cut at Rich's 80 columns)
        console.print(f"wrote {escape(str(from_here(path)))}", soft_wrap=True)
    again = studycli_content(ctx, content.root)
    console.print(  # (unwrapped: the commands are pasted, each copied in one piece)
        "next: write what begins with TODO"
        + (" and what raises NotImplementedError" if card_kind is Kind.CODING else "")
        + escape(f", then `{again} lint` and `{again} check {card_id}`"),
        soft_wrap=True,
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of a card file, generated from the card format.

    The repository ships it as cards/schema.json; regenerate it after changing the format or
    the topic list.

    Example: studycli schema > cards/schema.json
    """
    from studycli.content.schema import schema_text

    print(schema_text(), end="")
