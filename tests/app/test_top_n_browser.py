"""The top-N control in headless Chromium: a shared address with a size and a search draws those bars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from metrics.engine.freshness import data_bounds
from metrics.engine.snapshot import Snapshot, take_snapshot
from metrics.storage.store import DB_ENV, connect_published
from metrics.subjects.active import active_tickets
from metrics.subjects.attainment import attainment_table
from metrics.subjects.filters import Filters
from tests.app.serving import CHROMIUM, NO_CHROMIUM, chromium_page, served_app, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


@pytest.fixture(scope="module")
def app_url(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on the session's sample store, once for the module."""
    with served_app({DB_ENV: str(sample_db)}, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page():
    with chromium_page(width=1440, height=1000) as page:
        yield page


@pytest.fixture(scope="module")
def snap(sample_db: Path) -> Snapshot:
    con = connect_published(sample_db)
    return take_snapshot(con, data_bounds(con).latest.isoformat())


def open_page(page: Any, url: str, heading: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
    wait_until_idle(page)


def test_a_size_in_the_address_draws_that_many_clocks(page, app_url: str, snap: Snapshot):
    """/active_tickets?active_top_n=50: 50 bars, a caption of 50 of every running clock in the default states."""
    open_page(page, f"{app_url}/active_tickets?active_top_n=50", "Active tickets")
    queue = active_tickets(snap)
    running = int((queue["clock_state"].isin(["breached", "at_risk", "no_clock", "on_track", "paused"])
                   & queue["consumed"].notna()).sum())
    assert running > 50  # the sample's queue is longer than the size asked for
    caption = f"50 of {running:,} running clocks shown"
    assert page.get_by_text(caption).count() == 1
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.scroll_into_view_if_needed()  # a chart below the fold is drawn once it is scrolled to
    chart.locator(".ytick").first.wait_for(timeout=30_000)
    assert chart.locator(".ytick").count() == 50


def test_a_search_in_the_address_narrows_the_compare_by_chart(page, app_url: str, snap: Snapshot):
    """?sla_by_top_search=bank: only accounts with 'bank' in their name, counted in the caption (Sep-Nov 2026)."""
    open_page(page, f"{app_url}/sla_attainment?period=2026-09-01&period=2026-11-27&sla_by_top_search=bank",
              "SLA attainment")
    period = Filters(start=dt.date(2026, 9, 1), end=dt.date(2026, 11, 27))
    by_account = attainment_table(snap, by=["account_name"], filters=period)
    decided = by_account[(by_account["met"] + by_account["breached"]) > 0]
    banks = int(decided["account_name"].str.contains("bank", case=False).sum())
    assert 0 < banks < len(decided)
    caption = f"{min(banks, 25)} of {banks} accounts matching “bank” shown ({len(decided)} in all)"
    assert page.get_by_text(caption).count() == 1
