"""Paused share in wall-clock and clock time, downgrades after a breach, non-authorized share.

A hand-made book as of 2026-03-10T00:00:00Z; March 2 2026 is a Monday, Denver is on MST
(UTC-7) until Sun 03-08. Both accounts are Gold on `americas` (Mon-Fri 07:00-18:00 local):
initial S1 4 h 24x7, S2 8 h business; follow-up S2-3 72 h business.

P1 (A1, S2, contact K1 authorized): opened Mon 16:00Z (09:00), agent 17:00Z (10:00: initial met,
   follow-up 1 starts), pending_customer Mon 20:00Z (13:00) -> open Tue 16:00Z (09:00), agent Tue
   18:00Z (11:00: follow-up 1 ends, follow-up 2 starts), closed Tue 19:00Z (12:00).
P2 (A2, S1, no contact): opened Wed 03-04 15:00Z, initial deadline 19:00Z (4 h 24x7) passes,
   lowered to S3 at 20:00Z, agent 21:00Z: breached at S1, final S3 (downgraded after the breach).
P3 (A2, S2, contact K9 not authorized): opened Wed 03-04 15:00Z (08:00), initial deadline 16:00
   local = 23:00Z passes, agent Thu 16:00Z: breached, never re-classified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects.filters import Filters
from metrics.subjects.governance import (
    downgraded_after_breach,
    non_authorized_requests,
    non_authorized_summary,
    paused_share,
)

AS_OF = "2026-03-10T00:00:00Z"
MARCH = Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
H = 3600

FILES = {
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,americas,Bob
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Gold,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity,contact_id,closed_at,owner
        P1,A1,2026-03-02T16:00:00Z,2,K1,2026-03-03T19:00:00Z,Olga
        P2,A2,2026-03-04T15:00:00Z,1,,,Pete
        P3,A2,2026-03-04T15:00:00Z,2,K9,,Pete
    """,
    "responses.csv": """
        case_id,at,author_type
        P1,2026-03-02T17:00:00Z,agent
        P1,2026-03-03T18:00:00Z,agent
        P2,2026-03-04T21:00:00Z,agent
        P3,2026-03-05T16:00:00Z,agent
    """,
    "case_changes.csv": """
        case_id,at,field,value
        P1,2026-03-02T20:00:00Z,status,pending_customer
        P1,2026-03-03T16:00:00Z,status,open
        P2,2026-03-04T20:00:00Z,severity,3
    """,
    "contacts.csv": """
        contact_id,account_id,name,authorized
        K1,A1,authorized,true
        K9,A2,not authorized,false
    """,
}


@pytest.fixture
def build(make_dataset: Callable[..., Path], tmp_path: Path) -> Callable[..., Snapshot]:
    def snapshot(extra: dict[str, str] | None = None) -> Snapshot:
        folder = make_dataset({**FILES, **(extra or {})})
        db = tmp_path / f"{folder.name}.duckdb"
        ingest(folder, db, strict=True)
        return open_snapshot(db, AS_OF)

    return snapshot


def test_paused_share_in_wall_clock_and_in_clock_time(build: Callable[..., Snapshot]) -> None:
    """P1: wall 20 h of 26 h waiting; clock 7 working hours paused of 7 + 6 that ran.

    Follow-up 1 lives Mon 10:00 -> Tue 11:00 local (25 h), paused 13:00 -> 09:00 (20 h); follow-up 2
    Tue 11:00 -> 12:00 (1 h). Clock: ran Mon 10-13 (3 h) + Tue 09-11 (2 h) + Tue 11-12 (1 h) = 6 h;
    paused working time Mon 13-18 (5 h) + Tue 07-09 (2 h) = 7 h (the night counts no clock time).
    """
    got = paused_share(build(), Filters(start=MARCH.start, end=MARCH.end, accounts=("A1",)), by=("owner",))
    assert got.to_dict("records") == [{
        "owner": "Olga", "follow_ups": 2, "paused_follow_ups": 1,
        "running_seconds": 6 * H, "paused_seconds": 20 * H, "paused_share": pytest.approx(20 / 26),
        "clock_running_seconds": 6 * H, "clock_paused_seconds": 7 * H, "clock_paused_share": pytest.approx(7 / 13),
    }]


def test_downgraded_after_a_breach(build: Callable[..., Snapshot]) -> None:
    """Two breaches in March (P2, P3 initial); P2's was at S1 and the case ended at S3: one downgrade."""
    got = downgraded_after_breach(build(), MARCH)
    assert (got["breached_obligations"], got["downgraded_obligations"], got["downgraded_cases"]) == (2, 1, 1)
    row = got["downgraded"].iloc[0]
    assert (row["case_id"], row["kind"], row["breach_severity"], row["final_severity"]) == ("P2", "initial", 1, 3)
    assert row["breached_at"] == pd.Timestamp("2026-03-04T19:00:00Z")


def test_downgrades_filter_on_the_severity_at_the_breach(build: Callable[..., Snapshot]) -> None:
    """Severity 1 holds P2 (breached at S1); severity 3 holds nothing (P2 was S3 only after its breach)."""
    snap = build()
    one = downgraded_after_breach(snap, Filters(start=MARCH.start, end=MARCH.end, severities=(1,)))
    three = downgraded_after_breach(snap, Filters(start=MARCH.start, end=MARCH.end, severities=(3,)))
    assert (one["breached_obligations"], one["downgraded_obligations"]) == (1, 1)
    assert (three["breached_obligations"], three["downgraded_obligations"]) == (0, 0)


def test_downgrades_count_alike_when_breaches_are_reported_under_the_final_severity(
    build: Callable[..., Snapshot],
) -> None:
    """[reporting] breach_severity = "final" moves P2's miss to S3 but it is still one downgrade."""
    snap = build({"config.toml": '[reporting]\nbreach_severity = "final"\n'})
    got = downgraded_after_breach(snap, MARCH)
    assert (got["breached_obligations"], got["downgraded_obligations"], got["downgraded_cases"]) == (2, 1, 1)


def test_non_authorized_share_of_cases_opened_and_cases_without_contact(build: Callable[..., Snapshot]) -> None:
    """3 cases opened: P3's contact is not authorized (1/3), P2 has no contact (1/3), P1's is authorized."""
    snap = build()
    assert non_authorized_summary(snap, MARCH) == {
        "cases_opened": 3, "non_authorized_cases": 1, "non_authorized_share": pytest.approx(1 / 3),
        "cases_without_contact": 1, "cases_without_contact_share": pytest.approx(1 / 3),
    }
    per_account = non_authorized_requests(snap, MARCH)
    cols = ["account_id", "cases", "cases_with_contact", "cases_without_contact", "non_authorized_cases",
            "non_authorized_share"]
    assert per_account[cols].to_dict("records") == [
        {"account_id": "A2", "cases": 2, "cases_with_contact": 1, "cases_without_contact": 1,
         "non_authorized_cases": 1, "non_authorized_share": 0.5},  # 1 of the 2 opened
        {"account_id": "A1", "cases": 1, "cases_with_contact": 1, "cases_without_contact": 0,
         "non_authorized_cases": 0, "non_authorized_share": 0.0},
    ]
    assert non_authorized_summary(snap, Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)))[
        "non_authorized_share"] is None
