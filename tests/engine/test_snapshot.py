"""Snapshot.derive: a table built once per snapshot and name, whichever threads ask for it at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest

import metrics.subjects  # noqa: F401  (every per-case table registered)
from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import (
    ENCODED,
    ENCODED_COLUMNS,
    PER_CASE_TABLES,
    Snapshot,
    open_snapshot,
    take_snapshot,
)
from metrics.storage.ingest import ingest
from metrics.storage.store import connect


@pytest.fixture
def snap(make_dataset: Callable[..., Path], db_path: Path) -> Iterator[Snapshot]:
    ingest(make_dataset(), db_path)
    snapshot = open_snapshot(db_path, "2026-03-12T00:00:00Z")
    yield snapshot
    snapshot.con.close()


def test_many_threads_build_a_derived_table_once(snap: Snapshot) -> None:
    builds = 0
    start = threading.Barrier(8)

    def build() -> pa.Table:
        nonlocal builds
        builds += 1
        time.sleep(0.05)  # long enough for every other thread to arrive while this one builds
        return snap.query("select case_id from case_facts order by case_id")

    def ask(_: int) -> pa.Table:
        start.wait()
        return snap.derive("open_cases", build)

    with ThreadPoolExecutor(8) as pool:
        tables = list(pool.map(ask, range(8)))
    assert builds == 1
    assert all(t is tables[0] for t in tables)
    assert snap.query("select count(*) as n from open_cases").column("n").to_pylist() == [2]


def test_a_build_may_derive_another_table_and_use_the_cursor(snap: Snapshot) -> None:
    def inner() -> pa.Table:
        return snap.query("select case_id from case_facts where case_id = 'C1'")

    def outer() -> pa.Table:
        snap.derive("c1_only", inner)
        return snap.query("select count(*) as n from c1_only")

    assert snap.derive("outer_count", outer).column("n").to_pylist() == [1]
    assert snap.query("select * from outer_count, c1_only").num_rows == 1


def test_a_failed_build_stores_nothing_and_is_tried_again(snap: Snapshot) -> None:
    def broken() -> pa.Table:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        snap.derive("x", broken)
    table = pa.table({"v": [1]})
    assert snap.derive("x", lambda: table) is table
    assert snap.derive("x", broken) is table  # built: never built again


def test_a_replaced_snapshot_has_a_cache_of_its_own(snap: Snapshot) -> None:
    """dataclasses.replace (e.g. fewer accounts) must not inherit tables derived from other data."""
    snap.derive("x", lambda: pa.table({"v": [1]}))
    other = dataclasses.replace(snap, accounts=("A1",))
    fresh = pa.table({"v": [2]})
    assert other.derive("x", lambda: fresh) is fresh


def test_readers_are_lent_again_across_threads(snap: Snapshot) -> None:
    """Each Streamlit run is a new thread: its queries take up the cursor an earlier run gave back."""
    with snap.reader() as first:
        pass

    def lent() -> object:
        with snap.reader() as cur:
            return cur

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(lent).result() is first


def test_a_lent_reader_sees_tables_derived_after_it_was_opened(snap: Snapshot) -> None:
    assert snap.query("select count(*) as n from case_facts").column("n").to_pylist() == [2]  # opens one
    snap.derive("later", lambda: pa.table({"v": [7]}))
    assert snap.query("select v from later").column("v").to_pylist() == [7]


def test_many_threads_query_at_once_each_on_a_cursor_of_its_own(snap: Snapshot) -> None:
    start = threading.Barrier(8)
    held: list[object] = []
    guard = threading.Lock()

    def ask(i: int) -> list[str]:
        start.wait()
        with snap.reader() as cur:
            with guard:
                assert all(cur is not other for other in held)  # nobody else holds it meanwhile
                held.append(cur)
            rows = cur.sql("select case_id from case_facts where case_id <> ? order by 1", params=[f"C{i}"])
            ids = rows.to_arrow_table().column("case_id").to_pylist()
            with guard:
                held.remove(cur)
            return ids

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(ask, range(8)))
    assert results[1] == ["C2"] and results[2] == ["C1"]
    assert all(r == ["C1", "C2"] for i, r in enumerate(results) if i not in (1, 2))


def test_a_reader_whose_borrower_failed_is_not_lent_again(snap: Snapshot) -> None:
    with pytest.raises(RuntimeError), snap.reader() as broken:
        raise RuntimeError("interrupted")
    with snap.reader() as cur:
        assert cur is not broken


def test_attributes_are_held_encoded_and_queries_return_their_values(snap: Snapshot) -> None:
    """The snapshot keeps ENCODED_COLUMNS dictionary-encoded, derived or not; SQL still reads plain strings."""
    earlier = snap.as_of - dt.timedelta(days=1)
    derived = take_snapshot(snap.con, earlier)
    full = take_snapshot(snap.con, earlier, derive=False)
    assert derived.run is not None and full.run is None  # one from the stored run, one from the engine alone
    for each in (snap, derived, full, snap.of_accounts(["A1"])):
        for which, table in (("obligations", each.obligations), ("case_facts", each.case_facts)):
            for name in ENCODED_COLUMNS[which]:
                assert table.schema.field(name).type == ENCODED, (which, name)
    sql = "select account_id, kind, status, count(*) as n from obligations group by all order by all"
    rows = derived.query(sql)
    assert rows.schema.field("status").type == pa.string()
    assert rows.num_rows > 1
    assert rows.to_pylist() == full.query(sql).to_pylist()


def test_snapshots_and_the_stored_run_are_freed_without_the_garbage_collector(
    make_dataset: Callable[..., Path], db_path: Path
) -> None:
    """No reference cycle holds a snapshot or the stored run: reference counting alone frees them.

    The dashboard freezes what its first page leaves alive (`ui.state.settle_memory`): a cycle
    through the store's rows would then outlive a reload of the store.
    """
    ingest(make_dataset(), db_path)
    con = connect(db_path, read_only=True)
    latest = latest_instant(con)
    gc.collect()
    gc.disable()
    try:
        snapshots = [take_snapshot(con, latest), take_snapshot(con, latest - dt.timedelta(days=2))]
        for snapshot in snapshots:
            for per_case in PER_CASE_TABLES.values():
                snapshot.table(per_case)
            snapshot.query("select count(*) from case_facts")  # a reader lent and given back
        assert all(snapshot.run is not None for snapshot in snapshots)  # derived from the stored run
        held = [weakref.ref(snapshot) for snapshot in snapshots]
        run = weakref.ref(snapshots[0].run)
        del snapshots, snapshot
        assert [ref() for ref in held] == [None, None]
        con.close()
        del con
        assert run() is None
    finally:
        gc.enable()
