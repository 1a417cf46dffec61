"""What every page shares: the store connection, the snapshot, the global filters, cached metrics.

The global filters are widgets drawn once by dashboard.py, bound to the URL
(`bind="query-params"`), so a view can be shared by copying the address. Pages read
them through `current_filters()` and call metrics through `metric(function, ...)`, which
checks the function and its dimensions and grain against the registry
(`metrics.subjects.registry`) and caches results per snapshot and arguments
(`st.cache_data`, bounded). Deltas compare with `filters.previous()`, the registry's one
previous-period rule.

The viewer's scope (ui/access.py) is enforced here, server-side and in one place: every
`metric()` and `report()` call has its filters intersected with the viewer's accounts
(`metrics.subjects.scope.Scope.restrict`), and `bounds()` gives the sidebar only the
accounts and advisors inside the scope, so no page can forget it and neither the address
bar nor a widget can widen it.
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
from metrics.subjects.scope import Scope
from ui import access, audit

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


def viewer() -> access.Viewer:
    """Who runs this session (set by the frame's sign-in gate; local mode without sign-in)."""
    return access.current()


def scope() -> Scope:
    """The accounts this session may see (an advisor's book is read from the store's accounts)."""
    return viewer().scope(_bounds(store_key()).account_advisors)


def _scoped_bounds(whole: DataBounds, who: access.Viewer, allowed: Scope) -> DataBounds:
    if allowed.unrestricted:
        return whole
    accounts = {a: n for a, n in whole.accounts.items() if allowed.allows(a)}
    advisors = (who.advisor,) if who.role == "advisor" and who.advisor in whole.advisors else ()
    return dataclasses.replace(
        whole,
        accounts=accounts,
        account_advisors={a: adv for a, adv in whole.account_advisors.items() if a in accounts},
        advisors=cast(tuple[str, ...], advisors),
    )


def bounds() -> DataBounds:
    """Latest instant, options of the filters: what the sidebar needs before anything else (cached per version).

    Only the accounts (and advisors) inside the viewer's scope: a subscriber's options name
    their own accounts and no advisor; an advisor's name their book and themselves.
    """
    return _scoped_bounds(_bounds(store_key()), viewer(), scope())


ADDRESS_KEYS = ("account", "weekly_account", "advisor")  # query parameters that name accounts or advisors


def out_of_scope_in_address() -> bool:
    """True when the address names an account or advisor outside a restricted scope (the widgets drop it)."""
    if scope().unrestricted:
        return False
    b = bounds()
    accounts = set(b.accounts) | set(b.accounts.values())
    allowed = {"account": accounts, "weekly_account": accounts, "advisor": set(b.advisors)}
    return any(v and v not in allowed[key] for key in ADDRESS_KEYS for v in st.query_params.get_all(key))


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
    allowed = scope()
    advisors = tuple(state.get("advisor") or ())
    if not allowed.unrestricted:  # the widgets offer nothing else; this holds whatever state says
        advisors = tuple(a for a in advisors if a in bounds().advisors)
    return Filters(
        start=start if with_period else None,
        end=end if with_period else None,
        packages=tuple(state.get("package") or ()),
        severities=tuple(int(s) for s in state.get("severity") or ()),
        regions=tuple(state.get("region") or ()),
        advisors=advisors,
        accounts=allowed.keep(state.get("account") or ()),
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
    allowed = scope()
    filters = allowed.restrict(cast(Filters, bound.pop("filters", None) or current_filters()))
    for key, value in bound.items():  # any other Filters argument (a previous period) is scoped as well
        if isinstance(value, Filters):
            bound[key] = allowed.restrict(value)
    if "by" in bound:
        registry.check_dimensions(registered.name, cast(Any, bound["by"]))
    if "grain" in bound:
        registry.check_grain(registered.name, cast(Any, bound["grain"]))
    result = _run(
        registered.name,
        store_key(),
        as_of_instant().isoformat(),
        _filters_key(filters),
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
    A restricted viewer's `account_ids` keep only the accounts in scope (an advisor's zip holds
    their book only); a report that cannot be narrowed to accounts is refused them.
    """
    if not function.__module__.startswith("metrics.reports."):
        raise ValueError(f"{function.__qualname__} is not a report of metrics.reports")
    allowed = scope()
    if not allowed.unrestricted:
        if "account_ids" not in kwargs and not any(isinstance(v, Filters) for v in kwargs.values()):
            raise PermissionError(f"{function.__qualname__} cannot be narrowed to the viewer's accounts")
        kwargs = {k: allowed.restrict(v) if isinstance(v, Filters) else v for k, v in kwargs.items()}
        if "account_ids" in kwargs:
            kwargs["account_ids"] = allowed.keep(kwargs["account_ids"])
    encoded = json.dumps(kwargs, default=str, sort_keys=True)
    return cast(T, _report(function.__module__, function.__qualname__, store_key(), encoded))


# Download buttons whose click is recorded in the audit trail: these keys, and every table's
# "Download CSV" (ui.components keys it `<table>_csv`). What each file holds is described
# from the widgets that chose it (the weekly update's account and week, the advisor's zip).
DOWNLOADS: dict[str, tuple[str, tuple[str, ...]]] = {
    "weekly_md": ("weekly update (Markdown)", ("weekly_account", "weekly_week")),
    "weekly_html": ("weekly update (HTML)", ("weekly_account", "weekly_week")),
    "weekly_zip": ("advisor's weekly updates (zip)", ("weekly_advisor", "weekly_week")),
    "gov_pack": ("governance review (HTML)", ()),
}


def _clicked_downloads() -> list[str]:
    state = st.session_state
    keys = [k for k in state if isinstance(k, str) and (k in DOWNLOADS or k.endswith("_csv"))]
    return sorted(k for k in keys if state.get(k) is True)


def record_downloads(page: str) -> None:
    """Append each download clicked in this run to the audit trail: page, file, the filters it was cut with."""
    clicked = _clicked_downloads()
    if not clicked:
        return
    who = viewer()
    filters = scope().restrict(current_filters())
    shown = {k: v for k, v in dataclasses.asdict(filters).items() if v not in (None, ())}
    for key in clicked:
        label, chosen_by = DOWNLOADS.get(key, (f"table {key.removesuffix('_csv')} (CSV)", ()))
        what: dict[str, object] = {"page": page, "file": label}
        what.update({k: st.session_state.get(k) for k in chosen_by})
        what["filters"] = json.dumps(shown, default=str)
        audit.record("download", who.identity, who.role, what)
