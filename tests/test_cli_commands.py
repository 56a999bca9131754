"""CLI-wide properties: help everywhere, no heavy imports at start-up, errors without tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from studycli.cli.help_panels import whole_app

from .conftest import FIXTURE_CONTENT, REPO_ROOT

app = whole_app()

COMMANDS = sorted(command.name or command.callback.__name__ for command in app.registered_commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    doc = next(
        c.callback.__doc__
        for c in app.registered_commands
        if (c.name or c.callback.__name__) == command
    )
    assert doc and "Example:" in doc, f"{command}'s docstring (its help) needs an example"


def test_every_argument_and_option_of_every_command_has_help():
    """`suspend --help`, `unsuspend --help` and `show --help` listed their `card_id` argument
    with no word beside it, where `solve`'s says which card it takes ("The coding card to
    answer.") and `new`'s what its ID becomes: a learner reading the help learnt nothing of
    what a cloze deletion's id (`card#c2`) does there."""
    from typer.main import get_command

    commands = get_command(app).commands  # type: ignore[attr-defined]
    bare = [
        f"{name} {param.name}"
        for name, command in commands.items()
        for param in command.params
        if not getattr(param, "help", None)
    ]
    assert bare == []


def test_each_card_filter_says_that_it_keeps_only_what_it_names():
    """`list --help` and `export-anki --help` said of --kind "concept, cloze, derivation or
    coding." alone, the kinds it takes but not what it does, where --deck, --topic and --tag
    each begin "Only": a learner could read it as what the command shows of each card."""
    from typer.main import get_command

    commands = get_command(app).commands  # type: ignore[attr-defined]
    helps = {
        f"{name} --{param.name}": param.help
        for name, command in commands.items()
        if name != "new"  # (its --deck and --topic say where the new card goes)
        for param in command.params
        if param.name in ("deck", "topic", "kind", "tag")
    }
    assert helps and {key for key, text in helps.items() if not text.startswith("Only")} == set()


def test_check_help_gives_the_most_seconds_its_timeout_takes(cli):
    """`check --help` showed `[default: 60.0]` for --timeout and said "at most 5 s past a
    learner's limit, check_timeout's default" without a figure: nothing said that any value
    past 15 s changes nothing. The figures follow the limits they name."""
    from studycli.check.plan import LEARNER_MARGIN
    from studycli.study.settings import Settings

    learner = Settings._field_defaults["check_timeout"]
    said = " ".join(cli("check", "--help").stdout.replace("│", " ").split())
    assert f"at most {learner + LEARNER_MARGIN:g} (5 s past" in said, said
    assert f"check_timeout's default, {learner:g} s" in said and LEARNER_MARGIN == 5


def test_check_timeout_defaults_to_its_most_and_refuses_more(cli):
    """`check --timeout` defaulted to 60 where every check stops at 15 (`plan._limit`), and took
    up to 3600 to change nothing: its default is the most it takes, and more is refused as a
    usage error, as a limit below 0.1 is."""
    from studycli.check.plan import LEARNER_MARGIN
    from studycli.study.settings import Settings

    most = Settings._field_defaults["check_timeout"] + LEARNER_MARGIN
    said = " ".join(cli("check", "--help").stdout.replace("│", " ").split())
    assert f"[default: {most}]" in said and f"[0.1<=x<={most}]" in said, said
    refused = cli("check", "add-one", "--timeout", f"{most + 1:g}")
    assert refused.exit_code == 2 and "Invalid value" in refused.output, refused.output


