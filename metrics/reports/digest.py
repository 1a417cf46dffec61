"""The at-risk digest: per advisor, the clocks at risk or breached and the weekly updates owed.

For a scheduler (cron, a chat webhook): as of one instant, the Active tickets page's queue
(`metrics.subjects.active.active_tickets`) narrowed to the clocks `breached` or `at_risk`,
and the accounts whose update for the last complete ISO week (reporting timezone) is owed
and not yet marked sent in the workspace (`metrics.subjects.weekly_delivery`). Rendered as
Markdown and HTML with every data value escaped, or as JSON with UTC ISO 8601 instants.
As-of is passed in, never read from a clock.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from metrics.engine.snapshot import Snapshot
from metrics.reports.html import page
from metrics.safe_text import h, md, md_code
from metrics.subjects.active import active_tickets
from metrics.subjects.filters import Filters
from metrics.subjects.weekly_delivery import monday, week_due, weekly_delivery
from metrics.workspace import Workspace

URGENT_STATES = ("breached", "at_risk")
NO_ADVISOR = "(no advisor)"
KIND_WORDS = {"initial": "initial response", "follow_up": "follow-up"}


@dataclass(frozen=True)
class Clock:
    """One running clock breached or at risk, on an active case."""

    case_id: str
    account_id: str
    account_name: str
    severity: int
    kind: str
    clock_state: str
    deadline_at: dt.datetime | None  # UTC
    breached_at: dt.datetime | None  # UTC
    remaining_seconds: float | None  # clock seconds left (negative once breached)


@dataclass(frozen=True)
class OwedUpdate:
    """An account whose weekly update for the digest's week is owed and not marked sent."""

    account_id: str
    account_name: str


@dataclass(frozen=True)
class AdvisorDigest:
    advisor: str  # NO_ADVISOR for accounts without one
    clocks: tuple[Clock, ...]
    updates_owed: tuple[OwedUpdate, ...]


@dataclass(frozen=True)
class Digest:
    as_of: dt.datetime  # UTC
    timezone: str  # the reporting timezone the week is cut in
    week_start: dt.date  # Monday of the last complete ISO week at as-of
    due_at: dt.datetime  # UTC: updates for that week are late from this instant
    advisors: tuple[AdvisorDigest, ...]

    @property
    def week(self) -> str:
        return f"{self.week_start:%G-W%V}"


def last_complete_week(as_of: dt.datetime, timezone: str) -> dt.date:
    """Monday of the last ISO week over at `as_of` (a week ends at the next Monday 00:00 local)."""
    return monday(as_of.astimezone(ZoneInfo(timezone)).date()) - dt.timedelta(days=7)


def _instant(value: Any) -> dt.datetime | None:
    if value is None or pd.isna(value):
        return None
    moment: dt.datetime = pd.Timestamp(value).tz_convert("UTC").to_pydatetime()
    return moment


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def build_digest(
    snap: Snapshot, workspace: Workspace | None, advisor: str | None = None, filters: Filters = Filters()
) -> Digest:
    """The digest as of the snapshot's as-of, of one advisor's accounts or of all (grouped by advisor).

    Advisors are listed by name, accounts without one last; an advisor with nothing to report
    is left out. `filters` narrows the accounts further (the period does not apply).
    """
    timezone = snap.reporting_timezone
    week_start = last_complete_week(snap.as_of, timezone)
    narrowed = Filters(
        packages=filters.packages, severities=filters.severities, regions=filters.regions,
        advisors=(advisor,) if advisor is not None else filters.advisors, accounts=filters.accounts,
    )
    queue = active_tickets(snap, narrowed)
    urgent = queue[queue["clock_state"].isin(URGENT_STATES)]
    week_filters = Filters(
        start=week_start, end=week_start + dt.timedelta(days=6), packages=narrowed.packages,
        regions=narrowed.regions, advisors=narrowed.advisors, accounts=narrowed.accounts,
    )
    delivery = weekly_delivery(snap, week_filters, workspace)
    owed = delivery[delivery["sent_at"].isna()]

    clocks: dict[str, list[Clock]] = {}
    for r in urgent.itertuples(index=False):
        clocks.setdefault(r.advisor if isinstance(r.advisor, str) else NO_ADVISOR, []).append(
            Clock(
                str(r.case_id), str(r.account_id), str(r.account_name), int(r.severity), str(r.kind),
                str(r.clock_state), _instant(r.deadline_at), _instant(r.breached_at), _number(r.remaining_seconds),
            )
        )
    updates: dict[str, list[OwedUpdate]] = {}
    for r in owed.sort_values(["account_name", "account_id"]).itertuples(index=False):
        updates.setdefault(r.advisor if isinstance(r.advisor, str) else NO_ADVISOR, []).append(
            OwedUpdate(str(r.account_id), str(r.account_name))
        )
    names = sorted(set(clocks) | set(updates), key=lambda n: (n == NO_ADVISOR, n))
    return Digest(
        snap.as_of.astimezone(dt.UTC),
        timezone,
        week_start,
        week_due(week_start, timezone),
        tuple(AdvisorDigest(n, tuple(clocks.get(n, [])), tuple(updates.get(n, []))) for n in names),
    )


