"""`check`: prove each card's reference passes its checker, and its starter and wrong answers
fail it; `--changed`, the cards a git branch changed. Its results shown: check_results.py."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from studycli.check.limits import DEFAULT_MEMORY_MB, LEARNER_MARGIN
from studycli.errors import StudyError
from studycli.study.settings import Settings

from .app import app, exit_interrupted, finite_seconds, options, print_prose, stderr, stdout
from .card_notes import not_loading
from .completion import complete_card_id

# The seconds a learner's check may run unless their settings say otherwise: a card whose right
# answers take longer to check fails `check` (no learner could pass it).
LEARNER_TIMEOUT: float = Settings._field_defaults["check_timeout"]
# The most seconds a check runs (`plan._limit`), and --timeout's default: its default was 60,
# which the limit cut to this without a word, and a value past this changed nothing.
MOST_SECONDS = LEARNER_TIMEOUT + LEARNER_MARGIN


@app.command()
def check(
    ctx: typer.Context,
    card_ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="Cards to check (default: all); with --changed, the git ref to compare with.",
            metavar="[ID]... | [REF]",
            autocompletion=complete_card_id,
        ),
    ] = None,
    changed: Annotated[
        bool,
        typer.Option(
            "--changed",
            help="Only the cards whose YAML or solution module differ from REF (default: the "
            "merge base with main), uncommitted and untracked changes included.",
        ),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Checks run at once (default: one per core)."),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=MOST_SECONDS,
            callback=finite_seconds,
            help=f"Seconds each check may take, at most {MOST_SECONDS:g} "
            f"({LEARNER_MARGIN:g} s past a learner's limit, check_timeout's default, "
            f"{LEARNER_TIMEOUT:g} s: a correct answer fails the card past it anyway, and a "
            "wrong answer stopped there proves nothing of its mistake).",
        ),
    ] = MOST_SECONDS,
    device: Annotated[
        str,
        typer.Option(
            help="cpu or cuda: where checkers put their tensors (a checker that ignores its "
            "device runs on the CPU either way)."
        ),
    ] = "cpu",
    memory: Annotated[
        int, typer.Option(min=64, help="Memory cap of each check, in MB.")
    ] = DEFAULT_MEMORY_MB,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array, an object per card.")
    ] = False,
    use_mps: Annotated[
        bool,
        typer.Option(
            "--mps/--no-mps",
            help="With --device cuda: start a private CUDA MPS daemon for the run where the "
            "machine has one and none runs, so that the checks' kernels run side by side "
            "(--no-mps where the GPU's set-up keeps its server from starting).",
        ),
    ] = True,
) -> None:
    """Prove each card's reference passes its checker and its starter and wrong answers fail it.

    Every check runs in its own process with a time limit, in parallel. A card that `new` wrote
    and that is not filled in yet is reported as not done. Exit 1 if any card fails.

    A check starved of CPU by a busy machine is given up to three times its limit; starved
    still, it runs again once, alone, and then its card fails as busy (once one run alone is
    busy again, the rest are not run again).

    Example: studycli check flash-attention online-softmax --jobs 2

    Example: studycli check --changed origin/main   (a pull request's cards)
    """

    from studycli.check import mps, pool

    if device not in ("cpu", "cuda"):  # a usage error, exit 2, as for any bad option value
        raise typer.BadParameter(f"cpu or cuda, not {device!r}", param_hint="--device")
    if device == "cuda" and pool.torch_gpu_build() is False:
        raise StudyError(
            "--device cuda: the installed torch is built for the CPU only (every check would "
            "fail on it): use --device cpu, or install a CUDA build of torch"
        )
    with mps.private_daemon(wanted=use_mps and device != "cpu"):  # before a worker starts
        results = _checked(ctx, card_ids, changed, jobs or pool.cores(), timeout, device,
                           memory, as_json)  # fmt: skip
    failed = [r for r in results if r.status != "pass"]
    if not as_json and results:
        not_done = sum(r.status == "not done" for r in results)
        busy = sum(r.status == "busy" for r in results)  # (no mistake of the card's)
        stdout().print(
            f"{len(results) - len(failed)} of {len(results)} cards pass"
            + (f"; [red]{len(failed)} do not[/]" if failed else "")
            + (f" ({not_done} not done yet)" if not_done else "")
            + (f" ({busy} {_busy_summary()})" if busy else "")
        )
    if failed:
        raise typer.Exit(1)


# (`Status.BUSY` cards, in the summary: a failure of the machine's, not of the card's)
BUSY_SUMMARY = "not judged: the machine was too busy; check them again when it is less busy"


def _busy_summary() -> str:
    """`BUSY_SUMMARY`, or, under a cgroup's CPU quota, which no wait lifts, the quota (each
    card's message says what can be done under it: `starvation.busy_message`)."""
    from studycli.check import cpu_quota

    cpus = cpu_quota.quota()
    if cpus is None:
        return BUSY_SUMMARY
    return (
        f"not judged: the machine was too busy; under a CPU quota of {cpus:.3g} CPUs, which "
        "waiting does not lift: see each card's message"
    )


SKIPPED_NAMED = 5  # the cards without checks named when asked for (`--changed` may be all)
NO_CHECKS = (
    "only coding cards and derivation cards with a `solution:` have checkers "
    "(`studycli review` studies the others)"
)


def _checked(ctx, card_ids, changed, jobs, timeout, device, memory, as_json):
    """`check`'s run: the results, printed as JSON or as a table."""
    from studycli.check import pool
    from studycli.check.plan import warm_up
    from studycli.check.verify import checkable, run_checks
    from studycli.paths import check_times_path

    # torch's import goes on in the workers while the content loads (the first began as the
    # command started: see `studycli.cli.main`); a whole run has checks that do not use torch
    # (a quarter of the shipped cards' time), which can run on the cores left idle meanwhile
    everything = not card_ids and not changed
    pool.warm_up(device, jobs, torchless=() if everything else None)
    # through the content index, as `review` reads the cards (every card file parsed took 0.1 s
    # of CPU, a third of what `check ONE-CARD` runs before its first check; 0.01 s from the
    # index): an edited file is parsed again, as its size, mtime and ctime tell
    content = options(ctx).load(say_unloaded=False)
    if changed:
        cards = _changed(content, card_ids or [])
    else:
        # (an id named twice is one card: `check nms pixel-shuffle nms` ran nms twice and
        # said "3 of 3 cards pass"; a missing one said "no card with id x, x")
        named = list(dict.fromkeys(card_ids or []))
        _refuse_unloaded(content, named)
        cards = [content.get(i) for i in named] if named else list(content.cards.values())
    warm_up(cards, content, device, jobs)  # what the checkers need, while lint runs here
    runnable = checkable(cards, content)
    # the cards asked for by name, or by a diff, that have no checks (not where `--changed`
    # took every card, outside git: a plain `check` names none, and it named 370)
    skipped: list[str] = []
    if card_ids or (changed and len(cards) < len(content.cards)):
        checked = {card.id for card in runnable}
        skipped = [card.id for card in cards if card.id not in checked]
    if not runnable and not as_json:  # (an empty table, and "0 of 0 cards pass"), said once:
        # it was "nothing to run for X: ..." on stderr, then "no card to check"
        if skipped:
            have = "has" if len(skipped) == 1 else "have"
            said = f": {_named(skipped)} {have} no checks; {NO_CHECKS}"
        print_prose(stdout(), "no card to check" + (said if skipped else ""))
        return []
    if skipped:
        print_prose(stderr(highlight=False), f"nothing to run for {_named(skipped)}: {NO_CHECKS}")
    try:
        if as_json:
            import json

            results = run_checks(
                runnable,
                content,
                jobs=jobs,
                device=device,
                timeout=timeout,
                memory_mb=memory,
                times=check_times_path(),
                learner_timeout=LEARNER_TIMEOUT,
                warmed=True,
            )
            print(json.dumps([r.to_dict() for r in results], indent=2))
        else:
            results = _check_with_progress(runnable, content, jobs, device, timeout, memory)
            from .check_results import _results_view  # (once the checks are done)

            console = stdout()
            console.print(_results_view(results, console.width))
    except KeyboardInterrupt:
        exit_interrupted("interrupted: the running checks were stopped")
    return results


def _named(skipped: list[str]) -> str:
    """The cards asked for that have no checks, the first `SKIPPED_NAMED` named."""
    named = ", ".join(skipped[:SKIPPED_NAMED])
    if len(skipped) > SKIPPED_NAMED:
        named += f" and {len(skipped) - SKIPPED_NAMED} more cards"
    return named


def _refuse_unloaded(content, card_ids: list[str]) -> None:
    """Stop `check` of every card (or of an id no card has) where a card file does not load: it
    was left out without a word, and the run said "81 of 81 cards pass"."""

    unloaded = sorted({problem.path for problem in content.unloaded()})
    missing = [card_id for card_id in card_ids or [] if card_id not in content.cards]
    if unloaded and (missing or not card_ids):
        asked = f"no card with id {', '.join(missing)}, and " if missing else ""
        left_out = ", so `check` would leave it out"
        raise StudyError(asked + not_loading(unloaded, content.root, after=left_out))


def _changed(content, refs: list[str]):
    """The cards `check --changed [REF]` checks; says on stderr what they were compared with."""
    from studycli.check.changed import change_problem, changed_cards

    if len(refs) > 1:
        raise typer.BadParameter(
            "with --changed, give at most one argument, the git ref to compare with "
            f"(got {' '.join(refs)}); to check given cards, leave out --changed",
            param_hint="--changed",
        )
    found = changed_cards(content, refs[0] if refs else None)
    if refs and found.base is None:  # (a ref mistyped in CI: every card passed, nothing said
        # of renames; without a ref every card is checked, as a branch with no main must be)
        why = found.note.removesuffix(": checking every card")
        raise StudyError(f"check --changed {refs[0]}: {why}; nothing was checked")
    print_prose(stderr(highlight=False), f"--changed: {escape(found.note)}")
    if found.broken:
        raise StudyError(not_loading(found.broken, content.root, before="changed, and "))
    problem = change_problem(found, content.root)  # renamed ids, renumbered cloze deletions, ...
    if problem:
        raise StudyError(problem)
    return found.cards


REFRESHES = 2  # the progress bar's redraws a second (its elapsed time shows whole seconds)


def _check_with_progress(cards, content, jobs, device, timeout, memory):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from studycli.check.verify import run_checks
    from studycli.paths import check_times_path

    console = stderr()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # (else it leaves a blank line in a log file)
        # Rich's default, 10 a second, drew the bar 200 times in a run of the shipped cards:
        # 0.3 s of the command's CPU beside the checks (a third of its main thread's)
        refresh_per_second=REFRESHES,
    ) as progress:
        task = progress.add_task("checking", total=None)  # (the checks' count, once planned)
        return run_checks(
            cards,
            content,
            jobs=jobs,
            device=device,
            timeout=timeout,
            memory_mb=memory,
            on_job_done=lambda job, outcome: progress.advance(task),
            times=check_times_path(),
            learner_timeout=LEARNER_TIMEOUT,
            on_planned=lambda count: progress.update(task, total=count),
            warmed=True,  # (by `_checked`, for these cards and more)
        )
