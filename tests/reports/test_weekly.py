"""The weekly update: section-7 JSON by hand on a small fixture, by an independent count on random data, and the CLI.

Its text (Markdown, HTML) is tested in test_weekly_render.py on the same fixture.

Weeks are cut in America/Denver. 2026-W10 runs Mon 2026-03-02 00:00 MST (07:00Z) to Mon
2026-03-09 00:00 MDT (06:00Z): DST starts on its Sunday, so it is 167 hours long. 2026-W11
runs 2026-03-09T06:00Z to 2026-03-16T06:00Z. W09 starts 2026-02-23T07:00Z.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from metrics.engine.explain import explain_case
from metrics.engine.snapshot import take_snapshot
from metrics.reports.weekly import (
    JSON_KEYS,
    UnknownAccountError,
    parse_week,
    previous_week,
    to_json,
    week_bounds,
    weekly_counts,
    weekly_update,
    weekly_updates,
)
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT
from tests.random_cases import make_random_cases, write_dataset
from tests.reference_sla import RefCase, load_default_config, merge_config, reference_obligations

# Gold (A1): initial 4 h / follow-up 32 h at severity 1 (24x7), initial 12 business hours at
# severity 3 (Mon-Fri 07:00-18:00 Denver = 14:00Z-01:00Z in MST). Platinum (A2): initial 2 h,
# follow-up 24 h at severity 1, initial 6 business hours at severity 2. Silver (A3, Japan):
# initial 6 h, follow-up 32 h at severity 1.
FIXTURE = {
    "config.toml": """
        [reporting]
        timezone = "America/Denver"
    """,
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,americas,Ann
        A3,Gamma,japan,Bo
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Platinum,2026-01-01,2026-12-31
        A3,Silver,2026-01-01,2026-12-31
    """,
    # C101: Sun 2026-03-08 23:30 MDT = Mon 05:30Z, so week W10; initial deadline 09:30Z (W11).
    # C102: closed by a status row on Thu, reopened Fri, closed_at only after W11 (Tue W12).
    # C103: no agent response before W11's end: initial breached Sat 00:00Z, escalated 02:00Z.
    # C104: severity 3 Wed 09:00 MST: 9 h Wed + 3 h Thu, deadline Thu 17:00Z; answered 16:00Z.
    # C105: Sat, initial deadline 14:00Z missed (W10); follow-up 1 paused 24 h, due Mon 23:00Z.
    # C111: severity 3 Fri 2026-02-20 08:00 MST: 10 h Fri + 2 h Mon, breached 02-23 16:00Z (W09).
    # C107: Mon 01:00 MDT (W11); follow-up 1 due Tue 08:00Z, answered 09:00Z.
    # C108: Sun 2026-03-15 23:30 MDT = Mon 05:30Z, week W11; escalated exactly at W11's end.
    # C109: W10, met twice, closed Fri; escalated (recorded) in W11 after its close.
    # C110: Japan, Wed; follow-up 1 due Thu 16:00Z, never answered.
    # C112: opened at exactly W11's end: it exists as of that end but belongs to W12.
    "cases.csv": """
        case_id,account_id,opened_at,severity,closed_at,subject
        C101,A1,2026-03-09T05:30:00Z,1,2026-03-10T15:00:00Z,Outage at night
        C102,A1,2026-03-10T15:00:00Z,1,2026-03-17T15:00:00Z,Reopened case
        C103,A1,2026-03-13T20:00:00Z,1,,"Login <b>fails</b> & then | pipes"
        C104,A1,2026-03-04T16:00:00Z,3,2026-03-06T18:00:00Z,Question
        C105,A1,2026-03-07T10:00:00Z,1,2026-03-10T20:00:00Z,Weekend outage
        C111,A1,2026-02-20T15:00:00Z,3,2026-03-20T15:00:00Z,Old case
        C107,A2,2026-03-09T07:00:00Z,1,2026-03-10T10:00:00Z,Slow follow-up
        C108,A2,2026-03-16T05:30:00Z,2,,Sunday night
        C109,A2,2026-03-05T15:00:00Z,1,2026-03-06T13:00:00Z,Quick one
        C110,A3,2026-03-11T03:00:00Z,1,,Tokyo outage
        C112,A3,2026-03-16T06:00:00Z,3,,Opened at the turn of the week
    """,
    "responses.csv": """
        case_id,at,author_type,public
        C101,2026-03-09T10:00:00Z,agent,true
        C102,2026-03-10T16:00:00Z,agent,true
        C102,2026-03-11T20:00:00Z,agent,true
        C103,2026-03-16T17:00:00Z,agent,true
        C104,2026-03-05T16:00:00Z,agent,true
        C105,2026-03-07T15:00:00Z,agent,true
        C105,2026-03-09T20:00:00Z,agent,true
        C107,2026-03-09T08:00:00Z,agent,true
        C107,2026-03-10T09:00:00Z,agent,true
        C109,2026-03-05T16:00:00Z,agent,true
        C109,2026-03-06T12:00:00Z,agent,true
        C110,2026-03-11T08:00:00Z,agent,true
    """,
    "case_changes.csv": """
        case_id,at,field,value
        C102,2026-03-12T15:00:00Z,status,closed
        C102,2026-03-13T15:00:00Z,status,open
        C103,2026-03-14T02:00:00Z,escalation,1
        C104,2026-03-05T18:00:00Z,escalation,2
        C105,2026-03-07T16:00:00Z,status,pending_customer
        C105,2026-03-08T16:00:00Z,status,open
        C108,2026-03-16T06:00:00Z,escalation,1
        C109,2026-03-11T15:00:00Z,escalation,manager
    """,
}

