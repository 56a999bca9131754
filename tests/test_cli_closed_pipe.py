"""A command whose output's reader has gone (`studycli list | head -1`) ends as `ls` and `git`
end: killed by SIGPIPE (a shell's 141), nothing said on stderr. Rich and Typer ended it with
exit status 1, a failure's (`ended_by_its_reader` says why not 0, as ripgrep does). Real
processes on real pipes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from .conftest import FIXTURE_CONTENT, REPO_ROOT

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="POSIX pipes")

KILLED_BY_SIGPIPE = -signal.SIGPIPE if hasattr(signal, "SIGPIPE") else None

ON_THE_FIXTURE_DECK = ("--content", str(FIXTURE_CONTENT))
# each command that writes to standard output
WRITERS = [
    (*ON_THE_FIXTURE_DECK, *command)
    for command in (
        ("list",),
        ("show", "add-one"),
        ("due",),
        ("stats",),
        ("topics",),
        ("history",),
        ("export-reviews", "-"),
        ("check", "add-one"),
        ("check", "--json", "add-one"),
        ("--help",),
        ("list", "--help"),
    )
] + [("--version",)]


@pytest.mark.parametrize("args", WRITERS, ids=lambda args: " ".join(args[2:] or args))
def test_a_command_whose_reader_has_gone_ends_as_ls_does(args):
    """The reader gone before the command wrote anything: its first write fails."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "studycli", *args],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (KILLED_BY_SIGPIPE, ""), done.stderr


def test_list_piped_to_head_1_ends_as_ls_does():
    """`studycli list | head -1`, on the shipped deck (its list: 120 kB at 80 columns, more
    than a pipe holds): one line read, then the pipe closed while the command still writes."""
    read, write = os.pipe()
    with subprocess.Popen(
        [sys.executable, "-m", "studycli", "--content", str(REPO_ROOT), "list"],
        stdout=write, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "80"},
    ) as process:  # fmt: skip
        os.close(write)
        with open(read, "rb") as reader:
            line = reader.readline()
        err = process.stderr.read() if process.stderr else b""
        status = process.wait(timeout=120)
    assert b"cards" in line, line
    assert (status, err) == (KILLED_BY_SIGPIPE, b""), err.decode()


def test_a_shell_sees_141_as_of_ls(tmp_path):
    """What the learner saw: `${PIPESTATUS[0]}`, the status of the pipe's first command as
    bash gives it (1, where `ls`'s is 141), its reader a command that reads nothing, and
    nothing said on stderr."""
    script = (
        f'"{sys.executable}" -m studycli --content "{FIXTURE_CONTENT}" topics 2>"{tmp_path}/err"'
        f' | true; echo ${{PIPESTATUS[0]}}; cat "{tmp_path}/err"'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == "141\n", done.stdout


def test_a_review_whose_reader_has_gone_leaves_the_terminal_as_it_was(tmp_path):
    """`studycli review | head -c 200`, its keys read from the terminal: the card's answer
    drawn once `head` had gone, the session was killed where Rich wrote it, and the terminal
    stayed in the session's quiet mode (`terminal.quiet_keys`: no echo, no line editing) for
    what the shell ran next. It ends as `ls` does once the session has put the terminal back."""
    import re
    import time

    import pexpect

    read = tmp_path / "read"
    script = (
        f'"{sys.executable}" -m studycli --content "{FIXTURE_CONTENT}" --db "{tmp_path}/db"'
        f' review | head -c 200 >"{read}"; echo "status ${{PIPESTATUS[0]}}"; stty -a'
    )
    child = pexpect.spawn(
        "bash", ["-c", script], cwd=str(REPO_ROOT), encoding="utf-8", timeout=60,
        env={**os.environ, "STUDYCLI_HOME": str(tmp_path), "COLUMNS": "80"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (read.exists() and read.stat().st_size == 200) and time.monotonic() < deadline:
        time.sleep(0.05)  # (the card drawn, and `head` gone with its 200 bytes)
    status = "running"
    for key in " 3 3":  # the answer, drawn for no reader (a rating and more: `head` not gone yet)
        child.send(key)
        if child.expect([r"status (\d+)", pexpect.TIMEOUT], timeout=5) == 0:
            status = child.match.group(1)
            break
    else:
        child.terminate(force=True)
    child.expect(pexpect.EOF)
    modes = re.split(r"[\s;]+", child.before)
    assert (status, "echo" in modes, "icanon" in modes) == ("141", True, True), child.before
