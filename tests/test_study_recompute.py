"""New parameters take over at once: each card's memory state (stability, difficulty) is
recomputed from its history with them, its due date kept, as Anki does when a preset's
parameters change; the log records it, so that every replay (the doctor's, an import's)
gives the states that were stored."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Card as FsrsCard
from fsrs.scheduler import DEFAULT_PARAMETERS

from studycli.errors import ClockBehind, StoreBusy, StoreError
from studycli.study import doctor, import_replay
from studycli.study import rating as core
from studycli.study import scheduler as sched
from studycli.study.api import Study, study_items
from studycli.study.review_log_write import write_reviews
from studycli.study.settings import load_settings
from studycli.study.settings_save import save_parameters
from studycli.study.store import Store
from studycli.study.times import iso

from .conftest import FIXTURE_CONTENT
from .study_support import NO_FUZZ, NOW, fixture_content

SAMPLE = Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv"

NEW = NO_FUZZ._replace(  # valid weights far from the defaults': other first stabilities, a
    # steeper mean reversion of difficulty, a larger gain on a recall
    parameters=(1.0, 2.5, 6.0, 20.0, *DEFAULT_PARAMETERS[4:7], 0.2, 2.5, *DEFAULT_PARAMETERS[9:])
)
DAY = timedelta(days=1)
HISTORY = {  # card: its ratings, days after NOW
    "add-one": [(3, 0), (3, 3), (1, 10), (3, 11)],
    "bias-concept": [(4, 0)],
    "poisson-concept": [(2, 1), (3, 4)],
}


def rated(store: Store) -> None:
    content = fixture_content()
    for card_id, ratings in HISTORY.items():
        for rating, day in ratings:
            core.rate(store, content.get(card_id), rating, NOW + day * DAY, NO_FUZZ)


def fsrs_of(store: Store, card_id: str) -> FsrsCard:
    card = core.fsrs_card(store.state(card_id))
    assert card is not None
    return card


def replayed_under(settings, card_id: str, until: datetime, history=None) -> FsrsCard:
    """The card after its ratings (`HISTORY`'s, or `history`: (rating, day) pairs) up to
    `until`, every one of them under `settings`."""
    scheduler = sched.make_scheduler(settings)
    card = None
    for rating, day in history or HISTORY[card_id]:
        moment = NOW + day * DAY
        if moment <= until:
            card = sched.review(scheduler, card or sched.new_card(card_id, moment), rating, moment)
    assert card is not None
    return card


def test_a_recompute_gives_the_memory_state_under_the_new_parameters_and_keeps_the_due_date(
    tmp_path,
):
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        before = {card_id: fsrs_of(store, card_id) for card_id in HISTORY}
        assert Study(store, NEW).recompute_memory(NOW + 12 * DAY) == len(HISTORY)
        for card_id, old in before.items():
            now = fsrs_of(store, card_id)
            expected = replayed_under(NEW, card_id, NOW + 12 * DAY)
            assert (now.stability, now.difficulty) == (expected.stability, expected.difficulty)
            assert (now.stability, now.difficulty) != (old.stability, old.difficulty)
            assert (now.due, now.state, now.step, now.last_review) == (
                old.due, old.state, old.step, old.last_review,
            )  # fmt: skip
        assert store.state("add-one").reps == 4 and store.state("add-one").lapses == 1
        assert core.rebuild(store) == store.states()  # what the doctor replays
        assert Study(store, NEW).recompute_memory(NOW + 13 * DAY) == 0  # the same parameters


def test_a_rating_after_a_recompute_builds_on_it_and_replays_the_same(tmp_path):
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        Study(store, NEW).recompute_memory(NOW + 12 * DAY)
        recomputed = fsrs_of(store, "bias-concept")
        later = NOW + 30 * DAY
        core.rate(store, fixture_content().get("bias-concept"), 3, later, NEW)
        expected = sched.review(sched.make_scheduler(NEW), recomputed, 3, later)
        assert fsrs_of(store, "bias-concept").stability == expected.stability
        assert core.rebuild(store) == store.states()


def test_of_recomputes_with_no_review_between_the_last_counts(tmp_path):
    other = NEW._replace(parameters=(0.5, 1.0, 3.0, 15.0, *DEFAULT_PARAMETERS[4:]))
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        Study(store, NEW).recompute_memory(NOW + 12 * DAY)
        Study(store, other).recompute_memory(NOW + 13 * DAY)
        for card_id in HISTORY:
            expected = replayed_under(other, card_id, NOW + 13 * DAY)
            assert fsrs_of(store, card_id).stability == expected.stability
        core.rate(store, fixture_content().get("add-one"), 3, NOW + 14 * DAY, other)
        assert core.rebuild(store) == store.states()


def test_a_rating_between_two_recomputes_replays_on_the_first(tmp_path):
    """`optimize --write` twice with study between: a card first rated before both, rated
    again between them, builds on the first recompute; the doctor's replay must apply that
    recompute before the rating too (else it reports drift and rewrites the card's due date)."""
    other = NEW._replace(parameters=(0.5, 1.0, 3.0, 15.0, *DEFAULT_PARAMETERS[4:]))
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        Study(store, NEW).recompute_memory(NOW + 12 * DAY)
        core.rate(store, fixture_content().get("add-one"), 3, NOW + 13 * DAY, NEW)
        Study(store, other).recompute_memory(NOW + 14 * DAY)
        assert core.rebuild(store) == store.states()


def test_a_recompute_that_changes_no_state_is_not_logged(tmp_path):
    """`optimize --recompute` twice logged two recomputes, each one more replay of the cards
    reviewed after it for every doctor's and import's replay, and a time before which no
    rating could be undone."""
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        assert Study(store, NEW).recompute_memory(NOW + 12 * DAY) == len(HISTORY)
        logged = store.recomputes()
        assert Study(store, NEW).recompute_memory(NOW + 13 * DAY) == 0
        assert store.recomputes() == logged and len(logged) == 1
        core.rate(store, fixture_content().get("add-one"), 3, NOW + 12.5 * DAY, NEW)
        assert core.rebuild(store) == store.states()


def test_a_recompute_at_a_reviews_very_moment_follows_it(tmp_path):
    at = NOW + 11 * DAY  # add-one's last rating, the log's latest
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        Study(store, NEW).recompute_memory(at)
        assert store.latest_recompute() == at + timedelta(microseconds=1)
        card, expected = fsrs_of(store, "add-one"), replayed_under(NEW, "add-one", at)
        assert (card.stability, card.difficulty) == (expected.stability, expected.difficulty)
        assert core.rebuild(store) == store.states()


def test_a_rating_at_the_recomputes_moment_follows_it_and_one_before_is_refused(tmp_path):
    """Under a fixed clock (STUDYCLI_NOW) a session after `optimize --write` rates at the
    recompute's very moment: the rating builds on the recomputed state, and so does the
    replay. A clock behind the recompute by more than two clocks may be apart (5 minutes) is
    refused, as one behind the card's last review."""
    content = fixture_content()
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        at = NOW + 20 * DAY
        Study(store, NEW).recompute_memory(at)
        with pytest.raises(ClockBehind, match="recomputed with new parameters at 2025-03-21"):
            behind = at - timedelta(minutes=5, microseconds=1)
            core.rate(store, content.get("bias-concept"), 3, behind, NEW)
        recomputed = fsrs_of(store, "bias-concept")
        core.rate(store, content.get("bias-concept"), 3, at, NEW)
        expected = sched.review(sched.make_scheduler(NEW), recomputed, 3, at)
        assert fsrs_of(store, "bias-concept").stability == expected.stability
        assert core.rebuild(store) == store.states()


def test_a_recompute_with_the_clock_behind_follows_the_whole_history(tmp_path):
    """With the clock behind the latest review, or behind an earlier recompute, a recompute
    still takes effect on every review (it is logged just after them), and a review before
    it can no longer be undone (its state before is stale)."""
    content = fixture_content()
    other = NEW._replace(parameters=(0.5, 1.0, 3.0, 15.0, *DEFAULT_PARAMETERS[4:]))
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        last = core.rate(store, content.get("bias-concept"), 3, NOW + 30 * DAY, NO_FUZZ)
        Study(store, other).recompute_memory(NOW + 5 * DAY)
        assert Study(store, NEW).recompute_memory(NOW + 4 * DAY) == len(HISTORY)
        until = NOW + 30 * DAY
        for card_id in HISTORY:
            history = HISTORY[card_id] + ([(3, 30)] if card_id == "bias-concept" else [])
            expected = replayed_under(NEW, card_id, until, history)
            assert fsrs_of(store, card_id).stability == expected.stability
        with pytest.raises(StoreError, match="after this rating"):
            core.undo(store, last.id, NOW + 31 * DAY)
        assert core.rebuild(store) == store.states()


def test_a_cram_rating_on_either_side_of_a_recompute_logs_the_state_a_replay_gives(tmp_path):
    """A cram rating logs the state it left as it was, which the doctor compares with the
    replay's. One timed after a recompute made with the clock behind it (a recompute is timed
    after the reviews that make the schedule, not after a cram rating) is replayed after it:
    it logs the recomputed state; one timed before a recompute (the clock set back since) is
    replayed before it: it logs the state before."""
    content = fixture_content()
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)  # the last review on day 11
        core.cram(store, content.get("add-one"), 3, NOW + 20 * DAY, NO_FUZZ)  # the clock ahead
        assert Study(store, NEW).recompute_memory(NOW + 12 * DAY) == len(HISTORY)
        core.cram(store, content.get("bias-concept"), 3, NOW + 11.5 * DAY, NO_FUZZ)
        report = doctor.examine(store, repair=False)
        assert (report.drifted, report.drifted_reviews) == ([], [])
        assert core.rebuild(store) == store.states()


def test_a_cram_rating_at_a_recomputes_moment_is_undone_to_the_replays_state(tmp_path):
    """A recompute made with the clock held at a cram rating's time comes before it in a
    replay (a recompute is timed after the reviews that make the schedule alone): undone, the
    cram rating leaves the recomputed state, not the one it logged before the recompute."""
    content = fixture_content()
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        crammed = core.cram(store, content.get("add-one"), 3, NOW + 12 * DAY, NO_FUZZ)
        assert Study(store, NEW).recompute_memory(NOW + 12 * DAY) == len(HISTORY)
        recomputed = store.state("add-one")
        assert core.undo(store, crammed.id, NOW + 12 * DAY) == recomputed
        assert not doctor.examine(store, repair=False).differs
        assert core.rebuild(store) == store.states()


def test_a_write_while_it_computes_is_not_lost(tmp_path, monkeypatch):
    """The recompute reads without the write lock: a rating committed by another process
    meanwhile makes it compute again, on the log with that rating."""
    path = tmp_path / "r.sqlite3"
    content = fixture_content()
    with Store.open(path) as store:
        rated(store)
        study = Study(store, NEW)
        computed = study._recomputed
        calls = []

        def meanwhile(*args):
            if not calls:
                with Store.open(path) as other:  # another process's session
                    core.rate(other, content.get("bias-concept"), 3, NOW + 12 * DAY, NO_FUZZ)
            calls.append(args)
            return computed(*args)

        monkeypatch.setattr(study, "_recomputed", meanwhile)
        study.recompute_memory(NOW + 13 * DAY)
        assert len(calls) == 2
        assert store.state("bias-concept").reps == 2
        assert core.rebuild(store) == store.states()


def test_only_a_rating_made_since_the_recompute_can_be_undone(tmp_path):
    content = fixture_content()
    with Store.open(tmp_path / "r.sqlite3") as store:
        last = core.rate(store, content.get("add-one"), 3, NOW, NO_FUZZ)
        Study(store, NEW).recompute_memory(NOW + DAY)
        with pytest.raises(StoreError, match="recomputed with new parameters at 2025-03-02"):
            core.undo(store, last.id, NOW + 2 * DAY)
        recomputed = store.state("add-one")
        since = core.rate(store, content.get("add-one"), 3, NOW + 5 * DAY, NEW)
        assert core.undo(store, since.id, NOW + 6 * DAY) == recomputed


@pytest.mark.parametrize("workers", [False, True])
def test_an_import_replays_its_cards_through_the_recomputes(tmp_path, monkeypatch, workers):
    """Another machine's reviews, some before the recompute (which must then count them),
    one at its moment, some after it, of cards studied here and of one that was not."""
    if workers:  # the replay in forked workers, which are sent the recomputes
        monkeypatch.setattr(import_replay, "PARALLEL_FROM", 1)
    elsewhere = tmp_path / "elsewhere.csv"
    write_reviews(elsewhere, [
        ("add-one", 4, iso(NOW + 5 * DAY + timedelta(hours=3)), None, None, None),
        ("triangle-derivation", 3, iso(NOW + 2 * DAY), None, None, None),
        ("triangle-derivation", 3, iso(NOW + 20 * DAY), None, None, None),
        ("poisson-concept", 3, iso(NOW + 12 * DAY), None, None, None),  # at the recompute's
        ("bias-concept", 3, iso(NOW + 25 * DAY), None, None, None),  # moment: after it
    ])  # fmt: skip
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        study = Study(store, NEW)
        study.recompute_memory(NOW + 12 * DAY)
        result = study.import_reviews(
            elsewhere, study_items(fixture_content().cards.values()), NOW + 40 * DAY
        )
        assert result.added == 5
        assert core.rebuild(store) == store.states()
        # add-one's reviews, the imported one among them, all came before the recompute
        history = sorted([*HISTORY["add-one"], (4, 5 + 3 / 24)], key=lambda review: review[1])
        expected = replayed_under(NEW, "add-one", NOW + 12 * DAY, history)
        card = fsrs_of(store, "add-one")
        assert (card.stability, card.difficulty) == (expected.stability, expected.difficulty)
        triangle = fsrs_of(store, "triangle-derivation")
        assert triangle.last_review == NOW + 20 * DAY


def test_optimize_write_recomputes_and_recompute_redoes_it_after_a_hand_edit(cli, isolated_home):
    imported = cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE)
    assert imported.exit_code == 0, imported.output
    db = isolated_home / "data" / "reviews.sqlite3"

    def states() -> dict:
        with Store.open(db) as store:
            return {i: json.loads(s.fsrs) for i, s in store.states().items() if s.fsrs}

    before = states()
    written = cli("--content", FIXTURE_CONTENT, "optimize", "--write", "--json")
    assert written.exit_code == 0, written.output
    shown = json.loads(written.stdout)
    after = states()
    changed = [i for i in after if after[i]["stability"] != before[i]["stability"]]
    assert shown["recomputed"] == len(changed) > 1000
    assert all(after[i]["due"] == before[i]["due"] for i in after)
    doctor = cli("--content", FIXTURE_CONTENT, "doctor", "--json")
    assert json.loads(doctor.stdout)["drifted"] == [], doctor.output

    save_parameters(isolated_home / "config" / "settings.toml", NEW.parameters)  # by hand
    redone = cli("--content", FIXTURE_CONTENT, "optimize", "--recompute")
    said = " ".join(redone.stdout.split())
    assert redone.exit_code == 0 and "recomputed with your parameters (settings.toml)" in said
    again = states()
    assert f"{sum(again[i] != after[i] for i in again):,} cards changed" in said
    doctor = cli("--content", FIXTURE_CONTENT, "doctor", "--json")
    assert json.loads(doctor.stdout)["drifted"] == [], doctor.output
    twice = cli("--content", FIXTURE_CONTENT, "optimize", "--recompute")
    assert "0 cards changed" in " ".join(twice.stdout.split())
    with Store.open(db) as store:
        assert len(store.recomputes()) == 2  # the fit's and the hand edit's, not the third
    refused = cli("optimize", "--recompute", "--write")
    said = " ".join(refused.stderr.split())  # a usage error: exit 2, nothing on stdout
    assert refused.exit_code == 2 and "--recompute: it fits nothing" in said and not refused.stdout


