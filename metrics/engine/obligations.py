"""The SLA engine: every response obligation as of a moment, set-wise in DuckDB.

The rules are docs/sla-clock.md; the query is sql/obligations.sql. Calendars, zones and
targets come from the configuration and are handed to the query as Arrow tables, so the
store itself stays exactly what was loaded and a read-only connection suffices.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from metrics import sqlfiles
from metrics.engine.calendars import Lookups, calendar_table, horizon_days, interval_table, lookup_tables, target_table
from metrics.storage.config import Config
from metrics.storage.store import stored_config

# The engine's statements: temp-table stages, then the result query.
STAGES = sqlfiles.statements(sqlfiles.read(__file__, "obligations.sql"))
RESULT_SQL = STAGES.pop()
# The macro package_in_force(account, moment): the package in force on the moment's local date.
PACKAGE_IN_FORCE_SQL = sqlfiles.read(__file__, "package_in_force.sql")
# The macros that read calendar_steps and calendar_reaches (W and its inverse by bucket).
LOOKUP_SQL = sqlfiles.statements(sqlfiles.read(__file__, "calendar_lookups.sql"))

# The obligations export, exactly the contract's columns in its order.
EXPORT_COLUMNS = (
    "case_id", "account_id", "package", "kind", "seq", "start_at", "severity", "calendar",
    "target_seconds", "deadline_at", "end_at", "elapsed_seconds", "status", "breached_at",
)
# In the order of the ENUM obligation_status of sql/obligations.sql (the metrics count each by name).
STATUSES = ("met", "breached", "pending", "cancelled", "untargeted", "suspended")


def as_utc(moment: dt.datetime | str) -> dt.datetime:
    """An aware UTC datetime from an ISO string or datetime (naive means UTC), whole seconds."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class ClockTables:
    """What a clock cursor registers for one as-of: the calendars' intervals, their zones, the targets."""

    intervals: pa.Table
    zones: pa.Table
    targets: pa.Table

    @functools.cached_property
    def lookups(self) -> Lookups:
        """The bucket tables of W and its inverse over `intervals`, made once for every run that shares them."""
        return lookup_tables(self.intervals.sort_by([("cal", "ascending"), ("start_s", "ascending")]))


def clock_tables(con: duckdb.DuckDBPyConnection, as_of: dt.datetime, config: Config) -> ClockTables:
    """The calendar intervals from two days before the first case to the deadline horizon past `as_of`."""
    cur = con.cursor()
    try:
        first_opened = cur.execute("select min(opened_at) from cases").fetchall()[0][0]
    finally:
        cur.close()
    first = (first_opened or as_of).date() - dt.timedelta(days=2)
    last = as_of.date() + dt.timedelta(days=horizon_days(config))
    return ClockTables(interval_table(config, first, last), calendar_table(config), target_table(config))


def clock_cursor(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime,
    config: Config | None = None,
    tables: ClockTables | None = None,
) -> duckdb.DuckDBPyConnection:
    """A cursor with calendar_intervals, calendar_zones and sla_targets registered for `as_of`.

    It also holds the macro `package_in_force(account, moment)` (sql/package_in_force.sql), the
    one rule for which package is in force at an instant. `tables` are `clock_tables` made
    before for the same store, as-of and configuration (a snapshot makes them once for all its cursors).
    """
    cur = con.cursor()
    cur.execute("set TimeZone = 'UTC'")
    if tables is None:
        tables = clock_tables(cur, as_of, config or stored_config(cur))
    cur.register("calendar_intervals", tables.intervals)
    cur.register("calendar_zones", tables.zones)
    cur.register("sla_targets", tables.targets)
    cur.execute(PACKAGE_IN_FORCE_SQL)
    return cur


def run_stages(
    cur: duckdb.DuckDBPyConnection,
    as_of: dt.datetime,
    case_id: str | None = None,
    accounts: list[str] | None = None,
    lookups: Lookups | None = None,
) -> None:
    """Build the engine's sla_* temp tables on `cur` (from clock_cursor) for `as_of`.

    `case_id` or `accounts` narrow the work to one case or some accounts' cases. `lookups`:
    the `ClockTables.lookups` of the tables `cur` was made with, when the caller holds them.
    """
    register_lookups(cur, lookups)
    values: dict[str, object] = {"as_of": as_of, "case_id": case_id, "accounts": accounts}
    for statement in STAGES:
        cur.execute(statement, sqlfiles.bind(statement, values))


