"""What every page shares: the store connection, the snapshot, the global filters, cached metrics.

The global filters are widgets drawn once by dashboard.py, bound to the URL
(`bind="query-params"`), so a view can be shared by copying the address. Pages read
them through `current_filters()` and call metrics through `metric()`, which caches
results per snapshot and filters (`st.cache_data`, bounded).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import duckdb
import streamlit as st

from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import Snapshot, take_snapshot
from metrics.storage.store import connect_published, dashboard_db, ensure_store, latest_load, store_version
from metrics.subjects import active, attainment, escalations, governance, utilization
from metrics.subjects.filters import Filters

# Metrics a page may ask for by name (a whitelist: names come from code, never from the URL).
METRICS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        attainment.attainment_table, attainment.attainment_summary, attainment.response_times,
        attainment.breached_obligations,
        escalations.escalation_events, escalations.escalation_trend, escalations.escalation_rate,
        escalations.escalation_summary, escalations.time_to_first_escalation, escalations.repeat_escalations,
        utilization.utilization_by_term, utilization.utilization_ranking, utilization.contacts_over_allotment,
        active.active_tickets, active.active_summary,
        governance.reclassifications, governance.reclassified_cases, governance.development_tickets,
        governance.paused_share, governance.suspended_accounts, governance.non_authorized_requests,
        governance.account_health,
    )
}




def _metric_function(name: str) -> Callable[..., Any]:
    """The function behind a metric name (one lookup point, which bench/app.py times)."""
    return METRICS[name]


T = TypeVar("T")
DEFAULT_PERIOD_DAYS = 90
REFRESH_CHECK_SECONDS = 30  # how often an open page looks for a newly published version of its store


@st.cache_resource(show_spinner="Loading the bundled sample data into DuckDB…")
def _built(db_path: str) -> str:
    """Build the default store from the bundled sample on a first start (once per process)."""
    return str(ensure_store(db_path))


@st.cache_resource(max_entries=4)
def _open(db_path: str, version: str) -> duckdb.DuckDBPyConnection:
    """One read-only connection per process and published version; queries use their own cursors.

    A new version (a load published beside the served one) gets a connection of its own;
    the old one stays valid for the sessions still finishing a run on it.
    """
    return connect_published(db_path)


def get_connection(store: str) -> duckdb.DuckDBPyConnection:
    """The connection for a store key (`path@version`, see `store_key`) or a plain path."""
    path, _, version = store.partition("@")
    return _open(path, version or store_version(path))


def store_path() -> str:
    """The store this session looks at: the one the Data page loaded last, else the default."""
    chosen = st.session_state.get("store_path")
    if chosen and not Path(chosen).exists():  # removed since (the Data page keeps only the last few)
        st.session_state.pop("store_path")
        st.session_state["store_gone"] = True
        chosen = None
    return str(chosen or dashboard_db())


def begin_run() -> None:
    """Pin the store's version for this script run and say once when a newer one was published.

    Every page of the run reads the same version, so a load published mid-run never
    mixes two versions on one screen; the next run switches to the new one.
    """
    path = store_path()
    if not Path(path).exists():
        _built(path)
    version = store_version(path)
    seen = st.session_state.get("store_seen")
    st.session_state["store_key"] = f"{path}@{version}"
    st.session_state["store_seen"] = (path, version)
    if st.session_state.pop("store_gone", False):
        st.toast("The dataset this view showed was replaced; showing the default data.", icon=":material/info:")
    elif seen and seen[0] == path and seen[1] != version:
        loaded = latest_load(get_connection(store_key()))
        when = f" at {loaded:%Y-%m-%d %H:%M} UTC" if loaded else ""
        st.toast(f"Data refreshed{when}.", icon=":material/refresh:")


def store_changed() -> bool:
    """True when a newer version of the session's store was published since this run began."""
    pinned: tuple[str, str] | None = st.session_state.get("store_seen")
    return pinned is not None and store_version(pinned[0]) != pinned[1]


def store_key() -> str:
    """`path@version` of the store this run reads (what every cache below is keyed on)."""
    key = st.session_state.get("store_key")
    if not key:
        begin_run()
        key = st.session_state["store_key"]
    return str(key)


def connection() -> duckdb.DuckDBPyConnection:
    return get_connection(store_key())


