"""The top-N control of per-account charts: a chart draws the first N rows of its ranking, never 5,000 bars.

A page passes a frame already in its ranking (most pressing first: Utilization's most
over-used, SLA attainment's most breached, the queue's most urgent); `choose` draws a search
box and a "Show" control (25 / 50 / 100 / all), `apply` narrows by name (case-insensitive
substring) before it takes the first N and says what is drawn ("25 of 5,244 accounts
shown"). The tables below the charts keep every row. Both widgets are bound to the URL, so
a shared view shows the same bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

# Shown as they are: a bound control writes its option's label to the URL (?util_top_n=50), so no format_func.
SIZES = ("25", "50", "100", "all")
DEFAULT_SIZE = 25


@dataclass(frozen=True)
class Shown:
    """The rows a chart draws and the caption that says how many of how many."""

    rows: pd.DataFrame
    caption: str
    matching: int  # rows whose name matched the search (all of them without a search)
    total: int  # rows before the search


@dataclass(frozen=True)
class Choice:
    """What the viewer asked to see: a name to search for and how many rows (None = all)."""

    search: str = ""
    limit: int | None = DEFAULT_SIZE

    def apply(self, frame: pd.DataFrame, names: str | Sequence[str] = "account_name", noun: str = "accounts") -> Shown:
        """The first `limit` rows of `frame` (in its order) whose `names` (any of them) contain the search.

        "25 of 5,244 accounts shown"; with a search "3 of 3 accounts matching “acme” shown
        (5,244 in all)". The caption is plain text: escape it for where it goes.
        """
        needle = self.search.strip().casefold()
        columns = [names] if isinstance(names, str) else list(names)
        hits = pd.Series(False, index=frame.index)
        for column in columns:
            hits |= frame[column].astype("string").str.casefold().str.contains(needle, regex=False).fillna(False)
        matched = frame[hits.astype(bool)] if needle else frame
        rows = matched if self.limit is None else matched.head(self.limit)
        if needle:
            caption = (f"{len(rows):,} of {len(matched):,} {noun} matching “{self.search.strip()}” shown "
                       f"({len(frame):,} in all)")
        else:
            caption = f"{len(rows):,} of {len(frame):,} {noun} shown"
        return Shown(rows, caption, len(matched), len(frame))


def choose(key: str, total: int, noun: str = "accounts", search_label: str | None = None) -> Choice:
    """Draw the search and the "Show" control (keys `<key>_search`, `<key>_n`, bound to the URL).

    With no more rows than the smallest size there is nothing to choose: no widget, every row.
    """
    if total <= DEFAULT_SIZE:
        return Choice(limit=None)
    search_col, size_col = st.columns([3, 2], vertical_alignment="bottom")
    search = search_col.text_input(
        search_label or f"Search {noun}", key=f"{key}_search", type="search", placeholder="part of a name",
        bind="query-params", help="Narrows the chart by name (any part, any case) before the top rows are taken.",
    )
    size = size_col.segmented_control(
        "Show", SIZES, default=str(DEFAULT_SIZE), required=True, key=f"{key}_n", bind="query-params",
        help="The chart ranks the rows, most pressing first; the table below holds all.",
    )
    return Choice(search or "", None if size == "all" else int(size))


def top_n(
    frame: pd.DataFrame, key: str, names: str | Sequence[str] = "account_name", noun: str = "accounts",
    search_label: str | None = None,
) -> Shown:
    """`choose` and `apply` for one chart: the rows to plot and the caption."""
    return choose(key, len(frame), noun, search_label).apply(frame, names, noun)
