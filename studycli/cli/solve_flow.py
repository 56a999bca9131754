"""The solve flow on a terminal: edit the attempt, run the check, show what failed; `--watch`.

Shared by `studycli solve` and the `s` key of `studycli review`. The work itself (attempt
files, the isolated check, the rating) is in `solve.py`; this module only talks to the learner.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fsrs import Rating
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.errors import StudyError
from studycli.study.labels import RATING_NAMES, rating_label

from .terminal import ENTER, key_poller, normal_terminal

if TYPE_CHECKING:  # the checking machinery is imported on the first check, not to show a card
    from studycli.check.runner import Outcome


@dataclass(frozen=True)
class Limits:
    timeout: float
    memory_mb: int


@dataclass(frozen=True)
class Attempt:
    """How an answer was reached: the last check's outcome, the hints shown and the failed
    checks before it (a pass with either is graded Hard by default)."""

    outcome: Outcome
    hints_shown: int = 0
    failed_runs: int = 0

    def rating(self, chosen: int | None = None) -> Rating:
        from studycli.check import solve

        return solve.rating_for(
            self.outcome, chosen, hints_shown=self.hints_shown, failed_runs=self.failed_runs
        )

    def how(self) -> str:
        """Why the default rating is what it is, in a few words."""
        if self.outcome.status != "pass":
            return "the check did not pass"
        reasons = []
        if self.hints_shown:
            reasons.append(f"{self.hints_shown} hint{'s' if self.hints_shown != 1 else ''}")
        if self.failed_runs:
            reasons.append(
                f"{self.failed_runs} failed run{'s' if self.failed_runs != 1 else ''} first"
            )
        return ", ".join(reasons) if reasons else "first try"


def choose_rating(
    console: Console,
    attempt: Attempt,
    getkey: Callable[[], str],
    intervals: Mapping[Rating, timedelta] | None = None,
) -> Rating | None:
    """After a pass: offer Hard, Good and Easy, each with the interval it gives (`intervals`,
    where known), with the graded default on Enter; None when the learner chooses to record
    nothing (q).

    Raises:
        KeyboardInterrupt: Ctrl-C.
    """
    default = attempt.rating()
    from .render import KeyBar, KeyLine

    choices = (Rating.Hard, Rating.Good, Rating.Easy)
    console.print(
        KeyBar(
            [
                (str(int(r)), rating_label(r, (intervals or {}).get(r)), "bold reverse")
                for r in choices
            ]
        )
    )
    console.print(
        KeyLine(
            f"Enter: {RATING_NAMES[default]} ({attempt.how()}) · 2, 3 or 4 to choose · "
            "q: record nothing"
        )
    )
    while True:
        key = getkey()
        if key in ENTER:
            return default
        if key == "q":
            return None
        if key in ("2", "3", "4"):
            return Rating(int(key))


class StoppedAtPrompt(KeyboardInterrupt):
    """Ctrl-C, Ctrl-D or q (`key`) at the prompt that waits while the learner edits the
    attempt in an editor of their own (no $EDITOR set): no editor ran, so none was ended."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def stopped_by(interrupt: KeyboardInterrupt) -> str:
    """What ended an `edit`: "Ctrl-C ended the editor", or "q at the prompt"."""
    if isinstance(interrupt, StoppedAtPrompt):
        return f"{interrupt.key} at the prompt"
    return "Ctrl-C ended the editor"


