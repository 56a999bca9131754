"""Target 4: the learner's wait for feedback on an attempt, after the first.

Through a pseudo-terminal, as a learner works:

- `studycli solve ID --watch`: each save of the attempt file (a different wrong answer each
  time, then the right one) is timed from the write to the check's outcome on the screen;
- `studycli review`: on a coding card, `s` runs $EDITOR (a script that puts the next attempt
  in place and notes when it exits), timed from the editor's exit to the outcome.

The target is 0.2 s plus the check's own time (measured here by running the same checker on the
same attempts in process). Cards: the test deck's `add-one` (a trivial checker) and the
shipped `online-softmax` (torch).

    python bench/feedback.py [--repeat 5]

`--threads` measures instead what the number of torch threads a check gets does to it: every
coding card's reference checked as `solve` checks an attempt (`solve.check_job`, the reference's
solution module as the attempt file), with 1 thread and with one per core, in turn, the median
wall time of each; `--busy` runs a busy loop on one core meanwhile (as another program would).

    python bench/feedback.py --threads [--busy] [--repeat 3] [ID ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PYTHON, ROOT, env, machine, median, report

LIMIT = 0.2
FIXTURE = ROOT / "tests" / "fixtures" / "content"
OUTCOME = r"(✓ passed every case|✗ failed|✗ error|✗ timeout)"

# card: (content folder, wrong answers: each saved (or put in place by the editor) in turn)
CARDS = {
    "add-one": (
        FIXTURE,
        [f"def add_one(x):\n    return x + {n}\n" for n in range(2, 12)],
    ),
    "online-softmax": (
        ROOT,
        [
            "import torch\n\ndef online_softmax(x, block_size):\n"
            f"    return torch.exp(x) / torch.exp(x).sum(-1, keepdim=True) * {1 + n / 1000}\n"
            for n in range(1, 11)
        ],
    ),
}


def check_seconds(root: Path, card_id: str, sources: list[str], work: Path) -> float:
    """The check's own time: its checker run on each of `sources` in this process (torch
    imported), the median (a rejected attempt stops at its first failing case)."""
    sys.path.insert(0, str(ROOT))
    from studycli.check import loading
    from studycli.content.loader import load_content
    from studycli.content.source import checker_ref, read_module

    card = load_content(root).get(card_id)
    info = read_module(root / "solutions", card.solution.module)
    ref = checker_ref(card, info)
    checker = getattr(loading._load_solution(str(root / "solutions"), ref.module), ref.function)
    times = []
    for number, source in enumerate(sources):
        path = work / f"{card_id}-{number}.py"
        path.write_text(source)
        impl = getattr(loading._load_attempt(path), card.solution.function)
        started = time.perf_counter()
        with contextlib.suppress(AssertionError):  # rejected: timed all the same
            checker(impl, device="cpu")
        times.append(time.perf_counter() - started)
    return median(times)


def spawn(arguments: list[str], environ: dict[str, str]):
    import pexpect

    return pexpect.spawn(
        PYTHON, ["-m", "studycli", *arguments], env=environ, cwd=str(ROOT), encoding="utf-8",
        timeout=60, dimensions=(50, 120),
    )  # fmt: skip


def watch(card_id: str, repeat: int, home: Path, environ: dict[str, str]) -> list[float]:
    """Seconds from each save to its outcome on screen, `solve --watch` (first save excluded)."""
    root, wrong = CARDS[card_id]
    attempt = home / "data" / "attempts" / f"{card_id}.py"
    child = spawn(["--content", str(root), "solve", card_id, "--watch", "--no-record"], environ)
    child.expect("to be saved")  # (the starter is not checked: the watch waits for a save)
    import pexpect

    times = []
    for number, source in enumerate(wrong[: repeat + 1]):
        child.expect(pexpect.TIMEOUT, timeout=0.3)  # a learner types; what was shown is read
        saved = attempt.with_name(f".saving-{number}.py")
        saved.write_text(source)
        started = time.perf_counter()
        os.replace(saved, attempt)  # saved at once, as editors do: one change to see
        child.expect(OUTCOME)
        times.append(time.perf_counter() - started)
    child.send("q")
    child.expect(__import__("pexpect").EOF)
    return times[1:]


EDITOR = """#!{python}
import os, sys, time
from pathlib import Path
attempts = sorted(Path({folder!r}).glob("*.py"))
count = Path({folder!r}) / "count"
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
Path(sys.argv[1]).write_text(attempts[n % len(attempts)].read_text())
Path({folder!r}, "exited").write_text(repr(time.time()))
"""


def review(card_id: str, repeat: int, home: Path, environ: dict[str, str]) -> list[float]:
    """Seconds from the editor's exit to the outcome on screen, `s` in `studycli review`."""
    root, wrong = CARDS[card_id]
    folder = home / "editor"
    folder.mkdir()
    for number, source in enumerate(wrong):
        (folder / f"{number:02d}.py").write_text(source)
    editor = home / "editor.py"
    editor.write_text(EDITOR.format(python=PYTHON, folder=str(folder)))
    editor.chmod(0o755)
    content = home / "one-card"
    (content / "cards" / "deck").mkdir(parents=True)
    card_file = next((root / "cards").glob(f"*/{card_id}.yaml"))
    (content / "cards" / "deck" / card_file.name).write_text(card_file.read_text())
    os.symlink(root / "solutions", content / "solutions")
    child = spawn(["--content", str(content), "review"], {**environ, "EDITOR": str(editor)})
    child.expect("q quit")
    times = []
    for _ in range(repeat + 1):
        time.sleep(0.3)
        child.send("s")
        child.expect(OUTCOME)
        seen = time.time()
        times.append(seen - float((folder / "exited").read_text()))
        child.expect("s: edit and run again")
    child.send("q")
    child.expect(__import__("pexpect").EOF)
    return times[1:]


