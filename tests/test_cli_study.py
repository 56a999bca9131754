"""The non-interactive study commands through CliRunner: due, history, suspend, unsuspend,
list --leeches; the clock override; no heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from studycli.paths import config_path, database_path
from studycli.study import rating as core
from studycli.study.review_records import CardState
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT, write_card
from .study_support import NO_FUZZ, NOW, fixture_content


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("enable_fuzzing = false\n")


def run(cli, *args):
    return cli("--content", FIXTURE_CONTENT, *args)


def _rate(card_id: str, rating: int, when=NOW):
    with Store.open(database_path()) as store:
        return core.rate(store, fixture_content().get(card_id), rating, when, NO_FUZZ)


def test_due_with_only_an_imported_history_of_other_cards_says_none_of_these_is_scheduled(
    cli, tmp_path
):
    """A log imported from elsewhere (cards not in this content) is a history, not "no card
    studied yet"."""
    log = tmp_path / "log.csv"
    log.write_text("card_id,review_rating,review_time\nelsewhere,3,2025-02-27T09:00:00+00:00\n")
    assert run(cli, "import-reviews", str(log)).exit_code == 0
    said = run(cli, "due").stdout
    assert "none of these cards is scheduled yet: `studycli review` starts with the new" in said


def test_due_json_on_a_fresh_database(cli):
    result = run(cli, "due", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "due": 0,
        "learning": 0,
        "new": 4,
        "held_new": 0,
        "held_reviews": 0,
        "next_due": None,
        "decks": {
            "basics": {"due": 0, "learning": 0, "new": 2},
            "numbers": {"due": 0, "learning": 0, "new": 2},
        },
    }


def test_due_with_no_new_card_left_today_does_not_send_to_review(cli):
    """With new_per_day = 0 and nothing studied, `due` said "`studycli review` starts with the
    new cards", where review had none to show (a helper's review)."""
    assert "`studycli review` starts with the new cards" in " ".join(run(cli, "due").stdout.split())
    config_path().write_text("enable_fuzzing = false\nnew_per_day = 0\n")
    said = " ".join(run(cli, "due").stdout.split())
    # new_per_day counts study items, as `stats` does ("213 study items from 133 cards")
    assert f"no new study item is left today (new_per_day in {config_path()};" in said, said
    assert "starts with the new cards" not in said
    readme = " ".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "new_per_day = 20 # new study items a day (a cloze card: one per deletion)" in readme


def test_due_over_a_content_folder_with_no_card_says_so_as_review_does(cli, tmp_path):
    """`due` over a content folder with no card drew a table of zeros and said "no new card is
    left today (new_per_day in settings.toml ...)": no setting was why (a newcomer's day). It
    says what `review` and `stats` say, and so does `--json`, on stdout too."""
    empty = tmp_path / "empty"
    (empty / "cards").mkdir(parents=True)
    (empty / "solutions").mkdir()
    for args in (["due"], ["due", "--json"]):
        result = cli("--content", empty, *args)
        said = " ".join(result.stderr.split())
        assert result.exit_code == 1, result.output
        assert f"the content in {empty} holds no cards" in said, said
        assert "new_per_day" not in result.output
    assert "holds no cards" in json.loads(result.stdout)["error"]


def test_due_says_new_cards_wait_when_the_days_new_limit_is_reached(cli, monkeypatch):
    """With new_per_day = 1 and one new card studied, `due` said only "next card due in ...",
    which a new user took for the end of the deck (`review` ends saying what waits)."""
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(minutes=30)).isoformat())
    config_path().write_text("enable_fuzzing = false\nnew_per_day = 1\n")
    _rate("bias-concept", 4)
    said = " ".join(run(cli, "due").stdout.split())
    assert "next card due in" in said, said
    assert "3 new study items wait: the day's limit of 1 new study item is reached" in said, said
    counts = json.loads(run(cli, "due", "--json").stdout)
    assert (counts["new"], counts["held_new"]) == (0, 3)


def test_due_says_the_days_new_cards_can_be_studied_before_the_next_review(cli, monkeypatch):
    """One card studied, due days later, three new ones left today: `due` said only "next
    card due in 2d", which a new user read as nothing to study until then (the table above
    it counted the three in its new column). It says they can be studied now."""
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(minutes=30)).isoformat())
    _rate("bias-concept", 4)
    said = " ".join(run(cli, "due").stdout.split())
    assert json.loads(run(cli, "due", "--json").stdout)["new"] == 3
    assert (
        "3 new study items to study today: `studycli review` studies them; next card due in" in said
    ), said


def test_a_days_limit_that_holds_cards_back_names_the_settings_file(cli, monkeypatch):
    """`due` said "(new_per_day in settings.toml; ...)", and a newcomer went looking for the
    file: it is not there until written, in a config folder they had never seen (under
    STUDYCLI_HOME, or ~/.config/studycli). The note names its path."""
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(minutes=30)).isoformat())
    config_path().write_text("enable_fuzzing = false\nnew_per_day = 1\n")
    _rate("bias-concept", 4)
    said = " ".join(run(cli, "due").stdout.split())
    assert f"more come tomorrow (new_per_day in {config_path()}; `studycli cram`" in said, said


def test_a_days_limit_names_the_command_that_makes_the_settings_files_folder(
    cli, content_copy, monkeypatch, tmp_path
):
    """Told "new_per_day in ~/.config/studycli/settings.toml", a new learner's editor could
    not save the file there: no command makes its folder. Where it is not made, the note says
    how to make it."""
    from studycli.content.loader import load_content

    card = (content_copy / "cards" / "basics" / "bias-concept.yaml").read_text()
    ids = [f"extra-{n}" for n in range(20)]  # the day's 20 new cards, four more left
    for extra in ids:
        write_card(content_copy, "basics", extra, card.replace("bias-concept", extra))
    config = tmp_path / "not-made" / "settings.toml"
    monkeypatch.setenv("STUDYCLI_CONFIG", str(config))
    content = load_content(content_copy)
    with Store.open(database_path()) as store:
        for extra in ids:
            core.rate(store, content.get(extra), 4, NOW, NO_FUZZ)
    said = " ".join(cli("--content", content_copy, "due").stdout.split())
    assert "4 new study items wait: the day's limit of 20" in said, said
    assert f"(new_per_day in {config}, after mkdir -p {config.parent}; `studycli" in said, said