def register_lookups(cur: duckdb.DuckDBPyConnection, lookups: Lookups | None = None) -> None:
    """Register the bucket tables of W and its inverse (calendars.lookup_tables) and their macros on `cur`."""
    if lookups is None:
        lookups = lookup_tables(cur.sql("select * from calendar_intervals order by cal, start_s").to_arrow_table())
    for name, table in (("calendar_steps", lookups.steps), ("calendar_reaches", lookups.reaches)):
        # copied into DuckDB, whose planner then knows their size and builds its hash tables on them
        cur.register("sla_lookup_arrow", table)
        cur.execute(f"create or replace temp table {name} as select * from sla_lookup_arrow")
        cur.unregister("sla_lookup_arrow")
    keys = {name: int(getattr(lookups, name)) for name in ("width", "first", "last", "work_width", "work_last")}
    for statement in LOOKUP_SQL:
        cur.execute(statement.format(**keys))


def obligations_arrow(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime | str,
    config: Config | None = None,
    case_id: str | None = None,
    accounts: list[str] | None = None,
) -> pa.Table:
    """All obligations (or one case's, or some accounts') as of `as_of`, by case and seq."""
    moment = as_utc(as_of)
    cur = clock_cursor(con, moment, config)
    try:
        run_stages(cur, moment, case_id, accounts)
        return result_arrow(cur)
    finally:
        cur.close()


def result_arrow(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """The engine's rows from the stages `run_stages` built on `cur`, by case and seq.

    DuckDB sorts sla_result's narrow rows by oid; each case's own columns are then taken from
    sla_cases by cid, which numbers the cases 1..n in case_id order. Sorting the rows with their
    strings joined took 1.2 s of the engine's 6 at a million cases, this about 0.7. cid, seq and
    kind are read off oid (cid in its high 32 bits, seq in the low; seq 0 is the initial
    response), so the sort does not carry them.
    """
    rows = cur.sql("select * exclude (cid, kind, seq) from sla_result order by oid").to_arrow_table()
    cases = cur.sql("select case_id, account_id, package from sla_cases order by cid").to_arrow_table()
    oid = rows["oid"]
    at = pc.subtract(pc.shift_right(oid, 32), 1)
    seq = pc.bit_wise_and(oid, 0xFFFFFFFF).cast(pa.int32())
    columns = {name: cases[name].take(at) for name in cases.column_names}
    columns["seq"] = seq
    columns["kind"] = pc.if_else(pc.equal(seq, 0), "initial", "follow_up")
    for name in EXPORT_COLUMNS:
        if name not in columns:  # sla_result's ENUMs come as dictionaries: the export has their text
            column = rows[name]
            columns[name] = column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
    return pa.table([columns[name] for name in EXPORT_COLUMNS], names=list(EXPORT_COLUMNS))


def compute_obligations(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime | str,
    config: Config | None = None,
    case_id: str | None = None,
    accounts: list[str] | None = None,
) -> pd.DataFrame:
    """All obligations (or one case's, or some accounts') as of `as_of` as a DataFrame."""
    return obligations_arrow(con, as_of, config, case_id, accounts).to_pandas()


def export_obligations(
    con: duckdb.DuckDBPyConnection, as_of: dt.datetime | str, out: Path, config: Config | None = None
) -> int:
    """Write the obligations export to `out` (.csv or .parquet by its ending); return the row count."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{out.name}: the export is written as .csv or .parquet")
    table = obligations_arrow(con, as_of, config)
    cur = con.cursor()
    try:
        cur.register("export_rows", table)
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            options = "format csv, header true, timestampformat '%Y-%m-%dT%H:%M:%SZ'"
        else:
            options = "format parquet, compression zstd"
        cur.execute(f"copy export_rows to {sqlfiles.literal(str(out))} ({options})")
    finally:
        cur.close()
    return int(table.num_rows)

