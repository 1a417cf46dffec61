"""The hostile corpus end to end: each dataset's load outcome, then every page and every CLI command.

Fatal datasets are loaded over a store holding the base dataset, which must come out
identical. Datasets that load (quarantined rows or not) render every page of the
dashboard in AppTest without an exception and serve `export obligations`, `explain` and
`weekly` (JSON and HTML) from the command line without a traceback.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from metrics.errors import LoadError
from metrics.storage.contract import TABLES
from metrics.storage.ingest import LoadReport, ingest
from metrics.storage.store import DB_ENV, PROJECT_ROOT, connect
from tests.hostile.corpus import BASE_COUNTS, BY_NAME, CASES, EXPORT_COLUMNS, WEEKLY_KEYS, Case, build
from ui import navigation

SERVICE_TABLES = ("quarantine", "settings", "loads")
CACHE_ENV = "SUPPORT_ANALYTICS_CACHE"  # metrics.tools.cli.CACHE_ENV: where read commands keep their stores
FATAL = [c.name for c in CASES if c.expect == "fatal"]
LOADING = [c.name for c in CASES if c.expect != "fatal"]
AS_OF = "2026-12-01T00:00:00Z"
WEEK = "2026-W11"
MAX_MESSAGE = 700


def dashboard_pages() -> list[str]:
    """The page scripts dashboard.py navigates to (ui.navigation.PAGES)."""
    return [p.script for p in navigation.PAGES]


def snapshot(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, in a stable order."""
    con = connect(db_path, read_only=True)
    try:
        names = [t.name for t in TABLES] + list(SERVICE_TABLES)
        return {name: con.execute(f"select * from {name} order by all").fetchall() for name in names}
    finally:
        con.close()


def query(db_path: Path, sql: str) -> Any:
    con = connect(db_path, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------- the corpus itself


def test_the_corpus_is_large_and_covers_every_outcome():
    """At least 45 datasets with unique names, each outcome represented, quarantine cases naming file and line."""
    assert len(CASES) >= 45
    assert len(BY_NAME) == len(CASES)
    outcomes = {c.expect for c in CASES}
    assert outcomes == {"fatal", "quarantine", "loads"}
    for case in CASES:
        if case.expect == "quarantine":
            assert case.file and case.line >= 1 and isinstance(case.detail, str), case.name
        if case.expect == "fatal":
            assert case.fragments, case.name


def test_the_pages_come_from_the_dashboard():
    """The page list is read from dashboard.py and every entry exists."""
    pages = dashboard_pages()
    assert len(pages) >= 8
    for page in pages:
        assert (PROJECT_ROOT / page).is_file(), page


# ---------------------------------------------------------------- fatal: one sentence, nothing changes


def assert_one_sentence(message: str, case: Case, private: list[str]) -> None:
    """A fatal message is one short printable line naming what the case says, revealing nothing private."""
    assert "\n" not in message and "\r" not in message, repr(message)
    assert "Traceback" not in message, message
    assert len(message) < MAX_MESSAGE, f"{len(message)} characters: {message[:200]}..."
    assert message.isprintable(), repr(message)
    for path in private:
        assert path not in message, f"the message shows the path {path}: {message}"
    for fragment in case.fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in: {message}"
    for secret in case.forbidden:
        assert secret not in message, f"{secret!r} in: {message}"


@pytest.mark.parametrize("name", FATAL)
def test_fatal_dataset_stops_with_one_sentence_and_changes_nothing(name: str, tmp_path: Path,
                                                                   tmp_path_factory: pytest.TempPathFactory):
    """The load raises LoadError naming the file or key and what was expected; every stored table is unchanged."""
    case = BY_NAME[name]
    store = tmp_path / "store.duckdb"
    if case.store is None:
        ingest(build(BY_NAME["base"], tmp_path / "good"), store)
        before: object = snapshot(store)
    else:
        store.write_bytes(case.store)
        before = store.read_bytes()
    folder = build(case, tmp_path / "bad")
    with pytest.raises(LoadError) as info:
        ingest(folder, store)
    base = tmp_path_factory.getbasetemp()
    private = sorted({str(base), str(base.resolve()), str(tmp_path), str(tmp_path.resolve())})
    assert_one_sentence(str(info.value), case, private)
    after = store.read_bytes() if case.store is not None else snapshot(store)
    assert after == before, "the failed load changed the store"


# ---------------------------------------------------------------- datasets that load


@dataclass
class Loaded:
    folder: Path
    store: Path
    report: LoadReport | None
    error: str = ""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Loaded]]:
    """Each loading dataset built and loaded into its own store once, on first use."""
    root = tmp_path_factory.mktemp("hostile")

    class Stores(dict[str, Loaded]):
        def __missing__(self, name: str) -> Loaded:
            case = BY_NAME[name]
            folder = build(case, root / name)
            store = root / name / "store.duckdb"
            try:
                loaded = Loaded(folder, store, ingest(folder, store))
            except LoadError as exc:
                loaded = Loaded(folder, store, None, f"LoadError: {exc}")
            except Exception as exc:
                loaded = Loaded(folder, store, None, f"{type(exc).__name__}: {exc}")
            self[name] = loaded
            return loaded

    yield Stores()


