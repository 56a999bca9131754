"""`optimize`'s recompute: every card's memory state recomputed with new parameters, which
are then saved in settings.toml (`--write`), or with settings.toml's own (`--recompute`); the
two kept together, or neither changed, through a Ctrl-C, SIGTERM or a file that cannot be
written (`_NotSaved`, `_NotWritten`)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from studycli.errors import ConfigError, StudyError
from studycli.study.labels import counted

from .app import exit_interrupted, options, print_prose, stdout
from .context import now, open_study, settings

if TYPE_CHECKING:
    from studycli.study.api import Study


class _NotSaved(StudyError):
    """The parameters were not saved, nor the memory states recomputed: the review database
    cannot be written, or the settings file cannot."""

    def __init__(self, cause: StudyError) -> None:
        from studycli.errors import StoreFull

        self.why = _why(cause)
        # what makes room on a full disk (busy: nothing to do but wait, said by `why`)
        self.fix = cause.fix if isinstance(cause, StoreFull) else None
        super().__init__(self.why)


class _NotWritten(StudyError):
    """The memory states were recomputed with the new parameters (and the log records them),
    and settings.toml could not be given them after: the next command says so too.
    changed: what is wrong with settings.toml, where it was changed during the recompute
    and no longer reads (None: it could not be written)."""

    def __init__(self, cause: StudyError, recomputed: int, parameters: Sequence[float]) -> None:
        from studycli.study.settings_save import SettingsChanged

        self.why, self.recomputed = _why(cause), recomputed
        self.parameters = tuple(parameters)
        self.changed = cause.problem if isinstance(cause, SettingsChanged) else None
        super().__init__(self.why)


def _recompute(
    ctx: typer.Context,
    new: Sequence[float] | None = None,
    replaced: Sequence[float] | None = None,
) -> int:
    """Recompute every card's memory state with settings.toml's parameters, or `new` ones,
    which are then saved there in place of `replaced` (`--write`); the number of cards
    changed. Nothing but the saving where no review database exists.

    New parameters are saved last: the states are recomputed and committed with a record of
    them (`Study.recompute_memory`), with their settings.toml written beside it already (to
    prove it can be), then made again from the file as it is now (the learner's edits of it
    during the recompute kept) and put in its place (a rename), which the log records
    (`Study.parameters_saved`). A database that cannot be written, a settings file that
    cannot, or a Ctrl-C during the recompute leave both as they were (`_NotSaved`); only a
    stop between the commit and the rename (SIGKILL, a power cut: SIGTERM and SIGHUP wait)
    leaves the states ahead of settings.toml, which the next command says (`_NotWritten`
    where the rename fails, or the file was changed during the recompute and no longer
    reads: it is left as the learner made it).

    Raises:
        StudyError: the database cannot be written (busy, read-only, damaged).
    """
    from studycli.paths import config_path, database_path
    from studycli.study.settings_save import save_parameters

    if not database_path(options(ctx).db).exists():
        if new is not None:
            _saved(lambda: save_parameters(config_path(), new))
        return 0
    # (the parameters in the file are what is replaced: invalid ones do not stop it)
    config = settings(parameters=new is None)
    try:
        study = open_study(ctx, write=True, config=config)
    except StudyError as exc:
        if new is None:
            raise
        raise _NotSaved(exc) from exc
    with study:
        if new is None:
            try:
                return study.recompute_memory(now())
            except KeyboardInterrupt:  # (one transaction: rolled back whole)
                exit_interrupted(_interrupted(None))
        try:
            study.wait_to_write()  # (another program may still lock it after: then the
        except StudyError as exc:  # recompute fails, and nothing is saved)
            raise _NotSaved(exc) from exc
        study.settings = config._replace(parameters=tuple(new))
        with _termination_held(True):  # (not while waiting: nothing done yet)
            return _recompute_and_save(study, config_path(), replaced)


def _recompute_and_save(study: Study, settings_file: Path, replaced: Sequence[float] | None) -> int:
    """`study.recompute_memory` with its settings' new parameters, then those saved in
    `settings_file` (see `_recompute`)."""
    from studycli.study.settings_save import parameters_saved

    parameters = study.settings.parameters
    assert parameters is not None
    changed = None
    try:
        with parameters_saved(settings_file, parameters):
            try:
                changed = study.recompute_memory(now(), saving=True, replaced=replaced)
            except StudyError as exc:
                raise _NotSaved(exc) from exc
    except ConfigError as exc:
        if changed is None:
            raise _NotSaved(exc) from exc
        raise _NotWritten(exc, changed, parameters) from exc
    except KeyboardInterrupt:  # (the recompute: one transaction, rolled back whole)
        exit_interrupted(_interrupted(None if changed is None else settings_file))
    study.parameters_saved(now())  # (a hand edit after this is told as one)
    return changed


@contextlib.contextmanager
def _termination_held(hold: bool) -> Iterator[None]:
    """With `hold`, SIGTERM and SIGHUP (the terminal closed) wait until the block is done:
    between committing the recomputed states and saving the parameters they stand on, one
    ended the command with the two apart (the next command says so, but a stop that can wait
    is better not taken there; Ctrl-C during the recompute rolls it back). A handler notes
    them (any thread may receive a signal, and only one that no thread blocks ends the
    process at once); each is raised again once the block is done, where it ends the command
    as it would have."""
    if not hold:
        yield
        return
    import signal

    numbers = [n for n in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if n is not None]
    came: list[int] = []
    before = {number: signal.signal(number, lambda n, _: came.append(n)) for number in numbers}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
        if came:  # (a closed terminal reads nothing: the line may go nowhere)
            with contextlib.suppress(OSError, ValueError):
                print(
                    f"{signal.Signals(came[0]).name}: ending once the parameters and the memory "
                    "states agree (saved and recomputed together, or neither)",
                    file=sys.stderr,
                    flush=True,
                )
        for number in dict.fromkeys(came):
            signal.raise_signal(number)


def _interrupted(saving: Path | None) -> str:
    """What a Ctrl-C left: nothing changed; or, with `saving`, the memory states recomputed
    with the new parameters, and that file perhaps without them (the next command says so)."""
    if saving is None:
        return "interrupted: the parameters and the memory states are as they were"
    return (
        "interrupted: the cards' memory states were recomputed with the new parameters; where "
        f"they did not reach {escape(str(saving))}, the next command says so"
    )


def _saved(save: Callable[[], None]) -> None:
    """`save()`; a settings file it cannot write (a ConfigError) means nothing was saved."""
    try:
        save()
    except ConfigError as exc:
        raise _NotSaved(exc) from exc


def _not_written(settings_file: Path, exc: _NotWritten) -> str:
    """The error where the memory states were recomputed with the new parameters and
    settings.toml could not be given them: what to do, and the line to paste (last, whole)."""
    from studycli.study.settings_save import parameters_line

    line = parameters_line(exc.parameters)
    # a hand edit during the recompute, not overwritten (what is wrong names the file)
    if exc.changed is not None:
        return (
            "the cards' memory states were recomputed with the new parameters, but the "
            "settings file was changed while they were and no longer reads, so it is left as "
            f"you made it, without them: {exc.changed}. Fix it, then put this line in it in "
            "place of any `parameters` line (or run `studycli optimize --recompute` to go back "
            f"to the parameters there): {line}"
        )
    return (
        f"the cards' memory states were recomputed with the new parameters, but they could "
        f"not be saved in {settings_file} ({exc.why}): fix that and run `studycli optimize "
        "--write` again, or `studycli optimize --recompute` to go back to the parameters "
        f"there; or put this line in it in place of any `parameters` line: {line}"
    )


def _why(exc: StudyError) -> str:
    """What stopped the database (busy, a full disk: its reason alone, not the message's "run
    the command again"), or the error's message."""
    from studycli.errors import StoreUnavailable

    return exc.why if isinstance(exc, StoreUnavailable) else str(exc)


def _recompute_only(ctx: typer.Context, as_json: bool) -> None:
    """`optimize --recompute`: the memory states with the parameters of settings.toml."""
    parameters = settings().parameters  # (invalid ones: their ConfigError, with the fix)
    changed = _recompute(ctx)
    if as_json:
        import json

        shown = list(parameters) if parameters else None
        print(json.dumps({"recomputed": changed, "parameters": shown}))
        return
    whose = "your parameters (settings.toml)" if parameters else "the default parameters"
    print_prose(
        stdout(),
        f"memory states recomputed with {whose}: {counted(changed, 'card')} changed, due dates kept",
    )