# Worked by hand from the comments above (status as of each week's end).
EXPECTED = {
    # W10 as of 03-09T06:00Z. Opened C104, C105, C101 (Sunday 23:30 local). Closed C104 (C105 only
    # on 03-10). Active C101, C105 (back to open), C111. Initial: C104 met, C105 breached, C101
    # still pending (deadline 09:30Z). Follow-ups: C104 #1 cancelled by the close, C105 #1 pending
    # (due 03-09T23:00Z). Breached in W10: C105 (14:00Z); C111's breach was in W09.
    # Escalations: C105's breach + C104's recorded row. Running at the end: C101's initial
    # (due 09:30Z) and C105's follow-up #1.
    ("A1", "2026-W10"): {
        "account_id": "A1", "week": "2026-W10", "opened": 3, "closed": 1, "active_at_end": 3,
        "initial_met": 1, "initial_breached": 1, "follow_up_met": 0, "follow_up_breached": 0,
        "initial_running_at_end": 1, "follow_up_running_at_end": 1,
        "breached_case_ids": ["C105"], "escalations": 2,
    },
    # W11 as of 03-16T06:00Z. Opened C102, C103. Closed C101, C105; C102 was closed on Thursday
    # but reopened Friday. Active C102, C103, C111. Verdicts final in W11 (section 7 as revised):
    # initial C102 met (16:00Z); initial breached C101 (09:30Z, an obligation started in W10)
    # and C103 (03-14T00:00Z). Follow-ups met: C102 #1 (28 h of 32) and C105 #1 (started in
    # W10, answered 03-09T20:00Z before its 23:00Z deadline). C101 #1, C105 #2 and C102 #2 end
    # cancelled by closes. Nothing runs at the end (C111 breached in W09, C103 breached, no
    # agent response since the reopen). Escalations: 2 policy + C103's row.
    ("A1", "2026-W11"): {
        "account_id": "A1", "week": "2026-W11", "opened": 2, "closed": 2, "active_at_end": 3,
        "initial_met": 1, "initial_breached": 2, "follow_up_met": 2, "follow_up_breached": 0,
        "initial_running_at_end": 0, "follow_up_running_at_end": 0,
        "breached_case_ids": ["C101", "C103"], "escalations": 3,
    },
    # W10: C109 opened, met (initial and follow-up #1), #2 cancelled, closed Friday.
    ("A2", "2026-W10"): {
        "account_id": "A2", "week": "2026-W10", "opened": 1, "closed": 1, "active_at_end": 0,
        "initial_met": 1, "initial_breached": 0, "follow_up_met": 1, "follow_up_breached": 0,
        "initial_running_at_end": 0, "follow_up_running_at_end": 0,
        "breached_case_ids": [], "escalations": 0,
    },
    # W11: opened C107 and C108 (Sunday 23:30 local); C107 closed; C108 active with its initial
    # clock pending (business hours start Monday). C107: initial met, #1 breached 03-10T08:00Z.
    # Escalations: C107's breach + C109's row; C108's row at exactly 06:00Z belongs to W12.
    # Running at the end: C108's initial (started 05:30Z, business hours not begun).
    ("A2", "2026-W11"): {
        "account_id": "A2", "week": "2026-W11", "opened": 2, "closed": 1, "active_at_end": 1,
        "initial_met": 1, "initial_breached": 0, "follow_up_met": 0, "follow_up_breached": 1,
        "initial_running_at_end": 1, "follow_up_running_at_end": 0,
        "breached_case_ids": ["C107"], "escalations": 2,
    },
    # W10: Gamma had nothing yet.
    ("A3", "2026-W10"): {
        "account_id": "A3", "week": "2026-W10", "opened": 0, "closed": 0, "active_at_end": 0,
        "initial_met": 0, "initial_breached": 0, "follow_up_met": 0, "follow_up_breached": 0,
        "initial_running_at_end": 0, "follow_up_running_at_end": 0,
        "breached_case_ids": [], "escalations": 0,
    },
    # W11: C110 opened and still open; initial met at 08:00Z, follow-up #1 breached 03-12T16:00Z.
    # C112 (opened at the week's end) is neither opened, active nor running in W11.
    ("A3", "2026-W11"): {
        "account_id": "A3", "week": "2026-W11", "opened": 1, "closed": 0, "active_at_end": 1,
        "initial_met": 1, "initial_breached": 0, "follow_up_met": 0, "follow_up_breached": 1,
        "initial_running_at_end": 0, "follow_up_running_at_end": 0,
        "breached_case_ids": ["C110"], "escalations": 1,
    },
}  # fmt: skip


