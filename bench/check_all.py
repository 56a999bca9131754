"""Targets 3 and 5: `studycli check` over every shipped card, against its ideal, and on a GPU.

The ideal (issue 13): torch's import plus the in-process time of every candidate (reference,
variants, starter, wrong answers) run one after another in one process on one thread, divided
by the cores. `studycli check --jobs <cores>` runs the same candidates, each isolated in its own
process, through the `studycli` console script as a user runs it; the ratio is its wall time
over the ideal. Beside it, the isolation floor: what a trivial check costs through the same
runner (forked from the same zygote, torch imported), most of it in the kernel (the fork, the
child's page faults and exit). Added for every candidate to the ideal's work, it gives the
least time any run keeping each candidate in its own process can take on this machine. Two
more lines compare without isolation: the candidates in process split over one process per
core started together, and the cores' own scaling (the candidates warm, in one process alone
against one process per core at once), which the ideal takes to be 1.00x.

With --gpu, `studycli check --device cuda` and the CPU run are timed side by side on the same
machine instead (target 5: the CUDA run no slower than the CPU run); `check` starts its private
CUDA MPS daemon where the machine has one, and `--device cuda --no-mps` is timed beside them.

Each `check` is run once first, not counted (as after any earlier run: the files read from disk
are in the page cache, and the seconds each check took are in the cache folder, so that the
longest start first), then `--repeat` times; the median counts.

    python bench/check_all.py [--jobs N] [--gpu [--diagnose [N ...]] [--device-workers N ...]]
                              [--repeat 3] [--cards ID ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PYTHON, ROOT, env, machine, median, prepared_jobs, report, run_candidate

CHECK_LIMIT = 1.3


def studycli() -> list[str]:
    """The console script next to this Python (as users run it), else `python -m studycli`."""
    script = Path(PYTHON).parent / "studycli"
    return [str(script)] if script.exists() else [PYTHON, "-m", "studycli"]


def torch_import(environ: dict[str, str]) -> tuple[float, float]:
    """torch's import: (wall, CPU) seconds, medians of three fresh processes."""
    probe = (
        "import time; t, c = time.perf_counter(), time.process_time(); import torch; "
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    runs = [
        subprocess.run([PYTHON, "-c", probe], env=environ, capture_output=True, text=True,
                       check=True).stdout.split()
        for _ in range(3)
    ]  # fmt: skip
    return median([float(r[0]) for r in runs]), median([float(r[1]) for r in runs])


def tree_cpu(command: list[str], environ: dict[str, str]) -> tuple[float, float, str]:
    """Run `command`: (wall seconds, CPU seconds of its whole process tree, stdout).

    This process becomes a subreaper, so that the fork server (orphaned when the command
    exits) is reaped here, with its children's CPU time.
    """
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(command, env=environ, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    with contextlib.suppress(ChildProcessError):
        while True:
            os.waitpid(-1, 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode not in (0, 1):
        print(out.stderr[-1000:])
    return wall, cpu, out.stdout


def in_process(cards: list[str], share: str | None = None, warm: bool = False) -> None:
    """(The --in-process mode.) Run every candidate here, one after another; print their times.
    With `share` (a folder), run only the candidates this process claims there first (one
    file each, made with O_EXCL), in the order of `share`/order.json (longest first) if given:
    processes started together split the candidates among them, each taking the next
    unclaimed one. With `warm`, run them all once first, untimed (what they import on first
    use is then imported)."""
    import resource

    jobs = prepared_jobs(cards)
    # the memory cap each check has (4096 MB more than now): a wrong answer that blows the
    # memory up raises MemoryError here, as there, instead of bringing the kernel's OOM killer
    with open("/proc/self/status", encoding="ascii") as status:
        size = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, ((size + 4096 * 1024) * 1024, resource.RLIM_INFINITY))
    order = list(jobs)
    if share and os.path.exists(os.path.join(share, "order.json")):
        with open(os.path.join(share, "order.json"), encoding="utf-8") as listed:
            order = [key for key in json.load(listed) if key in jobs]
            order += [key for key in jobs if key not in order]

    def run(job) -> float:
        started = time.perf_counter()
        run_candidate(job, "cpu")
        return time.perf_counter() - started

    for job in jobs.values() if warm else ():
        run(job)
    times = {}
    cpu = time.process_time()
    for number, key in enumerate(order):
        if share:
            try:
                os.close(os.open(os.path.join(share, str(number)), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue  # another process runs it
        times[key] = run(jobs[key])
    print(json.dumps({"times": times, "cpu": time.process_time() - cpu}), flush=True)
    os._exit(0)  # torch's clean-up at exit takes 0.4-0.5 s on the 2-core box: not the work's


TIMELINE = """
import sys, time, threading, json
T0 = time.perf_counter()
from pathlib import Path
from studycli.check import plan, pool, verify
from studycli.content.loader import load_content
from studycli.paths import check_times_path

device, jobs = sys.argv[1], int(sys.argv[2])
pool.device_workers = verify.device_workers = lambda jobs, count=int(sys.argv[4]): count
from studycli.check import mps
daemon = mps.private_daemon(sys.argv[5] == "1")
daemon.__enter__()
pool.warm_up(device, jobs)
content = load_content(Path(sys.argv[3]))
cards = list(content.cards.values())
plan.warm_up(cards, content, device, jobs)
runnable = verify.checkable(cards, content)
linted = time.perf_counter() - T0
log = []
run_job = verify.run_job


def timed(job):
    started = time.perf_counter() - T0
    outcome = run_job(job)
    log.append((started, time.perf_counter() - T0, outcome.seconds, job.check_module,
                job.candidate.kind, outcome.status, job.device))
    return outcome


verify.run_job = timed
verify.run_checks(runnable, content, jobs=jobs, device=device, times=check_times_path())
end = time.perf_counter() - T0
log.sort()
print(f"    lint done {linted:.1f} s, first check started {log[0][0]:.1f} s and reported "
      f"{min(e for _, e, *_ in log):.1f} s, all done {end:.1f} s; {len(log)} checks, in-child "
      f"seconds {sum(x[2] for x in log):.1f}, slot-seconds {sum(e - s for s, e, *_ in log):.1f}, "
      f"CPU of this process {time.process_time():.1f} s")
for started, ended, seconds, module, kind, status, _ in sorted(log, key=lambda x: x[0] - x[1])[:5]:
    print(f"      {started:5.1f}-{ended:5.1f} s {module} {kind} {status} (in child {seconds:.2f} s)")
for where in sorted({entry[6] for entry in log}):
    mine = [entry for entry in log if entry[6] == where]
    print(f"    on {where}: {len(mine)} checks, first reported {min(e[1] for e in mine):.1f} s, "
          f"{min(e[0] for e in mine):.1f}-"
          f"{max(e[1] for e in mine):.1f} s, in-child seconds {sum(e[2] for e in mine):.1f}, "
          f"slot-seconds {sum(e[1] - e[0] for e in mine):.1f}; the last to end:")
    for started, ended, seconds, module, kind, status, _ in sorted(mine, key=lambda e: -e[1])[:4]:
        print(f"      {started:5.1f}-{ended:5.1f} s {module} {kind} {status} (in child "
              f"{seconds:.2f} s)")
    by_module = {}
    for entry in mine:
        by_module[entry[3]] = by_module.get(entry[3], 0.0) + entry[2]
    print("      in-child seconds by module: " + ", ".join(
        f"{m} {t:.2f}" for m, t in sorted(by_module.items(), key=lambda i: -i[1])[:12]))
daemon.__exit__(None, None, None)
"""


# (The isolation floor.) `count` trivial checks (the test deck's add_one) through the runner,
# `jobs` at a time, after one that starts the worker: forked from the same zygote, with torch
# imported, as every check of a `check` run. Prints the CPU seconds they took in the kernel
# (the zygote's and its reaped children's system time, from /proc: forks, faults, exits), in
# all (with user time, and this process's), and the whole by process: the zygote's, the
# checks' children's, this process's (the runner's side of the protocol).
# Then the minor page faults of the zygote and of its reaped children: what the CPU time's
# kernel half mostly is (fifty-sixth session, perf on the 2-core box: 44% of the zygote's and
# its children's CPU in page faults, 12% in the fork), and which, unlike the CPU time, does
# not move with the machine's load.
FLOOR = """
import os, resource, sys
from concurrent.futures import ThreadPoolExecutor
from studycli.check import pool
from studycli.check.runner import Candidate, Job, run_job
fixture, count, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pool.preload([], solutions=(fixture, ["arith"]))  # as `check` loads the solution modules
job = Job(fixture, "arith", "check_add_one", Candidate("reference", "add_one", "arith"))
assert run_job(job).status == "pass"
zygote = pool._pool.zygotes["light"].pid  # (the one: no `warm_up` asked for more)
def cpu():
    with open(f"/proc/{zygote}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    faults, children_faults = map(int, fields[7:9])  # minflt, cminflt
    user, system, children_user, children_system = map(int, fields[11:15])
    tick, mine = os.sysconf("SC_CLK_TCK"), resource.getrusage(resource.RUSAGE_SELF)
    kernel = (system + children_system) / tick
    zygote_cpu, children = (user + system) / tick, (children_user + children_system) / tick
    command = mine.ru_utime + mine.ru_stime
    return (kernel, zygote_cpu + children + command, zygote_cpu, children, command, faults,
            children_faults)
before = cpu()
with ThreadPoolExecutor(jobs) as pool:
    assert all(outcome.status == "pass" for outcome in pool.map(run_job, [job] * count))
print(*(after - first for after, first in zip(cpu(), before)))
"""
FLOOR_CHECKS = 400


def in_process_runs(
    environ: dict[str, str], count: int, cards: list[str], *options: str
) -> tuple[float, list[dict]]:
    """`count` processes of the --in-process mode (with `options`) started together: (wall
    seconds until the last ended, what each printed)."""
    command = [PYTHON, __file__, "--in-process", *options, "--cards", *cards]
    started = time.perf_counter()
    workers = [
        subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    outs = [worker.communicate()[0] for worker in workers]
    wall = time.perf_counter() - started
    for worker in workers:
        if worker.returncode:
            raise subprocess.CalledProcessError(worker.returncode, command)
    return wall, [json.loads(out) for out in outs]


def summed(measured: dict) -> float:
    """The seconds of all the candidates an --in-process run timed."""
    return sum(measured["times"].values())


def shared_in_process(
    environ: dict[str, str], cores: int, cards: list[str], times: dict[str, float]
) -> tuple[float, float]:
    """The candidates in process, not isolated, split over `cores` processes started together
    (each imports torch, then takes the next unclaimed candidate, longest first by `times`):
    (wall seconds, the candidates' summed seconds). What the machine's cores give when they
    share the work with no isolation at all; the ideal assumes they give `cores` times one."""
    with tempfile.TemporaryDirectory(prefix="studycli-share-") as share:
        Path(share, "order.json").write_text(json.dumps(sorted(times, key=lambda k: -times[k])))
        wall, measured = in_process_runs(environ, cores, cards, "--share", share)
    return wall, sum(summed(part) for part in measured)


def scaling(environ: dict[str, str], cores: int, cards: list[str]) -> tuple[float, float]:
    """How much slower one core runs the candidates while every core runs them: the seconds
    all the candidates took in process, warm (each run once before), in one process alone and
    (the median) in each of `cores` processes started together. The ideal counts `cores` times
    the work of one core alone; shared caches, memory bandwidth, a lower clock with every core
    busy or cores that are threads of one core make it less."""
    _, [alone] = in_process_runs(environ, 1, cards, "--warm")
    _, together = in_process_runs(environ, cores, cards, "--warm")
    return summed(alone), median([summed(measured) for measured in together])


def isolation_floor(environ: dict[str, str], jobs: int) -> tuple[float, float, tuple[float, ...]]:
    """CPU seconds one isolated check costs whatever it runs (a trivial check's): in the
    kernel (forking it from the zygote, its page faults, its exit), in all (with the runner's
    own work for it in this process, the zygote and the child), and the whole by process (the
    zygote, the check's child, this process), then the minor page faults of the zygote and of
    the check's child (each a check's share)."""
    fixture = ROOT / "tests" / "fixtures" / "content" / "solutions"
    out = subprocess.run(
        [PYTHON, "-c", FLOOR, str(fixture), str(FLOOR_CHECKS), str(jobs)],
        env=environ, capture_output=True, text=True, check=True,
    )  # fmt: skip
    kernel, whole, *parts = (float(seconds) / FLOOR_CHECKS for seconds in out.stdout.split())
    return kernel, whole, tuple(parts)


def timeline(environ: dict[str, str], device: str, jobs: int, workers: int, mps: bool) -> None:
    """(A diagnostic, not a target.) When each check ran, in a `check` run in one process, with
    `workers` device workers, under a private MPS daemon or not."""
    print(f"  timeline of a check run, --device {device} --jobs {jobs}, {workers} device "
          f"workers{', MPS' if mps else ''}:", flush=True)  # fmt: skip
    out = subprocess.run(
        [PYTHON, "-c", TIMELINE, device, str(jobs), str(ROOT), str(workers), str(int(mps))],
        env=environ, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    print(out.stdout + out.stderr[-1500:], flush=True)


def run_checks(
    environ: dict[str, str], jobs: int, devices: list[str], cards: list[str], repeat: int
) -> dict[str, tuple[float, float]]:
    """`studycli check` on each device: once not counted, then `repeat` times interleaved;
    (median wall seconds, median CPU seconds) per device."""
    for device in devices:
        run_check(environ, jobs, device, cards, "not counted")
    runs: dict[str, list[tuple[float, float]]] = {device: [] for device in devices}
    for _ in range(repeat):
        for device in devices:
            runs[device].append(run_check(environ, jobs, device, cards))
    return {
        device: (median([r[0] for r in found]), median([r[1] for r in found]))
        for device, found in runs.items()
    }


# `studycli check` with its number of device workers forced (`--device-workers`): a comparison
FORCED_WORKERS = """
import sys
from studycli.check import pool, verify
pool.device_workers = verify.device_workers = lambda jobs, count=int(sys.argv.pop(1)): count
sys.argv[0] = "studycli"
from studycli.cli import main
main()
"""


def run_check(
    environ: dict[str, str], jobs: int, device: str, cards: list[str], note: str = ""
) -> tuple[float, float]:
    """`studycli check`: (wall seconds, CPU seconds of all its processes). `device` may carry
    options ("cuda --no-mps"), and "@N" to force N device workers ("cuda@8")."""
    device, *more = device.split()  # "cuda --no-mps": the options after the device
    device, _, workers = device.partition("@")
    program = [PYTHON, "-c", FORCED_WORKERS, workers] if workers else studycli()
    command = [*program, "check", *cards, "--jobs", str(jobs), "--device", device, *more,
               "--json"]  # fmt: skip
    seconds, cpu, stdout = tree_cpu(command, environ)
    results = json.loads(stdout or "[]")
    failed = [r["id"] for r in results if r["status"] != "pass"]
    shown = f"{device} ({workers} device workers)" if workers else device
    print(
        f"  studycli check --jobs {jobs} --device {shown}: {seconds:.1f} s ({cpu:.1f} CPU s), "
        f"{len(results) - len(failed)} of {len(results)} cards pass"
        + (f" (not: {', '.join(failed)})" if failed else "")
        + (f" ({note})" if note else "")
        # what a card that failed said, kept: a failure seen once on a lent GPU host (its
        # incremental-mean, fifty-ninth session) was otherwise lost with the machine
        + "".join(f"\n    {r['id']}: {r['message'][:600]}" for r in results if r["id"] in failed),
        flush=True,
    )
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--gpu", action="store_true", help="time --device cuda against the CPU")
    parser.add_argument("--cards", nargs="*", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--diagnose", nargs="*", type=int, default=None, help="with --gpu: timelines of runs "
        "on the CPU and on CUDA (with these numbers of device workers)",
    )  # fmt: skip
    parser.add_argument(
        "--device-workers", nargs="*", type=int, default=[], help="with --gpu: also time "
        "`check --device cuda` with these numbers of device workers forced",
    )  # fmt: skip
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--share", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        in_process(args.cards, args.share, args.warm)
        return
    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="studycli-bench-") as home:
        environ = env(STUDYCLI_HOME=home)
        environ.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.gpu:
            gpu(environ, args.jobs, args.cards, args.diagnose, args.repeat, args.device_workers)
        else:
            ideal(environ, args.jobs, args.cards, args.repeat)


def ideal(environ: dict[str, str], jobs: int, cards: list[str], repeat: int) -> None:
    """Target 3. The ideal's in-process time is measured `repeat` times too, each beside a
    `check` run (interleaved: the box's speed drifts), and its median counts: measured once,
    it moved 8.2-13.0 s between runs on the 2-core box (the first candidate to use torch.func
    pays its import, 1.2-3.7 s). So is the isolation floor (`isolation_floor`), and with it
    the least time any run that keeps each candidate in its own process can take here."""
    cores = len(os.sched_getaffinity(0))  # as `check` counts them (taskset makes fewer)
    importing, importing_cpu = torch_import(environ)
    run_check(environ, jobs, "cpu", cards, "not counted")
    rounds = []
    for _ in range(repeat):
        _, [measured] = in_process_runs(environ, 1, cards)
        rounds.append((summed(measured), measured["cpu"], measured["times"],
                       *run_check(environ, jobs, "cpu", cards),
                       *isolation_floor(environ, jobs),
                       *shared_in_process(environ, cores, cards, measured["times"])))  # fmt: skip
    total, in_cpu = median([r[0] for r in rounds]), median([r[1] for r in rounds])
    seconds, cpu = median([r[3] for r in rounds]), median([r[4] for r in rounds])
    kernel, whole = median([r[5] for r in rounds]), median([r[6] for r in rounds])
    parts = [median([r[7][i] for r in rounds]) for i in range(5)]
    shared, shared_total = median([r[8] for r in rounds]), median([r[9] for r in rounds])
    best = importing + total / cores
    candidates = len(rounds[0][2])
    print(
        f"  ideal: torch import {importing:.2f} s + {candidates} candidates in process "
        f"{total:.1f} s (median of {', '.join(f'{r[0]:.1f}' for r in rounds)}) / {cores} cores"
        f" = {best:.1f} s (CPU: {importing_cpu:.1f} + {in_cpu:.1f} s)",
        flush=True,
    )
    slowest = sorted(rounds[-1][2].items(), key=lambda item: -item[1])[:3]
    print("  slowest candidates (last round): " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    ratio = seconds / best
    print(
        f"  CPU time of the whole check over the ideal's: "
        f"{cpu / (importing_cpu + in_cpu):.2f}x (load average {os.getloadavg()[0]:.1f})"
    )
    # What isolating each candidate costs before any of it runs: the best a check run can do
    # is the ideal with that added to the work the cores share.
    print(
        f"  isolation floor: a trivial isolated check costs {whole * 1000:.1f} ms of CPU, "
        f"{kernel * 1000:.1f} ms of it in the kernel (its fork from the zygote, faults, exit); "
        f"by process: the zygote {parts[0] * 1000:.1f} ms, the check's child "
        f"{parts[1] * 1000:.1f} ms, the command {parts[2] * 1000:.1f} ms; minor page faults "
        f"a check: the zygote {parts[3]:.0f}, the check's child {parts[4]:.0f}"
    )
    for what, floor in (("the kernel's share alone", kernel), ("the whole floor", whole)):
        bound = importing + (total + candidates * floor) / cores
        print(
            f"    with {what}, {candidates} isolated candidates can take no less than "
            f"{bound:.1f} s = {bound / best:.2f}x the ideal on this machine"
        )
    # What the cores give together, isolation aside: the ideal counts `cores` times one core
    print(
        f"  not isolated: the candidates in process split over {cores} processes started "
        f"together took {shared:.1f} s = {shared / best:.2f}x the ideal (their own time "
        f"{shared_total:.1f} s, {shared_total / total:.2f}x theirs one process alone: each "
        f"process imports what they use on first use); check over it: {seconds / shared:.2f}x"
    )
    alone, together = scaling(environ, cores, cards)
    slower = together / alone
    scaled = importing + total * slower / cores
    print(
        f"  the cores together: warm, the candidates took {alone:.1f} s in one process alone, "
        f"{together:.1f} s in each of {cores} at once ({slower:.2f}x; the ideal counts 1.00x). "
        f"With that, the ideal would be {scaled:.1f} s, and check {seconds / scaled:.2f}x it"
    )
    report(
        "3. studycli check vs the ideal",
        f"{seconds:.1f} s / {best:.1f} s = {ratio:.2f}x",
        f"<= {CHECK_LIMIT}x",
        ratio <= CHECK_LIMIT,
    )


def gpu(
    environ: dict[str, str],
    jobs: int,
    cards: list[str],
    diagnose: list[int] | None,
    repeat: int,
    device_workers: list[int],
) -> None:
    import torch

    from studycli.check import mps
    from studycli.check.pool import DEVICE_WORKERS, MPS_DEVICE_SHARE

    if not torch.cuda.is_available():
        print("  no CUDA device here: target 5 needs a machine with an NVIDIA GPU")
        return
    print(f"  GPU: {torch.cuda.get_device_name(0)}; MPS's control program: "
          f"{shutil.which(mps.CONTROL) or 'none'}", flush=True)  # fmt: skip
    # neither run pays for the first read of torch's or CUDA's libraries from disk
    warm = "import torch; torch.zeros(1, device='cuda'); torch.ones(8) @ torch.ones(8)"
    subprocess.run([PYTHON, "-c", warm], env=environ, check=True)
    forced = [f"cuda@{count}" for count in device_workers]
    runs = ["cpu", "cuda", "cuda --no-mps", *forced]
    medians = run_checks(environ, jobs, runs, cards, repeat)
    cpu, cuda, alone = (medians[run][0] for run in runs[:3])
    report("5. studycli check --device cuda vs cpu", f"{cuda:.1f} s vs {cpu:.1f} s = "
           f"{cuda / cpu:.2f}x", "<= 1.0x", cuda <= cpu)  # fmt: skip
    print(f"   without MPS (--no-mps): {alone:.1f} s = {alone / cpu:.2f}x", flush=True)
    for run in forced:
        seconds = medians[run][0]
        print(
            f"   with {run.partition('@')[2]} device workers: {seconds:.1f} s = "
            f"{seconds / cpu:.2f}x",
            flush=True,
        )
    if diagnose is not None:
        for device, workers, served in [
            ("cpu", 0, False),
            *(("cuda", n, True) for n in diagnose or [round(jobs * MPS_DEVICE_SHARE)]),
            *(("cuda", n, False) for n in diagnose or [DEVICE_WORKERS]),
        ]:
            timeline(environ, device, jobs, workers, served)


if __name__ == "__main__":
    main()
