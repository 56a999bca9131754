"""`studycli cram`: weakest first, due or not; ratings logged as cram and never moving the
schedule (no replay, no daily limit, no export, no fit); the review session reused with a
cram queue, in-process and through a real pseudo-terminal."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from datetime import timedelta

import pexpect
import pytest
from fsrs import Rating
from rich.console import Console

from studycli.cli.review_session import ReviewSession
from studycli.content.loader import load_content
from studycli.errors import StoreError
from studycli.study import rating as core
from studycli.study.api import Study, study_items
from studycli.study.cram import CramQueue, cram_order
from studycli.study.store import Store

from .conftest import FIXTURE_CONTENT, REPO_ROOT, terminal_env, write_card
from .study_support import NO_FUZZ, NOW, fixture_content, rows


def items():
    return study_items(fixture_content().cards.values())


@pytest.fixture
def db(tmp_path):
    """bias-concept learnt 50 days ago (its recall has faded), add-one yesterday (fresh),
    poisson-concept suspended, triangle-derivation never studied."""
    path = tmp_path / "db.sqlite3"
    content = fixture_content()
    with Study.open(path, NO_FUZZ) as study:
        study.rate(content.get("bias-concept"), 4, NOW - timedelta(days=50))
        study.rate(content.get("add-one"), 4, NOW - timedelta(days=1))
        study.rate(content.get("poisson-concept"), 4, NOW - timedelta(days=60))
        study.set_suspended([content.get("poisson-concept")], True)
    return path


def test_weakest_first_new_last_suspended_left_out(db):
    with Store.open(db) as store:
        order = cram_order(items(), store.states(), NOW, NO_FUZZ)
    assert [i.id for i in order] == ["bias-concept", "add-one", "triangle-derivation"]


def test_new_items_come_from_the_decks_in_turn_as_in_review_unless_new_order_is_deck():
    """Cram took its new items deck by deck whatever `new_order` said: a first cram of several
    decks held only the first deck by name. As `review`, the decks take turns by default,
    each item after its requires (numbers' cards require basics'); "deck" keeps deck by deck."""
    interleaved = cram_order(items(), {}, NOW, NO_FUZZ)
    deck_by_deck = cram_order(items(), {}, NOW, NO_FUZZ._replace(new_order="deck"))
    assert [i.id for i in interleaved] == [
        "add-one",
        "triangle-derivation",
        "bias-concept",
        "poisson-concept",
    ]
    assert [i.id for i in deck_by_deck] == [
        "add-one",
        "bias-concept",
        "poisson-concept",
        "triangle-derivation",
    ]


def test_a_card_still_being_written_is_not_crammed(db, content_copy):
    """A card `studycli new` wrote (its texts begin with TODO) came among the new cards of a
    cram session."""
    from studycli.content.card import Kind
    from studycli.content.loader import load_content
    from studycli.content.scaffold import plan_card, write_card

    content = load_content(content_copy)
    write_card(content, plan_card(content, Kind.CLOZE, "half-written", "bias", None))
    cards = load_content(content_copy).cards.values()
    assert any(card.id == "half-written" for card in cards)
    with Study.open(db, NO_FUZZ) as study:
        queue = study.cram_queue(study_items(cards), NOW)
    assert [i.id for i in queue.pending] == ["bias-concept", "add-one", "triangle-derivation"]


def test_the_queue_brings_again_back_last_and_undo_puts_things_back():
    content = fixture_content()
    a, b, c = (content.get(i) for i in ("add-one", "bias-concept", "poisson-concept"))
    queue = CramQueue([a, b, c])
    assert queue.next() == a and queue.status().startswith("cram · 3 left")
    queue.rated(a, Rating.Again)
    assert [i.id for i in queue.pending] == ["bias-concept", "poisson-concept", "add-one"]
    queue.undone(a, Rating.Again)
    assert [i.id for i in queue.pending] == ["add-one", "bias-concept", "poisson-concept"]
    queue.rated(a, Rating.Good)
    queue.undone(a, Rating.Good)
    assert [i.id for i in queue.pending] == ["add-one", "bias-concept", "poisson-concept"]


@pytest.mark.parametrize("rating", [Rating.Hard, Rating.Good, Rating.Easy])
def test_a_cram_item_rated_above_again_is_done_for_the_session(rating):
    """Only Again brings an item back at the end: Hard is a recall, if a slow one, and the
    session moves on to the other items."""
    content = fixture_content()
    a, b = content.get("add-one"), content.get("bias-concept")
    queue = CramQueue([a, b])
    queue.rated(a, rating)
    assert [i.id for i in queue.pending] == ["bias-concept"]


def _cram(db, keys: str, limit=None):
    content = fixture_content()
    console = Console(record=True, width=100, color_system=None)
    pressed = iter(keys)
    with Study.open(db, NO_FUZZ) as study:
        queue = study.cram_queue(items(), NOW, limit)
        summary = ReviewSession(
            console,
            study,
            content,
            list(content.cards.values()),
            clock=lambda: NOW,
            getkey=lambda: next(pressed),
            queue=queue,
            reschedule=False,
        ).run()
        reviews = [r for r in study.history()[::-1] if r.method == "cram"]
    return summary, reviews, console.export_text()


def test_cram_ratings_are_logged_and_leave_the_schedule_alone(db):
    with Store.open(db) as store:
        before = rows(store)
    # bias-concept: Again (comes back last); add-one: Good; triangle: four steps, answer, Easy;
    # bias-concept again: Good
    summary, reviews, text = _cram(db, " 1 3" + "\r" * 4 + "4 3")
    assert [(r.card_id, r.rating, r.method) for r in reviews] == [
        ("bias-concept", 1, "cram"),
        ("add-one", 3, "cram"),
        ("triangle-derivation", 4, "cram"),
        ("bias-concept", 3, "cram"),
    ]
    assert "cram · 3 left · your schedule is not changed" in text
    assert "Again: logged, schedule unchanged (it comes back later in this session)" in text
    assert "due again in" not in text and "Cram done: every card was rated." in text
    assert summary.reviewed == 4
    with Store.open(db) as store:
        after = rows(store)
        assert after["cards"] == before["cards"]  # no state moved, not even the new card's
        assert core.rebuild(store) == store.states()  # a replay skips cram ratings
        assert store.counts_since(NOW - timedelta(hours=1)) == {}  # no daily limit used


def test_a_cram_rating_reads_the_state_it_keeps_for_undo_under_its_write_lock(db, monkeypatch):
    """A cram rating read the card's state, then took the write lock to log it with that
    state as the one to undo back to: another session's rating of the card could come in
    between, and undoing the cram then put the card back as it was before that rating, a
    state that is not the log's (the doctor called it drift). Here the other session rates
    the card as soon as it can once the cram has read the state: at once where the cram holds
    no lock (it is done before the cram logs), or, where it holds the write lock, once it
    lets go (the cram is logged first, and the other rating then is the card's latest)."""
    card = fixture_content().get("add-one")
    with Store.open(db) as first:

        def rate_in_another_session() -> None:
            with Store.open(db) as second:
                core.rate(second, card, 1, NOW + timedelta(seconds=1), NO_FUZZ)

        racer = threading.Thread(target=rate_in_another_session)
        read = first.state

        def state_then_another_rating(card_id: str):
            found = read(card_id)
            if racer.ident is None:  # (once)
                racer.start()
                if not first.conn.in_transaction:  # nothing keeps it out: it is done first
                    racer.join(timeout=60)
            return found

        monkeypatch.setattr(first, "state", state_then_another_rating)
        crammed = core.cram(first, card, 3, NOW + timedelta(seconds=2), NO_FUZZ)
        racer.join(timeout=60)
        assert crammed.id is not None and not racer.is_alive()
        with contextlib.suppress(StoreError):  # (refused where the other rating came after)
            core.undo(first, crammed.id, NOW + timedelta(seconds=3))
        assert core.rebuild(first) == first.states()


def test_the_rating_keys_show_no_intervals(db):
    _, _, text = _cram(db, " q")
    assert " 1  Again    2  Hard    3  Good    4  Easy" in text
    assert "Again 1m" not in text


def test_undo_in_a_cram_session_and_the_limit(db):
    summary, reviews, text = _cram(db, " 1u 3q", limit=1)
    assert "undone: bias-concept is back as it was" in text
    assert [(r.card_id, r.rating) for r in reviews] == [("bias-concept", 3)]
    assert "cram · 1 left" in text and "add-one" not in text


def test_the_end_line_says_more_cards_are_due_where_review_has_some(tmp_path):
    """Cram's end line said when the next studied card falls due ("next due in 14d") while
    the day's new cards waited for `review`, which says "more cards are due now" then; with
    every card studied and none due, it says when the next is."""
    db = tmp_path / "db.sqlite3"
    with Study.open(db, NO_FUZZ) as study:
        study.rate(fixture_content().get("add-one"), 4, NOW - timedelta(days=1))
    assert "more cards are due now" in _cram(db, "q")[2]
    with Study.open(db, NO_FUZZ) as study:
        for item in items():
            study.rate(item, 4, NOW - timedelta(days=1))
    text = _cram(db, "q")[2]
    assert "next due in" in text and "due now" not in text, text


def test_cram_ratings_are_not_exported(db, tmp_path):
    with Study.open(db, NO_FUZZ) as study:
        study.cram_rate(fixture_content().get("add-one"), 1, NOW)
        assert study.export_reviews(tmp_path / "out.csv") == (3, 0)
        assert [r.method for r in study.history()][:1] == ["cram"]


def test_cram_needs_a_terminal(cli):
    result = cli("--content", FIXTURE_CONTENT, "cram")
    assert result.exit_code == 1 and "reads keys from a terminal" in result.stderr


def _cram_in_a_terminal(
    db, tmp_path, content=FIXTURE_CONTENT, at=NOW, selection=("--deck", "basics")
) -> pexpect.spawn:
    """`studycli cram --deck basics` (or `selection`) on a pseudo-terminal, at `at`."""
    config = tmp_path / "settings.toml"
    config.write_text("enable_fuzzing = false\n")
    environment = terminal_env(db, config, tmp_path / "home", at)
    return pexpect.spawn(
        sys.executable,
        ["-m", "studycli", "--content", str(content), "cram", *selection],
        env=environment,
        cwd=str(REPO_ROOT),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 100),
    )


