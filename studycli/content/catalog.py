"""The names in a content folder, read from file and folder names without parsing a card.

Shell completion runs on every Tab press, so it must answer in milliseconds: a card's id is
its file name (`lint` enforces it) and a deck is a folder, so listing `cards/` is enough.
"""

from __future__ import annotations

from pathlib import Path

from .topics import topics


def card_ids(root: Path) -> list[str]:
    """Every card id under `root/cards/<deck>/`, sorted (hidden files, such as an editor's
    lock file `.#card.yaml`, are no cards)."""
    found = (root / "cards").glob("*/*.yaml")
    return sorted({path.stem for path in found if not path.name.startswith(".")})


def decks(root: Path) -> list[str]:
    """Every deck: the folders under `root/cards/`, sorted."""
    cards = root / "cards"
    if not cards.is_dir():
        return []
    return sorted(p.name for p in cards.iterdir() if p.is_dir() and not p.name.startswith("."))


def topic_slugs() -> list[str]:
    """Every topic slug, in the order of the topic list."""
    return list(topics())
