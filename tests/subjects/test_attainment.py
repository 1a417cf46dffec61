"""SLA attainment, response times, the headline summary and the breached drill-down.

One hand-built fixture (FIXTURE, also used by test_escalations.py) of four accounts on
four packages and three regions. Every obligation below was worked out by hand from
sla-rules.md; the tables in the comments are the arithmetic the expected values come from.

Reporting timezone America/Denver: MST = UTC-7 for every instant here (DST starts
2026-03-08). ISO weeks: W08 = Mon 02-16 .. Sun 02-22, W09 = 02-23 .. 03-01,
W10 = 03-02 .. 03-08. As of 2026-03-06T00:00Z (Thu 03-05 17:00 MST).

Accounts: A1 Acme (americas, Ann, Gold), A2 Beta (emea, Bob, Platinum),
A3 Cyan (americas, Ann, Silver; suspended 03-03 00:00Z .. 03-04 00:00Z),
A4 Delta (japan, no advisor, Bronze: no targets).
Targets (h): Gold initial 4/8/12, follow-up S1 32; Platinum initial 2/6/10, follow-up S1 24;
Silver initial 6/10/14. Severity 1 runs 24x7; 2-3 on the region's business hours
(americas 07-18 Denver, emea 08-18 London = UTC in February, japan 09-18 Tokyo = 00-09Z).

| obligation | kind sev pkg     | start (UTC)  | Denver local  | wk  | mo | status     | elapsed / target   |
|------------|------------------|--------------|---------------|-----|----|------------|--------------------|
| C01 #0     | init  1 Gold     | 02-23 15:00  | Mon 02-23 08:00 | W09 | 02 | met (resp 17:00)       | 7200 / 14400 |
| C01 #1     | fu    1 Gold     | 02-23 17:00  | Mon 02-23 10:00 | W09 | 02 | met (resp 02-24 17:00) | 86400 / 115200 |
| C02 #0     | init  1 Gold     | 02-24 10:00  | Tue 02-24 03:00 | W09 | 02 | breached 14:00 (resp 15:00) | 18000 / 14400 |
| C03 #0     | init  1 Gold     | 03-02 06:30  | SUN 03-01 23:30 | W09 | 03 | met (resp 08:00)       | 5400 / 14400 |
| C04 #0     | init  2 Gold     | 03-05 18:00  | Thu 03-05 11:00 | W10 | 03 | pending (no response)  | 21600 / 28800 |
| C05 #0     | init  3 Gold     | 02-25 16:00  | Wed 02-25 09:00 | W09 | 02 | cancelled (closed 18:00) | 7200 / 43200 |
| C06 #0     | init  1 Platinum | 03-01 06:30  | SAT 02-28 23:30 | W09 | 02 | met (resp 07:30)       | 3600 / 7200 |
| C06 #1     | fu    1 Platinum | 03-01 07:30  | Sun 03-01 00:30 | W09 | 03 | breached 03-02 07:30 (resp 09:30) | 93600 / 86400 |
| C07 #0     | init  2 Platinum | 02-23 09:00  | Mon 02-23 02:00 | W09 | 02 | breached 15:00 (resp 16:00, emea) | 25200 / 21600 |
| C08 #0     | init  1 Platinum | 02-17 12:00  | Tue 02-17 05:00 | W08 | 02 | met (resp 13:00)       | 3600 / 7200 |
| C08 #1     | fu    1 Platinum | 02-17 13:00  | Tue 02-17 06:00 | W08 | 02 | cancelled (closed 14:00) | 3600 / 86400 |
| C09 #0     | init  3 Silver   | 02-18 16:00  | Wed 02-18 09:00 | W08 | 02 | met (resp 20:00)       | 14400 / 50400 |
| C10 #0     | init  2 Silver   | 03-03 17:00  | Tue 03-03 10:00 | W10 | 03 | suspended              | 7200 / - |
| C11 #0     | init  1 Silver   | 03-05 01:00  | Wed 03-04 18:00 | W10 | 03 | breached 07:00 (resp 08:00) | 25200 / 21600 |
| C12 #0     | init  1 Bronze   | 02-26 03:00  | Wed 02-25 20:00 | W09 | 02 | untargeted             | 7200 / - |
| C13 #0     | init  3 Bronze   | 03-02 01:00  | SUN 03-01 18:00 | W09 | 03 | untargeted (japan)     | 7200 / - |

Every case closes at its last response (so it starts no further follow-up) except C01
(closed at its second response), C05 (closed without one) and C04 (still open).
C09 is submitted at severity 1 and lowered to 3 at 19:00Z, before its response at 20:00Z:
severity 1 would have its deadline at 22:00Z, so nothing breached; the reported severity is
3 (Silver 14 h = 50400 s, 09:00-13:00 Denver = 14400 s elapsed). C02 is re-classified to 2
on 02-25, after its obligation ended, so its obligation stays severity 1.
C14 is opened after the as-of instant and must not appear anywhere.
C03 and C13 start on Sunday evening in Denver, Monday in UTC: in UTC they would fall in W10.
C06 #0 starts on Saturday 02-28 in Denver, 03-01 in UTC: in UTC it would fall in March.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects.attainment import (
    attainment_summary,
    attainment_table,
    breached_obligations,
    breaches_week_to_date,
    response_times,
)
from metrics.subjects.buckets import BUCKET_COLUMNS
from metrics.subjects.filters import Filters, previous_period

AS_OF = "2026-03-06T00:00:00Z"
FIXTURE = {
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,emea,Bob
        A3,Cyan,americas,Ann
        A4,Delta,japan,
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Platinum,2026-01-01,2026-12-31
        A3,Silver,2026-01-01,2026-12-31
        A4,Bronze,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity,closed_at
        C01,A1,2026-02-23T15:00:00Z,1,2026-02-24T17:00:00Z
        C02,A1,2026-02-24T10:00:00Z,1,2026-02-24T15:00:00Z
        C03,A1,2026-03-02T06:30:00Z,1,2026-03-02T08:00:00Z
        C04,A1,2026-03-05T18:00:00Z,2,
        C05,A1,2026-02-25T16:00:00Z,3,2026-02-25T18:00:00Z
        C06,A2,2026-03-01T06:30:00Z,1,2026-03-02T09:30:00Z
        C07,A2,2026-02-23T09:00:00Z,2,2026-02-23T16:00:00Z
        C08,A2,2026-02-17T12:00:00Z,1,2026-02-17T14:00:00Z
        C09,A3,2026-02-18T16:00:00Z,1,2026-02-18T20:00:00Z
        C10,A3,2026-03-03T17:00:00Z,2,2026-03-03T19:00:00Z
        C11,A3,2026-03-05T01:00:00Z,1,2026-03-05T08:00:00Z
        C12,A4,2026-02-26T03:00:00Z,1,2026-02-26T05:00:00Z
        C13,A4,2026-03-02T01:00:00Z,3,2026-03-02T03:00:00Z
        C14,A1,2026-03-07T00:00:00Z,1,
    """,
    "responses.csv": """
        case_id,at,author_type
        C01,2026-02-23T17:00:00Z,agent
        C01,2026-02-24T17:00:00Z,agent
        C02,2026-02-24T15:00:00Z,agent
        C03,2026-03-02T08:00:00Z,agent
        C06,2026-03-01T07:30:00Z,agent
        C06,2026-03-02T09:30:00Z,agent
        C07,2026-02-23T16:00:00Z,agent
        C08,2026-02-17T13:00:00Z,agent
        C09,2026-02-18T20:00:00Z,agent
        C10,2026-03-03T19:00:00Z,agent
        C11,2026-03-05T08:00:00Z,agent
        C12,2026-02-26T05:00:00Z,agent
        C13,2026-03-02T03:00:00Z,agent
        C14,2026-03-07T01:00:00Z,agent
    """,
    "case_changes.csv": """
        case_id,at,field,value
        C02,2026-02-24T14:30:00Z,escalation,1
        C02,2026-02-25T08:00:00Z,severity,2
        C02,2026-02-25T09:00:00Z,escalation,2
        C04,2026-03-06T12:00:00Z,escalation,1
        C09,2026-02-18T18:00:00Z,escalation,manager
        C09,2026-02-18T19:00:00Z,severity,3
        C11,2026-03-05T07:00:00Z,escalation,1
        C13,2026-03-02T06:00:00Z,escalation,1
    """,
    "standing.csv": """
        account_id,suspended_from,suspended_to
        A3,2026-03-03T00:00:00Z,2026-03-04T00:00:00Z
    """,
}
COUNTS = ["met", "breached", "pending", "cancelled", "untargeted", "suspended", "obligations", "attainment"]
NAN = math.nan


