"""The learner's settings: `settings.toml` in the config folder, every key optional.

desired_retention = 0.9          # FSRS target probability of recall, 0.7 .. 0.99
learning_steps = ["1m", "10m"]   # steps of a new card (s, m, h, d; a bare number is minutes)
relearning_steps = ["10m"]       # steps of a forgotten card
maximum_interval = 36500         # days
new_per_day = 20                 # new study items a day (a cloze card: one per deletion)
new_order = "interleaved"        # new cards from each deck in turn; "deck": deck by deck
reviews_per_day = 200
day_starts_at = 4                # the local hour at which the study day rolls over (as Anki)
enable_fuzzing = true            # spread intervals a little so cards do not clump
bury_siblings = true             # a cloze card's deletions: one a day (as Anki's burying)
check_timeout = 10               # seconds a coding answer's check may run
check_memory_mb = 1024           # memory cap of that check
parameters = [0.212, ...]        # the 21 FSRS weights (default: fsrs's); `studycli optimize
                                 # --write` fits them to your reviews and saves them here

Here: the settings read and validated. Saving fitted parameters into the file:
settings_save.py.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from studycli.errors import ConfigError
from studycli.records import Record

_DURATION = r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$"  # compiled (by `re`) on first use
_UNIT_SECONDS = {"s": 1, "m": 60, "": 60, "h": 3600, "d": 86400}
_LONGEST = timedelta.max.total_seconds()


class Settings(Record):  # a named tuple: a frozen dataclass costs ~1.5 ms at start-up
    desired_retention: float = 0.9
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval: int = 36500
    new_per_day: int = 20
    new_order: str = "interleaved"  # one of NEW_ORDERS
    reviews_per_day: int = 200
    day_starts_at: int = 4
    enable_fuzzing: bool = True
    bury_siblings: bool = True
    check_timeout: float = 10.0
    check_memory_mb: int = 1024
    parameters: tuple[float, ...] | None = None  # None: fsrs's default weights


KEYS = list(Settings._fields)

# How a queue gathers its new cards (as Anki's new card gather order): "interleaved" takes them
# from the decks in turn (a learner of several subjects meets each from the first day);
# "deck" takes every new card of the first deck (by name) before the next deck's.
NEW_ORDERS = ("interleaved", "deck")


def load_settings(path: Path, *, parameters: bool = True) -> Settings:
    """Read `path` (a missing file means all defaults). `parameters=False` leaves out the
    `parameters` key, the defaults' in its place: what `optimize` fits anew, so that an
    invalid one does not stop the command that replaces it.

    Raises:
        ConfigError: naming the file, the key and the fix, for bad TOML or an invalid value.
    """
    data = _read_toml(path)
    if not parameters:
        data.pop("parameters", None)
    return parse_settings(data, path)


def _read_toml(path: Path) -> dict[str, Any]:
    text = _settings_text(path)
    return {} if text is None else _parsed_toml(text, path)


def _settings_text(path: Path) -> str | None:
    """The text of the settings file at `path`; None where there is none.

    Raises:
        ConfigError: it is no file, or cannot be read.
    """
    if not path.exists():
        return None
    if not path.is_file():  # (a named pipe's read waited for ever: every command hung)
        raise ConfigError(
            f"the settings file {path} is not a file: remove it (or move it away) to use the "
            "defaults, or write the settings there as TOML"
        )
    try:
        # (utf-8-sig: an editor's byte order mark was "Invalid statement at line 1, column 1")
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc}") from None


def _parsed_toml(text: str, path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file: most learners keep the defaults

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML ({exc}): fix that line, or delete the file "
            "to use the defaults"
        ) from None


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    """Validate a TOML mapping into `Settings` (see `load_settings`). Every problem is said
    in the one error, so that a file with several is fixed in one go."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            problems.append(_unknown(key))
            continue
        try:
            values[key] = _VALIDATORS[key](value, _Where(key))
        except ConfigError as exc:
            problems.append(str(exc))
    if len(problems) == 1:
        raise ConfigError(f"{path}: {problems[0]}")
    if problems:
        raise ConfigError(f"{path} has {len(problems)} invalid settings: {'; '.join(problems)}")
    return Settings(**values)