def test_the_doctor_says_where_states_are_not_what_the_saved_parameters_give(cli, isolated_home):
    """Parameters saved and the states not recomputed (an `optimize --write` killed between
    the two: SIGKILL, which no handler sees; or a hand edit) went unnoticed: the doctor saw
    states that agree with the log. It now counts the states a recompute would change."""
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0

    def stale() -> int:
        doctor = cli("--content", FIXTURE_CONTENT, "doctor", "--json")
        assert doctor.exit_code == 0, doctor.output  # (the log and the states agree)
        return json.loads(doctor.stdout)["stale_memory_states"]

    assert stale() == 0
    save_parameters(isolated_home / "config" / "settings.toml", NEW.parameters)
    assert stale() > 1000
    said = " ".join(cli("--content", FIXTURE_CONTENT, "doctor").stdout.split())
    assert "memory states are not what the FSRS parameters in settings.toml give" in said
    assert "`studycli optimize --recompute` recomputes them" in said
    assert cli("--content", FIXTURE_CONTENT, "optimize", "--recompute").exit_code == 0
    assert stale() == 0


def test_stale_states_are_counted_by_a_replay_only_where_parameters_changed(tmp_path, monkeypatch):
    """The count replays every history (as much again as the doctor's own replay): where
    every review since the last recompute was made with the settings' parameters, no state
    can be stale and none is replayed. A rating made with new parameters beside states made
    with the old ones still sends it to the replay."""
    with Store.open(tmp_path / "r.sqlite3") as store:
        rated(store)
        replays = []
        real = Study._changed
        monkeypatch.setattr(Study, "_changed", lambda self, *a: replays.append(1) or real(self, *a))
        assert Study(store, NO_FUZZ).stale_memory_states() == 0
        assert replays == []
        assert Study(store, NEW).stale_memory_states() == len(HISTORY)
        core.rate(store, fixture_content().get("bias-concept"), 3, NOW + 12 * DAY, NEW)
        assert Study(store, NEW).stale_memory_states() == len(HISTORY)
        Study(store, NEW).recompute_memory(NOW + 14 * DAY)
        replays.clear()
        assert Study(store, NEW).stale_memory_states() == 0 and replays == []


