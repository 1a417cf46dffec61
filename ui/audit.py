"""The audit trail: sign-ins, refusals, data loads and downloads, appended to a JSON-lines file.

One JSON object per line: `time` (UTC, ISO 8601), `event` (`sign_in`, `denied`,
`data_load`, `load_refused`, `download`), `identity`, `role`, and `what` (page, filters,
file, dataset...). The file sits beside the served store (`audit.jsonl`) unless
`SUPPORT_ANALYTICS_AUDIT` names another; never inside the analytical store, which each
load replaces. Lines are only ever appended (one `write` per line under an exclusive lock,
so concurrent sessions never interleave); admins read it on the Data page.

Plain Python: no Streamlit, no SQL.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from metrics.storage.store import dashboard_db

AUDIT_ENV = "SUPPORT_ANALYTICS_AUDIT"
EVENTS = ("sign_in", "denied", "data_load", "load_refused", "download")
COLUMNS = ["time", "event", "identity", "role", "what"]
log = logging.getLogger(__name__)


def audit_path() -> Path:
    """$SUPPORT_ANALYTICS_AUDIT, else `audit.jsonl` beside the served store."""
    chosen = os.environ.get(AUDIT_ENV, "").strip()
    return Path(chosen) if chosen else dashboard_db().parent / "audit.jsonl"


def record(event: str, identity: str, role: str, what: Mapping[str, object], path: Path | None = None) -> None:
    """Append one entry (a failure to write is logged on the server; it never breaks the page)."""
    entry = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "event": event,
        "identity": identity,
        "role": role,
        "what": dict(what),
    }
    line = (json.dumps(entry, default=str, ensure_ascii=False) + "\n").encode()
    target = path or audit_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
        finally:
            os.close(fd)  # closing releases the lock
    except OSError:
        log.exception("could not append to the audit trail")


def describe(what: Mapping[str, object]) -> str:
    """`what` as one readable line: `page=overview; file=loads.csv; filters=package=Gold`."""
    return "; ".join(f"{k}={v}" for k, v in what.items() if v not in (None, "", [], {}))


def entries(path: Path | None = None) -> pd.DataFrame:
    """Every entry, newest first (`what` as one line of text); a line that cannot be read is skipped."""
    target = path or audit_path()
    rows: list[dict[str, object]] = []
    try:
        with target.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    raw = json.loads(line)
                    rows.append({**{k: raw.get(k, "") for k in COLUMNS}, "what": describe(raw.get("what") or {})})
                except (ValueError, AttributeError):
                    continue  # a line cut short by a crash
    except FileNotFoundError:
        pass
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.iloc[::-1].reset_index(drop=True)


def matching(frame: pd.DataFrame, events: tuple[str, ...] = (), text: str = "") -> pd.DataFrame:
    """The entries of `events` (all when empty) whose identity, role or what contains `text` (case-insensitive)."""
    keep = frame["event"].isin(events) if events else pd.Series(True, index=frame.index)
    needle = text.strip().lower()
    if needle:
        haystack = (frame["identity"].astype(str) + " " + frame["role"].astype(str) + " " + frame["what"].astype(str))
        keep &= haystack.str.lower().str.contains(needle, regex=False)
    return frame[keep].reset_index(drop=True)
