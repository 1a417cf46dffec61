"""Weekly update delivery: the account-weeks owed, sent and sent on time, worked out by hand.

Reporting timezone America/Denver (the default). US daylight saving time ends on Sunday
2026-11-01 at 02:00 MDT: before it Denver is UTC-6, after it UTC-7. Period 2026-10-19 ..
2026-11-15, as of 2026-11-17T12:00:00Z (Tuesday 05:00 MST).

Weeks whose Sunday lies in the period and that ended by as-of (Mondays):
    10-19 (Sun 10-25), 10-26 (Sun 11-01, the DST change), 11-02 (Sun 11-08), 11-09 (Sun 11-15;
    ended Mon 11-16 00:00 MST = 07:00Z <= as-of). The week of 11-16 has not ended: not owed.
Due (late from) = the Tuesday after the week, 00:00 local:
    10-19 -> Tue 10-27 00:00 MDT = 10-27T06:00Z
    10-26 -> Tue 11-03 00:00 MST = 11-03T07:00Z
    11-02 -> Tue 11-10 00:00 MST = 11-10T07:00Z

Accounts:
    A1 Acme, Ann, Gold all year (weekly_updates)            -> owes 4 weeks
    A2 Beta, no advisor, Silver (no weekly_updates)          -> owes none
    A3 hostile name, Bob, Gold from Wed 2026-10-28            -> owes 10-26 (a day of it), 11-02, 11-09 = 3
Sends:
    A1 10-19 at 10-27T05:00Z = Mon 23:00 MDT                  -> sent, on time
    A1 10-26 at 11-03T07:30Z = Tue 00:30 MST                  -> sent, late (the DST week)
    A1 10-26 again at 11-04T09:00Z, a correction                -> the first send still counts (late)
    A1 11-02 at 11-10T06:00Z = Mon 23:00 MST                  -> sent, on time
    A1 11-09 at 11-18T00:00Z, after as-of                     -> sent (the workspace is live, whatever
                                                                 the as-of), late: due Tue 11-17 00:00 MST
                                                                 = 11-17T07:00Z
    A3 10-26 at 11-03T06:00Z = Mon 23:00 MST                  -> sent, on time
    A2 11-02 (owes nothing)                                   -> ignored
Per advisor: Ann owed 4, sent 4, on time 2 (10-19, 11-02);
             Bob owed 3, sent 1, on time 1. All: 7 owed, 5 sent, 3 on time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects import registry
from metrics.subjects.filters import Filters
from metrics.subjects.scope import Scope
from metrics.subjects.scorecard import promise_scorecard
from metrics.subjects.weekly_delivery import DELIVERY_COLUMNS, delivery_summary, weekly_delivery
from metrics.workspace import Workspace

HOSTILE = "<script>alert(1)</script> & *Co* | [x](javascript:y)"
AS_OF = "2026-11-17T12:00:00Z"
PERIOD = Filters(start=dt.date(2026, 10, 19), end=dt.date(2026, 11, 15))


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def store(make_dataset, tmp_path: Path) -> Path:
    folder = make_dataset(
        accounts__csv=f"""
            account_id,name,region,advisor
            A1,Acme,americas,Ann
            A2,Beta,japan,
            A3,"{HOSTILE.replace('"', '""')}",americas,Bob
        """,
        subscriptions__csv="""
            account_id,package,start_date,end_date
            A1,Gold,2026-01-01,2026-12-31
            A2,Silver,2026-01-01,2026-12-31
            A3,Gold,2026-10-28,2026-12-31
        """,
    )
    db = tmp_path / "delivery.duckdb"
    ingest(folder, db)
    return db


@pytest.fixture
def snap(store: Path) -> Snapshot:
    return open_snapshot(store, AS_OF)


@pytest.fixture
def workspace(store: Path) -> Workspace:
    ws = Workspace.beside(store)
    week = dt.date.fromisoformat
    for account, monday, at in [
        ("A1", "2026-10-19", "2026-10-27T05:00:00Z"),
        ("A1", "2026-10-26", "2026-11-03T07:30:00Z"),
        ("A1", "2026-10-26", "2026-11-04T09:00:00Z"),  # a correction: the first send counts
        ("A1", "2026-11-02", "2026-11-10T06:00:00Z"),
        ("A1", "2026-11-09", "2026-11-18T00:00:00Z"),  # after as-of
        ("A3", "2026-10-26", "2026-11-03T06:00:00Z"),
        ("A2", "2026-11-02", "2026-11-10T06:00:00Z"),  # owes nothing
    ]:
        ws.mark_sent(account, week(monday), f"update {account} {monday}", f"{account}@vendor.example", utc(at))
    return ws


def test_rows_owed_sent_and_on_time_across_dst(snap, workspace):
    """Each owed account-week once, its first send by as-of, on time before the Tuesday's local midnight."""
    rows = weekly_delivery(snap, PERIOD, workspace)
    assert list(rows.columns) == DELIVERY_COLUMNS
    got = [
        (r.account_id, r.week_start.isoformat(), None if pd.isna(r.sent_at) else r.sent_at.isoformat(), r.on_time)
        for r in rows.itertuples()
    ]
    assert got == [
        ("A1", "2026-10-19", "2026-10-27T05:00:00+00:00", True),   # Mon 23:00 MDT
        ("A1", "2026-10-26", "2026-11-03T07:30:00+00:00", False),  # Tue 00:30 MST, the first send
        ("A1", "2026-11-02", "2026-11-10T06:00:00+00:00", True),   # Mon 23:00 MST
        ("A1", "2026-11-09", "2026-11-18T00:00:00+00:00", False),  # after as-of: still sent, late
        ("A3", "2026-10-26", "2026-11-03T06:00:00+00:00", True),   # term from Wed 10-28
        ("A3", "2026-11-02", None, False),
        ("A3", "2026-11-09", None, False),
    ]
    assert rows["owed"].all()
    assert rows.loc[0, "sent_by"] == "A1@vendor.example" and rows.loc[5, "sent_by"] is None
    assert rows.loc[4, "account_name"] == HOSTILE and set(rows["advisor"]) == {"Ann", "Bob"}


