"""`lint`: cross-card rules, solution resolution, starters and orphans, all reported at once."""

from __future__ import annotations

import json

import pytest

from studycli.content.card import Kind
from studycli.content.lint import lint
from studycli.content.lint_joined_entries import joined_entry
from studycli.content.lint_text import (
    MAX_CLOZE_PROMPT_WORDS,
    MAX_CONCEPT_PROMPT_WORDS,
    MAX_TITLE_WORDS,
    MAX_WORKED_PROMPT_WORDS,
    emphasis_eaten,
    joined_line,
    list_interrupting,
    list_swallowed_line,
)
from studycli.content.loader import load_content

from .conftest import FIXTURE_CONTENT, edit, write_card


def messages(root):
    return [p.message for p in lint(load_content(root))]


def test_fixture_content_is_clean():
    assert lint(load_content(FIXTURE_CONTENT)) == []


def test_unknown_topic(content_copy):
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    path.write_text(path.read_text().replace("topic: bias", "topic: biass"))
    assert (
        "unknown topic 'biass': did you mean bias? use a slug from studycli/content/topics.yaml"
        in messages(content_copy)
    )


def test_requires_unknown_card_and_cycles(content_copy):
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text() + "requires: [triangle-derivation, ghost]\n")
    found = messages(content_copy)
    assert any("requires 'ghost', which no card has: write the id of a card" in m for m in found)
    assert any(
        "requires forms a cycle" in m and "add-one" in m and "triangle-derivation" in m
        for m in found
    )


def test_lint_of_some_cards_finds_their_problems_as_lint_of_all_does(content_copy):
    """`check` lints only the cards it checks (every card's text took 0.4 s of `check ID`):
    the same problems for those cards as a lint of everything finds."""
    for name in ("add-one", "bias-concept"):
        path = content_copy / "cards" / "basics" / f"{name}.yaml"
        path.write_text(path.read_text() + "requires: [ghost]\n")
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text().replace("title:", "title: \\frac", 1))
    content = load_content(content_copy)
    everything = lint(content)
    for ids in ({"add-one"}, {"bias-concept"}, {"add-one", "bias-concept"}):
        some = lint(content, only=ids)
        assert some == [p for p in everything if p.card_id in ids], ids
        assert some and all(p.card_id in ids for p in some)


def test_a_mistyped_prerequisite_gets_the_id_it_was_meant_to_be(content_copy):
    """A typo in `requires:` said only "which no card has": the unknown topic and field get a
    "did you mean", the prerequisite none."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text() + "requires: [triangle-derivaton]\n")
    [found] = messages(content_copy)
    assert found.endswith("which no card has: did you mean triangle-derivation?"), found


def test_a_misspelt_requirement_is_not_said_to_mean_the_card_itself(content_copy):
    """add-one requiring "add-onne" was asked "did you mean add-one?": a card that requires
    itself is refused (a QA pass of the author's path)."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text() + "requires: [add-onne]\n")
    [found] = messages(content_copy)
    assert found.endswith("write the id of a card (`studycli list` lists them), or remove it")


def test_a_card_that_requires_itself_or_one_card_twice_is_told_to_remove_it(content_copy):
    """Requiring itself said "requires forms a cycle: add-one -> add-one"; a repeat passed; an
    id barely like another was asked whether it meant it ("nope-3": "did you mean rope?", a
    likeness of 0.6; add-x is 0.67 like add-one)."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text() + "requires: [add-one, bias-concept, bias-concept, add-x]\n")
    found = messages(content_copy)
    assert "requires itself: remove it" in found
    assert "requires 'bias-concept' a second time: remove it" in found
    assert not any("cycle" in m for m in found), found
    [unknown] = [m for m in found if "which no card has" in m]
    assert unknown.endswith("write the id of a card (`studycli list` lists them), or remove it")


def test_solution_module_and_function_must_exist(content_copy):
    base = (content_copy / "cards" / "basics" / "add-one.yaml").read_text()
    write_card(
        content_copy,
        "basics",
        "no-module",
        base.replace("add-one", "no-module").replace("arith:add_one", "missing:add_one"),
    )
    write_card(
        content_copy,
        "basics",
        "no-function",
        base.replace("add-one", "no-function").replace("arith:add_one", "arith:nothing_here"),
    )
    found = messages(content_copy)
    assert any("there is no solutions/missing.py" in m for m in found)
    assert any("defines no top-level function 'nothing_here'" in m for m in found)


def test_a_mistyped_solution_module_gets_the_module_it_was_meant_to_be(content_copy):
    """`solution: aritth:add_one`: lint said "there is no solutions/aritth.py" and, of the
    module meant, "orphan solution module", with no word that one was the other mistyped."""
    card = content_copy / "cards" / "basics" / "add-one.yaml"
    card.write_text(card.read_text().replace("arith:add_one", "aritth:add_one"))
    found = messages(content_copy)
    assert (
        "solution aritth:add_one: there is no solutions/aritth.py; did you mean arith:add_one?"
        in found
    ), found


def test_the_module_a_mistyped_solution_means_is_no_orphan_besides(content_copy):
    """`solution: poisson_binomal_gap:...`, the only card of poisson_binomial_gap: lint said
    "did you mean poisson_binomial_gap:...?" and, of that module, "orphan solution module":
    one mistake said twice. A module no typo means is still an orphan."""
    for deck, card_id, function in (
        ("basics", "add-one", "add_one"),
        ("numbers", "triangle-derivation", "triangle"),
    ):
        card = content_copy / "cards" / deck / f"{card_id}.yaml"
        card.write_text(card.read_text().replace(f"arith:{function}", f"aritth:{function}"))
    (content_copy / "solutions" / "stray.py").write_text("def f():\n    return 1\n")
    problems = lint(load_content(content_copy))
    found = [p.message for p in problems]
    assert (
        "solution aritth:add_one: there is no solutions/aritth.py; did you mean arith:add_one?"
        in found
    )
    assert (
        "solution aritth:triangle: there is no solutions/aritth.py; did you mean arith:triangle?"
        in found
    )
    orphans = [p.path.name for p in problems if "orphan" in p.message]
    assert orphans == ["stray.py"], orphans


def test_a_mistyped_checker_or_table_name_gets_the_name_it_was_meant_to_be(content_copy):
    """A checker named check_add_onee, a table WRONG_ANSWER: "no checker" and "lists 0 wrong
    answer(s)", with no word of the near misses (a QA pass)."""
    module = content_copy / "solutions" / "arith.py"
    source = module.read_text().replace("def check_add_one(", "def check_add_onee(")
    module.write_text(source.replace("WRONG_ANSWERS", "WRONG_ANSWER"))
    found = messages(content_copy)
    assert any(
        m.startswith("no checker: define check_add_one(")
        and m.endswith("; is 'check_add_onee' meant to be check_add_one?")
        for m in found
    ), found
    assert any(
        "lists 0 wrong answer(s) for 'add_one'" in m
        and m.endswith("; is 'WRONG_ANSWER' meant to be WRONG_ANSWERS?")
        for m in found
    ), found


def test_checker_and_wrong_answers_are_required(content_copy):
    module = content_copy / "solutions" / "arith.py"
    source = module.read_text()
    source = source.replace("def check_add_one(", "def verify_add_one(")
    source = source.replace(
        'WRONG_ANSWERS["triangle"] = [_wrong_off_by_one, _wrong_float]',
        'WRONG_ANSWERS["triangle"] = [_wrong_off_by_one]',
    )
    module.write_text(source)
    found = messages(content_copy)
    assert any("no checker: define check_add_one" in m for m in found)
    assert any("lists 1 wrong answer(s) for 'triangle'" in m for m in found)


def test_a_named_checker_that_is_not_there_is_named(content_copy):
    """`check: arith:check_nope`: lint said to define check_add_one or name one with
    'check:', which the card had done."""
    card = content_copy / "cards" / "basics" / "add-one.yaml"
    card.write_text(card.read_text() + "check: arith:check_nope\n")
    found = messages(content_copy)
    assert any(
        "check arith:check_nope: solutions/arith.py defines no function 'check_nope'" in m
        for m in found
    ), found
    assert not any("no checker: define" in m for m in found)


def test_a_checker_that_never_uses_the_answer_it_checks_is_named(content_copy):
    """A checker that computes with the reference (`add_one(x)`) instead of the answer it was
    given passed lint; `check` then said the starter "must not answer the card" (it only raises
    NotImplementedError) and that every wrong answer was accepted, never why."""
    module = content_copy / "solutions" / "arith.py"
    source = module.read_text().replace("call(impl, what, x)", "add_one(x)", 1)
    module.write_text(source)
    found = [(p.path.name, p.line, p.message) for p in lint(load_content(content_copy))]
    line = source.splitlines().index('def check_add_one(impl, device="cpu"):') + 1
    assert (
        "arith.py",
        line,
        "the checker check_add_one never uses impl, the answer it checks, so it passes every "
        "answer (the starter's and the wrong answers' too): call it as call(impl, what, ...), "
        "not the reference add_one",
    ) in found, found
    # the stub `studycli new` writes is no such checker: it is not written yet
    module.write_text(
        source.replace(
            "    for x in (-3, 0, 1, 41, 10**12):", "    raise NotImplementedError\n", 1
        ).replace(
            '        what = f"add_one({x})"\n        assert_equal(add_one(x), x + 1, what)\n', ""
        )
    )
    assert not any("never uses" in message for message in messages(content_copy))


def test_a_checker_stub_that_raises_with_a_message_is_not_said_to_pass_every_answer(
    content_copy,
):
    """`raise NotImplementedError("write the checker")`, a stub as `check` counts one (the card
    is not done): lint said the checker "passes every answer", when it fails them all."""
    module = content_copy / "solutions" / "arith.py"
    body = (
        '        what = f"add_one({x})"\n        assert_equal(call(impl, what, x), x + 1, what)\n'
    )
    source = module.read_text().replace(
        "    for x in (-3, 0, 1, 41, 10**12):\n" + body,
        '    raise NotImplementedError("write the checker")\n',
        1,
    )
    assert 'NotImplementedError("write the checker")' in source
    module.write_text(source)
    assert not any("never uses" in message for message in messages(content_copy))


def test_a_table_key_no_card_solves_is_a_typo_lint_names(content_copy):
    """`CORRECT_VARIANTS = {"add_on": [...]}`: lint and check passed, and the variants were
    never run."""
    module = content_copy / "solutions" / "arith.py"
    module.write_text(
        module.read_text() + "\n\ndef _variant(x):\n    return 1 + x\n\n\n"
        'CORRECT_VARIANTS = {"add_on": [_variant]}\n'
    )
    found = [(p.path.name, p.line, p.message) for p in lint(load_content(content_copy))]
    [(name, line, message)] = [f for f in found if "CORRECT_VARIANTS" in f[2]]
    assert name == "arith.py" and line == len(module.read_text().splitlines())
    assert message == (
        "CORRECT_VARIANTS['add_on']: no card's solution is arith:add_on, so check never runs "
        "these: did you mean 'add_one'?"
    )


def test_every_wrong_answer_declares_its_failure(content_copy):
    module = content_copy / "solutions" / "arith.py"
    source = module.read_text()
    source = source.replace('@fails_with("add_one(-3): expected -2, got -1")\n', "")
    source = source.replace('@fails_with("expected -2, got -3")', '@fails_with("  ")')
    source = source.replace(
        'WRONG_ANSWERS["triangle"] = [_wrong_off_by_one, _wrong_float]',
        'WRONG_ANSWERS["triangle"] = [_wrong_off_by_one, lambda n: n]',
    )
    module.write_text(source)
    lines = source.splitlines()
    found = {
        (p.line, p.card_id, p.message) for p in lint(load_content(content_copy)) if p.path == module
    }
    no_declaration = lines.index("def _wrong_add_two(x):") + 1
    empty = lines.index("def _wrong_identity(x):") + 1
    listed = next(i for i, line in enumerate(lines, 1) if "lambda n: n" in line)
    assert {(line, card) for line, card, _ in found} == {
        (no_declaration, "add-one"),
        (empty, "add-one"),
        (listed, "triangle-derivation"),
    }
    text = {line: message for line, _, message in found}
    assert text[no_declaration].startswith("wrong answer _wrong_add_two (for 'add_one') declares")
    assert "@fails_with(\"<a part of the checker's message" in text[no_declaration]
    assert "above `def _wrong_add_two`" in text[no_declaration]
    assert "declares an empty failure" in text[empty]
    assert "lists lambda n: n, which is not a top-level function of arith.py" in text[listed]


def test_a_failure_that_is_the_functions_name_proves_nothing(content_copy):
    """Every failure message names the call (`add_one(-3): ...`): @fails_with("add_one")
    matched any rejection, and lint and check accepted it (an author's report)."""
    module = content_copy / "solutions" / "arith.py"
    source = module.read_text().replace(
        '@fails_with("expected -2, got -3")', '@fails_with("Add_One")'
    )
    module.write_text(source)
    found = [p for p in lint(load_content(content_copy)) if p.path == module]
    [problem] = found
    assert problem.line == source.splitlines().index("def _wrong_identity(x):") + 1
    assert "declares the failure 'Add_One', a part of the function's name" in problem.message


def test_lint_names_the_file_and_line_of_a_missing_declaration(cli, content_copy):
    module = content_copy / "solutions" / "arith.py"
    module.write_text(module.read_text().replace('@fails_with("expected -2, got -3")\n', ""))
    result = cli("--content", content_copy, "lint")
    line = module.read_text().splitlines().index("def _wrong_identity(x):") + 1
    assert result.exit_code == 1
    assert f"solutions/arith.py:{line}: wrong answer _wrong_identity" in result.stderr
    # check refuses the card until the declaration is there
    refused = cli("--content", content_copy, "check", "add-one")
    assert refused.exit_code == 1 and "fix what `studycli lint` reports first" in refused.stderr


def test_starter_must_compile_and_match_the_signature(content_copy):
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    original = path.read_text()
    path.write_text(original + "starter: |\n  def add_one(y):\n      pass\n")
    assert any(
        "the starter's add_one takes (y); the reference takes (x)" in m
        for m in messages(content_copy)
    )
    path.write_text(original + "starter: |\n  def add_one(x:\n")
    assert any("the starter does not compile" in m for m in messages(content_copy))
    path.write_text(original + "starter: |\n  def other(x):\n      pass\n")
    assert any("the starter must define add_one(x)" in m for m in messages(content_copy))


def test_syntax_error_in_a_solution_module_names_its_line(content_copy):
    module = content_copy / "solutions" / "arith.py"
    module.write_text(module.read_text() + "\ndef broken(:\n")
    problems = lint(load_content(content_copy))
    [problem] = {(p.path, p.line, p.message) for p in problems}
    assert problem[0] == module and problem[1] is not None and "syntax error" in problem[2]


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_a_solution_module_that_is_not_utf8_names_its_line(cli, content_copy, end):
    """A Latin-1 byte in a solution module (an author's é) ended `lint` and `check` in a
    UnicodeDecodeError traceback: it is a problem of the module at its line, with the fix,
    and `check` says to fix what lint reports."""
    module = content_copy / "solutions" / "arith.py"
    data = module.read_bytes().replace(b'"""Adds two instead of one."""', b'"""Adds tw\xe9."""')
    module.write_bytes(data.replace(b"\n", end))
    line = data[: data.index(b"\xe9")].count(b"\n") + 1
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"solutions/arith.py:{line}: byte 0xe9 is not UTF-8 text (written in another encoding, "
        "such as Latin-1 or Windows-1252): save the module as UTF-8" in result.stderr
    )
    result = cli("--content", content_copy, "check", "add-one")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "fix what `studycli lint` reports first" in result.stderr


