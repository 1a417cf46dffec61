"""Import a Salesforce Service Cloud export: the CSV files Data Loader or the Bulk API write.

The source is a folder of one CSV per object, headed with API field names (`Case.csv` or
`case.csv`; Data Loader writes the names in capitals, the Bulk API as in SOQL, so names
match whatever their case). Cases, their field history, comments and email messages
become cases, case_changes and responses; accounts, entitlements and service contracts
become accounts and subscriptions; entitlement contacts become authorized contacts;
business hours and holidays become calendars in config.toml. Every mapping decision is
explained in `docs/imports/salesforce.md`.

    python -m metrics import salesforce export/ --out data/salesforce
"""

from __future__ import annotations

import calendar as calendar_lib
import datetime as dt
import itertools
import re
import time
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from metrics.errors import LoadError
from metrics.storage.config import ALWAYS, BUSINESS, DEFAULTS_PATH, WEEKDAYS, load_config, merge, parse_config
from metrics.storage.contract import STATUSES
from metrics.tools.imports.common import ImportReport, iso_utc, next_steps, parse_pairs, write_dataset
from metrics.tools.imports.servicenow import localize

# Case.Priority -> contract severity. Salesforce's default picklist is High/Medium/Low;
# many support orgs add Critical. The contract has three severities, so Low joins Medium.
DEFAULT_SEVERITY_MAP: dict[str, int] = {"Critical": 1, "High": 2, "Medium": 3, "Low": 3}

# Case.Status -> contract status. New, Working and Escalated are the default picklist's open
# values, Closed its closed one; a waiting-on-customer value pauses follow-up clocks. A
# value the map lacks is taken as open (a case is open until a closed status or IsClosed).
DEFAULT_STATUS_MAP: dict[str, str] = {
    "New": "open",
    "Working": "open",
    "Escalated": "open",
    "On Hold": "open",
    "Waiting on Customer": "pending_customer",
    "Closed": "closed",
}
MERGED_STATUS = "merged"  # compared lower-case: a case merged into another

CHANNELS: dict[str, str] = {"Phone": "phone", "Email": "email", "Web": "web", "Chat": "chat"}

# User.UserType: Standard is an internal (licensed) user, AutomatedProcess the platform's own
# automation; every other type (portal, community, guest) is someone outside the organisation.
AGENT_USER_TYPES = frozenset({"Standard"})
SYSTEM_USER_TYPES = frozenset({"AutomatedProcess"})
AUTHOR_KINDS = ("agent", "customer")

# EmailMessage.Status: 5 is Draft (0 New, 1 Read, 2 Replied, 3 Sent, 4 Forwarded); a draft was never sent.
DRAFT_EMAIL_STATUSES = frozenset({"5", "draft"})

# Columns each object needs; any other column is optional (used when present, else ignored).
REQUIRED: dict[str, tuple[str, ...]] = {
    "Case": ("Id", "AccountId", "Priority", "Status", "CreatedDate"),
    "CaseHistory": ("CaseId", "Field", "NewValue", "CreatedDate"),
    "CaseComment": ("Id", "ParentId", "IsPublished", "CreatedDate", "CreatedById"),
    "EmailMessage": ("Id", "ParentId", "Incoming", "MessageDate"),
    "Account": ("Id", "Name"),
    "Contact": ("Id", "AccountId"),
    "User": ("Id",),
    "Entitlement": ("Id", "AccountId", "Name", "StartDate", "EndDate"),
    "EntitlementContact": ("EntitlementId", "ContactId"),
    "ServiceContract": ("Id", "AccountId", "Name", "StartDate", "EndDate"),
    "BusinessHours": ("Id", "Name", "TimeZoneSidKey"),
    "Holiday": ("Name", "ActivityDate"),
}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Every API field name the importer reads, so a header in any case maps to its spelling here.
KNOWN_FIELDS = frozenset(
    {c for cols in REQUIRED.values() for c in cols}
    | {
        "CaseNumber", "ContactId", "Origin", "Subject", "Type", "Reason", "OwnerId", "ClosedDate", "IsClosed",
        "IsDeleted", "IsEscalated", "MasterRecordId", "EntitlementId", "BusinessHoursId", "OldValue", "CreatedById",
        "CommentBody", "LastModifiedDate", "FromAddress", "Status", "UserType", "FirstName", "LastName", "Email",
        "ServiceContractId", "IsDefault", "IsActive", "IsAllDay", "IsRecurrence", "RecurrenceType",
        "RecurrenceMonthOfYear", "RecurrenceDayOfMonth", "RecurrenceInstance", "RecurrenceDayOfWeekMask",
        "RecurrenceStartDate", "RecurrenceEndDateOnly",
    }
    | {f"{day}{edge}Time" for day in DAY_NAMES for edge in ("Start", "End")}
)  # fmt: skip

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T00:00:00(\.0+)?Z?)?$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(:\d{2}(\.\d+)?)?Z?$")
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})  # Data Loader's accepted spellings
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off", ""})
INSTANCES = {"First": 0, "Second": 1, "Third": 2, "Fourth": 3, "Last": -1}
MONTHS = {name: i for i, name in enumerate(calendar_lib.month_name) if name}


@dataclass
class SalesforceReport(ImportReport):
    """The import report plus what was kept but assumed (a default the source left open)."""

    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = super().summary()
        return "\n".join([text, "Assumed:", *(f"  {n}" for n in self.notes)]) if self.notes else text


# ---------------------------------------------------------------- options


def _severity_map(overrides: Mapping[str, Any] | None) -> dict[str, int]:
    smap: dict[str, int] = dict(DEFAULT_SEVERITY_MAP)
    for name, value in (overrides or {}).items():
        if str(value) not in ("1", "2", "3"):
            raise LoadError(f"--severity-map: severities are 1, 2 or 3, got {name}={value}")
        smap[name] = int(value)
    return smap