def thread_times(card_ids: list[str], repeat: int) -> None:
    """Each coding card's reference through `solve`'s check, with 1 thread and with one per
    core in turn (`repeat` times each, interleaved): the median wall times, one line a card."""
    import dataclasses

    sys.path.insert(0, str(ROOT))
    from studycli.check import pool, solve
    from studycli.check.runner import run_job
    from studycli.content.loader import load_content

    content = load_content(ROOT)
    cards = [card for card in content.cards.values() if card.runnable and card.solution]
    cards = [card for card in cards if not card_ids or card.id in card_ids]
    counts = sorted({1, pool.cores()})
    print(f"{'card':40} " + " ".join(f"{f'{n} thread(s)':>14}" for n in counts), flush=True)
    totals = dict.fromkeys(counts, 0.0)
    for card in cards:
        assert card.solution is not None
        reference = content.solutions_dir / f"{card.solution.module}.py"
        job = solve.check_job(card, content, reference, timeout=60, memory_mb=1024)
        solve.warm_up(card, content)
        run_job(job)  # (the worker's first check of the card: its modules loaded)
        times: dict[int, list[float]] = {n: [] for n in counts}
        statuses = set()
        for _ in range(repeat):
            for n in counts:
                started = time.perf_counter()
                statuses.add(run_job(dataclasses.replace(job, threads=n)).status)
                times[n].append(time.perf_counter() - started)
        figures = {n: median(times[n]) for n in counts}
        for n in counts:
            totals[n] += figures[n]
        print(
            f"{card.id:40} " + " ".join(f"{figures[n] * 1000:12.0f}ms" for n in counts)
            + ("" if statuses == {"pass"} else f"  ({'/'.join(sorted(statuses))})"),
            flush=True,
        )  # fmt: skip
    print(f"{'sum of medians':40} " + " ".join(f"{totals[n]:13.2f}s" for n in counts))


@contextlib.contextmanager
def busy_core(on: bool):
    """A busy loop on one core while the block runs (`on`), as another program would be."""
    import subprocess

    loop = subprocess.Popen([sys.executable, "-c", "while 1: pass"]) if on else None
    try:
        yield
    finally:
        if loop is not None:
            loop.kill()
            loop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", action="store_true", help="1 thread against one per core")
    parser.add_argument("--busy", action="store_true", help="with --threads: one core busy")
    parser.add_argument("cards", nargs="*", help="with --threads: these cards only")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    if args.threads:
        print(f"load average: {os.getloadavg()}, busy loop: {args.busy}", flush=True)
        with busy_core(args.busy):
            thread_times(args.cards, args.repeat)
        return
    for card_id, (root, wrong) in CARDS.items():
        with tempfile.TemporaryDirectory(prefix="studycli-feedback-") as scratch:
            home = Path(scratch)
            own = check_seconds(root, card_id, wrong, home)
            for name, measure in (("solve --watch", watch), ("review, s", review)):
                where = home / name.split()[0].strip(",")
                where.mkdir()
                environ = env(STUDYCLI_HOME=str(where), TERM="dumb", COLUMNS="120")
                for name_ in ("PYTHONDONTWRITEBYTECODE", "EDITOR", "VISUAL"):
                    environ.pop(name_, None)
                times = measure(card_id, args.repeat, where, environ)
                figure = median(times)
                report(
                    f"4. {name}: {card_id}, an attempt's outcome",
                    f"{figure * 1000:.0f} ms (max {max(times) * 1000:.0f})",
                    f"<= {(LIMIT + own) * 1000:.0f} ms",
                    figure <= LIMIT + own,
                )


if __name__ == "__main__":
    main()
