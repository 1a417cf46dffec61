"""A real `streamlit run` on a free loopback port, and Debian's Chromium: shared by the browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from metrics.storage.store import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium)"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served_app(env: dict[str, str], log_path: Path, args: Sequence[str] = (), port: int | None = None) -> Iterator[str]:
    """`streamlit run dashboard.py` with `env` added, up once /_stcore/health answers; yields its URL.

    `args` are more options of `streamlit run` (`--secrets.files PATH`); `port` a port chosen
    beforehand (a redirect URI written before the start names it), else a free one.
    """
    port = port or free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *args],
            cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
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
                    pytest.fail(f"streamlit did not start; see {log_path}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextlib.contextmanager
def chromium_browser() -> Iterator[object]:
    """Debian's Chromium under Playwright (never a downloaded browser); one context per visitor."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 900) -> Iterator[object]:
    """A Playwright page in Debian's Chromium (never a downloaded browser)."""
    with chromium_browser() as browser:
        yield browser.new_context(viewport={"width": width, "height": height}).new_page()  # type: ignore[attr-defined]


def wait_until_idle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script run is over (Streamlit marks the app root with its script state)."""
    page.wait_for_timeout(300)  # let a rerun triggered by the last action start
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=120_000)
    page.wait_for_load_state("networkidle")
