"""Figure builders: pure functions from metric frames to plotly figures, tested on `fig.to_dict()`.

Colours are the Okabe-Ito palette (as in .streamlit/config.toml). Met and missed are
never told apart by colour alone: breached bars carry a hatch pattern and every mark
has a text label or a distinct symbol.

plotly.js renders a few HTML tags in any text it draws (`<a href>`, `<b>`, `<br>`), so every
data value placed in a label, a tick, a legend or hover text goes through `plot_text`: an
account named `<a href="https://evil.example">x</a>` is drawn as those characters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from metrics.safe_text import plot_text
from metrics.subjects.buckets import bucket_hover

MET = "#0072B2"
MISSED = "#D55E00"
NEUTRAL = "#999999"
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
SYMBOLS = ["circle", "diamond", "square", "triangle-up", "x", "star"]
STATE_STYLE = {  # clock state -> (colour, symbol shown in text)
    "breached": (MISSED, "✖ breached"),
    "at_risk": ("#E69F00", "▲ at risk"),
    "paused": (NEUTRAL, "‖ paused"),
    "on_track": (MET, "● on track"),
    "untargeted": ("#CCCCCC", "○ no target"),
    "suspended": ("#CCCCCC", "○ suspended"),
}


TEXT_ON_FILL = "#000000"  # cell and bar text drawn on a fill: >= 5.4:1 on every colour of HEAT_SCALE
HEAT_SCALE = [[0, MISSED], [0.5, "#F0E442"], [1, "#56B4E9"]]  # light enough that black text reads on each cell
NO_VALUE_FILL = "#E8E8E8"  # a heatmap cell with nothing decided (the plot background shows through)
BODY_PX = 16  # Streamlit's body text; text inside a chart is never below MIN_TEXT_PX
MIN_TEXT_PX = 14
ROW_PX = 24  # one horizontal bar with its tick label
MAX_LABELLED_ROWS = 100  # more bars than this: names in the hover only, a tick each would overlap
MAX_HEIGHT = 2_600  # a chart never grows past this (under three screens), whatever it is given
HALO = {"shadow": "auto"}  # a text outside a bar: a halo of the opposite colour keeps it clear of lines it crosses
TICK_CHARS = 28  # a longer name is cut with an ellipsis in a tick; the hover shows it whole


def bar_rows_height(rows: int, chrome: int = 150) -> int:
    """The height of a chart with one horizontal bar per row, bounded: 25 rows 750 px, 5,000 rows MAX_HEIGHT."""
    return min(max(300, ROW_PX * rows + chrome), MAX_HEIGHT)


def short_name(value: object) -> str:
    """A name for a tick, cut to TICK_CHARS with an ellipsis, escaped for plotly."""
    text = "" if value is None else str(value)
    return plot_text(text if len(text) <= TICK_CHARS else text[: TICK_CHARS - 1].rstrip() + "…")


def _name_ticks(keys: list[str], names: list[object]) -> dict[str, Any]:
    """Rows top-down in the order given, each tick the row's short name (the key keeps equal names apart).

    The y axis's properties.
    """
    labelled = len(keys) <= MAX_LABELLED_ROWS
    return {"autorange": "reversed", "type": "category", "showticklabels": labelled, "automargin": True,
            **({"tickmode": "array", "tickvals": keys, "ticktext": [short_name(n) for n in names]}
               if labelled else {})}


MONTH = re.compile(r"^\d{4}-\d{2}$")  # metrics.subjects.filters.period_label's month: '2026-08'
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _period_axis_props(periods: pd.Series, partial: Collection[str] = ()) -> dict[str, Any]:
    """Periods ticked as what they are: '2026-08' as 'Aug 2026', '2026-W10' as that week; never 'Aug 9'.

    plotly reads '2026-08' as a date and ticks it by days, so months, weeks and quarters are
    categories in their sortable order, months with their names; days stay a date axis. A
    period in `partial` (covered in part by the period) says so under its tick. The x axis's
    properties (none for days).
    """
    labels = sorted({str(p) for p in periods})
    if not labels or all(DAY.match(p) for p in labels):
        return {}
    props: dict[str, Any] = {"type": "category", "categoryorder": "array", "categoryarray": labels}
    months = all(MONTH.match(p) for p in labels)
    if months or partial:
        names = [dt.datetime.strptime(p, "%Y-%m").strftime("%b %Y") if months else p for p in labels]
        props.update(tickmode="array", tickvals=labels,
                     ticktext=[f"{n}<br>(partial)" if p in partial else n for p, n in zip(labels, names, strict=True)])
    return props


PARTIAL_OPACITY = 0.35  # a partial bucket's mark: faded, still legible
TOO_SMALL_PX = 5  # a too-small bucket's point, beside the usual 9


def _grain_of(label: str) -> str:
    """The grain a period label is written in ('2026-08' month, '2026-W35' week, '2026-Q3' quarter, else day)."""
    if MONTH.match(label):
        return "month"
    if "-W" in label:
        return "week"
    return "quarter" if "-Q" in label else "day"


def _buckets(part: pd.DataFrame) -> tuple[list[bool], list[bool], list[str]]:
    """Per row: partial, too small, and the period as the hover says it ('Aug 2026 (partial: 2 of 31 days)').

    A frame without the metrics' bucket columns (metrics.subjects.buckets) is whole and judged.
    """
    labels = [str(p) for p in part["period"]]
    if "covered_days" not in part:
        return [False] * len(part), [False] * len(part), [plot_text(p) for p in labels]
    partial = [bool(v) for v in part["partial"]]
    small = [bool(v) for v in part["too_small"]]
    hover = [plot_text(bucket_hover(p, _grain_of(p), int(c), int(d)))
             for p, c, d in zip(labels, part["covered_days"], part["period_days"], strict=True)]
    return partial, small, hover


def _partial_periods(frame: pd.DataFrame) -> set[str]:
    return set(frame.loc[frame["partial"].astype(bool), "period"].astype(str)) if "partial" in frame else set()


def _rows_layout_props(title: str, rows: int, right: int = 10) -> dict[str, Any]:
    """A chart of one bar per row: bounded height, the legend under the title (beside it, a long title runs into it)."""
    return _merged(_layout_props(title, height=bar_rows_height(rows)),
                   {"legend": {"yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
                    "margin": {"t": 80, "r": right}})


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(_layout_props(title, height))
    return fig


def _layout_props(title: str, height: int = 360) -> dict[str, Any]:
    """Every chart's title, height, margins, legend and hover, as layout properties."""
    return {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        "hoverlabel": {"namelength": -1},
    }


def _merged(*parts: dict[str, Any]) -> dict[str, Any]:
    """Layout properties merged as successive `update_layout` calls would merge them (nested keys kept)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = _merged(out[key], value)
            else:
                out[key] = value
    return out


def empty_figure(message: str) -> go.Figure:
    """A blank figure that says why it is blank (a filter left nothing to draw)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16}, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", height=200)


def _one_row_per(frame: pd.DataFrame, keys: list[str]) -> None:
    """Refuse a frame with several rows for one group: a builder plots a metric's rows, it never aggregates.

    A page that passes a finer grouping than the figure shows (per package when the bars are
    per kind x severity) would otherwise need the builder to combine values it cannot combine
    (a median of medians is not the median); ask the metric for the figure's own grouping.
    """
    duplicated = frame.duplicated(keys)
    if duplicated.any():
        first = frame.loc[duplicated, keys].iloc[0].to_dict()
        raise ValueError(f"one row per {', '.join(keys)} expected (the metric's own grouping); {first} repeats")


def provisional_hover(pending: int) -> str:
    """The hover line of a point or cell whose obligations are not all decided yet."""
    return f"provisional: {int(pending):,} still running" if pending else "settled"


def build_attainment_trend_figure(frame: pd.DataFrame, title: str = "Attainment by period") -> go.Figure:
    """Lines of attainment % per period, one per kind (or series column), each with its own symbol.

    Expects the rows of `attainment_table(by=["kind"], grain=...)`: period, attainment (0..1),
    met, breached, pending and optionally kind, one row per kind and period, with the bucket
    columns the metric adds. A point whose period still has pending obligations is drawn hollow
    (its symbol's `-open` variant) and its hover says "provisional: N still running": the value
    may still change. A period the filter covers in part is faded, its tick says "(partial)" and
    its hover the day count ("Aug 2026 (partial: 2 of 31 days)"); one with too few met or
    breached obligations to judge is drawn small and its hover says so.
    """
    if frame.empty:
        return empty_figure("No obligations started in this period")
    if ((frame["met"] + frame["breached"]) == 0).all():  # e.g. only untargeted packages: no attainment, no axis
        return empty_figure("No obligation in view was met or breached: nothing to take an attainment of")
    _one_row_per(frame, ["kind", "period"] if "kind" in frame else ["period"])
    traces = []
    series = frame["kind"].unique() if "kind" in frame else ["all"]
    any_small = False
    for i, name in enumerate(series):
        part = frame[frame["kind"] == name] if "kind" in frame else frame
        pending = part["pending"].astype("int64") if "pending" in part else pd.Series(0, index=part.index)
        partial, small, periods = _buckets(part)
        any_small = any_small or any(small)
        judged = ["" if not s else f"too few to judge: {m + b:,} met or breached" for s, m, b in
                  zip(small, part["met"], part["breached"], strict=True)]
        symbol = SYMBOLS[i % len(SYMBOLS)]
        traces.append(
            go.Scatter(
                x=part["period"],
                y=part["attainment"] * 100,
                mode="lines+markers",
                name=plot_text(str(name).replace("_", "-")),
                line={"color": PALETTE[i % len(PALETTE)], "width": 3},
                marker={"symbol": [f"{symbol}-open" if n else symbol for n in pending],
                        "size": [TOO_SMALL_PX if s else 9 for s in small],
                        "opacity": [PARTIAL_OPACITY if p else 1.0 for p in partial],
                        "line": {"width": 2}},
                customdata=list(zip(part["met"], part["breached"], [provisional_hover(n) for n in pending],
                                    periods, judged, strict=True)),
                hovertemplate="%{customdata[3]}: %{y:.1f} %<br>met %{customdata[0]:,}, breached %{customdata[1]:,}"
                              "<br>%{customdata[2]}<br>%{customdata[4]}<extra></extra>",
            )
        )
    partial_periods = _partial_periods(frame)
    layout = _merged(
        _layout_props(title),
        # said under the title, not in it: a long title runs into the legend at half width
        {"title": {"subtitle": {"text": "hollow points: provisional, obligations still running"}}, "margin": {"t": 80}},
        {"yaxis": {"title": {"text": "attainment %"}, "ticksuffix": " %", "rangemode": "normal"}},
        {"xaxis": _merged(_period_axis_props(frame["period"], partial_periods),
                          _bucket_note(bool(partial_periods), any_small))},
    )
    return go.Figure(data=traces, layout=layout)  # made once: each update of a figure validates it again


