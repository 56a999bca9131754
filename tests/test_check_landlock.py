"""A check's Landlock domain (check/landlock.py), scoped where the kernel has Landlock's sixth
version (Linux 6.12): a check signals no process outside it (another check, its worker, its
worker's keeper, the command), as any user; older versions make the domain as before."""

from __future__ import annotations

import ast
import ctypes
import errno
import os
import signal
import socket
import sys
import time
from dataclasses import replace

import pytest

from studycli.check import landlock
from studycli.check.runner import Candidate, Job, run_job

from .check_support import PROC_PIDS, running_until, torchless_reference
from .conftest import FIXTURE_CONTENT

SCOPED = pytest.mark.skipif(
    landlock.abi() < landlock.SCOPED_ABI, reason="Landlock's scoped signals (Linux 6.12)"
)
LANDLOCK = pytest.mark.skipif(landlock.abi() < landlock.LEAST_ABI, reason="Landlock (Linux)")


def _in_a_domain(ruleset: int, then) -> dict[str, int]:
    """What `then` (a function of no arguments) gives, in a forked child that entered a domain
    of `ruleset`: a dict of errnos (0: done), which it writes back on a pipe."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover  (the child: it ends here, whatever happens)
        code = 1
        try:
            os.close(read)
            libc = ctypes.CDLL(None, use_errno=True)
            assert libc.prctl(landlock.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            restrict = landlock._long(landlock.RESTRICT_SELF)
            assert libc.syscall(restrict, landlock._long(ruleset), landlock._long(0)) == 0
            os.write(write, repr(then()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    said = b""
    while chunk := os.read(read, 4096):
        said += chunk
    os.close(read)
    assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0
    return ast.literal_eval(said.decode())


def _errno(call) -> int:
    try:
        call()
    except OSError as error:
        return error.errno or -1
    return 0


def _reaches(parent: int, listener: str):
    """What a process in a domain reaches: its parent (signal 0 and a real one, SIGURG, which
    it ignores), itself, a child of its own, and an abstract socket its parent listens on."""

    def reaches() -> dict[str, int]:
        child = os.fork()
        if child == 0:  # pragma: no cover
            time.sleep(30)
            os._exit(0)
        own = _errno(lambda: os.kill(child, signal.SIGKILL))
        os.waitpid(child, 0)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            connects = _errno(lambda: client.connect(listener))
        return {
            "parent": _errno(lambda: os.kill(parent, 0)),
            "parent, SIGURG": _errno(lambda: os.kill(parent, signal.SIGURG)),
            "itself": _errno(lambda: os.kill(os.getpid(), 0)),
            "its child": own,
            "a socket outside": connects,
        }

    return reaches


@pytest.mark.parametrize("scoped", [True, False], ids=["ABI 6 and on", "before ABI 6"])
@LANDLOCK
def test_a_domain_is_scoped_where_the_kernel_scopes_it(scoped, monkeypatch):
    """Made where the kernel has Landlock's sixth version, the ruleset scopes signals and
    abstract Unix sockets: a process in its domain signals itself and what it started, not its
    parent (signal 0, which asks whether it may, refused as a real one is), nor connects to a
    socket its parent made. Before it, the ruleset is the one it was (its first field alone,
    8 bytes): its parent reached as before."""
    if scoped and landlock.abi() < landlock.SCOPED_ABI:
        pytest.skip("Landlock's scoped signals (Linux 6.12)")
    if not scoped:
        monkeypatch.setattr(landlock, "abi", lambda libc=None: landlock.SCOPED_ABI - 1)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ruleset = landlock._ruleset(libc, ctypes)
    assert ruleset >= 0
    listener = f"\0studycli-test-{os.getpid()}-{time.monotonic_ns()}"
    previous = signal.signal(signal.SIGURG, signal.SIG_IGN)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            server.bind(listener)
            server.listen()
            reached = _in_a_domain(ruleset, _reaches(os.getpid(), listener))
    finally:
        os.close(ruleset)
        signal.signal(signal.SIGURG, previous)
    refused = errno.EPERM if scoped else 0
    assert reached == {
        "parent": refused,
        "parent, SIGURG": refused,
        "itself": 0,
        "its child": 0,
        "a socket outside": refused,
    }


# An attempt that says its pid (its own namespace's, /proc's) in `started`, then waits for the
# check beside it to say it is done (in `done`), 8 s at most
WAITS_AND_SAYS_ITS_PID = (
    """
import os, time

