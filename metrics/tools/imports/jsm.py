"""Import Jira Service Management requests from the Jira Cloud REST API's JSON, read from files.

The source is what a script saves from the REST API: pages of `/rest/api/3/search` (or
`/search/jql`) run with `expand=changelog` (one issue per request, with its fields and
its history), and the comments of each issue (`/rest/api/3/issue/{key}/comment`, whose
comments carry `jsdPublic`, or `/rest/servicedeskapi/request/{key}/comment`, with
`public`). Files are JSON or newline-delimited JSON, one per issue or combined; a folder
of them is read whole (`_jira_json.py` tells the payloads apart). Nothing is fetched.
Every mapping decision is explained in `docs/imports/jsm.md`.

    python -m metrics import jsm exports/jira/ --out data/imports/jsm
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import pandas as pd

from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.tools.imports._jira_json import KEY, Clock, Export, Record, histories_of, read_export, text
from metrics.tools.imports.common import ImportReport, iso_utc, next_steps, parse_pairs, write_dataset

ACCOUNT_FIELD_NAME = "Organizations"  # the JSM field's name in the search results' `names`

# priority name -> contract severity (names compared without case)
DEFAULT_SEVERITY_MAP: dict[str, int] = {"Highest": 1, "High": 2, "Medium": 3, "Low": 3, "Lowest": 3}
# status name -> contract status, before the status category decides (done -> closed, else open)
DEFAULT_STATUS_MAP: dict[str, str] = {"Waiting for customer": "pending_customer"}
STATUSES = ("open", "pending_customer", "closed")
MULTIPLE_ACCOUNTS = ("first", "skip")  # an issue naming several organisations
UNKNOWN_AUTHOR = ("skip", "agent", "customer")  # a public comment whose author cannot be identified
APP_COMMENTS = ("skip", "agent")  # a public comment by an `app` account (automation)

# Why a record was not written: issues, comments and changelog entries, each counted in its unit.
SKIP_NO_KEY = "issues without a key"
SKIP_DUPLICATE_ISSUE = "issues read twice (the copy with the latest fields.updated kept)"
SKIP_NO_ACCOUNT = "issues with no organisation (the account field is empty)"
SKIP_SEVERAL_ACCOUNTS = "issues naming several organisations (--multiple-accounts skip)"
SKIP_PRIORITY = "issues whose opening priority is missing or not in the severity map"
SKIP_DOCUMENT = "JSON documents that are no Jira search page, issue, comment or changelog page"
SKIP_COMMENT_ORPHAN = "comments of an issue not in the export (deleted, moved away or outside the JQL)"
SKIP_COMMENT_NO_ISSUE = "comments whose issue cannot be told (no key in the file, its name or the comment's self)"
SKIP_COMMENT_DUPLICATE = "comments read twice (same id)"
SKIP_COMMENT_TIME = "comments whose created is missing or not a timestamp"
SKIP_COMMENT_EARLY = "comments created before their issue"
SKIP_COMMENT_APP = "public comments by an app account (automation, --app-comments skip)"
SKIP_COMMENT_UNKNOWN = "public comments whose author is unknown (deleted user without accountId or accountType)"
SKIP_HISTORY_ORPHAN = "changelog entries of an issue not in the export"
SKIP_HISTORY_DUPLICATE = "changelog entries read twice (same id)"
SKIP_HISTORY_TIME = "changelog entries whose created is missing or not a timestamp"
SKIP_HISTORY_EARLY = "changelog entries dated before their issue was created"
SKIP_PRIORITY_CHANGE = "priority changes to a priority not in the severity map (the severity in force kept)"


@dataclass
class JsmReport(ImportReport):
    """The import report, counting what a JSON export holds: issues, comments, changelog entries."""

    files: int = 0
    issues: int = 0
    comments: int = 0
    histories: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = super().summary().splitlines()
        lines[0] = (
            f"Imported {self.source}: {self.issues:,} issues, {self.comments:,} comments and "
            f"{self.histories:,} changelog entries read from {self.files:,} files"
        )
        lines = [re.sub(r"^Skipped ([0-9,]+) rows:$", r"Skipped \1 records:", line) for line in lines]
        lines += ["Notes:", *(f"  {note}" for note in self.notes)] if self.notes else []
        return "\n".join(lines)


@dataclass
class Options:
    """Every choice of the mapping, as config.toml records it."""

    package: str
    region: str
    account_packages: dict[str, str]
    account_field: str | None
    multiple_accounts: str
    default_account: str | None
    severity_map: dict[str, int]
    status_map: dict[str, str]
    unknown_author: str
    app_comments: str
    timezone: str


def import_jsm(
    source: Path,
    out: Path,
    *,
    package: str = "Gold",
    region: str = "americas",
    account_packages: Mapping[str, str] | None = None,
    account_field: str | None = None,
    multiple_accounts: str = "first",
    default_account: str | None = None,
    severity_map: Mapping[str, int] | None = None,
    status_map: Mapping[str, str] | None = None,
    unknown_author: str = "skip",
    app_comments: str = "skip",
    source_timezone: str | None = None,
) -> JsmReport:
    """Read the JSON export at `source` (a file or a folder) and write a dataset folder at `out`.

    `severity_map` and `status_map` are merged over the defaults (names compared without
    case). `source_timezone` only reads timestamps without an offset (Jira Cloud always
    writes one); None means the `region` calendar's timezone. Raises LoadError on
    unreadable JSON, an issue without a readable `fields.created`, or an option the
    configuration cannot honour.
    """
    source, out = Path(source), Path(out)
    calendar_tz = _check_options(package, region, account_packages or {})
    tz = source_timezone or calendar_tz
    _check_timezone(tz)
    options = Options(
        package=package, region=region, account_packages=dict(account_packages or {}), account_field=account_field,
        multiple_accounts=_check_choice("--multiple-accounts", multiple_accounts, MULTIPLE_ACCOUNTS),
        default_account=default_account or None,
        severity_map=_merge_severity_map(severity_map), status_map=_merge_status_map(status_map),
        unknown_author=_check_choice("--unknown-author", unknown_author, UNKNOWN_AUTHOR),
        app_comments=_check_choice("--app-comments", app_comments, APP_COMMENTS), timezone=tz,
    )
    report = JsmReport(source=source.name)
    export = read_export(source)
    report.files = export.files
    report.issues, report.comments, report.histories = len(export.issues), len(export.comments), len(export.histories)
    report.histories += sum(len(histories_of(issue)) for _, issue in export.issues)
    report.rows_read = report.issues + report.comments + report.histories
    if export.skipped_documents:
        report.skipped[SKIP_DOCUMENT] += export.skipped_documents
    if export.ignored_files:
        report.notes.append(f"{export.ignored_files} files not ending in .json, .jsonl or .ndjson were not read")

    clock = Clock(ZoneInfo(tz))
    issues = _unique_issues(export, clock, report)
    if not issues:
        _fail_empty(source, report)
    account_field_id = _account_field(export, issues, options)
    mapper = Mapper(options, export, issues, account_field_id, clock, report)
    cases, changes = mapper.cases_and_changes()
    if not cases:
        _fail_empty(source, report)
    responses = mapper.responses()
    if clock.naive:
        report.notes.append(f"{clock.naive} timestamps without an offset were read as {tz} wall times")

    case_frame = pd.DataFrame(cases)
    accounts, subscriptions = _accounts(case_frame, changes, responses, options, calendar_tz, report)
    config: dict[str, Any] = {
        "source": {"timezone": tz},
        "reporting": {"timezone": calendar_tz},
        "importer": {
            "name": "jsm",
            "source": source.name,
            "package": package,
            "region": region,
            "account_field": account_field_id or "",
            "account_field_name": export.names.get(account_field_id or "", ""),
            "multiple_accounts": options.multiple_accounts,
            "default_account": options.default_account or "",
            "severity_map": dict(options.severity_map),
            "status_map": dict(options.status_map),
            "status_categories": {"done": "closed", "new": "open", "indeterminate": "open"},
            "unknown_author": options.unknown_author,
            "app_comments": options.app_comments,
            "account_packages": dict(sorted(options.account_packages.items())),
        },
    }
    tables = {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "cases": _as_text(case_frame, ("opened_at", "closed_at", "resolved_at")),
        "responses": _as_text(_frame(responses, RESPONSE_COLUMNS), ("at",)),
        "case_changes": _as_text(_frame(changes, CHANGE_COLUMNS), ("at",)),
    }
    write_dataset(out, tables, config, report)
    return report


def _fail_empty(source: Path, report: JsmReport) -> None:
    reasons = "; ".join(f"{reason}: {n}" for reason, n in sorted(report.skipped.items())) or "it holds no issue"
    raise LoadError(f"{source.name}: no issue could be imported ({reasons})")


# ---------------------------------------------------------------- options


def _check_options(package: str, region: str, account_packages: Mapping[str, str]) -> str:
    """Every package and the region must exist in the configuration the dataset will load with."""
    config = load_config()
    if package not in config.packages:
        raise LoadError(f"--package: unknown package {package!r}, expected one of {', '.join(config.packages)}")
    for account, name in account_packages.items():
        if name not in config.packages:
            raise LoadError(
                f"--account-package: unknown package {name!r} for {account!r}, "
                f"expected one of {', '.join(config.packages)}"
            )
    if region not in config.calendars:
        raise LoadError(f"--region: unknown calendar {region!r}, expected one of {', '.join(config.calendars)}")
    return config.calendars[region].timezone


def _check_timezone(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise LoadError(f"--timezone: expected an IANA timezone such as 'America/Denver', got {tz!r}") from None


def _check_choice(option: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise LoadError(f"{option}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _merge_severity_map(overrides: Mapping[str, int] | None) -> dict[str, int]:
    merged = {**DEFAULT_SEVERITY_MAP, **dict(overrides or {})}
    bad = {k: v for k, v in merged.items() if v not in (1, 2, 3)}
    if bad:
        raise LoadError(f"--severity-map: severities are 1, 2 or 3, got {bad}")
    return merged


def _merge_status_map(overrides: Mapping[str, str] | None) -> dict[str, str]:
    merged = {**DEFAULT_STATUS_MAP, **dict(overrides or {})}
    bad = {k: v for k, v in merged.items() if v not in STATUSES}
    if bad:
        raise LoadError(f"--status-map: statuses are {', '.join(STATUSES)}, got {bad}")
    return merged


def parse_severity_map(text: str) -> dict[str, int]:
    """'Highest=1,Critical=1' -> {'Highest': 1, 'Critical': 1} (priority name = severity)."""
    pmap: dict[str, int] = {}
    for name, value in parse_pairs(text, "--severity-map", "Highest=1,High=2,Medium=3").items():
        if not value.isdigit():
            raise LoadError(f"--severity-map: severities are 1, 2 or 3, got {value!r} for {name!r}")
        pmap[name] = int(value)
    return pmap


def parse_status_map(text: str) -> dict[str, str]:
    """'Waiting for customer=pending_customer,Pending=pending_customer' -> a dict (status name = status)."""
    return parse_pairs(text, "--status-map", "'Waiting for customer=pending_customer,Canceled=closed'")


def parse_account_packages(values: Sequence[str]) -> dict[str, str]:
    """('Acme Corp=Platinum', ...) -> {'Acme Corp': 'Platinum'}; the last '=' splits, so names may hold commas."""
    mapping: dict[str, str] = {}
    for item in values:
        account, sep, package = item.rpartition("=")
        if not sep or not account.strip() or not package.strip():
            raise LoadError(f"--account-package: expected ACCOUNT=PACKAGE such as 'Acme Corp=Platinum', got {item!r}")
        mapping[account.strip()] = package.strip()
    return mapping


# ---------------------------------------------------------------- values


def _shown(value: Any, limit: int = 40) -> str:
    """A value from the file, quoted and cut, for a report line (never the whole foreign text)."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ---------------------------------------------------------------- issues


