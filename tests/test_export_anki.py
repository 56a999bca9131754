"""export-anki: the package is checked by importing it into a real Anki collection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import genanki
import pytest

from studycli.content.loader import load_content
from studycli.export import anki_record
from studycli.export.anki import (
    build_package,
    card_modified,
    cloze_model,
    deck_name,
    export_anki,
    markdown_html,
    note_model,
    stable_id,
)
from studycli.paths import anki_notes_path

from .conftest import FIXTURE_CONTENT, REPO_ROOT, edit
from .test_cli_commands import PROBE

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def anki(tmp_path):
    """A fresh Anki collection and a function that imports a package into it."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col = Collection(str(tmp_path / "c.anki2"))

    def import_package(path: Path):
        request = ImportAnkiPackageRequest(
            package_path=str(path), options=ImportAnkiPackageOptions()
        )
        return col.import_anki_package(request)

    col.import_package = import_package
    yield col
    col.close()


def notes_by_id(col) -> dict:
    """Every note of the collection, keyed by its Id field."""
    notes = [col.get_note(nid) for nid in col.find_notes("")]
    return {note["Id"]: note for note in notes}


def export_fixture(tmp_path, root=FIXTURE_CONTENT, now=NOW, name="out.apkg", **filters) -> Path:
    content = load_content(root)
    out = tmp_path / name
    export_anki(content.select(**filters), content.solutions_dir, out, now, anki_notes_path())
    return out


def test_import_into_anki_gives_one_note_per_card_in_its_deck(tmp_path, anki):
    anki.import_package(export_fixture(tmp_path))

    notes = notes_by_id(anki)
    assert sorted(notes) == ["add-one", "bias-concept", "poisson-concept", "triangle-derivation"]
    assert anki.note_count() == 4
    names = {d.name for d in anki.decks.all_names_and_ids()}
    assert {"studycli::basics", "studycli::numbers"} <= names
    assert anki.decks.name(notes["add-one"].cards()[0].did) == "studycli::basics"
    assert anki.decks.name(notes["poisson-concept"].cards()[0].did) == "studycli::numbers"


def test_fields_of_a_coding_card_survive_the_import(tmp_path, anki):
    anki.import_package(export_fixture(tmp_path))
    note = notes_by_id(anki)["add-one"]

    assert note.note_type()["name"] == "studycli card v2"
    assert list(note.keys()) == [
        "Id",
        "Kind",
        "Topic",
        "Title",
        "Prompt",
        "Answer",
        "Steps",
        "Code",
        "Explanation",
    ]
    assert (note["Kind"], note["Topic"], note["Title"]) == ("coding", "bias", "Add one")
    assert note["Prompt"] == "Write <code>add_one(x)</code> that returns <code>x + 1</code>."
    assert "加一 — any Unicode renders." in note["Answer"]
    assert note["Code"].startswith(
        '<pre><code class="language-python">def add_one(x: int) -&gt; int:'
    )
    assert "raise NotImplementedError" in note["Code"] and note["Steps"] == ""
    assert note.tags == ["warm-up"]
    back = note.cards()[0].answer()
    assert "answer it with: <code>studycli solve add-one</code>" in back and "加一" in back


def test_derivation_steps_become_an_ordered_list(tmp_path, anki):
    anki.import_package(export_fixture(tmp_path))
    note = notes_by_id(anki)["triangle-derivation"]

    assert note["Steps"] == (
        "<ol><li>Write S forwards and backwards, one above the other.</li>"
        "<li>Each column sums to <code>n + 1</code>, and there are n columns.</li>"
        "<li>So <code>2S = n (n + 1)</code>.</li></ol>"
    )
    assert note["Answer"] == "<code>S = n (n + 1) / 2</code>"
    concept = notes_by_id(anki)["poisson-concept"]
    assert concept["Prompt"] == "What are the mean and the variance of Poisson(λ)?"
    assert concept["Code"] == "" and "studycli solve" not in concept.cards()[0].answer()


def test_reexport_after_an_edit_updates_the_note_instead_of_adding_one(
    tmp_path, anki, content_copy
):
    """Only the edited card's note is updated: each note is stamped with when its text last
    changed (the edited one with the second export's time), and Anki updates a note only when
    the package's is newer. (Every note was stamped with the export's time, so all four were
    rewritten, and any edit the learner had made to them in Anki was lost.)"""
    anki.import_package(export_fixture(tmp_path, content_copy, name="first.apkg"))
    note_ids = {card_id: note.id for card_id, note in notes_by_id(anki).items()}
    card = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    card.write_text(
        card.read_text(encoding="utf-8").replace(
            "What are the mean and the variance of Poisson(λ)?",
            "For X ~ Poisson(λ), what are E[X], Var(X) and ‖x‖² / √λ? 泊松",
        ),
        encoding="utf-8",
    )
    exported = datetime.fromtimestamp(notes_by_id(anki)["poisson-concept"].mod + 60, UTC)

    later = export_fixture(tmp_path, content_copy, now=exported, name="second.apkg")
    log = anki.import_package(later)

    assert anki.note_count() == 4 and not log.log.new
    assert [entry.fields[0] for entry in log.log.updated] == ["poisson-concept"]
    notes = notes_by_id(anki)
    assert {card_id: note.id for card_id, note in notes.items()} == note_ids
    assert notes["poisson-concept"]["Prompt"] == (
        "For X ~ Poisson(λ), what are E[X], Var(X) and ‖x‖² / √λ? 泊松"
    )
    assert notes["bias-concept"]["Prompt"].startswith("Without a bias term")