def write_fixture(folder: Path) -> Path:
    for name, text in FIXTURE.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    db = folder / "store.duckdb"
    report = ingest(folder, db, strict=True)
    assert report.rows_stored["cases"] == 11
    return db


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixture(tmp_path_factory.mktemp("weekly"))


@pytest.fixture(scope="module")
def con(fixture_db: Path):
    connection = duckdb.connect(str(fixture_db), read_only=True)
    yield connection
    connection.close()


# ----------------------------------------------------------------------------- weeks


def test_week_bounds_follow_local_midnight_across_dst():
    """W10 of 2026 in Denver starts at 07:00Z (MST) and ends at 06:00Z (MDT): 167 hours."""
    start, end = week_bounds("2026-W10", "America/Denver")
    assert start == datetime(2026, 3, 2, 7, tzinfo=UTC)
    assert end == datetime(2026, 3, 9, 6, tzinfo=UTC)
    assert week_bounds("2026-W11", "America/Denver") == (end, datetime(2026, 3, 16, 6, tzinfo=UTC))


@pytest.mark.parametrize(
    ("week", "monday"),
    [("2026-W01", dt.date(2025, 12, 29)), ("2026-W53", dt.date(2026, 12, 28)), ("2020-W53", dt.date(2020, 12, 28))],
)
def test_parse_week_accepts_iso_weeks(week: str, monday: dt.date):
    """ISO week 1 may start in December; 2026 and 2020 (starting on a Thursday / leap Wednesday) have a W53."""
    assert parse_week(week) == monday


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2025-W53", "2025 has ISO weeks W01 to W52"),
        ("2026-W54", "2026 has ISO weeks W01 to W53"),
        ("2026-W00", "2026 has ISO weeks W01 to W53"),
        ("2026-11", "expected an ISO week such as 2026-W11"),
        ("2026-W1", "expected an ISO week such as 2026-W11"),
        (" 2026-W11", "expected an ISO week such as 2026-W11"),
    ],
)
def test_parse_week_rejects_what_is_not_an_iso_week(week: str, message: str):
    """A malformed week or one the year does not have is refused with the reason."""
    with pytest.raises(ValueError, match=message):
        parse_week(week)


