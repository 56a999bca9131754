"""A process's output set aside while code loads in it (check/output_aside.py): what the code
wrote there, and what it left running that held it, killed, and nothing else."""

from __future__ import annotations

import os
import subprocess

from studycli.check import output_aside, pipe_holders

from .check_support import gone_within, marker, running_with


def test_what_a_load_left_holding_the_pipe_is_killed_and_named():
    """A process started while the output is set aside inherits the pipe: it is killed, and
    its command named."""
    argument = marker()
    try:
        with output_aside.output_aside(streams=False) as aside:
            process = subprocess.Popen(["sleep", argument])
        assert gone_within(argument, 1.0) == []
    finally:
        gone_within(argument, 0)
    process.wait()  # (reaped already, by `pipe_holders.reap`: its status is lost to Popen)
    assert aside.left == [f"sleep {argument}"], aside.left


def test_a_process_listed_as_holding_the_pipe_but_not_holding_it_is_not_killed(monkeypatch):
    """The listing of the pipe's holders reads every process's descriptors; one listed may end
    meanwhile and its pid go to another process (pid_max is 32,768 on a small machine, where
    checks fork by the thousand), which was killed in its place: a sibling check, or any
    process of the user's. Here the listing says a pid that holds no such pipe (a process
    started before the pipe was made): it is left alone."""
    argument = marker()
    bystander = subprocess.Popen(["sleep", argument])
    listed = [[bystander.pid]]  # (the first round's listing; none after)
    monkeypatch.setattr(pipe_holders, "_holding", lambda inode: listed.pop() if listed else [])
    try:
        with output_aside.output_aside(streams=False) as aside:
            kept = os.dup(1)  # (a writer still holds the pipe: its holders are looked for)
        os.close(kept)
        assert running_with(argument) == [bystander.pid]
        assert aside.left == [], aside.left
    finally:
        bystander.kill()
        bystander.wait()


def test_a_thread_a_load_left_running_is_named_and_one_that_ended_soon_is_not():
    """A thread cannot be killed: one the code left running is named (its card fails, and the
    worker's output goes nowhere after: `silence`); one that ends within `THREAD_GRACE` (a
    short job) is no thread left behind."""
    import threading

    stop = threading.Event()

    def waits() -> None:
        stop.wait()

    def returns() -> None:
        pass

    try:
        with output_aside.output_aside(streams=False) as aside:
            threading.Thread(target=waits, name="waits", daemon=True).start()
            threading.Thread(target=returns, name="returns").start()
    finally:
        stop.set()
    assert aside.threads == ["waits"], aside.threads
