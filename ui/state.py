"""What every page shares: the store connection, the snapshot, the global filters, cached metrics.

The global filters are widgets drawn once by dashboard.py, bound to the URL
(`bind="query-params"`), so a view can be shared by copying the address. Pages read
them through `current_filters()` and call metrics through `metric(function, ...)`, which
checks the function and its dimensions and grain against the registry
(`metrics.subjects.registry`) and caches results per snapshot and arguments
(`st.cache_data`, bounded). Deltas compare with `filters.previous()`, the registry's one
previous-period rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast
from zoneinfo import ZoneInfo

import streamlit as st

from metrics.engine.freshness import DataBounds, data_bounds
from metrics.engine.snapshot import Snapshot, take_snapshot
from metrics.storage.ingest import ensure_store
from metrics.storage.store import connect_published, dashboard_db, latest_load, store_version
from metrics.subjects import registry  # importing metrics.subjects imports every subject: the registry is complete
from metrics.subjects.filters import Filters

if TYPE_CHECKING:
    import duckdb

# Metrics a page may ask for (a whitelist: the registry's functions; names come from code, never from the URL).
METRICS: dict[str, Callable[..., Any]] = {name: m.function for name, m in registry.METRICS.items()}


def _metric_function(name: str) -> Callable[..., Any]:
    """The function behind a metric name (one lookup point, which bench/app.py times)."""
    return METRICS[name]


T = TypeVar("T")
P = ParamSpec("P")
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
def _bounds(store: str) -> DataBounds:
    return data_bounds(get_connection(store))


def bounds() -> DataBounds:
    """Latest instant, options of the filters: what the sidebar needs before anything else (cached per version)."""
    return _bounds(store_key())


def as_of_instant() -> dt.datetime:
    """The as-of moment: the data's latest instant, or the end of the chosen local day."""
    b = bounds()
    chosen = st.session_state.get("as_of")
    if not chosen or chosen >= b.local_date(b.latest):
        return b.latest
    end = dt.datetime.combine(chosen + dt.timedelta(days=1), dt.time(), ZoneInfo(b.timezone))
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


_FILTERS = "$filters"  # marks an encoded Filters argument in the cache key


def _encode(value: object) -> object:
    if isinstance(value, Filters):
        return {_FILTERS: _filters_key(value)}
    if isinstance(value, tuple):
        return list(value)
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict) and _FILTERS in value:
        return _filters_from_key(value[_FILTERS])
    if isinstance(value, list):
        return tuple(value)
    return value


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _run(name: str, store: str, as_of_iso: str, filters_key: str, kwargs_json: str) -> Any:
    snap = get_snapshot(store, as_of_iso)
    kwargs = {key: _decode(value) for key, value in json.loads(kwargs_json).items()}
    return _metric_function(name)(snap, filters=_filters_from_key(filters_key) or Filters(), **kwargs)


def metric(function: Callable[Concatenate[Snapshot, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(snapshot, *args, **kwargs)` for a registered metric, cached per snapshot and arguments.

    `function` must be registered in `metrics.subjects.registry`; its `by` and `grain` are
    checked against the dimensions and grains registered for it. Without `filters`, the
    sidebar's current filters apply. Cached frames are shared between sessions: never
    modify what this returns.
    """
    registered = registry.get(function)
    bound = inspect.signature(registered.function).bind(None, *args, **kwargs).arguments
    bound.pop(next(iter(bound)))  # the snapshot's place
    filters = bound.pop("filters", None)
    if "by" in bound:
        registry.check_dimensions(registered.name, cast(Any, bound["by"]))
    if "grain" in bound:
        registry.check_grain(registered.name, cast(Any, bound["grain"]))
    result = _run(
        registered.name,
        store_key(),
        as_of_instant().isoformat(),
        _filters_key(filters if isinstance(filters, Filters) else current_filters()),
        json.dumps({k: _encode(v) for k, v in bound.items()}, default=str, sort_keys=True),
    )
    return cast(T, result)


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
