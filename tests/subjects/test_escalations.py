"""Escalation events, trends, the share of cases escalated, incidents, time to first escalation, repeats.

The fixture is test_attainment.FIXTURE (see its docstring for every obligation), as of
2026-03-06T00:00Z; Denver is UTC-7 throughout. Its escalation events, worked by hand:

| at (UTC)     | Denver local    | wk  | mo | case | source   | severity | package  | account |
|--------------|-----------------|-----|----|------|----------|----------|----------|---------|
| 02-18 18:00  | Wed 02-18 11:00 | W08 | 02 | C09  | recorded | 1 (*)    | Silver   | A3 |
| 02-23 15:00  | Mon 02-23 08:00 | W09 | 02 | C07  | policy   | 2        | Platinum | A2 |
| 02-24 14:00  | Tue 02-24 07:00 | W09 | 02 | C02  | policy   | 1        | Gold     | A1 |
| 02-24 14:30  | Tue 02-24 07:30 | W09 | 02 | C02  | recorded | 1        | Gold     | A1 |
| 02-25 09:00  | Wed 02-25 02:00 | W09 | 02 | C02  | recorded | 2 (**)   | Gold     | A1 |
| 03-02 06:00  | SUN 03-01 23:00 | W09 | 03 | C13  | recorded | 3        | Bronze   | A4 |
| 03-02 07:30  | Mon 03-02 00:30 | W10 | 03 | C06  | policy   | 1        | Platinum | A2 |
| 03-05 07:00  | Thu 03-05 00:00 | W10 | 03 | C11  | policy   | 1        | Silver   | A3 |
| 03-05 07:00  | Thu 03-05 00:00 | W10 | 03 | C11  | recorded | 1        | Silver   | A3 |

Policy = the four breached obligations at breached_at, with their reported severity.
Recorded severity is the one in force at the instant: (*) C09 was submitted at 1 and
lowered to 3 an hour after its escalation; (**) C02 was re-classified to 2 at 08:00Z
that day. C04's escalation at 03-06 12:00Z lies after the as-of instant and is ignored.
C13's escalation is Sunday in Denver but Monday (W10) in UTC.

Cases opened (Denver date of opened_at; C14 is after as-of):
February: C01 C02 C05 (Gold), C06 (Sat 02-28 23:30) C07 C08 (Platinum), C09 (Silver), C12 (Bronze) = 8
March: C03 (Sun 03-01 23:30) C04 (Gold), C10 C11 (Silver), C13 (Bronze) = 5
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, take_snapshot
from metrics.subjects.buckets import BUCKET_COLUMNS
from metrics.subjects.escalations import (
    escalation_events,
    escalation_rate,
    escalation_summary,
    escalation_trend,
    repeat_escalations,
    time_to_first_escalation,
)
from metrics.subjects.filters import Filters
from tests.subjects.test_attainment import build_fixture_snapshot

NAN = math.nan
WEEK_10 = Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8))


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return build_fixture_snapshot(tmp_path_factory.mktemp("escalations"))


def expect(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def assert_frame(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal frames; a trend's bucket columns (tests/subjects/test_buckets.py) only where expected names them."""
    extra = [c for c in BUCKET_COLUMNS if c in actual.columns and c not in expected.columns]
    pd.testing.assert_frame_equal(actual.drop(columns=extra).reset_index(drop=True), expected, check_dtype=False)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def test_events_list_policy_and_recorded_with_their_severity(snap):
    """Nine events as of the snapshot; recorded ones carry the severity in force at their instant."""
    events = escalation_events(snap)
    rows = [
        (utc(at).isoformat(), case, source, int(sev), level if isinstance(level, str) else None)
        for at, case, source, sev, level in events[["at", "case_id", "source", "severity", "level"]].itertuples(
            index=False
        )
    ]
    assert rows == [
        ("2026-02-18T18:00:00+00:00", "C09", "recorded", 1, "manager"),
        ("2026-02-23T15:00:00+00:00", "C07", "policy", 2, None),
        ("2026-02-24T14:00:00+00:00", "C02", "policy", 1, None),
        ("2026-02-24T14:30:00+00:00", "C02", "recorded", 1, "1"),
        ("2026-02-25T09:00:00+00:00", "C02", "recorded", 2, "2"),
        ("2026-03-02T06:00:00+00:00", "C13", "recorded", 3, "1"),
        ("2026-03-02T07:30:00+00:00", "C06", "policy", 1, None),
        ("2026-03-05T07:00:00+00:00", "C11", "policy", 1, None),
        ("2026-03-05T07:00:00+00:00", "C11", "recorded", 1, "1"),
    ]


