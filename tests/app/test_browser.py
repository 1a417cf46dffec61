"""The real app in headless Chromium: `streamlit run` on a free port, driven by Playwright.

Uses Debian's Chromium (`apt-get install chromium`), never a downloaded browser; where
it is missing the tests skip and say so. `.ci/run` installs it, so CI always runs them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from metrics.store import DB_ENV, PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboard.py` on a free loopback port, up once /_stcore/health answers."""
    port = free_port()
    env = {**os.environ, DB_ENV: str(tmp_path_factory.mktemp("browser") / "sample.duckdb")}
    log = (tmp_path_factory.mktemp("log") / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def page(app_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        yield context.new_page()
        browser.close()


PAGES = ["Overview", "SLA attainment", "Utilization", "Active tickets", "Weekly update", "Escalations",
         "Governance", "Data"]


def wait_until_idle(page) -> None:
    """Wait until the script run is over (Streamlit marks the app root with its script state)."""
    page.wait_for_timeout(300)  # let a rerun triggered by the last action start
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=120_000)
    page.wait_for_load_state("networkidle")


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
    for title in PAGES:
        page.get_by_role("link", name=title, exact=True).first.click()
        heading = "Governance review" if title == "Governance" else title
        page.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, f"exception on {title}"
        page.screenshot(path=str(ARTIFACTS / f"{title.lower().replace(' ', '_')}.png"), full_page=True)
