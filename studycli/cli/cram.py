"""The cram command: study cards whether due or not, weakest first, schedule untouched."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app, stdout
from .completion import DeckOption, TagOption, TopicOption
from .context import now, open_study


@app.command()
def cram(
    ctx: typer.Context,
    deck: DeckOption = None,
    topic: TopicOption = None,
    tag: TagOption = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="At most this many study items (a cloze card's deletions each), not reviews: "
            "one rated Again comes back later in the session, so there can be more reviews "
            "than items. A buried or suspended card, or a deletion `review` holds back as a "
            "sibling, is left out and takes no place.",
        ),
    ] = None,
) -> None:
    """Study cards whether due or not, weakest first (the night before an interview).

    Cards you are most likely to have forgotten come first (lowest predicted recall), then the
    ones never studied, taken from the decks as `studycli review` takes them (new_order in
    settings.toml).

    Ratings are logged as cram and do not change your schedule, as Anki's filtered decks without
    rescheduling; a card rated Again comes back later in the session.

    Suspended cards are left out, and so are cards buried (`b` in a review) until the next study
    day, and the other deletions of a cloze card with one studied today in `review` or buried,
    as `review` buries them (bury_siblings in settings.toml). Cram ratings bury no sibling: a
    card's deletions not held back are all crammed.

    Keys as in `studycli review`: Enter reveals, 1-4 rate, s solves, h hints, u undoes, q or
    Ctrl-D quits.

    Example: studycli cram --topic flash-attention --limit 20
    """
    from studycli.study.api import study_items

    from .review_session import ReviewSession
    from .session_selection import session_cards
    from .terminal import getkey, quiet_keys

    content, cards, _ = session_cards(
        ctx, "cram", "`studycli stats --json` shows the weakest topics to scripts", deck, topic, tag
    )
    with open_study(ctx) as study, quiet_keys():
        queue = study.cram_queue(study_items(cards), now(), limit)
        session = ReviewSession(
            stdout(), study, content, cards, clock=now, getkey=getkey, queue=queue, reschedule=False
        )
        summary = session.run()
    if summary.interrupted:  # Ctrl-C (its ratings are logged): 130, as for `review`; q is 0
        raise typer.Exit(130)
