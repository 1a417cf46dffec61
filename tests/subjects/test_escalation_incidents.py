"""Incidents (a recorded escalation merged into a breach) and business time to first escalation.

A hand-made fixture of one account, B1 Bolt (americas: Mon-Fri 07:00-18:00 America/Denver,
US holidays; Gold: initial 4 h for severity 1 on 24x7, 8 business hours for severity 2,
12 for severity 3). Denver is MST = UTC-7 throughout (February 2026; DST starts 03-08);
Presidents' Day is 02-16, so no holiday below. As of 2026-03-06T00:00Z. Every case
closes at its only agent response, so none starts a follow-up.

| case | sev | opened (UTC) = Denver   | response (UTC) = Denver | initial obligation |
|------|-----|-------------------------|-------------------------|--------------------|
| E1   | 2   | 02-21 00:00 = Fri 02-20 17:00 | 02-23 16:00 = Mon 09:00 | 8 bh: Fri 17-18 (1 h) + Mon 07-14 (7 h): deadline Mon 14:00, met |
| E2   | 2   | 02-25 00:30 = Tue 02-24 17:30 | 02-25 22:00 = Wed 15:00 | 8 bh: Tue 17:30-18 (0.5 h) + Wed 07-14:30 (7.5 h): breached 02-25 21:30Z |
| E3   | 1   | 02-24 10:00 = Tue 03:00       | 02-24 20:00 = Tue 13:00 | 4 h 24x7: breached 02-24 14:00Z |
| E4   | 3   | 02-23 16:00 = Mon 09:00       | 02-23 17:00 = Mon 10:00 | met |

Recorded escalations (case_changes, field escalation):

| case | at (UTC)       | Denver         | after the case's last breach | merged (24 h window) |
|------|----------------|----------------|------------------------------|----------------------|
| E1   | 02-23 15:00:00 | Mon 08:00      | no breach                    | no  |
| E2   | 02-25 14:30:00 | Wed 07:30      | before its breach (21:30)    | no  |
| E2   | 02-25 21:45:00 | Wed 14:45      | 15 min                       | yes |
| E3   | 02-24 12:00:00 | Tue 05:00      | before its breach (14:00)    | no  |
| E3   | 02-25 14:00:00 | Wed 07:00      | exactly 24 h (86,400 s)      | yes (at or within) |
| E3   | 02-25 14:00:01 | Wed 07:00:01   | 24 h + 1 s                   | no  |

Policy 2 (E2, E3), recorded 6, merged 2, incidents 2 + 6 - 2 = 6.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot, take_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects.escalations import (
    escalation_events,
    escalation_rate,
    escalation_summary,
    escalation_trend,
    time_to_first_escalation,
)
from metrics.subjects.filters import Filters

AS_OF = "2026-03-06T00:00:00Z"
FIXTURE = {
    "accounts.csv": """
        account_id,name,region,advisor
        B1,Bolt,americas,Ann
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        B1,Gold,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity,closed_at
        E1,B1,2026-02-21T00:00:00Z,2,2026-02-23T16:00:00Z
        E2,B1,2026-02-25T00:30:00Z,2,2026-02-25T22:00:00Z
        E3,B1,2026-02-24T10:00:00Z,1,2026-02-24T20:00:00Z
        E4,B1,2026-02-23T16:00:00Z,3,2026-02-23T17:00:00Z
    """,
    "responses.csv": """
        case_id,at,author_type
        E1,2026-02-23T16:00:00Z,agent
        E2,2026-02-25T22:00:00Z,agent
        E3,2026-02-24T20:00:00Z,agent
        E4,2026-02-23T17:00:00Z,agent
    """,
    "case_changes.csv": """
        case_id,at,field,value
        E1,2026-02-23T15:00:00Z,escalation,1
        E2,2026-02-25T14:30:00Z,escalation,1
        E2,2026-02-25T21:45:00Z,escalation,2
        E3,2026-02-24T12:00:00Z,escalation,1
        E3,2026-02-25T14:00:00Z,escalation,2
        E3,2026-02-25T14:00:01Z,escalation,manager
    """,
}
HOUR = 3600


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    folder: Path = tmp_path_factory.mktemp("escalation_incidents")
    for name, text in FIXTURE.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    ingest(folder, folder / "store.duckdb")
    return open_snapshot(folder / "store.duckdb", AS_OF)


def with_window(snap: Snapshot, hours: float) -> Snapshot:
    return take_snapshot(snap.con, snap.as_of, dataclasses.replace(snap.config, escalation_incident_hours=hours))


def utc(value: object) -> str:
    return pd.Timestamp(value).tz_convert("UTC").strftime("%m-%d %H:%M:%S")


def test_breaches_are_where_the_fixture_says(snap):
    """The two policy escalations: E3 at 02-24 14:00Z (4 h after opening), E2 at 02-25 21:30Z (8 business hours)."""
    policy = escalation_events(snap).query("source == 'policy'")
    assert [(c, utc(at)) for c, at in policy[["case_id", "at"]].itertuples(index=False)] == [
        ("E3", "02-24 14:00:00"),
        ("E2", "02-25 21:30:00"),
    ]


def test_recorded_escalations_merge_at_or_within_the_window_after_a_breach(snap):
    """Merged: E2's at +15 min and E3's at exactly +24 h; not E3's at +24 h 1 s, nor any before a breach."""
    recorded = escalation_events(snap).query("source == 'recorded'")
    rows = [
        (case, utc(at), bool(merged), None if pd.isna(breach) else utc(breach))
        for case, at, merged, breach in recorded[["case_id", "at", "merged", "merged_breach_at"]].itertuples(
            index=False
        )
    ]
    assert rows == [  # in order of their instant
        ("E1", "02-23 15:00:00", False, None),
        ("E3", "02-24 12:00:00", False, None),
        ("E3", "02-25 14:00:00", True, "02-24 14:00:00"),
        ("E3", "02-25 14:00:01", False, None),
        ("E2", "02-25 14:30:00", False, None),
        ("E2", "02-25 21:45:00", True, "02-25 21:30:00"),
    ]