def _bucket_note(partial: bool, small: bool) -> dict[str, Any]:
    """What a faded or small mark means, said under the period axis (the subtitle's line is the legend's too).

    The x axis's properties (none when every mark is whole and judged).
    """
    notes = (["faded: partial period"] if partial else []) + (["small: too few to judge"] if small else [])
    return {"title": {"text": " · ".join(notes), "font": {"size": MIN_TEXT_PX}}} if notes else {}


def build_attainment_matrix_figure(
    frame: pd.DataFrame, kind: str | None = None, title: str | None = None
) -> go.Figure:
    """Heatmap of attainment per severity (rows) and package (columns) of one kind, each cell labelled.

    Expects the rows of `attainment_table(by=["kind", "severity", "package"])` (or without kind):
    one row per cell, its `attainment`, met, breached and pending plotted as they are. `kind`
    picks the initial or follow-up cells (a heatmap never pools the two). A cell with nothing
    decided is blank; a cell with obligations still running says so.
    """
    rows = frame[frame["kind"] == kind] if kind is not None and "kind" in frame else frame
    name = KIND_TITLES.get(kind or "", "Attainment")
    title = title or f"{name} by severity and package"
    if rows.empty or ((rows["met"] + rows["breached"]) == 0).all():
        return empty_figure(f"{name}: no met or breached obligations for these filters")
    _one_row_per(rows, ["severity", "package"])
    pending = rows["pending"].astype("int64") if "pending" in rows else pd.Series(0, index=rows.index)
    labelled = rows.assign(
        label=[
            (f"{a:.1%}<br>{m:,}/{m + b:,}" if m + b else "–") + (f"<br>{n:,} running" if n else "")
            for a, m, b, n in zip(rows["attainment"], rows["met"], rows["breached"], pending, strict=True)
        ]
    )
    # a package with nothing met, breached or running for this kind (Bronze: no targets) would be a column of "–":
    # left out, and named under the axis, so the cells that say something get the width
    something = set(labelled.loc[(labelled["met"] + labelled["breached"] + pending) > 0, "package"])
    blank = sorted({p for p in labelled["package"] if p not in something}, key=str)
    labelled = labelled[labelled["package"].isin(something)]
    rates = labelled.pivot(index="severity", columns="package", values="attainment").sort_index()
    labels = labelled.pivot(index="severity", columns="package", values="label").reindex(
        index=rates.index, columns=rates.columns
    )
    heatmap = (
        go.Heatmap(
            z=rates.to_numpy(dtype="float64") * 100,
            x=[plot_text(p) for p in rates.columns],
            y=[f"Severity {s}" for s in rates.index],
            text=labels.fillna("").to_numpy(),
            texttemplate="%{text}",
            textfont={"size": BODY_PX, "color": TEXT_ON_FILL},
            colorscale=HEAT_SCALE,
            zmin=50,
            zmax=100,
            showscale=False,  # every cell says its value; the bar's width goes to the cells
            xgap=2,
            ygap=2,
            hovertemplate="%{y}, %{x}: %{z:.1f} %<extra></extra>",
        )
    )
    left_out = plot_text(f"not shown, nothing met, breached or running: {', '.join(map(str, blank))}")
    layout = _merged(
        {"yaxis": {"autorange": "reversed"}},
        {"xaxis": {"title": {"text": left_out, "font": {"size": 12}}}} if blank else {},
        {"plot_bgcolor": NO_VALUE_FILL},  # a cell with nothing decided is grey, its text still dark on it
        _layout_props(title, height=120 * len(rates.index) + (140 if blank else 110)),
    )
    return go.Figure(data=[heatmap], layout=layout)


