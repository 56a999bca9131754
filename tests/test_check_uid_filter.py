"""The seccomp filter that keeps a check run as root to its real user id (`uid_filter`), tried
in a process of its own, as any user: each call below changes nothing, which the kernel allows
anyone (or fails for another reason: setns of no file), so a refusal is the filter's; but a user
namespace, which the kernel lets anyone make where it allows them at all."""

from __future__ import annotations

import ast
import platform
import subprocess
import sys

import pytest

from studycli.check import uid_filter

from .conftest import REPO_ROOT

TRIES = """
import ctypes, errno, os, threading
from studycli.check import uid_filter

me = os.getuid()
libc = ctypes.CDLL(None, use_errno=True)
installed = uid_filter.install(libc, me, me + 1)


def c(call, *arguments):
    if call(*arguments) == -1:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def thread():
    started = threading.Thread(target=int)
    started.start()
    started.join()


calls = {
    "setresuid(me, -1, -1)": lambda: os.setresuid(me, -1, -1),
    "setresuid(-1, -1, -1)": lambda: os.setresuid(-1, -1, -1),
    "setresuid(me, me, -1)": lambda: os.setresuid(me, me, -1),
    "setresuid(me, -1, me)": lambda: os.setresuid(me, -1, me),
    "setuid(me)": lambda: os.setuid(me),
    "setreuid(me, -1)": lambda: os.setreuid(me, -1),
    "fork": lambda: os.waitpid(os.fork() or os._exit(0), 0),
    "unshare(0)": lambda: c(libc.unshare, 0),
    "setns(-1, 0)": lambda: c(libc.setns, -1, 0),
    "clone3(NULL, 0)": lambda: c(libc.syscall, 435, None, 0),  # (435 in every ABI)
    "a thread": thread,
    "unshare(CLONE_NEWUSER)": lambda: c(libc.unshare, 0x10000000),  # (last: it may be made)
}
said = {}
for name, call in calls.items():
    try:
        call()
        said[name] = "allowed"
    except PermissionError:
        said[name] = "refused"
    except OSError as error:  # (the kernel's own answer, the filter's ENOSYS apart)
        said[name] = "no such call" if error.errno == errno.ENOSYS else "allowed"
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
        "unshare(0)": "allowed",  # (unshare without CLONE_NEWUSER)
        "setns(-1, 0)": "refused",
        "clone3(NULL, 0)": "no such call",  # (glibc then makes threads with clone)
        "a thread": "allowed",
        "unshare(CLONE_NEWUSER)": "refused",
    }
