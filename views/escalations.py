"""Escalations: the share of cases escalated, policy and recorded apart, incidents, times and repeats."""

from __future__ import annotations

import streamlit as st

from metrics.safe_text import md
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

previous = filters.previous()  # the registry's one previous-period rule (Q3 -> Q2, March -> February)
# The page's metrics started together (state.start): one's query runs while another's frame is shaped.
summary_job = state.start(escalation_summary, filters=filters)
before_job = state.start(escalation_summary, filters=previous) if previous else None
by_package_job = state.start(escalation_rate, filters=filters, grain="quarter", by=["package"])
by_severity_job = state.start(escalation_trend, filters=filters, grain="quarter", by=["severity"])
repeats_job = state.start(repeat_escalations, filters=filters)
first_job = state.start(time_to_first_escalation, filters=filters)
summary = summary_job.result()
before = before_job.result() if before_job else None


def count_delta(key: str) -> str | None:
    return f"{summary[key] - before[key]:+,} vs previous period" if before else None


share = summary["escalated_share"]
cols = st.columns(4)
cols[0].metric(  # "of cases" in the caption: "10.8 % of cases" clips in a quarter of 1440 px
    "Escalations", ui.pct(share),
    ui.delta_pp(share, before["escalated_share"]) if before else None, delta_color="inverse", border=True,
    help=f"{definition_help('escalated_share')} {PREVIOUS_PERIOD_HELP}",
)
cols[0].caption(f"of cases opened: {summary['cases_escalated']:,} of {summary['cases_opened']:,}")
cols[1].metric(
    "Policy escalations (breaches)", f"{summary['policy']:,}", count_delta("policy"), delta_color="inverse",
    border=True, help=f"{definition_help('policy_escalations')} {PREVIOUS_PERIOD_HELP}",
)
cols[2].metric(
    "Recorded escalations", f"{summary['recorded']:,}", count_delta("recorded"), delta_color="inverse",
    border=True, help=f"{definition_help('recorded_escalations')} {PREVIOUS_PERIOD_HELP}",
)
cols[3].metric(
    "Incidents", f"{summary['incidents']:,}", count_delta("incidents"), delta_color="inverse", border=True,
    help=f"{definition_help('escalation_incidents')} {PREVIOUS_PERIOD_HELP}",
)
window = md(f"{summary['incident_hours']:g}")
st.caption(
    f"{summary['cases_escalated']:,} of {summary['cases_opened']:,} cases opened in this period were escalated "
    f"(policy or recorded, up to the as-of; severity: the case's at the as-of). "
    f"{summary['incidents']:,} incidents ({summary['merged']:,} recorded escalations followed a breach "
    f"within {window} h) from {summary['policy']:,} policy and {summary['recorded']:,} recorded escalations "
    "in this period."
)

times = st.columns(3)
hours = summary["median_hours_to_first_escalation"]
business = summary["median_business_hours_to_first_escalation"]
times[0].metric("Median time to first escalation", "–" if hours is None else f"{hours:.1f} h", border=True,
               help=definition_help("time_to_first_escalation"))
times[0].caption("calendar hours, as in the table below")
times[1].metric("Median business time to first escalation", "–" if business is None else f"{business:.1f} h",
               border=True, help=definition_help("time_to_first_escalation"))
times[1].caption("business hours of the account's calendar")
times[2].metric("Escalated more than once", f"{summary['repeat_cases']:,}", border=True,
               help=definition_help("repeat_escalations"))

if summary["policy"] == 0 and summary["recorded"] == 0 and not summary["cases_escalated"]:
    ui.empty_state("No escalations in this period for these filters.")
    st.stop()

grain = st.segmented_control("Trend by", ["week", "month", "quarter"], default="week", key="esc_grain",
                             bind="query-params")
trend = state.metric(escalation_trend, filters=filters, grain=grain or "week")
st.plotly_chart(figures.build_escalation_trend_figure(trend, f"Escalations by {grain or 'week'}"), key="esc_trend")

left, right = st.columns(2)
with left:
    by_package = by_package_job.result()
    st.markdown("**Share of cases escalated by package** (cases by quarter opened)")
    ui.show_table(by_package, key="esc_rate_package", file_name="escalated_share_by_package.csv")
with right:
    by_severity = by_severity_job.result()
    st.markdown("**By severity** (escalations by quarter of their instant)")
    ui.show_table(by_severity, key="esc_by_severity", file_name="escalations_by_severity.csv")

st.subheader("Cases escalated more than once")
repeats = repeats_job.result()
st.caption("Select a row to see how its clocks ran.")
rows = ui.show_table(repeats, key="esc_repeats", file_name="repeat_escalations.csv", selectable=True,
                     account_id=None)
ui.explain_selection(repeats, rows, "esc_repeats")

st.subheader("Time from opening to first escalation")
first = first_job.result()
ui.show_table(  # hours like the tiles above; the CSV keeps the seconds too
    first, key="esc_first", file_name="time_to_first_escalation.csv",
    account_id=None, time_to_first_escalation_seconds=None, business_seconds_to_first_escalation=None,
)
