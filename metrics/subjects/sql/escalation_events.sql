-- Every escalation as of $as_of, one row per event (sla-rules.md section 5), derived once
-- per snapshot so that trends, rates and repeat counts read the same rows.
--   policy:   each breached obligation, at its breached_at; severity = the obligation's
--             reported severity, so per-severity counts reconcile with the attainment tables.
--   recorded: each case_changes row with field = escalation, at its instant; severity = the
--             severity in force at that instant (section 2: the submitted one, then each
--             change from its instant on; the last row at one instant wins), so a later
--             re-classification does not move a past escalation in a trend.
-- Only cases in case_facts (opened by as-of, and of the snapshot's accounts) take part.
with severity_steps as (
    select case_id, "at", arg_max(cast(value as tinyint), source_line) as severity
    from case_changes
    where field = 'severity' and "at" <= $as_of
    group by case_id, "at"
),
recorded as (
    select ch.case_id, ch."at", ch.value as level
    from case_changes ch join case_facts f using (case_id)
    where ch.field = 'escalation' and ch."at" <= $as_of
),
recorded_severity as (
    select r.case_id, r."at", r.level, s.severity
    from recorded r
    asof left join severity_steps s on r.case_id = s.case_id and r."at" >= s."at"
)
select o.case_id, f.account_id, f.account_name, f.advisor, f.region, f.package,
       'policy' as source, o.breached_at as "at", o.severity, o.kind, o.seq,
       cast(null as varchar) as level, f.opened_at
from obligations o join case_facts f using (case_id)
where o.status = 'breached'
union all
select r.case_id, f.account_id, f.account_name, f.advisor, f.region, f.package,
       'recorded', r."at", coalesce(r.severity, f.submitted_severity), null, null,
       r.level, f.opened_at
from recorded_severity r join case_facts f using (case_id)
