"""The weekly update: one account and one ISO week, computed (weekly_render.py writes it as text).

The week is [Monday 00:00, next Monday 00:00) in the reporting timezone and everything is
computed as of its end (sla-rules.md section 7). The JSON holds exactly the section's keys;
the text an advisor sends adds the week's cases, each miss with the engine's own reason, the
escalations, the active tickets at the week's end, utilization to date and the change
against the previous week (computed the same way, as of that week's end).

Counting rules, all half-open on UTC instants (an event at exactly the week's end belongs to
the next week, although the as-of cut keeps it): `opened` by `opened_at`; `closed` when the
status at the end is closed and the last change to closed (`case_facts.closed_at`) lies in
the week; `reopened` (text only) opened before the week, closed just before it and open
again at an instant inside it; `active_at_end` opened before the end and open at it; met
obligations by the response's instant (`end_at`), breached ones, `breached_case_ids` and
policy escalations by `breached_at`; recorded escalations by the change's instant.
So opened - closed + reopened is the change in `active_at_end`, except when a status change
falls at exactly a week's boundary: `active_at_end` is taken as of that instant and sees it
in the week that ends there, the half-open counts in the week that starts there.

Names, ids and subjects come from the dataset's files and stay as they are here: the
Markdown and the HTML of weekly_render.py escape each of them.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import sqlfiles
from metrics.engine.explain import Explanation, Piece
from metrics.engine.explain import verdict_sentence as explain_verdict  # the one sentence `explain` prints
from metrics.engine.obligations import EXPORT_COLUMNS, RESULT_SQL, clock_cursor, run_stages
from metrics.engine.snapshot import ONLY_CASES_SQL, Snapshot, take_snapshot
from metrics.storage.config import Config
from metrics.storage.store import stored_config
from metrics.subjects.active import active_tickets
from metrics.subjects.filters import Filters
from metrics.subjects.registry import MetricDefinition, register_definition
from metrics.subjects.scorecard import promise_scorecard
from metrics.subjects.utilization import utilization_by_term
from metrics.workspace import Workspace

T = TypeVar("T")

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
# The package in force on the week's last local day, one row per account (only those with a term).
PACKAGES_SQL = """
    select a.account_id, package_in_force(a.account_id, $moment) as package
    from accounts a where list_contains($accounts, a.account_id)
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
    "account_id", "week", "opened", "closed", "active_at_end", "initial_met", "follow_up_met",
    "initial_breached", "follow_up_breached", "initial_running_at_end", "follow_up_running_at_end",
    "breached_case_ids", "escalations",
)  # fmt: skip
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
        "cases_reopened",
        "Cases reopened",
        "cases",
        "cases opened before the period whose status just before it was closed and that have a status change "
        "to open or pending_customer inside it",
        None,
        "the change to open",
        "The weekly update's text shows it beside opened and closed (not a JSON key), so that opened - closed + "
        "reopened = the change in active at period end. A case opened and reopened inside the period counts as "
        "opened only; one closed and reopened inside the period neither as closed nor as reopened; a status change "
        "at exactly the period's boundary is the one exception to the identity (active at end is taken as of "
        "that instant).",
    ),
    MetricDefinition(
        "running_at_end",
        "Still running at period end",
        "obligations",
        "obligations started before the period's end and still pending at it (no verdict yet)",
        None,
        None,
        "The weekly update's `initial_running_at_end` + `follow_up_running_at_end`: their verdict is counted in "
        "the week it becomes final.",
    ),
    MetricDefinition(
        "breaches_on_earlier_cases",
        "Breaches on cases opened earlier",
        "obligations",
        "obligations whose breached_at falls in the period, on cases opened before the period started",
        "obligations whose breached_at falls in the period",
        "breached_at",
        'The weekly update\'s sentence "M of the N breaches this week are on cases opened before the week"; '
        "each breach is reported under the severity set by [reporting] breach_severity.",
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
register_definition(*DEFINITIONS)


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
    initial_running_at_end: int
    follow_up_running_at_end: int
    breached_case_ids: tuple[str, ...]
    policy_escalations: int
    recorded_escalations: int
    # Shown in the text only (the JSON holds exactly section 7's keys):
    reopened: int  # closed just before the week, opened before it, open again inside it
    breached_on_earlier_cases: int  # of initial_breached + follow_up_breached, on cases opened before the week

    @property
    def running_at_end(self) -> int:
        return self.initial_running_at_end + self.follow_up_running_at_end

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
        """Met / (met + breached) over the verdicts that became final in the week; None when there were none."""
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
    active: pd.DataFrame | None = None  # active.active_tickets rows; None without details
    utilization: pd.DataFrame | None = None  # utilization_by_term rows; None without details
    breach_severity: str = "at_breach"  # [reporting] breach_severity: the severity the misses are listed under
    scorecard: pd.DataFrame | None = None  # promise_scorecard rows for the term to the week's end; None without


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
            initial_running_at_end=int(row["initial_running_at_end"]),
            follow_up_running_at_end=int(row["follow_up_running_at_end"]),
            breached_case_ids=tuple(str(i) for i in (ids if ids is not None else [])),
            policy_escalations=int(row["policy_escalations"]),
            recorded_escalations=int(row["recorded_escalations"]),
            reopened=int(row["reopened"]),
            breached_on_earlier_cases=int(row["breached_on_earlier_cases"]),
        )
    return out


