"""Standard streams that a command cannot use, held on /dev/null (`cli._standard_streams_held`
finds them: a rare start, kept out of every command's import)."""

from __future__ import annotations

import os
import sys


def held_on_null(closed: dict[int, str]) -> None:
    """Hold each standard stream of `closed` (its number, and how it cannot be used: `_unusable`)
    on /dev/null, in order; end the command where the standard output is one of them."""
    for fd in closed:
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:  # (the lowest free number: fd itself, the ones below it open)
            os.dup2(null, fd)
            os.close(null)
    # (a stream Python found closed is None; one open the other way works on /dev/null now)
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    if 1 in closed:
        print(
            f"error: the standard output is {closed[1]}, where studycli writes what it does; "
            "to drop that, send it to /dev/null (>/dev/null)",
            file=sys.stderr,
        )
        sys.stderr.flush()
        os._exit(2)
