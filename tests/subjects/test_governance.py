"""The governance review on a hand-built book of three accounts, as of 2026-04-10 00:00Z.

The period is March 2026 in the reporting timezone America/Denver (MST until Sun 03-08,
then MDT): [2026-03-01 07:00Z, 2026-04-01 06:00Z). All accounts are on `americas`
(Mon-Fri 07:00-18:00 local). Gold: initial S1 4 h 24x7, S2 8 h, S3 12 h business;
follow-up S1 32 h 24x7, S2-3 72 h business. Silver: initial S2 10 h, S3 14 h; follow-up S1
32 h 24x7. The comment beside each case says what it is for; the expected values below are
worked out by hand from them.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects.filters import Filters
from metrics.subjects.governance import (
    account_health,
    development_tickets,
    governance_review,
    non_authorized_requests,
    paused_share,
    reclassifications,
    reclassified_cases,
    suspended_accounts,
)

AS_OF = "2026-04-10T00:00:00Z"
MARCH = Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
H = 3600
D = 86400

BOOK = {
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,americas,Bob
        A3,Gamma,americas,Cy
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Silver,2026-01-01,2026-12-31
        A3,Gold,2026-01-01,2026-12-31
    """,
    # G1 up then down, two follow-ups, one paused; development ticket
    # G2 two severity rows at one instant (1 then 3: only 3 counts), two status rows at one instant
    #    (open then pending_customer: paused); from a non-authorized contact
    # G3 a row restating severity 1; follow-up breached 03-12 01:00Z, paused since 04-09; contact expired 02-28
    # G4 initial breached 03-13 15:00Z; its follow-up 1 starts 04-01 05:00Z = 03-31 23:00 MDT (in March)
    # G5 opened in February; severity 3 -> 1 at 03-01 06:00Z (02-28 local) and 1 -> 2 at 03-01 08:00Z (March)
    # G6 opened inside A3's suspension; G7 after it; G9 inside it, in February
    # G8 opened in April: out of the period, still active and breached at as-of
    "cases.csv": """
        case_id,account_id,opened_at,severity,contact_id,owner,closed_at,development_ticket
        G1,A1,2026-03-02T16:00:00Z,3,P1,Olga,2026-03-06T17:00:00Z,true
        G2,A1,2026-03-04T16:00:00Z,2,P2,Olga,2026-03-07T17:00:00Z,false
        G3,A1,2026-03-10T16:00:00Z,1,P3,Pete,,false
        G4,A2,2026-03-12T16:00:00Z,2,Q1,Pete,2026-04-01T08:00:00Z,false
        G5,A2,2026-02-20T16:00:00Z,3,,Olga,2026-03-02T00:00:00Z,false
        G6,A3,2026-03-20T16:00:00Z,2,,,,true
        G7,A3,2026-03-26T16:00:00Z,3,,,2026-03-26T17:00:00Z,false
        G8,A1,2026-04-05T16:00:00Z,3,P2,Pete,,true
        G9,A3,2026-02-26T16:00:00Z,3,,,2026-02-27T16:00:00Z,false
    """,
    "responses.csv": """
        case_id,at,author_type
        G1,2026-03-02T17:00:00Z,agent
        G1,2026-03-04T20:00:00Z,agent
        G2,2026-03-04T17:00:00Z,agent
        G3,2026-03-10T17:00:00Z,agent
        G4,2026-04-01T05:00:00Z,agent
        G4,2026-04-01T07:00:00Z,agent
        G5,2026-02-20T17:00:00Z,agent
        G7,2026-03-26T17:00:00Z,agent
    """,
    "case_changes.csv": """
        case_id,at,field,value
        G1,2026-03-03T16:00:00Z,severity,1
        G1,2026-03-03T17:00:00Z,status,pending_customer
        G1,2026-03-04T17:00:00Z,status,open
        G1,2026-03-05T16:00:00Z,severity,2
        G2,2026-03-05T17:00:00Z,status,open
        G2,2026-03-05T17:00:00Z,status,pending_customer
        G2,2026-03-06T16:00:00Z,severity,1
        G2,2026-03-06T16:00:00Z,severity,3
        G3,2026-03-11T16:00:00Z,severity,1
        G3,2026-03-12T02:00:00Z,escalation,1
        G3,2026-04-09T00:00:00Z,status,pending_customer
        G4,2026-04-02T16:00:00Z,severity,1
        G5,2026-03-01T06:00:00Z,severity,1
        G5,2026-03-01T08:00:00Z,severity,2
    """,
    "contacts.csv": """
        contact_id,account_id,name,authorized,authorized_from,authorized_to
        P1,A1,Pat,true,,
        P2,A1,Pia,false,,
        P3,A1,Pim,true,,2026-02-28
        Q1,A2,Quinn,true,,
        Q2,A2,Quen,true,,
        Q3,A2,Quip,true,,
    """,
    # A3's suspension overlaps March; A2's ends 02-01 00:00Z (01-31 local); A2's second starts after as-of
    "standing.csv": """
        account_id,suspended_from,suspended_to
        A3,2026-02-25T00:00:00Z,2026-03-25T00:00:00Z
        A2,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z
        A2,2026-05-01T00:00:00Z,
    """,
}


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    folder: Path = tmp_path_factory.mktemp("book")
    for name, text in BOOK.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    ingest(folder, folder / "store.duckdb")
    return open_snapshot(folder / "store.duckdb", AS_OF)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ---------------------------------------------------------------- re-classifications