def test_due_says_reviews_wait_when_the_days_review_limit_is_reached(cli, monkeypatch):
    """Two reviews due, reviews_per_day = 1: `review` showed one and ended "Nothing more is
    due now", and `due` said the next card was due tomorrow, with no word of the limit (a QA
    pass; a learner back from a break meets the default 200). Both say what waits."""
    _rate("bias-concept", 4)
    _rate("add-one", 4)
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(days=60)).isoformat())
    config_path().write_text("enable_fuzzing = false\nreviews_per_day = 1\nnew_per_day = 0\n")
    counts = json.loads(run(cli, "due", "--json").stdout)
    assert (counts["due"], counts["held_reviews"]) == (1, 1)
    _rate("bias-concept", 3, NOW + timedelta(days=60))
    counts = json.loads(run(cli, "due", "--json").stdout)
    assert (counts["due"], counts["held_reviews"]) == (0, 1)
    said = " ".join(run(cli, "due").stdout.split())
    assert "1 more review due today waits: past the day's limit of 1 review" in said, said


def test_due_says_cards_are_due_now_when_a_review_falls_due_later_today(cli, monkeypatch):
    """A review due at 22:00 is due from the study day's start: the table counted it, and the
    line below said the next card was due in 14 hours."""
    from datetime import datetime

    evening = datetime(2025, 3, 1, 22, 0, tzinfo=NOW.tzinfo)
    _rate("bias-concept", 4, evening)  # Easy: due days later at 22:00
    with Store.open(database_path()) as store:
        due = core.fsrs_card(store.state("bias-concept")).due
    monkeypatch.setenv("STUDYCLI_NOW", due.replace(hour=8).isoformat())
    data = json.loads(run(cli, "due", "--json").stdout)
    assert data["due"] == 1
    since = f"{due:%Y-%m-%d} 04:00"  # since its study day began
    said = " ".join(run(cli, "due").stdout.split())
    assert said.endswith(
        f"cards are due now (the oldest since {since}): `studycli review` studies them"
    )


def test_dues_line_of_cards_due_now_says_the_command_that_studies_them():
    """`due`'s "cards are due now" gave no next step, where its line of new cards names one."""
    from studycli.cli.study import _next_due_line

    for upcoming in (NOW - timedelta(hours=1), NOW + timedelta(hours=1)):  # due, due today
        line = _next_due_line(upcoming, NOW, due_now=True)
        assert line.startswith("cards are due now"), line
        assert line.endswith(": `studycli review` studies them"), line


def test_due_says_when_a_review_can_be_studied_not_its_due_time(cli, monkeypatch):
    """A review due at 22:00 is studied from its study day's start (4:00): before it, `due`
    said the next card was due in 18 hours, at 22:00, and the review summary a day late."""
    from datetime import datetime

    evening = datetime(2025, 3, 1, 22, 0, tzinfo=NOW.tzinfo)
    _rate("bias-concept", 4, evening)  # Easy: due days later at 22:00
    with Store.open(database_path()) as store:
        due = core.fsrs_card(store.state("bias-concept")).due
    monkeypatch.setenv("STUDYCLI_NOW", due.replace(hour=3, minute=59).isoformat())
    assert run(cli, "due").stdout.rstrip().endswith(f"next card due in 1m ({due:%Y-%m-%d} 04:00)")


def test_each_decks_counts_are_what_review_of_that_deck_shows(cli, tmp_path, monkeypatch):
    """The day's limits apply to each deck on its own, as `review --deck D` applies them (and
    Anki's deck list counts): with one new card a day, each deck has one, and all has one.
    The day's new card was given to the first deck, and the other showed 0 new cards where
    `review --deck numbers` showed one."""
    config = tmp_path / "settings.toml"
    config.write_text("new_per_day = 1\nreviews_per_day = 1\n", encoding="utf-8")
    monkeypatch.setenv("STUDYCLI_CONFIG", str(config))
    _rate("bias-concept", 4, NOW - timedelta(days=30))  # basics: a review due
    _rate("poisson-concept", 4, NOW - timedelta(days=30))  # numbers: a review due
    data = json.loads(run(cli, "due", "--json").stdout)
    assert (data["due"], data["new"]) == (1, 1)
    assert data["decks"] == {
        "basics": {"due": 1, "learning": 0, "new": 1},
        "numbers": {"due": 1, "learning": 0, "new": 1},
    }
    from studycli.content.loader import load_content
    from studycli.study.api import Study, study_items
    from studycli.study.settings import load_settings

    cards = load_content(FIXTURE_CONTENT).cards.values()
    with Study.open(database_path(), load_settings(config)) as study:
        for deck, counts in data["decks"].items():
            queue = study.queue([c for c in study_items(cards) if c.deck == deck], NOW)
            assert (len(queue.review), len(queue.new)) == (counts["due"], counts["new"])


def test_due_counts_reviews_learning_and_new_per_deck(cli, monkeypatch):
    _rate("bias-concept", 4, NOW - timedelta(days=30))  # a review card, due by now
    _rate("add-one", 1, NOW - timedelta(minutes=5))  # learning, due a minute later
    data = json.loads(run(cli, "due", "--json").stdout)
    assert (data["due"], data["learning"], data["new"]) == (1, 1, 2)
    assert data["decks"]["basics"] == {"due": 1, "learning": 1, "new": 0}
    # Easy: 8 days, a review card, studied from its due day's start (4:00 by default)
    assert data["next_due"] == (NOW - timedelta(days=30 - 8)).replace(hour=4).isoformat()
    text = run(cli, "due").stdout
    assert "basics" in text and "cards are due now" in text


