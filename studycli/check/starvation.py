"""Whether a check that reached its time limit was starved of CPU, not slow: the limit is
wall-clock (the child's timer, `timer._stop_before`; the parent's kill, `runner._wait`), and on
a busy machine (the 2-core box at load 6) a correct answer that takes 1.4 s of CPU alone waited
for a core most of its 10 s and was reported "did not finish in 10 s", rated Again in `solve`.

A check is starved where it had under `STARVED_SHARE` of its limit in CPU time, yet wanted a
core (ran, or was ready to run and waited on the kernel's run queue) for at least
`WANTED_SHARE` of the time it ran: it is given more time then, up to `LONGEST` times its limit,
and, starved still, ends as not judged (`Status.BUSY`, `busy_message`) rather than timed out.
One that spins (CPU time near its wall time) is no starved one, and ends at its limit as
before; one that sleeps or blocks (neither ran nor waited) is none either. The times are the
kernel's, per thread (`/proc/PID/task/*/schedstat`: torch's threads count); where they cannot
be read, no check is starved, and the limit holds as it did.

A check that lowered its own priority (a thread at a higher nice than the command's, or moved
to SCHED_IDLE or SCHED_BATCH: `lowered`) starved itself: an infinite loop at nice 19 beside a
spinner it forked was not judged at three times its limit, where it was rated Again before. It
is judged by its limit, as before. So is one whose own processes took the CPU (an infinite
loop that forked twelve spinners, ended busy): a contained check's session's other processes'
CPU counts as its own (`usage`'s `session`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Of its limit in CPU time, under which a check was starved of it: one that had this much is
# judged by its limit, starved or not. A third covers the case met (1.4 s of CPU under a 10 s
# limit) and answers of up to 3.3 s; a half held infinite loops of the test suite, run on the
# 2-core box at load 11, up to three times their limit, and ended one as busy.
STARVED_SHARE = 1 / 3
WANTED_SHARE = 0.5  # of its time, at least, that it ran or waited for a core to run
LONGEST = 3.0  # times its limit that a starved check may run, at most
LOOK_FLOOR = 0.1  # seconds between two looks at a starved check, at least


@dataclass(frozen=True)
class Usage:
    """A process's times, summed over its threads, in seconds: `cpu` it ran, `waited` it was
    ready to run and waited for a core."""

    cpu: float
    waited: float

    def since(self, before: Usage | None) -> Usage:
        """The times taken after `before` (a reading of the same process; None: its start)."""
        if before is None:
            return self
        return Usage(self.cpu - before.cpu, self.waited - before.waited)


@dataclass(frozen=True)
class Standing:
    """A process's scheduling: its `nice` value and its `policy` (`os.SCHED_OTHER`...)."""

    nice: int
    policy: int


def standing() -> Standing:
    """This process's scheduling now: a check's, before its code runs (the command's)."""
    return Standing(os.getpriority(os.PRIO_PROCESS, 0), os.sched_getscheduler(0))


# (scheduling policies under which a thread runs only where a core has nothing else to do, or
# later than others: see sched(7))
_LOW_POLICIES = frozenset({3, 5})  # SCHED_BATCH, SCHED_IDLE


def usage(
    pid: int | str = "self", start: Standing | None = None, session: int | None = None
) -> Usage | None:
    """Process `pid`'s times now (see `Usage`); None where the kernel does not say them, or
    where a thread of it lowered its scheduling below `start` (`lowered`). With `session`
    (its session's number, as /proc numbers it), the CPU time of the session's other
    processes, which the check started, counts as its own."""
    cpu = waited = 0
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/schedstat", encoding="ascii") as stat:
                ran, queued, _ = stat.read().split()
        except (OSError, ValueError):  # (a thread that ended since the listing)
            continue
        if start is not None and lowered(f"/proc/{pid}/task/{thread}/stat", start):
            return None
        cpu, waited = cpu + int(ran), waited + int(queued)
    if not threads:
        return None
    if session is not None:
        cpu += _session_cpu(session, str(pid))
    return Usage(cpu / 1e9, waited / 1e9)


def own_session() -> tuple[str, int] | None:
    """This process's number and its session's, as /proc numbers them (in a pid namespace,
    the host's, where /proc is the host's); None where /proc does not say."""
    try:
        number = os.readlink("/proc/self")
        with open("/proc/self/stat", encoding="ascii", errors="replace") as stat:
            return number, int(stat.read().rsplit(")", 1)[1].split()[3])
    except (OSError, ValueError, IndexError):
        return None


def _session_cpu(session: int, leaving_out: str) -> int:
    """Nanoseconds of CPU the processes of `session` but `leaving_out` ran, their threads
    summed (a scan of /proc: called only at a check's limit, and at each later look)."""
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit() or name == leaving_out:
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[3]) != session:
                    continue
            for thread in os.listdir(f"/proc/{name}/task"):
                with open(f"/proc/{name}/task/{thread}/schedstat", encoding="ascii") as times:
                    total += int(times.read().split()[0])
        except (OSError, ValueError, IndexError):  # (ended meanwhile)
            continue
    return total


def lowered(stat_path: str, start: Standing) -> bool:
    """Whether the thread whose /proc stat file is `stat_path` runs at a lower priority than
    `start`: a higher nice value, or a policy that yields to others (SCHED_IDLE, SCHED_BATCH)."""
    try:
        with open(stat_path, encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        nice, policy = int(fields[16]), int(fields[38])  # (stat's fields 19 and 41: proc(5))
    except (OSError, ValueError, IndexError):  # (ended since the listing; an old kernel)
        return False
    return nice > start.nice or (policy in _LOW_POLICIES and policy != start.policy)


def starved(used: Usage | None, elapsed: float, limit: float, slack: float = 0.0) -> bool:
    """Whether a check that took `used` in the `elapsed` seconds since it started had too
    little CPU to be judged by its `limit` (see the module's docstring). `slack`, in seconds,
    widens both bounds: the parent judges a moment after the child's own timer (`runner._wait`
    allows `timer.STOP_AHEAD`), and must give the time wherever the child took it."""
    if used is None:
        return False
    wanted = used.cpu + used.waited
    return used.cpu < STARVED_SHARE * limit + slack and wanted >= WANTED_SHARE * elapsed - slack


def next_look(used: Usage, limit: float) -> float:
    """Seconds until a starved check is looked at again: no sooner than a thread of it could
    run to `STARVED_SHARE` of its limit."""
    return max(LOOK_FLOOR, STARVED_SHARE * limit - used.cpu)


def busy_message(limit: float, used: Usage, elapsed: float) -> str:
    """What a check ended still starved at `LONGEST` times its limit says."""
    return (
        f"not judged: the machine was too busy: the check had {used.cpu:.1f} s of CPU in "
        f"{elapsed:.0f} s (its limit is {limit:g} s) and waited for a core most of the rest; "
        "run it again when the machine is less busy"
    )
