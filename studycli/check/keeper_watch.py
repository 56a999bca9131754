"""The keeper's watch (`keeper`): it reaps what comes to it until the server ends, kills what is
left, and ends as the server did, so the command sees the keeper's end as the server's."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
from typing import NoReturn

from . import output_keeper
from .keeper_children import kill_all, wait_for
from .keeper_command import detach, end_with_the_command

STATUS = struct.Struct("=i")  # a wait status, as the init tells it


def watch(
    server: int,
    *,
    told: int = -1,
    command: int = -1,
    keeping: output_keeper.Keeping | None = None,
) -> NoReturn:
    """Reap what comes here until the server ends (its init, which says on `told` how the
    server ended; killed when the process of pidfd `command` ends), then kill what is left,
    and leave, as the server did. With `keeping`, read the output of the checks the server
    runs meanwhile, and say how it ended in one."""
    detach(told, command, *(keeping.fds if keeping is not None else ()))
    if keeping is not None:
        keeping.start()
    end_with_the_command(command, server)
    status = wait_for(server)
    if told >= 0:
        with contextlib.suppress(OSError, struct.error):
            status = STATUS.unpack(os.read(told, STATUS.size))[0]
    if keeping is not None:
        keeping.ended(status)
    kill_all()
    end_as(status)


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