def test_reclassification_counts_in_march(snap: Snapshot) -> None:
    """Changes in March: G1 3->1 up and 1->2 down, G2 2->3 down (one instant), G5 1->2 down; G3's restatement,
    G4's April change and G5's 02-28-local change do not count. Opened in March: G1-G4, G6, G7; final severity
    differs for G1 (2 vs 3), G2 (3 vs 2) and G4 (1 vs 2): 3 of 6."""
    assert reclassifications(snap, MARCH) == {
        "changes": 4, "changes_up": 1, "changes_down": 3, "cases_reclassified": 3,
        "cases_opened": 6, "cases_severity_differs": 3, "severity_differs_share": 0.5,
    }


def test_reclassification_counts_over_all_time(snap: Snapshot) -> None:
    """Without a period: add G4 2->1 up and G5 3->1 up; nine cases, G1, G2, G4, G5 differ from submitted."""
    assert reclassifications(snap) == {
        "changes": 6, "changes_up": 3, "changes_down": 3, "cases_reclassified": 4,
        "cases_opened": 9, "cases_severity_differs": 4, "severity_differs_share": 4 / 9,
    }


def test_reclassified_cases_table(snap: Snapshot) -> None:
    """One row per case changed in March with its ups, downs and first/last change instants."""
    got = reclassified_cases(snap, MARCH)[
        ["case_id", "account_id", "submitted_severity", "severity", "changes_up", "changes_down",
         "first_changed_at", "last_changed_at", "severity_differs"]
    ]
    want = pd.DataFrame(
        [
            ("G1", "A1", 3, 2, 1, 1, ts("2026-03-03T16:00Z"), ts("2026-03-05T16:00Z"), True),
            ("G2", "A1", 2, 3, 0, 1, ts("2026-03-06T16:00Z"), ts("2026-03-06T16:00Z"), True),
            ("G5", "A2", 3, 2, 0, 1, ts("2026-03-01T08:00Z"), ts("2026-03-01T08:00Z"), True),
        ],
        columns=got.columns,
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_reclassifications_follow_the_account_filter(snap: Snapshot) -> None:
    """For A2 in March: G5's down change; G4 is the only case opened, and it differs (1 vs 2)."""
    assert reclassifications(snap, Filters(start=MARCH.start, end=MARCH.end, accounts=("A2",))) == {
        "changes": 1, "changes_up": 0, "changes_down": 1, "cases_reclassified": 1,
        "cases_opened": 1, "cases_severity_differs": 1, "severity_differs_share": 1.0,
    }


# ---------------------------------------------------------------- development tickets

def test_development_tickets_opened_in_march(snap: Snapshot) -> None:
    """G1 and G6 carry a development ticket and were opened in March; G8 (April) is out."""
    got = development_tickets(snap, MARCH)
    assert list(got["case_id"]) == ["G1", "G6"]
    g1, g6 = got.iloc[0], got.iloc[1]
    assert (g1["account_name"], g1["status"], g1["submitted_severity"], g1["severity"], g1["owner"]) == (
        "Acme", "closed", 3, 2, "Olga")
    assert g1["closed_at"] == ts("2026-03-06T17:00Z")
    assert (g6["account_id"], g6["package"], g6["status"], g6["advisor"]) == ("A3", "Gold", "open", "Cy")


# ---------------------------------------------------------------- paused share

def test_paused_share_per_owner(snap: Snapshot) -> None:
    """Olga: G1 fu1 03-02 17:00 -> 03-04 20:00 (51 h, paused 03-03 17:00 -> 03-04 17:00 = 24 h), G1 fu2
    03-04 20:00 -> close 03-06 17:00 (45 h), G2 fu1 03-04 17:00 -> close 03-07 17:00 (72 h, paused from
    03-05 17:00 = 48 h): 168 h, 72 h paused, 3/7. Pete: G3 fu1 03-10 17:00 -> as-of (30 d 7 h, paused the
    last 24 h) and G4 fu1 (2 h): 86400 of 2624400 s = 8/243. G5's follow-up started in February."""
    got = paused_share(snap, MARCH, by=("owner",))
    want = pd.DataFrame(
        {
            "owner": ["Olga", "Pete"],
            "follow_ups": [3, 2],
            "paused_follow_ups": [2, 1],
            "running_seconds": [96 * H, 2624400 - D],
            "paused_seconds": [72 * H, D],
            "paused_share": [3 / 7, 8 / 243],
        }
    )
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)


