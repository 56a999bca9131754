"""`studycli optimize --write` killed outright (SIGKILL: no handler sees it; a power cut) at
chosen points, as a learner's machine can stop it: afterwards the cards' memory states stand
on the FSRS parameters of settings.toml, or the next command that schedules says they do
not, and what to run. (The parameters were saved first and the states recomputed after: a
kill between the two left them apart, and only `doctor`'s full replay noticed.)

Each run fits the FSRS sample (12,580 reviews) in a process of its own that kills itself
where the test says (a function of the store, the study or the file system replaced by one
that sends SIGKILL), then `due` runs, and a full replay (`Study.stale_memory_states`, as the
doctor counts) says whether the states are the settings' parameters'.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studycli.study.api import Study
from studycli.study.settings import load_settings
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT

SAMPLE = Path(__file__).parent / "data" / "fsrs_review_logs_sample.csv"

# Where the command kills itself: the function (module, class or None, name) that does it
# instead of what it does, and, for os.replace, only when it replaces settings.toml.
KILL_POINTS = {
    "before the recompute": ("studycli.study.api", "Study", "recompute_memory"),
    "in the recompute's transaction": ("studycli.study.store", "Store", "replace_states"),
    "as settings.toml is renamed": ("os", None, "replace"),
    "after settings.toml is renamed": ("studycli.paths", None, "sync_folder"),
}

RUNNER = """
import importlib, os, signal, sys
module, owner, name = sys.argv[1:4]
target = importlib.import_module(module)
target = getattr(target, owner) if owner else target
real = getattr(target, name)
def killed(*args, **kwargs):
    if name != "replace" or str(args[1]).endswith("settings.toml"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
setattr(target, name, killed)
sys.argv = ["studycli", *sys.argv[4:]]
from studycli.cli import main
main()
"""


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "STUDYCLI_HOME": str(home), "TZ": "UTC", "COLUMNS": "100"}
    for name in ("STUDYCLI_DB", "STUDYCLI_CONFIG", "STUDYCLI_NOW", "STUDYCLI_CONTENT"):
        env.pop(name, None)
    return env


def _studycli(home: Path, *args: str, kill_at: tuple[str, str | None, str] | None = None):
    module, owner, name = kill_at or ("os", None, "getpid")  # (never called: no kill)
    code = ["-c", RUNNER, module, owner or "", name] if kill_at else ["-m", "studycli"]
    return subprocess.run(
        [sys.executable, *code, "--content", str(FIXTURE_CONTENT), *args],
        env=_env(home),
        cwd=str(REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """A home whose review database holds the FSRS sample, on the default parameters."""
    home = tmp_path_factory.mktemp("imported")
    result = _studycli(home, "import-reviews", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    return home


def _stale(home: Path) -> int:
    """How many memory states are not what settings.toml's parameters give (a full replay)."""
    settings = load_settings(home / "config" / "settings.toml")
    with Store.open(home / "data" / "reviews.sqlite3") as store:
        return Study(store, settings).stale_memory_states()


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_optimize_write_killed_leaves_states_in_line_or_the_next_command_says_so(
    imported, tmp_path, point
):
    home = tmp_path / "home"
    shutil.copytree(imported, home)
    killed = _studycli(home, "optimize", "--write", kill_at=KILL_POINTS[point])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    due = _studycli(home, "due")
    assert due.returncode == 0, due.stderr
    said = " ".join(due.stderr.split())
    stale = _stale(home)
    if stale:  # apart: told, with what to run
        assert "memory states" in said and "`studycli optimize --recompute`" in said, (stale, said)
        if point == "as settings.toml is renamed":  # (the states ahead of the file)
            assert "which never reached" in said and "run it again to save them" in said
        redone = _studycli(home, "optimize", "--write")
        assert redone.returncode == 0, redone.stderr
    else:  # in line: nothing said
        assert "memory states" not in said, said
    assert _stale(home) == 0
    again = _studycli(home, "due")
    assert "memory states" not in " ".join(again.stderr.split()), again.stderr