def test_a_cram_session_in_a_real_terminal(db, tmp_path):
    child = _cram_in_a_terminal(db, tmp_path)
    try:
        child.expect("cram · 2 left")
        child.expect("Why a neuron needs a bias")  # the weaker of the two basics cards first
        child.expect("q quit")
        child.send(" ")
        child.expect("4 +Easy")
        child.send("3")
        child.expect("Good: logged, schedule unchanged")
        child.expect("cram · 1 left")
        child.expect("Add one")
        child.expect("q quit")
        child.send("q")
        child.expect("1 review · again 0%")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
    with Store.open(db) as store:
        [latest] = store.reviews(limit=1)
        assert (latest.card_id, latest.method, latest.rating) == ("bias-concept", "cram", 3)


def test_a_card_crammed_in_a_real_terminal_is_flagged_as_edited_no_more(
    db, tmp_path, content_copy, cli
):
    """The session shows the edited card with its flag; once it is rated, its text counts as
    seen: `show` and the next session flag it no more, its schedule untouched."""
    card = content_copy / "cards" / "basics" / "bias-concept.yaml"
    card.write_text(card.read_text().replace("which decision boundaries", "which boundaries"))
    shown = cli("--content", content_copy, "--db", db, "show", "bias-concept")
    assert shown.stdout.splitlines()[0] == "edited since your last review"
    with Store.open(db) as store:
        before = store.state("bias-concept")
    child = _cram_in_a_terminal(db, tmp_path, content_copy)
    try:
        child.expect("edited since your last review")
        child.expect("Why a neuron needs a bias")
        child.expect("q quit")
        child.send(" ")
        child.expect("4 +Easy")
        child.send("3")
        child.expect("Good: logged, schedule unchanged")
        child.expect("Add one")  # (unedited: no flag above it)
        child.expect("q quit")
        assert "edited since" not in child.before
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
    shown = cli("--content", content_copy, "--db", db, "show", "bias-concept")
    assert shown.exit_code == 0 and "Why a neuron needs a bias" in shown.stdout
    assert "edited since" not in shown.stdout
    with Study.open(db, NO_FUZZ) as study:
        after = study.store.state("bias-concept")
        assert (after.fsrs, after.reps) == (before.fsrs, before.reps)
        assert study.flags(load_content(content_copy).get("bias-concept")) == []


