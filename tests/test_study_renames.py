"""A card renamed with `renamed_from:` keeps every learner's history: its reviews, state,
suspension and burial move onto the new id (a cloze card's deletion by deletion) the first
time the database is opened with the renamed content, in one transaction; a history the new id
had too merges with it; an export made before the rename imports onto the new id; the log
refuses a review's card changed any other way."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from studycli.content.loader import load_content
from studycli.errors import StoreError
from studycli.study import rating as core
from studycli.study.api import Study, study_items
from studycli.study.store import Store

from .conftest import edit, write_card
from .study_support import NO_FUZZ, NOW, rows

DAY = timedelta(days=1)
CLOZE = (
    "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
    "prompt: The mean of Poisson(λ) is {{c1::λ}}; its variance is {{c2::also λ::a parameter}}.\n"
)


def rename(root: Path, old: str, new: str, deck: str = "basics", listed: bool = True) -> None:
    """Rename the card `old` of `root` to `new`, file and id, listing the old id in
    `renamed_from` (or not: a rename made the way it was before)."""
    path = root / "cards" / deck / f"{old}.yaml"
    moved = path.with_name(f"{new}.yaml")
    path.rename(moved)
    field = f"renamed_from: [{old}]\n" if listed else ""
    edit(moved, f"id: {old}\n", f"id: {new}\n{field}")


def opened(db: Path, root: Path, **how) -> Study:
    """The database at `db` opened as a command opens it with the content at `root`."""
    return Study.open(db, NO_FUZZ, renames=load_content(root).renames, **how)


def rated(db: Path, root: Path, plan: list[tuple[str, int, int]]) -> None:
    """Rate the study items of `root` as planned: (item id, rating, day after NOW)."""
    content = load_content(root)
    items = {item.id: item for item in study_items(content.cards.values())}
    with Study.open(db, NO_FUZZ) as study:
        for item_id, rating, day in plan:
            study.rate(items[item_id], rating, NOW + day * DAY)


def imported(root: Path, lines: list[str], tmp_path: Path, name: str = "fresh.sqlite3") -> Study:
    """A new database with the reviews of `lines` (CSV rows) imported, with the content at
    `root`: what a replay of that history gives."""
    csv = tmp_path / f"{name}.csv"
    csv.write_text("card_id,review_rating,review_time\n" + "\n".join(lines) + "\n")
    study = opened(tmp_path / name, root)
    items = study_items(load_content(root).cards.values())
    study.import_reviews(csv, items, NOW + 100 * DAY)
    return study


def states(study: Study) -> dict[str, tuple]:
    """Each item's schedule as the store holds it: (fsrs state, lapses, reps, suspended)."""
    return {i: (s.fsrs, s.lapses, s.reps, s.suspended) for i, s in study.store.states().items()}


def test_a_renamed_cards_reviews_state_and_suspension_become_the_new_ids(tmp_path, content_copy):
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0), ("bias-concept", 1, 3), ("add-one", 3, 0)])
    with Study.open(db, NO_FUZZ) as study:
        study.set_suspended([load_content(content_copy).get("bias-concept")], True)
        before = study.state("bias-concept")
    rename(content_copy, "bias-concept", "neuron-bias")

    with opened(db, content_copy) as study:
        state = study.state("neuron-bias")
        assert study.state("bias-concept") is None
        assert (state.reps, state.lapses, state.suspended) == (before.reps, before.lapses, True)
        assert [r.rating for r in study.history("neuron-bias")] == [1, 3]
        assert study.history("bias-concept") == []
        assert sorted(study.store.states()) == ["add-one", "neuron-bias"]
        assert "bias-concept -> neuron-bias" in study.store.notes[-1]
        after = rows(study.store)
    # what a replay of the log gives (the doctor's): no drift to repair
    with Study.open(db, NO_FUZZ) as study:
        assert core.rebuild(study.store) == study.store.states()
    with opened(db, content_copy) as study:  # opened again: nothing more to move
        assert rows(study.store) == after and study.store.notes == []


def test_a_renamed_cloze_card_keeps_each_deletions_history_by_number(tmp_path, content_copy):
    write_card(content_copy, "numbers", "poisson-cloze", CLOZE)
    db = tmp_path / "reviews.sqlite3"
    plan = [("poisson-cloze#c1", 3, 0), ("poisson-cloze#c2", 1, 0), ("poisson-cloze#c2", 3, 1)]
    rated(db, content_copy, plan)
    rename(content_copy, "poisson-cloze", "poisson-moments", deck="numbers")

    with opened(db, content_copy) as study:
        assert {i: s.reps for i, s in study.store.states().items()} == {
            "poisson-moments#c1": 1,
            "poisson-moments#c2": 2,
        }
        assert study.history_size("poisson-moments") == 3
        assert study.history_size("poisson-moments#c2") == 2
        assert study.history_size("poisson-cloze") == 0