def test_paused_share_per_account(snap: Snapshot) -> None:
    """A1 holds G1's two, G2's and G3's follow-ups (345600 s paused of 3222000); A2 holds G4's, never paused."""
    got = paused_share(snap, MARCH, by=("account_id",))
    want = pd.DataFrame(
        {
            "account_id": ["A1", "A2"],
            "follow_ups": [4, 1],
            "paused_follow_ups": [3, 0],
            "running_seconds": [3222000 - 345600, 2 * H],
            "paused_seconds": [345600, 0],
            "paused_share": [345600 / 3222000, 0.0],
        }
    )
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)


def test_paused_share_cuts_the_period_in_the_reporting_timezone(snap: Snapshot) -> None:
    """March 31 local holds only G4's follow-up 1, started 04-01 05:00Z = 03-31 23:00 MDT."""
    got = paused_share(snap, Filters(start=dt.date(2026, 3, 31), end=dt.date(2026, 3, 31)))
    got = got[["owner", "follow_ups", "paused_follow_ups", "running_seconds", "paused_seconds", "paused_share"]]
    assert got.to_dict("records") == [
        {"owner": "Pete", "follow_ups": 1, "paused_follow_ups": 0, "running_seconds": 2 * H,
         "paused_seconds": 0, "paused_share": 0.0}
    ]


def test_paused_share_rejects_unknown_groups(snap: Snapshot) -> None:
    """A group key outside the whitelist is refused, never put into SQL."""
    with pytest.raises(ValueError, match="cannot group by"):
        paused_share(snap, MARCH, by=("owner; drop table cases",))


# ---------------------------------------------------------------- suspensions

def test_suspended_accounts_in_march(snap: Snapshot) -> None:
    """Only A3's suspension (02-25 -> 03-25) overlaps March; G9 and G6 were opened during it, G6 in March."""
    got = suspended_accounts(snap, MARCH)
    assert got[["account_id", "package", "suspended_from", "suspended_to", "cases_opened",
                "cases_opened_in_period"]].to_dict("records") == [
        {"account_id": "A3", "package": "Gold", "suspended_from": ts("2026-02-25T00:00Z"),
         "suspended_to": ts("2026-03-25T00:00Z"), "cases_opened": 2, "cases_opened_in_period": 1},
    ]


def test_suspended_accounts_without_period_and_by_advisor(snap: Snapshot) -> None:
    """No period: A2's January suspension and A3's, not A2's May one (after as-of); Bob's filter keeps A2."""
    everything = suspended_accounts(snap)
    assert list(zip(everything["account_id"], everything["cases_opened"], strict=True)) == [("A2", 0), ("A3", 2)]
    assert list(suspended_accounts(snap, Filters(advisors=("Bob",)))["account_id"]) == ["A2"]


