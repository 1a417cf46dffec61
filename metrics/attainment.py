"""SLA attainment: met / (met + breached) over obligations starting in a period.

Grouped by any of kind, severity, package, account, advisor, region and a period grain
(day, ISO week, month, quarter in the reporting timezone). Pending, cancelled,
untargeted and suspended obligations are counted beside the ratio, never in it
(sla-rules.md section 5; `definitions.DEFINITIONS["attainment"]`).
"""

from __future__ import annotations

import pandas as pd

from metrics.filters import Filters, period_label
from metrics.sla import STATUSES
from metrics.snapshot import Snapshot

# Group keys a caller may ask for, and the SQL each reads (o = obligations, f = case_facts).
GROUP_COLUMNS = {
    "kind": "o.kind",
    "severity": "o.severity",
    "package": "coalesce(o.package, '(none)')",
    "account_id": "o.account_id",
    "account_name": "f.account_name",
    "advisor": "coalesce(f.advisor, '(none)')",
    "region": "f.region",
    "calendar": "o.calendar",
}


def _group_sql(by: tuple[str, ...] | list[str], grain: str | None) -> tuple[list[str], list[object]]:
    unknown = [g for g in by if g not in GROUP_COLUMNS]
    if unknown:
        raise ValueError(f"cannot group by {unknown[0]!r}; choose from {', '.join(GROUP_COLUMNS)}")
    columns = [f"{GROUP_COLUMNS[g]} as {g}" for g in by]
    params: list[object] = []
    if grain:
        columns.insert(0, f"{period_label('o.start_at', grain)} as period")
    return columns, params


def attainment_table(
    snap: Snapshot,
    by: tuple[str, ...] | list[str] = ("kind", "severity", "package"),
    filters: Filters = Filters(),
    grain: str | None = None,
) -> pd.DataFrame:
    """Obligation counts by status and attainment per group (and per period when `grain` is set).

    `attainment` is met / (met + breached) in [0, 1], NaN where nothing was met or breached.
    """
    columns, _ = _group_sql(by, grain)
    tz = snap.reporting_timezone
    where, params = filters.where("f", "o.start_at", tz, severity="o.severity")
    counts = ", ".join(f"count(*) filter (where o.status = '{s}') as {s}" for s in STATUSES)
    keys = ", ".join(c.split(" as ")[-1] for c in columns)
    select = ", ".join(columns)
    sql = f"""
        select {select + ', ' if select else ''}{counts}, count(*) as obligations
        from obligations o join case_facts f using (case_id)
        where {where}
        {'group by all order by all' if keys else ''}
    """
    period_params: list[object] = [tz] if grain else []
    frame = snap.query(sql, period_params + params).to_pandas()
    decided = frame["met"] + frame["breached"]
    frame["attainment"] = (frame["met"] / decided.where(decided > 0)).astype("float64")
    return frame


def response_times(
    snap: Snapshot,
    by: tuple[str, ...] | list[str] = ("kind", "severity", "package"),
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """Response time against target for decided obligations (met or breached) with a target.

    Per group: obligations, median and p90 of elapsed clock seconds, median and p90 of the
    elapsed / target ratio, and the share answered within half the target.
    """
    columns, _ = _group_sql(by, None)
    where, params = filters.where("f", "o.start_at", snap.reporting_timezone, severity="o.severity")
    keys = ", ".join(c.split(" as ")[-1] for c in columns)
    select = ", ".join(columns)
    sql = f"""
        select {select + ', ' if select else ''}
               count(*) as obligations,
               quantile_cont(o.elapsed_seconds, 0.5) as median_seconds,
               quantile_cont(o.elapsed_seconds, 0.9) as p90_seconds,
               quantile_cont(o.elapsed_seconds / o.target_seconds, 0.5) as median_of_target,
               quantile_cont(o.elapsed_seconds / o.target_seconds, 0.9) as p90_of_target,
               avg(case when o.elapsed_seconds <= 0.5 * o.target_seconds then 1.0 else 0.0 end) as within_half_target
        from obligations o join case_facts f using (case_id)
        where o.status in ('met', 'breached') and o.target_seconds is not null and {where}
        {'group by all order by all' if keys else ''}
    """
    return snap.query(sql, params).to_pandas()
