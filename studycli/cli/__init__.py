"""The command line: parse, call one core function, render. No SQL or scheduling here.

Each command lives in the module that `app.COMMANDS` names, and a command line imports only
its own (`app.invoked`); `help_panels.whole_app()` is the app with every command registered. Here:
the console script (`main`, then `run`: the process's start and its exit), and the command
line's words as they come, before Typer (imported by `run` only, after a `check` has started
its first worker) parses them.
"""

from __future__ import annotations

import atexit
import gc
import io
import os
import sys

# `typing` and `threading` are not imported here but where they are used: imported with this
# module, before `main` raises the collector's threshold, they made three collections at
# Python's default (0.8 M instructions of every command's start); the app imports them later.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["main"]

# The collector's youngest generation is looked at every 700 new objects by default: a
# command's start (its imports, the cards, the first card shown) makes hundreds of thousands
# that live as long as it does, and `review` spent 6% of its instructions to its first card in
# collections that found nothing (bench/instructions.py); every 50,000 here (`main`).
GC_THRESHOLD = (50_000, 10, 10)


def main() -> None:
    """The console script. A `check` starts its first worker before anything else: the
    worker's import of torch (1-2 s) is the longest step before the first check can run, and
    Typer, Rich and the app take 0.1-0.2 s to import and parse the command line
    (bench/check_all.py). A command line that fails to parse leaves it unused; it ends with
    the command."""
    gc.set_threshold(*GC_THRESHOLD)  # before any command's module is imported
    args = sys.argv[1:]
    try:
        if (
            named_command(args) == "check"
            and not asks_for_help(args)
            and "_STUDYCLI_COMPLETE" not in os.environ  # a Tab press runs nothing
        ):
            from studycli.check import pool

            pool.warm_up()
        run()
    except KeyboardInterrupt:  # a Ctrl-C while the command's modules load: no traceback
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except (BrokenPipeError, ReaderGone):  # (`--version | head`: the app's are `run`'s to end)
        ended_by_its_reader()


GLOBAL_OPTIONS = ("--content", "--db")  # the app's options that take a value
WITH_VALUE = tuple(f"{option}=" for option in GLOBAL_OPTIONS)  # (--db=FILE)
HELP = ("--help", "-h")


def named_command(args: list[str]) -> str | None:
    """The command `args` name plainly: the first word that is not a global option or its
    value (None where there is none). It may be no command at all (a typo, an option)."""
    rest = iter(args)
    for arg in rest:
        if arg in GLOBAL_OPTIONS:
            next(rest, None)
        elif not arg.startswith(WITH_VALUE):
            return arg
    return None


def asks_for_help(args: list[str]) -> bool:
    """Whether `args` ask for help, which runs nothing (before any `--`)."""
    before = args[: args.index("--")] if "--" in args else args
    return any(arg in HELP for arg in before)


