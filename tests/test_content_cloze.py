"""Cloze cards: Anki's deletion syntax, lint's rules for it, one study item per number."""

from __future__ import annotations

from pathlib import Path

import pytest

from studycli.content import cloze
from studycli.content.card import Kind, parse_card

from .conftest import write_card

TEXT = "softmax(x)_i = {{c1::exp(x_i - m)}} / {{c2::Σ_j exp(x_j - m)::a sum}}, m = {{c1::max}}"


def _parse(data: dict):
    return parse_card(data, Path(f"cards/math/{data['id']}.yaml"), "math")


def _cloze(**fields) -> dict:
    return {
        "id": "softmax-cloze",
        "kind": "cloze",
        "topic": "flash-attention",
        "title": "Stable softmax",
        "prompt": TEXT,
        **fields,
    }


def test_deletions_numbers_and_hints_are_read():
    found = cloze.deletions(TEXT)
    assert [(d.number, d.text, d.hint) for d in found] == [
        (1, "exp(x_i - m)", None),
        (2, "Σ_j exp(x_j - m)", "a sum"),
        (1, "max", None),
    ]
    assert cloze.numbers(TEXT) == [1, 2]


def test_blank_hides_every_deletion_of_one_number_and_shows_the_others():
    assert cloze.blank(TEXT, 1) == "softmax(x)_i = [...] / Σ_j exp(x_j - m), m = [...]"
    assert cloze.blank(TEXT, 2) == "softmax(x)_i = exp(x_i - m) / [a sum], m = max"
    assert cloze.blank(TEXT, None).count("[") == 3


def test_reveal_marks_the_asked_deletion():
    shown = cloze.reveal(TEXT, 2, lambda hidden: f"<{hidden}>")
    assert shown == "softmax(x)_i = exp(x_i - m) / <Σ_j exp(x_j - m)>, m = max"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no deletion here", "at least one deletion"),
        ("a {{c1::}} b", "hides nothing"),
        ("a {{c1::x}} b }}", "malformed deletion 'b }}'"),
        # the nested one is c2, inside c1 (it said c1 was nested, and added an "unbalanced")
        ("a {{c1::x {{c2::y}} }}", "deletion c2 is inside c1: deletions cannot nest"),
        ("a {{c0::x}}", "numbered from c1"),
        # a lone deletion mistyped said "needs at least one deletion"
        ("a {{c1::one or two} dims", "malformed deletion '{{c1::one or two} dims'"),
        ("a {{c1:x}}", "malformed deletion '{{c1:x}}'"),
        ("a {{ c1::x }}", "malformed deletion '{{ c1::x }}'"),
        ("a {C1::x}}", "malformed deletion '{C1::x}}'"),
        ("a {{c1::x::h::extra}}", "deletion c1 has '::' in its hint"),
        # a stray brace passed, and showed as "rate [...]}"
        ("rate {{c1::pλ}}} per unit", "stray '}' after deletion c1 in '{{c1::pλ}}}'"),
        ("rate {{c1::pλ}}}} per unit", "stray '}}' after deletion c1 in '{{c1::pλ}}}}'"),
        ("a {{c1::{x: 1}}}} b", "stray '}}' after deletion c1 in '{{c1::{x: 1}}}}'"),
        ("rate {{{c1::pλ}} per unit", "stray '{' before deletion c1 in '{{{c1::pλ}}'"),
    ],
)
def test_lint_names_each_syntax_problem(text, problem):
    card, problems = _parse(_cloze(prompt=text))
    assert card is None
    assert any(problem in p for p in problems), problems


def test_each_malformed_deletion_is_named_and_past_three_counted():
    """Lint named only the first malformed deletion of a prompt: an author fixed it to meet
    the next."""
    text = "a {{c1:x}} b {c2::y}} c {{ c3::z }} d {{c4:w}} e {{C5::v}} f {{c6::ok}}"
    assert [p.split("': ", 1)[0] for p in cloze.problems(text)] == [
        "malformed deletion '{{c1:x}}",
        "malformed deletion '{c2::y}}",
        "malformed deletion '{{ c3::z }}",
        "and 2 more malformed deletions after '{{ c3::z }}",
    ]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        # it quoted 'score strictly above}} the oth', cut in a word
        (
            "a {{c1::b}} keeps the correct score strictly above}} the others",
            "'...correct score strictly above}}'",
        ),
        (
            "{{c1: a hidden text too long to be quoted whole}} here",
            "'{{c1: a hidden text too long...'",
        ),
        ("a {{c1::open and on and on past the width", "'{{c1::open and on and on past...'"),
        ("a {{c1::x}} b }}", "'b }}'"),  # no text cut before it: no '...'
        # one left open ends where a well-formed deletion begins
        ("the {{c1::sum}} of {c2:things} and {{c3::x}}", "'{c2:things} and'"),
    ],
)
def test_a_malformed_deletion_is_quoted_cut_between_words(text, quoted):
    [problem] = cloze.problems(text)
    assert problem.startswith(f"malformed deletion {quoted}:"), problem


