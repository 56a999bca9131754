"""The study API's part about the FSRS parameters (api.py's `Study`): fitting them (to this
log, or to a review log CSV: `fit_file`), recomputing the memory states under them, and
whether the states stand on settings.toml's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from .api_base import StudyBase
from .review_records import CardState
from .settings import Settings
from .times import parse_time

if TYPE_CHECKING:  # imported where used: `due` and `review` need none of them (~20 ms)
    from fsrs import Scheduler

    from . import optimize
    from .memory_parameters import Disagreement, Parameters

_MICROSECOND = timedelta(microseconds=1)  # (the log's times are to the microsecond)


def fit_file(
    path: Path,
    settings: Settings,
    tz: tzinfo | None = None,
    renames: Mapping[str, str] | None = None,
) -> optimize.Fit:
    """Fit FSRS parameters to the review log CSV at `path` and prove them on held-out reviews.

    Args:
        renames: the content's renamed ids (old card id -> new, `Content.renames`): a row under
            an old id (a log exported before the rename) is one of the new id's history, as an
            import reads it (`renames.renamed_id`).

    Raises:
        ImportFormatError: the file is unreadable or has bad rows.
        StudyError: too few reviews to fit.
    """
    from . import optimize
    from .renames import renamed_id
    from .review_log_csv import read_reviews

    history = ((r.card_id, r.rating, r.reviewed_at) for r in read_reviews(path))
    if renames:
        history = ((renamed_id(card, renames), rating, moment) for card, rating, moment in history)
    items, reviews, cards, item_cards = optimize.fsrs_items(
        _once_per_card_and_time(history), settings.day_starts_at, tz
    )
    return optimize.fit(
        items, reviews=reviews, cards=cards, item_cards=item_cards, source=str(path)
    )


def _once_per_card_and_time(
    history: Iterable[tuple[str, int, datetime]],
) -> Iterator[tuple[str, int, datetime]]:
    """The reviews of `history` (card id, rating, time), each card and time once (the first),
    as an import keeps them: a file exported on a machine that held a renamed card's review
    under both ids (imported there under the new id before it pulled the rename) has it twice
    once the old id is read as the new one, and the fit counted it twice."""
    seen: set[tuple[str, datetime]] = set()
    for card, rating, moment in history:
        if (card, moment) not in seen:
            seen.add((card, moment))
            yield card, rating, moment


class FsrsParametersMixin(StudyBase):
    """The FSRS parameters: fitting, recomputing the memory states (see api.py's `Study`)."""

    def recompute_memory(
        self, now: datetime, *, saving: bool = False, replaced: Sequence[float] | None = None
    ) -> int:
        """Give every studied card the stability and difficulty its history gives under the
        settings' parameters, its due date kept (Anki recomputes memory states so when a
        preset's parameters change), and log the recompute, so that a replay of the log gives
        the same states (`rating.rebuild`). It is logged at `now`, or just after the log's
        latest review or recompute where the clock is behind them: it follows the whole
        history; one that changes no card's state is not logged for the replay. The
        parameters are recorded with the states, in their transaction, changed or not
        (`memory_parameters`: what `parameters_disagreement` compares settings.toml's with).
        Computed from a snapshot, without the write lock (a review session in another
        terminal goes on rating), and written with the log as it was; where another process
        wrote meanwhile, computed again. Returns how many cards' states changed (a state that
        had drifted from the log keeps its drift, which the doctor repairs).

        Args:
            saving: the settings' parameters are new, written to settings.toml once this
                commits (`optimize --write`), which holds `replaced` until then (None: the
                defaults): where it never does, the next command says so.

        Raises:
            StoreBusy: another process kept the database locked (nothing was changed).
        """
        from . import scheduler as sched
        from .memory_parameters import as_recorded

        scheduler = sched.make_scheduler(self.settings)
        record = (as_recorded(self.settings.parameters), saving, as_recorded(replaced))
        for _ in range(2):
            with self.store.snapshot():
                version = self.store.data_version()
                made_at, changed = self._recomputed(scheduler, now)
            with self.store.transaction():
                if self.store.data_version() == version:
                    return self._write_recompute(scheduler, made_at, changed, record)
        with self.store.transaction():  # written to all along: computed inside the lock
            return self._write_recompute(scheduler, *self._recomputed(scheduler, now), record)

    def parameters_saved(self, now: datetime) -> None:
        """The settings' parameters, which a `recompute_memory` with `saving` stood the
        states on, reached settings.toml: recorded at `now`, so that a later change there (the
        parameters put back by hand) is told as a hand edit, not as a `--write` stopped before
        the file. Where the log cannot take it now (busy past the wait, a full disk), nothing
        is recorded: the file and the states agree as they are."""
        from .memory_parameters import as_recorded

        self.store.record_parameters_if_possible(now, as_recorded(self.settings.parameters))

    def parameters_disagreement(self, now: datetime, *, write: bool) -> Disagreement | None:
        """Where the memory states stand on other FSRS parameters than the settings' (see
        memory_parameters.py): one row read, and, only where there is no record and the
        settings have parameters of their own, whether the log holds a review that makes a
        memory state (undone and cram ratings make none). With `write` (the command writes),
        a log with neither record nor such review records those parameters at `now`: the
        states its first reviews make stand on them, not on the defaults that no record means
        (a new log with the defaults writes nothing)."""
        record = self.store.memory_parameters()
        if record is None and self.settings.parameters is None:
            return None  # (most learners, until they fit: nothing more read, nor imported)
        from .memory_parameters import as_recorded, disagreement

        own = as_recorded(self.settings.parameters)
        if record is None and own is not None and write and not self.store.has_scheduled_reviews():
            self.store.record_parameters(now, own)
            return None
        return disagreement(record, self.settings.parameters, self.store.has_scheduled_reviews)

    def stale_memory_states(self) -> int:
        """How many studied cards' memory states a recompute with the settings' parameters
        would change (nothing is written): 0 where they agree; more where the parameters in
        settings.toml were edited by hand, or an `optimize --write` was killed between saving
        them and recomputing (SIGKILL, which no handler sees). Whenever it is asked: a
        recompute follows every review in the log (`recompute_memory`), so the time it
        would be made at changes no state (it took one, and the doctor read the system's
        clock for it, not the command's)."""
        import json

        from . import scheduler as sched

        scheduler = sched.make_scheduler(self.settings)
        wanted = [float(w) for w in scheduler.parameters]
        with self.store.snapshot():
            used = self.store.schedulers_since_recompute()
            # every state stands on these parameters already (most learners: no replay, which
            # costs the doctor as much again as its own)
            if all(json.loads(text).get("parameters") == wanted for text in used):
                return 0
            return len(self._changed(scheduler))

    def _write_recompute(
        self,
        scheduler: Scheduler,
        made_at: datetime,
        changed: list[CardState],
        record: tuple[Parameters, bool, Parameters],
    ) -> int:
        parameters, saving, replaced = record
        self.store.record_parameters(made_at, parameters, saving=saving, replaced=replaced)
        if not changed:  # a replay without it gives the same states: the log stays as it is
            return 0
        self.store.record_recompute(made_at, scheduler.to_json())
        self.store.replace_states(changed)
        self.store.restate_crammed(made_at, changed)  # (a cram rating timed after it)
        return len(changed)

    def _recomputed(self, scheduler: Scheduler, now: datetime) -> tuple[datetime, list[CardState]]:
        """When a recompute made now is logged, and the states it changes."""
        latest = (self.store.latest_scheduled(), self.store.latest_recompute())
        made_at = max([now, *(moment + _MICROSECOND for moment in latest if moment is not None)])
        return made_at, self._changed(scheduler)

    def _changed(self, scheduler: Scheduler) -> list[CardState]:
        """The states a recompute under `scheduler` changes (made after every review, at
        whatever time: see `recomputed`)."""
        from collections import defaultdict

        from .replay import recomputed

        histories: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
        for card_id, rating, moment, _, _ in self.store.scheduled_log():
            histories[card_id].append((rating, parse_time(moment)))
        changed = []
        for card_id, state in self.store.states().items():
            if state.fsrs and card_id in histories:
                new = recomputed(state, histories[card_id], scheduler)
                if new != state:
                    changed.append(new)
        return changed

    def fit(self, tz: tzinfo | None = None) -> optimize.Fit:
        """Fit FSRS parameters to this log (undone and cram ratings left out) and prove them
        on held-out reviews.

        Raises:
            StudyError: too few reviews to fit.
        """
        history = (
            (card_id, rating, parse_time(moment))
            for card_id, rating, moment, _, _ in self.store.scheduled_log()
        )
        from . import optimize

        items, reviews, cards, item_cards = optimize.fsrs_items(
            history, self.settings.day_starts_at, tz
        )
        return optimize.fit(items, reviews=reviews, cards=cards, item_cards=item_cards)
