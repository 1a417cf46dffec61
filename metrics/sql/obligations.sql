-- One row per response obligation as of $as_of (of one case when $case_id is set),
-- following docs/sla-clock.md. metrics/explain.py reads the CTEs above `-- result` too.
-- Inputs besides the store: calendar_intervals(calendar, start_s, end_s, cum_before),
-- calendar_zones(calendar, timezone), sla_targets(package, kind, severity, target_seconds, clock).
-- Instants are epoch seconds (bigint) throughout; W(c, t) is the running total of working
-- seconds of calendar c at t (metrics/calendars.py), so work(c, a, b) = W(c, b) - W(c, a).
with params as (
    select epoch($as_of)::bigint as a
),

cases_asof as (
    select c.case_id, c.account_id, c.severity as submitted, acc.region,
           epoch(c.opened_at)::bigint as opened_s,
           case when c.closed_at <= $as_of then epoch(c.closed_at)::bigint end as closed_s,
           cast(timezone(z.timezone, c.opened_at) as date) as opened_local_date
    from cases c
    join accounts acc using (account_id)
    join calendar_zones z on z.calendar = acc.region
    where c.opened_at <= $as_of and (cast($case_id as varchar) is null or c.case_id = $case_id)
),

case_package as (
    select k.case_id, s.package
    from cases_asof k
    join subscriptions s
      on s.account_id = k.account_id and k.opened_local_date between s.start_date and s.end_date
),

-- status from each instant on; at one instant the last row wins, closed_at after every row
status_rows as (
    select case_id, opened_s as t, 'open' as status, -1 as ord from cases_asof
    union all
    select ch.case_id, epoch(ch."at")::bigint, ch.value, ch.source_line
    from case_changes ch join cases_asof using (case_id)
    where ch.field = 'status' and ch."at" <= $as_of
    union all
    select case_id, closed_s, 'closed', 9223372036854775807 from cases_asof where closed_s is not null
),
status_at as (
    select case_id, t, arg_max(status, ord) as status from status_rows group by case_id, t
),
closes as (
    select case_id, t from status_at where status = 'closed'
),
pending_spans as (
    select case_id, t as from_s, to_s
    from (select case_id, t, status, lead(t) over (partition by case_id order by t) as to_s from status_at)
    where status = 'pending_customer'
),

-- severity from each instant on, same tie rule
severity_rows as (
    select case_id, opened_s as t, submitted as severity, -1 as ord from cases_asof
    union all
    select ch.case_id, epoch(ch."at")::bigint, cast(ch.value as tinyint), ch.source_line
    from case_changes ch join cases_asof using (case_id)
    where ch.field = 'severity' and ch."at" <= $as_of
),
severity_at as (
    select case_id, t, arg_max(severity, ord) as severity from severity_rows group by case_id, t
),

agent_responses as (
    select distinct r.case_id, epoch(r."at")::bigint as t
    from responses r join cases_asof k using (case_id)
    where r.author_type = 'agent' and r.public is not false
      and r."at" <= $as_of and epoch(r."at")::bigint >= k.opened_s
),

-- every obligation's start: the opening, and each agent response while the case is open
starts as (
    select case_id, 'initial' as kind, opened_s as start_s from cases_asof
    union all
    select r.case_id, 'follow_up', r.t
    from agent_responses r asof join status_at s on r.case_id = s.case_id and r.t >= s.t
    where s.status in ('open', 'pending_customer')
),
numbered as (
    select case_id, kind, start_s,
           case when kind = 'initial' then 0
                else row_number() over (partition by case_id, kind order by start_s) end as seq
    from starts
),
-- the end: next agent response (initial: at or after the start; follow-up: after it) or next close
next_response as (
    select n.case_id, n.seq, r.t as response_s
    from (select * from numbered where kind = 'initial') n
    asof left join agent_responses r on n.case_id = r.case_id and n.start_s <= r.t
    union all
    select n.case_id, n.seq, r.t
    from (select * from numbered where kind = 'follow_up') n
    asof left join agent_responses r on n.case_id = r.case_id and n.start_s < r.t
),
ends as (
    select n.*, r.response_s, c.t as close_s
    from numbered n
    join next_response r using (case_id, seq)
    asof left join closes c on n.case_id = c.case_id and n.start_s <= c.t
),
obligations as (
    select e.case_id, e.kind, e.seq, e.start_s, k.account_id, k.region, p.package,
           case when e.response_s is not null and (e.close_s is null or e.response_s <= e.close_s) then 'response'
                when e.close_s is not null then 'close' end as ended_by,
           coalesce(least(e.response_s, e.close_s), (select a from params)) as end_s,
           exists (select 1 from standing st
                   where st.account_id = k.account_id and epoch(st.suspended_from)::bigint <= e.start_s
                     and st.suspended_from <= $as_of
                     and (st.suspended_to is null or e.start_s < epoch(st.suspended_to)::bigint)) as suspended
    from ends e
    join cases_asof k using (case_id)
    left join case_package p using (case_id)
),

-- pauses (follow-ups only), clipped to [start, end); the clock runs unpaused after the end
pauses as (
    select o.case_id, o.seq, greatest(s.from_s, o.start_s) as from_s, least(coalesce(s.to_s, o.end_s), o.end_s) as to_s
    from obligations o join pending_spans s using (case_id)
    where o.kind = 'follow_up' and s.from_s < o.end_s and coalesce(s.to_s, o.end_s) > o.start_s
      and greatest(s.from_s, o.start_s) < least(coalesce(s.to_s, o.end_s), o.end_s)
),
-- running segments: the gaps between pauses, then from the last pause's end on (to_s null = forever)
segments as (
    select case_id, seq,
           coalesce(lag(to_s) over (partition by case_id, seq order by from_s), start_s) as from_s,
           from_s as to_s
    from (select p.*, o.start_s from pauses p join obligations o using (case_id, seq))
    union all
    select o.case_id, o.seq, coalesce(max(p.to_s), o.start_s), null
    from obligations o left join pauses p using (case_id, seq)
    group by o.case_id, o.seq, o.start_s
),

