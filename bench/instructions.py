"""Target 1 without a quiet machine: instructions executed (valgrind's callgrind), which a busy
machine does not change, for `due`, `list`, `show` and `review` up to its first card, against
the floor (bench/floor_app.py; for `review`, the floor up to its line). `review` is counted
twice: on a fresh collection (its first card a new one), and as a learner opens it on a
working day (`review-studied`: its first card one studied before and due again, which the
session checks for edits and lapses before showing it; `review-coding`: the same, its first
card a coding card, whose contract, recorded with its review, the session compares with the
card's own before showing it). `show-studied` is `show` with a review database (one review),
which it reads for the flags `review` would show above the card.

Wall-clock ratios depend on the machine's load; instruction counts do not, and track them: on
2026-12-01, run with a Python whose typer is the quiet host's (0.27, no pydantic), they gave
1.38x, 1.34x, 1.40x and 1.62x where the host measured 1.27x, 1.34x, 1.36x and 1.63x.

Target 2 the same way: `due-scale` counts `studycli due` on the synthetic collection of
bench/scale.py (10,000 cards, 1,000,000 reviews; `--work` names the folder that holds it, as
for bench/scale.py, which writes it when it is missing), with a copy of its review store and
bench/scale.py's environment (its `now`, UTC), against the floor: on 2026-12-01 the host's
wall time for it was about the floor's times the instructions' ratio.

    python bench/instructions.py [--python PATH] [--work DIR]
                                 [due list show show-studied review review-studied
                                  review-coding due-scale]

--python: the interpreter to measure with (a virtual environment with studycli's dependencies;
this checkout is put on its path). Needs valgrind (`apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, learner_env, report

LIMIT = 1.25
SCALE_LIMIT = 0.300  # seconds, target 2's `due`; estimated as the floor's wall time x the ratio
FLOOR_WALL = 0.120  # the floor on the quiet host (typer 0.27), 2026-12-01
COMMANDS = {"due": ["due"], "list": ["list"], "show": ["show", "flash-attention"]}
TWO_MONTHS_AGO = (
    (datetime.now(UTC) - timedelta(days=60))
    .replace(microsecond=0)
    .isoformat()
    .replace("+00:00", "Z")
)
# Run up to a front's last line, then leave at once: what `review` costs to its first card.
FRONT = """
import gc, os, sys, types
sys.argv = ["studycli", "review"]
# main() sets the collector's threshold before it imports the command's module: this front
# imports the session's first, to patch it, and does so too (at Python's default it counted
# 10 M instructions of collections during those imports that a learner's `review` never runs)
from studycli.cli import GC_THRESHOLD
gc.set_threshold(*GC_THRESHOLD)
from studycli.cli import review_session
def leave(*args):
    sys.stdout.flush(); os._exit(0)
# The front as the learner gets it (its flags included), up to its last line: a coding card's
# worker, started after that line, is left out.
sys.modules["studycli.check.solve"] = types.SimpleNamespace(warm_up=leave)
real = review_session.ReviewSession._show_front
review_session.ReviewSession._show_front = lambda self, card: (real(self, card), leave())
from studycli.cli import main
main()
"""
FLOOR_LINE = """
import os, sys
sys.argv = ["floor", "hello"]
source = open({floor!r}).read()
try:
    exec(source.replace('if __name__ == "__main__":', 'if True:'))
except SystemExit:
    pass