def test_a_stray_brace_is_one_problem_with_its_fix():
    assert cloze.problems("rate {{c1::pλ}}} per unit") == [
        "stray '}' after deletion c1 in '{{c1::pλ}}}': a deletion closes with two braces, so "
        "the extra shows after the blank ('[...]}'): remove it (hidden text that ends with '}' "
        "needs a space before the closing '}}')"
    ]
    assert cloze.problems("rate {{{c1::pλ}} per unit") == [
        "stray '{' before deletion c1 in '{{{c1::pλ}}': a deletion opens with two braces, so the "
        "extra shows before the blank ('{[...]'): remove it"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "the set {1, {{c1::2}}}",  # the brace closes the set's
        "the set {{{c1::0}}, 1}",
        "d = {{c1::{x: 1} }}",  # hidden text that ends with a brace, spaced as the fix says
    ],
)
def test_a_brace_beside_a_deletion_that_pairs_with_one_of_the_text_is_no_problem(text):
    assert cloze.problems(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "rate {{c1::pλ, the mean {{c2::λ::a rate}}.",
        "rate {{c1::pλ::a product, the mean {{c2::λ}}.",
    ],
)
def test_a_deletion_left_open_is_one_problem(text):
    """The open c1 took in c2 and its hint, and lint added that c1 "has '::' in its hint"."""
    assert cloze.problems(text) == [
        "deletion c2 is inside c1: deletions cannot nest; close c1 with }} before the next one "
        "opens"
    ]


def test_a_stray_brace_is_reported_at_the_prompt_of_its_file(cli, content_copy):
    write_card(
        content_copy,
        "numbers",
        "rate-cloze",
        "id: rate-cloze\nkind: cloze\ntopic: poisson\ntitle: Rate\n"
        "prompt: |\n  The rate is {{c1::pλ}}} per unit.\n",
    )
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert "cards/numbers/rate-cloze.yaml:6: stray '}' after deletion c1" in result.stderr


def test_a_cloze_card_has_no_answer_and_says_where_the_why_goes():
    card, problems = _parse(_cloze(answer="exp"))
    assert card is None and any("explanation" in p for p in problems), problems


def test_each_deletion_number_is_a_study_item_with_its_own_id():
    card, problems = _parse(_cloze(explanation="It cancels; exp never overflows."))
    assert problems == [] and card is not None and card.kind is Kind.CLOZE
    items = card.study_items()
    assert [(i.id, i.cloze, i.card_id) for i in items] == [
        ("softmax-cloze#c1", 1, "softmax-cloze"),
        ("softmax-cloze#c2", 2, "softmax-cloze"),
    ]
    assert items[0].explanation == "It cancels; exp never overflows."
    assert cloze.split_study_id("softmax-cloze#c2") == ("softmax-cloze", 2)
    assert cloze.split_study_id("plain-card") == ("plain-card", None)


def test_other_kinds_are_one_study_item_and_keep_an_explanation():
    card, problems = _parse(
        {
            "id": "bias-why",
            "kind": "concept",
            "topic": "bias",
            "title": "Bias",
            "prompt": "Why?",
            "answer": "Shift.",
            "explanation": "Without it every boundary passes through 0.",
        }
    )
    assert problems == [] and card is not None
    assert card.study_items() == [card] and card.explanation.startswith("Without it")


@pytest.mark.parametrize("item_id", ["imported#c²", "imported#c٣", "imported#c"])
def test_an_id_whose_number_is_no_ascii_digits_is_no_deletions(item_id):
    """A review log imported may key a review by any text: `x#c²` raised ValueError (str.isdigit
    takes '²' for a digit, int does not), now that the queue, suspensions and stats take store
    ids apart with split_study_id. A deletion's number is as study_id writes it, ASCII digits."""
    assert cloze.split_study_id(item_id) == (item_id, None)
    assert cloze.split_study_id(cloze.study_id("imported", 3)) == ("imported", 3)


def test_due_and_stats_after_a_log_that_keys_a_review_by_such_an_id(cli, tmp_path):
    """`import-reviews` of a log whose card_id is `bias-concept#c²` (kept: not in the content),
    then `due`: a ValueError traceback."""
    from .conftest import FIXTURE_CONTENT

    log = tmp_path / "log.csv"
    log.write_text(
        "card_id,review_rating,review_time\nbias-concept#c²,3,2026-12-01T10:00:00+00:00\n",
        encoding="utf-8",
    )
    imported = cli("--content", FIXTURE_CONTENT, "import-reviews", log)
    assert imported.exit_code == 0, imported.output
    for command in ("due", "stats"):
        result = cli("--content", FIXTURE_CONTENT, command)
        assert result.exit_code == 0 and result.exception is None, (command, result.output)
