"""`studycli check`: prove each card's checker accepts the reference and rejects wrong answers.

For every card with a solution: the reference (and every listed correct variant) must pass
its checker; the starter and every listed wrong answer must fail it. Each of these runs as its
own isolated job (see `runner`), in parallel.

This module picks the cards to check (`checkable`) and runs their checks (`run_checks`: the
thread pools that run them on the workers, longest first by `durations`, a card whose
reference fails stopped). The jobs that verify a card and the workers they need are `plan`'s;
which check a free slot takes next is `picker`'s; a card's result is `verdict`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.content.scaffold import not_done, stubbed
from studycli.errors import StudyError

from . import durations
from .picker import Picker
from .plan import _limit, plan, warm_up
from .pool import device_workers, ready
from .runner import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    Job,
    Outcome,
    Status,
    clear_stop,
    kill_all,
    kill_jobs,
    run_job,
)
from .verdict import CardResult, _not_done_result, _unfinished, verdict


def _not_run(stuck: Outcome) -> Outcome:
    """The outcome of a check not run because its solution module's top level ran out of
    another check's time (`stuck`): that one's message, which says where it was."""
    return replace(
        stuck,
        message=f"not run: in another check of this run, solutions/{stuck.loading}.py did not "
        f"finish loading ({stuck.message}): move what its top level runs into a function",
        seconds=0.0,
        output="",
    )


def checkable(cards: list[Card], content: Content) -> list[Card]:
    """The cards among `cards` that `check` reports on: the runnable ones, and any other that
    `studycli new` wrote and that is not filled in yet; once `lint` finds nothing wrong.

    Raises:
        StudyError: `lint` reports a problem in one of them (checking it would mislead), or
            another card file has the id of one of `cards`, whatever its kind.
    """
    from studycli.content.lint import lint

    chosen = [card for card in cards if card.runnable or not_done(card, content.solutions_dir)]
    ids = {card.id for card in chosen}
    asked = {card.id: card.path for card in cards}
    # and, of any card asked for, another file with its id (a duplicate id, which lint reports
    # whatever `only` says): which card the id means is not known, and a concept card's
    # "nothing to run" hid it, even where the file left out was a coding card's
    problems = [
        problem
        for problem in lint(content, only=ids)
        if problem.card_id in ids
        or (problem.card_id in asked and problem.path != asked[problem.card_id])
    ]
    if problems:  # each with its file and line, as lint says it: no second command to learn it
        bad = sorted({problem.card_id for problem in problems if problem.card_id})
        listed = "".join(
            f"\n  {problem.location(content.root)}: {problem.message}"
            for problem in problems[:LISTED_PROBLEMS]
        )
        if len(problems) > LISTED_PROBLEMS:
            listed += f"\n  and {len(problems) - LISTED_PROBLEMS} more (`studycli lint` lists all)"
        raise StudyError(
            f"fix what `studycli lint` reports first (cards: {', '.join(bad)}):{listed}"
        )
    return chosen


LISTED_PROBLEMS = 10  # of the lint problems that stop a check, the most it lists


def run_checks(
    cards: list[Card],
    content: Content,
    *,
    jobs: int = 2,
    device: str = "cpu",
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    on_job_done: Callable[[Job, Outcome], None] | None = None,
    times: Path | None = None,
    learner_timeout: float | None = None,
    on_planned: Callable[[int], None] | None = None,
    warmed: bool = False,
) -> list[CardResult]:
    """Verify every card, running up to `jobs` isolated checks at a time (`learner_timeout`:
    see `verdict`).

    A card that is not filled in yet (see `scaffold.not_done`) is reported "not done": without
    running anything while its code is a stub (`scaffold.stubbed`), else with how its checks
    went (its texts are what is left: the author wrote the code first). Returns one
    `CardResult` per card reported, in the order of `cards`.
    With `times` (a file, see `durations`), the checks that took longest last time start first
    and this run's times are recorded there. `on_planned` is told how many checks there are
    once they are planned (a progress bar's total: `check` planned every card twice, 0.07 s
    of CPU for the shipped cards). `warmed`: the caller ran `plan.warm_up` for these cards
    (or more) already, which is not done again (0.03 s).
    """
    unfinished = {
        card.id: reasons for card in cards if (reasons := not_done(card, content.solutions_dir))
    }
    stubs = {
        card.id for card in cards if card.id in unfinished and stubbed(card, content.solutions_dir)
    }
    planned = {
        card.id: [
            replace(job, timeout=_limit(job, learner_timeout))
            for job in plan(card, content, device=device, timeout=timeout, memory_mb=memory_mb)
        ]
        for card in cards
        if card.runnable and card.id not in stubs
    }
    if on_planned is not None:
        on_planned(sum(len(card_jobs) for card_jobs in planned.values()))
    if not warmed:
        warm_up(cards, content, device, jobs)
    collected: dict[str, list[tuple[Job, Outcome]]] = {card_id: [] for card_id in planned}
    # Checks on a GPU take turns on it in a few device workers, each busy on a core of its
    # own (launching kernels, waiting for them); the CPU's checks share out the other cores.
    on_device = device != "cpu" and any(
        job.device != "cpu" for card_jobs in planned.values() for job in card_jobs
    )
    held = device_workers(jobs) if on_device else 0
    pools = {"cpu": ThreadPoolExecutor(max_workers=max(1, jobs - held))}
    if on_device:
        pools[device] = ThreadPoolExecutor(max_workers=held)
    # The longest jobs first, so that none is left to run alone at the end.
    known = durations.load(times) if times is not None else {}
    # A card's reference starts no later than its longest check: once it fails, its other
    # checks stop (see `refused`); the wrong answers of a checker that hung for every answer
    # (timed at 0.002 s by the run before) ran their whole --timeout first.
    expected = {
        card_id: [durations.expected(job, known) for job in card_jobs]
        for card_id, card_jobs in planned.items()
    }
    queue = sorted(
        ((card_id, job) for card_id, card_jobs in planned.items() for job in card_jobs),
        key=lambda item: (
            -(max(expected[item[0]]) if item[1].candidate.kind == "reference"
              else durations.expected(item[1], known)),
            item[1].candidate.kind != "reference",
        ),
    )  # fmt: skip
    pickers = {  # a device's slots keep to their cards (see `Picker`)
        where: Picker(
            [item for item in queue if item[1].device == where], ready, sticky=where != "cpu"
        )
        for where in pools
    }
    last = threading.local()  # the card of the slot's last check
    # solution modules whose top level ran out of a check's time (a loop, a sleep): each of
    # their other checks waited out its own limit too, ~2 minutes a card for one bad line
    stuck: dict[str, Outcome] = {}
    # cards whose reference did not pass: they fail whatever their other checks do, which say
    # nothing then (`verdict`), so those are not run, or are stopped; a checker that hangs
    # held each wrong answer's check for the whole --timeout (60 s) after the reference's
    refused: set[str] = set()

    def run_next(picker: Picker) -> tuple[str, Job, Outcome]:
        card_id, job = picker.take(getattr(last, "card", None))
        last.card = card_id
        found = stuck.get(job.check_module) or stuck.get(job.candidate.module)
        if found is not None:
            return card_id, job, _not_run(found)
        if card_id in refused:
            return card_id, job, Outcome(Status.ERROR, f"not run: {_REFERENCE_FAILED}", 0.0)
        outcome = run_job(job)
        if outcome.status is Status.TIMEOUT and outcome.loading:
            stuck.setdefault(outcome.loading, outcome)
        if job.candidate.kind == "reference" and outcome.status not in _JUDGED_LATER:
            refused.add(card_id)
            theirs = {id(other) for other in planned[card_id]}
            kill_jobs(lambda other: id(other) in theirs, _REFERENCE_FAILED)
        return card_id, job, outcome

    try:
        futures = [pools[job.device].submit(run_next, pickers[job.device]) for _, job in queue]
        # (`Status.BUSY`: run again once the rest ended)
        starved: list[tuple[str, Job, Outcome]] = []
        for future in as_completed(futures):
            card_id, job, outcome = future.result()
            if outcome.status is Status.BUSY:
                starved.append((card_id, job, outcome))
                continue
            if card_id not in refused or job.candidate.kind == "reference":
                collected[card_id].append((job, outcome))
            if on_job_done is not None:
                on_job_done(job, outcome)
        # Starved of CPU by a busy machine (another command's checks, say) past three times its
        # limit: once more, alone, before it fails the card. (The card's other checks ran
        # meanwhile: its reference's turn to pass came late, and nothing of it is stopped.)
        # One not judged alone either says the machine itself is busy: the rest are not run
        # again (each could take three times its limit more, one after another).
        busy_alone = False
        for card_id, job, first in starved:
            outcome = (
                replace(first, message=first.message + NOT_AGAIN) if busy_alone else run_job(job)
            )
            busy_alone = outcome.status is Status.BUSY
            if job.candidate.kind == "reference" and outcome.status is not Status.PASS:
                refused.add(card_id)
            collected[card_id].append((job, outcome))
            if on_job_done is not None:
                on_job_done(job, outcome)
    except KeyboardInterrupt:
        for pool in pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        kill_all()
        raise
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)
        clear_stop()  # every job has returned: a later run in this process starts afresh
    if times is not None:
        durations.save(times, known, [done for results in collected.values() for done in results])
    for card_id in refused:  # judged by the reference alone, whatever else ended before it
        collected[card_id] = [
            done for done in collected[card_id] if done[0].candidate.kind == "reference"
        ]
    return [
        _not_done_result(card.id, unfinished[card.id])
        if card.id in stubs or (card.id in unfinished and card.id not in planned)
        else _unfinished(verdict(card.id, collected[card.id], learner_timeout), unfinished)
        for card in cards
        if card.id in unfinished or card.id in planned
    ]


_REFERENCE_FAILED = "the card's reference did not pass its checker"
NOT_AGAIN = " (not run again: a check run again alone before it was not judged either)"
# A reference's outcomes that stop none of its card's other checks: the one it is run again
# for (`run_checks`), starved of CPU, said nothing of the reference yet
_JUDGED_LATER = (Status.PASS, Status.BUSY)
