"""The weekly update: one account and one ISO week, as JSON, Markdown and self-contained HTML.

The week is [Monday 00:00, next Monday 00:00) in the reporting timezone and everything is
computed as of its end (sla-rules.md section 7). The JSON holds exactly the section's keys;
the text an advisor sends adds the week's cases, each miss with the engine's own reason, the
escalations, the active tickets at the week's end, utilization to date and the change
against the previous week (computed the same way, as of that week's end).

Counting rules, all half-open on UTC instants (an event at exactly the week's end belongs to
the next week, although the as-of cut keeps it): `opened` by `opened_at`; `closed` when the
status at the end is closed and the last change to closed (`case_facts.closed_at`) lies in
the week; `active_at_end` opened before the end and open at it; met and breached
obligations by `start_at`; `breached_case_ids` and policy escalations by `breached_at`;
recorded escalations by the change's instant.

Names, ids and subjects come from the dataset's files: the Markdown and the HTML escape each
of them (`metrics.safe_text`), so a subject cannot add a link, an image or markup.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import sqlfiles
from metrics.engine.explain import Explanation, Piece, fmt_duration
from metrics.engine.explain import verdict_sentence as explain_verdict  # the one sentence `explain` prints
from metrics.engine.obligations import EXPORT_COLUMNS, RESULT_SQL, clock_cursor, run_stages
from metrics.engine.snapshot import Snapshot, take_snapshot
from metrics.safe_text import h, md
from metrics.storage.config import Config
from metrics.storage.store import stored_config
from metrics.subjects.definitions import MetricDefinition
from metrics.subjects.filters import Filters

COUNTS_SQL = sqlfiles.read(__file__, "weekly_counts.sql")
CASES_SQL = sqlfiles.read(__file__, "weekly_cases.sql")
ESCALATIONS_SQL = sqlfiles.read(__file__, "weekly_escalations.sql")
ACTIVE_IDS_SQL = """
    select account_id, case_id from case_facts
    where opened_at < $week_end and status in ('open', 'pending_customer')
"""
MISSES_SQL = """
    select account_id, case_id, kind, seq, severity, start_at, deadline_at, end_at, breached_at
    from obligations
    where breached_at >= $week_start and breached_at < $week_end
    order by account_id, breached_at, case_id, seq
"""
# The severity pieces of every obligation that breached in [?, ?), read from the engine's stages
# (the tables explain_case reads).
BREACH_PIECES_SQL = """
    select o.oid, o.ended_by, v.x, v.y, v.severity, v.calendar, v.target_seconds, v.deadline_s, v.breach_s
    from sla_piece_verdicts v join sla_obligations o using (oid)
    where o.oid in (select oid from sla_verdicts where breach_s >= ? and breach_s < ?)
    order by o.oid, v.x
"""

# sla-rules.md section 7, in its order: `to_json` returns exactly these keys.
JSON_KEYS = (
    "account_id", "week", "opened", "closed", "active_at_end", "initial_met", "initial_breached",
    "follow_up_met", "follow_up_breached", "breached_case_ids", "escalations",
)  # fmt: skip
FORMATS = ("json", "md", "html")
MAX_LISTED = 50  # rows of a case list in the text before "... and N more"
WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{2})")

DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "cases_opened", "Cases opened", "cases", "cases whose opened_at falls in the period", None, "opened_at"
    ),
    MetricDefinition(
        "cases_closed",
        "Cases closed",
        "cases closed at the period's end",
        "cases whose status is closed at the period's end and whose last change to closed falls in the period",
        None,
        "closed_at",
        "A case closed and reopened inside the period is not counted; one closed again later counts then.",
    ),
    MetricDefinition(
        "active_at_end",
        "Active at period end",
        "cases opened before the period's end and open (open or pending_customer) at it",
        "cases",
        None,
        None,
        "The weekly update's `active_at_end`, computed as of the week's end.",
    ),
    MetricDefinition(
        "cases_with_a_miss",
        "Cases with a missed target",
        "distinct cases with an obligation whose breached_at falls in the period",
        "cases",
        None,
        "breached_at",
        "The weekly update's `breached_case_ids`.",
    ),
)


class UnknownAccountError(ValueError):
    """An account id the store does not hold (the CLI prints it as one line, exit status 2)."""


# ----------------------------------------------------------------------------- weeks


def parse_week(text: str) -> dt.date:
    """The Monday of ISO week `text` ('2026-W11'); a ValueError saying what was expected otherwise."""
    match = WEEK_PATTERN.fullmatch(text)
    if not match or int(match[1]) < 1:
        raise ValueError(f"expected an ISO week such as 2026-W11, got {text!r}")
    year, week = int(match[1]), int(match[2])
    last = dt.date(year, 12, 28).isocalendar().week  # 28 December always lies in the year's last ISO week
    if not 1 <= week <= last:
        raise ValueError(f"{year} has ISO weeks W01 to W{last}, got {text!r}")
    return dt.date.fromisocalendar(year, week, 1)


def week_bounds(week: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) of ISO `week` in `timezone`, as UTC instants.

    A week holding a DST change is 167 or 169 hours long: W10 of 2026 in Denver runs from
    2026-03-02T07:00Z to 2026-03-09T06:00Z.
    """
    monday = parse_week(week)
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def previous_week(week: str) -> str:
    """The ISO week before `week`: 2026-W01 -> 2025-W52, 2027-W01 -> 2026-W53."""
    year, number, _ = (parse_week(week) - dt.timedelta(days=7)).isocalendar()
    return f"{year}-W{number:02d}"


