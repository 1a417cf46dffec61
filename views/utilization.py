"""Utilization: entitlements used against the elapsed share of each term; the executives' portfolio view."""

from __future__ import annotations

import dataclasses

import streamlit as st

from metrics.subjects.utilization import contacts_over_allotment, utilization_by_term, utilization_ranking
from ui import components as ui
from ui import figures, state
from ui.help import definition_help
from ui.navigation import page_title

# Utilization is per account and term: severity does not apply (dropping it also keeps the cache warm).
filters = dataclasses.replace(state.current_filters(with_period=False), severities=())
page_title(__file__, help=definition_help("utilization"))

ranking = state.metric(utilization_ranking, filters=filters)
if ranking.empty:
    ui.empty_state("No account has a term in force for these filters.")
    st.stop()

bands = ranking["usage_band"].value_counts()
cols = st.columns(4)
cols[0].metric("Accounts in view", f"{len(ranking):,}", border=True)
cols[1].metric("▲ Over-using", f"{int(bands.get('over', 0)):,}", border=True)
cols[2].metric("▼ Under-using", f"{int(bands.get('under', 0)):,}", border=True)
over = state.metric(contacts_over_allotment, filters=filters)
cols[3].metric("Over contact allotment", f"{len(over):,}", border=True,
               help="Accounts designating more authorized contacts than their package allots.")

left, right = st.columns(2)
with left:
    st.plotly_chart(figures.build_utilization_figure(ranking, "service_days_used", "service_days_entitled",
                                                     "Service days used vs term elapsed"), key="util_days")
with right:
    st.plotly_chart(figures.build_utilization_figure(ranking, "training_sessions_used", "training_sessions_entitled",
                                                     "Training sessions used vs term elapsed"), key="util_training")

st.subheader("Portfolio ranking", help="Over: forecast use at term end exceeds the entitlement by 10 % or more. "
             "Under: forecast below half the entitlement after a quarter of the term.")
ui.show_table(ranking, key="util_ranking", file_name="utilization_ranking.csv",
              elapsed_share=st.column_config.ProgressColumn("term elapsed", min_value=0.0, max_value=1.0,
                                                            format="percent"))

st.subheader("Every term")
terms = state.metric(utilization_by_term, filters=dataclasses.replace(state.current_filters(), severities=()))
ui.show_table(terms, key="util_terms", file_name="utilization_by_term.csv")

if not over.empty:
    st.subheader("Authorized contacts over allotment")
    ui.show_table(over, key="util_contacts", file_name="contacts_over_allotment.csv")
