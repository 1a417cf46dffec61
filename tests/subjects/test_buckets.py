"""Honest periods: every trend marks a bucket the period covers in part, and one too small to judge.

One Gold account in Denver, severity-1 cases (24x7, 4 h), each answered after 1 h (initial
met) and closed after 2 h (its follow-up cancelled), so each case adds exactly one met
obligation. Opened at 18:00Z (12:00 MDT, the same local date):
  Aug 30 (Sun, ISO 2026-W35), Aug 31 x2 (Mon, W36)  -> August: 3
  Sep 1 .. Sep 20, one a day                        -> September: 20
  Nov 10                                            -> November: 1
As of 2026-11-29T07:00Z = Sun Nov 29 00:00 MST: the last local day with data is Nov 28.
The period is Aug 30 .. Nov 28; the default `[reporting] min_bucket_obligations` is 20.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.errors import LoadError
from metrics.storage.config import load_config, parse_config
from metrics.storage.ingest import ingest
from metrics.subjects.attainment import attainment_table, response_times
from metrics.subjects.buckets import BUCKET_COLUMNS, bucket_hover, mark_buckets, period_last_day
from metrics.subjects.escalations import escalation_rate, escalation_trend
from metrics.subjects.filters import Filters

PERIOD = Filters(start=dt.date(2026, 8, 30), end=dt.date(2026, 11, 28))
D = dt.date


def _opened() -> list[str]:
    days = ["2026-08-30T18:00", "2026-08-31T18:00", "2026-08-31T19:00"]
    days += [f"2026-09-{d:02d}T18:00" for d in range(1, 21)]
    return [*days, "2026-11-10T18:00"]


def _files() -> dict[str, str]:
    cases, responses = ["case_id,account_id,opened_at,severity,closed_at"], ["case_id,at,author_type"]
    for i, opened in enumerate(_opened()):
        at = dt.datetime.fromisoformat(opened + "+00:00")
        stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        cases.append(f"K{i:02d},A1,{stamp(at)},1,{stamp(at + dt.timedelta(hours=2))}")
        responses.append(f"K{i:02d},{stamp(at + dt.timedelta(hours=1))},agent")
    return {
        "accounts.csv": "account_id,name,region,advisor\nA1,Acme,americas,Ann",
        "subscriptions.csv": "account_id,package,start_date,end_date\nA1,Gold,2026-01-01,2026-12-31",
        "cases.csv": "\n".join(cases),
        "responses.csv": "\n".join(responses),
        "config.toml": '[reporting]\ntimezone = "America/Denver"',
    }


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    folder: Path = tmp_path_factory.mktemp("buckets")
    for name, text in _files().items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    return open_snapshot(db, "2026-11-29T07:00:00Z")


def buckets(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return [tuple(r) for r in frame[["period", *BUCKET_COLUMNS]].itertuples(index=False)]


def test_attainment_by_month_marks_a_two_day_august_and_a_short_november(snap):
    """Aug: 2 of 31 days, 3 decided (< 20); Sep whole with 20 (not < 20); Nov 28 of 30 days, 1 decided."""
    table = attainment_table(snap, by=(), filters=PERIOD, grain="month")
    assert table["met"].tolist() == [3, 20, 1]  # October has no obligation: no row
    assert buckets(table) == [
        ("2026-08", D(2026, 8, 1), D(2026, 8, 31), 31, 2, True, True),
        ("2026-09", D(2026, 9, 1), D(2026, 9, 30), 30, 30, False, False),
        ("2026-11", D(2026, 11, 1), D(2026, 11, 30), 30, 28, True, True),
    ]


def test_iso_weeks_cut_by_the_period(snap):
    """W35 (Mon Aug 24 .. Sun Aug 30) holds 1 of its 7 days; W48 (Nov 23 .. 29) 6, Nov 29 being after the period."""
    table = attainment_table(snap, by=(), filters=PERIOD, grain="week")
    first, last = table.iloc[0], table.iloc[-1]
    assert (first["period"], first["period_start"], first["covered_days"], first["period_days"]) == (
        "2026-W35", D(2026, 8, 24), 1, 7,
    )
    assert bool(first["partial"]) and bool(first["too_small"])  # 1 obligation
    week_36 = table[table["period"] == "2026-W36"].iloc[0]  # Aug 31 .. Sep 6 wholly inside the period
    assert (week_36["covered_days"], bool(week_36["partial"])) == (7, False)
    assert last["period"] == "2026-W46"  # Nov 10's week; W48 has no obligation, so no row
    trend = escalation_trend(snap, grain="week", filters=PERIOD)  # filled with quiet weeks: W48 is there
    w48 = trend[trend["period"] == "2026-W48"].iloc[0]
    assert (w48["period_start"], w48["covered_days"], bool(w48["partial"])) == (D(2026, 11, 23), 6, True)


def test_a_configured_minimum_changes_what_is_too_small(snap):
    """min_bucket_obligations = 3: August's 3 are enough (3 < 3 is false), November's 1 is not."""
    config = dataclasses.replace(snap.config, min_bucket_obligations=3)
    table = attainment_table(dataclasses.replace(snap, config=config), by=(), filters=PERIOD, grain="month")
    assert table["too_small"].tolist() == [False, False, True]


def test_escalation_trends_mark_partial_months_and_judge_only_ratios(snap):
    """The count trend fills Aug..Nov and is never too small; the share escalated counts cases opened."""
    trend = escalation_trend(snap, grain="month", filters=PERIOD)
    assert buckets(trend) == [
        ("2026-08", D(2026, 8, 1), D(2026, 8, 31), 31, 2, True, False),
        ("2026-09", D(2026, 9, 1), D(2026, 9, 30), 30, 30, False, False),
        ("2026-10", D(2026, 10, 1), D(2026, 10, 31), 31, 31, False, False),
        ("2026-11", D(2026, 11, 1), D(2026, 11, 30), 30, 28, True, False),
    ]
    rate = escalation_rate(snap, grain="month", filters=PERIOD)
    # cases opened: Aug 3, Sep 20, Oct 0, Nov 1 -> too small below 20
    assert rate["cases_opened"].tolist() == [3, 20, 0, 1]
    assert rate["too_small"].tolist() == [True, False, True, True]
    assert rate["partial"].tolist() == [True, False, False, True]


def test_response_times_and_quarters(snap):
    """Q3 (Jul 1 .. Sep 30, 92 days) covers Aug 30 .. Sep 30 = 32 days; Q4 Oct 1 .. Nov 28 = 59 of 92."""
    table = response_times(snap, by=(), filters=PERIOD, grain="quarter")
    assert buckets(table) == [
        ("2026-Q3", D(2026, 7, 1), D(2026, 9, 30), 92, 32, True, False),  # 23 answered
        ("2026-Q4", D(2026, 10, 1), D(2026, 12, 31), 92, 59, True, True),  # 1 answered
    ]


def test_an_open_period_leaves_the_first_bucket_whole_and_ends_at_the_as_of(snap):
    """Without a start nothing cuts August; the data ends on Nov 28 (as-of Nov 29 00:00 local), so November is partial."""
    table = attainment_table(snap, by=(), grain="month")
    assert table["partial"].tolist() == [False, False, True]
    assert table["covered_days"].tolist() == [31, 30, 28]


def test_days_are_never_partial():
    """A day bucket is the period's own unit."""
    frame = pd.DataFrame({"period": ["2026-08-30", "2026-08-31"]})
    marked = mark_buckets(frame, "day", PERIOD, dt.datetime(2026, 9, 1, 7, tzinfo=dt.UTC), "America/Denver")
    assert marked["partial"].tolist() == [False, False]
    assert marked["period_days"].tolist() == [1, 1]


