"""The topics command: what there is to study, topic by topic, to pick a --topic from."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from .app import app, options, stdout

KINDS = ("concept", "cloze", "derivation", "coding")


@app.command()
def topics(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the topics as JSON.")] = False,
) -> None:
    """List the study topics: each one's slug, its cards and what it covers.

    In the order of the topic list. The slug is what --topic takes in review, cram, list,
    stats and export-anki; the cards are counted, and the coding cards among them. A topic with
    no card in the content is listed too, with 0 cards.

    Example: studycli topics
    """
    from studycli.content.topics import topics as known_topics

    content = options(ctx).load()
    by_topic: dict[str, Counter[str]] = {}
    for card in content.cards.values():
        by_topic.setdefault(card.topic, Counter())[card.kind.value] += 1
    titles = {slug: topic.title for slug, topic in known_topics().items()}
    titles |= {slug: "" for slug in by_topic if slug not in titles}  # lint names these
    rows = [(slug, title, by_topic.get(slug, Counter())) for slug, title in titles.items()]
    if as_json:
        import json

        print(
            json.dumps(
                [
                    {
                        "topic": slug,
                        "title": title,
                        "cards": sum(kinds.values()),
                        **{kind: kinds[kind] for kind in KINDS},
                    }
                    for slug, title, kinds in rows
                ],
                indent=2,
            )
        )
        return
    from .table import Column, print_table

    # every card, and the coding cards among them (their answers run); --json splits all kinds
    columns = [
        Column("topic", wrap=True),
        Column("cards", justify="right"),
        Column("coding", justify="right"),
        Column("title", wrap=True, hide=1),
    ]
    cells = [
        [slug, str(sum(kinds.values())), str(kinds["coding"]), title] for slug, title, kinds in rows
    ]
    cards = len(content.cards)
    print_table(stdout(), f"{len(rows)} topics · {cards} cards", columns, cells)