def test_version_prints_the_installed_version():
    """`studycli --version` prints the version of the installed distribution (the database's
    messages speak of newer and older studycli versions), and runs no command."""
    from importlib.metadata import version

    out = subprocess.run(
        [sys.executable, "-m", "studycli", "--version"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert (out.returncode, out.stdout, out.stderr) == (0, f"studycli {version('studycli')}\n", "")


PROBE = """
import sys
from typer.testing import CliRunner
from studycli.cli.help_panels import whole_app
app = whole_app()
result = CliRunner().invoke(app, sys.argv[1:])
heavy = ("torch", "numpy", "fsrs.optimizer", "pandas", "studycli.check.worker")
print(result.exit_code, *(name in sys.modules for name in heavy))
"""


@pytest.mark.parametrize(
    "args, code",
    [
        (["--help"], 0),
        (["lint"], 0),
        (["list"], 0),
        (["list", "--json"], 0),
        (["topics"], 0),
        (["show", "add-one", "--answer"], 0),
        (["review"], 1),  # it loads the session's modules, then wants a terminal
        (["schema"], 0),
    ],
)
def test_commands_that_run_no_code_do_not_import_torch_numpy_or_the_optimiser(args, code):
    """Nor start a checking worker: only a coding card being shown (or checked) does."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "--content", str(FIXTURE_CONTENT), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert out.stdout.split() == [str(code), "False", "False", "False", "False", "False"], (
        out.stderr
    )


def test_show_renders_prompt_starter_and_answer(cli):
    result = cli("--content", FIXTURE_CONTENT, "show", "add-one")
    assert result.exit_code == 0
    assert "Write add_one(x)" in result.stdout and "raise NotImplementedError" in result.stdout
    assert "加一" not in result.stdout
    with_answer = cli("--content", FIXTURE_CONTENT, "show", "add-one", "--answer")
    assert "加一" in with_answer.stdout


def test_show_answer_shows_the_reference_and_a_path_to_its_module(cli, tmp_path, monkeypatch):
    """The answer of a coding card named `solutions/arith.py`, a path relative to a content
    folder the learner may never have seen (an installed package's), and not its code, which a
    rustlings or exercism user looks for. Now the reference function (less its docstring, in
    the starter above) and its module's path, from the current folder where it lies under it."""
    monkeypatch.chdir(tmp_path)
    shown = cli("--content", FIXTURE_CONTENT, "show", "add-one", "--answer").stdout
    reference = shown[shown.index("Reference") :]
    assert "def add_one(x: int) -> int:" in reference and "return x + 1" in reference
    assert "Return x + 1." not in reference  # (the docstring: the starter shows it)
    module = (FIXTURE_CONTENT / "solutions" / "arith.py").resolve()
    assert f"reference: {module} :: add_one" in " ".join(shown.split())
    monkeypatch.chdir(FIXTURE_CONTENT)
    shown = cli("--content", FIXTURE_CONTENT, "show", "add-one", "--answer").stdout
    assert "reference: solutions/arith.py :: add_one" in shown


def test_show_answer_gives_a_long_path_to_the_reference_whole(cli, tmp_path, monkeypatch):
    """The reference module's path of an installed studycli (site-packages, 90 characters)
    was cut by Rich's wrap at 80 columns, mid-word ("sliding_w" / "indow_max.py"), so that it
    was copied, or piped, in two (a new learner's first hour). The line is written whole, for
    the terminal to wrap."""
    import shutil

    monkeypatch.setenv("COLUMNS", "80")
    content = tmp_path / ("a-rather-long-folder-name-" * 3) / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    shown = cli("--content", content, "show", "add-one", "--answer").stdout
    module = (content / "solutions" / "arith.py").resolve()
    assert len(str(module)) > 80
    assert f"reference: {module} :: add_one\n" in shown


@pytest.mark.parametrize("columns", [60, 250])
def test_a_cards_text_is_at_most_100_columns_wide(cli, monkeypatch, columns):
    """Lines of text far longer than 100 columns are hard to read: on a wide terminal the
    card's panels stop there; on a narrow one they take its width."""
    monkeypatch.setenv("COLUMNS", str(columns))
    shown = cli("show", "online-softmax", "--answer").stdout.splitlines()  # the shipped card
    panel = [line for line in shown if line.startswith(("╭", "│", "╰"))]
    assert panel and max(len(line) for line in panel) == min(columns, 100)


def test_a_hint_is_as_wide_as_the_cards_other_boxes():
    """A hint's box took the terminal's whole width (160 columns of one line of text beside
    the card's 100), and one that begins with a list began with an empty line."""
    import io

    from rich.console import Console

    from studycli.cli.solve_flow import Hints
    from studycli.content.loader import load_content

    card = load_content(REPO_ROOT).get("medusa-tree-mask")
    hints = Hints(replace(card, hints=(*card.hints, "- a list first\n- then more")))
    console = Console(file=io.StringIO(), width=160, color_system=None)
    for _ in range(4):
        console.print(hints.next(""))
    boxes = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert {len(line) for line in boxes} == {100}
    assert boxes[-3].startswith("│  • a list first")


@pytest.mark.parametrize("columns, one_line", [(80, False), (100, False), (200, True)])
def test_a_cards_header_never_splits_where_it_is(cli, monkeypatch, columns, one_line):
    """Kind, title, then deck · topic · id: on one line where they fit (117 columns here),
    else the second part on a line of its own (wrapped as one text, the id was split across
    two lines)."""
    monkeypatch.setenv("COLUMNS", str(columns))
    first, second = cli("show", "sliding-window-max").stdout.splitlines()[:2]  # the shipped card
    title = " coding   Sliding-window maximum in O(n) with a monotonic deque"
    where = "algorithms · sliding-window-max · sliding-window-max"
    if one_line:
        assert first.rstrip() == f"{title}   {where}" and second.startswith("╭")
    else:
        assert (first.rstrip(), second.rstrip()) == (title, f" {where}")


@pytest.mark.parametrize("colours", [False, True])
def test_a_title_too_long_for_its_line_goes_on_under_its_first_word(cli, monkeypatch, colours):
    """At 50 columns a third of the shipped cards' titles went on at the first column, under
    the kind's badge (`show discrete-metric-smooth-approximations`: "the step function" under
    " concept "), and the id under it at the first column too. The rest of the title now
    lines up with its first word, and the id with the deck."""
    monkeypatch.setenv("COLUMNS", "50")
    if colours:
        monkeypatch.setenv("FORCE_COLOR", "1")
    out = cli("show", "discrete-metric-smooth-approximations").stdout
    lines = [line.rstrip() for line in re.sub("\x1b\\[[0-9;]*m", "", out).splitlines()[:4]]
    assert lines[:2] == [
        " concept   Smooth stand-ins for max, argmax and",
        "           the step function",
    ]
    # where it is goes on one space in, as it begins
    assert lines[2:] == [
        " classical-ml · discrete-metric-losses ·",
        " discrete-metric-smooth-approximations",
    ]


def test_topics_lists_every_topic_in_order_with_its_cards(cli, monkeypatch):
    """The topic list's order and every topic in it, those without cards too; counts per kind
    from the content."""
    from studycli.content.topics import topics

    rows = json.loads(cli("--content", FIXTURE_CONTENT, "topics", "--json").stdout)
    assert [row["topic"] for row in rows] == list(topics())
    counted = {row["topic"]: row for row in rows if row["cards"]}
    assert set(counted) == {"bias", "poisson", "random-walk"}, counted
    bias = counted["bias"]
    assert [bias[key] for key in ("cards", "concept", "cloze", "derivation", "coding")] == [
        2,
        1,
        0,
        0,
        1,
    ]
    monkeypatch.setenv("COLUMNS", "120")
    table = cli("--content", FIXTURE_CONTENT, "topics").stdout
    bias = next(line for line in table.splitlines() if line.startswith("│ bias "))
    assert bias.split("│")[2:4] == ["     2 ", "      1 "], bias
    assert f"{len(rows)} topics · 4 cards" in table


def test_json_is_the_same_on_an_output_that_is_not_utf8():
    """JSON is read by programs: on a latin-1 or ASCII output its text is escaped (\\u03b1),
    not written as the terminal's ASCII stand-ins (α as alpha), which changed the data."""
    import os

    def titles(encoding: str) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-m", "studycli", "list", "--json"],
            capture_output=True,
            check=True,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONIOENCODING": encoding},
        )
        return [row["title"] for row in json.loads(out.stdout.decode(encoding))]

    utf8 = titles("utf-8")
    assert not all(text.isascii() for text in utf8)
    assert titles("latin-1") == titles("ascii") == utf8


def test_show_derivation_lists_its_steps_with_the_answer(cli):
    result = cli("--content", FIXTURE_CONTENT, "show", "triangle-derivation", "--answer")
    assert "Step 1 of 3" in result.stdout and "Step 3 of 3" in result.stdout


def test_list_filters_and_json(cli):
    rows = json.loads(cli("--content", FIXTURE_CONTENT, "list", "--json").stdout)
    assert {r["id"] for r in rows} == {
        "add-one",
        "bias-concept",
        "triangle-derivation",
        "poisson-concept",
    }
    coding = json.loads(
        cli("--content", FIXTURE_CONTENT, "list", "--kind", "coding", "--json").stdout
    )
    assert [r["id"] for r in coding] == ["add-one"]
    numbers = json.loads(
        cli("--content", FIXTURE_CONTENT, "list", "--deck", "numbers", "--json").stdout
    )
    assert {r["deck"] for r in numbers} == {"numbers"} and len(numbers) == 2
    by_topic = json.loads(
        cli("--content", FIXTURE_CONTENT, "list", "--topic", "bias", "--json").stdout
    )
    assert {r["id"] for r in by_topic} == {"add-one", "bias-concept"}


def test_content_option_env_and_bad_folder(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("STUDYCLI_CONTENT", str(FIXTURE_CONTENT))
    assert cli("lint").exit_code == 0
    result = cli("--content", tmp_path, "lint")
    assert result.exit_code == 1
    assert "has no cards/ folder" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_content_folder_that_does_not_exist_is_said_so(cli, monkeypatch, tmp_path, how):
    """`--content` (or STUDYCLI_CONTENT) naming no folder at all, a typo, was told the folder
    "has no cards/ folder", as if it were there: it says that it does not exist."""
    missing = tmp_path / "cotnent"
    if how == "env":
        monkeypatch.setenv("STUDYCLI_CONTENT", str(missing))
    result = cli(*(["--content", missing] if how == "option" else []), "list")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{missing} does not exist: point --content (or STUDYCLI_CONTENT)" in result.stderr


def test_content_defaults_to_the_current_folder(monkeypatch, cli):
    monkeypatch.chdir(FIXTURE_CONTENT)
    rows = json.loads(cli("list", "--json").stdout)
    assert len(rows) == 4


def test_show_with_a_broken_solution_module_is_a_clean_error(cli, content_copy):
    (content_copy / "solutions" / "arith.py").write_text("def add_one(:\n")
    result = cli("--content", content_copy, "show", "add-one")
    assert result.exit_code == 1
    assert "cannot read solutions/arith.py" in result.stderr and "Traceback" not in result.output


def _list_output(columns: int, *args: str, content=REPO_ROOT) -> str:
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(content), "list", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    return out.stdout


def test_list_fits_an_80_column_terminal_by_hiding_columns_and_says_which():
    """The shipped ids are up to 54 characters: at 80 columns the topic, deck and kind columns
    are left out (named under the table), ids stay whole and titles wrap."""
    from rich.cells import cell_len

    from studycli.content.loader import load_content

    narrow = _list_output(80)
    assert max(cell_len(line) for line in narrow.splitlines()) <= 80
    assert "hidden to fit 80 columns: topic, deck, kind (--json shows all)" in narrow
    cells = {cell.strip() for line in narrow.splitlines() for cell in line.split("│")}
    assert set(load_content(REPO_ROOT).cards) <= cells  # every id whole, in a cell of its own

    wide = _list_output(250)
    assert "hidden to fit" not in wide
    assert all(f" {name} " in wide.splitlines()[2] for name in ("kind", "deck", "topic"))


def test_list_leaves_out_the_columns_its_filters_fix():
    out = _list_output(100, "--deck", "numbers", content=FIXTURE_CONTENT)
    head = out.splitlines()[2]
    assert "2 cards · deck numbers" in out.splitlines()[0]
    assert " deck " not in head and " topic " in head and " kind " in head


def test_a_filter_no_card_has_is_an_error_with_the_closest(cli):
    """A typo in a filter listed nothing and exited 0 ("0 cards · deck visoin"); now it says
    which value no card has, and the closest ones."""
    deck = cli("--content", FIXTURE_CONTENT, "list", "--deck", "basic")
    assert deck.exit_code == 1
    assert "no card has deck 'basic'; did you mean basics?" in deck.stderr
    kind = cli("--content", FIXTURE_CONTENT, "list", "--kind", "code")
    assert (
        kind.exit_code == 1
        and "no card has kind 'code'; did you mean cloze, coding?" in kind.stderr
    )
    topic = cli("--content", FIXTURE_CONTENT, "stats", "--topic", "zzz")
    assert topic.exit_code == 1 and "no card has topic 'zzz'; topics: " in topic.stderr
    assert "Traceback" not in deck.output + kind.output + topic.output
    fine = cli("--content", FIXTURE_CONTENT, "list", "--deck", "basics", "--kind", "coding")
    assert fine.exit_code == 0, fine.output


@pytest.mark.parametrize(
    "args, said",
    [
        (["list", "--topic", "basics"], "no card has topic 'basics'; basics is a deck: --deck basics"),
        (["stats", "--deck", "bias"], "no card has deck 'bias'; bias is a topic: --topic bias"),
        (["list", "--tag", "coding"], "no card has tag 'coding'; coding is a kind: --kind coding"),
        (["list", "--kind", "warm-up"], "no card has kind 'warm-up'; warm-up is a tag: --tag warm-up"),
        (["list", "--topic", "BASICS"], "no card has topic 'BASICS'; basics is a deck: --deck basics"),
        (["stats", "--deck", "Bias"], "no card has deck 'Bias'; bias is a topic: --topic bias"),
    ],
)  # fmt: skip
def test_a_filter_given_another_filters_name_says_which_filter_takes_it(cli, args, said):
    """`review --topic vision` listed the 45 topics ("no card has topic 'vision'; topics:
    activations, adamw, ..."), none of them vision, without saying that vision is a deck and
    `--deck vision` the filter a learner wanted. So did `--topic VISION` (case is no typo:
    `--topic ROPE` offers rope), which names the deck as it is spelled."""
    result = cli("--content", FIXTURE_CONTENT, *args)
    assert result.exit_code == 1, result.output
    assert said in " ".join(result.stderr.split())


def test_reviews_deck_filter_given_a_topic_says_to_use_topic(cli, content_copy):
    """`review --deck D` reads the content's study view (no card made), whose refusal of a
    deck no card has listed the decks alone: `review --deck diffusion` did not say that
    diffusion is a topic."""
    from studycli.cli.app import Options
    from studycli.errors import ContentError

    hour_ago = time.time() - 3600  # (no file written within the index's racy window)
    for card in (content_copy / "cards").glob("*/*.yaml"):
        os.utime(card, (hour_ago, hour_ago))
    assert cli("--content", content_copy, "due").exit_code == 0  # (writes the index)
    view = Options(content=content_copy, db=None, loaded={}).study_view()
    assert view is not None
    with pytest.raises(ContentError, match="no card has deck 'poisson'; poisson is a topic: "):
        view.select("poisson")
    with pytest.raises(ContentError, match="'POISSON'; poisson is a topic: --topic poisson"):
        view.select("POISSON")


@pytest.mark.parametrize("command", ["list", "stats"])
def test_filters_no_card_has_together_are_refused(cli, command):
    """`list --deck basics --topic poisson` (a known deck and topic with no card between
    them) drew an empty table (`--json`: []) and exited 0, where `stats`, `review` and `cram` refuse the pair and a
    single filter that matches nothing exits 1."""
    both = ("--content", FIXTURE_CONTENT, command, "--deck", "basics", "--topic", "poisson")
    table = cli(*both)
    assert table.exit_code == 1, table.output
    assert "no cards match those filters" in table.stderr and "┃" not in table.stdout
    as_json = cli(*both, "--json")
    assert as_json.exit_code == 1 and "no cards match" in json.loads(as_json.stdout)["error"]


def test_filters_no_card_has_together_name_where_each_cards_fields_are_seen(cli):
    """The refusal said "`studycli list` shows decks and topics", but `list` hides its deck
    and topic columns on a terminal under about 160 columns (the shipped ids' width), the
    learner's 80 or 100 among them: it named a command that showed neither. `list --json`
    shows each card's deck, topic, kind and tags, whatever the width."""
    refused = cli("--content", FIXTURE_CONTENT, "list", "--deck", "basics", "--topic", "poisson")
    said = " ".join(refused.stderr.split())
    assert "`studycli list --json` shows each card's deck, topic, kind and tags" in said, said
    [card, *_] = json.loads(cli("--content", FIXTURE_CONTENT, "list", "--json").stdout)
    assert {"deck", "topic", "kind", "tags"} <= set(card)


def test_export_anki_says_of_filters_no_card_has_together_what_list_does(cli, tmp_path):
    """`export-anki --deck basics --topic poisson` said "no cards to export: loosen --deck,
    --topic, --kind or --tag", its own wording, where `list`, `stats`, `review` and `cram` say
    "no cards match those filters"."""
    out = tmp_path / "x.apkg"
    said = {}
    for command in (["list"], ["export-anki", str(out)]):
        result = cli(
            "--content", FIXTURE_CONTENT, *command, "--deck", "basics", "--topic", "poisson"
        )
        assert result.exit_code == 1, result.output
        said[command[0]] = " ".join(result.stderr.split())
    assert said["export-anki"] == said["list"], said
    assert not out.exists()


def test_a_filter_over_a_content_folder_with_no_card_says_it_holds_none(cli, tmp_path):
    """`list --deck x` over a folder with no card said "no card has deck 'x'; decks: ",
    naming none: the folder's emptiness, the reason, went unsaid."""
    empty = tmp_path / "empty"
    (empty / "cards").mkdir(parents=True)
    (empty / "solutions").mkdir()
    for args in (
        ["list", "--deck", "x"],
        ["export-anki", "--topic", "x", str(tmp_path / "x.apkg")],
    ):
        result = cli("--content", empty, *args)
        said = " ".join(result.stderr.split())
        assert result.exit_code == 1, result.output
        assert "no card has" in said and "; the content holds no cards" in said, said
        assert not said.rstrip().endswith(":"), said


def test_show_of_a_card_whose_file_does_not_load_says_so(cli, content_copy):
    """It said "no card with id ...; `studycli list` shows all ids", of a card that is there
    but broken (`check ID` pointed to lint)."""
    card = content_copy / "cards" / "numbers" / "poisson-concept.yaml"
    card.write_text(card.read_text().replace("title: ", 'title: "', 1))
    result = cli("--content", content_copy, "show", "poisson-concept")
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "cards/numbers/poisson-concept.yaml: the card 'poisson-concept' does not load" in said
    assert ": line 4: YAML syntax error:" in said  # why, as lint says it


def test_show_takes_a_cloze_deletions_id_as_history_prints_it(cli, content_copy):
    (content_copy / "cards" / "numbers" / "poisson-cloze.yaml").write_text(
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}}, Var[X] = {{c2::also λ}}'\n",
        encoding="utf-8",
    )
    shown = cli("--content", content_copy, "show", "poisson-cloze#c1")
    assert shown.exit_code == 0, shown.output
    assert "Poisson moments" in shown.stdout
    # that deletion blanked, the other shown (every deletion was blanked)
    assert "E[X] = [...], Var[X] = also λ" in " ".join(shown.stdout.split())
    unknown = cli("--content", content_copy, "show", "poisson-cloze#c")
    assert unknown.exit_code == 1 and "no card with id 'poisson-cloze#c'" in unknown.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_commands_help_comes_in_short_paragraphs(command):
    """`solve --help` was one paragraph of 1,336 characters, 17 lines at 80 columns (what a
    pass and a failure record, --watch's saves and keys, parentheses three deep), and
    `import-reviews --help` one of 2,682 (34 lines); `optimize` and `stats` were as long. A
    paragraph says one thing, in at most about 8 lines at 80 columns (600 characters; the
    longest now, `doctor`'s, is 546); a `--json` paragraph, a list of keys looked up one at a
    time, may be longer."""
    doc = next(
        c.callback.__doc__
        for c in app.registered_commands
        if (c.name or c.callback.__name__) == command
    )
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
    long = [p for p in paragraphs if len(p) > 600 and not p.startswith("`--json`")]
    assert long == [], f"{command}'s help: split {long[0][:60]!r}... in paragraphs"


def test_help_keeps_each_paragraph_of_a_docstring_whole():
    """Rich's help kept the docstring's own line breaks and wrapped to the terminal too: at 80
    columns sentences broke in their middle ("failed runs" / "first (in a terminal ...")."""
    from typer.testing import CliRunner

    from studycli.cli.help_panels import whole_app

    wide = CliRunner().invoke(whole_app(), ["solve", "--help"], env={"COLUMNS": "400"})
    assert wide.exit_code == 0
    assert "Hard when it took hints or failed runs first (an earlier solve's Again" in wide.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["check", "add-one", "--timeout", "-1"],
        ["check", "add-one", "--timeout", "0"],
        ["check", "add-one", "--memory", "1"],
        ["solve", "add-one", "--no-edit", "--timeout", "0"],
        ["check", "add-one", "--timeout", "nan"],
        ["solve", "add-one", "--no-edit", "--timeout", "nan"],
        ["solve", "add-one", "--no-edit", "--timeout", "inf"],
    ],
)
def test_a_limit_that_no_check_can_keep_is_a_usage_error(cli, args):
    """`--timeout -1` ran every check into "did not finish in -1 s"; nan and inf turned the
    limit off (nan passes every comparison of a range)."""
    from .conftest import FIXTURE_CONTENT

    result = cli("--content", FIXTURE_CONTENT, *args)
    assert result.exit_code == 2 and "Invalid value" in result.output, result.output


