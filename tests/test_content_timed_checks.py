"""Checkers that time an answer (`studycli.assertions.paired_times`) keep their verdicts when the
machine changes while they measure: incremental-mean's (where its counts cannot follow the work:
a copy of the samples as plain floats or a numpy array) and sliding-window-max's when a core
whose other hyperthread gets busy, or idle, runs the same work slower or faster, CPU time and
all; next-greater's when another process takes the core for a while. Here the answers' time is
work they report to a clock that runs slower or faster from a given reading on, at every
reading in turn."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

from studycli.assertions import CheckFailure, timing

from .conftest import REPO_ROOT


def _solution_module(name: str):
    sys.path.insert(0, str(REPO_ROOT))
    try:
        yield importlib.import_module(f"solutions.{name}")
    finally:
        sys.path.remove(str(REPO_ROOT))
        sys.modules.pop(f"solutions.{name}", None)


@pytest.fixture(scope="module")
def checker():
    yield from _solution_module("stochastic_approximation")


@pytest.fixture(scope="module")
def next_greater_checker():
    yield from _solution_module("monotonic_stack")


@pytest.fixture(scope="module")
def window_checker():
    yield from _solution_module("sliding_window_max")


class _Machine:
    """Clocks over reported work: the work done between two readings (of either clock), times
    the factor in force at the later one (1 until reading `switch`, then `factor`, or for the
    wall clock `wall`: a process that waits for its core spends no CPU time meanwhile)."""

    def __init__(self, switch: int, factor: float, wall: float | None = None) -> None:
        self.switch, self.factor = switch, factor
        self.wall = factor if wall is None else wall
        self.work = self.seen = self.cpu = self.elapsed = 0.0
        self.readings = 0

    def _read(self) -> None:
        self.readings += 1
        later = self.readings >= self.switch
        done, self.seen = self.work - self.seen, self.work
        self.cpu += done * (self.factor if later else 1.0)
        self.elapsed += done * (self.wall if later else 1.0)

    def process_time(self) -> float:
        self._read()
        return self.cpu

    def perf_counter(self) -> float:
        self._read()
        return self.elapsed

    def clocks(self) -> types.SimpleNamespace:
        return types.SimpleNamespace(process_time=self.process_time, perf_counter=self.perf_counter)


def _linear(machine):
    def answer(xs):
        machine.work += len(xs)
        return [0.0] * len(xs)

    return answer


def _numpy_resum(machine):
    """numpy's re-sum of every prefix: a call's overhead per sample, and n²/2 cheap additions;
    its ratios over the steps as measured (5.1, 7.4, 11.3)."""

    def answer(xs):
        n = len(xs)
        machine.work += n + n * n / 5184
        return [0.0] * n

    return answer


def _on_the_clocks(monkeypatch, machine, checker) -> None:
    """The timing helpers read `machine`'s clocks (and a checker that times on its own too)."""
    monkeypatch.setattr(timing, "time", machine.clocks())
    monkeypatch.setattr(checker, "time", machine.clocks(), raising=False)


def _run(checker, monkeypatch, machine, answer) -> None:
    _on_the_clocks(monkeypatch, machine, checker)
    checker._check_time_linear_in_n(answer(machine))


# every reading of a whole run (3 steps, 3 rounds of two sizes, two readings a call)
SWITCHES = range(1, 37)


@pytest.mark.parametrize("factor", [2.5, 0.4], ids=["slower", "faster"])
def test_a_linear_answer_passes_whatever_reading_the_speed_changes_at(checker, monkeypatch, factor):
    failed = []
    for switch in SWITCHES:
        try:
            _run(checker, monkeypatch, _Machine(switch, factor), _linear)
        except CheckFailure as exc:
            failed.append((switch, str(exc)[:120]))
    assert not failed, failed


@pytest.mark.parametrize("factor", [2.5, 0.4], ids=["slower", "faster"])
def test_numpys_quadratic_resum_fails_whatever_reading_the_speed_changes_at(
    checker, monkeypatch, factor
):
    passed = []
    for switch in SWITCHES:
        try:
            _run(checker, monkeypatch, _Machine(switch, factor), _numpy_resum)
        except CheckFailure as exc:
            assert "the work grows as n²" in str(exc)
        else:
            passed.append(switch)
    assert not passed, passed


def test_the_unchanging_machine_gives_the_answers_ratios(checker, monkeypatch):
    """The fakes measure as the real answers do: numpy's re-sum fails at the last step."""
    with pytest.raises(CheckFailure, match=r"a list of 8192 samples\) vs .*11\.3x"):
        _run(checker, monkeypatch, _Machine(10**6, 1.0), _numpy_resum)
    _run(checker, monkeypatch, _Machine(10**6, 1.0), _linear)


def _next_greater_scan(machine, quadratic: bool):
    """next_greater's work: n on any list for a stack; for a scan right from every index, n on
    a random list (each finds a greater one soon) and n²/2 on a descending one."""

    def answer(nums):
        n = len(nums)
        descending = all(a >= b for a, b in zip(nums, nums[1:]))
        machine.work += n * n / 2 if quadratic and descending else n
        return [-1] * n

    return answer


def _time_next_greater(checker, monkeypatch, machine, quadratic: bool) -> None:
    _on_the_clocks(monkeypatch, machine, checker)
    monkeypatch.setattr(checker, "_check_beyond_64_bits", lambda impl: None)
    monkeypatch.setattr(checker, "_check_comparisons", lambda impl: None)
    monkeypatch.setattr(checker, "_cases", lambda: [])
    checker.check_next_greater(_next_greater_scan(machine, quadratic))


def test_next_greater_times_a_stack_alike_on_a_machine_that_gets_busy(
    next_greater_checker, monkeypatch
):
    """Another process takes 4 of every 5 time slices of the core from some reading on: the
    wall clock runs 5x, the CPU clock as before. Timed by the wall clock, the descending list
    met the busy machine alone and a stack looked quadratic."""
    failed = []
    for switch in range(1, 13):
        try:
            _time_next_greater(
                next_greater_checker, monkeypatch, _Machine(switch, 1.0, wall=5.0), False
            )
        except CheckFailure as exc:
            failed.append((switch, str(exc)[:120]))
    assert not failed, failed


def test_next_greater_still_fails_a_scan_from_every_index(next_greater_checker, monkeypatch):
    with pytest.raises(CheckFailure, match="an O\\(n\\) solution takes about the same time"):
        _time_next_greater(next_greater_checker, monkeypatch, _Machine(10**6, 1.0), True)


def _window_maxima(machine, per_k: float):
    """max_sliding_window's work: n for a deque, plus n k `per_k` for one that moves or
    rescans the window at every step (list.pop(0): n k / 2 memory moves)."""

    def answer(nums, k):
        machine.work += len(nums) * (1 + k * per_k)
        return [0] * (len(nums) - k + 1)

    return answer


@pytest.mark.parametrize("factor", [2.5, 0.4], ids=["slower", "faster"])
def test_sliding_window_max_times_a_deque_alike_whatever_reading_the_speed_changes_at(
    window_checker, monkeypatch, factor
):
    """Timed the best of two or three rounds each, a machine 2.5x slower from the first round's
    large k on made a deque take 2.5x as long for the large k on the decreasing input, where
    2.5x fails it."""
    failed = []
    for switch in range(1, 24):
        machine = _Machine(switch, factor)
        _on_the_clocks(monkeypatch, machine, window_checker)
        try:
            window_checker._check_expiry_flat_in_k(_window_maxima(machine, 0.0))
        except CheckFailure as exc:
            failed.append((switch, str(exc)[:120]))
    assert not failed, failed


def test_sliding_window_max_still_fails_a_list_popped_at_the_front(window_checker, monkeypatch):
    machine = _Machine(10**6, 1.0)
    _on_the_clocks(monkeypatch, machine, window_checker)
    with pytest.raises(CheckFailure, match="the front expires at every step"):
        window_checker._check_expiry_flat_in_k(_window_maxima(machine, 0.01))
