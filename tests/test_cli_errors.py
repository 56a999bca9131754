"""Errors a learner or a card author can cause are one line on stderr naming the file and the
fix, exit 1, never a traceback: a solution module with a syntax error, an unreadable attempt, a
settings value out of range. (A database from a newer studycli and a data folder that cannot
be written are in test_study_database.py.)"""

from __future__ import annotations

import os

import pytest

from .conftest import FIXTURE_CONTENT

CORRECT = "def add_one(x):\n    return x + 1\n"


def one_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("how", [["--file", "attempt"], ["--no-edit"]], ids=["--file", "starter"])
def test_a_solution_module_with_a_syntax_error(cli, content_copy, tmp_path, how):
    module = content_copy / "solutions" / "arith.py"
    module.write_text(module.read_text() + "\ndef broken(:\n    pass\n")
    attempt = tmp_path / "attempt.py"
    attempt.write_text(CORRECT)
    args = [str(attempt) if arg == "attempt" else arg for arg in how]
    line = one_line(cli("--content", content_copy, "solve", "add-one", *args))
    assert "cannot read solutions/arith.py" in line and str(module) in line
    assert "syntax error" in line and "line " in line and "fix" in line


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: p.write_bytes(b"\xff\xfedef add_one(x): return x + 1\n"), "is not UTF-8 text"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: None, "no such file"),
    ],
    ids=["not-utf8", "folder", "missing"],
)
def test_an_unreadable_attempt(cli, tmp_path, make, words):
    attempt = tmp_path / "attempt.py"
    make(attempt)
    line = one_line(cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt))
    assert str(attempt) in line and words in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_an_attempt_without_read_permission(cli, tmp_path):
    attempt = tmp_path / "attempt.py"
    attempt.write_text(CORRECT)
    attempt.chmod(0)
    line = one_line(cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt))
    assert str(attempt) in line and "chmod u+r" in line


@pytest.mark.parametrize(
    "setting, key",
    [
        ("check_timeout = 0", "check_timeout"),
        ("check_memory_mb = 10", "check_memory_mb"),
        ("desired_retention = 1.5", "desired_retention"),
        ("learning_steps = [inf]", "learning_steps"),  # TOML has inf: a traceback before
        ('relearning_steps = ["99999999999d"]', "relearning_steps"),  # too long: a traceback too
    ],
)
def test_a_setting_out_of_range(cli, tmp_path, monkeypatch, setting, key):
    config = tmp_path / "settings.toml"
    config.write_text(setting + "\n")
    monkeypatch.setenv("STUDYCLI_CONFIG", str(config))
    attempt = tmp_path / "attempt.py"
    attempt.write_text(CORRECT)
    line = one_line(cli("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt))
    assert str(config) in line and key in line and "set it to" in line