def test_summary_counts_incidents_and_the_share_of_cases(snap):
    """3 of 4 cases escalated (E4 never); 2 policy + 6 recorded - 2 merged = 6 incidents."""
    summary = escalation_summary(snap)
    assert (summary["cases_opened"], summary["cases_escalated"]) == (4, 3)
    assert summary["escalated_share"] == pytest.approx(0.75)
    assert (summary["policy"], summary["recorded"], summary["merged"], summary["incidents"]) == (2, 6, 2, 6)
    assert summary["incident_hours"] == 24.0


def test_the_window_is_the_configured_one(snap):
    """0.25 h (900 s): E2's at exactly +15 min merges, E3's at +24 h no longer; 0 h: nothing (no same-instant pair)."""
    quarter = escalation_summary(with_window(snap, 0.25))
    assert (quarter["merged"], quarter["incidents"], quarter["incident_hours"]) == (1, 7, 0.25)  # 2 + 6 - 1
    zero = escalation_summary(with_window(snap, 0))
    assert (zero["merged"], zero["incidents"]) == (0, 8)


def test_an_incident_is_dated_by_its_breach(snap):
    """Wednesday 02-25 (Denver): E2's breach and three recorded; E3's merged one belongs to Tuesday's breach.

    Events that day: E2 recorded 07:30 (alone), E2 breach 14:30, E2 recorded 14:45 (merged), E3 recorded
    07:00:00 (merged into Tuesday's breach) and 07:00:01 (alone): policy 1, recorded 4, merged 2,
    incidents 3. No case was opened that day (E2 opened Tuesday 17:30): the share is undefined.
    """
    wednesday = Filters(start=dt.date(2026, 2, 25), end=dt.date(2026, 2, 25))
    summary = escalation_summary(snap, wednesday)
    assert (summary["policy"], summary["recorded"], summary["merged"], summary["incidents"]) == (1, 4, 2, 3)
    assert summary["cases_opened"] == 0 and summary["escalated_share"] is None
    # per day, the incidents add up to the whole: Mon E1 (1), Tue E3 x2 (2), Wed 3 = 6
    daily = escalation_trend(snap, grain="day")
    assert daily[["period", "policy", "recorded", "merged", "incidents"]].to_numpy().tolist() == [
        ["2026-02-23", 0, 1, 0, 1],  # E1 recorded Mon 08:00
        ["2026-02-24", 1, 1, 0, 2],  # E3 recorded Tue 05:00, E3 breach Tue 07:00
        ["2026-02-25", 1, 4, 2, 3],
    ]


def test_share_by_severity_of_the_cohort(snap):
    """February cohort by the case's severity: 1 = E3 (escalated), 2 = E1 E2 (both), 3 = E4 (not)."""
    frame = escalation_rate(snap, grain="month", by=("severity",))
    assert frame[
        ["severity", "cases_opened", "cases_escalated", "policy", "recorded", "merged", "incidents"]
    ].to_numpy().tolist() == [
        [1, 1, 1, 1, 3, 1, 3],  # E3: breach + 3 recorded, one merged
        [2, 2, 2, 1, 3, 1, 3],  # E1 1 recorded; E2 breach + 2 recorded, one merged
        [3, 1, 0, 0, 0, 0, 0],
    ]
    assert frame["escalated_share"].tolist() == [1.0, 1.0, 0.0]


def test_business_time_to_first_escalation_across_a_weekend_and_a_night(snap):
    """On the americas calendar (Mon-Fri 07:00-18:00 Denver) beside calendar time.

    E1 (severity 2, business clock): Fri 17:00 -> Mon 08:00 Denver = 63 h calendar;
        business = Fri 17:00-18:00 (1 h) + Mon 07:00-08:00 (1 h) = 2 h = 7,200 s.
    E2 (severity 2): Tue 17:30 -> Wed 07:30 (its recorded escalation, before the breach) = 14 h;
        business = Tue 17:30-18:00 (0.5 h) + Wed 07:00-07:30 (0.5 h) = 1 h = 3,600 s.
    E3 (severity 1 runs 24x7): 10:00 -> 12:00Z recorded = 2 h, business the same.
    """
    first = time_to_first_escalation(snap)
    rows = (
        first[
            [
                "case_id",
                "first_source",
                "calendar",
                "time_to_first_escalation_seconds",
                "business_seconds_to_first_escalation",
            ]
        ]
        .to_numpy()
        .tolist()
    )
    assert rows == [
        ["E1", "recorded", "americas", 63 * HOUR, 2 * HOUR],
        ["E3", "recorded", "24x7", 2 * HOUR, 2 * HOUR],
        ["E2", "recorded", "americas", 14 * HOUR, 1 * HOUR],
    ]
    assert first["business_hours_to_first_escalation"].tolist() == [2.0, 2.0, 1.0]
    summary = escalation_summary(snap)
    # calendar hours 2, 14, 63: median 14, p90 at rank 0.9 x 2 = 1.8: 14 + 0.8 x 49 = 53.2
    assert summary["median_hours_to_first_escalation"] == pytest.approx(14.0)
    assert summary["p90_hours_to_first_escalation"] == pytest.approx(53.2)
    # business hours 1, 2, 2: median 2, p90 2 + 0.8 x 0 = 2
    assert summary["median_business_hours_to_first_escalation"] == pytest.approx(2.0)
    assert summary["p90_business_hours_to_first_escalation"] == pytest.approx(2.0)
