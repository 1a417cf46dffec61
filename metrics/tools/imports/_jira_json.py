"""Reading Jira Cloud REST API responses saved as files: which JSON value is what, and Jira's timestamps.

The importer (`jsm.py`) maps; this module only finds, in a file or a folder of `.json`,
`.jsonl` or `.ndjson` files, the issues, comments, changelog entries, field names and
status categories, each with the file it came from and the issue it names, and reads
timestamps as Jira writes them. Nothing here knows the data contract.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from metrics.errors import LoadError

SUFFIXES = (".json", ".jsonl", ".ndjson")  # other files in the folder are ignored (and counted)
KEY = re.compile(r"[A-Z][A-Z0-9_]*-[0-9]+")  # an issue key, SUP-12


@dataclass(frozen=True)
class Record:
    """A comment or changelog entry, with the file it came from and the issue its page named.

    `issue_ref` is a key or id the page states (`issueKey`, `issueIdOrKey`, `issueId`, or the
    issue that embeds it); `name_ref` the issue key in the file's name. Neither is always there.
    """

    where: str
    issue_ref: str | None
    name_ref: str | None
    data: dict[str, Any]


@dataclass
class Export:
    """Everything read from the files, before any mapping; `where` names a record's file."""

    issues: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    comments: list[Record] = field(default_factory=list)
    histories: list[Record] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # field id -> field name (expand=names)
    categories: dict[str, str] = field(default_factory=dict)  # status name (casefold) -> category key
    totals: list[int] = field(default_factory=list)  # `total` of each search page
    files: int = 0
    ignored_files: int = 0
    skipped_documents: int = 0


def read_export(source: Path) -> Export:
    """Every JSON document of `source` (a file, or a folder read recursively in name order), sorted by kind."""
    if not source.exists():
        raise LoadError(f"{source.name}: no such file or folder (expected Jira REST API JSON, or a folder of it)")
    export = Export()
    if source.is_file():
        files = [(source, source.name)]
    else:
        found = sorted(p for p in source.rglob("*") if p.is_file())
        files = [(p, p.relative_to(source).as_posix()) for p in found if p.suffix.lower() in SUFFIXES]
        export.ignored_files = len(found) - len(files)
    for path, label in files:
        export.files += 1
        for document in _documents(path, label):
            _sort_document(document, label, _key_in_name(path.name), export)
    return export


def _documents(path: Path, label: str) -> Iterator[Any]:
    """The JSON values of one file: the whole file, or one per line (NDJSON), or each item of a top array."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError(f"{label}: not UTF-8 text; expected JSON saved from the Jira REST API") from None
    if not content.strip():
        raise LoadError(f"{label}: the file is empty; expected JSON saved from the Jira REST API")
    try:
        values = [json.loads(content)]
    except json.JSONDecodeError as whole:
        lines = [(n, line) for n, line in enumerate(content.splitlines(), start=1) if line.strip()]
        if len(lines) < 2:
            raise LoadError(_json_error(label, whole)) from None
        values = []
        for n, line in lines:  # newline-delimited JSON: one document per line
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if n == lines[0][0] and path.suffix.lower() == ".json":
                    raise LoadError(_json_error(label, whole)) from None
                raise LoadError(
                    f"{label}, line {n}: not valid JSON ({exc.msg}, column {exc.colno}); "
                    f"expected one Jira REST API response per line"
                ) from None
    for value in values:
        yield from value if isinstance(value, list) else [value]


def _json_error(label: str, exc: json.JSONDecodeError) -> str:
    return (
        f"{label}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); "
        f"expected a Jira REST API response such as a /rest/api/3/search page"
    )


def _key_in_name(name: str) -> str | None:
    """The issue key a file's name carries (`SUP-12.comments.json`, `comments-SUP-12.json`), if any."""
    match = KEY.search(name)
    return match[0] if match else None