KIND_TITLES = {"initial": "Initial response attainment", "follow_up": "Follow-up attainment"}


def build_status_figure(frame: pd.DataFrame, group: str, title: str = "Met and breached") -> go.Figure:
    """Horizontal stacked bars of met and breached per group, in the frame's order (first at the top).

    Expects one row per `group` (the metric asked for that grouping): the counts are plotted as given.
    Breached bars are hatched; each bar's counts are written once, outside its end ("12 ✔ · 3 ✖"),
    so no number sits on the hatch.
    """
    _one_row_per(frame, [group])
    decided = frame[(frame["met"] + frame["breached"]) > 0]
    if decided.empty:
        return empty_figure("Nothing met or breached for these filters")
    labels = [plot_text(v) for v in decided[group]]
    counts = [f"{m:,} ✔ · {b:,} ✖" for m, b in zip(decided["met"], decided["breached"], strict=True)]
    traces = [
        go.Bar(y=labels, x=decided["met"], name="met ✔", orientation="h", marker={"color": MET},
               hovertemplate="%{y}: %{x:,} met<extra></extra>"),
        go.Bar(y=labels, x=decided["breached"], name="breached ✖", orientation="h",
               marker={"color": MISSED, "pattern": {"shape": "/"}},
               text=counts, textposition="outside", constraintext="none", cliponaxis=False,
               textfont=HALO, hovertemplate="%{y}: %{x:,} breached<extra></extra>"),
    ]
    layout = _merged(
        {"barmode": "stack", "xaxis": {"title": {"text": "obligations"}},
         "yaxis": _name_ticks(labels, list(decided[group]))},
        _rows_layout_props(title, len(decided), right=110),  # room for the counts after the longest bar
    )
    return go.Figure(data=traces, layout=layout)