def miss_reasons(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime,
    config: Config,
    accounts: list[str],
    since: dt.datetime,
    cases: list[str] | None = None,
) -> dict[tuple[str, int], str]:
    """explain.py's one-sentence reason for each obligation of `accounts` breached in [since, as_of).

    The sentences are those `explain_case` gives, built from one engine run over the accounts
    (over just `cases` of them when given, e.g. the cases with a miss: every stage works per
    case, so their rows are the same): explain_case runs the engine once per case (a fraction
    of a second each on a million cases) and a busy account misses dozens of targets a week.
    Keyed by (case_id, seq).
    """
    cur = clock_cursor(con, as_of, config)
    try:
        if cases is not None:
            for statement in ONLY_CASES_SQL:
                cur.execute(statement, {"cases": cases})
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
    by_oid: dict[int, list[tuple[Any, ...]]] = {}
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


def _account_rows(con: duckdb.DuckDBPyConnection, account_ids: list[str]) -> dict[str, dict[str, Any]]:
    cur = con.cursor()
    try:
        found = cur.execute(
            "select account_id, name, advisor from accounts where list_contains(?, account_id)", [account_ids]
        ).fetchall()
    finally:
        cur.close()
    rows = {r[0]: {"name": r[1], "advisor": r[2]} for r in found}
    unknown = [a for a in account_ids if a not in rows]
    if unknown:
        raise UnknownAccountError(f"unknown account {unknown[0]!r}: the store has no account with that account_id")
    return rows


def _packages(snap: Snapshot, ids: list[str], week_end: dt.datetime) -> dict[str, str]:
    """The package in force on the week's last local day, for the heading (the engine's package_in_force)."""
    rows = snap.query(PACKAGES_SQL, {"accounts": ids, "moment": week_end - dt.timedelta(seconds=1)})
    return {r["account_id"]: r["package"] for r in rows.to_pylist() if r["package"] is not None}


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
    workspace: Workspace | None = None,
    snapshots: Callable[[dt.datetime], Snapshot] | None = None,
) -> list[WeeklyUpdate]:
    """The weekly updates of several accounts (an advisor's book) from one snapshot per week.

    `details=False` computes only what `to_json` needs, from one engine run instead of three:
    no previous week, no reasons for the misses, no active tickets, utilization or scorecard.
    The scorecard's weekly-updates row reads the updates sent from `workspace` (not measured
    without one). `snapshots(moment)` gives the whole book's snapshot at a moment when the
    caller keeps them (the dashboard's cache, shared by every account and session); each week's
    is then narrowed to the accounts instead of taken for them alone.
    """
    config = config or stored_config(con)
    tz = config.reporting_timezone
    start, end = week_bounds(week, tz)
    before = previous_week(week)
    ids = list(dict.fromkeys(account_ids))
    accounts = _account_rows(con, ids)

    # The previous week's counts need a snapshot of their own: taken on another thread meanwhile
    # (DuckDB works outside the GIL), the update waits for the slower of the two, not for both.
    with ThreadPoolExecutor(max_workers=2) as pool:
        earlier = _meanwhile(pool, _previous_counts, con, before, config, ids, snapshots) if details else None
        snap = _snapshot(con, end, config, ids, snapshots)
        cur = snap.cursor()
        try:
            counts = _counts_by_account(_query(cur, COUNTS_SQL, start, end, ids))
            cases = _query(cur, CASES_SQL, start, end)
            recorded = _query(cur, ESCALATIONS_SQL, start, end)
            misses = _query(cur, MISSES_SQL, start, end)
            active_ids = set(_query(cur, ACTIVE_IDS_SQL, start, end)["case_id"])
        finally:
            cur.close()
        missed = sorted(set(misses["case_id"]))
        # the reasons run the engine again on the missed cases: meanwhile, the rest of the update
        why = _meanwhile(pool, miss_reasons, con, end, config, ids, start, missed) if details and missed else None
        active = _active_tickets(snap, ids, active_ids) if details else None
        utilization = _utilization(snap, ids) if details else None
        scorecards = _scorecards(snap, utilization, start, workspace) if utilization is not None else {}
        packages = _packages(snap, ids, end)
        reasons = why.result() if why is not None else {}
        misses["why"] = [reasons.get((c, int(s)), "") for c, s in zip(misses["case_id"], misses["seq"], strict=True)]
        previous = earlier.result() if earlier is not None else {}
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
            breach_severity=config.breach_severity,
            scorecard=scorecards.get(a),
        )
        for a in ids
    ]


