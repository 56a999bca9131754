"""`solve --watch` and a save landing as the watch looks at the file: every save is checked.

Driven in-process, the save put at the racy point by wrapping what the watch calls (no thread,
no timing): a save between the watch's look at the file's stamp and its read of the bytes, and
a save with the stamp of the one before (the same size, in the same tick of the filesystem's
modification times)."""

from __future__ import annotations

import contextlib
import os

import pytest
from rich.console import Console

from studycli.check import solve

from .study_support import fixture_content
from .test_check_solve import (
    CORRECT,
    WATCH_DEADLINE,
    WRONG,
    _ending_after,
    _polling_once_checks_end,
)


def _watch(tmp_path, monkeypatch, after_first_check, ahead: int = 0):
    """`watch` on add-one, its attempt WRONG (modified `ahead` s after now);
    `after_first_check(path)` is called once WRONG's failure is shown (in the watch's thread).
    The watch presses q after WATCH_DEADLINE s: one still watching then fails with what it
    showed. (attempt, the console's text)."""
    from rich.console import Console

    from studycli.cli import solve_flow, solve_watch

    content = fixture_content()
    card = content.get("add-one")
    path = tmp_path / "attempt.py"
    path.write_text(WRONG)
    if ahead:
        stamp = os.stat(path).st_mtime_ns + ahead * 10**9
        os.utime(path, ns=(stamp, stamp))
    show, shown = solve_flow._show, []

    def show_and_save(*args, **kwargs):
        show(*args, **kwargs)
        shown.append(True)
        if len(shown) == 1:
            after_first_check(path)

    monkeypatch.setattr(solve_watch, "_show", show_and_save)
    gave_up = _ending_after(monkeypatch, solve_watch, WATCH_DEADLINE)
    console = Console(record=True, width=100)
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(20, 1024))
    text = console.export_text()
    assert not gave_up, f"the watch was still watching after {WATCH_DEADLINE} s:\n{text}"
    return attempt, text


def _watched(path):
    """`watch` on add-one with its attempt at `path`, until it ends: (the attempt, the text it
    showed)."""
    from studycli.cli import solve_flow, solve_watch

    content = fixture_content()
    console = Console(record=True, width=100)
    card = content.get("add-one")
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(20, 1024))
    return attempt, console.export_text()


def _pressing_once_shown(monkeypatch, press) -> list[float]:
    """The watch's keys: `press(shown)`'s where it gives one, else the real poller's; `shown`
    (returned), the times (monotonic) its checks' outcomes were shown."""
    import time

    from studycli.cli import solve_flow, solve_watch

    show, polling, shown = solve_flow._show, solve_watch.key_poller, []

    def show_noted(*args, **kwargs):
        show(*args, **kwargs)
        shown.append(time.monotonic())

    @contextlib.contextmanager
    def pressing():
        with polling() as poll:
            yield lambda seconds: press(shown) or poll(seconds)

    monkeypatch.setattr(solve_watch, "_show", show_noted)
    monkeypatch.setattr(solve_watch, "key_poller", pressing)
    return shown


def test_watch_checks_a_save_written_as_it_read_the_file_truncated(tmp_path, monkeypatch):
    """An editor that truncates the file, then writes it: the watch saw the empty file's
    stamp, and read the bytes once the whole answer was written. It said it waited for the
    file to be saved again, and took those bytes as seen: the whole file's own change then
    looked like no change, and the answer was never checked (the watch idle for ever; a full
    test run hung so once in `test_watch_never_shows_a_check_it_stopped_for_a_half_written_save`,
    whose saver writes the half file and the whole one back to back)."""
    from studycli import paths

    read_regular, truncated = paths.read_regular, []

    def truncate(path):
        path.write_bytes(b"")  # the editor's first step
        truncated.append(path)

    def read_after_the_save(where, limit):
        # the first read of the emptied file: the rest of the save lands just before it
        if truncated and os.path.samefile(where, truncated[0]) and os.stat(where).st_size == 0:
            truncated.pop().write_text(CORRECT)
        return read_regular(where, limit)

    monkeypatch.setattr(paths, "read_regular", read_after_the_save)
    attempt, text = _watch(tmp_path, monkeypatch, truncate)
    assert not truncated, "the watch never read the emptied file"
    assert attempt is not None and attempt.outcome.status == "pass", text
    assert text.count("checking attempt.py") == 2, text  # WRONG, then the whole answer
    assert attempt.failed_runs == 1 and attempt.rating() == 2  # Hard: WRONG, once


