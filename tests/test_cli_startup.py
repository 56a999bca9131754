"""Start-up: a command line converts only the command it runs, which reads as the whole app
would; `due`, `list` and `show` import nothing they do not use, and `review` shows a card
before it imports the solve flow or the checking machinery."""

from __future__ import annotations

import functools
import inspect
import json
import subprocess
import sys

import pytest

from studycli.cli.app import COMMANDS, app, invoked
from studycli.cli.help_panels import whole_app

from .conftest import FIXTURE_CONTENT, REPO_ROOT


def names(typer_app) -> list[str]:
    return [info.name or info.callback.__name__ for info in typer_app.registered_commands]


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["due"], "due"),
        (["list", "--json"], "list"),
        (["--content", "x", "--db=y.sqlite3", "show", "add-one"], "show"),
        (["--db", "y", "export-anki", "out.apkg"], "export-anki"),
    ],
)
def test_a_command_line_registers_only_its_command(args, command):
    assert names(invoked(args)) == [command]
    assert len(names(whole_app())) > 10  # the app itself keeps them all


@pytest.mark.parametrize("command", ["review", "due", "show"])
def test_a_command_line_gives_typer_its_annotations_evaluated(command):
    """Typer evaluated each annotation string four times as it built the command (4 M
    instructions of `review`'s start); the command and the app's callback get theirs as values,
    each evaluated once (that the command reads the same: the test below)."""
    only = invoked([command])
    for function in (only.registered_commands[0].callback, app.registered_callback.callback):
        assert function.__annotations__
        assert not any(isinstance(value, str) for value in function.__annotations__.values())


def test_typer_gets_the_completers_annotations_as_values():
    """Typer reads the signature of each option's completer as it builds the command, and
    evaluated each annotation string twice (`review`'s --deck, --topic and --tag: 0.9 M
    instructions); every completer of every command's options has values instead."""
    completers = set()
    for info in whole_app().registered_commands:
        for annotation in inspect.get_annotations(info.callback, eval_str=True).values():
            for option in getattr(annotation, "__metadata__", ()):
                if getattr(option, "autocompletion", None) is not None:
                    completers.add(option.autocompletion)
    assert len(completers) >= 5
    for completer in completers:
        assert completer.__annotations__
        assert not any(isinstance(value, str) for value in completer.__annotations__.values())


@pytest.mark.parametrize("args", [[], ["--help"], ["dux"], ["--content"], ["--content", "x"]])
def test_help_completion_and_unknown_commands_get_the_whole_app(args):
    assert invoked(args) is app
    assert set(names(app)) >= set(COMMANDS)


def test_every_command_is_registered_by_the_module_the_table_names():
    registered = {
        info.name or info.callback.__name__.lower().replace("_", "-"): info.callback.__module__
        for info in whole_app().registered_commands
    }
    assert registered == {name: f"studycli.cli.{module}" for name, module in COMMANDS.items()}


def test_a_command_line_imports_only_its_commands_module():
    probe = (
        "import sys; from studycli.cli.app import invoked; invoked(sys.argv[1:]); "
        "print(*sorted(m for m in sys.modules if m.startswith('studycli.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, "due"], capture_output=True, text=True, check=True
    )
    loaded = set(out.stdout.split())
    assert "studycli.cli.study" in loaded
    others = ("authoring", "stats", "doctor", "export", "help_panels")  # (the whole app's)
    assert not loaded & {f"studycli.cli.{m}" for m in others}


WHOLE_APP = "from studycli.cli.help_panels import whole_app; whole_app()(prog_name='studycli')"


@pytest.mark.parametrize(
    "args",
    [
        ["--content", str(FIXTURE_CONTENT), "list"],
        [f"--content={FIXTURE_CONTENT}", "show", "add-one", "--answer"],
        ["--content", str(FIXTURE_CONTENT), "due", "--json"],
        ["show"],
        ["dux"],
        ["due", "--help"],
        ["review", "--help"],
        ["list", "--kind"],
        ["--help"],
    ],
)
def test_a_command_line_reads_as_with_the_whole_app(args):
    """Output, errors (usage, suggestions) and exit code are the same either way."""
    env = {"COLUMNS": "100", "STUDYCLI_NOW": "2026-01-01T09:00:00+00:00"}
    fast = run([sys.executable, "-m", "studycli", *args], env)
    whole = run([sys.executable, "-c", WHOLE_APP, *args], env)
    assert fast == whole
    assert fast[1] or fast[2]


