"""Per-case tables at any as-of: the stored copy's settled rows plus a build over the other cases.

Every table registered with `per_case_table` (the breaches, the follow-ups' lives, the
escalation events and firsts) is stored at load beside the engine's run;
a snapshot at another as-of takes the stored rows of the cases settled by then and builds
the table over the remaining cases alone (`Snapshot.table`). The reference is the same
build over a full engine run at that instant (`take_snapshot(..., derive=False)`), at the
instants of the time-travel test: on deadlines, breaches, pause boundaries, severity changes,
openings, DST transitions, one second around each, and at random. Same rows, every column;
for a table of counts that add up (`combine`: the cubes), the same rows once added up, and
at the run's own instant the same rows as they are (the load stores them added up).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import metrics.subjects  # noqa: F401  (registers every per-case table before the load stores them)
from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import (
    PER_CASE_TABLES,
    PerCaseTable,
    Snapshot,
    added_up_store_name,
    per_case_store_name,
    take_snapshot,
)
from metrics.storage.ingest import ingest
from metrics.storage.store import connect
from metrics.subjects.attainment import attainment_summary, attainment_table
from metrics.subjects.filters import Filters
from metrics.subjects.governance import (
    PAUSE_DIMENSIONS,
    account_health,
    non_authorized_requests,
    non_authorized_summary,
    paused_share,
    reclassifications,
)
from metrics.subjects.utilization import utilization_by_term
from tests.engine.test_time_travel import CASES, SEED, drawn_instants
from tests.random_cases import make_random_cases, write_dataset

EXPECTED = {
    "attainment_cube", "breach_severities", "breaches", "case_cube", "case_days", "development_ticket_cases",
    "non_authorized_case_rows", "suspension_cases", "escalation_events", "escalation_firsts", "paused_cube",
    "severity_changes",
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    config_override, _, tables = make_random_cases(SEED, CASES)
    folder = tmp_path_factory.mktemp("per_case")
    write_dataset(folder, config_override, tables)
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    connection = connect(db, read_only=True)
    yield connection
    connection.close()


def rows(table: pa.Table) -> pd.DataFrame:
    """The table's rows by value, sorted (an encoded column's dictionary depends on the rows it was built from)."""
    values = [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in table.schema]
    frame = table.cast(pa.schema(values)).to_pandas()
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def added_up(con: duckdb.DuckDBPyConnection, per_case: PerCaseTable, table: pa.Table) -> pa.Table:
    """The table's rows added up by its `combine` query (as they are for a table without one)."""
    if per_case.combine is None:
        return table
    cur = con.cursor()
    try:
        cur.register("parts", table)
        return cur.sql(per_case.combine).to_arrow_table()
    finally:
        cur.close()


def stored_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()}


def test_the_load_stores_every_registered_table(con: duckdb.DuckDBPyConnection) -> None:
    assert set(PER_CASE_TABLES) >= EXPECTED
    names = stored_names(con)
    for per_case in PER_CASE_TABLES.values():
        assert per_case_store_name(per_case) in names, per_case.name
        assert (added_up_store_name(per_case) in names) == (per_case.combine is not None), per_case.name


def test_derived_tables_equal_a_build_over_a_full_run(con: duckdb.DuckDBPyConnection) -> None:
    moments = drawn_instants(con)
    rebuilt = set()
    repeated: dict[str, int] = {}  # rows beyond one per key, per table with `combine`, off the run's instant
    for moment in moments:
        derived = take_snapshot(con, moment)
        full = take_snapshot(con, moment, derive=False)
        assert derived.run is not None, "the snapshot was not derived from the stored run"
        for name in sorted(EXPECTED):
            per_case = PER_CASE_TABLES[name]
            got, want = derived.table(per_case), full.table(per_case)
            assert got.schema.names == want.schema.names, f"{name} as of {moment.isoformat()}"
            if moment != derived.run.as_of:  # the run's instant reads the stored copy added up: compared as is
                added = added_up(con, per_case, got)
                repeated[name] = repeated.get(name, 0) + got.num_rows - added.num_rows
                got = added
            try:
                pd.testing.assert_frame_equal(rows(got), rows(want))
            except AssertionError as failure:
                raise AssertionError(f"{name} as of {moment.isoformat()} (seed {SEED}): {failure}") from None
            if derived.stored_rows[0] < derived.obligations.num_rows and want.num_rows > 0:
                rebuilt.add(name)
    assert rebuilt == EXPECTED, f"never rebuilt over the unsettled cases: {EXPECTED - rebuilt}"
    # off the run's instant the rows are really left as they are (else the added-up comparison proves nothing)
    assert all(repeated[name] > 0 for name in ("attainment_cube", "paused_cube", "case_cube")), repeated


