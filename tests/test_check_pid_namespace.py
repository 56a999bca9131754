"""A worker's checks in a PID namespace of their own, as root (check/pid_namespace.py): what a
check starts cannot outlive its worker, whatever it kills (the keeper, the command, its worker
in a loop, from a program it ran)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

from studycli.check import pid_namespace
from studycli.check.runner import Candidate, Job, run_job

from .check_support import (
    DAEMON_THEN_KILLS_ITS_WORKER,
    PROC_PIDS,
    asks_from_outside,
    gone_within,
    marker,
    signals_from_outside,
    torchless_reference,
)
from .conftest import FIXTURE_CONTENT, REPO_ROOT

SLACK = 4.0  # seconds for a kill to land and the worker to sweep, on a busy shared machine
ROOT = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0, reason="root on Linux"
)

# An attempt that leaves a daemon (`sleep MARKER`), then kills, by /proc's pids (which reach
# outside a namespace where kill() takes them), every process above its check up to the one
# `stop` names, the highest first (the command, the keeper, the server); then its parent, in a
# loop. `{exec}` runs the killing in a shell instead: a program run as root, whose death signal
# (PR_SET_PDEATHSIG) the exec cleared. Its parent, the one of them a check in the namespace
# reaches (the init drops its signals), is killed by the test's process, as it asks
# (`asks_from_outside`): a check signals no process outside its Landlock domain where the
# kernel scopes its signals (check/landlock.py), and the others are refused it there too.
KILLS_ALL_ABOVE = (
    """
import os, signal, subprocess

WORKER = os.getppid()

