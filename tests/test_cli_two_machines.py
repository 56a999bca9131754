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
        self.fronts: dict[str, str] = {}  # each card's front as `review` last showed it
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
            front = ANSI.sub("", child.before)
            card = _shown(front)
            self.fronts[card] = " ".join(front.split())
            if card in rated:
                child.send("q")
                child.expect(pexpect.EOF)
                break
            rated.append(card)
            child.send(" ")
            while child.expect([r"4 +Easy", r"Step \d+ of \d+"]) == 1:
                child.send(" ")  # (a derivation's steps, one per press, then its answer)
            child.send(key)
            saved = child.expect(["due again in", "not saved"])
            assert saved == 0, ANSI.sub("", child.before + child.after + child.read())
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


def test_an_anki_package_given_to_import_is_named_for_what_it_is(tmp_path):
    """`import-reviews ml.apkg` (the package `export-anki` wrote, a zip archive) was told
    "line 1: byte 0x91 is not UTF-8 text ...: save the review log as UTF-8", which no saving
    mends: it says what the file is and what import-reviews reads."""
    laptop = Machine(tmp_path / "laptop", FIXTURE_CONTENT)
    package = tmp_path / "ml.apkg"
    laptop.run("export-anki", str(package), now=NOW)
    refused = laptop.fails("import-reviews", str(package), now=NOW)
    said = " ".join(refused.split())
    assert "UTF-8" not in said and "Traceback" not in said, said
    assert f"{package} is a zip archive (an Anki package, .apkg?), not a review log" in said
    assert "`studycli export-reviews FILE`" in said, said


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
    """README: an export made before the undo "then leaves it undone too ..., as it does on
    the machine that undid it". The laptop had the desktop's rating when the desktop undid
    it, then pulled a rename of its card: its export brought the rating back under the new
    id, "not in the content" on the desktop, and once the desktop pulled the rename too, the
    rating stood there again, as an imported review. It stays undone there, and the next
    sync takes it back on the laptop."""
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
    # (the desktop's export marked it undone under the old id, and gave it standing under the
    # new one, which it held as another card's: the laptop kept it, for now)
    assert len(laptop.history(NOW + 40 * minute)) == 1
    said = desktop.run("import-reviews", str(tmp_path / "mine.csv"), now=NOW + 40 * minute)
    said = " ".join(said.stdout.split())
    assert "1 of them ratings undone in your log, which stay undone" in said
    assert desktop.history(NOW + 40 * minute) == []
    state = desktop.run("due", "--json", now=NOW + 40 * minute).stdout
    assert json.loads(state)["new"] == 1  # the card is new again there, as the undo left it
    there, _ = desktop.sync(laptop, NOW + 50 * minute, tmp_path)  # the next sync: the undo
    assert there["undos_applied"] == 1  # reaches the laptop (README)
    assert laptop.history(NOW + 50 * minute) == desktop.history(NOW + 50 * minute) == []


MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


def _clean(machine: Machine, now: datetime) -> None:
    """The machine's card states and schedule are its log's (`doctor --dry-run`)."""
    found = json.loads(machine.run("doctor", "--dry-run", "--json", now=now).stdout)
    assert found["healthy"] and not found["drifted"] and not found["drifted_reviews"], found


def test_a_rating_undone_after_a_sync_is_undone_on_the_other_machine_too(tmp_path):
    """The laptop's rating went to the desktop, then the laptop undid it: the desktop kept it
    for good (the export carried no undo). The export now marks the undone rating, and the
    desktop's import takes it back, says so, and reschedules the card: both machines hold the
    same history and the same states."""
    laptop = Machine(tmp_path / "laptop", FIXTURE_CONTENT)
    desktop = Machine(tmp_path / "desktop", FIXTURE_CONTENT)
    rated = laptop.review(NOW)
    laptop.sync(desktop, NOW + 10 * MINUTE, tmp_path)
    assert f"undone: {rated[-1]} Good" in laptop.run("undo", now=NOW + 20 * MINUTE).stdout

    export = tmp_path / "after-undo.csv"
    laptop.run("export-reviews", str(export), now=NOW + 30 * MINUTE)
    tried = desktop.run("import-reviews", str(export), "--dry-run", now=NOW + 30 * MINUTE)
    assert (
        "1 undo would be applied: a rating undone on the machine that wrote the file, to be "
        "undone here too"
    ) in " ".join(tried.stdout.split())
    assert sorted(card for card, _, _ in desktop.history(NOW + 30 * MINUTE)) == sorted(rated)
    said = desktop.run("import-reviews", str(export), now=NOW + 30 * MINUTE).stdout
    said = " ".join(said.split())
    assert f"imported 0 of {len(rated)} reviews" in said
    assert (
        "1 undo applied: a rating undone on the machine that wrote the file, undone here too"
        in said
    )
    assert "1 card rescheduled" in said
    again = desktop.run("import-reviews", str(export), "--json", now=NOW + 30 * MINUTE)
    again = json.loads(again.stdout)
    assert again["undos_applied"] == 0 and again["added"] == 0  # (applied once)
    there, here = desktop.sync(laptop, NOW + 40 * MINUTE, tmp_path)
    assert there["undos_applied"] == here["undos_applied"] == 0

    later = NOW + 50 * MINUTE
    assert desktop.history(later) == laptop.history(later)
    assert sorted(card for card, _, _ in desktop.history(later)) == sorted(rated[:-1])
    due = [json.loads(m.run("due", "--json", now=later).stdout) for m in (laptop, desktop)]
    assert due[0] == due[1] and due[1]["new"] == 1  # the undone card is new again there
    _clean(desktop, later)