def _status_map(overrides: Mapping[str, str] | None) -> dict[str, str]:
    smap = dict(DEFAULT_STATUS_MAP)
    for name, value in (overrides or {}).items():
        if value not in STATUSES:
            raise LoadError(f"--status-map: statuses are {', '.join(STATUSES)}, got {name}={value}")
        smap[name] = value
    return smap


def _check_timezone(tz: str, option: str) -> None:
    if not _is_timezone(tz):
        raise LoadError(f"{option}: expected an IANA timezone such as 'America/New_York', got {tz!r}")


def _is_timezone(tz: str) -> bool:
    if tz not in zoneinfo.available_timezones() or tz == "localtime":
        return False
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


# ---------------------------------------------------------------- reading the folder


class Export:
    """The export folder: one CSV per object, found by name whatever its case."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise LoadError(f"{folder.name}: no such folder (expected the folder of Data Loader or Bulk API CSVs)")
        self.files: dict[str, Path] = {}
        for path in sorted(folder.iterdir()):
            name = path.name.lower()
            stem = name.removesuffix(".gz").removesuffix(".csv")
            if not path.is_file() or stem == name:
                continue
            if stem in self.files:
                raise LoadError(f"{path.name}: a second file for the object {stem}; expected one file per object")
            self.files[stem] = path
        self.names: dict[str, str] = {}  # object -> its file's name, for messages
        self.rows = 0  # rows read, over every file

    def has(self, obj: str) -> bool:
        return obj.lower() in self.files

    def read(self, obj: str) -> pd.DataFrame | None:
        """The object's rows as text with API field names, `row` numbering them from 1; None if absent."""
        path = self.files.get(obj.lower())
        if path is None:
            return None
        self.names[obj] = path.name
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, compression="infer")
        except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            detail = " ".join(str(exc).split())[:200]
            raise LoadError(f"{path.name}: not a readable CSV file ({detail})") from None
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame()
        spelling = {f.lower(): f for f in KNOWN_FIELDS}
        frame = frame.rename(columns=lambda c: spelling.get(str(c).strip().lower(), str(c).strip()))
        for column in REQUIRED[obj]:
            if column not in frame.columns:
                raise LoadError(
                    f"{path.name}, column {column}: missing; expected the {obj} object's API field names "
                    f"({', '.join(REQUIRED[obj])}, ...) in the header"
                )
        frame = frame.map(str.strip)
        self.rows += len(frame)
        return frame.assign(row=np.arange(1, len(frame) + 1))

    def bad(self, obj: str, frame: pd.DataFrame, mask: pd.Series, column: str, expected: str) -> LoadError:
        """One sentence naming the file, the first offending row, the column and what was expected."""
        row = int(frame.loc[mask, "row"].iloc[0])
        return LoadError(f"{self.names[obj]}, row {row}, column {column}: {expected}")

    def instants(self, obj: str, frame: pd.DataFrame, column: str, tz: str | None) -> pd.Series:
        """ISO 8601 text -> UTC timestamps (NaT where empty). Naive values are read in `tz`."""
        if column not in frame.columns:
            return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
        text = frame[column]
        filled = text != ""
        shaped = text.str.fullmatch(_INSTANT)
        if (filled & ~shaped).any():
            raise self.bad(obj, frame, filled & ~shaped, column, _EXPECTED_INSTANT)
        aware = filled & text.str.contains(_OFFSET)
        naive = filled & ~aware
        out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
        if aware.any():
            parsed = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
            if parsed.isna().any():
                raise self.bad(obj, frame, out.index.isin(parsed.index[parsed.isna()]), column, _EXPECTED_INSTANT)
            out[aware] = parsed.dt.as_unit("ns")
        if naive.any():
            if tz is None:
                raise self.bad(
                    obj, frame, naive, column,
                    "a timestamp without an offset; expected one such as 2026-03-01T09:15:00.000Z "
                    "(as Data Loader exports), or --source-timezone to read naive times",
                )
            parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            if parsed.isna().any():
                raise self.bad(obj, frame, out.index.isin(parsed.index[parsed.isna()]), column, _EXPECTED_INSTANT)
            out[naive] = localize(parsed.dt.as_unit("ns"), tz)
        return out

    def dates(self, obj: str, frame: pd.DataFrame, column: str) -> pd.Series:
        """YYYY-MM-DD text (or a date at UTC midnight) -> datetime.date, None where empty."""
        text = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        match = text.str.extract(_DATE, expand=True)[0]
        parsed = pd.to_datetime(match, format="%Y-%m-%d", errors="coerce")
        bad = (text != "") & parsed.isna()
        if bad.any():
            raise self.bad(obj, frame, bad, column, "not a date; expected YYYY-MM-DD such as 2026-03-01")
        return pd.Series([d.date() if pd.notna(d) else None for d in parsed], index=frame.index, dtype=object)

    def booleans(self, obj: str, frame: pd.DataFrame, column: str, default: bool = False) -> pd.Series:
        """true/false (and Data Loader's yes/no, 1/0, on/off) -> bool; empty or absent -> default."""
        if column not in frame.columns:
            return pd.Series(default, index=frame.index, dtype=bool)
        text = frame[column].str.lower()
        bad = ~text.isin(TRUE_WORDS | FALSE_WORDS)
        if bad.any():
            raise self.bad(obj, frame, bad, column, "not a boolean; expected true or false")
        return (text.isin(TRUE_WORDS) | ((text == "") & default)).astype(bool)


_EXPECTED_INSTANT = "not a timestamp; expected ISO 8601 such as 2026-03-01T09:15:00.000Z"


