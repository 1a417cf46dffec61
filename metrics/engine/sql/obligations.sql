-- Response obligations as of $as_of (of one case when $case_id is set, of some accounts
-- when $accounts is a list), following
-- docs/sla-clock.md. Each statement builds one temp table on the caller's cursor; the
-- last one returns the result. metrics/explain.py reads the intermediate tables too.
--
-- Inputs besides the store: calendar_zones(calendar, cal, timezone), sla_targets(package,
-- account_id, valid_from, valid_to, kind, severity, target_seconds, clock), the macros
-- package_in_force(account, moment), terms_account(account), and from run_stages the bucket
-- tables calendar_steps and calendar_reaches of calendar_intervals(cal, start_s, end_s,
-- cum_before) with their macros (calendar_lookups.sql): W and its inverse by equality joins.
-- Stages drop the tables no later stage reads, to keep memory flat on millions of cases.
-- Instants are epoch seconds; cases and obligations get integer ids (cid, oid) so that the
-- joins of the middle stages run on integers. W(c, t) is the running total of working
-- seconds of calendar c at t (metrics/calendars.py), so work(c, a, b) = W(c, b) - W(c, a).

-- cases opened by as-of (of accounts whose region is a calendar), with the package in force
-- on their local opening date, which also picks the terms. That is package_in_force.sql's rule
-- (the term whose dates hold the local date in the region's zone) written as a join: the macro,
-- a subquery per case, took 0.4 s more at a million cases. Terms of an account never overlap.
create or replace temp table sla_cases as
with opened as (
    select c.case_id, c.account_id, c.severity as submitted, acc.region, c.opened_at, c.closed_at,
           cast(timezone(z.timezone, c.opened_at) as date) as opened_date
    from cases c
    join accounts acc using (account_id)
    join calendar_zones z on z.calendar = acc.region
    where c.opened_at <= $as_of
      and (cast($case_id as varchar) is null or c.case_id = $case_id)
      and (cast($accounts as varchar[]) is null or list_contains($accounts, c.account_id))
)
select row_number() over (order by o.case_id) as cid, o.case_id, o.account_id, o.submitted, o.region,
       term.package, o.opened_date, terms_account(o.account_id) as terms_account,
       epoch(o.opened_at)::bigint as opened_s,
       case when o.closed_at <= $as_of then epoch(o.closed_at)::bigint end as closed_s
from opened o
left join subscriptions term on term.account_id = o.account_id and o.opened_date between term.start_date and term.end_date;

-- cases with status changes; the others are open from their opening to their close
create or replace temp table sla_changed as
select distinct k.cid
from case_changes ch join sla_cases k using (case_id)
where ch.field = 'status' and ch."at" <= $as_of;

-- status from each instant on (at one instant the last row wins, closed_at after every row),
-- with the first instant at or after it when the case is closed; for the cases with status changes
create or replace temp table sla_status as
select cid, t, status,
       min(case when status = 'closed' then t end)
           over (partition by cid order by t rows between current row and unbounded following) as next_close_s
from (
    select cid, t, arg_max(status, ord) as status
    from (
        select cid, opened_s as t, 'open' as status, -1 as ord from sla_cases semi join sla_changed using (cid)
        union all
        select k.cid, epoch(ch."at")::bigint, ch.value, ch.source_line
        from case_changes ch join sla_cases k using (case_id)
        where ch.field = 'status' and ch."at" <= $as_of
        union all
        select cid, closed_s, 'closed', 9223372036854775807 from sla_cases semi join sla_changed using (cid)
        where closed_s is not null
    )
    group by cid, t
);

create or replace temp table sla_pending as
select cid, from_s, to_s
from (select cid, t as from_s, status, lead(t) over (partition by cid order by t) as to_s from sla_status)
where status = 'pending_customer';

-- severity from each instant on, same tie rule: the submitted one from the opening unless changed
-- at that very instant (sla_case_terms' opening_severity), then each change after the opening
-- (sla_severity_cuts); changes before the opening never are in force
create or replace temp table sla_severity_changes as
select k.cid, k.opened_s, epoch(ch."at")::bigint as t, cast(ch.value as tinyint) as severity, ch.source_line as ord
from case_changes ch join sla_cases k using (case_id)
where ch.field = 'severity' and ch."at" <= $as_of and epoch(ch."at")::bigint >= k.opened_s;

create or replace temp table sla_severity_cuts as
select cid, t, arg_max(severity, ord) as severity from sla_severity_changes where t > opened_s group by cid, t;

-- agent responses: distinct instants at or after the opening, each with the next one and its
-- number n among them (of equal instants the last row stays: its lead is the next instant),
-- and the case's close
create or replace temp table sla_responses as
select cid, t, next_t, n, closed_s
from (
    select k.cid, k.closed_s, epoch(r."at")::bigint as t,
           lead(epoch(r."at")::bigint) over (partition by k.cid order by epoch(r."at")::bigint) as next_t,
           dense_rank() over (partition by k.cid order by epoch(r."at")::bigint) as n
    from responses r join sla_cases k using (case_id)
    where r.author_type = 'agent' and r.public is not false and r."at" <= $as_of
      and epoch(r."at")::bigint >= k.opened_s
)
where next_t is null or next_t <> t;

-- kind and status as ENUMs: a byte a row where millions of rows are joined, stored and sorted
create or replace temp type obligation_kind as enum ('initial', 'follow_up');

create or replace temp type obligation_end as enum ('response', 'close');

create or replace temp type obligation_status as enum ('met', 'breached', 'pending', 'cancelled', 'untargeted', 'suspended');

create or replace temp type calendar_name as enum (select calendar from calendar_zones order by cal);

-- obligations: the initial one, and one per agent response while the case is open; each ends
-- at the next agent response (initial: the first at or after opening) or the next close, and
-- is running at as-of when neither came. oid orders obligations by case and seq without a
-- sort: cid in the high bits, seq in the low 32.
create or replace temp macro obligation_row(cid, kind, seq, start_s, response_s, next_close_s, as_of_s) as {
    'oid': cid * 4294967296 + seq, 'cid': cid, 'kind': kind, 'seq': seq, 'start_s': start_s,
    'ended_by': case when response_s is not null and (next_close_s is null or response_s <= next_close_s)
                     then 'response'::obligation_end
                     when next_close_s is not null then 'close'::obligation_end end,
    'end_s': coalesce(least(response_s, next_close_s), as_of_s)
};

create or replace temp table sla_obligations as
select unnest(obligation_row(k.cid, 'initial'::obligation_kind, 0, k.opened_s, f.first_t,
                             coalesce(s.next_close_s, k.closed_s), epoch($as_of)::bigint))
from sla_cases k
left join sla_status s on s.cid = k.cid and s.t = k.opened_s
left join (select cid, t as first_t from sla_responses where n = 1) f on f.cid = k.cid;

-- (a case without status changes is open until its close, which ends every obligation: its
-- follow-ups are the responses before the close, so their seq is the responses' n)
insert into sla_obligations
select unnest(obligation_row(cid, 'follow_up'::obligation_kind, seq, t, next_t, next_close_s, epoch($as_of)::bigint))
from (
    select r.cid, row_number() over (partition by r.cid order by r.t) as seq, r.t, r.next_t, s.next_close_s
    from (select * from sla_responses semi join sla_changed using (cid)) r
    asof join sla_status s on r.cid = s.cid and r.t >= s.t
    where s.status <> 'closed'
    union all
    select r.cid, r.n, r.t, r.next_t, r.closed_s
    from sla_responses r anti join sla_changed using (cid)
    where r.closed_s is null or r.t < r.closed_s
);
drop table sla_responses;
drop table sla_status;
drop table sla_changed;


-- obligations starting inside a suspension of their account
create or replace temp table sla_suspended as
select distinct o.oid
from (select k.cid, st.suspended_from, st.suspended_to
      from sla_cases k join standing st on st.account_id = k.account_id
      where st.suspended_from <= $as_of) s
join sla_obligations o using (cid)
where epoch(s.suspended_from)::bigint <= o.start_s
  and (s.suspended_to is null or o.start_s < epoch(s.suspended_to)::bigint);

-- pauses (follow-ups only), clipped to [start, end)
create or replace temp table sla_pauses as
select o.oid, greatest(p.from_s, o.start_s) as from_s, least(coalesce(p.to_s, o.end_s), o.end_s) as to_s
from sla_obligations o join sla_pending p using (cid)
where o.kind = 'follow_up'::obligation_kind and greatest(p.from_s, o.start_s) < least(coalesce(p.to_s, o.end_s), o.end_s);

-- each set of terms a case can have (its package, region, overridden account and local opening
-- date) numbered, each case's number and severity at opening, and the calendar and target of each
-- set of terms, kind and severity: far fewer rows than obligations, which then find theirs by
-- equality on one integer, clock_key (severities are 1 to 3)
create or replace temp macro clock_key(terms, kind, severity) as terms * 8 + enum_code(kind) * 4 + severity;

create or replace temp table sla_terms as
select row_number() over () as terms, *
from (select distinct package, region, terms_account, opened_date from sla_cases);

create or replace temp table sla_case_terms as
select k.cid, t.terms, coalesce(s.severity, k.submitted) as opening_severity
from sla_cases k
join sla_terms t
  on t.package is not distinct from k.package and t.region = k.region
 and t.terms_account is not distinct from k.terms_account and t.opened_date = k.opened_date
left join (
    select cid, arg_max(severity, ord) as severity from sla_severity_changes where t = opened_s group by cid
) s on s.cid = k.cid;
drop table sla_severity_changes;

create or replace temp table sla_terms_clocks as
with named as (
    select k.terms, kind.kind::obligation_kind as kind, sev.severity, t.target_seconds,
           case coalesce(t.clock, case when sev.severity = 1 then '24x7' else 'business' end)
                when '24x7' then '24x7' when 'business' then k.region else t.clock end as calendar
    from sla_terms k
    cross join (values ('initial'), ('follow_up')) kind(kind)
    cross join (values (1::tinyint), (2::tinyint), (3::tinyint)) sev(severity)
    left join sla_targets t on t.package = k.package and t.kind = kind.kind and t.severity = sev.severity
        and t.account_id is not distinct from k.terms_account and k.opened_date between t.valid_from and t.valid_to
)
select clock_key(n.terms, n.kind, n.severity) as key, n.* replace (n.calendar::calendar_name as calendar), z.cal
from named n join calendar_zones z using (calendar);
drop table sla_terms;

-- Most obligations run on one clock: no pause and no severity change inside their life. The
-- others (sla_complex, with their obligation's columns: the complex stages then read thousands of
-- rows, not sla_obligations' millions) go through pieces and segments; both ways give the same rows.
create or replace temp table sla_complex as
select o.*
from sla_obligations o
semi join (
    select oid from sla_pauses
    union all
    select o.oid from sla_obligations o join sla_severity_cuts s on o.cid = s.cid and s.t > o.start_s and s.t <= o.end_s
) x using (oid);

-- severity pieces: the severity in force at the start, cut at changes in (start, end]
create or replace temp table sla_pieces as
with cuts as (
    select o.oid, o.start_s as x, coalesce(s.severity, k.opening_severity) as severity
    from sla_complex o
    join sla_case_terms k using (cid)
    asof left join sla_severity_cuts s on o.cid = s.cid and o.start_s >= s.t
    union all
    select o.oid, s.t, s.severity
    from sla_complex o join sla_severity_cuts s on o.cid = s.cid and s.t > o.start_s and s.t <= o.end_s
)
select oid, x, severity, lead(x) over (partition by oid order by x) as y
from cuts;

-- running segments: the gaps between pauses, then from the last pause on (to_s null = forever,
-- the clock runs unpaused after the end, which gives a pending obligation its deadline)
create or replace temp table sla_segments as
select oid, start_s as from_s, cast(null as bigint) as to_s, end_s
from sla_complex o anti join sla_pauses p using (oid)
union all
select p.oid, coalesce(lag(p.to_s) over (partition by p.oid order by p.from_s), o.start_s), p.from_s, o.end_s
from sla_pauses p join sla_complex o using (oid)
union all
select p.oid, max(p.to_s), null, any_value(o.end_s) from sla_pauses p join sla_complex o using (oid) group by p.oid;

-- calendar and target for each severity a complex obligation passed through
create or replace temp table sla_clocks as
select p.oid, p.severity, c.target_seconds, c.calendar, c.cal
from (select distinct oid, severity from sla_pieces) p
join sla_complex o using (oid)
join sla_case_terms k using (cid)
join sla_terms_clocks c on c.key = clock_key(k.terms, o.kind, p.severity);

-- W at the start, the end (clipped to the obligation's end) and the clip of every segment, per
-- clock, by the bucket tables as in sla_plain
create or replace temp table sla_segment_work as
with segs as (
    select c.oid, c.severity, c.cal, c.target_seconds, g.from_s, g.to_s,
           least(coalesce(g.to_s, g.end_s), g.end_s) as clip_s
    from sla_clocks c join sla_segments g using (oid)
)
select *, case when to_s is not null then w_clip end as w_to
from (
    select g.oid, g.severity, g.cal, g.target_seconds, g.from_s, g.to_s,
           work_at(g.from_s, a.start1, a.len1, a.cum1, a.start2, a.len2, a.cum2) as w_from,
           work_at(g.clip_s, e.start1, e.len1, e.cum1, e.start2, e.len2, e.cum2) as w_clip
    from segs g
    join calendar_steps a on a.key = step_key(g.cal, g.from_s)
    join calendar_steps e on e.key = step_key(g.cal, g.clip_s)
);
drop table sla_segments;


-- D(s): in the segment where the target is reached (work before it < T <= work through it),
-- the earliest instant whose W reaches the remaining target. Bounded segments lie inside
-- [start, end], so W at their end is W at the clip.
create or replace temp table sla_deadlines as
with cumulated as (
    select *, coalesce(sum(w_to - w_from) over (partition by oid, severity order by from_s
                       rows between unbounded preceding and 1 preceding), 0) as work_before
    from sla_segment_work
    where target_seconds is not null
),
reached as (
    select oid, severity, cal, w_from + (target_seconds - work_before) as w_deadline
    from cumulated
    where work_before < target_seconds and (w_to is null or target_seconds <= work_before + (w_to - w_from))
)
select r.oid, r.severity, reach_at(r.w_deadline, c.start1, c.cum1, c.start2, c.cum2) as deadline_s
from reached r
join calendar_reaches c on c.key = reach_key(r.cal, r.w_deadline);

-- elapsed per clock: running segments clipped to the end (all start at or before it)
create or replace temp table sla_elapsed as
select oid, severity, sum(w_clip - w_from) as elapsed_seconds
from sla_segment_work
group by oid, severity;
drop table sla_segment_work;


-- verdict per piece: breaches when D(s) < y (last piece: D(s) < end), at max(D(s), x)
create or replace temp table sla_complex_pieces as
select p.oid, p.x, p.y, p.severity, c.calendar, c.target_seconds, d.deadline_s,
       case when d.deadline_s < coalesce(p.y, o.end_s) then greatest(d.deadline_s, p.x) end as breach_s
from sla_pieces p
join sla_complex o using (oid)
join sla_clocks c using (oid, severity)
left join sla_deadlines d using (oid, severity);
drop table sla_pieces;
drop table sla_deadlines;
drop table sla_clocks;


-- the other obligations: one piece [start, end] at the severity in force at the start, one
-- segment from the start on, so the same arithmetic in one pass: the clock of their terms, kind
-- and severity, W at start and end, and the deadline where W reaches W(start) + T.
-- A table and a view, each join building its hash table on the small side: the clocks and the
-- bucket keys of start and end (of every obligation: the complex ones are dropped after), then
-- W, the deadline and the verdict, computed as the result reads them (stored, millions of rows
-- cost 0.3 s to write). The keys are stored columns so that DuckDB knows their spread: joined
-- on keys computed in the same statement, it estimated each join to keep a fraction of its
-- rows and, two joins on, built a hash table on millions of obligations (0.9 s instead of 0.1).
create or replace temp table sla_plain_clocks as
with later as (
    select cid, t, severity, lead(t) over (partition by cid order by t) as next_t from sla_severity_cuts
)
select o.oid, o.start_s, o.ended_by, o.end_s, c.severity, c.target_seconds, c.calendar, c.cal,
       step_key(c.cal, o.start_s) as start_key, step_key(c.cal, o.end_s) as end_key
from sla_obligations o
join sla_case_terms k using (cid)
left join later l on l.cid = o.cid and l.t <= o.start_s and (l.next_t is null or o.start_s < l.next_t)
join sla_terms_clocks c on c.key = clock_key(k.terms, o.kind, coalesce(l.severity, k.opening_severity));
drop table sla_severity_cuts;
drop table sla_case_terms;
drop table sla_terms_clocks;

-- (calendar_reaches' key -1 has no candidate: the deadline of no target, or of a target of 0, is none)
create or replace temp view sla_plain as
with worked as (
    select g.*, work_at(g.start_s, a.start1, a.len1, a.cum1, a.start2, a.len2, a.cum2) as w_from,
           work_at(g.end_s, e.start1, e.len1, e.cum1, e.start2, e.len2, e.cum2) as w_end
    from sla_plain_clocks g
    join calendar_steps a on a.key = g.start_key
    join calendar_steps e on e.key = g.end_key
    anti join sla_complex x using (oid)
),
reached as (
    select w.*, reach_at(w.w_from + w.target_seconds, r.start1, r.cum1, r.start2, r.cum2) as deadline_s
    from worked w
    join calendar_reaches r
      on r.key = case when w.target_seconds > 0 then reach_key(w.cal, w.w_from + w.target_seconds) else -1 end
)
select oid, start_s, ended_by, end_s, severity, calendar, target_seconds, deadline_s,
       case when deadline_s < end_s then greatest(deadline_s, start_s) end as breach_s,
       w_end - w_from as elapsed_seconds
from reached;


-- the complex obligations' rows: the first breach, and the last piece's severity, clock and deadline
create or replace temp table sla_complex_verdicts as
select o.*, v.last.severity, v.last.calendar, v.last.target_seconds, v.last.deadline_s, v.breach_s,
       e.elapsed_seconds
from (
    select oid, min(breach_s) as breach_s,
           arg_max({'severity': severity, 'calendar': calendar, 'target_seconds': target_seconds,
                    'deadline_s': deadline_s}, x) as last
    from sla_complex_pieces
    group by oid
) v
join sla_complex o using (oid)
left join sla_elapsed e on e.oid = v.oid and e.severity = v.last.severity;
drop table sla_elapsed;

-- one row per obligation (sla_obligations' columns and the verdict's), then every piece's
-- verdict, a plain obligation's being its one piece (explain.py, reports/weekly.py read both)
create or replace temp view sla_verdicts as
select oid, oid // 4294967296 as cid, case when oid % 4294967296 = 0 then 'initial' else 'follow_up' end::obligation_kind as kind,
       (oid % 4294967296)::integer as seq, start_s, ended_by, end_s, severity, calendar, target_seconds, deadline_s, breach_s,
       elapsed_seconds
from sla_plain
union all
select oid, cid, kind, seq, start_s, ended_by, end_s, severity, calendar, target_seconds, deadline_s, breach_s,
       elapsed_seconds
from sla_complex_verdicts;

create or replace temp view sla_piece_verdicts as
select oid, x, y, severity, calendar, target_seconds, deadline_s, breach_s from sla_complex_pieces
union all
select oid, start_s, null, severity, calendar, target_seconds, deadline_s, breach_s from sla_plain;

-- every column of the result but the case's own (case_id, account_id, package), and oid and cid:
-- kind and status as ENUMs, so that sorting millions of rows by oid moves no strings;
-- obligations.result_arrow sorts these and takes each case's own columns by cid. A case
-- without a package in force is untargeted: no target matches a null package (sla_terms_clocks),
-- so it has no target, deadline or breach.
create or replace temp view sla_result as
select v.oid, v.cid, v.kind, v.seq,
       to_timestamp(v.start_s) as start_at,
       v.severity, v.calendar,
       case when s.oid is null then v.target_seconds end as target_seconds,
       case when s.oid is null and v.target_seconds is not null then to_timestamp(v.deadline_s) end as deadline_at,
       case when v.ended_by is not null then to_timestamp(v.end_s) end as end_at,
       coalesce(v.elapsed_seconds, 0)::bigint as elapsed_seconds,
       case when s.oid is not null then 'suspended'::obligation_status
            when v.breach_s is not null then 'breached'::obligation_status
            when v.target_seconds is null then 'untargeted'::obligation_status
            when v.ended_by = 'response'::obligation_end then 'met'::obligation_status
            when v.ended_by = 'close'::obligation_end then 'cancelled'::obligation_status
            else 'pending'::obligation_status end as status,
       case when s.oid is null then to_timestamp(v.breach_s) end as breached_at
from sla_verdicts v
left join sla_suspended s on s.oid = v.oid;

-- result (in no order: a reader that wants them sorts by oid)
select k.case_id, k.account_id, k.package, r.kind::varchar as kind, r.seq, r.start_at, r.severity, r.calendar,
       r.target_seconds, r.deadline_at, r.end_at, r.elapsed_seconds, r.status::varchar as status, r.breached_at,
       r.oid
from sla_result r
join sla_cases k using (cid)
