"""`check --changed`: the cards a branch touched, found with git in a real repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studycli.check import changed as changed_module
from studycli.check.changed import changed_cards
from studycli.content.loader import load_content

from .conftest import FIXTURE_CONTENT, edit, git, write_card

ALL = ["add-one", "bias-concept", "poisson-concept", "triangle-derivation"]


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository whose main holds the fixture deck, on a fresh branch `feature`."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE_CONTENT, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / ".gitignore").write_text("__pycache__/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "the deck")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def ids(repo: Path, ref: str | None = None) -> list[str]:
    return [card.id for card in changed_cards(load_content(repo), ref).cards]


def test_nothing_changed_checks_nothing(repo):
    found = changed_cards(load_content(repo))
    assert found.cards == [] and "the merge base of HEAD with main" in found.note


def test_a_branch_that_edits_one_card_checks_only_it(repo):
    edit(repo / "cards" / "basics" / "bias-concept.yaml", "decision boundaries", "boundaries")
    git(repo, "commit", "-q", "-am", "reword")
    assert ids(repo) == ["bias-concept"]
    # main moving on does not bring main's own changes in: the base is the merge base
    git(repo, "checkout", "-q", "main")
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "Both are λ.", "λ and λ.")
    git(repo, "commit", "-q", "-am", "on main")
    git(repo, "checkout", "-q", "feature")
    assert ids(repo) == ["bias-concept"]
    assert ids(repo, "main") == ["bias-concept"]
    # a ref on the branch's own history: what changed since it
    assert ids(repo, "HEAD") == []
    # once main is merged in (as in a pull request's merge commit), main's change is no change
    git(repo, "merge", "-q", "--no-edit", "main")
    assert ids(repo, "main") == ["bias-concept"]


def test_editing_a_solution_module_checks_every_card_naming_it(repo):
    edit(repo / "solutions" / "arith.py", "return x + 1\n", "return 1 + x\n")  # uncommitted
    assert ids(repo) == ["add-one", "triangle-derivation"]


def test_staged_and_untracked_changes_count(repo):
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "Both are λ.", "λ, twice.")
    git(repo, "add", "cards/numbers/poisson-concept.yaml")
    new = repo / "cards" / "numbers" / "fresh.yaml"
    new.write_text(
        "id: fresh\nkind: concept\ntopic: poisson\ntitle: T\nprompt: P?\nanswer: A.\n",
        encoding="utf-8",
    )
    assert ids(repo) == ["fresh", "poisson-concept"]


def test_a_card_naming_a_changed_module_in_check_only_is_included(repo):
    (repo / "solutions" / "checks.py").write_text(
        "def check_add_one(impl, device='cpu'):\n    pass\n"
    )
    edit(
        repo / "cards" / "basics" / "add-one.yaml",
        "solution: arith:add_one",
        "solution: arith:add_one\ncheck: checks:check_add_one",
    )
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a checker of its own")
    git(repo, "checkout", "-q", "-b", "second")
    edit(repo / "solutions" / "checks.py", "pass", "return None")
    assert ids(repo, "feature") == ["add-one"]


def test_content_in_a_subfolder_of_the_repository(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE_CONTENT, root / "content", ignore=shutil.ignore_patterns("__pycache__"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "the deck")
    edit(root / "content" / "cards" / "basics" / "add-one.yaml", "Add one", "Add 1")
    assert ids(root / "content") == ["add-one"]


def test_the_checkers_api_changing_checks_every_card(repo, monkeypatch):
    api = repo / "studycli" / "assertions" / "comparisons.py"  # (one of the package's modules)
    api.parent.mkdir(parents=True)
    api.write_text("# the checkers' API\n")
    monkeypatch.setattr(changed_module, "_assertions_folder", lambda: api.parent.resolve())
    found = changed_cards(load_content(repo))
    assert [c.id for c in found.cards] == ALL and "assertions/ changed" in found.note


def test_an_unknown_ref_checks_every_card_and_says_why(repo):
    found = changed_cards(load_content(repo), "no-such-branch")
    assert [c.id for c in found.cards] == ALL
    assert found.note == (
        "git knows no commit 'no-such-branch' (fetch it first, e.g. git fetch origin): "
        "checking every card"
    )


def test_check_changed_with_an_unknown_ref_refuses(cli, repo):
    """A mistyped ref in CI checked every card and passed, with nothing said of renames (a
    helper's review): a ref that was named must be one git knows."""
    result = cli("--content", repo, "check", "--changed", "no-such-branch")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "git knows no commit 'no-such-branch'" in said
    assert "nothing was checked" in said


def test_without_main_the_default_checks_every_card_and_says_why(repo):
    git(repo, "branch", "-q", "-m", "main", "trunk")
    found = changed_cards(load_content(repo))
    assert [c.id for c in found.cards] == ALL
    assert "no merge base of HEAD with main or origin/main" in found.note
    assert "check --changed REF" in found.note


def test_outside_a_git_repository_every_card_is_checked(content_copy):
    found = changed_cards(load_content(content_copy))
    assert [c.id for c in found.cards] == ALL and "is not in a git repository" in found.note


def test_check_changed_taking_every_card_names_no_card_without_checks(cli, content_copy):
    """Outside git, `--changed` checks every card, as a plain `check` does, and like it names
    none of the cards that have no checks (it listed 370 of the shipped cards as 'nothing to
    run for'); a plain `check` of one such card by name still says so."""
    result = cli("--content", content_copy, "check", "--changed")
    assert result.exit_code == 0, result.output
    assert "is not in a git repository" in result.stderr
    assert "nothing to run for" not in result.stderr, result.stderr
    named = cli("--content", content_copy, "check", "bias-concept")
    assert "bias-concept has no checks" in " ".join(named.stdout.split())


def test_check_changed_cli_checks_only_the_edited_card(cli, repo):
    edit(repo / "cards" / "basics" / "add-one.yaml", "Add one", "Add 1")
    git(repo, "commit", "-q", "-am", "retitle")
    result = cli("--content", repo, "check", "--changed", "--json")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)] == ["add-one"]
    assert "--changed: 1 changed file(s) since" in result.stderr
    assert "1 card(s) changed" in result.stderr
    explicit = cli("--content", repo, "check", "--changed", "main", "--json")
    assert [r["id"] for r in json.loads(explicit.stdout)] == ["add-one"]
    two = cli("--content", repo, "check", "--changed", "main", "add-one")
    assert two.exit_code == 2 and "at most one argument" in two.stderr  # (a usage error)


def test_check_changed_of_a_concept_card_alone_says_once_that_nothing_runs(cli, repo):
    """A branch that changed only a concept card said "1 card(s) to check", then "nothing to
    run for bias-concept" and "no card to check": three statements, the first contradicted.
    The note counts the cards changed; what `check` makes of them is said once."""
    edit(repo / "cards" / "basics" / "bias-concept.yaml", "decision boundaries", "boundaries")
    git(repo, "commit", "-q", "-am", "reword")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "1 card(s) changed" in said and "to check" not in said, said
    assert "nothing to run" not in said, said
    assert " ".join(result.stdout.split()) == (
        "no card to check: bias-concept has no checks; only coding cards and derivation "
        "cards with a `solution:` have checkers (`studycli review` studies the others)"
    )


def test_many_changed_card_files_that_do_not_load_are_counted_past_the_first(cli, repo):
    """120 of them made one error line of 6,000 characters (a QA pass)."""
    for i in range(7):
        (repo / "cards" / "basics" / f"broken-{i}.yaml").write_text("id: [\n")
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1
    assert "cards/basics/broken-4.yaml and 2 more files: changed, and not a card" in said, said
    assert "broken-5" not in said and "broken-6" not in said


def test_a_changed_card_file_that_does_not_load_fails_the_check(cli, repo):
    """Not a card, so no check of it would run: `check --changed` said "0 of 0 cards pass" and
    exited 0, a pull request's proof with nothing in it. It names the file and sends to lint."""
    path = repo / "cards" / "basics" / "add-one.yaml"
    path.write_text(path.read_text().replace("title:", "  title:", 1))
    found = changed_cards(load_content(repo))
    assert found.broken == (path,)
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1
    assert (
        "cards/basics/add-one.yaml: changed, and not a card that loads: `studycli lint` says why"
        in result.stderr
    )


def test_a_published_cards_id_renamed_fails_the_check(cli, repo):
    """`git mv` of a card on main to a new id, the id changed to match: lint and `check
    --changed` passed, and every learner's history of the card would have stayed behind."""
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    new = old.with_name("neuron-bias.yaml")
    git(repo, "mv", str(old), str(new))
    new.write_text(new.read_text().replace("id: bias-concept", "id: neuron-bias"))
    git(repo, "commit", "-q", "-am", "a better id")
    assert renames(repo) == [("bias-concept", "neuron-bias", new.resolve())]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "card ids renamed: bias-concept -> neuron-bias (cards/basics/neuron-bias.yaml)." in said
    assert "Keep the id (change the title instead)" in said


