"""The optimize command: fit FSRS parameters, prove them on held-out reviews, show or save."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from studycli.errors import StudyError

from .app import app, print_error, stdout
from .context import open_study, settings

if TYPE_CHECKING:
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
            "beat the defaults on held-out reviews.",
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
    defaults' on the same reviews (lower is better). --write saves the parameters only when
    they are better on both; otherwise it refuses, with the figures. `--json` prints
    {"parameters": [21 numbers], "log_loss_default", "log_loss_fitted", "rmse_bins_default",
    "rmse_bins_fitted", "accepted", "reviews", "cards", "items", "seconds", "written"}.

    Example: studycli optimize --write
    """
    from studycli.paths import config_path
    from studycli.study.api import fit_file
    from studycli.study.settings import save_parameters

    if from_csv is not None:
        source = str(from_csv)
    else:
        source = "your reviews"
    if not as_json:
        Console(stderr=True).print(
            f"fitting FSRS parameters to {escape(source)} ...", highlight=False
        )
    config = settings(parameters=False)  # the fit is new: an invalid one is what it replaces
    if from_csv is not None:
        result = fit_file(from_csv, config)
    else:
        with open_study(ctx, config=config) as study:
            result = study.fit()
    settings_file = config_path()
    saved = write and result.accepted
    if saved:
        save_parameters(settings_file, result.parameters)
    refused = None
    if write and not result.accepted:
        refused = (
            "not saved: the fitted parameters do not beat the defaults on held-out reviews "
            f"(log loss {result.log_loss_fitted:.4f} vs {result.log_loss_default:.4f}, "
            f"RMSE(bins) {result.rmse_bins_fitted:.4f} vs {result.rmse_bins_default:.4f}; "
            "lower is better): keep the defaults, and try again when you have more reviews"
        )
    if as_json:  # one JSON object, the refusal in it (not a second object after it)
        import json

        written = str(settings_file) if saved else None
        shown = {**result.to_dict(), "written": written, **({"error": refused} if refused else {})}
        print(json.dumps(shown))
        if refused:
            print_error(refused)
            raise typer.Exit(1)
        return
    _render(result, from_csv, settings_file if saved else None)
    if refused:
        raise StudyError(refused)


def _render(result: Fit, from_csv: Path | None, written: Path | None) -> None:
    from fsrs.scheduler import DEFAULT_PARAMETERS
    from rich.table import Table

    console = stdout()
    console.print(
        f"fitted to {result.reviews:,} reviews of {result.cards:,} cards ({result.items:,} "
        f"on a later day than the card's previous review) in {result.seconds:.2f} s"
    )
    parameters = Table(title="FSRS parameters", title_justify="left")
    for column in ("w", "fitted", "default"):
        parameters.add_column(column, justify="right")
    for index, (fitted, default) in enumerate(zip(result.parameters, DEFAULT_PARAMETERS)):
        changed = "bold" if round(fitted, 4) != round(default, 4) else "dim"
        parameters.add_row(str(index), f"[{changed}]{fitted:.4f}[/]", f"{default:.4f}")
    console.print(parameters)
    proof = Table(
        title="held-out reviews",
        title_justify="left",
        caption="lower is better",
        caption_justify="left",
    )
    for column in ("", "default", "fitted"):
        proof.add_column(column, justify="right" if column else "left")
    proof.add_row("log loss", f"{result.log_loss_default:.4f}", f"{result.log_loss_fitted:.4f}")
    proof.add_row("RMSE(bins)", f"{result.rmse_bins_default:.4f}", f"{result.rmse_bins_fitted:.4f}")
    console.print(proof)
    if not result.accepted:
        console.print("[yellow]the fit is not better than the defaults: keep the defaults[/]")
    elif written is not None:
        console.print(
            f"the fit is better; saved to {escape(str(written))}: reviews from now on are "
            "scheduled with these parameters"
        )
    else:
        again = f" --from-csv {escape(str(from_csv))}" if from_csv is not None else ""
        console.print(
            f"the fit is better; to schedule with it: studycli optimize{again} --write",
            soft_wrap=True,
        )