def test_a_solution_module_with_a_byte_order_mark_is_read(cli, content_copy):
    """Python runs a module that starts with a UTF-8 byte order mark (Windows editors write
    one); lint refused it as "invalid non-printable character U+FEFF"."""
    module = content_copy / "solutions" / "arith.py"
    module.write_bytes(b"\xef\xbb\xbf" + module.read_bytes())
    assert cli("--content", content_copy, "lint").exit_code == 0
    result = cli("--content", content_copy, "check", "add-one")
    assert result.exit_code == 0, result.output


def test_orphan_solution_module(content_copy):
    (content_copy / "solutions" / "stray.py").write_text("def f():\n    return 1\n")
    (content_copy / "solutions" / "_helpers.py").write_text("X = 1\n")
    orphans = [p for p in lint(load_content(content_copy)) if "orphan" in p.message]
    assert [p.path.name for p in orphans] == ["stray.py"]


def test_lint_cli_reports_all_with_files_and_exits_1(cli, content_copy):
    write_card(content_copy, "basics", "bad-one", "id: bad-one\nkind: nope\n")
    write_card(content_copy, "basics", "bad-two", "id: bad-two\n  x: [\n")
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert (
        "cards/basics/bad-one.yaml" in result.stderr
        and "cards/basics/bad-two.yaml:" in result.stderr
    )
    assert "Traceback" not in result.output
    as_json = json.loads(cli("--content", content_copy, "lint", "--json").stdout)
    assert {entry["file"].rsplit("/", 1)[1] for entry in as_json} == {
        "bad-one.yaml",
        "bad-two.yaml",
    }


def test_lint_cli_passes_on_clean_content(cli):
    result = cli("--content", FIXTURE_CONTENT, "lint")
    assert result.exit_code == 0, result.output
    assert "4 cards, 0 problem(s)" in result.stdout
    assert "not done yet" not in result.output


def test_lint_counts_one_card_as_one_card(cli, tmp_path):
    """A content folder begun with `studycli new` (one card) was linted as "1 cards"."""
    (tmp_path / "cards" / "deck").mkdir(parents=True)
    made = cli("--content", tmp_path, "new", "concept", "one", "--topic", "bias", "--deck", "deck")
    assert made.exit_code == 0, made.output
    result = cli("--content", tmp_path, "lint")
    assert result.exit_code == 0, result.output
    assert "1 card, 0 problem(s)" in result.stdout


def test_lint_cli_names_the_cards_check_fails_as_not_done(cli, content_copy):
    """A draft passes lint (its author lints as they write), and lint said only "0
    problem(s)": the author of a pull request did not hear that check, and CI, would refuse it
    as not done yet."""
    assert (
        cli("--content", content_copy, "new", "concept", "fresh", "--topic", "bias").exit_code == 0
    )
    edit(
        content_copy / "solutions" / "arith.py",
        "    return x + 1\n",
        "    raise NotImplementedError\n",
    )
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "note: add-one, fresh: not done yet (a text or docstring begins with TODO, or code "
        "raises NotImplementedError): `studycli check add-one fresh` says what is left"
    ), result.stderr


def test_lint_notes_a_checker_that_imports_a_package_at_each_call(cli, content_copy):
    """`import sympy` inside a checker made each of a learner's attempts 0.4 s slower (every
    check imports it again in its own process), and lint and check said nothing. A note says
    so, and where it goes instead; an import a worker has made before the checks (the
    standard library, LAZY_IMPORTS's torch._dynamo for torch.compile), or one no checker or reference reaches
    (a wrong answer's), is none. A note is no problem: lint passes."""
    module = content_copy / "solutions" / "arith.py"
    edit(
        module,
        'def check_add_one(impl, device="cpu"):\n',
        'def check_add_one(impl, device="cpu"):\n'
        "    import fractions\n    import torch._dynamo\n    import sympy\n\n    torch.compile\n",
    )
    edit(module, "    for n in range(0, 50):\n", "    for n in _sizes():\n")
    edit(module, "    return x + 2\n", "    import networkx\n\n    return x + 2\n")
    module.write_text(
        module.read_text() + "\n\ndef _sizes():\n    from mpmath import mp\n\n"
        "    return range(0, 50)\n"
    )
    lines = module.read_text().splitlines()
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert [note.partition(" imports ")[0] for note in notes] == [
        f"note: solutions/arith.py:{lines.index('    import sympy') + 1}: check_add_one",
        f"note: solutions/arith.py:{lines.index('    from mpmath import mp') + 1}: _sizes "
        "(which the checker check_triangle calls)",
    ], result.stderr
    assert notes[0].endswith(
        "check_add_one imports sympy at each call, and each check runs in a process of its "
        "own, so every check of the card, each attempt a learner makes included, imports it "
        "again: name it in LAZY_IMPORTS (studycli/check/lazy_imports.py), with a pattern of "
        "the code that uses it, as torch._dynamo is there (torch.compile), and the worker that "
        "runs the checks imports it once, before them, where it is installed (not at the "
        "module's top: lint refuses a package that not every install has)"
    ), notes[0]


def test_a_solution_module_imports_only_what_every_install_has(content_copy):
    """At its top level: the standard library, numpy, torch and studycli.assertions; not another
    package (it would fail only when `check` imports it), nor another solution module. Inside a
    function an optional import is the function's business."""
    found = module_problems(
        content_copy,
        "import json\nimport numpy as np\nfrom torch import nn\n"
        "import scipy.optimize\nfrom studycli.content import loader\nfrom . import other\n"
        "def _optional():\n    import scipy\n",
    )
    assert found == [
        (4, "imports 'scipy.optimize'"),
        (5, "imports 'studycli.content'"),
        (6, "imports '.other', a solution module"),  # (wherever it is written: below)
    ]


def test_a_from_import_of_an_allowed_submodule_is_allowed(content_copy):
    """`from studycli import assertions` imports studycli.assertions, which a solution module may
    import, and was refused as "imports 'studycli'", the message itself naming
    studycli.assertions as allowed. A name imported from a package is its submodule where the
    package alone is not allowed: the refused one is named; the package where every one is."""
    found = module_problems(
        content_copy,
        "from studycli import assertions\nfrom studycli import assertions as a, cli\n"
        "from scipy import optimize, special\n",
    )
    assert found == [(2, "imports 'studycli.cli'"), (3, "imports 'scipy'")]


def test_an_import_in_a_top_level_block_is_a_top_level_import(content_copy):
    """`try: import scipy` (or an `if`, a `with`, a class's body) at a solution module's top
    level runs as the module is imported, as a plain `import scipy` does, and passed lint.
    A function's import, and one under `if TYPE_CHECKING:` or `if __name__ == "__main__":`,
    which the import does not run, are not the top level's."""
    found = module_problems(
        content_copy,
        "try:\n    import scipy\nexcept ImportError:\n    scipy = None\n"
        "if scipy is None:\n    from sklearn import svm\n"
        "with open(__file__):\n    import pandas\n"
        "class _Holder:\n    import yaml\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import scipy.sparse\n"
        "if __name__ == '__main__':\n    import matplotlib\n"
        "def _optional():\n    try:\n        import scipy\n    except ImportError:\n"
        "        pass\n",
    )
    assert found == [
        (2, "imports 'scipy'"),
        (6, "imports 'sklearn'"),
        (8, "imports 'pandas'"),
        (10, "imports 'yaml'"),
    ]


def test_an_import_in_a_function_the_top_level_calls_is_a_top_level_import(content_copy):
    """`ERF = _erf()` at the top level runs the `import scipy.special` inside `_erf` as the
    module is imported, in every check's worker, and passed lint: a function's import was
    taken as the function's business whether or not the import calls it (its prints were
    followed so already). A function the top level does not call keeps its import."""
    found = module_problems(
        content_copy,
        "def _erf():\n    import scipy.special\n    return _table()\n"
        "def _table():\n    from sklearn import svm\n    return svm\n"
        "def _unused():\n    import pandas\n"
        "ERF = _erf()\n",
    )
    assert found == [
        (2, "imports 'scipy.special' (the top level calls _erf() at line 9)"),
        (5, "imports 'sklearn' (the top level calls _erf() at line 9)"),
    ]


