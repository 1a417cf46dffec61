"""Load benchmark: many people at once. One `streamlit run` on 127.0.0.1 serving the store of N cases, and
`--sessions` concurrent visitors (headless Chromium pages driven by Playwright) that move between pages and change
filters and the as-of for `--seconds`; prints pages served, errors, time to a finished page and the server's peak
memory.

    python bench/load.py [--cases 1000000] [--sessions 25] [--seconds 300] [--seed 1]

Each session is its own browser context in ONE Chromium, all driven from one asyncio loop with Playwright's async
API: one Playwright driver and one browser for every session, rather than a driver and a browser per thread
(25 sync Playwrights would be 25 node drivers and 25 browsers competing for 2 cores with the server measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _measure import (  # noqa: E402
    DEFAULT_WORKDIR,
    MB,
    PROJECT_ROOT,
    PYTHON,
    code_changes,
    code_line,
    code_snapshot,
    load_average,
    machine_line,
    table,
    verdict,
)

from ui import navigation  # noqa: E402

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

PAGES: dict[str, str] = {p.name: p.heading for p in navigation.PAGES}  # page name -> its heading
TARGET_PEAK_MB = 4096.0  # the server's peak RSS, 4 GB
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
CLIENT_NICE = 10  # the niceness of this process, Playwright's driver and Chromium (the server keeps 0)
VIEWPORT = {"width": 1440, "height": 1000}
# Streamlit's default log line has no level: name it, so errors can be counted.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ERROR_LINE = re.compile(r" (ERROR|CRITICAL) ")
TRACEBACK = "Traceback (most recent call last)"
CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                       .every((c) => c.querySelector('.main-svg'))"""
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the store (default 1,000,000)")
    parser.add_argument("--sessions", type=int, default=25, help="concurrent browser sessions (default 25)")
    parser.add_argument("--seconds", type=float, default=300.0, help="how long sessions start new steps (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sessions' random walks (default 1)")
    parser.add_argument("--client", choices=("websocket", "browser"), default="websocket",
                        help="visitors speak Streamlit's websocket protocol (default), or are Chromium pages")
    parser.add_argument("--max-pages", type=int, default=0,
                        help="pages per session at most (default 0: no bound but time)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds a page may take before it counts as an error (default 120)")
    parser.add_argument("--db", type=Path, help="the store to serve (default: bench/sla.py's store-N.duckdb)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="datasets and stores (bench/out/)")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the store and its range


def resolve_store(args: argparse.Namespace) -> tuple[Path, str]:
    """The store to serve and how it was found: `--db`, or store-N.duckdb built as bench/sla.py builds it.

    The build (generate the Parquet dataset, `python -m metrics ingest` with the engine's run stored) runs under an
    exclusive lock file, so two benchmarks started together do not build the same store at once.
    """
    if args.db is not None:
        if not args.db.exists():
            raise SystemExit(f"no store at {args.db}")
        return args.db.resolve(), "given"
    import fcntl

    from sla import ensure_store

    args.workdir.mkdir(parents=True, exist_ok=True)
    with (args.workdir / f"store-{args.cases}.build-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        store, _, how = ensure_store(args.workdir, args.cases)
    return store.resolve(), how


@dataclass(frozen=True)
class Range:
    """What the sessions may choose from: the data's days and the sidebar's options."""

    first: dt.date
    latest: dt.date
    packages: tuple[str, ...]
    regions: tuple[str, ...]
    advisors: tuple[str, ...]
    accounts: tuple[str, ...]


def data_range(store: Path) -> Range:
    """The store's first and latest local day and filter options, read as the sidebar reads them (read-only)."""
    import duckdb

    from metrics.engine.freshness import data_bounds

    con = duckdb.connect(str(store), read_only=True)
    try:
        b = data_bounds(con)
    finally:
        con.close()
    return Range(b.local_date(b.first), b.local_date(b.latest), b.packages, b.regions, b.advisors,
                 tuple(b.accounts))


# ---------------------------------------------------------------- the server and its memory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(store: Path, log_path: Path, audit_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`streamlit run dashboard.py` on a free loopback port serving `store`; yields (URL, process) once healthy."""
    port = free_port()
    env = {**os.environ, "SUPPORT_ANALYTICS_DB": str(store), "SUPPORT_ANALYTICS_AUDIT": str(audit_path)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.runOnSave", "false", "--logger.messageFormat", LOG_FORMAT],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"streamlit did not start; see {log_path}")
                time.sleep(0.5)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(c) for c in fh.read().split()]
    return found


def _children_named(pid: int, word: str) -> list[int]:
    """Direct children of `pid` whose command line contains `word`."""
    found = []
    for child in _children(pid):
        with contextlib.suppress(OSError), open(f"/proc/{child}/cmdline", "rb") as fh:
            if word.encode() in fh.read():
                found.append(child)
    return found


def _rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += _children(p)
    return found


def cpu_seconds(pid: int, exclude: int | None = None) -> float:
    """User + system CPU seconds of `pid` and its descendants (without the subtree of `exclude`), from /proc."""
    skip = set(_tree(exclude)) if exclude else set()
    ticks = 0
    for p in _tree(pid):
        if p in skip:
            continue
        with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{p}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
            ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pid: int) -> float:
    """RSS of `pid` and all its descendants (psutil if installed, else /proc), in MB."""
    try:
        import psutil
    except ImportError:
        return sum(_rss_kb(p) for p in _tree(pid)) * 1024 / MB
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running()) / MB
    return 0.0


