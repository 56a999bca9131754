"""The FSRS parameters the cards' memory states stand on are recorded with them, and each
command that schedules compares them with settings.toml's: a hand edit (or an `optimize
--write` stopped between its commit and the file) is told at once, in one line, where only
`doctor`'s full replay found it. A rating made since does not hide it."""

from __future__ import annotations

import json
import os
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from studycli.study import migrations
from studycli.study import rating as core
from studycli.study import scheduler as sched
from studycli.study.api import Study
from studycli.study.review_io import import_reviews
from studycli.study.settings import load_settings
from studycli.study.settings_save import save_parameters
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT
from .study_support import NO_FUZZ, NOW, fixture_content, schema_of
from .test_study_recompute import NEW, SAMPLE

STALE = "memory states were computed with other FSRS parameters"


def _said(result) -> str:
    return " ".join(result.stderr.split())


def test_a_hand_edit_is_told_by_the_commands_that_schedule_until_recomputed(cli, isolated_home):
    settings_file = isolated_home / "config" / "settings.toml"
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))  # the defaults'

    save_parameters(settings_file, NEW.parameters)  # by hand
    due = cli("--content", FIXTURE_CONTENT, "due", "--json")
    assert due.exit_code == 0 and json.loads(due.stdout)  # (the note on stderr alone)
    said = _said(due)
    assert f"{STALE} than those in {settings_file}" in said, said
    assert "`studycli optimize --recompute` brings them in line" in said
    assert said.count(STALE) == 1

    # a rating made with the new parameters since (the latest review's are the file's): the
    # other cards' states are still the old parameters'
    with Store.open(isolated_home / "data" / "reviews.sqlite3") as store:
        card = fixture_content().get("add-one")
        core.rate(store, card, 3, datetime.now(UTC), load_settings(settings_file))
    assert STALE in _said(cli("--content", FIXTURE_CONTENT, "due"))

    assert cli("--content", FIXTURE_CONTENT, "optimize", "--recompute").exit_code == 0
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))
    settings_file.write_text("")  # back to the defaults, by hand
    assert STALE in _said(cli("--content", FIXTURE_CONTENT, "due"))


def test_parameters_set_before_the_first_review_are_in_line(cli, isolated_home):
    """A new log has no record until it is first opened to study: then the settings'
    parameters are recorded, which its reviews are made with (not taken for the defaults)."""
    save_parameters(isolated_home / "config" / "settings.toml", NEW.parameters)
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))  # (no database yet)
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))
    with Store.open(isolated_home / "data" / "reviews.sqlite3") as store:
        assert Study(store, NEW).stale_memory_states() == 0


@pytest.mark.parametrize("left", ["an undone rating", "cram ratings"])
def test_parameters_set_after_ratings_that_made_no_state_are_in_line(
    cli, isolated_home, tmp_path, left
):
    """A log whose ratings were all undone, or all cram (neither makes a memory state), made
    with the defaults: parameters set by hand then stand on no state, and the first command
    that writes records them. They were taken for a hand edit over states of the defaults
    (the log held a review), and every scheduling command said so, after ratings made with
    them too, until `optimize --recompute`."""
    content = fixture_content()
    with Store.open(isolated_home / "data" / "reviews.sqlite3") as store:
        for card_id in ("add-one", "bias-concept"):
            card = content.get(card_id)
            if left == "cram ratings":
                core.cram(store, card, 3, NOW, NO_FUZZ)
            else:
                core.undo(store, core.rate(store, card, 3, NOW, NO_FUZZ).id, NOW)
        assert store.not_new() == set()  # (no memory state)
    save_parameters(isolated_home / "config" / "settings.toml", NEW.parameters)
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))
    log = tmp_path / "log.csv"
    log.write_text(f"card_id,review_rating,review_time\nadd-one,3,{NOW + timedelta(hours=1)}\n")
    imported = cli("--content", FIXTURE_CONTENT, "import-reviews", log)
    assert imported.exit_code == 0 and STALE not in _said(imported), imported.output
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))


def test_the_latest_record_is_read_by_its_key(tmp_path):
    """What every scheduling command pays: the latest record, by its key."""
    with Store.open(tmp_path / "r.sqlite3") as store:
        for day in range(3):
            Study(store, NEW if day % 2 else NO_FUZZ).recompute_memory(NOW + timedelta(day))
        plan = store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT made_at, parameters, saving, replaced"
            " FROM memory_parameters ORDER BY id DESC LIMIT 1"
        ).fetchall()
        assert "SCAN memory_parameters" in plan[0][3] and "TEMP B-TREE" not in str(plan)
        found = store.memory_parameters()
        assert found is not None and found.parameters is None  # (the defaults: the third)