def test_content_and_db_are_taken_after_the_command_too(tmp_path):
    """`studycli due --db X` said "No such option: --db": the options every command takes
    go before its name, and are now moved there from after it (`--` ends that)."""
    import subprocess
    import sys

    from studycli.cli import hoisted

    from .conftest import FIXTURE_CONTENT, REPO_ROOT

    db = tmp_path / "reviews.sqlite3"
    run = subprocess.run(
        [sys.executable, "-m", "studycli", "suspend", "add-one", "--db", str(db),
         f"--content={FIXTURE_CONTENT}"],
        cwd=REPO_ROOT, capture_output=True, text=True,
        env={**__import__("os").environ, "STUDYCLI_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert db.exists() and not (tmp_path / "home" / "data").exists()
    assert hoisted(["--db", "a", "history", "--card", "x", "--content", "c", "--", "--db"]) == [
        "--db", "a", "--content", "c", "history", "--card", "x", "--", "--db"
    ]  # fmt: skip


def test_content_or_db_after_the_command_with_no_value_is_said_to_need_one(tmp_path):
    """`studycli due --db` (the path forgotten) said "No such option: --db", of an option
    every command takes; before the command's name it said what is wrong, as it now does
    after it too."""
    for option in ("--db", "--content"):
        run = subprocess.run(
            [sys.executable, "-m", "studycli", "due", option],
            cwd=REPO_ROOT, capture_output=True, text=True,
            env={**os.environ, "STUDYCLI_HOME": str(tmp_path / "home")},
        )  # fmt: skip
        said = " ".join(run.stderr.split())
        assert run.returncode == 2 and run.stdout == "", run.stderr
        assert f"Option '{option}' requires an argument." in said, run.stderr


def test_check_into_a_log_file_writes_nothing_but_its_results(tmp_path):
    """The progress bar is for a terminal: with stderr going to a file (CI's log) it left a
    blank line there."""
    import os

    out = subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "check", "add-one"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "STUDYCLI_HOME": str(tmp_path)},
    )
    assert out.returncode == 0 and "1 of 1 cards pass" in out.stdout
    assert out.stderr == ""


