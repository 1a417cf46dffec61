"""Escalations: policy (every breached obligation, at its breach) and recorded (case_changes).

Both kinds are events with an instant; trends, rates, time to first escalation and repeat
counts are all built on one `escalation_events` temp table (sql/escalation_events.sql) so
that every page and the weekly update count them the same way. Wherever a period filter
applies to escalations, an event belongs to the period its own instant falls in (in the
reporting timezone): a breach's `breached_at`, a recorded row's `at`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd

from metrics import sqlfiles
from metrics.engine.snapshot import Snapshot
from metrics.subjects.filters import PERIOD_GRAINS, Filters, period_label
from metrics.subjects.registry import MetricDefinition, check_grain, group_columns, metric

EVENTS_SQL = sqlfiles.read(__file__, "escalation_events.sql")
EVENT_AT = 'e."at"'  # the instant an escalation event counts by

# The dimensions escalations group by: columns of both escalation_events (e) and case_facts (f).
EVENT_DIMENSIONS = ("package", "severity", "account_id", "account_name", "advisor", "region")
_BY_SOURCE = (
    "count(*) filter (where e.source = 'policy') as policy, "
    "count(*) filter (where e.source = 'recorded') as recorded"
)
_SOURCE_COUNTS = f"{_BY_SOURCE}, count(*) as total"

@contextmanager
def _events_cursor(snap: Snapshot) -> Iterator[duckdb.DuckDBPyConnection]:
    """A snapshot cursor holding the `escalation_events` table, built once per snapshot."""
    snap.derive("escalation_events", lambda: snap.query(EVENTS_SQL, {"as_of": snap.as_of}))
    cur = snap.cursor()
    try:
        yield cur
    finally:
        cur.close()


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
        "Each breach escalates the case to support management (sla-rules.md section 5).",
    ),
    MetricDefinition(
        "recorded_escalations",
        "Recorded escalations",
        "case_changes rows with field = escalation",
        "escalation rows",
        None,
        "at",
    ),
    period_by="the event's instant (breached_at / at)",
)
def escalation_events(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per escalation (policy or recorded) whose instant falls in the filtered period.

    Columns: case_id, account_id, account_name, advisor, region, package, source
    ('policy' | 'recorded'), at, severity (the obligation's reported one for policy, the one
    in force at the instant for recorded), kind and seq (policy only), level (recorded only),
    opened_at. The period filter applies to `at`; the severity filter to `severity`.
    """
    where, params = _event_where(snap, filters)
    sql = f"""select * from escalation_events e where {where}
              order by e."at", e.case_id, e.source, e.seq"""
    with _events_cursor(snap) as cur:
        return _frame(cur, sql, params)


def _period_start(label: str, grain: str) -> dt.date:
    """The first local date of a period label from `filters.period_label` ('2026-W09' -> Monday 2026-02-23)."""
    if grain == "day":
        return dt.date.fromisoformat(label)
    if grain == "week":
        year, week = label.split("-W")
        return dt.date.fromisocalendar(int(year), int(week), 1)
    if grain == "month":
        return dt.date(int(label[:4]), int(label[5:7]), 1)
    if grain == "quarter":
        return dt.date(int(label[:4]), 3 * int(label[-1]) - 2, 1)
    raise ValueError(f"period grain must be one of {PERIOD_GRAINS}, got {grain!r}")


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
    day = _period_start(_label_of(first, grain), grain)
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
    starts = [_period_start(label, grain) for label in frame["period"]]
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
    sql = f"""select {columns}, {_SOURCE_COUNTS}
              from escalation_events e where {where} group by all order by all"""
    return _frame(cur, sql, [*period_params, *params])


