"""Review sessions as a learner runs them, through real pseudo-terminals (pexpect): two sessions
on one new database at once, a copy of the database taken mid-session (WAL included), and
`studycli review` killed with SIGKILL at random points, over and over.

A rating is *acknowledged* when the session printed "due again in" for it: the store commits
each rating before that line shows. Every acknowledged rating must be in the log exactly once,
and the file must pass `PRAGMA integrity_check`. Each killed session runs at its own fixed
time (STUDYCLI_NOW, two days after the one before), so its log rows are those with its
`reviewed_at`; the two concurrent sessions share one clock, and the log must be exactly the
sequence of ratings they acknowledged.

The 200-kill harness is marked `slow` (run it with `pytest -m slow`; STUDYCLI_KILLS changes its
count); the default run, as CI's, kills a few times.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pexpect
import pytest

from studycli.study import rating as core
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT, terminal_env
from .study_support import NOW

RULE = re.compile(r"new \d+ · learning \d+ · review \d+")
HEADER = re.compile(r"·\s+([a-z0-9-]+) *\r?\n")  # the header line ends "deck · topic · card-id"
FRONT = "q quit"
SETTINGS = "enable_fuzzing = false\nmaximum_interval = 1\n"  # every card is due again next day


@dataclass
class Session:
    """One `studycli review` in a pseudo-terminal, and the ratings it acknowledged."""

    child: pexpect.spawn
    now: datetime
    acknowledged: list[tuple[str, int]] = field(default_factory=list)
    card: str | None = None

    def next_card(self) -> bool:
        """Wait for the next card's front; False when the session ended instead."""
        if self.child.expect([RULE, pexpect.EOF]) == 1:
            return False
        self.child.expect(HEADER)
        self.card = self.child.match.group(1)
        self.child.expect(FRONT)
        return True

    def reveal(self) -> None:
        """Enter until the rating keys show (a derivation reveals one step per press)."""
        while True:
            self.child.send(" ")
            if self.child.expect([r"4 +Easy", r"Step \d+ of \d+"]) == 0:
                return

    def rate(self, key: int) -> bool:
        """Reveal, press `key` and wait for the acknowledgement (True), or for the session
        to say that another session rated the card while it was on screen here (False)."""
        self.reveal()
        self.child.send(str(key))
        saved = self.child.expect(["due again in", "not saved: [a-z0-9-]+ was rated"]) == 0
        assert self.card is not None
        if saved:
            self.acknowledged.append((self.card, key))
        return saved


@pytest.fixture
def spawn(tmp_path):
    """spawn(now) -> a Session on one database (tmp_path/reviews.sqlite3)."""
    config = tmp_path / "settings.toml"
    config.write_text(SETTINGS)
    db = tmp_path / "reviews.sqlite3"
    children: list[pexpect.spawn] = []

    def start(now: datetime, database: Path = db) -> Session:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "studycli", "--content", str(FIXTURE_CONTENT), "review"],
            env=terminal_env(database, config, tmp_path / "home", now),
            cwd=str(REPO_ROOT),
            encoding="utf-8",
            timeout=30,
            dimensions=(50, 100),
        )
        children.append(child)
        return Session(child, now)

    start.db = db  # type: ignore[attr-defined]
    yield start
    for child in children:
        if child.isalive():
            child.kill(signal.SIGKILL)


def logged(store: Store, now: datetime) -> list[tuple[str, int]]:
    """The session's ratings in the log (undone ones included: none are undone here)."""
    return [
        (r.card_id, r.rating)
        for r in store.reviews(include_undone=True, oldest_first=True)
        if r.reviewed_at == now
    ]


def assert_sound(db: Path) -> None:
    """Intact, and every stored card state is the replay of the log."""
    with Store.open(db) as store:
        assert store.integrity_problems() == []
        assert core.rebuild(store) == store.states()


def test_two_sessions_on_a_new_database_keep_every_rating_exactly_once(spawn):
    # one clock for both, as on one machine: the replay (time order, ties by id) is then the
    # order the ratings were made in, and the log must be exactly the acknowledged sequence.
    # Both show the same cards (one queue): of the two ratings of a card, the first saved
    # is kept and the other session is told (its rating would count a second review)
    first, second = spawn(NOW), spawn(NOW)  # together, on no database yet
    keys = iter([3, 1, 4, 2, 3, 3, 1, 3, 4, 3, 2, 3])
    acknowledged: list[tuple[str, int]] = []
    refused = 0
    for round_ in range(6):  # interleaved: one rating each, in turn, the first one by turns
        for session in (first, second) if round_ % 2 == 0 else (second, first):
            assert session.next_card()
            if session.rate(next(keys)):
                acknowledged.append(session.acknowledged[-1])
            else:
                refused += 1
    for session in (first, second):
        session.child.send("q")
        session.child.expect(pexpect.EOF)
        session.child.close()
        assert session.child.exitstatus == 0
    assert len(first.acknowledged) + len(second.acknowledged) + refused == 12
    assert first.acknowledged and second.acknowledged and refused  # both wrote, one was told
    with Store.open(spawn.db) as store:
        assert logged(store, NOW) == acknowledged  # each once, in the order acknowledged
    assert_sound(spawn.db)