# ----------------------------------------------------------------------------- the numbers


@dataclass(frozen=True)
class WeekCounts:
    """The section-7 counts of one account and week, escalations split by kind."""

    opened: int
    closed: int
    active_at_end: int
    initial_met: int
    initial_breached: int
    follow_up_met: int
    follow_up_breached: int
    breached_case_ids: tuple[str, ...]
    policy_escalations: int
    recorded_escalations: int

    @property
    def escalations(self) -> int:
        return self.policy_escalations + self.recorded_escalations

    @property
    def met(self) -> int:
        return self.initial_met + self.follow_up_met

    @property
    def breached(self) -> int:
        return self.initial_breached + self.follow_up_breached

    @property
    def attainment(self) -> float | None:
        """Met / (met + breached) over the obligations started in the week; None when none was decided."""
        decided = self.met + self.breached
        return self.met / decided if decided else None


@dataclass
class WeeklyUpdate:
    """Everything the weekly update of one account shows; frames hold only this account's rows."""

    account_id: str
    account_name: str
    advisor: str | None
    package: str | None  # in force on the week's last day (account's calendar)
    week: str
    timezone: str  # the reporting timezone the week is cut in
    week_start: dt.datetime  # UTC
    week_end: dt.datetime  # UTC; also the as-of of every number
    counts: WeekCounts
    previous_week: str
    previous: WeekCounts | None  # the previous week as of its own end; None without details
    cases: pd.DataFrame  # opened or closed in the week (weekly_cases.sql)
    misses: pd.DataFrame  # obligations breached in the week, with `why`
    recorded_escalations: pd.DataFrame  # case_changes escalations in the week
    active: pd.DataFrame | None = None  # active.active_tickets rows; None when unavailable
    utilization: pd.DataFrame | None = None  # utilization_by_term rows; None when unavailable


def weekly_counts(snap: Snapshot, week: str) -> pd.DataFrame:
    """The section-7 counts of every account of `snap` for ISO `week`, one row per account.

    Take the snapshot at the week's end (`week_bounds(week, tz)[1]`); an earlier as-of gives
    the week so far. Columns: account_id, the count keys, breached_case_ids (sorted list),
    policy_escalations, recorded_escalations.
    """
    start, end = week_bounds(week, snap.reporting_timezone)
    cur = snap.cursor()
    try:
        return _query(cur, COUNTS_SQL, start, end, snap.accounts)
    finally:
        cur.close()


def _query(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    start: dt.datetime,
    end: dt.datetime,
    accounts: Sequence[str] | None = None,
) -> pd.DataFrame:
    values: dict[str, object] = {
        "week_start": start,
        "week_end": end,
        "accounts": None if accounts is None else list(accounts),
    }
    params = sqlfiles.bind(sql, values)
    return cur.sql(sql, params=params).to_arrow_table().to_pandas()


