"""The stats command: where you stand, as charts and tables that fit 80 columns, or JSON."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from studycli.errors import StudyError

from . import charts
from .app import app, options, stdout, without_drafts
from .completion import DeckOption, TagOption, TopicOption
from .context import none_selected, now, open_study
from .table import wrapped

if TYPE_CHECKING:
    from rich.table import Table

    from studycli.study.stats import Retention, Stats, TopicStats


@app.command()
def stats(
    ctx: typer.Context,
    deck: DeckOption = None,
    topic: TopicOption = None,
    tag: TagOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Show where you stand: study items by state, reviews per day, the due forecast, true
    retention, your weakest topics and your streak.

    A study item is what one review asks: a card, or one deletion of a cloze card, so there can
    be more items than cards.

    Days are study days (they roll over at day_starts_at). True retention is Anki's: reviews of
    cards in the review state over the last 30 days, Again a fail; young cards had an interval
    under 21 days, mature ones 21 or more.

    Topics are listed weakest first, by the average predicted recall of their studied cards
    (those with none studied are counted under the table; `--json` lists every topic).

    Without --deck, --topic or --tag, the history of cards that are not in the content
    (imported, removed or renamed) counts too, in reviews per day (whose title says how many are
    theirs), true retention and the streak, and those items are named under the items line;
    never in the items by state, the due forecast or the topics (`review` never shows those
    cards).

    `--json` prints {"cards_by_state" (the study items by state: they add up to "study_items"),
    "study_items", "cards", "not_in_content" (how many items are in your history only),
    "not_in_content_ids" (their ids), "reviews_per_day": [{"date", "count"}],
    "reviews_not_in_content" (how many of those are of the items in your history only),
    "forecast", "true_retention", "topics": [{"topic", "cards", "items", "studied" (items),
    "reviews", "retention", "recall"}], "streak", "last_studied" (the study day of your latest
    rating, null for none: a streak of 0 says when), "today"}.

    Example: studycli stats --topic flash-attention
    """
    from studycli.study.api import study_items

    content = options(ctx).load()
    cards = content.select(deck=deck, topic=topic, tag=tag)
    if not cards:
        raise StudyError(none_selected(content))
    studied = without_drafts(cards)
    whole = deck is None and topic is None and tag is None  # (the history elsewhere counts)
    with open_study(ctx) as study:
        figures = study.stats(study_items(studied), now(), elsewhere=whole)
    if as_json:
        import json

        print(json.dumps(figures.to_dict(), indent=2))
        return
    scope = " · ".join(f for f in (deck, topic, tag and f"tag {tag}") if f) or "all cards"
    given = {"--deck": deck, "--topic": topic, "--tag": tag}
    begin = " ".join(["studycli review", *(f"{k} {v}" for k, v in given.items() if v)])
    stdout().print(view(figures, scope, begin))


def view(figures: Stats, scope: str, begin: str = "studycli review") -> RenderableType:
    """The stats screen: header lines, two column charts, the retention and topic tables.
    Before any review (`figures.last_studied` None, nothing counted in the charts), a line
    that says how to begin (`begin`, the command) stands for the charts and the retention
    table: a new learner's first `stats` was two empty 30-day charts and a table of zeros."""
    counts = figures.cards_by_state
    rows = [("items", Text(" · ".join(f"{name} {counts[name]:,}" for name in counts)))]
    rows += [("", Text(line, style="dim")) for line in _items_note(figures)]
    days, last = figures.streak, figures.last_studied
    if days:
        streak = f"{days} day{'s' if days != 1 else ''} in a row"
    else:
        streak = f"0 days (last studied {last.isoformat()})" if last else "none yet"
    rows.append(("streak", Text(streak)))
    reviews = [d.count for d in figures.reviews_per_day]
    due = [d.count for d in figures.forecast]
    if figures.last_studied is None and not any(reviews) and not any(due):
        fresh = Text("\nno reviews yet: ", style="bold")
        fresh.append(f"begin with `{begin}`")
        return Group(
            Text(f"stats · {scope} · {figures.today.isoformat()}", style="bold reverse"),
            _Labelled(rows),
            fresh,
            Text(),
            _topics_table(figures.topics),
        )
    return Group(
        Text(f"stats · {scope} · {figures.today.isoformat()}", style="bold reverse"),
        _Labelled(rows),
        _titled("reviews per day, last 30 days", _reviews_note(sum(reviews), figures)),
        charts.column_chart(reviews, [d.day for d in figures.reviews_per_day]),
        _titled("due forecast, next 30 days", f"{sum(due):,} due"),
        charts.column_chart(due, [d.day for d in figures.forecast], style="yellow"),
        Text(),
        _retention_table(figures.true_retention),
        Text(),
        _topics_table(figures.topics),
    )


