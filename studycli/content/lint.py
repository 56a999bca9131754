"""`studycli lint`: every rule the content must follow, every problem reported at once.

Here: `lint`, which runs them all, and the rules of a card's own fields. The rules across
cards (`requires` cycles, orphan modules, unlisted decks, stray table entries):
lint_cross_card.py; a `- ` line YAML joins to the text above: lint_joined_entries.py; a
card's text: lint_text.py; a solution module: lint_solution.py (what its import runs:
lint_top_levels.py)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Set as AbstractSet
from pathlib import Path

from . import cloze, indented_key
from .card import Card, CardProblem, Kind, shown_path
from .key_lines import KeyLines
from .lint_cross_card import lint_cycles, lint_decks, lint_orphans, lint_tables
from .lint_joined_entries import joined_entry, joined_message
from .lint_solution import lint_solution
from .lint_text import lint_text
from .lint_top_levels import lint_top_levels
from .loader import Content
from .topics import topics


def lint(content: Content, only: AbstractSet[str] | None = None) -> list[CardProblem]:
    """All problems in the content: loading, topics, prerequisites, text, solutions, orphans.
    A problem with one field of a card file is reported at the line of that field's key, or
    closer where the file shows it: a list's entry, a line of a literal (`|`) block.

    With `only` (card ids), the problems of those cards alone, and the `requires` cycles: what
    `check` asks before it runs their checks (every card's text took 0.4 s of a `check`)."""
    where = KeyLines()
    problems = [where.locate(problem) for problem in content.problems]
    unloaded = _unloaded_cards(content)  # their own problems are the ones to report
    unloaded_ids = {path.stem for path in unloaded}
    known_topics = topics()
    renamed = content.renames
    chosen = content.cards.values() if only is None else [
        card for card_id, card in content.cards.items() if card_id in only
    ]  # fmt: skip
    for card in chosen:
        if card.topic not in known_topics:
            close = difflib.get_close_matches(card.topic, list(known_topics), n=3)
            problems.append(
                where.problem(
                    card,
                    "topic",
                    f"unknown topic {card.topic!r}: "
                    + (f"did you mean {', '.join(close)}? " if close else "")
                    + "use a slug from studycli/content/topics.yaml",
                )
            )
        for n, required in enumerate(card.requires, 1):
            if required == card.id or required in card.requires[: n - 1]:
                said = "itself" if required == card.id else f"{required!r} a second time"
                problems.append(
                    where.problem(card, "requires", f"requires {said}: remove it", item=n)
                )
            elif required not in content.cards and required not in unloaded_ids:
                # (at the default 0.6, "nope-3" was asked whether it meant "rope"; the card
                # itself, which it may not require, is no suggestion)
                others = [card_id for card_id in content.cards if card_id != card.id]
                close = difflib.get_close_matches(required, others, n=3, cutoff=0.7)
                fix = (
                    f"it was renamed {renamed[required]!r}: write that id"
                    if required in renamed
                    else f"did you mean {', '.join(close)}?"
                    if close
                    else "write the id of a card (`studycli list` lists them), or remove it"
                )
                problems.append(
                    where.problem(
                        card, "requires", f"requires {required!r}, which no card has: {fix}", item=n
                    )
                )
        problems += _lint_renamed_from(card, content, unloaded, where)
        problems += _lint_indented_keys(card.path, card.id, where)
        problems += lint_text(card, where)
        problems += _lint_title(card, where)
        problems += _lint_deletions_shown(card, where)
        if joined := joined_entry(where.text(card.path)):
            message = joined_message(joined, card)
            problems.append(CardProblem(card.path, message, joined.line, card.id))
        if card.runnable:
            problems += lint_solution(card, content.solutions_dir, where)
    for path in unloaded:  # (a required field indented away is why one may not load)
        if only is None or path.stem in only:
            problems += _lint_indented_keys(path, path.stem, where)
    problems += lint_cycles(content, where)
    if only is not None:
        return sorted(problems, key=lambda p: (str(p.path), p.line or 0))
    problems += lint_orphans(content, unloaded)
    problems += lint_decks(content)
    problems += lint_tables(content, unloaded)
    problems += lint_top_levels(content)
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))


def _lint_renamed_from(
    card: Card, content: Content, unloaded: list[Path], where: KeyLines
) -> list[CardProblem]:
    """The entries of `renamed_from` that cannot carry a history to `card`: an id still a
    card's of the content (a copy of the card, not its rename, or an id taken again: its
    learners' history would come to this card), a deletion its card still has, and an old id
    another card lists too (a history goes to one card). The loader refused an entry that is
    no id, the card's own, or one twice, and an item entry of the wrong form
    (`renamed_from.entry_problem`)."""
    if not card.renamed_from:
        return []
    from .renamed_from import moved_to

    broken = {path.stem: path for path in unloaded}  # (a card there that does not load)
    problems = []
    for number, entry in enumerate(card.renamed_from, 1):
        old = moved_to(card.id, entry)[0]
        claims = [
            c
            for c in content.cards.values()
            if c is not card and any(moved_to(c.id, e)[0] == old for e in c.renamed_from)
        ]
        if (said := _still_in_content(old, content, broken)) is None and claims:
            took = "took that deletion over" if cloze.SEPARATOR in old else "had that id"
            files = ", ".join(str(shown_path(c.path, content.root)) for c in claims)
            said = (
                f"renamed_from names {old!r}, and so does {files}: a learner's history under "
                f"{old!r} goes to one card, so neither gets it: keep {old!r} in the "
                f"renamed_from of the card that {took}, and take it out of the other's"
            )
        if said is not None:
            problems.append(where.problem(card, "renamed_from", said, item=number))
    return problems


