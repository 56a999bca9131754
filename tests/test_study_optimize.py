"""`studycli optimize`: the CSV reader, the fit, the `parameters` setting and the command."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from studycli.errors import ConfigError, ImportFormatError, StudyError
from studycli.study import optimize as core
from studycli.study import rating as study
from studycli.study.review_log_csv import read_review_logs
from studycli.study.scheduler import fsrs_card_id, make_scheduler, new_card
from studycli.study.scheduler import review as schedule
from studycli.study.settings import Settings, load_settings, save_parameters

from .conftest import REPO_ROOT
from .study_support import NOW, fixture_content, open_store

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


# --- the CSV reader ----------------------------------------------------------------------------


def test_the_sample_reads_every_row_with_its_values():
    logs = read_review_logs(SAMPLE)
    assert len(logs) == 12_580
    first = logs[0]
    assert first.card_id == 1711684180217 and first.rating == Rating.Again
    assert first.review_datetime == datetime(2024, 3, 29, 20, 32, 32, 250000, tzinfo=UTC)
    assert first.review_duration == 25060


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
        (HEADER + "card-8,3,2024-03-29T20:32:39+00:00,7241\n", ["line 2", "card_id 'card-8'"]),
        (HEADER + "8,3,2024-03-29T20:32:39+00:00,fast\n", ["line 2", "review_duration 'fast'"]),
        (HEADER + "8,3\n", ["line 2", "the review_time cell is empty"]),
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
        read_review_logs(path)
    message = str(error.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    "text, expected",
    [("", "is empty"), ("\n\n", "is empty"), (HEADER, "has a header but no reviews")],
)
def test_an_empty_file_is_an_import_error(tmp_path, text, expected):
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=expected):
        read_review_logs(path)


def test_optional_duration_other_columns_and_blank_lines(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "\ufeffreview_time,card_id,review_rating,deck\n2024-03-29T21:32:39+01:00,8,4,x\n\n",
        encoding="utf-8",
    )
    [log] = read_review_logs(path)
    assert log.card_id == 8 and log.rating == Rating.Easy and log.review_duration is None
    assert log.review_datetime == datetime(2024, 3, 29, 20, 32, 39, tzinfo=UTC)


def test_cli_reports_a_bad_csv_without_a_traceback(cli, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "8,9,2024-03-29T20:32:39+00:00,1\n", encoding="utf-8")
    result = cli("optimize", "--from-csv", path)
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "not 1-4" in result.stderr
    assert "Traceback" not in result.output
    missing = cli("optimize", "--from-csv", tmp_path / "nope.csv")
    assert missing.exit_code == 1 and "cannot read the review log" in missing.stderr


# --- fitting -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """One real fit, on the sample's first 120 cards (1,777 reviews, about 5 s + 8 s retention)."""
    return core.fit(read_review_logs(subset_csv(tmp_path_factory.mktemp("csv"), 120)))


def test_a_fit_gives_21_finite_parameters_unlike_the_defaults(fitted):
    assert len(fitted.parameters) == 21
    assert all(isinstance(p, float) and math.isfinite(p) for p in fitted.parameters)
    assert fitted.parameters != tuple(DEFAULT_PARAMETERS)
    assert all(
        low <= p <= high
        for p, low, high in zip(fitted.parameters, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS)
    )
    assert (fitted.reviews, fitted.cards) == (1777, 120) and fitted.counted >= core.MIN_REVIEWS
    assert fitted.optimal_retention in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def test_fitted_parameters_schedule(fitted):
    settings = Settings(enable_fuzzing=False, parameters=fitted.parameters)
    scheduler = make_scheduler(settings)
    assert scheduler.parameters == fitted.parameters
    card = schedule(scheduler, new_card("add-one", NOW), Rating.Good, NOW)
    card = schedule(scheduler, card, Rating.Good, card.due)
    default = make_scheduler(Settings(enable_fuzzing=False))
    plain = schedule(default, new_card("add-one", NOW), Rating.Good, NOW)
    plain = schedule(default, plain, Rating.Good, plain.due)
    assert card.due > NOW and card.stability != plain.stability


