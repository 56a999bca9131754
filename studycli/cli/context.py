"""What every command shares: the clock, the settings and the open study database. (What an
interactive session studies, the cards its filters select: session_selection.py.)

The CLI is the only place that reads the clock: `STUDYCLI_NOW` (ISO-8601 with an offset) fixes
it, for tests and for recording a session.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from studycli.errors import StudyError

from .app import options, print_prose, stderr

if TYPE_CHECKING:
    from studycli.content.card import Card
    from studycli.content.loader import Content
    from studycli.study.api import Study
    from studycli.study.settings import Settings


def now() -> datetime:
    """The current time in UTC, or `STUDYCLI_NOW` when set."""
    text = os.environ.get("STUDYCLI_NOW")
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise StudyError(
            f"STUDYCLI_NOW={text!r} must be an ISO-8601 time with an offset, "
            "e.g. 2025-03-01T09:00:00+00:00 (or unset it to use the clock)"
        )
    return moment.astimezone(UTC)


def user_path(path: Path) -> Path:
    """A file path as given, `~` expanded (a quoted `~/reviews.csv` is the home folder's, as
    `--db` and the environment's paths are); `-` (standard input or output) as it is."""
    return path if str(path) == "-" else path.expanduser()


def folder_of_output(path: Path) -> None:
    """Refuse a file to write whose folder does not exist: a mistyped path made the folders
    it named (`export-reviews /nonexist/dir/r.csv`).

    Raises:
        StudyError: naming the folder, with the fix.
    """
    folder = path.absolute().parent
    if not folder.is_dir():
        import shlex  # (an error's path: not at every command's start)

        raise StudyError(
            f"cannot write {path}: the folder {folder} does not exist (make it first, e.g. "
            f"mkdir -p {shlex.quote(str(folder))}, or give another path)"
        )


def none_selected(content: Content, *, drafts: bool = False) -> str:
    """Why no card was selected: the filters, a content folder that holds none, or `drafts`:
    the cards selected are all still being written."""
    if drafts:
        return "every card selected is still being written: there is nothing to study yet"
    if not content.cards:
        return (
            f"the content in {content.root} holds no cards (`studycli lint` says why, where a "
            "card file does not load): run from another folder, or pass --content DIR"
        )
    # (`studycli list` named here hides the deck and topic columns below about 160 columns,
    # the longest id's width: on most terminals it showed neither; its JSON has every field)
    return (
        "no cards match those filters: `studycli list --json` shows each card's deck, topic, "
        "kind and tags"
    )


def settings(*, parameters: bool = True) -> Settings:
    """The learner's settings (settings.toml in the config folder, or the defaults); see
    `load_settings` for `parameters`."""
    from studycli.paths import config_path
    from studycli.study.settings import load_settings

    return load_settings(config_path(), parameters=parameters)


def settings_file() -> str:
    """The settings file's path as a note names it for a setting to change there (the day's
    limits: `held_new_note`); where its folder is not made yet, with the command that makes
    it: told "new_per_day in ~/.config/studycli/settings.toml", a new learner's editor could
    not save the file (nano: "No such file or directory"), the folder being made by no
    command."""
    import shlex

    from studycli.paths import config_path

    path = config_path()
    if path.parent.is_dir():
        return str(path)
    return f"{path}, after mkdir -p {shlex.quote(str(path.parent))}"


# The commands that only read the review database. They open one they cannot write (a backup
# on a read-only medium, an immutable file) read-only, so that `export-reviews` can still
# rescue a history; every other command finds out on opening that it cannot write, before a
# session shows its first card. (`optimize` opens it to write only to recompute the memory
# states after new parameters: `--write`, `--recompute`.)
READS_ONLY = frozenset({"due", "history", "stats", "export-reviews", "list", "optimize"})


def say_waits() -> None:
    """Have a wait for another process's lock on the review database said on stderr once it
    lasts a second (see `busy.on_wait`): a rating behind another terminal's import sat
    silent for up to 30 s."""
    from studycli.study import busy

    if busy.on_wait is None:
        busy.on_wait = _waiting


def _waiting(path: Path, who: str) -> None:
    from rich.markup import escape

    from studycli.study.busy import BUSY_TIMEOUT

    from .terminal import after_a_wait

    after_a_wait()  # (keys typed from now on answer nothing on screen: dropped)
    print_prose(
        stderr(),
        f"[yellow]waiting for the review database {escape(str(path))}:[/] {escape(who)} is "
        f"using it; up to {BUSY_TIMEOUT:g} s",
    )


def open_study(
    ctx: typer.Context,
    *,
    write: bool | None = None,
    config: Settings | None = None,
    as_is: bool = False,
) -> Study:
    """The review database of `--db` (or the default one) with the learner's settings (or
    `config`).

    `write` says whether the command writes it; by default, unless the command is one of
    `READS_ONLY`. `as_is` (a dry run, which does not write): read it as it is, the file left
    untouched, an older one not upgraded (`Study.open`).
    """
    from studycli.paths import database_path
    from studycli.study.api import Study

    if write is None:
        write = ctx.info_name not in READS_ONLY
    given = options(ctx).db
    path = database_path(given)
    if given and not path.parent.exists():  # (--db, or STUDYCLI_DB through it)
        # a mistyped path made the folders it named, and a new database in them; read, it
        # said "no review database ... yet" and showed an empty history, exit 0
        import shlex  # (an error's path)

        fix = f"make it first (mkdir -p {shlex.quote(str(path.parent))}), or fix the path"
        raise StudyError(
            f"the review database {path} (--db or STUDYCLI_DB) is in a folder that does not "
            f"exist: {fix if write else 'fix the path (nothing was reviewed there)'}"
        )
    if given and not write and not path.exists():  # (a mistyped path showed an empty history)
        print_prose(
            stderr(highlight=False),
            f"note: no review database at {path} (--db or STUDYCLI_DB) yet: nothing reviewed there",
            markup=False,
        )
    say_waits()
    study = Study.open(
        path,
        config or settings(),
        write=write,
        renames=options(ctx).renames(),
        solutions_dir=options(ctx).solutions_dir(),
        as_is=as_is,
        now=now(),
    )
    notes = study.store.notes
    if ctx.info_name in SCHEDULES and config is None and not ctx.meta.get(_SAID):
        ctx.meta[_SAID] = True  # (once a command: `solve` opens the study more than once)
        try:
            notes = [*notes, *_parameters_note(study, write)]
        except BaseException as exc:  # (busy recording a new log's: the study closed)
            study.__exit__(type(exc), exc, exc.__traceback__)
            raise
    if notes:
        for note in notes:  # on stderr: what the command prints stays its own
            print_prose(stderr(), note, markup=False, highlight=False)
    return study


def flags_as_is(ctx: typer.Context, items: Sequence[Card]) -> dict[str, list[str]]:
    """What `review` tells the learner above each of `items` (`Study.flags`: edited since
    their last review, leech), by id, those flagged alone, for a command that records nothing
    (`solve --no-record`, `show`): the database read as it is, nothing reaching its file (no
    migration, no switch to WAL, a renamed card's history moved in memory only); none where
    there is no database yet or it cannot be read now: the flags are not worth an error in a
    command that needs no database, nor a long wait (`busy.BRIEF_WAIT`, where another
    process keeps the database from being read: then a note says they were left out)."""
    from studycli.paths import database_path

    if not database_path(options(ctx).db).exists():  # (nothing reviewed: none to flag)
        return {}
    from studycli.errors import StoreBusy
    from studycli.study import busy  # (with sqlite3: only where there is a database)

    try:  # (`config`: the note on the FSRS parameters is for a command that schedules)
        with (
            busy.waiting_at_most(busy.BRIEF_WAIT),
            open_study(ctx, as_is=True, config=settings()) as study,
        ):
            return {item.id: flags for item in items if (flags := study.flags(item))}
    except StoreBusy as exc:
        said = f"note: without the flags `review` shows (edited, leech): {exc.why}"
        print_prose(stderr(highlight=False), said, markup=False)
        return {}
    except StudyError:
        return {}


# The commands that schedule with the settings' FSRS parameters: each says where the cards'
# memory states stand on other ones (`_parameters_note`).
SCHEDULES = frozenset({"review", "solve", "due", "cram", "import-reviews"})
_SAID = "studycli.parameters_note"  # (in the command's `ctx.meta`)


def _parameters_note(study: Study, write: bool) -> list[str]:
    """One line where the cards' memory states stand on other FSRS parameters than
    settings.toml's (`Study.parameters_disagreement`: a hand edit, or an `optimize --write`
    stopped before it wrote the file), with the command that brings them in line."""
    found = study.parameters_disagreement(now(), write=write)
    if found is None:
        return []
    from studycli.paths import config_path

    if found.unsaved:
        return [
            f"note: `studycli optimize --write` recomputed the cards' memory states with new "
            f"FSRS parameters at {found.made_at:%Y-%m-%d %H:%M} UTC, which never reached "
            f"{config_path()} (it was stopped): run it again to save them, or "
            "`studycli optimize --recompute` to go back to those in the file"
        ]
    return [
        "note: the cards' memory states were computed with other FSRS parameters than those "
        f"in {config_path()}: `studycli optimize --recompute` brings them in line"
    ]


def reviews_kept(ctx: typer.Context, item_id: str) -> str:
    """Where the reviews of an id the content no longer has are (a card removed or renamed, a
    cloze deletion removed), when the learner's history holds any: else nothing (nor where
    the database cannot be read within `busy.BRIEF_WAIT`: an error waits for no other
    process). The database is read as it is (`Study.open`'s `as_is`): an error's hint
    neither upgrades nor switches it to WAL."""
    from studycli.paths import database_path

    if not database_path(options(ctx).db).exists():
        return ""
    from studycli.study import busy

    try:
        with busy.waiting_at_most(busy.BRIEF_WAIT), open_study(ctx, as_is=True) as study:
            reviews = study.history_size(item_id)
    except StudyError:  # a database that cannot be read: the id's error is the one to give
        return ""
    if not reviews:
        return ""
    counted, them = (
        ("its review is", "it") if reviews == 1 else (f"its {reviews} reviews are", "them")
    )
    return f"\n{counted} kept in your history: `studycli history --card {item_id}` lists {them}"
