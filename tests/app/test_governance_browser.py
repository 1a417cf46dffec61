"""The Governance page in Debian's Chromium at 1440 and 1920 px: no card cut, the meeting view's type large.

One `streamlit run` for the module on the bundled sample; screenshots kept in tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from metrics.storage.store import DB_ENV, PROJECT_ROOT
from tests.app.serving import CHROMIUM, NO_CHROMIUM, chromium_browser, served_app, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
VIEWS = {"normal": "", "meeting": "?gov_meeting=true"}

# Card labels and values Streamlit cuts with an ellipsis: their text is wider than their box.
CUT_CARDS = """() => [...document.querySelectorAll('[data-testid=stMetricLabel], [data-testid=stMetricValue]')]
  .flatMap((part) => [part, ...part.querySelectorAll('*')])
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.textContent.trim())"""
# The smallest text drawn in the charts' SVG and in the tables' cells, in CSS px.
SMALLEST = """(selector) => Math.min(...[...document.querySelectorAll(selector)]
  .filter((el) => el.getBoundingClientRect().width > 0)
  .map((el) => parseFloat(getComputedStyle(el).fontSize)))"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {DB_ENV: str(tmp_path_factory.mktemp("gov_browser") / "sample.duckdb")}
    with served_app(env, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium_browser() as launched:
        yield launched


def open_governance(browser, url: str, view: str, width: int):
    """The page at `width` x 1000 in the normal or meeting view, drawn to the end (charts included)."""
    page = browser.new_context(viewport={"width": width, "height": 1000}).new_page()
    page.goto(f"{url}/governance{VIEWS[view]}")
    page.get_by_role("heading", name="Governance review").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    page.wait_for_timeout(3000)  # a URL-bound widget's value is echoed back once: that rerun too
    wait_until_idle(page)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg').length >= 2")
    return page


def save_page(page, name: str) -> None:
    """The whole page (it scrolls inside stMain): the viewport stretched to it for one screenshot."""
    viewport = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": min(height, 16_000)})
    page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size(viewport)


@pytest.mark.parametrize("width", [1440, 1920])
@pytest.mark.parametrize("view", list(VIEWS))
def test_no_card_label_or_value_is_cut(browser, app_url: str, view: str, width: int):
    """Every tile's label and value fits its card, in both views at both widths; screenshot kept."""
    page = open_governance(browser, app_url, view, width)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stMetric]").count() >= 12
    assert page.evaluate(CUT_CARDS) == []
    save_page(page, f"governance_{view}_{width}.png")
    page.context.close()


@pytest.mark.parametrize("width", [1440, 1920])
def test_meeting_view_text_is_large_in_charts_and_tables(browser, app_url: str, width: int):
    """Meeting view: no chart text under 18 px, no table cell under 16 px; the normal view draws smaller."""
    meeting = open_governance(browser, app_url, "meeting", width)
    chart_text = "[data-testid=stPlotlyChart] .xtick text, [data-testid=stPlotlyChart] .ytick text, .legendtext"
    assert meeting.evaluate(SMALLEST, chart_text) >= 18
    assert meeting.evaluate(SMALLEST, "[data-testid=stTable] td p, [data-testid=stTable] th p") >= 16
    meeting.context.close()
    normal = open_governance(browser, app_url, "normal", width)
    assert normal.evaluate(SMALLEST, chart_text) < 18
    normal.context.close()
