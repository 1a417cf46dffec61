"""The real app in headless Chromium: `streamlit run` on a free port, driven by Playwright.

Uses Debian's Chromium (`apt-get install chromium`), never a downloaded browser; where
it is missing the tests skip and say so. `.ci/run` installs it, so CI always runs them.
Every page is opened at 1440 and 1920 px on the bundled sample, screenshotted into
tests/artifacts/ and measured (tests/app/layout.py); test_layout.py does the same on a
store of 5,000 accounts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from metrics.storage.store import DB_ENV
from tests.app.layout import ARTIFACTS, WIDTHS, assert_readable, cases, viewports
from tests.app.serving import CHROMIUM, NO_CHROMIUM, served_app, wait_until_idle
from ui import navigation

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]
PAGES = navigation.PAGES


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on the bundled sample, once for the module."""
    env = {DB_ENV: str(tmp_path_factory.mktemp("browser") / "sample.duckdb")}
    with served_app(env, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page_at():
    """A browser page per viewport width, kept for the module."""
    with viewports() as at:
        yield at


@pytest.fixture(scope="module")
def page(page_at):
    return page_at(WIDTHS[0])


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
    """Each page opens from the top navigation, draws its title, and shows no exception."""
    page.goto(app_url)
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120_000)
    for spec in PAGES:
        page.get_by_role("link", name=spec.title, exact=True).first.click()
        page.get_by_role("heading", name=spec.heading).first.wait_for(timeout=120_000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, f"exception on {spec.title}"


# (page, width) -> what fails there today, named for the engineer whose file it is
KNOWN: dict[tuple[str, int], str] = {}  # (page, width) -> why it is expected to fail; none today


@pytest.mark.parametrize(("width", "spec"), cases(KNOWN))
def test_page_layout(page_at, app_url: str, width: int, spec: navigation.PageSpec):
    """No chart taller than three screens, no cut card or chart title, no exception, a page of a few screens."""
    assert_readable(page_at(width), app_url, spec, f"{spec.name} at {width} px", ARTIFACTS / f"{spec.name}_{width}.png")


def test_the_default_page_opens_by_its_name_with_its_filters(page, app_url: str):
    """/overview?severity=1 (each page's address is its name) opens the Overview with the filter, no "Page not found"."""
    page.goto(f"{app_url}/overview?severity=1")
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    assert page.get_by_text("Page not found").count() == 0
    assert page.url.endswith("/overview?severity=1")  # the address keeps its filter
    filtered = page.locator('[data-testid="stMetric"]').first.inner_text()
    page.goto(f"{app_url}/?severity=1")
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    assert page.locator('[data-testid="stMetric"]').first.inner_text() == filtered
    page.goto(app_url)
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    assert page.locator('[data-testid="stMetric"]').first.inner_text() != filtered  # the filter applied