def _column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column, or empty text where the export left it out."""
    return frame[column] if column in frame.columns else pd.Series("", index=frame.index, dtype=object)


def _skip(report: ImportReport, reason: str, mask: pd.Series) -> pd.Series:
    """Count the rows of `mask` under `reason`; return the rows to keep."""
    n = int(mask.sum())
    if n:
        report.skipped[reason] += n
    return ~mask


# ---------------------------------------------------------------- the import


@dataclass
class _Options:
    tz: str | None
    severity: dict[str, int]
    status: dict[str, str]
    packages: dict[str, str]  # lower-case source name -> package
    ranks: dict[str, int]
    default_package: str | None
    region: str | None
    unknown_author: str
    system_users: frozenset[str]


def import_salesforce(
    source: Path,
    out: Path,
    *,
    source_timezone: str | None = None,
    severity_map: Mapping[str, Any] | None = None,
    status_map: Mapping[str, str] | None = None,
    package_map: Mapping[str, str] | None = None,
    default_package: str | None = None,
    region: str | None = None,
    unknown_author: str = "agent",
    system_users: Sequence[str] = (),
) -> SalesforceReport:
    """Read the export folder `source` and write a dataset folder at `out`.

    The maps are merged over the defaults (DEFAULT_SEVERITY_MAP, DEFAULT_STATUS_MAP; entitlement
    and contract names match a package named in them, or one of the configured package names
    as a word). Raises LoadError on a missing folder, file column or object, an unreadable
    value, or an option the configuration cannot honour.
    """
    source, out = Path(source), Path(out)
    config = load_config()
    if source_timezone is not None:
        _check_timezone(source_timezone, "--source-timezone")
    if unknown_author not in AUTHOR_KINDS:
        raise LoadError(f"--unknown-author: expected agent or customer, got {unknown_author!r}")
    pmap = {}
    for name, package in (package_map or {}).items():
        if package not in config.packages:
            raise LoadError(f"--package-map: unknown package {package!r}, expected one of {', '.join(config.packages)}")
        pmap[name.lower()] = package
    if default_package is not None and default_package not in config.packages:
        raise LoadError(
            f"--default-package: unknown package {default_package!r}, expected one of {', '.join(config.packages)}"
        )
    opts = _Options(
        tz=source_timezone, severity=_severity_map(severity_map), status=_status_map(status_map), packages=pmap,
        ranks={name: spec.rank for name, spec in config.packages.items()}, default_package=default_package,
        region=region, unknown_author=unknown_author, system_users=frozenset(system_users),
    )
    export = Export(source)
    if not export.has("Case"):
        raise LoadError(f"{source.name}: no Case.csv; expected the Case object's export in the folder")
    report = SalesforceReport(source=source.name)

    users = _users(export, report, opts)
    cases = _cases(export, report, opts, users)
    _check_some(cases, export, report)
    cases, changes = _history(export, report, opts, cases)
    _check_some(cases, export, report)
    responses = _responses(export, report, opts, cases, users)

    hours, bh_names, default_bh = _business_hours(export, report)
    default_region = region or default_bh or "americas"
    calendars = {name: spec.timezone for name, spec in config.calendars.items()}
    calendars.update({bh_names[i]: spec["timezone"] for i, spec in hours.items()})
    if default_region not in calendars:
        raise LoadError(f"--region: unknown calendar {default_region!r}, expected one of {', '.join(calendars)}")
    reporting_tz = calendars[default_region]
    instants = pd.concat([cases["opened"], cases["closed"].dropna(), changes["at"], responses["at"]])
    local = instants.dt.tz_convert(reporting_tz)
    span = (local.min().date(), local.max().date())

    terms, regions, entitlements = _subscriptions(export, report, opts, span, bh_names)
    accounts = _accounts(export, report, cases, terms, regions, default_region, users)
    if opts.default_package:
        bare = sorted(set(accounts["account_id"]) - set(terms["account_id"]))
        extra = pd.DataFrame(
            {"account_id": bare, "package": opts.default_package, "start_date": span[0], "end_date": span[1]}
        )
        terms = pd.concat([terms, extra], ignore_index=True)
        terms = terms.sort_values(["account_id", "start_date"], ignore_index=True)
        if bare:
            report.notes.append(
                f"{len(bare)} accounts without an entitlement or contract hold --default-package "
                f"{opts.default_package} from {span[0]} to {span[1]}"
            )
    contacts = _contacts(export, report, entitlements)

    years = range(span[0].year, span[1].year + 2)  # deadlines may run into the next year
    holidays = _holidays(export, report, years)
    for spec in hours.values():
        spec["holidays"] = {"country": "", "add": holidays, "remove": []}
    report.rows_read = export.rows

    config_tree: dict[str, Any] = {
        "reporting": {"timezone": reporting_tz},
        "importer": {
            "name": "salesforce",
            "folder": source.name,
            "files": sorted(export.names.values()),
            "severity_map": opts.severity,
            "status_map": opts.status,
            "unmapped_statuses": "open",
            "package_map": {k: v for k, v in sorted((package_map or {}).items())},
            "package_rule": "a name in package_map, else a configured package's name as a word of it (highest rank)",
            "default_package": opts.default_package or "",
            "default_region": default_region,
            "unknown_author": opts.unknown_author,
            "system_users": sorted(opts.system_users),
        },
    }
    if source_timezone is not None:
        config_tree["source"] = {"timezone": source_timezone}
    if hours:
        config_tree["calendars"] = {bh_names[i]: spec for i, spec in hours.items()}
    tables = {
        "accounts": accounts,
        "subscriptions": terms.astype({"start_date": str, "end_date": str}),
        "cases": _case_table(cases),
        "responses": responses.assign(at=iso_utc(responses["at"])),
        "case_changes": changes.assign(at=iso_utc(changes["at"])),
    }
    if contacts is not None:
        tables["contacts"] = contacts
    parse_config(merge(tomllib.loads(DEFAULTS_PATH.read_text()), config_tree))  # refuse here, not at ingest
    write_dataset(out, tables, config_tree, report)
    return report


def _check_some(cases: pd.DataFrame, export: Export, report: SalesforceReport) -> None:
    if cases.empty:
        reasons = "; ".join(f"{r}: {n}" for r, n in sorted(report.skipped.items())) or "the file has no rows"
        raise LoadError(f"{export.names['Case']}: no case could be imported ({reasons})")


# ---------------------------------------------------------------- users


@dataclass(frozen=True)
class _Users:
    names: dict[str, str]  # Id -> Name
    kinds: dict[str, str]  # Id -> agent, customer or system
    present: bool  # whether User.csv was exported

    def kind(self, user_id: str, unknown: str) -> str:
        return self.kinds.get(user_id, unknown if self.present else "agent")


def _users(export: Export, report: SalesforceReport, opts: _Options) -> _Users:
    frame = export.read("User")
    if frame is None:
        report.notes.append("no User.csv: every comment and outgoing email is taken as written by an agent")
        return _Users({}, {uid: "system" for uid in opts.system_users}, present=False)
    types = _column(frame, "UserType")
    kinds = np.where(
        frame["Id"].isin(list(opts.system_users)) | types.isin(list(SYSTEM_USER_TYPES)),
        "system",
        np.where(types.isin(list(AGENT_USER_TYPES)) | (types == ""), "agent", "customer"),
    )
    names = _column(frame, "Name")
    if "Name" not in frame.columns:
        names = (_column(frame, "FirstName") + " " + _column(frame, "LastName")).str.strip()
    return _Users(
        names=dict(zip(frame["Id"], names.where(names != "", frame["Id"]), strict=True)),
        kinds=dict(zip(frame["Id"], kinds, strict=True)) | {uid: "system" for uid in opts.system_users},
        present=True,
    )


# ---------------------------------------------------------------- cases


def _cases(export: Export, report: SalesforceReport, opts: _Options, users: _Users) -> pd.DataFrame:
    """One row per imported case, indexed by Id; deleted, merged and account-less cases are skipped."""
    frame = export.read("Case")
    assert frame is not None
    opened = export.instants("Case", frame, "CreatedDate", opts.tz)
    if opened.isna().any():
        raise export.bad("Case", frame, opened.isna(), "CreatedDate", "empty; expected the case's creation time")
    closed_at = export.instants("Case", frame, "ClosedDate", opts.tz)
    deleted = export.booleans("Case", frame, "IsDeleted")
    status = frame["Status"]
    mapped = status.map(opts.status)
    is_closed = export.booleans("Case", frame, "IsClosed") if "IsClosed" in frame.columns else mapped.eq("closed")
    merged = (_column(frame, "MasterRecordId") != "") | (status.str.lower() == MERGED_STATUS)
    keep = _skip(report, "Case merged into another case (MasterRecordId set or Status Merged)", merged)
    keep &= _skip(report, "Case IsDeleted is true (in the Recycle Bin)", deleted & keep)
    no_account = (frame["AccountId"] == "") & keep
    keep &= _skip(report, "Case has no AccountId (a case needs the subscriber's account)", no_account)
    duplicate = frame["Id"].duplicated(keep="first") & keep
    keep &= _skip(report, "Case Id repeated (the first row is kept)", duplicate)
    unknown = sorted(set(status[keep & mapped.isna()]) - {""})
    if unknown:
        report.notes.append(f"Case Status values not in --status-map, taken as open: {', '.join(unknown)}")
    owner = _column(frame, "OwnerId")
    origin = _column(frame, "Origin")
    cases = pd.DataFrame(
        {
            "account_id": frame["AccountId"],
            "opened": opened,
            "priority": frame["Priority"],
            "contact_id": _column(frame, "ContactId"),
            "channel": origin.map(lambda o: CHANNELS.get(o, o.lower().replace(" ", "_"))),
            "subject": _column(frame, "Subject"),
            "owner": owner.map(lambda o: users.names.get(o, o)),
            # a closed case closes at ClosedDate; IsClosed comes from the status's own definition
            "closed": closed_at.where(is_closed & (closed_at >= opened)),
            "case_number": _column(frame, "CaseNumber"),
            "type": _column(frame, "Type"),
            "entitlement_id": _column(frame, "EntitlementId"),
            "source_status": status,
        }
    )
    cases.index = frame["Id"]
    return cases[keep.to_numpy()]


def _case_table(cases: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "case_id": cases.index,
            "account_id": cases["account_id"],
            "opened_at": iso_utc(cases["opened"]),
            "severity": cases["severity"].astype(int),
            "contact_id": cases["contact_id"],
            "channel": cases["channel"],
            "subject": cases["subject"],
            "owner": cases["owner"],
            "closed_at": iso_utc(cases["closed"]),
            "case_number": cases["case_number"],
            "type": cases["type"],
            "entitlement_id": cases["entitlement_id"],
            "source_status": cases["source_status"],
            "source_priority": cases["priority"],
        }
    )
    return table.sort_values("case_id", ignore_index=True)


# ---------------------------------------------------------------- history


OWNER_FIELDS = frozenset({"ownerAssignment", "ownerAccepted", "ownerEscalated", "Owner"})


def _history(
    export: Export, report: SalesforceReport, opts: _Options, cases: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases with their opening severity, and their status, severity and escalation changes.

    The export's Priority is the case's current one; the priority it was opened with is the
    OldValue of its first Priority change in CaseHistory (the Priority itself if it never changed).
    """
    frame = export.read("CaseHistory")
    if frame is None:
        report.notes.append("no CaseHistory.csv: no status or severity changes; closed cases close at ClosedDate")
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in (*REQUIRED["CaseHistory"], "OldValue", "row")})
    at = export.instants("CaseHistory", frame, "CreatedDate", opts.tz)
    kind = frame["Field"]
    keep = _skip(report, "CaseHistory IsDeleted is true", export.booleans("CaseHistory", frame, "IsDeleted"))
    keep &= _skip(report, "CaseHistory for a case not imported (deleted, merged, skipped or absent)",
                  keep & ~frame["CaseId"].isin(cases.index))
    keep &= _skip(report, "CaseHistory Field created (the creation is the case's opened_at)",
                  keep & (kind == "created"))
    keep &= _skip(report, "CaseHistory owner change (ownerAssignment, ownerAccepted, ...): not a status or severity",
                  keep & kind.isin(list(OWNER_FIELDS)))
    tracked = kind.isin(["Status", "Priority", "IsEscalated"])
    keep &= _skip(report, "CaseHistory of another field (not Status, Priority or IsEscalated)", keep & ~tracked)
    keep &= _skip(report, "CaseHistory CreatedDate is empty", keep & at.isna())
    early = (at < frame["CaseId"].map(cases["opened"])).fillna(False)
    keep &= _skip(report, "CaseHistory before the case's CreatedDate", keep & early)
    rows = frame.assign(at=at, OldValue=_column(frame, "OldValue"))[keep]
    rows = rows.sort_values(["CaseId", "at", "row"], kind="stable")

    priority = rows[rows["Field"] == "Priority"]
    opening = priority.drop_duplicates("CaseId", keep="first").set_index("CaseId")["OldValue"]
    opening = opening[opening != ""].reindex(cases.index).fillna(cases["priority"])
    severity = opening.map(opts.severity)
    keep_cases = _skip(report, "Case Priority is empty or not in --severity-map", severity.isna())
    cases = cases.assign(severity=severity)[keep_cases]

    priority = priority[priority["CaseId"].isin(cases.index)]
    new_severity = priority["NewValue"].map(opts.severity)
    _skip(report, "CaseHistory Priority NewValue not in --severity-map", new_severity.isna())
    priority = priority[new_severity.notna()].assign(value=new_severity.dropna().astype(int).astype(str))
    status = rows[(rows["Field"] == "Status") & rows["CaseId"].isin(cases.index)]
    unknown = sorted(set(status.loc[~status["NewValue"].isin(list(opts.status)), "NewValue"]) - {""})
    if unknown:
        report.notes.append(f"CaseHistory Status values not in --status-map, taken as open: {', '.join(unknown)}")
    status = status.assign(value=status["NewValue"].map(opts.status).fillna("open"))
    escalated = rows[(rows["Field"] == "IsEscalated") & rows["CaseId"].isin(cases.index)]
    escalated = escalated[escalated["NewValue"].str.lower().isin(TRUE_WORDS)]
    changes = pd.concat(
        [
            _net_changes(priority, "severity", cases["severity"].astype(int).astype(str)),
            _net_changes(status, "status", pd.Series("open", index=cases.index)),
            _net_changes(escalated.assign(value="1"), "escalation", pd.Series("0", index=cases.index)),
        ],
        ignore_index=True,
    )
    changes["at"] = pd.to_datetime(changes["at"], utc=True)
    return cases, changes.sort_values(["case_id", "at", "field"], ignore_index=True, kind="stable")


