"""SLA attainment: met / (met + breached) over obligations starting in a period.

Grouped by any of kind, severity, package, account, advisor, region and a period grain
(day, ISO week, month, quarter in the reporting timezone). Pending, cancelled,
untargeted and suspended obligations are counted beside the ratio, never in it
(sla-rules.md section 5; the registry's `attainment`). An obligation is
grouped and filtered by its reported severity (the last piece's, as in the obligations
export) and put in the period its `start_at` falls in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from metrics.engine.obligations import STATUSES
from metrics.engine.snapshot import Snapshot, per_case_table
from metrics.subjects.buckets import PARTIAL_PERIOD, TOO_SMALL_BUCKET, mark_buckets
from metrics.subjects.filters import (
    PERIOD_GRAINS,
    Filters,
    day_period_label,
    local_midnight,
    period_label,
    with_account,
)
from metrics.subjects.registry import DIMENSIONS, Dimension, MetricDefinition, group_columns, metric

# The dimensions of obligations (the attainment cube and the obligations table hold them all).
OBLIGATION_DIMENSIONS = ("kind", "severity", "package", "account_id", "account_name", "advisor", "region", "calendar")
# The instants a list of breached obligations may be cut by.
PERIOD_INSTANTS = ("start_at", "breached_at")
_STATUS_COUNTS = ", ".join(f"count(*) filter (where o.status = '{s}') as {s}" for s in STATUSES)
_FROM = "from obligations o join case_facts f using (case_id)"
_FACT_GROUPS = tuple(d for d in OBLIGATION_DIMENSIONS if DIMENSIONS[d].account_level)  # case_facts holds these
_BREACHES_SQL = f"""
    select o.case_id, o.account_id, f.account_name, o.package, o.kind, o.seq, o.severity,
           o.start_at, o.deadline_at, o.breached_at, o.end_at, o.elapsed_seconds, o.target_seconds,
           f.region, f.advisor
    {_FROM}
    where o.status = 'breached'
"""
BREACHES = per_case_table("breaches", lambda snap: snap.query(_BREACHES_SQL), _BREACHES_SQL)


# Obligations counted per local day and every attribute a table may group or filter by: a
# few hundred thousand rows instead of millions, built once per snapshot.
_CUBE_SQL = """
    select cast(timezone(?, o.start_at) as date) as day, o.kind, o.severity, o.package, o.account_id,
           o.calendar, o.status, count(*) as n
    from obligations o
    group by all
"""
_CUBE_FACTS = with_account("attainment_cube")
_CUBE_COUNTS = ", ".join(f"coalesce(sum(f.n) filter (where f.status = '{s}'), 0) as {s}" for s in STATUSES)


# Stored at load per week of settling; at another as-of the held weeks' counts plus the rest's, added up.
ATTAINMENT_CUBE = per_case_table(
    "attainment_cube",
    lambda snap: snap.query(_CUBE_SQL, [snap.reporting_timezone]),
    _CUBE_SQL,
    combine="select day, kind, severity, package, account_id, calendar, status, cast(sum(n) as bigint) as n "
    "from parts group by all",
)


def _cube_query(snap: Snapshot, sql: str, params: list[object]) -> pd.DataFrame:
    """Run `sql` against the snapshot's attainment cube (obligations per local start day and attributes)."""
    snap.table(ATTAINMENT_CUBE)
    return snap.query(sql, params).to_pandas()


def _cube_where(snap: Snapshot, filters: Filters) -> tuple[str, list[object]]:
    return filters.where("f", None, snap.reporting_timezone, severity="f.severity", local_day="f.day")


def _source(filters: Filters, by: tuple[str, ...] | list[str] = ()) -> tuple[str, str]:
    """FROM clause and the alias the filters read: obligations alone when they carry all needed.

    Obligations already hold the case's account and package; case facts are joined only
    for region, advisor or account-name filters and groups (the join costs ~half a query).
    """
    if filters.regions or filters.advisors or any(g in _FACT_GROUPS for g in by):
        return _FROM, "f"
    return "from obligations o", "o"

