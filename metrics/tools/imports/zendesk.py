"""Import a Zendesk Support export (the API's JSON or a warehouse sync's tables) as a dataset.

Organizations become accounts, tickets cases (severity from priority), public comments
responses (an agent's or admin's reply is an agent response, an end user's a customer
message), private comments internal notes, status and priority history case changes, and
Zendesk schedules calendars. Every choice the export cannot make is an option recorded in
the config.toml written beside the tables; docs/imports/zendesk.md explains each one.

    python -m metrics import zendesk exports/zendesk --out data/imports/zendesk
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import numpy as np
import pandas as pd

from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.tools.imports._zendesk_sources import SOURCE_KINDS, ZendeskSource, detect_kind, read_source
from metrics.tools.imports.common import ImportReport, iso_utc, next_steps, parse_pairs, write_dataset

DEFAULT_PACKAGE = "Gold"
DEFAULT_REGION = "americas"  # when the export has no schedule and --region is not given
# Zendesk priority -> severity; `none` is a ticket without a priority.
DEFAULT_SEVERITY_MAP: dict[str, int] = {"urgent": 1, "high": 2, "normal": 3, "low": 3, "none": 3}
# Zendesk status -> contract status. Only pending waits on the requester; on-hold waits on a
# third party, which is the support side's wait, so its clock runs. Solved stops the clocks.
DEFAULT_STATUS_MAP: dict[str, str] = {
    "new": "open",
    "open": "open",
    "hold": "open",
    "pending": "pending_customer",
    "solved": "closed",
    "closed": "closed",
}
CONTRACT_STATUSES = ("open", "pending_customer", "closed")
AGENT_ROLES = ("agent", "admin")
CUSTOMER_ROLES = ("end-user",)
SYSTEM_USER = "-1"  # Zendesk's author id for what the system itself writes
NO_ORGANIZATION = "unassigned"
MISSING_ORGANIZATION_CHOICES = ("skip", "unassigned")
UNKNOWN_AUTHOR_CHOICES = ("skip", "agent", "customer")
MERGED_CHOICES = ("skip", "keep")
WEEKDAYS_FROM_SUNDAY = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
TIME_ZONES: dict[str, str] = json.loads(Path(__file__).with_name("zendesk_time_zones.json").read_text())
# via.channel -> cases.channel; other channels are kept as Zendesk names them.
CHANNELS = {
    "email": "email", "mail": "email", "web": "web", "web_form": "web", "web_widget": "web",
    "mobile": "web", "mobile_sdk": "web", "help_center": "web", "voice": "phone", "phone": "phone",
    "chat": "chat", "native_messaging": "chat", "messaging": "chat", "api": "api",
}  # fmt: skip

SKIP_REPEATED = "ticket repeated in the export (its last version kept)"
SKIP_NO_ID = "ticket without an id"
SKIP_NO_CREATED = "ticket whose created_at is missing or unreadable"
SKIP_DELETED = "ticket deleted in Zendesk (status deleted: spam or removed)"
SKIP_MERGED = "ticket closed by merge into another (tag closed_by_merge or a merge audit): a duplicate"
SKIP_NO_ORG = "ticket without an organization (organization_id empty)"
SKIP_EVENT_OF_SKIPPED = "comment or change of a skipped ticket"
SKIP_EVENT_UNKNOWN = "comment or change of a ticket not in the ticket export"
SKIP_OTHER_EVENTS = "audit events and field history of other kinds (tags, assignee, notifications, ...)"
SKIP_CHANGE_TIME = "status or priority change with a missing or unreadable time"
SKIP_CHANGE_EARLY = "status or priority change before the ticket's created_at"
SKIP_STATUS_UNMAPPED = "status change to a value not in --status-map (a custom status?)"
SKIP_PRIORITY_UNMAPPED = "priority change to a value not in --severity-map"
SKIP_COMMENT_TIME = "comment with a missing or unreadable created time"
SKIP_COMMENT_EARLY = "comment before the ticket's created_at"
SKIP_COMMENT_REPEATED = "comment repeated (the same comment id twice, e.g. in audits and ticket events)"
SKIP_SYSTEM = "comment by the Zendesk system user (-1), not a person"
SKIP_UNKNOWN_AUTHOR = (
    "comment by a user missing from the users export or without a role (deleted?), "
    "not the requester: who wrote it is unknown"
)
SKIP_AGENT_DESCRIPTION = "the ticket's description written by an agent (logged for the requester): not a reply"
SKIP_SCHEDULE_TZ = "schedule whose time_zone is neither a Zendesk nor an IANA time zone"
SKIP_SCHEDULE_EMPTY = "schedule without readable intervals (no working time)"
SKIP_HOLIDAY = "schedule holiday with an unreadable start_date or end_date"


@dataclass
class ZendeskReport(ImportReport):
    """The import report, plus the records read per file and notes on choices made for rows."""

    files: dict[str, int] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        head, *rest = super().summary().splitlines()
        lines = [head, *(f"  from {name}: {n:,} records" for name, n in self.files.items()), *rest]
        if self.notes:
            lines.append("Notes:")
            lines += [f"  {note}: {n:,}" for note, n in sorted(self.notes.items())]
        return "\n".join(lines)


def _skip(report: ImportReport, reason: str, rows: int) -> None:
    if rows:
        report.skipped[reason] += int(rows)


def import_zendesk(
    source: Path,
    out: Path,
    *,
    source_kind: str | None = None,
    source_timezone: str = "UTC",
    package: str = DEFAULT_PACKAGE,
    package_field: str | None = None,
    region: str | None = None,
    severity_map: Mapping[str, int] | None = None,
    status_map: Mapping[str, str] | None = None,
    missing_organization: str = "skip",
    unknown_author: str = "skip",
    merged: str = "skip",
) -> ZendeskReport:
    """Read the Zendesk export in the folder `source` and write a dataset folder at `out`.

    Raises LoadError (nothing written) for a folder holding neither source, an unreadable
    file, a malformed JSON line, a missing column, or an option the configuration cannot
    honour.
    """
    source, out = Path(source), Path(out)
    config = load_config()
    sev_map, stat_map = _check_options(
        config.packages, source_kind, source_timezone, package, severity_map, status_map,
        missing_organization, unknown_author, merged,
    )
    kind = source_kind or detect_kind(source)
    src = read_source(source, kind, source_timezone)
    report = ZendeskReport(source=f"Zendesk {kind} export {source.name}", files=dict(src.files))
    report.rows_read = sum(src.files.values())
    _skip(report, SKIP_OTHER_EVENTS, src.other_events)

    calendars, schedule_names = _calendars(src, report)
    known = {name: spec.timezone for name, spec in config.calendars.items()}
    known.update({name: spec["timezone"] for name, spec in calendars.items()})
    if region is not None and region not in known:
        raise LoadError(f"--region: unknown calendar {region!r}, expected one of {', '.join(known)}")

    tickets = _select_tickets(src, report, missing_organization, merged)
    if tickets.empty:
        reasons = "; ".join(f"{r}: {n}" for r, n in sorted(report.skipped.items())) or "the export has no tickets"
        raise LoadError(f"{source.name}: no ticket could be imported ({reasons})")
    kept = set(tickets["ticket_id"])
    skipped_ids = set(src.tickets["ticket_id"]) - kept
    changes = _events_of(src.changes, kept, skipped_ids, report)
    comments = _events_of(src.comments, kept, skipped_ids, report)

    cases, case_changes = _cases_and_changes(tickets, changes, sev_map, stat_map, report)
    responses = _responses(comments, tickets, src.users, unknown_author, report)
    cases["owner"] = _user_names(cases["owner"], src.users)
    accounts, packages = _accounts(
        cases, src, region, schedule_names, calendars, package, package_field, config, report
    )
    instants = [cases["opened_at"], cases["closed_at"], responses["at"], case_changes["at"]]
    subscriptions = _subscriptions(accounts, packages, known, instants)
    reporting_tz = known[accounts["region"].value_counts().index[0]]

    settings: dict[str, Any] = {
        "source": {"timezone": source_timezone},
        "reporting": {"timezone": reporting_tz},
        "importer": {
            "name": "zendesk",
            "source_kind": kind,
            "source": source.name,  # the folder's name only: a server path stays private
            "files": sorted(src.files),
            "package": package,
            "package_field": package_field or "",
            "region": region or "",
            "severity_map": dict(sev_map),
            "status_map": dict(stat_map),
            "agent_roles": list(AGENT_ROLES),
            "customer_roles": list(CUSTOMER_ROLES),
            "missing_organization": missing_organization,
            "unknown_author": unknown_author,
            "merged": merged,
            "schedules": {name: schedule_id for schedule_id, name in schedule_names.items()},
        },
    }
    if calendars:
        settings["calendars"] = calendars
    tables = {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "cases": cases.assign(opened_at=iso_utc(cases["opened_at"]), closed_at=iso_utc(cases["closed_at"])),
        "responses": responses.assign(at=iso_utc(responses["at"])),
        "case_changes": case_changes.assign(at=iso_utc(case_changes["at"])),
    }
    write_dataset(out, tables, settings, report)
    return report


# ---------------------------------------------------------------- options


def _check_options(
    packages: Mapping[str, Any],
    source_kind: str | None,
    source_timezone: str,
    package: str,
    severity_map: Mapping[str, int] | None,
    status_map: Mapping[str, str] | None,
    missing_organization: str,
    unknown_author: str,
    merged: str,
) -> tuple[dict[str, int], dict[str, str]]:
    """Fail before reading anything when an option cannot work; the maps merged over the defaults."""
    if source_kind is not None and source_kind not in SOURCE_KINDS:
        raise LoadError(f"--source-kind: expected api or warehouse, got {source_kind!r}")
    try:
        ZoneInfo(source_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise LoadError(
            f"--source-timezone: expected an IANA timezone such as 'America/New_York', got {source_timezone!r}"
        ) from None
    if package not in packages:
        raise LoadError(f"--package: unknown package {package!r}, expected one of {', '.join(packages)}")
    for option, value, choices in (
        ("--missing-organization", missing_organization, MISSING_ORGANIZATION_CHOICES),
        ("--unknown-author", unknown_author, UNKNOWN_AUTHOR_CHOICES),
        ("--merged", merged, MERGED_CHOICES),
    ):
        if value not in choices:
            raise LoadError(f"{option}: expected one of {', '.join(choices)}, got {value!r}")
    sev = {**DEFAULT_SEVERITY_MAP, **{k.lower(): v for k, v in (severity_map or {}).items()}}
    bad_sev = {k: v for k, v in sev.items() if v not in (1, 2, 3)}
    if bad_sev:
        raise LoadError(f"--severity-map: severities are 1, 2 or 3, got {bad_sev}")
    stat = {**DEFAULT_STATUS_MAP, **{k.lower(): v for k, v in (status_map or {}).items()}}
    bad_stat = {k: v for k, v in stat.items() if v not in CONTRACT_STATUSES}
    if bad_stat:
        raise LoadError(f"--status-map: statuses map to open, pending_customer or closed, got {bad_stat}")
    return sev, stat


def _parse_pairs(text: str, option: str, example: str) -> dict[str, str]:
    """parse_pairs with Zendesk's lower-case names (priorities and statuses are API values)."""
    return {name.lower(): value for name, value in parse_pairs(text, option, example).items()}


