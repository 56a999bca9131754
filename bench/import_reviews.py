"""`studycli import-reviews` of a large synthetic log (default 1,000,000 reviews), side by side
with a bare read of the same file.

Writes a CSV of `--rows` reviews over `--rows / 40` cards (each card reviewed at growing
intervals, about 10% Again, times from 2020 on), then runs, as processes, one after the other:
  - a bare read: a Python process that parses every row of the file (csv + fromisoformat);
  - `python -m studycli import-reviews FILE --json` into a fresh database (every row checked,
    the cards replayed with fsrs in time order, one transaction);
  - the same import again (every row already there: nothing written).
Prints each one's wall time and CPU time (its worker processes included) and the ratio of
the import to the bare read. The target for the import: 30 s for 1,000,000 rows.

    python bench/import_reviews.py [--rows N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import csv, sys
from datetime import datetime
with open(sys.argv[1], newline="") as handle:
    reader = csv.reader(handle)
    next(reader)
    rows = [(c, int(r), datetime.fromisoformat(t), d) for c, r, t, d in reader]
print(len(rows))
"""


def generate(path: Path, rows: int, per_card: int = 40, seed: int = 0) -> None:
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out: list[tuple[str, int, datetime, int]] = []
    card = 0
    while len(out) < rows:
        card += 1
        moment = start + timedelta(seconds=rng.randrange(0, 86400 * 365))
        interval = 0.0
        for _ in range(min(per_card, rows - len(out))):
            rating = rng.choices((1, 2, 3, 4), (10, 5, 80, 5))[0]
            out.append((f"card-{card}", rating, moment, rng.randrange(2000, 30000)))
            interval = (
                10 / 1440
                if rating == 1
                else min(30.0, max(1.0, interval * 1.6))
                if interval
                else 1.0
            )
            moment += timedelta(days=interval * rng.uniform(0.9, 1.3))
    out.sort(key=lambda row: row[2])
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["card_id", "review_rating", "review_time", "review_duration"])
        for card_id, rating, moment, duration in out:
            writer.writerow((card_id, rating, moment.isoformat(timespec="milliseconds"), duration))


def timed(command: list[str], environment: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (children included) and stdout of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the CSV and database here, and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="studycli-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    log, db = folder / f"reviews-{args.rows}.csv", folder / "reviews.sqlite3"
    if not log.exists():
        generate(log, args.rows)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STUDYCLI_DB": str(db),
        "STUDYCLI_HOME": str(folder / "home"),
    }
    command = [sys.executable, "-m", "studycli", "import-reviews", str(log), "--json"]
    bare = timed([sys.executable, "-c", BARE, str(log)], environment)
    first = timed(command, environment)
    again = timed(command, environment)
    print(f"{args.rows:,} reviews, {os.cpu_count()} CPUs, {log}")
    print(f"bare read of the CSV         {bare[0]:7.1f} s wall  {bare[1]:7.1f} s CPU")
    print(f"import-reviews (fresh db)    {first[0]:7.1f} s wall  {first[1]:7.1f} s CPU")
    print(f"import-reviews (again)       {again[0]:7.1f} s wall  {again[1]:7.1f} s CPU")
    print(f"import / bare read           {first[0] / bare[0]:7.1f}x wall")
    print(f"import rate                  {args.rows / first[0]:10,.0f} reviews/s (target: 30 s)")
    print("first import:", first[2].replace("\n", " "))


if __name__ == "__main__":
    main()