def _items_note(figures: Stats) -> list[str]:
    """What the items counted above are, when they are not simply the content's cards: a
    learner who sees more items than `studycli list` shows cards should not have to guess."""
    items, cards, others = figures.study_items, figures.cards, figures.not_in_content
    lines = []
    if items != cards:
        lines.append(
            f"{items:,} study items from {cards:,} cards: a cloze card is one per deletion"
        )
    elif others:
        lines.append(f"{items:,} study items, one per card of the content")
    if others:
        lines += _history_only(figures.not_in_content_ids)
    return lines


NAMED = 5  # the items in the history only that the screen names (--json lists them all)


def _history_only(ids: tuple[str, ...]) -> list[str]:
    """The items known only from the history: a handful by name, why review never shows them,
    and where their reviews are. (Not only imported ones: a card removed from the content, or
    renamed, or a cloze deletion removed, leaves one too, and so does a card made a cloze card,
    or made one no more: its reviews as the other kind are under the ids of that kind.)"""
    more = f" and {len(ids) - NAMED:,} more" if len(ids) > NAMED else ""
    return [
        f"and {len(ids):,} more in your history only: {', '.join(ids[:NAMED])}{more}",
        "no study item of the content (removed, renamed, made a cloze card or made one no "
        f"more, or imported): never shown, {'its' if len(ids) == 1 else 'their'} reviews are "
        "kept and count in the reviews per day, true retention and the streak: `studycli "
        "history --card ID` lists them",
    ]


def _reviews_note(total: int, figures: Stats) -> str:
    """How many reviews the chart counts, and how many of them are of the items in the history
    only: after importing a history of cards not in the content, the chart counted thousands
    of reviews beside an items line of new cards only, and nothing said whose they were."""
    others = figures.reviews_not_in_content
    return f"{total:,} in all" + (f", {others:,} of items not in the content" if others else "")


def _titled(title: str, note: str) -> Text:
    text = Text("\n")
    text.append(title, style="bold")
    text.append(f"  ({note})", style="dim")
    return text


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _plain_table(title: str) -> Table:
    """A table of the stats screen: its title on the left, in bold; no borders."""
    from rich.table import Table  # here: every command imports this module, few print tables

    return Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 1))


def _retention_table(retention: dict[str, Retention]) -> RenderableType:
    table = _plain_table("true retention, last 30 days")
    table.add_column("cards")
    for column in ("passed", "failed", "retention"):
        table.add_column(column, justify="right")
    for name, label in (("young", "young (< 21 d)"), ("mature", "mature (21 d +)"), ("all", "all")):
        row = retention[name]
        table.add_row(label, str(row.passed), str(row.failed), _percent(row.rate))
    return table


def _topics_table(topics: list[TopicStats]) -> RenderableType:
    """The topic table, of the topics studied, the others counted on a line under it, and what
    its columns count; where no topic is studied yet, one line that says so. (A fresh collection's table was 45 rows of
    `0/N  -  ··········  -`, and a learner's first weeks' 40 such rows under a few.)"""
    from studycli.study.labels import counted

    studied = [topic for topic in topics if topic.studied]
    if topics and not studied:
        line = Text("topics", style="bold")
        line.append(
            f"  no topic studied yet ({counted(len(topics), 'topic')}: `studycli topics` "
            "lists them)",
            style="dim",
        )
        return line
    parts: list[RenderableType] = [_Topics(studied)]
    if len(studied) < len(topics):
        rest = counted(len(topics) - len(studied), "topic")
        parts.append(Text(f"and {rest} not studied yet: `studycli topics` lists them", style="dim"))
    parts.append(Text(" reviews and retention count the reviews of learnt cards only", style="dim"))
    return Group(*parts)


BAR = 10  # the recall bar's cells where they fit
NARROWEST_BAR = 5  # a narrower bar makes the column no narrower (its header is 10 wide)
MAY_HIDE = ("reviews", "retention")  # the columns left out, in this order, where none fit