def build_fixture_snapshot(folder: Path) -> Snapshot:
    """Write FIXTURE into `folder`, load it and take the snapshot as of AS_OF."""
    for name, text in FIXTURE.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    db = folder / "store.duckdb"
    ingest(folder, db)
    return open_snapshot(db, AS_OF)


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return build_fixture_snapshot(tmp_path_factory.mktemp("attainment"))


def expect(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def assert_frame(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal frames; a trend's bucket columns (tests/subjects/test_buckets.py) only where expected names them."""
    extra = [c for c in BUCKET_COLUMNS if c in actual.columns and c not in expected.columns]
    pd.testing.assert_frame_equal(actual.drop(columns=extra).reset_index(drop=True), expected, check_dtype=False)


def test_attainment_per_kind_severity_package(snap):
    """Every column per kind x severity x package; excluded statuses beside the ratio, never in it."""
    expected = expect(
        ["kind", "severity", "package", *COUNTS],
        [
            # met, breached, pending, cancelled, untargeted, suspended, obligations, attainment
            ("follow_up", 1, "Gold", 1, 0, 0, 0, 0, 0, 1, 1.0),  # C01 #1
            ("follow_up", 1, "Platinum", 0, 1, 0, 1, 0, 0, 2, 0.0),  # C06 #1 breached, C08 #1 cancelled: 0/1
            ("initial", 1, "Bronze", 0, 0, 0, 0, 1, 0, 1, NAN),  # C12: nothing decided
            ("initial", 1, "Gold", 2, 1, 0, 0, 0, 0, 3, 2 / 3),  # C01, C03 met; C02 breached
            ("initial", 1, "Platinum", 2, 0, 0, 0, 0, 0, 2, 1.0),  # C06, C08
            ("initial", 1, "Silver", 0, 1, 0, 0, 0, 0, 1, 0.0),  # C11
            ("initial", 2, "Gold", 0, 0, 1, 0, 0, 0, 1, NAN),  # C04 pending
            ("initial", 2, "Platinum", 0, 1, 0, 0, 0, 0, 1, 0.0),  # C07
            ("initial", 2, "Silver", 0, 0, 0, 0, 0, 1, 1, NAN),  # C10 suspended
            ("initial", 3, "Bronze", 0, 0, 0, 0, 1, 0, 1, NAN),  # C13
            ("initial", 3, "Gold", 0, 0, 0, 1, 0, 0, 1, NAN),  # C05 cancelled
            ("initial", 3, "Silver", 1, 0, 0, 0, 0, 0, 1, 1.0),  # C09, at its reported severity 3
        ],
    )
    assert_frame(attainment_table(snap), expected)


def test_attainment_per_region_and_iso_week_cut_in_denver(snap):
    """Weeks are ISO weeks in Denver: C03 (Sunday 23:30 Denver, Monday in UTC) counts in W09, not W10."""
    expected = expect(
        ["period", "region", *COUNTS],
        [
            ("2026-W08", "americas", 1, 0, 0, 0, 0, 0, 1, 1.0),  # C09
            ("2026-W08", "emea", 1, 0, 0, 1, 0, 0, 2, 1.0),  # C08 #0 met, #1 cancelled
            # C01 #0 #1, C03 met; C02 breached; C05 cancelled -> 3/4
            ("2026-W09", "americas", 3, 1, 0, 1, 0, 0, 5, 0.75),
            ("2026-W09", "emea", 1, 2, 0, 0, 0, 0, 3, 1 / 3),  # C06 #0 met; C06 #1, C07 breached
            ("2026-W09", "japan", 0, 0, 0, 0, 2, 0, 2, NAN),  # C12, C13 (Sunday 18:00 Denver)
            ("2026-W10", "americas", 0, 1, 1, 0, 0, 1, 3, 0.0),  # C11 breached, C04 pending, C10 suspended
        ],
    )
    assert_frame(attainment_table(snap, by=("region",), grain="week"), expected)


def test_attainment_per_account_advisor_and_month(snap):
    """Months are cut in Denver (C06 #0 at 02-28 23:30 is February); a missing advisor reads '(none)'."""
    expected = expect(
        ["period", "account_id", "account_name", "advisor", *COUNTS],
        [
            ("2026-02", "A1", "Acme", "Ann", 2, 1, 0, 1, 0, 0, 4, 2 / 3),  # C01 #0 #1; C02; C05
            ("2026-02", "A2", "Beta", "Bob", 2, 1, 0, 1, 0, 0, 4, 2 / 3),  # C06 #0, C08 #0; C07; C08 #1
            ("2026-02", "A3", "Cyan", "Ann", 1, 0, 0, 0, 0, 0, 1, 1.0),  # C09
            ("2026-02", "A4", "Delta", "(none)", 0, 0, 0, 0, 1, 0, 1, NAN),  # C12
            ("2026-03", "A1", "Acme", "Ann", 1, 0, 1, 0, 0, 0, 2, 1.0),  # C03; C04 pending
            ("2026-03", "A2", "Beta", "Bob", 0, 1, 0, 0, 0, 0, 1, 0.0),  # C06 #1
            ("2026-03", "A3", "Cyan", "Ann", 0, 1, 0, 0, 0, 1, 2, 0.0),  # C11; C10 suspended
            ("2026-03", "A4", "Delta", "(none)", 0, 0, 0, 0, 1, 0, 1, NAN),  # C13
        ],
    )
    assert_frame(attainment_table(snap, by=("account_id", "account_name", "advisor"), grain="month"), expected)


def test_days_are_local_dates_in_denver(snap):
    """Day periods are Denver dates: nothing starts on Mon 03-02 locally though C03 and C13 do in UTC."""
    table = attainment_table(snap, by=(), grain="day")
    # Denver start dates from the fixture table (C01 #0 #1 and C07 on 02-23; C05 and C12 on 02-25; ...)
    assert table["period"].tolist() == [
        "2026-02-17", "2026-02-18", "2026-02-23", "2026-02-24", "2026-02-25",
        "2026-02-28", "2026-03-01", "2026-03-03", "2026-03-04", "2026-03-05",
    ]  # fmt: skip
    # Sunday 03-01 in Denver: C06 #1 (00:30) breached, C13 (18:00) untargeted, C03 (23:30) met
    sunday = table[table["period"] == "2026-03-01"]
    assert_frame(sunday, expect(["period", *COUNTS], [("2026-03-01", 1, 1, 0, 0, 1, 0, 3, 0.5)]))


def test_quarter_holds_every_obligation_once(snap):
    """All 16 obligations (C14, opened after as-of, has none) fall in 2026-Q1: 6 met, 4 breached -> 0.6."""
    expected = expect(["period", *COUNTS], [("2026-Q1", 6, 4, 1, 2, 2, 1, 16, 0.6)])
    assert_frame(attainment_table(snap, by=(), grain="quarter"), expected)


@pytest.mark.parametrize(
    ("filters", "counts"),
    [
        # Gold: C01 #0 #1, C03 met; C02 breached; C04 pending; C05 cancelled -> 3/4
        (Filters(packages=("Gold",)), (3, 1, 1, 1, 0, 0, 6, 0.75)),
        # reported severity 1: met C01 #0 #1, C03, C06 #0, C08 #0; breached C02, C06 #1, C11;
        # cancelled C08 #1; untargeted C12; C09 (reported 3) is out -> 5/8
        (Filters(severities=(1,)), (5, 3, 0, 1, 1, 0, 10, 0.625)),
        # emea = A2: C06 #0, C08 #0 met; C06 #1, C07 breached; C08 #1 cancelled -> 2/4
        (Filters(regions=("emea",)), (2, 2, 0, 1, 0, 0, 5, 0.5)),
        # Ann = A1 (6 obligations) + A3 (C09 met, C10 suspended, C11 breached) -> 4/6
        (Filters(advisors=("Ann",)), (4, 2, 1, 1, 0, 1, 9, 4 / 6)),
        # A3: C09 met, C11 breached, C10 suspended -> 1/2
        (Filters(accounts=("A3",)), (1, 1, 0, 0, 0, 1, 3, 0.5)),
        # ISO week 9 in Denver (Mon 02-23 .. Sun 03-01): C01 #0 #1, C03, C06 #0 met; C02, C06 #1, C07
        # breached; C05 cancelled; C12, C13 untargeted -> 4/7
        (Filters(start=dt.date(2026, 2, 23), end=dt.date(2026, 3, 1)), (4, 3, 0, 1, 2, 0, 10, 4 / 7)),
        # Gold and severity 1 in W09: C01 #0 #1, C03 met; C02 breached -> 3/4
        (
            Filters(start=dt.date(2026, 2, 23), end=dt.date(2026, 3, 1), packages=("Gold",), severities=(1,)),
            (3, 1, 0, 0, 0, 0, 4, 0.75),
        ),
    ],
    ids=["package", "severity", "region", "advisor", "account", "period", "combined"],
)
def test_filters_narrow_the_obligations(snap, filters, counts):
    """Each global filter keeps exactly the obligations worked out by hand."""
    assert_frame(attainment_table(snap, by=(), filters=filters), expect(COUNTS, [counts]))


def test_unknown_group_is_refused(snap):
    """Grouping keys come from a whitelist: anything else is an error, never SQL."""
    with pytest.raises(ValueError, match="cannot group by 'status; drop'"):
        attainment_table(snap, by=("status; drop",))


TIMES = ["obligations", "median_seconds", "p90_seconds", "median_of_target", "p90_of_target", "within_half_target"]


def test_response_times_per_kind_severity_package(snap):
    """Median and p90 interpolate linearly; within half target counts elapsed <= 0.5 x target."""
    expected = expect(
        ["kind", "severity", "package", *TIMES],
        [
            ("follow_up", 1, "Gold", 1, 86400, 86400, 0.75, 0.75, 0.0),  # C01 #1: 86400 / 115200
            ("follow_up", 1, "Platinum", 1, 93600, 93600, 13 / 12, 13 / 12, 0.0),  # C06 #1: 93600 / 86400
            # C03 5400, C01 7200, C02 18000 (ratios .375, .5, 1.25): median the middle one;
            # p90 at rank 0.9 x 2 = 1.8: 7200 + 0.8 x 10800 = 15840 and 0.5 + 0.8 x 0.75 = 1.1;
            # within half: 5400 and 7200 (exactly half) of 3
            ("initial", 1, "Gold", 3, 7200, 15840, 0.5, 1.1, 2 / 3),
            ("initial", 1, "Platinum", 2, 3600, 3600, 0.5, 0.5, 1.0),  # C06, C08: 3600 / 7200 each
            ("initial", 1, "Silver", 1, 25200, 25200, 7 / 6, 7 / 6, 0.0),  # C11
            ("initial", 2, "Platinum", 1, 25200, 25200, 7 / 6, 7 / 6, 0.0),  # C07
            ("initial", 3, "Silver", 1, 14400, 14400, 2 / 7, 2 / 7, 1.0),  # C09: 14400 / 50400
        ],
    )
    assert_frame(response_times(snap), expected)


def test_response_times_overall_leave_out_undecided_and_untargeted(snap):
    """Over the 10 met or breached targeted obligations; pending, cancelled, untargeted, suspended are out."""
    # elapsed sorted: 3600 3600 5400 7200 14400 | 18000 25200 25200 86400 93600
    #   median (14400 + 18000) / 2 = 16200; p90 at rank 8.1: 86400 + 0.1 x 7200 = 87120
    # ratios sorted: 2/7 .375 .5 .5 .5 | .75 1.083 7/6 7/6 1.25
    #   median (0.5 + 0.75) / 2 = 0.625; p90 at rank 8.1: 7/6 + 0.1 x (1.25 - 7/6) = 141/120
    # within half: C01 #0, C03, C06 #0, C08 #0, C09 -> 5 of 10
    expected = expect(TIMES, [(10, 16200, 87120, 0.625, 141 / 120, 0.5)])
    assert_frame(response_times(snap, by=()), expected)


def test_response_times_per_week_with_a_filter(snap):
    """A grain adds the Denver period; filters apply as for attainment (Platinum: C08 in W08, C06 C07 in W09)."""
    expected = expect(
        ["period", *TIMES],
        [
            ("2026-W08", 1, 3600, 3600, 0.5, 0.5, 1.0),  # C08 #0 (C08 #1 cancelled)
            # C06 #0 3600 (.5), C07 25200 (7/6), C06 #1 93600 (13/12); p90 at rank 1.8
            ("2026-W09", 3, 25200, 25200 + 0.8 * 68400, 13 / 12, 13 / 12 + 0.8 * (7 / 6 - 13 / 12), 1 / 3),
        ],
    )
    assert_frame(response_times(snap, by=(), filters=Filters(packages=("Platinum",)), grain="week"), expected)


def test_summary_of_a_month_against_the_previous_month(snap):
    """March (1 met, 2 breached) against February (5 met, 2 breached): 33.3 % vs 71.4 %, -38.1 pp."""
    summary = attainment_summary(snap, Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31)))
    # March: C03 met; C06 #1, C11 breached; C04 pending; C10 suspended; C13 untargeted
    # February: C01 #0 #1, C06 #0, C08 #0, C09 met; C02, C07 breached; C05, C08 #1 cancelled; C12 untargeted
    assert summary == {
        "start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 31),
        "met": 1, "breached": 2, "pending": 1, "cancelled": 0, "untargeted": 1, "suspended": 1,
        "obligations": 6, "attainment": pytest.approx(1 / 3),
        "previous_start": dt.date(2026, 2, 1), "previous_end": dt.date(2026, 2, 28),
        "previous_met": 5, "previous_breached": 2, "previous_pending": 0, "previous_cancelled": 2,
        "previous_untargeted": 1, "previous_suspended": 0, "previous_obligations": 10,
        "previous_attainment": pytest.approx(5 / 7),
        "delta_pp": pytest.approx(100 * (1 / 3 - 5 / 7)),  # -38.095
        # March initial: C03 met; C11 breached; C04 pending; C10 suspended; C13 untargeted -> 1/2
        # March follow-up: C06 #1 breached -> 0/1
        "by_kind": {
            "initial": {"met": 1, "breached": 1, "pending": 1, "obligations": 5, "attainment": 0.5},
            "follow_up": {"met": 0, "breached": 1, "pending": 0, "obligations": 1, "attainment": 0.0},
        },
        # February initial: C01 #0, C06 #0, C08 #0, C09 met; C02, C07 breached; C05 cancelled; C12 -> 4/6
        # February follow-up: C01 #1 met; C08 #1 cancelled -> 1/1
        "previous_by_kind": {
            "initial": {"met": 4, "breached": 2, "pending": 0, "obligations": 8, "attainment": pytest.approx(4 / 6)},
            "follow_up": {"met": 1, "breached": 0, "pending": 0, "obligations": 2, "attainment": 1.0},
        },
        # March cells: severity 1 initial 1/2, severity 1 follow-up 0/1; severity 2 and 3 decided nothing
        "lowest": {"severity": 1, "kind": "follow_up", "attainment": 0.0, "met": 0, "breached": 1},
    }  # fmt: skip


