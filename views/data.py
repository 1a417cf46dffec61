"""Data: what the store holds and how fresh it is, switching datasets, loading one, the audit trail.

Only admins (and the one user of local mode) load data and read the audit trail; executives
see the store's counts read-only and may switch datasets, advisors see its freshness only
(subscribers have no Data page). A load or a switch goes through `state.select_dataset`,
which names the dataset in the address and resets the sidebar to the new data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import tempfile
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from metrics.errors import LoadError
from metrics.safe_text import md
from metrics.storage.datasets import (
    ACCEPTED_FILES,
    DATA_ROOT_ENV,
    DEFAULT_DATASET,
    UPLOAD_NAME,
    StoredDataset,
    check_files_inside,
    data_root,
    dataset_label,
    keep_stores,
    list_datasets,
    prune_stores,
    public_message,
    resolve_dataset,
    store_name,
    stores_folder,
    write_uploads,
)
from metrics.storage.ingest import ingest
from metrics.storage.store import dashboard_db, remove_store, store_summary, stored_config
from metrics.storage.terms import terms_changes
from ui import access, audit, state
from ui import components as ui
from ui.navigation import page_title

STORES = stores_folder(dashboard_db())  # loads made here sit beside the default store
ROOT = data_root()  # the only tree folders load from; no path under it or outside it is ever shown
log = logging.getLogger(__name__)

def latest_card(where: DeltaGenerator, latest: dt.datetime) -> None:
    """The data's latest instant: the day as the value, the time beneath it (a whole timestamp clips at 1440 px)."""
    where.metric("Latest instant", f"{latest:%Y-%m-%d}", f"{latest:%H:%M} UTC", delta_color="off",
                 delta_arrow="off", border=True)


def describe(dataset: StoredDataset) -> str:
    """How the list names a dataset: what was loaded and when, e.g. "bpic2013 · loaded 2026-12-06 02:10 UTC"."""
    what = f"{dataset.label} (default)" if dataset.name == DEFAULT_DATASET else dataset.label
    return f"{what} · loaded {dataset.loaded_at:%Y-%m-%d %H:%M} UTC" if dataset.loaded_at else what


def switch() -> None:
    """Switch the session to the dataset chosen in the list (a callback: it runs before the sidebar is drawn)."""
    if not state.select_dataset(st.session_state.get("data_switch_to") or ""):
        st.session_state["data_switch_error"] = True
        st.session_state["data_switch_to"] = state.current_dataset()  # the list shows the one in view again


def switcher() -> None:
    """The datasets the server holds (the default and the loads kept), to switch between without loading again."""
    st.subheader("Datasets on this server")
    if st.session_state.pop("data_switch_error", False):
        st.error("That dataset is no longer on the server; choose another.", icon=":material/error:")
    held = {d.name: d for d in state.datasets(ROOT)}
    current = state.current_dataset()
    names = list(held)
    left, right, _ = st.columns([3, 1, 2], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Dataset", names, index=names.index(current) if current in held else None, key="data_switch_to",
        format_func=lambda name: describe(held[name]) if name in held else name,  # plain text: no Markdown
        help="The default data and the last loads made on this page. The address names the one shown, "
             "so a reload or a shared link opens the same data.",
    )
    right.button("Switch", key="data_switch", disabled=chosen in (None, current), on_click=switch)


page_title(__file__)
viewer = state.viewer()
if not viewer.can_load:
    st.info(f"Loading data and the audit trail are for admins; ask {md(access.whom_to_ask())} if you need a load.",
            icon=":material/lock:")
    if viewer.role != "executive":  # an advisor sees how fresh the data is, not the whole book's counts
        latest_card(st.container(), state.bounds().latest)
        st.stop()
if "data_loaded_report" in st.session_state:
    st.success("Loaded. The whole app now shows this data.", icon=":material/check_circle:")
    st.code(st.session_state.pop("data_loaded_report"), language=None)  # a code block: shown verbatim
