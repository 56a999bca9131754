"""Property-based tests (hypothesis) of the parsers a user feeds by hand: durations, the settings
file and review-log CSV files (columns in any order, extra columns, blank lines, any offset;
test_study_review_io.py has the write-then-read round trip). Valid input reads back exactly;
any other input gives a value or the StudyError that names the file (and the key or the
line), never a traceback."""

from __future__ import annotations

import csv
import io
import math
import os
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from studycli.errors import ConfigError, ImportFormatError
from studycli.study.review_log_csv import read_reviews
from studycli.study.settings import KEYS, Settings, load_settings, parse_duration, parse_settings

# examples per property: 150 in the default run; STUDYCLI_EXAMPLES=5000 for a thorough one
EXAMPLES = int(os.environ.get("STUDYCLI_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FILES = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}

# --- durations: "10m", "1h", "1d", "30s" or a bare number of minutes ---------------------------


@PROPERTY
@given(
    whole=st.integers(0, 10**6),
    fraction=st.none() | st.text("0123456789", min_size=1, max_size=6),
    unit=st.sampled_from(sorted(UNIT_SECONDS)),
    space=st.sampled_from(["", " ", "  "]),
)
def test_a_written_duration_reads_back_exactly(whole, fraction, unit, space):
    number = f"{whole}.{fraction}" if fraction else str(whole)
    value = float(number)
    parsed = parse_duration(f"{space}{number}{space}{unit}{space}")
    if value <= 0:
        assert parsed is None
    else:
        assert parsed == timedelta(seconds=value * UNIT_SECONDS[unit])


ANY_VALUE = (
    st.text()
    | st.from_regex(r"\s*[0-9]{1,400}(\.[0-9]{0,20})?\s*[smhdw]?\s*", fullmatch=True)
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.none()
    | st.lists(st.integers(), max_size=2)
)


@PROPERTY
@given(value=ANY_VALUE)
@example("9" * 400 + "d")  # a number too large for a timedelta
@example(float("inf"))
@example(float("nan"))
@example(10**30)
def test_any_value_is_a_positive_duration_or_none_never_an_error(value):
    parsed = parse_duration(value)
    assert parsed is None or (isinstance(parsed, timedelta) and parsed > timedelta(0))


# --- settings.toml -------------------------------------------------------------------------------

TOML_VALUE = st.recursive(
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.datetimes(),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=8,
)
KEY = st.sampled_from(KEYS) | st.text(string.ascii_lowercase + "_", min_size=1, max_size=20)


@FILES
@given(data=st.dictionaries(KEY, TOML_VALUE, max_size=5))
def test_any_settings_mapping_gives_settings_or_an_error_naming_the_file_and_key(tmp_path, data):
    path = tmp_path / "settings.toml"
    try:
        parsed = parse_settings(data, path)
    except ConfigError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message
        assert any(key in message for key in data)
    else:
        assert isinstance(parsed, Settings)
        assert set(data) <= set(KEYS)


VALID = {
    "desired_retention": st.floats(0.7, 0.99),
    "learning_steps": st.lists(st.sampled_from(["30s", "1m", "10m", "1h", "1d", 5]), max_size=4),
    "relearning_steps": st.lists(st.sampled_from(["10m", "1h", 15]), max_size=3),
    "maximum_interval": st.integers(1, 36500),
    "new_per_day": st.integers(0, 10000),
    "reviews_per_day": st.integers(0, 100000),
    "day_starts_at": st.integers(0, 23),
    "enable_fuzzing": st.booleans(),
    "bury_siblings": st.booleans(),
    "check_timeout": st.floats(0.1, 3600),
    "check_memory_mb": st.integers(64, 1048576),
}


@FILES
@given(data=st.fixed_dictionaries({}, optional=VALID))
def test_valid_settings_written_as_toml_read_back_exactly(tmp_path, data):
    path = tmp_path / "settings.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    loaded = load_settings(path)
    for key, value in data.items():
        got = getattr(loaded, key)
        if key.endswith("_steps"):
            assert got == tuple(parse_duration(item) for item in value)
        else:
            assert got == value


RANGES = {  # the numeric keys and their allowed ranges, as the README states them
    "desired_retention": (0.7, 0.99),
    "maximum_interval": (1, 36500),
    "new_per_day": (0, 10000),
    "reviews_per_day": (0, 100000),
    "day_starts_at": (0, 23),
    "check_timeout": (0.1, 3600),
    "check_memory_mb": (64, 1048576),
}


@FILES
@given(
    key=st.sampled_from(sorted(RANGES)),
    value=st.floats(allow_nan=True) | st.integers(-(10**12), 10**12),
)
def test_a_value_out_of_range_names_the_key_the_file_and_the_fix(tmp_path, key, value):
    low, high = RANGES[key]
    path = tmp_path / "settings.toml"
    path.write_text(tomli_w.dumps({key: value}), encoding="utf-8")
    in_range = not (isinstance(value, float) and math.isnan(value)) and low <= value <= high
    integral = isinstance(RANGES[key][0], int)
    if in_range and (isinstance(value, int) or not integral):
        assert getattr(load_settings(path), key) == value
        return
    try:
        load_settings(path)
    except ConfigError as exc:
        message = str(exc)
        assert key in message and str(path) in message and "set it to" in message
    else:
        raise AssertionError(f"{key} = {value!r} was accepted")


@FILES
@given(text=st.text(max_size=200))
def test_any_settings_file_text_gives_settings_or_a_config_error(tmp_path, text):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    try:
        assert isinstance(load_settings(path), Settings)
    except ConfigError as exc:
        assert str(path) in str(exc)


# --- review-log CSV files ------------------------------------------------------------------------

OFFSET = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
REVIEW = st.fixed_dictionaries(
    {
        "card_id": st.integers(0, 2**63 - 1),
        "review_rating": st.integers(1, 4),
        "review_time": st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1), timezones=OFFSET),
        "review_duration": st.none() | st.integers(0, 10**9),
    }
)
COLUMNS = ["card_id", "review_rating", "review_time", "review_duration", "note"]


