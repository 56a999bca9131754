"""Which check a free slot of a `check` run takes next (`Picker`): the longest whose worker is
ready, and on a device one of the slot's last card. `verify.run_checks` makes one for each pool
of slots (the CPU's, a device's) and asks it from each slot's thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .runner import Job

# Seconds a free slot waits for a check whose worker is ready, while none is: torch's import
# takes 1-2 s (more from a cold disk); past this, it takes the first and waits for its worker.
PATIENCE = 10.0


class Picker:
    """Hands a free slot its next check: the first of `queue` (longest first) whose worker is
    ready (`is_ready`); while none is, it waits for one, up to `patience` seconds, then takes
    the first.

    A check whose worker is still starting would hold its slot while it waits: on the 16-core
    host, checks forking from the heavy zygote (torch._dynamo, scipy.optimize) held slots for
    1.6-3.3 s, for 0.2-0.44 s of work, while light checks waited; taking the light ones first
    made `check --jobs 16` 4.35 -> 3.77 s and 4.68 -> 4.01 s (medians of 6 and 8 interleaved
    runs). Waiting at the start lets the checks that do not use torch take every slot while
    torch's import goes on (`Job.torch`).

    With `sticky` (a device's checks), a slot takes its last card's next check while the card
    has one left, and keeps its worker (`pool._Pool`): a CUDA worker pays for a card's first
    check (its kernels loaded, its libraries' handles made) once. On the H200 host the device
    checks took 9.5 s in one worker, 17.2 s spread over 10 (the cards of many short checks
    4.8-5.5x: ssm, arcface, rope, clip_loss); keeping to the card made the CUDA run 4.43 ->
    4.23 s (medians of 6 interleaved runs, faster in 5)."""

    POLL = 0.005  # seconds between looks while no worker is ready

    def __init__(
        self,
        queue: list[tuple[str, Job]],
        is_ready: Callable[[Job], bool],
        patience: float | None = None,
        sticky: bool = False,
    ) -> None:
        self.queue, self.is_ready, self.sticky = queue, is_ready, sticky
        self.patience = PATIENCE if patience is None else patience
        self.lock = threading.Lock()

    def take(self, card: str | None = None) -> tuple[str, Job]:
        """The next check; when `sticky`, one of `card` (the slot's last card) if any is left
        and ready."""
        deadline = time.monotonic() + self.patience
        while True:
            with self.lock:
                found = self._first_ready(card if self.sticky else None)
                if found is not None or time.monotonic() >= deadline:
                    return self.queue.pop(found or 0)
            time.sleep(self.POLL)

    def _first_ready(self, card: str | None) -> int | None:
        """(With `self.lock` held.) Each kind of worker is asked once."""
        asked: dict[tuple, bool] = {}
        first = None
        for i, (card_id, job) in enumerate(self.queue):
            kind = (job.device, job.lazy, job.torch)
            if kind not in asked:
                asked[kind] = self.is_ready(job)
            if asked[kind]:
                if card is None or card_id == card:
                    return i
                first = i if first is None else first
        return first
