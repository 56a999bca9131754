"""Whether the cards' memory states stand on the FSRS parameters of settings.toml.

Each recompute of the memory states records the parameters it used, in the transaction that
writes the states (store_parameters.py, migration 0011); `optimize --write` commits that
first and writes settings.toml after. The two disagree where the learner edited the
parameters by hand, or a `--write` was stopped (SIGKILL, a power cut) between its commit and
the file: each command that schedules compares them (`disagreement`, one row read) and says
so, where only the doctor's full replay found it.

A log with no record stands on fsrs's defaults, the parameters every studycli scheduled with
before it had any of its own; one that has no review yet (none that makes a state: undone and
cram ratings make none) stands on nothing, and agrees with any (a learner's own parameters set
before the first review are recorded when the log is first opened to study:
`Study.parameters_disagreement`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from studycli.records import Record

Parameters = tuple[float, ...] | None  # settings.toml's `parameters`; None: fsrs's defaults


class ParametersRecord(Record):
    """A record of the parameters of the memory states. parameters: () where a log upgraded
    to the record held states made with several. saving: written by `optimize --write`,
    which writes them to settings.toml once this commits (and records that it did: a record
    without `saving` follows); replaced: settings.toml's until then."""

    made_at: datetime
    parameters: Parameters
    saving: bool = False
    replaced: Parameters = None


class Disagreement(Record):
    """The memory states stand on other parameters than settings.toml's. unsaved: those of an
    `optimize --write` that never reached settings.toml (it still holds those it replaced);
    made_at: when the states were recomputed (None: never)."""

    unsaved: bool
    made_at: datetime | None


def disagreement(
    record: ParametersRecord | None, parameters: Parameters, reviewed: Callable[[], bool]
) -> Disagreement | None:
    """Where the memory states, as `record` says (None: none, they stand on the defaults),
    stand on other parameters than `parameters` (settings.toml's); None where they agree, or
    where nothing is `reviewed` and no record says otherwise.

    Args:
        record: the log's latest (`Store.memory_parameters`).
        parameters: settings.toml's (None: fsrs's defaults).
        reviewed: whether the log holds a review that makes a memory state (asked only
            where there is no record and settings.toml has parameters of its own).
    """
    wanted = as_recorded(parameters)
    if record is None:
        return None if wanted is None or not reviewed() else Disagreement(False, None)
    if record.parameters == wanted:
        return None
    unsaved = record.saving and record.replaced == wanted
    return Disagreement(unsaved, record.made_at)


def as_recorded(parameters: Sequence[float] | None) -> Parameters:
    """`parameters` as a record holds them: fsrs's defaults, written out, as None. (Where
    they are not None, settings.toml's check of their bounds imported fsrs already.)"""
    if parameters is None:
        return None
    from fsrs.scheduler import DEFAULT_PARAMETERS

    found = tuple(float(p) for p in parameters)
    return None if found == tuple(DEFAULT_PARAMETERS) else found
