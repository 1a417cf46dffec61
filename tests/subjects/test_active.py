"""Active tickets on a hand-built queue, as of Wed 2026-03-18 16:00Z (10:00 MDT).

Calendar `americas` is Mon-Fri 07:00-18:00 America/Denver; DST began Sun 2026-03-08, so
that is 13:00Z-24:00Z on each weekday of the fixture. `japan` is Mon-Fri 09:00-18:00 JST
(00:00Z-09:00Z). Gold: initial 4 h (S1, 24x7), 8 h (S2), 12 h (S3) business; follow-up
72 h business for S2-3. Silver initial S3 is 14 h business. Every expected number below is
worked out in the comment beside its case.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects.active import (
    CLOCK_STATES,
    active_summary,
    active_tickets,
    breach_forecast,
    breach_forecast_totals,
)
from metrics.subjects.filters import Filters

AS_OF = "2026-03-18T16:00:00Z"
H = 3600

QUEUE = {
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,japan,Bob
        A3,Gamma,americas,Ann
        A4,Delta,americas,Cy
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Silver,2026-01-01,2026-12-31
        A3,Standard,2026-01-01,2026-12-31
        A4,Gold,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity,owner,closed_at
        K1,A1,2026-03-13T22:00:00Z,3,Olga,
        K2,A1,2026-03-16T15:00:00Z,2,Olga,
        K3,A1,2026-03-17T21:00:00Z,2,Pete,
        K4,A1,2026-03-18T10:00:00Z,1,Pete,
        K5,A1,2026-03-16T14:00:00Z,3,Pete,2026-03-17T14:00:00Z
        K6,A1,2026-03-18T17:00:00Z,3,Pete,
        K7,A1,2026-03-18T14:00:00Z,3,Olga,
        K8,A3,2026-03-18T15:00:00Z,2,Olga,
        K9,A2,2026-03-17T05:00:00Z,3,Bob,
        K10,A1,2026-03-16T14:00:00Z,3,Olga,
        K11,A4,2026-03-18T12:00:00Z,2,Cy,
    """,
    "responses.csv": """
        case_id,at,author_type
        K1,2026-03-13T23:00:00Z,agent
        K2,2026-03-16T16:00:00Z,agent
        K7,2026-03-18T14:30:00Z,customer
    """,
    "case_changes.csv": """
        case_id,at,field,value
        K2,2026-03-17T16:00:00Z,status,pending_customer
        K4,2026-03-18T14:30:00Z,escalation,2
        K7,2026-03-18T15:00:00Z,status,pending_customer
        K10,2026-03-16T15:00:00Z,status,closed
        K10,2026-03-17T15:00:00Z,status,open
    """,
    "standing.csv": """
        account_id,suspended_from,suspended_to
        A4,2026-03-18T00:00:00Z,
    """,
}

# case: (clock_state, waiting_on, kind, target, elapsed, remaining, consumed, age, business age)
EXPECTED = {
    # K4 S1 initial, 24x7 4 h, opened 10:00Z, no response: elapsed 6 h, breached at 14:00Z.
    # Age 6 h; business 04:00-10:00 MDT counts 07:00-10:00 = 3 h.
    "K4": ("breached", "vendor", "initial", 4 * H, 6 * H, -2 * H, 1.5, 6 * H, 3 * H),
    # K9 Silver S3 initial 14 h on japan, opened Tue 14:00 JST: Tue 14-18 = 4 h, Wed 09-18 = 9 h,
    # as-of is Thu 01:00 JST (before work) -> 13 h; consumed 13/14. Age Tue 05:00Z -> Wed 16:00Z = 35 h.
    "K9": ("at_risk", "vendor", "initial", 14 * H, 13 * H, 1 * H, 13 / 14, 35 * H, 13 * H),
    # K3 Gold S2 initial 8 h, opened Tue 15:00 MDT: Tue 15-18 = 3 h + Wed 07-10 = 3 h = 6 h = exactly 75 %.
    # Age Tue 21:00Z -> Wed 16:00Z = 19 h.
    "K3": ("at_risk", "vendor", "initial", 8 * H, 6 * H, 2 * H, 0.75, 19 * H, 6 * H),
    # K1 S3 follow-up 1 from the agent response Fri 17:00 MDT, 72 h: Fri 1 h + Mon 11 + Tue 11 + Wed 3 = 26 h;
    # consumed 26/72. Age Fri 22:00Z -> Wed 16:00Z = 4 d 18 h = 114 h; business Fri 16-18 = 2 h, weekend 0,
    # Mon 11, Tue 11, Wed 3 = 27 h.
    "K1": ("on_track", "vendor", "follow_up", 72 * H, 26 * H, 46 * H, 26 / 72, 114 * H, 27 * H),
    # K7 S3 initial 12 h, opened Wed 08:00 MDT, pending_customer since 09:00 MDT but an initial clock never
    # pauses: 2 h; consumed 1/6; waiting on the customer yet not paused.
    "K7": ("on_track", "customer", "initial", 12 * H, 2 * H, 10 * H, 2 / 12, 2 * H, 2 * H),
    # K2 S2 follow-up 1 from Mon 10:00 MDT, pending_customer since Tue 10:00 MDT: Mon 8 h + Tue 3 h = 11 h.
    # Age Mon 15:00Z -> Wed 16:00Z = 49 h; business Mon 09-18 = 9 + Tue 11 + Wed 3 = 23 h.
    "K2": ("paused", "customer", "follow_up", 72 * H, 11 * H, 61 * H, 11 / 72, 49 * H, 23 * H),
    # K8 Standard has no targets: S2 runs on the business calendar, 09:00-10:00 MDT = 1 h, no target.
    "K8": ("untargeted", "vendor", "initial", None, 1 * H, None, None, 1 * H, 1 * H),
    # K11 opened 06:00 MDT inside A4's open-ended suspension: no target; 07:00-10:00 = 3 h; age 4 h.
    "K11": ("suspended", "vendor", "initial", None, 3 * H, None, None, 4 * H, 3 * H),
    # K10 closed at Mon 15:00Z (initial cancelled), reopened Tue, no agent response since: no running clock.
    # Age Mon 14:00Z -> Wed 16:00Z = 50 h; business Mon 08-18 = 10 + Tue 11 + Wed 3 = 24 h.
    "K10": ("no_clock", "vendor", None, None, None, None, None, 50 * H, 24 * H),
}
# K5 is closed at as-of and K6 opens after it: neither appears.


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    folder = tmp_path_factory.mktemp("queue")
    write_dataset(folder, QUEUE)
    db = folder / "store.duckdb"
    ingest(folder, db)
    return open_snapshot(db, AS_OF)


