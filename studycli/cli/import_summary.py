"""What `import-reviews` says of an import, done or, with --dry-run, only tried: the summary
line (`summary`), the rows left out that gave another rating (`conflicts`), the reviews ahead
of this machine's clock (`ahead`), and what a dry run adds (`dry_run_notes`). One wording for
both, the tense apart (`_Tense`), so that a dry run reads as the import that follows it."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.markup import escape

from studycli.content.cloze import SEPARATOR
from studycli.study.labels import counted

if TYPE_CHECKING:
    from collections.abc import Mapping

    from studycli.study.review_io import ImportResult


class _Tense(NamedTuple):
    imported: str
    rescheduled: str
    kept: str
    left_out: str
    applied: str
    logged: str
    undone_too: str


_DONE = _Tense(
    "imported", "rescheduled", "is kept", "left out gave", "applied", "logged", "undone here too"
)
_TRIED = _Tense(
    "would import",
    "would be rescheduled",
    "would be kept",
    "would be left out, giving",
    "would be applied",
    "would be logged",
    "to be undone here too",
)


def summary(result: ImportResult, shown: str, settings) -> str:
    """The line that says what the import of `shown` (the file, as the learner named it,
    markup escaped) did, or would do (`result.dry_run`)."""
    tense = _TRIED if result.dry_run else _DONE
    line = (
        f"{tense.imported} {result.added:,} of {counted(result.rows, 'review')} from {shown} "
        f"({result.duplicates - result.conflicts:,} already in your log, or in the file twice"
        + (f"; {result.conflicts:,} left out, below" if result.conflicts else "")
        + (
            f"; {result.undone:,} of them ratings undone in your log, which stay undone (your "
            "export carries the undo to the machine that wrote the file)"
            if result.undone
            else ""
        )
        + _undos(result, tense)
        + ")"
    )
    if result.cards:  # the file carries no settings: the replay used this machine's (README)
        line += (
            f"; {counted(result.cards, 'card')} {tense.rescheduled} with your current settings"
            f" (desired_retention {settings.desired_retention:g}, {_parameters(settings)})"
        )
    if result.unknown:
        line += (
            f", {result.unknown:,} of them not in the content (their history {tense.kept}): "
            + _unknown_named(result)
        )
    if result.cloze_own:
        line += _cloze_own(result.cloze_own)
    return line


def ahead(result: ImportResult) -> str:
    """What an import says of the file's reviews later than this machine's clock (up to 5
    minutes: `clock_skew.CLOCK_SKEW`; one further ahead refused the file): one of the two
    machines' clocks is off, by about that much, and what that does here."""
    from studycli.study.clock_skew import SKEW_SAID, spoken

    many = result.ahead > 1
    return (
        f"[yellow]{counted(result.ahead, 'review')} of the file "
        + ("are" if many else "is")
        + f" ahead of this machine's clock, {'the latest ' if many else ''}by "
        f"{spoken(result.most_ahead)}:[/] one of the two machines' clocks is off (taken, as "
        f"two clocks may be up to {SKEW_SAID} apart; set both to the network time, automatic "
        "date and time). A card rated here before its last review's time is recorded just "
        "after that review, to keep your log in time order"
    )


def _undos(result: ImportResult, tense: _Tense) -> str:
    """What the import did, or would do, with the file's undone rows: the ratings of the log
    they undo (their cards rescheduled), and those it logs undone, which the log had not."""
    said = ""
    if result.undos:
        said += (
            f"; {counted(result.undos, 'undo')} {tense.applied}: "
            + ("a rating" if result.undos == 1 else "ratings")
            + f" undone on the machine that wrote the file, {tense.undone_too}"
        )
    if result.undone_added:
        said += (
            f"; {counted(result.undone_added, 'undone rating')} new to your log, {tense.logged}"
            " as undone (no rating)"
        )
    return said


def _unknown_named(result: ImportResult) -> str:
    """The first few ids not in the content, each with the content's id closest to it where
    one is close ("add-on (did you mean add-one?)"), and how many more."""
    close = dict(result.close_to_known)
    named = ", ".join(
        escape(card_id) + (f" (did you mean {escape(close[card_id])}?)" if card_id in close else "")
        for card_id in result.first_unknown
    )
    more = result.unknown - len(result.first_unknown)
    return named + (f" and {more:,} more" if more else "")


