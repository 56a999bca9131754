"""Fitting FSRS parameters to a review history (`studycli optimize`), and proving the fit.

The fit is fsrs-rs's (the Rust FSRS inside Anki, through `fsrs-rs-python`). A fit is only
worth using if it predicts the learner's memory better than the defaults do on reviews it has
not seen, so `fit` also runs the FSRS benchmark's time-series split: the history, in time
order, is cut into six parts; for each of the last five, parameters are fitted to the parts
before it and predict it. The log loss and RMSE(bins) of those held-out predictions are set
against the defaults' predictions of the same reviews (computed the same way as fsrs-rs's
`evaluate_with_time_series_splits`, whose fitted figures these equal). A learner who
schedules with parameters of their own (settings.toml's `parameters`) is on those, not on the
defaults: `Fit.against` measures them and the fit's own parameters on the same reviews (both
fitted to most of them), and keeps the lower RMSE(bins), as Anki keeps the better of its old
and new parameters. The fit is accepted only when it beats the defaults held out on both
figures, and the learner's own parameters, if any, there. How far the held-out reviews can
be trusted is measured too: the log-loss gain over the defaults that chance alone could give
on that many reviews of that many cards (`Fit.log_loss_resolution`), so that a gain smaller
than it is not told as an improvement.

A history is turned into fsrs items as Anki does: per card, its reviews in time order, each
with the number of study days since the previous one (days roll over at `day_starts_at`); one
item per review that comes on a later study day than the card's previous one.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from studycli.errors import StudyError

from .study_days import study_date

MIN_ITEMS = 64  # fewer than this and fsrs-rs hands back its defaults, or noise
FOLDS = 5  # the FSRS benchmark's time-series split: 6 parts, 5 held out in turn
_EPSILON = 1e-7  # predictions are clamped away from 0 and 1 for the log loss

# One item: the card's reviews up to the one predicted, as (rating, study days since the
# previous review) pairs; the last pair is the predicted review.
Item = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Fit:
    """A fit and its proof. parameters: the 21 weights fitted to the whole history.
    reviews, cards: the history's size. items: reviews fsrs learns from (a later study day
    than the card's previous review). The figures are on held-out reviews: the defaults',
    the fit's (held out from its folds) and, after `against`, those of the learner's current
    parameters (`current_parameters`; None: the learner is on the defaults) and of the fit's
    `parameters` (`*_refit`), both in sample; `accepted` says what they decide.
    held_out: those reviews' items, which `against` measures on; held_out_cards: how many
    cards they are reviews of. log_loss_resolution: the smallest log-loss gain over the
    defaults on them that is more than chance (`gain_resolution`; infinity where they are of
    one card)."""

    parameters: tuple[float, ...]
    reviews: int
    cards: int
    items: int
    log_loss_default: float
    log_loss_fitted: float
    rmse_bins_default: float
    rmse_bins_fitted: float
    held_out_cards: int
    log_loss_resolution: float
    seconds: float
    current_parameters: tuple[float, ...] | None = None
    log_loss_current: float | None = None
    rmse_bins_current: float | None = None
    log_loss_refit: float | None = None  # the fit's `parameters` on the held-out reviews
    rmse_bins_refit: float | None = None
    held_out: tuple[Item, ...] = field(default=(), repr=False, compare=False)

    @property
    def compared_with(self) -> str:
        """What the fit is judged against: "current" (the learner's own) or "defaults"."""
        return "defaults" if self.current_parameters is None else "current"

    @property
    def held_out_reviews(self) -> int:
        """How many reviews the held-out figures are measured on."""
        return len(self.held_out)

    @property
    def gain_resolved(self) -> bool:
        """Whether the fit's held-out log-loss gain over the defaults is more than chance
        could give on these reviews. Only words hang on it, not `accepted`."""
        return self.log_loss_default - self.log_loss_fitted > self.log_loss_resolution

    @property
    def generalises(self) -> bool:
        """Whether the fit predicts held-out reviews better than the defaults, on both."""
        return (
            self.log_loss_fitted < self.log_loss_default
            and self.rmse_bins_fitted < self.rmse_bins_default
        )

    @property
    def accepted(self) -> bool:
        """The fit generalises, and, where the learner has parameters of their own, its
        `parameters` have a lower RMSE(bins) than theirs on the same reviews: both measured
        there, as Anki keeps whichever of the old and the new parameters does (the old ones
        were fitted to most of those reviews; set against the fit held out from them, a refit
        was refused almost always). Log loss is left out there, as Anki leaves it out: it
        moves with retention, and the fit minimises it, not RMSE."""
        if self.rmse_bins_refit is None or self.rmse_bins_current is None:
            return self.generalises
        return self.generalises and self.rmse_bins_refit < self.rmse_bins_current

    def against(self, current: Sequence[float] | None) -> Fit:
        """This fit judged against the parameters the learner schedules with now: those and
        the fit's `parameters` measured on the same held-out reviews as the defaults.

        Args:
            current: the learner's parameters (21 weights); None: they are on the defaults.

        Returns:
            A new Fit with both figures of each (or with neither, for None).
        """
        if current is None:
            return replace(
                self,
                current_parameters=None,
                log_loss_current=None,
                rmse_bins_current=None,
                log_loss_refit=None,
                rmse_bins_refit=None,
            )
        log_loss, rmse_bins = evaluate(predict(current, self.held_out), self.held_out)
        refit = evaluate(predict(self.parameters, self.held_out), self.held_out)
        return replace(
            self,
            current_parameters=tuple(current),
            log_loss_current=log_loss,
            rmse_bins_current=rmse_bins,
            log_loss_refit=refit[0],
            rmse_bins_refit=refit[1],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameters": list(self.parameters),
            "log_loss_default": self.log_loss_default,
            "log_loss_fitted": self.log_loss_fitted,
            "rmse_bins_default": self.rmse_bins_default,
            "rmse_bins_fitted": self.rmse_bins_fitted,
            "compared_with": self.compared_with,
            "log_loss_current": self.log_loss_current,
            "rmse_bins_current": self.rmse_bins_current,
            "log_loss_refit": self.log_loss_refit,
            "rmse_bins_refit": self.rmse_bins_refit,
            "accepted": self.accepted,
            "reviews": self.reviews,
            "cards": self.cards,
            "items": self.items,
            "held_out_reviews": self.held_out_reviews,
            "held_out_cards": self.held_out_cards,
            # (null where chance cannot be told: JSON has no infinity)
            "log_loss_resolution": (
                self.log_loss_resolution if math.isfinite(self.log_loss_resolution) else None
            ),
            "seconds": round(self.seconds, 3),
        }


def fsrs_items(
    history: Iterable[tuple[str, int, datetime]], day_starts_at: int, tz: tzinfo | None = None
) -> tuple[list[Item], int, int, list[str]]:
    """The fsrs items of a review history, in the time order of the review each predicts.

    Args:
        history: (card id, rating 1-4, review time) per review, any order.
        day_starts_at: the local hour a study day begins.
        tz: the learner's time zone (None: the system's).

    Returns:
        (items, reviews, cards, item_cards): item_cards[i] is the id of items[i]'s card.
    """
    by_card: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    reviews = 0
    for card_id, rating, moment in history:
        by_card[card_id].append((moment, rating))
        reviews += 1
    timed: list[tuple[datetime, str, Item]] = []
    for card_id, entries in by_card.items():
        entries.sort()
        pairs: list[tuple[int, int]] = []
        previous = None
        for moment, rating in entries:
            day = study_date(moment, day_starts_at, tz)
            pairs.append((rating, 0 if previous is None else (day - previous).days))
            if pairs[-1][1] > 0:
                timed.append((moment, card_id, tuple(pairs)))
            previous = day
    # ties by card id: the history's order among reviews of one moment is its rows' (an import
    # numbers them afresh), and the items, cut into parts in this order, decide the fit
    timed.sort(key=lambda entry: entry[:2])
    return [item for _, _, item in timed], reviews, len(by_card), [card for _, card, _ in timed]


YOURS = "your reviews"  # `fit`'s history when it is the review store's, not a file


def fit(
    items: Sequence[Item],
    *,
    reviews: int,
    cards: int,
    item_cards: Sequence[str],
    source: str = YOURS,
) -> Fit:
    """Fit FSRS parameters to `items` (time order) and measure them on held-out reviews.

    Args:
        items, item_cards: from `fsrs_items`.
        reviews, cards: the history's size, for the report.
        source: what the history is, for the error message ("your reviews", a file name).

    Returns:
        The fit, judged against the defaults: `against` judges it against a learner's own.

    Raises:
        StudyError: too few items to fit.
    """
    if len(items) < MIN_ITEMS:
        raise StudyError(
            f"{source}: {reviews:,} review{'' if reviews == 1 else 's'}, of which {len(items)} "
            f"{'comes' if len(items) == 1 else 'come'} on a later day than the "
            f"card's previous review; fitting needs at least {MIN_ITEMS} of those: "
            + (
                "keep reviewing and try again later (the defaults serve well until then), or "
                "fit to a longer history with --from-csv FILE"
                if source == YOURS
                else "fit to a longer review log (the defaults serve well until then)"
            )
        )
    import fsrs_rs_python as rs

    started = time.perf_counter()
    default = list(rs.DEFAULT_PARAMETERS)
    held_out: list[Item] = []
    fitted_predictions: list[float] = []
    for train, test in time_series_split(items):
        held_out += test
        fitted_predictions += predict(_compute(train), test)
    parameters = _within_fsrs_bounds(_compute(items))
    log_loss_fitted, rmse_fitted = evaluate(fitted_predictions, held_out)
    default_predictions = predict(default, held_out)
    log_loss_default, rmse_default = evaluate(default_predictions, held_out)
    held_out_cards = item_cards[len(items) - len(held_out) :]  # (the split's later parts)
    return Fit(
        parameters=parameters,
        reviews=reviews,
        cards=cards,
        items=len(items),
        log_loss_default=log_loss_default,
        log_loss_fitted=log_loss_fitted,
        rmse_bins_default=rmse_default,
        rmse_bins_fitted=rmse_fitted,
        held_out_cards=len(set(held_out_cards)),
        log_loss_resolution=gain_resolution(
            default_predictions, fitted_predictions, held_out, held_out_cards
        ),
        seconds=time.perf_counter() - started,
        held_out=tuple(held_out),
    )


def time_series_split(items: Sequence[Item]) -> list[tuple[Sequence[Item], Sequence[Item]]]:
    """fsrs-rs's TimeSeriesSplit: six equal parts (the last takes the remainder); fold i
    trains on parts 0..i and tests on part i + 1."""
    size = len(items) // (FOLDS + 1)
    return [
        (items[: (i + 1) * size], items[(i + 1) * size : (i + 2) * size if i < FOLDS - 1 else None])
        for i in range(FOLDS)
    ]


def predict(parameters: Sequence[float], items: Sequence[Item]) -> list[float]:
    """The recall probability `parameters` give each item's last review, from the reviews
    before it (FSRS-6's forgetting curve, decay w[20])."""
    import fsrs_rs_python as rs

    histories = [rs.FSRSItem([rs.FSRSReview(r, d) for r, d in item[:-1]]) for item in items]
    states = rs.FSRS(list(parameters)).memory_state_batch(histories, [None] * len(histories))
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    return [
        (1 + factor * item[-1][1] / state.stability) ** decay for item, state in zip(items, states)
    ]


def evaluate(predictions: Sequence[float], items: Sequence[Item]) -> tuple[float, float]:
    """(log loss, RMSE(bins)) of `predictions` against whether each item's last review was
    recalled (rating above Again); bins as fsrs-rs's (interval, review count, lapses)."""
    loss = 0.0
    bins: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for p, item in zip(predictions, items):
        recalled = 1.0 if item[-1][0] > 1 else 0.0
        loss += _log_loss(p, item)
        cell = bins[_bin(item)]
        cell[0] += p
        cell[1] += recalled
        cell[2] += 1
    squares = sum((pred - real) ** 2 / count for pred, real, count in bins.values())
    return loss / len(items), math.sqrt(squares / len(items))


def gain_resolution(
    before: Sequence[float],
    after: Sequence[float],
    items: Sequence[Item],
    item_cards: Sequence[str],
) -> float:
    """The smallest log-loss gain of the predictions `after` over `before` on `items` that is
    more than chance: twice the standard error of the mean gain per review (about 95%
    confidence). A gain of 0.0007 on a month of reviews was told as "better than the
    defaults", where chance alone could give more than that. The error is summed card by card (a
    cluster-robust standard error): a card's reviews are not independent, and a fit that
    happens to suit one card gains on all of them. It is scaled by sqrt(G / (G - 1)) for G
    cards, the usual small-sample correction (with one review a card, the textbook standard
    error): without it, few cards understate the margin.

    Args:
        before, after: predictions of each item's last review.
        items, item_cards: the items predicted and the id of each one's card.

    Returns:
        The margin; infinity where the items are of one card (nothing tells chance apart).
    """
    gains = [_log_loss(b, item) - _log_loss(a, item) for b, a, item in zip(before, after, items)]
    mean = sum(gains) / len(gains)
    by_card: dict[str, float] = defaultdict(float)
    for gain, card in zip(gains, item_cards):
        by_card[card] += gain - mean
    clusters = len(by_card)
    if clusters < 2:
        return math.inf
    spread = math.sqrt(sum(total**2 for total in by_card.values()) * clusters / (clusters - 1))
    return 2 * spread / len(gains)


def _log_loss(p: float, item: Item) -> float:
    """The log loss of the prediction `p` of `item`'s last review (recalled: above Again)."""
    q = min(max(p, _EPSILON), 1 - _EPSILON)
    return -math.log(q) if item[-1][0] > 1 else -math.log(1 - q)


def _bin(item: Item) -> tuple[int, int, int]:
    """fsrs-rs's FSRSItem::r_matrix_index."""
    delta = item[-1][1]
    delta_bin = round(2.48 * 3.62 ** math.floor(math.log(delta, 3.62)) * 100)
    length = sum(1 for _, d in item if d > 0) + 1
    length_bin = round(1.99 * 1.89 ** math.floor(math.log(length, 1.89)))
    lapses = sum(1 for r, d in item[:-1] if r == 1 and d > 0)
    if lapses == 0:
        return delta_bin, length_bin, 0
    return delta_bin, length_bin, round(1.65 * 1.73 ** math.floor(math.log(lapses, 1.73)))


def _compute(items: Sequence[Item]) -> list[float]:
    import fsrs_rs_python as rs

    batch = [rs.FSRSItem([rs.FSRSReview(r, d) for r, d in item]) for item in items]
    return [float(p) for p in rs.FSRS(list(rs.DEFAULT_PARAMETERS)).compute_parameters(batch)]


def _within_fsrs_bounds(parameters: list[float]) -> tuple[float, ...]:
    """fsrs-rs's fit, clamped into the `fsrs` package's bounds (the scheduler refuses values
    outside them; the two libraries' bounds differ in the last digits)."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS as LOW
    from fsrs.scheduler import UPPER_BOUNDS_PARAMETERS as HIGH

    return tuple(min(max(p, low), high) for p, low, high in zip(parameters, LOW, HIGH))
