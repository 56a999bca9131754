"""Cloze deletions, Anki's syntax: `{{c1::text}}` or `{{c1::text::hint}}`.

A cloze card is studied once per deletion number: `c1` and `c2` are separate study items, each
with its own schedule and history, keyed `<card id>#c<n>` (see `study_id`). Every deletion
with the number being studied is blanked; the others are shown as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from studycli.records import Record

# A deletion, {{cN::text}} or {{cN::text::hint}}: compiled (by `re`, cached) on first use, as a
# queue of cloze cards needs only `study_id`.
DELETION = r"(?s)\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}"
SEPARATOR = "#c"


class Deletion(Record):  # a named tuple: a frozen dataclass costs ~1 ms at import
    number: int
    text: str
    hint: str | None


def deletions(text: str) -> list[Deletion]:
    """Every deletion in `text`, in order."""
    return [
        Deletion(int(m.group(1)), m.group(2), m.group(3) or None)
        for m in re.finditer(DELETION, text)
    ]


def numbers(text: str) -> list[int]:
    """The distinct deletion numbers, ascending: one study item each."""
    return sorted({d.number for d in deletions(text)})


def problems(text: str) -> list[str]:
    """What is wrong with the cloze syntax of `text`, each with its fix."""
    found = deletions(text)
    if not found:
        return [
            "a cloze card needs at least one deletion in its prompt, "
            "written {{c1::the hidden text}} (optionally {{c1::text::hint}})"
        ]
    issues = []
    for deletion in found:
        if deletion.number < 1:
            issues.append(f"deletion c{deletion.number} must be numbered from c1")
        if not deletion.text.strip():
            issues.append(
                f"deletion c{deletion.number} hides nothing: put text after 'c{deletion.number}::'"
            )
        if "{{" in deletion.text:
            issues.append(
                f"deletion c{deletion.number} is nested inside another: close it with }} first"
            )
    stray = re.sub(DELETION, "", text)
    if "{{" in stray or "}}" in stray:
        issues.append(
            "unbalanced or malformed deletion: each is {{cN::text}} with N a number, "
            "opened with {{ and closed with }}"
        )
    expected = list(range(1, len(numbers(text)) + 1))
    if numbers(text) != expected and not issues:
        issues.append(
            f"deletion numbers {numbers(text)} skip a number: use c1..c{len(expected)} "
            "(each number is one study item)"
        )
    return issues


def blank(text: str, number: int | None, mask: Callable[[Deletion], str] | None = None) -> str:
    """`text` with deletion `number` hidden (`[...]` or `[hint]`) and the others shown;
    every deletion hidden when `number` is None."""
    hide = mask or (lambda d: f"[{d.hint}]" if d.hint else "[...]")

    def replace(match: re.Match[str]) -> str:
        deletion = Deletion(int(match.group(1)), match.group(2), match.group(3) or None)
        return hide(deletion) if number in (None, deletion.number) else deletion.text

    return re.sub(DELETION, replace, text)


def reveal(text: str, number: int | None, mark: Callable[[str], str] | None = None) -> str:
    """`text` with every deletion shown; those of `number` (every one when None) passed
    through `mark`."""
    highlight = mark or (lambda hidden: hidden)

    def replace(match: re.Match[str]) -> str:
        hidden = match.group(2)
        return highlight(hidden) if number in (None, int(match.group(1))) else hidden

    return re.sub(DELETION, replace, text)


def study_id(card_id: str, number: int) -> str:
    """The key of one deletion's schedule and history: `softmax-formula#c2`."""
    return f"{card_id}{SEPARATOR}{number}"


def split_study_id(study_id: str) -> tuple[str, int | None]:
    """`softmax-formula#c2` -> ("softmax-formula", 2); a plain card id -> (id, None)."""
    card_id, sep, number = study_id.partition(SEPARATOR)
    return (card_id, int(number)) if sep and number.isdigit() else (study_id, None)
