"""`studycli review` through a pseudo-terminal (pexpect) on a cloze card edited between
sessions: a deletion's hint edited flags that deletion's item alone ("edited since your last
review" above its front), its text every item, as each item shows it."""

from __future__ import annotations

import re
import shutil
import signal
import sys
from datetime import timedelta

import pexpect

from .conftest import FIXTURE_CONTENT, REPO_ROOT, terminal_env
from .study_support import NOW

FRONT = "q quit"  # the last line of every card's front
EDITED = "edited since your last review"
CARD = "cards/cloze/moments-cloze.yaml"
PROMPT = (
    "  For X ~ Poisson(λ), E[X] = {{c1::λ}}, Var(X) = {{c2::λ::a parameter}} and X + Y with Y\n"
    "  an independent Poisson is {{c3::Poisson::a family}}.\n"
)


def _review(tmp_path, content, now) -> dict[str, bool]:
    """A session of the cloze deck at `now` that rates every item it shows Good: whether each
    was flagged as edited, by id."""
    config = tmp_path / "settings.toml"
    config.write_text("enable_fuzzing = false\nbury_siblings = false\n")  # every item today
    environment = terminal_env(tmp_path / "reviews.sqlite3", config, tmp_path / "home", now)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "studycli", "--content", str(content), "review", "--deck", "cloze"],
        env=environment,
        cwd=str(REPO_ROOT),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 100),
    )
    flagged: dict[str, bool] = {}
    try:
        for _ in range(3):
            child.expect(FRONT)
            front = child.before.rsplit("due again in", 1)[-1]  # (not the item rated before)
            item_id = re.findall(r"moments-cloze#c\d", front)[-1]
            flagged[item_id] = EDITED in front
            child.send(" ")
            child.expect("4 +Easy")
            child.send("3")
            child.expect("due again in")
        if child.expect([FRONT, pexpect.EOF]) == 0:  # (an item learnt ahead)
            child.send("q")
            child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
    return flagged


def test_a_cloze_deletion_edited_flags_the_items_that_show_the_change(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content, ignore=shutil.ignore_patterns("__pycache__"))
    card = content / CARD
    card.parent.mkdir()
    head = "id: moments-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\nprompt: |\n"
    card.write_text(head + PROMPT, encoding="utf-8")
    items = [f"moments-cloze#c{n}" for n in (1, 2, 3)]
    assert _review(tmp_path, content, NOW) == dict.fromkeys(items, False)  # new, each

    card.write_text(head + PROMPT.replace("λ::a parameter", "λ::the mean"), encoding="utf-8")
    later = NOW + timedelta(hours=1)
    assert _review(tmp_path, content, later) == {items[0]: False, items[1]: True, items[2]: False}

    card.write_text(head + PROMPT.replace("λ::a parameter", "λ²::the mean"), encoding="utf-8")
    assert _review(tmp_path, content, later + timedelta(days=5)) == dict.fromkeys(items, True)