def _sort_document(doc: Any, label: str, name_key: str | None, export: Export) -> None:
    """File one JSON value under issues, comments, changelog entries or statuses; count the rest."""
    if not isinstance(doc, dict):
        export.skipped_documents += 1
        return
    ref = text(doc.get("issueKey")) or text(doc.get("issueIdOrKey")) or text(doc.get("issueId"))
    if isinstance(doc.get("issues"), list):  # /search or /search/jql page
        if isinstance(doc.get("names"), dict):
            export.names.update({str(k): str(v) for k, v in doc["names"].items()})
        if isinstance(doc.get("total"), int):
            export.totals.append(doc["total"])
        for issue in doc["issues"]:
            _sort_document(issue, label, None, export)
    elif isinstance(doc.get("fields"), dict):  # an issue (/rest/api/3/issue/{key} or an item of a page)
        if isinstance(doc.get("names"), dict):
            export.names.update({str(k): str(v) for k, v in doc["names"].items()})
        export.issues.append((label, doc))
        embedded = doc["fields"].get("comment")  # the `comment` field, when the search asked for it
        if isinstance(embedded, dict) and isinstance(embedded.get("comments"), list):
            key = text(doc.get("key"))
            export.comments += [Record(label, key, None, c) for c in embedded["comments"] if isinstance(c, dict)]
    elif isinstance(doc.get("comments"), list):  # /rest/api/3/issue/{key}/comment
        export.comments += [Record(label, ref, name_key, c) for c in doc["comments"] if isinstance(c, dict)]
    elif isinstance(doc.get("values"), list):  # servicedeskapi comments or /issue/{key}/changelog
        for value in doc["values"]:
            if isinstance(value, dict) and isinstance(value.get("items"), list):
                export.histories.append(Record(label, ref, name_key, value))
            elif isinstance(value, dict):
                export.comments.append(Record(label, ref, name_key, value))
    elif isinstance(doc.get("statusCategory"), dict) and "name" in doc:  # /rest/api/3/status
        key = text(doc["statusCategory"].get("key"))
        if key:
            export.categories[str(doc["name"]).casefold()] = key
    elif isinstance(doc.get("items"), list) and "created" in doc:  # one changelog entry
        export.histories.append(Record(label, ref, name_key, doc))
    elif "created" in doc and ("body" in doc or "jsdPublic" in doc or "public" in doc):  # one comment
        export.comments.append(Record(label, ref, name_key, doc))
    else:
        export.skipped_documents += 1


def text(value: Any) -> str | None:
    """A non-empty string or number as text; anything else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        stripped = str(value).strip()
        return stripped or None
    return None


def histories_of(issue: Mapping[str, Any]) -> list[dict[str, Any]]:
    changelog = issue.get("changelog")
    histories = changelog.get("histories") if isinstance(changelog, dict) else None
    return [h for h in histories if isinstance(h, dict)] if isinstance(histories, list) else []


class Clock:
    """Jira timestamps -> aware UTC datetimes; naive ones read in the source timezone and counted.

    Jira writes `2026-03-01T09:15:00.000+0100` (milliseconds, an offset without a colon);
    the servicedeskapi wraps it as {"iso8601", "jira", "epochMillis"}. A naive time in a
    spring-forward gap moves forward by the gap, an ambiguous one takes its first occurrence
    (fold=0), as the engine does.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.naive = 0

    def read(self, value: Any, *, count: bool = True) -> dt.datetime | None:
        if isinstance(value, dict):  # servicedeskapi DateDTO
            written = text(value.get("iso8601")) or text(value.get("jira"))
            millis = value.get("epochMillis")
            if written is None and isinstance(millis, int) and not isinstance(millis, bool):
                try:
                    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
                except (OverflowError, OSError, ValueError):
                    return None
            value = written
        if not isinstance(value, str):
            return None
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if parsed.tzinfo is None:
            self.naive += count
            parsed = parsed.replace(tzinfo=self.zone, fold=0)
        try:
            return parsed.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            return None
