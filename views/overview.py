"""Overview: the headline numbers of the filtered book, with deltas against the previous period."""

from __future__ import annotations

import dataclasses
import datetime as dt

import streamlit as st

from metrics.subjects.active import active_summary
from metrics.subjects.attainment import attainment_table
from metrics.subjects.escalations import escalation_events
from ui import components as ui
from ui import figures, state
from ui.help import PREVIOUS_PERIOD_HELP, definition_help
from ui.navigation import page_title

snap = state.snapshot()
filters = state.current_filters()
previous = filters.previous()  # the registry's one previous-period rule (Q3 -> Q2, March -> February)

page_title(__file__)
st.caption(f"As of {snap.as_of:%Y-%m-%d %H:%M} UTC · period {filters.start} to {filters.end}")

now = state.metric(attainment_table, filters=filters, by=[])
before = state.metric(attainment_table, filters=previous, by=[]) if previous else None
active = state.metric(active_summary, filters=state.current_filters(with_period=False))
today = snap.as_of.date()
monday = today - dt.timedelta(days=today.weekday())
this_week = dataclasses.replace(filters, start=monday, end=today)
last_week = dataclasses.replace(filters, start=monday - dt.timedelta(days=7), end=monday - dt.timedelta(days=1))
events_now = state.metric(escalation_events, filters=filters)
events_before = state.metric(escalation_events, filters=previous) if previous else None
breaches_week = state.metric(escalation_events, filters=this_week)
breaches_last = state.metric(escalation_events, filters=last_week)

rate_now = float(now["attainment"].iloc[0]) if len(now) else None
rate_before = float(before["attainment"].iloc[0]) if before is not None and len(before) else None
cols = st.columns(4)
cols[0].metric(
    "SLA attainment", ui.pct(rate_now), ui.delta_pp(rate_now, rate_before), border=True,
    help=f"{definition_help('attainment')} {PREVIOUS_PERIOD_HELP}",
)
cols[1].metric(
    "Active tickets", f"{active['active']:,}",
    f"{active['at_risk']:,} at risk · {active['breached']:,} breached", delta_color="off", border=True,
    help=definition_help("active_tickets"),
)
policy_week = int((breaches_week["source"] == "policy").sum())
policy_last = int((breaches_last["source"] == "policy").sum())
cols[2].metric(
    "Breaches this week", f"{policy_week:,}", f"{policy_week - policy_last:+,} vs last week",
    delta_color="inverse", border=True, help="Obligations whose deadline passed this ISO week (reporting timezone).",
)
cols[3].metric(
    "Escalations", f"{len(events_now):,}",
    f"{len(events_now) - len(events_before):+,} vs previous period" if events_before is not None else None,
    delta_color="inverse", border=True, help=f"{definition_help('policy_escalations')} {PREVIOUS_PERIOD_HELP}",
)

if now.empty or int(now["obligations"].iloc[0]) == 0:
    ui.empty_state("No obligations started in this period for these filters. Widen the period or clear a filter.")
    st.stop()

left, right = st.columns([3, 2])
with left:
    trend = state.metric(attainment_table, filters=filters, by=["kind"], grain="week")
    st.plotly_chart(figures.build_attainment_trend_figure(trend, "Attainment by ISO week"), key="overview_trend")
with right:
    matrix = state.metric(attainment_table, filters=filters, by=["severity", "package"])
    st.plotly_chart(figures.build_attainment_matrix_figure(matrix), key="overview_matrix")

st.subheader("Breached obligations")
ui.breached_drilldown(filters, key="overview_breached")