def test_history_is_newest_first_and_filters_by_card(cli):
    _rate("add-one", 3, NOW)
    _rate("bias-concept", 2, NOW + timedelta(minutes=1))
    entries = json.loads(run(cli, "history", "--json").stdout)
    assert [(e["card"], e["rating"]) for e in entries] == [("bias-concept", 2), ("add-one", 3)]
    assert entries[0]["reviewed_at"] == (NOW + timedelta(minutes=1)).isoformat(
        timespec="microseconds"
    )
    only = json.loads(run(cli, "history", "--card", "add-one", "--json").stdout)
    assert [e["card"] for e in only] == ["add-one"]
    table = run(cli, "history").stdout
    assert "2 Hard" in table and "self" in table and "2 reviews" in table
    assert "1 review of add-one" in run(cli, "history", "--card", "add-one").stdout  # not reviews


def _rate_many(count: int) -> list[str]:
    """Rate add-one `count` times a minute apart, the last at NOW; return the times as
    `history` shows them, newest first."""
    moments = [NOW - timedelta(minutes=count - 1 - i) for i in range(count)]
    for moment in moments:
        _rate("add-one", 3, moment)
    return [moment.strftime("%Y-%m-%d %H:%M") for moment in reversed(moments)]


def _table_column(text: str, column: int = 0) -> list[str]:
    """A column of `history`'s table, top to bottom."""
    return [line.split("│")[1 + column].strip() for line in text.splitlines() if line[0] == "│"]


def test_history_shows_the_newest_50_and_says_how_many_are_older(cli):
    newest_first = _rate_many(53)
    shown = run(cli, "history")
    assert shown.exit_code == 0, shown.output
    assert _table_column(shown.stdout) == newest_first[:50]
    assert "the latest 50 of 53 reviews" in shown.stdout
    last = shown.stdout.rstrip().splitlines()[-1]
    assert last == "3 older reviews not shown: `studycli history --limit 0` shows all"


def test_history_limit_picks_how_many_and_0_shows_all(cli):
    newest_first = _rate_many(53)
    for flag in ("--limit", "-n"):
        three = run(cli, "history", flag, "3").stdout
        assert _table_column(three) == newest_first[:3]
        assert "50 older reviews not shown" in three
    every = run(cli, "history", "--limit", "0").stdout
    assert _table_column(every) == newest_first and "older" not in every
    exact = run(cli, "history", "--limit", "53").stdout
    assert len(_table_column(exact)) == 53 and "older" not in exact
    assert run(cli, "history", "--limit", "-1").exit_code == 2


def test_history_json_prints_every_review_unless_limited(cli):
    """Scripts read `history --json` whole, as before --limit: only an explicit one cuts it."""
    _rate_many(53)
    every = json.loads(run(cli, "history", "--json").stdout)
    assert len(every) == 53 and every[0]["reviewed_at"].startswith(NOW.date().isoformat())
    assert json.loads(run(cli, "history", "--json", "--limit", "3").stdout) == every[:3]
    assert json.loads(run(cli, "history", "--json", "-n", "0").stdout) == every


def test_history_of_a_card_counts_only_its_own_older_reviews(cli):
    _rate_many(3)
    _rate("bias-concept", 3)
    shown = run(cli, "history", "--card", "add-one", "-n", "1").stdout
    assert _table_column(shown, 1) == ["add-one"]
    assert "2 older reviews not shown: `studycli history --card add-one --limit 0`" in shown


def _import_good_reviews(cli, tmp_path, ids: list[str]) -> None:
    """Import a Good review of each of `ids`, a minute apart, the first the latest."""
    lines = [
        f"{card_id},3,{(NOW - timedelta(minutes=i + 1)).isoformat()},"
        for i, card_id in enumerate(ids)
    ]
    csv = tmp_path / "log.csv"
    csv.write_text("card_id,review_rating,review_time,review_duration\n" + "\n".join(lines))
    assert run(cli, "import-reviews", csv).exit_code == 0


def test_history_of_a_cloze_card_is_its_items(cli, tmp_path):
    """A cloze card's id names no review of its own: its items' reviews (card#c1, ...) are its
    history, and no other card's, however its id compares."""
    ids = ["deep#c1", "deeper", "deep#c2", "deep#d1", "deep#c1", "dee"]
    _import_good_reviews(cli, tmp_path, ids)
    entries = json.loads(run(cli, "history", "--card", "deep", "--json").stdout)
    assert sorted(e["card"] for e in entries) == ["deep#c1", "deep#c1", "deep#c2"]
    shown = run(cli, "history", "--card", "deep", "-n", "2").stdout
    assert len(_table_column(shown)) == 2 and "\n1 older review not shown" in shown


def test_history_of_a_card_made_a_cloze_card_has_the_reviews_of_both_kinds(cli, tmp_path):
    """A card studied as a concept, then made a cloze card (or the other way round) has
    reviews under its id and under its deletions' (card#c1): `history --card` showed only
    its own id's while it had any, and the other kind's were nowhere to be seen."""
    ids = ["deep#c1", "deeper", "deep", "deep#c2", "deep#d1", "deep"]
    _import_good_reviews(cli, tmp_path, ids)
    entries = json.loads(run(cli, "history", "--card", "deep", "--json").stdout)
    assert [e["card"] for e in entries] == ["deep#c1", "deep", "deep#c2", "deep"]
    shown = run(cli, "history", "--card", "deep", "-n", "3").stdout
    assert "\n1 older review not shown" in shown
    entries = json.loads(run(cli, "history", "--card", "deep#c2", "--json").stdout)
    assert [e["card"] for e in entries] == ["deep#c2"]


def test_history_lists_an_imported_older_review_below_todays(cli, tmp_path):
    """An imported log is recorded after today's ratings, but its reviews are older: history
    goes by when a card was reviewed, not by when the log got the row."""
    _rate("add-one", 3, NOW)
    csv = tmp_path / "laptop.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"bias-concept,4,{(NOW - timedelta(days=3)).isoformat()},\n"
    )
    assert run(cli, "import-reviews", csv).exit_code == 0
    entries = json.loads(run(cli, "history", "--json").stdout)
    assert [e["card"] for e in entries] == ["add-one", "bias-concept"]
    assert _table_column(run(cli, "history").stdout, 1) == ["add-one", "bias-concept"]
    latest = json.loads(run(cli, "history", "--json", "-n", "1").stdout)
    assert [e["card"] for e in latest] == ["add-one"]


