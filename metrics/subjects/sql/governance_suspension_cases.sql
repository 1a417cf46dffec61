-- The cases opened during a suspension of their account known at $as_of (standing rows with
-- suspended_from by then), with the facts governance_suspended_accounts.sql counts them by:
-- a few thousand of a million case facts, selected once per snapshot.
select f.case_id, f.account_id, f.opened_at, f.severity
from case_facts f
where exists (
    select 1 from standing s
    where s.account_id = f.account_id
      and s.suspended_from <= $as_of
      and f.opened_at >= s.suspended_from
      and (s.suspended_to is null or f.opened_at < s.suspended_to)
)
