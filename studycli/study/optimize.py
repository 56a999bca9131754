"""Fitting FSRS parameters to a review history (`studycli optimize`), with fsrs's Optimizer.

The review history comes from the learner's own store (every review not undone) or from a CSV
file (review_log_csv.py). fsrs's optimizer learns only from reviews that come on a later day
than the card's previous review (within the first 64 of each card), and below 512 of those it
silently hands back its default parameters; so `fit` refuses such a history with a StudyError
instead of reporting defaults as a fit.

The optimizer needs torch, pandas and tqdm; they are imported only inside `fit`, so that the
rest of studycli starts without them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

from fsrs import Rating, ReviewLog

from studycli.errors import StudyError

from .scheduler import fsrs_card_id
from .store import Store

if TYPE_CHECKING:
    from .api import Study

MIN_REVIEWS = 512  # fsrs's mini-batch: with fewer counted reviews it returns its defaults
_MAX_SEQUENCE = 64  # fsrs uses the first 64 reviews of each card
INSTALL_HINT = 'pip install "studycli[optimizer]"'


@dataclass(frozen=True)
class Fit:
    """The outcome of `fit`.

    parameters: the 21 fitted FSRS weights. reviews, cards: the history's size.
    counted: reviews the optimizer learned from (on a later day than the card's previous one).
    optimal_retention: the desired_retention fsrs's simulation finds cheapest per card
    remembered, or None when it was not asked for or the history lacks review durations.
    """

    parameters: tuple[float, ...]
    reviews: int
    cards: int
    counted: int
    optimal_retention: float | None
    seconds: float

    def to_dict(self) -> dict:
        return {
            "parameters": list(self.parameters),
            "reviews": self.reviews,
            "cards": self.cards,
            "counted_reviews": self.counted,
            "optimal_retention": self.optimal_retention,
            "seconds": round(self.seconds, 2),
        }


def study_review_logs(study: Study) -> list[ReviewLog]:
    """The learner's own reviews (undone ones left out) as fsrs review logs."""
    return store_review_logs(study.store)


def store_review_logs(store: Store) -> list[ReviewLog]:
    """The learner's reviews (undone ones left out), oldest first, as fsrs ReviewLogs; card ids
    map to ints with `scheduler.fsrs_card_id`, as in scheduling."""
    return [
        ReviewLog(
            card_id=fsrs_card_id(r.card_id),
            rating=Rating(r.rating),
            review_datetime=r.reviewed_at,
            review_duration=r.duration_ms,
        )
        for r in store.reviews(oldest_first=True)
    ]


def counted_reviews(logs: list[ReviewLog]) -> int:
    """How many reviews fsrs's optimizer learns from: within each card's first 64 reviews,
    those on a later day (24 h or more) than the card's previous review."""
    ordered = sorted(logs, key=lambda log: (log.card_id, log.review_datetime))
    total = 0
    for _card, group in groupby(ordered, key=lambda log: log.card_id):
        times = [log.review_datetime for log in group][:_MAX_SEQUENCE]
        total += sum((later - earlier).days > 0 for earlier, later in zip(times, times[1:]))
    return total


def fit(logs: list[ReviewLog], *, retention: bool = True, source: str = "your reviews") -> Fit:
    """Fit FSRS parameters to `logs` (any order).

    Args:
        logs: the review history.
        retention: also compute the optimal retention (about 8 s more; needs every review's
            duration, else it is left None).
        source: what the history is, for the error message ("your reviews", a file name).

    Returns:
        The fit, with its size and the time it took.

    Raises:
        StudyError: too few reviews to fit, or the optimizer's packages are not installed.
    """
    counted = counted_reviews(logs)
    if counted < MIN_REVIEWS:
        raise StudyError(
            f"{source}: {len(logs)} reviews, of which {counted} come a day or more after the "
            f"card's previous review; fitting needs at least {MIN_REVIEWS} of those: keep "
            "reviewing and try again later (the defaults serve well until then), or fit to an "
            "exported history with --from-csv FILE"
        )
    optimizer_class = _optimizer_class()
    started = time.perf_counter()
    optimizer = optimizer_class(logs)
    parameters = tuple(float(p) for p in optimizer.compute_optimal_parameters())
    best = None
    if retention and all(log.review_duration is not None for log in logs):
        best = float(optimizer.compute_optimal_retention(list(parameters)))
    return Fit(
        parameters=parameters,
        reviews=len(logs),
        cards=len({log.card_id for log in logs}),
        counted=counted,
        optimal_retention=best,
        seconds=time.perf_counter() - started,
    )


def _optimizer_class():
    # fsrs.optimizer swaps in a stub when an import fails, hiding which package is missing:
    # try them here first, so the message can name it.
    try:
        import pandas  # noqa: F401
        import torch  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError as exc:
        raise StudyError(
            f"fitting parameters needs the {exc.name} package, which is not "
            f"installed: {INSTALL_HINT}"
        ) from None
    from fsrs.optimizer import Optimizer

    return Optimizer
