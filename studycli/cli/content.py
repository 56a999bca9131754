"""Content commands: lint, show, list (check: check.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from studycli.errors import CardNotFound
from studycli.study.labels import LEECH_LAPSES

from .app import app, options, print_prose, stderr, stdout
from .completion import (
    DeckOption,
    KindOption,
    TagOption,
    TopicOption,
    complete_study_id,
)

if TYPE_CHECKING:
    from studycli.content.card import Card

# How narrow `list`'s titles are made before its columns that may hide are hidden: the width
# they have in the list of every card at 80 columns (21), where a title takes 3 lines or 4.
TITLE_LEAST = 20


@app.command()
def lint(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Validate all content: card schema, ids, topics, prerequisites, solutions, starters.

    Every problem is reported at once with its file (and line). Exit 1 if there is any. A card
    still to be written (a text beginning with TODO, code raising NotImplementedError) is no
    problem, so that its author can lint as they write: a note names it, which `check` fails.
    A checker that imports a module at each call (`import sympy` in its body) is no problem
    either, only slower: a note says where to import it instead.

    Example: studycli lint
    """
    from studycli.check.call_time_imports import call_time_imports
    from studycli.content.lint import lint as run_lint
    from studycli.content.scaffold import not_done

    content = options(ctx).load(cached=False, say_unloaded=False)
    problems = run_lint(content)
    unfinished = [c.id for c in content.cards.values() if not_done(c, content.solutions_dir)]
    if as_json:
        import json

        print(
            json.dumps(
                [
                    {"file": str(p.path), "line": p.line, "card": p.card_id, "message": p.message}
                    for p in problems
                ],
                indent=2,
            )
        )
    else:
        console = Console(stderr=bool(problems), highlight=False, emoji=False)
        for p in problems:
            print_prose(
                console, f"[bold]{escape(p.location(content.root))}[/]: {escape(p.message)}"
            )
        cards = len(content.cards)
        summary = f"{cards} card{'' if cards == 1 else 's'}, {len(problems)} problem(s)"
        console.print(f"[red]{summary}[/]" if problems else f"[green]{summary}[/]")
    for note in call_time_imports(content):  # (slower checks, not wrong ones: no problem)
        print_prose(
            stderr(highlight=False),
            f"note: {note.location(content.root)}: {note.message}",
            markup=False,
        )
    if unfinished:
        from .card_notes import not_done_yet

        print_prose(
            stderr(highlight=False),
            f"note: {not_done_yet(unfinished)}",
            markup=False,
        )
    if problems:
        raise typer.Exit(1)


@app.command()
def show(
    ctx: typer.Context,
    card_id: Annotated[
        str,
        typer.Argument(
            autocompletion=complete_study_id,
            help="The card to show (card#c2: that deletion of a cloze card blanked).",
        ),
    ],
    answer: Annotated[bool, typer.Option("--answer", "-a", help="Show the answer too.")] = False,
) -> None:
    """Show one card: its prompt, the starter for coding cards and, with --answer, the answer.

    Above it, what `review` would say above its front: that it was edited since your last
    review (of a cloze card, each deletion whose text as it shows changed), or is a leech.

    Example: studycli show online-softmax --answer
    """
    from studycli.content.source import card_starter

    from . import render

    content = options(ctx).load()
    try:
        card, items = content.card_of(card_id)  # a cloze deletion's id: its card
    except CardNotFound as missing:
        from .context import reviews_kept

        raise CardNotFound(f"{missing}{reviews_kept(ctx, card_id)}") from None
    starter = card_starter(card, content.solutions_dir) if card.runnable else None
    reference = None
    if answer and card.solution is not None:  # (its file as the learner can open it: an
        # installed content's solutions/ is in site-packages, not under the current folder)
        from studycli.content.reference_code import reference_source
        from studycli.content.source import module_path
        from studycli.paths import from_here

        path = from_here(module_path(content.solutions_dir, card.solution.module).resolve())
        reference = (reference_source(card, content.solutions_dir), path)
    # a deletion's id shows that deletion blanked and the others as text, as review does (it
    # blanked every deletion)
    shown = items[0] if len(items) == 1 and items[0].id == card_id else card
    _print_flags(ctx, items)
    render.print_full(stdout(), shown, with_answer=answer, starter=starter, reference=reference)


def _print_flags(ctx: typer.Context, items: list[Card]) -> None:
    """The flags `review` shows above each of `items`' fronts, read from the review database
    as it is (`flags_as_is`), each named by its id where there are several (a cloze card's
    deletions)."""
    from .context import flags_as_is

    flags = flags_as_is(ctx, items)
    for item in items:
        if said := flags.get(item.id):
            named = f"{item.id}: " if len(items) > 1 else ""
            line = named + " · ".join(said)
            stdout().print(line, style="bold yellow", soft_wrap=True, markup=False)


