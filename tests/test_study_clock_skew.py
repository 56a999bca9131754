"""Two machines' clocks a little apart (clock_skew.py): a review up to 5 minutes ahead of this
machine's clock is imported, and counted; one further ahead refuses the file; a rating of a
card whose last review (or the last recompute) is up to that far ahead is logged just after
it, and one further behind is refused. The edges: exactly 5 minutes, and a microsecond more."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating

from studycli.errors import ClockBehind, ImportFormatError, StoreError
from studycli.study import rating as core
from studycli.study.api import Study, study_items
from studycli.study.clock_skew import CLOCK_SKEW, spoken
from studycli.study.review_log_csv import read_reviews
from studycli.study.times import iso

from .study_support import NO_FUZZ, NOW, fixture_content

HEADER = "card_id,review_rating,review_time,review_duration,content_hash,undone_at\n"
MICROSECOND = timedelta(microseconds=1)


def _log(path: Path, *rows: tuple[str, int, datetime, datetime | None]) -> Path:
    """A review log of (card, rating, time, undone at or None) rows."""
    lines = (
        f"{card},{rating},{iso(moment)},,,{'' if undone is None else iso(undone)}\n"
        for card, rating, moment, undone in rows
    )
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _items():
    return study_items(fixture_content().cards.values())


@pytest.mark.parametrize(
    ("interval", "said"),
    [
        (timedelta(seconds=40), "40 s"),
        (timedelta(minutes=5), "5 min"),
        (CLOCK_SKEW + MICROSECOND, "5 min 1 s"),  # (up: past the skew is never said as it)
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(days=3, hours=1), "3 days"),
    ],
)
def test_how_far_ahead_is_said(interval, said):
    assert spoken(interval) == said


def test_a_review_exactly_five_minutes_ahead_is_read_and_one_a_microsecond_more_is_refused(
    tmp_path,
):
    at_edge = _log(tmp_path / "edge.csv", ("add-one", 3, NOW + CLOCK_SKEW, None))
    assert [row.reviewed_at for row in read_reviews(at_edge, now=NOW)] == [NOW + CLOCK_SKEW]
    past = _log(tmp_path / "past.csv", ("add-one", 3, NOW + CLOCK_SKEW + MICROSECOND, None))
    with pytest.raises(ImportFormatError) as refused:
        read_reviews(past, now=NOW)
    said = str(refused.value)
    assert f"{past}, line 2: review_time " in said
    assert "is 5 min 1 s ahead of this machine's clock (now 2025-03-01 09:00:00 UTC)" in said
    assert "more than the 5 minutes two machines' clocks may be apart" in said
    # the fix: this clock right, or the file imported once it is no more than 5 minutes ahead
    assert "Set this machine's clock right" in said
    assert "this file imports from 2025-03-01 09:00:00 UTC on" in said


def test_an_import_takes_reviews_ahead_of_the_clock_counts_them_and_a_dry_run_says_the_same(
    tmp_path,
):
    log = _log(
        tmp_path / "laptop.csv",
        ("add-one", 3, NOW - timedelta(minutes=1), None),
        ("bias-concept", 3, NOW + timedelta(seconds=40), None),
        ("poisson-concept", 3, NOW + CLOCK_SKEW, None),
    )
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        tried = study.import_reviews(log, _items(), NOW, dry_run=True)
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        done = study.import_reviews(log, _items(), NOW)
        again = study.import_reviews(log, _items(), NOW)
        assert core.rebuild(study.store) == study.store.states()
    assert (done.added, done.ahead, done.most_ahead) == (3, 2, CLOCK_SKEW)
    assert {**tried.to_dict(), "dry_run": False} == done.to_dict()
    assert done.to_dict()["ahead_of_clock"] == 2
    assert done.to_dict()["most_ahead_seconds"] == 300
    assert (again.added, again.cards, again.ahead) == (0, 0, 2)  # (the file says the same)


def test_a_file_with_one_review_past_the_skew_is_refused_whole(tmp_path):
    log = _log(
        tmp_path / "laptop.csv",
        ("add-one", 3, NOW, None),
        ("bias-concept", 3, NOW + CLOCK_SKEW + MICROSECOND, None),
    )
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        with pytest.raises(ImportFormatError, match=r"line 3: review_time .* 5 min 1 s ahead"):
            study.import_reviews(log, _items(), NOW)
        assert study.history("add-one") == []


def _rated_ahead(study: Study, tmp_path: Path, ahead: timedelta) -> datetime:
    """bias-concept's review from a machine whose clock is `ahead` of this one's, imported
    at NOW: its time."""
    moment = NOW + ahead
    study.import_reviews(
        _log(tmp_path / "ahead.csv", ("bias-concept", 3, moment, None)), _items(), NOW
    )
    return moment


def test_a_rating_five_minutes_before_the_last_review_is_logged_just_after_it(tmp_path):
    card = fixture_content().get("bias-concept")
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        last = _rated_ahead(study, tmp_path, CLOCK_SKEW)
        rated = study.rate(card, Rating.Good, NOW)  # exactly the skew behind it
        assert rated.review.reviewed_at == last + MICROSECOND
        assert [r.reviewed_at for r in study.history("bias-concept")] == [
            last + MICROSECOND,
            last,
        ]
        assert core.rebuild(study.store) == study.store.states()  # (the doctor: no drift)
        study.undo(rated.review.id, NOW + timedelta(seconds=10))  # (timed before it: as any)
        assert [r.reviewed_at for r in study.history("bias-concept")] == [last]
        assert core.rebuild(study.store) == study.store.states()


def test_a_rating_a_microsecond_more_behind_is_refused_with_the_clock_to_set_right(tmp_path):
    card = fixture_content().get("bias-concept")
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        last = _rated_ahead(study, tmp_path, CLOCK_SKEW)
        with pytest.raises(ClockBehind) as refused:
            study.rate(card, Rating.Good, NOW - MICROSECOND)
        assert len(study.history("bias-concept")) == 1
    said = str(refused.value)
    assert "not saved: bias-concept was last reviewed at 2025-03-01 09:05:00 UTC" in said
    assert "5 min 1 s after this machine's time now (2025-03-01 08:59:59 UTC)" in said
    assert "set the wrong clock right, or rate the card from 2025-03-01 09:00:00 UTC on" in said
    assert last - CLOCK_SKEW == NOW


def test_an_undo_the_import_applies_is_timed_after_a_rating_logged_ahead_of_the_clock(tmp_path):
    """The desktop took the laptop's rating (2 minutes ahead), and rated the card on top of it,
    logged just after it; then the laptop undid its rating, and the desktop's import took it
    back at the desktop's time, before the desktop's rating: an undo of that rating was then
    let through (the undo seemed to come after it), and put back the state it was given on,
    with the laptop's rating in it, which no replay gives. Refused, as for an undo on time."""
    card = fixture_content().get("bias-concept")
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        laptop = _rated_ahead(study, tmp_path, timedelta(minutes=2))
        mine = study.rate(card, Rating.Again, NOW + timedelta(seconds=20))
        undone = _log(tmp_path / "undone.csv", ("bias-concept", 3, laptop, laptop))
        result = study.import_reviews(undone, _items(), NOW + timedelta(seconds=40))
        assert result.undos == 1
        with pytest.raises(StoreError, match="an import took back an earlier rating"):
            study.undo(mine.review.id, NOW + timedelta(seconds=50))
        assert core.rebuild(study.store) == study.store.states()


