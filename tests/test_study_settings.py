"""settings.toml: defaults, every key, and errors that name the key, the file and the fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from studycli.errors import ConfigError
from studycli.study.settings import Settings, load_settings, parse_duration

from .conftest import FIXTURE_CONTENT


def _write(tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_file_means_the_defaults(tmp_path):
    settings = load_settings(tmp_path / "nope.toml")
    assert settings == Settings()
    assert (
        settings.desired_retention,
        settings.new_per_day,
        settings.reviews_per_day,
        settings.day_starts_at,
        settings.enable_fuzzing,
        settings.new_order,
    ) == (0.9, 20, 200, 4, True, "interleaved")
    assert settings.learning_steps == (timedelta(minutes=1), timedelta(minutes=10))


@pytest.mark.parametrize("make", ["folder", "named pipe"])
def test_a_settings_path_that_is_no_file_is_refused_not_waited_on(tmp_path, make):
    """A named pipe at the settings file's path hung every command (its read waits for a
    writer for ever); a folder was told as an error reading it."""
    import os
    import subprocess
    import sys

    path = tmp_path / "config" / "settings.toml"
    path.parent.mkdir()
    os.mkfifo(path) if make == "named pipe" else path.mkdir()
    run = subprocess.run(  # (in a process of its own: a hang fails here, by its timeout)
        [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "due"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "STUDYCLI_HOME": str(tmp_path)},
    )
    assert run.returncode != 0, run.stderr
    assert f"the settings file {path} is not a file: remove it" in " ".join(run.stderr.split())


def test_a_file_an_editor_saved_with_a_byte_order_mark_reads_and_keeps_its_keys(tmp_path):
    """Notepad's UTF-8 starts with a byte order mark: the file was "Invalid statement (at
    line 1, column 1)", with nothing to see there."""
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from studycli.study.settings_save import save_parameters

    path = tmp_path / "settings.toml"
    path.write_bytes("\ufeffnew_per_day = 7\n".encode())
    assert load_settings(path).new_per_day == 7
    save_parameters(path, DEFAULT_PARAMETERS)
    assert load_settings(path).new_per_day == 7 and load_settings(path).parameters is not None


def test_every_key_is_read(tmp_path):
    path = _write(
        tmp_path,
        """
desired_retention = 0.85
learning_steps = ["30s", "5m", "1h"]
relearning_steps = [15]
maximum_interval = 365
new_per_day = 5
new_order = "deck"
reviews_per_day = 50
day_starts_at = 0
enable_fuzzing = false
bury_siblings = false
check_timeout = 2.5
check_memory_mb = 512
""",
    )
    settings = load_settings(path)
    assert settings == Settings(
        desired_retention=0.85,
        learning_steps=(timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=1)),
        relearning_steps=(timedelta(minutes=15),),
        maximum_interval=365,
        new_per_day=5,
        new_order="deck",
        reviews_per_day=50,
        day_starts_at=0,
        enable_fuzzing=False,
        bury_siblings=False,
        check_timeout=2.5,
        check_memory_mb=512,
    )


@pytest.mark.parametrize(
    "line, key",
    [
        ("desired_retention = 1.5", "desired_retention"),
        ('desired_retention = "high"', "desired_retention"),
        ("new_per_day = -1", "new_per_day"),
        ("new_per_day = 2.5", "new_per_day"),
        ("day_starts_at = 24", "day_starts_at"),
        ('enable_fuzzing = "yes"', "enable_fuzzing"),
        ("bury_siblings = 1", "bury_siblings"),
        ('learning_steps = ["10 minutes"]', "learning_steps"),
        ('learning_steps = "1m"', "learning_steps"),
        ("maximum_interval = true", "maximum_interval"),
        ('new_order = "random"', "new_order"),
    ],
)
def test_an_invalid_value_names_the_key_the_file_and_the_fix(tmp_path, line, key):
    path = _write(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert key in message and str(path) in message and "set it to" in message


def test_every_invalid_value_is_said_in_the_one_error(tmp_path):
    """A file with several invalid values said only the first: each fix brought up the next.
    One ConfigError names them all, each with its key, its value and what is allowed, on one
    line (errors are one line on stderr)."""
    path = _write(tmp_path, 'desired_retention = 1.5\nnew_per_day = "ten"\nnew_cards = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(f"{path} has 3 invalid settings: ") and "\n" not in message
    assert "desired_retention = 1.5 is invalid: set it to a number from 0.7 to 0.99" in message
    assert "new_per_day = 'ten' is invalid: set it to a whole number from 0 to 10000" in message
    assert "unknown setting 'new_cards'" in message


@pytest.mark.parametrize(
    "line, wanted",
    [
        ("check_memory_mb = 5", "a whole number from 64 to 1048576 "),
        ("desired_retention = 0.5", "a number from 0.7 to 0.99 "),
        ("check_timeout = 0", "a number from 0.1 to 3600 "),
    ],
)
def test_a_range_is_written_as_a_person_writes_it(tmp_path, line, wanted):
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, line + "\n"))
    assert f"set it to {wanted}" in str(caught.value)


@pytest.mark.parametrize("value", ['"Deck"', '"round-robin"', "1", '["deck"]'])
def test_a_new_order_names_the_orders_it_can_be(tmp_path, value):
    path = _write(tmp_path, f"new_order = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        f"{path}: new_order = {_toml_value(value)!r} is invalid: set it to "
        '"interleaved" or "deck" (or delete the line to use the default)'
    )


def _toml_value(text: str):
    """The value TOML reads from `text` (what the error quotes)."""
    import tomllib

    return tomllib.loads(f"v = {text}")["v"]


def test_an_unknown_key_suggests_the_right_one(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'new_per_day'"):
        load_settings(_write(tmp_path, "new_cards_per_day = 10\n"))


def test_broken_toml_names_the_file(tmp_path):
    path = _write(tmp_path, "desired_retention = = 0.9\n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_settings(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "text, seconds",
    [("1m", 60), ("10m", 600), ("2h", 7200), ("1d", 86400), ("45s", 45), (5, 300), ("1.5m", 90)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["10", " 10 ", "2.5"])
def test_a_step_written_as_text_without_a_unit_is_minutes_as_a_bare_number_is(text):
    """The settings file says a bare number is minutes (`relearning_steps = [15]`); the same
    number written as text ("15", no unit) is read the same way, not as seconds: a learner
    who quotes it gets the step they meant."""
    assert parse_duration(text) == parse_duration(float(text)) == timedelta(minutes=float(text))


@pytest.mark.parametrize("text", ["", "0m", "-1m", "1w", "m", True, None])
def test_bad_durations(text):
    assert parse_duration(text) is None


def test_the_cli_reports_a_bad_setting_once_without_a_traceback(cli, tmp_path, monkeypatch):
    path = _write(tmp_path, "new_per_day = -3\n")
    monkeypatch.setenv("STUDYCLI_CONFIG", str(path))
    result = cli("--content", FIXTURE_CONTENT, "due")
    assert result.exit_code == 1
    assert "new_per_day" in result.stderr and "Traceback" not in result.output
