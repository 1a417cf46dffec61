"""What a page must look like in the browser, measured in its DOM: the checks of issue 17.

`cases` lists every page at both widths, `viewports` gives one browser page per width,
`assert_readable` opens a page, saves its screenshot and fails naming every problem.
`open_page` opens a page at a viewport and waits until it is drawn; `layout_problems`
returns one sentence per broken promise (a chart taller than `CHART_SCREENS` viewports,
an exception, a card's label or value cut short, a chart's title or label cut by the
chart's edge or its title under the legend, a page taller than `PAGE_SCREENS` viewports); `save_screenshot` keeps the
whole page as a PNG for people to look at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from metrics.storage.store import PROJECT_ROOT
from tests.app.serving import chromium_browser, wait_until_idle
from ui.navigation import PAGES, PageSpec

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
WIDTHS = (1440, 1920)
HEIGHT = 1000
CHART_SCREENS = 3  # a chart taller than this many viewports cannot be read as one picture
# Tables scroll inside themselves, so a page is a handful of tiles, charts and tables:
# six or seven screens on the largest store today. Twelve leaves room to grow and still
# fails a page that stacks a chart per account or an unbounded list.
PAGE_SCREENS = 12
SCREENSHOT_CAP = 16_000  # px: Chromium draws no taller bitmap; a taller page is cut (and fails anyway)

# Streamlit scrolls the page inside `stMain`, not the document: its scrollHeight is the page's.
_MEASURE = """() => {
  const rect = (el) => el.getBoundingClientRect();
  const main = document.querySelector('[data-testid="stMain"]');
  const pageHeight = Math.max(main ? main.scrollHeight : 0, document.scrollingElement.scrollHeight);
  const text = (el) => (el.textContent || '').trim().replace(/\\s+/g, ' ');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"], .js-plotly-plot')]
    .filter((el) => !el.parentElement.closest('[data-testid="stPlotlyChart"], .js-plotly-plot'))
    .map((el, i) => {
      const plot = el.matches('.js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
      const title = el.querySelector('.gtitle');
      const box = rect(plot || el);
      const cut = [...el.querySelectorAll(
        '.gtitle, .gtitle-subtitle, [class^="x"][class$="title"], [class^="y"][class$="title"], '
        + '.xtick text, .ytick text, .legendtext')]
        .filter((t) => rect(t).width > 0)
        .filter((t) => { const r = rect(t); return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                                               || r.bottom > box.bottom + 1; })
        .map((t) => ({text: text(t), kind: t.getAttribute('class'), left: rect(t).left - box.left,
                      right: box.right - rect(t).right, width: rect(t).width, box: box.width}));
      const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
                                && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
      const covered = [...el.querySelectorAll('.gtitle, .gtitle-subtitle')].filter((t) => rect(t).width > 0)
        .flatMap((t) => [...el.querySelectorAll('.legend .traces')].filter((item) => overlap(rect(t), rect(item)))
          .map((item) => ({text: text(t), item: text(item)})));
      return {name: title ? text(title) : `chart ${i + 1}`, height: Math.max(rect(el).height, box.height), cut, covered};
    });
  const cards = [...document.querySelectorAll('[data-testid="stMetricLabel"], [data-testid="stMetricValue"]')]
    .map((part) => {
      const metric = part.closest('[data-testid="stMetric"]');
      const label = metric && metric.querySelector('[data-testid="stMetricLabel"]');
      const clipped = [part, ...part.querySelectorAll('*')].filter((el) => {
        const style = getComputedStyle(el);
        const clips = style.textOverflow === 'ellipsis' || ['hidden', 'clip'].includes(style.overflowX);
        return clips && el.scrollWidth > el.clientWidth + 1;
      });
      return {card: label ? text(label) : '?', part: part.getAttribute('data-testid') === 'stMetricLabel' ? 'label' : 'value',
              text: text(part), cut: clipped.map((el) => [el.scrollWidth, el.clientWidth])};
    })
    .filter((c) => c.cut.length);
  const exceptions = [...document.querySelectorAll('[data-testid="stException"]')].map((e) => text(e).slice(0, 200));
  return {pageHeight, charts, cards, exceptions};
}"""


def open_page(page: Page, url: str, spec: PageSpec) -> None:
    """Open `spec` at `url`, wait until its script run is over and every chart has drawn its SVG."""
    page.goto(f"{url}/{spec.name}")
    page.get_by_role("heading", name=spec.heading).first.wait_for(timeout=120_000)
    wait_until_idle(page)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                 .every((c) => c.querySelector('.main-svg'))""",
        timeout=60_000,
    )
    page.wait_for_timeout(500)  # plotly lays out titles and margins after the first draw


