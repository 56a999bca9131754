"""Start-up cost of commands that run no code, against the cost of importing torch.

Commands like `list`, `show` and `lint` must not import torch or numpy. This script times them
and `python -c "import torch"` in the same run, interleaved, and prints the ratios (absolute
seconds on a shared machine are noise; ratios taken in one run are not).

    python bench/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "studycli --help": [sys.executable, "-m", "studycli", "--help"],
    "studycli list": [sys.executable, "-m", "studycli", "list"],
    "studycli show flash-attention": [sys.executable, "-m", "studycli", "show", "flash-attention"],
    "studycli lint": [sys.executable, "-m", "studycli", "lint"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            times[name].append(time.perf_counter() - started)
    torch_time = statistics.median(times["python -c 'import torch'"])
    print(f"{'command':34} {'median s':>9} {'x torch import':>15}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:34} {median:9.3f} {median / torch_time:15.2f}")


if __name__ == "__main__":
    main()
