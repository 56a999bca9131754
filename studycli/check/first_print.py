"""Where a correct answer's check first prints: while the checker runs, sys.stdout and
sys.stderr are `_FirstWrite`s (`_noting_first_write`), which note the solution modules' frames
that the first text written came through (`_solution_frames`). `child._child` sends them with
its report; the parent's `verdict` names the innermost where it fails the card for printing.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any


class _FirstWrite:
    """sys.stdout or sys.stderr in a correct answer's check (the reference's or a variant's):
    notes in `found["at"]` the solution modules' frames that the first text written came
    through, as a traceback shows them (the parent says the innermost: `verdict`). "The
    reference's check printed 5 line(s)" named the first line, but not the print, and its
    author searched the reference, the checker and their helpers for it (a QA pass). Python's
    warnings, which `verdict` does not count as printed, are passed over."""

    def __init__(self, stream: Any, solutions_dir: str, found: dict[str, str]) -> None:
        self._stream, self._found = stream, found
        self._folder = os.path.join(solutions_dir, "")

    def write(self, text: str) -> int:
        # (not a str: the stream's own write raises Python's TypeError, where `strip` gave
        # an AttributeError of the checker's own)
        if "at" not in self._found and isinstance(text, str) and text.strip():
            frames = _solution_frames(sys._getframe(1), self._folder)
            if frames is not None:
                self._found["at"] = frames
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:  # the stream's other methods (flush, fileno, ...)
        return getattr(self._stream, name)


@contextlib.contextmanager
def _noting_first_write(solutions_dir: str, found: dict[str, str]) -> Iterator[None]:
    """sys.stdout and sys.stderr as `_FirstWrite`s while it lasts."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (_FirstWrite(stream, solutions_dir, found) for stream in saved)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _solution_frames(frame: Any, folder: str) -> str | None:
    """The frames of `frame`'s stack in files under `folder`, outermost first, as a traceback
    shows them; None where the stack goes through Python's `warnings` (one written out)."""
    shown: list[str] = []
    while frame is not None:
        code = frame.f_code
        if frame.f_globals.get("__name__") in _WARNINGS:
            return None
        if code.co_filename.startswith(folder):
            shown.append(f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}\n')
        frame = frame.f_back
    return "".join(reversed(shown))


# Python's modules that write a warning out (`warnings.showwarning`; 3.14's pure-Python one)
_WARNINGS = ("warnings", "_py_warnings")
