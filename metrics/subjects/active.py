"""Active tickets: the open queue as of a moment, each with its running SLA clock.

A case is active at as-of `A` when it was opened by `A` and its status at `A` is open or
pending_customer (sla-rules.md section 5). Its running obligation (the one without an
end) gives remaining clock time `target - elapsed`, the consumed share `elapsed / target`
and the clock state a support manager sorts by. The period filter does not apply: the
queue is a moment, not a range.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pyarrow as pa

from metrics import sqlfiles
from metrics.engine.snapshot import Snapshot
from metrics.subjects.filters import Filters
from metrics.subjects.registry import MetricDefinition, metric

ACTIVE_SQL = sqlfiles.read(__file__, "active_tickets.sql")

# Clock states, most urgent first (the order active_tickets sorts by): no_clock, an open case
# nobody has answered since it was reopened, needs attention before any clock on track.
CLOCK_STATES = ("breached", "at_risk", "no_clock", "on_track", "paused", "untargeted", "suspended")
# The breach forecast's horizons, in clock hours on each obligation's own calendar.
FORECAST_HOURS = (4, 8, 24)


@metric(
    MetricDefinition(
        "clock_state",
        "SLA clock state",
        "active tickets",
        "one state per case: breached, at_risk, on_track, paused, untargeted, suspended or no_clock",
        None,
        None,
        "A breached clock is breached even if paused; an at-risk clock is at risk even while paused (the next "
        "minute it runs counts); paused = waiting on the customer on a follow-up; no_clock = an open case without "
        "a running obligation (reopened after a close, no agent response since). The queue is sorted breached, "
        "at_risk, no_clock, on_track, paused, untargeted, suspended: a reopened case nobody answered needs "
        "attention before the clocks on track.",
    ),
    MetricDefinition(
        "consumed",
        "Share of the target consumed",
        "running obligations of active tickets with a target",
        "elapsed clock seconds",
        "target seconds",
        None,
        "At risk from at_risk_fraction (default 0.75) until it breaches.",
    ),
    MetricDefinition(
        "remaining_clock_seconds",
        "Remaining clock time",
        "running obligations of active tickets with a target",
        "target_seconds - elapsed_seconds (clock seconds on the obligation's calendar, pauses excluded)",
        None,
        None,
        "Negative once the obligation breached.",
    ),
    MetricDefinition(
        "age_business_seconds",
        "Age in business time",
        "active tickets",
        "working seconds of the account's region calendar from opened_at to as-of",
        None,
        None,
        "Always the region's business calendar, whatever the severity's clock; age_seconds is wall-clock.",
    ),
)
def active_tickets(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per active case with its running clock, most urgent first.

    Columns: case_id, account_id, account_name, advisor, region, package, severity (current),
    status, waiting_on ('customer' when pending_customer, else 'vendor'), last_author_type,
    opened_at, age_seconds (wall clock), age_business_seconds (region calendar), kind, seq,
    calendar, target_seconds, deadline_at, elapsed_seconds, remaining_seconds, consumed,
    obligation_status, breached_at, escalation_level, escalations, owner, clock_state.
    Sorted by clock state (CLOCK_STATES order: breached, at_risk, no_clock, on_track, paused,
    untargeted, suspended), then consumed share and age, largest first.
    """
    where, params = _queue_where(snap, filters)
    sql = f"select * exclude (urgency_rank) from active_queue f where {where} order by urgency_rank"
    return snap.query(sql, params).to_pandas()


