"""Data: load a dataset (upload or folder), see what was stored and quarantined, and how fresh it is."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from metrics.errors import LoadError
from metrics.ingest import ingest
from metrics.store import PROJECT_ROOT, dashboard_db, table_counts
from ui import components as ui
from ui import state

state.require_frame()

STORES = dashboard_db().parent / "stores"  # loads made here sit beside the default store

st.title("Data")
if "data_loaded_report" in st.session_state:
    st.success("Loaded. The whole app now shows this data.", icon=":material/check_circle:")
    st.code(st.session_state.pop("data_loaded_report"), language=None)
con = state.connection()
bounds = state.bounds()

counts = table_counts(con)
cols = st.columns(4)
cols[0].metric("Cases", f"{counts['cases']:,}", border=True)
cols[1].metric("Responses", f"{counts['responses']:,}", border=True)
cols[2].metric("Quarantined rows", f"{counts['quarantine']:,}", border=True)
cols[3].metric("Latest instant", f"{dt.datetime.fromisoformat(bounds['latest']):%Y-%m-%d %H:%M} UTC", border=True)
st.caption(f"Store: `{state.store_path()}`")

st.subheader("Tables")
st.dataframe(pd.DataFrame({"table": list(counts), "rows": list(counts.values())}), hide_index=True,
             key="data_counts", width="content")

cur = con.cursor()
try:
    quarantine = cur.sql(
        "select file, line, rule, reason, cast(record as varchar) as record from quarantine order by file, line"
    ).to_df()
    loads = cur.sql(
        "select loaded_at, dataset, files, rows_read, rows_stored, rows_quarantined from loads order by loaded_at desc"
    ).to_df()
finally:
    cur.close()

st.subheader("Quarantined rows")
if quarantine.empty:
    st.success("Every row of the loaded files was stored.", icon=":material/check_circle:")
else:
    by_rule = quarantine.groupby(["file", "rule"], as_index=False).size().rename(columns={"size": "rows"})
    st.dataframe(by_rule, hide_index=True, key="data_quarantine_rules", width="content")
    ui.show_table(quarantine, key="data_quarantine", file_name="quarantine.csv")

st.subheader("Loads")
ui.show_table(loads, key="data_loads", file_name="loads.csv")

st.subheader("Load another dataset")
st.write(
    "A dataset is a folder with one file per table (`cases`, `responses`, `accounts`, `subscriptions`, and "
    "optionally `case_changes`, `contacts`, `standing`, `engagements`) as CSV, Parquet or JSONL, plus an "
    "optional `config.toml`. It is loaded into a new store; if the load fails, the app stays on its current data."
)
def load(folder: Path) -> None:
    """Load `folder` into a new store; switch the session to it only when the load succeeds.

    Runs as a button callback, so its outcome survives the rerun that follows a click.
    """
    target = STORES / f"{folder.name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.duckdb"
    bar = st.progress(0.0, text=f"Loading {folder}…")

    def show_progress(what: str, done: int, total: int) -> None:
        bar.progress(done / total, text=what)

    try:
        report = ingest(folder, target, progress=show_progress)
    except LoadError as exc:
        target.unlink(missing_ok=True)
        st.session_state["data_load_error"] = str(exc)
    else:
        st.session_state["store_path"] = str(target)
        st.session_state["data_loaded_report"] = report.summary()
        for key in ("as_of", "period", "account"):  # the new data has its own dates and accounts
            st.session_state.pop(key, None)
    finally:
        bar.empty()


def load_uploads() -> None:
    folder = Path(tempfile.mkdtemp(prefix="upload-"))
    for upload in st.session_state.get("data_upload") or []:
        (folder / Path(upload.name).name).write_bytes(upload.getvalue())
    load(folder)


def load_folder() -> None:
    load(Path(st.session_state.get("data_folder", "")).expanduser())


if "data_load_error" in st.session_state:
    st.error(f"The load failed and nothing changed: {st.session_state.pop('data_load_error')}", icon=":material/error:")
source = st.segmented_control("Source", ["Folder on this machine", "Upload files"], default="Folder on this machine",
                              key="data_source")
if source == "Upload files":
    uploads = st.file_uploader(
        "Table files and config.toml", type=["csv", "parquet", "jsonl", "toml"], accept_multiple_files=True,
        key="data_upload",
    )
    st.button("Load uploaded files", key="data_load_upload", type="primary", disabled=not uploads,
              on_click=load_uploads)
else:
    text = st.text_input("Folder", placeholder=str(PROJECT_ROOT / "data" / "sample"), key="data_folder")
    st.button("Load folder", key="data_load_folder", type="primary", disabled=not text, on_click=load_folder)