@pytest.mark.parametrize("columns", [40, 120])
def test_check_shows_each_cards_status_and_message_at_any_width(tmp_path, columns):
    """At 40 columns the results' table gave the card column the width (an id's whole length)
    and the status and message columns none: each card is then a line, its message under it."""
    import os

    out = subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT), "check", "add-one"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "STUDYCLI_HOME": str(tmp_path), "COLUMNS": str(columns)},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(len(line) <= columns for line in lines)
    words = " ".join(out.stdout.replace("│", " ").split())
    assert "add-one" in words and "pass" in words and "wrong answer(s) rejected" in words
    if columns == 40:
        assert "pass  add-one" in out.stdout and "┃" not in out.stdout
    else:
        assert "┃ card" in out.stdout


def test_a_card_file_that_does_not_load_is_named_by_every_command_that_leaves_it_out(
    cli, content_copy
):
    """`list` counted 3 cards of 4, `export-anki` exported 3 and `review` studied 3, without a
    word of the fourth (only `check` and `lint` said so) (a helper's review)."""
    broken = content_copy / "cards" / "basics" / "broken.yaml"
    broken.write_text("id: broken\nkind: concept\ntopic: [\n", encoding="utf-8")
    note = "note: cards/basics/broken.yaml: not a card that loads, left out"
    listed = cli("--content", content_copy, "list", "--json")
    assert listed.exit_code == 0 and "broken" not in listed.stdout
    assert note in " ".join(listed.stderr.split())
    for _ in range(2):  # `due` counts rows, no card made: the index's, the second time
        counted = cli("--content", content_copy, "due", "--json")
        assert counted.exit_code == 0 and note in " ".join(counted.stderr.split())
    broken.unlink()
    assert "note:" not in cli("--content", content_copy, "list").stderr
    assert "note:" not in cli("--content", content_copy, "due").stderr