def parse_severity_map(text: str) -> dict[str, int]:
    """'urgent=1,high=2' -> {'urgent': 1, 'high': 2} (pairs not given keep their defaults)."""
    pairs = _parse_pairs(text, "--severity-map", "urgent=1,high=2,normal=3,low=3,none=3")
    bad = [v for v in pairs.values() if v not in ("1", "2", "3")]
    if bad:
        raise LoadError(f"--severity-map: severities are 1, 2 or 3, got {bad[0]!r}")
    return {k: int(v) for k, v in pairs.items()}


def parse_status_map(text: str) -> dict[str, str]:
    """'hold=pending_customer' -> {'hold': 'pending_customer'} (pairs not given keep their defaults)."""
    return _parse_pairs(text, "--status-map", "pending=pending_customer,hold=open")


# ---------------------------------------------------------------- calendars from schedules


def _calendar_name(name: str, schedule_id: str, taken: set[str]) -> str:
    """'Support Hours (EMEA)' -> 'support-hours-emea'; a name already taken gets the schedule id."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or f"schedule-{schedule_id}"
    if slug in taken or slug in ("24x7", "business"):
        slug = f"{slug}-{schedule_id}"
    return slug


def _minutes(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def _calendars(src: ZendeskSource, report: ImportReport) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Each Zendesk schedule as a calendar of config.toml; also schedule id -> calendar name.

    Intervals count minutes from Sunday 00:00 in the schedule's time zone (Mon 09:00-17:00 is
    1980-2460); holidays are whole days, their dates added to the calendar with no country rules.
    """
    calendars: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    taken = set(load_config().calendars)
    schedules = src.schedules
    for schedule_id, rows in schedules.groupby("schedule_id", sort=False):
        zone = str(rows["time_zone"].iloc[0])
        iana = TIME_ZONES.get(zone, zone)
        try:
            ZoneInfo(iana)
        except (ZoneInfoNotFoundError, ValueError):
            _skip(report, SKIP_SCHEDULE_TZ, len(rows))
            continue
        days: dict[str, list[tuple[int, int]]] = {}
        starts = pd.to_numeric(rows["start_minute"], errors="coerce")
        ends = pd.to_numeric(rows["end_minute"], errors="coerce")
        for first, last in zip(starts, ends, strict=True):
            if pd.isna(first) or pd.isna(last) or not 0 <= first < last <= 7 * 1440:
                continue
            start, end = int(first), int(last)
            while start < end:  # Zendesk intervals never span days; split one that would
                day = start // 1440
                stop = min(end, (day + 1) * 1440)
                days.setdefault(WEEKDAYS_FROM_SUNDAY[day % 7], []).append((start - day * 1440, stop - day * 1440))
                start = stop
        if not days:
            _skip(report, SKIP_SCHEDULE_EMPTY, len(rows))
            continue
        hours = {}
        for weekday in WEEKDAYS_FROM_SUNDAY[1:] + WEEKDAYS_FROM_SUNDAY[:1]:
            merged: list[list[int]] = []
            for a, b in sorted(days.get(weekday, [])):
                if merged and a <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            if merged:
                hours[weekday] = ",".join(f"{_minutes(a)}-{_minutes(b)}" for a, b in merged)
        name = _calendar_name(str(rows["name"].iloc[0]), str(schedule_id), taken)
        taken.add(name)
        names[str(schedule_id)] = name
        calendars[name] = {
            "timezone": iana,
            "hours": hours,
            "holidays": {"country": "", "add": _holiday_dates(src.holidays, str(schedule_id), report), "remove": []},
        }
    return calendars, names


