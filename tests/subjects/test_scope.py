"""A scope of one account, walked over the whole metric registry.

For the bundled sample narrowed by `Scope({ACC-0002})` (what the dashboard does to every
request of a subscriber of that account), every registered metric, with every dimension it
accepts: returns no row of another account, and equals the same metric computed on a store
that holds that account's rows only (the dataset cut by plain file filtering, loaded
separately). So nothing the scoped view shows is computed from another account's data.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import metrics.subjects  # noqa: F401  (the complete registry)
from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ensure_store, ingest
from metrics.storage.store import PROJECT_ROOT, connect
from metrics.subjects import registry
from metrics.subjects.filters import Filters
from metrics.subjects.scope import NO_ACCOUNT, Scope, advisor_book

SAMPLE = PROJECT_ROOT / "data" / "sample"
ACCOUNT = "ACC-0002"
NAME = "Zenith Bank Inc."  # accounts.parquet, read by eye
BY_ACCOUNT = ("accounts", "subscriptions", "contacts", "standing", "engagements", "cases")
BY_CASE = ("responses", "case_changes")
PERIODS = (Filters(), Filters(start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30)))


def _one_account_dataset(folder: Path) -> Path:
    """The sample's files keeping only ACCOUNT's rows (and its cases' responses and changes)."""
    folder.mkdir()
    shutil.copy(SAMPLE / "config.toml", folder / "config.toml")
    con = duckdb.connect()
    cases = f"read_parquet('{SAMPLE / 'cases.parquet'}')"
    for table in BY_ACCOUNT:
        con.execute(f"copy (select * from read_parquet('{SAMPLE / table}.parquet') where account_id = ?) "
                    f"to '{folder / table}.parquet' (format parquet)", [ACCOUNT])
    for table in BY_CASE:
        con.execute(f"copy (select * from read_parquet('{SAMPLE / table}.parquet') where case_id in "
                    f"(select case_id from {cases} where account_id = ?)) to '{folder / table}.parquet' "
                    "(format parquet)", [ACCOUNT])
    con.close()
    return folder


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, Snapshot]:
    """(the whole sample, ACCOUNT alone), both as of the whole sample's latest instant."""
    tmp = tmp_path_factory.mktemp("scope")
    whole = ensure_store(tmp / "sample.duckdb")
    con = connect(whole, read_only=True)
    try:
        latest = latest_instant(con)
    finally:
        con.close()
    alone = tmp / "alone.duckdb"
    ingest(_one_account_dataset(tmp / "alone"), alone)
    return open_snapshot(whole, latest), open_snapshot(alone, latest)


def _calls() -> list[tuple[str, dict[str, Any]]]:
    calls = []
    for name, m in sorted(registry.METRICS.items()):
        options: list[tuple[str, ...]] = ([] if m.needs_dimension else [()]) + [(d,) for d in m.dimensions]
        for by in options:
            calls.append((name, {"by": by} if by or m.dimensions else {}))
    return calls


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        return _same_frame(a, b)
    return bool(a == b)


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    if a.empty:
        return True
    order = list(a.columns)  # row order aside: sort both on their text, then compare values (not dtypes)
    left = a.loc[a.astype(str).sort_values(order).index].reset_index(drop=True)
    right = b.loc[b.astype(str).sort_values(order).index].reset_index(drop=True)
    try:  # an int column of the whole book may be float there (a NaN in another account's row)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=False, rtol=1e-9)
    except AssertionError:
        return False
    return True


def _foreign_rows(value: Any) -> list[str]:
    """Account ids or names other than ACCOUNT's anywhere in a frame (or the frames of a dict)."""
    frames = [value] if isinstance(value, pd.DataFrame) else [v for v in value.values() if isinstance(v, pd.DataFrame)] \
        if isinstance(value, dict) else []
    found: list[str] = []
    for frame in frames:
        for column, own in (("account_id", ACCOUNT), ("account_name", NAME), ("account", NAME), ("name", NAME)):
            if column in frame.columns:
                found += [str(v) for v in frame[column].dropna().unique() if v not in (own, ACCOUNT)]
    return found


@pytest.mark.parametrize(("name", "options"), _calls(), ids=lambda v: str(v))
@pytest.mark.parametrize("period", PERIODS, ids=["all time", "2026-Q3"])
def test_one_account_scope_equals_that_account_alone(snapshots, name, options, period):
    whole, alone = snapshots
    function = registry.METRICS[name].function
    scoped = function(whole, filters=Scope(frozenset({ACCOUNT})).restrict(period), **options)
    assert _foreign_rows(scoped) == [], f"{name} {options} shows another account"
    by_itself = function(alone, filters=period, **options)
    assert _close(scoped, by_itself), f"{name} {options}: scoped\n{scoped}\n!= that account alone\n{by_itself}"


def test_restrict_never_widens():
    """An empty choice becomes the scope; a choice outside it becomes NO_ACCOUNT (never 'all')."""
    scope = Scope(frozenset({"A1", "A2"}))
    assert scope.restrict(Filters()).accounts == ("A1", "A2")
    assert scope.restrict(Filters(accounts=("A2", "A9"))).accounts == ("A2",)
    assert scope.restrict(Filters(accounts=("A9",))).accounts == (NO_ACCOUNT,)
    assert Scope(frozenset()).restrict(Filters()).accounts == (NO_ACCOUNT,)
    assert Scope(None).restrict(Filters(accounts=("A9",))).accounts == ("A9",)
    assert advisor_book("Ann", {"A1": "Ann", "A2": None, "A3": "ann"}) == frozenset({"A1"})
