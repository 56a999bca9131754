"""`studycli doctor`: check the review database, and repair the card states from the log.

The log (`reviews` and `undos`) is the source of truth; each card's stored state is derived
from it (see `rating.rebuild`) and kept for speed. The doctor runs SQLite's integrity check,
replays the log, and compares the replay with the stored states. Where they differ it writes a
backup of the database next to it, then stores the replayed states, in one transaction that
holds the write lock (a review session in another terminal waits meanwhile). A damaged file is
reported and left alone: replaying a damaged log would spread the damage. Its log is read
in full, though, where it still can be: the history can then be saved by exporting it and
importing it into a new database (`salvage_commands`), even when a backup is old or missing.
The doctor saves what reads of it as an export would (`SavedLog`); where only part of it
reads, it reads around the damaged pages: imported over the newest backup, what it saved gives
the backup's history and every review since that still reads.
"""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studycli.errors import StoreBusy, StoreDamaged, StoreError

from . import backups, damaged_log, database, read_only, side_files, sqlite_errors
from .rating import replay_log
from .review_log_write import write_reviews
from .store import Store

if TYPE_CHECKING:
    from .settings import Settings


@dataclass(frozen=True)
class SavedLog:
    """What the doctor saved of a damaged file's review log that reads only in part: the
    schedule's reviews that still read, written to `path` as `export-reviews` writes them
    (`reviews` of them; not written on a dry run: `written` False); the ranges of review ids
    (first, last) lost in damaged pages and how many reviews they held; whether every undo
    read; and the newest intact backup next to the file, with how many of the lost reviews it
    holds (a copy taken before them holds none of them)."""

    path: Path
    reviews: int
    written: bool
    lost: list[tuple[int, int]]
    undos_whole: bool
    backup: Path | None = None
    backup_holds: int = 0

    @property
    def lost_count(self) -> int:
        return damaged_log.ids_in(self.lost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "reviews": self.reviews,
            "written": self.written,
            "lost_reviews": self.lost_count,
            "lost_ids": [list(ids) for ids in self.lost],
            "undos_whole": self.undos_whole,
            "backup": str(self.backup) if self.backup else None,
            "backup_holds_lost": self.backup_holds,
        }


