"""Time travel: a snapshot derived from the run stored at load equals a full engine run, exactly.

`take_snapshot` reads the run `ingest` stored at the data's latest instant and runs the
engine again only on the cases that are not settled at the as-of (docs/sla-clock.md, "Time
travel"). The reference is `take_snapshot(..., derive=False)`: the engine over every case.
The as-of instants are drawn over the adversarial random cases of tests/random_cases.py
(DST weeks, pauses, severity changes both ways, reopens, suspensions, package versions and
accounts' overrides from a date): at random, and exactly
on (and one second around) a deadline, a breach, an obligation's end, a pause boundary, a
severity change, an opening, a DST transition and a date terms change from; both tables must hold the same rows,
every column equal.

Set TIME_TRAVEL_SEED to explore other draws; a failure names the instant.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import Snapshot, stored_run_as_of, take_snapshot
from metrics.storage.config import Config
from metrics.storage.ingest import STORE_FORMAT, fingerprint, ingest
from metrics.storage.store import connect, stored_config
from tests.random_cases import DST_ZONES, dst_transitions, make_random_cases, write_dataset

SEED = int(os.environ.get("TIME_TRAVEL_SEED", "20261206"))
CASES = 1200
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    config_override, _, tables = make_random_cases(SEED, CASES)
    folder = tmp_path_factory.mktemp("time_travel")
    write_dataset(folder, config_override, tables)
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    yield folder, db


@pytest.fixture(scope="module")
def con(store: tuple[Path, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(store[1], read_only=True)
    yield connection
    connection.close()


def instants(cur: duckdb.DuckDBPyConnection, sql: str) -> list[dt.datetime]:
    return [row[0].astimezone(dt.UTC) for row in cur.execute(sql).fetchall() if row[0] is not None]


def drawn_instants(con: duckdb.DuckDBPyConnection) -> list[dt.datetime]:
    """At least 50 as-of instants: on the events the rules turn on, one second around them, and at random."""
    rng = random.Random(SEED)
    latest = latest_instant(con)
    full = take_snapshot(con, latest, derive=False).obligations
    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")
        first = instants(cur, "select min(opened_at) from cases")[0]
        kinds = {
            "deadline": [t.as_py() for t in full.column("deadline_at") if t.is_valid],
            "breach": [t.as_py() for t in full.column("breached_at") if t.is_valid],
            "end": [t.as_py() for t in full.column("end_at") if t.is_valid],
            "pause": instants(cur, "select \"at\" from case_changes where field = 'status'"),
            "severity change": instants(cur, "select \"at\" from case_changes where field = 'severity'"),
            "opening": instants(cur, "select opened_at from cases"),
            "DST": [t for zone in DST_ZONES for year in (2025, 2026) for t in dst_transitions(zone, year)],
            # the UTC midnights of the dates versions and overrides hold from
            "terms from": [
                dt.datetime.combine(c.valid_from, dt.time(), dt.UTC)
                for c in (*stored_config(con).overrides, *(v for vs in stored_config(con).versions.values() for v in vs))
                if c.valid_from is not None
            ],
        }
    finally:
        cur.close()
    chosen = [latest, latest - SECOND, latest + dt.timedelta(days=3)]
    for kind, moments in kinds.items():
        assert moments, f"the draw holds no {kind}: no instant on one can be tested"
        for moment in rng.sample(sorted(moments), 3):
            chosen += [moment.astimezone(dt.UTC), moment - SECOND, moment + SECOND]
    span = int((latest - first).total_seconds())
    chosen += [first + dt.timedelta(seconds=rng.randrange(span)) for _ in range(12)]
    return sorted(set(chosen))


def assert_same(derived: Snapshot, full: Snapshot) -> None:
    assert derived.as_of == full.as_of
    assert derived.obligations.schema == full.obligations.schema
    assert derived.case_facts.schema == full.case_facts.schema
    by_obligation = [("case_id", "ascending"), ("seq", "ascending")]
    tables = [(t.sort_by(by_obligation), f.sort_by(by_obligation)) for t, f in [(derived.obligations, full.obligations)]]
    tables += [(derived.case_facts.sort_by("case_id"), full.case_facts.sort_by("case_id"))]
    for table, full_table in tables:  # the same rows; a snapshot's rows come in no particular order
        assert table.num_rows == full_table.num_rows
        for name in full_table.column_names:  # by value: an encoded column's dictionary depends on its rows
            assert values(table.column(name)).equals(values(full_table.column(name))), name


def values(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def test_the_run_is_stored_under_terms_that_change_over_time(con: duckdb.DuckDBPyConnection) -> None:
    """The random draw's config has package versions and accounts' overrides, so every comparison
    below covers them (a case's terms are fixed by its opening date, as its package is)."""
    config = stored_config(con)
    assert set(config.versions) == {"Gold", "Silver", "Platinum"}
    assert config.overridden_accounts == {"A0003", "A0004", "A0005"}


def test_the_store_holds_the_run_at_the_latest_instant(con: duckdb.DuckDBPyConnection) -> None:
    assert stored_run_as_of(con, stored_config(con)) == latest_instant(con)


def test_derived_snapshots_equal_the_full_run_at_every_drawn_instant(con: duckdb.DuckDBPyConnection) -> None:
    moments = drawn_instants(con)
    assert len(moments) >= 50
    rerun_somewhere = False
    for moment in moments:
        full = take_snapshot(con, moment, derive=False)
        derived = take_snapshot(con, moment)
        try:
            assert_same(derived, full)
        except AssertionError as failure:
            raise AssertionError(f"as of {moment.isoformat()} (seed {SEED}): {failure}") from None
        rerun_somewhere |= full.obligations.column("end_at").null_count > 0  # a clock running at the instant
    assert rerun_somewhere, "no drawn instant had a running clock: the derivation was never exercised"


def test_some_accounts_only(con: duckdb.DuckDBPyConnection) -> None:
    """The weekly update's snapshot (a few accounts, a week's end) takes the same path."""
    accounts = sorted(row[0] for row in con.execute("select account_id from accounts").fetchall())[:3]
    for moment in (latest_instant(con), dt.datetime(2026, 3, 30, 9, 30, 17, tzinfo=dt.UTC)):
        assert_same(take_snapshot(con, moment, accounts=accounts), take_snapshot(con, moment, accounts=accounts,
                                                                                  derive=False))


def test_some_accounts_once_the_whole_run_is_in_memory(store: tuple[Path, Path]) -> None:
    """Once a whole-book snapshot has read the stored run (the dashboard's case), the accounts' rows are picked there."""
    con = connect(store[1], read_only=True)  # a connection of its own: nothing read on it yet
    try:
        take_snapshot(con, latest_instant(con))  # reads the stored run into memory
        accounts = sorted(row[0] for row in con.execute("select account_id from accounts").fetchall())[3:6]
        for moment in (latest_instant(con), dt.datetime(2026, 3, 30, 9, 30, 17, tzinfo=dt.UTC)):
            assert_same(take_snapshot(con, moment, accounts=accounts),
                        take_snapshot(con, moment, accounts=accounts, derive=False))
    finally:
        con.close()


def test_another_configuration_runs_the_engine_in_full(con: duckdb.DuckDBPyConnection) -> None:
    """The stored run was made with the store's configuration: another one must not read it."""
    other = Config(**{**stored_config(con).__dict__, "breach_severity": "final"})
    assert stored_run_as_of(con, other) is None
    moment = dt.datetime(2026, 10, 5, 1, 0, 0, tzinfo=dt.UTC)
    assert_same(take_snapshot(con, moment, other), take_snapshot(con, moment, other, derive=False))


@pytest.mark.parametrize("older", [
    ("drop table sla_run",),  # store format 2: no run at all
    ("alter table sla_run drop column format",),  # format 3: a run stored in another order
])
def test_an_older_store_gets_the_full_run(store: tuple[Path, Path], tmp_path: Path, older: tuple[str]) -> None:
    """A store loaded before this layout of the run still works: every snapshot runs the engine."""
    old = tmp_path / "old.duckdb"
    shutil.copy(store[1], old)
    writable = connect(old)
    writable.execute(older[0])
    writable.close()
    con = connect(old, read_only=True)
    try:
        assert stored_run_as_of(con, stored_config(con)) is None
        moment = dt.datetime(2025, 11, 3, 16, 0, 0, tzinfo=dt.UTC)
        assert_same(take_snapshot(con, moment), take_snapshot(con, moment, derive=False))
    finally:
        con.close()


def test_the_store_format_is_part_of_the_fingerprint(store: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Reloading identical files into a store of an older format rebuilds it (with the run)."""
    now = fingerprint(store[0])
    monkeypatch.setattr("metrics.storage.ingest.STORE_FORMAT", STORE_FORMAT - 1)
    assert fingerprint(store[0]) != now


def test_a_derived_snapshot_owns_only_the_rows_of_its_open_cases(con: duckdb.DuckDBPyConnection) -> None:
    """`own_bytes`, what the dashboard's bound on held moments counts, leaves out the stored run's rows.

    A full run owns every buffer of its tables, at least their `nbytes`; a derived snapshot
    of the same moment shares its settled rows with the stored run, so it owns less than its
    tables' `nbytes`, and less than the full run. At the run's own instant it shares every row.
    """
    latest = latest_instant(con)
    moment = latest - dt.timedelta(days=20)
    derived, full = take_snapshot(con, moment), take_snapshot(con, moment, derive=False)
    assert derived.stored_rows[0] > 0 and derived.obligations.num_rows > derived.stored_rows[0]
    full_bytes = full.obligations.nbytes + full.case_facts.nbytes
    assert full.own_bytes() >= full_bytes
    assert derived.own_bytes() < derived.obligations.nbytes + derived.case_facts.nbytes
    assert derived.own_bytes() < full.own_bytes()

    at_run = take_snapshot(con, latest)
    clock = at_run.__dict__["_clock"]
    clock_bytes = clock.intervals.nbytes + clock.zones.nbytes + clock.targets.nbytes
    assert at_run.stored_rows[0] == at_run.obligations.num_rows
    # the calendars of its moment (their buffers' sizes, a few bytes of padding over nbytes), no row of its own
    assert at_run.own_bytes() < clock_bytes + 4096 < at_run.obligations.nbytes

    before = derived.own_bytes()
    derived.derive("a_table_of_its_own", lambda: pa.table({"n": pa.array(range(10_000), pa.int64())}))
    assert derived.own_bytes() >= before + 80_000  # what it derives is its own
