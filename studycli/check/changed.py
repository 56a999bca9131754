"""`check --changed`: the cards a branch touched, found with git.

A card is changed when its YAML file or a solution module it names (`solution:` or `check:`)
differs from where the branch left a ref (the merge base of HEAD and the ref, as in a pull
request's diff): committed since, staged, unstaged or untracked. A changed
module brings in every card that names it. A change to `studycli/assertions/` (any of its
modules), the API every checker imports, brings in every card. Without git, or with a ref git
does not know, every card is checked and the note says why. In a shallow clone whose history
does not reach where the branch left the ref, there is no base either (the ref's tip would
count what it gained since as the branch's undoing), unless the ref is a parent of HEAD (a
pull request's merge commit).

The same pass guards the learners' review histories (changed_histories.py: renamed,
renumbered, rekinded and moved cards), and says what a change leaves behind and how to fix it
(`change_problem`). What git is asked (the base, the changed files, their texts at the base):
changed_git.py.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studycli.content.card import Card, Kind, shown_path
from studycli.content.cloze import split_study_id, study_id
from studycli.content.loader import Content
from studycli.content.source import module_names

from .changed_contracts import contract_edits
from .changed_entries import Forgotten, Unfit
from .changed_git import _base, _changed_paths, _git
from .changed_histories import _histories
from .changed_records import Gapped, Moved, Rekinded, Renamed, Renumbered, Reordered


@dataclass(frozen=True)
class Changed:
    """The cards to check, and a note saying what they were compared with."""

    cards: list[Card]
    note: str
    base: str | None = None  # the commit compared with; None when every card is checked
    broken: tuple[Path, ...] = ()  # changed card files that did not load (lint says why)
    renamed: tuple[Renamed, ...] = ()  # ids gone since the base, with a new card like them
    carried: tuple[Renamed, ...] = ()  # ids gone since the base, in a card's `renamed_from`
    renumbered: tuple[Renumbered, ...] = ()  # cloze cards whose deletions changed numbers
    rekinded: tuple[Rekinded, ...] = ()  # cards changed to a cloze card, or from one
    gapped: tuple[Gapped, ...] = ()  # new cloze cards whose deletion numbers skip one
    moved: tuple[Moved, ...] = ()  # card texts now under another id (ids swapped)
    forgotten: tuple[Forgotten, ...] = ()  # old ids in `renamed_from` at the base, in none now
    reordered: tuple[Reordered, ...] = ()  # cards whose first id is listed after another now
    unfit: tuple[Unfit, ...] = ()  # entries naming a card at the base as it was never keyed
    edited: tuple[str, ...] = ()  # study items whose text as shown changed: flagged to learners
    # coding cards whose starter or checker changed (`changed_contracts`): flagged to learners too
    contract_edits: tuple[tuple[str, tuple[str, ...]], ...] = ()


def changed_cards(content: Content, ref: str | None = None) -> Changed:
    """The cards whose file or solution module differs from the merge base of HEAD and `ref`.

    Args:
        content: the loaded content; its folder must lie in a git work tree.
        ref: a commit, branch or tag; default: main (or origin/main where there is no local
            main).

    Returns:
        The changed cards sorted by deck then id, or every card (with a note saying why) when
        the folder is not in a git repository or the ref is unknown; and the changed files
        that did not load as cards.
    """
    everything = sorted(content.cards.values(), key=lambda c: (c.deck, c.id))
    if shutil.which("git") is None:
        return Changed(everything, "git is not installed: checking every card")
    top = _git(content.root, "rev-parse", "--show-toplevel")
    if top is None:
        return Changed(
            everything, f"{content.root} is not in a git repository: checking every card"
        )
    repo = Path(top.strip())
    base, what = _base(repo, ref)
    if base is None:
        return Changed(everything, f"{what}: checking every card")
    paths = _changed_paths(repo, base)
    described = f"{len(paths)} changed file(s) since {base[:10]} ({what})"
    if _assertions_folder() in {path.parent for path in paths}:
        return Changed(everything, f"{described}; studycli/assertions/ changed: every card", base)
    solutions = content.solutions_dir.resolve()
    modules = {p.stem for p in paths if p.parent == solutions and p.suffix == ".py"}
    chosen = [
        card for card in everything if card.path.resolve() in paths or module_names(card) & modules
    ]
    broken = tuple(sorted({p.path for p in content.problems if p.path.resolve() in paths}))
    histories = _histories(repo.resolve(), base, content, paths)
    contracts = contract_edits(repo.resolve(), base, content, chosen, paths)
    note = f"{described}: {len(chosen)} card(s) changed"  # (`check` says which have checks)
    if histories.edited:
        note += (
            '; text edited, each learner told so above the card at its next review ("edited '
            f'since your last review"; the history is kept): {", ".join(histories.edited)}'
        )
    if contracts:
        note += (
            "; coding cards whose contract changed, each learner told so at its next review: "
            + ", ".join(f"{card_id} (its {' and '.join(parts)})" for card_id, parts in contracts)
        )
    if histories.carried:
        note += (
            "; card(s) renamed with `renamed_from`, their learners' histories carried over: "
            + ", ".join(f"{r.old} -> {r.new}" for r in histories.carried)
        )
    if histories.removed:
        note += f"; card(s) removed: {', '.join(histories.removed)}"
    if dropped := [
        study_id(r.card_id, n) for r in histories.renumbered if not r.moved for n in r.removed
    ]:
        note += f"; cloze deletions removed: {', '.join(dropped)}"
    return Changed(
        chosen,
        note,
        base,
        broken,
        renamed=histories.renamed,
        carried=histories.carried,
        renumbered=histories.renumbered,
        rekinded=histories.rekinded,
        gapped=histories.gapped,
        moved=histories.moved,
        forgotten=histories.forgotten,
        reordered=histories.reordered,
        unfit=histories.unfit,
        edited=histories.edited,
        contract_edits=contracts,
    )


def change_problem(found: Changed, root: Path) -> str | None:
    """What in the change leaves learners' review histories behind, and how to fix it (None
    when nothing does): renamed ids, renumbered cloze deletions, cards changed to or from a
    cloze card; and a new cloze card whose numbers skip one, which only a published card's
    dropped deletion may (lint, which sees no base, lets both through). Files are shown from
    `root`."""

    def shown(path: Path) -> Path:
        return shown_path(path.resolve(), root.resolve())

    said = []
    renamed = [r for r in found.renamed if not r.entries]
    if renamed:
        moved = ", ".join(f"{r.old} -> {r.new} ({shown(r.path)})" for r in renamed)
        listed = "; ".join(f"`renamed_from: [{r.old}]` to {shown(r.path)}" for r in renamed)
        said.append(
            f"card ids renamed: {moved}. An id is the key of every learner's review history: "
            "renamed, the old one's reviews stay behind and the card starts again as new. Keep "
            "the id (change the title instead): give the file its old name and `id:` back; or, "
            f"to rename the card, add {listed}, which carries every learner's history over to "
            "the new id; a card that is truly another gets a new file beside the old one, "
            "which is removed on its own"
        )
    said += [_split_problem(r, shown) for r in found.renamed if r.entries]
    said += [_unfit_problem(u, shown) for u in found.unfit]
    if found.forgotten:
        said.append(_forgotten_problem(found.forgotten, shown))
    for reordered in found.reordered:
        ids, first = reordered.listed, reordered.first
        ordered = ", ".join((first, *(old for old in ids if old != first)))
        said.append(
            f"{shown(reordered.path)}: `renamed_from: [{', '.join(ids)}]` does not begin "
            f"with {first}, the card's first id: an Anki export keys the card's note by the "
            "first id listed, so Anki would add the card as another note beside the one it "
            f"has. Keep {first} first (an id older still, found later, goes after it): "
            f"`renamed_from: [{ordered}]`"
        )
    for card in (card for card in found.renumbered if card.moved):  # (a number only dropped:
        # its reviews stay in the log, and no other fact takes them over: a note, see above)
        changes = [f"c{a} -> c{b}" for a, b in card.moved]
        changes += [f"c{n} removed" for n in card.removed]
        said.append(
            f"{shown(card.path)}: cloze deletions renumbered: {', '.join(changes)}. Each "
            f"number keys its own review history ({card.card_id}#c1, ...): a fact under "
            "another number takes over its reviews. Keep each fact under the number it had "
            "(a dropped number stays unused); a new fact gets a new number, after the last"
        )
    for kinded in found.rekinded:
        keys = (
            (f"{kinded.card_id}#c1, ...", kinded.card_id)
            if kinded.was == Kind.CLOZE.value
            else (kinded.card_id, f"{kinded.card_id}#c1, ...")
        )
        said.append(
            f"{shown(kinded.path)}: changed from {kinded.was} to {kinded.now}. Its reviews are kept "
            f"under {keys[0]}, and the card is now studied as {keys[1]}: they stay behind and "
            f"it starts again as new. Keep its kind; a card of the other kind is another card, "
            "with an id and a file of its own (the old one removed on its own)"
        )
    if found.moved:
        said.append(_moved_problem(found.moved, shown))
    for gapped in found.gapped:
        numbers = ", ".join(f"c{n}" for n in gapped.numbers)
        said.append(
            f"{shown(gapped.path)}: a new cloze card numbering its deletions {numbers}. Number "
            f"them c1..c{len(gapped.numbers)}: a number is skipped only where a published card "
            "dropped a deletion (its reviews stay under its number, which no other fact takes)"
        )
    return "\n".join(said) or None


def _moved_problem(moved: tuple[Moved, ...], shown: Callable[[Path], Path]) -> str:
    """What `change_problem` says of card texts moved to other ids: two ids whose texts were
    exchanged as one swap, each other move on its own."""
    pairs = {(m.old, m.new) for m in moved}
    told = []
    for m in moved:
        if (m.new, m.old) in pairs:
            if m.old < m.new:
                told.append(f"{m.old} <-> {m.new} (swapped)")
        else:
            told.append(f"{m.old} -> {m.new} ({shown(m.path)})")
    return (
        f"card texts moved to another id: {', '.join(told)}. An id is the key of every "
        "learner's review history, which stays with the id, not with the text: the reviews "
        "of the text moved stay with the card that no longer has it, flagged as edited, and "
        "are taken for the reviews of the text it holds now. Keep each text under its id "
        "(change the title instead); to give a text another id, rename its card with "
        "`renamed_from` to an id no card has, and write a new text as a new card"
    )


def _split_problem(split: Renamed, shown: Callable[[Path], Path]) -> str:
    """What `change_problem` says of a cloze card gone whose deletions were split off into
    other cards, some listed by none (`Renamed.entries`)."""
    left = [entry.partition(" ")[0] for entry, _ in split.entries]
    them = "it" if len(left) == 1 else "them"
    add = "; ".join(
        f"`renamed_from: [{entry!r}]` to {shown(path)}" if " " in entry
        else f"`renamed_from: [{entry}]` to {shown(path)}"
        for entry, path in split.entries
    )  # fmt: skip
    if any(entry.endswith(" -> cN") for entry, _ in split.entries):
        add += " (cN: the number its text has there)"
    return (
        f"{split.old} is gone, split into cards that list some of its deletions in "
        f"`renamed_from`, and no card lists {', '.join(left)}: every learner's reviews of "
        f"{them} would stay behind and the fact start again as new. List each deletion in the "
        f"card its text went to: add {add} (`renamed_from: [{split.old}]` fits a card renamed "
        "whole, its deletions under their numbers, not a split); a deletion dropped for good "
        "is dropped in a change of its own, its card kept"
    )


def _unfit_problem(unfit: Unfit, shown: Callable[[Path], Path]) -> str:
    """What `change_problem` says of an entry that names a card at the base as its kind never
    kept its reviews (`changed_entries`)."""
    old, at = (
        unfit.old,
        f"{shown(unfit.path)}: `renamed_from` entry {unfit.entry!r} names {unfit.old}",
    )
    if unfit.kind == Kind.CLOZE.value:
        why = (
            f"{at}, a cloze card at the base, whose reviews are kept per deletion ({old}#c1, "
            "...): the entry carries none of them, and they stay behind"
        )
        if unfit.fix is None:
            return (
                f"{why}. List each of its deletions in the card its text went to instead: "
                f"`'{old}#c2 -> c1'` (its number at the base, then its number there)"
            )
        return f"{why}. Write {unfit.fix!r}, its one deletion"
    fix = repr(unfit.fix) if " " in (unfit.fix or "") else unfit.fix
    return (
        f"{at}, a {unfit.kind} card at the base, whose reviews are kept under {old}, not per "
        f"deletion: the entry carries none of them, and they stay behind. Write {fix}"
    )


def _forgotten_problem(forgotten: tuple[Forgotten, ...], shown: Callable[[Path], Path]) -> str:
    """What `change_problem` says of old ids that a card listed in `renamed_from` at the base
    and no card lists now (a card's, or one item's: a deletion split off, a card made one)."""
    told = ", ".join(f"{f.old} (listed by {f.was})" for f in forgotten)
    add = "; ".join(_entry_to_add(f, shown) for f in forgotten)
    anki, ordered = "", ""
    # (an old id of a whole card, not of one item)
    if any(f.entry == f.old and split_study_id(f.old)[1] is None for f in forgotten):
        anki = "; an Anki export keys the note by the oldest id, so Anki adds another note"
        ordered = " (every id the card had, oldest first)"
    return (
        f"old ids no card lists in `renamed_from` any more: {told}. A learner who has not "
        "studied since that rename still has the reviews under the old id: they stay behind "
        f"and the card starts again as new{anki}. Keep every id a card ever had: {add}"
        f"{ordered}"
    )


def _entry_to_add(forgotten: Forgotten, shown: Callable[[Path], Path]) -> str:
    """How `_forgotten_problem` tells the old id `forgotten` carried on: its entry in the card
    that holds its item now; or, for a deletion come back to its own card under another
    number (which no entry may name: a deletion keeps its number), that number given back."""
    old, entry, file = forgotten.old, forgotten.entry, shown(forgotten.path)
    card_id, number = split_study_id(old)
    if number is not None and card_id == forgotten.card_id:
        now = entry.rpartition(" -> c")[2]
        return (
            f"give {old}'s fact its own number back in {file} ({{{{c{number}::...}}}}, not "
            f"{{{{c{now}::...}}}}, and `-> c{number}` in the entries that name c{now})"
        )
    return f"add {f'{entry!r}' if ' ' in entry else entry} to the `renamed_from` of {file}"


def _assertions_folder() -> Path | None:
    """The folder of `studycli.assertions`, a package: each helper lives in one of its modules
    (re-exported by its __init__.py), so a change to any of them changes the API."""
    spec = importlib.util.find_spec("studycli.assertions")
    folders = spec.submodule_search_locations if spec else None
    return Path(next(iter(folders))).resolve() if folders else None
