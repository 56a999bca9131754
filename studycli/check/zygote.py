"""Warm workers for checks: a server process that has torch imported once, and then either forks
one child per check (a zygote, on the CPU) or runs the checks itself (on CUDA, where a forked
child cannot use the device: CUDA is initialised once per worker, not once per check).

Why a server of our own rather than multiprocessing's fork server (the profile of a whole
`studycli check` on 2 cores, bench/check_all.py): each child multiprocessing forks re-ran the
`studycli` script to set up its `__main__` (its preload of "__main__" never gets the path in
Python 3.11) and unpickled its way through multiprocessing's modules, ~170 ms of CPU per check;
its one server per process cannot preload more later, or for another card; and a fork of a
process with torch's few hundred megabytes spends most of its time copying page tables, which
the server here shrinks by collapsing its memory into huge pages (Linux 6.1+). What is left per
check is the fork, the child's exit and its own work.

This module is the worker process's entry point and its preparation: `serve`, which
`worker.Worker` starts (`python -c "... from studycli.check.zygote import serve; serve()"`),
and `_prepare` (the imports and the solution modules, once; forks made cheap). The worker then
serves in one of two ways, each in a module of its own: `fork_server` (`_Zygote`) forks a child
per check, on the CPU; `device_worker` (`_serve_inline`) runs them one after another, on CUDA.
Those two import `_prepare` and `_serve` from here, so `_serve` imports them when it runs. The
command's handle on a worker is `worker`; the messages between the two are `protocol`'s.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import warnings
from collections.abc import Container, Iterable, Iterator
from typing import Any, NoReturn

from . import out_of_reach, output_aside
from .protocol import read_message, write_message

WORKER_CONTEXT_LIMIT = 60.0  # seconds a device worker waits for the driver to make its context
BASE_PRELOAD = (
    "numpy",
    "numpy.ma",  # numpy loads these on first use, and checkers use them
    "numpy.random",
    "torch",
    "torch._subclasses.schema_check_mode",  # the dispatch modes of assertions.watch_torch
    "studycli.assertions",
    "studycli.check.runner",  # the jobs' classes, and (it imports it) `child`, what checks run
    "resource",  # each check caps its memory with it
    "traceback",  # a rejected answer's report quotes its traceback
)


def _is_torch(module: str) -> bool:
    return module.partition(".")[0] == "torch"


# A torchless zygote's (for the checks that do not use torch): ready in 0.15-0.2 s on the box,
# where one with torch takes 1.7 s
TORCHLESS_PRELOAD = tuple(name for name in BASE_PRELOAD if not _is_torch(name))


def serve() -> None:
    """The server's main loop (`python -c ... serve() REQUESTS_FD REPLIES_FD CHANNEL_FD`: the
    channel, a Unix socket, hands a zygote the pipes of a server it is to fork). Under a
    keeper, which kills what the server leaves as it ends (`keeper`): a device worker too,
    which runs its checks in itself and sweeps what each left once it ends
    (`device_sweep`), but when it is killed (a check at its time limit) or crashes, never
    swept the daemon a check started in a session of its own. A device worker's keeper makes
    no PID namespace (as root): the CUDA driver failed there ("Error 304: OS call failed", an
    H100 host), and an MPS daemon knows its clients by their pids.

    Its descriptors are out of its checks' reach (`out_of_reach`), and so are its keeper's: a
    zygote's (its checks' output pipes), and a device worker's (the output pipe of the check
    it runs, and the command's output), which a CPU check of the same user opened through
    /proc (as root too: a device worker's ids are its checks' effective ones)."""
    from studycli.check import keeper

    zygote = len(sys.argv) > 3  # (a channel: a zygote, which forks checks)
    out_of_reach.hide()
    keeper.keep(apart=zygote, replies=-1 if zygote else int(sys.argv[2]))
    requests, replies = int(sys.argv[1]), int(sys.argv[2])
    channel = socket.socket(fileno=int(sys.argv[3])) if len(sys.argv) > 3 else None
    stream = os.fdopen(requests, "rb", buffering=0)  # unbuffered: select sees what is unread
    kind, config = read_message(stream)
    assert kind == "config"
    try:
        _serve(stream, replies, config, channel)
    except BrokenPipeError:  # the command is gone: it ended before this worker was ready (a
        # card id it did not know, with the workers started at once), and no one reads what
        # this one says. Left without a word: each of twelve CUDA workers printed a traceback
        # under the command's error, after it had ended
        _leave()


def _serve(stream, replies: int, config: dict, channel: socket.socket | None) -> None:
    """Prepare as `config` says, say so, serve until told to end, and leave."""
    from studycli.check.device_worker import _make_cuda_context, _serve_inline
    from studycli.check.fork_server import _Zygote

    zygote = _Zygote(stream, replies, channel) if config["fork"] else None
    if zygote is None:  # (a device worker)
        from studycli.check import device_worker

        device_worker.end_with_the_command(stream.fileno())
    context = _make_cuda_context() if config["device"] == "cuda" else None
    # A zygote asked for one of its own (the heavy one) forks it once it has imported torch,
    # not once it is ready: see `_Zygote.spawn_early`
    _prepare(config, context, zygote.spawn_early if zygote and channel else None)
    from studycli.check import left_threads
    from studycli.check.pid_namespace import own_host_pid

    if left_threads.said(lambda message: write_message(replies, message)):
        _leave()  # (a fresh worker runs its checks: see `left_threads`)

    # (its pid as the command knows it; preload may print: not on this pipe)
    write_message(replies, ("ready", 0, own_host_pid()))
    if zygote is not None:
        zygote.loop()
    else:
        _serve_inline(stream, replies, config["device"])
    _leave()  # told to end


def _leave() -> NoReturn:
    """Leave without Python's and torch's clean-up (a CUDA worker's took a second or more);
    the system frees it all. The output it shares with the command is let go first: the
    system tears down its memory (CUDA's, slowly) before it closes its files, and a reader of
    the command's output (a pipe) waits until every writer has closed it."""
    with contextlib.suppress(OSError):  # (a pipe with no reader: nothing to say there)
        sys.stdout.flush()
        sys.stderr.flush()
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.dup2(nowhere, 2)
    os._exit(0)


def _prepare(config: dict, context: threading.Thread | None = None, imported: Any = None) -> None:
    """Import what checks need, load the solution modules, and make forks cheap; on CUDA, set
    up the device once `context` (the thread making its context, see
    `device_worker._make_cuda_context`) is done. `imported` is called once the imports are
    done."""
    import gc
    import importlib

    gc.disable()  # no collections while importing: they take a fifth of torch's import
    torch = config.get("torch", True)
    if torch:
        from studycli.check import lazy_dynamo

        lazy_dynamo.install()  # before torch: see the module
    for name in config["preload"]:
        with contextlib.suppress(ImportError):
            if torch or not _is_torch(name):
                importlib.import_module(name)
    if imported is not None:
        imported()
    if torch:
        from studycli.check import unscripted

        unscripted.leave_answers_unscripted()  # (before the solution modules: see the module)
    if config["device"] == "cpu" and torch:
        _without_cuda()
    if config["device"] == "cuda":
        # (before the solution modules: each is loaded with the process's fds 1 and 2 in a
        # pipe of its own, `output_aside`, and what the driver wrote from the context's
        # thread meanwhile was lost there, the quiet module taken for one that prints)
        if context is not None:
            context.join(WORKER_CONTEXT_LIMIT)
        with contextlib.suppress(Exception):  # no device: each check says so
            import torch as on_device  # (not `torch`: that says whether this worker has it)

            on_device.zeros(1, device="cuda")  # the CUDA context, once for this worker
    from studycli.check import left_threads

    skip = left_threads.apply(config.get("strays"))  # (a load left a thread in a worker before)
    folder, names = config["solutions"] or ("", ())
    if names:
        with out_of_reach.in_reach():  # (what a load leaves is found: `output_aside`)
            _load_solutions(folder, names, torch, skip)
    gc.freeze()  # collections (a child's, or a worker's between checks) skip all this
    if config["fork"] and config.get("collapse", True) and sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError, ValueError):
            _collapse()
    gc.enable()


def _load_solutions(
    folder: str, names: Iterable[str], torch: bool, skip: Container[tuple[str, str]]
) -> None:
    """Load the solution modules `names` of `folder` but those in `skip` (and, without
    `torch`, those that name it), each with its output set aside (`output_aside`): one that
    printed is left for each check to import, one that left a process or a thread is refused."""
    import linecache

    from studycli.check import left_threads, loading

    for name in names:
        with contextlib.suppress(Exception, SystemExit):  # a broken module: its checks say so
            if (folder, name) in skip:
                continue
            if not torch and _names_torch(folder, name):
                continue  # a torchless zygote loads only the modules that never name torch
            # (the timer inside: going off as `output_aside` put the output back, it left
            # fd 2 in the module's pipe and two descriptors open for the worker's life)
            aside = output_aside.Aside()
            try:
                with output_aside.output_aside() as aside, _at_most(SOLUTION_LOAD_LIMIT):
                    module = loading._load_solution(folder, name)
            finally:
                if aside.threads:  # (running on, raised or not: from here on, to no output)
                    output_aside.silence()
                    left_threads.LEFT.append([folder, name])  # (it is to serve no more)
            if aside.left or aside.threads:  # each of its checks says so, where it would load it
                loading.refuse(module, aside.left, aside.threads)
                continue
            if aside.written:  # left for each check to import, where its output is kept
                del sys.modules[module.__name__]
                PRINTS_AT_IMPORT.add(module.__name__)
                continue
            linecache.getlines(module.__file__)  # what a rejected answer's traceback shows


def _without_cuda() -> None:
    """Hide the machine's GPUs from the CPU's checks, and have autograd's engine count them
    (none) here, once. Its first backward pass asks CUDA how many devices there are, which on
    a machine with a GPU initialises the driver: in every forked check that differentiated,
    and under a check's memory cap it failed ("CUDA initialization: ... out of memory", a
    warning in the check's output) after 0.1-0.3 s (an H200 host: receptive-field's six
    checks 1.7 s in their children, 0.1 s on a machine without a GPU).

    Where the driver fails to count rather than counting none (an H100 host, in the keeper's
    pid namespace: "Error 304: OS call failed"), torch warns as it takes the count for zero,
    which is what is asked of it here: the warning is not shown (it reached the command's
    stderr, once from each zygote)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # read by the driver when first initialised
    with contextlib.suppress(Exception), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch

        value = torch.zeros(1, requires_grad=True)
        (value * 2).sum().backward()  # the engine's device count, inherited by each fork


# The solution modules (by their names in sys.modules) that printed as `_prepare` loaded them,
# left for each check to import: a device worker, which runs its checks in itself, imports them
# anew for each (`device_worker._serve_inline`), else only its first check had their output
PRINTS_AT_IMPORT: set[str] = set()

# A solution module loads in milliseconds. One that takes longer (a loop or a sleep at its top
# level) is left to its checks, which load it within their own time limit: loaded here, it held
# up every check of the run until the worker's start-up limit, ten minutes, and then each said
# that the worker did not start.
SOLUTION_LOAD_LIMIT = 2.0


class _TooSlow(Exception):
    """A step that `_at_most` stopped."""


@contextlib.contextmanager
def _at_most(seconds: float) -> Iterator[None]:
    """Stop the block with `_TooSlow` once it has taken `seconds` (a timer's signal, so only
    where Python code runs: enough for a module's top level)."""

    def stop(*_: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _names_torch(folder: str, module: str) -> bool:
    """Whether solution module `module` in `folder` names torch (`lazy_imports.uses_torch`)."""
    from pathlib import Path

    from studycli.check.lazy_imports import uses_torch
    from studycli.content.source import module_path

    return uses_torch([module_path(Path(folder), module).read_text(encoding="utf-8-sig")])


def _collapse() -> None:
    """Back the server's anonymous memory with huge pages (MADV_COLLAPSE, Linux 6.1+; else a
    no-op): a fork copies a page table entry per page, and a child's exit drops them, so 2 MB
    pages instead of 4 kB ones make both several times cheaper (the kernel's copy_page_range
    topped the profile of a whole `studycli check`)."""
    import ctypes

    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    huge = 1 << 21
    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        if fields[1] != "rw-p" or (len(fields) > 5 and fields[5] != "[heap]"):
            continue  # files, stacks and shared memory stay as they are
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        start, end = (low + huge - 1) & ~(huge - 1), high & ~(huge - 1)
        if end > start:
            madvise(start, end - start, 25)  # MADV_COLLAPSE