def test_summary_lowest_cell_ties_go_to_the_more_severe_cell(snap):
    """Platinum: severity 1 follow-up (C06 #1) and severity 2 initial (C07) are both 0/1: severity 1 is named."""
    summary = attainment_summary(snap, Filters(packages=("Platinum",)))
    # severity 1 initial: C06 #0, C08 #0 met -> 2/2; severity 1 follow-up: C06 #1 breached (C08 #1 cancelled)
    assert summary["lowest"] == {"severity": 1, "kind": "follow_up", "attainment": 0.0, "met": 0, "breached": 1}
    assert summary["by_kind"]["initial"] == {"met": 2, "breached": 1, "pending": 0, "obligations": 3,
                                             "attainment": pytest.approx(2 / 3)}  # C06 #0, C08 #0; C07
    assert summary["previous_by_kind"] is None  # open-ended: no previous period


def test_summary_without_a_decided_obligation_names_no_lowest_cell(snap):
    """Bronze obligations are all untargeted: no cell has a verdict, so there is no lowest one."""
    summary = attainment_summary(snap, Filters(packages=("Bronze",)))
    assert summary["lowest"] is None
    assert summary["by_kind"]["initial"] == {"met": 0, "breached": 0, "pending": 0, "obligations": 2,
                                             "attainment": None}  # C12, C13 untargeted


