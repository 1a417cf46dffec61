-- Active tickets as of $as_of (sla-rules.md section 5): cases opened by as-of whose status
-- at as-of is open or pending_customer, each with its running obligation (end_at null; at
-- most one) and its age in calendar and business seconds.
-- {case_filter} is the global filters' condition over case_facts alias `f` (no period).
-- Business age = W(as_of) - W(opened_at) on the account's region calendar, where W is the
-- running total of working seconds found by an ASOF join on calendar_intervals
-- (metrics/calendars.py).
with active as (
    select f.*, z.cal, epoch(f.opened_at)::bigint as opened_s, epoch($as_of)::bigint as as_of_s
    from case_facts f
    join calendar_zones z on z.calendar = f.region
    where f.status in ('open', 'pending_customer') and {case_filter}
),
points as (
    select case_id, cal, 'opened' as point, opened_s as t from active
    union all
    select case_id, cal, 'as_of', as_of_s from active
),
worked as (
    select p.case_id, p.point, i.cum_before + least(p.t - i.start_s, i.end_s - i.start_s) as w
    from points p asof join calendar_intervals i on i.cal = p.cal and p.t >= i.start_s
),
business_age as (
    select case_id,
           max(w) filter (where point = 'as_of') - max(w) filter (where point = 'opened') as age_business_seconds
    from worked
    group by case_id
),
running as (  -- obligations with no end_at (Snapshot.running_obligations)
    select case_id, kind, seq, calendar, target_seconds, deadline_at, elapsed_seconds, status, breached_at
    from running_obligations
),
joined as (
    select a.case_id, a.account_id, a.account_name, a.advisor, a.region, a.package, a.severity, a.status,
           case when a.status = 'pending_customer' then 'customer' else 'vendor' end as waiting_on,
           a.last_author_type, a.opened_at,
           a.as_of_s - a.opened_s as age_seconds,
           b.age_business_seconds,
           r.kind, r.seq, r.calendar, r.target_seconds, r.deadline_at, r.elapsed_seconds,
           r.target_seconds - r.elapsed_seconds as remaining_seconds,
           r.elapsed_seconds / r.target_seconds as consumed,
           r.status as obligation_status, r.breached_at,
           a.escalation_level, a.escalations, a.owner
    from active a
    join business_age b using (case_id)
    left join running r using (case_id)
),
judged as (
    select *,
           case when kind is null then 'no_clock'
                when obligation_status in ('untargeted', 'suspended') then obligation_status
                when obligation_status = 'breached' then 'breached'
                when consumed >= $at_risk_fraction then 'at_risk'
                when waiting_on = 'customer' and kind = 'follow_up' then 'paused'
                else 'on_track' end as clock_state
    from joined
)
select * exclude (urgency)
from (
    select *,
           -- no_clock (the customer spoke last, nobody answered since a reopen) needs attention:
           -- right after breached and at risk, before every running clock on track
           case clock_state when 'breached' then 0 when 'at_risk' then 1 when 'no_clock' then 2
                            when 'on_track' then 3 when 'paused' then 4 when 'untargeted' then 5
                            else 6 end
               as urgency
    from judged
)
order by urgency, consumed desc nulls last, age_seconds desc, case_id