def test_an_undo_of_a_rating_rated_again_since_on_the_other_machine_replays_the_card(
    tmp_path, content_copy
):
    """The desktop imported the laptop's rating and rated the card again on top of it; then
    the laptop undid its rating. The undo reaches a rating that is not the card's latest on
    the desktop: the desktop replays the card from the ratings that stand (its own), as the
    laptop does once it imports that one, and neither's doctor finds a state to repair."""
    _first_card_only(content_copy)
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    assert laptop.review(NOW) == ["bias-concept"]
    laptop.sync(desktop, NOW + 5 * MINUTE, tmp_path)
    assert desktop.review(NOW + 15 * MINUTE, key="1") == ["bias-concept"]  # due: its step
    assert "undone: bias-concept Good" in laptop.run("undo", now=NOW + 20 * MINUTE).stdout

    there, here = laptop.sync(desktop, NOW + 30 * MINUTE, tmp_path)

    later = NOW + 40 * MINUTE
    history = desktop.history(later)
    assert [(card, rating) for card, _, rating in history] == [("bias-concept", 1)]
    assert history == laptop.history(later)
    assert there["undos_applied"] == 1 and here["added"] == 1
    due = [json.loads(m.run("due", "--json", now=later).stdout) for m in (laptop, desktop)]
    assert due[0] == due[1]
    fresh = Machine(tmp_path / "fresh", content_copy)  # the same ratings, never undone
    fresh.run("import-reviews", str(tmp_path / "theirs.csv"), now=later)
    assert json.loads(fresh.run("due", "--json", now=later).stdout) == due[1]
    _clean(desktop, later)
    _clean(laptop, later)


def test_a_rating_undone_before_the_other_machine_had_it_never_becomes_one_there(
    tmp_path, content_copy
):
    """A rating undone before any sync reaches the desktop marked undone: it is logged there
    undone, no rating, so that an export made before the undo (an old copy in a sync folder)
    does not bring it back to life there either."""
    _first_card_only(content_copy)
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    assert laptop.review(NOW) == ["bias-concept"]
    stale = tmp_path / "stale.csv"
    laptop.run("export-reviews", str(stale), now=NOW + MINUTE)
    laptop.run("undo", now=NOW + 2 * MINUTE)

    there, _ = laptop.sync(desktop, NOW + 3 * MINUTE, tmp_path)
    said = desktop.run("import-reviews", str(stale), now=NOW + 4 * MINUTE).stdout
    for machine in (laptop, desktop):
        assert machine.history(NOW + 5 * MINUTE) == []
        assert json.loads(machine.run("due", "--json", now=NOW + 5 * MINUTE).stdout)["new"] == 1
    assert "1 of them ratings undone in your log, which stay undone" in " ".join(said.split())
    assert (there["rows"], there["added"], there["undone_added"], there["cards"]) == (1, 0, 1, 0)
    _clean(desktop, NOW + 5 * MINUTE)


def _edited(root: Path) -> None:
    """The content `root` after a pull that rewords bias-concept's answer and changes what
    add-one's checker tests."""
    card = root / "cards" / "basics" / "bias-concept.yaml"
    card.write_text(card.read_text().replace("shifts the threshold", "moves the threshold"))
    module = root / "solutions" / "arith.py"
    text = module.read_text()
    assert "(-3, 0, 1, 41, 10**12)" in text
    module.write_text(text.replace("(-3, 0, 1, 41, 10**12)", "(-3, 0, 1, 41, 10**12, 7)"))


