"""The column vocabulary: every metric column's label in words and its unit, for people to read.

Metrics return machine columns (`breached_at`, `elapsed_seconds`, `escalated_share` as 0.9571):
what a CSV or a spreadsheet computes with. Anything a person reads (the dashboard's tables, the
governance pack, the weekly update) says the same column in the same words and units, from here:

- `column(name)` -> `Column(label, unit, lead)`; names not listed get a label from their words
  ("cases_opened" -> "cases opened") and a unit from their suffix (`_at` timestamp, `_date` date,
  `_share` share) or their values (numbers count, booleans flag, else text).
- `human_frame(frame)` -> the frame with labelled columns, its leading keys (case, account, package,
  severity) and then the `lead` columns (those answering the table's question: a breach's moment, a
  rate, a share) first, and every cell a string:
  timestamps "2026-11-28 06:47 UTC", durations "3 h 12 m" (hours, never days: 72 business hours
  are not three days), shares "95.7 %", missing values "" (never None, nan or NaT). Cells are
  plain text, not escaped: escape them for the medium (`metrics.safe_text.h`, `md`).
- `grid_frame(frame)` -> (frame, {name: GridColumn}) for a sortable grid (the dashboard's
  `st.dataframe`): values stay numbers so columns sort by value, converted to the unit shown
  (seconds -> hours, shares -> percent) with a printf format ("%,.1f h": 1,047,279.3 h, "%.1f %%"); timestamps
  stay instants shown in UTC, the zone said once in the header ("breached at (UTC)") to keep
  the columns narrow enough for the answers to fit at 1440 px. A duration is shown in decimal hours
  there rather than "3 h 12 m" text, which would sort "10 h" before "3 h".

Pure Python and pandas: never imports Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Unit = Literal[
    "duration_seconds_calendar",  # wall-clock seconds
    "duration_seconds_business",  # working seconds of the account's calendar
    "duration_seconds_clock",  # seconds on the obligation's own clock (24x7 for severity 1, else business)
    "hours_calendar", "hours_business", "hours_clock",  # the same, already in hours
    "share",  # a fraction, 0.9571 -> 95.7 %
    "percent",  # already in percent (or percentage points)
    "count", "number", "timestamp", "date", "flag", "text",
]

SECONDS_UNITS = {"duration_seconds_calendar", "duration_seconds_business", "duration_seconds_clock"}
HOURS_UNITS = {"hours_calendar", "hours_business", "hours_clock"}
ZONE = "UTC"  # every stored instant is UTC; shown as such, the zone named


@dataclass(frozen=True)
class Column:
    label: str  # words a header shows, lower case like the rest of the app's headers
    unit: Unit
    lead: bool = False  # answers the table's question: shown first, before the identifying columns
    words: Mapping[str, str] | None = None  # machine values in words ("follow_up" -> "follow-up")


@dataclass(frozen=True)
class GridColumn:
    """What a sortable grid needs for one column: its kind (number, datetime, date, flag, text)."""

    label: str
    kind: Literal["number", "datetime", "date", "flag", "text"]
    format: str | None = None


KINDS = {"initial": "initial", "follow_up": "follow-up"}  # as the charts and tiles say them
ENTITLEMENTS = {"service_days": "service days", "training_sessions": "training sessions"}
CLOCK_STATES = {"on_track": "on track", "at_risk": "at risk", "no_clock": "no clock (reopened, unanswered)"}
C = Column
COLUMNS: dict[str, Column] = {
    # who and what
    "case_id": C("case", "text"), "account_id": C("account id", "text"), "account_name": C("account", "text"),
    "advisor": C("advisor", "text"), "region": C("region", "text"), "package": C("package", "text"),
    "owner": C("owner", "text"), "calendar": C("calendar", "text"), "period": C("period", "text"),
    "kind": C("obligation", "text", words=KINDS), "seq": C("follow-up no.", "count"),
    "severity": C("severity", "count"),
    "submitted_severity": C("submitted severity", "count"), "status": C("status", "text"),
    "obligation_status": C("obligation status", "text"),
    "clock_state": C("clock", "text", lead=True, words=CLOCK_STATES),
    "state": C("clock", "text", lead=True), "waiting_on": C("waiting on", "text"), "level": C("level", "text"),
    "escalation_level": C("escalation level", "text"), "source": C("source", "text"),
    "first_source": C("first escalation by", "text"), "last_author_type": C("last reply by", "text"),
    # instants
    "opened_at": C("opened (UTC)", "timestamp"), "closed_at": C("closed (UTC)", "timestamp"),
    "start_at": C("clock started (UTC)", "timestamp"), "end_at": C("answered (UTC)", "timestamp"),
    "deadline_at": C("deadline (UTC)", "timestamp", lead=True),
    "breached_at": C("breached at (UTC)", "timestamp", lead=True), "at": C("at (UTC)", "timestamp"),
    "first_escalation_at": C("first escalated (UTC)", "timestamp"),
    "merged_breach_at": C("merged with breach at (UTC)", "timestamp"),
    "first_changed_at": C("first changed (UTC)", "timestamp"), "last_changed_at": C("last changed (UTC)", "timestamp"),
    "suspended_from": C("suspended from (UTC)", "timestamp"), "suspended_to": C("suspended to (UTC)", "timestamp"),
    "term_start": C("term start", "date"), "term_end": C("term end", "date"),
    "authorized_contacts_peak_date": C("peak first held on", "date"),
    # durations
    "elapsed_seconds": C("elapsed (clock h)", "duration_seconds_clock", lead=True),
    "target_seconds": C("target (clock h)", "duration_seconds_clock", lead=True),
    "remaining_seconds": C("left on the clock (clock h)", "duration_seconds_clock", lead=True),
    "remaining_hours": C("left on the clock (clock h)", "hours_clock", lead=True),
    "age_seconds": C("age (calendar h)", "duration_seconds_calendar"),
    "age_hours": C("age (calendar h)", "hours_calendar"),
    "age_business_seconds": C("age (business h)", "duration_seconds_business"),
    "business_age_hours": C("age (business h)", "hours_business"),
    "median_seconds": C("median response (clock h)", "duration_seconds_clock", lead=True),
    "p90_seconds": C("90th percentile response (clock h)", "duration_seconds_clock", lead=True),
    "time_to_first_escalation_seconds": C("to first escalation (calendar h)", "duration_seconds_calendar", lead=True),
    "business_seconds_to_first_escalation": C("to first escalation (business h)", "duration_seconds_business",
                                              lead=True),
    "hours_to_first_escalation": C("to first escalation (calendar h)", "hours_calendar", lead=True),
    "business_hours_to_first_escalation": C("to first escalation (business h)", "hours_business", lead=True),
    "running_seconds": C("running (calendar h)", "duration_seconds_calendar"),
    "paused_seconds": C("paused (calendar h)", "duration_seconds_calendar"),
    "clock_running_seconds": C("running (clock h)", "duration_seconds_clock"),
    "clock_paused_seconds": C("paused (clock h)", "duration_seconds_clock"),
    # shares and rates
    "attainment": C("attainment", "share", lead=True), "escalated_share": C("share escalated", "share", lead=True),
    "consumed": C("clock consumed", "share", lead=True),
    "median_of_target": C("median, of target", "share"), "p90_of_target": C("90th percentile, of target", "share"),
    "within_half_target": C("within half the target", "share", lead=True),
    "escalations_per_100_cases": C("escalations per 100 cases", "number", lead=True),
    "paused_share": C("paused (calendar)", "share", lead=True),
    "clock_paused_share": C("paused (clock)", "share", lead=True),
    "non_authorized_share": C("by non-authorized contacts", "share", lead=True),
    "severity_differs_share": C("severity differs, share", "share", lead=True),
    "used_share": C("used of entitled", "share", lead=True), "forecast_share": C("forecast at term end", "share"),
    "elapsed_share": C("term elapsed", "share"), "service_days_share": C("service days, used of entitled", "share"),
    "training_sessions_share": C("training sessions, used of entitled", "share"),
    "sent_share": C("sent, of owed", "share", lead=True), "on_time_share": C("on time, of owed", "share", lead=True),
    "pace": C("pace (pp)", "percent"),
    # counts
    "due_within_4h": C("due within 4 clock h", "count", lead=True),
    "due_within_8h": C("due within 8 clock h", "count", lead=True),
    "due_within_24h": C("due within 24 clock h", "count", lead=True),
    "running": C("running with a target", "count"), "cases_sev1": C("severity 1 cases", "count"),
    "cases_sev2": C("severity 2 cases", "count"), "cases_sev3": C("severity 3 cases", "count"),
    "policy": C("policy escalations", "count"), "recorded": C("recorded escalations", "count"),
    "merged": C("merged into a breach", "count"), "incidents": C("incidents", "count", lead=True),
    "active_at_risk": C("active at risk", "count"), "active_breached": C("active breached", "count"),
    "allotted": C("contacts allotted", "count"), "over_by": C("over the allotment by", "count", lead=True),
    "authorized_contacts_peak": C("peak held in the term", "count"),
    "authorized_contacts": C("authorized on the last counted day", "count"),
    "service_days_used": C("service days used", "number"),
    "service_days_entitled": C("service days entitled", "number"),
    "service_days_forecast": C("service days forecast", "number"),
    "training_sessions_used": C("training sessions used", "number"),
    "training_sessions_entitled": C("training sessions entitled", "number"),
    "training_sessions_forecast": C("training sessions forecast", "number"),
    "other_engagements": C("other engagements", "number"),
    "non_authorized_case_ids": C("which cases", "text"),
    "met": C("met", "count"), "breached": C("breached", "count"), "pending": C("still running", "count"),
    "cancelled": C("cancelled", "count"), "untargeted": C("without a target", "count"),
    "suspended": C("while suspended", "count"), "obligations": C("obligations", "count"),
    "active": C("active tickets", "count"), "escalations": C("escalations", "count"),
    "policy_escalations": C("policy escalations", "count"), "recorded_escalations": C("recorded escalations", "count"),
    "cases": C("cases", "count"), "cases_opened": C("cases opened", "count"),
    "cases_opened_in_period": C("cases opened in the period", "count"),
    "cases_escalated": C("cases escalated", "count"), "cases_with_contact": C("cases with a contact", "count"),
    "cases_without_contact": C("cases without a contact", "count"),
    "non_authorized_cases": C("cases by non-authorized contacts", "count", lead=True),
    "follow_ups": C("follow-ups", "count"), "paused_follow_ups": C("follow-ups that waited on the customer", "count"),
    "changes_up": C("raised", "count"), "changes_down": C("lowered", "count"),
    "final_severity": C("severity now", "count"), "breach_severity": C("severity at the breach", "count"),
    "authorized_contacts_allotted": C("contacts allotted", "count"),
    "phone_cases": C("phone cases", "count"),
    "phone_without_entitlement": C("phone cases without phone support", "count", lead=True),
    "channel_phone": C("by phone", "count"), "channel_email": C("by email", "count"),
    "channel_web": C("by web", "count"), "channel_chat": C("by chat", "count"),
    "channel_other": C("other channels", "count"),
    "term_days": C("term (days)", "count"), "elapsed_days": C("days elapsed", "count"),
    "usage_band": C("usage band", "text", lead=True), "usage_basis": C("band from", "text", words=ENTITLEMENTS),
    "service_days_band": C("service days band", "text"), "training_sessions_band": C("training sessions band", "text"),
    "current": C("current term", "flag"), "phone_support": C("phone support", "flag"),
    "severity_differs": C("severity differs", "flag"),
    # the promise scorecard (metrics.subjects.scorecard)
    "promise": C("promise", "text"), "measured": C("measured", "text"),
    "promised": C("promised", "text"), "evidence": C("evidence", "text"),
    "feature": C("feature", "text"), "kept": C("kept", "count", lead=True), "at_risk": C("at risk", "count", lead=True),
    "missed": C("missed", "count", lead=True), "nothing_to_judge": C("nothing to judge", "count"),
    "not_measured": C("not measured", "count"), "accounts": C("accounts", "count"),
    "at_risk_accounts": C("accounts at risk", "text"), "missed_accounts": C("accounts that missed", "text"),
    "quarter": C("quarter", "text"), "reviews": C("reviews", "number"),
    "first_review_date": C("first review", "date"), "last_review_date": C("last review", "date"),
    # a trend's buckets (metrics.subjects.buckets)
    "period_start": C("period from", "date"), "period_end": C("period to", "date"),
    "period_days": C("days in period", "count"), "covered_days": C("days covered", "count"),
    "partial": C("partial period", "flag"), "too_small": C("too few to judge", "flag"),
}
del C


def column(name: str, values: pd.Series | None = None) -> Column:
    """The vocabulary's entry for `name`, or one derived from its words, suffix and `values`."""
    if name in COLUMNS:
        return COLUMNS[name]
    label = name.replace("_", " ")
    if name.endswith("_at"):
        return Column(f"{label.removesuffix(' at')} (UTC)", "timestamp")
    if name.endswith("_date"):
        return Column(label.removesuffix(" date"), "date")
    if name.endswith("_share"):
        return Column(label.removesuffix(" share"), "share")
    if values is not None and pd.api.types.is_bool_dtype(values):
        return Column(label, "flag")
    if values is not None and pd.api.types.is_numeric_dtype(values):
        return Column(label, "count" if pd.api.types.is_integer_dtype(values) else "number")
    return Column(label, "text")


