-- Do the obligations a cluster computed (registered as given_rows) cover exactly the cases the
-- engine would compute as of $as_of? Those are the cases opened by then whose account's region
-- is a calendar (obligations.sql's sla_cases); each has its initial obligation (seq 0).
-- Returns: expected cases, cases given (with an initial obligation), given cases the data lacks.
with expected as (
    select c.case_id
    from cases c
    join accounts a using (account_id)
    join calendar_zones z on z.calendar = a.region
    where c.opened_at <= $as_of
),
given as (
    select distinct case_id from given_rows where seq = 0
)
select (select count(*) from expected),
       (select count(*) from given),
       (select count(*) from given_rows g where not exists (select 1 from expected e where e.case_id = g.case_id))