def test_previous_week_crosses_years():
    """The week before W01 is the previous year's last week, 52 or 53."""
    assert previous_week("2026-W11") == "2026-W10"
    assert previous_week("2026-W01") == "2025-W52"
    assert previous_week("2027-W01") == "2026-W53"


# ----------------------------------------------------------------------------- JSON by hand


@pytest.mark.parametrize(("account", "week"), sorted(EXPECTED))
def test_json_matches_the_hand_worked_week(con, account: str, week: str):
    """Every section-7 key, for each account and both weeks, as worked out in EXPECTED's comments."""
    got = to_json(weekly_update(con, account, week))
    assert got == EXPECTED[(account, week)]
    assert tuple(got) == JSON_KEYS  # exactly the spec's keys, in its order


@pytest.mark.parametrize(("account", "week"), sorted(EXPECTED))
def test_json_needs_no_details(con, account: str, week: str):
    """The counts-only update (what the CLI computes for JSON) gives the same object."""
    assert to_json(weekly_update(con, account, week, details=False)) == EXPECTED[(account, week)]


@pytest.mark.parametrize(("account", "week"), sorted(EXPECTED))
def test_json_from_the_books_snapshots_matches_the_hand_worked_week(con, account: str, week: str):
    """Narrowed from snapshots of every account (the dashboard's shared ones), the same object."""
    [update] = weekly_updates(con, [account], week, snapshots=lambda moment: take_snapshot(con, moment))
    assert to_json(update) == EXPECTED[(account, week)]


def test_an_update_from_the_books_snapshots_equals_one_from_its_own(con):
    """Every part of the update (misses and their reasons, active tickets, utilization, scorecard, the
    previous week), narrowed from the book's snapshots or taken for the accounts alone."""
    taken: list[datetime] = []

    def book(moment: datetime):
        taken.append(moment)
        return take_snapshot(con, moment)

    for week in ("2026-W11", "2026-W12"):
        own = weekly_updates(con, ["A1", "A2", "A3"], week)
        shared = weekly_updates(con, ["A1", "A2", "A3"], week, snapshots=book)
        for mine, theirs in zip(own, shared, strict=True):
            for field in dataclasses.fields(mine):
                a, b = getattr(mine, field.name), getattr(theirs, field.name)
                if isinstance(a, pd.DataFrame):
                    pd.testing.assert_frame_equal(a, b, check_dtype=False)
                else:
                    assert a == b, field.name
    assert len(taken) == 4  # this week's end and the previous week's, per week: no run of their own


def test_an_escalation_at_the_weeks_end_counts_in_the_next_week(con):
    """C108's row at 2026-03-16T06:00Z (W11's end) and its initial breach at 19:00Z fall in W12."""
    got = to_json(weekly_update(con, "A2", "2026-W12"))
    assert got["escalations"] == 2
    assert got["breached_case_ids"] == ["C108"]


def test_a_case_opened_at_the_weeks_end_belongs_to_the_next_week(con):
    """C112, opened at exactly 2026-03-16T06:00Z, counts as opened and active in W12, not W11."""
    got = to_json(weekly_update(con, "A3", "2026-W12"))
    assert (got["opened"], got["active_at_end"]) == (1, 2)  # C112; C110 and C112 both still open


