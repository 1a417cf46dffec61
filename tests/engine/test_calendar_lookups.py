"""W and its inverse from the bucket tables (calendars.lookup_tables, sql/calendar_lookups.sql).

Checked against a slow scan of the intervals, the definition in calendars.py: W(t) sums the
working seconds before t; the deadline for w working seconds is the earliest t with W(t) >= w,
found from the last interval whose running total is below w. The intervals are chosen to
stress the buckets: a lunch break inside an hour, intervals of a few minutes, a gap of one
minute, starts exactly on an hour, and instants before, between and after every interval.
"""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa

from metrics.engine.calendars import ALL_TIME
from metrics.engine.obligations import register_lookups

HOUR = 3600
DAY = 86400
BASE = 1_772_000_000 // DAY * DAY  # a UTC midnight in 2026


def business_intervals() -> list[tuple[int, int]]:
    """Working intervals [start, end) over ten days, in epoch seconds, with awkward edges."""
    out = []
    for day in range(10):
        d = BASE + day * DAY
        out += [
            (d + 9 * HOUR, d + 12 * HOUR + 15 * 60),  # 09:00-12:15
            (d + 12 * HOUR + 45 * 60, d + 17 * HOUR),  # 12:45-17:00 (two pieces in hour 12)
            (d + 17 * HOUR + 60, d + 17 * HOUR + 4 * 60),  # 17:01-17:04: a one-minute gap, three minutes long
            (d + 17 * HOUR + 5 * 60, d + 17 * HOUR + 6 * 60),  # 17:05-17:06: starts four minutes apart, one long
        ]
    return out


def interval_rows() -> pa.Table:
    """calendar_intervals as interval_table builds it: 24x7 (cal 0) and one business calendar (cal 1)."""
    cals, starts, ends, cums = [0, 1], [ALL_TIME[0], 0], [ALL_TIME[1], 0], [0, 0]  # 24x7, then the sentinel
    cum = 0
    for start, end in business_intervals():
        cals.append(1)
        starts.append(start)
        ends.append(end)
        cums.append(cum)
        cum += end - start
    return pa.table({
        "cal": pa.array(cals, pa.int32()), "start_s": pa.array(starts, pa.int64()),
        "end_s": pa.array(ends, pa.int64()), "cum_before": pa.array(cums, pa.int64()),
    })  # fmt: skip


def slow_w(intervals: list[tuple[int, int]], t: int) -> int:
    return sum(max(0, min(end, t) - start) for start, end in intervals)


def slow_deadline(intervals: list[tuple[int, int]], w: int) -> int | None:
    """Earliest t with W(t) >= w (w > 0): inside the interval where the running total reaches w."""
    done = 0
    for start, end in intervals:
        if done + (end - start) >= w:
            return start + (w - done)
        done += end - start
    return None


def test_bucket_lookups_agree_with_a_scan_of_the_intervals() -> None:
    intervals = business_intervals()
    edges = [x for s, e in intervals for x in (s, e)]
    rng = random.Random(7)
    instants = sorted(
        {BASE - DAY, BASE, BASE + 20 * DAY}
        | {x + d for x in edges for d in (-61, -60, -1, 0, 1, 59, 60)}
        | {BASE + rng.randrange(12 * DAY) for _ in range(2000)}
    )
    total = slow_w(intervals, BASE + 20 * DAY)
    works = sorted(
        {1, total - 1, total}
        | {rng.randrange(1, total + 1) for _ in range(2000)}
        | {slow_w(intervals, x) + d for x in edges for d in (-1, 0, 1) if 0 < slow_w(intervals, x) + d <= total}
    )

    con = duckdb.connect()
    cur = con.cursor()
    cur.register("calendar_intervals", interval_rows())
    register_lookups(cur)
    cur.register("probe_t", pa.table({"t": pa.array(instants, pa.int64())}))
    cur.register("probe_w", pa.table({"w": pa.array(works, pa.int64())}))
    got_w = dict(
        cur.execute("""
        select p.t, work_at(p.t, s.start1, s.len1, s.cum1, s.start2, s.len2, s.cum2)
        from probe_t p join calendar_steps s on s.key = step_key(1, p.t)
    """).fetchall()
    )
    got_24x7 = dict(
        cur.execute("""
        select p.t, work_at(p.t, s.start1, s.len1, s.cum1, s.start2, s.len2, s.cum2)
        from probe_t p join calendar_steps s on s.key = step_key(0, p.t)
    """).fetchall()
    )
    got_deadline = dict(
        cur.execute("""
        select p.w, reach_at(p.w, r.start1, r.cum1, r.start2, r.cum2)
        from probe_w p join calendar_reaches r on r.key = reach_key(1, p.w)
    """).fetchall()
    )
    no_deadline = cur.execute(
        "select reach_at(1, r.start1, r.cum1, r.start2, r.cum2) from calendar_reaches r where r.key = -1"
    ).fetchall()
    con.close()

    assert no_deadline == [(None,)]  # the key of no target: one row, no deadline
    assert got_w == {t: slow_w(intervals, t) for t in instants}
    assert got_24x7 == {t: t for t in instants}  # 24x7: every second counts, W(t) = t
    assert got_deadline == {w: slow_deadline(intervals, w) for w in works}