def _net_changes(rows: pd.DataFrame, field_name: str, before: pd.Series) -> pd.DataFrame:
    """The value after each instant's last row, where it differs from the value before."""
    net = rows.drop_duplicates(["CaseId", "at"], keep="last")
    prior = net.groupby("CaseId", sort=False)["value"].shift()
    prior = prior.fillna(net["CaseId"].map(before))
    moved = net[net["value"] != prior]
    return pd.DataFrame(
        {"case_id": moved["CaseId"], "at": moved["at"], "field": field_name, "value": moved["value"],
         "source_value": moved["NewValue"]}
    )


# ---------------------------------------------------------------- responses


def _responses(
    export: Export, report: SalesforceReport, opts: _Options, cases: pd.DataFrame, users: _Users
) -> pd.DataFrame:
    """Published comments and sent emails as responses; unpublished comments as internal notes (public false)."""
    frames = []
    unknown_authors = 0
    comments = export.read("CaseComment")
    if comments is not None:
        at = export.instants("CaseComment", comments, "CreatedDate", opts.tz)  # LastModifiedDate is an edit, not a post
        published = export.booleans("CaseComment", comments, "IsPublished")
        author = comments["CreatedById"]
        kind = author.map(lambda u: users.kind(u, opts.unknown_author))
        keep = _skip(report, "CaseComment IsDeleted is true", export.booleans("CaseComment", comments, "IsDeleted"))
        keep &= _event_checks(report, "CaseComment", comments["ParentId"], at, cases, keep)
        keep &= _skip(report, "CaseComment by an automation user (--system-user or UserType AutomatedProcess)",
                      keep & (kind == "system"))
        unknown_authors += int((keep & users.present & ~author.isin(list(users.kinds))).sum())
        frames.append(pd.DataFrame({
            "case_id": comments["ParentId"], "at": at, "author_type": kind, "response_id": comments["Id"],
            "author": author.map(lambda u: users.names.get(u, u)), "channel": "web",
            "public": np.where(published, "true", "false"), "source": "CaseComment",
        })[keep])
        notes = int((keep & ~published).sum())
        if notes:
            report.notes.append(f"{notes} unpublished case comments written as internal notes (public = false)")
    emails = export.read("EmailMessage")
    if emails is not None:
        at = export.instants("EmailMessage", emails, "MessageDate", opts.tz)
        at = at.fillna(export.instants("EmailMessage", emails, "CreatedDate", opts.tz))
        incoming = export.booleans("EmailMessage", emails, "Incoming")
        sender = _column(emails, "CreatedById")
        kind = pd.Series(np.where(incoming, "customer", "agent"), index=emails.index)
        automated = ~incoming & sender.map(lambda u: users.kinds.get(u) == "system")
        keep = _skip(report, "EmailMessage IsDeleted is true", export.booleans("EmailMessage", emails, "IsDeleted"))
        keep &= _skip(report, "EmailMessage has no ParentId (not attached to a case)",
                      keep & (emails["ParentId"] == ""))
        keep &= _skip(report, "EmailMessage is a draft (Status 5), never sent",
                      keep & _column(emails, "Status").str.lower().isin(list(DRAFT_EMAIL_STATUSES)))
        keep &= _event_checks(report, "EmailMessage", emails["ParentId"], at, cases, keep)
        keep &= _skip(report, "EmailMessage sent by an automation user (auto-response)", keep & automated)
        author = np.where(incoming | (sender == ""), _column(emails, "FromAddress"),
                          sender.map(lambda u: users.names.get(u, u)))
        frames.append(pd.DataFrame({
            "case_id": emails["ParentId"], "at": at, "author_type": kind, "response_id": emails["Id"],
            "author": author, "channel": "email", "public": "true", "source": "EmailMessage",
        })[keep])
    if unknown_authors:
        report.notes.append(
            f"{unknown_authors} case comments by a CreatedById with no User row, taken as written by "
            f"--unknown-author {opts.unknown_author}"
        )
    if not frames:
        report.notes.append("no CaseComment.csv or EmailMessage.csv: no responses, every obligation stays pending")
    columns = ["case_id", "at", "author_type", "response_id", "author", "channel", "public", "source"]
    responses = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    responses["at"] = pd.to_datetime(responses["at"], utc=True)
    return responses.sort_values(["case_id", "at", "response_id"], ignore_index=True, kind="stable")


