"""A synthetic collection for the scale benchmarks: many cards, a long review history.

Cards are the shipped ones copied over and over under new ids (`<id>-x<batch>`), so their
text, kinds and sizes are those of real cards; `requires` point into the same batch. The review
store gets `reviews` rows spread over three years up to `now`, one scheduler row, and a
scheduled state for every card (due dates spread from a month ago to a year ahead, a few cards
in learning), so that about one card in ten is due. The CSV holds `rows` reviews in the format
`import-reviews` reads (card_id,review_rating,review_time,review_duration).

    python bench/synthetic.py OUT [--cards 10000] [--reviews 1000000] [--csv-rows 1000000]

OUT gets `content/` (cards/ and solutions/), `reviews.sqlite3` and, with --csv-rows, `reviews.csv`.
The store's rows are written with plain SQL in large transactions: a generator of test data,
not a path the application takes (the application writes through `studycli.study.store`).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from studycli.study.scheduler import fsrs_card_id, make_scheduler  # noqa: E402
from studycli.study.settings import Settings  # noqa: E402
from studycli.study.store import Store  # noqa: E402
from studycli.study.times import iso  # noqa: E402

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def make_content(out: Path, count: int, source: Path = ROOT) -> list[str]:
    """Write `count` cards under `out/cards` (and the solutions they name); returns their ids."""
    shipped = sorted((source / "cards").glob("*/*.yaml"))
    originals = [
        (path.parent.name, yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER))
        for path in shipped
    ]
    if (out / "cards").exists():
        shutil.rmtree(out / "cards")
    shutil.copytree(source / "solutions", out / "solutions", dirs_exist_ok=True)
    ids = []
    for index in range(count):
        batch, (deck, data) = divmod(index, len(originals))[0], originals[index % len(originals)]
        card = dict(data)
        card["id"] = f"{data['id']}-x{batch}"
        if "requires" in card:
            card["requires"] = [f"{r}-x{batch}" for r in card["requires"]]
        path = out / "cards" / deck / f"{card['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(card, Dumper=_DUMPER, allow_unicode=True), encoding="utf-8")
        ids.append(card["id"])
    # the last batch is partial: drop the prerequisites it does not hold
    last, known = count // len(originals), set(ids)
    for card_id in ids[last * len(originals) :]:
        path = next((out / "cards").glob(f"*/{card_id}.yaml"))
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        if "requires" in data:
            data["requires"] = [r for r in data["requires"] if r in known]
            path.write_text(yaml.dump(data, Dumper=_DUMPER, allow_unicode=True), encoding="utf-8")
    return ids


def study_ids(content: Path) -> list[str]:
    """What is scheduled in the content folder: each card, or each deletion of a cloze card."""
    from studycli.content.loader import load_content

    return [item.id for card in load_content(content).cards.values() for item in card.study_items()]


def _fsrs_json(card_id: str, state: int, due: datetime, last: datetime, rng) -> str:
    return json.dumps(
        {
            "card_id": fsrs_card_id(card_id),
            "state": state,
            "step": None if state == 2 else 1,  # (learning: the 10-minute step)
            "stability": round(rng.uniform(1, 400), 4),
            "difficulty": round(rng.uniform(1, 10), 4),
            "due": due.isoformat(),
            "last_review": last.isoformat(),
        }
    )


def make_store(db: Path, ids: list[str], reviews: int, now: datetime = NOW, seed: int = 0) -> None:
    """A review store at `db` with `reviews` reviews of `ids` (study item ids) and a state for
    every one."""
    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    scheduler = make_scheduler(Settings()).to_json()
    with Store.open(db) as store:
        conn = store.conn
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("INSERT INTO schedulers (id, settings) VALUES (1, ?)", (scheduler,))
        states = {}
        for card_id in ids:
            roll = rng.random()
            if roll < 0.02:  # in learning, rated a 10-minute step ago (the default steps
                # are 1m and 10m): due from half an hour ago to 10 minutes ahead
                state, due = 1, now + timedelta(minutes=rng.uniform(-30, 10))
                last = due - timedelta(minutes=10)
            else:  # in review: due from a month ago to a year ahead
                state, due = 2, now + timedelta(days=rng.uniform(-30, 365))
                last = min(now, due - timedelta(days=rng.uniform(0.001, 30)))
            states[card_id] = _fsrs_json(card_id, state, due, last, rng)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO cards (card_id, fsrs, content_hash, lapses, reps, suspended)"
            " VALUES (?, ?, ?, ?, ?, 0)",
            [
                (card_id, fsrs, "0123456789abcdef", rng.randint(0, 9), rng.randint(1, 200))
                for card_id, fsrs in states.items()
            ],
        )
        conn.execute("COMMIT")
        start = now - timedelta(days=3 * 365)
        # up to the evening before: today's daily limits are not used up yet
        step = (now - timedelta(hours=12) - start) / max(1, reviews)
        batch: list[tuple] = []
        conn.execute("BEGIN")
        for index in range(reviews):
            card_id = ids[rng.randrange(len(ids))]
            moment = start + step * index
            queue = "review" if index % 10 else "learning"
            after = states[card_id]
            before = json.dumps(
                {
                    "card_id": card_id,
                    "fsrs": after,
                    "content_hash": "0123456789abcdef",
                    "lapses": 1,
                    "reps": 10,
                }
            )
            batch.append(
                (card_id, rng.choice((1, 3, 3, 3, 4)), iso(moment), 8000, "self", None,
                 "0123456789abcdef", queue, 1, before, after)
            )  # fmt: skip
            if len(batch) == 50_000:
                _insert_reviews(conn, batch)
                batch = []
        _insert_reviews(conn, batch)
        conn.execute("COMMIT")


def _insert_reviews(conn, rows: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO reviews (card_id, rating, reviewed_at, duration_ms, method, check_status,"
        " content_hash, queue, scheduler_id, state_before, state_after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def make_csv(path: Path, ids: list[str], rows: int, now: datetime = NOW, seed: int = 1) -> None:
    """`rows` reviews of `ids` in the review-log CSV format, oldest first."""
    rng = random.Random(seed)
    start = now - timedelta(days=3 * 365)
    step = (now - start) / max(1, rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["card_id", "review_rating", "review_time", "review_duration"])
        for index in range(rows):
            writer.writerow(
                (
                    ids[rng.randrange(len(ids))],
                    rng.choice((1, 3, 3, 3, 4)),
                    (start + step * index).isoformat(timespec="microseconds"),
                    rng.randint(1000, 30000),
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--csv-rows", type=int, default=0, help="also write reviews.csv")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    make_content(args.out / "content", args.cards)
    ids = study_ids(args.out / "content")
    print(f"{args.cards} cards in {time.perf_counter() - started:.1f} s", flush=True)
    if args.reviews:
        started = time.perf_counter()
        make_store(args.out / "reviews.sqlite3", ids, args.reviews)
        print(f"{args.reviews} reviews in {time.perf_counter() - started:.1f} s", flush=True)
    if args.csv_rows:
        started = time.perf_counter()
        make_csv(args.out / "reviews.csv", ids, args.csv_rows)
        print(f"{args.csv_rows} CSV rows in {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
