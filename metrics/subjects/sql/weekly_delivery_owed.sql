-- The account-weeks owed a weekly update: each ISO week of $weeks (their Mondays, local dates
-- in the reporting timezone) on any day of which the account has a term that promises weekly
-- updates. A term promises them when its package's definition in force on the term's first
-- local date does (`package_entitlements`, from config.terms: versions and the account's
-- overrides included), as a term's entitlements are read. Terms are compared by their dates
-- as stored (local to the account's region calendar). weekly_delivery.py adds the filters'
-- condition (`{where}`, over the term `t`) and the scope.
with terms as (
    select s.account_id, a.name as account_name, a.advisor, a.region, s.package,
           s.start_date, s.end_date
    from subscriptions s
    join accounts a using (account_id)
    join package_entitlements e
      on e.package = s.package and e.account_id is not distinct from terms_account(s.account_id)
     and s.start_date between e.valid_from and e.valid_to
    where e.weekly_updates
),
weeks as (
    select unnest(cast($weeks as date[])) as week_start
)
select distinct t.account_id, t.account_name, t.advisor, w.week_start
from terms t
join weeks w on t.start_date <= w.week_start + 6 and t.end_date >= w.week_start
where {where}
order by t.account_id, w.week_start