def test_weekly_counts_of_a_whole_snapshot_agree_with_the_update(con):
    """weekly_counts over every account of one snapshot gives the per-account update's numbers."""
    _, end = week_bounds("2026-W11", "America/Denver")
    frame = weekly_counts(take_snapshot(con, end), "2026-W11").set_index("account_id")
    assert list(frame.index) == ["A1", "A2", "A3"]
    for account in ("A1", "A2", "A3"):
        expected = EXPECTED[(account, "2026-W11")]
        row = frame.loc[account]
        assert {k: row[k] for k in ("opened", "closed", "active_at_end", "initial_breached")} == {
            k: expected[k] for k in ("opened", "closed", "active_at_end", "initial_breached")
        }
        assert list(row["breached_case_ids"]) == expected["breached_case_ids"]
        assert row["policy_escalations"] + row["recorded_escalations"] == expected["escalations"]


def test_unknown_account_is_a_clear_error(con):
    """An account id the store lacks raises UnknownAccountError naming it."""
    with pytest.raises(UnknownAccountError, match="unknown account 'NOPE'"):
        weekly_update(con, "NOPE", "2026-W11")


# ----------------------------------------------------------------------------- what the text shows


def test_misses_carry_the_explain_sentence(con):
    """Each miss of A1 in W11 has the reason `explain` gives as of the week's end."""
    update = weekly_update(con, "A1", "2026-W11")
    misses = update.misses.set_index(["case_id", "seq"])
    assert list(misses.index) == [("C101", 0), ("C103", 0)]
    assert misses.loc[("C101", 0), "why"] == (
        "Breached at 2026-03-09 09:30:00Z: the severity-1 deadline passed before the agent response at "
        "2026-03-09 10:00:00Z."
    )
    end = datetime(2026, 3, 16, 6, tzinfo=UTC)
    assert misses.loc[("C103", 0), "why"] == explain_case(con, "C103", end)[0].verdict
    assert "before the as-of moment at 2026-03-16 06:00:00Z" in misses.loc[("C103", 0), "why"]


def test_heading_package_is_the_one_in_force_on_the_weeks_last_local_day(tmp_path: Path):
    """W11's last instant, 2026-03-16T05:59:59Z, is Sunday 03-15 in Denver and Monday 03-16 in Tokyo.

    With every term switching on 03-16, Acme (Denver) still shows its old package for W11 and
    Gamma (Tokyo) already the new one: local days, as the engine's package_in_force reads them.
    """
    terms = """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-03-15
        A1,Platinum,2026-03-16,2026-12-31
        A2,Platinum,2026-01-01,2026-12-31
        A3,Gold,2026-01-01,2026-03-15
        A3,Silver,2026-03-16,2026-12-31
    """
    for name, text in {**FIXTURE, "subscriptions.csv": terms}.items():
        (tmp_path / name).write_text(textwrap.dedent(text).strip() + "\n")
    ingest(tmp_path, tmp_path / "store.duckdb", strict=True)
    connection = duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True)
    try:
        w11 = {
            u.account_id: u.package for u in weekly_updates(connection, ["A1", "A2", "A3"], "2026-W11", details=False)
        }
        w12 = {u.account_id: u.package for u in weekly_updates(connection, ["A1", "A3"], "2026-W12", details=False)}
        w30 = weekly_update(connection, "A1", "2027-W30", details=False).package
    finally:
        connection.close()
    assert w11 == {"A1": "Gold", "A2": "Platinum", "A3": "Silver"}
    assert w12 == {"A1": "Platinum", "A3": "Silver"}
    assert w30 is None  # no term in force: no package in the heading


# ----------------------------------------------------------------------------- independent check


