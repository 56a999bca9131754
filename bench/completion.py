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


def _tab(words: str) -> dict[str, str]:
    return {
        "_STUDYCLI_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }


TAB = "studycli show flash"
COMMANDS = {  # name: (command, environment, what its output must hold)
    f"Tab: {TAB}<Tab>": ([sys.executable, "-m", "studycli"], _tab(TAB), b"flash-attention"),
    # a tag and a cloze card's deletions come from the content index, not file names
    "Tab: studycli review --tag att<Tab>": (
        [sys.executable, "-m", "studycli"],
        _tab("studycli review --tag att"),
        b"attention",
    ),
    "Tab: studycli suspend rope-base-cloze#<Tab>": (
        [sys.executable, "-m", "studycli"],
        _tab("studycli suspend rope-base-cloze#"),
        b"rope-base-cloze#c1",
    ),
    "studycli --help": ([sys.executable, "-m", "studycli", "--help"], {}, b""),
    "python -c 'import torch'": ([sys.executable, "-c", "import torch"], {}, b""),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, (command, env, expected) in COMMANDS.items():
            started = time.perf_counter()
            done = subprocess.run(
                command, cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True
            )
            times[name].append(time.perf_counter() - started)
            assert expected in done.stdout, (name, done.stdout)
    help_time = statistics.median(times["studycli --help"])
    torch_time = statistics.median(times["python -c 'import torch'"])
    print(f"{'command':44} {'median s':>9} {'x --help':>9} {'x torch import':>15}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:44} {median:9.3f} {median / help_time:9.2f} {median / torch_time:15.2f}")


if __name__ == "__main__":
    main()