def test_histories_under_both_ids_merge_in_time_order_as_an_import_merges_them(
    tmp_path, content_copy
):
    """Reviews of the old id here, and of the new id from another machine that pulled the
    rename first (imported before this one pulled it): one history, replayed in time order,
    as an import of both into the renamed content gives it."""
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0), ("bias-concept", 3, 9)])
    rename(content_copy, "bias-concept", "neuron-bias", listed=False)
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text(f"card_id,review_rating,review_time\nneuron-bias,1,{NOW + 4 * DAY}\n")
    with Study.open(db, NO_FUZZ) as study:
        items = study_items(load_content(content_copy).cards.values())
        study.import_reviews(elsewhere, items, NOW + 10 * DAY)
    edit(content_copy / "cards" / "basics" / "neuron-bias.yaml", "id: neuron-bias\n",
         "id: neuron-bias\nrenamed_from: [bias-concept]\n")  # fmt: skip

    with opened(db, content_copy) as study:
        merged = study.history("neuron-bias")
        assert [(r.rating, r.reviewed_at) for r in reversed(merged)] == [
            (3, NOW),
            (1, NOW + 4 * DAY),
            (3, NOW + 9 * DAY),
        ]
        assert study.state("neuron-bias").reps == 3 and study.state("bias-concept") is None
        queues = [r.queue for r in reversed(merged)]
        got = states(study)
    lines = [f"neuron-bias,{r},{NOW + d * DAY}" for r, d in ((3, 0), (1, 4), (3, 9))]
    with imported(content_copy, lines, tmp_path) as replay:
        assert states(replay) == got
        assert [r.queue for r in reversed(replay.history("neuron-bias"))] == queues


def test_the_commands_show_the_history_under_the_new_id_before_anything_is_rated(
    cli, tmp_path, content_copy, monkeypatch
):
    """Right after a pull that renamed a card: `due`, `stats`, `history --card NEW` and
    `suspend` see its history, and `stats` names no item left in the history only."""
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0), ("bias-concept", 3, 3)])
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + 60 * DAY).isoformat())
    base = ("--content", content_copy, "--db", db)
    before = json.loads(cli(*base, "due", "--json").stdout)
    rename(content_copy, "bias-concept", "neuron-bias")

    # `history` loads no card: the renames come from the content index's study rows
    history = cli(*base, "history", "--card", "neuron-bias", "--json")
    assert [r["card"] for r in json.loads(history.stdout)] == ["neuron-bias", "neuron-bias"]
    assert "bias-concept -> neuron-bias" in history.stderr  # (said once, when it moved)
    due = cli(*base, "due", "--json")
    assert due.exit_code == 0 and json.loads(due.stdout) == before and due.stderr == ""
    stats = json.loads(cli(*base, "stats", "--json").stdout)
    assert stats["not_in_content"] == 0 and stats["not_in_content_ids"] == []
    assert stats["cards_by_state"]["new"] == 3  # (not 4: the renamed card is no new card)
    shown = cli(*base, "show", "bias-concept")
    assert shown.exit_code == 1
    assert "it was renamed 'neuron-bias'" in " ".join(shown.stderr.split())


def test_a_review_the_log_holds_under_both_ids_moves_as_one_review(tmp_path, content_copy):
    """Two machines synced by export and import: the other one pulled the rename first, and
    its export (its history under the new id, this machine's ratings among it) was imported
    here before this one pulled it: kept under the new id, "not in the content". Once this
    one pulls it, each of those reviews is in the log under both ids: it is one review, as an
    import keeps one per card and time, and the card's state counts it once."""
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0), ("bias-concept", 3, 3)])
    lines = [f"neuron-bias,3,{NOW}", f"neuron-bias,3,{NOW + 3 * DAY}"]  # the other's export
    other = tmp_path / "other.csv"
    other.write_text("card_id,review_rating,review_time\n" + "\n".join(lines) + "\n")
    with Study.open(db, NO_FUZZ) as study:  # (the content before the rename)
        items = study_items(load_content(content_copy).cards.values())
        study.import_reviews(other, items, NOW + 10 * DAY)
    rename(content_copy, "bias-concept", "neuron-bias")

    with opened(db, content_copy) as study:
        assert [r.reviewed_at for r in study.history("neuron-bias")] == [NOW + 3 * DAY, NOW]
        assert study.state("neuron-bias").reps == 2
        got = states(study)
        assert core.rebuild(study.store) == study.store.states()
    with imported(content_copy, lines, tmp_path) as replay:  # what every replay gives
        assert states(replay) == got


