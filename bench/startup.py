"""Target 1: start-up of the commands a learner runs all day, against the framework's floor.

Runs `bench/floor_app.py` (a two-command Typer app printing one Rich line) and `studycli due`,
`list`, `show` and `review` (up to its first card, through a pseudo-terminal) on the shipped
content, interleaved, and prints each median and its ratio to the floor (wall clock; the CPU
time of each process is shown too: on a shared machine it is the steadier of the two). The
first runs, not counted, write the content index and the bytecode, as any earlier use would.

Then the content index at scale: a synthetic collection of 10,000 cards (bench/synthetic.py)
loaded through a warm index, in a fresh process each time.

    python bench/startup.py [--repeat 15] [--cards 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PYTHON, ROOT, env, learner_env, machine, median, report

STUDYCLI = [PYTHON, "-m", "studycli"]
COMMANDS = {
    "floor": [PYTHON, str(ROOT / "bench" / "floor_app.py"), "hello"],
    "due": [*STUDYCLI, "due"],
    "list": [*STUDYCLI, "list"],
    "show": [*STUDYCLI, "show", "flash-attention"],
}
FRONT = "q quit"  # the last line of a card's front in `review`
LIMIT = 1.25
LOAD_LIMIT = 0.150


def run_once(command: list[str], environ: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `command`, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=environ, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def first_card(command: list[str], environ: dict[str, str], until: str) -> float:
    """Seconds until `until` shows on a pseudo-terminal; then `q` is pressed."""
    import pexpect

    started = time.perf_counter()
    child = pexpect.spawn(
        command[0], command[1:], env=environ, cwd=str(ROOT), encoding="utf-8", timeout=60,
        dimensions=(50, 100),
    )  # fmt: skip
    child.expect(until)
    elapsed = time.perf_counter() - started
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    return elapsed


def startup(repeat: int, home: Path) -> list[str]:
    environ = learner_env(home, STUDYCLI_CONTENT=str(ROOT), TERM="xterm-256color", COLUMNS="100")
    environ.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode is written, as after any install
    for command in COMMANDS.values():  # warm: bytecode, the content index, the store
        run_once(command, environ)
    first_card([*STUDYCLI, "review"], environ, FRONT)
    wall: dict[str, list[float]] = {name: [] for name in [*COMMANDS, "floor (pty)", "review"]}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeat):
        for name, command in COMMANDS.items():
            seconds, used = run_once(command, environ)
            wall[name].append(seconds)
            cpu[name].append(used)
        wall["floor (pty)"].append(first_card(COMMANDS["floor"], environ, "hello"))
        wall["review"].append(first_card([*STUDYCLI, "review"], environ, FRONT))
    floor, floor_cpu, floor_pty = (
        median(wall["floor"]),
        median(cpu["floor"]),
        median(wall["floor (pty)"]),
    )
    print(
        f"floor: {floor * 1000:.0f} ms wall, {floor_cpu * 1000:.0f} ms CPU; "
        f"to its line on a pseudo-terminal {floor_pty * 1000:.0f} ms ({repeat} runs each, medians)"
    )
    lines = []
    for name in ("due", "list", "show"):
        ratio, cpu_ratio = median(wall[name]) / floor, median(cpu[name]) / floor_cpu
        lines.append(
            report(
                f"1. studycli {name} vs the floor",
                f"{median(wall[name]) * 1000:.0f} ms {ratio:.2f}x (CPU {cpu_ratio:.2f}x)",
                f"<= {LIMIT}x",
                ratio <= LIMIT,
            )
        )
    ratio = median(wall["review"]) / floor_pty
    lines.append(
        report(
            "1. studycli review, first card vs the floor",
            f"{median(wall['review']) * 1000:.0f} ms {ratio:.2f}x",
            f"<= {LIMIT}x",
            ratio <= LIMIT,
        )
    )
    return lines


def index_at_scale(cards: int, repeat: int, work: Path) -> list[str]:
    """Load `cards` synthetic cards through a warm content index, each time in a new process."""
    sys.path.insert(0, str(ROOT))
    import synthetic

    content = work / "content"
    synthetic.make_content(content, cards)
    index = work / "content.index"
    probe = (
        "import sys, time; from pathlib import Path; "
        "from studycli.content.loader import load_content; "
        "started = time.perf_counter(); "
        "c = load_content(Path(sys.argv[1]), index=Path(sys.argv[2])); "
        "print(time.perf_counter() - started, len(c.cards))"
    )
    environ = env()
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [PYTHON, "-c", probe, str(content), str(index)]
    subprocess.run(command, env=environ, check=True, capture_output=True)  # writes the index
    old = time.time() - 3600  # as an index written an hour after the files: none is "racy"
    for path in content.glob("cards/*/*.yaml"):
        os.utime(path, (old, old))
    subprocess.run(command, env=environ, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        out = subprocess.run(command, env=environ, check=True, capture_output=True, text=True)
        seconds, count = out.stdout.split()
        assert int(count) == cards, out.stdout
        times.append(float(seconds))
    figure = median(times)
    return [
        report(
            f"1. load {cards:,} unchanged cards (warm index)",
            f"{figure * 1000:.0f} ms (min {min(times) * 1000:.0f})",
            f"< {LOAD_LIMIT * 1000:.0f} ms",
            figure < LOAD_LIMIT,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cards", type=int, default=10_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    # The floor is the framework's own, so it moves with typer's version (0.29.2 imports
    # pydantic as it starts, 0.27.2 did not) and rich's: each run names them.
    versions = subprocess.run(
        [PYTHON, "-c", "from importlib.metadata import version as v; "
         "print(*(f'{n} {v(n)}' for n in ('typer', 'rich')), sep=', ')"],
        capture_output=True, text=True, check=True, env=env(),
    ).stdout.strip()  # fmt: skip
    print(f"framework: {versions}")
    with tempfile.TemporaryDirectory(prefix="studycli-bench-") as work:
        startup(args.repeat, Path(work) / "home")
        index_at_scale(args.cards, args.repeat, Path(work))


if __name__ == "__main__":
    main()