def test_summary_of_a_week_against_the_week_before(snap):
    """W10 (C11 breached: 0 %) against W09 (4/7 = 57.1 %): -57.1 pp; the previous week is derived."""
    summary = attainment_summary(snap, Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8)))
    assert (summary["previous_start"], summary["previous_end"]) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert (summary["met"], summary["breached"], summary["attainment"]) == (0, 1, 0.0)
    assert (summary["previous_met"], summary["previous_breached"]) == (4, 3)
    assert summary["delta_pp"] == pytest.approx(-400 / 7)


def test_summary_with_an_explicit_previous_period_and_filters(snap):
    """An explicit comparison period is used as given; other filters apply to both periods."""
    current = Filters(start=dt.date(2026, 2, 23), end=dt.date(2026, 3, 1), packages=("Gold",))
    previous = Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8), packages=("Gold",))
    summary = attainment_summary(snap, current, previous)
    # Gold W09: C01 #0 #1, C03 met; C02 breached -> 0.75. Gold W10: C04 pending only -> undefined
    assert (summary["met"], summary["breached"], summary["cancelled"], summary["attainment"]) == (3, 1, 1, 0.75)
    assert (summary["previous_pending"], summary["previous_attainment"], summary["delta_pp"]) == (1, None, None)


def test_summary_without_a_period_has_no_comparison(snap):
    """An open-ended period has no previous one: the previous values and the delta are None."""
    summary = attainment_summary(snap)
    assert (summary["met"], summary["breached"], summary["attainment"]) == (6, 4, 0.6)
    assert summary["previous_met"] is None and summary["previous_attainment"] is None
    assert summary["delta_pp"] is None


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),  # a month: the previous month
        ("2026-02-01", "2026-02-28", ("2026-01-01", "2026-01-31")),  # 28 days back would be 01-04
        ("2026-07-01", "2026-09-30", ("2026-04-01", "2026-06-30")),  # Q3 -> Q2
        ("2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31")),  # across a year
        ("2026-03-02", "2026-03-08", ("2026-02-23", "2026-03-01")),  # a week: 7 days back
        ("2026-03-10", "2026-03-24", ("2026-02-23", "2026-03-09")),  # any 15 days: 15 days back
    ],
)
def test_previous_period(start, end, previous):
    """Whole months step back by whole months; other ranges by their length in days."""
    filters = Filters(start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end), regions=("emea",))
    result = previous_period(filters)
    assert result == Filters(
        start=dt.date.fromisoformat(previous[0]), end=dt.date.fromisoformat(previous[1]), regions=("emea",)
    )


