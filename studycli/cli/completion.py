"""Shell completion (`studycli --install-completion`): card ids, decks and topics.

A completer runs on every Tab press, in a fresh process: it reads names from the content
folder's file and folder names (`content.catalog`) and imports neither numpy nor torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _content_root(ctx: typer.Context) -> Path | None:
    """The content folder the command line names (--content, STUDYCLI_CONTENT, here, or the
    installed content), or None when there is none."""
    from studycli.errors import StudyError
    from studycli.paths import content_dir

    try:
        return content_dir(ctx.find_root().params.get("content"))
    except StudyError:
        return None


def _matching(names: list[str], incomplete: str) -> list[str]:
    return [name for name in names if name.startswith(incomplete)]


def complete_card_id(ctx: typer.Context, incomplete: str) -> list[str]:
    """Card ids that start with what is typed."""
    from studycli.content.catalog import card_ids

    root = _content_root(ctx)
    return _matching(card_ids(root), incomplete) if root else []


def complete_deck(ctx: typer.Context, incomplete: str) -> list[str]:
    """Deck names that start with what is typed."""
    from studycli.content.catalog import decks

    root = _content_root(ctx)
    return _matching(decks(root), incomplete) if root else []


def complete_topic(incomplete: str) -> list[str]:
    """Topic slugs that start with what is typed."""
    from studycli.content.catalog import topic_slugs

    return _matching(topic_slugs(), incomplete)


# The card filters most commands share, completed from the content.
DeckOption = Annotated[
    str | None, typer.Option(help="Only this deck.", autocompletion=complete_deck)
]
TopicOption = Annotated[
    str | None, typer.Option(help="Only this topic slug.", autocompletion=complete_topic)
]
