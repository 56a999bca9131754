"""The helper processes an import forks (its file's reader, its replay's workers): how many
(`_workers`), forked with Ctrl-C held and the objects they inherit frozen (`forking_helpers`),
and what each does first (`helper_of`)."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def forking_helpers() -> Iterator[None]:
    """Around forking the import's helper processes (which call `helper_of` first): their
    garbage collections leave the objects they inherit alone (frozen: not written, so not
    copied), and they start with Ctrl-C blocked (one pressed between a fork and `helper_of`
    was a traceback). This process's Ctrl-C is held meanwhile, and comes once they are
    forked."""
    import signal

    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def helper_of(parent: int) -> None:
    """Called first in a process forked to help process `parent` (the import's reader and
    replay workers): Ctrl-C is the parent's to handle (it stops its helpers; each of them
    printed a KeyboardInterrupt traceback), and the helper dies with the parent (helpers of
    a killed import ran on, printing BrokenPipeError tracebacks into the terminal)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # (`forking_helpers`)
    with contextlib.suppress(OSError, AttributeError):  # (Linux's; forked helpers are too)
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that took hold
        os._exit(1)


MAX_WORKERS = 4  # replay workers at most, whatever the cores: bounds the import's memory


def _workers() -> int:
    """Worker processes for a large replay: one per core this process may use, at most
    `MAX_WORKERS`, where worker processes can be forked (Linux); else 1 (the replay runs here).

    The cap bounds the import's peak memory (the summed PSS of this process and its workers)
    whatever the core count. This process peaks near 270-290 MB (its page caches, 64 + 32 MB,
    the content, two chunks per worker in flight); each worker adds what it writes of its
    own: its chunk of about `CHUNK_REVIEWS` reviews in and out, fsrs's objects, and the pages
    of this process's heap that its allocations land in (copied on write), 25-30 MB. Measured
    on the 1,000,000-row file (2-core box, Python 3.11, forcing the worker count): 4 workers
    340 MB for the tree, 2 workers 281 MB; 8 workers with 20,000-review chunks (before the
    cap) 618 MB, and 539 MB on a 16-core host. The replay, fsrs's ~23 us a review, is then
    ~6 s of CPU per worker for a million reviews, alongside this process, which reads, sorts
    and writes every row (the import took 27.0 s with 8 workers on that host, 24.8-25.7 s
    with 4; on the 2-core box, 4 workers took 39-44 s, 2 workers 53-54 s).
    """
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))
