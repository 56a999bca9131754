"""Content commands: lint, check, show, list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from studycli.check.limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT
from studycli.errors import CardNotFound, StudyError
from studycli.study.labels import LEECH_LAPSES

from .app import app, exit_interrupted, finite_seconds, options, print_prose, stderr, stdout
from .completion import (
    DeckOption,
    KindOption,
    TagOption,
    TopicOption,
    complete_card_id,
    complete_study_id,
)

STATUS_STYLE = {
    "pass": "green",
    "fail": "red",
    "error": "red",
    "timeout": "yellow",
    "not done": "yellow",
}


@app.command()
def lint(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Validate all content: card schema, ids, topics, prerequisites, solutions, starters.

    Every problem is reported at once with its file (and line). Exit 1 if there is any. A card
    still to be written (a text beginning with TODO, code raising NotImplementedError) is no
    problem, so that its author can lint as they write: a note names it, which `check` fails.

    Example: studycli lint
    """
    from studycli.content.lint import lint as run_lint
    from studycli.content.scaffold import not_done

    content = options(ctx).load(cached=False)
    problems = run_lint(content)
    unfinished = [c.id for c in content.cards.values() if not_done(c, content.solutions_dir)]
    if as_json:
        import json

        print(
            json.dumps(
                [
                    {"file": str(p.path), "line": p.line, "card": p.card_id, "message": p.message}
                    for p in problems
                ],
                indent=2,
            )
        )
    else:
        console = Console(stderr=bool(problems), highlight=False, emoji=False)
        for p in problems:
            print_prose(
                console, f"[bold]{escape(p.location(content.root))}[/]: {escape(p.message)}"
            )
        summary = f"{len(content.cards)} cards, {len(problems)} problem(s)"
        console.print(f"[red]{summary}[/]" if problems else f"[green]{summary}[/]")
    if unfinished:
        print_prose(
            stderr(highlight=False),
            f"note: {not_done_yet(unfinished)}",
            markup=False,
        )
    if problems:
        raise typer.Exit(1)


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
            max=3600,
            callback=finite_seconds,
            help="Seconds each check may take (a correct answer's: at most 5 s past a "
            "learner's limit, check_timeout's default, past which it fails the card anyway).",
        ),
    ] = DEFAULT_TIMEOUT,
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
        stdout().print(
            f"{len(results) - len(failed)} of {len(results)} cards pass"
            + (f"; [red]{len(failed)} do not[/]" if failed else "")
            + (f" ({not_done} not done yet)" if not_done else "")
        )
    if failed:
        raise typer.Exit(1)


SKIPPED_NAMED = 5  # the cards without checks named when asked for (`--changed` may be all)


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
    content = options(ctx).load(cached=False)
    if changed:
        cards = _changed(content, card_ids or [])
    else:
        _refuse_unloaded(content, card_ids)
        cards = [content.get(i) for i in card_ids] if card_ids else list(content.cards.values())
    warm_up(cards, content, device, jobs)  # what the checkers need, while lint runs here
    runnable = checkable(cards, content)
    # the cards asked for by name, or by a diff, that have no checks (not where `--changed`
    # took every card, outside git: a plain `check` names none, and it named 370)
    if card_ids or (changed and len(cards) < len(content.cards)):
        checked = {card.id for card in runnable}
        if skipped := [card.id for card in cards if card.id not in checked]:
            named = ", ".join(skipped[:SKIPPED_NAMED])
            if len(skipped) > SKIPPED_NAMED:
                named += f" and {len(skipped) - SKIPPED_NAMED} more cards"
            print_prose(
                stderr(highlight=False),
                f"nothing to run for {named}: only coding cards and derivation cards with a "
                "`solution:` have checkers (`studycli review` studies the others)",
            )
    if not runnable and not as_json:  # (an empty table, and "0 of 0 cards pass")
        stdout().print("no card to check")
        return []
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
                learner_timeout=_learner_timeout(),
            )
            print(json.dumps([r.to_dict() for r in results], indent=2))
        else:
            results = _check_with_progress(runnable, content, jobs, device, timeout, memory)
            console = stdout()
            console.print(_results_view(results, console.width))
    except KeyboardInterrupt:
        exit_interrupted("interrupted: the running checks were stopped")
    return results


def _learner_timeout() -> float:
    """The seconds a learner's check may run unless their settings say otherwise: a card whose
    right answers take longer to check fails `check` (no learner could pass it)."""
    from studycli.study.settings import Settings

    return Settings._field_defaults["check_timeout"]


def _refuse_unloaded(content, card_ids: list[str]) -> None:
    """Stop `check` of every card (or of an id no card has) where a card file does not load: it
    was left out without a word, and the run said "81 of 81 cards pass"."""

    unloaded = sorted({problem.path for problem in content.unloaded()})
    missing = [card_id for card_id in card_ids or [] if card_id not in content.cards]
    if unloaded and (missing or not card_ids):
        asked = f"no card with id {', '.join(missing)}, and " if missing else ""
        left_out = ", so `check` would leave it out"
        raise StudyError(asked + not_loading(unloaded, content.root, after=left_out))


