"""`studycli stats`: cards by state, reviews per study day, the forecast, Anki's true
retention, topics weakest first, the streak; the JSON shape and a screen that fits 80 columns."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card as FsrsCard
from rich.console import Console

from studycli.cli.stats import view
from studycli.content.loader import load_content
from studycli.content.topics import topics as all_topics
from studycli.errors import StoreError
from studycli.paths import config_path
from studycli.study import stats as core
from studycli.study.api import Study, study_items
from studycli.study.scheduler import make_scheduler
from studycli.study.times import iso

from .conftest import FIXTURE_CONTENT
from .study_support import NO_FUZZ, NOW, fixture_content

TODAY = date(2025, 3, 1)  # NOW is 09:00 UTC; study days roll over at 04:00


def items():
    return study_items(fixture_content().cards.values())


def open_study(tmp_path) -> Study:
    return Study.open(tmp_path / "db.sqlite3", NO_FUZZ)


def rate(study: Study, card_id: str, rating: int, moment: datetime) -> None:
    study.rate(fixture_content().get(card_id), rating, moment)


# --- on an empty log ---------------------------------------------------------------------------


def test_an_empty_log_has_new_cards_and_zeros_everywhere(tmp_path):
    with open_study(tmp_path) as study:
        figures = study.stats(items(), NOW, UTC)
    assert figures.today == TODAY
    assert figures.cards_by_state == {
        "new": 4,
        "learning": 0,
        "review": 0,
        "relearning": 0,
        "suspended": 0,
    }
    assert [d.day for d in figures.reviews_per_day] == [
        TODAY - timedelta(days=29 - i) for i in range(30)
    ]
    assert [d.day for d in figures.forecast] == [TODAY + timedelta(days=i) for i in range(30)]
    assert all(d.count == 0 for d in figures.reviews_per_day + figures.forecast)
    assert all(r.total == 0 and r.rate is None for r in figures.true_retention.values())
    assert [(t.topic, t.studied, t.recall) for t in figures.topics] == [
        ("bias", 0, None),
        ("poisson", 0, None),
        ("random-walk", 0, None),
    ]
    assert figures.streak == 0


# --- with a history ----------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path):
    """bias-concept learnt long ago (Easy, 50 days back: its recall has faded); add-one rated
    on three study days in a row up to today; poisson-concept rated once, yesterday, at
    03:00 of today's date (before the 04:00 rollover) and suspended."""
    with open_study(tmp_path) as study:
        rate(study, "bias-concept", 4, NOW - timedelta(days=50))
        rate(study, "add-one", 3, NOW - timedelta(days=2))
        rate(study, "add-one", 3, NOW - timedelta(days=2, minutes=-10))
        rate(study, "add-one", 3, NOW - timedelta(days=1))
        rate(study, "poisson-concept", 1, datetime(2025, 3, 1, 3, 0, tzinfo=UTC))
        rate(study, "add-one", 1, NOW)
        study.set_suspended([fixture_content().get("poisson-concept")], True)
        yield study


def test_cards_by_state_and_reviews_per_study_day(history):
    figures = history.stats(items(), NOW, UTC)
    assert figures.cards_by_state == {
        "new": 1,  # triangle-derivation
        "learning": 0,
        "review": 1,  # bias-concept
        "relearning": 1,  # add-one, forgotten today
        "suspended": 1,  # poisson-concept
    }
    per_day = {d.day: d.count for d in figures.reviews_per_day if d.count}
    assert per_day == {
        TODAY - timedelta(days=2): 2,
        TODAY - timedelta(days=1): 2,  # add-one, and poisson-concept at 03:00 today's date
        TODAY: 1,
    }  # bias-concept's review, 50 days ago, is outside the 30 days


def test_the_streak_counts_study_days_in_a_row_up_to_today_or_yesterday(history):
    assert history.stats(items(), NOW, UTC).streak == 3
    tomorrow = NOW + timedelta(days=1)
    assert history.stats(items(), tomorrow, UTC).streak == 3  # not broken before the day ends
    broken = history.stats(items(), NOW + timedelta(days=2), UTC)
    assert broken.streak == 0 and broken.last_studied == TODAY  # not "none yet"
    assert history.stats(items(), NOW, UTC).last_studied == TODAY


def test_a_broken_streak_says_when_the_learner_last_studied(cli, tmp_path, monkeypatch):
    """ "streak none yet" greeted a learner back after a week away, as if they had never
    studied (a helper's review): it says 0 days and the last day studied."""
    db = tmp_path / "reviews.sqlite3"
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    assert cli("--content", FIXTURE_CONTENT, "--db", db, "stats").stdout.count("none yet") == 1
    with Study.open(db, NO_FUZZ) as study:
        rate(study, "add-one", 3, NOW)
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(days=9)).isoformat())
    later = cli("--content", FIXTURE_CONTENT, "--db", db, "stats")
    assert f"0 days (last studied {TODAY.isoformat()})" in later.stdout, later.stdout
    data = json.loads(cli("--content", FIXTURE_CONTENT, "--db", db, "stats", "--json").stdout)
    assert (data["streak"], data["last_studied"]) == (0, TODAY.isoformat())


