"""The engine's run at the data's latest instant, stored in the store at load.

`ingest` calls `store_run` on the store it is about to publish (the engine registers it,
see metrics/engine/__init__.py: storage never imports the engine). The snapshot then reads
these tables instead of running the engine over every case (snapshot.derived_tables).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from metrics import sqlfiles
from metrics.engine.freshness import latest_instant
from metrics.engine.obligations import EXPORT_COLUMNS, clock_cursor, obligations_arrow
from metrics.engine.snapshot import engine_tables, tables_from_rows
from metrics.errors import LoadError
from metrics.storage.config import Config, config_from_json
from metrics.storage.ingest import STORE_FORMAT
from metrics.storage.obligation_files import ComputedRun, drop_given, given_run
from metrics.storage.store import stored_config

RUN_SQL = sqlfiles.statements(sqlfiles.read(__file__, "stored_run.sql"))
GIVEN_CASES_SQL = sqlfiles.read(__file__, "given_cases.sql")


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
