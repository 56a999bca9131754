"""The FSRS parameters the cards' memory states stand on, as the log records them
(`ParametersMixin`, a part of `Store`): the latest record (`memory_parameters`), a new one
(`record_parameters`, inside the transaction of the states it stands for), and whether the log
holds a review that makes a state yet (`has_scheduled_reviews`). memory_parameters.py says what
a record means.

`Store` (store.py) inherits it; it works through `StoreConnection` (store_connection.py) on the
`memory_parameters` table that migrations.py makes (0011).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from .store_connection import StoreConnection
from .store_sql import _LOG_FROM, SCHEDULED
from .times import iso, parse_time

if TYPE_CHECKING:  # imported where a record is read: a log with none needs it not
    from .memory_parameters import ParametersRecord


class ParametersMixin(StoreConnection):
    """The parameters of the memory states, recorded (see store.py)."""

    def memory_parameters(self) -> ParametersRecord | None:
        """The latest record (one row, read by its key); None where there is none, or the
        schema has no table for it (an older database read as it is)."""
        try:
            row = self.conn.execute(
                "SELECT made_at, parameters, saving, replaced FROM memory_parameters"
                " ORDER BY id DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:  # (no such table: `_has_table` would cost a query)
            return None
        if row is None:
            return None
        from .memory_parameters import ParametersRecord

        made_at, parameters, saving, replaced = row
        return ParametersRecord(
            made_at=parse_time(made_at),
            parameters=_loaded(parameters),
            saving=bool(saving),
            replaced=_loaded(replaced),
        )

    def record_parameters(
        self,
        made_at: datetime,
        parameters: Sequence[float] | None,
        *,
        saving: bool = False,
        replaced: Sequence[float] | None = None,
    ) -> None:
        """Record that from `made_at` on the memory states stand on `parameters` (None: fsrs's
        defaults); inside the caller's transaction, if any. `saving`: they are to be written
        to settings.toml once it commits, where `replaced` are until then."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO memory_parameters (made_at, parameters, saving, replaced)"
                " VALUES (?, ?, ?, ?)",
                (iso(made_at), _dumped(parameters), int(saving), _dumped(replaced)),
            )

    def record_parameters_if_possible(
        self, made_at: datetime, parameters: Sequence[float] | None
    ) -> bool:
        """`record_parameters`, where the log can take it now; False where it cannot (busy
        past the wait, a full disk), nothing recorded."""
        from studycli.errors import StudyError

        try:
            self.record_parameters(made_at, parameters)
        except (StudyError, sqlite3.Error):
            return False
        return True

    def has_scheduled_reviews(self) -> bool:
        """Whether the log holds a review that makes a memory state: one neither undone nor
        cram (those leave the card's state as it was: a log of them alone holds no state)."""
        found = self.conn.execute(f"SELECT 1 FROM {_LOG_FROM} WHERE {SCHEDULED} LIMIT 1")
        return found.fetchone() is not None


def _dumped(parameters: Sequence[float] | None) -> str | None:
    import json

    return None if parameters is None else json.dumps([float(p) for p in parameters])


def _loaded(text: str | None) -> tuple[float, ...] | None:
    import json

    return None if text is None else tuple(float(p) for p in json.loads(text))
