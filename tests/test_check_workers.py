"""The warm workers that run checks (check/worker.py, the command's handle, and the worker
process: check/zygote.py, fork_server.py and device_worker.py, through runner.run_job): each CPU
check in a child of its own, forked from one long-lived worker that can import more while it
runs; device workers that keep running checks themselves and are replaced when they die or
leak."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from studycli.check import lazy_imports, left_threads, output_tail, pool, runner
from studycli.check.runner import Candidate, Job, run_job

from .check_support import PROC_PIDS, close_pool

# Whether a check maps torch's package (HEAVY, named so in PLAIN): a check is a fork of its
# worker, whose maps are its own to read (as a user, a worker is not dumpable: `out_of_reach`).
# (No word here names it: PLAIN's module never does.)
MAPS_HEAVY = """

def maps_heavy():
    \"\"\"Whether this process maps the package HEAVY, its folder: where its libraries lie.
    (The package's name alone is also in other paths, such as a GPU host's environment's,
    where every library lies.)\"\"\"
    import importlib.util

    spec = importlib.util.find_spec(HEAVY)
    folder = spec.submodule_search_locations[0] + "/"
    with open("/proc/self/maps") as maps:
        return folder in maps.read()
"""

WORKER = (
    '''
import os
import sys


def pid(x):
    """Return x."""
    return x


def check_pid(impl, device="cpu"):
    print("pid", proc_pid())
    assert impl(1) == 1


def check_connections(impl, device="cpu"):
    print("connections", os.environ.get("CUDA_DEVICE_MAX_CONNECTIONS", "0"))


def check_parent(impl, device="cpu"):
    import time

    print("parent", proc_stat("ppid"))
    time.sleep(0.5)


def check_module_loaded(impl, device="cpu"):
    print("pid", proc_pid())
    assert "wave" in sys.modules, "wave is not imported here"


def check_loaded_slowly(impl, device="cpu"):
    import time

    print("pid", proc_pid())
    assert "wave" in sys.modules, "wave is not imported here"
    time.sleep(1.5)


def check_threads(impl, device="cpu"):
    import torch

    print("threads", torch.get_num_threads())


def check_cuda_hidden(impl, device="cpu"):
    import torch

    print("visible", repr(os.environ.get("CUDA_VISIBLE_DEVICES")))
    value = torch.ones(2, requires_grad=True)
    (value * 3).sum().backward()
    assert value.grad.tolist() == [3.0, 3.0]


def check_die(impl, device="cpu"):
    os._exit(3)


def check_counted(impl, device="cpu"):
    """Fails as its module's `FAULT` says (a device fault, or a wrong answer), `FAULTS` times."""
    from pathlib import Path

    runs = Path(__file__).with_name("runs.txt")
    count = len(runs.read_text()) if runs.exists() else 0
    runs.write_text("x" * (count + 1))
    if count < FAULTS:
        raise RuntimeError(FAULT) if FAULT.startswith("CUDA") else AssertionError(FAULT)


FAULT, FAULTS = "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`", 1


def check_writes(impl, device="cpu"):
    """Writes 3 MB to a file beside this module, and says its process's cap on a file."""
    import resource
    from pathlib import Path

    print("cap", resource.getrlimit(resource.RLIMIT_FSIZE)[0])
    Path(__file__).with_name("written").write_bytes(b"x" * (3 << 20))


def check_heavy_mapped(impl, device="cpu"):
    print("parent", proc_stat("ppid"))
    print("heavy_mapped", int(maps_heavy()))


def check_leak(impl, device="cpu"):
    import builtins

    builtins.__dict__.setdefault("_studycli_test_leak", []).append(bytearray(300 * 2**20))
    print("pid", proc_pid())