class _Labelled:
    """Rows of a bold label and its text, each text wrapped under itself rather than under the
    label (a line of long card ids ran back to the screen's first column)."""

    INDENT = 8

    def __init__(self, rows: list[tuple[str, Text]]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width - self.INDENT
        for label, text in self.rows:
            head = Text(label.ljust(self.INDENT), style="bold")
            if max(map(cell_len, text.plain.split()), default=0) > width:
                yield head + text  # a word too long for the column: across the whole screen
                continue
            for number, line in enumerate(text.wrap(console, width)):
                line.rstrip()  # (a wrapped line keeps the space it broke at)
                yield (head if number == 0 else Text(" " * self.INDENT)) + line


class _Topics:
    """The topic table, laid out for the width it is printed at. Its numbers are never cut
    (Rich squeezed them to `…` below 76 columns while the bar and the topic kept their width):
    where the table does not fit, the recall bar is narrowed, then left out (the percentage
    stays); then the topics wrap (after a `-`), and where they would have to fold, the reviews
    and then the retention column are left out, named under the table."""

    def __init__(self, topics: list[TopicStats]) -> None:
        self.topics = topics
        self.cells = {
            "topic": [topic.topic for topic in topics] or ["(no topics)"],
            "studied": [f"{topic.studied}/{topic.items}" for topic in topics],
            "reviews": [str(topic.retention.total) for topic in topics],
            "retention": [_percent(topic.retention.rate) for topic in topics],
        }

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        bar, topic, hidden = self.layout(options.max_width)
        yield self.table(bar, topic, hidden)
        if hidden:
            names = ", ".join(hidden)
            yield Text(
                f" hidden to fit {options.max_width} columns: {names} (--json shows all)",
                style="dim",
            )

    def layout(self, width: int) -> tuple[int, int, tuple[str, ...]]:
        """The bar's width (0: none), the topic column's and the columns left out."""
        names = self.cells["topic"]
        natural = max(len("topic"), *map(cell_len, names))
        parts = max(
            len("topic"), *(cell_len(p) for name in names for p in re.split(r"(?<=-)", name))
        )
        for count in range(len(MAY_HIDE) + 1):
            hidden = MAY_HIDE[:count]
            for bar in (*range(BAR, NARROWEST_BAR - 1, -1), 0):
                if natural <= width - self.others(bar, hidden):
                    return bar, natural, hidden
            if min(natural, parts) <= width - self.others(0, hidden):
                return 0, width - self.others(0, hidden), hidden
        return 0, max(len("topic"), width - self.others(0, MAY_HIDE)), MAY_HIDE

    def others(self, bar: int, hidden: tuple[str, ...]) -> int:
        """The width of the columns but the topic's, with their padding, and the topic's padding."""
        widths = [
            max(len(name), *map(cell_len, cells), 0)
            for name, cells in self.cells.items()
            if name != "topic" and name not in hidden
        ]
        widths.append(len("recall now") if bar else len("recall"))
        if bar:
            widths[-1] = max(widths[-1], bar + 5)
        return sum(widths) + 2 * len(widths) + 2

    def table(self, bar: int, topic: int, hidden: tuple[str, ...]) -> RenderableType:
        table = _plain_table("topics, weakest first")
        table.add_column("topic", no_wrap=True, width=topic)
        for name in ("studied", "reviews", "retention"):
            if name not in hidden:
                table.add_column(name, justify="right", no_wrap=True)
        table.add_column(
            "recall now" if bar else "recall", no_wrap=True, justify="left" if bar else "right"
        )
        for index, stats in enumerate(self.topics):
            recall = (
                charts.bar(stats.recall, bar, style=_recall_style(stats.recall)) if bar else Text()
            )
            percent = "-" if stats.recall is None else f"{stats.recall:.0%}"
            recall.append(f" {percent:>4}" if bar else percent)
            numbers = [
                self.cells[name][index]
                for name in ("studied", "reviews", "retention")
                if name not in hidden
            ]
            table.add_row(_fold(stats.topic, topic), *numbers, recall)
        if not self.topics:
            table.add_row("(no topics)", *[""] * (len(table.columns) - 1))
        return table


def _fold(name: str, width: int) -> str:
    """A topic in lines of at most `width` cells, broken after a `-` where it can."""
    return "\n".join(wrapped(name, width))


def _recall_style(recall: float | None) -> str:
    if recall is None:
        return "dim"
    return "red" if recall < 0.7 else "yellow" if recall < 0.85 else "green"
