"""The export-anki command: the cards as an Anki deck package, for study on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from studycli.errors import StudyError

from .app import app, options, print_prose, stderr, stdout, without_drafts
from .completion import DeckOption, KindOption, TagOption, TopicOption
from .context import none_selected, now, user_path


@app.command("export-anki")
def export_anki(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(metavar="OUT.apkg", help="The Anki package to write.")],
    deck: DeckOption = None,
    topic: TopicOption = None,
    kind: KindOption = None,
    tag: TagOption = None,
) -> None:
    """Export cards to an Anki package: one Anki deck "studycli::<deck>" per deck.

    Import the file in Anki (File > Import). Notes are keyed by card id, so importing a later
    export updates the notes of edited cards instead of duplicating them, and leaves the
    others, with your edits to them in Anki, alone: a note is dated when its text last changed,
    which a record of the exports made here tells. Coding cards carry their starter code and
    say how to answer them: studycli solve <id>. A card still being written (a text begins
    with TODO) is left out, as it is of reviews.

    Example: studycli export-anki ml.apkg --deck transformers
    """
    from studycli.export.anki import export_anki as write_export
    from studycli.export.anki_record import SHIPPED
    from studycli.paths import anki_notes_path

    content = options(ctx).load()
    # a draft is not studied here (`Card.draft`), nor in Anki: its note read "TODO: the
    # question, in your own words."
    selected = content.select(deck=deck, topic=topic, kind=kind, tag=tag)
    cards = without_drafts(selected)
    if not cards:  # said as `list`, `stats` and `review` say it (filters that match nothing
        # together, drafts only, or no card in the folder), exit 1
        raise StudyError(none_selected(content, drafts=bool(selected)))
    out = user_path(out)
    shipped = content.root / "cards" / SHIPPED
    exported = write_export(cards, content.solutions_dir, out, now(), anki_notes_path(), shipped)
    counts = exported.decks
    from studycli.study.labels import counted

    console = stdout()
    for name, (notes, made) in counts.items():
        more = f", {made:,} in Anki" if made != notes else ""
        console.print(f"  {escape(name)}: {counted(notes, 'card')}{more}")
    # Anki counts a cloze card's deletions as cards of their own: say so, or the learner who
    # finds more cards in Anki than were exported takes the export for wrong
    notes, made = (sum(n) for n in zip(*counts.values(), strict=True))
    more = f" ({made:,} in Anki, which makes a cloze card one card per deletion)"
    print_prose(
        console,
        f"exported {counted(notes, 'card')}{more if made != notes else ''} in "
        f"{counted(len(counts), 'deck')} to {escape(str(out))}; in Anki: File > Import",
    )
    for line in exported.said:  # the record of exports could not be read or written
        print_prose(stderr(highlight=False), f"note: {line}", markup=False)