def build_response_time_figure(frame: pd.DataFrame, title: str = "Response time against target") -> go.Figure:
    """Median and p90 of elapsed / target per kind and severity, with the target as a line at 100 %.

    Expects the rows of `response_times(by=["kind", "severity"])`: one row per kind x severity whose
    median_of_target and p90_of_target are the quantiles over all its obligations (pooled), plotted
    as they are. A median of per-package medians is not the median, so a finer frame is refused.
    """
    if frame.empty:
        return empty_figure("No answered obligations with a target for these filters")
    _one_row_per(frame, ["kind", "severity"])
    labels = [plot_text(f"{k.replace('_', '-')} S{s}") for k, s in zip(frame["kind"], frame["severity"], strict=True)]
    counts = [f"{n:,} answered" for n in frame["obligations"]] if "obligations" in frame else None
    traces = [
        go.Bar(x=labels, y=frame["median_of_target"] * 100, name="median", marker={"color": MET},
               text=[f"{v:.0%}" for v in frame["median_of_target"]], textposition="outside",
               textfont=HALO, hovertext=counts),
        go.Bar(x=labels, y=frame["p90_of_target"] * 100, name="90th percentile",
               marker={"color": "#E69F00", "pattern": {"shape": "."}},
               text=[f"{v:.0%}" for v in frame["p90_of_target"]], textposition="outside",
               textfont=HALO, hovertext=counts),
    ]
    layout = _merged({"yaxis": {"title": {"text": "% of target used"}, "ticksuffix": " %"}},
                     _layout_props(title), {"margin": {"r": 60}})
    fig = go.Figure(data=traces, layout=layout)
    # the target named past the plot's right edge: inside, it sits on the last bar's label
    fig.add_hline(y=100, line={"dash": "dash", "color": MISSED}, annotation_text="target",
                  annotation_position="right")
    return fig


def build_escalation_trend_figure(frame: pd.DataFrame, title: str = "Escalations by period") -> go.Figure:
    """Grouped bars per period: policy escalations (breaches) beside recorded ones (hatched), never stacked.

    Stacking would draw their sum, and a recorded escalation that follows a breach of the same
    case is the same incident counted twice; side by side, each is read on its own. A period
    the filter covers in part has faded bars, "(partial)" under its tick and its day count in
    the hover.
    """
    if frame.empty or not ((frame["policy"] > 0) | (frame["recorded"] > 0)).any():
        return empty_figure("No escalations in this period")
    _one_row_per(frame, ["period"])
    partial, _, periods = _buckets(frame)
    opacity = [PARTIAL_OPACITY if p else 1.0 for p in partial]
    traces = [
        go.Bar(x=frame["period"], y=frame[column], name=name, marker={**marker, "opacity": opacity},
               text=[f"{v:,}" for v in frame[column]], textposition="outside", customdata=periods,
               hovertemplate=f"%{{customdata}}: %{{y:,}} {name}<extra></extra>")
        for column, name, marker in (
            ("policy", "policy (breach)", {"color": MISSED}),
            ("recorded", "recorded", {"color": "#CC79A7", "pattern": {"shape": "x"}}),
        )
    ]
    partial_periods = _partial_periods(frame)
    layout = _merged(
        _layout_props(title),
        {"barmode": "group", "yaxis": {"title": {"text": "escalations"}}},
        {"xaxis": _merged(_period_axis_props(frame["period"], partial_periods),
                          _bucket_note(bool(partial_periods), False))},
    )
    return go.Figure(data=traces, layout=layout)


