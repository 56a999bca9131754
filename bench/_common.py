"""Shared by the benchmark scripts: the machine they ran on, a target's line, timing helpers."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def machine() -> str:
    """One line naming the machine: CPU model, cores, and the GPU when torch sees one."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            cpu = next(l.split(":", 1)[1].strip() for l in info if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = ""
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
        names = [line.split(":", 1)[1].split("(")[0].strip() for line in listed.stdout.splitlines()]
        gpu = f", {len(names)} x {names[0]}" if names else ""
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    cores = len(os.sched_getaffinity(0))
    share = f" (of {os.cpu_count()})" if cores != os.cpu_count() else ""
    return f"{cores} cores{share}, {cpu}{gpu}, Python {platform.python_version()}"


def env(**extra: str) -> dict[str, str]:
    """The environment for a studycli child: this checkout first on the path."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **extra,
    }


# The variables that name studycli's folders, or the platform's that platformdirs reads
FOLDER_VARIABLES = (
    "STUDYCLI_HOME", "STUDYCLI_CACHE", "STUDYCLI_DB",
    "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
)  # fmt: skip


def learner_env(home: Path | str, **extra: str) -> dict[str, str]:
    """The environment of a learner's command, as `env`, with `HOME` at `home` and none of
    `FOLDER_VARIABLES`: studycli finds its folders (data, config, cache) through platformdirs
    under that home, as on a learner's machine. (With STUDYCLI_HOME set, as the benchmarks had
    it until the thirty-ninth session, platformdirs was never imported: 12 M instructions,
    `review` 408 M against 418 M; since the forty-fourth, `paths` works a learner's folders
    out itself on Linux, as platformdirs would, and imports it elsewhere only.)"""
    environ = env(HOME=str(home), **extra)
    for name in FOLDER_VARIABLES:
        if name not in extra:
            environ.pop(name, None)
    return environ


def timed(command: list[str], environ: dict[str, str], cwd: Path = ROOT) -> float:
    """Seconds `command` took, start to exit (its output discarded; a failure raises)."""
    started = time.perf_counter()
    subprocess.run(
        command,
        env=environ,
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return time.perf_counter() - started


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(name: str, figure: str, target: str, ok: bool) -> str:
    """One target's line: what, the measured figure, the target, PASS/FAIL."""
    line = f"{name:44} {figure:>26}   target {target:18} {verdict(ok)}"
    print(line, flush=True)
    return line


def prepared_jobs(cards: list[str]) -> dict:
    """This process prepared as a CPU zygote is before it forks checks (`lazy_dynamo` before
    torch, the answers left unscripted, the GPUs hidden, one thread), and every candidate of
    the runnable `cards` (all when empty) planned as `check` plans them, by "card/kind/index"."""
    sys.path.insert(0, str(ROOT))
    from studycli.check import lazy_dynamo

    lazy_dynamo.install()  # as the check's workers do, before torch
    import torch

    from studycli.check import zygote
    from studycli.check.plan import plan
    from studycli.content.loader import load_content

    # as the check's CPU workers do before they fork: hide the GPUs, and have autograd's engine
    # count them (none) before any memory cap; else the first backward pass under a cap asks
    # the driver and fails (0.1-0.3 s in a timed candidate, and a warning: seen on an H200
    # host with the GPUs hidden alone)
    zygote._without_cuda()
    torch.set_num_threads(1)
    # (as the workers do before the solution modules load: online-softmax's wrong answers that
    # trace or script torch.softmax ran TorchScript's tracer here, 1.3 s and a screenful of
    # TracerWarnings, where a check refuses them at once)
    from studycli.check import unscripted

    unscripted.leave_answers_unscripted()
    content = load_content(ROOT)
    chosen = [content.get(c) for c in cards] if cards else list(content.cards.values())
    return {
        f"{card.id}/{job.candidate.kind}/{job.candidate.index}": job
        for card in chosen
        if card.runnable
        for job in plan(card, content)
    }


def run_candidate(job, device: str) -> None:
    """One candidate's check in this process, without isolation: its checker called on it,
    whatever the outcome (a rejected candidate is timed as well as an accepted one)."""
    from studycli.check import loading

    try:
        module = loading._load_solution(job.solutions_dir, job.check_module)
        impl, _ = loading._resolve(job)
        getattr(module, job.check_function)(impl, device=device)
    except BaseException:
        pass
