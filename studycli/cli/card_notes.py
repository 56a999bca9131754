"""What the commands say of cards they leave out: card files that do not load (`not_loading`,
`left_out_notes`), drafts still being written (`being_written`) and cards not done yet
(`not_done_yet`), each naming the first few and counting the rest."""

from __future__ import annotations

from collections.abc import Sequence


def not_loading(paths, root, *, before: str = "", after: str = "") -> str:
    """ "cards/x.yaml: {before}not a card that loads{after}: `studycli lint` says why"."""
    from studycli.content.card import shown_path

    paths = list(paths)
    shown = ", ".join(str(shown_path(path, root)) for path in paths[:NAMED_UNLOADED])
    if len(paths) > NAMED_UNLOADED:  # (120 of them made one line of 6,000 characters)
        shown += f" and {len(paths) - NAMED_UNLOADED} more files"
    return f"{shown}: {before}not a card that loads{after}: `studycli lint` says why"


NAMED_UNLOADED = 5  # the files named of those that do not load as cards


def left_out_notes(paths, problems, root) -> list[str]:
    """One line per card file of `paths` (files left out: they do not load), the first few:
    "cards/x.yaml: not a card that loads, left out: line 5: ...", why as lint says it first
    (`why_unloaded` of its `problems`: every file's, as `Content.unloaded()` gives them); the
    files past those counted. It said only "`studycli lint` says why", of a reason the loader
    had (a helper's review)."""
    from studycli.content.card import shown_path, why_unloaded

    paths = list(dict.fromkeys(paths))
    notes = [
        f"{shown_path(path, root)}: not a card that loads, left out: "
        + why_unloaded([problem for problem in problems if problem.path == path])
        for path in paths[:NAMED_UNLOADED]
    ]
    if len(paths) > NAMED_UNLOADED:
        rest = len(paths) - NAMED_UNLOADED
        notes.append(
            f"and {rest} more card file{'s' if rest > 1 else ''} that do not load, left out: "
            "`studycli lint` says why"
        )
    return notes


def being_written(ids: Sequence[str]) -> str:
    """ "a, b: still being written (a text begins with TODO): not studied until done; ..." of
    the drafts `ids` (`Card.draft`), left out of what is studied."""
    shown, named = _named(ids)
    return (
        f"{shown}: still being written (a text begins with TODO): not studied until done; "
        f"`studycli check {named}` says what is left"
    )


def not_done_yet(ids: Sequence[str]) -> str:
    """ "a, b: not done yet ...: `studycli check a b` ... fails each ..." of the cards `ids` that
    `check` reports not done (`scaffold.not_done`), which `lint` accepts: lint said "0
    problem(s)" of them, and their author did not hear that CI would refuse them."""
    shown, named = _named(ids)
    return (
        f"{shown}: not done yet (a text or docstring begins with TODO, or code raises "
        f"NotImplementedError): `studycli check {named}` says what is left, and fails each "
        "until it is written, as CI does"
    )


def _named(ids: Sequence[str]) -> tuple[str, str]:
    """The first ids of `ids` and how many more, to say; and those first ones, to check."""
    named = list(ids[:NAMED_UNLOADED])
    shown = ", ".join(named)
    if len(ids) > NAMED_UNLOADED:  # (as `not_loading`: not a line of thousands of ids)
        shown += f" and {len(ids) - NAMED_UNLOADED} more cards"
    return shown, " ".join(named)