def _hashes(machine: Machine, now: datetime) -> list[tuple[str, str, str]]:
    """(card, time, content hash) of each review, as `history --json` shows them."""
    found = json.loads(machine.run("history", "--json", now=now).stdout)
    return sorted((r["card"], r["reviewed_at"], r["content_hash"]) for r in found)


def test_an_import_records_the_text_the_review_was_made_on(tmp_path, content_copy):
    """The desktop pulled an edit of two cards the laptop then reviewed on their old text
    (and an old checker). The import recorded the desktop's text as the one reviewed, so the
    desktop, which never showed the new text, flagged neither card: it records the laptop's
    hashes (a coding card's `text+starter+checker` whole), and flags both."""
    laptop = Machine(tmp_path / "laptop", FIXTURE_CONTENT)
    desktop = Machine(tmp_path / "desktop", content_copy)
    _edited(content_copy)
    rated = laptop.review(NOW)
    assert {"bias-concept", "add-one"} <= set(rated)
    laptop.sync(desktop, NOW + 10 * MINUTE, tmp_path)

    later = NOW + timedelta(days=30)  # every card due again
    recorded = _hashes(laptop, later)
    assert _hashes(desktop, later) == recorded
    coding = [digest for card, _, digest in recorded if card == "add-one"]
    assert len(coding) == 1 and coding[0].count("+") == 2  # text+starter+checker
    desktop.review(later)
    assert "edited since your last review" in desktop.fronts["bias-concept"]
    assert "edited since your last review: its checker" in desktop.fronts["add-one"]
    assert "edited since" not in desktop.fronts["poisson-concept"]


def test_a_machine_that_pulls_an_edit_after_importing_its_review_is_not_flagged(
    tmp_path, content_copy
):
    """The laptop reviewed the edited cards; the desktop imported those reviews before it
    pulled the edit, and recorded its old text as the one reviewed: once it pulled the edit,
    it flagged cards the learner had reviewed on the new text."""
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", FIXTURE_CONTENT)
    _edited(content_copy)
    laptop.review(NOW)
    laptop.sync(desktop, NOW + 10 * MINUTE, tmp_path)
    desktop.content = content_copy  # the desktop pulls the edit

    later = NOW + timedelta(days=30)
    assert _hashes(desktop, later) == _hashes(laptop, later)
    desktop.review(later)
    assert {"bias-concept", "add-one"} <= set(desktop.fronts)
    assert not [card for card, front in desktop.fronts.items() if "edited since" in front]


def test_a_rating_given_on_a_rating_an_import_took_back_is_not_undone_to_a_stale_state(
    tmp_path, content_copy
):
    """The laptop rated a card on top of the desktop's rating, which the desktop then undid;
    the laptop's import took that one back and rescheduled the card without it. An undo of
    the laptop's rating would put back the state it was given on, the desktop's rating in it,
    which no replay of the log gives: it is refused, and the card keeps the log's state."""
    _first_card_only(content_copy)
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    assert desktop.review(NOW) == ["bias-concept"]
    desktop.sync(laptop, NOW + 5 * MINUTE, tmp_path)
    assert "undone: bias-concept Good" in desktop.run("undo", now=NOW + 10 * MINUTE).stdout
    assert laptop.review(NOW + 15 * MINUTE) == ["bias-concept"]  # due: its step
    desktop.sync(laptop, NOW + 20 * MINUTE, tmp_path)

    refused = " ".join(laptop.fails("undo", now=NOW + 25 * MINUTE).split())
    assert "an import took back an earlier rating of bias-concept" in refused
    assert "cannot be undone" in refused
    _clean(laptop, NOW + 30 * MINUTE)
    assert laptop.history(NOW + 30 * MINUTE) == desktop.history(NOW + 30 * MINUTE)


