"""`optimize`'s fit as shown: the verdict against the defaults or the learner's own parameters
(`_better`, `_refusal`), the fitted parameters' table and the held-out figures' (`_render`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from studycli.study.labels import counted

from .app import print_prose, stdout

if TYPE_CHECKING:
    from rich.table import Table

    from studycli.study.optimize import Fit


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