@FILES
@given(
    reviews=st.lists(REVIEW, min_size=1, max_size=20),
    order=st.permutations(COLUMNS),
    blank_lines=st.booleans(),
)
def test_reviews_written_as_csv_read_back_exactly(tmp_path, reviews, order, blank_lines):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(order)
    for review in reviews:
        cells = {
            **review,
            "review_time": review["review_time"].isoformat(),
            "review_duration": ""
            if review["review_duration"] is None
            else review["review_duration"],
            "note": "a, note",
        }
        writer.writerow([cells[name] for name in order])
        if blank_lines:
            writer.writerow([])
    path = tmp_path / "log.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert read_reviews(path) == [
        (
            str(r["card_id"]),
            r["review_rating"],
            r["review_time"].astimezone(UTC),
            r["review_duration"],
        )
        for r in reviews
    ]


CSV_TEXT = st.text(string.digits + string.ascii_letters + ',:-+T. "\n\r', max_size=300)
ROW = st.lists(
    st.sampled_from(["1", "4", "7", "-3", "x", "", " 2 ", "2024-03-29T20:32:39+00:00"])
    | st.from_regex(
        r"[0-9]{1,4}-[0-9]{2}-[0-9]{2}T[0-9:]{1,8}([+-][0-9]{2}:[0-9]{2})?", fullmatch=True
    )
    | st.text(max_size=12),
    max_size=5,
)


EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)


def _either_logs_or_a_clear_error(path: Path) -> None:
    try:
        rows = read_reviews(path)
    except ImportFormatError as exc:
        first, *more = str(exc).splitlines()
        assert str(path) in first  # the file, then each bad line with its fix
        assert all(line.startswith("  line ") or "more bad lines" in line for line in more)
    else:
        assert all(1 <= row.rating <= 4 and row.card_id for row in rows)
        assert all(row.reviewed_at.utcoffset() == timedelta(0) for row in rows)
        # a time every command can count days from (the year 1 broke them for good)
        assert all(EARLIEST <= row.reviewed_at < LATEST for row in rows)


@FILES
@given(rows=st.lists(ROW, max_size=8))
@example(rows=[["1", "3", "0001-01-01T00:00:00+05:00", ""]])  # before year 1 in UTC
@example(rows=[["1", "3", "9999-12-31T23:59:59-05:00", ""]])  # after year 9999 in UTC
@example(rows=[["1", "3", "0001-01-05T00:00:00+00:00", ""]])  # in range in UTC, yet the year 1
def test_any_rows_under_the_header_give_reviews_or_an_error_naming_the_line(tmp_path, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS[:4])
    writer.writerows(rows)
    path = tmp_path / "log.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    _either_logs_or_a_clear_error(path)


@FILES
@given(text=CSV_TEXT | st.text(max_size=300))
def test_any_text_file_gives_reviews_or_an_import_error(tmp_path, text):
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    _either_logs_or_a_clear_error(path)


@FILES
@given(data=st.binary(max_size=300))
def test_any_bytes_give_reviews_or_an_import_error(tmp_path, data):
    path = tmp_path / "log.csv"
    path.write_bytes(data)
    _either_logs_or_a_clear_error(path)