def layout_problems(page: Page, where: str) -> list[str]:
    """One sentence per broken layout promise on the open page; `where` names page and width in each."""
    viewport = page.viewport_size
    assert viewport is not None, "pages made by viewports() have a viewport"
    found = page.evaluate(_MEASURE)
    problems = [f"{where}: exception shown: {text!r}" for text in found["exceptions"]]
    chart_bound = CHART_SCREENS * viewport["height"]
    for chart in found["charts"]:
        if chart["height"] > chart_bound:
            problems.append(f"{where}: chart {chart['name']!r} is {chart['height']:,.0f} px tall, "
                            f"more than {chart_bound:,}")
        for cut in chart["cut"]:
            problems.append(f"{where}: chart {chart['name']!r}: {cut['kind']} {cut['text']!r} is cut by the chart's "
                            f"edge ({cut['width']:,.0f} px wide, {cut['left']:,.0f} px from its left edge and "
                            f"{cut['right']:,.0f} px from its right, in a chart {cut['box']:,.0f} px wide)")
        for covered in chart["covered"]:
            problems.append(f"{where}: chart {chart['name']!r}: its title {covered['text']!r} is covered by the "
                            f"legend entry {covered['item']!r}")
    for card in found["cards"]:
        needs, has = card["cut"][0]
        problems.append(f"{where}: card {card['card']!r}: its {card['part']} {card['text']!r} is cut "
                        f"(needs {needs} px, has {has})")
    page_bound = PAGE_SCREENS * viewport["height"]
    if found["pageHeight"] > page_bound:
        problems.append(f"{where}: the page is {found['pageHeight']:,} px tall, more than {page_bound:,} "
                        f"({PAGE_SCREENS} screens)")
    return problems


def save_screenshot(page: Page, path: Path) -> None:
    """The whole page as a PNG: the viewport is stretched to the page (which scrolls inside stMain), then restored."""
    viewport = page.viewport_size
    assert viewport is not None, "pages made by viewports() have a viewport"
    height = page.evaluate(
        "() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0, innerHeight)")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": viewport["width"], "height": min(height, SCREENSHOT_CAP)})
    try:
        page.wait_for_timeout(300)
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(viewport)


def cases(known: Mapping[tuple[str, int], str]) -> list:
    """(width, page) for every page at both widths, width first.

    A (page name, width) in `known` is a strict xfail of the layout assertion only: a
    timeout or an error still fails, and a mended page fails until it leaves `known`.
    """
    return [
        pytest.param(width, spec, id=f"{spec.name}-{width}px",
                     marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=known[spec.name, width])]
                     if (spec.name, width) in known else [])
        for width in WIDTHS for spec in PAGES
    ]


@contextlib.contextmanager
def viewports() -> Iterator[Callable[[int], Page]]:
    """One Chromium, and one page per viewport width (HEIGHT px high), made on first use and kept.

    Playwright's sync API allows one instance per thread: a module opens this once and
    hands every test its pages.
    """
    with chromium_browser() as browser:
        pages: dict[int, Page] = {}

        def at(width: int) -> Page:
            if width not in pages:
                context = browser.new_context(viewport={"width": width, "height": HEIGHT})  # type: ignore[attr-defined]
                pages[width] = context.new_page()
            return pages[width]

        yield at


def assert_readable(page: Page, url: str, spec: PageSpec, where: str, screenshot: Path) -> None:
    """Open `spec`, measure it, save its screenshot, then fail with every problem found (`where` opens each)."""
    open_page(page, url, spec)
    problems = layout_problems(page, where)
    save_screenshot(page, screenshot)
    assert not problems, "\n".join(problems)
