"""Import the ServiceNow incident audit log (UCI "Incident management process enriched event log").

The source has one row per update of an incident: case-level fields repeated as they
stood at that update, the new `incident_state`, who made the update and when (naive
`d/m/yyyy HH:MM` wall times, `?` for missing). This module turns it into a dataset of
the data contract: one case per incident from its opening fields, status and severity
changes from the sequence of updates, and an agent response for each update made by a
person. Every mapping decision is explained in `docs/imports/servicenow.md`.

    python -m metrics import servicenow incident_event_log.csv.gz --out data/servicenow
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import numpy as np
import pandas as pd

from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.tools.imports.common import ImportReport, iso_utc, next_steps, write_dataset

MISSING = "?"  # how the export writes an empty value
TIME_FORMAT = "%d/%m/%Y %H:%M"  # day first, minutes only, no offset: 29/2/2016 01:16

# incident_state -> contract status. Only "Awaiting User Info" waits on the customer;
# the vendor, a problem record or evidence are the support organisation's side, so the
# clock keeps running. Resolved stops the clocks (a later Active again is a reopen).
STATE_MAP: dict[str, str] = {
    "New": "open",
    "Active": "open",
    "Awaiting User Info": "pending_customer",
    "Awaiting Vendor": "open",
    "Awaiting Problem": "open",
    "Awaiting Evidence": "open",
    "Resolved": "closed",
    "Closed": "closed",
}
JUNK_STATES = frozenset({"-100"})  # 5 rows of the UCI file: not a state ServiceNow has

# Leading digit of `priority` ("1 - Critical" ... "4 - Low") -> contract severity 1-3.
DEFAULT_PRIORITY_MAP: dict[int, int] = {1: 1, 2: 2, 3: 3, 4: 3}

# The account that creates half the records at their opening instant and performs every
# automatic close five days after resolution; its updates are the system's, not a person's.
DEFAULT_SYSTEM_USERS: tuple[str, ...] = ("Updated by 908",)

CHANNELS: dict[str, str] = {
    "Phone": "phone",
    "Email": "email",
    "Self service": "web",
    "IVR": "ivr",
    "Direct opening": "direct",
}

# Columns the mapping needs; the account column (default caller_id) is required too.
REQUIRED = (
    "number", "incident_state", "sys_mod_count", "caller_id", "opened_at",
    "sys_updated_by", "sys_updated_at", "priority", "closed_at",
)
# Optional columns, used when present: contact_type (channel, opening row), category and
# assigned_to (product_area and owner as they ended), and these final values kept as extras.
CASE_EXTRAS = (
    "reassignment_count", "reopen_count", "made_sla", "assignment_group", "closed_code", "problem_id", "rfc",
)  # and resolved_at, as ISO UTC

# A calendar for the log's likely home (the creators are at the University of São Paulo),
# written into config.toml only when `--region brazil` is chosen.
BRAZIL_CALENDAR: dict[str, Any] = {
    "timezone": "America/Sao_Paulo",
    "hours": {day: "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "BR", "add": [], "remove": []},
}
EXTRA_CALENDARS = {"brazil": BRAZIL_CALENDAR}


def import_servicenow(
    file: Path,
    out: Path,
    *,
    source_timezone: str | None = None,
    package: str = "Gold",
    region: str = "americas",
    account_column: str = "caller_id",
    priority_map: Mapping[int, int] | None = None,
    system_users: Sequence[str] = DEFAULT_SYSTEM_USERS,
) -> ImportReport:
    """Read the incident event log at `file` (.csv or .csv.gz) and write a dataset folder at `out`.

    `source_timezone` reads the naive wall times; None means the timezone of the `region`
    calendar, so an update at 09:00 in the log is 09:00 on the business calendar its
    clock runs on (the anonymised log names no place). Raises LoadError on an unreadable
    file, a missing column or an option the configuration cannot honour.
    """
    file, out = Path(file), Path(out)
    calendar_tz = _check_options(package, region)
    tz = source_timezone or calendar_tz
    _check_timezone(tz)
    pmap = _check_priority_map(priority_map)
    report = ImportReport(source=file.name)

    rows = read_log(file, account_column)
    report.rows_read = len(rows)
    rows = _parse(rows, tz, account_column, pmap)
    incidents, rows = _opening_fields(rows, account_column, report)
    if incidents.empty:
        reasons = "; ".join(f"{reason}: {n}" for reason, n in sorted(report.skipped.items())) or "the file has no rows"
        raise LoadError(f"{file.name}: no incident could be imported ({reasons})")
    timeline = _drop_bad_rows(rows, incidents, report)  # in sys_mod_count order, times non-decreasing

    cases = _cases(incidents, timeline)
    changes = _changes(timeline, incidents)
    responses = _responses(timeline, incidents, system_users)
    accounts, subscriptions = _accounts(cases, timeline, region, package, calendar_tz)

    config: dict[str, Any] = {
        "source": {"timezone": tz},
        "reporting": {"timezone": calendar_tz},
        "importer": {
            "name": "servicenow",
            "file": file.name,
            "package": package,
            "region": region,
            "account_column": account_column,
            "priority_map": {str(k): v for k, v in sorted(pmap.items())},
            "system_users": list(system_users),
            "pending_customer_states": sorted(s for s, v in STATE_MAP.items() if v == "pending_customer"),
            "closed_states": sorted(s for s, v in STATE_MAP.items() if v == "closed"),
        },
    }
    if region in EXTRA_CALENDARS:
        config["calendars"] = {region: EXTRA_CALENDARS[region]}
    tables = {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "cases": _as_text(cases, ("opened_at", "closed_at", "resolved_at")),
        "responses": _as_text(responses, ("at",)),
        "case_changes": _as_text(changes, ("at",)),
    }
    write_dataset(out, tables, config, report)
    return report


# ---------------------------------------------------------------- options


def _check_options(package: str, region: str) -> str:
    """The package and region must exist in the configuration the dataset will load with."""
    config = load_config()
    calendars = {name: spec.timezone for name, spec in config.calendars.items()}
    calendars.update({name: spec["timezone"] for name, spec in EXTRA_CALENDARS.items()})
    if package not in config.packages:
        raise LoadError(f"--package: unknown package {package!r}, expected one of {', '.join(config.packages)}")
    if region not in calendars:
        raise LoadError(f"--region: unknown calendar {region!r}, expected one of {', '.join(calendars)}")
    return calendars[region]


def _check_timezone(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise LoadError(f"--timezone: expected an IANA timezone such as 'America/Sao_Paulo', got {tz!r}") from None


def _check_priority_map(priority_map: Mapping[int, int] | None) -> dict[int, int]:
    pmap = dict(DEFAULT_PRIORITY_MAP if priority_map is None else priority_map)
    bad = {k: v for k, v in pmap.items() if v not in (1, 2, 3)}
    if bad:
        raise LoadError(f"--priority-map: severities are 1, 2 or 3, got {bad}")
    return pmap


def parse_priority_map(text: str) -> dict[int, int]:
    """'1=1,2=2,3=3,4=3' -> {1: 1, 2: 2, 3: 3, 4: 3} (priority digit = severity)."""
    pmap: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"(\d+)\s*=\s*(\d+)", part)
        if not m:
            raise LoadError(f"--priority-map: expected PRIORITY=SEVERITY pairs such as 1=1,2=2,3=3,4=3, got {part!r}")
        pmap[int(m[1])] = int(m[2])
    return _check_priority_map(pmap)


# ---------------------------------------------------------------- reading


def read_log(file: Path, account_column: str = "caller_id") -> pd.DataFrame:
    """The log as text columns (`?` kept), or a LoadError naming the file and what is wrong."""
    if not file.is_file():
        raise LoadError(f"{file}: no such file (expected the incident event log as .csv or .csv.gz)")
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_filter=False, compression="infer")
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        detail = " ".join(str(exc).split())
        raise LoadError(f"{file.name}: not a readable CSV or gzipped CSV ({detail})") from None
    for column in (*REQUIRED, account_column):
        if column not in frame.columns:
            raise LoadError(
                f"{file.name}, column {column}: missing; expected the incident event log's header "
                f"({', '.join(REQUIRED)}, ...)"
            )
    return frame


def localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive wall times -> UTC, with the project's rule at DST edges (Python's fold=0).

    A time inside a spring-forward gap moves forward by the gap (02:36 on 2016-03-13 in
    Denver is 03:36 MDT); an ambiguous fall-back time takes its first occurrence.
    """
    aware = naive.dt.tz_localize(tz, nonexistent="NaT", ambiguous="NaT").dt.tz_convert("UTC")
    odd = aware.isna() & naive.notna()
    if odd.any():  # a handful of rows a year: per-row Python is fine
        zone = ZoneInfo(tz)
        fixed = [
            pd.Timestamp(t.to_pydatetime().replace(tzinfo=zone, fold=0).astimezone(dt.UTC)) for t in naive[odd]
        ]
        aware[odd] = pd.Series(fixed, index=naive.index[odd], dtype=aware.dtype)
    return aware


