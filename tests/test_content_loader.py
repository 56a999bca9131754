"""The card loader: every kind of broken card gets its own clear message, naming the file."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studycli.content.card import FIELDS, Kind, parse_card
from studycli.content.card_yaml import MAX_CARD_BYTES
from studycli.content.lint import lint
from studycli.content.loader import load_content
from studycli.errors import CardNotFound, ContentError

from .conftest import FIXTURE_CONTENT, edit, write_card

GOOD = """\
id: {id}
kind: concept
topic: bias
title: A title
prompt: A question?
answer: An answer.
"""


def problems_for(tmp_path, text: str, name: str = "the-card", deck: str = "deck"):
    (tmp_path / "cards").mkdir(exist_ok=True)
    write_card(tmp_path, deck, name, text)
    return [p.message for p in load_content(tmp_path).problems]


def test_fixture_deck_loads_without_problems():
    content = load_content(FIXTURE_CONTENT)
    assert content.problems == []
    assert set(content.cards) == {
        "add-one",
        "bias-concept",
        "triangle-derivation",
        "poisson-concept",
    }
    card = content.get("triangle-derivation")
    assert card.kind is Kind.DERIVATION and card.deck == "numbers"
    assert len(card.steps) == 3 and card.requires == ("add-one",)
    assert str(card.solution) == "arith:triangle"


def test_unicode_text_survives(tmp_path):
    text = GOOD.format(id="cjk") + "tags: [注意力]\n"
    text = text.replace("A question?", "'softmax 的数值稳定性：减去最大值 m，‖x‖²'")
    assert problems_for(tmp_path, text, "cjk") == []
    card = load_content(tmp_path).get("cjk")
    assert card.prompt == "softmax 的数值稳定性：减去最大值 m，‖x‖²" and card.tags == ("注意力",)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda t: t + "tittle: typo\n", "unknown field 'tittle': did you mean 'title'?"),
        (lambda t: t.replace("title: A title\n", ""), "missing required field 'title'"),
        (lambda t: t.replace("kind: concept", "kind: essay"), "kind 'essay' must be one of"),
        (lambda t: t.replace("answer: An answer.\n", ""), "a concept card needs an 'answer'"),
        (lambda t: t + "tags: just-a-string\n", "field 'tags' must be a list"),
        # a list written as text with entries under it, which YAML folds into the text: the
        # message named the field and not how to write the list
        (
            lambda t: t + "hints: A hint\n  - another\n",
            "field 'hints' must be a list of non-empty strings: it is text ('A hint - another'); "
            "put `hints:` alone on its line and each entry on a `- ` line under it",
        ),
        # `- Step 1: ...` is a mapping to YAML and `-` alone an empty entry: the message said
        # the field must be a list of texts, which to the author it was
        (
            lambda t: t + "hints:\n  - A hint.\n  - First: the rate.\n",
            "entry 2 is read as a mapping ({'First': 'the rate.'}): a `: ` in it makes a key",
        ),
        (
            lambda t: t + "tags:\n  - a\n  -\n",
            "field 'tags' must be a list of non-empty strings: entry 2 is empty",
        ),
        (lambda t: t + "solution: mod:fn\n", "a concept card has no 'solution'"),
        (lambda t: t + "format_version: 2\n", "format_version 2 is newer than this studycli reads"),
        (
            lambda t: t.replace("prompt: A question?", "prompt: [1, 2]"),
            "field 'prompt' must be a string",
        ),
        # a format_version of the wrong type said "upgrade studycli" and hid every other
        # problem of the card (here the title's)
        (
            lambda t: t.replace("title: A title", "title: 42") + 'format_version: "1"\n',
            "format_version '1' must be a whole number such as 1",
        ),
        (
            lambda t: t.replace("title: A title", "title: 42") + 'format_version: "1"\n',
            "field 'title' must be a string",
        ),
        (lambda t: t + "format_version: 0\n", "format_version 0 is not a version of the card"),
        (lambda t: t.replace("title: A title", "title: '  '"), "field 'title' is empty"),
        (lambda t: t + "answer: Another.\n", "duplicate key 'answer' (first on line"),
        (
            lambda t: t.replace("prompt: A question?", "prompt: |\n\tA question?"),
            "indent with spaces, not tabs",
        ),
        # a tab that starts a line (a list entry or a field) got libyaml's "found character
        # that cannot start any token" with the advice to quote the text
        (lambda t: t + "tags:\n\t- polya\n", "a tab character where a field or list entry"),
        (lambda t: t + "\ttags: [polya]\n", "indent with spaces, not tabs"),
        (lambda t: t + "---\nid: two\n", "one card per file, without `---` lines"),
    ],
)
def test_each_schema_problem_has_its_own_message(tmp_path, edit, expected):
    messages = problems_for(tmp_path, edit(GOOD.format(id="the-card")))
    assert any(expected in m for m in messages), messages


def test_an_answer_read_as_a_mapping_is_one_problem(tmp_path):
    """`answer:` with its text on the next line, a `: ` in it, is a mapping to YAML: lint said
    "field 'answer' must be a string (use `answer: |` ...)" and then "a concept card needs an
    'answer'", the same problem twice. Said once; an answer left out is still said."""
    text = GOOD.format(id="the-card").replace(
        "answer: An answer.", "answer:\n  It shifts the boundary: off the origin."
    )
    assert problems_for(tmp_path, text) == [
        "field 'answer' must be a string (use `answer: |` for multi-line text)"
    ]
    empty = GOOD.format(id="the-card").replace("answer: An answer.", "answer: ''")
    assert problems_for(tmp_path, empty) == ["a concept card needs an 'answer'"]


