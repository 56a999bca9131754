"""Shared fixtures: an isolated home for every test, the tiny fixture deck, a CLI runner."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Started with SIGINT ignored (a script's `pytest &`, nohup, some CI runners), every command a
# test runs would inherit it (an ignored signal stays ignored across exec) and shrug off the
# Ctrl-C its test sends: the Ctrl-C tests failed on correct code. A handler is reset to the
# default at exec, so the commands get Ctrl-C as a learner's terminal gives it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

FIXTURE_CONTENT = Path(__file__).parent / "fixtures" / "content"
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Tests never touch ~: data, config and database live in a fresh temp folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("STUDYCLI_HOME", str(home))
    for name in (
        "STUDYCLI_CONTENT",
        "STUDYCLI_DB",
        "STUDYCLI_CONFIG",
        "STUDYCLI_NOW",
        "STUDYCLI_CACHE",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True, scope="session")
def workers_reaped():
    """After the last test, the check workers still running are ended and waited for. (A
    command leaves its CUDA workers to exit on their own, unwaited; the test process, which
    outlives them, reaps them.)"""
    yield
    from studycli.check.worker import _WORKERS

    for worker in list(_WORKERS):
        worker.close()


# Python 3.12 (3.12.3 at least, Ubuntu 24.04's) warns when a statement's parameters
# come as a sequence while it names a placeholder, numbered ones (?1) included
# (python/cpython#117995); 3.14 refuses named ones bound so. With warnings as errors, 37 tests
# failed on 3.12.3 (every review session with reviews due) before the run stopped at its 40th
# failure. Every connection the tests open checks that rule on every Python, so CI (3.11)
# catches it.
_NAMED_PLACEHOLDER = re.compile(r"\?\d|[:@$][A-Za-z_]")
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def _binds_by_position(sql: str, parameters) -> None:
    if isinstance(parameters, dict) or not parameters:
        return
    named = _NAMED_PLACEHOLDER.search(_QUOTED.sub("''", sql))
    assert named is None, (
        f"{sql!r} names a placeholder ({named.group()}...) but is given a sequence, which "
        "Python 3.12.3 warns of: bind a dict, or use ? placeholders"
    )


# Python 3.13 warns when a connection is collected unclosed (a ResourceWarning: with warnings
# as errors, 5 tests failed on 3.13.5, each at whatever collection found another test's
# connection; `with sqlite3.connect(...) as conn` commits, it does not close). Every connection
# the tests open warns so on every Python, naming the line that opened it, so CI (3.11)
# catches the next one where it is made.
_WARNS_UNCLOSED = sys.version_info < (3, 13)  # (3.13 warns itself)


class _Checked(sqlite3.Connection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._opened_at = _caller() if _WARNS_UNCLOSED else ""  # (said only where warned)
        self._closed = False

    def close(self):
        self._closed = True
        super().close()

    def __del__(self):
        if _WARNS_UNCLOSED and not getattr(self, "_closed", True):
            warnings.warn(
                f"unclosed database in {self!r}, opened at {self._opened_at}",
                ResourceWarning,
                stacklevel=1,  # (a collection: no caller of its own)
            )

    def execute(self, sql, parameters=(), /):
        _binds_by_position(sql, parameters)
        return super().execute(sql, parameters)

    def executemany(self, sql, rows, /):
        def checked(row):
            _binds_by_position(sql, row)
            return row

        return super().executemany(sql, map(checked, rows))


def _caller() -> str:
    """The innermost line outside sqlite3 and this file that opened a connection."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if frame.filename != __file__ and "sqlite3" not in frame.filename:
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "?"


@pytest.fixture(autouse=True)
def sqlite_as_newer_pythons_ask(monkeypatch):
    """Connections opened by a test check how their statements bind parameters, and warn
    when collected unclosed (above)."""
    connect = sqlite3.connect

    def checked_connect(*args, **kwargs):
        kwargs.setdefault("factory", _Checked)
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", checked_connect)


@pytest.fixture
def content_copy(tmp_path) -> Path:
    """A writable copy of the fixture deck."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def fresh_pool(monkeypatch):
    """A pool of workers of the test's own in place of the command's (`pool._pool`): they load
    what the test wrote, its output is the test's, and they are closed when it ends. A test
    that asserts what closing did closes them first itself (`check_support.close_pool`)."""
    from studycli.check import pool

    from .check_support import close_pool

    fresh = pool._Pool()
    monkeypatch.setattr(pool, "_pool", fresh)
    yield fresh
    close_pool(fresh)


@pytest.fixture
def cli():
    """Invoke the CLI in-process: cli("--content", path, "lint") -> Result."""
    from studycli.cli.help_panels import whole_app

    app = whole_app()

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


def terminal_env(db: Path, config: Path, home: Path, now, **extra: str) -> dict[str, str]:
    """The environment of studycli on a pseudo-terminal in a test: its own database, settings
    and home, a fixed clock (`now`), a plain terminal 100 columns wide, UTC."""
    return {
        **os.environ,
        "STUDYCLI_DB": str(db),
        "STUDYCLI_CONFIG": str(config),
        "STUDYCLI_HOME": str(home),
        "STUDYCLI_NOW": now.isoformat(),
        "TERM": "dumb",
        "COLUMNS": "100",
        "TZ": "UTC",
        **extra,
    }


def reading_keys(child) -> None:
    """Wait until the command on the pseudo-terminal `child` (pexpect) reads single keys: its
    terminal's echo is off (cbreak or raw mode). Until then the terminal is in line mode,
    where a Ctrl-D is the line discipline's end of file, turned into a NUL byte once the
    command switches to raw mode: a Ctrl-D sent as soon as a prompt showed, before the
    command had switched, was lost on a loaded machine (the first card's check worker starts
    after its front is drawn and before its first key is read)."""
    assert child.waitnoecho(timeout=60), "the command never read a key (its echo stayed on)"


# An editor that runs until a Ctrl-C ends it, once it has said "editor runs". (It was
# `sh -c 'echo editor runs; sleep 30'`: a Ctrl-C after the echo but before sh had started
# sleep was caught by sh, which waits to see how its child ends, and lost; the editor ran its
# 30 s and the test timed out, 2 runs of 6 on a quiet machine.) Python's default action for
# SIGINT is set before it says so, so the Ctrl-C ends it as it ends a real editor.
EDITOR_UNTIL_CTRL_C = shlex.join(
    [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "print('editor runs', flush=True); time.sleep(30)",
    ]
)


def ignoring_ctrl_c(pid: int) -> None:
    """Wait until process `pid` ignores SIGINT (its SigIgn mask in /proc; Linux): `solve` and
    the session leave Ctrl-C to the editor they run, from just after its start. A Ctrl-C sent
    as soon as the editor had printed could reach the command before it ignored it (another of
    its threads may hold the GIL for 5 ms after the editor's exec)."""
    deadline = time.monotonic() + 60
    while True:
        status = Path(f"/proc/{pid}/status").read_text()
        ignored = re.search(r"^SigIgn:\s*([0-9a-f]+)$", status, re.MULTILINE)
        assert ignored, status
        if int(ignored.group(1), 16) & (1 << (signal.SIGINT - 1)):
            return
        assert time.monotonic() < deadline, f"process {pid} never turned to ignoring Ctrl-C"
        time.sleep(0.01)


def write_card(root: Path, deck: str, name: str, text: str) -> Path:
    path = root / "cards" / deck / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` as a test committer (no signing); its output."""
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there) with `new` in a text file."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