def add_one(x):
    if os.getppid() != WORKER:
        return x + 1
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", {marker!r}])
        os._exit(0)
    os.wait()
    above, pid = [], proc_stat("ppid")
    while pid not in ({stop}, 0, 1):
        above.append(pid)
        with open("/proc/" + str(pid) + "/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    if {exec}:
        kills = "".join("kill -9 " + str(pid) + "; " for pid in reversed(above))
        then = shell_asks(proc_stat("ppid"), signal.SIGKILL) + "; exec sleep " + {marker!r}
        os.execvp("sh", ["sh", "-c", kills + then])
    for pid in reversed(above):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    while True:
        from_outside(proc_stat("ppid"), signal.SIGKILL)
"""
    + PROC_PIDS
)


def attempt(tmp_path, source: str) -> Job:
    path = tmp_path / "attempt.py"
    path.write_text(source)
    return Job(
        str(FIXTURE_CONTENT / "solutions"),
        "arith",
        "check_add_one",
        Candidate("file", "add_one", path=str(path)),
        timeout=5.0,
        torch=False,  # (a torchless worker: a fresh one starts in 0.2 s)
    )


REFERENCE = torchless_reference()


@ROOT
@pytest.mark.parametrize("exec", [False, True], ids=["in Python", "from a program it ran"])
def test_a_daemon_outlives_nothing_whatever_its_check_killed(tmp_path, exec):
    """A check that killed its worker's keeper (found through /proc) and then its worker left
    its daemon to init, running after the command had ended; a program a check ran as root,
    whose death signal the exec cleared, the same. In a PID namespace neither reaches the
    keeper, and what is left when the worker ends dies with the namespace."""
    argument = marker()
    try:
        source = KILLS_ALL_ABOVE.format(marker=argument, stop=os.getpid(), exec=exec)
        with signals_from_outside(tmp_path / "asks"):
            outcome = run_job(attempt(tmp_path, source + asks_from_outside(tmp_path / "asks")))
        assert outcome.status == "error", outcome
        assert gone_within(argument, SLACK) == []
        assert run_job(REFERENCE).status == "pass"
    finally:
        gone_within(argument, 0)


@ROOT
def test_a_daemon_left_by_a_check_that_killed_the_command_does_not_outlive_it(tmp_path):
    """`studycli solve`, killed by its attempt (found through /proc) with the keeper and the
    worker, left the attempt's daemon running after it had ended."""
    argument = marker()
    attempt_file = tmp_path / "attempt.py"
    source = KILLS_ALL_ABOVE.format(marker=argument, stop=os.getpid(), exec=False)
    attempt_file.write_text(source + asks_from_outside(tmp_path / "asks"))
    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve"]
    try:
        with signals_from_outside(tmp_path / "asks"):
            subprocess.run(
                [*command, "add-one", "--file", str(attempt_file), "--no-record", "--timeout", "5"],
                capture_output=True,
                cwd=REPO_ROOT,
                env={**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")},
                timeout=60,
            )
        assert gone_within(argument, SLACK) == []
    finally:
        gone_within(argument, 0)


@ROOT
@pytest.mark.parametrize("runs", [10, pytest.param(60, marks=pytest.mark.slow)])
def test_no_daemon_outlives_a_check_that_kills_its_parent_in_a_loop(tmp_path, runs):
    """A check that killed its parent in a loop killed its worker, then the keeper before the
    worker's death signal reached it: its daemon ran on after the command, 3 runs in 60 and 8
    in 60 on the 2-core box. `runs` runs, each in a fresh worker (0.5 s each; 60 with `-m
    slow`). (Killed by this test's process, as the check asks: see `KILLS_ALL_ABOVE`.)"""
    kill = 'while True: from_outside(proc_stat("ppid"), signal.SIGKILL)'
    asks = asks_from_outside(tmp_path / "asks")
    left = []
    for _ in range(runs):
        argument = marker()
        source = DAEMON_THEN_KILLS_ITS_WORKER.format(marker=argument, kill=kill) + PROC_PIDS
        try:
            with signals_from_outside(tmp_path / "asks"):
                outcome = run_job(attempt(tmp_path, source + asks))
            assert outcome.status == "error", outcome
            left += gone_within(argument, SLACK)
        finally:
            gone_within(argument, 0)
    assert left == []
    assert run_job(REFERENCE).status == "pass"


def _no_pidfd(pid: int) -> int:
    raise OSError(24, "Too many open files")


@ROOT
@pytest.mark.parametrize(
    "pidfd",
    ["open", "refused", "absent"],
    ids=["by a pidfd", "without a pidfd", "without os.pidfd_open"],
)
def test_pids_cross_the_namespace_both_ways(pidfd):
    """In a PID namespace, a child's pid translates to /proc's and back; outside one, each is
    the pid given. Where no pidfd can be had (EMFILE, an old kernel) the child is found in
    /proc's listing of this process's children: the pid given, this namespace's, was said to
    the command as /proc's, which the command would have killed (here /proc's 2, kthreadd).
    So too where Python has no os.pidfd_open (built against kernel headers before 5.3: conda's
    Python 3.11), where an AttributeError ended the zygote at its first check, as root."""
    assert not pid_namespace.inside()
    assert pid_namespace.host_pid(os.getpid()) == os.getpid()
    read, write = os.pipe()
    outer = os.fork()
    if outer == 0:  # (a namespace made in a child: this process stays outside)
        code = 1
        try:
            os.close(read)
            assert ctypes.CDLL(None).unshare(pid_namespace.CLONE_NEWPID) == 0
            inner = os.fork()
            if inner == 0:
                inside, host = pid_namespace.inside(), pid_namespace.own_host_pid()
                if pidfd == "refused":
                    os.pidfd_open = _no_pidfd  # (a forked child's own os module)
                elif pidfd == "absent":
                    del os.pidfd_open
                child = os.fork()
                if child == 0:
                    os._exit(0)
                said = pid_namespace.host_pid(child)
                back = pid_namespace.local_pid(said)
                os.waitpid(child, 0)
                os.write(write, f"{inside} {host} {os.getpid()} {said} {child} {back}".encode())
                os._exit(0)
            os.waitpid(inner, 0)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    said = os.read(read, 256).decode().split()
    os.close(read)
    assert os.waitstatus_to_exitcode(os.waitpid(outer, 0)[1]) == 0
    inside, host, local, child_host, child, back = said
    assert inside == "True" and local == "1" and int(host) > 1
    assert child == back == "2" and int(child_host) not in (1, 2)


def test_no_namespace_is_made_but_as_root(monkeypatch):
    """As another user the keeper makes none (CLONE_NEWUSER would be needed, see
    `pid_namespace.unshare`), and keeps its checks as before."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert pid_namespace.unshare() is False


# An attempt that writes a wait status of its own ("exited 42") into every pipe its worker's
# keeper holds (found through /proc: its worker's parent is the namespace's init, whose parent
# is the keeper), then kills its worker (by the test's process: see `KILLS_ALL_ABOVE`).
TELLS_THE_KEEPER = (
    """
import os, signal, struct

def _parent(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])

def add_one(x):
    worker = _parent(int(os.readlink("/proc/self")))
    keeper = _parent(_parent(worker))
    for name in os.listdir(f"/proc/{keeper}/fd"):
        try:
            fd = os.open(f"/proc/{keeper}/fd/{name}", os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if int(name) > 2:
                os.write(fd, struct.pack("=i", 42 << 8))
        finally:
            os.close(fd)
    from_outside(proc_stat("ppid"), signal.SIGKILL)
"""
    + PROC_PIDS
)


@ROOT
def test_a_keeper_ends_as_its_server_did_not_as_a_check_tells_it(tmp_path):
    """The init of a worker's namespace tells its keeper how the server ended through a pipe,
    which a check opened through /proc/KEEPER/fd/N and wrote a status of its own into, read
    first: the keeper of a server its check killed ended as told (exit status 42), not
    killed."""
    from studycli.check import pool

    with signals_from_outside(tmp_path / "asks"):
        outcome = run_job(
            attempt(tmp_path, TELLS_THE_KEEPER + asks_from_outside(tmp_path / "asks"))
        )
    assert outcome.status == "error", outcome
    worker = pool._pool.zygotes["torchless"]
    assert worker.dead
    worker.close()
    assert worker.process is not None
    assert worker.process.returncode == -9, worker.process.returncode