def iso_week_bounds(week: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) in Denver, worked out with the standard library only."""
    year, number = int(week[:4]), int(week[6:])
    monday = dt.date.fromisocalendar(year, number, 1)
    zone = ZoneInfo("America/Denver")
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    end = start.replace(tzinfo=None) + timedelta(days=7)
    return start.astimezone(UTC), end.replace(tzinfo=zone).astimezone(UTC)


def status_rows(case: RefCase, as_of: datetime) -> list[tuple[datetime, str]]:
    """Status rows at or before as_of in the order that decides ties: file order, closed_at last."""
    rows = [(at, value) for at, fld, value in case.changes if fld == "status" and at <= as_of]
    if case.closed_at is not None and case.closed_at <= as_of:
        rows.append((case.closed_at, "closed"))
    return sorted(rows, key=lambda row: row[0])  # stable: ties keep file order


def independent_week(cases: list[RefCase], config: dict, account: str, week: str) -> dict[str, object]:
    """Every section-7 key for one account and week, counted in plain Python from the cases."""
    start, end = iso_week_bounds(week)
    counts = dict.fromkeys(("opened", "closed", "active_at_end", "initial_met", "initial_breached",
                            "follow_up_met", "follow_up_breached", "initial_running_at_end",
                            "follow_up_running_at_end", "escalations"), 0)  # fmt: skip
    breached: set[str] = set()
    for case in cases:
        if case.account_id != account or case.opened_at > end:
            continue
        rows = status_rows(case, end)
        status = rows[-1][1] if rows else "open"
        last_closed = max((at for at, value in rows if value == "closed"), default=None)
        counts["opened"] += start <= case.opened_at < end
        counts["closed"] += status == "closed" and last_closed is not None and start <= last_closed < end
        counts["active_at_end"] += case.opened_at < end and status in ("open", "pending_customer")
        counts["escalations"] += sum(1 for at, fld, _ in case.changes if fld == "escalation" and start <= at < end)
        for row in reference_obligations(case, config, end):
            # section 7 as revised: each verdict in the week it became final
            if row["status"] == "met" and start <= row["end_at"] < end:
                counts[f"{row['kind']}_met"] += 1
            if row["status"] == "pending" and row["start_at"] < end:
                counts[f"{row['kind']}_running_at_end"] += 1
            if row["breached_at"] is not None and start <= row["breached_at"] < end:
                counts[f"{row['kind']}_breached"] += 1
                breached.add(case.case_id)
                counts["escalations"] += 1
    return {"account_id": account, "week": week, **counts, "breached_case_ids": sorted(breached)}


@pytest.fixture(scope="module")
def random_store(tmp_path_factory: pytest.TempPathFactory):
    override, cases, tables = make_random_cases(20260316, 240)
    folder = tmp_path_factory.mktemp("weekly_random")
    write_dataset(folder, override, tables)
    ingest(folder, folder / "store.duckdb", strict=True)
    connection = duckdb.connect(str(folder / "store.duckdb"), read_only=True)
    yield connection, merge_config(load_default_config(), override), cases
    connection.close()


def all_weeks(cases: list[RefCase]) -> list[str]:
    """Every ISO week from the first opening to the week after the last event of any case."""
    instants = [c.opened_at for c in cases] + [c.closed_at for c in cases if c.closed_at]
    instants += [at for c in cases for at, _, _ in c.changes] + [at for c in cases for at, _, _ in c.responses]
    zone = ZoneInfo("America/Denver")
    day = min(instants).astimezone(zone).date()
    last = max(instants).astimezone(zone).date() + timedelta(days=7)
    weeks = []
    while day <= last:
        year, number, _ = day.isocalendar()
        weeks.append(f"{year}-W{number:02d}")
        day += timedelta(days=7)
    return weeks


def test_json_matches_an_independent_count_for_every_account_and_week(random_store):
    """On 240 random adversarial cases, every key of every account's every week equals a plain-Python count.

    And so does the update narrowed from the whole book's snapshot at the week's end.
    """
    con, config, cases = random_store
    accounts = [row[0] for row in con.execute("select account_id from accounts order by 1").fetchall()]
    weeks = all_weeks(cases)
    assert len(weeks) > 100 and len(accounts) >= 12
    differing = []
    nonzero = 0
    for week in weeks:
        shared = weekly_updates(con, accounts, week, details=False, snapshots=lambda m: take_snapshot(con, m))
        for update, narrowed in zip(weekly_updates(con, accounts, week, details=False), shared, strict=True):
            got = to_json(update)
            expected = independent_week(cases, config, update.account_id, week)
            if to_json(narrowed) != got:  # narrowed from the book's snapshot: the same numbers
                differing.append((update.account_id, week, "from the book's snapshot", to_json(narrowed)))
            nonzero += any(v for k, v in expected.items() if k not in ("account_id", "week"))
            if got != expected:
                diff = {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}
                differing.append((update.account_id, week, diff))
    assert not differing, differing[:5]
    assert nonzero > 300, "too few non-empty account-weeks for the comparison to mean much"


REASON_KINDS = ("agent response", "the close", "as-of moment", "raised to")  # explain's breach sentences


def test_miss_reasons_equal_explain_case_on_random_cases(random_store):
    """The bulk reasons are word for word what `explain` says: after a response, a close, at as-of, on an upgrade."""
    con = random_store[0]
    accounts = [row[0] for row in con.execute("select account_id from accounts order by 1").fetchall()]
    seen = set()
    for week in ("2025-W44", "2025-W45", "2026-W13", "2026-W14", "2026-W53"):  # weeks holding every kind
        _, end = iso_week_bounds(week)
        for update in weekly_updates(con, accounts, week):
            for miss in update.misses.to_dict("records"):
                verdicts = {e.row["seq"]: e.verdict for e in explain_case(con, miss["case_id"], end)}
                assert miss["why"] == verdicts[miss["seq"]]
                seen |= {kind for kind in REASON_KINDS if kind in miss["why"]}
    assert seen == set(REASON_KINDS)


# ----------------------------------------------------------------------------- CLI


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False
    )


def test_cli_prints_the_json(fixture_db: Path):
    """`weekly --format json` prints exactly the hand-worked object on stdout."""
    result = run("weekly", str(fixture_db.parent), "--db", str(fixture_db), "--account", "A2", "--week", "2026-W11")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED[("A2", "2026-W11")]


def test_cli_prints_markdown_and_writes_html(fixture_db: Path, tmp_path: Path):
    """md goes to stdout; html to the --out file, self-contained."""
    base = ("weekly", str(fixture_db.parent), "--db", str(fixture_db), "--account", "A3", "--week", "2026-W11")
    md = run(*base, "--format", "md")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Weekly update: Gamma (A3), 2026-W11")
    assert "| C110 | follow-up #1 | 1 |" in md.stdout
    active = md.stdout.split("## Active tickets at week end (1)")[1].split("##")[0]
    assert "C110" in active and "C112" not in active  # C112 opened at the week's end: next week's
    out = tmp_path / "gamma.html"
    page = run(*base, "--format", "html", "--out", str(out))
    assert page.returncode == 0, page.stderr
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "C110" in html
    assert "<script" not in html and "<link" not in html


def test_cli_writes_one_file_per_account_of_the_advisor(fixture_db: Path, tmp_path: Path):
    """--advisor Ann --out DIR writes A1 and A2 (Ann's accounts) and not A3 (Bo's)."""
    out = tmp_path / "ann"
    base = ("weekly", str(fixture_db.parent), "--db", str(fixture_db), "--week", "2026-W11", "--format", "json")
    result = run(*base, "--advisor", "Ann", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["2026-W11-A1.json", "2026-W11-A2.json"]
    assert json.loads((out / "2026-W11-A1.json").read_text()) == EXPECTED[("A1", "2026-W11")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--account", "A1", "--week", "2025-W53"), "2025 has ISO weeks W01 to W52"),
        (("--account", "A1", "--week", "11/2026"), "expected an ISO week such as 2026-W11"),
        (("--account", "NOPE", "--week", "2026-W11"), "error: unknown account 'NOPE'"),
        (("--advisor", "Zed", "--week", "2026-W11", "--out", "x"), "error: no account has advisor 'Zed'"),
        (("--week", "2026-W11"), "give either --account ID or --advisor NAME"),
    ],
)
def test_cli_refuses_bad_input_in_one_sentence(fixture_db: Path, args: tuple[str, ...], message: str):
    """A bad week, an unknown account or advisor, or no account at all: exit 2, the reason, no traceback."""
    result = run("weekly", str(fixture_db.parent), "--db", str(fixture_db), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    if message.startswith("error:"):
        assert result.stderr.count("\n") == 1  # one line
