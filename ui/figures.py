"""Figure builders: pure functions from metric frames to plotly figures, tested on `fig.to_dict()`.

Colours are the Okabe-Ito palette (as in .streamlit/config.toml). Met and missed are
never told apart by colour alone: breached bars carry a hatch pattern and every mark
has a text label or a distinct symbol.

plotly.js renders a few HTML tags in any text it draws (`<a href>`, `<b>`, `<br>`), so every
data value placed in a label, a tick, a legend or hover text goes through `plot_text`: an
account named `<a href="https://evil.example">x</a>` is drawn as those characters.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from metrics.safe_text import plot_text

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


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        hoverlabel={"namelength": -1},
    )
    return fig


def empty_figure(message: str) -> go.Figure:
    """A blank figure that says why it is blank (a filter left nothing to draw)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16}, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", height=200)


def build_attainment_trend_figure(frame: pd.DataFrame, title: str = "Attainment by period") -> go.Figure:
    """Lines of attainment % per period, one per kind (or series column), each with its own symbol.

    Expects columns period, attainment (0..1), met, breached and optionally kind.
    """
    if frame.empty:
        return empty_figure("No obligations started in this period")
    fig = go.Figure()
    series = frame["kind"].unique() if "kind" in frame else ["all"]
    for i, name in enumerate(series):
        part = frame[frame["kind"] == name] if "kind" in frame else frame
        fig.add_trace(
            go.Scatter(
                x=part["period"],
                y=part["attainment"] * 100,
                mode="lines+markers",
                name=plot_text(str(name).replace("_", "-")),
                line={"color": PALETTE[i % len(PALETTE)], "width": 3},
                marker={"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 9},
                customdata=part[["met", "breached"]].to_numpy(),
                hovertemplate="%{x}: %{y:.1f} %<br>met %{customdata[0]:,}, breached %{customdata[1]:,}<extra></extra>",
            )
        )
    fig.update_yaxes(title="attainment %", ticksuffix=" %", rangemode="normal")
    return _layout(fig, title)


def build_attainment_matrix_figure(frame: pd.DataFrame, title: str = "Attainment by severity and package") -> go.Figure:
    """Heatmap of attainment per severity (rows) and package (columns), each cell labelled with % and counts."""
    decided = frame[(frame["met"] + frame["breached"]) > 0]
    if decided.empty:
        return empty_figure("No met or breached obligations for these filters")
    grouped = decided.groupby(["severity", "package"], as_index=False)[["met", "breached"]].sum()
    grouped["attainment"] = grouped["met"] / (grouped["met"] + grouped["breached"])
    rates = grouped.pivot(index="severity", columns="package", values="attainment")
    labels = grouped.assign(
        label=lambda d: [
            f"{a:.1%}<br>{m:,}/{m + b:,}" for a, m, b in zip(d["attainment"], d["met"], d["breached"], strict=True)
        ]
    ).pivot(index="severity", columns="package", values="label")
    fig = go.Figure(
        go.Heatmap(
            z=rates.to_numpy() * 100,
            x=[plot_text(p) for p in rates.columns],
            y=[f"Severity {s}" for s in rates.index],
            text=labels.to_numpy(),
            texttemplate="%{text}",
            colorscale=[[0, MISSED], [0.5, "#F0E442"], [1, MET]],
            zmin=50,
            zmax=100,
            colorbar={"title": "%", "ticksuffix": " %"},
            hovertemplate="%{y}, %{x}: %{z:.1f} %<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=320)


def build_status_figure(frame: pd.DataFrame, group: str, title: str = "Met and breached") -> go.Figure:
    """Horizontal stacked bars of met and breached per group; breached bars are hatched and labelled."""
    decided = frame.groupby(group, as_index=False)[["met", "breached"]].sum()
    decided = decided[(decided["met"] + decided["breached"]) > 0]
    if decided.empty:
        return empty_figure("Nothing met or breached for these filters")
    labels = decided[group].map(plot_text)
    fig = go.Figure()
    fig.add_trace(go.Bar(y=labels, x=decided["met"], name="met", orientation="h", marker={"color": MET},
                         text=decided["met"], textposition="inside"))
    fig.add_trace(go.Bar(y=labels, x=decided["breached"], name="breached ✖", orientation="h",
                         marker={"color": MISSED, "pattern": {"shape": "/"}},
                         text=decided["breached"], textposition="inside"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="obligations")
    return _layout(fig, title, height=max(260, 40 * len(decided) + 120))


def build_response_time_figure(frame: pd.DataFrame, title: str = "Response time against target") -> go.Figure:
    """Median and p90 of elapsed / target per severity and kind, with the target as a line at 100 %."""
    if frame.empty:
        return empty_figure("No answered obligations with a target for these filters")
    agg = frame.groupby(["kind", "severity"], as_index=False).agg(
        median_of_target=("median_of_target", "median"), p90_of_target=("p90_of_target", "median")
    )
    labels = [plot_text(f"{k.replace('_', '-')} S{s}") for k, s in zip(agg["kind"], agg["severity"], strict=True)]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=agg["median_of_target"] * 100, name="median", marker={"color": MET},
                         text=[f"{v:.0%}" for v in agg["median_of_target"]], textposition="outside"))
    fig.add_trace(go.Bar(x=labels, y=agg["p90_of_target"] * 100, name="90th percentile",
                         marker={"color": "#E69F00", "pattern": {"shape": "."}},
                         text=[f"{v:.0%}" for v in agg["p90_of_target"]], textposition="outside"))
    fig.add_hline(y=100, line={"dash": "dash", "color": MISSED}, annotation_text="target")
    fig.update_yaxes(title="% of target used", ticksuffix=" %")
    return _layout(fig, title)


def build_escalation_trend_figure(frame: pd.DataFrame, title: str = "Escalations by period") -> go.Figure:
    """Stacked bars per period: policy escalations (breaches) and recorded ones (hatched), labelled."""
    if frame.empty or frame[["policy", "recorded"]].to_numpy().sum() == 0:
        return empty_figure("No escalations in this period")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=frame["period"], y=frame["policy"], name="policy (breach)", marker={"color": MISSED}))
    fig.add_trace(go.Bar(x=frame["period"], y=frame["recorded"], name="recorded",
                         marker={"color": "#CC79A7", "pattern": {"shape": "x"}}))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="escalations")
    return _layout(fig, title)


