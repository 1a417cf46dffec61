-- The one definition of "the package in force": package_in_force(account, moment) is the package
-- of `account`'s subscription term that holds the local date of the instant `moment` in the
-- account's region calendar (UTC when the region has no calendar), or null without such a term.
-- Terms of one account never overlap (ingest quarantines an overlapping one), so it is one value.
--
-- Users: a case's package is the one in force at its opening (obligations.sql states this rule as a
-- join, for speed, and case_facts reads it from there);
-- a suspension's at its start (subjects' governance_suspended_accounts.sql); the weekly update's
-- heading on the week's last local day (reports/weekly.py). clock_cursor creates it on every
-- engine and snapshot cursor, beside calendar_zones which it reads.
--
-- A macro's arguments are expanded inside its subquery: the tables here carry aliases (pif_*)
-- that a caller's expression cannot mean, so `package_in_force(s.account_id, ...)` stays the caller's `s`.
create or replace temp macro package_in_force(account, moment) as (
    select pif_term.package
    from subscriptions pif_term
    join accounts pif_account on pif_account.account_id = pif_term.account_id
    left join calendar_zones pif_zone on pif_zone.calendar = pif_account.region
    where pif_term.account_id = account
      and cast(timezone(coalesce(pif_zone.timezone, 'UTC'), moment) as date)
          between pif_term.start_date and pif_term.end_date
);

-- terms_account(account): the account itself when config.toml has [[overrides]] for it, else null.
-- sla_targets (engine/calendars.py target_table) holds each package's terms over spans of local
-- dates with account_id null, and an overridden account's own rows for every package and date;
-- a case takes the row of (package, terms_account(account)) whose span holds its local opening
-- date (docs/sla-clock.md, "Terms that change over time").
create or replace temp macro terms_account(account) as (
    case when exists (select 1 from sla_targets ta_target where ta_target.account_id = account) then account end
)
