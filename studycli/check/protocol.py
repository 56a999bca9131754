"""The messages between the command and its workers: `worker` (the command's handle on a worker
process) sends them and reads the replies; the worker process (`zygote`, and `fork_server` or
`device_worker`) reads them and replies.

The protocol: length-prefixed pickles over two pipes. The parent sends ("run", id, job); the
server answers ("started", id, pid), then ("result", id, pickled result, output) when the
check reports and ("exited", id, exit code, output) when its process is gone, `output` being
the tail of what the check wrote (see `contain`: the server reads each child's output pipe, so
that a flood of it never blocks the child). A zygote can also fork a server of its own
(("spawn", config), then the server's two pipes over a Unix socket): a second zygote that
starts with everything the first imported.

What comes back is read without running anything it names (`safe_loads`: builtin values
only): a check's code can write into the pipe its report goes back on (or, in a CUDA worker,
into the worker's own), and an unpickled object's `__reduce__` ran code in the command's own
process. A report that does not read as one (`report_of`) is that check's error, and a
worker whose messages stop making sense is treated as gone.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import socket
import struct
from typing import Any

_HEADER = struct.Struct(">I")


def one_way() -> tuple[int, int]:
    """The two ends of a channel that no other process can open: a Unix socket pair, not a
    pipe. Any process of the user can open a pipe another one holds (/proc/PID/fd/N), a check
    too: a pickle it wrote into the pipe its worker reads requests from ran code in the
    worker, outside the check's limits and session, for the rest of the command; a report it
    wrote into another check's report pipe, held open by the worker that forks both, was
    taken for that check's outcome. A socket does not open so (ENXIO)."""
    first, second = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return first.detach(), second.detach()


def write_message(fd: int, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def read_message(stream) -> Any:
    """The next message on a binary file, or None at its end."""
    head = _read_exactly(stream, _HEADER.size)
    if head is None:
        return None
    data = _read_exactly(stream, _HEADER.unpack(head)[0])
    return None if data is None else pickle.loads(data)


class _BuiltinsOnly(pickle.Unpickler):
    """Unpickles dicts, lists, tuples, strings, numbers, booleans and None, and refuses
    anything that names a class or a function (which is how a pickle runs code)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed here")


def safe_loads(data: bytes) -> Any:
    return _BuiltinsOnly(io.BytesIO(data)).load()


def read_reply(stream) -> Any:
    """(The parent's side.) The next message a worker sent, or None at its end, or where it
    does not read as a message of builtin values (the stream's sense is lost), or is said to
    be longer than any a worker sends (`limits.REPLY_LIMIT`: a check in a CUDA worker can
    write a header of its own into the worker's replies, announcing 4 GB, and the command
    kept all that came after it; none is read past the header)."""
    from .limits import REPLY_LIMIT

    try:
        head = _read_exactly(stream, _HEADER.size)
        size = None if head is None else _HEADER.unpack(head)[0]
        data = None if size is None or size > REPLY_LIMIT else _read_exactly(stream, size)
        message = None if data is None else safe_loads(data)
    except Exception:  # (unpickling fails in many ways: all of them mean garbage)
        return None
    return message if isinstance(message, tuple) and len(message) >= 3 else None


# (and "status", "seconds", "waited")
REPORT_TEXTS = ("message", "traceback", "label", "output", "loading", "printed_at", "missing")


def report_of(data: bytes) -> dict[str, Any]:
    """A check's report, as `child._child` sent it; where it is not one (the check's code
    wrote into its pipe), an error saying so."""
    from studycli.check.runner import Status

    try:
        report = safe_loads(data)
    except Exception:
        report = None
    if (
        isinstance(report, dict)
        and set(report) <= {"status", "seconds", "waited", *REPORT_TEXTS}
        and isinstance(status := report.get("status"), str)  # (a list is not even hashable)
        and status in {status.value for status in Status}
        and isinstance(report.get("message"), str)
        and all(isinstance(report.get(key, ""), str) for key in REPORT_TEXTS)
        and _duration(report.get("seconds"))
        and _duration(report.get("waited", 0.0))
        and report.get("missing", "x").isidentifier()  # (the card's function: solve prints it)
    ):
        return _within_bounds(report)
    return {
        "status": "error",
        "message": "the check's report could not be read: the code wrote into the pipe the "
        "report goes back on",
        "seconds": 0.0,
    }


def _within_bounds(report: dict[str, Any]) -> dict[str, Any]:
    """`report` with each text cut to what `child._child` sends at most: its message to
    `MESSAGE_LIMIT` characters, its output to its tail (`OutputTail`); and its message and
    traceback to `MESSAGE_LINES` lines. A report the code checked wrote into its pipe can hold
    16 MB (`REPORT_LIMIT`): a message of 15 MB on one line took solve 104 s to draw, an output
    150 s, with a time limit of 10 s, and sent 16 MB to the terminal."""
    from .limits import MESSAGE_LIMIT, OUTPUT_LIMIT

    kept = dict(report)
    for key in REPORT_TEXTS:
        text = kept.get(key)
        if key == "output" and text:
            kept[key] = tail_within(text, OUTPUT_LIMIT)
        elif text and len(text) > MESSAGE_LIMIT:
            kept[key] = text[:MESSAGE_LIMIT]
        if key in ("message", "traceback") and kept.get(key, "").count("\n") > MESSAGE_LINES:
            lines = kept[key].split("\n")
            left_out = len(lines) - MESSAGE_LINES
            kept[key] = "\n".join(lines[:MESSAGE_LINES]) + f"\n… {left_out:,} more lines not shown"
    return kept


def tail_within(text: str, limit: int) -> str:
    """`text`, a check's output as its worker sent it, within what a tail of `limit` bytes
    takes (`OutputTail`): where it is longer than such a tail can be (twice the limit: a tail
    cut starts with a line saying how much came before it), its own tail of `limit` bytes."""
    if len(text) <= 2 * limit:
        return text
    from .output_tail import OutputTail

    tail = OutputTail(limit)
    tail.add(text.encode("utf-8", "replace"))
    return tail.text()


# Lines of a report's message (and of its traceback) kept: an attempt's class named "W\n" * 9000
# made "returned W" a message of 9,000 lines, the failing call scrolled far out of sight
MESSAGE_LINES = 60


def _duration(seconds: Any) -> bool:
    """Whether a report's `seconds` is a time a check can take: a number, finite and not
    negative. (An int past a float's range, 10**400, ended the command in a traceback: its
    pass read "passed every case in {seconds:.2f} s", which raised OverflowError.)"""
    if type(seconds) not in (int, float):
        return False
    try:
        return 0 <= float(seconds) < math.inf  # (NaN is neither)
    except OverflowError:
        return False


def _read_exactly(stream, size: int) -> bytes | None:
    """The next `size` bytes of `stream` (a binary file), or None where it ends first. Its
    chunks are joined once, at the end: each added to the bytes read so far copied them all
    again (16 MB read unbuffered from a socket: 0.11-0.16 s, now 0.04-0.06 s). A buffered
    stream's (the command's) one chunk is the bytes read, not copied: a buffer filled in
    place (`readinto`) took 0.047 s to the 0.031 s of this, zeroed first and copied again to
    be unpickled."""
    chunks = []
    done = 0
    while done < size:
        chunk = stream.read(size - done)
        if not chunk:
            return None
        chunks.append(chunk)
        done += len(chunk)
    return b"".join(chunks)
