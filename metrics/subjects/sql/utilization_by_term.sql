-- One row per term of `utilization_terms`: entitlements used against entitled, authorized
-- contacts designated against allotted, and the term's cases by severity and channel.
-- Authorized contacts: those designated on `counted_to`, and the peak number held on any one day
-- from the term's start to `counted_to` (with the first day it was reached).
-- Usage counts engagements dated from the term's start to `counted_to` (its end or the
-- as-of local date); cases are those of `case_facts` (opened by as-of) whose local opening
-- date in the account's region timezone falls inside the term, counted per day in `case_days`.
with case_counts as (
    -- the cases per local opening date (case_days, from utilization_case_days.sql) inside each term
    select t.account_id, t.term_start,
           cast(sum(c.cases) as bigint) as cases,
           cast(sum(c.cases_sev1) as bigint) as cases_sev1,
           cast(sum(c.cases_sev2) as bigint) as cases_sev2,
           cast(sum(c.cases_sev3) as bigint) as cases_sev3,
           cast(sum(c.channel_phone) as bigint) as channel_phone,
           cast(sum(c.channel_email) as bigint) as channel_email,
           cast(sum(c.channel_web) as bigint) as channel_web,
           cast(sum(c.channel_chat) as bigint) as channel_chat,
           cast(sum(c.channel_other) as bigint) as channel_other,
           cast(sum(c.non_authorized_cases) as bigint) as non_authorized_cases
    from utilization_terms t
    join case_days c on c.account_id = t.account_id and c.day between t.term_start and t.term_end
    group by t.account_id, t.term_start
),
engagement_use as (
    select t.account_id, t.term_start,
           sum(coalesce(e.quantity, 1)) filter (where lower(trim(e.kind)) = 'service_day') as service_days_used,
           sum(coalesce(e.quantity, 1)) filter (where lower(trim(e.kind)) = 'training_session')
               as training_sessions_used,
           sum(coalesce(e.quantity, 1)) filter (where lower(trim(e.kind)) not in ('service_day', 'training_session'))
               as other_engagements
    from utilization_terms t
    join engagements e on e.account_id = t.account_id and e.date between t.term_start and t.counted_to
    group by t.account_id, t.term_start
),
designated as (
    -- contacts authorized on `counted_to` (the term's last day, or the as-of date of a running
    -- term): the designation in force now, shown beside the peak
    select t.account_id, t.term_start, count(distinct c.contact_id) as authorized_contacts
    from utilization_terms t
    join contacts c on c.account_id = t.account_id
    where c.authorized
      and (c.authorized_from is null or c.authorized_from <= t.counted_to)
      and (c.authorized_to is null or c.authorized_to >= t.counted_to)
    group by t.account_id, t.term_start
),
contact_spans as (
    -- each authorized contact's validity clipped to [term_start, counted_to] (dates inclusive)
    select t.account_id, t.term_start, c.contact_id,
           greatest(coalesce(c.authorized_from, t.term_start), t.term_start) as valid_from,
           least(coalesce(c.authorized_to, t.counted_to), t.counted_to) as valid_to
    from utilization_terms t
    join contacts c on c.account_id = t.account_id
    where c.authorized
),
held as (
    -- the count only rises on a day some validity begins, so the peak is found among those days:
    -- distinct contacts valid on each such day
    select s.account_id, s.term_start, s.valid_from as day, count(distinct o.contact_id) as held
    from contact_spans s
    join contact_spans o
      on o.account_id = s.account_id and o.term_start = s.term_start
     and o.valid_from <= s.valid_from and o.valid_to >= s.valid_from
    where s.valid_from <= s.valid_to
    group by s.account_id, s.term_start, s.valid_from
),
peaks as (
    select account_id, term_start, max(held) as authorized_contacts_peak,
           first(day order by held desc, day) as authorized_contacts_peak_date
    from held
    group by account_id, term_start
),
used as (
    select t.*,
           cast(coalesce(u.service_days_used, 0) as double) as service_days_used,
           cast(coalesce(u.training_sessions_used, 0) as double) as training_sessions_used,
           cast(coalesce(u.other_engagements, 0) as double) as other_engagements,
           coalesce(d.authorized_contacts, 0) as authorized_contacts,
           coalesce(pk.authorized_contacts_peak, 0) as authorized_contacts_peak,
           pk.authorized_contacts_peak_date,
           coalesce(k.cases, 0) as cases,
           coalesce(k.cases_sev1, 0) as cases_sev1,
           coalesce(k.cases_sev2, 0) as cases_sev2,
           coalesce(k.cases_sev3, 0) as cases_sev3,
           coalesce(k.channel_phone, 0) as channel_phone,
           coalesce(k.channel_email, 0) as channel_email,
           coalesce(k.channel_web, 0) as channel_web,
           coalesce(k.channel_chat, 0) as channel_chat,
           coalesce(k.channel_other, 0) as channel_other,
           coalesce(k.non_authorized_cases, 0) as non_authorized_cases
    from utilization_terms t
    left join engagement_use u using (account_id, term_start)
    left join designated d using (account_id, term_start)
    left join peaks pk using (account_id, term_start)
    left join case_counts k using (account_id, term_start)
),
shares as (
    select *,
           service_days_used / nullif(service_days_entitled, 0) as service_days_share,
           service_days_used / nullif(elapsed_share, 0) as service_days_forecast,
           training_sessions_used / nullif(training_sessions_entitled, 0) as training_sessions_share,
           training_sessions_used / nullif(elapsed_share, 0) as training_sessions_forecast
    from used
)
select account_id, account_name, advisor, region, package, term_start, term_end,
       term_days, elapsed_days, elapsed_share, current,
       service_days_used, service_days_entitled, service_days_share, service_days_forecast,
       training_sessions_used, training_sessions_entitled, training_sessions_share, training_sessions_forecast,
       other_engagements,
       authorized_contacts, authorized_contacts_peak, authorized_contacts_peak_date, authorized_contacts_allotted,
       cases, cases_sev1, cases_sev2, cases_sev3,
       channel_phone, channel_email, channel_web, channel_chat, channel_other,
       channel_phone as phone_cases,
       phone_support,
       case when phone_support then 0 else channel_phone end as phone_without_entitlement,
       non_authorized_cases,
       -- percentage points: share used minus share of the term elapsed (service days first)
       case when service_days_entitled > 0 then 100 * (service_days_share - elapsed_share)
            when training_sessions_entitled > 0 then 100 * (training_sessions_share - elapsed_share)
       end as pace
from shares
order by account_id, term_start
