"""The built wheel, installed WITH its dependencies into a fresh virtual environment, works
from any folder: what a new user gets from `pip install studycli`.

No site-packages of the test run's own environment reach that venv, so an import that is not
declared in pyproject.toml fails here as it would for a user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studycli.content.loader import load_content
from studycli.export import anki_record

from .conftest import REPO_ROOT


def test_every_deck_is_one_of_the_packages_setuptools_is_given():
    """setuptools 77 warns of a deck's cards as data in a folder that is not a listed package
    (and means to refuse them), so each deck's folder is listed in pyproject.toml; a deck
    left out would not ship. (The wheel built below proves the listed ones ship.)"""
    import tomllib

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    decks = sorted(path.name for path in (REPO_ROOT / "cards").iterdir() if path.is_dir())
    missing = [deck for deck in decks if f"studycli._content.cards.{deck}" not in listed]
    assert decks and not missing, f"list in pyproject.toml's packages: {missing}"


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


# What the build does not need of the checkout. A copy of the rest is built, not the checkout:
# setuptools writes its build/ and egg-info folders into the tree it builds, and pytest-xdist
# runs this module's tests in several processes, each building the wheel (a module fixture is
# made once per process): two builds at once in one tree fail (4 of 6 builds failed, three at a
# time: "error: [Errno 2] No such file or directory"). (xdist_group does not keep them in one
# process: pytest-xdist 3.8 renames the tests' node ids for it, which pytest 9.2 ignores.)
NOT_BUILT = (".git", ".venv*", "build", "dist", "*.egg-info", ".*cache", "tests")  # (at the top)


def _not_built(folder: str, names: list[str]) -> list[str]:
    """`shutil.copytree`'s ignore: what of `folder` the build does not need (`NOT_BUILT`)."""
    from fnmatch import fnmatch

    top = Path(folder) == REPO_ROOT
    return [
        name
        for name in names
        if name == "__pycache__" or (top and any(fnmatch(name, p) for p in NOT_BUILT))
    ]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A fresh venv with the wheel and its dependencies; its bin folder and a clean env."""
    import shutil

    root = tmp_path_factory.mktemp("packaging")
    wheels = root / "wheels"
    source = root / "source"
    shutil.copytree(REPO_ROOT, source, ignore=_not_built, symlinks=True)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        cwd=root,
    )
    [wheel] = wheels.glob("studycli-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONNOUSERSITE"] = "1"
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            # no byte-compiling of the installed files (torch's thousands of modules): half
            # the install's time, and it proves nothing (pip logs a file that does not
            # compile at debug level and installs on); what the tests run is compiled as
            # it is imported
            "--no-compile",
            "-c",
            str(REPO_ROOT / "constraints.txt"),
            str(wheel),
        ],
        cwd=root,
        env=env,
    )
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env.update(STUDYCLI_HOME=str(root / "home"), PATH=f"{venv / 'bin'}:/usr/bin:/bin")
    env.pop("STUDYCLI_CONTENT", None)
    env.pop("STUDYCLI_DB", None)
    return {"bin": venv / "bin", "cwd": elsewhere, "env": env}


def _studycli(installed: dict, *args: str) -> str:
    return _run(
        [str(installed["bin"] / "studycli"), *args], cwd=installed["cwd"], env=installed["env"]
    ).stdout


def test_dependencies_of_the_wheel_are_consistent(installed):
    _run([str(installed["bin"] / "python"), "-m", "pip", "check"], env=installed["env"])


def test_help_list_and_show_work_from_another_folder(installed):
    assert "review" in _studycli(installed, "--help")
    shipped = {row["id"] for row in json.loads(_studycli(installed, "list", "--json"))}
    assert shipped == set(load_content(REPO_ROOT).cards)
    shown = _studycli(installed, "show", "sliding-window-max")
    assert "sliding-window-max" in shown and "def " in shown


def test_the_wheel_carries_every_solution_module(installed):
    site = next(Path(installed["bin"]).parent.glob("lib/python*/site-packages"))
    solutions = {p.name for p in (site / "studycli" / "_content" / "solutions").glob("*.py")}
    assert solutions == {p.name for p in (REPO_ROOT / "solutions").glob("*.py")}
    # and the content's record of its Anki notes, which a first export dates them by
    record = Path("cards", anki_record.SHIPPED)
    assert (site / "studycli" / "_content" / record).read_bytes() == (
        REPO_ROOT / record
    ).read_bytes()
