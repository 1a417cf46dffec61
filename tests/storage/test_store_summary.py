"""store_summary: what the Data page shows of a store, computed in metrics (the page runs no SQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from metrics.storage.contract import TABLES
from metrics.storage.ingest import ensure_store, ingest
from metrics.storage.store import connect, store_summary

ORPHANS = """
    case_id,at,author_type,public
    C1,2026-03-09T18:30:00Z,agent,true
    C9,2026-03-10T02:00:00Z,agent,
    C8,2026-03-10T03:00:00Z,agent,
    C2,2026-03-09T02:00:00Z,agent,
"""


def test_the_summary_counts_every_table_and_the_quarantine(make_dataset: Callable[..., Path], db_path: Path) -> None:
    """Two unknown cases and one response before its case opened: three quarantined rows, two rules."""
    ingest(make_dataset(responses__csv=ORPHANS), db_path)
    con = connect(db_path, read_only=True)
    try:
        summary = store_summary(con)
    finally:
        con.close()
    assert [t.table for t in summary.tables] == [t.name for t in TABLES] + ["quarantine"]
    assert (summary.rows("cases"), summary.rows("responses"), summary.quarantined) == (2, 1, 3)
    assert summary.rows("accounts") == 2 and summary.rows("engagements") == 0
    with pytest.raises(KeyError):
        summary.rows("no_such_table")
    frame = summary.table_frame()
    assert list(frame.columns) == ["table", "rows"]
    assert dict(zip(frame["table"], frame["rows"], strict=True))["quarantine"] == 3

    assert list(summary.quarantine.columns) == ["file", "line", "rule", "reason", "record"]
    assert list(summary.quarantine["line"]) == [3, 4, 5]  # by file and line
    assert list(summary.quarantine["rule"]) == ["unknown_case", "unknown_case", "before_opened"]
    assert '"C9"' in summary.quarantine["record"].iloc[0]  # the row as read, as JSON text

    by_rule = summary.quarantine_by_rule
    assert list(by_rule.columns) == ["file", "rule", "rows"]
    assert by_rule.to_dict("records") == [
        {"file": "responses.csv", "rule": "before_opened", "rows": 1},
        {"file": "responses.csv", "rule": "unknown_case", "rows": 2},
    ]
    assert int(by_rule["rows"].sum()) == summary.quarantined

    loads = summary.loads
    assert list(loads.columns) == [
        "loaded_at", "dataset", "files", "rows_read", "rows_stored", "rows_quarantined",
    ]
    assert len(loads) == 1 and int(loads["rows_quarantined"].iloc[0]) == 3
    assert loads["loaded_at"].iloc[0].tzinfo is not None  # an instant, in UTC


def test_loads_are_newest_first(make_dataset: Callable[..., Path], db_path: Path) -> None:
    ingest(make_dataset(), db_path)
    delta = make_dataset(
        cases__csv="case_id,account_id,opened_at,severity,closed_at\nC3,A1,2026-03-12T09:00:00Z,3,\n",
        responses__csv="case_id,at,author_type,public\nC3,2026-03-12T10:00:00Z,agent,true\n",
    )
    ingest(delta, db_path, append=True)
    con = connect(db_path, read_only=True)
    try:
        loads = store_summary(con).loads
    finally:
        con.close()
    assert len(loads) == 2
    assert loads["loaded_at"].iloc[0] >= loads["loaded_at"].iloc[1]
    assert loads["rows_stored"].iloc[0] < loads["rows_stored"].iloc[1]  # the delta holds fewer rows


def test_a_clean_store_has_an_empty_quarantine(make_dataset: Callable[..., Path], db_path: Path) -> None:
    ingest(make_dataset(), db_path)
    con = connect(db_path, read_only=True)
    try:
        summary = store_summary(con)
    finally:
        con.close()
    assert summary.quarantined == 0
    assert summary.quarantine.empty and summary.quarantine_by_rule.empty
    assert list(summary.quarantine_by_rule.columns) == ["file", "rule", "rows"]


def test_ensure_store_builds_once_and_keeps_an_existing_store(make_dataset: Callable[..., Path], tmp_path: Path) -> None:
    """The first start builds the store from the dataset; a later start leaves it as it is."""
    path = tmp_path / "first" / "support.duckdb"
    assert ensure_store(path, make_dataset()) == path
    built = path.stat().st_mtime_ns
    assert ensure_store(path, tmp_path / "no such dataset") == path  # not read: the store exists
    assert path.stat().st_mtime_ns == built
    con = connect(path, read_only=True)
    try:
        assert store_summary(con).rows("cases") == 2
    finally:
        con.close()