@pytest.mark.parametrize("ahead", [0, 86400], ids=["now", "a day ahead"])
def test_watch_checks_a_save_with_the_stamp_of_the_one_it_checked(tmp_path, monkeypatch, ahead):
    """A save of the same size in the same tick of the file's modification time (1 or 2 s on
    some filesystems) as the bytes the watch last took: the stamp unchanged, the watch never
    read the file again and the answer was never checked. A stamp that recent is not trusted:
    the bytes are read again on each look until RACY s after the watch first saw it, whatever
    the file's clock says (here, too, one a day ahead of the watch's)."""
    from studycli.cli import solve_run

    def save_in_the_same_tick(path):
        stat = os.stat(path)
        assert len(CORRECT) == stat.st_size  # (the same size as WRONG)
        path.write_text(CORRECT)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the tick it was checked in

    # (the filesystem's tick taken as an hour: the save is in WRONG's however slow its check)
    monkeypatch.setattr(solve_run, "RACY", 3600.0, raising=False)
    attempt, text = _watch(tmp_path, monkeypatch, save_in_the_same_tick, ahead)
    assert attempt is not None and attempt.outcome.status == "pass", text
    assert text.count("checking attempt.py") == 2, text
    assert attempt.failed_runs == 1 and attempt.rating() == 2


def test_watch_never_shows_a_check_that_read_a_save_with_the_stamp_it_started_on(
    tmp_path, monkeypatch
):
    """A save written in place (no truncation: the same size) in the same tick of the file's
    modification time as the bytes a check started on, caught half way by that check, the
    watch looking next only once the check had ended (a loaded machine): the check's end
    compared stamps only, so the half file's failure (here a NameError, the new
    first line over the old body) was shown and counted as a failed run, and the whole answer
    passed as Hard. A check whose file's bytes changed while it ran is stopped, as for a save
    with a new stamp: the whole answer passes as Good."""
    from studycli.cli import solve_run, solve_watch

    answer = "def add_one(y):\n    return y + 1\n"  # (the same size as WRONG)
    head = answer.index("return")  # the new signature over WRONG's body: x is not defined
    run_check, saved = solve.run_check, []

    def write_in_place(path, text: str, stamp: os.stat_result) -> None:
        with open(path, "r+") as file:
            file.write(text)
        os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # the tick it started in

    def check_reading_half_a_save(card, content, path, **limits):
        if saved:
            return run_check(card, content, path, **limits)
        stamp = os.stat(path)
        saved.append(stamp)
        write_in_place(path, answer[:head], stamp)
        outcome = run_check(card, content, path, **limits)  # (of the half file)
        write_in_place(path, answer, stamp)
        return outcome

    monkeypatch.setattr(solve, "run_check", check_reading_half_a_save)
    monkeypatch.setattr(solve_watch, "key_poller", _polling_once_checks_end)
    # (the filesystem's tick taken as an hour: the save is in WRONG's however slow its check)
    monkeypatch.setattr(solve_run, "RACY", 3600.0)
    attempt, text = _watch(tmp_path, monkeypatch, lambda path: None)
    assert len(answer) == saved[0].st_size and "stopped: the file changed" in text, text
    assert "✗" not in text and "NameError" not in text, text
    assert attempt is not None and attempt.outcome.status == "pass", text
    assert attempt.failed_runs == 0 and attempt.rating() == 3  # Good: no finished run failed