def test_summary_per_advisor_and_in_all(snap, workspace):
    """Ann 4 owed / 4 sent / 2 on time, Bob 3 / 1 / 1; all 7 / 5 / 3."""
    rows = weekly_delivery(snap, PERIOD, workspace)
    by_advisor = delivery_summary(rows)
    assert by_advisor[["advisor", "owed", "sent", "on_time"]].to_numpy().tolist() == [["Ann", 4, 4, 2], ["Bob", 3, 1, 1]]
    assert by_advisor.loc[0, "on_time_share"] == pytest.approx(2 / 4)
    whole = delivery_summary(rows, None)
    assert whole[["owed", "sent", "on_time"]].to_numpy().tolist() == [[7, 5, 3]]
    assert whole.loc[0, "sent_share"] == pytest.approx(5 / 7)


def test_without_a_workspace_nothing_is_sent(snap):
    """workspace None: the same owed rows, every sent_at NaT, none on time."""
    rows = weekly_delivery(snap, PERIOD, None)
    assert len(rows) == 7 and rows["sent_at"].isna().all() and not rows["on_time"].any()
    assert rows["sent_by"].isna().all()


def test_filters_and_scope_narrow_the_weeks(snap, workspace):
    """An advisor, an account scope, a package without the feature, and an earlier as-of each narrow the rows."""
    assert set(weekly_delivery(snap, Filters(start=PERIOD.start, end=PERIOD.end, advisors=("Bob",)), workspace)
               ["account_id"]) == {"A3"}
    scoped = Scope(frozenset({"A1"})).restrict(PERIOD)
    assert len(weekly_delivery(snap, scoped, workspace)) == 4
    assert weekly_delivery(snap, Filters(start=PERIOD.start, end=PERIOD.end, packages=("Silver",)), workspace).empty
    assert weekly_delivery(snap, Filters(start=PERIOD.start, end=PERIOD.end, severities=(1,)), workspace).shape[0] == 7


def test_an_earlier_as_of_owes_fewer_weeks_and_still_counts_later_sends(store, workspace):
    """As of Tue 11-03 06:30Z (Mon 23:30 MST) only weeks 10-19 and 10-26 have ended; sends are live."""
    snap = open_snapshot(store, "2026-11-03T06:30:00Z")
    rows = weekly_delivery(snap, Filters(start=dt.date(2026, 10, 19)), workspace)
    # A1: 10-19 (on time), 10-26 (sent 07:30Z, after this as-of: counted, late); A3: 10-26 (06:00Z, on time).
    assert [(r.account_id, r.week_start.isoformat(), r.on_time) for r in rows.itertuples()] == [
        ("A1", "2026-10-19", True), ("A1", "2026-10-26", False), ("A3", "2026-10-26", True),
    ]
    assert rows["sent_at"].notna().tolist() == [True, True, True]


