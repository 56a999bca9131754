"""What a device worker's checks leave running, killed after each (check/device_sweep.py):
the worker's children, with what they leave, and torch.compile's pools then forgotten. Each
sweep runs in a process of its own: one in the test's would kill the test's check workers."""

from __future__ import annotations

import subprocess
import sys

from .check_support import gone_within, marker

# A process that starts `sleep ARGUMENT` (with `sys.argv[2]`, none), has a stand-in for
# torch.compile's pools loaded, sweeps, and says what the sweep left and forgot
SWEEPS = """
import subprocess, sys, types
from studycli.check import device_sweep
forgotten = []
inductor = types.SimpleNamespace(after_fork=lambda: forgotten.append(True))
sys.modules[device_sweep.COMPILE_WORKERS] = inductor
if sys.argv[2] == "child":
    subprocess.Popen(["sleep", sys.argv[1]])
device_sweep.sweep()
print(device_sweep._children(), forgotten)
"""


def _sweeps(argument: str, child: str) -> str:
    code = f"import sys; sys.path[:] = {sys.path!r}\n{SWEEPS}"  # (this test's studycli)
    run = subprocess.run(
        [sys.executable, "-c", code, argument, child], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_a_sweep_kills_the_children_and_has_torch_compile_start_its_workers_anew():
    """A sweep kills torch.compile's compile workers with the rest, where a check started
    them: inductor kept its pool of dead processes, and the next check that compiled in the
    worker failed. It forgets them, as a forked child does (`after_fork`)."""
    argument = marker()
    try:
        said = _sweeps(argument, "child")
        assert gone_within(argument, 1.0) == []
    finally:
        gone_within(argument, 0)
    assert said == "[] [True]", said


def test_a_sweep_with_no_child_forgets_nothing():
    assert _sweeps(marker(), "none") == "[] []"