def test_history_of_an_unknown_card_suggests_ids(cli, tmp_path):
    """A typo is not an empty history: the closest ids, as `suspend` gives them. A card of
    the content not studied yet, and one the content no longer has, with history, are no
    typos."""
    typo = run(cli, "history", "--card", "add-on")
    assert typo.exit_code == 1 and "did you mean add-one" in typo.stderr
    assert run(cli, "history", "--card", "add-one").exit_code == 0
    csv = tmp_path / "old.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"removed-card,3,{(NOW - timedelta(days=1)).isoformat()},\n"
    )
    assert run(cli, "import-reviews", csv).exit_code == 0
    gone = run(cli, "history", "--card", "removed-card")
    assert gone.exit_code == 0 and "removed-card" in gone.stdout


def test_history_with_no_reviews_says_so_in_a_line(cli):
    """It drew an empty table, its header and borders, "0 reviews" above (a helper's review)."""
    assert run(cli, "history").stdout == "no reviews yet\n"
    assert run(cli, "history", "--card", "add-one").stdout == "no reviews of add-one yet\n"
    assert json.loads(run(cli, "history", "--json").stdout) == []


def test_history_of_an_empty_card_id_is_an_error_not_an_empty_table(cli):
    """`--card ''` (an unset shell variable) printed an empty table of 0 reviews, exit 0."""
    _rate("add-one", 3, NOW)
    empty = run(cli, "history", "--card", "")
    assert empty.exit_code == 1 and "no card with id ''" in empty.stderr


def test_suspend_and_unsuspend(cli):
    assert run(cli, "suspend", "add-one").exit_code == 0
    assert json.loads(run(cli, "due", "--json").stdout)["new"] == 3
    assert run(cli, "unsuspend", "add-one").exit_code == 0
    assert json.loads(run(cli, "due", "--json").stdout)["new"] == 4


def test_suspend_and_unsuspend_say_when_nothing_changes(cli):
    assert run(cli, "unsuspend", "add-one").stdout.strip() == (
        "add-one is not suspended: it is in reviews already"
    )
    assert run(cli, "suspend", "add-one").stdout.startswith("suspended add-one: ")
    again = run(cli, "suspend", "add-one")
    assert again.exit_code == 0
    assert again.stdout.startswith("add-one is suspended already: `studycli unsuspend add-one`")
    assert run(cli, "unsuspend", "add-one").stdout.strip() == "add-one is back in reviews"


def test_suspending_an_unknown_card_suggests_ids(cli):
    result = run(cli, "suspend", "add-on")
    assert result.exit_code == 1 and "did you mean add-one" in result.stderr


def test_list_leeches(cli):
    with Store.open(database_path()) as store:
        store.replace_states([CardState("bias-concept", lapses=8), CardState("add-one", lapses=2)])
    result = run(cli, "list", "--leeches", "--json")
    assert [(c["id"], c["lapses"]) for c in json.loads(result.stdout)] == [("bias-concept", 8)]
    table = run(cli, "list", "--leeches").stdout
    assert table.splitlines()[0].strip() == "1 leech"
    assert [line.split("│")[-2].strip() for line in table.splitlines() if "bias" in line] == ["8"]
    assert "lapses" not in run(cli, "list", "--json").stdout
    assert (
        run(cli, "list", "--deck", "numbers").stdout.splitlines()[0].strip().startswith("2 cards")
    )


def test_leeches_come_most_forgotten_first(cli):
    with Store.open(database_path()) as store:
        store.replace_states([CardState("add-one", lapses=9), CardState("bias-concept", lapses=12)])
    listed = json.loads(run(cli, "list", "--leeches", "--json").stdout)
    assert [(c["id"], c["lapses"]) for c in listed] == [("bias-concept", 12), ("add-one", 9)]


def test_list_leeches_when_there_are_none(cli):
    _rate("add-one", 3)  # (reviewed, never forgotten; with no review, "no reviews yet")
    result = run(cli, "list", "--leeches")
    assert result.exit_code == 0
    assert result.stdout.strip() == "no leeches: no card was forgotten 8 times or more"
    assert json.loads(run(cli, "list", "--leeches", "--json").stdout) == []


def test_review_needs_a_terminal(cli):
    result = run(cli, "review")
    assert result.exit_code == 1 and "terminal" in result.stderr


def test_a_bad_clock_override_is_reported(cli, monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", "2025-03-01 09:00")  # no offset
    result = run(cli, "due")
    assert result.exit_code == 1 and "STUDYCLI_NOW" in result.stderr


def test_the_db_option_picks_the_file(cli, tmp_path):
    db = tmp_path / "elsewhere.sqlite3"
    assert cli("--content", FIXTURE_CONTENT, "--db", db, "suspend", "add-one").exit_code == 0
    with Store.open(db) as store:
        assert store.state("add-one").suspended


PROBE = """
import sys
from typer.testing import CliRunner
from studycli.cli.help_panels import whole_app
app = whole_app()
result = CliRunner().invoke(app, sys.argv[1:])
print(result.exit_code, "torch" in sys.modules, "numpy" in sys.modules, "fsrs.optimizer" in sys.modules)
"""


@pytest.mark.parametrize(
    "args", [["due"], ["history"], ["suspend", "add-one"], ["list", "--leeches"]]
)
def test_study_commands_do_not_import_torch_or_numpy(args, tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "--content",
            str(FIXTURE_CONTENT),
            "--db",
            str(tmp_path / "db.sqlite3"),
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert out.stdout.split() == ["0", "False", "False", "False"], out.stderr


def test_a_card_removed_from_the_content_keeps_its_history(cli, content_copy):
    from studycli.content.loader import load_content

    with Store.open(database_path()) as store:
        core.rate(store, load_content(content_copy).get("bias-concept"), 3, NOW, NO_FUZZ)
    (content_copy / "cards" / "basics" / "bias-concept.yaml").unlink()
    (content_copy / "cards" / "numbers" / "poisson-concept.yaml").unlink()  # it required it
    assert cli("--content", content_copy, "due", "--json").exit_code == 0
    entries = json.loads(cli("--content", content_copy, "history", "--json").stdout)
    assert [e["card"] for e in entries] == ["bias-concept"]
    with Store.open(database_path()) as store:
        assert store.state("bias-concept").reps == 1


def test_one_deletion_of_a_cloze_card_can_be_suspended(cli, content_copy):
    """`history` shows a cloze card's deletions as card#c1, card#c2: suspend takes them too."""
    write_card(
        content_copy, "numbers", "poisson-cloze",
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::λ}}'\n",
    )  # fmt: skip

    def new() -> int:
        return json.loads(cli("--content", content_copy, "due", "--json").stdout)["new"]

    config_path().write_text("enable_fuzzing = false\nbury_siblings = false\n")
    assert new() == 6  # the fixture's four cards and the cloze card's two deletions
    done = cli("--content", content_copy, "suspend", "poisson-cloze#c1")
    assert done.exit_code == 0 and done.stdout.startswith("suspended poisson-cloze#c1: ")
    assert new() == 5
    unknown = cli("--content", content_copy, "suspend", "poisson-cloze#c3")
    assert unknown.exit_code == 1
    assert "poisson-cloze has no study item poisson-cloze#c3: it has poisson-cloze#c1, " in (
        unknown.stderr
    )
    assert cli("--content", content_copy, "unsuspend", "poisson-cloze").exit_code == 0
    assert new() == 6


