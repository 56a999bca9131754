"""`renamed_from` entries that name one study item: a cloze deletion split off into a plain
card (`old#c2`) or into a cloze card's deletion (`old#c2 -> c1`, or a plain card's id
`old -> c1`). The content maps each to the item it is now (`Content.renames`, from the files
and from the index alike); lint refuses, at the entry's line, one that could carry no history
or would take one that is not its own."""

from __future__ import annotations

import pytest

from studycli.content.lint import lint
from studycli.content.loader import load_content
from studycli.content.study_view import load_study_items
from studycli.export.anki import first_id

from .conftest import edit, write_card

CLOZE = (
    "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
    "prompt: The mean of Poisson(λ) is {{c1::λ}}; its variance is {{c2::also λ::a parameter}}.\n"
)


def plain(entries: str, card_id: str = "poisson-variance") -> str:
    return (
        f"id: {card_id}\nkind: concept\ntopic: poisson\ntitle: Poisson variance\n"
        f"renamed_from: {entries}\nprompt: What is the variance of Poisson(λ)?\nanswer: λ.\n"
    )


def cloze(entries: str, card_id: str = "poisson-spread") -> str:
    return (
        f"id: {card_id}\nkind: cloze\ntopic: poisson\ntitle: Poisson spread\n"
        f"renamed_from: {entries}\n"
        "prompt: The variance of Poisson(λ) is {{c1::λ}}; its skewness {{c2::λ^-1/2}}.\n"
    )


@pytest.fixture
def split_root(content_copy):
    """The fixture deck with poisson-cloze, its deletion c2 taken out."""
    write_card(content_copy, "numbers", "poisson-cloze", CLOZE)
    edit(content_copy / "cards" / "numbers" / "poisson-cloze.yaml",
         "; its variance is {{c2::also λ::a parameter}}.", ".")  # fmt: skip
    return content_copy


def renamed_problems(root) -> dict[tuple[str, int | None], str]:
    return {
        (p.path.name, p.line): p.message
        for p in lint(load_content(root))
        if "renamed_from" in p.message
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (plain("[poisson-cloze#c2]"), {"poisson-cloze#c2": "poisson-variance"}),
        (cloze("['poisson-cloze#c2 -> c1']"), {"poisson-cloze#c2": "poisson-spread#c1"}),
        (cloze("['add-two -> c2', 'old-spread']"),
         {"add-two": "poisson-spread#c2", "old-spread": "poisson-spread"}),
    ],
)  # fmt: skip
def test_an_item_entry_maps_the_old_item_to_the_one_it_is_now(split_root, tmp_path, text, expected):
    card_id = text.split("\n", 1)[0].removeprefix("id: ")
    write_card(split_root, "numbers", card_id, text)
    content = load_content(split_root)
    assert content.renames == expected
    assert renamed_problems(split_root) == {}
    # `due` reads them from the content index's study rows: the same
    index = tmp_path / "index"
    for _ in range(2):  # (written, then read)
        assert load_study_items(split_root, index=index)[3] == expected
    # an entry of one item keys no Anki note: the card's own id, or its first card entry
    assert first_id(content.cards[card_id]) == ("old-spread" if "old-spread" in text else card_id)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (plain("['poisson-cloze#c2 -> c1']"),
         "moves 'poisson-cloze#c2' onto deletion 'c1', and this card is no cloze card: write "
         "`poisson-cloze#c2` alone"),
        (cloze("[poisson-cloze#c2]"),
         "names the deletion 'poisson-cloze#c2' and not the deletion of this card it is now: "
         "write `poisson-cloze#c2 -> c1`"),
        (cloze("['poisson-cloze#c2 -> c3']"),
         "moves 'poisson-cloze#c2' onto deletion c3, which this card does not have (it has c1, "
         "c2): name the one that holds its fact; if that fact left this card (split off into "
         "another), list 'poisson-cloze#c2' in the card that took it over, beside "
         "`poisson-spread#c3`, and take this entry out"),
        (cloze("['poisson-cloze#c2 -> 1']"), "onto '1', which is no deletion: write"),
        (plain("[poisson-cloze#c02]"), "names 'poisson-cloze#c02', which is no cloze deletion"),
        (cloze("['poisson-spread#c2 -> c1']"),
         "names 'poisson-spread#c2', a deletion of this card: a deletion keeps its number"),
        (cloze("['poisson-cloze#c2 -> c1', 'poisson-cloze#c2 -> c2']"),
         "entry 2 names 'poisson-cloze#c2' a second time"),
    ],
)  # fmt: skip
def test_a_malformed_item_entry_is_refused_at_its_line(split_root, text, said):
    card_id = text.split("\n", 1)[0].removeprefix("id: ")
    path = write_card(split_root, "numbers", card_id, text)
    content = load_content(split_root)
    assert card_id not in content.cards and content.renames == {}
    [problem] = [p for p in lint(content) if p.path == path]
    assert problem.message.startswith("field 'renamed_from': entry ")
    assert said in " ".join(problem.message.split()), problem.message
    assert problem.line == 5