def build_utilization_figure(frame: pd.DataFrame, share: str, used: str, entitled: str, title: str) -> go.Figure:
    """Per account, in the frame's order (first at the top): share of the entitlement used against the term elapsed.

    It plots the metric's own shares (NaN = nothing entitled, left out); `used` and `entitled`
    only label the bars ("2/3"). The label is written right of both the bar's end and the
    elapsed diamond, so it is never under the marker nor on the bar's fill.
    """
    rows = frame[frame[share].notna()]
    if rows.empty:
        return empty_figure("No account in view has this entitlement")
    keys = [plot_text(k) for k in (rows["account_id"] if "account_id" in rows else rows["account_name"])]
    names = [plot_text(n) for n in rows["account_name"]]
    bars, elapsed = rows[share] * 100, rows["elapsed_share"] * 100
    counts = [f"{u:g}/{e:g}" for u, e in zip(rows[used], rows[entitled], strict=True)]
    traces = [
        go.Bar(y=keys, x=bars, orientation="h", name="used", marker={"color": MET},
               customdata=list(zip(names, counts, strict=True)),
               hovertemplate="%{customdata[0]}: %{x:.0f} % used (%{customdata[1]})<extra></extra>"),
        go.Scatter(y=keys, x=elapsed, mode="markers", name="term elapsed",
                   marker={"symbol": "diamond", "size": 12, "color": "#E69F00",
                           "line": {"width": 1, "color": "#000000"}},
                   customdata=names, hovertemplate="%{customdata}: %{x:.0f} % of the term elapsed<extra></extra>"),
    ]
    if len(rows) <= MAX_LABELLED_ROWS:
        # an invisible marker wider than the diamond at the further of the two ends; the text starts past it
        traces.append(go.Scatter(y=keys, x=[max(b, e) for b, e in zip(bars, elapsed, strict=True)],
                                 mode="markers+text", text=counts, textposition="middle right", textfont=HALO,
                                 marker={"size": 18, "opacity": 0}, cliponaxis=False, showlegend=False,
                                 hoverinfo="skip", name="used/entitled"))
    layout = _merged(
        {"xaxis": {"title": {"text": "% of entitlement"}, "ticksuffix": " %", "rangemode": "tozero"},
         "yaxis": _name_ticks(keys, list(rows["account_name"]))},
        _rows_layout_props(title, len(rows), right=60),  # room for the label after the longest bar
    )
    return go.Figure(data=traces, layout=layout)


def build_active_clock_figure(frame: pd.DataFrame, title: str = "Running SLA clocks") -> go.Figure:
    """One bar per ticket given, in the frame's order (most urgent first, at the top): share of its clock consumed.

    Coloured and labelled by state; the label sits outside the bar's end, never on the
    breached hatch. Bars stop at 200 % (the label says more). The page chooses how many
    clocks to pass (ui.top_n); rows without a running targeted clock are left out.
    """
    rows = frame[frame["consumed"].notna()]
    if rows.empty:
        return empty_figure("No running clock with a target")
    traces = []
    for state, (colour, label) in STATE_STYLE.items():
        part = rows[rows["clock_state"] == state]
        if part.empty:
            continue
        consumed = part["consumed"] * 100
        traces.append(go.Bar(
            y=part["case_id"].map(plot_text), x=consumed.clip(upper=200), orientation="h", name=label,
            marker={"color": colour, "pattern": {"shape": "/" if state == "breached" else ""}},
            text=[f"{label} {c:.0f} %" for c in consumed], textposition="outside", constraintext="none", textfont=HALO,
            cliponaxis=False, customdata=consumed, hovertemplate="%{y}: %{customdata:.0f} % consumed<extra></extra>",
        ))
    ids = [plot_text(c) for c in rows["case_id"]]
    layout = _merged(
        {"xaxis": {"title": {"text": "% of the clock consumed"}, "range": [0, 260],
                   "tickvals": [0, 50, 100, 150, 200, 250],
                   "ticktext": ["0 %", "50 %", "<b>100 % deadline</b>", "150 %", "200 %", "250 %"]},
         "barmode": "stack",  # one trace per state, each case in one of them: full-width bars
         "yaxis": _name_ticks(ids, list(rows["case_id"]))},
        _rows_layout_props(title, len(rows)),
    )
    fig = go.Figure(data=traces, layout=layout)
    fig.add_vline(x=100, line={"dash": "dash", "color": MISSED})  # named on the axis: inside, it covers a bar
    return fig


def build_count_bar_figure(frame: pd.DataFrame, x: str, y: str, title: str, color: str = MET) -> go.Figure:
    """A labelled bar chart of one count column (re-classifications, tickets, requests ...)."""
    if frame.empty:
        return empty_figure("Nothing to show for these filters")
    fig = go.Figure(go.Bar(x=frame[x].map(plot_text), y=frame[y], marker={"color": color}, text=frame[y],
                           textposition="outside", cliponaxis=False))
    fig.update_xaxes(tickmode="array", tickvals=list(frame[x].map(plot_text)),
                     ticktext=[short_name(v) for v in frame[x]])
    return _layout(fig, title)
