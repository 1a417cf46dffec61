"""Weekly update delivery: the account-weeks owed an update, and whether it was sent on time.

An account owes one update per ISO week (Monday to Sunday, local dates in the reporting
timezone) on any day of which it holds a term that promises `weekly_updates`: the term's
package as defined on the term's first local date, versions and the account's overrides
included (as its entitlements are read), so a version that adds the feature binds the
terms that start from its date on. A week is owed once it has ended by the snapshot's
as-of and belongs to the period when its last day (Sunday) does. It is **sent** when the
workspace records an update marked sent for it (the first send counts; later sends are
corrections), and **on time** when that first send came by the end of the Monday after the week, in the reporting
timezone: before the Tuesday's local midnight, e.g. the week of
Monday 2026-11-16 is on time until 2026-11-23 23:59:59.999999 America/Denver. The advisor
is the account's advisor as loaded now (accounts.advisor).

The workspace is live human input, not part of the loaded data: a send counts as soon as
it is recorded, whatever the snapshot's as-of (the data's as-of usually trails the day an
advisor sends, and an update sent after a past as-of is still sent, late or not). The as-of
decides only which weeks are owed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from metrics import sqlfiles
from metrics.engine.snapshot import Snapshot
from metrics.subjects.filters import Filters, local_midnight
from metrics.subjects.registry import MISSING, MetricDefinition, metric
from metrics.subjects.utilization import WEEKLY_UPDATES, entitlement_table
from metrics.workspace import Workspace

OWED_SQL = sqlfiles.read(__file__, "weekly_delivery_owed.sql")
DELIVERY_COLUMNS = ["account_id", "account_name", "advisor", "week_start", "owed", "sent_at", "sent_by", "on_time"]
SUMMARY_COLUMNS = ["owed", "sent", "on_time", "sent_share", "on_time_share"]
ON_TIME_RULE = (
    "On time: the first send of a week's update came by the end of the Monday after the week "
    "(before Tuesday 00:00 in the reporting timezone)."
)

DEFINITIONS = (
    MetricDefinition(
        "weekly_updates_owed",
        "Weekly updates owed",
        "account-weeks: an ISO week (reporting timezone) that has ended by as-of, of an account holding on any day "
        "of it a term that promises weekly_updates (its package's definition in force on the term's first local "
        "date, versions and the account's overrides included)",
        "account-weeks owed",
        None,
        "the week's last day (Sunday)",
    ),
    MetricDefinition(
        "weekly_updates_sent",
        "Weekly updates sent",
        "account-weeks owed whose update was marked sent in the workspace (at any time: the as-of decides only "
        "which weeks are owed)",
        "account-weeks owed with an update sent",
        "account-weeks owed",
        "the week's last day (Sunday)",
        "The first send counts; a later send of the same week is a correction.",
    ),
    MetricDefinition(
        "weekly_updates_on_time",
        "Weekly updates sent on time",
        "account-weeks owed whose first send came by the end of the Monday after the week (reporting timezone)",
        "account-weeks owed sent before the Tuesday's local midnight",
        "account-weeks owed",
        "the week's last day (Sunday)",
        "A week not yet past its Monday and not sent counts as owed and not (yet) on time.",
    ),
)


def monday(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def week_due(week_start: dt.date, timezone: str) -> dt.datetime:
    """The instant a week's update is late from: the Tuesday after the week, 00:00 local (as UTC)."""
    return local_midnight(week_start + dt.timedelta(days=8), timezone)


def ended_weeks(first: dt.date, last: dt.date, as_of: dt.datetime, timezone: str) -> list[dt.date]:
    """Mondays of the weeks whose Sunday lies in [first, last] and that ended by `as_of` (local midnight)."""
    weeks: list[dt.date] = []
    week = monday(first)  # its Sunday is on or after `first`
    while week + dt.timedelta(days=6) <= last:
        if local_midnight(week + dt.timedelta(days=7), timezone) > as_of:
            break
        weeks.append(week)
        week += dt.timedelta(days=7)
    return weeks


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": pd.Series(dtype=object),
            "account_name": pd.Series(dtype=object),
            "advisor": pd.Series(dtype=object),
            "week_start": pd.Series(dtype=object),
            "owed": pd.Series(dtype=bool),
            "sent_at": pd.Series(dtype="datetime64[us, UTC]"),
            "sent_by": pd.Series(dtype=object),
            "on_time": pd.Series(dtype=bool),
        }
    )


def _first_day(snap: Snapshot, packages: list[str]) -> dt.date | None:
    first = snap.query("select min(start_date) as first from subscriptions where list_contains(?, package)",
                       [packages])
    day: dt.date | None = first.column("first")[0].as_py()
    return day