def test_a_card_file_left_out_is_named_with_why_as_lint_says_it(cli, content_copy, capsys):
    """A command that left a broken card file out said only "`studycli lint` says why", though
    the loader had the reason (the line, the fix): `list` (the cards), `due` (the index's study
    rows, written then read), `review` (the study view) and `show` give it."""
    from studycli.cli.app import Options

    broken = content_copy / "cards" / "basics" / "broken.yaml"
    broken.write_text("id: broken\nkind: concept\ntopic: [bias\ntitle: Broken\n", encoding="utf-8")
    twice = content_copy / "cards" / "numbers" / "add-one.yaml"  # the id of basics/add-one
    twice.write_text((content_copy / "cards" / "basics" / "add-one.yaml").read_text())
    hour_ago = time.time() - 3600  # (no file written within the index's racy window)
    for card in (content_copy / "cards").glob("*/*.yaml"):
        os.utime(card, (hour_ago, hour_ago))
    why = (
        "note: cards/basics/broken.yaml: not a card that loads, left out: line 3: YAML syntax "
        "error: a `[` opened here is not closed: close the list with `]`"
    )
    duplicate = (
        "note: cards/numbers/add-one.yaml: not a card that loads, left out: duplicate id "
        "'add-one': cards/basics/add-one.yaml already uses it: give the new card"
    )
    said = [" ".join(cli("--content", content_copy, "list").stderr.split())]
    said += [" ".join(cli("--content", content_copy, "due").stderr.split()) for _ in range(2)]
    view = Options(content=content_copy, db=None, loaded={}).study_view()  # (review's)
    assert view is not None
    said.append(" ".join(capsys.readouterr().err.split()))
    for stderr in said:
        assert why in stderr and duplicate in stderr, stderr
        assert "says why" not in stderr
    shown = cli("--content", content_copy, "show", "broken")
    assert shown.exit_code == 1
    assert "the card 'broken' does not load: line 3: YAML syntax error" in " ".join(
        shown.stderr.split()
    )