@pytest.mark.parametrize("with_shm", [True, False], ids=["with-shm", "without-shm"])
def test_a_copy_taken_mid_session_wal_included_opens_cleanly(spawn, tmp_path, with_shm):
    session = spawn(NOW)
    for key in (3, 1, 4):
        assert session.next_card()
        session.rate(key)
    assert session.next_card()  # idle at a card: what a power cut would leave on disk
    wal = Path(f"{spawn.db}-wal")
    assert wal.stat().st_size > 0, "the ratings should still be in the WAL, not checkpointed"
    copy = tmp_path / "copy" / "reviews.sqlite3"
    copy.parent.mkdir()
    for suffix in ("", "-wal") + (("-shm",) if with_shm else ()):
        shutil.copyfile(f"{spawn.db}{suffix}", f"{copy}{suffix}")
    with Store.open(copy) as store:
        assert store.integrity_problems() == []
        assert logged(store, NOW) == session.acknowledged
        assert core.rebuild(store) == store.states()
    session.child.send("q")
    session.child.expect(pexpect.EOF)


# --- SIGKILL at random points ----------------------------------------------------------------

KILL_POINTS = ("starting", "at a front", "answer shown", "just after a rating key")


def _one_kill(spawn, rng: random.Random, now: datetime) -> tuple[str, Session]:
    """Start a session, rate a few cards, SIGKILL it at a random point; return where."""
    session = spawn(now)
    point = rng.choice(KILL_POINTS)
    if point == "starting":  # importing, opening or migrating the database
        time.sleep(rng.uniform(0.0, 0.8))
    else:
        for _ in range(rng.randint(0, 4)):
            if not session.next_card():
                return "ended by itself", session
            session.rate(rng.randint(1, 4))
        if not session.next_card():
            return "ended by itself", session
        if point == "answer shown":
            session.reveal()
        elif point == "just after a rating key":
            session.reveal()
            session.child.send(str(rng.randint(1, 4)))
            time.sleep(rng.uniform(0.0, 0.03))  # before, during or after the commit
    session.child.kill(signal.SIGKILL)
    session.child.expect(pexpect.EOF)
    session.child.close()
    return point, session


def _kill_harness(spawn, kills: int, seed: int) -> dict[str, int]:
    """Run sessions until `kills` of them were SIGKILLed; check the log after each."""
    rng = random.Random(seed)
    figures = dict.fromkeys(KILL_POINTS, 0)
    figures |= {"ended by itself": 0, "acknowledged": 0, "committed unacknowledged": 0}
    run = 0
    while sum(figures[point] for point in KILL_POINTS) < kills:
        now = NOW + timedelta(days=2 * run)
        run += 1
        point, session = _one_kill(spawn, rng, now)
        figures[point] += 1
        with Store.open(spawn.db) as store:  # the next open recovers the WAL the kill left
            found = logged(store, now)
        # every acknowledged rating, in order, exactly once; one more only if the key was
        # pressed (committed, but killed before it could say so)
        assert found[: len(session.acknowledged)] == session.acknowledged, (run, point)
        extra = 1 if point == "just after a rating key" else 0
        assert len(session.acknowledged) <= len(found) <= len(session.acknowledged) + extra
        figures["acknowledged"] += len(session.acknowledged)
        figures["committed unacknowledged"] += len(found) - len(session.acknowledged)
    assert_sound(spawn.db)
    with Store.open(spawn.db) as store:
        assert len(store.reviews()) == figures["acknowledged"] + figures["committed unacknowledged"]
    return figures


def test_sigkill_at_random_points_loses_no_acknowledged_rating(spawn):
    figures = _kill_harness(spawn, kills=6, seed=10)
    assert figures["acknowledged"] > 0


@pytest.mark.slow
def test_sigkill_200_times_loses_no_acknowledged_rating(spawn):
    kills = int(os.environ.get("STUDYCLI_KILLS", "200"))
    figures = _kill_harness(spawn, kills=kills, seed=20)
    print(f"\n{kills} kills: {figures}")
    assert figures["acknowledged"] > kills


# --- a database that cannot be written -------------------------------------------------------


def test_a_session_on_a_database_it_cannot_write_stops_before_the_first_card(spawn):
    """It showed a card, let the learner reveal it, and failed only at the rating."""
    from .test_study_database import rated_database, unwritable

    rated_database(spawn.db)
    with unwritable(spawn.db) as how:
        session = spawn(NOW)
        shown = session.child.expect([RULE, pexpect.EOF])
        output = session.child.before
        session.child.close()
    assert shown == 1, "a card was shown: " + output
    assert session.child.exitstatus == 1
    assert f"cannot write the review database {spawn.db}" in " ".join(output.split())
    assert ("chattr -i" if how == "chattr" else "chmod u+rw") in output
    assert "Traceback" not in output
