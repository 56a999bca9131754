"""A `Study` (a `review` or `solve` session) rating while another process recomputes the memory
states with new parameters (`optimize --write`, `--recompute`): the rating is scheduled with the
parameters the states it builds on stand on, read under the write lock it writes in."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fsrs import Rating
from fsrs.scheduler import DEFAULT_PARAMETERS

from studycli.errors import StateChanged
from studycli.study import busy
from studycli.study.api import Study

from .study_support import NO_FUZZ, NOW, fixture_content
from .test_study_recompute import NEW


def test_a_recompute_committed_while_the_rating_waits_for_the_lock_schedules_it(
    tmp_path, monkeypatch
):
    """The session read the parameters' record (`_follow_recompute`) before it waited for the
    write lock, which the recompute held to write its states: the rating then built on the
    recomputed log with the parameters read before it, and the card's memory state was stale
    (the doctor counted it: "not what the FSRS parameters in settings.toml give"). A new card
    is not refused as changed (its state is still none), so nothing else caught it."""
    path = tmp_path / "r.sqlite3"
    content = fixture_content()
    later = NOW + timedelta(days=3)
    with Study.open(path, NO_FUZZ) as other:
        other.rate(content.get("bias-concept"), Rating.Good, NOW)  # a state to recompute

    def recompute() -> None:  # another terminal's `optimize --recompute`, its own process
        with Study.open(path, NEW) as elsewhere:
            assert elsewhere.recompute_memory(later) == 1

    begin_write = busy.begin_write

    def begin(conn):  # the session's rating, about to take the lock: the recompute commits
        if threading.current_thread() is threading.main_thread() and not done:
            done.append(True)
            thread = threading.Thread(target=recompute)
            thread.start()
            thread.join()
        begin_write(conn)

    done: list[bool] = []
    with Study.open(path, NO_FUZZ) as study:
        card = content.get("add-one")
        shown = study.previewed(card, later)
        monkeypatch.setattr(busy, "begin_write", begin)
        study.rate(card, Rating.Good, later, shown=shown)
        assert done
        assert Study(study.store, NEW).stale_memory_states() == 0


# fsrs's defaults with another initial stability after Good (w2): a learnt card's stability
# moves, and (its intervals whole days) not its intervals
NEAR = NO_FUZZ._replace(
    parameters=(*DEFAULT_PARAMETERS[:2], DEFAULT_PARAMETERS[2] * 1.05, *DEFAULT_PARAMETERS[3:])
)


@pytest.mark.parametrize("parameters", [NEAR, NEW], ids=["same intervals", "other intervals"])
def test_a_state_another_process_recomputed_is_rated_where_its_intervals_are_those_shown(
    tmp_path, parameters
):
    """A recompute in another terminal while the card was on screen: the rating was refused
    ("its history changed ... and its intervals with it: rate again by those below") even
    where the bar below was the very one the learner had chosen by. It is saved where the
    state as it is now gives the intervals shown, and refused where it gives others."""
    path = tmp_path / "r.sqlite3"
    card = fixture_content().get("bias-concept")
    later = NOW + timedelta(days=1)
    with Study.open(path, NO_FUZZ) as study:
        study.rate(card, Rating.Good, NOW)
        study.rate(card, Rating.Good, NOW + timedelta(minutes=10))  # a learnt card
        shown = study.previewed(card, later)
        with Study.open(path, parameters) as elsewhere:  # another terminal's recompute
            assert elsewhere.recompute_memory(later) == 1
            now_shown = elsewhere.previewed(card, later)
        assert now_shown.fsrs != shown.fsrs
        if now_shown.intervals != shown.intervals:
            with pytest.raises(StateChanged):
                study.rate(card, Rating.Good, later, shown=shown)
            assert study.store.state(card.id).fsrs == now_shown.fsrs  # nothing written
            return
        assert parameters is NEAR
        rated = study.rate(card, Rating.Good, later, shown=shown)
        assert rated.due == later + shown.intervals[Rating.Good]
        assert Study(study.store, parameters).stale_memory_states() == 0


def test_a_rating_across_a_day_since_the_last_review_is_asked_again_not_saved_otherwise(
    tmp_path,
):
    """The intervals a bar shows just before 24 hours since the card's last review, the key
    pressed just after: fsrs counts the time since in whole days, and the rating saved other
    days than those shown (Good 2d shown, 7d saved, for a learning card), with no word. It is
    refused (IntervalsMoved: nothing written), and the same key under the new bar saves what
    that bar shows; a key pressed before the day passes saves what was shown."""
    from studycli.errors import IntervalsMoved

    path = tmp_path / "r.sqlite3"
    card = fixture_content().get("bias-concept")
    day = NOW + timedelta(days=1)
    with Study.open(path, NO_FUZZ) as study:
        study.rate(card, Rating.Good, NOW)  # learning: due in 10 minutes
        shown = study.previewed(card, day - timedelta(seconds=10))
        after = study.previewed(card, day + timedelta(seconds=10))
        assert shown.fsrs == after.fsrs and shown.intervals != after.intervals
        with pytest.raises(IntervalsMoved):
            study.rate(card, Rating.Good, day + timedelta(seconds=10), shown=shown)
        assert len(study.history()) == 1  # nothing written
        rated = study.rate(card, Rating.Good, day + timedelta(seconds=20), shown=after)
        assert rated.due == day + timedelta(seconds=20) + after.intervals[Rating.Good]
    with Study.open(tmp_path / "before.sqlite3", NO_FUZZ) as study:
        study.rate(card, Rating.Good, NOW)
        shown = study.previewed(card, day - timedelta(seconds=20))
        rated = study.rate(card, Rating.Good, day - timedelta(seconds=5), shown=shown)
        assert rated.due == day - timedelta(seconds=5) + shown.intervals[Rating.Good]
