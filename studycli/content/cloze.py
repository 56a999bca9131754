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
    odd = _malformed(text)
    written = "{{c1::the hidden text}} (optionally {{c1::text::hint}})"
    if not found:
        if odd:  # (it said "needs at least one deletion", of a deletion mistyped)
            return _each_malformed(odd, f"write it {written}")
        return [f"a cloze card needs at least one deletion in its prompt, written {written}"]
    issues = []
    nested = False
    for deletion in found:
        name = f"c{deletion.number}"
        if deletion.number < 1:
            issues.append(f"deletion {name} must be numbered from c1")
        if not deletion.text.strip():
            issues.append(f"deletion {name} hides nothing: put text after '{name}::'")
        # a deletion left open takes in the next one, hint and all: `{{c1::a, {{c2::b::h}}`
        # reads as c1 with text 'a, {{c2' and hint 'b::h', whose '::' is not the mistake
        inside = deletion.text + ("" if deletion.hint is None else f"::{deletion.hint}")
        if "{{" in inside:
            nested = True
            inner = re.search(r"\{\{\s*c(\d+)", inside)
            other = f"deletion c{inner.group(1)}" if inner else "a deletion"
            issues.append(
                f"{other} is inside {name}: deletions cannot nest; close {name} with }}}} "
                "before the next one opens"
            )
        elif deletion.hint is not None and "::" in deletion.hint:
            issues.append(
                f"deletion {name} has '::' in its hint: one hint at most, {{{{{name}::text::hint}}}}"
            )
    issues += _stray_braces(text)
    if not nested:
        issues += _each_malformed(
            odd, "each is {{cN::text}} with N a number, opened with {{ and closed with }}"
        )
    # (numbers may skip one: a published card's dropped fact leaves its number unused, as
    # each number keys its own history; lint refused the gap that `check --changed` asks for)
    return issues


# What looks like a deletion gone wrong, in a prompt with its well-formed deletions taken out:
# a pair of braces, or one brace before c and a number (`{c1::`, `{{ c1::`, `{{C1:`).
_SUSPECT = r"\{\{|\}\}|\{\s*[cC]\s*\d+\s*:"


def _malformed(text: str) -> list[str]:
    """Each stretch of `text` outside its well-formed deletions that looks like a deletion gone
    wrong, quoted as `_quote_malformed` does. An opening (`{{`, `{c1:`) and the first `}}` after
    it, with no other opening or well-formed deletion between, are one deletion; a `}}` with no
    opening before it is one. Braces right next to a deletion are left to `_stray_braces`, which tells a stray one
    from one that closes a brace of the text (`{1, {{c1::2}}}`, a set with a hidden element)."""
    spans = [m.span() for m in re.finditer(DELETION, text)]
    beside = {i for span in spans for run in _brace_runs(text, *span) for i in run}
    quotes: list[str] = []
    opening: re.Match[str] | None = None
    bound = 0  # where the text that a closing pair's quote may lead up from begins
    for found in re.finditer(_SUSPECT, text):
        start = found.start()
        bound = max([bound, *(b for _, b in spans if b <= start)])
        if start in beside or any(a <= start < b for a, b in spans):
            if opening is not None:  # (a well-formed deletion ends an opening's stretch)
                quotes.append(_quote_malformed(text, opening.start(), start, bound))
                opening = None
            continue
        if found.group(0) != "}}":  # an opening: a second one ends the first's stretch
            if opening is not None:
                quotes.append(_quote_malformed(text, opening.start(), start, bound))
            opening = found
            continue
        if opening is not None:
            quotes.append(_quote_malformed(text, opening.start(), found.end(), bound))
            opening = None
        else:
            quotes.append(_quote_malformed(text, start, found.end(), bound))
        bound = found.end()
    if opening is not None:
        quotes.append(_quote_malformed(text, opening.start(), len(text), bound))
    return quotes


