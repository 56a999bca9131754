"""The doctor command: check the review database and repair its card states from the log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from studycli.study.labels import counted

from .app import app, exit_interrupted, options, print_prose, stdout


@app.command()
def doctor(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report: repair nothing, write no backup.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the review database: SQLite's integrity check, then a replay of the review log
    compared with every stored card state; states that differ are repaired from the log.

    So is the schedule each review logged (its queue and state after, which `stats` reads)
    where it differs from the replay's or does not read, and each card's count of reviews
    passed in review (kept for `stats`' topic retention) where it differs from the log's. The
    table that holds those counts is made again where it is missing (every rating fails
    without it), and so is a trigger that keeps them as the log changes where it is missing
    or altered; any other trigger that names their table is dropped (one renamed by hand
    counts each review twice).

    It also says where the memory states are not what the FSRS parameters in settings.toml
    give (parameters edited by hand, or an `optimize --write` killed between saving them and
    recomputing): `studycli optimize --recompute` then recomputes them.

    A backup of the database is written next to it before anything is repaired. Exits 0 when
    the database is healthy (or was repaired), 1 when it is damaged or, with --dry-run, when it
    needs a repair.

    Example: studycli doctor --dry-run
    """
    from studycli.paths import database_path
    from studycli.study.doctor import examine_database

    from .context import say_waits

    path = database_path(options(ctx).db)
    say_waits()
    try:
        report = examine_database(path, repair=not dry_run, settings=_settings())
    except KeyboardInterrupt:  # a repair is one transaction, committed at its very end
        exit_interrupted("interrupted: nothing was repaired (the database is as it was)")
    if report is None:
        if as_json:
            import json

            from studycli.study.doctor import Report

            # the shape of any report (a script reading "drifted" on a fresh machine got a
            # KeyError), nothing in it
            empty = {**Report(path).to_dict(), "exists": False, "stale_memory_states": 0}
            print(json.dumps(empty, indent=2))
            return
        first = "your first review creates it"
        if options(ctx).db and not path.parent.exists():  # (a review refuses to make folders)
            import shlex

            first = (
                "its folder does not exist: make it (mkdir -p "
                f"{escape(shlex.quote(str(path.parent)))}) before your first review, which "
                "creates the database, or fix the path"
            )
        print_prose(
            stdout(), f"no review database at {escape(str(path))} yet: nothing to check ({first})"
        )
        return
    stale = report.stale
    if as_json:
        import json

        print(json.dumps(report.to_dict(), indent=2))
    else:
        _show(report, dry_run)
        if stale:
            whose = counted(stale, "card") + ("'s" if stale == 1 else "'")  # (not "1 card'")
            print_prose(
                stdout(),
                f"[yellow]{whose} memory states are not what the FSRS parameters in "
                "settings.toml give[/] (parameters edited by hand, or an "
                "`optimize --write` cut short): `studycli optimize --recompute` recomputes "
                "them (due dates kept)",
            )
    raise typer.Exit(0 if report.healthy else 1)


def _settings():
    """The learner's settings, for the count of stale memory states; None where they do not
    read (every other command says why): the database is checked all the same."""
    from studycli.errors import ConfigError

    from .context import settings

    try:
        return settings()
    except ConfigError:
        return None


def _show(report, dry_run: bool) -> None:
    console = stdout()
    where = escape(str(report.path))
    if report.integrity:
        print_prose(
            console,
            f"[bold red]integrity check failed[/] on {where}: "
            f"{escape('; '.join(report.integrity[:5]))}",
        )
        _show_damaged(report)
        return
    print_prose(console, f"integrity check: ok ({where})")
    replay = f"replayed {counted(report.reviews, 'review')} of {counted(report.cards, 'card')}"
    if not report.differs:
        console.print(f"{replay}: every stored card state matches the log")
        return
    if report.drifted:
        names = ", ".join(report.drifted[:10]) + (" ..." if len(report.drifted) > 10 else "")
        print_prose(
            console,
            f"{replay}: {len(report.drifted)} stored card state(s) differ from the log: "
            f"{escape(names)}",
        )
    if report.drifted_reviews:
        ids = ", ".join(map(str, report.drifted_reviews[:10]))
        print_prose(
            console,
            f"{replay}: the state after {counted(len(report.drifted_reviews), 'review')} (the "
            f"schedule each left, which `stats` reads) differs from the replay's or does not "
            f"read: review id(s) {ids}{' ...' if len(report.drifted_reviews) > 10 else ''}",
        )
    if report.outcomes_drifted:
        names = ", ".join(report.outcomes_drifted[:10])
        more = " ..." if len(report.outcomes_drifted) > 10 else ""
        print_prose(
            console,
            f"the counts of reviews passed in review that `stats` reads for topic retention "
            f"differ from the log for {counted(len(report.outcomes_drifted), 'card')}: "
            f"{escape(names)}{more}",
        )
    if report.table_missing:
        print_prose(
            console,
            "the table review_outcomes, which holds the counts of reviews passed in review "
            "(for `stats`' topic retention), is missing: every rating fails without it",
        )
    _show_triggers(report)
    if dry_run:
        console.print("dry run: nothing changed; `studycli doctor` repairs them from the log")
    elif report.repaired:
        remade = (["table review_outcomes"] if report.table_missing else []) + (
            [_triggers(report.triggers)] if report.triggers else []
        )
        made = f"made the {' and the '.join(remade)} again, " if remade else ""
        if report.triggers_foreign:
            made = f"dropped the {_triggers(report.triggers_foreign)}, {made}"
        print_prose(
            console,
            f"{made}repaired them from the log (backup before the repair: "
            f"{escape(str(report.backup))})",
        )
    else:
        console.print("[bold red]the repair did not take[/]: keep the backup and report this")


