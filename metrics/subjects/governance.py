"""Governance review of a period: trends, obligation compliance, re-classifications, accounts' health.

A governance meeting walks through one period on a shared screen (product.md): attainment
and escalation trends by month, the subscriber's obligations (requests from non-authorized
contacts, contacts over the allotment, suspensions), severity re-classifications,
prioritized development tickets, the share of follow-up time parked waiting on the customer,
and the health of the biggest accounts. Each part is its own function over one snapshot;
`governance_review` bundles them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from metrics import sqlfiles
from metrics.engine.snapshot import Snapshot, per_case_table
from metrics.subjects.active import active_per_account
from metrics.subjects.attainment import attainment_table
from metrics.subjects.case_cube import CASE_CUBE_FACTS, case_cube_where
from metrics.subjects.escalations import escalation_trend, escalations_per_account
from metrics.subjects.filters import Filters, with_account
from metrics.subjects.registry import MetricDefinition, group_columns, metric
from metrics.subjects.utilization import contacts_over_allotment

RECLASSIFIED_SQL = sqlfiles.read(__file__, "governance_reclassified_cases.sql")
# every severity re-classification by as-of (before, after), per case: stored at load
SEVERITY_CHANGES = per_case_table(
    "severity_changes", lambda snap: snap.query(RECLASSIFIED_SQL, {"as_of": snap.as_of}), RECLASSIFIED_SQL
)
PAUSED_SQL = sqlfiles.read(__file__, "governance_paused_share.sql")
# Every follow-up's paused and total seconds (PAUSED_SQL) added up per local start day and the
# attributes paused_share groups and filters by that are not the account's own (those are
# joined from accounts): a few hundred thousand rows instead of one per follow-up. Stored at
# load per week of settling; at another as-of the held weeks' sums plus the rest's, added up.
_PAUSE_SUMS = ("follow_ups", "paused_follow_ups", "life_s", "paused_s", "clock_running_s", "clock_paused_s")
_PAUSED_CUBE_SQL = f"""
    select cast(timezone($timezone, l.start_at) as date) as day, l.severity, l.package, l.account_id, l.owner,
           count(*) as follow_ups, count(*) filter (where l.paused_s > 0) as paused_follow_ups,
           cast(sum(l.life_s) as bigint) as life_s, cast(sum(l.paused_s) as bigint) as paused_s,
           cast(sum(l.clock_running_s) as bigint) as clock_running_s,
           cast(sum(l.clock_paused_s) as bigint) as clock_paused_s
    from ({PAUSED_SQL}) l
    group by all
"""
PAUSED_CUBE = per_case_table(
    "paused_cube",
    lambda snap: snap.query(_PAUSED_CUBE_SQL, {"as_of": snap.as_of, "timezone": snap.reporting_timezone}),
    _PAUSED_CUBE_SQL,
    combine=f"select day, severity, package, account_id, owner, "
    f"{', '.join(f'cast(sum({c}) as bigint) as {c}' for c in _PAUSE_SUMS)} from parts group by all",
)
_PAUSED_FACTS = with_account("paused_cube")
SUSPENDED_SQL = sqlfiles.read(__file__, "governance_suspended_accounts.sql")
# The cases opened during a suspension of their account: stored at load like the tables above
SUSPENSION_CASES_SQL = sqlfiles.read(__file__, "governance_suspension_cases.sql")
SUSPENSION_CASES = per_case_table(
    "suspension_cases", lambda snap: snap.query(SUSPENSION_CASES_SQL), SUSPENSION_CASES_SQL
)
# The cases with a prioritized development ticket, and those from a non-authorized contact: a few
# percent of the case facts each, stored at load, so a new as-of reads them instead of every case
_TICKET_CASES_SQL = """
    select case_id, account_id, account_name, advisor, region, package, submitted_severity, severity, status,
           opened_at, closed_at, owner, escalation_level
    from case_facts where development_ticket
"""
TICKET_CASES = per_case_table(
    "development_ticket_cases", lambda snap: snap.query(_TICKET_CASES_SQL), _TICKET_CASES_SQL
)
_NON_AUTHORIZED_SQL = """
    select case_id, account_id, region, advisor, package, severity, opened_at
    from case_facts where not requester_authorized
