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

The dataset is part of the address too: `?dataset=<name>` names one of the stores the
server holds (`metrics.storage.datasets.find_dataset`: "sample" for the default store,
else a store the Data page made), so a reload or a shared link opens the same data; an
unknown name gives one neutral notice and the default data. A switch (a load, or the Data
page's list) resets As-of, Period and the filters the new data has no options for, before
the sidebar's widgets are drawn, so they show the new data's range.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import gc
import importlib
import inspect
import json
import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast
from zoneinfo import ZoneInfo

import streamlit as st

from metrics.engine.freshness import DataBounds, data_bounds
from metrics.engine.snapshot import Snapshot, take_snapshot
from metrics.reports.digest import last_complete_week
from metrics.reports.html import markdown_body
from metrics.reports.weekly import previous_week, week_bounds
from metrics.storage.datasets import (
    DEFAULT_DATASET,
    StoredDataset,
    dataset_name,
    describe_store,
    find_dataset,
    loaded_stores,
    stores_folder,
)
from metrics.storage.ingest import ensure_store
from metrics.storage.store import connect_published, dashboard_db, latest_load, store_version
from metrics.subjects import registry  # importing metrics.subjects imports every subject: the registry is complete
from metrics.subjects.filters import Filters
from metrics.subjects.scope import Scope
from metrics.subjects.weekly_delivery import weekly_delivery
from metrics.workspace import Workspace
from ui import access, audit
from ui.moments import Moments

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

_log = logging.getLogger(__name__)
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
    """The store this session looks at: the dataset it switched to (Data page, address), else the default."""
    chosen = st.session_state.get("store_path")
    if chosen and not Path(chosen).exists():  # removed since (the Data page keeps only the last few)
        st.session_state.pop("store_path")
        st.session_state["store_gone"] = True
        chosen = None
    return str(chosen or dashboard_db())


DATASET_PARAM = "dataset"  # the query parameter naming the dataset: ?dataset=bpic2013-20261205T101500123456Z


def select_dataset(name: str) -> bool:
    """Switch this session to the dataset `name` names (False if the server holds none such).

    Called from the Data page's callbacks, before the next run draws the sidebar: that run
    names the dataset in the address and resets the filters to the new data
    (`reset_filters_after_switch`).
    """
    path = find_dataset(name, dashboard_db())
    if path is None:
        return False
    _use_store(path)
    st.session_state["dataset_switched"] = True
    return True


def _use_store(path: Path) -> None:
    if path == dashboard_db():
        st.session_state.pop("store_path", None)
    else:
        st.session_state["store_path"] = str(path)


def _follow_address() -> None:
    """Make the session's store and the address's `dataset` agree, before anything reads the store.

    The address wins (a reload, a shared link, the browser's back button), except on the
    run right after a switch; an address without the parameter (a page change drops it)
    gets the session's dataset back. The default data is left out of the address.
    """
    named = st.query_params.get(DATASET_PARAM)
    if named is not None and not st.session_state.get("dataset_switched"):
        path = find_dataset(named, dashboard_db())
        if path is None:
            st.session_state["dataset_unknown"] = True
            st.session_state.pop("store_path", None)
        else:
            _use_store(path)
    name = dataset_name(Path(store_path()), dashboard_db())
    if name == DEFAULT_DATASET:
        if DATASET_PARAM in st.query_params:
            del st.query_params[DATASET_PARAM]
    elif st.query_params.get(DATASET_PARAM) != name:
        st.query_params[DATASET_PARAM] = name


def dataset_notice() -> str | None:
    """Once, after the address named a dataset the server does not hold: what to tell the user (nothing of the name)."""
    if st.session_state.pop("dataset_unknown", False):
        return "The address named a dataset this server does not hold (any more); showing the default data."
    return None


def begin_run() -> None:
    """Pin the store's version for this script run and say once when a newer one was published.

    Every page of the run reads the same version, so a load published mid-run never
    mixes two versions on one screen; the next run switches to the new one.
    """
    _follow_address()
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


# Moments held at once: the as-ofs people look at, and the week ends the Weekly update reads. A moment
# derived from the stored run holds 4 to 8 MB of its own at a million cases (per-case tables included),
# a full engine run (a store without the stored run) some 450 MB: the budget keeps two of those.
SNAPSHOTS_HELD = 64
SNAPSHOTS_BUDGET = 1 << 30  # bytes of the snapshots' own rows (Snapshot.own_bytes)
SNAPSHOT_SPINNER = "Computing every SLA clock as of the chosen moment…"
WEEKLY_THREAD = "weekly-snapshots"  # the thread that takes those two (the benchmark and tests wait for it by name)


# One thread builds every per-case table of the snapshots a page asks it to
# (`build_every_per_case_table`): one, so that many sessions changing the as-of at once queue
# these builds instead of taking every core from the pages.
_PER_CASE_BUILDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="per-case-tables")
# The snapshots whose build was queued, by identity (a snapshot compares by value and is not hashable).
_PER_CASE_ASKED: dict[int, weakref.ref[Snapshot]] = {}
_PER_CASE_ASKED_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def _moments() -> Moments:
    """The snapshots this process keeps (cleared with Streamlit's other caches)."""
    return Moments(SNAPSHOTS_HELD, SNAPSHOTS_BUDGET)


