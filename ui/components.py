"""Pieces the pages repeat: formatted numbers, CSV export, empty states, the case explainer.

Data values shown as Markdown go through `metrics.safe_text` (`md`, `md_code`); CSV exports are
for spreadsheets, so formula-like cells are neutralised (`spreadsheet_csv`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from metrics.engine.explain import explain_case, fmt_duration, fmt_time
from metrics.safe_text import md, md_code, spreadsheet_csv
from metrics.subjects.attainment import breached_obligations
from metrics.subjects.filters import Filters
from ui import figures, state
from ui.help import PREVIOUS_PERIOD_HELP, definition_help


def pct(value: float | None, digits: int = 1) -> str:
    """0.9412 -> '94.1 %'; missing -> '–' (nothing was met or breached)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value * 100:.{digits}f} %"


def delta_pp(now: float | None, before: float | None) -> str | None:
    """Change in percentage points, for st.metric's delta."""
    if now is None or before is None or any(isinstance(v, float) and math.isnan(v) for v in (now, before)):
        return None
    return f"{(now - before) * 100:+.1f} pp"


KIND_LABELS = {"initial": "Initial response", "follow_up": "Follow-up"}


def kind_text(kind: str) -> str:
    """'follow_up' -> 'follow-up' (the words a tile or title uses)."""
    return kind.replace("_", "-")


def lowest_text(lowest: Mapping[str, Any] | None) -> str | None:
    """The worst severity x kind cell in words: 'lowest: severity 1 follow-up 57.7 % (157/272)'."""
    if not lowest:
        return None
    decided = int(lowest["met"]) + int(lowest["breached"])
    return (
        f"lowest: severity {int(lowest['severity'])} {kind_text(str(lowest['kind']))} "
        f"{pct(lowest['attainment'])} ({int(lowest['met']):,}/{decided:,})"
    )


def provisional_text(pending: int | None) -> str:
    """'provisional: 135 still running', or that nothing is still running (the figure is settled)."""
    n = int(pending or 0)
    return f"provisional: {n:,} still running" if n else "settled: none still running"


