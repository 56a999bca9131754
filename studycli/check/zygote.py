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

This module is the worker process's side: `serve`, the entry point that `worker.Worker` starts
(`python -c "... from studycli.check.zygote import serve; serve()"`), `_prepare` (the imports
and the solution modules, once), and then the fork server (`_Zygote`) or, on CUDA, the checks
run one after another (`_serve_inline`). The command's handle on a worker is `worker`; the
messages between the two are `protocol`'s.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

from .protocol import _HEADER, read_message, write_message

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
    channel, a Unix socket, hands a zygote the pipes of a server it is to fork)."""
    requests, replies = int(sys.argv[1]), int(sys.argv[2])
    channel = socket.socket(fileno=int(sys.argv[3])) if len(sys.argv) > 3 else None
    stream = os.fdopen(requests, "rb", buffering=0)  # unbuffered: select sees what is unread
    kind, config = read_message(stream)
    assert kind == "config"
    _serve(stream, replies, config, channel)


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


def _serve(stream, replies: int, config: dict, channel: socket.socket | None) -> None:
    """Prepare as `config` says, say so, serve until told to end, and leave."""
    zygote = _Zygote(stream, replies, channel) if config["fork"] else None
    context = _make_cuda_context() if config["device"] == "cuda" else None
    # A zygote asked for one of its own (the heavy one) forks it once it has imported torch,
    # not once it is ready: see `_Zygote.spawn_early`
    _prepare(config, context, zygote.spawn_early if zygote and channel else None)
    write_message(replies, ("ready", 0, os.getpid()))  # (preload may print: not on this pipe)
    if zygote is not None:
        zygote.loop()
    else:
        _serve_inline(stream, replies, config["device"])
    # Told to end: leave without Python's and torch's clean-up (a CUDA worker's took a second
    # or more); the system frees it all. The output it shares with the command is let go first:
    # the system tears down its memory (CUDA's, slowly) before it closes its files, and a
    # reader of the command's output (a pipe) waits until every writer has closed it.
    sys.stdout.flush()
    sys.stderr.flush()
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.dup2(nowhere, 2)
    os._exit(0)


def _prepare(config: dict, context: threading.Thread | None = None, imported: Any = None) -> None:
    """Import what checks need, load the solution modules, and make forks cheap; on CUDA, set
    up the device once `context` (the thread making its context, see `_make_cuda_context`)
    is done. `imported` is called once the imports are done."""
    import gc
    import importlib
    import linecache

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
    if config["device"] == "cpu" and torch:
        _without_cuda()
    from studycli.check import loading

    folder, names = config["solutions"] or ("", ())
    for name in names:
        with contextlib.suppress(Exception, SystemExit):  # a broken module: its checks say so
            if not torch and _names_torch(folder, name):
                continue  # a torchless zygote loads only the modules that never name torch
            with _at_most(SOLUTION_LOAD_LIMIT):
                module = loading._load_solution(folder, name)
            linecache.getlines(module.__file__)  # what a rejected answer's traceback shows
    if config["device"] == "cuda":
        if context is not None:
            context.join(WORKER_CONTEXT_LIMIT)
        with contextlib.suppress(Exception):  # no device: each check says so
            import torch

            torch.zeros(1, device="cuda")  # the CUDA context, once for this worker
    gc.freeze()  # collections (a child's, or a worker's between checks) skip all this
    if config["fork"] and config.get("collapse", True) and sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError, ValueError):
            _collapse()
    gc.enable()


def _without_cuda() -> None:
    """Hide the machine's GPUs from the CPU's checks, and have autograd's engine count them
    (none) here, once. Its first backward pass asks CUDA how many devices there are, which on
    a machine with a GPU initialises the driver: in every forked check that differentiated,
    and under a check's memory cap it failed ("CUDA initialization: ... out of memory", a
    warning in the check's output) after 0.1-0.3 s (an H200 host: receptive-field's six
    checks 1.7 s in their children, 0.1 s on a machine without a GPU)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # read by the driver when first initialised
    with contextlib.suppress(Exception):
        import torch

        value = torch.zeros(1, requires_grad=True)
        (value * 2).sum().backward()  # the engine's device count, inherited by each fork


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
    """Whether solution module `module` in `folder` names torch (`pool.uses_torch`)."""
    from pathlib import Path

    from studycli.check.pool import uses_torch
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