HEAVY = "torch"
'''
    + PROC_PIDS
    + MAPS_HEAVY
)  # (pids as /proc numbers them: a check's are its namespace's as root)

PLAIN = (
    """
import os
import sys

LOADED_IN = int(os.readlink("/proc/self"))  # (as /proc numbers it)
HEAVY = "to" + "rch"  # (spelled so that this module never names it)


def same(x):
    return x


def check_plain(impl, device="cpu"):
    print("loaded_in", LOADED_IN)
    print("heavy_mapped", int(maps_heavy()))
    assert HEAVY not in sys.modules, "it is imported here"
    assert "studycli_solutions.worker" not in sys.modules, "a module that names it is loaded"
"""
    + MAPS_HEAVY
)


@pytest.fixture
def solutions(tmp_path):
    folder = tmp_path / "solutions"
    folder.mkdir()
    (folder / "worker.py").write_text(WORKER)
    return folder


def job(folder, check: str, **options) -> Job:
    return Job(str(folder), "worker", check, Candidate("reference", "pid", "worker"), **options)


def printed(outcome, word: str) -> int:
    return int(
        next(line.split()[1] for line in outcome.output.splitlines() if line.startswith(word))
    )


def test_each_cpu_check_runs_in_a_child_of_its_own_forked_from_one_worker(solutions):
    first, second = run_job(job(solutions, "check_pid")), run_job(job(solutions, "check_pid"))
    assert first.status == second.status == "pass", (first, second)
    server = pool._pool.zygotes["light"].pid
    assert len({printed(first, "pid"), printed(second, "pid"), server, os.getpid()}) == 4


def test_many_checks_at_once_fork_from_several_zygotes(solutions, fresh_pool):
    """With `jobs` checks at a time, the CPU's checks fork from `light_zygotes(jobs)` zygotes,
    new interpreters, each given the next check while it runs the fewest."""
    pool.warm_up("cpu", 2 * pool.CHECKS_PER_ZYGOTE)
    assert sorted(fresh_pool.zygotes) == ["light", "light 2"]
    for worker in fresh_pool.zygotes.values():
        assert worker.ready.wait(runner.WORKER_START_LIMIT)
    # started one after another, as `run_job` does, without waiting for them to end
    running = [fresh_pool.worker("cpu").submit(job(solutions, "check_parent")) for _ in range(4)]
    for check in running:
        assert check.wait(30) and check.result["status"] == "pass", check.result
    parents = [int(check.output.split()[1]) for check in running]
    pids = {worker.pid for worker in fresh_pool.zygotes.values()}
    assert sorted(parents.count(pid) for pid in pids) == [2, 2]
    assert [pool.light_zygotes(jobs) for jobs in (1, 2, 7, 8, 16, 64)] == [1, 1, 1, 2, 4, 4]


def test_a_check_that_imports_more_forks_from_a_worker_of_its_own(solutions, fresh_pool):
    """A checker that imports something on first use (`Job.lazy`) runs in a child of a worker
    that imported it; the other checks fork from one that did not. That worker is forked from
    the other, torch already imported, and ends when told to."""
    plain = run_job(job(solutions, "check_module_loaded"))
    assert plain.status == "fail"  # `wave` is not imported where the plain checks fork
    heavy = run_job(job(solutions, "check_module_loaded", lazy=("wave",)))
    assert heavy.status == "pass", heavy.message
    assert set(fresh_pool.zygotes) == {"light", "heavy"} and fresh_pool.lazy["heavy"] == ("wave",)
    assert run_job(job(solutions, "check_module_loaded")).status == "fail"
    light, forked = fresh_pool.zygotes["light"], fresh_pool.zygotes["heavy"]
    assert forked.process is None and _parent(forked.pid) == light.pid
    mapped = run_job(job(solutions, "check_heavy_mapped", lazy=("wave",)))
    assert printed(mapped, "parent") == forked.pid, mapped  # (a fork of it: its maps)
    assert printed(mapped, "heavy_mapped") == 1  # inherited, not imported again
    close_pool(fresh_pool)
    assert forked.dead  # its server ended (its end of the pipe closed) when told to


def test_a_check_that_imports_more_runs_where_the_zygote_to_fork_its_worker_is_stopped(
    solutions, fresh_pool
):
    """The light zygote, which forks the heavy one, stopped (SIGSTOP, as what a check left
    running can) before the heavy one was asked for: the heavy one was never forked, and its
    check waited ten minutes (`WORKER_START_LIMIT`) for it, since only a worker that had said
    its pid was looked at. The stopped zygote is killed, and the check runs in a new one."""
    import signal

    outcomes: list = []
    try:
        assert run_job(job(solutions, "check_module_loaded")).status == "fail"  # (light)
        light = fresh_pool.zygotes["light"]
        os.kill(light.pid, signal.SIGSTOP)
        heavy = job(solutions, "check_module_loaded", lazy=("wave",))
        thread = threading.Thread(target=lambda: outcomes.append(run_job(heavy)), daemon=True)
        started = time.monotonic()
        thread.start()
        thread.join(60)
        seconds = time.monotonic() - started
    finally:
        light.process.kill()  # (where it is still stopped: the old way)
    assert outcomes and outcomes[0].status == "pass" and seconds < 30, (outcomes, seconds)


def test_a_worker_a_tracer_stops_is_not_taken_for_one_a_check_stopped(solutions):
    """While a check waits for its worker to start it, a worker found stopped twice is killed
    (`runner._wait_started`); py-spy, sampling a worker, stops it (a tracer's stop) many times
    a second, and a profiled worker was killed so. Only a signal's stop counts there."""
    import ctypes
    import signal

    from studycli.check.worker import _stopped

    if os.geteuid() != 0:  # (run as a user, a worker is not dumpable: `out_of_reach`)
        pytest.skip("root only: as a user, no tracer attaches to a worker (PTRACE_ATTACH: EPERM)")
    assert run_job(job(solutions, "check_pid")).status == "pass"
    worker = pool._pool.zygotes["light"]
    libc = ctypes.CDLL(None, use_errno=True)
    traced = libc.ptrace(16, worker.pid, None, None)  # PTRACE_ATTACH: it stops, traced
    assert traced == 0, os.strerror(ctypes.get_errno())
    try:
        deadline = time.monotonic() + 10
        while not _stopped(worker.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _stopped(worker.pid) and not worker.stopped()
    finally:
        libc.ptrace(17, worker.pid, None, None)  # PTRACE_DETACH
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 10
        while not worker.stopped() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker.stopped()
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    assert run_job(job(solutions, "check_pid")).status == "pass"


def test_a_stopped_worker_is_closed_at_once(solutions, fresh_pool):
    """A worker stopped (SIGSTOP, by what a check left running) never read that it was let
    go: closing it, as the command does at exit, waited 5 s before it killed it."""
    import signal

    assert run_job(job(solutions, "check_pid")).status == "pass"
    light = fresh_pool.zygotes["light"]
    os.kill(light.pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while not light.stopped() and time.monotonic() < deadline:
        time.sleep(0.01)  # (a signal is taken when its process next runs)
    started = time.monotonic()
    light.close()
    seconds = time.monotonic() - started
    assert light.process.returncode == -signal.SIGKILL and seconds < 2, seconds


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: a worker's keeper")
def test_a_worker_whose_keeper_is_stopped_is_closed_at_once(solutions, fresh_pool):
    """A check can stop its worker's keeper too (SIGSTOP: the parent of the process that forked
    it): the keeper, its server gone, never ended, and the command waited 5 s for it as it
    exited (`solve` of an attempt that stopped it: 6.2 s, against 1.1 s)."""
    import signal

    from studycli.check.worker import _stopped

    assert run_job(job(solutions, "check_pid")).status == "pass"
    light = fresh_pool.zygotes["light"]
    keeper = light.process.pid
    assert keeper != light.pid
    os.kill(keeper, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while not _stopped(keeper) and time.monotonic() < deadline:
        time.sleep(0.01)  # (a signal is taken when its process next runs)
    started = time.monotonic()
    light.close()
    seconds = time.monotonic() - started
    assert light.process.returncode == 0 and seconds < 2, (light.process.returncode, seconds)


def test_ctrl_c_before_the_worker_is_ready_returns_at_once(
    solutions, tmp_path, monkeypatch, fresh_pool
):
    """A check stopped (Ctrl-C: `kill_all`) before its worker had started it waited for the
    worker to start it, only to kill it, up to 5 s: the first seconds of a command are its
    zygote's imports (torch's 2-5 s on the loaded box), and Ctrl-C then took seconds. The
    worker here imports a module that takes 30 s, so that it is surely not ready."""
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(30)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    outcomes: list = []
    try:
        pool.preload(["slow_to_import"], device="cpu")
        thread = threading.Thread(
            target=lambda: outcomes.append(run_job(job(solutions, "check_pid"))), daemon=True
        )
        thread.start()
        while not fresh_pool.zygotes or not runner._LIVE:
            time.sleep(0.01)  # its worker is starting, and the check sent to it
        started = time.monotonic()
        runner.kill_all()
        thread.join(30)
        seconds = time.monotonic() - started
        assert not fresh_pool.zygotes["light"].ready.is_set()
    finally:
        runner.clear_stop()
    assert outcomes and outcomes[0].status == "error" and seconds < 1.0, (outcomes, seconds)


def test_a_check_that_does_not_use_torch_forks_from_a_zygote_without_it(solutions, fresh_pool):
    """`Job.torch` false: the check forks from a zygote that never imports torch, nor loads
    the solution modules that name it (it loads the others, as the light one does)."""
    (solutions / "plain.py").write_text(PLAIN)
    pool.preload([], solutions=(str(solutions), ["plain", "worker"]))
    pool.warm_up("cpu", 1, torchless=())
    plain = Job(
        str(solutions), "plain", "check_plain", Candidate("reference", "same", "plain"),
        torch=False,
    )  # fmt: skip
    outcome = run_job(plain)
    assert outcome.status == "pass", outcome.message
    assert printed(outcome, "loaded_in") == fresh_pool.zygotes["torchless"].pid
    assert printed(outcome, "heavy_mapped") == 0  # (its check's, a fork of it)
    outcome = run_job(replace(plain, torch=True))
    assert outcome.status == "fail" and "it is imported here" in outcome.message


def test_lazy_modules_leave_out_packages_that_are_not_installed(monkeypatch):
    """A package a pattern names may be missing (sympy, for forward-mode autograd, comes with
    torch, not with this project): its checks then fork from a worker that did not import it
    (ready sooner). scipy is no such package: the assignment card's checker refuses it with a
    stand-in (`without_package`) and never imports it, so its checks import nothing for it,
    installed or not (scipy.optimize was imported for each, 0.3-0.4 s, on a GPU host)."""
    jvp = "torch.func.jvp(f, (x,), (v,))"
    hungarian = "import numpy as np\n...\n    from scipy.optimize import linear_sum_assignment\n"
    installed = {"torch": True, "numpy": True, "sympy": False, "scipy": True}
    monkeypatch.setattr(lazy_imports, "_installed", lambda module: installed[module.split(".")[0]])
    assert lazy_imports.lazy_modules([jvp]) == []
    assert lazy_imports.lazy_modules([jvp, "torch.optim.AdamW(params)"]) == [
        "torch._dynamo",
        "torch.profiler",
    ]
    installed["sympy"] = True
    assert lazy_imports.lazy_modules([jvp]) == ["sympy"]
    # torch.testing.assert_close imports sympy on its first call (an answer's own check)
    assert lazy_imports.lazy_modules(["torch.testing.assert_close(got, want)"]) == ["sympy"]
    assert lazy_imports.lazy_modules([hungarian]) == []
    # a message that names scipy is no use of it (poisson's: "lgamma(0) is inf in numpy,
    # scipy and torch")
    assert lazy_imports.lazy_modules(['NOTE = "lgamma(0) is inf in numpy, scipy and torch"']) == []


# What a checker's source may do, and whether that imports torch._dynamo on first use in a
# check's worker (`lazy_dynamo` installed)
USES = {
    "p = torch.zeros(2, requires_grad=True)\no = torch.optim.AdamW([p])\n"
    "p.sum().backward()\no.step()": True,
    "from torch.optim import SGD\np = torch.zeros(2, requires_grad=True)\n"
    "o = SGD([p], lr=0.1)\np.sum().backward()\no.step()": True,
    "from torch.optim import adamw\n"
    "z = torch.zeros(2)\n"
    "adamw.adamw([z.clone()], [z + 1], [z.clone()], [z.clone()], [], [torch.tensor(0.0)],"
    " amsgrad=False, beta1=0.9, beta2=0.99, lr=0.1, weight_decay=0.1, eps=1e-8, maximize=False)": (
        False
    ),
    "torch.func.grad(lambda x: (x * x).sum())(torch.ones(2))": True,
    "x = torch.ones(2, dtype=torch.float64)\ntorch.func.jvp(lambda x: (2 * x).sum(), (x,), (x,))": False,
    "import torch.autograd.forward_ad as fwAD\nx = torch.ones(2, dtype=torch.float64)\n"
    "with fwAD.dual_level():\n    fwAD.unpack_dual((2 * fwAD.make_dual(x, x)).sum())": False,
    "torch.compile(lambda x: x + 1, backend='eager')(torch.ones(2))": True,
    "torch.sin(torch.ones(2)).sum()": False,
    "# the same numbers as torch.optim.AdamW": False,
}


def test_a_comment_naming_a_lazy_module_is_no_use_of_it():
    """kernel_logreg's checker said in a comment that torch.func would answer the card, and all
    32 checks of the module waited for a worker with torch._dynamo imported."""
    assert lazy_imports.lazy_modules(["# torch.func.grad would answer it\nx = 1\n"]) == []
    assert lazy_imports.lazy_modules(["y = 2  # see torch.compile\n"]) == []
    pytest.importorskip("torch")
    assert lazy_imports.lazy_modules(["g = torch.func.grad(f)  # by autograd\n"]) == [
        "torch._dynamo"
    ]


def test_lazy_modules_say_what_imports_torch_dynamo_on_first_use():
    """`lazy_modules` tells what compiles from what does not, as the torch installed here
    does in a check's worker: each use runs in a child of an interpreter with torch imported
    as a worker imports it (`lazy_dynamo` first), which says whether torch._dynamo got
    imported. A child says so, and ends, as soon as an import of it (or of a module in it)
    begins (the interpreter's "import" audit event): the import itself took 1.4 s of CPU
    (5 s on the busy box) in each of the five that import it, most of the test's time."""
    import subprocess
    import sys

    probe = (
        "import os, sys\n"
        "from studycli.check import lazy_dynamo\n"
        "assert lazy_dynamo.install()\n"
        "import torch\n"
        "def said(flag, write):\n"
        "    os.write(write, flag)\n"
        "    os._exit(0)\n"
        "def told(write):\n"
        "    def hook(event, args):\n"
        "        if event == 'import' and (args[0] + '.').startswith('torch._dynamo.'):\n"
        "            said(b'1', write)\n"
        "    return hook\n"
        "for use in sys.argv[1:]:\n"
        "    read, write = os.pipe()\n"
        "    if os.fork() == 0:\n"
        "        sys.addaudithook(told(write))\n"
        "        exec(use)\n"
        "        said(b'1' if 'torch._dynamo' in sys.modules else b'0', write)\n"
        "    os.close(write)\n"
        "    print(os.read(read, 1).decode(), flush=True)\n"
        "    os.wait()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *USES], capture_output=True, text=True, check=True
    ).stdout.split()
    imported = dict(zip(USES, (flag == "1" for flag in out)))
    assert imported == USES  # the torch installed here does as USES says
    for use, imports in USES.items():
        assert ("torch._dynamo" in lazy_imports.lazy_modules([use])) == imports, use


def test_installed_finds_a_package_without_importing_it():
    import sys

    assert "pydoc_data" not in sys.modules  # (the standard library's, never imported here)
    assert lazy_imports._installed("pydoc_data.topics") and not lazy_imports._installed(
        "no_such_package.x"
    )
    assert "pydoc_data" not in sys.modules


def test_a_spawn_whose_pipes_never_come_does_not_hold_the_worker(solutions, fresh_pool):
    """A zygote told to fork a server reads its pipes from the channel next; when they never
    come (the command failed between the two), it gives up and goes on forking checks."""
    from studycli.check import protocol

    assert run_job(job(solutions, "check_pid")).status == "pass"
    light = fresh_pool.zygotes["light"]
    with light._sending:  # the message, and no pipes after it
        protocol.write_message(light._requests, ("spawn", light._config((), None)))
    started = time.monotonic()
    outcome = run_job(job(solutions, "check_pid"))
    assert outcome.status == "pass", outcome.message
    assert time.monotonic() - started < 30


def test_device_checks_that_import_more_run_in_device_workers_that_imported_it(
    solutions, fresh_pool
):
    """On CUDA, as on the CPU, the checks with a `Job.lazy` run where it is imported (heavy
    device workers), the others wherever: an idle light worker imports it before such a
    check, rather than a new interpreter being started for it. (These checkers ignore their
    device: no GPU needed.)"""
    plain = run_job(job(solutions, "check_module_loaded", device="cuda"))
    assert plain.status == "fail"  # no `wave` in a light worker
    heavy = run_job(job(solutions, "check_module_loaded", device="cuda", lazy=("wave",)))
    assert heavy.status == "pass", heavy.message
    assert printed(heavy, "pid") == printed(plain, "pid")
    assert list(fresh_pool.kinds.values()) == ["heavy"] and not fresh_pool.zygotes


def test_a_heavy_device_check_waits_for_a_heavy_worker_once_there_are_enough(
    solutions, monkeypatch, fresh_pool
):
    """With `HEAVY_DEVICE_WORKERS` heavy workers busy, a check with a `Job.lazy` waits for
    one of them (their checks are short) instead of an idle light worker importing it too."""
    monkeypatch.setattr(pool, "HEAVY_DEVICE_WORKERS", 1)
    pool.warm_up("cuda", 2, device_lazy=("wave",))
    assert sorted(fresh_pool.kinds.values()) == ["heavy", "light"]
    slow = job(solutions, "check_loaded_slowly", device="cuda", lazy=("wave",))
    with ThreadPoolExecutor(2) as executor:
        first = executor.submit(run_job, slow)
        time.sleep(0.5)  # the first holds the heavy worker (the light one stays idle)
        second = executor.submit(run_job, slow)
        outcomes = [first.result(), second.result()]
    assert [o.status for o in outcomes] == ["pass", "pass"], outcomes
    assert printed(outcomes[0], "pid") == printed(outcomes[1], "pid")
    assert sorted(fresh_pool.kinds.values()) == ["heavy", "light"]


def test_a_device_worker_makes_its_cuda_context_through_the_driver(monkeypatch):
    """While its torch imports: the primary context of device 0, the one torch then uses."""
    import ctypes

    from studycli.check import device_worker

    calls = []

    class Driver:
        def __getattr__(self, name):
            return lambda *args: calls.append(name) or 0

    monkeypatch.setattr(ctypes, "CDLL", lambda name: calls.append(name) or Driver())
    device_worker._make_cuda_context().join(10)
    assert calls == ["libcuda.so.1", "cuInit", "cuDeviceGet", "cuDevicePrimaryCtxRetain"]


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_the_cpus_checks_do_not_see_the_machines_gpus(solutions):
    """A CPU check that differentiates made autograd ask CUDA for its devices, initialising
    the driver in every forked check on a machine with a GPU (0.1-0.3 s each, and an "out of
    memory" warning under the check's memory cap): the CPU's workers hide the GPUs."""
    outcome = run_job(job(solutions, "check_cuda_hidden"))
    assert outcome.status == "pass", outcome.message
    assert "visible ''" in outcome.output


def test_a_running_worker_imports_what_is_preloaded_later(solutions):
    run_job(job(solutions, "check_pid"))  # the worker runs
    pool.preload(["wave"])
    outcome = run_job(job(solutions, "check_module_loaded"))
    assert outcome.status == "pass", outcome.message


def test_checks_keep_to_their_share_of_threads(solutions):
    assert printed(run_job(job(solutions, "check_threads", threads=1)), "threads") == 1
    assert printed(run_job(job(solutions, "check_threads", threads=2)), "threads") == 2


def test_a_solution_module_edited_while_the_worker_runs_is_loaded_again(solutions):
    pool.preload([], solutions=(str(solutions), ["worker"]))
    assert run_job(job(solutions, "check_pid")).status == "pass"
    module = solutions / "worker.py"
    module.write_text(WORKER.replace("assert impl(1) == 1", "assert impl(1) == 2, 'edited'"))
    outcome = run_job(job(solutions, "check_pid"))
    assert outcome.status == "fail" and "edited" in outcome.message


def test_an_attempt_saved_twice_within_a_second_is_checked_as_last_saved(tmp_path):
    """A cached .pyc would look fresh: same size, same mtime (to the second)."""
    from .conftest import FIXTURE_CONTENT

    attempt = tmp_path / "attempt.py"
    attempt.write_text("def add_one(x):\n    return x + 2\n")
    stamp = attempt.stat().st_mtime_ns
    check = Job(
        str(FIXTURE_CONTENT / "solutions"),
        "arith",
        "check_add_one",
        Candidate("file", "add_one", path=str(attempt)),
    )
    assert run_job(check).status == "fail"
    attempt.write_text("def add_one(x):\n    return x + 1\n")  # the same size
    os.utime(attempt, ns=(stamp, stamp))
    assert run_job(check).status == "pass"


def test_a_device_worker_keeps_running_checks_and_a_dead_one_is_replaced(solutions):
    """Off the CPU (CUDA: initialised once per worker) a worker runs the checks itself. These
    checkers ignore their device, so this runs without a GPU."""
    first = run_job(job(solutions, "check_pid", device="cuda"))
    second = run_job(job(solutions, "check_pid", device="cuda"))
    assert printed(first, "pid") == printed(second, "pid") != os.getpid()
    died = run_job(job(solutions, "check_die", device="cuda"))
    assert died.status == "error" and "exited with status 3" in died.message, died
    after = run_job(job(solutions, "check_pid", device="cuda"))
    assert after.status == "pass" and printed(after, "pid") != printed(first, "pid")


def test_a_device_workers_checks_are_not_held_to_the_cap_on_a_files_size(solutions):
    """A CPU check is held to it in its own process (`contain.enter`); a device worker runs
    its checks in itself, not contained, and a cap there would hold the worker and all its
    later checks (which could not raise it again)."""
    import resource

    on_cpu = run_job(job(solutions, "check_writes", file_size_mb=2))
    assert on_cpu.status == "error" and "wrote a file past 2 MB" in on_cpu.message, on_cpu
    on_device = run_job(job(solutions, "check_writes", device="cuda", file_size_mb=2))
    assert on_device.status == "pass", on_device
    assert printed(on_device, "cap") == resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    assert (solutions / "written").stat().st_size == 3 << 20


@pytest.mark.parametrize(
    ("fault", "faults", "runs", "status"),
    [
        (
            "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
            1,
            2,
            "pass",
        ),
        ("CUDA error: an illegal memory access was encountered", 5, 2, "error"),
        ("the answer is off by one", 1, 1, "fail"),  # the answer's own failure: not again
    ],
)
def test_a_device_check_that_meets_a_fault_of_the_device_runs_once_more(
    solutions, fault, faults, runs, status
):
    module = solutions / "worker.py"
    module.write_text(
        module.read_text().replace("FAULT, FAULTS =", f"FAULT, FAULTS = {fault!r}, {faults}  #")
    )
    outcome = run_job(job(solutions, "check_counted", device="cuda"))
    assert outcome.status == status, outcome.message
    assert len((solutions / "runs.txt").read_text()) == runs


def test_a_device_worker_that_leaks_memory_is_replaced(solutions, monkeypatch):
    monkeypatch.setattr(pool, "HOST_LEAK_MB", 100)
    first = run_job(job(solutions, "check_pid", device="cuda"))
    leaked = run_job(job(solutions, "check_leak", device="cuda"))
    assert printed(leaked, "pid") == printed(first, "pid")
    after = run_job(job(solutions, "check_pid", device="cuda"))
    assert printed(after, "pid") != printed(first, "pid")


def test_a_device_check_past_its_time_limit_takes_its_worker_with_it(solutions):
    hang = WORKER + "\n\ndef check_hang(impl, device='cpu'):\n    while True:\n        pass\n"
    (solutions / "worker.py").write_text(hang)
    first = run_job(job(solutions, "check_pid", device="cuda"))
    started = time.monotonic()
    outcome = run_job(job(solutions, "check_hang", device="cuda", timeout=2.0))
    assert outcome.status == "timeout" and time.monotonic() - started < 10
    after = run_job(job(solutions, "check_pid", device="cuda"))
    assert after.status == "pass" and printed(after, "pid") != printed(first, "pid")


def test_a_checks_time_limit_counts_from_its_start_not_from_its_workers(fresh_pool):
    """A check sent to a worker still importing torch waits for it; its limit starts when it
    runs (a cold start takes longer than this limit)."""
    from .conftest import FIXTURE_CONTENT

    quick = Job(
        str(FIXTURE_CONTENT / "solutions"),
        "arith",
        "check_add_one",
        Candidate("reference", "add_one", "arith"),
        timeout=0.5,
    )
    assert run_job(quick).status == "pass"


def test_more_device_workers_run_side_by_side_under_mps(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_MPS_PIPE_DIRECTORY", str(tmp_path))  # as mps.private_daemon sets
    assert pool.device_workers(16) == pool.DEVICE_WORKERS
    (tmp_path / "control").touch()  # the pipe MPS's control daemon listens on
    assert pool.device_workers(16) == 12 > pool.DEVICE_WORKERS  # (a share of the jobs)
    assert pool.device_workers(3) == 2  # and the CPU's checks keep one
    assert pool.device_workers(1) == 1


def test_at_exit_every_worker_is_told_to_end_before_any_is_waited_for(monkeypatch):
    """So that they exit side by side: a CUDA worker's exit took a second, and a command whose
    output is piped waits for all of them."""
    from studycli.check import worker

    calls = []

    class Fake:
        def __init__(self, name, device="cpu"):
            self.name, self.device = name, device

        def let_go(self):
            calls.append(("let go", self.name))

        def close(self):
            calls.append(("reap", self.name))

    monkeypatch.setattr(worker, "_WORKERS", [Fake("a"), Fake("b"), Fake("c", "cuda")])
    worker._close_all()
    assert calls[:3] == [("let go", "a"), ("let go", "b"), ("let go", "c")]
    # the CUDA worker is left to exit on its own (its context's teardown is slow)
    assert {name for what, name in calls[3:] if what == "reap"} == {"a", "b"}


def test_a_worker_still_starting_is_killed_when_closed_and_a_ready_one_ends_itself(
    tmp_path, monkeypatch
):
    """A worker still importing runs nothing: closing it waited for its imports to end
    (torch's 1-2 s), which a `check` that failed to parse or named no card paid as it
    exited, once its first worker started before the command line was parsed."""
    import signal

    from studycli.check.worker import Worker

    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(1)\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # the server starts with this sys.path
    starting = Worker(("slow_to_import",))
    starting.close()
    assert starting.process.returncode == -signal.SIGKILL
    ready = Worker(torch=False)
    assert ready.ready.wait(30)
    ready.close()
    assert ready.process.returncode == 0


def test_a_zygote_asked_for_one_of_its_own_forks_it_once_it_has_imported_torch(
    tmp_path, monkeypatch
):
    """Not once it is ready: the heavy zygote (torch._dynamo) then imported what it imports
    after the light one had loaded every solution module, and its one check of the shipped
    cards ended the run on the 16-core host, 0.7 s after every other check."""
    from studycli.check.worker import Worker

    (tmp_path / "slow_import.py").write_text("import time\ntime.sleep(1)\n")  # (the ask comes)
    for name in ("slow_a", "slow_b"):  # what the light one does after its imports: 3 s
        (tmp_path / f"{name}.py").write_text("import time\ntime.sleep(1.5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    light = Worker(("slow_import",), (str(tmp_path), ("slow_a", "slow_b")))
    heavy = Worker(("wave",), None, parent=light)
    try:
        assert heavy.ready.wait(60)
        assert not light.ready.is_set()
        assert light.ready.wait(60)
    finally:
        heavy.close()
        light.close()


def test_modules_preloaded_for_one_device_go_to_its_workers_only():
    sent = []

    class Fake:
        dead = False

        def __init__(self, device):
            self.device = device

        def preload(self, modules, solutions):
            sent.append((self.device, modules, solutions))

    workers = pool._Pool()
    workers.zygotes, workers.idle = {"light": Fake("cpu")}, [Fake("cuda"), Fake("cuda")]
    workers.preload(("torch._dynamo",), ("solutions", ["adamw"]), "cuda")
    assert sent == [
        (d, m, ("solutions", ("adamw",)))
        for d, m in [("cpu", ()), ("cuda", ("torch._dynamo",)), ("cuda", ("torch._dynamo",))]
    ]
    sent.clear()
    workers.preload(("torch._dynamo", "torch.profiler"), None, None)  # every worker
    assert sent == [
        ("cpu", ("torch._dynamo", "torch.profiler"), None),
        *[("cuda", ("torch.profiler",), None)] * 2,
    ]
    assert workers.modules == {
        "cpu": ("torch._dynamo", "torch.profiler"),
        "device": ("torch._dynamo", "torch.profiler"),
    }


def test_a_run_on_cuda_makes_some_device_workers_heavy_once_it_knows(monkeypatch):
    """The command starts its device workers before it has read the cards, all light; once it
    knows that some checks on the device import more, a few of them (`HEAVY_DEVICE_WORKERS`,
    at most half, and no more than there are such checks) import it too."""
    started = []

    class Pool:
        def worker(self, device, lazy=()):
            started.append(("zygote", lazy))

        def start(self, device, count):
            started.append((device, count))

        def make_heavy(self, count, lazy):
            started.append(("heavy", count, lazy))

    monkeypatch.setattr(pool, "_pool", Pool())
    monkeypatch.setattr(pool, "device_workers", lambda jobs: jobs // 2)
    pool.warm_up("cuda", 16)
    assert started == [("zygote", ()), ("cuda", 8)]
    started.clear()
    pool.warm_up("cuda", 16, device_lazy=("torch._dynamo",))
    assert started[1:] == [("cuda", 8), ("heavy", pool.HEAVY_DEVICE_WORKERS, ("torch._dynamo",))]
    started.clear()
    pool.warm_up("cuda", 16, device_lazy=("torch._dynamo",), heavy=1)  # one check needs it
    assert started[1:] == [("cuda", 8), ("heavy", 1, ("torch._dynamo",))]
    started.clear()
    pool.warm_up("cuda", 2, device_lazy=("torch._dynamo",))
    assert started[1:] == [("cuda", 1), ("heavy", 0, ("torch._dynamo",))]


def test_a_thread_gets_the_idle_device_worker_it_ran_its_last_check_in():
    class Fake:
        dead = False

    workers = pool._Pool()
    mine, other = Fake(), Fake()
    workers.idle, workers.kinds = [mine, other], {id(mine): "light", id(other): "light"}
    workers.last[threading.get_ident()] = mine
    assert workers._idle_device_worker("light", ()) is mine
    assert workers._idle_device_worker("light", ()) is other  # the only one left


def test_a_cpu_check_is_ready_once_a_zygote_it_forks_from_is():
    """`pool.ready`: whether a check would start at once. A check on the CPU forks from a
    light zygote (any of them), one with a `Job.lazy` from the heavy one; none started yet
    counts as ready (waiting would start none), and a device's checks always are."""

    class Fake:
        def __init__(self) -> None:
            self.ready, self.dead = threading.Event(), False

    workers = pool._Pool()
    lazy = ("torch._dynamo",)
    assert workers.ready("cpu", ()) and workers.ready("cpu", lazy)
    workers.light_count, workers.zygotes = 2, {"light": Fake(), "light 2": Fake(), "heavy": Fake()}
    assert not workers.ready("cpu", ()) and not workers.ready("cpu", lazy)
    assert workers.ready("cuda", lazy)
    workers.zygotes["light 2"].ready.set()
    assert workers.ready("cpu", ()) and not workers.ready("cpu", lazy)
    workers.zygotes["heavy"].ready.set()
    assert workers.ready("cpu", lazy)
    assert workers.ready("cpu", (), torch=False)  # none started
    workers.zygotes["torchless"] = Fake()
    assert not workers.ready("cpu", (), torch=False) and not workers.ready("cpu", lazy, torch=False)
    workers.zygotes["torchless"].ready.set()
    assert workers.ready("cpu", lazy, torch=False)


def test_a_device_worker_sets_aside_what_a_check_left_before_the_next_check(tmp_path):
    """Each check in a CUDA worker is followed by a collection (its memory reported, garbage
    gone). What the checks left behind (modules imported on first use, their caches) was
    looked at again by every later collection: 13 ms a check on the H200 host, 18-27 ms on
    the 2-core box. A worker without fork on the CPU runs its checks the same way."""
    source = (
        "import gc\n"
        "KEPT = []\n"
        "def answer():\n"
        "    pass\n"
        "def leave_objects(impl, device='cpu'):\n"
        "    KEPT.extend([] for _ in range(50_000))\n"
        "def count_tracked(impl, device='cpu'):\n"
        "    raise AssertionError(f'tracked {len(gc.get_objects())}')\n"
    )
    checks = _references_in_a_device_worker(
        tmp_path, "keeper", source, ("leave_objects", "count_tracked")
    )
    assert checks[0]["status"] == "pass"
    assert checks[1]["status"] == "fail"
    tracked = int(checks[1]["message"].split()[-1])
    assert tracked < 50_000  # not the lists kept by the check before


def test_a_device_worker_frees_the_attempt_a_later_check_loaded_anew(tmp_path):
    """`solve --watch --device cuda` checks the learner's file in one worker at each save,
    loading it anew (`loading._load_attempt`): the module it replaces is garbage in cycles (its
    functions hold its namespace), among what the worker set aside after the check before
    (`gc.freeze`), which no collection looks at. Every version of the file, with what its top
    level made (a tensor on the device), was kept for the worker's life."""
    from studycli.check.worker import Worker

    (tmp_path / "keeper.py").write_text(
        "import weakref\n"
        "SEEN = []\n"
        "def answer():\n"
        "    pass\n"
        "def remember(impl, device='cpu'):\n"
        "    SEEN.append(weakref.ref(impl))\n"
        "def report(impl, device='cpu'):\n"
        "    raise AssertionError(f'first attempt freed: {SEEN[0]() is None}')\n"
    )
    attempt = tmp_path / "attempt.py"
    folder = str(tmp_path)
    worker = Worker((), (folder, ("keeper",)), fork=False)
    try:
        checks = []
        for version, checker in enumerate(("remember", "remember", "report")):
            attempt.write_text(
                f"# version {version}\nDATA = list(range(1000))\ndef answer():\n    pass\n"
            )
            job = Job(folder, "keeper", checker, Candidate("file", "answer", path=str(attempt)))
            checks.append(worker.submit(job))
            assert checks[-1].wait(120)  # (the first waits for torch's import)
        assert [check.result["status"] for check in checks] == ["pass", "pass", "fail"]
        assert checks[2].result["message"].endswith("first attempt freed: True")
    finally:
        worker.close()


WRITES_TO_ITS_DESCRIPTORS = (
    "import os\n"
    "os.write(1, b'written to fd 1 at import\\n')\n"
    "os.write(2, b'written to fd 2 at import\\n')\n"
    "def answer():\n"
    "    pass\n"
)
CHECKS_ANSWER = "def check(impl, device='cpu'):\n    impl()\n"
CHECKS_ADD_ONE = "def check(impl, device='cpu'):\n    assert impl(1) == 2\n"


@pytest.mark.parametrize("writer", ["reference", "attempt"])
def test_a_device_worker_keeps_what_a_module_writes_to_its_descriptors_as_it_loads(
    tmp_path, capfd, writer
):
    """A device worker runs its checks in itself, where only Python's streams were captured: a
    solution module (one that prints at its top is imported by each check) or a learner's
    attempt that wrote to fd 1 or 2 at its top (`os.write`, a C extension's printf) wrote to
    the command's output, and the check's output had nothing (the reference's card passed on
    CUDA, where the CPU's checks fail it for printing). Each check's output has the lines."""
    from studycli.check.worker import Worker

    module = WRITES_TO_ITS_DESCRIPTORS if writer == "reference" else "def answer():\n    pass\n"
    (tmp_path / "writer.py").write_text(module + CHECKS_ANSWER)
    attempt = tmp_path / "attempt.py"
    attempt.write_text(WRITES_TO_ITS_DESCRIPTORS)
    candidate = (
        Candidate("reference", "answer", "writer")
        if writer == "reference"
        else Candidate("file", "answer", path=str(attempt))
    )
    folder = str(tmp_path)
    worker = Worker((), (folder, ("writer",)), fork=False)
    try:
        outputs = []
        for _ in range(2):
            running = worker.submit(Job(folder, "writer", "check", candidate))
            assert running.wait(120)  # (the first waits for torch's import)
            outputs.append(running.result.get("output", ""))
    finally:
        worker.close()
    written = "written to fd 1 at import\nwritten to fd 2 at import\n"
    assert outputs == [written, written], outputs
    out, err = capfd.readouterr()
    assert "at import" not in out + err, (out, err)


def test_a_device_worker_kills_a_process_an_attempt_left_running_as_it_loaded(tmp_path, capfd):
    """A process the learner's attempt started at its top in a device worker (no check of its
    own there to kill with its session) had the worker's output, the command's, as its own,
    and ran on after the worker ended. It is killed, and the check's output says so."""
    from studycli.check.worker import Worker

    from .check_support import gone_within, marker

    argument = marker()
    (tmp_path / "quiet.py").write_text("def answer():\n    pass\n" + CHECKS_ANSWER)
    attempt = tmp_path / "attempt.py"
    attempt.write_text(
        "import subprocess\n"
        f"subprocess.Popen(['sh', '-c', 'echo from the process; exec sleep {argument}'])\n"
        "def answer():\n"
        "    pass\n"
    )
    folder = str(tmp_path)
    worker = Worker((), (folder, ("quiet",)), fork=False)
    try:
        job = Job(folder, "quiet", "check", Candidate("file", "answer", path=str(attempt)))
        running = worker.submit(job)
        assert running.wait(120)  # (it waits for torch's import)
        assert gone_within(argument, 1.0) == []
    finally:
        worker.close()
        gone_within(argument, 0)
    output = running.result.get("output", "")
    assert "[studycli killed 1 process left running: " in output, output
    assert f"sleep {argument}" in output or "sh -c" in output, output
    out, err = capfd.readouterr()
    assert "from the process" not in out + err, (out, err)


WRITES_AS_IT_RUNS = (
    "import os\n"
    "def answer():\n"
    "    os.write(1, b'written to fd 1 as it ran\\n')\n"
    "    os.write(2, b'written to fd 2 as it ran\\n')\n"
)


def test_a_device_worker_keeps_what_a_check_writes_to_its_descriptors_as_it_runs(tmp_path, capfd):
    """Fds 1 and 2 were set aside in a device worker while the check's modules loaded only: what
    the check wrote there as it ran (a C extension's printf, `os.write`) went to the command's
    output, and the check's had nothing (the CPU's check has it in its output). It has it."""
    [result] = _references_in_a_device_worker(tmp_path, "writer", WRITES_AS_IT_RUNS + CHECKS_ANSWER)
    output = result.get("output", "")
    assert output == "written to fd 1 as it ran\nwritten to fd 2 as it ran\n", output
    out, err = capfd.readouterr()
    assert "as it ran" not in out + err, (out, err)


def test_a_device_workers_check_may_write_more_than_a_pipes_64_kb_to_its_descriptors(tmp_path):
    """The pipe a device worker's check writes fds 1 and 2 into (read once the check ends) held
    64 kB: a check that wrote 180 kB there with `os.write` met EAGAIN (BlockingIOError), an
    error of the check that no CPU check meets (its pipe is read as it runs). It is widened
    (1 MB)."""
    source = (
        "import os\ndef answer():\n    for _ in range(3):\n"
        "        os.write(1, b'x' * 60_000 + b'\\n')\n" + CHECKS_ANSWER
    )
    [result] = _references_in_a_device_worker(tmp_path, "big", source)
    assert result["status"] == "pass", result
    assert "x" * 1000 in result.get("output", ""), result  # (its tail kept)


# An answer that prints 4 MB, through Python's streams and straight to fds 1 and 2 in turn
PRINTS_MEGABYTES = (
    "import os, sys\n"
    "def answer():\n"
    "    line = 'x' * 100\n"
    "    for number in range(20_000):\n"
    "        print(number, line)\n"
    "        os.write(2, f'{number} {line}\\n'.encode())\n"
    "    print('the end', file=sys.stderr)\n" + CHECKS_ANSWER
)


def test_a_device_workers_check_may_print_any_amount_and_keeps_the_cpus_tail(tmp_path, monkeypatch):
    """The pipe a device worker's check writes into was read once the check ended: past its
    1 MB, an `os.write` there met EAGAIN (an error of the check that no CPU check meets) and
    what came after was lost. It is read as the check runs: a check may print 4 MB, and what
    is kept is the tail the CPU's check keeps, its lines in the order written. (The checker
    ignores its device: no GPU needed.)"""
    on_device, on_cpu = _reference_on_device_and_cpu(tmp_path, monkeypatch, PRINTS_MEGABYTES)
    assert on_cpu.status == "pass", on_cpu
    assert on_device.status == "pass", on_device
    assert on_device.output == on_cpu.output, (on_device.output, on_cpu.output)
    assert on_cpu.output.endswith("19999 " + "x" * 100 + "\nthe end\n"), on_cpu.output


# An answer that writes into its device worker's replies (its checks run in the worker itself:
# the descriptor is the worker's second argument) a reply of its own, `reply`, for each of the
# first checks' numbers, then does `then`
WRITES_INTO_ITS_WORKERS_REPLIES = """
import os, pickle, struct, sys

def answer():
    replies = int(sys.argv[2])
    for number in range(1, 4):
        data = pickle.dumps({reply})
        os.write(replies, struct.pack(">I", len(data)) + data)
    {then}
"""


def _in_a_device_worker_after_one(tmp_path: Path, source: str, wait: float):
    """The Running of a check of `source`'s reference `answer`, run in a device worker after a
    first check there (which waits for torch's import), given `wait` seconds to end."""
    from studycli.check.worker import Worker

    (tmp_path / "writer.py").write_text(source + CHECKS_ANSWER)
    (tmp_path / "quiet.py").write_text("def answer():\n    pass\n" + CHECKS_ANSWER)
    folder = str(tmp_path)
    worker = Worker((), (folder, ("quiet", "writer")), fork=False)
    try:
        first = worker.submit(
            Job(folder, "quiet", "check", Candidate("reference", "answer", "quiet"))
        )
        assert first.wait(120) and first.result["status"] == "pass", first.result
        running = worker.submit(
            Job(folder, "writer", "check", Candidate("reference", "answer", "writer"))
        )
        started = time.monotonic()
        ended = running.wait(wait)
        return running, ended, time.monotonic() - started
    finally:
        worker.close()


def test_a_device_workers_check_cannot_have_the_command_keep_an_output_of_megabytes(tmp_path):
    """A device worker's check can send the command a reply of its own: one that said it ended
    with an output and a crash dump of 5 MB each had the command keep both whole (a CPU
    check's are its last 2,000 and 64 KB bytes, cut by its fork server): the tail of an output
    a fork server sends, as a report's is (`protocol.tail_within`)."""
    from studycli.check.limits import DUMP_LIMIT, OUTPUT_LIMIT

    reply = '("exited", number, 0, "line\\n" * 1_000_000 + "last", "y" * 5_000_000)'
    source = WRITES_INTO_ITS_WORKERS_REPLIES.format(reply=reply, then="return None")
    running, ended, _ = _in_a_device_worker_after_one(tmp_path, source, 60)
    assert ended and running.result is None and running.exitcode == 0
    assert len(running.output) <= OUTPUT_LIMIT + 100, len(running.output)
    assert running.output.endswith("line\nlast"), running.output[-40:]
    assert output_tail.NOT_SHOWN.match(running.output.splitlines()[0]), running.output[:80]
    assert len(running.dump) <= DUMP_LIMIT + 100, len(running.dump)


def test_a_device_workers_check_cannot_have_the_command_read_a_reply_of_gigabytes(tmp_path):
    """A device worker's check can write a header of its own into the worker's replies: one
    announcing 4 GB had the command read all that came after it (here 64 MB; as long as the
    check wrote), the worker's own replies with it, so that the check never ended. A reply
    said to be longer than any a worker sends is garbage: the worker is taken to be gone, and
    the check with it, at once."""
    then = (
        "os.write(replies, struct.pack('>I', 0xFFFFFFF0))\n"
        "    try:\n"
        "        for _ in range(64):\n"
        "            os.write(replies, bytes(1 << 20))\n"
        "    except OSError:  # (no longer read)\n"
        "        pass"
    )
    source = WRITES_INTO_ITS_WORKERS_REPLIES.format(reply='("memory", 0, {})', then=then)
    running, ended, seconds = _in_a_device_worker_after_one(tmp_path, source, 20)
    assert ended and running.result is None, running.result
    assert seconds < 10, seconds


# Answers that print, then end the process they run in (as a crash in native code would)
CRASHES_AFTER_PRINTING = {
    "os._exit": "import os\ndef answer():\n    print('before the end')\n    os._exit(3)\n",
    "segfault": (
        "import ctypes\ndef answer():\n    print('before the end')\n    ctypes.string_at(0)\n"
    ),
}


# A device check that hands its worker's keeper pipes of its own, each asked for at once, and
# leaves the keeper's answers unread: the worker's own asks for the checks after it
FORGES_KEEPER_ANSWERS = """
import os, time
from studycli.check import output_keeper as keeper

def answer():
    for said in (b"forged A\\n", b"forged B\\n"):
        read, write = os.pipe()
        os.write(write, said)
        os.close(write)
        keeper.socket.send_fds(keeper.CHANNEL, [keeper._START.pack(b"s", 0)], [read])
        os.close(read)
        keeper.CHANNEL.send(keeper._END)
    time.sleep(0.2)
"""


def test_a_device_check_that_asks_the_keeper_for_output_of_its_own_misleads_no_later_check(
    tmp_path, fresh_pool
):
    """A device check can talk to its worker's keeper (the socket is the worker's, and so its
    code's): one that handed the keeper two pipes of its own and asked for each, leaving the
    answers unread, had every later check of that worker read the answer before its own: the
    next two checks showed "forged A" and "forged B", and each after them its predecessor's
    output, for the worker's life. The worker takes only the answer to its own ask."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    (tmp_path / "forger.py").write_text(FORGES_KEEPER_ANSWERS + CHECKS_ANSWER)
    says = "def answer():\n    print('check', NUMBER)\n" + CHECKS_ANSWER
    for number in range(3):
        (tmp_path / f"says{number}.py").write_text(f"NUMBER = {number}\n" + says)
    folder = str(tmp_path)

    def checked(module: str):
        reference = Candidate("reference", "answer", module)
        return run_job(Job(folder, module, "check", reference, device="cuda", timeout=20))

    checked("forger")
    outputs = [checked(f"says{number}").output for number in range(3)]
    assert outputs == [f"check {number}\n" for number in range(3)], outputs


@pytest.mark.parametrize("crash", sorted(CRASHES_AFTER_PRINTING))
def test_a_check_that_crashes_its_device_worker_keeps_what_it_printed(tmp_path, monkeypatch, crash):
    """A device worker's check that crashed it (a segfault, `os._exit`) lost what it had
    printed (read by a thread of the worker, gone with it), and its card said only that the
    process died. Its keeper reads the check's output, and tells the command how the worker
    ended: the output and the message are the CPU's. (The checker ignores its device.)"""
    source = CRASHES_AFTER_PRINTING[crash] + CHECKS_ANSWER
    on_device, on_cpu = _reference_on_device_and_cpu(tmp_path, monkeypatch, source)
    assert on_device.status == on_cpu.status == "error", (on_device, on_cpu)
    assert on_device.message == on_cpu.message, (on_device.message, on_cpu.message)
    assert on_device.output.startswith("before the end\n"), on_device.output


# Answers that crash in native code, in the learner's function `inner` under `answer`
CRASHES_IN_NATIVE_CODE = {
    "SIGSEGV": "import ctypes\ndef inner():\n    ctypes.string_at(0)\n",
    "SIGABRT": "import os\ndef inner():\n    os.abort()\n",
}


@pytest.mark.parametrize("signal_name", sorted(CRASHES_IN_NATIVE_CODE))
def test_a_check_that_crashes_its_device_worker_shows_where_as_on_the_cpu(
    tmp_path, monkeypatch, signal_name
):
    """A device worker had no faulthandler: a check that crashed it in native code read
    "killed by signal 11" with the tail of its output and no Python stack, where the CPU's
    forked check shows the frames it crashed in (`contain.enter`). Its output has the same
    dump of the learner's frames, written into the check's output for the keeper to keep."""
    source = CRASHES_IN_NATIVE_CODE[signal_name] + "def answer():\n    inner()\n" + CHECKS_ANSWER
    on_device, on_cpu = _reference_on_device_and_cpu(tmp_path, monkeypatch, source)
    assert on_device.message == on_cpu.message, (on_device.message, on_cpu.message)
    for outcome in (on_cpu, on_device):
        assert outcome.output.startswith("Fatal Python error: "), outcome.output
    frames = [
        [line for line in outcome.output.splitlines() if line.startswith("  File ")]
        for outcome in (on_device, on_cpu)
    ]
    assert frames[0] == frames[1], frames
    called = [line.rsplit(" ", 1)[-1] for line in frames[0]]  # (innermost first)
    assert "inner" in called and called[called.index("inner") + 1] == "answer", frames


# An answer that raises an exception whose message crashes its process in native code, read
# once the check's output is put back (as its failure is described)
RAISES_WHAT_CRASHES_AS_DESCRIBED = (
    "import ctypes\n"
    "class Odd(Exception):\n"
    "    def __str__(self):\n"
    "        ctypes.string_at(0)\n"
    "        return 'odd'\n"
    "def answer():\n"
    "    raise Odd()\n"
)


def test_a_device_check_that_crashes_as_its_failure_is_described_writes_nothing_to_the_command(
    tmp_path, monkeypatch, capfd
):
    """A device worker's faulthandler was on from before the check's output was set aside to
    after it was put back (fd 2 the command's stderr again): a crash as the check's failure
    was described (its exception's __str__, in the worker's own code) wrote "Fatal Python
    error: Segmentation fault" and the worker's stack to the command's terminal. Nothing is
    written there; the card says how the check died, as on the CPU."""
    source = RAISES_WHAT_CRASHES_AS_DESCRIBED + CHECKS_ANSWER
    on_device, on_cpu = _reference_on_device_and_cpu(tmp_path, monkeypatch, source)
    assert on_device.status == on_cpu.status == "error", (on_device, on_cpu)
    assert "Fatal Python error" not in capfd.readouterr().err


def test_a_dump_of_stacks_a_device_check_set_to_come_later_is_called_off_as_it_ends(
    tmp_path, fresh_pool, capfd
):
    """A check runs in its device worker, and what it set up there outlives it: a dump of the
    stacks set to come later (`faulthandler.dump_traceback_later`, repeated) wrote the
    worker's stacks onto the command's terminal at each interval, once fd 2 was the command's
    stderr again, for the worker's life. A forked check's ends with its process."""
    source = (
        "import faulthandler, sys\n"
        "def answer():\n"
        "    faulthandler.dump_traceback_later(0.2, repeat=True, file=sys.stderr)\n"
    ) + CHECKS_ANSWER
    (tmp_path / "module.py").write_text(source)
    job = Job(str(tmp_path), "module", "check", Candidate("reference", "answer", "module"))
    outcome = run_job(replace(job, device="cuda"))
    time.sleep(1.0)  # (five intervals)
    close_pool(fresh_pool)
    assert outcome.status == "pass", outcome
    assert "Timeout (" not in capfd.readouterr().err


def test_a_dump_a_device_check_tied_to_a_signal_is_undone_as_it_ends(tmp_path):
    """A check runs in its device worker: a dump of the stacks it tied to a signal
    (`faulthandler.register`) stayed in force there, and the signal, sent by a later check or
    any process of the user's, wrote the worker's stacks into the file the check gave (fd 2:
    the next check's output, or the command's terminal between checks). The next check finds
    the signal as it was."""
    source = (
        "import faulthandler, signal, sys\n"
        "def answer():\n"
        "    pass\n"
        "def registers(impl, device='cpu'):\n"
        "    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)\n"
        "def looks(impl, device='cpu'):\n"
        "    assert not faulthandler.unregister(signal.SIGUSR1), 'still registered'\n"
    )
    checks = _references_in_a_device_worker(tmp_path, "module", source, ("registers", "looks"))
    assert [check["status"] for check in checks] == ["pass", "pass"], checks


def test_a_signal_handler_or_mask_a_device_check_set_is_put_back_as_it_ends(tmp_path):
    """A check runs in its device worker: a handler it set for a signal (signal.signal), or a
    signal it blocked (signal.pthread_sigmask), stayed in force there for the worker's life:
    the signal, sent by a later check or any process of the user's, ran the earlier check's
    code in the later check (what it printed was that check's output), or was ignored or held
    (SIGTERM, SIGINT). The next check finds the signals as they were, as `faulthandler`'s
    (`test_a_dump_a_device_check_tied_to_a_signal_is_undone_as_it_ends`)."""
    source = (
        "import signal\n"
        "def answer():\n"
        "    pass\n"
        "def sets(impl, device='cpu'):\n"
        "    signal.signal(signal.SIGUSR1, lambda *_: print('HANDLED by an earlier check'))\n"
        "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})\n"
        "def looks(impl, device='cpu'):\n"
        "    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL, 'SIGUSR1 handled'\n"
        "    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, 'SIGTERM ignored'\n"
        "    assert signal.SIGUSR2 not in signal.pthread_sigmask(signal.SIG_BLOCK, []), 'blocked'\n"
    )
    checks = _references_in_a_device_worker(tmp_path, "module", source, ("sets", "looks"))
    assert [check["status"] for check in checks] == ["pass", "pass"], checks


# An answer that writes 3 MB to fd 1 in one call from C that holds the GIL throughout (a C
# extension's write: ctypes' PyDLL keeps the GIL, where CDLL lets go of it)
WRITES_MEGABYTES_HOLDING_THE_GIL = (
    "import ctypes\n"
    "def answer():\n"
    "    data = b'y' * 3_000_000 + b'\\nthe end\\n'\n"
    "    ctypes.PyDLL(None).write(1, data, len(data))\n" + CHECKS_ANSWER
)


def test_a_device_check_that_writes_megabytes_from_c_holding_the_gil_passes_as_on_the_cpu(
    tmp_path, monkeypatch
):
    """A device worker's check output was read by a thread of the worker: a writer that held
    the GIL as it waited on the full pipe (1 MB) kept that thread from reading, and the check
    ran to its time limit, where the CPU's (read by its zygote) passed. Its keeper reads it."""
    source = WRITES_MEGABYTES_HOLDING_THE_GIL
    on_device, on_cpu = _reference_on_device_and_cpu(tmp_path, monkeypatch, source, timeout=10)
    assert on_cpu.status == "pass", on_cpu
    assert on_device.status == "pass", on_device
    assert on_device.output == on_cpu.output, (on_device.output, on_cpu.output)
    assert on_device.output.endswith("not shown\nthe end\n"), on_device.output


def _reference_on_device_and_cpu(tmp_path: Path, monkeypatch, source: str, **limits):
    """The outcomes of the reference `answer` of a module of `source` checked in a device
    worker (its checker ignores the device: no GPU needed), then on the CPU, in a pool of
    their own."""
    (tmp_path / "module.py").write_text(source)
    fresh = pool._Pool()
    monkeypatch.setattr(pool, "_pool", fresh)
    reference = Candidate("reference", "answer", "module")
    job = Job(str(tmp_path), "module", "check", reference, **limits)
    try:
        return run_job(replace(job, device="cuda")), run_job(job)
    finally:
        close_pool(fresh)


# An answer that hands its worker's keeper, in place of its output pipe, a descriptor that never
# runs dry (its check's code runs in the worker, whose socket to the keeper it can find), and
# writes the keeper's pid where the test reads it
HANDS_THE_KEEPER_DEV_ZERO = (
    "import os, socket\n"
    "from studycli.check import output_keeper\n"
    "def answer():\n"
    "    with open({pid_file!r}, 'w') as pid:\n"
    "        pid.write(str(os.getppid()))\n"
    "    zero = os.open('/dev/zero', os.O_RDONLY)\n"
    "    start = output_keeper._START.pack(b's', output_keeper.NUMBER)\n"
    "    socket.send_fds(output_keeper.CHANNEL, [start], [zero])\n"
    "    os.close(zero)\n" + CHECKS_ANSWER
)


def test_a_device_check_cannot_keep_its_workers_keeper_reading_for_ever(tmp_path, fresh_pool):
    """The keeper read a check's output pipe, at the check's end, until nothing was left: a
    check that handed it /dev/zero in its place (or left a writer as fast as the keeper reads)
    kept it reading, its lock held, for ever. The worker waited for its answer to the check's
    time limit, and, killed there, the keeper, which could no longer say so, spun at 100% CPU
    under init after the command had ended. It reads what a pipe holds at most, and answers."""
    import signal

    pid_file = tmp_path / "keeper.pid"
    (tmp_path / "zero.py").write_text(HANDS_THE_KEEPER_DEV_ZERO.format(pid_file=str(pid_file)))
    folder = str(tmp_path)
    reference = Candidate("reference", "answer", "zero")
    keeper = None
    try:
        outcome = run_job(Job(folder, "zero", "check", reference, device="cuda", timeout=5))
        keeper = int(pid_file.read_text())
        assert outcome.status == "pass", outcome
    finally:
        close_pool(fresh_pool)
        if keeper is not None:  # (before the fix: spinning, under init)
            deadline = time.monotonic() + 2.0
            while _alive(keeper) and time.monotonic() < deadline:
                time.sleep(0.05)
            left = _alive(keeper)
            with contextlib.suppress(OSError):
                os.kill(keeper, signal.SIGKILL)
    assert not left, "the keeper ran on"


# An answer whose first check puts /dev/null over its worker's socket to the keeper (a check's
# code may dup2 onto any descriptor of the worker it runs in); each check says which it is
PUTS_DEV_NULL_OVER_THE_KEEPERS_SOCKET = (
    "import os\n"
    "from studycli.check import output_keeper\n"
    "RUNS = [0]\n"
    "def answer():\n"
    "    RUNS[0] += 1\n"
    "    print('check', RUNS[0], os.getpid())\n"
    "    if RUNS[0] == 1:\n"
    "        nowhere = os.open(os.devnull, os.O_RDWR)\n"
    "        os.dup2(nowhere, output_keeper.CHANNEL.fileno())\n"
    "        os.close(nowhere)\n" + CHECKS_ANSWER
)


def test_a_device_check_that_breaks_its_workers_socket_to_the_keeper_fails_no_later_check(
    tmp_path,
):
    """A check that put another file over its worker's socket to its keeper (`dup2`) had the
    worker kill its keeper as a holder of the check's pipe (the worker dying with it), or
    failed every later check of that worker ("OSError: [Errno 88] Socket operation on
    non-socket", as each handed the keeper its pipe). The worker runs on, the later checks'
    output read by a thread of the worker, as where there is no keeper."""
    results = _references_in_a_device_worker(
        tmp_path, "breaks", PUTS_DEV_NULL_OVER_THE_KEEPERS_SOCKET, ("check",) * 3
    )
    assert results[0]["status"] == "pass", results[0]
    pids = set()
    for run, result in enumerate(results[1:], start=2):
        assert result["status"] == "pass", result
        said, number, pid = result["output"].split()
        assert (said, number) == ("check", str(run)), result["output"]
        pids.add(pid)
    assert len(pids) == 1  # (one worker ran them)


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _references_in_a_device_worker(
    tmp_path: Path, module: str, source: str, checkers: tuple[str, ...] = ("check",)
) -> list[dict]:
    """The results of `module`'s reference `answer`, written as `source` in `tmp_path`,
    checked by each of `checkers` in turn in one device worker (one that runs its checks in
    itself)."""
    from studycli.check.worker import Worker

    (tmp_path / f"{module}.py").write_text(source)
    folder = str(tmp_path)
    worker = Worker((), (folder, (module,)), fork=False)
    results = []
    try:
        for checker in checkers:
            running = worker.submit(
                Job(folder, module, checker, Candidate("reference", "answer", module))
            )
            assert running.wait(120)  # (the first waits for torch's import)
            results.append(running.result)
    finally:
        worker.close()
    return results


# An attempt that starts, at its top, a process that sends its output to /dev/null (so that no
# pipe the worker looks through has it) and a daemon (a shell's background `setsid sleep`)
LEAVES_QUIET_PROCESSES = (
    "import subprocess\n"
    "quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "subprocess.Popen(['sleep', '{quiet}'], **quiet)\n"
    "subprocess.Popen(['sh', '-c', 'setsid sleep {daemon} &'], **quiet)\n"
    "def answer():\n"
    "    {then}\n"
)


def test_a_device_worker_kills_what_a_check_left_running_once_it_ends(tmp_path):
    """A device worker runs its checks in itself: a process its check's attempt (or a solution
    module) started and left, its output redirected, ran on for the worker's life and after it
    (a forked check's are killed with its session, or by its zygote, their subreaper). Once
    the check ends, both are gone, the worker still running."""
    from studycli.check.worker import Worker

    from .check_support import gone_within, marker

    quiet, daemon = marker(), marker()
    (tmp_path / "quiet.py").write_text("def answer():\n    pass\n" + CHECKS_ANSWER)
    attempt = tmp_path / "attempt.py"
    attempt.write_text(LEAVES_QUIET_PROCESSES.format(quiet=quiet, daemon=daemon, then="pass"))
    folder = str(tmp_path)
    worker = Worker((), (folder, ("quiet",)), fork=False)
    try:
        job = Job(folder, "quiet", "check", Candidate("file", "answer", path=str(attempt)))
        running = worker.submit(job)
        assert running.wait(120)  # (it waits for torch's import)
        assert running.result["status"] == "pass", running.result
        assert gone_within(quiet, 1.0) == [] and gone_within(daemon, 1.0) == []
        assert not worker.dead
    finally:
        worker.close()
        gone_within(quiet, 0)
        gone_within(daemon, 0)


def test_a_device_worker_killed_in_a_check_takes_what_the_check_started_with_it(tmp_path):
    """A device worker's check that is stopped (its time limit) is stopped by killing the
    worker: the processes it started ran on under init, the worker gone. Those in its group go
    with it, and so does a daemon in a session of its own (a double fork and setsid), which
    the worker, killed, never swept: its keeper does (`keeper`)."""
    from studycli.check.worker import Worker

    from .check_support import gone_within, marker, running_with

    quiet, daemon = marker(), marker()
    (tmp_path / "quiet.py").write_text("def answer():\n    pass\n" + CHECKS_ANSWER)
    attempt = tmp_path / "attempt.py"
    hangs = "import time; time.sleep(60)"
    attempt.write_text(LEAVES_QUIET_PROCESSES.format(quiet=quiet, daemon=daemon, then=hangs))
    folder = str(tmp_path)
    worker = Worker((), (folder, ("quiet",)), fork=False)
    try:
        job = Job(folder, "quiet", "check", Candidate("file", "answer", path=str(attempt)))
        running = worker.submit(job)
        assert running.started.wait(120)  # (it waits for torch's import)
        deadline = time.monotonic() + 30
        while not (running_with(quiet) and running_with(daemon)) and time.monotonic() < deadline:
            time.sleep(0.05)
        running.kill()
        assert running.wait(10)
        assert gone_within(quiet, 1.0) == []
        assert gone_within(daemon, 2.0) == []
    finally:
        worker.close()
        gone_within(quiet, 0)
        gone_within(daemon, 0)


def test_a_daemon_left_by_a_check_that_killed_its_device_worker_is_killed(tmp_path):
    """A check that leaves a daemon (a double fork, a session of its own) and kills the device
    worker it runs in: the worker, the daemon's subreaper, died before its sweep, and the
    daemon ran on under init after the command had ended. Its keeper kills it."""
    from studycli.check.worker import Worker

    from .check_support import DAEMON_THEN_KILLS_ITS_WORKER, gone_within, marker

    daemon = marker()
    (tmp_path / "quiet.py").write_text("def add_one(x):\n    return x + 1\n" + CHECKS_ADD_ONE)
    attempt = tmp_path / "attempt.py"
    kills = "os.kill(os.getpid(), signal.SIGKILL)"  # (the worker runs the check itself)
    attempt.write_text(DAEMON_THEN_KILLS_ITS_WORKER.format(marker=daemon, kill=kills))
    folder = str(tmp_path)
    worker = Worker((), (folder, ("quiet",)), fork=False)
    try:
        job = Job(folder, "quiet", "check", Candidate("file", "add_one", path=str(attempt)))
        running = worker.submit(job)
        assert running.wait(120)  # (it waits for torch's import)
        assert running.result is None and worker.ended.wait(10)
        assert gone_within(daemon, 2.0) == []
    finally:
        worker.close()
        gone_within(daemon, 0)


# How a check kills its worker's keeper: the process, or the group it is in (`os.killpg`), which
# was its guard's (`keeper_guard`), killed with it in one call
KILLS_THE_KEEPER = {
    "the keeper": "keeper",
    "its process group": "-proc_stat('pgrp', keeper)",
}


@pytest.mark.parametrize("target", KILLS_THE_KEEPER.values(), ids=KILLS_THE_KEEPER.keys())
def test_a_device_check_that_kills_its_workers_keeper_says_so_and_leaves_nothing(
    tmp_path, fresh_pool, target
):
    """A device check could kill its worker's keeper (its worker's parent, a process of the
    same user): the worker died with it (PR_SET_PDEATHSIG), the daemon the check had started
    went to init, the keeper that sweeps such a daemon gone, and, holding the worker's replies,
    kept the command waiting to the check's time limit ("did not finish in 10 s"), and ran on
    after the command. The worker sweeps what its check started, says that its keeper was
    killed, and ends: the card says so at once, and the next check runs in a fresh worker.
    (The keeper is killed by this test's process, as the check asks: a check signals no
    process outside its worker's Landlock domain where the kernel scopes its signals,
    `landlock`; a keeper may still be killed so, by a user or the out-of-memory killer.)
    Killed with its process group, the keeper took its guard, which was in it: what had come to
    the keeper (the daemon) went to init, and ran on."""
    from studycli.check import crash_report

    pids = tmp_path / "pids"
    kills = (  # (its parent: the keeper in a device worker, as /proc numbers it)
        f"keeper = proc_stat('ppid'); open({str(pids)!r}, 'w').write(f'{{proc_pid()}} {{keeper}}'); "
        f"from_outside({target}, signal.SIGKILL); time.sleep(30)"
    )
    first, outcome, seconds, left, later = _a_check_that_kills(tmp_path, fresh_pool, kills)
    assert first.status == "pass", first
    assert outcome.status == "error", outcome
    assert outcome.message == crash_report.KEEPER_KILLED, outcome.message
    assert seconds < 5, seconds  # (its time limit: 10 s)
    assert left == [], "the daemon ran on"
    worker, keeper = map(int, pids.read_text().split())
    assert not _alive(worker) and not _alive(keeper)
    assert later.status == "pass", later


def _a_check_that_kills(tmp_path, fresh_pool, kills: str, more: str = ""):
    """A device check of an answer that starts a daemon, then runs `kills` (its code, with
    `from_outside` to have this test's process signal for it: `signals_from_outside`; `more`
    appended to the answer, formatted with the daemon's marker), between two checks of the
    reference in the same pool: the first's outcome, the answer's, its seconds, the daemons
    left 2 s after it and the later reference's outcome."""
    from .check_support import (
        DAEMON_THEN_KILLS_ITS_WORKER,
        PROC_PIDS,
        asks_from_outside,
        gone_within,
        marker,
        signals_from_outside,
    )

    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    daemon = marker()
    (tmp_path / "quiet.py").write_text("def add_one(x):\n    return x + 1\n" + CHECKS_ADD_ONE)
    attempt = tmp_path / "attempt.py"
    source = DAEMON_THEN_KILLS_ITS_WORKER.format(marker=daemon, kill=kills) + PROC_PIDS
    source += more.format(marker=daemon)
    attempt.write_text(source + asks_from_outside(tmp_path / "asks"))
    folder = str(tmp_path)
    learners = Candidate("file", "add_one", path=str(attempt))
    reference = Candidate("reference", "add_one", "quiet")
    try:
        first = run_job(Job(folder, "quiet", "check", reference, device="cuda", timeout=10))
        started = time.monotonic()  # (its worker ready: started by the first check)
        with signals_from_outside(tmp_path / "asks"):
            outcome = run_job(Job(folder, "quiet", "check", learners, device="cuda", timeout=10))
        seconds = time.monotonic() - started
        left = gone_within(daemon, 2.0)
        later = run_job(Job(folder, "quiet", "check", reference, device="cuda", timeout=10))
    finally:
        close_pool(fresh_pool)
        gone_within(daemon, 0)
    return first, outcome, seconds, left, later


# How a check kills its worker's keeper and the keeper's guard (`keeper_guard`), in two calls:
# the guard first (what had come to the keeper then had none above it), or the keeper first
# (what came to the guard as it waited for the worker to end); then, where it still runs, it
# leaves another daemon (`leave_a_daemon`)
KILLS_THE_KEEPER_AND_ITS_GUARD = {
    "the guard, then the keeper": "from_outside(guard, KILL); from_outside(keeper, KILL)",
    "the keeper, then the guard": "from_outside(keeper, KILL); from_outside(guard, KILL)",
    "the guard, the keeper, then a daemon": (
        "from_outside(guard, KILL); from_outside(keeper, KILL); leave_a_daemon()"
    ),
}

# (appended to the attempt, formatted with the daemon's `marker`)
LEAVES_A_DAEMON = """

def leave_a_daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", {marker!r}])
        os._exit(0)
    time.sleep(0.2)
"""


@pytest.mark.parametrize(
    "kill", KILLS_THE_KEEPER_AND_ITS_GUARD.values(), ids=KILLS_THE_KEEPER_AND_ITS_GUARD.keys()
)
def test_a_device_check_that_kills_its_workers_keeper_and_its_guard_leaves_nothing(
    tmp_path, fresh_pool, kill
):
    """A check that killed its worker's keeper's guard, then the keeper, left the daemon it had
    started (an orphan, the keeper's) to init, which ran on after the command, holding the
    worker's replies (the check ended at its time limit): the keeper's end gave it to the next
    subreaper above, and there was none. (The test's process kills each, as the check asks:
    `signals_from_outside`.)"""
    from studycli.check import crash_report

    pids = tmp_path / "pids"
    kills = (  # (its parent: the keeper in a device worker, as /proc numbers it)
        "keeper = proc_stat('ppid'); guard = proc_stat('ppid', keeper); KILL = signal.SIGKILL; "
        f"open({str(pids)!r}, 'w').write(f'{{proc_pid()}} {{keeper}} {{guard}}'); "
        f"{kill}; time.sleep(30)"
    )
    first, outcome, _, left, later = _a_check_that_kills(
        tmp_path, fresh_pool, kills, more=LEAVES_A_DAEMON
    )
    assert first.status == "pass", first
    assert outcome.status == "error", outcome
    assert outcome.message == crash_report.KEEPER_KILLED, outcome.message
    assert left == [], "the daemon ran on"
    assert not any(map(_alive, map(int, pids.read_text().split())))
    assert later.status == "pass", later


# An answer that closes its device worker's pidfd of the keeper (or puts /dev/null in its place),
# then interrupts, with a signal, the poll of the thread that waits on it
SPOILS_THE_PIDFD_OF_THE_KEEPER = """
import contextlib, os, signal, threading, time
def answer():
    nowhere = os.open(os.devnull, os.O_RDONLY)
    for fd in map(int, os.listdir('/proc/self/fd')):
        with contextlib.suppress(OSError):
            if os.readlink(f'/proc/self/fd/{{fd}}') == 'anon_inode:[pidfd]':
                {spoil}
    os.close(nowhere)
    signal.signal(signal.SIGUSR1, lambda *_: None)
    for thread in threading.enumerate():
        if thread.name == 'studycli-keeper-gone':
            signal.pthread_kill(thread.ident, signal.SIGUSR1)
    time.sleep(0.5)
"""


@pytest.mark.parametrize(
    "spoil", ["os.close(fd)", "os.dup2(nowhere, fd)"], ids=["closed", "replaced"]
)
def test_a_device_check_that_spoils_its_workers_pidfd_of_the_keeper_is_not_taken_for_its_killer(
    tmp_path, fresh_pool, spoil
):
    """The thread of a device worker that waits for its keeper's end polls a pidfd of it: a
    check that closed it, or put another file in its place, then interrupted the poll with a
    signal (Python polls again, the descriptor's number anew) had the worker end as if the
    keeper had, its card saying that the code killed its parent process, which runs on. The
    worker ends only once its keeper has: the check passes."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    source = SPOILS_THE_PIDFD_OF_THE_KEEPER.format(spoil=spoil) + CHECKS_ANSWER
    (tmp_path / "module.py").write_text(source)
    job = Job(str(tmp_path), "module", "check", Candidate("reference", "answer", "module"))
    outcome = run_job(replace(job, device="cuda"))
    assert outcome.status == "pass", outcome


# An answer that has a shell kill its device worker's keeper (the test's process kills it, as
# the shell asks: `asks_from_outside`), then waits for the shell; the worker's sweep of what its
# checks started, slowed (the pools of torch.compile's workers, which it has start anew: here a
# stand-in that takes 0.5 s)
KILLS_ITS_KEEPER_FROM_A_SHELL = """
import os, signal, sys, time, types
def answer():
    slow = types.SimpleNamespace(after_fork=lambda: time.sleep(0.5))
    sys.modules["torch._inductor.async_compile"] = slow
    os.system(shell_asks(proc_stat("ppid"), signal.SIGKILL) + "; sleep 10")
"""


def test_a_device_check_that_kills_its_keeper_from_a_shell_does_not_pass(tmp_path, fresh_pool):
    """A device worker whose keeper ended sweeps what its check started, then says that its
    keeper was killed: a check that had a shell kill the keeper, and waited for the shell,
    returned once the sweep had killed it, and its report (passed) came first, as the sweep
    went on, where the sweep was slow, else half the time: the card passed. It says that the
    keeper was killed."""
    from studycli.check import crash_report

    from .check_support import PROC_PIDS, asks_from_outside, signals_from_outside

    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    asks = asks_from_outside(tmp_path / "asks")
    (tmp_path / "module.py").write_text(
        KILLS_ITS_KEEPER_FROM_A_SHELL + PROC_PIDS + asks + CHECKS_ANSWER
    )
    job = Job(str(tmp_path), "module", "check", Candidate("reference", "answer", "module"))
    with signals_from_outside(tmp_path / "asks"):
        outcome = run_job(replace(job, device="cuda", timeout=20))
    assert outcome.message == crash_report.KEEPER_KILLED, outcome


def test_a_device_worker_let_go_in_a_check_ends_at_once_with_what_the_check_started(tmp_path):
    """A device worker runs its checks in itself, and read that the command let it go (or had
    died: its end of the socket closes so too, as with `kill -9`) only once its check ended: a
    check that ran on (an endless loop) left the worker, its keeper and the daemon the check
    started running without end after the command had gone. It ends at once, and its keeper
    kills the daemon, as a zygote's forked checks die with it."""
    from studycli.check.worker import Worker

    from .check_support import gone_within, marker, running_with

    quiet, daemon = marker(), marker()
    (tmp_path / "quiet.py").write_text("def answer():\n    pass\n" + CHECKS_ANSWER)
    attempt = tmp_path / "attempt.py"
    hangs = "import time; time.sleep(60)"
    attempt.write_text(LEAVES_QUIET_PROCESSES.format(quiet=quiet, daemon=daemon, then=hangs))
    folder = str(tmp_path)
    worker = Worker((), (folder, ("quiet",)), fork=False, device="cuda")
    try:
        job = Job(folder, "quiet", "check", Candidate("file", "answer", path=str(attempt)))
        running = worker.submit(job)
        assert running.started.wait(120)  # (it waits for torch's import)
        deadline = time.monotonic() + 30
        while not running_with(daemon) and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.let_go()
        assert worker.ended.wait(5), "the worker runs on in its check"
        assert worker.process is not None and worker.process.wait(5) is not None
        assert gone_within(daemon, 2.0) == []
    finally:
        worker.close()
        gone_within(quiet, 0)
        gone_within(daemon, 0)


# A solution module that says its worker's pid, then holds the GIL (a loop in C) for hours
HOLDS_THE_GIL = "import os\nopen({pid_file!r}, 'w').write(str(os.getpid()))\nsum(range(10**12))\n"


@pytest.mark.parametrize("when", ["starting", "ready"])
def test_a_device_worker_that_holds_the_gil_ends_when_closed(tmp_path, when):
    """A device worker no longer dies with its keeper (PR_SET_PDEATHSIG): a thread of its own
    waits for the keeper's end (`device_worker.end_with_the_keeper`), and another for the
    command's (`end_with_the_command`), and neither runs while its code holds the GIL. Closed,
    one still loading such a module (its keeper killed at once), or one that did not end in
    5 s of being let go (its keeper killed then), ran on under init, the loop to its end. The
    server is killed too."""
    from studycli.check.worker import Worker

    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    pid_file = tmp_path / "pid"
    (tmp_path / "holds.py").write_text(HOLDS_THE_GIL.format(pid_file=str(pid_file)))
    solutions = (str(tmp_path), ("holds",))
    worker = Worker((), solutions if when == "starting" else None, fork=False, device="cuda")
    server = None
    try:
        if when == "ready":
            assert worker.ready.wait(120)
            worker.preload((), solutions)
        deadline = time.monotonic() + 120  # (it imports torch first)
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.02)
        server = int(pid_file.read_text())
        time.sleep(0.2)  # (in the loop)
        assert worker.ready.is_set() == (when == "ready")
        worker.close()
        deadline = time.monotonic() + 2.0
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(server), "the worker runs on, its keeper gone"
    finally:
        worker.close()
        if server is not None and _alive(server):
            os.kill(server, signal.SIGKILL)


# A process that opens for writing what it can of each process's descriptors (pids as its
# arguments, and a `sleep` it starts, "control"), without CAP_SYS_PTRACE (as root: with it,
# root opens any), and says which it opened
OPENS_THEIR_DESCRIPTORS = """
import contextlib, ctypes, os, subprocess, sys
from studycli.check import as_root

with contextlib.suppress(OSError):  # (as a user: none to drop)
    as_root._drop_capabilities(ctypes.CDLL(None, use_errno=True), (as_root.CAP_SYS_PTRACE,))
control = subprocess.Popen(["sleep", "30"])
opened = []
for pid in [*sys.argv[1:], str(control.pid)]:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        continue
    for name in names:
        with contextlib.suppress(OSError):
            os.close(os.open(f"/proc/{pid}/fd/{name}", os.O_WRONLY | os.O_NONBLOCK))
            opened.append("control" if pid == str(control.pid) else pid)
control.kill()
print(sorted(set(opened)))
"""


def test_a_device_worker_and_its_keeper_are_out_of_reach_of_the_users_processes(tmp_path):
    """A device worker and its keeper were dumpable: a CPU check of the same user opened
    their descriptors through /proc/PID/fd/N, the output pipe of the check the worker runs
    and the command's output among them. (As root a check could not: it lacks capabilities
    that they hold.) Neither is dumpable now, as a zygote is not (`out_of_reach`); a process
    that is (the probe's own `sleep`) is opened, to show that the probe reaches one."""
    import subprocess

    from studycli.check.worker import Worker

    if not sys.platform.startswith("linux"):
        pytest.skip("/proc (Linux)")
    worker = Worker((), None, fork=False, torch=False)
    try:
        assert worker.ready.wait(60) and worker.process is not None
        pids = [str(worker.pid), str(worker.process.pid)]
        probe = [sys.executable, "-c", OPENS_THEIR_DESCRIPTORS, *pids]
        said = subprocess.run(probe, capture_output=True, text=True, check=True).stdout
    finally:
        worker.close()
    assert said.strip() == "['control']", (said, pids)


# A solution module that starts a daemon at its top (a session of its own, its output to
# /dev/null), says it has, and takes its time (less than `zygote.SOLUTION_LOAD_LIMIT`)
STARTS_A_DAEMON_AS_IT_LOADS = """
import pathlib, subprocess, time
subprocess.Popen(['sleep', '{daemon}'], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
pathlib.Path({started!r}).write_text('started')
time.sleep(1.5)
"""


@pytest.mark.parametrize("fork", [False, True], ids=["device worker", "zygote"])
def test_closing_a_worker_still_loading_ends_what_its_load_started(tmp_path, fork):
    """`close()` of a worker not yet ready killed its server, then its keeper at once: what a
    solution module's load had started (a daemon) came to the keeper as the server died, and
    went on to init, the keeper killed before it could sweep, running after the command had
    ended. The keeper now sweeps it, and ends."""
    from studycli.check.worker import Worker

    from .check_support import gone_within, marker

    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    daemon, started = marker(), tmp_path / "started"
    source = STARTS_A_DAEMON_AS_IT_LOADS.format(daemon=daemon, started=str(started))
    (tmp_path / "starts.py").write_text(source)
    worker = Worker((), (str(tmp_path), ("starts",)), fork=fork, torch=False)
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert started.exists() and not worker.ready.is_set()
    finally:
        worker.close()
    assert gone_within(daemon, 3.0) == []


@pytest.mark.parametrize("fork", [False, True], ids=["device worker", "zygote"])
def test_closing_a_worker_as_it_starts_waits_for_no_sweep(fork):
    """`close()` of a worker whose keeper had not forked its server yet (a command that ends
    as it starts: a card id it does not know, Ctrl-C) waited `SWEEP_WAIT` (2 s) for a keeper
    that had nothing to sweep, and went on starting meanwhile; the command closes its CPU
    workers in turn. It kills it at once, as before the sweep was waited for."""
    from studycli.check.worker import SWEEP_WAIT, Worker

    worker = Worker((), None, fork=fork)  # (which imports torch as it starts: 1-2 s)
    started = time.monotonic()
    worker.close()
    took = time.monotonic() - started
    assert took < SWEEP_WAIT / 2, took


# A command that starts a device worker and has it run a check that holds the GIL, says its
# keeper's pid, and waits
COMMAND_IN_A_CHECK_THAT_HOLDS_THE_GIL = """
import sys, time
from studycli.check.runner import Candidate, Job
from studycli.check.worker import Worker

folder, attempt = sys.argv[1], sys.argv[2]
worker = Worker((), (folder, ("quiet",)), fork=False, device="cuda")
worker.submit(Job(folder, "quiet", "check", Candidate("file", "answer", path=attempt)))
print(worker.process.pid, flush=True)
time.sleep(600)
"""


def test_a_device_worker_and_its_keeper_end_with_a_command_killed_in_a_check_that_holds_the_gil(
    tmp_path,
):
    """A device worker ends with the command through a thread that waits for its end of the
    requests' socket to close (`device_worker.end_with_the_command`), which never runs while a
    check holds the GIL (`sum(range(10**12))`), and its keeper did not watch the command: a
    command killed with -9 in such a check left both running, the loop to its end. The keeper
    kills the worker when the command ends (`keeper_command.end_with_the_command`), and
    ends."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    pid_file = tmp_path / "pid"
    (tmp_path / "quiet.py").write_text("def answer():\n    pass\n" + CHECKS_ANSWER)
    attempt = tmp_path / "attempt.py"
    attempt.write_text(HOLDS_THE_GIL.format(pid_file=str(pid_file)) + "\ndef answer():\n    pass\n")
    script = COMMAND_IN_A_CHECK_THAT_HOLDS_THE_GIL
    _kill_a_command_in_a_loop_that_holds_the_gil([script, str(tmp_path), str(attempt)], pid_file)


def _kill_a_command_in_a_loop_that_holds_the_gil(arguments: list[str], pid_file: Path) -> None:
    """Run `python -c` `arguments` (a command that says its worker's keeper's pid), wait for
    its worker to say its pid in `pid_file` (in a loop that holds the GIL), kill the command
    with -9, and see the worker and its keeper gone within 3 s."""
    import subprocess

    command = subprocess.Popen(
        [sys.executable, "-c", *arguments], stdout=subprocess.PIPE, text=True
    )
    server = None
    try:
        assert command.stdout is not None
        keeper = int(command.stdout.readline())
        deadline = time.monotonic() + 120  # (it imports torch first)
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.02)
        server = int(pid_file.read_text())
        time.sleep(0.2)  # (in the loop)
        command.kill()
        command.wait()
        deadline = time.monotonic() + 3.0
        while (_alive(server) or _alive(keeper)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(server), "the worker runs on in its loop, the command gone"
        assert not _alive(keeper), "the worker's keeper runs on, the command gone"
    finally:
        command.kill()
        command.wait()
        if command.stdout is not None:
            command.stdout.close()
        if server is not None and _alive(server):
            os.kill(server, signal.SIGKILL)


# A command that starts a CPU worker (a zygote) loading a solution module that holds the GIL,
# says its keeper's pid, and waits
COMMAND_IN_A_ZYGOTE_THAT_HOLDS_THE_GIL = """
import sys, time
from studycli.check.worker import Worker

worker = Worker((), (sys.argv[1], ("holds",)), fork=True, torch=False)
print(worker.process.pid, flush=True)
time.sleep(600)
"""

# A solution module that says its process's pid as /proc numbers it (a zygote's may be in a PID
# namespace of its own: `pid_namespace`), then holds the GIL
HOLDS_THE_GIL_IN_A_NAMESPACE = (
    "import os\nopen({pid_file!r}, 'w').write(os.readlink('/proc/self'))\nsum(range(10**12))\n"
)


def test_a_zygote_and_its_keeper_end_with_a_command_killed_as_it_holds_the_gil(tmp_path):
    """A zygote ends with the command when its loop sees the requests' socket close: one that
    held the GIL as it loaded a solution module (a loop in C at its top) never did, and as root
    its keeper cannot start a thread (its PID namespace unshared): the namespace's init kills
    the server when the command ends (`keeper_command.end_with_the_command`), and all ends."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a keeper (Linux)")
    pid_file = tmp_path / "pid"
    (tmp_path / "holds.py").write_text(HOLDS_THE_GIL_IN_A_NAMESPACE.format(pid_file=str(pid_file)))
    script = COMMAND_IN_A_ZYGOTE_THAT_HOLDS_THE_GIL
    _kill_a_command_in_a_loop_that_holds_the_gil([script, str(tmp_path)], pid_file)


# An attempt that starts a thread at its top that prints on and on
LEAVES_A_PRINTING_THREAD = (
    "import threading, time\n"
    "def _tick():\n"
    "    while True:\n"
    "        print('thread says hi', flush=True)\n"
    "        time.sleep(0.005)\n"
    "threading.Thread(target=_tick, daemon=True).start()\n"
    "def answer():\n"
    "    pass\n"
)
# A checker that takes a tenth of a second, and says which process ran it
SAYS_ITS_PID = (
    "import os, time\n"
    "def answer():\n"
    "    pass\n"
    "def check(impl, device='cpu'):\n"
    "    impl()\n"
    "    time.sleep(0.1)\n"
    "    print('pid', os.getpid())\n"
)


def test_a_device_worker_whose_check_left_a_thread_running_is_replaced(tmp_path, fresh_pool, capfd):
    """A thread a device check's attempt started ran on in the worker (no signal ends it; a
    forked check's end with it): its lines went into the next checks' output (sys.stdout is
    each check's capture there), failing other cards' references for printing, and into the
    command's between checks. The worker is retired after that check, its output to nowhere
    meanwhile, and the next check runs in a fresh one. (The checker ignores its device: no GPU
    needed.)"""
    (tmp_path / "quiet.py").write_text(SAYS_ITS_PID)
    attempt = tmp_path / "attempt.py"
    attempt.write_text(LEAVES_A_PRINTING_THREAD)
    folder = str(tmp_path)
    left = Candidate("file", "answer", path=str(attempt))
    first = run_job(Job(folder, "quiet", "check", left, device="cuda"))
    reference = Candidate("reference", "answer", "quiet")
    second = run_job(Job(folder, "quiet", "check", reference, device="cuda"))
    time.sleep(0.2)  # (what the thread prints meanwhile)
    close_pool(fresh_pool)
    assert first.status == second.status == "pass", (first, second)
    assert "thread says" not in second.output, second.output
    assert printed(second, "pid") != printed(first, "pid")
    out, err = capfd.readouterr()
    assert "thread says" not in out + err, (out, err)


# A solution module that starts a thread at its top, which writes down the process it runs in
# (beside the module, in `ran_in`) and prints on and on
STARTS_A_THREAD = (
    "import os, threading, time\n"
    "from pathlib import Path\n"
    "def _tick():\n"
    "    Path(__file__).with_name('ran_in').write_text(os.readlink('/proc/self'))\n"
    "    while True:\n"
    "        print('thread says hi', flush=True)\n"
    "        time.sleep(0.005)\n"
    "threading.Thread(target=_tick, daemon=True).start()\n"
    "def answer():\n"
    "    pass\n"
    "def check(impl, device='cpu'):\n"
    "    impl()\n"
)


@pytest.mark.parametrize("when", ["at its start", "once it runs"])
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_no_check_runs_beside_a_thread_that_a_workers_preparation_left(
    tmp_path, monkeypatch, fresh_pool, device, when
):
    """A solution module whose load, as a worker prepared, left a thread running: its card
    failed saying so, but the worker went on. A device worker ran every later check beside
    the thread, its lines in their output; a zygote forked each beside it (a lock it held at
    the fork stays held in the check). The worker ends, and the checks run in a fresh one,
    which loads none of those modules; the card still fails saying so. (A device worker is
    driven on the CPU: the checker ignores its device.)"""
    (tmp_path / "threads.py").write_text(STARTS_A_THREAD)
    pids = (  # (as /proc numbers them: a zygote's pid namespace, as root, numbers its own)
        "    print('in', os.readlink('/proc/self'))\n"
        "    print('parent', open('/proc/self/stat').read().rsplit(')', 1)[1].split()[1])\n"
    )
    (tmp_path / "quiet.py").write_text(SAYS_ITS_PID + pids)
    folder = str(tmp_path)
    monkeypatch.setattr(left_threads, "_KNOWN", {"skip": [], "refused": {}})
    if when == "once it runs":  # (the modules sent to a worker that is ready)
        if device == "cpu":
            assert fresh_pool.worker("cpu").ready.wait(120)
        else:
            fresh_pool.start(device, 1)
            assert fresh_pool.idle[0].ready.wait(120)
    pool.preload((), (folder, ["threads", "quiet"]))
    quiet = Candidate("reference", "answer", "quiet")
    checked = run_job(Job(folder, "quiet", "check", quiet, device=device))
    refused = run_job(Job(folder, "threads", "check", replace(quiet, module="threads")))
    time.sleep(0.1)  # (what the thread prints meanwhile)
    assert checked.status == "pass" and "thread says" not in checked.output, checked
    ran_in = int((tmp_path / "ran_in").read_text())
    worker = printed(checked, "parent" if device == "cpu" else "in")  # (a zygote forks it)
    assert worker != ran_in, (worker, ran_in)
    assert refused.status == "error" and "left 1 thread running" in refused.message, refused


def test_a_module_whose_load_left_a_thread_is_loaded_again_once_fixed_and_known_once(
    tmp_path, monkeypatch
):
    """The modules whose load left a thread in a worker (`left_threads`) were known by name:
    one fixed since (`solve --watch` checks at every save) was never loaded again by the
    workers started later, and each worker that said so added it to the list once more. It is
    known with its file's stamp, once: a worker skips it only while its file is as it was."""
    from studycli.check import loading

    folder = str(tmp_path)
    module = tmp_path / "threads.py"
    module.write_text(STARTS_A_THREAD)
    name = loading.solution_name("threads")
    monkeypatch.setattr(left_threads, "_KNOWN", {"skip": [], "refused": {}})
    monkeypatch.setattr(left_threads, "LEFT", [[folder, "threads"]])  # (as a worker's load left)
    stamp = (str(module), module.stat().st_mtime_ns, module.stat().st_size)
    monkeypatch.setitem(loading.REFUSED, name, (stamp, "importing threads.py left 1 thread"))
    said: list = []
    for _ in range(2):  # (two workers that loaded it)
        assert left_threads.said(said.append)
        left_threads.learn(said[-1][2])
    told = left_threads.config()
    assert len(told["skip"]) == 1, told["skip"]
    assert left_threads.apply(told) == {(folder, "threads")}
    module.write_text("def answer():\n    pass\n")  # (fixed)
    assert left_threads.apply(left_threads.config()) == set()


def test_a_device_check_that_ran_out_of_memory_names_no_limit_it_was_not_held_to(
    tmp_path, fresh_pool
):
    """A device worker runs its checks in itself, never capped (a CPU check's process is, at
    `Job.memory_mb`): one that ran out of memory said "(limit 1024 MB)", and the learner looked
    for what took a gigabyte. (The checker ignores its device: no GPU needed.)"""
    from studycli.check import error_report

    (tmp_path / "quiet.py").write_text("def answer():\n    pass\n" + CHECKS_ANSWER)
    attempt = tmp_path / "attempt.py"
    attempt.write_text("def answer():\n    raise MemoryError\n")
    folder = str(tmp_path)
    candidate = Candidate("file", "answer", path=str(attempt))
    on_device = Job(folder, "quiet", "check", candidate, device="cuda", memory_mb=1024)
    outcome = run_job(on_device)
    assert outcome.message == "ran out of memory", outcome.message
    assert error_report._memory_note(on_device) == "ran out of memory"
    assert error_report._memory_note(replace(on_device, device="cpu")) == (
        "ran out of memory (the limit is 1024 MB)"
    )


def test_a_device_worker_uses_one_hardware_queue_whatever_the_environment_says(
    solutions, monkeypatch, fresh_pool
):
    """CUDA_DEVICE_MAX_CONNECTIONS=32 in the learner's environment made twelve device workers
    under the run's MPS daemon fail cards ("CUDA-capable device(s) is/are busy or
    unavailable"): a device worker gets 1; the CPU's checks keep the environment's."""
    monkeypatch.setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32")  # (before its workers start)
    on_device = run_job(job(solutions, "check_connections", device="cuda"))
    on_cpu = run_job(job(solutions, "check_connections"))
    assert on_device.status == on_cpu.status == "pass", (on_device, on_cpu)
    assert (printed(on_device, "connections"), printed(on_cpu, "connections")) == (1, 32)


def test_a_worker_whose_command_is_gone_before_it_is_ready_leaves_without_a_word():
    """`check --device cuda` with a card id it does not know: the command said so and ended
    while its twelve CUDA workers, started at once, still made their contexts; each then said
    "ready" into a pipe no one read, and printed BrokenPipeError's traceback under the error.
    A worker whose command is gone leaves quietly."""
    import subprocess
    import sys

    from studycli.check.protocol import write_message
    from studycli.check.zygote import TORCHLESS_PRELOAD

    requests_read, requests_write = os.pipe()
    replies_read, replies_write = os.pipe()
    code = "from studycli.check.zygote import serve; serve()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(requests_read), str(replies_write)],
        pass_fds=(requests_read, replies_write),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(requests_read)
    os.close(replies_write)
    os.close(replies_read)  # the command is gone: what the worker says has no reader
    config = {"preload": list(TORCHLESS_PRELOAD), "solutions": None, "fork": False,
              "device": "cpu", "torch": False}  # fmt: skip
    write_message(requests_write, ("config", config))
    out, err = process.communicate(timeout=120)
    os.close(requests_write)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert process.returncode == 0, (process.returncode, err.decode())


_PREPARE = """
import os, sys, threading, time, types
from studycli.check import zygote
sys.modules["torch"] = types.SimpleNamespace(zeros=lambda *args, **kwargs: None)  # (no device)
folder, name, mode = sys.argv[1:]
before = sorted(os.listdir("/proc/self/fd")), os.fstat(2).st_ino
context = None
if mode == "driver":  # the driver writes (a warning) while the module loads, if it does

    def driver():
        waited = time.monotonic() + 1
        while "studycli_solutions." + name not in sys.modules and time.monotonic() < waited:
            time.sleep(0.01)
        os.write(2, b"driver says\\n")
    context = threading.Thread(target=driver)
    context.start()
elif mode == "late alarm":  # the load's timer goes off as its output is put back
    zygote.SOLUTION_LOAD_LIMIT, dup2, calls = 0.3, os.dup2, []

    def late(fd, to):
        dup2(fd, to)
        calls.append(to)
        if len(calls) == 3:
            time.sleep(1)
    zygote.os.dup2 = late
config = {"device": "cuda" if context else "cpu", "preload": [], "solutions": (folder, [name]),
          "torch": False, "fork": False}
zygote._prepare(config, context)
after = sorted(os.listdir("/proc/self/fd")), os.fstat(2).st_ino
if mode == "logs later":  # what the module set up at its top, used after its load
    import logging

    logging.getLogger("quiet").warning("logged later")
print("loaded" if "studycli_solutions." + name in sys.modules else "left", before == after)
"""


def _prepared(tmp_path, source: str, mode: str) -> tuple[str, str]:
    """(What `_prepare` of a worker did with a module of `source`, whether its descriptors
    are as they were; its fd 2) in a process of its own, as `mode` says."""
    import subprocess

    (tmp_path / "quiet.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-c", _PREPARE, str(tmp_path), "quiet", mode],
        capture_output=True,
        text=True,
        timeout=60,
        # (as a worker's: its stdout, a pipe's, holds back what is printed to it)
        env={name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


def test_a_device_workers_driver_writing_as_a_module_loads_is_no_print_of_the_module(tmp_path):
    """A device worker makes its CUDA context in a thread (`_make_cuda_context`) while it
    prepares, and a module loaded then had the process's fds 1 and 2 in a pipe of its own
    (`_output_aside`): what the driver wrote meanwhile (a warning) went into that pipe, lost,
    and the quiet module was taken for one that prints, left for each check to load."""
    said, err = _prepared(tmp_path, "import time\ntime.sleep(0.6)\nVALUE = 1\n", "driver")
    assert said == "loaded True", (said, err)
    assert "driver says" in err


def test_a_modules_load_timed_out_as_its_output_is_put_back_leaves_the_workers_fds_as_they_were(
    tmp_path,
):
    """The timer of a module's load (`_at_most`) was armed around `_output_aside`: going off
    as that put the worker's output back, it left fd 2 in the module's pipe (whose reader it
    then never closed) and two descriptors open, for the worker's life."""
    said, err = _prepared(tmp_path, "VALUE = 1\n", "late alarm")
    assert said.endswith("True"), (said, err)


def test_a_module_that_sets_up_logging_at_its_top_logs_where_the_worker_writes(tmp_path):
    """A solution module's top-level `logging.basicConfig()` took the stream that
    `_output_aside` had put in sys.stderr for its load, closed after it: each later log line
    (a checker's, in each check forked from the worker) was "--- Logging error ---" and
    "ValueError: I/O operation on closed file", where it had gone to the worker's stderr (in a
    check, the check's output). The streams of the load write to fds 1 and 2, whatever they
    are then, and are left open."""
    source = "import logging\nlogging.basicConfig()\nVALUE = 1\n"
    said, err = _prepared(tmp_path, source, "logs later")
    assert said == "loaded True", (said, err)
    assert "Logging error" not in err and "WARNING:quiet:logged later" in err, err


def test_a_module_that_prints_to_the_original_stdout_at_its_top_is_left_to_its_checks(tmp_path):
    """`print(..., file=sys.__stdout__)` at a module's top went into that stream's buffer (a
    pipe's, not line-buffered), past `_output_aside`'s pipe: the module was taken for a quiet
    one, and its line was written to the worker's output (the command's) at the next flush."""
    source = 'import sys\nprint("to the original stdout", file=sys.__stdout__)\nVALUE = 1\n'
    said, err = _prepared(tmp_path, source, "none")
    assert said == "left True", (said, err)


def test_a_device_worker_imports_a_module_that_prints_at_its_top_anew_for_each_check(tmp_path):
    """A solution module that prints at its top is left by the worker's preparation for each
    check to import, where its output is kept (and the reference's print fails the card). A
    device worker runs its checks one after another in itself: the first check imported it
    and kept it, and only that check's output had the line; the reference's check, run later
    in that worker, printed nothing and passed the card (on CUDA). A worker without fork on
    the CPU runs its checks the same way."""
    source = "print('printed at import')\ndef answer():\n    pass\n" + CHECKS_ANSWER
    checks = _references_in_a_device_worker(tmp_path, "printer", source, ("check", "check"))
    outputs = [check.get("output", "") for check in checks]
    assert ["printed at import" in output for output in outputs] == [True, True], outputs


def test_the_cpu_zygote_counts_no_gpu_without_a_warning_where_the_driver_fails_to_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On an H100 host the CPU zygote's warm-up backward pass, in the keeper's pid namespace,
    made torch warn "CUDA initialization: Unexpected error from cudaGetDeviceCount() ...
    Error 304" (the count taken for zero, as asked): once from each zygote on the command's
    stderr, five times in `check --jobs 16`. Here the backward pass warns as torch did there."""
    import warnings

    import torch

    from studycli.check import zygote

    def warning_backward(self: torch.Tensor, *args: object, **kwargs: object) -> None:
        warnings.warn(
            "CUDA initialization: Unexpected error from cudaGetDeviceCount()", stacklevel=2
        )

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setattr(torch.Tensor, "backward", warning_backward)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        zygote._without_cuda()
    assert [str(warning.message) for warning in shown] == []
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