def _parameters(settings) -> str:
    """Which FSRS parameters an import rescheduled with: the learner's own (`optimize --write`
    on this machine and not on the other, where the same history is scheduled otherwise) or
    fsrs's defaults."""
    if settings.parameters is None:
        return "FSRS's default parameters"
    from studycli.paths import config_path

    return f"your FSRS parameters from {escape(str(config_path().resolve()))}"


def conflicts(result: ImportResult, renames: Mapping[str, str]) -> str:
    """The rows left out that gave another rating for their card and time than the log has,
    or an earlier row: a rating edited in a file, to be changed by importing it again,
    changed nothing. A renamed card's is named by its id now and the ids it had (`renames`:
    old card id -> new), which the file may give it: an export made before the rename."""
    tense = _TRIED if result.dry_run else _DONE
    shown = "; ".join(
        f"{_with_old_ids(card, renames)} at {time}: {rating} in the file, "
        + (f"{other} in your log" if where == "log" else f"after {other} in an earlier row")
        for card, time, rating, other, where in result.first_conflicts
    )
    more = result.conflicts - len(result.first_conflicts)
    return (
        f"[yellow]{counted(result.conflicts, 'row')} {tense.left_out} another rating for a card "
        f"and time than your log has, or an earlier row:[/] {shown}"
        f"{f'; {more:,} more' if more else ''}. A review is known by its card and time, and "
        "an import never changes one's rating (`studycli undo` takes back today's last "
        "rating)"
    )


def _with_old_ids(study_id: str, renames: Mapping[str, str]) -> str:
    """`study_id`, escaped, and where its card was renamed the same item under the ids it had
    (`old#c2` for a cloze deletion), or where it was moved by itself (a deletion split off
    another card, a plain card made a deletion), the item it was."""
    card, separator, number = study_id.partition(SEPARATOR)
    whole = card if separator else study_id  # (what a renamed card's entry maps)
    renamed = [
        old + separator + number
        for old, new in sorted(renames.items())
        if new == whole and SEPARATOR not in old
    ]
    moved = [old for old, new in sorted(renames.items()) if new == study_id and old not in renamed]
    said = [f"{', '.join(renamed)} before its rename"] if renamed else []
    said += [f"{', '.join(moved)} before it was moved here"] if moved else []
    return f"{escape(study_id)} ({escape('; '.join(said))})" if said else escape(study_id)


def dry_run_notes(result: ImportResult, command: str) -> list[str]:
    """What a dry run adds: where the file holds reviews of ids the content does not know,
    that importing keeps them for ever (the log is append-only), and that nothing was written,
    with the command that imports (`command`: `again.studycli_again`'s, the file's path
    absolute)."""
    notes = []
    if result.unknown:
        notes.append(
            "[yellow]Once imported, the reviews of ids not in the content stay in your log "
            "for ever[/] (it is append-only: no command takes a review out of it): where an "
            "id is mistyped, or is one another version of the content gave its card, fix the "
            "file first"
        )
    notes.append(
        "dry run: nothing was written; the same command without --dry-run "
        f"(`{escape(command)}`) imports it"
    )
    return notes


def _cloze_own(cards: tuple[str, ...]) -> str:
    """What an import did with reviews under a cloze card's own id (a deletion's names it,
    `id#c1`): what the log that wrote them has, the card's history from before it was a cloze
    card, which no deletion's schedule takes."""
    named = ", ".join(escape(card_id) for card_id in cards[:NAMED])
    more = f" and {len(cards) - NAMED:,} more" if len(cards) > NAMED else ""
    are, their = ("is a cloze card's", "its") if len(cards) == 1 else ("are cloze cards'", "their")
    return (
        f"; of them, {named}{more} {are} own id: {their} reviews are kept as the history of "
        "that id from before it was a cloze card, which no deletion's schedule takes (a "
        f"deletion's reviews name it, {escape(cards[0])}#c1, ...)"
    )


NAMED = 5  # the cloze cards an import names