def get_snapshot(store: str, as_of_iso: str) -> Snapshot:
    """The engine's run for one moment, shared by every session looking at that moment."""
    return _moments().get((store, as_of_iso), lambda: take_snapshot(get_connection(store), as_of_iso))


def build_every_per_case_table(snap: Snapshot) -> None:
    """Have the builder thread build every per-case table of `snap` (this run's), once per snapshot.

    For a page that reads nearly all of them (Governance): built on the side while its first
    metrics run, the later ones find theirs ready or being built instead of building them one
    after another. Other pages build what their metrics read, when they read it: at a new as-of
    each table is a build over the re-run cases, and those a page does not read only take the
    cores from it (the Overview's as-of change took 1.04 to 1.18 s with every one built, 0.82 to 0.94 s without).
    """
    key = id(snap)
    with _PER_CASE_ASKED_LOCK:
        asked = _PER_CASE_ASKED.get(key)
        queue = asked is None or asked() is not snap
        if queue:  # forgotten when the snapshot is (before another object can take its id)
            _PER_CASE_ASKED[key] = weakref.ref(snap, lambda _: _PER_CASE_ASKED.pop(key, None))
    if queue:
        _PER_CASE_BUILDER.submit(_build_per_case_tables, snap)


def _build_per_case_tables(snap: Snapshot) -> None:
    """Build a snapshot's per-case tables; a failure is logged, never raised (a page builds what it asks for)."""
    try:
        snap.build_per_case_tables()
    except Exception:  # a store replaced or removed meanwhile: nobody waits for this thread
        _log.warning("the per-case tables of a snapshot were not built in the background", exc_info=True)


@st.cache_resource(max_entries=4, show_spinner=False)
def _weeks_taken(store: str) -> threading.Thread:
    """The book's snapshots the Weekly update page opens on, taken in the background once per store version.

    Its default week is the last complete one at the data's latest instant, and the update
    compares it with the week before: two more moments (0.8 s each at a million cases) the
    page would otherwise wait for. Only the latest data's weeks: other as-ofs take theirs when asked.
    """
    data = _bounds(store)
    week = f"{last_complete_week(data.latest, data.timezone):%G-W%V}"
    moments = [week_bounds(w, data.timezone)[1] for w in (week, previous_week(week))]
    # started inside this cached function: from its context, get_snapshot knows it is nested and draws no spinner
    run = contextvars.copy_context().run
    thread = threading.Thread(target=run, args=(_take_all, store, moments), name=WEEKLY_THREAD, daemon=True)
    thread.start()
    return thread


