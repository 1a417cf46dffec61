"""The real app in headless Chromium: `streamlit run` on a free port, driven by Playwright.

Uses Debian's Chromium (`apt-get install chromium`), never a downloaded browser; where
it is missing the tests skip and say so. `.ci/run` installs it, so CI always runs them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from metrics.storage.store import DB_ENV, PROJECT_ROOT
from tests.app.serving import CHROMIUM, NO_CHROMIUM, chromium_page, served_app, wait_until_idle
from ui import navigation

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on the bundled sample, once for the module."""
    env = {DB_ENV: str(tmp_path_factory.mktemp("browser") / "sample.duckdb")}
    with served_app(env, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url: str):
    with chromium_page() as p:
        yield p


PAGES = navigation.PAGES


def test_filters_live_in_the_url(page, app_url: str):
    """A shared address with filters opens with them applied, even as the server's very first request."""
    page.goto(f"{app_url}/active_tickets?severity=1")
    page.get_by_role("heading", name="Active tickets").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    one = page.locator('[data-testid="stMetric"]').first.inner_text()
    page.goto(f"{app_url}/active_tickets")
    page.get_by_role("heading", name="Active tickets").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    everything = page.locator('[data-testid="stMetric"]').first.inner_text()
    assert one != everything


def test_every_page_through_the_navigation(page, app_url: str):
    """Each page opens from the top navigation, draws its title, and shows no exception; screenshots kept."""
    page.goto(app_url)
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for spec in PAGES:
        page.get_by_role("link", name=spec.title, exact=True).first.click()
        page.get_by_role("heading", name=spec.heading).first.wait_for(timeout=120_000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, f"exception on {spec.title}"
        page.screenshot(path=str(ARTIFACTS / f"{spec.name}.png"), full_page=True)