@metric(*DEFINITIONS)
def weekly_delivery(snap: Snapshot, filters: Filters = Filters(), workspace: Workspace | None = None) -> pd.DataFrame:
    """One row per account-week owed in the filtered period, with its first send and whether it was on time.

    Columns: account_id, account_name, advisor, week_start (date, the week's Monday, local),
    owed (always True), sent_at (UTC; NaT when not sent), sent_by (None when not
    sent), on_time (bool). Ordered by account_id, week_start. Severities do not apply
    (weeks are not cases); a package filter keeps the weeks of terms of those packages.
    With `workspace` None nothing is sent.
    """
    timezone = snap.reporting_timezone
    packages = sorted({t.package for t in snap.config.terms if WEEKLY_UPDATES in t.spec.features})
    as_of_local = snap.as_of.astimezone(ZoneInfo(timezone)).date()
    first = filters.start or (_first_day(snap, packages) if packages else None)
    last = min(filters.end, as_of_local) if filters.end is not None else as_of_local
    if first is None or not packages:
        return _empty()
    weeks = ended_weeks(first, last, snap.as_of, timezone)
    if not weeks:
        return _empty()
    account_filters = dataclasses.replace(filters, severities=(), start=None, end=None)
    where, params = account_filters.where("t")
    if snap.accounts is not None:
        where += " and list_contains(?, t.account_id)"
        params.append(list(snap.accounts))
    condition, named = sqlfiles.named(where, params, "f")
    with snap.reader() as cur:
        cur.register("package_entitlements", entitlement_table(snap.config))
        try:
            owed = cur.sql(OWED_SQL.replace("{where}", condition), params={"weeks": weeks, **named}).to_arrow_table()
        finally:
            cur.unregister("package_entitlements")
    owed = owed.to_pandas()
    if owed.empty:
        return _empty()
    owed["week_start"] = [pd.Timestamp(w).date() for w in owed["week_start"]]
    owed["advisor"] = owed["advisor"].astype(object).where(owed["advisor"].notna(), None)
    sent = _first_sends(workspace, owed["account_id"].unique().tolist())
    rows = owed.merge(sent, on=["account_id", "week_start"], how="left")
    due = pd.Series([week_due(w, timezone) for w in rows["week_start"]], index=rows.index)
    sent_at = pd.to_datetime(rows["sent_at"], utc=True).astype("datetime64[us, UTC]")
    on_time = sent_at.notna() & (sent_at < pd.to_datetime(due, utc=True).astype("datetime64[us, UTC]"))
    return pd.DataFrame(
        {
            "account_id": rows["account_id"].astype(object),
            "account_name": rows["account_name"].astype(object),
            "advisor": rows["advisor"],
            "week_start": rows["week_start"],
            "owed": True,
            "sent_at": sent_at,
            "sent_by": rows["sent_by"].astype(object).where(rows["sent_by"].notna(), None),
            "on_time": on_time.astype(bool),
        }
    ).reset_index(drop=True)


def _first_sends(workspace: Workspace | None, account_ids: list[str]) -> pd.DataFrame:
    """The first send per account and week: account_id, week_start, sent_at, sent_by."""
    columns = ["account_id", "week_start", "sent_at", "sent_by"]
    if workspace is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    sent = workspace.sent_frame(account_ids)
    first = sent.sort_values(["sent_at", "sent_id"]).drop_duplicates(["account_id", "week_start"], keep="first")
    return first[columns].astype({"sent_at": object})


def delivery_summary(rows: pd.DataFrame, by: str | None = "advisor") -> pd.DataFrame:
    """weekly_delivery's rows counted: owed, sent, on_time, sent_share, on_time_share (of owed).

    Per `by` (a column of the rows, e.g. advisor; a missing advisor groups as "(none)"),
    largest `owed` first, or one row for all with `by` None.
    """
    # flags summed (a named aggregation costs several milliseconds on every page that shows the tiles)
    sent = rows["sent_at"].notna().to_numpy(dtype="int64")
    on_time = rows["on_time"].astype(bool).to_numpy(dtype="int64")
    keys: list[str] = []
    if by is not None:
        keys = [by]
        frame = pd.DataFrame({by: rows[by].astype(object).where(rows[by].notna(), MISSING).to_numpy(),
                              "owed": np.ones(len(rows), dtype="int64"), "sent": sent, "on_time": on_time})
        grouped = frame.groupby(keys, as_index=False).sum()
    else:
        grouped = pd.DataFrame({"owed": [len(rows)], "sent": [int(sent.sum())], "on_time": [int(on_time.sum())]})
    grouped = grouped.astype({"owed": "int64", "sent": "int64", "on_time": "int64"})
    owed = grouped["owed"].where(grouped["owed"] > 0)
    grouped["sent_share"] = grouped["sent"] / owed
    grouped["on_time_share"] = grouped["on_time"] / owed
    if keys:
        grouped = grouped.sort_values(["owed", *keys], ascending=[False, True], ignore_index=True)
    return grouped[[*keys, *SUMMARY_COLUMNS]]
