"""An output that is not UTF-8 (a latin-1 locale, LC_ALL=C's ASCII): what studycli lays out
is spelled in what the output can show before Rich measures it (cli/charset.py). The stream
replaced it after the layout: `θ` was measured one cell and written `theta`, so a box with
maths in it had lines past its border, and what had no spelling was a `?`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from rich.text import Text

from studycli.cli.charset import shown, spelled

from .conftest import REPO_ROOT, reading_keys, terminal_env
from .study_support import NOW

CARD = """\
id: softmax-symbols
kind: concept
topic: softmax
title: Softmax σ(z)ᵢ as λ → ∞
prompt: |
  Each σ(z)ᵢ ≤ 1, where σ(z)ᵢ = exp(zᵢ)/Σⱼ exp(zⱼ) and λI is added to Wᵀx.
answer: |
  The derivative is ∇f · u for every ‖u‖ = 1 — “the rate”; x⁻¹ · ŷ stays ≈ √d.
"""
# How the card's maths reads on an output in ASCII or latin-1 (which keeps its `·`)
SPELLED = [
    "sigma(z)_i <= 1",
    "sum_j exp(z_j)",
    "lambda I is added to W^T x",
    "grad f",
    '||u|| = 1 -- "the rate"',
    "x^-1",
    "yhat stays ~ sqrt d",
]


@pytest.fixture
def maths(content_copy: Path) -> Path:
    """The fixture deck with a card of maths in a deck of its own, `maths`."""
    (content_copy / "cards" / "maths").mkdir()
    (content_copy / "cards" / "maths" / "softmax-symbols.yaml").write_text(CARD, "utf-8")
    return content_copy


def run(content: Path, encoding: str, columns: int, *args: str) -> str:
    """What `studycli --content CONTENT ARGS` writes to stdout in `encoding`, on a terminal
    `columns` wide (with neither a traceback nor an error)."""
    done = subprocess.run(
        [sys.executable, "-m", "studycli", "--content", str(content), *args],
        env={**os.environ, "PYTHONIOENCODING": encoding, "LC_ALL": "C", "COLUMNS": str(columns)},
        capture_output=True, cwd=REPO_ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")
    return done.stdout.decode(encoding)


def bordered(out: str) -> list[str]:
    """The lines of the boxes and tables in `out`, drawn in ASCII: those that begin at a
    border."""
    return [line for line in out.replace("\r\n", "\n").splitlines() if line.startswith(("|", "+-"))]


def assert_aligned(out: str, columns: int) -> None:
    """Every line of every box and table is as wide as the others and ends at a border."""
    lines = bordered(out)
    assert lines, out
    assert {len(line) for line in lines} == {max(map(len, lines))} and len(lines[0]) <= columns, out
    assert all(line.endswith(("|", "+")) for line in lines), out


def text_of(out: str) -> str:
    """The words of `out`, box borders and line breaks left out."""
    return " ".join(line.strip("|+ ") for line in out.splitlines() if line.strip("|+- "))


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_card_with_maths_keeps_its_borders_and_reads_as_maths(maths, encoding):
    out = run(maths, encoding, 80, "show", "softmax-symbols", "--answer")
    assert_aligned(out, 80)
    said = text_of(out)
    assert [phrase for phrase in SPELLED if phrase not in said] == [], said
    assert "?" not in out


def test_the_same_card_on_utf8_is_drawn_as_it_is(maths):
    """UTF-8 is left alone: the card's own characters, Rich's own boxes."""
    out = run(maths, "utf-8", 80, "show", "softmax-symbols", "--answer")
    assert "╭─ Question" in out and "σ(z)ᵢ ≤ 1" in out and "x⁻¹ · ŷ stays ≈ √d" in out
    assert "sigma" not in out and "|" not in out


@pytest.mark.parametrize(
    ("columns", "args"),
    [
        (80, ["list"]),  # a title's row was as much wider than the others as its spelling
        (40, ["--help"]),  # typer cut option names with `…`, written `...` after the layout
    ],
)
def test_a_table_and_the_help_keep_their_borders_on_ascii(maths, columns, args):
    out = run(maths, "ascii", columns, *args)
    assert_aligned(out, columns)
    assert "?" not in out


def test_a_deck_cut_short_ends_in_dots_within_its_column(maths):
    """`due` at 40 columns cuts a deck's name with an ellipsis, `…`, measured one cell and
    written `...`: that row was two columns wider than the table."""
    (maths / "cards" / "representation").mkdir()
    card = maths / "cards" / "basics" / "bias-concept.yaml"
    card.rename(maths / "cards" / "representation" / card.name)
    out = run(maths, "ascii", 40, "due")
    assert_aligned(out, 40)
    assert "| representa... |" in out, out


def test_every_shipped_card_is_spelled_before_it_is_laid_out(monkeypatch):
    """Every shipped card, whole (answer, steps, starter, reference), through the console the
    commands print on, to an ASCII output that refuses what it cannot encode: nothing is left
    for the stream to replace, every box line is 80 columns, and there is no `?` that is not
    the card's own (every character of theirs has a spelling)."""
    from studycli.cli import render
    from studycli.cli.app import stdout
    from studycli.content.loader import load_content
    from studycli.content.reference_code import reference_source
    from studycli.content.source import card_starter, module_path

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TERM", "xterm")
    content = load_content(REPO_ROOT)
    for card in content.cards.values():
        starter = card_starter(card, content.solutions_dir) if card.runnable else None
        source, reference = None, None
        if card.solution is not None:
            source = reference_source(card, content.solutions_dir)
            reference = (source, module_path(content.solutions_dir, card.solution.module))
        written = io.BytesIO()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(written, encoding="ascii"))
        render.print_full(stdout(), card, with_answer=True, starter=starter, reference=reference)
        sys.stdout.flush()
        out = written.getvalue().decode("ascii")
        assert {len(line) for line in bordered(out)} == {80}, (card.id, out)
        own = [card.title, card.prompt, card.answer, card.explanation, *card.steps]
        own += [starter, source, *card.requires]
        assert out.count("?") <= sum(text.count("?") for text in own if text), (card.id, out)


