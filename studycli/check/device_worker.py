"""The CUDA side of a worker process (a device worker): a forked child cannot use the device, so
`_serve_inline` runs the checks in the worker itself, one after another, each from the same
random state, and after each says how much memory is still held (`_memory`), so that the
command can replace a worker that leaks; `_make_cuda_context` makes the device's context while
the worker imports torch; `end_with_the_command` and `end_with_the_keeper` end it, with what
its check started, when the command or its keeper is gone.

The worker process's entry point and its preparation are `zygote`'s; on the CPU a worker forks
a child per check instead (`fork_server`). The command keeps its device workers in `pool`.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
import time
from typing import Any

from .protocol import read_message, write_message
from .zygote import PRINTS_AT_IMPORT, _prepare


def _make_cuda_context() -> threading.Thread:
    """Make the device's primary CUDA context (the one torch then uses) through the driver, in
    a thread, while this process imports torch: ctypes lets go of the GIL while the driver
    works. Every device worker of a run makes its context at once, and made together they take
    a while (ten forked from a process with torch imported: 1.0-1.2 s on an H200 under MPS);
    so made, ten new interpreters had CUDA ready 2.1-2.5 s after they started, where ten that
    made it after torch's import had it at 2.7-3.4 s. Without a driver nothing is done (torch
    then says so)."""

    def make() -> None:
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            driver = ctypes.CDLL("libcuda.so.1")
            device, context = ctypes.c_int(), ctypes.c_void_p()
            if driver.cuInit(0) == 0 and driver.cuDeviceGet(ctypes.byref(device), 0) == 0:
                driver.cuDevicePrimaryCtxRetain(ctypes.byref(context), device)

    thread = threading.Thread(target=make, name="studycli-cuda-context", daemon=True)
    thread.start()
    return thread


def end_with_the_command(requests: int) -> None:
    """End this process at once when the command's end of `requests` closes (the command let
    it go, or died), whatever it runs then, as a zygote does (its checks die with it): a
    device worker runs its checks in itself and read that it was let go only once its check
    had ended. A command killed with -9, or one that exited, in a check that ran on (an
    endless loop) left the worker (its MPS daemon's client, holding its device memory), its
    keeper and what the check started running without end. Its keeper kills what it leaves.
    A thread that waits (a poll of the socket for its hang-up, no wake-up before)."""

    def wait() -> None:
        import select

        poll = select.poll()
        poll.register(requests, 0)  # (a hang-up is always said)
        poll.poll()
        nowhere = os.open(os.devnull, os.O_WRONLY)  # (as `zygote._leave`, from this thread)
        os.dup2(nowhere, 1)
        os.dup2(nowhere, 2)
        os._exit(0)

    threading.Thread(target=wait, name="studycli-command-gone", daemon=True).start()


def end_with_the_keeper(keeper: int, replies: int) -> bool:
    """(In a device worker's server, first thing.) End when process `keeper` (this process's
    parent, its keeper) ends, having killed what this process's checks started and, where a
    check runs, told the command that it ended so (`KEEPER_GONE`): a thread that waits on a
    pidfd of the keeper. False where there is no pidfd (a kernel before 5.3, not Linux, or the
    keeper gone already): the caller has the kernel kill this process with it instead.

    A check can kill its worker's keeper (its parent, a process of the same user): a device
    worker's Landlock domain is not scoped (`landlock.confine`), and any other process of the
    user can, wherever its check may be. The worker, killed with it, left what
    its check had started to init, with no keeper to sweep it: a daemon (a double fork, a
    session of its own) ran on after the command had ended, and, holding the worker's replies
    (it inherited them), kept the command waiting to the check's time limit. This process
    kills what it started itself before it ends; what had come to the keeper, the subreaper
    of what its checks start (`device_sweep`), comes to the keeper's guard, which kills it
    once this process has ended (`keeper_guard`). (A check that never lets go of the GIL keeps
    this thread from running: its time limit kills the worker.)"""
    try:
        pidfd = os.pidfd_open(keeper)
    except (AttributeError, OSError):
        return False
    if os.getppid() != keeper:  # (the pid is another process's: the keeper ended before)
        os._exit(1)

    def wait() -> None:
        import select

        from . import device_sweep

        poll = select.poll()
        poll.register(pidfd, select.POLLIN)  # (readable once the process has ended)
        poll.poll()  # (a check that closes the pidfd meanwhile wakes it not: it holds the file)
        # Woken with the keeper alive: a check closed the pidfd or put another file in its
        # place, and a signal interrupted the poll, which polled the number again. Taken for
        # the keeper's end, it ended the worker, its card saying the code killed its parent
        while os.getppid() == keeper:
            time.sleep(0.1)
        # (Held from before the sweep: what it kills can end the check, whose report came
        # first, and the card of a check that had a shell kill the keeper passed)
        with _REPLYING:  # (and not in the middle of the check loop's replies)
            device_sweep.sweep()
            if _CHECK[0]:
                with contextlib.suppress(OSError):
                    write_message(replies, ("exited", _CHECK[0], KEEPER_GONE))
            os._exit(1)

    threading.Thread(target=wait, name="studycli-keeper-gone", daemon=True).start()
    return True


# What a device worker says of the check it ran when its keeper ended (`end_with_the_keeper`),
# in place of an exit code: none is 256
KEEPER_GONE = 256
_REPLYING = threading.Lock()  # held as the check loop replies, and as the keeper's end is told
_CHECK = [0]  # the number of the check that runs (0: none)


def _serve_inline(stream, replies: int, device: str) -> None:
    """Run each check here, one after another (a CUDA worker). Each starts from the same random
    state, as a forked child would; after each, report the memory still held (its garbage
    collected), so that the parent can replace a worker that leaks."""
    import gc
    import random

    import numpy
    import torch

    from studycli.check import (
        child,
        contain,
        device_sweep,
        left_threads,
        loading,
        out_of_reach,
        output_aside,
        output_keeper,
        starvation,
    )

    contain.no_core_files()  # (its checks run here: a crash in one is this worker's)
    scheduling = starvation.standing()  # (put back after each check: `starvation.restore`)
    device_sweep.sweep()  # (what a solution module's load left: see `device_sweep`)

    class _Keep:
        result: Any = None

        def send(self, result: Any) -> None:
            self.result = result

        def close(self) -> None:
            pass

    while (message := read_message(stream)) is not None:
        if message[0] == "preload":
            _prepare(message[1])
            if left_threads.said(lambda said: write_message(replies, said)):
                return  # (a fresh worker runs the checks sent after: see `left_threads`)
            continue
        _, number, job = message
        with _REPLYING:
            write_message(replies, ("started", number, os.getpid()))
            _CHECK[0] = number
        random.seed(0)
        numpy.random.seed(0)
        torch.manual_seed(0)
        kept = _Keep()
        output_keeper.NUMBER = number  # (the keeper says how the worker ended in it)
        modules = dict(sys.modules)
        threads = set(threading.enumerate())
        # (what it forks is found by the pipe it holds, `output_aside.into`: `in_reach`)
        with out_of_reach.in_reach():
            child._child(job, kept)  # (a crash in it dumps its stack: `output_aside.into`)
        # A thread the check left running, which no signal ends, printed into the next
        # checks' output (sys.stdout is each check's capture) and the command's between them,
        # and ran on beside them: this worker is retired after this check (`pool.release`),
        # as a forked check's threads end with it, its output to nowhere from now on
        if any(thread not in threads for thread in threading.enumerate()):
            output_aside.silence()  # (at once: not after `THREAD_GRACE`)
        device_sweep.sweep()  # what the check left running, as a forked check's session is
        left = len(output_aside.threads_left(threads))
        # The learner's file, loaded anew at each check of it (`solve --watch` checks it at
        # every save), leaves with its check: garbage in cycles (its functions hold its
        # namespace), it is the collection's below, not frozen with what outlived the check.
        sys.modules.pop(loading.ATTEMPT_MODULE, None)
        # So does a solution module that prints at its top, for the next check's output to
        # have its lines too: kept, only the first check's had them, and a reference's check
        # that came later printed nothing and passed its card
        for name in PRINTS_AT_IMPORT:
            sys.modules.pop(name, None)
        # A module the check replaced or removed (a solution module edited since an earlier
        # check) is such garbage among what was frozen after an earlier check: the collection
        # looks at everything again (13-27 ms), else each version of the module, with what its
        # top level made (a tensor on the device), was kept for the worker's life.
        replaced = any(sys.modules.get(name) is not module for name, module in modules.items())
        del modules  # (it holds the replaced modules)
        if replaced:
            gc.unfreeze()
        gc.collect()
        # What outlived the check (modules its checker imported on first use, their caches:
        # about 117,000 objects over the shipped cards' device checks) is set aside with what
        # `_prepare` imported, so that the next collection looks at the next check's objects
        # only. Each collection went over all of them: 18-27 ms a check on the 2-core box,
        # 13 ms on the H200 host, 6.5 s of one worker's 15.7 s over those checks.
        gc.freeze()
        lowered = not starvation.restore(scheduling)  # (a check that pinned itself, or nice)
        held = {**_memory(device), "threads_left": float(left), "lowered": float(lowered)}
        with _REPLYING:
            write_message(replies, ("memory", 0, held))  # before the result it goes with
            write_message(replies, ("result", number, pickle.dumps(kept.result)))
            write_message(replies, ("exited", number, 0))
            _CHECK[0] = 0


def _memory(device: str) -> dict[str, float]:
    """MB held now: on the device (torch's allocator) and in host memory (resident)."""
    held = {"rss_mb": 0.0, "device_mb": 0.0}
    with contextlib.suppress(OSError, StopIteration, ValueError):
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        held["rss_mb"] = int(line.split()[1]) / 1024
    if device == "cuda":
        with contextlib.suppress(Exception):
            import torch

            held["device_mb"] = torch.cuda.memory_allocated() / 2**20
    return held
