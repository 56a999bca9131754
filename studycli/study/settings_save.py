"""Saving fitted FSRS parameters into the learner's settings.toml (`optimize --write`): the
file's other keys, comments and layout kept, the new text written beside it and put in its
place in one step (`parameters_saved`), and the one line a learner pastes (`parameters_line`).
Reading and validating the file: settings.py.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from studycli.errors import ConfigError

from .settings import _parsed_toml, _settings_text, parse_settings


def save_parameters(path: Path, parameters: Sequence[float]) -> None:
    """Set `parameters` in the settings file at `path`, keeping every other key (and, when the
    file's text allows, its comments and layout); creates the file if missing.

    Raises:
        ConfigError: the existing file is invalid (it is left as it was), the parameters are
            invalid, or the file cannot be written.
    """
    with parameters_saved(path, parameters):
        pass


class SettingsChanged(ConfigError):
    """The settings file was changed while `parameters_saved`'s block ran, and no longer
    reads (invalid TOML, an invalid setting, a folder in its place): it is left as it is,
    without the new parameters. (A file deleted meanwhile is not this: it is written again
    with the new parameters alone, the defaults for the rest, as where there was none.)
    problem: what is wrong with it (a ConfigError's message)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path} was changed meanwhile and is left as it is: {problem}")
        self.problem = problem


@contextlib.contextmanager
def parameters_saved(path: Path, parameters: Sequence[float]) -> Iterator[None]:
    """`save_parameters` around a block: the file's new text is made and written beside it,
    on the disk, before the block runs (the file and the parameters are checked, and the
    folder proved writable, before anything is done), and takes its place in one step (a
    rename) once the block ends; where the block raises, the file is left as it was. What
    settings.toml must follow (the memory states `optimize --write` recomputes and commits)
    is done in the block, which may take minutes: the text is then made again from the file
    as it is (an edit of other settings made meanwhile, in an editor, is kept, where the text
    made before would have undone it), and written over the first before the rename.

    Raises:
        SettingsChanged: after the block, the file changed in it and no longer reads (it is
            left as it is).
        ConfigError: as `save_parameters`: before the block (it does not run), or after it,
            where the new text cannot take the file's place.
    """
    from studycli.paths import replacing

    text = _parameters_text(path, parameters)
    stage = "before"
    try:
        with replacing(path, "wb") as handle:
            _write_synced(handle, text)
            stage = "in"
            yield
            stage = "after"
            try:
                current = _parameters_text(path, parameters)
            except ConfigError as exc:  # (leaving the block removes the text beside it)
                raise SettingsChanged(path, str(exc)) from None
            if current != text:  # edited meanwhile (most often not: nothing written again)
                handle.seek(0)
                handle.truncate()
                _write_synced(handle, current)
    except OSError as exc:
        if stage == "in":  # the block's own
            raise
        raise ConfigError(f"cannot write the settings file {path}: {exc}") from None


def _write_synced(handle: Any, text: bytes) -> None:
    handle.write(text)
    handle.flush()
    os.fsync(handle.fileno())  # (what is left after the block: the rename)


def parameters_line(parameters: Sequence[float]) -> str:
    """`parameters` as a line of settings.toml, for a learner to paste: one line, each
    number as Python writes it (which TOML reads back the same)."""
    return f"parameters = [{', '.join(repr(float(p)) for p in parameters)}]"


def _parameters_text(path: Path, parameters: Sequence[float]) -> bytes:
    """The settings file at `path` with `parameters` set (see `save_parameters`).

    Raises:
        ConfigError: the existing file is invalid, or the parameters are.
    """
    import tomllib

    import tomli_w

    old_text = _settings_text(path) or ""  # (read once: the file may be changing)
    data = _parsed_toml(old_text, path)
    # refuse to rewrite a file whose other settings are invalid (the error says why); an
    # invalid `parameters` is what this call replaces
    parse_settings({key: value for key, value in data.items() if key != "parameters"}, path)
    wanted = {**data, "parameters": [float(value) for value in parameters]}
    parse_settings({"parameters": wanted["parameters"]}, path)
    text = _replace_key(old_text, "parameters", tomli_w.dumps({"parameters": wanted["parameters"]}))
    try:
        if tomllib.loads(text) != wanted:
            text = tomli_w.dumps(wanted)  # the text edit fell short: rewrite (comments are lost)
    except tomllib.TOMLDecodeError:
        text = tomli_w.dumps(wanted)
    return text.encode("utf-8")


def _replace_key(text: str, key: str, assignment: str) -> str:
    """`text` without its top-level `key = ...` lines (an array may span lines), plus
    `assignment` at the end. The caller checks the result parses to what it wants."""
    kept, depth = [], 0
    start = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for line in text.splitlines(keepends=True):
        code = line.split("#", 1)[0]
        if depth > 0 or start.match(line):
            depth = max(0, depth + code.count("[") - code.count("]"))
            continue
        kept.append(line)
    body = "".join(kept)
    if body and not body.endswith("\n"):
        body += "\n"
    return body + assignment
