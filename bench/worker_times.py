"""(A diagnostic, not a target.) `studycli check ARGS` as the console script runs it, with when
each worker was asked for and was ready, when it was told to import more, and when each check
was asked for and ended (seconds since this process started), printed to stderr at its end.

    python bench/worker_times.py [check's arguments, e.g. --device cuda --jobs 16]

What ends a run is then plain: the last checks to end, and what the workers they ran in were
doing before them.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time

START = time.perf_counter()


def now() -> float:
    return time.perf_counter() - START


def main() -> None:
    from studycli.check import verify
    from studycli.check.worker import Worker

    workers: list[dict] = []
    checks: list[tuple] = []
    made = Worker.__init__
    preload = Worker.preload

    def init(self, preload=(), solutions=None, **options) -> None:
        entry = {
            "asked": now(),
            "ready": None,
            "device": options.get("device", "cpu"),
            "forked": options.get("parent") is not None,
            "torch": options.get("torch", True),
            "fork": options.get("fork", True),
            "more": [],
        }
        made(self, preload, solutions, **options)
        entry["pid"] = self.pid
        workers.append(entry)
        self._times = entry

        def wait() -> None:
            self.ready.wait()
            entry["ready"] = now()

        threading.Thread(target=wait, daemon=True).start()

    def told(self, more, solutions) -> None:
        if more:
            self._times["more"].append((now(), ",".join(more)))
        preload(self, more, solutions)

    Worker.__init__ = init
    Worker.preload = told
    run_job = verify.run_job

    def timed(job):
        asked = now()
        outcome = run_job(job)
        checks.append((asked, now(), outcome.seconds, job.check_module, job.candidate.kind,
                       job.device, bool(job.lazy)))  # fmt: skip
        return outcome

    verify.run_job = timed

    def report() -> None:
        out = sys.stderr
        print(f"\nworkers (asked -> ready, s since start; {len(workers)}):", file=out)
        for w in sorted(workers, key=lambda w: w["asked"]):
            kind = "device" if w["device"] != "cpu" else "zygote" if w["fork"] else "inline"
            how = "forked" if w["forked"] else "new"
            torch = "" if w["torch"] else " torchless"
            ready = "never" if w["ready"] is None else f"{w['ready']:.2f}"
            more = "; ".join(f"told {m} at {t:.2f}" for t, m in w["more"])
            print(f"  {kind} {how}{torch}: {w['asked']:.2f} -> {ready} {more}", file=out)
        if checks:
            print(
                f"checks: {len(checks)}, the first asked {min(c[0] for c in checks):.2f}, "
                f"all ended {max(c[1] for c in checks):.2f}; the last ten to end:",
                file=out,
            )
            for asked, ended, seconds, module, kind, device, lazy in sorted(
                checks, key=lambda c: c[1]
            )[-10:]:
                print(f"  {asked:.2f}-{ended:.2f} (in child {seconds:.2f}) {module} {kind} "
                      f"{device}{' lazy' if lazy else ''}", file=out)  # fmt: skip
        for device in sorted({c[5] for c in checks}):
            mine = [c for c in checks if c[5] == device]
            by_module: dict[str, list[float]] = {}
            for c in mine:
                by_module.setdefault(c[3], []).append(c[2])
            print(f"on {device}: {len(mine)} checks, {sum(c[2] for c in mine):.1f} in-child s; "
                  "by module (s, checks): " + ", ".join(
                      f"{m} {sum(t):.2f} {len(t)}"
                      for m, t in sorted(by_module.items(), key=lambda i: -sum(i[1]))[:16]
                  ), file=out)  # fmt: skip
        print(f"process ends {now():.2f}", file=out)

    atexit.register(report)
    sys.argv = ["studycli", "check", *sys.argv[1:]]
    from studycli.cli import main as studycli

    studycli()


if __name__ == "__main__":
    main()
