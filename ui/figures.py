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
    met, breached, pending and optionally kind, one row per kind and period. A point whose period
    still has pending obligations is drawn hollow (its symbol's `-open` variant) and its hover
    says "provisional: N still running": the value may still change.
    """
    if frame.empty:
        return empty_figure("No obligations started in this period")
    _one_row_per(frame, ["kind", "period"] if "kind" in frame else ["period"])
    fig = go.Figure()
    series = frame["kind"].unique() if "kind" in frame else ["all"]
    for i, name in enumerate(series):
        part = frame[frame["kind"] == name] if "kind" in frame else frame
        pending = part["pending"].astype("int64") if "pending" in part else pd.Series(0, index=part.index)
        symbol = SYMBOLS[i % len(SYMBOLS)]
        fig.add_trace(
            go.Scatter(
                x=part["period"],
                y=part["attainment"] * 100,
                mode="lines+markers",
                name=plot_text(str(name).replace("_", "-")),
                line={"color": PALETTE[i % len(PALETTE)], "width": 3},
                marker={"symbol": [f"{symbol}-open" if n else symbol for n in pending], "size": 9,
                        "line": {"width": 2}},
                customdata=list(zip(part["met"], part["breached"], [provisional_hover(n) for n in pending],
                                    strict=True)),
                hovertemplate="%{x}: %{y:.1f} %<br>met %{customdata[0]:,}, breached %{customdata[1]:,}"
                              "<br>%{customdata[2]}<extra></extra>",
            )
        )
    fig.update_yaxes(title="attainment %", ticksuffix=" %", rangemode="normal")
    fig = _layout(fig, title)
    # said under the title, not in it: a long title runs into the legend at half width
    fig.update_layout(title={"subtitle": {"text": "hollow points: provisional, obligations still running"}},
                      margin={"t": 80})
    return fig


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
    rates = labelled.pivot(index="severity", columns="package", values="attainment").sort_index()
    labels = labelled.pivot(index="severity", columns="package", values="label").reindex(
        index=rates.index, columns=rates.columns
    )
    fig = go.Figure(
        go.Heatmap(
            z=rates.to_numpy(dtype="float64") * 100,
            x=[plot_text(p) for p in rates.columns],
            y=[f"Severity {s}" for s in rates.index],
            text=labels.fillna("").to_numpy(),
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


KIND_TITLES = {"initial": "Initial response attainment", "follow_up": "Follow-up attainment"}


def build_status_figure(frame: pd.DataFrame, group: str, title: str = "Met and breached") -> go.Figure:
    """Horizontal stacked bars of met and breached per group; breached bars are hatched and labelled.

    Expects one row per `group` (the metric asked for that grouping): the counts are plotted as given.
    """
    _one_row_per(frame, [group])
    decided = frame[(frame["met"] + frame["breached"]) > 0]
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
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=frame["median_of_target"] * 100, name="median", marker={"color": MET},
                         text=[f"{v:.0%}" for v in frame["median_of_target"]], textposition="outside",
                         hovertext=counts))
    fig.add_trace(go.Bar(x=labels, y=frame["p90_of_target"] * 100, name="90th percentile",
                         marker={"color": "#E69F00", "pattern": {"shape": "."}},
                         text=[f"{v:.0%}" for v in frame["p90_of_target"]], textposition="outside",
                         hovertext=counts))
    fig.add_hline(y=100, line={"dash": "dash", "color": MISSED}, annotation_text="target")
    fig.update_yaxes(title="% of target used", ticksuffix=" %")
    return _layout(fig, title)


def build_escalation_trend_figure(frame: pd.DataFrame, title: str = "Escalations by period") -> go.Figure:
    """Grouped bars per period: policy escalations (breaches) beside recorded ones (hatched), never stacked.

    Stacking would draw their sum, and a recorded escalation that follows a breach of the same
    case is the same incident counted twice; side by side, each is read on its own.
    """
    if frame.empty or not ((frame["policy"] > 0) | (frame["recorded"] > 0)).any():
        return empty_figure("No escalations in this period")
    _one_row_per(frame, ["period"])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=frame["period"], y=frame["policy"], name="policy (breach)", marker={"color": MISSED},
                         text=frame["policy"], textposition="outside"))
    fig.add_trace(go.Bar(x=frame["period"], y=frame["recorded"], name="recorded",
                         marker={"color": "#CC79A7", "pattern": {"shape": "x"}},
                         text=frame["recorded"], textposition="outside"))
    fig.update_layout(barmode="group")
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
