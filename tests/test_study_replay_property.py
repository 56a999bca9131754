"""Replay consistency, property-style: after any sequence of live ratings, cram ratings (checked
or not), undos, imports (of logs with and without undone rows, into a log with and without
cram ratings of their cards), renames and a cloze deletion split off (`renamed_from`), new FSRS
parameters (every memory state recomputed), edits of the cards between steps and a clock set
back, every stored state is `rating.rebuild`'s and the doctor finds nothing differing from the
log. Seeded, a real SQLite store and a copy of the fixture deck (a concept, a coding card, a
cloze card); each seed runs a bounded number of steps, and a failure lists the steps taken."""

from __future__ import annotations

import os
import random
from datetime import timedelta

import pytest
from fsrs import Rating

from studycli.content.loader import load_content
from studycli.errors import StudyError
from studycli.study import doctor
from studycli.study import rating as core
from studycli.study.api import Study, study_items

from .conftest import write_card
from .study_support import NO_FUZZ, NOW
from .test_study_recompute import NEW  # (other parameters)

CLOZE = (
    "id: moments-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\nprompt: |\n"
    "  E[X] = {{c1::λ}}, Var(X) = {{c2::λ::a parameter}}, and a sum is {{c3::Poisson}}.\n"
)
SPLIT = (  # the cloze card with its deletion c2 split off into a card of its own
    "id: moments-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\nprompt: |\n"
    "  E[X] = {{c1::λ}}, and a sum is {{c3::Poisson}}.\n"
)
SPLIT_OFF = (
    "id: poisson-variance\nkind: concept\ntopic: poisson\ntitle: Poisson variance\n"
    "renamed_from: [moments-cloze#c2]\nprompt: |\n  Var(X) of a Poisson(λ)?\nanswer: |\n  λ\n"
)
# (file, one text, the other): each edit step swaps one of them
EDITS = (
    ("cards/basics/bias-concept.yaml", "which decision boundaries", "which boundaries"),
    ("cards/basics/add-one.yaml", "returns `x + 1`.", "returns one more than `x`."),
    ("cards/poisson/moments-cloze.yaml", "{{c1::λ}}", "{{c1::lambda}}"),
    ("solutions/arith.py", "(-3, 0, 1, 41, 10**12)", "(-3, 0, 1, 41, 10**12, 7)"),
)
STEPS = 40
# 10 seeds of 40 steps, ~1 s each; STUDYCLI_REPLAY_SEEDS=N runs N (400 passed). Before the
# fixes that came of it, seeds 6 and 9 failed (a rating timed before a cram rating logged
# earlier), and 1, 3, 5 and 7 (a cram rating timed on the other side of a recompute)
SEEDS = range(int(os.environ.get("STUDYCLI_REPLAY_SEEDS", "10")))