def test_a_command_to_copy_is_not_broken_across_lines_when_piped(cli, content_copy, tmp_path):
    """Piped, `suspend` wrapped its line at 80 columns, splitting the `studycli unsuspend ...`
    it gives to copy (a helper's review)."""
    card_id = "a-card-whose-id-is-long-enough-to-wrap-the-line"
    (content_copy / "cards" / "basics" / f"{card_id}.yaml").write_text(
        f"id: {card_id}\nkind: concept\ntopic: bias\ntitle: Long\nprompt: Why?\nanswer: So.\n",
        encoding="utf-8",
    )
    db = tmp_path / "db.sqlite3"
    said = cli("--content", content_copy, "--db", db, "suspend", card_id).stdout
    assert f"`studycli unsuspend {card_id}` brings it back" in said, said


def test_tags_are_listed_filtered_and_a_mistyped_one_is_named(cli):
    """`review --tag nope` said "no cards match those filters: `studycli list` shows decks and
    topics", and no command showed a card's tags (a helper's review)."""
    listed = cli("--content", FIXTURE_CONTENT, "list", "--tag", "warm-up", "--json")
    cards = json.loads(listed.stdout)
    assert sorted(c["id"] for c in cards) == ["add-one", "bias-concept"]
    assert all(c["tags"] == ["warm-up"] for c in cards)
    typo = cli("--content", FIXTURE_CONTENT, "list", "--tag", "warmup")
    assert typo.exit_code == 1 and "no card has tag 'warmup'; did you mean warm-up?" in typo.stderr


