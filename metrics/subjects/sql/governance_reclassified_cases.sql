-- Severity re-classifications whose instant falls in the period, one row per case.
-- {case_filter}: the global filters over case_facts `f`, without the period;
-- {period_filter}: the period over the change's instant `c."at"`.
-- Rows at one instant collapse to the last in file order (docs/sla-clock.md), and each
-- instant is compared with the severity in force just before it: the previous instant's,
-- or the submitted one. A row restating the severity in force is no re-classification.
-- Up = to a more severe level (a lower number): 3 -> 1 is up, 1 -> 2 is down.
with scoped as (
    select f.case_id, f.account_id, f.account_name, f.advisor, f.package, f.opened_at,
           f.submitted_severity, f.severity
    from case_facts f
    where {case_filter}
),
instants as (
    select ch.case_id, ch."at", arg_max(cast(ch.value as tinyint), ch.source_line) as severity
    from case_changes ch join scoped using (case_id)
    where ch.field = 'severity' and ch."at" <= $as_of
    group by ch.case_id, ch."at"
),
changes as (
    select i.case_id, i."at", i.severity as after,
           coalesce(lag(i.severity) over (partition by i.case_id order by i."at"), s.submitted_severity) as before
    from instants i join scoped s using (case_id)
),
in_period as (
    select c.* from changes c where c.after <> c.before and {period_filter}
)
select s.case_id, s.account_id, s.account_name, s.advisor, s.package, s.opened_at,
       s.submitted_severity, s.severity,
       count(*) filter (where p.after < p.before) as changes_up,
       count(*) filter (where p.after > p.before) as changes_down,
       min(p."at") as first_changed_at,
       max(p."at") as last_changed_at,
       s.severity <> s.submitted_severity as severity_differs
from in_period p join scoped s using (case_id)
group by s.case_id, s.account_id, s.account_name, s.advisor, s.package, s.opened_at, s.submitted_severity, s.severity
order by s.case_id