class Learner:
    """A learner's database and deck, and the clock: each step one thing they may do."""

    def __init__(self, content, tmp_path, seed: int) -> None:
        self.content = content
        self.db = tmp_path / "reviews.sqlite3"
        self.other = tmp_path / "other.sqlite3"  # another machine's log, imported now and then
        self.csv = tmp_path / "other.csv"
        self.random = random.Random(seed)
        self.now = NOW
        self.renamed = False
        self.split = False
        self.parameters: tuple[float, ...] | None = None  # the defaults
        self.done: list[str] = []  # the steps taken, to say with a failure

    def _study(self, db):
        loaded = load_content(self.content)
        study = Study.open(
            db, NO_FUZZ, renames=loaded.renames, solutions_dir=loaded.solutions_dir, now=self.now
        )
        return study_items(loaded.cards.values()), study

    def step(self) -> None:
        pick = self.random.random()
        action = (
            self.rate
            if pick < 0.25
            else self.cram
            if pick < 0.45
            else self.undo
            if pick < 0.55
            else self.edit
            if pick < 0.68
            else self.clock
            if pick < 0.83
            else self.imported
            if pick < 0.93
            else self.recompute
            if pick < 0.96
            else self.rename
        )
        try:
            action()
        except StudyError as exc:  # refused, as the learner would be told: nothing written
            self.done.append(f"  refused: {type(exc).__name__}")

    def rate(self) -> None:
        items, study = self._study(self.db)
        with study:
            item = self.random.choice(items)
            rating = self.random.choice(list(Rating))
            self.done.append(f"rate {item.id} {rating.name} at {self.now}")
            study.rate(item, rating, self.now)

    def cram(self) -> None:
        items, study = self._study(self.db)
        with study:
            item = self.random.choice(items)
            checked = self.random.random() < 0.5 and item.runnable
            self.done.append(f"cram {item.id} checked={checked} at {self.now}")
            study.cram_rate(item, Rating.Good, self.now, check_status="pass" if checked else None)

    def undo(self) -> None:
        _, study = self._study(self.db)
        with study:
            latest = study.store.reviews(limit=3)
            if not latest:
                return
            review = self.random.choice(latest)
            self.done.append(f"undo {review.id} ({review.method} {review.card_id}) at {self.now}")
            study.undo(review.id, self.now)

    def edit(self) -> None:
        path, one, other = self.random.choice(EDITS)
        path = self.content / path
        if not path.exists():
            path = path.with_name("bias-neuron.yaml")  # (renamed)
        text = path.read_text(encoding="utf-8")
        if one not in text and other not in text:
            return  # (split off)
        self.done.append(f"edit {path.name}")
        path.write_text(
            text.replace(one, other) if one in text else text.replace(other, one),
            encoding="utf-8",
        )

    def clock(self) -> None:
        back = self.random.random() < 0.3
        hours = self.random.choice((0.02, 0.5, 3, 20, 50))
        self.now += timedelta(hours=-hours if back else hours)
        self.done.append(f"clock to {self.now}")

    def imported(self) -> None:
        """Another machine's ratings, at times around this one's (one of them undone there,
        now and then), exported and imported here."""
        items, study = self._study(self.other)
        with study:
            for _ in range(self.random.randint(1, 3)):
                item = self.random.choice(items)
                when = self.now - timedelta(hours=self.random.choice((0, 1, 30)))
                try:
                    rated = study.rate(item, self.random.choice(list(Rating)), when)
                except StudyError:
                    continue
                if self.random.random() < 0.2:
                    study.undo(rated.review.id, when)
            study.export_reviews(self.csv)
        items, study = self._study(self.db)
        with study:
            self.done.append(f"import at {self.now}")
            study.import_reviews(self.csv, items, self.now)

    def recompute(self) -> None:
        """New FSRS parameters saved (or the defaults put back): every memory state
        recomputed, and the recompute logged for the replay."""
        self.parameters = None if self.parameters else NEW.parameters
        with Study.open(self.db, NO_FUZZ._replace(parameters=self.parameters)) as study:
            self.done.append(f"recompute with {self.parameters and 'other'} at {self.now}")
            study.recompute_memory(self.now)

    def rename(self) -> None:
        cards = self.content / "cards"
        if not self.renamed:
            self.renamed = True
            old = cards / "basics" / "bias-concept.yaml"
            text = old.read_text(encoding="utf-8")
            old.unlink()
            (cards / "basics" / "bias-neuron.yaml").write_text(
                text.replace(
                    "id: bias-concept\n", "id: bias-neuron\nrenamed_from: [bias-concept]\n"
                ),
                encoding="utf-8",
            )
            self.done.append("rename bias-concept -> bias-neuron")
        elif not self.split:
            self.split = True
            write_card(self.content, "poisson", "moments-cloze", SPLIT)
            write_card(self.content, "poisson", "poisson-variance", SPLIT_OFF)
            self.done.append("split moments-cloze#c2 -> poisson-variance")
        else:
            return
        _, study = self._study(self.db)  # (opened with the content: the history moves)
        study.close()

    def matches_its_log(self) -> str | None:
        """What differs between the stored states and the replay of the log; None if nothing."""
        with Study.open(self.db, NO_FUZZ) as study:
            stored = study.store.states()
            rebuilt = core.rebuild(study.store)
            differing = [
                f"{card_id}: stored {stored.get(card_id)}, replayed {state}"
                for card_id, state in rebuilt.items()
                if stored.get(card_id) != state
            ]
            studied_elsewhere = [
                f"{card_id}: stored {state}, replayed none"
                for card_id, state in stored.items()
                if card_id not in rebuilt and (state.fsrs or state.reps or state.content_hash)
            ]
            report = doctor.examine(study.store, repair=False)
            said = [f"doctor: {report.to_dict()}"] if report.differs else []
        found = differing + studied_elsewhere + said
        return "\n".join(found) if found else None


@pytest.mark.parametrize("seed", SEEDS)
def test_every_state_is_the_replay_of_the_log(content_copy, tmp_path, seed):
    write_card(content_copy, "poisson", "moments-cloze", CLOZE)
    learner = Learner(content_copy, tmp_path, seed)
    for _ in range(STEPS):
        learner.step()
        differs = learner.matches_its_log()
        assert differs is None, "\n".join([f"seed {seed}, after:", *learner.done, differs])