def build_utilization_figure(frame: pd.DataFrame, share: str, used: str, entitled: str, title: str) -> go.Figure:
    """Per account: share of the entitlement used (bars, the metric's `share` column) against the term elapsed.

    It plots the metric's own shares (NaN = nothing entitled, left out); `used` and `entitled`
    only label the bars ("2/3").
    """
    rows = frame[frame[share].notna()].sort_values(share)
    if rows.empty:
        return empty_figure("No account in view has this entitlement")
    names = rows["account_name"].map(plot_text)
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=rows[share] * 100, orientation="h", name="used",
                         marker={"color": MET},
                         text=[f"{u:g}/{e:g}" for u, e in zip(rows[used], rows[entitled], strict=True)],
                         textposition="auto"))
    fig.add_trace(go.Scatter(y=names, x=rows["elapsed_share"] * 100, mode="markers",
                             name="term elapsed", marker={"symbol": "diamond", "size": 12, "color": "#E69F00"}))
    fig.update_xaxes(title="% of entitlement", ticksuffix=" %")
    return _layout(fig, title, height=max(300, 26 * len(rows) + 120))


def build_active_clock_figure(frame: pd.DataFrame, title: str = "Running SLA clocks") -> go.Figure:
    """One bar per active ticket: share of its clock consumed, coloured and labelled by state."""
    rows = frame[frame["consumed"].notna()].head(40)
    if rows.empty:
        return empty_figure("No running clock with a target")
    fig = go.Figure()
    for state, (colour, label) in STATE_STYLE.items():
        part = rows[rows["clock_state"] == state]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            y=part["case_id"].map(plot_text), x=part["consumed"].clip(upper=2) * 100, orientation="h", name=label,
            marker={"color": colour, "pattern": {"shape": "/" if state == "breached" else ""}},
            text=[label] * len(part), textposition="inside",
        ))
    fig.add_vline(x=100, line={"dash": "dash", "color": MISSED}, annotation_text="deadline")
    fig.update_xaxes(title="% of the clock consumed", ticksuffix=" %")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=max(300, 24 * len(rows) + 120))


def build_count_bar_figure(frame: pd.DataFrame, x: str, y: str, title: str, color: str = MET) -> go.Figure:
    """A labelled bar chart of one count column (re-classifications, tickets, requests ...)."""
    if frame.empty:
        return empty_figure("Nothing to show for these filters")
    fig = go.Figure(go.Bar(x=frame[x].map(plot_text), y=frame[y], marker={"color": color}, text=frame[y],
                           textposition="outside"))
    return _layout(fig, title)
