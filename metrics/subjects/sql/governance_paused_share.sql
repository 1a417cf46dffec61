-- Every follow-up obligation with the wall-clock seconds of its life [start_at, end_at or
-- as-of] inside a pending_customer stretch of its case (paused_s) and in all (life_s),
-- with the attributes paused_share groups and filters by. Built once per snapshot.
-- Status timeline as in docs/sla-clock.md: each row holds from its instant on, the last row
-- at an instant wins and closed_at comes after every row; a pause running at as-of ends there.
with follow_ups as (
    select o.case_id, o.seq, o.start_at, o.severity, f.package, f.region, f.advisor, f.account_id,
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
paused as (
    select u.case_id, u.seq, sum(least(p.to_s, u.end_s) - greatest(p.from_s, u.start_s)) as paused_s
    from follow_ups u
    join pending p on p.case_id = u.case_id and p.from_s < u.end_s and p.to_s > u.start_s
    group by u.case_id, u.seq
),
lives as (
    select u.*, u.end_s - u.start_s as life_s, coalesce(p.paused_s, 0) as paused_s
    from follow_ups u left join paused p using (case_id, seq)
)
select * from lives