def _event_checks(
    report: SalesforceReport, obj: str, parent: pd.Series, at: pd.Series, cases: pd.DataFrame, keep: pd.Series
) -> pd.Series:
    """An event must belong to an imported case, have a time, and not precede the case's creation."""
    ok = _skip(report, f"{obj} for a case not imported (deleted, merged, skipped or absent)",
               keep & (parent != "") & ~parent.isin(cases.index))
    ok &= _skip(report, f"{obj} has no time", keep & ok & at.isna())
    early = (at < parent.map(cases["opened"])).fillna(False)
    ok &= _skip(report, f"{obj} before the case's CreatedDate", keep & ok & early)
    return ok


# ---------------------------------------------------------------- business hours and holidays


def _business_hours(
    export: Export, report: SalesforceReport
) -> tuple[dict[str, dict[str, Any]], dict[str, str], str | None]:
    """Calendars from BusinessHours: {Id: spec}, {Id: calendar name}, the default one's name."""
    frame = export.read("BusinessHours")
    if frame is None:
        return {}, {}, None
    reserved = set(load_config().calendars) | {ALWAYS, BUSINESS}
    specs: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    default = None
    is_default = export.booleans("BusinessHours", frame, "IsDefault")
    for i, row in frame.iterrows():
        if not _is_timezone(row["TimeZoneSidKey"]):
            report.skipped["BusinessHours TimeZoneSidKey is not an IANA timezone"] += 1
            continue
        hours: dict[str, str] = {}
        for day, key in zip(DAY_NAMES, WEEKDAYS, strict=True):
            start, end = _clock(export, frame, i, f"{day}StartTime"), _clock(export, frame, i, f"{day}EndTime")
            if start is None or end is None:
                continue  # no hours: a day off
            end = 24 * 60 if end == 0 else end  # ends at midnight; 00:00-00:00 is the whole day
            if end > start:
                hours[key] = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
        if not hours:
            report.skipped["BusinessHours with no working time on any day"] += 1
            continue
        name = row["Name"] or row["Id"]
        if name in reserved or name in names.values():
            name = f"{name} ({row['Id']})"
        names[row["Id"]] = name
        specs[row["Id"]] = {"timezone": row["TimeZoneSidKey"], "hours": hours}
        if is_default[i] and default is None:
            default = name
    return specs, names, default