def _counts_by_account(frame: pd.DataFrame) -> dict[str, WeekCounts]:
    out = {}
    for row in frame.to_dict("records"):
        ids = row["breached_case_ids"]
        out[row["account_id"]] = WeekCounts(
            opened=int(row["opened"]),
            closed=int(row["closed"]),
            active_at_end=int(row["active_at_end"]),
            initial_met=int(row["initial_met"]),
            initial_breached=int(row["initial_breached"]),
            follow_up_met=int(row["follow_up_met"]),
            follow_up_breached=int(row["follow_up_breached"]),
            breached_case_ids=tuple(str(i) for i in (ids if ids is not None else [])),
            policy_escalations=int(row["policy_escalations"]),
            recorded_escalations=int(row["recorded_escalations"]),
        )
    return out


def miss_reasons(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime,
    config: Config,
    accounts: list[str],
    since: dt.datetime,
) -> dict[tuple[str, int], str]:
    """explain.py's one-sentence reason for each obligation of `accounts` breached in [since, as_of).

    The sentences are those `explain_case` gives, built from one engine run over the accounts:
    explain_case runs the engine once per case (a fraction of a second each on a million cases)
    and a busy account misses dozens of targets a week. Keyed by (case_id, seq).
    """
    cur = clock_cursor(con, as_of, config)
    try:
        run_stages(cur, as_of, accounts=accounts)
        window = [int(since.timestamp()), int(as_of.timestamp())]
        rows = (
            cur.sql(
                f"select {', '.join(EXPORT_COLUMNS)}, oid from ({RESULT_SQL})"
                " where oid in (select oid from sla_verdicts where breach_s >= ? and breach_s < ?)",
                params=window,
            )
            .to_arrow_table()
            .to_pylist()
        )
        pieces = cur.execute(BREACH_PIECES_SQL, window).fetchall()
    finally:
        cur.close()
    by_oid: dict[int, list[tuple]] = {}
    for piece in pieces:
        by_oid.setdefault(piece[0], []).append(piece)
    reasons = {}
    for row in rows:
        if row["breached_at"] is None:  # a breach inside a suspension is no miss
            continue
        mine = by_oid[row["oid"]]
        item = Explanation(row={k: row[k] for k in EXPORT_COLUMNS}, ended_by=mine[0][1])
        item.pieces = [
            Piece(_instant(x), _instant(y), sev, cal, target, _instant(deadline), _instant(breach))  # type: ignore[arg-type]
            for _, _, x, y, sev, cal, target, deadline, breach in mine
        ]
        reasons[(row["case_id"], row["seq"])] = explain_verdict(item, as_of)
    return reasons


