"""The governance pack printed by Debian's Chromium: landscape pages, nothing wider than the paper, charts whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from metrics.reports.governance_pack import CHART_WIDTH_PX, governance_pack
from tests.app.serving import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]

LETTER_PRINTABLE_PX = 965  # 279.4 mm less two 12 mm margins, at 96 px per inch: the narrower paper


def wide_health() -> pd.DataFrame:
    """The widest table the page passes: the biggest accounts' health, thirteen columns of ids, names and counts."""
    return pd.DataFrame({
        "account_id": ["ACC-0052"], "account_name": ["Summit Manufacturing Ltd"], "advisor": ["Tom Achterberg"],
        "package": ["Platinum"], "attainment": [0.957], "cases_opened": [171], "met": [402], "breached": [18],
        "policy_escalations": [18], "recorded_escalations": [2], "active": [17], "active_at_risk": [0],
        "active_breached": [2],
    })


@pytest.fixture(scope="module")
def pack_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    months = ["2026-08", "2026-09", "2026-10", "2026-11"]
    figures = [go.Figure(go.Scatter(x=months, y=[92.5, 93.4, 94.9, 94.0])).update_yaxes(ticksuffix=" %"),
               go.Figure(go.Bar(x=months, y=[4, 107, 99, 103]))]
    path = tmp_path_factory.mktemp("pack") / "governance_review.html"
    path.write_text(governance_pack("Governance review", "Q3", [("Escalations", "10.8 %")], figures,
                                    [("Biggest accounts' health", wide_health())]))
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_nothing_is_wider_than_letter_landscape(browser, pack_file: Path):
    """At letter's printable width in print media, the document does not overflow and each chart keeps its width."""
    page = browser.new_page(viewport={"width": LETTER_PRINTABLE_PX, "height": 700})
    page.goto(pack_file.as_uri())
    page.emulate_media(media="print")
    page.wait_for_function("() => document.querySelectorAll('.chart .main-svg').length >= 2")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= LETTER_PRINTABLE_PX
    widths = page.evaluate("() => [...document.querySelectorAll('.chart .main-svg')].map(s => s.getAttribute('width'))")
    assert set(widths) == {str(CHART_WIDTH_PX)}
    page.close()


def test_prints_on_landscape_pages(browser, pack_file: Path, tmp_path: Path):
    """Printed with the page's own size (@page landscape), every page of the PDF is wider than it is tall."""
    page = browser.new_page()
    page.goto(pack_file.as_uri())
    page.wait_for_function("() => document.querySelectorAll('.chart .main-svg').length >= 2")
    pdf = page.pdf(prefer_css_page_size=True)
    page.close()
    boxes = [tuple(float(v) for v in box) for box in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)]
    assert boxes and all(width > height for width, height in boxes), boxes