NEW_CARD = """\
id: new-concept
kind: concept
topic: poisson
title: A new card
prompt: What is the sum of two independent Poisson counts?
answer: A Poisson count whose rate is the sum of the two rates.
"""


def test_a_note_edited_in_anki_survives_a_reexport_of_unchanged_cards(tmp_path, anki, content_copy):
    """The learner adds their own words to notes in Anki, then pulls one new card and one
    edited card and exports again: the note of the unchanged card keeps their words, while
    the card whose text changed after their edit is updated (the newest wins), as is the
    runnable card whose starter changed in its solution module (the starter is made from it),
    but not the other card of that module (its starter unchanged). Every note was stamped with
    the export's time, so every note was rewritten and every such edit lost."""
    checked_out = time.time() - 3600  # an hour before the learner's edits in Anki
    for path in [*(content_copy / "cards").rglob("*.yaml"), content_copy / "solutions/arith.py"]:
        os.utime(path, (checked_out, checked_out))
    anki.import_package(export_fixture(tmp_path, content_copy, name="first.apkg"))
    for card_id in ("bias-concept", "poisson-concept", "add-one"):
        note = notes_by_id(anki)[card_id]
        note["Explanation"] = "my own words"
        anki.update_note(note)
    edited = max(note.mod for note in notes_by_id(anki).values())
    (content_copy / "cards" / "numbers" / "new-concept.yaml").write_text(NEW_CARD, "utf-8")
    card = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    edit(card, "What are the mean", "What are the expectation")
    module = content_copy / "solutions" / "arith.py"
    edit(module, "Return x + 1.", "Return x plus one.")  # in add-one's starter
    for path in (card, module):  # pulled after the edit, then exported
        os.utime(path, (edited + 60, edited + 60))
    exported = datetime.fromtimestamp(edited + 120, UTC)

    log = anki.import_package(export_fixture(tmp_path, content_copy, now=exported))

    assert [entry.fields[0] for entry in log.log.new] == ["new-concept"]
    updated = sorted(entry.fields[0] for entry in log.log.updated)
    assert updated == ["add-one", "poisson-concept"]
    notes = notes_by_id(anki)
    assert notes["bias-concept"]["Explanation"] == "my own words"
    assert notes["poisson-concept"]["Prompt"].startswith("What are the expectation")
    assert notes["poisson-concept"]["Explanation"] == notes["add-one"]["Explanation"] == ""


def set_times(content: Path, when: float) -> None:
    """Every card file and solution module of `content` modified at `when`, as a clone or an
    upgrade leaves them."""
    for path in [*(content / "cards").rglob("*.yaml"), *(content / "solutions").rglob("*.py")]:
        os.utime(path, (when, when))


def learner_edits(anki, card_id: str) -> float:
    """The learner's own words in the Explanation of a note in Anki; when Anki dated the edit."""
    note = notes_by_id(anki)[card_id]
    note["Explanation"] = "my own words"
    anki.update_note(note)
    return notes_by_id(anki)[card_id].mod


def export_with_cli(cli, content: Path, out: Path, *options: str) -> None:
    result = cli("--content", content, "export-anki", out, *options)
    assert result.exit_code == 0, result.output


def test_touched_files_leave_a_note_the_learner_edited_alone(cli, tmp_path, anki, content_copy):
    """A note is dated by its text, not by its files' times, which move while the text stays:
    a fresh clone, an upgrade (pip writes every file anew), `touch`, an edit of a solution
    module's checker. Dated by its files, the card's note was newer than the learner's edit in
    Anki after any of these, and the next import overwrote the edit."""
    set_times(content_copy, time.time() - 3600)  # checked out an hour before the edit
    export_with_cli(cli, content_copy, tmp_path / "first.apkg")
    anki.import_package(tmp_path / "first.apkg")
    edited = learner_edits(anki, "add-one")
    module = content_copy / "solutions" / "arith.py"
    edit(module, "for x in (-3, 0, 1, 41, 10**12):", "for x in (-3, 0, 1, 7, 41, 10**12):")
    for path in (content_copy / "cards" / "basics" / "add-one.yaml", module):
        os.utime(path, (edited + 60, edited + 60))  # the checker edited, the card touched

    export_with_cli(cli, content_copy, tmp_path / "second.apkg")
    log = anki.import_package(tmp_path / "second.apkg")

    assert not log.log.updated and not log.log.new
    assert notes_by_id(anki)["add-one"]["Explanation"] == "my own words"


def test_an_edited_card_is_dated_at_the_export_whatever_its_file_says(tmp_path, anki, content_copy):
    """A card whose text changed since the last export is dated at the export, so the import
    updates its note, edited in Anki before (the newest wins), even where the file's time is
    older than that edit (a checkout or a copy that keeps a file's old time): dated by its
    file, the note was left as it was in Anki."""
    checked_out = time.time() - 3600
    set_times(content_copy, checked_out)
    anki.import_package(export_fixture(tmp_path, content_copy, name="first.apkg"))
    edited = learner_edits(anki, "poisson-concept")
    card = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    edit(card, "What are the mean", "What are the expectation")
    os.utime(card, (checked_out, checked_out))
    exported = datetime.fromtimestamp(edited + 60, UTC)

    log = anki.import_package(export_fixture(tmp_path, content_copy, now=exported))

    assert [entry.fields[0] for entry in log.log.updated] == ["poisson-concept"]
    note = notes_by_id(anki)["poisson-concept"]
    assert note["Prompt"].startswith("What are the expectation") and note["Explanation"] == ""
    assert note.mod == edited + 60
    recorded = json.loads(anki_notes_path().read_text("utf-8"))["notes"]["poisson-concept"]
    assert recorded["modified"] == edited + 60


