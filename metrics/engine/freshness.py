"""How current the stored data is: the default as-of moment and the Data page's freshness."""

from __future__ import annotations

import datetime as dt

import duckdb


def latest_instant(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """The latest instant anywhere in the case log: the natural default for `as_of`."""
    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")
        value = cur.execute("""
            select greatest(
                (select max(opened_at) from cases),
                (select max(closed_at) from cases),
                (select max("at") from responses),
                (select max("at") from case_changes))
        """).fetchall()[0][0]
    finally:
        cur.close()
    if value is None:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