def renames(repo: Path) -> list[tuple[str, str, Path]]:
    return [(r.old, r.new, r.path) for r in changed_cards(load_content(repo)).renamed]


def test_an_id_renamed_with_plain_mv_and_not_staged_fails_the_check(cli, repo):
    """`mv` and an edited `id:`, nothing staged: git's rename detection sees a deleted file
    and an untracked one, and `check --changed` said nothing. The ids at the base and now
    are compared instead."""
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    new = old.with_name("neuron-bias.yaml")
    old.rename(new)
    edit(new, "id: bias-concept", "id: neuron-bias")
    assert renames(repo) == [("bias-concept", "neuron-bias", new.resolve())]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "card ids renamed: bias-concept -> neuron-bias (cards/basics/neuron-bias.yaml)." in said
    assert "give the file its old name and `id:` back" in said
    # rewritten beyond git's rename detection (its topic kept), and a second new card: still
    # the same rename
    new.write_text(
        "id: neuron-bias\nkind: concept\ntopic: bias\ntitle: T\nprompt: P?\nanswer: A.\n"
    )
    (new.parent / "other.yaml").write_text(
        "id: other\nkind: concept\ntopic: poisson\ntitle: Other\nprompt: Q?\nanswer: B.\n"
    )
    git(repo, "add", ".")
    assert [(old_id, new_id) for old_id, new_id, _ in renames(repo)] == [
        ("bias-concept", "neuron-bias")
    ]


def test_a_card_removed_with_no_new_card_passes_with_a_note(cli, repo):
    """Removing a published card is allowed (its reviews stay in the histories); the note
    names it."""
    (repo / "cards" / "basics" / "add-one.yaml").unlink()
    found = changed_cards(load_content(repo))
    assert found.renamed == () and found.note.endswith("; card(s) removed: add-one")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_card_removed_beside_an_unrelated_new_card_is_a_removal_not_a_rename(cli, repo):
    """Every gone id was paired with the new card most like it, however unlike: a pull request
    that removed one card and added an unrelated one failed as a rename ("card ids renamed:
    poisson-hospital-example -> running-variance-cancellation"). A new card of another topic
    sharing few lines is no rename; one of the same topic still is (the safe reading)."""
    (repo / "cards" / "basics" / "bias-concept.yaml").unlink()
    other = repo / "cards" / "basics" / "other.yaml"
    other.write_text(
        "id: other\nkind: concept\ntopic: poisson\ntitle: Other\nprompt: Q?\nanswer: B.\n"
    )
    found = changed_cards(load_content(repo))
    assert found.renamed == () and found.note.endswith("; card(s) removed: bias-concept")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output
    other.write_text(other.read_text().replace("topic: poisson", "topic: bias"))
    assert renames(repo) == [("bias-concept", "other", other.resolve())]
    # two cards of its topic removed beside it: one rename to it at most, the other removed
    # (both were "renamed" to it: a QA pass)
    (repo / "cards" / "basics" / "add-one.yaml").unlink()
    found = changed_cards(load_content(repo))
    assert len(found.renamed) == 1 and found.renamed[0].new == "other", found.renamed
    gone = {"add-one", "bias-concept"} - {found.renamed[0].old}
    assert found.note.endswith(f"; card(s) removed: {gone.pop()}"), found.note


CLOZE = """id: poisson-cloze
kind: cloze
topic: poisson
title: Poisson moments
prompt: |
  For Poisson(λ) the mean is {{c1::λ}} and the variance is {{c2::also λ::a parameter}}; the
  counts are {{c3::non-negative integers}}.
"""


@pytest.fixture
def cloze(repo) -> Path:
    """A cloze card published on main, on a fresh branch `cloze` that starts from it."""
    path = repo / "cards" / "numbers" / "poisson-cloze.yaml"
    git(repo, "checkout", "-q", "main")
    path.write_text(CLOZE, encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a cloze card")
    git(repo, "checkout", "-q", "-b", "cloze")
    return path


def renumbering(repo: Path) -> list[tuple[str, tuple, tuple]]:
    found = changed_cards(load_content(repo)).renumbered
    return [(r.card_id, r.moved, r.removed) for r in found]


def test_renumbered_cloze_deletions_fail_the_check(cli, repo, cloze):
    """Swapping {{c1::...}} and {{c2::...}} hands each number's reviews to the other fact:
    lint and `check --changed` said nothing."""
    edit(cloze, "{{c1::λ}}", "{{c2::λ}}")
    edit(cloze, "{{c2::also λ::a parameter}}", "{{c1::also  λ::a parameter}}")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert (
        "cards/numbers/poisson-cloze.yaml: cloze deletions renumbered: c1 -> c2, c2 -> c1." in said
    )
    assert "Keep each fact under the number it had (a dropped number stays unused)" in said
    assert renumbering(repo) == [("poisson-cloze", ((1, 2), (2, 1)), ())]


def test_a_cloze_number_moved_down_fails_and_an_edited_new_or_dropped_one_passes(cli, repo, cloze):
    # a deletion's text edited, a new fact under a new number: each number keeps its fact
    edit(cloze, "{{c1::λ}}", "{{c1::λ, the rate}}")
    edit(cloze, "integers}}.", "integers}}, {{c4::unbounded}}.")
    assert renumbering(repo) == []
    assert cli("--content", repo, "check", "--changed").exit_code == 0
    # c2 dropped and c3 moved down into its place; then only the last number dropped
    edit(cloze, "{{c2::also λ::a parameter}}", "also λ")
    edit(cloze, "{{c3::", "{{c2::")
    edit(cloze, "{{c4::", "{{c3::")
    assert renumbering(repo) == [("poisson-cloze", ((3, 2),), ())]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1 and "c3 -> c2" in " ".join(result.stderr.split())
    # a number dropped, no other moved: its reviews stay in the log, taken over by no fact
    cloze.write_text(CLOZE.replace("{{c3::non-negative integers}}", "integers"))
    assert renumbering(repo) == [("poisson-cloze", (), (3,))]
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0 and "cloze deletions removed: poisson-cloze#c3" in said


def test_a_middle_cloze_number_dropped_passes_lint_and_the_check(cli, repo, cloze):
    """c2 dropped, c1 and c3 kept: lint refused the gap ("skip a number: use c1..c2"), and
    doing what it said failed `check --changed` (c3 -> c2): no way through."""
    edit(cloze, "{{c2::also λ::a parameter}}", "also λ")
    assert cli("--content", repo, "lint").exit_code == 0
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0 and "cloze deletions removed: poisson-cloze#c2" in said


def test_a_new_cloze_card_whose_numbers_skip_one_fails_the_check(cli, repo):
    """Lint lets a gap through (a published card may drop a deletion); a new card has none to
    drop, and its c1, c3 passed unremarked."""
    new = repo / "cards" / "numbers" / "mean-cloze.yaml"
    card = (
        "id: mean-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson's mean\n"
        "prompt: The mean of Poisson(λ) is {{c1::λ}}; its variance is {{c3::λ}}.\n"
    )
    new.write_text(card, encoding="utf-8")
    assert cli("--content", repo, "lint").exit_code == 0
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert "mean-cloze.yaml: a new cloze card numbering its deletions c1, c3" in said
    assert "Number them c1..c2" in said
    new.write_text(card.replace("{{c3::", "{{c2::"), encoding="utf-8")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_renamed_cloze_card_with_a_gap_is_told_of_the_rename_only(cli, repo, cloze):
    """A published cloze card renamed, one of its deletions dropped: its new id is new to the
    branch, and the check told the author to renumber it c1..c2 (which would hand c3's
    reviews to c2) beside keeping the id."""
    new = cloze.with_name("poisson-moments-cloze.yaml")
    git(repo, "mv", str(cloze), str(new))
    text = new.read_text().replace("id: poisson-cloze", "id: poisson-moments-cloze")
    new.write_text(text.replace("{{c2::also λ::a parameter}}", "also λ"), encoding="utf-8")
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "card ids renamed: poisson-cloze -> poisson-moments" in said
    assert "Number them" not in said


def test_a_card_changed_to_or_from_a_cloze_fails_the_check(cli, repo, cloze):
    """A cloze card's reviews are kept per deletion (id#c1, ...), any other card's under its id:
    a published card changed from one to the other leaves its reviews behind, and passed."""
    cloze.write_text(
        "id: poisson-cloze\nkind: concept\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: What are the mean and variance of Poisson(λ)?\nanswer: Both are λ.\n",
        encoding="utf-8",
    )
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert "cards/numbers/poisson-cloze.yaml: changed from cloze to concept" in said
    git(repo, "checkout", "-q", "--", ".")
    concept = repo / "cards" / "numbers" / "poisson-concept.yaml"
    text = concept.read_text(encoding="utf-8")
    concept.write_text(
        "id: poisson-concept\nkind: cloze\ntopic: poisson\ntitle: Mean of a Poisson variable\n"
        "prompt: The mean of Poisson(λ) is {{c1::λ}}.\nrequires: [bias-concept]\n",
        encoding="utf-8",
    )
    assert cli("--content", repo, "lint").exit_code == 0
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "changed from concept to cloze" in said
    # a card that never loaded at the base (a cloze card with no deletion) has no reviews
    git(repo, "checkout", "-q", "--", ".")
    cloze.write_text(CLOZE.replace("{{c1::λ}}", "λ").replace("{{c2::also λ::a parameter}}", "λ")
                     .replace("{{c3::non-negative integers}}", "integers"))  # fmt: skip
    git(repo, "commit", "-q", "-am", "a broken cloze card")
    cloze.write_text(
        "id: poisson-cloze\nkind: concept\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: What are the mean and variance of Poisson(λ)?\nanswer: Both are λ.\n",
        encoding="utf-8",
    )
    assert changed_cards(load_content(repo), "HEAD").rekinded == ()
    cloze.write_text(CLOZE, encoding="utf-8")  # mended, a cloze card as it meant to be
    assert changed_cards(load_content(repo), "HEAD").rekinded == ()
    # from one kind of card to another that is not a cloze: the same single history
    concept.write_text(text.replace("kind: concept", "kind: derivation"), encoding="utf-8")
    assert changed_cards(load_content(repo), "HEAD").rekinded == ()


def test_a_card_moved_to_another_deck_keeps_its_id_and_passes(repo):
    """Moving a file between decks keeps its name, so its id: no rename."""
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    git(repo, "mv", str(old), str(repo / "cards" / "numbers" / old.name))
    git(repo, "commit", "-q", "-m", "another deck")
    assert changed_cards(load_content(repo)).renamed == ()
    moved = repo / "cards" / "numbers" / "add-one.yaml"
    (repo / "cards" / "basics" / "add-one.yaml").rename(moved)  # plain mv, not staged
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "Both are λ.", "λ, twice.")
    found = changed_cards(load_content(repo))
    assert found.renamed == () and "removed" not in found.note


