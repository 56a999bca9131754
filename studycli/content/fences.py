"""Markdown's fenced code blocks, read a line at a time: the lines from a ``` (or ~~~) line to
the next are code, shown as written. Lint's rules for a text's layout (`lint_text`) and for a
field's key indented into a text (`indented_key`) read a text's lines through one `Fences`, so
that they agree on which lines are code."""

from __future__ import annotations

FENCES = ("```", "~~~")  # how a line that opens or closes a fenced block begins


class Fences:
    """Whether each line of a text, given in order, is of a fenced code block."""

    def __init__(self) -> None:
        self.open = False  # whether the lines read so far end inside a fenced block

    def code(self, stripped: str) -> bool:
        """Whether the line `stripped` (its indentation taken off) is a fenced block's: a
        line that opens or closes one, or a line between. (Any fence closes the block, as
        lint has always read it, not only one of the opening's characters and length.)"""
        if stripped.startswith(FENCES):
            self.open = not self.open
            return True
        return self.open
