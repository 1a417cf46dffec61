"""Every page readable at 5,000 accounts: the layout checks of test_browser.py on a large book.

Pages grew unreadably where per-account charts and lists met thousands of accounts, so
each page is opened at 1440 and 1920 px on a store of 5,040 accounts with about three
cases each (tests/app/many_accounts.py, generated and loaded once for the module in
seconds), measured (tests/app/layout.py) and saved as tests/artifacts/<page>_5000_accounts_<width>.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from metrics.storage.ingest import ingest
from metrics.storage.store import DB_ENV
from tests.app.layout import ARTIFACTS, assert_readable, cases, layout_problems, viewports
from tests.app.many_accounts import write_many_accounts
from tests.app.serving import CHROMIUM, NO_CHROMIUM, served_app
from ui import navigation

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]
CLONES = 84  # 60 sample accounts x 84 = 5,040 accounts


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on a freshly loaded store of 5,040 accounts, once for the module."""
    folder = tmp_path_factory.mktemp("many")
    db = folder / "many.duckdb"
    ingest(write_many_accounts(folder / "dataset", clones=CLONES), db)
    with duckdb.connect(str(db), read_only=True) as con:
        accounts = con.execute("SELECT count(*) FROM accounts").fetchone()
    assert accounts == (60 * CLONES,)
    with served_app({DB_ENV: str(db)}, folder / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page_at():
    """A browser page per viewport width, kept for the module."""
    with viewports() as at:
        yield at


# (page, width) -> what fails there today, named for the engineer whose file it is
KNOWN: dict[tuple[str, int], str] = {}  # (page, width) -> why it is expected to fail; none today


@pytest.mark.parametrize(("width", "spec"), cases(KNOWN))
def test_page_layout_at_5000_accounts(page_at, app_url: str, width: int, spec: navigation.PageSpec):
    """No chart taller than three screens, no cut card or chart title, no exception, a page of a few screens."""
    assert_readable(page_at(width), app_url, spec, f"{spec.name} at {width} px, 5,040 accounts",
                    ARTIFACTS / f"{spec.name}_5000_accounts_{width}.png")


BROKEN = """
<div data-testid="stMain" style="height: 1000px; overflow: auto">
  <div style="height: 9000px"></div>
  <div data-testid="stPlotlyChart"><div class="js-plotly-plot" style="width: 400px; height: 3500px">
    <svg class="main-svg" width="400" height="3500" style="overflow: hidden"><g class="infolayer"><g class="g-gtitle">
      <text class="gtitle" x="300" y="20" style="font: 16px sans-serif">Service days used vs term elapsed</text>
    </g></g><g class="legend"><g class="traces"><text x="340" y="20" style="font: 12px sans-serif">used</text></g></g>
    </svg>
  </div></div>
  <div data-testid="stMetric">
    <label data-testid="stMetricLabel"><div style="width: 60px; overflow: hidden; text-overflow: ellipsis;
      white-space: nowrap; font: 14px sans-serif">Used more than entitled</div></label>
    <div data-testid="stMetricValue"><div style="width: 300px; overflow: hidden; text-overflow: ellipsis;
      white-space: nowrap; font: 14px sans-serif">5,040</div></div>
  </div>
  <div data-testid="stException">ValueError</div>
</div>
"""
FINE = (BROKEN.replace("9000px", "100px").replace("3500", "600").replace('x="300"', 'x="10"')
        .replace("60px", "300px").replace('<div data-testid="stException">ValueError</div>', ""))


def test_the_checks_see_what_they_look_for(page_at):
    """On a hand-made page: a 3,500 px chart in a 1,000 px viewport, a title starting 300 px into a 400 px chart
    with a legend entry 40 px into the title, a 60 px label holding four words, an exception and a 12,500 px
    page are each named once; the value '5,040' in 300 px is not. With each mended, nothing is reported."""
    page = page_at(1440)
    page.set_content(BROKEN)
    problems = layout_problems(page, "made-up at 1440 px")
    page.set_content(FINE)
    mended = layout_problems(page, "made-up at 1440 px")
    expected = [
        "made-up at 1440 px: exception shown: 'ValueError'",
        "made-up at 1440 px: chart 'Service days used vs term elapsed' is 3,500 px tall, more than 3,000",
        "made-up at 1440 px: chart 'Service days used vs term elapsed': gtitle 'Service days used vs term elapsed' "
        "is cut by the chart's edge",
        "made-up at 1440 px: chart 'Service days used vs term elapsed': its title 'Service days used vs term elapsed' "
        "is covered by the legend entry 'used'",
        "made-up at 1440 px: card 'Used more than entitled': its label 'Used more than entitled' is cut (needs ",
        "made-up at 1440 px: the page is 12,",
    ]
    assert len(problems) == len(expected), problems
    for sentence, start in zip(problems, expected, strict=True):
        assert sentence.startswith(start), (sentence, start)
    assert "value" not in " ".join(problems)
    assert mended == []