def test_a_function_a_default_value_or_a_decorator_calls_is_run_by_the_import(content_copy):
    """A default argument value and a decorator are evaluated as the module is imported:
    `def f(table=_table())` and `@_register` ran `_table`'s and `_register`'s imports in every
    check's worker, and lint passed them (a function's body was skipped whole, its defaults
    and decorators with it). A function's body is still its own."""
    found = module_problems(
        content_copy,
        "def _table():\n    import scipy.special\n    return {}\n"
        "def _register(function):\n    import pandas\n    return function\n"
        "def _later():\n    import yaml\n"
        "@_register\ndef f(x, table=_table()):\n    _later()\n    return x\n"
        "class Holder:\n    def g(self, y=_table()):\n        return y\n",
    )
    assert found == [
        (2, "imports 'scipy.special' (the top level calls _table() at line 10)"),
        (5, "imports 'pandas' (the top level calls _register() at line 9)"),
    ]


def test_the_function_a_decorator_factory_returns_is_run_by_the_import(content_copy):
    """`@_cached(3)` calls `_cached(3)`, then what it returns with the function decorated,
    both as the module is imported: lint followed the call alone, and the import in the
    decorator it returns (its own, or one of the module's) passed. The wrapper that the
    decorator returns in turn runs at each call, not at the import."""
    found = module_problems(
        content_copy,
        "def _cached(size):\n    import scipy.special\n"
        "    def decorate(function):\n        import pandas\n"
        "        def wrapper(*args):\n            import yaml\n"
        "            return function(*args)\n"
        "        return wrapper\n"
        "    return decorate\n"
        "def _by(name):\n    return _apply\n"
        "def _apply(function):\n    import sklearn\n    return function\n"
        "@_cached(3)\ndef f(x):\n    return x\n"
        "@_by('g')\ndef g(x):\n    return x\n",
    )
    assert found == [
        (2, "imports 'scipy.special' (the top level calls _cached() at line 15)"),
        (4, "imports 'pandas' (the top level calls what _cached() at line 15 returns)"),
        (13, "imports 'sklearn' (the top level calls what _by() at line 18 returns)"),
    ]


def test_an_import_module_call_with_a_constant_name_is_an_import(content_copy):
    """`importlib.import_module("scipy")` and `__import__("pandas")` at the top level import
    as `import scipy` does, and passed lint. A name that is not a constant is not known; an
    allowed module, and a call in a function the import does not call, pass."""
    found = module_problems(
        content_copy,
        "import importlib\nfrom importlib import import_module\n"
        "SPECIAL = importlib.import_module('scipy.special')\n"
        "PANDAS = __import__('pandas')\n"
        "YAML = import_module('yaml')\n"
        "JSON = importlib.import_module('json')\n"
        "NAME = 'sklearn'\nSOME = importlib.import_module(NAME)\n"
        "def _optional():\n    return importlib.import_module('matplotlib')\n",
    )
    assert found == [
        (3, "imports 'scipy.special'"),
        (4, "imports 'pandas'"),
        (5, "imports 'yaml'"),
    ]


def test_the_branch_of_an_if_the_import_takes_is_what_it_runs(content_copy):
    """An `if` was skipped wherever its test mentioned "__main__", and only a test written
    `TYPE_CHECKING` was taken as false: `if __name__ != "__main__":`, whose body the import
    runs, passed its import and its print, and the `else:` of `if not TYPE_CHECKING:`, which
    never runs, was refused. The branch a known test takes is read; both where it is not
    known."""
    found = module_problems(
        content_copy,
        "from typing import TYPE_CHECKING\n"
        "if __name__ != '__main__':\n    import scipy\n    print('imported')\n"
        "if not TYPE_CHECKING:\n    pass\nelse:\n    import pandas\n"
        "if __name__ == '__main__':\n    import yaml\nelse:\n    import sklearn\n",
    )
    assert found == [
        (3, "imports 'scipy'"),
        (4, "prints when imported"),
        (12, "imports 'sklearn'"),
    ]


def test_a_solution_module_that_prints_when_imported_is_a_problem(content_copy):
    """A top-level print (an author's debugging line) ran where the checks' workers preload the
    module, before any check: `check` passed the card, its output above the results and no
    check's (a QA pass). Prints in functions, and under `if __name__ == "__main__":`, are the
    checks' business (`check` says when a reference's check prints)."""
    found = module_problems(
        content_copy,
        "import sys\nprint('loaded')\nfor i in range(2):\n    sys.stderr.write('x')\n"
        "def _quiet():\n    print('in a function')\n"
        "if __name__ == '__main__':\n    print('run as a script')\n",
    )
    assert found == [(2, "prints when imported"), (4, "prints when imported")]


def test_a_print_in_a_class_body_or_a_function_the_import_calls_is_found_too(content_copy):
    """Only the top level's own statements were read: a print in a class body (run as the
    module is imported), or in a helper the top level calls, passed lint and printed above
    `check`'s results all the same."""
    found = module_problems(
        content_copy,
        "class Table:\n    print('in a class body')\n    def method(self):\n"
        "        print('in a method')\n"
        "def _setup():\n    print('set up')\n    return 1\n"
        "def _unused():\n    print('never called')\n"
        "VALUE = _setup()\n",
    )
    assert found == [
        (2, "prints when imported"),
        (6, "prints when imported (the top level calls _setup() at line 10)"),
    ]


def test_an_assert_statement_in_a_solution_module_is_a_problem(content_copy):
    """A checker's bare `assert` is dropped when Python runs with -O (or PYTHONOPTIMIZE): the
    check it guards then accepted every answer, and where it runs a learner failing it read
    only "the checker rejected the answer" (a QA pass of the author's path)."""
    found = module_problems(
        content_copy,
        "def _helper(got, want):\n    assert got == want\n    return got\n"
        "def _message(x):\n    assert x > 0, 'positive'\n",
    )
    assert found == [(2, "an `assert` statement"), (5, "an `assert` statement")]


def module_problems(content_copy, head: str) -> list[tuple[int | None, str]]:
    """Lint's problems (line, message up to its first colon) once `head` begins the fixture's
    arith solution module."""
    module = content_copy / "solutions" / "arith.py"
    module.write_text(head + module.read_text())
    return [(p.line, p.message.split(":")[0]) for p in lint(load_content(content_copy))]


def test_a_deck_the_repositorys_packages_do_not_list_is_a_problem(content_copy):
    """A card moved into a mistyped deck folder (cards/maths) passed lint: only the packaging
    test saw that an install would leave it out (a QA pass). Where the content folder's
    pyproject.toml lists decks, lint names the folder; without one, a learner's own content
    may have any decks."""
    (content_copy / "cards" / "basicz").mkdir()
    (content_copy / "cards" / "basics" / "bias-concept.yaml").rename(
        content_copy / "cards" / "basicz" / "bias-concept.yaml"
    )
    assert lint(load_content(content_copy)) == []  # (no pyproject.toml)
    (content_copy / "pyproject.toml").write_text(
        '[tool.setuptools]\npackages = ["studycli", "studycli._content.cards.basics", '
        '"studycli._content.cards.numbers"]\n'
    )
    [problem] = lint(load_content(content_copy))
    assert problem.path == content_copy / "cards" / "basicz"
    assert problem.message.startswith("a deck that pyproject.toml's packages do not list")
    assert 'add "studycli._content.cards.basicz" there' in problem.message
    assert "move its cards into their deck (basics, numbers)" in problem.message


def cloze_card(content_copy, card_id: str, prompt: str):
    """A cloze card of the numbers deck whose prompt is the `|` block `prompt` (its indented
    lines, and any keys after them); its path."""
    yaml = f"id: {card_id}\nkind: cloze\ntopic: bias\ntitle: T\nprompt: |\n{prompt}"
    return write_card(content_copy, "numbers", card_id, yaml)


def lines_of(path):
    """The 1-based line of each `key:` at the start of a line of the card file at `path`."""
    return {
        line.split(":", 1)[0]: number
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line[:1].isalpha()
    }


def test_latex_in_card_text_is_reported_at_its_field(content_copy):
    """LaTeX does not read in a terminal: lint names the field, the marker and what to write,
    at the line of the file that holds it (the answer's `|` block's first line, the second
    hint's entry; a one-line explanation's is its key's)."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    path.write_text(
        path.read_text().replace("the bias shifts", "the bias $$b$$ shifts")
        + "explanation: A \\frac{1}{2} and a \\sqrt{2}.\n"
        + "hints:\n  - A plane.\n  - The sum \\sum_i w_i x_i.\n"
    )
    found = {(p.line, p.message) for p in lint(load_content(content_copy))}
    keys = lines_of(path)
    answer, hint = keys["answer"] + 1, keys["hints"] + 2
    assert {line for line, _ in found} == {answer, keys["explanation"], hint}
    text = dict(found)
    assert text[answer].startswith("answer has LaTeX ($$), which does not read in a")
    assert text[keys["explanation"]].startswith("explanation has LaTeX (\\frac, \\sqrt)")
    assert "\\frac: a / b; \\sqrt: sqrt(x), or √x" in text[keys["explanation"]]
    assert text[hint].startswith("hint 2 has LaTeX (\\sum)")
    assert "plain text or Unicode, e.g. exp(x_i) / sum_j exp(x_j)" in text[hint]


def test_a_concept_answer_over_90_words_is_reported(content_copy):
    """The minimum information principle: the why goes in `explanation`, never rated."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    original = path.read_text()

    def answer_of(words):  # the original answer becomes the explanation
        answer = "answer: |\n  " + " ".join(["word"] * words) + "\nexplanation: |\n"
        path.write_text(original.replace("answer: |\n", answer))

    answer_of(91)
    [problem] = lint(load_content(content_copy))
    assert (problem.path, problem.line, problem.card_id) == (path, 7, "bias-concept")
    assert problem.message.startswith("the answer has 91 words; a concept answer is recalled")
    assert "move the why into 'explanation', which is never rated" in problem.message
    answer_of(90)
    assert messages(content_copy) == []  # the limit itself passes


def test_field_problems_name_the_line_of_the_field(cli, content_copy):
    """Lint's own field rules and the loader's schema errors point at the field's key, or at
    the entry of a list that is wrong (a prerequisite no card has)."""
    concept = content_copy / "cards" / "basics" / "bias-concept.yaml"
    concept.write_text(
        "# yaml-language-server: $schema=../schema.json\n"
        + concept.read_text().replace("topic: bias", "topic: biass")
        + "requires:\n  - ghost\n"
    )
    coding = content_copy / "cards" / "basics" / "add-one.yaml"
    coding.write_text(coding.read_text().replace("arith:add_one", "missing:add_one"))
    unknown = write_card(  # schema errors: the card does not load
        content_copy,
        "numbers",
        "unknown-field",
        "id: unknown-field\nkind: concept\ntopic: bias\ntitle: T\nprompt: |\n  P?\n"
        "answer: A.\ntpoic: bias\nhints: [ok, '']\n",
    )
    cloze = write_card(
        content_copy,
        "numbers",
        "bad-cloze",
        "id: bad-cloze\nkind: cloze\ntopic: bias\ntitle: T\n\nprompt: |\n  x = {{c1::}}\n",
    )
    found = {(p.path.name, p.line, p.message) for p in lint(load_content(content_copy))}
    start = {(name, line, message[:30]) for name, line, message in found}
    assert start == {
        ("bias-concept.yaml", lines_of(concept)["topic"], "unknown topic 'biass': did you"),
        ("bias-concept.yaml", lines_of(concept)["requires"] + 1, "requires 'ghost', which no car"),
        ("add-one.yaml", lines_of(coding)["solution"], "solution missing:add_one: ther"),
        ("unknown-field.yaml", lines_of(unknown)["tpoic"], "unknown field 'tpoic': did you"),
        ("unknown-field.yaml", lines_of(unknown)["hints"], "field 'hints' must be a list o"),
        ("bad-cloze.yaml", lines_of(cloze)["prompt"] + 1, "deletion c1 hides nothing: put"),
    }
    result = cli("--content", content_copy, "lint")
    topic = lines_of(concept)["topic"]
    # an entry that is not text is placed at its own line
    write_card(
        content_copy,
        "numbers",
        "unknown-field",
        "id: unknown-field\nkind: concept\ntopic: bias\ntitle: T\nprompt: P?\nanswer: A.\n"
        "hints:\n  - A hint.\n  - First: the rate.\n",
    )
    [problem] = [p for p in lint(load_content(content_copy)) if p.path.name == "unknown-field.yaml"]
    assert problem.line == 9 and "entry 2 is read as a mapping" in problem.message
    assert f"cards/basics/bias-concept.yaml:{topic}: unknown topic 'biass'" in result.stderr