class _PipeSender:
    """What child._child sends its report through: one length-prefixed pickle on a pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def send(self, result: Any) -> None:
        write_message(self.fd, result)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class _Zygote:
    """Forks a child per check and relays what it reports and how it ends."""

    def __init__(self, stream, replies: int, channel: socket.socket | None = None) -> None:
        self.stream, self.replies, self.channel = stream, replies, channel
        self.wakeup_read, self.wakeup = os.pipe()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(self.wakeup, False)
        signal.set_wakeup_fd(self.wakeup)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.children: dict[int, int] = {}  # pid -> check number
        self.pipes: dict[int, tuple[int, bytearray]] = {}  # report pipe -> (check, bytes so far)
        self.outputs: dict[int, tuple[int, Any]] = {}  # check -> (output pipe, its tail so far)
        self.tails: dict[int, int] = {}  # output pipes still open -> their check
        self.relayed: set[int] = set()  # checks whose report went to the parent
        self.servers: set[int] = set()  # the zygote servers this one forked (`_spawn`)
        self.reaper = _become_subreaper()
        from studycli.check import contain

        contain.drop_root_exemption()  # (root: each check it forks is then held to its cap)
        self.early: list[Any] = []  # requests read while preparing, for the loop (see below)

    def spawn_early(self) -> None:
        """(While preparing, its imports done.) Fork the servers asked for so far, and keep
        the other requests for the loop. The heavy zygote (torch._dynamo) is asked for as the
        command has read the cards, long before this one is ready: forked once this one is,
        it imported torch._dynamo (1.2 s on the 16-core host) after this one had loaded the
        solution modules and collapsed its memory, and its one check of the shipped cards was
        the last of the run, 0.7 s after all others."""
        while select.select([self.stream], [], [], 0)[0]:
            message = read_message(self.stream)
            if message is not None and message[0] == "spawn":
                self._spawn(message[1])
            else:
                self.early.append(message)
            if message is None:
                return

    def loop(self) -> None:
        requests = self.stream.fileno()
        for message in self.early:
            if not self._handle(message):
                return
        while True:
            ready, _, _ = select.select(
                [requests, self.wakeup_read, *self.pipes, *self.tails], [], []
            )
            for fd in ready:
                if fd == requests:
                    if not self._handle(read_message(self.stream)):
                        return
                elif fd == self.wakeup_read:
                    with contextlib.suppress(BlockingIOError):
                        os.read(fd, 4096)
                    self._reap()
                elif fd in self.pipes:  # (not closed earlier in this round)
                    self._drain(fd)
                elif fd in self.tails:
                    self._read_output(fd)

    def _handle(self, message: Any) -> bool:
        """Do as a request says; False: the parent is gone (so are its checks)."""
        if message is None:
            self._kill_all()
            return False
        if message[0] == "preload":
            _prepare(message[1])
        elif message[0] == "spawn":
            self._spawn(message[1])
        else:
            self._fork(*message[1:])
        return True

    def _spawn(self, config: dict) -> None:
        """Fork a zygote server on the pipes the parent hands over the channel: it starts with
        all this one imported (torch, the solution modules), imports `config`'s preload more,
        and serves as this one does. (This one reaps it, with its checks.)"""
        assert self.channel is not None
        self.channel.settimeout(10.0)  # the parent sends the pipes right after the message
        try:
            _, fds, _, _ = socket.recv_fds(self.channel, 1, 2)
        except OSError:  # (a timeout too) the parent is gone or failed: no server to fork
            return
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            return
        requests, replies = fds
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                mine = [self.stream.fileno(), self.replies, self.wakeup_read, self.wakeup,
                        self.channel.fileno(), *self.pipes, *self.tails]  # fmt: skip
                for fd in mine:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                stream = os.fdopen(requests, "rb", buffering=0)
                # its memory is this one's, and it forks few checks (those that import more):
                # its collapse took 0.4 s of the path to the last check of a run
                _serve(stream, replies, {**config, "collapse": False}, None)
                code = 0
            finally:
                os._exit(code)
        self.servers.add(pid)
        os.close(requests)
        os.close(replies)

    def _fork(self, number: int, job: Any) -> None:
        from studycli.check import contain, limits

        read, write = os.pipe()
        output_read, output_write = os.pipe()
        go_read, go_write = os.pipe()  # the child starts once its start is said (below)
        contain.count_user_tasks()  # recent enough for the child to cap its processes from
        pid = os.fork()
        if pid == 0:
            os.close(go_write)
            self._child(
                read, output_read, job, _PipeSender(write), _PipeSender(output_write), go_read
            )
        os.close(go_read)
        os.close(write)
        os.close(output_write)
        os.set_blocking(read, False)
        os.set_blocking(output_read, False)
        self.children[pid] = number
        self.pipes[read] = (number, bytearray())
        self.outputs[number] = (output_read, contain.OutputTail(limits.DUMP_LIMIT))
        self.tails[output_read] = number
        write_message(self.replies, ("started", number, pid))
        # Only now may the check run: one that stopped this zygote (SIGSTOP) before its start
        # was said left the runner waiting for the start (`WORKER_START_LIMIT`, 600 s), and a
        # check whose pid was never said could not be killed.
        with contextlib.suppress(OSError):
            os.write(go_write, b"\0")
        os.close(go_write)

    def _child(
        self, read: int, output_read: int, job: Any, sender, output, go_read: int = -1
    ) -> None:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (read, output_read, self.stream.fileno(), self.replies, self.wakeup_read):
                os.close(fd)
            if go_read >= 0:
                said = os.read(go_read, 1)  # (b"" if the zygote is gone before saying it)
                os.close(go_read)
                if not said:
                    return
            from studycli.check import child

            child._child(job, sender, output)  # contained: it closes what else it inherited
            code = 0
        finally:
            os._exit(code)

    def _read_output(self, fd: int) -> None:
        """Keep what the pipe holds now; close it at its end (every writer closed it)."""
        tail = self.outputs[self.tails[fd]][1]
        while select.select([fd], [], [], 0)[0]:
            if not tail.read(fd):
                del self.tails[fd]
                os.close(fd)
                return

    def _output(self, number: int, limit: int | None = None) -> str:
        """The tail of what check `number` wrote so far: its last `limits.OUTPUT_LIMIT` bytes,
        or `limit`'s."""
        from studycli.check import limits

        if number not in self.outputs:
            return ""
        fd, tail = self.outputs[number]
        if fd in self.tails:
            self._read_output(fd)
        return tail.text(limit or limits.OUTPUT_LIMIT)

    def _drain(self, fd: int) -> None:
        """Read what the check wrote; relay its report as soon as it is whole."""
        number, data = self.pipes[fd]
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                del self.pipes[fd]
                os.close(fd)
                break
            data += chunk
        if number in self.relayed or len(data) < _HEADER.size:
            return
        end = _HEADER.size + _HEADER.unpack_from(data)[0]
        if len(data) >= end:
            report = bytes(data[_HEADER.size : end])
            write_message(self.replies, ("result", number, report, self._output(number)))
            self.relayed.add(number)

    def _reap(self) -> None:
        from studycli.check import limits

        while True:  # (checks, and what they left: this server is their subreaper)
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            self.servers.discard(pid)
            number = self.children.pop(pid, None)
            if number is None:
                continue
            for fd, (owner, _) in list(self.pipes.items()):
                if owner == number:  # what it wrote before it ended, then no more
                    self._drain(fd)
                    if fd in self.pipes:
                        del self.pipes[fd]
                        os.close(fd)
            self.relayed.discard(number)
            output = self._output(number)
            dump = self._output(number, limits.DUMP_LIMIT)  # (`crash_report._crash_dump`'s)
            pipe = self.outputs.pop(number, None)
            if pipe is not None and pipe[0] in self.tails:  # its children may hold it: no more
                del self.tails[pipe[0]]
                os.close(pipe[0])
            with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
                os.killpg(pid, signal.SIGKILL)  # whatever it left in its session
            exitcode = os.waitstatus_to_exitcode(status)
            write_message(self.replies, ("exited", number, exitcode, output, dump))
        self._sweep()

    def _sweep(self, everything: bool = False) -> None:
        """Kill what ended checks left running (all that checks left, with `everything`): a
        check's session is killed by its process group, which a process escapes by making a
        group of its own (`setpgid`, `setsid`); when its check's processes are gone it is an
        orphan, and comes to this server, its subreaper, rather than to init. Each one whose
        session is no running check's is killed, with its group; what it leaves comes here in
        turn, and is killed when its exit is reaped."""
        if not self.reaper:
            return
        for pid in self._orphans():
            try:
                running = not everything and os.getsid(pid) in self.children
                group = os.getpgid(pid)
            except OSError:  # gone already
                continue
            if running:
                continue
            with contextlib.suppress(OSError):
                if group != os.getpgrp():
                    os.killpg(group, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)

    def _orphans(self) -> list[int]:
        """This server's children that are neither checks nor servers it forked."""
        me = os.getpid()
        try:
            with open(f"/proc/{me}/task/{me}/children", encoding="ascii") as listing:
                pids = [int(pid) for pid in listing.read().split()]
        except (OSError, ValueError):  # (a kernel without the listing: nothing swept)
            return []
        return [pid for pid in pids if pid not in self.children and pid not in self.servers]

    def _kill_all(self) -> None:
        """Kill every check's session, and what the checks left (the parent is gone: nobody
        else will), waiting at most a second for the orphans to come here."""
        import time

        for pid in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.children.clear()  # (nobody to report their ends to)
        deadline = time.monotonic() + 1.0
        while self.reaper and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            if not self._orphans():
                return
            self._sweep(everything=True)
            time.sleep(0.02)