def test_an_edited_card_is_newer_than_its_last_export_whatever_the_clock_says(
    tmp_path, anki, content_copy
):
    """A note whose text changed is dated after the time its last export gave it, where that
    time is ahead of the clock (files from a machine whose clock ran ahead, a clock set back
    since): dated at the export, it was older than the note Anki holds, and the import left
    the old text in Anki without a word, until the clock caught up."""
    ahead = time.time() + 86400
    set_times(content_copy, ahead)  # the first export dates its notes by their files
    anki.import_package(export_fixture(tmp_path, content_copy, now=datetime.now(UTC)))
    card = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    edit(card, "What are the mean", "What are the expectation")

    log = anki.import_package(export_fixture(tmp_path, content_copy, now=datetime.now(UTC)))

    assert [entry.fields[0] for entry in log.log.updated] == ["poisson-concept"]
    assert notes_by_id(anki)["poisson-concept"]["Prompt"].startswith("What are the expectation")


def test_an_export_of_one_deck_keeps_the_record_of_the_others(cli, tmp_path, anki, content_copy):
    """An export with --deck replaces the entries of its cards in the record and keeps the
    others': had it forgotten them, the next whole export would date the other decks' notes by
    their files again, and a touched file would overwrite the learner's edit."""
    set_times(content_copy, time.time() - 3600)
    export_with_cli(cli, content_copy, tmp_path / "whole.apkg")
    anki.import_package(tmp_path / "whole.apkg")
    recorded = json.loads(anki_notes_path().read_text("utf-8"))["notes"]
    edited = learner_edits(anki, "add-one")

    export_with_cli(cli, content_copy, tmp_path / "numbers.apkg", "--deck", "numbers")

    assert json.loads(anki_notes_path().read_text("utf-8"))["notes"] == recorded
    assert sorted(recorded) == ["add-one", "bias-concept", "poisson-concept", "triangle-derivation"]
    card = content_copy / "cards" / "basics" / "add-one.yaml"
    os.utime(card, (edited + 60, edited + 60))
    export_with_cli(cli, content_copy, tmp_path / "again.apkg")
    assert not anki.import_package(tmp_path / "again.apkg").log.updated
    assert notes_by_id(anki)["add-one"]["Explanation"] == "my own words"


def test_two_exports_at_once_keep_both_decks_in_the_record(tmp_path, isolated_home, monkeypatch):
    """An export of one deck that ran while another exported the other deck (two terminals):
    each wrote the record as it had read it at its start plus its own notes, so the one that
    wrote last dropped the other's (2 entries of 4 in 2 of 6 tries, two `export-anki --deck`
    at once). Dropped, a note is dated by its files on the next export, and a touched file
    overwrites the learner's edit of it in Anki (`test_touched_files_leave_...`)."""
    from studycli.export import anki

    write_package, during = anki.write_package, []

    def another_export_meanwhile(*args, **kwargs):
        if not during:  # (the outer export, once it has read the record)
            during.append(True)
            export_fixture(tmp_path, name="numbers.apkg", deck="numbers")
        return write_package(*args, **kwargs)

    monkeypatch.setattr(anki, "write_package", another_export_meanwhile)
    export_fixture(tmp_path, name="basics.apkg", deck="basics")

    recorded = json.loads(anki_notes_path().read_text("utf-8"))["notes"]
    assert during and sorted(recorded) == [
        "add-one", "bias-concept", "poisson-concept", "triangle-derivation"
    ]  # fmt: skip


def test_the_records_lock_is_one_process_at_a_time(tmp_path):
    """`record_lock.locked` keeps out another process (not only another thread), and says
    so once its wait is over; the holder's exit lets it go."""
    from studycli.export import record_lock

    record = tmp_path / "data" / "anki-notes.json"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from studycli.export.record_lock import locked\n"
         f"with locked(Path({str(record)!r})):\n"
         "    print('held', flush=True)\n"
         "    sys.stdin.readline()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        with (
            pytest.raises(TimeoutError, match="another export held its lock"),
            record_lock.locked(record, wait=0.3),
        ):
            pass
        assert time.monotonic() - started >= 0.3
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    with record_lock.locked(record, wait=0.3):  # let go with the process
        pass


def _export_said(tmp_path) -> list[str]:
    """What an export of the fixture's cards said of the record (`Exported.said`)."""
    content = load_content(FIXTURE_CONTENT)
    out = tmp_path / "out.apkg"
    return export_anki(
        content.cards.values(), content.solutions_dir, out, NOW, anki_notes_path()
    ).said


def test_a_lock_file_that_cannot_be_made_leaves_the_record_written(tmp_path):
    """The lock beside the record cannot be made (a folder in its place; a file of another
    user's, left by a `sudo` export): the record, which can be written, was not, and every
    export said "cannot be written" of a record that could, dating its notes anew the next
    time. It is written as it was before the lock, unlocked."""
    from studycli.export import record_lock

    record_lock.lock_path(anki_notes_path()).mkdir(parents=True)
    assert _export_said(tmp_path) == []
    assert len(json.loads(anki_notes_path().read_text("utf-8"))["notes"]) == 4


