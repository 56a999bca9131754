"""Errors a learner or a card author can cause are one line on stderr naming the file and the
fix, exit 1, never a traceback: a solution module with a syntax error, an unreadable attempt, a
settings value out of range. (A database from a newer studycli and a data folder that cannot
be written are in test_study_database.py.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import FIXTURE_CONTENT, terminal_env
from .study_support import NOW

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


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_an_output_that_is_not_utf8_gets_what_it_can_show(tmp_path, encoding):
    """Card text is Unicode; a terminal in latin-1 (or ASCII) cannot show all of it. The
    command still runs: a character the output cannot encode is a `?`, tables are drawn in
    ASCII, and there is no UnicodeEncodeError."""
    env = terminal_env(
        tmp_path / "db.sqlite3", tmp_path / "settings.toml", tmp_path, NOW,
        PYTHONIOENCODING=encoding,
    )  # fmt: skip
    card = FIXTURE_CONTENT / "cards" / "numbers" / "poisson-concept.yaml"
    assert "λ" in card.read_text(encoding="utf-8")  # a character neither encoding has
    for args in (["due"], ["list"], ["show", "poisson-concept", "--answer"]):
        done = subprocess.run(
            [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), *args],
            env=env, capture_output=True, check=False,
        )  # fmt: skip
        out = done.stdout.decode(encoding)
        assert done.returncode == 0, done.stderr.decode(encoding, "replace")
        assert "UnicodeEncodeError" not in done.stderr.decode(encoding, "replace")
        if args[0] != "show":
            assert out.splitlines()[1].startswith("+-") and "| " in out, out
        else:
            assert "Poisson(lambda)" in out and "Both are lambda." in out  # not "?"


def test_a_non_utf8_output_keeps_what_a_cards_maths_means():
    """ "Every exponent is ≤ 0" read "Every exponent is ? 0" on a latin-1 terminal: the
    symbols card text uses have an ASCII spelling, and only what has none is a `?`."""
    shipped = subprocess.run(
        [sys.executable, "-m", "studycli", "show", "online-softmax", "--answer"],
        env={**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "100"},
        capture_output=True, check=True,
    ).stdout.decode("ascii")  # fmt: skip
    text = " ".join(shipped.split())
    assert "Every exponent is <= 0" in text and "+ sum_j exp(b_j - m_new)" in text
    assert "?" not in text  # nothing of it lost (the card has no "?" of its own)


@pytest.mark.parametrize(
    "args, said",
    [
        (["check", "no-such-id", "--json"], "no card with id 'no-such-id'"),
        (["history", "--card", "no-such-id", "--json"], "no card with id 'no-such-id'"),
        (["import-reviews", "missing.csv", "--json"], "missing.csv"),
    ],
)
def test_an_error_under_json_is_json_on_stdout_too(cli, tmp_path, monkeypatch, args, said):
    """A script reading a --json command's stdout got nothing at all on an error (the message
    was on stderr only): now {"error": message} there, the same line on stderr, exit 1."""
    import json

    monkeypatch.chdir(tmp_path)
    result = cli("--content", FIXTURE_CONTENT, *args)
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert said in error and said in " ".join(result.stderr.split())
    plain = cli("--content", FIXTURE_CONTENT, *[a for a in args if a != "--json"])
    assert plain.exit_code == 1 and plain.stdout == ""


def test_a_ctrl_c_no_command_handles_ends_it_with_a_word(cli, monkeypatch):
    """A Ctrl-C in a command that has nothing of its own to say about one: "interrupted",
    exit 130 (Typer's own ending said nothing)."""
    from studycli.study.api import Study

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Study, "open", interrupted)
    result = cli("--content", FIXTURE_CONTENT, "due")
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted"


def test_a_ctrl_c_while_the_command_line_loads_is_no_traceback(tmp_path):
    """Ctrl-C in the first tenth of a second, while Typer and Rich are imported: one word and
    exit 130, not a traceback through the import machinery."""
    script = (
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n"
        "sys.argv = ['studycli', 'due']\n"
        "from studycli.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False,
        env=terminal_env(tmp_path / "db.sqlite3", tmp_path / "s.toml", tmp_path, NOW),
    )  # fmt: skip
    assert done.returncode == 130
    assert done.stderr == "interrupted\n"


