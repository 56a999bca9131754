"""`check`'s results as shown: a table of the cards, their status, seconds and message where
the terminal has room for it, else a block a card (`_results_view`)."""

from __future__ import annotations

from rich.markup import escape

STATUS_STYLE = {
    "pass": "green",
    "fail": "red",
    "error": "red",
    "timeout": "yellow",
    "busy": "yellow",
    "not done": "yellow",
}


# The narrowest message column the results' table is drawn with; narrower, each card is a
# line of its own with its message under it (at 40 columns the table's card column took the
# width and left the status and the message none: a helper's review)
MIN_MESSAGE_WIDTH = 24


def _results_view(results, width: int):
    """The check's results: a table where the terminal has room for it, else a block a card."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    from .check_outcome import as_shown  # (a wrong answer's message can carry escape sequences)

    longest = max((len(r.card_id) for r in results), default=4)
    # the card, status ("not done") and seconds columns, the borders and padding
    if longest + 8 + 7 + 13 + MIN_MESSAGE_WIDTH <= width:
        return _results_table(results)
    blocks: list[Text | Padding] = []
    for r in results:
        head = Text.assemble(
            (r.status, STATUS_STYLE[r.status]), f"  {r.card_id}  {r.seconds:.2f} s"
        )
        blocks += [head, Padding(Text(as_shown(r.message)), (0, 0, 0, 2), expand=False)]
    return Group(Text("studycli check", style="italic"), *blocks)


def _results_table(results):
    from rich.table import Table

    from .check_outcome import as_shown

    table = Table(title="studycli check", show_lines=False)
    table.add_column(
        "card", no_wrap=True, min_width=max((len(r.card_id) for r in results), default=4)
    )
    table.add_column("status")
    table.add_column("seconds", justify="right")
    table.add_column("message", overflow="fold")
    for r in results:
        style = STATUS_STYLE[r.status]
        table.add_row(
            r.card_id, f"[{style}]{r.status}[/]", f"{r.seconds:.2f}", escape(as_shown(r.message))
        )
    return table