def _holiday_dates(holidays: pd.DataFrame, schedule_id: str, report: ImportReport) -> list[str]:
    """Every date from start_date to end_date (inclusive) of the schedule's holidays."""
    dates: set[str] = set()
    for row in holidays[holidays["schedule_id"] == schedule_id].itertuples(index=False):
        start = pd.to_datetime(row.start_date, format="%Y-%m-%d", errors="coerce")
        end = pd.to_datetime(row.end_date or row.start_date, format="%Y-%m-%d", errors="coerce")
        if pd.isna(start) or pd.isna(end) or end < start:
            _skip(report, SKIP_HOLIDAY, 1)
            continue
        dates.update(d.date().isoformat() for d in pd.date_range(start, end, freq="D"))
    return sorted(dates)


# ---------------------------------------------------------------- tickets


def _select_tickets(src: ZendeskSource, report: ImportReport, missing_organization: str, merged: str) -> pd.DataFrame:
    """The tickets that become cases; every other one is counted under its reason."""
    tickets = src.tickets.sort_values("line", kind="stable")
    rules = [
        (SKIP_NO_ID, tickets["ticket_id"] == ""),
        (SKIP_REPEATED, tickets["ticket_id"].duplicated(keep="last") & (tickets["ticket_id"] != "")),
        (SKIP_NO_CREATED, tickets["created_at"].isna()),
        (SKIP_DELETED, tickets["deleted"].astype(bool)),
    ]
    if merged == "skip":
        rules.append((SKIP_MERGED, tickets["merged"].astype(bool)))
    if missing_organization == "skip":
        rules.append((SKIP_NO_ORG, tickets["organization_id"] == ""))
    drop = pd.Series(False, index=tickets.index)
    for reason, bad in rules:
        bad = bad & ~drop
        _skip(report, reason, int(bad.sum()))
        drop |= bad
    kept = tickets[~drop].copy()
    kept["account_id"] = kept["organization_id"].where(kept["organization_id"] != "", NO_ORGANIZATION)
    return kept.reset_index(drop=True)