def keep_client_nice(server: int) -> None:
    """Set every thread of this process's descendants but the server's to CLIENT_NICE.

    Chromium raises some of its own threads' priority (nice -8 when it may, as root it may) and starts renderers at
    nice 0, whatever it inherited: without this, the load's generator takes the CPU from the server it measures.
    """
    skip = set(_tree(server))
    for pid in _tree(os.getpid()):
        if pid in skip or pid == os.getpid():
            continue
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    if os.getpriority(os.PRIO_PROCESS, int(tid)) != CLIENT_NICE:
                        os.setpriority(os.PRIO_PROCESS, int(tid), CLIENT_NICE)


class MemorySampler(threading.Thread):
    """Samples the server's RSS (with its children) every `interval` seconds; keeps the peak and the samples.

    Each time, it also puts the client side (Chromium, Playwright's driver) back at CLIENT_NICE.
    """

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MB)
        self._halt = threading.Event()
        self._t0 = time.monotonic()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.monotonic() - self._t0, tree_rss_mb(self.pid)))
            keep_client_nice(self.pid)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


def log_problems(log_path: Path) -> tuple[int, int, list[str]]:
    """(errors, warnings, first error lines) in the server log.

    An error is a record at level ERROR or CRITICAL, or a traceback printed outside a record (uvicorn's
    "Exception in ASGI application" carries no level in Streamlit's format); a chained traceback ("During handling
    of the above exception ...") is one error. The larger of the two counts is the figure.
    """
    lines = log_path.read_text(errors="replace").splitlines()
    records = [line for line in lines if ERROR_LINE.search(line)]
    starts = [i for i, line in enumerate(lines) if TRACEBACK in line]
    chained = ("During handling of the above exception", "The above exception was the direct cause")
    heads = [i for i in starts if not any(c in lines[j] for j in range(max(0, i - 2), i) for c in chained)]
    warnings = sum(" WARNING " in line for line in lines)
    shown = records[:5] or [f"{lines[i - 1].strip()} ... {_last_line(lines, i)}" for i in heads[:5]]
    return max(len(records), len(heads)), warnings, shown


def _last_line(lines: list[str], start: int) -> str:
    """The first exception line (`module.Error: message`) of the traceback that starts at `start`."""
    last = ""
    for line in lines[start + 1:]:
        if line and not line[0].isspace():
            if TRACEBACK in line or line.startswith(("During handling", "The above exception")):
                continue
            last = line.strip()
            if ":" in line.split(" ")[0]:
                break
    return last


