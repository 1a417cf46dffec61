"""Pieces the pages repeat: formatted numbers, tables, CSV export, empty states, the case explainer.

Tables speak people's units (`show_table` applies the column vocabulary of
`metrics.reports.columns` by column name: labels in words, hours, %, UTC timestamps, blanks
empty) while their CSV keeps machine values. Data values shown as Markdown go through
`metrics.safe_text` (`md`, `md_code`); CSV exports are for spreadsheets, so formula-like cells
are neutralised (`spreadsheet_csv`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from metrics.engine.explain import explain_case
from metrics.reports import columns
from metrics.safe_text import md, md_code, spreadsheet_csv
from metrics.storage.config import ALWAYS
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


def iso_week(day: dt.date) -> str:
    """2026-11-16 -> '2026-W47'."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def week_choices(as_of_local: dt.datetime, count: int = 26) -> list[str]:
    """ISO weeks newest first: the as-of's own (still running) week, then `count - 1` before it."""
    return [iso_week(as_of_local.date() - dt.timedelta(weeks=back)) for back in range(count)]


def last_complete_week(as_of_local: dt.datetime) -> str:
    """The week an update is written for: the last one over at the as-of (local Monday 00:00 ends a week)."""
    return iso_week(as_of_local.date() - dt.timedelta(weeks=1))


def _days(first: dt.date, last: dt.date) -> str:
    """'Mon 16 – Sun 22 Nov 2026', 'Mon 30 Nov – Sun 6 Dec 2026', 'Mon 28 Dec 2026 – Sun 3 Jan 2027'."""
    start = f"{first:%a} {first.day}"
    if first.month != last.month or first.year != last.year:
        start += f" {first:%b}" + (f" {first.year}" if first.year != last.year else "")
    return f"{start} – {last:%a} {last.day} {last:%b} {last.year}"


def week_note(week: str, as_of_local: dt.datetime) -> str:
    """Which week the weekly update shows and why, next to its selector.

    'W47 (Mon 16 – Sun 22 Nov 2026): the last complete week before the as-of, Fri 27 Nov 23:47 MST
    (Sat 28 Nov 06:47 UTC); an update is written once its week is over. W48 is still running.' The running week can be
    chosen knowingly: its numbers are counted to the week's end, after the data stops.
    """
    monday = dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    days = f"{week.split('-')[1]} ({_days(monday, monday + dt.timedelta(days=6))})"
    utc = as_of_local.astimezone(dt.UTC)  # the sidebar says the data's end in UTC: both, so they match
    moment = f"{as_of_local:%a} {as_of_local.day} {as_of_local:%b %H:%M %Z} ({utc:%a} {utc.day} {utc:%b %H:%M} UTC)"
    running = iso_week(as_of_local.date())
    if week == running:
        return (f"{days} is still running at the as-of, {moment}: its numbers are counted to the week's end, "
                "so a clock still open counts as unanswered until then. A draft; the update is written once "
                "the week is over.")
    if week == last_complete_week(as_of_local):
        return (f"{days}: the last complete week before the as-of, {moment}; an update is written once its "
                f"week is over. {running.split('-')[1]} is still running.")
    return f"{days}: a past week, counted as of its end."


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


CSV_HELP = (
    "Machine values, for a spreadsheet to compute with: column names as in docs/metrics.md, "
    "timestamps in ISO 8601 UTC, durations in seconds, shares as fractions (0.9571 = 95.71 %)."
)


