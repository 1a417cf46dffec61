"""Governance: a period review for a meeting on a shared screen, and its self-contained HTML pack."""

from __future__ import annotations

import dataclasses

import streamlit as st

from metrics.reports.governance_pack import governance_pack
from metrics.subjects.attainment import attainment_summary, attainment_table
from metrics.subjects.escalations import escalation_summary, escalation_trend
from metrics.subjects.governance import (
    account_health,
    development_tickets,
    non_authorized_requests,
    paused_share,
    reclassifications,
    suspended_accounts,
)
from metrics.subjects.utilization import contacts_over_allotment
from ui import components as ui
from ui import figures, state
from ui.help import dimension_label
from ui.navigation import page_title

snap = state.snapshot()
filters = state.current_filters()
meeting = st.toggle("Meeting view (larger type)", key="gov_meeting", bind="query-params")
if meeting:
    st.html("<style>html{font-size:20px} [data-testid='stMetricValue']{font-size:3.2rem}</style>")

page_title(__file__)
st.caption(f"Period {filters.start} to {filters.end} · as of {snap.as_of:%Y-%m-%d %H:%M} UTC")

summary = state.metric(attainment_summary, filters=filters)  # against filters.previous(), the one rule
escalation = state.metric(escalation_summary, filters=filters)
reclass = state.metric(reclassifications, filters=filters)
non_auth = state.metric(non_authorized_requests, filters=filters)
# contacts are an account matter: severity does not apply (dropping it keeps the cache warm)
over = state.metric(contacts_over_allotment, filters=dataclasses.replace(filters, severities=()))
suspended = state.metric(suspended_accounts, filters=filters)
dev = state.metric(development_tickets, filters=filters)

attainment = summary.get("attainment")
headline = [
    ("SLA attainment", ui.pct(attainment)),
    ("Escalations", f"{escalation['total']:,}"),
    ("Re-classified cases", f"{reclass['cases_reclassified']:,}"),
    ("Development tickets", f"{len(dev):,}"),
]
cols = st.columns(4)
cols[0].metric(headline[0][0], headline[0][1], ui.delta_pp(attainment, summary.get("previous_attainment")), border=True)
for col, (label, value) in zip(cols[1:], headline[1:], strict=True):
    col.metric(label, value, border=True)

height = 520 if meeting else 380
trend = state.metric(attainment_table, filters=filters, by=["kind"], grain="month")
esc_trend = state.metric(escalation_trend, filters=filters, grain="month")
fig_trend = figures.build_attainment_trend_figure(trend, "Attainment by month").update_layout(height=height)
fig_esc = figures.build_escalation_trend_figure(esc_trend, "Escalations by month").update_layout(height=height)
left, right = st.columns(2)
left.plotly_chart(fig_trend, key="gov_trend")
right.plotly_chart(fig_esc, key="gov_escalations")

st.header("Subscriber obligations")
compliance = st.columns(3)
non_auth_cases = int(non_auth["non_authorized_cases"].sum()) if "non_authorized_cases" in non_auth else 0
compliance[0].metric("Cases from non-authorized contacts", f"{non_auth_cases:,}", border=True)
compliance[1].metric("Accounts over contact allotment", f"{len(over):,}", border=True)
compliance[2].metric(
    "Suspended accounts", f"{suspended['account_id'].nunique() if not suspended.empty else 0:,}", border=True
)
with st.expander("Details", expanded=not meeting):
    ui.show_table(non_auth, key="gov_non_auth", file_name="non_authorized_requests.csv")
    ui.show_table(over, key="gov_over", file_name="contacts_over_allotment.csv")
    ui.show_table(suspended, key="gov_suspended", file_name="suspended_accounts.csv")

st.header("Severity re-classifications")
changes = st.columns(3)
changes[0].metric("Raised (more severe)", f"{reclass['changes_up']:,}", border=True)
changes[1].metric("Lowered", f"{reclass['changes_down']:,}", border=True)
share = reclass.get("severity_differs_share")
changes[2].metric(
    "Final severity differs from submitted",
    ui.pct(share),
    border=True,
    help="Share of the period's cases whose current severity is not the one submitted.",
)

st.header("Prioritized development tickets")
ui.show_table(dev, key="gov_dev", file_name="development_tickets.csv")

st.header("Time parked waiting on the customer")
by = st.segmented_control(
    "By", ["owner", "account_name"], default="owner", key="gov_paused_by",
    format_func=lambda b: dimension_label(b).lower(),
)
paused = state.metric(paused_share, filters=filters, by=[by or "owner"])
ui.show_table(
    paused,
    key="gov_paused",
    file_name="paused_share.csv",
    paused_share=st.column_config.ProgressColumn("paused share", min_value=0.0, max_value=1.0, format="percent"),
)

st.header("Biggest accounts' health")
health = state.metric(account_health, filters=filters, top=10)
ui.show_table(health, key="gov_health", file_name="account_health.csv")


def build_pack() -> bytes:
    """The review as one HTML file; built on click (inlining plotly.js takes a moment)."""
    return governance_pack(
        "Governance review",
        f"Period {filters.start} to {filters.end}, as of {snap.as_of:%Y-%m-%d %H:%M} UTC",
        headline,
        [fig_trend, fig_esc],
        [
            ("Attainment by month", trend),
            ("Escalations by month", esc_trend),
            ("Cases from non-authorized contacts", non_auth),
            ("Accounts over contact allotment", over),
            ("Suspended accounts", suspended),
            ("Prioritized development tickets", dev),
            ("Biggest accounts' health", health),
            ("Time waiting on the customer", paused),
        ],
    ).encode()


st.download_button(
    "Download the review (self-contained HTML)",
    build_pack,
    "governance_review.html",
    "text/html",
    key="gov_pack",
    icon=":material/download:",
    type="primary",
)