def _quote_malformed(text: str, start: int, end: int, bound: int, width: int = 30) -> str:
    """`text[start:end]`, a deletion gone wrong, on one line and cut between words: one that
    opens at `start`, up to `width` characters of it, `...` after where more of it is cut; a
    closing pair alone (`}}` at `start`), with the words that lead up to it from `bound` on
    (about `width` characters), `...` before where the text before them is cut."""
    if text[start] == "}":
        words = [bound + m.start() for m in re.finditer(r"\S+", text[bound:start])]
        fits = [word for word in words if end - word <= width]
        first = min(fits) if fits else words[-1] if words else start
        cut = "..." if text[bound:first].strip() else ""
        return cut + " ".join(text[first:end].split())
    stretch = " ".join(text[start:end].split())
    if len(stretch) <= width:
        return stretch
    ends = [m.end() for m in re.finditer(r"\S+", stretch)]
    return stretch[: max([e for e in ends if e <= width], default=ends[0])] + "..."


def _each_malformed(quotes: list[str], fix: str, shown: int = 3) -> list[str]:
    """A problem for each of the first `shown` malformed deletions `quotes`, with `fix`, and
    one that counts the rest."""
    issues = [f"malformed deletion {quote!r}: {fix}" for quote in quotes[:shown]]
    if len(quotes) > shown:
        more = len(quotes) - shown
        issues.append(
            f"and {more} more malformed deletion{'s' if more > 1 else ''} after "
            f"{quotes[shown - 1]!r}: fix these as the ones before"
        )
    return issues


def _stray_braces(text: str) -> list[str]:
    """A `{` just before a deletion or a `}` just after one that pairs with no brace of the
    text around the deletions: `{{c1::pλ}}}` hides 'pλ' and shows '[...]}'."""
    found = list(re.finditer(DELETION, text))
    unpaired = _unpaired_braces(text, [match.span() for match in found])
    issues = []
    for match in found:
        start, end = match.span()
        before, after = ([i for i in run if i in unpaired] for run in _brace_runs(text, start, end))
        name = f"c{match.group(1)}"
        if before:
            issues.append(_stray(name, "{", len(before), text[min(before) : end]))
        if after:
            issues.append(
                _stray(name, "}", len(after), text[start : max(after) + 1])
                + " (hidden text that ends with '}' needs a space before the closing '}}')"
            )
    return issues


def _stray(name: str, brace: str, count: int, around: str) -> str:
    """The problem of `count` stray `brace`s before (`{`) or after (`}`) deletion `name`."""
    braces = brace * count
    side, pair, shown = (
        ("before", "opens", f"{braces}[...]")
        if brace == "{"
        else ("after", "closes", f"[...]{braces}")
    )
    return (
        f"stray {braces!r} {side} deletion {name} in {_excerpt(around)!r}: a deletion {pair} "
        f"with two braces, so the extra shows {side} the blank ('{shown}'): remove "
        + ("it" if count == 1 else "them")
    )


def _brace_runs(text: str, start: int, end: int) -> tuple[list[int], list[int]]:
    """The positions of the `{` run just before `text[start:end]` and of the `}` run just
    after it."""
    before = start
    while before > 0 and text[before - 1] == "{":
        before -= 1
    after = end
    while after < len(text) and text[after] == "}":
        after += 1
    return list(range(before, start)), list(range(end, after))


def _unpaired_braces(text: str, spans: list[tuple[int, int]]) -> set[int]:
    """The positions of the braces outside `spans` that pair with no other brace there."""
    opened: list[int] = []
    unpaired = set()
    inside = {i for a, b in spans for i in range(a, b)}
    for i, char in enumerate(text):
        if i in inside:
            continue
        if char == "{":
            opened.append(i)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                unpaired.add(i)
    return unpaired | set(opened)


def _excerpt(text: str, width: int = 40) -> str:
    """`text` on one line, its middle cut where it is longer than `width`."""
    line = " ".join(text.split())
    half = (width - 3) // 2
    return line if len(line) <= width else f"{line[:half]}...{line[-half:]}"


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
    """`softmax-formula#c2` -> ("softmax-formula", 2); a plain card id -> (id, None), as is an
    id whose number is not ASCII digits as `study_id` writes them (an imported log's `x#c²`:
    str.isdigit takes '²' for a digit, and int raised ValueError)."""
    card_id, sep, number = study_id.partition(SEPARATOR)
    if sep and number.isascii() and number.isdigit():
        return card_id, int(number)
    return study_id, None