@pytest.mark.parametrize(
    "used, recomputed, recorded",
    [
        ([NO_FUZZ], None, None),
        ([NEW], None, NEW.parameters),
        ([NO_FUZZ, NEW], None, ()),  # several: in line with none
        ([NO_FUZZ], NEW, NEW.parameters),
        ([NO_FUZZ, NEW], NO_FUZZ, None),  # the latest recompute's, whatever came before
    ],
    ids=["defaults", "own", "several", "recomputed", "recomputed-defaults"],
)
def test_an_upgraded_log_records_what_its_states_stand_on(
    tmp_path, monkeypatch, used, recomputed, recorded
):
    path = tmp_path / "r.sqlite3"
    content = fixture_content()
    with monkeypatch.context() as patch:
        schema_of(patch, migrations.MIGRATIONS[:10])  # the release before the record
        with Store.open(path) as store:
            for day, settings in enumerate(used):
                core.rate(store, content.get("add-one"), 3, NOW + timedelta(day), settings)
            if recomputed is not None:
                scheduler = sched.make_scheduler(recomputed)
                store.record_recompute(NOW + timedelta(days=5), scheduler.to_json())
    with Store.open(path) as store:  # upgraded
        assert store.notes and "0011_memory_parameters" in store.notes[0]
        found = store.memory_parameters()
        assert found is not None and found.parameters == recorded
        assert not found.saving


@pytest.mark.parametrize(
    "other, recorded",
    [
        ("cram", None),  # the defaults' states, crammed with NEW's parameters
        ("undone", None),  # ... rated with NEW's, and undone
        ("imported nothing", None),  # an import of reviews the log had, under NEW's
        ("cram alone", "no record"),  # no state at all: it stands on nothing
    ],
)
def test_an_upgraded_log_leaves_out_parameters_that_made_no_state(
    tmp_path, monkeypatch, other, recorded
):
    """Reviews that make no memory state (cram, undone; an import that added nothing makes
    a scheduler row and no review) were counted as made with parameters of their own: a log
    upgraded with states of one set of parameters was recorded as standing on several, and
    each scheduling command told a learner to run `optimize --recompute`, which changed no
    state. A log with no state at all stands on nothing, as a new one does (the first
    command that writes records the settings' parameters)."""
    path = tmp_path / "r.sqlite3"
    content = fixture_content()
    card = content.get("add-one")
    with monkeypatch.context() as patch:
        schema_of(patch, migrations.MIGRATIONS[:10])  # the release before the record
        with Store.open(path) as store:
            if other != "cram alone":
                core.rate(store, card, 3, NOW, NO_FUZZ)
            if other in ("cram", "cram alone"):
                core.cram(store, content.get("bias-concept"), 3, NOW + timedelta(1), NEW)
            elif other == "undone":
                core.undo(
                    store, core.rate(store, card, 3, NOW + timedelta(1), NEW).id, NOW + timedelta(1)
                )
            else:
                log = tmp_path / "log.csv"
                log.write_text(f"card_id,review_rating,review_time\nadd-one,3,{NOW}\n")
                assert import_reviews(store, log, NEW, {}).added == 0
            assert len(store.schedulers()) == (1 if other == "cram alone" else 2)
    with Store.open(path) as store:  # upgraded
        assert store.notes and "0011_memory_parameters" in store.notes[0]
        found = store.memory_parameters()
        if recorded == "no record":
            assert found is None
        else:
            assert found is not None and found.parameters == recorded


