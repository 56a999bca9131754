"""`studycli optimize`: the CSV reader, fsrs items, the fit on fsrs-rs and its held-out
proof, the `parameters` setting and the command."""

from __future__ import annotations

import csv
import json
import math
import random
import statistics
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsrs_rs_python as rs
import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from studycli.errors import ConfigError, ImportFormatError, StudyError
from studycli.study import optimize as core
from studycli.study.api import Study
from studycli.study.api_parameters import fit_file
from studycli.study.review_log_csv import ReviewRow, read_reviews
from studycli.study.scheduler import make_scheduler, new_card
from studycli.study.scheduler import review as schedule
from studycli.study.settings import Settings, load_settings
from studycli.study.settings_save import SettingsChanged, parameters_saved, save_parameters

from .conftest import REPO_ROOT
from .study_support import NOW, fixture_content

SAMPLE = Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv"
HEADER = "card_id,review_rating,review_time,review_duration\n"
GOOD_ROW = "7,3,2024-03-29T20:32:39.497000+00:00,7241\n"


def subset_csv(tmp_path: Path, cards: int) -> Path:
    """The sample's reviews of its first `cards` card ids (sorted), as a CSV file."""
    with SAMPLE.open(newline="") as handle:
        rows = list(csv.reader(handle))
    keep = set(sorted({row[0] for row in rows[1:]})[:cards])
    path = tmp_path / f"sample-{cards}.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0]] + [row for row in rows[1:] if row[0] in keep])
    return path


def sample_items(day_starts_at: int = 4):
    rows = read_reviews(SAMPLE)
    return core.fsrs_items(((r.card_id, r.rating, r.reviewed_at) for r in rows), day_starts_at, UTC)


# --- the CSV reader ----------------------------------------------------------------------------


def test_the_sample_reads_every_row_with_its_values():
    rows = read_reviews(SAMPLE)
    assert len(rows) == 12_580
    assert rows[0] == ReviewRow(
        "1711684180217", 1, datetime(2024, 3, 29, 20, 32, 32, 250000, tzinfo=UTC), 25060
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            HEADER + GOOD_ROW + "8,5,2024-03-29T20:32:39+00:00,7241\n",
            ["line 3", "review_rating '5' is not 1-4", "4 Easy"],
        ),
        (HEADER + "8,0,2024-03-29T20:32:39+00:00,7241\n", ["line 2", "review_rating '0'"]),
        (
            HEADER + GOOD_ROW + GOOD_ROW + "8,3,yesterday,7241\n",
            ["line 4", "review_time 'yesterday' is not an ISO-8601 time"],
        ),
        (
            HEADER + "8,3,2024-03-29T20:32:39,7241\n",
            ["line 2", "has no timezone", "2024-03-29T20:32:39+00:00"],
        ),
        (HEADER + " ,3,2024-03-29T20:32:39+00:00,7241\n", ["line 2", "the card_id cell is empty"]),
        (HEADER + "8,3,2024-03-29T20:32:39+00:00,fast\n", ["line 2", "review_duration 'fast'"]),
        (HEADER + "8,3,2024-03-29T20:32:39+00:00,-5\n", ["line 2", "review_duration '-5'"]),
        (HEADER + "8,3\n", ["line 2", "the review_time cell is empty"]),
        (  # the year 1: every command that counts in days broke on it, once imported
            HEADER + GOOD_ROW + "8,3,0001-01-05T00:00:00+00:00,\n",
            ["line 3", "review_time '0001-01-05T00:00:00+00:00' is not a time a review was given"],
        ),
        (HEADER + "8,3,1969-12-31T23:59:59+00:00,\n", ["line 2", "(before 1970, or in the"]),
        (HEADER + "8,3,9999-06-01T00:00:00+00:00,\n", ["line 2", "is not a time a review"]),
        (
            "card_id,review_time,review_duration\n" + "8,2024-03-29T20:32:39+00:00,7241\n",
            ["line 1", "no review_rating column", "card_id,review_rating,review_time"],
        ),
    ],
)
def test_a_bad_row_names_the_file_the_line_and_the_fix(tmp_path, text, expected):
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFormatError) as error:
        read_reviews(path)
    message = str(error.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    "row, problems",
    [
        ("foo,5,xx,1", ["review_rating '5' is not 1-4", "review_time 'xx' is not an ISO-8601"]),
        (
            ",9,,fast",
            [
                "the card_id and review_time cells are empty: every review needs card_id, "
                "review_rating, review_time",
                "review_rating '9' is not 1-4",
                "review_duration 'fast' is not a whole number",
            ],
        ),
    ],
)
def test_every_problem_of_a_bad_row_is_named_once(tmp_path, row, problems):
    """`foo,5,xx,1` was refused for its rating alone: the learner who fixed it was refused
    again, for its time. Every wrong cell is named, each once, in the order of the columns."""
    path = tmp_path / "log.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as error:
        read_reviews(path)
    said = str(error.value).removeprefix(f"{path}, line 2: ").split("; ")
    assert len(said) == len(problems), said
    assert all(one.startswith(part) for one, part in zip(said, problems, strict=True)), said


@pytest.mark.parametrize("rows_after", [3, 20_000])
def test_a_stray_quote_is_named_on_the_line_it_opens(tmp_path, rows_after):
    """It was named on the line where the rows it swallowed ended ("line 5" for line 3), or,
    in a large file, on no line at all ("field larger than field limit (131072)")."""
    path = tmp_path / "log.csv"
    after = "".join(f"{i},3,2024-03-29T20:32:39+00:00,7241\n" for i in range(rows_after))
    path.write_text(HEADER + GOOD_ROW + '8,3,"2024-03-29T20:32:39+00:00,7241\n' + after)
    with pytest.raises(ImportFormatError) as error:
        read_reviews(path)
    message = " ".join(str(error.value).split())
    if rows_after > 1000:  # past the csv module's limit on a cell
        assert 'line 3: a cell starting here runs on and on: a quote (") that opens' in message
    else:
        assert 'line 3: a quote (") opens a cell here and it runs on to line 6' in message
        assert "; and the row has" in message, message  # what else is wrong with it, as ever