def test_every_command_taking_an_item_id_reads_a_deletions_id_alike(cli, content_copy):
    """`card#cN` is checked against the card's deletions by every command, as suspend did:
    `history` said "0 reviews of" a deletion that does not exist, `show` showed the card, and
    `solve` of a cloze deletion said no card has that id."""
    write_card(
        content_copy, "numbers", "poisson-cloze",
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::λ}}'\n",
    )  # fmt: skip
    for command in (("history", "--card"), ("show",), ("suspend",)):
        for wrong in ("bias-concept#c1", "poisson-cloze#c3"):
            result = cli("--content", content_copy, *command, wrong)
            assert result.exit_code == 1, (command, wrong, result.output)
            assert f"has no study item {wrong}: it has " in " ".join(result.stderr.split())
    shown = cli("--content", content_copy, "show", "poisson-cloze#c2")
    assert shown.exit_code == 0 and "Poisson moments" in shown.stdout
    solved = cli("--content", content_copy, "solve", "poisson-cloze#c1", "--no-edit")
    assert solved.exit_code == 1
    assert "poisson-cloze is a cloze card with no solution to run" in solved.stderr


def test_due_with_only_a_buried_sibling_due_says_when_it_can_be_studied(
    cli, content_copy, monkeypatch
):
    """A cloze card's two deletions due, one studied today: the other waits for the next study
    day. The table said 0 and the line below "cards are due now (the oldest since ...)"."""
    from datetime import datetime

    from studycli.content.loader import load_content
    from studycli.study.api import study_items
    from studycli.study.queue import next_day_start
    from studycli.study.settings import Settings

    (content_copy / "cards" / "numbers" / "poisson-cloze.yaml").write_text(
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::the mean}}'\n",
        encoding="utf-8",
    )
    first, second = study_items([load_content(content_copy).cards["poisson-cloze"]])
    with Store.open(database_path()) as store:
        for item in (first, second):
            core.rate(store, item, 4, NOW, NO_FUZZ)
        later = max(core.fsrs_card(store.state(i.id)).due for i in (first, second))  # type: ignore[union-attr]
        later += timedelta(hours=1)
        core.rate(store, first, 3, later, NO_FUZZ)
    monkeypatch.setenv("STUDYCLI_NOW", (later + timedelta(minutes=1)).isoformat())
    counts = json.loads(cli("--content", content_copy, "due", "--json").stdout)
    opens = next_day_start(later, Settings().day_starts_at)
    assert counts["due"] == 0 and datetime.fromisoformat(counts["next_due"]) == opens
    assert "next card due in" in cli("--content", content_copy, "due").stdout


def test_undo_takes_back_todays_latest_rating_one_at_a_time(cli):
    """A session ends as soon as nothing is due, before its last rating could be undone with
    u (a mistaken Easy on the last card stood): `undo` takes back the latest rating of today,
    then the one before; yesterday's stays."""
    _rate("poisson-concept", 3, NOW - timedelta(days=1))
    _rate("bias-concept", 3, NOW - timedelta(minutes=9))
    _rate("add-one", 4, NOW - timedelta(minutes=2))
    first = run(cli, "undo")
    assert first.exit_code == 0 and "undone: add-one Easy at" in first.stdout, first.output
    with Store.open(database_path()) as store:
        assert store.state("add-one") is None and store.state("bias-concept") is not None
    assert "undone: bias-concept Good" in run(cli, "undo").stdout
    refused = run(cli, "undo")
    assert refused.exit_code == 1 and "poisson-concept Good" in refused.stderr
    assert "not given today" in refused.stderr
    history = json.loads(run(cli, "history", "--json").stdout)
    assert [r["card"] for r in history] == ["poisson-concept"]


def test_undo_after_midnight_takes_back_a_rating_of_the_same_study_day(cli, monkeypatch):
    """The study day runs from `day_starts_at` (4 am) to the next: at 1 am, a rating given at
    11 pm is today's, as the daily limits count it, and `undo` takes it back."""
    late = NOW.replace(hour=1)
    monkeypatch.setenv("STUDYCLI_NOW", late.isoformat())
    _rate("add-one", 3, late - timedelta(hours=2))
    undone = run(cli, "undo")
    assert undone.exit_code == 0 and "undone: add-one Good" in undone.stdout, undone.output