def test_too_few_reviews_is_a_clear_error():
    logs = read_review_logs(SAMPLE)[:300]
    with pytest.raises(StudyError, match=r"at least 512 .*--from-csv FILE"):
        core.fit(logs, source="sample")


def test_counted_reviews_are_those_a_day_after_the_previous_one():
    start = datetime(2025, 1, 1, tzinfo=UTC)
    from fsrs import ReviewLog

    def log(card: int, hours: float) -> ReviewLog:
        return ReviewLog(card, Rating.Good, start + timedelta(hours=hours), None)

    logs = [log(1, 0), log(1, 1), log(1, 30), log(2, 0), log(2, 48), log(1, 100)]
    assert core.counted_reviews(logs) == 3


def test_the_store_history_leaves_undone_reviews_out(tmp_path):
    content = fixture_content()
    with open_store(tmp_path) as store:
        study.rate(store, content.get("add-one"), 3, NOW, Settings(), duration_ms=1500)
        later = NOW + timedelta(days=2)
        study.rate(store, content.get("bias-concept"), 1, later, Settings())
        undone = study.rate(store, content.get("add-one"), 4, later, Settings())
        study.undo(store, undone.id, later)
        logs = core.store_review_logs(store)
    assert [
        (log.card_id, log.rating, log.review_datetime, log.review_duration) for log in logs
    ] == [
        (fsrs_card_id("add-one"), Rating.Good, NOW, 1500),
        (fsrs_card_id("bias-concept"), Rating.Again, later, None),
    ]


def test_a_missing_optimizer_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    logs = read_review_logs(SAMPLE)
    with pytest.raises(StudyError, match=r"needs the pandas package.*studycli\[optimizer\]"):
        core.fit(logs)


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
        ("[0.2, 1.3]", "parameters = 2 values is invalid: set it to a list of 21 finite numbers"),
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


def test_cli_write_json_round_trip_keeps_other_settings(cli, tmp_path, isolated_home):
    settings_file = isolated_home / "config" / "settings.toml"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("new_per_day = 7\nenable_fuzzing = false\n", encoding="utf-8")
    result = cli(
        "optimize", "--from-csv", subset_csv(tmp_path, 120), "--no-retention", "--write", "--json"
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["reviews"] == 1777 and shown["cards"] == 120 and len(shown["parameters"]) == 21
    assert shown["optimal_retention"] is None and shown["written"] == str(settings_file)
    settings = load_settings(settings_file)
    assert settings.parameters == tuple(shown["parameters"])
    assert settings.new_per_day == 7 and settings.enable_fuzzing is False


def test_cli_table_shows_the_parameters_and_how_to_save_them(cli, monkeypatch, tmp_path):
    fit = core.Fit(
        parameters=tuple(DEFAULT_PARAMETERS),
        reviews=600,
        cards=40,
        counted=530,
        optimal_retention=0.85,
        seconds=1.0,
    )
    monkeypatch.setattr(core, "fit", lambda logs, **kwargs: fit)
    path = tmp_path / "log.csv"
    path.write_text(HEADER + GOOD_ROW, encoding="utf-8")
    result = cli("optimize", "--from-csv", path)
    assert result.exit_code == 0, result.output
    assert "FSRS parameters" in result.stdout and "8.2956" in result.stdout
    assert "optimal retention: 0.85" in result.stdout
    assert f"studycli optimize --from-csv {path} --write" in result.stdout
    assert not (tmp_path / "settings.toml").exists()


def test_cli_with_too_few_reviews_of_your_own(cli, tmp_path):
    result = cli("--db", tmp_path / "reviews.sqlite3", "optimize")
    assert result.exit_code == 1
    assert "your reviews: 0 reviews" in result.stderr and "at least 512" in result.stderr


PROBE = """
import sys
from typer.testing import CliRunner
from studycli.cli import app
result = CliRunner().invoke(app, ["optimize", "--help"])
print(result.exit_code, "torch" in sys.modules, "pandas" in sys.modules)
"""


def test_optimize_help_imports_neither_torch_nor_pandas():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert out.stdout.split() == ["0", "False", "False"], out.stderr