def test_the_streak_holds_on_the_morning_the_clocks_go_back(tmp_path):
    """A rating on each of three study days in Berlin, the last at 04:10 on 25 October 2025
    (the eve of the change): at 04:30 the streak was 2, today's rating left out (24 hours on
    from 04:30 was before tomorrow's 4 am, so "before tomorrow" ended at today's start)."""
    berlin = ZoneInfo("Europe/Berlin")
    with open_study(tmp_path) as study:
        for card, moment in (
            ("add-one", datetime(2025, 10, 23, 10, 0, tzinfo=berlin)),
            ("bias-concept", datetime(2025, 10, 24, 10, 0, tzinfo=berlin)),
            ("poisson-concept", datetime(2025, 10, 25, 4, 10, tzinfo=berlin)),
        ):
            rate(study, card, 3, moment)
        for now in (
            datetime(2025, 10, 25, 4, 30, tzinfo=berlin),
            datetime(2025, 10, 25, 5, 0, tzinfo=berlin),
        ):
            assert study.stats(items(), now.astimezone(UTC), berlin).streak == 3, now


def test_the_forecast_counts_due_cards_per_study_day_overdue_today(history):
    figures = history.stats(items(), NOW, UTC)
    states = {i.id: history.state(i.id) for i in items()}
    add_one = FsrsCard.from_json(states["add-one"].fsrs)
    bias = FsrsCard.from_json(states["bias-concept"].fsrs)
    assert bias.due < NOW  # overdue: counted today
    expected = {TODAY: 1 + (add_one.due.date() == TODAY)}
    forecast = {d.day: d.count for d in figures.forecast if d.count}
    assert forecast == expected  # the suspended card is left out


