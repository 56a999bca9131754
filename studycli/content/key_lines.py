"""Where a field is in a card file: the line of each top-level key, for lint's messages."""

from __future__ import annotations

import re
from pathlib import Path

from .card import Card, CardProblem


class KeyLines:
    """The line of each top-level key of the card files that lint reports on, each file read
    on first need: a scan of its lines for `key:` at column 0 (every card is a block mapping;
    a key it does not find gives no line), not a second YAML parse. Lint alone pays for it:
    the study commands never ask a card where its fields are."""

    def __init__(self) -> None:
        self._files: dict[Path, dict[str, int]] = {}

    def keys(self, path: Path) -> dict[str, int]:
        keys = self._files.get(path)
        if keys is None:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            keys = self._files[path] = {}
            for number, line in enumerate(text.split("\n"), 1):  # YAML's lines, as its marks
                if match := _TOP_LEVEL_KEY.match(line):
                    keys[match[2]] = number  # the last of a repeated key: the one YAML keeps
        return keys

    def line(self, path: Path, *fields: str) -> int | None:
        """The line of the first of `fields` that the file has."""
        keys = self.keys(path)
        return next((keys[field] for field in fields if field in keys), None)

    def problem(self, card: Card, fields: str | tuple[str, ...], message: str) -> CardProblem:
        """A problem with a field of `card` (the first of `fields` it has), at its key's line."""
        line = self.line(card.path, *((fields,) if isinstance(fields, str) else fields))
        return CardProblem(card.path, message, line, card.id)

    def locate(self, problem: CardProblem) -> CardProblem:
        """A problem the loader met in a card file, at the line of the field it names (it
        gives none but a YAML error's)."""
        if problem.line is not None or problem.path.suffix != ".yaml":
            return problem
        keys = self.keys(problem.path)
        field = _field_named(problem.message, keys)
        return problem if field is None else problem._replace(line=keys[field])


_TOP_LEVEL_KEY = re.compile(r"""(["']?)([A-Za-z_][\w-]*)\1[ \t]*:(?:[ \t\r]|$)""")


def _field_named(message: str, keys: dict[str, int]) -> str | None:
    """The field of the file that a loader problem is about: the message's first word ("kind
    'x' must be ...", "id ...", "solution ..."), else the first quoted one ("field 'hints' must
    ...", "unknown field 'tpoic'", "a derivation card has no 'solution'"); a cloze deletion's is
    the prompt's, a duplicate id the id's."""
    if message.startswith("duplicate id "):
        return "id" if "id" in keys else None
    first = message.split(" ", 1)[0]
    named = [first, *re.findall(r"'(\w+)", message)]
    if "deletion" in message:
        named.append("prompt")
    return next((name for name in named if name in keys), None)