KEY_COUNTS = ("severity", "seq", "submitted_severity")  # numbers that name a row rather than measure it


def ordered(frame: pd.DataFrame) -> list[str]:
    """`frame`'s columns with its leading keys (case, account, package, severity...) first, then the lead ones.

    breached obligations: case, account, package, kind, severity | deadline, breached at, elapsed,
    target | clock started, answered.
    """
    names = [str(c) for c in frame.columns]
    keys = 0
    while keys < len(names) and (names[keys] in KEY_COUNTS or column(names[keys], frame[names[keys]]).unit == "text"):
        keys += 1
    rest = names[keys:]
    return names[:keys] + [c for c in rest if column(c).lead] + [c for c in rest if not column(c).lead]


def _distinct(frame: pd.DataFrame, names: list[str]) -> list[str]:
    """`names` less any column saying what an earlier one of the same label says (seconds beside hours)."""
    kept: dict[str, str] = {}  # name -> label
    for name in names:
        label = column(name, frame[name]).label
        twins = [k for k, kept_label in kept.items() if kept_label == label]
        if not any(_text(frame, k).equals(_text(frame, name)) for k in twins):
            kept[name] = label
    return list(kept)


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    spec = column(name, frame[name])
    return _per_value(frame[name], lambda v: format_cell(_word(v, spec), spec.unit))