def _become_subreaper() -> bool:
    """Have the orphans of this process's descendants come to it rather than to init
    (PR_SET_CHILD_SUBREAPER, Linux), so that `_Zygote._sweep` finds what a check left."""
    if sys.platform != "linux":
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _serve_inline(stream, replies: int, device: str) -> None:
    """Run each check here, one after another (a CUDA worker). Each starts from the same random
    state, as a forked child would; after each, report the memory still held (its garbage
    collected), so that the parent can replace a worker that leaks."""
    import gc
    import random

    import numpy
    import torch

    from studycli.check import child, contain, loading

    contain.no_core_files()  # (its checks run here: a crash in one is this worker's)

    class _Keep:
        result: Any = None

        def send(self, result: Any) -> None:
            self.result = result

        def close(self) -> None:
            pass

    while (message := read_message(stream)) is not None:
        if message[0] == "preload":
            _prepare(message[1])
            continue
        _, number, job = message
        write_message(replies, ("started", number, os.getpid()))
        random.seed(0)
        numpy.random.seed(0)
        torch.manual_seed(0)
        kept = _Keep()
        modules = dict(sys.modules)
        child._child(job, kept)
        # The learner's file, loaded anew at each check of it (`solve --watch` checks it at
        # every save), leaves with its check: garbage in cycles (its functions hold its
        # namespace), it is the collection's below, not frozen with what outlived the check.
        sys.modules.pop(loading.ATTEMPT_MODULE, None)
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
        write_message(replies, ("memory", 0, _memory(device)))  # before the result it goes with
        write_message(replies, ("result", number, pickle.dumps(kept.result)))
        write_message(replies, ("exited", number, 0))


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
