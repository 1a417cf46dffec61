"""Utilization per account and term, contacts over allotment and the executive ranking.

One hand-built fixture, as of 2026-04-10T18:00:00Z. The as-of local date is 2026-04-10 in
Denver (12:00 MDT) and London (19:00 BST) but 2026-04-11 in Tokyo (03:00 JST). Every
expected number below is worked out by hand in the comments beside it.

Packages (metrics/defaults.toml, plus `Learning` from the fixture's config.toml):
    Gold      service 3, training 4, contacts 3,  phone yes
    Platinum  service 10, training 8, contacts 10, phone yes
    Standard  service 0, training 0, contacts 2,  phone no
    Learning  service 0, training 6, contacts 2,  phone no

Terms (inclusive dates; elapsed days count up to and including the as-of local date):
    A1 Acme    americas  Gold      2026-01-01..03-31   90 days, ended: elapsed 90, share 1.0
    A1 Acme    americas  Gold      2026-04-01..07-09  100 days, Apr 1..10 = 10, share 0.10
    A2 Beta    japan     Platinum  2026-03-03..06-10  100 days, Mar 3..31 = 29 + Apr 1..11 = 11 -> 40, 0.40
    A3 Gamma   americas  Standard  2026-01-01..12-31  365 days, 31 + 28 + 31 + 10 = 100, 100/365
    A3 Gamma   americas  Gold      2027-01-01..12-31  starts after as-of: not reported
    A4 Delta   emea      Gold      2026-02-09..05-19  100 days, Feb 9..28 = 20 + 31 + 10 = 61, 0.61
    A5 Epsilon americas  Platinum  2026-03-22..06-29  100 days, Mar 22..31 = 10 + 10 = 20, 0.20
    A6 Zeta    americas  Learning  2026-03-02..06-09  100 days, Mar 2..31 = 30 + 10 = 40, 0.40
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot, open_snapshot, take_snapshot
from metrics.storage.ingest import ingest
from metrics.storage.store import connect
from metrics.subjects.filters import Filters
from metrics.subjects.utilization import contacts_over_allotment, usage_band, utilization_by_term, utilization_ranking

AS_OF = "2026-04-10T18:00:00Z"
NAN = math.nan

FILES = {
    "config.toml": """
        [packages.Learning]
        authorized_contacts = 2
        phone_support = false
        service_days = 0
        training_sessions = 6
    """,
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,japan,Bo
        A3,Gamma,americas,Cy
        A4,Delta,emea,Ann
        A5,Epsilon,americas,Cy
        A6,Zeta,americas,
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-03-31
        A1,Gold,2026-04-01,2026-07-09
        A2,Platinum,2026-03-03,2026-06-10
        A3,Standard,2026-01-01,2026-12-31
        A3,Gold,2027-01-01,2027-12-31
        A4,Gold,2026-02-09,2026-05-19
        A5,Platinum,2026-03-22,2026-06-29
        A6,Learning,2026-03-02,2026-06-09
    """,
    # C1: 2026-03-31 23:30 MDT = 2026-04-01 05:30Z, the last local day of A1's first term.
    # C3 is submitted at severity 3 and raised to 1 later (case_changes): it stays a sev-3 case.
    # C4 opens after as-of. C13 opens 2026-03-03 01:00 JST, the first local day of A2's term.
    # C11 opens the day before A4's term starts: in no term.
    "cases.csv": """
        case_id,account_id,opened_at,severity,contact_id,channel
        C1,A1,2026-04-01T05:30:00Z,1,K1,phone
        C5,A1,2026-02-01T16:00:00Z,3,K2,chat
        C2,A1,2026-04-02T16:00:00Z,2,K5,Email
        C3,A1,2026-04-03T16:00:00Z,3,,web
        C6,A1,2026-04-06T16:00:00Z,2,K3,fax
        C14,A1,2026-04-08T16:00:00Z,3,K4,
        C4,A1,2026-04-10T19:00:00Z,1,K1,chat
        C7,A2,2026-04-10T16:00:00Z,1,K8,phone
        C8,A2,2026-03-05T00:00:00Z,3,K1,web
        C13,A2,2026-03-02T16:00:00Z,2,K8,email
        C9,A3,2026-03-01T17:00:00Z,3,,phone
        C10,A3,2026-04-01T17:00:00Z,2,,phone
        C11,A4,2026-02-08T12:00:00Z,3,K9,web
        C12,A6,2026-03-10T16:00:00Z,1,K17,phone
    """,
    "responses.csv": """
        case_id,at,author_type
        C1,2026-04-01T06:00:00Z,agent
    """,
    "case_changes.csv": """
        case_id,at,field,value
        C3,2026-04-04T16:00:00Z,severity,1
    """,
    "contacts.csv": """
        contact_id,account_id,name,authorized,authorized_from,authorized_to
        K1,A1,open window,true,,
        K2,A1,Jan-Feb only,true,2026-01-01,2026-02-28
        K3,A1,from Apr 5,true,2026-04-05,
        K4,A1,from Apr 20,true,2026-04-20,
        K5,A1,not authorized,false,,
        K6,A1,until Apr 2,true,,2026-04-02
        K7,A1,open window,true,,
        K8,A2,open window,true,,
        K9,A4,open window,true,,
        K10,A4,open window,true,,
        K11,A4,open window,true,,
        K12,A4,until Jan 31,true,,2026-01-31
        K13,A3,open window,true,,
        K14,A3,open window,true,,
        K15,A3,open window,true,,
        K16,A3,open window,true,,
        K17,A6,until Mar 1,true,,2026-03-01
    """,
    "engagements.csv": """
        account_id,date,kind,quantity,note
        A1,2025-12-31,service_day,,before the first term
        A1,2026-02-10,service_day,2,
        A1,2026-03-15,workshop,,
        A1,2026-03-31,training_session,,
        A1,2026-04-01,service_day,,
        A1,2026-04-10,training_session,,on the as-of date
        A1,2026-04-11,service_day,,after the as-of date
        A2,2026-04-11,service_day,,the as-of date in Tokyo
        A2,2026-03-10,training_session,2,
        A2,2026-04-12,training_session,,after the as-of date in Tokyo
        A3,2026-02-01,service_day,,not entitled
        A3,2027-01-05,service_day,,in the future term
        A4,2026-02-08,service_day,,day before the term
        A4,2026-02-09,service_day,,
        A4,2026-03-20,service_day,,
        A6,2026-03-05,training_session,2,
        A6,2026-04-08,training_session,,
        A6,2026-03-06,service_day,,not entitled
    """,
}

