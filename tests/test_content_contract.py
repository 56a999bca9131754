"""A coding card's contract (its starter and its checker), hashed so that a change to it flags
the card as edited, and what a review recorded before contracts were compares by text only."""

from __future__ import annotations

from studycli.content.contract import contract_hash, edited_parts, recorded_hash
from studycli.content.loader import load_content


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _contract(content_copy, card_id="add-one"):
    content = load_content(content_copy)
    return contract_hash(content.get(card_id), content.solutions_dir)


def test_a_changed_signature_changes_the_starters_hash_alone(content_copy):
    before = _contract(content_copy).split("+")
    _edit(
        content_copy / "solutions" / "arith.py", "def add_one(x: int)", "def add_one(x: int, k=1)"
    )
    after = _contract(content_copy).split("+")
    assert after[0] != before[0] and after[1] == before[1]


def test_a_card_starter_field_is_its_starter(content_copy):
    before = _contract(content_copy)
    card_file = content_copy / "cards" / "basics" / "add-one.yaml"
    card_file.write_text(card_file.read_text() + "starter: |\n  def add_one(x, /):\n    ...\n")
    assert _contract(content_copy).split("+")[0] != before.split("+")[0]


def test_a_checker_that_tests_another_case_is_a_changed_checker(content_copy):
    before = _contract(content_copy).split("+")
    _edit(
        content_copy / "solutions" / "arith.py",
        "(-3, 0, 1, 41, 10**12)",
        "(-3, 0, 1, 41, 10**12, 7)",
    )
    after = _contract(content_copy).split("+")
    assert after[0] == before[0] and after[1] != before[1]


def test_a_helper_the_checker_calls_is_part_of_it(content_copy):
    solutions = content_copy / "solutions" / "arith.py"
    _edit(solutions, "    for x in (-3, 0, 1, 41, 10**12):", "    for x in _CASES:")
    solutions.write_text(solutions.read_text() + "\n_CASES = (-3, 0, 1, 41, 10**12)\n")
    before = _contract(content_copy)
    _edit(solutions, "_CASES = (-3, 0, 1, 41, 10**12)", "_CASES = (-3, 0, 1, 41)")
    assert _contract(content_copy) != before


def test_a_checker_reworded_commented_or_reformatted_is_the_same_checker(content_copy):
    """What a checker requires is its code: the texts of its messages, its comments, its
    docstring and its layout are not (a learner is not told "edited" for a better hint)."""
    before = _contract(content_copy)
    solutions = content_copy / "solutions" / "arith.py"
    _edit(solutions, 'what = f"add_one({x})"', 'what = f"add_one(x={x!r})"  # as the prompt')
    _edit(
        solutions,
        "assert_equal(call(impl, what, x), x + 1, what)",
        "assert_equal(\n            call(impl, what, x), x + 1, what\n        )\n\n",
    )
    _edit(
        solutions,
        'def check_add_one(impl, device="cpu"):\n',
        'def check_add_one(impl, device="cpu"):\n    """Each case."""\n',
    )
    _edit(solutions, '"""Adds two instead of one."""', '"""Adds 2."""')  # (a wrong answer)
    assert _contract(content_copy) == before


def test_a_card_that_runs_no_code_has_no_contract(content_copy):
    assert _contract(content_copy, "bias-concept") is None


def test_a_module_that_does_not_parse_gives_no_contract(content_copy):
    (content_copy / "solutions" / "arith.py").write_text("def add_one(x:\n")
    assert _contract(content_copy) is None


def test_a_review_recorded_before_contracts_compares_by_its_text_alone(content_copy):
    content = load_content(content_copy)
    card = content.get("add-one")
    now = contract_hash(card, content.solutions_dir)
    recorded = recorded_hash(card, "00000000+00000000")  # another starter and checker then
    assert edited_parts(recorded, card, lambda: now) == ("starter", "checker")
    assert edited_parts(card.content_hash, card, lambda: now) == ()  # an earlier studycli's
    asked = []
    edited_parts(card.content_hash, card, lambda: asked.append(1))  # (read no module for it)
    assert asked == []
    assert edited_parts("0" * 16, card, lambda: now) == ("text",)


LINE = "assert_equal(call(impl, what, x), x + 1, what)"


def _with_line(content_copy, line: str) -> str | None:
    _edit(content_copy / "solutions" / "arith.py", LINE, line)
    contract = _contract(content_copy)
    _edit(content_copy / "solutions" / "arith.py", line, LINE)
    return contract


def test_a_message_reworded_as_the_formatter_lays_it_out_is_the_same_checker(content_copy):
    """A message reworded past its line's length: `ruff format`, which CI requires of the
    solution modules, splits the call one argument a line with a trailing comma, and puts a
    long right-hand side (a message of two strings) in parentheses of its own. No code
    changed, and the checker was flagged for every learner as one that may fail a pass."""
    before = _contract(content_copy)
    solutions = content_copy / "solutions" / "arith.py"
    _edit(
        solutions,
        '        what = f"add_one({x})"\n',
        '        what = (\n            f"add_one({x}), x a Python int of any size"\n'
        '            " (negative too)"\n        )\n',
    )
    _edit(
        solutions,
        LINE,
        "assert_equal(\n            call(impl, what, x),\n            x + 1,\n            what,\n        )",
    )
    _edit(solutions, "for x in (-3, 0, 1, 41, 10**12):", "for x in (-3, 0, 1, 41, 10**12,):")
    assert _contract(content_copy) == before


def test_parentheses_and_commas_that_change_the_code_change_the_checker(content_copy):
    """What the formatter's parentheses and commas are left out of is code only: a 1-tuple
    is not its element, an index `[i,]` is a tuple, and parentheses that group an operation
    before another are kept."""
    before = _contract(content_copy)
    same = ["assert_equal(call(impl, what, x), (x + 1), what)", f"{LINE[:-1]},)"]
    assert [_with_line(content_copy, line) for line in same] == [before, before]
    others = [
        "assert_equal(call(impl, what, x), (x + 1,), what)",
        "assert_equal(call(impl, what, (x,)), x + 1, what)",
        "assert_equal(call(impl, what, x)[0,], x + 1, what)",
        "assert_equal(call(impl, what, x)[0], x + 1, what)",
        "assert_equal(call(impl, what, x), (x + 1) * 2, what)",
        "assert_equal(call(impl, what, x), x + 1 * 2, what)",
        "assert_equal(call(impl, what, x), x and (x or 1), what)",
        "assert_equal(call(impl, what, x), x and x or 1, what)",
    ]
    made = [_with_line(content_copy, line) for line in others]
    assert len({before, *made}) == len(others) + 1, made
