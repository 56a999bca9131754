"""Prose wrapped for a terminal as Rich wraps it, at its words, except that a word longer than
a line (a path, a command, a URL) is kept whole on a line of its own: Rich cut it at the
terminal's width, and what a reader copied of it pasted in pieces. The terminal wraps that
one line itself, which a copy takes back as one line."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text

_WORD = re.compile(r"\s*\S+\s*")  # a word with the spaces around it, as Rich's wrap splits


def wrapped(text: Text, width: int) -> Text:
    """`text` with a line break where Rich's wrap at `width` cells breaks it, none inside a
    word: one longer than `width` starts a line and ends it. Its styles are kept."""
    lines = []
    for line in text.split("\n", allow_blank=True):
        line.expand_tabs()  # (as Rich's wrap does first)
        breaks, used = [], 0
        for word in _WORD.finditer(line.plain):
            if word.start() and used + cell_len(word.group().rstrip()) > width:
                breaks.append(word.start())
                used = 0
            used += cell_len(word.group())
        for part in line.divide(breaks):
            # the spaces before a break that pass the width, as Rich's crop drops them
            spaces = len(part.plain) - len(part.plain.rstrip())
            if (beyond := min(spaces, cell_len(part.plain) - width)) > 0:
                part.right_crop(beyond)
            lines.append(part)
    return Text("\n").join(lines)