@pytest.mark.parametrize(
    "deletion, at, said",
    [
        ("{{c0::b}}", 3, "deletion c0 must be numbered from c1"),
        ("{{c2:b}}", 3, "malformed deletion '{{c2:b}}"),
        ("{{c2::b::h::i}}", 3, "deletion c2 has '::' in its hint"),
        ("{{c2::b}}}", 3, "stray '}' after deletion c2"),
    ],
)
def test_a_cloze_mistake_is_reported_at_its_line_of_the_prompt(content_copy, deletion, at, said):
    """CONTRIBUTING promises the mistake's own line inside a `|` block: a cloze deletion's
    mistake was reported at the prompt's key, wherever in a long prompt it was."""
    text = "  First {{c1::a}} here,\n  and more text,\n  then " + deletion + " there.\n"
    cloze = cloze_card(content_copy, "long-cloze", text)
    [problem] = lint(load_content(content_copy))
    assert problem.message.startswith(said), problem.message
    assert problem.line == lines_of(cloze)["prompt"] + at


def test_each_malformed_deletion_is_reported_at_its_own_line(content_copy):
    """Lint reported the first malformed deletion of a prompt alone."""
    text = "  First {{c1::a}} score,\n  then {{c2:b}} and,\n  the correct score above}}.\n"
    cloze = cloze_card(content_copy, "two-malformed", text)
    problems = lint(load_content(content_copy))
    prompt = lines_of(cloze)["prompt"]
    assert [(p.line, p.message.split("': ", 1)[0]) for p in problems] == [
        (prompt + 2, "malformed deletion '{{c2:b}}"),
        (prompt + 3, "malformed deletion 'and, the correct score above}}"),
    ]


def test_a_deletion_left_open_is_reported_where_it_opens(content_copy):
    cloze = cloze_card(
        content_copy,
        "open-cloze",
        "  First {{c1::a here,\n  then {{c2::b}} there.\nexplanation: E {{c1 x.\n",
    )
    [problem] = lint(load_content(content_copy))
    assert problem.message.startswith("deletion c2 is inside c1"), problem.message
    assert problem.line == lines_of(cloze)["prompt"] + 1


@pytest.mark.parametrize(
    "old, new, line, fix",
    [
        # a line of a `|` text that lost its indentation: libyaml names the line after the
        # next one, and the fix it got was to quote the text
        ("  Return `x + 1`.", "Return `x + 1`.", 8, "indent it as the lines above it"),
        # a field without the space after its colon: named on the line after it
        ("kind: coding", "kind:coding", 2, "put a space after its colon"),
        # a field indented under the one above it, and a list entry not indented under its key
        ("answer: |", " answer: |", 7, "start every field at the beginning of its line"),
        ('  - "`return', '- "`return', 11, "start every field at the beginning of its line"),
    ],
)
def test_a_line_indented_wrongly_is_named_with_the_fix(content_copy, old, new, line, fix):
    """Found by writing a card as CONTRIBUTING.md says and breaking its indentation: these
    got libyaml's words at another line than the one to fix, with the advice to quote text."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    edit(path, old, new)
    [problem] = lint(load_content(content_copy))
    assert (problem.path, problem.line) == (path, line), problem
    assert fix in problem.message and "quote it" not in problem.message, problem.message


def test_a_text_line_that_left_its_field_is_named_with_the_fix(content_copy):
    """A line of a `|` text written at the start of the line, with a `: ` in it, is a field to
    YAML: lint said "unknown field 'In short'" with no line (a key with a space in it was never
    looked for) and no fix."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    edit(path, "  Return `x + 1`.", "In short: return `x + 1`.")
    [problem] = lint(load_content(content_copy))
    assert (problem.path, problem.line) == (path, 8), problem
    assert problem.message.startswith("unknown field 'In short'"), problem.message
    assert "indent it as the lines above it" in problem.message, problem.message


def test_a_card_that_does_not_load_leaves_its_solution_module_no_orphan(content_copy):
    """A card file with broken YAML or a schema error registers no module: its module is not
    reported as an orphan besides (the card's own problem is the one to fix)."""
    basics = content_copy / "cards" / "basics" / "add-one.yaml"
    basics.write_text(basics.read_text().replace("title: Add one", 'title: "Add one\n  x: ['))
    numbers = content_copy / "cards" / "numbers" / "triangle-derivation.yaml"
    numbers.write_text(numbers.read_text().replace("kind: derivation", "kind: derivaton"))
    (content_copy / "solutions" / "stray.py").write_text("def f():\n    return 1\n")
    found = [(p.path.name, p.message) for p in lint(load_content(content_copy))]
    assert sorted(name for name, _ in found) == [
        "add-one.yaml",
        "stray.py",
        "triangle-derivation.yaml",
    ]
    assert any(m.startswith("YAML syntax error") for name, m in found if name == "add-one.yaml")
    assert ("stray.py", "orphan solution module: no card names it in 'solution' or 'check'") in (
        found
    )


def test_a_card_that_does_not_load_is_no_missing_prerequisite_besides(content_copy):
    """A card that requires a card whose file does not load gets no "which no card has" of
    its own: the broken file's problem is the one to fix. A prerequisite no file has still
    counts."""
    broken = content_copy / "cards" / "basics" / "add-one.yaml"
    broken.write_text(broken.read_text().replace("kind: coding", "kind: codng"))
    concept = content_copy / "cards" / "basics" / "bias-concept.yaml"
    concept.write_text(concept.read_text() + "requires:\n  - add-one\n  - ghost\n")
    found = [(p.path.name, p.message) for p in lint(load_content(content_copy))]
    assert [name for name, _ in found] == ["add-one.yaml", "bias-concept.yaml"]
    assert found[1][1].startswith("requires 'ghost', which no card has: ")


@pytest.mark.parametrize(
    "text, line",
    [
        ("For each block:\n  m = max(m, x)\n  s = s + 1", 2),  # meant apart, joined
        ("I = a\n    = b", 2),
        ("For each block:\n```\n  m = max(m, x)\n  s = s + 1\n```", None),
        ("Code:\n\n    a = 1\n    b = 2\n\nThen.", None),  # an indented block
        ("Pitfalls:\n- one\n  continued\n- two", None),  # a list item's continuation
        ("1. first\n   more\n2. second", None),
        ("plain\nwrapped\nparagraph", None),
        ("- item\n\ntext\n  joined", 4),  # the list ended at the paragraph
        ("Code:\n\n\ta = 1\n\tb = 2", None),  # an indented block, by tabs (4 columns each)
        ("Code:\n\n \ta = 1\n  \tb = 2", None),
        ("For each block:\n\tm = max(m, x)", 2),  # a tab: joined all the same
    ],
)
def test_joined_line_finds_an_indented_line_that_continues_a_paragraph(text, line):
    assert joined_line(text) == line


@pytest.mark.parametrize(
    "text, line",
    [
        ("Pitfalls:\n- one\n- two\nCost: O(n).", 4),  # meant as a paragraph of its own
        ("1. first\n2. second\nEach index is pushed once.", 3),
        ("- one\n- two\n\nCost: O(n).", None),  # a blank line ends the list
        ("- one, wrapped\nat the start of a line\n- two", None),  # a lazy continuation
        ("- one\n  Indented under its item.", None),
        ("Plain\nparagraph.", None),
        ("```\n- a\nB\n```", None),
    ],
)
def test_list_swallowed_line_finds_a_paragraph_joined_to_a_list_item(text, line):
    assert list_swallowed_line(text) == line


@pytest.mark.parametrize(
    "text, found",
    [
        # the shipped cards' own, before they were fixed
        ("(z*z).sum(1) - 2 z @ codebook.T + (codebook*codebook).sum(1)", (1, "*z).sum(1) - 2 z")),
        ("Bias-correct: divide m by 1 - β1**t and v by 1 - β2**t.", (1, "**t and v by 1 - β2**")),
        ("One step:\n∇_μ E_{z ~ N(μ, σ²)}[f(z)] has no derivative.", (2, "_μ E_")),
        ("- one\n- z*z and q*q", (2, "*z and q*")),
        ("Define __init__ first.", (1, "__init__")),
        # meant, or shown as written
        ("A *word* and **two words.** stay emphasis.", None),
        ("Code spans keep them: `a*b*c` and `x_i`.", None),
        ("x_i and y_j, a * b * c, 2*3", None),
        ("Escaped: \\*b\\*.", None),
        ("* a bullet\n* another", None),
    ],
)
def test_emphasis_eaten_finds_stars_and_underscores_markdown_drops(text, found):
    """A formula's `*` or `_` that Markdown pairs into emphasis vanishes on screen (the text
    between turns bold or italic): five shipped cards showed `(zz).sum(1)`, `β1t` or `∇μ`."""
    got = emphasis_eaten(text)
    if found is None:
        assert got is None
    else:
        assert got is not None and got[0] == found[0], got
        assert got[1].startswith(found[1]), got


def _the_problem_of_an_answer(content_copy, lines: str):
    """The one problem lint finds once `lines` open bias-concept's answer, and the file line
    of that answer's `answer:` key."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "answer: |\n", "answer: |\n" + lines)
    [problem] = lint(load_content(content_copy))
    return problem, lines_of(path)["answer"]


def test_a_formula_markdown_reads_as_emphasis_is_reported(content_copy):
    """Found on screen in the vector-quantize card: `(z*z).sum(1) ... (codebook*codebook)`
    showed as `(zz).sum(1) ... (codebookcodebook)`; `lint` now names the line and the fix."""
    problem, answer = _the_problem_of_an_answer(
        content_copy, "  Only the origin.\n\n  With a*x + b*y = 0.\n"
    )
    assert problem.line == answer + 3
    assert problem.message.startswith(
        "answer, line 3: Markdown reads the `*` or `_` around '*x + b*' as emphasis"
    ), problem.message
    assert "put the formula in `backticks`" in problem.message


def test_a_paragraph_written_right_under_a_list_is_reported(content_copy):
    """Found reading the sliding-window-max card in a first review: its answer's closing
    sentences ("Each index is appended once ...", "Pitfalls: ...") showed inside the list's
    last item, as they did in seven other shipped cards: Markdown continues a list item with
    the next line unless a blank line comes between."""
    problem, answer = _the_problem_of_an_answer(
        content_copy, "  - Origin only.\n  - No shift.\n  So: add a bias.\n"
    )
    assert problem.line == answer + 3  # the swallowed line itself
    assert problem.message.startswith(
        "answer, line 3: a line right under a list item is joined to that item"
    ), problem.message
    assert "put a blank line before it" in problem.message


def test_lines_that_markdown_joins_into_a_paragraph_are_reported(content_copy):
    """Formulas indented under a line of prose look apart in the card file, but Markdown
    joins them into one run-on paragraph in the terminal and in Anki."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    path.write_text(
        path.read_text().replace(
            "answer: |\n", "answer: |\n  With r = 2:\n    A = r + 1\n    B = r\n", 1
        )
    )
    [problem] = lint(load_content(content_copy))
    assert problem.line == lines_of(path)["answer"] + 2  # the joined line itself
    assert problem.message.startswith(
        "answer, line 2: an indented line under a paragraph's line is joined to it"
    )
    assert "put lines that must stay apart between ``` lines, or make them a list" in (
        problem.message
    )


