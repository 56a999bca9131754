"""(A diagnostic, not a target.) What a candidate costs inside its forked child, against the same
candidate run in the process it is forked from: where target 3's check spends past the ideal.

    python bench/child_cost.py [--cards ID ...]

One process prepares as a CPU zygote does (torch, the preloads, every solution module loaded,
`gc.freeze`), then forks a "cold" server that keeps that state, and runs every candidate once
itself ("warm": what the candidates import or cache on first use is then there). Then, candidate
by candidate and interleaved (so that the machine's load falls on both alike), each is timed
inside a child of the cold server, inside a child of the warm process, and in the warm process
itself, with the minor page faults of each. The timings start and stop inside the child: the
fork and exit (the isolation floor of bench/check_all.py) are not in them.

- cold child against warm child: what a child pays for first use (imports, caches);
- warm child against in process: what running in a fresh fork costs the same work (pages the
  child writes are copied from its parent, new memory is faulted in).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import resource
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, prepared_jobs, run_candidate


def timed(job) -> tuple[float, int]:
    """(seconds, minor faults) of one candidate run here."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    started = time.perf_counter()
    run_candidate(job, "cpu")
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def in_child(job) -> tuple[float, int]:
    """`timed` in a child forked from this process."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        seconds, faults = timed(job)
        os.write(write, f"{seconds} {faults}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as reply:
        seconds, faults = reply.read().split()
    os.waitpid(pid, 0)
    return float(seconds), int(faults)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", nargs="*", default=[])
    cards = parser.parse_args().cards
    jobs = prepared_jobs(cards)
    from studycli.check import loading, zygote

    for name in zygote.BASE_PRELOAD:
        importlib.import_module(name)
    for job in jobs.values():
        loading._load_solution(job.solutions_dir, job.check_module)
    gc.freeze()

    ours, theirs = socket.socketpair()
    if os.fork() == 0:  # the cold server: forks a child per candidate named on the socket
        ours.close()
        with theirs.makefile("rw") as channel:
            while key := channel.readline().strip():
                seconds, faults = in_child(jobs[key])
                channel.write(f"{seconds} {faults}\n")
                channel.flush()
        os._exit(0)
    theirs.close()
    for job in jobs.values():
        run_candidate(job, "cpu")  # warm
    cold, warm, here = {}, {}, {}
    with ours.makefile("rw") as channel:
        for key, job in jobs.items():
            channel.write(key + "\n")
            channel.flush()
            seconds, faults = channel.readline().split()
            cold[key] = (float(seconds), int(faults))
            warm[key] = in_child(job)
            here[key] = timed(job)
        channel.write("\n")
        channel.flush()

    def line(name: str, measured: dict) -> str:
        seconds = sum(s for s, _ in measured.values())
        faults = statistics.median(f for _, f in measured.values())
        return f"  {name:22} {seconds:6.2f} s, median {faults:6.0f} faults a candidate"

    print(f"machine: {machine()}; {len(jobs)} candidates, one at a time")
    print(line("in a cold child", cold))
    print(line("in a warm child", warm))
    print(line("in process (warm)", here))
    first_use = statistics.median(cold[k][0] - warm[k][0] for k in jobs)
    fork_cost = statistics.median(warm[k][0] - here[k][0] for k in jobs)
    print(f"  median a candidate: first use {first_use * 1000:.1f} ms (cold child - warm child), "
          f"a fresh fork {fork_cost * 1000:.1f} ms (warm child - in process)")  # fmt: skip
    os._exit(0)  # torch's clean-up at exit is not the work's


if __name__ == "__main__":
    main()