def test_a_fit_written_from_a_csv_makes_no_review_database(cli, isolated_home):
    written = cli("optimize", "--from-csv", SAMPLE, "--write", "--json")
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["recomputed"] == 0
    assert not (isolated_home / "data" / "reviews.sqlite3").exists()


@pytest.mark.parametrize("as_json", [False, True])
def test_a_recompute_that_fails_saves_no_parameters(cli, isolated_home, monkeypatch, as_json):
    """The database busy past the wait during the recompute: settings.toml was written
    before it, and the new parameters scheduled with the old memory states until the
    learner ran `--recompute`. The file is now written last: nothing is saved, and the error
    says why (the fit's figures still shown, in one JSON object)."""
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0

    def busy(self, now, **_):
        raise StoreBusy("... let that one finish and run the command again", "kept locked")

    monkeypatch.setattr(Study, "recompute_memory", busy)
    result = cli("optimize", "--write", *(["--json"] if as_json else []))
    assert result.exit_code == 1
    settings_file = isolated_home / "config" / "settings.toml"
    said = " ".join(result.stderr.split())
    assert "the parameters were not saved: kept locked" in said, said
    assert "run the command again" not in said and "--recompute" not in said
    if as_json:
        shown = json.loads(result.stdout)
        assert shown["written"] is None and shown["recomputed"] is None
        assert len(shown["parameters"]) == 21 and "kept locked" in shown["error"]
    else:
        assert "written to" not in " ".join(result.stdout.split())
    assert not settings_file.exists()
    assert not list(settings_file.parent.glob(".settings.toml.*"))  # (nor a copy beside it)