def test_a_card_made_a_draft_again_leaves_the_forecast_and_the_counts(history, content_copy):
    """A studied card its author is rewriting (a text begins with TODO again) is not studied
    until it is written (`study_items` leaves it out, as `review` does): no work to come."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    path.write_text(path.read_text() + "explanation: 'TODO: why it holds'\n", encoding="utf-8")
    content = load_content(content_copy)
    assert content.get("bias-concept").draft
    figures = history.stats(study_items(content.cards.values()), NOW, UTC)
    whole = history.stats(items(), NOW, UTC)
    assert whole.forecast[0].count == figures.forecast[0].count + 1  # bias-concept, overdue
    assert whole.cards_by_state["review"] == figures.cards_by_state["review"] + 1
    assert figures.study_items == 3


def test_topics_are_weakest_first_with_fsrs_recall(history):
    figures = history.stats(items(), NOW, UTC)
    scheduler = make_scheduler(NO_FUZZ)
    cards = {i: FsrsCard.from_json(history.state(i).fsrs) for i in ("add-one", "bias-concept")}
    recall = sum(scheduler.get_card_retrievability(c, NOW) for c in cards.values()) / 2
    [bias, poisson, walk] = figures.topics
    assert (bias.topic, bias.cards, bias.studied) == ("bias", 2, 2)
    assert bias.recall == pytest.approx(recall)
    assert (poisson.topic, poisson.studied, poisson.recall) == ("poisson", 0, None)  # suspended
    assert (walk.topic, walk.recall) == ("random-walk", None)
    # add-one in the review state: Good a day ago, Again today
    assert (bias.retention.passed, bias.retention.failed) == (1, 1)


def test_a_deck_or_topic_filter_and_history_from_elsewhere(history, tmp_path):
    csv = tmp_path / "elsewhere.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "from-another-app,3,2025-02-28T12:00:00+00:00,\n"
    )
    history.import_reviews(csv, items(), NOW)
    everything = history.stats(items(), NOW, UTC, elsewhere=True)
    assert sum(everything.cards_by_state.values()) == 4  # the content's items (see below)
    assert everything.not_in_content_ids == ("from-another-app",)
    assert everything.reviews_per_day[-2].count == 3
    basics = [i for i in items() if i.deck == "basics"]
    deck = history.stats(basics, NOW, UTC)
    assert sum(deck.cards_by_state.values()) == 2
    assert [t.topic for t in deck.topics] == ["bias"]
    assert deck.reviews_per_day[-2].count == 1


def test_the_forecast_counts_only_items_of_the_content(history, tmp_path):
    """History imported for a card the content does not have may count in the history's
    figures, but `review` never shows that card: it is no work to come."""
    csv = tmp_path / "elsewhere.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "from-another-app,3,2025-02-28T12:00:00+00:00,\n"
    )
    history.import_reviews(csv, items(), NOW)
    foreign = FsrsCard.from_json(history.state("from-another-app").fsrs)
    assert foreign.due < NOW + timedelta(days=30)  # it would fall in the forecast's window
    everything = history.stats(items(), NOW, UTC, elsewhere=True)
    only_content = history.stats(items(), NOW, UTC)
    assert everything.forecast == only_content.forecast
    assert everything.reviews_per_day[-2].count == only_content.reviews_per_day[-2].count + 1
    assert (everything.study_items, everything.cards, everything.not_in_content) == (4, 4, 1)


# --- true retention, as Anki defines it ----------------------------------------------------------


def _before(interval_days: float) -> tuple[str, str]:
    """What `Store.recent_reviews` reads of the state_after of a card's previous rating, its
    (due, last_review) as stored: in review, due after `interval_days`."""
    last = NOW - timedelta(days=interval_days)
    return iso(NOW), iso(last)


def test_true_retention_splits_young_and_mature_at_21_days():
    moment = "2025-02-28T10:00:00.000000+00:00"
    recent = [
        ("a", 3, moment, "self", "review", _before(5)),  # young pass
        ("a", 1, moment, "check", "review", _before(20.9)),  # young fail
        ("b", 2, moment, "import", "review", _before(21)),  # mature pass (Hard passes)
        ("b", 4, moment, "self", "review", _before(90)),  # mature pass
        ("c", 1, moment, "self", "review", _before(40)),  # mature fail
        ("d", 1, moment, "cram", "review", _before(40)),  # cram: not a review
        ("e", 1, moment, "self", "learning", _before(40)),  # not in the review state
        ("f", 3, moment, "self", "relearning", None),
    ]
    retention = core._true_retention(recent)
    assert (retention["young"].passed, retention["young"].failed) == (1, 1)
    assert (retention["mature"].passed, retention["mature"].failed) == (2, 1)
    assert (retention["all"].passed, retention["all"].failed) == (3, 2)
    assert retention["all"].rate == pytest.approx(0.6)


# --- the command -------------------------------------------------------------------------------


def test_cli_json_keys_and_shapes(cli, monkeypatch):
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    result = cli("--content", FIXTURE_CONTENT, "stats", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("cards_by_state", "reviews_per_day", "forecast", "true_retention", "topics"):
        assert key in data
    assert (data["study_items"], data["cards"], data["not_in_content"]) == (4, 4, 0)
    assert len(data["reviews_per_day"]) == 30 and len(data["forecast"]) == 30
    assert set(data["reviews_per_day"][0]) == {"date", "count"}
    assert data["reviews_per_day"][0]["date"] < data["reviews_per_day"][-1]["date"]
    assert set(data["true_retention"]) == {"young", "mature", "all"}
    assert data["streak"] == 0
    topic = cli("--content", FIXTURE_CONTENT, "stats", "--topic", "poisson", "--json")
    assert [t["topic"] for t in json.loads(topic.stdout)["topics"]] == ["poisson"]
    none = cli("--content", FIXTURE_CONTENT, "stats", "--deck", "basics", "--topic", "poisson")
    assert none.exit_code == 1 and "no cards match" in none.stderr


def test_a_content_folder_with_no_card_says_so_not_that_filters_match_none(cli, tmp_path):
    """No filters were given: "no cards match those filters" sent the learner to their
    filters (a new user's report)."""
    (tmp_path / "cards").mkdir()
    (tmp_path / "solutions").mkdir()
    result = cli("--content", tmp_path, "stats")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and f"the content in {tmp_path} holds no cards" in said
    assert "no cards match" not in said


def _busy_stats() -> core.Stats:
    """Figures with every real topic, busy days and big numbers: the widest screen."""
    slugs = list(all_topics())
    return core.Stats(
        today=TODAY,
        cards_by_state={
            "new": 1234,
            "learning": 56,
            "review": 7890,
            "relearning": 12,
            "suspended": 3,
        },
        study_items=9000,
        cards=6543,
        not_in_content_ids=tuple(f"removed-card-{n}" for n in range(195)),
        reviews_per_day=[
            core.DayCount(TODAY - timedelta(days=29 - i), (i * 37) % 400) for i in range(30)
        ],
        forecast=[core.DayCount(TODAY + timedelta(days=i), 1000 - i * 30) for i in range(30)],
        true_retention={
            "young": core.Retention(12345, 2345),
            "mature": core.Retention(23456, 1234),
            "all": core.Retention(35801, 3579),
        },
        topics=[
            core.TopicStats(slug, 120, 120, 100 - i, core.Retention(1000 + i, 100), 0.5 + i / 100)
            for i, slug in enumerate(slugs)
        ],
        streak=365,
    )


@pytest.mark.parametrize("width, per_day", [(80, 2), (40, 1), (30, 1)])
def test_a_column_chart_is_drawn_for_the_width_it_is_printed_at(width, per_day):
    """Two characters a day where they fit, else one, else the latest days that fit: at 40
    columns the 67-column chart wrapped, its bars and axis spilling onto other lines."""
    from datetime import date, timedelta

    from studycli.cli.charts import column_chart

    days = [date(2025, 3, 1) + timedelta(days=i) for i in range(30)]
    values = [(i * 7) % 13 for i in range(30)]
    console = Console(width=width, record=True, color_system=None)
    console.print(column_chart(values, days))
    lines = console.export_text().splitlines()
    assert len(lines) == 6 + 2 and max(len(line) for line in lines) <= width  # nothing wrapped
    axis = next(line for line in lines if "└" in line)
    assert len(axis.split("└")[1]) == min(per_day * 30, width - 4)  # the days it shows
    assert lines[-1].rstrip().endswith(days[-1].strftime("%m-%d"))  # the latest day is there


@pytest.mark.parametrize("width", [100, 60])
def test_a_long_header_line_wraps_under_its_own_text(width):
    """An imported FSRS log's card ids (13 digits each) made the line naming the items in the
    history only longer than the screen, and its rest ran back to the first column, under the
    labels: each header text now wraps under itself."""
    import dataclasses

    ids = tuple(str(1711684180217 + n) for n in range(1205))
    figures = dataclasses.replace(_busy_stats(), not_in_content_ids=ids)
    console = Console(width=width, record=True, color_system=None)
    console.print(view(figures, "all cards"))
    lines = console.export_text().splitlines()
    header = lines[lines.index(next(line for line in lines if line.startswith("items"))) :]
    header = header[: next(n for n, line in enumerate(header) if line.startswith("streak")) + 1]
    assert max(len(line) for line in header) <= width
    assert all(line.startswith(" " * 8) for line in header[1:-1]), header
    assert "1711684180221 and 1,200 more" in " ".join(line.strip() for line in header)


def test_the_screen_fits_80_columns_with_nothing_cut(monkeypatch):
    console = Console(width=80, record=True, color_system=None)
    console.print(view(_busy_stats(), "all cards"))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for slug in all_topics():  # every topic whole on its own line: no wrap, no ellipsis
        assert any(line.split() and line.split()[0] == slug for line in lines), slug
    assert "items   new 1,234 · learning 56 · review 7,890 · relearning 12 · suspended 3" in text
    assert "9,000 study items from 6,543 cards" in text and "195 more in your history only" in text
    assert "365 days in a row" in text
    assert "…" not in text
    chart = [line for line in lines if line.rstrip().endswith(("█", "▁")) or "┤" in line]
    assert len(chart) >= 10  # both charts' columns drawn
    assert any("01-31" in line and "03-01" in line for line in lines)  # the first and last day
    assert "12345" in text and "84.0%" in text and "50%" in text and "94%" in text


def test_the_cli_screen_on_the_fixture_deck(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("--content", FIXTURE_CONTENT, "stats")
    assert result.exit_code == 0, result.output
    for part in (
        "stats · all cards · 2025-03-01",
        "no reviews yet: begin with `studycli review`",  # (no empty charts, no table of 0s)
        "topics  no topic studied yet (3 topics",  # (nothing studied: no table of 0/N rows)
    ):
        assert part in result.stdout
    for chart in ("reviews per day", "due forecast", "true retention"):
        assert chart not in result.stdout
    assert "items   new 4 · learning 0" in result.stdout  # a card per item: no note needed
    # a topic's reviews are of learnt cards only, as its retention: said under a table, and
    # with no table (nothing studied), not at all
    assert "reviews and retention count" not in result.stdout
    assert "study items" not in result.stdout


def test_before_any_review_the_screen_says_how_to_begin_in_place_of_empty_charts(
    cli, monkeypatch, tmp_path
):
    """A new learner's first `stats` was two empty 30-day charts and a table of zeros: one
    line says how to begin instead (with the filter given), and the charts come with the
    first review."""
    db = tmp_path / "reviews.sqlite3"
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "80")
    fresh = cli("--content", FIXTURE_CONTENT, "--db", db, "stats", "--deck", "numbers").stdout
    assert "no reviews yet: begin with `studycli review --deck numbers`" in fresh, fresh
    assert "└" not in fresh and "true retention" not in fresh
    with Study.open(db, NO_FUZZ) as study:
        rate(study, "poisson-concept", 3, NOW)
    studied = cli("--content", FIXTURE_CONTENT, "--db", db, "stats", "--deck", "numbers").stdout
    assert "no reviews yet" not in studied
    assert "reviews per day, last 30 days  (1 in all)" in studied, studied
    assert "due forecast" in studied and "true retention" in studied


def test_the_header_says_how_many_cards_its_study_items_come_from(cli, monkeypatch, content_copy):
    """A cloze card is studied once per deletion: the header counts items, and says so when
    there are more of them than the cards `studycli list` shows."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "80")
    (content_copy / "cards" / "numbers" / "poisson-cloze.yaml").write_text(
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::λ}}'\n"
        "explanation: Both come from the generating function.\n",
        encoding="utf-8",
    )
    listed = cli("--content", content_copy, "list", "--json")
    assert len(json.loads(listed.stdout)) == 5  # the fixture's 4 cards and the cloze card
    screen = cli("--content", content_copy, "stats")
    assert screen.exit_code == 0, screen.output
    assert "items   new 6 · learning 0 · review 0" in screen.stdout  # two deletions: 6 items
    assert "6 study items from 5 cards: a cloze card is one per deletion" in screen.stdout
    assert "cards   new" not in screen.stdout
    data = json.loads(cli("--content", content_copy, "stats", "--json").stdout)
    assert sum(data["cards_by_state"].values()) == data["study_items"] == 6
    assert (data["cards"], data["not_in_content"]) == (5, 0)
    # a topic's cards are cards too, as `topics` counts them (they were its items: a QA pass
    # saw 16 for a topic of 11 cards), beside its items
    [poisson] = [topic for topic in data["topics"] if topic["topic"] == "poisson"]
    assert (poisson["cards"], poisson["items"], poisson["studied"]) == (2, 3, 0)


def _poisson_cloze_studied_long_ago(content_copy) -> str:
    """Write a cloze card of two deletions; the time sixty days before NOW, to have studied
    them then."""
    (content_copy / "cards" / "numbers" / "poisson-cloze.yaml").write_text(
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::λ}}'\n",
        encoding="utf-8",
    )
    return (NOW - timedelta(days=60)).isoformat()


def test_the_forecast_puts_a_cloze_sibling_waiting_for_tomorrow_on_tomorrow(
    cli, monkeypatch, content_copy, tmp_path
):
    """Both deletions of a cloze card overdue, one rated today: `due` and `review` hold the
    other, a review, back to tomorrow (one deletion a day), and the forecast counted it today
    (a QA pass). (It was in learning here, which the queue never holds back, and `due` counts
    today: the forecast put it on tomorrow, as this test then asked.)"""
    long_ago = _poisson_cloze_studied_long_ago(content_copy)
    csv = tmp_path / "log.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"poisson-cloze#c1,3,{long_ago},\npoisson-cloze#c2,4,{long_ago},\n"  # (c2: a review)
        f"poisson-cloze#c1,3,{NOW.isoformat()},\n"
    )
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(minutes=5)).isoformat())
    assert cli("--content", content_copy, "import-reviews", csv).exit_code == 0
    due = json.loads(cli("--content", content_copy, "due", "--json").stdout)
    assert (due["due"], due["learning"]) == (0, 0), due
    data = json.loads(cli("--content", content_copy, "stats", "--json").stdout)
    forecast = {d["date"]: d["count"] for d in data["forecast"] if d["count"]}
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert forecast.get(TODAY.isoformat(), 0) == 0 and forecast[tomorrow] == 1, forecast


def test_the_forecast_counts_one_of_two_cloze_siblings_due_today_as_due_does(
    cli, monkeypatch, content_copy, tmp_path
):
    """Both deletions of a cloze card overdue and neither rated yet today: `due` counts one
    (the queue shows one deletion a day, the other waits for tomorrow), and the forecast
    counted both today (a QA pass: `due` 7, the forecast's today 8)."""
    long_ago = _poisson_cloze_studied_long_ago(content_copy)
    csv = tmp_path / "log.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"poisson-cloze#c1,4,{long_ago},\npoisson-cloze#c2,4,{long_ago},\n"  # (Easy: review)
    )
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    assert cli("--content", content_copy, "import-reviews", csv).exit_code == 0
    assert json.loads(cli("--content", content_copy, "due", "--json").stdout)["due"] == 1
    data = json.loads(cli("--content", content_copy, "stats", "--json").stdout)
    forecast = {d["date"]: d["count"] for d in data["forecast"] if d["count"]}
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert forecast == {TODAY.isoformat(): 1, tomorrow: 1}, forecast


def test_the_forecast_holds_a_cloze_sibling_due_the_same_later_day_to_the_next(
    cli, monkeypatch, content_copy, tmp_path
):
    """Both deletions of a cloze card rated Easy at one time, so due on one later day: the
    queue will show one deletion that day and hold the other to the next, and the forecast
    counted both on the first (only today's siblings were held back)."""
    _poisson_cloze_studied_long_ago(content_copy)
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("enable_fuzzing = false\n")  # (one interval for both)
    csv = tmp_path / "log.csv"
    rated = (NOW - timedelta(hours=1)).isoformat()
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"poisson-cloze#c1,4,{rated},\npoisson-cloze#c2,4,{rated},\n"
    )
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    assert cli("--content", content_copy, "import-reviews", csv).exit_code == 0
    data = json.loads(cli("--content", content_copy, "stats", "--json").stdout)
    days = [d["date"] for d in data["forecast"] if d["count"]]
    counts = [d["count"] for d in data["forecast"] if d["count"]]
    assert counts == [1, 1], data["forecast"]
    first, second = (date.fromisoformat(day) for day in days)
    assert first > TODAY and second == first + timedelta(days=1)