summary = store_summary(state.connection())
bounds = state.bounds()

cols = st.columns(4)
cols[0].metric("Cases", f"{summary.rows('cases'):,}", border=True, height="stretch")  # as tall as the latest card
cols[1].metric("Responses", f"{summary.rows('responses'):,}", border=True, height="stretch")
cols[2].metric("Quarantined rows", f"{summary.quarantined:,}", border=True, height="stretch")
latest_card(cols[3], bounds.latest)
st.caption(f"Store: {md(Path(state.store_path()).name)}")  # its name only: the server's folders stay private
switcher()

st.subheader("Tables")
st.dataframe(summary.table_frame(), hide_index=True, key="data_counts", width="content",
             column_config={"table": st.column_config.TextColumn("Table"),
                            "rows": st.column_config.NumberColumn("Rows", format="localized")})

st.subheader("Quarantined rows")
if summary.quarantine.empty:
    st.success("Every row of the loaded files was stored.", icon=":material/check_circle:")
else:
    st.dataframe(summary.quarantine_by_rule, hide_index=True, key="data_quarantine_rules", width="content")
    ui.show_table(summary.quarantine, key="data_quarantine", file_name="quarantine.csv")

# The loads table names each folder relative to the data root (or "upload"), never a server path.
loads = summary.loads.assign(dataset=[dataset_label(d, ROOT) for d in summary.loads["dataset"]])

st.subheader("Loads")
ui.show_table(loads, key="data_loads", file_name="loads.csv")

st.subheader("Package terms over time")
changes = terms_changes(stored_config(state.connection()))
if changes.empty:
    st.caption("Each package has one definition for all time: config.toml sets no `[[packages.NAME.versions]]` "
               "and no `[[overrides]]`.")
else:
    st.caption("A case runs on its package's keys, then every version from on or before its local opening date, "
               "then its account's overrides likewise (tables merged key by key); a subscription term's "
               "entitlements are those in force on its first day.")
    st.dataframe(changes, hide_index=True, key="data_terms", width="content")  # plain text cells, never Markdown

if not viewer.can_load:
    st.stop()


def trail() -> None:
    """The audit trail, newest first, narrowed by event and by text (read only when asked for: it only grows)."""
    st.subheader("Audit trail")
    if not st.toggle("Show the audit trail: sign-ins, refused visitors, data loads and downloads, newest first",
                     key="audit_show"):
        return
    left, right = st.columns([1, 2])
    events = left.multiselect("Events", audit.EVENTS, key="audit_events", placeholder="All events")
    text = right.text_input("Contains", key="audit_text", placeholder="an address, a role, a page or a file")
    ui.show_table(audit.matching(audit.entries(), tuple(events), text), key="audit", file_name="audit.csv")


st.subheader("Load another dataset")
root_note = (
    f"the folder set by the environment variable `{DATA_ROOT_ENV}`" if DATA_ROOT_ENV in os.environ
    else f"the project's `data` folder unless the environment variable `{DATA_ROOT_ENV}` names another"
)
st.write(
    "A dataset is a folder with one file per table (`cases`, `responses`, `accounts`, `subscriptions`, and "
    "optionally `case_changes`, `contacts`, `standing`, `engagements`) as CSV, Parquet or JSONL, plus an "
    "optional `config.toml`. It is loaded into a new store; if the load fails, the app stays on its current data. "
    f"Folders load only from the data root: {root_note}."
)