def shallow_clone(repo: Path, branch: str, into: Path) -> Path:
    """A clone of `branch` of `repo` one commit deep, with main fetched one commit deep as
    origin/main (a CI checkout's default depth)."""
    git(repo.parent, "clone", "-q", "--depth", "1", "--branch", branch, repo.as_uri(), str(into))
    git(into, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    return into


def test_a_shallow_clone_whose_history_does_not_reach_the_base_refuses(cli, repo, tmp_path):
    """One commit deep, git finds no merge base of the branch with origin/main, and the
    check compared with origin/main's tip: a card main gained since the branch left it read
    as removed by the branch, and, beside a card the branch added, as renamed to it ("card
    ids renamed: ...: give the file its old name and `id:` back"), a failure with a false
    fix. The check now says what to fetch."""
    new = "id: {0}\nkind: concept\ntopic: poisson\ntitle: {0}\nprompt: P?\nanswer: A.\n"
    (repo / "cards" / "numbers" / "branch-card.yaml").write_text(new.format("branch-card"))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a card of the branch")
    git(repo, "checkout", "-q", "main")
    (repo / "cards" / "numbers" / "main-card.yaml").write_text(new.format("main-card"))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a card of main's, after the branch left it")
    clone = shallow_clone(repo, "feature", tmp_path / "shallow")
    found = changed_cards(load_content(clone), "origin/main")
    assert found.base is None and found.renamed == ()
    result = cli("--content", clone, "check", "--changed", "origin/main")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "renamed" not in said
    assert "shallow" in said and "git fetch --unshallow" in said and "fetch-depth: 0" in said


def test_a_shallow_clone_of_a_merge_commit_compares_with_its_parent_on_main(repo, tmp_path):
    """A pull request's merge commit checked out one commit deep (GitHub's default): its
    parents are cut off, so git finds no merge base, but origin/main is its parent: the
    branch's changes are exactly what differs from it."""
    edit(repo / "cards" / "basics" / "bias-concept.yaml", "decision boundaries", "boundaries")
    git(repo, "commit", "-q", "-am", "reword")
    git(repo, "checkout", "-q", "main")
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "Both are λ.", "λ and λ.")
    git(repo, "commit", "-q", "-am", "on main")
    git(repo, "checkout", "-q", "-b", "merged")
    git(repo, "merge", "-q", "--no-edit", "feature")
    git(repo, "checkout", "-q", "main")
    clone = shallow_clone(repo, "merged", tmp_path / "shallow")
    found = changed_cards(load_content(clone), "origin/main")
    assert [card.id for card in found.cards] == ["bias-concept"] and found.base is not None


def test_each_changed_card_files_text_at_the_base_is_read(repo, cloze):
    """The texts at the base come from one `git cat-file --batch`, each after the one before
    it: a second published card's renumbering is found as well as the first's."""
    edit(repo / "cards" / "basics" / "bias-concept.yaml", "decision boundaries", "boundaries")
    edit(cloze, "{{c1::λ}}", "{{c2::λ}}")
    edit(cloze, "{{c2::also λ::a parameter}}", "{{c1::also λ::a parameter}}")
    assert renumbering(repo) == [("poisson-cloze", ((1, 2), (2, 1)), ())]


def test_a_renamed_id_is_paired_with_the_new_card_most_like_it(repo):
    """Two new cards beside a gone id: the rename named is to the one that shares the most of
    its text, not the first in order."""
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    new = old.with_name("neuron-bias.yaml")
    old.rename(new)
    edit(new, "id: bias-concept", "id: neuron-bias")
    (old.parent / "a-first.yaml").write_text(
        "id: a-first\nkind: concept\ntopic: poisson\ntitle: Other\nprompt: Q?\nanswer: B.\n"
    )
    assert [(old_id, new_id) for old_id, new_id, _ in renames(repo)] == [
        ("bias-concept", "neuron-bias")
    ]


def test_a_cloze_number_moved_and_another_removed_are_both_said(cli, repo, cloze):
    """c3's text moved to c1 and c2's dropped: c3 moved (not also removed), c2 removed."""
    cloze.write_text(
        CLOZE.replace("{{c1::λ}}", "λ")
        .replace("{{c2::also λ::a parameter}}", "also λ")
        .replace("{{c3::", "{{c1::"),
        encoding="utf-8",
    )
    assert renumbering(repo) == [("poisson-cloze", ((3, 1),), (2,))]
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1
    assert "poisson-cloze.yaml: cloze deletions renumbered: c3 -> c1, c2 removed." in said


def test_without_a_local_main_the_default_is_origin_main(repo, tmp_path):
    """A CI checkout has origin/main and no local main."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", "feature", str(repo), str(clone))
    assert git(clone, "branch", "--list", "main") == ""  # (a clone makes its branch only)
    edit(clone / "cards" / "basics" / "add-one.yaml", "Add one", "Add 1")
    found = changed_cards(load_content(clone))
    assert [card.id for card in found.cards] == ["add-one"]
    assert "the merge base of HEAD with origin/main" in found.note


def test_only_a_python_file_in_solutions_is_a_solution_module(repo):
    """A file named as a module but elsewhere, or not a .py file, brings in no card."""
    (repo / "scripts").mkdir()
    (repo / "scripts" / "arith.py").write_text("print('a script')\n")
    (repo / "solutions" / "arith.md").write_text("notes on arith.py\n")
    found = changed_cards(load_content(repo))
    assert found.cards == [] and "2 changed file(s)" in found.note


def test_a_yaml_file_outside_cards_is_no_card_of_the_change(repo):
    """A card removed beside a new YAML file elsewhere (a CI workflow): a removal, not a
    rename of the card to the workflow."""
    (repo / "cards" / "basics" / "add-one.yaml").unlink()
    (repo / "workflow.yaml").write_text("name: ci\n")
    found = changed_cards(load_content(repo))
    assert found.renamed == () and found.note.endswith("; card(s) removed: add-one")


def test_a_card_file_that_did_not_load_before_the_change_is_not_the_changes(repo):
    """A card file on main that does not load is main's problem: a branch that leaves it
    alone is not refused for it."""
    git(repo, "checkout", "-q", "main")
    broken = repo / "cards" / "basics" / "broken.yaml"
    broken.write_text("id: broken\nkind: concept\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a card that does not load")
    git(repo, "checkout", "-q", "-b", "second")
    edit(repo / "cards" / "basics" / "add-one.yaml", "Add one", "Add 1")
    content = load_content(repo)
    assert [problem.path for problem in content.problems if problem.path == broken]
    found = changed_cards(content)
    assert found.broken == () and [card.id for card in found.cards] == ["add-one"]


def test_a_ref_with_no_history_in_common_is_compared_with_itself(repo):
    """In a whole clone, a ref that shares no history with HEAD (the deck imported as a root
    commit of its own) is the base itself."""
    git(repo, "checkout", "-q", "--orphan", "imported")
    git(repo, "commit", "-q", "-m", "the deck, imported")
    git(repo, "checkout", "-q", "feature")
    edit(repo / "cards" / "basics" / "add-one.yaml", "Add one", "Add 1")
    found = changed_cards(load_content(repo), "imported")
    assert [card.id for card in found.cards] == ["add-one"]
    assert "(imported): 1 card(s) changed; text edited" in found.note  # (its title)


def test_a_rename_listing_the_old_id_in_renamed_from_passes_with_a_note(cli, repo):
    """The sanctioned rename: every learner's history follows the card (`study.renames`)."""
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    new = old.with_name("neuron-bias.yaml")
    git(repo, "mv", str(old), str(new))
    edit(new, "id: bias-concept\n", "id: neuron-bias\nrenamed_from: [bias-concept]\n")
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "bias-concept", "neuron-bias")
    git(repo, "commit", "-q", "-am", "a better id, its history carried")
    found = changed_cards(load_content(repo))
    assert found.renamed == () and [(r.old, r.new) for r in found.carried] == [
        ("bias-concept", "neuron-bias")
    ]
    assert "removed" not in found.note
    assert found.note.endswith(
        "card(s) renamed with `renamed_from`, their learners' histories carried over: "
        "bias-concept -> neuron-bias"
    )
    assert cli("--content", repo, "lint").exit_code == 0
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def _renamed(repo: Path, old: str, new: str, listed: str) -> Path:
    """Card `old` of the basics renamed `new` (its file moved, poisson's `requires` following),
    with `renamed_from: [listed]` in place of any it had; its new file."""
    basics = repo / "cards" / "basics"
    path = basics / f"{new}.yaml"
    git(repo, "mv", str(basics / f"{old}.yaml"), str(path))
    edit(path, f"id: {old}\n", f"id: {new}\n")
    text = path.read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if "renamed_from" not in line)
    path.write_text(text.replace(f"id: {new}", f"id: {new}\nrenamed_from: [{listed}]") + "\n")
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", old, new)
    return path