def test_bucket_ends_and_hover_texts():
    """February of a leap year, a 53-week year's last week, a quarter; the hover says the day count."""
    assert period_last_day("2028-02", "month") == D(2028, 2, 29)
    assert period_last_day("2026-W53", "week") == D(2027, 1, 3)
    assert period_last_day("2026-Q4", "quarter") == D(2026, 12, 31)
    assert bucket_hover("2026-08", "month", 2, 31) == "Aug 2026 (partial: 2 of 31 days)"
    assert bucket_hover("2026-09", "month", 30, 30) == "Sep 2026"
    assert bucket_hover("2026-W35", "week", 1, 7) == "2026-W35 (from Mon Aug 24) (partial: 1 of 7 days)"
    assert bucket_hover("2026-Q4", "quarter", 59, 92) == "Q4 2026 (partial: 59 of 92 days)"


def test_the_minimum_is_validated_and_defaults_to_20(tmp_path):
    """A negative or fractional minimum stops the load with one sentence; unset it is 20."""
    assert load_config(None).min_bucket_obligations == 20
    for bad in (-1, 2.5, True):
        with pytest.raises(LoadError, match=r"\[reporting\] min_bucket_obligations: expected a non-negative integer"):
            parse_config({"reporting": {"min_bucket_obligations": bad}})
    assert parse_config({"reporting": {"min_bucket_obligations": 5}}).min_bucket_obligations == 5
