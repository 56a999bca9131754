"""cli/table.py's tables in a 40-column terminal: they fit it where their numbers and headers
allow, breaking ids after a `-` (a deletion's `#c1` whole), and are unchanged where they fit."""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from studycli.cli.table import Column, print_table

from .conftest import FIXTURE_CONTENT

IDS = [
    "directional-derivative-existence-not-differentiability",  # 54 characters
    "position-encoding-four-terms-cloze#c6",
    "segmentation-metrics",
]


def printed(width: int, title: str, columns: list[Column], rows: list[list[str]]) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    print_table(console, title, columns, rows)
    return console.file.getvalue()  # type: ignore[attr-defined]


def column(out: str, index: int, key: int) -> list[list[str]]:
    """A column's cells, top to bottom, each as its lines (stripped); a row begins where the
    `key` column (never wrapped) has a cell."""
    cells: list[list[str]] = []
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        parts = line.split("│")[1:-1]
        if parts[key].strip():
            cells.append([])
        if parts[index].strip():
            cells[-1].append(parts[index].strip())
    return cells


@pytest.mark.parametrize("columns", [40, 80])
def test_due_fits_40_columns_cutting_a_long_deck_short(cli, content_copy, monkeypatch, columns):
    """`due` was 41 columns wide at 40: its deck column could neither wrap nor hide, so every
    row wrapped its last border. Its numbers keep their width; the deck gives, and a deck's
    name that has no parts to break at is cut short with an ellipsis: a fold broke it
    mid-word (`representatio` over `n`). At 80 every name is whole."""
    (content_copy / "cards" / "representation").mkdir()
    card = content_copy / "cards" / "basics" / "bias-concept.yaml"
    card.rename(content_copy / "cards" / "representation" / card.name)
    monkeypatch.setenv("COLUMNS", str(columns))
    result = cli("--content", content_copy, "due")
    assert result.exit_code == 0, result.output
    table = [line for line in result.output.splitlines() if line[:1] in "┏┃┡│└"]
    assert max(cell_len(line) for line in table) <= columns, result.output
    decks = [line.split("│")[1].strip() for line in table if line.startswith("│")]
    whole = columns == 80
    assert decks == ["basics", "numbers", "representation" if whole else "representati…", "all"]


def test_due_fits_30_columns_with_a_shorter_header(cli, content_copy, monkeypatch):
    """At 30 columns `due` was 31 wide with its deck cut to its header's width: every row
    wrapped its last border. Its numbers' columns never narrow, and `learning` is as wide as
    its header: headed `learn` (as Anki heads it), the table fits with room for the deck."""
    monkeypatch.setenv("COLUMNS", "30")
    result = cli("--content", content_copy, "due")
    assert result.exit_code == 0, result.output
    table = [line for line in result.output.splitlines() if line[:1] in "┏┃┡│└"]
    assert max(cell_len(line) for line in table) <= 30, result.output
    assert [cell.strip() for cell in table[1].split("┃")[1:-1]] == ["deck", "due", "learn", "new"]
    assert [line.split("│")[1].strip() for line in table if line.startswith("│")] == [
        "basics",
        "numbe…",
        "all",
    ]
    monkeypatch.setenv("COLUMNS", "40")  # where the whole header fits, it is the header
    assert "┃ learning ┃" in cli("--content", content_copy, "due").output


def test_list_fits_40_columns_breaking_ids_after_a_dash():
    """At 40 columns `list`'s ids (up to 54 characters) never wrapped: the table stayed 73
    wide. After the columns that may hide are hidden, ids break after a `-`, titles at spaces."""
    columns = [Column("id"), Column("kind", hide=1), Column("title", wrap=True), Column("n")]
    rows = [[card_id, "concept", "A title of a few words, " * 2, "1"] for card_id in IDS]
    out = printed(40, f"{len(rows)} cards", columns, rows)
    assert max(cell_len(line) for line in out.splitlines()) <= 40, out
    assert "hidden to fit 40 columns: kind (--json shows all)" in " ".join(out.split())
    ids = column(out, 0, key=2)
    assert ["".join(lines) for lines in ids] == IDS  # each id whole, read across its lines
    assert all(line.endswith("-") for lines in ids for line in lines[:-1])
    assert ids[1][-1].endswith("cloze#c6") or ids[1][-1] == "#c6"
    titles = [" ".join(lines) for lines in column(out, 1, key=2)]
    assert titles == ["A title of a few words, A title of a few words,"] * 3