def test_every_bad_line_is_listed_with_its_fix(tmp_path):
    path = tmp_path / "log.csv"
    bad = ["8,9,2024-03-29T20:32:39+00:00,1", "9,3,soon,1", "add-one,2,2024-03-29T20:32:39,"]
    path.write_text(HEADER + GOOD_ROW + "\n".join(bad) + "\n" + GOOD_ROW, encoding="utf-8")
    with pytest.raises(ImportFormatError) as error:
        read_reviews(path)
    lines = str(error.value).splitlines()
    assert lines[0] == f"{path} has 3 bad lines, so none of it was read: fix each, then try again"
    assert lines[1].startswith("  line 3: review_rating '9' is not 1-4: use 1 Again")
    assert lines[2].startswith("  line 4: review_time 'soon' is not an ISO-8601 time: write it")
    assert lines[3].startswith("  line 5: review_time '2024-03-29T20:32:39' has no timezone")


def test_a_file_of_many_bad_lines_lists_the_first_and_counts_the_rest(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "8,7,2024-03-29T20:32:39+00:00,1\n" * 50, encoding="utf-8")
    with pytest.raises(ImportFormatError) as error:
        read_reviews(path)
    message = str(error.value)
    assert "50 bad lines" in message and "line 21:" in message and "line 22:" not in message
    assert message.endswith("... and 30 more bad lines")


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_an_empty_file_is_an_import_error(tmp_path, text):
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFormatError, match="is empty: a review log starts with the header"):
        read_reviews(path)


def test_a_header_alone_is_an_empty_log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(HEADER, encoding="utf-8")
    assert read_reviews(path) == []


def test_optional_duration_other_columns_text_ids_and_blank_lines(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "\ufeffreview_time,card_id,review_rating,deck\n"
        "2024-03-29T21:32:39+01:00,attention#c2,4,x\n\n",
        encoding="utf-8",
    )
    [row] = read_reviews(path)
    assert row == ReviewRow("attention#c2", 4, datetime(2024, 3, 29, 20, 32, 39, tzinfo=UTC), None)


def test_a_review_in_the_future_is_a_bad_row_when_now_is_given(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "8,3,2025-03-02T09:00:00+00:00,\n", encoding="utf-8")
    assert len(read_reviews(path)) == 1
    with pytest.raises(ImportFormatError, match=r"line 2: review_time .* is 1 day ahead of"):
        read_reviews(path, now=NOW)


def test_cli_reports_a_bad_csv_without_a_traceback(cli, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "8,9,2024-03-29T20:32:39+00:00,1\n", encoding="utf-8")
    result = cli("optimize", "--from-csv", path)
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "not 1-4" in result.stderr
    assert "Traceback" not in result.output
    missing = cli("optimize", "--from-csv", tmp_path / "nope.csv")
    assert missing.exit_code == 1 and "cannot read the review log" in missing.stderr


# --- fsrs items ----------------------------------------------------------------------------------


def test_items_count_study_days_that_roll_over_at_day_starts_at():
    def at(day: int, hour: int) -> datetime:
        return datetime(2025, 1, day, hour, tzinfo=UTC)

    history = [
        ("a", 3, at(1, 5)),
        ("a", 3, at(2, 3)),  # before 4 am: still the study day of Jan 1
        ("a", 1, at(2, 5)),  # a new study day
        ("a", 3, at(5, 12)),
        ("b", 4, at(1, 23)),
        ("b", 3, at(3, 1)),  # Jan 2's study day: one day after Jan 1
    ]
    items, reviews, cards, item_cards = core.fsrs_items(history, day_starts_at=4, tz=UTC)
    assert (reviews, cards) == (6, 2)
    assert item_cards == ["a", "b", "a"]
    assert items == [
        ((3, 0), (3, 0), (1, 1)),
        ((4, 0), (3, 1)),
        ((3, 0), (3, 0), (1, 1), (3, 3)),
    ]  # in the time order of the review each predicts; same-day reviews only as history


def test_fsrs_items_do_not_depend_on_the_order_of_reviews_made_at_one_moment():
    """Reviews of two cards at the same moment (a session under a fixed STUDYCLI_NOW, a log
    with times to the second) came out in the order the history gave them: the log's row ids,
    which an import numbers afresh, so a machine that imported the same reviews fitted other
    parameters (their held-out parts cut elsewhere). The items are a function of the reviews."""
    first, second = datetime(2025, 3, 1, 19, tzinfo=UTC), datetime(2025, 3, 3, 19, tzinfo=UTC)
    history = [("a", 3, first), ("b", 1, first), ("a", 3, second), ("b", 3, second)]
    forward = core.fsrs_items(history, day_starts_at=4, tz=UTC)
    backward = core.fsrs_items(list(reversed(history)), day_starts_at=4, tz=UTC)
    assert forward == backward
    assert forward[0] == [((3, 0), (3, 2)), ((1, 0), (3, 2))]  # ties by card id


def test_the_time_series_split_is_fsrs_rs_s():
    items = [((3, 0), (3, i + 1)) for i in range(13)]
    folds = core.time_series_split(items)
    assert [(len(train), len(test)) for train, test in folds] == [
        (2, 2),
        (4, 2),
        (6, 2),
        (8, 2),
        (10, 3),
    ]
    assert folds[4][1] == items[10:]


def test_the_held_out_figures_of_the_fit_are_fsrs_rs_s_own():
    """Our time-series split and metrics reproduce fsrs-rs's evaluate_with_time_series_splits
    (so the defaults, measured by the same code on the same reviews, are compared fairly)."""
    items, reviews, cards, item_cards = sample_items()
    fit = core.fit(items, reviews=reviews, cards=cards, item_cards=item_cards)
    batch = [rs.FSRSItem([rs.FSRSReview(r, d) for r, d in item]) for item in items]
    theirs = rs.evaluate_with_time_series_splits(batch)
    assert fit.log_loss_fitted == pytest.approx(theirs.log_loss, rel=1e-4)
    assert fit.rmse_bins_fitted == pytest.approx(theirs.rmse_bins, rel=1e-4)