def test_a_card_renamed_again_without_its_first_old_id_fails_the_check(cli, repo):
    """bias-concept renamed neuron-bias on main, then neuron-bias renamed bias-neuron with
    `renamed_from: [neuron-bias]` alone: a learner who had not studied since the first rename
    still held the reviews under bias-concept, which no card listed any more, so they stayed
    behind as "not in the content" and the card started again as new (and the Anki note,
    keyed by the oldest id, came again); lint and the check passed. Listing both passes."""
    git(repo, "checkout", "-q", "main")
    _renamed(repo, "bias-concept", "neuron-bias", "bias-concept")
    git(repo, "commit", "-q", "-am", "the first rename, published")
    git(repo, "checkout", "-q", "-B", "feature", "main")
    path = _renamed(repo, "neuron-bias", "bias-neuron", "neuron-bias")
    assert cli("--content", repo, "lint").exit_code == 0
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert (
        "old ids no card lists in `renamed_from` any more: bias-concept (listed by "
        "neuron-bias)" in said
    )
    assert "add bias-concept to the `renamed_from` of cards/basics/bias-neuron.yaml" in said
    found = changed_cards(load_content(repo))
    assert [(f.old, f.was, f.card_id) for f in found.forgotten] == [
        ("bias-concept", "neuron-bias", "bias-neuron")
    ]
    edit(path, "renamed_from: [neuron-bias]", "renamed_from: [bias-concept, neuron-bias]")
    assert changed_cards(load_content(repo)).forgotten == ()
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_card_renamed_again_with_its_ids_out_of_order_fails_the_check(cli, repo):
    """bias-concept renamed neuron-bias on main, then neuron-bias renamed bias-neuron with
    `renamed_from: [neuron-bias, bias-concept]`: every old id listed (no history left behind),
    but the Anki note is keyed by the first listed, bias-concept's until then, so an export
    came as another note; lint and the check passed. Oldest first passes."""
    git(repo, "checkout", "-q", "main")
    _renamed(repo, "bias-concept", "neuron-bias", "bias-concept")
    git(repo, "commit", "-q", "-am", "the first rename, published")
    git(repo, "checkout", "-q", "-B", "feature", "main")
    path = _renamed(repo, "neuron-bias", "bias-neuron", "neuron-bias, bias-concept")
    assert cli("--content", repo, "lint").exit_code == 0
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert (
        "cards/basics/bias-neuron.yaml: `renamed_from: [neuron-bias, bias-concept]` does not "
        "begin with bias-concept, the card's first id" in said
    )
    assert "Keep bias-concept first" in said
    assert "`renamed_from: [bias-concept, neuron-bias]`" in said
    edit(path, "[neuron-bias, bias-concept]", "[bias-concept, neuron-bias]")
    assert changed_cards(load_content(repo)).reordered == ()
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_card_removed_on_its_own_forgets_no_old_id(repo):
    """A removed card takes its old ids' histories with it, as its own: nothing to list."""
    basics = repo / "cards" / "basics"
    git(repo, "checkout", "-q", "main")
    edit(
        basics / "bias-concept.yaml",
        "id: bias-concept\n",
        "id: bias-concept\nrenamed_from: [bias]\n",
    )
    git(repo, "commit", "-q", "-am", "an old id")
    git(repo, "checkout", "-q", "-B", "feature", "main")
    git(repo, "rm", "-q", str(basics / "bias-concept.yaml"))
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "requires: [bias-concept]\n", "")
    assert changed_cards(load_content(repo)).forgotten == ()


def test_a_rename_without_renamed_from_is_told_to_add_it(cli, repo):
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    new = old.with_name("neuron-bias.yaml")
    old.rename(new)
    edit(new, "id: bias-concept", "id: neuron-bias")
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1
    assert (
        "to rename the card, add `renamed_from: [bias-concept]` to cards/basics/neuron-bias.yaml, "
        "which carries every learner's history over to the new id" in said
    )


def test_a_cloze_card_renamed_with_renamed_from_is_still_held_to_its_numbers(cli, repo, cloze):
    """Its deletions' histories follow it by number: a fact moved to another number in the
    same change takes over another's reviews, as under its old id."""
    new = cloze.with_name("poisson-moments.yaml")
    git(repo, "mv", str(cloze), str(new))
    edit(new, "id: poisson-cloze\n", "id: poisson-moments\nrenamed_from: [poisson-cloze]\n")
    assert cli("--content", repo, "check", "--changed").exit_code == 0
    text = new.read_text(encoding="utf-8")
    swapped = (
        text.replace("{{c1::", "{{c9::").replace("{{c2::", "{{c1::").replace("{{c9::", "{{c2::")
    )
    new.write_text(swapped, encoding="utf-8")
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "poisson-moments.yaml: cloze deletions renumbered" in said
    assert "card ids renamed" not in said


def _swap(repo: Path) -> None:
    """Give bias-concept the text of poisson-concept and poisson-concept that of bias-concept,
    each file keeping its id (as two files exchanged, their `id:` lines set back)."""
    bias = repo / "cards" / "basics" / "bias-concept.yaml"
    poisson = repo / "cards" / "numbers" / "poisson-concept.yaml"
    was_bias, was_poisson = bias.read_text(), poisson.read_text()
    bias.write_text(
        was_poisson.replace("id: poisson-concept", "id: bias-concept").replace(
            "requires: [bias-concept]\n", ""
        )
    )
    poisson.write_text(was_bias.replace("id: bias-concept", "id: poisson-concept"))


def moves(repo: Path) -> list[tuple[str, str]]:
    return [(m.old, m.new) for m in changed_cards(load_content(repo)).moved]


def test_two_cards_whose_ids_were_swapped_fail_the_check(cli, repo):
    """Two published cards' texts exchanged under their ids: no id is gone, so lint and the
    rename check passed, and each id's reviews (of the other text) went on scheduling it."""
    _swap(repo)
    assert cli("--content", repo, "lint").exit_code == 0
    assert moves(repo) == [("bias-concept", "poisson-concept"), ("poisson-concept", "bias-concept")]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())
    assert "card texts moved to another id: bias-concept <-> poisson-concept (swapped)." in said
    assert "Keep each text under its id (change the title instead)" in said


def test_a_text_moved_and_reflowed_is_still_a_move(repo):
    """The texts compare as the learner sees them: a paragraph broken at other places as it
    moved hid the move (the hash of the text as written changed with its line breaks)."""
    _swap(repo)
    poisson = repo / "cards" / "numbers" / "poisson-concept.yaml"
    edit(poisson, "which decision boundaries can", "which decision\n  boundaries can")
    assert moves(repo) == [("bias-concept", "poisson-concept"), ("poisson-concept", "bias-concept")]


