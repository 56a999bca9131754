"""Where a card's attempt file lives, and its moves: under an id the card was renamed from
(`follow_rename`), put aside once a pass is recorded (`put_aside`, in `rated_path`), and brought
back by an undo (`bring_back`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from studycli.paths import attempts_dir

if TYPE_CHECKING:
    from studycli.content.card import Card
    from studycli.content.loader import Content


def attempt_path(card_id: str) -> Path:
    return attempts_dir() / f"{card_id}.py"


def rated_path(card_id: str) -> Path:
    """Where the attempt whose pass was last recorded is kept (see `put_aside`)."""
    return attempts_dir() / "rated" / f"{card_id}.py"


def follow_rename(card: Card, content: Content) -> str | None:
    """Give `card` the attempt file it had under an id of its `renamed_from`, where it has
    none under its own: after its author renamed it, `solve NEW` started from the starter, the
    learner's answer begun under the old id left behind. (The answer put aside with a pass,
    `rated_path`, stays: see `put_aside`.)

    The newest old id's file is taken, renamed within the folder in one step (os.replace);
    a file of the new id is never replaced: where both are there, both stay as they are and
    the new id's is the attempt. Only the card's own old ids are looked at, no scan of the
    folder, and only by the commands about to open the attempt (`ensure_attempt`'s callers).
    An old id that is still a card's own, or that another card lists too, is no rename (`lint`
    says so; `Content.renames` leaves it out): its attempt stays, as its history does, where
    it is (the copy of a card took the attempt of the card it copied).

    Returns:
        What to tell the learner, once (the file is then under the new id); None where
        nothing moved: no old id's file, one of the new id already, or a move the system
        refused (the card then starts from its starter, as before the rename).
    """
    new = attempt_path(card.id)
    if not card.renamed_from or os.path.lexists(new):
        return None
    renames = content.renames
    from studycli.content.renamed_from import card_entries

    for old_id in reversed(card_entries(card.renamed_from)):  # (oldest first in the card)
        old = attempt_path(old_id)
        if renames.get(old_id) != card.id or not os.path.lexists(old):
            continue
        try:
            os.replace(old, new)
        except OSError:
            return None
        return f"your attempt at {old_id} is now {card.id}'s: {new}"
    return None


def put_aside(card_id: str) -> str | None:
    """Move the attempt of `card_id`, whose pass was just recorded, to `rated_path`, so that
    the card's next review starts from its starter and asks for the answer again: reopened,
    the passing code passed unchanged, and a review weeks later recorded Good without recall.
    The answer put aside before it is replaced (one put aside under an id the card had before
    it was renamed stays where it is: no undo reaches a rating made before the rename, and so
    none brings it back). What to tell the learner; None where there was none to move, or it
    could not be moved (the next review then opens it again, as before)."""
    target = rated_path(card_id)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(attempt_path(card_id), target)
    except OSError:
        return None
    return f"your answer is kept in {target}: the next review starts from the starter"


def bring_back(card_id: str, untouched: Callable[[Path], bool] = lambda path: False) -> Path | None:
    """Undo's side of `put_aside`: the answer kept in `rated_path` is the attempt again, where
    the attempt file is not there, or is still the starter (`untouched`: a `solve` reopened
    and closed unchanged wrote one, and the answer stayed aside); a new one, written since, is
    the learner's: it stays. Its path, or None where nothing was brought back. (After `u` to
    change a pass's rating, `s` opened the starter, the answer just checked in
    `attempts/rated/`.)"""
    kept, path = rated_path(card_id), attempt_path(card_id)
    try:
        if not kept.is_file() or (path.exists() and not untouched(path)):
            return None
        os.replace(kept, path)
    except OSError:
        return None
    return path
