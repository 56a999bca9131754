"""A card its author renamed keeps every learner's history (`renamed_from:` in its file).

The content says which ids its cards had before (`Content.renames`: old card id -> new), and
which study items moved on their own (a cloze deletion split off into a card of its own or
into another cloze card's deletion: `old#c2` -> `new` or `new#c1`). When a command opens the
review database with that content, what the store still holds under an old id (a card's
reviews, state, suspension and burial; a cloze card's deletion by deletion, `old#c2` ->
`new#c2`) moves onto the new id, in one transaction: a crash leaves the database as
it was. Each move is recorded (migration 0009): the one change the append-only log allows a
review. The state and the reviews' schedule of a card whose reviews moved are then replayed
from its history under the new id, as an import replays a card it merged reviews into
(`import_replay.replay_logged`): where the new id had reviews of its own too (rated on another
machine that had pulled the rename, and imported here), the two histories merge in time
order; and where it had none, the replay still gives the state every later replay will (the
doctor's, an import's): an fsrs card's id, and so its interval fuzz, is its study item id's,
so a due date can move by the fuzz's few percent, once.

Nothing is read where no card was renamed, and a few index lookups per old id where the store
holds nothing of it any more: what `due` pays. A database that cannot be written (a backup, a
read-only medium) is read through a copy in memory where the move is made, the file left as it
is (as a database of an older schema is read: `database.connect_read_only`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from studycli.content.renamed_from import renamed_id

from .settings import Settings
from .store import Store


def carry(
    store: Store, renames: Mapping[str, str], settings: Settings, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Move onto its new id whatever `store` holds under an old id of `renames` (old -> new: a
    card's, or one study item's, `renamed_id`), at the command's time `now` (default: the
    clock's), and replay the histories moved; returns the moves made, (old study item id, new),
    none where there was nothing to move (or the database is read-only and too large to copy:
    then nothing moves, and the old ids keep their history, as before the rename).

    Raises:
        StoreBusy: another process kept the database locked (nothing was moved).
    """
    if not renames or not _moves(store, renames):
        return []
    if not store.can_move() and not (store.read_a_copy() and store.can_move()):
        return []
    with store.transaction():
        moves = _moves(store, renames)  # (again, under the write lock: another command's
        # move may have come first)
        moved = store.move_items(moves, now)
        if moved:
            from .import_replay import replay_logged  # (only here: `due` needs none of it)

            replay_logged(store, moved, settings)
    return moves


def _moves(store: Store, renames: Mapping[str, str]) -> list[tuple[str, str]]:
    """(old study item id, new) of every item the store holds of an old id of `renames`: a
    renamed card's items, or an item moved by itself."""
    held = {item for old in sorted(renames) for item in store.held_items(old)}
    return [(item, new) for item in sorted(held) if (new := renamed_id(item, renames)) != item]


def note(moves: list[tuple[str, str]], written: bool) -> str:
    """What to tell the learner of `moves` (`carry`): `written` to the database file, or only
    to its copy in memory."""
    shown = ", ".join(f"{old} -> {new}" for old, new in moves[:MOVES_SHOWN])
    if len(moves) > MOVES_SHOWN:
        shown += f" and {len(moves) - MOVES_SHOWN} more"
    said = (
        "renamed cards and split ones (`renamed_from`): their history is now under their new "
        f"ids: {shown}"
    )
    if not written:
        said += " (in this command only: the database is read-only, and is left as it is)"
    return said


MOVES_SHOWN = 5  # the moves a note names
