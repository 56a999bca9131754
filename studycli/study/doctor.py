"""`studycli doctor`: check the review database, and repair the card states from the log.

The log (`reviews` and `undos`) is the source of truth; each card's stored state is derived
from it (see `rating.rebuild`) and kept for speed. The doctor runs SQLite's integrity check,
replays the log, and compares the replay with the stored states. Where they differ it writes a
backup of the database next to it, then stores the replayed states, in one transaction that
holds the write lock (a review session in another terminal waits meanwhile). A damaged file is
reported and left alone: replaying a damaged log would spread the damage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studycli.errors import StoreError

from . import database
from .rating import rebuild
from .store import Store


@dataclass(frozen=True)
class Report:
    """What the doctor found and did. `drifted` are the cards whose stored state differed
    from the replay of the log; `repaired` says whether they were overwritten with it."""

    path: Path
    integrity: list[str] = field(default_factory=list)  # [] when the file is intact
    reviews: int = 0
    cards: int = 0
    drifted: list[str] = field(default_factory=list)
    repaired: bool = False
    backup: Path | None = None

    @property
    def healthy(self) -> bool:
        """Intact, and the stored states are the log's (now, after any repair)."""
        return not self.integrity and (not self.drifted or self.repaired)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": str(self.path),
            "integrity_problems": self.integrity,
            "reviews_replayed": self.reviews,
            "cards_compared": self.cards,
            "drifted": self.drifted,
            "repaired": self.repaired,
            "backup": str(self.backup) if self.backup else None,
            "healthy": self.healthy,
        }


def examine_database(path: Path, *, repair: bool = True) -> Report | None:
    """Open the review database at `path` and `examine` it; None when there is none yet (the
    doctor creates none).

    Raises:
        StoreError: the file cannot be opened (see `Store.open`), or as `examine`.
    """
    if not path.exists():
        return None
    with Store.open(path) as store:
        return examine(store, repair=repair)


def examine(store: Store, *, repair: bool = True) -> Report:
    """Check `store` and, when `repair`, make its card states the replay of its log.

    Returns:
        The report (a damaged file is reported, never repaired).

    Raises:
        StoreError: the backup cannot be written (nothing is changed then), or the log
            cannot be replayed.
    """
    problems = store.integrity_problems()
    if problems:
        return Report(store.path, integrity=problems)
    with store.transaction():  # nothing changes between the comparison and the repair
        stored = store.states()
        try:
            replayed = rebuild(store)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"the review log in {store.path} cannot be replayed ({exc}): keep the file, "
                "and report this with it"
            ) from None
        drifted = sorted(i for i in replayed if stored.get(i) != replayed[i])
        report = Report(
            store.path,
            reviews=len(store.reviews()),
            cards=len(replayed),
            drifted=drifted,
        )
        if not drifted or not repair:
            return report
        copy = database.backup(store.path, database.backup_path(store.path, "repair"))
        store.replace_states([replayed[i] for i in drifted])
    return Report(
        store.path,
        reviews=report.reviews,
        cards=report.cards,
        drifted=drifted,
        repaired=rebuild(store) == store.states(),
        backup=copy,
    )