@app.command("list")
def list_cards(
    ctx: typer.Context,
    deck: DeckOption = None,
    topic: TopicOption = None,
    kind: KindOption = None,
    tag: TagOption = None,
    leeches: Annotated[
        bool,
        typer.Option(
            "--leeches", help=f"Only leeches: cards forgotten {LEECH_LAPSES} times or more."
        ),
    ] = False,
    edited_only: Annotated[
        bool,
        typer.Option(
            "--edited",
            help="Only cards edited since your last review of them (their text, or a coding "
            "card's starter or checker), as `review` flags them.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cards as JSON.")] = False,
) -> None:
    """List cards, optionally filtered by deck, topic, kind or tag, or only the leeches, or
    only the cards edited since your last review of them (a cloze card's deletions each).

    `--json` gives each card's tags too. A draft, a card still being written (a text begins
    with TODO), is marked so: it is not studied until it is written.

    Example: studycli list --deck transformers --kind coding
    """
    content = options(ctx).load()
    cards = content.select(deck=deck, topic=topic, kind=kind, tag=tag)
    if not cards:  # (filters each known, but no card has them together: an empty table, exit
        # 0, where `stats`, `review` and `cram` refuse them, and one unknown filter exits 1)
        from studycli.errors import StudyError

        from .context import none_selected

        raise StudyError(none_selected(content))
    lapses: dict[str, int] = {}  # with --leeches: how often each was forgotten
    edited: dict[str, tuple[str, ...]] = {}  # with --edited: what of each changed
    reviewed = True  # (with neither: not asked)
    if leeches or edited_only:
        cards, lapses, edited, reviewed = _studied_only(ctx, cards, leeches, edited_only)
    if as_json:
        import json

        print(
            json.dumps(
                [
                    {
                        "id": c.id,
                        "kind": c.kind.value,
                        "deck": c.deck,
                        "topic": c.topic,
                        "title": c.title,
                        "tags": list(c.tags),
                        "draft": c.draft,
                        **({"lapses": lapses.get(c.id, 0)} if leeches else {}),
                        **({"edited": list(edited.get(c.id, ()))} if edited_only else {}),
                    }
                    for c in cards
                ],
                indent=2,
            )
        )
        return
    one, many = ("leech", "leeches") if leeches else ("card", "cards")
    if edited_only:
        one, many = f"edited {one}", f"edited {many}"
    if not reviewed:  # (as `history` says it: no card changed since a review never made)
        stdout().print(f"no {many}: no reviews yet")
        return
    if edited_only and not cards:
        said = "no leech" if leeches else "no card"
        stdout().print(f"no {many}: {said} changed since your last review of it")
        return
    if leeches and not cards:
        stdout().print(f"no leeches: no card was forgotten {LEECH_LAPSES} times or more")
        return
    from .table import Column, print_table

    # A column the filter makes the same on every row is left out (the title says it); the
    # others, when the terminal is narrow, topic first, then deck, then kind (ids stay whole),
    # before the titles are narrower than TITLE_LEAST: a few edited cards' titles, whose
    # longest word was short, were squeezed to 13 columns, 5 lines each, beside their topic.
    every = [
        (Column("id"), lambda c: c.id, None),
        (Column("kind", hide=1), lambda c: c.kind.value, kind),
        (Column("deck", hide=2), lambda c: c.deck, deck),
        (Column("topic", hide=3), lambda c: c.topic, topic),
        (
            Column("title", wrap=True, least=TITLE_LEAST),
            lambda c: f"{c.title}{' (draft)' if c.draft else ''}",
            None,
        ),
    ]
    if leeches:
        every.append((Column("lapses", justify="right"), lambda c: str(lapses.get(c.id, 0)), None))
    if edited_only:
        every.append((Column("edited"), lambda c: ", ".join(edited.get(c.id, ())), None))
    shown = [(column, cell) for column, cell, chosen in every if chosen is None]
    title = f"{len(cards)} {one if len(cards) == 1 else many}" + "".join(
        f" · {column.header} {chosen}" for column, _, chosen in every if chosen is not None
    )
    rows = [[cell(c) for _, cell in shown] for c in cards]
    print_table(stdout(), title, [column for column, _ in shown], rows)


def _studied_only(
    ctx: typer.Context, cards: list[Card], leeches: bool, edited_only: bool
) -> tuple[list[Card], dict[str, int], dict[str, tuple[str, ...]], bool]:
    """The study items of `cards` that are leeches (with `leeches`: the most forgotten first)
    and edited since the learner's last review of them (with `edited_only`); with how often
    each was forgotten, and what of each changed (`labels.edits`), by id; and whether the
    history holds any review (looked up only where no item is left: False, none is)."""
    from studycli.study.api import study_items

    from .context import open_study

    items = study_items(cards)
    lapses: dict[str, int] = {}
    edited: dict[str, tuple[str, ...]] = {}
    with open_study(ctx) as study:
        if leeches:
            items = study.leeches(items)
            lapses = {c.id: state.lapses for c in items if (state := study.state(c.id))}
        if edited_only:
            edited = study.edited(items)
            items = [item for item in items if item.id in edited]
        reviewed = bool(items) or study.history_size() > 0
    return items, lapses, edited, reviewed
