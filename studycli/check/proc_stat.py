"""A process's (or a thread's) /proc stat file, read: `fields`.

The file is "PID (COMM) STATE PPID PGRP SESSION ..." (proc(5)), and the command's name may hold
spaces and parentheses of its own: its fields are split after the name's last ")". Checks read
it for a process's state, parent, group, session, times, nice and policy (`starvation`,
`contain`, `device_sweep`, `worker`), each of a process that may end as it is read.
"""

from __future__ import annotations


def fields(path: str) -> list[str] | None:
    """The fields of the stat file at `path` after the command's name: proc(5)'s field 3
    (the state) at index 0, 4 (the parent) at 1, 5 (the process group) at 2, 6 (the session)
    at 3; None where it cannot be read (the process gone, no /proc)."""
    try:
        with open(path, encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