def test_spring_dst_week_is_due_at_local_midnight(make_dataset, tmp_path):
    """DST starts Sun 2026-03-08: the week of 03-02 is due Tue 03-10 00:00 MDT = 06:00Z (not 07:00Z)."""
    db = tmp_path / "spring.duckdb"
    ingest(make_dataset(), db)  # A1 Gold all of 2026
    ws = Workspace.beside(db)
    monday = dt.date(2026, 3, 2)
    ws.mark_sent("A1", monday, "x", "ann", utc("2026-03-10T06:30:00Z"))  # Tue 00:30 MDT: late
    rows = weekly_delivery(open_snapshot(db, "2026-03-20T00:00:00Z"), Filters(start=monday, end=dt.date(2026, 3, 8)), ws)
    assert rows[["account_id", "on_time"]].to_numpy().tolist() == [["A1", False]]
    ws.mark_sent("A1", monday, "y", "ann", utc("2026-03-10T05:59:59Z"))  # an earlier send recorded later: Mon 23:59:59 MDT
    rows = weekly_delivery(open_snapshot(db, "2026-03-20T00:00:00Z"), Filters(start=monday, end=dt.date(2026, 3, 8)), ws)
    assert rows["on_time"].tolist() == [True]


def test_registered_with_its_definitions():
    """The delivery numbers are in the registry (docs/metrics.md) under weekly_delivery."""
    m = registry.get("weekly_delivery")
    assert [d.name for d in m.definitions] == ["weekly_updates_owed", "weekly_updates_sent", "weekly_updates_on_time"]


def test_a_term_owes_weekly_updates_as_its_dated_terms_say(make_dataset, tmp_path):
    """A version or override that changes `features` decides from the terms starting on or after its date.

    Silver gains weekly_updates from 2026-10-01 (a version): B1's Silver term started 2026-01-01, under
    the old definition, so it owes none; B2's Silver term starts Sun 2026-11-01 and owes the weeks of
    10-26 (its last day), 11-02 and 11-09. An override takes weekly_updates away from B3 from the start:
    its Gold term owes none, where Gold's own accounts (B4) owe all four weeks of the period.
    """
    gold = '["knowledge_base", "community", "elearning_library", "certifications", "public_virtual_courses"]'
    folder = make_dataset(
        accounts__csv="""
            account_id,name,region,advisor
            B1,Old Silver,americas,Ann
            B2,New Silver,americas,Ann
            B3,Gold without,americas,Bob
            B4,Gold,americas,Bob
        """,
        subscriptions__csv="""
            account_id,package,start_date,end_date
            B1,Silver,2026-01-01,2026-12-31
            B2,Silver,2026-11-01,2027-10-31
            B3,Gold,2026-01-01,2026-12-31
            B4,Gold,2026-01-01,2026-12-31
        """,
        config__toml=f"""
            [[packages.Silver.versions]]
            from = "2026-10-01"
            features = ["knowledge_base", "community", "weekly_updates"]

            [[overrides]]
            account_id = "B3"
            features = {gold}
        """,
    )
    db = tmp_path / "dated.duckdb"
    ingest(folder, db)  # the base files' cases belong to accounts not listed here: quarantined, not needed
    snap = open_snapshot(db, AS_OF)
    rows = weekly_delivery(snap, PERIOD)
    owed = {a: [w.isoformat() for w in rows.loc[rows["account_id"] == a, "week_start"]] for a in ("B1", "B2", "B3", "B4")}
    assert owed == {
        "B1": [],
        "B2": ["2026-10-26", "2026-11-02", "2026-11-09"],
        "B3": [],
        "B4": ["2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09"],
    }
    card = promise_scorecard(snap, PERIOD)  # the scorecard lists the promise by the same terms
    promised = {a for a in ("B1", "B2", "B3", "B4") if ((card["account_id"] == a) & (card["feature"] == "weekly_updates")).any()}
    assert promised == {"B2", "B4"}
