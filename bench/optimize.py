"""How long `studycli optimize` takes on the full FSRS sample review log (12,580 reviews).

Times the three stages separately: reading the CSV, fitting the parameters (fsrs's Optimizer,
5 epochs of Adam on torch, CPU), and the optimal-retention simulation; prints reviews/second for
the first two (the simulation's cost does not depend on the history's size).

    python bench/optimize.py [--csv FILE] [--no-retention]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from studycli.study import optimize as core
from studycli.study.review_log_csv import read_review_logs

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "fsrs_review_logs_sample.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SAMPLE)
    parser.add_argument("--no-retention", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    logs = read_review_logs(args.csv)
    read_s = time.perf_counter() - started
    fit = core.fit(logs, retention=False, source=str(args.csv))
    print(f"{len(logs)} reviews of {fit.cards} cards ({fit.counted} counted)")
    print(f"read CSV        {read_s:7.2f} s  {len(logs) / read_s:10,.0f} reviews/s")
    print(f"fit parameters  {fit.seconds:7.2f} s  {len(logs) / fit.seconds:10,.0f} reviews/s")
    if not args.no_retention:
        from fsrs.optimizer import Optimizer

        started = time.perf_counter()
        best = Optimizer(logs).compute_optimal_retention(list(fit.parameters))
        print(f"retention       {time.perf_counter() - started:7.2f} s  (optimal: {best})")


if __name__ == "__main__":
    main()