@pytest.mark.parametrize(
    "args, names",
    [
        (("check", "--device", "gpu"), "--device"),
        (("check", "--changed", "a", "b"), "--changed"),
        (("optimize", "--recompute", "--write"), "--recompute"),
    ],
)
def test_a_bad_option_value_is_a_usage_error(cli, args, names):
    """These exited 1 with an error, where every other bad option value is a usage error: exit
    2, nothing on stdout (a helper's review)."""
    result = cli("--content", FIXTURE_CONTENT, *args)
    assert result.exit_code == 2 and not result.stdout and names in result.stderr


def test_what_a_message_quotes_keeps_its_colons(cli, tmp_path):
    """Rich read `:x:` in a message as an emoji's name (a new learner's first hour): an import
    of /etc/passwd said its header was 'root❌0:0:...', and a review log's unknown id
    'foo:x:bar' was named 'foo❌bar', in the summary and in the `history --card` command
    given to paste. What a message quotes is written as it is, on stderr and on stdout."""
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    line = one_line(cli("import-reviews", passwd))
    assert "'root:x:0:0:root:/root:/bin/bash'" in line
    log = tmp_path / "log.csv"
    log.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "foo:x:bar,3,2024-01-01T09:00:00+00:00,1000\n"
    )
    result = cli("import-reviews", log, "--dry-run")
    assert result.exit_code == 0 and "foo:x:bar" in result.stdout, result.stdout
    assert "❌" not in result.stdout


@pytest.mark.parametrize("closed", [0, 1, 2])
def test_a_closed_standard_stream_is_no_traceback(tmp_path, closed):
    """A standard stream closed (`<&-`, `>&-`, `2>&-`): with no stdout the command says so and
    does nothing, where it ended in a traceback (sys.stdout is None) after its work, what it
    wrote lost; a closed stdin or stderr is held on /dev/null, and the command runs (no file it
    opens takes fd 0 or 2, where a check's output would land in it)."""
    env = terminal_env(tmp_path / "db.sqlite3", tmp_path / "settings.toml", tmp_path, NOW)
    probe = (
        "import os, sys; from studycli import cli; cli._standard_streams_held(); "
        "print(os.open(os.devnull, os.O_RDONLY) > 2, file=sys.stderr if sys.stdout is None "
        "else sys.stdout)"
    )
    for command in (["-m", "studycli", "--content", str(FIXTURE_CONTENT), "due"], ["-c", probe]):
        done = subprocess.run(
            [sys.executable, *command], env=env, capture_output=True, text=True, check=False,
            preexec_fn=lambda: os.close(closed),
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        if closed == 1:
            assert done.returncode == 2
            assert "the standard output is closed (>&-)" in done.stderr
            assert done.stdout == ""
        elif command[0] == "-c":
            assert done.stdout.strip() == "True"  # a file opened now is past the three
        else:
            assert done.returncode == 0, done.stderr
            assert "due now" in done.stdout


@pytest.mark.parametrize("fd, mode", [(0, os.O_WRONLY), (1, os.O_RDONLY), (2, os.O_RDONLY)])
def test_a_standard_stream_open_the_other_way_is_as_a_closed_one(tmp_path, fd, mode):
    """`1<file` (stdout open for reading only): `list` failed at its first write, in a
    traceback (EBADF); `2<file` lost an error in one. Each is held on /dev/null as a closed
    stream is, and a stdout open so stops the command, saying so."""
    env = terminal_env(tmp_path / "db.sqlite3", tmp_path / "settings.toml", tmp_path, NOW)

    def opened_the_other_way() -> None:
        os.dup2(os.open(os.devnull, mode), fd)

    for command in ("list", "show"):  # (`show` without an id: an error, written to stderr)
        done = subprocess.run(
            [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), command],
            env=env, capture_output=fd != 2, text=True, check=False,
            preexec_fn=opened_the_other_way,
        )  # fmt: skip
        if fd == 1:
            assert done.returncode == 2, done.stderr
            assert "the standard output is open for reading only (1<file)" in done.stderr
        elif fd == 2:
            assert done.returncode == (0 if command == "list" else 2)
        else:
            assert "Traceback" not in done.stderr, done.stderr
            assert done.returncode == (0 if command == "list" else 2), done.stderr