@metric(
    MetricDefinition(
        "escalations",
        "Escalations",
        "policy escalations (breached obligations) and recorded escalations (case_changes rows)",
        "policy + recorded escalations",
        None,
        "breached_at / at",
        "Trends show policy and recorded side by side, labelled; total is their sum.",
    ),
    dimensions=EVENT_DIMENSIONS,
    grains=PERIOD_GRAINS,
    period_by="the event's instant (breached_at / at)",
    additive=("policy", "recorded", "total"),
)
def escalation_trend(
    snap: Snapshot,
    grain: str = "week",
    by: tuple[str, ...] | list[str] = (),
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """Escalations per period (day, ISO week, month, quarter in the reporting timezone), by source.

    Columns: period, the `by` keys (package, severity, account_id, account_name, advisor,
    region), policy, recorded, total. Each event falls in the period of its own instant.
    Periods without events are present with zeros, from the filter's start (else the first
    period with an event) to its end (else the last), for every group present.
    """
    check_grain(escalation_trend, grain)
    with _events_cursor(snap) as cur:
        frame = _trend_frame(cur, snap, grain, by, filters)
    return _fill_periods(frame, grain, list(by), ["policy", "recorded", "total"], filters)


@metric(
    MetricDefinition(
        "escalation_rate",
        "Escalations per 100 cases",
        "escalations (policy + recorded) against cases opened",
        "100 x escalations in the period",
        "cases opened in the period",
        "breached_at / at / opened_at",
    ),
    dimensions=EVENT_DIMENSIONS,
    grains=PERIOD_GRAINS,
    period_by="breached_at / at; cases by opened_at",
    additive=("policy", "recorded", "total", "cases_opened"),
)
def escalation_rate(
    snap: Snapshot,
    grain: str = "month",
    by: tuple[str, ...] | list[str] = (),
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """Escalations per 100 cases opened, per period and group.

    Escalations fall in the period of their own instant; cases in the period of their
    `opened_at`. So an escalation and the case it belongs to may sit in different periods,
    and the rate may exceed 100. Grouped by severity, escalations use their own severity
    (see `escalation_events`) and opened cases their current one.
    Columns: period, the `by` keys, policy, recorded, total, cases_opened,
    escalations_per_100_cases (NaN where no case was opened).
    """
    keys = list(by)
    check_grain(escalation_rate, grain)
    tz = snap.reporting_timezone
    event_where, event_params = _event_where(snap, filters)
    case_where, case_params = filters.where("f", "f.opened_at", tz)
    event_period, event_period_params = _period_column(EVENT_AT, grain, tz)
    case_period, case_period_params = _period_column("f.opened_at", grain, tz)
    event_columns = ", ".join([event_period, *group_columns(escalation_rate, by, "e")])
    case_columns = ", ".join([case_period, *group_columns(escalation_rate, by, "f")])
    join_keys = ", ".join(["period", *keys])
    sql = f"""
        with events as (
            select {event_columns}, {_SOURCE_COUNTS}
            from escalation_events e where {event_where} group by all
        ),
        opened as (
            select {case_columns}, count(*) as cases_opened
            from case_facts f where {case_where} group by all
        )
        select {join_keys}, coalesce(policy, 0) as policy, coalesce(recorded, 0) as recorded,
               coalesce(total, 0) as total, coalesce(cases_opened, 0) as cases_opened
        from events full join opened using ({join_keys})
        order by all
    """
    with _events_cursor(snap) as cur:
        params = [*event_period_params, *event_params, *case_period_params, *case_params]
        frame = _frame(cur, sql, params)
    frame = _fill_periods(frame, grain, keys, ["policy", "recorded", "total", "cases_opened"], filters)
    opened = frame["cases_opened"].where(frame["cases_opened"] > 0)
    frame["escalations_per_100_cases"] = (100 * frame["total"] / opened).astype("float64")
    return frame


def _first_escalations(cur: duckdb.DuckDBPyConnection, snap: Snapshot, filters: Filters) -> pd.DataFrame:
    where, params = _event_where(snap, filters)
    sql = f"""
        with ranked as (
            select *, row_number() over (
                partition by case_id order by "at", source = 'recorded', seq
            ) as rank_in_case
            from escalation_events
        )
        select e.case_id, e.account_id, e.account_name, e.package, e.severity, e.opened_at,
               e."at" as first_escalation_at,
               date_diff('second', e.opened_at, e."at") as time_to_first_escalation_seconds,
               e.source as first_source
        from ranked e
        where e.rank_in_case = 1 and {where}
        order by first_escalation_at, e.case_id
    """
    return _frame(cur, sql, params)


@metric(
    MetricDefinition(
        "time_to_first_escalation",
        "Time to first escalation",
        "escalated cases",
        "calendar seconds from opened_at to the case's first escalation (policy or recorded; policy on a tie)",
        None,
        "first escalation instant",
        "Median and p90 in hours; a case belongs to the period of its first escalation.",
    ),
    period_by="the case's first escalation instant",
)
def time_to_first_escalation(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per escalated case: how long after opening it was first escalated.

    The first escalation is the earliest event of the case, policy or recorded, over all
    its events as of the snapshot (a policy and a recorded one at the same instant: policy).
    A case is in the filtered period when that first escalation is; the severity filter
    applies to the first event's severity. Seconds are calendar (wall-clock) seconds.
    Columns: case_id, account_id, account_name, package, severity, opened_at,
    first_escalation_at, time_to_first_escalation_seconds, first_source.
    """
    with _events_cursor(snap) as cur:
        return _first_escalations(cur, snap, filters)


def _repeats(cur: duckdb.DuckDBPyConnection, snap: Snapshot, filters: Filters) -> pd.DataFrame:
    where, params = _event_where(snap, filters)
    sql = f"""
        select e.case_id, e.account_id, e.account_name, count(*) as events, {_BY_SOURCE}
        from escalation_events e where {where}
        group by all having count(*) > 1
        order by events desc, e.case_id
    """
    return _frame(cur, sql, params)


@metric(
    MetricDefinition(
        "repeat_escalations",
        "Repeat escalations",
        "cases with more than one escalation event (policy + recorded) in the period",
        "such cases",
        None,
        "breached_at / at",
    ),
    period_by="the event's instant (breached_at / at)",
)
def repeat_escalations(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Cases escalated more than once: more than one event (policy + recorded) in the filtered period.

    Columns: case_id, account_id, account_name, events, policy, recorded; most events first.
    """
    with _events_cursor(snap) as cur:
        return _repeats(cur, snap, filters)


def _quantile_hours(seconds: pd.Series, q: float) -> float | None:
    """Linear-interpolated quantile in hours (as DuckDB's quantile_cont), None without data."""
    return None if seconds.empty else float(seconds.quantile(q)) / 3600


@metric(
    MetricDefinition(
        "escalated_cases",
        "Escalated cases",
        "distinct cases with at least one escalation event in the period",
        "such cases",
        None,
        "breached_at / at",
    ),
    period_by="breached_at / at; cases by opened_at",
)
def escalation_summary(snap: Snapshot, filters: Filters = Filters()) -> dict[str, Any]:
    """Headline numbers of the Escalations page for the filtered period.

    Keys: policy, recorded, total (events in the period by their instant), escalated_cases
    (distinct cases among them), cases_opened (by opened_at), escalations_per_100_cases
    (None without opened cases), median_hours_to_first_escalation and
    p90_hours_to_first_escalation (cases first escalated in the period; None without any),
    repeat_cases (cases with more than one event in the period).
    """
    tz = snap.reporting_timezone
    event_where, event_params = _event_where(snap, filters)
    case_where, case_params = filters.where("f", "f.opened_at", tz)
    sql = f"""
        select (select count(*) from case_facts f where {case_where}) as cases_opened,
               {_SOURCE_COUNTS}, count(distinct e.case_id) as escalated_cases
        from escalation_events e where {event_where}
    """
    with _events_cursor(snap) as cur:
        totals = _frame(cur, sql, [*case_params, *event_params]).iloc[0]
        firsts = _first_escalations(cur, snap, filters)
        repeats = _repeats(cur, snap, filters)
    opened = int(totals["cases_opened"])
    seconds = firsts["time_to_first_escalation_seconds"].astype("float64")
    return {
        "policy": int(totals["policy"]),
        "recorded": int(totals["recorded"]),
        "total": int(totals["total"]),
        "escalated_cases": int(totals["escalated_cases"]),
        "cases_opened": opened,
        "escalations_per_100_cases": 100 * int(totals["total"]) / opened if opened else None,
        "median_hours_to_first_escalation": _quantile_hours(seconds, 0.5),
        "p90_hours_to_first_escalation": _quantile_hours(seconds, 0.9),
        "repeat_cases": len(repeats),
    }
