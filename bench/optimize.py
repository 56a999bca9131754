"""`studycli optimize` on the FSRS sample log (12,580 reviews), side by side with a bare fit.

Runs, alternately and `--runs` times each, two processes on the same CSV:
  - the whole command: `python -m studycli optimize --from-csv FILE --json` (reading and
    checking every row, the fit, and the held-out proof: five more fits on a time-series
    split, and the predictions of the fitted and the default parameters);
  - a bare fit: a Python process that reads the CSV, groups it into fsrs items and calls
    fsrs-rs-python's `compute_parameters` once, nothing else.
Prints the best wall time of each, their ratio (the target: within 10x), and the held-out
figures the command reports.

    python bench/optimize.py [--csv FILE] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "fsrs_review_logs_sample.csv"

BARE = """
import csv, sys
from collections import defaultdict
from datetime import datetime, timedelta
from fsrs_rs_python import DEFAULT_PARAMETERS, FSRS, FSRSItem, FSRSReview

by_card = defaultdict(list)
with open(sys.argv[1], newline="") as handle:
    for row in csv.DictReader(handle):
        moment = datetime.fromisoformat(row["review_time"])
        by_card[row["card_id"]].append((moment, int(row["review_rating"])))
items = []
for history in by_card.values():
    history.sort()
    reviews, last = [], None
    for moment, rating in history:
        day = (moment - timedelta(hours=4)).date()
        delta = 0 if last is None else (day - last).days
        reviews.append(FSRSReview(rating, delta))
        if delta > 0:
            items.append((moment, FSRSItem(list(reviews))))
        last = day
items.sort(key=lambda entry: entry[0])
parameters = FSRS(DEFAULT_PARAMETERS).compute_parameters([item for _, item in items])
print(len(parameters))
"""


def timed(command: list[str]) -> tuple[float, str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "STUDYCLI_HOME": "/tmp/studycli-bench"}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SAMPLE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    command = [sys.executable, "-m", "studycli", "optimize", "--from-csv", str(args.csv), "--json"]
    bare = [sys.executable, "-c", BARE, str(args.csv)]
    whole_times, bare_times, report = [], [], ""
    for _ in range(args.runs):
        seconds, report = timed(command)
        whole_times.append(seconds)
        seconds, _ = timed(bare)
        bare_times.append(seconds)
    whole, fit = min(whole_times), min(bare_times)
    figures = json.loads(report)
    print(
        f"{figures['reviews']:,} reviews of {figures['cards']:,} cards ({figures['items']:,} items)"
    )
    print(f"studycli optimize (whole command)  {whole:6.2f} s   best of {args.runs}")
    print(f"bare fsrs-rs-python fit (process)  {fit:6.2f} s   best of {args.runs}")
    print(f"ratio                              {whole / fit:6.1f}x  (target: within 10x)")
    print("held-out reviews (time-series split, 5 folds), lower is better:")
    print(
        f"  log loss    default {figures['log_loss_default']:.4f}  fitted {figures['log_loss_fitted']:.4f}"
    )
    print(
        f"  RMSE(bins)  default {figures['rmse_bins_default']:.4f}  fitted {figures['rmse_bins_fitted']:.4f}"
    )
    print(f"  accepted: {figures['accepted']}")


if __name__ == "__main__":
    main()