def test_previous_period_of_an_open_ended_period_is_none():
    """Without both ends there is no 'previous period' to compare with."""
    assert previous_period(Filters(start=dt.date(2026, 3, 1))) is None


BREACH_COLUMNS = [
    "case_id", "account_id", "account_name", "package", "kind", "seq", "severity", "start_at",
    "deadline_at", "breached_at", "end_at", "elapsed_seconds", "target_seconds",
]  # fmt: skip


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_breached_obligations_drill_down(snap):
    """The four breached obligations with deadline, breach, end, elapsed and target, by start."""
    expected = expect(
        BREACH_COLUMNS,
        [
            # emea business hours 08-18 UTC: 6 h from 09:00 -> 15:00; answered 16:00 = 7 h
            ("C07", "A2", "Beta", "Platinum", "initial", 0, 2, ts("2026-02-23T09:00Z"),
             ts("2026-02-23T15:00Z"), ts("2026-02-23T15:00Z"), ts("2026-02-23T16:00Z"), 25200, 21600),
            # 4 h 24x7 from 10:00 -> 14:00; answered 15:00 = 5 h
            ("C02", "A1", "Acme", "Gold", "initial", 0, 1, ts("2026-02-24T10:00Z"),
             ts("2026-02-24T14:00Z"), ts("2026-02-24T14:00Z"), ts("2026-02-24T15:00Z"), 18000, 14400),
            # follow-up 24 h from 03-01 07:30 -> 03-02 07:30; answered 09:30 = 26 h
            ("C06", "A2", "Beta", "Platinum", "follow_up", 1, 1, ts("2026-03-01T07:30Z"),
             ts("2026-03-02T07:30Z"), ts("2026-03-02T07:30Z"), ts("2026-03-02T09:30Z"), 93600, 86400),
            # 6 h 24x7 from 01:00 -> 07:00; answered 08:00 = 7 h
            ("C11", "A3", "Cyan", "Silver", "initial", 0, 1, ts("2026-03-05T01:00Z"),
             ts("2026-03-05T07:00Z"), ts("2026-03-05T07:00Z"), ts("2026-03-05T08:00Z"), 25200, 21600),
        ],
    )  # fmt: skip
    actual = breached_obligations(snap)
    for column in ("start_at", "deadline_at", "breached_at", "end_at"):
        actual[column] = actual[column].dt.tz_convert("UTC")
        expected[column] = expected[column].astype(actual[column].dtype)
    assert_frame(actual, expected)


