"""Why an obligation is met, breached, pending or cancelled, in words a meeting accepts.

The explanation reads the very stages of the engine (the sla_* tables that
sql/obligations.sql builds: pauses, severity pieces, deadlines), so it cannot disagree
with the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from metrics.engine.calendars import working_intervals
from metrics.engine.obligations import as_utc, clock_cursor, obligations_arrow, run_stages
from metrics.storage.config import ALWAYS, Config, Terms
from metrics.storage.store import stored_config

MAX_INTERVALS = 12  # intervals listed per obligation before "... and N more"
# The case's opening date in its account's region calendar: the date that picks the terms in force.
LOCAL_OPENING_DATE_SQL = (
    "select cast(timezone(z.timezone, c.opened_at) as date) from cases c join accounts a using (account_id)"
    " join calendar_zones z on z.calendar = a.region where c.case_id = ?"
)


@dataclass
class Piece:
    start: dt.datetime
    end: dt.datetime | None  # None: runs to the obligation's end
    severity: int
    calendar: str
    target_seconds: int | None
    deadline: dt.datetime | None
    breached_at: dt.datetime | None


@dataclass
class Explanation:
    """One obligation: its numbers plus the intervals, pauses and pieces behind them."""

    row: dict[str, Any]
    ended_by: str | None
    pauses: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    intervals: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    more_intervals: int = 0
    verdict: str = ""
    # The package's definition the targets came from: its versions and the account's overrides
    # in force on the case's local opening date (None without a package).
    terms: Terms | None = None


def _ts(seconds: int | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


def fmt_time(moment: dt.datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%SZ")


def fmt_duration(seconds: float) -> str:
    """3h 05m, 2d 4h 00m; seconds shown only when there are some."""
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h {minutes:02d}m" + (f" {secs:02d}s" if secs else "")
    return sign + (f"{days}d {text}" if days else text)


def fmt_clock_time(seconds: float, calendar: str) -> str:
    """A clock duration in the clock's own terms: "72 business hours on americas", "4 hours, 24x7".

    A business target of 72 hours is three working weeks' worth of days, not three days:
    saying whose hours they are keeps it from being read against the calendar.
    """
    whole_hours, rest = divmod(int(seconds), 3600)
    amount = f"{whole_hours:,} hour{'s' if whole_hours != 1 else ''}" if not rest else fmt_duration(seconds)
    if calendar == ALWAYS:
        return f"{amount}, 24x7"
    if rest:
        return f"{amount} of business time on {calendar}"
    return f"{amount.replace('hour', 'business hour')} on {calendar}"


def explain_case(
    con: duckdb.DuckDBPyConnection, case_id: str, as_of: dt.datetime | str, config: Config | None = None
) -> list[Explanation]:
    """Every obligation of one case as of `as_of`, with the reasons behind each number."""
    moment = as_utc(as_of)
    config = config or stored_config(con)
    rows = obligations_arrow(con, moment, config, case_id).to_pylist()
    if not rows:
        return []
    cur = clock_cursor(con, moment, config)
    try:
        run_stages(cur, moment, case_id)
        ends = dict(cur.execute("select seq, ended_by from sla_obligations").fetchall())
        pauses = cur.execute(
            "select o.seq, p.from_s, p.to_s from sla_pauses p join sla_obligations o using (oid)"
            " order by o.seq, p.from_s"
        ).fetchall()
        pieces = cur.execute(
            "select o.seq, v.x, v.y, v.severity, v.calendar, v.target_seconds, v.deadline_s, v.breach_s"
            " from sla_piece_verdicts v join sla_obligations o using (oid) order by o.seq, v.x"
        ).fetchall()
        opened_on = cur.execute(LOCAL_OPENING_DATE_SQL, [case_id]).fetchall()[0][0]
    finally:
        cur.close()
    package, account = rows[0]["package"], rows[0]["account_id"]
    terms = config.terms_in_force(package, opened_on, account) if package is not None else None
    out = []
    for row in rows:
        seq = row["seq"]
        item = Explanation(row=row, ended_by=ends.get(seq), terms=terms)
        item.pauses = [(_ts(a), _ts(b)) for s, a, b in pauses if s == seq]  # type: ignore[misc]
        item.pieces = [
            Piece(_ts(x), _ts(y), sev, cal, target, _ts(deadline), _ts(breach))  # type: ignore[arg-type]
            for s, x, y, sev, cal, target, deadline, breach in pieces
            if s == seq
        ]
        _add_intervals(item, config, moment)
        item.verdict = verdict_sentence(item, moment)
        out.append(item)
    return out


def _add_intervals(item: Explanation, config: Config, as_of: dt.datetime) -> None:
    """The working intervals of the reported calendar inside [start, end], pauses not removed."""
    calendar = item.row["calendar"]
    if calendar == ALWAYS or calendar not in config.calendars:
        return
    start = item.row["start_at"]
    end = item.row["end_at"] or as_of
    spec = config.calendars[calendar]
    spans = working_intervals(spec, start.date() - dt.timedelta(days=1), end.date() + dt.timedelta(days=1))
    a, b = int(start.timestamp()), int(end.timestamp())
    clipped = [(max(s, a), min(e, b)) for s, e in spans if max(s, a) < min(e, b)]
    item.intervals = [(_ts(s), _ts(e)) for s, e in clipped[:MAX_INTERVALS]]  # type: ignore[misc]
    item.more_intervals = max(0, len(clipped) - MAX_INTERVALS)


def verdict_sentence(item: Explanation, as_of: dt.datetime) -> str:
    """One sentence: the status and the fact that decided it."""
    row = item.row
    status, deadline, end = row["status"], row["deadline_at"], row["end_at"]
    last = item.pieces[-1] if item.pieces else None
    if status == "suspended":
        return "Suspended: the account's support was suspended when this clock started, so no target applies."
    if status == "untargeted":
        if row["package"] is None:
            return "Untargeted: no package was in force on the case's local opening date, so no target applies."
        kind = "initial" if row["kind"] == "initial" else "follow-up"
        return f"Untargeted: package {row['package']} sets no {kind} target at severity {row['severity']}."
    if status == "breached":
        breach = row["breached_at"]
        piece = next((p for p in item.pieces if p.breached_at == breach), last)
        if piece is not None and piece.deadline is not None and breach > piece.deadline:
            return (
                f"Breached at {fmt_time(breach)}: the severity was raised to {piece.severity} then, when its "
                f"deadline {fmt_time(piece.deadline)} had already passed."
            )
        what = {"response": "the agent response", "close": "the close"}.get(item.ended_by or "", "the as-of moment")
        when = fmt_time(end or as_of)
        sev = piece.severity if piece else row["severity"]
        return f"Breached at {fmt_time(breach)}: the severity-{sev} deadline passed before {what} at {when}."
    remaining = (deadline - (end or as_of)).total_seconds() if deadline else 0
    if status == "met":
        return (
            f"Met: an agent responded at {fmt_time(end)}, {fmt_duration(remaining)} "
            f"before the deadline {fmt_time(deadline)}."
        )
    if status == "cancelled":
        return (
            f"Cancelled: the case was closed at {fmt_time(end)} before an agent response, "
            f"{fmt_duration(remaining)} before the deadline."
        )
    paused = any(b >= as_of for _, b in item.pauses)
    state = "paused while waiting on the customer" if paused else "running"
    target = row["target_seconds"] or 0
    return (
        f"Pending: the clock is {state}; {fmt_duration(row['elapsed_seconds'])} of {fmt_duration(target)} used, "
        f"deadline {fmt_time(deadline)} if it runs on from now."
    )


def format_explanations(case_id: str, items: list[Explanation], as_of: dt.datetime) -> str:
    """Plain text for the CLI (the dashboard lays out the same Explanation objects)."""
    if not items:
        return f"Case {case_id}: no obligations as of {fmt_time(as_of)} (unknown case, or opened later)."
    lines = [f"Case {case_id} as of {fmt_time(as_of)}"]
    for item in items:
        r = item.row
        name = "initial response" if r["kind"] == "initial" else f"follow-up #{r['seq']}"
        target = fmt_clock_time(r["target_seconds"], r["calendar"]) if r["target_seconds"] else "no target"
        lines.append("")
        lines.append(
            f"{name} [{r['status']}]  package {r['package'] or '-'}, severity {r['severity']}, "
            f"target {target}"
        )
        if item.terms is not None:
            lines.append(f"  terms: {item.terms.describe()}")
        ended = {"response": "an agent response", "close": "the case's close"}.get(item.ended_by or "")
        lines.append(
            f"  started {fmt_time(r['start_at'])}; "
            + (f"ended {fmt_time(r['end_at'])} by {ended}" if ended else "still running")
        )
        if r["calendar"] == ALWAYS:
            lines.append("  clock: 24x7, every second counts")
        elif item.intervals:
            lines.append(f"  working intervals of {r['calendar']} counted (UTC):")
            lines += [
                f"    {fmt_time(a)} -> {fmt_time(b)}  ({fmt_duration((b - a).total_seconds())})"
                for a, b in item.intervals
            ]
            if item.more_intervals:
                lines.append(f"    ... and {item.more_intervals} more")
        else:
            lines.append(f"  no working time of {r['calendar']} inside the obligation's life")
        for a, b in item.pauses:
            lines.append(
                f"  paused (pending_customer) {fmt_time(a)} -> {fmt_time(b)}  ({fmt_duration((b - a).total_seconds())})"
            )
        for p in item.pieces:
            span = f"{fmt_time(p.start)} -> {fmt_time(p.end) if p.end else 'end'}"
            deadline = f"deadline {fmt_time(p.deadline)}" if p.deadline else "no target"
            breach = f", breaches at {fmt_time(p.breached_at)}" if p.breached_at else ""
            lines.append(f"  severity {p.severity} on {p.calendar} for {span}: {deadline}{breach}")
        lines.append(f"  elapsed {fmt_clock_time(r['elapsed_seconds'], r['calendar'])}")
        lines.append(f"  {item.verdict}")
    return "\n".join(lines)
