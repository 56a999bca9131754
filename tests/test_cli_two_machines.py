"""One learner, two machines, one history: ratings given in `studycli review` on a
pseudo-terminal in two homes, merged both ways with `export-reviews` and `import-reviews`, as
README's "moving your history" tells, each command a process of its own on a real database."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pexpect

from .conftest import FIXTURE_CONTENT, REPO_ROOT
from .study_support import NOW
from .test_study_renames import rename

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Machine:
    """A studycli home of its own (its database, settings and attempts), with the content at
    `content` (a machine that has pulled an update or not), its clock set by each call."""

    def __init__(self, home: Path, content: Path):
        self.home, self.content = home, content
        (home / "config").mkdir(parents=True)
        (home / "config" / "settings.toml").write_text('new_order = "deck"\n')

    def env(self, now: datetime) -> dict[str, str]:
        environment = {**os.environ, "STUDYCLI_HOME": str(self.home)}
        for name in ("STUDYCLI_DB", "STUDYCLI_CONFIG", "STUDYCLI_CONTENT", "STUDYCLI_CACHE"):
            environment.pop(name, None)
        return {**environment, "STUDYCLI_NOW": now.isoformat(), "TZ": "UTC", "TERM": "dumb"}

    def run(self, *args: str, now: datetime) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "studycli", "--content", str(self.content), *args],
            env=self.env(now), cwd=REPO_ROOT, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def fails(self, *args: str, now: datetime) -> str:
        """What a command that fails says on stderr (its exit status 1, nothing on stdout)."""
        done = subprocess.run(
            [sys.executable, "-m", "studycli", "--content", str(self.content), *args],
            env=self.env(now), cwd=REPO_ROOT, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 1 and not done.stdout, done.stdout + done.stderr
        return done.stderr

    def review(self, now: datetime, key: str = "3") -> list[str]:
        """A `review` session: every card shown is revealed and rated `key`, until one comes
        back (the session is quit) or none is left. Returns the ids rated, in order."""
        child = pexpect.spawn(
            sys.executable, ["-m", "studycli", "--content", str(self.content), "review"],
            env=self.env(now), cwd=str(REPO_ROOT), encoding="utf-8", timeout=60,
            dimensions=(50, 100),
        )  # fmt: skip
        rated: list[str] = []
        while child.expect(["q quit", pexpect.EOF]) == 0:
            card = _shown(ANSI.sub("", child.before))
            if card in rated:
                child.send("q")
                child.expect(pexpect.EOF)
                break
            rated.append(card)
            child.send(" ")
            while child.expect([r"4 +Easy", r"Step \d+ of \d+"]) == 1:
                child.send(" ")  # (a derivation's steps, one per press, then its answer)
            child.send(key)
            child.expect("due again in")
        child.close()
        assert child.exitstatus == 0
        return rated

    def sync(self, other: Machine, now: datetime, folder: Path) -> tuple[dict, dict]:
        """This machine's export imported there, then that one's here (`--json` outcomes)."""
        mine, theirs = folder / "mine.csv", folder / "theirs.csv"
        self.run("export-reviews", str(mine), now=now)
        there = json.loads(other.run("import-reviews", str(mine), "--json", now=now).stdout)
        other.run("export-reviews", str(theirs), now=now)
        here = json.loads(self.run("import-reviews", str(theirs), "--json", now=now).stdout)
        return there, here

    def history(self, now: datetime) -> list[tuple[str, str, int]]:
        """The log's reviews (undone ones left out) as (card, time, rating), by time."""
        found = json.loads(self.run("history", "--json", now=now).stdout)
        return sorted((r["card"], r["reviewed_at"], r["rating"]) for r in found)


def _shown(front: str) -> str:
    """The id of the card on screen: the last word of the line above its question."""
    lines = front.splitlines()
    question = next(i for i, line in enumerate(lines) if "Question" in line)
    return next(line for line in reversed(lines[:question]) if "·" in line).split()[-1]


def _first_card_only(root: Path) -> None:
    """Leave the content `root` one card to study, bias-concept: the sessions stay short."""
    for name in ("add-one", "triangle-derivation", "poisson-concept"):
        for path in (root / "cards").rglob(f"{name}.yaml"):
            path.unlink()


def test_a_review_kept_once_after_a_rename_is_not_told_as_one_the_learner_undid(
    tmp_path, content_copy
):
    """The laptop pulls a rename first; its export brings the desktop's own ratings back there
    under the new id, kept as "not in the content", and once the desktop pulls the rename too,
    the log holds each of them under both ids and keeps one. The next import of the laptop's
    export said "1 of them ratings you undid here, which stay undone", though none was undone:
    they stand, once."""
    _first_card_only(content_copy)
    renamed = tmp_path / "renamed"
    shutil.copytree(content_copy, renamed)
    rename(renamed, "bias-concept", "neuron-bias")
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    hour = timedelta(hours=1)

    assert desktop.review(NOW) == ["bias-concept"]
    laptop.sync(desktop, NOW + hour, tmp_path)
    laptop.content = renamed  # the laptop pulls the rename
    assert laptop.review(NOW + 24 * hour) == ["neuron-bias"]
    laptop.sync(desktop, NOW + 25 * hour, tmp_path)
    desktop.content = renamed  # and the desktop too, later
    there, here = laptop.sync(desktop, NOW + 26 * hour, tmp_path)

    assert there["added"] == here["added"] == 0
    assert there["undone"] == here["undone"] == 0
    said = desktop.run("import-reviews", str(tmp_path / "mine.csv"), now=NOW + 26 * hour).stdout
    assert "imported 0 of 2 reviews" in said and "undid" not in said
    assert laptop.history(NOW + 26 * hour) == desktop.history(NOW + 26 * hour)
    assert len(laptop.history(NOW + 26 * hour)) == 2


