"""A coding card renamed by its author (`renamed_from:`) keeps the learner's attempt file: the
first command that opens the attempt (`solve`, `s` in a session) moves the file of the newest
old id that has one to the new id's name, and says so once; a file of the new id is never
replaced."""

from __future__ import annotations

from studycli.check.attempt_files import attempt_path, rated_path
from studycli.content.loader import load_content

from .conftest import edit
from .study_support import NOW
from .test_study_renames import rename

MINE = "def add_one(x):\n    return x + 1  # mine\n"


def _attempt(card_id: str, text: str) -> None:
    attempt_path(card_id).parent.mkdir(parents=True, exist_ok=True)
    attempt_path(card_id).write_text(text)


def _said(result) -> str:
    return " ".join(result.output.split())


def test_solve_opens_the_attempt_begun_under_the_old_id_and_says_so_once(cli, content_copy):
    """Before, `solve NEW` wrote the starter and checked it ("still the starter"): the answer
    written under the old id was left behind in attempts/OLD.py."""
    _attempt("add-one", MINE)
    rename(content_copy, "add-one", "plus-one")
    solved = cli("--content", content_copy, "solve", "plus-one", "--no-edit", "--no-record")
    assert solved.exit_code == 0 and "passed every case" in solved.stdout, solved.output
    note = f"your attempt at add-one is now plus-one's: {attempt_path('plus-one')}"
    assert note in solved.stdout, solved.output
    assert attempt_path("plus-one").read_text() == MINE
    assert not attempt_path("add-one").exists()
    again = cli("--content", content_copy, "solve", "plus-one", "--no-edit", "--no-record")
    assert again.exit_code == 0 and "your attempt at" not in again.output, again.output


def test_the_newest_old_ids_attempt_is_taken_and_one_of_the_new_id_never_replaced(
    cli, content_copy
):
    """Renamed twice (add-one, then plus-one, now increment): plus-one's attempt is the later
    one. Once the new id has a file, an old id's file stays where it is, untouched."""
    rename(content_copy, "add-one", "plus-one")
    card = content_copy / "cards" / "basics" / "plus-one.yaml"
    edit(card, "id: plus-one\nrenamed_from: [add-one]\n", "id: increment\n")
    edit(card, "kind: coding\n", "kind: coding\nrenamed_from: [add-one, plus-one]\n")
    card.rename(card.with_name("increment.yaml"))
    assert load_content(content_copy).get("increment").renamed_from == ("add-one", "plus-one")
    older = "def add_one(x):\n    return x  # older\n"
    _attempt("add-one", older)
    _attempt("plus-one", MINE)
    solved = cli("--content", content_copy, "solve", "increment", "--no-edit", "--no-record")
    assert "your attempt at plus-one is now increment's" in _said(solved), solved.output
    assert attempt_path("increment").read_text() == MINE
    assert not attempt_path("plus-one").exists()
    again = cli("--content", content_copy, "solve", "increment", "--no-edit", "--no-record")
    assert again.exit_code == 0 and "your attempt at" not in again.output, again.output
    assert attempt_path("increment").read_text() == MINE
    assert attempt_path("add-one").read_text() == older


def test_s_in_a_session_opens_the_attempt_begun_under_the_old_id(
    tmp_path, content_copy, monkeypatch
):
    from rich.console import Console

    from studycli.cli.review_session import ReviewSession
    from studycli.study.api import Study
    from studycli.study.settings import Settings

    monkeypatch.setenv("EDITOR", "true")  # the learner saves what the editor opened
    monkeypatch.delenv("VISUAL", raising=False)
    _attempt("add-one", MINE)
    rename(content_copy, "add-one", "plus-one")
    content = load_content(content_copy)
    console = Console(record=True, width=200, color_system=None)
    keys = iter("s\rq")
    with Study.open(tmp_path / "db.sqlite3", Settings(enable_fuzzing=False)) as study:
        ReviewSession(
            console,
            study,
            content,
            [content.get("plus-one")],
            clock=lambda: NOW,
            getkey=lambda: next(keys),
        ).run()
        reviews = [(r.card_id, r.check_status) for r in study.history()]
    text = console.export_text()
    assert f"your attempt at add-one is now plus-one's: {attempt_path('plus-one')}" in text, text
    assert reviews == [("plus-one", "pass")], text
    assert rated_path("plus-one").read_text() == MINE  # the pass, put aside
    assert not attempt_path("add-one").exists()


def test_an_old_id_still_a_cards_own_keeps_its_attempt(cli, content_copy):
    """A copy of add-one that lists add-one in `renamed_from` while add-one is still there
    (`lint` names the mistake): the old id's history stays add-one's (`renamed_ids`), and so
    does its attempt. `solve` of the copy took add-one's attempt away from it."""
    _attempt("add-one", MINE)
    basics = content_copy / "cards" / "basics"
    copy = basics / "plus-one.yaml"
    copy.write_text((basics / "add-one.yaml").read_text())
    edit(copy, "id: add-one\n", "id: plus-one\nrenamed_from: [add-one]\n")
    assert set(load_content(content_copy).cards) >= {"add-one", "plus-one"}
    solved = cli("--content", content_copy, "solve", "plus-one", "--no-edit", "--no-record")
    assert solved.exit_code == 1 and "your attempt at" not in solved.output, solved.output
    assert attempt_path("add-one").read_text() == MINE
    assert "# mine" not in attempt_path("plus-one").read_text()  # (its starter)