def test_breached_obligations_by_start_or_by_breach(snap):
    """In W10 by start only C11 (as the table's breached count); by breach also C06 #1 (Mon 00:30 Denver)."""
    week10 = Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8))
    by_start = breached_obligations(snap, week10)
    assert by_start["case_id"].tolist() == ["C11"]
    assert len(by_start) == attainment_table(snap, by=(), filters=week10)["breached"].item()
    by_breach = breached_obligations(snap, week10, period_by="breached_at")
    assert list(zip(by_breach["case_id"], by_breach["seq"], strict=True)) == [("C06", 1), ("C11", 0)]


def test_breached_obligations_filters_and_bad_instant(snap):
    """Severity 2 keeps C07 only; a period instant outside the whitelist is an error."""
    assert breached_obligations(snap, Filters(severities=(2,)))["case_id"].tolist() == ["C07"]
    with pytest.raises(ValueError, match="period_by"):
        breached_obligations(snap, period_by="opened_at")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FIXTURE's store, for snapshots at other as-of instants than AS_OF."""
    folder = tmp_path_factory.mktemp("week_to_date")
    build_fixture_snapshot(folder)
    return folder / "store.duckdb"


def week(store: Path, as_of: str, filters: Filters = Filters()) -> tuple:
    result = breaches_week_to_date(open_snapshot(store, as_of), filters)
    return (result["week_start"], result["start_at"], result["previous_start_at"], result["previous_end_at"],
            result["breaches"], result["previous_breaches"], result["delta"])


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_breaches_week_to_date_on_a_sunday_evening_in_denver(store):
    """Sun 03-01 20:00 MST is Mon 03-02 03:00Z: still Denver's week of Mon 02-23, not an empty UTC week."""
    # this week: Mon 02-23 00:00 MST = 07:00Z .. 03-02 03:00Z: C07 breached 02-23 15:00Z, C02 02-24 14:00Z
    #   (C06 #1 breaches at 03-02 07:30Z, after the as-of); the UTC date would make it Mon 03-02 .. : 0
    # last week's same days: Mon 02-16 07:00Z .. Sun 02-22 20:00 MST = 02-23 03:00Z: no breach
    assert week(store, "2026-03-02T03:00:00Z") == (
        dt.date(2026, 2, 23), utc("2026-02-23T07:00"), utc("2026-02-16T07:00"), utc("2026-02-23T03:00"), 2, 0, 2,
    )
    # other filters apply, the sidebar's period does not: severity 1 keeps C02 only (C07 is severity 2)
    january = Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), severities=(1,))
    assert week(store, "2026-03-02T03:00:00Z", january)[4:] == (1, 0, 1)