def test_events_are_put_in_periods_by_their_own_instant_in_denver(snap):
    """Sunday 03-01 in Denver holds only C13's escalation (Monday 06:00 UTC); none of 03-01 UTC."""
    sunday = Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1))
    assert escalation_events(snap, sunday)["case_id"].tolist() == ["C13"]


TREND = ["period", "policy", "recorded", "merged", "incidents"]


def test_weekly_trend_counts_both_sources_apart_and_incidents(snap):
    """Per ISO week in Denver: policy and recorded apart; recorded within 24 h after a breach of the case merge.

    Merged (window 24 h): C02's recorded 02-24 14:30 (0.5 h after its breach at 14:00) and
    02-25 09:00 (19 h after), C11's recorded at the very instant of its breach (at or within).
    C09 and C13 have no breach. Incidents = policy + recorded - merged.
    """
    expected = expect(
        TREND,
        [
            ("2026-W08", 0, 1, 0, 1),  # C09
            ("2026-W09", 2, 3, 2, 3),  # C07 C02 policy; C02 C02 (both merged) C13 recorded: 2 + 3 - 2
            ("2026-W10", 2, 1, 1, 2),  # C06 C11 policy; C11 recorded (merged): 2 + 1 - 1
        ],
    )
    assert_frame(escalation_trend(snap), expected)


def test_trend_shows_quiet_weeks_of_the_filtered_period_as_zeros(snap):
    """Filtered to 02-09 .. 03-15, the weeks W07 and W11 without escalations are present with 0."""
    filters = Filters(start=dt.date(2026, 2, 9), end=dt.date(2026, 3, 15))
    expected = expect(
        TREND,
        [("2026-W07", 0, 0, 0, 0), ("2026-W08", 0, 1, 0, 1), ("2026-W09", 2, 3, 2, 3), ("2026-W10", 2, 1, 1, 2),
         ("2026-W11", 0, 0, 0, 0)],
    )  # fmt: skip
    assert_frame(escalation_trend(snap, filters=filters), expected)


def test_trend_by_severity_fills_every_week_for_every_severity(snap):
    """By event severity: each severity present gets a row in each week, zeros included."""
    expected = expect(
        ["period", "severity", "policy", "recorded", "merged", "incidents"],
        [
            ("2026-W08", 1, 0, 1, 0, 1),  # C09 (1 at its instant)
            ("2026-W08", 2, 0, 0, 0, 0),
            ("2026-W08", 3, 0, 0, 0, 0),
            ("2026-W09", 1, 1, 1, 1, 1),  # C02 policy, C02 recorded 14:30 (merged)
            # C07 policy; C02 recorded 02-25 (severity 2 after the re-classification), merged into
            # C02's severity-1 breach: that incident is counted under severity 1 by its breach
            ("2026-W09", 2, 1, 1, 1, 1),
            ("2026-W09", 3, 0, 1, 0, 1),  # C13
            ("2026-W10", 1, 2, 1, 1, 2),  # C06 C11 policy, C11 recorded (merged)
            ("2026-W10", 2, 0, 0, 0, 0),
            ("2026-W10", 3, 0, 0, 0, 0),
        ],
    )
    assert_frame(escalation_trend(snap, grain="week", by=("severity",)), expected)