def test_a_value_repeated_by_an_alias_is_refused_at_its_anchor(tmp_path):
    """A card has no use for YAML's aliases, and a 64 KB card whose hints were 5,000 aliases
    (`*e`) of a long anchored answer (`&e`) loaded as hundreds of megabytes of hint text for
    lint to scan and the content index to store (a hostile author's pull request)."""
    answer = "x " * 20_000  # 40 KB, anchored once, then repeated by 5,000 aliases
    text = GOOD.format(id="the-card").replace(
        "answer: An answer.", f"answer: &e {answer.strip()}\nhints: [{', '.join(['*e'] * 5000)}]"
    )
    assert len(text.encode()) < MAX_CARD_BYTES
    messages = problems_for(tmp_path, text)
    assert messages == [
        "YAML syntax error: a value anchored here (&name) is repeated by an alias (*name): a "
        "card has no use for one; write the value out where it is needed"
    ], messages
    nested = GOOD.format(id="the-card") + "tags: &t [a, b]\nrequires: *t\n"
    assert any("repeated by an alias" in m for m in problems_for(tmp_path, nested))


def test_id_must_equal_the_file_name(tmp_path):
    messages = problems_for(tmp_path, GOOD.format(id="other-name"))
    assert any("rename the file to other-name.yaml" in m for m in messages)


def test_id_must_be_kebab_case(tmp_path):
    messages = problems_for(tmp_path, GOOD.format(id="Bad_Id"), name="Bad_Id")
    assert any("must be kebab-case" in m for m in messages)


def test_yaml_syntax_error_names_the_line(tmp_path):
    text = GOOD.format(id="broken") + "hints:\n  - ok\n - misindented: [\n"
    (tmp_path / "cards").mkdir()
    path = write_card(tmp_path, "deck", "broken", text)
    [problem] = load_content(tmp_path).problems
    assert problem.path == path and problem.line is not None and problem.line >= 7
    assert problem.message.startswith("YAML syntax error")


def test_an_indented_field_is_said_to_be_indented_not_to_need_quotes(tmp_path):
    """`  topic: bias` under `kind: concept`: libyaml marks the colon, and the message told the
    author to quote the text (a QA pass); a plain text's line with a colon in it still is."""
    [message] = problems_for(tmp_path, GOOD.format(id="the-card").replace("topic:", "  topic:"))
    assert message.startswith("YAML syntax error: mapping values are not allowed")
    assert "this line is indented wrongly" in message and "quote" not in message
    text = GOOD.format(id="the-card").replace("prompt: A question?", "prompt: A\n  note: b?")
    [message] = problems_for(tmp_path, text)
    assert "quote it" in message and "indented wrongly" not in message