def test_the_forecast_counts_a_cloze_sibling_in_learning_today_as_due_does(
    cli, monkeypatch, content_copy, tmp_path
):
    """One deletion rated today, the other in learning and overdue: the queue never holds a
    card in learning back, and `due` counts it now; the forecast put it on tomorrow (a QA
    pass: the README's demo forecast read 2 for today where `due` said 7)."""
    long_ago = _poisson_cloze_studied_long_ago(content_copy)
    csv = tmp_path / "log.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"poisson-cloze#c1,4,{long_ago},\npoisson-cloze#c2,3,{long_ago},\n"  # (c2: learning)
        f"poisson-cloze#c1,3,{NOW.isoformat()},\n"
    )
    monkeypatch.setenv("STUDYCLI_NOW", (NOW + timedelta(minutes=5)).isoformat())
    assert cli("--content", content_copy, "import-reviews", csv).exit_code == 0
    assert json.loads(cli("--content", content_copy, "due", "--json").stdout)["learning"] == 1
    data = json.loads(cli("--content", content_copy, "stats", "--json").stdout)
    assert data["forecast"][0] == {"date": TODAY.isoformat(), "count": 1}, data["forecast"]


def test_the_forecast_counts_a_buried_card_on_the_day_it_comes_back(history):
    """A review due today, buried (`b`): `due` leaves it out today, and the forecast counted it
    today all the same (a QA pass)."""
    figures = history.stats(items(), NOW, UTC)
    today = {d.day: d.count for d in figures.forecast}[TODAY]
    assert today >= 1  # (bias-concept is overdue)
    history.bury(fixture_content().get("bias-concept"), NOW, UTC)
    after = {d.day: d.count for d in history.stats(items(), NOW, UTC).forecast}
    assert after[TODAY] == today - 1 and after[TODAY + timedelta(days=1)] >= 1


