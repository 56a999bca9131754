"""(A diagnostic, not a target.) What the checks of a `check --device cuda` run cost on the
device against the CPU, one process, no isolation: every candidate of the cards that run on
CUDA, run once to warm up (libraries' first calls, lazy imports, kernels loaded) and then
timed, on CUDA and then on the CPU in the same process; per module, and where the CUDA pass's
time went (cProfile, by own time: the device's waits show as the calls that read a tensor's
value back, `item`, `__bool__`, `tolist`, `cpu`).

    python bench/device_profile.py [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import torch

    from studycli.check import loading
    from studycli.check.plan import plan
    from studycli.content.loader import load_content

    if not torch.cuda.is_available():
        sys.exit("no CUDA device here")
    torch.set_num_threads(1)
    torch.zeros(1, device="cuda")
    content = load_content(ROOT)
    jobs = [
        job
        for card in content.cards.values()
        if card.runnable
        for job in plan(card, content, device="cuda")
        if job.device == "cuda"
    ]

    def run(job, device: str) -> float:
        started = time.perf_counter()
        try:
            module = loading._load_solution(job.solutions_dir, job.check_module)
            impl, _ = loading._resolve(job)
            getattr(module, job.check_function)(impl, device=device)
        except BaseException:  # a rejected candidate is timed as well as an accepted one
            pass
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - started

    sums: dict[str, dict[str, float]] = {}
    each: dict[int, dict[str, float]] = {}  # a candidate's seconds by device (its index)
    for device in ("cuda", "cpu"):
        if device == "cpu":
            # the memory cap a check has (4096 MB more than now): a wrong answer that blows the
            # memory up fails at once, as in a check, instead of computing for a minute
            with open("/proc/self/status", encoding="ascii") as status:
                size = next(int(line.split()[1]) for line in status if line.startswith("VmSize"))
            limit = (size + 4096 * 1024) * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        for job in jobs:
            run(job, device)
        for number, job in enumerate(jobs):  # timed without the profiler
            seconds = run(job, device)
            each.setdefault(number, {})[device] = seconds
            sums.setdefault(job.check_module, {}).setdefault(device, 0.0)
            sums[job.check_module][device] += seconds
        if device == "cuda":
            profile = cProfile.Profile()
            profile.enable()
            for job in jobs:
                run(job, device)
            profile.disable()
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(args.top)
            report = text.getvalue()
    total = {d: sum(s.get(d, 0.0) for s in sums.values()) for d in ("cuda", "cpu")}
    print(f"{len(jobs)} candidates on CUDA, warm, one after another: {total['cuda']:.2f} s; "
          f"the same on the CPU {total['cpu']:.2f} s")  # fmt: skip
    for module, seconds in sorted(sums.items(), key=lambda item: -item[1]["cuda"]):
        print(f"  {module}: cuda {seconds['cuda']:.3f} s, cpu {seconds['cpu']:.3f} s")
    print(f"the {args.top} candidates that take longest on CUDA:")
    for number in sorted(each, key=lambda n: -each[n]["cuda"])[: args.top]:
        job, seconds = jobs[number], each[number]
        name = job.candidate.name or f"{job.candidate.kind} {job.candidate.index}"
        print(f"  {job.check_module} {job.candidate.kind} {name}: "
              f"cuda {seconds['cuda']:.3f} s, cpu {seconds['cpu']:.3f} s")  # fmt: skip
    print("where the CUDA pass's time went (cProfile, by own time, a pass of its own):")
    print(report[report.find("ncalls") :])
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