def test_a_moved_twin_is_undone_at_the_commands_time_and_a_later_rating_can_be_undone(
    tmp_path, content_copy
):
    """The copy of a review held under both ids is marked undone at the command's time (the
    clock's, or STUDYCLI_NOW's), not the wall clock's: an undo of a rating given after the
    move compares that time with the rating's, and a wall-clock time later than a command's
    faked one refused the undo ("an import took back an earlier rating")."""
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0)])
    other = tmp_path / "other.csv"
    other.write_text(f"card_id,review_rating,review_time\nneuron-bias,3,{NOW}\n")
    with Study.open(db, NO_FUZZ) as study:
        items = study_items(load_content(content_copy).cards.values())
        study.import_reviews(other, items, NOW + 1 * DAY)
    rename(content_copy, "bias-concept", "neuron-bias")
    moved_at = NOW + 2 * DAY

    with opened(db, content_copy, now=moved_at) as study:
        undone = study.store.conn.execute("SELECT undone_at FROM undos").fetchall()
        assert [when for (when,) in undone] == [moved_at.isoformat(timespec="microseconds")]
        card = {item.id: item for item in study_items(load_content(content_copy).cards.values())}
        rated_now = study.rate(card["neuron-bias"], 3, moved_at + timedelta(hours=1))
        study.undo(rated_now.review.id, moved_at + timedelta(hours=2))
        assert study.state("neuron-bias").reps == 1


def test_a_history_moved_in_a_transaction_that_fails_leaves_the_database_as_it_was(
    tmp_path, content_copy, monkeypatch
):
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0)])
    with Store.open(db) as store:
        before = rows(store)
    rename(content_copy, "bias-concept", "neuron-bias")
    from studycli.study import import_replay

    def crash(*args):
        raise RuntimeError("killed mid-way")

    monkeypatch.setattr(import_replay, "replay_logged", crash)
    with pytest.raises(RuntimeError, match="killed mid-way"):
        opened(db, content_copy)
    with Store.open(db) as store:
        assert rows(store) == before
        assert store.conn.execute("SELECT COUNT(*) FROM renames").fetchone() == (0,)


def test_a_read_only_database_is_read_with_the_history_moved_and_left_as_it_is(
    tmp_path, content_copy
):
    """A backup (opened read-only): a command that reads it sees the new id's history, from
    a copy in memory; the file is not changed."""
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0)])
    backup = tmp_path / "reviews.sqlite3.before-0009.bak"
    with Store.open(db) as store:
        store.conn.execute("VACUUM INTO ?", (str(backup),))
    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    rename(content_copy, "bias-concept", "neuron-bias")

    with opened(backup, content_copy, write=False) as study:
        assert study.history_size("neuron-bias") == 1 and study.state("neuron-bias").reps == 1
        assert "left as it is" in study.store.notes[-1]
    assert hashlib.sha256(backup.read_bytes()).hexdigest() == digest


def test_a_rating_made_before_its_history_moved_is_not_undone(tmp_path, content_copy):
    """Its state before is the old id's, or half of a history merged since."""
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0), ("bias-concept", 3, 1)])
    rename(content_copy, "bias-concept", "neuron-bias")
    with opened(db, content_copy) as study:
        latest = study.history("neuron-bias")[0]
        with pytest.raises(
            StoreError, match="carried over from bias-concept, the id its card had before"
        ):
            study.undo(latest.id, NOW + 2 * DAY)
        card = load_content(content_copy).get("neuron-bias")
        since = study.rate(card, 3, NOW + 5 * DAY)
        assert study.undo(since.review.id, NOW + 5 * DAY).reps == 2


