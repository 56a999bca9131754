"""A cloze deletion its author split off into a card of its own (`renamed_from: [old#c2]`), or
into another cloze card's deletion (`old#c2 -> c1`), keeps every learner's history: its reviews,
state and suspension move onto the new study item the first time the database is opened with
the split content, and are replayed there; the deletions left behind keep theirs; an export
made before the split imports onto the new item."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from studycli.content.loader import load_content
from studycli.errors import StoreError
from studycli.study.api import Study, study_items

from .conftest import edit, write_card
from .study_support import NO_FUZZ, NOW

DAY = timedelta(days=1)
CLOZE = (
    "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
    "prompt: The mean of Poisson(λ) is {{c1::λ}}; its variance is {{c2::also λ::a parameter}}.\n"
)
PLAIN = (
    "id: poisson-variance\nkind: concept\ntopic: poisson\ntitle: Poisson variance\n"
    "renamed_from: [poisson-cloze#c2]\n"
    "prompt: What is the variance of Poisson(λ)?\nanswer: λ, as its mean.\n"
)
SPLIT_CLOZE = (
    "id: poisson-spread\nkind: cloze\ntopic: poisson\ntitle: Poisson spread\n"
    "renamed_from: ['poisson-cloze#c2 -> c1']\n"
    "prompt: The variance of Poisson(λ) is {{c1::λ}}; its skewness {{c2::λ^-1/2}}.\n"
)
PLAN = [
    ("poisson-cloze#c1", 3, 0),
    ("poisson-cloze#c2", 1, 0),
    ("poisson-cloze#c2", 3, 1),
    ("poisson-cloze#c2", 3, 5),
]


def rated(db: Path, root: Path, plan: list[tuple[str, int, int]]) -> None:
    """Rate the study items of `root` as planned: (item id, rating, day after NOW)."""
    items = {item.id: item for item in study_items(load_content(root).cards.values())}
    with Study.open(db, NO_FUZZ) as study:
        for item_id, rating, day in plan:
            study.rate(items[item_id], rating, NOW + day * DAY)


def cloze_rated(db: Path, root: Path) -> Path:
    """`db`, a review database in which `root`'s cloze card poisson-cloze (written there) was
    rated as PLAN says."""
    write_card(root, "numbers", "poisson-cloze", CLOZE)
    rated(db, root, PLAN)
    return db


def split(root: Path, new: str) -> None:
    """Take deletion c2 out of poisson-cloze, and write the card `new` that takes it over."""
    edit(root / "cards" / "numbers" / "poisson-cloze.yaml",
         "; its variance is {{c2::also λ::a parameter}}.", ".")  # fmt: skip
    card_id = new.split("\n", 1)[0].removeprefix("id: ")
    write_card(root, "numbers", card_id, new)


def opened(db: Path, root: Path) -> Study:
    return Study.open(db, NO_FUZZ, renames=load_content(root).renames)


def imported(root: Path, lines: list[str], db: Path) -> Study:
    """A new database at `db` with the reviews of `lines` (CSV rows) imported, with the content
    at `root`: what a replay of that history gives."""
    csv = db.with_suffix(".csv")
    csv.write_text("card_id,review_rating,review_time\n" + "\n".join(lines) + "\n")
    study = opened(db, root)
    study.import_reviews(csv, study_items(load_content(root).cards.values()), NOW + 100 * DAY)
    return study


def test_a_deletion_split_off_into_a_plain_card_takes_its_history_there(tmp_path, content_copy):
    db = cloze_rated(tmp_path / "reviews.sqlite3", content_copy)
    with Study.open(db, NO_FUZZ) as study:
        kept = study.state("poisson-cloze#c1")
        study.set_suspended(
            [i for i in study_items(load_content(content_copy).cards.values()) if i.cloze == 2],
            True,
        )
    split(content_copy, PLAIN)
    assert load_content(content_copy).renames == {"poisson-cloze#c2": "poisson-variance"}

    with opened(db, content_copy) as study:
        assert [r.rating for r in reversed(study.history("poisson-variance"))] == [1, 3, 3]
        assert study.history_size("poisson-cloze#c2") == 0
        assert study.state("poisson-cloze#c2") is None
        moved = study.state("poisson-variance")
        assert (moved.reps, moved.suspended) == (3, True)
        assert study.state("poisson-cloze#c1") == kept  # (the deletion left behind: as it was)
        assert "poisson-cloze#c2 -> poisson-variance" in study.store.notes[-1]
        got = study.store.states()
    with opened(db, content_copy) as study:  # opened again: nothing more to move
        assert study.store.notes == [] and study.store.states() == got
    # the schedule is the one a replay of the history under the new id gives
    lines = [f"poisson-variance,{r},{NOW + d * DAY}" for _, r, d in PLAN[1:]]
    lines.append(f"poisson-cloze#c1,3,{NOW}")
    with imported(content_copy, lines, tmp_path / "replay.sqlite3") as replay:
        assert replay.state("poisson-variance").fsrs == moved.fsrs
        assert replay.state("poisson-cloze#c1").fsrs == kept.fsrs


def test_a_deletion_split_off_into_another_cloze_cards_deletion_takes_its_history_there(
    tmp_path, content_copy
):
    db = cloze_rated(tmp_path / "reviews.sqlite3", content_copy)
    split(content_copy, SPLIT_CLOZE)

    with opened(db, content_copy) as study:
        assert study.history_size("poisson-spread#c1") == 3
        assert study.history_size("poisson-spread#c2") == 0
        assert study.history_size("poisson-cloze#c1") == 1
        assert sorted(study.store.states()) == ["poisson-cloze#c1", "poisson-spread#c1"]
        assert "poisson-cloze#c2 -> poisson-spread#c1" in study.store.notes[-1]


def test_a_split_card_renamed_too_takes_each_deletion_where_its_entries_say(tmp_path, content_copy):
    """The card renamed (`renamed_from: [poisson-cloze]`) as c2 is split off under its old
    id: c1 follows the card, c2 the card that took it over."""
    db = cloze_rated(tmp_path / "reviews.sqlite3", content_copy)
    split(content_copy, PLAIN)
    old = content_copy / "cards" / "numbers" / "poisson-cloze.yaml"
    old.rename(old.with_name("poisson-mean.yaml"))
    edit(old.with_name("poisson-mean.yaml"), "id: poisson-cloze\n",
         "id: poisson-mean\nrenamed_from: [poisson-cloze]\n")  # fmt: skip

    with opened(db, content_copy) as study:
        assert sorted(study.store.states()) == ["poisson-mean#c1", "poisson-variance"]
        assert study.history_size("poisson-variance") == 3


def test_an_export_made_before_the_split_imports_onto_the_new_item(cli, tmp_path, content_copy):
    laptop = cloze_rated(tmp_path / "laptop.sqlite3", content_copy)
    export = tmp_path / "laptop.csv"
    with Study.open(laptop, NO_FUZZ) as study:
        study.export_reviews(export)
    split(content_copy, SPLIT_CLOZE)

    db = tmp_path / "desktop.sqlite3"
    result = cli("--content", content_copy, "--db", db, "import-reviews", export, "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert (outcome["added"], outcome["unknown_cards"]) == (4, 0)
    with opened(db, content_copy) as study:
        assert study.history_size("poisson-spread#c1") == 3
        assert sorted(study.store.states()) == ["poisson-cloze#c1", "poisson-spread#c1"]


def test_the_move_is_said_on_stderr_once(cli, tmp_path, content_copy):
    db = cloze_rated(tmp_path / "reviews.sqlite3", content_copy)
    split(content_copy, PLAIN)
    base = ("--content", content_copy, "--db", db)

    first = cli(*base, "history", "--card", "poisson-variance", "--json")
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.stdout)) == 3
    assert "poisson-cloze#c2 -> poisson-variance" in " ".join(first.stderr.split())
    again = cli(*base, "history", "--card", "poisson-variance", "--json")
    assert again.exit_code == 0 and again.stderr == ""
    shown = cli(*base, "show", "poisson-cloze#c2")
    assert shown.exit_code == 1
    assert "it is 'poisson-variance' now" in " ".join(shown.stderr.split())


def test_a_conflicting_row_under_the_old_item_is_named_by_both_ids(cli, tmp_path, content_copy):
    """An export made before the split, a rating of the deletion edited by hand, imported once
    it is split off: the row left out is named by the item it is now and the one the file
    holds."""
    db = cloze_rated(tmp_path / "reviews.sqlite3", content_copy)
    export = tmp_path / "reviews.csv"
    with Study.open(db, NO_FUZZ) as study:
        study.export_reviews(export)
    header, *lines = export.read_text().splitlines()
    row = next(line for line in lines if line.startswith("poisson-cloze#c2,1,"))
    lines[lines.index(row)] = row.replace(",1,", ",4,", 1)
    export.write_text("\n".join([header, *lines]) + "\n")
    split(content_copy, SPLIT_CLOZE)

    result = cli("--content", content_copy, "--db", db, "import-reviews", export)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "poisson-spread#c1 (poisson-cloze#c2 before it was moved here) at " in said
    assert ": 4 in the file, 1 in your log" in said


def test_a_rating_refused_as_its_deletion_was_split_off_meanwhile_says_so(tmp_path, content_copy):
    """A session with the content before the split rates poisson-cloze#c2 after `due`, with
    the split content, moved its history: refused, saying the deletion was split off (it said
    "its card was renamed"); the other way round, a session with the split content rating
    poisson-variance after a stale rating of poisson-cloze#c2 was moved onto it."""
    from studycli.errors import HistoryMoved

    db = cloze_rated(tmp_path / "reviews.sqlite3", content_copy)
    before = {item.id: item for item in study_items(load_content(content_copy).cards.values())}
    split(content_copy, PLAIN)
    after = load_content(content_copy)
    with Study.open(db, NO_FUZZ) as stale:
        with opened(db, content_copy):  # `due`, with the split content: moves the history
            pass
        with pytest.raises(HistoryMoved) as away:
            stale.rate(before["poisson-cloze#c2"], 3, NOW + 6 * DAY)
    said = away.value.said("this session", lambda _: "`studycli review` again")
    assert said.startswith(
        "poisson-cloze#c2's history was moved to poisson-variance while this session ran (that "
        "deletion was split off into poisson-variance: `renamed_from` in its file)"
    ), said

    with opened(db, content_copy) as study:
        with Study.open(db, NO_FUZZ) as old:  # the content before the split, meanwhile
            old.rate(before["poisson-cloze#c2"], 4, NOW + 6 * DAY)
        with opened(db, content_copy):
            pass
        with pytest.raises(HistoryMoved) as onto:
            study.rate(after.cards["poisson-variance"], 3, NOW + 7 * DAY)
    said = onto.value.said("this session", lambda _: "`studycli review` again")
    assert said.startswith(
        "poisson-cloze#c2's history was moved onto poisson-variance while this session ran "
        "(its ratings as a deletion of poisson-cloze, split off into this card: `renamed_from`)"
    ), said


def test_a_rating_made_before_its_deletion_was_split_off_is_not_undone_and_says_why(
    tmp_path, content_copy
):
    db = cloze_rated(tmp_path / "reviews.sqlite3", content_copy)
    split(content_copy, SPLIT_CLOZE)
    with opened(db, content_copy) as study:
        latest = study.history("poisson-spread#c1")[0]
        with pytest.raises(StoreError) as refused:
            study.undo(latest.id, NOW + 6 * DAY)
    assert str(refused.value) == (
        "poisson-spread#c1's history was carried over from poisson-cloze#c2, a deletion split "
        "off into it (`renamed_from`) after this rating: only a rating made since can be undone"
    )
