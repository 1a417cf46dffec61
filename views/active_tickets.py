"""Active tickets: the open queue as of the chosen moment, each with its running SLA clock."""

from __future__ import annotations

import streamlit as st

from metrics.safe_text import md
from metrics.subjects.active import (
    CLOCK_STATES,
    FORECAST_HOURS,
    active_summary,
    active_tickets,
    breach_forecast,
    breach_forecast_totals,
)
from ui import components as ui
from ui import figures, state, top_n
from ui.help import CLOCK_HELP, definition_help
from ui.navigation import page_title

snap = state.snapshot()
filters = state.current_filters(with_period=False)  # a queue is a moment, not a period
page_title(__file__, help=CLOCK_HELP)
st.caption(f"Open as of {snap.as_of:%Y-%m-%d %H:%M} UTC; at risk from "
           f"{snap.config.at_risk_fraction:.0%} of the clock consumed.")

summary = state.metric(active_summary, filters=filters)
cols = st.columns(5)
cols[0].metric("Active", f"{summary['active']:,}", border=True, help=definition_help("active_tickets"))
cols[1].metric("● On track", f"{summary['on_track']:,}", border=True)
cols[2].metric("▲ At risk", f"{summary['at_risk']:,}", border=True, help=definition_help("at_risk"))
cols[3].metric("✖ Breached", f"{summary['breached']:,}", border=True)
cols[4].metric("‖ Waiting on customer", f"{summary['waiting_on_customer']:,}", border=True)

STATE_LABELS = {s: figures.STATE_STYLE[s][1] if s in figures.STATE_STYLE else "◇ no clock" for s in CLOCK_STATES}

st.subheader("Breach forecast", help=definition_help("breach_forecast"))
forecast_totals = state.metric(breach_forecast_totals, filters=filters)
st.caption(f"Of {forecast_totals['running']:,} running clocks with a target (not yet breached), due within "
           "the next clock hours on their own calendar (business hours count only while working).")
forecast_cols = st.columns(len(FORECAST_HOURS))
for column, hours in zip(forecast_cols, FORECAST_HOURS, strict=True):
    column.metric(f"Due within {hours} clock h", f"{forecast_totals[f'due_within_{hours}h']:,}", border=True,
                  help=definition_help("breach_forecast"))
forecast = state.metric(breach_forecast, filters=filters)
if not forecast.empty:
    ui.show_table(forecast, key="active_forecast", file_name="breach_forecast.csv")

tickets = state.metric(active_tickets, filters=filters)
if tickets.empty:
    ui.empty_state("No open cases for these filters at this moment.")
    st.stop()

states = st.pills(  # most urgent first; no_clock (reopened, nobody answered since) needs attention too
    "Show", list(CLOCK_STATES), selection_mode="multi",
    default=["breached", "at_risk", "no_clock", "on_track", "paused"], key="active_states",
    format_func=lambda s: STATE_LABELS[s],
)
shown = tickets[tickets["clock_state"].isin(states or [])]
# the chart: the most urgent running clocks with a target (the metric's order); the table below holds every ticket
clocks = top_n.top_n(shown[shown["consumed"].notna()], "active_top", names=["case_id", "account_name"],
                     noun="running clocks", search_label="Search case or account")
st.caption(md(f"{clocks.caption}, most urgent first; the table below lists every ticket."))
st.plotly_chart(figures.build_active_clock_figure(clocks.rows), key="active_clocks")

view = shown.assign(
    age_hours=(shown["age_seconds"] / 3600).round(1),
    business_age_hours=(shown["age_business_seconds"] / 3600).round(1),
    remaining_hours=(shown["remaining_seconds"] / 3600).round(1),
    state=shown["clock_state"].map(lambda s: STATE_LABELS.get(s, s)),
)
# the queue's question first: which clock, how much of it is gone, how long is left; then whose it is
columns = ["case_id", "state", "consumed", "remaining_hours", "deadline_at", "severity", "kind", "account_name",
           "package", "waiting_on", "age_hours", "business_age_hours", "escalation_level", "owner"]
st.caption("Select a ticket to see how its clocks ran.")
rows = ui.show_table(
    view[[c for c in columns if c in view.columns]], key="active_table", file_name="active_tickets.csv",
    selectable=True, consumed=st.column_config.ProgressColumn("clock consumed", min_value=0.0, max_value=1.0,
                                                              format="percent"),
)
ui.explain_selection(view, rows, "active_table")  # in a dialog, where the user looks