def _take_all(store: str, moments: list[dt.datetime]) -> None:
    """Take each moment's snapshot; a failure is logged, never raised (the page takes it again when asked)."""
    try:
        for moment in moments:
            _snapshot_at(store, moment)
    except Exception:  # a store replaced or removed meanwhile: nobody waits for this thread
        _log.warning("the weekly update's snapshots were not taken in the background", exc_info=True)


@st.cache_resource(show_spinner=False)
def settle_memory() -> threading.Thread:
    """Move every object alive after the process's first page out of the garbage collector's view, once.

    The modules, plotly's validators, the stored run and the caches are some 150,000 objects
    that live as long as the process; a full collection walked them all, about 90 ms during
    which every other thread waits for the interpreter, at an arbitrary moment of some page's
    run. Frozen, they are still freed when nothing refers to them (no reference cycle holds a
    snapshot or the stored run: tests/engine/test_snapshot.py); the collector looks only at
    what came after (`gc.freeze`). Collected first, so no cyclic garbage of the first page is
    kept for good; on a thread of its own, after the page, which does not wait for it.
    """
    thread = threading.Thread(target=_collect_and_freeze, name="settle-memory", daemon=True)
    thread.start()
    return thread


def _collect_and_freeze() -> None:
    gc.collect()
    gc.freeze()


def take_weekly_snapshots() -> None:
    """Start taking the Weekly update's default snapshots (once per store version; returns at once)."""
    _weeks_taken(store_key())


# A resource, not data: every call returns the one frozen DataBounds (never modified), where a cached
# copy is unpickled at each of the thirty calls a page's run makes (the as-of, the scope, the sidebar).
@st.cache_resource(ttl=600, max_entries=8, show_spinner=False)
def _bounds(store: str) -> DataBounds:
    return data_bounds(get_connection(store))


def viewer() -> access.Viewer:
    """Who runs this session (set by the frame's sign-in gate; local mode without sign-in)."""
    return access.current()


def _per_viewer(name: str, make: Callable[[access.Viewer, str], T]) -> T:
    """`make(viewer, store key)`, kept in the session while the viewer and the store version stay.

    A run asks for the scope and the bounds some fifty times, each time the same.
    """
    who, key = viewer(), store_key()
    held = st.session_state.get(name)
    if held is not None and held[0] is who and held[1] == key:
        return cast(T, held[2])
    made = make(who, key)
    st.session_state[name] = (who, key, made)
    return made


def scope() -> Scope:
    """The accounts this session may see (an advisor's book is read from the store's accounts)."""
    return _per_viewer("$scope", lambda who, key: who.scope(_bounds(key).account_advisors))


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
    return _per_viewer("$bounds", lambda who, key: _scoped_bounds(_bounds(key), who, scope()))


ADDRESS_KEYS = ("account", "weekly_account", "advisor")  # query parameters that name accounts or advisors


def out_of_scope_in_address() -> bool:
    """True when the address names an account or advisor outside a restricted scope (the widgets drop it)."""
    if scope().unrestricted:
        return False
    b = bounds()
    accounts = set(b.accounts) | set(b.accounts.values())
    allowed = {"account": accounts, "weekly_account": accounts, "advisor": set(b.advisors)}
    return any(v and v not in allowed[key] for key in ADDRESS_KEYS for v in st.query_params.get_all(key))


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def _described(name: str, path: str, version: str, root: str) -> StoredDataset | None:
    return describe_store(name, Path(path), Path(root))


def datasets(root: Path) -> list[StoredDataset]:
    """The datasets the server holds: the default first, then the Data page's stores, newest first.

    Each labelled by the folder last loaded into it (`root`, the data root, is cut from a path).
    """
    default = dashboard_db()
    stores = {DEFAULT_DATASET: default, **loaded_stores(stores_folder(default))}
    described = (_described(name, str(path), store_version(path), str(root)) for name, path in stores.items())
    return [d for d in described if d is not None]


