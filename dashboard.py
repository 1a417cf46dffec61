"""The dashboard's frame: page config, the global filters (kept in the URL), the navigation.

Pages under views/ (listed in ui/navigation.py) arrange and plot what `metrics/` computes; nothing here computes a
number. Run with `streamlit run dashboard.py`.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ui import access, state
from ui.help import CLOCK_HELP, SEVERITY_HELP
from ui.navigation import navigation

st.set_page_config(
    page_title="Support-package analytics",
    page_icon=":material/support_agent:",
    layout="wide",
    initial_sidebar_state="expanded",
)

viewer = access.gate()  # sign-in, deny by default; local mode without an [auth] section
state.begin_run()  # the dataset: the address's ?dataset=, else the one the Data page switched to, else the default
bounds = state.bounds()  # only the accounts and advisors inside the viewer's scope
if notice := state.dataset_notice():
    st.warning(notice, icon=":material/info:")
if state.out_of_scope_in_address():  # read before the widgets drop it from the address
    st.warning("The address named an account or advisor outside your access; it was left out.",
               icon=":material/visibility_off:")
state.reset_filters_after_switch(bounds)  # before the widgets, so they show the new data's range
tz = bounds.timezone
latest_day = bounds.local_date(bounds.latest)
first_day = bounds.local_date(bounds.first)

with st.sidebar:
    st.markdown("### Filters")
    as_of: dt.date = st.date_input(
        "As of",
        value=latest_day,
        min_value=first_day,
        max_value=latest_day,
        key="as_of",
        bind="query-params",
        help=f"Every clock is cut here (end of that day, {tz}); today shows the data's latest instant. {CLOCK_HELP}",
    )
    state.align_period(first_day, as_of)  # a default Period follows As-of; a chosen one never ends after it
    st.date_input(
        "Period",
        value=state.default_period(first_day, as_of),
        min_value=first_day,
        max_value=as_of,
        key="period",
        bind="query-params",
        help=f"Obligations count in the period their clock started in; days are cut in {tz}. "
             "It ends at As of at the latest.",
    )
    if note := state.period_note():
        st.caption(note)
    st.multiselect("Package", bounds.packages, key="package", bind="query-params", placeholder="All packages")
    st.multiselect(  # plain "1", "2", "3" options keep the address readable: ?severity=1
        "Severity", ["1", "2", "3"], key="severity", bind="query-params", placeholder="All severities",
        help=SEVERITY_HELP,
    )
    st.multiselect("Region", bounds.regions, key="region", bind="query-params", placeholder="All regions")
    st.multiselect("Advisor", bounds.advisors, key="advisor", bind="query-params", placeholder="All advisors")
    st.multiselect(
        "Account", list(bounds.accounts), key="account", bind="query-params", placeholder="All accounts",
        format_func=lambda a: bounds.accounts.get(a, a),
    )
    st.caption(f"Data up to {bounds.latest:%Y-%m-%d %H:%M} UTC. "
               "The address bar holds these filters: copy it to share this view.")
    access.sidebar_line(viewer)


@st.fragment(run_every=state.REFRESH_CHECK_SECONDS)
def watch_store() -> None:
    """Switch to a newly published version of the data within a minute, without a click."""
    if state.store_changed():
        st.rerun(scope="app")


watch_store()

page = navigation(viewer.may_open)
try:
    page.run()
finally:
    state.record_downloads(page.url_path or "overview")
    # after the page is drawn, not competing with it: the Weekly update then opens on snapshots already taken
    state.take_weekly_snapshots()
    state.settle_memory()