def _group_sql(
    by: tuple[str, ...] | list[str], grain: str | None, timezone: str
) -> tuple[list[str], list[object]]:
    """The grouping columns (the period first, with `grain`) and the parameters they take.

    Obligations hold every dimension but the account's own attributes, read from case facts.
    """
    columns = group_columns(response_times, by, _obligation_alias)
    if not grain:
        return columns, []
    label = period_label("o.start_at", grain)
    # the quarter label reads the local time twice: one timezone value per marker
    return [f"{label} as period", *columns], [timezone] * label.count("?")


def _obligation_alias(dimension: Dimension) -> str:
    return "f" if dimension.account_level else "o"


def _where(
    snap: Snapshot, filters: Filters, instant: str = "o.start_at", facts: str = "f"
) -> tuple[str, list[object]]:
    """The global filters on obligations: severity is the obligation's, the period cut on `instant`."""
    return filters.where(facts, instant, snap.reporting_timezone, severity="o.severity")


def _ratio(met: float, breached: float) -> float:
    return met / (met + breached) if met + breached else math.nan


@metric(
    MetricDefinition(
        "attainment",
        "SLA attainment",
        "response obligations (initial and follow-up)",
        "met obligations",
        "met + breached obligations",
        "start_at",
        "Pending, cancelled, untargeted and suspended obligations are shown beside it, never counted.",
    ),
    PARTIAL_PERIOD,
    TOO_SMALL_BUCKET,
    dimensions=OBLIGATION_DIMENSIONS,
    grains=PERIOD_GRAINS,
    period_by="start_at",
    additive=("met", "breached", "pending", "cancelled", "untargeted", "suspended", "obligations"),
)
def attainment_table(
    snap: Snapshot,
    by: tuple[str, ...] | list[str] = ("kind", "severity", "package"),
    filters: Filters = Filters(),
    grain: str | None = None,
) -> pd.DataFrame:
    """Obligation counts by status and attainment per group (and per period when `grain` is set).

    Columns: period (with `grain`), the `by` keys, met, breached, pending, cancelled,
    untargeted, suspended, obligations (all of them), attainment = met / (met + breached)
    in [0, 1], NaN where nothing was met or breached. Groups without obligations are absent.
    With `grain`, the buckets' BUCKET_COLUMNS follow (partial; too small below
    `[reporting] min_bucket_obligations` met + breached).
    """
    columns = group_columns(attainment_table, by, "f")
    if grain:
        columns.insert(0, f"{day_period_label('f.day', grain)} as period")
    where, params = _cube_where(snap, filters)
    select = ", ".join([*columns, _CUBE_COUNTS, "coalesce(sum(f.n), 0) as obligations"])
    group = "group by all order by all" if columns else ""
    sql = f"select {select} from {_CUBE_FACTS} where {where} {group}"
    frame = _cube_query(snap, sql, params)
    counts = [*STATUSES, "obligations"]
    frame[counts] = frame[counts].astype("int64")
    decided = frame["met"] + frame["breached"]
    frame["attainment"] = (frame["met"] / decided.where(decided > 0)).astype("float64")
    if grain:
        frame = _mark(snap, frame, grain, filters, decided)
    return frame


def _mark(snap: Snapshot, frame: pd.DataFrame, grain: str, filters: Filters, basis: pd.Series) -> pd.DataFrame:
    """The trend's buckets marked partial or too small (metrics.subjects.buckets)."""
    return mark_buckets(
        frame, grain, filters, snap.as_of, snap.reporting_timezone, basis, snap.config.min_bucket_obligations
    )


