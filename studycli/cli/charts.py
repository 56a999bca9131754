"""Terminal charts drawn with Unicode blocks: a column per day, a bar per figure.

Plain Rich `Text`, so they print anywhere Rich does and fit a given width: a 30-day column
chart is 2 characters a day plus its axis, 67 columns in all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.text import Text

_EIGHTHS = " ▁▂▃▄▅▆▇█"
_BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def column_chart(
    values: Sequence[int], days: Sequence[date], *, height: int = 6, style: str = "cyan"
) -> Text:
    """A column per value (one per day), scaled to the largest, with a y axis that shows the
    largest value and an x axis labelled with the first, middle and last day.

    A value above zero always shows at least a sliver, so a day studied is never blank.
    """
    top = max(values, default=0)
    label = len(str(top))
    text = Text()
    for row in range(height - 1, -1, -1):
        axis = str(top) if row == height - 1 and top else ""
        text.append(f"{axis:>{label}} {'┤' if axis else '│'}", style="dim")
        for value in values:
            text.append(_cell(value, top, height, row) + " ", style=style)
        text.append("\n")
    text.append(f"{'0':>{label}} └" + "─" * (2 * len(values)) + "\n", style="dim")
    text.append(_day_labels(days, label + 2), style="dim")
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


def _day_labels(days: Sequence[date], indent: int) -> str:
    if not days:
        return ""
    width = 2 * len(days)
    line = [" "] * width
    for index in (0, len(days) // 2, len(days) - 1):
        label = days[index].strftime("%m-%d")
        start = min(max(0, 2 * index - len(label) // 2), width - len(label))
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