@dataclass(frozen=True)
class Report:
    """What the doctor found and did. `drifted` are the cards whose stored state differed
    from the replay of the log; `drifted_reviews`, the ids of the reviews whose logged queue or
    state after did (or did not read: the state `stats` reads a card's interval from);
    `outcomes_drifted`, the cards whose row in the table of outcomes that `stats` reads
    (migration 0012) is not what the log counts; `table_missing`, whether that table is not
    there at all (dropped: every rating fails); `triggers_missing` and `triggers_altered`,
    the triggers that keep that table (`store_sql.OUTCOME_TRIGGERS`) that the schema lacks or
    holds with other SQL; `triggers_foreign`, triggers of other names that name that table
    (dropped by the repair: one renamed by hand counted each review twice once the doctor made
    it again); `repaired` says whether they were overwritten with the replay (the
    table and triggers made again, the table counted again from the log).

    For a damaged file (`integrity` not empty): `log` says how much of the review log still
    reads; `salvage` holds the commands that save it into a new database, when all of it
    does; `backups` are the backups next to it."""

    path: Path
    integrity: list[str] = field(default_factory=list)  # [] when the file is intact
    reviews: int = 0
    cards: int = 0
    drifted: list[str] = field(default_factory=list)
    drifted_reviews: list[int] = field(default_factory=list)
    outcomes_drifted: list[str] = field(default_factory=list)
    table_missing: bool = False
    triggers_missing: list[str] = field(default_factory=list)
    triggers_altered: list[str] = field(default_factory=list)
    triggers_foreign: list[str] = field(default_factory=list)
    repaired: bool = False
    backup: Path | None = None
    log: damaged_log.LogReading | None = None
    salvage: list[str] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    salvaged_to: Path | None = None  # where `salvage` makes the new database, when not at path
    saved: SavedLog | None = None  # what reads of a log that reads only in part
    # the cards whose memory states a recompute with the settings' parameters would change
    # (see `Study.stale_memory_states`); None where not asked or not told
    stale: int | None = None

    @property
    def healthy(self) -> bool:
        """Intact, and the stored states are the log's (now, after any repair)."""
        return not self.integrity and (not self.differs or self.repaired)

    @property
    def differs(self) -> bool:
        """Some card state or review's logged state differs from the replay of the log, or
        the table of outcomes from the log's count (or is not there), or a trigger keeping it
        is not there."""
        return bool(
            self.drifted
            or self.drifted_reviews
            or self.outcomes_drifted
            or self.table_missing
            or self.triggers
            or self.triggers_foreign
        )

    @property
    def triggers(self) -> list[str]:
        """The triggers of the table of outcomes that are missing or altered."""
        return self.triggers_missing + self.triggers_altered

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "database": str(self.path),
            "exists": True,
            "integrity_problems": self.integrity,
            "reviews_replayed": self.reviews,
            "cards_compared": self.cards,
            "drifted": self.drifted,
            "drifted_reviews": self.drifted_reviews,
            "drifted_outcomes": self.outcomes_drifted,
            "missing_outcomes_table": self.table_missing,
            "missing_triggers": self.triggers_missing,
            "altered_triggers": self.triggers_altered,
            "recreated_triggers": self.triggers if self.repaired else [],
            "foreign_triggers": self.triggers_foreign,
            "dropped_triggers": self.triggers_foreign if self.repaired else [],
            "repaired": self.repaired,
            "backup": str(self.backup) if self.backup else None,
            "healthy": self.healthy,
            "stale_memory_states": self.stale,
        }
        if self.log is not None:
            found["review_log"] = {
                "reviews_read": self.log.reviews,
                "complete": self.log.complete,
                "problem": self.log.problem,
            }
            found["salvage_commands"] = self.salvage
            found["salvaged_to"] = str(self.salvaged_to or self.path) if self.salvage else None
            found["backups"] = [str(path) for path in self.backups]
            found["saved_log"] = self.saved.to_dict() if self.saved else None
        return found


def examine_database(
    path: Path, *, repair: bool = True, settings: Settings | None = None
) -> Report | None:
    """Open the review database at `path` and `examine` it; None when there is none yet (the
    doctor creates none). A database that cannot be written is opened read-only: it can be
    checked, not repaired. With `settings`, also count the memory states their parameters
    would change (`Report.stale`), through the same reading (an older schema is read from
    an upgraded copy in memory: the file is not written by a dry run).

    Raises:
        StoreError: the file cannot be opened (see `Store.open`), or as `examine`; there is
            none, but its -wal or -shm file is there (`side_files.refuse_orphaned_side_files`).
    """
    if not path.exists():
        side_files.refuse_orphaned_side_files(path)
        return None
    try:
        reader = _reader(path)
    except StoreDamaged as damaged:  # its schema does not read (or it is no SQLite file)
        try:  # a file cut short: its log may read all the same
            reader = damaged_log.connect_damaged(path)
        except StoreError:
            return _unopened(path, damaged)
    saved = None
    with Store(reader, path) as store:
        report = examine(store, repair=False)
        if settings is not None and not report.integrity and not report.drifted:
            report = replace(report, stale=_stale(store, settings))
        if report.log is not None and (repair or not report.log.complete):
            saved = save_readable(store, path, write=repair)  # (a dry run says where to)
    if not report.integrity:  # (a damaged file is never opened to write)
        side_files.remove_side_files_of_reading(path)  # what the reading left: a dry run too
    if repair and report.differs and not report.integrity:  # only now open it to write
        with Store.open(path) as store:
            report = examine(store, repair=True)
            if settings is not None and report.repaired:
                report = replace(report, stale=_stale(store, settings))
    if report.log is None:
        return report
    # after the store is closed: which of the files SQLite keeps beside it are left to move
    salvage: list[str] = []
    new = None
    if saved is not None and saved.written:
        salvage, new = salvage_commands(path, saved=saved.path, restore=saved.backup)
    elif report.log.complete:
        salvage, new = salvage_commands(path)
    return replace(
        report, salvage=salvage, salvaged_to=new, backups=backups.backups(path), saved=saved
    )