def _issue_key(issue: Mapping[str, Any]) -> str | None:
    key = text(issue.get("key"))
    return key if key and len(key) <= 64 else None


def _unique_issues(export: Export, clock: Clock, report: JsmReport) -> dict[str, tuple[str, dict[str, Any]]]:
    """One issue per key: pages can overlap when issues change while they are fetched."""
    issues: dict[str, tuple[str, dict[str, Any]]] = {}
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    for label, issue in export.issues:
        key = _issue_key(issue)
        if key is None:
            report.skipped[SKIP_NO_KEY] += 1
            continue
        if key in issues:
            report.skipped[SKIP_DUPLICATE_ISSUE] += 1
            kept = issues[key][1]
            newer = clock.read(issue["fields"].get("updated"), count=False) or epoch
            if newer < (clock.read(kept["fields"].get("updated"), count=False) or epoch):
                continue
        issues[key] = (label, issue)
    if export.totals and max(export.totals) > len(issues):
        report.notes.append(
            f"the search pages report {max(export.totals)} matching issues but {len(issues)} were read: "
            f"fetch the missing pages (startAt) to import them"
        )
    return issues


def _account_field(export: Export, issues: Mapping[str, tuple[str, dict[str, Any]]], options: Options) -> str | None:
    """The id of the field naming the account: --account-field (an id or a name), else the Organizations field.

    Without `names` (the search run without expand=names), the one custom field whose values
    are lists of {id, name} objects, the shape of JSM organisations, is taken.
    """
    by_name = {name.casefold(): fid for fid, name in export.names.items()}
    wanted = options.account_field
    if wanted:
        if wanted in export.names or wanted.startswith("customfield_") or wanted in _field_ids(issues):
            return wanted
        if wanted.casefold() in by_name:
            return by_name[wanted.casefold()]
        raise LoadError(
            f"--account-field: no field named {wanted!r} in the export's names (search with expand=names), "
            f"give its id instead, such as customfield_10002"
        )
    if ACCOUNT_FIELD_NAME.casefold() in by_name:
        return by_name[ACCOUNT_FIELD_NAME.casefold()]
    shaped = sorted(
        fid for fid in _field_ids(issues)
        if fid.startswith("customfield_")
        and any(_looks_like_organizations(i["fields"].get(fid)) for _, i in issues.values())
    )
    if len(shaped) == 1:
        return shaped[0]
    if options.default_account:
        return None
    found = f"several candidates ({', '.join(shaped)})" if shaped else "no field holding organisations"
    raise LoadError(
        f"{ACCOUNT_FIELD_NAME} field not found: the export has no `names` (search with expand=names) and "
        f"{found}; give --account-field customfield_NNNNN, or --default-account NAME"
    )