def active_per_account(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """The rows of `active_tickets` counted per account: account_id, active, active_at_risk, active_breached."""
    where, params = _queue_where(snap, filters)
    sql = f"""select f.account_id, count(*) as active,
                     count(*) filter (where f.clock_state = 'at_risk') as active_at_risk,
                     count(*) filter (where f.clock_state = 'breached') as active_breached
              from active_queue f where {where} group by f.account_id"""
    return snap.query(sql, params).to_pandas()


def _queue_where(snap: Snapshot, filters: Filters) -> tuple[str, list[object]]:
    """The filters on `active_queue` (f), the whole queue made once per snapshot: the period does not apply."""
    snap.derive("active_queue", lambda: _whole_queue(snap))  # filters then narrow that small table
    return dataclasses.replace(filters, start=None, end=None).where("f")  # the queue is a moment


def _whole_queue(snap: Snapshot) -> pa.Table:
    """Every active ticket, most urgent first (urgency_rank keeps that order through filters)."""
    snap.derive("running_obligations", snap.running_obligations)
    sql = ACTIVE_SQL.replace("{case_filter}", "true")
    values = {"as_of": snap.as_of, "at_risk_fraction": float(snap.config.at_risk_fraction)}
    queue = snap.query(sql, values)  # in the query's order, with DuckDB's types (no round trip through pandas)
    return queue.append_column("urgency_rank", pa.array(range(queue.num_rows), pa.int64()))


def summarize_active(frame: pd.DataFrame) -> dict[str, int]:
    """Counts of an active_tickets frame: all, per clock state, and waiting on the customer."""
    states = frame["clock_state"].value_counts()
    counts = {"active": len(frame), **{s: int(states.get(s, 0)) for s in CLOCK_STATES}}
    counts["waiting_on_customer"] = int((frame["waiting_on"] == "customer").sum())
    return counts


@metric(
    MetricDefinition(
        "active_tickets",
        "Active tickets",
        "cases opened by as-of and open (open or pending_customer) at as-of",
        "cases",
        None,
        None,
    ),
    MetricDefinition(
        "at_risk",
        "At risk",
        "running obligations of active tickets",
        "running obligations whose consumed share (elapsed / target) reached at_risk_fraction, not yet breached",
        None,
        None,
    ),
    MetricDefinition(
        "waiting_on_customer",
        "Waiting on the customer",
        "active tickets whose status at as-of is pending_customer",
        "such cases",
        "active tickets",
        None,
    ),
)
def active_summary(snap: Snapshot, filters: Filters = Filters()) -> dict[str, int]:
    """Headline counts of the queue (see summarize_active), for the overview tiles."""
    return summarize_active(active_tickets(snap, filters))


BREACH_FORECAST = MetricDefinition(
    "breach_forecast",
    "Due in the next 4, 8 and 24 clock hours",
    "running obligations of active tickets with a target, not yet breached",
    "those whose remaining clock time (target_seconds - elapsed_seconds, on the obligation's own calendar, "
    "pauses excluded) is at most 4, 8 or 24 hours, by severity and package",
    None,
    None,
    "Cumulative: the 8-hour count includes the 4-hour one. Clock hours, not wall hours: on a business "
    "calendar 4 clock hours may run into the next working day, and a paused follow-up counts with the clock "
    "time it has left. Already breached obligations are not forecast (they are the queue's breached tickets).",
)


def _due(frame: pd.DataFrame) -> pd.DataFrame:
    """The running, targeted, not yet breached obligations of an active_tickets frame, with due_within_<h>h flags."""
    running = frame[(frame["obligation_status"] == "pending") & frame["remaining_seconds"].notna()]
    flags = {f"due_within_{h}h": (running["remaining_seconds"] <= h * 3600).astype("int64") for h in FORECAST_HOURS}
    return running.assign(running=1, **flags)


@metric(BREACH_FORECAST)
def breach_forecast(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Running obligations due within 4, 8 and 24 clock hours, one row per severity and package.

    Columns: severity, package, running (running obligations with a target, not breached),
    due_within_4h, due_within_8h, due_within_24h (cumulative). Only groups with a running
    obligation appear, ordered by severity then package.
    """
    due = _due(active_tickets(snap, filters))
    columns = ["running", *(f"due_within_{h}h" for h in FORECAST_HOURS)]
    if due.empty:
        return pd.DataFrame({"severity": pd.Series(dtype="int64"), "package": pd.Series(dtype=object),
                             **{c: pd.Series(dtype="int64") for c in columns}})  # fmt: skip
    grouped = due.groupby(["severity", "package"], as_index=False, dropna=False)[columns].sum()
    return grouped.sort_values(["severity", "package"], ignore_index=True)


@metric(BREACH_FORECAST)
def breach_forecast_totals(snap: Snapshot, filters: Filters = Filters()) -> dict[str, int]:
    """breach_forecast's counts over every severity and package: running, due_within_4h, _8h, _24h."""
    due = _due(active_tickets(snap, filters))
    columns = ["running", *(f"due_within_{h}h" for h in FORECAST_HOURS)]
    return {c: int(due[c].sum()) if not due.empty else 0 for c in columns}
