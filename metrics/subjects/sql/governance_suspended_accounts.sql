-- Suspensions of support known at $as_of that overlap the period [$period_from, $period_to)
-- (either bound null = open), with the cases opened during each (by as-of) and those of them
-- opened inside the period.
-- {account_filter}: package, region, advisor and account filters over `sc` (the package is
-- the one in force on the suspension's first local day: the engine's package_in_force macro);
-- {severity_filter}: the severity filter over the counted cases `f`;
-- {period_filter}: the period over `f.opened_at`.
-- `suspension_cases` holds the case facts of the cases opened during a suspension
-- (sql/governance_suspension_cases.sql, a per-case table): every row the join below can match.
with suspensions as (
    select s.account_id, s.suspended_from, s.suspended_to
    from standing s
    where s.suspended_from <= $as_of
      and (cast($period_to as timestamptz) is null or s.suspended_from < cast($period_to as timestamptz))
      and (cast($period_from as timestamptz) is null or s.suspended_to is null
           or s.suspended_to > cast($period_from as timestamptz))
),
sc as (
    select s.*, a.name as account_name, a.region, a.advisor, package_in_force(s.account_id, s.suspended_from) as package
    from suspensions s
    join accounts a using (account_id)
    join calendar_zones z on z.calendar = a.region
)
select sc.account_id, sc.account_name, sc.advisor, sc.region, sc.package, sc.suspended_from, sc.suspended_to,
       count(f.case_id) as cases_opened,
       count(f.case_id) filter (where {period_filter}) as cases_opened_in_period
from sc
left join suspension_cases f
  on f.account_id = sc.account_id
 and f.opened_at >= sc.suspended_from
 and (sc.suspended_to is null or f.opened_at < sc.suspended_to)
 and {severity_filter}
where {account_filter}
group by sc.account_id, sc.account_name, sc.advisor, sc.region, sc.package, sc.suspended_from, sc.suspended_to
order by sc.suspended_from, sc.account_id
