"""The keeper of a worker that forks checks (check/keeper.py), in a process tree of its own: it
ends as the server it forked ended."""

from __future__ import annotations

import os
import resource
import signal
import sys

import pytest

from .conftest import REPO_ROOT

# A keeper whose server crashes (a segfault in C code the worker ran)
SERVER_CRASHES = (
    "import os, signal\nfrom studycli.check import keeper\n\n"
    "keeper.keep()\nos.kill(os.getpid(), signal.SIGSEGV)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: a keeper")
@pytest.mark.skipif(resource.getrlimit(resource.RLIMIT_CORE)[1] == 0, reason="no core files")
def test_the_keeper_of_a_server_that_crashed_ends_as_it_did_without_a_core_file(tmp_path):
    """Where core files are allowed (`ulimit -c unlimited`), the keeper, ending by the signal
    that ended its server, dumped a core of its own, which did nothing wrong: with the kernel's
    default pattern ("core", in the folder both ran in) it replaced the server's, the one worth
    having."""
    pid = os.fork()
    if pid == 0:  # (the keeper: a new interpreter, core files allowed, in tmp_path)
        try:
            os.chdir(tmp_path)
            hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
            resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
            environ = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
            os.execve(sys.executable, [sys.executable, "-c", SERVER_CRASHES], environ)
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV, status
    assert not os.WCOREDUMP(status)


# A device worker's keeper under its guard (`keeper_guard`), without a worker: it forks a server
# (`sleep SERVER`, which outlives the keeper) and a daemon (a double fork, a session of its own:
# `sleep DAEMON`, an orphan of the keeper's, its subreaper), then ends as `END` says
KEEPER_UNDER_ITS_GUARD = """
import ctypes, os, signal, sys, time
from studycli.check import keeper_guard

prctl = ctypes.CDLL(None).prctl
prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER (as `keeper.keep` makes the guard)
keeper_guard.SERVER_GRACE = 0.3  # (the server runs on: waited for this long)
tell = keeper_guard.guard(prctl, -1)
server = os.fork()
if server == 0:
    os.execvp("sleep", ["sleep", {server!r}])
keeper_guard.tell(tell, server)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", {daemon!r}])
    os._exit(0)
time.sleep(0.2)  # (its first child gone: the daemon is the keeper's)
{end}
"""

# How the keeper ends, and how its guard ends then, as its command sees it
KEEPER_ENDS = {
    "killed": ("os.kill(os.getpid(), signal.SIGKILL)", -signal.SIGKILL),
    "exits": ("os._exit(3)", 3),
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: a keeper")
@pytest.mark.parametrize("end", KEEPER_ENDS.values(), ids=KEEPER_ENDS.keys())
def test_a_keepers_guard_kills_what_it_left_and_ends_as_it_did(end):
    """The guard above a device worker's keeper: once the keeper ends (killed, as a check may
    kill it), what had come to the keeper (the daemon), and the server that ran on after it,
    come to the guard, which gives the server a moment to end by itself, kills both, and ends
    as the keeper did. (The keeper's own tests, and the worker's that kill its keeper, cover
    it only with a worker above it: `test_check_workers`.)"""
    import subprocess

    from .check_support import gone_within, marker

    server, daemon = marker(), marker()
    source = KEEPER_UNDER_ITS_GUARD.format(server=server, daemon=daemon, end=end[0])
    environ = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    try:
        guard = subprocess.run([sys.executable, "-c", source], env=environ, timeout=30)
        left = gone_within(server, 1.0) + gone_within(daemon, 1.0)
    finally:
        gone_within(server, 0)
        gone_within(daemon, 0)
    assert guard.returncode == end[1], guard
    assert left == [], "what the keeper left ran on"
