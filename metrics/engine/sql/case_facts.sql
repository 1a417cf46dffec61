-- One row per case opened by $as_of (of the listed $accounts, when not null): who, which
-- package, and its state at $as_of.
-- Reads the `obligations` table of the snapshot (for the package in force at opening: the
-- engine's package_in_force, never worked out again here)
-- and follows docs/sla-clock.md for status and severity (last row at an instant wins,
-- closed_at after every row). Every metric about cases starts here.
create or replace temp table case_facts as
with cases_asof as (
    select * from cases
    where opened_at <= $as_of and (cast($accounts as varchar[]) is null or list_contains($accounts, account_id))
),
status_rows as (
    select ch.case_id, ch."at", ch.value as status, ch.source_line as ord
    from case_changes ch join cases_asof using (case_id)
    where ch.field = 'status' and ch."at" <= $as_of
    union all
    select case_id, closed_at, 'closed', 9223372036854775807 from cases_asof where closed_at <= $as_of
),
status_now as (
    select case_id,
           arg_max(status, (epoch("at")::bigint, ord)) as status,
           max("at") filter (where status = 'closed') as last_closed_at,
           count(*) filter (where status = 'pending_customer') as pauses
    from status_rows group by case_id
),
severity_now as (
    select ch.case_id, arg_max(cast(ch.value as tinyint), (epoch(ch."at")::bigint, ch.source_line)) as severity,
           count(*) as severity_changes
    from case_changes ch join cases_asof using (case_id)
    where ch.field = 'severity' and ch."at" <= $as_of
    group by ch.case_id
),
escalations as (
    select ch.case_id, count(*) as escalations, min(ch."at") as first_escalation_at,
           arg_max(ch.value, (epoch(ch."at")::bigint, ch.source_line)) as escalation_level
    from case_changes ch join cases_asof using (case_id)
    where ch.field = 'escalation' and ch."at" <= $as_of
    group by ch.case_id
),
messages as (
    select r.case_id,
           -- messages at one instant: an agent's reply is the last (then by author type, so
           -- every run picks the same)
           arg_max(r.author_type, (epoch(r."at")::bigint, r.author_type = 'agent', r.author_type)) as last_author_type,
           max(r."at") filter (where r.author_type = 'agent') as last_agent_response_at,
           count(*) filter (where r.author_type = 'agent') as agent_responses
    from responses r join cases_asof using (case_id)
    where r.public is not false and r."at" <= $as_of
    group by r.case_id
),
packages as (
    select case_id, package from obligations where seq = 0
),
requesters as (
    -- authorized on the local opening date (in the account's region calendar)
    select c.case_id,
           bool_or(ct.authorized
                   and (ct.authorized_from is null or ct.authorized_from <= cast(timezone(z.timezone, c.opened_at) as date))
                   and (ct.authorized_to is null or ct.authorized_to >= cast(timezone(z.timezone, c.opened_at) as date)))
               as requester_authorized
    from cases_asof c
    join accounts a using (account_id)
    join calendar_zones z on z.calendar = a.region
    join contacts ct on ct.contact_id = c.contact_id and ct.account_id = c.account_id
    group by c.case_id
)
select c.case_id, c.account_id, a.name as account_name, a.region, a.advisor, p.package,
       c.severity as submitted_severity, coalesce(s.severity, c.severity) as severity,
       coalesce(s.severity_changes, 0) as severity_changes,
       c.opened_at,
       coalesce(st.status, 'open') as status,
       coalesce(st.status = 'closed', false) as is_closed,
       case when st.status = 'closed' then st.last_closed_at end as closed_at,
       coalesce(st.pauses, 0) as pauses,
       coalesce(e.escalations, 0) as escalations, e.first_escalation_at, e.escalation_level,
       m.last_author_type, m.last_agent_response_at, coalesce(m.agent_responses, 0) as agent_responses,
       c.owner, c.channel, c.contact_id, c.product_area, c.subject,
       coalesce(c.development_ticket, false) as development_ticket,
       case when c.contact_id is null then null else coalesce(r.requester_authorized, false) end
           as requester_authorized
from cases_asof c
join accounts a using (account_id)
left join packages p using (case_id)
left join status_now st using (case_id)
left join severity_now s using (case_id)
left join escalations e using (case_id)
left join messages m using (case_id)
left join requesters r using (case_id)
