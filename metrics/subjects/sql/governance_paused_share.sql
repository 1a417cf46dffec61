-- Every follow-up obligation with the wall-clock seconds of its life [start_at, end_at or
-- as-of] inside a pending_customer stretch of its case (paused_s) and in all (life_s), and the
-- same in clock time: the working seconds of the obligation's calendar (its `calendar`, the one
-- its elapsed_seconds are counted on) inside those stretches (clock_paused_s) and the clock's
-- elapsed_seconds (clock_running_s, pauses already left out by the engine), with the
-- attributes paused_share groups and filters by. Built once per snapshot.
-- W(cal, t) = cum_before + least(t - start_s, end_s - start_s) of the last working interval
-- starting at or before t (metrics/engine/calendars.py), so work(a, b) = W(b) - W(a).
-- Status timeline as in docs/sla-clock.md: each row holds from its instant on, the last row
-- at an instant wins and closed_at comes after every row; a pause running at as-of ends there.
with follow_ups as (
    select o.case_id, o.seq, o.start_at, o.severity, o.calendar, o.elapsed_seconds, f.package, f.region, f.advisor, f.account_id,
           f.account_name, f.owner,
           epoch(o.start_at)::bigint as start_s,
           coalesce(epoch(o.end_at)::bigint, epoch($as_of)::bigint) as end_s
    from obligations o join case_facts f using (case_id)
    where o.kind = 'follow_up'
),
follow_up_cases as (
    select distinct case_id from follow_ups
),
status_rows as (
    select ch.case_id, epoch(ch."at")::bigint as t, ch.value as status, ch.source_line as ord
    from case_changes ch join follow_up_cases using (case_id)
    where ch.field = 'status' and ch."at" <= $as_of
    union all
    select c.case_id, epoch(c.closed_at)::bigint, 'closed', 9223372036854775807
    from cases c join follow_up_cases using (case_id)
    where c.closed_at <= $as_of
),
statuses as (
    select case_id, t, arg_max(status, ord) as status
    from status_rows
    group by case_id, t
),
pending as (
    select case_id, t as from_s, coalesce(next_t, epoch($as_of)::bigint) as to_s
    from (select *, lead(t) over (partition by case_id order by t) as next_t from statuses)
    where status = 'pending_customer'
),
pieces as (
    select u.case_id, u.seq, z.cal, greatest(p.from_s, u.start_s) as from_s, least(p.to_s, u.end_s) as to_s
    from follow_ups u
    join pending p on p.case_id = u.case_id and p.from_s < u.end_s and p.to_s > u.start_s
    left join calendar_zones z on z.calendar = u.calendar
),
w_from as (
    select g.*, i.cum_before + least(g.from_s - i.start_s, i.end_s - i.start_s) as w_from
    from pieces g asof left join calendar_intervals i on i.cal = g.cal and g.from_s >= i.start_s
),
w_to as (
    select g.*, i.cum_before + least(g.to_s - i.start_s, i.end_s - i.start_s) as w_to
    from w_from g asof left join calendar_intervals i on i.cal = g.cal and g.to_s >= i.start_s
),
paused as (
    select case_id, seq, sum(to_s - from_s) as paused_s, sum(coalesce(w_to - w_from, 0)) as clock_paused_s
    from w_to
    group by case_id, seq
),
lives as (
    select u.*, u.end_s - u.start_s as life_s, coalesce(p.paused_s, 0) as paused_s,
           u.elapsed_seconds as clock_running_s, coalesce(p.clock_paused_s, 0) as clock_paused_s
    from follow_ups u left join paused p using (case_id, seq)
)
select * from lives
