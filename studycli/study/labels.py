"""How ratings, intervals and a card's flags are named to the learner, without importing the
scheduler: `review` flags the first card before fsrs is needed (its import, with hashlib's and
the scheduler's, was 20 ms on the 2-core box before the first card showed)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studycli.content.card import Card

    from .store import CardState

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4  # fsrs's Rating values (a test checks them)
RATING_NAMES: dict[int, str] = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
LEECH_LAPSES = 8  # as Anki: a card forgotten this many times is a leech


def is_leech(state: CardState | None) -> bool:
    return state is not None and state.lapses >= LEECH_LAPSES


def is_edited(card: Card, state: CardState | None) -> bool:
    """The card's text changed since its last review (its history is kept, it is flagged)."""
    return state is not None and state.reps > 0 and state.content_hash != card.content_hash


def format_interval(interval: timedelta) -> str:
    """A short label as Anki shows it: 45s, 10m, 3h, 4d, 2.5mo, 1.2y."""
    seconds = interval.total_seconds()
    if seconds < 60:
        return f"{max(0, round(seconds))}s"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}".rstrip("0").rstrip(".") + "mo"
    return f"{days / 365:.1f}".rstrip("0").rstrip(".") + "y"