def edit(
    console: Console,
    path: Path,
    getkey: Callable[[], str] | None,
    untouched: Callable[[], bool] = lambda: False,
) -> None:
    """Open $VISUAL/$EDITOR on `path`; without one, ask the learner to edit it and press Enter.
    An editor back at once with the file unchanged, `untouched()` (still the starter), is
    said to have not waited (`WINDOW_EDITOR`).

    Raises:
        StudyError: no editor is set and there is no terminal to wait on (`getkey` is None).
        KeyboardInterrupt: the editor itself was ended by a Ctrl-C; StoppedAtPrompt (a
            KeyboardInterrupt) when no editor is set and q, Ctrl-C or Ctrl-D came at the
            prompt (q gives the attempt up, as at the other prompts).
    """
    from studycli.check import solve

    command = solve.editor_command()
    if command is not None:
        with normal_terminal():  # the terminal as the session found it
            at_once = solve.open_editor(path, command)
        if at_once and untouched():  # (one who wrote the answer before, and closed the
            # editor at once, has it checked without a word)
            console.print(Text(WINDOW_EDITOR.format(command=" ".join(command)), style="yellow"))
        return
    if getkey is None:
        raise StudyError(
            f"no editor: set $EDITOR (e.g. export EDITOR=nano), or edit {path} "
            "yourself and run the check with --no-edit"
        )
    # the key reader's modules imported before the prompt shows: a Ctrl-C that came while
    # `getkey` imported them could land in the import system's lock callback, where Python
    # ignores it ("Exception ignored ... KeyboardInterrupt"), and the prompt waited on
    import termios  # noqa: F401
    import tty  # noqa: F401

    try:
        console.print(
            f"No $EDITOR is set: edit [bold]{escape(str(path))}[/] in your editor, save, "
            "then press Enter here, or q to give up. (Set $EDITOR to open it for you.)"
        )
        while (key := getkey()) not in ENTER and key != "q":
            pass
    except KeyboardInterrupt:
        raise StoppedAtPrompt("Ctrl-C") from None
    except EOFError:  # (Ctrl-D: `solve` said only "Aborted.")
        raise StoppedAtPrompt("Ctrl-D") from None
    if key == "q":
        raise StoppedAtPrompt("q")


# (what follows it says what became of the starter: `solve` checks it and records nothing,
# `review` checks nothing; "the starter is checked as it is" was wrong in review)
WINDOW_EDITOR = (
    "the editor {command!r} returned at once, the file unchanged: an editor that opens a "
    "window returns before you write unless told to wait (code --wait, subl -w, gedit -s: set "
    "$EDITOR so)"
)


def check(console: Console, card: Card, content: Content, path: Path, limits: Limits) -> Outcome:
    """Run the check on `path` and show the outcome.

    Raises:
        KeyboardInterrupt: Ctrl-C during the check, once the check is stopped (its process
            killed, the runner ready for the next one).
    """
    run = _Run(console, card, content, path, limits)
    try:
        while not run.finished.wait(WATCH_POLL):
            pass
    except KeyboardInterrupt:
        run.stop(console, None)
        raise
    outcome = run.result()
    _show(console, outcome, card, content, path)
    return outcome


def _show(console: Console, outcome: Outcome, card: Card, content: Content, path: Path) -> None:
    """The outcome, then, for an attempt file written from a starter that has changed since
    (its check fails only with NotImplementedError), how to get the new starter. (Not for a
    file given with --file: deleting that one gives no starter.)"""
    from studycli.check import solve

    console.print(outcome_view(outcome))
    if (
        outcome.status != "pass"
        and path == solve.attempt_path(card.id)
        and solve.is_older_starter(card, content, path)
    ):
        console.print(Text(changed_starter(path), style="yellow"))


def changed_starter(path: Path) -> str:
    """What to say of an attempt file that is a starter the card no longer has."""
    return (
        f"{path.name} is still a starter, but the card's starter has changed since the file "
        f"was written: delete {path} to get the new one, or write your answer in it"
    )


def _checking(path: Path, limits: Limits) -> Text:
    return Text(
        f"checking {as_shown(path.name)} (limit {limits.timeout:g} s, {limits.memory_mb} MB) ...",
        style="dim",
    )


