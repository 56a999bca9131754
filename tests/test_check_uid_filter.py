"""The seccomp filter that keeps a check run as root to its real user id (`uid_filter`), tried
in a process of its own, as any user: each call below changes nothing, which the kernel allows
anyone, so a refusal is the filter's."""

from __future__ import annotations

import ast
import platform
import subprocess
import sys

import pytest

from studycli.check import uid_filter

from .conftest import REPO_ROOT

TRIES = """
import ctypes, os
from studycli.check import uid_filter

me = os.getuid()
installed = uid_filter.install(ctypes.CDLL(None, use_errno=True), me, me + 1)
calls = {
    "setresuid(me, -1, -1)": lambda: os.setresuid(me, -1, -1),
    "setresuid(-1, -1, -1)": lambda: os.setresuid(-1, -1, -1),
    "setresuid(me, me, -1)": lambda: os.setresuid(me, me, -1),
    "setresuid(me, -1, me)": lambda: os.setresuid(me, -1, me),
    "setuid(me)": lambda: os.setuid(me),
    "setreuid(me, -1)": lambda: os.setreuid(me, -1),
    "fork": lambda: os.waitpid(os.fork() or os._exit(0), 0),
}
said = {}
for name, call in calls.items():
    try:
        call()
        said[name] = "allowed"
    except PermissionError:
        said[name] = "refused"
print(repr((installed, said)))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() not in uid_filter.UID_CALLS,
    reason="a seccomp filter of this machine's system calls",
)
def test_the_filter_refuses_every_change_of_a_real_id_but_to_one_it_allows():
    done = subprocess.run(
        [sys.executable, "-c", TRIES], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    installed, said = ast.literal_eval(done.stdout)
    assert installed
    assert said == {
        "setresuid(me, -1, -1)": "allowed",  # (as a check starting sets its own)
        "setresuid(-1, -1, -1)": "refused",
        "setresuid(me, me, -1)": "refused",
        "setresuid(me, -1, me)": "refused",
        "setuid(me)": "refused",
        "setreuid(me, -1)": "refused",
        "fork": "allowed",  # (and every other call)
    }