# ---------------------------------------------------------------- the sessions


@dataclass
class Step:
    session: int
    page: str
    change: str  # what this step changed, e.g. "severity=2" or "as_of=2026-03-01"
    started: float  # seconds since the run's start
    seconds: float
    error: str | None = None


@dataclass
class Visitor:
    """One session's sidebar, changed one thing at a time and written into the address."""

    rng: random.Random
    span: Range
    as_of: dt.date | None = None  # None: the data's latest day (the default)
    filters: dict[str, list[str]] = field(default_factory=dict)
    period: tuple[dt.date, dt.date] | None = None

    def random_day(self, lo: dt.date, hi: dt.date) -> dt.date:
        return lo + dt.timedelta(days=self.rng.randint(0, max(0, (hi - lo).days)))

    def change(self) -> str:
        """Change one filter or the as-of at random; returns what changed."""
        kinds = ["as_of", "as_of", "period", "package", "severity", "region", "advisor", "account", "clear"]
        kind = self.rng.choice(kinds)
        options = {"package": self.span.packages, "severity": ("1", "2", "3"), "region": self.span.regions,
                   "advisor": self.span.advisors, "account": self.span.accounts}
        if kind == "as_of":
            # a third of the moves go back to the data's latest day; the rest to any day of the data
            self.as_of = None if self.rng.random() < 1 / 3 else self.random_day(self.span.first, self.span.latest)
            if self.period and self.period[1] > (self.as_of or self.span.latest):
                self.period = None  # a chosen Period never ends after As of: drop it rather than be cut
            return f"as_of={self.as_of or 'latest'}"
        if kind == "period":
            end = self.random_day(self.span.first, self.as_of or self.span.latest)
            self.period = (self.random_day(max(self.span.first, end - dt.timedelta(days=365)), end), end)
            return f"period={self.period[0]}..{self.period[1]}"
        if kind == "clear" or not options[kind]:
            self.filters.clear()
            self.period = None
            return "clear filters"
        if self.filters.get(kind):
            del self.filters[kind]
            return f"{kind}=all"
        value = self.rng.choice(options[kind])
        self.filters = {k: v for k, v in self.filters.items() if k in ("package", "severity")}  # at most 3 at once
        self.filters[kind] = [value]
        return f"{kind}={value}"

    def address(self, url: str, page: str) -> str:
        params: list[tuple[str, str]] = []
        if self.as_of is not None:
            params.append(("as_of", self.as_of.isoformat()))
        if self.period is not None:
            params += [("period", self.period[0].isoformat()), ("period", self.period[1].isoformat())]
        for key, values in self.filters.items():
            params += [(key, v) for v in values]
        query = urllib.parse.urlencode(params)
        return f"{url}/{page}" + (f"?{query}" if query else "")


async def finished(page: Page, heading: str, timeout_ms: float) -> None:
    """Wait for a finished page: its heading visible, the script run over, every chart drawn, and still idle after."""
    await page.get_by_role("heading", name=heading).first.wait_for(timeout=timeout_ms)
    while True:
        await page.locator(IDLE).wait_for(timeout=timeout_ms)
        await page.wait_for_function(CHARTS_DRAWN, polling=100, timeout=timeout_ms)  # not per frame: pages share cores
        await page.wait_for_timeout(250)  # a rerun the page asked for (a widget settling) starts within this
        if await page.locator(IDLE).count():
            return