def _word(value: Any, spec: Column) -> Any:
    return spec.words.get(value, value) if spec.words and isinstance(value, str) else value


def _per_value(values: pd.Series, text: Callable[[Any], str]) -> pd.Series:
    """`values.map(text)` calling `text` once per distinct value (a table of 60,000 rows holds a few hundred).

    Missing cells (None, NaN, NaT) all read as `text(None)`; cells that cannot be hashed (lists of ids)
    are mapped one by one.
    """
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:
        return values.map(text)
    texts = np.array([*(text(v) for v in uniques), text(None)], dtype=object)  # code -1 (missing) -> the last
    return pd.Series(texts[codes], index=values.index)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array cell
        return False


def hours_minutes(seconds: float) -> str:
    """11532 -> '3 h 12 m', 259200 -> '72 h 00 m', -300 -> '-0 h 05 m' (rounded to the minute, never days)."""
    minutes = round(abs(seconds) / 60)
    hours, rest = divmod(minutes, 60)
    return f"{'-' if seconds < 0 and minutes else ''}{hours:,} h {rest:02d} m"


def format_cell(value: Any, unit: Unit) -> str:
    """One value as text in its unit; missing -> ''."""
    if _missing(value):
        return ""
    if unit == "timestamp":
        moment = pd.Timestamp(value)
        moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
        return f"{moment:%Y-%m-%d %H:%M} {ZONE}"
    if unit == "date":
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    if unit in SECONDS_UNITS:
        return hours_minutes(float(value))
    if unit in HOURS_UNITS:
        return hours_minutes(float(value) * 3600)
    if unit == "share":
        return f"{float(value) * 100:.1f} %"
    if unit == "percent":
        return f"{float(value):.1f} %"
    if unit == "count":
        return f"{int(value):,}"
    if unit == "number":
        number = float(value)
        return f"{number:,.0f}" if math.isclose(number, round(number)) else f"{number:,.1f}"
    if unit == "flag":
        return "yes" if bool(value) else "no"
    if not isinstance(value, str) and hasattr(value, "__iter__"):  # a list of ids
        return ", ".join(str(v) for v in value)
    return str(value)


