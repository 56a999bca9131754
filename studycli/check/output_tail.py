"""A check's output as its parent reads it: the pipe's reader (`OutputTail`), which keeps the
last bytes written, counts them and their lines, and widens the pipe of a check that prints a
lot (`widen`, `WIDE_PIPE`); and the line that stands for the start of an output cut short
(`not_shown`, read back by `NOT_SHOWN`). The pipe itself is `contain`'s: what a check writes to
stdout and stderr goes into it.
"""

from __future__ import annotations

import os
import re

WIDE_PIPE = 1 << 20  # bytes: Linux's cap on a pipe a user widens (/proc/sys/fs/pipe-max-size)


def widen(fd: int) -> bool:
    """Have the pipe of `fd` hold `WIDE_PIPE` bytes, not 64 KB, where the system lets it
    (Linux's F_SETPIPE_SZ); False elsewhere, or where it refuses (a lower cap, or the user's
    pipes holding their share of memory already: /proc/sys/fs/pipe-user-pages-soft)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, WIDE_PIPE)
    except (ImportError, AttributeError, OSError):  # (no fcntl, or no F_SETPIPE_SZ: not Linux)
        return False
    return True


class OutputTail:
    """The last `limit` bytes written to the output pipe, how many came in all, and how many
    lines."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.lines = 0  # line feeds among the `total` bytes
        self._kept = bytearray()
        self._read_size = 1 << 16  # a pipe's size, until it is widened
        self._widen = True  # (tried once)

    def read(self, fd: int) -> bool:
        """Read what the pipe holds now; False at end of file (every writer closed it). Past
        `WIDE_PIPE` bytes, the pipe is widened to that size (`widen`), and read so: a check
        that prints 100 MB woke its worker for each 64 KB, 1,600 times (10-22% of its time on
        the 2-core box). Only past it: a wide pipe counts against its user's pipe memory,
        however little it holds, and a user past that share gets pipes of 8 KB."""
        try:
            chunk = os.read(fd, self._read_size)
        except BlockingIOError:
            return True
        except OSError:
            return False
        self.add(chunk)
        if self._widen and self.total >= WIDE_PIPE:
            self._widen = False
            if widen(fd):
                self._read_size = WIDE_PIPE
        return bool(chunk)

    def add(self, chunk: bytes) -> None:
        """Take `chunk` as the next bytes written."""
        self.total += len(chunk)
        self.lines += chunk.count(b"\n")
        self._kept += chunk
        if len(self._kept) > 2 * self.limit:
            del self._kept[: -self.limit]

    def take(self, total: int, lines: int, kept: bytes) -> None:
        """Take what another process read (`output_keeper`): `total` bytes and `lines` lines
        in all, ending with `kept`."""
        self.total, self.lines = total, lines
        self._kept = bytearray(kept[-2 * self.limit :])

    def last(self, count: int) -> bytes:
        """The last `count` bytes kept."""
        return bytes(self._kept[-count:])

    def text(self, limit: int | None = None) -> str:
        """The output kept (its last `limit` bytes, `self.limit` at most). Where its start was
        cut: from the first whole line, after a line that says how many came before
        ("… 199,880 earlier lines not shown"), since a tail cut mid-line read as if the line
        began there. A tail with no whole line (the end of one long line) is shown as it is,
        after how many bytes came before it."""
        kept = bytes(self._kept[-min(limit or self.limit, self.limit) :])
        if len(kept) == self.total:
            return kept.decode("utf-8", errors="replace")
        start = kept.find(b"\n") + 1  # the first whole line's
        if 0 < start < len(kept):
            kept = kept[start:]
            cut = not_shown(self.lines - kept.count(b"\n"))
        else:  # no whole line in the tail
            cut = not_shown(self.total - len(kept), "byte")
        return cut + kept.decode("utf-8", errors="replace")


def not_shown(count: int, unit: str = "line") -> str:
    """The line that stands for the start of an output that was cut ("… 12 earlier lines not
    shown"), read back by `NOT_SHOWN`."""
    return f"… {count:,} earlier {unit}{'s' if count != 1 else ''} not shown\n"


NOT_SHOWN = re.compile(r"^… (?P<count>[\d,]+) earlier (?P<unit>line|byte)s? not shown$")