async def walk(n: int, url: str, args: argparse.Namespace, span: Range, t0: float, stop_at: float,
               steps: list[Step], visit: Callable[[str, str], Awaitable[str | None]],
               recover: Callable[[], Awaitable[None]]) -> None:
    """One visitor's random walk until `stop_at`: a page at random, one change at a time, each step timed.

    `visit(page name, address)` loads the page and returns what went wrong on it, if anything;
    when it raises (a timeout, a browser or connection error) the step counts as an error and
    `recover()` starts the visitor afresh.
    """
    rng = random.Random(f"{args.seed}-{n}")
    visitor = Visitor(rng, span)
    await asyncio.sleep(rng.uniform(0, min(5.0, args.seconds / 10)))  # arrivals spread over the first seconds
    done = 0
    while time.monotonic() < stop_at and (not args.max_pages or done < args.max_pages):
        name = rng.choice(list(PAGES))
        change = "open" if done == 0 else visitor.change()
        began = time.monotonic()
        try:
            error = await visit(name, visitor.address(url, name))
        except Exception as exc:  # counted, and the session goes on
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            await recover()
        steps.append(Step(n, name, change, began - t0, time.monotonic() - began, error))
        done += 1


async def session(n: int, browser: Browser, url: str, args: argparse.Namespace, span: Range,
                  t0: float, stop_at: float, steps: list[Step]) -> None:
    """One visitor as a Chromium page of its own browser context, navigating to each address."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()

    async def visit(name: str, address: str) -> str | None:
        began = time.monotonic()
        await page.goto(address, wait_until="commit", timeout=args.timeout * 1000)
        await finished(page, PAGES[name], max(args.timeout * 1000 - (time.monotonic() - began) * 1000, 1000))
        if shown := await page.locator(EXCEPTION).count():
            text = (await page.locator(EXCEPTION).first.inner_text()).strip().replace("\n", " ")
            return f"{shown} exception(s) shown: {text[:160]}"
        return None

    async def recover() -> None:
        nonlocal page
        with contextlib.suppress(Exception):
            await page.close()
        page = await context.new_page()

    try:
        await walk(n, url, args, span, t0, stop_at, steps, visit, recover)
    finally:
        with contextlib.suppress(Exception):
            await context.close()


async def ws_session(n: int, url: str, args: argparse.Namespace, span: Range,
                     t0: float, stop_at: float, steps: list[Step]) -> None:
    """One visitor speaking Streamlit's own websocket protocol, as the browser's app does, without a browser.

    Each step sends a `rerun_script` with the page and the address's query string (the
    sidebar's state, bound to the address by the app) and times it to the `script_finished`
    of a run not cut short by a rerun. An exception element, a heading other than the
    page's, a timeout or a closed connection is an error; the visitor then reconnects.
    """
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    ws: Any = None

    async def visit(name: str, address: str) -> str | None:
        nonlocal ws
        if ws is None:
            ws = await websockets.connect(  # no keepalive pings: the app keeps its own heartbeat, as a browser
                stream, subprotocols=["streamlit"], max_size=None, ping_interval=None)  # type: ignore[list-item]
        message = BackMsg()
        message.rerun_script.page_name = name
        message.rerun_script.query_string = urllib.parse.urlsplit(address).query
        await ws.send(message.SerializeToString())
        headings: list[str] = []
        exceptions: list[str] = []
        async with asyncio.timeout(args.timeout):
            while True:
                forward = ForwardMsg()
                forward.ParseFromString(await ws.recv())
                kind = forward.WhichOneof("type")
                if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                    element = forward.delta.new_element
                    if element.WhichOneof("type") == "heading":
                        headings.append(element.heading.body)
                    elif element.WhichOneof("type") == "exception":
                        exceptions.append(element.exception.message)
                if kind == "script_finished":
                    if forward.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        headings, exceptions = [], []  # the run that counts is the next one
                        continue
                    break
        if exceptions:
            return f"{len(exceptions)} exception(s) shown: {exceptions[0][:160]}"
        if not any(PAGES[name] in h for h in headings):
            return f"heading {PAGES[name]!r} not shown (headings: {headings[:3]})"
        return None

    async def recover() -> None:
        nonlocal ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        ws = None

    try:
        await walk(n, url, args, span, t0, stop_at, steps, visit, recover)
    finally:
        await recover()


CPU: dict[str, float] = {}  # CPU seconds over the run: "server", "browser" (this process, the driver, Chromium)


async def drive(url: str, args: argparse.Namespace, span: Range, steps: list[Step],
                cpu_start: tuple[float, float, int]) -> float:
    """Run every session until `--seconds` have passed (each finishes its page in flight); returns the seconds.

    Records in CPU the CPU seconds the server and the client side (this process, Playwright's driver, Chromium)
    used, read before the browser closes.
    """
    if args.client == "websocket":
        os.nice(CLIENT_NICE)
        t0 = time.monotonic()
        stop_at = t0 + args.seconds
        await asyncio.gather(*(ws_session(n, url, args, span, t0, stop_at, steps) for n in range(args.sessions)))
        seconds = time.monotonic() - t0
        CPU["server"] = cpu_seconds(cpu_start[2]) - cpu_start[0]
        CPU["browser"] = cpu_seconds(os.getpid(), exclude=cpu_start[2]) - cpu_start[1]
        return seconds
    from playwright.async_api import async_playwright

    if CHROMIUM is None:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    # The client side yields the CPU to the server measured: the driver and Chromium, started from here, inherit it.
    os.nice(CLIENT_NICE)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            t0 = time.monotonic()
            stop_at = t0 + args.seconds
            await asyncio.gather(*(session(n, browser, url, args, span, t0, stop_at, steps)
                                   for n in range(args.sessions)))
            seconds = time.monotonic() - t0
            server = next(iter(_children_named(os.getpid(), "streamlit")), None)
            CPU["server"] = cpu_seconds(server) - cpu_start[0] if server else float("nan")
            CPU["browser"] = cpu_seconds(os.getpid(), exclude=server) - cpu_start[1]
            return seconds
        finally:
            await browser.close()


# ---------------------------------------------------------------- the report


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def report(args: argparse.Namespace, store: Path, how: str, span: Range, steps: list[Step], seconds: float,
           memory: MemorySampler, log: tuple[int, int, list[str]], loads: tuple[tuple[float, ...], ...],
           log_path: Path) -> bool:
    ok_steps = [s for s in steps if s.error is None]
    times = [s.seconds for s in ok_steps]
    page_errors = [s for s in steps if s.error is not None]
    log_errors, log_warnings, log_lines = log
    errors = len(page_errors) + log_errors
    peak = memory.peak_mb
    size_mb = store.stat().st_size / MB
    print(f"store: {store} ({size_mb:,.0f} MB, {how}); days {span.first} .. {span.latest}")
    print(f"server log: {log_path}")
    print()
    rows: list[tuple[object, ...]] = [
        ("sessions", f"{args.sessions}", ""),
        ("duration s", f"{seconds:.0f}", f"new steps for {args.seconds:.0f} s, then the pages in flight"),
        ("pages served", f"{len(steps):,}", f"{len(steps) / seconds * 60:.1f} per minute" if seconds else ""),
        ("errors", f"{errors}", f"{len(page_errors)} on pages, {log_errors} in the server log; "
                                f"{verdict(errors == 0)} (target 0)"),
        ("median s per page", f"{statistics.median(times):.2f}" if times else "n/a", "finished pages only"),
        ("p95 s per page", f"{p95(times):.2f}" if times else "n/a", ""),
        ("max s per page", f"{max(times):.2f}" if times else "n/a", ""),
        ("peak RSS MB", f"{peak:,.0f}", f"server and children, sampled every 1 s; "
                                        f"{verdict(0 < peak < TARGET_PEAK_MB)} (target < {TARGET_PEAK_MB:,.0f})"),
        ("RSS at end MB", f"{memory.samples[-1][1]:,.0f}" if memory.samples else "n/a", ""),
        ("server CPU s", f"{CPU.get('server', float('nan')):.0f}",
         f"{CPU.get('server', float('nan')) / seconds:.2f} cores on average" if seconds else ""),
        ("client CPU s", f"{CPU.get('browser', float('nan')):.0f}",
         f"{CPU.get('browser', float('nan')) / seconds:.2f} cores: "
         + ("this script's websocket visitors" if args.client == "websocket"
            else "Chromium, Playwright's driver, this script")
         if seconds else ""),
        ("load avg start", " ".join(f"{x:.2f}" for x in loads[0]), "1/5/15 min"),
        ("load avg end", " ".join(f"{x:.2f}" for x in loads[1]), "1/5/15 min"),
        ("server log warnings", f"{log_warnings}", ""),
    ]
    print(table(["what", "figure", "note"], rows))
    print()
    per_page = []
    for name in PAGES:
        mine = [s.seconds for s in ok_steps if s.page == name]
        failed = sum(s.page == name for s in page_errors)
        per_page.append((name, len(mine) + failed, failed, f"{statistics.median(mine):.2f}" if mine else "-",
                         f"{p95(mine):.2f}" if mine else "-", f"{max(mine):.2f}" if mine else "-"))
    print(table(["page", "served", "errors", "median s", "p95 s", "max s"], per_page))
    kinds: dict[str, list[float]] = {}
    for s in ok_steps:
        kinds.setdefault(s.change.split("=")[0], []).append(s.seconds)
    print()
    print(table(["step changed", "pages", "median s", "p95 s"],
                [(k, len(v), f"{statistics.median(v):.2f}", f"{p95(v):.2f}") for k, v in sorted(kinds.items())]))
    if memory.samples:
        marks = [memory.samples[int(i * (len(memory.samples) - 1) / 10)] for i in range(11)]
        print()
        print("server RSS MB over the run: " + ", ".join(f"{t:.0f}s {mb:,.0f}" for t, mb in marks))
    slow = sorted(ok_steps, key=lambda s: s.seconds, reverse=True)[:5]
    if slow:
        print("slowest pages: " + "; ".join(f"{s.page} ({s.change}) {s.seconds:.1f} s at {s.started:.0f}s"
                                           for s in slow))
    for s in page_errors[:10]:
        print(f"!!! session {s.session} at {s.started:.0f}s, {s.page} ({s.change}): {s.error}")
    for line in log_lines:
        print(f"!!! server log: {line[:240]}")
    return errors == 0 and 0 < peak < TARGET_PEAK_MB


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        raise SystemExit("--sessions and --seconds must be positive")
    print(machine_line())
    code = code_snapshot()
    print(code_line(code))
    store, how = resolve_store(args)
    span = data_range(store)
    print(f"{args.sessions} {args.client} sessions for {args.seconds:.0f} s, seed {args.seed}, "
          f"page timeout {args.timeout:.0f} s")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        log_path = args.workdir / f"load-{args.cases}-server.log"
        with served(store, log_path, Path(tmp) / "audit.jsonl") as (url, proc):
            memory = MemorySampler(proc.pid)
            memory.start()
            loads_start = load_average()
            cpu_start = (cpu_seconds(proc.pid), cpu_seconds(os.getpid(), exclude=proc.pid), proc.pid)
            steps: list[Step] = []
            try:
                seconds = asyncio.run(drive(url, args, span, steps, cpu_start))
            finally:
                loads_end = load_average()
                memory.stop()
            time.sleep(0.5)  # let the server write what the last pages logged
            log = log_problems(log_path)
    steps_path = args.workdir / f"load-{args.cases}-steps.csv"
    with steps_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["session", "page", "change", "started_s", "seconds", "error"])
        writer.writerows([s.session, s.page, s.change, f"{s.started:.1f}", f"{s.seconds:.2f}", s.error or ""]
                         for s in sorted(steps, key=lambda s: s.started))
    report(args, store, how, span, steps, seconds, memory, log, (loads_start, loads_end), log_path)
    print(f"every step: {steps_path}")
    if warning := code_changes(code):
        print(warning)
    return 0  # figures only: PASS/MISS are printed, not asserted


if __name__ == "__main__":
    raise SystemExit(main())
