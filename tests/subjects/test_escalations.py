"""Escalation events, trends, rates, time to first escalation and repeat escalations.

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

import datetime as dt
import math

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot
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
    pd.testing.assert_frame_equal(actual.reset_index(drop=True), expected, check_dtype=False)


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


def test_weekly_trend_counts_both_sources_labelled(snap):
    """Per ISO week in Denver: W08 1 recorded; W09 2 policy + 3 recorded; W10 2 policy + 1 recorded."""
    expected = expect(
        ["period", "policy", "recorded", "total"],
        [
            ("2026-W08", 0, 1, 1),  # C09
            ("2026-W09", 2, 3, 5),  # C07 C02 policy; C02 C02 C13 recorded (C13 would be W10 in UTC)
            ("2026-W10", 2, 1, 3),  # C06 C11 policy; C11 recorded
        ],
    )
    assert_frame(escalation_trend(snap), expected)


def test_trend_shows_quiet_weeks_of_the_filtered_period_as_zeros(snap):
    """Filtered to 02-09 .. 03-15, the weeks W07 and W11 without escalations are present with 0."""
    filters = Filters(start=dt.date(2026, 2, 9), end=dt.date(2026, 3, 15))
    expected = expect(
        ["period", "policy", "recorded", "total"],
        [("2026-W07", 0, 0, 0), ("2026-W08", 0, 1, 1), ("2026-W09", 2, 3, 5), ("2026-W10", 2, 1, 3),
         ("2026-W11", 0, 0, 0)],
    )  # fmt: skip
    assert_frame(escalation_trend(snap, filters=filters), expected)


def test_trend_by_severity_fills_every_week_for_every_severity(snap):
    """By event severity: each severity present gets a row in each week, zeros included."""
    expected = expect(
        ["period", "severity", "policy", "recorded", "total"],
        [
            ("2026-W08", 1, 0, 1, 1),  # C09 (1 at its instant)
            ("2026-W08", 2, 0, 0, 0),
            ("2026-W08", 3, 0, 0, 0),
            ("2026-W09", 1, 1, 1, 2),  # C02 policy, C02 recorded 14:30
            ("2026-W09", 2, 1, 1, 2),  # C07 policy, C02 recorded 02-25 (after the re-classification)
            ("2026-W09", 3, 0, 1, 1),  # C13
            ("2026-W10", 1, 2, 1, 3),  # C06 C11 policy, C11 recorded
            ("2026-W10", 2, 0, 0, 0),
            ("2026-W10", 3, 0, 0, 0),
        ],
    )
    assert_frame(escalation_trend(snap, grain="week", by=("severity",)), expected)


def test_monthly_trend_by_package_and_account_filter(snap):
    """Months are cut in Denver; the account filter keeps A1 (Gold) only: 1 policy + 2 recorded in February."""
    expected = expect(
        ["period", "package", "account_id", "policy", "recorded", "total"],
        [("2026-02", "Gold", "A1", 1, 2, 3)],
    )
    trend = escalation_trend(snap, grain="month", by=("package", "account_id"), filters=Filters(accounts=("A1",)))
    assert_frame(trend, expected)


def test_trend_quarter_and_severity_filter(snap):
    """Severity-1 events: C09 C02 C02 (recorded 14:30) C06 C11 C11 = 3 policy + 3 recorded, all in Q1."""
    expected = expect(["period", "policy", "recorded", "total"], [("2026-Q1", 3, 3, 6)])
    assert_frame(escalation_trend(snap, grain="quarter", filters=Filters(severities=(1,))), expected)


def test_rate_per_100_cases_opened_per_month(snap):
    """February 5 escalations / 8 cases = 62.5; March 4 / 5 = 80."""
    expected = expect(
        ["period", "policy", "recorded", "total", "cases_opened", "escalations_per_100_cases"],
        [("2026-02", 2, 3, 5, 8, 62.5), ("2026-03", 2, 2, 4, 5, 80.0)],
    )
    assert_frame(escalation_rate(snap), expected)


def test_rate_by_package_counts_cases_and_escalations_in_their_own_periods(snap):
    """Platinum in March has an escalation (C06's breach) but no case opened: rate undefined, not infinite."""
    expected = expect(
        ["period", "package", "policy", "recorded", "total", "cases_opened", "escalations_per_100_cases"],
        [
            ("2026-02", "Bronze", 0, 0, 0, 1, 0.0),  # C12 opened, never escalated
            ("2026-02", "Gold", 1, 2, 3, 3, 100.0),  # C02 x3 / C01 C02 C05
            ("2026-02", "Platinum", 1, 0, 1, 3, 100 / 3),  # C07 / C06 C07 C08
            ("2026-02", "Silver", 0, 1, 1, 1, 100.0),  # C09 / C09
            ("2026-03", "Bronze", 0, 1, 1, 1, 100.0),  # C13 / C13
            ("2026-03", "Gold", 0, 0, 0, 2, 0.0),  # - / C03 C04
            ("2026-03", "Platinum", 1, 0, 1, 0, NAN),  # C06 (opened in February) / none
            ("2026-03", "Silver", 1, 1, 2, 2, 100.0),  # C11 x2 / C10 C11
        ],
    )
    assert_frame(escalation_rate(snap, grain="month", by=("package",)), expected)


def test_rate_for_one_week(snap):
    """W10: 3 escalations; cases opened C04 C10 C11 (C03 and C13 are Sunday in Denver, C14 after as-of)."""
    expected = expect(
        ["period", "policy", "recorded", "total", "cases_opened", "escalations_per_100_cases"],
        [("2026-W10", 2, 1, 3, 3, 100.0)],
    )
    assert_frame(escalation_rate(snap, grain="week", filters=WEEK_10), expected)


FIRST_COLUMNS = ["case_id", "first_source", "time_to_first_escalation_seconds", "first_escalation_at", "opened_at"]


def first_rows(frame: pd.DataFrame) -> list[tuple]:
    return [
        (case, source, int(seconds), utc(first).isoformat(), utc(opened).isoformat())
        for case, source, seconds, first, opened in frame[FIRST_COLUMNS].itertuples(index=False)
    ]


def test_time_to_first_escalation_per_case(snap):
    """Calendar seconds from opening to the first event; policy wins a tie at the same instant (C11)."""
    assert first_rows(time_to_first_escalation(snap)) == [
        ("C09", "recorded", 7200, "2026-02-18T18:00:00+00:00", "2026-02-18T16:00:00+00:00"),  # 2 h
        ("C07", "policy", 21600, "2026-02-23T15:00:00+00:00", "2026-02-23T09:00:00+00:00"),  # 6 h
        ("C02", "policy", 14400, "2026-02-24T14:00:00+00:00", "2026-02-24T10:00:00+00:00"),  # 4 h
        ("C13", "recorded", 18000, "2026-03-02T06:00:00+00:00", "2026-03-02T01:00:00+00:00"),  # 5 h
        ("C06", "policy", 90000, "2026-03-02T07:30:00+00:00", "2026-03-01T06:30:00+00:00"),  # 25 h
        ("C11", "policy", 21600, "2026-03-05T07:00:00+00:00", "2026-03-05T01:00:00+00:00"),  # 6 h, tie
    ]


def test_time_to_first_escalation_filters_on_the_first_event(snap):
    """Severity 2 keeps C07 only: C02's severity-2 event is not its first. W10 keeps C06 and C11."""
    assert time_to_first_escalation(snap, Filters(severities=(2,)))["case_id"].tolist() == ["C07"]
    assert time_to_first_escalation(snap, WEEK_10)["case_id"].tolist() == ["C06", "C11"]


def test_repeat_escalations(snap):
    """C02 (1 policy + 2 recorded) and C11 (1 + 1) are escalated more than once."""
    expected = expect(
        ["case_id", "account_id", "account_name", "events", "policy", "recorded"],
        [("C02", "A1", "Acme", 3, 1, 2), ("C11", "A3", "Cyan", 2, 1, 1)],
    )
    assert_frame(repeat_escalations(snap), expected)


def test_repeat_escalations_count_events_inside_the_period(snap):
    """In W09 only C02 repeats; severity 1 leaves C02 with 2 events (its 02-25 one is severity 2)."""
    week_9 = Filters(start=dt.date(2026, 2, 23), end=dt.date(2026, 3, 1))
    assert repeat_escalations(snap, week_9)[["case_id", "events"]].to_numpy().tolist() == [["C02", 3]]
    severity_1 = repeat_escalations(snap, Filters(severities=(1,)))
    assert severity_1[["case_id", "events", "policy", "recorded"]].to_numpy().tolist() == [
        ["C02", 2, 1, 1],
        ["C11", 2, 1, 1],
    ]


def test_summary_of_everything(snap):
    """9 events over 13 cases = 69.2 per 100; first escalation after 2 4 5 6 6 25 h: median 5.5 h, p90 15.5 h."""
    # p90 at rank 0.9 x 5 = 4.5 between 6 h and 25 h: 6 + 0.5 x 19 = 15.5
    assert escalation_summary(snap) == {
        "policy": 4,
        "recorded": 5,
        "total": 9,
        "escalated_cases": 6,
        "cases_opened": 13,
        "escalations_per_100_cases": pytest.approx(900 / 13),
        "median_hours_to_first_escalation": pytest.approx(5.5),
        "p90_hours_to_first_escalation": pytest.approx(15.5),
        "repeat_cases": 2,
    }


def test_summary_of_one_week(snap):
    """W10: 3 events over 3 cases opened = 100; first escalations C11 6 h and C06 25 h: median 15.5, p90 23.1."""
    # p90 at rank 0.9: 6 + 0.9 x 19 = 23.1; repeat: C11 (policy + recorded at 07:00)
    assert escalation_summary(snap, WEEK_10) == {
        "policy": 2,
        "recorded": 1,
        "total": 3,
        "escalated_cases": 2,
        "cases_opened": 3,
        "escalations_per_100_cases": pytest.approx(100.0),
        "median_hours_to_first_escalation": pytest.approx(15.5),
        "p90_hours_to_first_escalation": pytest.approx(23.1),
        "repeat_cases": 1,
    }


def test_summary_of_a_quiet_period_has_no_rate_or_times(snap):
    """A week without cases or escalations: zeros, and None where a ratio or quantile is undefined."""
    quiet = escalation_summary(snap, Filters(start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 11)))
    assert quiet["total"] == 0 and quiet["cases_opened"] == 0 and quiet["repeat_cases"] == 0
    assert quiet["escalations_per_100_cases"] is None
    assert quiet["median_hours_to_first_escalation"] is None and quiet["p90_hours_to_first_escalation"] is None


def test_unknown_group_is_refused(snap):
    """Grouping keys come from a whitelist."""
    with pytest.raises(ValueError, match="cannot group by 'kind'"):
        escalation_trend(snap, by=("kind",))
