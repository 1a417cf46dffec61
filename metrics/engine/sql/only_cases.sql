-- Narrow a cursor to the cases listed in $cases: temp tables of their rows hide the store's case
-- tables of the same names on this cursor only, so the engine's stages, reported_severity.sql and
-- case_facts.sql scan thousands of rows instead of millions. Created after clock_cursor, whose
-- calendars start from the first opening of the whole store, as in a full run. The other tables
-- (accounts, subscriptions, standing, contacts) are per account or contact and stay whole.
-- Only the columns those queries read are copied: a response's id, author, channel and extra
-- fields would double the time of the copy.
create temp table cases as
select * exclude (extra) from main.cases where case_id in (select unnest(cast($cases as varchar[])));

create temp table case_changes as
select * exclude (extra) from main.case_changes where case_id in (select unnest(cast($cases as varchar[])));

create temp table responses as
select case_id, "at", author_type, public from main.responses where case_id in (select unnest(cast($cases as varchar[])))
