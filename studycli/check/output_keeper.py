"""A device worker's check output, read by its keeper (`keeper`), a process of its own: the
worker hands it the read end of each check's output pipe (`Reading`, from `output_aside`),
and asks for what it kept once the check ends; where the worker ends in a check (a crash, a
signal, `os._exit`, its time limit), the keeper tells the command how it ended, with the
tail of what the check printed, as a zygote does for a forked check (`Keeping.ended`).

Read by a thread of the worker (`output_aside._Reading`), what a check printed before it
crashed its worker was lost with the worker (the card failed saying only that the process
ended), and a writer that held the GIL as it waited on the full pipe (a C extension's write of
more than its 1 MB) kept that thread from reading: the check ran to its time limit, where the
CPU's (read by its zygote) passed.

The two talk over a Unix socket of packets: the worker sends `_START` (the check's number)
with the pipe, then `_END` with a token of its own; the keeper answers every `_END` with its
token and what it read (`_KEPT`, then the last bytes), having closed its copy of the pipe, so
that the worker finds none but its check's processes holding it
(`pipe_holders.kill_holders`). The socket is the worker's, and so its check's code's: a
check that asked the keeper for output of its own and left the answers unread had each later
check of the worker take the answer before its own, for the worker's life. The worker takes
the answer that bears its token, and drops the others.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import threading

from . import limits, output_tail

CHANNEL: socket.socket | None = None  # (in a device worker under a keeper) to the keeper
NUMBER = 0  # (in a device worker) the check it runs (`device_worker._serve_inline`)

_START = struct.Struct("=cq")  # b"s", the check's number (the pipe's read end with it)
_END = b"e"  # then the asker's token (`_TOKEN` bytes)
_TOKEN = 16
# the token asked with, bytes and lines written, whether every writer closed it
_KEPT = struct.Struct(f"={_TOKEN}sqq?")
_PACKET = _KEPT.size + 2 * limits.DUMP_LIMIT


class Reading:
    """(In the worker.) The pipe of `reader` read by the keeper until `finish`, as
    `output_aside._Reading` reads it in this process."""

    def __init__(self, reader: int, tail: output_tail.OutputTail, channel: socket.socket) -> None:
        self.tail, self.channel = tail, channel
        socket.send_fds(channel, [_START.pack(b"s", NUMBER)], [reader])

    def finish(self) -> bool:
        """What the keeper read, into the tail; whether a writer still holds the pipe. (The
        answer to this ask: one left unread by a check that asked, bearing another token,
        is dropped.)"""
        token = os.urandom(_TOKEN)
        try:
            self.channel.send(_END + token)
            while True:
                packet = self.channel.recv(_PACKET)
                if len(packet) < _KEPT.size:  # (the keeper is gone: this worker dies with it)
                    return True
                answered, total, lines, ended = _KEPT.unpack_from(packet)
                if answered == token:
                    break
        except OSError:
            return True
        self.tail.take(total, lines, packet[_KEPT.size :])
        return not ended


class Keeping:
    """(In the keeper.) Reads the pipe of the check the worker runs (a thread, `start`); says
    how the worker ended in a check, with its output (`ended`)."""

    def __init__(self, channel: socket.socket, replies: int) -> None:
        self.channel, self.replies = channel, replies
        self.fds = (channel.fileno(), replies)  # (the keeper's, kept: `keeper_command.detach`)
        self.lock = threading.Lock()
        self.number = 0
        self.pipe = -1  # the check's output (-1: none, or every writer closed it)
        self.tail: output_tail.OutputTail | None = None  # (None: no check runs)

    def start(self) -> None:
        threading.Thread(target=self._serve, name="studycli-output", daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                watched = [self.channel.fileno()] + ([self.pipe] if self.pipe >= 0 else [])
                ready = select.select(watched, [], [])[0]
                with self.lock:
                    if self.pipe in ready:
                        self._read()
                    if self.channel.fileno() in ready and not self._handle():
                        return

    def _handle(self) -> bool:
        """Do as the worker's next packet says (False: the worker is gone)."""
        packet, fds, _, _ = socket.recv_fds(self.channel, _PACKET, 1)
        if not packet:
            return False
        if len(packet) == _START.size and packet[:1] == b"s" and len(fds) == 1:
            self._close()
            self.number = _START.unpack(packet)[1]
            self.pipe, self.tail = fds[0], output_tail.OutputTail(limits.DUMP_LIMIT)
            os.set_blocking(self.pipe, False)
            return True
        for fd in fds:  # (no packet of the worker's: a check's code can write here too)
            os.close(fd)
        if packet[:1] == _END:  # (each answered, a check's too: the asker takes its own)
            token = packet[1 : 1 + _TOKEN]
            if self.tail is None:  # (asked already: nothing read since)
                self.channel.send(_KEPT.pack(token, 0, 0, True))
                return True
            ended = self._drain()
            self._close()  # (before the answer: no holder of the pipe but the check's)
            kept = self.tail.last(limits.DUMP_LIMIT)
            self.channel.send(_KEPT.pack(token, self.tail.total, self.tail.lines, ended) + kept)
            self.tail = None
        return True

    def _read(self) -> None:
        assert self.tail is not None
        if not self.tail.read(self.pipe):  # (every writer closed it)
            self._close()

    def _drain(self) -> bool:
        """Read what the pipe holds, as much as it can hold at most; whether every writer
        closed it. Read until it was empty, a writer as fast as this reader (one the check
        left running), or a descriptor that never runs dry that the check's code handed in
        its place (/dev/zero), kept the keeper reading for ever, its lock held: the worker
        waited for its answer until the check's time limit, and, the worker killed there, the
        keeper spun under init after the command had ended."""
        if self.pipe < 0:
            return True
        left = _capacity(self.pipe)
        while self.pipe >= 0 and left > 0:
            try:
                chunk = os.read(self.pipe, min(1 << 16, left))
            except BlockingIOError:
                return False
            except OSError:  # (not a pipe: a directory, say)
                chunk = b""
            assert self.tail is not None
            self.tail.add(chunk)
            left -= len(chunk)
            if not chunk:
                self._close()
        return self.pipe < 0

    def _close(self) -> None:
        if self.pipe >= 0:
            os.close(self.pipe)
            self.pipe = -1

    def ended(self, status: int, exitcode: int | None = None) -> None:
        """(The worker ended, with wait status `status`.) Where it ended in a check, tell the
        command so (as `exitcode` where given: `device_worker.KEEPER_GONE`, the worker killed
        as its keeper's guard ended), with what the check wrote (`fork_server`'s message for a
        forked check); then let go of the command's socket."""
        from .protocol import write_message

        with self.lock, contextlib.suppress(OSError):
            if self.tail is not None:
                self._drain()
                output = self.tail.text(limits.OUTPUT_LIMIT)
                dump = self.tail.text(limits.DUMP_LIMIT)
                if exitcode is None:
                    exitcode = os.waitstatus_to_exitcode(status)
                write_message(self.replies, ("exited", self.number, exitcode, output, dump))
            os.close(self.replies)


def _capacity(fd: int) -> int:
    """How many bytes the pipe of `fd` holds at most (`output_tail.WIDE_PIPE` where it does not
    say: not a pipe, or not Linux)."""
    try:
        import fcntl

        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
    except (ImportError, AttributeError, OSError):
        return output_tail.WIDE_PIPE