def test_cram_limit_counts_cards_as_its_help_and_reviews_say(db):
    """`cram --limit`'s help said only "At most this many cards." where `review --limit`'s says
    it counts cards, not reviews: a cram card rated Again comes back, so `--limit 1` can log
    two reviews. Both helps name that unit, and the session does what they say."""
    from typer.main import get_command

    from studycli.cli.help_panels import whole_app

    commands = get_command(whole_app()).commands  # type: ignore[attr-defined]
    helps = {
        name: next(p.help for p in commands[name].params if p.name == "limit")
        for name in ("cram", "review")
    }
    unit = "this many study items (a cloze card's deletions each), not reviews"
    assert all(unit in " ".join(text.split()) for text in helps.values()), helps
    summary, reviews, _ = _cram(db, " 1 3q", limit=1)
    assert [(r.card_id, r.rating) for r in reviews] == [("bias-concept", 1), ("bias-concept", 3)]


def test_a_card_buried_in_review_is_left_out_of_cram_and_takes_no_place_in_its_limit(db):
    """`review` leaves a buried card out, and its `--limit` gives a buried card's place to the
    next; cram showed the card `b` had buried in `review` that day, first and counted in
    `--limit 1`, the next card left out. Cram leaves it out, as it leaves a suspended card
    out (and as Anki's filtered decks pull in no buried card), until the next study day."""
    from typer.main import get_command

    from studycli.cli.help_panels import whole_app

    with Study.open(db, NO_FUZZ) as study:
        back = study.bury(fixture_content().get("bias-concept"), NOW)
    _, reviews, _ = _cram(db, " 3", limit=1)
    assert [r.card_id for r in reviews] == ["add-one"]
    with Store.open(db) as store:
        order = cram_order(items(), store.states(), back, NO_FUZZ)
    with Study.open(db, NO_FUZZ) as study:
        queue = study.cram_queue(items(), back, 1)  # the next study day: it is back
    assert queue.next() is not None and queue.next().id == order[0].id == "bias-concept"
    commands = get_command(whole_app()).commands  # type: ignore[attr-defined]
    limit = next(p.help for p in commands["cram"].params if p.name == "limit")
    assert "buried or suspended" in " ".join(limit.split()), limit