def test_suspension_ending_before_the_local_period_start_is_out(snap: Snapshot) -> None:
    """February local starts 02-01 07:00Z, after A2's suspension ended at 02-01 00:00Z: only A3 remains."""
    got = suspended_accounts(snap, Filters(start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28)))
    assert list(zip(got["account_id"], got["cases_opened_in_period"], strict=True)) == [("A3", 1)]  # G9


# ---------------------------------------------------------------- non-authorized requests

def test_non_authorized_requests_in_march(snap: Snapshot) -> None:
    """A1: G2 (P2 not authorized) and G3 (P3 expired 02-28) of 3; A2: G4 by Q1, authorized; A3: no contacts."""
    got = non_authorized_requests(snap, MARCH)
    rows = got[["account_id", "cases", "cases_with_contact", "non_authorized_cases"]].to_dict("records")
    assert rows == [
        {"account_id": "A1", "cases": 3, "cases_with_contact": 3, "non_authorized_cases": 2},
        {"account_id": "A2", "cases": 1, "cases_with_contact": 1, "non_authorized_cases": 0},
        {"account_id": "A3", "cases": 2, "cases_with_contact": 0, "non_authorized_cases": 0},
    ]
    assert got["non_authorized_share"].iloc[0] == pytest.approx(2 / 3)
    # over cases opened: A2 0 of 1; A3 0 of 2 (both without a contact: counted apart, kept in the denominator)
    assert got["non_authorized_share"].iloc[1] == 0.0 and got["non_authorized_share"].iloc[2] == 0.0
    assert got["cases_without_contact"].tolist() == [0, 0, 2]
    assert list(got["non_authorized_case_ids"].iloc[0]) == ["G2", "G3"]


def test_non_authorized_requests_without_period(snap: Snapshot) -> None:
    """All time adds G8 (P2) to A1 and G5 (no contact) to A2."""
    got = non_authorized_requests(snap).set_index("account_id")
    assert got.loc["A1", ["cases", "non_authorized_cases"]].tolist() == [4, 3]
    assert got.loc["A2", ["cases", "cases_with_contact"]].tolist() == [2, 1]


# ---------------------------------------------------------------- trends and health

def test_review_escalation_trend_by_local_month(snap: Snapshot) -> None:
    """Policy: G5 at 03-01 06:00Z (02-28 local), G3 03-12 01:00Z and G4 03-13 15:00Z, G8 04-07 14:00Z;
    recorded: G3 03-12 02:00Z. Counted by month in America/Denver. G3's recorded escalation
    comes 1 h after G3's breach (within the default 24 h), so March has 2 incidents, not 3."""
    got = governance_review(snap)["escalation_trend"]
    got = got[["period", "policy", "recorded", "merged", "incidents"]]  # the bucket's span: tests/subjects/test_buckets.py
    assert got.to_dict("records") == [
        {"period": "2026-02", "policy": 1, "recorded": 0, "merged": 0, "incidents": 1},
        {"period": "2026-03", "policy": 2, "recorded": 1, "merged": 1, "incidents": 2},
        {"period": "2026-04", "policy": 1, "recorded": 0, "merged": 0, "incidents": 1},
    ]


HEALTH = {
    # A1: G1 init met, fu1 met, fu2 cancelled; G2 init met, fu1 cancelled; G3 init met, fu1 breached.
    #     Escalations: G3's breach and its recorded row. Active at as-of: G3 and G8, both breached.
    "A1": ("Acme", "Ann", "Gold", 3, 4, 1, 0.8, 1, 1, 2, 0, 2),
    # A3: G6 suspended (not counted), G7 init met. Active: G6 (suspended clock).
    "A3": ("Gamma", "Cy", "Gold", 2, 1, 0, 1.0, 0, 0, 1, 0, 0),
    # A2: G4 init breached, fu1 (03-31 local) met. G4 and G5 closed.
    "A2": ("Beta", "Bob", "Silver", 1, 1, 1, 0.5, 1, 0, 0, 0, 0),
}


