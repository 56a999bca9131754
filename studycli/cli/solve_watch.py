"""`solve --watch`: the attempt checked again on every save until it passes, `h` showing the
next hint and `q` stopping."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from studycli.content.card import Card
from studycli.content.loader import Content

from .solve_flow import Attempt, Hints, Limits, _show, changed_starter
from .solve_run import WATCH_POLL, _bytes_digest, _digest, _Looks, _Run, _stamp
from .terminal import key_poller

# seconds a save that does not compile must stay as it is before it is checked: an editor that
# truncates the file, then writes it, can be caught half way (cut mid-token), and that save's
# SyntaxError was shown and counted as a failed run of the learner's
SETTLE = 0.3


def watch(
    console: Console, card: Card, content: Content, path: Path, limits: Limits
) -> Attempt | None:
    """Check `path`, then again on every save until it passes; `h` shows the next hint,
    `q` (or Ctrl-C, or Ctrl-D) stops. Returns the last outcome, with the hints shown and the
    failed runs before it: checks of the learner's code. The file as a starter (the untouched
    one, when the watch starts or saved back) is no attempt of theirs, and is not checked, as
    `review`'s `s` checks none: the watch says so and waits for a save (it showed the
    starter's "not implemented yet" failure first thing). The attempt file deleted while it is
    a starter (as the watch advises of an older one) gets the card's starter as it is now once
    it has stayed gone for SETTLE seconds; an attempt of the learner's deleted is waited for.

    Each check runs in a thread while the keys and the file are still read: `q` stops it at
    once, and so does a save (which then checks the new file), even one first seen once the
    check has ended (it may have read the save half written). A check stopped so is no attempt:
    None when `q` came before any check of the learner's code finished (nothing to record).
    A save that does not compile is checked once it has stayed as it is for SETTLE seconds, so
    that one caught half written is neither shown nor counted; one that compiles, at once.
    A save the check cannot read (not UTF-8, say) is said, and the watch waits for the next.
    A change that leaves the file's bytes as the watch last took them (an attempt that touches
    or rewrites its own file when run, a save with nothing changed) starts no check: compared
    by modification time, an attempt that touched its own file was checked again for ever.
    Nor does a change the check's own code made (`check.own_writes`: an attempt that appends a
    log of its runs to its file), while it ran or as it left the file: each was taken for a
    save, and checked again, for ever. (A save made while such a check runs is taken for the
    check's too: the watch says so, and the next save is checked.)
    """
    import itertools
    import tempfile

    from studycli.check import solve, starters
    from studycli.check.attempt_files import attempt_path

    hints = Hints(card)
    failed = 0
    last: _Run | None = None  # the last check that finished
    recall_failed = False  # a check of the learner's answer failed (not a typo's: `_typo`)
    settling: float | None = None  # when a save that does not compile was seen (unchecked)
    at_starter = False  # the file as taken is a starter (`_still_a_starter`), not checked
    gone: float | None = None  # when that starter was deleted (`_starter_again`)
    taken: bytes | None = None  # the digest of the file as the watch last acted on it
    own: tuple[int, int] | None = None  # the file as the last check that wrote it left it
    said_own = False
    busy_again: bytes | None = None  # the file as a check not judged was run again on
    stopped_by = "q pressed"
    runs = itertools.count()
    # (the folder of the files each check makes where its code writes the attempt file)
    with key_poller() as poll, tempfile.TemporaryDirectory(prefix="studycli-watch-") as folder:

        def start() -> _Run:
            return _Run(console, card, content, path, limits, Path(folder) / f"{next(runs)}")

        console.print(  # (unwrapped: the file to open in your editor, copied in one piece)
            f"watching [bold]{escape(str(path))}[/]: save to re-run · h next hint · q stop",
            soft_wrap=True,
        )
        seen = _stamp(path)
        looks = _Looks()
        run: _Run | None = None
        try:  # (the first check started in it: a Ctrl-C as it starts ends the watch as q does)
            taken = _digest(path)  # (before it is judged: a save meanwhile is seen next)
            if not (at_starter := _still_a_starter(console, card, content, path)):
                run = start()
                taken = run.digest
            while True:
                if run is not None:
                    run.finished.wait(WATCH_POLL)  # wakes as soon as the check ends
                key = poll(0 if run is not None else WATCH_POLL)
                if run is not None and run.finished.is_set():
                    finished, run = run, None
                    own = finished.left if finished.wrote_itself() else None
                    if (error := finished.unreadable(path)) is not None:  # the learner's to
                        # fix, then save: it ended the watch (a save in Latin-1), unrecorded
                        console.print(
                            Text(f"error: {error} (the next save is checked)", style="red")
                        )
                    elif finished.gone(path):  # deleted to be written again: no outcome
                        taken = None  # (the file's next bytes are checked, whatever they are)
                    elif finished.changed and not finished.wrote_itself():
                        # saved while it ran, the save not yet seen: it may have read the save
                        # half written (its SyntaxError shown and counted as a failed run)
                        console.print(Text("stopped: the file changed", style="dim"))
                        seen, taken = None, None  # (the file as it is now is taken below)
                    elif finished.result().status == "busy":  # starved of CPU: no check of
                        # the answer (`solve.unanswered`): shown, the last one standing, and
                        # run again on the file as it is now (taken below), once: not judged
                        # again, it waits for a save (the same bytes too), where it ran again
                        # and again, each run up to three times its limit, until q
                        _show(console, finished.result(), card, content, path)
                        if finished.digest != busy_again:
                            busy_again = finished.digest
                            console.print(Text("running it again (q stops)", style="dim"))
                            seen, taken = None, None
                        else:
                            console.print(
                                Text("not judged again: save to check it again", style="dim")
                            )
                    else:
                        outcome = finished.result()
                        last = finished  # before it shows: a Ctrl-C meanwhile records it
                        recall_failed |= (
                            last.counts and last.outcome.status != "pass" and not _typo(last)
                        )
                        _show(console, outcome, card, content, path)
                        if own is not None and not said_own:
                            said_own = True
                            console.print(Text(wrote_itself(path), style="dim"))
                        if last.outcome.status == "pass":
                            break
                if key == "q":
                    break
                if key == "h":
                    console.print(hints.next())
                else:
                    from .render import said_no_key

                    said_no_key(console, key, "save to re-run · h next hint · q stop")
                if (looked := looks.at(path, seen, taken)) is None:
                    continue  # the file changed as it was read: looked at again
                stamp, now = looked
                changed = (stamp, now) != (seen, taken)
                if changed and (
                    (own is not None and stamp == own) or (run is not None and run.wrote_itself())
                ):
                    seen, taken = stamp, now  # the check's own write, not a save of the learner's
                elif changed and run is None and now is not None and now == busy_again:
                    seen = stamp  # saved again as it was after a check not judged twice
                    run = start()
                    taken = run.digest
                elif changed and now is not None and now == taken:
                    # the bytes whose outcome stands or comes, or that settle: a save that
                    # does not compile, saved again as it was, is still checked once settled
                    seen = stamp
                elif changed:
                    if stamp is None and at_starter and path == attempt_path(card.id):
                        gone = time.monotonic()  # written again once it stays gone (SETTLE)
                    seen, settling, taken, at_starter = stamp, None, now, False
                    if run is not None:
                        run.stop(console, "the file changed")
                        # a stopped check is no attempt: kept, a save that starts none (emptied,
                        # not compiling) left it to be shown, killed, as a finished failed run
                        run = None
                    elif last is not None and last.counts and not last.superseded:
                        failed += 1  # it did not pass (counted once: the file may come back)
                        last.superseded = True
                    if stamp is None or stamp[1] == 0:  # gone, or emptied to be written
                        console.print(  # (an editor truncates, then writes: checked empty, it
                            # failed as a run of the learner's, and a pass after it was Hard)
                            Text(f"waiting for {path.name} to be saved again", style="dim")
                        )
                    elif not solve.compiles(path):  # half written, or the learner's mistake:
                        settling = time.monotonic()  # checked once it stays so (SETTLE)
                    elif not (at_starter := _still_a_starter(console, card, content, path)):
                        run = start()
                        taken = run.digest
                    if stamp is not None:
                        gone = None
                elif gone is not None and time.monotonic() - gone >= SETTLE:
                    gone = None
                    if (written := _starter_again(console, card, content, path)) is not None:
                        # the bytes it wrote, not the file's: a save right after is seen next
                        at_starter, seen, taken = True, _stamp(path), _bytes_digest(written)
                    # (else a save of the learner's came first: seen next, as a save)
                elif settling is not None and time.monotonic() - settling >= SETTLE:
                    settling = None  # left as it is: the learner's own syntax error
                    run = start()
                    taken = run.digest
        except KeyboardInterrupt:  # Ctrl-C: as q (the last finished check is the attempt)
            stopped_by = "Ctrl-C pressed"
        except EOFError:  # Ctrl-D: as q too (it ended `solve` with click's bare "Aborted.")
            stopped_by = "Ctrl-D pressed"
        except BaseException:  # an error: the caller says what happened
            if run is not None:
                run.stop(console, None)
            raise
        if run is not None:
            run.stop(console, stopped_by)
    if last is None or (not last.counts and not starters.is_untouched(card, content, path)):
        return None  # (the untouched starter's outcome is returned: the caller says so)
    return Attempt(
        last.outcome,
        hints_shown=hints.shown,
        failed_runs=failed,
        typo="" if recall_failed else _typo(last),
    )


def _still_a_starter(console: Console, card: Card, content: Content, path: Path) -> bool:
    """Whether the file is still a starter (`starters.starter_kind`), which is not checked;
    if so, say so: where to write the answer (of an older starter, that the card's changed)."""
    from studycli.check import starters

    kind = starters.starter_kind(card, content, path)
    if kind is None:
        return False
    from .app import print_prose  # (piped, one line; on a terminal the path kept whole)

    said = (
        changed_starter(path)
        if kind == "older"
        else f"{path} is still the starter: write your answer in it, and save"
    )
    print_prose(console, said, style="yellow", markup=False)
    console.print(Text(f"waiting for {path.name} to be saved", style="dim"))
    return True


def _starter_again(console: Console, card: Card, content: Content, path: Path) -> bytes | None:
    """Write the card's starter as it is now to the attempt file, deleted while it was a
    starter (`changed_starter` says to delete an older one to get the new one: the watch only
    waited for a save, and the new starter came from the next `solve` run), and say so: the
    bytes written. None, and nothing said, where a file is there already: a save of the
    learner's landed first (it was said to be the starter, taken for it and never checked)."""
    from studycli.check import solve

    from .app import print_prose  # (piped, one line; on a terminal the path kept whole)

    written = solve.write_starter(card, content, path)
    if written is not None:
        said = f"wrote the card's starter to {path}: write your answer in it, and save"
        print_prose(console, said, style="yellow", markup=False)
    return written


def _typo(run: _Run) -> str:
    """What makes a finished check's failure no failed recall (`solve.unanswered`): q after
    a save that does not compile, or defines no function of the card's name, recorded Again
    where `solve` without --watch records nothing. Once a check of the answer itself failed,
    that failure stands, and q records Again whatever the last check was."""
    from studycli.check import solve

    return solve.unanswered(run.compiled, run.outcome)


def wrote_itself(path: Path) -> str:
    """What the watch says of an attempt whose check wrote its file (`check.own_writes`)."""
    return (
        f"your attempt wrote {path.name} itself while it was checked: that starts no check, "
        "nor does a save made while it ran (save again to check it)"
    )
