"""Markdown's fenced code blocks, read a line at a time: the lines from a ``` (or ~~~) line to
the line that closes it are code, shown as written. Lint's rules for a text's layout
(`lint_text`) and for a field's key indented into a text (`indented_key`) read a text's lines
through one `Fences`, so that they agree on which lines are code."""

from __future__ import annotations

import re

FENCES = ("```", "~~~")  # how a line that opens or closes a fenced block begins

# a line that opens a fenced block: three or more backticks, with an info string that holds
# none (```` ``x`` ```` is inline code), or three or more tildes
_OPENING = re.compile(r"(`{3,})[^`]*|(~{3,}).*")


class Fences:
    """Whether each line of a text, given in order, is of a fenced code block."""

    def __init__(self) -> None:
        self.open = False  # whether the lines read so far end inside a fenced block
        self._fence = ""  # the run of ` or ~ that opened it

    def code(self, stripped: str) -> bool:
        """Whether the line `stripped` (its indentation taken off) is a fenced block's: a
        line that opens or closes one, or a line between. As CommonMark reads one (and so
        the terminal's and Anki's Markdown, and lint's code-width rule): only a line of the
        opening's character, as many or more and nothing after them, closes it, so that a
        ~~~ or ```` block can show a ``` example, and a ```python line inside a ``` block is
        code (any fence closed it: the example's lines were read as text)."""
        if self.open:
            run = stripped.rstrip()
            if run.startswith(self._fence) and run == run[0] * len(run):
                self.open = False
            return True
        if opening := _OPENING.fullmatch(stripped):
            self.open, self._fence = True, opening[1] or opening[2]
            return True
        return False
