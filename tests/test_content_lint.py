"""`lint`: cross-card rules, solution resolution, starters and orphans, all reported at once."""

from __future__ import annotations

import json

from studycli.content.lint import lint
from studycli.content.loader import load_content

from .conftest import FIXTURE_CONTENT, write_card


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
    assert any("requires 'ghost', which no card has" in m for m in found)
    assert any(
        "requires forms a cycle" in m and "add-one" in m and "triangle-derivation" in m
        for m in found
    )


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


def test_a_solution_module_imports_only_what_every_install_has(content_copy):
    """At its top level: the standard library, numpy, torch and studycli.assertions; not another
    package (it would fail only when `check` imports it), nor another solution module. Inside a
    function an optional import is the function's business."""
    module = content_copy / "solutions" / "arith.py"
    module.write_text(
        "import json\nimport numpy as np\nfrom torch import nn\n"
        "import scipy.optimize\nfrom studycli.content import loader\nfrom . import other\n"
        "def _optional():\n    import scipy\n" + module.read_text()
    )
    found = [(p.line, p.message.split(":")[0]) for p in lint(load_content(content_copy))]
    assert found == [
        (4, "imports 'scipy.optimize'"),
        (5, "imports 'studycli.content'"),
        (6, "imports '.other'"),
    ]
