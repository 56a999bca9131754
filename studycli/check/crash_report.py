"""What a check that ended without a report says: why it died (`_crash_message`: the signal
that killed it, the exit status, whether the system's out-of-memory killer was at work;
`_killed_past_file_cap`: a file written past its cap), and
the crash dump that faulthandler wrote into its output, tidied and cut to fit
(`_crash_dump`). `runner` asks for these once a check's process is gone without a report;
the child side, which set faulthandler up (`contain.enter`), is `child`.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from . import contain, output_tail
from .as_root import KEPT_SETUID
from .child import REPORT_LOST
from .device_worker import KEEPER_GONE
from .error_report import past_file_cap
from .limits import OUTPUT_LIMIT

if TYPE_CHECKING:
    from .runner import Job


def _crash_message(exitcode: int | None, contained: bool, oom_kills: int | None) -> str:
    """What a check that ended without a report says (`oom_kills`: `_oom_kills()` at its
    start). A SIGKILL, or a worker's death, is blamed on memory only where the system's
    out-of-memory killer killed a process while the check ran (or that cannot be told): else a
    process killed it, and code can kill itself or the worker that forked it (a crash in
    native code ends in another signal)."""
    import signal

    if contained and exitcode == REPORT_LOST:
        return (
            "the code closed or replaced the descriptor studycli reads the check's result from "
            "(os.close or os.dup2 on a descriptor it did not open), so the check could not "
            "report: an answer must leave alone the descriptors it did not open"
        )
    if contained and exitcode == KEPT_SETUID:
        return (
            "the check was not run: run as root, it could not give up CAP_SETUID (capset was "
            "refused), which would let it leave its process cap; run studycli as another user, "
            "or where capset is allowed"
        )
    if not contained and exitcode == KEEPER_GONE:
        return KEEPER_KILLED
    if exitcode is not None and exitcode >= 0:
        return f"the process exited with status {exitcode} before reporting (a call to os._exit()?)"
    if exitcode is not None and exitcode != -signal.SIGKILL:
        return f"the process was killed by signal {-exitcode} ({_crash_causes(-exitcode)})"
    if exitcode is not None:
        what, maybe, asked = (
            "the process was killed by signal 9 (SIGKILL)",
            "out of memory, or killed by a process",
            "did the code kill itself?",
        )
    elif contained:
        what, maybe, asked = (
            "the worker that forked the check died before the check reported",
            "out of memory, or killed by a process",
            "did the code kill its parent process?",
        )
    else:
        what, maybe, asked = (
            "the process running the check died",
            "out of memory, or a crash in native code",
            "a crash in native code, or killed by a process?",
        )
    now = _oom_kills()
    if now is None or now != oom_kills:
        return f"{what} ({maybe})"
    return (
        f"{what}, not for want of memory (the system killed no process for it while the check "
        f"ran): {asked}"
    )


# What a device check says whose worker's keeper ended as it ran (`device_worker.KEEPER_GONE`)
KEEPER_KILLED = (
    "the process that keeps the check's worker (the worker's parent) was killed while the check "
    "ran, and the worker ended with it before the check reported: did the code kill its parent "
    "process (os.kill(os.getppid(), ...))? An answer must not signal other processes"
)


def _killed_past_file_cap(exitcode: int | None, contained: bool, job: Job) -> str | None:
    """What a contained check says that SIGXFSZ killed: its code wrote a file past the cap on
    a file's size (`contain._limit_file_size`), with the signal's default action restored
    (Python ignores it, and the write fails instead). It read "killed by signal 25 (out of
    memory, or a crash in native code)". None for any other end, or where no cap held (a
    device worker's check)."""
    import signal

    xfsz = getattr(signal, "SIGXFSZ", None)
    if not contained or not job.file_size_mb or xfsz is None or exitcode != -xfsz:
        return None
    who = "your attempt" if job.candidate.kind == "file" else "the code"
    then = (
        f"the process was killed by signal {xfsz} (SIGXFSZ), whose handler the code had reset "
        "(signal.signal, or a library's)"
    )
    return past_file_cap(who, contain.file_cap_of(job.file_size_mb), "", then)


def _openmp_gave_up(output: str, job: Job) -> str | None:
    """What a check says that OpenMP ended because it could not start the threads torch
    asked it for (torch.set_num_threads(300), or threads whose stacks the memory cap left no
    room for): libgomp says so in the output and exits, with status 1 or, 300 threads asked
    for, a segmentation fault on its way out, or an exit that hangs until the check's time
    limit (the threads it started wait on it). That read "exited with status 1 before
    reporting (a call to os._exit()?)", "killed by signal 11 (SIGSEGV: a stack overflow
    from deep recursion ...)" or "did not finish in 2 s: an infinite loop ...", and the
    learner looked for an exit, a recursion or a loop in their code. None where the output
    does not say so."""
    if OPENMP_FAILED not in output:
        return None
    memory = f", within {job.memory_mb} MB of memory" if job.memory_mb else ""
    return (
        "OpenMP (the threads of torch's operations) could not start the threads it was asked "
        f"for, more than a check can run ({job.processes} processes and threads{memory}), "
        "and ended the check: ask torch for fewer (torch.set_num_threads)"
    )


OPENMP_FAILED = "libgomp: Thread creation failed"  # (what GNU OpenMP prints before it exits)