def test_undo_of_a_rating_before_the_study_days_start_says_when_today_began(cli, monkeypatch):
    """At 4:05, a rating given at 3:55 of the same date is the day before's (the study day
    starts at 4): the refusal said only that it "was not given today", which a newcomer reads
    as wrong (it was, by the calendar). It says when today's study day began, and the
    setting that moves it."""
    morning = NOW.replace(hour=4, minute=5)
    monkeypatch.setenv("STUDYCLI_NOW", morning.isoformat())
    _rate("add-one", 3, NOW.replace(hour=3, minute=55))
    refused = run(cli, "undo")
    said = " ".join(refused.stderr.split())
    began = NOW.replace(hour=4, minute=0).astimezone().strftime("%Y-%m-%d %H:%M")
    assert refused.exit_code == 1, said
    assert f"was not given today (today's study day began at {began}, day_starts_at in" in said


def test_undo_takes_back_a_rating_a_check_decided_and_a_cram_rating(cli):
    """Every rating given here today can be undone, whatever decided it (the learner, a
    check, a cram session): the latest first, each with its card back as it was."""
    _rate("add-one", 3, NOW - timedelta(minutes=9))
    with Store.open(database_path()) as store:
        content = fixture_content()
        core.rate(store, content.get("bias-concept"), 1, NOW - timedelta(minutes=5), NO_FUZZ,
                  method="check", check_status="fail")  # fmt: skip
        core.cram(store, content.get("add-one"), 4, NOW - timedelta(minutes=2), NO_FUZZ)
    for said in ("add-one Easy", "bias-concept Again", "add-one Good"):
        undone = run(cli, "undo")
        assert undone.exit_code == 0 and f"undone: {said} at" in undone.stdout, undone.output
    assert json.loads(run(cli, "history", "--json").stdout) == []


def test_due_with_a_review_held_today_names_the_card_in_learning_before_tomorrow(cli):
    """No review left today (reviews_per_day = 0, one due at 22:00 held) and a card in
    relearning due in 10 minutes: `due` said tomorrow's start, the review's day start being
    before now."""
    from fsrs import Card as FsrsCard
    from fsrs import State

    def state(card_id, due, fsrs_state):
        step = None if fsrs_state == State.Review else 0
        # (a relearning step of 10 minutes: one of days would be due all its day)
        last = NOW - timedelta(days=2) if step is None else due - timedelta(minutes=10)
        card = FsrsCard(card_id=1, state=fsrs_state, step=step, stability=3.0, difficulty=5.0,
                        due=due, last_review=last)  # fmt: skip
        return CardState(card_id=card_id, fsrs=card.to_json(), reps=1)

    config_path().write_text("enable_fuzzing = false\nreviews_per_day = 0\n")
    with Store.open(database_path()) as store:
        store.replace_states(
            [
                state("add-one", NOW.replace(hour=22), State.Review),
                state("bias-concept", NOW + timedelta(minutes=10), State.Relearning),
            ]
        )
    said = " ".join(run(cli, "due").stdout.split())
    assert (
        f"next card due in 10m ({NOW + timedelta(minutes=10):%Y-%m-%d %H:%M}); 1 more review "
        f"due today waits: reviews_per_day is 0 in {config_path()} (raise it to study them"
    ) in said, said


def test_undo_after_an_older_review_was_imported_says_so(cli, tmp_path):
    """A rating, then an import of an older review of the same card: the refusal blamed
    "another session" that never was, and then said a review was imported "after this
    rating", of a review dated before it, and that only the latest review can be undone, of
    the latest in time."""
    _rate("bias-concept", 3, NOW - timedelta(minutes=5))
    log = tmp_path / "log.csv"
    log.write_text("card_id,review_rating,review_time\nbias-concept,3,2025-02-20T09:00:00+00:00\n")
    assert run(cli, "import-reviews", str(log)).exit_code == 0
    refused = run(cli, "undo")
    said = " ".join(refused.stderr.split())
    assert refused.exit_code == 1 and "was imported since this rating" in said
    assert "a rating made before an import of its card cannot be undone" in said
    assert "another session" not in said and "latest review" not in said
    # "this rating" named: the learner's own latest, not the imported one that blocks it
    when = (NOW - timedelta(minutes=5)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert f"cannot undo bias-concept Good at {when}, which stands: " in refused.stderr


def test_undo_behind_another_commands_lock_says_to_run_it_again_not_that_the_rating_stands(
    cli, monkeypatch
):
    """An undo that waited out another command's lock (an import runs for as long as it
    takes) said "cannot undo ..., which stands: the review database is busy": a refusal for
    good, of an undo that works once that command is done."""
    from studycli.study import busy

    from .study_support import hold_write_lock

    _rate("bias-concept", 3, NOW - timedelta(minutes=5))
    monkeypatch.setattr(busy, "BUSY_TIMEOUT", 0.5)
    holder = hold_write_lock(database_path(), 30)
    try:
        refused = run(cli, "undo")
    finally:
        holder.kill()
        holder.communicate()
    said = " ".join(refused.stderr.split())
    when = (NOW - timedelta(minutes=5)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert refused.exit_code == 1
    assert f"bias-concept Good at {when} is not undone yet: the review database" in said
    assert "is busy" in said and "run the command again" in said
    assert "which stands" not in said
    undone = run(cli, "undo")
    assert undone.exit_code == 0 and "undone: bias-concept Good" in undone.stdout


def test_undo_after_another_machines_review_of_today_was_imported_undoes_your_own(cli, tmp_path):
    """Two ratings here, then an import of another card's review given later today elsewhere:
    undo refused ("review N was imported and cannot be undone here ... re-import that log"),
    and the learner's own Easy of 10 minutes before stood."""
    _rate("poisson-concept", 3, NOW - timedelta(minutes=20))
    _rate("bias-concept", 4, NOW - timedelta(minutes=10))
    log = tmp_path / "log.csv"
    later = (NOW - timedelta(minutes=5)).isoformat()
    log.write_text(f"card_id,review_rating,review_time\nadd-one,3,{later}\n")
    assert run(cli, "import-reviews", str(log)).exit_code == 0
    undone = run(cli, "undo")
    assert undone.exit_code == 0 and "undone: bias-concept Easy" in undone.stdout, undone.output
    assert "undone: poisson-concept Good" in run(cli, "undo").stdout
    refused = run(cli, "undo")  # only the imported one is left today
    said = " ".join(refused.stderr.split())
    assert refused.exit_code == 1 and "add-one Good" in said
    assert "was imported from another review log: undo takes back the ratings given here" in said


def test_show_of_an_item_the_content_lost_says_where_its_reviews_are(cli, content_copy, tmp_path):
    """A cloze deletion removed, or a card, after it was studied: show (and suspend) said only
    that the card has no such item, though history --card lists its reviews."""
    write_card(
        content_copy, "numbers", "poisson-cloze",
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::λ}}'\n",
    )  # fmt: skip
    csv = tmp_path / "history.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "poisson-cloze#c3,3,2025-02-27T12:00:00+00:00,\n"
        "poisson-cloze#c3,3,2025-02-28T12:00:00+00:00,\n"
        "gone-card,1,2025-02-28T12:00:00+00:00,\n"
    )
    assert cli("--content", content_copy, "import-reviews", csv).exit_code == 0
    for item, said in (("poisson-cloze#c3", "its 2 reviews are"), ("gone-card", "its review is")):
        shown = cli("--content", content_copy, "show", item)
        message = " ".join(shown.stderr.split())
        assert shown.exit_code == 1 and "Traceback" not in shown.output
        listing = "lists them" if "reviews" in said else "lists it"
        assert f"{said} kept in your history: `studycli history --card {item}` {listing}" in message
        listed = cli("--content", content_copy, "history", "--card", item)
        assert listed.exit_code == 0 and item in listed.stdout  # as it says
    never = cli("--content", content_copy, "show", "poisson-cloze#c4")  # no history: no hint
    assert never.exit_code == 1 and "history" not in never.stderr
    for command in ("suspend", "unsuspend"):  # (they said "did you mean ...?" alone: a typo?)
        refused = cli("--content", content_copy, command, "gone-card")
        said = " ".join(refused.stderr.split())
        assert refused.exit_code == 1 and "its review is kept in your history" in said, said