"""
NON_AUTHORIZED_CASES = per_case_table(
    "non_authorized_case_rows", lambda snap: snap.query(_NON_AUTHORIZED_SQL), _NON_AUTHORIZED_SQL
)
DOWNGRADED_SQL = sqlfiles.read(__file__, "governance_downgraded_after_breach.sql")
# every breached obligation with the severity in force at the breach and its final one, per case: stored at load
BREACH_SEVERITIES = per_case_table(
    "breach_severities", lambda snap: snap.query(DOWNGRADED_SQL, {"as_of": snap.as_of}), DOWNGRADED_SQL
)

# The dimensions paused_share groups by: columns of the paused cube with its account's attributes (alias f).
PAUSE_DIMENSIONS = ("owner", "account_id", "account_name", "advisor", "package", "region", "severity")

HEALTH_COLUMNS = (
    "account_id", "account_name", "advisor", "package", "cases_opened", "met", "breached", "attainment",
    "policy_escalations", "recorded_escalations", "active", "active_at_risk", "active_breached",
)

def _only_period(filters: Filters) -> Filters:
    return Filters(start=filters.start, end=filters.end)


def _without_period(filters: Filters) -> Filters:
    return dataclasses.replace(filters, start=None, end=None)


def period_bounds(filters: Filters, timezone: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The period as instants [start, end): local midnights of its first day and of the day after its last."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(filters.start, dt.time(), zone) if filters.start else None
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), zone) if filters.end else None
    return start, end


@metric(
    MetricDefinition(
        "severity_reclassifications",
        "Severity re-classifications",
        "instants at which a case's severity changed (case_changes rows with field = severity)",
        "changes up (to a lower number, more severe) and down",
        None,
        "at",
        "Rows at one instant collapse to the last in file order; a row restating the severity in force is "
        "not counted. Each change is compared with the severity in force just before it.",
    ),
    period_by="the change's instant (at)",
)
def reclassified_cases(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per case whose severity changed in the period, by case id.

    Columns: case_id, account_id, account_name, advisor, package, opened_at, submitted_severity,
    severity (at as-of), changes_up, changes_down (changes in the period), first_changed_at,
    last_changed_at, severity_differs (current != submitted). Filters other than the period
    apply to the case (its current severity).
    """
    snap.table(SEVERITY_CHANGES)
    case_where, case_params = _without_period(filters).where("f")
    period_where, period_params = _only_period(filters).where("f", 'f."at"', snap.reporting_timezone)
    sql = f"""
        select f.case_id, f.account_id, any_value(f.account_name) as account_name,
               any_value(f.advisor) as advisor, f.package, f.opened_at, f.submitted_severity, f.severity,
               count(*) filter (where f.after < f.before) as changes_up,
               count(*) filter (where f.after > f.before) as changes_down,
               min(f."at") as first_changed_at,
               max(f."at") as last_changed_at,
               f.severity <> f.submitted_severity as severity_differs
        from {with_account("severity_changes")}
        where {period_where} and {case_where}
        group by f.case_id, f.account_id, f.package, f.opened_at, f.submitted_severity, f.severity
        order by f.case_id
    """
    return snap.query(sql, [*period_params, *case_params]).to_pandas()


@metric(
    MetricDefinition(
        "final_severity_differs",
        "Final severity differs from submitted",
        "cases opened in the period",
        "cases whose severity at as-of differs from the submitted one",
        "cases opened in the period",
        "opened_at",
    ),
    period_by="at; cases by opened_at",
)
def reclassifications(snap: Snapshot, filters: Filters = Filters()) -> dict[str, Any]:
    """Severity re-classification counts for the period.

    Keys: changes, changes_up, changes_down (changes whose instant is in the period),
    cases_reclassified (cases with such a change), cases_opened (in the period),
    cases_severity_differs (of those, current severity != submitted) and
    severity_differs_share (that over cases_opened; None without cases).
    """
    cases = reclassified_cases(snap, filters)
    where, params = case_cube_where(snap, filters)
    opened, differs = snap.query(
        f"""select cast(coalesce(sum(f.cases), 0) as bigint), cast(coalesce(sum(f.severity_differs), 0) as bigint)
            from {CASE_CUBE_FACTS} where {where}""",
        params,
    ).to_pylist()[0].values()
    up, down = int(cases["changes_up"].sum()), int(cases["changes_down"].sum())
    return {
        "changes": up + down,
        "changes_up": up,
        "changes_down": down,
        "cases_reclassified": len(cases),
        "cases_opened": int(opened),
        "cases_severity_differs": int(differs),
        "severity_differs_share": differs / opened if opened else None,
    }


