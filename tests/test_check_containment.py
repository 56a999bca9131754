"""Contained attempts: each check runs in its own session, killed whole at the time limit and
after it reports, with a cap on processes, stdin closed, inherited descriptors closed and its
output captured and cut. Every attempt here misbehaves; each must come back as a failure
within its limit and leave no process running (checked by a scan of /proc, no psutil).

Forks are bounded (200 at most): the machines that run these tests are shared."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from studycli.check import (
    contain,
    crash_report,
    error_report,
    output_tail,
    pool,
    runner,
    starvation,
)
from studycli.check.limits import OUTPUT_LIMIT
from studycli.check.runner import Candidate, Job, Outcome, run_job
from studycli.check.verify import run_checks
from studycli.content.loader import load_content

from .check_support import (
    DAEMON_THEN_KILLS_ITS_WORKER,
    KILLS_WORKER,
    PROC_PIDS,
    asks_from_outside,
    gone_within,
    marker,
    running_until,
    signals_from_outside,
)
from .conftest import FIXTURE_CONTENT, REPO_ROOT

LIMIT = 2.0  # seconds each attempt may run
SLACK = 4.0  # start-up, killing and reading what is left, on a busy shared machine
# the seconds an attempt that loops may run: on a busy machine it is starved of CPU too, as a
# slow right answer is, and given up to `starvation.LONGEST` times its limit
LOOPING = starvation.LONGEST * LIMIT

FORKS = (
    """
import os, time

def add_one(x):
    with open({record!r}, "w", buffering=1) as record:  # line by line: read after the kill
        record.write(f"{{proc_stat('pgrp')}} {{proc_pid()}}\\n")
        for _ in range(200):  # bounded: never an unbounded fork bomb
            pid = os.fork()
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            record.write(f"{{proc_pid(pid)}}\\n")
        record.write("all forked\\n")
    {then}
"""
    + PROC_PIDS
)
THEN_LOOP = "while True: pass"
THEN_RETURN = "return x  # wrong: the checker rejects it, the children still sleep"
PRINTS_100_MB = "def add_one(x):\n    print('x' * 100_000_000)\n    return x\n"
WRITES_TO_FD_1 = (
    "import os\n\ndef add_one(x):\n"
    "    os.write(1, b'written to fd 1\\n')\n    os.write(2, b'written to fd 2\\n')\n"
    "    return x\n"
)
EXITS = "import sys\n\ndef add_one(x):\n    sys.exit(0)\n"
UNDERSCORE_EXITS = "import os\n\ndef add_one(x):\n    os._exit(0)\n"
LOOPS = "def add_one(x):\n    while True:\n        pass\n"
ALLOCATES_50_GB = "def add_one(x):\n    return len(bytearray(50 * 1024**3))\n"
# mmap's ENOMEM is an OSError, not a MemoryError: it said "[Errno 12] Cannot allocate memory",
# no word of the check's cap
MAPS_50_GB = "import mmap\ndef add_one(x):\n    return len(mmap.mmap(-1, 50 * 1024**3))\n"
READS_STDIN = "def add_one(x):\n    return int(input())\n"
REPORTS_ITSELF = """
import os, resource

def add_one(x):
    fds = {{}}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink("/proc/self/fd/" + name)
        except OSError:
            pass  # the listing's own descriptor, closed by now
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    with open({record!r}, "w") as record:
        record.write(repr((fds, soft, hard, os.getpgrp(), os.getpid(), os.getsid(0))))
    return x + 1
"""


def live_processes_in_group(pgid: int) -> list[int]:
    """Processes of process group `pgid` that are still running (zombies are dead)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            found.append(int(name))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def attempt_job(tmp_path: Path, source: str, timeout: float = LIMIT) -> Job:
    path = tmp_path / "attempt.py"
    path.write_text(source)
    return Job(
        str(FIXTURE_CONTENT / "solutions"),
        "arith",
        "check_add_one",
        Candidate("file", "add_one", path=str(path)),
        timeout=timeout,
        memory_mb=1024,
    )


def run_timed(job: Job) -> tuple[Outcome, float]:
    started = time.monotonic()
    outcome = run_job(job)
    return outcome, time.monotonic() - started


REFERENCE = Job(
    str(FIXTURE_CONTENT / "solutions"),
    "arith",
    "check_add_one",
    Candidate("reference", "add_one", "arith"),
)


@pytest.fixture(scope="module", autouse=True)
def fork_server_started():
    """Start the runner's fork server (it imports torch once) before anything is timed."""
    assert run_job(REFERENCE).status == "pass"


def forked(record: Path) -> tuple[int, list[int], bool]:
    """The attempt's process group, its processes, and whether all 200 forks were made."""
    first, *lines = record.read_text().splitlines()
    group, leader = map(int, first.split())
    assert group == leader and group != os.getpgrp()  # its own group, not the caller's
    return group, [leader, *(int(line) for line in lines if line.isdigit())], "all forked" in lines


def test_two_hundred_forked_children_are_killed_when_the_check_ends(tmp_path):
    record = tmp_path / "pids"
    source = FORKS.format(record=str(record), then=THEN_RETURN)
    outcome, seconds = run_timed(attempt_job(tmp_path, source, timeout=60))
    assert outcome.status in ("fail", "error"), outcome  # error: the process cap stopped it
    group, processes, all_forked = forked(record)
    assert all_forked or os.geteuid() != 0  # (as root, a user of its own: 200 of its 256)
    assert live_processes_in_group(group) == []
    assert [pid for pid in processes if alive(pid)] == []


def test_forked_children_are_killed_with_the_attempt_at_the_time_limit(tmp_path):
    record = tmp_path / "pids"
    source = FORKS.format(record=str(record), then=THEN_LOOP)
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    # (busy: its 200 forks and its loop, starved of CPU still at `LOOPING`, under a test run's
    # load: the case here is what it leaves behind)
    assert outcome.status in ("timeout", "error", "busy"), outcome
    assert seconds < LOOPING + SLACK
    group, processes, _ = forked(record)  # as many as it made in the time (200 on an idle box)
    assert len(processes) > 1
    assert live_processes_in_group(group) == []
    assert [pid for pid in processes if alive(pid)] == []


