"""The SLA engine on the seven worked examples of sla-rules.md section 6, and its exports.

Expected values are the ones the specification states; each comment shows the arithmetic.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from metrics.engine.obligations import (
    EXPORT_COLUMNS,
    STATUSES,
    as_utc,
    clock_cursor,
    compute_obligations,
    export_obligations,
    run_stages,
)
from metrics.storage.ingest import ingest

UTC = dt.UTC
AS_OF = "2026-12-01T00:00:00Z"

EXAMPLES = {
    "accounts.csv": """
        account_id,name,region
        G,Gold account,americas
        P,Platinum account,americas
        S,Silver account,americas
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        G,Gold,2026-01-01,2026-12-31
        P,Platinum,2026-01-01,2026-12-31
        S,Silver,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity
        E1,G,2026-03-06T23:00:00Z,2
        E2,P,2026-03-07T23:30:00Z,1
        E3a,G,2026-03-10T15:00:00Z,3
        E3b,G,2026-03-10T15:00:00Z,3
        E4,G,2026-03-10T14:00:00Z,3
        E5,P,2026-03-10T15:00:00Z,1
        E6,S,2026-03-10T09:00:00Z,1
        E7,G,2026-11-25T22:00:00Z,3
    """,
    "responses.csv": """
        case_id,at,author_type
        E1,2026-03-09T18:30:00Z,agent
        E2,2026-03-08T01:45:00Z,agent
        E3a,2026-03-10T18:30:00Z,agent
        E3b,2026-03-10T19:10:00Z,agent
        E4,2026-03-10T19:30:00Z,agent
        E5,2026-03-10T18:30:00Z,agent
        E6,2026-03-10T10:00:00Z,agent
        E6,2026-03-12T17:00:00Z,agent
        E7,2026-11-30T15:00:00Z,agent
    """,
    "case_changes.csv": """
        case_id,at,field,value
        E3a,2026-03-10T16:00:00Z,severity,1
        E3b,2026-03-10T16:00:00Z,severity,1
        E4,2026-03-10T19:00:00Z,severity,1
        E5,2026-03-10T18:00:00Z,severity,3
        E6,2026-03-10T12:00:00Z,status,pending_customer
        E6,2026-03-11T12:00:00Z,status,open
    """,
}


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def write_examples(folder: Path) -> Path:
    """Write EXAMPLES as a dataset in `folder`, load it, and return the store's path."""
    for name, text in EXAMPLES.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    db = folder / "store.duckdb"
    ingest(folder, db)
    return db


