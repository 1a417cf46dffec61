"""Metrics read from per-snapshot cubes give exactly what the per-row queries they replaced gave.

Each reference below is the metric's query as it was before its cube, run on the bundled
sample's rows (every column compared, floats bit for bit), for every dimension the
metric accepts and filters that cut the period, the severity and the attributes.
utilization_by_term now filters one per-snapshot table of every term; before, it filtered
the terms first and then computed their usage.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import metrics.subjects  # noqa: F401  (the complete registry)
from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ensure_store
from metrics.storage.store import connect
from metrics.subjects.filters import Filters
from metrics.subjects.governance import PAUSE_DIMENSIONS, PAUSED_SQL, paused_share
from metrics.subjects.registry import group_columns
from metrics.subjects.utilization import BY_TERM_SQL, TERMS_SQL, entitlement_table, utilization_by_term

FILTERS = [
    Filters(),
    Filters(start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30)),
    Filters(start=dt.date(2026, 3, 8), end=dt.date(2026, 3, 8)),  # a DST day in the sample's zone
    Filters(start=dt.date(2026, 1, 1), severities=(1, 2)),
    Filters(end=dt.date(2025, 12, 31), severities=(3,)),
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The bundled sample, ingested once for this module, as of its latest instant."""
    db = ensure_store(tmp_path_factory.mktemp("cubes") / "sample.duckdb")
    con = connect(db, read_only=True)
    try:
        latest = latest_instant(con)
    finally:
        con.close()
    return open_snapshot(db, latest)


def _paused_share_per_row(snap: Snapshot, filters: Filters, by: tuple[str, ...]) -> pd.DataFrame:
    """paused_share as it was computed before its cube: one row per follow-up, grouped at query time."""
    lives = PAUSED_SQL[: PAUSED_SQL.index("-- the cube")].rstrip().rstrip(",") + """
        select l.*, f.package, f.region, f.advisor, f.account_id, f.account_name, f.owner
        from lives l join case_facts f using (case_id)
    """
    rows = snap.query(lives, {"as_of": snap.as_of})
    where, params = filters.where("f", "f.start_at", snap.reporting_timezone, severity="f.severity")
    keys = ", ".join(by)
    cur = snap.cursor()
    try:
        cur.register("follow_up_lives", rows)
        frame = cur.sql(
            f"""
            select {", ".join(group_columns(paused_share, by, "f"))},
                   count(*) as follow_ups,
                   count(*) filter (where paused_s > 0) as paused_follow_ups,
                   cast(sum(life_s - paused_s) as bigint) as running_seconds,
                   cast(sum(paused_s) as bigint) as paused_seconds,
                   sum(paused_s) / nullif(sum(life_s), 0) as paused_share,
                   cast(sum(clock_running_s) as bigint) as clock_running_seconds,
                   cast(sum(clock_paused_s) as bigint) as clock_paused_seconds,
                   sum(clock_paused_s) / nullif(sum(clock_paused_s + clock_running_s), 0) as clock_paused_share
            from follow_up_lives f
            where {where}
            group by {keys}
            order by {keys}
            """,
            params=params,
        ).to_df()
    finally:
        cur.close()
    for column in ("paused_share", "clock_paused_share"):
        frame[column] = frame[column].astype("float64")
    return frame


@pytest.mark.parametrize("by", [(d,) for d in PAUSE_DIMENSIONS] + [("owner", "severity")])
@pytest.mark.parametrize("filters", FILTERS)
def test_paused_share_from_its_cube_equals_the_per_row_query(sample: Snapshot, filters: Filters, by: tuple[str, ...]):
    """Every column of paused_share, read from the per-day cube, equals the per-follow-up query's."""
    expected = _paused_share_per_row(sample, filters, by)
    actual = paused_share(sample, filters=filters, by=by)
    assert len(expected) > 0 or filters.severities  # the sample has follow-ups in these periods
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)


def _utilization_by_term_filtered_first(snap: Snapshot, filters: Filters) -> pd.DataFrame:
    """utilization_by_term as it was before its per-snapshot table: the terms filtered, then their usage computed."""
    account_filters = Filters(packages=filters.packages, regions=filters.regions, advisors=filters.advisors,
                              accounts=filters.accounts)  # severities describe cases, not terms
    where, params = account_filters.where("t")
    parts = ["t.term_start <= t.as_of_date", f"coalesce(({where}), false)"]
    if filters.start is not None:
        parts.append("t.term_end >= ?")
        params.append(filters.start)
    if filters.end is not None:
        parts.append("t.term_start <= ?")
        params.append(filters.end)
    cur = snap.cursor()
    try:
        cur.register("package_entitlements", entitlement_table(snap.config))
        cur.execute(
            f"create temp table utilization_terms as select * from ({TERMS_SQL}) t where {' and '.join(parts)}",
            [snap.as_of, *params],
        )
        return cur.sql(BY_TERM_SQL).to_arrow_table().to_pandas()
    finally:
        cur.close()


@pytest.mark.parametrize("filters", [*FILTERS, Filters(packages=("Gold",)), Filters(regions=("emea",), severities=(1,))])
def test_utilization_by_term_from_its_table_equals_filtering_terms_first(sample: Snapshot, filters: Filters):
    """Every column of utilization_by_term, picked from the per-snapshot table of all terms, equals the old way's."""
    expected = _utilization_by_term_filtered_first(sample, filters)
    actual = utilization_by_term(sample, filters=filters)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
