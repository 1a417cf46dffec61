"""Dashboard benchmark: the cold start, each page's first render, a filter change, a warm revisit, an as-of change,
and changes of the sidebar's "As of" date on the Overview, in Streamlit's AppTest.

Everything runs in this one process, so Streamlit's caches behave as in a running server:
the snapshot (`st.cache_resource`) is computed once, by the cold start, and every page's
first render after that finds it warm but none of its metric results (`st.cache_data`,
cleared before each page); each page's as-of change then needs a snapshot of its own.
Uses the store `workdir/store-{cases}.duckdb` of bench/sla.py (built from the Parquet
dataset if missing or stale) or the one given by `--db`.

    python bench/app.py [--cases 1000000] [--db PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _measure import (  # noqa: E402
    DEFAULT_WORKDIR,
    PROJECT_ROOT,
    load_average,
    machine_line,
    table,
    verdict,
)

from ui import navigation  # noqa: E402

# page name -> its heading, which tells that the page really rendered
PAGES: dict[str, str] = {p.name: p.heading for p in navigation.PAGES}
TARGET_FIRST_S = 1.0
TARGET_FILTER_MS = 300.0
TARGET_COLD_S = 3.0
TARGET_AS_OF_S = 1.0
AS_OF_DAYS_BACK = (1, 7, 30, 365)  # the sidebar's "As of" set this many local days before the data's last day
# each page's as-of change: a day of its own (so a snapshot of its own), none of the Overview's above
PAGE_AS_OF_DAYS_BACK = tuple(d for d in range(2, 40) if d not in AS_OF_DAYS_BACK)
FILTER_CHANGES = (["1"], ["2"])  # values of the sidebar's severity filter, one timed run each
TIMEOUT_S = 3600.0  # per AppTest run; the cold start computes every obligation of the store
APP_CODE = ("dashboard.py", "ui", "views", "metrics")  # what a page run executes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the store (default 1,000,000)")
    parser.add_argument("--db", type=Path, help="the store to serve (default: bench/sla.py's store-N.duckdb)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="datasets and stores (bench/out/)")
    parser.add_argument("--top", type=int, default=12, help="calls listed per page that misses (default 12)")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the code measured


def app_code() -> dict[str, str]:
    """Digest per source file of the app (dashboard.py, ui/, views/, metrics/), by relative path."""
    files = [p for name in APP_CODE for p in ([PROJECT_ROOT / name] if name.endswith(".py") else
                                              (PROJECT_ROOT / name).rglob("*"))]
    return {
        str(p.relative_to(PROJECT_ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        for p in sorted(files)
        if p.is_file() and p.suffix in (".py", ".sql", ".toml")
    }


def app_code_line(code: dict[str, str]) -> str:
    digest = hashlib.sha256(json.dumps(code, sort_keys=True).encode()).hexdigest()[:12]
    newest = max(code, key=lambda name: (PROJECT_ROOT / name).stat().st_mtime)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime((PROJECT_ROOT / newest).stat().st_mtime))
    return f"code: {' + '.join(APP_CODE)} digest {digest}; newest file {newest} ({when})"


# ---------------------------------------------------------------- instrumentation


@dataclass
class MetricCall:
    """One metric computed during a run: a cache miss of `ui.state._run`, or the weekly page's update."""

    name: str
    args: str  # the filters (without severity) and the keyword arguments, readable
    seconds: float


@dataclass
class Run:
    """One `AppTest.run()`: wall time, the metrics it computed, what it raised."""

    seconds: float
    calls: list[MetricCall]
    exceptions: list[str]
    title: str | None

    @property
    def metric_seconds(self) -> float:
        return sum(c.seconds for c in self.calls)


@dataclass
class Recorder:
    """Collects the metric calls and snapshot computations made while a run is in progress."""

    calls: list[MetricCall] = field(default_factory=list)
    snapshots: list[float] = field(default_factory=list)
    snapshot: Any = None  # the last one computed