-- severity pieces: the severity in force at the start, cut at changes in (start, end]
pieces as (
    select o.case_id, o.seq, o.start_s as x, s.severity
    from obligations o asof join severity_at s on o.case_id = s.case_id and o.start_s >= s.t
    union all
    select o.case_id, o.seq, s.t, s.severity
    from obligations o join severity_at s on o.case_id = s.case_id and s.t > o.start_s and s.t <= o.end_s
),
pieces_timed as (
    select case_id, seq, x, severity,
           lead(x) over (partition by case_id, seq order by x) as y,
           row_number() over (partition by case_id, seq order by x desc) = 1 as is_last
    from pieces
),
-- calendar and target for each distinct severity an obligation passed through
clocks as (
    select distinct p.case_id, p.seq, p.severity, o.kind, o.region, o.package,
           case coalesce(t.clock, case when p.severity = 1 then '24x7' else 'business' end)
                when '24x7' then '24x7' when 'business' then o.region else t.clock end as calendar,
           t.target_seconds
    from pieces_timed p
    join obligations o using (case_id, seq)
    left join sla_targets t on t.package = o.package and t.kind = o.kind and t.severity = p.severity
),

-- W at both ends of every running segment, per clock
segment_work as (
    select c.case_id, c.seq, c.severity, c.calendar, c.target_seconds, g.from_s, g.to_s
    from clocks c join segments g using (case_id, seq)
),
w_from as (
    select g.*, i.cum_before + least(g.from_s - i.start_s, i.end_s - i.start_s) as w_from
    from segment_work g asof join calendar_intervals i on i.calendar = g.calendar and g.from_s >= i.start_s
),
w_both as (
    select g.*, case when g.to_s is not null then i.cum_before + least(g.to_s - i.start_s, i.end_s - i.start_s) end as w_to
    from w_from g asof left join calendar_intervals i on i.calendar = g.calendar and coalesce(g.to_s, 0) >= i.start_s
),
-- the segment in which the target is reached: work before it < T <= work through it
segment_cum as (
    select *, coalesce(sum(w_to - w_from) over (partition by case_id, seq, severity order by from_s
                       rows between unbounded preceding and 1 preceding), 0) as work_before
    from w_both
),
deadline_target as (
    select case_id, seq, severity, calendar, target_seconds, w_from + (target_seconds - work_before) as w_deadline
    from segment_cum
    where target_seconds is not null and work_before < target_seconds
      and (w_to is null or target_seconds <= work_before + (w_to - w_from))
),
deadlines as (
    select d.case_id, d.seq, d.severity, i.start_s + (d.w_deadline - i.cum_before) as deadline_s
    from deadline_target d
    asof join (select * from calendar_intervals where end_s > start_s) i
      on i.calendar = d.calendar and d.w_deadline > i.cum_before
),

-- verdict per piece: breaches when D(s) < y (last piece: D(s) < end), at max(D(s), x)
piece_verdicts as (
    select p.*, c.calendar, c.target_seconds, d.deadline_s,
           case when d.deadline_s < coalesce(p.y, o.end_s) then greatest(d.deadline_s, p.x) end as breach_s
    from pieces_timed p
    join obligations o using (case_id, seq)
    join clocks c using (case_id, seq, severity)
    left join deadlines d using (case_id, seq, severity)
),
first_breach as (
    select case_id, seq, min(breach_s) as breach_s from piece_verdicts group by case_id, seq
),
last_piece as (
    select * from piece_verdicts where is_last
),
-- elapsed on the last piece's clock: running segments clipped to the end
elapsed_segments as (
    select w.case_id, w.seq, w.calendar, w.w_from, least(coalesce(w.to_s, o.end_s), o.end_s) as clip_s
    from w_from w
    join last_piece l using (case_id, seq, severity)
    join obligations o using (case_id, seq)
    where w.from_s <= o.end_s
),
elapsed as (
    select e.case_id, e.seq,
           sum(i.cum_before + least(e.clip_s - i.start_s, i.end_s - i.start_s) - e.w_from) as elapsed_seconds
    from elapsed_segments e
    asof join calendar_intervals i on i.calendar = e.calendar and e.clip_s >= i.start_s
    group by e.case_id, e.seq
)

-- result
select o.case_id, o.account_id, o.package, o.kind, o.seq,
       to_timestamp(o.start_s) as start_at,
       l.severity, l.calendar,
       case when not o.suspended and o.package is not null then l.target_seconds end as target_seconds,
       case when not o.suspended and o.package is not null and l.target_seconds is not null
            then to_timestamp(l.deadline_s) end as deadline_at,
       case when o.ended_by is not null then to_timestamp(o.end_s) end as end_at,
       coalesce(el.elapsed_seconds, 0)::bigint as elapsed_seconds,
       case when o.suspended then 'suspended'
            when o.package is null then 'untargeted'
            when b.breach_s is not null then 'breached'
            when l.target_seconds is null then 'untargeted'
            when o.ended_by = 'response' then 'met'
            when o.ended_by = 'close' then 'cancelled'
            else 'pending' end as status,
       case when not o.suspended and o.package is not null then to_timestamp(b.breach_s) end as breached_at
from obligations o
join last_piece l using (case_id, seq)
join first_breach b using (case_id, seq)
left join elapsed el using (case_id, seq)
