"""A non-editable install carries the content: cards and solutions ship inside the package."""

from __future__ import annotations

import json
import subprocess
import sys

from studycli.content.loader import load_content

from .conftest import REPO_ROOT


def test_installed_package_finds_its_own_content(tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "studycli", "list", "--json"],
        cwd=elsewhere,
        env={
            "PYTHONPATH": str(target),
            "PATH": "/usr/bin:/bin",
            "STUDYCLI_HOME": str(tmp_path / "home"),
        },
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    shipped = {row["id"] for row in json.loads(out.stdout)}
    assert shipped == set(load_content(REPO_ROOT).cards)
    solutions = {p.name for p in (target / "studycli" / "_content" / "solutions").glob("*.py")}
    assert solutions == {p.name for p in (REPO_ROOT / "solutions").glob("*.py")}