def test_a_review_on_a_latin1_terminal_keeps_its_borders(maths, tmp_path):
    """A learner's session on a pseudo-terminal in a latin-1 locale: the front, then the
    answer, every box line 80 columns, the maths spelled."""
    config = tmp_path / "settings.toml"
    config.write_text("enable_fuzzing = false\n")
    environment = terminal_env(
        tmp_path / "db.sqlite3", config, tmp_path / "home", NOW,
        PYTHONIOENCODING="latin-1", LC_ALL="C", COLUMNS="80",
    )  # fmt: skip
    child = pexpect.spawn(
        sys.executable, ["-m", "studycli", "--content", str(maths), "review", "--deck", "maths"],
        env=environment, cwd=str(REPO_ROOT), encoding="latin-1", timeout=60,
        dimensions=(50, 80),
    )  # fmt: skip
    try:
        child.expect("q quit")
        out = child.before + child.after
        reading_keys(child)
        child.send(" ")
        child.expect("4 +Easy")
        out += child.before
    finally:
        child.kill(signal.SIGKILL)
    assert {len(line) for line in bordered(out)} == {80}, out
    assert "grad f · u" in text_of(out) and "?" not in out, out


@pytest.mark.parametrize(
    ("text", "ascii", "latin1"),
    [
        ("x⁻¹ ≤ λI, k∈S", "x^-1 <= lambda I, k in S", "x^-1 <= lambda I, k in S"),
        ("Wᵀx, ŷ, x̄, wₖ₋₁", "W^T x, yhat, xbar, w_k-1", "W^T x, yhat, xbar, w_k-1"),
        (
            "∂f/∂x, 2π, αβ, Δt",
            "df/dx, 2 pi, alpha beta, Delta t",
            "df/dx, 2 pi, alpha beta, Delta t",
        ),
        ("café · 3×3 ½ x²", "cafe * 3x3 1/2 x^2", "café · 3×3 ½ x^2"),
        ("“a” — b… ↪", '"a" -- b... >', '"a" -- b... >'),
        ("中\u200b文", "??", "??"),  # no spelling: `?`; nothing for a zero-width space
    ],
)
def test_what_each_character_is_spelled(text, ascii, latin1):
    assert spelled(text, "ascii") == ascii
    assert spelled(text, "latin-1") == latin1


def test_a_spelled_text_keeps_its_styles_on_what_stands_for_their_characters():
    text = Text.assemble(("λ", "bold"), " ≤ ", ("θ²", "italic"))
    spelt = shown(text, "ascii")
    assert spelt.plain == "lambda <= theta^2"
    assert [(spelt.plain[s.start : s.end], s.style) for s in spelt.spans] == [
        ("lambda", "bold"),
        ("theta^2", "italic"),
    ]