@pytest.mark.parametrize("quote", ['"', "'"])
def test_an_unclosed_quote_is_named_at_its_line(tmp_path, quote):
    """PyYAML meets the end of the file first: the error named the file's last line, and told
    the author to add quotes."""
    text = GOOD.format(id="quoted").replace("title: ", f"title: {quote}", 1)
    (tmp_path / "cards").mkdir()
    write_card(tmp_path, "deck", "quoted", text)
    [problem] = load_content(tmp_path).problems
    title_line = text.splitlines().index(next(l for l in text.splitlines() if "title:" in l)) + 1
    assert problem.line == title_line
    assert problem.message.startswith(
        "YAML syntax error: a quote opened here is not closed: close it"
    )


@pytest.mark.parametrize(
    "opened, rest, fix",
    [
        ("tags: [a, b", "\n", "close the list with `]` on this line"),
        ("tags: [a, b", "", "close the list with `]` on this line"),
        ("tags: [a, b", "\nprompt: Another?\n", "close the list with `]` on this line"),
        ("requires: {x", "\n", "a text that begins with `{` is quoted"),
    ],
)
def test_an_unclosed_bracket_is_named_at_its_line(tmp_path, opened, rest, fix):
    """libyaml finds out on a later line (the next field, or past the end of the file): the
    error named that line, and told the author to quote it or that it was indented wrongly."""
    text = GOOD.format(id="the-card").replace("prompt: A question?\n", "") + opened + rest
    line = text.splitlines().index(opened) + 1
    (tmp_path / "cards").mkdir()
    write_card(tmp_path, "deck", "the-card", text)
    [problem] = load_content(tmp_path).problems
    assert problem.line == line, problem
    bracket = opened.split(": ")[1][0]
    assert problem.message.startswith(f"YAML syntax error: a `{bracket}` opened here is not")
    assert fix in problem.message and "indented wrongly" not in problem.message


def test_a_bad_escape_in_a_closed_quote_keeps_pyyamls_reason(tmp_path):
    """Not every error in a quoted text is an unclosed quote (a review of the change)."""
    text = GOOD.format(id="escaped").replace("title: A title", 'title: "What is \\sigma(x)?"')
    (tmp_path / "cards").mkdir()
    write_card(tmp_path, "deck", "escaped", text)
    [problem] = load_content(tmp_path).problems
    assert "unknown escape character" in problem.message and "not closed" not in problem.message


def test_not_a_mapping(tmp_path):
    assert any(
        "(a YAML mapping), not a list" in m for m in problems_for(tmp_path, "- just\n- a list\n")
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_file_says_it_holds_no_card(tmp_path, text):
    """(It said the file must hold a mapping, "not NoneType".)"""
    assert problems_for(tmp_path, text) == [
        "the file holds no card: write its fields as `key: value` lines"
    ]


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda t: t.replace("kind: concept\n", ""), "missing required field 'kind'"),
        (lambda t: t.replace("title: A title", "title: 42"), "field 'title' must be a string"),
    ],
)
def test_one_problem_is_said_once(tmp_path, edit, expected):
    """A missing kind also said "kind None must be one of ..."; a title of 42 also said
    "missing required field 'title'"."""
    messages = problems_for(tmp_path, edit(GOOD.format(id="the-card")))
    assert len(messages) == 1 and expected in messages[0], messages


def test_not_utf8(tmp_path):
    """A card saved as Latin-1: named at the line of its first bad byte, as a solution module
    is (it had no line)."""
    (tmp_path / "cards" / "deck").mkdir(parents=True)
    latin = "id: latin\nkind: concept\ntitle: caf\xe9\n".encode("latin-1")
    (tmp_path / "cards" / "deck" / "latin.yaml").write_bytes(latin)
    [problem] = load_content(tmp_path).problems
    assert problem.line == 3
    assert problem.message == (
        "byte 0xe9 is not UTF-8 text (written in another encoding, such as Latin-1 or "
        "Windows-1252): save the file as UTF-8"
    )