def test_monthly_trend_by_package_and_account_filter(snap):
    """Months are cut in Denver; the account filter keeps A1 (Gold) only: 1 policy + 2 recorded (both merged) in February."""
    expected = expect(
        ["period", "package", "account_id", "policy", "recorded", "merged", "incidents"],
        [("2026-02", "Gold", "A1", 1, 2, 2, 1)],
    )
    trend = escalation_trend(snap, grain="month", by=("package", "account_id"), filters=Filters(accounts=("A1",)))
    assert_frame(trend, expected)


def test_trend_quarter_and_severity_filter(snap):
    """Severity-1 events: C09 C02 C02 (recorded 14:30) C06 C11 C11 = 3 policy + 3 recorded, 2 merged, all in Q1."""
    expected = expect(TREND, [("2026-Q1", 3, 3, 2, 4)])  # merged: C02 14:30, C11 07:00; 3 + 3 - 2 = 4
    assert_frame(escalation_trend(snap, grain="quarter", filters=Filters(severities=(1,))), expected)


RATE = ["period", "cases_opened", "cases_escalated", "escalated_share", "policy", "recorded", "merged", "incidents"]


def test_share_of_cases_escalated_per_month_of_opening(snap):
    """A cohort: cases opened in the month, those escalated up to the as-of, and their escalations apart.

    February: C01 C02 C05 C06 C07 C08 C09 C12 = 8 opened; escalated C02 C06 (its breach is in
    March: it still counts) C07 C09 = 4, share 0.5; policy C02 C06 C07 = 3, recorded C02 x2
    (both merged) C09 = 3, incidents 3 + 3 - 2 = 4.
    March: C03 C04 C10 C11 C13 = 5; escalated C11 C13 = 2 (C04's is after the as-of), 0.4;
    policy C11, recorded C11 (merged) C13, incidents 1 + 2 - 1 = 2.
    """
    expected = expect(RATE, [("2026-02", 8, 4, 0.5, 3, 3, 2, 4), ("2026-03", 5, 2, 0.4, 1, 2, 1, 2)])
    assert_frame(escalation_rate(snap), expected)


def test_share_by_package_counts_each_case_in_its_own_group(snap):
    """Per package and month of opening; Platinum opened nothing in March: share undefined, not infinite."""
    expected = expect(
        ["period", "package", *RATE[1:]],
        [
            ("2026-02", "Bronze", 1, 0, 0.0, 0, 0, 0, 0),  # C12, never escalated
            ("2026-02", "Gold", 3, 1, 1 / 3, 1, 2, 2, 1),  # C02 of C01 C02 C05
            ("2026-02", "Platinum", 3, 2, 2 / 3, 2, 0, 0, 2),  # C06 C07 of C06 C07 C08
            ("2026-02", "Silver", 1, 1, 1.0, 0, 1, 0, 1),  # C09
            ("2026-03", "Bronze", 1, 1, 1.0, 0, 1, 0, 1),  # C13
            ("2026-03", "Gold", 2, 0, 0.0, 0, 0, 0, 0),  # C03 C04
            ("2026-03", "Platinum", 0, 0, NAN, 0, 0, 0, 0),  # none opened
            ("2026-03", "Silver", 2, 1, 0.5, 1, 1, 1, 1),  # C11 of C10 C11
        ],
    )
    assert_frame(escalation_rate(snap, grain="month", by=("package",)), expected)


def test_share_reads_one_severity_on_both_sides(snap):
    """Severity 1 = the case's severity at the as-of, for opened and escalated alike.

    C02 was re-classified to 2 and C09 lowered to 3, so neither is a severity-1 case even though
    both were escalated at severity 1. February severity-1 cases: C01 C06 C08 C12 = 4, escalated
    C06 = 1; March: C03 C11 = 2, escalated C11 = 1. (Before: 3 severity-1 events in February over
    the cases opened, a rate that could pass 100.)
    """
    expected = expect(RATE, [("2026-02", 4, 1, 0.25, 1, 0, 0, 1), ("2026-03", 2, 1, 0.5, 1, 1, 1, 1)])
    assert_frame(escalation_rate(snap, filters=Filters(severities=(1,))), expected)