def test_the_oldest_card_due_is_one_review_shows_today(cli, content_copy, tmp_path, monkeypatch):
    """A card in learning due, and a cloze deletion overdue whose sibling was studied today
    (held until tomorrow): due counted 0 reviews and 1 learning card, and said "cards are due
    now (the oldest since" the held deletion's day, a card review does not show today."""
    write_card(
        content_copy, "numbers", "poisson-cloze",
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::λ}}'\n",
    )  # fmt: skip
    config_path().write_text("enable_fuzzing = false\n")
    head = "card_id,review_rating,review_time,review_duration\n"
    first, later = tmp_path / "first.csv", tmp_path / "later.csv"
    first.write_text(
        head + "poisson-cloze#c1,4,2025-05-01T08:00:00+00:00,\n"
        "poisson-cloze#c2,4,2025-05-01T08:00:00+00:00,\n"
    )
    later.write_text(
        head + "poisson-cloze#c1,3,2025-05-30T07:00:00+00:00,\n"  # c2 is held until tomorrow
        "bias-concept,1,2025-05-30T07:00:00+00:00,\n"  # in learning: due minutes later
    )
    monkeypatch.setenv("STUDYCLI_NOW", "2025-05-30T09:00:00+00:00")
    for log in (first, later):
        imported = cli("--content", content_copy, "import-reviews", log)
        assert imported.exit_code == 0, imported.output
    counts = json.loads(cli("--content", content_copy, "due", "--json").stdout)
    assert (counts["due"], counts["learning"]) == (0, 1)
    with Store.open(database_path()) as store:
        learning = core.fsrs_card(store.state("bias-concept")).due
        held = core.fsrs_card(store.state("poisson-cloze#c2")).due
    assert held.date().isoformat() < "2025-05-30"  # overdue, not shown today
    assert counts["next_due"] == learning.isoformat()  # the card review shows


def test_show_of_an_unknown_id_beside_a_damaged_database_names_the_id(cli, content_copy):
    """show's hint about kept reviews reads the database: one that cannot be read must not
    turn a typo's message into the database's."""
    database_path().parent.mkdir(parents=True, exist_ok=True)
    database_path().write_bytes(b"not a database" * 100)
    shown = cli("--content", content_copy, "show", "bias-concpet")
    assert shown.exit_code == 1 and "Traceback" not in shown.output
    assert "no card with id 'bias-concpet'; did you mean bias-concept" in shown.stderr
    assert database_path().read_bytes() == b"not a database" * 100


def test_a_card_still_being_written_is_not_counted_and_due_says_so(cli, content_copy):
    """A card `studycli new` wrote is valid at once (its author lints as they write), but its
    texts begin with TODO: `due` counted it, and `review` showed it. It is left out of `due`
    and `stats`, which say so on stderr (stdout stays the table, or JSON), `list` marks it a
    draft, and once written it is studied."""

    def ran(*args):
        return cli("--content", content_copy, *args)

    made = ran("new", "concept", "half-written", "--topic", "bias")
    assert made.exit_code == 0, made.output
    counts = ran("due", "--json")
    assert json.loads(counts.stdout)["decks"]["basics"]["new"] == 2  # add-one, bias-concept
    note = (
        "note: half-written: still being written (a text begins with TODO): not studied until "
        "done; `studycli check half-written` says what is left"
    )
    assert note in " ".join(counts.stderr.split())
    assert note in " ".join(ran("due").stderr.split())
    stats = ran("stats", "--json")
    assert json.loads(stats.stdout)["cards_by_state"]["new"] == 4, stats.output
    assert note in " ".join(stats.stderr.split())
    listed = {row["id"]: row["draft"] for row in json.loads(ran("list", "--json").stdout)}
    assert listed["half-written"] and not listed["add-one"]
    assert "(draft)" in ran("list").stdout
    card = content_copy / "cards" / "basics" / "half-written.yaml"
    card.write_text(card.read_text(encoding="utf-8").replace("TODO", "Done"), encoding="utf-8")
    written = ran("due", "--json")
    assert json.loads(written.stdout)["decks"]["basics"]["new"] == 3
    assert "note:" not in written.stderr


