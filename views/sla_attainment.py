"""SLA attainment: per severity and package, initial and follow-up, trends, and drill-down to breaches."""

from __future__ import annotations

import streamlit as st

from metrics.safe_text import md
from metrics.subjects.attainment import attainment_summary, attainment_table, response_times
from metrics.subjects.filters import PERIOD_GRAINS
from ui import components as ui
from ui import figures, state, top_n
from ui.help import CLOCK_HELP, definition_help, dimension_label
from ui.navigation import page_title

filters = state.current_filters()
page_title(__file__, help=CLOCK_HELP)

previous = filters.previous()  # the registry's one previous-period rule (Q3 -> Q2, March -> February)
# The page's metrics started together (state.start): one's query runs while another's frame is shaped.
table_job = state.start(attainment_table, filters=filters)
overall_job = state.start(attainment_summary, filters=filters, previous=previous)
pooled_job = state.start(response_times, filters=filters, by=["kind", "severity"])  # the chart's own grouping
times_job = state.start(response_times, filters=filters)
table, overall = table_job.result(), overall_job.result()
untargeted = ui.no_targets_text(overall, filters.packages, state.snapshot().config)  # e.g. Package = Bronze
tiles = st.columns([2, 1, 1] if untargeted else [1, 1, 1, 1])
if untargeted:  # said where the attainment would be; no chart of nothing follows
    tiles[0].info(md(untargeted), icon=":material/info:")
else:
    ui.attainment_tiles(tiles[:2], overall)  # per kind, never pooled; the lowest cell named
decided = overall["met"] + overall["breached"]
tiles[-2].metric("Breached", f"{overall['breached']:,}", f"of {decided:,} decided", delta_color="off",
                 delta_arrow="off", border=True, help=definition_help("attainment"))
tiles[-1].metric("Still running", f"{overall['pending']:,}", "provisional" if overall["pending"] else "settled",
                 delta_color="off", delta_arrow="off", border=True, help=definition_help("provisional_obligations"))
if table.empty:
    ui.empty_state("No obligations started in this period for these filters.")
    st.stop()
if untargeted:
    st.subheader("By kind, severity and package", help=definition_help("attainment"))
    ui.show_table(table.drop(columns="attainment"), key="sla_table", file_name="attainment.csv")
    st.stop()

grain = st.segmented_control(
    "Trend by", list(PERIOD_GRAINS), default="week", key="sla_grain", bind="query-params",
)
trend = state.metric(attainment_table, filters=filters, by=["kind"], grain=grain or "week")
st.plotly_chart(figures.build_attainment_trend_figure(trend, f"Attainment by {grain or 'week'}"), key="sla_trend")
ui.attainment_heatmaps(table, overall, key="sla_matrix")  # table: by kind, severity and package

st.subheader("By kind, severity and package", help=definition_help("attainment"))
shown = table.assign(attainment=(table["attainment"] * 100).round(1))
ui.show_table(
    shown, key="sla_table", file_name="attainment.csv",
    attainment=st.column_config.NumberColumn("attainment %", format="%.1f %%"),
)

st.subheader(
    "Response time against target",
    help=f"{definition_help('response_time_to_target')} {definition_help('within_half_target')}",
)
st.plotly_chart(figures.build_response_time_figure(pooled_job.result()), key="sla_times")
times = times_job.result()
ui.show_table(times, key="sla_times_table", file_name="response_times.csv")

dimension = st.segmented_control(
    "Compare by", ["account_name", "advisor", "region", "package"], default="account_name",
    key="sla_by", bind="query-params", format_func=lambda d: dimension_label(d).lower(),
) or "account_name"
by_dim = state.metric(attainment_table, filters=filters, by=[dimension])
# the biggest problems first: most breached, then the lowest attainment; only what has something decided is a bar
ranked = by_dim[(by_dim["met"] + by_dim["breached"]) > 0].sort_values(
    ["breached", "attainment", dimension], ascending=[False, True, True])
shown = top_n.top_n(ranked, "sla_by_top", names=dimension, noun=f"{dimension_label(dimension).lower()}s")
st.caption(md(shown.caption))
st.plotly_chart(figures.build_status_figure(shown.rows, dimension, "Met and breached"), key="sla_by_dim")

st.subheader("Breached obligations")
ui.breached_drilldown(filters, key="sla_breached")
