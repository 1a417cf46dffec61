"""Escalations: policy (every breached obligation, at its breach) and recorded (case_changes).

Both kinds are events with an instant; trends, shares, incidents, time to first escalation
and repeat counts are all built on one `escalation_events` table (sql/escalation_events.sql)
so that every page counts them the same way. Wherever a period filter applies to
escalations, an event belongs to the period its own instant falls in (in the reporting
timezone): a breach's `breached_at`, a recorded row's `at`.

Policy and recorded escalations are always counted apart, never summed: where one number
stands for both it is the **incident** count, policy + recorded - merged, where a recorded
escalation at or within `[reporting] escalation_incident_hours` after a breach of the same
case is *merged* into that breach's incident.

The headline is the **share of cases escalated**, a cohort figure: of the cases opened in
the period (by `opened_at`), those with any escalation up to the as-of; both sides filter
on the same severity column, the case's severity at the as-of (`case_facts.severity`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from metrics import sqlfiles
from metrics.engine.snapshot import Snapshot, per_case_table
from metrics.subjects.buckets import mark_buckets, period_first_day
from metrics.subjects.case_cube import CASE_CUBE_FACTS, case_cube_where
from metrics.subjects.filters import PERIOD_GRAINS, Filters, period_label
from metrics.subjects.registry import MetricDefinition, check_grain, group_columns, metric

EVENTS_SQL = sqlfiles.read(__file__, "escalation_events.sql")
FIRSTS_SQL = sqlfiles.read(__file__, "escalation_firsts.sql")


def _events(snap: Snapshot) -> pa.Table:
    window = round(snap.config.escalation_incident_hours * 3600)
    return snap.query(EVENTS_SQL, {"as_of": snap.as_of, "incident_seconds": window})


def _firsts(snap: Snapshot) -> pa.Table:
    snap.table(ESCALATION_EVENTS)
    return snap.query(FIRSTS_SQL)


ESCALATION_EVENTS = per_case_table("escalation_events", _events, EVENTS_SQL)
ESCALATION_FIRSTS = per_case_table("escalation_firsts", _firsts, EVENTS_SQL + FIRSTS_SQL)
EVENT_AT = 'e."at"'  # the instant an escalation event counts by

# The dimensions escalations group by: columns of both escalation_events (e) and case_facts (f).
EVENT_DIMENSIONS = ("package", "severity", "account_id", "account_name", "advisor", "region")
_BY_SOURCE = (
    "count(*) filter (where e.source = 'policy') as policy, count(*) filter (where e.source = 'recorded') as recorded"
)
_SOURCE_COUNTS = f"{_BY_SOURCE}, count(*) as total"
# policy and recorded apart, the recorded ones merged into a breach's incident, and incidents
_INCIDENT_COUNTS = (
    f"{_BY_SOURCE}, count(*) filter (where e.merged) as merged, count(*) filter (where not e.merged) as incidents"
)
INCIDENT_COLUMNS = ["policy", "recorded", "merged", "incidents"]

SEVERITY_BASIS = (
    "Both sides filter on the case's severity at the as-of (case_facts.severity: the last "
    "re-classification up to the as-of), so a case counts once, under one severity."
)


def incident_note(hours: float | None = None) -> str:
    """The merge rule in words (the configured window when known)."""
    window = "[reporting] escalation_incident_hours (default 24)" if hours is None else f"{hours:g} h"
    return (
        f"A recorded escalation at or within {window} after a policy breach of the same case is merged "
        "into that breach's incident; incidents = policy + recorded - merged, dated by their first event."
    )


ESCALATED_SHARE = MetricDefinition(
    "escalated_share",
    "Share of cases escalated",
    "cases opened in the period (by opened_at, in the reporting timezone)",
    "of those cases, the distinct ones with any escalation (policy breach or recorded) up to the as-of",
    "cases opened in the period",
    "opened_at",
    f"The headline of the Escalations, Overview and Governance pages. {SEVERITY_BASIS} "
    "Escalations after the period's end still count (up to the as-of), so a recent period can still rise.",
)
INCIDENTS = MetricDefinition(
    "escalation_incidents",
    "Escalation incidents",
    "escalation incidents",
    "policy escalations + recorded escalations - merged recorded escalations",
    None,
    "breached_at / at",
    incident_note() + " Shown beside policy and recorded, never instead of them; severity: each event's own.",
)


@contextmanager
def _events_cursor(snap: Snapshot) -> Iterator[duckdb.DuckDBPyConnection]:
    """A snapshot cursor holding `escalation_events` and `escalation_firsts`, built once per snapshot."""
    snap.table(ESCALATION_EVENTS)
    snap.table(ESCALATION_FIRSTS)
    with snap.reader() as cur:
        yield cur


def _frame(cur: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pd.DataFrame:
    return cur.sql(sql, params=params).to_arrow_table().to_pandas()


def _event_where(snap: Snapshot, filters: Filters) -> tuple[str, list[object]]:
    """Filters on events: the period by the event's instant, severity by the event's severity."""
    return filters.where("e", EVENT_AT, snap.reporting_timezone, severity="e.severity")


@metric(
    MetricDefinition(
        "policy_escalations",
        "Policy escalations",
        "breached obligations",
        "breached obligations",
        None,
        "breached_at",
        "Each breach escalates the case to support management (sla-rules.md section 5). Grouped "
        "and filtered by the obligation's reported severity ([reporting] breach_severity).",
    ),
    MetricDefinition(
        "recorded_escalations",
        "Recorded escalations",
        "case_changes rows with field = escalation",
        "escalation rows",
        None,
        "at",
        "Grouped and filtered by the severity in force at the row's instant. "
        + incident_note()
        + " Counted apart from policy escalations, never added to them.",
    ),
    period_by="the event's instant (breached_at / at)",
)
def escalation_events(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per escalation (policy or recorded) whose instant falls in the filtered period.

    Columns: case_id, account_id, account_name, advisor, region, package, source
    ('policy' | 'recorded'), at, severity (the obligation's reported one for policy, the one
    in force at the instant for recorded), kind and seq (policy only), level (recorded only),
    opened_at, merged (recorded at or within the incident window after a breach of the case)
    and merged_breach_at (that breach). The period filter applies to `at`; the severity
    filter to `severity`.
    """
    where, params = _event_where(snap, filters)
    sql = f"""select * from escalation_events e where {where}
              order by e."at", e.case_id, e.source, e.seq"""
    with _events_cursor(snap) as cur:
        return _frame(cur, sql, params)


