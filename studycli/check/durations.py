"""How long each check took the last time it ran, so that a run starts the longest first.

A run of many checks on a few cores ends when its last check does: one long check started late
runs alone at the end. `check` orders its jobs by the seconds each took last time (kept per
device in a small JSON file in the cache folder) and, for a job never timed, by its kind (a
candidate that passes runs every case of its checker, most wrong answers fail at an early one).
The file is a cache: a missing, unreadable or foreign one is ignored and written afresh.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from pathlib import Path

from studycli.paths import read_regular, replace_regular_file

from .runner import Job, Outcome, Status

# What a job never timed is taken to last, by its candidate's kind.
GUESS = {"reference": 1.0, "variant": 1.0, "wrong": 0.1, "code": 0.0}


def key(job: Job) -> str | None:
    """A job's name from run to run; None for a learner's file or code (never the same twice)."""
    candidate = job.candidate
    if candidate.kind not in ("reference", "variant", "wrong"):
        return None
    return (
        f"{job.device}/{job.check_module}.{job.check_function}/{candidate.module}."
        f"{candidate.function}/{candidate.kind}/{candidate.index}"
    )


# Far over any run's record (a check's entry takes ~100 bytes)
MAX_BYTES = 16 << 20
LONGEST = 1e6  # seconds, far over any check's: a time past it is no check's


def load(path: Path) -> dict[str, float]:
    """The seconds recorded at `path`; none where it cannot be read (not opened waiting: a
    named pipe there held `check` for ever before its first check)."""
    try:
        found = json.loads(read_regular(path, MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # (lists in lists, thousands deep)
        return {}
    if not isinstance(found, dict):
        return {}
    # compared before float(), which overflows on a 400-digit int; NaN, an infinity and a
    # negative time fail the comparison
    return {
        k: float(v) for k, v in found.items() if isinstance(v, int | float) and 0 <= v < LONGEST
    }


def expected(job: Job, known: dict[str, float]) -> float:
    name = key(job)
    if name is not None and name in known:
        return known[name]
    return GUESS.get(job.candidate.kind, 0.1)


def save(path: Path, known: dict[str, float], done: Iterable[tuple[Job, Outcome]]) -> None:
    """Record the seconds of `done` on top of `known`; a failure to write is no failure of the
    run (the cache folder may be read-only).

    Each is what the check took with a core of its own (`Outcome.alone`), not its seconds: a
    check starved of CPU on a busy machine took far longer than its work (1.4 s of a correct
    answer's in 12 s), and, recorded so, started first in the next run, ahead of the checks
    that are long. A check not judged (`Status.BUSY`, starved still at three times its limit)
    never ended: its time says nothing of its work, and what was known stays."""
    merged = dict(known)
    for job, outcome in done:
        if (name := key(job)) is not None and outcome.status != Status.BUSY:
            merged[name] = round(outcome.alone, 4)
    with contextlib.suppress(OSError):
        replace_regular_file(path, json.dumps(merged, sort_keys=True).encode("utf-8"))