def test_a_record_that_turns_unreadable_during_the_export_is_said(tmp_path, monkeypatch):
    """A record read fine at the export's start, but garbled by another program before the
    export took its lock to write it, was written afresh with this export's notes alone: the
    other cards' entries went without a word, where an unreadable one at the start is said."""
    from contextlib import contextmanager

    from studycli.export import record_lock

    record = anki_notes_path()
    record.parent.mkdir(parents=True)
    anki_record.save(record, {"another-deck-card": anki_record.Entry("ab" * 32, 1.7e9)})
    lock = record_lock.locked

    @contextmanager
    def garbled_first(path, *args, **kwargs):
        path.write_bytes(b"garbage")
        with lock(path, *args, **kwargs):
            yield

    monkeypatch.setattr(record_lock, "locked", garbled_first)
    said = _export_said(tmp_path)

    assert said == [
        f"the record of past Anki exports {record} cannot be read (it is not JSON): it changed "
        "while this export ran, and a fresh record is written with this export's notes alone "
        "(the other cards' notes are dated as on a first export at their next export)"
    ]
    notes = json.loads(record.read_text("utf-8"))["notes"]
    assert "another-deck-card" not in notes and len(notes) == 4


@pytest.mark.skipif(os.name == "nt", reason="fcntl")
def test_a_folder_that_cannot_lock_leaves_the_record_written(tmp_path, monkeypatch):
    """A data folder on a file system that cannot lock (NFS with no lock daemon: ENOLCK; some
    FUSE and SMB mounts: EOPNOTSUPP) refused every export's record, as if another export held
    it; the record is written unlocked, as it was before the lock."""
    import errno

    from studycli.export import record_lock

    def cannot_lock(descriptor, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(record_lock.fcntl, "flock", cannot_lock)
    assert _export_said(tmp_path) == []
    assert len(json.loads(anki_notes_path().read_text("utf-8"))["notes"]) == 4


def test_the_contents_record_of_its_notes_is_current():
    """cards/anki-notes.json holds each shipped card's note as the export makes it now (a
    first export on a machine dates the notes that match it by its times): a card's text, a
    starter or the rendering changed without the record is said with the fix."""
    content = load_content(REPO_ROOT)
    shipped, unreadable = anki_record.load(REPO_ROOT / "cards" / anki_record.SHIPPED)
    assert unreadable is None
    notes = build_package(list(content.cards.values()), content.solutions_dir, {}, 0.0).notes
    now = {card_id: entry.digest for card_id, entry in notes.items()}
    recorded = {card_id: entry.digest for card_id, entry in shipped.items()}
    stale = sorted(i for i in now.keys() | recorded.keys() if now.get(i) != recorded.get(i))
    assert not stale, (
        f"cards/{anki_record.SHIPPED} is out of date for {', '.join(stale[:10])}: run "
        "python scripts/anki_notes.py and commit the file"
    )


def test_a_first_export_on_a_machine_dates_notes_as_shipped_not_by_the_clone(
    cli, tmp_path, anki, content_copy, monkeypatch
):
    """A learner exports on one machine, edits a note in Anki, then exports from a fresh clone
    on another (no record of exports there yet, every file new): the note whose text is as
    shipped is dated by the content's record (`scripts/anki_notes.py` wrote it), older than
    the edit, which stays; a card changed since (here, on this machine) is dated at the export
    and updates its note. Dated by the clone's files, every note was newer than the edit, and
    the import overwrote it."""
    written = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "anki_notes.py"), "--content", content_copy],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "4 notes; 0 changed, 4 new, 0 gone" in written.stdout, written.stdout
    shipped = content_copy / "cards" / anki_record.SHIPPED
    authored = time.time() - 3600  # the cards' texts as their authors last changed them
    record = anki_record.load(shipped)[0]
    anki_record.save(shipped, {i: anki_record.Entry(e.digest, authored) for i, e in record.items()})
    export_with_cli(cli, content_copy, tmp_path / "first.apkg")
    anki.import_package(tmp_path / "first.apkg")
    edited = learner_edits(anki, "bias-concept")
    learner_edits(anki, "poisson-concept")
    anki_notes_path().unlink()  # the other machine: no record of exports
    set_times(content_copy, edited + 60)  # cloned after the edit
    card = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    edit(card, "What are the mean", "What are the expectation")
    monkeypatch.setenv("STUDYCLI_NOW", datetime.fromtimestamp(edited + 120, UTC).isoformat())

    export_with_cli(cli, content_copy, tmp_path / "second.apkg")
    log = anki.import_package(tmp_path / "second.apkg")

    assert [entry.fields[0] for entry in log.log.updated] == ["poisson-concept"]
    assert notes_by_id(anki)["bias-concept"]["Explanation"] == "my own words"
    assert notes_by_id(anki)["poisson-concept"]["Prompt"].startswith("What are the expectation")