def test_a_text_given_to_a_new_id_while_its_card_takes_another_fails_the_check(cli, repo):
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    new = old.with_name("neuron-bias.yaml")
    new.write_text(old.read_text().replace("id: bias-concept", "id: neuron-bias"))
    edit(old, "which decision boundaries can `w·x` express?", "what does `b` add to `w·x`?")
    assert moves(repo) == [("bias-concept", "neuron-bias")]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())
    assert (
        "card texts moved to another id: bias-concept -> neuron-bias (cards/basics/neuron-bias.yaml)"
        in said
    )


def test_an_edited_copied_or_rewritten_text_is_no_move(repo):
    """A text edited under its id, copied to a new card while its own keeps it, or written
    over with a new one, leaves no review of it under another id."""
    old = repo / "cards" / "basics" / "bias-concept.yaml"
    edit(old, "which decision boundaries", "which boundaries")
    assert moves(repo) == []
    git(repo, "checkout", "-q", "--", ".")
    old.with_name("neuron-bias.yaml").write_text(
        old.read_text().replace("id: bias-concept", "id: neuron-bias")
    )
    assert moves(repo) == []  # a copy: bias-concept still has its text
    git(repo, "clean", "-qfd")
    poisson = repo / "cards" / "numbers" / "poisson-concept.yaml"
    edit(
        poisson,
        "What are the mean and the variance of Poisson(λ)?",
        "What is E[X], X ~ Poisson(λ)?",
    )
    edit(old, "which decision boundaries can `w·x` express?", "what does `b` add to `w·x`?")
    assert moves(repo) == []
    git(repo, "checkout", "-q", "--", ".")  # two cards with one text at the base
    poisson.write_text(old.read_text().replace("id: bias-concept", "id: poisson-concept"))
    git(repo, "commit", "-q", "-am", "two cards, one text")
    edit(old, "which decision boundaries", "which boundaries")
    poisson.write_text(poisson.read_text() + "# its file changed, not its text\n")
    assert changed_cards(load_content(repo), "HEAD").moved == ()


def test_a_removed_cards_text_given_to_a_card_there_before_fails_the_check(cli, repo):
    """bias-concept removed, and its text put in poisson-concept's file under that id: no new
    id, so the rename check saw a card removed on its own, and poisson-concept's learners'
    reviews (of its own text) went on scheduling bias-concept's, flagged only as edited."""
    bias = repo / "cards" / "basics" / "bias-concept.yaml"
    poisson = repo / "cards" / "numbers" / "poisson-concept.yaml"
    poisson.write_text(bias.read_text().replace("id: bias-concept", "id: poisson-concept"))
    bias.unlink()
    assert moves(repo) == [("bias-concept", "poisson-concept")]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())
    assert (
        "card texts moved to another id: bias-concept -> poisson-concept "
        "(cards/numbers/poisson-concept.yaml)" in said
    )


@pytest.mark.parametrize("draft_at_base", [False, True])
def test_a_removed_cards_text_under_its_new_id_is_a_rename_not_a_move(cli, repo, draft_at_base):
    """The text of a card removed, under an id new in the change, is the rename check's: with
    `renamed_from` it passes, as before; so it does under the id of a card that was a draft
    at the base (no learner has reviews of it: the history moves onto it whole)."""
    bias = repo / "cards" / "basics" / "bias-concept.yaml"
    renamed = bias.with_name("neuron-bias.yaml")
    if draft_at_base:
        renamed.write_text(
            "id: neuron-bias\nkind: concept\ntopic: bias\ntitle: TODO\n"
            "prompt: 'TODO: the question, in your own words.'\nanswer: TODO\n"
        )
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "a draft")
        git(repo, "branch", "-q", "-f", "main")
    renamed.write_text(
        bias.read_text().replace(
            "id: bias-concept", "id: neuron-bias\nrenamed_from: [bias-concept]"
        )
    )
    bias.unlink()
    poisson = repo / "cards" / "numbers" / "poisson-concept.yaml"
    edit(poisson, "requires: [bias-concept]", "requires: [neuron-bias]")
    assert moves(repo) == []
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def _split_off(repo: Path, number: int, card_id: str, entry: str, cloze_card: bool) -> Path:
    """Deletion `number` of the published poisson-cloze taken out of it, into the new card
    `card_id`, which lists `entry` in its `renamed_from` (a cloze card, or a plain one)."""
    path = repo / "cards" / "numbers" / "poisson-cloze.yaml"
    texts = {1: "{{c1::λ}}", 2: "{{c2::also λ::a parameter}}", 3: "{{c3::non-negative integers}}"}
    edit(path, texts[number], "that")
    prompt = "Its fact is {{c1::that}}." if cloze_card else "Its fact?\nanswer: That."
    new = repo / "cards" / "numbers" / f"{card_id}.yaml"
    new.write_text(
        f"id: {card_id}\nkind: {'cloze' if cloze_card else 'concept'}\ntopic: poisson\n"
        f"title: Poisson, one fact\nrenamed_from: ['{entry}']\nprompt: {prompt}\n",
        encoding="utf-8",
    )
    return new


def test_a_deletion_split_off_with_renamed_from_passes_with_a_note(cli, repo, cloze):
    """c2 of a published cloze card moved into a card of its own, its entry naming the
    deletion: no deletion is left behind (none "removed"), and the note says where it went."""
    _split_off(repo, 2, "poisson-variance", "poisson-cloze#c2", cloze_card=False)
    found = changed_cards(load_content(repo))
    assert renumbering(repo) == [] and found.renamed == ()
    assert [(r.old, r.new) for r in found.carried] == [("poisson-cloze#c2", "poisson-variance")]
    assert "removed" not in found.note
    assert found.note.endswith(
        "card(s) renamed with `renamed_from`, their learners' histories carried over: "
        "poisson-cloze#c2 -> poisson-variance"
    )
    assert cli("--content", repo, "lint").exit_code == 0
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_cloze_card_split_whole_into_others_is_no_removal_nor_rename(cli, repo, cloze):
    for number in (1, 2, 3):
        _split_off(repo, number, f"poisson-fact-{number}", f"poisson-cloze#c{number} -> c1", True)
    cloze.unlink()
    found = changed_cards(load_content(repo))
    assert found.renamed == () and "removed" not in found.note, found.note
    assert sorted((r.old, r.new) for r in found.carried) == [
        (f"poisson-cloze#c{n}", f"poisson-fact-{n}#c1") for n in (1, 2, 3)
    ]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output
    # one deletion's entry forgotten: the card gone is taken for renamed to the new card most
    # like it, without `renamed_from` (that deletion's reviews would stay behind)
    edit(
        repo / "cards" / "numbers" / "poisson-fact-3.yaml",
        "renamed_from: ['poisson-cloze#c3 -> c1']\n",
        "",
    )
    found = changed_cards(load_content(repo))
    assert [(r.old, r.new) for r in found.renamed] == [("poisson-cloze", "poisson-fact-3")]
    assert cli("--content", repo, "check", "--changed").exit_code == 1


def test_a_split_off_deletion_no_card_lists_any_more_fails_the_check(cli, repo, cloze):
    """The split published, then its entry dropped: a learner who has not studied since still
    holds that deletion's reviews under its old item, which would stay behind."""
    new = _split_off(repo, 2, "poisson-variance", "poisson-cloze#c2", cloze_card=False)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c2 split off")
    git(repo, "branch", "-q", "-f", "main")
    edit(new, "renamed_from: ['poisson-cloze#c2']\n", "")
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert (
        "old ids no card lists in `renamed_from` any more: poisson-cloze#c2 (listed by "
        "poisson-variance)" in said
    )


