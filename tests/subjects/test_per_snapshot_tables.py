"""Metrics read from per-snapshot tables give exactly what the queries they replaced gave.

Each reference below is the metric's query as it was before its per-snapshot table, run on
the bundled sample's rows (every column compared, floats bit for bit), with filters that
cut the period, the severity and the attributes. utilization_by_term now picks its terms
from one per-snapshot table of every term, and counts their cases from the cases per local
day (`case_days`); before, it filtered the terms first and then counted their cases one by one.
Governance's case counts (biggest accounts, non-authorized requests, the re-classification
cohort) and the share of cases escalated read the cases per local opening day (`case_cube`);
before, every case fact.
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
from metrics.subjects.attainment import response_times
from metrics.subjects.escalations import ESCALATION_EVENTS, escalation_summary
from metrics.subjects.filters import Filters
from metrics.subjects.governance import (
    _biggest_accounts,
    _suspended_query,
    non_authorized_requests,
    non_authorized_summary,
    reclassifications,
    suspended_accounts,
)
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
    db = ensure_store(tmp_path_factory.mktemp("terms") / "sample.duckdb")
    con = connect(db, read_only=True)
    try:
        latest = latest_instant(con)
    finally:
        con.close()
    return open_snapshot(db, latest)


# The term's cases counted straight from case_facts, as before the per-day table `case_days`.
CASES_FROM_FACTS = """with case_terms as (
    select t.account_id, t.term_start, f.submitted_severity, f.requester_authorized,
           coalesce(lower(trim(f.channel)), '') as channel
    from case_facts f
    join utilization_terms t
      on t.account_id = f.account_id
     and cast(timezone(t.timezone, f.opened_at) as date) between t.term_start and t.term_end
),
case_counts as (
    select account_id, term_start,
           count(*) as cases,
           count(*) filter (where submitted_severity = 1) as cases_sev1,
           count(*) filter (where submitted_severity = 2) as cases_sev2,
           count(*) filter (where submitted_severity = 3) as cases_sev3,
           count(*) filter (where channel = 'phone') as channel_phone,
           count(*) filter (where channel = 'email') as channel_email,
           count(*) filter (where channel = 'web') as channel_web,
           count(*) filter (where channel = 'chat') as channel_chat,
           count(*) filter (where channel not in ('phone', 'email', 'web', 'chat')) as channel_other,
           count(*) filter (where requester_authorized = false) as non_authorized_cases
    from case_terms
    group by account_id, term_start
),
"""


def _by_term_from_facts() -> str:
    start, end = BY_TERM_SQL.index("with case_counts as ("), BY_TERM_SQL.index("engagement_use as (")
    return BY_TERM_SQL[:start] + CASES_FROM_FACTS + BY_TERM_SQL[end:]


def _utilization_by_term_filtered_first(snap: Snapshot, filters: Filters) -> pd.DataFrame:
    """utilization_by_term as it was before its per-snapshot tables: the terms filtered, then their usage computed."""
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
        return cur.sql(_by_term_from_facts()).to_arrow_table().to_pandas()
    finally:
        cur.close()


@pytest.mark.parametrize("filters", [*FILTERS, Filters(packages=("Gold",)), Filters(regions=("emea",), severities=(1,))])
def test_utilization_by_term_from_its_table_equals_filtering_terms_first(sample: Snapshot, filters: Filters):
    """Every column of utilization_by_term, picked from the per-snapshot table of all terms, equals the old way's."""
    expected = _utilization_by_term_filtered_first(sample, filters)
    actual = utilization_by_term(sample, filters=filters)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)


@pytest.mark.parametrize("filters", [*FILTERS, Filters(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 1))])
def test_response_times_equal_a_pandas_scan_of_every_obligation(sample: Snapshot, filters: Filters):
    """response_times per kind, severity and package agrees with a plain pandas scan of the snapshot's obligations.

    The reference keeps every decided obligation with a target whose start_at falls on a local
    date of the period in the reporting timezone (a DST day and a day with a DST change in the
    sample's zone among them), and computes the quantiles as linear interpolation.
    """
    rows = sample.query("select * from obligations").to_pandas()  # every row, as plain values
    rows = rows[rows["status"].isin(["met", "breached"]) & rows["target_seconds"].notna()]
    local = rows["start_at"].dt.tz_convert(sample.reporting_timezone).dt.date
    if filters.start is not None:
        rows = rows[local >= filters.start]
    if filters.end is not None:
        rows = rows[local.loc[rows.index] <= filters.end]
    if filters.severities:
        rows = rows[rows["severity"].isin(filters.severities)]
    ratio = rows["elapsed_seconds"] / rows["target_seconds"]
    expected = (
        rows.assign(ratio=ratio, half=(rows["elapsed_seconds"] <= 0.5 * rows["target_seconds"]).astype(float))
        .groupby(["kind", "severity", "package"])
        .agg(obligations=("ratio", "size"),
             median_seconds=("elapsed_seconds", lambda v: v.quantile(0.5)),
             p90_seconds=("elapsed_seconds", lambda v: v.quantile(0.9)),
             median_of_target=("ratio", lambda v: v.quantile(0.5)),
             p90_of_target=("ratio", lambda v: v.quantile(0.9)),
             within_half_target=("half", "mean"))
        .reset_index()
    )
    actual = response_times(sample, filters=filters)
    assert len(expected) > 0
    keys = ["kind", "severity", "package"]
    assert actual[keys].astype(str).to_numpy().tolist() == expected[keys].astype(str).to_numpy().tolist()
    assert actual["obligations"].tolist() == expected["obligations"].tolist()
    for column in ("median_seconds", "p90_seconds", "median_of_target", "p90_of_target", "within_half_target"):
        assert actual[column].astype(float).to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-12)


