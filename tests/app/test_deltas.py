"""Every page's delta compares a month-aligned period with the previous calendar month.

The expected numbers are counted here with plain SQL over the engine's obligations and the
stored case_changes (never through the metric functions the pages call): March 2026 against
February 2026 (1..28), not against the 31 days before March (January 29 .. February 28).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import Snapshot, take_snapshot
from metrics.storage.store import PROJECT_ROOT, connect

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
FEBRUARY = (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
DAYS_BEFORE = (dt.date(2026, 1, 29), dt.date(2026, 2, 28))  # what stepping back 31 days would compare with
TZ = "America/Denver"  # the sample's reporting timezone


@pytest.fixture(scope="module")
def engine(sample_db: Path) -> Iterator[Snapshot]:
    """The engine's run as of the sample's latest instant: the moment the pages use by default."""
    con = connect(sample_db, read_only=True)
    try:
        yield take_snapshot(con, latest_instant(con))
    finally:
        con.close()


def attainment(snap: Snapshot, period: tuple[dt.date, dt.date], kind: str) -> float:
    """met / (met + breached) over obligations of `kind` whose start_at falls in the period (local dates)."""
    row = snap.query(
        """select count(*) filter (where status = 'met') as met, count(*) filter (where status = 'breached') as breached
           from obligations where kind = ? and cast(timezone(?, start_at) as date) between ? and ?""",
        [kind, TZ, *period],
    ).to_pylist()[0]
    return row["met"] / (row["met"] + row["breached"])


def escalated_share(snap: Snapshot, period: tuple[dt.date, dt.date]) -> float:
    """Cases opened in the period (local dates) with a breach or a recorded escalation up to the as-of, / opened."""
    row = snap.query(
        """select count(*) as opened,
                  count(*) filter (where case_id in (select case_id from obligations where status = 'breached')
                                      or case_id in (select case_id from case_changes
                                                     where field = 'escalation' and "at" <= ?)) as escalated
           from cases where cast(timezone(?, opened_at) as date) between ? and ?""",
        [snap.as_of, TZ, *period],
    ).to_pylist()[0]
    return row["escalated"] / row["opened"]


def escalations(snap: Snapshot, period: tuple[dt.date, dt.date]) -> int:
    """Breaches by breached_at plus recorded escalation rows by their instant, in the period (local dates)."""
    breaches = snap.query(
        "select count(*) as n from obligations where status = 'breached' and cast(timezone(?, breached_at) as date) "
        "between ? and ?",
        [TZ, *period],
    ).to_pylist()[0]["n"]
    recorded = snap.con.execute(
        """select count(*) from case_changes where field = 'escalation' and "at" <= ?
           and cast(timezone(?, "at") as date) between ? and ?""",
        [snap.as_of, TZ, *period],
    ).fetchall()[0][0]
    return int(breaches + recorded)


def pp(now: float, before: float) -> str:
    return f"{(now - before) * 100:+.1f} pp"


def open_with_march(page: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page(page)
    at.session_state["period"] = MARCH  # the sidebar widget's key
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def tile(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


@pytest.mark.parametrize("page", ["views/overview.py", "views/sla_attainment.py", "views/governance.py"])
@pytest.mark.parametrize(
    ("kind", "label"), [("initial", "Initial response attainment"), ("follow_up", "Follow-up attainment")]
)
def test_attainment_delta_of_a_month_is_against_the_previous_month(app_env, engine, page, kind, label):
    """March's per-kind attainment tile shows March minus February in percentage points."""
    march = attainment(engine, MARCH, kind)
    expected = pp(march, attainment(engine, FEBRUARY, kind))
    shown = tile(open_with_march(page), label)
    assert shown.value == f"{march * 100:.1f} %"
    assert shown.delta == expected


def test_the_two_rules_tell_apart_on_the_sample(engine):
    """March compared with 31 days back would give another delta: the tests above can tell the rules apart."""
    for kind in ("initial", "follow_up"):
        march = attainment(engine, MARCH, kind)
        assert pp(march, attainment(engine, FEBRUARY, kind)) != pp(march, attainment(engine, DAYS_BEFORE, kind))


def test_escalation_count_delta_of_a_month_is_against_the_previous_month(app_env, engine):
    """The Escalations page's policy + recorded events of March compare with February's, not 31 days back."""
    march, february = escalations(engine, MARCH), escalations(engine, FEBRUARY)
    assert february != escalations(engine, DAYS_BEFORE)
    at = open_with_march("views/escalations.py")
    policy, recorded = tile(at, "Policy escalations (breaches)"), tile(at, "Recorded escalations")
    assert int(policy.value.replace(",", "")) + int(recorded.value.replace(",", "")) == march
    assert march != february


def test_overview_escalations_tile_is_the_share_of_cases_escalated(app_env, engine):
    """Overview's Escalations tile: cases opened in March that were ever escalated, delta in pp vs February."""
    march, february = escalated_share(engine, MARCH), escalated_share(engine, FEBRUARY)
    shown = tile(open_with_march("views/overview.py"), "Escalations")
    assert shown.value == f"{march * 100:.1f} % of cases"
    assert shown.delta == pp(march, february)