def test_the_log_lets_a_reviews_card_change_only_as_a_recorded_move(tmp_path, content_copy):
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0)])
    with Store.open(db) as store:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute("UPDATE reviews SET card_id = 'neuron-bias'")
        store.conn.execute(
            "INSERT INTO renames (old_id, new_id, moved_through) VALUES ('bias-concept', 'x', 1)"
        )
        for change in ("card_id = 'other'", "card_id = 'x', rating = 4"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                store.conn.execute(f"UPDATE reviews SET {change}")
        store.conn.execute("UPDATE reviews SET card_id = 'x'")
        assert [r.card_id for r in store.reviews()] == ["x"]
        for sql in ("UPDATE renames SET new_id = 'y'", "DELETE FROM renames"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                store.conn.execute(sql)


def test_an_export_made_before_the_rename_imports_onto_the_new_id(cli, tmp_path, content_copy):
    """Another machine's export, written before it pulled the rename: its rows under the old
    ids land on the new ones (a cloze card's by deletion number), none "not in the content";
    and an export now writes the new ids."""
    write_card(content_copy, "numbers", "poisson-cloze", CLOZE)
    laptop = tmp_path / "laptop.sqlite3"
    plan = [("bias-concept", 3, 0), ("poisson-cloze#c2", 3, 0), ("bias-concept", 3, 4)]
    rated(laptop, content_copy, plan)
    export = tmp_path / "laptop.csv"
    with Study.open(laptop, NO_FUZZ) as study:
        study.export_reviews(export)
    rename(content_copy, "bias-concept", "neuron-bias")
    rename(content_copy, "poisson-cloze", "poisson-moments", deck="numbers")

    db = tmp_path / "desktop.sqlite3"
    base = ("--content", content_copy, "--db", db)
    result = cli(*base, "import-reviews", export, "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert (outcome["added"], outcome["unknown_cards"]) == (3, 0)
    with opened(db, content_copy) as study:
        assert study.history_size("neuron-bias") == 2
        assert study.history_size("poisson-moments#c2") == 1
        assert sorted(study.store.states()) == ["neuron-bias", "poisson-moments#c2"]
    again = tmp_path / "again.csv"
    assert cli(*base, "export-reviews", again).exit_code == 0
    written = {line.split(",")[0] for line in again.read_text().splitlines()[1:]}
    assert written == {"neuron-bias", "poisson-moments#c2"}
    # a row under the old cloze card's own id (made while it was no cloze card) is kept under
    # the new card's own id, as one under that id is: history, no deletion's
    own = tmp_path / "own.csv"
    own.write_text(f"card_id,review_rating,review_time\npoisson-cloze,3,{NOW}\n")
    kept = cli(*base, "import-reviews", own, "--json")
    assert kept.exit_code == 0, kept.output
    outcome = json.loads(kept.stdout)
    assert (outcome["added"], outcome["unknown_cards"]) == (1, 0)
    assert outcome["cloze_cards_own_id"] == ["poisson-moments"]


def test_a_fit_to_an_export_made_before_the_rename_reads_it_under_the_new_ids(
    cli, tmp_path, content_copy
):
    """`optimize --from-csv` read a log's old ids as other cards than the new ones, as the
    import does not: a card's history exported in two parts, under its old id and its new
    one (a cloze deletion's too), was fitted as two cards, its later reviews as first ones.
    It fits as the same log written under the new ids does."""
    write_card(content_copy, "numbers", "poisson-cloze", CLOZE)
    rename(content_copy, "bias-concept", "neuron-bias")
    rename(content_copy, "poisson-cloze", "poisson-moments", deck="numbers")
    sample = (Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv").read_text()
    header, *lines = sample.splitlines()
    first, second = sorted({line.split(",")[0] for line in lines})[:2]  # a history each

    def written(name: str, ids: dict[str, tuple[str, str]]) -> Path:
        """The sample, each history of `ids` under (its first half's id, its second's)."""
        seen: dict[str, int] = {}
        out = []
        for line in lines:
            card, rest = line.split(",", 1)
            if card in ids:
                seen[card] = seen.get(card, 0) + 1
                card = ids[card][seen[card] > 3]
            out.append(f"{card},{rest}")
        path = tmp_path / name
        path.write_text("\n".join([header, *out]) + "\n")
        return path

    old = written("old.csv", {first: ("bias-concept", "neuron-bias"),
                              second: ("poisson-cloze#c2", "poisson-moments#c2")})  # fmt: skip
    new = written("new.csv", {first: ("neuron-bias",) * 2, second: ("poisson-moments#c2",) * 2})
    fits = []
    for path in (old, new):
        result = cli("--content", content_copy, "optimize", "--from-csv", path, "--json")
        assert result.exit_code == 0, result.output
        fits.append({k: v for k, v in json.loads(result.stdout).items() if k != "seconds"})
    assert fits[0] == fits[1]


def test_nothing_is_read_of_the_log_where_no_card_was_renamed(tmp_path, content_copy, monkeypatch):
    """`due`'s start: a content with no `renamed_from` asks the store nothing more."""
    db = tmp_path / "reviews.sqlite3"
    rated(db, content_copy, [("bias-concept", 3, 0)])
    asked = []
    monkeypatch.setattr(Store, "held_items", lambda self, card_id: asked.append(card_id))
    with opened(db, content_copy) as study:
        assert study.state("bias-concept") is not None
    assert asked == []