# ------------------------------------------------------------------ rendering


def _utc(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _people_time(at: dt.datetime | None) -> str:
    return "" if at is None else f"{at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _due_words(digest: Digest) -> str:
    """'(on time until Mon 23 Nov 2026 23:59 MST)', or '(late since Tue 24 Nov 2026 00:00 MST)' once past it."""
    zone = ZoneInfo(digest.timezone)
    if digest.as_of >= digest.due_at:
        late = digest.due_at.astimezone(zone)
        return f"(late since {late:%a} {late.day} {late:%b %Y %H:%M %Z})"
    last = (digest.due_at - dt.timedelta(minutes=1)).astimezone(zone)
    return f"(on time until {last:%a} {last.day} {last:%b %Y %H:%M %Z})"


def _clock_words(c: Clock) -> str:
    """'severity 1 initial response, breached at 2026-11-26 14:00 UTC' (plain text, escaped by the caller)."""
    what = f"severity {c.severity} {KIND_WORDS.get(c.kind, c.kind)}"
    if c.clock_state == "breached":
        return f"{what}, breached at {_people_time(c.breached_at)}"
    left = "" if c.remaining_seconds is None else f", {_hours(c.remaining_seconds)} of clock time left"
    return f"{what}, at risk: deadline {_people_time(c.deadline_at)}{left}"


def _hours(seconds: float) -> str:
    minutes = max(0, math.floor(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} m"


def to_json(digest: Digest) -> str:
    """Machine-readable: UTC ISO 8601 instants, values verbatim (a consumer escapes for its medium)."""
    data = {
        "as_of": _utc(digest.as_of),
        "week": digest.week,
        "week_start": digest.week_start.isoformat(),
        "updates_due_at": _utc(digest.due_at),
        "advisors": [
            {
                "advisor": None if a.advisor == NO_ADVISOR else a.advisor,
                "clocks": [
                    {
                        "case_id": c.case_id, "account_id": c.account_id, "account_name": c.account_name,
                        "severity": c.severity, "kind": c.kind, "clock_state": c.clock_state,
                        "deadline_at": _utc(c.deadline_at), "breached_at": _utc(c.breached_at),
                        "remaining_seconds": c.remaining_seconds,
                    }
                    for c in a.clocks
                ],
                "updates_owed": [{"account_id": u.account_id, "account_name": u.account_name} for u in a.updates_owed],
            }
            for a in digest.advisors
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _title(digest: Digest) -> str:
    return f"At-risk digest as of {_people_time(digest.as_of)}"


def to_markdown(digest: Digest) -> str:
    """For a chat message: each value escaped (`md`), ids in code spans."""
    lines = [f"# {md(_title(digest))}", ""]
    if not digest.advisors:
        lines.append(md(f"Nothing at risk or breached, and every update for {digest.week} is sent."))
    for a in digest.advisors:
        lines += [f"## {md(a.advisor)}", ""]
        lines.append(f"**Clocks breached or at risk: {len(a.clocks)}**")
        lines += [""] + [f"- {md_code(c.case_id)} {md(c.account_name)}: {md(_clock_words(c))}" for c in a.clocks]
        lines += ["", f"**Weekly updates owed for {md(digest.week)}: {len(a.updates_owed)}** "
                      f"{md(_due_words(digest))}"]
        lines += [""] + [f"- {md(u.account_name)} ({md_code(u.account_id)})" for u in a.updates_owed]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def to_html(digest: Digest) -> str:
    """A self-contained page for a mail or a webhook that takes HTML: each value escaped (`h`)."""
    parts = [f"<h1>{h(_title(digest))}</h1>"]
    if not digest.advisors:
        parts.append(f"<p>{h(f'Nothing at risk or breached, and every update for {digest.week} is sent.')}</p>")
    for a in digest.advisors:
        parts.append(f"<h2>{h(a.advisor)}</h2>")
        parts.append(f"<p><strong>Clocks breached or at risk: {len(a.clocks)}</strong></p>")
        if a.clocks:
            items = "".join(
                f"<li><code>{h(c.case_id)}</code> {h(c.account_name)}: {h(_clock_words(c))}</li>" for c in a.clocks
            )
            parts.append(f"<ul>{items}</ul>")
        parts.append(
            f"<p><strong>Weekly updates owed for {h(digest.week)}: {len(a.updates_owed)}</strong> "
            f"{h(_due_words(digest))}</p>"
        )
        if a.updates_owed:
            items = "".join(f"<li>{h(u.account_name)} (<code>{h(u.account_id)}</code>)</li>" for u in a.updates_owed)
            parts.append(f"<ul>{items}</ul>")
    return page(_title(digest), "\n".join(parts))


def render(digest: Digest, fmt: str) -> str:
    """The digest as `md`, `html` or `json`."""
    renderers = {"md": to_markdown, "html": to_html, "json": to_json}
    if fmt not in renderers:
        raise ValueError(f"format must be one of {', '.join(renderers)}, got {fmt!r}")
    return renderers[fmt](digest)
