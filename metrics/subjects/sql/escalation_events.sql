-- Every escalation as of $as_of, one row per event (sla-rules.md section 5), derived once
-- per snapshot so that trends, rates, incidents and repeat counts read the same rows.
--   policy:   each breached obligation, at its breached_at; severity = the obligation's
--             reported severity (the snapshot's `severity`, which follows
--             [reporting] breach_severity), so per-severity counts reconcile with attainment.
--   recorded: each case_changes row with field = escalation, at its instant; severity = the
--             severity in force at that instant (section 2: the submitted one, then each
--             change from its instant on; the last row at one instant wins), so a later
--             re-classification does not move a past escalation in a trend.
-- merged (recorded only): the row lies at or within $incident_seconds after a policy
-- breach of the same case (0 <= at - breached_at <= window, against the latest breach at
-- or before it), so it is the same incident as that breach; merged_breach_at is that
-- breach. Policy rows are never merged: an incident is dated by its breach.
-- Only cases in case_facts (opened by as-of, and of the snapshot's accounts) take part.
with severity_steps as (
    select case_id, "at", arg_max(cast(value as tinyint), source_line) as severity
    from case_changes
    where field = 'severity' and "at" <= $as_of and case_id in (select case_id from case_facts)
    group by case_id, "at"
),
policy as (
    select o.case_id, o.breached_at, o.severity, o.kind, o.seq
    from obligations o join case_facts f using (case_id)
    where o.status = 'breached'
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
),
recorded_breach as (
    select r.*, b.breached_at as last_breach_at
    from recorded_severity r
    asof left join (select distinct case_id, breached_at from policy) b
        on r.case_id = b.case_id and r."at" >= b.breached_at
)
select p.case_id, f.account_id, f.account_name, f.advisor, f.region, f.package,
       'policy' as source, p.breached_at as "at", p.severity, p.kind, p.seq,
       cast(null as varchar) as level, f.opened_at,
       false as merged, cast(null as timestamptz) as merged_breach_at
from policy p join case_facts f using (case_id)
union all
select r.case_id, f.account_id, f.account_name, f.advisor, f.region, f.package,
       'recorded', r."at", coalesce(r.severity, f.submitted_severity), null, null,
       r.level, f.opened_at,
       coalesce(epoch(r."at") - epoch(r.last_breach_at) <= $incident_seconds, false) as merged,
       case when epoch(r."at") - epoch(r.last_breach_at) <= $incident_seconds then r.last_breach_at end
from recorded_breach r join case_facts f using (case_id)
