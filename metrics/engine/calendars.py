"""Business calendars as data: working intervals in UTC with a running total of seconds.

Elapsed business time is then a difference of running totals, and a deadline is a look-up
on the running total (`sql/obligations.sql`, by the bucket tables below), with no per-case loop:

    W(t)   = cum_before(i) + min(t - start(i), length(i))   for the last interval i starting <= t
    work(a, b) = W(b) - W(a)
    deadline for T seconds from a = the earliest t with W(t) >= W(a) + T

`24x7` is one interval covering all time with cum_before 0, so W(t) = t. Every business
calendar starts with a zero-length sentinel interval at 1970 so W is defined before its
first working interval; deadline look-ups skip it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from metrics.storage.config import ALWAYS, CalendarSpec, Config

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
ALL_TIME = (0, 2**62)  # epoch seconds: 1970 to far beyond any data


def local_to_utc_seconds(day: dt.date, minute: int, tz: ZoneInfo) -> int:
    """Wall-clock `minute` of `day` in `tz` as epoch seconds; 1440 is the next day's 00:00.

    fold=0 moves a time inside a spring-forward gap forward by the gap and takes the
    first occurrence of an ambiguous fall-back time (sla-rules.md section 1).
    """
    day = day + dt.timedelta(days=minute // 1440)
    minute %= 1440
    local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz, fold=0)
    return int((local - EPOCH).total_seconds())


@lru_cache(maxsize=64)
def working_intervals(spec: CalendarSpec, first: dt.date, last: dt.date) -> tuple[tuple[int, int], ...]:
    """Working intervals [start, end) in epoch seconds for local dates first..last, touching ones merged."""
    tz = ZoneInfo(spec.timezone)
    holidays = spec.holiday_dates(first.year, last.year)
    out: list[list[int]] = []
    day = first
    while day <= last:
        if day not in holidays:
            for start_min, end_min in spec.hours[day.weekday()]:
                start = local_to_utc_seconds(day, start_min, tz)
                end = local_to_utc_seconds(day, end_min, tz)
                if end <= start:  # a range swallowed by a DST gap
                    continue
                if out and start <= out[-1][1]:
                    out[-1][1] = max(out[-1][1], end)
                else:
                    out.append([start, end])
        day += dt.timedelta(days=1)
    return tuple((s, e) for s, e in out)


def horizon_days(config: Config) -> int:
    """Days past the last instant that any deadline can need, from the slowest calendar a target runs on."""
    weeks = math.ceil(config.longest_target_weeks) + 1
    return 7 * weeks * 2 + 31  # twice the weeks for holiday clusters, a month to spare


def calendar_ids(config: Config) -> dict[str, int]:
    """Small integer ids for the calendars (0 is `24x7`): the engine joins and sorts on them."""
    return {ALWAYS: 0, **{name: i for i, name in enumerate(config.calendars, start=1)}}


def interval_table(config: Config, first: dt.date, last: dt.date) -> pa.Table:
    """All calendars' intervals (cal, start_s, end_s, cum_before) for local dates first..last."""
    ids = calendar_ids(config)
    cals, starts, ends, cums = [0], [ALL_TIME[0]], [ALL_TIME[1]], [0]
    for name, spec in config.calendars.items():
        # a zero-length sentinel at 1970 gives W = 0 to any instant before the first interval
        cals.append(ids[name])
        starts.append(0)
        ends.append(0)
        cums.append(0)
        cum = 0
        for start, end in working_intervals(spec, first, last):
            cals.append(ids[name])
            starts.append(start)
            ends.append(end)
            cums.append(cum)
            cum += end - start
    return pa.table(
        {
            "cal": pa.array(cals, pa.int32()),
            "start_s": pa.array(starts, pa.int64()),
            "end_s": pa.array(ends, pa.int64()),
            "cum_before": pa.array(cums, pa.int64()),
        }
    )


def calendar_table(config: Config) -> pa.Table:
    """Calendar name, id and timezone (a region's local dates pick the package in force)."""
    ids = calendar_ids(config)
    zones = {ALWAYS: "UTC", **{n: c.timezone for n, c in config.calendars.items()}}
    return pa.table(
        {
            "calendar": pa.array(list(ids), pa.string()),
            "cal": pa.array(list(ids.values()), pa.int32()),
            "timezone": pa.array([zones[n] for n in ids], pa.string()),
        }
    )


