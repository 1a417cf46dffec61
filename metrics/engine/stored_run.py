"""The engine's run at the data's latest instant, stored in the store at load.

`ingest` calls `store_run` on the store it is about to publish (the engine registers it,
see metrics/engine/__init__.py: storage never imports the engine). The snapshot then reads
these tables instead of running the engine over every case (snapshot.derived_tables).
The per-case tables registered by then (snapshot.PER_CASE_TABLES: the subjects register
theirs when imported) are stored beside it, each row with its case's settled_at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from metrics import sqlfiles
from metrics.engine.freshness import latest_instant
from metrics.engine.obligations import EXPORT_COLUMNS, clock_cursor, obligations_arrow
from metrics.engine.snapshot import (
    PER_CASE_TABLES,
    PerCaseTable,
    Snapshot,
    StoredRun,
    added_up_store_name,
    engine_tables,
    per_case_store_name,
    read_stored_run,
    tables_from_rows,
)
from metrics.errors import LoadError
from metrics.storage.config import Config, config_from_json
from metrics.storage.ingest import STORE_FORMAT
from metrics.storage.obligation_files import ComputedRun, drop_given, given_run
from metrics.storage.store import stored_config

RUN_SQL = sqlfiles.statements(sqlfiles.read(__file__, "stored_run.sql"))
GIVEN_CASES_SQL = sqlfiles.read(__file__, "given_cases.sql")
NEVER = np.iinfo(np.int64).max  # a row never settled, in snapshot's settled arrays
WEEK_MICROS = 7 * 24 * 3600 * 1_000_000


def store_run(con: duckdb.DuckDBPyConnection) -> None:
    """Store the snapshot's tables as of the data's latest instant, each case with its settled_at.

    When the load was given obligations a cluster computed (`ingest --obligations`), they
    are taken instead of running the engine, once `given_rows` has checked they fit.
    """
    config = stored_config(con)
    moment = latest_instant(con)
    given = given_run(con)
    if given is None:
        obligations, facts = engine_tables(con, moment, config)
    else:
        obligations, facts = tables_from_rows(con, given_rows(con, given[0], given[1], moment, config), moment, config)
        drop_given(con)
    cur = con.cursor()
    try:
        cur.execute("set preserve_insertion_order = true")  # the stored obligations keep the snapshot's order
        cur.register("run_obligation_rows", obligations)
        cur.register("run_case_fact_rows", facts)
        values: dict[str, object] = {"as_of": moment, "config": config.to_json(), "format": STORE_FORMAT}
        for statement in RUN_SQL:
            cur.execute(statement, sqlfiles.bind(statement, values))
    finally:
        cur.close()
    run = read_stored_run(con, moment)  # the rows in stored order, with each row's settled_at
    snap = Snapshot(con, moment, config, run.obligations, run.case_facts)
    for per_case in list(PER_CASE_TABLES.values()):
        name = per_case_store_name(per_case)
        if per_case.combine is None:
            _store_per_case(con, name, snap.table(per_case))
        else:
            _store_by_week(con, name, per_case, snap, run)


def _store_per_case(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    """Store a per-case table by its cases' settled_at (never settled last), as the run's tables are."""
    cur = con.cursor()
    try:
        cur.execute("set preserve_insertion_order = true")
        cur.register("per_case_rows", rows)
        cur.execute(
            f'create or replace table "{name}" as '
            "select t.*, k.settled_at from per_case_rows t join sla_run_cases k using (case_id) "
            "order by k.settled_at nulls last, t.case_id"
        )
    finally:
        cur.close()


def _store_by_week(
    con: duckdb.DuckDBPyConnection, name: str, per_case: PerCaseTable, snap: Snapshot, run: StoredRun
) -> None:
    """Store a table of groups of cases built per week of settling, each week's rows dated by its last settled_at.

    The rows never settled (a clock running at the run's instant) form the last part, undated.
    The same rows added up (`combine`) are stored beside: the table at the run's own instant.
    """
    parts = []
    for (first, last), (first_fact, last_fact) in _weeks(run.obligations_settled, run.facts_settled):
        week = dataclasses.replace(
            snap,
            obligations=run.obligations.slice(first, last - first),
            case_facts=run.case_facts.slice(first_fact, last_fact - first_fact),
        )
        rows = per_case.build(week)
        settled = max(
            int(run.obligations_settled[last - 1]) if last > first else 0,
            int(run.facts_settled[last_fact - 1]) if last_fact > first_fact else 0,
        )
        dated = None if settled == NEVER else dt.datetime.fromtimestamp(settled / 1_000_000, dt.UTC)
        parts.append(rows.append_column("settled_at", pa.array([dated] * rows.num_rows, pa.timestamp("us", "UTC"))))
    if not parts:
        parts.append(per_case.build(snap).append_column("settled_at", pa.array([], pa.timestamp("us", "UTC"))))
    weekly = pa.concat_tables(parts)
    cur = con.cursor()
    try:
        cur.execute("set preserve_insertion_order = true")
        cur.register("per_week_rows", weekly)
        cur.execute(f'create or replace table "{name}" as select * from per_week_rows')
        # and added up over every case, as a snapshot at the run's own instant reads it
        cur.register("parts", weekly.drop_columns(["settled_at"]))
        cur.execute(f'create or replace table "{added_up_store_name(per_case)}" as {per_case.combine}')
    finally:
        cur.close()


def given_rows(
    con: duckdb.DuckDBPyConnection, run: ComputedRun, folder: str, moment: dt.datetime, config: Config
) -> pa.Table:
    """The given obligations as the engine's rows, refused unless computed from this very data.

    They must be as of the data's latest instant, with the same configuration and store
    format, and cover exactly the cases the engine would compute (sql/given_cases.sql).
    """
    if run.as_of != moment:
        raise LoadError(
            f"{folder}: the obligations were computed as of {run.as_of:%Y-%m-%dT%H:%M:%SZ}, but this data's "
            f"latest instant is {moment:%Y-%m-%dT%H:%M:%SZ}; compute them with --as-of {moment:%Y-%m-%dT%H:%M:%SZ}"
        )
    if run.format != STORE_FORMAT or config_from_json(run.config_json) != config:
        raise LoadError(
            f"{folder}: the obligations were computed with another configuration (or an older engine) "
            "than this dataset's; compute them again from this dataset"
        )
    schema = obligations_arrow(con, moment, config, case_id="").schema  # the engine's types, no case computed
    if not _has_table(con, "sla_given_obligations"):
        rows = schema.empty_table()
    else:
        cur = con.cursor()
        try:
            cols = ", ".join(f'"{c}"' for c in EXPORT_COLUMNS)
            rows = cur.sql(f"select {cols} from sla_given_obligations order by case_id, seq").to_arrow_table()
        finally:
            cur.close()
        rows = rows.cast(schema)
    cur = clock_cursor(con, moment, config)  # calendar_zones: which regions are calendars
    try:
        cur.register("given_rows", rows)
        expected, given, foreign = cur.execute(GIVEN_CASES_SQL, {"as_of": moment}).fetchall()[0]
    finally:
        cur.close()
    if expected != given or foreign:
        raise LoadError(
            f"{folder}: holds the obligations of {given:,} cases, but this data has {expected:,} cases to compute "
            f"({foreign:,} of its cases are not in the data); compute them again from this dataset"
        )
    return rows


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    cur = con.cursor()
    try:
        return bool(cur.execute("select count(*) from duckdb_tables() where table_name = ?", [name]).fetchall()[0][0])
    finally:
        cur.close()


def _weeks(
    obligations: npt.NDArray[np.int64], facts: npt.NDArray[np.int64]
) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """Row spans (obligations, case facts) of each week of settled_at, then of the never settled.

    Both tables are in settled_at order and a case's rows share its settled_at, so each week's
    spans hold the same cases.
    """
    weeks = [np.where(settled == NEVER, NEVER, settled // WEEK_MICROS) for settled in (obligations, facts)]
    for key in np.unique(np.concatenate(weeks)):
        spans = [
            (int(np.searchsorted(w, key, side="left")), int(np.searchsorted(w, key, side="right"))) for w in weeks
        ]
        yield spans[0], spans[1]
