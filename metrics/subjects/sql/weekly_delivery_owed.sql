-- The account-weeks owed a weekly update: each ISO week of $weeks (their Mondays, local dates
-- in the reporting timezone) on any day of which the account has a term whose package is one
-- of $packages (those whose features include weekly_updates). Terms are compared by their
-- dates as stored (local to the account's region calendar). weekly_delivery.py adds the
-- filters' condition (`{where}`, over the term `t`) and the scope.
with terms as (
    select s.account_id, a.name as account_name, a.advisor, a.region, s.package,
           s.start_date, s.end_date
    from subscriptions s
    join accounts a using (account_id)
    where list_contains($packages, s.package)
),
weeks as (
    select unnest(cast($weeks as date[])) as week_start
)
select distinct t.account_id, t.account_name, t.advisor, w.week_start
from terms t
join weeks w on t.start_date <= w.week_start + 6 and t.end_date >= w.week_start
where {where}
order by t.account_id, w.week_start