def test_list_hides_a_column_before_it_breaks_a_title_word(cli, monkeypatch):
    """`list --deck math --kind cloze` at 80 columns (piped, or an 80-column terminal) kept
    its topic column and narrowed the titles to 10, folding a word the title could have held
    whole: "directiona" over "l". A wrapping column narrows only down to its longest word
    (its parts, after a dash); past that the topic is hidden, as at 60 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    columns = [Column("id"), Column("topic", hide=3), Column("title", wrap=True)]
    rows = [
        ["directional-derivative-formula-cloze", "directional-derivative", "The directional "
         "derivative through the gradient"],
        ["robbins-monro-update-cloze", "stochastic-approximation", "The Robbins-Monro iteration"],
    ]  # fmt: skip
    out = printed(80, "2 cards", columns, rows)
    assert max(cell_len(line) for line in out.splitlines()) <= 80, out
    assert "hidden to fit 80 columns: topic" in out, out
    titles = column(out, 1, key=0)
    assert [" ".join(lines) for lines in titles] == [row[2] for row in rows], out


@pytest.mark.parametrize("width", [40, 50, 60])
def test_topics_in_a_narrow_terminal_breaks_no_title_word(cli, monkeypatch, width):
    """At 60 columns the topic column kept its 26 characters and the titles got 10, broken
    mid-word ("distributi|on", "reparamete|risation": a QA pass). The topics now wrap too,
    after a dash ("directional-deriva|tive" next)."""
    import json

    monkeypatch.setenv("COLUMNS", str(width))
    out = cli("topics").stdout
    assert max(cell_len(line) for line in out.splitlines()) <= width, out
    slugs = column(out, 0, key=1)
    wide = max(len(line) for lines in slugs for line in lines)
    for lines in slugs:  # each part of a slug (up to a dash) whole on a line, where it fits
        parts = re.split(r"(?<=-)", "".join(lines))
        fits = [part for part in parts if len(part) <= wide]
        assert all(any(part in line for line in lines) for part in fits), lines
    if width < 60:  # (the titles are left out below 60: said under the table)
        return
    titles = [row["title"] for row in json.loads(cli("topics", "--json").stdout)]
    cells = column(out, 3, key=1)
    assert len(cells) == len(titles)
    words = {word for title in titles for word in title.split()}
    broken = [  # a line that ends inside a word the column had room for
        line for lines in cells for line in lines[:-1]
        if line.split()[-1] not in words and len(line.split()[-1]) < 15
    ]  # fmt: skip
    assert not broken, out


def test_history_fits_40_columns():
    """`history`'s card column (a deletion's id) never wrapped: 82 columns at 80, more at 40.
    At 80 the ids stay whole, each on one line (it broke them after a dash, and a copied id
    was broken): the seconds and the method are hidden, the date wrapped at its space."""
    from studycli.cli.history import history_columns

    columns = history_columns()
    rows = [["2025-03-01 15:46", card_id, "4 Easy", "self", "12.5"] for card_id in IDS]
    for width in (40, 60, 80):
        out = printed(width, "the latest 3 reviews", columns, rows)
        assert max(cell_len(line) for line in out.splitlines()) <= width, (width, out)
        assert ["".join(lines) for lines in column(out, 1, key=2)] == IDS
    assert column(out, 1, key=2) == [[card_id] for card_id in IDS], out
    assert column(out, 0, key=2) == [["2025-03-01", "15:46"]] * len(IDS), out
    assert "hidden to fit 80 columns: seconds, how" in out


def test_a_table_that_fits_is_as_it_was():
    """Only a table too wide after wrapping and hiding is laid out anew: one that fits by
    hiding a column is what it always was (the pinned 80-column `list` among them)."""
    columns = [Column("id"), Column("kind", hide=1), Column("title", wrap=True)]
    rows = [[card_id, "concept", "A title"] for card_id in IDS]
    out = printed(70, "3 cards", columns, rows)
    assert "hidden to fit 70 columns: kind" in out
    assert f"│ {IDS[0]} │ A title │" in out


def test_a_table_with_no_rows_too_wide_for_its_headers_prints(cli, monkeypatch, tmp_path):
    """Squeezed below its headers' width with no rows (an empty history at 24 columns), the
    table's last resort took the widest word of no words: a TypeError."""
    from studycli.cli.history import history_columns

    console = Console(file=io.StringIO(), width=24)
    print_table(console, "0 reviews", history_columns(), [])  # (history now says it in a line)
    assert "when" in console.file.getvalue()
    monkeypatch.setenv("COLUMNS", "24")
    monkeypatch.setenv("STUDYCLI_HOME", str(tmp_path))
    result = cli("--content", FIXTURE_CONTENT, "history")
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
