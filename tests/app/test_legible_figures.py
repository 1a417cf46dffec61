"""Charts a person can read: labels off the hatch and clear of markers, heatmap text big and contrasted, months
named as months, heights bounded at 5,000 rows, long names cut in ticks and whole in hover."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from tests.app.test_figures import values
from ui import figures

VIEWPORT_PX = 1000  # the browser tests' viewport; a chart taller than three of them fails there


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of '#RRGGBB'."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def scale_colour(scale: list[list], fraction: float) -> str:
    """The colour plotly draws at `fraction` of a colourscale: linear RGB between its two stops."""
    fraction = min(max(fraction, 0.0), 1.0)
    for (lo, c0), (hi, c1) in itertools.pairwise(scale):
        if lo <= fraction <= hi:
            t = (fraction - lo) / (hi - lo)
            mixed = [round(int(c0[i:i + 2], 16) * (1 - t) + int(c1[i:i + 2], 16) * t) for i in (1, 3, 5)]
            return "#" + "".join(f"{v:02X}" for v in mixed)
    raise AssertionError(f"{fraction} outside the scale")


def test_wcag_contrast_is_computed_right():
    """The helper itself: black on white is 21:1, white on white 1:1, #777777 on white about 4.48:1."""
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


def heat_frame(rates: list[float]) -> pd.DataFrame:
    """One severity-1 cell per rate, each in its own package, 100 decided obligations each."""
    met = [round(r * 100) for r in rates]
    return pd.DataFrame({"kind": "initial", "severity": 1, "package": [f"P{i}" for i in range(len(rates))],
                         "met": met, "breached": [100 - m for m in met], "pending": 0, "attainment": rates})


def test_heatmap_text_is_body_size_and_reads_on_every_cell():
    """Cell text >= 14 px, and its colour has >= 4.5:1 contrast on each cell's colour (0 %, 50 .. 100 %) and on grey."""
    rates = [0.0, 0.5, 0.6, 0.75, 0.8, 0.9, 0.95, 1.0]
    fig = figures.build_attainment_matrix_figure(heat_frame(rates), "initial").to_dict()
    heat = fig["data"][0]
    assert heat["textfont"]["size"] >= 14
    text = heat["textfont"]["color"]
    for z in values(heat["z"])[0]:
        cell = scale_colour(heat["colorscale"], (z - heat["zmin"]) / (heat["zmax"] - heat["zmin"]))
        assert contrast(text, cell) >= 4.5, (z, cell)
    # a cell with nothing decided shows the plot's background: grey, with the same dark text on it
    assert contrast(text, fig["layout"]["plot_bgcolor"]) >= 4.5


def test_heatmap_drops_the_colour_bar_as_every_cell_says_its_value():
    """The colour bar is dropped (each cell says its value): 75 % reads '75.0%' over '75/100'."""
    heat = figures.build_attainment_matrix_figure(heat_frame([0.75]), "initial").to_dict()["data"][0]
    assert heat["showscale"] is False
    assert values(heat["text"]) == [["75.0%<br>75/100"]]


def test_status_counts_sit_outside_the_bar_never_on_the_hatch():
    """'5 ✔ · 1 ✖' once per bar, outside its end; the met bar and the hatched breached bar carry no text."""
    frame = pd.DataFrame({"package": ["Silver", "Gold"], "met": [0, 5], "breached": [2, 1]})
    met, breached = figures.build_status_figure(frame, "package").to_dict()["data"]
    assert "text" not in met
    assert list(breached["text"]) == ["0 ✔ · 2 ✖", "5 ✔ · 1 ✖"]
    assert breached["textposition"] == "outside" and breached["cliponaxis"] is False
    assert breached["marker"]["pattern"]["shape"] == "/"