def require_store(loaded: Loaded) -> None:
    if loaded.report is None:
        pytest.fail(f"the dataset should load but did not: {loaded.error[:500]}")


@pytest.mark.parametrize("name", LOADING)
def test_dataset_loads_with_the_expected_quarantine(name: str, corpus: dict[str, Loaded]):
    """The load succeeds; the named row is quarantined with its rule, file and line (or nothing is); good rows stay."""
    case, loaded = BY_NAME[name], corpus[name]
    require_store(loaded)
    assert loaded.report is not None
    rows = query(loaded.store, "select file, line, rule from quarantine order by file, line")
    if case.expect == "loads":
        assert not rows, f"a clean dataset had rows quarantined: {rows[:5]}"
        assert loaded.report.total_quarantined == 0
    else:
        assert (case.file, case.line, case.detail) in rows, f"quarantined: {rows[:10]}"
        assert loaded.report.quarantined[(case.file, case.detail)] >= 1, loaded.report.quarantined
    for table, n in case.stored.items():
        assert query(loaded.store, f"select count(*) from {table}")[0][0] == n, table
    for sql, expected in case.checks:
        value = query(loaded.store, sql)[0][0]
        assert value == (pytest.approx(expected) if isinstance(expected, float) else expected), sql


def test_the_base_dataset_stores_every_row(corpus: dict[str, Loaded]):
    """The base every fatal case is loaded over holds all its rows, so an unchanged store is a real check."""
    require_store(corpus["base"])
    for table, n in BASE_COUNTS.items():
        assert query(corpus["base"].store, f"select count(*) from {table}")[0][0] == n, table


def markdown_texts(at: AppTest) -> list[str]:
    """The text of every element Streamlit renders as Markdown."""
    kinds = ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success")
    texts = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    texts += [str(m.label) for m in at.metric]
    return texts


@pytest.mark.parametrize("name", LOADING)
def test_every_page_renders(name: str, corpus: dict[str, Loaded], monkeypatch: pytest.MonkeyPatch):
    """Every page of dashboard.py runs to the end on the store without an exception element."""
    case, loaded = BY_NAME[name], corpus[name]
    require_store(loaded)
    monkeypatch.setenv(DB_ENV, str(loaded.store))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    failures = []
    raw_markup = []
    for page in dashboard_pages():
        at.switch_page(page)
        try:
            at.run()
        except Exception as exc:  # AppTest's own timeout or a crash of the script runner
            failures.append(f"{page}: {type(exc).__name__}: {exc}")
            continue
        for e in at.exception:
            where = next((line.strip() for line in reversed(e.stack_trace or []) if "File " in line), "")
            failures.append(f"{page}: {e.value} [{where}]")
        raw_markup += [f"{page}: {m!r}" for text in markdown_texts(at) for m in case.markup if m in text]
    assert not failures, "\n".join(failures)
    assert not raw_markup, "data reached Markdown unescaped:\n" + "\n".join(raw_markup[:10])