def test_not_utf8_bytes_are_said_in_a_sentence(tmp_path):
    """A character cut short (a lead byte and one of its continuation bytes, then ASCII) is
    two bad bytes: they were said as "bytes 0xe2 0x82 is not UTF-8 text"."""
    (tmp_path / "cards" / "deck").mkdir(parents=True)
    cut = b"id: cut\nkind: concept\ntitle: price \xe2\x82A\n"
    (tmp_path / "cards" / "deck" / "cut.yaml").write_bytes(cut)
    [problem] = load_content(tmp_path).problems
    assert problem.line == 3
    assert problem.message.startswith("bytes 0xe2 0x82 are not UTF-8 text (")


def test_derivation_needs_steps_and_coding_needs_solution(tmp_path):
    derivation = GOOD.format(id="the-card").replace("kind: concept", "kind: derivation")
    assert any("needs 'steps'" in m for m in problems_for(tmp_path, derivation))
    coding = GOOD.format(id="code-card").replace("kind: concept", "kind: coding")
    assert any(
        "needs 'solution: module:function'" in m
        for m in problems_for(tmp_path, coding, "code-card")
    )


@pytest.mark.parametrize("ref", ["../outside:fn", "/abs/path:fn", "pkg.mod:fn", "justmodule"])
def test_solution_reference_must_stay_inside_solutions(tmp_path, ref):
    text = (
        GOOD.format(id="the-card").replace("kind: concept", "kind: coding") + f"solution: '{ref}'\n"
    )
    assert any("must be 'module:function'" in m for m in problems_for(tmp_path, text))


def test_card_outside_a_deck_folder_and_yml_suffix(tmp_path):
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "loose.yaml").write_text(GOOD.format(id="loose"), encoding="utf-8")
    (tmp_path / "cards" / "deck").mkdir()
    (tmp_path / "cards" / "deck" / "short.yml").write_text(
        GOOD.format(id="short"), encoding="utf-8"
    )
    messages = [p.message for p in load_content(tmp_path).problems]
    assert any("move it into a deck folder" in m for m in messages)
    assert any("end in .yaml" in m for m in messages)


def test_duplicate_ids_across_decks(tmp_path):
    (tmp_path / "cards").mkdir()
    write_card(tmp_path, "one", "same", GOOD.format(id="same"))
    write_card(tmp_path, "two", "same", GOOD.format(id="same"))
    content = load_content(tmp_path)
    assert len(content.cards) == 1
    [kept] = content.cards.values()
    [problem] = [p for p in content.problems if "duplicate id" in p.message]
    # the other file named as the problem's own is: relative to the content folder; and the
    # fix said (it was not: which of the two to rename, and how, was left to the author)
    assert problem.message == (
        f"duplicate id 'same': {kept.path.relative_to(tmp_path)} already uses it: give the new "
        "card of the two another id, and its file that name (a published card keeps its id, "
        "under which its learners' reviews are kept, unless it is renamed with `renamed_from`)"
    )


def test_every_problem_is_reported_at_once(tmp_path):
    (tmp_path / "cards").mkdir()
    write_card(tmp_path, "deck", "a", "id: a\nkind: nope\n")
    write_card(tmp_path, "deck", "b", "id: b\n  bad: [\n")
    write_card(tmp_path, "deck", "c", GOOD.format(id="c"))
    content = load_content(tmp_path)
    assert {p.path.stem for p in content.problems} == {"a", "b"}
    assert list(content.cards) == ["c"]


def test_unknown_card_id_suggests_close_ones():
    with pytest.raises(CardNotFound, match="did you mean add-one"):
        load_content(FIXTURE_CONTENT).get("add-on")


