"""A check's outcome as the learner sees it (`outcome_view`: a pass, or the failing case, the
traceback and the output), and text the learner's code wrote made safe to print (`as_shown`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

if TYPE_CHECKING:  # the checking machinery is imported on the first check, not to show a card
    from studycli.check.runner import Outcome


def outcome_view(outcome: Outcome):
    """Pass, or the failing case: the call, expected vs actual, the learner's traceback."""
    from rich.syntax import Syntax
    from rich.table import Table

    from studycli.check.failing_case import failing_case

    from .render import TEXT_WIDTH

    if outcome.status == "pass":
        return Text(f"✓ passed every case in {outcome.seconds:.2f} s", style="bold green")
    title = {
        "fail": "✗ failed",
        "error": "✗ error",
        "timeout": "✗ timeout",
        "busy": "not judged: the machine was busy",
    }[outcome.status]
    message = as_shown(outcome.message)  # the learner's code wrote some of it
    parts: list = [_message_line(line) for line in message.splitlines()]
    case = failing_case(message) if outcome.status == "fail" else None
    if case is not None:
        table = Table(show_header=False, box=None, padding=(0, 1))
        table.add_row(Text("call", style="dim"), Text(case.what))
        if case.where:
            table.add_row(Text("where", style="dim"), Text(case.where))
        table.add_row(Text("expected", style="green"), Text(case.expected, style="green"))
        table.add_row(Text("actual", style="red"), Text(case.actual, style="red"))
        if case.detail:
            table.add_row(Text(""), Text(case.detail, style="dim"))
        parts = [table, *[_message_line(line, "yellow") for line in message.splitlines()[1:]]]
    if outcome.traceback:  # wrapped, not cut: a long path hid the line number at 80 columns
        traceback = as_shown(outcome.traceback.rstrip())
        highlighted = Syntax(traceback, "pytb", theme="ansi_dark").highlight(traceback)
        highlighted.rstrip()  # (the newline highlight ends with)
        parts += [_indented(line) for line in highlighted.split("\n")]
    if outcome.status == "timeout" and (flood := _flood(outcome.output)):
        parts.append(_message_line(f"  hint: {flood}", "yellow"))
    if outcome.output.strip():
        parts.append(
            Panel(
                Text(_last_lines(as_shown(outcome.output).rstrip())),  # (the check kept its tail)
                title="your output",
                title_align="left",
                border_style="dim",
            )
        )
    # at most as wide as the card's panels above it: at 200 columns it alone filled the width
    border = "yellow" if outcome.status == "busy" else "red"  # (no failure of the answer's)
    return Panel(
        Group(*parts), title=title, title_align="left", border_style=border, width=TEXT_WIDTH
    )


def _flood(output: str) -> str:
    """What a check stopped at its time limit is told where it printed a flood first (its
    output's first line says how much was left out, `NOT_SHOWN`): an answer printing 50 MB a
    call read "an infinite loop, or far too slow" above "… 5,499,998,109 earlier bytes not
    shown", the printing, which took the time, left unsaid."""
    from studycli.check.output_tail import NOT_SHOWN

    said = NOT_SHOWN.match(output.split("\n", 1)[0])
    if said is None:
        return ""
    count, unit = int(said["count"].replace(",", "")), said["unit"]
    if count < (FLOOD_LINES if unit == "line" else FLOOD_BYTES):
        return ""
    return (
        f"it printed more than {count:,} {unit}s before it was stopped: printing that much "
        "takes the time itself. Print less (or nothing) inside the function"
    )


FLOOD_LINES = 100_000  # printed before a time limit: the printing is worth naming
FLOOD_BYTES = 10_000_000


def _last_lines(output: str) -> str:
    """`output`'s last OUTPUT_LINES lines, after a line that says how many came before them
    (those the check left out too): the 2000 bytes a check keeps of `print()` in a loop were
    1990 empty lines in the panel, the failing call scrolled far out of sight."""
    from studycli.check.output_tail import NOT_SHOWN, not_shown

    lines = output.split("\n")
    if len(lines) <= OUTPUT_LINES + 1:  # (+1: the line that says what the check left out)
        return output
    said = NOT_SHOWN.match(lines[0])
    before = int(said["count"].replace(",", "")) if said and said["unit"] == "line" else 0
    shown = lines[-OUTPUT_LINES:]
    left_out = before + len(lines) - len(shown) - (1 if said else 0)
    return not_shown(left_out) + "\n".join(shown)


OUTPUT_LINES = 60  # lines of a check's output shown (of the 2000 bytes it keeps)


def _message_line(line: str, style: str = "") -> RenderableType:
    """A line of a check's message, one indented (its `  hint: ...`) kept indented when it
    wraps: at 80 columns the hint's next lines began at the panel's edge, as if they were
    the failure's own words rather than the hint's."""
    return _indented(Text(line, style=style))


def _indented(line: Text) -> RenderableType:
    """`line` kept at its indent when it wraps. (A traceback's lines too: at 80 columns, `File
    ".../attempts/sliding-window-max.py", line 2, in` went on with the function's name at the
    panel's edge, and a line of the answer's code with the rest of it, read as a line of its
    own.)"""
    indent = len(line.plain) - len(line.plain.lstrip(" "))
    if not indent:
        return line
    from rich.padding import Padding

    return Padding(line[indent:], (0, 0, 0, indent))


# All control characters but tab and line feed; and Unicode's bidirectional embeddings,
# overrides and isolates, which reorder what follows them on the line ("Trojan Source"): an
# attempt's output printed `\u202e` raw, and the text after it read backwards
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def as_shown(text: str) -> str:
    """`text` that the learner's code wrote (its output, an exception's message), safe to
    print: each line as a terminal leaves it after carriage returns (a progress bar's last
    state), and every other control character written out (an escape as \\x1b, a bidirectional
    override as \\u202e), so that none reaches the terminal (a printed escape sequence cleared
    the screen, switched to the alternate screen or hid the cursor after the command ended). A lone surrogate (a file name
    os.listdir decoded with surrogateescape, put into a message) is written out too: printed,
    it ended the command, or the review session, with a UnicodeEncodeError."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if "\r" in text:
        lines = []
        for line in text.replace("\r\n", "\n").split("\n"):
            drawn = [part for part in line.split("\r") if part]
            lines.append(drawn[-1] if drawn else "")
        text = "\n".join(lines)
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)