def test_utilization_names_cut_in_ticks_whole_in_hover():
    """A 60-character account name ticks as 27 characters and an ellipsis; the hover keeps every character."""
    name = "Very Long Account Name Incorporated & Partners Of Somewhere"
    frame = pd.DataFrame({"account_id": ["A1"], "account_name": [name], "service_days_share": [0.5],
                          "service_days_used": [1.0], "service_days_entitled": [2.0], "elapsed_share": [0.3]})
    fig = figures.build_utilization_figure(frame, "service_days_share", "service_days_used",
                                           "service_days_entitled", "t").to_dict()
    assert fig["layout"]["yaxis"]["ticktext"] == ["Very Long Account Name Inco…"]
    assert list(fig["layout"]["yaxis"]["tickvals"]) == ["A1"]  # the id keeps two equal names two bars
    assert fig["data"][0]["customdata"][0][0] == "Very Long Account Name Incorporated &amp; Partners Of Somewhere"


def test_month_periods_tick_as_months_and_weeks_as_weeks():
    """'2026-07', '2026-08' tick 'Jul 2026', 'Aug 2026' on a category axis; ISO weeks keep their labels."""
    months = pd.DataFrame({"period": ["2026-07", "2026-08"], "attainment": [0.9, 0.8], "met": [9, 8],
                           "breached": [1, 2], "pending": [0, 0]})
    xaxis = figures.build_attainment_trend_figure(months).to_dict()["layout"]["xaxis"]
    assert xaxis["type"] == "category"
    assert list(xaxis["ticktext"]) == ["Jul 2026", "Aug 2026"]
    escalations = pd.DataFrame({"period": ["2026-08", "2026-09"], "policy": [1, 2], "recorded": [0, 1]})
    xaxis = figures.build_escalation_trend_figure(escalations).to_dict()["layout"]["xaxis"]
    assert list(xaxis["ticktext"]) == ["Aug 2026", "Sep 2026"]
    weeks = months.assign(period=["2026-W10", "2026-W11"])
    xaxis = figures.build_attainment_trend_figure(weeks).to_dict()["layout"]["xaxis"]
    assert xaxis["type"] == "category" and "ticktext" not in xaxis


def test_trend_of_only_untargeted_obligations_is_an_empty_figure():
    """Nothing met or breached in any period (Package = Bronze): a sentence, no -1..4 % axis."""
    frame = pd.DataFrame({"period": ["2026-W10", "2026-W11"], "kind": "initial", "attainment": [None, None],
                          "met": [0, 0], "breached": [0, 0], "pending": [0, 0]})
    fig = figures.build_attainment_trend_figure(frame).to_dict()
    assert fig["data"] == []
    assert "met or breached" in fig["layout"]["annotations"][0]["text"]
    assert fig["layout"]["yaxis"]["visible"] is False


def many(rows: int) -> pd.DataFrame:
    """`rows` accounts / tickets with every column the row charts read."""
    ids = [f"A{i:05d}" for i in range(rows)]
    return pd.DataFrame({
        "account_id": ids, "account_name": ids, "case_id": ids, "met": 3, "breached": 1,
        "service_days_share": 0.5, "service_days_used": 1.0, "service_days_entitled": 2.0, "elapsed_share": 0.4,
        "consumed": 0.5, "clock_state": "on_track",
    })


BUILDERS = {
    "status": lambda f: figures.build_status_figure(f, "account_name"),
    "utilization": lambda f: figures.build_utilization_figure(f, "service_days_share", "service_days_used",
                                                             "service_days_entitled", "t"),
    "clocks": figures.build_active_clock_figure,
}


@pytest.mark.parametrize("chart", list(BUILDERS))
def test_row_charts_stay_within_three_screens_at_5000_rows(chart):
    """25 rows fit one 1,000 px screen; 5,244 rows stay under three (names then only in the hover)."""
    assert BUILDERS[chart](many(25)).layout.height <= VIEWPORT_PX
    big = BUILDERS[chart](many(5_244))
    assert big.layout.height < 3 * VIEWPORT_PX
    assert big.layout.yaxis.showticklabels is False


def test_row_chart_height_grows_by_rows_until_its_bound():
    """24 px per bar plus 150 px of title, legend and axis; never below 300 px nor above MAX_HEIGHT."""
    assert figures.bar_rows_height(1) == 300
    assert figures.bar_rows_height(25) == 24 * 25 + 150
    assert figures.bar_rows_height(100) == 24 * 100 + 150
    assert figures.bar_rows_height(5_244) == figures.MAX_HEIGHT < 3 * VIEWPORT_PX
