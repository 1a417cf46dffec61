"""Honest periods: how much of each trend bucket the period covers, and whether it holds enough to judge.

A trend cut by month over Aug 30..Nov 28 has an August of two days and a November of 28 of
30: drawn like the whole months beside them, a two-day August looks like a month's result.
Every trend metric therefore returns, per bucket (`period`), its first and last local date,
its days, the days the period covers, and two flags the figures draw:

- `partial`: the period (or the data, up to the as-of) covers only part of the bucket;
- `too_small`: the bucket holds fewer than `[reporting] min_bucket_obligations` units of what
  its ratio is taken over (met + breached obligations for attainment, cases opened for the
  share escalated); shown, but not to be judged. A trend of counts (escalations) is a count,
  not a ratio, and is never too small.

Days are local dates in the reporting timezone, ISO weeks Monday to Sunday (PERIOD_GRAINS);
a day bucket is never partial.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

from metrics.subjects.filters import PERIOD_GRAINS, Filters
from metrics.subjects.registry import MetricDefinition

BUCKET_COLUMNS = ["period_start", "period_end", "period_days", "covered_days", "partial", "too_small"]
DEFAULT_MIN_BUCKET_OBLIGATIONS = 20  # [reporting] min_bucket_obligations when the config does not set it

# The trend metrics register these with their own (the registry dates each definition to a function).
PARTIAL_PERIOD = MetricDefinition(
    "partial_period",
    "Partial period",
    "trend buckets (a day, ISO week, month or quarter in the reporting timezone)",
    "days of the bucket inside the period (and up to the as-of local date): covered_days",
    "days of the bucket: period_days",
    None,
    "A bucket is partial when covered_days < period_days (Aug 30..Nov 28 by month: August 2 of 31 days, "
    "November 28 of 30). An open period start leaves the first bucket whole. Charts draw a partial bucket "
    "faded, its tick marked '(partial)' and its day count in the hover.",
)
TOO_SMALL_BUCKET = MetricDefinition(
    "too_small_bucket",
    "Too small to judge",
    "trend buckets of a ratio",
    "the bucket's basis: met + breached obligations (attainment), answered obligations (response time), "
    "cases opened (share escalated)",
    None,
    None,
    "Flagged when the basis is below [reporting] min_bucket_obligations (default "
    f"{DEFAULT_MIN_BUCKET_OBLIGATIONS}); the point is shown, marked 'too few', never hidden. Escalation "
    "counts are not ratios and are never flagged.",
)


def period_first_day(label: str, grain: str) -> dt.date:
    """The first local date of a period label ('2026-W09' -> Monday 2026-02-23, '2026-Q3' -> 2026-07-01)."""
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


def period_last_day(label: str, grain: str) -> dt.date:
    """The last local date of a period label ('2026-08' -> 2026-08-31, '2026-W09' -> Sunday 2026-03-01)."""
    first = period_first_day(label, grain)
    if grain == "day":
        return first
    if grain == "week":
        return first + dt.timedelta(days=6)
    months = 1 if grain == "month" else 3
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1) - dt.timedelta(days=1)


def last_local_day(as_of: dt.datetime, timezone: str) -> dt.date:
    """The last local date with data as of `as_of`: an as-of at local midnight closes the day before."""
    return (as_of - dt.timedelta(microseconds=1)).astimezone(ZoneInfo(timezone)).date()


def mark_buckets(
    frame: pd.DataFrame,
    grain: str,
    filters: Filters,
    as_of: dt.datetime,
    timezone: str,
    basis: pd.Series | None = None,
    minimum: int = DEFAULT_MIN_BUCKET_OBLIGATIONS,
) -> pd.DataFrame:
    """`frame` (one row per `period` and group) with BUCKET_COLUMNS added, the frame's order kept.

    The covered span is [filters.start, min(filters.end, last local day as of `as_of`)]; an
    open start covers the bucket from its first day. `basis` (aligned with `frame`) is what the
    bucket's ratio is taken over; without it nothing is too small.
    Aug 30..Nov 28 by month: '2026-08' covers 2 of 31 days (partial), '2026-11' 28 of 30.
    """
    out = frame.copy()
    last_day = last_local_day(as_of, timezone)
    end = min(filters.end, last_day) if filters.end is not None else last_day
    labels = [str(p) for p in out["period"]]
    firsts = [period_first_day(p, grain) for p in labels]
    lasts = [period_last_day(p, grain) for p in labels]
    covered = [
        max(0, (min(last, end) - max(first, filters.start or first)).days + 1)
        for first, last in zip(firsts, lasts, strict=True)
    ]
    days = [(last - first).days + 1 for first, last in zip(firsts, lasts, strict=True)]
    out["period_start"] = pd.Series(firsts, index=out.index, dtype="object")
    out["period_end"] = pd.Series(lasts, index=out.index, dtype="object")
    out["period_days"] = pd.Series(days, index=out.index, dtype="int64")
    out["covered_days"] = pd.Series(covered, index=out.index, dtype="int64")
    out["partial"] = out["covered_days"] < out["period_days"]
    if basis is None:
        out["too_small"] = False
    else:
        out["too_small"] = (basis.to_numpy() < minimum) if len(out) else pd.Series(dtype="bool")
    out["too_small"] = out["too_small"].astype("bool")
    return out


def bucket_hover(label: str, grain: str, covered: int, days: int) -> str:
    """The period as a person reads it, with its day count when partial: 'Aug 2026 (partial: 2 of 31 days)'."""
    first = period_first_day(label, grain)
    name = {
        "day": f"{first:%Y-%m-%d}",
        "week": f"{label} (from {first:%a %b %d})",
        "month": f"{first:%b %Y}",
        "quarter": f"{label[-2:]} {label[:4]}",
    }[grain]
    return f"{name} (partial: {covered} of {days} days)" if covered < days else name