def hoisted(args: list[str]) -> list[str]:
    """`args` with `--content` and `--db` given after the command's name moved before it,
    where they belong (`studycli due --db X` was "No such option: --db"). Nothing after `--`
    moves."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg in GLOBAL_OPTIONS and index + 1 < len(args):
            front += args[index : index + 2]
            index += 2
            continue
        if arg in GLOBAL_OPTIONS:  # the last word, with no value: the app's own error
            # ("Option '--db' requires an argument."), where the command's parser, which
            # has no such option, said "No such option: --db" of an option every command takes
            return front + [arg]
        (front if arg.startswith(WITH_VALUE) else rest).append(arg)
        index += 1
    return front + rest


def run() -> None:
    """The command line run, once `main` has started what it starts first: standard streams
    that cannot be used held (`_standard_streams_held`), an output that is not UTF-8 written
    in what it can show, `--version` answered before Typer reads anything, the app with the
    command named invoked, and the process left without the interpreter's teardown
    (`_leave`)."""
    from .app import invoked  # (Typer, Rich and the app)

    _standard_streams_held()
    _replace_what_the_terminal_cannot_show()
    _rich_ends_as_ls_where_its_reader_left()
    if sys.argv[1:] == ["--version"]:
        from .version import print_version

        _leave(print_version())
    # One program name however it is started (`studycli`, `python -m studycli`), so that shell
    # completion's variable is always _STUDYCLI_COMPLETE.
    args = hoisted(sys.argv[1:])
    try:
        invoked(args)(args=args, prog_name="studycli")
    except ReaderGone:  # (what the command had to undo undone: see `_reader_gone`)
        ended_by_its_reader()
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _standard_streams_held() -> None:
    """Hold a standard stream that was closed (`>&-`, `2>&-`) on /dev/null, so that no file
    the command opens takes its number: a check's process, or any code that writes to fd 1
    or 2, would write into that file (a CSV being exported, a backup). With no standard output
    the command stops at once, before it does anything: what it would write (`list`, an
    `export-reviews` to stdout) would be lost without a word; /dev/null is the way to drop it.
    A closed stdin or stderr reads as empty or drops what is written, as /dev/null does. So
    does one open only the other way (`1<file`, `2<file`: each write failed, a traceback)."""
    closed = {fd: why for fd in (0, 1, 2) if (why := _unusable(fd))}
    if closed:
        from .standard_streams import held_on_null

        held_on_null(closed)


def _unusable(fd: int) -> str | None:
    """How the standard stream `fd` cannot be used: closed, or open only for what it is not
    for (stdin for writing, stdout or stderr for reading); None where it can."""
    try:
        os.fstat(fd)
    except OSError:
        return f"closed ({('<', '>', '2>')[fd]}&-)"
    try:
        import fcntl  # (imported by start-up already: `due` and the others)
    except ImportError:  # (not POSIX: how it was opened is not read)
        return None
    mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    if fd == 0 and mode == os.O_WRONLY:
        return "open for writing only (0>file)"
    if fd and mode == os.O_RDONLY:
        return f"open for reading only ({fd}<file)"
    return None


def _replace_what_the_terminal_cannot_show() -> None:
    """On an output that is not UTF-8 (a latin-1 locale, PYTHONIOENCODING=ascii), a character
    it cannot encode is written in ASCII (`charset`: ≤ as <=, θ as theta), else as `?`: card
    text is Unicode, and one such character would otherwise end the command with a
    UnicodeEncodeError. (What the stdout console lays out is spelled before, `stdout`, and
    so is typer's help.)"""
    from .app import shows_unicode

    streams = [
        stream
        for stream in (sys.stdout, sys.stderr)
        if isinstance(stream, io.TextIOWrapper) and not shows_unicode(stream)
    ]
    if streams:
        from .charset import limit_typers_consoles, replace_what_the_streams_cannot_show

        replace_what_the_streams_cannot_show(streams)
        if sys.stdout in streams and (asks_for_help(sys.argv[1:]) or not sys.argv[1:]):
            limit_typers_consoles()


def _rich_ends_as_ls_where_its_reader_left() -> None:
    """Every Rich console, the app's and typer's (its help), ends the command whose output's
    reader has gone as `ls` does (`_reader_gone`, then `ended_by_its_reader`). Rich catches
    the BrokenPipeError itself and raises SystemExit(1) (`Console.on_broken_pipe`, made to be
    replaced); its consoles are made in several places, typer's among them, where no class of
    ours is used."""
    from rich.console import Console

    Console.on_broken_pipe = _reader_gone  # type: ignore[method-assign,assignment]


class ReaderGone(SystemExit):
    """The command's output has no reader (`_reader_gone`): `run` ends it as `ls` ends, once
    what it was doing has unwound. A SystemExit, which no `except Exception` takes for an
    error of its own to report."""


def _reader_gone(console: object) -> NoReturn:
    """(Rich's `on_broken_pipe`.) Hold standard output on /dev/null, as Rich does, and raise
    `ReaderGone` for `run` to end the command with. Not `ended_by_its_reader` at once: a
    `review` killed there, mid-session, left the terminal in its quiet mode (no echo, no
    line editing), which the session's `finally` puts back as it unwinds. (In another thread
    than the main one, which would run on unaware, the command ends at once.)"""
    import threading

    if threading.current_thread() is not threading.main_thread():
        ended_by_its_reader()
    _output_dropped()
    raise ReaderGone(1)


def _output_dropped() -> None:
    """Hold standard output (fd 1) on /dev/null: what is left to write to a reader gone is
    dropped, where each write raised BrokenPipeError again."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)


def _leave(code: str | int | None) -> NoReturn:
    """Exit as `sys.exit(code)` would, without the interpreter's teardown of every object left.

    That teardown frees nothing the system would not, and after a `check` (its content and its
    checks' records, about 190,000 objects) it took 0.2-0.4 s. What the interpreter would still
    do that matters is done first: exit handlers run (`check` tells its workers to end) and
    output is flushed. With a thread still running, it exits the usual way, which waits for it.
    """
    import threading

    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(not thread.daemon for thread in others):
        sys.exit(code)
    atexit._run_exitfuncs()
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code & 0xFF
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # what was left to write, to a reader gone (`| head`)
            ended_by_its_reader()
        except (OSError, ValueError):  # the stream closed
            status = status or 1
    os._exit(status)


def ended_by_its_reader() -> NoReturn:
    """End the command whose output's reader has gone (`studycli list | head -1`) as `ls`
    and `git` end: killed by SIGPIPE, said by no word, seen by a shell as exit status 141.

    Python ignores SIGPIPE, so the write raised BrokenPipeError instead, and Typer ended the
    command with exit status 1 (the status of a card that fails its check, of a file that
    does not load). 141 tells the command that was cut short from one that failed: under
    `set -o pipefail`, as `ls | head -1` is. ripgrep exits 0 instead, which says the command
    did all it was asked: `check | head -1` would pass whatever its cards did. What is still
    to be done is done first, as `_leave` does it: exit handlers run (`check` tells its
    workers to end); what is left to write is dropped (standard output held on /dev/null).
    """
    import contextlib
    import signal

    _output_dropped()
    atexit._run_exitfuncs()
    with contextlib.suppress(OSError, ValueError):  # (a reader gone there too: `2>&1 | head`)
        sys.stderr.flush()
    if not hasattr(signal, "SIGPIPE"):  # (not POSIX: no such signal, exit status 1)
        os._exit(1)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPIPE})  # (a mask is inherited)
    os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(128 + signal.SIGPIPE)  # (not reached: the signal ends the process)
