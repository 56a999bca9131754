"""The command's handle on a worker process: `Worker` starts one (a new interpreter that runs
`zygote.serve`, or a server that a running zygote forks), sends it checks, relays what it says
to each check's `Running`, and stops and closes it; `_close_all` ends every worker as the
command exits. `pool` keeps the workers and picks one for each check; what the worker process
does is `zygote`'s (with `fork_server` and `device_worker`); the messages between the two are
`protocol`'s.

A worker that dies takes its running checks with it: they end without a report, as a crashed
child would.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from . import left_threads, proc_stat
from .limits import DUMP_LIMIT, OUTPUT_LIMIT
from .protocol import one_way, read_reply, report_of, tail_within, write_message
from .zygote import BASE_PRELOAD, TORCHLESS_PRELOAD, serve

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# A device worker runs one check at a time on one stream: one hardware work queue is all it
# uses. Whatever the environment says: with CUDA_DEVICE_MAX_CONNECTIONS=32 (set by some
# training setups), twelve workers under the run's MPS daemon failed 8 to 12 cards of 82 with
# "CUDA-capable device(s) is/are busy or unavailable" (H100 host); with 1, 82 of 82 passed,
# and `check --device cuda --jobs 16` took 2.55 s against 2.69 s with the default (8).
DEVICE_ENVIRONMENT = {"CUDA_DEVICE_MAX_CONNECTIONS": "1"}
SWEEP_WAIT = 2.0  # seconds `close` waits for a keeper to sweep (`keeper_children.SWEEP_LIMIT`, 1 s)


class Running:
    """One check in a worker: its pid once started, its result once reported."""

    def __init__(self, worker: Worker, number: int) -> None:
        self.worker, self.number = worker, number
        self.contained = worker.fork  # a child in a session of its own (see contain)
        self.pid: int | None = None
        self.result: dict | None = None
        self.exitcode: int | None = None
        self.output = ""  # the tail of what it wrote
        self.dump = ""  # a longer tail, where it ended without a report (`limits.DUMP_LIMIT`)
        self.started = threading.Event()  # it runs (its time limit counts from here), or is gone
        self.reported = threading.Event()  # a result came, or the process is gone
        self.gone = threading.Event()
        self._kill = False

    def wait(self, timeout: float | None) -> bool:
        """Wait for the report (or the end of the process); False if `timeout` passed first."""
        return self.reported.wait(timeout)

    def kill(self) -> None:
        """Kill the check: its whole session when contained, else the process running it (a
        CUDA worker, which goes with it). A check that did not report may have stopped the
        worker that forked it (SIGSTOP): that worker is killed too (see `Worker.kill_stopped`)."""
        self._kill = True
        if self.pid is None:  # not started yet: killed as it starts; nobody waits for it
            self.started.set()
            self.reported.set()
            return
        if self.gone.is_set() and (self.exitcode is not None or not self.contained):
            return  # (a check its worker saw end; with no exit code, its worker died first:
            # the check, in a session of its own, may still run, with nobody to stop it)
        if self.contained and not self.reported.is_set():
            self.worker.kill_stopped()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.contained and hasattr(os, "killpg"):
                try:
                    os.killpg(self.pid, signal.SIGKILL)  # the group is its leader's pid
                    return
                except ProcessLookupError:
                    pass  # it has not made its session yet
            elif self.worker.process is not None and hasattr(os, "killpg"):
                # A CUDA worker, which leads a group of its own (`Worker._start`): with it go
                # the processes its check started there, which ran on under init (the worker,
                # their subreaper while it lived, kills them only once a check ends)
                with contextlib.suppress(ProcessLookupError):  # (no such group: itself, below)
                    os.killpg(self.pid, signal.SIGKILL)
            os.kill(self.pid, signal.SIGKILL)

    def is_alive(self) -> bool:
        return self.pid is not None and not self.gone.is_set()

    def stopped(self) -> bool:
        """Whether the check's own process is stopped by a signal (SIGSTOP; see
        `Worker.stopped`)."""
        return self.pid is not None and not self.gone.is_set() and _stopped(self.pid, False)

    def _started(self, pid: int) -> None:
        self.pid = pid
        self.started.set()
        if self._kill:
            self.kill()

    def _ended(self, exitcode: int | None) -> None:
        self.exitcode = exitcode
        self.gone.set()
        self.started.set()
        self.reported.set()


class Worker:
    """A server process with `preload` imported and `solutions` loaded (a folder and module
    names). With `fork`, each check runs in a child forked from it; without, in the worker
    itself, one at a time."""

    def __init__(
        self,
        preload: tuple[str, ...] = (),
        solutions: tuple[str, tuple[str, ...]] | None = None,
        *,
        fork: bool = True,
        device: str = "cpu",
        parent: Worker | None = None,
        torch: bool = True,
    ) -> None:
        """With `parent` (a running zygote), the server is forked from it, with what it
        imported, and imports `preload` more; else it is a new interpreter. Without `torch`,
        it never imports torch, nor the solution modules that use it (their checks load them
        themselves)."""
        self.fork, self.device, self.torch = fork, device, torch
        requests_read, self._requests = one_way()
        replies, replies_write = one_way()
        self._lock = threading.Lock()  # the checks running
        self._sending = threading.Lock()
        self._running: dict[int, Running] = {}
        self._number = 0
        self.ready = threading.Event()
        self.dead = False
        self.ended = threading.Event()  # set with `dead`: the server's end of the pipe closed
        self._closed = False
        self.memory: dict[str, float] = {}  # what a CUDA worker reports after each check
        self.pid: int | None = None  # the server's (said with "ready")
        self.process: subprocess.Popen | None = None
        self._channel: socket.socket | None = None  # to hand pipes to a server it forks
        forked = parent is not None and parent._spawn(
            self._config(preload, solutions), requests_read, replies_write
        )
        self._parent = parent if forked else None  # the zygote that forks this server
        if not forked:  # (or its parent is gone) a new interpreter
            self._start(requests_read, replies_write)
            base = BASE_PRELOAD if torch else TORCHLESS_PRELOAD
            self._send(("config", self._config((*base, *preload), solutions)))
        os.close(requests_read)
        os.close(replies_write)
        self._replies = os.fdopen(replies, "rb")
        threading.Thread(target=self._read, name="studycli-worker", daemon=True).start()
        _WORKERS.append(self)

    def _start(self, requests_read: int, replies_write: int) -> None:
        """The server as a new interpreter; a zygote's with a channel to hand it the pipes of
        a server to fork (see `_spawn`). (On Linux `self.process` is then a zygote's keeper,
        which forks the server and kills what it leaves, and the server dies with it:
        `keeper`.)"""
        environ = dict(os.environ)
        for name in THREAD_VARIABLES:  # one thread each: checks run side by side, one per core
            environ.setdefault(name, "1")
        if self.device != "cpu":
            environ.update(DEVICE_ENVIRONMENT)
        code = (
            f"import sys; sys.path[:] = {sys.path!r}; from {serve.__module__} import serve; serve()"
        )
        passed = [requests_read, replies_write]
        theirs = None
        if self.fork:
            self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            passed.append(theirs.fileno())
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *map(str, passed)],
            pass_fds=passed,
            env=environ,
            stdin=subprocess.DEVNULL,
            # a process group of its own: Ctrl-C at the terminal interrupts the command, which
            # stops the checks and ends its workers, and not each worker too (each printed a
            # traceback of where the signal found it)
            process_group=0 if os.name == "posix" else None,
        )
        if theirs is not None:
            theirs.close()

    def _spawn(self, config: dict[str, Any], requests_read: int, replies_write: int) -> bool:
        """Have this zygote fork a zygote server of its own on these pipes (False: it is gone)."""
        with self._sending:
            if self._closed or self._channel is None:
                return False
            try:
                write_message(self._requests, ("spawn", config))
                socket.send_fds(self._channel, [b"+"], [requests_read, replies_write])
            except OSError:
                return False
        return True

    def preload(self, preload: tuple[str, ...], solutions: tuple | None) -> None:
        """Import more in the running server (the checks started later find them)."""
        self._send(("preload", self._config(preload, solutions)))

    def submit(self, job: Any) -> Running:
        """Start `job` (a runner.Job); its Running says when it reports."""
        with self._lock:
            self._number += 1
            running = Running(self, self._number)
            self._running[running.number] = running
        if not self._send(("run", running.number, job)):
            self._forget(running.number, None)
        return running

    def running(self) -> int:
        """How many of its checks have not ended yet."""
        with self._lock:
            return len(self._running)

    def _config(self, preload: tuple[str, ...], solutions: tuple | None) -> dict[str, Any]:
        return {"preload": list(preload), "solutions": solutions, "fork": self.fork,
                "device": self.device, "torch": self.torch,
                "strays": left_threads.config()}  # fmt: skip

    def let_go(self) -> None:
        """Tell the server to end (it kills what it still runs, and exits), without waiting."""
        with self._sending:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(OSError):
                os.close(self._requests)
            if self._channel is not None:
                self._channel.close()

    def stopped(self) -> bool:
        """Whether the server is stopped by a signal (SIGSTOP; not by a tracer: py-spy stops
        a process it samples for a moment, many times a second); before it said it is ready,
        whether the zygote that is to fork it is (a check of that one's can stop it)."""
        if self.pid is None and self._parent is not None:
            return self._parent.stopped()
        return self.pid is not None and _stopped(self.pid, traced=False)

    def kill_stopped(self) -> None:
        """Kill the server if it is stopped (a check it forked can send it SIGSTOP): stopped,
        it never said that the check ended, and the runner waited for that 5 s past the time
        limit, 5 s more at exit, and the next check waited for it to start; killed, its
        checks end and it is replaced (`dead`). Before it said it is ready, the zygote that is
        to fork it, if that one is stopped: killed, it lets go of the pipes it was handed, and
        this server is `dead` too."""
        if self.pid is None and self._parent is not None:
            self._parent.kill_stopped()
        elif self.pid is not None and _stopped(self.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        """Let the server go (it kills what it still runs), and reap it (one forked from
        another server: wait for it to go, its parent reaps it). One still starting is killed:
        it runs nothing yet, and would end only once its imports had (torch's 1-2 s, which a
        command that failed to parse, or named no card, waited for as it exited). One that is
        stopped (what a check left running can stop it) is killed: it never reads that it is
        let go, and the command waited 5 s for it as it exited. A keeper that is stopped (a
        check may stop its worker's parent too) is let go on: it never ended either."""
        self.let_go()
        if self.pid is not None and self.stopped():
            self.kill_stopped()
        if self.process is not None:
            # (its keeper then kills what its load started, and ends; with no server yet,
            # nothing to sweep is waited for: each CPU worker a command closed as it started
            # kept it SWEEP_WAIT longer, in turn, before it exited)
            if not self.ready.is_set():
                if self._kill_server():
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.process.wait(timeout=SWEEP_WAIT)
                with contextlib.suppress(OSError):
                    self.process.kill()
            else:  # (its keeper, and a device worker's guard of it, where one is stopped)
                for keeper in {self.process.pid, self._keeper()}:
                    if _stopped(keeper, traced=False):
                        with contextlib.suppress(OSError):
                            os.kill(keeper, signal.SIGCONT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill_server()  # (its keeper then kills what it left, and ends)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=SWEEP_WAIT)
                self.process.kill()
                self.process.wait()
        elif not self.ended.wait(5) and self.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ValueError):
            _WORKERS.remove(self)

    def _kill_server(self) -> bool:
        """(In `close`, before its keeper is killed.) Kill the server: its pid said with
        "ready", else its keeper's child (as root, a zygote's is the init of its PID namespace,
        whose end ends all in it). What the server started then comes to the keeper, which
        kills it and ends (`keeper`): killed first, the keeper left it to init (a daemon a
        solution module started as it loaded, in a worker closed before it was ready), and
        the server a zygote's, which dies with its keeper, left its checks' too. A device
        worker's no longer dies with its keeper (`device_worker.end_with_the_keeper`: a thread
        of its own that waits for the keeper's end, which runs only once its code lets go of
        the GIL); one that held it (a solution module's loop in C as it loaded, a thread a
        check left) ran on under init, for as long as its loop, once `close` had killed its
        keeper. Whether there was one to kill (none yet: its keeper has not forked it)."""
        if self.process is None:
            return False
        keeper = self._keeper()
        server = self.pid or next(iter(_children(keeper)), None)
        if server is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(server, signal.SIGKILL)
        return server is not None

    def _keeper(self) -> int:
        """The pid of the server's keeper (`keeper`): the process started, or, a device
        worker's, its child (`keeper_guard`), where it has forked it."""
        assert self.process is not None
        if self.fork:
            return self.process.pid
        return next(iter(_children(self.process.pid)), self.process.pid)

    def _send(self, message: Any) -> bool:
        try:
            with self._sending:  # its own lock: a full pipe never holds up the reply reader
                if self._closed:
                    return False
                write_message(self._requests, message)
            return True
        except OSError:  # the server is gone
            return False

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # a message of the wrong shapes: sense is lost
            self._relay()
        self.dead = True  # the server died, or was closed: so did what it ran
        self.ready.set()
        self.ended.set()
        for number in list(self._running):
            self._forget(number, None)
        self._replies.close()

    def _relay(self) -> None:
        """Hand what the server says to the checks it is about, until it is gone or says
        something that is not a message of ours (a CUDA worker runs a check's code itself,
        which can write into this channel: any message, its output and crash dump of any
        length, 16 MB, each kept to its tail as a fork server's are, `protocol.tail_within`)."""
        while (message := read_reply(self._replies)) is not None:
            kind, number, value, *output = message
            if type(number) is not int:
                return
            running = self._running.get(number)
            # (each kept to what a fork server sends: a CUDA worker's check could send any)
            if running is not None and output and isinstance(output[0], str):
                running.output = tail_within(output[0], OUTPUT_LIMIT)
            if running is not None and len(output) > 1 and isinstance(output[1], str):
                running.dump = tail_within(output[1], DUMP_LIMIT)
            if kind == "ready" and type(value) is int:
                self.pid = value
                self.ready.set()
            elif kind == "memory" and isinstance(value, dict):
                self.memory = {k: v for k, v in value.items() if type(v) in (int, float)}
            elif kind == "strays" and isinstance(value, dict):  # (`left_threads`)
                left_threads.learn(value)
                self.dead = True  # it serves no more checks: the pool starts a fresh one
            elif running is None:
                continue
            elif kind == "started" and type(value) is int:
                running._started(value)
            elif kind == "result" and isinstance(value, bytes):
                running.result = report_of(value)
                running.reported.set()
            elif kind == "exited" and (value is None or type(value) is int):
                self._forget(number, value)

    def _forget(self, number: int, exitcode: int | None) -> None:
        with self._lock:
            running = self._running.pop(number, None)
        if running is not None:
            running._ended(exitcode)


_WORKERS: list[Worker] = []


def _children(pid: int) -> list[int]:
    """The children of process `pid`'s main thread, as the kernel lists them (none where it
    cannot)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
            return [int(child) for child in listing.read().split()]
    except (OSError, ValueError):
        return []


def _stopped(pid: int, traced: bool = True) -> bool:
    """Whether process `pid` is stopped (by a signal, or, with `traced`, by a tracer); False
    where /proc cannot tell."""
    state = (proc_stat.fields(f"/proc/{pid}/stat") or [""])[0]
    return state == "T" or (traced and state == "t")


@atexit.register
def _close_all() -> None:
    """Every worker told to end at once, so that they exit side by side, not in turn; then the
    CPU's reaped. A CUDA worker is left to exit on its own: the teardown of its CUDA context
    takes 0.4-0.5 s after its last check, and it has let go of the command's output first."""
    workers = list(_WORKERS)
    for worker in workers:
        worker.let_go()
    for worker in workers:
        if worker.device == "cpu":
            worker.close()