def run(command: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    import os

    out = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        check=False,
    )
    return out.returncode, out.stdout, out.stderr


def test_a_bare_studycli_prints_its_help_and_exits_0():
    """A bare `studycli`, a learner asking what it does, printed the help and exited 2, a
    usage error (typer's no_args_is_help since click 8.2), where `--help` exits 0: it is
    `--help`, output and exit code, importing what `--help` does (typer's Rich help imports
    rich.markdown and pygments; no card, database or scheduler module). Options without a
    command are still a usage error."""
    env = {"COLUMNS": "100"}
    bare = run([sys.executable, "-c", PROBE], env)
    helped = run([sys.executable, "-c", PROBE, "--help"], env)
    assert bare[:2] == helped[:2] and bare[0] == 0 and "Usage: studycli" in bare[1]
    loaded = set(bare[2].splitlines()[-1].split())
    assert loaded == set(helped[2].splitlines()[-1].split())
    heavy = ["torch", "numpy", "yaml", "sqlite3", "fsrs", "studycli.study.api"]
    assert [name for name in heavy if name in loaded] == []
    missing = run([sys.executable, "-m", "studycli", "--db", "reviews.sqlite3"], env)
    assert missing[0] == 2 and "Missing command" in missing[2] and not missing[1]


PROBE = """
import atexit, sys
atexit.register(lambda: print(*sorted(sys.modules), file=sys.stderr))  # main() leaves at once
from studycli.cli import main
sys.argv = ["studycli", *sys.argv[1:]]
main()
"""
NEVER = ["rich.markdown", "markdown_it", "pygments", "torch", "numpy", "yaml", "shlex"]
NEVER += ["studycli.cli.charset"]  # for an output that is not UTF-8 only (the probe's pipe is)


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["list"], [*NEVER, "json", "sqlite3", "fsrs", "hashlib", "studycli.study.api"]),
        (["show", "add-one"], [*NEVER, "json", "sqlite3", "fsrs", "hashlib", "rich.syntax"]),
        (["due"], [*NEVER, "hashlib", "rich.syntax", "studycli.study.rating"]),
    ],
)
def test_a_command_imports_only_what_it_uses(args, absent):
    """With a warm content index (a first run writes it) and output to a pipe (no colour);
    what the framework imports itself (typer imports hashlib) aside."""
    command = [sys.executable, "-c", PROBE, "--content", str(FIXTURE_CONTENT), *args]
    subprocess.run(command, capture_output=True, check=True, cwd=REPO_ROOT)
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    loaded = set(out.stderr.splitlines()[-1].split()) - framework_modules()
    assert out.stdout
    assert [name for name in absent if name in loaded] == []