# --- fitting -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    """One real fit with its proof, on the whole sample (about half a second)."""
    items, reviews, cards, item_cards = sample_items()
    return core.fit(items, reviews=reviews, cards=cards, item_cards=item_cards)


def test_the_sample_fit_gives_21_parameters_in_range_and_beats_the_defaults(fitted):
    assert len(fitted.parameters) == 21
    assert all(isinstance(p, float) and math.isfinite(p) for p in fitted.parameters)
    assert fitted.parameters != tuple(DEFAULT_PARAMETERS)
    assert all(
        low <= p <= high
        for p, low, high in zip(fitted.parameters, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS)
    )
    assert (fitted.reviews, fitted.cards, fitted.items) == (12_580, 1_205, 6_276)
    assert fitted.log_loss_fitted < fitted.log_loss_default
    assert fitted.rmse_bins_fitted < fitted.rmse_bins_default
    assert fitted.accepted


def test_fitted_parameters_schedule(fitted):
    settings = Settings(enable_fuzzing=False, parameters=fitted.parameters)
    scheduler = make_scheduler(settings)
    assert scheduler.parameters == fitted.parameters
    card = schedule(scheduler, new_card("add-one", NOW), 3, NOW)
    card = schedule(scheduler, card, 3, card.due)
    default = make_scheduler(Settings(enable_fuzzing=False))
    plain = schedule(default, new_card("add-one", NOW), 3, NOW)
    plain = schedule(default, plain, 3, plain.due)
    assert card.due > NOW and card.stability != plain.stability


def test_the_held_out_set_is_counted_in_reviews_and_in_cards():
    """The held-out reviews are every part of the split after the first: here the first
    part's 11 reviews are of one card, the 59 after it of five others."""
    items = [((3, 0), (3, 1 + i % 7)) for i in range(70)]
    item_cards = ["early"] * 11 + [f"later-{i % 5}" for i in range(59)]
    fit = core.fit(items, reviews=140, cards=6, item_cards=item_cards)
    assert (fit.held_out_reviews, fit.held_out_cards) == (59, 5)
    shown = fit.to_dict()
    assert (shown["held_out_reviews"], shown["held_out_cards"]) == (59, 5)
    assert shown["log_loss_resolution"] == fit.log_loss_resolution


def test_the_gain_resolution_of_one_review_a_card_is_twice_the_textbook_standard_error():
    """With one review a card, the cluster-robust standard error with its small-sample
    correction sqrt(G / (G - 1)) is the textbook one, s / sqrt(n) with s the sample standard
    deviation (n - 1 under it). Without the correction the margin was smaller: few held-out
    cards understated it."""
    rng = random.Random(8)
    items = [((3, 0), (3 if rng.random() < 0.7 else 1, 4)) for _ in range(12)]
    before = [rng.uniform(0.5, 0.95) for _ in items]
    after = [rng.uniform(0.5, 0.95) for _ in items]

    def loss(p: float, item) -> float:
        return -math.log(p) if item[-1][0] > 1 else -math.log(1 - p)

    gains = [loss(b, item) - loss(a, item) for b, a, item in zip(before, after, items)]
    expected = 2 * statistics.stdev(gains) / math.sqrt(len(gains))
    cards = [f"c{i}" for i in range(len(items))]
    assert core.gain_resolution(before, after, items, cards) == pytest.approx(expected)


def test_the_gain_resolution_of_reviews_of_one_card_cannot_be_told():
    """One card: its reviews say nothing of how another would go, and G / (G - 1) has no
    value. The margin is infinite: no gain is more than chance."""
    items = [((3, 0), (3, 2)), ((3, 0), (1, 5)), ((3, 0), (3, 9))]
    margin = core.gain_resolution([0.9] * 3, [0.6, 0.4, 0.8], items, ["only"] * 3)
    assert margin == math.inf


def test_the_gain_resolution_shrinks_with_more_cards_not_with_more_reviews_of_one():
    """Chance's margin on a log-loss gain: twice its standard error, a card's reviews counted
    together (they are not independent)."""
    rng = random.Random(5)
    items = [((3, 0), (3 if rng.random() < 0.8 else 1, 2)) for _ in range(200)]
    before = [0.9] * 200
    after = [rng.uniform(0.6, 0.99) for _ in range(200)]
    cards = [f"c{i % 40}" for i in range(200)]
    margin = core.gain_resolution(before, after, items, cards)
    assert margin > 0
    # the same reviews again, of 40 other cards: the margin shrinks by sqrt(2), the
    # small-sample correction going from sqrt(40 / 39) to sqrt(80 / 79)
    other = [f"d{i % 40}" for i in range(200)]
    twice = core.gain_resolution(before * 2, after * 2, items * 2, cards + other)
    corrections = math.sqrt(80 / 79) / math.sqrt(40 / 39)
    assert twice == pytest.approx(margin / math.sqrt(2) * corrections)
    # the same reviews again, of the same cards: they tell nothing new
    repeated = core.gain_resolution(before * 2, after * 2, items * 2, cards * 2)
    assert repeated == pytest.approx(margin)
    # every review gaining alike: no chance in it
    alike = core.gain_resolution(before, [0.95] * 200, items[:1] * 200, cards)
    assert alike == pytest.approx(0, abs=1e-12)


def test_the_samples_small_log_loss_gain_is_within_chance_and_still_accepted(fitted):
    """The sample's fit beats the defaults on both figures (so --write takes it, as before),
    but by a log-loss gain smaller than chance gives on its held-out reviews."""
    gain = fitted.log_loss_default - fitted.log_loss_fitted
    assert 0 < gain < fitted.log_loss_resolution
    assert fitted.accepted and not fitted.gain_resolved