def test_a_text_whose_first_line_is_indented_less_says_to_line_them_up(content_copy):
    """A `|` text whose first line has one space and the next two: YAML keeps the second
    line's extra space, and lint said only to fence the lines or make them a list, when the
    author had meant no indentation at all."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(
        path,
        "  Only boundaries through the origin; the bias shifts the threshold.\n",
        " Only boundaries through the origin;\n  the bias shifts the threshold.\n",
    )  # its first line indented by one space, the next by two
    [problem] = lint(load_content(content_copy))
    assert problem.line == lines_of(path)["answer"] + 2, problem
    assert (
        "if it is not meant to stand apart, indent it as the line above it (the first line of "
        "a `|` text sets the indentation of its lines)"
    ) in problem.message, problem.message


def wrong_answer_problems(root):
    """(line, message) of each problem lint reports in the fixture's solution module."""
    module = root / "solutions" / "arith.py"
    return sorted((p.line, p.message) for p in lint(load_content(root)) if p.path == module)


def line_of(path, text):
    """The 1-based line of `path` that holds `text`."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_wrong_answer_listed_twice_is_reported_at_its_repeat(content_copy):
    """`[_wrong_add_two, _wrong_add_two]`: lint passed and check said "2 wrong answer(s)
    rejected" for one mistake."""
    module = content_copy / "solutions" / "arith.py"
    edit(module, "[_wrong_add_two, _wrong_identity]", "[_wrong_add_two,\n    _wrong_add_two]")
    card = content_copy / "cards" / "basics" / "add-one.yaml"
    found = [(p.path, p.line, p.message) for p in lint(load_content(content_copy))]
    first = line_of(module, 'WRONG_ANSWERS = {"add_one"')
    assert (
        module,
        first + 1,
        f"WRONG_ANSWERS['add_one'] lists _wrong_add_two more than once (first on line {first}): "
        "check would run it twice and count it twice; list each answer once (write another "
        "one if the list needs more)",
    ) in found
    # one mistake is short of the two needed, and the repeat's own problems are not said twice
    [(path, line, short)] = [f for f in found if f[0] != module]
    assert (path, line) == (card, lines_of(card)["solution"])
    assert short.startswith(
        "solutions/arith.py lists 1 wrong answer(s) for 'add_one' in WRONG_ANSWERS (repeats "
        "not counted); at least 2 different ones are needed"
    )
    assert len(found) == 2


def test_a_wrong_answer_without_a_docstring_is_reported_at_its_def(content_copy):
    """CONTRIBUTING asks each wrong answer for a docstring naming its mistake (check's report
    names it by that line); lint passed one without."""
    module = content_copy / "solutions" / "arith.py"
    edit(module, '    """Adds two instead of one."""\n', "")
    edit(module, '    """Uses n² / 2."""', '    """ """')
    assert wrong_answer_problems(content_copy) == [
        (
            line_of(module, "def _wrong_add_two("),
            "wrong answer _wrong_add_two (for 'add_one') has no docstring: write one line under "
            "`def _wrong_add_two` that names its mistake (check's report names the wrong answer "
            "by it)",
        ),
        (
            line_of(module, "def _wrong_float("),
            "wrong answer _wrong_float (for 'triangle') has no docstring: write one line under "
            "`def _wrong_float` that names its mistake (check's report names the wrong answer "
            "by it)",
        ),
    ]


def test_the_reference_listed_as_a_wrong_answer_is_said_to_be_the_reference(content_copy):
    """Lint said to put @fails_with on the reference, which would make check demand that the
    checker reject the correct answer."""
    module = content_copy / "solutions" / "arith.py"
    edit(module, "[_wrong_off_by_one, _wrong_float]", "[_wrong_off_by_one, _wrong_float, triangle]")
    assert wrong_answer_problems(content_copy) == [
        (
            line_of(module, 'WRONG_ANSWERS["triangle"]'),
            "WRONG_ANSWERS['triangle'] lists triangle, the reference itself: check would demand "
            "that the checker reject the correct answer; list only wrong answers, each a `def` "
            "of its own that makes one mistake",
        )
    ]


def test_a_misspelled_solution_function_is_fixed_in_the_card(content_copy):
    """`solution: arith:add_onee`: lint said to rename the module's correct WRONG_ANSWERS and
    CORRECT_VARIANTS keys to the card's typo. The card is what to fix, and its problem says so;
    the keys, which name a function the module defines, are not reported."""
    card = content_copy / "cards" / "basics" / "add-one.yaml"
    edit(card, "solution: arith:add_one", "solution: arith:add_onee")
    found = [(p.path, p.line, p.message) for p in lint(load_content(content_copy))]
    assert found == [
        (
            card,
            lines_of(card)["solution"],
            "solution arith:add_onee: solutions/arith.py defines no top-level function "
            "'add_onee': did you mean arith:add_one? set the card's `solution:` to it",
        )
    ]
    # the other way round, the card and the tables agree and the `def` is misspelled
    edit(card, "solution: arith:add_onee", "solution: arith:add_one")
    edit(content_copy / "solutions" / "arith.py", "def add_one(", "def add_onee(")
    [(_, _, message)] = [(p.path, p.line, p.message) for p in lint(load_content(content_copy))]
    assert message == (
        "solution arith:add_one: solutions/arith.py defines no top-level function 'add_one', "
        "which its WRONG_ANSWERS and CORRECT_VARIANTS name too: define `def add_one(...)` "
        "there (is `def add_onee` a misspelling of it?)"
    )


def test_a_deletion_in_the_title_is_reported_at_the_title(cli, content_copy):
    """Only the prompt's deletions are hidden: a title's was printed as written in the card's
    header, the answer in plain sight."""
    path = write_card(
        content_copy,
        "numbers",
        "rate-cloze",
        "id: rate-cloze\nkind: cloze\ntopic: poisson\ntitle: The rate {{c1::pλ}}\n"
        "prompt: |\n  The rate is {{c1::pλ}} per unit.\n",
    )
    [problem] = lint(load_content(content_copy))
    assert (problem.path, problem.line, problem.card_id) == (path, 4, "rate-cloze")
    assert problem.message == (
        "title has a cloze deletion ('{{c1::pλ}}'), which the card's header shows as written, "
        "the hidden text in plain sight: only the prompt's deletions are hidden, so keep them "
        "there and write the title without one"
    )
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert "cards/numbers/rate-cloze.yaml:4: title has a cloze deletion" in result.stderr


def test_a_deletion_in_a_card_that_is_no_cloze_card_is_reported_at_its_line(cli, content_copy):
    """Only a cloze card hides its deletions: a concept card written with `{{c1::...}}` (kind
    left as `studycli new concept` wrote it) showed the braces and the hidden text as written,
    and lint said nothing."""
    path = write_card(
        content_copy,
        "numbers",
        "rate-concept",
        "id: rate-concept\nkind: concept\ntopic: poisson\ntitle: The rate\n"
        "prompt: |\n  What is the rate?\n  Per unit, it is {{c1::pλ}}.\nanswer: pλ per unit.\n"
        "hints:\n  - Not zero.\n  - It is {{c2::p times λ}}.\n",
    )
    problems = lint(load_content(content_copy))
    assert [(p.path, p.line, p.card_id) for p in problems] == [
        (path, 7, "rate-concept"),
        (path, 11, "rate-concept"),
    ]
    assert problems[0].message == (
        "prompt has a cloze deletion ('{{c1::pλ}}'), but a concept card shows it as written, "
        "braces and hidden text in plain sight: only a cloze card hides its deletions: make "
        "it `kind: cloze` (the deletions are then what is recalled, and it has no answer, "
        "hints or steps), or write the text without the braces"
    )
    assert problems[1].message.startswith("hints has a cloze deletion ('{{c2::p times λ}}')")
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert "cards/numbers/rate-concept.yaml:7: prompt has a cloze deletion" in result.stderr


def test_a_cloze_deletion_written_as_code_in_a_card_that_is_no_cloze_card_is_meant(content_copy):
    """Code is shown as written, as its author means it: a card on Anki's own cloze syntax,
    with `{{c1::Paris}}` in a code span or a fenced block, was refused as a deletion in plain
    sight. One outside the code, after it, is still refused at its line."""
    path = write_card(
        content_copy,
        "numbers",
        "anki-syntax",
        "id: anki-syntax\nkind: concept\ntopic: poisson\ntitle: Anki's cloze syntax\n"
        "prompt: |\n  What does Anki show of `{{c1::Paris}} is in France` on the front?\n"
        "answer: |\n  A blank:\n\n  ```\n  {{c1::Paris}} -> [...]\n  ```\n\n  `{{c2::x}}`, too.\n"
        "explanation: |\n  `code` then {{c1::plain}}.\n",
    )
    problems = lint(load_content(content_copy))
    assert [(p.path, p.line, p.message.split(" (")[0]) for p in problems] == [
        (path, 16, "explanation has a cloze deletion"),
    ]


def test_a_mistake_in_a_literal_block_is_reported_at_its_own_line(cli, content_copy):
    """A `|` block holds its text's lines one for one: lint points at the line of the file
    where the LaTeX or the joined line is, so that an editor jumps to it. Folded text (`>`)
    is joined, and keeps its key's line."""
    write_card(
        content_copy,
        "numbers",
        "block-concept",
        r"""id: block-concept
kind: concept
topic: bias
title: Blocks
prompt: |
  Line one.
  Line two.
  Line three.
  The half \frac{1}{2}?
answer: |

  With r = 2:
    A = r + 1
explanation: >
  Folded text
  with \sqrt{2} on its second line.
""",
    )
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    shown = "cards/numbers/block-concept.yaml"
    assert f"{shown}:9: prompt has LaTeX (\\frac)" in result.stderr
    # the blank line the answer's text starts with counts: line 2 of its text is line 13
    assert f"{shown}:13: answer, line 2: an indented line under a paragraph's" in result.stderr
    assert f"{shown}:14: explanation has LaTeX (\\sqrt)" in result.stderr
    assert "3 problem(s)" in result.stderr


def test_a_mistake_in_a_list_entry_is_reported_at_the_entry(cli, content_copy):
    """A step, a hint or a prerequisite is reported at its own entry (at the line inside it,
    for a `|` entry); a quoted entry over two lines at the line where it begins."""
    write_card(
        content_copy,
        "numbers",
        "list-derivation",
        r"""id: list-derivation
kind: derivation
topic: random-walk
title: Lists
prompt: |
  Derive it.
steps:
  - First step.
  - |
    Second step,
    with \sum_i i.
  - "A quoted step
    with \\cdot in it."
answer: Done.
hints: [Fine, "Use \\prod."]
requires:
  - add-one
  - ghost
""",
    )
    edit(
        content_copy / "cards" / "basics" / "add-one.yaml",
        "tags:",
        "requires:\n  - list-derivation\ntags:",
    )
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    shown = "cards/numbers/list-derivation.yaml"
    assert f"{shown}:11: step 2 has LaTeX (\\sum)" in result.stderr
    assert f"{shown}:12: step 3 has LaTeX (\\cdot)" in result.stderr
    assert f"{shown}:15: hint 2 has LaTeX (\\prod)" in result.stderr
    assert f"{shown}:17: requires forms a cycle: add-one -> list-derivation -> add-one" in (
        result.stderr
    )
    assert f"{shown}:18: requires 'ghost', which no card has" in result.stderr
    assert "5 problem(s)" in result.stderr


