"""The promise scorecard on a page: one account's whole card, or the filtered book in short.

For many accounts the card is shown per promise (accounts kept, at risk, missed), and choosing
a promise lists its accounts with the evidence; for one account every row. The numbers come
from `metrics.subjects.scorecard`; the weekly-updates row reads the workspace beside the store,
so the card is cached per store version, as-of, filters and the workspace file's last write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from metrics.subjects.filters import Filters
from metrics.subjects.scorecard import promise_accounts, promise_scorecard, scorecard_by_feature, with_severities
from ui import components as ui
from ui import state

# Shown on screen; the CSV keeps every column (ids, feature keys, the term).
CARD_HIDDEN = ("account_id", "feature", "term_start", "term_end")
BOOK_HIDDEN = ("feature", "at_risk_accounts", "missed_accounts")  # the lists: in the CSV and below


def _filters(filters_json: str) -> Filters:
    raw = json.loads(filters_json)
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    for field in ("start", "end"):
        values[field] = dt.date.fromisoformat(values[field]) if values[field] else None
    return Filters(**values)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _card(store: str, as_of_iso: str, filters_json: str, workspace_stamp: str) -> pd.DataFrame:
    """The card of every severity: what a severity filter changes is judged again by `_severity_card`."""
    snap = state.get_snapshot(store, as_of_iso)
    return promise_scorecard(snap, _filters(filters_json), state.written_workspace(store) if workspace_stamp else None)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _severity_card(store: str, as_of_iso: str, filters_json: str, workspace_stamp: str) -> pd.DataFrame:
    filters = _filters(filters_json)
    card = _card(store, as_of_iso, json.dumps(dataclasses.asdict(dataclasses.replace(filters, severities=())),
                                              default=str), workspace_stamp)
    return with_severities(state.get_snapshot(store, as_of_iso), card, filters)


def promises(filters: Filters) -> pd.DataFrame:
    """`promise_scorecard` of the viewer's scope; never modify the result (the cache shares it)."""
    scoped = state.scope().restrict(filters)
    workspace = state.written_workspace(state.store_key())
    filters_json = json.dumps(dataclasses.asdict(scoped), default=str)
    card = _card if not scoped.severities else _severity_card
    return card(state.store_key(), state.as_of_instant().isoformat(), filters_json, state.workspace_stamp(workspace))


Table = Callable[..., Any]


def show_scorecard(card: pd.DataFrame, key: str, table: Table | None = None) -> None:
    """One account: its every promise. Several: per promise, then the accounts behind the one chosen.

    `table(frame, key=, file_name=)` draws a table (the page's own, e.g. Governance's meeting view).
    """
    if card.empty:
        ui.empty_state("No account in view holds a term in this period: no promise to judge.")
        return
    if (card["account_id"] == card["account_id"].iloc[0]).all():  # one account
        first = card.iloc[0]
        st.caption(f"{first['package']} · term {first['term_start']} to {first['term_end']}")
        _draw(table, card, key=f"{key}_card", file_name="promise_scorecard.csv", hidden=CARD_HIDDEN)
        return
    book = scorecard_by_feature(card)
    st.caption("Accounts per promise of their package: kept, at risk, missed. Choose a row to list its accounts.")
    chosen = ui.show_table(book, key=f"{key}_book", file_name="promise_scorecard_by_feature.csv", selectable=True,
                           feature=None, at_risk_accounts=None, missed_accounts=None) if table is None else []
    if table is not None:
        _draw(table, book, key=f"{key}_book", file_name="promise_scorecard_by_feature.csv", hidden=BOOK_HIDDEN)
        chosen = [0]
    if chosen:
        feature = str(book.iloc[chosen[0]]["feature"])
        st.markdown(f"**Accounts: {book.iloc[chosen[0]]['promise']}**")
        _draw(table, promise_accounts(card, feature), key=f"{key}_accounts", file_name=f"promise_{feature}.csv",
              hidden=("feature", "promise", "term_start", "term_end"))


def _draw(table: Table | None, frame: pd.DataFrame, key: str, file_name: str, hidden: tuple[str, ...]) -> None:
    if table is None:
        shown, configured = ui.table_view(frame, **dict.fromkeys(hidden))
        st.dataframe(shown, hide_index=True, key=key, width="stretch", column_config=configured, placeholder="")
        ui.download_csv(frame, file_name, key=f"{key}_csv")
    else:  # a table that draws every column it is given: leave the hidden ones out of it
        table(frame.drop(columns=[c for c in hidden if c in frame]), key=key, file_name=file_name)