def test_a_review_made_on_a_machine_whose_clock_is_a_little_ahead_is_imported_and_said(
    tmp_path,
):
    """The laptop's clock is 2 minutes ahead of the desktop's (it slept, no network time): its
    ratings, exported and imported on the desktop at once, were "in the future" there, and the
    whole file was refused. Reviews up to 5 minutes ahead are taken, as Anki's sync takes two
    clocks so far apart, and the import says how many and how far, that a clock is off; the
    dry run says the same, a second import adds nothing, and the states are the log's."""
    laptop = Machine(tmp_path / "laptop", FIXTURE_CONTENT)
    desktop = Machine(tmp_path / "desktop", FIXTURE_CONTENT)
    ahead = 2 * MINUTE
    rated = laptop.review(NOW + ahead)
    export = tmp_path / "laptop.csv"
    laptop.run("export-reviews", str(export), now=NOW + ahead)

    tried = json.loads(
        desktop.run("import-reviews", str(export), "--json", "--dry-run", now=NOW).stdout
    )
    said = " ".join(desktop.run("import-reviews", str(export), now=NOW).stdout.split())
    assert f"imported {len(rated)} of {len(rated)} reviews" in said
    assert (
        f"{len(rated)} reviews of the file are ahead of this machine's clock, the latest by" in said
    )
    assert "one of the two machines' clocks is off" in said
    again = json.loads(desktop.run("import-reviews", str(export), "--json", now=NOW).stdout)
    assert (again["added"], again["cards"]) == (0, 0)
    assert {**tried, "dry_run": False, "added": 0, "duplicates": len(rated), "cards": 0} == again
    assert tried["ahead_of_clock"] == len(rated) and 0 < tried["most_ahead_seconds"] <= 120
    assert desktop.history(NOW) == laptop.history(NOW + ahead)
    _clean(desktop, NOW)


def test_a_review_more_than_five_minutes_ahead_refuses_the_file_with_the_clock_to_set_right(
    tmp_path,
):
    """Past 5 minutes a clock is set wrong: the file is refused whole, the line named, how far
    ahead, and the fix (this clock, or the other's, which kept its reviews' times: the file
    imports once this clock is no more than 5 minutes behind them)."""
    laptop = Machine(tmp_path / "laptop", FIXTURE_CONTENT)
    desktop = Machine(tmp_path / "desktop", FIXTURE_CONTENT)
    laptop.review(NOW + 6 * MINUTE)
    export = tmp_path / "laptop.csv"
    laptop.run("export-reviews", str(export), now=NOW + 6 * MINUTE)

    refused = " ".join(desktop.fails("import-reviews", str(export), now=NOW).split())
    assert "Traceback" not in refused
    assert re.search(
        r"line 2: review_time '[^']+' is 6 min( \d+ s)? ahead of this machine", refused
    )
    assert "more than the 5 minutes two machines' clocks may be apart" in refused
    assert "Set this machine's clock right" in refused and "this file imports from" in refused
    assert desktop.history(NOW) == []


def test_a_card_whose_imported_review_is_a_little_ahead_is_rated_here_and_both_agree(
    tmp_path, content_copy
):
    """The desktop took the laptop's rating, 2 minutes ahead of its own clock, and rated the
    card at once (learnt ahead: its step due within the session's window): the rating was
    refused, "the system clock is behind". It is logged just after the laptop's, so that the
    log stays in time order: the desktop's states are its log's, and once synced back both
    machines hold the same history and schedule."""
    _first_card_only(content_copy)
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    ahead = 2 * MINUTE
    assert laptop.review(NOW + ahead) == ["bias-concept"]
    laptop.run("export-reviews", str(tmp_path / "laptop.csv"), now=NOW + ahead)
    desktop.run("import-reviews", str(tmp_path / "laptop.csv"), now=NOW)

    assert desktop.review(NOW + 30 * SECOND) == ["bias-concept"]
    (_, first, _), (_, second, _) = sorted(desktop.history(NOW + MINUTE), key=lambda r: r[1])
    assert datetime.fromisoformat(second) - datetime.fromisoformat(first) == MICROSECOND
    _clean(desktop, NOW + MINUTE)
    desktop.sync(laptop, NOW + MINUTE, tmp_path)  # (the laptop's clock: 2 minutes ahead)
    later = NOW + timedelta(days=3)
    assert laptop.history(later) == desktop.history(later)
    due = [json.loads(m.run("due", "--json", now=later).stdout) for m in (laptop, desktop)]
    assert due[0] == due[1]
    _clean(laptop, later)
    _clean(desktop, later)


