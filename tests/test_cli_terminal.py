"""Keys on a pseudo-terminal: typed ahead while a card is drawn, they are read one by one and
not echoed onto the card; an editor run from a session gets the terminal as it was."""

from __future__ import annotations

import sys

import pexpect
import pytest

from .conftest import REPO_ROOT

SESSION = """
import sys, termios, time
from studycli.cli.terminal import getkey, normal_terminal, quiet_keys
with quiet_keys():
    print("first", repr(getkey()), flush=True)  # the quiet mode starts with the first key
    print("drawing", flush=True)
    time.sleep(1.0)  # a card being drawn: the keys arrive meanwhile
    keys = [getkey() for _ in range(int(sys.argv[1]))]
    print("got", repr(keys), flush=True)
    echo = lambda: bool(termios.tcgetattr(0)[3] & termios.ECHO)
    quiet = echo()
    with normal_terminal():
        editor = echo()
    print("echo", quiet, editor, echo(), flush=True)
print("echo after", bool(termios.tcgetattr(0)[3] & termios.ECHO), flush=True)
"""


def _session(keys: str, count: int) -> tuple[str, str]:
    """(what the terminal showed while the card was drawn, what getkey read)."""
    child = pexpect.spawn(
        sys.executable, ["-c", SESSION, str(count)], cwd=str(REPO_ROOT), encoding="utf-8",
        timeout=60,
    )  # fmt: skip
    child.send("a")
    child.expect("first 'a'")
    child.expect("drawing")
    child.send(keys)
    child.expect(r"got (\[.*?\])\r\n")  # (pexpect's `.` matches newlines)
    shown, read = child.before, child.match.group(1)
    child.expect(r"echo (\w+) (\w+) (\w+)")
    assert child.match.groups() == ("False", "True", "False")  # quiet, the editor's, quiet again
    child.expect(r"echo after (\w+)")
    assert child.match.group(1) == "True"
    child.expect(pexpect.EOF)
    return shown, read


def test_keys_typed_ahead_are_read_one_by_one_and_not_echoed():
    """Space then 3 (reveal, then Good), pressed before the card is drawn: two keys (read
    together they made one unknown key, and both were lost), neither shown on the card."""
    shown, read = _session(" 3q", 3)
    assert read == "[' ', '3', 'q']"
    assert "3" not in shown and "q" not in shown


def test_an_escape_sequence_and_a_wide_character_are_one_key_each():
    shown, read = _session("\x1b[Aé\x1bOPx", 4)
    assert read == r"['\x1b[A', 'é', '\x1bOP', 'x']"


@pytest.mark.parametrize("width", [40, 54, 55, 100])
def test_the_rating_keys_wrap_between_keys_never_inside_one(width):
    """At 40 columns "3  Good" ended one line and its interval "10m" began the next."""
    from rich.console import Console

    from studycli.cli.render import KeyBar

    console = Console(record=True, width=width, color_system=None)
    options = [("1", "Again 1m"), ("2", "Hard 6m"), ("3", "Good 10m"), ("4", "Easy 7d")]
    console.print(KeyBar([(key, words, "bold reverse") for key, words in options]))
    lines = console.export_text().splitlines()
    shown = [f" {key}  {words}" for key, words in options]
    assert all(len(line) <= width for line in lines)
    assert [part for line in lines for part in _options_in(line, shown)] == shown
    assert len(lines) == (1 if width >= 55 else 2)  # 55: the four side by side


def _options_in(line: str, options: list[str]) -> list[str]:
    """The options `line` is made of, in order (each as shown, three spaces apart)."""
    found, rest = [], line.rstrip()
    while rest:
        match = next((o for o in options if rest.startswith(o)), None)
        assert match is not None, f"not an option: {rest!r} (line {line!r})"
        found.append(match)
        rest = rest[len(match) :].removeprefix("   ")
    return found


def test_a_dumb_terminal_is_drawn_at_its_own_width(tmp_path):
    """TERM=dumb (Emacs' shell): Rich takes 80 columns unless given both sizes, so a card
    was drawn 80 wide on a terminal of 40, every line wrapped by the terminal."""
    import os
    import sys

    import pexpect

    from .conftest import REPO_ROOT

    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "studycli", "show", "online-softmax"],
        env={**environment, "TERM": "dumb", "STUDYCLI_HOME": str(tmp_path)},
        cwd=str(REPO_ROOT),
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 40),
    )
    child.expect(pexpect.EOF)
    lines = child.before.replace("\r\n", "\n").splitlines()
    assert lines and max(len(line) for line in lines) <= 40, max(lines, key=len)