def attainment_tile_texts(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What each per-kind attainment tile says, from `attainment_summary` (testable without Streamlit).

    One entry per kind (initial, follow-up): label, value, delta (pp vs the previous period, or
    None), and captions: the kind's "provisional: N still running" and, on the tile of its
    kind, the lowest severity x kind cell of the whole view.
    """
    tiles = []
    lowest = summary.get("lowest")
    previous = summary.get("previous_by_kind") or {}
    for kind, label in KIND_LABELS.items():
        now = (summary.get("by_kind") or {}).get(kind) or {}
        was = previous.get(kind) or {}
        captions = [provisional_text(now.get("pending"))]
        if lowest and lowest.get("kind") == kind:
            captions.insert(0, lowest_text(lowest) or "")
        tiles.append({
            "kind": kind,
            "label": f"{label} attainment",
            "value": pct(now.get("attainment")),
            "delta": delta_pp(now.get("attainment"), was.get("attainment")),
            "decided": int(now.get("met") or 0) + int(now.get("breached") or 0),
            "captions": captions,
        })
    return tiles


def untargeted_packages(packages: Sequence[str], config: Any) -> list[str]:
    """The packages among `packages` (all configured ones when empty) that promise no response time."""
    names = list(packages) or list(config.packages)
    return [p for p in names if p in config.packages and not config.packages[p].targeted]


def no_targets_text(summary: Mapping[str, Any], packages: Sequence[str], config: Any) -> str | None:
    """Why a view has no attainment: every obligation in it is untargeted (e.g. Package = Bronze).

    None when something in the view has a target. Named: "Bronze promises no response times,
    so there is no attainment to measure (212 obligations in view, none with a target)."
    """
    if summary.get("obligations", 0) == 0 or int(summary.get("untargeted") or 0) < int(summary["obligations"]):
        return None
    names = untargeted_packages(packages, config)
    who = " and ".join(names) if 0 < len(names) <= 3 else "The packages in view"
    verb = "promises" if len(names) == 1 else "promise"
    return (f"{who} {verb} no response times, so there is no attainment to measure "
            f"({int(summary['untargeted']):,} obligations in view, none with a target).")


def week_to_date_label(as_of_local: dt.datetime) -> str:
    """'Breaches this week (to Thu 12:00)'; an as-of at local midnight closes the day before ('to end of Sun')."""
    if as_of_local.time() == dt.time():
        return f"Breaches this week (to end of {(as_of_local - dt.timedelta(days=1)):%a})"
    return f"Breaches this week (to {as_of_local:%a %H:%M})"


def escalation_tile_texts(summary: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Escalations tile: the share of cases escalated, its pp delta, and policy and recorded apart.

    Reads `escalation_summary`'s keys with .get: "–" until a summary carries `escalated_share`.
    Policy breaches and recorded escalations are named side by side, never summed.
    """
    share = summary.get("escalated_share")
    before = previous.get("escalated_share") if previous else None
    caption = f"policy {int(summary.get('policy') or 0):,} · recorded {int(summary.get('recorded') or 0):,}"
    if summary.get("cases_opened") is not None and share is not None:
        caption = f"{int(summary.get('cases_escalated') or 0):,} of {int(summary['cases_opened']):,} cases · " + caption
    return {
        "value": "–" if share is None else f"{pct(share)} of cases",
        "delta": delta_pp(share, before),
        "caption": caption,
    }


def pooled_attainment_tile(column: Any, summary: Mapping[str, Any]) -> None:
    """"SLA attainment" over both kinds, never alone: it names the lowest cell and the provisional count."""
    column.metric(
        "SLA attainment", pct(summary.get("attainment")),
        delta_pp(summary.get("attainment"), summary.get("previous_attainment")), border=True,
        help=f"{definition_help('attainment')} {definition_help('lowest_attainment_cell')} {PREVIOUS_PERIOD_HELP}",
    )
    for caption in (lowest_text(summary.get("lowest")), provisional_text(summary.get("pending"))):
        if caption:
            column.caption(md(caption))


def attainment_tiles(columns: Sequence[Any], summary: Mapping[str, Any]) -> None:
    """Attainment per kind (initial, follow-up) in the first two of `columns`, never pooled.

    Each tile shows its kind's attainment with the change in percentage points against the
    previous period, how many of its obligations are still running (the figure is
    provisional until they are decided), and the tile of the worst cell's kind names the lowest
    severity x kind cell ("lowest: severity 1 follow-up 57.7 % (157/272)").
    """
    help_text = (
        f"{definition_help('attainment_by_kind')} {definition_help('lowest_attainment_cell')} "
        f"{definition_help('provisional_obligations')} {PREVIOUS_PERIOD_HELP}"
    )
    for column, tile in zip(columns, attainment_tile_texts(summary), strict=False):
        column.metric(tile["label"], tile["value"], tile["delta"], border=True, help=help_text)
        for caption in tile["captions"]:
            column.caption(md(caption))


def attainment_heatmaps(matrix: pd.DataFrame, summary: Mapping[str, Any], key: str) -> None:
    """The severity x package heatmap once per kind, side by side, each titled with its provisional count.

    `matrix` is `attainment_table(by=["kind", "severity", "package"])`, `summary` the same view's
    `attainment_summary` (its `by_kind` pending counts).
    """
    for column, kind in zip(st.columns(2), KIND_LABELS, strict=True):
        pending = (summary.get("by_kind") or {}).get(kind, {}).get("pending")
        title = f"{figures.KIND_TITLES[kind]} by severity and package"
        fig = figures.build_attainment_matrix_figure(matrix, kind, title)
        # the provisional count under the title: in it, the title clips at half width
        fig.update_layout(title={"subtitle": {"text": provisional_text(pending)}}, margin={"t": 80})
        column.plotly_chart(fig, key=f"{key}_{kind}")


def download_csv(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download CSV") -> None:
    """A CSV export written only when clicked (a callable keeps large tables off every rerun).

    The file is opened in spreadsheets, so a cell such as `=1+2` is written `'=1+2` (OWASP).
    """
    st.download_button(
        label, lambda: spreadsheet_csv(frame), file_name=file_name, mime="text/csv", key=key,
        icon=":material/download:",
    )


def empty_state(message: str) -> None:
    st.info(message, icon=":material/filter_alt_off:")


def show_table(frame: pd.DataFrame, key: str, file_name: str, selectable: bool = False, **config: object) -> list[int]:
    """A table with its CSV export; returns the selected row positions when `selectable`."""
    if frame.empty:
        empty_state("No rows for these filters.")
        return []
    columns: Any = dict(config) if config else None  # column configs keyed by column name
    if not selectable:
        st.dataframe(frame, hide_index=True, key=key, width="stretch", column_config=columns)
        download_csv(frame, file_name, key=f"{key}_csv")
        return []
    event = st.dataframe(
        frame, hide_index=True, key=key, width="stretch", on_select="rerun", selection_mode="single-row",
        column_config=columns,
    )
    download_csv(frame, file_name, key=f"{key}_csv")
    return list(event.selection.rows)


def explain_panel(case_id: str) -> None:
    """The SLA engine's explanation of one case: every clock, its pieces and why."""
    snap = state.snapshot()
    items = explain_case(snap.con, case_id, snap.as_of, snap.config)
    st.markdown(f"#### Case {md_code(case_id)}: how each clock ran")
    if not items:
        st.write("No obligations as of this moment.")
        return
    for item in items:
        row = item.row
        name = "Initial response" if row["kind"] == "initial" else f"Follow-up #{row['seq']}"
        marker = {"met": "✔", "breached": "✖", "pending": "⏳", "cancelled": "–"}.get(row["status"], "○")
        with st.expander(f"{marker} {name}: {md(row['status'])}", expanded=row["status"] == "breached"):
            st.markdown(md(item.verdict))  # a sentence of plain text; it may name a package
            cols = st.columns(4)
            cols[0].metric("Started", fmt_time(row["start_at"]))
            cols[1].metric("Deadline", fmt_time(row["deadline_at"]))
            cols[2].metric("Elapsed", fmt_duration(row["elapsed_seconds"]))
            cols[3].metric("Target", fmt_duration(row["target_seconds"]) if row["target_seconds"] else "none")
            pieces = pd.DataFrame(
                [
                    {
                        "severity": p.severity, "calendar": p.calendar, "from": fmt_time(p.start),
                        "to": fmt_time(p.end) if p.end else "end", "deadline": fmt_time(p.deadline),
                        "breaches at": fmt_time(p.breached_at),
                    }
                    for p in item.pieces
                ]
            )
            st.dataframe(pieces, hide_index=True, width="stretch")
            if item.pauses:
                st.caption("Paused (waiting on the customer): " + "; ".join(
                    f"{fmt_time(a)} → {fmt_time(b)}" for a, b in item.pauses))
            if item.intervals:
                st.caption("Working time counted (UTC): " + "; ".join(
                    f"{fmt_time(a)} → {fmt_time(b)}" for a, b in item.intervals)
                    + (f"; and {item.more_intervals} more" if item.more_intervals else ""))


def breached_drilldown(filters: Filters, key: str) -> None:
    """The breached obligations of the view; selecting one shows how its clock ran."""
    st.caption("Select a row to see how its clock ran.")
    breached = state.metric(breached_obligations, filters=filters)
    rows = show_table(breached, key=key, file_name="breached_obligations.csv", selectable=True)
    if rows:
        explain_panel(str(breached.iloc[rows[0]]["case_id"]))