def test_a_mistake_in_a_written_starter_is_reported_at_its_line(cli, content_copy):
    """The starter is Python in a `|` block: its syntax error, or a `def` whose parameters
    are not the reference's, is reported at that line of the card file."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    original = path.read_text()
    path.write_text(original + "starter: |\n  import math\n\n  def add_one(y):\n      pass\n")
    starter = lines_of(path)["starter"]
    result = cli("--content", content_copy, "lint")
    assert f"cards/basics/add-one.yaml:{starter + 3}: the starter's add_one takes (y)" in (
        result.stderr
    )
    path.write_text(original + "starter: |\n  def add_one(x):\n      return x +\n")
    result = cli("--content", content_copy, "lint")
    assert (
        f"cards/basics/add-one.yaml:{starter + 2}: the starter does not compile: invalid "
        "syntax (starter line 2)"
    ) in result.stderr


def test_titles_and_prompts_over_their_limits_are_reported(cli, content_copy):
    """Cards short enough to be learnt: the title of any kind of card, and the prompt of a
    card recalled from memory (concept, cloze: its deletions' text counted, not their hints),
    in words, each at its key's line; the limit itself passes (a derivation's prompt, the
    task it sets, has a limit of its own: see below)."""
    coding = content_copy / "cards" / "basics" / "add-one.yaml"
    concept = content_copy / "cards" / "basics" / "bias-concept.yaml"
    derivation = content_copy / "cards" / "numbers" / "triangle-derivation.yaml"
    cloze = content_copy / "cards" / "numbers" / "long-cloze.yaml"
    original = {path: path.read_text() for path in (coding, concept)}

    def write(title, concept_prompt, cloze_prompt):
        for path, text in original.items():
            path.write_text(text)
        edit(coding, "title: Add one", "title: " + " ".join(["Add"] * title))
        question = "Without a bias term, which decision boundaries can `w·x` express?"
        edit(concept, question, " ".join(["Why"] * concept_prompt))
        write_card(
            content_copy,
            "numbers",
            "long-cloze",
            "id: long-cloze\nkind: cloze\ntopic: poisson\ntitle: Long\nprompt: |\n  "
            + " ".join(["word"] * (cloze_prompt - 2))
            + " {{c1::two words::and a hint of seven words here}}\n",
        )

    edit(derivation, "Derive a closed", " ".join(["so"] * 60) + " derive a closed")
    title, prompt, text = MAX_TITLE_WORDS, MAX_CONCEPT_PROMPT_WORDS, MAX_CLOZE_PROMPT_WORDS
    write(title + 1, prompt + 1, text)
    found = [(p.path, p.line, p.message) for p in lint(load_content(content_copy))]
    assert found == [
        (
            coding,
            4,
            f"the title has {title + 1} words; a title names the card above its prompt, read "
            f"at a glance (at most {title} words, about 7 at best): name the idea, and leave "
            "the question to the prompt and the result to the answer",
        ),
        (
            concept,
            5,
            f"the prompt has {prompt + 1} words; a concept prompt is read before every recall "
            f"(at most {prompt} words, about 20 at best): ask for one fact in the words the "
            "question needs, and split a card that asks several into one card per fact",
        ),
    ]
    result = cli("--content", content_copy, "lint")
    assert f"cards/basics/add-one.yaml:4: the title has {title + 1} words;" in result.stderr
    write(title, prompt, text + 1)
    found = [(p.path, p.line, p.message) for p in lint(load_content(content_copy))]
    assert found == [
        (
            cloze,
            5,
            f"the prompt has {text + 1} words (a deletion's hidden text counted, not its hint); "
            f"a cloze text is read whole at every one of its deletions (at most {text} words, "
            "about 40 at best): keep the words the deletions need, and move the rest into "
            "'explanation' or a card of its own",
        )
    ]


def test_a_coding_or_derivation_prompt_over_its_limit_is_reported(content_copy):
    """A card answered by working it out had no limit on its prompt: one of 500 words linted
    clean (a QA pass of the author's path), where the longest shipped have 202 (coding) and 94
    (derivation). The limit itself passes."""
    coding = content_copy / "cards" / "basics" / "add-one.yaml"
    derivation = content_copy / "cards" / "numbers" / "triangle-derivation.yaml"
    originals = {path: path.read_text() for path in (coding, derivation)}

    def lengthen(words: dict[Kind, int]) -> list[tuple]:
        for path, kind, start in (
            (coding, Kind.CODING, "Write"),
            (derivation, Kind.DERIVATION, "Derive"),
        ):
            text = originals[path]
            had = len(yaml_prompt(text).split())
            path.write_text(
                text.replace(start, " ".join(["so"] * (words[kind] - had)) + " " + start, 1)
            )
        return [(p.path, p.message) for p in lint(load_content(content_copy))]

    at_most = MAX_WORKED_PROMPT_WORDS
    assert lengthen(at_most) == []
    found = lengthen({kind: most + 1 for kind, most in at_most.items()})
    assert [(path, message.split(";")[0]) for path, message in found] == [
        (coding, f"the prompt has {at_most[Kind.CODING] + 1} words"),
        (derivation, f"the prompt has {at_most[Kind.DERIVATION] + 1} words"),
    ]
    assert "a coding prompt is read before every attempt" in found[0][1]


def yaml_prompt(text: str) -> str:
    import yaml

    return yaml.safe_load(text)["prompt"]


def test_a_hint_indented_under_the_hint_above_is_reported_not_joined(cli, content_copy):
    """`- ` indented deeper than the entry above is more of that entry's text to YAML: two
    hints became one ("first - second") and lint was clean. A Markdown list nested in a block
    text is text as meant, and a plain entry wrapped over two lines is one entry."""
    write_card(
        content_copy,
        "basics",
        "two-hints",
        """id: two-hints
kind: concept
topic: bias
title: Two hints
prompt: |
  What is it?

  - a list item
    - nested in the prompt, as meant
answer: It.
hints:
  - A first hint,
    wrapped over two lines.
    - a second hint, indented one level too deep
""",
    )
    [card] = [c for c in load_content(content_copy).cards.values() if c.id == "two-hints"]
    assert len(card.hints) == 1  # (what YAML reads: the mistake this is about)
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert (
        "cards/basics/two-hints.yaml:14: a `- ` line indented deeper than the list entry above "
        "it is not an entry" in result.stderr
    )
    assert "1 problem(s)" in result.stderr


def test_an_empty_entry_indented_under_the_entry_above_is_reported(cli, content_copy):
    """A `-` with nothing after it, indented under a plain entry, is more of that entry's text
    to YAML ('A first hint -') as much as a `- text` line is; lint matched only `- ` with a
    space after it, so the empty one passed. An empty `-` that opens a nested list is the
    schema's problem, not a join."""
    write_card(
        content_copy,
        "basics",
        "empty-entry",
        "id: empty-entry\nkind: concept\ntopic: bias\ntitle: Empty entry\nprompt: What is it?\n"
        "answer: It.\nhints:\n  - A first hint\n    -\n  - A third hint\n",
    )
    [card] = [c for c in load_content(content_copy).cards.values() if c.id == "empty-entry"]
    assert card.hints == ("A first hint -", "A third hint")  # (what YAML reads)
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert (
        "cards/basics/empty-entry.yaml:9: a `- ` line indented deeper than the list entry above "
        "it is not an entry" in result.stderr
    )
    assert "1 problem(s)" in result.stderr
    assert joined_entry("hints:\n  -\n    - a list in the entry\n") is None


def test_a_list_line_inside_a_quoted_string_is_reported_as_folded_text(cli, content_copy):
    """A `- ` line inside a quoted string that spans lines is text that YAML folds into the line
    above ('Steps: - one - two'), no entry: lint said nothing of the first such line and
    called a deeper one "not an entry ... indent it as the entry above", which in the string
    changes nothing. A `- ` line after a blank line of the string starts a line of its text,
    and a dash after a closed string's quote is no line of it."""
    write_card(
        content_copy,
        "basics",
        "quoted-list",
        "id: quoted-list\nkind: concept\ntopic: bias\ntitle: Quoted list\nprompt: What is it?\n"
        'answer: "Steps:\n  - one\n    - two"\n'
        'explanation: "A list\n\n  - after a blank line"\n'
        'hints:\n  - "It \\" - this"\n  - Another hint.\n',
    )
    [card] = [c for c in load_content(content_copy).cards.values() if c.id == "quoted-list"]
    assert card.answer == "Steps: - one - two"  # (what YAML reads)
    assert card.hints == ('It " - this', "Another hint.")
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert (
        "cards/basics/quoted-list.yaml:7: a `- ` line inside the quoted string opened on line 6 "
        "is text, not a list entry: YAML folds it into the line above" in result.stderr
    )
    assert "1 problem(s)" in result.stderr


def test_a_list_line_under_a_fields_plain_text_is_reported_as_folded_text(cli, content_copy):
    """A `- ` line under a field's plain text (`answer: The steps` and a list under it) is more
    of that text to YAML ('The steps - first - second'): the author meant a list or a block,
    and lint said nothing. A dash in a sentence, on a line of its own or wrapped, and a `- `
    line after a blank line of the text (a line break) are text as meant."""
    write_card(
        content_copy,
        "basics",
        "plain-list",
        "id: plain-list\nkind: concept\ntopic: bias\ntitle: Plain list - a test\n"
        "prompt: What is it - and why\n  does it - matter?\n"
        "answer: The steps\n  - first\n  - second\n"
        "explanation: A list\n\n  - after a blank line\nhints:\n  - A hint - in short.\n",
    )
    [card] = [c for c in load_content(content_copy).cards.values() if c.id == "plain-list"]
    assert card.answer == "The steps - first - second"  # (what YAML reads)
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert (
        "cards/basics/plain-list.yaml:8: a `- ` line under answer's plain text (opened on line 7) "
        "is more of that text, not a list entry: YAML folds it into the line above, and reads "
        "answer as 'The steps - first - second'" in result.stderr
    )
    assert "(`answer: |`" in result.stderr  # the fix
    assert "1 problem(s)" in result.stderr
    # the text may start on the line under its key
    assert joined_entry("answer:\n  The steps\n  - first\n") == (3, None, 1, "answer")


def test_an_id_over_the_longest_an_id_may_have_is_reported(cli, content_copy):
    """An id is the card's file name and the key of every review in every review log; an
    import takes ids of at most 200 characters, and lint took any length (a 250-character
    card's reviews could be exported and never imported back)."""
    card_id = "a-" * 30 + "b"  # 61 characters
    write_card(
        content_copy,
        "basics",
        card_id,
        f"id: {card_id}\nkind: concept\ntopic: bias\ntitle: Long\nprompt: What?\nanswer: It.\n",
    )
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 1
    assert (
        f"cards/basics/{card_id}.yaml:1: id 'a-a-a-a-a-a-a-a-a-a-'... is 61 characters long, over "
        "the 60 an id may have (it is the card's file name and the key of every review): "
        "shorten it" in result.stderr
    )


def test_a_deletion_its_question_shows_elsewhere_is_reported_at_that_line(content_copy):
    """Found reading every deletion's front: gru-gates-cloze#c1 blanked 'update' in "the
    [...] gate z" and showed "its state update is" two lines down; the front of
    angular-margin-combined-margin#c2 began "The ArcFace paper writes ..." above "m2 is
    [...]'s additive angular margin". A hint that holds the hidden text gives it away too;
    a number shown elsewhere (BERT's 12 layers and 12 heads) is not reported."""
    text = (
        "  A GRU has two gates: the {{c1::update}} gate z and the {{c2::reset}} gate r,\n"
        "  with {{c3::12}} layers and 12 heads.\n"
        "  Its state Update is\n"
    )
    card = cloze_card(content_copy, "gru-cloze", text)
    [problem] = lint(load_content(content_copy))
    assert problem.line == lines_of(card)["prompt"] + 3
    assert problem.message.startswith(
        "prompt, line 3: deletion c1 hides 'update', which its question shows here"
    ), problem.message
    edit(card, "  Its state Update is\n", "  Its new state is {{c4::x::the reset gate's}}\n")
    assert lint(load_content(content_copy)) == []  # (c4's hint is not on c2's question)
    edit(card, "{{c2::reset}}", "{{c2::reset::reset or forget}}")
    [problem] = lint(load_content(content_copy))
    assert problem.message.startswith("prompt, line 1: deletion c2 hides 'reset'"), problem.message


def test_a_line_of_code_too_wide_for_80_columns_is_reported_at_its_line(content_copy):
    """Found rendering every card at 80 columns: seven formulas and examples in code blocks
    (hungarian's example, xgboost-second-order-derivation's step 5, ...) went on after a ↪ on
    a second line, out of their layout. 74 columns fit (combining marks take none); 75 do
    not, in an indented or a fenced block, or in a cloze text once blanked with its hint."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    fits = "m̂ = " + "x" * 70  # 74 columns, the hat combining
    edit(
        path, "answer: |\n", f"answer: |\n  Code:\n\n      {fits}\n\n  ```\n  {'y' * 75}\n  ```\n\n"
    )
    [problem] = lint(load_content(content_copy))
    assert problem.line == lines_of(path)["answer"] + 6
    assert problem.message.startswith("answer, line 6: a line of code 75 columns wide"), (
        problem.message
    )
    edit(path, "y" * 75, "y" * 74)
    assert lint(load_content(content_copy)) == []
    text = f"  With\n\n      {'z' * 60} + {{{{c1::b::{'the bias term'}}}}}\n"
    cloze_card(content_copy, "wide-cloze", text)
    [problem] = lint(load_content(content_copy))
    assert problem.message.startswith("prompt, line 3: a line of code 78 columns wide")


def test_a_starter_line_too_wide_for_80_columns_is_reported_at_the_module_line(content_copy):
    """A starter made from the reference shows its signature and docstring, which ruff lets
    run to 100 columns: 314 lines of 80 shipped starters went on after a ↪ at 80 columns, and
    lint, which measured only the code in card text, said nothing. Reported at the line of
    the solution module to rewrap; 74 columns fit."""
    module = content_copy / "solutions" / "arith.py"
    line = module.read_text(encoding="utf-8").splitlines().index("        x: any integer.") + 1
    edit(module, "        x: any integer.", "        x: any integer, " + "n" * 51)  # 75 columns
    [problem] = lint(load_content(content_copy))
    assert (problem.path, problem.line, problem.card_id) == (module, line, "add-one")
    assert problem.message.startswith(
        "the starter of card add-one, made from add_one's docstring, has a line 75 columns "
        "wide; an 80-column terminal shows 74 columns"
    ), problem.message
    assert problem.message.endswith(
        ": rewrap the docstring at 74 columns, its indentation included (a formula or an "
        "example broken by hand where it reads well)"
    ), problem.message
    edit(module, "n" * 51, "n" * 50)
    assert lint(load_content(content_copy)) == []
    wide = "def add_one(x: int, " + "y" * 38 + ": int = 0) -> int:"  # 76 columns
    edit(module, "def add_one(x: int) -> int:", wide)
    [problem] = lint(load_content(content_copy))
    assert problem.line == line - 4
    assert "add_one's signature, has a line 76 columns wide" in problem.message


def test_a_written_starter_line_too_wide_is_reported_at_its_line(content_copy):
    """A card's own starter is shown in the same box: its first line too wide is reported at
    its line of the card file, with a count of the others."""
    path = content_copy / "cards" / "basics" / "add-one.yaml"
    body = "    return x + " + "1 + " * 14 + "1000"  # 75 columns
    edit(path, "solution:", f"starter: |\n  def add_one(x):\n  {body}\n  {body}\nsolution:")
    [problem] = lint(load_content(content_copy))
    assert problem.line == lines_of(path)["starter"] + 2
    assert problem.message.startswith(
        "starter, line 2: a line 75 columns wide (and 1 more line over 74); an 80-column"
    ), problem.message


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("c = a\n+ b, the sum.", (2, "+ ")),
        ("x = y\n* z, the product.", (2, "* ")),
        ("Steps\n- one\n- two", None),  # the cards' bullet: a list, as meant
        ("First, then\n1. second", None),
        ("Pitfalls:\n- one\n- two", None),  # meant: a list under a line ending with ':'
        ("Sum:\n\n+ a\n+ b", None),
        ("- item\n  + nested", None),
        ("c = a +\nb, the sum.", None),
    ],
)
def test_list_interrupting_finds_a_formula_line_markdown_makes_a_list(text, found):
    assert list_interrupting(text) == found


def test_a_formula_line_that_markdown_makes_a_list_item_is_reported(content_copy):
    """Found reading every card at 80 columns: lstm-gru-gates' answer showed '(GRU: h_t =
    (1 − z) ⊙ h_(t−1)' and then a bullet, '• z ⊙ h̃). When the forget gate ...': its second
    line began with '+ ', which Markdown reads as a list item even inside a paragraph
    (position-encoding-transformer-xl's explanation lost a '+' the same way)."""
    problem, answer = _the_problem_of_an_answer(content_copy, "  With c = a\n  + b the sum.\n\n")
    assert problem.line == answer + 2
    assert problem.message.startswith(
        "answer, line 2: a line that begins with '+ ' right under a paragraph's line starts a list"
    ), problem.message
    assert "end the line above with the '+' instead" in problem.message


def _rename(root, old="bias-concept", new="neuron-bias", earlier="[bias-concept]"):
    """The fixture's card `old` renamed `new`, its file too, listing `earlier` as the ids it
    had before (`renamed_from`)."""
    path = root / "cards" / "basics" / f"{old}.yaml"
    moved = path.with_name(f"{new}.yaml")
    path.rename(moved)
    edit(moved, f"id: {old}\n", f"id: {new}\nrenamed_from: {earlier}\n")
    return moved


def test_a_card_renamed_with_renamed_from_lints_clean(content_copy):
    poisson = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    _rename(content_copy)
    content = load_content(content_copy)
    assert content.cards["neuron-bias"].renamed_from == ("bias-concept",)
    assert content.renames == {"bias-concept": "neuron-bias"}
    # (poisson-concept requires the old id: lint points at the new one)
    [found] = lint(content)
    assert found.path == poisson
    assert found.message == (
        "requires 'bias-concept', which no card has: it was renamed 'neuron-bias': write that id"
    )


@pytest.mark.parametrize(
    ("entries", "line", "said"),
    [
        ("[Bias_Concept]", 2, "entry 1 is 'Bias_Concept', which is not an id"),
        ("[bias-concept, neuron-bias]", 2, "entry 2 is the card's own id 'neuron-bias'"),
        ("\n  - bias-concept\n  - old-bias\n  - bias-concept", 5, "entry 3 names 'bias-concept' a"),
        (f"[{'b' * 61}]", 2, "which is not an id (kebab-case, at most 60 characters)"),
    ],
)
def test_an_entry_of_renamed_from_that_names_no_earlier_id_is_refused_at_its_line(
    content_copy, entries, line, said
):
    """An id that could be no card's, the card's own, one listed twice: the card does not
    load, and lint names the entry's line."""
    moved = _rename(content_copy, earlier=entries)
    content = load_content(content_copy)
    assert "neuron-bias" not in content.cards and content.renames == {}
    [problem] = [p for p in lint(content) if p.path == moved]
    assert said in problem.message and problem.message.startswith("field 'renamed_from': ")
    assert problem.line == line, problem


def test_renamed_from_naming_a_card_of_the_content_is_refused(content_copy):
    """A card copied rather than renamed (the old file left), or an old id taken again: the
    learners' history of that card would come to this one. Nothing is carried over."""
    moved = _rename(content_copy, earlier="[old-bias, add-one]")
    content = load_content(content_copy)
    assert content.renames == {"old-bias": "neuron-bias"}
    [problem] = [p for p in lint(content) if p.path == moved]
    assert problem.line == 2
    assert problem.message.startswith(
        "renamed_from names 'add-one', the id of cards/basics/add-one.yaml: a card renamed "
        "leaves no card under its old id"
    )
    assert "remove cards/basics/add-one.yaml if this card is it renamed" in problem.message


def test_an_old_id_two_cards_claim_is_refused_on_both_and_carried_to_neither(content_copy):
    _rename(content_copy)
    other = content_copy / "cards" / "numbers" / "triangle-derivation.yaml"
    claims = "id: triangle-derivation\nrenamed_from:\n  - x\n  - bias-concept\n"
    edit(other, "id: triangle-derivation\n", claims)
    content = load_content(content_copy)
    assert content.renames == {"x": "triangle-derivation"}
    found = {(p.path.name, p.line): p.message for p in lint(content) if "renamed_from" in p.message}
    assert sorted(found) == [("neuron-bias.yaml", 2), ("triangle-derivation.yaml", 4)]
    assert found["neuron-bias.yaml", 2].startswith(
        "renamed_from names 'bias-concept', and so does cards/numbers/triangle-derivation.yaml"
    )
    assert "goes to one card, so neither gets it" in found["triangle-derivation.yaml", 4]


def test_an_optional_field_indented_into_the_text_above_is_reported_at_its_line(content_copy):
    """`  explanation: |` indented as the answer's lines above it is, to YAML, more of the
    answer: the card loaded without an explanation, the learner shown 'explanation: |' and
    its text as part of the answer, and lint said nothing but that the explanation's line,
    indented under it, is joined to it (which comes after, as its consequence)."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "threshold.\n", "threshold.\n  explanation: |\n    A bias is a learned offset.\n")
    problem = lint(load_content(content_copy))[0]
    assert problem.line == lines_of(path)["answer"] + 2  # the `explanation:` line
    assert problem.message.startswith("`explanation:` is indented"), problem.message
    assert "more of answer's text" in problem.message
    assert "start `explanation:` at the beginning of its line" in problem.message


def test_a_required_field_indented_into_the_text_above_says_why_it_is_missing(content_copy):
    """`  answer: |` under the prompt made the loader say only "a concept card needs an
    'answer'", of a card whose file shows one."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "answer: |\n", "  answer: |\n")
    found = lint(load_content(content_copy))
    assert "a concept card needs an 'answer'" in [p.message for p in found]
    [indented] = [p for p in found if p.message.startswith("`answer:` is indented")]
    assert indented.line == lines_of(path)["prompt"] + 2
    assert "more of prompt's text" in indented.message


def test_a_field_name_in_a_text_is_no_field_where_the_card_has_that_field(content_copy):
    """A text may show a line that begins as a field's key does (a YAML example in a
    prompt): only a field the card lacks is taken for one indented by mistake."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "threshold.\n", "threshold.\n  tags: a line of the answer\n")
    assert lint(load_content(content_copy)) == []


def test_a_sentence_that_begins_with_a_fields_name_is_no_field(content_copy):
    """ "steps: 3.16 at k = 1, 6.5 at k = 10." in a concept card's explanation (no `steps`
    field) is prose: only what reads as a field's value, a `|`, a list or nothing, is taken
    for a key indented by mistake."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "threshold.\n", "threshold.\n  steps: 3.16 at k = 1, 6.5 at k = 10.\n")
    assert lint(load_content(content_copy)) == []