def _events_of(events: pd.DataFrame, kept: set[str], skipped: set[str], report: ImportReport) -> pd.DataFrame:
    """Comments or changes of imported tickets; those of skipped or unknown tickets are counted."""
    of_kept = events["ticket_id"].isin(kept)
    of_skipped = events["ticket_id"].isin(skipped)
    _skip(report, SKIP_EVENT_OF_SKIPPED, int(of_skipped.sum()))
    _skip(report, SKIP_EVENT_UNKNOWN, int((~of_kept & ~of_skipped).sum()))
    return events[of_kept].reset_index(drop=True).assign(order=lambda f: np.arange(len(f)))


def _cases_and_changes(
    tickets: pd.DataFrame,
    changes: pd.DataFrame,
    sev_map: Mapping[str, int],
    stat_map: Mapping[str, str],
    report: ZendeskReport,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases with the severity submitted, and status and severity changes after it.

    The history holds each value set at creation (Create events, or the history row stamped
    at created_at) and each later change. The submitted priority is the one set at creation;
    a ticket with no priority history at all keeps its current priority. Several changes at
    one instant net to the last; a change that leaves the mapped value as it was is dropped.
    """
    created = changes["ticket_id"].map(tickets.set_index("ticket_id")["created_at"])
    bad_time = changes["at"].isna()
    early = ~bad_time & (changes["at"] < created)
    _skip(report, SKIP_CHANGE_TIME, int(bad_time.sum()))
    _skip(report, SKIP_CHANGE_EARLY, int(early.sum()))
    changes = changes[~bad_time & ~early].sort_values(["ticket_id", "at", "order"], kind="stable")
    at_creation = changes["at"] == changes["ticket_id"].map(tickets.set_index("ticket_id")["created_at"])

    priority = changes[changes["field"] == "priority"]
    submitted = priority[at_creation.loc[priority.index]].groupby("ticket_id")["value"].last()
    with_history = set(priority["ticket_id"])
    opening = tickets["ticket_id"].map(submitted)
    no_history = ~tickets["ticket_id"].isin(with_history)
    opening = opening.where(~no_history, tickets["priority"]).fillna("")
    unknown = ~opening.isin([*sev_map, ""])
    if unknown.any():
        report.notes["ticket whose priority is not in --severity-map (read as no priority)"] += int(unknown.sum())
    severity = opening.where(~unknown, "").replace("", "none").map(sev_map).astype(int)

    rows = []
    for field_name, mapping, start in (
        ("status", dict(stat_map), pd.Series("open", index=tickets["ticket_id"])),
        ("severity", {k: str(v) for k, v in sev_map.items() if k != "none"}, pd.Series(
            severity.astype(str).to_numpy(), index=tickets["ticket_id"])),
    ):
        source = changes[changes["field"] == ("status" if field_name == "status" else "priority")]
        values = source["value"].replace("", "none") if field_name == "severity" else source["value"]
        if field_name == "severity":
            mapping = {**mapping, "none": str(sev_map["none"])}
        mapped = values.map(mapping)
        unmapped = mapped.isna()
        _skip(report, SKIP_STATUS_UNMAPPED if field_name == "status" else SKIP_PRIORITY_UNMAPPED,
              int(unmapped.sum()))
        net = source[~unmapped].assign(mapped=mapped[~unmapped]).drop_duplicates(["ticket_id", "at"], keep="last")
        before = net.groupby("ticket_id", sort=False)["mapped"].shift()
        before = before.fillna(net["ticket_id"].map(start))
        moved = net[net["mapped"] != before]
        rows.append(
            pd.DataFrame(
                {
                    "case_id": moved["ticket_id"],
                    "at": moved["at"],
                    "field": field_name,
                    "value": moved["mapped"],
                    "source_value": moved["value"],
                    "author_id": moved["author_id"],
                }
            )
        )
    case_changes = pd.concat(rows, ignore_index=True).sort_values(["case_id", "at", "field"], kind="stable")

    # Solved or closed with no recorded status change: the ticket object's last update is the
    # only close time the export gives.
    closed_states = [s for s, v in stat_map.items() if v == "closed"]
    closes = set(case_changes.loc[(case_changes["field"] == "status") & (case_changes["value"] == "closed"), "case_id"])
    unrecorded = tickets["status"].isin(closed_states) & ~tickets["ticket_id"].isin(closes)
    closed_at = tickets["updated_at"].where(unrecorded & (tickets["updated_at"] >= tickets["created_at"]))
    if unrecorded.any():
        report.notes["ticket solved or closed without a recorded status change (closed at its updated_at)"] += int(
            unrecorded.sum()
        )
    cases = pd.DataFrame(
        {
            "case_id": tickets["ticket_id"],
            "account_id": tickets["account_id"],
            "opened_at": tickets["created_at"],
            "severity": severity,
            "contact_id": tickets["requester_id"],
            "channel": tickets["channel"].map(lambda c: CHANNELS.get(c, c)),
            "subject": tickets["subject"],
            "owner": tickets["assignee_id"],
            "closed_at": closed_at,
            "zendesk_status": tickets["status"],
            "zendesk_priority": tickets["priority"],
            "submitted_priority": opening,
            "type": tickets["type"],
            "group_id": tickets["group_id"],
            "tags": tickets["tags"],
        }
    )
    cases = cases.sort_values("case_id", key=_id_order, ignore_index=True)
    case_changes = case_changes.sort_values(["case_id", "at", "field"], key=_id_order, kind="stable")
    return cases, case_changes.reset_index(drop=True)


def _id_order(values: pd.Series) -> pd.Series:
    """Numeric ids in numeric order (9 before 10); other keys as they are."""
    if values.name in ("case_id", "account_id"):
        return values.str.zfill(20)
    return values


# ---------------------------------------------------------------- responses


def _responses(
    comments: pd.DataFrame, tickets: pd.DataFrame, users: pd.DataFrame, unknown_author: str, report: ZendeskReport
) -> pd.DataFrame:
    """Public comments as agent or customer responses, private ones as internal notes.

    Who wrote a comment comes from the author's role: agent or admin is the support side,
    end-user the customer. An author the users export lacks (or lists without a role) is
    the customer when it is the ticket's requester; otherwise --unknown-author decides.
    """
    by_ticket = tickets.set_index("ticket_id")
    created = comments["ticket_id"].map(by_ticket["created_at"])
    bad_time = comments["at"].isna()
    early = ~bad_time & (comments["at"] < created)
    repeated = comments.duplicated(["ticket_id", "comment_id"]) & (comments["comment_id"] != "")
    system = comments["author_id"] == SYSTEM_USER
    drop = pd.Series(False, index=comments.index)
    for reason, bad in (
        (SKIP_COMMENT_TIME, bad_time),
        (SKIP_COMMENT_EARLY, early),
        (SKIP_COMMENT_REPEATED, repeated),
        (SKIP_SYSTEM, system),
    ):
        bad = bad & ~drop
        _skip(report, reason, int(bad.sum()))
        drop |= bad
    comments = comments[~drop]

    role = comments["author_id"].map(users.set_index("user_id")["role"]).fillna("")
    requester = comments["ticket_id"].map(by_ticket["requester_id"])
    author_type = pd.Series(
        np.select(
            [role.isin(AGENT_ROLES), role.isin(CUSTOMER_ROLES), comments["author_id"] == requester],
            ["agent", "customer", "customer"],
            default="",
        ),
        index=comments.index,
    )
    unknown = author_type == ""
    if unknown_author == "skip":
        _skip(report, SKIP_UNKNOWN_AUTHOR, int(unknown.sum()))
    elif unknown.any():
        report.notes[f"comment by an unknown user read as {unknown_author} (--unknown-author)"] += int(unknown.sum())
        author_type[unknown] = unknown_author
    comments, author_type, role = comments[author_type != ""], author_type[author_type != ""], role[author_type != ""]

    # The ticket's first comment is its description: the requester's request, or a ticket an
    # agent logged for them (then it answers nothing and is no response).
    ordered = comments.sort_values(["ticket_id", "at", "order"], kind="stable")
    first = ordered.groupby("ticket_id").head(1).index
    description = comments.index.isin(first) & (comments["at"] == comments["ticket_id"].map(by_ticket["created_at"]))
    by_agent = description & (author_type == "agent")
    _skip(report, SKIP_AGENT_DESCRIPTION, int(by_agent.sum()))
    keep = ~by_agent
    comments, author_type, role = comments[keep], author_type[keep], role[keep]

    responses = pd.DataFrame(
        {
            "case_id": comments["ticket_id"],
            "at": comments["at"],
            "author_type": author_type,
            "response_id": comments["comment_id"],
            "author": _user_names(comments["author_id"], users),
            "public": comments["public"].map({True: "true", False: "false"}),
            "author_id": comments["author_id"],
            "author_role": role,
        }
    )
    return responses.sort_values(["case_id", "at", "response_id"], key=_id_order, kind="stable", ignore_index=True)


def _user_names(ids: pd.Series, users: pd.DataFrame) -> pd.Series:
    """A user's name where the users export has one, else the id itself (empty stays empty)."""
    names = users.set_index("user_id")["name"]
    names = names[names != ""]
    return ids.map(names).fillna(ids)


# ---------------------------------------------------------------- accounts and terms


def _accounts(
    cases: pd.DataFrame,
    src: ZendeskSource,
    region: str | None,
    schedule_names: Mapping[str, str],
    calendars: Mapping[str, Any],
    package: str,
    package_field: str | None,
    config: Any,
    report: ZendeskReport,
) -> tuple[pd.DataFrame, pd.Series]:
    """One account per organization with a ticket (name, calendar), and the package of each.

    The calendar is --region when given; else the schedule most of the account's tickets were
    last assigned (ticket_schedule); else the export's first schedule (Zendesk's default);
    else americas. The package is --package unless --package-field names it.
    """
    ids = cases["account_id"].drop_duplicates().sort_values(key=lambda s: s.str.zfill(20))
    orgs = src.organizations.set_index("organization_id")
    names = ids.map(orgs["name"]) if len(orgs) else pd.Series(np.nan, index=ids.index)
    unnamed = names.isna() | (names == "")
    unnamed_orgs = unnamed & (ids != NO_ORGANIZATION)
    if unnamed_orgs.any():
        report.notes["organization missing from the organizations export (named by its id)"] += int(
            unnamed_orgs.sum()
        )
    names = names.where(~unnamed, "Organization " + ids)
    names = names.where(ids != NO_ORGANIZATION, "(no organization)")

    default_calendar = region or (next(iter(calendars)) if calendars else DEFAULT_REGION)
    regions = pd.Series(default_calendar, index=ids.index)
    if region is None and len(src.ticket_schedules):
        assigned = src.ticket_schedules.dropna(subset=["at"]).sort_values("at", kind="stable")
        last = assigned.groupby("ticket_id")["schedule_id"].last().map(schedule_names).dropna()
        per_case = cases.assign(calendar=cases["case_id"].map(last)).dropna(subset=["calendar"])
        if len(per_case):
            usual = per_case.groupby("account_id")["calendar"].agg(lambda c: c.value_counts().index[0])
            regions = ids.map(usual).fillna(default_calendar)

    packages = pd.Series(package, index=ids.index)
    if package_field:
        by_name = {name.lower(): name for name in config.packages}
        chosen = ids.map(lambda org: _package_of(org, orgs, package_field, by_name))
        missing = chosen.isna() & (ids != NO_ORGANIZATION)
        if missing.any():
            report.notes[f"organization whose {package_field} names no package (--package {package} used)"] += int(
                missing.sum()
            )
        packages = chosen.fillna(package)
    accounts = pd.DataFrame({"account_id": ids, "name": names, "region": regions, "advisor": ""})
    return accounts.reset_index(drop=True), packages.reset_index(drop=True)


def _package_of(org: str, orgs: pd.DataFrame, package_field: str, by_name: Mapping[str, str]) -> str | None:
    """The package an organization's field (or, for `tags`, one of its tags) names, if any."""
    if org not in orgs.index:
        return None
    row = orgs.loc[org]
    values = list(row["tags"]) if package_field == "tags" else [row["fields"].get(package_field, "")]
    return next((by_name[v.strip().lower()] for v in values if v.strip().lower() in by_name), None)


def _subscriptions(
    accounts: pd.DataFrame, packages: pd.Series, zones: Mapping[str, str], instants: list[pd.Series]
) -> pd.DataFrame:
    """One term per account, from the first to the last local date of the data in its calendar."""
    every = pd.concat([s.dropna() for s in instants if len(s)])
    span = {}
    for calendar in accounts["region"].unique():
        local = every.dt.tz_convert(zones[calendar])
        span[calendar] = (local.min().date().isoformat(), local.max().date().isoformat())
    terms = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "package": packages,
            "start_date": accounts["region"].map(lambda c: span[c][0]),
            "end_date": accounts["region"].map(lambda c: span[c][1]),
        }
    )
    return terms