def test_share_for_one_week(snap):
    """W10 cohort: C04 C10 C11 (C03 and C13 are Sunday in Denver, C14 after as-of); C11 escalated: 1/3."""
    expected = expect(RATE, [("2026-W10", 3, 1, 1 / 3, 1, 1, 1, 1)])
    assert_frame(escalation_rate(snap, grain="week", filters=WEEK_10), expected)


FIRST_COLUMNS = [
    "case_id", "first_source", "time_to_first_escalation_seconds", "first_escalation_at", "opened_at", "calendar",
    "business_seconds_to_first_escalation",
]  # fmt: skip


def first_rows(frame: pd.DataFrame) -> list[tuple]:
    return [
        (case, source, int(seconds), utc(first).isoformat(), utc(opened).isoformat(), calendar, int(business))
        for case, source, seconds, first, opened, calendar, business in frame[FIRST_COLUMNS].itertuples(index=False)
    ]


def test_time_to_first_escalation_per_case(snap):
    """Calendar and business seconds from opening to the first event; policy wins a tie at the same instant (C11).

    Business time runs on the case's clock for its package and the first event's severity:
    severity 1 is 24x7 (business = calendar); C07 (severity 2, emea, London = UTC in February)
    runs Mon 09:00-15:00 inside 08-18 = 6 h; C13 (severity 3, Bronze's default business clock,
    japan 09-18 Tokyo = 00-09Z) runs Mon 10:00-15:00 Tokyo = 5 h. Both lie in working hours.
    (A first escalation across a night and a weekend: test_escalation_incidents.py.)
    """
    assert first_rows(time_to_first_escalation(snap)) == [
        ("C09", "recorded", 7200, "2026-02-18T18:00:00+00:00", "2026-02-18T16:00:00+00:00", "24x7", 7200),  # 2 h
        ("C07", "policy", 21600, "2026-02-23T15:00:00+00:00", "2026-02-23T09:00:00+00:00", "emea", 21600),  # 6 h
        ("C02", "policy", 14400, "2026-02-24T14:00:00+00:00", "2026-02-24T10:00:00+00:00", "24x7", 14400),  # 4 h
        ("C13", "recorded", 18000, "2026-03-02T06:00:00+00:00", "2026-03-02T01:00:00+00:00", "japan", 18000),  # 5 h
        ("C06", "policy", 90000, "2026-03-02T07:30:00+00:00", "2026-03-01T06:30:00+00:00", "24x7", 90000),  # 25 h
        ("C11", "policy", 21600, "2026-03-05T07:00:00+00:00", "2026-03-05T01:00:00+00:00", "24x7", 21600),  # 6 h, tie
    ]


def test_time_to_first_escalation_filters_on_the_first_event(snap):
    """Severity 2 keeps C07 only: C02's severity-2 event is not its first. W10 keeps C06 and C11."""
    assert time_to_first_escalation(snap, Filters(severities=(2,)))["case_id"].tolist() == ["C07"]
    assert time_to_first_escalation(snap, WEEK_10)["case_id"].tolist() == ["C06", "C11"]


INCIDENT_ROWS = ["case_id", "account_id", "account_name", "policy", "recorded", "merged", "incidents"]


def test_repeat_escalations_are_cases_with_more_than_one_incident(snap):
    """With the 24 h window C02 (1 policy + 2 merged recorded) and C11 (1 + 1 merged) are one incident each: none repeat."""
    assert repeat_escalations(snap).empty


