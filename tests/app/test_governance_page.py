"""The Governance page in AppTest on the bundled sample: the meeting view enlarges charts and tables too."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from metrics.storage.store import PROJECT_ROOT

CHARTS = {"gov_trend", "gov_escalations"}


def open_governance(meeting: bool) -> AppTest:
    """The page as a shared link opens it: `?gov_meeting=true` for the meeting view."""
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page("views/governance.py")
    if meeting:
        at.query_params["gov_meeting"] = "true"
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def chart_specs(at: AppTest) -> list[dict]:
    """Every plotly chart the run drew, as the figure JSON in its protobuf."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def chart_layouts(at: AppTest) -> list[dict]:
    return [spec["layout"] for spec in chart_specs(at)]


def test_meeting_view_draws_every_chart_in_large_type(app_env):
    """?gov_meeting=true: both charts at 18 px text (ticks, legend, bar labels), titles at 26 px, 520 px tall."""
    at = open_governance(meeting=True)
    assert at.toggle(key="gov_meeting").value is True
    specs = chart_specs(at)
    assert len(specs) == len(CHARTS)
    bars = [trace for spec in specs for trace in spec["data"] if trace["type"] == "bar"]
    assert bars and all(trace["textfont"]["size"] == 18 for trace in bars)  # the escalation counts on the bars
    for layout in (spec["layout"] for spec in specs):
        assert layout["font"]["size"] == 18 and layout["legend"]["font"]["size"] == 18
        assert layout["xaxis"]["tickfont"]["size"] == 18 and layout["yaxis"]["tickfont"]["size"] == 18
        assert layout["title"]["font"]["size"] == 26 and layout["height"] == 520


def test_normal_view_keeps_the_charts_page_sized(app_env):
    """Without the parameter the same charts keep the page's type (under 18 px) and 380 px."""
    layouts = chart_layouts(open_governance(meeting=False))
    assert len(layouts) == len(CHARTS)
    for layout in layouts:
        assert layout.get("font", {}).get("size", 12) < 18 and layout["height"] == 380


def test_meeting_view_shows_tables_as_text_in_words(app_env):
    """Meeting view: tables are st.table (HTML the page's type reaches), headers in words; no canvas grid."""
    at = open_governance(meeting=True)
    tables = at.table
    assert tables and not at.dataframe
    for element in tables:
        frame = element.value
        assert not [c for c in frame.columns if "_" in str(c)], list(frame.columns)
        cells = {str(v) for v in frame.to_numpy().ravel()}
        assert not {"None", "nan", "NaT"} & cells


def test_normal_view_keeps_the_sortable_grids(app_env):
    """Without the meeting view the tables stay st.dataframe (sortable, searchable) and no st.table is drawn."""
    at = open_governance(meeting=False)
    assert at.dataframe and not at.table
