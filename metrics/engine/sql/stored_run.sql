-- The engine's run stored at load (metrics/engine/stored_run.py): the snapshot's tables as of
-- the data's latest instant L, registered as run_obligation_rows and run_case_fact_rows,
-- each row with its case's settled_at: the instant from which the case's rows are the same at
-- every as-of. That is its last event (opened_at, closed_at, any change, any message), or never
-- (null) while one of its obligations is still running at L, whose clock moves with the as-of.
-- Rows are stored by settled_at (the never settled last), then case_id (and seq): the rows that
-- hold at any as-of are then a prefix of each table (snapshot.derived_tables).
create or replace table sla_run_cases as
with last_events as (
    select case_id, max(t) as last_event_at
    from (
        select case_id, closed_at as t from cases
        union all
        select case_id, "at" from case_changes
        union all
        select case_id, "at" from responses
    )
    group by case_id
),
running as (
    select distinct case_id from run_obligation_rows where end_at is null
)
select c.case_id, c.account_id, c.opened_at,
       case when r.case_id is null then greatest(c.opened_at, coalesce(e.last_event_at, c.opened_at)) end
           as settled_at
from cases c
left join last_events e using (case_id)
left join running r using (case_id);

create or replace table sla_run_obligations as
select o.*, k.settled_at
from run_obligation_rows o join sla_run_cases k using (case_id)
order by k.settled_at nulls last, o.case_id, o.seq;

create or replace table sla_run_case_facts as
select f.*, k.settled_at
from run_case_fact_rows f join sla_run_cases k using (case_id)
order by k.settled_at nulls last, f.case_id;

create or replace table sla_run as
select cast($as_of as timestamptz) as as_of, cast($config as varchar) as config, cast($format as integer) as format
