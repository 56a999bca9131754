"""`check --device cuda` runs its device workers under a private CUDA MPS daemon (check/mps.py).

The control program is a stand-in on the PATH that does what the real one does to its folder
(`-d` opens the control pipe, `quit` closes it) and logs how it was called.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time

import pytest
from typer.testing import CliRunner

from studycli.check import mps, pool

FAKE_CONTROL = """#!/bin/sh
request=$(cat)
echo "$* | $request | $CUDA_MPS_PIPE_DIRECTORY | $CUDA_MPS_LOG_DIRECTORY" >> "{log}"
[ -n "{fail}" ] && exit 1
case "$1|$request" in
  -d\\|*) touch "$CUDA_MPS_PIPE_DIRECTORY/control" ;;
  \\|quit) rm -f "$CUDA_MPS_PIPE_DIRECTORY/control" ;;
esac
"""


@pytest.fixture
def control(tmp_path, monkeypatch):
    """Install the stand-in control program; returns a function that reads its log."""
    log = tmp_path / "control.log"

    def install(fail: bool = False):
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        program = folder / mps.CONTROL
        program.write_text(FAKE_CONTROL.format(log=log, fail="yes" if fail else ""))
        program.chmod(program.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
        return lambda: [line.split(" | ") for line in log.read_text().splitlines()]

    monkeypatch.delenv(mps.PIPE_VARIABLE, raising=False)
    monkeypatch.delenv(mps.LOG_VARIABLE, raising=False)
    monkeypatch.setattr(mps, "DEFAULT_PIPE_DIRECTORY", str(tmp_path / "no-system-daemon"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return install


def _left(tmp_path):
    return [p.name for p in tmp_path.iterdir() if p.name.startswith("studycli-mps-")]


def _quit(tmp_path):
    """Wait for the daemon's quit (it is not waited for): its folder is removed after it."""
    deadline = time.monotonic() + 10
    while _left(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_private_daemon_serves_the_run_and_quits_after_it(control, tmp_path):
    calls = control()
    with mps.private_daemon() as served:
        folder = os.environ[mps.PIPE_VARIABLE]
        assert served and mps.running()
        assert os.environ[mps.LOG_VARIABLE] == folder and _left(tmp_path)
        assert pool.device_workers(16) == round(16 * pool.MPS_DEVICE_SHARE)
        time.sleep(0.5)  # the run goes on: the daemon is not told to quit before it ends
        assert mps.running() and not any(call[1] == "quit" for call in calls())
    assert mps.PIPE_VARIABLE not in os.environ and mps.LOG_VARIABLE not in os.environ
    _quit(tmp_path)
    server = ["", f"start_server -uid {os.getuid()}", folder, folder]
    assert [call for call in calls() if call != server] == [
        ["-d", "", folder, folder],
        ["", "quit", folder, folder],
    ]
    deadline = time.monotonic() + 10
    while server not in calls() and time.monotonic() < deadline:  # not waited for: it may lag
        time.sleep(0.02)
    assert server in calls()
    assert not mps.running() and not _left(tmp_path)
    assert pool.device_workers(16) == pool.DEVICE_WORKERS


def test_no_daemon_is_started_when_one_serves_already(control, tmp_path, monkeypatch):
    calls = control()
    (tmp_path / "system").mkdir()
    (tmp_path / "system" / "control").touch()
    monkeypatch.setenv(mps.PIPE_VARIABLE, str(tmp_path / "system"))
    with mps.private_daemon() as served:
        assert served and os.environ[mps.PIPE_VARIABLE] == str(tmp_path / "system")
    with pytest.raises(FileNotFoundError):
        calls()
    assert os.environ[mps.PIPE_VARIABLE] == str(tmp_path / "system")


@pytest.mark.parametrize("case", ["not wanted", "no control program", "it fails"])
def test_without_a_daemon_the_workers_run_as_they_would(case, control, tmp_path):
    calls = control(fail=case == "it fails") if case != "no control program" else None
    with mps.private_daemon(wanted=case != "not wanted") as served:
        assert not served and mps.PIPE_VARIABLE not in os.environ
    assert not _left(tmp_path) and mps.PIPE_VARIABLE not in os.environ
    if case == "not wanted":
        with pytest.raises(FileNotFoundError):
            calls()


def test_check_on_cuda_starts_it_and_no_mps_does_not(control, monkeypatch, tmp_path):
    """Through the command, with the run itself left out (no GPU here)."""
    from studycli.cli import check as check_command
    from studycli.cli import help_panels

    calls = control()
    seen = []

    def run(*args, **kwargs):
        seen.append(os.environ.get(mps.PIPE_VARIABLE))
        return []

    monkeypatch.setattr(check_command, "_checked", run)
    monkeypatch.setattr(pool, "torch_gpu_build", lambda: True)  # the box's is CPU-only
    runner_ = CliRunner()
    assert runner_.invoke(help_panels.whole_app(), ["check", "--device", "cuda"]).exit_code == 0
    assert runner_.invoke(help_panels.whole_app(), ["check", "--device", "cpu"]).exit_code == 0
    assert (
        runner_.invoke(help_panels.whole_app(), ["check", "--device", "cuda", "--no-mps"]).exit_code
        == 0
    )
    assert seen[0] is not None and seen[1:] == [None, None]
    _quit(tmp_path)
    assert [call[:2] for call in calls() if "start_server" not in call[1]] == [
        ["-d", ""],
        ["", "quit"],
    ]


KILLED = """
import os, signal, sys
from studycli.check import mps
with mps.private_daemon():
    print(os.environ[mps.PIPE_VARIABLE], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_command_killed_mid_run_leaves_no_daemon_behind(control, tmp_path):
    """Its end of the quitter's input closes with it, however it dies."""
    import subprocess
    import sys

    calls = control()
    environ = {**os.environ, "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", KILLED], env=environ, capture_output=True, text=True
    )
    assert out.returncode == -9
    folder = out.stdout.strip()
    assert folder.startswith(str(tmp_path))
    _quit(tmp_path)
    assert ["", "quit", folder, folder] in calls() and not _left(tmp_path)