def test_the_cli_forecast_leaves_out_imported_cards_review_never_shows(cli, monkeypatch, tmp_path):
    """Reviews imported for a card id the content lacks: its history counts, its due date
    does not (`review` never shows it), and the header says where the extra item comes from."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "80")
    csv = tmp_path / "elsewhere.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "from-another-app,3,2025-02-28T12:00:00+00:00,\n"
    )
    imported = cli("--content", FIXTURE_CONTENT, "import-reviews", csv)
    assert imported.exit_code == 0, imported.output
    data = json.loads(cli("--content", FIXTURE_CONTENT, "stats", "--json").stdout)
    assert [d for d in data["forecast"] if d["count"]] == []  # nothing of the content studied
    assert [d["date"] for d in data["reviews_per_day"] if d["count"]] == ["2025-02-28"]
    assert data["cards_by_state"]["new"] == 4 and data["not_in_content"] == 1
    screen = cli("--content", FIXTURE_CONTENT, "stats").stdout
    assert "due forecast, next 30 days  (0 due)" in screen
    assert "4 study items, one per card of the content" in screen
    assert "and 1 more in your history only: from-another-app" in screen


def test_the_reviews_of_an_imported_history_of_other_cards_are_said_to_be_theirs(
    cli, monkeypatch, tmp_path
):
    """After importing the FSRS sample (1,205 cards, none of them in the content), the chart
    counted its thousands of reviews "in all" under an items line of new cards only, and the
    note on those cards said their reviews "are kept", not that they were counted. They still
    count (what happened: the learner's reviews), and the chart's title and --json say how
    many of them are of items not in the content; a review of the content's is not one."""
    from pathlib import Path

    monkeypatch.setenv("STUDYCLI_NOW", "2024-10-07T10:00:00+00:00")
    monkeypatch.setenv("COLUMNS", "80")
    sample = Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv"
    own = tmp_path / "own.csv"
    header = "card_id,review_rating,review_time,review_duration\n"
    own.write_text(header + "add-one,3,2024-10-06T12:00:00+00:00,\n")  # the content's
    for csv in (sample, own):
        imported = cli("--content", FIXTURE_CONTENT, "import-reviews", csv)
        assert imported.exit_code == 0, imported.output
    data = json.loads(cli("--content", FIXTURE_CONTENT, "stats", "--json").stdout)
    total = sum(day["count"] for day in data["reviews_per_day"])
    assert data["reviews_not_in_content"] == total - 1 > 1_000  # all but add-one's
    screen = " ".join(cli("--content", FIXTURE_CONTENT, "stats").stdout.split())
    assert (
        f"reviews per day, last 30 days ({total:,} in all, {total - 1:,} of items not in the content)"
    ) in screen
    assert (
        "their reviews are kept and count in the reviews per day, true retention and the "
        "streak: `studycli history --card ID` lists them"
    ) in screen
    deck = json.loads(
        cli("--content", FIXTURE_CONTENT, "stats", "--deck", "basics", "--json").stdout
    )
    deck_reviews = sum(day["count"] for day in deck["reviews_per_day"])
    assert (deck_reviews, deck["reviews_not_in_content"]) == (1, 0)
    shown = cli("--content", FIXTURE_CONTENT, "stats", "--deck", "basics").stdout
    assert "(1 in all)" in shown and "not in the content" not in shown
    # one sentence, wrapped where the terminal ends: at 80 columns a line of it ended at
    # "never shown," (two lines of the list, the second wrapped) and "their reviews" began the next
    monkeypatch.setenv("COLUMNS", "400")
    wide = cli("--content", FIXTURE_CONTENT, "stats").stdout
    assert "or imported): never shown, their reviews are kept and count" in wide


def test_the_items_by_state_are_the_content_items_the_history_only_ones_said_apart(
    cli, monkeypatch, tmp_path
):
    """The items line counted the items known only from the history among its states
    ("learning 2" where `review` would ever show one learning item), right above "4 study
    items ... and 1 more in your history only", and --json's "cards_by_state" (documented as
    the study items) added up to more than "study_items". The states are those of the study
    items; the items in the history only are named on their own line."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "80")
    csv = tmp_path / "history.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        f"add-one,3,{(NOW - timedelta(minutes=1)).isoformat()},\n"
        f"removed-card,3,{(NOW - timedelta(minutes=1)).isoformat()},\n"
    )
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", csv).exit_code == 0
    data = json.loads(cli("--content", FIXTURE_CONTENT, "stats", "--json").stdout)
    assert data["cards_by_state"] == {
        "new": 3,
        "learning": 1,
        "review": 0,
        "relearning": 0,
        "suspended": 0,
    }
    assert sum(data["cards_by_state"].values()) == data["study_items"] == 4
    assert (data["not_in_content"], data["not_in_content_ids"]) == (1, ["removed-card"])
    screen = cli("--content", FIXTURE_CONTENT, "stats").stdout
    assert "items   new 3 · learning 1 · review 0" in screen
    assert "and 1 more in your history only: removed-card" in screen
    history_days = [d["count"] for d in data["reviews_per_day"] if d["count"]]
    assert history_days == [2]  # what happened still counts both reviews


def test_items_in_the_history_only_are_named_with_how_to_see_their_reviews(
    cli, monkeypatch, tmp_path
):
    """Study items the content no longer has (a cloze deletion removed, a card renamed) keep
    their reviews: the screen said only "and 1 more in your history only", naming none."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "80")
    removed = [f"removed-cloze#c{n}" for n in range(1, 9)]  # more than the screen names
    csv = tmp_path / "history.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        + "".join(f"{card},3,2025-02-28T12:00:00+00:00,\n" for card in removed)
    )
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", csv).exit_code == 0
    data = json.loads(cli("--content", FIXTURE_CONTENT, "stats", "--json").stdout)
    assert data["not_in_content_ids"] == sorted(removed)
    assert data["not_in_content"] == len(removed)
    screen = " ".join(cli("--content", FIXTURE_CONTENT, "stats").stdout.split())
    named = [card for card in removed if card in screen]
    assert 0 < len(named) < len(removed)
    assert f"and {len(removed) - len(named)} more" in screen
    assert (
        "no study item of the content (removed, renamed" in screen and "reviews are kept" in screen
    )
    assert "`studycli history --card ID`" in screen
    shown = cli("--content", FIXTURE_CONTENT, "history", "--card", removed[0])
    assert shown.exit_code == 0 and f"1 review of {removed[0]}" in shown.stdout  # as it says