def test_a_settings_file_that_cannot_take_the_new_parameters_after_the_recompute_says_so(
    cli, isolated_home, monkeypatch
):
    """The rename that puts settings.toml in place fails once the states are committed: the
    error says what was done and what to run, and so does the next command."""
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    real = os.replace

    def refused(source, target, *args, **kwargs):
        if str(target).endswith("settings.toml"):
            raise PermissionError(13, "Permission denied", str(target))
        return real(source, target, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", refused)
        result = cli("optimize", "--write", "--json")
    settings_file = isolated_home / "config" / "settings.toml"
    said = _said(result)
    assert result.exit_code == 1
    assert "memory states were recomputed with the new parameters, but they could not be" in said
    assert "run `studycli optimize --write` again" in said and "--recompute" in said
    shown = json.loads(result.stdout)
    assert shown["written"] is None and shown["recomputed"] > 1000
    assert not settings_file.exists()
    said = _said(cli("--content", FIXTURE_CONTENT, "due"))
    assert f"which never reached {settings_file}" in said, said
    assert cli("optimize", "--write").exit_code == 0  # finished
    assert "memory states" not in _said(cli("--content", FIXTURE_CONTENT, "due"))


def test_settings_edited_during_the_recompute_of_a_write_keep_the_edit(
    cli, isolated_home, monkeypatch
):
    """`optimize --write` made settings.toml's new text before recomputing every card's
    memory state (minutes on a large log) and put it in place after: a setting the learner
    changed in an editor meanwhile was silently put back. The text is made again from the
    file as it is once the states are committed: the edit, its comment and the new
    parameters are all there."""
    settings_file = isolated_home / "config" / "settings.toml"
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text("# mine\nnew_per_day = 20\n", encoding="utf-8")
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    recompute = Study.recompute_memory

    def edited_meanwhile(self, now, **kwargs):
        changed = recompute(self, now, **kwargs)
        settings_file.write_text("# mine\nnew_per_day = 5  # fewer\n", encoding="utf-8")
        return changed

    monkeypatch.setattr(Study, "recompute_memory", edited_meanwhile)
    result = cli("optimize", "--write", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["written"] == str(settings_file) and shown["recomputed"] > 1000
    text = settings_file.read_text(encoding="utf-8")
    assert text.startswith("# mine\nnew_per_day = 5  # fewer\n"), text
    settings = load_settings(settings_file)
    assert settings.new_per_day == 5 and settings.parameters == tuple(shown["parameters"])
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))


@pytest.mark.parametrize("as_json", [False, True])
def test_settings_broken_during_the_recompute_of_a_write_are_left_as_they_are(
    cli, isolated_home, monkeypatch, as_json
):
    """A settings file that no longer reads once the states are committed (the learner's
    edit half done) is not overwritten: the error names it and what is wrong, says the
    states were recomputed, and ends with the line to paste; no traceback."""
    settings_file = isolated_home / "config" / "settings.toml"
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    recompute = Study.recompute_memory

    def broken_meanwhile(self, now, **kwargs):
        changed = recompute(self, now, **kwargs)
        settings_file.write_text("new_per_day = \n", encoding="utf-8")
        return changed

    with monkeypatch.context() as patch:
        patch.setattr(Study, "recompute_memory", broken_meanwhile)
        result = cli("optimize", "--write", *(["--json"] if as_json else []))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert settings_file.read_text(encoding="utf-8") == "new_per_day = \n"
    assert not list(settings_file.parent.glob(".settings.toml.*"))  # (nor a copy beside it)
    said = _said(result)
    assert "Traceback" not in result.output
    assert "memory states were recomputed with the new parameters" in said, said
    assert "the settings file was changed while they were" in said
    assert f"left as you made it, without them: {settings_file} is not valid TOML" in said
    pasted = said.rsplit("): ", 1)[1]
    assert pasted.startswith("parameters = [")
    if as_json:
        shown = json.loads(result.stdout)
        assert shown["written"] is None and shown["recomputed"] > 1000
        assert tomllib.loads(pasted)["parameters"] == shown["parameters"]
    said = _said(cli("--content", FIXTURE_CONTENT, "due"))
    assert "is not valid TOML" in said  # (the file, as the learner left it)
    settings_file.write_text("new_per_day = 5\n", encoding="utf-8")  # fixed, not pasted
    assert f"which never reached {settings_file}" in _said(cli("--content", FIXTURE_CONTENT, "due"))
    settings_file.write_text(f"new_per_day = 5\n{pasted}\n", encoding="utf-8")
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))
    assert "never reached" not in _said(cli("--content", FIXTURE_CONTENT, "due"))


def test_parameters_put_back_by_hand_after_a_write_are_a_hand_edit(cli, isolated_home):
    """`optimize --write` saved, then the learner put the parameters it replaced back by hand
    (the line deleted, a backup of settings.toml restored): the note is the hand edit's. The
    record of the --write (saving, the parameters it replaced) was the latest, and the note
    said the --write had been stopped before settings.toml took them, which it had not."""
    assert cli("--content", FIXTURE_CONTENT, "import-reviews", SAMPLE).exit_code == 0
    written = cli("optimize", "--write")
    assert written.exit_code == 0, written.output
    settings_file = isolated_home / "config" / "settings.toml"
    assert load_settings(settings_file).parameters is not None
    assert STALE not in _said(cli("--content", FIXTURE_CONTENT, "due"))
    settings_file.write_text("")  # back to the defaults, by hand
    said = _said(cli("--content", FIXTURE_CONTENT, "due"))
    assert f"{STALE} than those in {settings_file}" in said, said
    assert "never reached" not in said