def test_a_contents_record_that_cannot_be_read_is_said_and_the_export_done(
    cli, tmp_path, content_copy
):
    (content_copy / "cards" / anki_record.SHIPPED).write_text('{"format": 1, "notes": [', "utf-8")
    result = cli("--content", content_copy, "export-anki", tmp_path / "out.apkg")
    assert result.exit_code == 0, result.output
    assert " ".join(result.stderr.split()) == (
        f"note: the content's record of its notes {content_copy / 'cards' / anki_record.SHIPPED} "
        "cannot be read (it is not JSON): notes not exported here before are dated by their "
        "files this time"
    )
    assert (tmp_path / "out.apkg").stat().st_size > 0


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'{"format": 1, "notes": {"add-one": ', "it is not JSON"),
        (b"\xff\xfe\x00", "it is not JSON"),
        (b'["add-one"]', "it is not a format-1 record of Anki exports"),
        (b'{"format": 1, "notes": {"add-one": {"hash": "ab", "modified": "today"}}}',
         "it is not a format-1 record of Anki exports"),
        (b'{"format": 2, "notes": {}}', "it is not a format-1 record of Anki exports"),
    ],
)  # fmt: skip
def test_a_record_that_cannot_be_read_is_said_and_written_afresh(cli, tmp_path, data, why):
    """The export goes on as a first export does (notes dated by their files), says so in one
    line naming the file, and writes a fresh record in place of the one it could not read."""
    record = anki_notes_path()
    record.parent.mkdir(parents=True)
    record.write_bytes(data)

    result = cli("--content", FIXTURE_CONTENT, "export-anki", tmp_path / "out.apkg")

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    said = " ".join(result.stderr.split())
    assert said == (
        f"note: the record of past Anki exports {record} cannot be read ({why}): notes are "
        "dated by their files this time, and a fresh record is written"
    )
    content = load_content(FIXTURE_CONTENT)
    notes = json.loads(record.read_text("utf-8"))["notes"]
    assert {card_id: entry["modified"] for card_id, entry in notes.items()} == {
        card.id: card_modified(card, content.solutions_dir) for card in content.select()
    }


def test_a_record_that_cannot_be_read_beside_the_contents_own_says_how_notes_are_dated(
    cli, tmp_path, content_copy
):
    """Beside a content's record of its notes (the shipped content has one), a record of past
    exports that cannot be read leaves the notes dated as a first export dates them: by the
    content's record where their text is as shipped, as here. It was said that notes were
    "dated by their files", which a learner whose Anki edits only stay under the content's
    dates had reason to fear."""
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "anki_notes.py"), "--content", content_copy],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    shipped = anki_record.load(content_copy / "cards" / anki_record.SHIPPED)[0]
    record = anki_notes_path()
    record.parent.mkdir(parents=True)
    record.write_bytes(b"garbage")

    result = cli("--content", content_copy, "export-anki", tmp_path / "out.apkg")

    assert result.exit_code == 0, result.output
    assert " ".join(result.stderr.split()) == (
        f"note: the record of past Anki exports {record} cannot be read (it is not JSON): "
        "notes are dated as on a first export this time (by the content's record of its notes "
        "where their text is as shipped, else by their files), and a fresh record is written"
    )
    notes = json.loads(record.read_text("utf-8"))["notes"]
    assert {card_id: entry["modified"] for card_id, entry in notes.items()} == {
        card_id: entry.modified for card_id, entry in shipped.items()
    }


def test_a_record_that_cannot_be_written_leaves_the_export_done(cli, tmp_path, anki):
    """The package is what was asked for: a data folder that cannot be written (read-only)
    costs the record only, and says so, naming it."""
    from .test_study_database import unwritable

    record = anki_notes_path()
    record.parent.mkdir(parents=True)
    out = tmp_path / "out.apkg"
    with unwritable(record.parent):
        result = cli("--content", FIXTURE_CONTENT, "export-anki", out)

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    said = " ".join(result.stderr.split())
    assert said.startswith(f"note: the record of this export cannot be written to {record} (")
    assert f"{out} is written" in said
    assert not record.exists()
    anki.import_package(out)
    assert anki.note_count() == 4


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_for_a_record_is_said_not_waited_on(tmp_path, isolated_home):
    """A named pipe where the record goes was read without waiting (it is no file), then
    written in place as `replace_file` writes what it cannot replace: the export waited for a
    reader for ever, having said nothing."""
    record = anki_notes_path()
    record.parent.mkdir(parents=True)
    os.mkfifo(record)
    out = tmp_path / "out.apkg"
    args = ["--content", str(FIXTURE_CONTENT), "export-anki", str(out)]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "studycli", *args],
            capture_output=True,
            text=True,
            timeout=60,  # (a guard against the hang, not a measure of speed)
            env={**os.environ, "STUDYCLI_HOME": str(isolated_home)},
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the export waited on the named pipe")

    assert done.returncode == 0, done.stderr
    said = " ".join(done.stderr.split())
    assert f"{record} cannot be read (it is not a regular file)" in said
    assert f"cannot be written to {record} (it is not a regular file)" in said
    assert "a fresh record is written" not in said  # (it is not)
    assert out.is_file() and "Traceback" not in said


def test_a_change_of_rendering_updates_every_note_once(tmp_path, anki, content_copy, monkeypatch):
    """`RENDERED_SINCE`, bumped when the export renders notes differently, is the oldest time
    a note is stamped with: the next import updates every note, the card files unchanged,
    and the one after it none."""
    anki.import_package(export_fixture(tmp_path, content_copy, name="first.apkg"))
    stamped = max(note.mod for note in notes_by_id(anki).values())
    monkeypatch.setattr(
        "studycli.export.anki.RENDERED_SINCE", datetime.fromtimestamp(stamped + 60, UTC)
    )

    logs = [anki.import_package(export_fixture(tmp_path, content_copy)) for _ in range(2)]

    assert [len(log.log.updated) for log in logs] == [4, 0]
    assert not logs[0].log.new and not logs[1].log.new


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"deck": "numbers"}, {"poisson-concept", "triangle-derivation"}),
        ({"kind": "coding"}, {"add-one"}),
        ({"topic": "bias"}, {"add-one", "bias-concept"}),
    ],
)
def test_cli_filters_choose_the_exported_cards(cli, tmp_path, anki, filters, expected):
    out = tmp_path / "f.apkg"
    options = [item for key, value in filters.items() for item in (f"--{key}", value)]
    result = cli("--content", FIXTURE_CONTENT, "export-anki", out, *options)

    assert result.exit_code == 0, result.output
    noun = "card" if len(expected) == 1 else "cards"  # (it said "1 cards")
    assert f"exported {len(expected)} {noun} in 1 deck to" in result.stdout
    anki.import_package(out)
    assert set(notes_by_id(anki)) == expected