def test_an_item_removed_before_any_review_is_not_in_the_history(cli, monkeypatch, content_copy):
    """A card suspended and then removed from the content, never reviewed, leaves a row in the
    store but no history: stats counted it among the items "in your history only", whose
    "reviews are kept", and history --card then listed none."""
    monkeypatch.setenv("STUDYCLI_NOW", NOW.isoformat())
    assert cli("--content", content_copy, "suspend", "add-one").exit_code == 0
    (content_copy / "cards" / "basics" / "add-one.yaml").unlink()
    data = json.loads(cli("--content", content_copy, "stats", "--json").stdout)
    assert (data["not_in_content"], data["not_in_content_ids"]) == (0, [])
    assert sum(data["cards_by_state"].values()) == data["study_items"] == 3
    assert "history only" not in cli("--content", content_copy, "stats").stdout


def test_true_retention_of_an_imported_history_uses_the_interval_before_each_review(tmp_path):
    """Imported reviews keep no state_before: the interval comes from the previous rating's
    state, in time order, so a merged history is measured as it was replayed."""
    csv = tmp_path / "in.csv"
    csv.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "bias-concept,4,2024-11-21T10:00:00+00:00,\n"
        "bias-concept,4,2024-12-31T10:00:00+00:00,\n"
        "bias-concept,3,2025-02-26T10:00:00+00:00,\n"  # in the window, a mature card's review
        "add-one,4,2025-02-20T10:00:00+00:00,\n"
        "add-one,1,2025-02-27T10:00:00+00:00,\n"  # in the window, a young card forgotten
    )
    with open_study(tmp_path) as study:
        study.import_reviews(csv, items(), NOW)
        [second] = [r for r in study.history("bias-concept") if r.reviewed_at.month == 12]
        card = FsrsCard.from_json(second.state_after)
        assert card.due - card.last_review >= timedelta(days=21)
        retention = study.stats(items(), NOW, UTC).true_retention
    assert (retention["mature"].passed, retention["mature"].failed) == (1, 0)
    assert (retention["young"].passed, retention["young"].failed) == (0, 1)