def write_dataset(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")


def expected_frame(cases: list[str]) -> pd.DataFrame:
    columns = [
        "clock_state",
        "waiting_on",
        "kind",
        "target_seconds",
        "elapsed_seconds",
        "remaining_seconds",
        "consumed",
        "age_seconds",
        "age_business_seconds",
    ]
    rows = [(c, *EXPECTED[c]) for c in cases]
    frame = pd.DataFrame(rows, columns=["case_id", *columns])
    for col in ("target_seconds", "elapsed_seconds", "remaining_seconds", "age_seconds", "age_business_seconds"):
        frame[col] = frame[col].astype("Float64")
    frame["consumed"] = frame["consumed"].astype("float64")
    return frame


def actual_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[
        [
            "case_id",
            "clock_state",
            "waiting_on",
            "kind",
            "target_seconds",
            "elapsed_seconds",
            "remaining_seconds",
            "consumed",
            "age_seconds",
            "age_business_seconds",
        ]
    ].copy()
    for col in ("target_seconds", "elapsed_seconds", "remaining_seconds", "age_seconds", "age_business_seconds"):
        out[col] = out[col].astype("Float64")
    out["consumed"] = out["consumed"].astype("float64")
    out["kind"] = out["kind"].astype(object).where(out["kind"].notna(), None)
    return out.reset_index(drop=True)


def test_queue_rows_values_and_urgency_order(snap: Snapshot) -> None:
    """Each active case's clock numbers and ages match the hand-worked ones, most urgent first."""
    # breached, at risk (13/14 before 6/8), no_clock (nobody answered since the reopen), on track
    # (26/72 before 2/12), paused, untargeted, suspended
    order = ["K4", "K9", "K3", "K10", "K1", "K7", "K2", "K8", "K11"]
    got = actual_frame(active_tickets(snap))
    want = expected_frame(order)
    want["kind"] = want["kind"].astype(object).where(want["kind"].notna(), None)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-12)


def test_closed_and_future_cases_are_not_active(snap: Snapshot) -> None:
    """A case closed at as-of (K5) and one opened after it (K6) are absent."""
    ids = set(active_tickets(snap)["case_id"])
    assert not ids & {"K5", "K6"}
    assert len(ids) == 9


def test_descriptive_columns(snap: Snapshot) -> None:
    """Account, owner, running obligation's seq, escalation level and deadline come through per case."""
    frame = active_tickets(snap).set_index("case_id")
    assert frame.loc["K4", "account_name"] == "Acme"
    assert frame.loc["K4", "escalation_level"] == "2" and frame.loc["K4", "escalations"] == 1
    assert frame.loc["K4", "breached_at"] == pd.Timestamp("2026-03-18T14:00:00Z")
    # K1's running obligation is follow-up 1; its deadline is 72 business hours from Fri 17:00 MDT:
    # Fri 1 + Mon 11 + Tue 11 + Wed 11 + Thu 11 + Fri 11 + Mon 11 = 67 h, then 5 h of Tue 03-24 -> 12:00 MDT = 18:00Z
    assert frame.loc["K1", "seq"] == 1
    assert frame.loc["K1", "deadline_at"] == pd.Timestamp("2026-03-24T18:00:00Z")
    assert frame.loc["K9", "region"] == "japan" and frame.loc["K9", "owner"] == "Bob"
    assert frame.loc["K2", "status"] == "pending_customer" and frame.loc["K1", "last_author_type"] == "agent"
    assert frame.loc["K3", "opened_at"] == pd.Timestamp("2026-03-17T21:00:00Z")


