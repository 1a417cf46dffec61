"""Governance: a period review for a meeting on a shared screen, and its self-contained HTML pack."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.reports.columns import human_frame
from metrics.reports.governance_pack import governance_pack
from metrics.safe_text import md
from metrics.subjects.attainment import attainment_summary, attainment_table
from metrics.subjects.escalations import escalation_summary, escalation_trend
from metrics.subjects.governance import (
    account_health,
    development_tickets,
    downgraded_after_breach,
    non_authorized_requests,
    non_authorized_summary,
    paused_share,
    reclassifications,
    suspended_accounts,
)
from metrics.subjects.scorecard import promises_not_kept, scorecard_by_feature
from metrics.subjects.utilization import contacts_over_allotment
from ui import components as ui
from ui import figures, scorecard, state
from ui.delivery import delivery_tiles
from ui.help import definition_help, dimension_label
from ui.navigation import page_title

# The meeting view, for a shared screen: page type at 20 px (headings, cards, captions and st.table
# are sized in rem), charts at MEETING_FONT_PX. st.dataframe draws on a canvas that page CSS does
# not reach and whose type only the app-wide theme sizes, so the meeting view shows its tables as
# st.table: HTML text at the page's size, the first MEETING_ROWS rows scrolling under a sticky header.
MEETING_FONT_PX = 18
MEETING_TITLE_PX = 26
MEETING_CHART_PX = 520
MEETING_ROWS = 200
MEETING_TABLE_PX = 620


def meeting_figure(fig: go.Figure) -> go.Figure:
    """A copy of a page figure for the back of a meeting room: every text at least MEETING_FONT_PX, taller."""
    big = go.Figure(fig)
    big.update_layout(
        font={"size": MEETING_FONT_PX}, legend={"font": {"size": MEETING_FONT_PX}},
        hoverlabel={"font": {"size": MEETING_FONT_PX}}, height=MEETING_CHART_PX, margin={"t": 120},
        title={"font": {"size": MEETING_TITLE_PX}, "subtitle": {"font": {"size": MEETING_FONT_PX}}},
    )
    big.update_xaxes(tickfont={"size": MEETING_FONT_PX}, title_font={"size": MEETING_FONT_PX})
    big.update_yaxes(tickfont={"size": MEETING_FONT_PX}, title_font={"size": MEETING_FONT_PX})
    big.update_traces(textfont={"size": MEETING_FONT_PX}, selector=lambda trace: "textfont" in trace)  # bar labels
    big.update_annotations(font={"size": MEETING_FONT_PX})  # an empty chart's message
    return big


def meeting_table(frame: pd.DataFrame, key: str, file_name: str) -> None:
    """A table in words and units as HTML text the meeting view's type reaches, with its CSV export.

    st.table renders its cells and headers as Markdown, so each is escaped (`md`).
    """
    if frame.empty:
        ui.empty_state("No rows for these filters.")
        return
    shown = human_frame(frame.head(MEETING_ROWS)).map(md)
    shown.columns = [md(c) for c in shown.columns]
    st.table(shown, hide_index=True, height=MEETING_TABLE_PX if len(shown) > 10 else "content")
    if len(frame) > MEETING_ROWS:
        st.caption(f"The first {MEETING_ROWS:,} of {len(frame):,} rows; the CSV holds them all.")
    ui.download_csv(frame, file_name, key=f"{key}_csv")


def show_table(frame: pd.DataFrame, key: str, file_name: str, **config: Any) -> None:
    """The page's sortable table, or in the meeting view its large-type HTML table."""
    if meeting:
        meeting_table(frame, key, file_name)
    else:
        ui.show_table(frame, key=key, file_name=file_name, **config)


snap = state.snapshot()
state.build_every_per_case_table(snap)  # the page reads nearly every one: built on the side while its metrics start
filters = state.current_filters()
meeting = st.toggle("Meeting view (larger type)", key="gov_meeting", bind="query-params")
if meeting:
    st.html(  # a table row on one line: wrapped cells (a timestamp over four lines) are unreadable at a distance
        "<style>html{font-size:20px} [data-testid='stMetricValue']{font-size:3.2rem}"
        " [data-testid='stTable'] :is(th,td) [data-testid='stMarkdownContainer'] p{white-space:nowrap}</style>"
    )

page_title(__file__)
st.caption(f"Period {filters.start} to {filters.end} · as of {snap.as_of:%Y-%m-%d %H:%M} UTC")

