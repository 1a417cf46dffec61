"""The promise scorecard on five hand-made accounts: each row's status and evidence worked out by hand.

As of 2026-11-29T07:00Z = Sun Nov 29 00:00 MST, so the last local day is Nov 28; the period is
Sep 1 .. Nov 28. Every account is on the americas calendar (Denver).

A1 Acme, Gold (target_attainment 0.8 in config.toml), term 2026-01-01..2026-12-31: 333 of 365
   days elapsed (utilization counts the as-of local date, Nov 29: 31+28+31+30+31+30+31+31+30+31+29),
   share 0.9123.
   G1..G5 severity 1 (Gold: 4 h), Oct 5..9: G1..G4 answered after 1 h (met), G5 after 5 h
   (breached); each closed an hour later (the follow-up is cancelled). 4 / 5 = 80 % >= 80 %: kept.
   G1 came by phone. 2 service days of 3: forecast 2 / 0.9123 = 2.192, 73 % of 3: on pace, kept.
   1 training session of 4: forecast 1.096, 27 % < 50 %: under, at risk. Contacts K1, K2 of 3: kept.
A2 Bolt, Premier (default target 95 %), no advisor, term 2026-07-01..2027-06-30: 152 of 365
   days elapsed (Jul 1..Nov 29 = 31+31+30+31+29), share 0.4164.
   P01..P09 severity 1 (Premier: 1 h) answered after 30 min (met), P10 after 2 h (breached);
   D1 (development ticket, severity 3, opened Thu Sep 10 12:00 MDT) answered an hour later (met),
   then waits on the customer: its follow-up is still running; D2 (development ticket, Oct 1)
   answered after an hour (met), closed. 11 met of 12 = 91.7 %, 3.3 points under 95 %: at risk.
   2 service days of 24: forecast 2 / 0.4164 = 4.8, 20 %: under, at risk. 8 training sessions of
   16: forecast 19.2, 120 % >= 110 %: trending over, kept. One governance review on Aug 15: Q3
   (ended Sep 30) holds one, Q4 (running) none yet: at risk. D1 open since Sep 10 18:00Z: 79.5
   days at the as-of, between 30 and 90: at risk. No named advisor: missed.
A3 Cove, Standard (no targets, no phone support), term 2026-06-01..2027-05-31. S1, S2 came by
   phone: at risk. K3, K4 authorized, K5 until Oct 31: 3 held at once from Jun 1, 2 now, of 2: at risk.
A4 Dune, Gold, term 2025-10-01..2026-09-30 (ended): 1 service day of 3 delivered: missed; 4 of 4
   training sessions: kept. No case: response targets have nothing to judge.
A5 Eden, Gold, term 2025: no term overlaps the period, so no row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot
from metrics.storage.ingest import ingest
from metrics.subjects.filters import Filters
from metrics.subjects.scorecard import (
    COLUMNS,
    NOT_MEASURED_WHY,
    governance_reviews,
    promise_accounts,
    promise_scorecard,
    promises_not_kept,
    scorecard_by_feature,
    with_severities,
)
from metrics.workspace import Workspace

PERIOD = Filters(start=dt.date(2026, 9, 1), end=dt.date(2026, 11, 28))


def _case_rows() -> tuple[list[str], list[str]]:
    cases = ["case_id,account_id,opened_at,severity,channel,closed_at,development_ticket"]
    responses = ["case_id,at,author_type"]

    def add(case: str, account: str, opened: str, severity: int, answer_minutes: int, channel: str = "web",
            close: bool = True, ticket: bool = False) -> None:
        at = dt.datetime.fromisoformat(opened + "+00:00")
        answered = at + dt.timedelta(minutes=answer_minutes)
        closed = (answered + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ") if close else ""
        cases.append(f"{case},{account},{at:%Y-%m-%dT%H:%M:%SZ},{severity},{channel},{closed},{str(ticket).lower()}")
        responses.append(f"{case},{answered:%Y-%m-%dT%H:%M:%SZ},agent")

    for day in range(5, 10):  # G1..G5, Oct 5..9
        add(f"G{day - 4}", "A1", f"2026-10-{day:02d}T16:00", 1, 300 if day == 9 else 60,
            channel="phone" if day == 5 else "web")
    for n in range(1, 11):  # P01..P10, Sep 14..23
        add(f"P{n:02d}", "A2", f"2026-09-{13 + n:02d}T16:00", 1, 120 if n == 10 else 30)
    add("D1", "A2", "2026-09-10T18:00", 3, 60, close=False, ticket=True)
    add("D2", "A2", "2026-10-01T16:00", 3, 60, ticket=True)
    add("S1", "A3", "2026-10-12T16:00", 3, 60, channel="phone")
    add("S2", "A3", "2026-10-13T16:00", 3, 60, channel="Phone")
    return cases, responses


def _files() -> dict[str, str]:
    cases, responses = _case_rows()
    return {
        "accounts.csv": """
            account_id,name,region,advisor
            A1,Acme,americas,Ann
            A2,Bolt,americas,
            A3,Cove,americas,Bob
            A4,Dune,americas,Ann
            A5,Eden,americas,Ann
        """,
        "subscriptions.csv": """
            account_id,package,start_date,end_date
            A1,Gold,2026-01-01,2026-12-31
            A2,Premier,2026-07-01,2027-06-30
            A3,Standard,2026-06-01,2027-05-31
            A4,Gold,2025-10-01,2026-09-30
            A5,Gold,2025-01-01,2025-12-31
        """,
        "cases.csv": "\n".join(cases),
        "responses.csv": "\n".join(responses),
        "case_changes.csv": """
            case_id,at,field,value
            D1,2026-09-10T19:00:00Z,status,pending_customer
        """,
        "contacts.csv": """
            contact_id,account_id,authorized,authorized_from,authorized_to
            K1,A1,true,,
            K2,A1,true,,
            K3,A3,true,,
            K4,A3,true,,
            K5,A3,true,,2026-10-31
        """,
        "engagements.csv": """
            account_id,date,kind,quantity
            A1,2026-02-10,service_day,2
            A1,2026-03-10,training_session,1
            A2,2026-08-05,service_day,2
            A2,2026-08-06,training_session,8
            A2,2026-08-15,governance_review,
            A4,2026-01-15,service_day,1
            A4,2026-02-15,training_session,4
        """,
        "config.toml": """
            [reporting]
            timezone = "America/Denver"
            [packages.Gold]
            target_attainment = 0.8
        """,
    }


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    folder: Path = tmp_path_factory.mktemp("scorecard")
    for name, text in _files().items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    return open_snapshot(db, "2026-11-29T07:00:00Z")


@pytest.fixture(scope="module")
def card(snap: Snapshot) -> pd.DataFrame:
    return promise_scorecard(snap, PERIOD)


def row(card: pd.DataFrame, account: str, feature: str) -> dict[str, str]:
    found = card[(card["account_id"] == account) & (card["feature"] == feature)]
    assert len(found) == 1, (account, feature)
    return found.iloc[0].to_dict()


def judged(card: pd.DataFrame, account: str, feature: str) -> tuple[str, str, str]:
    r = row(card, account, feature)
    return r["status"], r["measured"], r["evidence"]


def test_the_columns_and_which_accounts_have_a_row(card):
    """Every account with a term overlapping Sep 1..Nov 28; A5's term ended in 2025."""
    assert list(card.columns) == COLUMNS
    assert sorted(card["account_id"].unique()) == ["A1", "A2", "A3", "A4"]