def test_summary_counts(snap: Snapshot) -> None:
    """The summary counts each clock state once and the two cases pending on the customer (K2, K7)."""
    assert active_summary(snap) == {
        "active": 9,
        "breached": 1,
        "at_risk": 2,
        "on_track": 2,
        "paused": 1,
        "untargeted": 1,
        "suspended": 1,
        "no_clock": 1,
        "waiting_on_customer": 2,
    }
    assert set(CLOCK_STATES) <= set(active_summary(snap))


@pytest.mark.parametrize(
    ("filters", "cases"),
    [
        (Filters(regions=("japan",)), ["K9"]),  # the only japan account
        (Filters(severities=(1,)), ["K4"]),  # current severity 1
        (Filters(accounts=("A3", "A4")), ["K8", "K11"]),
        (Filters(packages=("Gold",), advisors=("Ann",)), ["K4", "K3", "K10", "K1", "K7", "K2"]),  # A1 only
        # the period is ignored: March 1-2 contains none of the openings, yet the queue is whole
        (
            Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 2)),
            ["K4", "K9", "K3", "K10", "K1", "K7", "K2", "K8", "K11"],
        ),
    ],
)
def test_filters_narrow_the_queue_but_not_the_period(snap: Snapshot, filters: Filters, cases: list[str]) -> None:
    """Package, severity, region, advisor and account filters apply; the period filter does not."""
    assert list(active_tickets(snap, filters)["case_id"]) == cases


def test_at_risk_fraction_comes_from_config(make_dataset: Callable[..., Path], db_path: Path) -> None:
    """With at_risk_fraction 0.8, K3 at exactly 75 % is on track while K9 at 13/14 stays at risk."""
    folder = make_dataset(files={**QUEUE, "config.toml": "[reporting]\nat_risk_fraction = 0.8\n"})
    ingest(folder, db_path)
    states = active_tickets(open_snapshot(db_path, AS_OF)).set_index("case_id")["clock_state"]
    assert states["K3"] == "on_track" and states["K9"] == "at_risk"


def test_no_clock_is_sorted_as_needing_attention() -> None:
    """no_clock comes right after breached and at_risk, before on_track and every state without a target."""
    assert CLOCK_STATES == ("breached", "at_risk", "no_clock", "on_track", "paused", "untargeted", "suspended")


def test_breach_forecast_by_severity_and_package(snap: Snapshot) -> None:
    """Running, targeted, not breached obligations due within 4, 8, 24 clock hours (cumulative), from EXPECTED.

    Remaining clock time: K9 1 h (Silver S3), K3 2 h (Gold S2), K7 10 h (Gold S3), K1 46 h (Gold S3),
    K2 61 h (Gold S2, paused: counted with the clock time it has left). K4 already breached, K8
    untargeted, K11 suspended and K10 without a clock are not forecast.
    Gold S2: K3, K2 running; K3 within 4 h.  Gold S3: K1, K7 running; K7 within 24 h only.
    Silver S3: K9 running, within 4 h.
    """
    got = breach_forecast(snap)
    want = pd.DataFrame(
        {
            "severity": [2, 3, 3],
            "package": ["Gold", "Gold", "Silver"],
            "running": [2, 2, 1],
            "due_within_4h": [1, 0, 1],
            "due_within_8h": [1, 0, 1],
            "due_within_24h": [1, 1, 1],
        }
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # totals over the groups: 5 running; 4 h: K9, K3; 8 h: the same; 24 h: + K7
    assert breach_forecast_totals(snap) == {"running": 5, "due_within_4h": 2, "due_within_8h": 2, "due_within_24h": 3}


def test_breach_forecast_follows_the_filters(snap: Snapshot) -> None:
    """Japan holds only K9 (1 h left); an account with nothing running gives an empty frame and zeros."""
    japan = breach_forecast(snap, Filters(regions=("japan",)))
    assert japan.to_dict("records") == [
        {"severity": 3, "package": "Silver", "running": 1, "due_within_4h": 1, "due_within_8h": 1, "due_within_24h": 1}
    ]
    assert breach_forecast(snap, Filters(accounts=("A3", "A4"))).empty  # K8 untargeted, K11 suspended
    assert breach_forecast_totals(snap, Filters(accounts=("A3", "A4"))) == {
        "running": 0, "due_within_4h": 0, "due_within_8h": 0, "due_within_24h": 0,
    }  # fmt: skip
