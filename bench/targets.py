"""Every target of issue 13, measured by the script that owns it, then listed together: the
target, the figure (with its ratio where the target is one), PASS or FAIL, and the machine.

    python bench/targets.py [--only 1 2 3 4 5] [--work DIR]

1 bench/startup.py   start-up against a minimal Typer app; 10,000 cards through the index
2 bench/scale.py     10,000 cards and 1,000,000 reviews (--work keeps the collection)
3 bench/check_all.py `studycli check` against torch's import + in-process time / cores
4 bench/feedback.py  an attempt's outcome in `solve --watch` and in `review`
5 bench/check_all.py --gpu   `check --device cuda` against the CPU run (needs a GPU)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PYTHON, machine

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "1": ["startup.py"],
    "2": ["scale.py"],
    "3": ["check_all.py"],
    "4": ["feedback.py"],
    "5": ["check_all.py", "--gpu"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(SCRIPTS), choices=list(SCRIPTS))
    parser.add_argument("--work", help="bench/scale.py keeps its synthetic collection here")
    args = parser.parse_args()
    lines = []
    for number in args.only:
        command = [PYTHON, str(HERE / SCRIPTS[number][0]), *SCRIPTS[number][1:]]
        if number == "2" and args.work:
            command += ["--work", args.work]
        print(f"--- {' '.join(command[1:])}", flush=True)
        out = subprocess.run(command, capture_output=True, text=True)
        print(out.stdout + out.stderr[-2000:], flush=True)
        lines += [
            line for line in out.stdout.splitlines() if line[:2] in {f"{n}." for n in "12345"}
        ]
    print(f"=== issue 13 targets, on: {machine()}")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
