"""Refresh while serving: a load published beside the served store reaches open pages, never an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.storage.ingest import ingest
from metrics.storage.store import DB_ENV, PROJECT_ROOT
from metrics.tools.sample import generate_sample
from tests.app.serving import CHROMIUM, NO_CHROMIUM, chromium_page, served_app, wait_until_idle


def cases_on_data_page(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Cases")


def test_the_next_run_shows_a_newly_published_version(make_dataset, tmp_path, monkeypatch):
    """An open session switches to the new version on its next run and says "Data refreshed" once."""
    db = tmp_path / "served.duckdb"
    ingest(make_dataset(), db)
    monkeypatch.setenv(DB_ENV, str(db))
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page("views/data.py")
    at.run()
    assert cases_on_data_page(at) == "2"
    ingest(make_dataset(**{"cases.csv": "case_id,account_id,opened_at,severity\nC1,A1,2026-03-06T23:00:00Z,2",
                           "responses.csv": "case_id,at,author_type"}), db)
    at.run()
    assert not at.exception
    assert cases_on_data_page(at) == "1"
    assert [t.value for t in at.toast if "Data refreshed" in t.value]
    at.run()
    assert not [t.value for t in at.toast if "Data refreshed" in t.value]  # said once


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_ingest_while_the_dashboard_serves(tmp_path: Path):
    """Repeated CLI loads into the served store while Chromium reloads pages: no error, and the new counts show."""
    small, large = tmp_path / "small", tmp_path / "large"
    generate_sample(small, seed=1, cases=300, fmt="parquet")
    generate_sample(large, seed=2, cases=900, fmt="parquet")
    db = tmp_path / "served.duckdb"
    ingest(small, db)
    with served_app({DB_ENV: str(db)}, tmp_path / "streamlit.log") as url, chromium_page() as page:
        for round_, (folder, expected) in enumerate([(large, "900"), (small, "300"), (large, "900")]):
            load = subprocess.Popen(
                [sys.executable, "-m", "metrics", "ingest", str(folder), "--db", str(db), "--quiet"],
                cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            # pages keep being opened while the load runs beside the served version
            for path in ("/", "/active_tickets", "/governance"):
                page.goto(url + path)
                wait_until_idle(page)
                assert page.locator('[data-testid="stException"]').count() == 0, f"round {round_}: {path}"
            _, err = load.communicate(timeout=300)
            assert load.returncode == 0, err
            assert "Traceback" not in err and "IO Error" not in err
            page.goto(url + "/data")
            wait_until_idle(page)
            cases = page.locator('[data-testid="stMetric"]').filter(has_text="Cases").first.inner_text()
            assert cases.split()[-1] == expected, cases
            assert page.locator('[data-testid="stException"]').count() == 0
    log = (tmp_path / "streamlit.log").read_text()
    assert "Conflicting lock" not in log and "Traceback" not in log
