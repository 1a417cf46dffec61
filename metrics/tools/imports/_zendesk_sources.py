"""Read a Zendesk export, from the Support API or a warehouse sync, into one common shape.

The two sources say the same things in different words: the API's incremental ticket
export, ticket audits (or incremental ticket events), users, organizations and schedules
as JSON; the warehouse tables a sync tool lands (Fivetran's `ticket`, `ticket_comment`,
`ticket_field_history`, `user`, `organization`, `schedule`, ...) as CSV or Parquet. Each
reader returns a `ZendeskSource` whose frames have the same columns whichever source it
came from, so the mapping onto the data contract (zendesk.py) is written once.

Every id is text ("35436", never 35436.0); every instant is an aware UTC timestamp (NaT
when unreadable: the mapping skips the row and says why). A file that cannot be read, a
malformed JSON line or a missing column is a LoadError naming file, line or column and
what was expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metrics.errors import LoadError

API = "api"
WAREHOUSE = "warehouse"
SOURCE_KINDS = (API, WAREHOUSE)
CHANGE_FIELDS = ("status", "priority")  # the ticket fields whose history the mapping uses

# API file names, first found wins; each holds pages {"<key>": [...], ...} or records.
API_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "tickets": (("tickets.jsonl", "tickets.ndjson", "tickets.json"), "tickets"),
    "audits": (("ticket_audits.jsonl", "ticket_audits.json", "audits.jsonl", "audits.json"), "audits"),
    "ticket_events": (("ticket_events.jsonl", "ticket_events.json"), "ticket_events"),
    "users": (("users.jsonl", "users.json"), "users"),
    "organizations": (("organizations.jsonl", "organizations.json"), "organizations"),
    "schedules": (("schedules.jsonl", "schedules.json"), "schedules"),
}

# Warehouse tables: Fivetran's names first, the plural names Stitch and Airbyte use after.
WAREHOUSE_TABLES: dict[str, tuple[str, ...]] = {
    "ticket": ("ticket", "tickets"),
    "ticket_comment": ("ticket_comment", "ticket_comments"),
    "ticket_field_history": ("ticket_field_history",),
    "user": ("user", "users"),
    "organization": ("organization", "organizations"),
    "ticket_tag": ("ticket_tag", "ticket_tags"),
    "organization_tag": ("organization_tag", "organization_tags"),
    "schedule": ("schedule", "schedules"),
    "schedule_holiday": ("schedule_holiday", "schedule_holidays"),
    "ticket_schedule": ("ticket_schedule", "ticket_schedules"),
}
WAREHOUSE_FORMATS = (".csv", ".parquet")
# Columns each table must have; a tuple lists the names one column may go by (Fivetran's first).
WAREHOUSE_COLUMNS: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "ticket": ("id", "created_at", "status", "priority", "organization_id", "requester_id"),
    "ticket_comment": ("id", "ticket_id", ("user_id", "author_id"), ("created", "created_at"), "public"),
    "ticket_field_history": ("ticket_id", "field_name", "updated", "value"),
    "user": ("id", "role"),
    "organization": ("id", "name"),
    "ticket_tag": ("ticket_id", ("tag", "tags")),
    "organization_tag": ("organization_id", "tag"),
    "schedule": ("id", "name", "start_time", "end_time", "time_zone"),
    "schedule_holiday": ("schedule_id", "start_date", "end_date"),
    "ticket_schedule": ("ticket_id", "created_at", "schedule_id"),
}
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_EMPTY = ("", "null", "None", "nan", "NaN", "NaT")


@dataclass
class ZendeskSource:
    """One Zendesk export in the shape the mapping reads (see each frame's columns below)."""

    kind: str
    files: dict[str, int] = field(default_factory=dict)  # file name -> records read
    # ticket_id, created_at, updated_at, status, priority, organization_id, requester_id,
    # assignee_id, subject, channel, type, group_id, tags (space-separated), deleted, merged
    tickets: pd.DataFrame = field(default_factory=pd.DataFrame)
    # ticket_id, comment_id, at, author_id, public
    comments: pd.DataFrame = field(default_factory=pd.DataFrame)
    # ticket_id, at, field (status|priority), value, author_id
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    users: pd.DataFrame = field(default_factory=pd.DataFrame)  # user_id, name, email, role, organization_id
    # organization_id, name, tags (list of str), fields (dict of str -> str)
    organizations: pd.DataFrame = field(default_factory=pd.DataFrame)
    # schedule_id, name, time_zone, start_minute, end_minute (one row per interval)
    schedules: pd.DataFrame = field(default_factory=pd.DataFrame)
    holidays: pd.DataFrame = field(default_factory=pd.DataFrame)  # schedule_id, name, start_date, end_date
    ticket_schedules: pd.DataFrame = field(default_factory=pd.DataFrame)  # ticket_id, at, schedule_id
    other_events: int = 0  # audit events or history rows of other kinds, not used


# ---------------------------------------------------------------- which source


def detect_kind(folder: Path) -> str:
    """`api` when the folder holds a tickets JSON file, `warehouse` when it holds a ticket table."""
    if not folder.is_dir():
        raise LoadError(f"{folder.name}: not a folder (expected a Zendesk API export or warehouse tables in it)")
    if _first(folder, API_FILES["tickets"][0]) is not None:
        return API
    if _table_file(folder, "ticket") is not None:
        return WAREHOUSE
    raise LoadError(
        f"{folder.name}: no Zendesk export found; expected tickets.jsonl or tickets.json (the Support API's "
        "incremental ticket export) or ticket.csv or ticket.parquet (a warehouse sync's ticket table)"
    )


def read_source(folder: Path, kind: str, source_timezone: str) -> ZendeskSource:
    """The export in `folder`, read as `kind` (api or warehouse)."""
    if not folder.is_dir():
        raise LoadError(f"{folder.name}: not a folder (expected a Zendesk API export or warehouse tables in it)")
    return read_api(folder) if kind == API else read_warehouse(folder, source_timezone)


def _first(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _table_file(folder: Path, table: str) -> Path | None:
    names = tuple(f"{n}{ext}" for n in WAREHOUSE_TABLES[table] for ext in WAREHOUSE_FORMATS)
    return _first(folder, names)


# ---------------------------------------------------------------- shared helpers


def id_text(values: pd.Series) -> pd.Series:
    """Ids as text: 35436, 35436.0 and "35436" are all "35436"; empty where missing."""
    text = values.astype("string").fillna("").str.strip()
    text = text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
    return text.where(~text.isin(_EMPTY), "").astype(object)


def plain_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("").str.strip()
    return text.where(~text.isin(_EMPTY), "").astype(object)


def to_bool(values: pd.Series) -> pd.Series:
    """true/false, 1/0, t/f (any case) -> bool; anything else (and missing) is False."""
    text = values.astype("string").fillna("").str.strip().str.lower()
    return text.isin(("true", "1", "t", "yes", "1.0")).astype(bool)


def parse_instants(values: pd.Series, source_timezone: str) -> pd.Series:
    """Instants -> aware UTC, whole seconds; naive ones are wall times in `source_timezone`.

    Text with an offset (`2026-03-09T14:05:00Z`, `...-04:00`) keeps its instant; naive text
    (`2026-03-09 14:05:00`, as warehouses often store it) is read in `source_timezone`, a
    time in a spring-forward gap moving forward and an ambiguous one taking its first
    occurrence (the engine's rule). Parquet timestamps arrive typed: aware ones are converted,
    naive ones localized. Unreadable values become NaT.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.floor("s")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _localize(values, source_timezone)
    text = plain_text(values).astype(str)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    aware = text.str.contains(_OFFSET) & (text != "")
    naive = ~aware & (text != "")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
    if naive.any():
        out[naive] = _localize(pd.to_datetime(text[naive], format="ISO8601", errors="coerce"), source_timezone)
    return out.dt.floor("s")


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    index = pd.DatetimeIndex(naive)
    aware = index.tz_localize(tz, ambiguous=np.ones(len(index), dtype=bool), nonexistent="shift_forward")
    return pd.Series(aware.tz_convert("UTC"), index=naive.index).dt.floor("s")


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns)) if rows else pd.DataFrame(columns=list(columns))


# ---------------------------------------------------------------- the Support API's JSON


def read_json_records(path: Path, key: str) -> list[dict[str, Any]]:
    """The records of one API export file, whichever way it was saved.

    Accepted: one JSON document (a page `{"tickets": [...], "next_page": ..., "end_of_stream":
    ...}`, a list of pages or a list of records) or newline-delimited JSON (one page or one
    record a line, as the incremental export is usually saved). A line that is not JSON stops
    the import with its line number.
    """
    expected = f'expected one JSON object a line, or pages such as {{"{key}": [...]}}'
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError(f"{path.name}: not UTF-8 text; {expected}") from None
    except OSError as exc:
        raise LoadError(f"{path.name}: could not be read ({exc.strerror or exc})") from None
    try:
        documents: list[Any] = [json.loads(text)] if text.strip() else []
    except json.JSONDecodeError as exc:
        documents = _json_lines(path.name, text, exc, expected)
    records: list[dict[str, Any]] = []
    for document in documents:
        for item in document if isinstance(document, list) else [document]:
            page = item[key] if isinstance(item, dict) and isinstance(item.get(key), list) else [item]
            for record in page:
                if not isinstance(record, dict):
                    raise LoadError(f"{path.name}: a {key} entry is {type(record).__name__}, not an object; {expected}")
                records.append(record)
    return records


def _json_lines(name: str, text: str, whole: json.JSONDecodeError, expected: str) -> list[Any]:
    """The file as newline-delimited JSON, or a LoadError at the line that breaks it.

    A file that is not one JSON document is read a line at a time when it looks like one
    value a line (the parser found extra data after the first, or most lines parse alone);
    otherwise the document's own error and line are reported.
    """
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    parsed: list[Any] = []
    first_bad: tuple[int, json.JSONDecodeError] | None = None
    for number, line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError as line_error:
            first_bad = first_bad or (number, line_error)
    if first_bad is None:
        return parsed
    if whole.msg == "Extra data" or 2 * len(parsed) >= len(lines):
        number, error = first_bad
        raise LoadError(f"{name}, line {number}: not valid JSON ({error.msg} at column {error.colno}); {expected}")
    raise LoadError(f"{name}, line {whole.lineno}: not valid JSON ({whole.msg}); {expected}")


def _via_channel(via: Any) -> str:
    """`{"channel": "email", ...}` or the ticket events' plain `"Web form"` -> lower-case text."""
    channel = via.get("channel") if isinstance(via, dict) else via
    return str(channel).strip().lower() if channel not in (None, "") else ""


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_api(folder: Path) -> ZendeskSource:
    """The Support API's JSON files in `folder` (see API_FILES for their names)."""
    source = ZendeskSource(kind=API)
    paths = {name: _first(folder, names) for name, (names, _) in API_FILES.items()}
    if paths["tickets"] is None:
        raise LoadError(f"{folder.name}: tickets.jsonl or tickets.json missing (the incremental ticket export)")
    if paths["audits"] is None and paths["ticket_events"] is None:
        raise LoadError(
            f"{folder.name}: ticket_audits.json or ticket_events.json missing; expected the ticket audits "
            "or the incremental ticket event export beside tickets (comments and status changes come from them)"
        )
    if paths["users"] is None:
        raise LoadError(f"{folder.name}: users.json missing; expected the users export (roles tell agents apart)")

    def records(name: str) -> list[dict[str, Any]]:
        path = paths[name]
        if path is None:
            return []
        rows = read_json_records(path, API_FILES[name][1])
        source.files[path.name] = len(rows)
        return rows

    source.tickets = _api_tickets(records("tickets"), paths["tickets"].name)
    comments: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    if paths["audits"] is not None:
        source.other_events += _api_audits(records("audits"), comments, changes)
    if paths["ticket_events"] is not None:
        source.other_events += _api_ticket_events(records("ticket_events"), comments, changes)
    source.comments = _frame(comments, ("ticket_id", "comment_id", "at", "author_id", "public"))
    source.changes = _frame(changes, ("ticket_id", "at", "field", "value", "author_id", "merge"))
    for frame_name in ("comments", "changes"):
        frame = getattr(source, frame_name)
        frame["at"] = parse_instants(frame["at"], "UTC")
        frame["ticket_id"] = id_text(frame["ticket_id"])
        frame["author_id"] = id_text(frame["author_id"])
    # A status change made by a merge (the audit's via channel `merge`) marks a merged ticket
    # even when its closed_by_merge tag was removed.
    merged = set(source.changes.loc[source.changes["merge"].astype(bool), "ticket_id"])
    source.tickets["merged"] = source.tickets["merged"] | source.tickets["ticket_id"].isin(merged)
    source.changes = source.changes.drop(columns="merge")
    source.comments["comment_id"] = id_text(source.comments["comment_id"])
    source.comments["public"] = source.comments["public"].astype(bool)
    source.users = _api_users(records("users"))
    source.organizations = _api_organizations(records("organizations"))
    source.schedules, source.holidays = _api_schedules(records("schedules"))
    source.ticket_schedules = pd.DataFrame(columns=["ticket_id", "at", "schedule_id"])
    return source


def _api_tickets(rows: list[dict[str, Any]], file: str) -> pd.DataFrame:
    for number, row in enumerate(rows, start=1):
        if "id" not in row or "created_at" not in row:
            missing = "id" if "id" not in row else "created_at"
            raise LoadError(f"{file}, ticket {number}: field {missing} missing; expected Zendesk ticket objects")
    frame = pd.DataFrame(
        {
            "ticket_id": [r.get("id") for r in rows],
            "created_at": [r.get("created_at") for r in rows],
            "updated_at": [r.get("updated_at") for r in rows],
            "status": [_text(r.get("status")).lower() for r in rows],
            "priority": [_text(r.get("priority")).lower() for r in rows],
            "organization_id": [r.get("organization_id") for r in rows],
            "requester_id": [r.get("requester_id") for r in rows],
            "assignee_id": [r.get("assignee_id") for r in rows],
            "subject": [_text(r.get("subject")) for r in rows],
            "channel": [_via_channel(r.get("via")) for r in rows],
            "type": [_text(r.get("type")) for r in rows],
            "group_id": [r.get("group_id") for r in rows],
            "tags": [" ".join(sorted(str(t) for t in r.get("tags") or [])) for r in rows],
        },
        dtype=object,
    )
    return _typed_tickets(frame, "UTC")


def _typed_tickets(frame: pd.DataFrame, source_timezone: str) -> pd.DataFrame:
    for column in ("ticket_id", "organization_id", "requester_id", "assignee_id", "group_id"):
        frame[column] = id_text(frame[column])
    for column in ("status", "priority", "subject", "channel", "type", "tags"):
        frame[column] = plain_text(frame[column])
    frame["status"] = frame["status"].str.lower()
    frame["priority"] = frame["priority"].str.lower()
    frame["created_at"] = parse_instants(frame["created_at"], source_timezone)
    frame["updated_at"] = parse_instants(frame["updated_at"], source_timezone)
    frame["deleted"] = (frame["status"] == "deleted") | frame.get("deleted", False)
    frame["merged"] = frame["tags"].str.split().apply(lambda tags: "closed_by_merge" in tags)
    frame["line"] = np.arange(1, len(frame) + 1)
    return frame


def _change_values(event: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field, value) of a Create/Change event: audits say field_name/value, ticket events `status: ...`."""
    name = event.get("field_name")
    if name is not None:
        yield str(name), event.get("value")
        return
    for key in CHANGE_FIELDS:
        if key in event:
            yield key, event[key]


def _api_audits(audits: list[dict[str, Any]], comments: list[dict[str, Any]], changes: list[dict[str, Any]]) -> int:
    """Comment and status/priority Create/Change events of each audit; returns the events not used."""
    other = 0
    for audit in audits:
        merge = _via_channel(audit.get("via")) == "merge"
        for event in audit.get("events") or []:
            kind = event.get("type")
            if kind in ("Comment", "VoiceComment"):
                comments.append(
                    {
                        "ticket_id": audit.get("ticket_id"),
                        "comment_id": event.get("id"),
                        # An audit's comment carries no time of its own: it was written at the audit.
                        "at": event.get("created_at") or audit.get("created_at"),
                        "author_id": event.get("author_id", audit.get("author_id")),
                        "public": bool(event.get("public", True)),
                    }
                )
                continue
            used = False
            if kind in ("Create", "Change"):
                for name, value in _change_values(event):
                    if name in CHANGE_FIELDS:
                        event_merge = merge or _via_channel(event.get("via")) == "merge"
                        changes.append(
                            {
                                "ticket_id": audit.get("ticket_id"),
                                "at": audit.get("created_at"),
                                "field": name,
                                "value": _text(value).lower(),
                                "author_id": audit.get("author_id"),
                                "merge": event_merge and name == "status",
                            }
                        )
                        used = True
            other += not used
    return other


def _api_ticket_events(
    events: list[dict[str, Any]], comments: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> int:
    """The incremental ticket event export: each update with its child events.

    With the `comment_events` sideload a comment is a child event of type Comment (author,
    public flag, created_at); without it only `comment_present`/`comment_public` say that the
    update's author (`updater_id`) wrote one, at the update's time.
    """
    other = 0
    for update in events:
        children = update.get("child_events") or []
        merge = _via_channel(update.get("via")) == "merge"
        has_comment_event = any(c.get("event_type") == "Comment" for c in children)
        flagged = next((c for c in children if c.get("comment_present")), None)
        if flagged is not None and not has_comment_event:
            comments.append(
                {
                    "ticket_id": update.get("ticket_id"),
                    "comment_id": f"{update.get('id')}",
                    "at": update.get("created_at"),
                    "author_id": update.get("updater_id"),
                    "public": bool(flagged.get("comment_public", True)),
                }
            )
        for child in children:
            kind = child.get("event_type")
            if kind == "Comment":
                comments.append(
                    {
                        "ticket_id": update.get("ticket_id"),
                        "comment_id": child.get("id"),
                        "at": child.get("created_at") or update.get("created_at"),
                        "author_id": child.get("author_id", update.get("updater_id")),
                        "public": bool(child.get("public", True)),
                    }
                )
                continue
            used = False
            if kind in ("Create", "Change"):
                for name, value in _change_values(child):
                    if name in CHANGE_FIELDS:
                        changes.append(
                            {
                                "ticket_id": update.get("ticket_id"),
                                "at": update.get("created_at"),
                                "field": name,
                                "value": _text(value).lower(),
                                "author_id": update.get("updater_id"),
                                "merge": (merge or _via_channel(child.get("via")) == "merge") and name == "status",
                            }
                        )
                        used = True
            other += not used
    return other


def _api_users(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "user_id": [r.get("id") for r in rows],
            "name": [_text(r.get("name")) for r in rows],
            "email": [_text(r.get("email")) for r in rows],
            "role": [_text(r.get("role")).lower() for r in rows],
            "organization_id": [r.get("organization_id") for r in rows],
        },
        dtype=object,
    )
    return _typed_users(frame)


def _typed_users(frame: pd.DataFrame) -> pd.DataFrame:
    frame["user_id"] = id_text(frame["user_id"])
    frame["organization_id"] = id_text(frame["organization_id"])
    for column in ("name", "email", "role"):
        frame[column] = plain_text(frame[column])
    frame["role"] = frame["role"].str.lower()
    return frame.drop_duplicates("user_id", keep="last")


def _api_organizations(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "organization_id": id_text(pd.Series([r.get("id") for r in rows], dtype=object)),
            "name": [_text(r.get("name")) for r in rows],
            "tags": [[str(t) for t in r.get("tags") or []] for r in rows],
            "fields": [
                {str(k): _text(v) for k, v in (r.get("organization_fields") or {}).items()} for r in rows
            ],
        },
        dtype=object,
    )
    return frame.drop_duplicates("organization_id", keep="last")


def _api_schedules(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Schedules with their intervals; holidays when the export put each schedule's list in it.

    GET /api/v2/business_hours/schedules gives intervals; holidays come from
    /schedules/{id}/holidays, which a saved export adds to its schedule as `holidays`.
    """
    intervals: list[dict[str, Any]] = []
    holidays: list[dict[str, Any]] = []
    for row in rows:
        for interval in row.get("intervals") or []:
            intervals.append(
                {
                    "schedule_id": row.get("id"),
                    "name": _text(row.get("name")),
                    "time_zone": _text(row.get("time_zone")),
                    "start_minute": interval.get("start_time"),
                    "end_minute": interval.get("end_time"),
                }
            )
        if not row.get("intervals"):
            intervals.append(
                {"schedule_id": row.get("id"), "name": _text(row.get("name")),
                 "time_zone": _text(row.get("time_zone")), "start_minute": None, "end_minute": None}
            )
        for holiday in row.get("holidays") or []:
            holidays.append(
                {
                    "schedule_id": row.get("id"),
                    "name": _text(holiday.get("name")),
                    "start_date": _text(holiday.get("start_date")),
                    "end_date": _text(holiday.get("end_date")),
                }
            )
    schedules = _frame(intervals, ("schedule_id", "name", "time_zone", "start_minute", "end_minute"))
    schedules["schedule_id"] = id_text(schedules["schedule_id"])
    holiday_frame = _frame(holidays, ("schedule_id", "name", "start_date", "end_date"))
    holiday_frame["schedule_id"] = id_text(holiday_frame["schedule_id"])
    return schedules, holiday_frame


# ---------------------------------------------------------------- warehouse tables


def read_table(folder: Path, table: str, *, required: bool) -> tuple[pd.DataFrame, str] | None:
    """A warehouse table as a frame (CSV as text, Parquet as typed), with its file name."""
    path = _table_file(folder, table)
    if path is None:
        if required:
            files = " or ".join(f"{WAREHOUSE_TABLES[table][0]}{ext}" for ext in WAREHOUSE_FORMATS)
            raise LoadError(f"{folder.name}: {files} missing; expected the {table} table of a Zendesk sync")
        return None
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise LoadError(f"{path.name}: could not be read as {path.suffix[1:].upper()} ({detail})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    for column in WAREHOUSE_COLUMNS[table]:
        aliases = column if isinstance(column, tuple) else (column,)
        if not any(n in frame.columns for n in aliases):
            expected = ", ".join(c if isinstance(c, str) else c[0] for c in WAREHOUSE_COLUMNS[table])
            raise LoadError(
                f"{path.name}, column {' or '.join(aliases)}: missing; "
                f"expected the {table} table's columns ({expected})"
            )
    return frame, path.name


def _column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of `names` the table has, or an empty column."""
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series("", index=frame.index, dtype=object)


def read_warehouse(folder: Path, source_timezone: str) -> ZendeskSource:
    """The tables a Fivetran (or Stitch, Airbyte) sync landed from Zendesk, as CSV or Parquet files."""
    source = ZendeskSource(kind=WAREHOUSE)

    def table(name: str, *, required: bool) -> pd.DataFrame | None:
        read = read_table(folder, name, required=required)
        if read is None:
            return None
        frame, file = read
        source.files[file] = len(frame)
        return frame

    tickets = table("ticket", required=True)
    comments = table("ticket_comment", required=True)
    history = table("ticket_field_history", required=True)
    users = table("user", required=True)
    organizations = table("organization", required=False)
    ticket_tags = table("ticket_tag", required=False)
    organization_tags = table("organization_tag", required=False)
    schedules = table("schedule", required=False)
    holidays = table("schedule_holiday", required=False)
    ticket_schedules = table("ticket_schedule", required=False)
    assert tickets is not None and comments is not None and history is not None and users is not None

    frame = pd.DataFrame(
        {
            "ticket_id": tickets["id"],
            "created_at": tickets["created_at"],
            "updated_at": _column(tickets, "updated_at"),
            "status": tickets["status"],
            "priority": tickets["priority"],
            "organization_id": tickets["organization_id"],
            "requester_id": tickets["requester_id"],
            "assignee_id": _column(tickets, "assignee_id"),
            "subject": _column(tickets, "subject"),
            "channel": plain_text(_column(tickets, "via_channel")).str.lower(),
            "type": _column(tickets, "type"),
            "group_id": _column(tickets, "group_id"),
            "tags": "",
            "deleted": to_bool(_column(tickets, "_fivetran_deleted")),
        }
    )
    if ticket_tags is not None:
        tag_ids = id_text(ticket_tags["ticket_id"])
        tags = plain_text(_column(ticket_tags, "tag", "tags"))
        joined = tags.groupby(tag_ids).agg(lambda t: " ".join(sorted(v for v in t if v)))
        frame["tags"] = id_text(frame["ticket_id"]).map(joined).fillna("")
    source.tickets = _typed_tickets(frame, source_timezone)

    source.comments = pd.DataFrame(
        {
            "ticket_id": id_text(comments["ticket_id"]),
            "comment_id": id_text(comments["id"]),
            # `created` is when the comment was written; an `updated` column (an edit, a
            # redaction, the sync's own stamp) never moves it.
            "at": parse_instants(_column(comments, "created", "created_at"), source_timezone),
            "author_id": id_text(_column(comments, "user_id", "author_id")),
            "public": to_bool(comments["public"]),
        }
    )
    if "_fivetran_deleted" in comments.columns:
        source.comments = source.comments[~to_bool(comments["_fivetran_deleted"]).to_numpy()]

    names = plain_text(history["field_name"]).str.lower()
    used = names.isin(CHANGE_FIELDS)
    source.other_events = int((~used).sum())
    history = history[used.to_numpy()]
    source.changes = pd.DataFrame(
        {
            "ticket_id": id_text(history["ticket_id"]),
            "at": parse_instants(history["updated"], source_timezone),
            "field": names[used],
            "value": plain_text(history["value"]).str.lower(),
            "author_id": id_text(_column(history, "user_id")),
        }
    )

    source.users = _typed_users(
        pd.DataFrame(
            {
                "user_id": users["id"],
                "name": _column(users, "name"),
                "email": _column(users, "email"),
                "role": users["role"],
                "organization_id": _column(users, "organization_id"),
            }
        )
    )
    source.organizations = _warehouse_organizations(organizations, organization_tags)
    source.schedules, source.holidays = _warehouse_schedules(schedules, holidays)
    if ticket_schedules is not None:
        source.ticket_schedules = pd.DataFrame(
            {
                "ticket_id": id_text(ticket_schedules["ticket_id"]),
                "at": parse_instants(ticket_schedules["created_at"], source_timezone),
                "schedule_id": id_text(ticket_schedules["schedule_id"]),
            }
        )
    else:
        source.ticket_schedules = pd.DataFrame(columns=["ticket_id", "at", "schedule_id"])
    return source


def _warehouse_organizations(organizations: pd.DataFrame | None, tags: pd.DataFrame | None) -> pd.DataFrame:
    """Organizations with their tags (organization_tag, else a `tags` column) and every column as a field."""
    if organizations is None:
        return pd.DataFrame(columns=["organization_id", "name", "tags", "fields"])
    ids = id_text(organizations["id"])
    if tags is not None:
        by_org = plain_text(tags["tag"]).groupby(id_text(tags["organization_id"])).agg(lambda t: [v for v in t if v])
        tag_lists = ids.map(by_org)
    else:
        tag_lists = plain_text(_column(organizations, "tags")).map(_tag_list)
    text = organizations.astype("string").fillna("")
    fields = [
        {str(k): str(v).strip() for k, v in row.items()} for row in text.to_dict(orient="records")
    ]
    frame = pd.DataFrame(
        {
            "organization_id": ids,
            "name": plain_text(organizations["name"]),
            "tags": [t if isinstance(t, list) else [] for t in tag_lists],
            "fields": fields,
        }
    )
    return frame.drop_duplicates("organization_id", keep="last")


def _tag_list(text: str) -> list[str]:
    """A tags column as a warehouse stores it: a JSON array, or words separated by commas or spaces."""
    text = text.strip()
    if text.startswith("["):
        try:
            return [str(t) for t in json.loads(text)]
        except json.JSONDecodeError:
            pass
    return [t for t in re.split(r"[,\s]+", text) if t]


def _warehouse_schedules(
    schedules: pd.DataFrame | None, holidays: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fivetran's schedule table has one row per interval (minutes since Sunday 00:00)."""
    if schedules is None:
        frame = pd.DataFrame(columns=["schedule_id", "name", "time_zone", "start_minute", "end_minute"])
    else:
        frame = pd.DataFrame(
            {
                "schedule_id": id_text(schedules["id"]),
                "name": plain_text(schedules["name"]),
                "time_zone": plain_text(schedules["time_zone"]),
                "start_minute": pd.to_numeric(schedules["start_time"], errors="coerce"),
                "end_minute": pd.to_numeric(schedules["end_time"], errors="coerce"),
            }
        )
    if holidays is None:
        holiday_frame = pd.DataFrame(columns=["schedule_id", "name", "start_date", "end_date"])
    else:
        holiday_frame = pd.DataFrame(
            {
                "schedule_id": id_text(holidays["schedule_id"]),
                "name": plain_text(_column(holidays, "name")),
                "start_date": plain_text(holidays["start_date"]).str[:10],
                "end_date": plain_text(holidays["end_date"]).str[:10],
            }
        )
    return frame, holiday_frame
