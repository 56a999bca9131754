"""A field's key written indented under a block text (`|`, `>`): YAML reads it, and the lines
under it, as more of that text. The card loses the field: silently where it is optional (the
learner shown `explanation: |` inside the answer), or with a "needs an 'answer'" that does not
say why, where it is required."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from .fences import Fences
from .fields import CARD_FIELDS, FIELDS, FORMAT_VERSION, ID_PATTERN, REFERENCE_PATTERN, Type
from .kind import Kind

# a top-level key whose value is a block text: `prompt: |`, `answer: >-`, with a comment or not
_BLOCK_KEY = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:[ \t]+[|>][-+0-9]*[ \t]*(?:#.*)?")
# a list's entry: `- ` at any column, and what follows it
_ENTRY = re.compile(r"[ ]*-(?:[ \t]+|$)")
# ... whose value is a block text: `|`, `>-`, with a comment or not
_ENTRY_BLOCK = re.compile(r"[|>][-+0-9]*[ \t]*(?:#.*)?")
# a line that begins as a field's key does: `explanation:`
_KEY = re.compile(r"([a-z_]+):(?:[ \t]|$)")
# ... and goes on as a field's value that no sentence does: a block text's `|` or `>`, a list
# in brackets, or nothing (its text or list below, `_has_value`)
_VALUE = re.compile(r"(?:[|>][-+0-9]*|\[.*)?[ \t]*(?:#.*)?")


class IndentedKey(NamedTuple):
    """A line of a card file that reads as a field's key but is text of the block above."""

    line: int  # 1-based
    field: str  # the field it names
    text_of: str  # the text it is part of: a key's (`answer`), a list entry's (`hint 2`)


def indented_keys(text: str) -> Iterator[IndentedKey]:
    """Each line of a card file's `text`, in the Markdown of a block text, that begins with
    the key of a field the file has no top-level key for, and goes on with a value
    (`_has_value`): a key indented by mistake. A field the card has is left alone: its name
    at the start of a line of text is the text's own (a YAML example in a prompt); so is a
    field its kind has not (`_fields_of_kind`), and a line of code in the text
    (`_text_lines`)."""
    lines = text.split("\n")
    top = {m[1] for line in lines if (m := _KEY.match(line))}
    fields = _fields_of_kind(lines)
    for number, line, block in _text_lines(lines):
        key = _KEY.match(line)
        if (
            key
            and key[1] in fields
            and key[1] not in top
            and _has_value(lines, number, key[1], line[key.end() :].strip())
        ):
            yield IndentedKey(number, key[1], block)


def _fields_of_kind(lines: list[str]) -> frozenset[str]:
    """The fields a card of the kind the file's top-level `kind:` names may have; every field
    where it names none of the kinds. One its kind has not is no key indented by mistake:
    moved to the start of its line, the loader refuses it ("answer: yes" in a cloze card's
    explanation, "starter: ..." in a concept card's answer)."""
    for line in lines:
        if (written := _KIND.fullmatch(line.rstrip())) and written[2] in _KINDS:
            kind = Kind(written[2])
            return frozenset(field.name for field in CARD_FIELDS if kind in field.kinds)
    return FIELDS


# a top-level `kind: cloze`, quoted or not, with a comment or not
_KIND = re.compile(r"kind:[ \t]*([\"']?)([a-z]+)\1[ \t]*(?:#.*)?")
_KINDS = {kind.value for kind in Kind}


def _has_value(lines: list[str], number: int, field: str, after: str) -> bool:
    """Whether the key of `field` at the start of line `number` (1-based) of `lines`, with
    `after` after it on its line, goes on as a field's value does: there, a block text's `|`
    or `>`, a list in brackets (`_VALUE`), or a value the field takes (`_takes`); or nothing
    there, and its value on the lines under it: the next line that is not blank deeper than
    the key (its text, or its list), or a list's `- ` as deep. With no value under it, the
    key would be a field with none, which no card may have (the loader refuses `hints:`
    alone): such a line is a sentence's, a "hints:" that leads into the text or list under
    it."""
    if not _VALUE.fullmatch(after):
        return _takes(field, after)
    if _NOTHING.fullmatch(after) is None:  # (a `|`, `>` or `[`: a value already)
        return True
    below = next((below for below in lines[number:] if below.strip()), "")
    depth, under = _depth(lines[number - 1]), _depth(below)
    return under > depth or (under == depth and _ENTRY.match(below) is not None)


