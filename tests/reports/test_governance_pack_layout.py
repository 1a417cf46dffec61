"""The governance pack laid out for people and paper: landscape pages, titled tables in words, legible axes."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from metrics.reports.governance_pack import (
    CHART_HEIGHT_PX,
    CHART_WIDTH_PX,
    governance_pack,
    months_shown,
    print_figure,
    rows_text,
    table_html,
)
from ui import figures

SECTION = re.compile(r'<section class="table">\n<h2>(.*?)</h2>\n<p class="rows">(.*?)</p>\n(.*?)</section>', re.S)


def month_trend() -> go.Figure:
    """The page's attainment trend over two months (periods as the metric gives them: "2026-08")."""
    trend = pd.DataFrame({
        "period": ["2026-08", "2026-09"], "kind": ["initial", "initial"], "attainment": [0.9, 0.95],
        "met": [9, 19], "breached": [1, 1], "pending": [0, 2],
    })
    return figures.build_attainment_trend_figure(trend, "Attainment by month")


def month_bars() -> go.Figure:
    """Bars over two months on plotly's own axis, which reads "2026-08" as a date and ticks it by days."""
    return go.Figure(go.Bar(x=["2026-08", "2026-09"], y=[4, 107]))


def test_pages_are_landscape_with_margins_and_the_tables_start_a_page():
    """@page asks for landscape (the reader's A4 or letter) with margins; printing, the tables begin a new page."""
    pack = governance_pack("Review", "Q3", [], [], [])
    assert "@page { size: landscape; margin: 12mm; }" in pack
    assert re.search(r"@media print \{[^@]*\.tables \{ break-before: page; \}", pack)
    assert "section.table { break-inside: avoid; }" in pack  # a short table is not split from its title


def test_every_table_is_a_section_titled_with_its_row_count():
    """Three tables of 2, 1 and 0 rows: each titled, counted ('2 rows', '1 row', 'no rows'); the empty one says so."""
    pack = governance_pack(
        "Review", "Q3", [], [],
        [
            ("Suspended accounts", pd.DataFrame({"account_name": ["Acme", "Zenith"]})),
            ("Development tickets", pd.DataFrame({"case_id": ["C9"]})),
            ("Breaches downgraded afterwards", pd.DataFrame()),
        ],
    )
    sections = SECTION.findall(pack)
    assert [(title, rows) for title, rows, _ in sections] == [
        ("Suspended accounts", "2 rows"), ("Development tickets", "1 row"), ("Breaches downgraded afterwards", "no rows"),
    ]
    assert sections[0][2].count("<tr>") == 3  # the header and two rows
    assert sections[2][2] == "<p>None.</p>\n"


def test_a_long_table_prints_its_first_rows_and_says_how_many_it_has():
    """1,010 owners (BPIC 2013's waiting table filled 60 pages): 50 printed, in the given order, and the count said."""
    owners = pd.DataFrame({"owner": [f"owner {i:04d}" for i in range(1010)], "paused_share": [0.5] * 1010})
    [(_title, rows, table)] = SECTION.findall(governance_pack("Review", "Q3", [], [], [("Waiting", owners)]))
    assert rows == "1,010 rows; the first 50 printed, the dashboard's table and its CSV hold them all"
    assert table.count("<tr>") == 1 + 50
    assert "owner 0049" in table and "owner 0050" not in table


def test_rows_text_groups_thousands():
    assert rows_text(0) == "no rows"
    assert rows_text(1) == "1 row"
    assert rows_text(1204) == "1,204 rows"


def test_tables_speak_in_words_and_units():
    """Headers in words (no snake_case), durations "3 h 12 m", shares %, UTC instants, blanks empty, never None/nan."""
    frame = pd.DataFrame({
        "account_name": ["Acme", None],
        "non_authorized_share": [0.9571, np.nan],  # 95.71 % -> "95.7 %"
        "paused_seconds": [11_532.0, None],  # 3 h 12 m 12 s -> "3 h 12 m"
        "opened_at": [pd.Timestamp("2026-09-01 08:05", tz="UTC"), pd.NaT],
        "cases_opened": [1204, 3],
    })
    html = table_html(frame)
    headers = re.findall(r"<th[^>]*>(.*?)</th>", html)
    assert len(headers) == 5 and not any("_" in header for header in headers)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert "95.7 %" in cells and "3 h 12 m" in cells and "2026-09-01 08:05 UTC" in cells and "1,204" in cells
    assert cells.count("") == 4  # the second row's account, share, pause and opening
    assert not {"None", "nan", "NaN", "NaT", "<NA>"} & set(cells)


