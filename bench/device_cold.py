"""(A diagnostic, not a target; a machine with CUDA.) What a CUDA worker pays the first time
it meets a card, against the device's own speed: every card's device checks run in a fresh
process (CUDA ready, the solution module loaded, as a device worker has them) twice, cold and
then warm; the first calls of the libraries the checkers reach (cuBLAS, cuDNN, cuSOLVER, ...);
and with `--side-by-side N`, N processes each running every device check warm at once,
against one alone (whether the GPU, shared under MPS, is what bounds a run).

    python bench/device_cold.py [--parallel 8] [--side-by-side 12]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAIT = 600  # seconds for a child's figures: a child that died does not hang the bench


def _device_jobs(module: str | None = None) -> list:
    from studycli.check.plan import plan
    from studycli.content.loader import load_content

    content = load_content(ROOT)
    return [
        job
        for card in content.cards.values()
        if card.runnable
        for job in plan(card, content, device="cuda")
        if job.device == "cuda" and module in (None, job.check_module)
    ]


def _start_worker() -> None:
    """As a device worker starts: torch (torch._dynamo deferred), one thread, CUDA ready."""
    sys.path.insert(0, str(ROOT))
    from studycli.check import lazy_dynamo

    lazy_dynamo.install()
    import torch

    torch.set_num_threads(1)
    torch.zeros(1, device="cuda")


def _timed_pass(jobs: list) -> float:
    import torch
    from _common import run_candidate

    started = time.perf_counter()
    for job in jobs:
        run_candidate(job, "cuda")
    torch.cuda.synchronize()
    return time.perf_counter() - started


def _one_card(module: str, results) -> None:
    _start_worker()
    from studycli.check import loading

    jobs = _device_jobs(module)
    for job in jobs[:1]:
        loading._load_solution(job.solutions_dir, job.check_module)
    results.put((module, len(jobs), _timed_pass(jobs), _timed_pass(jobs)))


def _every_check(barrier, results) -> None:
    _start_worker()
    jobs = _device_jobs()
    _timed_pass(jobs)  # cold
    barrier.wait()
    results.put(_timed_pass(jobs))


def _first_calls(results) -> None:
    _start_worker()
    import torch

    x = torch.randn(8, 8, device="cuda")

    def spd():  # (after the matmul's first call)
        return x @ x.T + 8 * torch.eye(8, device="cuda")

    calls = {
        "add": lambda: x + 1,
        "softmax": lambda: x.softmax(-1),
        "matmul (cuBLAS)": lambda: x @ x,
        "conv1d (cuDNN)": lambda: torch.nn.functional.conv1d(x[None], x[:, :, None]),
        "cholesky (cuSOLVER)": lambda: torch.linalg.cholesky(spd()),
        "solve": lambda: torch.linalg.solve(spd(), x),
        "eigh": lambda: torch.linalg.eigh(spd()),
        "topk": lambda: x.topk(3),
        "backward": lambda: (x.clone().requires_grad_() ** 2).sum().backward(),
    }
    seconds = {}
    for name, call in calls.items():
        times = []
        for _ in range(2):
            started = time.perf_counter()
            call()
            torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        seconds[name] = times
    results.put(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parallel", type=int, default=8, help="fresh processes at once")
    parser.add_argument("--side-by-side", type=int, default=0, metavar="N")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from _common import machine

    from studycli.check import mps

    spawn = multiprocessing.get_context("spawn")  # (a forked child cannot use CUDA)
    results = spawn.Queue()
    print(f"machine: {machine()}")
    with mps.private_daemon() as served:
        print(f"MPS: {'yes' if served else 'no'}")
        spawn.Process(target=_first_calls, args=(results,)).start()
        first = results.get(timeout=WAIT)
        print("first call / second call in a fresh process (ms):")
        for name, (cold, warm) in first.items():
            print(f"  {name}: {cold * 1000:.1f} / {warm * 1000:.2f}")
        modules = sorted({job.check_module for job in _device_jobs()})
        rows = []
        for start in range(0, len(modules), args.parallel):
            batch = modules[start : start + args.parallel]
            for module in batch:
                spawn.Process(target=_one_card, args=(module, results)).start()
            rows += [results.get(timeout=WAIT) for _ in batch]
        rows.sort(key=lambda row: row[3] - row[2])
        cold, warm = sum(row[2] for row in rows), sum(row[3] for row in rows)
        print(f"each solution module's device checks in a fresh process: cold {cold:.2f} s, "
              f"then warm {warm:.2f} s ({len(rows)} modules)")  # fmt: skip
        for module, count, card_cold, card_warm in rows:
            print(f"  {module}: {count} checks, cold {card_cold:.3f} s, warm {card_warm:.3f} s")
        for count in (1, args.side_by_side) if args.side_by_side else ():
            barrier = spawn.Barrier(count)
            for _ in range(count):
                spawn.Process(target=_every_check, args=(barrier, results)).start()
            seconds = [results.get(timeout=WAIT) for _ in range(count)]
            print(f"{count} process(es) at once, each every device check warm: "
                  f"{sum(seconds) / count:.2f} s each (slowest {max(seconds):.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
