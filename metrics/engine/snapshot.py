"""A snapshot: the store and every SLA obligation as of one moment, shared by all metrics.

The engine runs once per snapshot; every metric then queries the same `obligations`
and `case_facts` tables, so a page, an export and a weekly update built from one
snapshot can never disagree. `as_of` is always passed in, never read from a clock.
The snapshot's `obligations` are the engine's rows plus `final_severity` (the engine's
severity) with `severity` the severity each obligation is reported under
(`[reporting] breach_severity`, see `reported_severity`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from metrics import sqlfiles
from metrics.engine.obligations import as_utc, clock_cursor, obligations_arrow
from metrics.storage.config import Config
from metrics.storage.store import connect, stored_config

CASE_FACTS_SQL = sqlfiles.read(__file__, "case_facts.sql")
REPORTED_SEVERITY_SQL = sqlfiles.read(__file__, "reported_severity.sql")


class _DerivedTables:
    """The tables a snapshot derives lazily, each built at most once, safe across threads.

    A snapshot is shared by every session looking at the same moment (the dashboard caches
    it per process), so several script threads may ask for the same table at once. One
    lock guards the mapping; each name has a lock of its own held while its table is built,
    so two threads never build the same table twice, and building one table blocks neither
    the readers of the others nor a build that needs another derived table. A build that
    raises stores nothing: the next caller tries again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards _tables and _building, never held during a build
        self._tables: dict[str, pa.Table] = {}
        self._building: dict[str, threading.Lock] = {}

    def items(self) -> list[tuple[str, pa.Table]]:
        """The tables built so far (a copy: safe to iterate while others build)."""
        with self._lock:
            return list(self._tables.items())

    def get_or_build(self, name: str, build: Callable[[], pa.Table]) -> pa.Table:
        with self._lock:
            table = self._tables.get(name)
            if table is not None:
                return table
            name_lock = self._building.setdefault(name, threading.Lock())
        with name_lock:
            with self._lock:  # checked again: another thread may have built it while this one waited
                table = self._tables.get(name)
            if table is not None:
                return table
            table = build()
            with self._lock:
                self._tables[name] = table
                del self._building[name]
            return table


@dataclass(frozen=True)
class Snapshot:
    """The data as of `as_of`: obligations computed, ready for any metric to query."""

    con: duckdb.DuckDBPyConnection
    as_of: dt.datetime
    config: Config
    obligations: pa.Table  # the engine's rows; `severity` as reported, `final_severity` the engine's
    case_facts: pa.Table
    accounts: tuple[str, ...] | None = None  # the snapshot covers only these accounts when set
    # Tables derived once per snapshot by the metrics that share them (see `derive`); the
    # snapshot's only mutable part, thread-safe. Not an init argument, so
    # `dataclasses.replace` gives a changed snapshot a cache of its own.
    _derived: _DerivedTables = field(default_factory=_DerivedTables, init=False, compare=False, repr=False)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor with `obligations`, `case_facts` and the calendar tables.

        Each caller gets its own cursor (a DuckDB connection is not shared across
        threads) and closes it when done. Both tables are computed once per snapshot.
        """
        cur = clock_cursor(self.con, self.as_of, self.config)
        cur.register("obligations", self.obligations)
        cur.register("case_facts", self.case_facts)
        for name, table in self._derived.items():
            cur.register(name, table)
        return cur

    def derive(self, name: str, build: Callable[[], pa.Table]) -> pa.Table:
        """A table computed once per snapshot and registered as `name` in every later cursor.

        Metrics that filter the same small extract again and again (the open queue, the
        breaches, an aggregate per day) build it here instead of rescanning millions of rows.
        Safe from several threads at once: `build` runs at most once per name and snapshot
        (unless it raises); it may itself use `cursor()`, `query()` or `derive()` another name.
        """
        return self._derived.get_or_build(name, build)

    def query(self, sql: str, params: dict[str, object] | list[object] | None = None) -> pa.Table:
        """Run one query against the snapshot's tables and return its rows as Arrow."""
        cur = self.cursor()
        try:
            return cur.sql(sql, params=params).to_arrow_table()
        finally:
            cur.close()

    @property
    def reporting_timezone(self) -> str:
        return self.config.reporting_timezone


def take_snapshot(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime | str,
    config: Config | None = None,
    accounts: list[str] | tuple[str, ...] | None = None,
) -> Snapshot:
    """Compute every obligation as of `as_of` (of some accounts only, when given)."""
    moment = as_utc(as_of)
    config = config or stored_config(con)
    wanted = list(accounts) if accounts is not None else None
    engine_rows = obligations_arrow(con, moment, config, accounts=wanted)
    cur = clock_cursor(con, moment, config)
    try:
        table = reported_severity(cur, engine_rows, moment, config.breach_severity)
        cur.register("obligations", table)
        cur.execute(CASE_FACTS_SQL, {"as_of": moment, "accounts": wanted})
        facts = cur.sql("select * from case_facts").to_arrow_table()
    finally:
        cur.close()
    return Snapshot(con, moment, config, table, facts, tuple(wanted) if wanted is not None else None)


def reported_severity(cur: duckdb.DuckDBPyConnection, engine_rows: pa.Table, as_of: dt.datetime, mode: str) -> pa.Table:
    """The engine's rows with `final_severity` added and `severity` the severity reported.

    `final_severity` is the engine's (and the obligations export's) severity: the one in force
    when the obligation ended or at as-of. `severity` follows `[reporting] breach_severity`:
    under `at_breach` (the default) a breached obligation is reported under the severity in force
    at its `breached_at` (a change at exactly that instant is in force, as in the engine's pieces),
    so downgrading a case after a miss never moves the miss to a milder column; under `final`,
    and for every obligation that did not breach, `severity` equals `final_severity`. Metrics
    read `severity`; the export never reads this table (it runs the engine itself).
    """
    cur.register("engine_obligations", engine_rows)
    try:
        return cur.sql(REPORTED_SEVERITY_SQL, params={"as_of": as_of, "mode": mode}).to_arrow_table()
    finally:
        cur.unregister("engine_obligations")


def open_snapshot(db_path: Path | str, as_of: dt.datetime | str) -> Snapshot:
    """A snapshot on a read-only connection to the store at `db_path` (for the CLI and tests)."""
    return take_snapshot(connect(db_path, read_only=True), as_of)