def test_no_command_line_is_parsed_with_pydantic():
    """typer 0.29 imports pydantic to parse any command line, doubling every command's start-up
    (100 ms of 240 for `due` on a 2-core machine): pyproject.toml keeps typer below it."""
    command = [sys.executable, "-c", PROBE, "--content", str(FIXTURE_CONTENT), "due"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    loaded = out.stderr.splitlines()[-1].split()
    assert "typer" in loaded and "pydantic" not in loaded and "pydantic_core" not in loaded


FLOOR = """
import runpy, sys
sys.argv = ["floor_app.py", "hello"]
try:
    runpy.run_path("bench/floor_app.py", run_name="__main__")
except SystemExit:
    pass
print(*sorted(sys.modules), file=sys.stderr)
"""


@functools.cache
def framework_modules() -> frozenset[str]:
    """The modules a two-command Typer app printing a Rich line imports (bench/floor_app.py)."""
    out = subprocess.run(
        [sys.executable, "-c", FLOOR], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    return frozenset(out.stderr.splitlines()[-1].split())


def test_the_review_session_module_leaves_the_solve_flow_and_checks_for_later():
    probe = "import sys, studycli.cli.review_session; print(*sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    loaded = out.stdout.split()
    assert "studycli.cli.review_session" in loaded
    later = ["studycli.cli.solve_flow", "studycli.check.solve", "studycli.check.runner"]
    later += ["rich.syntax", "rich.markdown"]
    later += ["studycli.cli.session_suspend", "studycli.study.suspension"]  # (on `@` only)
    assert [name for name in later if name in loaded] == []


OPEN = """
import sys
from pathlib import Path
from studycli.study.store import Store
with Store.open(Path(sys.argv[1])) as store:
    print(*sorted(sys.modules))
"""


def test_a_database_that_can_be_written_opens_without_what_errors_and_upgrades_need(tmp_path):
    """A review session opens a database it can write, made before: the modules of a first
    database, an upgrade, a read-only or backup file and an error (backups, read_only,
    side_files, sqlite_errors) are left for those (1.9 M instructions to its first card)."""
    path = tmp_path / "reviews.sqlite3"
    command = [sys.executable, "-c", OPEN, str(path)]
    subprocess.run(command, capture_output=True, check=True, cwd=REPO_ROOT)  # (makes it)
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    loaded = out.stdout.split()
    assert "studycli.study.database" in loaded
    later = ["backups", "read_only", "side_files", "sqlite_errors"]
    assert [name for name in later if f"studycli.study.{name}" in loaded] == []


FLAGS = """
import json, sys
from pathlib import Path
from studycli.content.loader import load_content
from studycli.study.api import Study
from studycli.study.settings import Settings
from studycli.study.review_records import CardState
from studycli.paths import content_index_path
content = load_content(Path(sys.argv[1]), index=content_index_path(Path(sys.argv[1])))
card = content.get("add-one")
heavy = ("fsrs", "hashlib", "studycli.study.rating")
with Study.open(Path(sys.argv[2]), Settings()) as study:
    new = study.flags(card)
    loaded = [m for m in heavy if m in sys.modules]
    study.store.replace_states([CardState("add-one", content_hash="old", reps=3, lapses=9)])
    studied = study.flags(card)
    study.store.replace_states([CardState("add-one", content_hash=card.legacy_hash, reps=3)])
    upgraded = study.flags(card)  # (a review an earlier studycli recorded, of this text)
    then = [m for m in (*heavy, "_hashlib") if m in sys.modules]
print(json.dumps({"new": new, "loaded": loaded, "studied": studied, "upgraded": upgraded,
                  "then": then}))
"""


def test_a_cards_flags_are_found_without_the_scheduler(tmp_path):
    """`review` flags a card (edited, leech) before showing it: that needs neither fsrs nor the
    rating module (their import was 20 ms before the first card, on the 2-core box), nor, for
    a card studied before, hashlib (and json) to hash its text: the content index keeps the
    hash (3.4 ms; `review` to such a card 1.27x its floor in instructions, 1.25x allowed). The
    probe's own `replace_states` writes JSON: json is not asked of it."""
    command = [sys.executable, "-c", FLAGS, str(FIXTURE_CONTENT)]
    warm = [*command, str(tmp_path / "first.sqlite3")]  # writes the index
    subprocess.run(warm, capture_output=True, cwd=REPO_ROOT, check=True)
    out = subprocess.run(
        [*command, str(tmp_path / "r.sqlite3")], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["new"] == [] and found["loaded"] == []
    assert found["studied"] == ["edited since your last review", "leech: forgotten 9 times"]
    assert found["upgraded"] == []
    assert found["then"] == []


def test_a_card_from_the_index_has_the_hash_of_its_text(tmp_path):
    """The hashes the index keeps are the ones the card's text gives (what the store compares
    to flag an edited card, of either scheme): for every shipped card and cloze deletion, read
    through a warm index."""
    from studycli.content.card import Card
    from studycli.content.indexed import IndexedCard
    from studycli.content.loader import load_content

    index = tmp_path / "content.index"
    load_content(REPO_ROOT, index=index)  # writes the index
    cards = load_content(REPO_ROOT, index=index).cards.values()
    items = [item for card in cards for item in card.study_items()]
    assert len(items) > 400 and all(isinstance(item, IndexedCard) for item in items)
    assert [item.id for item in items if item.content_hash != Card.content_hash.fget(item)] == []
    assert [item.id for item in items if item.legacy_hash != Card.legacy_hash.fget(item)] == []


def test_an_edited_cards_hash_is_its_new_texts(content_copy, tmp_path):
    from studycli.content.loader import load_content

    index = tmp_path / "content.index"
    before = load_content(content_copy, index=index).get("add-one").content_hash
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text().replace("returns `x + 1`", "returns `x plus 1`"))
    load_content(content_copy, index=index)  # the index rewritten with the edit
    edited = load_content(content_copy, index=index).get("add-one")
    assert "x plus 1" in edited.prompt
    assert edited.content_hash != before
    assert edited.content_hash == load_content(content_copy).get("add-one").content_hash


TYPE_AHEAD = """
import time
from studycli.cli.terminal import getkey
print("drawing", flush=True)
time.sleep(0.5)  # the rest of a card being drawn, the session's modules imported
print("got", repr(getkey()), flush=True)
"""


def test_a_key_pressed_while_the_card_is_drawn_is_not_lost():
    """`review` imports the solve flow after the card is on screen: a key pressed meanwhile
    (before raw mode) must still be read."""
    import pexpect

    child = pexpect.spawn(
        sys.executable, ["-c", TYPE_AHEAD], cwd=str(REPO_ROOT), encoding="utf-8", timeout=60
    )
    child.expect("drawing")
    child.send("q")
    child.expect(r"got '(.*)'")
    assert child.match.group(1) == "q"
    child.expect(pexpect.EOF)


LEAVE = """
import atexit, sys
class Teardown:
    def __del__(self):
        print("torn down", flush=True)
kept = Teardown()  # the interpreter's teardown would collect it
atexit.register(lambda: print("exit handler", flush=True))
from studycli.cli import main
sys.argv = ["studycli", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [(["list"], 0, "cards"), (["show", "no-such-card"], 1, "no card"), (["nope"], 2, "nope")],
)
def test_main_leaves_without_the_teardown_but_with_its_exit_handlers(args, status, said):
    """`main()` skips the interpreter's teardown of every object (0.2-0.4 s after `check`);
    the exit handlers still run, the output is all there, and the exit status is the same."""
    command = [sys.executable, "-c", LEAVE, "--content", str(FIXTURE_CONTENT), *args]
    out = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == status, out.stderr
    assert said in out.stdout + out.stderr
    assert out.stdout.splitlines()[-1] == "exit handler"
    assert "torn down" not in out.stdout


EARLY = """
import sys
from studycli.check import pool
calls = []
def warm_up(*args, **options):  # what `check` asks its workers for, and when
    calls.append(("typer" in sys.modules, options.get("torchless", "-")))
    print(*calls[-1], flush=True)
    if len(calls) == 2:  # the command's own ask: the run itself is not the point here
        raise SystemExit(0)
pool.warm_up = warm_up
from studycli.cli import main
sys.argv = ["studycli", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(
    ("args", "asked"),
    [
        (["check", "add-one"], ["False -", "True None"]),
        (["--content", str(FIXTURE_CONTENT), "check"], ["False -", "True ()"]),
        (["check", "--changed"], ["False -", "True None"]),
        (["check", "--help"], []),
        (["--content", str(FIXTURE_CONTENT), "due"], []),
    ],
)
def test_check_starts_its_first_worker_before_the_command_line_is_parsed(args, asked):
    """torch's import in the worker (1-2 s) is the longest step before a check runs, and Typer,
    Rich and the app took 0.1-0.2 s to import and parse first. A whole run also starts the
    worker for the checks that do not use torch before the content loads: they run on the
    cores left idle while torch imports. Help runs nothing, nor does another command."""
    out = subprocess.run(
        [sys.executable, "-c", EARLY, *args], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert out.returncode == 0, out.stderr
    assert [line for line in out.stdout.splitlines() if line[:5] in ("True ", "False")] == asked


def test_a_tab_press_on_check_starts_no_worker():
    import os

    env = {**os.environ, "_STUDYCLI_COMPLETE": "complete_bash",
           "COMP_WORDS": "studycli check online-soft", "COMP_CWORD": "2"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", EARLY, "check"], capture_output=True, text=True, cwd=REPO_ROOT,
        env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["online-softmax", "online-softmax-rescaling-derivation"]


def test_help_is_asked_for_before_a_double_dash_only():
    from studycli.cli import asks_for_help, named_command

    assert asks_for_help(["check", "-h"]) and asks_for_help(["--help"])
    assert not asks_for_help(["check", "--", "--help"]) and not asks_for_help(["check"])
    assert named_command(["--db", "check", "due"]) == "due"  # a global option's value
    assert named_command(["--content=x"]) is None