POISSON_CLOZE = (
    "id: poisson-concept\nkind: cloze\ntopic: poisson\ntitle: Mean of a Poisson variable\n"
    "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::λ}}'\nrequires: [bias-concept]\n"
)


def test_a_suspended_card_made_a_cloze_card_stays_suspended_and_unsuspend_lifts_it(
    cli, content_copy
):
    """Suspensions are kept per study item: `poisson-concept` as a concept card, its deletions'
    ids (`poisson-concept#c1`, ...) once its author made it a cloze card. The suspension left
    under the old id held nothing: the card came back into reviews, and `unsuspend` said it
    was "not suspended" while the database kept it so (made a concept card again, it was
    suspended again, from nowhere). It holds the card whatever its kind, in `due` and
    `stats`, and `unsuspend` lifts it."""

    def ran(*args):
        return cli("--content", content_copy, *args)

    def numbers() -> int:
        return json.loads(ran("due", "--json").stdout)["decks"]["numbers"]["new"]

    config_path().write_text("enable_fuzzing = false\nbury_siblings = false\n")
    assert ran("suspend", "poisson-concept").exit_code == 0
    assert numbers() == 1  # triangle-derivation
    write_card(content_copy, "numbers", "poisson-concept", POISSON_CLOZE)
    assert numbers() == 1
    by_state = json.loads(ran("stats", "--json").stdout)["cards_by_state"]
    assert (by_state["suspended"], by_state["new"]) == (2, 3)
    again = ran("suspend", "poisson-concept")
    assert again.stdout.startswith("poisson-concept is suspended already")
    lifted = ran("unsuspend", "poisson-concept")
    assert lifted.stdout.strip() == "poisson-concept is back in reviews", lifted.output
    assert numbers() == 3
    with Store.open(database_path()) as store:
        assert store.suspended() == set()
    # and back: one deletion suspended holds the card made a concept card again
    assert ran("suspend", "poisson-concept#c2").exit_code == 0
    assert numbers() == 2
    (content_copy / "cards" / "numbers" / "poisson-concept.yaml").write_text(
        (FIXTURE_CONTENT / "cards" / "numbers" / "poisson-concept.yaml").read_text()
    )
    assert numbers() == 1
    assert (
        ran("unsuspend", "poisson-concept").stdout.strip() == "poisson-concept is back in reviews"
    )
    assert numbers() == 2
    with Store.open(database_path()) as store:
        assert store.suspended() == set()


def test_one_deletion_let_back_leaves_the_others_of_a_card_suspended_as_a_concept(
    cli, content_copy
):
    """A card suspended as a concept card, then made a cloze card: `unsuspend` of one of its
    deletions lets that one back, and the others stay suspended."""

    def ran(*args):
        return cli("--content", content_copy, *args)

    config_path().write_text("enable_fuzzing = false\nbury_siblings = false\n")
    assert ran("suspend", "poisson-concept").exit_code == 0
    write_card(content_copy, "numbers", "poisson-concept", POISSON_CLOZE)
    let_back = ran("unsuspend", "poisson-concept#c2")
    assert let_back.stdout.strip() == "poisson-concept#c2 is back in reviews", let_back.output
    with Store.open(database_path()) as store:
        assert store.suspended() == {"poisson-concept#c1"}
    queued = json.loads(ran("due", "--json").stdout)
    assert queued["decks"]["numbers"]["new"] == 2  # triangle-derivation and #c2


def test_a_settings_path_wider_than_the_terminal_stays_whole_in_dues_note(tmp_path):
    """`due`'s note on the day's new-card limit names the settings file; on a terminal narrower
    than its path, Rich's wrap cut the path at the width, and a learner's copy of it pasted in
    two. A real terminal 50 columns wide, a settings path of about 90 characters."""
    import pexpect

    from .conftest import REPO_ROOT, terminal_env

    config = tmp_path / ("a-settings-folder-with-a-long-name-" * 2) / "settings.toml"
    config.parent.mkdir(parents=True)
    config.write_text("enable_fuzzing = false\nnew_per_day = 0\n")
    environment = terminal_env(
        tmp_path / "db.sqlite3", config, tmp_path / "home", NOW, COLUMNS="50"
    )
    child = pexpect.spawn(
        sys.executable, ["-m", "studycli", "--content", str(FIXTURE_CONTENT), "due"],
        env=environment, cwd=str(REPO_ROOT), encoding="utf-8", timeout=60,
        dimensions=(24, 50),
    )  # fmt: skip
    child.expect(pexpect.EOF)
    lines = child.before.replace("\r\n", "\n").splitlines()
    assert len(str(config)) > 50 and any(str(config) in line for line in lines), lines
    for line in lines:  # (wrapped at words: only a word wider than the terminal passes it)
        assert len(line) <= 50 or any(len(word) > 50 for word in line.split()), line


def test_due_counts_a_learning_step_of_a_day_from_the_mornings_start(cli, monkeypatch):
    """Learning steps 10m, 1d; Good at 20:00 (Berlin) is a step to the next study day: at 07:30
    `due` said "next card due in 13h (20:00)"; it is due, as in `review`, from 04:00."""
    import time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from studycli.study.settings import load_settings

    config_path().write_text('enable_fuzzing = false\nlearning_steps = ["10m", "1d"]\n')
    berlin = ZoneInfo("Europe/Berlin")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        with Store.open(database_path()) as store:
            card = fixture_content().get("bias-concept")
            evening = datetime(2025, 5, 4, 20, 0, tzinfo=berlin)
            core.rate(store, card, 3, evening, load_settings(config_path()))
        for clock, learning in (((3, 59), 0), ((7, 30), 1)):
            moment = datetime(2025, 5, 5, *clock, tzinfo=berlin)
            monkeypatch.setenv("STUDYCLI_NOW", moment.isoformat())
            assert json.loads(run(cli, "due", "--json").stdout)["learning"] == learning
        monkeypatch.setenv("STUDYCLI_NOW", datetime(2025, 5, 5, 3, 59, tzinfo=berlin).isoformat())
        assert run(cli, "due").stdout.rstrip().endswith("next card due in 1m (2025-05-05 04:00)")
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