def test_the_other_machines_database_given_to_import_says_how_to_export_it(tmp_path):
    """A learner who copied the other machine's review database and gave it to
    `import-reviews` was told "byte 0xfb is not UTF-8 text ...: save the review log as UTF-8".
    It is a database, not a review log: the message says so and gives the export that makes
    one of it, which then imports."""
    laptop = Machine(tmp_path / "laptop", FIXTURE_CONTENT)
    desktop = Machine(tmp_path / "desktop", FIXTURE_CONTENT)
    rated = desktop.review(NOW)
    copied = tmp_path / "desktop.sqlite3"
    shutil.copy(desktop.home / "data" / "reviews.sqlite3", copied)

    refused = laptop.fails("import-reviews", str(copied), now=NOW + timedelta(hours=1))
    assert "UTF-8" not in refused and "Traceback" not in refused
    said = " ".join(refused.split())
    assert f"{copied} is an SQLite database" in said
    export = re.search(r"`studycli (--db \S+ export-reviews ([^`]+))`\) and give \2 instead", said)
    assert export is not None, said
    laptop.run(*shlex.split(export[1]), now=NOW + timedelta(hours=1))  # as it says
    laptop.run("import-reviews", export[2], now=NOW + timedelta(hours=1))
    history = laptop.history(NOW + timedelta(hours=1))
    assert history == desktop.history(NOW + timedelta(hours=1))
    assert sorted(card for card, _, _ in history) == sorted(rated)


FITTED = [0.0581, 0.3545, 0.6322, 2.2739, 6.4036, 0.8334, 3.0834, 0.001, 1.8637, 0.1587, 0.7856]
FITTED += [1.4949, 0.0753, 0.272, 1.6614, 0.6085, 1.8636, 0.5378, 0.0902, 0.0529, 0.1]


def test_an_import_names_the_fsrs_parameters_it_rescheduled_with(tmp_path):
    """`optimize --write` on one machine only: each machine schedules the same history with
    its own parameters (the file carries none), so their states differ. Both imports said
    "rescheduled with your current settings (desired_retention 0.9)", the same line on both:
    each names the parameters it used, the learner's own or FSRS's defaults."""
    laptop = Machine(tmp_path / "laptop", FIXTURE_CONTENT)
    desktop = Machine(tmp_path / "desktop", FIXTURE_CONTENT)
    with (laptop.home / "config" / "settings.toml").open("a") as settings:
        settings.write(f"parameters = {FITTED}\n")  # as `optimize --write` saves them
    laptop.review(NOW)
    desktop.review(NOW + timedelta(hours=1))
    later = NOW + timedelta(hours=2)
    laptop.run("export-reviews", str(tmp_path / "laptop.csv"), now=later)
    desktop.run("export-reviews", str(tmp_path / "desktop.csv"), now=later)

    there = desktop.run("import-reviews", str(tmp_path / "laptop.csv"), now=later).stdout
    here = laptop.run("import-reviews", str(tmp_path / "desktop.csv"), now=later).stdout
    there, here = (" ".join(said.split()) for said in (there, here))
    assert "cards rescheduled with your current settings (desired_retention 0.9, FSRS's " in there
    assert "default parameters)" in there and "settings.toml" not in there
    assert "cards rescheduled with your current settings (desired_retention 0.9, your " in here
    assert f"FSRS parameters from {laptop.home / 'config' / 'settings.toml'})" in here


def test_a_rating_undone_here_stays_undone_when_it_comes_back_under_a_renamed_cards_new_id(
    tmp_path, content_copy
):
    """README: "a rating another machine imported before you undid it stays there ..., and
    importing that machine's export back leaves it undone here". The laptop had the desktop's
    rating when the desktop undid it, then pulled a rename of its card: its export brought the
    rating back under the new id, "not in the content" on the desktop, and once the desktop
    pulled the rename too, the rating stood there again, as an imported review."""
    _first_card_only(content_copy)
    renamed = tmp_path / "renamed"
    shutil.copytree(content_copy, renamed)
    rename(renamed, "bias-concept", "neuron-bias")
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    minute = timedelta(minutes=1)

    assert desktop.review(NOW) == ["bias-concept"]
    desktop.sync(laptop, NOW + 10 * minute, tmp_path)
    assert "undone: bias-concept Good" in desktop.run("undo", now=NOW + 20 * minute).stdout
    laptop.content = renamed  # the laptop pulls the rename
    laptop.sync(desktop, NOW + 30 * minute, tmp_path)
    desktop.content = renamed  # and the desktop too, later

    assert desktop.history(NOW + 40 * minute) == []  # undone, as before the rename
    assert len(laptop.history(NOW + 40 * minute)) == 1  # (it stays there: README)
    said = desktop.run("import-reviews", str(tmp_path / "mine.csv"), now=NOW + 40 * minute)
    assert "1 of them ratings you undid here, which stay undone" in " ".join(said.stdout.split())
    assert desktop.history(NOW + 40 * minute) == []
    state = desktop.run("due", "--json", now=NOW + 40 * minute).stdout
    assert json.loads(state)["new"] == 1  # the card is new again there, as the undo left it
