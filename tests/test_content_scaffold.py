"""`studycli new`: a card to fill in that lint accepts, check reports as not done, and that
never overwrites anything."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import studycli
from studycli.content.fields import Kind
from studycli.content.loader import Content, load_content
from studycli.content.scaffold import NewCard, not_done, write_card
from studycli.content.schema import MODELINE, card_schema, schema_text
from studycli.errors import ContentError

from .conftest import edit


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_new_card_of_each_kind_lints_clean_and_is_not_done(cli, content_copy, kind):
    card_id = f"fresh-{kind}"
    result = cli("--content", content_copy, "new", kind, card_id, "--topic", "bias")
    assert result.exit_code == 0, result.output
    card_file = content_copy / "cards" / "basics" / f"{card_id}.yaml"
    assert f"wrote {card_file.resolve()}" in result.stdout  # (not under the current folder)
    text = card_file.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    jsonschema.validate(yaml.safe_load(text), card_schema())
    assert (content_copy / "cards" / "schema.json").read_text() == schema_text()

    linted = cli("--content", content_copy, "lint")
    assert linted.exit_code == 0, linted.output

    checked = cli("--content", content_copy, "check", card_id, "--json")
    assert checked.exit_code == 1
    [verdict] = json.loads(checked.stdout)
    assert verdict["status"] == "not done"
    assert verdict["message"].startswith("not done yet: ")
    assert "still begin with TODO" in verdict["message"]  # several texts: "begin"


def test_new_coding_card_has_a_solution_module_to_fill_in(cli, content_copy):
    result = cli("--content", content_copy, "new", "coding", "rms-norm", "--topic", "bias")
    assert result.exit_code == 0, result.output
    module = content_copy / "solutions" / "rms_norm.py"
    assert f"wrote {module.resolve()}" in result.stdout
    source = module.read_text(encoding="utf-8")
    compile(source, str(module), "exec")
    assert "def rms_norm(x):" in source and 'def check_rms_norm(impl, device="cpu"):' in source
    assert source.count("@fails_with(") == 2
    assert 'WRONG_ANSWERS = {"rms_norm": [_wrong_first, _wrong_second]}' in source
    card = yaml.safe_load((content_copy / "cards" / "basics" / "rms-norm.yaml").read_text())
    assert card["solution"] == "rms_norm:rms_norm"

    checked = cli("--content", content_copy, "check", "rms-norm")
    assert checked.exit_code == 1
    assert "not done" in checked.stdout and "(1 not done yet)" in checked.stdout
    [verdict] = json.loads(cli("--content", content_copy, "check", "rms-norm", "--json").stdout)
    assert verdict["message"].startswith(
        "not done yet: the reference raises NotImplementedError; "
        "the checker raises NotImplementedError; "
        "wrong answer(s) _wrong_first, _wrong_second raise NotImplementedError; "
        "the @fails_with of _wrong_first, _wrong_second still begins with TODO"
    )
    # the starter a learner would get states the contract, from the reference's docstring
    shown = cli("--content", content_copy, "show", "rms-norm")
    assert shown.exit_code == 0 and "def rms_norm(x):" in shown.stdout


def test_new_never_overwrites(cli, content_copy):
    card = content_copy / "cards" / "basics" / "add-one.yaml"
    before = card.read_text()
    again = cli("--content", content_copy, "new", "concept", "add-one", "--topic", "bias")
    assert again.exit_code == 1
    assert "a card with id 'add-one' exists already" in again.stderr
    assert card.read_text() == before
    # an id whose module exists already
    (content_copy / "solutions" / "taken.py").write_text("X = 1\n")
    taken = cli("--content", content_copy, "new", "coding", "taken", "--topic", "bias")
    assert taken.exit_code == 1 and "solutions/taken.py exists already" in taken.stderr
    # (how a card joins a module: said, where it was nowhere)
    assert "copy a card that names it (`solution: taken:<function>`)" in " ".join(
        taken.stderr.split()
    )
    assert not (content_copy / "cards" / "basics" / "taken.yaml").exists()
    # a file that appeared between the check and the write is not replaced either
    content = load_content(content_copy)
    request = NewCard(Kind.CONCEPT, "late", "bias", "basics")
    (content_copy / "cards" / "basics" / "late.yaml").write_text("mine\n")
    with pytest.raises(FileExistsError):
        write_card(content, request)
    assert (content_copy / "cards" / "basics" / "late.yaml").read_text() == "mine\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["concept", "Bad_Id", "--topic", "bias"], "must be kebab-case"),
        (["concept", "Bad_ID", "--topic", "bias"], "never changes): did you mean 'bad-id'?"),
        (["coding", "2d-thing", "--topic", "bias"], "'2d_thing' is not a Python name"),
        # (it said "not a Python name; pick an id that starts with a letter")
        (["coding", "class", "--topic", "bias"], "'class' is a Python keyword"),
        (["concept", "fine-id", "--topic", "biass"], "unknown topic 'biass': did you mean bias"),
        # (a new topic's author was told of a near slug alone, or of topics.yaml alone)
        (
            ["concept", "fine-id", "--topic", "brand-new"],
            "`studycli topics` lists them; a subject no topic covers adds one to "
            "studycli/content/topics.yaml",
        ),
        (["concept", "fine-id", "--topic", "bias", "--deck", "Bad Deck"], "must be kebab-case"),
        (["essay", "fine-id", "--topic", "bias"], "Invalid value"),
        # a file name over the system's 255 bytes ended in an OSError traceback
        (["concept", "x" * 300, "--topic", "bias"], "is 300 characters long, over the 60"),
        (["concept", "a-" * 30 + "b", "--topic", "bias"], "is 61 characters long, over the 60"),
    ],
    ids=[
        "id",
        "id-offered",
        "module",
        "keyword",
        "topic",
        "new-topic",
        "deck",
        "kind",
        "id-300",
        "id-61",
    ],
)
def test_new_refuses_bad_requests(cli, content_copy, args, message):
    result = cli("--content", content_copy, "new", *args)
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert sorted(p.stem for p in (content_copy / "cards").rglob("*.yaml")) == sorted(
        ["add-one", "bias-concept", "poisson-concept", "triangle-derivation"]
    )


@pytest.mark.parametrize(
    "given, offered",
    [("Bad_ID", "bad-id"), ("gelu erf", "gelu-erf"), ("flashAttention", "flash-attention"),
     ("Softmax--2D", "softmax-2d"), ("Café", "cafe")],
)  # fmt: skip
def test_an_id_refused_is_offered_as_the_id_new_takes(cli, content_copy, given, offered):
    """`new concept Bad_ID` said what an id must be, and left the learner to spell one: the id
    offered is one it takes."""
    refused = cli("--content", content_copy, "new", "concept", given, "--topic", "bias")
    assert refused.exit_code == 1 and f"did you mean {offered!r}?" in refused.output
    taken = cli("--content", content_copy, "new", "concept", offered, "--topic", "bias")
    assert taken.exit_code == 0, taken.output


@given(st.text(max_size=80))
def test_what_is_offered_for_any_text_is_an_id(text):
    from studycli.content.fields import ID_PATTERN, MAX_ID_LENGTH
    from studycli.content.scaffold import kebab_cased

    offered = kebab_cased(text)
    assert offered is None or (ID_PATTERN.match(offered) and len(offered) <= MAX_ID_LENGTH)


def test_the_deck_defaults_to_the_topics_deck(cli, content_copy):
    assert (
        cli("--content", content_copy, "new", "concept", "x-one", "--topic", "poisson").exit_code
        == 0
    )
    assert (content_copy / "cards" / "numbers" / "x-one.yaml").is_file()
    # a topic without cards needs --deck, and the message lists the decks
    none = cli("--content", content_copy, "new", "concept", "x-two", "--topic", "xgboost")
    assert none.exit_code == 1
    assert "no card has topic 'xgboost' yet" in none.stderr and "basics, numbers" in none.stderr
    (content_copy / "cards" / "trees").mkdir()  # a new deck: its folder first
    given = cli(
        "--content",
        content_copy,
        "new",
        "concept",
        "x-two",
        "--topic",
        "xgboost",
        "--deck",
        "trees",
    )
    assert given.exit_code == 0 and (content_copy / "cards" / "trees" / "x-two.yaml").is_file()
    # a topic whose cards are in two decks needs --deck too
    cli(
        "--content",
        content_copy,
        "new",
        "concept",
        "x-three",
        "--topic",
        "bias",
        "--deck",
        "numbers",
    )
    both = cli("--content", content_copy, "new", "concept", "x-four", "--topic", "bias")
    assert both.exit_code == 1 and "several decks (basics, numbers): pass --deck" in both.stderr


def test_a_deck_that_is_no_folder_yet_is_refused_until_its_folder_is_made(
    cli, content_copy, monkeypatch
):
    """`--deck basic` (a typo of basics) made cards/basic/ and wrote the card there, a deck of
    one that lint could not tell from a new deck on purpose."""
    monkeypatch.chdir(content_copy)
    args = ("new", "coding", "x-one", "--topic", "poisson", "--deck")
    typo = cli("--content", content_copy, *args, "basic")
    assert typo.exit_code == 1
    assert " ".join(typo.stderr.split()) == (
        "error: no deck 'basic': there is no folder cards/basic/; did you mean --deck basics? "
        "(the decks: basics, numbers). To start a new deck, make its folder first "
        "(mkdir -p cards/basic) and run this again"
    )
    assert not (content_copy / "cards" / "basic").exists()
    assert not (content_copy / "solutions" / "x_one.py").exists()
    unlike = cli("--content", content_copy, *args, "trees")
    assert unlike.exit_code == 1 and "no deck 'trees'" in unlike.stderr
    assert "did you mean" not in unlike.stderr
    (content_copy / "cards" / "trees").mkdir()
    made = cli("--content", content_copy, *args, "trees")
    assert made.exit_code == 0, made.output
    assert "wrote cards/trees/x-one.yaml" in made.stdout


def test_new_names_its_files_from_where_it_ran(cli, content_copy, monkeypatch):
    """`new` named its files from the content folder's top: run in cards/basics of a clone
    (the content found above), or given --content, it said "wrote cards/basics/x-one.yaml",
    which names no file from there. Each is named from the current folder where it lies in
    it, else absolute: a path the learner can open where they stand."""
    monkeypatch.chdir(content_copy / "cards" / "basics")
    made = cli("new", "coding", "x-one", "--topic", "bias")
    assert made.exit_code == 0, made.output
    wrote = [line.removeprefix("wrote ") for line in made.stdout.splitlines()[:2]]
    assert wrote == ["x-one.yaml", str((content_copy / "solutions" / "x_one.py").resolve())]
    assert all(Path(path).is_file() for path in wrote)


def test_new_given_content_names_it_in_the_commands_it_says_to_run(cli, content_copy, monkeypatch):
    """`new --content DIR` said "`studycli lint` and `studycli check x-one`": run where the
    learner stood, they read the content found from there (here, the installed one), and
    check said "no card with id 'x-one'". Each names the content folder, absolute; the
    check it says finds the card (not done yet)."""
    monkeypatch.chdir(content_copy.parent)
    made = cli("--content", content_copy.name, "new", "coding", "x-one", "--topic", "bias")
    assert made.exit_code == 0, made.output
    said = re.findall(r"`([^`]*)`", " ".join(made.stdout.split()))
    named = ["studycli", "--content", str(content_copy.resolve())]
    assert [shlex.split(command) for command in said] == [
        [*named, "lint"],
        [*named, "check", "x-one"],
    ]
    checked = cli(*shlex.split(said[1])[1:], "--json")
    assert [card["status"] for card in json.loads(checked.stdout)] == ["not done"], checked.output


def test_an_existing_schema_file_is_kept(cli, content_copy):
    schema = content_copy / "cards" / "schema.json"
    schema.write_text("{}\n")
    assert (
        cli("--content", content_copy, "new", "concept", "x-one", "--topic", "bias").exit_code == 0
    )
    assert schema.read_text() == "{}\n"


def test_new_refuses_to_write_into_the_installed_content():
    installed = Path(studycli.__file__).resolve().parent / "_content"
    before = sorted(installed.rglob("*"))
    with pytest.raises(ContentError, match="run `studycli new` in a clone"):
        write_card(Content(root=installed), NewCard(Kind.CONCEPT, "x-one", "bias", "basics"))
    assert sorted(installed.rglob("*")) == before


def test_a_finished_card_is_done(content_copy):
    content = load_content(content_copy)
    assert all(not_done(card, content.solutions_dir) == [] for card in content.cards.values())


@pytest.mark.parametrize(
    "old, new, named",
    [
        ('"""Return x + 1.', '"""TODO: the contract.', "add_one (the learner's starter)"),
        ('"""Adds two instead', '"""TODO: the mistake. Adds two instead', "_wrong_add_two"),
        ('"""A tiny pure-Python', '"""TODO: what it computes. A tiny', "the module"),
    ],
)
def test_a_docstring_still_marked_todo_is_not_done(content_copy, old, new, named):
    """The scaffold's docstrings begin with TODO too, and the reference's is the starter a
    learner is shown: a card whose texts and code were written but whose reference still had
    "TODO: the contract: ..." as its docstring passed `check` (and CI) and was studied so."""
    edit(content_copy / "solutions" / "arith.py", old, new)
    content = load_content(content_copy)
    reasons = not_done(content.cards["add-one"], content.solutions_dir)
    assert reasons == [f"the docstring of {named} still begins with TODO"]


def test_a_card_whose_code_is_written_but_texts_are_not_is_run_and_still_not_done(
    cli, content_copy
):
    """An author who writes the code first heard nothing of it while a text still began with
    TODO: `check` said "not done yet" and ran nothing (a QA pass of the author's path). Its
    checks run now, and it stays not done (exit 1) whatever they say, saying how they went."""
    edit(content_copy / "cards" / "basics" / "add-one.yaml", "title: Add one", 'title: "TODO: one"')
    checked = cli("--content", content_copy, "check", "add-one", "--json")
    [verdict] = json.loads(checked.stdout)
    assert checked.exit_code == 1 and verdict["status"] == "not done", verdict
    assert verdict["message"] == "not done yet: title still begins with TODO (its checks pass)"
    edit(content_copy / "solutions" / "arith.py", "return x + 1", "return x + 2")
    [verdict] = json.loads(cli("--content", content_copy, "check", "add-one", "--json").stdout)
    assert verdict["status"] == "not done"
    assert "(its checks: the reference should pass" in verdict["message"], verdict
