"""bench/synthetic.py, the scale benchmarks' collection: a store the product could have written."""

from __future__ import annotations

import sys

from studycli.study.doctor import examine
from studycli.study.store import Store

from .conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))
import synthetic


def test_the_synthetic_store_is_what_a_replay_of_its_log_gives(tmp_path):
    """Every card's state, and every review's queue and state after, are the replay's of the
    log (`doctor` finds nothing to repair): it reported every state as differing."""
    db = tmp_path / "reviews.sqlite3"
    synthetic.make_store(db, [f"card-{n}" for n in range(50)], 2_000)
    with Store.open(db) as store:
        report = examine(store, repair=False)
    assert (report.reviews, report.cards) == (2_000, 50)
    assert report.drifted == [] and report.drifted_reviews == []
    assert not report.differs
