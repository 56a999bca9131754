"""Terminal charts drawn with Unicode blocks: a column per day, a bar per figure.

Rich `Text` (a column chart drawn for the width it is printed at), so they print anywhere Rich
does: a 30-day column chart is 2 characters a day plus its axis, 67 columns in all, or 1 a
day where that does not fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

_EIGHTHS = " ▁▂▃▄▅▆▇█"
_BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def column_chart(
    values: Sequence[int], days: Sequence[date], *, height: int = 6, style: str = "cyan"
) -> ColumnChart:
    """A column per value (one per day), scaled to the largest, with a y axis that shows the
    largest value and an x axis labelled with the first, middle and last day.

    A value above zero always shows at least a sliver, so a day studied is never blank.
    """
    return ColumnChart(values, days, height, style)


class ColumnChart:
    """`column_chart`'s chart, drawn for the width it is printed at: two characters a day
    where they fit, else one (30 days in 36 columns), else the latest days that fit (at 40
    columns the 67-column chart wrapped, its columns and axis spilling onto other lines)."""

    def __init__(self, values: Sequence[int], days: Sequence[date], height: int, style: str):
        self.values, self.days, self.height, self.style = list(values), list(days), height, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label = len(str(max(self.values, default=0)))
        room = options.max_width - label - 2
        step = 2 if 2 * len(self.values) <= room else 1
        shown = max(1, min(len(self.values), room // step))
        yield self.draw(self.values[-shown:], self.days[-shown:], step)

    def draw(self, values: list[int], days: list[date], step: int = 2) -> Text:
        """The chart of `values`, `step` characters a day."""
        top = max(values, default=0)
        label = len(str(top))
        gap = " " * (step - 1)
        text = Text()
        for row in range(self.height - 1, -1, -1):
            axis = str(top) if row == self.height - 1 and top else ""
            text.append(f"{axis:>{label}} {'┤' if axis else '│'}", style="dim")
            for value in values:
                text.append(_cell(value, top, self.height, row) + gap, style=self.style)
            text.append("\n")
        text.append(f"{'0':>{label}} └" + "─" * (step * len(values)) + "\n", style="dim")
        text.append(_day_labels(days, label + 2, step), style="dim")
        return text


def _cell(value: int, top: int, height: int, row: int) -> str:
    if value <= 0 or top <= 0:
        return " "
    filled = value / top * height  # in rows
    if filled >= row + 1:
        return "█"
    if filled <= row:
        return "▁" if row == 0 else " "  # never let a nonzero day vanish
    return _EIGHTHS[max(1, round((filled - row) * 8))]


def _day_labels(days: Sequence[date], indent: int, step: int = 2) -> str:
    if not days:
        return ""
    width = max(step * len(days), 5)
    line = [" "] * width
    for index in (0, len(days) // 2, len(days) - 1):
        label = days[index].strftime("%m-%d")
        start = min(max(0, step * index - len(label) // 2), width - len(label))
        line[start : start + len(label)] = label
    return " " * indent + "".join(line)


def bar(fraction: float | None, width: int = 10, style: str = "green") -> Text:
    """A horizontal bar `width` characters long, filled to `fraction` (0..1), in eighths;
    an empty dotted bar for None (nothing to measure)."""
    if fraction is None:
        return Text("·" * width, style="dim")
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    body = "█" * full + (_BAR_EIGHTHS[part] if part else "")
    return Text(body.ljust(width), style=style)
