"""The learner's editor: the command `$VISUAL` or `$EDITOR` names (`editor_command`), run on an
attempt file and waited for, the Ctrl-C its own while it runs (`open_editor`)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from studycli.errors import StudyError

if TYPE_CHECKING:
    from pathlib import Path


def editor_command(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """`$VISUAL`, else `$EDITOR`, split as a shell would; None when neither is set.

    Raises:
        StudyError: the variable cannot be split (a quote left open), naming it.
    """
    env = os.environ if environ is None else environ
    name = "VISUAL" if env.get("VISUAL") else "EDITOR"
    chosen = env.get(name)
    if not chosen or not chosen.strip():
        return None
    try:
        return shlex.split(chosen)
    except ValueError as exc:  # (a traceback, and in `review` the end of the session)
        raise StudyError(
            f"${name}={chosen!r} cannot be read as a command ({str(exc).lower()}): "
            f"fix its quotes, e.g. export {name}=nano"
        ) from None


def open_editor(path: Path, command: list[str]) -> bool:
    """Run the editor on `path` and wait for it to exit; whether it returned at once with the
    file unchanged (an editor that opens a window and does not wait: `code` without --wait).

    Ctrl-C is the editor's while it runs, as git does: this process ignores it, so that an
    editor that takes Ctrl-C for itself keeps the learner's work (subprocess.run killed the
    editor on the KeyboardInterrupt, unsaved text and all).

    Raises:
        StudyError: the editor cannot be started or exits with an error.
        KeyboardInterrupt: the editor itself was ended by the Ctrl-C.
    """
    import signal
    import threading

    here = threading.current_thread() is threading.main_thread()  # (signals are its alone)
    # A Ctrl-C from the editor's start on is the editor's: a handler that does nothing while
    # it starts (a handler, unlike SIG_IGN, is not inherited: the editor gets Ctrl-C as
    # usual), then ignored. Ignored only once it had started, a Ctrl-C in between ended the
    # command and left the editor running.
    previous = signal.signal(signal.SIGINT, _nothing) if here else None
    before, started = _stamp(path), time.monotonic()
    try:
        try:
            editor = subprocess.Popen([*command, str(path)])
        except OSError as exc:
            raise StudyError(
                f"cannot start the editor {command[0]!r} ({exc}): set $EDITOR to an "
                "editor on your PATH, e.g. export EDITOR=nano"
            ) from None
        if here:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        status = editor.wait()
    finally:
        if here:
            signal.signal(signal.SIGINT, previous)
    if status == -signal.SIGINT:
        raise KeyboardInterrupt
    if status != 0:
        raise StudyError(
            f"the editor {' '.join(command)!r} exited with status {status}; your file is {path}"
        )
    return time.monotonic() - started < RETURNED_AT_ONCE and _stamp(path) == before


RETURNED_AT_ONCE = 1.0  # seconds: an editor back sooner, the file unchanged, did not wait


def _stamp(path: Path) -> tuple[int, int] | None:
    """The file's mtime and size (None where it cannot be read): whether an editor saved it."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _nothing(*_: object) -> None:
    """A signal handler that does nothing (see `open_editor`)."""
