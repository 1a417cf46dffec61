"""BPIC 2014 (Rabobank Group ICT): an incident file plus an activity file -> a dataset folder.

Incidents become cases (severity from `priority`), the customer-facing activities become
responses, Impact/Urgency Changes become severity changes, Closed -> Reopen cycles become
status changes and external-vendor assignments become escalations. Every choice, and why,
is in docs/imports/bpic2014.md.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import numpy as np
import pandas as pd

from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.tools.imports.common import ImportReport, iso_utc, next_steps, write_dataset

SOURCE = "BPIC 2014 (Rabobank Group ICT incidents)"
DEFAULT_TIMEZONE = "Europe/Amsterdam"  # Rabobank's wall clock; the files carry no offset
DEFAULT_PACKAGE = "Gold"
DEFAULT_REGION = "emea"
DEFAULT_ACCOUNT_COLUMN = "service_component_wbs_aff"  # no customer id: the affected service component
OPERATOR_UPDATE_MODES = ("internal", "public")


@dataclass(frozen=True)
class SourceFormat:
    """How one pair of files is written: the eventdataR sample as converted, or the 4TU original."""

    incidents: str
    activities: str
    sep: str
    time_format: str


FORMATS = (
    SourceFormat("bpic14_incidents_sample.csv.gz", "bpic14_incident_activity_sample.csv.gz", ",", "%Y-%m-%d %H:%M:%S"),
    SourceFormat("bpic14_incidents_sample.csv", "bpic14_incident_activity_sample.csv", ",", "%Y-%m-%d %H:%M:%S"),
    # The original 4TU files (PROVENANCE.md): `;`, dd-mm-yyyy, headers as in its column table.
    SourceFormat("Detail_Incident.csv", "Detail_Incident_Activity.csv", ";", "%d-%m-%Y %H:%M:%S"),
)
# Original headers normalise to the sample's snake_case names, except these three.
_HEADER_ALIASES = {
    "datestamp": "data_stamp",
    "incidentactivity_number": "incident_activity_number",
    "incidentactivity_type": "incident_activity_type",
}
INCIDENT_COLUMNS = ("incident_id", "open_time", "close_time", "priority")
ACTIVITY_COLUMNS = ("incident_id", "data_stamp", "incident_activity_number", "incident_activity_type")

# Rabobank priority 1 (highest) ... 5 -> the contract's severity 1-3. Only priority 1 is a
# critical, organisation-wide outage (severity 1); 2-3 (high/average impact and urgency)
# are severity 2; 4-5 (one user or workplace, low urgency) are severity 3.
SEVERITY_BY_PRIORITY = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3}

# Activity types and what they become.
AGENT_RESPONSES = {"Communication with customer": "", "Mail to Customer": "email"}  # type -> channel
CUSTOMER_RESPONSES = {"Update from customer": "", "Callback Request": "phone"}
OPERATOR_UPDATE = "Operator Update"  # the assignee's journal entry: an internal note unless told otherwise
SEVERITY_ACTIVITIES = ("Impact Change", "Urgency Change")
ESCALATION_ACTIVITIES = ("External Vendor Assignment", "External Vendor Reassignment")
ESCALATION_VALUE = "vendor"
CLOSE_ACTIVITIES = ("Closed", "Resolved")
ASSIGNMENT_ACTIVITIES = ("Assignment", "Reassignment")  # only name the owner (cases.owner)
REOPEN_ACTIVITY = "Reopen"
OPEN_ACTIVITY = "Open"

# Activities stamped before this wall-clock instant were written in UTC, not Dutch time:
# for all 16 sample incidents opened before it, `open_time` is exactly the CET/CEST offset
# (1 h in winter, 2 h in summer) after their Open activity; from the first Open after it
# (2013-08-19 10:09) the two agree to the second. The switch lies in 2013-08-12 .. 08-19;
# the weekend before Monday 19 August is taken.
ACTIVITY_UTC_BEFORE = pd.Timestamp("2013-08-19 00:00:00")

SKIP_NO_ID = "incident without an incident_id"
SKIP_DUPLICATE = "incident_id repeated in the incident file (first row kept)"
SKIP_NO_OPEN_TIME = "incident with a missing or unreadable open_time"
SKIP_PRIORITY = "incident whose priority is not 1-5"
SKIP_NO_OPEN_ACTIVITY = "incident without an Open activity (opened before the activity log; history incomplete)"
SKIP_ACT_TIME = "activity with a missing or unreadable data_stamp"
SKIP_ACT_REPEATED = "incident_activity_number repeated (first row kept)"
SKIP_ACT_UNKNOWN = "activity of an incident not in the incident file"
SKIP_ACT_OF_SKIPPED = "activity of a skipped incident"
SKIP_OPEN = "Open activity (the case opens at open_time)"
SKIP_CLOSE = "Closed/Resolved activity not followed by a Reopen (the close is close_time)"
SKIP_SAME_INSTANT = "change at the same instant as an equal one of its case (one kept)"
SKIP_NO_MEANING = "activity with no contract meaning (assignment, status change, update, CI, quality, vendor, ...)"


def import_bpic2014(
    folder: Path,
    out: Path,
    *,
    source_timezone: str = DEFAULT_TIMEZONE,
    package: str = DEFAULT_PACKAGE,
    region: str = DEFAULT_REGION,
    account_column: str = DEFAULT_ACCOUNT_COLUMN,
    operator_updates: str = "internal",
) -> ImportReport:
    """Read the incident and activity files in `folder` and write a contract dataset to `out`.

    Raises LoadError (nothing written) when a file or a required column is missing or a file
    cannot be read, or an option names an unknown timezone, package, region or column.
    """
    calendar_tz = _check_options(source_timezone, package, region, operator_updates)
    fmt, incidents, activities = _read_sources(Path(folder))
    if account_column not in incidents.columns:
        raise LoadError(
            f"{fmt.incidents}: --account-column {account_column!r} is not a column; "
            f"expected one of {', '.join(incidents.columns)}"
        )
    report = ImportReport(source=f"{SOURCE} from {Path(folder).name}", rows_read=len(incidents) + len(activities))
    skipped = report.skipped

    cases = _select_incidents(incidents, fmt, source_timezone, skipped)
    listed = set(incidents["incident_id"].dropna().str.strip())
    acts = _select_activities(activities, cases, listed, fmt, source_timezone, skipped)
    # Incidents the activity log never saw open (opened before it began) have no usable history.
    has_open = cases["case_id"].isin(acts.loc[acts["type"] == OPEN_ACTIVITY, "case_id"])
    _skip(skipped, SKIP_NO_OPEN_ACTIVITY, int((~has_open).sum()))
    orphan = ~acts["case_id"].isin(cases.loc[has_open, "case_id"])
    _skip(skipped, SKIP_ACT_OF_SKIPPED, int(orphan.sum()))
    cases, acts = cases[has_open].copy(), acts[~orphan].copy()
    if cases.empty:
        raise LoadError(f"{fmt.incidents}: no incident could be imported ({_reasons(skipped)})")

    # The case opens at the earlier of open_time and its first activity (they agree to a few
    # seconds), so no response or change precedes its case; it closes at close_time (never
    # before it opened).
    first = acts.groupby("case_id")["at"].min()
    first_at = cases["case_id"].map(first)
    cases["opened_at"] = cases["open_utc"].where(cases["open_utc"] <= first_at, first_at)
    cases["closed_at"] = cases["close_utc"].where(
        cases["close_utc"].isna() | (cases["close_utc"] >= cases["opened_at"]), cases["opened_at"]
    )
    acts = acts.sort_values(["case_id", "at", "activity_id"], kind="stable")
    cases["owner"] = _owners(acts, cases)

    responses = _responses(acts, operator_updates)
    changes = _changes(acts, cases, skipped)
    _skip(skipped, SKIP_OPEN, int((acts["type"] == OPEN_ACTIVITY).sum()))
    mapped = {OPEN_ACTIVITY, REOPEN_ACTIVITY, OPERATOR_UPDATE, *AGENT_RESPONSES, *CUSTOMER_RESPONSES}
    mapped |= {*SEVERITY_ACTIVITIES, *ESCALATION_ACTIVITIES, *CLOSE_ACTIVITIES}
    _skip(skipped, SKIP_NO_MEANING, int((~acts["type"].isin(mapped)).sum()))

    cases["account_id"] = cases[account_column].fillna("UNKNOWN").astype(str)
    accounts = (
        cases.drop_duplicates("account_id")[["account_id", account_column]]
        .assign(
            name=lambda f: f[account_column].fillna(f"(no {account_column})").astype(str),
            region=region,
            source_column=account_column,
        )
        .drop(columns=[account_column])
        .sort_values("account_id")
    )
    instants = pd.concat([cases["opened_at"], cases["closed_at"], responses["at"], changes["at"]]).dropna()
    local = instants.dt.tz_convert(calendar_tz)
    subscriptions = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "package": package,
            "start_date": local.min().date().isoformat() if len(local) else "",
            "end_date": local.max().date().isoformat() if len(local) else "",
        }
    )
    tables = {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "cases": _case_table(cases),
        "responses": responses.assign(at=iso_utc(responses["at"])),
        "case_changes": changes.assign(at=iso_utc(changes["at"])),
    }
    config = _config(Path(folder), fmt, source_timezone, calendar_tz, package, region, account_column, operator_updates)
    write_dataset(Path(out), tables, config, report)
    return report


def _reasons(skipped: Counter[str]) -> str:
    return "; ".join(f"{reason}: {n:,}" for reason, n in skipped.most_common()) or "the file has no rows"


def _skip(skipped: Counter[str], reason: str, rows: int) -> None:
    """Count skipped rows under `reason` (a reason with no rows is not listed)."""
    if rows:
        skipped[reason] += int(rows)


def _check_options(source_timezone: str, package: str, region: str, operator_updates: str) -> str:
    """Fail before reading anything when an option cannot work; return the region's timezone."""
    try:
        ZoneInfo(source_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise LoadError(
            f"--timezone: expected an IANA timezone such as 'Europe/Amsterdam', got {source_timezone!r}"
        ) from None
    config = load_config(None)
    if package not in config.packages:
        raise LoadError(f"--package: expected one of {', '.join(config.packages)}, got {package!r}")
    if region not in config.calendars:
        raise LoadError(f"--region: expected a calendar, one of {', '.join(config.calendars)}, got {region!r}")
    if operator_updates not in OPERATOR_UPDATE_MODES:
        raise LoadError(f"--operator-updates: expected internal or public, got {operator_updates!r}")
    return config.calendars[region].timezone


def _read_sources(folder: Path) -> tuple[SourceFormat, pd.DataFrame, pd.DataFrame]:
    """Find the pair of files in `folder` and read both as text, headers in snake_case."""
    if not folder.is_dir():
        raise LoadError(f"{folder}: not a folder (expected the BPIC 2014 incident and activity files in it)")
    for fmt in FORMATS:
        if (folder / fmt.incidents).exists() or (folder / fmt.activities).exists():
            break
    else:
        names = " or ".join(f"{f.incidents} + {f.activities}" for f in FORMATS)
        raise LoadError(f"{folder}: no BPIC 2014 files found; expected {names}")
    incidents = _read_csv(folder / fmt.incidents, fmt.sep, INCIDENT_COLUMNS)
    activities = _read_csv(folder / fmt.activities, fmt.sep, ACTIVITY_COLUMNS)
    return fmt, incidents, activities


def _read_csv(path: Path, sep: str, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise LoadError(f"{path.name}: missing from {path.parent} (BPIC 2014 needs both files)")
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig", encoding_errors="replace")
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LoadError(f"{path.name}: could not be read as CSV ({detail})") from None
    frame.columns = [_snake(str(c)) for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise LoadError(
            f"{path.name}, column {missing[0]}: missing (the header has {', '.join(frame.columns) or 'no columns'})"
        )
    return frame


def _snake(header: str) -> str:
    """'# Reassignments' -> 'x_reassignments', 'CI Name (aff)' -> 'ci_name_aff' (eventdataR's names)."""
    name = re.sub(r"[^0-9a-z]+", "_", header.strip().lower().replace("#", "x")).strip("_")
    return _HEADER_ALIASES.get(name, name)


def _to_utc(naive: pd.Series, timezone: str) -> pd.Series:
    """Naive wall-clock times in `timezone` -> aware UTC, resolved as the SLA clocks resolve them.

    A time in a spring-forward gap moves forward; an ambiguous fall-back time takes its first
    (summer-time) occurrence, as metrics.tools.sample does.
    """
    index = pd.DatetimeIndex(naive)
    aware = index.tz_localize(timezone, ambiguous=np.ones(len(index), dtype=bool), nonexistent="shift_forward")
    return pd.Series(aware.tz_convert("UTC"), index=naive.index)


def _parse_time(text: pd.Series, fmt: SourceFormat) -> pd.Series:
    return pd.to_datetime(text.str.strip(), format=fmt.time_format, errors="coerce")


def _select_incidents(
    incidents: pd.DataFrame, fmt: SourceFormat, timezone: str, skipped: Counter[str]
) -> pd.DataFrame:
    """The usable incidents, with parsed times and severity; the rest counted in `skipped`."""
    frame = incidents.copy()
    frame["case_id"] = frame["incident_id"].str.strip()
    no_id = frame["case_id"].isna() | (frame["case_id"] == "")
    _skip(skipped, SKIP_NO_ID, int(no_id.sum()))
    frame = frame[~no_id]
    dup = frame["case_id"].duplicated()
    _skip(skipped, SKIP_DUPLICATE, int(dup.sum()))
    frame = frame[~dup]
    opened = _parse_time(frame["open_time"], fmt)
    _skip(skipped, SKIP_NO_OPEN_TIME, int(opened.isna().sum()))
    frame, opened = frame[opened.notna()], opened[opened.notna()]
    priority = pd.to_numeric(frame["priority"], errors="coerce")
    bad = ~priority.isin(list(SEVERITY_BY_PRIORITY))
    _skip(skipped, SKIP_PRIORITY, int(bad.sum()))
    frame = frame[~bad].copy()
    frame["priority"] = priority[~bad].astype(int)
    frame["severity"] = frame["priority"].map(SEVERITY_BY_PRIORITY)
    frame["open_utc"] = _to_utc(opened[~bad], timezone)
    frame["close_utc"] = _to_utc(_parse_time(frame["close_time"], fmt), timezone)
    resolved = frame["resolved_time"] if "resolved_time" in frame.columns else pd.Series("", index=frame.index)
    frame["resolved_at"] = iso_utc(_to_utc(_parse_time(resolved.fillna(""), fmt), timezone))
    return frame


def _select_activities(
    activities: pd.DataFrame,
    cases: pd.DataFrame,
    listed: set[str],
    fmt: SourceFormat,
    timezone: str,
    skipped: Counter[str],
) -> pd.DataFrame:
    """Activities of known incidents with a UTC instant; the rest counted in `skipped`."""
    frame = pd.DataFrame(
        {
            "case_id": activities["incident_id"].str.strip(),
            "activity_id": activities["incident_activity_number"].fillna("").str.strip(),
            "type": activities["incident_activity_type"].fillna("").str.strip(),
            "group": activities.get("assignment_group", pd.Series("", index=activities.index)).fillna(""),
            "interaction_id": activities.get("interaction_id", pd.Series("", index=activities.index)).fillna(""),
        }
    )
    stamp = _parse_time(activities["data_stamp"], fmt)
    _skip(skipped, SKIP_ACT_TIME, int(stamp.isna().sum()))
    frame, stamp = frame[stamp.notna()], stamp[stamp.notna()]
    utc_stamped = stamp < ACTIVITY_UTC_BEFORE
    at = _to_utc(stamp, timezone)
    at[utc_stamped] = stamp[utc_stamped].dt.tz_localize("UTC")
    frame["at"] = at
    repeated = frame["activity_id"].ne("") & frame["activity_id"].duplicated()
    _skip(skipped, SKIP_ACT_REPEATED, int(repeated.sum()))
    frame = frame[~repeated]
    known = frame["case_id"].isin(cases["case_id"])
    unlisted = ~frame["case_id"].isin(listed)
    _skip(skipped, SKIP_ACT_UNKNOWN, int(unlisted.sum()))
    _skip(skipped, SKIP_ACT_OF_SKIPPED, int((~known & ~unlisted).sum()))
    return frame[known].copy()


def _owners(acts: pd.DataFrame, cases: pd.DataFrame) -> pd.Series:
    """The team an incident was last (re)assigned to by its close, else the team that opened it."""
    assigned = acts[acts["type"].isin(list(ASSIGNMENT_ACTIVITIES))].merge(cases[["case_id", "closed_at"]], on="case_id")
    assigned = assigned[assigned["closed_at"].isna() | (assigned["at"] <= assigned["closed_at"])]
    opener = acts[acts["type"] == OPEN_ACTIVITY].groupby("case_id")["group"].first()
    last = assigned.groupby("case_id")["group"].last()
    return cases["case_id"].map(last).fillna(cases["case_id"].map(opener)).fillna("")


def _responses(acts: pd.DataFrame, operator_updates: str) -> pd.DataFrame:
    """Customer-facing activities as responses; Operator Updates as internal notes (or public)."""
    agent = acts["type"].isin(list(AGENT_RESPONSES))
    customer = acts["type"].isin(list(CUSTOMER_RESPONSES))
    operator = acts["type"] == OPERATOR_UPDATE
    rows = acts[agent | customer | operator]
    channel = rows["type"].map({**AGENT_RESPONSES, **CUSTOMER_RESPONSES}).fillna("")
    by_customer = rows["type"].isin(list(CUSTOMER_RESPONSES))
    return pd.DataFrame(
        {
            "case_id": rows["case_id"],
            "at": rows["at"],
            "author_type": np.where(by_customer, "customer", "agent"),
            "response_id": rows["activity_id"],
            # The team that did it; a customer's message is only recorded by a team.
            "author": rows["group"].where(~by_customer, ""),
            "channel": channel,
            "public": ~((rows["type"] == OPERATOR_UPDATE) & (operator_updates == "internal")),
            "activity": rows["type"],
            "assignment_group": rows["group"],
            "interaction_id": rows["interaction_id"],
        }
    ).reset_index(drop=True)


def _changes(acts: pd.DataFrame, cases: pd.DataFrame, skipped: Counter[str]) -> pd.DataFrame:
    """Severity, status and escalation changes from the activity log, one row per instant."""
    severity = cases.set_index("case_id")["severity"]
    sev = acts[acts["type"].isin(list(SEVERITY_ACTIVITIES))]
    # The log does not say what impact or urgency became: each change instant carries the
    # incident's final severity (the only value recorded), which then holds to the close.
    sev_rows = sev.assign(field="severity", value=sev["case_id"].map(severity).astype(str))
    esc = acts[acts["type"].isin(list(ESCALATION_ACTIVITIES))]
    esc_rows = esc.assign(field="escalation", value=ESCALATION_VALUE)

    reopen = acts[acts["type"] == REOPEN_ACTIVITY]
    closes = acts[acts["type"].isin(list(CLOSE_ACTIVITIES))]
    # The last Closed/Resolved strictly before each Reopen closed the case that the Reopen
    # opens again; a Reopen after close_time is closed again by the next Closed/Resolved.
    before = _asof(reopen, closes, "backward")
    closed_at = reopen["case_id"].map(cases.set_index("case_id")["closed_at"])
    late = reopen[reopen["at"] > closed_at]
    after = _asof(late, closes, "forward")
    used = closes[closes["activity_id"].isin(pd.concat([before, after]))]
    _skip(skipped, SKIP_CLOSE, len(closes) - len(used))
    status_rows = pd.concat(
        [used.assign(field="status", value="closed"), reopen.assign(field="status", value="open")]
    )
    rows = pd.concat([sev_rows, status_rows, esc_rows]).sort_values(["case_id", "at", "activity_id"], kind="stable")
    # Key of a change: (case_id, at, field, value); Impact and Urgency Change usually share an instant.
    dup = rows.duplicated(["case_id", "at", "field", "value"])
    _skip(skipped, SKIP_SAME_INSTANT, int(dup.sum()))
    rows = rows[~dup]
    return pd.DataFrame(
        {
            "case_id": rows["case_id"],
            "at": rows["at"],
            "field": rows["field"],
            "value": rows["value"],
            "activity": rows["type"],
            "activity_id": rows["activity_id"],
        }
    ).reset_index(drop=True)


def _asof(events: pd.DataFrame, closes: pd.DataFrame, direction: str) -> pd.Series:
    """Activity ids of the Closed/Resolved row strictly before (or after) each event of its case."""
    if events.empty or closes.empty:
        return pd.Series([], dtype=str)
    left = events[["case_id", "at"]].sort_values("at", kind="stable")
    right = closes[["case_id", "at", "activity_id"]].sort_values(["at", "activity_id"], kind="stable")
    matched = pd.merge_asof(
        left, right, on="at", by="case_id", direction=direction, allow_exact_matches=False
    )
    return matched["activity_id"].dropna()


def _case_table(cases: pd.DataFrame) -> pd.DataFrame:
    def text(column: str) -> pd.Series:
        return cases[column].fillna("") if column in cases.columns else pd.Series("", index=cases.index)

    return pd.DataFrame(
        {
            "case_id": cases["case_id"],
            "account_id": cases["account_id"],
            "opened_at": iso_utc(cases["opened_at"]),
            "severity": cases["severity"],
            "closed_at": iso_utc(cases["closed_at"]),
            "owner": cases["owner"],
            "product_area": text("ci_subtype_aff"),
            "subject": text("category"),
            "priority": cases["priority"],
            "impact": text("impact"),
            "urgency": text("urgency"),
            "ci_name_aff": text("ci_name_aff"),
            "service_component_wbs_aff": text("service_component_wbs_aff"),
            "closure_code": text("closure_code"),
            "reassignments": text("x_reassignments"),
            "resolved_at": cases["resolved_at"],
        }
    ).sort_values("case_id")


def _config(
    folder: Path,
    fmt: SourceFormat,
    source_timezone: str,
    calendar_tz: str,
    package: str,
    region: str,
    account_column: str,
    operator_updates: str,
) -> dict[str, Any]:
    """config.toml: the source timezone, reporting in the region's timezone, every choice made here."""
    agent = list(AGENT_RESPONSES) + ([OPERATOR_UPDATE] if operator_updates == "public" else [])
    return {
        "source": {"timezone": source_timezone},
        "reporting": {"timezone": calendar_tz},
        "importer": {
            "name": "bpic2014",
            "source": Path(folder).name,  # the folder's name: a server path stays private
            "files": [fmt.incidents, fmt.activities],
            "package": package,
            "region": region,
            "account_column": account_column,
            "operator_updates": operator_updates,
            "agent_response_activities": agent,
            "internal_note_activities": [OPERATOR_UPDATE] if operator_updates == "internal" else [],
            "customer_response_activities": list(CUSTOMER_RESPONSES),
            "severity_change_activities": list(SEVERITY_ACTIVITIES),
            "escalation_activities": list(ESCALATION_ACTIVITIES),
            "close_activities": list(CLOSE_ACTIVITIES),
            "reopen_activity": REOPEN_ACTIVITY,
            "severity_by_priority": {str(k): v for k, v in SEVERITY_BY_PRIORITY.items()},
            "activity_utc_before": ACTIVITY_UTC_BEFORE.isoformat(),
        },
    }


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Dataset folder to write.")
@click.option(
    "--timezone",
    "source_timezone",
    default=DEFAULT_TIMEZONE,
    show_default=True,
    help="Where the naive source times were written (activities before 2013-08-19 are UTC regardless).",
)
@click.option("--package", default=DEFAULT_PACKAGE, show_default=True, help="Package every account holds.")
@click.option("--region", default=DEFAULT_REGION, show_default=True, help="Calendar every account is served on.")
@click.option(
    "--account-column",
    default=DEFAULT_ACCOUNT_COLUMN,
    show_default=True,
    help="Incident column whose values become accounts (e.g. ci_name_aff).",
)
@click.option(
    "--operator-updates",
    type=click.Choice(OPERATOR_UPDATE_MODES),
    default="internal",
    show_default=True,
    help="Operator Update activities: internal notes, or public agent responses.",
)
def command(
    folder: Path,
    out: Path,
    source_timezone: str,
    package: str,
    region: str,
    account_column: str,
    operator_updates: str,
) -> None:
    """Import BPIC 2014 (Rabobank ICT): FOLDER holds the incident file and the incident activity file.

    Customer communication becomes responses, Impact/Urgency Changes severity changes,
    Closed/Reopen cycles status changes. Writes OUT as a dataset; then `ingest` it.
    """
    report = import_bpic2014(
        folder,
        out,
        source_timezone=source_timezone,
        package=package,
        region=region,
        account_column=account_column,
        operator_updates=operator_updates,
    )
    click.echo(report.summary())
    click.echo(next_steps(out))