def test_response_targets(card):
    """A1 4/5 = 80 % meets Gold's configured 80 %; A2 11/12 is 3.3 points under 95 %; A4 decided nothing."""
    assert judged(card, "A1", "response_targets") == (
        "kept", "80.0 %", "4 of 5 response targets met (80.0 %) against 80.0 %.")
    assert row(card, "A1", "response_targets")["promised"] == "80.0 % met"
    assert judged(card, "A2", "response_targets") == (
        "at risk", "91.7 %", "11 of 12 response targets met (91.7 %) against 95.0 %; 1 still running.")
    assert judged(card, "A4", "response_targets")[0] == "nothing to judge"
    assert card[card["account_id"] == "A3"]["feature"].tolist().count("response_targets") == 0  # Standard: no targets


def test_service_days_and_training_sessions(card):
    """Pace bands for the running terms (utilization's usage_band); delivered vs entitled for A4's ended term."""
    assert judged(card, "A1", "service_days") == (
        "kept", "2 of 3",
        "2 of 3 service days delivered (66.7 %) with 91.2 % of the term elapsed; forecast 2.2 at term end (on pace).")
    assert judged(card, "A1", "private_virtual_training") == (
        "at risk", "1 of 4",
        "1 of 4 training sessions delivered (25.0 %) with 91.2 % of the term elapsed; forecast 1.1 at term end "
        "(under).")
    assert judged(card, "A2", "service_days")[0:2] == ("at risk", "2 of 24")  # forecast 4.8: under
    assert judged(card, "A2", "private_virtual_training")[0] == "kept"  # trending over: more than promised
    assert judged(card, "A4", "service_days") == (
        "missed", "1 of 3", "1 of 3 service days delivered in the term that ended 2026-09-30.")
    assert judged(card, "A4", "private_virtual_training")[0] == "kept"