def current_dataset() -> str:
    """The name of the dataset this session looks at (what the address carries)."""
    return dataset_name(Path(store_path()), dashboard_db())


def default_period(first: dt.date, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The Period nobody chose: the DEFAULT_PERIOD_DAYS days ending at As-of, not before the data's first day."""
    return max(first, as_of - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)), as_of


def reset_filters_after_switch(b: DataBounds) -> None:
    """After a switch of dataset, before the sidebar is drawn: As-of, Period and the filters start over.

    As-of goes to the new data's latest day, Period to its default, Account is cleared, and
    Package, Region and Advisor keep only the values the new data offers. Set as widget
    state (not removed), so the widgets show the new values and the address follows them.
    """
    state = st.session_state
    if not state.pop("dataset_switched", False):
        return
    latest = b.local_date(b.latest)
    state["as_of"] = latest
    state["period"] = default_period(b.local_date(b.first), latest)
    state["period_as_of"] = latest
    state["account"] = []
    for key, options in (("package", b.packages), ("region", b.regions), ("advisor", b.advisors)):
        state[key] = [v for v in state.get(key) or () if v in options]


def _address_period() -> tuple[dt.date, ...]:
    try:
        return tuple(dt.date.fromisoformat(v) for v in st.query_params.get_all("period"))
    except ValueError:
        return ()


def align_period(first: dt.date, as_of: dt.date) -> None:
    """Keep Period inside the data's first day and As-of, before its widget is drawn.

    A Period at its default (for the As-of it was drawn with) moves with a new As-of; a
    Period the user chose that ends after As-of is cut to end there (one that starts after
    it too takes the default). On a session's first run the widget takes the address's
    value over any set here, so an address whose Period ends after its As-of gets the
    widget's own remedy, the default Period, with a note (`period_note`).
    """
    state = st.session_state
    drawn_for = state.get("period_as_of")
    state["period_as_of"] = as_of
    first_run = "period" not in state
    period = _address_period() if first_run else tuple(state["period"] or ())
    state.pop("period_note", None)
    if len(period) != 2:
        return
    if drawn_for is not None and drawn_for != as_of and period == default_period(first, drawn_for):
        state["period"] = default_period(first, as_of)
    elif period[1] > as_of and first_run:
        state["period_note"] = "The address's Period ended after As of; this is the default Period instead."
    elif period[1] > as_of:
        cut = (max(first, period[0]), as_of) if period[0] <= as_of else default_period(first, as_of)
        state["period"] = cut
        state["period_cut"] = cut


def period_note() -> str | None:
    """What to say under Period when it was cut to end at As-of (while it stays so) or replaced on opening."""
    state = st.session_state
    cut = state.get("period_cut")
    if cut is not None and tuple(state.get("period") or ()) == cut:
        return "Period cut to end at As of."
    return cast(str | None, state.get("period_note"))


def as_of_instant() -> dt.datetime:
    """The as-of moment: the data's latest instant, or the end of the chosen local day."""
    b = bounds()
    chosen = st.session_state.get("as_of")
    if not chosen or chosen >= b.local_date(b.latest):
        return b.latest
    end = dt.datetime.combine(chosen + dt.timedelta(days=1), dt.time(), ZoneInfo(b.timezone))
    return end.astimezone(dt.UTC)


def snapshot() -> Snapshot:
    """The moment of this run, taken under a spinner when no session has taken it yet."""
    store, as_of_iso = store_key(), as_of_instant().isoformat()
    waiting = contextlib.nullcontext() if _moments().holds((store, as_of_iso)) else st.spinner(SNAPSHOT_SPINNER)
    with waiting:
        return get_snapshot(store, as_of_iso)