def add_one(x):
    with open({started!r} + ".part", "w") as said:
        said.write("%d %d" % (os.getpid(), proc_pid()))
    os.rename({started!r} + ".part", {started!r})
    deadline = time.monotonic() + 8
    while not os.path.exists({done!r}) and time.monotonic() < deadline:
        time.sleep(0.01)
    return x + 1
"""
    + PROC_PIDS
)

# An attempt that signals what it can name outside its domain: the command (signal 0: a real
# one reaches the test's own process, here, before the scope; the same permission is asked),
# the check beside it (said in `started`), and its parents up to the command, the highest
# first: its worker's keeper, and its worker (a device check's worker is its own process, and
# not signalled). Each outcome is written into `tried` as it comes (a kill of its worker's keeper
# before the scope ended this check too: its worker dies with it), as (whom, errno: 0, sent);
# then it says it is done (`done`).
# In a PID namespace (as root) it names the check beside it and its worker alone: the keeper
# and the command are outside, out of its reach (`pid_namespace`).
SIGNALS_WHAT_IT_CAN_NAME = (
    """
import os, signal

def add_one(x):
    if os.path.exists({done!r}):  # (once: its checker calls it for each case)
        return x + 1
    local, host = map(int, open({started!r}).read().split())
    inside = os.getpid() != proc_pid()  # (in a PID namespace)
    if inside:
        targets = [("the check beside it", local, 9), ("its worker", os.getppid(), 9)]
    else:
        parents, pid = [], proc_stat("ppid")
        while pid not in ({command}, 0, 1):
            parents.append(pid)
            pid = proc_stat("ppid", pid)
        names = ["its worker"] * (len(parents) - 1) + ["its worker's keeper"]
        targets = [("the command", {command}, 0), ("the check beside it", host, 9)]
        targets += list(zip(names, parents, [9] * len(parents)))[::-1]
    tried = []
    for whom, pid, number in targets:
        try:
            os.kill(pid, number)
            tried.append((whom, 0))
        except OSError as error:
            tried.append((whom, error.errno))
        with open({tried!r} + ".part", "w") as said:
            said.write(repr(tried))
        os.replace({tried!r} + ".part", {tried!r})
    open({done!r}, "w").close()
    return x + 1
"""
    + PROC_PIDS
)


def _job(folder, source: str, device: str = "cpu") -> Job:
    folder.mkdir(exist_ok=True)
    (folder / "attempt.py").write_text(source)
    candidate = Candidate("file", "add_one", path=str(folder / "attempt.py"))
    return Job(
        str(FIXTURE_CONTENT / "solutions"),
        "arith",
        "check_add_one",
        candidate,
        timeout=10.0,
        device=device,
        torch=False,  # (the torchless zygote, of which there is one: both checks forked by it)
    )


REFERENCE = torchless_reference()


@SCOPED
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Landlock (Linux)")
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_a_check_signals_no_other_check_nor_its_worker_keeper_or_command(tmp_path, device):
    """All of a user's processes may signal one another: a check killed another check running
    beside it, its worker, its worker's keeper (a device check, which runs in its worker:
    its keeper), or sent a signal to the command. Where the kernel scopes a Landlock domain's
    signals, each is refused (EPERM), and the checks beside it, its own and the next pass. As
    root, in a PID namespace, a CPU check names the check beside it and its worker alone
    (which it killed before, as root may); a device check, in none, names all."""
    started, done, said = tmp_path / "started", tmp_path / "done", tmp_path / "tried"
    assert run_job(replace(REFERENCE, device=device)).status == "pass"  # (its worker started)
    victim = _job(
        tmp_path / "victim", WAITS_AND_SAYS_ITS_PID.format(started=str(started), done=str(done))
    )
    attack = SIGNALS_WHAT_IT_CAN_NAME.format(
        started=str(started), done=str(done), tried=str(said), command=os.getpid()
    )
    with running_until(victim, started) as outcomes:
        attacker = run_job(_job(tmp_path / "attacker", attack, device))
    tried = ast.literal_eval(said.read_text()) if said.exists() else "nothing said"
    assert attacker.status == "pass", (attacker, tried)
    assert outcomes[0].status == "pass", (outcomes[0], tried)
    whom = {name for name, _ in tried}
    if os.geteuid() == 0 and device == "cpu":
        assert whom == {"the check beside it", "its worker"}, tried
    else:
        assert {"the command", "the check beside it", "its worker's keeper"} <= whom, tried
        assert "its worker" in whom or device != "cpu", tried
    assert {number for _, number in tried} == {errno.EPERM}, tried
    assert run_job(replace(REFERENCE, device=device)).status == "pass"
