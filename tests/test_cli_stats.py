"""The stats screen in a narrow terminal: its numbers are never cut. (The figures are made by
hand here; tests/test_study_stats.py computes them from a review log.)"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from rich.cells import cell_len
from rich.console import Console

from studycli.cli.stats import view
from studycli.study.stats import DayCount, Retention, Stats, TopicStats

from .conftest import FIXTURE_CONTENT

TODAY = date(2025, 3, 1)
TOPICS = [  # (topic, studied, cards, passed, failed, recall)
    ("random-walk", 23, 24, 104, 81, 0.90),
    ("kernel-logistic-regression", 14, 18, 1203, 31, 0.957),
    ("transformer-vs-rnn", 22, 22, 68, 12, 0.96),
    ("adamw", 0, 15, 0, 0, None),
]


def figures() -> Stats:
    days = [DayCount(TODAY - timedelta(days=29 - n), n % 7) for n in range(30)]
    return Stats(
        today=TODAY,
        cards_by_state={"new": 30, "learning": 4, "review": 41, "relearning": 2, "suspended": 0},
        study_items=77,
        cards=77,
        not_in_content_ids=(),
        reviews_per_day=days,
        forecast=[DayCount(TODAY + timedelta(days=n), 3) for n in range(30)],
        true_retention={
            name: Retention(passed=729, failed=253) for name in ("young", "mature", "all")
        },
        topics=[
            TopicStats(topic, cards, cards, studied, Retention(passed, failed), recall)
            for topic, studied, cards, passed, failed, recall in TOPICS
        ],
        streak=17,
    )


def screen(width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(view(figures(), "all cards"))
    return console.file.getvalue()  # type: ignore[attr-defined]


def topic_rows(out: str) -> dict[str, list[str]]:
    """The topic table's rows: each topic (its wrapped lines joined) and its other cells."""
    lines = out[out.index("topics, weakest first") :].splitlines()[2:]
    rows: dict[str, list[str]] = {}
    last = ""
    for line in lines:
        if line.startswith((" hidden", " reviews and retention", "and ")):
            break
        first, *cells = line.split()
        if cells:
            last = first
            rows[last] = cells
        else:  # a topic's next line
            rows[last + first] = rows.pop(last)
            last += first
    return rows


@pytest.mark.parametrize("width", [100, 76, 70, 60, 50, 44, 40, 34, 30])
def test_the_topic_tables_numbers_are_never_cut_and_a_hidden_column_is_named(width):
    """Below 76 columns Rich squeezed the numeric columns to "…" (the reviews and retention at
    60 columns; at 40 `studied` read `23…` and retention was gone without a word) while the
    10-cell bar and the topic kept their width. Now the bar narrows, then goes; then the topics
    wrap after a `-`, then the reviews and the retention are hidden, and a line says so."""
    out = screen(width)
    assert max(cell_len(line) for line in out.splitlines()) <= width
    assert "…" not in out[out.index("topics, weakest first") :]
    assert all(number in out for number in ("729", "253", "74.2%"))  # true retention's
    rows = topic_rows(out)
    studied = [topic for topic, studied, *_ in TOPICS if studied]
    assert list(rows) == studied  # every topic studied whole, in order
    said = " ".join(out.split())
    assert "and 1 topic not studied yet: `studycli topics` lists them" in said
    assert said.endswith("reviews and retention count the reviews of learnt cards only")
    heading = out[out.index("topics, weakest first") :].splitlines()[1]
    head = heading.split()
    said = " ".join(out.split())
    hidden = re.search(r"hidden to fit (\d+) columns: ([a-z, ]+) \(--json shows all\)", said)
    named = hidden.group(2).split(", ") if hidden else []
    assert not hidden or hidden.group(1) == str(width)
    assert [name for name in ("reviews", "retention") if name not in head] == named
    for topic, studied, cards, passed, failed, recall in TOPICS:
        if not studied:  # (counted under the table: `_topics_table`)
            continue
        cells = rows[topic]
        expected = [f"{studied}/{cards}"]
        if "reviews" in head:
            expected.append(str(passed + failed))
        if "retention" in head:
            expected.append("-" if not passed + failed else f"{passed / (passed + failed):.1%}")
        expected.append("-" if recall is None else f"{recall:.0%}")
        assert [cell for cell in cells if not set(cell) <= set("█▏▎▍▌▋▊▉·")] == expected, topic
    if width >= 76:
        assert "recall now" in heading and "█████████" in out and not hidden
    if width >= 60:
        assert not hidden  # the bar goes before any number


def test_the_stats_screen_is_unchanged_where_it_fits():
    """At 76 columns and more the topic table is the one it always was: a 10-cell bar."""
    line = next(line for line in screen(80).splitlines() if line.startswith(" random-walk"))
    assert line == " random-walk                   23/24      185      56.2%  █████████   90% "


@pytest.mark.parametrize("width", [80, 40])
def test_one_item_in_the_history_only_is_named_and_the_note_fits(width):
    """The note under the items: the one the content no longer has, by its id, whole."""
    removed = "position-encoding-four-terms-cloze#c7"
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(view(replace(figures(), not_in_content_ids=(removed,)), "all cards"))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert max(cell_len(line) for line in out.splitlines()) <= width
    assert removed in out.split()  # on one line
    said = " ".join(out.split())
    assert "and 1 more in your history only" in said and "its reviews are kept" in said


def test_with_no_topic_studied_the_topics_are_one_line(cli, tmp_path):
    """On a fresh collection the topic table was a row of `0/N  -  ··········  -` per topic
    (45 of them with the shipped cards): now one line says that none is studied yet. `--json`
    lists every topic as before."""
    fresh = [replace(topic, studied=0, retention=Retention(0, 0), recall=None)
             for topic in figures().topics]  # fmt: skip
    console = Console(file=io.StringIO(), width=80, color_system=None, legacy_windows=False)
    console.print(view(replace(figures(), topics=fresh), "all cards"))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "topics  no topic studied yet (4 topics: `studycli topics` lists them)" in out
    assert "topics, weakest first" not in out and not any(t.topic in out for t in fresh)
    assert "topics, weakest first" in screen(80)  # one studied: the table
    db = tmp_path / "db.sqlite3"
    said = cli("--content", FIXTURE_CONTENT, "--db", db, "stats").stdout
    assert "no topic studied yet" in said and "0/" not in said
    shown = json.loads(cli("--content", FIXTURE_CONTENT, "--db", db, "stats", "--json").stdout)
    assert shown["topics"] and all(topic["studied"] == 0 for topic in shown["topics"])
