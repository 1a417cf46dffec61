"""The governance pack: a period review for a meeting as one self-contained HTML file, laid out for print.

A pure function (texts, plotly figures and DataFrames in, one HTML string out), so it is
tested without a browser; the Governance page gathers what it shows and offers the file.
plotly.js is inlined once per document, because the file is mailed and opened offline.

The file is read on screen and printed on A4 or letter landscape: the first page holds the
headline tiles and the charts, drawn once at the width they print (a chart laid out for a
screen and printed narrower is cut), and every table after it is titled with its row count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from metrics.reports.columns import human_frame
from metrics.reports.html import page
from metrics.safe_text import h

# The printable width both papers share: letter landscape is 279.4 mm less two 12 mm margins,
# 255 mm or 964 px at 96 px per inch (A4's is 273 mm); two charts and their gap fit in it.
PRINT_WIDTH_PX = 960
CHART_WIDTH_PX = 470
CHART_HEIGHT_PX = 400
CHART_FONT_PX = 12
CHART_GAP_PX = PRINT_WIDTH_PX - 2 * CHART_WIDTH_PX

# Tiles, charts and titled tables on top of the shared stylesheet. `size: landscape` keeps the
# reader's paper (A4 or letter); a section never starts at a page's foot without its table. Nothing
# may be wider than the paper: Chromium would shrink every page to fit the widest.
PACK_STYLE = f"""
body {{ max-width: {PRINT_WIDTH_PX}px; }}
.tiles {{ display: grid; gap: 0.6rem; grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr)); }}
.tile {{ border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 0.7rem; }}
.tile .label {{ font-size: 0.85rem; color: #555; }}
.tile .value {{ font-size: 1.8rem; }}
.tile .caption {{ font-size: 0.8rem; color: #555; }}
.charts {{ display: flex; flex-wrap: wrap; justify-content: space-between; gap: {CHART_GAP_PX}px; margin-top: 1rem; }}
.chart {{ width: {CHART_WIDTH_PX}px; height: {CHART_HEIGHT_PX}px; break-inside: avoid; }}
section.table {{ break-inside: avoid; }}
section.table h2 {{ break-after: avoid; margin-bottom: 0; }}
p.rows {{ color: #57606a; font-size: 0.85rem; margin: 0.1rem 0 0.3rem; }}
td, th {{ overflow-wrap: break-word; }}
td.word {{ white-space: nowrap; }}
th.num {{ white-space: normal; }}  /* a header wraps; its numbers below do not */
@page {{ size: landscape; margin: 12mm; }}
@media print {{
  body {{ max-width: none; padding: 0; }}
  .tables {{ break-before: page; }}
  table {{ font-size: 0.8rem; }}
}}
"""

# A month's period as the metrics give it ("2026-08") or as a timestamp at its first midnight.
_MONTH = re.compile(r"\d{4}-\d{2}(-01([T ]00:00(:00(\.0+)?)?)?)?")

# A cell that is a quantity as the vocabulary writes it: "1,204", "-3", "95.7 %", "1.29 ×", "3 h 12 m".
_QUANTITY = re.compile(r"-?[0-9][0-9,]*(\.[0-9]+)?( %| ×| h [0-9]{2} m)?")

# A headline tile: (label, value) or (label, value, captions), captions one line each under the value
# ("provisional: 135 still running", "policy 120 · recorded 80").
Tile = tuple[str, str] | tuple[str, str, Sequence[str]]


def months_shown(fig: go.Figure) -> list[pd.Timestamp]:
    """The months a figure's x axis shows when every x value of every trace is one ("2026-08"), else []."""
    xs = [x for trace in fig.data if (x := getattr(trace, "x", None)) is not None]
    if not xs or not all(len(x) and all(_MONTH.fullmatch(str(v)) for v in x) for x in xs):
        return []
    return sorted({pd.Timestamp(str(v)[:7]) for x in xs for v in x})


def print_figure(fig: go.Figure) -> go.Figure:
    """A copy of a dashboard figure laid out for paper, the original untouched.

    It is drawn once at the size it prints (`CHART_WIDTH_PX` x `CHART_HEIGHT_PX`); the axes grow
    their margins to fit their labels (no "90 %" cut to "%", no x label cut at the foot), and
    the axis titles stand clear of the tick labels. A month axis reads "Aug 2026", one tick a
    month, where plotly's own date ticks would say "Aug 9, Aug 23", and spans half a month
    either side, so the first month's label clears the y axis's lowest one. A figure that
    already shows its months as named categories keeps its ticks and gets the same half step.
    """
    out = go.Figure(fig)
    out.update_layout(width=CHART_WIDTH_PX, height=CHART_HEIGHT_PX, autosize=False, font={"size": CHART_FONT_PX})
    out.update_yaxes(automargin=True, title_standoff=10)
    out.update_xaxes(automargin=True, title_standoff=10)
    months = months_shown(out)
    if months and out.layout.xaxis.type == "category":
        out.update_xaxes(range=[-0.5, len(months) - 0.5])
    elif months:
        half = pd.Timedelta(days=15)
        out.update_xaxes(type="date", tickformat="%b %Y", dtick="M1", hoverformat="%b %Y",
                         range=[(months[0] - half).isoformat(), (months[-1] + half).isoformat()])
    return out


PACK_ROWS = 50  # rows printed per table: a meeting reads the top of each; the dashboard's CSV holds all


def rows_text(n: int) -> str:
    """'1 row', '1,204 rows', 'no rows': the count printed under a table's title."""
    return "no rows" if n == 0 else f"{n:,} row" + ("s" if n != 1 else "")


def _is_quantity(cells: pd.Series) -> bool:
    """Whether a column of text cells holds numbers ("1,204", "95.7 %", "3 h 12 m"): those align right."""
    filled = cells[cells != ""]
    return not filled.empty and bool(filled.str.fullmatch(_QUANTITY).all())


def _is_word(cells: pd.Series) -> bool:
    """Whether every cell is one short word (an id "ACC-0022", a date): kept on one line, never "ACC-/0022"."""
    return bool(cells.str.fullmatch(r"\S{0,16}").all())


def _cell_class(cells: pd.Series) -> str:
    if _is_quantity(cells):
        return ' class="num"'
    return ' class="word"' if _is_word(cells) else ""


def table_html(frame: pd.DataFrame) -> str:
    """A frame as an HTML table in words and units (`human_frame`), escaped, quantities right-aligned.

    Headers are the column vocabulary's labels ("account", "by non-authorized contacts"), cells
    its text ("3 h 12 m", "95.7 %", "" for a missing value).
    """
    text = human_frame(frame)
    attrs = [_cell_class(text[c]) for c in text.columns]
    head = "".join(f"<th{a}>{h(c)}</th>" for c, a in zip(text.columns, attrs, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{a}>{h(v)}</td>" for a, v in zip(attrs, row, strict=True)) + "</tr>\n"
        for row in text.itertuples(index=False, name=None)
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def governance_pack(
    title: str,
    subtitle: str,
    headline: Sequence[Tile],
    figures: Sequence[go.Figure],
    tables: Sequence[tuple[str, pd.DataFrame]],
) -> str:
    """The governance review as one HTML file: headline tiles, charts (plotly.js inlined once), tables.

    The headline is what the Governance page's tiles show (attainment per kind with its
    provisional count and the lowest cell, the share of cases escalated with "policy N ·
    recorded M", ...): each tile a label, a value and optional caption lines. Each table is a
    section titled with its name and row count ("Suspended accounts", "3 rows"); a table prints
    its first PACK_ROWS rows (in the metric's order) and says how many it has.

    Every text is escaped: titles, tiles and the tables' headers and cells here (`h`), the
    figures' labels by their builders (`ui.figures`, whose JSON plotly writes with `<`, `>` and
    `/` escaped).
    """
    parts = ['<section class="headline">', f"<h1>{h(title)}</h1>", f'<p class="meta">{h(subtitle)}</p>',
             '<div class="tiles">']
    for tile in headline:
        label, value = tile[0], tile[1]
        captions = tile[2] if len(tile) > 2 else ()
        lines = "".join(f'<div class="caption">{h(c)}</div>' for c in captions)
        parts.append(
            f'<div class="tile"><div class="label">{h(label)}</div><div class="value">{h(value)}</div>{lines}</div>'
        )
    parts.append('</div>\n<div class="charts">')
    for i, fig in enumerate(figures):
        # not responsive: plotly redraws a responsive chart to its container when the page is printed
        drawing = print_figure(fig).to_html(
            full_html=False, include_plotlyjs="inline" if i == 0 else False,
            config={"displayModeBar": False, "responsive": False},
            default_width=f"{CHART_WIDTH_PX}px", default_height=f"{CHART_HEIGHT_PX}px",
        )
        parts.append(f'<div class="chart">{drawing}</div>')
    parts.append('</div>\n</section>\n<div class="tables">')
    for name, frame in tables:
        count = rows_text(len(frame))
        if len(frame) > PACK_ROWS:
            count += f"; the first {PACK_ROWS} printed, the dashboard's table and its CSV hold them all"
        parts.append(f'<section class="table">\n<h2>{h(name)}</h2>\n<p class="rows">{count}</p>')
        parts.append(table_html(frame.head(PACK_ROWS)) if not frame.empty else "<p>None.</p>")
        parts.append("</section>")
    parts.append("</div>")
    return page(title, "\n".join(parts), PACK_STYLE)
