"""CPU time of an answer, for a checker that must time it where no count follows the work (a copy
of the inputs as plain floats or a numpy array, memory moved by list.pop(0)): incremental-mean,
sliding-window-max and next-greater compare the time of two calls whose ratio an answer's
complexity sets."""

from __future__ import annotations

import time
from collections.abc import Callable


def _cpu_time(run: Callable[[], object]) -> float:
    """The CPU time of `run()`: not wall time, so that on a busy machine the time spent waiting
    for a core is not counted (next-greater timed by the wall clock took another process's
    turn on the core for its answer's)."""
    start = time.process_time()
    run()
    return time.process_time() - start


def paired_times(
    first: Callable[[], object], second: Callable[[], object], again_at: float | None = None
) -> tuple[float, float]:
    """The CPU times of `first()` and `second()` in the round whose ratio (second's over
    first's) is the median of three rounds, each timing `first` and then `second`. A change
    in the machine's speed (a core's other hyperthread busy, then idle) then falls within one
    round, which the median sets aside: timed one call after the other, the best of three rounds
    each, a machine that slowed down between the two made an O(n) answer look quadratic, and
    one that sped up made numpy's quadratic re-sum look linear (incremental-mean failed once on
    a GPU host whose every core was busy). With `again_at`, a ratio of at least that is
    measured again, the median of five fresh rounds, before the checker fails the answer on it
    (not incremental-mean's, whose quadratic answer takes 0.5 s a call at its largest size)."""
    times = _median_round(first, second, 3)
    if again_at is not None and times[1] >= again_at * times[0]:
        times = _median_round(first, second, 5)
    return times


def _median_round(
    first: Callable[[], object], second: Callable[[], object], rounds: int
) -> tuple[float, float]:
    measured = [(_cpu_time(first), _cpu_time(second)) for _ in range(rounds)]
    measured.sort(key=lambda pair: pair[1] / max(pair[0], 1e-9))
    return measured[len(measured) // 2]