TERM_KEYS = ["account_id", "term_start"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("utilization")
    for name, text in FILES.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    db = folder / "store.duckdb"
    report = ingest(folder, db, strict=True)
    assert report is not None
    return db


@pytest.fixture(scope="module")
def snap(store: Path) -> Snapshot:
    return open_snapshot(store, AS_OF)


def select(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The given columns, dates as ISO text, a fresh index: ready to compare with a literal frame."""
    out = frame[columns].copy()
    for column in ("term_start", "term_end"):
        if column in out:
            out[column] = out[column].map(lambda d: d.isoformat())
    return out.reset_index(drop=True)


def expect(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def test_terms_started_by_as_of_with_elapsed_share_in_local_dates(snap):
    """Terms are cut at the as-of local date of each account's region; a future term is left out."""
    columns = ["account_id", "term_start", "term_end", "term_days", "elapsed_days", "elapsed_share", "current"]
    expected = expect(
        columns,
        [
            ("A1", "2026-01-01", "2026-03-31", 90, 90, 1.0, False),  # ended: everything elapsed
            ("A1", "2026-04-01", "2026-07-09", 100, 10, 0.10, True),  # Apr 1..10
            ("A2", "2026-03-03", "2026-06-10", 100, 40, 0.40, True),  # Tokyo's date is Apr 11: 29 + 11
            ("A3", "2026-01-01", "2026-12-31", 365, 100, 100 / 365, True),  # the 2027 term is not listed
            ("A4", "2026-02-09", "2026-05-19", 100, 61, 0.61, True),  # 20 + 31 + 10
            ("A5", "2026-03-22", "2026-06-29", 100, 20, 0.20, True),  # 10 + 10
            ("A6", "2026-03-02", "2026-06-09", 100, 40, 0.40, True),  # 30 + 10
        ],
    )
    pd.testing.assert_frame_equal(select(utilization_by_term(snap), columns), expected, check_dtype=False)


def test_service_days_and_training_sessions_used_entitled_forecast_and_pace(snap):
    """Usage counts engagements inside the term up to the as-of local date, by quantity, against the package."""
    columns = [
        "account_id",
        "service_days_used",
        "service_days_entitled",
        "service_days_share",
        "service_days_forecast",
        "training_sessions_used",
        "training_sessions_entitled",
        "training_sessions_share",
        "training_sessions_forecast",
        "other_engagements",
        "pace",
    ]
    expected = expect(
        columns,
        [
            # A1 first term: service 02-10 x2 (12-31 is before the term) -> 2/3, forecast 2/1.0 = 2;
            # training 03-31 -> 1/4, forecast 1; the workshop is "other"; pace (2/3 - 1) x 100 = -33.3 pp
            ("A1", 2, 3, 2 / 3, 2.0, 1, 4, 0.25, 1.0, 1, (2 / 3 - 1) * 100),
            # A1 current: service 04-01 (04-11 is after as-of) -> 1/3, forecast 1/0.1 = 10;
            # training 04-10 (the as-of date counts) -> 1/4, forecast 10; pace (1/3 - 0.1) x 100 = 23.3 pp
            ("A1", 1, 3, 1 / 3, 10.0, 1, 4, 0.25, 10.0, 0, (1 / 3 - 0.1) * 100),
            # A2 (Tokyo): service 04-11 counts -> 1/10, forecast 1/0.4 = 2.5; training 03-10 x2 (04-12 is
            # after) -> 2/8, forecast 5; pace (0.1 - 0.4) x 100 = -30 pp
            ("A2", 1, 10, 0.1, 2.5, 2, 8, 0.25, 5.0, 0, -30.0),
            # A3 Standard: one unentitled service day (the 2027 one is in the future term): share NaN,
            # forecast 1 / (100/365) = 3.65; nothing entitled, so no pace
            ("A3", 1, 0, NAN, 3.65, 0, 0, NAN, 0.0, 0, NAN),
            # A4: service 02-09 and 03-20 (02-08 is before the term) -> 2/3, forecast 2/0.61 = 3.2787;
            # pace (2/3 - 0.61) x 100 = 5.67 pp
            ("A4", 2, 3, 2 / 3, 2 / 0.61, 0, 4, 0.0, 0.0, 0, (2 / 3 - 0.61) * 100),
            # A5: nothing used yet, a fifth of the term gone: pace -20 pp
            ("A5", 0, 10, 0.0, 0.0, 0, 8, 0.0, 0.0, 0, -20.0),
            # A6 Learning (no service days): the unentitled service day forecasts 1/0.4 = 2.5;
            # training 03-05 x2 + 04-08 = 3/6, forecast 7.5; pace on training (0.5 - 0.4) x 100 = 10 pp
            ("A6", 1, 0, NAN, 2.5, 3, 6, 0.5, 7.5, 0, 10.0),
        ],
    )
    pd.testing.assert_frame_equal(select(utilization_by_term(snap), columns), expected, check_dtype=False)


def test_authorized_contacts_in_force_at_the_term_end_or_as_of(snap):
    """Designated contacts: authorized on min(term end, as-of local date), so a replaced contact does not count."""
    columns = ["account_id", "term_start", "authorized_contacts", "authorized_contacts_allotted"]
    expected = expect(
        columns,
        [
            # on Mar 31 (the term's end): K1, K6 (until Apr 2), K7; not K2 (ended Feb 28), K3/K4 (later), K5
            ("A1", "2026-01-01", 3, 3),
            # on Apr 10 (as-of, 12:00 MDT): K1, K3 (from Apr 5), K7; not K6 (ended Apr 2), K4 (from Apr 20)
            ("A1", "2026-04-01", 3, 3),
            ("A2", "2026-03-03", 1, 10),  # K8
            ("A3", "2026-01-01", 4, 2),  # K13..K16
            ("A4", "2026-02-09", 3, 3),  # K9..K11; K12 ended Jan 31, before the term
            ("A5", "2026-03-22", 0, 10),
            ("A6", "2026-03-02", 0, 2),  # K17 ended Mar 1, the day before the term
        ],
    )
    pd.testing.assert_frame_equal(select(utilization_by_term(snap), columns), expected, check_dtype=False)


def test_cases_by_local_opening_date_severity_channel_phone_and_requester(snap):
    """Cases fall in a term by their local opening date; submitted severity; phone without entitlement."""
    columns = [
        "account_id",
        "term_start",
        "cases",
        "cases_sev1",
        "cases_sev2",
        "cases_sev3",
        "channel_phone",
        "channel_email",
        "channel_web",
        "channel_chat",
        "channel_other",
        "phone_cases",
        "phone_without_entitlement",
        "non_authorized_cases",
    ]
    expected = expect(
        columns,
        [
            # C5 (chat, K2 authorized on Feb 1) and C1 (phone, 23:30 local on Mar 31 though Apr 1 in UTC)
            ("A1", "2026-01-01", 2, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0),
            # C2 (sev 2, "Email", K5 unauthorized), C3 (submitted 3, web, no contact), C6 (sev 2, fax -> other,
            # K3 authorized from Apr 5), C14 (sev 3, no channel -> other, K4 not yet authorized); C4 is after as-of
            ("A1", "2026-04-01", 4, 0, 2, 2, 0, 1, 1, 0, 2, 0, 0, 2),
            # C13 (sev 2 email, Mar 3 in Tokyo), C8 (sev 3 web, K1 is A1's contact), C7 (sev 1 phone)
            ("A2", "2026-03-03", 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1),
            # C9, C10: phone on Standard (no phone support), no contact given
            ("A3", "2026-01-01", 2, 0, 1, 1, 2, 0, 0, 0, 0, 2, 2, 0),
            # C11 opened the day before the term: in no term
            ("A4", "2026-02-09", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            ("A5", "2026-03-22", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            # C12: sev 1 phone on Learning (no phone support), K17's authorization ended Mar 1
            ("A6", "2026-03-02", 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1),
        ],
    )
    pd.testing.assert_frame_equal(select(utilization_by_term(snap), columns), expected, check_dtype=False)


@pytest.mark.parametrize(
    ("filters", "terms"),
    [
        (Filters(packages=("Gold",)), [("A1", "2026-01-01"), ("A1", "2026-04-01"), ("A4", "2026-02-09")]),
        (Filters(regions=("japan",)), [("A2", "2026-03-03")]),
        (Filters(advisors=("Ann",)), [("A1", "2026-01-01"), ("A1", "2026-04-01"), ("A4", "2026-02-09")]),
        (Filters(accounts=("A6", "A5")), [("A5", "2026-03-22"), ("A6", "2026-03-02")]),
        # January overlaps A1's first term and A3's year only (A4 starts Feb 9, the rest in March)
        (Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)), [("A1", "2026-01-01"), ("A3", "2026-01-01")]),
        # from Apr 1 on: every term but A1's first, which ended Mar 31
        (
            Filters(start=dt.date(2026, 4, 1)),
            [
                ("A1", "2026-04-01"),
                ("A2", "2026-03-03"),
                ("A3", "2026-01-01"),
                ("A4", "2026-02-09"),
                ("A5", "2026-03-22"),
                ("A6", "2026-03-02"),
            ],
        ),
    ],
)
def test_filters_select_terms(snap, filters, terms):
    """Package, region, advisor and account filters apply to the term; a period keeps overlapping terms."""
    frame = select(utilization_by_term(snap, filters), TERM_KEYS)
    assert list(frame.itertuples(index=False, name=None)) == terms


def test_severity_filter_does_not_narrow_case_counts(snap):
    """Severities describe cases, not terms: A1's current term still counts all 4 of its cases."""
    frame = utilization_by_term(snap, Filters(severities=(1,), accounts=("A1",)))
    assert frame["cases"].tolist() == [2, 4]


def test_snapshot_of_some_accounts_reports_only_their_terms(store):
    """A snapshot taken for A2 only lists A2's term, with its 3 cases."""
    con = connect(store, read_only=True)
    try:
        frame = utilization_by_term(take_snapshot(con, AS_OF, accounts=["A2"]))
    finally:
        con.close()
    assert select(frame, [*TERM_KEYS, "cases"]).to_numpy().tolist() == [["A2", "2026-03-03", 3]]


def test_contacts_over_allotment_of_current_terms(snap):
    """Peak contacts held on one day of the current term: A3 holds 4 of 2 from its first day; A1 and A4 are not over.

    A1 (term from Apr 1): Apr 1 K1, K6, K7 = 3; Apr 5 K1, K3, K7 = 3 (K6 ended Apr 2; K4 starts
    after the as-of) -> peak 3 of 3. A4: K12 ended before the term -> K9..K11 = 3 of 3.
    """
    expected = pd.DataFrame(
        [("A3", "Gamma", "Standard", 4, dt.date(2026, 1, 1), 4, 2, 2)],
        columns=["account_id", "account_name", "package", "authorized_contacts_peak",
                 "authorized_contacts_peak_date", "authorized_contacts", "allotted", "over_by"],
    )
    pd.testing.assert_frame_equal(contacts_over_allotment(snap), expected, check_dtype=False)


def test_contacts_peak_per_term(snap):
    """Peak and its first day per current term (see the test above); A6's only contact ended before its term."""
    frame = utilization_by_term(snap)
    frame = frame[frame["current"]]
    got = {
        row.account_id: (row.authorized_contacts_peak,
                         None if pd.isna(row.authorized_contacts_peak_date) else row.authorized_contacts_peak_date)
        for row in frame.itertuples()
    }
    assert got == {
        "A1": (3, dt.date(2026, 4, 1)),
        "A2": (1, dt.date(2026, 3, 3)),  # K8 open-ended, from the term's first day
        "A3": (4, dt.date(2026, 1, 1)),
        "A4": (3, dt.date(2026, 2, 9)),
        "A5": (0, None),
        "A6": (0, None),  # K17 until Mar 1, the term starts Mar 2
    }


def test_ranking_bands_and_order(snap):
    """Current terms only, over-users first, under-users last; both kinds banded, the guard on every forecast."""
    columns = ["account_id", "service_days_band", "training_sessions_band", "usage_band", "usage_basis",
               "forecast_share"]
    expected = expect(
        columns,
        [
            # Learning, 40 % elapsed: 3 of 6 sessions, forecast 3 / 0.4 = 7.5 of 6 = 125 % >= 110 %
            ("A6", "no entitlement", "trending over", "trending over", "training_sessions", 7.5 / 6),
            # 10 % elapsed: 1 of 3 days (forecast 333 %), 1 of 4 sessions: too early to call either
            ("A1", "on pace", "on pace", "on pace", "service_days", 10 / 3),
            ("A5", "on pace", "on pace", "on pace", "service_days", 0.0),  # nothing used, 20 % elapsed
            ("A3", "no entitlement", "no entitlement", "no entitlement", None, NAN),  # Standard
            # 40 % elapsed: 1 of 10 days, forecast 2.5 of 10 = 25 % < 50 % (sessions 2 of 8 -> 5 of 8 = 62.5 %)
            ("A2", "under", "on pace", "under", "service_days", 2.5 / 10),
            # 61 % elapsed: days 2 of 3 -> 3.279 of 3 = 109.3 % on pace; sessions 0 of 4 -> 0 % under
            ("A4", "on pace", "under", "under", "training_sessions", 0.0),
        ],
    )
    expected["usage_basis"] = pd.Series(
        ["training_sessions", "service_days", "service_days", None, "service_days", "training_sessions"], dtype=object
    )
    pd.testing.assert_frame_equal(select(utilization_ranking(snap), columns), expected, check_dtype=False)


def test_ranking_keeps_term_columns_and_filters(snap):
    """The ranking carries the term's columns and narrows with the filters (Platinum: A5 then A2)."""
    frame = utilization_ranking(snap, Filters(packages=("Platinum",)))
    assert frame["account_id"].tolist() == ["A5", "A2"]
    assert frame["pace"].tolist() == pytest.approx([-20.0, -30.0])


@pytest.mark.parametrize(
    ("used_share", "forecast_share", "elapsed_share", "band"),
    [
        (0.5, 11 / 10, 0.5, "trending over"),  # exactly 10 % over counts as trending over
        (0.5, 1.0999, 0.5, "on pace"),
        (0.45, 0.5, 0.9, "on pace"),  # exactly half is not under
        (0.1, 0.4999, 0.25, "under"),  # a quarter elapsed is enough to call it
        (0.1, 0.4999, 0.2499, "on pace"),  # too early to call
        (1 / 3, 2.1345, 0.156, "on pace"),  # the sample's 1 of 3 days 15.6 % in: too early to call over
        (1.0, 1.2, 0.8, "trending over"),  # all used is not more than entitled
        (4 / 3, 15.0, 0.0877, "used more than entitled"),  # a fact, at any time
        (NAN, NAN, 0.5, "no entitlement"),
    ],
)
def test_usage_band_thresholds(used_share, forecast_share, elapsed_share, band):
    """More than entitled at once; trending over >= 110 % and under < 50 % only once 25 % elapsed; else on pace."""
    assert usage_band(used_share, forecast_share, elapsed_share) == band