def outcome_view(outcome: Outcome):
    """Pass, or the failing case: the call, expected vs actual, the learner's traceback."""
    from rich.syntax import Syntax
    from rich.table import Table

    from studycli.check import solve

    from .render import TEXT_WIDTH

    if outcome.status == "pass":
        return Text(f"✓ passed every case in {outcome.seconds:.2f} s", style="bold green")
    title = {"fail": "✗ failed", "error": "✗ error", "timeout": "✗ timeout"}[outcome.status]
    message = as_shown(outcome.message)  # the learner's code wrote some of it
    parts: list = [_message_line(line) for line in message.splitlines()]
    case = solve.failing_case(message) if outcome.status == "fail" else None
    if case is not None:
        table = Table(show_header=False, box=None, padding=(0, 1))
        table.add_row(Text("call", style="dim"), Text(case.what))
        if case.where:
            table.add_row(Text("where", style="dim"), Text(case.where))
        table.add_row(Text("expected", style="green"), Text(case.expected, style="green"))
        table.add_row(Text("actual", style="red"), Text(case.actual, style="red"))
        if case.detail:
            table.add_row(Text(""), Text(case.detail, style="dim"))
        parts = [table, *[_message_line(line, "yellow") for line in message.splitlines()[1:]]]
    if outcome.traceback:  # wrapped, not cut: a long path hid the line number at 80 columns
        traceback = as_shown(outcome.traceback.rstrip())
        parts.append(Syntax(traceback, "pytb", theme="ansi_dark", word_wrap=True))
    if outcome.output.strip():
        parts.append(
            Panel(
                Text(as_shown(outcome.output).rstrip()),  # (cut to its tail by the check)
                title="your output",
                title_align="left",
                border_style="dim",
            )
        )
    # at most as wide as the card's panels above it: at 200 columns it alone filled the width
    return Panel(
        Group(*parts), title=title, title_align="left", border_style="red", width=TEXT_WIDTH
    )


def _message_line(line: str, style: str = "") -> RenderableType:
    """A line of a check's message, one indented (its `  hint: ...`) kept indented when it
    wraps: at 80 columns the hint's next lines began at the panel's edge, as if they were
    the failure's own words rather than the hint's."""
    indent = len(line) - len(line.lstrip(" "))
    text = Text(line[indent:], style=style)
    if not indent:
        return text
    from rich.padding import Padding

    return Padding(text, (0, 0, 0, indent))


# All control characters but tab and line feed; and Unicode's bidirectional embeddings,
# overrides and isolates, which reorder what follows them on the line ("Trojan Source"): an
# attempt's output printed `\u202e` raw, and the text after it read backwards
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def as_shown(text: str) -> str:
    """`text` that the learner's code wrote (its output, an exception's message), safe to
    print: each line as a terminal leaves it after carriage returns (a progress bar's last
    state), and every other control character written out (an escape as \\x1b, a bidirectional
    override as \\u202e), so that none reaches the terminal (a printed escape sequence cleared
    the screen, switched to the alternate screen or hid the cursor after the command ended). A lone surrogate (a file name
    os.listdir decoded with surrogateescape, put into a message) is written out too: printed,
    it ended the command, or the review session, with a UnicodeEncodeError."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if "\r" in text:
        lines = []
        for line in text.replace("\r\n", "\n").split("\n"):
            drawn = [part for part in line.split("\r") if part]
            lines.append(drawn[-1] if drawn else "")
        text = "\n".join(lines)
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)


class Hints:
    """A card's hints, shown one more at each request (the review session and `--watch`)."""

    def __init__(self, card: Card) -> None:
        self.card = card
        self.shown = 0

    def next(self, answer: str | None = None) -> RenderableType:
        """The next hint's panel, or a line saying there are no more and how to see the answer:
        `answer` ("" where it is on screen already), by default `studycli show`'s command."""
        hints = self.card.hints
        if self.shown >= len(hints):
            if answer is None:
                answer = f"`studycli show {self.card.id} --answer` shows the answer"
            return Text("no more hints" + (f": {answer}" if answer else ""), style="dim")
        from .render import hint

        self.shown += 1
        return hint(hints[self.shown - 1], f"Hint {self.shown} of {len(hints)}")


