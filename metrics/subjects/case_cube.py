"""Cases counted per local opening day: the period's case counts without reading every case.

Counts of the cases opened in a period (the biggest accounts, requests from non-authorized
contacts, the re-classification cohort, the share of cases escalated) read this cube of a few
tens of thousands of rows instead of a million case facts. A row is a local opening day (the
reporting timezone), account, package and the case's severity at as-of, with its cases
counted several ways. It is a per-case table with `combine` (engine/snapshot.py): stored at
load per week of settling, and at another as-of the held weeks' rows plus the rest's, which
readers add up (every column is a count, or the latest opening, read with max).
"""

from __future__ import annotations

from metrics.engine.snapshot import Snapshot, per_case_table
from metrics.subjects.filters import Filters, with_account

# escalated: any escalation up to as-of, policy (a breached obligation) or recorded (a case_changes
# escalation row, case_facts.escalations): the cases sql/escalation_events.sql has events of
SUMS = ("cases", "cases_with_contact", "non_authorized_cases", "severity_differs", "escalated_cases")
CASE_CUBE_SQL = """
    select cast(timezone(?, f.opened_at) as date) as day, f.account_id, f.package, f.severity,
           count(*) as cases, count(f.contact_id) as cases_with_contact,
           count(*) filter (where not f.requester_authorized) as non_authorized_cases,
           count(*) filter (where f.severity <> f.submitted_severity) as severity_differs,
           count(*) filter (where f.escalations > 0
                            or f.case_id in (select case_id from obligations where status = 'breached'))
               as escalated_cases,
           epoch_us(max(f.opened_at)) as last_opened_us
    from case_facts f
    group by all
"""
CASE_CUBE = per_case_table(
    "case_cube",
    lambda snap: snap.query(CASE_CUBE_SQL, [snap.reporting_timezone]),
    CASE_CUBE_SQL,
    combine="select day, account_id, package, severity, "
    f"{', '.join(f'cast(sum({c}) as bigint) as {c}' for c in SUMS)}, max(last_opened_us) as last_opened_us "
    "from parts group by all",
)
# The cube with its account's own attributes, as alias f (what `Filters.where` reads).
CASE_CUBE_FACTS = with_account("case_cube")


def case_cube_where(snap: Snapshot, filters: Filters) -> tuple[str, list[object]]:
    """The filters on CASE_CUBE_FACTS, the cube built first: the period on the local opening day."""
    snap.table(CASE_CUBE)
    return filters.where("f", None, snap.reporting_timezone, severity="f.severity", local_day="f.day")
