"""Escalations: policy (every breached obligation, at its breach) and recorded (case_changes).

Both kinds are events with an instant; trends, rates and repeat counts are built on
`escalation_events` so that every page and the weekly update count them the same way.
"""

from __future__ import annotations

import pandas as pd

from metrics.filters import Filters
from metrics.snapshot import Snapshot

EVENTS_SQL = """
    select o.case_id, f.account_id, f.account_name, f.advisor, f.region, f.package,
           'policy' as source, o.breached_at as "at", o.severity, o.kind, o.seq, cast(null as varchar) as level,
           f.opened_at
    from obligations o join case_facts f using (case_id)
    where o.status = 'breached'
    union all
    select ch.case_id, f.account_id, f.account_name, f.advisor, f.region, f.package,
           'recorded', ch."at", f.severity, null, null, ch.value, f.opened_at
    from case_changes ch join case_facts f using (case_id)
    where ch.field = 'escalation' and ch."at" <= ?
"""


def escalation_events(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per escalation (policy or recorded) whose instant falls in the filtered period.

    Columns: case_id, account_id, account_name, advisor, region, package, source
    ('policy' | 'recorded'), at, severity (the obligation's for policy, the case's current
    one for recorded), kind and seq (policy only), level (recorded only), opened_at.
    """
    where, params = filters.where("e", 'e."at"', snap.reporting_timezone, severity="e.severity")
    sql = f"select * from ({EVENTS_SQL}) e where {where} order by e.\"at\", e.case_id"
    return snap.query(sql, [snap.as_of, *params]).to_pandas()
