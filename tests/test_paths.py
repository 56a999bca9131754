"""Where studycli finds its content (paths.content_dir)."""

from __future__ import annotations

import os
from pathlib import Path

from studycli import paths


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


def test_a_folder_above_with_cards_but_no_solutions_is_not_taken_for_content(tmp_path):
    notes = content(tmp_path / "notes", "cards/deck")  # someone's own cards/ folder
    found = paths.content_dir(cwd=notes / "cards" / "deck")
    assert found != notes.resolve() and (found / "solutions").is_dir()  # the installed content


def test_the_current_folder_with_cards_comes_before_one_above(tmp_path):
    outer = content(tmp_path / "outer", "cards", "solutions", "inner/cards")
    assert paths.content_dir(cwd=outer / "inner") == (outer / "inner").resolve()


def replace_then_die(path: Path) -> None:
    """In a new process: start replacing `path`, then be killed outright mid-write."""
    import subprocess
    import sys

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

    paths.replace_file(target, b"new\n")

    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv"]


def test_temporary_files_of_running_processes_and_other_files_are_left_alone(tmp_path):
    target = tmp_path / "settings.toml"
    mine = tmp_path / f".settings.toml.{os.getpid()}.abc123.tmp"  # a writer still running
    other = tmp_path / ".settings.toml.backup.tmp"  # not a name `replacing` makes
    for kept in (mine, other):
        kept.write_text("kept")

    paths.replace_file(target, b"x = 1\n")

    assert mine.exists() and other.exists()
    assert target.read_bytes() == b"x = 1\n"


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