def _unknown(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, KEYS, n=1)
    tip = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(KEYS)}"
    return f"unknown setting {key!r}: {tip}"


class _Where(Record):  # a named tuple: cheaper than a frozen dataclass at start-up
    key: str

    def fail(self, wanted: str, value: Any) -> ConfigError:
        """The problem with `value` (`parse_settings` names the file)."""
        return ConfigError(
            f"{self.key} = {value!r} is invalid: set it to {wanted} "
            "(or delete the line to use the default)"
        )


def _plain(number: float) -> str:
    """`number` as a person writes it: 1048576, 0.99 (`:g` writes 1.04858e+06)."""
    return str(int(number)) if number == int(number) else repr(number)


def _number(low: float, high: float, integer: bool):
    def validate(value: Any, where: _Where):
        is_number = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not is_number or not low <= value <= high:
            kind = "a whole number" if integer else "a number"
            raise where.fail(f"{kind} from {_plain(low)} to {_plain(high)}", value)
        return value if integer else float(value)

    return validate


def _boolean(value: Any, where: _Where) -> bool:
    if not isinstance(value, bool):
        raise where.fail("true or false", value)
    return value


def _new_order(value: Any, where: _Where) -> str:
    if value not in NEW_ORDERS:
        raise where.fail(" or ".join(f'"{order}"' for order in NEW_ORDERS), value)
    return value


def _steps(value: Any, where: _Where) -> tuple[timedelta, ...]:
    if not isinstance(value, list):
        raise where.fail('a list of durations such as ["1m", "10m"]', value)
    steps = tuple(parse_duration(item) for item in value)
    if any(step is None for step in steps):
        raise where.fail('a list of durations such as ["1m", "10m"] (units s, m, h, d)', value)
    return steps  # type: ignore[return-value]


def parse_duration(value: Any) -> timedelta | None:
    """`"10m"`, `"1h"`, `"1d"`, `"30s"` or a bare number of minutes; None when unreadable
    (or not positive, or longer than a timedelta holds)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value) * 60
    else:
        match = re.match(_DURATION, value) if isinstance(value, str) else None
        if not match:
            return None
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 0 < seconds < _LONGEST:  # also refuses nan and inf (TOML has both)
        return None
    step = timedelta(seconds=seconds)
    return step if step > timedelta(0) else None  # under a microsecond rounds to nothing


def _parameters(value: Any, where: _Where) -> tuple[float, ...]:
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS as LOW
    from fsrs.scheduler import UPPER_BOUNDS_PARAMETERS as HIGH

    wanted = (
        f"a list of {len(LOW)} finite numbers, as `studycli optimize --write` saves "
        "(or delete the key to use fsrs's defaults)"
    )
    if (
        not isinstance(value, list)
        or len(value) != len(LOW)
        or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
            for v in value
        )
    ):
        given = f"a list of {len(value)} values" if isinstance(value, list) else repr(value)
        raise ConfigError(f"{where.key} = {given} is invalid: set it to {wanted}")
    for index, (number, low, high) in enumerate(zip(value, LOW, HIGH)):
        if not low <= number <= high:
            raise ConfigError(
                f"{where.key}[{index}] = {number!r} is outside fsrs's "
                f"range {low:g} .. {high:g}: run `studycli optimize --write` again, "
                "or delete the key to use fsrs's defaults"
            )
    return tuple(float(v) for v in value)


_VALIDATORS = {
    "desired_retention": _number(0.7, 0.99, integer=False),
    "learning_steps": _steps,
    "relearning_steps": _steps,
    "maximum_interval": _number(1, 36500, integer=True),
    "new_per_day": _number(0, 10000, integer=True),
    "new_order": _new_order,
    "reviews_per_day": _number(0, 100000, integer=True),
    "day_starts_at": _number(0, 23, integer=True),
    "enable_fuzzing": _boolean,
    "bury_siblings": _boolean,
    "check_timeout": _number(0.1, 3600, integer=False),
    "check_memory_mb": _number(64, 1048576, integer=True),
    "parameters": _parameters,
}
