-- W and its inverse from the bucket tables of calendars.lookup_tables (registered as
-- calendar_steps and calendar_reaches), by equality on a bucket key: the same values as the
-- ASOF joins on calendar_intervals they replace. The numbers in braces are the tables' widths
-- and key ranges, filled in by obligations.run_stages.
--
-- Each table has one row per calendar and bucket, keyed cal * buckets + the bucket's number
-- from 0: one integer to join on, which DuckDB hashes and compares faster than two columns.
--
-- step_key(cal, t): the key of the W bucket of instant t (none before 1970, where no interval starts);
-- work_at(t, candidates): W(t) = cum_before + min(t - start, length) of the last interval
-- starting at or before t, the bucket's second candidate when t has reached its start.
create or replace temp macro step_key(cal, t) as
    case when t >= 0 then cal * ({last} - {first} + 1) + least(greatest(t // {width}, {first}), {last}) - {first} end;

create or replace temp macro work_at(t, start1, len1, cum1, start2, len2, cum2) as
    case when t >= start2 then cum2 + least(t - start2, len2) else cum1 + least(t - start1, len1) end;

-- reach_key(cal, w): the key of the inverse bucket of w working seconds (w > 0); key -1 has
-- no candidate (no deadline: calendars.lookup_tables);
-- reach_at(w, candidates): the earliest instant whose W is w, in the last working interval
-- whose cum_before is below w (null when none is)
create or replace temp macro reach_key(cal, w) as cal * ({work_last} + 1) + least(w // {work_width}, {work_last});

create or replace temp macro reach_at(w, start1, cum1, start2, cum2) as
    case when w > cum2 then start2 + (w - cum2) else start1 + (w - cum1) end
