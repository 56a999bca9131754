"""Where a field is in a card file, for lint's messages: the line of each top-level key, and
where the file's line can be told, the line of a list item or of a line inside a text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .card import Card, CardProblem


class KeyLines:
    """The line of each top-level key of the card files that lint reports on, each file read
    on first need: a scan of its lines for `key:` at column 0 (every card is a block mapping;
    a key it does not find gives no line), not a second YAML parse. Lint alone pays for it:
    the study commands never ask a card where its fields are. A problem at a list's entry or
    inside a text is placed by the file's YAML nodes (`_nodes`: composed, not constructed),
    read only for a file that has such a problem."""

    def __init__(self) -> None:
        self._files: dict[Path, dict[str, int]] = {}
        self._node_files: dict[Path, dict[str, Any]] = {}
        self._texts: dict[Path, str] = {}

    def text(self, path: Path) -> str:
        """The card file's text as lint reads it (`file_text`), read once."""
        if path not in self._texts:
            self._texts[path] = file_text(path)
        return self._texts[path]

    def keys(self, path: Path) -> dict[str, int]:
        keys = self._files.get(path)
        if keys is None:
            keys = self._files[path] = {}
            for number, line in enumerate(self.text(path).split("\n"), 1):  # YAML's lines
                if match := _TOP_LEVEL_KEY.match(line):
                    # the last of a repeated key: the one YAML keeps
                    keys[match[2] or match[4]] = number
        return keys

    def line(self, path: Path, *fields: str) -> int | None:
        """The line of the first of `fields` that the file has."""
        keys = self.keys(path)
        return next((keys[field] for field in fields if field in keys), None)

    def problem(
        self,
        card: Card,
        fields: str | tuple[str, ...],
        message: str,
        *,
        item: int | None = None,
        text_line: int | None = None,
    ) -> CardProblem:
        """A problem with a field of `card` (the first of `fields` it has), at its key's line;
        or, in the first of `fields`, at the line of its `item`-th entry (1-based) and at the
        line of the file that holds line `text_line` of that text, where the file shows it
        (`text_at`)."""
        names = (fields,) if isinstance(fields, str) else fields
        line = self.line(card.path, *names)
        if (item is not None or text_line is not None) and names[0] in self.keys(card.path):
            line = self.text_at(card, names[0], item, text_line) or line
        return CardProblem(card.path, message, line, card.id)

    def text_at(
        self, card: Card, field: str, item: int | None = None, text_line: int | None = None
    ) -> int | None:
        """The line of `card`'s file where line `text_line` (1-based) of the text of `field`
        (of its `item`-th entry, for a list) is written, when the file shows it: a literal
        block (`|`) holds the text's lines one for one, from the line after its `|`. Folded
        (`>`), quoted and plain text is joined, and gives the line where it begins: an entry's,
        or None for a field's own text (its key's line is as close). None also where the file
        no longer holds the card's text (changed since it was read)."""
        import yaml  # (on first need, as in `_nodes`)

        node = self._nodes(card.path).get(field)
        text = getattr(card, field, None)
        first = None
        if item is not None:
            if not (isinstance(node, yaml.SequenceNode) and isinstance(text, tuple)):
                return None
            if not 0 < item <= len(node.value) == len(text):
                return None
            node, text = node.value[item - 1], text[item - 1]
            first = node.start_mark.line + 1
        if not (isinstance(node, yaml.ScalarNode) and isinstance(text, str)):
            return None
        if node.value.strip() != text.strip():
            return None
        if text_line is None or node.style != "|" or not 0 < text_line <= _lines(text):
            return first
        # the card's text is stripped: the blank lines it lost before its first line
        skipped = _leading_lines(node.value) - _leading_lines(text)
        return node.start_mark.line + 1 + skipped + text_line

    def _nodes(self, path: Path) -> dict[str, Any]:
        """The YAML node of each top-level key of the card file at `path` (PyYAML's compose,
        which gives every node the line it starts on), or {} where it does not compose."""
        nodes = self._node_files.get(path)
        if nodes is None:
            import yaml  # only for a file with a problem placed in a text

            from .card_yaml import yaml_loader

            nodes = self._node_files[path] = {}
            try:
                root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml_loader())
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                return nodes
            if isinstance(root, yaml.MappingNode):
                for key, value in root.value:
                    if isinstance(key, yaml.ScalarNode):
                        nodes[key.value] = value
        return nodes

    def locate(self, problem: CardProblem) -> CardProblem:
        """A problem the loader met in a card file, at the line of the field it names (it
        gives none but a YAML error's)."""
        if problem.line is not None or problem.path.suffix != ".yaml":
            return problem
        keys = self.keys(problem.path)
        field = _field_named(problem.message, keys)
        if field is None:
            return problem
        line = keys[field]
        if field == "prompt" and (needle := _deletion_needle(problem.message)) is not None:
            line = self._line_in_text(problem.path, keys, line, needle) or line
        if entry := re.search(r": entry (\d+) ", problem.message):
            line = self._entry_line(problem.path, field, int(entry[1])) or line
        return problem._replace(line=line)

    def _entry_line(self, path: Path, field: str, number: int) -> int | None:
        """The line of the `number`-th entry (1-based) of the list `field` of the file."""
        import yaml  # (only for a file with such a problem, as in `_nodes`)

        node = self._nodes(path).get(field)
        if isinstance(node, yaml.SequenceNode) and 0 < number <= len(node.value):
            return int(node.value[number - 1].start_mark.line) + 1
        return None

    def _line_in_text(
        self, path: Path, keys: dict[str, int], start: int, needle: re.Pattern[str]
    ) -> int | None:
        """The first line of the file from line `start` up to the next top-level key that
        `needle` is found on: where a cloze deletion's mistake is written in its prompt."""
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError:
            return None
        end = min((line for line in keys.values() if line > start), default=len(lines) + 1)
        for number in range(start, min(end, len(lines) + 1)):
            if needle.search(lines[number - 1]):
                return number
        return None


