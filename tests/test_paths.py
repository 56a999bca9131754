"""Where studycli finds its content (paths.content_dir)."""

from __future__ import annotations

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