def load(folder: Path, label: str) -> None:
    """Load `folder` into a new store; switch the session to it only when the load succeeds.

    Runs as a button callback, so its outcome survives the rerun that follows a click.
    `label` is what the user may see of the folder (``imports/bpic2013``, ``upload``).
    """
    who = state.viewer()
    if not who.can_load:  # the buttons are never drawn for them; a forged click is refused and recorded
        audit.record("load_refused", who.identity, who.role, {"dataset": label})
        st.session_state["data_load_error"] = "only admins load data."
        return
    target = STORES / store_name(Path(label).name, dt.datetime.now(dt.UTC))
    previous = Path(state.store_path())
    bar = st.progress(0.0, text=f"Loading {md(label)}…")

    def show_progress(what: str, done: int, total: int) -> None:
        bar.progress(done / total, text=md(what))

    loaded = False
    try:
        report = ingest(folder, target, progress=show_progress)
    except LoadError as exc:
        st.session_state["data_load_error"] = public_message(str(exc), ROOT)
    except Exception:  # a disk or DuckDB failure: its details (paths included) go to the server log only
        log.exception("loading %s into %s failed", folder, target)
        st.session_state["data_load_error"] = "the dataset could not be read into a new store."
    else:
        loaded = True
        prune_stores(STORES, keep_stores(), protect={target, previous})
        name = target.name.removesuffix(".duckdb")
        state.select_dataset(name)  # the new data's dates and options in the sidebar, its name in the address
        st.session_state["data_switch_to"] = name  # set, not removed: the browser's list shows it too
        summary = dataclasses.replace(report, dataset=label).summary()
        st.session_state["data_loaded_report"] = public_message(summary, ROOT)
    finally:
        bar.empty()
        outcome = "loaded" if loaded else f"failed: {st.session_state.get('data_load_error', '')}"
        audit.record("data_load", who.identity, who.role, {"dataset": label, "result": outcome})
    if not loaded:  # what a failed load left beside its store (a lock file at least) is of no use
        remove_store(target)


def load_uploads() -> None:
    """Load the uploaded files from a temporary folder that is removed afterwards, whatever happens."""
    uploads = st.session_state.get("data_upload") or []
    with tempfile.TemporaryDirectory(prefix="support-upload-") as tmp:
        folder = Path(tmp) / UPLOAD_NAME  # its name is what the loads table shows
        folder.mkdir()
        try:
            write_uploads(folder, ((u.name, u.getvalue()) for u in uploads))
        except LoadError as exc:
            st.session_state["data_load_error"] = public_message(str(exc), ROOT)
            return
        load(folder, UPLOAD_NAME)


def load_folder() -> None:
    """Load the folder typed in, else the one chosen, once it is known to lie under the data root."""
    typed = (st.session_state.get("data_folder") or "").strip()
    try:
        folder = resolve_dataset(typed or st.session_state.get("data_dataset") or "", ROOT)
        check_files_inside(folder, ROOT)
    except LoadError as exc:
        st.session_state["data_load_error"] = public_message(str(exc), ROOT)
        return
    load(folder, dataset_label(str(folder), ROOT))


if "data_load_error" in st.session_state:
    message = md(public_message(st.session_state.pop("data_load_error"), ROOT))
    st.error(f"The load failed and nothing changed: {message}", icon=":material/error:")
source = st.segmented_control("Source", ["Folder in the data root", "Upload files"], default="Folder in the data root",
                              key="data_source")
if source == "Upload files":
    uploads = st.file_uploader(
        "Table files and config.toml", type=["csv", "parquet", "jsonl", "toml"], accept_multiple_files=True,
        key="data_upload", help=f"Accepted: {ACCEPTED_FILES}.",
    )
    st.button("Load uploaded files", key="data_load_upload", type="primary", disabled=not uploads,
              on_click=load_uploads)
else:
    datasets = list_datasets(ROOT)
    chosen = st.selectbox(
        "Dataset folder", datasets, index=None, key="data_dataset",
        placeholder="Choose a dataset" if datasets else "No dataset folders in the data root",
        help="Folders under the data root that hold a `cases` file.",
    )
    text = st.text_input(
        "…or type a folder under the data root", placeholder="sample", key="data_folder",
        help="A path relative to the data root, such as `sample` or `imports/bpic2013`.",
    )
    st.button("Load folder", key="data_load_folder", type="primary", disabled=not (chosen or text.strip()),
              on_click=load_folder)

st.divider()
trail()