def test_a_name_typed_in_part_suggests_the_names_it_begins():
    """`--topic flash` offered gau-flash alone, not flash-attention; `--topic sliding` and
    `show triangle` offered nothing (difflib's ratio for a name typed in part is under its
    cutoff): a helper's simulated week. The names it begins come first."""
    content = load_content(FIXTURE_CONTENT)
    with pytest.raises(CardNotFound, match="did you mean triangle-derivation"):
        content.get("triangle")
    with pytest.raises(ContentError, match="no card has topic 'rand'; did you mean random-walk"):
        content.select(topic="rand")


def test_a_card_is_made_and_kept_as_a_frozen_dataclass_would():
    """`Card`'s hand-written `__init__` takes the fields in order with their defaults, as the
    dataclass's would, and a card cannot be changed in place: `replace` makes a copy."""
    import dataclasses
    import inspect

    from studycli.content.card import Card

    fields = dataclasses.fields(Card)
    parameters = list(inspect.signature(Card).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in fields]
    assert [p.default for p in parameters] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields
    ]
    card = load_content(FIXTURE_CONTENT).get("bias-concept")
    made = Card(*(getattr(card, f.name) for f in fields))
    assert made == card and vars(made) == {f.name: getattr(card, f.name) for f in fields}
    for change in (lambda: setattr(made, "title", "x"), lambda: delattr(made, "title")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            change()
    assert made.title == card.title
    assert dataclasses.replace(made, title="x").title == "x" and made.title == card.title


def test_content_hash_changes_with_the_text_only():
    card = load_content(FIXTURE_CONTENT).get("bias-concept")
    import dataclasses

    assert dataclasses.replace(card, tags=("x",)).content_hash == card.content_hash
    assert dataclasses.replace(card, prompt=card.prompt + "!").content_hash != card.content_hash


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FIELDS) + ["extra"]), values, max_size=8))
def test_any_mapping_gives_a_card_or_messages_never_a_crash(tmp_path_factory, data):
    from pathlib import Path

    card, problems = parse_card(data, Path("cards/deck/x.yaml"), "deck")
    assert (card is None) == bool(problems)
    assert all(isinstance(p, str) and p for p in problems)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_file_loads_or_reports(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "cards" / "deck").mkdir(parents=True)
    (root / "cards" / "deck" / "x.yaml").write_text(text, encoding="utf-8")
    content = load_content(root)
    assert len(content.cards) + len({str(p.path) for p in content.problems}) == 1