def _takes(field: str, value: str) -> bool:
    """Whether `value`, written after `field:` on the key's line, is one the field takes as
    YAML reads it: a text, plain (no `: ` in it, nor a start YAML reads otherwise) or
    quoted; or a value of the field's form (`arith:add_one`, `bias`, `1`). A list's field
    takes none: "steps: 3.16 at k = 1" is prose."""
    value = _COMMENT.sub("", value)
    kind = _TYPES[field]
    if kind is Type.TEXT:
        return value[:1] in "\"'" or _PLAIN_TEXT.fullmatch(value) is not None
    value = value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'" else value
    if kind is Type.KIND:
        return value in {kind.value for kind in Kind}
    if kind is Type.REF:
        return REFERENCE_PATTERN.fullmatch(value) is not None
    if kind is Type.VERSION:  # (one this studycli reads: "format_version: 2", moved, is refused)
        return value.isascii() and value.isdigit() and 1 <= int(value) <= FORMAT_VERSION
    return kind in (Type.ID, Type.TOPIC) and ID_PATTERN.fullmatch(value) is not None


_TYPES = {field.name: field.type for field in CARD_FIELDS}
# a comment at the end of a line: ` #` and what follows
_COMMENT = re.compile(r"[ \t]+#.*")
# a plain text on one line, as YAML reads one: not begun with a character that makes it
# something else (a list's `- `, an anchor, a flow list...), no `: ` in it (a key's), nor at
# its end
_PLAIN_TEXT = re.compile(r"""(?![-?:](?:[ \t]|$))[^,\[\]{}#&*!|>%@`](?:(?!:[ \t]).)*(?<!:)""")


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip())


# nothing after a key on its line, or only a comment
_NOTHING = re.compile(r"(?:#.*)?")


def _text_lines(lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """(number, the line stripped, the text it is of: a key's, `answer`, or a list entry's,
    `hint 2`) of each line of a block text that Markdown reads as text, not code. A block
    text is a top-level key's (`answer: |`) or a list entry's (`- |` under `hints:`, at the
    key's column or deeper); its lines are those deeper than its key or dash. The lines of a
    fenced block and of an indented code block (after a blank line, 4 deeper than the text)
    are code, where a YAML example (a CI file's `steps:`, a card's `explanation: |`) is
    shown as written. A line less deep than the text's first is YAML's own error, said
    already."""
    key = ""  # the top-level key whose value is being read
    dashes: int | None = None  # the column of its list's dashes, once one is read
    entries = 0  # how many entries of that list were read
    block: str | None = None  # the text being read, as `_text_lines` names it
    opened = 0  # the column of its key or dash: its lines are deeper
    indent = None  # the indentation of its lines, set by its first (YAML's rule)
    fences, code = Fences(), False
    after_blank = True
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            after_blank = True
            continue
        depth = _depth(line)
        if block is not None and depth > opened:
            indent = depth if indent is None else indent
            blank_above, after_blank = after_blank, False
            if depth < indent:
                continue
            if not code and fences.code(stripped):
                continue
            code = depth >= indent + 4 and (code or blank_above)
            if not code:
                yield number, stripped, block
            continue
        block, indent, fences, code, after_blank = None, None, Fences(), False, True
        if (entry := _ENTRY.match(line)) and (dashes is None or depth == dashes):
            dashes, entries = depth, entries + 1
            if _ENTRY_BLOCK.fullmatch(line[entry.end() :].rstrip()):
                block, opened = _entry_name(key, entries), depth
        elif depth == 0:
            opens = _BLOCK_KEY.fullmatch(line.rstrip())
            key = opens[1] if opens else (m[1] if (m := _KEY.match(line)) else "")
            dashes, entries = None, 0
            if opens:
                block, opened = key, 0


def _entry_name(key: str, number: int) -> str:
    """How lint names entry `number` (1-based) of list `key`, as its text rules do: `hint 2`,
    `step 3`; `tags entry 2` for another list."""
    return f"{_ENTRY_NAMES[key]} {number}" if key in _ENTRY_NAMES else f"{key} entry {number}"


_ENTRY_NAMES = {"hints": "hint", "steps": "step"}


def message(found: IndentedKey) -> str:
    """What lint says of `found`, with the fix."""
    return (
        f"`{found.field}:` is indented, so YAML reads it and the lines under it as more of "
        f"{found.text_of}'s text, and the card has no {found.field}: start `{found.field}:` at "
        "the beginning of its line, as the other fields (or, where the text shows a card's "
        "YAML as an example, put it between ``` lines: code, shown as written)"
    )
