"""The fork server of a CPU worker (a zygote): once `zygote` has prepared the worker process,
`_Zygote` forks a child per check from it, relays what the child reports (through a
`_PipeSender`) and how it ends, and forks a zygote server of its own when asked (`_spawn`: the
heavy one, which imports more); as the subreaper of what its checks leave
(PR_SET_CHILD_SUBREAPER), it kills what an ended check left running (`_Zygote._sweep`), and its
checks die with it (PR_SET_PDEATHSIG: should one kill it, its keeper kills what they leave).

The worker process's entry point and its preparation are `zygote`'s; on CUDA a worker runs its
checks itself instead (`device_worker`). What runs in a check's child is `child`'s; the
messages between the command and its workers are `protocol`'s.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import sys
from typing import Any

from . import left_threads, pid_namespace
from .keeper_children import children_of_this_process
from .protocol import _HEADER, one_way, read_message, write_message
from .zygote import _prepare, _serve

_GO = struct.Struct("=i")  # what a check's start says: its pid as the command knows it


class _PipeSender:
    """What child._child sends its report through: one length-prefixed pickle on a Unix socket
    (`protocol.one_way`; a check's output pipe, on a pipe)."""

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
        # where SIGCHLD wakes the loop (signal.set_wakeup_fd); not a pipe, which a check could
        # open and read first, the ends of others unseen while it ran (`protocol.one_way`)
        self.wakeup_read, self.wakeup = one_way()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(self.wakeup, False)
        signal.set_wakeup_fd(self.wakeup)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.children: dict[int, int] = {}  # pid -> check number
        # pid -> /proc's (the command's) pid, of checks and servers: in a PID namespace of the
        # keeper's (as root: see `pid_namespace`) they differ
        self.host_pids: dict[int, int] = {}
        self.pipes: dict[int, tuple[int, bytearray]] = {}  # report pipe -> (check, bytes so far)
        self.outputs: dict[int, tuple[int, Any]] = {}  # check -> (output pipe, its tail so far)
        self.tails: dict[int, int] = {}  # output pipes still open -> their check
        self.relayed: set[int] = set()  # checks whose report went to the parent
        self.servers: set[int] = set()  # the zygote servers this one forked (`_spawn`)
        self.prctl = _prctl()  # (loaded once, here: each check calls it, `_child`)
        self.reaper = self.prctl is not None and self.prctl(36, 1, 0, 0, 0) == 0
        from studycli.check import as_root, landlock

        as_root.drop_root_exemption()  # (root: each check it forks is then held to its cap)
        landlock.prepare()  # (each check it forks is in a domain of its own)
        self.early: list[Any] = []  # requests read while preparing, for the loop (see below)
        # A load it prepared left a thread running (`left_threads`): it forks nothing more,
        # and ends once what it forked has
        self.retiring = False

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
            if self.retiring and not self.children and not self.servers:
                return

    def _handle(self, message: Any) -> bool:
        """Do as a request says; False: the parent is gone (so are its checks)."""
        if message is None:
            self._kill_all()
            return False
        if message[0] == "preload":
            _prepare(message[1])
            if not self.retiring:
                self.retiring = left_threads.said(lambda said: write_message(self.replies, said))
        elif message[0] == "spawn":
            self._spawn(message[1])
        elif self.retiring:  # (not started: the command runs it in a fresh worker)
            write_message(self.replies, ("exited", message[1], None))
        else:
            self._fork(*message[1:])
        return not self.retiring or bool(self.children or self.servers)

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
        if len(fds) != 2 or self.retiring:  # (retiring: the server's end is its death)
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
        if (host := pid_namespace.host_pid(pid)) is not None:
            self.host_pids[pid] = host
        os.close(requests)
        os.close(replies)

    def _fork(self, number: int, job: Any) -> None:
        from studycli.check import contain, limits, output_tail

        read, write = one_way()  # (not a pipe: another check could open it, `one_way`)
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
        self.outputs[number] = (output_read, output_tail.OutputTail(limits.DUMP_LIMIT))
        self.tails[output_read] = number
        if (host := pid_namespace.host_pid(pid)) is None:
            # Its pid as the command would know it is not to be had: the command, outside
            # this namespace, would kill whatever /proc numbers as this one's own pid. It ends
            # unstarted (told nothing, it exits), and the command runs it again elsewhere.
            os.close(go_write)
            return
        self.host_pids[pid] = host
        write_message(self.replies, ("started", number, host))
        # Only now may the check run: one that stopped this zygote (SIGSTOP) before its start
        # was said left the runner waiting for the start (`WORKER_START_LIMIT`, 600 s), and a
        # check whose pid was never said could not be killed.
        with contextlib.suppress(OSError):
            os.write(go_write, _GO.pack(host))  # (its pid as the command knows it)
        os.close(go_write)

    def _child(
        self, read: int, output_read: int, job: Any, sender, output, go_read: int = -1
    ) -> None:
        code = 1
        try:
            if self.prctl is not None:
                # Killed as soon as this zygote ends (PR_SET_PDEATHSIG): a check that killed
                # it ran on, a child of its keeper (`keeper`) then, which it could kill too
                # (not the subreaper of what it starts: this zygote is, and reaps it, see
                # `starvation._started_cpu`)
                self.prctl(1, signal.SIGKILL.value, 0, 0, 0)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (read, output_read, self.stream.fileno(), self.replies, self.wakeup_read):
                os.close(fd)
            if go_read >= 0:
                said = os.read(go_read, _GO.size)  # (b"" if the zygote is gone before saying it)
                os.close(go_read)
                if len(said) != _GO.size:
                    return
                pid_namespace.remember_own_host_pid(_GO.unpack(said)[0])
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
        """Read what the check wrote; relay its report as soon as it is whole, and read the
        pipe no more. A report said to be longer than `limits.REPORT_LIMIT` is none (the code
        checked wrote into its pipe: `protocol.report_of` says so), relayed at once as
        bytes that do not read: waiting for the 4 GB a header of its own announced, this
        worker kept all that the check wrote there (1.7 GB in 5 s on the 2-core box, more
        with a longer time limit, outside the check's memory cap)."""
        from studycli.check.limits import REPORT_LIMIT

        number, data = self.pipes[fd]
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return
            if not chunk:
                self._stop_reading(fd)
                return
            data += chunk
            if len(data) < _HEADER.size:
                continue
            size = _HEADER.unpack_from(data)[0]
            if size > REPORT_LIMIT:
                self._relay(number, b"")
            elif len(data) >= _HEADER.size + size:
                self._relay(number, bytes(data[_HEADER.size : _HEADER.size + size]))
            else:
                continue
            self._stop_reading(fd)  # (what the check writes there next is nothing to read)
            return

    def _relay(self, number: int, report: bytes) -> None:
        write_message(self.replies, ("result", number, report, self._output(number)))
        self.relayed.add(number)

    def _stop_reading(self, fd: int) -> None:
        del self.pipes[fd]
        os.close(fd)

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
            self.host_pids.pop(pid, None)
            number = self.children.pop(pid, None)
            if number is None:
                continue
            for fd, (owner, _) in list(self.pipes.items()):
                if owner == number:  # what it wrote before it ended, then no more
                    self._drain(fd)
                    if fd in self.pipes:
                        self._stop_reading(fd)
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
        known = {host: pid for pid, host in self.host_pids.items()}
        pids = children_of_this_process(known)  # (a kernel without the listing: none swept)
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


def _prctl() -> Any:
    """libc's prctl (Linux; else None). The zygote is its checks' subreaper with it
    (PR_SET_CHILD_SUBREAPER): what a check leaves comes to it rather than to init, and
    `_Zygote._sweep` finds it."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
