-- The snapshot's cases counted per account and local opening date (in the account's region
-- calendar, as its terms are dated), by submitted severity, channel and authorization: what
-- utilization_by_term.sql adds up over each term. A case's row never changes once it exists
-- (it counts what was true at its opening), so the table is stored at load per week of
-- settling and added up again at another as-of (metrics/subjects/utilization.py).
select f.account_id,
       cast(timezone(coalesce(z.timezone, 'UTC'), f.opened_at) as date) as day,
       count(*) as cases,
       count(*) filter (where f.submitted_severity = 1) as cases_sev1,
       count(*) filter (where f.submitted_severity = 2) as cases_sev2,
       count(*) filter (where f.submitted_severity = 3) as cases_sev3,
       count(*) filter (where f.channel = 'phone') as channel_phone,
       count(*) filter (where f.channel = 'email') as channel_email,
       count(*) filter (where f.channel = 'web') as channel_web,
       count(*) filter (where f.channel = 'chat') as channel_chat,
       count(*) filter (where f.channel not in ('phone', 'email', 'web', 'chat')) as channel_other,
       count(*) filter (where f.requester_authorized = false) as non_authorized_cases
from (
    select account_id, opened_at, submitted_severity, requester_authorized,
           coalesce(lower(trim(channel)), '') as channel
    from case_facts
) f
join accounts a using (account_id)
left join calendar_zones z on z.calendar = a.region
group by all
