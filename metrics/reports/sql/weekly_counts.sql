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
           count(*) filter (where breached_in_week) as policy_escalations,
           -- misses decided this week on cases opened in an earlier week
           count(*) filter (where breached_in_week and opened_before_week) as breached_on_earlier_cases
    from (
        select o.account_id, o.case_id, o.kind, o.status, o.start_at,
               coalesce(o.end_at >= $week_start and o.end_at < $week_end, false) as ended_in_week,
               coalesce(o.breached_at >= $week_start and o.breached_at < $week_end, false) as breached_in_week,
               coalesce(f.opened_at < $week_start, false) as opened_before_week
        from obligations o left join case_facts f using (case_id)
    )
    group by account_id
),
-- reopened: cases opened before the week, closed just before it (status rows before
-- $week_start, the same tie rule as case_facts: the later row at one instant, closed_at last)
-- with a status row open or pending_customer inside the week (a row, as `closed` counts the
-- last row to closed: an open and a closed row at one instant count as reopened and closed).
-- The mirror of `closed`, so
-- that opened - closed + reopened is the change in active_at_end (except for a status
-- change at exactly a week boundary, which active_at_end, taken as of that instant, sees
-- one week earlier than these half-open counts).
status_rows as (
    select ch.case_id, ch."at", ch.value as status, ch.source_line as ord
    from case_changes ch join case_facts f using (case_id)
    where ch.field = 'status' and ch."at" < $week_end and f.opened_at < $week_start
    union all
    select c.case_id, c.closed_at, 'closed', 9223372036854775807
    from cases c join case_facts f using (case_id)
    where c.closed_at < $week_end and f.opened_at < $week_start
),
timeline as (
    select case_id, "at", arg_max(status, ord) as status from status_rows group by case_id, "at"
),
before_week as (
    select case_id, arg_max(status, "at") as status from timeline where "at" < $week_start group by case_id
),
reopened as (
    select f.account_id, count(distinct r.case_id) as reopened
    from status_rows r
    join before_week b using (case_id)
    join case_facts f using (case_id)
    where b.status = 'closed' and r."at" >= $week_start and r.status in ('open', 'pending_customer')
    group by f.account_id
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
       coalesce(ro.reopened, 0) as reopened,
       coalesce(c.active_at_end, 0) as active_at_end,
       coalesce(o.initial_met, 0) as initial_met,
       coalesce(o.initial_breached, 0) as initial_breached,
       coalesce(o.follow_up_met, 0) as follow_up_met,
       coalesce(o.follow_up_breached, 0) as follow_up_breached,
       coalesce(o.initial_running_at_end, 0) as initial_running_at_end,
       coalesce(o.follow_up_running_at_end, 0) as follow_up_running_at_end,
       coalesce(o.breached_case_ids, []) as breached_case_ids,
       coalesce(o.policy_escalations, 0) as policy_escalations,
       coalesce(o.breached_on_earlier_cases, 0) as breached_on_earlier_cases,
       coalesce(r.recorded_escalations, 0) as recorded_escalations
from wanted w
left join case_counts c using (account_id)
left join obligation_counts o using (account_id)
left join recorded r using (account_id)
left join reopened ro using (account_id)
order by w.account_id