def _parse_times(text: pd.Series, tz: str) -> pd.Series:
    return localize(pd.to_datetime(text.where(text != MISSING), format=TIME_FORMAT, errors="coerce"), tz)


def _known(text: pd.Series) -> pd.Series:
    """Text with `?` and empty values as missing, so groupby `first` skips them."""
    return text.str.strip().where(lambda s: (s != MISSING) & (s != ""))


def _channel(contact_type: str) -> str:
    """'Self service' -> 'web'; a value the map lacks -> lower-case words joined by '_'."""
    return CHANNELS.get(contact_type, contact_type.lower().replace(" ", "_"))


def _parse(rows: pd.DataFrame, tz: str, account_column: str, pmap: Mapping[int, int]) -> pd.DataFrame:
    """Typed working columns beside the source text; `line` is the row's line in the file."""
    digit = pd.to_numeric(rows["priority"].str.extract(r"^\s*(\d+)", expand=False), errors="coerce")
    if "resolved_at" in rows.columns:
        rows = rows.assign(resolved=_parse_times(rows["resolved_at"], tz))
    if "contact_type" in rows.columns:
        channel = _known(rows["contact_type"])
        rows = rows.assign(channel=channel.map(_channel, na_action="ignore"))
    return rows.assign(
        line=np.arange(2, len(rows) + 2),
        mod=pd.to_numeric(rows["sys_mod_count"], errors="coerce"),
        at=_parse_times(rows["sys_updated_at"], tz),
        opened=_parse_times(rows["opened_at"], tz),
        closed=_parse_times(rows["closed_at"], tz),
        account=_known(rows[account_column]),
        caller=_known(rows["caller_id"]),
        actor=_known(rows["sys_updated_by"]),
        severity=digit.map(pmap).astype("Int64"),
        status=rows["incident_state"].str.strip().map(STATE_MAP),
    )