def test_the_solve_command_returns_at_the_limit_though_children_hold_its_output(tmp_path):
    """The issue's case: `solve --timeout 5` took 62 s, children kept the caller's pipe open."""
    record = tmp_path / "pids"
    attempt = tmp_path / "attempt.py"
    attempt.write_text(FORKS.format(record=str(record), then=THEN_LOOP))
    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve"]
    started = time.monotonic()
    result = subprocess.run(
        [*command, "add-one", "--file", str(attempt), "--timeout", str(LIMIT), "--no-record"],
        capture_output=True,  # pipes, like `| tee`: EOF only when every holder has exited
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        env={**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")},
    )
    seconds = time.monotonic() - started
    assert result.returncode == 1 and "timeout" in result.stdout
    assert seconds < LIMIT + 20  # start-up and the fork server's imports included; not 60 s
    group, processes, _ = forked(record)
    assert live_processes_in_group(group) == []
    assert [pid for pid in processes if alive(pid)] == []


def test_a_100_mb_print_is_captured_cut_to_its_tail(tmp_path):
    """The flood is drained while the check runs, and the check ends on its own verdict
    ("fail": it returned x), its output cut to the tail. What is timed here is not the limit:
    100 MB through the 64 KB pipe is some 1,500 hand-overs between the check and its worker,
    1.7 s and more on the loaded 2-core box, where under the 2 s limit it timed out (CI's
    unprivileged run, 2 of 5 under load; 4 of 5 alone at load 11). Under a limit of 60 s a
    flood read only at the check's end (the pipe full, the check blocked) still fails here,
    as a timeout."""
    outcome, seconds = run_timed(attempt_job(tmp_path, PRINTS_100_MB, timeout=60))
    assert outcome.status == "fail", (outcome, seconds)
    assert len(outcome.output) < OUTPUT_LIMIT + 100
    assert outcome.output.startswith(f"… {100_000_001 - OUTPUT_LIMIT:,} earlier bytes not shown\n")
    assert outcome.output.rstrip().endswith("x" * 100)


def test_an_output_cut_to_its_tail_starts_at_a_whole_line_after_how_many_came_before():
    """The tail kept of a flood of lines began in a line's middle ("line 199882" of "spam line
    199882"), with only a count of bytes before it: it starts at the first whole line, after
    how many lines were left out. A tail with no whole line (one long line) is shown as it is;
    an output under the limit, whole."""
    flood = [
        "".join(f"spam line {i}\n" for i in range(start, start + 1000)).encode()
        for start in range(0, 200_000, 1000)
    ]
    said, *lines = _through_a_pipe(flood).splitlines()
    assert said.startswith("… ") and said.endswith(" earlier lines not shown"), said
    left_out = int(said.split()[1].replace(",", ""))
    assert lines == [f"spam line {i}" for i in range(left_out, 200_000)]
    one_line = _through_a_pipe([b"x" * 10_000 + b"\n"])
    assert one_line == "… 8,001 earlier bytes not shown\n" + "x" * 1999 + "\n"
    assert _through_a_pipe([b"one\n", b"two\n"]) == "one\ntwo\n"


def _through_a_pipe(chunks: list[bytes], limit: int = 2000) -> str:
    """What an OutputTail keeps of `chunks` written to a pipe it reads, as text."""
    tail = output_tail.OutputTail(limit)
    read, write = os.pipe()
    try:
        for chunk in chunks:  # each under the pipe's 64 kB
            os.write(write, chunk)
            assert tail.read(read)
    finally:
        os.close(write)
        os.close(read)
    return tail.text()


def _flooded(tail: output_tail.OutputTail, size: int) -> int:
    """`size` bytes written into a pipe that `tail` reads whole (written from a thread); how
    many bytes the pipe held at its end (Linux's F_GETPIPE_SZ)."""
    import fcntl
    import threading

    read, write = os.pipe()
    flood = b"y\n" * (size // 2)
    writer = threading.Thread(target=lambda: (os.write(write, flood), os.close(write)))
    writer.start()
    try:
        while tail.read(read):
            pass
        return fcntl.fcntl(read, fcntl.F_GETPIPE_SZ)
    finally:
        writer.join()
        os.close(read)


@pytest.mark.skipif(sys.platform != "linux", reason="F_SETPIPE_SZ is Linux's")
def test_a_flood_of_output_widens_its_pipe_past_a_megabyte():
    """A check that prints 100 MB woke its worker for each 64 KB the pipe held; past
    `output_tail.WIDE_PIPE` bytes the pipe holds that much, read so; a pipe that brings less is
    left as it is (a wide one counts against its user's pipe memory)."""
    with open("/proc/sys/fs/pipe-max-size") as cap:
        if int(cap.read()) < output_tail.WIDE_PIPE:
            pytest.skip("this system caps a pipe under a megabyte")
    tail = output_tail.OutputTail(2000)
    assert _flooded(tail, 8 << 20) == output_tail.WIDE_PIPE and tail.total == 8 << 20
    assert tail.text().endswith("y\n" * 999) and tail.lines == 4 << 20
    tail = output_tail.OutputTail(2000)
    assert _flooded(tail, 1_000_000) == 1 << 16 and tail.total == 1_000_000


def test_a_pipe_the_system_will_not_widen_is_read_as_before(monkeypatch):
    """Refused (another system, a lower cap, the user's pipe memory spent), the output is
    read whole as before, and the widening tried once."""
    import fcntl

    tried = []

    def refused(fd, command, *args):
        if command == getattr(fcntl, "F_SETPIPE_SZ", None):
            tried.append(fd)
            raise PermissionError(1, "Operation not permitted")
        return fcntl_call(fd, command, *args)

    fcntl_call = fcntl.fcntl
    monkeypatch.setattr(fcntl, "fcntl", refused)
    tail = output_tail.OutputTail(2000)
    read, write = os.pipe()
    try:
        for _ in range(40):  # 40 x 60 kB, each read before the next is written
            os.write(write, b"z" * 59_999 + b"\n")
            assert tail.read(read)
    finally:
        os.close(write)
    assert not tail.read(read)
    os.close(read)
    assert tail.total == 40 * 60_000 and tail.text().endswith("z" * 1999 + "\n")
    assert len(tried) == (1 if hasattr(fcntl, "F_SETPIPE_SZ") else 0)


def test_output_written_from_c_to_the_descriptors_is_captured(tmp_path):
    outcome, seconds = run_timed(attempt_job(tmp_path, WRITES_TO_FD_1))
    assert outcome.status == "fail" and seconds < LIMIT + SLACK
    assert "written to fd 1" in outcome.output and "written to fd 2" in outcome.output


@pytest.mark.parametrize(
    "source, status, words",
    [
        (EXITS, "error", "called exit"),
        (UNDERSCORE_EXITS, "error", "exited with status 0 before reporting"),
        (LOOPS, "timeout", "did not finish"),
        (ALLOCATES_50_GB, "fail", "MemoryError: ran out of memory (the limit is 1024 MB)"),
        (MAPS_50_GB, "fail", "Cannot allocate memory (ran out of memory (the limit is 1024 MB))"),
        (READS_STDIN, "fail", "EOFError"),
    ],
    ids=["sys.exit", "os._exit", "infinite loop", "50 GB", "50 GB mmap", "stdin"],
)
def test_each_misbehaviour_is_a_failure_within_the_limit(tmp_path, source, status, words):
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    assert (outcome.status, words in outcome.message) == (status, True), outcome
    assert seconds < (LOOPING if source is LOOPS else LIMIT) + SLACK


def test_the_attempt_has_its_own_session_no_stdin_no_inherited_descriptors(tmp_path):
    record = tmp_path / "report"
    held = open(tmp_path / "held-open", "w")  # noqa: SIM115  (a file the caller has open)
    os.set_inheritable(held.fileno(), True)
    try:
        outcome = run_job(attempt_job(tmp_path, REPORTS_ITSELF.format(record=str(record))))
    finally:
        held.close()
    assert outcome.status == "pass", outcome
    fds, soft, hard, group, pid, session = eval(record.read_text())
    assert group == pid == session  # a session and process group of its own
    assert fds[0] == "/dev/null"
    assert fds[1] == fds[2] and fds[1].startswith("pipe:")  # stdout and stderr: the capture
    others = {fd: target for fd, target in fds.items() if fd > 2}
    # the report's channel: a socket, which no other process opens through /proc
    assert len(others) == 1 and next(iter(others.values())).startswith("socket:"), fds
    assert soft == hard and 0 < soft < 10**6  # a process cap, not unlimited


LIFTS_ITS_MEMORY_CAP = """
import resource

def add_one(x):
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)
        lifted = True
    except (ValueError, OSError):
        lifted = False
    with open({record!r}, "w") as record:
        record.write(repr((soft, hard, lifted)))
    return x + 1
"""


def test_a_check_cannot_lift_its_own_memory_cap(tmp_path):
    """The cap was the soft limit alone, under no hard one: a check (or a library it calls)
    that set its soft limit to the hard one had no cap at all."""
    import resource

    record = tmp_path / "limits"
    run_job(attempt_job(tmp_path, LIFTS_ITS_MEMORY_CAP.format(record=str(record))))
    soft, hard, lifted = eval(record.read_text())
    assert soft == hard != resource.RLIM_INFINITY
    assert not lifted  # (root too: its worker gave up CAP_SYS_RESOURCE, see contain)


RUNS_IN_PARALLEL = """
import torch

def add_one(x):
    torch.randn(4_000_000).exp().sum()  # a parallel operation: OpenMP starts its threads
    print("threads", torch.get_num_threads())
    return x + 1
"""


def test_a_check_given_a_thread_per_core_of_a_large_machine_keeps_within_its_memory(tmp_path):
    """`solve` gives its check a thread per core; on a machine of 128 cores their stacks
    (8 MB each) took all of the default 1024 MB cap: a correct answer's next tensor could not
    be allocated, or OpenMP ended the check as it started them ("libgomp: Thread creation
    failed": "exited with status 1 before reporting")."""
    job = replace(attempt_job(tmp_path, RUNS_IN_PARALLEL), threads=128, memory_mb=1024)
    outcome = run_job(job)
    assert outcome.status == "pass", outcome
    assert 1 < int(outcome.output.split()[-1]) < 128


def test_openmp_ending_a_check_that_asked_for_too_many_threads_says_so(tmp_path):
    """GNU OpenMP exits where it cannot start a thread torch asked for, with status 1 or a
    segmentation fault on its way out: it said "exited with status 1 before reporting (a
    call to os._exit()?)", or "killed by signal 11 (SIGSEGV: a stack overflow from deep
    recursion ...)"."""
    source = RUNS_IN_PARALLEL.replace(
        "    torch.randn", "    torch.set_num_threads(300)\n    torch.randn"
    )
    outcome = run_job(replace(attempt_job(tmp_path, source), memory_mb=8192))  # (past the
    # process cap: under less memory, stacks can fill it first, and the next tensor fails)
    assert outcome.status == "error", outcome
    assert outcome.message.startswith("OpenMP (the threads of torch's operations)"), outcome
    assert "torch.set_num_threads" in outcome.message and "os._exit" not in outcome.message


HANGS_AFTER_OPENMP_GAVE_UP = """
import os
import signal

def add_one(x):
    os.write(2, b"\\nlibgomp: Thread creation failed: Resource temporarily unavailable\\n")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # (a hang in C: no handler runs)
    while True:  # (libgomp's exit, waited on by the threads it started)
        pass
"""


def test_openmp_whose_exit_hangs_says_so_not_an_infinite_loop(tmp_path):
    """libgomp's exit can hang until the check's time limit (CI, under load): that said "did
    not finish in 2 s: an infinite loop, or far too slow", with OpenMP's line in the output."""
    outcome = run_job(attempt_job(tmp_path, HANGS_AFTER_OPENMP_GAVE_UP, timeout=1.0))
    assert outcome.status == "error", outcome
    assert outcome.message.startswith("OpenMP (the threads of torch's operations)"), outcome
    assert "infinite loop" not in outcome.message


def test_a_second_check_run_in_one_process_works_after_ctrl_c(tmp_path):
    """Ctrl-C during `check` set the runner's stop flag, and nothing cleared it."""
    content = load_content(FIXTURE_CONTENT)
    card = content.get("add-one")

    def interrupt(job, outcome):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_checks([card], content, jobs=1, on_job_done=interrupt)
    [result] = run_checks([card], content, jobs=2)
    assert result.status == "pass", result.message


def test_the_users_processes_are_counted_at_most_once_a_second(monkeypatch):
    """The forking worker counts them (all of /proc) before each fork, at most once a second,
    and each check caps its processes from the count it inherits instead of counting again."""
    counts, clock = [], [100.0]
    monkeypatch.setattr(contain, "_COUNTED", None)
    monkeypatch.setattr(contain, "_user_tasks", lambda: counts.append(1) or 40 + len(counts))
    monkeypatch.setattr(contain.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(contain.os, "geteuid", lambda: 1000)
    assert contain.count_user_tasks() == 41
    clock[0] += 0.9
    assert contain.count_user_tasks() == 41 and len(counts) == 1
    clock[0] += 0.2
    assert contain.count_user_tasks() == 42 and len(counts) == 2
    monkeypatch.setattr(contain.os, "geteuid", lambda: 0)  # root: no count (see _count_apart)
    assert contain.count_user_tasks() is None and len(counts) == 2


PROCESS_CAP = 16  # the processes and threads each check below may start: met in a few starts
STARTS = (
    """
import multiprocessing, os, subprocess, threading, time

def asleep():
    time.sleep(60)
    os._exit(0)

def add_one(x):
    with open({record!r}, "w", buffering=1) as record:  # line by line: read after the kill
        record.write(f"{{proc_stat('pgrp')}}\\n")
        for _ in range({starts}):  # bounded: never an unbounded bomb, where no cap holds
            record.write(f"{{as_proc({start})}}\\n")
    return x + 1  # right: a check that no cap stopped passes

def as_proc(started):
    return proc_pid(started) if isinstance(started, int) else started
"""
    + PROC_PIDS
)


START_LINE = next(n for n, line in enumerate(STARTS.splitlines(), 1) if "{start}" in line)
REFUSED = "BlockingIOError: [Errno 11] Resource temporarily unavailable"
THREAD = "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()"


# As another user than root, RLIMIT_NPROC counts every process of the user, and the check's cap
# is the user's count (taken by its worker up to a second before: `contain.count_user_tasks`)
# plus PROCESS_CAP: a process of the user's that ends meanwhile (the other test worker's
# check) leaves the check one more (CI's unprivileged run: 17 started). As root, a check counts
# as a user of its own, alone: exactly PROCESS_CAP.
OTHERS_ENDED = 0 if os.geteuid() == 0 else 8


PROCESSES_SAID = f"processes than a check may ({PROCESS_CAP}, threads included)"
THREADS_SAID = f"threads than a check can run ({PROCESS_CAP} processes and threads"


@pytest.mark.parametrize(
    "start, memory_mb, says",
    [
        ("os.fork() or asleep()", 0, PROCESSES_SAID),
        ("multiprocessing.Process(target=time.sleep, args=(60,)).start()", 0, PROCESSES_SAID),
        ("subprocess.Popen(['sleep', '60']).pid", 0, PROCESSES_SAID),
        (THREAD, 0, THREADS_SAID + ")"),
        # (a thread reserves a stack and a pool of malloc's: 15 of them fill 1024 MB)
        (THREAD, 1024, THREADS_SAID + ", within 1024 MB of memory)"),
    ],
    ids=["os.fork", "multiprocessing", "subprocess", "threading", "threading in 1024 MB"],
)
def test_an_attempt_that_starts_too_many_processes_is_stopped_and_told_so(
    tmp_path, start, memory_mb, says
):
    """A fork bomb run as root, which Linux exempts from RLIMIT_NPROC, forked until the time
    limit and ended as "did not finish" (a bounded one made all its 512 processes in 2 s on
    the 2-core box, past the cap of 256): a check run as root now counts as a user of its
    own. Where the cap held, it said "raised BlockingIOError: [Errno 11] Resource temporarily
    unavailable", as if the call with that input had gone wrong. It is refused past the cap,
    says so and where, and nothing it started outlives it."""
    record = tmp_path / "started"
    source = STARTS.format(record=str(record), starts=PROCESS_CAP + 40, start=start)
    job = replace(attempt_job(tmp_path, source, 30), processes=PROCESS_CAP, memory_mb=memory_mb)
    outcome, seconds = run_timed(job)
    assert outcome.status == "error", outcome
    assert outcome.message.startswith(f"your attempt started more {says}"), outcome.message
    error = "RuntimeError: can't start new thread" if start == THREAD else REFUSED
    assert outcome.message.endswith(f", at line {START_LINE} (in add_one): {error}"), outcome
    assert seconds < SLACK
    group, *started = record.read_text().splitlines()
    assert len(started) <= PROCESS_CAP + OTHERS_ENDED  # (for root too)
    assert live_processes_in_group(int(group)) == []
    assert [pid for pid in started if pid.isdigit() and alive(int(pid))] == []


# The pids it records are /proc's (`PROC_PIDS`): a check run as root runs in a PID namespace of
# its own, whose numbers name other processes out here (kernel threads under 200): the test
# found pids "92, 93" alive (threads of the machine's agent), and looked for its group's live
# processes under the namespace's number, which /proc gives no group of the check's.
FORKS_CHILDREN_THAT_TAKE_AN_ID = (
    """
import os, time

def add_one(x):
    with open({record!r}, "w", buffering=1) as record:
        record.write(f"{{proc_stat('pgrp')}}\\n")
        for _ in range({starts}):  # bounded: never an unbounded fork bomb
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    {take}  # then no longer counted with its parent's processes
                except OSError:
                    pass  # refused
                os.write(write, b"+")
                time.sleep(60)
                os._exit(0)
            os.read(read, 1)  # (once it has taken its id, or been refused)
            os.close(read)
            os.close(write)
            record.write(f"{{proc_pid(pid)}}\\n")
    return x + 1  # right: a check that no cap stopped passes
"""
    + PROC_PIDS
)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="root only: a check run as root counts its processes as a user of its own",
)
@pytest.mark.parametrize(
    "take",
    [
        "os.setresuid(0, 0, 0)",
        "os.setresuid(os.getuid() + 1, -1, -1)",
        # a user namespace of its own (CLONE_NEWUSER), whose owner is its effective id, 0:
        # Linux counts its processes as that owner's outside it
        "import ctypes; ctypes.CDLL(None).unshare(0x10000000)  # (-1 where refused)",
    ],
    ids=["root back", "a fresh user", "a user namespace"],
)
def test_a_check_run_as_root_cannot_take_another_user_id_to_escape_its_cap(tmp_path, take):
    """A check run as root whose processes took real user id 0 back (its effective id is 0,
    which allows it whatever capabilities it lacks) were exempt from its process cap: a fork
    bomb ran to the time limit. So were those that took fresh ids, each counted apart."""
    record = tmp_path / "started"
    starts = PROCESS_CAP + 40
    source = FORKS_CHILDREN_THAT_TAKE_AN_ID.format(take=take, record=str(record), starts=starts)
    job = replace(attempt_job(tmp_path, source, 30), processes=PROCESS_CAP, memory_mb=0)
    outcome, _ = run_timed(job)
    assert outcome.status == "error", outcome
    assert outcome.message.startswith(f"your attempt started more {PROCESSES_SAID}"), outcome
    group, *started = record.read_text().splitlines()
    assert len(started) <= PROCESS_CAP
    assert live_processes_in_group(int(group)) == []
    assert [pid for pid in started if alive(int(pid))] == []


def test_an_eagain_that_starts_nothing_is_not_put_down_to_the_process_cap(tmp_path):
    """A non-blocking read of an empty pipe raises the BlockingIOError a refused fork raises:
    it stays the answer's own failure, with its input."""
    source = (
        "import os\n\ndef add_one(x):\n    read, _ = os.pipe()\n"
        "    os.set_blocking(read, False)\n    return os.read(read, 1)\n"
    )
    job = replace(attempt_job(tmp_path, source), processes=PROCESS_CAP)
    outcome, _ = run_timed(job)
    assert outcome.status == "fail", outcome
    assert outcome.message.startswith("add_one(-3): raised BlockingIOError: [Errno 11]"), outcome


ESCAPES = (
    """
import os, subprocess, sys, time

def add_one(x):
    with open({record!r}, "w", buffering=1) as record:
        sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
        record.write(f"{{proc_pid(subprocess.Popen(sleeper, process_group=0).pid)}}\\n")
        record.write(f"{{proc_pid(subprocess.Popen(sleeper, start_new_session=True).pid)}}\\n")
        read, write = os.pipe()
        pid = os.fork()  # a new group, whose leader exits: its child an orphan meanwhile
        if pid == 0:
            os.setpgid(0, 0)
            orphan = os.fork()
            if orphan == 0:
                time.sleep(60)
                os._exit(0)
            os.write(write, str(proc_pid(orphan)).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        record.write(os.read(read, 64).decode() + "\\n")
        record.write("started\\n")
    {then}
"""
    + PROC_PIDS
)


@pytest.mark.parametrize("then", [THEN_RETURN, THEN_LOOP])
def test_processes_that_made_a_group_or_a_session_of_their_own_are_killed_too(tmp_path, then):
    """The check's session was killed by its process group: a process that made a group of
    its own (setpgid, setsid) outlived the check."""
    record = tmp_path / "pids"
    source = ESCAPES.format(record=str(record), then=then)
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    assert outcome.status in ("fail", "timeout"), outcome
    lines = record.read_text().splitlines()
    assert lines[-1] == "started"
    pids = [int(line) for line in lines[:-1]]
    deadline = time.monotonic() + SLACK
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if alive(pid)] == []


def test_a_check_s_processes_die_with_the_command_that_ran_it(tmp_path):
    """studycli killed (a closed terminal, SIGKILL) during a check left the check's children
    running: the worker killed the check's process alone."""
    import signal

    record = tmp_path / "pids"
    attempt = tmp_path / "attempt.py"
    attempt.write_text(ESCAPES.format(record=str(record), then=THEN_LOOP))
    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve"]
    solving = subprocess.Popen(
        [*command, "add-one", "--file", str(attempt), "--timeout", "60", "--no-record"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO_ROOT,
        env={**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")},
    )
    deadline = time.monotonic() + 60
    while not (record.exists() and record.read_text().endswith("started\n")):
        assert time.monotonic() < deadline and solving.poll() is None
        time.sleep(0.05)
    solving.send_signal(signal.SIGKILL)
    solving.wait()
    pids = [int(line) for line in record.read_text().splitlines()[:-1]]
    deadline = time.monotonic() + SLACK
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if alive(pid)] == []


def test_a_check_near_its_limit_says_which_call_and_which_line_it_was_in(tmp_path):
    """A timeout said only "did not finish in 10 s": the check now stops itself just before
    its limit where Python runs, and reports the call it was in and the learner's line; an
    `except Exception` in the answer does not swallow that."""
    source = (
        "def add_one(x):\n"
        "    while True:\n"
        "        try:\n"
        "            pass  # the loop\n"
        "        except Exception:\n"
        "            pass\n"
    )
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    assert outcome.status == "timeout" and seconds < LOOPING + SLACK
    assert outcome.message.startswith("add_one(") and "did not finish in 2 s" in outcome.message
    assert 'attempt.py", line ' in outcome.traceback and "in add_one" in outcome.traceback


@pytest.mark.parametrize("base", ["Exception", "BaseException", "AssertionError"])
def test_an_exception_that_cannot_say_its_message_is_still_reported(tmp_path, base):
    """Its __str__ raised inside the check's report: the check died without one, and was
    taken for a call to os._exit."""
    source = (
        f"class Broken({base}):\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('no message')\n\n"
        "def add_one(x):\n"
        "    raise Broken()\n"
    )
    outcome, _ = run_timed(attempt_job(tmp_path, source))
    assert outcome.status in ("fail", "error"), outcome
    assert "Broken (its message could not be read)" in outcome.message, outcome.message


@pytest.mark.parametrize(
    "base, broken, status, says",
    [
        ("AssertionError", "__cause__", "fail", "add_one(-3): an assert in the answer failed"),
        ("Exception", "__traceback__", "fail", "add_one(-3): raised Broken: "),
        ("Exception", "__class__", "fail", "add_one(-3): raised Broken: "),
        (
            "KeyboardInterrupt",
            "__traceback__",
            "error",
            "the code raised Broken, which could not be described: reading it raised "
            "RuntimeError in turn",
        ),
    ],
)
def test_an_exception_that_cannot_be_read_is_still_reported(tmp_path, base, broken, status, says):
    """An attribute of it that raises when read (a property of its class) raised again in the
    check's report: the check died without one, "exited with status 1 before reporting (a
    call to os._exit()?)". The checker's failure made of it still says its message."""
    source = (
        f"class Broken({base}):\n"
        "    @property\n"
        f"    def {broken}(self):\n"
        "        raise RuntimeError('not to be read')\n\n"
        "def add_one(x):\n"
        "    raise Broken()\n"
    )
    outcome, _ = run_timed(attempt_job(tmp_path, source))
    assert (outcome.status, outcome.message.startswith(says)) == (status, True), outcome


RAISES_ITSELF_AS_ITS_CAUSE = """
def add_one(x):
    try:
        return 1 / 0
    except ZeroDivisionError as error:
        raise error from error
"""
CAUSES_IN_A_CYCLE = """
def add_one(x):
    first, second = ValueError("first"), ValueError("second")
    first.__cause__, second.__cause__ = second, first
    raise ValueError("top") from first
"""


def test_an_exception_that_is_its_own_cause_shows_each_frame_once(tmp_path):
    """The traceback went round its causes until it held 200 frames: the learner's two lines
    were shown over and over ("line 4, line 6, line 4, ...")."""
    outcome, _ = run_timed(attempt_job(tmp_path, RAISES_ITSELF_AS_ITS_CAUSE))
    assert outcome.status == "fail" and "ZeroDivisionError" in outcome.message, outcome
    assert outcome.traceback.count("line 4,") == 1, outcome.traceback
    assert outcome.traceback.count("line 6,") == 1, outcome.traceback


def test_a_deep_recursions_report_summarises_only_the_frames_it_shows(tmp_path, monkeypatch):
    """A runaway recursion under a raised sys.setrecursionlimit left a million frames, and the
    report summarised each of them (1.6 s of a check's 3.4, after its timer was off): only
    the innermost few are summarised now, and the traceback says how many it left out."""
    import traceback

    job = attempt_job(tmp_path, "def down(n):\n    return down(n + 1)\n")
    namespace: dict = {}
    exec(compile(Path(job.candidate.path).read_text(), job.candidate.path, "exec"), namespace)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        namespace["down"](0)
    except RecursionError as error:
        raised = error
    finally:
        sys.setrecursionlimit(limit)
    summarised = []

    class Counted(traceback.FrameSummary):
        def __init__(self, *args, **kwargs):
            summarised.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(traceback, "FrameSummary", Counted)
    shown = error_report._trimmed_traceback(raised, job)
    where = error_report._where(raised, job)
    assert len(summarised) <= 10, len(summarised)
    assert 'attempt.py", line 2, in down' in shown and "earlier frames not shown" in shown, shown
    assert where == ", at line 2 (in down)"


def test_causes_in_a_cycle_are_reported_not_walked_forever(tmp_path):
    """Causes that were never raised, in a cycle, held no frame: the report went round them
    until the kill, and the check said it did not finish (an infinite loop?)."""
    outcome, seconds = run_timed(attempt_job(tmp_path, CAUSES_IN_A_CYCLE))
    assert outcome.status == "fail" and "raised ValueError: top" in outcome.message, outcome
    assert seconds < LIMIT


FORKED_COPY = """
import os, time

forked = []

def add_one(x):
    if not forked:  # the first call forks: both processes go on with the check
        forked.append("child" if os.fork() == 0 else "parent")
    if forked[0] == "child":
        {child}
    time.sleep(0.5)  # the child's report would come first
    return x  # wrong
"""


@pytest.mark.parametrize(
    "child", ["return x + 1", "raise ValueError('the child failed')"], ids=["right", "raises"]
)
def test_only_the_check_s_own_process_reports_its_outcome(tmp_path, child):
    """A copy the answer forked went on with the check and reported first: a child returning
    the right value passed a parent returning a wrong one (recorded Good), and a child that
    forgot to exit and raised failed the check with its error, not the parent's answer."""
    outcome, _ = run_timed(attempt_job(tmp_path, FORKED_COPY.format(child=child)))
    assert outcome.status == "fail", outcome
    assert "add_one(-3): expected -2, got -3" in outcome.message, outcome


RAISES_KEYBOARD_INTERRUPT = "def add_one(x):\n    raise KeyboardInterrupt\n"
SENDS_ITSELF_SIGINT = (
    "import os, signal, time\n\ndef add_one(x):\n"
    "    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(60)\n"
)


@pytest.mark.parametrize(
    "source, line",
    [(RAISES_KEYBOARD_INTERRUPT, 2), (SENDS_ITSELF_SIGINT, 4)],
    ids=["raise", "SIGINT"],
)
def test_a_keyboard_interrupt_the_attempt_raises_says_so_and_where(tmp_path, source, line):
    """It read as a bare "KeyboardInterrupt:", as if Ctrl-C had been pressed: Ctrl-C at the
    terminal never reaches a check (a session of its own), it stops the check in the command
    (test_ctrl_c_during_a_check_stops_it_records_nothing_and_says_so)."""
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    assert outcome.status == "error" and seconds < LIMIT + SLACK
    assert outcome.message == (
        f"your attempt raised KeyboardInterrupt itself, at line {line} (in add_one): no "
        "Ctrl-C was pressed (a Ctrl-C stops the check, and is never its outcome)"
    )
    assert f'attempt.py", line {line}, in add_one' in outcome.traceback


def test_an_attempts_own_sigint_is_reported_where_the_command_ignores_sigint(tmp_path):
    """Started where SIGINT is ignored (a shell script's background job, nohup), the check
    inherited that: the attempt's own SIGINT did nothing, and it slept to its time limit."""
    import signal

    job = attempt_job(tmp_path, SENDS_ITSELF_SIGINT)
    script = (
        "import pickle, sys\n"
        "from studycli.check.runner import run_job\n"
        "print(run_job(pickle.loads(bytes.fromhex(sys.argv[1]))).message)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, __import__("pickle").dumps(job).hex()],
        capture_output=True, text=True, check=False, timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    assert "your attempt raised KeyboardInterrupt itself, at line 4" in done.stdout, done


CRASHES_IN_NATIVE_CODE = (
    "import ctypes\n\ndef add_one(x):\n    return ctypes.string_at(0)  # reads address 0\n"
)
RECURSES_PAST_THE_STACK = """
import functools, sys

sys.setrecursionlimit(10**6)

@functools.cache  # (C between the calls: each takes stack)
def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)

def add_one(x):
    return depth(10**6) - 10**6 + x + 1
"""


@pytest.mark.parametrize(
    "source, line",
    [(CRASHES_IN_NATIVE_CODE, 4), (RECURSES_PAST_THE_STACK, 8)],
    ids=["native", "recursion"],
)
def test_a_crash_says_which_signal_and_its_output_where_it_was(tmp_path, source, line):
    """A segfault said only "killed by signal 11 (out of memory, or a crash in native code)",
    with no word of where, and nothing of a stack overflow: a recursion under a raised
    sys.setrecursionlimit (through C: a cache's wrapper) is a learner's usual one. The dump
    faulthandler writes is kept to what tells the learner where it was."""
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    assert outcome.status == "error" and seconds < LIMIT + SLACK, outcome
    assert "signal 11 (SIGSEGV" in outcome.message and "recursion" in outcome.message, outcome
    assert outcome.output.count(f'attempt.py", line {line} in ') == 1, outcome.output
    # what helps the learner, without studycli's frames nor the extension modules loaded
    # (600 of the 2,000 characters kept), a recursion's frame said once
    noise = ("child.py", "fork_server.py", "zygote.py", "assertions/", '"<string>"')
    noise += ("Extension modules",)
    assert not [shown for shown in noise if shown in outcome.output], outcome.output
    if "depth" in source:
        assert "  [Previous line repeated " in outcome.output, outcome.output


RECURSES_THROUGH_TWO_FUNCTIONS = """
import ctypes

def even(n):
    return ctypes.string_at(0) if n == 0 else odd(n - 1)  # reads address 0 at the bottom

def odd(n):
    return even(n - 1)

def add_one(x):
    for i in range(30):
        print("step", i)
    return even(70)
"""


def test_a_crash_dump_too_long_to_show_whole_keeps_its_head_and_cuts_its_middle(tmp_path):
    """The tail of the output (2,000 bytes) was taken before the dump was tidied: a recursion
    through two functions (a frame for each call, none repeated twice in a row) left its outer
    frames, and lost "Fatal Python error" and the innermost frames, the learner's crash."""
    outcome, _ = run_timed(attempt_job(tmp_path, RECURSES_THROUGH_TWO_FUNCTIONS))
    shown = outcome.output
    assert outcome.status == "error" and "signal 11 (SIGSEGV" in outcome.message, outcome
    assert len(shown.encode()) <= OUTPUT_LIMIT, shown
    head = "Fatal Python error: Segmentation fault\n"
    assert head in shown, shown
    dump = shown[shown.index(head) :].splitlines()
    assert 'attempt.py", line 5 in even' in dump[4], dump  # the crash, under ctypes' frame
    [cut] = [line for line in dump if line.endswith(" lines not shown]")]
    assert cut.startswith("  [… ") and dump.index(cut) > 10, dump
    assert dump[-2].endswith('attempt.py", line 13 in add_one'), dump  # then the checker's
    # the steps printed before it: the last that fit, after how many did not
    first, *steps = shown[: shown.index(head)].splitlines()
    assert first == f"… {30 - len(steps)} earlier lines not shown", shown
    assert steps == [f"step {i}" for i in range(30 - len(steps), 30)]


def test_of_a_crash_dump_cut_the_lines_printed_before_it_are_counted_from_the_start():
    """The lines printed before the dump that are not shown are counted with those the tail
    read for it had left out already (its first line says how many)."""
    frames = "".join(f'  File "/a/attempt.py", line {i % 2 + 3} in f{i % 2}\n' for i in range(99))
    dump = (
        "… 500 earlier lines not shown\n"
        + "".join(f"printed {i}\n" for i in range(500, 520))
        + "Fatal Python error: Aborted\n\nCurrent thread 0x1 (most recent call first):\n"
        + frames
    )
    shown = crash_report._crash_dump("the tail", dump)
    first, *rest = shown[: shown.index("Fatal Python error: Aborted\n")].splitlines()
    # (the last printed lines that fit are shown, after how many of the 520 are not)
    assert first == f"… {520 - len(rest)} earlier lines not shown", shown
    assert rest == [f"printed {i}" for i in range(520 - len(rest), 520)], shown
    assert "  [… " in shown and len(shown.encode()) <= OUTPUT_LIMIT
    short = "… 500 earlier lines not shown\nprinted 500\nFatal Python error: Aborted\n"
    assert crash_report._crash_dump("the tail", short) == short  # (whole: as it came)
    assert crash_report._crash_dump("the tail", "no dump\n") == "the tail"  # (an exit: the tail)


KILLS_ONCE = """
import os, signal

killed = []

def add_one(x):
    if not killed:  # once: an orphan's parent is then whatever adopted it
        killed.append(True)
        {kill}
    return x + 1  # right: the check must still fail
"""


@pytest.mark.parametrize(
    "kill, words",
    [
        (KILLS_WORKER, "the worker that forked the check died before the check reported"),
        ("os.kill(os.getpid(), signal.SIGKILL)", "the process was killed by signal 9 (SIGKILL)"),
    ],
    ids=["its worker", "itself"],
)
def test_a_check_killed_by_a_process_fails_without_blaming_memory(tmp_path, kill, words):
    """A check whose worker was killed (by this test's process: a check kills no process
    outside its own where the kernel scopes its signals, `landlock`), or that killed itself,
    was said to have run out of memory (or crashed in native code), though no process ran out
    of memory. The next check runs in a new worker."""
    source = KILLS_ONCE.format(kill=kill) + PROC_PIDS + asks_from_outside(tmp_path / "asks")
    with signals_from_outside(tmp_path / "asks"):
        outcome, _ = run_timed(attempt_job(tmp_path, source))
    assert outcome.status == "error" and words in outcome.message, outcome
    assert "memory" in outcome.message and "out of memory" not in outcome.message
    assert run_job(REFERENCE).status == "pass"


KILLS_ITS_WORKER_AND_RUNS_ON = (
    """
import os, signal, time

def add_one(x):
    with open({pid_file!r}, "w") as file:
        file.write(str(proc_pid()))
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # its own time limit's alarm
    from_outside(proc_stat("ppid"), signal.SIGKILL)  # (its worker)
    end = time.monotonic() + 60  # (bounded, should the test fail)
    while time.monotonic() < end:
        pass
    return x + 1
"""
    + PROC_PIDS
)


def test_a_check_that_killed_its_worker_is_killed_too(tmp_path):
    """A check that killed the worker that forked it and ran on: the runner took the worker's
    end for the check's, killed nothing (a check it had seen end), waited 10 s for the check's
    session to go, and returned with the check still running, an orphan at full CPU that
    outlived `solve` (a hostile-attempt pass). (The worker is killed by this test's process,
    as the check asks: see `test_a_check_killed_by_a_process_fails_without_blaming_memory`.)"""
    pid_file = tmp_path / "pid"
    source = KILLS_ITS_WORKER_AND_RUNS_ON.format(pid_file=str(pid_file))
    job = attempt_job(tmp_path, source + asks_from_outside(tmp_path / "asks"))
    with signals_from_outside(tmp_path / "asks"):
        outcome, seconds = run_timed(job)
    assert outcome.status == "error" and "worker that forked the check died" in outcome.message
    assert seconds < 8, seconds  # (10 s more before)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and process_runs(pid):
        time.sleep(0.05)
    assert not process_runs(pid)
    assert run_job(REFERENCE).status == "pass"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: PR_SET_PDEATHSIG")
def test_a_check_dies_with_the_worker_that_forked_it(tmp_path):
    """A check that killed its worker ran on, a child of the worker's keeper then (`keeper`):
    one that killed its parent in a loop killed the keeper too, which then killed nothing the
    check left (its daemon outlived `solve` in 6 runs of 20 on the 2-core box)."""
    record = tmp_path / "signal"
    source = (
        "import ctypes\n\ndef add_one(x):\n    said = ctypes.c_int()\n"
        "    ctypes.CDLL(None).prctl(2, ctypes.byref(said), 0, 0, 0)  # PR_GET_PDEATHSIG\n"
        f"    open({str(record)!r}, 'w').write(str(said.value))\n    return x + 1\n"
    )
    assert run_job(attempt_job(tmp_path, source)).status == "pass"
    assert int(record.read_text()) == signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: a subreaper")
@pytest.mark.parametrize(
    "kill",
    [KILLS_WORKER, 'from_outside(-proc_stat("pgrp", proc_stat("ppid")), signal.SIGKILL)'],
    ids=["its worker", "its worker's process group"],
)
def test_a_daemon_left_by_a_check_that_killed_its_worker_is_killed(tmp_path, kill):
    """The worker is the subreaper of its checks, and kills what they leave; a check that
    killed it (or its process group) left a daemon (a double fork, setsid) to init, running on
    while the command went on (a review session) and after it ended. The next check runs in a
    new worker. (Killed by this test's process, as the check asks: see `KILLS_WORKER`.)"""
    argument = marker()
    try:
        source = DAEMON_THEN_KILLS_ITS_WORKER.format(marker=argument, kill=kill) + PROC_PIDS
        with signals_from_outside(tmp_path / "asks"):
            outcome = run_job(attempt_job(tmp_path, source + asks_from_outside(tmp_path / "asks")))
        assert "the worker that forked the check died" in outcome.message, outcome
        assert gone_within(argument, SLACK) == []
        assert run_job(REFERENCE).status == "pass"
    finally:
        gone_within(argument, 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: a subreaper")
def test_a_daemon_left_by_a_check_that_killed_its_worker_does_not_outlive_solve(tmp_path):
    """The same, through `studycli solve`: the daemon ran on after the command had ended."""
    argument = marker()
    attempt = tmp_path / "attempt.py"
    source = DAEMON_THEN_KILLS_ITS_WORKER.format(marker=argument, kill=KILLS_WORKER) + PROC_PIDS
    attempt.write_text(source + asks_from_outside(tmp_path / "asks"))
    command = [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "solve"]
    try:
        with signals_from_outside(tmp_path / "asks"):
            done = subprocess.run(
                [*command, "add-one", "--file", str(attempt), "--no-record"],
                capture_output=True,
                text=True,
                cwd=REPO_ROOT,
                env={**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")},
                timeout=60,
            )
        assert "the worker that forked the check died" in " ".join(done.stdout.split()), done
        assert gone_within(argument, 1.0) == []  # (a kill takes a moment to land)
    finally:
        gone_within(argument, 0)


def process_runs(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_crash_is_put_down_to_memory_where_the_system_killed_for_want_of_it(monkeypatch):
    """Where the kernel's out-of-memory killer killed a process while the check ran, or that
    cannot be told (no /proc/vmstat), a SIGKILL may have been for memory."""
    assert isinstance(crash_report._oom_kills(), int) or not os.path.exists("/proc/vmstat")
    monkeypatch.setattr(crash_report, "_oom_kills", lambda: 8)
    assert "not for want of memory" in crash_report._crash_message(-9, True, 8)
    assert crash_report._crash_message(-9, True, 7).endswith(
        "(out of memory, or killed by a process)"
    )
    assert crash_report._crash_message(None, True, 7).endswith(
        "(out of memory, or killed by a process)"
    )
    monkeypatch.setattr(crash_report, "_oom_kills", lambda: None)
    assert "(out of memory, or " in crash_report._crash_message(None, False, None)


STOPS = (
    "import os, signal\n\ndef add_one(x):\n"
    "    {stop}\n    return x + 1  # right: the check must still fail\n"
)


@pytest.mark.parametrize(
    "stop, says",
    [
        ('from_outside(proc_stat("ppid"), signal.SIGSTOP)', runner.STOPPED_WORKER),
        ("os.kill(os.getpid(), signal.SIGSTOP)", runner.STOPPED_ITSELF),
    ],
    ids=["its worker", "itself"],
)
def test_a_check_that_stops_its_worker_or_itself_is_told_so_at_once(tmp_path, stop, says):
    """A check that stopped the worker that forked it (SIGSTOP) took its limit and 10 s more
    (the runner waited on the stopped worker, for the check's end and at exit), and the next
    check waited for that worker to start it. Then it ran to its limit and read "did not
    finish: an infinite loop", which it was not: it is ended at the second look that sees the
    stop, and says what it stopped. (The worker is stopped by this test's process, as the
    check asks: a check signals no process outside its own where the kernel scopes its
    signals, `landlock`.)"""
    source = STOPS.format(stop=stop) + PROC_PIDS + asks_from_outside(tmp_path / "asks")
    with signals_from_outside(tmp_path / "asks"):
        outcome, seconds = run_timed(attempt_job(tmp_path, source, timeout=60))
    assert outcome.status == "error" and seconds < 3 * runner.STOPPED_LOOK + SLACK, (
        outcome,
        seconds,
    )
    assert outcome.message == says
    outcome, seconds = run_timed(REFERENCE)
    assert outcome.status == "pass" and seconds < 60


RAISES_OUT_OF_TIME = (
    "from studycli.assertions import OutOfTime\n\ndef add_one(x):\n    raise OutOfTime\n"
)


def test_an_out_of_time_the_attempt_raises_is_its_error_not_a_timeout(tmp_path):
    """The check's timer raises `OutOfTime` near the limit, to say where the check was; one the
    attempt raised at once read "did not finish in 2 s: an infinite loop"."""
    outcome, _ = run_timed(attempt_job(tmp_path, RAISES_OUT_OF_TIME, timeout=60))
    assert outcome.status == "error", outcome
    assert outcome.message.startswith(
        "your attempt raised OutOfTime itself, at line 4 (in add_one): the check's own signal"
    ), outcome


SETS_OFF_SIGALRM = (
    "import signal, time\n\ndef add_one(x):\n"
    "    signal.setitimer(signal.ITIMER_REAL, 0.2)\n    time.sleep(5)\n    return x + 1\n"
)


def test_a_sigalrm_the_attempt_sets_off_is_its_error_not_a_timeout(tmp_path):
    """The check's timer goes off on SIGALRM: the attempt's own (signal.alarm, setitimer), a
    fifth of a second in, read "did not finish in 2 s: an infinite loop"."""
    outcome, seconds = run_timed(attempt_job(tmp_path, SETS_OFF_SIGALRM))
    assert outcome.status == "error", outcome
    assert outcome.message.startswith(
        "your attempt set off SIGALRM 0.2 s into the check, at line 5 (in add_one), "
        "before its time limit (2 s)"
    ), outcome
    assert seconds < LIMIT  # (ended then, not at the limit)


RESETS_SIGALRM = (
    "import signal\n\ndef add_one(x):\n"
    "    signal.signal(signal.SIGALRM, signal.SIG_DFL)\n    while True:\n        pass\n"
)


def test_a_check_whose_sigalrm_handler_the_attempt_reset_is_said_ended_by_its_timer(tmp_path):
    """The timer's SIGALRM, with its handler reset, ends the process: it read "killed by
    signal 14 (out of memory, or a crash in native code)"."""
    outcome, _ = run_timed(attempt_job(tmp_path, RESETS_SIGALRM))
    assert outcome.status == "error", outcome
    assert outcome.message.startswith(
        "the process was killed by signal 14 (SIGALRM: the check's timer"
    ), outcome


RESETS_SIGALRM_AND_SETS_IT_OFF = (
    "import signal, time\n\ndef add_one(x):\n"
    "    signal.signal(signal.SIGALRM, signal.SIG_DFL)\n"
    "    signal.setitimer(signal.ITIMER_REAL, 0.2)\n    time.sleep(5)\n    return x + 1\n"
)


def test_a_check_ended_by_its_own_sigalrm_is_not_said_ended_by_the_timer_alone(tmp_path):
    """An attempt that reset SIGALRM's handler and set off an alarm of its own a fifth of a
    second in was said killed by "the check's timer, which goes off a little before its time
    limit": the alarm that ended it, its own, went unnamed."""
    outcome, seconds = run_timed(attempt_job(tmp_path, RESETS_SIGALRM_AND_SETS_IT_OFF))
    assert outcome.status == "error" and seconds < LIMIT, outcome
    assert outcome.message.startswith("the process was killed by signal 14 (SIGALRM:"), outcome
    assert "an alarm the code set itself (signal.alarm, signal.setitimer)" in outcome.message


STOPS_AFTER_ITS_REPORT = """
import os, signal

def add_one(x):
    zygote, me = os.getppid(), os.getpid()
    if os.fork() == 0:  # a process of its own session, which stops the worker once the check
        os.setsid()     # is gone (its report sent): before the worker has swept it, or not
        while os.getppid() == me:
            pass
        os.kill(zygote, signal.SIGSTOP)
        os._exit(0)
    return x + 1
"""


def run_bounded(job: Job, seconds: float) -> tuple[list[Outcome], float]:
    """Run `job` in a thread, waiting at most `seconds` for it: its outcome (none if it did not
    come in time) and how long it took."""
    import threading

    outcomes: list[Outcome] = []
    thread = threading.Thread(target=lambda: outcomes.append(run_job(job)), daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    return outcomes, time.monotonic() - started


def test_the_check_after_one_whose_process_stopped_the_worker_still_runs(tmp_path):
    """A process a check left stopped the worker (SIGSTOP) after the check had reported: the
    next check waited for that worker to start it, ten minutes (`WORKER_START_LIMIT`), and
    then failed ("the worker that runs checks did not start"). The stop is made by hand first,
    between two checks; then by such a check, whose process stops the worker at random times
    (after the check's report in 2 runs of 6 on the loaded box), where the kernel lets it: its
    process is in the check's Landlock domain, whose signals to the worker are refused where
    the kernel scopes them (`landlock`), and the stop by hand is what shows the recovery
    there. (Not sent for it by this test's process, `signals_from_outside`: a moment later, it
    stopped the worker in the next check, which was said to have stopped it.)"""
    assert run_job(REFERENCE).status == "pass"
    worker = pool._pool.worker(REFERENCE.device, REFERENCE.lazy, REFERENCE.torch)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        outcomes, seconds = run_bounded(REFERENCE, 60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)  # (where it is still stopped: the old way)
    assert outcomes and outcomes[0].status == "pass" and seconds < 30, (outcomes, seconds)
    outcome, _ = run_timed(attempt_job(tmp_path, STOPS_AFTER_ITS_REPORT))
    assert outcome.status == "pass" or outcome.message == runner.STOPPED_WORKER, outcome
    outcomes, seconds = run_bounded(REFERENCE, 60)
    assert outcomes and outcomes[0].status == "pass" and seconds < 30, (outcomes, seconds)


STUCK_IN_A_FORK_HOOK = """
import contextlib
import os

forks = []

def stuck():  # a library's hook that os.fork runs, where the check's time runs out
    if not forks:
        forks.append(1)
        while True:
            pass

os.register_at_fork(after_in_parent=stuck)

def add_one(x):
    if os.fork() == 0:
        os._exit(0)
    while True:
        pass
"""


def test_a_check_out_of_time_in_a_fork_hook_shows_no_studycli_frame(tmp_path):
    """Its stop came inside the hook, where Python prints an exception and goes on: the
    learner's output showed the traceback of the runner's own `stop`, and the check ran on to
    its limit unreported. It stops in the learner's code instead."""
    outcome, seconds = run_timed(attempt_job(tmp_path, STUCK_IN_A_FORK_HOOK))
    assert outcome.status == "timeout" and seconds < LOOPING + SLACK
    assert "OutOfTime" not in outcome.output, outcome
    assert "timer.py" not in outcome.output and "child.py" not in outcome.output, outcome
    assert outcome.message.startswith("add_one(-3): did not finish in 2 s"), outcome
    assert "in add_one" in outcome.traceback and "in stuck" not in outcome.traceback, outcome


WRITES_INTO_ITS_REPORT_PIPE = """
import os, pickle, struct

class Runs:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))

def add_one(x):
    report = pickle.dumps({report})
    data = b"\\x00\\x00\\x00\\x05hello" if {garbage} else struct.pack(">I", len(report)) + report
    for fd in range(3, 64):  # the report's pipe among them
        try:
            os.write(fd, data)
        except OSError:
            pass
    os._exit(0)
"""


RUNS_CODE = '{"status": "pass", "message": Runs(), "seconds": 0.0, "label": ""}'
UNHASHABLE_STATUS = '{"status": [], "message": "m", "seconds": 0.0}'
# (its pass read "passed every case in {seconds:.2f} s": OverflowError, a traceback of the command)
ENDLESS_SECONDS = '{"status": "pass", "message": "passed", "seconds": 10**400}'


@pytest.mark.parametrize(
    "report, garbage",
    [(RUNS_CODE, False), (RUNS_CODE, True), (UNHASHABLE_STATUS, False), (ENDLESS_SECONDS, False)],
    ids=["a pickle that runs code", "garbage", "a report of the wrong shape", "endless seconds"],
)
def test_what_a_check_writes_into_its_report_pipe_runs_nothing_and_fails_it(
    tmp_path, report, garbage
):
    """The command unpickled a check's report: an object's __reduce__ ran code in the command's
    own process (it could rate the card, or write the review database). Garbage there killed
    the thread that reads the worker's replies: the check timed out, and every check after it
    waited ten minutes for a worker that never answered."""
    marker = tmp_path / "ran"
    source = WRITES_INTO_ITS_REPORT_PIPE.format(marker=marker, garbage=garbage, report=report)
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    assert not marker.exists()
    assert outcome.status == "error" and "could not be read" in outcome.message, outcome
    assert seconds < LIMIT + SLACK
    assert run_job(REFERENCE).status == "pass"  # the worker still serves


# What the attacks below write with: `data` as a message (its length, then it) into each of
# the pipes and sockets of the check's worker that opens for writing, but those in `skip`.
# (Not its files: as root, a file the worker held opened for writing through /proc, and a run
# of these attacks on channels that were pipes again wrote its pickle over a module's source.)
INTO_ITS_WORKERS_DESCRIPTORS = """
import os, pickle, struct, time

def _into_worker(data, skip=frozenset()):
    stat = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
    worker = int(stat[1])  # (as /proc numbers it, in a PID namespace too)
    try:
        names = os.listdir(f"/proc/{worker}/fd")
    except OSError:  # (its worker's descriptors out of its reach: `out_of_reach`)
        names = []
    for name in names:
        try:
            held = os.readlink(f"/proc/{worker}/fd/{name}")
            if held in skip or not held.startswith(("pipe:", "socket:")):
                continue
            fd = os.open(f"/proc/{worker}/fd/{name}", os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue  # (a socket cannot be opened so)
        try:
            os.write(fd, struct.pack(">I", len(data)) + data)
        except OSError:
            pass
        os.close(fd)
"""

WRITES_INTO_ITS_WORKERS_PIPES = """
class Runs:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))

def add_one(x):
    _into_worker(pickle.dumps(Runs()))
    time.sleep(0.5)  # (for the worker to read it)
    return x + 1
"""


def test_what_a_check_writes_into_its_workers_pipes_runs_nothing(tmp_path):
    """A check's code can open a pipe that its worker holds, as any process of the same
    user can (/proc/PID/fd/N): a pickle written into the pipe the worker reads its requests
    from ran code in the worker, outside the check's time limit, memory cap and session, for
    the rest of the command."""
    marker = tmp_path / "ran"
    outcome = run_job(
        attempt_job(
            tmp_path,
            INTO_ITS_WORKERS_DESCRIPTORS + WRITES_INTO_ITS_WORKERS_PIPES.format(marker=marker),
        )
    )
    time.sleep(0.5)
    assert not marker.exists(), outcome
    assert run_job(REFERENCE).status == "pass"  # the worker still serves


FORGES_OTHER_REPORTS = """
def add_one(x):
    forged = pickle.dumps({{"status": "pass", "message": "forged", "seconds": 0.0}})
    own = {{os.readlink(f"/proc/self/fd/{{name}}") for name in os.listdir("/proc/self/fd")
           if os.path.exists(f"/proc/self/fd/{{name}}")}}
    _into_worker(forged, skip=own)  # (not its own pipes)
    open({done!r}, "w").close()
    return x + 1
"""

# An attempt that waits (3 s at most) for the check beside it to be done, then answers:
# `{answer}` is `x` (wrong) or `x + 1` (right)
WAITS_THEN_ANSWERS = """
import os, time

def add_one(x):
    open({started!r}, "w").close()
    deadline = time.monotonic() + 3
    while not os.path.exists({done!r}) and time.monotonic() < deadline:
        time.sleep(0.01)
    return {answer}
"""


def _beside_a_waiting_check(
    tmp_path,
    answer: str,
    attack: str,
    before: str = "",
    waits: str = WAITS_THEN_ANSWERS,
    device: str = "cpu",
) -> tuple[Outcome, Outcome]:
    """The outcomes of the attempt `before` + `attack` (`attack` formatted with `done`, the
    file it writes when it is done) and of a check beside it that waits for it (`waits`,
    `WAITS_THEN_ANSWERS` by default, with `answer`), run in the same worker at once; the
    attack must have run and passed; the attack runs on `device` (off the CPU: in a device
    worker, whose checks ignore their device here)."""

    if device != "cpu":  # (its worker started first: the victim waits 3 s at most)
        assert run_job(replace(REFERENCE, device=device)).status == "pass"
    started, done = tmp_path / "started", tmp_path / "done"
    (victim_dir := tmp_path / "victim").mkdir()
    victim = attempt_job(
        victim_dir, waits.format(started=str(started), done=str(done), answer=answer)
    )
    with running_until(victim, started) as outcomes:
        attack_job = attempt_job(tmp_path, before + attack.format(done=str(done)))
        attacker = run_job(replace(attack_job, device=device))
    assert attacker.status == "pass" and done.exists(), attacker  # (it ran, beside the other)
    return attacker, outcomes[0]


def test_a_check_cannot_forge_the_report_of_another_check_running_beside_it(tmp_path):
    """Another check's report pipe, held open by the worker that forks both, opens for
    writing through /proc/WORKER/fd/N (as any process of the same user can): a report written
    there before that check's own was taken for its outcome, plain data as it is (in `studycli
    check` a wrong answer could pass another card's wrong answer, or fail its reference)."""
    _, victim = _beside_a_waiting_check(
        tmp_path, "x", FORGES_OTHER_REPORTS, before=INTO_ITS_WORKERS_DESCRIPTORS
    )
    assert victim.status == "fail", victim


# (the end of each attack below: a line written into the descriptor `fd` opened for `target`,
# noted, and what it wrote into said in the file `done`)
WRITES_A_LINE_AND_SAYS = """        try:
            os.write(fd, b"INJECTED by another check\\n")
            written.append(target)
        except OSError:
            pass
        os.close(fd)
    with open({done!r}, "w") as done:
        done.write(repr(written))
    return x + 1
"""

INJECTS_INTO_OTHER_OUTPUTS = (
    """
import os

def add_one(x):
    worker = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[1])
    own = {{os.readlink(f"/proc/self/fd/{{fd}}") for fd in (1, 2)}}  # (its own output pipe)
    written = []
    try:
        names = [name for name in os.listdir(f"/proc/{{worker}}/fd") if int(name) > 2]
    except OSError:
        names = []
    for name in names:  # the output pipes of the checks beside it among them
        try:
            held = os.readlink(f"/proc/{{worker}}/fd/{{name}}")
            if not held.startswith("pipe:") or held in own:
                continue
            fd = os.open(f"/proc/{{worker}}/fd/{{name}}", os.O_WRONLY | os.O_NONBLOCK)
            target = held
        except OSError:
            continue
"""
    + WRITES_A_LINE_AND_SAYS
)


def test_a_check_cannot_write_into_the_output_of_another_check_running_beside_it(tmp_path):
    """Another check's output pipe, held open by the worker that forks both (a pipe: C code
    writes to fds 1 and 2, and the worker widens it), opens for writing through
    /proc/WORKER/fd/N: a line written there was that check's output, and in `studycli check`
    a correct answer's card failed for what it "printed"."""
    _, victim = _beside_a_waiting_check(tmp_path, "x + 1", INJECTS_INTO_OTHER_OUTPUTS)
    assert victim.status == "pass", victim
    written = (tmp_path / "done").read_text()
    assert "INJECTED" not in victim.output, (victim, written)
    assert written == "[]"


# An attempt that runs a program (a shell that waits, 3 s at most, for the check beside it to
# be done), then answers: the program has the check's output pipe as its fds 1 and 2, and is
# dumpable (an exec makes a process so), where the check's own process is not (`out_of_reach`)
RUNS_A_PROGRAM_THEN_ANSWERS = """
import os, subprocess

def add_one(x):
    open({started!r}, "w").close()
    waits = "i=0; while [ ! -e {done} ] && [ $i -lt 300 ]; do sleep 0.01; i=$((i+1)); done"
    subprocess.run(["sh", "-c", waits])
    return {answer}
"""

# An attempt that writes a line into the fd 1 of each process whose command line names `done`
# (the program the check beside it runs)
INJECTS_INTO_A_PROGRAM_S_OUTPUT = (
    """
import os

def add_one(x):
    written = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{{name}}/cmdline", "rb") as cmdline:
                if {done!r}.encode() not in cmdline.read():
                    continue
            fd = os.open(f"/proc/{{name}}/fd/1", os.O_WRONLY | os.O_NONBLOCK)
            target = name
        except (OSError, ValueError):
            continue
"""
    + WRITES_A_LINE_AND_SAYS
)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_a_check_cannot_write_into_the_output_of_a_program_another_check_runs(tmp_path, device):
    """A program a check runs has the check's output pipe as its fds 1 and 2, and an exec makes
    a process dumpable again (`out_of_reach`): another check of the same user opened them
    through /proc/PROGRAM/fd/1 (as root it could not: each check is a user of its own,
    `as_root`) and wrote a line into that check's output. Each check is in a Landlock domain
    of its own (`landlock`), whose processes no process outside it reaches. A device check,
    which its worker runs in itself, did so as root too (with the worker's capabilities),
    until each device worker was in a domain of its own."""
    _, victim = _beside_a_waiting_check(
        tmp_path,
        "x + 1",
        INJECTS_INTO_A_PROGRAM_S_OUTPUT,
        waits=RUNS_A_PROGRAM_THEN_ANSWERS,
        device=device,
    )
    written = (tmp_path / "done").read_text()
    assert victim.status == "pass", (victim, written)
    assert "INJECTED" not in victim.output, (victim, written)
    assert written == "[]"


# The end of an attempt that opens its worker's fds 1 and 2 for writing (the command's output,
# the learner's terminal; as the worker loads a module, that load's output, set aside), and
# records which it could
OPENS_FDS_1_AND_2 = """    opened = []
    for name in ("1", "2"):
        try:
            os.close(os.open(f"/proc/{{worker}}/fd/{{name}}", os.O_WRONLY | os.O_NONBLOCK))
            opened.append(name)
        except OSError:
            pass
    with open({record!r}, "w") as record:
        record.write(repr(opened))
    return x + 1
"""


OPENS_ITS_WORKERS_OUTPUT = (
    """
import os

def add_one(x):
    worker = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[1])
"""
    + OPENS_FDS_1_AND_2
)


def test_a_check_cannot_write_to_the_commands_output_through_its_worker(tmp_path):
    """The worker that forks the checks has the command's output as its fds 1 and 2: a check
    opened them through /proc/WORKER/fd/1 and wrote to the learner's terminal (or into the
    output of `check` piped to a file), past its own output, which the command keeps."""
    record = tmp_path / "opened"
    outcome = run_job(attempt_job(tmp_path, OPENS_ITS_WORKERS_OUTPUT.format(record=str(record))))
    assert outcome.status == "pass", outcome
    assert record.read_text() == "[]"


FORKS_AT_ITS_TOP = """
import os, time

if os.fork() == 0:  # (no exec: a copy of the worker, as it is while it loads)
    time.sleep(30)
    os._exit(0)
"""


@pytest.mark.usefixtures("fresh_pool")  # (its workers load this copy's modules)
def test_a_process_a_solution_module_forks_at_its_top_is_still_found(content_copy):
    """A worker whose descriptors are out of its checks' reach (`out_of_reach`: not dumpable)
    hides them from its own children too, and what a load left was found by its descriptors
    (`output_aside`): run as a user, a module that forked at its top passed its card, its
    process running on. The worker is in reach while it loads."""
    arith = content_copy / "solutions" / "arith.py"
    arith.write_text(FORKS_AT_ITS_TOP + arith.read_text())
    content = load_content(content_copy)
    [result] = run_checks([content.get("add-one")], content, jobs=1, timeout=20)
    assert result.status == "error", result.message
    assert "arith.py left 1 process running that it started" in result.message, result.message


OPENS_ITS_WORKER_AS_IT_LOADS = (
    """
import os, time

def add_one(x):
    if os.path.exists({record!r}):  # (the checker's later calls)
        return x + 1
    worker = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[1])
    open({started!r}, "w").close()
    deadline = time.monotonic() + 10
    while not os.path.exists({loading!r}) and time.monotonic() < deadline:
        time.sleep(0.01)
"""
    + OPENS_FDS_1_AND_2
)

LOADS_UNTIL_LOOKED_AT = """
import os, time

open({loading!r}, "w").close()
deadline = time.monotonic() + 10
while not os.path.exists({record!r}) and time.monotonic() < deadline:
    time.sleep(0.01)
"""


@pytest.mark.usefixtures("fresh_pool")  # (its worker loads this copy's modules)
def test_a_check_cannot_reach_its_worker_as_it_loads_more_modules(tmp_path):
    """A worker loads the solution modules of a later preload (a review session's next card)
    beside the checks running then; it was dumpable for the load (`out_of_reach.in_reach`), and
    a check running then (as a user) opened its fds 1 and 2 (['1', '2']: the load's output, set
    aside), as it could every descriptor it held (the command's output, the other checks')."""
    import shutil

    solutions = tmp_path / "solutions"
    shutil.copytree(FIXTURE_CONTENT / "solutions", solutions)
    started, loading, record = (str(tmp_path / name) for name in ("started", "loading", "record"))
    source = OPENS_ITS_WORKER_AS_IT_LOADS.format(started=started, loading=loading, record=record)
    job = replace(attempt_job(tmp_path, source), solutions_dir=str(solutions), timeout=20)
    pool.preload((), (str(solutions), ["arith"]))
    with running_until(job, started, 60) as outcomes:
        later = LOADS_UNTIL_LOOKED_AT.format(loading=loading, record=record)
        (solutions / "later.py").write_text(later)
        pool.preload((), (str(solutions), ["arith", "later"]))
    assert outcomes[0].status == "pass", outcomes[0]
    assert Path(record).read_text() == "[]"


READS_ITS_WORKERS_WAKEUPS = """
import os

def add_one(x):
    stat = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
    worker, held = int(stat[1]), {{}}
    try:
        for name in os.listdir(f"/proc/{{worker}}/fd"):
            if int(name) > 2:  # (a pipe held at two numbers: the worker's signal wake-up pipe)
                held.setdefault(os.readlink(f"/proc/{{worker}}/fd/{{name}}"), []).append(name)
    except OSError:  # (its worker's descriptors out of its reach: `out_of_reach`)
        held = {{}}
    wakeups = [names[0] for names in held.values() if len(names) > 1]
    stolen = []
    for name in wakeups:
        try:
            stolen.append(os.open(f"/proc/{{worker}}/fd/{{name}}", os.O_RDONLY))
        except OSError:  # (out of its reach: `out_of_reach`)
            pass
    open({stealing!r}, "w").close()
    while stolen:
        os.read(stolen[0], 4096)  # (until its time limit)
    return x + 1
"""


def test_a_check_cannot_keep_its_worker_from_seeing_other_checks_end(tmp_path):
    """The worker that forks the checks learns that one ended from the byte its SIGCHLD
    handler writes into a pipe (signal.set_wakeup_fd), which any process of the same user can
    open through /proc/WORKER/fd/N: a check that read the bytes first, while it ran, kept the
    worker from reaping the others, and one that ended without a report (os._exit) was taken
    for one still running, "did not finish" at its time limit."""
    import threading

    stealing = tmp_path / "stealing"
    thief = attempt_job(tmp_path, READS_ITS_WORKERS_WAKEUPS.format(stealing=str(stealing)), 8.0)
    waiting = threading.Thread(target=run_job, args=(thief,))
    waiting.start()
    deadline = time.monotonic() + 10
    while not stealing.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        (exits := tmp_path / "exits").mkdir()
        outcomes = [run_job(attempt_job(exits, UNDERSCORE_EXITS, 1.5)) for _ in range(5)]
    finally:
        waiting.join()
    assert stealing.exists()
    assert all(outcome.status == "error" for outcome in outcomes), outcomes


FLOODS_ITS_REPORT_PIPE = """
import os, struct

def add_one(x):
    pipes = [fd for fd in range(3, 64) if _is_pipe(fd)]  # the report's among them
    chunk, written = bytes(1 << 20), 0
    with open({record!r}, "a", buffering=1) as record:  # line by line: read after the kill
        record.write("0\\n")
        try:
            for fd in pipes:
                os.write(fd, struct.pack(">I", 0xFFFFFFF0))  # a report of 4 GB to come
                for _ in range(256):  # bounded: 256 MB
                    written += os.write(fd, chunk)
                    record.write(f"{{written}}\\n")
        except OSError:  # the pipe no longer read
            pass
    return x + 1

def _is_pipe(fd):
    try:
        return os.readlink(f"/proc/self/fd/{{fd}}").startswith(("pipe:", "socket:"))
    except OSError:
        return False
"""


def test_a_report_said_to_be_huge_is_read_no_further(tmp_path):
    """A header of its own in the report's pipe, announcing 4 GB, had the worker keep all that
    the check wrote there, outside the check's memory cap (1.7 GB in 5 s), until the check
    ended: then "exited with status 0 before reporting (a call to os._exit()?)"."""
    from studycli.check.limits import REPORT_LIMIT

    record = tmp_path / "written"
    source = FLOODS_ITS_REPORT_PIPE.format(record=str(record))
    outcome, seconds = run_timed(attempt_job(tmp_path, source, timeout=30))
    assert outcome.status == "error" and "could not be read" in outcome.message, outcome
    written = int(record.read_text().split()[-1])
    assert written <= REPORT_LIMIT + (1 << 20)  # (and what the pipe's buffer held)
    assert seconds < LIMIT + SLACK  # (not the time limit's 30 s)
    assert run_job(REFERENCE).status == "pass"  # the worker still serves


CLOSES_ITS_DESCRIPTORS = """
import os

def add_one(x):
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in range(3, 64):  # the report's pipe among them
        try:
            {what}
        except OSError:
            pass
    return x + 1
"""


@pytest.mark.parametrize(
    "what",
    [
        "os.close(fd)",
        "fd != null and os.dup2(null, fd)",
        "os.close(fd); os.open(os.devnull, os.O_WRONLY)",
    ],
    ids=["closed", "another file put in its place", "closed, its number taken again"],
)
def test_an_attempt_that_closes_or_replaces_the_report_descriptor_is_told_so(tmp_path, what):
    """It said "exited with status 1 before reporting (a call to os._exit()?)" (status 0
    where the report went into /dev/null instead), and the learner looked for an exit in
    their code."""
    outcome = run_job(attempt_job(tmp_path, CLOSES_ITS_DESCRIPTORS.format(what=what)))
    assert outcome.status == "error", outcome
    assert "closed or replaced the descriptor studycli reads" in outcome.message, outcome
    assert run_job(REFERENCE).status == "pass"  # the worker still serves


def test_a_check_writes_no_core_file(tmp_path):
    """Where the shell allows core files (`ulimit -c unlimited`), a check that crashed in C
    left one of 170 MB in the folder the command ran in."""
    source = (
        "import resource\n\ndef add_one(x):\n"
        "    assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0), 'core files allowed'\n"
        "    return x + 1\n"
    )
    outcome = run_job(attempt_job(tmp_path, source))
    assert outcome.status == "pass", outcome


@pytest.mark.parametrize(
    "report",
    [
        {"status": "pass", "message": "passed", "seconds": 0.1, "shown": "x"},  # a key more
        {"status": "passed", "message": "passed", "seconds": 0.1},
        {"status": "pass", "message": 3, "seconds": 0.1},
        {"status": "pass", "message": "passed"},  # no seconds
        {"status": "pass", "message": "passed", "seconds": "0.1"},
        ["pass", "passed", 0.1],
        {"status": [], "message": "m", "seconds": 0.0},  # (unhashable: it killed the reader)
        # (an int past a float's range: "passed every case in {seconds:.2f} s" raised
        # OverflowError in the command, which ended in a traceback)
        {"status": "pass", "message": "passed", "seconds": 10**400},
        {"status": "pass", "message": "passed", "seconds": float("nan")},
        {"status": "pass", "message": "passed", "seconds": float("inf")},
        {"status": "pass", "message": "passed", "seconds": -1.0},
        # (solve printed it raw: "the attempt defines no function \x1b]52;c;...", which set
        # the terminal's clipboard, then cleared the screen)
        {"status": "fail", "message": "m", "seconds": 0.1, "missing": "\x1b]52;c;SGk=\x07\x1b[2J"},
        {"status": "fail", "message": "m", "seconds": 0.1, "missing": "f [red]x[/red]"},
    ],
)
def test_a_report_that_is_not_one_is_an_error_of_its_check(report):
    """Each became a TypeError in the command (an Outcome cannot be made of it), or a status
    no outcome has."""
    import pickle

    from studycli.check.protocol import report_of

    assert report_of(pickle.dumps(report))["status"] == "error"
    whole = {"status": "fail", "message": "no", "seconds": 0.1, "traceback": "", "label": "x"}
    assert report_of(pickle.dumps(whole)) == whole


def test_a_report_of_megabytes_is_read_within_what_a_check_sends():
    """The code checked can write a report of its own into its pipe, of up to 16 MB: a message
    of 15 MB on one line took solve 104 s to draw (an output 150 s), under a time limit of 10 s,
    and sent 16 MB to the terminal. (A check's own report is cut so by the check.)"""
    import pickle

    from studycli.check.limits import MESSAGE_LIMIT
    from studycli.check.protocol import REPORT_TEXTS, report_of

    texts = {key: "x" * 5_000_000 for key in REPORT_TEXTS if key != "missing"}
    texts["output"] = "line\n" * 1_000_000 + "the last line"
    report = report_of(pickle.dumps({"status": "fail", "seconds": 0.1, **texts}))
    assert report["status"] == "fail"
    for key in texts.keys() - {"output"}:
        assert report[key] == "x" * MESSAGE_LIMIT, key
    assert len(report["output"]) <= OUTPUT_LIMIT + 100, len(report["output"])
    assert report["output"].endswith("line\nthe last line"), report["output"][-40:]
    assert output_tail.NOT_SHOWN.match(report["output"].splitlines()[0])


def test_a_reply_said_to_be_longer_than_any_a_worker_sends_is_not_read():
    """A check in a CUDA worker can write into the worker's replies: a header of its own there,
    announcing 4 GB, had the command keep all that came after it (as long as the check wrote),
    the worker's own replies too. The longest reply a worker sends is read; one said to be
    longer is garbage, read no further than its header."""
    import io
    import pickle

    from studycli.check.limits import REPLY_LIMIT
    from studycli.check.protocol import _HEADER, read_reply

    def framed(message: tuple) -> bytes:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        return _HEADER.pack(len(data)) + data

    longest = ("result", 1, bytes(REPLY_LIMIT - 64))
    assert read_reply(io.BytesIO(framed(longest))) == longest
    stream = io.BytesIO(framed(("result", 1, bytes(REPLY_LIMIT))))
    assert read_reply(stream) is None
    assert stream.tell() == _HEADER.size


NAMED_IN_9000_LINES = """
class Broken(Exception):
    pass

Broken.__name__ = "Broken\\n" * 9000

def add_one(x):
    raise Broken("x")
"""


def test_a_message_of_thousands_of_lines_is_cut_to_its_first_lines(tmp_path):
    """An exception class of the attempt's whose name ran 9,000 lines made a failure of as
    many ("add_one(-3): raised Broken", then "Broken" 8,999 times): the failing call scrolled
    far out of sight, and solve wrote 770 KB to the terminal."""
    import re

    from studycli.check.protocol import MESSAGE_LINES

    outcome = run_job(attempt_job(tmp_path, NAMED_IN_9000_LINES))
    assert outcome.status == "fail", outcome
    lines = outcome.message.splitlines()
    assert lines[0] == "add_one(-3): raised Broken", lines[:2]
    assert len(lines) == MESSAGE_LINES + 1, len(lines)
    assert re.fullmatch(r"… [\d,]+ more lines not shown", lines[-1]), lines[-1]


def test_an_attempt_without_the_cards_function_fails_naming_it(tmp_path):
    """A file whose function was renamed fails the check, saying which function it lacks
    (not an error of the runner's: "module 'studycli_attempt' has no attribute")."""
    outcome = run_job(attempt_job(tmp_path, "def add_two(x):\n    return x + 2\n"))
    assert outcome.status == "fail" and "defines no function 'add_one'" in outcome.message


def test_an_attempt_without_the_cards_function_names_the_ones_it_defines(tmp_path):
    """A typo in the name (`add_onee`), or the answer written under another card's function:
    the message named only the function missing, and the learner looked for a bug in its
    body. The file's own functions are named, those it imported are not."""
    code = (
        "from math import floor\n\ndef add_onee(x):\n    return x + 1\n\ndef _helper():\n    pass\n"
    )
    outcome = run_job(attempt_job(tmp_path, code))
    assert outcome.status == "fail"
    assert "defines no function 'add_one'" in outcome.message
    assert "add_onee" in outcome.message and "floor" not in outcome.message


def test_a_checkers_bare_assert_still_says_the_answer_was_rejected(tmp_path):
    """An AssertionError with no message (a checker's plain `assert`) fails the answer with
    a sentence, not an empty message."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "bare.py").write_text(
        "def f(x):\n    return x\n\n\ndef check_f(impl, device='cpu'):\n    assert impl(1) == 1\n"
    )
    (tmp_path / "attempt.py").write_text("def f(x):\n    return 0\n")
    candidate = Candidate("file", "f", path=str(tmp_path / "attempt.py"))
    outcome = run_job(Job(str(solutions), "bare", "check_f", candidate, timeout=LIMIT))
    assert (outcome.status, outcome.message) == ("fail", "the checker rejected the answer")


@pytest.mark.parametrize("answer_asserts", [True, False])
def test_an_assert_in_the_attempt_is_its_own_not_the_checkers_verdict(tmp_path, answer_asserts):
    """A checker that calls the answer without `call`: the learner's `assert` reached the
    runner as it was, its message ("f(1): expected 1, got 0") read as the checker's verdict,
    and the learner's words were shown as what the checker expected. The checker's own
    assert is still its verdict."""
    from studycli.check.failing_case import failing_case

    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "direct.py").write_text(
        "def f(x):\n    return x\n\n\n"
        "def check_f(impl, device='cpu'):\n"
        "    got = impl(1)\n"
        "    assert got == 1, f'f(1): expected 1, got {got}'\n"
    )
    body = "    assert x == 0, 'f(1): expected 1, got 0'\n" if answer_asserts else ""
    (tmp_path / "attempt.py").write_text(f"def f(x):\n{body}    return 0\n")
    candidate = Candidate("file", "f", path=str(tmp_path / "attempt.py"))
    outcome = run_job(Job(str(solutions), "direct", "check_f", candidate, timeout=LIMIT))
    assert outcome.status == "fail", outcome
    if answer_asserts:
        assert outcome.message == (
            "an assert in the answer failed, at line 2 (in f): f(1): expected 1, got 0"
        )
        assert failing_case(outcome.message) is None
        assert 'attempt.py", line 2, in f' in outcome.traceback
    else:
        assert outcome.message == "f(1): expected 1, got 0"
        assert failing_case(outcome.message) is not None


def test_a_huge_failure_message_is_cut_and_the_traceback_shows_the_innermost_frames(tmp_path):
    """An answer raising with a 100 kB message: the message kept is cut (it travels back
    through the report pipe and is drawn in the terminal). Its traceback, 12 frames deep,
    shows the last ones, down to the line that raised."""
    from studycli.assertions import MESSAGE_SHOWN

    source = (
        "def add_one(x, depth=0):\n"
        "    if depth < 10:\n"
        "        return add_one(x, depth + 1)\n"
        "    raise ValueError('x' * 100_000)\n"
    )
    outcome = run_job(attempt_job(tmp_path, source))
    assert outcome.status == "fail", outcome.message
    said = outcome.message.split("raised ValueError: ")[1]
    assert said == "x" * MESSAGE_SHOWN + f" … {100_000 - MESSAGE_SHOWN:,} more characters not shown"
    assert "line 4, in add_one\n    raise ValueError" in outcome.traceback


def test_torchs_allocator_failing_is_put_down_to_memory(tmp_path):
    """Torch's CPU allocator says "DefaultCPUAllocator: not enough memory", not MemoryError:
    it is said to be the check's memory limit."""
    allocator = RuntimeError(
        "[enforce fail at alloc_cpu.cpp:114] data. DefaultCPUAllocator: not enough memory: "
        "you tried to allocate 80000000000 bytes."
    )
    assert error_report._describe_error(allocator, attempt_job(tmp_path, "")).startswith(
        "ran out of memory (limit 1024 MB): RuntimeError: [enforce fail"
    )


def test_a_device_fault_in_a_failed_check_runs_it_once_more(monkeypatch):
    """CUDA's libraries failing to make a handle surfaces through `call` as the answer's
    failure ("raised RuntimeError: CUBLAS_STATUS_ALLOC_FAILED"), not only as an error: the
    check runs again, in a fresh worker, before that counts."""
    from studycli.check import runner

    outcomes = [
        Outcome("fail", "add_one(1): raised RuntimeError: CUBLAS_STATUS_ALLOC_FAILED", 0.1),
        Outcome("pass", "passed", 0.1),
    ]
    monkeypatch.setattr(runner, "_run_once", lambda job: outcomes.pop(0))
    cuda = Job(str(FIXTURE_CONTENT / "solutions"), "arith", "check_add_one",
               Candidate("reference", "add_one", "arith"), device="cuda")  # fmt: skip
    assert run_job(cuda).status == "pass" and outcomes == []


def test_a_memory_error_under_a_checkers_hint_is_said_to_be_the_limit(tmp_path):
    """`hinted` raises its failure from None, so the answer's MemoryError is only its context:
    the failure said "raised MemoryError: " and the hint, no word of the limit. The note goes
    on the failing case's line, above the hint."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "hint.py").write_text(
        "from studycli.assertions import assert_equal, call, hinted\n\n\n"
        "def f(x):\n    return x\n\n\n"
        "def check_f(impl, device='cpu'):\n"
        "    with hinted('keep it small'):\n"
        "        assert_equal(call(impl, 'f(1)', 1), 1, 'f(1)')\n"
    )
    (tmp_path / "attempt.py").write_text("def f(x):\n    return len(bytearray(50 * 1024**3))\n")
    candidate = Candidate("file", "f", path=str(tmp_path / "attempt.py"))
    job = Job(str(solutions), "hint", "check_f", candidate, timeout=LIMIT, memory_mb=1024)
    outcome = run_job(job)
    assert (outcome.status, outcome.message) == (
        "fail",
        "f(1): raised MemoryError: ran out of memory (the limit is 1024 MB)\n  hint: keep it small",
    )


def test_output_that_is_not_utf8_or_is_cut_inside_a_character_is_still_text():
    """What C code writes need not be UTF-8, and a cut by bytes can fall inside a character:
    either is shown with replacement characters, never a UnicodeDecodeError that loses the
    check's outcome."""
    assert _through_a_pipe([b"\xff\xfe ok\n"]) == "\ufffd\ufffd ok\n"
    cut = _through_a_pipe(["é".encode() * 5000 + b"x"])  # 10,001 bytes: the cut is mid-é
    assert cut == "… 8,001 earlier bytes not shown\n\ufffd" + "é" * 999 + "x"


def test_a_crash_dump_cut_fits_the_limit_whatever_its_lines_length():
    """The room left for the dump's end counted the line that says the middle is cut, but not
    the one that counts the printed lines not shown: with a checkout's long path in every
    frame (CI's), the output came to 2,006 bytes."""
    for folder in ("/a", "/tmp/ci-1796531182/main/tests/fixtures/content", "/" + "x" * 150):
        frames = "".join(
            f'  File "{folder}/attempt.py", line {i % 2 + 3} in f{i % 2}\n' for i in range(99)
        )
        for printed in range(0, 40, 3):
            dump = "".join(f"step {i}\n" for i in range(printed))
            dump += "Fatal Python error: Segmentation fault\n\nStack (most recent call first):\n"
            shown = crash_report._crash_dump("the tail", dump + frames)
            assert len(shown.encode()) <= OUTPUT_LIMIT, (folder, printed, shown)
            assert "Fatal Python error: Segmentation fault" in shown


# --- the cap on the size of a file a check writes (RLIMIT_FSIZE) -----------------------------

FILE_CAP_MB = 2  # the tests' cap: each writes a few MB, never the 1024 MB of the real one
WRITES_A_FILE = """
import signal

import numpy

def add_one(x):
    {before}
    with open({path!r}, "wb") as file:
        for _ in range(400):  # 25 MB at most: bounded, and past the cap of 2 MB
            {write}
    return x + 1
"""
WRITES = {
    "python": ("", 'file.write(b"x" * 65536)'),  # (Python ignores SIGXFSZ: EFBIG)
    "ignoring sigxfsz": (
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)",
        'file.write(b"x" * 65536)',
    ),
    "numpy": ("", "numpy.zeros(8192).tofile(file)"),  # (its error names no errno)
}


def file_job(tmp_path: Path, big: Path, how: str) -> Job:
    before, write = WRITES[how]
    source = WRITES_A_FILE.format(path=str(big), before=before or "pass", write=write)
    return replace(attempt_job(tmp_path, source), file_size_mb=FILE_CAP_MB)


@pytest.mark.parametrize("how", list(WRITES))
def test_an_attempt_writing_a_file_past_the_cap_stops_there_and_is_told_so(tmp_path, how):
    """Nothing limited what a check wrote to a file: an attempt that wrote one in a loop filled
    the disk within its time limit, and on a full disk the review database could not commit
    the rating. The write past the cap fails, and the outcome says so, whatever the code's
    error said of it (numpy's: "524288 requested and 131072 written")."""
    big = tmp_path / "big"
    outcome, seconds = run_timed(file_job(tmp_path, big, how))
    assert outcome.status == "error" and seconds < LIMIT + SLACK, outcome
    assert outcome.message.startswith(
        f"your attempt wrote a file past {FILE_CAP_MB} MB, the most a check may write to one "
        "file, at line 10 (in add_one): a loop that never stops writing? Write less"
    ), outcome.message
    assert "Then: add_one(-3): raised " in outcome.message, outcome.message
    assert big.stat().st_size == FILE_CAP_MB << 20


def test_an_attempt_that_lets_sigxfsz_end_it_is_told_it_wrote_past_the_cap(tmp_path):
    """Code that restores SIGXFSZ's default action (Python ignores it) is killed by it at the
    cap: that read "killed by signal 25 (out of memory, or a crash in native code)"."""
    big = tmp_path / "big"
    source = WRITES_A_FILE.format(
        path=str(big),
        before="signal.signal(signal.SIGXFSZ, signal.SIG_DFL)",
        write='file.write(b"x" * 65536)',
    )
    job = replace(attempt_job(tmp_path, source), file_size_mb=FILE_CAP_MB)
    outcome, seconds = run_timed(job)
    assert outcome.status == "error" and seconds < LIMIT + SLACK, outcome
    assert outcome.message.startswith(
        f"your attempt wrote a file past {FILE_CAP_MB} MB, the most a check may write to one "
        "file: a loop that never stops writing?"
    ), outcome.message
    assert "killed by signal 25 (SIGXFSZ)" in outcome.message, outcome.message
    assert big.stat().st_size == FILE_CAP_MB << 20


WITHIN_THE_FILE_CAP = """
import resource
import tempfile

def add_one(x):
    with tempfile.TemporaryFile() as file:  # 1 MB, under the cap
        file.write(b"y" * (1 << 20))
        file.seek(0)
        assert len(file.read()) == 1 << 20
    for line in range(40_000 if x == -3 else 0):  # 3.2 MB of output, past the cap: a pipe
        print(f"{{line:>79}}")  # is not held to it (printed in the checker's first call)
    assert resource.getrlimit(resource.RLIMIT_FSIZE) == ({cap}, {cap}), "no cap on files"
    return x + 1
"""


def test_a_check_that_writes_a_file_under_the_cap_and_prints_past_it_passes(tmp_path):
    """The cap holds the check's files, its hard limit too (or the check could lift it), and
    not its output: a pipe is no file."""
    source = WITHIN_THE_FILE_CAP.format(cap=FILE_CAP_MB << 20)
    job = replace(attempt_job(tmp_path, source), file_size_mb=FILE_CAP_MB)
    outcome = run_job(job)
    assert outcome.status == "pass", outcome
    kept = outcome.output.splitlines()
    assert kept[-1] == f"{39_999:>79}"  # the end of all 3.2 MB that it printed
    assert kept[0] == f"… {40_000 - len(kept) + 1:,} earlier lines not shown"


def test_the_cap_holds_each_check_not_its_worker_nor_the_command(tmp_path):
    """Set where the check's other limits are (`contain.enter`), in the check's own process:
    the worker that forks the checks, whose hard limits a check inherits and cannot raise (as
    root neither: it gave up CAP_SYS_RESOURCE), and the command, which writes the review
    database, its caches and attempt files, are never held to it."""
    import resource
    import sqlite3

    before = resource.getrlimit(resource.RLIMIT_FSIZE)
    capped = run_job(file_job(tmp_path, tmp_path / "big", "python"))
    assert f"wrote a file past {FILE_CAP_MB} MB" in capped.message, capped
    bigger = tmp_path / "bigger"
    after = run_job(replace(file_job(tmp_path, bigger, "python"), file_size_mb=32))
    assert after.status == "pass", after  # its 25 MB, under a cap of its own
    assert bigger.stat().st_size == 400 * 65536
    assert resource.getrlimit(resource.RLIMIT_FSIZE) == before
    with contextlib.closing(sqlite3.connect(tmp_path / "reviews.db")) as db, db:
        db.execute("CREATE TABLE review (blob BLOB)")  # the command's own writes, past 2 MB
        db.execute("INSERT INTO review VALUES (?)", (b"z" * (3 << 20),))
    assert (tmp_path / "reviews.db").stat().st_size > FILE_CAP_MB << 20


def test_sigxfsz_where_no_cap_of_studycli_holds_is_put_down_to_the_systems_limit():
    """A device worker's check is not held to the cap, but the command may be (`ulimit -f`):
    SIGXFSZ read "out of memory, or a crash in native code"."""
    said = crash_report._crash_message(-signal.SIGXFSZ, False, None)
    assert said == (
        f"the process was killed by signal {int(signal.SIGXFSZ)} (SIGXFSZ: a file written past "
        "the size that `ulimit -f` allows)"
    )


@pytest.mark.parametrize(
    "code, said",
    [
        ("'x' * 10_000_000", "the code called exit ('xxxxxxxxxxxx...xxxxxxxxxxxxx') instead"),
        ("Code()", "the code called exit (a Code) instead"),
        # (Python refuses the repr of an int past 4300 digits: it read "the code raised
        # SystemExit, which could not be described ... an exception class of its own ...")
        ("10 ** 5000", "the code called exit (an int too long to show) instead"),
    ],
    ids=["10 MB string", "repr raises", "an int of 5001 digits"],
)
def test_an_exit_code_is_shown_cut_short_and_never_by_its_own_repr(tmp_path, code, said):
    """sys.exit("x" * 10_000_000) filled the panel with 263 lines of its repr; an exit code
    whose __repr__ raised was said to be "an exception class of its own whose __cause__,
    __traceback__ or __class__ raises". A plain value is cut short, another named by its type
    (its repr is the code's own)."""
    source = (
        "import sys\n"
        "class Code:\n"
        "    def __repr__(self):\n"
        "        raise RuntimeError('no repr')\n"
        f"def add_one(x):\n    sys.exit({code})\n"
    )
    outcome = run_job(attempt_job(tmp_path, source))
    assert outcome.status == "error" and outcome.message.startswith(said), outcome.message
    assert len(outcome.message) < 200, outcome.message


STARTS_FIVE_THEN_LOOPS = """
import os, signal, time

def add_one(x):
    for _ in range(5):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    {stuck}
    while True:
        pass
"""


@pytest.mark.parametrize(
    "stuck",
    ["pass", "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})"],
    ids=["stopped by its own timer", "killed at the limit"],
)
def test_a_check_stopped_at_its_limit_says_how_many_processes_it_left_running(tmp_path, stuck):
    """A fork bomb that had not reached the process cap at the time limit (a busy machine's)
    was told "did not finish in 10 s: an infinite loop, or far too slow for the input
    sizes?", no word of the processes it had started. Stopped by its own timer (where Python
    runs) or killed at the limit (its timer's signal blocked, as C code that never lets Python
    run), the message says how many it left running."""
    source = STARTS_FIVE_THEN_LOOPS.format(stuck=stuck)
    outcome, seconds = run_timed(attempt_job(tmp_path, source))
    assert outcome.status == "timeout", outcome
    assert "did not finish in 2 s" in outcome.message
    assert "with 5 processes it started still running" in outcome.message, outcome.message
    assert seconds < LOOPING + SLACK
