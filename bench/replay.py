"""What keeping Hard < Good < Easy a day apart costs a replay (every import replays its cards).

Replays each card's history of a review log (default: the FSRS sample, 12,580 reviews) in
this process, with fsrs's own scheduler and with studycli's (`scheduler.make_scheduler`, which
keeps the order), in alternate rounds, and prints the best CPU time per review of each, their
ratio, and how often the order moved a rating's day. Instructions, steadier on a shared
machine, the same way: `valgrind --tool=callgrind python bench/replay.py --rounds 1 --only
plain` (and `--only ordered`), less a run with `--only none` (the log read alone).

    python bench/replay.py [--csv FILE] [--cards N] [--rounds N] [--only plain|ordered|none]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from _common import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "tests" / "data" / "fsrs_review_logs_sample.csv"


def histories(path: Path, cards: int) -> list[tuple[str, list[tuple[datetime, int]]]]:
    by_card: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            moment = datetime.fromisoformat(row["review_time"])
            by_card[row["card_id"]].append((moment, int(row["review_rating"])))
    return [(card, sorted(reviews)) for card, reviews in list(by_card.items())[:cards]]


def replay(scheduler, log) -> float:
    """CPU seconds to replay every history of `log` with `scheduler`."""
    from studycli.study import scheduler as sched

    started = time.process_time()
    for card_id, reviews in log:
        card = sched.new_card(card_id, reviews[0][0])
        for moment, rating in reviews:
            card = sched.review(scheduler, card, rating, moment)
    return time.process_time() - started


def moved(plain, ordered, log) -> int:
    """Reviews whose day the order changed (the same history, step by step)."""
    from studycli.study import scheduler as sched

    count = 0
    for card_id, reviews in log:
        card = sched.new_card(card_id, reviews[0][0])
        for moment, rating in reviews:
            own = sched.review(plain, card, rating, moment)
            after = sched.review(ordered, card, rating, moment)
            count += own.due != after.due
            card = after
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SAMPLE)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=("plain", "ordered", "none"))
    args = parser.parse_args()

    from fsrs import Scheduler

    from studycli.study import scheduler as sched
    from studycli.study.settings import Settings

    log = histories(args.csv, args.cards)
    reviews = sum(len(history) for _, history in log)
    # fsrs's own scheduler draws its fuzz as studycli's does (the review's digest itself), so
    # that the two differ by the order alone: in what they cost and in the days they give
    sched._fsrs_scheduler.random = lambda: sched._fuzz_draw(True)
    schedulers = {"plain": Scheduler(), "ordered": sched.make_scheduler(Settings())}
    if args.only:
        if args.only != "none":
            replay(schedulers[args.only], log)
        return
    best = dict.fromkeys(schedulers, float("inf"))
    for _ in range(args.rounds):
        for name, scheduler in schedulers.items():
            best[name] = min(best[name], replay(scheduler, log))
    print(f"machine: {machine()}")
    print(f"{reviews:,} reviews of {len(log):,} cards ({args.csv.name}), best of {args.rounds}")
    for name, seconds in best.items():
        print(f"  {name:8} {seconds / reviews * 1e6:6.1f} us a review (CPU)")
    print(f"  the order costs {best['ordered'] / best['plain']:.2f}x fsrs's own replay")
    changed = moved(schedulers["plain"], schedulers["ordered"], log)
    print(f"  it moved {changed:,} of {reviews:,} reviews' days ({changed / reviews:.0%})")


if __name__ == "__main__":
    main()