def test_account_health_of_the_biggest_accounts(snap: Snapshot) -> None:
    """The top two by March cases are A1 (3) and A3 (2), each with hand-counted SLA, escalation and queue health."""
    got = account_health(snap, MARCH, top=2)
    want = pd.DataFrame([(a, *HEALTH[a]) for a in ("A1", "A3")], columns=got.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_account_health_top_three(snap: Snapshot) -> None:
    """With three slots A2 (1 case) follows."""
    got = account_health(snap, MARCH, top=3)
    want = pd.DataFrame([(a, *HEALTH[a]) for a in ("A1", "A3", "A2")], columns=got.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_governance_review_bundles_the_parts(snap: Snapshot) -> None:
    """The review holds every part, computed for the same filters (spot checks against the numbers above)."""
    review = governance_review(snap, MARCH)
    assert review["reclassifications"]["changes"] == 4
    assert list(review["development_tickets"]["case_id"]) == ["G1", "G6"]
    trend_counts = review["escalation_trend"][["period", "policy", "recorded", "merged", "incidents"]]
    assert trend_counts.to_dict("records") == [
        {"period": "2026-03", "policy": 2, "recorded": 1, "merged": 1, "incidents": 2}  # G3's recorded one 1 h after its breach
    ]
    # March starts: initial G1, G2, G3, G7 met, G4 breached, G6 suspended;
    # follow-ups G1 fu1 and G4 fu1 met, G3 fu1 breached, G1 fu2 and G2 fu1 cancelled
    trend = review["attainment_trend"].set_index(["period", "kind"])
    assert trend.loc[("2026-03", "initial"), ["met", "breached", "suspended"]].tolist() == [4, 1, 1]
    assert trend.loc[("2026-03", "follow_up"), ["met", "breached", "cancelled"]].tolist() == [2, 1, 2]
    assert list(review["paused_by_owner"]["owner"]) == ["Olga", "Pete"]
    assert list(review["paused_by_account"]["account_name"]) == ["Acme", "Beta"]
    assert list(review["suspended_accounts"]["account_id"]) == ["A3"]
    assert list(review["non_authorized_requests"]["account_id"]) == ["A1", "A2", "A3"]
    assert list(review["account_health"]["account_id"]) == ["A1", "A3", "A2"]
    assert list(review["reclassified_cases"]["case_id"]) == ["G1", "G2", "G5"]


def test_contacts_over_allotment_in_the_review(snap: Snapshot) -> None:
    """A2 (Silver allots 2) has three authorized contacts, one over; A1 has one current (P3 expired)."""
    over = governance_review(snap, MARCH)["contacts_over_allotment"]
    columns = ["account_id", "authorized_contacts_peak", "authorized_contacts", "allotted", "over_by"]
    assert over[columns].to_dict("records") == [
        {"account_id": "A2", "authorized_contacts_peak": 3, "authorized_contacts": 3, "allotted": 2, "over_by": 1}
    ]


def test_account_health_without_escalations_or_cases(snap: Snapshot) -> None:
    """A3 alone in March has no escalation (zeros, not a failure); January has no case (an empty table)."""
    got = account_health(snap, Filters(start=MARCH.start, end=MARCH.end, accounts=("A3",)))
    want = pd.DataFrame([("A3", *HEALTH["A3"])], columns=got.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    empty = account_health(snap, Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)))
    assert empty.empty and list(empty.columns) == list(got.columns)


def test_governance_review_of_an_empty_period(snap: Snapshot) -> None:
    """January 2026 has no case, obligation or escalation: the review still builds, with zero counts."""
    review = governance_review(snap, Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)))
    assert review["reclassifications"] == {
        "changes": 0, "changes_up": 0, "changes_down": 0, "cases_reclassified": 0,
        "cases_opened": 0, "cases_severity_differs": 0, "severity_differs_share": None,
    }
    for part in ("reclassified_cases", "development_tickets", "non_authorized_requests", "paused_by_owner",
                 "account_health"):
        assert review[part].empty, part
    # A2's suspension (01-01 -> 02-01 00:00Z) does overlap January
    assert list(review["suspended_accounts"]["account_id"]) == ["A2"]
