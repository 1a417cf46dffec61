"""Active tickets: the open queue as of the chosen moment, each with its running SLA clock."""

from __future__ import annotations

import streamlit as st

from metrics.subjects.active import active_summary, active_tickets
from ui import components as ui
from ui import figures, state
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

tickets = state.metric(active_tickets, filters=filters)
if tickets.empty:
    ui.empty_state("No open cases for these filters at this moment.")
    st.stop()

states = st.pills(
    "Show", ["breached", "at_risk", "on_track", "paused", "untargeted", "suspended"], selection_mode="multi",
    default=["breached", "at_risk", "on_track", "paused"], key="active_states",
    format_func=lambda s: figures.STATE_STYLE[s][1],
)
shown = tickets[tickets["clock_state"].isin(states or [])]
st.plotly_chart(figures.build_active_clock_figure(shown), key="active_clocks")

view = shown.assign(
    age_hours=(shown["age_seconds"] / 3600).round(1),
    business_age_hours=(shown["age_business_seconds"] / 3600).round(1),
    remaining_hours=(shown["remaining_seconds"] / 3600).round(1),
    state=shown["clock_state"].map(lambda s: figures.STATE_STYLE.get(s, ("", s))[1]),
)
columns = ["case_id", "account_name", "package", "severity", "state", "kind", "deadline_at", "remaining_hours",
           "consumed", "waiting_on", "age_hours", "business_age_hours", "escalation_level", "owner"]
st.caption("Select a ticket to see how its clocks ran.")
rows = ui.show_table(
    view[[c for c in columns if c in view.columns]], key="active_table", file_name="active_tickets.csv",
    selectable=True, consumed=st.column_config.ProgressColumn("clock consumed", min_value=0.0, max_value=1.0,
                                                              format="percent"),
)
if rows:
    ui.explain_panel(str(view.iloc[rows[0]]["case_id"]))