def _export_imports(study: Study, tmp_path: Path) -> int:
    """`study`'s log exported, and imported into a new database: its undone ratings added."""
    exported = tmp_path / "export.csv"
    study.export_reviews(exported)
    with Study.open(tmp_path / "other.sqlite3", NO_FUZZ) as other:
        return other.import_reviews(exported, _items(), NOW + timedelta(minutes=10)).undone_added


def test_an_undo_the_import_would_refuse_in_the_export_is_refused_with_the_clock_to_set_right(
    tmp_path,
):
    """An undo at a time an hour before its rating (the clock put back between the two) was
    taken and logged; the export wrote it, and the import of that export refused the file
    whole (b8a0939: "a rating is undone after it is given"), so that the learner's own log no
    longer synced. It is refused, as a rating behind the card's last review is."""
    card = fixture_content().get("bias-concept")
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        rated = study.rate(card, Rating.Good, NOW)
        with pytest.raises(ClockBehind) as refused:
            study.undo(rated.review.id, NOW - timedelta(hours=1))
        assert study.store.undo_count() == 0 and len(study.history("bias-concept")) == 1
        study.undo(rated.review.id, NOW - CLOCK_SKEW)  # (two clocks apart: taken)
        assert _export_imports(study, tmp_path) == 1
    said = " ".join(str(refused.value).split())
    assert "this rating was given at 2025-03-01 09:00:00 UTC, 1 h after this machine's" in said
    assert "time now (2025-03-01 08:00:00 UTC)" in said and "clock" in said
    assert "or undo it from 2025-03-01 08:55:00 UTC on" in said


def test_a_rating_logged_just_after_a_review_five_minutes_ahead_undone_at_once_exports(tmp_path):
    """A rating logged just after a review exactly the skew ahead (a microsecond after it)
    and undone at the clock's time the rating was given at (a clock held still): the import
    of the export refused it, an undo 5 min 1 s before its rating's time. The import takes
    what studycli writes: the skew and the microsecond."""
    card = fixture_content().get("bias-concept")
    with Study.open(tmp_path / "db.sqlite3", NO_FUZZ) as study:
        _rated_ahead(study, tmp_path, CLOCK_SKEW)
        rated = study.rate(card, Rating.Good, NOW)
        study.undo(rated.review.id, NOW)
        assert _export_imports(study, tmp_path) == 1
