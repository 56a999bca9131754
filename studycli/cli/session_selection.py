"""What an interactive session (`review`, `cram`) studies: the cards its filters select, or
the content index's study rows for `review` (`session_cards`). The clock, the settings and
the open study database a session shares with every command: context.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from studycli.errors import StudyError

from .app import options, say_drafts, without_drafts
from .context import none_selected

if TYPE_CHECKING:
    from studycli.content.card import Card
    from studycli.content.loader import Content


def session_cards(
    ctx: typer.Context,
    command: str,
    elsewhere: str,
    deck: str | None,
    topic: str | None,
    tag: str | None,
    *,
    rows: bool = False,
) -> tuple[Content, list[Any], Callable[[Any], Card] | None]:
    """What an interactive session (`review`, `cram`) studies: the content, the cards, and
    None. With `rows` (`review`), no filter but the deck, and the content index standing for
    every card file: the index's study rows in place of the cards, as `due` reads them, and
    what makes the card of one when it is shown (`study_view.StudyView`; the content then holds
    its folder only: the session loads no card from it). The drafts selected are left out,
    and named on stderr (`say_drafts`).

    Raises:
        StudyError: stdin is not a terminal (`elsewhere` says what scripts can use), or no
            card matches the filters (or every one that does is a draft).
    """
    if not sys.stdin.isatty():
        raise StudyError(
            f"`studycli {command}` reads keys from a terminal: run it in one ({elsewhere})"
        )
    if rows and topic is None and tag is None:
        view = options(ctx).study_view()
        if view is not None:
            from studycli.content.loader import Content

            content = Content(root=view.root)
            items = view.select(deck)
            say_drafts([d.id for d in view.drafts if deck is None or d.deck == deck])
            if not items:
                raise StudyError(none_selected(content, drafts=bool(view.drafts)))
            return content, items, view.card
    content = options(ctx).load()
    cards = content.select(deck=deck, topic=topic, tag=tag)
    studied = without_drafts(cards)
    if not studied:
        raise StudyError(none_selected(content, drafts=bool(cards)))
    return content, studied, None