def test_a_fit_to_an_export_leaves_its_undone_ratings_out(tmp_path):
    """An export marks the ratings undone on its machine (`undone_at`), for the importing
    machine to undo them: they are no ratings, and a fit to the file (`optimize --from-csv`)
    counted them as ratings. The file gives the fit the file without them gives."""
    plain = subset_csv(tmp_path, 80)
    with plain.open(newline="") as handle:
        rows = list(csv.reader(handle))
    marked = tmp_path / "marked.csv"
    with marked.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*rows[0], "content_hash", "undone_at"])
        for card, rating, time, duration in rows[1:]:
            writer.writerow([card, rating, time, duration, "", ""])
            again = datetime.fromisoformat(time) + timedelta(seconds=1)  # an Again, undone
            undone = again + timedelta(seconds=5)
            writer.writerow([card, "1", again.isoformat(), "", "", undone.isoformat()])
    assert read_reviews(marked) == read_reviews(plain)
    fit, expected = fit_file(marked, Settings(), UTC), fit_file(plain, Settings(), UTC)
    assert fit.reviews == expected.reviews == len(rows) - 1
    assert fit.parameters == expected.parameters


def test_a_fit_that_does_not_beat_the_defaults_is_not_accepted(tmp_path):
    fit = fit_file(subset_csv(tmp_path, 80), Settings(), UTC)  # 651 items: it overfits
    assert not fit.accepted
    assert fit.log_loss_fitted > fit.log_loss_default


def test_too_few_reviews_is_a_clear_error():
    items, reviews, cards, item_cards = sample_items()
    few = {"reviews": 300, "cards": cards, "item_cards": item_cards[:63]}
    with pytest.raises(StudyError, match=r"at least 64 .*--from-csv FILE"):
        core.fit(items[:63], **few)
    # a file that is too short is not sent to fit to a file
    with pytest.raises(StudyError, match=r"at least 64") as short_file:
        core.fit(items[:63], **few, source="sample.csv")
    assert "--from-csv" not in str(short_file.value)
    # nor told to keep reviewing: the file's reviews are not the learner's to add to
    assert "keep reviewing" not in str(short_file.value)
    assert "fit to a longer review log" in str(short_file.value)
    # a first day's history, in words (it said "1 reviews, of which 1 come")
    with pytest.raises(StudyError, match=r"your reviews: 1 review, of which 1 comes on a later"):
        core.fit(items[:1], reviews=1, cards=1, item_cards=item_cards[:1])


def test_the_fit_of_your_own_log_leaves_undone_and_cram_ratings_out(tmp_path, monkeypatch):
    content = fixture_content()
    seen = {}

    def spy(items, *, reviews, cards, item_cards, source="your reviews"):
        seen.update(items=items, reviews=reviews, cards=cards, item_cards=item_cards)
        raise StudyError("stop")

    monkeypatch.setattr(core, "fit", spy)
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        study.rate(content.get("add-one"), 3, NOW, duration_ms=1500)
        later = NOW + timedelta(days=2)
        study.rate(content.get("add-one"), 3, later)
        undone = study.rate(content.get("add-one"), 1, later + timedelta(days=3))
        study.undo(undone.review.id, later + timedelta(days=3))
        study.cram_rate(content.get("add-one"), 1, later + timedelta(days=4))
        with pytest.raises(StudyError, match="stop"):
            study.fit(UTC)
    assert (seen["reviews"], seen["cards"]) == (2, 1)
    assert seen["items"] == [((3, 0), (3, 2))]
    assert seen["item_cards"] == ["add-one"]


# --- the parameters setting --------------------------------------------------------------------