@metric(
    MetricDefinition(
        "response_time",
        "Response time",
        "met or breached obligations with a target",
        "median and p90 of elapsed clock seconds (business or 24x7 as the obligation's calendar)",
        None,
        "start_at",
        "Quantiles interpolate linearly between ranks (DuckDB quantile_cont, numpy's default).",
    ),
    MetricDefinition(
        "response_time_to_target",
        "Response time against target",
        "met or breached obligations with a target",
        "median and p90 of elapsed_seconds / target_seconds (1.0 = exactly at the deadline)",
        None,
        "start_at",
        "The chart shows one median and one p90 per kind x severity, each taken over all of that cell's "
        "obligations together (pooled across packages and accounts), never a median of per-package values; "
        "the table beside it gives them per package.",
    ),
    MetricDefinition(
        "within_half_target",
        "Answered within half the target",
        "met or breached obligations with a target",
        "obligations whose elapsed clock time is at most 50 % of the target",
        "met + breached obligations with a target",
        "start_at",
    ),
    dimensions=OBLIGATION_DIMENSIONS,
    grains=PERIOD_GRAINS,
    period_by="start_at",
    additive=("obligations",),
)
def response_times(
    snap: Snapshot,
    by: tuple[str, ...] | list[str] = ("kind", "severity", "package"),
    filters: Filters = Filters(),
    grain: str | None = None,
) -> pd.DataFrame:
    """Response time against target for decided obligations (met or breached) with a target.

    Pending ones are left out (their time is not known yet), and so are cancelled ones (no
    response came). Per group (and period with `grain`): obligations, median and p90 of
    elapsed clock seconds, median and p90 of elapsed / target, and the share answered
    within half the target (elapsed <= 0.5 x target). Quantiles interpolate linearly.
    With `grain`, the buckets' BUCKET_COLUMNS follow (too small below
    `[reporting] min_bucket_obligations` obligations).
    """
    columns, period_params = _group_sql(by, grain, snap.reporting_timezone)
    source, facts = _source(filters, by)
    where, params = _where(snap, filters, facts=facts)
    select = ", ".join(columns)
    # both quantiles of a value from one sort of it (the list form of quantile_cont)
    sql = f"""
        select * exclude (seconds, of_target, within_half_target),
               seconds[1] as median_seconds, seconds[2] as p90_seconds,
               of_target[1] as median_of_target, of_target[2] as p90_of_target, within_half_target
        from (
            select {select + ', ' if select else ''}
                   count(*) as obligations,
                   quantile_cont(o.elapsed_seconds, [0.5, 0.9]) as seconds,
                   quantile_cont(o.elapsed_seconds / o.target_seconds, [0.5, 0.9]) as of_target,
                   avg(case when o.elapsed_seconds <= 0.5 * o.target_seconds then 1.0 else 0.0 end)
                       as within_half_target
            {source}
            where o.status in ('met', 'breached') and o.target_seconds is not null and {where}
            {'group by all' if select else ''}
        )
        {'order by all' if select else ''}
    """
    frame = snap.query(sql, period_params + params).to_pandas()
    return _mark(snap, frame, grain, filters, frame["obligations"]) if grain else frame


