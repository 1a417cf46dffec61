"""Overview: the headline numbers of the filtered book, with deltas against the previous period.

Attainment is shown per kind (initial, follow-up), never pooled, with the worst severity x kind
cell named and the obligations still running counted; every number comes from a registered metric.
"""

from __future__ import annotations

import streamlit as st

from metrics.safe_text import md
from metrics.subjects.active import active_summary
from metrics.subjects.attainment import attainment_summary, attainment_table, breaches_week_to_date
from metrics.subjects.escalations import escalation_summary
from ui import components as ui
from ui import figures, scorecard, state
from ui.delivery import delivery_tiles
from ui.help import PREVIOUS_PERIOD_HELP, definition_help
from ui.navigation import page_title

snap = state.snapshot()
filters = state.current_filters()
previous = filters.previous()  # the registry's one previous-period rule (Q3 -> Q2, March -> February)

page_title(__file__)
st.caption(f"As of {snap.as_of:%Y-%m-%d %H:%M} UTC · period {filters.start} to {filters.end}")

# The page's metrics started together (state.start): one's query runs while another's frame is shaped.
summary_job = state.start(attainment_summary, filters=filters, previous=previous)
active_job = state.start(active_summary, filters=state.current_filters(with_period=False))
week_job = state.start(breaches_week_to_date, filters=filters)  # the week of the as-of; the period does not apply
escalations_now_job = state.start(escalation_summary, filters=filters)
escalations_before_job = state.start(escalation_summary, filters=previous) if previous else None
trend_job = state.start(attainment_table, filters=filters, by=["kind"], grain="week")
matrix_job = state.start(attainment_table, filters=filters, by=["kind", "severity", "package"])
summary, active, week = summary_job.result(), active_job.result(), week_job.result()
escalations_now = escalations_now_job.result()
escalations_before = escalations_before_job.result() if escalations_before_job else None

no_targets = ui.no_targets_text(summary, filters.packages, snap.config)  # e.g. Package = Bronze
if no_targets:
    st.info(md(no_targets), icon=":material/info:")  # in place of tiles reading "–" with no word why
else:
    cols = st.columns(3)
    ui.pooled_attainment_tile(cols[0], summary)  # both kinds, beside each kind and naming the lowest cell
    ui.attainment_tiles(cols[1:], summary)
cols = st.columns(3)
cols[0].metric(
    "Active tickets", f"{active['active']:,}",
    f"{active['at_risk']:,} at risk · {active['breached']:,} breached", delta_color="off", delta_arrow="off",
    border=True,
    help=definition_help("active_tickets"),
)
cols[1].metric(
    ui.week_to_date_label(week["as_of_local"]), f"{week['breaches']:,}",
    f"{week['delta']:+,} vs same days last week", delta_color="inverse", border=True,
    help=definition_help("breaches_week_to_date"),
)
tile = ui.escalation_tile_texts(escalations_now, escalations_before)
cols[2].metric(
    "Escalations", tile["value"], tile["delta"], delta_color="inverse", border=True,
    help=f"{definition_help('escalated_share')} {PREVIOUS_PERIOD_HELP}",
)
cols[2].caption(tile["caption"])

if state.viewer().role in ("executive", "admin"):  # the executive view: promises kept beyond response times
    delivery_tiles(list(st.columns(3))[:2], state.delivery(filters))

st.subheader("Promises kept", help=definition_help("promise_scorecard"))
scorecard.show_scorecard(scorecard.promises(filters), key="overview_promises")

if summary["obligations"] == 0:
    ui.empty_state("No obligations started in this period for these filters. Widen the period or clear a filter.")
    st.stop()
if no_targets:
    st.stop()  # no trend, heatmap or breach to show: nothing in view has a target

trend = trend_job.result()
st.plotly_chart(figures.build_attainment_trend_figure(trend, "Attainment by ISO week"), key="overview_trend")
matrix = matrix_job.result()
ui.attainment_heatmaps(matrix, summary, key="overview_matrix")

st.subheader("Breached obligations")
ui.breached_drilldown(filters, key="overview_breached")
