"""A process's output set aside while code is loaded in it (`output_aside`): fds 1 and 2 (and
sys.stdout and sys.stderr) into a pipe of its own; after, what was written there
(`Aside.written`), the processes the code started that still held that pipe (`Aside.left`),
killed (`pipe_holders`), and the threads it left running (`Aside.threads`), which no signal ends (`silence`).
A worker's output is the command's: a solution module that printed at its top level wrote to
the author's terminal, escape sequences raw, and passed `check`, its line being in no check's
output (each learner's failed check showed it as their answer's).

`zygote._prepare` loads the solution modules so; a device worker, which runs its checks in
itself, runs each check so too, its loads and its run (`into`, from `child._child`), where a
forked check has its output in a pipe of its own (`contain.enter`).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import output_keeper, output_tail, pipe_holders


@dataclass
class Aside:
    """What the code loaded under `output_aside` left, filled in as it ends."""

    written: bytes = b""  # what it wrote (as much as the pipe held: what it refused is dropped)
    left: list[str] = field(default_factory=list)  # the commands of the processes it left: killed
    threads: list[str] = field(default_factory=list)  # the names of the threads it left running


@contextlib.contextmanager
def output_aside(
    streams: bool = True, threads: bool = True, tail: output_tail.OutputTail | None = None
) -> Iterator[Aside]:
    """Fds 1 and 2 (with `streams`, sys.stdout and sys.stderr too) into a pipe of their own
    while it lasts; yields the `Aside` that says, after it, what was written there and which
    processes started meanwhile still held the pipe (killed, with what they started).

    The pipe does not block, and the streams put in sys.stdout and sys.stderr hold nothing
    back (unbuffered, onto fds 1 and 2): what a full pipe refuses is dropped, never written
    to the worker's output later. They are left open after, writing to fds 1 and 2 as they
    are then: a module may keep one (`logging.basicConfig()` at its top keeps sys.stderr),
    and one closed after its load failed each later log line ("I/O operation on closed
    file"), in every check.

    A process the code started (`subprocess.Popen` at a module's top) inherits the pipe as its
    output: left running, its lines went into the pipe as the module loaded or after (a quiet
    module taken for one that prints, or the other way round, as the race went), and it ran on
    in the worker (a device worker's, for the worker's life and after).

    A thread the code started and left running (`THREAD_GRACE` given to end) cannot be
    killed: with `threads`, it is named, and it runs on (see `silence`).

    With `tail` (a device worker's check, `into`), the pipe is read as the code runs into
    `tail`, by the worker's keeper (`output_keeper`; where it has none, a thread of this
    process), as a forked check's zygote reads its output pipe (`fork_server`): its writers
    block while it is full, as a forked check's do, rather than have what it refused dropped
    (`Aside.written` is then empty)."""
    saved = sys.stdout, sys.stderr
    before = set(threading.enumerate())
    with contextlib.suppress(OSError, ValueError, AttributeError):  # (written before: not its)
        saved[0].flush()
        saved[1].flush()
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    if tail is None:
        os.set_blocking(writer, False)
    else:  # (fewer wake-ups; and see `_Reading` on a writer that holds the GIL)
        output_tail.widen(writer)
    fds = os.dup(1), os.dup(2)
    os.dup2(writer, 1)
    os.dup2(writer, 2)
    os.close(writer)
    if streams:
        sys.stdout, sys.stderr = (_unbuffered(fd) for fd in (1, 2))
    aside = Aside()
    reading = _reading(reader, tail) if tail is not None else None
    try:
        yield aside
    finally:
        if threads:  # (what they write meanwhile: into the pipe)
            aside.threads = threads_left(before)
        if streams:
            sys.stdout, sys.stderr = saved
        # What the module printed to the worker's own streams (print(file=sys.__stdout__)),
        # held back in their buffers, into the pipe: else it was the worker's output's
        for stream in (*saved, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()  # type: ignore[union-attr]  # (None: AttributeError)
        # A thread the code started and left running writes nowhere from here (`silence`),
        # not into the worker's output (the command's) once its fds are put back
        quiet = bool(aside.threads) if threads else _started_since(before, reading)
        nowhere = os.open(os.devnull, os.O_WRONLY) if quiet else -1
        for fd, was in zip((1, 2), fds, strict=True):
            os.dup2(nowhere if quiet else was, fd)
            os.close(was)
        if quiet:
            os.close(nowhere)
        if reading is None:
            aside.written, held = _drain(reader)
        else:
            held = reading.finish()
        if held:  # (or this process kept a copy of fd 1 or 2: then no process is found)
            aside.left = pipe_holders.kill_holders(os.fstat(reader).st_ino)
        os.close(reader)


def _started_since(before: set[threading.Thread], reading: object) -> bool:
    """Whether a thread not among `before` runs now, but `reading`'s (`_Reading`)."""
    ours = getattr(reading, "_thread", None)
    return any(t not in before and t is not ours for t in threading.enumerate())


# Seconds the threads a load started have, together, to end before they are taken to be left
# running: one that does a short job (a cache warmed) is not one left behind
THREAD_GRACE = 0.2


def threads_left(before: set[threading.Thread]) -> list[str]:
    """The names of the threads running now that were not among `before`, once they had
    `THREAD_GRACE` to end."""
    import time

    started = [thread for thread in threading.enumerate() if thread not in before]
    deadline = time.monotonic() + THREAD_GRACE
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread.name for thread in started if thread.is_alive()]


def silence() -> None:
    """Fds 1 and 2 onto /dev/null for this process's life (sys.stdout and sys.stderr write
    there): a worker in which a module's load, or a device worker's check
    (`device_worker._serve_inline`), left a thread running, which no signal ends. Its lines
    went to the command's output (a zygote's sys.stdout is the command's once the load is
    over) at any time in the run, and the card whose module it was passed where it printed
    only later. The worker's own words after it (a traceback of its own) go there too."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stdout.flush()
        sys.stderr.flush()
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.dup2(nowhere, 2)
    os.close(nowhere)


def _reading(reader: int, tail: output_tail.OutputTail) -> _Reading | output_keeper.Reading:
    """What reads the pipe of `reader` into `tail` as the code runs: the keeper of this
    process where it has one that reads (a device worker's: `output_keeper`), else a thread
    of this process (`_Reading`). A keeper whose socket no longer takes the pipe (a check put
    another file over it, or closed it: its code runs in this process) is let go: each later
    check failed as it handed the pipe over ("Socket operation on non-socket"), fds 1 and 2
    left on it."""
    if output_keeper.CHANNEL is not None:
        try:
            return output_keeper.Reading(reader, tail, output_keeper.CHANNEL)
        except OSError:
            output_keeper.CHANNEL = None
    return _Reading(reader, tail)


class _Reading:
    """A thread that reads the pipe of `reader` into `tail` until `finish` (a worker without
    a keeper that reads, `_reading`).

    A writer blocks while the pipe is full, until this thread has read it; a Python writer
    lets go of the GIL as it waits, and this thread runs. A C extension that writes more than
    the pipe holds (1 MB, `output_tail.WIDE_PIPE`) in one call, holding the GIL, waits for
    it forever: its check runs until its time limit (the keeper, a process of its own, reads
    on). What the check wrote before it crashed the worker is lost with this thread."""

    def __init__(self, reader: int, tail: output_tail.OutputTail) -> None:
        self.reader, self.tail = reader, tail
        self._stop_read, self._stop = os.pipe()
        self._ended = False  # (every writer closed it)
        self._thread = threading.Thread(target=self._run, name="studycli-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        poll = select.poll()
        poll.register(self.reader, select.POLLIN)
        poll.register(self._stop_read, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poll.poll()}
            if self.reader in ready and not self.tail.read(self.reader):
                self._ended = True
                return
            if self._stop_read in ready:
                return

    def finish(self) -> bool:
        """Stop the thread, read what is left; whether a writer still holds the pipe."""
        os.write(self._stop, b".")
        self._thread.join()
        for fd in (self._stop_read, self._stop):
            os.close(fd)
        if self._ended:
            return False
        written, held = _drain(self.reader)
        self.tail.add(written)
        return held


def _drain(reader: int) -> tuple[bytes, bool]:
    """What the pipe of `reader` holds, and whether a writer still holds it open."""
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(reader, 1 << 16)
        except BlockingIOError:  # empty, and a writer still holds it
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


def _unbuffered(fd: int) -> io.TextIOWrapper:
    """A text stream onto `fd` that holds nothing back, nor closes it: each write goes to the
    file at once, and what the file refuses (a full pipe that does not block) is dropped."""
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", write_through=True)


@contextlib.contextmanager
def into(tail: output_tail.OutputTail) -> Iterator[None]:
    """Fds 1 and 2, with sys.stdout and sys.stderr, set aside while it lasts, what is written
    there read into `tail` as it comes, then a line naming the processes started meanwhile
    that still held them (killed). A device worker's check runs so, its loads and its run
    (`child._child`): it runs in the worker, whose fds 1 and 2 are the command's output, and
    only Python's streams were captured (`os.write(1, ...)` or a C extension's printf went
    to the terminal, and the card passed where the CPU's zygote fails it for printing).

    The pipe is read as the check runs (`output_aside`'s `tail`), and what is kept is its
    tail, as a forked check's: read once the check ended, a pipe of 1 MB dropped what came
    past it, and refused an `os.write` there with EAGAIN, an error of the check that no CPU
    check meets. Python's streams write into it too, so that the tail has the lines in the
    order they came."""
    if os.name != "posix":  # (a spawned check's, `pool._Spawned`: Python's streams alone)
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                yield
        finally:
            tail.add(captured.getvalue().encode("utf-8", errors="replace"))
        return
    aside = Aside()
    try:
        with output_aside(threads=False, tail=tail) as aside, _dumping_crashes(), _signals_kept():
            yield
    finally:
        if aside.left:
            count = f"{len(aside.left):,} process{'es' if len(aside.left) != 1 else ''}"
            line = f"[studycli killed {count} left running: {', '.join(aside.left)}]\n"
            tail.add(line.encode("utf-8", errors="replace"))


@contextlib.contextmanager
def _dumping_crashes() -> Iterator[None]:
    """(In `into`, while fd 2 is the check's pipe.) A crash (a segfault in native code, an
    abort) writes the stack it was in to fd 2, whose tail the keeper keeps and the card
    shows, as a forked check's does (`contain.enter`): the card said only "killed by signal
    11". Only while the pipe is fd 2: on from before it was set aside to after it was put
    back, a crash as the check's failure was described (its exception's __str__, the
    worker's own code) wrote "Fatal Python error" and the worker's stack to the command's
    terminal; the card then says only how the check died, as before.

    A dump the check set to come later (`faulthandler.dump_traceback_later`, its thread
    the worker's) is called off as it ends, as it is with a forked check's process: it wrote
    the worker's stacks onto the command's terminal at each interval, for the worker's life.
    So is a dump the check tied to a signal (`faulthandler.register`): it stayed in force in
    the worker, and a later check, or any process of the user's, that sent that signal had the
    worker's stacks written to the file the check gave (fd 2: the next check's output, or the
    command's terminal between checks); each such signal's handler is put back as it was."""
    import faulthandler

    faulthandler.enable(file=2, all_threads=False)  # (fd 2 as it is at the crash)
    try:
        yield
    finally:
        faulthandler.disable()
        faulthandler.cancel_dump_traceback_later()
        _unregister_dumps(faulthandler)


def _unregister_dumps(faulthandler: Any) -> None:
    """Undo each `faulthandler.register` made in this process: 20 us a check (the signals a
    dump may be tied to: all but those `faulthandler.enable` handles, which `unregister`
    refuses with an exception, 15 times as long)."""
    fatal = {signal.SIGSEGV, signal.SIGFPE, signal.SIGABRT, signal.SIGBUS, signal.SIGILL}
    for signum in _SETTABLE - fatal:
        with contextlib.suppress(ValueError, OSError, RuntimeError):
            faulthandler.unregister(signum)


@contextlib.contextmanager
def _signals_kept() -> Iterator[None]:
    """(In `into`: a device worker's check, which runs in the worker.) The signals' handlers
    and this thread's mask put back as they were once the check ends, as a forked check's go
    with its process: a handler it set (signal.signal) ran its code in a later check, whose
    output had what it printed, when any process of the user's sent the signal, and a signal
    it ignored or blocked (SIGTERM) stayed so for the worker's life. (60 us a check, on the
    busy 2-core box.)"""
    handlers = {number: signal.getsignal(number) for number in _SETTABLE}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        yield
    finally:
        with contextlib.suppress(ValueError, OSError):  # (not the main thread: none set)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for number, handler in handlers.items():
                if handler is not None and signal.getsignal(number) is not handler:
                    signal.signal(number, handler)


# The signals a handler can be set for (read once: signal.valid_signals() takes 66 us)
_SETTABLE = frozenset(signal.valid_signals()) - {
    getattr(signal, name) for name in ("SIGKILL", "SIGSTOP") if hasattr(signal, name)
}