def _clock(export: Export, frame: pd.DataFrame, i: Any, column: str) -> int | None:
    """'08:30:00.000Z' -> 510 minutes after midnight (a Time field: wall time, the Z is notation)."""
    text = frame.loc[i, column] if column in frame.columns else ""
    if text == "":
        return None
    m = _TIME.match(text)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise export.bad("BusinessHours", frame, frame.index == i, column, "not a time; expected HH:MM:SS.000Z")
    return int(m[1]) * 60 + int(m[2])


def _holidays(export: Export, report: SalesforceReport, years: range) -> list[dt.date]:
    """All-day holidays, yearly recurrences expanded over `years`, for every calendar written."""
    frame = export.read("Holiday")
    if frame is None:
        return []
    activity = export.dates("Holiday", frame, "ActivityDate")
    all_day = export.booleans("Holiday", frame, "IsAllDay", default=True)
    recurring = export.booleans("Holiday", frame, "IsRecurrence")
    first = export.dates("Holiday", frame, "RecurrenceStartDate")
    last = export.dates("Holiday", frame, "RecurrenceEndDateOnly")
    days: set[dt.date] = set()
    for i in frame.index:
        if not all_day[i]:
            report.skipped["Holiday not all day (IsAllDay false): a part-day closure is not expressible"] += 1
        elif not recurring[i]:
            if activity[i] is None:
                report.skipped["Holiday without an ActivityDate"] += 1
            else:
                days.add(activity[i])
        else:
            found = _recurrences(frame.loc[i], years)
            if found is None:
                report.skipped["Holiday recurring other than yearly (RecursYearly, RecursYearlyNth are read)"] += 1
                continue
            lo, hi = first[i] or dt.date.min, last[i] or dt.date.max
            days.update(d for d in found if lo <= d <= hi)
    return sorted(days)


def _recurrences(row: pd.Series, years: range) -> list[dt.date] | None:
    """The dates of a yearly holiday in `years`, or None for a pattern this import does not read."""
    kind = row.get("RecurrenceType", "")
    month = MONTHS.get(row.get("RecurrenceMonthOfYear", ""))
    if month is None:
        return None
    out = []
    if kind == "RecursYearly" and row.get("RecurrenceDayOfMonth", "").isdigit():
        day = int(row["RecurrenceDayOfMonth"])
        for year in years:
            if day <= calendar_lib.monthrange(year, month)[1]:
                out.append(dt.date(year, month, day))
        return out
    mask, instance = row.get("RecurrenceDayOfWeekMask", ""), INSTANCES.get(row.get("RecurrenceInstance", ""))
    if kind == "RecursYearlyNth" and mask.isdigit() and instance is not None:
        # mask bits: Sunday 1, Monday 2, Tuesday 4, ... Saturday 64; Python weekday(): Monday 0
        weekdays = {(bit - 1) % 7 for bit in range(7) if int(mask) & (1 << bit)}
        for year in years:
            month_days = [dt.date(year, month, d) for d in range(1, calendar_lib.monthrange(year, month)[1] + 1)]
            matching = [d for d in month_days if d.weekday() in weekdays]
            if matching and (instance == -1 or instance < len(matching)):
                out.append(matching[instance])
        return out
    return None


