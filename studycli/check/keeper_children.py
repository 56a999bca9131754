"""A keeper's children (`keeper`; the init of its PID namespace's too): reaped until the server
ends, and what is left killed, with what that leaves in turn. The listing of a process's
children is the fork server's too (`_Zygote._orphans`)."""

from __future__ import annotations

import contextlib
import os
import signal
import time

from . import pid_namespace, proc_stat

SWEEP_LIMIT = 1.0  # seconds the keeper waits for what it killed to come to it in turn


def wait_for(child: int) -> int:
    """Reap what comes here until `child` ends: its wait status (0 if it was not a child)."""
    with contextlib.suppress(ChildProcessError):
        while (ended := os.wait())[0] != child:
            pass  # (an orphan that ended: reaped)
        return ended[1]
    return 0


def kill_all() -> None:
    """Kill every child of this process, with its process group, and reap it; what they leave
    comes here in turn, and is killed as it comes, for at most `SWEEP_LIMIT` seconds."""
    deadline = time.monotonic() + SWEEP_LIMIT
    while children := children_of_this_process():
        for pid in children:
            with contextlib.suppress(OSError):
                if (group := os.getpgid(pid)) != os.getpgrp():
                    os.killpg(group, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


def kill_at_once(limit: float = SWEEP_LIMIT) -> None:
    """Kill every child of this process now, and what they leave as it comes, for at most
    `limit` seconds, until none runs; none reaped (another thread waits for them:
    `wait_for`), so each is held by a pidfd as it is read to be this process's child (one
    reaped meanwhile, its pid another process's, is spared). A device keeper's, as its guard
    ends (`keeper_watch.watch`); it makes no PID namespace, so /proc's pids are its own."""
    deadline = time.monotonic() + limit
    while _kill_running_children() and time.monotonic() < deadline:
        time.sleep(0.005)


def _kill_running_children() -> bool:
    """Kill each child of this process that runs (a zombie is dead): whether there was one."""
    killed = False
    for pid in pid_namespace.host_children():
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            continue
        with contextlib.suppress(OSError):
            state, parent = (proc_stat.fields(f"/proc/{pid}/stat") or ["", "0"])[:2]
            if int(parent) == os.getpid() and state not in ("Z", "X"):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                killed = True
        os.close(pidfd)
    return killed


def children_of_this_process(known: dict[int, int] | None = None) -> list[int]:
    """This process's children, as the kernel lists them (a kernel without the listing: none);
    the keeper's, and the fork server's (`_Zygote._orphans`). The listing gives /proc's pids:
    in a PID namespace (`pid_namespace`) each is given as this process knows it, from `known`
    (/proc's pid -> this process's) where it is there, else as /proc says (one gone: left out)."""
    listed = pid_namespace.host_children()
    if not pid_namespace.inside():
        return listed
    known = known or {}
    found = (known.get(pid) or pid_namespace.local_pid(pid) for pid in listed)
    return [pid for pid in found if pid is not None]