def test_contacts_and_phone(card):
    """A1 within its allotment; A3 held 3 of 2 until Oct 31 (at risk); phone cases on a package without phone."""
    assert judged(card, "A1", "authorized_contacts") == (
        "kept", "2 of 3", "2 authorized now, at most 2 at once this term, of 3 allotted.")
    assert judged(card, "A3", "authorized_contacts") == (
        "at risk", "2 of 2", "3 authorized at once from 2026-06-01, 2 now, of 2 allotted.")
    assert judged(card, "A3", "phone_support") == (
        "at risk", "2 by phone", "2 of this term's cases came by phone; Standard has no phone support.")
    status, _, evidence = judged(card, "A1", "phone_support")
    assert status == "not measured" and evidence.endswith("1 of this term's cases came by phone.")


def test_governance_reviews_per_quarter(snap, card):
    """A2: Q3 (ended) held its review on Aug 15, Q4 (running) none yet."""
    reviews = governance_reviews(snap, PERIOD)
    assert reviews[["account_id", "quarter", "reviews"]].to_numpy().tolist() == [["A2", "2026-Q3", 1.0]]
    assert judged(card, "A2", "governance_strategy") == (
        "at risk", "1 in 2 quarters", "1 governance reviews in 2 quarters: 2026-Q3 1, 2026-Q4 0 (running).")
    assert "governance_strategy" not in set(card[card["account_id"] == "A1"]["feature"])  # not a Gold feature


def test_development_tickets_and_named_advisor(card):
    """D1 open 79.5 days (Sep 10 18:00Z to Nov 29 07:00Z): at risk; A2 names no advisor: missed."""
    assert judged(card, "A2", "prioritized_development_tickets") == (
        "at risk", "2 raised, 1 open, oldest 80 days",
        "2 raised in the period, 1 still open; the oldest open (D1) is 80 days old.")
    assert judged(card, "A2", "named_advisor") == ("missed", "", "The account names no advisor.")
    assert judged(card, "A1", "named_advisor")[0] == "kept"


def test_unmeasurable_features_are_listed_with_why(card):
    """Gold's nine self-service and reporting features, Premier's twelve: listed, never hidden."""
    a1 = card[(card["account_id"] == "A1") & (card["status"] == "not measured")]
    assert set(a1["feature"]) >= {"knowledge_base", "senior_advisor_cases", "utilization_metrics", "phone_support"}
    cases = row(card, "A1", "senior_advisor_cases")
    assert cases["evidence"] == f"Not measured: {NOT_MEASURED_WHY['senior_advisor_cases']}."
    premier = card[(card["account_id"] == "A2") & (card["status"] == "not measured")]
    assert "dedicated_phone_line" in set(premier["feature"])


def test_the_book_in_short(card):
    """Per promise: accounts kept / at risk / missed, with the accounts behind the counts."""
    short = scorecard_by_feature(card).set_index("feature")
    days = short.loc["service_days"]
    assert (days["accounts"], days["kept"], days["at_risk"], days["missed"]) == (3, 1, 1, 1)  # A1, A2, A4
    assert (days["at_risk_accounts"], days["missed_accounts"]) == ("Bolt", "Dune")
    assert list(short.index[:2]) == ["response_targets", "weekly_updates"]  # the measured promises first
    assert list(promise_accounts(card, "service_days")["account_id"]) == ["A4", "A2", "A1"]  # missed first
    assert set(promises_not_kept(card)["status"]) == {"missed", "at risk"}


def test_filters_narrow_the_accounts(snap):
    """An advisor filter keeps that advisor's accounts; severity applies to attainment only."""
    assert set(promise_scorecard(snap, Filters(start=PERIOD.start, end=PERIOD.end, advisors=("Bob",)))["account_id"]) == {"A3"}
    severe = promise_scorecard(snap, Filters(start=PERIOD.start, end=PERIOD.end, severities=(3,), accounts=("A2",)))
    # severity 3 only: D1 and D2 initial met, D1's follow-up still running
    assert judged(severe, "A2", "response_targets")[0:2] == ("kept", "100.0 %")


