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
