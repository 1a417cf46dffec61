"""A dataset with about 5,000 accounts and a few cases each: where pages grew unreadably.

The bundled generator's book of business has 60 accounts whatever the case count, so
each of its accounts is fanned out into `clones` accounts (`ACC-0001-07`, "Redwood
Logistics Inc. 07") with the same region, advisor, terms, suspensions and engagements;
the account's cases and their contacts are dealt round-robin over its clones. Responses
and changes follow their cases unchanged. Every value is copied as text, so the files
keep the generator's exact formats.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from metrics.sqlfiles import literal
from metrics.tools.sample import generate_sample

# table -> the SELECT that fans it out; `clone` is 0..clones-1, `tag` its two-digit suffix
_FANNED = {
    "accounts": "SELECT account_id || '-' || tag AS account_id, name || ' ' || tag AS name, region, advisor "
                "FROM accounts, clones",
    "subscriptions": "SELECT account_id || '-' || tag AS account_id, package, start_date, end_date "
                     "FROM subscriptions, clones",
    "standing": "SELECT account_id || '-' || tag AS account_id, suspended_from, suspended_to FROM standing, clones",
    "engagements": "SELECT account_id || '-' || tag AS account_id, date, kind, quantity, note "
                   "FROM engagements, clones",
    "contacts": "SELECT contact_id || '-' || tag AS contact_id, account_id || '-' || tag AS account_id, "
                "name, email, authorized, authorized_from, authorized_to FROM contacts, clones",
    "cases": "SELECT * EXCLUDE (tag) REPLACE (account_id || '-' || tag AS account_id, "
             "contact_id || '-' || tag AS contact_id) "
             "FROM (SELECT *, lpad(CAST((row_number() OVER (PARTITION BY account_id ORDER BY case_id) - 1) "
             "% $clones AS VARCHAR), 2, '0') AS tag FROM cases) ORDER BY case_id",
    "responses": "SELECT * FROM responses",
    "case_changes": "SELECT * FROM case_changes",
}


def write_many_accounts(out: Path, clones: int = 84, cases: int = 15_000, seed: int = 42) -> Path:
    """Write the fanned-out dataset (60 x `clones` accounts, `cases` cases) as CSV into `out`; returns `out`."""
    source = out.parent / f"{out.name}-source"
    generate_sample(source, seed=seed, cases=cases, fmt="csv")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.toml").write_text((source / "config.toml").read_text())
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE clones AS SELECT lpad(CAST(range AS VARCHAR), 2, '0') AS tag FROM range(?)",
                    [clones])
        for table, select in _FANNED.items():
            src, dst = literal(str(source / f"{table}.csv")), literal(str(out / f"{table}.csv"))
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv({src}, all_varchar = true)")
            con.execute(f"COPY ({select.replace('$clones', str(int(clones)))}) TO {dst} (HEADER, FORCE_QUOTE *)")
    finally:
        con.close()
    return out
