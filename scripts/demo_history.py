"""Write a simulated study history for the shipped content: the README's stats screen.

Sixty study days ending 2025-03-01: each day the due cards and up to 8 new ones (three decks),
each recalled with the probability FSRS predicts, minus a little per topic so that some topics
come out weaker. Then `studycli stats` has something to show:

    TZ=UTC python scripts/demo_history.py /tmp/demo.sqlite3
    STUDYCLI_DB=/tmp/demo.sqlite3 STUDYCLI_NOW=2025-03-01T20:00:00+00:00 TZ=UTC COLUMNS=80 \\
        studycli stats
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fsrs import Rating

from studycli.content.loader import load_content
from studycli.paths import content_dir
from studycli.study.api import Study, study_items
from studycli.study.rating import fsrs_card
from studycli.study.scheduler import make_scheduler
from studycli.study.settings import Settings


def main(path: Path) -> None:
    rng = random.Random(7)
    content = load_content(content_dir())
    items = [
        i
        for i in study_items(content.cards.values())
        if i.deck in ("transformers", "vision", "math")
    ]
    handicap = {topic: rng.uniform(0.0, 0.25) for topic in sorted({i.topic for i in items})}
    settings = Settings(enable_fuzzing=True)
    scheduler = make_scheduler(settings)
    end = datetime(2025, 3, 1, 18, tzinfo=UTC)
    with Study.open(path, settings) as study:
        # a demo's history, made again at will: no fsync at each of its ~3,200 commits (24 of
        # its 29 s went there); what it writes is the same
        study.store.conn.execute("PRAGMA synchronous = OFF")
        for day in range(60, -1, -1):
            moment = end - timedelta(days=day) - timedelta(minutes=rng.randrange(0, 240))
            if rng.random() < 0.12 and day > 3:
                continue  # a day off now and then
            queue = study.queue(items, moment)
            for item in [*queue.learning, *queue.review, *queue.new[:8]]:
                card = fsrs_card(study.state(item.id))
                recall = scheduler.get_card_retrievability(card, moment) if card else 0.6
                remembered = rng.random() < recall - handicap[item.topic]
                rating = rng.choice([Rating.Good, Rating.Good, Rating.Easy, Rating.Hard])
                study.rate(item, rating if remembered else Rating.Again, moment)
                moment += timedelta(seconds=rng.randrange(20, 90))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
