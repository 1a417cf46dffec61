-- One row per subscription term with its entitlements and how much of it had elapsed as of
-- the as-of instant (the only `?`). Dates are local to the account's region calendar: the
-- as-of local date counts as elapsed, because engagements dated on it count as used.
-- utilization.py keeps the terms that started by the as-of local date and pass the filters.
with as_of as (
    select cast(? as timestamptz) as as_of_at
),
terms as (
    select s.account_id, a.name as account_name, a.advisor, a.region, s.package,
           s.start_date as term_start, s.end_date as term_end,
           coalesce(z.timezone, 'UTC') as timezone, terms_account(s.account_id) as terms_account,
           cast(timezone(coalesce(z.timezone, 'UTC'), as_of.as_of_at) as date) as as_of_date
    from subscriptions s
    join accounts a using (account_id)
    left join calendar_zones z on z.calendar = a.region
    cross join as_of
),
spans as (
    select *,
           (term_end - term_start + 1) as term_days,
           greatest(0, least(term_end - term_start + 1, as_of_date - term_start + 1)) as elapsed_days,
           least(term_end, as_of_date) as counted_to  -- last local date whose usage counts
    from terms
)
select sp.account_id, sp.account_name, sp.advisor, sp.region, sp.package,
       sp.term_start, sp.term_end, sp.timezone, sp.as_of_date, sp.counted_to,
       sp.term_days, sp.elapsed_days,
       sp.elapsed_days / sp.term_days as elapsed_share,
       sp.term_start <= sp.as_of_date and sp.as_of_date <= sp.term_end as current,
       coalesce(e.service_days, 0) as service_days_entitled,
       coalesce(e.training_sessions, 0) as training_sessions_entitled,
       coalesce(e.authorized_contacts, 0) as authorized_contacts_allotted,
       coalesce(e.phone_support, false) as phone_support
from spans sp
-- the terms in force on the term's first local date (an overridden account's own rows: terms_account)
left join package_entitlements e
    on e.package = sp.package and e.account_id is not distinct from sp.terms_account
   and sp.term_start between e.valid_from and e.valid_to
