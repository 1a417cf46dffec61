"""How current the stored data is: the default as-of moment, the Data page's freshness, the sidebar's bounds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast
from zoneinfo import ZoneInfo

import duckdb

from metrics.storage.store import stored_config


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
    return cast(dt.datetime, value).astimezone(dt.UTC)


@dataclass(frozen=True)
class DataBounds:
    """What the sidebar needs before anything else: the data's time span and the filters' options."""

    latest: dt.datetime  # the latest instant of the case log (UTC): the default as-of
    first: dt.datetime  # the first case's opening (UTC; `latest` without cases)
    timezone: str  # the reporting timezone days and periods are cut in
    accounts: dict[str, str] = field(default_factory=dict)  # account id -> name, by name
    account_advisors: dict[str, str | None] = field(default_factory=dict)  # account id -> its advisor
    advisors: tuple[str, ...] = ()  # sorted
    regions: tuple[str, ...] = ()  # the configured calendars, sorted
    packages: tuple[str, ...] = ()  # by the packages' rank

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The date of `instant` in the reporting timezone."""
        return instant.astimezone(ZoneInfo(self.timezone)).date()


def data_bounds(con: duckdb.DuckDBPyConnection) -> DataBounds:
    """The store's DataBounds: latest and first instant, accounts, advisors, regions, packages."""
    cur = con.cursor()
    try:
        accounts = cur.execute("select account_id, name, region, advisor from accounts order by name").fetchall()
        first = cur.execute("select min(opened_at) from cases").fetchall()[0][0]
    finally:
        cur.close()
    config = stored_config(con)
    latest = latest_instant(con)
    return DataBounds(
        latest=latest,
        first=first.astimezone(dt.UTC) if first is not None else latest,
        timezone=config.reporting_timezone,
        accounts={a: n for a, n, _, _ in accounts},
        account_advisors={a: adv for a, _, _, adv in accounts},
        advisors=tuple(sorted({adv for _, _, _, adv in accounts if adv})),
        regions=tuple(sorted(config.calendars)),
        packages=tuple(sorted(config.packages, key=lambda p: config.packages[p].rank)),
    )
