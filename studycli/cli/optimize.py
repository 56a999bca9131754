"""The optimize command: fit FSRS parameters, prove them on held-out reviews, show or save.
Its parts: optimize_recompute.py (the memory states recomputed, the parameters saved) and
optimize_report.py (the fit as shown)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from studycli.errors import ConfigError, StudyError

from .app import app, options, print_error, print_prose, stderr
from .context import open_study, settings


@app.command()
def optimize(
    ctx: typer.Context,
    from_csv: Annotated[
        Path | None,
        typer.Option(
            "--from-csv",
            metavar="FILE",
            help="Fit to this CSV review log (columns card_id, review_rating, review_time, "
            "review_duration) instead of your own reviews.",
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
    """Fit the FSRS parameters to a review history, as Anki's "Optimize" does, and prove the fit on
    reviews it has not seen.

    Uses your own reviews (undone and cram ratings left out), or a CSV export with --from-csv.
    The fit is fsrs-rs's, the Rust FSRS inside Anki.

    It is measured as the FSRS benchmark does: the history is split in time, each later part
    predicted by parameters fitted to the parts before it, and the log loss and RMSE(bins) of
    those predictions are set against the defaults' on the same reviews (lower is better).

    Where settings.toml has `parameters` of your own (fitted to most of those reviews), the
    fitted parameters and yours are both measured on those reviews and the one with the lower
    RMSE(bins) is kept, as Anki keeps it.

    --write saves the fit only when it beats the defaults on both and yours there; where yours
    fit as well or better they are kept (no error), and a fit that does not beat the defaults is
    refused, with the figures. Saved parameters take over at once: every studied card's
    stability and difficulty are recomputed from its history with them, its due date kept (as
    Anki recomputes memory states when parameters change), and the log records it, so that
    `doctor`'s replay gives the same states.

    `--json` prints {"parameters": [21 numbers], "log_loss_default", "log_loss_fitted",
    "rmse_bins_default", "rmse_bins_fitted", "compared_with" ("current" or "defaults"),
    "log_loss_current", "rmse_bins_current", "log_loss_refit", "rmse_bins_refit" (the last four
    null on the defaults), "accepted", "reviews", "cards", "items", "held_out_reviews",
    "held_out_cards" (what the figures are measured on), "log_loss_resolution" (a log-loss gain
    over the defaults no larger than this is within chance on those reviews: the verdict says it
    may be no real improvement; null where they are all of one card), "seconds", "written",
    "recomputed" (cards whose state changed; null where nothing was written, or the recompute
    failed: then "error" says so)}. `--recompute --json` prints {"recomputed", "parameters"
    (null for the defaults)}.

    Example: studycli optimize --write
    """
    from studycli.paths import config_path
    from studycli.study.api_parameters import fit_file

    if recompute:
        from .optimize_recompute import _recompute_only

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
    from .optimize_report import _kept, _refusal, _render  # (the fit made)

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
        from .optimize_recompute import _not_written, _NotSaved, _NotWritten, _recompute

        try:
            recomputed = _recompute(ctx, new=result.parameters, replaced=current)
        except _NotSaved as exc:  # nothing changed: say why
            saved, refused = False, f"the parameters were not saved: {exc.why}"
            if exc.fix is not None:  # (a full disk: how to make room, as every such message)
                refused += f": {exc.fix}"
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


def _current_parameters() -> tuple[float, ...] | None:
    """The parameters the learner schedules with now: settings.toml's, or None for the
    defaults. Invalid ones count as none: no command schedules with them, and `--write`
    replaces them (the other settings were checked already)."""
    try:
        return settings().parameters
    except ConfigError:
        return None