def test_an_id_that_differs_from_its_file_name_names_both(content_copy):
    """The advice was only "rename the file to <the id>.yaml": for a typo in the id, that
    breaks every card that requires the right name."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text().replace("id: add-one", "id: add-oen"))
    [problem] = load_content(content_copy).problems
    assert problem.message.startswith(
        "id 'add-oen' must equal the file name 'add-one': fix the id if it is the typo, or "
        "rename the file to add-oen.yaml"
    )


def test_a_copied_card_whose_id_was_left_is_not_told_to_take_the_originals_file(content_copy):
    """A new card made by copying another's file, its id left as it was: the advice "or
    rename the file to <the id>.yaml" named the file of the card it was copied from, which
    would overwrite it (or, in another deck, make a duplicate id)."""
    basics = content_copy / "cards" / "basics"
    for folder in (basics, content_copy / "cards" / "numbers"):  # (the same deck, another)
        copy = folder / "add-two.yaml"
        copy.write_text((basics / "add-one.yaml").read_text())
        [problem] = load_content(content_copy).problems
        assert problem.message == (
            "id 'add-one' must equal the file name 'add-two', and cards/basics/add-one.yaml "
            "is the card with that id (a copy's id left as it was?): give this card an id of "
            "its own, its file's name 'add-two'"
        )
        copy.unlink()


def test_a_link_to_nothing_in_the_cards_folder_is_no_traceback(tmp_path):
    """Emacs keeps a lock file `.#card.yaml` beside a card it edits, a link to nothing: every
    command that read the cards (`due`, `list`, `lint`) ended in a FileNotFoundError from
    the folder's scan. A hidden one is skipped as hidden files are; a card file that links to
    nothing is named as one that cannot be read."""
    from studycli.content.study_view import load_study_items

    (tmp_path / "cards").mkdir()
    write_card(tmp_path, "deck", "kept", GOOD.format(id="kept"))
    deck = tmp_path / "cards" / "deck"
    (deck / ".#kept.yaml").symlink_to("user@host.1234:1700000000")
    (deck / "moved.yaml").symlink_to(tmp_path / "elsewhere" / "moved.yaml")
    index = tmp_path / "index"
    for _ in range(2):  # the index written, then read
        content = load_content(tmp_path, index=index)
        assert list(content.cards) == ["kept"]
        [problem] = content.problems
        assert problem.path.name == "moved.yaml"
        assert "the file cannot be read: No such file or directory" in problem.message
        items, left_out, _, _ = load_study_items(tmp_path, index=index)
        assert [item.id for item in items] == ["kept"] and left_out == [deck / "moved.yaml"]


def test_a_deck_folder_that_is_a_link_is_read(content_copy, tmp_path):
    """A deck kept elsewhere (a synced folder) and linked in as `cards/<deck>` was left out
    whole, without a word: its cards were never shown, and `stats` called their reviews
    history only. A link to a folder inside a deck is still not followed."""
    from studycli.content.study_view import load_study_items

    cards = content_copy / "cards"
    shutil.move(cards / "numbers", tmp_path / "synced")
    (cards / "numbers").symlink_to(tmp_path / "synced")
    (cards / "basics" / "loop").symlink_to(cards)
    index = tmp_path / "index"
    for _ in range(2):  # the index written, then read
        content = load_content(content_copy, index=index)
        assert content.get("poisson-concept").deck == "numbers" and not content.problems
        items, left_out, _, _ = load_study_items(content_copy, index=index)
        assert "poisson-concept" in [item.id for item in items] and left_out == []


def test_a_named_pipe_for_a_card_file_is_reported_not_waited_on(content_copy):
    """A named pipe called x.yaml (`mkfifo`) held `lint` and every command that loads the
    cards for ever, reading it: it is a problem of its own, and the other cards load."""
    pipe = content_copy / "cards" / "basics" / "pipe.yaml"
    os.mkfifo(pipe)
    found: list = []
    worker = threading.Thread(target=lambda: found.append(lint(load_content(content_copy))))
    worker.daemon = True
    worker.start()
    worker.join(60)  # (a guard, not a timing: it takes milliseconds or for ever)
    if worker.is_alive():  # the read waits for a writer: be one, so that it ends
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(60)
        pytest.fail("the load waited on the named pipe")
    [problems] = found
    assert [(p.path.name, p.message.split(":")[0]) for p in problems] == [
        ("pipe.yaml", "not a regular file (a named pipe, a device, ...)")
    ]
    assert "add-one" in load_content(content_copy).cards


def test_a_card_file_over_the_size_a_card_may_have_is_refused_unread(content_copy):
    """A card file of 50 MB (an explanation pasted in whole) was read, indexed (50 MB in the
    content index) and linted clean."""
    card = "id: huge\nkind: concept\ntopic: bias\ntitle: Huge\nprompt: What?\nanswer: It.\n"
    line = "  " + "word " * 20 + "\n"
    text = card + "explanation: |\n" + line * (MAX_CARD_BYTES // len(line) + 1)
    write_card(content_copy, "basics", "huge", text)
    content = load_content(content_copy)
    assert "huge" not in content.cards and "add-one" in content.cards
    [problem] = content.problems
    assert problem.path.name == "huge.yaml"
    assert problem.message.startswith("the file is over 64 KB, and a card is a few KB")


def test_an_id_that_is_no_id_is_not_offered_as_the_file_name(content_copy):
    """`id: Poisson_Mean` in poisson-mean.yaml was told to be kebab-case, and also to "rename
    the file to Poisson_Mean.yaml", a name no card may have: the one fix is the id's."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    edit(path, "id: add-one", "id: Add_One")
    messages = [problem.message for problem in load_content(content_copy).problems]
    assert any("must be kebab-case" in m for m in messages), messages
    assert not any("rename the file" in m for m in messages), messages
    [differs] = [m for m in messages if "the file name" in m]
    assert "'add-one'" in differs, differs