def not_loading(paths, root, *, before: str = "", after: str = "") -> str:
    """ "cards/x.yaml: {before}not a card that loads{after}: `studycli lint` says why"."""
    from studycli.content.card import shown_path

    paths = list(paths)
    shown = ", ".join(str(shown_path(path, root)) for path in paths[:NAMED_UNLOADED])
    if len(paths) > NAMED_UNLOADED:  # (120 of them made one line of 6,000 characters)
        shown += f" and {len(paths) - NAMED_UNLOADED} more files"
    return f"{shown}: {before}not a card that loads{after}: `studycli lint` says why"


NAMED_UNLOADED = 5  # the files named of those that do not load as cards


def left_out_notes(paths, problems, root) -> list[str]:
    """One line per card file of `paths` (files left out: they do not load), the first few:
    "cards/x.yaml: not a card that loads, left out: line 5: ...", why as lint says it first
    (`why_unloaded` of its `problems`: every file's, as `Content.unloaded()` gives them); the
    files past those counted. It said only "`studycli lint` says why", of a reason the loader
    had (a helper's review)."""
    from studycli.content.card import shown_path, why_unloaded

    paths = list(dict.fromkeys(paths))
    notes = [
        f"{shown_path(path, root)}: not a card that loads, left out: "
        + why_unloaded([problem for problem in problems if problem.path == path])
        for path in paths[:NAMED_UNLOADED]
    ]
    if len(paths) > NAMED_UNLOADED:
        rest = len(paths) - NAMED_UNLOADED
        notes.append(
            f"and {rest} more card file{'s' if rest > 1 else ''} that do not load, left out: "
            "`studycli lint` says why"
        )
    return notes


def being_written(ids: Sequence[str]) -> str:
    """ "a, b: still being written (a text begins with TODO): not studied until done; ..." of
    the drafts `ids` (`Card.draft`), left out of what is studied."""
    shown, named = _named(ids)
    return (
        f"{shown}: still being written (a text begins with TODO): not studied until done; "
        f"`studycli check {named}` says what is left"
    )


def not_done_yet(ids: Sequence[str]) -> str:
    """ "a, b: not done yet ...: `studycli check a b` ... fails each ..." of the cards `ids` that
    `check` reports not done (`scaffold.not_done`), which `lint` accepts: lint said "0
    problem(s)" of them, and their author did not hear that CI would refuse them."""
    shown, named = _named(ids)
    return (
        f"{shown}: not done yet (a text or docstring begins with TODO, or code raises "
        f"NotImplementedError): `studycli check {named}` says what is left, and fails each "
        "until it is written, as CI does"
    )


def _named(ids: Sequence[str]) -> tuple[str, str]:
    """The first ids of `ids` and how many more, to say; and those first ones, to check."""
    named = list(ids[:NAMED_UNLOADED])
    shown = ", ".join(named)
    if len(ids) > NAMED_UNLOADED:  # (as `not_loading`: not a line of thousands of ids)
        shown += f" and {len(ids) - NAMED_UNLOADED} more cards"
    return shown, " ".join(named)


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


def _check_with_progress(cards, content, jobs, device, timeout, memory):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from studycli.check.plan import count_jobs
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
    ) as progress:
        task = progress.add_task("checking", total=count_jobs(cards, content))
        return run_checks(
            cards,
            content,
            jobs=jobs,
            device=device,
            timeout=timeout,
            memory_mb=memory,
            on_job_done=lambda job, outcome: progress.advance(task),
            times=check_times_path(),
            learner_timeout=_learner_timeout(),
        )


# The narrowest message column the results' table is drawn with; narrower, each card is a
# line of its own with its message under it (at 40 columns the table's card column took the
# width and left the status and the message none: a helper's review)
MIN_MESSAGE_WIDTH = 24


