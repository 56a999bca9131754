"""Lint's rule for a `- ` line that YAML reads as more of the text above it, not a list entry
(`joined_entry`), and what lint says of one (`joined_message`): two hints, steps or list items
silently become one. The other rules of a card's file: lint.py."""

from __future__ import annotations

import re
from typing import NamedTuple

from .card import Card


def joined_message(joined: JoinedLine, card: Card) -> str:
    if joined.plain_from is not None:
        # (a list field written as text does not load: the loader says so, not this rule)
        text = getattr(card, joined.field or "", None)
        read = _shortened(text) if isinstance(text, str) else "one line"
        return (
            f"a `- ` line under {joined.field}'s plain text (opened on line {joined.plain_from}) "
            f"is more of that text, not a list entry: YAML folds it into the line above, and "
            f"reads {joined.field} as {read!r}: to keep its lines and the list, write the text "
            "as a block "
            f"(`{joined.field}: |`, the text on the lines under it); a dash of the sentence "
            "goes at the end of the line above"
        )
    if joined.quoted_from is None:
        return (
            "a `- ` line indented deeper than the list entry above it is not an entry: YAML "
            "joins it to that entry's text ('first - second'): indent it as the entry above"
        )
    return (
        f"a `- ` line inside the quoted string opened on line {joined.quoted_from} is text, not "
        "a list entry: YAML folds it into the line above ('text - item'): to start a list or "
        "an entry of its own there, write the text as a block (`|`) or end the quote before "
        "it; a dash of the sentence goes at the end of the line above"
    )


def _shortened(text: str, most: int = 60) -> str:
    """`text` as YAML read it, cut short (at a word where one ends near the end) past `most`
    characters: enough for an author to see their lines run together."""
    if len(text) <= most:
        return text
    cut = text.rfind(" ", most // 2, most)
    return text[: cut if cut > 0 else most] + " …"


# a list entry's line, without its indentation: `- ` and its text, or a `-` alone (an empty
# entry, or one whose node starts on the next line)
_ENTRY = re.compile(r"-(?:[ \t]+(.*))?")


class JoinedLine(NamedTuple):
    """A line of a card file that looks like a list entry (`- ...`) but is more of the text
    above it to YAML."""

    line: int  # 1-based
    quoted_from: int | None  # the line its quoted string opens on; None: a plain entry's text
    plain_from: int | None = None  # the line of the key whose plain text it is more of
    field: str | None = None  # that key


def joined_entry(text: str) -> JoinedLine | None:
    """The first line of a card file's `text` that starts with `- ` (or is a `-` alone) but
    that YAML reads as more of the text above it, so two hints (or steps, or list items)
    silently become one: one deeper than a list entry written as plain text on the line
    above, one under a field's plain text (`answer: The steps` and `  - first` under it: a
    list meant, 'The steps - first' read), or one inside a quoted string ("..." or '...')
    spanning lines, whose lines YAML folds into one. Block texts (`|`, `>`) are passed over:
    a Markdown list nested in one is text as meant; so is a `- ` line after a blank line of a
    quoted or plain text (a line break)."""
    entry = None  # the indentation of the plain entry being read; None: none
    block = None  # the indentation of the line that opened a block text, while inside it
    quote = None  # (its quote mark, its first line) while inside a quoted string
    plain = None  # (its key, the key's line) while inside a field's plain text
    after_text = False  # inside a quoted or plain text: whether its line above holds text
    opened = None  # (a field, its line) whose key has no value on its line: it starts below
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if quote is not None:
            if after_text and _ENTRY.fullmatch(stripped):
                return JoinedLine(number, quote[1])
            after_text = bool(stripped)
            if _closes(line, quote[0]):
                quote = None
            continue
        if not stripped or stripped.startswith("#"):
            after_text = after_text and bool(stripped)
            continue
        indent = len(line) - len(line.lstrip())
        if plain is not None and indent > 0:  # every deeper line is more of a field's text
            if after_text and _ENTRY.fullmatch(stripped):
                return JoinedLine(number, None, plain[1], plain[0])
            after_text = True
            continue
        plain = None
        if block is not None and indent > block:
            continue
        block = None
        item = _ENTRY.fullmatch(stripped)
        if item and entry is not None and indent > entry:
            return JoinedLine(number, None)
        key = (stripped.partition(":")[0].strip("'\" "), number) if indent == 0 else opened
        value = _value(stripped, indent, item, key)
        opened = key if indent == 0 and not item and not value else None
        if value is not None and value.startswith(("|", ">")):
            block, entry = indent, None
        elif value and value[0] in "'\"" and not _closes(value[1:], value[0]):
            quote, after_text, entry = (value[0], number), bool(value[1:].strip()), None
        elif item:
            # an empty `-`: what follows deeper is its node (a list nested in it is no join)
            entry = None if not value or value[:1] in ("'", '"', "[", "{") else indent
        elif key and value and value[0] not in "[{&!*" and " #" not in value:
            plain, after_text, entry = key, True, None  # (a comment would end the text)
        elif entry is not None and indent <= entry:
            entry = None
    return None


def _value(
    stripped: str, indent: int, item: re.Match[str] | None, key: tuple[str, int] | None
) -> str | None:
    """What starts the node of a card file's line (`stripped` of its `indent`): a list
    entry's text, a top-level key's value, or the whole line where it is the first under a
    key with no value on its own line; None for any other line."""
    if item:
        return (item[1] or "").strip()
    if indent == 0:
        return stripped.partition(": ")[2].strip()
    return stripped if key is not None else None


# the rest of a quoted string, from just after its opening quote to its closing one: escapes
# (`\"` in a "..." string, `''` in a '...' one) are text (possessive, so that `''` is never
# taken apart into a closing quote)
_STRING_REST = {'"': re.compile(r'(?:[^"\\]|\\.)*+"'), "'": re.compile(r"(?:[^']|'')*+'")}


def _closes(text: str, quote: str) -> bool:
    """Whether a string quoted with `quote`, read on from the start of `text`, ends in it."""
    return _STRING_REST[quote].match(text) is not None