def _lines(text: str) -> int:
    """The number of lines of `text`, a last line break ending the last line."""
    return text.rstrip("\n").count("\n") + 1


def file_text(path: Path) -> str:
    """The text of a card file for lint to search, whatever it holds: bytes that are not UTF-8
    replaced, and "" for one that cannot be read, or is not a regular file (a named pipe,
    which a read would wait on for ever); the loader says what is wrong with it."""
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""


def _leading_lines(text: str) -> int:
    """The number of line breaks before the first character of `text` that is not a space."""
    return text[: len(text) - len(text.lstrip())].count("\n")


# a field's name, quoted or not; or any other plain key at column 0 (a line of text that left
# its `|` block, "In short: ...", is one to YAML), up to its first `: ` as YAML reads it
_TOP_LEVEL_KEY = re.compile(
    r"""(["']?)([A-Za-z_][\w-]*)\1[ \t]*:(?:[ \t\r]|$)"""
    r"""|()([^\s#"'\-?:,\[\]{}&*!|>%@`][^#\n]*?)[ \t]*:(?:[ \t\r]|$)"""
)


def _deletion_needle(message: str) -> re.Pattern[str] | None:
    """What marks, in the prompt's lines, the deletion a cloze problem is about: its opening
    ("deletion c2 ...", "stray '}' after deletion c1 ..."), or where the deletion that a
    "malformed deletion '...'" quotes opens, or where it closes if it has no opening; None for
    a problem of the prompt as a whole."""
    if malformed := re.match(r"malformed deletion '(.+?)': ", message):
        words = malformed[1].removeprefix("...").removesuffix("...").split()
        if words[0].startswith("{"):  # one that opens: where it opens
            return re.compile(re.escape(words[0][:12]))
        # a closing pair alone, quoted with the words that lead up to it: where it closes
        last = words[-2:] if words[-1] == "}}" else words[-1:]
        return re.compile(r"\s+".join(map(re.escape, last)))
    # "deletion c2 is inside c1": the fix is to close c1, where it opens
    if named := re.search(r" is inside c(\d+)", message) or re.search(r"deletion c(\d+)", message):
        return re.compile(r"\{\{\s*c" + named[1] + r"\b")
    return None


def _field_named(message: str, keys: dict[str, int]) -> str | None:
    """The field of the file that a loader problem is about: the message's first word ("kind
    'x' must be ...", "id ...", "solution ..."), else the first quoted one ("field 'hints' must
    ...", "unknown field 'tpoic'", "a derivation card has no 'solution'"); a cloze deletion's is
    the prompt's, a duplicate id the id's."""
    if message.startswith("duplicate id "):
        return "id" if "id" in keys else None
    if (unknown := re.match(r"unknown field '([^'\\]+)'", message)) and unknown[1] in keys:
        return unknown[1]  # (a key with a space in it: "unknown field 'In short'")
    first = message.split(" ", 1)[0]
    named = [first, *re.findall(r"'(\w+)", message)]
    if "deletion" in message:
        named.append("prompt")
    return next((name for name in named if name in keys), None)