@metric(
    MetricDefinition(
        "attainment_change",
        "Attainment change vs previous period",
        "response obligations of two periods",
        "attainment of the period minus attainment of the previous period, in percentage points",
        None,
        "start_at",
        "The previous period ends the day before: whole calendar months step back by whole months, any other "
        "period by its length in days (Filters.previous()).",
    ),
    MetricDefinition(
        "attainment_by_kind",
        "SLA attainment per kind",
        "response obligations of one kind (initial or follow-up) starting in the period",
        "met obligations of the kind",
        "met + breached obligations of the kind",
        "start_at",
        "The headline tiles show initial and follow-up apart, never pooled, each with its change in percentage "
        "points against the previous period.",
    ),
    MetricDefinition(
        "lowest_attainment_cell",
        "Lowest severity x kind attainment",
        "severity x kind cells (e.g. severity 1 follow-up) with at least one met or breached obligation",
        "met obligations of the cell",
        "met + breached obligations of the cell",
        "start_at",
        "Named on the attainment tiles ('lowest: severity 1 follow-up 57.7 %') so a pooled figure cannot hide "
        "its worst cell; ties go to the more severe cell, then initial before follow-up.",
    ),
    MetricDefinition(
        "provisional_obligations",
        "Provisional: still running",
        "response obligations starting in the period that have no verdict yet as of the as-of instant",
        "pending obligations",
        None,
        "start_at",
        "Shown beside every attainment figure ('provisional: N still running'): the figure may still change "
        "as they are met or breached.",
    ),
    period_by="start_at",
)
def attainment_summary(
    snap: Snapshot, filters: Filters = Filters(), previous: Filters | None = None
) -> dict[str, Any]:
    """Headline attainment of a period beside the previous period's, per kind, with its worst cell.

    `previous` defaults to `filters.previous()`, the registry's one previous-period rule
    (none when the period is open-ended).
    Keys: start, end, met, breached, pending, cancelled, untargeted, suspended,
    obligations, attainment (a fraction, None when nothing was decided), the same prefixed
    `previous_` (None without a previous period), and delta_pp = 100 x (attainment -
    previous_attainment) in percentage points, None when either is undefined.
    `by_kind` = {"initial": {...}, "follow_up": {...}}, each with met, breached, pending,
    obligations and attainment (None when nothing was decided); `previous_by_kind` the same
    for the previous period (None without one). `lowest` = {severity, kind, attainment,
    met, breached}: the severity x kind cell with the lowest attainment among the cells
    with at least one met or breached obligation (ties: the higher severity, i.e. the
    smaller number, then initial before follow-up); None when nothing was decided.
    `pending` is the provisional count: obligations of the period still running.
    """
    previous = previous if previous is not None else filters.previous()
    periods = [("current", filters)] + ([("previous", previous)] if previous is not None else [])
    parts, params = [], []
    for name, period in periods:
        where, where_params = _cube_where(snap, period)
        parts.append(
            f"select '{name}' as which, f.kind, f.severity, {_CUBE_COUNTS}, coalesce(sum(f.n), 0) as obligations"
            f" from {_CUBE_FACTS} where {where} group by all"
        )
        params += where_params
    snap.table(ATTAINMENT_CUBE)
    # a dozen cells at most (period x kind x severity): added up in Python, not pandas
    cells = snap.query(" union all ".join(parts), params).to_pylist()
    counts = [*STATUSES, "obligations"]
    current = [cell for cell in cells if cell["which"] == "current"]
    before = [cell for cell in cells if cell["which"] == "previous"]
    summary: dict[str, Any] = {"start": filters.start, "end": filters.end}
    summary |= {c: _total(current, c) for c in counts}
    summary["attainment"] = _none_if_nan(_ratio(summary["met"], summary["breached"]))
    summary["previous_start"] = previous.start if previous else None
    summary["previous_end"] = previous.end if previous else None
    for c in counts:
        summary[f"previous_{c}"] = _total(before, c) if previous else None
    summary["previous_attainment"] = (
        _none_if_nan(_ratio(summary["previous_met"], summary["previous_breached"])) if previous else None
    )
    now, was = summary["attainment"], summary["previous_attainment"]
    summary["delta_pp"] = 100 * (now - was) if now is not None and was is not None else None
    summary["by_kind"] = _by_kind(current)
    summary["previous_by_kind"] = _by_kind(before) if previous else None
    summary["lowest"] = _lowest_cell(current)
    return summary


KINDS = ("initial", "follow_up")


Cells = list[dict[str, Any]]  # rows of a query as dicts (attainment_summary's cells)


def _total(cells: Cells, column: str) -> int:
    return sum(int(cell[column]) for cell in cells)


def _by_kind(cells: Cells) -> dict[str, dict[str, Any]]:
    """Met, breached, pending, obligations and attainment per kind (both kinds always present)."""
    result: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        part = [cell for cell in cells if cell["kind"] == kind]
        entry: dict[str, Any] = {c: _total(part, c) for c in ("met", "breached", "pending", "obligations")}
        entry["attainment"] = _none_if_nan(_ratio(entry["met"], entry["breached"]))
        result[kind] = entry
    return result


def _lowest_cell(cells: Cells) -> dict[str, Any] | None:
    """The severity x kind cell with the lowest attainment among cells with a decided obligation.

    Ties: the higher severity (the smaller number), then initial before follow-up.
    """
    totals: dict[tuple[int, str], list[int]] = {}
    for cell in cells:
        total = totals.setdefault((int(cell["severity"]), str(cell["kind"])), [0, 0])
        total[0] += int(cell["met"])
        total[1] += int(cell["breached"])
    decided = [
        (met / (met + breached), severity, KINDS.index(kind) if kind in KINDS else len(KINDS), kind, met, breached)
        for (severity, kind), (met, breached) in totals.items() if met + breached > 0
    ]
    if not decided:
        return None
    attainment, severity, _, kind, met, breached = min(decided)
    return {"severity": severity, "kind": kind, "attainment": attainment, "met": met, "breached": breached}


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