def test_a_plain_card_moved_onto_a_cloze_cards_deletion_passes_with_a_note(cli, repo):
    bias = repo / "cards" / "basics" / "bias-concept.yaml"
    bias.unlink()
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "requires: [bias-concept]\n", "")
    (repo / "cards" / "basics" / "neuron-parts.yaml").write_text(
        "id: neuron-parts\nkind: cloze\ntopic: bias\ntitle: A neuron's parts\n"
        "renamed_from: ['bias-concept -> c1']\n"
        "prompt: Without {{c1::a bias}}, w·x can only express boundaries through the origin.\n",
        encoding="utf-8",
    )
    found = changed_cards(load_content(repo))
    assert found.renamed == () and "removed" not in found.note
    assert [(r.old, r.new) for r in found.carried] == [("bias-concept", "neuron-parts#c1")]
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_an_item_entry_before_the_cards_first_id_is_no_reordering(cli, repo):
    """An Anki note is keyed by the first whole-card id listed: an entry of one deletion,
    which keys no note, may stand before it."""
    git(repo, "checkout", "-q", "main")
    _renamed(repo, "bias-concept", "neuron-bias", "bias-concept")
    git(repo, "commit", "-q", "-am", "the first rename, published")
    git(repo, "checkout", "-q", "-B", "feature", "main")
    path = repo / "cards" / "basics" / "neuron-bias.yaml"
    edit(path, "renamed_from: [bias-concept]", "renamed_from: ['bias-facts#c2', bias-concept]")
    assert "neuron-bias" in load_content(repo).cards
    assert changed_cards(load_content(repo)).reordered == ()
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("kind", "prompt", "entry"),
    [
        ("cloze", "Poisson counts are {{c1::non-negative integers}}.", "'poisson-cloze#c3 -> c1'"),
        ("concept", "What values does a Poisson count take?\nanswer: |\n  Non-negative "
         "integers.", "poisson-cloze#c3"),
    ],
)  # fmt: skip
def test_a_split_cloze_card_with_a_deletion_listed_by_no_card_is_told_that_entry(
    cli, repo, cloze, kind, prompt, entry
):
    """c1 and c2 split off with their entries, c3 put into a card of its own without one: the
    check told the author to add `renamed_from: [poisson-cloze]` there, which would take c3's
    history to poisson-support#c3 (a deletion it has not) and c1's nowhere it fits."""
    for number in (1, 2):
        _split_off(repo, number, f"poisson-fact-{number}", f"poisson-cloze#c{number} -> c1", True)
    cloze.unlink()
    (repo / "cards" / "numbers" / "poisson-support.yaml").write_text(
        f"id: poisson-support\nkind: {kind}\ntopic: poisson\ntitle: Poisson support\n"
        f"prompt: {prompt}\n",
        encoding="utf-8",
    )
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert (
        "poisson-cloze is gone, split into cards that list some of its deletions in "
        "`renamed_from`, and no card lists poisson-cloze#c3: every learner's reviews of it "
        "would stay behind and the fact start again as new. List each deletion in the card its "
        f"text went to: add `renamed_from: [{entry}]` to cards/numbers/poisson-support.yaml "
        "(`renamed_from: [poisson-cloze]` fits a card renamed whole" in said
    ), said
    assert "`renamed_from: [poisson-cloze]` to" not in said
    path = repo / "cards" / "numbers" / "poisson-support.yaml"
    edit(path, "title: Poisson support\n", f"title: Poisson support\nrenamed_from: [{entry}]\n")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_cloze_card_renamed_with_one_deletion_split_off_is_told_to_list_its_old_id(
    cli, repo, cloze
):
    """The card renamed without `renamed_from`, its c2 split off with its entry: the rest
    keeps its numbers, so `renamed_from: [poisson-cloze]` is the fix (as for any rename)."""
    _split_off(repo, 2, "poisson-variance", "poisson-cloze#c2", cloze_card=False)
    git(repo, "mv", str(cloze), str(cloze.with_name("poisson-moments.yaml")))
    edit(cloze.with_name("poisson-moments.yaml"), "id: poisson-cloze", "id: poisson-moments")
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert "add `renamed_from: [poisson-cloze]` to cards/numbers/poisson-moments.yaml" in said
    assert "is gone, split into cards" not in said


NEURON_PARTS = (
    "id: neuron-parts\nkind: cloze\ntopic: bias\ntitle: A neuron's parts\n"
    "renamed_from: [{entries}]\n"
    "prompt: Without {{{{c1::a bias}}}}, w·x can only express boundaries through the origin.\n"
)


def _published(repo: Path, message: str) -> None:
    """What the branch holds now, committed and made main's (published)."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    git(repo, "branch", "-q", "-f", "main")


def _forgotten_said(cli, repo: Path) -> str:
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 1, result.output
    return " ".join(result.stderr.split())


def test_a_split_off_deletion_split_again_is_told_to_list_its_first_item_where_it_is_now(
    cli, repo, cloze
):
    """poisson-cloze#c2 split off into poisson-spread as its c1 (published), then that c1
    split off into poisson-var, which lists poisson-spread#c1: a learner who has not studied
    since the first split still holds poisson-cloze#c2, which poisson-var must list too. The
    check told the author to add it to poisson-spread, which no longer has that fact."""
    numbers = repo / "cards" / "numbers"
    edit(cloze, "{{c2::also λ::a parameter}}", "λ")
    spread = numbers / "poisson-spread.yaml"
    spread.write_text(
        "id: poisson-spread\nkind: cloze\ntopic: poisson\ntitle: Poisson spread\n"
        "renamed_from: ['poisson-cloze#c2 -> c1']\n"
        "prompt: The variance of Poisson(λ) is {{c1::λ}}; its skewness {{c2::λ^-1/2}}.\n",
        encoding="utf-8",
    )
    _published(repo, "c2 split off")
    edit(spread, "renamed_from: ['poisson-cloze#c2 -> c1']\n", "")
    edit(spread, "is {{c1::λ}}; its", "is λ; its")
    (numbers / "poisson-var.yaml").write_text(
        "id: poisson-var\nkind: concept\ntopic: poisson\ntitle: Poisson variance\n"
        "renamed_from: [poisson-spread#c1]\nprompt: The variance of Poisson(λ)?\nanswer: λ.\n",
        encoding="utf-8",
    )
    said = _forgotten_said(cli, repo)
    assert "poisson-cloze#c2 (listed by poisson-spread)" in said
    assert "add poisson-cloze#c2 to the `renamed_from` of cards/numbers/poisson-var.yaml" in said
    edit(
        numbers / "poisson-var.yaml", "[poisson-spread#c1]", "[poisson-cloze#c2, poisson-spread#c1]"
    )
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_plain_card_moved_onto_a_deletion_without_its_old_ids_fails_the_check(cli, repo):
    """bias-concept, once bias, made neuron-parts's c1 with `'bias-concept -> c1'` alone: the
    history under bias stayed behind, and the check passed (the card's history was on a
    deletion, which it took for no card)."""
    basics = repo / "cards" / "basics"
    edit(
        basics / "bias-concept.yaml",
        "id: bias-concept\n",
        "id: bias-concept\nrenamed_from: [bias]\n",
    )
    _published(repo, "an old id")
    (basics / "bias-concept.yaml").unlink()
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "requires: [bias-concept]\n", "")
    parts = basics / "neuron-parts.yaml"
    parts.write_text(NEURON_PARTS.format(entries="'bias-concept -> c1'"), encoding="utf-8")
    said = _forgotten_said(cli, repo)
    assert "bias (listed by bias-concept)" in said
    assert "add 'bias -> c1' to the `renamed_from` of cards/basics/neuron-parts.yaml" in said
    parts.write_text(
        NEURON_PARTS.format(entries="'bias -> c1', 'bias-concept -> c1'"), encoding="utf-8"
    )
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_cloze_card_renamed_without_an_item_entry_is_told_that_entry(cli, repo):
    """neuron-parts took bias-concept onto its c1 (published), then was renamed neuron-facts
    with `renamed_from: [neuron-parts]` alone: told to add `bias-concept`, a whole card's
    entry, which in a cloze card moves that plain card's history to no deletion of it."""
    basics = repo / "cards" / "basics"
    (basics / "bias-concept.yaml").unlink()
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "requires: [bias-concept]\n", "")
    parts = basics / "neuron-parts.yaml"
    parts.write_text(NEURON_PARTS.format(entries="'bias-concept -> c1'"), encoding="utf-8")
    _published(repo, "bias-concept made a deletion")
    parts.unlink()
    facts = basics / "neuron-facts.yaml"
    facts.write_text(
        NEURON_PARTS.format(entries="neuron-parts").replace(
            "neuron-parts\nkind", "neuron-facts\nkind"
        ),
        encoding="utf-8",
    )
    said = _forgotten_said(cli, repo)
    assert "bias-concept (listed by neuron-parts)" in said
    assert (
        "add 'bias-concept -> c1' to the `renamed_from` of cards/basics/neuron-facts.yaml" in said
    )
    edit(facts, "[neuron-parts]", "['bias-concept -> c1', neuron-parts]")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_renamed_cloze_card_split_whole_is_told_each_deletion_of_its_old_id(cli, repo, cloze):
    """poisson-cloze, once poisson-moments, split whole into three cards that list
    `'poisson-cloze#cN -> c1'`: a learner who has not studied since the rename holds
    poisson-moments#c1..c3, which went nowhere; the check passed."""
    edit(cloze, "id: poisson-cloze\n", "id: poisson-cloze\nrenamed_from: [poisson-moments]\n")
    _published(repo, "an old id")
    for number in (1, 2, 3):
        _split_off(repo, number, f"poisson-fact-{number}", f"poisson-cloze#c{number} -> c1", True)
    cloze.unlink()
    said = _forgotten_said(cli, repo)
    assert "poisson-moments#c1 (listed by poisson-cloze), poisson-moments#c2" in said
    assert (
        "add 'poisson-moments#c1 -> c1' to the `renamed_from` of cards/numbers/poisson-fact-1.yaml; "
        "add 'poisson-moments#c2 -> c1' to the `renamed_from` of cards/numbers/poisson-fact-2.yaml"
        in said
    )
    assert "Anki" not in said
    for number in (1, 2, 3):
        edit(
            repo / "cards" / "numbers" / f"poisson-fact-{number}.yaml",
            f"renamed_from: ['poisson-cloze#c{number} -> c1']",
            f"renamed_from: ['poisson-moments#c{number} -> c1', 'poisson-cloze#c{number} -> c1']",
        )
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_renamed_cloze_card_renamed_again_without_its_old_id_is_told_that_id(cli, repo, cloze):
    """The deletions of a cloze card's old id, all gone on under one card with their
    numbers, are that id forgotten: told `poisson-moments`, not each deletion."""
    edit(cloze, "id: poisson-cloze\n", "id: poisson-cloze\nrenamed_from: [poisson-moments]\n")
    _published(repo, "an old id")
    git(repo, "mv", str(cloze), str(cloze.with_name("poisson-facts.yaml")))
    edit(cloze.with_name("poisson-facts.yaml"), "id: poisson-cloze\nrenamed_from: [poisson-moments]",
         "id: poisson-facts\nrenamed_from: [poisson-cloze]")  # fmt: skip
    said = _forgotten_said(cli, repo)
    assert (
        "old ids no card lists in `renamed_from` any more: poisson-moments (listed by "
        "poisson-cloze)" in said
    )
    assert "add poisson-moments to the `renamed_from` of cards/numbers/poisson-facts.yaml" in said


