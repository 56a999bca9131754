"""Where studycli finds its content (paths.content_dir), its user folders, and how it names them."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studycli import paths

from .conftest import FIXTURE_CONTENT


def content(root: Path, *folders: str) -> Path:
    for folder in folders:
        (root / folder).mkdir(parents=True)
    return root


def test_a_subfolder_of_a_clone_uses_that_clone_not_the_installed_content(tmp_path):
    """From cards/math of a clone, `new`, `lint` and `check` used the content installed with
    the package (for an editable install, another checkout): `new` wrote its card there."""
    clone = content(tmp_path / "clone", "cards/math", "solutions")
    assert paths.content_dir(cwd=clone / "cards" / "math") == clone.resolve()
    assert paths.content_dir(cwd=clone / "solutions") == clone.resolve()


def test_the_help_of_content_names_the_folder_above(monkeypatch):
    """`studycli --help` said of --content "default: here, else the installed content", where
    an author in cards/math of a clone works on that clone (above): one who read the help
    passed --content for nothing, or took `new`'s card written there for a surprise."""
    from typer.testing import CliRunner

    from studycli.cli.help_panels import whole_app

    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(whole_app(), ["--help"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "--content" in line)
    assert "here, else the nearest folder above with both, else the installed" in line


def test_a_folder_above_with_cards_but_no_solutions_is_not_taken_for_content(tmp_path):
    notes = content(tmp_path / "notes", "cards/deck")  # someone's own cards/ folder
    found = paths.content_dir(cwd=notes / "cards" / "deck")
    assert found != notes.resolve() and (found / "solutions").is_dir()  # the installed content


def test_the_current_folder_with_cards_comes_before_one_above(tmp_path):
    outer = content(tmp_path / "outer", "cards", "solutions", "inner/cards/deck")
    (outer / "inner" / "cards" / "deck" / "a-card.yaml").write_text("id: a-card\n")
    assert paths.content_dir(cwd=outer / "inner") == (outer / "inner").resolve()


def test_a_cards_folder_with_no_card_is_not_taken_for_content(tmp_path):
    """A project of another kind with a cards/ folder of its own (a web app's components):
    it took the place of every card, and review said "no cards match those filters"."""
    project = content(tmp_path / "web", "cards/button")
    (project / "cards" / "button" / "index.js").write_text("export {}\n")
    found = paths.content_dir(cwd=project)
    assert found != project.resolve() and (found / "solutions").is_dir()  # the installed one
    started = content(tmp_path / "mine", "cards", "solutions")  # a content folder begun
    assert paths.content_dir(cwd=started) == started.resolve()


def in_a_removed_folder(tmp_path: Path, *args: str, **variables: str):
    """`studycli *args` run in a folder removed while the shell was in it (a worktree or a
    download deleted), with `variables` and a home of its own."""
    env = {
        **os.environ,
        "STUDYCLI_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(Path(paths.__file__).parents[1]),
        **variables,
    }
    env.pop("STUDYCLI_CONTENT", None)
    (tmp_path / "gone").mkdir()
    command = shlex.join([sys.executable, "-m", "studycli", *args])
    return subprocess.run(
        ["sh", "-c", f"cd gone && rmdir ../gone && exec {command}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_removed_current_folder_says_so_where_it_ended_in_a_traceback(tmp_path):
    """`due` in a removed folder ended in a traceback (FileNotFoundError of Path.cwd): no
    content is found from a folder that is not there. It says so and what to do, as any
    other refusal."""
    done = in_a_removed_folder(tmp_path, "due")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    said = " ".join(done.stderr.split())
    assert "the current folder no longer exists" in said and "--content DIR" in said, said


@pytest.mark.parametrize(
    ("args", "variables"),
    [(("--db", "x.db"), {}), ((), {"STUDYCLI_HOME": "home"})],
    ids=["--db", "STUDYCLI_HOME"],
)
def test_a_database_named_from_a_removed_folder_is_refused_as_such(tmp_path, args, variables):
    """A relative --db, STUDYCLI_DB or STUDYCLI_HOME names no file from a removed folder
    (`paths.absolute` leaves it as given); opening the database ended in a traceback
    (FileNotFoundError of Path.resolve). It says which database and what to do."""
    content = ("--content", str(FIXTURE_CONTENT))
    done = in_a_removed_folder(tmp_path, *content, *args, "due", **variables)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    said = " ".join(done.stderr.split())
    assert "is named from the current folder, which no longer exists" in said, said


def replace_then_die(path: Path) -> None:
    """In a new process: start replacing `path`, then be killed outright mid-write."""
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from studycli.paths import replacing\n"
        "with replacing(Path(sys.argv[1])) as handle:\n"
        "    handle.write('half of it')\n"
        "    handle.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    assert done.returncode == -9


def test_a_file_replaced_by_a_killed_process_is_as_it_was_and_its_leftover_goes_next_time(
    tmp_path,
):
    target = tmp_path / "reviews.csv"
    target.write_text("old\n")
    replace_then_die(target)
    assert target.read_text() == "old\n"
    leftovers = list(tmp_path.glob(".reviews.csv.*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].read_text() == "half of it"
    paths.replace_file(target, b"newer\n")  # written a moment ago: kept for now
    assert leftovers[0].exists()
    an_hour_ago = time.time() - paths.ABANDONED_AFTER - 60
    os.utime(leftovers[0], (an_hour_ago, an_hour_ago))

    paths.replace_file(target, b"new\n")

    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv"]


def test_temporary_files_of_running_processes_and_other_files_are_left_alone(tmp_path):
    """Kept, however old: a running writer's; a name `replacing` does not make; another
    file's whose name starts with this one's (`export.2024`'s, for `export`), even where the
    number after the name is no process's."""
    gone = dead_pid()
    target = tmp_path / "export"
    kept = [
        tmp_path / f".export.{os.getpid()}.abc123de.tmp",  # a writer still running
        tmp_path / ".export.backup.tmp",  # not a name `replacing` makes
        tmp_path / f".export.2024.{gone}.abc123de.tmp",  # export.2024's, its writer gone
        tmp_path / f".export.{gone}.abc123de.tmp.part",  # not the shape either
    ]
    an_hour_ago = time.time() - paths.ABANDONED_AFTER - 60
    for leftover in kept:
        leftover.write_text("kept")
        os.utime(leftover, (an_hour_ago, an_hour_ago))
    abandoned = tmp_path / f".export.{gone}.abc123de.tmp"
    abandoned.write_text("gone")
    os.utime(abandoned, (an_hour_ago, an_hour_ago))

    paths.replace_file(target, b"x = 1\n")

    assert all(leftover.exists() for leftover in kept)
    assert not abandoned.exists()
    assert target.read_bytes() == b"x = 1\n"


def test_a_file_created_never_replaces_one_there_and_leaves_nothing_else(tmp_path):
    made = tmp_path / "new" / "attempt.py"
    assert paths.create_file(made, b"starter\n")
    assert made.read_bytes() == b"starter\n"
    assert not paths.create_file(made, b"another starter\n")  # the learner's work stays
    assert made.read_bytes() == b"starter\n"
    assert [p.name for p in made.parent.iterdir()] == ["attempt.py"]


def dead_pid() -> int:
    """The id of a process that has ended."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_replaced_file_and_its_folder_are_written_to_the_disk(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "deep" / "durations.json"

    paths.replace_file(target, b"{}")

    assert len(synced) == 2
    assert Path(synced[0]).parent == target.parent and Path(synced[0]).name.endswith(".tmp")
    assert synced[1] == str(target.parent)


FOLDERS = {"data": paths.data_dir, "config": paths.config_dir, "cache": paths.cache_dir}


@pytest.mark.parametrize(
    "environment",
    [
        {"HOME": "/home/learner"},
        {"HOME": "/home/learner/"},
        {"HOME": "/"},
        {"HOME": "/home/learner", "XDG": "/srv/xdg"},
        {"HOME": "/home/learner", "XDG": "/srv/xdg/"},
        {"HOME": "/home/learner", "XDG": "//srv/xdg with space "},
        {"HOME": "/home/learner", "XDG": ""},
        {"HOME": "/home/learner", "XDG": "   "},
        {"HOME": "/home/learner", "XDG": "relative/xdg"},
        {"HOME": "/home/learner", "XDG": "~/xdg"},
        {"HOME": "relative/home"},
        {"HOME": "relative/home", "XDG": "/srv/xdg"},
        {"XDG": "/srv/xdg"},
        {},
    ],
)
@pytest.mark.parametrize("kind", list(FOLDERS))
def test_the_user_folders_are_platformdirs_ones(monkeypatch, kind, environment):
    """studycli works out the common cases on Linux itself (`paths._user_folder`): the same
    folders as platformdirs gives, whatever HOME and the XDG variables hold."""
    import platformdirs

    monkeypatch.delenv("STUDYCLI_HOME")
    monkeypatch.delenv("STUDYCLI_CACHE", raising=False)
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    if "HOME" in environment:
        monkeypatch.setenv("HOME", environment["HOME"])
    if "XDG" in environment:
        monkeypatch.setenv(f"XDG_{kind.upper()}_HOME", environment["XDG"])
    expected = getattr(platformdirs, f"user_{kind}_path")("studycli")
    assert FOLDERS[kind]() == expected


@pytest.mark.skipif(sys.platform != "linux", reason="the folders are worked out on Linux only")
def test_a_learner_s_folders_on_linux_do_not_import_platformdirs(tmp_path):
    """Its import cost every command 12 M instructions (3% of `review`'s start)."""
    probe = (
        "import sys; from studycli import paths; "
        "print(paths.data_dir(), paths.config_dir(), paths.cache_dir(), "
        "'platformdirs' in sys.modules)"
    )
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("STUDYCLI_", "XDG_", "ANDROID_"))
    }
    environment["HOME"] = str(tmp_path)
    environment["XDG_CACHE_HOME"] = str(tmp_path / "cached")
    out = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
    )
    data, config, cache, imported = out.stdout.split()
    assert (data, config, cache) == (
        str(tmp_path / ".local" / "share" / "studycli"),
        str(tmp_path / ".config" / "studycli"),
        str(tmp_path / "cached" / "studycli"),
    )
    assert imported == "False"


def test_the_paths_said_under_a_relative_home_settings_and_cache_are_absolute(tmp_path):
    """`STUDYCLI_HOME=home studycli doctor` said "no review database at home/data/..." (and a
    solve "your attempt stays in home/data/attempts/add-one.py", `due` "new_per_day in
    mine.toml" for a relative STUDYCLI_CONFIG): paths that name another file, or none, once
    copied to another folder's terminal. They are said absolute, and the files are where they
    were, under the folder the command ran in."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.toml").write_text("new_per_day = 0\n")
    environment = {
        **os.environ,
        "STUDYCLI_HOME": "home",
        "STUDYCLI_CONFIG": "mine.toml",
        "STUDYCLI_CACHE": "cache",
        "EDITOR": "true",
        "TZ": "UTC",
    }

    def studycli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), *args],
            cwd=work, env=environment, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        return done.stdout + done.stderr

    here = work.resolve()
    said = studycli("doctor")
    assert f"no review database at {here / 'home' / 'data' / 'reviews.sqlite3'} yet" in said
    said = studycli("due")
    assert f"(new_per_day in {here / 'mine.toml'};" in said, said
    attempt = here / "home" / "data" / "attempts" / "add-one.py"
    said = studycli("solve", "add-one", "--no-edit")
    assert f"your attempt stays in {attempt}: " in said, said
    assert attempt.is_file() and list((here / "cache").glob("content-*.index"))