def test_a_severity_change_judges_only_attainment_and_development_tickets_again(snap, card):
    """`with_severities` turns the card of every severity into the card of the severities chosen.

    Severity 1: A1's G1..G5 are all severity 1, still 4 of 5; A2's P01..P10 give 9 of 10 = 90 %,
    exactly 5 points under 95 %: at risk; A2's development tickets (D1, D2) are severity 3: none.
    Severity 3: A1 holds none (nothing to judge); A2's D1, D2 initial responses met (D1's follow-up
    still running): kept; D1 still open at 80 days: at risk.
    """
    sev1 = Filters(start=PERIOD.start, end=PERIOD.end, severities=(1,))
    sev3 = dataclasses.replace(sev1, severities=(3,))
    one, three = with_severities(snap, card, sev1), with_severities(snap, card, sev3)
    assert judged(one, "A1", "response_targets") == ("kept", "80.0 %", "4 of 5 response targets met (80.0 %) against 80.0 %.")
    assert judged(one, "A2", "response_targets") == (
        "at risk", "90.0 %", "9 of 10 response targets met (90.0 %) against 95.0 %.")
    assert judged(one, "A2", "prioritized_development_tickets")[0:2] == ("nothing to judge", "0 raised")
    assert judged(three, "A1", "response_targets")[0] == "nothing to judge"
    assert judged(three, "A2", "response_targets") == (
        "kept", "100.0 %", "2 of 2 response targets met (100.0 %) against 95.0 %; 1 still running.")
    assert judged(three, "A2", "prioritized_development_tickets")[0] == "at risk"
    for chosen, derived in ((sev1, one), (sev3, three)):  # every other row as the card of those severities has it
        pd.testing.assert_frame_equal(derived, promise_scorecard(snap, chosen))
    assert with_severities(snap, card, PERIOD) is card  # no severity chosen: nothing to judge again
    pd.testing.assert_frame_equal(card, promise_scorecard(snap, PERIOD))  # the card given is left as it was


def test_weekly_updates_without_a_workspace_are_not_measured(card):
    """Weeks owed Sep 1..Nov 28: Sundays Sep 6 .. Nov 22 ended by the as-of, 12 weeks (Mondays Aug 31 .. Nov 16)."""
    assert judged(card, "A1", "weekly_updates") == (
        "not measured", "12 owed", "Not measured: 12 updates owed; no workspace records which were sent.")


def test_weekly_updates_sent_owed_and_on_time(snap, tmp_path):
    """A1 all 12 sent, one late (at risk); A2 the week of Sep 7 never sent (missed); A4's 5 weeks on time (kept).

    A4's Gold term ended Wed Sep 30: it owes the weeks of Aug 31 .. Sep 28 (5). On time means by the
    end of the Monday after the week (Denver); 16:00Z on that Monday is 10:00 MDT.
    """
    workspace = Workspace(tmp_path / "workspace.sqlite")
    mondays = [dt.date(2026, 8, 31) + dt.timedelta(weeks=n) for n in range(12)]

    def send(account: str, week: dt.date, days_after: int = 7) -> None:
        at = dt.datetime.combine(week + dt.timedelta(days=days_after), dt.time(16), dt.UTC)
        workspace.mark_sent(account, week, "update", "Ann", at)

    for week in mondays:
        send("A1", week, days_after=9 if week == dt.date(2026, 10, 5) else 7)  # Oct 5's week sent on Wednesday
        if week != dt.date(2026, 9, 7):
            send("A2", week)
    for week in mondays[:5]:
        send("A4", week)
    card = promise_scorecard(snap, PERIOD, workspace)
    assert judged(card, "A1", "weekly_updates") == (
        "at risk", "12 of 12 sent", "12 of 12 updates owed sent, 11 on time (by the Monday after).")
    assert judged(card, "A2", "weekly_updates") == (
        "missed", "11 of 12 sent",
        "11 of 12 updates owed sent, 11 on time (by the Monday after). Not sent: the weeks of 2026-09-07.")
    assert judged(card, "A4", "weekly_updates") == (
        "kept", "5 of 5 sent", "5 of 5 updates owed sent, 5 on time (by the Monday after).")