def test_breaches_week_to_date_as_of_the_end_of_sunday(store):
    """The sidebar's "as of Sunday 03-01" is Mon 03-02 00:00 MST (07:00Z): it closes W09, it opens no week."""
    # C07 and C02 before 07:00Z; C06 #1 at 07:30Z is not breached yet; the week before: nothing
    assert week(store, "2026-03-02T07:00:00Z")[0] == dt.date(2026, 2, 23)
    assert week(store, "2026-03-02T07:00:00Z")[4:] == (2, 0, 2)
    # one hour later (Mon 01:00 MST) the new week holds C06 #1 (00:30 MST); Mon 02-23 00:00..01:00 MST had none
    assert week(store, "2026-03-02T08:00:00Z") == (
        dt.date(2026, 3, 2), utc("2026-03-02T07:00"), utc("2026-02-23T07:00"), utc("2026-02-23T08:00"), 1, 0, 1,
    )


def test_breaches_week_to_date_across_the_dst_change(store):
    """After DST starts (Sun 03-08), the week before is cut at the same local time, an hour later in UTC."""
    # as of Thu 03-12 00:30 MDT = 06:30Z; this week from Mon 03-09 00:00 MDT = 06:00Z: no breach
    #   (C04 breached Fri 03-06 15:00Z: 7 h Thu 11-18 MST + 1 h Fri 07-08 MST; C14 #1 Sun 03-08 09:00Z)
    # last week: Mon 03-02 00:00 MST = 07:00Z .. Thu 03-05 00:30 MST = 07:30Z: C06 #1 (03-02 07:30Z) and
    #   C11 (03-05 07:00Z) -> 2; seven times 24 h before the as-of (06:30Z) would leave C11 out
    assert week(store, "2026-03-12T06:30:00Z") == (
        dt.date(2026, 3, 9), utc("2026-03-09T06:00"), utc("2026-03-02T07:00"), utc("2026-03-05T07:30"), 0, 2, -2,
    )
    # the breaches named above are where the comments say (C04, C14 #1 fall in the week between)
    late = breached_obligations(open_snapshot(store, "2026-03-12T06:30:00Z"), period_by="breached_at")
    assert [(c, str(b.tz_convert("UTC"))) for c, b in zip(late["case_id"], late["breached_at"], strict=True)] == [
        ("C07", "2026-02-23 15:00:00+00:00"), ("C02", "2026-02-24 14:00:00+00:00"),
        ("C06", "2026-03-02 07:30:00+00:00"), ("C11", "2026-03-05 07:00:00+00:00"),
        ("C04", "2026-03-06 15:00:00+00:00"), ("C14", "2026-03-08 09:00:00+00:00"),
    ]