def test_a_rating_undone_by_a_clock_ahead_is_refused_until_then_not_logged_for_later(
    tmp_path, content_copy
):
    """The laptop's clock is an hour ahead: its undo of a rating is timed an hour after the
    desktop's clock. The desktop logged the undone rating at that time, then rated the card
    (new to it) and undid that at once: refused, "an import took back an earlier rating of
    bias-concept since this one", though nothing was taken back from under it (its rating was
    of a new card). A time undone more than 5 minutes ahead of the clock is a bad row, as a
    review's time is: the file is refused, naming the line and the clocks, and imports once
    the desktop's clock is near enough; a rating given after that undoes."""
    _first_card_only(content_copy)
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    ahead = timedelta(hours=1)  # the laptop's clock, against the desktop's
    assert laptop.review(NOW + ahead) == ["bias-concept"]
    laptop.run("undo", now=NOW + ahead + 30 * MINUTE)
    export = tmp_path / "laptop.csv"
    laptop.run("export-reviews", str(export), now=NOW + ahead + 31 * MINUTE)

    early = NOW + 65 * MINUTE  # the desktop's clock: after the review, before the undo
    refused = " ".join(desktop.fails("import-reviews", str(export), now=early).split())
    assert f"{export}, line 2: undone_at" in refused
    assert (
        "25 min ahead of this machine's clock" in refused
        and "one of the two clocks is off" in refused
    )
    assert desktop.history(early) == []

    later = NOW + 2 * ahead  # past the laptop's undo
    said = json.loads(desktop.run("import-reviews", str(export), "--json", now=later).stdout)
    assert said["undone_added"] == 1
    assert desktop.review(later + MINUTE) == ["bias-concept"]
    assert "undone: bias-concept Good" in desktop.run("undo", now=later + 2 * MINUTE).stdout
    _clean(desktop, later + 3 * MINUTE)


def test_a_rating_undone_and_given_again_on_a_review_a_little_ahead_syncs_as_given(
    tmp_path, content_copy
):
    """The desktop rated Again on the laptop's rating, 2 minutes ahead of its clock (logged
    just after it), synced, then undid it and rated Easy: logged at the same microsecond as
    the Again it took back. The export, whose rows are a card and a time, carried one of the
    two: the laptop kept Again, the desktop Easy, each import telling of a conflict. The
    second rating is logged after the first, and the laptop takes back the Again and takes
    the Easy: both hold one history."""
    _first_card_only(content_copy)
    laptop = Machine(tmp_path / "laptop", content_copy)
    desktop = Machine(tmp_path / "desktop", content_copy)
    laptop.review(NOW + 2 * MINUTE)
    laptop.run("export-reviews", str(tmp_path / "laptop.csv"), now=NOW + 2 * MINUTE)
    desktop.run("import-reviews", str(tmp_path / "laptop.csv"), now=NOW)
    assert desktop.review(NOW + 30 * SECOND, key="1") == ["bias-concept"]
    desktop.sync(laptop, NOW + 40 * SECOND, tmp_path)
    assert "undone: bias-concept Again" in desktop.run("undo", now=NOW + 50 * SECOND).stdout
    assert desktop.review(NOW + MINUTE, key="4") == ["bias-concept"]
    _clean(desktop, NOW + MINUTE)

    there, here = desktop.sync(laptop, NOW + 3 * MINUTE, tmp_path)
    assert there["conflicts"] == here["conflicts"] == 0
    assert there["undos_applied"] == 1 and there["added"] == 1
    later = NOW + timedelta(days=3)
    assert [rating for _, _, rating in laptop.history(later)] == [3, 4]
    assert laptop.history(later) == desktop.history(later)
    due = [json.loads(m.run("due", "--json", now=later).stdout) for m in (laptop, desktop)]
    assert due[0] == due[1]
    _clean(laptop, later)
    _clean(desktop, later)


def test_a_conflicting_row_under_a_renamed_cards_old_id_is_named_by_both_ids(
    tmp_path, content_copy
):
    """An export made before a rename, its rating edited by hand, imported once the card is
    renamed: the row left out was named by the new id alone, which the file does not hold,
    so the learner could not find the row it meant. It names the old id too."""
    _first_card_only(content_copy)
    renamed = tmp_path / "renamed"
    shutil.copytree(content_copy, renamed)
    rename(renamed, "bias-concept", "neuron-bias")
    desktop = Machine(tmp_path / "desktop", content_copy)
    assert desktop.review(NOW) == ["bias-concept"]
    exported = tmp_path / "reviews.csv"
    desktop.run("export-reviews", str(exported), now=NOW)
    header, row = exported.read_text().splitlines()
    card, rating, rest = row.split(",", 2)
    assert (card, rating) == ("bias-concept", "3")
    exported.write_text(f"{header}\n{card},1,{rest}\n")
    desktop.content = renamed  # the desktop pulls the rename
    said = desktop.run("import-reviews", str(exported), now=NOW + timedelta(hours=1)).stdout
    said = " ".join(said.split())
    assert "neuron-bias (bias-concept before its rename) at " in said
    assert ": 1 in the file, 3 in your log" in said