def workspace() -> Workspace:
    """The workspace beside this session's store: its weekly update drafts and updates sent."""
    return Workspace.beside(store_path())


def written_workspace(store: str) -> Workspace | None:
    """The workspace beside a store key's store, once written to.

    Before its first write it records nothing, which is not "none sent": None then.
    """
    found = Workspace.beside(store.partition("@")[0])
    return found if found.path.exists() else None


def workspace_stamp(found: Workspace | None) -> str:
    """The workspace file's last write, for cache keys (SQLite in WAL mode writes its -wal file first)."""
    if found is None:
        return ""
    parts = [found.path, found.path.with_name(found.path.name + "-wal")]
    return json.dumps([(p.stat().st_mtime_ns, p.stat().st_size) for p in parts if p.exists()])


def delivery(filters: Filters) -> pd.DataFrame:
    """`weekly_delivery` within the viewer's scope; never modify the result (the cache shares it).

    Cached per store version, as-of, filters (severities do not apply to weeks) and the
    workspace file's last write, so a send in another session shows on the next run.
    """
    scoped = dataclasses.replace(scope().restrict(filters), severities=())
    key = store_key()
    return _delivery(key, as_of_instant().isoformat(), _filters_key(scoped), workspace_stamp(written_workspace(key)))


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _delivery(store: str, as_of_iso: str, filters_key: str, stamp: str) -> pd.DataFrame:
    return weekly_delivery(get_snapshot(store, as_of_iso), _filters_from_key(filters_key) or Filters(),
                           written_workspace(store) if stamp else None)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def markdown_html(text: str) -> str:
    """`markdown_body(text)`, once per text: a long update takes a tenth of a second to render."""
    return markdown_body(text)


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
    return cast(T, _run(*_metric_call(function, args, kwargs)))


# Metrics a page starts together (`start`) run on these threads: DuckDB releases the GIL, so one
# metric's query runs while another's frame is shaped. Shared by every session, a few more than
# the cores: many sessions at once then queue here rather than all compete for two cores.
_METRIC_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="metrics")


def start(function: Callable[Concatenate[Snapshot, P], T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
    """`metric(function, ...)` started on a worker thread: its result when the page asks for it.

    The arguments are checked and scoped here, in the script's thread, exactly as `metric` does;
    only the cached computation runs on the worker (`st.cache_data` lets one computation of a
    key run at a time, so a page asking again meanwhile waits for it rather than repeating it).
    A metric's error is raised by `result()`, in the script, as `metric` would raise it.
    """
    call = _metric_call(function, args, kwargs)
    return cast("Future[T]", _METRIC_WORKERS.submit(_run_within, contextvars.copy_context(), call))


def _run_within(context: contextvars.Context, call: tuple[str, str, str, str, str]) -> Any:
    return context.run(_run, *call)


def _metric_call(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str, str, str, str, str]:
    """`_run`'s arguments for `metric(function, *args, **kwargs)`: checked against the registry and scoped."""
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
    snapshot()  # the moment's snapshot taken here and its per-case tables queued, before its first metric
    return (
        registered.name,
        store_key(),
        as_of_instant().isoformat(),
        _filters_key(filters),
        json.dumps({k: _encode(v) for k, v in bound.items()}, default=str, sort_keys=True),
    )


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Writing…")
def _report(module: str, name: str, store: str, kwargs_json: str) -> Any:
    function = getattr(importlib.import_module(module), name)
    kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(kwargs_json).items()}
    if "snapshots" in inspect.signature(function).parameters:  # a report that reads the book at other moments
        kwargs["snapshots"] = functools.partial(_snapshot_at, store)
    return function(get_connection(store), **kwargs)


def _snapshot_at(store: str, moment: dt.datetime) -> Snapshot:
    """The book's snapshot at `moment` from the shared cache (a week's end serves every account's update)."""
    return get_snapshot(store, moment.astimezone(dt.UTC).isoformat())


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