def test_a_tab_that_joins_a_line_to_the_paragraph_above_is_named(content_copy):
    """A tab in the indentation of a `|` text's line is text to YAML, which loads it, and an
    indentation to Markdown, which joins the line to the one above: lint said "indent it as
    the line above it" of a line whose indentation looked the same in an editor."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "answer: |\n", "answer: |\n  Only through the origin,\n  \tnever elsewhere.\n")
    [problem] = lint(load_content(content_copy))
    assert problem.line == lines_of(path)["answer"] + 2
    assert "an indented line under a paragraph's line is joined to it" in problem.message
    assert "a tab" in problem.message and "indent with spaces" in problem.message


def test_a_yaml_example_in_a_code_block_of_a_text_is_no_field(content_copy):
    """A text may show a YAML file as code: a CI file's `steps:`, a card's indented
    `explanation: |` (a card on this very mistake). Fenced or indented, it is code, shown as
    written: no field the card lacks was indented by mistake there. After the code, a key at
    the text's indentation still is."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    example = (
        "threshold.\n\n  ```yaml\n  steps:\n    - run: pytest\n  ```\n\n"
        "  ~~~\n  explanation: |\n  ~~~\n\n  A card file such as\n\n"
        "      answer: |\n        Only through the origin.\n      explanation: |\n\n"
        "  loses its explanation.\n"
    )
    edit(path, "threshold.\n", example)
    assert lint(load_content(content_copy)) == []
    edit(path, "its explanation.\n", "its explanation.\n  explanation: |\n    Why.\n")
    found = lint(load_content(content_copy))
    [problem] = [p for p in found if p.message.startswith("`explanation:` is indented")]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[problem.line - 1 : problem.line + 1] == ["  explanation: |", "    Why."]


