"""CUDA's Multi-Process Service (MPS) for the device workers of `check --device cuda`.

One GPU runs the contexts of several processes in turns. A check's kernels are small and many,
so each device worker waits for the others' turns: on an H200 host, `check --device cuda` took
1.6x the CPU run's time with 4 device workers, and more workers did not help. Under MPS the
workers' kernels run side by side, and the run takes about the CPU run's time.

So, where the machine has MPS's control program and no MPS daemon serves this user already,
`check --device cuda` starts one of its own for the run (`private_daemon`): its pipes and log
in a new temporary folder, which only the run's workers are told of, so that nothing else on
the machine becomes its client; it is told to quit when the run ends (or the command dies),
and quits once the workers have exited.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from typing import IO

CONTROL = "nvidia-cuda-mps-control"
PIPE_VARIABLE = "CUDA_MPS_PIPE_DIRECTORY"
LOG_VARIABLE = "CUDA_MPS_LOG_DIRECTORY"
DEFAULT_PIPE_DIRECTORY = "/tmp/nvidia-mps"
CONTROL_SECONDS = 10.0  # what the control program may take to answer


def running() -> bool:
    """Whether an MPS daemon serves this process's CUDA clients: its pipe is where CUDA looks
    for it ($CUDA_MPS_PIPE_DIRECTORY, else /tmp/nvidia-mps)."""
    folder = os.environ.get(PIPE_VARIABLE) or DEFAULT_PIPE_DIRECTORY
    return os.path.exists(os.path.join(folder, "control"))


@contextlib.contextmanager
def private_daemon(wanted: bool = True) -> Iterator[bool]:
    """For the duration, an MPS daemon that serves the CUDA processes started from here.

    One already running is used as it is. Otherwise, if `wanted` and the control program is on
    the PATH, one is started for the duration, and this process's environment points to it
    (device workers inherit it). Yields whether MPS serves the workers started inside; where it
    cannot start (no GPU of its kind, no permission), the workers run without it.
    """
    control = shutil.which(CONTROL)
    if running() or not wanted or control is None:
        yield running()
        return
    folder = tempfile.mkdtemp(prefix="studycli-mps-")
    served = {PIPE_VARIABLE: folder, LOG_VARIABLE: folder}
    if not _start(control, served):
        shutil.rmtree(folder, ignore_errors=True)
        yield False
        return
    ended = _quitter(control, served)
    saved = {name: os.environ.get(name) for name in served}
    os.environ.update(served)
    try:
        yield True
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        ended.close()


def _quitter(control: str, served: dict[str, str]) -> IO[bytes]:
    """Start a process that tells the daemon to quit, and removes its folder, once its input
    (returned) closes: when the run ends, or when this process dies however it dies (the
    system closes its end then), so that no daemon outlives its run. A quit is answered only
    once the daemon's clients have exited, so nothing waits for it: the run's device workers
    are told to end as this process exits, and leave without waiting for it either."""
    read, write = os.pipe()
    try:
        script = 'read -r _ <&3; echo quit | "$0"; rm -rf "$1"'  # (fd 3: see _in_background)
        _in_background(script, control, served[PIPE_VARIABLE], served, read)
    finally:
        os.close(read)
    return os.fdopen(write, "wb")


def _start(control: str, served: dict[str, str]) -> bool:
    """Start the daemon with `served`'s folder; whether it started."""
    try:
        subprocess.run(
            [control, "-d"],
            stdin=subprocess.DEVNULL,
            env={**os.environ, **served},
            capture_output=True,
            timeout=CONTROL_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    # Its server now, not when the first worker connects (half a second on an H200), while
    # the workers import torch; without waiting for the answer.
    script = 'echo "start_server -uid $1" | "$0"'
    _in_background(script, control, str(os.getuid()), served, subprocess.DEVNULL)
    return True


def _in_background(
    script: str, control: str, argument: str, served: dict[str, str], stdin: int
) -> None:
    """Run the shell `script` ($0: the control program, $1: `argument`) on its own: the shell
    started here hands it to a child of its own and returns, so that nothing here has to reap
    it. In its own session (a Ctrl-C meant for the command does not stop it), with no hold on
    the command's output. `stdin` reaches the script as descriptor 3: a shell gives a command
    it runs in the background /dev/null as its standard input (so `read` there returned at
    once, and the daemon was told to quit as soon as it started)."""
    subprocess.run(
        ["/bin/sh", "-c", f"exec 3<&0; ({script}) >/dev/null 2>&1 &", control, argument],
        env={**os.environ, **served},
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )
