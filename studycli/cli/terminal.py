"""Reading single key presses: blocking (`getkey`) or with a timeout (`key_poller`).

Both work on a real terminal or a pseudo-terminal. Ctrl-C arrives as KeyboardInterrupt and
Ctrl-D as EOFError, whichever way keys are read.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENTER = ("\r", "\n")
CTRL_C, CTRL_D = "\x03", "\x04"


def getkey() -> str:
    """Wait for one key press (read in raw mode).

    A key pressed before the call, while a card was still being drawn, counts: raw mode is
    entered without flushing the input (click's `getchar` flushes it, losing that key).
    """
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)
    try:
        key = os.read(fd, 32).decode(sys.stdin.encoding or "utf-8", "replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.flush()
    if key == CTRL_C:
        raise KeyboardInterrupt
    if key in (CTRL_D, ""):
        raise EOFError
    return key


@contextmanager
def key_poller() -> Iterator[Callable[[float], str | None]]:
    """A function `poll(seconds)` -> the key pressed within `seconds`, or None.

    The terminal is in cbreak mode (keys arrive without Enter, Ctrl-C still interrupts) while
    the context is open. Without a terminal on stdin, `poll` just waits.
    """
    try:
        fd = sys.stdin.fileno()
        interactive = os.isatty(fd)
    except (AttributeError, OSError, ValueError):
        fd, interactive = -1, False
    if not interactive:
        yield lambda seconds: time.sleep(seconds)
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield lambda seconds: _read_key(fd, seconds)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_key(fd: int, seconds: float) -> str | None:
    ready, _, _ = select.select([fd], [], [], seconds)
    if not ready:
        return None
    key = os.read(fd, 1).decode("utf-8", "replace")
    if key == CTRL_C:
        raise KeyboardInterrupt
    if key in (CTRL_D, ""):
        raise EOFError
    return key
