"""The stats command: where you stand, as charts and tables that fit 80 columns, or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group, RenderableType
from rich.text import Text

from studycli.errors import StudyError

from . import charts
from .app import app, options, stdout
from .completion import DeckOption, TopicOption
from .context import now, open_study

if TYPE_CHECKING:
    from studycli.study.stats import Retention, Stats, TopicStats


@app.command()
def stats(
    ctx: typer.Context,
    deck: DeckOption = None,
    topic: TopicOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Show where you stand: study items by state, reviews per day, the due forecast, true
    retention, your weakest topics and your streak.

    A study item is what one review asks: a card, or one deletion of a cloze card, so there
    can be more items than cards. Days are study days (they roll over at day_starts_at). True
    retention is Anki's: reviews of cards in the review state over the last 30 days, Again a
    fail; young cards had an interval under 21 days, mature ones 21 or more. Topics are listed
    weakest first, by the average predicted recall of their studied cards. Without --deck or
    --topic, history imported for cards that are not in the content counts too, in the items
    by state, reviews per day, true retention and the streak; never in the due forecast or the
    topics (`review` never shows those cards). `--json` prints {"cards_by_state" (study items),
    "study_items", "cards", "not_in_content", "reviews_per_day": [{"date", "count"}],
    "forecast", "true_retention", "topics", "streak", "today"}.

    Example: studycli stats --topic flash-attention
    """
    from studycli.study.api import study_items

    content = options(ctx).load()
    cards = content.select(deck=deck, topic=topic)
    if not cards:
        raise StudyError("no cards match those filters: `studycli list` shows decks and topics")
    with open_study(ctx) as study:
        figures = study.stats(study_items(cards), now(), elsewhere=deck is None and topic is None)
    if as_json:
        import json

        print(json.dumps(figures.to_dict(), indent=2))
        return
    scope = " · ".join(f for f in (deck, topic) if f) or "all cards"
    stdout().print(view(figures, scope))


def view(figures: Stats, scope: str) -> RenderableType:
    """The stats screen: header lines, two column charts, the retention and topic tables."""
    counts = figures.cards_by_state
    header = Text()
    header.append("items   ", style="bold")
    header.append(" · ".join(f"{name} {counts[name]}" for name in counts))
    for line in _items_note(figures):
        header.append(f"\n        {line}", style="dim")
    header.append("\nstreak  ", style="bold")
    days = figures.streak
    header.append(f"{days} day{'s' if days != 1 else ''} in a row" if days else "none yet")
    reviews = [d.count for d in figures.reviews_per_day]
    due = [d.count for d in figures.forecast]
    return Group(
        Text(f"stats · {scope} · {figures.today.isoformat()}", style="bold reverse"),
        header,
        _titled("reviews per day, last 30 days", f"{sum(reviews)} in all"),
        charts.column_chart(reviews, [d.day for d in figures.reviews_per_day]),
        _titled("due forecast, next 30 days", f"{sum(due)} due"),
        charts.column_chart(due, [d.day for d in figures.forecast], style="yellow"),
        Text(),
        _retention_table(figures.true_retention),
        Text(),
        _topics_table(figures.topics),
        Text(" reviews and retention count the reviews of learnt cards only", style="dim"),
    )


def _items_note(figures: Stats) -> list[str]:
    """What the items counted above are, when they are not simply the content's cards: a
    learner who sees more items than `studycli list` shows cards should not have to guess."""
    items, cards, others = figures.study_items, figures.cards, figures.not_in_content
    lines = []
    if items != cards:
        lines.append(f"{items} study items from {cards} cards: a cloze card is one per deletion")
    elif others:
        lines.append(f"{items} study items, one per card of the content")
    if others:
        # (not "imported": a card removed from the content, or renamed, leaves one too)
        lines.append(f"and {others} more in your history only, not in the content: never shown")
    return lines


def _titled(title: str, note: str) -> Text:
    text = Text("\n")
    text.append(title, style="bold")
    text.append(f"  ({note})", style="dim")
    return text


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _retention_table(retention: dict[str, Retention]) -> RenderableType:
    from rich.table import Table  # here: every command imports this module, few print tables

    table = Table(
        title="true retention, last 30 days",
        title_justify="left",
        title_style="bold",
        box=None,
        padding=(0, 1),
    )
    table.add_column("cards")
    for column in ("passed", "failed", "retention"):
        table.add_column(column, justify="right")
    for name, label in (("young", "young (< 21 d)"), ("mature", "mature (21 d +)"), ("all", "all")):
        row = retention[name]
        table.add_row(label, str(row.passed), str(row.failed), _percent(row.rate))
    return table


def _topics_table(topics: list[TopicStats]) -> RenderableType:
    from rich.table import Table

    table = Table(
        title="topics, weakest first",
        title_justify="left",
        title_style="bold",
        box=None,
        padding=(0, 1),
    )
    table.add_column("topic", no_wrap=True)
    table.add_column("studied", justify="right", no_wrap=True)
    table.add_column("reviews", justify="right")
    table.add_column("retention", justify="right")
    table.add_column("recall now", no_wrap=True)
    for topic in topics:
        recall = charts.bar(topic.recall, style=_recall_style(topic.recall))
        recall.append(f" {'-' if topic.recall is None else f'{topic.recall:.0%}':>4}")
        table.add_row(
            topic.topic,
            f"{topic.studied}/{topic.cards}",
            str(topic.retention.total),
            _percent(topic.retention.rate),
            recall,
        )
    if not topics:
        table.add_row("(no topics)", "", "", "", "")
    return table


def _recall_style(recall: float | None) -> str:
    if recall is None:
        return "dim"
    return "red" if recall < 0.7 else "yellow" if recall < 0.85 else "green"