def _tidied_crash_dump(output: str) -> str:
    """The `output` of a check that died without a report, the stack that faulthandler wrote
    into it at a crash (`contain.enter`) kept to what tells the learner where it was: their
    file's frames and what they called (the innermost), without studycli's own (the checker's
    `call`, the runner, the worker's loop down to its `python -c`) nor the line of extension
    modules loaded (numpy's and torch's, 600 of the 2,000 characters kept); a frame repeated
    (a recursion) said once, with how many times. (Here, not in the crashing child, where
    only faulthandler's own code may run.)"""
    kept: list[str] = []
    repeated = 0
    for line in output.splitlines(keepends=True):
        if line.startswith("Extension modules: "):
            if kept and not kept[-1].strip():
                kept.pop()  # (the blank line before it)
            continue
        frame = _DUMPED_FRAME.match(line)
        if frame and (frame["path"].startswith(_STUDYCLI) or frame["path"] == "<string>"):
            continue
        if frame and kept and line == kept[-1]:
            repeated += 1
            continue
        if repeated:
            kept.append(f"  [Previous line repeated {repeated} more times]\n")
            repeated = 0
        kept.append(line)
    if repeated:
        kept.append(f"  [Previous line repeated {repeated} more times]\n")
    return "".join(kept)


def _crash_dump(output: str, dump: str) -> str:
    """What a check that ended without a report shows of its output, `OUTPUT_LIMIT` bytes or
    about: the tail `output` where `dump` (a longer tail) holds no crash dump, else `dump`
    tidied (`_tidied_crash_dump`) and, where still too long, cut in the middle of the crash
    dump, keeping its head (what happened, then the innermost frames: faulthandler writes the
    most recent call first, the learner's among them) and its end, and the tail of what the
    check printed before it where room is left; each cut said. The tail alone lost the head of
    a dump longer than the limit (a recursion through two functions: 100 frames), the "Fatal
    Python error" and the learner's innermost frames with it."""
    lines = _tidied_crash_dump(dump).splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(_DUMP_HEAD)), None)
    if start is None:
        return _tidied_crash_dump(output)
    printed, crashed = lines[:start], lines[start:]
    if _size(crashed) > OUTPUT_LIMIT:
        head = crashed[:1] + _fitting(crashed[1:], OUTPUT_LIMIT * 2 // 3 - _size(crashed[:1]))
        # room for the end: less the line that says the middle is cut, and the one that may
        # count the printed lines not shown (`SAID`, each at most)
        room = OUTPUT_LIMIT - _size(head) - 2 * SAID
        end = _fitting(crashed[len(head) :][::-1], room)[::-1]
        cut = len(crashed) - len(head) - len(end)
        crashed = [*head, f"  [… {cut:,} line{'s' if cut != 1 else ''} not shown]\n", *end]
    earlier = 0  # the lines printed before the crash that are not shown
    if printed and (said := output_tail.NOT_SHOWN.match(printed[0].rstrip("\n"))):
        printed = printed[1:]
        earlier = int(said["count"].replace(",", "")) if said["unit"] == "line" else 1
    kept = _fitting(printed[::-1], OUTPUT_LIMIT - _size(crashed) - SAID)[::-1]
    earlier += len(printed) - len(kept)
    return (output_tail.not_shown(earlier) if earlier else "") + "".join(kept + crashed)


SAID = 40  # bytes a line saying what is not shown takes at most ("… 12,345 earlier lines ...")


def _fitting(lines: list[str], room: int) -> list[str]:
    """The first of `lines` that fit in `room` bytes."""
    kept: list[str] = []
    for line in lines:
        room -= _size([line])
        if room < 0:
            break
        kept.append(line)
    return kept


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8", errors="replace")) for line in lines)


_DUMP_HEAD = "Fatal Python error: "  # faulthandler's first line (a signal's name follows)
_DUMPED_FRAME = re.compile(r'  File "(?P<path>.*)", line \d+ in \S+$')  # faulthandler's
_STUDYCLI = os.path.dirname(os.path.dirname(__file__)) + os.sep  # studycli's own code


def _crash_causes(number: int) -> str:
    """What ends a check with signal `number` (its output says where it was: `contain`). A
    segfault is a learner's stack overflow as often as native code's bug: a recursion under a
    raised sys.setrecursionlimit, through C (a cache's wrapper) on its way."""
    import signal

    if number == signal.SIGSEGV:
        return (
            "SIGSEGV: a stack overflow from deep recursion (sys.setrecursionlimit raised?), "
            "out of memory, or a crash in native code"
        )
    if number == getattr(signal, "SIGXFSZ", None):  # (a contained check's: see above)
        return "SIGXFSZ: a file written past the size that `ulimit -f` allows"
    if number == signal.SIGALRM:  # (it read "out of memory, or a crash in native code")
        return (
            "SIGALRM: the check's timer, which goes off a little before its time limit, or an "
            "alarm the code set itself (signal.alarm, signal.setitimer), found the code had "
            "reset its handler (signal.signal) or replaced the process (os.exec*)"
        )
    return "out of memory, or a crash in native code"


def _oom_kills() -> int | None:
    """How many processes the kernel's out-of-memory killer has killed since boot (for a
    cgroup's limit too), or None where that cannot be read (not Linux, or Linux before 4.13)."""
    try:
        with open("/proc/vmstat", "rb") as vmstat:
            counters = vmstat.read()
        start = counters.index(b"\noom_kill ") + len(b"\noom_kill ")
        return int(counters[start : counters.index(b"\n", start)])
    except (OSError, ValueError):
        return None