# The case counts as they were read straight from case_facts, before the per-day table `case_cube`.
def _biggest_from_facts(snap: Snapshot, filters: Filters) -> pd.DataFrame:
    where, params = filters.where("f", "f.opened_at", snap.reporting_timezone)
    return snap.query(
        f"""select f.account_id, any_value(f.account_name) as account_name, any_value(f.advisor) as advisor,
                   arg_max(f.package, f.opened_at) as package, count(*) as cases_opened
            from case_facts f where {where}
            group by f.account_id order by cases_opened desc, f.account_id""",
        params,
    ).to_pandas()


def _non_authorized_from_facts(snap: Snapshot, filters: Filters) -> pd.DataFrame:
    where, params = filters.where("f", "f.opened_at", snap.reporting_timezone)
    frame = snap.query(
        f"""select f.account_id, any_value(f.account_name) as account_name, any_value(f.advisor) as advisor,
                   count(*) as cases, count(f.contact_id) as cases_with_contact,
                   count(*) - count(f.contact_id) as cases_without_contact,
                   count(*) filter (where not f.requester_authorized) as non_authorized_cases,
                   count(*) filter (where not f.requester_authorized) / count(*) as non_authorized_share,
                   coalesce(list(f.case_id order by f.case_id) filter (where not f.requester_authorized), [])
                       as non_authorized_case_ids
            from case_facts f where {where}
            group by f.account_id
            order by non_authorized_cases desc, non_authorized_share desc nulls last, f.account_id""",
        params,
    ).to_pandas()
    frame["non_authorized_share"] = frame["non_authorized_share"].astype("float64")
    return frame


def _cohort_from_facts(snap: Snapshot, filters: Filters) -> tuple[int, int, int]:
    """Cases opened, of those with a severity other than the submitted one, and with any escalation event."""
    snap.table(ESCALATION_EVENTS)
    where, params = filters.where("f", "f.opened_at", snap.reporting_timezone)
    row = snap.query(
        f"""select count(*) as opened, count(*) filter (where f.severity <> f.submitted_severity) as differs,
                   count(*) filter (where f.case_id in (select case_id from escalation_events)) as escalated
            from case_facts f where {where}""",
        params,
    ).to_pylist()[0]
    return int(row["opened"]), int(row["differs"]), int(row["escalated"])


CASE_FILTERS = [*FILTERS, Filters(packages=("Gold",)), Filters(regions=("emea",), severities=(1,)),
                Filters(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 1))]


@pytest.mark.parametrize("filters", CASE_FILTERS)
def test_case_counts_from_the_case_cube_equal_counting_case_facts(sample: Snapshot, filters: Filters):
    """Counted from the cases per local opening day, the same as counting the period's case facts one by one.

    The biggest accounts, the non-authorized requests and tiles, the cohort of re-classifications
    and the share of cases escalated (the cases escalation_events has an event of).
    """
    biggest = _biggest_from_facts(sample, filters)
    pd.testing.assert_frame_equal(_biggest_accounts(sample, filters, 10_000), biggest, check_exact=True)
    requests = _non_authorized_from_facts(sample, filters)
    pd.testing.assert_frame_equal(non_authorized_requests(sample, filters), requests, check_exact=True)
    summary = non_authorized_summary(sample, filters)
    assert summary["cases_opened"] == int(requests["cases"].sum())
    assert summary["non_authorized_cases"] == int(requests["non_authorized_cases"].sum())
    assert summary["cases_without_contact"] == int(requests["cases_without_contact"].sum())
    opened, differs, escalated = _cohort_from_facts(sample, filters)
    counts = reclassifications(sample, filters)
    assert (counts["cases_opened"], counts["cases_severity_differs"]) == (opened, differs)
    cohort = escalation_summary(sample, filters)  # the share of cases escalated: cases with any escalation event
    assert (cohort["cases_opened"], cohort["cases_escalated"]) == (opened, escalated)
    if filters == Filters():
        assert opened > 0 and differs > 0 and escalated > 0 and summary["non_authorized_cases"] > 0


def test_suspended_accounts_read_the_cases_opened_during_a_suspension(sample: Snapshot):
    """Suspensions count their cases from the snapshot's cases opened during one: the same as from every case."""
    for filters in CASE_FILTERS:
        got = suspended_accounts(sample, filters)
        cur = sample.cursor()
        try:  # every case fact in place of the cases opened during a suspension
            cur.register("suspension_cases", sample.case_facts)
            sql, values = _suspended_query(sample, filters)
            want = cur.sql(sql, params=values).to_arrow_table().to_pandas()
        finally:
            cur.close()
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert int(suspended_accounts(sample, Filters())["cases_opened"].sum()) > 0  # the sample's suspensions hold cases
