"""A cram rating of a card edited since its last review: it showed the new text, so the card's
"edited" flag clears (a coding card's starter and checker only where the attempt was
checked), its schedule untouched and nothing but the cram rating logged; every replay of the
log (the doctor's, an import's) gives the same state, and an undo brings the flag back."""

from __future__ import annotations

from datetime import timedelta

from fsrs import Rating

from studycli.content.loader import load_content
from studycli.study import doctor
from studycli.study import rating as core
from studycli.study.api import Study, study_items

from .study_support import NO_FUZZ, NOW

EDITED = "edited since your last review"
CHECKER = f"{EDITED}: its checker (an answer that passed then may fail now)"


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _study(content_dir, db):
    content = load_content(content_dir)
    return content, Study.open(db, NO_FUZZ, solutions_dir=content.solutions_dir)


def _flags(content_dir, db, card_id="add-one") -> list[str]:
    content, study = _study(content_dir, db)
    with study:
        return study.flags(content.get(card_id))


def _cram(content_dir, db, when, card_id="add-one", check_status=None) -> int:
    content, study = _study(content_dir, db)
    with study:
        review = study.cram_rate(content.get(card_id), Rating.Good, when, check_status=check_status)
    assert review.id is not None
    return review.id


def _matches_its_log(db) -> bool:
    """What the doctor asks: every state is the replay of the log (nothing repaired)."""
    with Study.open(db, NO_FUZZ) as study:
        report = doctor.examine(study.store, repair=False)
        return not report.drifted and not report.drifted_reviews


def _rated(content_copy, tmp_path):
    """add-one reviewed at NOW, then its text edited: the database and the card's file."""
    db = tmp_path / "reviews.sqlite3"
    content, study = _study(content_copy, db)
    with study:
        study.rate(content.get("add-one"), Rating.Good, NOW)
    card_file = content_copy / "cards" / "basics" / "add-one.yaml"
    _edit(card_file, "returns `x + 1`.", "returns one more than `x`.")
    assert _flags(content_copy, db) == [EDITED]
    return db


def test_a_cram_rating_clears_the_edited_flag_and_keeps_the_schedule(content_copy, tmp_path):
    db = _rated(content_copy, tmp_path)
    with Study.open(db, NO_FUZZ) as study:
        before = study.store.state("add-one")
    crammed = _cram(content_copy, db, NOW + timedelta(hours=1))
    assert _flags(content_copy, db) == []
    with Study.open(db, NO_FUZZ) as study:
        after = study.store.state("add-one")
        assert (after.fsrs, after.reps, after.lapses) == (before.fsrs, before.reps, before.lapses)
        assert after.content_hash != before.content_hash
        assert [r.method for r in study.history("add-one")] == ["cram", "self"]
    assert _matches_its_log(db)
    with Study.open(db, NO_FUZZ) as study:
        assert study.undo(crammed, NOW + timedelta(hours=2)) == before
    assert _flags(content_copy, db) == [EDITED]
    assert _matches_its_log(db)


def test_a_cram_rating_without_a_check_leaves_a_changed_checker_flagged(content_copy, tmp_path):
    db = _rated(content_copy, tmp_path)
    solutions = content_copy / "solutions" / "arith.py"
    _edit(solutions, "(-3, 0, 1, 41, 10**12)", "(-3, 0, 1, 41, 10**12, 7)")
    assert _flags(content_copy, db) == [
        f"{EDITED}: its text and checker (an answer that passed then may fail now)"
    ]
    _cram(content_copy, db, NOW + timedelta(hours=1))  # rated without running the checker
    assert _flags(content_copy, db) == [CHECKER]
    assert _matches_its_log(db)
    _cram(content_copy, db, NOW + timedelta(hours=2), check_status="pass")
    assert _flags(content_copy, db) == []
    assert _matches_its_log(db)