def test_stats_of_the_imported_sample_count_every_review_of_the_window(tmp_path):
    """The 12,580-review sample (ids not in the content): counted when no filter is given."""
    from pathlib import Path

    from studycli.study.review_log_csv import read_reviews

    sample = Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv"
    now = datetime(2024, 10, 7, 10, tzinfo=UTC)
    with open_study(tmp_path) as study:
        study.import_reviews(sample, items(), datetime(2030, 1, 1, tzinfo=UTC))
        figures = study.stats(items(), now, UTC, elsewhere=True)
        only_content = study.stats(items(), now, UTC)
    first = date(2024, 9, 8)
    expected = sum(
        1 for r in read_reviews(sample) if first <= (r.reviewed_at - timedelta(hours=4)).date()
    )
    assert sum(d.count for d in figures.reviews_per_day) == expected > 0
    assert sum(figures.cards_by_state.values()) == 4 and figures.not_in_content == 1_205
    assert figures.true_retention["all"].total > 0 and figures.streak >= 1
    assert sum(d.count for d in only_content.reviews_per_day) == 0


def test_the_readme_stats_screen_is_what_the_demo_history_gives(tmp_path):
    """The README's stats screen is `scripts/demo_history.py`'s history as `stats` shows it
    (it had gone stale: another count of reviews, due cards and new items)."""
    import os
    import subprocess
    import sys

    from .conftest import REPO_ROOT

    db = tmp_path / "demo.sqlite3"
    env = {**os.environ, "TZ": "UTC", "COLUMNS": "80", "STUDYCLI_DB": str(db),
           "STUDYCLI_HOME": str(tmp_path / "home"), "STUDYCLI_NOW": "2025-03-01T20:00:00+00:00"}  # fmt: skip
    subprocess.run(
        [sys.executable, "scripts/demo_history.py", str(db)], cwd=REPO_ROOT, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    shown = subprocess.run(
        [sys.executable, "-m", "studycli", "stats", "--deck", "transformers"],
        cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```text\nstats · transformers · ")[1].split("```")[0]
    lines = [line.rstrip() for line in shown.splitlines()]
    assert lines == ("stats · transformers · " + block).splitlines()


@pytest.mark.parametrize("field", ["due", "last_review"])
def test_a_stored_time_without_its_offset_is_said_with_the_doctor(tmp_path, field):
    """A state whose due time (or last review) lost its UTC offset (edited by hand) read as a
    naive time, and the forecast's comparison with an aware one ended `stats` in a TypeError
    traceback; it is a state that does not read, with the fix."""
    with open_study(tmp_path) as study:
        rate(study, "add-one", 3, NOW - timedelta(days=1))
        study.store.conn.execute(
            f"UPDATE cards SET fsrs = json_set(fsrs, '$.{field}',"
            f" substr(json_extract(fsrs, '$.{field}'), 1, 19)) WHERE card_id = 'add-one'"
        )
        with pytest.raises(StoreError, match=r"add-one does not read .*studycli doctor"):
            study.stats(items(), NOW, UTC)


@pytest.mark.parametrize(
    "state_after",
    [
        "not json",  # SQLite's json_extract failed the query: "malformed JSON, run it again"
        '{"card_id": 1, "last_review": "2025-02-27T09:00:00+00:00"}',  # no due: a TypeError
        '{"due": "2025-03-02T09:00:00", "last_review": "2025-02-27T09:00:00+00:00"}',  # naive
        '{"due": "soon", "last_review": "2025-02-27T09:00:00+00:00"}',
        "[]",
        "",
    ],
)
def test_a_logged_state_after_that_does_not_read_names_the_review_and_the_doctor(
    tmp_path, state_after
):
    """The state a rating left, which true retention reads the next review's interval from,
    edited into something that does not read: `stats` says whose rating it is and to run the
    doctor (it failed with "malformed JSON ... run the command again", or a traceback)."""
    with open_study(tmp_path) as study:
        for days in (25, 20, 5):  # learning, learning, then in review (true retention's)
            rate(study, "add-one", 3, NOW - timedelta(days=days))
        study.store.conn.execute(
            "UPDATE reviews SET state_after = ? WHERE reviewed_at LIKE '2025-02-09%'",
            (state_after,),
        )
        # the rating whose state it is, or (a time that does not read) the one it came before
        message = (
            r"rating of add-one (at 2025-02-09|before its review at 2025-02-24) 09:00:00 UTC"
            r" does not read.*studycli doctor"
        )
        with pytest.raises(StoreError, match=message):
            study.stats(items(), NOW, UTC)


def test_a_cram_rating_of_a_new_card_is_counted_as_one_of_a_card_with_no_state(tmp_path):
    """A cram rating of a card never rated logs no state after (''), which `stats` read as
    JSON: the whole query failed on it ("malformed JSON")."""
    with open_study(tmp_path) as study:
        study.cram_rate(fixture_content().get("add-one"), 3, NOW - timedelta(days=2))
        rate(study, "add-one", 3, NOW - timedelta(days=1))
        figures = study.stats(items(), NOW, UTC)
    assert sum(day.count for day in figures.reviews_per_day) == 2


def test_the_help_of_stats_names_every_key_of_its_json(cli, tmp_path, monkeypatch):
    """`stats --help` lists what `--json` prints, and left "last_studied" out (a new
    learner's first hour, reading the help beside the output)."""
    import re

    monkeypatch.setenv("STUDYCLI_DB", str(tmp_path / "reviews.sqlite3"))
    data = json.loads(cli("--content", FIXTURE_CONTENT, "stats", "--json").stdout)
    helped = " ".join(cli("stats", "--help").stdout.split())
    named = set(re.findall(r'"(\w+)"', helped))
    assert set(data) - named == set(), helped
