"""The cost of one Tab press (shell completion of a card id), against `studycli --help` and
against importing torch.

A completer runs in a fresh process on every Tab press: it must stay as light as `--help`.
This script times the three in the same run, interleaved, and prints the ratios (absolute
seconds on a shared machine are noise; ratios taken in one run are not).

    python bench/completion.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAB = {
    "_STUDYCLI_COMPLETE": "complete_bash",
    "COMP_WORDS": "studycli show flash",
    "COMP_CWORD": "2",
}
COMMANDS = {
    "Tab: studycli show flash<Tab>": ([sys.executable, "-m", "studycli"], TAB),
    "studycli --help": ([sys.executable, "-m", "studycli", "--help"], {}),
    "python -c 'import torch'": ([sys.executable, "-c", "import torch"], {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, (command, env) in COMMANDS.items():
            started = time.perf_counter()
            done = subprocess.run(
                command, cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True
            )
            times[name].append(time.perf_counter() - started)
            if env:
                assert b"flash-attention" in done.stdout, done.stdout
    help_time = statistics.median(times["studycli --help"])
    torch_time = statistics.median(times["python -c 'import torch'"])
    print(f"{'command':32} {'median s':>9} {'x --help':>9} {'x torch import':>15}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:32} {median:9.3f} {median / help_time:9.2f} {median / torch_time:15.2f}")


if __name__ == "__main__":
    main()