def target_table(config: Config) -> pa.Table:
    """One row per span of terms, kind and severity: target seconds (null = untargeted) and clock.

    A span (`config.terms`) is a package's definition over local dates `valid_from..valid_to`
    (inclusive; open ends as 0001-01-01 and 9999-12-31), with every version and override
    already merged. `account_id` is null on the package's own rows; an account with
    [[overrides]] has rows of its own for every package and date, which the engine takes
    instead (the macro `terms_account`, sql/package_in_force.sql).
    """
    columns = ("package", "account_id", "valid_from", "valid_to", "kind", "severity", "target_seconds", "clock")
    rows: dict[str, list[object]] = {name: [] for name in columns}
    for terms in config.terms:
        pkg = terms.spec
        for kind, hours in (("initial", pkg.initial_hours), ("follow_up", pkg.follow_up_hours)):
            for severity in (1, 2, 3):
                rows["package"].append(terms.package)
                rows["account_id"].append(terms.account_id)
                rows["valid_from"].append(terms.valid_from or dt.date.min)
                rows["valid_to"].append(terms.valid_to or dt.date.max)
                rows["kind"].append(kind)
                rows["severity"].append(severity)
                target = hours.get(severity)
                rows["target_seconds"].append(None if target is None else round(target * 3600))
                rows["clock"].append(pkg.clock[severity])
    types = {
        "package": pa.string(), "account_id": pa.string(), "valid_from": pa.date32(), "valid_to": pa.date32(),
        "kind": pa.string(), "severity": pa.int8(), "target_seconds": pa.int64(), "clock": pa.string(),
    }  # fmt: skip
    return pa.table({name: pa.array(rows[name], types[name]) for name in columns})


# Look-up tables: W and its inverse by an equality join on a bucket instead of an ASOF join on
# the intervals (sql/obligations.sql). A bucket is narrower than the least gap between two
# interval starts (W) or the shortest interval (the inverse), so it holds at most one start
# besides the interval in force where it begins: each bucket carries those two candidates.
MAX_BUCKET = 3600  # seconds of time (W) or of work (inverse)


@dataclass(frozen=True)
class Lookups:
    # One integer key per calendar and bucket, cal * buckets + the bucket's number from 0
    # (sql/calendar_lookups.sql's step_key and reach_key): a join on one integer column.
    steps: pa.Table  # key, start1, len1, cum1, start2, len2, cum2: W(t) for t // width = first + the bucket
    reaches: pa.Table  # key, start1, cum1, start2, cum2: the deadline for W = w with w // work_width = the bucket;
    # and key -1, whose candidates are null: no deadline
    width: int  # seconds per W bucket
    first: int  # buckets below `first` or above `last` are looked up in them (same candidates)
    last: int
    work_width: int  # work seconds per inverse bucket
    work_last: int  # larger keys are looked up in it


def lookup_tables(intervals: pa.Table) -> Lookups:
    """The bucket tables of `interval_table`'s intervals (which are sorted by start per calendar)."""
    cal = intervals["cal"].to_numpy()
    start = intervals["start_s"].to_numpy()
    length = intervals["end_s"].to_numpy() - start
    cum = intervals["cum_before"].to_numpy()
    cals = np.unique(cal)
    gaps = [np.diff(start[cal == c]) for c in cals]
    width = int(min([MAX_BUCKET, *(int(g.min()) for g in gaps if g.size)]))
    positive = length > 0
    work_width = int(min(MAX_BUCKET, int(length[positive].min())))
    real = start[(length > 0) & (start > ALL_TIME[0])]
    first = max(0, int(real.min()) // width - 1) if real.size else 0
    last = int(start.max()) // width + 1
    work_last = int(cum[positive].max()) // work_width + 1
    steps, reaches = [], []
    for c in cals:
        mine = cal == c
        s, n, w = start[mine], length[mine], cum[mine]
        b = np.arange(first, last + 1, dtype=np.int64)
        i1 = np.searchsorted(s, b * width, "right") - 1  # in force at the bucket's start (-1: none)
        i2 = np.searchsorted(s, (b + 1) * width, "left") - 1  # the last start inside it, if after i1
        steps.append(_candidates(c, b.size, i1, i2, {"start": s, "len": n, "cum": w}))
        s, w = s[n > 0], w[n > 0]
        k = np.arange(0, work_last + 1, dtype=np.int64)
        j1 = np.searchsorted(w, k * work_width, "left") - 1  # the last with cum_before < k * work_width
        j2 = np.searchsorted(w, (k + 1) * work_width, "left") - 1
        reaches.append(_candidates(c, k.size, j1, j2, {"start": s, "cum": w}))
    # key -1, no candidate: where no deadline is to be found (no target), a join still finds a row
    none = pa.table({field.name: pa.array([-1 if field.name == "key" else None], field.type)
                     for field in reaches[0].schema})
    reaches.insert(0, none)
    return Lookups(pa.concat_tables(steps), pa.concat_tables(reaches), width, first, last, work_width, work_last)


def _candidates(
    cal: int, buckets: int, one: npt.NDArray[np.int64], two: npt.NDArray[np.int64],
    columns: dict[str, npt.NDArray[np.int64]],
) -> pa.Table:
    """One row per bucket of calendar `cal` (key cal * buckets + bucket): candidates `one` and `two`.

    Candidate `one` is null when -1, `two` null unless after `one`.
    """
    out: dict[str, pa.Array] = {"key": pa.array(cal * buckets + np.arange(buckets, dtype=np.int64))}
    has_one, has_two = one >= 0, two > one
    for name, values in columns.items():
        out[f"{name}1"] = pa.array(values[np.maximum(one, 0)], mask=~has_one)
    for name, values in columns.items():
        out[f"{name}2"] = pa.array(values[np.maximum(two, 0)], mask=~has_two)
    return pa.table(out)
