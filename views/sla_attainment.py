"""SLA attainment: per severity and package, initial and follow-up, trends, and drill-down to breaches."""

from __future__ import annotations

import streamlit as st

from metrics.subjects.attainment import attainment_summary, attainment_table, response_times
from metrics.subjects.filters import PERIOD_GRAINS
from ui import components as ui
from ui import figures, state
from ui.help import CLOCK_HELP, PREVIOUS_PERIOD_HELP, definition_help, dimension_label
from ui.navigation import page_title

filters = state.current_filters()
page_title(__file__, help=CLOCK_HELP)

table = state.metric(attainment_table, filters=filters)
previous = filters.previous()  # the registry's one previous-period rule (Q3 -> Q2, March -> February)
by_kind = state.metric(attainment_table, filters=filters, by=["kind"]).set_index("kind")
before = state.metric(attainment_table, filters=previous, by=["kind"]).set_index("kind") if previous else None
overall = state.metric(attainment_summary, filters=filters, previous=previous)
tiles = st.columns(4)
tiles[0].metric("Attainment", ui.pct(overall.get("attainment")),
                ui.delta_pp(overall.get("attainment"), overall.get("previous_attainment")), border=True,
                help=f"{definition_help('attainment')} {PREVIOUS_PERIOD_HELP}")
for col, kind, label in ((tiles[1], "initial", "Initial response"), (tiles[2], "follow_up", "Follow-up")):
    now = by_kind["attainment"].get(kind) if kind in by_kind.index else None
    was = before["attainment"].get(kind) if before is not None and kind in before.index else None
    col.metric(label, ui.pct(now), ui.delta_pp(now, was), border=True)
tiles[3].metric("Breached", f"{int(overall.get('breached') or 0):,}",
                f"of {int((overall.get('met') or 0) + (overall.get('breached') or 0)):,} decided", delta_color="off",
                border=True)
if table.empty:
    ui.empty_state("No obligations started in this period for these filters.")
    st.stop()

grain = st.segmented_control(
    "Trend by", list(PERIOD_GRAINS), default="week", key="sla_grain", bind="query-params",
)
left, right = st.columns(2)
with left:
    trend = state.metric(attainment_table, filters=filters, by=["kind"], grain=grain or "week")
    st.plotly_chart(figures.build_attainment_trend_figure(trend, f"Attainment by {grain or 'week'}"), key="sla_trend")
with right:
    st.plotly_chart(figures.build_attainment_matrix_figure(table), key="sla_matrix")

st.subheader("By kind, severity and package", help=definition_help("attainment"))
shown = table.assign(attainment=(table["attainment"] * 100).round(1))
ui.show_table(
    shown, key="sla_table", file_name="attainment.csv",
    attainment=st.column_config.NumberColumn("attainment %", format="%.1f %%"),
)

st.subheader("Response time against target", help=definition_help("within_half_target"))
times = state.metric(response_times, filters=filters)
st.plotly_chart(figures.build_response_time_figure(times), key="sla_times")
ui.show_table(times, key="sla_times_table", file_name="response_times.csv")

dimension = st.segmented_control(
    "Compare by", ["account_name", "advisor", "region", "package"], default="account_name",
    key="sla_by", bind="query-params", format_func=lambda d: dimension_label(d).lower(),
)
by_dim = state.metric(attainment_table, filters=filters, by=[dimension or "account_name"])
st.plotly_chart(
    figures.build_status_figure(by_dim, dimension or "account_name", "Met and breached"), key="sla_by_dim",
)

st.subheader("Breached obligations")
ui.breached_drilldown(filters, key="sla_breached")
