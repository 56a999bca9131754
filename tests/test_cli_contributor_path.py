"""The contributor's path, end to end, with CONTRIBUTING.md's worked example: new -> lint ->
check (not done) -> fill in -> check (passes) -> check --changed on a branch."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys

from .conftest import REPO_ROOT, edit, git

CONTRIBUTING = REPO_ROOT / "CONTRIBUTING.md"


def example(name: str) -> str:
    """The fenced block between <!-- example:NAME --> and <!-- /example:NAME -->."""
    text = CONTRIBUTING.read_text(encoding="utf-8")
    block = text.split(f"<!-- example:{name} -->\n")[1].split(f"<!-- /example:{name} -->")[0]
    lines = block.strip("\n").splitlines()
    assert lines[0].startswith("```") and lines[-1] == "```"
    return "\n".join(lines[1:-1]) + "\n"


def test_the_worked_example_is_what_new_writes_in_a_clone(tmp_path):
    shutil.copytree(REPO_ROOT / "cards", tmp_path / "cards")
    (tmp_path / "solutions").mkdir()
    [command, *printed] = example("new").splitlines()
    args = shlex.split(command.removeprefix("$ "))
    assert args[:2] == ["studycli", "new"]
    done = subprocess.run(
        [sys.executable, "-m", "studycli", *args[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == printed
    card = tmp_path / "cards" / "math" / "first-return-count.yaml"
    assert card.read_text(encoding="utf-8") == example("scaffold")
    assert (tmp_path / "solutions" / "first_return_count.py").is_file()


def verdicts(cli, content, *args):
    result = cli("--content", content, "check", *args, "--json")
    return result.exit_code, {
        r["id"]: (r["status"], r["message"]) for r in json.loads(result.stdout)
    }


def test_the_whole_contributor_path(cli, content_copy):
    made = cli(
        "--content", content_copy, "new", "coding", "first-return-count", "--topic", "random-walk"
    )
    assert made.exit_code == 0, made.output
    card = content_copy / "cards" / "numbers" / "first-return-count.yaml"  # the topic's deck here
    module = content_copy / "solutions" / "first_return_count.py"
    assert card.is_file() and module.is_file()

    assert cli("--content", content_copy, "lint").exit_code == 0

    code, found = verdicts(cli, content_copy, "first-return-count")
    assert code == 1
    status, message = found["first-return-count"]
    assert status == "not done"
    assert message.startswith("not done yet: the reference raises NotImplementedError")

    # fill in, with CONTRIBUTING.md's worked example
    card.write_text(example("card"), encoding="utf-8")
    module.write_text(example("module"), encoding="utf-8")
    linted = cli("--content", content_copy, "lint")
    assert linted.exit_code == 0, linted.output
    code, found = verdicts(cli, content_copy, "first-return-count")
    assert code == 0
    assert found["first-return-count"] == (
        "pass",
        "reference passes; starter and 3 wrong answer(s) rejected",
    )

    # a wrong answer rejected for another mistake than the one it declares is reported
    edit(module, '@fails_with("first_return_count(1): expected 2, got 1")', '@fails_with("got 6")')
    code, found = verdicts(cli, content_copy, "first-return-count")
    assert code == 1
    status, message = found["first-return-count"]
    assert status == "fail" and "_wrong_one_side" in message
    assert "was rejected, but not for its mistake: its @fails_with expects 'got 6'" in message
    edit(module, '@fails_with("got 6")', '@fails_with("first_return_count(1): expected 2, got 1")')

    # a pull request: a branch that edits one card checks only that card
    (content_copy / ".gitignore").write_text("__pycache__/\n")
    git(content_copy, "init", "-q", "-b", "main")
    git(content_copy, "add", ".")
    git(content_copy, "commit", "-q", "-m", "the deck and the new card")
    git(content_copy, "checkout", "-q", "-b", "reword")
    edit(card, "Counting first returns", "First returns")
    git(content_copy, "commit", "-q", "-am", "a shorter title")
    code, found = verdicts(cli, content_copy, "--changed")
    assert code == 0 and list(found) == ["first-return-count"]
    # and one that edits the shared solution module checks every card naming it
    git(content_copy, "checkout", "-q", "main")
    git(content_copy, "checkout", "-q", "-b", "faster")
    edit(content_copy / "solutions" / "arith.py", "return x + 1\n", "return 1 + x\n")
    code, found = verdicts(cli, content_copy, "--changed")
    assert code == 0 and sorted(found) == ["add-one", "triangle-derivation"]


def test_a_solution_module_that_hangs_on_import_is_its_checks_timeout(cli, content_copy):
    """A loop at a solution module's top level: the run ends within the checks' own limit,
    the module's checks time out (the worker loaded every module before serving, so the
    whole run waited ten minutes per worker and then said the worker did not start; a
    slow import was not counted in the check's time at all)."""
    import time

    module = content_copy / "solutions" / "arith.py"
    module.write_text("import time\nwhile True:\n    time.sleep(0.1)\n" + module.read_text())
    started = time.monotonic()
    result = cli("--content", content_copy, "check", "add-one", "--timeout", "2", "--json")
    assert time.monotonic() - started < 60
    [found] = json.loads(result.stdout)
    assert result.exit_code == 1 and found["status"] == "timeout", found
    assert "did not start" not in found["message"]


def test_a_solution_module_that_exits_on_import_fails_its_checks_and_says_why(cli, content_copy):
    """`raise SystemExit` at a module's top level took the worker down: every check of the
    run said its process died; now the module's checks say that its import exited."""
    module = content_copy / "solutions" / "arith.py"
    module.write_text('raise SystemExit("top-level exit")\n' + module.read_text())
    result = cli("--content", content_copy, "check", "--json")
    found = {entry["id"]: entry for entry in json.loads(result.stdout)}
    assert result.exit_code == 1 and set(found) == {"add-one", "triangle-derivation"}
    for entry in found.values():
        assert (
            "importing solutions/arith.py, line 1, raised SystemExit: top-level exit"
            in entry["message"]
        )
        assert "died" not in entry["message"]
