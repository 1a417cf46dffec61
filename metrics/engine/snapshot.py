"""A snapshot: the store and every SLA obligation as of one moment, shared by all metrics.

The tables are built once per snapshot; every metric then queries the same `obligations`
and `case_facts` tables, so a page, an export and a weekly update built from one
snapshot can never disagree. `as_of` is always passed in, never read from a clock.
The snapshot's `obligations` are the engine's rows plus `final_severity` (the engine's
severity) with `severity` the severity each obligation is reported under
(`[reporting] breach_severity`, see `reported_severity`).

A store loaded by `ingest` holds the engine's run at the data's latest instant
(`stored_run.py`); a snapshot is then derived from it, running the engine only on the
cases that are not settled at the as-of (`derived_tables`, docs/sla-clock.md "Time
travel"), and its rows are in no particular order, as a query's are without ORDER BY.
A store without that run (loaded before it existed, or asked with another configuration)
gets the full run, as does `take_snapshot(..., derive=False)`.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from metrics import sqlfiles
from metrics.engine.obligations import as_utc, clock_cursor, result_arrow, run_stages
from metrics.storage.config import Config, config_from_json
from metrics.storage.ingest import STORE_FORMAT
from metrics.storage.store import connect, stored_config

CASE_FACTS_SQL = sqlfiles.read(__file__, "case_facts.sql")
REPORTED_SEVERITY_SQL = sqlfiles.read(__file__, "reported_severity.sql")
ONLY_CASES_SQL = sqlfiles.statements(sqlfiles.read(__file__, "only_cases.sql"))
RERUN_SQL, KEPT_OBLIGATIONS_SQL, KEPT_FACTS_SQL = sqlfiles.statements(sqlfiles.read(__file__, "derived_run.sql"))


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
    derive: bool = True,
) -> Snapshot:
    """Every obligation as of `as_of` (of some accounts only, when given).

    Derived from the run the store holds when it has one made with `config`; `derive=False`
    (or a store without it) runs the engine over every case: the same rows, only slower.
    """
    moment = as_utc(as_of)
    config = config or stored_config(con)
    wanted = list(accounts) if accounts is not None else None
    run_as_of = stored_run_as_of(con, config) if derive else None
    if run_as_of is None:
        table, facts = engine_tables(con, moment, config, wanted)
    else:
        table, facts = derived_tables(con, moment, config, wanted, run_as_of)
    return Snapshot(con, moment, config, table, facts, tuple(wanted) if wanted is not None else None)


def engine_tables(
    con: duckdb.DuckDBPyConnection,
    moment: dt.datetime,
    config: Config,
    accounts: list[str] | None = None,
    cases: list[str] | None = None,
) -> tuple[pa.Table, pa.Table]:
    """The snapshot's obligations and case facts straight from the engine (of some accounts, some cases).

    `cases` narrows the run to the listed cases (sql/only_cases.sql): every stage works per
    case, so a case's rows never depend on the others'.
    """
    cur = clock_cursor(con, moment, config)
    try:
        if cases is not None:
            for statement in ONLY_CASES_SQL:
                cur.execute(statement, {"cases": cases})
        run_stages(cur, moment, accounts=accounts)
        return _with_facts(cur, result_arrow(cur), moment, config, accounts)
    finally:
        cur.close()


def tables_from_rows(
    con: duckdb.DuckDBPyConnection, engine_rows: pa.Table, moment: dt.datetime, config: Config
) -> tuple[pa.Table, pa.Table]:
    """The snapshot's obligations and case facts from the engine's rows computed elsewhere (a cluster)."""
    cur = clock_cursor(con, moment, config)
    try:
        return _with_facts(cur, engine_rows, moment, config, None)
    finally:
        cur.close()


def _with_facts(
    cur: duckdb.DuckDBPyConnection,
    engine_rows: pa.Table,
    moment: dt.datetime,
    config: Config,
    accounts: list[str] | None,
) -> tuple[pa.Table, pa.Table]:
    """The engine's rows with the reported severity, and the case facts that read them."""
    table = reported_severity(cur, engine_rows, moment, config.breach_severity)
    cur.register("obligations", table)
    cur.execute(CASE_FACTS_SQL, {"as_of": moment, "accounts": accounts})
    facts = cur.sql("select * from case_facts").to_arrow_table()
    return table, facts