def _stale(store: Store, settings: Settings) -> int:
    """`Study.stale_memory_states` of `store`: asked only of states that are the log's (a
    state edited by hand does not parse; the doctor repairs it first)."""
    from .api import Study

    return Study(store, settings).stale_memory_states()


def save_readable(store: Store, path: Path, *, write: bool = True) -> SavedLog | None:
    """Read what still reads of the damaged log of `store` (the database at `path`), and, when
    `write`, save the schedule's reviews among them beside it (or where `salvage_folder`
    says) as `export-reviews` writes them; None when none reads.

    Raises:
        StoreError: the file cannot be written (ImportFormatError).
    """
    readable = damaged_log.readable_log(store.conn)
    if not readable.scheduled:
        return None
    target = saved_log_path(path)
    if write:
        write_reviews(target, readable.scheduled)
    backup, holds = _restorable(path, readable.lost) if readable.lost else (None, 0)
    return SavedLog(
        target,
        reviews=len(readable.scheduled),
        written=write,
        lost=readable.lost,
        undos_whole=readable.undos_whole,
        backup=backup,
        backup_holds=holds,
    )


def _restorable(path: Path, lost: list[tuple[int, int]]) -> tuple[Path | None, int]:
    """The newest backup next to `path` that is intact, and how many of the reviews with ids in
    `lost` it holds; (None, 0) where there is none."""
    for backup in reversed(backups.backups(path)):
        holds = backups.reviews_held(backup, lost)
        if holds is not None:
            return backup, holds
    return None, 0


def _reader(path: Path):
    """A connection that reads the database at `path`: read-only first, so that a damaged file
    (or a dry run) is never written, not even by the checkpoint that closing a writer makes,
    which would fold its -wal into it.

    Raises:
        StoreDamaged: the file does not open as a database. StoreBusy: another process kept
            it locked past the wait. StoreError: as `database.connect`.
    """
    try:
        return database.connect_read_only(path)
    except (StoreDamaged, StoreBusy):  # (busy: opened again, it waited as long again)
        raise
    except StoreError:  # no way to read it so (a -wal file it cannot read): as before
        return database.connect(path, write=False)


def _unopened(path: Path, damaged: StoreDamaged) -> Report:
    """The report on a file that does not open as a database: nothing of its log reads."""
    problem = (
        "it is no SQLite database"
        if damaged.problems == [sqlite_errors.NOT_SQLITE]
        else "the file does not open as a database"
    )
    return Report(
        path,
        integrity=damaged.problems,
        log=damaged_log.LogReading(0, complete=False, problem=problem),
        backups=backups.backups(path),
    )


def examine(store: Store, *, repair: bool = True) -> Report:
    """Check `store` and, when `repair`, make its card states the replay of its log.

    Returns:
        The report (a damaged file is reported, never repaired).

    Raises:
        StoreError: the backup or the database cannot be written (nothing is changed then),
            or the log cannot be replayed.
    """
    problems = store.integrity_problems()
    if problems:
        log = damaged_log.read_log(store.conn, lambda: store.exported_rows(indexed=False))
        return Report(store.path, integrity=problems, log=log)
    # nothing changes between the comparison and the repair: the write lock when repairing
    # (`examine_database` repairs through a store it opened to write)
    with store.transaction() if repair else database.snapshot(store.conn):
        stored = store.states()
        try:
            replayed, reviews_differing = replay_log(store, compare=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"the review log in {store.path} cannot be replayed ({exc}): keep the file, "
                "and report this with it"
            ) from None
        drifted = sorted(i for i in replayed if stored.get(i) != replayed[i])
        missing, altered = store.outcome_triggers_differing()
        report = Report(
            store.path,
            # the reviews replayed: cram ratings (which never move a schedule) left out
            reviews=sum(n for method, n in store.methods_count().items() if method != "cram"),
            cards=len(replayed),
            drifted=drifted,
            drifted_reviews=sorted(review_id for _, _, review_id in reviews_differing),
            outcomes_drifted=store.outcomes_differing(),
            table_missing=store.outcome_table_missing(),
            triggers_missing=missing,
            triggers_altered=altered,
            triggers_foreign=store.outcome_triggers_foreign(),
        )
        if not report.differs or not repair:
            return report
        copy = backups.backup(store.path, backups.backup_path(store.path, "repair"))
        store.replace_states([replayed[i] for i in drifted])
        if report.table_missing:  # (before the queues: the triggers write to it)
            store.recreate_outcome_table()
        store.drop_triggers(report.triggers_foreign)  # (in the same transaction)
        store.recreate_outcome_triggers(report.triggers)
        store.write_schedule(reviews_differing)
        # after the queues, which the triggers count as they are written; and after a
        # trigger is made again, as after a bulk import that dropped one
        if (
            report.outcomes_drifted
            or report.table_missing
            or report.triggers
            or report.triggers_foreign
        ):
            store.recount_outcomes()
        # checked before the commit, against the replay above (the log cannot change under
        # the write lock, and a replay gives the same states every time): a third replay
        # after the commit was a third of the run, in which a Ctrl-C ended the command
        # without a word though the repair was made
        repaired = (
            store.states() == replayed
            and _logged(store, reviews_differing)
            and not store.outcomes_differing()
            and not store.outcome_table_missing()
            and store.outcome_triggers_differing() == ([], [])
            and not store.outcome_triggers_foreign()
        )
    return replace(report, repaired=repaired, backup=copy)


