"""A renamed card's history moved onto its new id (`RenamesMixin`, a part of `Store`): what the
store holds of a card (`held_items`), whether the open database takes a move (`can_move`), the
move itself (`move_items`, recorded in the `renames` table of migration 0009), when a history
was last moved onto a card (`moved_through`: undo refuses a rating made before), and the moved
histories read back for their replay (`logged_histories`).

`Store` (store.py) inherits it; renames.py decides the moves and import_replay.py replays the cards.
It works through `StoreConnection` (store_connection.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from studycli.content.cloze import SEPARATOR, split_study_id

from .review_records import ReviewMethod
from .store_connection import StoreConnection
from .store_sql import _STATE_COLUMNS, CRAM_KIND, NOT_CRAM, _unbury
from .times import iso

# A moved study item's state row onto its new id (`Store.move_items`): the new id's state where
# it has one, else the old one's (either way replayed after, from the reviews moved); suspended
# if either is. (In DO UPDATE, a bare column is the new id's row as it was.)
_MOVE_STATE = (
    f"INSERT INTO cards ({_STATE_COLUMNS}) SELECT ?, fsrs, content_hash, lapses, reps, suspended"
    " FROM cards WHERE card_id = ? ON CONFLICT (card_id) DO UPDATE SET"
    " suspended = max(suspended, excluded.suspended),"
    " content_hash = CASE WHEN fsrs IS NULL THEN excluded.content_hash ELSE content_hash END,"
    " lapses = CASE WHEN fsrs IS NULL THEN excluded.lapses ELSE lapses END,"
    " reps = CASE WHEN fsrs IS NULL THEN excluded.reps ELSE reps END,"
    " fsrs = ifnull(fsrs, excluded.fsrs)"
)
# A review the log holds under both ids (`Store.move_items`): two machines synced by export and
# import, the other one having pulled the rename first, so that this one's ratings came back
# under the new id, kept as "not in the content", before this one pulled it. It is one review,
# as an import keeps one per card and time: the copy under the new id is marked undone (the log
# is append-only), the original, with its duration and its check's outcome, stays. An original
# undone here (after the other machine had imported it) stays undone: its copy is undone too, as
# an import of it under the old id would have been left out (README: importing an export made
# before the undo leaves it undone); the copy stood again once the rename was pulled.
_UNDO_TWINS = (
    "INSERT INTO undos (review_id, undone_at) SELECT n.id, :now FROM reviews n"
    f" WHERE n.card_id = :new AND n.method != '{ReviewMethod.CRAM}'"
    " AND n.id NOT IN (SELECT review_id FROM undos) AND EXISTS (SELECT 1 FROM reviews r"
    f" WHERE r.card_id = :old AND r.reviewed_at = n.reviewed_at AND {NOT_CRAM})"
)
_MOVE_BURIAL = (
    "INSERT INTO buried (card_id, until) SELECT ?, until FROM buried WHERE card_id = ?"
    " ON CONFLICT (card_id) DO UPDATE SET until = max(until, excluded.until)"
)


def moved_from(old_id: str, new_id: str) -> str:
    """Where the history of the study item `new_id` was moved from, `old_id`, said with why:
    its card renamed (the same deletion number, or none), else one item moved by itself (a
    cloze deletion split off into a card, or a plain card's history onto a deletion)."""
    old_number, new_number = (split_study_id(item)[1] for item in (old_id, new_id))
    if old_number == new_number:
        return f"{old_id}, the id its card had before (it was renamed: `renamed_from`)"
    if old_number is not None:
        return f"{old_id}, a deletion split off into it (`renamed_from`)"
    return f"{old_id}, a card whose history this deletion took over (`renamed_from`)"


class RenamesMixin(StoreConnection):
    """`Store`'s moves of renamed cards' histories (see store.py)."""

    def held_items(self, card_id: str) -> set[str]:
        """The ids of `card_id`'s study items that the store holds a review, a state or a
        burial of: the card's own id and its cloze deletions' (`card_id#c2`). A few lookups
        in the tables' indexes, none where it holds nothing of the card."""
        items = "card_id = :id OR (card_id >= :first AND card_id < :past)"
        first = f"{card_id}{SEPARATOR}"  # (`past`: the first string after every id so begun)
        past = first[:-1] + chr(ord(first[-1]) + 1)
        tables = ["cards", "reviews", *(["buried"] if self._has_table("buried") else [])]
        found = self.conn.execute(
            " UNION ".join(f"SELECT card_id FROM {table} WHERE {items}" for table in tables),
            {"id": card_id, "first": first, "past": past},
        )
        return {item for (item,) in found}

    def can_move(self) -> bool:
        """Whether the open database takes a move of a renamed card's history: written, or a
        copy of it read in memory (`read_a_copy`); not one of a schema before migration 0009
        read as it is."""
        (query_only,) = self.conn.execute("PRAGMA query_only").fetchone()
        return not query_only and self._has_table("renames")

    def move_items(self, moves: Sequence[tuple[str, str]], now: datetime | None = None) -> set[str]:
        """Move everything the store holds under each old study item id of `moves` (old id,
        new id) onto the new one, inside one transaction (the caller's, if any), each move
        recorded first (migration 0009): its reviews (one the new id holds too, at the same
        time, kept once: `_UNDO_TWINS`); its state where the new id has none (the
        caller replays it), suspended if either was; its burial, until the later time. Returns
        the new ids that reviews moved to: their states and schedule are to be replayed. `now`:
        the command's time, when a twin is marked undone (default: the clock's)."""
        moved = set()
        undone_at = iso(now or datetime.now(UTC))
        with self.transaction() as conn:
            through = self.latest_review_id()
            for old, new in moves:
                if self._reviewed(old):
                    moved.add(new)
                conn.execute(
                    "INSERT INTO renames (old_id, new_id, moved_through) VALUES (?, ?, ?)",
                    (old, new, through),
                )
                conn.execute(_UNDO_TWINS, {"old": old, "new": new, "now": undone_at})
                conn.execute("UPDATE reviews SET card_id = ? WHERE card_id = ?", (new, old))
                conn.execute(_MOVE_STATE, (new, old))
                conn.execute("DELETE FROM cards WHERE card_id = ?", (old,))
                if self._has_table("buried"):
                    conn.execute(_MOVE_BURIAL, (new, old))
                    _unbury(conn, old)
        return moved

    def latest_move_id(self) -> int:
        """A mark of the moves as they are now (0 when none): a move recorded later has a
        larger id (see `moved_since`)."""
        if not self._has_table("renames"):
            return 0
        (found,) = self.conn.execute("SELECT max(id) FROM renames").fetchone()
        return found or 0

    def moved_since(self, item_id: str, move_id: int) -> tuple[str, str] | None:
        """The latest move (old id, new id) of `item_id`'s history, away from it or onto it,
        recorded after the move `move_id` (a mark from `latest_move_id`); None if none."""
        if not self._has_table("renames"):
            return None
        return self.conn.execute(
            "SELECT old_id, new_id FROM renames WHERE id > ? AND (old_id = ? OR new_id = ?)"
            " ORDER BY id DESC LIMIT 1",
            (move_id, item_id, item_id),
        ).fetchone()

    def _reviewed(self, card_id: str) -> bool:
        found = "SELECT 1 FROM reviews WHERE card_id = ? LIMIT 1"
        return self.conn.execute(found, (card_id,)).fetchone() is not None

    def moved_through(self, card_id: str) -> tuple[int, str] | None:
        """The id of the log's latest review when a history was last moved onto `card_id`
        (`move_items`), with the id it was moved from; None if none ever was."""
        if not self._has_table("renames"):
            return None
        return self.conn.execute(
            "SELECT moved_through, old_id FROM renames WHERE new_id = ?"
            " ORDER BY moved_through DESC, id DESC LIMIT 1",
            (card_id,),
        ).fetchone()

    def logged_histories(self, card_ids: Collection[str]) -> list[tuple]:
        """The reviews of `card_ids` not undone, as `staged_histories` gives the log's: (card_id,
        rating, reviewed_at, scheduler_id, content_hash, id, cram), in time order (ties by
        id)."""
        return self.conn.execute(
            "SELECT r.card_id, r.rating, r.reviewed_at, r.scheduler_id, r.content_hash, r.id,"
            f" {CRAM_KIND} FROM {self._selected_from(card_ids)}"
            " WHERE u.review_id IS NULL ORDER BY r.reviewed_at, r.id"
        ).fetchall()
