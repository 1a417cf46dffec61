-- The week's cases for the weekly update's text: every case opened or closed inside
-- [$week_start, $week_end), with its state as of the week's end (the snapshot's as-of).
with flagged as (
    select f.*,
           f.opened_at >= $week_start and f.opened_at < $week_end as opened_in_week,
           f.is_closed and f.closed_at >= $week_start and f.closed_at < $week_end as closed_in_week
    from case_facts f
)
select account_id, case_id, opened_at, severity, status, closed_at, subject, owner, escalation_level,
       opened_in_week, closed_in_week
from flagged
where opened_in_week or closed_in_week
order by account_id, opened_at, case_id
