-- A snapshot as of $as_of derived from the stored run ($run_as_of, sql/stored_run.sql), of the
-- listed $accounts when not null. A case settled by $as_of has the stored rows; a case opened
-- after it does not exist; every other case (touched after $as_of, or with a clock running at
-- it) is run through the engine again, alone: these are the open queue at $as_of and the few
-- cases with a late message or change. At $run_as_of itself every stored row holds.
-- Without $accounts, the stored rows that hold are a prefix of the stored tables, which the
-- snapshot slices from its copy in memory; with $accounts they are read here.

-- the cases to run again
select case_id
from sla_run_cases
where opened_at <= $as_of and $as_of <> $run_as_of
  and (settled_at is null or settled_at > $as_of)
  and (cast($accounts as varchar[]) is null or list_contains($accounts, account_id))
order by case_id;

-- the stored obligations that hold at $as_of
select * exclude (settled_at)
from sla_run_obligations
where (settled_at <= $as_of or $as_of = $run_as_of)
  and (cast($accounts as varchar[]) is null or list_contains($accounts, account_id));

-- the stored case facts that hold at $as_of
select * exclude (settled_at)
from sla_run_case_facts
where (settled_at <= $as_of or $as_of = $run_as_of)
  and (cast($accounts as varchar[]) is null or list_contains($accounts, account_id))