def download_csv(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download CSV") -> None:
    """A CSV export written only when clicked (a callable keeps large tables off every rerun).

    The file is opened in spreadsheets, so a cell such as `=1+2` is written `'=1+2` (OWASP).
    """
    st.download_button(
        label, lambda: spreadsheet_csv(frame), file_name=file_name, mime="text/csv", key=key,
        icon=":material/download:", help=CSV_HELP,
    )


def empty_state(message: str) -> None:
    st.info(message, icon=":material/filter_alt_off:")


CHAR_PX, PAD_PX, MAX_TEXT_PX = 6.8, 18, 400  # Streamlit's 14 px grid font: a character is about 6.8 px wide


def text_width(values: pd.Series, label: str) -> int:
    """Pixels for a text column's longest value or label.

    The grid sizes a column by its first rows only, so an advisor named from row 3 on read "Dana Wh".
    """
    longest = max([len(label), *(len(str(value)) for value in pd.unique(values.dropna()))])  # grid text: strings
    return int(min(MAX_TEXT_PX, longest * CHAR_PX + PAD_PX))


def grid_config(spec: columns.GridColumn, values: pd.Series | None = None) -> Any:
    """The Streamlit column for one column of the vocabulary (timestamps shown in UTC, the zone named)."""
    if spec.kind == "number":
        return st.column_config.NumberColumn(spec.label, format=spec.format)
    if spec.kind == "datetime":
        return st.column_config.DatetimeColumn(spec.label, format=spec.format, timezone=columns.ZONE)
    if spec.kind == "date":
        return st.column_config.DateColumn(spec.label, format=spec.format)
    if spec.kind == "flag":
        return st.column_config.CheckboxColumn(spec.label)
    return st.column_config.TextColumn(spec.label, width=None if values is None else text_width(values, spec.label))


def table_view(frame: pd.DataFrame, **config: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """What `show_table` draws: values in people's units, columns labelled and ordered.

    The vocabulary (`metrics.reports.columns`) applies by column name; a caller's own
    configuration of a column wins, its values untouched (it gets the vocabulary's label when it
    names none), and a column configured None is left out, as in `st.dataframe`. Durations are
    decimal hours ("3.2 h") so a column sorts by value; see `grid_frame`.
    """
    hidden = [name for name, own in config.items() if own is None and name in frame]
    shown, specs = columns.grid_frame(frame.drop(columns=hidden) if hidden else frame, keep=set(config))
    configured: dict[str, Any] = {name: grid_config(spec, shown[name]) for name, spec in specs.items()}
    for name, own in config.items():
        if isinstance(own, dict) and not own.get("label"):
            own = {**own, "label": columns.column(name).label}
        if own is not None:
            configured[name] = own
    return shown, configured


def show_table(frame: pd.DataFrame, key: str, file_name: str, selectable: bool = False, **config: Any) -> list[int]:
    """A table in people's units with its CSV export in machine values; the selected row positions when `selectable`.

    Row positions refer to `frame` (sorting in the browser does not move them). Missing values
    show as empty cells. A column configured None (`account_id=None`) is left out of the screen,
    not out of the CSV.
    """
    if frame.empty:
        empty_state("No rows for these filters.")
        return []
    shown, configured = table_view(frame, **config)
    options: dict[str, Any] = {"hide_index": True, "key": key, "width": "stretch", "column_config": configured,
                               "placeholder": ""}
    if not selectable:
        st.dataframe(shown, **options)
        download_csv(frame, file_name, key=f"{key}_csv")
        return []
    event = st.dataframe(shown, on_select="rerun", selection_mode="single-row", **options)
    download_csv(frame, file_name, key=f"{key}_csv")
    return list(event.selection.rows)


def _moment(moment: dt.datetime | None) -> str:
    """In full, to the second (a response at the deadline is met, a second later is not)."""
    return "–" if moment is None else f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def clock_amount(seconds: float, calendar: str) -> str:
    """Time on a clock in hours, never days (52 business hours are not two days), to the second.

    351,110 s on 24x7 -> '97 h 31 m 50 s, 24x7'; 187,200 s on americas -> '52 h 00 m of business time on americas'.
    """
    total = int(seconds)
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    amount = f"{'-' if total < 0 else ''}{hours:,} h {minutes:02d} m" + (f" {secs:02d} s" if secs else "")
    return f"{amount}, 24x7" if calendar == ALWAYS else f"{amount} of business time on {calendar}"


def explain_panel(case_id: str) -> None:
    """The SLA engine's explanation of one case: every clock, its pieces and why (in full: text, never cut)."""
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
            target = clock_amount(row["target_seconds"], row["calendar"]) if row["target_seconds"] else "none"
            st.markdown(  # text, not st.metric: a metric cuts a long value ("2026-11-2…")
                f"Started **{_moment(row['start_at'])}** · deadline **{_moment(row['deadline_at'])}**  \n"
                f"Elapsed **{md(clock_amount(row['elapsed_seconds'], row['calendar']))}** · target **{md(target)}**"
            )
            pieces = pd.DataFrame(
                [
                    {
                        "severity": p.severity, "calendar": p.calendar, "from (UTC)": _moment(p.start),
                        "to (UTC)": _moment(p.end) if p.end else "the end", "deadline (UTC)": _moment(p.deadline),
                        "breaches at (UTC)": _moment(p.breached_at),
                    }
                    for p in item.pieces
                ]
            )
            st.dataframe(pieces, hide_index=True, width="stretch", placeholder="")
            if item.terms is not None and item.terms.applied:  # package names and account ids are data
                st.caption("Terms in force on the local opening date: " + md(item.terms.describe()))
            if item.pauses:
                st.caption("Paused (waiting on the customer): " + "; ".join(
                    f"{_moment(a)} → {_moment(b)}" for a, b in item.pauses))
            if item.intervals:
                st.caption("Working time counted: " + "; ".join(
                    f"{_moment(a)} → {_moment(b)}" for a, b in item.intervals)
                    + (f"; and {item.more_intervals} more" if item.more_intervals else ""))


@st.dialog("How the clock ran", width="large")
def explain_dialog(case_id: str) -> None:
    """`explain_panel` in a dialog: it opens where the user looks, not below the table."""
    explain_panel(case_id)


def explain_selection(frame: pd.DataFrame, rows: Sequence[int], key: str) -> None:
    """Open the explanation of the selected row's case once per selection.

    Dismissing the dialog keeps it closed on later reruns of the same selection; selecting
    another row (or the same after clearing) opens it again.
    """
    remembered = f"{key}_explained"
    if not rows:
        st.session_state.pop(remembered, None)
        return
    case_id = str(frame.iloc[rows[0]]["case_id"])
    if st.session_state.get(remembered) != case_id:
        st.session_state[remembered] = case_id
        explain_dialog(case_id)


def breached_drilldown(filters: Filters, key: str) -> None:
    """The breached obligations of the view; selecting one shows how its clock ran."""
    st.caption("Select a row to see how its clock ran.")
    breached = state.metric(breached_obligations, filters=filters)
    rows = show_table(breached, key=key, file_name="breached_obligations.csv", selectable=True,
                      account_id=None, seq=None)  # the follow-up number is in the explanation
    explain_selection(breached, rows, key)