@pytest.mark.parametrize("as_json", [False, True])
def test_a_recompute_a_full_disk_stops_says_how_to_make_room(
    cli, isolated_home, monkeypatch, as_json
):
    """A full disk during the recompute said only "the parameters were not saved: the disk
    holding X is full", without the "free some space and run the command again" that every
    other full-disk message has (the busy case has no advice: nothing to do but wait)."""
    from studycli.study import sqlite_errors

    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    db = isolated_home / "data" / "reviews.sqlite3"

    def full(self, now, **_):
        raise sqlite_errors._full(db)

    monkeypatch.setattr(Study, "recompute_memory", full)
    result = cli("optimize", "--write", *(["--json"] if as_json else []))
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert (
        f"the parameters were not saved: the disk holding {db} is full: free some space and "
        "run the command again" in said
    ), said
    assert not (isolated_home / "config" / "settings.toml").exists()


@pytest.mark.parametrize("as_json", [False, True])
def test_a_database_that_cannot_be_written_is_found_before_the_parameters_are_saved(
    cli, isolated_home, monkeypatch, as_json
):
    """A database locked by another program (or on a read-only mount): settings.toml was
    written, then the recompute failed, and the new parameters scheduled the next reviews
    while the memory states stayed the old ones'."""
    import sqlite3

    from studycli.study import busy

    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.2)
    settings_file = isolated_home / "config" / "settings.toml"
    before = settings_file.read_text() if settings_file.exists() else None
    holder = sqlite3.connect(isolated_home / "data" / "reviews.sqlite3", timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = cli("optimize", "--write", *(["--json"] if as_json else []))
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "the parameters were not saved:" in said and "--recompute" not in said, said
    assert (settings_file.read_text() if settings_file.exists() else None) == before
    if as_json:
        assert json.loads(result.stdout)["written"] is None


def test_write_replaces_invalid_parameters_and_a_settings_file_it_cannot_write_saves_nothing(
    cli, isolated_home, monkeypatch
):
    """Opening the database before saving read settings.toml whole: invalid `parameters`,
    what --write is there to replace, refused it. And a settings file that could not be
    written was reported as saved, with the recompute failed."""
    from studycli import paths

    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    settings_file = isolated_home / "config" / "settings.toml"
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text("parameters = [1.0, 2.0]\n")
    fixed = cli("optimize", "--write", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert len(load_settings(settings_file).parameters) == 21

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(paths, "replacing", refused)
    settings_file.write_text("parameters = [1.0, 2.0]\n")
    with Store.open(isolated_home / "data" / "reviews.sqlite3") as store:
        before = store.states()
    result = cli("optimize", "--write", "--json")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "the parameters were not saved:" in said, said
    assert "Permission denied" in said and "--recompute" not in said
    assert json.loads(result.stdout)["written"] is None
    with Store.open(isolated_home / "data" / "reviews.sqlite3") as store:
        assert store.states() == before  # (found before the recompute, not after)
