"""Reading single key presses: blocking (`getkey`) or with a timeout (`key_poller`).

Both work on a real terminal or a pseudo-terminal. Ctrl-C arrives as KeyboardInterrupt and
Ctrl-D as EOFError, whichever way keys are read. A session that reads keys one after another
holds the terminal in `quiet_keys` mode, so that keys typed ahead while a card is drawn are
neither echoed nor lost; a program it runs (the editor) gets the terminal as it was
(`normal_terminal`). Keys typed while the command said it waits for the review database
(`after_a_wait`) are dropped, and that is said.
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
ESCAPE = 0x1B


class _Quiet:
    """`quiet_keys`'s state: whether a session asked for it, and the terminal's attributes
    from before the first key switched to it (None until then)."""

    wanted = False
    before: list | None = None
    waited = False  # a wait for the review database was said since the last key read


def getkey() -> str:
    """Wait for one key press (read in raw mode).

    A key pressed before the call, while a card was still being drawn, counts: raw mode is
    entered without flushing the input (click's `getchar` flushes it, losing that key).
    """
    import termios
    import tty

    fd = sys.stdin.fileno()
    hold_quiet()
    if _Quiet.waited:
        _Quiet.waited = False
        _drop_keys_typed(fd)
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)
    try:
        key = _one_key(fd).decode(sys.stdin.encoding or "utf-8", "replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.flush()
    return _as_key(key)


def after_a_wait() -> None:
    """The command said it waits for the review database (another process holds it): the
    keys typed until the next `getkey` answer nothing the learner saw, and it drops them.
    (A learner pressed Enter and 3 again while a rating waited behind another terminal's
    import: once it was saved, they revealed and rated the next card, unseen.) Called from
    the thread that says the wait."""
    _Quiet.waited = True


def _drop_keys_typed(fd: int) -> None:
    """Drop the keys waiting to be read on the terminal `fd`, saying so where there were any."""
    import termios

    if select.select([fd], [], [], 0)[0]:
        termios.tcflush(fd, termios.TCIFLUSH)
        sys.stdout.write("(keys pressed while waiting for the review database were ignored)\n")
        sys.stdout.flush()


def _as_key(key: str) -> str:
    """`key`, or Ctrl-C raised as KeyboardInterrupt, Ctrl-D (or the end of input) as EOFError.
    A capital letter is its lowercase: every key of studycli is a lowercase letter, a digit or
    a sign, so Shift or Caps Lock changes none (`Q` was "no key here" in a session)."""
    if key == CTRL_C:
        raise KeyboardInterrupt
    if key in (CTRL_D, ""):
        raise EOFError
    return key.lower() if len(key) == 1 and "A" <= key <= "Z" else key


def _one_key(fd: int) -> bytes:
    """The bytes of one key press: a character (UTF-8: its lead byte says how many follow), or
    an escape sequence (an arrow key sends three bytes). Keys typed after it stay unread: read
    together, " 3" (reveal, then Good) would be one unknown key, and both would be lost."""
    first = os.read(fd, 1)
    if not first:
        return first
    lead = first[0]
    if lead == ESCAPE:
        return first + _escape_sequence(fd)
    follow = 3 if lead >= 0xF0 else 2 if lead >= 0xE0 else 1 if lead >= 0xC0 else 0
    return first + _read_exactly(fd, follow)


def _escape_sequence(fd: int) -> bytes:
    """What follows an escape byte that came with it: `[` or `O`, parameters, then the final
    byte (0x40-0x7E); nothing for the Escape key alone."""
    sequence = b""
    while select.select([fd], [], [], 0.01)[0]:
        byte = os.read(fd, 1)
        if not byte:
            break
        sequence += byte
        if len(sequence) == 1 and byte not in b"[O":
            break  # Alt+key: the escape and that key
        if (len(sequence) > 1 and 0x40 <= byte[0] <= 0x7E) or len(sequence) >= 16:
            break
    return sequence


def _read_exactly(fd: int, count: int) -> bytes:
    data = b""
    while len(data) < count:
        more = os.read(fd, count - len(data))
        if not more:
            break
        data += more
    return data


@contextmanager
def quiet_keys() -> Iterator[None]:
    """Hold the terminal in cbreak mode (no echo, no line editing; Ctrl-C still interrupts)
    while a session reads keys: a key typed while a card is drawn is not echoed onto it, and
    waits for `getkey`. The mode starts with the first `getkey`, or `hold_quiet` before it
    (the terminal modules cost 2 M instructions, not spent before the first card), and the
    terminal is restored at the end. Without a terminal on stdin, nothing changes."""
    _Quiet.wanted = True
    try:
        yield
    finally:
        _Quiet.wanted = False
        before, _Quiet.before = _Quiet.before, None
        fd = _terminal()
        if before is not None and fd is not None:
            import termios

            termios.tcsetattr(fd, termios.TCSADRAIN, before)


def hold_quiet() -> None:
    """Enter `quiet_keys`' mode now, not at the first key read, where a session asked for it
    and is not in it yet: before a front after which the session does more before it reads a
    key (a coding card's, whose check worker then starts). In line mode a key typed meanwhile
    was echoed onto the card, and a Ctrl-D, line mode's end of file, became a NUL byte in raw
    mode: lost."""
    fd = _terminal() if _Quiet.wanted and _Quiet.before is None else None
    if fd is None:
        return
    import termios
    import tty

    _Quiet.before = termios.tcgetattr(fd)
    tty.setcbreak(fd, termios.TCSANOW)  # TCSANOW: keys typed already are kept


@contextmanager
def normal_terminal() -> Iterator[None]:
    """The terminal as it was before `quiet_keys`, for a program the session runs (the
    editor); the quiet mode again after it."""
    fd = _terminal()
    if fd is None or _Quiet.before is None:
        yield
        return
    import termios

    quiet = termios.tcgetattr(fd)
    termios.tcsetattr(fd, termios.TCSADRAIN, _Quiet.before)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, quiet)


def _terminal() -> int | None:
    """stdin's descriptor when it is a terminal."""
    try:
        fd = sys.stdin.fileno()
        return fd if os.isatty(fd) else None
    except (AttributeError, OSError, ValueError):
        return None


@contextmanager
def key_poller() -> Iterator[Callable[[float], str | None]]:
    """A function `poll(seconds)` -> the key pressed within `seconds`, or None.

    The terminal is in cbreak mode (keys arrive without Enter, Ctrl-C still interrupts) while
    the context is open. Without a terminal on stdin, `poll` just waits.
    """
    fd = _terminal()
    if fd is None:
        yield lambda seconds: time.sleep(seconds)
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd, termios.TCSANOW)  # TCSANOW: keys typed already are kept
    try:
        yield lambda seconds: _read_key(fd, seconds)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_key(fd: int, seconds: float) -> str | None:
    ready, _, _ = select.select([fd], [], [], seconds)
    if not ready:
        return None
    return _as_key(_one_key(fd).decode("utf-8", "replace"))