def _instant(seconds: int | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


def _account_rows(con: duckdb.DuckDBPyConnection, account_ids: list[str]) -> dict[str, dict]:
    cur = con.cursor()
    try:
        found = cur.execute(
            "select account_id, name, advisor, region from accounts where list_contains(?, account_id)", [account_ids]
        ).fetchall()
    finally:
        cur.close()
    rows = {r[0]: {"name": r[1], "advisor": r[2], "region": r[3]} for r in found}
    unknown = [a for a in account_ids if a not in rows]
    if unknown:
        raise UnknownAccountError(f"unknown account {unknown[0]!r}: the store has no account with that account_id")
    return rows


def _packages(
    con: duckdb.DuckDBPyConnection, accounts: dict[str, dict], config: Config, week_end: dt.datetime
) -> dict[str, str]:
    """The package in force on the week's last local day (in each account's calendar), for the heading."""
    last_instant = week_end - dt.timedelta(seconds=1)
    out = {}
    cur = con.cursor()
    try:
        for account_id, info in accounts.items():
            spec = config.calendars.get(info["region"])
            day = last_instant.astimezone(ZoneInfo(spec.timezone)).date() if spec else last_instant.date()
            found = cur.execute(
                "select package from subscriptions where account_id = ? and ? between start_date and end_date",
                [account_id, day],
            ).fetchall()
            if found:
                out[account_id] = found[0][0]
    finally:
        cur.close()
    return out


def advisor_accounts(con: duckdb.DuckDBPyConnection, advisor: str) -> list[str]:
    """The account ids whose named advisor is `advisor`, sorted."""
    cur = con.cursor()
    try:
        rows = cur.execute(
            "select account_id from accounts where advisor = ? order by account_id", [advisor]
        ).fetchall()
    finally:
        cur.close()
    return [r[0] for r in rows]


def weekly_update(
    con: duckdb.DuckDBPyConnection,
    account_id: str,
    week: str,
    config: Config | None = None,
    details: bool = True,
) -> WeeklyUpdate:
    """The weekly update of one account for ISO `week` ('2026-W11'), as of the week's end.

    Raises ValueError for a malformed week and UnknownAccountError for an account the store lacks.
    """
    return weekly_updates(con, [account_id], week, config, details)[0]


def weekly_updates(
    con: duckdb.DuckDBPyConnection,
    account_ids: Sequence[str],
    week: str,
    config: Config | None = None,
    details: bool = True,
) -> list[WeeklyUpdate]:
    """The weekly updates of several accounts (an advisor's book) from one snapshot per week.

    `details=False` computes only what `to_json` needs, from one engine run instead of three:
    no previous week, no reasons for the misses, no active tickets or utilization.
    """
    config = config or stored_config(con)
    tz = config.reporting_timezone
    start, end = week_bounds(week, tz)
    before = previous_week(week)
    ids = list(dict.fromkeys(account_ids))
    accounts = _account_rows(con, ids)

    snap = take_snapshot(con, end, config, ids)
    cur = snap.cursor()
    try:
        counts = _counts_by_account(_query(cur, COUNTS_SQL, start, end, ids))
        cases = _query(cur, CASES_SQL, start, end)
        recorded = _query(cur, ESCALATIONS_SQL, start, end)
        misses = _query(cur, MISSES_SQL, start, end)
        active_ids = set(_query(cur, ACTIVE_IDS_SQL, start, end)["case_id"])
    finally:
        cur.close()
    reasons = miss_reasons(con, end, config, ids, start) if details and len(misses) else {}
    misses["why"] = [reasons.get((c, int(s)), "") for c, s in zip(misses["case_id"], misses["seq"], strict=True)]
    previous = _previous_counts(con, before, config, ids) if details else {}
    active = _active_tickets(snap, ids, active_ids) if details else None
    utilization = _utilization(snap, ids) if details else None
    packages = _packages(con, accounts, config, end)
    return [
        WeeklyUpdate(
            account_id=a,
            account_name=accounts[a]["name"],
            advisor=accounts[a]["advisor"],
            package=packages.get(a),
            week=week,
            timezone=tz,
            week_start=start,
            week_end=end,
            counts=counts[a],
            previous_week=before,
            previous=previous.get(a),
            cases=_of(cases, a),
            misses=_of(misses, a),
            recorded_escalations=_of(recorded, a),
            active=None if active is None else _of(active, a),
            utilization=None if utilization is None else _of(utilization, a),
        )
        for a in ids
    ]


def _previous_counts(
    con: duckdb.DuckDBPyConnection, week: str, config: Config, ids: list[str]
) -> dict[str, WeekCounts]:
    """The counts of `week` as of its own end, for the change against the previous week."""
    start, end = week_bounds(week, config.reporting_timezone)
    cur = take_snapshot(con, end, config, ids).cursor()
    try:
        return _counts_by_account(_query(cur, COUNTS_SQL, start, end, ids))
    finally:
        cur.close()


def _of(frame: pd.DataFrame, account_id: str) -> pd.DataFrame:
    return frame[frame["account_id"] == account_id].reset_index(drop=True)


def _active_tickets(snap: Snapshot, ids: list[str], active_ids: set[str]) -> pd.DataFrame | None:
    """The active-tickets page's rows at the week's end, for the cases `active_at_end` counts."""
    try:
        from metrics.subjects.active import active_tickets
    except ImportError:
        return None
    frame = active_tickets(snap, Filters(accounts=tuple(ids)))
    # a case opened at exactly the week's end exists as of it but belongs to the next week
    return frame[frame["case_id"].isin(active_ids)].reset_index(drop=True)


def _utilization(snap: Snapshot, ids: list[str]) -> pd.DataFrame | None:
    try:
        from metrics.subjects.utilization import utilization_by_term
    except ImportError:
        return None
    return utilization_by_term(snap, Filters(accounts=tuple(ids)))


# ----------------------------------------------------------------------------- JSON


def to_json(update: WeeklyUpdate) -> dict[str, object]:
    """Exactly the keys of sla-rules.md section 7, in its order."""
    c = update.counts
    return {
        "account_id": update.account_id,
        "week": update.week,
        "opened": c.opened,
        "closed": c.closed,
        "active_at_end": c.active_at_end,
        "initial_met": c.initial_met,
        "initial_breached": c.initial_breached,
        "follow_up_met": c.follow_up_met,
        "follow_up_breached": c.follow_up_breached,
        "breached_case_ids": list(c.breached_case_ids),
        "escalations": c.escalations,
    }


# ----------------------------------------------------------------------------- text


class _Data(str):
    """A value read from the dataset (a name, an id, a subject): escaped as data wherever it is written.

    The sections hold plain text; the update's own words are str and the data values _Data, so
    Markdown escapes each the way it needs (`md` for data) and HTML escapes both.
    """


_Line = tuple[str, ...]  # one line in pieces: ("Package ", _Data("Gold"), ", term ...")


@dataclass
class _Section:
    """One part of the text, rendered alike as Markdown and as HTML."""

    title: str
    text: Sequence[str | _Line] = field(default_factory=list)
    headers: tuple[str, ...] = ()
    rows: Sequence[tuple[str, ...]] = field(default_factory=list)
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    note: str = ""


def _local(moment: object, tz: str) -> str:
    """An instant as local wall time in the reporting timezone: 'Tue 2026-03-10 09:00 MDT'."""
    if moment is None or moment is pd.NaT or (isinstance(moment, float) and pd.isna(moment)):
        return "-"
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert(tz).strftime("%a %Y-%m-%d %H:%M %Z")


def _signed(delta: int) -> str:
    return f"+{delta}" if delta > 0 else ("0" if delta == 0 else f"−{-delta}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _number(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if number.is_integer() else f"{number:.1f}"


def _text(value: object, missing: str = "-") -> str:
    """A cell's text; None, NaN and NA (pandas' empty cells) read as `missing`."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return missing
    return str(value)


def _minutes(seconds: object) -> str:
    """A duration to the minute (an email needs no seconds): '2d 4h 05m', '-13h 10m'."""
    if seconds is None or pd.isna(seconds):
        return "-"
    value = float(seconds)  # type: ignore[arg-type]
    return fmt_duration(60 * int(value / 60))


def _obligation_name(kind: str, seq: int) -> str:
    return "initial response" if kind == "initial" else f"follow-up #{seq}"


def _title(u: WeeklyUpdate) -> _Line:
    return "Weekly update: ", _Data(u.account_name), " (", _Data(u.account_id), f"), {u.week}"


def _meta(u: WeeklyUpdate) -> _Line:
    monday = u.week_start.astimezone(ZoneInfo(u.timezone))
    sunday = monday + dt.timedelta(days=6)
    parts: list[str] = [
        f"{monday:%a %Y-%m-%d} to {sunday:%a %Y-%m-%d} (", _Data(u.timezone), ")",
        f" · as of {_local(u.week_end, u.timezone)}",
    ]  # fmt: skip
    if u.package:
        parts += [" · package ", _Data(u.package)]
    if u.advisor:
        parts += [" · advisor ", _Data(u.advisor)]
    return tuple(parts)


def _summary_lines(c: WeekCounts) -> list[tuple[str, int]]:
    return [
        ("Cases opened", c.opened),
        ("Cases closed", c.closed),
        ("Active at week end", c.active_at_end),
        ("Initial responses met", c.initial_met),
        ("Initial responses missed", c.initial_breached),
        ("Follow-ups met", c.follow_up_met),
        ("Follow-ups missed", c.follow_up_breached),
        ("Cases with a missed target", len(c.breached_case_ids)),
        ("Escalations (policy + recorded)", c.escalations),
    ]


def _summary(u: WeeklyUpdate) -> _Section:
    """The week's numbers beside the previous week's and the change (the week alone without details)."""
    text = [
        "Responses count in the week their clock started, with their status at the week's end; "
        "a missed target is also a policy escalation at the moment it was missed."
    ]
    label = "SLA attainment (met of met + missed)"
    now = _summary_lines(u.counts)
    rows: list[tuple[str, ...]]
    if u.previous is None:
        rows = [(name, str(a)) for name, a in now]
        rows.insert(7, (label, _percent(u.counts.attainment)))
        return _Section("Summary", text, ("", u.week), rows, frozenset({1}))
    before = _summary_lines(u.previous)
    rows = [(name, str(a), str(b), _signed(a - b)) for (name, a), (_, b) in zip(now, before, strict=True)]
    change = "-"
    if u.counts.attainment is not None and u.previous.attainment is not None:
        change = f"{_signed(round(100 * (u.counts.attainment - u.previous.attainment)))} pts"
    rows.insert(7, (label, _percent(u.counts.attainment), _percent(u.previous.attainment), change))
    headers = ("", u.week, f"previous week ({u.previous_week})", "change")
    return _Section("Summary", text, headers, rows, frozenset({1, 2, 3}))


def _misses(u: WeeklyUpdate) -> _Section:
    frame = u.misses
    if frame.empty:
        return _Section("SLA misses", ["No response target was missed this week."])
    rows = [
        (
            _Data(r["case_id"]),
            _obligation_name(r["kind"], int(r["seq"])),
            str(r["severity"]),
            _local(r["breached_at"], u.timezone),
            _text(r["why"]),  # the engine's sentence (severities and instants); its own text
        )
        for r in frame.to_dict("records")
    ]
    return _Section(
        f"SLA misses ({len(rows)})",
        [f"Targets missed this week, on {len(u.counts.breached_case_ids)} case(s)."],
        ("case", "response", "severity", "missed at", "why"),
        rows,
    )


def _escalations(u: WeeklyUpdate) -> _Section:
    c = u.counts
    text = [f"{c.escalations} this week: {c.policy_escalations} policy (one per missed target, listed above), "
            f"{c.recorded_escalations} recorded."]  # fmt: skip
    frame = u.recorded_escalations
    rows = [
        (_Data(r["case_id"]), _local(r["escalated_at"], u.timezone), _Data(_text(r["level"])), str(r["severity"]))
        for r in frame.to_dict("records")
    ]
    return _Section(f"Escalations ({c.escalations})", text, ("case", "recorded at", "level", "severity"), rows)


def _cases(u: WeeklyUpdate) -> _Section:
    frame = u.cases
    if frame.empty:
        return _Section("Cases opened or closed this week", ["No case was opened or closed this week."])
    missed = set(u.counts.breached_case_ids)
    rows = []
    for r in frame.head(MAX_LISTED).to_dict("records"):
        what = " and ".join(w for w, flag in (("opened", r["opened_in_week"]), ("closed", r["closed_in_week"])) if flag)
        rows.append(
            (
                _Data(r["case_id"]),
                what,
                _local(r["opened_at"], u.timezone),
                str(r["severity"]),
                _text(r["status"]).replace("_", " "),
                "missed" if r["case_id"] in missed else "-",
                _Data(_text(r["subject"], "")),
            )
        )
    more = len(frame) - len(rows)
    return _Section(
        f"Cases opened or closed this week ({len(frame)})",
        [f"{u.counts.opened} opened, {u.counts.closed} closed (and still closed at the week's end)."],
        ("case", "this week", "opened", "severity", "status at week end", "target this week", "subject"),
        rows,
        note=f"... and {more} more." if more > 0 else "",
    )


def _active(u: WeeklyUpdate) -> _Section:
    title = f"Active tickets at week end ({u.counts.active_at_end})"
    if u.active is None:
        return _Section(title, [f"{u.counts.active_at_end} case(s) open at the week's end. The list: not available."])
    if u.active.empty:
        return _Section(title, ["No case was open at the week's end."])
    rows = []
    for r in u.active.head(MAX_LISTED).to_dict("records"):
        rows.append(
            (
                _Data(_text(r.get("case_id"))),
                _number(r.get("severity")),
                _text(r.get("status")).replace("_", " "),
                _text(r.get("waiting_on")),
                _minutes(r.get("age_seconds")),
                _text(r.get("clock_state")).replace("_", " "),
                _minutes(r.get("remaining_seconds")),
                _Data(_text(r.get("owner"))),
            )
        )
    more = len(u.active) - len(rows)
    return _Section(
        title,
        [],
        ("case", "severity", "status", "waiting on", "age", "SLA clock", "clock time left", "owner"),
        rows,
        frozenset({1, 4, 6}),
        f"... and {more} more." if more > 0 else "",
    )


def _utilization_section(u: WeeklyUpdate) -> _Section:
    title = "Utilization to date"
    if u.utilization is None:
        return _Section(title, ["Not available."])
    terms = u.utilization
    current = terms[terms["current"].astype(bool)] if "current" in terms.columns else terms.iloc[0:0]
    if current.empty:
        return _Section(title, ["No subscription term is in force at the week's end."])
    t = current.iloc[-1]
    text = [("Package ", _Data(t["package"]), f", term {t['term_start']} to {t['term_end']}, as of the week's end.")]
    rows = [
        ("Service days", _number(t["service_days_used"]), _number(t["service_days_entitled"])),
        ("Private training sessions", _number(t["training_sessions_used"]), _number(t["training_sessions_entitled"])),
        ("Authorized contacts", _number(t["authorized_contacts"]), _number(t["authorized_contacts_allotted"])),
        ("Cases this term", _number(t["cases"]), "-"),
    ]
    return _Section(title, text, ("entitlement", "used", "entitled"), rows, frozenset({1, 2}))


def _sections(u: WeeklyUpdate) -> list[_Section]:
    return [_summary(u), _misses(u), _escalations(u), _cases(u), _active(u), _utilization_section(u)]


MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~])")  # what would turn the update's own words into markup or break a table


def _md(text: str) -> str:
    r"""The update's own words as literal Markdown: `a_b <c>` -> `a\_b \<c\>`, newlines as spaces."""
    return MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _write(line: str | _Line, data: Callable[[str], str], own: Callable[[str], str]) -> str:
    """A line's pieces escaped for one format: `data` for _Data values, `own` for the update's words."""
    pieces = (line,) if isinstance(line, str) else line
    return "".join(data(p) if isinstance(p, _Data) else own(p) for p in pieces)


def to_markdown(update: WeeklyUpdate) -> str:
    """The update as Markdown (GitHub tables), ready to paste into a mail or a ticket.

    Data values are escaped with `metrics.safe_text.md`: a subject `[x](https://...)` or a
    package `<img ...>` stays text in any Markdown renderer.
    """

    def w(line: str | _Line) -> str:
        return _write(line, md, _md)

    lines = [f"# {w(_title(update))}", "", w(_meta(update)), ""]
    for s in _sections(update):
        lines += [f"## {w(s.title)}", ""]
        for paragraph in s.text:
            lines += [w(paragraph), ""]
        if s.rows:
            lines.append("| " + " | ".join(w(c) for c in s.headers) + " |")
            lines.append("|" + "|".join("---:" if i in s.numeric else "---" for i in range(len(s.headers))) + "|")
            lines += ["| " + " | ".join(w(c) for c in row) + " |" for row in s.rows]
            lines.append("")
        if s.note:
            lines += [w(s.note), ""]
    return "\n".join(lines).rstrip() + "\n"


HTML_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2328;
       background: #ffffff; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.15rem; margin-top: 1.75rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
p.meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.note { color: #57606a; font-size: 0.9rem; }
@media print { body { margin: 0; max-width: none; } }
"""


def to_html(update: WeeklyUpdate) -> str:
    """The update as one self-contained HTML page (inline CSS, no script, no external asset); all text escaped."""

    def e(line: str | _Line) -> str:
        return _write(line, h, h)

    body = [f"<h1>{e(_title(update))}</h1>", f'<p class="meta">{e(_meta(update))}</p>']
    for s in _sections(update):
        body.append(f"<h2>{e(s.title)}</h2>")
        body += [f"<p>{e(p)}</p>" for p in s.text]
        if s.rows:

            def cls(i: int, s: _Section = s) -> str:
                return ' class="num"' if i in s.numeric else ""

            head = "".join(f"<th{cls(i)}>{e(name)}</th>" for i, name in enumerate(s.headers))
            rows = "".join(
                "<tr>" + "".join(f"<td{cls(i)}>{e(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in s.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        if s.note:
            body.append(f'<p class="note">{e(s.note)}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(_title(update))}</title>\n<style>{HTML_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def render(update: WeeklyUpdate, fmt: str) -> str:
    """The update in `fmt` ('json', 'md' or 'html') as text."""
    if fmt == "json":
        return json.dumps(to_json(update), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return to_markdown(update)
    if fmt == "html":
        return to_html(update)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def file_name(update: WeeklyUpdate, fmt: str) -> str:
    """'2026-W11-ACC-0002.md': week first so a folder sorts by week; unsafe characters become '_'."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", update.account_id)
    return f"{update.week}-{safe}.{fmt}"
