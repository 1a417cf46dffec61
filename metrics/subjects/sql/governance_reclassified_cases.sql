-- Every severity re-classification of the snapshot's cases by $as_of, one row per case and
-- instant: the severity before and after. Stored at load as the per-case table
-- `severity_changes` (metrics/subjects/governance.py counts those in the period).
-- Rows at one instant collapse to the last in file order (docs/sla-clock.md), and each
-- instant is compared with the severity in force just before it: the previous instant's,
-- or the submitted one. A row restating the severity in force is no re-classification.
-- Up = to a more severe level (a lower number): 3 -> 1 is up, 1 -> 2 is down.
-- Each row carries its case's facts that the counts filter and show (account, package, opening,
-- submitted and current severity): the period's counts then read this table alone.
with instants as (
    select ch.case_id, ch."at", arg_max(cast(ch.value as tinyint), ch.source_line) as severity
    from case_changes ch semi join case_facts f on f.case_id = ch.case_id
    where ch.field = 'severity' and ch."at" <= $as_of
    group by ch.case_id, ch."at"
),
changes as (
    select i.case_id, i."at", i.severity as after,
           coalesce(lag(i.severity) over (partition by i.case_id order by i."at"), f.submitted_severity) as before,
           f.account_id, f.package, f.opened_at, f.submitted_severity, f.severity
    from instants i join case_facts f using (case_id)
)
select case_id, "at", before, after, account_id, package, opened_at, submitted_severity, severity
from changes where after <> before