# ---------------------------------------------------------------- incidents and rows


def _opening_fields(
    rows: pd.DataFrame, account_column: str, report: ImportReport
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per incident from its opening row (lowest sys_mod_count), or skip the incident.

    A value that is `?` on the opening row is taken from the first later row that knows it;
    an incident with no account, no readable opened_at or no known priority on any row
    cannot be a case, and all its rows are skipped.
    """
    number = _known(rows["number"])
    no_number = number.isna()
    if no_number.any():
        report.skipped["number is ?: the row belongs to no incident"] += int(no_number.sum())
    rows = rows[~no_number].assign(number=number[~no_number])
    rows = rows.sort_values(["number", "mod", "at", "line"], kind="stable", na_position="last")
    grouped = rows.groupby("number", sort=False)
    incidents = grouped[[c for c in ("account", "opened", "severity", "caller", "channel") if c in rows]].first()
    incidents["rows"] = grouped.size()
    incidents["opening_line"] = grouped["line"].first()
    dropped = pd.Series(False, index=incidents.index)
    for reason, bad in (
        (f"{account_column} is ? on every row of the incident", incidents["account"].isna()),
        ("opened_at is ? or not d/m/yyyy HH:MM on every row of the incident", incidents["opened"].isna()),
        ("priority is ? or unmapped on every row of the incident", incidents["severity"].isna()),
    ):
        bad = bad & ~dropped
        if bad.any():
            report.skipped[f"{reason} ({int(bad.sum())} incidents)"] += int(incidents.loc[bad, "rows"].sum())
            dropped |= bad
    incidents = incidents[~dropped]
    rows = rows[rows["number"].isin(incidents.index)]
    return incidents, rows


def _drop_bad_rows(rows: pd.DataFrame, incidents: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    """Rows that cannot be placed on the incident's timeline or carry no real state are skipped.

    The rows stay in sys_mod_count order (ties by time), the audit's own order. A row whose
    time is later than that of a row with a higher sys_mod_count contradicts it (a repeated
    sys_mod_count on the first day of the log: New at 11:10 after Resolved at 11:03 with
    reopen_count 0) and is skipped too, so the order by instant the SLA engine rebuilds is
    the audit's order.
    """
    state = rows["incident_state"].str.strip()
    opened = rows["number"].map(incidents["opened"])
    rules = (
        ("incident_state -100 (junk value, not a ServiceNow state)", state.isin(JUNK_STATES)),
        ("incident_state is ? or not a known state", rows["status"].isna() & ~state.isin(JUNK_STATES)),
        ("sys_updated_at is ? or not d/m/yyyy HH:MM", rows["at"].isna()),
        ("sys_mod_count is ? or not a number", rows["mod"].isna()),
        ("sys_updated_at is before the incident's opened_at", rows["at"] < opened),
    )
    drop = pd.Series(False, index=rows.index)
    for reason, bad in rules:
        bad = bad.fillna(False) & ~drop
        if bad.any():
            report.skipped[reason] += int(bad.sum())
            drop |= bad
    rows = rows[~drop]
    later = rows.iloc[::-1].groupby("number", sort=False)["at"].cummin().iloc[::-1]  # min time from here on
    next_min = later.groupby(rows["number"], sort=False).shift(-1)
    stale = (rows["at"] > next_min).fillna(False)
    if stale.any():
        report.skipped["sys_updated_at is after that of a later sys_mod_count (out of audit order)"] += int(stale.sum())
    return rows[~stale]


def _cases(incidents: pd.DataFrame, timeline: pd.DataFrame) -> pd.DataFrame:
    """The case log: opening fields, owner and category as they ended, final counters as extras."""
    index = incidents.index
    grouped = timeline.groupby("number", sort=False)
    last = grouped.tail(1).set_index("number").reindex(index)  # highest
    final_state = last["incident_state"].str.strip()
    # closed_at only when the incident ended Closed (every incident of the UCI file does)
    closed = last["closed"].where((final_state == "Closed") & (last["closed"] >= incidents["opened"]))
    cases = pd.DataFrame(
        {
            "account_id": incidents["account"],
            "opened_at": incidents["opened"],
            "severity": incidents["severity"].astype(int),
            "contact_id": incidents["caller"].fillna(""),
            "closed_at": closed,
        },
        index=index,
    )
    if "channel" in incidents.columns:
        cases["channel"] = incidents["channel"]
    for source, target in (("category", "product_area"), ("assigned_to", "owner"), *((c, c) for c in CASE_EXTRAS)):
        if source in timeline.columns:
            cases[target] = _known(last[source])
    if "resolved" in timeline.columns:
        cases["resolved_at"] = last["resolved"]
    cases = cases.rename_axis("case_id").reset_index().sort_values("case_id", ignore_index=True)
    text = [c for c in cases.columns if cases[c].dtype == object or pd.api.types.is_string_dtype(cases[c])]
    return cases.fillna({c: "" for c in text})


def _changes(timeline: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Status and severity changes: the net value at each minute, where it differs from before.

    Several updates often share a minute (14,118 rows of the UCI file); only the last one's
    value holds after that minute, so New -> Active -> Awaiting User Info within 09:14 is one
    change to pending_customer. The status before the first update is `open` (from opened_at)
    and the severity is the opening one, so neither is repeated as a change.
    """
    frames = []
    for field, column, source, before in (
        ("status", "status", "incident_state", pd.Series("open", index=incidents.index)),
        ("severity", "severity", "priority", incidents["severity"]),
    ):
        values = timeline[["number", "at", column, source, "line"]]
        if field == "severity":  # a `?` priority keeps the one in force
            values = values.assign(severity=values.groupby("number", sort=False)["severity"].ffill())
            values = values[values["severity"].notna()]
        net = values.drop_duplicates(["number", "at"], keep="last")
        prior = net.groupby("number", sort=False)[column].shift()
        prior = prior.fillna(net["number"].map(before))
        moved = net[net[column].astype(str) != prior.astype(str)]
        frames.append(
            pd.DataFrame(
                {
                    "case_id": moved["number"],
                    "at": moved["at"],
                    "field": field,
                    "value": moved[column].astype(str),
                    "source_value": moved[source].str.strip(),
                    "source_line": moved["line"],
                }
            )
        )
    changes = pd.concat(frames, ignore_index=True)
    return changes.sort_values(["case_id", "at", "field"], ignore_index=True, kind="stable")


def _responses(timeline: pd.DataFrame, incidents: pd.DataFrame, system_users: Sequence[str]) -> pd.DataFrame:
    """One response per update made by a person, at most one per case, minute and author type.

    Excluded: the system account's updates (record creation, automatic close) and the bare
    logging of the record (the opening row while still New). An update by the caller would
    be a customer response, but the log's anonymisation gives callers and updaters separate
    numberings ("Caller 2403", "Updated by 21"), so none is identifiable in the UCI file.
    """
    opening = timeline["line"] == timeline["number"].map(incidents["opening_line"])
    logging_only = opening & (timeline["incident_state"].str.strip() == "New")
    person = timeline["actor"].notna() & ~timeline["actor"].isin(list(system_users))
    picked = timeline[person & ~logging_only]
    author_type = np.where(picked["actor"] == picked["caller"], "customer", "agent")
    responses = pd.DataFrame(
        {
            "case_id": picked["number"],
            "at": picked["at"],
            "author_type": author_type,
            "author": picked["actor"],
            "incident_state": picked["incident_state"].str.strip(),
            "sys_mod_count": picked["mod"].astype("Int64"),
        }
    )
    responses = responses.drop_duplicates(["case_id", "at", "author_type"], keep="first")
    return responses.sort_values(["case_id", "at"], ignore_index=True, kind="stable")


def _accounts(
    cases: pd.DataFrame, timeline: pd.DataFrame, region: str, package: str, calendar_tz: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One account per distinct account value; one term covering every local date of the data."""
    ids = sorted(cases["account_id"].unique())
    accounts = pd.DataFrame({"account_id": ids, "name": ids, "region": region, "advisor": ""})
    if cases.empty:
        return accounts, pd.DataFrame(columns=["account_id", "package", "start_date", "end_date"])
    instants = pd.concat([cases["opened_at"], cases["closed_at"].dropna(), timeline["at"]])
    local = instants.dt.tz_convert(calendar_tz)
    start, end = local.min().date().isoformat(), local.max().date().isoformat()
    subscriptions = pd.DataFrame({"account_id": ids, "package": package, "start_date": start, "end_date": end})
    return accounts, subscriptions


def _as_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Timestamp columns as ISO UTC text with `Z` (empty where missing)."""
    return frame.assign(**{c: iso_utc(frame[c]) for c in columns if c in frame.columns})


# ---------------------------------------------------------------- command


@click.command(name="servicenow")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Dataset folder to write.")
@click.option(
    "--timezone",
    "source_timezone",
    default=None,
    help="IANA timezone of the log's naive times. [default: the --region calendar's timezone]",
)
@click.option("--package", default="Gold", show_default=True, help="Package every account holds.")
@click.option(
    "--region", default="americas", show_default=True,
    help="Calendar of every account (americas, emea, japan, or brazil, which the import defines).",
)
@click.option("--account-column", default="caller_id", show_default=True, help="Source column naming the account.")
@click.option(
    "--priority-map", default="1=1,2=2,3=3,4=3", show_default=True, help="Priority digit = severity pairs."
)
@click.option(
    "--system-user", "system_users", multiple=True, default=DEFAULT_SYSTEM_USERS, show_default=True,
    help="sys_updated_by value of an automation account whose updates are not responses (repeatable).",
)
def command(
    file: Path,
    out: Path,
    source_timezone: str | None,
    package: str,
    region: str,
    account_column: str,
    priority_map: str,
    system_users: tuple[str, ...],
) -> None:
    """Import the ServiceNow incident event log (UCI dataset 498) FILE (.csv or .csv.gz) into --out.

    One case per incident, status changes from incident_state, severity changes from
    priority, an agent response per update made by a person. Then run `python -m metrics
    ingest OUT`. See docs/imports/servicenow.md for every mapping decision.
    """
    started = time.perf_counter()
    report = import_servicenow(
        file, out,
        source_timezone=source_timezone, package=package, region=region, account_column=account_column,
        priority_map=parse_priority_map(priority_map), system_users=system_users,
    )
    click.echo(report.summary())
    click.echo(f"Took {time.perf_counter() - started:.1f} s")
    click.echo(next_steps(out))
