"""The keeper's watch (`keeper`): it reaps what comes to it until the server ends, kills what is
left, and ends as the server did, so the command sees the keeper's end as the server's."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import threading
from typing import NoReturn

from . import output_keeper
from .keeper_children import kill_all, kill_at_once, wait_for
from .keeper_command import detach, end_with_the_command

STATUS = struct.Struct("=i")  # a wait status, as the init tells it


def watch(
    server: int,
    *,
    told: int = -1,
    command: int = -1,
    keeping: output_keeper.Keeping | None = None,
    guard: int = -1,
) -> NoReturn:
    """Reap what comes here until the server ends (its init, which says on `told` how the
    server ended; killed when the process of pidfd `command` ends), then kill what is left,
    and leave, as the server did. With `keeping`, read the output of the checks the server
    runs meanwhile, and say how it ended in one. With `guard` (a device keeper's pidfd of its
    guard, `keeper_guard`), kill the server and all else here at once when the guard ends
    (`_end_with_the_guard`), and say that the keeper was killed."""
    detach(told, command, guard, *(keeping.fds if keeping is not None else ()))
    if keeping is not None:
        keeping.start()
    end_with_the_command(command, server)
    guard_gone = _end_with_the_guard(guard)
    status = wait_for(server)
    if told >= 0:
        with contextlib.suppress(OSError, struct.error):
            status = STATUS.unpack(os.read(told, STATUS.size))[0]
    if keeping is not None:
        from .device_worker import KEEPER_GONE

        keeping.ended(status, KEEPER_GONE if guard_gone.is_set() else None)
    kill_all()
    end_as(status)


def _end_with_the_guard(guard: int) -> threading.Event:
    """(A device keeper, `keeper_guard`.) Kill the server and all else this process holds as
    soon as the process of pidfd `guard` ends (none where it is -1): set then. A check that
    killed the guard, then the keeper, in two calls, left what had come to the keeper (a
    daemon it started) to init, the keeper's end giving it to the next subreaper above, and
    there was none (the command is not one: see `keeper`); the daemon ran on after the
    command. What is here once the guard has gone is killed before a check can end the keeper
    too (the test's two calls, from the test's process, come a few ms apart; calls made one
    right after the other, in microseconds, can still outrun this thread: no process of the
    user is out of its reach, `landlock`), and the worker, killed with it, starts nothing
    more. The card says that the keeper was killed, as where the check killed the keeper."""
    gone = threading.Event()
    if guard < 0:
        return gone

    def wait() -> None:
        import select

        poll = select.poll()
        poll.register(guard, select.POLLIN)  # (readable once the process has ended)
        poll.poll()
        gone.set()
        kill_at_once()

    threading.Thread(target=wait, name="studycli-guard-gone", daemon=True).start()
    return gone


def end_as(status: int) -> NoReturn:
    """End as the server did (`status`, as os.wait said it): the command sees this process's
    end as the server's (one it killed, say). Without a core file: where they are allowed,
    this process's replaced the one of a server that crashed (the kernel's default pattern,
    "core", names both alike, in the folder both ran in)."""
    if os.WIFSIGNALED(status):
        with contextlib.suppress(ImportError, OSError, ValueError):
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with contextlib.suppress(OSError, ValueError):  # (SIGKILL's cannot be set)
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