def _logged(store: Store, written: list[tuple[str, str, int]]) -> bool:
    """Whether the log holds the queue and state after of each review in `written` (as
    `Store.write_schedule` takes them)."""
    wanted = {review_id: (queue, after) for queue, after, review_id in written}
    return store.schedule_of(list(wanted)) == wanted


def salvage_commands(
    path: Path, *, saved: Path | None = None, restore: Path | None = None
) -> tuple[list[str], Path | None]:
    """The shell commands that save the review log of the damaged database at `path` into a
    new database at the same path: export it (unless the doctor `saved` it already: a log that
    reads only in part), move the damaged file aside (with the -wal and -shm files SQLite
    keeps beside it, whose pages belong to it and must never meet a new database), copy the
    backup to `restore` from, if any, into its place, and import the export, which rebuilds
    every card's state from the log (a review the backup has already is skipped).

    Where its folder cannot be written (a backup on a read-only medium), the export and the
    new database go to a folder that can (`salvage_folder`), the damaged file left where it
    is: the commands, and that new database's path (None when it is `path`)."""
    csv_path = saved or saved_log_path(path)
    db, csv = shlex.quote(str(path)), shlex.quote(str(csv_path))
    commands = [] if saved else [f"studycli --db {db} export-reviews {csv}"]
    new = None
    if read_only.folder_writable(path.parent):
        aside = _unused(path.with_name(f"{path.name}.damaged"))
        # (those that exist now: the export, closing, may fold them into the file)
        sides = [suffix for suffix in ("-wal", "-shm") if _exists(Path(f"{path}{suffix}"))]
        commands += side_files.aside_commands(path, aside, sides)
    else:
        new = _unused(salvage_folder() / f"{path.stem}.saved{path.suffix}")
        db = shlex.quote(str(new))
    if restore is not None:
        commands.append(f"cp {shlex.quote(str(restore))} {db}")
    commands.append(f"studycli --db {db} import-reviews {csv}")
    return commands, new


def saved_log_path(path: Path) -> Path:
    """Where the history of the damaged database at `path` is saved: beside it, or where
    `salvage_folder` says when its folder cannot be written."""
    folder = path.parent if read_only.folder_writable(path.parent) else salvage_folder()
    return _unused(folder / f"{path.name}.saved.csv")


def salvage_folder() -> Path:
    """A folder to save a history into when the damaged file's own cannot be written: the
    data folder, else the current one, else the home folder."""
    from studycli.paths import data_dir

    for folder in (data_dir(), Path.cwd(), Path.home()):
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            if read_only.folder_writable(folder):
                return folder
    return Path.cwd()  # (the export will say it cannot write there)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _unused(path: Path) -> Path:
    """`path`, or `path` with -2, -3 ... added where a file of that name exists already."""
    candidate, number = path, 1
    while candidate.exists() or Path(f"{candidate}-wal").exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate
