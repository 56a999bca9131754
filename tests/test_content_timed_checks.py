"""incremental-mean's checker times an answer where its counts cannot follow the work (a copy
of the samples as plain floats or a numpy array). Its verdicts must hold when the machine's
speed changes while it measures: a core whose other hyperthread gets busy, or idle, runs the
same work slower or faster, CPU time and all. Here the answers' "CPU time" is work they report
to a clock that runs slower or faster from a given reading on, at every reading in turn."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

from studycli.assertions import CheckFailure

from .conftest import REPO_ROOT


@pytest.fixture(scope="module")
def checker():
    sys.path.insert(0, str(REPO_ROOT))
    try:
        yield importlib.import_module("solutions.stochastic_approximation")
    finally:
        sys.path.remove(str(REPO_ROOT))
        sys.modules.pop("solutions.stochastic_approximation", None)


class _Machine:
    """A CPU clock over reported work: the work done between two readings, times the speed
    factor in force at the later one (1 until reading `switch`, then `factor`)."""

    def __init__(self, switch: int, factor: float) -> None:
        self.switch, self.factor = switch, factor
        self.work = self.seen = self.shown = 0.0
        self.readings = 0

    def process_time(self) -> float:
        self.readings += 1
        factor = self.factor if self.readings >= self.switch else 1.0
        self.shown += (self.work - self.seen) * factor
        self.seen = self.work
        return self.shown


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


def _run(checker, monkeypatch, machine, answer) -> None:
    monkeypatch.setattr(checker, "time", types.SimpleNamespace(process_time=machine.process_time))
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
