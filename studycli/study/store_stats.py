"""What the statistics read of the log (`StatsMixin`, a part of `Store`): the ratings of a time
window with each card's interval before it (`recent_reviews`), each card's passes in review
(`review_outcomes`; `outcomes_differing` and `recount_outcomes`, the doctor's check and repair of
the table they are kept in, `outcome_table_missing` and `recreate_outcome_table` of the table
itself, `outcome_triggers_differing` and `recreate_outcome_triggers` of the triggers that keep
it), each card's memory state in the few fields the figures use
(`memory_fields`), and the last rating before a time (`latest_rating_before`: the streak).

`Store` (store.py) inherits it; stats.py computes the statistics. It works through
`StoreConnection` (store_connection.py) on the tables that migrations.py makes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime

from studycli.errors import StoreError

from .review_records import ReviewMethod
from .store_connection import StoreConnection
from .store_sql import (
    _LOG_FROM,
    NOT_CRAM,
    OUTCOME_MIGRATION,
    OUTCOME_TABLE,
    OUTCOME_TRIGGERS,
    recount_outcomes,
    same_sql,
)
from .times import iso, parse_time

_ARROW = sqlite3.sqlite_version_info >= (3, 38, 0)  # `->`: a JSON field's text
# (due, last_review) of a rating's fsrs state: the two fields of `state_after` that true
# retention reads (its interval), taken out in SQL, not the whole state parsed in Python;
# then whether it holds none (''), as a cram rating of a new card logs (and no other rating).
# A state that is not JSON gives neither field (json_extract failed the whole query on it,
# "malformed JSON", and on a cram rating's '' too: `stats` failed after cramming a new card).
_SPAN = (
    "CASE WHEN json_valid({0}.state_after) THEN json_extract({0}.state_after, '$.due') END,"
    " CASE WHEN json_valid({0}.state_after) THEN json_extract({0}.state_after, '$.last_review')"
    f" END, {{0}}.state_after = '' AND {{0}}.method = '{ReviewMethod.CRAM.value}'"
)


class StatsMixin(StoreConnection):
    """What the statistics read of `Store` (see store.py)."""

    def recent_reviews(
        self, since: datetime, until: datetime, card_ids: Collection[str] | None = None
    ) -> list[tuple]:
        """Every rating from `since` to before `until` (cram included, undone ones not), in
        time order, as (card_id, rating, reviewed_at as stored, method, queue, previous), where
        `previous` is (due, last_review) as stored in the `state_after` of the card's rating
        before it (its fsrs state then; None if none, or if that rating logged none: a cram
        rating of a new card); of `card_ids` only when given. Reads
        the window's ratings and, through `reviews_by_card_time`, each of its cards' last one
        before it: not their histories (on the synthetic million-review log, 0.3 s where a
        window function over each card's whole history took 5.6 s).

        Raises:
            StoreError: a rating's state after does not read (edited by hand, or damaged):
                which card's review it is, and that `studycli doctor` rebuilds it."""
        import json  # here, not at the top: `due` needs none

        chosen = self._among(card_ids)
        bounds = {"since": iso(since), "until": iso(until)}
        window = self.conn.execute(
            f"SELECT r.card_id, r.rating, r.reviewed_at, r.method, r.queue, {_SPAN.format('r')}"
            f" FROM {_LOG_FROM} WHERE u.review_id IS NULL{chosen}"
            " AND r.reviewed_at >= :since AND r.reviewed_at < :until ORDER BY r.reviewed_at, r.id",
            bounds,
        ).fetchall()
        # each card's state before the window: the id of its last rating before it (from
        # the covering index), that rating's state read by id. The cards are the window's
        # rows' own, handed over as a JSON list in card order (so the index is read in its
        # order): a second scan of the window for them, SELECT DISTINCT, took a fifth of the
        # query (a million-review log: 150-190 ms CPU, now 105-115).
        cards = json.dumps(sorted({row[0] for row in window}))
        previous: dict[str, tuple | None] = {
            card_id: _span(card_id, at, due, last, empty) if found else None
            for card_id, found, at, due, last, empty in self.conn.execute(
                f"SELECT w.card_id, p.id, p.reviewed_at, {_SPAN.format('p')} FROM (SELECT"
                " j.value AS card_id, (SELECT p.id FROM reviews p WHERE p.card_id = j.value"
                "  AND p.reviewed_at < :since AND p.id NOT IN (SELECT review_id FROM undos)"
                "  ORDER BY p.reviewed_at DESC, p.id DESC LIMIT 1) id"
                " FROM json_each(:cards) j) w LEFT JOIN reviews p ON p.id = w.id",
                {"since": bounds["since"], "cards": cards},
            )
        }
        rows = []
        for card_id, rating, reviewed_at, method, queue, due, last, empty in window:
            rows.append((card_id, rating, reviewed_at, method, queue, previous[card_id]))
            previous[card_id] = _span(card_id, reviewed_at, due, last, empty)
        return rows

    def review_outcomes(self) -> dict[str, tuple[int, int]]:
        """Per card: (reviews, passed) of its schedule's reviews given in the review state
        (Again is a fail), over the whole log; a card with none is left out. Read from the
        table the log's triggers keep (migration 0012; on a million-review log, counted from
        the log at each call, 0.2-0.35 s); counted from the log where the table is missing
        (an older database read as it is)."""
        if not self._has_table("review_outcomes"):
            return self.review_outcomes_counted()
        return {
            card_id: (count, passed)
            for card_id, count, passed in self.conn.execute(
                "SELECT card_id, reviews, passed FROM review_outcomes WHERE reviews > 0"
            )
        }

    def review_outcomes_counted(self) -> dict[str, tuple[int, int]]:
        """`review_outcomes` counted from every review of the log, as migration 0012 counts
        them first."""
        # All of them less the undone ones: a look-up in `undos` for each of a million rows
        # took a quarter of the query's time, and few are undone (CROSS JOIN: those read
        # first, each review by its id, where the planner scanned the log for them).
        counts = {
            card_id: (count, passed)
            for card_id, count, passed in self.conn.execute(
                "SELECT r.card_id, COUNT(*), SUM(r.rating > 1) FROM reviews r"
                f" WHERE {NOT_CRAM} AND r.queue = 'review' GROUP BY r.card_id"
            )
        }
        for card_id, count, passed in self.conn.execute(
            "SELECT r.card_id, COUNT(*), SUM(r.rating > 1) FROM undos u"
            f" CROSS JOIN reviews r ON r.id = u.review_id WHERE {NOT_CRAM} AND r.queue = 'review'"
            " GROUP BY r.card_id"
        ):
            total, ok = counts[card_id]
            counts[card_id] = (total - count, ok - passed)
        return {card_id: counted for card_id, counted in counts.items() if counted[0]}

    def outcomes_differing(self) -> list[str]:
        """The cards whose row in the table of outcomes (migration 0012) is not what the log
        counts (`review_outcomes_counted`), by id: a row wrong, missing, or of a card with no
        such review (a hand edit, or a write that went round the triggers); the doctor asks.
        [] where there is no table (an older database read as it is). One count of the log:
        a million reviews, 0.2-0.25 s CPU."""
        if not self._has_table("review_outcomes"):
            return []
        kept = {
            card_id: (count, passed)
            for card_id, count, passed in self.conn.execute(
                "SELECT card_id, reviews, passed FROM review_outcomes"
            )
            if (count, passed) != (0, 0)  # (a card whose every such review was undone)
        }
        counted = self.review_outcomes_counted()
        return sorted(
            card for card in kept.keys() | counted.keys() if kept.get(card) != counted.get(card)
        )

    def recount_outcomes(self) -> None:
        """Count the table of outcomes again from the log (`store_sql.recount_outcomes`),
        inside the caller's write transaction."""
        recount_outcomes(self.conn)

    def outcome_table_missing(self) -> bool:
        """Whether the table of outcomes is missing from a database that ran the migration
        that makes it (0012): dropped by hand, while its triggers, on the log's tables, stayed
        and fail every rating ("no such table"). An older database read as it is lacks it
        rightly (`review_outcomes` counts from the log there)."""
        if self._has_table("review_outcomes"):
            return False
        ran = "SELECT 1 FROM migrations WHERE name = ?"
        return self.conn.execute(ran, (OUTCOME_MIGRATION,)).fetchone() is not None

    def recreate_outcome_table(self) -> None:
        """Make the table of outcomes again, empty, inside the caller's write transaction; it
        is then to be counted (`recount_outcomes`)."""
        self.conn.execute(OUTCOME_TABLE.strip())
        self._tables["review_outcomes"] = True

    def outcome_triggers_differing(self) -> tuple[list[str], list[str]]:
        """The triggers that keep the table of outcomes (`store_sql.OUTCOME_TRIGGERS`) that
        the schema lacks, and those whose SQL is not theirs, by name: dropped or edited by
        hand, or left dropped by an import that failed to make it again (`Store.bulk`). The
        table, counted again, would drift again from the next rating. ([], []) where there is
        no table (an older database read as it is)."""
        if not self._has_table("review_outcomes"):
            return [], []
        names = ", ".join("?" * len(OUTCOME_TRIGGERS))
        found = dict(
            self.conn.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})",
                list(OUTCOME_TRIGGERS),
            ).fetchall()
        )
        missing = [name for name in OUTCOME_TRIGGERS if name not in found]
        altered = [
            name
            for name, sql in OUTCOME_TRIGGERS.items()
            if name in found and not same_sql(found[name], sql)
        ]
        return missing, altered

    def outcome_triggers_foreign(self) -> list[str]:
        """The triggers, by name, that name the table of outcomes and are none of those that
        keep it (`store_sql.OUTCOME_TRIGGERS`): one of them renamed by hand (made again by the
        doctor as missing, the two then counted each review twice), or another program's.
        [] where there is no table."""
        if not self._has_table("review_outcomes"):
            return []
        names = ", ".join("?" * len(OUTCOME_TRIGGERS))
        return [
            name
            for (name,) in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                " AND instr(lower(sql), 'review_outcomes') > 0"
                f" AND name NOT IN ({names}) ORDER BY name",
                list(OUTCOME_TRIGGERS),
            )
        ]

    def drop_triggers(self, names: Collection[str]) -> None:
        """Drop the triggers `names`, inside the caller's write transaction."""
        for name in names:
            self.conn.execute('DROP TRIGGER IF EXISTS "{}"'.format(name.replace('"', '""')))

    def recreate_outcome_triggers(self, names: Collection[str]) -> None:
        """Make the triggers `names` of `store_sql.OUTCOME_TRIGGERS` again as they are there
        (one of that name dropped first), inside the caller's write transaction; the table
        they keep is then to be counted again (`recount_outcomes`)."""
        for name in names:
            self.conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            self.conn.execute(OUTCOME_TRIGGERS[name].strip())

    def memory_fields(self) -> list[tuple]:
        """Every card the store knows (removed ones included) that has an fsrs state or is
        suspended, as (card_id, suspended, whether it has a state, then the state's fields that
        the statistics use: state, due, last_review and stability as JSON text), taken out in
        SQL (the 16,000 states of the synthetic collection parsed in Python took 0.1-0.2 s);
        or, with the fields None, the state as stored, to be read whole: where it is not JSON
        (damaged: its reader says so), and with SQLite before 3.38 (no `->`, which gives a
        number as written, where SQLite's own reading of it may differ from Python's in the
        last bit). A card never rated and not suspended is left out (nothing to count)."""
        whole = "json_valid(fsrs)" if _ARROW else "0"
        fields = ", ".join(
            f"CASE WHEN {whole} THEN {field} END"
            for field in (
                "json_extract(fsrs, '$.state')",
                "json_extract(fsrs, '$.due')",
                "json_extract(fsrs, '$.last_review')",
                "fsrs -> '$.stability'" if _ARROW else "NULL",
            )
        )
        return self.conn.execute(
            f"SELECT card_id, suspended, fsrs IS NOT NULL, CASE WHEN {whole} THEN NULL ELSE"
            f" fsrs END, {fields} FROM cards WHERE fsrs IS NOT NULL OR suspended"
        ).fetchall()

    def latest_rating_before(
        self, moment: datetime, card_ids: Collection[str] | None = None
    ) -> datetime | None:
        """When the last rating (cram included, undone ones not) before `moment` was given;
        of `card_ids` only when given. None if there is none."""
        # (`+`: the time index, read back from `moment` to the first of `card_ids`' ratings,
        # not the cards' index with all their ratings sorted at each call: the streak asks
        # once a day of it, and `stats --deck` of a three-year streak on a log of a million
        # ratings took 100 s, 93 ms a day)
        where = self._among(card_ids, "+r.card_id")
        row = self.conn.execute(
            f"SELECT r.reviewed_at FROM {_LOG_FROM} WHERE u.review_id IS NULL"
            f" AND r.reviewed_at < ?{where} ORDER BY r.reviewed_at DESC LIMIT 1",
            (iso(moment),),
        ).fetchone()
        return parse_time(row[0]) if row else None


def _span(card_id: str, reviewed_at: str, due, last, empty: int) -> tuple[str, str | None] | None:
    """(due, last_review) of the state a rating of `card_id` at `reviewed_at` (as stored)
    logged, as `_SPAN` takes them out; None where it logged none. (Whether they read as
    times, stats' `_interval_days` says: it parses those it needs.)

    Raises:
        StoreError: the state is not JSON, or lacks its due time.
    """
    if empty:
        return None
    if isinstance(due, str) and (last is None or isinstance(last, str)):
        return due, last
    raise StoreError(
        f"the review log's state after the rating of {card_id} at "
        f"{reviewed_at[:19].replace('T', ' ')} UTC does not read (not the JSON of an fsrs card "
        "with its due time): run `studycli doctor`, which rebuilds every review's state from "
        "the log"
    )
