-- The weekly update's counts (sla-rules.md section 7), one row per account of the snapshot,
-- for the week [$week_start, $week_end) with case_facts and obligations taken as of the
-- week's end. Every instant is cut half-open, so an event at exactly $week_end belongs to
-- the next week. $accounts narrows the rows (null = every account).
with wanted as (
    select account_id from accounts
    where cast($accounts as varchar[]) is null or list_contains($accounts, account_id)
),
case_counts as (
    select account_id,
           count(*) filter (where opened_at >= $week_start and opened_at < $week_end) as opened,
           -- closed at the week's end, the last change to closed inside the week
           count(*) filter (where is_closed and closed_at >= $week_start and closed_at < $week_end) as closed,
           count(*) filter (where opened_at < $week_end and status in ('open', 'pending_customer')) as active_at_end
    from case_facts
    group by account_id
),
obligation_counts as (
    select account_id,
           -- each obligation counts once, in the week its verdict became final: met by a
           -- response inside the week, breached when its breached_at falls inside the week
           count(*) filter (where kind = 'initial' and status = 'met' and ended_in_week) as initial_met,
           count(*) filter (where kind = 'initial' and breached_in_week) as initial_breached,
           count(*) filter (where kind = 'follow_up' and status = 'met' and ended_in_week) as follow_up_met,
           count(*) filter (where kind = 'follow_up' and breached_in_week) as follow_up_breached,
           -- no verdict yet at the week's end (the snapshot is taken at it)
           count(*) filter (where kind = 'initial' and status = 'pending' and start_at < $week_end)
               as initial_running_at_end,
           count(*) filter (where kind = 'follow_up' and status = 'pending' and start_at < $week_end)
               as follow_up_running_at_end,
           list_sort(list_distinct(list(case_id) filter (where breached_in_week))) as breached_case_ids,
           count(*) filter (where breached_in_week) as policy_escalations
    from (
        select account_id, case_id, kind, status, start_at,
               coalesce(end_at >= $week_start and end_at < $week_end, false) as ended_in_week,
               coalesce(breached_at >= $week_start and breached_at < $week_end, false) as breached_in_week
        from obligations
    )
    group by account_id
),
recorded as (
    select f.account_id, count(*) as recorded_escalations
    from case_changes ch join case_facts f using (case_id)
    where ch.field = 'escalation' and ch."at" >= $week_start and ch."at" < $week_end
    group by f.account_id
)
select w.account_id,
       coalesce(c.opened, 0) as opened,
       coalesce(c.closed, 0) as closed,
       coalesce(c.active_at_end, 0) as active_at_end,
       coalesce(o.initial_met, 0) as initial_met,
       coalesce(o.initial_breached, 0) as initial_breached,
       coalesce(o.follow_up_met, 0) as follow_up_met,
       coalesce(o.follow_up_breached, 0) as follow_up_breached,
       coalesce(o.initial_running_at_end, 0) as initial_running_at_end,
       coalesce(o.follow_up_running_at_end, 0) as follow_up_running_at_end,
       coalesce(o.breached_case_ids, []) as breached_case_ids,
       coalesce(o.policy_escalations, 0) as policy_escalations,
       coalesce(r.recorded_escalations, 0) as recorded_escalations
from wanted w
left join case_counts c using (account_id)
left join obligation_counts o using (account_id)
left join recorded r using (account_id)
order by w.account_id
