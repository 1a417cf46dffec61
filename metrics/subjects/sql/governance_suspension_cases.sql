-- The cases opened during a suspension of their account (standing rows), with the facts
-- governance_suspended_accounts.sql counts them by: a few thousand of a million case facts.
-- Stored at load as the per-case table `suspension_cases`. A suspension a case was opened
-- in began by the case's opening, so it is known at any as-of the case exists at.
select f.case_id, f.account_id, f.opened_at, f.severity
from case_facts f
where exists (
    select 1 from standing s
    where s.account_id = f.account_id
      and f.opened_at >= s.suspended_from
      and (s.suspended_to is null or f.opened_at < s.suspended_to)
)
