"""A review session open while a card is renamed (`renamed_from:`) and another command moves
its history onto the new id: the session's rating of the card under the id it had is refused,
as one made in another session is, where it was saved as a new card's."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from rich.console import Console

from studycli.cli.review_session import ReviewSession
from studycli.content.loader import load_content
from studycli.study.api import Study

from .conftest import FIXTURE_CONTENT
from .study_support import NO_FUZZ, NOW

RENAMES = {"bias-concept": "neuron-bias"}  # as `due` opens the database once the card is renamed


@pytest.mark.parametrize("moved", ["before it is shown", "while it is on screen"])
def test_a_card_whose_history_moved_while_the_session_ran_is_not_rated_as_new(tmp_path, moved):
    """bias-concept, reviewed 40 days ago, is renamed neuron-bias, and `due` (the new content)
    moves its history while the session (the old content) shows add-one, or bias-concept
    itself. Rated under bias-concept it was a new card ("Good: due again in 10m", and back
    within the session); the next command merged that review into neuron-bias's history."""
    db = tmp_path / "db.sqlite3"
    content = load_content(FIXTURE_CONTENT)
    cards = [content.cards["add-one"], content.cards["bias-concept"]]
    if moved == "while it is on screen":
        cards.reverse()  # the first reviewed is due first, and shown first
    with Study.open(db, NO_FUZZ) as before:
        for days, card in enumerate(cards):
            reviewed = NOW - timedelta(days=41 - days)
            before.rate(card, 3, reviewed)
            before.rate(card, 3, reviewed + timedelta(minutes=10))

    def due_moves_the_history() -> None:
        with Study.open(db, NO_FUZZ, renames=RENAMES):
            pass

    def keys():
        if moved == "before it is shown":
            yield " "  # add-one's answer; meanwhile `due`
            due_moves_the_history()
            yield "3"
        yield " "  # bias-concept's answer (or add-one's, with the rename still to come)
        if moved == "while it is on screen":
            due_moves_the_history()
        yield "3"
        yield from " 3" * 2 + "q"  # whatever else comes (the other card, or bias-concept back)

    pressed = keys()
    console = Console(record=True, width=100, color_system=None)
    with Study.open(db, NO_FUZZ) as study:
        summary = ReviewSession(
            console, study, content, cards, clock=lambda: NOW, getkey=lambda: next(pressed)
        ).run()
        logged = [(r.card_id, r.rating) for r in study.history() if r.reviewed_at == NOW]
    said = " ".join(console.export_text().split())
    assert (
        "not saved: bias-concept's history was moved to neuron-bias while this session ran "
        "(its card was renamed: `renamed_from` in its file)" in said
    ), said
    assert "bias-concept" not in [card_id for card_id, _ in logged]
    assert logged == [("add-one", 3)] and summary.reviewed == 1
    assert said.count("Why a neuron needs a bias") == 1  # (not back again)


def test_a_history_moved_onto_the_card_since_its_content_was_read_refuses_its_rating(
    tmp_path, content_copy
):
    """The other way round: this session reads the new content (neuron-bias), a program with
    the old content rates bias-concept meanwhile, and a third command moves that rating onto
    neuron-bias: the card's schedule changed since this session read it, and a rating now
    counts a second review moments after the first, as one rated in another session does."""
    from studycli.errors import HistoryMoved

    from .test_study_renames import rename

    db = tmp_path / "db.sqlite3"
    old = load_content(FIXTURE_CONTENT).cards["bias-concept"]
    rename(content_copy, "bias-concept", "neuron-bias")
    new = load_content(content_copy).cards["neuron-bias"]
    with Study.open(db, NO_FUZZ, renames=RENAMES) as study:
        with Study.open(db, NO_FUZZ) as stale:  # the old content
            stale.rate(old, 4, NOW - timedelta(minutes=1))
        with Study.open(db, NO_FUZZ, renames=RENAMES):  # `due`, with the new content
            pass
        with pytest.raises(HistoryMoved) as refused:
            study.rate(new, 3, NOW)
        assert study.history("neuron-bias")[0].rating == 4  # (nothing written)
    said = refused.value.said("this session", lambda _: "`studycli review` again")
    assert said == (
        "bias-concept's history was moved onto neuron-bias while this session ran (its ratings "
        "under the id the card had before: `renamed_from`), and the card's schedule changed "
        "since it was read: `studycli review` again studies it again"
    )
    with Study.open(db, NO_FUZZ, renames=RENAMES) as later:  # (a Study opened since: rates)
        assert later.rate(new, 3, NOW).review.card_id == "neuron-bias"


def test_a_solve_records_nothing_where_the_cards_history_moved_while_it_ran(
    cli, tmp_path, content_copy, monkeypatch
):
    """`solve add-one` with the old content while add-one is renamed plus-one and `due` moves
    its history: the pass was recorded under add-one as a new card's."""
    from studycli.cli import solve_flow

    from .test_study_renames import rename

    attempt = tmp_path / "attempt.py"
    attempt.write_text("def add_one(x):\n    return x + 1\n")
    solve = ("--content", FIXTURE_CONTENT, "solve", "add-one", "--file", attempt)
    assert "recorded Good" in cli(*solve).stdout  # add-one has a history
    rename(content_copy, "add-one", "plus-one")
    checked = solve_flow.check

    def check_while_due_moves_the_history(*args, **kwargs):
        outcome = checked(*args, **kwargs)
        due = cli("--content", content_copy, "due")
        assert "add-one -> plus-one" in " ".join(due.output.split()), due.output
        return outcome

    monkeypatch.setattr(solve_flow, "check", check_while_due_moves_the_history)
    result = cli(*solve)
    said = " ".join(result.stdout.split())
    assert (
        "not recorded: add-one's history was moved to plus-one while this solve ran (its card "
        "was renamed: `renamed_from` in its file), and rated as it is here it would start over "
        f"as a new card: `studycli --content {FIXTURE_CONTENT} solve plus-one` studies it as "
        f"plus-one; your attempt stays in {attempt}"
    ) in said, said
    history = cli("--content", content_copy, "history", "--json").stdout
    assert [entry["card"] for entry in json.loads(history)] == ["plus-one"]
