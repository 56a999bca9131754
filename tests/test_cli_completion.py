"""Shell completion: card ids, decks and topics, fast and without numpy or torch."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from studycli.cli.completion import complete_card_id, complete_deck, complete_topic

from .conftest import FIXTURE_CONTENT, REPO_ROOT


def context(content):
    """What a completer reads from Typer's context: the root command's --content."""
    root = SimpleNamespace(params={"content": content})
    return SimpleNamespace(find_root=lambda: root)


def test_card_ids_decks_and_topics_complete():
    ctx = context(FIXTURE_CONTENT)
    assert complete_card_id(ctx, "") == [
        "add-one",
        "bias-concept",
        "poisson-concept",
        "triangle-derivation",
    ]
    assert complete_card_id(ctx, "tri") == ["triangle-derivation"]
    assert complete_deck(ctx, "") == ["basics", "numbers"]
    assert complete_deck(ctx, "n") == ["numbers"]
    assert complete_topic("flash") == ["flash-attention"]
    assert "bias" in complete_topic("")


def test_the_content_comes_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv("STUDYCLI_CONTENT", str(FIXTURE_CONTENT))
    assert complete_deck(context(None), "") == ["basics", "numbers"]


def test_hidden_files_are_no_card_ids(content_copy):
    """An editor's lock file beside a card (Emacs's `.#add-one.yaml`) was offered as `.#add-one`."""
    (content_copy / "cards" / "basics" / ".#add-one.yaml").write_text("", encoding="utf-8")
    assert complete_card_id(context(content_copy), "") == complete_card_id(
        context(FIXTURE_CONTENT), ""
    )


def test_no_content_folder_completes_nothing(tmp_path):
    assert complete_card_id(context(tmp_path), "") == []
    assert complete_deck(context(tmp_path), "") == []


def complete(
    words: str, cword: int, shell: str = "bash", content=FIXTURE_CONTENT
) -> subprocess.CompletedProcess:
    """One Tab press, as the script from `studycli --install-completion` makes it."""
    env = {
        **os.environ,
        "_STUDYCLI_COMPLETE": f"complete_{shell}",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
        "_TYPER_COMPLETE_ARGS": words,
        "STUDYCLI_CONTENT": str(content),
    }
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "studycli"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )


@pytest.mark.parametrize(
    "words, cword, expected",
    [
        ("studycli show tri", 2, ["triangle-derivation"]),
        ("studycli solve add", 2, ["add-one"]),
        # (solve offered every card, and refused the concept cards: "no solution to run")
        ("studycli solve ", 2, ["add-one", "triangle-derivation"]),
        ("studycli solve bias", 2, []),
        ("studycli check a", 2, ["add-one"]),
        ("studycli suspend po", 2, ["poisson-concept"]),
        ("studycli unsuspend bias", 2, ["bias-concept"]),
        ("studycli history --card tri", 3, ["triangle-derivation"]),
        ("studycli list --deck n", 3, ["numbers"]),
        ("studycli review --topic random", 3, ["random-walk"]),
        ("studycli export-anki out.apkg --deck b", 4, ["basics"]),
        ("studycli new concept my-card --topic poiss", 5, ["poisson"]),
        ("studycli new concept my-card --topic bias --deck num", 7, ["numbers"]),
        ("studycli new cod", 2, ["coding"]),
        # (cram and stats completed neither)
        ("studycli cram --deck n", 3, ["numbers"]),
        ("studycli stats --topic random", 3, ["random-walk"]),
        # (--kind and --tag completed nothing)
        ("studycli list --kind cl", 3, ["cloze"]),
        ("studycli export-anki out.apkg --kind der", 4, ["derivation"]),
        ("studycli review --tag warm", 3, ["warm-up"]),
        ("studycli cram --tag w", 3, ["warm-up"]),
        ("studycli list --tag nothing-like-it", 3, []),
    ],
)
def test_a_tab_press_completes_without_numpy_or_torch(words, cword, expected):
    done = complete(words, cword)
    assert done.stdout.split() == expected
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    assert "torch" not in imported and "numpy" not in imported


def test_a_cloze_cards_deletions_complete_after_its_id_and_a_hash(content_copy):
    """`history --card`, `suspend` and `show` take `card#c2`, which Tab never offered."""
    (content_copy / "cards" / "basics" / "gaps.yaml").write_text(
        "id: gaps\nkind: cloze\ntopic: bias\ntitle: Gaps\nprompt: '{{c1::a}} {{c3::b}}'\n",
        encoding="utf-8",
    )
    for words, cword in [
        ("studycli history --card gaps#", 3),
        ("studycli suspend gaps#", 2),
        ("studycli unsuspend gaps#c", 2),
        ("studycli show gaps#", 2),
    ]:
        assert complete(words, cword, content=content_copy).stdout.split() == [
            "gaps#c1",
            "gaps#c3",
        ], words
    said = {
        typed: complete(f"studycli suspend {typed}", 2, content=content_copy).stdout.split()
        for typed in ("gaps#c3", "ga")
    }
    assert said == {"gaps#c3": ["gaps#c3"], "ga": ["gaps"]}  # (the ids alone without a #)
    solve = complete("studycli solve gaps#", 2, content=content_copy)
    assert solve.stdout.split() == []  # cards to solve, not deletions


def test_zsh_completion_names_the_card_ids():
    done = complete("studycli show add", 0, shell="zsh")
    assert '"add-one"' in done.stdout


def test_the_completion_script_is_offered(cli):
    result = cli("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout
