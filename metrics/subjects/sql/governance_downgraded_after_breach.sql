-- Breached obligations (breached_at by $as_of) with the severity in force at breached_at and
-- their final_severity (in force at the obligation's end or at as-of), whatever
-- [reporting] breach_severity says, so the count does not depend on that setting.
-- The severity in force at an instant follows sla-rules.md section 2: the submitted severity from
-- opened_at, each case_changes row from its instant on, the later row in file order at one
-- instant; a change at exactly breached_at is in force at the breach (as the engine's pieces).
-- E.g. severity 1 opened 15:00Z, breached 17:00Z, lowered to 3 at 18:00Z: at breach 1, final 3.
-- One row per breached obligation, stored at load as the per-case table `breach_severities`
-- (metrics/subjects/governance.py filters it by the period and the global filters).
with breached as (
    select o.case_id, o.seq, o.kind, o.breached_at, o.final_severity,
           f.account_id, f.account_name, f.advisor, f.region, f.package,
           epoch(o.breached_at)::bigint as breach_s
    from obligations o join case_facts f using (case_id)
    where o.breached_at is not null
),
steps as (
    select c.case_id, epoch(c.opened_at)::bigint as t, c.severity::tinyint as severity, -1 as ord
    from cases c where c.case_id in (select case_id from breached)
    union all
    select ch.case_id, epoch(ch."at")::bigint, cast(ch.value as tinyint), ch.source_line
    from case_changes ch
    where ch.field = 'severity' and ch."at" <= $as_of and ch.case_id in (select case_id from breached)
),
severity_from as (
    select case_id, t, arg_max(severity, ord) as severity from steps group by case_id, t
),
b as (
    select r.*, s.severity as breach_severity
    from breached r asof join severity_from s on r.case_id = s.case_id and r.breach_s >= s.t
)
select b.case_id, b.seq, b.kind, b.account_id, b.account_name, b.advisor, b.region, b.package, b.breached_at,
       b.breach_severity, b.final_severity::tinyint as final_severity,
       b.final_severity > b.breach_severity as downgraded
from b