def _results_view(results, width: int):
    """The check's results: a table where the terminal has room for it, else a block a card."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    from .check_outcome import as_shown  # (a wrong answer's message can carry escape sequences)

    longest = max((len(r.card_id) for r in results), default=4)
    # the card, status ("not done") and seconds columns, the borders and padding
    if longest + 8 + 7 + 13 + MIN_MESSAGE_WIDTH <= width:
        return _results_table(results)
    blocks: list[Text | Padding] = []
    for r in results:
        head = Text.assemble(
            (r.status, STATUS_STYLE[r.status]), f"  {r.card_id}  {r.seconds:.2f} s"
        )
        blocks += [head, Padding(Text(as_shown(r.message)), (0, 0, 0, 2), expand=False)]
    return Group(Text("studycli check", style="italic"), *blocks)


def _results_table(results):
    from rich.table import Table

    from .check_outcome import as_shown

    table = Table(title="studycli check", show_lines=False)
    table.add_column(
        "card", no_wrap=True, min_width=max((len(r.card_id) for r in results), default=4)
    )
    table.add_column("status")
    table.add_column("seconds", justify="right")
    table.add_column("message", overflow="fold")
    for r in results:
        style = STATUS_STYLE[r.status]
        table.add_row(
            r.card_id, f"[{style}]{r.status}[/]", f"{r.seconds:.2f}", escape(as_shown(r.message))
        )
    return table


@app.command()
def show(
    ctx: typer.Context,
    card_id: Annotated[str, typer.Argument(autocompletion=complete_study_id)],
    answer: Annotated[bool, typer.Option("--answer", "-a", help="Show the answer too.")] = False,
) -> None:
    """Show one card: its prompt, the starter for coding cards and, with --answer, the answer.

    Example: studycli show online-softmax --answer
    """
    from studycli.content.source import card_starter

    from . import render

    content = options(ctx).load()
    try:
        card, items = content.card_of(card_id)  # a cloze deletion's id: its card
    except CardNotFound as missing:
        from .context import reviews_kept

        raise CardNotFound(f"{missing}{reviews_kept(ctx, card_id)}") from None
    starter = card_starter(card, content.solutions_dir) if card.runnable else None
    reference = None
    if answer and card.solution is not None:  # (its file as the learner can open it: an
        # installed content's solutions/ is in site-packages, not under the current folder)
        import contextlib
        from pathlib import Path

        from studycli.content.source import module_path, reference_source

        path = module_path(content.solutions_dir, card.solution.module).resolve()
        with contextlib.suppress(ValueError):
            path = path.relative_to(Path.cwd().resolve())
        reference = (reference_source(card, content.solutions_dir), path)
    # a deletion's id shows that deletion blanked and the others as text, as review does (it
    # blanked every deletion)
    shown = items[0] if len(items) == 1 and items[0].id == card_id else card
    render.print_full(stdout(), shown, with_answer=answer, starter=starter, reference=reference)


@app.command("list")
def list_cards(
    ctx: typer.Context,
    deck: DeckOption = None,
    topic: TopicOption = None,
    kind: KindOption = None,
    tag: TagOption = None,
    leeches: Annotated[
        bool,
        typer.Option(
            "--leeches", help=f"Only leeches: cards forgotten {LEECH_LAPSES} times or more."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cards as JSON.")] = False,
) -> None:
    """List cards, optionally filtered by deck, topic, kind or tag, or only the leeches.

    `--json` gives each card's tags too. A draft, a card still being written (a text begins
    with TODO), is marked so: it is not studied until it is written.

    Example: studycli list --deck transformers --kind coding
    """
    content = options(ctx).load()
    cards = content.select(deck=deck, topic=topic, kind=kind, tag=tag)
    lapses: dict[str, int] = {}  # with --leeches: how often each was forgotten
    if leeches:
        from studycli.study.api import study_items

        from .context import open_study

        with open_study(ctx) as study:
            cards = study.leeches(study_items(cards))
            lapses = {c.id: state.lapses for c in cards if (state := study.state(c.id))}
    if as_json:
        import json

        print(
            json.dumps(
                [
                    {
                        "id": c.id,
                        "kind": c.kind.value,
                        "deck": c.deck,
                        "topic": c.topic,
                        "title": c.title,
                        "tags": list(c.tags),
                        "draft": c.draft,
                        **({"lapses": lapses.get(c.id, 0)} if leeches else {}),
                    }
                    for c in cards
                ],
                indent=2,
            )
        )
        return
    if leeches and not cards:
        stdout().print(f"no leeches: no card was forgotten {LEECH_LAPSES} times or more")
        return
    from .table import Column, print_table

    # A column the filter makes the same on every row is left out (the title says it); the
    # others, when the terminal is narrow, topic first, then deck, then kind (ids stay whole).
    every = [
        (Column("id"), lambda c: c.id, None),
        (Column("kind", hide=1), lambda c: c.kind.value, kind),
        (Column("deck", hide=2), lambda c: c.deck, deck),
        (Column("topic", hide=3), lambda c: c.topic, topic),
        (Column("title", wrap=True), lambda c: f"{c.title}{' (draft)' if c.draft else ''}", None),
    ]
    if leeches:
        every.append((Column("lapses", justify="right"), lambda c: str(lapses.get(c.id, 0)), None))
    shown = [(column, cell) for column, cell, chosen in every if chosen is None]
    one, many = ("leech", "leeches") if leeches else ("card", "cards")
    title = f"{len(cards)} {one if len(cards) == 1 else many}" + "".join(
        f" · {column.header} {chosen}" for column, _, chosen in every if chosen is not None
    )
    rows = [[cell(c) for _, cell in shown] for c in cards]
    print_table(stdout(), title, [column for column, _ in shown], rows)
