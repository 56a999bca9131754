"""How ratings, intervals and a card's flags are named to the learner, without importing the
scheduler: `review` flags the first card before fsrs is needed (its import, with hashlib's and
the scheduler's, was 20 ms on the 2-core box before the first card showed)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from studycli.content.card import Card

    from .review_records import CardState

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4  # fsrs's Rating values (a test checks them)
RATING_NAMES: dict[int, str] = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
LEECH_LAPSES = 8  # as Anki: a card forgotten this many times is a leech


def counted(count: int, noun: str) -> str:
    """`count` of `noun`, in words: "1 review", "12,580 reviews", "0 cards"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def held_new_note(held: int, new_per_day: int, settings: str | Path = "settings.toml") -> str:
    """What the learner is told of `held` new cards the day's limit holds back (`review` at
    its end, `due`): why they wait, and how to study them now. `settings`: the settings
    file's path, named so that a newcomer finds the file to change (it is not made until
    written, and "in settings.toml" left them to look for it). Both count study items, as
    `stats` does (a cloze card is one per deletion): "798 new cards wait" was said of 493
    cards, where `stats` said "798 study items from 493 cards"."""
    said = f"{counted(held, 'new study item')} {'waits' if held == 1 else 'wait'}: "
    if new_per_day:
        said += (
            f"the day's limit of {counted(new_per_day, 'new study item')} is reached, more come "
            f"tomorrow (new_per_day in {settings}"
        )
    else:  # (none comes tomorrow either)
        said += f"new_per_day is 0 in {settings} (raise it to study them"
    return said + "; `studycli cram` studies them now)"


def held_reviews_note(
    held: int, reviews_per_day: int, settings: str | Path = "settings.toml"
) -> str:
    """What the learner is told of `held` reviews due today that the day's review limit holds
    back (`review` at its end, `due`): they wait, and how to study them now. `settings`: the
    settings file's path, as `held_new_note` names it."""
    said = f"{counted(held, 'more review')} due today {'waits' if held == 1 else 'wait'}: "
    if not reviews_per_day:  # (none comes tomorrow either)
        return said + (
            f"reviews_per_day is 0 in {settings} (raise it to study them; `studycli cram` "
            "studies them now)"
        )
    return said + (
        f"past the day's limit of {counted(reviews_per_day, 'review')} (reviews_per_day "
        f"in {settings}; they come first tomorrow, and `studycli cram` studies them now)"
    )


def is_leech(state: CardState | None) -> bool:
    return state is not None and state.lapses >= LEECH_LAPSES


def edits(
    card: Card, state: CardState | None, contract: Callable[[], str | None] | None = None
) -> tuple[str, ...]:
    """What of `card` changed since its last review (`contract.PARTS`: its text, and for a
    coding card its starter and its checker, where `contract` gives its contract now and the
    review recorded one); none for a card never reviewed."""
    if state is None or state.reps == 0:
        return ()
    from studycli.content.contract import edited_parts

    return edited_parts(state.content_hash or "", card, contract or (lambda: None))


def edited_flag(parts: tuple[str, ...]) -> str:
    """The flag of a card whose `parts` (`edits`) changed since its last review: "edited since
    your last review", with what changed where it is more than the text."""
    said = "edited since your last review"
    if parts == ("text",):
        return said
    shown = [_EDITED_PARTS.get(part, part) for part in parts]
    listed = f"{', '.join(shown[:-1])} and {shown[-1]}" if len(shown) > 1 else shown[0]
    return f"{said}: its {listed}"


# what a coding card's flag says of the parts of its contract that changed (`edited_flag`)
_EDITED_PARTS = {
    "starter": "starter (signature or docstring)",
    "checker": "checker (an answer that passed then may fail now)",
}


def rating_label(rating: int, interval: timedelta | None = None) -> str:
    """A rating key's label: its name, and the interval it gives where known ("Good 3d")."""
    return RATING_NAMES[rating] + (f" {format_interval(interval)}" if interval is not None else "")


def format_interval(interval: timedelta) -> str:
    """A short label as Anki shows it: 45s, 10m, 3h, 4d, 2.5mo, 1.2y."""
    # whole seconds first, then halves rounded up: the interval a rating bar previews and the
    # one confirmed a moment later (a few ms less) get the same label (1m, not 60s; 6m, not 5m)
    seconds = max(0, _half_up(interval.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if (minutes := _half_up(seconds / 60)) < 60:
        return f"{minutes}m"
    if (hours := _half_up(seconds / 3600)) < 24:
        return f"{hours}h"
    days = seconds / 86400
    if _half_up(days) < 30:
        return f"{_half_up(days)}d"
    if days < 365:
        return f"{days / 30:.1f}".rstrip("0").rstrip(".") + "mo"
    return f"{days / 365:.1f}".rstrip("0").rstrip(".") + "y"


def _half_up(value: float) -> int:
    """`value` rounded to the nearest whole number, halves up (round() takes them to even)."""
    return math.floor(value + 0.5)