def test_the_deletions_review_holds_back_as_siblings_are_left_out_of_cram(
    db, tmp_path, content_copy
):
    """`review` holds back the other deletions of a cloze card with one rated today (their
    answers were on its screen), or buried, until the next study day; cram showed them (as
    Anki's filtered decks pull in no buried sibling). The deletion rated stays, and a cram
    rating holds none back; the next study day they are crammed again. Cram's help says so."""
    from typer.main import get_command

    from studycli.cli.help_panels import whole_app

    write_card(
        content_copy, "basics", "bias-cloze",
        "id: bias-cloze\nkind: cloze\ntopic: bias\ntitle: Bias moments\n"
        "prompt: 'A bias {{c1::shifts}} the boundary; {{c2::zero}} keeps it at the origin; "
        "{{c3::one}} per unit'\n",
    )  # fmt: skip
    cloze = load_content(content_copy).get("bias-cloze")
    first, second, third = cloze.study_items()

    def crammed(moment, settings=NO_FUZZ) -> list[str]:
        with Study.open(db, settings) as study:
            queue = study.cram_queue(study_items([cloze]), moment)
        return [item.id for item in queue.pending]

    with Study.open(db, NO_FUZZ) as study:
        study.cram_rate(first, 3, NOW)  # (a cram rating holds no sibling back)
    assert sorted(crammed(NOW)) == [first.id, second.id, third.id]
    with Study.open(db, NO_FUZZ) as study:
        study.rate(first, 3, NOW)
        study.bury(third, NOW)
    assert crammed(NOW + timedelta(minutes=1)) == [first.id]
    assert sorted(crammed(NOW, NO_FUZZ._replace(bury_siblings=False))) == [first.id, second.id]
    assert sorted(crammed(NOW + timedelta(days=1))) == [first.id, second.id, third.id]
    child = _cram_in_a_terminal(db, tmp_path, content_copy, NOW + timedelta(minutes=1))
    try:  # bias-concept, add-one and bias-cloze#c1: its other deletions wait
        child.expect("cram · 3 left")
        child.expect("q quit")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
    commands = get_command(whole_app()).commands  # type: ignore[attr-defined]
    said = " ".join(commands["cram"].help.split())
    assert "the other deletions of a cloze card with one studied today" in said, said
    assert "Cram ratings bury no sibling" in said, said


def test_a_cram_with_every_card_waiting_for_the_next_day_says_so(db, tmp_path, content_copy):
    """A cram of a cloze card whose deletions all wait for the next study day (one studied
    and buried, its siblings held back) said only "Nothing to cram.", the learner's three
    deletions nowhere, no reason given. It says how many wait, and why."""
    write_card(
        content_copy, "clozes", "bias-cloze",
        "id: bias-cloze\nkind: cloze\ntopic: bias-moments\ntitle: Bias moments\n"
        "prompt: 'A bias {{c1::shifts}} the boundary; {{c2::zero}} keeps it at the origin; "
        "{{c3::one}} per unit'\n",
    )  # fmt: skip
    first, *_ = load_content(content_copy).get("bias-cloze").study_items()
    with Study.open(db, NO_FUZZ) as study:
        study.rate(first, 3, NOW)
        study.bury(first, NOW)
    later, selection = NOW + timedelta(minutes=1), ("--topic", "bias-moments")
    child = _cram_in_a_terminal(db, tmp_path, content_copy, later, selection)
    try:
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
    said = " ".join(child.before.split())
    assert "Nothing to cram: 3 study items selected wait for the next study day" in said, said