def _field_ids(issues: Mapping[str, tuple[str, dict[str, Any]]]) -> set[str]:
    return {fid for _, issue in issues.values() for fid in issue["fields"]}


def _looks_like_organizations(value: Any) -> bool:
    return (
        isinstance(value, list) and bool(value)
        and all(isinstance(v, dict) and "id" in v and "name" in v and "value" not in v for v in value)
    )


def _account_values(value: Any) -> list[str]:
    """The account names a field value holds, in the API's order: organisations, options, users, text."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, dict):
            name = text(item.get("name")) or text(item.get("value")) or text(item.get("displayName"))
        else:
            name = text(item)
        if name and name not in names:
            names.append(name)
    return names


def _user_id(user: Any) -> str | None:
    """A user's accountId; None for a deleted or unavailable user (null, missing, or `unknown`)."""
    if not isinstance(user, dict):
        return None
    account = text(user.get("accountId"))
    return None if account in (None, "unknown") else account


def _named(item: Mapping[str, Any], *names: str) -> bool:
    """Whether a changelog item is about one of `names` (by fieldId, or by field, without case)."""
    keys = {str(item.get("fieldId") or "").casefold(), str(item.get("field") or "").casefold()}
    return any(n.casefold() in keys for n in names)


class Mapper:
    """Issues, their changelogs and comments -> rows of cases, case_changes and responses."""

    def __init__(
        self,
        options: Options,
        export: Export,
        issues: Mapping[str, tuple[str, dict[str, Any]]],
        account_field: str | None,
        clock: Clock,
        report: JsmReport,
    ) -> None:
        self.options, self.export, self.issues = options, export, issues
        self.account_field, self.clock, self.report = account_field, clock, report
        self.severity = {k.casefold(): v for k, v in options.severity_map.items()}
        self.status = {k.casefold(): v for k, v in options.status_map.items()}
        self.categories = dict(export.categories)
        for _, issue in issues.values():  # the current status of every issue carries its category
            status = issue["fields"].get("status")
            if isinstance(status, dict) and isinstance(status.get("statusCategory"), dict):
                name, key = text(status.get("name")), text(status["statusCategory"].get("key"))
                if name and key:
                    self.categories.setdefault(name.casefold(), key)
        self.guessed: set[str] = set()  # status names of unknown category
        self.unmapped: set[str] = set()  # opening priorities missing from the severity map
        self.several: list[str] = []  # keys of issues naming several organisations
        self.without_changelog = 0  # issues kept whose search did not expand the changelog
        self.cut_short = 0  # issues kept with fewer changelog entries than changelog.total
        self.kept: dict[str, dt.datetime] = {}  # case_id -> opened_at, for the comments
        self.reporters: dict[str, str | None] = {}  # case_id -> reporter accountId
        self.aliases = self._aliases()

    # ------------------------------------------------------------ identities

    def _aliases(self) -> dict[str, str]:
        """Every name an issue has had -> its key: its id, and former keys of a moved issue (changelog `Key`)."""
        aliases: dict[str, str] = {}
        for key, (_, issue) in self.issues.items():
            if text(issue.get("id")):
                aliases[str(issue["id"])] = key
            for history in histories_of(issue):
                for item in history.get("items") or []:
                    old = text(item.get("fromString")) if isinstance(item, dict) and _named(item, "Key") else None
                    if old and old not in self.issues:
                        aliases[old] = key
        return aliases

    def _issue_of(self, record: Record) -> str | None:
        """The key a comment or changelog entry belongs to, "" for an issue not in the export, None if untold.

        In order of trust: the issue the page itself names, the issue in the record's `self`
        URL (the API's own link, by id, which a move does not change), the key in the file's name.
        """
        ref = record.issue_ref
        links = record.data.get("_links")
        url = text(record.data.get("self")) or (text(links.get("self")) if isinstance(links, dict) else None)
        if ref is None and url:
            match = re.search(r"/(?:issue|request)/([^/]+)/(?:comment|changelog)", url)
            ref = match[1] if match else None
        ref = ref or record.name_ref
        if ref is None:
            return None
        return ref if ref in self.issues else self.aliases.get(ref, "")

    # ------------------------------------------------------------ cases and changes

    def cases_and_changes(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        extra = self._extra_histories()
        cases: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for key in sorted(self.issues):
            label, issue = self.issues[key]
            histories = self._timeline(issue, extra.get(key, []))
            case = self._case(key, label, issue, histories)
            if case is None:
                continue
            case_changes = self._changes(key, case, histories)
            case["closed_at"] = self._closed_at(issue, case, case_changes)
            cases.append(case)
            changes += case_changes
            self._check_changelog(issue, extra.get(key, []))
            self.kept[key] = case["opened_at"]
        if self.without_changelog:
            self.report.notes.append(
                f"{self.without_changelog} issues came without a changelog (search with expand=changelog): "
                f"their status and priority changes are unknown"
            )
        if self.cut_short:
            self.report.notes.append(
                f"{self.cut_short} issues have fewer changelog entries than their changelog's total: add "
                f"/rest/api/3/issue/{{key}}/changelog pages to the source"
            )
        if self.several:
            shown = ", ".join(k if KEY.fullmatch(k) else "?" for k in self.several[:5])
            more = f" and {len(self.several) - 5} more" if len(self.several) > 5 else ""
            self.report.notes.append(
                f"{len(self.several)} issues name several organisations; the first listed is the account "
                f"(--multiple-accounts): {shown}{more}"
            )
        if self.unmapped:
            self.report.notes.append(
                "opening priorities not in the severity map (add them with --severity-map): "
                + ", ".join(sorted(_shown(p) for p in self.unmapped))
            )
        if self.guessed:
            self.report.notes.append(
                "statuses of unknown category were taken as open (map them with --status-map): "
                + ", ".join(sorted(_shown(s) for s in self.guessed))
            )
        return cases, changes

    def _check_changelog(self, issue: Mapping[str, Any], extra: list[dict[str, Any]]) -> None:
        changelog = issue.get("changelog")
        if not isinstance(changelog, dict):
            self.without_changelog += not extra
            return
        ids = {text(h.get("id")) for h in [*histories_of(issue), *extra]}
        total = changelog.get("total")
        if isinstance(total, int) and total > len(ids):
            self.cut_short += 1

    def _extra_histories(self) -> dict[str, list[dict[str, Any]]]:
        extra: dict[str, list[dict[str, Any]]] = {}
        for record in self.export.histories:
            key = self._issue_of(record)
            if not key:
                self.report.skipped[SKIP_HISTORY_ORPHAN] += 1
                continue
            extra.setdefault(key, []).append(record.data)
        return extra

    def _timeline(
        self, issue: Mapping[str, Any], extra: list[dict[str, Any]]
    ) -> list[tuple[dt.datetime, list[dict[str, Any]]]]:
        """The changelog in time order (the API's order is not trusted), each entry once, with its instant."""
        seen: set[str] = set()
        timeline = []
        for n, history in enumerate([*histories_of(issue), *extra]):
            hid = text(history.get("id"))
            if hid is not None:
                if hid in seen:
                    self.report.skipped[SKIP_HISTORY_DUPLICATE] += 1
                    continue
                seen.add(hid)
            at = self.clock.read(history.get("created"))
            if at is None:
                self.report.skipped[SKIP_HISTORY_TIME] += 1
                continue
            items = [i for i in history.get("items") or [] if isinstance(i, dict)]
            order = int(hid) if hid is not None and hid.isdigit() else n
            timeline.append((at, order, items))
        timeline.sort(key=lambda t: (t[0], t[1]))
        return [(at, items) for at, _, items in timeline]

    def _created(self, key: str, label: str, fields: Mapping[str, Any]) -> dt.datetime:
        where = f"{label}, issue {key if KEY.fullmatch(key) else '(key not shown)'}, field fields.created"
        expected = "expected the issue's creation time as Jira writes it, such as 2026-03-01T09:15:00.000+0100"
        if fields.get("created") in (None, ""):
            raise LoadError(f"{where}: missing; {expected}")
        created = self.clock.read(fields["created"])
        if created is None:
            raise LoadError(f"{where}: not a timestamp; {expected}")
        return created

    def _case(
        self, key: str, label: str, issue: Mapping[str, Any], histories: list[tuple[dt.datetime, list[dict[str, Any]]]]
    ) -> dict[str, Any] | None:
        fields = issue["fields"]
        opened = self._created(key, label, fields)
        account = self._account(key, fields)
        if account is None:
            return None
        priority = self._opening_priority(fields, histories)
        severity = self.severity.get(priority.casefold()) if priority else None
        if severity is None:
            self.report.skipped[SKIP_PRIORITY] += 1
            self.unmapped.add(priority or "(none)")
            return None
        reporter = fields.get("reporter")
        self.reporters[key] = _user_id(reporter)
        assignee = fields.get("assignee")
        status = fields.get("status")
        issuetype = fields.get("issuetype")
        return {
            "case_id": key,
            "account_id": account,
            "opened_at": opened,
            "severity": severity,
            "contact_id": _user_id(reporter) or "",
            "subject": text(fields.get("summary")) or "",
            "product_area": (text(issuetype.get("name")) or "") if isinstance(issuetype, dict) else "",
            "owner": (text(assignee.get("displayName")) or "") if isinstance(assignee, dict) else "",
            "closed_at": None,
            "resolved_at": self.clock.read(fields.get("resolutiondate")),
            "status_name": (text(status.get("name")) or "") if isinstance(status, dict) else "",
            "priority_name": priority,
        }

    def _account(self, key: str, fields: Mapping[str, Any]) -> str | None:
        names = _account_values(fields.get(self.account_field)) if self.account_field else []
        if not names:
            if self.options.default_account:
                return self.options.default_account
            self.report.skipped[SKIP_NO_ACCOUNT] += 1
            return None
        if len(names) > 1:
            if self.options.multiple_accounts == "skip":
                self.report.skipped[SKIP_SEVERAL_ACCOUNTS] += 1
                return None
            self.several.append(key)
        return names[0]

    def _opening_priority(
        self, fields: Mapping[str, Any], histories: list[tuple[dt.datetime, list[dict[str, Any]]]]
    ) -> str | None:
        """The priority as submitted: where the first priority change started from, else the current one."""
        for _, items in histories:
            for item in items:
                if _named(item, "priority"):
                    return text(item.get("fromString"))
        priority = fields.get("priority")
        return text(priority.get("name")) if isinstance(priority, dict) else None

    def _status_of(self, name: str | None) -> str:
        """A status name -> open/pending_customer/closed: the status map, else its category (done = closed)."""
        if name is None:
            return "open"
        folded = name.casefold()
        if folded in self.status:
            return self.status[folded]
        category = self.categories.get(folded)
        if category is None:
            self.guessed.add(name)
            return "open"
        return "closed" if category == "done" else "open"

    def _changes(
        self,
        key: str,
        case: Mapping[str, Any],
        histories: list[tuple[dt.datetime, list[dict[str, Any]]]],
    ) -> list[dict[str, Any]]:
        """Status and severity changes: the net value of each second, where it differs from before.

        The status an issue was created in (where its first status change started from) is a
        change at opening when it is not open. Without any status change it is taken as open:
        the current status says where the issue is now, and `_closed_at` dates a close.
        """
        opened: dt.datetime = case["opened_at"]
        items_of = [(at, item) for at, items in histories for item in items]
        status_items = [item for _, item in items_of if _named(item, "status")]
        first_status = text(status_items[0].get("fromString")) if status_items else None
        raw: list[dict[str, Any]] = [_change(key, opened, "status", self._status_of(first_status), first_status or "")]
        for at, item in items_of:
            if not (_named(item, "status") or _named(item, "priority")):
                continue
            if at < opened:
                self.report.skipped[SKIP_HISTORY_EARLY] += 1
                continue
            target = text(item.get("toString"))
            if _named(item, "status"):
                raw.append(_change(key, at, "status", self._status_of(target), target or ""))
                continue
            severity = self.severity.get(target.casefold()) if target else None
            if severity is None:
                self.report.skipped[SKIP_PRIORITY_CHANGE] += 1
                continue
            raw.append(_change(key, at, "severity", str(severity), target or ""))
        rows: list[dict[str, Any]] = []
        before = {"status": "open", "severity": str(case["severity"])}
        for field_name in ("status", "severity"):
            net: dict[dt.datetime, dict[str, Any]] = {}  # second -> the last change within it
            for row in raw:
                if row["field"] == field_name:
                    net[row["at"].replace(microsecond=0)] = row
            value = before[field_name]
            for row in net.values():
                if row["value"] != value:
                    rows.append(row)
                    value = row["value"]
        return sorted(rows, key=lambda r: (r["at"], r["field"]))

    def _closed_at(
        self, issue: Mapping[str, Any], case: Mapping[str, Any], changes: list[dict[str, Any]]
    ) -> dt.datetime | None:
        """When an issue now in a closed status closed: its last change to closed, else resolutiondate, ...

        ... else statuscategorychangedate, else updated (the changelog may be cut short).
        """
        status = issue["fields"].get("status")
        if self._status_of(text(status.get("name")) if isinstance(status, dict) else None) != "closed":
            return None
        statuses = [c for c in changes if c["field"] == "status"]
        if statuses and statuses[-1]["value"] == "closed":
            at: dt.datetime = statuses[-1]["at"]
            return at
        for name in ("resolutiondate", "statuscategorychangedate", "updated"):
            at_or_none = self.clock.read(issue["fields"].get(name))
            if at_or_none is not None and at_or_none >= case["opened_at"]:
                return at_or_none
        return None

    # ------------------------------------------------------------ responses

    def responses(self) -> list[dict[str, Any]]:
        """Public comments by agents and customers, and internal notes (public = false, never a response)."""
        types = self._known_account_types()
        customers = {r for r in self.reporters.values() if r}
        seen: set[tuple[str, str]] = set()
        rows = []
        for record in self.export.comments:
            comment = record.data
            key = self._issue_of(record)
            if key is None:
                self.report.skipped[SKIP_COMMENT_NO_ISSUE] += 1
                continue
            if not key or key not in self.issues:
                self.report.skipped[SKIP_COMMENT_ORPHAN] += 1
                continue
            if key not in self.kept:  # its issue was skipped, and counted there
                continue
            cid = text(comment.get("id"))
            if cid is not None:
                if (key, cid) in seen:
                    self.report.skipped[SKIP_COMMENT_DUPLICATE] += 1
                    continue
                seen.add((key, cid))
            at = self.clock.read(comment.get("created"))  # never `updated`: an edit is no new message
            if at is None:
                self.report.skipped[SKIP_COMMENT_TIME] += 1
                continue
            if at < self.kept[key]:
                self.report.skipped[SKIP_COMMENT_EARLY] += 1
                continue
            public = _is_public(comment)
            author = comment.get("author")
            if not public:
                author_type = "agent"  # only agents write internal notes
            else:
                kind = self._author_type(author, self.reporters.get(key), types, customers)
                if kind == "app" and self.options.app_comments == "skip":
                    self.report.skipped[SKIP_COMMENT_APP] += 1
                    continue
                if kind == "unknown" and self.options.unknown_author == "skip":
                    self.report.skipped[SKIP_COMMENT_UNKNOWN] += 1
                    continue
                author_type = {"app": "agent", "unknown": self.options.unknown_author}.get(kind, kind)
            rows.append({
                "case_id": key,
                "at": at,
                "author_type": author_type,
                "response_id": f"{key}/{cid}" if cid else "",
                "author": _user_id(author) or "",
                "public": "true" if public else "false",
                "account_type": (text(author.get("accountType")) or "") if isinstance(author, dict) else "",
            })
        rows.sort(key=lambda r: (r["case_id"], r["at"], r["response_id"]))
        return rows

    def _known_account_types(self) -> dict[str, str]:
        """Each accountId's accountType, from every user object of the export (reporters, authors, ...)."""
        types: dict[str, str] = {}

        def note(user: Any) -> None:
            account, kind = _user_id(user), text(user.get("accountType")) if isinstance(user, dict) else None
            if account and kind:
                types.setdefault(account, kind)

        for _, issue in self.issues.values():
            for name in ("reporter", "assignee", "creator"):
                note(issue["fields"].get(name))
            for history in histories_of(issue):
                note(history.get("author"))
        for record in self.export.comments:
            note(record.data.get("author"))
        return types

    def _author_type(
        self, author: Any, reporter: str | None, types: Mapping[str, str], customers: set[str]
    ) -> str:
        """customer, agent, app or unknown, in this order of evidence.

        The reporter speaks for the customer whatever their account type; then the comment's own
        accountType; then the accountType the same account shows elsewhere in the export; then
        anyone else with an accountId is an agent unless they reported some issue. A deleted user
        without accountId and accountType is unknown.
        """
        account = _user_id(author)
        kind = text(author.get("accountType")) if isinstance(author, dict) else None
        if account and account == reporter:
            return "customer"
        kind = kind or (types.get(account) if account else None)
        if kind in ("customer", "app"):
            return kind
        if kind == "atlassian":
            return "agent"
        if account is None:
            return "unknown"
        return "customer" if account in customers else "agent"


def _is_public(comment: Mapping[str, Any]) -> bool:
    """Whether a comment is public: `jsdPublic` (platform API) or `public` (servicedeskapi).

    Without either (a project that is no service project), public unless `visibility` restricts it.
    """
    for name in ("jsdPublic", "public"):
        if isinstance(comment.get(name), bool):
            return bool(comment[name])
    return not comment.get("visibility")


def _change(case_id: str, at: dt.datetime, field_name: str, value: str, source_value: str) -> dict[str, Any]:
    return {"case_id": case_id, "at": at, "field": field_name, "value": value, "source_value": source_value}


# ---------------------------------------------------------------- tables

RESPONSE_COLUMNS = ("case_id", "at", "author_type", "response_id", "author", "public", "account_type")
CHANGE_COLUMNS = ("case_id", "at", "field", "value", "source_value")


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    if "at" in frame.columns:
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def _as_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Timestamp columns as ISO UTC text with `Z` (empty where missing)."""
    converted = {c: iso_utc(pd.to_datetime(frame[c], utc=True)) for c in columns if c in frame.columns}
    return frame.assign(**converted)


def _accounts(
    cases: pd.DataFrame,
    changes: list[dict[str, Any]],
    responses: list[dict[str, Any]],
    options: Options,
    calendar_tz: str,
    report: JsmReport,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One account per organisation; one term covering every local date of the data, --package or its mapping."""
    ids = sorted(cases["account_id"].unique())
    accounts = pd.DataFrame({"account_id": ids, "name": ids, "region": options.region, "advisor": ""})
    instants = [*cases["opened_at"], *cases["closed_at"].dropna()]
    instants += [r["at"] for r in (*changes, *responses)]
    local = pd.to_datetime(pd.Series(instants), utc=True).dt.tz_convert(calendar_tz)
    start, end = local.min().date().isoformat(), local.max().date().isoformat()
    packages = [options.account_packages.get(a, options.package) for a in ids]
    unused = sorted(set(options.account_packages) - set(ids))
    if unused:
        report.notes.append(
            f"--account-package names {len(unused)} accounts no imported issue has: "
            + ", ".join(_shown(a) for a in unused)
        )
    subscriptions = pd.DataFrame({"account_id": ids, "package": packages, "start_date": start, "end_date": end})
    return accounts, subscriptions


# ---------------------------------------------------------------- command


@click.command(name="jsm")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Dataset folder to write.")
@click.option(
    "--package", default="Gold", show_default=True, help="Package of every account without --account-package."
)
@click.option(
    "--account-package", "account_packages", multiple=True, metavar="ACCOUNT=PACKAGE",
    help="Package of one account (repeatable), e.g. 'Acme Corp=Platinum'.",
)
@click.option("--region", default="americas", show_default=True, help="Calendar of every account.")
@click.option(
    "--account-field", default=None,
    help="Field naming the account: an id (customfield_10002) or a name. [default: the Organizations field]",
)
@click.option(
    "--multiple-accounts", type=click.Choice(MULTIPLE_ACCOUNTS), default="first", show_default=True,
    help="An issue naming several organisations: take the first, or skip the issue.",
)
@click.option("--default-account", default=None, help="Account of issues with no organisation. [default: skip them]")
@click.option(
    "--severity-map", default="", show_default=False,
    help="Priority name = severity pairs merged over Highest=1,High=2,Medium=3,Low=3,Lowest=3.",
)
@click.option(
    "--status-map", default="",
    help="Status name = open|pending_customer|closed pairs merged over 'Waiting for customer=pending_customer'; "
    "other statuses follow their category (done = closed).",
)
@click.option(
    "--unknown-author", type=click.Choice(UNKNOWN_AUTHOR), default="skip", show_default=True,
    help="A public comment by a deleted user with no accountId or accountType.",
)
@click.option(
    "--app-comments", type=click.Choice(APP_COMMENTS), default="skip", show_default=True,
    help="A public comment by an app account (automation): skip it, or count it as an agent's.",
)
@click.option(
    "--timezone", "source_timezone", default=None,
    help="IANA timezone of timestamps without an offset. [default: the --region calendar's timezone]",
)
def command(
    source: Path,
    out: Path,
    package: str,
    account_packages: tuple[str, ...],
    region: str,
    account_field: str | None,
    multiple_accounts: str,
    default_account: str | None,
    severity_map: str,
    status_map: str,
    unknown_author: str,
    app_comments: str,
    source_timezone: str | None,
) -> None:
    """Import Jira Service Management requests from Jira Cloud REST API JSON: SOURCE is a file or a folder.

    Search pages fetched with expand=changelog (and expand=names) give the cases, their
    status and priority changes; comment pages give the responses (public comments) and
    internal notes. Then run `python -m metrics ingest OUT`. See docs/imports/jsm.md for
    every mapping decision.
    """
    started = time.perf_counter()
    report = import_jsm(
        source, out,
        package=package, region=region, account_packages=parse_account_packages(account_packages),
        account_field=account_field, multiple_accounts=multiple_accounts, default_account=default_account,
        severity_map=parse_severity_map(severity_map), status_map=parse_status_map(status_map),
        unknown_author=unknown_author, app_comments=app_comments, source_timezone=source_timezone,
    )
    click.echo(report.summary())
    click.echo(f"Took {time.perf_counter() - started:.1f} s")
    click.echo(next_steps(out))