@metric(
    MetricDefinition(
        "breached_obligations",
        "Breached obligations",
        "breached response obligations (the drill-down behind the breached count)",
        "breached obligations",
        None,
        "start_at",
        "Listed by start_at so the rows match the attainment table's breached count; breached_at on request.",
    ),
    period_by="start_at (breached_at on request)",
)
def breached_obligations(
    snap: Snapshot, filters: Filters = Filters(), period_by: str = "start_at"
) -> pd.DataFrame:
    """The breached obligations behind a breached count, for the drill-down list.

    The period applies to `start_at` by default, so the rows are exactly those the
    attainment table counts as breached; `period_by="breached_at"` lists the breaches
    that happened in the period instead (as the weekly update's breached case ids).
    Columns: case_id, account_id, account_name, package, kind, seq, severity, start_at,
    deadline_at, breached_at, end_at (empty while running), elapsed_seconds, target_seconds.
    """
    if period_by not in PERIOD_INSTANTS:
        raise ValueError(f"period_by must be one of {PERIOD_INSTANTS}, got {period_by!r}")
    snap.table(BREACHES)  # a few percent of the obligations
    where, params = filters.where("o", f"o.{period_by}", snap.reporting_timezone, severity="o.severity")
    sql = f"select * exclude (region, advisor) from breaches o where {where} order by o.start_at, o.case_id, o.seq"
    return snap.query(sql, params).to_pandas()


@metric(
    MetricDefinition(
        "breaches_week_to_date",
        "Breaches this week",
        "breached response obligations, by breached_at",
        "obligations whose deadline passed from Monday 00:00 of the as-of's week (reporting timezone) up to "
        "the as-of instant",
        None,
        "breached_at",
        "Week to date, compared with the same span of the previous week: from the Monday 00:00 before, up to "
        "the same local weekday and time (7 local days before the as-of, so a DST change does not shift it by "
        "an hour). The sidebar's period does not apply; the other filters do.",
    ),
)
def breaches_week_to_date(snap: Snapshot, filters: Filters = Filters()) -> dict[str, Any]:
    """Breaches of the week to date (reporting timezone) beside the same days of the week before.

    The week is the local Monday-to-Sunday week of the last instant before the as-of (the
    sidebar's "as of Sunday" is Monday 00:00 local, the end of Sunday: that closes the week
    that began six days earlier, it does not open an empty one). It runs from that Monday
    00:00 local up to the as-of; the comparison from the Monday 00:00 local before up to the
    as-of's local wall time 7 days earlier, so both spans hold the same weekdays and hours
    (across a DST change the two spans differ by an hour of UTC, never of local time).
    Spans are half-open [start, end): a breach happens strictly before the as-of.
    Keys: week_start (the local Monday, a date), start_at, end_at (UTC instants, end = the
    as-of), as_of_local (the as-of in the reporting timezone), breaches, previous_start_at,
    previous_end_at, previous_breaches, delta = breaches - previous_breaches.
    """
    zone = ZoneInfo(snap.reporting_timezone)
    end = snap.as_of.astimezone(dt.UTC)
    local = end.astimezone(zone)
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    monday = last_day - dt.timedelta(days=last_day.weekday())
    start = local_midnight(monday, snap.reporting_timezone)
    previous_start = local_midnight(monday - dt.timedelta(days=7), snap.reporting_timezone)
    # aware arithmetic within one zone is wall-clock arithmetic: the same local time a week earlier
    previous_end = (local - dt.timedelta(days=7)).astimezone(dt.UTC)
    snap.table(BREACHES)
    where, params = dataclasses.replace(filters, start=None, end=None).where(
        "o", None, snap.reporting_timezone, severity="o.severity"
    )
    sql = f"""
        select count(*) filter (where o.breached_at >= ? and o.breached_at < ?) as breaches,
               count(*) filter (where o.breached_at >= ? and o.breached_at < ?) as previous_breaches
        from breaches o where {where}
    """
    row = snap.query(sql, [start, end, previous_start, previous_end, *params]).to_pylist()[0]
    now, before = int(row["breaches"]), int(row["previous_breaches"])
    return {
        "week_start": monday, "start_at": start, "end_at": end, "as_of_local": local,
        "breaches": now, "previous_start_at": previous_start, "previous_end_at": previous_end,
        "previous_breaches": before, "delta": now - before,
    }
