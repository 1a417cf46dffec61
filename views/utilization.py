"""Utilization: entitlements used against the elapsed share of each term; the executives' portfolio view."""

from __future__ import annotations

import dataclasses

import streamlit as st

from metrics.safe_text import md
from metrics.subjects.utilization import (
    EXCEEDED,
    TRENDING_OVER,
    contacts_over_allotment,
    usage_band_counts,
    utilization_by_term,
    utilization_ranking,
)
from ui import components as ui
from ui import figures, state, top_n
from ui.help import definition_help
from ui.navigation import page_title

# Utilization is per account and term: severity does not apply (dropping it also keeps the cache warm).
filters = dataclasses.replace(state.current_filters(with_period=False), severities=())
page_title(__file__, help=definition_help("utilization"))

ranking = state.metric(utilization_ranking, filters=filters)
if ranking.empty:
    ui.empty_state("No account has a term in force for these filters.")
    st.stop()

bands = state.metric(usage_band_counts, filters=filters)
band_help = definition_help("usage_band")
# two rows of three: five cards in one row cut their labels at 1440 px ("Used more than e…")
cols = [*st.columns(3), *st.columns(3)]
cols[0].metric("Accounts in view", f"{bands['accounts']:,}", border=True)
cols[1].metric("▲ Used more than entitled", f"{bands[EXCEEDED]:,}", border=True,
               help=f"Already used more than the term entitles (a fact). {band_help}")
cols[2].metric("↗ Trending over", f"{bands[TRENDING_OVER]:,}", border=True,
               help=f"Forecast at term end >= 110 % of the entitlement (a forecast). {band_help}")
cols[3].metric("▼ Under-using", f"{bands['under']:,}", border=True, help=band_help)
over = state.metric(contacts_over_allotment, filters=filters)
cols[4].metric("Over contact allotment", f"{len(over):,}", border=True,
               help=definition_help("authorized_contacts_designated"))

CHARTS = (  # key, share column, used, entitled, title
    ("util_days", "service_days_share", "service_days_used", "service_days_entitled",
     "Service days used vs term elapsed"),
    ("util_training", "training_sessions_share", "training_sessions_used", "training_sessions_entitled",
     "Training sessions used vs term elapsed"),
)
# Each chart ranks the accounts its package entitles, most over-used first (the same share: less term elapsed
# first, it runs faster); one search and size serve both charts, the ranking table below holds every account.
ranked = [ranking[ranking[share].notna()].sort_values([share, "elapsed_share", "account_name"],
                                                      ascending=[False, True, True])
          for _, share, *_ in CHARTS]
choice = top_n.choose("util_top", max(len(r) for r in ranked))
for column, rows, (key, share, used, entitled, title) in zip(st.columns(2), ranked, CHARTS, strict=True):
    shown = choice.apply(rows)
    if shown.total:
        column.caption(md(shown.caption))
    column.plotly_chart(figures.build_utilization_figure(shown.rows, share, used, entitled, title), key=key)

st.subheader("Portfolio ranking", help=band_help)
ranking_columns = [
    "account_id", "account_name", "advisor", "package", "usage_band", "service_days_band", "training_sessions_band",
    "usage_basis", "used_share", "forecast_share", "elapsed_share", "service_days_used", "service_days_entitled",
    "training_sessions_used", "training_sessions_entitled", "term_start", "term_end",
]
ui.show_table(ranking[[c for c in ranking_columns if c in ranking]], key="util_ranking",
              file_name="utilization_ranking.csv",
              usage_band=st.column_config.TextColumn("usage band", help=band_help),
              used_share=st.column_config.NumberColumn("used of entitled (band's kind)", format="percent"),
              forecast_share=st.column_config.NumberColumn("forecast at term end (band's kind)", format="percent"),
              elapsed_share=st.column_config.ProgressColumn("term elapsed", min_value=0.0, max_value=1.0,
                                                            format="percent"))

st.subheader("Every term")
terms = state.metric(utilization_by_term, filters=dataclasses.replace(state.current_filters(), severities=()))
ui.show_table(terms, key="util_terms", file_name="utilization_by_term.csv")

if not over.empty:
    st.subheader("Authorized contacts over allotment",
                 help=definition_help("authorized_contacts_designated"))
    ui.show_table(over, key="util_contacts", file_name="contacts_over_allotment.csv",
                  authorized_contacts_peak=st.column_config.NumberColumn("peak held in the term"),
                  authorized_contacts_peak_date=st.column_config.DateColumn("peak first held on"),
                  authorized_contacts=st.column_config.NumberColumn("authorized on the last counted day"))
