"""A `studycli review` session open in one terminal while another recomputes the memory states
with new FSRS parameters (`optimize --recompute` after a hand edit of settings.toml; `optimize
--write` does the same with fitted ones): real processes, the session on a pseudo-terminal."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta

import pexpect
from fsrs import Rating
from fsrs.scheduler import DEFAULT_PARAMETERS

from studycli.content.loader import load_content
from studycli.study.api import Study, study_items
from studycli.study.settings import Settings, load_settings
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT, terminal_env
from .study_support import NOW

# fsrs's defaults with other initial stabilities (w0..w3), which change every learnt card's
# state, and another growth of stability in a review (w8), which changes the next one's
OWN = (0.5, 1.5, 4.0, 12.0, *DEFAULT_PARAMETERS[4:8], 1.5, *DEFAULT_PARAMETERS[9:])


def test_ratings_after_another_terminal_recomputed_the_states_use_its_parameters(tmp_path):
    """A session open while `optimize --recompute` (or `--write`) ran in another terminal
    went on scheduling every rating with the parameters it had read at its start: the cards
    it rated after the recompute stood on the old parameters again, so the doctor counted
    them as "not what the FSRS parameters in settings.toml give", and no other command said
    so (the record of the recompute agreed with settings.toml). Ratings after the recompute
    are scheduled with its parameters: no state is stale."""
    db, config = tmp_path / "reviews.sqlite3", tmp_path / "settings.toml"
    config.write_text("enable_fuzzing = false\n")
    items = {i.id: i for i in study_items(load_content(FIXTURE_CONTENT).cards.values())}
    with Study.open(db, Settings(enable_fuzzing=False)) as study:
        for card in ("bias-concept", "add-one"):
            study.rate(items[card], Rating.Good, NOW)
    later = NOW + timedelta(days=3)
    env = terminal_env(db, config, tmp_path / "home", later)
    child = pexpect.spawn(
        sys.executable, ["-m", "studycli", "--content", str(FIXTURE_CONTENT), "review"],
        env=env, cwd=str(REPO_ROOT), encoding="utf-8", timeout=60, dimensions=(50, 100),
    )  # fmt: skip
    try:
        child.expect("q quit")  # the first card, shown before the recompute
        config.write_text(f"enable_fuzzing = false\nparameters = {list(OWN)}\n")
        recompute = subprocess.run(
            [sys.executable, "-m", "studycli", "--content", str(FIXTURE_CONTENT),
             "optimize", "--recompute"],
            env=env, cwd=str(REPO_ROOT), capture_output=True, text=True,
        )  # fmt: skip
        assert recompute.returncode == 0, recompute.stderr
        for _ in range(2):  # that card, then the next, shown after it
            child.send(" ")
            child.expect(r"4 +Easy")
            child.send("3")
            if child.expect(["due again in", "not saved"]) == 1:  # its state changed
                child.expect(r"4 +Easy")
                child.send("3")
                child.expect("due again in")
            child.expect("q quit")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
    with Store.open(db) as store:
        assert len([r for r in store.reviews() if r.reviewed_at >= later]) == 2
        assert Study(store, load_settings(config)).stale_memory_states() == 0