# ---------------------------------------------------------------- subscriptions, accounts, contacts


def _package(name: str, opts: _Options) -> str | None:
    """A name in --package-map, else the highest-ranked configured package named as a word of it."""
    if name.lower() in opts.packages:
        return opts.packages[name.lower()]
    words = set(re.findall(r"\w+", name.lower()))
    found = [p for p in opts.ranks if p.lower() in words]
    return max(found, key=lambda p: opts.ranks[p]) if found else None


@dataclass(frozen=True)
class _Entitlement:
    account_id: str
    start: dt.date
    end: dt.date


def _subscriptions(
    export: Export, report: SalesforceReport, opts: _Options, span: tuple[dt.date, dt.date], bh_names: dict[str, str]
) -> tuple[pd.DataFrame, dict[str, str], dict[str, _Entitlement]]:
    """Terms from entitlements and service contracts, overlaps resolved to the highest package.

    Also returns each account's calendar (the business hours of its latest-starting
    entitlement that names some) and each imported entitlement (for its contacts). A term
    without an EndDate runs to the last local date of the data.
    """
    terms: list[tuple[str, dt.date, dt.date, str, str]] = []  # account, start, end, package, calendar
    entitlements: dict[str, _Entitlement] = {}
    contract_names: dict[str, str] = {}
    for obj in ("ServiceContract", "Entitlement"):
        frame = export.read(obj)
        if frame is None:
            continue
        start, end = export.dates(obj, frame, "StartDate"), export.dates(obj, frame, "EndDate")
        deleted = export.booleans(obj, frame, "IsDeleted")
        if obj == "ServiceContract":
            contract_names = dict(zip(frame["Id"], frame["Name"], strict=True))
        for i, row in frame.iterrows():
            package = _package(row["Name"], opts)
            if package is None and obj == "Entitlement":
                package = _package(contract_names.get(row.get("ServiceContractId", ""), ""), opts)
            reason = (
                "IsDeleted is true" if deleted[i]
                else "has no AccountId" if row["AccountId"] == ""
                else "has no StartDate" if start[i] is None
                else "EndDate is before StartDate" if end[i] is not None and end[i] < start[i]
                else "Name maps to no package (add it to --package-map)" if package is None
                else None
            )
            if reason or package is None:
                report.skipped[f"{obj} {reason}"] += 1
                continue
            last = end[i] or max(span[1], start[i])
            terms.append((row["AccountId"], start[i], last, package, bh_names.get(row.get("BusinessHoursId", ""), "")))
            if obj == "Entitlement":
                entitlements[row["Id"]] = _Entitlement(row["AccountId"], start[i], last)
    resolved, overlapping = _resolve_overlaps(terms, opts.ranks)
    if overlapping:
        report.notes.append(
            f"{overlapping} accounts hold overlapping entitlements or contracts: each day takes the highest package"
        )
    regions: dict[str, str] = {}
    for account, _start, _end, _package_name, hours in sorted(terms, key=lambda t: (t[0], t[1])):
        if hours:
            regions[account] = hours  # sorted by start: the latest-starting term with business hours wins
    return resolved, regions, entitlements


def _resolve_overlaps(
    terms: Sequence[tuple[str, dt.date, dt.date, str, str]], ranks: Mapping[str, int]
) -> tuple[pd.DataFrame, int]:
    """Non-overlapping terms per account: on each day, the highest-ranked package in force."""
    out: list[tuple[str, dt.date, dt.date, str]] = []
    overlapping = 0
    by_account: dict[str, list[tuple[dt.date, dt.date, str]]] = {}
    for account, start, end, package, _ in terms:
        by_account.setdefault(account, []).append((start, end, package))
    for account, spans in sorted(by_account.items()):
        spans.sort()
        if any(b[0] <= a[1] for a, b in itertools.pairwise(spans)):
            overlapping += 1
        cuts = sorted({s for s, _, _ in spans} | {e + dt.timedelta(days=1) for _, e, _ in spans})
        pieces: list[tuple[dt.date, dt.date, str]] = []
        for lo, hi in itertools.pairwise(cuts):
            held = [p for s, e, p in spans if s <= lo and hi - dt.timedelta(days=1) <= e]
            if not held:
                continue
            package = max(held, key=lambda p: ranks[p])
            last_day = hi - dt.timedelta(days=1)
            if pieces and pieces[-1][2] == package and pieces[-1][1] + dt.timedelta(days=1) == lo:
                pieces[-1] = (pieces[-1][0], last_day, package)
            else:
                pieces.append((lo, last_day, package))
        out += [(account, s, e, p) for s, e, p in pieces]
    frame = pd.DataFrame(out, columns=["account_id", "start_date", "end_date", "package"])
    return frame[["account_id", "package", "start_date", "end_date"]], overlapping


def _accounts(
    export: Export,
    report: SalesforceReport,
    cases: pd.DataFrame,
    terms: pd.DataFrame,
    regions: Mapping[str, str],
    default_region: str,
    users: _Users,
) -> pd.DataFrame:
    """Every exported account plus any account a case or term names that the export lacks."""
    frame = export.read("Account")
    if frame is None:
        accounts = pd.DataFrame({"account_id": [], "name": [], "advisor": []})
    else:
        keep = _skip(report, "Account IsDeleted is true", export.booleans("Account", frame, "IsDeleted"))
        owner = _column(frame, "OwnerId")
        accounts = pd.DataFrame({
            "account_id": frame["Id"], "name": frame["Name"].where(frame["Name"] != "", frame["Id"]),
            "advisor": owner.map(lambda o: users.names.get(o, o)),
        })[keep].drop_duplicates("account_id")
    named = set(cases["account_id"]) | set(terms["account_id"])
    missing = sorted(named - set(accounts["account_id"]))
    if missing:
        report.notes.append(
            f"{len(missing)} accounts named by cases or terms but not in Account.csv: written with their Id as name"
        )
        accounts = pd.concat([accounts, pd.DataFrame({"account_id": missing, "name": missing, "advisor": ""})])
    accounts["region"] = accounts["account_id"].map(lambda a: regions.get(a, default_region))
    return accounts[["account_id", "name", "region", "advisor"]].sort_values("account_id", ignore_index=True)