def _show_triggers(report) -> None:
    """The triggers that keep the counts of reviews passed as the log changes that are missing
    or altered, and the triggers of other names that name their table: counted again with
    these as they are, the counts would drift again."""
    for names, what in (
        (report.triggers_missing, "missing"),
        (report.triggers_altered, "altered (not the SQL studycli makes)"),
    ):
        if names:
            one = len(names) == 1
            print_prose(
                stdout(),
                f"the {_triggers(names)}, which keep{'s' if one else ''} the counts of reviews "
                "passed in review (for `stats`' topic retention) up to date as the log "
                f"changes, {'is' if one else 'are'} {what}: the counts drift from the log "
                f"without {'it' if one else 'them'}",
            )
    if names := report.triggers_foreign:
        one = len(names) == 1
        print_prose(
            stdout(),
            f"the {_triggers(names)}, not studycli's, name{'s' if one else ''} the table of "
            "the counts of reviews passed in review (one renamed by hand, made again by the "
            "doctor, counts each review twice): the counts drift from the log with "
            f"{'it' if one else 'them'}",
        )


def _triggers(names: list[str]) -> str:
    """'trigger a' or 'triggers a, b'."""
    return f"trigger{'s' if len(names) > 1 else ''} {escape(', '.join(names))}"


def _show_damaged(report) -> None:
    """What to do with a damaged file: save its history when the whole log still reads."""
    console = stdout()
    log = report.log
    if log is not None and log.complete and report.salvage:
        saved = report.saved
        kept = (
            f"saved your history to {escape(str(saved.path))} (as export-reviews writes it): "
            "rebuild the database from it with"
            if saved is not None and saved.written
            else "save your history and rebuild the database from it with"
        )
        print_prose(
            console,
            f"nothing was repaired in it (writing to a damaged file can spread the damage), "
            f"but its review log still reads in full ({counted(log.reviews, 'review')}): {kept}",
        )
        _show_commands(report)
        print_prose(
            console,
            "the import replays the log into every card's state; suspensions, cram ratings "
            "and checks' outcomes (their ratings are kept) are not carried over. Keep the "
            "damaged file until the new database looks right (`studycli history`)",
        )
        return
    if log is not None and log.problem:
        print_prose(
            console, f"the review log cannot be saved from it whole ({escape(log.problem)})"
        )
    if report.saved is not None:
        _show_saved(report)
        return
    backups = (
        "the backups next to it: " + ", ".join(escape(p.name) for p in report.backups)
        if report.backups
        else "a copy you kept: no backup lies next to it"
    )
    print_prose(
        console,
        "nothing was repaired (a damaged log would spread the damage): move the file "
        f"aside and restore a backup ({backups}), or start a new one",
    )


def _show_saved(report) -> None:
    """What reads of a log that reads only in part: where it was saved, what was lost, and the
    commands that rebuild the database from the newest backup and it."""
    console = stdout()
    saved = report.saved
    ids = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in saved.lost[:5])
    ids += " ..." if len(saved.lost) > 5 else ""
    lost = f"{counted(saved.lost_count, 'review')} lost (ids {ids})" if saved.lost else "none lost"
    file = escape(str(saved.path))
    reviews = counted(saved.reviews, "review")
    if not saved.written:
        print_prose(
            console,
            f"read around its damaged pages: {lost}; dry run: nothing written, `studycli "
            f"doctor` saves the {reviews} of your schedule that still read to {file}",
        )
        return
    print_prose(
        console,
        f"read around its damaged pages: {lost}; saved the {reviews} of your schedule that "
        f"still read to {file}",
    )
    if saved.backup is not None:
        print_prose(
            console,
            f"the newest intact backup, {escape(saved.backup.name)}, holds "
            f"{saved.backup_holds} of the {saved.lost_count} lost: rebuild the database from it "
            "and the saved reviews with",
        )
    else:
        print_prose(
            console,
            "no intact backup lies next to it, so the lost reviews are gone (unless a copy you "
            "kept has them): rebuild the database from the saved reviews with",
        )
    _show_commands(report)
    if not saved.undos_whole:
        print_prose(
            console,
            "some of its undos do not read either: a rating you undid may be among the saved "
            "ones; look at `studycli history` after the import",
        )
    since = " since the backup" if saved.backup is not None else ""
    print_prose(
        console,
        "the import replays the saved reviews into every card's state (suspensions, cram "
        f"ratings and checks' outcomes{since} are not carried over). Keep the damaged file "
        "until the new database looks right (`studycli history`)",
    )


def _show_commands(report) -> None:
    """The commands that save a damaged file's history, and where the new database is when it
    cannot take the damaged one's place."""
    console = stdout()
    for command in report.salvage:
        console.print(f"  {escape(command)}", soft_wrap=True, highlight=False)
    if report.salvaged_to is not None:
        print_prose(
            console,
            f"(its folder cannot be written, so the history goes into a new database, "
            f"{escape(str(report.salvaged_to))}: use it with --db or STUDYCLI_DB, or copy it "
            "to where the damaged one was once that can be written)",
        )
