"""import-reviews and export-reviews: the review history in and out, as a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from studycli.errors import ImportFormatError
from studycli.study.labels import counted

from .app import app, exit_interrupted, options, print_prose, stderr, stdout
from .context import folder_of_output, now, open_study, user_path


@app.command("import-reviews")
def import_reviews(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="The CSV review log to merge into yours; - reads standard input."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Only say what the import would do: write nothing to your log."
        ),
    ] = False,
) -> None:
    """Merge a review log (CSV) into yours: another machine's export, or FSRS data.

    Columns card_id,review_rating,review_time,review_duration (py-fsrs's format: ratings 1-4,
    ISO-8601 times with a timezone, durations in ms, optional), and studycli's own, optional:
    content_hash (the card's text each review was made on: recorded as it is) and undone_at
    (when the rating was undone there: undone here too where it stands, logged undone where
    your log has it not; never a rating).

    Every row is checked first: a file with a bad row is refused whole, each bad line named
    with its fix. A review up to 5 minutes ahead of this machine's clock is taken (two
    machines' clocks are seldom exactly together), and the import says how many and how far;
    one further ahead refuses the file, with the clock to set right.

    A review already in your log (same card, same time, undone ones too) is skipped, so
    importing twice changes nothing and importing another machine's export gives the union of
    both histories. A conflict is a row left out that gave another rating for its card and
    time than your log has, or an earlier row of the file: an import never changes a rating.

    The cards whose history changed are rescheduled by replaying their reviews in time order;
    imported reviews are scheduled with your current settings (the file has none), so a card
    last reviewed elsewhere under other settings (another desired_retention) can fall due on
    another date than it did there.

    Reviews of cards that are not in the content are kept, for ever (the log is append-only):
    the first few are named, each with the content's closest id where one is close (a
    mistyped id). A cloze card's reviews name the deletion reviewed (id#c1, ...), and those
    under its own id (made before it was a cloze card) are kept as that id's history, as your
    log keeps them.

    `--dry-run` says all of this and writes nothing: the database is read as it is, not even
    upgraded.

    `--json` prints {"rows", "added", "duplicates", "undone", "undos_applied", "undone_added",
    "cards", "unknown_cards", "first_unknown_cards", "closest_known_cards",
    "cloze_cards_own_id", "conflicts", "first_conflicts", "ahead_of_clock",
    "most_ahead_seconds", "dry_run"}. "duplicates": every row not added, applied or logged
    undone, "undone" and "conflicts" among them; "undone": rows left out as ratings undone
    here; "undos_applied": ratings of your log undone now; "undone_added": undone rows your
    log had not, logged undone; "closest_known_cards": {unknown id: the content's id closest
    to it}, for those of "first_unknown_cards" that one is close to; "cloze_cards_own_id": the
    cloze cards with new reviews under their own id, not among "unknown_cards";
    "ahead_of_clock": rows later than this machine's clock, the latest "most_ahead_seconds"
    ahead.

    Example: studycli import-reviews laptop-reviews.csv --dry-run
    """
    from studycli.study.api import study_items

    from . import import_summary

    given = str(file)
    shown = "standard input" if given == "-" else escape(given)
    file = Path("/dev/stdin") if given == "-" else user_path(file)
    mark: tuple[int, int] | None = None  # the log's latest review and undos before the import
    try:
        content = options(ctx).load()
        items = study_items(content.cards.values())
        # a dry run reads the database as it is: no upgrade, no backup, nothing written
        with open_study(ctx, write=not dry_run, as_is=dry_run) as study:
            mark = None if dry_run else (study.latest_review_id(), study.undo_count())
            result = study.import_reviews(file, items, now(), dry_run=dry_run)
            settings = study.settings
    except ImportFormatError as refused:  # (it names the file: standard input as such)
        if shown != "standard input":
            raise
        raise ImportFormatError(str(refused).replace(str(file), "standard input")) from None
    except KeyboardInterrupt:  # one transaction: saved whole or not at all; the log says which
        saved = mark is not None and _imported_since(ctx, mark)
        exit_interrupted(
            f"interrupted: the import of {shown} is saved"
            if saved
            else "interrupted: nothing was imported (your log is as it was)"
        )
    notes = []
    if dry_run:
        from .again import shell_path, studycli_again

        named = "-" if given == "-" else shell_path(file)
        command = f"{studycli_again(ctx, content.root)} import-reviews {named}"
        notes = import_summary.dry_run_notes(result, command)
    if as_json:
        import json

        print(json.dumps(result.to_dict(), indent=2))

        for note in notes:  # (stdout is the JSON's)
            print_prose(stderr(), note)
        return
    print_prose(stdout(), import_summary.summary(result, shown, settings))
    if result.conflicts:
        print_prose(stdout(), import_summary.conflicts(result, content.renames))
    if result.ahead:
        print_prose(stdout(), import_summary.ahead(result))
    for note in notes:
        print_prose(stdout(), note)


@app.command("export-reviews")
def export_reviews(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="The CSV file to write (replaced if it exists; through a link, the file it "
            "points to); - writes it to standard output."
        ),
    ],
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="py-fsrs's four columns alone, and only the ratings that stand: for another "
            "FSRS tool, or a studycli older than the content_hash and undone_at columns, "
            "which read an undone rating as one.",
        ),
    ] = False,
) -> None:
    """Write your review history to a CSV file, oldest first: to move to another machine, merge
    with `import-reviews` there, or fit parameters elsewhere.

    Columns card_id,review_rating,review_time,review_duration (py-fsrs's format, times in UTC
    with microseconds), then studycli's own: content_hash (the card's text each review was made
    on, which an import records, so that a card edited since stays flagged) and undone_at (empty
    for a rating that stands).

    What is written is the history your schedule is made of, and the ratings you undid, marked
    undone (with --plain, left out): an import of the file undoes them where it finds them
    standing, so that an undo made after a sync reaches the other machine.

    The format has no place for cram ratings (left out: they never moved your schedule),
    suspensions, or a check's outcome (a rating a check decided is written as a plain rating):
    the command counts what stays behind, and the cards last scheduled under other settings than
    yours now (before an `optimize --write`), whose due dates an import (which schedules with
    the importing machine's settings) can move.

    Example: studycli export-reviews ~/Dropbox/reviews.csv
    """
    file = user_path(file)
    to_stdout = str(file) == "-"
    if not to_stdout:
        folder_of_output(file)
    before = None if to_stdout else _identity(file)
    try:  # (written beside it, then moved into its place in one step)
        with open_study(ctx) as study:
            written = study.export_reviews(file, plain=plain)
            missing = study.left_out_of_export(options(ctx).item_ids())
            database = study.store.path
    except KeyboardInterrupt:
        if to_stdout:
            exit_interrupted("interrupted")
        replaced = _identity(file) != before
        exit_interrupted(
            f"interrupted: {escape(str(file))} is {'written' if replaced else 'as it was'}"
        )
    line = f"wrote {counted(written.ratings, 'review')} to "
    line += "standard output" if to_stdout else escape(str(file))
    if written.undone:
        line += f", and {_counted(written.undone, 'undone rating')}, marked for an import to undo"
    behind = [
        _counted(missing.cram, "cram rating"),
        _suspended(missing.suspended or 0, missing.suspended_deletions),
        _gone(missing.suspended_gone),
        _counted(missing.checked, "check outcome"),
    ]
    if any(behind):
        listed = ", ".join(part for part in behind if part)
        line += f"; not in the file: {listed} (py-fsrs's format has no place for them)"

    if to_stdout:  # the rows are the output: the count goes beside them
        print_prose(stderr(), line)
    else:
        print_prose(stdout(), line)
    if missing.other_settings:
        print_prose(stderr(), _other_settings(missing.other_settings, database))


def _other_settings(cards: int, database: Path) -> str:
    """What an import of the export does to the cards last scheduled under other settings
    than the current ones (the file has no place for settings: README, "moving your
    history"), and how to move this machine's schedule as it is instead."""
    from studycli.paths import config_path

    settings = config_path().resolve()
    copy = f"copy {escape(str(database.resolve()))}"
    if settings.exists():
        copy += f" and {escape(str(settings))} instead"
    else:  # the defaults: the other machine's settings.toml, if any, would stand instead
        copy += (
            f" instead, and leave no settings.toml there (this machine has none: "
            f"{escape(str(settings))})"
        )
    were = "card was" if cards == 1 else "cards were"
    return (
        f"[yellow]{cards:,} {were} last scheduled under other settings than yours now[/] "
        "(before an `optimize --write` or a change to settings.toml): an import schedules "
        "every review with the importing machine's settings, so their due dates can move. "
        f"To move this machine's schedule as it is, {copy}"
    )


def _imported_since(ctx: typer.Context, mark: tuple[int, int]) -> bool:
    """Whether the log holds reviews imported after `mark` (the latest review and the count
    of undos before the import), or undos made since (an import that only applied the file's
    undos appends no review); read again: a Ctrl-C may come as the import's transaction
    commits, or just after."""
    with open_study(ctx, write=False) as study:
        return study.imported_since(*mark)


def _identity(path: Path) -> tuple[int, int, int] | None:
    """The file `path` is (its inode, change time and size; None where there is none): what
    tells whether an export put a new one in its place."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_ctime_ns, found.st_size


def _suspended(cards: int, deletions: int) -> str:
    """The suspended cards, as the learner suspended them ("1 suspended card (3 cloze
    deletions)": one cloze card of three deletions was "3 suspensions"), or "" when none."""
    if not cards:
        return ""
    return counted(cards, "suspended card") + (
        f" ({counted(deletions, 'cloze deletion')})" if deletions else ""
    )


def _gone(suspensions: int) -> str:
    """The suspensions of items the content no longer has, apart from its suspended cards
    (`stats` counts none of them: it said "suspended 0" where an export said "2 suspended
    cards"), or "" when none."""
    if not suspensions:
        return ""
    return f"{counted(suspensions, 'suspension')} of cards or deletions no longer in the content"


def _counted(count: int, noun: str) -> str:
    """How many of `noun` ("2 cram ratings", "1 cram rating"), or "" when none."""
    return counted(count, noun) if count else ""