def test_repeat_escalations_with_a_15_minute_window(snap):
    """Window 0.25 h: C02's recorded at +30 min and +19 h stand alone (3 incidents); C11's at +0 still merges."""
    narrow = take_snapshot(snap.con, snap.as_of, dataclasses.replace(snap.config, escalation_incident_hours=0.25))
    expected = expect(INCIDENT_ROWS, [("C02", "A1", "Acme", 1, 2, 0, 3)])
    assert_frame(repeat_escalations(narrow), expected)
    # in W09 alone the same; severity 1 keeps C02's policy and its 14:30 recorded: 2 incidents
    week_9 = Filters(start=dt.date(2026, 2, 23), end=dt.date(2026, 3, 1))
    assert_frame(repeat_escalations(narrow, week_9), expected)
    severity_1 = expect(INCIDENT_ROWS, [("C02", "A1", "Acme", 1, 1, 0, 2)])
    assert_frame(repeat_escalations(narrow, Filters(severities=(1,))), severity_1)


def test_summary_of_everything(snap):
    """6 of 13 cases escalated; 4 policy + 5 recorded - 3 merged = 6 incidents; first after 2 4 5 6 6 25 h."""
    # escalated cases: C02 C06 C07 C09 C11 C13; merged: C02 14:30 and 02-25 09:00, C11 07:00
    # p90 at rank 0.9 x 5 = 4.5 between 6 h and 25 h: 6 + 0.5 x 19 = 15.5; business = calendar here
    assert escalation_summary(snap) == {
        "cases_opened": 13,
        "cases_escalated": 6,
        "escalated_share": pytest.approx(6 / 13),
        "policy": 4,
        "recorded": 5,
        "merged": 3,
        "incidents": 6,
        "incident_hours": 24.0,
        "median_hours_to_first_escalation": pytest.approx(5.5),
        "p90_hours_to_first_escalation": pytest.approx(15.5),
        "median_business_hours_to_first_escalation": pytest.approx(5.5),
        "p90_business_hours_to_first_escalation": pytest.approx(15.5),
        "repeat_cases": 0,
        "total": 9,
        "escalated_cases": 6,
        "escalations_per_100_cases": pytest.approx(900 / 13),
    }


def test_summary_of_one_week(snap):
    """W10: of C04 C10 C11 opened, C11 escalated (1/3); events C06 C11 policy, C11 recorded merged: 2 incidents."""
    # first escalations C11 6 h and C06 25 h (both 24x7): median 15.5, p90 at rank 0.9: 6 + 0.9 x 19 = 23.1
    # C11 (policy + recorded at 07:00) is one incident, so no repeat
    assert escalation_summary(snap, WEEK_10) == {
        "cases_opened": 3,
        "cases_escalated": 1,
        "escalated_share": pytest.approx(1 / 3),
        "policy": 2,
        "recorded": 1,
        "merged": 1,
        "incidents": 2,
        "incident_hours": 24.0,
        "median_hours_to_first_escalation": pytest.approx(15.5),
        "p90_hours_to_first_escalation": pytest.approx(23.1),
        "median_business_hours_to_first_escalation": pytest.approx(15.5),
        "p90_business_hours_to_first_escalation": pytest.approx(23.1),
        "repeat_cases": 0,
        "total": 3,
        "escalated_cases": 2,
        "escalations_per_100_cases": pytest.approx(100.0),
    }


def test_summary_of_a_quiet_period_has_no_rate_or_times(snap):
    """A week without cases or escalations: zeros, and None where a ratio or quantile is undefined."""
    quiet = escalation_summary(snap, Filters(start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 11)))
    assert quiet["total"] == 0 and quiet["cases_opened"] == 0 and quiet["repeat_cases"] == 0
    assert quiet["escalations_per_100_cases"] is None and quiet["escalated_share"] is None
    assert quiet["incidents"] == 0 and quiet["merged"] == 0
    assert quiet["median_hours_to_first_escalation"] is None and quiet["p90_hours_to_first_escalation"] is None
    assert quiet["median_business_hours_to_first_escalation"] is None


def test_unknown_group_is_refused(snap):
    """Grouping keys come from a whitelist."""
    with pytest.raises(ValueError, match="cannot group by 'kind'"):
        escalation_trend(snap, by=("kind",))