def run_cli(commands: dict[str, list[str]], cache: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run `python -m metrics` commands side by side (they share the dataset's cache store)."""
    env = {**os.environ, CACHE_ENV: str(cache)}
    env.pop(DB_ENV, None)
    procs = {
        key: subprocess.Popen(
            [sys.executable, "-m", "metrics", *args],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for key, args in commands.items()
    }
    done = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        done[key] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def is_user_error(result: subprocess.CompletedProcess[str]) -> bool:
    """Exit 2 with one `error:` line, last on stderr."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return result.returncode == 2 and len(errors) == 1 and result.stderr.strip().endswith(errors[0])


@pytest.mark.parametrize("name", LOADING)
def test_cli_commands_serve_the_dataset(name: str, corpus: dict[str, Loaded], tmp_path: Path):
    """export obligations, explain, weekly json and html exit 0 (explain may refuse a case in one line); no traceback."""
    case, loaded = BY_NAME[name], corpus[name]
    require_store(loaded)
    folder, out = str(loaded.folder), tmp_path / "obligations.csv"
    results = run_cli(
        {
            "export": ["export", "obligations", folder, "--as-of", AS_OF, "--out", str(out)],
            "explain": ["explain", folder, "--case", case.case_id],
            "weekly json": ["weekly", folder, "--account", case.account, "--week", WEEK, "--format", "json"],
            "weekly html": ["weekly", folder, "--account", case.account, "--week", WEEK, "--format", "html"],
        },
        tmp_path / "cache",
    )
    problems = [f"{key}: Traceback on stderr: ...{r.stderr[-600:]}" for key, r in results.items() if "Traceback" in r.stderr]
    for key, r in results.items():
        ok = r.returncode == 0 or (key == "explain" and is_user_error(r))
        if not ok:
            problems.append(f"{key}: exit {r.returncode}: {r.stderr.strip()[-600:]}")
    assert not problems, "\n".join(problems)
    with out.open(newline="", encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == EXPORT_COLUMNS
    summary = json.loads(results["weekly json"].stdout)  # every key: test_weekly_json_has_the_spec_keys
    assert (summary["account_id"], summary["week"]) == (case.account, WEEK)
    html = results["weekly html"].stdout
    assert "<html" in html.lower()
    for markup in (m for m in case.markup if "<" in m):  # in HTML only tags are live; `[x](u)` is plain text
        assert markup not in html, f"{markup!r} reached the weekly HTML unescaped"


def test_cli_refuses_an_unknown_account_in_one_line(corpus: dict[str, Loaded], tmp_path: Path):
    """`weekly` for an account the dataset lacks is a user error: exit 2, one `error:` line, no traceback."""
    loaded = corpus["base"]
    require_store(loaded)
    result = run_cli(
        {"weekly": ["weekly", str(loaded.folder), "--account", "NO-SUCH-ACCOUNT", "--week", WEEK]}, tmp_path / "cache"
    )["weekly"]
    assert "Traceback" not in result.stderr, result.stderr[-600:]
    assert is_user_error(result), (result.returncode, result.stderr[-600:])


def test_weekly_json_has_the_spec_keys(corpus: dict[str, Loaded], tmp_path: Path):
    """`weekly --format json` holds at least the keys of sla-rules.md section 7 (checked once, on the base)."""
    loaded = corpus["base"]
    require_store(loaded)
    result = run_cli(
        {"weekly": ["weekly", str(loaded.folder), "--account", "A1", "--week", WEEK, "--format", "json"]},
        tmp_path / "cache",
    )["weekly"]
    assert result.returncode == 0, result.stderr[-600:]
    missing = set(WEEKLY_KEYS) - set(json.loads(result.stdout))
    assert not missing, f"keys the spec requires are missing: {sorted(missing)}"