def test_a_file_name_that_is_no_id_is_not_offered_as_the_id(content_copy):
    """`id: add-one` in Add_One.yaml was told to "fix the id if it is the typo", which would
    make it Add_One, no id: the one fix is the file's name."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.rename(path.with_name("Add_One.yaml"))
    messages = [problem.message for problem in load_content(content_copy).problems]
    [differs] = [m for m in messages if "the file name" in m]
    assert "fix the id" not in differs, differs
    assert differs.endswith(
        "which is no id (kebab-case, at most 60 characters): rename the file to add-one.yaml"
    ), differs


def _shipped_names() -> dict[str, set[str]]:
    """The shipped content's ids, decks, topics and tags, each among its own kind."""
    from .conftest import REPO_ROOT

    cards = load_content(REPO_ROOT).cards.values()
    return {
        "id": {card.id for card in cards},
        "deck": {card.deck for card in cards},
        "topic": {card.topic for card in cards if card.topic},
        "tag": {tag for card in cards for tag in card.tags},
    }


def _typos(name: str) -> tuple[str, str]:
    """A one-letter typo of `name` (two middle letters swapped) and a two-letter one (a middle
    letter changed, the last dropped)."""
    m = len(name) // 2
    other = "x" if name[m] != "x" else "y"
    return name[: m - 1] + name[m] + name[m - 1] + name[m + 1 :], name[:m] + other + name[
        m + 1 : -1
    ]


def test_did_you_mean_offers_typos_of_real_names_and_not_unrelated_words():
    """difflib's ratio of 0.6 alone offered unrelated words of the length that makes it easy:
    tag 'nonexistent' suggested noise (0.625), topic 'functions' activations, deck
    'dimension' vision. A one- or two-letter typo of any shipped id, deck, topic or tag of five
    letters or more is still offered (shorter ones, two letters off, were not before either);
    'nope' still suggests the topic rope."""
    from studycli.content.loader import closest

    names = _shipped_names()
    for kind, known in names.items():
        for name in (name for name in known if len(name) >= 5):
            for typo in _typos(name):
                if typo not in known:
                    assert name in closest(typo, known), (kind, name, typo, closest(typo, known))
    unrelated = {  # (the short ones: two letters shared with a name of 3-4, `_misspelt`)
        "tag": ["nonexistent", "inequalities", "add", "but"],
        "topic": ["functions", "math"],
        "deck": ["dimension", "max"],
        "id": ["observations", "row"],
    }
    for kind, words in unrelated.items():
        for word in words:
            assert closest(word, names[kind]) == [], (kind, word)
    assert closest("nope", names["topic"]) == ["rope"]


def test_an_id_or_filter_typed_in_capitals_suggests_the_lowercase_name():
    """Ids, decks, topics and tags are lowercase; every capital counted as a typo, so `show
    ADD-ONE` or `--topic RANDOM-WALK` offered nothing (`studycli list` shows all ids) where
    `--deck Vision`, one capital, offered vision."""
    content = load_content(FIXTURE_CONTENT)
    with pytest.raises(CardNotFound, match="did you mean add-one"):
        content.get("ADD-ONE")
    with pytest.raises(ContentError, match="did you mean random-walk"):
        content.select(topic="RANDOM-WALK")


def test_names_that_differ_in_case_alone_are_each_suggested():
    """Tags are written as their author wrote them: two cards tagged PyTorch and pytorch
    (decks too: folder names). One name was kept for each lowercase one, the last in order,
    and `--tag PYTORCH` offered pytorch alone."""
    from studycli.content.loader import closest

    assert closest("PYTORCH", ["pytorch", "PyTorch", "jax"]) == ["PyTorch", "pytorch"]
    assert closest("pytorh", ["PyTorch", "pytorch"]) == ["PyTorch", "pytorch"]
