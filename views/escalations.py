"""Escalations: policy (from breaches) and recorded, by period, package and severity; rates and repeats."""

from __future__ import annotations

import streamlit as st

from metrics.subjects.escalations import (
    escalation_rate,
    escalation_summary,
    escalation_trend,
    repeat_escalations,
    time_to_first_escalation,
)
from ui import components as ui
from ui import figures, state
from ui.help import PREVIOUS_PERIOD_HELP, definition_help
from ui.navigation import page_title

filters = state.current_filters()
page_title(__file__)

summary = state.metric(escalation_summary, filters=filters)
previous = filters.previous()  # the registry's one previous-period rule (Q3 -> Q2, March -> February)
before = state.metric(escalation_summary, filters=previous) if previous else None
cols = st.columns(4)
cols[0].metric(
    "Escalations", f"{summary['total']:,}",
    f"{summary['total'] - before['total']:+,} vs previous period" if before else None, delta_color="inverse",
    border=True, help=f"{definition_help('policy_escalations')} {PREVIOUS_PERIOD_HELP}",
)
rate = summary.get("escalations_per_100_cases")
cols[1].metric("Per 100 cases", "–" if rate is None else f"{rate:.1f}", border=True,
               help=definition_help("escalation_rate"))
hours = summary.get("median_hours_to_first_escalation")
cols[2].metric("Median hours to first", "–" if hours is None else f"{hours:.1f}", border=True)
cols[3].metric("Escalated more than once", f"{summary['repeat_cases']:,}", border=True)

if summary["total"] == 0:
    ui.empty_state("No escalations in this period for these filters.")
    st.stop()

grain = st.segmented_control("Trend by", ["week", "month", "quarter"], default="week", key="esc_grain",
                             bind="query-params")
trend = state.metric(escalation_trend, filters=filters, grain=grain or "week")
st.plotly_chart(figures.build_escalation_trend_figure(trend, f"Escalations by {grain or 'week'}"), key="esc_trend")

left, right = st.columns(2)
with left:
    by_package = state.metric(escalation_rate, filters=filters, grain="quarter", by=["package"])
    st.markdown("**Rate per 100 cases by package**")
    ui.show_table(by_package, key="esc_rate_package", file_name="escalation_rate_by_package.csv")
with right:
    by_severity = state.metric(escalation_trend, filters=filters, grain="quarter", by=["severity"])
    st.markdown("**By severity**")
    ui.show_table(by_severity, key="esc_by_severity", file_name="escalations_by_severity.csv")

st.subheader("Cases escalated more than once")
repeats = state.metric(repeat_escalations, filters=filters)
rows = ui.show_table(repeats, key="esc_repeats", file_name="repeat_escalations.csv", selectable=True)
if rows:
    ui.explain_panel(str(repeats.iloc[rows[0]]["case_id"]))

st.subheader("Time from opening to first escalation")
first = state.metric(time_to_first_escalation, filters=filters)
ui.show_table(first, key="esc_first", file_name="time_to_first_escalation.csv")
