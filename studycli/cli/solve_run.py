"""One check of the attempt file, run in a thread of its own while the terminal stays live
(`_Run`: its outcome, or what kept it from reading the file, and whether its code wrote the
file), and the file's stamp and digest, which tell a save from no change."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.errors import StudyError

from .check_outcome import as_shown

if TYPE_CHECKING:  # the checking machinery is imported on the first check, not to show a card
    from studycli.check.runner import Outcome

    from .solve_flow import Limits


def _checking(path: Path, limits: Limits) -> str:
    """The line a check starts with (printed as prose: piped, one line whatever the width)."""
    return f"checking {as_shown(path.name)} (limit {limits.timeout:g} s, {limits.memory_mb} MB) ..."


WATCH_POLL = 0.05  # seconds between looks at the file and the keys: a save is checked this soon
# seconds a stamp stays too recent to tell the next save by: one of the same size in the same
# tick of the filesystem's modification times (1 s or 2 s on some) has the same stamp
RACY = 2.0


class _Run:
    """One check of the attempt file, in a thread of its own; `finished` is set when it ends."""

    def __init__(
        self,
        console: Console,
        card: Card,
        content: Content,
        path: Path,
        limits: Limits,
        own_writes: Path | None = None,
    ) -> None:
        from studycli.check import solve, starters

        from .app import print_prose  # (piped, one line: Rich broke a long id's at 80 columns)

        print_prose(console, _checking(path, limits), style="dim", markup=False)
        self.stamp = _stamp(path)  # the file it checks
        # (read first: a write after it, even one that lands as the file is judged below, is
        # seen; judged before it, a save the check read was judged as the file before it)
        self.digest = _digest(path)
        self.counts = not starters.is_untouched(card, content, path)  # the starter's is no attempt
        self.compiled = solve.compiles(path)  # (a typo's failure is no failed recall)
        self.superseded = False  # a later save made it a failed run before the outcome
        self.own_writes = own_writes  # made where the check's code writes the file
        self.left: tuple[int, int] | None = None  # the file as the finished check left it
        self.changed = False  # the file's bytes changed while it ran (`left`)
        self.finished = threading.Event()
        self._outcome: Outcome | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._outcome = solve.run_check(
                    card,
                    content,
                    path,
                    timeout=limits.timeout,
                    memory_mb=limits.memory_mb,
                    own_writes=own_writes,
                )
            except BaseException as exc:  # raised again in the watch's thread, by `result`
                self._error = exc
            finally:
                self.left = _stamp(path)
                # the bytes as it ended are not those it started on: it may have read a save
                # (compared whatever the stamp: a save of the same size in the same tick of
                # the modification times leaves it as it was)
                self.changed = _digest(path) != self.digest
                self.finished.set()

        self._thread = threading.Thread(target=run, name="studycli-check", daemon=True)
        self._thread.start()

    def wrote_itself(self) -> bool:
        """Whether the code checked wrote the file it was loaded from (`check.own_writes`)."""
        return self.own_writes is not None and self.own_writes.exists()

    @property
    def outcome(self) -> Outcome:
        """A finished check's outcome."""
        assert self._outcome is not None
        return self._outcome

    def result(self) -> Outcome:
        """The finished check's outcome.

        Raises:
            StudyError, ContentError: what the check raised (an attempt it cannot read, a
                broken solution module), as `check` does.
        """
        if self._error is not None:
            raise self._error
        return self.outcome

    def unreadable(self, path: Path) -> StudyError | None:
        """What kept the check from reading the file as it still is (not UTF-8, too large,
        not readable): the learner's to fix and save again. None for a check that ran, a file
        gone or written again meanwhile (`gone`), or a solution module that does not read
        (a ContentError, not the attempt's: `result` raises it)."""
        from studycli.errors import ContentError

        error = self._error
        if isinstance(error, StudyError) and not isinstance(error, ContentError):
            return None if self.gone(path) else error
        return None

    def gone(self, path: Path) -> bool:
        """Whether the check could not read the attempt because the file went away or was
        written again meanwhile (an editor that deletes and writes it, a sync tool): no
        outcome; the next save is checked."""
        from studycli.errors import StudyError

        now = _stamp(path)
        return isinstance(self._error, StudyError) and (now is None or now != self.stamp)

    def stop(self, console: Console, why: str | None) -> None:
        """Kill the check with the runner's stop (Ctrl-C's), wait for its thread, end the
        stop; say why in one dim line (None: say nothing)."""
        from studycli.check import runner

        runner.kill_all()
        self._thread.join()
        runner.clear_stop()  # its job has returned: the next check runs
        if why is not None:
            console.print(Text(f"stopped: {why}", style="dim"))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class _Looks:
    """The watch's looks at the file: its stamp and digest each time, the bytes read again
    where the stamp changed, or is too recent to tell the next save by (one unchanged was
    never read again, and a save of the same size in the same tick never checked).

    Too recent: not yet read RACY seconds after the watch first saw it, by the watch's own
    clock. A save in the tick of the one before comes within a tick of it, so before that
    read; the file's clock is not compared with the watch's (a stamp ahead of it, on a
    network filesystem or a file from a machine whose clock runs ahead, was read again every
    WATCH_POLL for as long as it stayed so: 10% of a core for a file of 4 MB)."""

    def __init__(self) -> None:
        self._stamp: tuple[int, int] | None = None  # the stamp it last looked at
        self._since = 0.0  # when it first saw that stamp (time.monotonic)
        self._settled = False  # its bytes were read RACY or more after that

    def at(
        self, path: Path, seen: tuple[int, int] | None, taken: bytes | None
    ) -> tuple[tuple[int, int] | None, bytes | None] | None:
        """The file's stamp and digest, `seen` and `taken` the last the watch took. None where
        the file changed as it was read: a save that landed between the look at its stamp and
        the read of its bytes, taken as one (the stamp of the file emptied, the bytes of the
        whole save), made the whole file look already seen, and it was never checked."""
        stamp = _stamp(path)
        if stamp != self._stamp:
            self._stamp, self._since, self._settled = stamp, time.monotonic(), False
        if stamp == seen and (stamp is None or self._settled):
            return stamp, taken
        read_at = time.monotonic()
        digest = _digest(path)
        if _stamp(path) != stamp:
            return None
        self._settled = read_at - self._since >= RACY
        return stamp, digest


def _digest(path: Path) -> bytes | None:
    """A digest of the file's bytes (None where it cannot be read): whether a change of its
    `_stamp` changed what would be checked."""
    from studycli.check.solve import ATTEMPT_LIMIT
    from studycli.paths import read_regular

    try:  # (a named pipe is not waited on; one over the limit is the check's to refuse)
        return _bytes_digest(read_regular(path, ATTEMPT_LIMIT))
    except OSError:  # (NotRegularFile and FileTooLarge too)
        return None


def _bytes_digest(data: bytes) -> bytes:
    """The `_digest` of a file holding `data`."""
    return hashlib.blake2b(data, digest_size=16).digest()