WATCH_POLL = 0.05  # seconds between looks at the file and the keys: a save is checked this soon
# seconds a save that does not compile must stay as it is before it is checked: an editor that
# truncates the file, then writes it, can be caught half way (cut mid-token), and that save's
# SyntaxError was shown and counted as a failed run of the learner's
SETTLE = 0.3


def watch(
    console: Console, card: Card, content: Content, path: Path, limits: Limits
) -> Attempt | None:
    """Check `path`, then again on every save until it passes; `h` shows the next hint,
    `q` (or Ctrl-C, or Ctrl-D) stops. Returns the last outcome, with the hints shown and the
    failed runs before it: checks of the learner's code, not of the untouched starter (checked
    when the watch starts, or saved as it was), which is no attempt of theirs.

    Each check runs in a thread while the keys and the file are still read: `q` stops it at
    once, and so does a save (which then checks the new file), even one first seen once the
    check has ended (it may have read the save half written). A check stopped so is no attempt:
    None when `q` came before any check of the learner's code finished (nothing to record).
    A save that does not compile is checked once it has stayed as it is for SETTLE seconds, so
    that one caught half written is neither shown nor counted; one that compiles, at once.
    A save the check cannot read (not UTF-8, say) is said, and the watch waits for the next.
    A change that leaves the file's bytes as the watch last took them (an attempt that touches
    or rewrites its own file when run, a save with nothing changed) starts no check: compared
    by modification time, an attempt that touched its own file was checked again for ever.
    Nor does a change the check's own code made (`check.own_writes`: an attempt that appends a
    log of its runs to its file), while it ran or as it left the file: each was taken for a
    save, and checked again, for ever. (A save made while such a check runs is taken for the
    check's too: the watch says so, and the next save is checked.)
    """
    import itertools
    import tempfile

    from studycli.check import solve

    hints = Hints(card)
    failed = 0
    last: _Run | None = None  # the last check that finished
    settling: float | None = None  # when a save that does not compile was seen (unchecked)
    taken: bytes | None = None  # the digest of the file as the watch last acted on it
    own: tuple[int, int] | None = None  # the file as the last check that wrote it left it
    said_own = False
    stopped_by = "q pressed"
    runs = itertools.count()
    # (the folder of the files each check makes where its code writes the attempt file)
    with key_poller() as poll, tempfile.TemporaryDirectory(prefix="studycli-watch-") as folder:

        def start() -> _Run:
            return _Run(console, card, content, path, limits, Path(folder) / f"{next(runs)}")

        console.print(  # (unwrapped: the file to open in your editor, copied in one piece)
            f"watching [bold]{escape(str(path))}[/]: save to re-run · h next hint · q stop",
            soft_wrap=True,
        )
        seen = _stamp(path)
        run: _Run | None = None
        try:  # (the first check started in it: a Ctrl-C as it starts ends the watch as q does)
            run = start()
            taken = run.digest
            while True:
                if run is not None:
                    run.finished.wait(WATCH_POLL)  # wakes as soon as the check ends
                key = poll(0 if run is not None else WATCH_POLL)
                if run is not None and run.finished.is_set():
                    finished, run = run, None
                    own = finished.left if finished.wrote_itself() else None
                    if (error := finished.unreadable(path)) is not None:  # the learner's to
                        # fix, then save: it ended the watch (a save in Latin-1), unrecorded
                        console.print(
                            Text(f"error: {error} (the next save is checked)", style="red")
                        )
                    elif finished.gone(path):  # deleted to be written again: no outcome
                        taken = None  # (the file's next bytes are checked, whatever they are)
                    elif finished.changed and not finished.wrote_itself():
                        # saved while it ran, the save not yet seen: it may have read the save
                        # half written (its SyntaxError shown and counted as a failed run)
                        console.print(Text("stopped: the file changed", style="dim"))
                        seen, taken = None, None  # (the file as it is now is taken below)
                    else:
                        outcome = finished.result()
                        last = finished  # before it shows: a Ctrl-C meanwhile records it
                        _show(console, outcome, card, content, path)
                        if own is not None and not said_own:
                            said_own = True
                            console.print(Text(wrote_itself(path), style="dim"))
                        if last.outcome.status == "pass":
                            break
                if key == "q":
                    break
                if key == "h":
                    console.print(hints.next())
                stamp = _stamp(path)
                now = _digest(path) if stamp != seen else taken
                if stamp != seen and (
                    (own is not None and stamp == own) or (run is not None and run.wrote_itself())
                ):
                    seen, taken = stamp, now  # the check's own write, not a save of the learner's
                elif stamp != seen and now is not None and now == taken:
                    # the bytes whose outcome stands or comes, or that settle: a save that
                    # does not compile, saved again as it was, is still checked once settled
                    seen = stamp
                elif stamp != seen:
                    seen, settling, taken = stamp, None, now
                    if run is not None:
                        run.stop(console, "the file changed")
                        # a stopped check is no attempt: kept, a save that starts none (emptied,
                        # not compiling) left it to be shown, killed, as a finished failed run
                        run = None
                    elif last is not None and last.counts and not last.superseded:
                        failed += 1  # it did not pass (counted once: the file may come back)
                        last.superseded = True
                    if stamp is None or stamp[1] == 0:  # gone, or emptied to be written
                        console.print(  # (an editor truncates, then writes: checked empty, it
                            # failed as a run of the learner's, and a pass after it was Hard)
                            Text(f"waiting for {path.name} to be saved again", style="dim")
                        )
                    elif not solve.compiles(path):  # half written, or the learner's mistake:
                        settling = time.monotonic()  # checked once it stays so (SETTLE)
                    else:
                        run = start()
                        taken = run.digest
                elif settling is not None and time.monotonic() - settling >= SETTLE:
                    settling = None  # left as it is: the learner's own syntax error
                    run = start()
                    taken = run.digest
        except KeyboardInterrupt:  # Ctrl-C: as q (the last finished check is the attempt)
            stopped_by = "Ctrl-C pressed"
        except EOFError:  # Ctrl-D: as q too (it ended `solve` with click's bare "Aborted.")
            stopped_by = "Ctrl-D pressed"
        except BaseException:  # an error: the caller says what happened
            if run is not None:
                run.stop(console, None)
            raise
        if run is not None:
            run.stop(console, stopped_by)
    if last is None or (not last.counts and not solve.is_untouched(card, content, path)):
        return None  # (the untouched starter's outcome is returned: the caller says so)
    return Attempt(last.outcome, hints_shown=hints.shown, failed_runs=failed)


def wrote_itself(path: Path) -> str:
    """What the watch says of an attempt whose check wrote its file (`check.own_writes`)."""
    return (
        f"your attempt wrote {path.name} itself while it was checked: that starts no check, "
        "nor does a save made while it ran (save again to check it)"
    )


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
        from studycli.check import solve

        console.print(_checking(path, limits))
        self.counts = not solve.is_untouched(card, content, path)  # the starter's is no attempt
        self.superseded = False  # a later save made it a failed run before the outcome
        self.stamp = _stamp(path)  # the file it checks
        self.digest = _digest(path)  # (read before the check reads it: a later write is seen)
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
                self.changed = self.left != self.stamp and _digest(path) != self.digest
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


def _digest(path: Path) -> bytes | None:
    """A digest of the file's bytes (None where it cannot be read): whether a change of its
    `_stamp` changed what would be checked."""
    from studycli.check.solve import ATTEMPT_LIMIT
    from studycli.paths import read_regular

    try:  # (a named pipe is not waited on; one over the limit is the check's to refuse)
        return hashlib.blake2b(read_regular(path, ATTEMPT_LIMIT), digest_size=16).digest()
    except OSError:  # (NotRegularFile and FileTooLarge too)
        return None