def _meanwhile(pool: ThreadPoolExecutor, function: Callable[..., T], *args: Any) -> Future[T]:
    """`function(*args)` on the pool, in a copy of the caller's context.

    So a cache the caller's `snapshots` reads knows it is called from within another cache
    (Streamlit draws no spinner for a nested one), as on the caller's own thread.
    """
    return pool.submit(contextvars.copy_context().run, function, *args)


def _scorecards(
    snap: Snapshot, utilization: pd.DataFrame, week_start: dt.datetime, workspace: Workspace | None
) -> dict[str, pd.DataFrame]:
    """Each account's promise scorecard from the start of its term in force to the week's last day.

    Only accounts with a term in force at the week's end have one: the scorecard judges a term.
    """
    sunday = week_start.astimezone(ZoneInfo(snap.reporting_timezone)).date() + dt.timedelta(days=6)
    current = utilization[utilization["current"].astype(bool)]
    cards = {}
    for account_id, term_start in zip(current["account_id"], current["term_start"], strict=True):
        period = Filters(start=term_start, end=sunday, accounts=(account_id,))
        cards[account_id] = promise_scorecard(snap, period, workspace)
    return cards


def _snapshot(
    con: duckdb.DuckDBPyConnection,
    moment: dt.datetime,
    config: Config,
    ids: list[str],
    snapshots: Callable[[dt.datetime], Snapshot] | None,
) -> Snapshot:
    """The accounts' snapshot at `moment`: narrowed from the book's when the caller holds those, else taken."""
    return snapshots(moment).of_accounts(ids) if snapshots is not None else take_snapshot(con, moment, config, ids)


def _previous_counts(
    con: duckdb.DuckDBPyConnection,
    week: str,
    config: Config,
    ids: list[str],
    snapshots: Callable[[dt.datetime], Snapshot] | None = None,
) -> dict[str, WeekCounts]:
    """The counts of `week` as of its own end, for the change against the previous week."""
    start, end = week_bounds(week, config.reporting_timezone)
    cur = _snapshot(con, end, config, ids, snapshots).cursor()
    try:
        return _counts_by_account(_query(cur, COUNTS_SQL, start, end, ids))
    finally:
        cur.close()


def _of(frame: pd.DataFrame, account_id: str) -> pd.DataFrame:
    return frame[frame["account_id"] == account_id].reset_index(drop=True)


def _active_tickets(snap: Snapshot, ids: list[str], active_ids: set[str]) -> pd.DataFrame:
    """The active-tickets page's rows at the week's end, for the cases `active_at_end` counts."""
    frame = active_tickets(snap, Filters(accounts=tuple(ids)))
    # a case opened at exactly the week's end exists as of it but belongs to the next week
    return frame[frame["case_id"].isin(active_ids)].reset_index(drop=True)


def _utilization(snap: Snapshot, ids: list[str]) -> pd.DataFrame:
    return utilization_by_term(snap, Filters(accounts=tuple(ids)))


# ----------------------------------------------------------------------------- JSON


def to_json(update: WeeklyUpdate) -> dict[str, object]:
    """Exactly the keys of sla-rules.md section 7, in its order.

    It stays with the data, not the rendering: it is the spec's object of numbers (JSON_KEYS), no layout.
    """
    c = update.counts
    return {
        "account_id": update.account_id,
        "week": update.week,
        "opened": c.opened,
        "closed": c.closed,
        "active_at_end": c.active_at_end,
        "initial_met": c.initial_met,
        "follow_up_met": c.follow_up_met,
        "initial_breached": c.initial_breached,
        "follow_up_breached": c.follow_up_breached,
        "initial_running_at_end": c.initial_running_at_end,
        "follow_up_running_at_end": c.follow_up_running_at_end,
        "breached_case_ids": list(c.breached_case_ids),
        "escalations": c.escalations,
    }