def test_a_split_off_deletion_turned_back_under_another_number_is_told_its_own(cli, repo, cloze):
    """poisson-cloze#c2 split off into poisson-variance (published), then turned back into
    poisson-cloze as c4 with `'poisson-variance -> c4'`: a learner who has not studied since
    the split holds poisson-cloze#c2, which went nowhere, and the check passed; the entry
    that would carry it (`'poisson-cloze#c2 -> c4'`) names the card's own deletion, which the
    loader refuses. The fact's own number, c2, carries both."""
    fact = "{{c2::also λ::a parameter}}"
    _split_off(repo, 2, "poisson-variance", "poisson-cloze#c2", cloze_card=False)
    _published(repo, "c2 split off")
    (repo / "cards" / "numbers" / "poisson-variance.yaml").unlink()
    edit(cloze, "variance is that", f"variance is {fact.replace('c2', 'c4')}")
    edit(
        cloze,
        "id: poisson-cloze\n",
        "id: poisson-cloze\nrenamed_from: ['poisson-variance -> c4']\n",
    )
    said = _forgotten_said(cli, repo)
    assert (
        "poisson-cloze#c2 (listed by poisson-variance). A learner who has not studied since that "
        "rename still has the reviews under the old id: they stay behind and the card starts "
        "again as new. Keep every id a card ever had: give poisson-cloze#c2's fact its own "
        "number back in cards/numbers/poisson-cloze.yaml ({{c2::...}}, not {{c4::...}}, and "
        "`-> c2` in the entries that name c4)" in said
    ), said
    edit(cloze, "'poisson-variance -> c4'", "'poisson-variance -> c2'")
    edit(cloze, fact.replace("c2", "c4"), fact)
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_cloze_card_named_whole_onto_a_deletion_fails_the_check(cli, repo, cloze):
    """`'poisson-cloze -> c1'` in a new cloze card, poisson-cloze gone: the entry moves the
    key poisson-cloze, which no store holds (a cloze card's reviews are its deletions'), and
    the check said "carried over: poisson-cloze -> poisson-facts#c1" and passed."""
    cloze.unlink()
    (repo / "cards" / "numbers" / "poisson-facts.yaml").write_text(
        "id: poisson-facts\nkind: cloze\ntopic: poisson\ntitle: Poisson facts\n"
        "renamed_from: ['poisson-cloze -> c1']\nprompt: Its mean is {{c1::λ}}.\n",
        encoding="utf-8",
    )
    result = cli("--content", repo, "check", "--changed")
    told = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert (
        "cards/numbers/poisson-facts.yaml: `renamed_from` entry 'poisson-cloze -> c1' names "
        "poisson-cloze, a cloze card at the base, whose reviews are kept per deletion "
        "(poisson-cloze#c1, ...): the entry carries none of them, and they stay behind. List "
        "each of its deletions in the card its text went to instead: `'poisson-cloze#c2 -> "
        "c1'` (its number at the base, then its number there)" in told
    ), told
    assert "carried over" not in told


def test_a_plain_cards_deletion_named_in_renamed_from_fails_the_check(cli, repo):
    """`'bias-concept#c1 -> c1'`: bias-concept was a plain card, its reviews under
    bias-concept; the check told the author to add `renamed_from: [bias-concept]`, a whole
    card's entry, which in a cloze card carries it to no deletion."""
    basics = repo / "cards" / "basics"
    (basics / "bias-concept.yaml").unlink()
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "requires: [bias-concept]\n", "")
    parts = basics / "neuron-parts.yaml"
    parts.write_text(NEURON_PARTS.format(entries="'bias-concept#c1 -> c1'"), encoding="utf-8")
    result = cli("--content", repo, "check", "--changed")
    told = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert (
        "cards/basics/neuron-parts.yaml: `renamed_from` entry 'bias-concept#c1 -> c1' names "
        "bias-concept, a concept card at the base, whose reviews are kept under bias-concept, "
        "not per deletion: the entry carries none of them, and they stay behind. Write "
        "'bias-concept -> c1'" in told
    ), told
    assert "`renamed_from: [bias-concept]`" not in told
    parts.write_text(NEURON_PARTS.format(entries="'bias-concept -> c1'"), encoding="utf-8")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_one_deletion_cloze_card_named_whole_onto_a_deletion_is_told_that_deletion(
    cli, repo, cloze
):
    edit(cloze, "{{c2::also λ::a parameter}}", "λ")
    edit(cloze, "{{c3::non-negative integers}}", "non-negative integers")
    _published(repo, "one deletion left")
    cloze.unlink()
    facts = repo / "cards" / "numbers" / "poisson-facts.yaml"
    facts.write_text(
        "id: poisson-facts\nkind: cloze\ntopic: poisson\ntitle: Poisson facts\n"
        "renamed_from: ['poisson-cloze -> c1']\nprompt: Its mean is {{c1::λ}}.\n",
        encoding="utf-8",
    )
    said = _forgotten_said(cli, repo)
    assert "Write 'poisson-cloze#c1 -> c1', its one deletion" in said, said
    edit(facts, "'poisson-cloze -> c1'", "'poisson-cloze#c1 -> c1'")
    result = cli("--content", repo, "check", "--changed")
    assert result.exit_code == 0, result.output


def test_a_cloze_card_that_dropped_a_deletion_and_its_old_id_is_told_that_id(cli, repo, cloze):
    """poisson-cloze, once poisson-moments, drops c3 and its `renamed_from`: the old id
    listed again carries every deletion left (each under its number): told `poisson-moments`,
    not one entry per deletion."""
    edit(cloze, "id: poisson-cloze\n", "id: poisson-cloze\nrenamed_from: [poisson-moments]\n")
    _published(repo, "an old id")
    edit(cloze, "renamed_from: [poisson-moments]\n", "")
    edit(cloze, "{{c3::non-negative integers}}", "non-negative integers")
    said = _forgotten_said(cli, repo)
    assert "poisson-moments (listed by poisson-cloze)" in said, said
    assert "add poisson-moments to the `renamed_from` of cards/numbers/poisson-cloze.yaml" in said


def test_an_edit_of_a_published_cards_text_is_said_as_its_learners_will_see_it(cli, repo, cloze):
    """An author who edits a published card's answer was told nothing of what its learners
    see: the card flagged "edited since your last review" at their next review (a cloze card:
    each deletion whose item shows the edit). What no learner sees flagged is not said: a
    reflow, the explanation, a new deletion, a new card."""
    bias = repo / "cards" / "basics" / "bias-concept.yaml"
    edit(bias, "the bias shifts the threshold.", "the bias moves the threshold.")
    edit(cloze, "{{c2::also λ::a parameter}}", "{{c2::also λ::the rate}}")  # c2's hint only
    edit(cloze, "the\n  counts are", "the\n  {{c4::counts}} are")  # a new fact: no history
    poisson = repo / "cards" / "numbers" / "poisson-concept.yaml"
    poisson.write_text(poisson.read_text() + "explanation: Both are λ.\n")
    found = changed_cards(load_content(repo))
    assert found.edited == ("bias-concept", "poisson-cloze#c2")
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0
    assert (
        '; text edited, each learner told so above the card at its next review ("edited '
        'since your last review"; the history is kept): bias-concept, poisson-cloze#c2'
    ) in said
    # reflowed: the same words, as the learner sees them
    git(repo, "checkout", "-q", "--", ".")
    edit(
        bias,
        "Only boundaries through the origin; the",
        "Only boundaries through the origin;\n  the",
    )
    assert changed_cards(load_content(repo)).edited == ()