@pytest.mark.parametrize("dash", ["  - |", "- |"])  # the list's dashes indented, or not
def test_a_field_indented_into_a_list_entrys_text_is_reported_at_its_line(content_copy, dash):
    """`explanation: |` indented under a hint written `- |` is, to YAML, more of that hint:
    the learner was shown 'explanation: |' and its text as the hint's last lines, and lint,
    which looked only into a top-level key's text, said nothing."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    entry = dash.replace("- |", "  ")  # where the entry's text begins
    hints = (
        f"hints:\n{dash}\n{entry}Think of a line.\n{dash}\n{entry}Where must it pass?\n"
        f"{entry}explanation: |\n{entry}  A bias is a learned offset.\n"
    )
    edit(path, "tags: [warm-up]\n", hints)
    content = load_content(content_copy)
    assert "explanation: |" in content.get("bias-concept").hints[1]  # (as YAML reads it)
    found = lint(content)  # (and that the explanation's line is joined to it, as its consequence)
    [problem] = [p for p in found if p.message.startswith("`explanation:` is indented")]
    assert problem.line == lines_of(path)["hints"] + 5  # the `explanation:` line
    assert "more of hint 2's text" in problem.message


@pytest.mark.parametrize(
    "opening, inner, closing",
    [
        ("~~~markdown", "```yaml", "~~~"),  # a ~~~ block showing a ``` one
        ("````markdown", "```yaml", "````"),  # a longer fence showing a shorter one
        ("```", "```python", "```"),  # a ``` line with an info string closes nothing
    ],
)
def test_a_fence_closes_only_its_own_block(content_copy, opening, inner, closing):
    """A fenced block that shows a fenced example: any ``` or ~~~ line closed the block, so
    the example's lines were read as text (its `explanation: |` a key indented by mistake, its
    indented line one joined to the paragraph), where Markdown (CommonMark: the terminal's,
    Anki's, lint's own code-width rule) shows them as code. Only a line of the opening's
    character, as many or more and nothing after them, closes it; a key indented after the
    block is still reported."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    example = (
        f"threshold.\n\n  {opening}\n  {inner}\n  explanation: |\n    Why.\n"
        + ("  ```\n" if inner != "```python" else "")
        + f"  {closing}\n\n  Then:\n  explanation: Why.\n"
    )
    edit(path, "threshold.\n", example)
    found = lint(load_content(content_copy))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [(p.line, p.message.split(" is indented")[0]) for p in found] == [
        (lines.index("  Then:") + 2, "`explanation:`")
    ], found


def test_a_yaml_example_shown_unfenced_is_told_how_to_fence_it(content_copy):
    """A hint that shows a card's YAML as an example, unfenced, reads to YAML as a key indented
    into the hint: lint cannot tell the two apart, and told only to start `explanation:` at the
    beginning of its line, which would take the example out of the hint. It also names the way
    to keep the example, as code, with which lint is clean."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    example = "  - |\n    A card file may say\n\n{fence}    explanation: |\n      Why.\n{fence}"
    edit(path, "tags: [warm-up]\n", "hints:\n" + example.format(fence=""))
    found = lint(load_content(content_copy))
    [problem] = [p for p in found if p.message.startswith("`explanation:` is indented")]
    assert "more of hint 1's text" in problem.message
    assert "put it between ``` lines" in problem.message
    edit(path, example.format(fence=""), example.format(fence="    ```\n"))
    assert lint(load_content(content_copy)) == []


@pytest.mark.parametrize(
    "lines, reported",
    [
        # a sentence's lead-in: what follows is more text, or a Markdown list, as deep
        ("  steps:\n  1. project the box\n  2. max-pool each bin\n", False),
        ("  The card shows its\n  hints:\n  the gentle one first.\n", False),
        ("  Its fields, in order: prompt, answer,\n  hints:\n", False),  # the text's last line
        # a key's value under it: its list, as deep or deeper, or its text, deeper
        ("  hints:\n  - Think of a line.\n", True),
        ("  hints:\n\n    - Think of a line.\n", True),
        ("  explanation:\n    A bias is a learned offset.\n", True),
    ],
)
def test_a_line_that_names_a_field_is_a_key_only_with_a_value(content_copy, lines, reported):
    """A line `hints:` in a text, with nothing after it, was taken for a key indented by
    mistake whatever followed: a key with no value under it is a field with none, which the
    loader refuses (`hints:` alone is no list), so YAML cannot have meant it. With its list
    or its text under it, as a field's value is written, it is still reported."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "threshold.\n", "threshold.\n" + lines)
    found = [p for p in lint(load_content(content_copy)) if " is indented, so YAML" in p.message]
    assert bool(found) == reported, found
    if reported:
        assert found[0].line == lines_of(path)["answer"] + 2


@pytest.mark.parametrize(
    "line, reported",
    [
        ("  explanation: A bias is a learned offset.", True),
        ("  explanation: 'Why: a learned offset.'", True),  # quoted
        ("  format_version: 1", True),
        ("  solution: arith:add_one  # its reference", True),  # (made a coding card)
        # what YAML would not read as that field's value: prose
        ("  explanation: see the note: it shifts the boundary.", False),  # a second `: `
        ("  solution: a module and a function, named", False),
        ("  format_version: the first one", False),
        ("  format_version: 2", False),  # none this studycli reads: moved, the card is refused
        ("  steps: 3.16 at k = 1, 6.5 at k = 10.", False),  # a list's field takes no text
    ],
)
def test_a_key_indented_with_a_value_on_its_line_is_reported(content_copy, line, reported):
    """A key indented with its value on its line (`  solution: arith:add_one`, a one-line
    explanation) was not reported: only a `|`, a `>` or a list counted as a value, and the
    card lost the field, a coding card with "needs 'solution: ...'" that did not say why. A
    value the field takes is one, as YAML would read it: a text, or a value of the field's
    form; a sentence that no such value is stays prose."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    edit(path, "threshold.\n", f"threshold.\n{line}\n")
    if line.startswith("  solution:"):  # (a field of a coding card's, not a concept card's)
        edit(path, "kind: concept\n", "kind: coding\n")
    found = [p for p in lint(load_content(content_copy)) if " is indented, so YAML" in p.message]
    assert [p.line for p in found] == ([lines_of(path)["answer"] + 2] if reported else [])


@pytest.mark.parametrize(
    "kind, prompt, line",
    [
        ("cloze", "A bias is {{c1::a learned offset}}.", "  answer: yes, by gradient descent."),
        ("concept", "What does a coding card begin with?", "  starter: a stub that raises."),
        ("concept", "How does a coding card name its reference?", "  solution: arith:add_one"),
        ("concept", "What does a derivation card list?", "  steps:\n  - the first\n  - the next"),
    ],
)
def test_a_field_the_cards_kind_has_not_is_no_key_indented(content_copy, kind, prompt, line):
    """A line of a card's text that names a field its kind has not ("answer: yes" in a cloze
    card, which has no answer; a concept card's `starter:`, `solution:` or `steps:`) was
    reported as that field's key indented by mistake, with the fix "start `answer:` at the
    beginning of its line": done, the loader refuses the card. Such a line is the text's."""
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    answer = "" if kind == "cloze" else "answer: |\n  In the explanation.\n"
    path.write_text(
        f"id: bias-concept\nkind: {kind}\ntopic: bias\ntitle: Why a neuron needs a bias\n"
        f"prompt: |\n  {prompt}\n{answer}explanation: |\n  Is it so?\n{line}\n",
        encoding="utf-8",
    )
    content = load_content(content_copy)
    assert "bias-concept" in content.cards, content.problems
    found = lint(content)
    assert [p.message for p in found if " is indented, so YAML" in p.message] == []


def test_a_solution_module_importing_another_is_told_they_do_not_import_each_other(content_copy):
    """`check` loads each solution module from its file, under a name of its own: `from
    soft_f1 import f` inside a function passed lint and then failed every check with
    "ModuleNotFoundError: No module named 'soft_f1'", though solutions/soft_f1.py exists; at
    the top level it was refused with advice for an optional package (import it inside the
    function). Each is refused as what it is, wherever it is written."""
    (content_copy / "solutions" / "soft_f1.py").write_text("def f(x):\n    return x\n")
    found = module_problems(
        content_copy,
        "import soft_f1\n"
        "def _a():\n    from soft_f1 import f\n    return f\n"
        "def _b():\n    from . import soft_f1\n    return soft_f1\n"
        "def _c():\n    import importlib\n    return importlib.import_module('soft_f1.x')\n"
        "def _d():\n    import json\n    from functools import wraps\n    return json, wraps\n",
    )
    said = "a solution module"
    assert [f for f in found if f[1] != "orphan solution module"] == [
        (1, f"imports 'soft_f1', {said}"),
        (3, f"imports 'soft_f1', {said}"),
        (6, f"imports '.soft_f1', {said}"),
        (10, f"imports 'soft_f1.x', {said}"),
    ]
    first = lint(load_content(content_copy))[0]
    assert "solution modules do not import each other" in first.message
    assert "copy what this module uses of solutions/soft_f1.py into it" in first.message
    assert "optional package" not in first.message


def test_lint_notes_that_a_package_a_checker_imports_is_not_installed(cli, content_copy):
    """A checker that imports a package not installed here fails each check with
    ModuleNotFoundError, and lint's note said only to name it in LAZY_IMPORTS, which
    preloads only what is installed. The note says it is not installed; lint passes (the
    same content is right where it is installed)."""
    edit(
        content_copy / "solutions" / "arith.py",
        'def check_add_one(impl, device="cpu"):\n',
        'def check_add_one(impl, device="cpu"):\n    import no_such_package_here.sub\n\n',
    )
    result = cli("--content", content_copy, "lint")
    assert result.exit_code == 0, result.output
    [note] = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert (
        "check_add_one imports no_such_package_here.sub, which is not installed here: each "
        "check that runs it fails with ModuleNotFoundError, unless the import is guarded"
    ) in note, note
    assert "name it in LAZY_IMPORTS (" not in note
