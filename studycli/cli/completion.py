"""Shell completion (`studycli --install-completion`): card ids (a cloze card's deletions
after `#`; for `solve`, the cards answered with code), decks, topics, kinds and tags.

A completer runs on every Tab press, in a fresh process: it reads names from the content
folder's file and folder names (`content.catalog`), or, for deletions and tags, the content
index (`content.index`), and imports neither numpy nor torch.
"""

# (No `from __future__ import annotations`: typer reads the signature of the completer of each
# option of the command it builds, on every command line, and evaluated each annotation given
# as a string twice, a compile each: `review`'s --deck, --topic and --tag, 0.9 M instructions
# to its first card. As values, they are made once, as the module loads.)

from collections.abc import Callable
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


def _indexed_names(ctx: typer.Context, names: Callable[[Path, Path], list[str]]) -> list[str]:
    """`names(root, index)` of the content folder through its content index; [] where there
    is no content folder, or it cannot be read."""
    from studycli.errors import StudyError
    from studycli.paths import content_index_path

    root = _content_root(ctx)
    if root is None:
        return []
    try:
        return names(root, content_index_path(root))
    except StudyError:
        return []


def complete_study_id(ctx: typer.Context, incomplete: str) -> list[str]:
    """Card ids that start with what is typed; after a `#`, that cloze card's deletions
    (`card#c2`, as `history` shows them and `suspend` takes them)."""
    if "#" not in incomplete:
        return complete_card_id(ctx, incomplete)
    from studycli.content.study_view import load_study_items

    def item_ids(root: Path, index: Path) -> list[str]:
        return [item.id for item in load_study_items(root, index=index)[0]]

    return _matching(_indexed_names(ctx, item_ids), incomplete)


def complete_runnable_id(ctx: typer.Context, incomplete: str) -> list[str]:
    """Ids of the cards answered with code (through the content index) that start with what
    is typed: what `solve` takes. (Every card id was offered, and `solve` refused the concept
    and cloze cards among them.)"""
    from studycli.content.loader import load_content

    def runnable(root: Path, index: Path) -> list[str]:
        cards = load_content(root, index=index).cards.values()
        return sorted(card.id for card in cards if card.runnable)

    return _matching(_indexed_names(ctx, runnable), incomplete)


def complete_kind(incomplete: str) -> list[str]:
    """Kinds of card that start with what is typed."""
    from studycli.content.kind import Kind

    return _matching([kind.value for kind in Kind], incomplete)


def complete_tag(ctx: typer.Context, incomplete: str) -> list[str]:
    """Tags of the content's cards that start with what is typed (through the content index)."""
    from studycli.content.loader import load_content

    def tags(root: Path, index: Path) -> list[str]:
        cards = load_content(root, index=index).cards.values()
        return sorted({tag for card in cards for tag in card.tags})

    return _matching(_indexed_names(ctx, tags), incomplete)


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
KindOption = Annotated[
    str | None,
    typer.Option(
        help="Only this kind: concept, cloze, derivation or coding.",
        autocompletion=complete_kind,
    ),
]
TagOption = Annotated[
    str | None, typer.Option(help="Only cards with this tag.", autocompletion=complete_tag)
]
