"""The processes that hold a pipe, found through /proc and killed (check/pipe_holders.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studycli.check import pipe_holders


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc (Linux)")
@pytest.mark.parametrize("pidfd", [True, False], ids=["by a pidfd", "without os.pidfd_open"])
def test_a_process_that_holds_the_pipe_is_killed(monkeypatch, pidfd):
    """A process holding the pipe is killed, and its command line said; where Python has no
    os.pidfd_open (built against kernel headers before 5.3: conda's Python 3.11) it is
    signalled by its pid, as on a kernel without pidfds, where an AttributeError ended the
    check's process (a device worker, the command's reading of the check's output)."""
    if not pidfd:
        monkeypatch.delattr(os, "pidfd_open")
    read, write = os.pipe()
    holder = subprocess.Popen(["sleep", "60"], pass_fds=[write])
    os.close(write)
    try:
        killed = pipe_holders.kill_holders(os.fstat(read).st_ino)
        gone = not os.path.exists(f"/proc/{holder.pid}")  # (killed, and reaped: `reap`)
    finally:
        holder.kill()
        holder.wait()
        os.close(read)
    assert killed == ["sleep 60"]
    assert gone
