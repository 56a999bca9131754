"""One card file read and parsed: its YAML, with PyYAML's safe loader made stricter (no key
twice, no alias), the file's kind and size checked, and each problem a message that says how
to fix it."""

from __future__ import annotations

import functools
from pathlib import Path

from studycli.paths import FileTooLarge, NotRegularFile, read_regular


def _parse_file(
    path: Path, relative: str, depth: int, hashed: bool = True
) -> tuple[tuple | None, tuple, tuple]:
    """A card file parsed: (the card's head and body rows, or None and (); its problems as
    (message, line, card_id) tuples). `hashed`: the body row ends with the hash of the card's
    text, for the index (else None: see `indexed.split`)."""
    if depth != 2:
        return None, (), (("a card lives at cards/<deck>/<id>.yaml: move it into a deck folder",),)
    import yaml  # only when a file is read: a warm index needs no YAML parser

    from .indexed import split
    from .parse import parse_card

    raw = b""
    try:  # opened without waiting: a named pipe called x.yaml held every command for ever
        raw = read_regular(path, MAX_CARD_BYTES)
        text = raw.decode("utf-8")
        data = yaml.load(text, Loader=yaml_loader())
    except NotRegularFile:
        return None, (), ((_NOT_A_FILE,),)
    except FileTooLarge:
        return None, (), ((_TOO_LARGE,),)
    except UnicodeDecodeError as exc:
        from .source import undecodable

        line, bad = undecodable(raw, exc)
        return None, (), ((f"{bad}: save the file as UTF-8", line),)
    except OSError as exc:  # a link to a file that is gone, a file this user may not read
        return None, (), ((f"the file cannot be read: {exc.strerror or exc}",),)
    except yaml.YAMLError as exc:
        return None, (), (_yaml_problem(exc, text),)
    card, problems = parse_card(data, path, deck=relative.split("/", 1)[0])
    card_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    found = tuple((message, None, card_id) for message in problems)
    if card is None:
        return None, (), found
    return (*split(card, hashed), found)


# The most bytes a card file may hold: the longest shipped card has 3.5 KB. One of 50 MB
# (a text pasted in whole) was read, indexed and linted clean.
MAX_CARD_BYTES = 64 * 1024


_NOT_A_FILE = (
    "not a regular file (a named pipe, a device, ...): a card is a YAML file; remove it, or "
    "rename it away from .yaml"
)


_TOO_LARGE = (
    f"the file is over {MAX_CARD_BYTES // 1024} KB, and a card is a few KB (the longest shipped "
    "card has 3.5): a card teaches one thing; split it into cards, or cut what a learner need "
    "not recall"
)


def _yaml_problem(exc: Exception, text: str) -> tuple[str, int | None]:
    """The message and line of PyYAML's error `exc` in the card file `text`: the line to fix,
    which is not always the one PyYAML names, and what fixes it."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc)
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        # libyaml says "found character that cannot start any token" of a tab that starts
        # a line, without naming it: the fix it got (quote the text) misled
        reason = "found a tab character where a field or list entry should start"
    opened = getattr(exc, "context_mark", None)
    context = str(getattr(exc, "context", ""))
    if "quoted scalar" in context and "end of stream" in reason and opened is not None:
        # a quote never closed: PyYAML finds out at the end of the file; the line to fix
        # is the one the quote opened on
        fix = ": close it, or write the text without the quote (or as `key: |`)"
        return f"YAML syntax error: a quote opened here is not closed{fix}", opened.line + 1
    flow = "[]" if "flow sequence" in context else "{}" if "flow mapping" in context else ""
    if flow and opened is not None and mark is not None and mark.line > opened.line:
        # a `[` or `{` never closed on its line: libyaml finds out on a later line (the next
        # field, the end of the file), and the fix it got (quote, or indent, that line) misled
        return f"YAML syntax error: {_UNCLOSED[flow]}", opened.line + 1
    if "simple key" in context and opened is not None:
        # a line with no `: ` where a field should start (a `|` text's line written at the
        # start of the line, `kind:coding`): libyaml finds out lines later, and names that
        return f"YAML syntax error: {reason}{_KEYLESS_LINE_FIX}", opened.line + 1
    fix = _yaml_fix(reason)
    # the line itself out of place (nothing before the mark on its line): a field indented,
    # or a list entry that is not indented under its key
    before = text[text.rfind("\n", 0, mark.index) + 1 : mark.index] if mark is not None else "x"
    if fix == _QUOTE_FIX and not before.strip():
        fix = _INDENTATION_FIX
    elif fix == _QUOTE_FIX and before[:1] in (" ", "\t") and before.strip() in _field_names():
        fix = _INDENTATION_FIX  # a field indented (`  topic: x`): libyaml marks its colon
    return f"YAML syntax error: {reason}{fix}", line


def _field_names() -> frozenset[str]:
    from .fields import FIELDS  # (only for an error's message: not at start-up)

    return FIELDS


_UNCLOSED = {
    "[]": "a `[` opened here is not closed: close the list with `]` on this line, or write its "
    "entries one per line (`  - entry`); a text that begins with `[` is quoted",
    "{}": "a `{` opened here is not closed: a text that begins with `{` is quoted (YAML reads "
    "`{...}` as a mapping)",
}


_KEYLESS_LINE_FIX = (
    ": a line with no `key: value` where a field should start: if it is text of the field "
    "above, indent it as the lines above it; if it is a field, put a space after its colon"
)


_INDENTATION_FIX = (
    ": this line is indented wrongly: start every field at the beginning of its line, and "
    "indent a field's list entries (`  - `) and its `|` text under it"
)


def _yaml_fix(reason: str) -> str:
    """What fixes the YAML error `reason` (PyYAML's words), as a suffix to it."""
    if "duplicate key" in reason:
        return ": give each field once (a merge may have left both)"
    if reason == ALIAS_PROBLEM:
        return ": a card has no use for one; write the value out where it is needed"
    if "tab" in reason:
        return ": indent with spaces, not tabs"
    if "another document" in reason or "single document" in reason:
        return ": one card per file, without `---` lines"
    return _QUOTE_FIX


_QUOTE_FIX = " (text with `: `, `#` or quotes in it: quote it, or use `key: |`)"


ALIAS_PROBLEM = "a value anchored here (&name) is repeated by an alias (*name)"


@functools.cache
def yaml_loader():
    """PyYAML's safe loader (libyaml's when present, 10x faster: the topic list 4 ms against
    33 ms), which refuses a mapping with a key twice (YAML's rule; PyYAML keeps the last, so
    a merge that left two answers in a card passed lint with the second) and a value repeated
    by an alias (`&text` ... `*text`): a card has no use for one, and a 64 KB card whose hints
    were 5,000 aliases of a long answer was hundreds of megabytes of text to lint and index."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        def construct_document(self, node):
            seen: set[int] = set()
            nodes = [node]
            while nodes:
                current = nodes.pop()
                if id(current) in seen:  # (met once more: through an alias)
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        ALIAS_PROBLEM,
                        current.start_mark,
                    )
                seen.add(id(current))
                if isinstance(current, yaml.SequenceNode):
                    nodes += current.value
                elif isinstance(current, yaml.MappingNode):
                    nodes += [part for pair in current.value for part in pair]
            return super().construct_document(node)

        def construct_mapping(self, node, deep=False):
            lines: dict[object, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str) and key in lines:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first on line {lines[key]})",
                        key_node.start_mark,
                    )
                lines[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep)

    return Loader