def _describe(filters: Any, kwargs: dict[str, Any]) -> str:
    """`period 2026-08-30..2026-11-27, by=('kind',), grain='week'`; the severity is left out (it is the run's)."""

    def period(f: Any) -> str:
        return f"{f.start}..{f.end}" if f is not None and f.start is not None else "no period"

    parts = [f"period {period(filters)}"]
    for key in ("packages", "regions", "advisors", "accounts"):
        if getattr(filters, key, ()):
            parts.append(f"{key}={list(getattr(filters, key))}")
    for key, value in sorted(kwargs.items()):
        parts.append(f"{key}={period(value)}" if key.endswith("filters") or key == "previous" else f"{key}={value!r}")
    return ", ".join(parts)


def instrument(recorder: Recorder) -> None:
    """Time every metric the pages compute and every snapshot, by wrapping what the cached functions call.

    `ui.state._run` (cached) resolves `_metric_function`, `get_snapshot` resolves
    `take_snapshot` and the weekly page's `weekly_render.weekly_markdown` resolves `weekly.weekly_updates` at call
    time, so the wrappers see exactly the cache misses of the runs. Cache keys do not
    change: they hash the cached functions' own arguments and code.
    """
    from metrics.reports import weekly
    from ui import state

    lookup: Callable[[str], Callable[..., Any]] = state._metric_function
    take: Callable[..., Any] = state.take_snapshot
    updates: Callable[..., Any] = weekly.weekly_updates

    def timed_lookup(name: str) -> Callable[..., Any]:
        function = lookup(name)

        def timed(snap: Any, filters: Any = None, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(snap, filters=filters, **kwargs)
            finally:
                recorder.calls.append(MetricCall(name, _describe(filters, kwargs), time.perf_counter() - started))

        return timed

    def timed_take(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        snapshot = take(*args, **kwargs)
        if threading.current_thread().name == "ScriptRunner.scriptThread":  # a page's own, not one taken meanwhile
            recorder.snapshot = snapshot  # (the weekly update's previous week, the weeks taken in the background)
            recorder.snapshots.append(time.perf_counter() - started)
        return snapshot

    def timed_updates(con: Any, account_ids: Any, week: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return updates(con, account_ids, week, *args, **kwargs)
        finally:
            args_text = f"accounts={list(account_ids)}, week={week!r}"
            recorder.calls.append(MetricCall("weekly.weekly_updates", args_text, time.perf_counter() - started))

    state._metric_function = timed_lookup
    state.take_snapshot = timed_take
    weekly.weekly_updates = timed_updates


def wait_without_polling() -> None:
    """Make AppTest wait for a run's end on an event instead of checking every millisecond.

    `AppTest.run` polls the script runner's whole event list every millisecond until the run
    shuts down; each check takes the interpreter from the app's threads. A served dashboard has
    no such loop, so the benchmark waits on the runner's SHUTDOWN event instead (paired as-of
    changes on Governance: 57 ms faster and 93 ms less CPU per run without the polling).
    """
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent
    from streamlit.testing.v1 import local_script_runner

    def require_widgets_deltas(runner: Any, timeout: float = 3) -> None:
        done = threading.Event()

        def on_event(sender: Any, event: Any, **kwargs: Any) -> None:
            if event == ScriptRunnerEvent.SHUTDOWN:
                done.set()

        runner.on_event.connect(on_event, weak=False)  # before the check: a SHUTDOWN in between is not missed
        try:
            if runner.script_stopped() or done.wait(timeout):
                return
        finally:
            runner.on_event.disconnect(on_event)
        runner.request_stop()  # as AppTest does on a timeout
        runner.join()
        raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")

    local_script_runner.require_widgets_deltas = require_widgets_deltas


def timed_run(at: Any, recorder: Recorder) -> Run:
    """Run the app once, timed; collect what it computed and raised."""
    recorder.calls.clear()
    started = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - started
    exceptions = [f"{e.value}\n    " + "\n    ".join(e.stack_trace[-6:]) for e in at.exception]
    return Run(seconds, list(recorder.calls), exceptions, at.title[0].value if len(at.title) else None)


# ---------------------------------------------------------------- the measurement


@dataclass
class PageResult:
    page: str
    load: float  # 1-minute load average when the page's first render started
    first: Run
    filters: list[Run]
    revisit: Run
    as_of: Run  # the severity filter cleared and the sidebar's "As of" moved to `as_of_day`, in one run
    as_of_day: str
    as_of_snapshot_s: float  # the part of `as_of` spent taking its snapshot

    @property
    def filter_ms(self) -> float:
        return statistics.median(r.seconds for r in self.filters) * 1000

    @property
    def runs(self) -> list[tuple[str, Run]]:
        changes = [(f"severity {value[0]}", run) for value, run in zip(FILTER_CHANGES, self.filters, strict=True)]
        return [("first render", self.first), ("warm revisit", self.revisit), *changes, ("as-of change", self.as_of)]

    @property
    def failures(self) -> list[str]:
        """Exceptions raised and wrong titles (another page rendered), per run."""
        found = []
        for what, run in self.runs:
            found += [f"{what}: {e}" for e in run.exceptions]
            if not run.exceptions and run.title != PAGES[self.page]:
                found.append(f"{what}: title {run.title!r}, expected {PAGES[self.page]!r}")
        return found

    @property
    def first_ok(self) -> bool:
        return self.first.seconds < TARGET_FIRST_S

    @property
    def filter_ok(self) -> bool:
        return self.filter_ms < TARGET_FILTER_MS

    @property
    def as_of_ok(self) -> bool:
        return self.as_of.seconds < TARGET_AS_OF_S


def measure_page(page: str, recorder: Recorder, as_of_day: dt.date) -> PageResult:
    """First render with no metric result cached, a rerun with nothing changed, two filter changes, an as-of change.

    The as-of change clears the severity filter and sets the sidebar's "As of" to `as_of_day`
    (a day no earlier run asked for) in one run: a snapshot of its own and, the default
    period following the as-of, every metric of the page again.
    """
    from streamlit.testing.v1 import AppTest

    from ui import state

    state._run.clear()  # the metric results (st.cache_data); the snapshot (st.cache_resource) stays warm
    load = load_average()[0]
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=TIMEOUT_S)
    at.switch_page(navigation.BY_NAME[page].script)
    first = timed_run(at, recorder)
    revisit = timed_run(at, recorder)  # the default view again: every metric cached, every table and chart drawn
    changes = []
    for value in FILTER_CHANGES:
        at.session_state["severity"] = value  # the sidebar widget's key; AppTest drops the sidebar after switch_page
        changes.append(timed_run(at, recorder))
    at.session_state["severity"] = []
    at.session_state["as_of"] = as_of_day  # the sidebar widget's key
    taken = len(recorder.snapshots)
    as_of = timed_run(at, recorder)
    snapshot_s = sum(recorder.snapshots[taken:])
    return PageResult(page, load, first, changes, revisit, as_of, as_of_day.isoformat(), snapshot_s)


def measure_as_of_changes(recorder: Recorder) -> list[tuple[str, Run, float]]:
    """The Overview rerun after each change of the sidebar's "As of": a snapshot of its own, every metric missing.

    Returns (the date chosen, the run, the snapshot's seconds) per change.
    """
    from streamlit.testing.v1 import AppTest

    from ui import state

    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=TIMEOUT_S)
    timed_run(at, recorder)  # the default as-of: warm
    last_day = state.bounds().local_date(state.bounds().latest)
    changes = []
    for days in AS_OF_DAYS_BACK:
        chosen = last_day - dt.timedelta(days=days)
        at.session_state["as_of"] = chosen  # the sidebar widget's key
        taken = len(recorder.snapshots)
        run = timed_run(at, recorder)
        changes.append((chosen.isoformat(), run, sum(recorder.snapshots[taken:])))
    return changes


def breakdown(result: PageResult, top: int) -> str:
    """The metric calls of a page's first render and filter changes, slowest first, and the rest of each run."""
    keys: dict[str, dict[str, float]] = {}
    runs = [(what, run) for what, run in result.runs if run is not result.revisit]  # the revisit computes nothing
    for what, run in runs:
        for call in run.calls:
            per_run = keys.setdefault(f"{call.name}({call.args})", {})
            per_run[what] = per_run.get(what, 0.0) + call.seconds
    ordered = sorted(keys.items(), key=lambda kv: -max(kv[1].values()))
    rows: list[list[object]] = [
        [key, *(f"{ms[what] * 1000:,.0f}" if what in ms else "-" for what, _ in runs)] for key, ms in ordered[:top]
    ]
    if len(ordered) > top:
        rest = ordered[top:]
        rows.append([f"... {len(rest)} more calls",
                     *(f"{sum(ms.get(what, 0.0) for _, ms in rest) * 1000:,.0f}" for what, _ in runs)])
    rows.append([f"all computed calls ({' / '.join(str(len(r.calls)) for _, r in runs)})",
                 *(f"{r.metric_seconds * 1000:,.0f}" for _, r in runs)])
    rows.append(["rest of the run (script, widgets, tables, charts)",
                 *(f"{(r.seconds - r.metric_seconds) * 1000:,.0f}" for _, r in runs)])
    rows.append(["whole run", *(f"{r.seconds * 1000:,.0f}" for _, r in runs)])
    return table(["call", *(f"{what} ms" for what, _ in runs)], rows, indent="    ")


class _Quiet(logging.Filter):
    """Drops the log records that contain one message."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return self.message not in record.getMessage()


def resolve_store(args: argparse.Namespace) -> tuple[Path, str]:
    """The store to serve and how it was found."""
    if args.db is not None:
        if not args.db.exists():
            raise SystemExit(f"no store at {args.db}")
        return args.db.resolve(), "given"
    from sla import ensure_store

    store, _, how = ensure_store(args.workdir, args.cases)
    return store.resolve(), how


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(machine_line())
    code = app_code()
    print(app_code_line(code))
    load_start = load_average()
    store, how = resolve_store(args)

    from metrics.storage.store import DB_ENV

    os.environ[DB_ENV] = str(store)  # the dashboard serves $SUPPORT_ANALYTICS_DB
    print(f"store: {store} ({how})")
    os.chdir(PROJECT_ROOT)

    from streamlit.testing.v1 import AppTest

    # Importing ui.state, clearing a cache or setting session state here, outside a script run, is intended.
    for name, noise in (("streamlit.runtime.scriptrunner_utils.script_run_context", "missing ScriptRunContext"),
                        ("streamlit.runtime.caching.cache_data_api", "No runtime found")):
        logging.getLogger(name).addFilter(_Quiet(noise))
    recorder = Recorder()
    instrument(recorder)
    wait_without_polling()

    # Cold start: the default page (Overview) in this fresh process, every cache empty, the snapshot included.
    cold_load = load_average()[0]
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=TIMEOUT_S)
    cold = timed_run(at, recorder)
    snapshot_s = sum(recorder.snapshots)
    snap = recorder.snapshot
    if snap is None:
        raise SystemExit("!!! the cold start computed no snapshot")
    print(f"as of {snap.as_of:%Y-%m-%d %H:%M:%S} UTC: {snap.obligations.num_rows:,} obligations, "
          f"{snap.case_facts.num_rows:,} cases")
    print(f"\nsnapshot + first page (cold start, Overview): {cold.seconds:.2f} s "
          f"(snapshot {snapshot_s:.2f} s, {len(cold.calls)} metrics {cold.metric_seconds:.2f} s, "
          f"rest {cold.seconds - snapshot_s - cold.metric_seconds:.2f} s; load {cold_load:.2f}) "
          f"target < {TARGET_COLD_S:.0f} s {verdict(cold.seconds < TARGET_COLD_S)}")
    from ui import state

    started = time.perf_counter()
    for thread in threading.enumerate():  # what the first run started in the background (dashboard.py)
        if thread.name == state.WEEKLY_THREAD:
            thread.join()
    print(f"then in the background: the Weekly update's two week-end snapshots, done "
          f"{time.perf_counter() - started:.2f} s later (waited for: the pages below are measured without them)")
    cold_failures = [f"exception {e}" for e in cold.exceptions]
    if not cold.exceptions and cold.title != PAGES["overview"]:
        cold_failures.append(f"title {cold.title!r}, expected {PAGES['overview']!r}")
    for failure in cold_failures:
        print(f"\n!!! COLD START FAILED: {failure}")

    last_day = state.bounds().local_date(state.bounds().latest)
    results = []
    for page, days_back in zip(PAGES, PAGE_AS_OF_DAYS_BACK, strict=False):
        print(f"  measuring {page} ...", file=sys.stderr, flush=True)
        results.append(measure_page(page, recorder, last_day - dt.timedelta(days=days_back)))
    if len(recorder.snapshots) > 1 + len(results):  # the cold start's and one per page's as-of change
        print(f"WARNING: the snapshot was computed {len(recorder.snapshots)} times, not {1 + len(results)}")
    print("  measuring as-of changes ...", file=sys.stderr, flush=True)
    as_of_changes = measure_as_of_changes(recorder)

    rows = []
    for r in results:
        failed = bool(r.failures)
        rows.append([
            r.page,
            f"{r.first.seconds:.2f}",
            f"{r.filter_ms:,.0f}",
            " / ".join(f"{f.seconds * 1000:,.0f}" for f in r.filters),
            f"{r.revisit.seconds * 1000:,.0f}",
            f"{r.as_of.seconds:.2f} ({r.as_of_snapshot_s:.2f})",
            "/".join(str(len(run.calls)) for _, run in r.runs),
            f"{r.load:.2f}",
            f"< {TARGET_FIRST_S:.0f} s / < {TARGET_FILTER_MS:.0f} ms",
            "ERROR" if failed else verdict(r.first_ok),
            "ERROR" if failed else verdict(r.filter_ok),
            "ERROR" if failed else verdict(r.as_of_ok),
        ])
    print(f"\nper page (snapshot warm, metric results cleared before each page; "
          f"filter change = severity {FILTER_CHANGES[0]} then {FILTER_CHANGES[1]}, median; as-of change = "
          f"severity cleared and As of moved to a day of the page's own, its snapshot's part in brackets):")
    print(table(["page", "first render s", "filter change ms", "sev 1 / sev 2 ms", "warm revisit ms",
                 "as-of change s (snapshot)", "computed first/revisit/sev 1/sev 2/as-of", "load",
                 f"target (as-of < {TARGET_AS_OF_S:.0f} s)", "first", "filter", "as-of"], rows))

    as_of_rows = [
        [chosen, f"{run.seconds:.2f}", f"{snapshot:.2f}", f"{run.metric_seconds:.2f}", str(len(run.calls)),
         f"< {TARGET_AS_OF_S:.0f} s", "ERROR" if run.exceptions else verdict(run.seconds < TARGET_AS_OF_S)]
        for chosen, run, snapshot in as_of_changes
    ]
    print("\nas-of changes (Overview, the sidebar's As of set to the end of a local day; a snapshot of its own):")
    print(table(["as of", "run s", "snapshot s", "metrics s", "computed", "target", "run"], as_of_rows))

    for r in results:
        for failure in r.failures:
            print(f"\n!!! {r.page.upper()} FAILED: {failure}")
    for chosen, run, _ in as_of_changes:
        for exception in run.exceptions:
            print(f"\n!!! AS OF {chosen} FAILED: exception {exception}")

    missed = [r for r in results if not (r.first_ok and r.filter_ok and r.as_of_ok)]
    for r in missed:
        print(f"\n{r.page}: computed calls (ui.state.metric -> _metric_function(name)(snapshot, ...)), slowest first")
        print(breakdown(r, args.top))

    after = app_code()
    changed = sorted(name for name in code.keys() | after.keys() if code.get(name) != after.get(name))
    if changed:
        print("\nWARNING: project code changed during this run, figures may mix versions: " + ", ".join(changed))
    passed = sum(r.first_ok and r.filter_ok and not r.failures for r in results)
    end = load_average()
    print(f"\n{passed} of {len(results)} pages within both targets. "
          f"Load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} at the start, "
          f"{end[0]:.2f} {end[1]:.2f} {end[2]:.2f} at the end (1/5/15 min; {os.cpu_count()} cores).")
    as_of_failed = any(run.exceptions for _, run, _ in as_of_changes)
    return 1 if cold_failures or as_of_failed or any(r.failures for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