sys.stdout.flush(); os._exit(0)
"""


def counted(python: str, argv: list[str], environ: dict[str, str], pty: bool = False) -> float:
    """Millions of instructions of one run (after one run not counted: bytecode, the index)."""
    command = [python, *argv]
    if pty:  # the review session needs a terminal
        import pexpect

        def run(prefix: list[str]) -> str:
            child = pexpect.spawn(
                prefix[0], [*prefix[1:], *command], env=environ, cwd=str(ROOT),
                encoding="utf-8", timeout=600, dimensions=(50, 100),
            )  # fmt: skip
            child.expect(pexpect.EOF)
            child.close()
            return child.before or ""

        run(["env"])
        out = run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"])
    else:
        subprocess.run(command, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        ).stderr  # fmt: skip
    found = re.search(r"Collected : (\d+)", out)
    if found is None:
        raise SystemExit(f"no count from valgrind for {argv}: {out[-500:]}")
    return int(found.group(1)) / 1e6


def studied(
    python: str, environ: dict[str, str], home: str, kind: str = "concept"
) -> dict[str, str]:
    """The environment of a collection whose first card in `review` was studied before and is
    due again: one review of the first shipped card of `kind`, two months ago, imported."""
    listed = subprocess.run(
        [python, "-m", "studycli", "list", "--json"],
        env=environ, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    first = next(card["id"] for card in json.loads(listed) if card["kind"] == kind)
    folder = Path(home) / f"studied-{kind}"
    folder.mkdir(exist_ok=True)
    reviews = folder / "reviews.csv"
    reviews.write_text(
        f"card_id,review_rating,review_time,review_duration\n{first},3,{TWO_MONTHS_AGO},5000\n"
    )
    front = {**environ, "HOME": str(folder)}
    subprocess.run(
        [python, "-m", "studycli", "import-reviews", str(reviews)],
        env=front, cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    return front


def due_at_scale(python: str, work: Path | None, environ: dict[str, str], home: str) -> float:
    """Millions of instructions of `studycli due` on the scale collection (a copy of its store;
    the content index written by the first, uncounted run)."""
    import scale
    import synthetic

    with tempfile.TemporaryDirectory(prefix="studycli-scale-") as scratch:
        folder = scale.collection(work or Path(scratch), 10_000, 1_000_000)
        store = Path(scratch) / "reviews.sqlite3"
        shutil.copyfile(folder / "reviews.sqlite3", store)
        at_scale = {
            **environ,
            "HOME": str(Path(home) / "scale"),
            "STUDYCLI_CONTENT": str(folder / "content"),
            "STUDYCLI_DB": str(store),
            "STUDYCLI_NOW": synthetic.NOW.isoformat(),
            "TZ": "UTC",
        }
        return counted(python, ["-m", "studycli", "due"], at_scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--work", type=Path, help="the scale collection (see bench/scale.py)")
    parser.add_argument(
        "commands",
        nargs="*",
        default=[*COMMANDS, "show-studied", "review", "review-studied", "review-coding"],
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studycli-bench-") as home:
        environ = learner_env(
            home,
            PYTHONPATH=str(ROOT),
            PYTHONHASHSEED="0",
            STUDYCLI_CONTENT=str(ROOT),
            TERM="xterm-256color",
            COLUMNS="100",
        )
        environ.pop("PYTHONDONTWRITEBYTECODE", None)
        version = subprocess.run(
            [args.python, "-c", "import typer; print(typer.__version__)"],
            env=environ, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        print(f"instructions (callgrind), {args.python}, typer {version}")
        floor = counted(args.python, [str(ROOT / "bench" / "floor_app.py"), "hello"], environ)
        print(f"floor: {floor:.0f} M")
        for name in args.commands:
            if name == "due-scale":
                value = due_at_scale(args.python, args.work, environ, home)
                report(
                    "2. studycli due, 10k cards, 1M reviews",
                    f"{value:.0f} M: {value / floor:.2f}x, ~{FLOOR_WALL * value / floor * 1000:.0f} ms",
                    f"< {SCALE_LIMIT * 1000:.0f} ms",
                    FLOOR_WALL * value / floor < SCALE_LIMIT,
                )
                continue
            if name in ("review", "review-studied", "review-coding"):
                line = FLOOR_LINE.format(floor=str(ROOT / "bench" / "floor_app.py"))
                base = counted(args.python, ["-c", line], environ, pty=True)
                kind = {"review-studied": "concept", "review-coding": "coding"}.get(name)
                front = environ if kind is None else studied(args.python, environ, home, kind)
                value = counted(args.python, ["-c", FRONT], front, pty=True)
                what = f"{value:.0f} M vs {base:.0f} M to the floor's line"
            else:
                base = floor
                command = COMMANDS[name.removesuffix("-studied")]
                env = environ if name in COMMANDS else studied(args.python, environ, home)
                value = counted(args.python, ["-m", "studycli", *command], env)
                what = f"{value:.0f} M"
            ratio = value / base
            report(
                f"1. studycli {name} vs the floor, in instructions",
                f"{what}: {ratio:.2f}x",
                f"<= {LIMIT}x",
                ratio <= LIMIT,
            )


if __name__ == "__main__":
    main()
