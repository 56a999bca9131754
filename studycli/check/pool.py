"""The workers that run checks, and their warm-up.

On the CPU, zygotes (see `zygote`) that fork a child per check; on CUDA, device workers that
run checks themselves, one after another, each in its CUDA context (`_Pool`). Here too: what
the workers import ahead of the checks (`preload`: what checkers import on first use, as
`lazy_imports.lazy_modules` reads it from their code), how many run side by side (`cores`,
`device_workers`, `light_zygotes`), `warm_up`, which starts them before the first check, and
`_Spawned`, a check's process where there is no fork. `runner.run_job` takes a worker from
here for each check; what runs in the check's own process is `child`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import cpu_quota, mps
from .child import _child

if TYPE_CHECKING:
    from .runner import Job

# A CUDA worker holding this much more (device memory, or host memory) than after its first
# check is replaced by a fresh one.
CUDA_LEAK_MB = 512
HOST_LEAK_MB = 2048
DEVICE_WORKERS = 4
# Under CUDA's MPS (mps.py): this share of the jobs, the rest for the CPU's checks. In a run on
# CUDA the device's checks are most of the work (389 of the 560 checks of the shipped cards),
# and the CPU's are done long before them: on an H200 host `check --jobs 16` took 6.3 s with
# 6 device workers, 5.7 s with 8 and 5.7 s with 10 (the CPU run 5.6 s; medians of 3); once a
# device slot kept to its card (`picker.Picker`), 4.9 s with 10, 4.6 s with 12 (faster in each
# of 3 interleaved rounds) and 5.5 s with 14 (the CPU run 3.7 s).
MPS_DEVICE_SHARE = 0.75
# Device workers that import, once they have torch, what the checks with a `Job.lazy` import
# (AdamW's and the directional derivative's, a few seconds of the shipped cards' checks on
# CUDA), told as soon as the cards are read; a check for them waits while all are busy.
HEAVY_DEVICE_WORKERS = 3
# The CPU's checks at a time per light zygote, at most `MAX_LIGHT_ZYGOTES`: a zygote forks its
# checks one after another (each fork about 2 ms of kernel time copying its page tables), and
# with 16 at a time on the 16-core host one zygote held the run up: 4.6 s, against 4.5 s with
# 2 zygotes and 3.8 s with 4 (`check --jobs 16`, 4 interleaved rounds).
CHECKS_PER_ZYGOTE = 4
MAX_LIGHT_ZYGOTES = 4


def torch_gpu_build(version_file: Path | None = None) -> bool | None:
    """Whether the installed torch was built for a GPU (CUDA or ROCm), read from its
    `torch/version.py` without importing torch (a second or more); None when that cannot be
    told (no torch, or a file not as expected)."""
    import ast
    import importlib.util

    if version_file is None:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.submodule_search_locations:
            return None
        version_file = Path(next(iter(spec.submodule_search_locations)), "version.py")
    try:
        tree = ast.parse(version_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    found: dict[str, object] = {}
    for node in tree.body:
        targets: list[ast.expr] = [node.target] if isinstance(node, ast.AnnAssign) else []
        if isinstance(node, ast.Assign):
            targets = node.targets
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                found[target.id] = value.value
    if "cuda" not in found:
        return None
    return found.get("cuda") is not None or found.get("hip") is not None


def cores() -> int:
    """The cores this process may run on (fewer than the machine's under a CPU affinity or
    a container's cpuset), or fewer where a cgroup's CPU quota gives it less (`cpu_quota`)."""
    try:
        allowed = len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
    return cpu_quota.cores(allowed, cpu_quota.quota())


def preload(
    modules: Iterable[str],
    solutions: tuple[str, list[str]] | None = None,
    device: str | None = None,
) -> None:
    """Have the workers import `modules` too, so that no check pays for them, and load the
    solution modules `solutions` (a folder and module names) as each check would.

    A worker started later starts with them; one already running imports them (the checks
    started after that find them). `device`: only the workers of checks on it import
    `modules` ("cpu": the one that forks the CPU's checks; else the device workers); None:
    all of them.
    """
    _pool.preload(tuple(modules), solutions, device)


def ready(job: Job) -> bool:
    """Whether a check of `job` would start at once: on the CPU, whether a zygote it forks
    from has started (none asked for yet counts as ready: waiting would not start one); a
    check on a device, always (its workers are started up front)."""
    return _pool.ready(job.device, job.lazy, job.torch)


def device_workers(jobs: int) -> int:
    """How many checks run on one GPU at once, each in its own worker. Without MPS, more than a
    few only time-slice the device between their contexts (a check's many small kernels then
    wait for the others' turns: with 4 workers each ran at about half its speed alone); under
    MPS their kernels run side by side, and more workers pay: a share of the jobs, leaving at
    least one for the CPU's checks."""
    if mps.running():
        return max(1, min(jobs - 1, round(jobs * MPS_DEVICE_SHARE)))
    return max(1, min(jobs, DEVICE_WORKERS))


def warm_up(
    device: str = "cpu",
    workers: int = 1,
    lazy: tuple[str, ...] = (),
    device_lazy: tuple[str, ...] | None = None,
    torchless: tuple[str, ...] | None = None,
    heavy: int = HEAVY_DEVICE_WORKERS,
) -> None:
    """Start the workers for checks on `device` now, in the background, so that the first check
    finds torch (and what was preloaded) imported: on the CPU the one that forks every check
    (a check started meanwhile waits for it), and with `lazy` the one for the checks that
    import those modules on first use (see `Job.lazy`); on CUDA those too (for the checkers
    that ignore the device) and `device_workers(workers)` device workers. With `device_lazy`,
    a few of those (`HEAVY_DEVICE_WORKERS`, no more than `heavy`, the device's checks that
    import it) import it too, for those checks.
    With `torchless` (what they import on first use), the one for the checks that do not use
    torch (see `Job.torch`). The CPU's checks fork from `light_zygotes` light zygotes, by how
    many run at once."""
    total = device_workers(workers) if device != "cpu" else 0  # the device's, of `workers`
    _pool.light_count = light_zygotes(max(1, workers - total))
    _pool.worker("cpu")
    if lazy:
        _pool.worker("cpu", lazy)
    if torchless is not None:
        _pool.worker("cpu", torchless, torch=False)
    if device != "cpu":
        _pool.start(device, total)
        if device_lazy:
            _pool.make_heavy(min(HEAVY_DEVICE_WORKERS, total // 2, heavy), device_lazy)


def light_zygotes(checks: int) -> int:
    """How many light zygotes fork the CPU's checks when `checks` run at once."""
    return max(1, min(MAX_LIGHT_ZYGOTES, checks // CHECKS_PER_ZYGOTE))


def _kind(lazy: tuple[str, ...], torch: bool) -> str:
    """Which of the CPU's zygotes a check forks from (see `_Pool`)."""
    return "torchless" if not torch else "heavy" if lazy else "light"


def _side(device: str) -> str:
    """Which workers run checks on `device`: the CPU's ("cpu"), or the device workers."""
    return "cpu" if device == "cpu" else "device"


class _Pool:
    """The workers: zygotes for the CPU, which fork a child per check; for CUDA, a worker per
    check running at once, each keeping its CUDA context from check to check.

    The CPU's checks fork from a zygote that imported what every check needs (from several,
    when many run at once: `light_zygotes`), except those whose checkers import more on first
    use (`Job.lazy`: torch._dynamo for an optimizer's step), which fork from a zygote of their
    own that imported that too. A fork and its exit cost with the size of the process they
    copy: on the 2-core box a trivial check forked from torch's import took 17.5 ms, from
    torch and torch._dynamo 23.5 ms. The heavy zygote is forked from the (first) light one
    once that has imported torch, and imports torch._dynamo on top. The checks that do not use
    torch (`Job.torch`: a sliding-window maximum's, a quarter of the shipped cards' check time)
    fork from a torchless zygote, a new interpreter ready long before torch is imported.

    A CUDA worker runs its checks itself, one after another, in its CUDA context. Each starts
    light, a new interpreter (see `_device_worker`); the checks with a `Job.lazy` run in heavy
    ones, light ones told to import it too (`make_heavy`). (Heavy ones started as new
    interpreters were ready 2 s after the light ones, and the checks that waited for them
    ended the run.)"""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.modules: dict[str, tuple[str, ...]] = {"cpu": (), "device": ()}  # to import
        self.solutions: tuple[str, tuple[str, ...]] | None = None
        # "light" ("light 2", ... up to `light_count`, see `_light`); "heavy" for the checks
        # with a `Job.lazy`, which imports `self.lazy["heavy"]` too; "torchless" for those
        # without `Job.torch`, which imports `self.lazy["torchless"]` and not torch
        self.zygotes: dict[str, Any] = {}
        self.light_count = 1
        self.lazy: dict[str, tuple[str, ...]] = {"heavy": (), "torchless": ()}
        self.device_lazy: tuple[str, ...] = ()  # what the heavy device workers import
        self.idle: list[Any] = []  # CUDA workers waiting for a check
        self.kinds: dict[int, str] = {}  # every live CUDA worker's: light or heavy
        self.freed = threading.Condition(self.lock)  # a CUDA worker went back to the idle ones
        self.baseline: dict[int, tuple[float, float]] = {}  # a CUDA worker's memory at first
        self.last: dict[int, Any] = {}  # a thread's last CUDA worker (see `_idle_device_worker`)

    def preload(self, modules: tuple[str, ...], solutions, device: str | None = None) -> None:
        sides = ("cpu", "device") if device is None else (_side(device),)
        with self.lock:
            new = {side: tuple(m for m in modules if m not in self.modules[side]) for side in sides}
            for side in sides:
                self.modules[side] += new[side]
            if solutions is not None:
                known = (
                    self.solutions[1]
                    if self.solutions and self.solutions[0] == solutions[0]
                    else ()
                )
                fresh = (solutions[0], tuple(sorted(set(solutions[1]) | set(known))))
                loaded = fresh == self.solutions
                self.solutions = fresh
            else:
                loaded = True
            running = [w for w in [*self.zygotes.values(), *self.idle] if not w.dead]
        for worker in running:
            more = new.get(_side(worker.device), ())
            if more or not loaded:
                worker.preload(more, None if loaded else self.solutions)

    def ready(self, device: str, lazy: tuple[str, ...], torch: bool = True) -> bool:
        if device != "cpu":
            return True
        with self.lock:
            kind = _kind(lazy, torch)
            names = self._light_names() if kind == "light" else [kind]
            found = [w for name in names if (w := self.zygotes.get(name)) and not w.dead]
        return not found or any(worker.ready.is_set() for worker in found)

    def worker(self, device: str, lazy: tuple[str, ...] = (), torch: bool = True) -> Any:
        """The worker for a check on `device` whose checker imports `lazy` on first use (and
        uses `torch`, on the CPU); None where there is no fork (Windows: a process is spawned
        for each check instead)."""
        if not hasattr(os, "fork"):
            return None
        with self.lock:
            if device == "cpu":
                return self._zygote(_kind(lazy, torch), lazy)
            kind = "heavy" if lazy else "light"
            while True:
                found = self._idle_device_worker(kind, lazy)
                if found is None and (kind == "light" or self._heavy() < HEAVY_DEVICE_WORKERS):
                    found = self._device_worker(device, kind, lazy)
                if found is not None:
                    self.last[threading.get_ident()] = found
                    return found
                # a heavy worker's checks are short: one is free sooner than another light
                # worker would have imported `lazy` (1.2 s for torch._dynamo)
                self.freed.wait(0.5)

    def _idle_device_worker(self, kind: str, lazy: tuple[str, ...]) -> Any:
        """An idle device worker for a check of `kind`, taken from the idle ones, or None: for
        a light check a light one, else a heavy one; for a heavy check a heavy one, else,
        while there are fewer than `HEAVY_DEVICE_WORKERS`, a light one told to import `lazy`
        (`_make_heavy`). Of those, the one this thread ran its last check in: a thread runs a
        card's checks one after another (`picker.Picker`), and a worker pays for a card's
        first check (its kernels loaded, its libraries' handles made) once. (With
        `self.lock` held.)"""
        fits = [w for w in self.idle if not w.dead]
        for worker in [w for w in self.idle if w.dead]:
            self.idle.remove(worker)
            self.kinds.pop(id(worker), None)
        if kind == "heavy" and self._heavy() >= HEAVY_DEVICE_WORKERS:
            fits = [w for w in fits if self.kinds.get(id(w)) == "heavy"]
        if not fits:
            return None
        mine = self.last.get(threading.get_ident())
        fits.sort(key=lambda w: (self.kinds.get(id(w)) == kind, w is mine))  # the best last
        worker = fits[-1]
        self.idle.remove(worker)
        if kind == "heavy":
            self._make_heavy(worker, lazy)
        return worker

    def _heavy(self) -> int:
        """How many device workers are heavy, busy or idle. (With `self.lock` held.)"""
        return sum(kind == "heavy" for kind in self.kinds.values())

    def _zygote(self, kind: str, lazy: tuple[str, ...] = ()) -> Any:
        """The CPU's zygote of `kind`, started if it is not running: "heavy" imports `lazy`
        too, forked from the light one once that imported torch (else it would import torch
        again beside it, 1.5 s of CPU on the 2-core box); "torchless" imports `lazy` but not
        torch, a new interpreter. (With `self.lock` held.)"""
        from .worker import Worker

        if kind == "light":
            return self._light()
        more = tuple(m for m in lazy if m not in self.lazy[kind])
        self.lazy[kind] += more
        found = self.zygotes.get(kind)
        if found is None or found.dead:
            modules = self.modules["cpu"] + self.lazy[kind]
            if kind == "torchless":
                found = Worker(modules, self.solutions, torch=False)
            else:
                light = self.zygotes.get("light")
                parent = light if light is not None and not light.dead else None
                found = Worker(modules, self.solutions, parent=parent)
            self.zygotes[kind] = found
        elif more:
            found.preload(more, None)
        return found

    def _light(self) -> Any:
        """The light zygote a check forks from: of the `light_count`, each started if it is not
        running (a new interpreter: they import torch side by side, on cores idle at the
        start), the ready one with the fewest checks running. (With `self.lock` held.)"""
        from .worker import Worker

        names = self._light_names()
        for name in names:
            found = self.zygotes.get(name)
            if found is None or found.dead:
                self.zygotes[name] = Worker(self.modules["cpu"], self.solutions)
        return min(
            (self.zygotes[name] for name in names),
            key=lambda worker: (not worker.ready.is_set(), worker.running()),
        )

    def _light_names(self) -> list[str]:
        """The names of the `light_count` light zygotes in `self.zygotes`."""
        return ["light", *(f"light {number}" for number in range(2, self.light_count + 1))]

    def _device_worker(self, device: str, kind: str, lazy: tuple[str, ...] = ()) -> Any:
        """A new worker for checks on `device`, a new interpreter (see `zygote.serve`: it makes
        its CUDA context while torch imports, `device_worker._make_cuda_context`); a heavy one
        imports what the checks with a `Job.lazy` import too. (With `self.lock` held.)"""
        from .worker import Worker

        self._add_device_lazy(lazy)
        modules = self.modules["device"] + (self.device_lazy if kind == "heavy" else ())
        worker = Worker(modules, self.solutions, fork=False, device=device)
        self.kinds[id(worker)] = kind
        return worker

    def make_heavy(self, count: int, lazy: tuple[str, ...]) -> None:
        """Have idle light device workers (started or starting) import `lazy` too, until
        `count` device workers have."""
        with self.lock:
            light = [w for w in self.idle if not w.dead and self.kinds.get(id(w)) == "light"]
            for worker in light[: max(0, count - self._heavy())]:
                self._make_heavy(worker, lazy)

    def _make_heavy(self, worker: Any, lazy: tuple[str, ...]) -> None:
        """(With `self.lock` held.)"""
        self._add_device_lazy(lazy)
        if self.kinds.get(id(worker)) != "heavy":
            worker.preload(self.device_lazy, None)
            self.kinds[id(worker)] = "heavy"

    def _add_device_lazy(self, lazy: tuple[str, ...]) -> None:
        """What the heavy device workers import grows by `lazy`. (With `self.lock` held.)"""
        self.device_lazy += tuple(m for m in lazy if m not in self.device_lazy)

    def _retire(self, worker: Any) -> None:
        """Close a device worker, in the background (it may still be starting)."""
        self.baseline.pop(id(worker), None)
        with self.lock:
            self.kinds.pop(id(worker), None)
            self.last = {thread: w for thread, w in self.last.items() if w is not worker}
            self.freed.notify_all()
        threading.Thread(target=worker.close, daemon=True).start()

    def start(self, device: str, count: int) -> None:
        """Start light device workers until `count` device workers are idle."""
        if not hasattr(os, "fork"):
            return
        with self.lock:
            while len([w for w in self.idle if not w.dead]) < count:
                self.idle.append(self._device_worker(device, "light"))

    def release(self, worker: Any, job: Job, result: dict | None) -> None:
        """After a check: a CUDA worker goes back to the idle ones, unless it died, leaks, met
        a fault of the device, was left a thread running by the check or at a lower priority
        (then it is closed: the next check starts a fresh one)."""
        if job.device == "cpu":
            return
        held = (worker.memory.get("device_mb", 0.0), worker.memory.get("rss_mb", 0.0))
        first = self.baseline.setdefault(id(worker), held)
        broken = result is None or _device_fault(str(result.get("message", "")))
        leaks = held[0] > first[0] + CUDA_LEAK_MB or held[1] > first[1] + HOST_LEAK_MB
        strays = worker.memory.get("threads_left", 0.0) > 0  # (`device_worker._serve_inline`)
        lowered = worker.memory.get("lowered", 0.0) > 0  # (`starvation.restore`)
        if worker.dead or broken or leaks or strays or lowered:
            self._retire(worker)
            return
        with self.lock:
            self.idle.append(worker)
            self.freed.notify_all()


_pool = _Pool()


# What CUDA and its libraries say about a fault of the device or of a worker's context (a
# handle they could not make, a context that broke), never about an answer as such.
DEVICE_FAULTS = ("CUDA error", "CUBLAS_STATUS_", "CUSOLVER_STATUS_", "CUDNN_STATUS_", "CUFFT_")


def _device_fault(message: str) -> bool:
    return any(fault in message for fault in DEVICE_FAULTS)


class _Spawned:
    """A check in a spawned process (where there is no fork), with a worker's Running's face."""

    def __init__(self, job: Job) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(job, sender), daemon=True)
        self._process.start()
        sender.close()
        self.pid = self._process.pid
        self.result: dict | None = None
        self.exitcode: int | None = None
        self.output = ""  # Python's, in the result (no C-level capture here)
        self.dump = ""  # (no crash dump either)
        self.contained = False
        self.started = threading.Event()
        self.started.set()  # a spawned process starts its own interpreter: its limit counts
        self.gone = threading.Event()

    def wait(self, timeout: float | None) -> bool:
        if not self._receiver.poll(timeout):
            if self._process.is_alive():
                return False
        else:
            with contextlib.suppress(EOFError):
                from .protocol import report_of

                self.result = report_of(self._receiver.recv_bytes())
        if self.result is None:
            self._process.join()
            self.exitcode = self._process.exitcode
            self.gone.set()
        return True

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self.exitcode = self._process.exitcode
        self.gone.set()
