"""A check run as root, held to its process cap (check/as_root.py)."""

from __future__ import annotations

import os
import sys

import pytest

from studycli.check import as_root, crash_report


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0, reason="root on Linux"
)
def test_a_check_that_cannot_give_up_setuid_does_not_run():
    """A check whose capset failed kept CAP_SETUID, with which its code could take any check's
    real id the filter allows, a fresh one whose count starts at 1, and start as many processes
    again: its process ends before its code runs, and says why."""
    pid = os.fork()
    if pid == 0:  # (a check, as the worker prepared it, whose capset fails)
        code = 1
        try:
            as_root._EXEMPTION_DROPPED = True
            as_root._GIVE_UP = (lambda header, data: -1, None, None)
            code = 0 if as_root.count_apart() == 1 else 2  # (ran on: the code would run)
        finally:
            os._exit(code)
    status = os.waitpid(pid, 0)[1]
    assert os.waitstatus_to_exitcode(status) == as_root.KEPT_SETUID
    message = crash_report._crash_message(as_root.KEPT_SETUID, True, None)
    assert message.startswith("the check was not run: run as root, it could not give up CAP_SETUID")