@metric(
    MetricDefinition(
        "development_tickets",
        "Prioritized development tickets",
        "cases with development_ticket = true",
        "such cases",
        None,
        "opened_at",
    ),
    period_by="opened_at",
)
def development_tickets(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Cases opened in the period for which a prioritized development ticket was raised, oldest first.

    Columns: case_id, account_id, account_name, advisor, package, submitted_severity, severity,
    status, opened_at, closed_at, owner, escalation_level.
    """
    where, params = _ticket_where(snap, filters)
    sql = f"""
        select f.case_id, f.account_id, f.account_name, f.advisor, f.package, f.submitted_severity, f.severity,
               f.status, f.opened_at, f.closed_at, f.owner, f.escalation_level
        from development_ticket_cases f
        where {where}
        order by f.opened_at, f.case_id
    """
    return snap.query(sql, params).to_pandas()


def _ticket_where(snap: Snapshot, filters: Filters) -> tuple[str, list[object]]:
    """The filters on `development_ticket_cases` (f): the cases with a ticket."""
    snap.table(TICKET_CASES)
    return filters.where("f", "f.opened_at", snap.reporting_timezone)


def tickets_per_account(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """The rows of `development_tickets` counted per account.

    Columns: account_id, raised, still_open, and the oldest still open (oldest_case_id,
    oldest_opened_at: the first open one in the table's order; null when none is open).
    """
    where, params = _ticket_where(snap, filters)
    sql = f"""
        select f.account_id, count(*) as raised, count(*) filter (where f.status <> 'closed') as still_open,
               arg_min(f.case_id, (f.opened_at, f.case_id)) filter (where f.status <> 'closed') as oldest_case_id,
               min(f.opened_at) filter (where f.status <> 'closed') as oldest_opened_at
        from development_ticket_cases f
        where {where}
        group by f.account_id
    """
    return snap.query(sql, params).to_pandas()


@metric(
    MetricDefinition(
        "paused_share",
        "Wall-clock share waiting on the customer",
        "follow-up obligations starting in the period, their life [start_at, end_at or as-of] in wall-clock "
        "seconds",
        "wall-clock seconds of the lives inside pending_customer stretches of the case",
        "wall-clock seconds of the lives (waiting + not waiting)",
        "start_at",
        "How long cases spent waiting on the customer, not how much SLA time was stopped: nights, weekends "
        "and holidays weigh as much as working hours, so owners and accounts on different calendars compare "
        "alike. The SLA clock's own pause is clock_paused_share.",
    ),
    MetricDefinition(
        "clock_paused_share",
        "Clock-time share paused waiting on the customer",
        "follow-up obligations starting in the period, in clock seconds: working seconds of each obligation's "
        "calendar (24x7 or the account's region calendar, the one its elapsed_seconds are counted on)",
        "clock seconds inside pending_customer stretches of the obligation's life, when its clock was paused",
        "those paused clock seconds + the obligations' elapsed_seconds (the clock time that ran)",
        "start_at",
        "The share of the obligations' clock time during which the clock was stopped because the case was "
        "waiting on the customer (the pauses the engine removes from the deadline); a pause over a weekend "
        "on a business calendar counts no clock time. A pause running at as-of ends at as-of.",
    ),
    dimensions=PAUSE_DIMENSIONS,
    period_by="start_at",
    additive=("follow_ups", "paused_follow_ups", "running_seconds", "paused_seconds",
              "clock_running_seconds", "clock_paused_seconds"),
    needs_dimension=True,
)
def paused_share(
    snap: Snapshot, filters: Filters = Filters(), by: tuple[str, ...] | list[str] = ("owner",)
) -> pd.DataFrame:
    """Share of follow-up time spent waiting on the customer, per group, for follow-ups starting in the period.

    Columns: the `by` keys (PAUSE_DIMENSIONS), follow_ups, paused_follow_ups (with any
    pause), in wall-clock seconds of each obligation's life [start_at, end_at or as-of]:
    running_seconds, paused_seconds and paused_share = paused / (paused + running); in clock
    seconds of the obligation's calendar: clock_running_seconds (its elapsed_seconds),
    clock_paused_seconds (working seconds inside the pauses) and clock_paused_share =
    clock paused / (clock paused + clock running), NaN when no clock time at all.
    """
    columns = group_columns(paused_share, by, "f")
    snap.table(PAUSED_CUBE)  # the follow-ups' seconds per local day and attributes, once per snapshot
    where, params = filters.where("f", None, snap.reporting_timezone, severity="f.severity", local_day="f.day")
    keys = ", ".join(by)
    sql = f"""
        select {", ".join(columns)},
               cast(sum(follow_ups) as bigint) as follow_ups,
               cast(sum(paused_follow_ups) as bigint) as paused_follow_ups,
               cast(sum(life_s - paused_s) as bigint) as running_seconds,
               cast(sum(paused_s) as bigint) as paused_seconds,
               sum(paused_s) / nullif(sum(life_s), 0) as paused_share,
               cast(sum(clock_running_s) as bigint) as clock_running_seconds,
               cast(sum(clock_paused_s) as bigint) as clock_paused_seconds,
               sum(clock_paused_s) / nullif(sum(clock_paused_s + clock_running_s), 0) as clock_paused_share
        from {_PAUSED_FACTS}
        where {where}
        group by {keys}
        order by {keys}
    """
    frame = snap.query(sql, params).to_pandas()
    for column in ("paused_share", "clock_paused_share"):
        frame[column] = frame[column].astype("float64")
    return frame


@metric(
    MetricDefinition(
        "suspended_accounts",
        "Suspended accounts",
        "suspensions (standing rows) known at as-of that overlap the period",
        "suspensions, with the cases opened during each",
        None,
        "suspended_from / suspended_to",
        "Cases opened during a suspension carry no response target.",
    ),
    period_by="suspended_from / suspended_to (overlap)",
)
def suspended_accounts(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Suspensions overlapping the period, with the cases opened during each.

    Columns: account_id, account_name, advisor, region, package (in force when the suspension
    began), suspended_from, suspended_to (empty = still suspended), cases_opened (during the
    suspension, by as-of) and cases_opened_in_period (of those, opened inside the period).
    """
    snap.table(SUSPENSION_CASES)
    return snap.query(*_suspended_query(snap, filters)).to_pandas()


def _suspended_query(snap: Snapshot, filters: Filters) -> tuple[str, dict[str, object]]:
    """SUSPENDED_SQL with the filters in place, and its values."""
    tz = snap.reporting_timezone
    period_from, period_to = period_bounds(filters, tz)
    account_where, account_params = dataclasses.replace(_without_period(filters), severities=()).where("sc")
    severity_where, severity_params = Filters(severities=filters.severities).where("f")
    period_where, period_params = _only_period(filters).where("f", "f.opened_at", tz)
    account_sql, account_named = sqlfiles.named(account_where, account_params, "a")
    severity_sql, severity_named = sqlfiles.named(severity_where, severity_params, "s")
    period_sql, period_named = sqlfiles.named(period_where, period_params, "p")
    sql = (
        SUSPENDED_SQL.replace("{account_filter}", account_sql)
        .replace("{severity_filter}", severity_sql)
        .replace("{period_filter}", period_sql)
    )
    values = {
        "as_of": snap.as_of, "period_from": period_from, "period_to": period_to,
        **account_named, **severity_named, **period_named,
    }
    return sql, values


@metric(
    MetricDefinition(
        "non_authorized_requests",
        "Cases from non-authorized contacts",
        "cases opened in the period",
        "cases whose contact_id is not an authorized contact of the account on the local opening date "
        "(account's region timezone)",
        "cases opened in the period (with or without a contact)",
        "opened_at",
        "A case without a contact_id is neither authorized nor non-authorized: it is counted apart as "
        "cases_without_contact (and stays in the denominator).",
    ),
    period_by="opened_at",
)
def non_authorized_requests(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Per account with cases opened in the period: how many came from non-authorized contacts.

    Columns: account_id, account_name, advisor, cases (opened), cases_with_contact,
    cases_without_contact, non_authorized_cases (the contact was not authorized for the
    account on the local opening date), non_authorized_share (over cases opened) and
    non_authorized_case_ids. Most non-authorized cases first.
    """
    where, params = case_cube_where(snap, filters)
    # the non-authorized cases' ids, once per snapshot: a few percent of the cases
    snap.table(NON_AUTHORIZED_CASES)  # the non-authorized cases' ids
    ids_where, ids_params = filters.where("n", "n.opened_at", snap.reporting_timezone)
    sql = f"""
        with counts as (
            select f.account_id, any_value(f.account_name) as account_name, any_value(f.advisor) as advisor,
                   cast(sum(f.cases) as bigint) as cases,
                   cast(sum(f.cases_with_contact) as bigint) as cases_with_contact,
                   cast(sum(f.cases - f.cases_with_contact) as bigint) as cases_without_contact,
                   cast(sum(f.non_authorized_cases) as bigint) as non_authorized_cases
            from {CASE_CUBE_FACTS}
            where {where}
            group by f.account_id
        ),
        ids as (
            select n.account_id, list(n.case_id order by n.case_id) as non_authorized_case_ids
            from non_authorized_case_rows n
            where {ids_where}
            group by n.account_id
        )
        select c.*, c.non_authorized_cases / c.cases as non_authorized_share,
               coalesce(i.non_authorized_case_ids, []) as non_authorized_case_ids
        from counts c left join ids i using (account_id)
        order by c.non_authorized_cases desc, non_authorized_share desc nulls last, c.account_id
    """
    frame = snap.query(sql, [*params, *ids_params]).to_pandas()
    frame["non_authorized_share"] = frame["non_authorized_share"].astype("float64")
    return frame


@metric(
    MetricDefinition(
        "non_authorized_share",
        "Share of cases from non-authorized contacts",
        "cases opened in the period",
        "cases whose contact was not an authorized contact of the account on the local opening date",
        "cases opened in the period (with or without a contact)",
        "opened_at",
        "None when no case was opened.",
    ),
    MetricDefinition(
        "cases_without_contact",
        "Cases without a contact",
        "cases opened in the period",
        "cases with no contact_id (whether their requester was authorized cannot be told)",
        "cases opened in the period",
        "opened_at",
    ),
    period_by="opened_at",
)
def non_authorized_summary(snap: Snapshot, filters: Filters = Filters()) -> dict[str, Any]:
    """The period's totals of non_authorized_requests, for the tiles.

    Keys: cases_opened, non_authorized_cases, non_authorized_share (None without cases),
    cases_without_contact and cases_without_contact_share (None without cases).
    """
    where, params = case_cube_where(snap, filters)
    row = snap.query(
        f"""select cast(coalesce(sum(f.cases), 0) as bigint) as opened,
                   cast(coalesce(sum(f.non_authorized_cases), 0) as bigint) as non_authorized,
                   cast(coalesce(sum(f.cases - f.cases_with_contact), 0) as bigint) as without_contact
            from {CASE_CUBE_FACTS} where {where}""",
        params,
    ).to_pylist()[0]
    opened, non_authorized, without = int(row["opened"]), int(row["non_authorized"]), int(row["without_contact"])
    return {
        "cases_opened": opened,
        "non_authorized_cases": non_authorized,
        "non_authorized_share": non_authorized / opened if opened else None,
        "cases_without_contact": without,
        "cases_without_contact_share": without / opened if opened else None,
    }


@metric(
    MetricDefinition(
        "downgraded_after_breach",
        "Downgraded after a breach",
        "breached obligations whose breached_at falls in the period",
        "those whose final severity (in force at the obligation's end or at as-of) is milder (a greater "
        "number) than the severity in force at breached_at; counted as obligations and as distinct cases",
        None,
        "breached_at",
        "The severity filter applies to the severity at the breach. The count is the same under either "
        "[reporting] breach_severity: with at_breach such misses stay under their severity at the breach; "
        "with final they move to the milder one.",
    ),
    period_by="breached_at",
)
def downgraded_after_breach(snap: Snapshot, filters: Filters = Filters()) -> dict[str, Any]:
    """Breached obligations re-classified to a milder severity after the miss.

    Keys: breached_obligations (breached_at in the period), downgraded_obligations,
    downgraded_cases and downgraded (a frame of those obligations: case_id, seq, kind,
    account_id, account_name, advisor, package, breached_at, breach_severity, final_severity).
    """
    rows = _breaches_with_severities(snap, filters)
    down = rows[rows["downgraded"]].drop(columns="downgraded").reset_index(drop=True)
    return {
        "breached_obligations": len(rows),
        "downgraded_obligations": len(down),
        "downgraded_cases": int(down["case_id"].nunique()),
        "downgraded": down,
    }


def _breaches_with_severities(snap: Snapshot, filters: Filters) -> pd.DataFrame:
    snap.table(BREACH_SEVERITIES)
    where, params = filters.where("b", "b.breached_at", snap.reporting_timezone, severity="b.breach_severity")
    sql = f"""
        select case_id, seq, kind, account_id, account_name, advisor, package, breached_at,
               breach_severity, final_severity, downgraded
        from breach_severities b
        where {where}
        order by b.breached_at, b.case_id, b.seq
    """
    return snap.query(sql, params).to_pandas()


def _biggest_accounts(snap: Snapshot, filters: Filters, top: int) -> pd.DataFrame:
    where, params = case_cube_where(snap, filters)
    sql = f"""
        select f.account_id, any_value(f.account_name) as account_name, any_value(f.advisor) as advisor,
               arg_max(f.package, f.last_opened_us) as package, cast(sum(f.cases) as bigint) as cases_opened
        from {CASE_CUBE_FACTS}
        where {where}
        group by f.account_id
        order by cases_opened desc, f.account_id
        limit ?
    """
    return snap.query(sql, [*params, top]).to_pandas()


@metric(
    MetricDefinition(
        "account_health",
        "Biggest accounts' health",
        "the accounts with the most cases opened in the period",
        "per account: cases opened, attainment, escalations (policy, recorded), active tickets at as-of",
        None,
        "opened_at / start_at / breached_at / at",
        "Ties in case count are broken by account id.",
    ),
    period_by="opened_at / start_at / breached_at / at",
)
def account_health(snap: Snapshot, filters: Filters = Filters(), top: int = 10) -> pd.DataFrame:
    """The `top` accounts by cases opened in the period, each with its SLA and queue health.

    Columns: account_id, account_name, advisor, package (of its latest case in the period),
    cases_opened, met, breached, attainment (obligations starting in the period),
    policy_escalations, recorded_escalations (in the period), active, active_at_risk and
    active_breached (the queue at as-of; the period does not apply to it).
    """
    frame = _biggest_accounts(snap, filters, top)
    if frame.empty:
        return frame.reindex(columns=HEALTH_COLUMNS)
    # only the chosen accounts from here on: the heavier queries then read a few accounts' rows
    narrowed = dataclasses.replace(filters, accounts=tuple(frame["account_id"]))
    sla = attainment_table(snap, by=("account_id",), filters=narrowed).set_index("account_id")
    escalations = escalations_per_account(snap, narrowed).set_index("account_id").rename(
        columns={"policy": "policy_escalations", "recorded": "recorded_escalations"})
    active = active_per_account(snap, narrowed).set_index("account_id")
    sla = sla[["met", "breached", "attainment"]]
    out = frame.set_index("account_id").join([sla, escalations, active])
    counts = ["met", "breached", "policy_escalations", "recorded_escalations", "active", "active_at_risk",
              "active_breached"]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["attainment"] = out["attainment"].astype("float64")
    return out.reset_index()[list(HEALTH_COLUMNS)]


def governance_review(snap: Snapshot, filters: Filters = Filters(), grain: str = "month") -> dict[str, Any]:
    """Everything a governance meeting walks through for the filtered period, from one snapshot.

    Keys: attainment_trend (attainment_table by kind per `grain`), escalation_trend,
    reclassifications (dict), reclassified_cases, development_tickets, non_authorized_requests,
    non_authorized_summary (dict), downgraded_after_breach (dict),
    contacts_over_allotment, suspended_accounts, paused_by_owner, paused_by_account and
    account_health.
    """
    return {
        "attainment_trend": attainment_table(snap, by=("kind",), filters=filters, grain=grain),
        "escalation_trend": escalation_trend(snap, grain=grain, filters=filters),
        "reclassifications": reclassifications(snap, filters),
        "reclassified_cases": reclassified_cases(snap, filters),
        "development_tickets": development_tickets(snap, filters),
        "non_authorized_requests": non_authorized_requests(snap, filters),
        "non_authorized_summary": non_authorized_summary(snap, filters),
        "downgraded_after_breach": downgraded_after_breach(snap, filters),
        "contacts_over_allotment": contacts_over_allotment(snap, filters),
        "suspended_accounts": suspended_accounts(snap, filters),
        "paused_by_owner": paused_share(snap, filters, by=("owner",)),
        "paused_by_account": paused_share(snap, filters, by=("account_id", "account_name")),
        "account_health": account_health(snap, filters),
    }
