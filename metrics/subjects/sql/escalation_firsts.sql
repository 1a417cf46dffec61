-- The first escalation of every escalated case (from escalation_events), with the time from
-- opening to it in calendar seconds and in business seconds on the case's clock.
-- First = the earliest event of the case, policy or recorded (policy wins a tie at one
-- instant, then the lower obligation seq).
-- The clock is the one the engine's obligations run on for the case's package (in force at
-- opening) and the first event's severity (sla_targets.clock of the terms in force on the local
-- opening date, the account's own when it has overrides; without a package: 24x7 for
-- severity 1, else business), 'business' meaning the calendar named by the account's region
-- (engine/sql/obligations.sql, sla_clocks). Business seconds are a difference of the
-- calendar's running totals (engine/calendars.py): W(first) - W(opened), with
-- W(t) = cum_before + min(t - start_s, end_s - start_s) of the last interval starting at or before t.
with ranked as (
    select *, row_number() over (
        partition by case_id order by "at", source = 'recorded', seq
    ) as rank_in_case
    from escalation_events
),
firsts as (
    select e.case_id, e.account_id, e.account_name, e.advisor, e.region, e.package, e.severity,
           e.opened_at, e."at" as first_escalation_at, e.source as first_source,
           terms_account(e.account_id) as terms_account, cast(timezone(ez.timezone, e.opened_at) as date) as opened_date
    from ranked e
    left join calendar_zones ez on ez.calendar = e.region
    where e.rank_in_case = 1
),
clocks as (
    select fi.*, z.calendar, z.cal,
           epoch(fi.opened_at)::bigint as opened_s, epoch(fi.first_escalation_at)::bigint as first_s
    from firsts fi
    left join (select distinct package, account_id, valid_from, valid_to, severity, clock from sla_targets) t
        on t.package = fi.package and t.severity = fi.severity
       and t.account_id is not distinct from fi.terms_account and fi.opened_date between t.valid_from and t.valid_to
    left join calendar_zones z
        on z.calendar = case coalesce(t.clock, case when fi.severity = 1 then '24x7' else 'business' end)
                             when '24x7' then '24x7' when 'business' then fi.region else t.clock end
),
w_opened as (
    select c.*, i.cum_before + least(c.opened_s - i.start_s, i.end_s - i.start_s) as w_opened
    from clocks c asof left join calendar_intervals i on i.cal = c.cal and c.opened_s >= i.start_s
),
w_first as (
    select c.*, i.cum_before + least(c.first_s - i.start_s, i.end_s - i.start_s) as w_first
    from w_opened c asof left join calendar_intervals i on i.cal = c.cal and c.first_s >= i.start_s
)
select case_id, account_id, account_name, advisor, region, package, severity, opened_at,
       first_escalation_at, first_source, calendar,
       first_s - opened_s as time_to_first_escalation_seconds,
       w_first - w_opened as business_seconds_to_first_escalation  -- null: the region is no calendar
from w_first