def test_watch_judges_a_check_by_the_bytes_it_checked_not_those_before_a_save(
    tmp_path, monkeypatch
):
    """A save landing as a check starts, after it noted whether the file compiles but before
    it took the bytes it checks: the check read the save (here one that does not compile) and
    was judged by the file before it (WRONG, which compiles), so that q after that save's
    SyntaxError recorded Again, a failed recall, where a typo records nothing. The bytes are
    taken first: a save after them stops the check, and the save's own check is judged."""
    from studycli.cli import solve_watch

    typo = "def add_one(x):\n    return x +\n"
    compiles = solve.compiles
    shown = _pressing_once_shown(monkeypatch, lambda shown: "q" if shown else None)

    def compiles_then_saved(where):
        answer = compiles(where)
        if not shown and answer:  # the first check's note of WRONG: the typo saved after it
            where.write_text(typo)
        return answer

    monkeypatch.setattr(solve, "compiles", compiles_then_saved)
    monkeypatch.setattr(solve_watch, "SETTLE", 0.0)  # (the typo checked as soon as seen)
    path = tmp_path / "attempt.py"
    path.write_text(WRONG)
    attempt, text = _watched(path)
    assert path.read_text() == typo and "SyntaxError" in text, text
    assert attempt is not None and attempt.typo == "does not compile", text
    assert attempt.failed_runs == 0, text


def test_watch_stops_reading_a_file_stamped_ahead_of_its_clock(tmp_path, monkeypatch):
    """A file whose modification time is ahead of the watch's clock (a network filesystem's
    server, a file from a machine whose clock runs ahead) was too recent for ever by the
    clock: its bytes were read and digested every WATCH_POLL for as long as the watch ran
    (10% of a core for a file of 4 MB). Once read RACY s after the watch first saw its stamp,
    it is trusted as any other."""
    import time

    from studycli import paths
    from studycli.cli import solve_flow, solve_run, solve_watch

    content = fixture_content()
    path = tmp_path / "attempt.py"
    path.write_text(WRONG)
    ahead = time.time_ns() + 3600 * 10**9  # an hour ahead
    os.utime(path, ns=(ahead, ahead))
    read_regular, reads = paths.read_regular, []
    shown = _pressing_once_shown(  # q a second after the first outcome shown
        monkeypatch, lambda shown: "q" if shown and time.monotonic() - shown[0] > 1.0 else None
    )

    def read_noted(where, limit):
        if shown and os.path.samefile(where, path):
            reads.append(time.monotonic() - shown[0])
        return read_regular(where, limit)

    monkeypatch.setattr(solve_run, "RACY", 0.2)
    monkeypatch.setattr(paths, "read_regular", read_noted)
    console = Console(record=True, width=100)
    card = content.get("add-one")
    attempt = solve_watch.watch(console, card, content, path, solve_flow.Limits(20, 1024))
    text = console.export_text()
    assert attempt is not None and attempt.outcome.status == "fail", text
    # (the check took longer than RACY: the stamp was settled before WRONG's failure showed)
    late = [at for at in reads if at > 2 * solve_run.RACY]
    assert late == [], f"read {len(late)} times in the last {1.0 - 2 * solve_run.RACY:g} s"


def test_a_key_that_does_nothing_in_a_watch_says_the_keys_that_do(tmp_path, monkeypatch):
    """x pressed while the watch waited for a save did nothing, without a word: the watch
    looked stuck, where a review session says such a key is no key there."""

    pressed = iter("xq")
    _pressing_once_shown(monkeypatch, lambda shown: next(pressed) if shown else None)
    path = tmp_path / "attempt.py"
    path.write_text(WRONG)
    attempt, text = _watched(path)
    said = " ".join(text.split())
    assert "x is no key here: save to re-run · h next hint · q stop" in said, said
    assert attempt is not None and attempt.outcome.status == "fail", said