# The page's metrics started together (state.start): one's query runs while another's frame is shaped.
# Account health first: its queries run one after another (the biggest accounts, then theirs),
# the longest chain of the page, which started last waited for eight others on four workers.
health_job = state.start(account_health, filters=filters, top=10)
# then the two that build the largest tables at a new as-of (the follow-ups' lives, every term's use):
# started last, they kept the page waiting after the others were done.
# The share by the choice made below in the last run (its widget keeps it in the session).
paused_by = st.session_state.get("gov_paused_by") or "owner"
paused_job = state.start(paused_share, filters=filters, by=[paused_by])
# contacts are an account matter: severity does not apply (dropping it keeps the cache warm)
over_job = state.start(contacts_over_allotment, filters=dataclasses.replace(filters, severities=()))
summary_job = state.start(attainment_summary, filters=filters)  # against filters.previous(), the one rule
escalation_job = state.start(escalation_summary, filters=filters)
reclass_job = state.start(reclassifications, filters=filters)
downgraded_job = state.start(downgraded_after_breach, filters=filters)
non_auth_job = state.start(non_authorized_requests, filters=filters)
non_auth_totals_job = state.start(non_authorized_summary, filters=filters)
suspended_job = state.start(suspended_accounts, filters=filters)
dev_job = state.start(development_tickets, filters=filters)
trend_job = state.start(attainment_table, filters=filters, by=["kind"], grain="month")
esc_trend_job = state.start(escalation_trend, filters=filters, grain="month")
summary, escalation, reclass = summary_job.result(), escalation_job.result(), reclass_job.result()
downgraded, non_auth, non_auth_totals = downgraded_job.result(), non_auth_job.result(), non_auth_totals_job.result()
over, suspended, dev = over_job.result(), suspended_job.result(), dev_job.result()

# The headline: attainment per kind (never pooled), the share of cases escalated with policy and
# recorded escalations side by side, re-classifications, development tickets. The HTML pack shows
# the same tiles with the same captions.
escalated_share = escalation.get("escalated_share")
if "escalated_share" in escalation:
    escalation_value = ui.pct(escalated_share)
    escalation_caption = f"policy {escalation.get('policy', 0):,} · recorded {escalation.get('recorded', 0):,}"
    escalation_help = (
        "Share of the period's cases escalated at least once (distinct escalated cases / cases opened); "
        "policy breaches and recorded escalations are counted side by side, never summed."
    )
else:  # engineer B's escalation_summary keys have not landed: the old event count, said so
    escalation_value = f"{escalation['total']:,}"
    escalation_caption = f"policy {escalation['policy']:,} · recorded {escalation['recorded']:,}"
    escalation_help = "Escalation events in the period: policy breaches plus recorded escalations."
headline: list[tuple[str, str] | tuple[str, str, list[str]]] = [
    (tile["label"], tile["value"], list(tile["captions"])) for tile in ui.attainment_tile_texts(summary)
]
headline += [
    ("Escalations", escalation_value, [escalation_caption]),
    ("Re-classified cases", f"{reclass['cases_reclassified']:,}"),
    ("Downgraded after a breach", f"{downgraded['downgraded_obligations']:,}",
     [f"{downgraded['downgraded_cases']:,} cases"]),
    ("Development tickets", f"{len(dev):,}"),
]
cols = st.columns(3)  # two rows of three: six tiles in one row clip their labels at 1440 px
ui.attainment_tiles(cols[:2], summary)
cols[2].metric("Escalations", escalation_value, border=True, help=escalation_help)
cols[2].caption(escalation_caption)
cols = st.columns(3)
cols[0].metric("Re-classified cases", f"{reclass['cases_reclassified']:,}", border=True,
               help=definition_help("severity_reclassifications"))
cols[1].metric("Downgraded after a breach", f"{downgraded['downgraded_obligations']:,}", border=True,
               help=definition_help("downgraded_after_breach"))
cols[1].caption(f"{downgraded['downgraded_cases']:,} cases")
cols[2].metric("Development tickets", f"{len(dev):,}", border=True, help=definition_help("development_tickets"))

trend = trend_job.result()
esc_trend = esc_trend_job.result()
fig_trend = figures.build_attainment_trend_figure(trend, "Attainment by month").update_layout(height=380)
fig_esc = figures.build_escalation_trend_figure(esc_trend, "Escalations by month").update_layout(height=380)
if meeting:  # one chart to a row: at half width, large type leaves the plot no room
    st.plotly_chart(meeting_figure(fig_trend), key="gov_trend")
    st.plotly_chart(meeting_figure(fig_esc), key="gov_escalations")
else:
    left, right = st.columns(2)
    left.plotly_chart(fig_trend, key="gov_trend")
    right.plotly_chart(fig_esc, key="gov_escalations")

st.header("Subscriber obligations")
compliance = st.columns(2)  # two rows of two, cases then accounts: four in a row cut the labels at 1440 px
compliance[0].metric(
    "Cases from non-authorized contacts", ui.pct(non_auth_totals["non_authorized_share"]), border=True,
    help=definition_help("non_authorized_share"),
)
compliance[0].caption(
    f"{non_auth_totals['non_authorized_cases']:,} of {non_auth_totals['cases_opened']:,} cases opened"
)
compliance[1].metric("Cases without a contact", f"{non_auth_totals['cases_without_contact']:,}", border=True,
                     help=definition_help("cases_without_contact"))
