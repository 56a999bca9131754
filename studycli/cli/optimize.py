"""The optimize command: fit FSRS parameters, prove them on held-out reviews, show or save."""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from studycli.errors import ConfigError, StudyError
from studycli.study.labels import counted

from .app import app, exit_interrupted, options, print_error, print_prose, stderr, stdout
from .context import now, open_study, settings

if TYPE_CHECKING:
    from rich.table import Table

    from studycli.study.api import Study
    from studycli.study.optimize import Fit


@app.command()
def optimize(
    ctx: typer.Context,
    from_csv: Annotated[
        Path | None,
        typer.Option(
            "--from-csv",
            metavar="FILE",
            help="Fit to this CSV review log (card_id,review_rating,review_time,review_duration) "
            "instead of your own reviews.",
        ),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Save the fitted parameters in settings.toml (other settings kept), if they "
            "beat the defaults on held-out reviews and, where settings.toml has parameters of "
            "your own, have a lower RMSE(bins) than those on the same reviews.",
        ),
    ] = False,
    recompute: Annotated[
        bool,
        typer.Option(
            "--recompute",
            help="Fit nothing: recompute every card's memory state with the parameters in "
            "settings.toml (what --write does after saving them), e.g. after editing them.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Fit the FSRS parameters to a review history, as Anki's "Optimize" does, and prove the
    fit on reviews it has not seen.

    Uses your own reviews (undone and cram ratings left out), or a CSV export with --from-csv.
    The fit is fsrs-rs's, the Rust FSRS inside Anki. It is measured as the FSRS benchmark
    does: the history is split in time, each later part predicted by parameters fitted to the
    parts before it, and the log loss and RMSE(bins) of those predictions are set against the
    defaults' on the same reviews (lower is better). Where settings.toml has `parameters` of
    your own (fitted to most of those reviews), the fitted parameters and yours are both
    measured on those reviews and the one with the lower RMSE(bins) is kept, as Anki keeps it.
    --write saves the fit only when it beats the defaults on both and yours there; where yours
    fit as well or better they are kept (no error), and a fit that does not beat the defaults
    is refused, with the figures. Saved parameters take over at once: every studied card's
    stability and difficulty are recomputed from its history with them, its due date kept (as
    Anki recomputes memory states when parameters change), and the log records it, so that
    `doctor`'s replay gives the same states. `--json` prints {"parameters": [21 numbers],
    "log_loss_default", "log_loss_fitted", "rmse_bins_default", "rmse_bins_fitted",
    "compared_with" ("current" or "defaults"), "log_loss_current", "rmse_bins_current",
    "log_loss_refit", "rmse_bins_refit" (the last four null on the defaults), "accepted",
    "reviews", "cards", "items", "held_out_reviews", "held_out_cards" (what the figures are
    measured on), "log_loss_resolution" (a log-loss gain over the defaults no larger than this
    is within chance on those reviews: the verdict says it may be no real improvement; null
    where they are all of one card),
    "seconds", "written", "recomputed" (cards whose state changed; null where nothing was
    written, or the recompute failed: then "error" says so)}.
    `--recompute --json` prints {"recomputed", "parameters" (null for the defaults)}.

    Example: studycli optimize --write
    """
    from studycli.paths import config_path
    from studycli.study.api_parameters import fit_file

    if recompute:
        if write or from_csv is not None:
            raise typer.BadParameter(  # (a usage error: exit 2)
                "it fits nothing: give it alone (or use --write instead)",
                param_hint="--recompute",
            )
        _recompute_only(ctx, as_json)
        return

    if from_csv is not None:
        source = str(from_csv)
    else:
        source = "your reviews"
    if not as_json:  # ("..." on the path: alone, it was wrapped onto a line of its own)
        print_prose(
            stderr(),
            f"fitting FSRS parameters to {escape(source)}...",
            highlight=False,
        )
    config = settings(parameters=False)  # the fit is new: an invalid one is what it replaces
    current = _current_parameters()
    if from_csv is not None:
        result = fit_file(from_csv, config, renames=options(ctx).renames())
    else:
        with open_study(ctx, config=config) as study:
            result = study.fit()
    result = result.against(current)
    settings_file = config_path()
    saved = write and result.accepted
    recomputed = None
    # --write keeping the learner's own parameters, which fit the reviews as well as the new
    # fit or better, is no failure (Anki: "parameters currently appear to be optimal"): a
    # weekly `optimize --write` exited 1 each week nothing had changed
    refused = (
        _refusal(result, from_csv) if write and not result.accepted and not _kept(result) else None
    )
    if saved:
        try:
            recomputed = _recompute(ctx, new=result.parameters, replaced=current)
        except _NotSaved as exc:  # nothing changed: say why
            saved, refused = False, f"the parameters were not saved: {exc.why}"
        except _NotWritten as exc:  # the states are the new parameters': say so, and how on
            saved, recomputed = False, exc.recomputed
            refused = _not_written(settings_file, exc)
    if as_json:  # one JSON object, the refusal in it (not a second object after it)
        import json

        written = str(settings_file) if saved else None
        shown = {
            **result.to_dict(),
            "written": written,
            "recomputed": recomputed,
            **({"error": refused} if refused else {}),
        }
        print(json.dumps(shown))
        if refused:
            print_error(refused)
            raise typer.Exit(1)
        return
    _render(result, from_csv, settings_file, saved, recomputed)
    if refused:
        raise StudyError(refused)


class _NotSaved(StudyError):
    """The parameters were not saved, nor the memory states recomputed: the review database
    cannot be written, or the settings file cannot."""

    def __init__(self, cause: StudyError) -> None:
        self.why = _why(cause)
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


def _current_parameters() -> tuple[float, ...] | None:
    """The parameters the learner schedules with now: settings.toml's, or None for the
    defaults. Invalid ones count as none: no command schedules with them, and `--write`
    replaces them (the other settings were checked already)."""
    try:
        return settings().parameters
    except ConfigError:
        return None


def _rival(result: Fit, settings_file: Path) -> str:
    """The parameters the fit is judged against, in words."""
    if result.compared_with == "defaults":
        return "the defaults"
    return f"your current parameters (`parameters` in {settings_file})"


def _kept(result: Fit) -> bool:
    """Whether the fit was not taken only because the learner's own parameters fit the same
    held-out reviews as well or better (it beats the defaults)."""
    return not result.accepted and result.generalises and result.compared_with == "current"


def _held_out(result: Fit) -> str:
    """What the held-out figures are measured on, in words: how much they can be trusted."""
    reviews = counted(result.held_out_reviews, "held-out review")
    return f"{reviews} of {counted(result.held_out_cards, 'card')}"


def _better(result: Fit, rival: str) -> str:
    """The verdict on a fit that is taken, with what it was measured on. A log-loss gain over
    the defaults that chance could give on that many reviews is said to be one: "better than
    the defaults" on a gain of 0.0007 told the learner of an improvement nobody could see.
    The test is one-sided (the gain must exceed the margin), so the margin is not written as
    "±", which reads as an interval either side. (Against the learner's own parameters
    RMSE(bins) decides, measured in sample: no margin of chance is known for it.)"""
    said = f"the fit is better than {rival} on {_held_out(result)}"
    if result.compared_with == "current":
        return said
    gain, chance = result.log_loss_default - result.log_loss_fitted, result.log_loss_resolution
    if result.gain_resolved:
        return (
            f"{said} (log-loss gain {gain:.4f}, more than the {chance:.4f} chance could give there)"
        )
    if math.isinf(chance):
        within = "cannot be told from chance on one card"
    else:
        within = f"is within the {chance:.4f} that chance alone could give on that many"
    return (
        f"its log-loss gain over {rival}, {gain:.4f} on {_held_out(result)}, {within}: it may "
        "be no real improvement"
    )


def _measured_on(from_csv: Path | None) -> str:
    return "your reviews" if from_csv is None else f"the reviews of {from_csv}"


def _refusal(result: Fit, from_csv: Path | None) -> str:
    """Why --write saved nothing (the fit does not beat the defaults), and what to do. A fit
    to a file is the file's reviews, not the learner's: more reviews of their own would not
    change it, a longer log would."""
    kept = "yours are kept" if result.compared_with == "current" else "keep the defaults"
    then = (
        "try again when you have more reviews"
        if from_csv is None
        else "try again with a longer review log"
    )
    return (
        f"not saved: the fitted parameters do not beat the defaults on {_held_out(result)} "
        f"(log loss {result.log_loss_fitted:.4f} vs {result.log_loss_default:.4f}, "
        f"RMSE(bins) {result.rmse_bins_fitted:.4f} vs {result.rmse_bins_default:.4f}; "
        f"lower is better): {kept}, and {then}"
    )


def _render(
    result: Fit, from_csv: Path | None, settings_file: Path, written: bool, recomputed: int | None
) -> None:
    console = stdout()
    print_prose(
        console,
        f"fitted to {result.reviews:,} reviews of {result.cards:,} cards ({result.items:,} "
        f"on a later day than the card's previous review) in {result.seconds:.2f} s",
    )
    console.print(_parameter_table(result))
    console.print(_proof_table(result))
    rival = escape(_rival(result, settings_file))
    if _kept(result):
        print_prose(
            console,
            f"the fit is not better than {rival} on {escape(_measured_on(from_csv))} "
            f"(RMSE(bins) {result.rmse_bins_refit:.4f} vs {result.rmse_bins_current:.4f} on "
            f"{_held_out(result)}, both measured there, as Anki compares them; lower is "
            "better): yours are kept, as they fit these reviews at least as well",
        )
    elif not result.accepted:  # (not `_kept`: the fit does not beat the defaults)
        kept = "yours are kept" if result.compared_with == "current" else "keep the defaults"
        print_prose(
            console,
            f"[yellow]the fit is not better than the defaults on {_held_out(result)}: {kept}[/]",
        )
    else:  # the verdict, then what became of the fit
        print_prose(console, _better(result, rival))
        if written and recomputed is None:
            print_prose(
                console,
                f"written to {escape(str(settings_file))}; reviews from now on are scheduled "
                "with it",
            )
        elif written:
            print_prose(
                console,
                f"written to {escape(str(settings_file))}; every card's memory state "
                f"recomputed with it ({recomputed:,} changed, due dates kept, as Anki does), "
                "and reviews from now on are scheduled with it",
            )
        else:
            again = f" --from-csv {escape(str(from_csv))}" if from_csv is not None else ""
            anyway = "" if result.compared_with == "current" or result.gain_resolved else " anyway"
            console.print(  # (unwrapped: a command to paste, copied in one piece)
                f"to schedule with it{anyway}: studycli optimize{again} --write", soft_wrap=True
            )


def _parameter_table(result: Fit) -> Table:
    """The fitted weights beside the learner's current ones (if any) and the defaults; bold
    where the fit differs from what it would replace."""
    from fsrs.scheduler import DEFAULT_PARAMETERS
    from rich.table import Table

    current = result.current_parameters
    table = Table(title="FSRS parameters", title_justify="left")
    for column in ("w", "fitted", *(("current",) if current else ()), "default"):
        table.add_column(column, justify="right")
    for index, (fitted, default) in enumerate(zip(result.parameters, DEFAULT_PARAMETERS)):
        replaced = current[index] if current else default
        changed = "bold" if round(fitted, 4) != round(replaced, 4) else "dim"
        mine = (f"{current[index]:.4f}",) if current else ()
        table.add_row(str(index), f"[{changed}]{fitted:.4f}[/]", *mine, f"{default:.4f}")
    return table


def _proof_table(result: Fit) -> Table:
    """The held-out figures: the defaults' and the fit's; where the learner has parameters of
    their own, theirs and the fit's parameters' on the same reviews (both in sample)."""
    from rich.table import Table

    table = Table(
        title="held-out reviews",
        title_justify="left",
        caption="lower is better",
        caption_justify="left",
    )
    mine = result.compared_with == "current"
    if mine:  # the learner's were fitted to most of these reviews: the fit, too, in sample
        table.caption = "lower is better; *: both fitted to these reviews, as Anki compares them"
    for column in ("", "default", "fitted", *(("current*", "fitted*") if mine else ())):
        table.add_column(column, justify="right" if column else "left")
    for name, default, fitted, own, refit in (
        ("log loss", result.log_loss_default, result.log_loss_fitted, result.log_loss_current,
         result.log_loss_refit),
        ("RMSE(bins)", result.rmse_bins_default, result.rmse_bins_fitted,
         result.rmse_bins_current, result.rmse_bins_refit),
    ):  # fmt: skip
        figures = (default, fitted, own, refit) if mine else (default, fitted)
        table.add_row(name, *(f"{figure:.4f}" for figure in figures))
    return table
