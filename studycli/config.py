"""The learner's settings: `settings.toml` in the config folder, every key optional.

    desired_retention = 0.9          # FSRS target probability of recall, 0.7 .. 0.99
    learning_steps = ["1m", "10m"]   # steps of a new card (s, m, h, d; a bare number is minutes)
    relearning_steps = ["10m"]       # steps of a forgotten card
    maximum_interval = 36500         # days
    new_per_day = 20
    reviews_per_day = 200
    day_starts_at = 4                # the local hour at which the study day rolls over (as Anki)
    enable_fuzzing = true            # spread intervals a little so cards do not clump
    check_timeout = 10               # seconds a coding answer's check may run
    check_memory_mb = 1024           # memory cap of that check
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from .errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Settings:
    desired_retention: float = 0.9
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval: int = 36500
    new_per_day: int = 20
    reviews_per_day: int = 200
    day_starts_at: int = 4
    enable_fuzzing: bool = True
    check_timeout: float = 10.0
    check_memory_mb: int = 1024


KEYS = [f.name for f in fields(Settings)]


def load_settings(path: Path) -> Settings:
    """Read `path` (a missing file means all defaults).

    Raises:
        ConfigError: naming the file, the key and the fix, for bad TOML or an invalid value.
    """
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}): fix that line, or delete the file "
                          "to use the defaults") from None
    return parse_settings(data, path)


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    """Validate a TOML mapping into `Settings` (see `load_settings`)."""
    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            tip = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(KEYS)}"
            raise ConfigError(f"{path}: unknown setting {key!r}: {tip}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        values[key] = _VALIDATORS[key](value, _Where(key, path))
    return Settings(**values)


@dataclass(frozen=True)
class _Where:
    key: str
    path: Path

    def fail(self, wanted: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.path}: {self.key} = {value!r} is invalid: set it to {wanted} "
                           "(or delete the line to use the default)")


def _number(low: float, high: float, integer: bool):
    def validate(value: Any, where: _Where):
        is_number = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not is_number or not low <= value <= high:
            kind = "a whole number" if integer else "a number"
            raise where.fail(f"{kind} from {low:g} to {high:g}", value)
        return value if integer else float(value)
    return validate


def _boolean(value: Any, where: _Where) -> bool:
    if not isinstance(value, bool):
        raise where.fail("true or false", value)
    return value


def _steps(value: Any, where: _Where) -> tuple[timedelta, ...]:
    if not isinstance(value, list):
        raise where.fail('a list of durations such as ["1m", "10m"]', value)
    steps = tuple(parse_duration(item) for item in value)
    if any(step is None for step in steps):
        raise where.fail('a list of durations such as ["1m", "10m"] (units s, m, h, d)', value)
    return steps  # type: ignore[return-value]


def parse_duration(value: Any) -> timedelta | None:
    """`"10m"`, `"1h"`, `"1d"`, `"30s"` or a bare number of minutes; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return timedelta(minutes=value) if value > 0 else None
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or float(match.group(1)) <= 0:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


_VALIDATORS = {
    "desired_retention": _number(0.7, 0.99, integer=False),
    "learning_steps": _steps,
    "relearning_steps": _steps,
    "maximum_interval": _number(1, 36500, integer=True),
    "new_per_day": _number(0, 10000, integer=True),
    "reviews_per_day": _number(0, 100000, integer=True),
    "day_starts_at": _number(0, 23, integer=True),
    "enable_fuzzing": _boolean,
    "check_timeout": _number(0.1, 3600, integer=False),
    "check_memory_mb": _number(64, 1048576, integer=True),
}