compliance = st.columns(2)
compliance[0].metric("Accounts over contact allotment", f"{len(over):,}", border=True,
                     help=definition_help("authorized_contacts_designated"))
compliance[1].metric(
    "Suspended accounts", f"{suspended['account_id'].nunique() if not suspended.empty else 0:,}", border=True
)
with st.expander("Details", expanded=not meeting):  # each table titled, as in the pack
    st.markdown("**Cases from non-authorized contacts, by account**")
    show_table(non_auth, key="gov_non_auth", file_name="non_authorized_requests.csv")
    st.markdown("**Accounts over their contact allotment**")
    show_table(over, key="gov_over", file_name="contacts_over_allotment.csv")
    st.markdown("**Suspended accounts**")
    show_table(suspended, key="gov_suspended", file_name="suspended_accounts.csv")

st.header("Weekly updates", help="Account-weeks owed an update (packages with weekly_updates), sent and sent "
          "on time (by the end of the Monday after the week, reporting timezone), from the updates marked sent on "
          "the Weekly update page.")
delivery_rows = state.delivery(filters)
delivery = delivery_tiles(list(st.columns(2)), delivery_rows)
if state.viewer().role != "subscriber":  # a subscriber sees their own account's numbers, never an advisor list
    with st.expander("By advisor", expanded=not meeting):
        show_table(delivery, key="gov_delivery", file_name="weekly_update_delivery.csv")
else:
    delivery = delivery.iloc[0:0]
whole_delivery = delivery_rows["sent_at"].notna().sum(), delivery_rows["on_time"].sum(), len(delivery_rows)
headline += [
    ("Weekly updates sent", f"{whole_delivery[0]:,} of {whole_delivery[2]:,}",
     [f"{whole_delivery[1]:,} on time (by the end of the Monday after)"]),
]

st.header("Promises kept", help=definition_help("promise_scorecard"))
promise_card = scorecard.promises(filters)
scorecard.show_scorecard(promise_card, key="gov_promises", table=show_table if meeting else None)

st.header("Severity re-classifications")
changes = st.columns(3)
changes[0].metric("Raised (more severe)", f"{reclass['changes_up']:,}", border=True)
changes[1].metric("Lowered", f"{reclass['changes_down']:,}", border=True)
share = reclass.get("severity_differs_share")
if not downgraded["downgraded"].empty:
    with st.expander("Breaches downgraded afterwards", expanded=not meeting):
        show_table(downgraded["downgraded"], key="gov_downgraded", file_name="downgraded_after_breach.csv")
changes[2].metric(
    "Severity differs from submitted",  # "Final severity differs ..." is cut in the meeting view at 1440 px
    ui.pct(share),
    border=True,
    help="Share of the period's cases whose final (current) severity is not the one submitted.",
)

st.header("Prioritized development tickets")
show_table(dev, key="gov_dev", file_name="development_tickets.csv")

st.header(
    "Follow-up time waiting on the customer: wall-clock share and SLA clock time paused",
    help=f"{definition_help('paused_share')}\n\n{definition_help('clock_paused_share')}",
)
by = st.segmented_control(
    "By", ["owner", "account_name"], default="owner", key="gov_paused_by",
    format_func=lambda b: dimension_label(b).lower(),
)
by = by or "owner"
paused = paused_job.result() if by == paused_by else state.metric(paused_share, filters=filters, by=[by])
show_table(
    paused,
    key="gov_paused",
    file_name="paused_share.csv",
    paused_share=st.column_config.ProgressColumn(
        "wall-clock share waiting on the customer", min_value=0.0, max_value=1.0, format="percent",
        help="Wall-clock time the follow-ups spent waiting on the customer / their whole wall-clock life "
             "(not SLA time stopped).",
    ),
    clock_paused_share=st.column_config.ProgressColumn(
        "clock-time share paused (waiting on the customer)", min_value=0.0, max_value=1.0, format="percent",
        help="Working time of each obligation's calendar during which its clock was paused because the case "
             "waited on the customer / (that + the clock time that ran).",
    ),
)

st.header("Biggest accounts' health")
health = health_job.result()
show_table(health, key="gov_health", file_name="account_health.csv")


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
            ("Breaches downgraded afterwards", downgraded["downgraded"]),
            ("Accounts over contact allotment", over),
            ("Suspended accounts", suspended),
            ("Prioritized development tickets", dev),
            ("Biggest accounts' health", health),
            ("Weekly updates by advisor", delivery),
            ("Promises kept, per promise", scorecard_by_feature(promise_card).drop(columns="feature")),
            ("Promises at risk or missed", promises_not_kept(promise_card).drop(columns=["feature", "account_id"])),
            ("Follow-up time waiting on the customer (wall-clock share) and clock time paused", paused),
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