def human_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` for people: labelled columns, lead columns first, every cell formatted text ('' when missing).

    A column saying exactly what an earlier one of the same label says (a duration in seconds
    beside the same in hours) is shown once; two different columns of one label raise ValueError.
    """
    names = _distinct(frame, ordered(frame))
    labels = [column(name, frame[name]).label for name in names]
    if len(set(labels)) < len(labels):
        twice = sorted({x for x in labels if labels.count(x) > 1})
        raise ValueError(f"two different columns would both read {twice}")
    return pd.DataFrame({label: _text(frame, name) for label, name in zip(labels, names, strict=True)},
                        index=frame.index)


def _grid_column(name: str, values: pd.Series) -> tuple[pd.Series, GridColumn]:
    """One column's values in the unit a grid shows, and how to show them."""
    spec = column(name, values)
    unit = spec.unit
    if unit in SECONDS_UNITS:
        return pd.to_numeric(values) / 3600, GridColumn(spec.label, "number", "%,.1f h")
    if unit in HOURS_UNITS:
        return pd.to_numeric(values), GridColumn(spec.label, "number", "%,.1f h")
    if unit == "share":
        return pd.to_numeric(values) * 100, GridColumn(spec.label, "number", "%.1f %%")
    if unit == "percent":
        return values, GridColumn(spec.label, "number", "%.1f %%")
    if unit == "count":
        return values, GridColumn(spec.label, "number", "localized")
    if unit == "number":
        return values, GridColumn(spec.label, "number", "%,.1f")
    if unit == "timestamp":
        return pd.to_datetime(values, utc=True), GridColumn(spec.label, "datetime", "YYYY-MM-DD HH:mm")
    if unit == "date":
        return values, GridColumn(spec.label, "date", "YYYY-MM-DD")
    if unit == "flag":
        return values, GridColumn(spec.label, "flag")
    if not spec.words and isinstance(values.dtype, pd.StringDtype):  # text already: '' for missing, all at once
        text = pd.Series(values.to_numpy(dtype=object, na_value=""), index=values.index, name=values.name, dtype=object)
        return text, GridColumn(spec.label, "text")
    return _per_value(values, lambda v: format_cell(_word(v, spec), "text")), GridColumn(spec.label, "text")


def grid_frame(frame: pd.DataFrame, keep: Collection[str] = ()) -> tuple[pd.DataFrame, dict[str, GridColumn]]:
    """`frame` for a sortable grid: lead columns first, values in the unit shown, and each column's display.

    As in `human_frame`, a column repeating an earlier one in another unit is left out. Column
    names stay as they are (a caller's configuration and selection refer to them); the columns
    in `keep` are passed through untouched and get no entry (their caller shows them).
    """
    names = _distinct(frame, ordered(frame))
    values: dict[str, pd.Series] = {}
    display: dict[str, GridColumn] = {}
    for name in names:
        if name in keep:
            values[name] = frame[name]
            continue
        values[name], display[name] = _grid_column(name, frame[name])
    return pd.DataFrame(values, index=frame.index), display