@pytest.fixture(scope="module")
def obligations(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    db = write_examples(tmp_path_factory.mktemp("examples"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_obligations(con, AS_OF).set_index(["case_id", "seq"])
    finally:
        con.close()


def test_example_1_weekend_and_dst(obligations):
    """Fri 16:00 MST gives 2 h, DST starts Sunday, Monday 07:00 MDT = 13:00Z + 6 h = 19:00Z."""
    row = obligations.loc[("E1", 0)]
    assert row.deadline_at == t("2026-03-09T19:00:00Z")
    assert row.status == "met"
    assert row.elapsed_seconds == 27000  # 2 h Friday + 5.5 h Monday (13:00Z-18:30Z)
    assert row.calendar == "americas"
    assert row.target_seconds == 8 * 3600


def test_example_2_24x7(obligations):
    """Platinum severity 1: 2 h around the clock from Sat 23:30Z, so breached at 01:30Z."""
    row = obligations.loc[("E2", 0)]
    assert row.status == "breached"
    assert row.breached_at == t("2026-03-08T01:30:00Z")
    assert row.elapsed_seconds == 8100  # 23:30Z to 01:45Z
    assert row.calendar == "24x7"


def test_example_3_upgrade_in_time(obligations):
    """Raised to 1 at 16:00Z: the severity-1 deadline is start + 4 h = 19:00Z; 18:30Z is met."""
    row = obligations.loc[("E3a", 0)]
    assert (row.status, row.severity, row.elapsed_seconds) == ("met", 1, 12600)
    assert row.deadline_at == t("2026-03-10T19:00:00Z")


def test_example_3_upgrade_in_time_then_late_response(obligations):
    """The same case answered at 19:10Z instead breaches at the 19:00Z deadline."""
    row = obligations.loc[("E3b", 0)]
    assert row.status == "breached"
    assert row.breached_at == t("2026-03-10T19:00:00Z")


def test_example_4_upgrade_too_late(obligations):
    """Raised to 1 at 19:00Z when its deadline (14:00Z + 4 h = 18:00Z) had passed: breached at 19:00Z."""
    row = obligations.loc[("E4", 0)]
    assert row.status == "breached"
    assert row.breached_at == t("2026-03-10T19:00:00Z")
    assert row.deadline_at == t("2026-03-10T18:00:00Z")
    assert row.elapsed_seconds == 19800  # 14:00Z to 19:30Z on 24x7
    assert row.end_at == t("2026-03-10T19:30:00Z")


def test_example_5_downgrade_after_breach(obligations):
    """Breached at 17:00Z as severity 1; the later downgrade to 3 does not undo it."""
    row = obligations.loc[("E5", 0)]
    assert row.status == "breached"
    assert row.breached_at == t("2026-03-10T17:00:00Z")
    assert (row.severity, row.calendar, row.target_seconds) == (3, "americas", 36000)
    # 10 business hours from Tue 15:00Z = 09:00 MDT: Tuesday gives 9 h (to 18:00 MDT = 00:00Z),
    # the tenth hour is Wed 07:00-08:00 MDT, so the deadline is Wed 08:00 MDT = 14:00Z
    assert row.deadline_at == t("2026-03-11T14:00:00Z")
    assert row.elapsed_seconds == 12600  # 15:00Z-18:30Z, all inside Tuesday's hours


def test_example_6_pause(obligations):
    """A 24 h pause moves the 32 h follow-up deadline from 03-11 18:00Z to 03-12 18:00Z."""
    row = obligations.loc[("E6", 1)]
    assert row.kind == "follow_up"
    assert row.start_at == t("2026-03-10T10:00:00Z")
    assert row.deadline_at == t("2026-03-12T18:00:00Z")
    assert row.status == "met"
    assert row.elapsed_seconds == 111600  # 55 h from start to response, minus the 24 h pause = 31 h


def test_example_7_holiday(obligations):
    """Thanksgiving is skipped: Wed 15:00-18:00 MST (3 h) + Fri 07:00-16:00 MST (9 h) = 12 h."""
    row = obligations.loc[("E7", 0)]
    assert row.deadline_at == t("2026-11-27T23:00:00Z")
    assert row.status == "breached"
    assert row.breached_at == t("2026-11-27T23:00:00Z")
    assert row.elapsed_seconds == 54000  # 3 h Wed + 11 h Fri + 1 h Mon (07:00-08:00 MST) = 15 h


def test_follow_up_still_running_is_pending_with_its_deadline(obligations):
    """E7's response on Mon 08:00 MST starts a follow-up: 72 business hours, still pending at as-of."""
    row = obligations.loc[("E7", 1)]
    assert row.status == "pending"
    assert pd.isna(row.end_at)
    # as of Tue 2026-12-01 00:00Z = Mon 17:00 MST: 08:00-17:00 MST = 9 h elapsed
    assert row.elapsed_seconds == 9 * 3600


def test_export_writes_exactly_the_contract_columns(tmp_path, obligations):
    """The CSV and Parquet exports carry the contract's columns in order, with ISO instants."""
    store = write_examples(tmp_path)
    con = duckdb.connect(str(store), read_only=True)
    try:
        n = export_obligations(con, AS_OF, tmp_path / "o.csv")
        export_obligations(con, AS_OF, tmp_path / "o.parquet")
    finally:
        con.close()
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert lines[0] == ",".join(EXPORT_COLUMNS)
    assert len(lines) == n + 1 == len(obligations) + 1
    assert "E2,P,Platinum,initial,0,2026-03-07T23:30:00Z,1,24x7,7200,2026-03-08T01:30:00Z,2026-03-08T01:45:00Z,8100,breached,2026-03-08T01:30:00Z" in lines
    frame = pd.read_parquet(tmp_path / "o.parquet")
    assert tuple(frame.columns) == EXPORT_COLUMNS
    assert len(frame) == n


def test_the_engine_statuses_are_the_ones_the_metrics_count(tmp_path: Path):
    """The SQL's ENUM of statuses and obligations.STATUSES (each counted by name) list the same, in one order."""
    con = duckdb.connect(str(write_examples(tmp_path)), read_only=True)
    try:
        cur = clock_cursor(con, as_utc(AS_OF))
        run_stages(cur, as_utc(AS_OF))
        enum = cur.sql("select enum_range(null::obligation_status)").fetchall()[0][0]
        cur.close()
    finally:
        con.close()
    assert tuple(enum) == STATUSES
