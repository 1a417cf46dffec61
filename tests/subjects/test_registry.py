"""The registry, walked generically on the bundled sample, and the one previous-period rule.

Every registered metric runs with every dimension it accepts and every grain it supports;
for counts, the sum over any dimension equals the ungrouped total (per period with a grain).
The previous-period cases below are calendar arithmetic worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics.subjects  # noqa: F401  (the complete registry)
from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ensure_store
from metrics.storage.store import connect
from metrics.subjects import registry
from metrics.subjects.filters import PERIOD_GRAINS, Filters, previous_period

QUARTER = Filters(start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30))  # Q3 of the sample (2024-11 .. 2026-11)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The bundled sample, ingested once for this module, as of its latest instant."""
    db = ensure_store(tmp_path_factory.mktemp("registry") / "sample.duckdb")
    con = connect(db, read_only=True)
    try:
        latest = latest_instant(con)
    finally:
        con.close()
    return open_snapshot(db, latest)


def _grain_options(m: registry.Metric) -> list[str | None]:
    """Each supported grain, and no grain at all where the function allows it."""
    if not m.grains:
        return [None]
    default = inspect.signature(m.function).parameters["grain"].default
    return ([None] if default is None else []) + list(m.grains)


def _dimension_options(m: registry.Metric) -> list[tuple[str, ...]]:
    return ([] if m.needs_dimension else [()]) + [(d,) for d in m.dimensions]


CASES = [
    pytest.param(m.name, by, grain, id=f"{m.name}-{'+'.join(by) or 'all'}-{grain or 'whole'}")
    for m in registry.METRICS.values()
    for by in _dimension_options(m)
    for grain in _grain_options(m)
]


def run(snap: Snapshot, name: str, by: tuple[str, ...], grain: str | None) -> Any:
    m = registry.get(name)
    kwargs: dict[str, Any] = {"filters": QUARTER}
    if m.dimensions:
        kwargs["by"] = by
    if m.grains:
        kwargs["grain"] = grain
    return m.function(snap, **kwargs)


_totals: dict[tuple[str, str | None], pd.DataFrame] = {}


def totals(snap: Snapshot, m: registry.Metric, grain: str | None) -> pd.DataFrame:
    """The additive columns' totals (per period with a grain), ungrouped or over the first dimension."""
    key = (m.name, grain)
    if key not in _totals:
        by = (m.dimensions[0],) if m.needs_dimension else ()
        _totals[key] = _sum(run(snap, m.name, by, grain), m, grain)
    return _totals[key]


def _sum(frame: pd.DataFrame, m: registry.Metric, grain: str | None) -> pd.DataFrame:
    """The additive columns summed over all rows, or per period with a grain."""
    columns = list(m.additive)
    if grain is None:
        return frame[columns].sum().to_frame().T.astype("int64")
    return frame.groupby("period")[columns].sum().astype("int64")


@pytest.mark.parametrize(("name", "by", "grain"), CASES)
def test_every_metric_runs_with_each_dimension_and_grain(sample, name, by, grain):
    """Each metric returns its result on the sample; grouped frames carry the keys, counts add up."""
    m = registry.get(name)
    result = run(sample, name, by, grain)
    assert isinstance(result, pd.DataFrame | dict)
    if not isinstance(result, pd.DataFrame):
        return
    assert set(by) <= set(result.columns)
    if grain is not None:
        assert "period" in result.columns
    if m.additive and by:
        assert not result.empty, "Q3 of the sample has events of every kind"
        pd.testing.assert_frame_equal(_sum(result, m, grain), totals(sample, m, grain))


def test_every_function_takes_what_it_registered():
    """A metric's signature has `filters`, a `by` exactly when it has dimensions, a `grain` when grains."""
    for m in registry.METRICS.values():
        parameters = inspect.signature(m.function).parameters
        assert next(iter(parameters)) == "snap" and "filters" in parameters, m.name
        assert ("by" in parameters) == bool(m.dimensions), m.name
        assert ("grain" in parameters) == bool(m.grains), m.name
        assert set(m.grains) <= set(PERIOD_GRAINS)