def _still_in_content(old: str, content: Content, broken: dict[str, Path]) -> str | None:
    """What lint says of an old id of `renamed_from` that is still a card's of the content (or
    of a file there that does not load, `broken`), or a deletion its card still has; None if
    it is neither."""
    card_id, number = cloze.split_study_id(old)
    if number is None:
        other = content.cards[old].path if old in content.cards else broken.get(old)
        if other is None:
            return None
        file = shown_path(other, content.root)
        return (
            f"renamed_from names {old!r}, the id of {file}: a card renamed leaves no card "
            f"under its old id, whose learners' history would come to this card: remove "
            f"{file} if this card is it renamed; else take {old!r} out of renamed_from"
        )
    if number not in content.deletions(card_id):
        return None
    file = shown_path(content.cards[card_id].path, content.root)
    return (
        f"renamed_from names {old!r}, and {file} still has deletion c{number}, whose learners' "
        f"history would come to this card: if this card takes that deletion over, remove "
        f"{{{{c{number}::...}}}} from {file} (its other deletions keep their numbers); else "
        f"take {old!r} out of renamed_from"
    )


def _lint_indented_keys(path: Path, card_id: str, where: KeyLines) -> list[CardProblem]:
    """A field's key indented into the block text above it (`indented_key`)."""
    return [
        CardProblem(path, indented_key.message(found), found.line, card_id)
        for found in indented_key.indented_keys(where.text(path))
    ]


def _lint_title(card: Card, where: KeyLines) -> list[CardProblem]:
    """A cloze deletion in a title: only the prompt's deletions are hidden, and the title is
    the card's header, shown above the question as written, hidden text and all."""
    found = re.search(cloze.DELETION, card.title)
    if found is None:
        return []
    return [
        where.problem(
            card,
            "title",
            f"title has a cloze deletion ({found.group(0)!r}), which the card's header shows as "
            "written, the hidden text in plain sight: only the prompt's deletions are hidden, "
            "so keep them there and write the title without one",
        )
    ]


def _lint_deletions_shown(card: Card, where: KeyLines) -> list[CardProblem]:
    """A cloze deletion in a card that is no cloze card (one written as `studycli new
    concept` left its kind, say): only a cloze card hides its deletions, so the learner reads
    the braces and the hidden text as written. At the line of its text where the file shows
    it, the first of each field."""
    if card.kind == Kind.CLOZE:
        return []
    problems = []
    for field in ("prompt", "answer", "explanation", "hints", "steps"):
        value = getattr(card, field)
        for item, text in enumerate((value,) if isinstance(value, str) else value, 1):
            found = _deletion_outside_code(text)
            if found is None:
                continue
            message = (
                f"{field} has a cloze deletion ({found.group(0)!r}), but a {card.kind.value} "
                "card shows it as written, braces and hidden text in plain sight: only a cloze "
                "card hides its deletions: make it `kind: cloze` (the deletions are then what "
                "is recalled, and it has no answer, hints or steps), or write the text without "
                "the braces"
            )
            line = text.count("\n", 0, found.start()) + 1
            entry = None if isinstance(value, str) else item
            problems.append(where.problem(card, field, message, item=entry, text_line=line))
            break
    return problems


def _deletion_outside_code(text: str) -> re.Match[str] | None:
    """The first cloze deletion of `text` outside its code (a code span, a fenced block's
    lines): code is shown as written, meant so (a card on Anki's own `{{c1::Paris}}` syntax
    was refused)."""
    from .fences import Fences
    from .layout import _code_spans

    fences, lines = Fences(), text.split("\n")
    # fenced lines blanked out (their backticks would open spans), the rest as written
    prose = "\n".join(" " * len(line) if fences.code(line.lstrip()) else line for line in lines)
    spans = _code_spans(prose)[0]
    for found in re.finditer(cloze.DELETION, prose):
        if not any(start <= found.start() < end for start, end in spans):
            return found
    return None


def _unloaded_cards(content: Content) -> list[Path]:
    """The card files with a problem that made no card (broken YAML, a schema error, a
    duplicate id, a .yml name). A card's file is named by its id."""
    loaded = {card.path for card in content.cards.values()}
    cards_dir = content.root / "cards"
    return sorted(
        {p.path for p in content.problems if p.path not in loaded and cards_dir in p.path.parents}
    )
