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


class FakeLibc:
    """libc's prctl and syscall as `uid_filter.install` calls them, recorded; syscall says
    `errno` (0: it succeeds)."""

    def __init__(self, errno: int = 0) -> None:
        self.errno, self.calls = errno, []

    def prctl(self, option, *arguments):
        self.calls.append(("prctl", option))
        return 0

    def syscall(self, number, *arguments):
        import ctypes

        self.calls.append(
            ("syscall", number.value, *(argument.value for argument in arguments[:2]))
        )
        if self.errno:
            ctypes.set_errno(self.errno)
            return -1
        return 0


@pytest.mark.skipif(platform.machine() not in uid_filter.SECCOMP_CALL, reason="seccomp's number")
def test_the_filter_is_loaded_without_turning_on_the_store_bypass_mitigation():
    """Loaded through prctl, a seccomp filter turned on SSBD (the speculative store bypass
    mitigation) before Linux 5.16, for the worker and every check it forks, which slowed them:
    it is loaded through seccomp(2) with SECCOMP_FILTER_FLAG_SPEC_ALLOW."""
    libc = FakeLibc()
    assert uid_filter.install(libc, 1000, 1001)
    seccomp = uid_filter.SECCOMP_CALL[platform.machine()]
    assert libc.calls == [("prctl", 38), ("syscall", seccomp, 1, 1 << 2)]


@pytest.mark.skipif(platform.machine() not in uid_filter.SECCOMP_CALL, reason="seccomp's number")
@pytest.mark.parametrize("errno", [22, 38], ids=["EINVAL: the flag unknown", "ENOSYS"])
def test_a_kernel_without_the_flag_or_seccomp_2_loads_the_filter_through_prctl(errno):
    libc = FakeLibc(errno)
    assert uid_filter.install(libc, 1000, 1001)
    assert libc.calls[-1] == ("prctl", 22)  # PR_SET_SECCOMP


@pytest.mark.skipif(platform.machine() not in uid_filter.SECCOMP_CALL, reason="seccomp's number")
def test_a_filter_refused_for_another_reason_is_not_loaded_through_prctl():
    libc = FakeLibc(1)  # EPERM
    assert not uid_filter.install(libc, 1000, 1001)
    assert ("prctl", 22) not in libc.calls