def test_an_import_replays_a_crammed_card_as_the_doctor_does(content_copy, tmp_path):
    """An import that merges a review of a crammed card replays its history, cram rating
    included: the flag stays cleared. An export leaves cram ratings out: a new database
    made from it flags the card again (its last review there is of the text before the
    edit)."""
    db = _rated(content_copy, tmp_path)
    with Study.open(db, NO_FUZZ) as study:
        old_text = study.store.state("add-one").content_hash
    _cram(content_copy, db, NOW + timedelta(hours=2))
    content = load_content(content_copy)
    # another machine's review, before the cram, of the card as it was there: unedited
    with Study.open(tmp_path / "other.sqlite3", NO_FUZZ) as study:
        core.rate(study.store, content.get("add-one"), Rating.Good, NOW + timedelta(hours=1),
                  NO_FUZZ, content_hash=old_text)  # fmt: skip
        study.export_reviews(tmp_path / "other.csv")
    content, study = _study(content_copy, db)
    with study:
        items = study_items(content.cards.values())
        assert study.import_reviews(tmp_path / "other.csv", items, NOW + timedelta(hours=3))
        assert [r.method for r in study.history("add-one")] == ["cram", "import", "self"]
        study.export_reviews(tmp_path / "all.csv")
    assert _flags(content_copy, db) == []
    assert _matches_its_log(db)
    fresh = tmp_path / "fresh.sqlite3"
    _, study = _study(content_copy, fresh)
    with study:
        study.import_reviews(tmp_path / "all.csv", items, NOW + timedelta(hours=3))
    assert _flags(content_copy, fresh) == [EDITED]


def test_a_cram_rating_timed_before_a_later_review_leaves_that_reviews_record(
    content_copy, tmp_path
):
    """The log is replayed in time order: a cram rating timed before the card's latest review
    (the clock set back since) comes before it, which records the text it was made on. The
    state is the log's: the doctor finds no drift."""
    db = _rated(content_copy, tmp_path)
    content = load_content(content_copy)
    with Study.open(db, NO_FUZZ) as study:  # the old text's hash, a day later
        core.rate(study.store, content.get("add-one"), Rating.Good, NOW + timedelta(days=1),
                  NO_FUZZ, content_hash=study.store.state("add-one").content_hash)  # fmt: skip
    _cram(content_copy, db, NOW + timedelta(hours=1))
    assert _flags(content_copy, db) == [EDITED]
    assert _matches_its_log(db)


def test_a_rating_timed_before_a_cram_rating_logged_earlier_is_replayed_before_it(
    content_copy, tmp_path
):
    """The clock set back after cram ratings: a rating timed before one of its card comes
    before it in the log's order, which then records the text the cram rating showed, and
    gives the cram rating of a new card the state the rating left. The states and every
    review's logged schedule are the log's, and stay so when the ratings are undone."""
    db = tmp_path / "reviews.sqlite3"
    content, study = _study(content_copy, db)
    ahead = NOW + timedelta(days=2)  # the clock ahead, then set right
    with study:
        study.rate(content.get("add-one"), Rating.Good, NOW)
        study.cram_rate(content.get("add-one"), Rating.Good, ahead)
        study.cram_rate(content.get("bias-concept"), Rating.Good, ahead)  # a new card
    _edit(content_copy / "cards" / "basics" / "add-one.yaml", "`x + 1`.", "one more than `x`.")
    content, study = _study(content_copy, db)
    with study:
        rated = [
            study.rate(content.get(card_id), Rating.Good, NOW + timedelta(days=1))
            for card_id in ("add-one", "bias-concept")
        ]
    assert _flags(content_copy, db) == [EDITED]  # the old text, crammed later in the log
    assert _matches_its_log(db)
    with Study.open(db, NO_FUZZ) as study:
        for entry in rated:
            study.undo(entry.review.id, NOW + timedelta(days=1, hours=1))
    assert _flags(content_copy, db) == [EDITED]  # as before the rating
    assert _matches_its_log(db)