def test_quantities_align_right_and_short_ids_stay_on_one_line():
    """A column of numbers, shares or durations is right-aligned; an id column ("ACC-0022") does not wrap."""
    html = table_html(pd.DataFrame({"account_id": ["ACC-0022"], "attainment": [0.5], "account_name": ["Acme Bank Ltd"]}))
    assert '<td class="word">ACC-0022</td>' in html
    assert '<th class="num">attainment</th>' in html and '<td class="num">50.0 %</td>' in html
    assert "<td>Acme Bank Ltd</td>" in html


def test_month_axes_read_months_and_span_half_a_month_either_side():
    """x of "2026-08" and "2026-09": ticks "%b %Y" each month, range 2026-07-17 to 2026-09-16 (1st -/+ 15 days)."""
    fig = month_bars()
    assert [str(m.date()) for m in months_shown(fig)] == ["2026-08-01", "2026-09-01"]
    xaxis = print_figure(fig).to_dict()["layout"]["xaxis"]
    assert (xaxis["type"], xaxis["tickformat"], xaxis["dtick"], xaxis["hoverformat"]) == ("date", "%b %Y", "M1", "%b %Y")
    assert xaxis["range"] == ["2026-07-17T00:00:00", "2026-09-16T00:00:00"]


def test_months_already_named_keep_their_ticks_and_get_half_a_step_either_side():
    """A builder's category axis of months ("Aug 2026" tick texts) is kept; its range is -0.5 to 2.5 for 3 months."""
    fig = go.Figure(go.Scatter(x=["2026-08", "2026-09", "2026-10"], y=[90, 95, 93]))
    fig.update_xaxes(type="category", tickmode="array", tickvals=["2026-08", "2026-09", "2026-10"],
                     ticktext=["Aug 2026", "Sep 2026", "Oct 2026"])
    xaxis = print_figure(fig).to_dict()["layout"]["xaxis"]
    assert xaxis["type"] == "category" and list(xaxis["ticktext"]) == ["Aug 2026", "Sep 2026", "Oct 2026"]
    assert xaxis["range"] == [-0.5, 2.5] and "tickformat" not in xaxis


def test_a_category_axis_is_left_as_it_is():
    """Accounts or packages on x are no months: no date format is forced on them."""
    fig = go.Figure(go.Bar(x=["Gold", "2026-08"], y=[1, 2]))
    assert months_shown(fig) == []
    assert "tickformat" not in print_figure(fig).to_dict()["layout"].get("xaxis", {})


def test_printed_figures_have_a_fixed_size_and_room_for_their_labels():
    """Drawn at the size printed, y ticks keep " %" with a margin grown to fit, axis titles stand off; a copy."""
    fig = month_trend()
    layout = print_figure(fig).to_dict()["layout"]
    assert (layout["width"], layout["height"], layout["autosize"]) == (CHART_WIDTH_PX, CHART_HEIGHT_PX, False)
    assert layout["yaxis"]["ticksuffix"] == " %" and layout["yaxis"]["automargin"] is True
    assert layout["xaxis"]["automargin"] is True
    assert layout["yaxis"]["title"]["standoff"] == 10 and layout["xaxis"]["title"]["standoff"] == 10
    assert "width" not in fig.to_dict()["layout"]  # the page's figure is untouched


def test_the_pack_draws_its_charts_for_print_without_a_toolbar():
    """Each chart is a fixed-size block, never redrawn to its container when printed; no plotly toolbar is printed."""
    pack = governance_pack("Review", "Q3", [], [month_bars()], [])
    assert f'<div class="chart"><div style="height:{CHART_HEIGHT_PX}px; width:{CHART_WIDTH_PX}px;">' in pack
    assert '"tickformat":"%b %Y"' in pack
    assert '{"displayModeBar": false, "responsive": false}' in pack
