"""Cases reopened in a week: by hand on a small fixture, and opened - closed + reopened = the change in active.

Weeks are cut in America/Denver: 2026-W10 runs 2026-03-02T07:00Z to 2026-03-09T06:00Z (DST
starts on its Sunday), W11 to 2026-03-16T06:00Z; W09 starts 2026-02-23T07:00Z.
The identity is checked on the bundled sample for every account and week by a plain-Python
count from the store's rows; the only account-weeks where it cannot hold are those with a
status change at exactly a week boundary (active_at_end is taken as of that instant, the
counts are half-open) or a case closed twice without a reopen in between.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from metrics.engine.snapshot import take_snapshot
from metrics.reports.weekly import week_bounds, weekly_counts, weekly_update
from metrics.reports.weekly_render import to_markdown
from metrics.storage.ingest import ensure_store, ingest

DENVER = ZoneInfo("America/Denver")
OPEN = ("open", "pending_customer")

# R1: opened W10, closed by a row W10, reopened Tue W11, closed_at Thu W11: W11 reopened and closed.
# R2: opened W10, closed W10, pending_customer Wed W11 (still at the end): W11 reopened, active.
# R3: opened W11, closed and reopened inside W11: opened only (open at the end, never closed before the week).
# R4: opened W09, closed W09, reopened, closed and reopened again inside W11: reopened once, active.
# R5: opened W09, closed W09; at one instant of W11 an open row then a closed row (the later wins):
#     closed in W11 (its last change to closed) and reopened (a change to open), net no change.
# R6: opened W09 and never closed: active all along, nothing to count.
FILES = {
    "accounts.csv": """
        account_id,name,region,advisor
        A4,Delta,americas,Di
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A4,Gold,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity,closed_at
        R1,A4,2026-03-02T16:00:00Z,3,2026-03-12T16:00:00Z
        R2,A4,2026-03-03T16:00:00Z,3,
        R3,A4,2026-03-10T16:00:00Z,3,
        R4,A4,2026-02-24T16:00:00Z,3,
        R5,A4,2026-02-24T17:00:00Z,3,
        R6,A4,2026-02-24T18:00:00Z,3,
    """,
    "responses.csv": """
        case_id,at,author_type,public
        R6,2026-02-24T19:00:00Z,agent,true
    """,
    "case_changes.csv": """
        case_id,at,field,value
        R1,2026-03-04T16:00:00Z,status,closed
        R1,2026-03-10T16:00:00Z,status,open
        R2,2026-03-05T16:00:00Z,status,closed
        R2,2026-03-11T16:00:00Z,status,pending_customer
        R3,2026-03-11T16:00:00Z,status,closed
        R3,2026-03-12T16:00:00Z,status,open
        R4,2026-02-25T16:00:00Z,status,closed
        R4,2026-03-10T16:00:00Z,status,open
        R4,2026-03-10T18:00:00Z,status,closed
        R4,2026-03-11T16:00:00Z,status,open
        R5,2026-02-26T16:00:00Z,status,closed
        R5,2026-03-12T16:00:00Z,status,open
        R5,2026-03-12T16:00:00Z,status,closed
    """,
}

# By hand, status as of each week's end:
# W09 (end 03-02T07:00Z): opened R4, R5, R6; closed R4 (02-25), R5 (02-26); active R6.
# W10 (end 03-09T06:00Z): opened R1, R2; closed R1 (03-04), R2 (03-05); reopened none; active R6.
# W11 (end 03-16T06:00Z): opened R3; closed R1 (closed_at 03-12), R5 (03-12 row); reopened R1, R2,
#     R4, R5; active R2 (pending), R3, R4, R6 -> 4. Check: 1 - 2 + 4 = 3 = 4 - 1.
EXPECTED = {
    "2026-W09": {"opened": 3, "closed": 2, "reopened": 0, "active_at_end": 1},
    "2026-W10": {"opened": 2, "closed": 2, "reopened": 0, "active_at_end": 1},
    "2026-W11": {"opened": 1, "closed": 2, "reopened": 4, "active_at_end": 4},
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("reopened")
    for name, text in FILES.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    ingest(folder, folder / "store.duckdb", strict=True)
    connection = duckdb.connect(str(folder / "store.duckdb"), read_only=True)
    yield connection
    connection.close()


@pytest.mark.parametrize("week", sorted(EXPECTED))
def test_reopened_beside_opened_and_closed_by_hand(con, week: str):
    """Each week's opened, closed, reopened and active at its end, as worked out above."""
    c = weekly_update(con, "A4", week, details=False).counts
    assert {"opened": c.opened, "closed": c.closed, "reopened": c.reopened, "active_at_end": c.active_at_end} == (
        EXPECTED[week]
    )


def test_opened_minus_closed_plus_reopened_is_the_change_in_active(con):
    """W10: 2 - 2 + 0 = 0 = 1 - 1; W11: 1 - 2 + 4 = 3 = 4 - 1."""
    for week, before in (("2026-W10", "2026-W09"), ("2026-W11", "2026-W10")):
        e = EXPECTED[week]
        assert e["opened"] - e["closed"] + e["reopened"] == e["active_at_end"] - EXPECTED[before]["active_at_end"]
        c = weekly_update(con, "A4", week, details=False).counts
        assert c.opened - c.closed + c.reopened == c.active_at_end - EXPECTED[before]["active_at_end"]