def test_stats_and_export_anki_take_tag_as_list_does(cli, tmp_path):
    """`list`, `review` and `cram` took --tag; `stats` and `export-anki` refused it (a usage
    error): the figures and the Anki deck of a tag's cards could not be had."""
    figures = cli("--content", FIXTURE_CONTENT, "stats", "--tag", "warm-up", "--json")
    assert figures.exit_code == 0, figures.output
    assert json.loads(figures.stdout)["cards"] == 2  # add-one and bias-concept
    out = tmp_path / "warm-up.apkg"
    exported = cli("--content", FIXTURE_CONTENT, "export-anki", str(out), "--tag", "warm-up")
    assert exported.exit_code == 0, exported.output
    assert "exported 2 cards in 1 deck" in exported.stdout and out.is_file()
    typo = cli("--content", FIXTURE_CONTENT, "stats", "--tag", "warmup")
    assert typo.exit_code == 1 and "did you mean warm-up?" in typo.stderr


def test_the_help_groups_the_commands_by_what_a_learner_comes_for(cli, monkeypatch):
    """`studycli --help` listed the commands as their modules registered them: `review` came
    14th, after the commands that write cards (new, schema, lint, check). Now each is in the
    panel of what it is for, a learner's first, every command in exactly one."""
    monkeypatch.setenv("COLUMNS", "100")
    result = cli("--help")
    assert result.exit_code == 0, result.output
    panels: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("╭─ "):
            title = line.removeprefix("╭─ ").rstrip("─╮ ")
            panels[title] = []
        elif line.startswith("│ ") and panels and line[2] != " ":
            panels[title].append(line[2:].split()[0])
    assert list(panels) == ["Options", "Study", "Your progress and history", "Cards",
                            "Writing cards"]  # fmt: skip
    assert panels["Study"][:2] == ["review", "due"]
    assert {"solve", "cram", "undo", "suspend", "unsuspend"} <= set(panels["Study"])
    assert {"stats", "history"} <= set(panels["Your progress and history"])
    assert set(panels["Writing cards"]) == {"new", "lint", "check", "schema"}
    listed = [name for title, names in panels.items() if title != "Options" for name in names]
    assert sorted(listed) == COMMANDS  # each command once


