"""Per-check overhead of the isolated runner: forked from a warm fork server vs a fresh
interpreter per check (what `subprocess.run([python, ...])` would cost).

Each check must run in its own process (a hang or a memory blow-up must not take the run down),
and every checker needs torch, so a cold process per check pays torch's import each time. The
runner forks checks from a fork server that imported torch once. This script runs the same
trivial check N times both ways, in one run, and prints the ratio.

    python bench/check_runner.py [-n 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "content" / "solutions"
COLD = (
    "import torch, importlib.util, sys; "
    f"spec = importlib.util.spec_from_file_location('arith', {str(FIXTURE / 'arith.py')!r}); "
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); m.check_add_one(m.add_one)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from studycli.check.runner import Candidate, Job, run_job

    job = Job(str(FIXTURE), "arith", "check_add_one", Candidate("reference", "add_one", "arith"))
    run_job(job)  # start the fork server once, as `check` does for its first job
    started = time.perf_counter()
    for _ in range(args.n):
        assert run_job(job).status == "pass"
    warm = (time.perf_counter() - started) / args.n
    started = time.perf_counter()
    for _ in range(args.n):
        subprocess.run([sys.executable, "-c", COLD], check=True)
    cold = (time.perf_counter() - started) / args.n
    print(f"fork server, per check:       {warm * 1000:8.1f} ms")
    print(f"fresh interpreter, per check: {cold * 1000:8.1f} ms")
    print(f"speed-up:                     {cold / warm:8.1f}x")


if __name__ == "__main__":
    main()