def cube_metrics(snap: Snapshot, filters: Filters) -> dict[str, object]:
    """Every metric that reads a table with `combine` (a cube), grouped and filtered several ways."""
    return {
        "attainment by kind, severity, package": attainment_table(snap, filters=filters),
        "attainment by account and calendar, weekly": attainment_table(snap, ("account_id", "calendar"), filters, "week"),
        "attainment by advisor, daily": attainment_table(snap, ("advisor",), filters, "day"),
        "attainment overall": attainment_table(snap, (), filters),
        "paused share by owner": paused_share(snap, filters),
        "paused share by every dimension": paused_share(snap, filters, PAUSE_DIMENSIONS),
        "utilization by term": utilization_by_term(snap, filters),
        "attainment summary": attainment_summary(snap, filters),
        "non-authorized requests": non_authorized_requests(snap, filters),
        "non-authorized summary": non_authorized_summary(snap, filters),
        "re-classifications": reclassifications(snap, filters),
        "biggest accounts' health": account_health(snap, filters, top=5),
    }


def test_metrics_over_tables_not_added_up_equal_a_full_run(con: duckdb.DuckDBPyConnection) -> None:
    """Every reader of a cube adds its rows up: over a derived snapshot it gives the full run's numbers."""
    moments = [m for m in drawn_instants(con) if m != latest_instant(con)][::12]
    first = con.execute("select cast(min(opened_at) as date), cast(max(opened_at) as date) from cases").fetchall()[0]
    filters = [Filters(), Filters(start=first[0], end=first[1], severities=(1, 3))]
    for moment in moments:
        derived, full = take_snapshot(con, moment), take_snapshot(con, moment, derive=False)
        for chosen in filters:
            got, want = cube_metrics(derived, chosen), cube_metrics(full, chosen)
            for name in want:
                where = f"{name} as of {moment.isoformat()} with {chosen}"
                if isinstance(want[name], pd.DataFrame):
                    pd.testing.assert_frame_equal(got[name], want[name], obj=where)
                else:
                    assert got[name] == want[name], where


def test_a_changed_definition_is_built_not_read(con: duckdb.DuckDBPyConnection) -> None:
    """A store loaded with another definition of a table holds rows the code would not make: never read them."""
    breaches = PER_CASE_TABLES["breaches"]
    changed = PerCaseTable(breaches.name, lambda snap: snap.query("select 1 as case_id"), breaches.definition + " ")
    snap = take_snapshot(con, latest_instant(con))
    assert snap.run is not None and snap.run.per_case(con, changed) is None
    assert snap.table(changed).num_rows == 1


def test_some_accounts_build_their_own(con: duckdb.DuckDBPyConnection) -> None:
    accounts = sorted(row[0] for row in con.execute("select account_id from accounts").fetchall())[:2]
    moment = latest_instant(con)
    snap = take_snapshot(con, moment, accounts=accounts)
    got = rows(snap.table(PER_CASE_TABLES["breaches"]))
    assert set(got["account_id"]) <= set(accounts)
    want = rows(take_snapshot(con, moment, accounts=accounts, derive=False).table(PER_CASE_TABLES["breaches"]))
    pd.testing.assert_frame_equal(got, want)


def test_missing_stored_copy_builds(tmp_path: Path) -> None:
    """A store loaded before per-case tables existed (none stored) still answers, by building."""
    config_override, _, tables = make_random_cases(SEED, 60)
    write_dataset(tmp_path, config_override, tables)
    db = tmp_path / "store.duckdb"
    ingest(tmp_path, db, strict=True)
    with duckdb.connect(str(db)) as writable:
        for per_case in PER_CASE_TABLES.values():
            writable.execute(f'drop table "{per_case_store_name(per_case)}"')
    con = connect(db, read_only=True)
    try:
        moment = latest_instant(con)
        snap = take_snapshot(con, moment)
        full = take_snapshot(con, moment, derive=False)
        for per_case in PER_CASE_TABLES.values():
            pd.testing.assert_frame_equal(rows(snap.table(per_case)), rows(full.table(per_case)))
    finally:
        con.close()