def test_the_help_lists_each_command_in_at_most_three_lines(cli, monkeypatch):
    """`studycli --help` shows each command's first paragraph: `undo`'s took five lines at 80
    columns, `topics`' and `list`'s four, a list a learner reads to find a command. The
    details belong in the paragraphs after it (`studycli COMMAND --help`)."""
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("--help")
    assert result.exit_code == 0, result.output
    lines: dict[str, int] = {}
    command = None
    for line in result.stdout.splitlines():
        if not line.startswith("│ "):
            command = None
        elif line[2] != " ":  # a command's first line (or an option's, counted apart)
            command = line[2:].split()[0]
            lines[command] = 1
        elif command is not None and line[2:].strip(" │"):
            lines[command] += 1
    commands = {name: count for name, count in lines.items() if not name.startswith("-")}
    assert set(commands) == set(COMMANDS)
    assert {name: count for name, count in commands.items() if count > 3} == {}


@pytest.mark.parametrize("command", COMMANDS)
def test_no_help_cuts_a_word_short_at_80_columns(cli, monkeypatch, command):
    """Rich ends a word too long for its column with "…": `optimize --help` at 80 columns
    showed the CSV columns of --from-csv as "(card_id,review_rating,review_time,review_durati…",
    the last one lost to a reader who must type the file's header."""
    monkeypatch.setenv("COLUMNS", "80")
    result = cli(command, "--help")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if "…" in line] == []


@pytest.mark.parametrize("terminal", [True, False])
def test_prose_wraps_at_words_on_a_terminal_and_is_one_line_piped(terminal):
    """`print_prose`: a sentence longer than the terminal wrapped at its words there (the
    terminal broke it mid-word), one line however long elsewhere."""
    import io

    from rich.console import Console

    from studycli.cli.app import print_prose

    sentence = " ".join(["studycli optimize --write"] * 8)  # 207 characters
    console = Console(file=io.StringIO(), width=80, force_terminal=terminal, color_system=None)
    print_prose(console, sentence)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    if terminal:
        assert len(lines) == 3 and max(len(line) for line in lines) <= 80
        assert all(line.strip().startswith("studycli") for line in lines)  # at its words
    else:
        assert lines == [sentence]


@pytest.mark.parametrize("terminal", [True, False])
def test_a_path_longer_than_the_terminal_stays_whole_on_a_line_of_its_own(terminal):
    """`print_prose` at 40 columns: a path longer than the line, inside a sentence, was cut by
    Rich at the width, and a reader's copy of it pasted in two. It stands whole on a line of
    its own (the terminal wraps it, and a copy takes it back as one line); the words around it
    wrap as before."""
    import io

    from rich.console import Console

    from studycli.cli.app import print_prose

    path = "/home/learner/projects/ml-study/backups/reviews.sqlite3.before-0010.bak"  # 71
    sentence = f"the file as it was before the upgrade: [bold]{path}[/]; restore it with cp"
    console = Console(file=io.StringIO(), width=40, force_terminal=terminal, color_system=None)
    print_prose(console, sentence)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    if terminal:
        assert [line.rstrip() for line in lines] == [
            "the file as it was before the upgrade:",
            f"{path};",
            "restore it with cp",
        ]
    else:
        assert lines == [sentence.replace("[bold]", "").replace("[/]", "")]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_usage_line_is_whole_at_80_columns(command):
    """`new --help`'s usage line read `{kind}:<concept|derivation|coding|cloze> {ID}`, broken
    mid-word at 80 columns: each command's usage names its arguments plainly, on one line."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(whole_app(), [command, "--help"], env={"COLUMNS": "80"})
    lines = [line.strip() for line in result.stdout.splitlines()]
    usage = next(i for i, line in enumerate(lines) if line.startswith("Usage:"))
    assert lines[usage + 1] == "", lines[usage : usage + 2]
    assert "<" not in lines[usage], lines[usage]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_metavar_is_whole_on_its_line_at_80_columns(command):
    """`new --help` showed KIND's type as `<concept|derivation|coding|cl` above `oze>`: Rich
    folds a word too long for the type column wherever the column ends. No type of choices,
    `<a|b|...>`, is left open at the end of a line's column."""
    import re

    from typer.testing import CliRunner

    result = CliRunner().invoke(whole_app(), [command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert re.findall(r"<[\w-]*\|[\w|-]*(?=[\s│]|$)", result.stdout) == []