def test_a_published_coding_cards_starter_or_checker_changed_is_said_as_learners_see_it(cli, repo):
    """A coding card is flagged too where its starter (the reference's signature or
    docstring, or `starter:`) or its checker's code changed: `check --changed` names which,
    as the learner's flag does. A checker's message reworded, or a comment, flags nothing."""
    arith = repo / "solutions" / "arith.py"
    edit(arith, "for x in (-3, 0, 1, 41, 10**12):", "for x in (-3, 0, 1, 41, 10**12, 7):")
    assert changed_cards(load_content(repo)).contract_edits == (("add-one", ("checker",)),)
    edit(arith, '"""Return x + 1.', '"""Return x + 1, an int.')
    found = changed_cards(load_content(repo))
    assert found.contract_edits == (("add-one", ("starter", "checker")),)
    said = " ".join(cli("--content", repo, "check", "--changed").stderr.split())
    assert (
        "; coding cards whose contract changed, each learner told so at its next review: "
        "add-one (its starter and checker)"
    ) in said
    git(repo, "checkout", "-q", "--", ".")
    edit(arith, "    for x in (-3", "    # the edges, then a large one\n    for x in (-3")
    assert changed_cards(load_content(repo)).contract_edits == ()


RATES = """id: rate-cloze
kind: cloze
topic: poisson
title: Poisson rates
prompt: A Poisson count's mean is its {{c1::rate}}; its variance is {{c2::that rate again}}.
"""


@pytest.mark.parametrize(
    ("unrelated", "suggested"),
    [
        ("When is a Poisson model accurate?", "rate-mean"),  # "rate" inside a word: not it
        ("What does a Poisson rate count?", "rate-lead"),  # "rate" as a word: it
    ],
)
def test_a_split_deletion_is_suggested_to_the_card_that_holds_its_text_as_words(
    cli, repo, unrelated, suggested
):
    """c1 ("rate") of a split cloze card put into a card of its own without an entry: the
    check told the author to list it in the first new card whose text held "rate" anywhere,
    "accurate" too (a deletion's text matched as a substring). Its text must stand as words."""
    git(repo, "checkout", "-q", "main")
    cloze = repo / "cards" / "numbers" / "rate-cloze.yaml"
    cloze.write_text(RATES, encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a cloze card")
    git(repo, "checkout", "-q", "-b", "split")
    cloze.unlink()
    folder = repo / "cards" / "numbers"
    cards = {
        "rate-variance": "kind: cloze\nrenamed_from: ['rate-cloze#c2 -> c1']\n"
        "prompt: A Poisson count's variance is {{c1::that rate again}}.\n",
        "rate-mean": "kind: concept\nprompt: What is a Poisson count's mean?\nanswer: Its rate.\n",
        "rate-lead": f"kind: concept\nprompt: {unrelated}\nanswer: Events in a unit of time.\n",
    }
    for card_id, text in cards.items():
        (folder / f"{card_id}.yaml").write_text(
            f"id: {card_id}\ntopic: poisson\ntitle: {card_id}\n{text}", encoding="utf-8"
        )
    result = cli("--content", repo, "check", "--changed")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, result.output
    assert f"add `renamed_from: [rate-cloze#c1]` to cards/numbers/{suggested}.yaml" in said, said


def test_a_drafts_edit_is_no_edit_a_learner_is_shown(repo):
    """A card that was a draft at the base (a text still TODO) was never studied, and one
    made a draft now is shown to no learner: neither is said as "each learner told so", of
    its text or its contract, where `list --edited` lists neither."""
    draft = "id: add-draft\nkind: coding\ntopic: bias\ntitle: TODO\nprompt: TODO ask.\n"
    write_card(repo, "basics", "add-draft", f"{draft}answer: x + 1.\nsolution: arith:add_one\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a draft")
    git(repo, "checkout", "-q", "-b", "second")
    edit(repo / "cards" / "basics" / "add-draft.yaml", "TODO ask.", "TODO ask again.")
    edit(repo / "solutions" / "arith.py", "(-3, 0, 1, 41, 10**12)", "(-3, 0, 7)")
    bias = repo / "cards" / "basics" / "bias-concept.yaml"
    edit(bias, "Only boundaries", "TODO Only boundaries")
    found = changed_cards(load_content(repo), "feature")
    assert found.edited == ()
    assert found.contract_edits == (("add-one", ("checker",)),)


def test_a_coding_cards_contract_is_compared_across_a_rename_a_move_and_a_new_module(repo):
    """A learner's flag follows the card: renamed with `renamed_from`, moved to another deck
    or pointed at a module of another name, its starter or checker changed flags it as
    "edited since your last review" (`list --edited`), and `check --changed` says so. It
    said nothing: it read the card at the base from its file now, under its id now, in the
    modules it names now."""
    arith = repo / "solutions" / "arith.py"
    add_one = repo / "cards" / "basics" / "add-one.yaml"
    renamed = add_one.read_text().replace("id: add-one", "id: add-uno\nrenamed_from: [add-one]")
    write_card(repo, "basics", "add-uno", renamed)
    add_one.unlink()
    edit(arith, "for x in (-3, 0, 1, 41, 10**12):", "for x in (-3, 0, 7):")
    assert changed_cards(load_content(repo)).contract_edits == (("add-uno", ("checker",)),)
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfd")
    write_card(repo, "numbers", "add-one", add_one.read_text())  # another deck
    add_one.unlink()
    edit(arith, '"""Return x + 1.', '"""Return x plus one.')
    assert changed_cards(load_content(repo)).contract_edits == (("add-one", ("starter",)),)
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfd")
    arith.rename(repo / "solutions" / "plus.py")
    edit(repo / "solutions" / "plus.py", '"""Return x + 1.', '"""Return x plus one.')
    for card in ("basics/add-one", "numbers/triangle-derivation"):
        edit(repo / "cards" / f"{card}.yaml", "solution: arith:", "solution: plus:")
    assert changed_cards(load_content(repo)).contract_edits == (("add-one", ("starter",)),)


def test_the_contract_note_names_the_coding_card_its_learner_is_flagged_for(cli, repo, tmp_path):
    """A coding card renamed and moved to another deck in the change that edits its checker:
    a learner who reviewed it at the base is flagged at it under its new id (the contract's
    hash follows the rename in a real review database, `list --edited`), and
    `check --changed`'s note names the same card, where it named none."""
    from fsrs import Rating

    from studycli.study.api import Study, study_items

    from .study_support import NO_FUZZ, NOW

    db = tmp_path / "reviews.sqlite3"
    loaded = load_content(repo)
    with Study.open(db, NO_FUZZ, solutions_dir=loaded.solutions_dir) as study:
        for item in study_items(loaded.cards.values()):
            study.rate(item, Rating.Good, NOW)
    add_one = repo / "cards" / "basics" / "add-one.yaml"
    renamed = add_one.read_text().replace("id: add-one", "id: add-uno\nrenamed_from: [add-one]")
    write_card(repo, "numbers", "add-uno", renamed)
    add_one.unlink()
    edit(
        repo / "solutions" / "arith.py", "for x in (-3, 0, 1, 41, 10**12):", "for x in (-3, 0, 7):"
    )
    listed = cli("--content", repo, "--db", db, "list", "--edited", "--json")
    flagged = [(card["id"], tuple(card["edited"])) for card in json.loads(listed.stdout)]
    assert flagged == [("add-uno", ("checker",))]
    assert changed_cards(load_content(repo)).contract_edits == tuple(flagged)


def test_a_history_carried_to_another_item_is_said_as_edited_where_its_text_differs(repo, cloze):
    """A deletion split off to a card of its own, or a plain card moved onto a cloze card's
    deletion, carries its learners' histories to an item whose text is not the one they
    reviewed: each is flagged "edited since your last review" (`list --edited`), and
    `check --changed` said only that the history was carried over."""
    _split_off(repo, 3, "poisson-support", "poisson-cloze#c3", cloze_card=False)
    bias = repo / "cards" / "basics" / "bias-concept.yaml"
    bias.unlink()
    edit(repo / "cards" / "numbers" / "poisson-concept.yaml", "requires: [bias-concept]\n", "")
    write_card(
        repo,
        "basics",
        "neuron-parts",
        "id: neuron-parts\nkind: cloze\ntopic: bias\ntitle: A neuron's parts\n"
        "renamed_from: ['bias-concept -> c1']\n"
        "prompt: Without {{c1::a bias}}, w·x can only express boundaries through the origin.\n",
    )
    found = changed_cards(load_content(repo))
    assert [(r.old, r.new) for r in found.carried] == [
        ("bias-concept", "neuron-parts#c1"),
        ("poisson-cloze#c3", "poisson-support"),
    ]
    # (poisson-cloze's c1 and c2 show c3's text, "that" now, where it was hidden)
    assert found.edited == (
        "neuron-parts#c1",
        "poisson-cloze#c1",
        "poisson-cloze#c2",
        "poisson-support",
    )
