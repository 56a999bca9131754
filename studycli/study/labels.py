"""How ratings and intervals are named to the learner (without importing the scheduler)."""

from __future__ import annotations

from datetime import timedelta

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4  # fsrs's Rating values (a test checks them)
RATING_NAMES: dict[int, str] = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
LEECH_LAPSES = 8  # as Anki: a card forgotten this many times is a leech


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