def test_a_draft_is_left_out_of_the_export_and_named(cli, tmp_path, anki, content_copy):
    """A card still being written is not studied (`Card.draft`), but it was exported: its
    Anki note read "TODO: the question, in your own words."."""
    made = cli("--content", content_copy, "new", "concept", "fresh", "--topic", "bias")
    assert made.exit_code == 0, made.output
    out = tmp_path / "d.apkg"
    result = cli("--content", content_copy, "export-anki", out, "--topic", "bias")
    assert result.exit_code == 0, result.output
    assert "exported 2 cards in 1 deck to" in result.stdout
    assert "note: fresh: still being written (a text begins with TODO)" in result.stderr
    anki.import_package(out)
    assert set(notes_by_id(anki)) == {"add-one", "bias-concept"}


def test_export_leaves_no_temp_file_behind(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    export_fixture(tmp_path)
    assert list(scratch.iterdir()) == []


def test_an_export_where_sqlite_cannot_serialize_writes_the_package_all_the_same(
    tmp_path, monkeypatch, anki
):
    """`Connection.serialize` exists only where Python's SQLite has the serialize API (3.36
    and later, or built with it): under an older one (RHEL 9's python3.11 has 3.34) every
    export ended in an AttributeError's traceback. The collection is then copied through a
    file of a temporary folder that is removed."""
    import sqlite3

    from studycli.export import anki as anki_export

    class WithoutSerialize:  # a connection of an SQLite without the serialize API
        def __init__(self, connection):
            self._connection = connection

        def __getattr__(self, name):
            if name == "serialize":
                raise AttributeError(name)
            return getattr(self._connection, name)

    def connect(database, *args, **options):  # (the collection's, in memory)
        made = sqlite3_connect(database, *args, **options)
        return WithoutSerialize(made) if database == ":memory:" else made

    sqlite3_connect = sqlite3.connect
    monkeypatch.setattr(anki_export.sqlite3, "connect", connect)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    out = export_fixture(tmp_path)
    monkeypatch.undo()
    anki.import_package(out)
    assert set(notes_by_id(anki)) == set(load_content(FIXTURE_CONTENT).cards)
    assert list(scratch.iterdir()) == []


# The export in a process of its own that dies (SIGKILL) or fails (a full disk) once the
# package's zip file is open to write, over the package of an earlier export.
CUT_SHORT = """
import errno, os, signal, sys, zipfile
from datetime import UTC, datetime
from pathlib import Path
from studycli.content.loader import load_content
from studycli.export.anki import export_anki

opened = zipfile.ZipFile.__init__
def cut_short(self, *args, **options):
    opened(self, *args, **options)
    if sys.argv[3] == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
zipfile.ZipFile.__init__ = cut_short
content = load_content(Path(sys.argv[1]))
now = datetime(2025, 3, 2, tzinfo=UTC)
export_anki(content.select(), content.solutions_dir, Path(sys.argv[2]), now, Path(sys.argv[4]))
"""


@pytest.mark.parametrize("how", ["killed", "disk full"])
def test_an_export_cut_short_leaves_the_earlier_package_whole_and_no_copy_behind(tmp_path, how):
    """The package was written in place: a kill or a full disk midway left a truncated .apkg
    where the earlier export had been (Anki refuses it: "not a zip file"), and a kill left
    a copy of the cards in the temporary folder (`studycli-anki-*`), for good."""
    out = export_fixture(tmp_path)
    before = out.read_bytes()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = subprocess.run(
        [sys.executable, "-c", CUT_SHORT, str(FIXTURE_CONTENT), str(out), how,
         str(tmp_path / "record.json")],
        env={**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert child.returncode == (-signal.SIGKILL if how == "killed" else 1), child.stderr
    assert out.read_bytes() == before
    assert list(scratch.iterdir()) == []
    if how == "disk full":
        assert "cannot write" in child.stderr and str(out) in child.stderr
        assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_ids_are_derived_so_two_exports_agree(tmp_path):
    content = load_content(FIXTURE_CONTENT)
    first, second = (
        build_package(content.select(), content.solutions_dir, {}, NOW.timestamp()).package
        for _ in range(2)
    )

    def ids(package):
        return [
            (deck.deck_id, deck.name, [(n.guid, n.model.model_id) for n in deck.notes])
            for deck in package.decks
        ]

    assert ids(first) == ids(second)
    assert first.decks[0].deck_id == stable_id("studycli::basics") == stable_id(deck_name("basics"))
    assert len({deck.deck_id for deck in first.decks}) == 2
    # the GUID depends on the id only, not on the text
    assert first.decks[0].notes[0].guid == genanki.guid_for("add-one")


def test_the_note_types_keep_their_ids(tmp_path, anki):
    """The note types' ids never change: Anki skips as "conflicting" every note whose GUID it
    holds under another note type, so a new id (renaming 'studycli card v1' to 'v2' made one)
    would strand every note a learner imported before."""
    assert (note_model().model_id, cloze_model().model_id) == (1753197598, 1777041488)
    anki.import_package(export_fixture(tmp_path))
    assert {note.mid for note in notes_by_id(anki).values()} == {1753197598}


def test_notes_of_a_v1_export_update_when_the_import_merges_note_types(
    tmp_path, anki, content_copy, monkeypatch
):
    """README's advice to a learner who imported an export made before the Explanation field
    came, whose notes are of the note type 'studycli card v1' (another id): Anki skips them as
    conflicting, unless the import merges note types."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    import studycli.export.anki as export

    note_model, card_fields = export.note_model, export.card_fields

    def v1_model():
        model = note_model()
        model.model_id, model.name = stable_id("studycli card v1"), "studycli card v1"
        model.fields = model.fields[:-1]  # no Explanation
        return model

    with monkeypatch.context() as v1:
        v1.setattr(export, "note_model", v1_model)
        v1.setattr(export, "card_fields", lambda *args: card_fields(*args)[:-1])
        v1.setattr(export, "RENDERED_SINCE", datetime(2026, 12, 1, tzinfo=UTC))
        for path in [*content_copy.rglob("*.yaml"), *content_copy.rglob("*.py")]:
            os.utime(path, (0, 0))  # every note dated December 1, as a v1 export was
        anki.import_package(export_fixture(tmp_path, content_copy, name="v1.apkg"))
    anki_notes_path().unlink()  # a v1 export was made by a studycli that kept no record
    concept = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    concept.write_text(concept.read_text("utf-8") + "explanation: Rare events.\n", "utf-8")
    later = export_fixture(tmp_path, content_copy, name="v2.apkg")

    assert len(anki.import_package(later).log.conflicting) == 4
    merging = ImportAnkiPackageOptions(merge_notetypes=True)
    log = anki.import_anki_package(
        ImportAnkiPackageRequest(package_path=str(later), options=merging)
    )

    assert len(log.log.updated) == 4 and anki.note_count() == 4
    assert notes_by_id(anki)["poisson-concept"]["Explanation"] == "Rare events."


def test_markdown_is_escaped_html_with_soft_breaks_and_code_blocks():
    text = "a <b>bold</b> & `x<1`\nnext line ‖x‖² √d\n\n```python\nif x < 1:\n    pass\n```"
    html = markdown_html(text)

    assert "<p>a &lt;b&gt;bold&lt;/b&gt; &amp; <code>x&lt;1</code>\nnext line ‖x‖² √d</p>" in html
    assert "<br" not in html
    assert '<pre><code class="language-python">if x &lt; 1:\n    pass\n</code></pre>' in html
    assert markdown_html("one paragraph") == "one paragraph"


def test_cli_errors_are_one_line_on_stderr(cli, tmp_path):
    nothing = cli(
        "--content", FIXTURE_CONTENT, "export-anki", tmp_path / "x.apkg", "--deck", "numbers",
        "--kind", "coding",
    )  # fmt: skip
    assert nothing.exit_code == 1 and "no cards match those filters" in nothing.stderr
    assert not (tmp_path / "x.apkg").exists()
    wrong = cli("--content", FIXTURE_CONTENT, "export-anki", tmp_path / "x.zip")
    assert wrong.exit_code == 1 and "must end in .apkg" in wrong.stderr
    missing = cli("--content", FIXTURE_CONTENT, "export-anki", tmp_path / "no" / "x.apkg")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    assert "Traceback" not in nothing.output + wrong.output + missing.output


def test_an_export_of_a_content_folder_with_no_card_says_so_not_to_loosen_filters(cli, tmp_path):
    """With no filter given, an empty content folder was told "no cards to export: loosen
    --deck, --topic or --kind": filters it had not given. It says what `review` says."""
    empty = tmp_path / "empty"
    (empty / "cards").mkdir(parents=True)
    (empty / "solutions").mkdir()
    result = cli("--content", empty, "export-anki", tmp_path / "x.apkg")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and f"the content in {empty} holds no cards" in said, said
    assert "loosen" not in said and not (tmp_path / "x.apkg").exists()


def test_export_does_not_import_torch_or_numpy(tmp_path):
    args = ["--content", str(FIXTURE_CONTENT), "export-anki", str(tmp_path / "x.apkg")]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert out.stdout.split() == ["0", "False", "False", "False", "False", "False"], out.stderr


CLOZE_CARD = """\
id: poisson-cloze
kind: cloze
topic: poisson
title: Poisson moments
prompt: |
  For X ~ Poisson(λ): E[X] = {{c1::λ}} and Var(X) = {{c2::λ::a parameter}}.
explanation: Both follow from the generating function exp(λ (z - 1)).
"""


def test_a_cloze_card_is_an_anki_cloze_note_with_one_card_per_deletion(
    tmp_path, anki, content_copy
):
    (content_copy / "cards" / "numbers" / "poisson-cloze.yaml").write_text(CLOZE_CARD, "utf-8")
    concept = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    concept.write_text(
        concept.read_text("utf-8") + "explanation: The sum of many rare events.\n", "utf-8"
    )
    anki.import_package(export_fixture(tmp_path, content_copy, deck="numbers"))

    notes = notes_by_id(anki)
    cloze = notes["poisson-cloze"]
    assert cloze.note_type()["name"] == "studycli cloze v1"
    assert cloze.note_type()["type"] == 1  # Anki's cloze note type
    assert "{{c1::λ}}" in cloze["Text"] and "{{c2::λ::a parameter}}" in cloze["Text"]
    assert cloze["Back Extra"] == "Both follow from the generating function exp(λ (z - 1))."
    cards = cloze.cards()
    assert len(cards) == 2  # one per deletion number, as studycli schedules them
    first, second = sorted(cards, key=lambda c: c.ord)
    assert "[...]" in first.question() and "a parameter" in second.question()
    assert "generating function" in first.answer()
    assert notes["poisson-concept"]["Explanation"] == "The sum of many rare events."
    assert "The sum of many rare events." in notes["poisson-concept"].cards()[0].answer()


def test_cli_counts_the_cards_anki_makes_of_a_cloze_card(cli, tmp_path, anki, content_copy):
    """A cloze card of two deletions is two Anki cards: the export said "3 cards" of a deck
    that Anki then showed with 4, and nothing said why."""
    (content_copy / "cards" / "numbers" / "poisson-cloze.yaml").write_text(CLOZE_CARD, "utf-8")
    out = tmp_path / "c.apkg"
    result = cli("--content", content_copy, "export-anki", out)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "  studycli::numbers: 3 cards, 4 in Anki" in lines
    assert "  studycli::basics: 2 cards" in lines  # no cloze card: as many in Anki
    said = " ".join(result.stdout.split())
    assert "exported 5 cards (6 in Anki, which makes a cloze card one card per deletion)" in said
    anki.import_package(out)
    assert anki.note_count() == 5 and anki.card_count() == 6


WRAPPED_CARD = """\
id: wrapped-concept
kind: concept
topic: poisson
title: Wrapped text
prompt: |
  A Poisson process counts events that arrive independently at a constant rate λ; this
  question is hard-wrapped in its card file, as every card is, and reads as one paragraph.
answer: |
  Both moments are λ, a code block keeps its lines:

      E[X]   = λ
      Var(X) = λ

  and so does a list:

  - the mean, E[X] = λ
  - the variance, Var(X) = λ

  A line that ends in a backslash\\
  breaks where it says.
explanation: |
  Differentiate the generating function exp(λ (z - 1)) once for the mean and twice for the
  second moment, then subtract the mean squared.
"""


def test_wrapped_text_reflows_in_anki_and_structures_keep_their_lines(tmp_path, anki, content_copy):
    """The card files are hard-wrapped at ~95 columns: in Anki a paragraph is one paragraph
    (its line breaks are soft, as the terminal shows them), while lists, code blocks and hard
    breaks keep their lines."""
    (content_copy / "cards" / "numbers" / "wrapped-concept.yaml").write_text(WRAPPED_CARD, "utf-8")
    anki.import_package(export_fixture(tmp_path, content_copy, deck="numbers"))
    note = notes_by_id(anki)["wrapped-concept"]

    assert note["Prompt"] == (
        "A Poisson process counts events that arrive independently at a constant rate λ; this\n"
        "question is hard-wrapped in its card file, as every card is, and reads as one paragraph."
    )
    assert "<br" not in note["Prompt"] + note["Explanation"]
    assert note["Explanation"].count("\n") == 1 and "<p>" not in note["Explanation"]
    assert note["Answer"] == (
        "<p>Both moments are λ, a code block keeps its lines:</p>\n"
        "<pre><code>E[X]   = λ\nVar(X) = λ\n</code></pre>\n"
        "<p>and so does a list:</p>\n"
        "<ul>\n<li>the mean, E[X] = λ</li>\n<li>the variance, Var(X) = λ</li>\n</ul>\n"
        "<p>A line that ends in a backslash<br />\nbreaks where it says.</p>"
    )
    question = note.cards()[0].question()  # as Anki renders the card
    assert "constant rate λ; this\nquestion is hard-wrapped" in question and "<br" not in question


@pytest.mark.parametrize(
    "text",
    [
        WRAPPED_CARD,
        "a paragraph\nwrapped\n\n1. one\n2. two\n   continued",
        "hard  \nbreak\n\n```\ncode\n  kept\n```",
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ *and*\n**strong**",
        "PA   = Σ_i p_ii / Σ_i Σ_j p_ij\nMPA  = 1/(k+1) · Σ_i p_ii / Σ_j p_ij",
    ],
)
def test_anki_parses_card_text_as_the_terminal_does(text):
    """The same blocks and breaks as `studycli show` (Rich's Markdown): a line the terminal
    reflows is reflowed in Anki too, and one it keeps is kept."""
    from rich.markdown import Markdown

    from studycli.export.anki import _MARKDOWN

    def structure(tokens) -> list[str]:
        return [
            kind
            for token in tokens
            for kind in (token.type, *(c.type for c in token.children or ()))
        ]

    assert structure(_MARKDOWN.parse(text)) == structure(Markdown(text).parsed)


def test_a_renamed_card_updates_its_note_instead_of_adding_one(tmp_path, anki, content_copy):
    """A card renamed with `renamed_from` keeps the GUID of its first id: Anki updates the
    note (its reviews in Anki kept) rather than adding a second one beside it."""
    anki.import_package(export_fixture(tmp_path, content_copy, name="first.apkg"))
    note_id = notes_by_id(anki)["bias-concept"].id
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    moved = path.with_name("neuron-bias.yaml")
    path.rename(moved)
    edit(moved, "id: bias-concept\n", "id: neuron-bias\nrenamed_from: [bias-concept]\n")
    exported = datetime.fromtimestamp(notes_by_id(anki)["bias-concept"].mod + 60, UTC)

    log = anki.import_package(export_fixture(tmp_path, content_copy, now=exported, name="2.apkg"))

    assert anki.note_count() == 4 and not log.log.new
    notes = notes_by_id(anki)
    assert "bias-concept" not in notes and notes["neuron-bias"].id == note_id
    assert [entry.fields[0] for entry in log.log.updated] == ["neuron-bias"]