def stored_run_as_of(con: duckdb.DuckDBPyConnection, config: Config) -> dt.datetime | None:
    """The instant of the engine's run stored at load, when the store has one made with `config`."""
    cur = con.cursor()
    try:
        rows = cur.execute("select as_of, config, format from sla_run").fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):  # a store loaded before this layout of the run
        return None
    finally:
        cur.close()
    if len(rows) != 1 or rows[0][2] != STORE_FORMAT or config_from_json(rows[0][1]) != config:
        return None
    return as_utc(rows[0][0])


@dataclass(frozen=True)
class _StoredRun:
    """The stored run's tables, read once per connection, with each row's settled_at in epoch microseconds.

    The rows are stored by settled_at (never settled last), so the rows that hold at an
    as-of are a prefix of each table: a snapshot slices it without copying a row.
    """

    as_of: dt.datetime
    obligations: pa.Table
    case_facts: pa.Table
    obligations_settled: npt.NDArray[np.int64]
    facts_settled: npt.NDArray[np.int64]

    def holding(self, moment: dt.datetime) -> tuple[pa.Table, pa.Table]:
        """The stored rows that hold at `moment` (every row at the run's own instant)."""
        if moment == self.as_of:
            return self.obligations, self.case_facts
        key = int(moment.timestamp()) * 1_000_000
        n = int(np.searchsorted(self.obligations_settled, key, side="right"))
        m = int(np.searchsorted(self.facts_settled, key, side="right"))
        return self.obligations.slice(0, n), self.case_facts.slice(0, m)


# One stored run per connection (a connection sees one published store version for its life).
_STORED_RUNS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, _StoredRun] = weakref.WeakKeyDictionary()
_STORED_RUNS_LOCK = threading.Lock()  # held while a run is read: a second thread waits for it


def _stored_run(con: duckdb.DuckDBPyConnection, run_as_of: dt.datetime) -> _StoredRun:
    with _STORED_RUNS_LOCK:
        run = _STORED_RUNS.get(con)
        if run is None or run.as_of != run_as_of:
            run = _read_stored_run(con, run_as_of)
            _STORED_RUNS[con] = run
        return run


def _read_stored_run(con: duckdb.DuckDBPyConnection, run_as_of: dt.datetime) -> _StoredRun:
    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")  # instants typed as the engine's (a cursor starts on the machine's zone)
        obligations = cur.sql("select * from sla_run_obligations").to_arrow_table()
        facts = cur.sql("select * from sla_run_case_facts").to_arrow_table()
    finally:
        cur.close()

    def settled(table: pa.Table) -> npt.NDArray[np.int64]:
        micros = pc.cast(table.column("settled_at"), pa.timestamp("us", "UTC")).cast(pa.int64())
        return np.asarray(micros.fill_null(np.iinfo(np.int64).max).to_numpy(), dtype=np.int64)

    return _StoredRun(
        run_as_of,
        obligations.drop_columns(["settled_at"]),
        facts.drop_columns(["settled_at"]),
        settled(obligations),
        settled(facts),
    )


def derived_tables(
    con: duckdb.DuckDBPyConnection,
    moment: dt.datetime,
    config: Config,
    accounts: list[str] | None,
    run_as_of: dt.datetime,
) -> tuple[pa.Table, pa.Table]:
    """The snapshot's tables at `moment` from the stored run (sql/derived_run.sql).

    The stored rows of the cases settled by then, the engine's for the others: the rows of
    `engine_tables`, in another order (settled cases first).
    """
    values = {"as_of": moment, "run_as_of": run_as_of, "accounts": accounts}

    def params(sql: str) -> dict[str, object]:
        return sqlfiles.bind(sql, values)

    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")  # instants typed as the engine's (a cursor starts on the machine's zone)
        rerun = [row[0] for row in cur.execute(RERUN_SQL, params(RERUN_SQL)).fetchall()]
        if accounts is None:
            obligations, facts = _stored_run(con, run_as_of).holding(moment)
        else:
            obligations = cur.sql(KEPT_OBLIGATIONS_SQL, params=params(KEPT_OBLIGATIONS_SQL)).to_arrow_table()
            facts = cur.sql(KEPT_FACTS_SQL, params=params(KEPT_FACTS_SQL)).to_arrow_table()
    finally:
        cur.close()
    if not rerun:
        return obligations, facts
    fresh_obligations, fresh_facts = engine_tables(con, moment, config, accounts, rerun)
    return pa.concat_tables([obligations, fresh_obligations]), pa.concat_tables([facts, fresh_facts])


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
