"""A synthetic collection for the scale benchmarks: many cards, a long review history.

Cards are the shipped ones copied over and over under new ids (`<id>-x<batch>`), so their
text, kinds and sizes are those of real cards; `requires` point into the same batch. The review
store gets `reviews` rows spread over three years up to `now`, one scheduler row, and every
card's state, each review's and each card's as the product's replay of that log gives them
(`doctor` finds nothing to repair; `make_store`), about one card in ten due at `now`, a few in
relearning. The CSV holds `rows` reviews in the format `import-reviews` reads
(card_id,review_rating,review_time,review_duration).

    python bench/synthetic.py OUT [--cards 10000] [--reviews 1000000] [--csv-rows 1000000]

OUT gets `content/` (cards/ and solutions/), `reviews.sqlite3` and, with --csv-rows, `reviews.csv`.
The store's rows are written with plain SQL in large transactions: a generator of test data,
not a path the application takes (the application writes through `studycli.study.store`); the
states in them are the application's own (`replay.CardReplay`).
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

from studycli.study.rating import scheduler_from_json  # noqa: E402
from studycli.study.replay import CardReplay  # noqa: E402
from studycli.study.review_records import CardState  # noqa: E402
from studycli.study.scheduler import make_scheduler  # noqa: E402
from studycli.study.settings import Settings  # noqa: E402
from studycli.study.store import Store  # noqa: E402
from studycli.study.times import iso  # noqa: E402

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# 2: the store's log and states are a replay's (`make_store`); a collection that an earlier
# version wrote is written again (`scale.collection`)
VERSION = 2
CONTENT_HASH = "0123456789abcdef"  # what every review was made on (no card's text: test data)
# Each card's last ratings are Good: its stability grows, and about one card in ten is due at
# `NOW` (reviewed at random times, every ~11 days at 1,000,000 reviews of 10,000 cards, one in
# five an Again, a card's last Good left it due within days: 35% were due, 16% after four Goods)
LAST_GOOD = 6
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


def make_store(db: Path, ids: list[str], reviews: int, now: datetime = NOW, seed: int = 0) -> None:
    """A review store at `db` with `reviews` reviews of `ids` (study item ids), spread over three
    years up to the evening before `now`, each of a random card with a random rating.

    The log is what a learner's ratings would have written: each review's queue, state before
    and state after, and every card's state, come from the product's own step of a card
    (`CardReplay.apply`, which a live rating and `doctor`'s replay of the log take too) under
    the store's scheduler, so `doctor` finds nothing differing. Each card's last `LAST_GOOD`
    ratings are Good, the very last Again for one card in fifty (in relearning, due at once), so
    that about one card in ten is due at `now`.
    """
    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = make_scheduler(Settings()).to_json()
    scheduler = scheduler_from_json(settings)  # (the store's, as a replay reads it)
    chosen = [rng.randrange(len(ids)) for _ in range(reviews)]
    ratings = [rng.choice((1, 3, 3, 3, 4)) for _ in range(reviews)]
    later: dict[int, int] = {}  # of each card, its ratings after this one
    for index in range(reviews - 1, -1, -1):
        after = later.get(chosen[index], 0)
        if after < LAST_GOOD:
            later[chosen[index]] = after + 1
            ratings[index] = 1 if after == 0 and rng.random() < 0.02 else 3
    start = now - timedelta(days=3 * 365)
    # up to the evening before: today's daily limits are not used up yet
    step = (now - timedelta(hours=12) - start) / max(1, reviews)
    replays: dict[str, CardReplay] = {}
    with Store.open(db) as store:
        conn = store.conn
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("INSERT INTO schedulers (id, settings) VALUES (1, ?)", (settings,))
        batch: list[tuple] = []
        conn.execute("BEGIN")
        for index, (card_index, rating) in enumerate(zip(chosen, ratings)):
            card_id = ids[card_index]
            moment = start + step * index
            replay = replays.get(card_id)
            if replay is None:  # the card's first rating: it had no row before
                replay = replays[card_id] = CardReplay(CardState(card_id=card_id))
                before = None
            else:
                before = json.dumps(replay.state().to_dict())
            queue = replay.queue.value
            replay.apply(rating, moment, scheduler, CONTENT_HASH)
            batch.append(
                (card_id, rating, iso(moment), 8000, "self", None, CONTENT_HASH, queue, 1,
                 before, replay.fsrs_json())
            )  # fmt: skip
            if len(batch) == 50_000:
                _insert_reviews(conn, batch)
                batch = []
        _insert_reviews(conn, batch)
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO cards (card_id, fsrs, content_hash, lapses, reps, suspended)"
            " VALUES (?, ?, ?, ?, ?, 0)",
            [
                (state.card_id, state.fsrs, state.content_hash, state.lapses, state.reps)
                for state in (replay.state() for replay in replays.values())
            ],
        )
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