def test_the_text_shows_reopened_beside_opened_and_closed(con):
    """The Markdown's summary row and the cases section name the 4 reopened of W11 (0 the week before)."""
    text = to_markdown(weekly_update(con, "A4", "2026-W11"))
    assert "| Cases opened | 1 | 2 | −1 |" in text
    assert "| Cases closed | 2 | 2 | 0 |" in text
    assert "| Cases reopened | 4 | 0 | +4 |" in text
    assert "| Active at week end | 4 | 1 | +3 |" in text
    assert "1 opened, 2 closed (and still closed at the week's end), 4 reopened" in text


# ----------------------------------------------------------------------------- the sample, independently


def _week_of(moment: dt.datetime) -> tuple[int, int]:
    year, number, _ = moment.astimezone(DENVER).date().isocalendar()
    return year, number


def _bounds(week: tuple[int, int]) -> tuple[dt.datetime, dt.datetime]:
    monday = dt.date.fromisocalendar(week[0], week[1], 1)
    start = dt.datetime(monday.year, monday.month, monday.day, tzinfo=DENVER)
    end = (start.replace(tzinfo=None) + dt.timedelta(days=7)).replace(tzinfo=DENVER)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _status(rows: list[tuple[dt.datetime, float, str]], t: dt.datetime, inclusive: bool) -> str:
    """The status after every row at (or before) t: rows sorted by (instant, file order, closed_at last)."""
    status = "open"
    for at, _, value in rows:
        if at < t or (inclusive and at == t):
            status = value
    return status


def _contributions(opened_at: dt.datetime, rows, week):  # type: ignore[no-untyped-def]
    """(opened, closed, reopened, active at end - active at start) of one case in one week, by the definitions."""
    start, end = _bounds(week)
    status_end = _status(rows, end, inclusive=True)
    last_closed = max((at for at, _, v in rows if v == "closed" and at <= end), default=None)
    opened = start <= opened_at < end
    closed = status_end == "closed" and last_closed is not None and start <= last_closed < end
    reopened = (
        opened_at < start
        and _status(rows, start, inclusive=False) == "closed"
        and any(start <= at < end and v in OPEN for at, _, v in rows)
    )
    active_end = opened_at < end and status_end in OPEN
    active_start = opened_at < start and _status(rows, start, inclusive=True) in OPEN
    return int(opened), int(closed), int(reopened), int(active_end) - int(active_start)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_store(tmp_path_factory.mktemp("reopened_sample") / "sample.duckdb")


def _sample_weeks(db: Path) -> dict[tuple[str, tuple[int, int]], list[int]]:
    """Per (account, week): opened, closed, reopened, change in active, counted in plain Python from the store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cases = con.execute("select case_id, account_id, opened_at, closed_at from cases").fetchall()
        changes = con.execute(
            "select case_id, \"at\", source_line, value from case_changes where field = 'status'"
        ).fetchall()
    finally:
        con.close()
    rows_of: dict[str, list[tuple[dt.datetime, float, str]]] = defaultdict(list)
    for case_id, at, line, value in changes:
        rows_of[case_id].append((at, line, value))
    totals: dict[tuple[str, tuple[int, int]], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for case_id, account, opened_at, closed_at in cases:
        rows = rows_of[case_id] + ([(closed_at, float("inf"), "closed")] if closed_at is not None else [])
        rows.sort(key=lambda r: (r[0], r[1]))
        instants = [opened_at, *(at for at, _, _ in rows)]
        # a count or the active state can change only in a week holding one of the case's instants
        # (an instant at exactly a week's end also changes that week's active_at_end)
        weeks = {_week_of(t) for t in instants} | {_week_of(t - dt.timedelta(microseconds=1)) for t in instants}
        for week in weeks:
            for i, v in enumerate(_contributions(opened_at, rows, week)):
                totals[(account, week)][i] += v
    return totals


def test_reopened_reconciles_opened_and_closed_with_active_on_the_sample(sample: Path):
    """On every account and week of the sample, opened - closed + reopened = the change in active, by plain Python.

    Where it cannot hold, the week has a status change at exactly its start or end (a local Monday
    00:00): the sample has none, so it holds everywhere.
    """
    totals = _sample_weeks(sample)
    assert sum(t[2] for t in totals.values()) > 50, "too few reopened cases for the check to mean much"
    broken = {k: t for k, t in totals.items() if t[0] - t[1] + t[2] != t[3]}
    assert not broken, sorted(broken.items())[:5]


def test_the_reports_counts_equal_the_plain_python_count_on_the_sample(sample: Path):
    """weekly_counts' opened, closed and reopened of every account equal the independent count, in the 4 weeks
    with the most reopened cases (a snapshot per week is the slow part)."""
    totals = _sample_weeks(sample)
    per_week: dict[tuple[int, int], int] = defaultdict(int)
    for (_, week), t in totals.items():
        per_week[week] += t[2]
    busiest = sorted(per_week, key=lambda w: (-per_week[w], w))[:4]
    con = duckdb.connect(str(sample), read_only=True)
    try:
        for key in busiest:
            week = f"{key[0]}-W{key[1]:02d}"
            _, end = week_bounds(week, "America/Denver")
            frame = weekly_counts(take_snapshot(con, end), week)
            got = {r["account_id"]: [r["opened"], r["closed"], r["reopened"]] for r in frame.to_dict("records")}
            assert got == {a: totals.get((a, key), [0, 0, 0, 0])[:3] for a in got}, week
    finally:
        con.close()
    assert sum(per_week[w] for w in busiest) >= 4