def _contacts(
    export: Export, report: SalesforceReport, entitlements: Mapping[str, _Entitlement]
) -> pd.DataFrame | None:
    """Contacts, authorized over their own account's entitlements that name them (EntitlementContact).

    The contacts table holds one account per contact: a contact's own AccountId. Its
    authorization runs from the first of those entitlements' start to the last one's end.
    """
    frame, links = export.read("Contact"), export.read("EntitlementContact")
    if frame is None and links is None:
        return None
    named: dict[str, list[_Entitlement]] = {}  # contact -> entitlements naming it
    if links is not None:
        deleted = export.booleans("EntitlementContact", links, "IsDeleted")
        keep = _skip(report, "EntitlementContact IsDeleted is true", deleted)
        keep &= _skip(report, "EntitlementContact for an entitlement not imported",
                      keep & ~links["EntitlementId"].isin(list(entitlements)))
        for ent, contact in zip(links.loc[keep, "EntitlementId"], links.loc[keep, "ContactId"], strict=True):
            named.setdefault(contact, []).append(entitlements[ent])
    if frame is not None:
        keep = _skip(report, "Contact IsDeleted is true", export.booleans("Contact", frame, "IsDeleted"))
        keep &= _skip(report, "Contact has no AccountId", keep & (frame["AccountId"] == ""))
        names = _column(frame, "Name")
        if "Name" not in frame.columns:
            names = (_column(frame, "FirstName") + " " + _column(frame, "LastName")).str.strip()
        contacts = pd.DataFrame({"contact_id": frame["Id"], "account_id": frame["AccountId"], "name": names,
                                 "email": _column(frame, "Email")})[keep].drop_duplicates("contact_id")
    else:  # the links alone: each contact under the account of the first entitlement naming it
        ids = sorted(named)
        contacts = pd.DataFrame({"contact_id": ids, "account_id": [named[c][0].account_id for c in ids],
                                 "name": "", "email": ""})
    own = dict(zip(contacts["contact_id"], contacts["account_id"], strict=True))
    elsewhere = sum(1 for c, ents in named.items() if c in own for e in ents if e.account_id != own[c])
    if elsewhere:
        report.skipped["EntitlementContact on an entitlement of another account than the contact's AccountId "
                       "(a contact row holds one account)"] += elsewhere
    absent = sum(len(ents) for c, ents in named.items() if c not in own)
    if absent:
        report.skipped["EntitlementContact for a contact not in Contact.csv"] += absent
    spans = [[e for e in named.get(c, ()) if e.account_id == a] for c, a in own.items()]
    contacts["authorized"] = ["true" if s else "false" for s in spans]
    contacts["authorized_from"] = [min(e.start for e in s).isoformat() if s else "" for s in spans]
    contacts["authorized_to"] = [max(e.end for e in s).isoformat() if s else "" for s in spans]
    return contacts.sort_values("contact_id", ignore_index=True)


# ---------------------------------------------------------------- command


@click.command(name="salesforce")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Dataset folder to write.")
@click.option(
    "--source-timezone", default=None,
    help="IANA timezone of timestamps without an offset (Data Loader's carry Z). [default: none: naive is an error]",
)
@click.option(
    "--severity-map", default="", show_default=False,
    help="Priority=severity pairs merged over Critical=1,High=2,Medium=3,Low=3.",
)
@click.option(
    "--status-map", default="",
    help="Status=open|pending_customer|closed pairs merged over New/Working/Escalated/On Hold=open, "
    "Waiting on Customer=pending_customer, Closed=closed.",
)
@click.option(
    "--package-map", default="",
    help="Entitlement or service contract Name=package pairs, e.g. 'Premier Success=Gold'. "
    "[default: a configured package named as a word of the name]",
)
@click.option(
    "--default-package", default=None, help="Package of accounts with no entitlement or contract. [default: none]"
)
@click.option(
    "--region", default=None,
    help="Calendar of accounts whose entitlements name no business hours. [default: the default BusinessHours, "
    "else americas]",
)
@click.option(
    "--unknown-author", type=click.Choice(AUTHOR_KINDS), default="agent", show_default=True,
    help="Author type of a comment whose CreatedById has no row in User.csv.",
)
@click.option(
    "--system-user", "system_users", multiple=True,
    help="User Id of an automation account whose comments and outgoing emails are not responses (repeatable).",
)
def command(
    source: Path,
    out: Path,
    source_timezone: str | None,
    severity_map: str,
    status_map: str,
    package_map: str,
    default_package: str | None,
    region: str | None,
    unknown_author: str,
    system_users: tuple[str, ...],
) -> None:
    """Import a Salesforce Service Cloud export SOURCE (a folder of Data Loader or Bulk API CSVs) into --out.

    Case.csv is required; CaseHistory, CaseComment, EmailMessage, Account, Contact, User,
    Entitlement, EntitlementContact, ServiceContract, BusinessHours and Holiday are read when
    present. Then run `python -m metrics ingest OUT`. See docs/imports/salesforce.md.
    """
    started = time.perf_counter()
    report = import_salesforce(
        source, out,
        source_timezone=source_timezone,
        severity_map=parse_pairs(severity_map, "--severity-map", "Critical=1,High=2"),
        status_map=parse_pairs(status_map, "--status-map", "'Waiting on Customer=pending_customer'"),
        package_map=parse_pairs(package_map, "--package-map", "'Premier Success=Gold'"),
        default_package=default_package, region=region, unknown_author=unknown_author, system_users=system_users,
    )
    click.echo(report.summary())
    click.echo(f"Took {time.perf_counter() - started:.1f} s")
    click.echo(next_steps(out))
