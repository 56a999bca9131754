"""The check's own timer (`_stop_before`): it raises `OutOfTime` in the check a little before
its time limit (`STOP_AHEAD`), where Python code runs, so that the report says where the check
was; the kill at the limit still ends one stuck in C. A check starved of CPU then (a busy
machine, see `starvation`) runs on, looked at again, up to `starvation.LONGEST` times its
limit. Its state is this module's (`_STOP_FIRED`, `_STARVED`, `_ALARMED_AFTER`):
`child._describing` reads it as `timer._STOP_FIRED`, never a copy imported by name, which would
keep the value it had at import.
"""

from __future__ import annotations

import time
from typing import Any

from . import starvation


def _stop_before(limit: float | None) -> None:
    """Raise `OutOfTime` in this check a little before its time limit, where Python code runs
    (the kill at the limit still ends one stuck in C); None: not any more.

    Where Python cannot raise it, in a hook that os.fork runs (logging's, or any library's
    `os.register_at_fork`) or a __del__, Python prints it and goes on: the learner's output
    showed its traceback, through this module's `stop`, and the check ran on to the kill,
    unreported. It comes again a moment later instead, where the code checked runs.

    A SIGALRM before the timer's time is the code's own (signal.alarm, setitimer, a kill):
    it stops the check too, as an error of the code's (`_ALARMED_AFTER`), where it read "did
    not finish in 10 s" a second into the check.

    A check starved of CPU when it goes off (`starvation.starved`) is not stopped: it is looked
    at again (`starvation.next_look`), until it is not starved, or it reaches
    `starvation.LONGEST` times its limit (as far ahead of it), where, starved still, it stops
    as not judged (`_STARVED`: what it had)."""
    import signal
    import sys

    from studycli.assertions import OutOfTime

    global _STOP_ARMED
    if limit is None:
        _STOP_ARMED = False  # (a signal already on its way is then ignored)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return

    def stop(*_: object) -> None:
        global _STOP_FIRED, _STARVED, _ALARMED_AFTER
        if not _STOP_ARMED:
            return
        now = time.monotonic()
        if now < due[0] - EARLY_ALARM:  # (a timer never goes off early)
            _ALARMED_AFTER = now - armed
            raise OutOfTime
        used = starvation.usage(own[0], start, own[1], started=True) if own else None
        if starvation.starved(used, now - armed, limit):
            assert used is not None
            if now < last - EARLY_ALARM:
                look = min(starvation.next_look(used, limit), last - now)
                due[0] = now + look
                signal.setitimer(signal.ITIMER_REAL, look)
                return
            _STARVED = (used, now - armed)
        _STOP_FIRED = True
        raise OutOfTime

    previous = sys.unraisablehook

    def again(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, OutOfTime):
            signal.setitimer(signal.ITIMER_REAL, STOP_AGAIN)
        else:
            previous(unraisable)

    # (the times `stop` reads are set before it can run: a SIGALRM between the handler and
    # them raised a NameError in it)
    armed, stop_in = time.monotonic(), stop_after(limit)
    start = starvation.standing()  # (before the check's code runs: it may lower its own)
    # (a contained check leads its session: what its code starts is in it, or its descendant;
    # what its zygote adopted, a double fork's, only the command counts, knowing the checks
    # beside it, `runner._usage`, and its look at the limit is the one that ends it)
    own = starvation.own_session()
    due = [armed + stop_in]  # (when the timer goes off next: a look at a starved check moves it)
    last = armed + (starvation.LONGEST - 1) * limit + stop_in  # (its longest, as far ahead)
    _STOP_ARMED = True
    signal.signal(signal.SIGALRM, stop)
    sys.unraisablehook = again
    signal.setitimer(signal.ITIMER_REAL, stop_in)


def stop_after(limit: float) -> float:
    """Seconds into a check of time `limit` that its timer goes off first."""
    return max(limit - STOP_AHEAD, limit * 0.8)


STOP_AHEAD = 0.3  # seconds before the limit that a check stops itself, to report where it was
STOP_AGAIN = 0.01  # seconds after an OutOfTime that Python could not raise, to raise it again
EARLY_ALARM = 0.05  # seconds before the timer's time that a SIGALRM is not the timer's
_STOP_ARMED = False
_STOP_FIRED = False  # whether this check's timer raised `OutOfTime` (an answer can raise it too)
# where it did on a check starved still at its longest (`starvation`): its times and seconds
_STARVED: tuple[starvation.Usage, float] | None = None
_ALARMED_AFTER: float | None = None  # seconds into the check of a SIGALRM of the code's own
