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
to SCHED_IDLE or SCHED_BATCH: `lowered`; or its session's autogroup, `group_nice`) starved
itself: an infinite loop at nice 19 beside a spinner it forked was not judged at three times
its limit, where it was rated Again before. It is judged by its limit, as before. So is one
whose own processes took the CPU (an infinite loop that forked twelve spinners, ended busy):
the CPU of the processes it started counts as its own (`usage`'s `started`): those of its
session, and those that left it (a setsid, a double fork: what a forked check's zygote
adopted, `_started_cpu`, and what came to a device worker's keeper, the subreaper of its
checks', `device_sweep`), which the session alone missed.

So is one that narrowed the cores it may run on below the command's (`narrowed`: an
infinite loop that pinned itself, `os.sched_setaffinity(0, {0})`, to a core a spinner held,
the other core idle, was not judged). It waited for a core it chose: whether the cores it was
given were busy is not told by its times. (A correct answer that pins its threads, or an
OpenMP run with OMP_PROC_BIND set, is judged by its limit, as before this module.)

Each is read as it is at a look (the limit, and each later look at a starved check): a check
that pinned itself and widened its cores again before each look (the child's timer says when,
signal.getitimer) is not seen, nor is a check run as root that raised its nice and lowered it
again (CAP_SYS_NICE); a cgroup's cpu.max, which one run as root may write where the cgroup
files are writable (not in the 2-core box), is not looked at. At worst such an answer is not
judged, never passed. A device worker, which runs its checks in itself, puts its scheduling
back after each (`restore`).

A cgroup's CPU quota the command runs under (a container's, a CI job's) needs no reading here:
a thread it throttles stays on its run queue, its time counted as waited (a spinner under a
fifth of a CPU ran 0.61 s and waited 2.39 s in 3 s), so a correct answer it slows is starved,
given time, never failed. Under a quota of less than a ninth of a CPU (`STARVED_SHARE` over
`LONGEST`) an infinite loop is not judged, however often it is run: such a machine cannot
judge a limit. `check` runs no more checks at once than the quota gives CPUs (`cpu_quota`).
A busy check there is not told to run again when the machine is less busy, which a quota never
is: it is told the quota, and what it can do under it (`busy_message`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from . import cpu_quota, proc_stat

# Of its limit in CPU time, under which a check was starved of it: one that had this much is
# judged by its limit, starved or not. A third covers the case met (1.4 s of CPU under a 10 s
# limit) and answers of up to 3.3 s; a half held infinite loops of the test suite, run on the
# 2-core box at load 11, up to three times their limit, and ended one as busy.
STARVED_SHARE = 1 / 3
WANTED_SHARE = 0.5  # of its time, at least, that it ran or waited for a core to run
LONGEST = 3.0  # times its limit that a starved check may run, at most
LOOK_FLOOR = 0.1  # seconds between two looks at a starved check, at least
GROUP_WAIT = 1.0  # seconds, at most, that `restore_group` waits for the kernel's rate limit
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # (/proc's clock ticks)


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
    """A process's scheduling: its `nice` value, its `policy` (`os.SCHED_OTHER`...) and the
    `cores` it may run on (its affinity, the calling thread's), and its autogroup's nice
    (`group`, see `group_nice`; None: the kernel has none)."""

    nice: int
    policy: int
    cores: frozenset[int]
    group: int | None = None


def standing() -> Standing:
    """This process's scheduling now: a check's, before its code runs (the command's)."""
    cores = frozenset(os.sched_getaffinity(0))
    nice, policy = os.getpriority(os.PRIO_PROCESS, 0), os.sched_getscheduler(0)
    return Standing(nice, policy, cores, group_nice())


def group_nice(pid: int | str = "self") -> int | None:
    """The nice value of process `pid`'s autogroup (None: the kernel has none). With autogroup
    scheduling on (sched(7)), the kernel shares a core out among sessions first, by this value,
    which any process of the session may raise (/proc/PID/autogroup, its threads' own nice
    untouched): an infinite loop that wrote 19 there, beside a spinner on each core, had 0.0 s
    of CPU in 7 s and was not judged (busy)."""
    try:
        with open(f"/proc/{pid}/autogroup", encoding="ascii") as group:
            return int(group.read().split()[-1])  # ("/autogroup-41021 nice 0")
    except (OSError, ValueError, IndexError):
        return None


# (scheduling policies under which a thread runs only where a core has nothing else to do, or
# later than others: see sched(7))
_LOW_POLICIES = frozenset({3, 5})  # SCHED_BATCH, SCHED_IDLE


def usage(
    pid: int | str = "self",
    start: Standing | None = None,
    session: int | None = None,
    started: bool = False,
    beside: frozenset[str] | None = None,
    kept: bool = False,
) -> Usage | None:
    """Process `pid`'s times now (see `Usage`); None where the kernel does not say them, or
    where a thread of it lowered its scheduling below `start`, or narrowed its cores
    (`lowered`, `narrowed`). With `started`, the CPU time of the processes it started counts
    as its own: its descendants', and, with `session` (its session's number, as /proc numbers
    it), the session's; with `beside` (the checks that run beside it, as /proc numbers them),
    those its parent adopted, or, with `kept` (a device worker), all its parent's others, which
    its checks left (`_started_cpu`)."""
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
        if start is not None and _below(f"/proc/{pid}/task/{thread}", start):
            return None
        cpu, waited = cpu + int(ran), waited + int(queued)
    if not threads:
        return None
    if start is not None and start.group is not None and _group_lowered(pid, start.group):
        return None
    if started:
        root = os.readlink("/proc/self") if pid == "self" else str(pid)
        cpu += _started_cpu(root, session, beside, kept)
    return Usage(cpu / 1e9, waited / 1e9)


def thread_usage() -> Usage | None:
    """The calling thread's times now (see `Usage`): the thread a check calls its checker in,
    which does the check's work (one torch thread a check, `runner.CHECK_THREADS`); None where
    the kernel does not say them. (7 us with os.open, where open() took 26 us.)"""
    try:
        fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        try:
            ran, queued, _ = os.read(fd, 128).split()
        finally:
            os.close(fd)
        return Usage(int(ran) / 1e9, int(queued) / 1e9)
    except (OSError, ValueError):
        return None


def waited_since(before: Usage | None) -> float:
    """Seconds the calling thread waited for a core since `before` (its `thread_usage` then;
    None, or not to be read now: none)."""
    now = thread_usage()
    if before is None or now is None:
        return 0.0
    return max(0.0, now.since(before).waited)


def own_session() -> tuple[str, int] | None:
    """This process's number and its session's, as /proc numbers them (in a pid namespace,
    the host's, where /proc is the host's); None where /proc does not say."""
    try:
        number = os.readlink("/proc/self")
        return number, int((proc_stat.fields("/proc/self/stat") or [])[3])
    except (OSError, ValueError, IndexError):
        return None


def _started_cpu(
    root: str, session: int | None, beside: frozenset[str] | None = None, kept: bool = False
) -> int:
    """Nanoseconds of CPU the processes that process `root` started ran, to a clock tick (10
    ms): its descendants, and those of `session` (a scan of /proc: called only at a check's
    limit, and at each later look). A process that left the session (setsid) is still a descendant;
    one whose parent then ended (a double fork) is its subreaper's child: with `beside`, the
    checks that run beside `root`, those of `root`'s parent (a check's zygote) that are
    neither one of them nor in the parent's session (its zygote servers) count too; with
    `kept` (`root` a device worker, whose keeper is the subreaper of what its checks start:
    `device_sweep`), all the parent's children but `root`.

    (Not the check as the subreaper of what it starts: no one reaped what came to it, and a
    correct answer that ran a shell's background job 300 times failed, "sh: 0: Cannot fork",
    at its process cap; os.wait() gave it an orphan's pid. Another check's orphans counted
    as this one's only make it seem less starved.)"""
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    found: list[str] = []  # the session's
    children: dict[str, list[str]] = {}  # the others, by their parent
    sessions: dict[str, int] = {}
    ran: dict[str, int] = {}  # clock ticks, user and system
    adopter = None  # (`root`'s parent)
    for name in names:
        if not name.isdigit():
            continue
        try:
            fields = proc_stat.fields(f"/proc/{name}/stat") or []
            parent, own = fields[1], int(fields[3])
            ran[name] = int(fields[11]) + int(fields[12])  # (stat's fields 14 and 15: proc(5))
        except (OSError, ValueError, IndexError):  # (ended meanwhile)
            continue
        sessions[name] = own
        if name == root:
            adopter = parent
        elif own == session:
            found.append(name)
        else:
            children.setdefault(parent, []).append(name)
    if (beside is not None or kept) and adopter is not None:
        home = None if kept else sessions.get(adopter)
        found += [
            child
            for child in children.pop(adopter, [])
            if child not in (beside or ()) and sessions[child] != home
        ]
    ours, looked = [root, *found], 0
    while looked < len(ours):  # (each one's children after it)
        ours += children.pop(ours[looked], [])
        looked += 1
    # (a process's own times, its threads that ended too, read with the rest: its threads'
    # schedstat, read one by one, had the live ones' alone, 0.0 s of a thread's 0.3 s)
    return sum(ran[name] for name in ours[1:]) * 1_000_000_000 // _TICKS


def restore(start: Standing) -> bool:
    """(A device worker, after each check it ran in itself, as a forked check's scheduling goes
    with its process.) Put each thread of this process that runs below `start` back at its
    cores, nice and policy; whether all are back. Left pinned, a worker's later checks were
    judged by their limit, starved or not. Linux lets no unprivileged process lower a nice
    value, or leave SCHED_IDLE: such a worker is retired (`pool.release`). (System calls, not
    /proc's files: 0.13 ms for ten threads, where reading their files took 1.9 ms, on the
    busy 2-core box.) Its autogroup, the command's, the command puts back (`restore_group`)."""
    back = True
    try:
        threads = [int(thread) for thread in os.listdir("/proc/self/task")]
    except OSError:
        threads = []  # (no /proc: nothing was read below `start` either)
    for thread in threads:
        try:
            if not os.sched_getaffinity(thread) >= start.cores:
                os.sched_setaffinity(thread, start.cores)
            if os.getpriority(os.PRIO_PROCESS, thread) > start.nice:
                os.setpriority(os.PRIO_PROCESS, thread, start.nice)
            if os.sched_getscheduler(thread) != start.policy:
                os.sched_setscheduler(thread, start.policy, os.sched_param(0))
        except ProcessLookupError:  # (ended since the listing)
            continue
        except OSError:  # (EPERM)
            back = False
    return back


def restore_group(start: Standing) -> None:
    """(The command, after a device check.) Put this process's autogroup back at its nice in
    `start`, where a device check raised it: the device worker shares the command's session,
    so its autogroup, which stayed at nice 19 after the command ended (a worker cannot put it
    back unprivileged: its /proc files are root's, `out_of_reach`; nor one killed at its
    limit). Raised by a nice of 19 at most, it is lowered back: no privilege needed. But Linux
    takes one such write each 0.1 s from all unprivileged processes together (EAGAIN): the
    check's own, a moment ago, makes it wait, up to `GROUP_WAIT`."""
    if start.group is None or not _group_lowered("self", start.group):
        return
    until = time.monotonic() + GROUP_WAIT
    while True:
        try:
            fd = os.open("/proc/self/autogroup", os.O_WRONLY)
            try:
                os.write(fd, str(start.group).encode())
            finally:
                os.close(fd)
            return
        except BlockingIOError:
            if time.monotonic() >= until:
                return
            time.sleep(0.1)
        except OSError:
            return


def _below(task: str, start: Standing) -> bool:
    """Whether the thread whose /proc folder is `task` runs below `start`: at a lower
    priority (`lowered`) or on fewer cores (`narrowed`)."""
    return lowered(f"{task}/stat", start) or narrowed(f"{task}/status", start)


def _group_lowered(pid: int | str, group: int) -> bool:
    """Whether process `pid`'s autogroup runs at a higher nice than `group` (see `group_nice`)."""
    now = group_nice(pid)
    return now is not None and now > group


def lowered(stat_path: str, start: Standing) -> bool:
    """Whether the thread whose /proc stat file is `stat_path` runs at a lower priority than
    `start`: a higher nice value, or a policy that yields to others (SCHED_IDLE, SCHED_BATCH)."""
    try:
        fields = proc_stat.fields(stat_path) or []
        nice, policy = int(fields[16]), int(fields[38])  # (stat's fields 19 and 41: proc(5))
    except (ValueError, IndexError):  # (ended since the listing; an old kernel)
        return False
    return nice > start.nice or (policy in _LOW_POLICIES and policy != start.policy)


def narrowed(status_path: str, start: Standing) -> bool:
    """Whether the thread whose /proc status file is `status_path` may run on fewer cores than
    `start` could (its affinity narrowed: os.sched_setaffinity, taskset)."""
    try:
        with open(status_path, encoding="ascii", errors="replace") as status:
            listed = next(line for line in status if line.startswith("Cpus_allowed_list:"))
        cores = _cores(listed.split(":", 1)[1])
    except (OSError, ValueError, StopIteration):  # (ended since the listing; an old kernel)
        return False
    return not cores >= start.cores


def _cores(listed: str) -> frozenset[int]:
    """The cores a list as /proc says them names ("0-3,8")."""
    cores: set[int] = set()
    for part in listed.strip().split(","):
        first, _, last = part.partition("-")
        cores.update(range(int(first), int(last or first) + 1))
    return frozenset(cores)


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
    """What a check ended still starved at `LONGEST` times its limit says: to run it again
    when the machine is less busy, or, under a cgroup's CPU quota (`cpu_quota`), which no
    wait lifts, what it can do there (`_under_quota`)."""
    cpus = cpu_quota.quota()
    return (
        f"not judged: the machine was too busy: the check had {used.cpu:.1f} s of CPU in "
        f"{elapsed:.0f} s (its limit is {limit:g} s) and waited for a core most of the rest; "
        + ("run it again when the machine is less busy" if cpus is None else _under_quota(cpus))
    )


def _under_quota(cpus: float) -> str:
    """What a check starved under a quota of `cpus` CPUs can do. Run again later, it is
    starved again: under less than a ninth of a CPU (`STARVED_SHARE` over `LONGEST`) no check
    is judged by its limit, however often it is run (`studycli check` runs it again alone, as
    it is); above, it shares the quota with the checks run at once and all else in its cgroup.
    A longer limit judges nothing more (the share it needs is the same), but gives a correct
    answer the time it needs."""
    said = (
        f"it ran under a CPU quota of {cpus:.3g} CPUs (its cgroup's: a container's or a CI "
        "job's limit), which waiting does not lift"
    )
    if cpus < STARVED_SHARE / LONGEST:
        return (
            f"{said}: under a ninth of a CPU no limit can be judged; a longer --timeout gives "
            "a correct answer the time it needs"
        )
    return (
        f"{said}, shared by the checks run at once (--jobs) and all else in the cgroup: run "
        "fewer beside it, or give a correct answer longer (--timeout)"
    )
