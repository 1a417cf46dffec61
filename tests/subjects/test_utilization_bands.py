"""Usage bands on both kinds and the peak of authorized contacts, on one hand-made dataset.

As of 2026-06-15T18:00:00Z (12:00 MDT in Denver, local date 2026-06-15). Every term runs
2026-01-01..2026-12-31 (365 days); elapsed Jan 1..Jun 15 = 31 + 28 + 31 + 30 + 31 + 15 = 166
days, share 166 / 365 = 0.4548. Gold entitles 3 service days, 4 training sessions, 3 contacts;
Bronze 0, 0 and 2 contacts.
"""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects.utilization import contacts_over_allotment, usage_band_counts, utilization_ranking

ELAPSED = 166 / 365

FILES = {
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Days,americas,Ann
        A2,Sessions,americas,Ann
        A3,Trimmed,americas,Ann
        A4,Replaced,americas,Ann
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Gold,2026-01-01,2026-12-31
        A3,Bronze,2026-01-01,2026-12-31
        A4,Bronze,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity
        C1,A1,2026-03-02T16:00:00Z,3
    """,
    "responses.csv": """
        case_id,at,author_type
        C1,2026-03-02T17:00:00Z,agent
    """,
    # A1: 4 service days of 3 (used more than entitled), 1 session of 4.
    # A2: 1 service day of 3 (forecast 1 / 0.4548 = 2.2 of 3 = 73 %: on pace) but 5 sessions of 4.
    "engagements.csv": """
        account_id,date,kind,quantity
        A1,2026-02-01,service_day,4
        A1,2026-02-02,training_session,1
        A2,2026-02-01,service_day,1
        A2,2026-03-01,training_session,5
    """,
    # A3 (Bronze, 2 allowed): K3 authorized Jan 1..Mar 31, then trimmed: 3 held Jan 1..Mar 31,
    # 2 on the as-of date. A4: K6 replaced by K7 the next day: never more than 2 at once.
    "contacts.csv": """
        contact_id,account_id,name,authorized,authorized_from,authorized_to
        K1,A3,one,true,,
        K2,A3,two,true,,
        K3,A3,trimmed,true,2026-01-01,2026-03-31
        K4,A3,not authorized,false,,
        K5,A4,one,true,,
        K6,A4,replaced,true,,2026-04-30
        K7,A4,successor,true,2026-05-01,
    """,
}


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    folder = tmp_path_factory.mktemp("bands")
    for name, text in FILES.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    return open_snapshot(db, "2026-06-15T18:00:00Z")


def test_used_more_than_entitled_on_either_kind_comes_first(snap: Snapshot) -> None:
    """A1 exceeds its service days (4 > 3), A2 its training sessions (5 > 4) although its days are on pace."""
    frame = utilization_ranking(snap).set_index("account_id")
    assert frame.loc["A1", ["service_days_band", "training_sessions_band", "usage_band", "usage_basis"]].tolist() == [
        "used more than entitled", "on pace", "used more than entitled", "service_days",
    ]  # sessions: forecast 1 / 0.4548 = 2.199 of 4 = 55.0 % >= 50 %: on pace
    assert frame.loc["A1", "training_sessions_forecast"] / 4 == pytest.approx((1 / ELAPSED) / 4)
    assert frame.loc["A2", ["service_days_band", "training_sessions_band", "usage_band", "usage_basis"]].tolist() == [
        "on pace", "used more than entitled", "used more than entitled", "training_sessions",
    ]
    assert frame.loc["A2", "used_share"] == pytest.approx(5 / 4)
    assert frame.loc["A2", "forecast_share"] == pytest.approx((5 / ELAPSED) / 4)  # 11 of 4 = 275 %


def test_band_counts_keep_the_fact_apart_from_the_forecast(snap: Snapshot) -> None:
    """Two accounts used more than entitled, none trending over; the two Bronze accounts have no entitlement."""
    assert usage_band_counts(snap) == {
        "accounts": 4, "used more than entitled": 2, "trending over": 0, "on pace": 0, "no entitlement": 2,
        "under": 0,
    }


def test_trimming_contacts_before_the_as_of_does_not_hide_the_over_allotment(snap: Snapshot) -> None:
    """A3 held 3 of 2 from Jan 1 (K1, K2, K3) though only 2 on the as-of date; A4's replacement never overlaps."""
    over = contacts_over_allotment(snap)
    assert over[["account_id", "authorized_contacts_peak", "authorized_contacts_peak_date", "authorized_contacts",
                 "allotted", "over_by"]].to_dict("records") == [
        {"account_id": "A3", "authorized_contacts_peak": 3, "authorized_contacts_peak_date": dt.date(2026, 1, 1),
         "authorized_contacts": 2, "allotted": 2, "over_by": 1},
    ]


