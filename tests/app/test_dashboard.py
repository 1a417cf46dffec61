"""The dashboard in Streamlit's AppTest: it starts on the sample store without an exception."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from metrics.store import PROJECT_ROOT


def test_dashboard_opens_on_the_loaded_data(app_env):
    """The start screen shows the sample's case count, computed from the store (20,000 cases)."""
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=60).run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Cases"] == "20,000"
    assert values["Accounts"] == "60"
