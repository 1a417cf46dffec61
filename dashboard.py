"""The dashboard's frame: page config, the store connection, and the start screen.

Pages arrange and plot what `metrics/` computes; nothing here computes a number.
"""

from __future__ import annotations

import duckdb
import streamlit as st

from metrics.freshness import latest_instant
from metrics.store import connect, dashboard_db, ensure_store, table_counts

st.set_page_config(page_title="Support-package analytics", page_icon=":material/support_agent:", layout="wide")


@st.cache_resource(show_spinner="Loading the bundled sample data into DuckDB…")
def get_connection() -> duckdb.DuckDBPyConnection:
    """One read-only connection per process; every query goes through its own cursor."""
    return connect(ensure_store(dashboard_db()), read_only=True)


con = get_connection()
st.title("Support-package analytics")
st.caption("Are the promises of each support package kept? SLA attainment, utilization and the live queue.")

counts = table_counts(con)
latest = latest_instant(con)
cols = st.columns(4)
cols[0].metric("Accounts", f"{counts['accounts']:,}")
cols[1].metric("Cases", f"{counts['cases']:,}")
cols[2].metric("Responses", f"{counts['responses']:,}")
cols[3].metric("Quarantined rows", f"{counts['quarantine']:,}")
st.write(f"Data up to **{latest:%Y-%m-%d %H:%M} UTC**, stored in `{dashboard_db().name}`.")
st.dataframe(
    {"table": list(counts), "rows": list(counts.values())},
    hide_index=True,
    key="start_counts",
)