def escalations_per_account(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """The rows of `escalation_events` counted per account: account_id, policy, recorded."""
    where, params = _event_where(snap, filters)
    sql = f"select e.account_id, {_BY_SOURCE} from escalation_events e where {where} group by e.account_id"
    with _events_cursor(snap) as cur:
        return _frame(cur, sql, params)


def _label_of(day: dt.date, grain: str) -> str:
    """The label `filters.period_label` gives a local date (the same formats, in Python)."""
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _period_labels(first: dt.date, last: dt.date, grain: str) -> list[str]:
    """Every period label from the one holding `first` to the one holding `last`, in order."""
    labels: list[str] = []
    day = period_first_day(_label_of(first, grain), grain)
    while day <= last:
        label = _label_of(day, grain)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += dt.timedelta(days=1)
    return labels


def _fill_periods(
    frame: pd.DataFrame, grain: str, keys: list[str], counts: list[str], filters: Filters
) -> pd.DataFrame:
    """Add zero rows for every period x group without events, so a trend line shows its quiet weeks.

    The periods run from the filter's start (else the first period present) to its end
    (else the last one present); the groups are those present in `frame`.
    """
    if frame.empty and (filters.start is None or filters.end is None):
        return frame
    starts = [period_first_day(label, grain) for label in frame["period"]]
    first = filters.start or min(starts)
    last = filters.end or max(starts)
    grid = pd.DataFrame({"period": _period_labels(first, last, grain)})
    if keys:
        grid = grid.merge(frame[keys].drop_duplicates(), how="cross")
    full = grid.merge(frame, how="left", on=["period", *keys])
    full[counts] = full[counts].fillna(0).astype("int64")
    return full.sort_values(["period", *keys], ignore_index=True)


def _period_column(instant: str, grain: str, timezone: str) -> tuple[str, list[object]]:
    """The period label column and its parameters (the quarter label reads the local time twice)."""
    label = period_label(instant, grain)
    return f"{label} as period", [timezone] * label.count("?")


def _trend_frame(
    cur: duckdb.DuckDBPyConnection, snap: Snapshot, grain: str, by: tuple[str, ...] | list[str], filters: Filters
) -> pd.DataFrame:
    period, period_params = _period_column(EVENT_AT, grain, snap.reporting_timezone)
    columns = ", ".join([period, *group_columns(escalation_trend, by, "e")])
    where, params = _event_where(snap, filters)
    sql = f"""select {columns}, {_INCIDENT_COUNTS}
              from escalation_events e where {where} group by all order by all"""
    return _frame(cur, sql, [*period_params, *params])


@metric(
    MetricDefinition(
        "escalations",
        "Escalations",
        "policy escalations (breached obligations) and recorded escalations (case_changes rows), apart",
        "policy escalations; recorded escalations; merged; incidents (each its own column)",
        None,
        "breached_at / at",
        "Trends and tables show policy and recorded side by side, never summed; the one total is "
        "incidents. " + incident_note() + " Each event in the period of its own instant, under its own "
        "severity (policy: the obligation's reported severity; recorded: the one in force at its instant).",
    ),
    dimensions=EVENT_DIMENSIONS,
    grains=PERIOD_GRAINS,
    period_by="the event's instant (breached_at / at)",
    additive=tuple(INCIDENT_COLUMNS),
)
def escalation_trend(
    snap: Snapshot,
    grain: str = "week",
    by: tuple[str, ...] | list[str] = (),
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """Escalations per period (day, ISO week, month, quarter in the reporting timezone), by source.

    Columns: period, the `by` keys (package, severity, account_id, account_name, advisor,
    region), policy, recorded, merged (recorded ones merged into a breach's incident),
    incidents (policy + recorded - merged). Each event falls in the period of its own instant.
    Periods without events are present with zeros, from the filter's start (else the first
    period with an event) to its end (else the last), for every group present. The buckets'
    BUCKET_COLUMNS follow (partial; a count is never too small).
    """
    check_grain(escalation_trend, grain)
    with _events_cursor(snap) as cur:
        frame = _trend_frame(cur, snap, grain, by, filters)
    frame = _fill_periods(frame, grain, list(by), INCIDENT_COLUMNS, filters)
    return mark_buckets(frame, grain, filters, snap.as_of, snap.reporting_timezone) if "period" in frame else frame


def _share(escalated: int, opened: int) -> float | None:
    return escalated / opened if opened else None


@metric(
    ESCALATED_SHARE,
    dimensions=EVENT_DIMENSIONS,
    grains=PERIOD_GRAINS,
    period_by="the case's opened_at",
    additive=("cases_opened", "cases_escalated", *INCIDENT_COLUMNS),
)
def escalation_rate(
    snap: Snapshot,
    grain: str = "month",
    by: tuple[str, ...] | list[str] = (),
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """The share of cases escalated per period of opening and group (a cohort, one basis).

    A case belongs to the period of its `opened_at` and to its own groups (the case's
    package, account, advisor, region and severity at the as-of, the same severity the
    severity filter reads). Its escalations are all those up to the as-of, whatever their
    instant. Columns: period, the `by` keys, cases_opened, cases_escalated (distinct cases
    with any escalation), escalated_share (NaN where no case was opened), and the cohort's
    escalations apart: policy, recorded, merged, incidents; then the buckets' BUCKET_COLUMNS
    (partial; too small below `[reporting] min_bucket_obligations` cases opened).
    """
    keys = list(by)
    check_grain(escalation_rate, grain)
    tz = snap.reporting_timezone
    case_where, case_params = filters.where("f", "f.opened_at", tz)
    case_period, case_period_params = _period_column("f.opened_at", grain, tz)
    case_columns = ", ".join([case_period, *group_columns(escalation_rate, by, "f")])
    sql = f"""
        with per_case as (
            select e.case_id, {_INCIDENT_COUNTS} from escalation_events e group by e.case_id
        )
        select {case_columns}, count(*) as cases_opened, count(p.case_id) as cases_escalated,
               coalesce(sum(p.policy), 0) as policy, coalesce(sum(p.recorded), 0) as recorded,
               coalesce(sum(p.merged), 0) as merged, coalesce(sum(p.incidents), 0) as incidents
        from case_facts f left join per_case p using (case_id)
        where {case_where}
        group by all order by all
    """
    counts = ["cases_opened", "cases_escalated", *INCIDENT_COLUMNS]
    with _events_cursor(snap) as cur:
        frame = _frame(cur, sql, [*case_period_params, *case_params])
    frame = _fill_periods(frame, grain, keys, counts, filters)
    opened = frame["cases_opened"].where(frame["cases_opened"] > 0)
    frame["escalated_share"] = (frame["cases_escalated"] / opened).astype("float64")
    frame = frame[["period", *keys, "cases_opened", "cases_escalated", "escalated_share", *INCIDENT_COLUMNS]]
    return mark_buckets(frame, grain, filters, snap.as_of, tz, frame["cases_opened"],
                        snap.config.min_bucket_obligations)


def _first_escalations(cur: duckdb.DuckDBPyConnection, snap: Snapshot, filters: Filters) -> pd.DataFrame:
    where, params = _event_where_at(snap, filters, "e.first_escalation_at")
    sql = f"""
        select e.case_id, e.account_id, e.account_name, e.package, e.severity, e.opened_at,
               e.first_escalation_at, e.first_source, e.calendar,
               e.time_to_first_escalation_seconds,
               e.business_seconds_to_first_escalation,
               e.time_to_first_escalation_seconds / 3600 as hours_to_first_escalation,
               e.business_seconds_to_first_escalation / 3600 as business_hours_to_first_escalation
        from escalation_firsts e
        where {where}
        order by e.first_escalation_at, e.case_id
    """
    return _frame(cur, sql, params)


def _event_where_at(snap: Snapshot, filters: Filters, instant: str) -> tuple[str, list[object]]:
    return filters.where("e", instant, snap.reporting_timezone, severity="e.severity")


FIRST_NOTE = (
    "Shown in calendar hours and, beside them, in business hours on the case's clock: the calendar "
    "its obligations run on for its package (in force at opening) and the first escalation's severity "
    "(24x7 for severity 1 unless the package says otherwise, else the account's region calendar, "
    "holidays excluded), so business equals calendar on a 24x7 clock. Median and p90 in hours "
    "(linear interpolation); a case belongs to the period of its first escalation, under that "
    "escalation's severity."
)


@metric(
    MetricDefinition(
        "time_to_first_escalation",
        "Time to first escalation",
        "escalated cases",
        "seconds from opened_at to the case's first escalation (policy or recorded; policy on a tie), "
        "calendar and business",
        None,
        "first escalation instant",
        FIRST_NOTE,
    ),
    period_by="the case's first escalation instant",
)
def time_to_first_escalation(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per escalated case: how long after opening it was first escalated.

    The first escalation is the earliest event of the case, policy or recorded, over all
    its events as of the snapshot (a policy and a recorded one at the same instant: policy).
    A case is in the filtered period when that first escalation is; the severity filter
    applies to the first event's severity. Calendar seconds are wall-clock; business
    seconds count the working time of `calendar`, the clock the case's obligations run on
    for its package and that severity (sql/escalation_firsts.sql).
    Columns: case_id, account_id, account_name, package, severity, opened_at,
    first_escalation_at, first_source, calendar, time_to_first_escalation_seconds,
    business_seconds_to_first_escalation, hours_to_first_escalation,
    business_hours_to_first_escalation.
    """
    with _events_cursor(snap) as cur:
        return _first_escalations(cur, snap, filters)


def _repeats(cur: duckdb.DuckDBPyConnection, snap: Snapshot, filters: Filters) -> pd.DataFrame:
    where, params = _event_where(snap, filters)
    sql = f"""
        select e.case_id, e.account_id, e.account_name, {_INCIDENT_COUNTS}
        from escalation_events e where {where}
        group by all having count(*) filter (where not e.merged) > 1
        order by incidents desc, e.case_id
    """
    return _frame(cur, sql, params)


@metric(
    MetricDefinition(
        "repeat_escalations",
        "Cases escalated more than once",
        "cases with more than one escalation incident in the period",
        "such cases",
        None,
        "breached_at / at",
        "Incidents as in escalation_incidents: a breach and the recorded escalations merged into it "
        "are one; each event in the period of its own instant.",
    ),
    period_by="the event's instant (breached_at / at)",
)
def repeat_escalations(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Cases escalated more than once: more than one incident among their events in the filtered period.

    Columns: case_id, account_id, account_name, policy, recorded, merged, incidents; most
    incidents first.
    """
    with _events_cursor(snap) as cur:
        return _repeats(cur, snap, filters)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 3600


@metric(
    ESCALATED_SHARE,
    INCIDENTS,
    MetricDefinition(
        "escalated_cases",
        "Escalated cases",
        "distinct cases with at least one escalation event in the period",
        "such cases",
        None,
        "breached_at / at",
    ),
    period_by="opened_at for the share; breached_at / at for the escalations",
)
def escalation_summary(snap: Snapshot, filters: Filters = Filters()) -> dict[str, Any]:
    """Headline numbers of the Escalations page for the filtered period.

    The share (cohort, by opened_at, the case's severity at the as-of on both sides):
    cases_opened, cases_escalated (of those, distinct cases with any escalation up to the
    as-of), escalated_share (None without opened cases).
    The escalations (events in the period by their own instant, each under its own
    severity): policy, recorded, merged (recorded ones at or within incident_hours after a
    breach of the same case), incidents (policy + recorded - merged), incident_hours (the
    window). Time to first escalation (cases first escalated in the period; None without
    any): median_hours_to_first_escalation, p90_hours_to_first_escalation (calendar) and
    median_business_hours_to_first_escalation, p90_business_hours_to_first_escalation.
    repeat_cases: cases with more than one incident in the period.
    Kept for pages still switching, not to be shown: total (policy + recorded events),
    escalated_cases (distinct cases with an event in the period), escalations_per_100_cases
    (total / cases_opened: events and cases on different bases).
    """
    event_where, event_params = _event_where(snap, filters)
    case_where, case_params = case_cube_where(snap, filters)
    first_where, first_params = _event_where_at(snap, filters, "e.first_escalation_at")
    # one statement, each part as its metric counts it: the cohort by opened_at, the events by
    # their own instant, the first escalations by theirs (quantile_cont: linear, as the table's)
    sql = f"""
        with events as (select * from escalation_events e where {event_where}),
        cohort as (
            select cast(coalesce(sum(f.cases), 0) as bigint) as cases_opened,
                   cast(coalesce(sum(f.escalated_cases), 0) as bigint) as cases_escalated
            from {CASE_CUBE_FACTS} where {case_where}
        ),
        totals as (
            select {_INCIDENT_COUNTS}, count(*) as total, count(distinct e.case_id) as escalated_cases from events e
        ),
        repeats as (
            select count(*) as repeat_cases
            from (select e.case_id from events e group by e.case_id having count(*) filter (where not e.merged) > 1)
        ),
        firsts as (
            select quantile_cont(e.time_to_first_escalation_seconds, [0.5, 0.9]) as calendar,
                   quantile_cont(e.business_seconds_to_first_escalation, [0.5, 0.9]) as business
            from escalation_firsts e where {first_where}
        )
        select * from cohort, totals, repeats, firsts
    """
    with _events_cursor(snap) as cur:
        row = cur.sql(sql, params=[*event_params, *case_params, *first_params]).to_arrow_table().to_pylist()[0]
    opened = int(row["cases_opened"])
    escalated = int(row["cases_escalated"])
    calendar, business = row["calendar"] or [None, None], row["business"] or [None, None]
    return {
        "cases_opened": opened,
        "cases_escalated": escalated,
        "escalated_share": _share(escalated, opened),
        "policy": int(row["policy"]),
        "recorded": int(row["recorded"]),
        "merged": int(row["merged"]),
        "incidents": int(row["incidents"]),
        "incident_hours": snap.config.escalation_incident_hours,
        "median_hours_to_first_escalation": _hours(calendar[0]),
        "p90_hours_to_first_escalation": _hours(calendar[1]),
        "median_business_hours_to_first_escalation": _hours(business[0]),
        "p90_business_hours_to_first_escalation": _hours(business[1]),
        "repeat_cases": int(row["repeat_cases"]),
        "total": int(row["total"]),
        "escalated_cases": int(row["escalated_cases"]),
        "escalations_per_100_cases": 100 * int(row["total"]) / opened if opened else None,
    }
