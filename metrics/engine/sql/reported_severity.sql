-- The snapshot's `obligations`: the engine's rows (registered as `engine_obligations`) with
-- `final_severity` (the engine's severity: in force when the obligation ended, or at as-of,
-- the obligations export's `severity`) and `severity` = the severity the obligation is
-- reported under, per [reporting] breach_severity ($mode):
--   at_breach: a breached obligation counts under the severity in force at its breached_at,
--              every other one under its final severity;
--   final:     every obligation under its final severity.
-- The severity in force at an instant follows sla-rules.md section 2 the way the engine's
-- pieces do (obligations.sql `sla_severity`): the submitted severity from opened_at, each
-- change from its instant on, the later row at one instant. A change at exactly breached_at
-- is therefore in force at the breach: it is the piece starting there that breached (an
-- upgrade too late breaches at the upgrade's instant, under the new severity); a change at
-- the old piece's deadline itself cuts it before it could breach (D(s) < y is false).
-- E.g. severity 1 opened 15:00Z, deadline 17:00Z, lowered to 3 at 18:00Z: reported 1
-- (at_breach) or 3 (final).
with breaches as (
    select case_id, seq, epoch(breached_at)::bigint as breach_s
    from engine_obligations where breached_at is not null
),
steps as (
    select c.case_id, epoch(c.opened_at)::bigint as t, c.severity::tinyint as severity, -1 as ord
    from cases c where c.case_id in (select case_id from breaches)
    union all
    select ch.case_id, epoch(ch."at")::bigint, cast(ch.value as tinyint), ch.source_line
    from case_changes ch
    where ch.field = 'severity' and ch."at" <= $as_of and ch.case_id in (select case_id from breaches)
),
severity_from as (
    select case_id, t, arg_max(severity, ord) as severity from steps group by case_id, t
),
at_breach as (
    select b.case_id, b.seq, s.severity
    from breaches b asof join severity_from s on b.case_id = s.case_id and b.breach_s >= s.t
)
select o.* replace (
           case when $mode = 'at_breach' and o.breached_at is not null
                then coalesce(a.severity, o.severity) else o.severity end::tinyint as severity
       ),
       o.severity::tinyint as final_severity
from engine_obligations o
left join at_breach a using (case_id, seq)
order by o.case_id, o.seq