def write_settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_parameters_load_and_default_to_none(tmp_path):
    assert Settings().parameters is None
    values = ", ".join(str(p) for p in DEFAULT_PARAMETERS)
    settings = load_settings(write_settings(tmp_path, f"parameters = [{values}]\n"))
    assert settings.parameters == tuple(DEFAULT_PARAMETERS)


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "[0.2, 1.3]",
            "parameters = a list of 2 values is invalid: set it to a list of 21 finite numbers",
        ),
        ('"fast"', "parameters = 'fast' is invalid"),
        ("[" + ", ".join(["nan"] + ["1.0"] * 20) + "]", "list of 21 finite numbers"),
        ("[" + ", ".join(["true"] + ["1.0"] * 20) + "]", "list of 21 finite numbers"),
        (
            "[" + ", ".join([str(p) for p in DEFAULT_PARAMETERS[:20]] + ["9.0"]) + "]",
            "parameters[20] = 9.0 is outside fsrs's range",
        ),
    ],
)
def test_bad_parameters_name_the_key_and_the_file(tmp_path, value, expected):
    path = write_settings(tmp_path, f"parameters = {value}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(error.value).startswith(str(path)) and expected in str(error.value)


def test_saving_parameters_keeps_other_settings_and_comments(tmp_path):
    path = write_settings(
        tmp_path,
        "# mine\nnew_per_day = 5  # fewer\nparameters = [\n  0.1, # old\n]\nday_starts_at = 6\n",
    )
    fitted = [p + 0.01 if 4 <= i <= 6 else p for i, p in enumerate(DEFAULT_PARAMETERS)]
    save_parameters(path, fitted)
    text = path.read_text(encoding="utf-8")
    assert "# mine" in text and "# fewer" in text and "# old" not in text
    settings = load_settings(path)
    assert settings.parameters == tuple(fitted)
    assert (settings.new_per_day, settings.day_starts_at) == (5, 6)
    save_parameters(path, DEFAULT_PARAMETERS)  # again, over the saved ones
    assert load_settings(path).parameters == tuple(DEFAULT_PARAMETERS)
    assert tomllib.loads(path.read_text())["new_per_day"] == 5


def test_parameters_saved_around_a_block_keep_what_was_edited_in_it(tmp_path):
    """The new text was made before the block (which `optimize --write` spends recomputing
    the memory states): an edit of the file in it was undone by the rename after it."""
    path = write_settings(tmp_path, "# mine\nnew_per_day = 5\n")
    fitted = [p + 0.01 if 4 <= i <= 6 else p for i, p in enumerate(DEFAULT_PARAMETERS)]
    with parameters_saved(path, fitted):
        path.write_text("# mine\nnew_per_day = 7  # more\nday_starts_at = 6\n")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# mine\nnew_per_day = 7  # more\nday_starts_at = 6\n"), text
    settings = load_settings(path)
    assert (settings.new_per_day, settings.day_starts_at) == (7, 6)
    assert settings.parameters == tuple(fitted)
    # broken in the block: left as it is
    with pytest.raises(SettingsChanged) as error, parameters_saved(path, DEFAULT_PARAMETERS):
        path.write_text("new_per_day = -1\n")
    assert error.value.problem == f"{path}: new_per_day = -1 is invalid: " + (
        "set it to a whole number from 0 to 10000 (or delete the line to use the default)"
    )
    assert path.read_text() == "new_per_day = -1\n"
    assert not list(tmp_path.glob(".settings.toml.*"))


def test_saving_creates_the_file_and_refuses_to_rewrite_a_broken_one(tmp_path):
    fresh = tmp_path / "new" / "settings.toml"
    save_parameters(fresh, DEFAULT_PARAMETERS)
    assert load_settings(fresh).parameters == tuple(DEFAULT_PARAMETERS)
    broken = write_settings(tmp_path, "new_per_day = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        save_parameters(broken, DEFAULT_PARAMETERS)
    assert broken.read_text() == "new_per_day = \n"
    with pytest.raises(ConfigError, match="list of 21"):
        save_parameters(fresh, [0.5] * 3)


# --- the command -------------------------------------------------------------------------------

KEYS = {
    "parameters",
    "log_loss_default",
    "log_loss_fitted",
    "rmse_bins_default",
    "rmse_bins_fitted",
    "accepted",
    "reviews",
}


def test_cli_json_and_write_keep_other_settings(cli, isolated_home):
    settings_file = isolated_home / "config" / "settings.toml"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("new_per_day = 7\nenable_fuzzing = false\n", encoding="utf-8")
    result = cli("optimize", "--from-csv", SAMPLE, "--write", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert set(shown) >= KEYS and len(shown["parameters"]) == 21
    assert shown["reviews"] == 12_580 and shown["accepted"] is True
    assert shown["written"] == str(settings_file)
    settings = load_settings(settings_file)
    assert settings.parameters == tuple(shown["parameters"])
    assert settings.new_per_day == 7 and settings.enable_fuzzing is False


def test_ctrl_c_in_the_recompute_saves_nothing_and_says_so(cli, isolated_home, monkeypatch):
    """Ctrl-C while `optimize --write` recomputes the memory states (seconds on a large log):
    the parameters were saved before it, and it exited 130 without a word (later: saying to
    run `--recompute`). settings.toml is now written after the recompute commits: the
    recompute rolls back, and nothing is saved."""
    from studycli.study.api import Study
    from studycli.study.store import Store

    Store.open(isolated_home / "data" / "reviews.sqlite3").close()  # a database to recompute

    def interrupted(self, now, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(Study, "recompute_memory", interrupted)
    result = cli("optimize", "--from-csv", SAMPLE, "--write")
    settings_file = isolated_home / "config" / "settings.toml"
    assert result.exit_code == 130
    said = " ".join(result.stderr.split())
    assert "interrupted: the parameters and the memory states are as they were" in said
    assert not settings_file.exists()
    again = cli("optimize", "--recompute")
    assert again.exit_code == 130
    assert "interrupted: the parameters and the memory states are as they were" in again.stderr


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_termination_between_saving_and_recomputing_waits_for_the_recompute(
    cli, isolated_home, monkeypatch, signal_name
):
    """SIGTERM or SIGHUP (a terminal closed) after `optimize --write` saved the parameters and
    before the recompute committed ended the command: the parameters saved, every memory state
    stale, and nothing said so (a helper's review). It comes once the recompute is done (and,
    the file now written last, once settings.toml is)."""
    import os
    import signal

    from studycli.study.api import Study
    from studycli.study.store import Store

    Store.open(isolated_home / "data" / "reviews.sqlite3").close()  # a database to recompute
    number = getattr(signal, signal_name)
    came: list[bool] = []  # for each signal handled: whether the recompute had finished
    finished: list[bool] = []
    recompute = Study.recompute_memory

    def signalled_midway(self, now, **kwargs):
        os.kill(os.getpid(), number)  # (as the terminal closes, or a shutdown begins)
        changed = recompute(self, now, **kwargs)
        finished.append(True)
        return changed

    monkeypatch.setattr(Study, "recompute_memory", signalled_midway)
    previous = signal.signal(number, lambda *_: came.append(bool(finished)))
    try:
        result = cli("optimize", "--from-csv", SAMPLE, "--write")
    finally:
        signal.signal(number, previous)
    assert result.exit_code == 0, result.output
    assert finished == [True] and came == [True]  # handled once, after the recompute


def test_termination_while_waiting_for_the_lock_is_not_held(cli, isolated_home, monkeypatch):
    """While `optimize --write` waits for another program's lock nothing is saved yet: a
    SIGTERM then ends it at once (it was held until the wait, the save and the recompute were
    done, and the command died silently with the parameters saved)."""
    import os
    import signal

    from studycli.study.api import Study
    from studycli.study.store import Store

    Store.open(isolated_home / "data" / "reviews.sqlite3").close()
    settings_file = isolated_home / "config" / "settings.toml"
    came: list[bool] = []  # for each SIGTERM handled: whether the parameters were saved then
    wait = Study.wait_to_write

    def signalled_while_waiting(self):
        os.kill(os.getpid(), signal.SIGTERM)
        return wait(self)

    monkeypatch.setattr(Study, "wait_to_write", signalled_while_waiting)

    def handler(*_):
        came.append(settings_file.exists() and "parameters" in settings_file.read_text())

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        cli("optimize", "--from-csv", SAMPLE, "--write")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert came == [False]


def test_cli_write_replaces_invalid_parameters_it_was_told_to_fix(cli, isolated_home):
    """The error for an invalid `parameters` says to set 21 numbers "as `studycli optimize
    --write` saves": that command now does, where it refused with the same error; the other
    settings are still checked."""
    settings_file = isolated_home / "config" / "settings.toml"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("parameters = [1, 2, 3]\nnew_per_day = 7\n", encoding="utf-8")
    assert "studycli optimize --write" in cli("due").stderr  # what the error advises
    result = cli("optimize", "--from-csv", SAMPLE, "--write", "--json")
    assert result.exit_code == 0, result.output
    settings = load_settings(settings_file)
    assert settings.parameters == tuple(json.loads(result.stdout)["parameters"])
    assert settings.new_per_day == 7
    settings_file.write_text("parameters = [1, 2, 3]\nnew_per_day = -1\n", encoding="utf-8")
    refused = cli("optimize", "--from-csv", SAMPLE, "--write")
    assert refused.exit_code == 1 and "new_per_day = -1 is invalid" in refused.stderr


def test_cli_write_with_your_parameters_and_a_fit_that_does_not_beat_the_defaults(
    cli, tmp_path, isolated_home, fitted
):
    """A learner on parameters of their own, and a fit that does not even beat the defaults:
    stdout said it was "not better than your current parameters" while the refusal on stderr
    said it did not beat the defaults."""
    save_parameters(isolated_home / "config" / "settings.toml", fitted.parameters)
    result = cli("optimize", "--from-csv", subset_csv(tmp_path, 80), "--write")
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())
    assert (
        "the fit is not better than the defaults on 543 held-out reviews of 80 cards: "
        "yours are kept" in out
    )
    assert "not better than your current parameters" not in out
    assert "do not beat the defaults" in result.stderr and "yours are kept" in result.stderr


def test_cli_write_refuses_a_fit_that_is_not_better_with_the_figures(cli, tmp_path, isolated_home):
    result = cli("optimize", "--from-csv", subset_csv(tmp_path, 80), "--write")
    assert result.exit_code == 1
    assert "not saved: the fitted parameters do not beat the defaults" in result.stderr
    assert "log loss" in result.stderr and "RMSE(bins)" in result.stderr
    assert "the defaults on 543 held-out reviews of 80 cards (log loss" in " ".join(
        result.stderr.split()
    )
    assert "the fit is not better than the defaults" in result.stdout
    # the file's reviews were fitted: more of the learner's own would not change the verdict
    said = " ".join(result.stderr.split())
    assert "try again with a longer review log" in said and "more reviews" not in said
    assert not (isolated_home / "config" / "settings.toml").exists()
    as_json = cli("optimize", "--from-csv", subset_csv(tmp_path, 80), "--write", "--json")
    assert as_json.exit_code == 1
    shown = json.loads(as_json.stdout)  # one object, the refusal in it
    assert shown["accepted"] is False and shown["written"] is None
    assert shown["error"].startswith("not saved: the fitted parameters do not beat")
    assert "not saved" in as_json.stderr


def last_cards_csv(tmp_path: Path, cards: int) -> Path:
    """The sample's reviews of its last `cards` card ids (sorted), as a CSV file."""
    with SAMPLE.open(newline="") as handle:
        rows = list(csv.reader(handle))
    keep = set(sorted({row[0] for row in rows[1:]})[-cards:])
    path = tmp_path / f"sample-last-{cards}.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0]] + [row for row in rows[1:] if row[0] in keep])
    return path


def test_cli_write_keeps_your_parameters_when_the_fit_beats_only_the_defaults(
    cli, tmp_path, isolated_home, fitted
):
    """A learner on parameters of their own (here fitted to the whole sample) is not moved
    to a new fit that beats the defaults but not theirs, on the same held-out reviews; and
    keeping theirs is no failure (it exited 1 with an error, as Anki does not: a weekly
    `optimize --write` failed every week that nothing had changed)."""
    settings_file = isolated_home / "config" / "settings.toml"
    save_parameters(settings_file, fitted.parameters)
    before = settings_file.read_text(encoding="utf-8")
    recent = last_cards_csv(tmp_path, 600)  # 2,302 items: fitted in a tenth of a second
    result = cli("optimize", "--from-csv", recent, "--write", "--json")
    shown = json.loads(result.stdout)
    # what makes this the case: compared with the defaults alone, the fit would be written
    assert shown["log_loss_fitted"] < shown["log_loss_default"]
    assert shown["rmse_bins_fitted"] < shown["rmse_bins_default"]
    assert settings_file.read_text(encoding="utf-8") == before
    assert result.exit_code == 0, result.output
    assert shown["accepted"] is False and shown["written"] is None and "error" not in shown
    assert shown["compared_with"] == "current"
    assert not (
        shown["log_loss_fitted"] < shown["log_loss_current"]
        and shown["rmse_bins_fitted"] < shown["rmse_bins_current"]
    )
    table = cli("optimize", "--from-csv", recent, "--write")
    assert table.exit_code == 0, table.output
    out = " ".join(table.stdout.split())
    assert "not better than your current parameters" in out and "yours are kept" in out
    assert "than the defaults" not in out and "not saved" not in table.stderr
    # measured on the file's reviews, not on the learner's (it said "on your reviews")
    assert f"on the reviews of {recent} (RMSE(bins)" in out and "your reviews" not in out
    assert "on 1,919 held-out reviews of 573 cards, both measured there" in out
    assert settings_file.read_text(encoding="utf-8") == before
    assert load_settings(settings_file).parameters == fitted.parameters


def test_cli_write_replaces_your_parameters_when_the_fit_beats_them(cli, tmp_path, isolated_home):
    settings_file = isolated_home / "config" / "settings.toml"
    overfitted = fit_file(subset_csv(tmp_path, 80), Settings(), UTC).parameters  # 651 items
    save_parameters(settings_file, overfitted)
    shown = json.loads(cli("optimize", "--from-csv", SAMPLE, "--json").stdout)
    assert shown["compared_with"] == "current" and shown["accepted"] is True
    assert shown["log_loss_fitted"] < shown["log_loss_current"]
    result = cli("optimize", "--from-csv", SAMPLE, "--write")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "better than your current parameters" in out and "written" in out
    written = load_settings(settings_file).parameters
    assert written is not None and written != overfitted
    # the walkthrough's case: fitting again, the learner is on the parameters just written
    again = cli("optimize", "--from-csv", SAMPLE)
    assert "not better than your current parameters" in " ".join(again.stdout.split())


def earliest_csv(tmp_path: Path, share: float) -> Path:
    """The sample's first `share` of its reviews by time, as a CSV file: the history a learner
    had when they last fitted."""
    with SAMPLE.open(newline="") as handle:
        rows = list(csv.reader(handle))
    ordered = sorted(rows[1:], key=lambda row: row[2])
    path = tmp_path / f"sample-first-{share:g}.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0]] + ordered[: int(len(ordered) * share)])
    return path


def test_a_learners_own_parameters_are_set_against_the_refit_on_the_same_reviews(
    cli, tmp_path, isolated_home
):
    """Parameters fitted to the first 80% of a history, then a fit to all of it. The current
    ones were measured in sample (fitted to most of the held-out reviews) against the fit
    held out from them: a refit was refused almost always. Both parameter sets are measured
    on the same reviews now, and the one with the lower RMSE(bins) is kept, as Anki keeps it
    (the fit minimises log loss: the earlier parameters may well do better there)."""
    settings_file = isolated_home / "config" / "settings.toml"
    earlier = fit_file(earliest_csv(tmp_path, 0.8), Settings(), UTC).parameters
    save_parameters(settings_file, earlier)
    shown = json.loads(cli("optimize", "--from-csv", SAMPLE, "--json").stdout)
    assert shown["compared_with"] == "current"
    refit_wins = shown["rmse_bins_refit"] < shown["rmse_bins_current"]
    assert shown["accepted"] is refit_wins
    full = fit_file(SAMPLE, Settings(), UTC)
    on_the_same = core.evaluate(core.predict(full.parameters, full.held_out), full.held_out)
    assert shown["rmse_bins_refit"] == pytest.approx(on_the_same[1])  # the refit, in sample
    assert shown["rmse_bins_refit"] != pytest.approx(shown["rmse_bins_fitted"])  # not held out
    result = cli("optimize", "--from-csv", SAMPLE, "--write")
    said = " ".join((result.stdout + result.stderr).split())
    assert ("written" in said) is refit_wins and (
        load_settings(settings_file).parameters == earlier
    ) is not refit_wins
    if not refit_wins:
        assert "as Anki compares them" in said and "yours are kept" in said


def test_a_fit_judged_against_the_defaults_as_current_has_their_figures(fitted):
    """The current parameters are measured on the same held-out reviews as the defaults: given
    the defaults, they get the defaults' figures and the same verdict."""
    assert fitted.compared_with == "defaults"
    same = fitted.against(list(rs.DEFAULT_PARAMETERS))
    assert same.compared_with == "current"
    assert same.log_loss_current == pytest.approx(fitted.log_loss_default, rel=1e-12)
    assert same.rmse_bins_current == pytest.approx(fitted.rmse_bins_default, rel=1e-12)
    assert same.accepted == fitted.accepted
    assert fitted.against(None) == fitted


def forgetful_csv(tmp_path: Path, cards: int = 100) -> Path:
    """A learner who forgets half of what the defaults expect them to recall: a fit that
    clearly beats the defaults."""
    rng = random.Random(3)
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    rows = [HEADER.strip()]
    for card in range(cards):
        day = card % 10
        for gap in (0, 1, 3, 7, 15):
            day += gap
            rating = 3 if rng.random() < 0.5 else 1
            rows.append(
                f"{card},{rating},{(start + timedelta(days=day, minutes=card)).isoformat()},"
            )
    path = tmp_path / "forgetful.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_cli_says_the_held_out_size_and_whether_the_gain_is_more_than_chance(cli, tmp_path):
    """`optimize` called a log-loss gain of 0.0007 on a month of reviews "better than the
    defaults", without saying how many held-out reviews that was on: now the verdict names
    them, and a gain within chance's margin there is told as that."""
    small = cli("optimize", "--from-csv", SAMPLE)
    assert small.exit_code == 0, small.output
    out = " ".join(small.stdout.split())
    shown = json.loads(cli("optimize", "--from-csv", SAMPLE, "--json").stdout)
    assert (shown["held_out_reviews"], shown["held_out_cards"]) == (5_230, 1_161)
    gain = shown["log_loss_default"] - shown["log_loss_fitted"]
    assert (
        f"its log-loss gain over the defaults, {gain:.4f} on 5,230 held-out reviews of 1,161 "
        f"cards, is within the {shown['log_loss_resolution']:.4f} that chance alone could give "
        "on that many: it may be no real improvement"
    ) in out
    assert "the fit is better than" not in out and "to schedule with it anyway" in out
    clear = cli("optimize", "--from-csv", forgetful_csv(tmp_path))
    assert clear.exit_code == 0, clear.output
    out = " ".join(clear.stdout.split())
    assert "the fit is better than the defaults on 334 held-out reviews of 100 cards (log-loss" in (
        out
    )
    shown = json.loads(cli("optimize", "--from-csv", forgetful_csv(tmp_path), "--json").stdout)
    gain = shown["log_loss_default"] - shown["log_loss_fitted"]
    assert (
        f"(log-loss gain {gain:.4f}, more than the {shown['log_loss_resolution']:.4f} chance "
        "could give there)"
    ) in out
    assert "±" not in out and "no real improvement" not in out and "anyway" not in out


def test_a_fit_held_out_on_one_card_says_its_gain_cannot_be_told_from_chance(tmp_path):
    """Held-out reviews all of one card: chance's margin is infinite, which JSON cannot
    write ("Infinity" is no JSON): it is null there, and the verdict says so in words."""
    from studycli.cli.optimize_report import _better

    rng = random.Random(2)
    items = [((3, 0), (3 if rng.random() < 0.6 else 1, 1 + i % 9)) for i in range(70)]
    fit = core.fit(items, reviews=140, cards=1, item_cards=["only"] * 70)
    assert fit.held_out_cards == 1 and fit.log_loss_resolution == math.inf
    assert not fit.gain_resolved
    shown = json.loads(json.dumps(fit.to_dict(), allow_nan=False))
    assert shown["log_loss_resolution"] is None
    gain = fit.log_loss_default - fit.log_loss_fitted
    assert _better(fit, "the defaults") == (
        f"its log-loss gain over the defaults, {gain:.4f} on {fit.held_out_reviews} held-out "
        "reviews of 1 card, cannot be told from chance on one card: it may be no real "
        "improvement"
    )


def test_cli_table_shows_the_parameters_and_the_proof(cli):
    result = cli("optimize", "--from-csv", SAMPLE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "FSRS parameters" in out and "8.2956" in out  # the default w3 beside the fit
    assert "held-out reviews" in out and "log loss" in out and "RMSE(bins)" in out
    assert f"studycli optimize --from-csv {SAMPLE} --write" in out.replace("\n", "")


def test_cli_prose_wraps_at_words_on_a_terminal_and_stays_on_one_line_piped(cli, tmp_path):
    """On a terminal 80 columns wide the fit's line (104 characters) and its verdict (179)
    were written whole, and the terminal broke them mid-word; the progress line on stderr
    put its "..." alone on a line of its own. There they now wrap at words; piped, each
    sentence is still one line (a script reads it whole). The command to paste stays one
    line on the terminal too: copied, a terminal's wrap is no line break."""
    import os
    import re
    import shutil

    import pexpect

    name = "x" * 48 + ".csv"  # "fitting FSRS parameters to <name> ..." is 83 columns
    shutil.copyfile(SAMPLE, tmp_path / name)
    environment = {
        **os.environ,
        "STUDYCLI_HOME": str(tmp_path / "home"),
        "TERM": "xterm-256color",
        "COLUMNS": "80",
        "PYTHONPATH": str(REPO_ROOT),
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "studycli", "optimize", "--from-csv", name], env=environment,
        cwd=str(tmp_path), encoding="utf-8", timeout=120, dimensions=(50, 80),
    )  # fmt: skip
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before).splitlines()
    command = f"studycli optimize --from-csv {name} --write"  # to paste: one line, whole
    assert any(line.endswith(f"anyway: {command}") for line in lines), "\n".join(lines)
    assert max(len(line) for line in lines if command not in line) <= 80, "\n".join(lines)
    said = " ".join(" ".join(lines).split())  # (a word broken in two would read as two)
    assert (
        "fitted to 12,580 reviews of 1,205 cards (6,276 on a later day than the card's previous "
        "review) in"
    ) in said
    assert "it may be no real improvement" in said
    assert f"{name}..." in [line.strip() for line in lines]  # the path and its "..." together
    piped = cli("optimize", "--from-csv", SAMPLE).stdout.splitlines()
    assert next(line for line in piped if line.startswith("fitted to")).endswith(" s")
    verdict = [line for line in piped if line.startswith("its log-loss gain")]
    assert verdict and verdict[0].endswith("it may be no real improvement"), piped


def test_cli_with_too_few_reviews_of_your_own(cli, tmp_path):
    result = cli("--db", tmp_path / "reviews.sqlite3", "optimize")
    assert result.exit_code == 1
    assert "your reviews: 0 reviews" in result.stderr and "at least 64" in result.stderr


PROBE = """
import sys
from typer.testing import CliRunner
from studycli.cli.help_panels import whole_app
app = whole_app()
result = CliRunner().invoke(app, ["optimize", "--help"])
print(result.exit_code, "torch" in sys.modules, "fsrs_rs_python" in sys.modules)
"""


def test_optimize_help_imports_neither_torch_nor_fsrs_rs():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert out.stdout.split() == ["0", "False", "False"], out.stderr


def test_saving_parameters_refuses_a_file_whose_other_settings_are_invalid(tmp_path):
    """`optimize --write` rewrites settings.toml: where another key there is invalid (here a
    retention above the 0.99 the settings allow), it says so and leaves the file as the
    learner wrote it, rather than saving parameters next to a value no command can load."""
    text = "desired_retention = 1.5\n"
    path = write_settings(tmp_path, text)
    with pytest.raises(ConfigError, match=r"desired_retention = 1\.5 is invalid"):
        save_parameters(path, DEFAULT_PARAMETERS)
    assert path.read_text() == text


def test_a_review_held_under_a_renamed_cards_old_and_new_id_is_fitted_once(tmp_path):
    """A file exported on a machine that held a renamed card's reviews under both ids (imported
    there under the new one before it pulled the rename) has each review twice once the old id
    is read as the new one: the fit counted it twice, where an import keeps one per card and
    time."""
    plain = subset_csv(tmp_path, 80)
    with plain.open(newline="") as handle:
        rows = list(csv.reader(handle))
    twinned = tmp_path / "twinned.csv"
    with twinned.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows[0])
        for card, *rest in rows[1:]:
            writer.writerows([[f"old-{card}", *rest], [card, *rest]])
    renames = {f"old-{card}": card for card in {row[0] for row in rows[1:]}}
    fit = fit_file(twinned, Settings(), UTC, renames=renames)
    expected = fit_file(plain, Settings(), UTC)
    assert fit.reviews == expected.reviews == len(rows) - 1
    assert fit.parameters == expected.parameters