@st.cache_resource(show_spinner="Computing every SLA clock as of the chosen moment…", max_entries=4)
def get_snapshot(store: str, as_of_iso: str) -> Snapshot:
    """The engine's run for one moment, shared by every session looking at that moment."""
    return take_snapshot(get_connection(store), as_of_iso)


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def data_bounds(store: str) -> dict[str, Any]:
    """Latest instant, options of the filters: what the sidebar needs before anything else."""
    con = get_connection(store)
    cur = con.cursor()
    try:
        accounts = cur.execute("select account_id, name, region, advisor from accounts order by name").fetchall()
        first = cur.execute("select min(opened_at) from cases").fetchall()[0][0]
    finally:
        cur.close()
    from metrics.storage.store import stored_config

    config = stored_config(con)
    return {
        "latest": latest_instant(con).isoformat(),
        "first": (first or latest_instant(con)).isoformat(),
        "accounts": {a: n for a, n, _, _ in accounts},
        "account_advisors": {a: adv for a, _, _, adv in accounts},
        "advisors": sorted({adv for _, _, _, adv in accounts if adv}),
        "regions": sorted(config.calendars),
        "packages": sorted(config.packages, key=lambda p: config.packages[p].rank),
        "timezone": config.reporting_timezone,
    }


def bounds() -> dict[str, Any]:
    return data_bounds(store_key())


def local_date(instant_iso: str, timezone: str) -> dt.date:
    return dt.datetime.fromisoformat(instant_iso).astimezone(ZoneInfo(timezone)).date()


def as_of_instant() -> dt.datetime:
    """The as-of moment: the data's latest instant, or the end of the chosen local day."""
    b = bounds()
    latest = dt.datetime.fromisoformat(b["latest"])
    chosen = st.session_state.get("as_of")
    if not chosen or chosen >= local_date(b["latest"], b["timezone"]):
        return latest
    end = dt.datetime.combine(chosen + dt.timedelta(days=1), dt.time(), ZoneInfo(b["timezone"]))
    return end.astimezone(dt.UTC)


def snapshot() -> Snapshot:
    return get_snapshot(store_key(), as_of_instant().isoformat())


def current_filters(with_period: bool = True) -> Filters:
    """The sidebar's filters as a Filters value (the period only when `with_period`)."""
    state = st.session_state
    period: tuple[dt.date, ...] = tuple(state.get("period") or ())
    start, end = (period[0], period[1]) if len(period) == 2 else (None, None)
    return Filters(
        start=start if with_period else None,
        end=end if with_period else None,
        packages=tuple(state.get("package") or ()),
        severities=tuple(int(s) for s in state.get("severity") or ()),
        regions=tuple(state.get("region") or ()),
        advisors=tuple(state.get("advisor") or ()),
        accounts=tuple(state.get("account") or ()),
    )


def previous_filters(filters: Filters) -> Filters | None:
    """The period of the same length just before the current one (for deltas)."""
    if filters.start is None or filters.end is None:
        return None
    length = filters.end - filters.start + dt.timedelta(days=1)
    return dataclasses.replace(filters, start=filters.start - length, end=filters.start - dt.timedelta(days=1))


def _filters_key(filters: Filters | None) -> str:
    return json.dumps(dataclasses.asdict(filters), default=str) if filters else ""


def _filters_from_key(key: str) -> Filters | None:
    if not key:
        return None
    raw: dict[str, Any] = json.loads(key)
    for field in ("start", "end"):
        raw[field] = dt.date.fromisoformat(raw[field]) if raw[field] else None
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return Filters(**values)


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _run(name: str, store: str, as_of_iso: str, filters_key: str, kwargs_json: str) -> Any:
    snap = get_snapshot(store, as_of_iso)
    kwargs = json.loads(kwargs_json)
    for key, value in list(kwargs.items()):
        if key.endswith("filters") or key == "previous":
            kwargs[key] = _filters_from_key(value)
        elif isinstance(value, list):
            kwargs[key] = tuple(value)
    return _metric_function(name)(snap, filters=_filters_from_key(filters_key) or Filters(), **kwargs)


def metric(name: str, filters: Filters | None = None, **kwargs: Any) -> Any:
    """Run a metric of `METRICS` on the current snapshot, cached per snapshot, filters and arguments.

    Cached frames are shared between sessions: never modify what this returns.
    """
    encoded = {
        k: _filters_key(v) if isinstance(v, Filters) or (v is None and k == "previous") else v
        for k, v in kwargs.items()
    }
    return _run(
        name,
        store_key(),
        as_of_instant().isoformat(),
        _filters_key(filters if filters is not None else current_filters()),
        json.dumps(encoded, default=str, sort_keys=True),
    )


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Writing…")
def _report(module: str, name: str, store: str, kwargs_json: str) -> Any:
    function = getattr(importlib.import_module(module), name)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(kwargs_json).items()}
    return function(get_connection(store), **kwargs)


def report(function: Callable[..., T], **kwargs: Any) -> T:
    """`function(connection, **kwargs)` for a report of `metrics.reports`, cached per store version and arguments.

    Reports (the weekly update) run the engine on their own cut of the data rather than on
    the sidebar's snapshot; the cache is shared between sessions, so never modify the result.
    """
    if not function.__module__.startswith("metrics.reports."):
        raise ValueError(f"{function.__qualname__} is not a report of metrics.reports")
    encoded = json.dumps(kwargs, default=str, sort_keys=True)
    return cast(T, _report(function.__module__, function.__qualname__, store_key(), encoded))
