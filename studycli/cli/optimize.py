"""The optimize command: fit FSRS parameters to a review history, show or save them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .app import app, stdout
from .context import open_study


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
            "--write", help="Save the fitted parameters in settings.toml (other settings kept)."
        ),
    ] = False,
    retention: Annotated[
        bool,
        typer.Option(
            "--retention/--no-retention",
            help="Also find the optimal desired_retention (about 8 s more).",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Fit the FSRS parameters to a review history, as Anki's "Optimize" does.

    Uses your own reviews (undone ones left out), or a CSV export with --from-csv. Fitting needs
    512 reviews that come a day or more after the card's previous one, and the optional
    packages of the optimizer: pip install "studycli\\[optimizer]". Without --write the parameters
    are only shown; with it they go into settings.toml and schedule every later review. `--json`
    prints {"parameters": [...], "reviews", "cards", "counted_reviews", "optimal_retention",
    "seconds", "written"}.

    Example: studycli optimize --write
    """
    from studycli.paths import config_path
    from studycli.study import optimize as core
    from studycli.study.settings import save_parameters

    if from_csv is not None:
        from studycli.study.review_log_csv import read_review_logs

        logs, source = read_review_logs(from_csv), str(from_csv)
    else:
        with open_study(ctx) as study:
            logs, source = core.study_review_logs(study), "your reviews"
    if not as_json:
        Console(stderr=True).print(
            f"fitting FSRS parameters to {len(logs)} reviews ({escape(source)}) ...",
            highlight=False,
        )
    result = core.fit(logs, retention=retention, source=source)
    settings_file = config_path()
    if write:
        save_parameters(settings_file, result.parameters)
    if as_json:
        print(
            json.dumps(
                {**result.to_dict(), "written": str(settings_file) if write else None}, indent=2
            )
        )
        return
    _render(result, from_csv, settings_file if write else None)


def _render(result, from_csv: Path | None, written: Path | None) -> None:
    from fsrs.scheduler import DEFAULT_PARAMETERS

    table = Table(title="FSRS parameters")
    for column in ("w", "fitted", "default"):
        table.add_column(column, justify="right")
    for index, (fitted, default) in enumerate(zip(result.parameters, DEFAULT_PARAMETERS)):
        changed = "bold" if round(fitted, 4) != round(default, 4) else "dim"
        table.add_row(str(index), f"[{changed}]{fitted:.4f}[/]", f"{default:.4f}")
    console = stdout()
    console.print(
        f"fitted to {result.reviews} reviews of {result.cards} cards ({result.counted} "
        f"a day or more after the card's previous review) in {result.seconds:.1f} s"
    )
    console.print(table)
    if result.optimal_retention is not None:
        console.print(
            f"optimal retention: {result.optimal_retention:g} (set desired_retention "
            "in settings.toml to use it)"
        )
    if written is not None:
        console.print(
            f"saved to {escape(str(written))}: reviews from now on are scheduled "
            "with these parameters"
        )
    else:
        again = f" --from-csv {escape(str(from_csv))}" if from_csv is not None else ""
        console.print(f"to schedule with them: studycli optimize{again} --write", soft_wrap=True)