# ---------------------------------------------------------------- command


@click.command(name="zendesk")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Dataset folder to write.")
@click.option(
    "--source-kind", type=click.Choice(SOURCE_KINDS), default=None,
    help="api (Support API JSON) or warehouse (sync tables). [default: detected from the files in SOURCE]",
)
@click.option(
    "--source-timezone", default="UTC", show_default=True,
    help="IANA timezone of naive warehouse timestamps (values with an offset keep theirs).",
)
@click.option("--package", default=DEFAULT_PACKAGE, show_default=True, help="Package of every account.")
@click.option(
    "--package-field", default=None,
    help="Organization field (or `tags`) whose value names an account's package; --package where it names none.",
)
@click.option(
    "--region", default=None,
    help="Calendar of every account. [default: its tickets' Zendesk schedule, else the first schedule, else americas]",
)
@click.option(
    "--severity-map", default="urgent=1,high=2,normal=3,low=3,none=3", show_default=True,
    help="Priority = severity pairs (none: a ticket without priority); pairs left out keep these.",
)
@click.option(
    "--status-map", default="new=open,open=open,hold=open,pending=pending_customer,solved=closed,closed=closed",
    show_default=True, help="Zendesk status = open|pending_customer|closed pairs; pairs left out keep these.",
)
@click.option(
    "--missing-organization", type=click.Choice(MISSING_ORGANIZATION_CHOICES), default="skip", show_default=True,
    help="A ticket without organization: skipped, or a case of the account `unassigned`.",
)
@click.option(
    "--unknown-author", type=click.Choice(UNKNOWN_AUTHOR_CHOICES), default="skip", show_default=True,
    help="A comment by a user absent from users (or without a role) who is not the requester.",
)
@click.option(
    "--merged", type=click.Choice(MERGED_CHOICES), default="skip", show_default=True,
    help="Tickets closed by merge into another: skipped as duplicates, or kept as cases.",
)
def command(
    source: Path,
    out: Path,
    source_kind: str | None,
    source_timezone: str,
    package: str,
    package_field: str | None,
    region: str | None,
    severity_map: str,
    status_map: str,
    missing_organization: str,
    unknown_author: str,
    merged: str,
) -> None:
    """Import a Zendesk Support export in the folder SOURCE into --out.

    SOURCE holds either the Support API's JSON (tickets, ticket_audits or ticket_events,
    users, organizations, schedules) or the tables a sync tool landed (ticket,
    ticket_comment, ticket_field_history, user, organization, ... as CSV or Parquet).
    Organizations become accounts, tickets cases, public comments responses, status and
    priority history case changes, schedules calendars. See docs/imports/zendesk.md; then
    run `python -m metrics ingest OUT`.
    """
    report = import_zendesk(
        source, out,
        source_kind=source_kind, source_timezone=source_timezone, package=package, package_field=package_field,
        region=region, severity_map=parse_severity_map(severity_map), status_map=parse_status_map(status_map),
        missing_organization=missing_organization, unknown_author=unknown_author, merged=merged,
    )
    click.echo(report.summary())
    click.echo(next_steps(out))