def test_an_item_entry_whose_deletion_its_card_still_has_is_refused(content_copy):
    """The deletion copied, not moved: its learners' history stays where it is."""
    write_card(content_copy, "numbers", "poisson-cloze", CLOZE)
    write_card(content_copy, "numbers", "poisson-variance", plain("[poisson-cloze#c2]"))
    content = load_content(content_copy)
    assert content.renames == {}
    found = renamed_problems(content_copy)
    assert list(found) == [("poisson-variance.yaml", 5)]
    assert found["poisson-variance.yaml", 5].startswith(
        "renamed_from names 'poisson-cloze#c2', and cards/numbers/poisson-cloze.yaml still has "
        "deletion c2, whose learners' history would come to this card: if this card takes that "
        "deletion over, remove {{c2::...}} from cards/numbers/poisson-cloze.yaml"
    )


def test_a_plain_cards_id_moved_onto_a_deletion_while_the_card_is_there_is_refused(
    content_copy,
):
    write_card(content_copy, "numbers", "poisson-spread", cloze("['add-one -> c2']"))
    assert load_content(content_copy).renames == {}
    found = renamed_problems(content_copy)
    assert found["poisson-spread.yaml", 5].startswith(
        "renamed_from names 'add-one', the id of cards/basics/add-one.yaml"
    )


def test_an_old_item_two_cards_claim_is_refused_on_both_and_carried_to_neither(split_root):
    write_card(split_root, "numbers", "poisson-variance", plain("[poisson-cloze#c2]"))
    write_card(split_root, "numbers", "poisson-spread", cloze("['poisson-cloze#c2 -> c1']"))
    assert load_content(split_root).renames == {}
    found = renamed_problems(split_root)
    assert sorted(found) == [("poisson-spread.yaml", 5), ("poisson-variance.yaml", 5)]
    assert found["poisson-variance.yaml", 5].startswith(
        "renamed_from names 'poisson-cloze#c2', and so does cards/numbers/poisson-spread.yaml: "
        "a learner's history under 'poisson-cloze#c2' goes to one card, so neither gets it: "
        "keep 'poisson-cloze#c2' in the renamed_from of the card that took that deletion over"
    )


def test_the_card_schema_lets_editors_take_an_item_entry_and_no_other_form():
    import jsonschema

    from studycli.content.schema import card_schema

    check = jsonschema.Draft202012Validator(card_schema()["properties"]["renamed_from"])
    taken = ["old-id", "old-id#c2", "old-id#c2 -> c1", "old-id -> c3"]
    refused = ["old-id#c0", "old-id#2", "old-id -> 1", "old-id#c2 ->", "Old-id#c2"]
    assert [entry for entry in taken + refused if check.is_valid([entry])] == taken