def test_every_dimension_is_accepted_somewhere_and_unknown_ones_are_refused():
    """DIMENSIONS holds no dead entry, and check_dimensions refuses anything a metric did not register."""
    accepted = {d for m in registry.METRICS.values() for d in m.dimensions}
    assert accepted == set(registry.DIMENSIONS)
    assert [d.name for d in registry.check_dimensions("attainment_table", ["region", "kind"])] == ["region", "kind"]
    with pytest.raises(ValueError, match="cannot group by 'owner': attainment_table accepts kind"):
        registry.check_dimensions("attainment_table", ["owner"])
    with pytest.raises(ValueError, match="cannot group by 'kind'"):
        registry.check_dimensions("escalation_trend", ["kind"])
    with pytest.raises(ValueError, match="needs at least one group key"):
        registry.check_dimensions("paused_share", [])
    with pytest.raises(ValueError, match="period grain"):
        registry.check_grain("escalation_trend", "year")
    with pytest.raises(ValueError, match="not a registered metric"):
        registry.get("governance_review")


def test_a_dimension_is_written_once_for_every_source():
    """One expression per dimension over whichever alias: '(none)' stands in for a missing package."""
    assert registry.DIMENSIONS["package"].sql("e") == "coalesce(e.package, '(none)')"
    assert registry.DIMENSIONS["region"].sql("f") == "f.region"
    assert registry.group_columns("attainment_table", ["advisor"], "o") == ["coalesce(o.advisor, '(none)') as advisor"]


def test_the_dashboard_whitelist_is_the_registry():
    """ui.state.METRICS is exactly the registered functions (imported lazily: it needs Streamlit)."""
    from ui import state

    assert {name: m.function for name, m in registry.METRICS.items()} == state.METRICS


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        ("2026-07-01", "2026-09-30", ("2026-04-01", "2026-06-30")),  # Q3 (92 days) -> Q2 (91 days), not 03-31
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),  # March -> February, not 01-29..02-28
        ("2028-03-01", "2028-03-31", ("2028-02-01", "2028-02-29")),  # March of a leap year -> its 29-day February
        ("2028-02-01", "2028-02-29", ("2028-01-01", "2028-01-31")),  # leap February -> January, not 01-03..01-31
        ("2026-01-01", "2026-01-31", ("2025-12-01", "2025-12-31")),  # across the year
        ("2026-11-01", "2027-02-28", ("2026-07-01", "2026-10-31")),  # four months -> the four before
        ("2026-03-02", "2026-03-08", ("2026-02-23", "2026-03-01")),  # an ISO week -> 7 days back
        ("2026-03-01", "2026-03-30", ("2026-01-30", "2026-02-28")),  # from a first, not to a month end: 30 days
        ("2026-03-15", "2026-04-14", ("2026-02-12", "2026-03-14")),  # mid-month to mid-month: 31 days back
        ("2026-03-10", "2026-03-10", ("2026-03-09", "2026-03-09")),  # one day -> the day before
    ],
)
def test_the_previous_period_rule(start, end, previous):
    """Whole calendar months step back whole months; anything else steps back its length in days."""
    filters = Filters(start=d(start), end=d(end), packages=("Gold",), severities=(1,))
    expected = Filters(start=d(previous[0]), end=d(previous[1]), packages=("Gold",), severities=(1,))
    assert filters.previous() == expected
    assert previous_period(filters) == expected


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(start=dt.date(2026, 3, 1)), Filters(end=dt.date(2026, 3, 31))],
    ids=["no period", "no end", "no start"],
)
def test_an_open_ended_period_has_no_previous_period(filters):
    assert filters.previous() is None


def test_the_registry_needs_no_importlib():
    """Registration is plain imports: no module of metrics.subjects loads another by name."""
    folder = Path(registry.__file__).parent
    for path in folder.glob("*.py"):
        assert "importlib" not in path.read_text(), path.name
