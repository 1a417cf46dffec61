"""Terms that change over time: package versions and accounts' overrides, one rule per test.

One hand-built dataset, every case still waiting for its first response as of AS_OF (so each
initial obligation is `pending` and reports its target). The definition in force for a case
is the package's keys, then every version from on or before the case's LOCAL opening date in
date order, then the account's overrides likewise, tables merged key by key
(docs/sla-clock.md, "Terms that change over time").

Gold's own keys (metrics/storage/defaults.toml): initial 1 = 4 h, 2 = 8 h, 3 = 12 h;
follow-up 1 = 32 h; clock 1 = 24x7, 2 and 3 = business. Silver: initial 1 = 6 h.
The config below (versions listed out of date order on purpose):
    Gold   from 2026-04-01: initial 2 = 3 h
    Gold   from 2026-03-10: initial 2 = 2 h, 3 = 6 h; clock 3 = 24x7
    Silver from 2026-03-10: initial 1 = 3 h
    A3     from the start:  follow-up 1 = 12 h
    A3     from 2026-03-15: initial 2 = 1 h
Denver is UTC-7 until DST starts on Sun 2026-03-08, UTC-6 after; Tokyo is UTC+9.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import duckdb
import pytest

from metrics.engine.explain import explain_case, format_explanations
from metrics.engine.obligations import EXPORT_COLUMNS, compute_obligations
from metrics.engine.snapshot import take_snapshot
from metrics.storage.ingest import ingest
from metrics.storage.store import connect
from metrics.subjects.escalations import time_to_first_escalation
from metrics.subjects.utilization import utilization_by_term

AS_OF = "2026-05-01T00:00:00Z"
HOUR = 3600

CONFIG = """
    [[packages.Gold.versions]]
    from = 2026-04-01
    initial_response_hours = { 2 = 3 }

    [[packages.Gold.versions]]
    from = "2026-03-10"
    initial_response_hours = { 2 = 2, 3 = 6 }
    clock = { 3 = "24x7" }

    [[packages.Silver.versions]]
    from = 2026-03-10
    initial_response_hours = { 1 = 3 }

    [[overrides]]
    account_id = "A3"
    follow_up_hours = { 1 = 12 }

    [[overrides]]
    account_id = "A3"
    from = 2026-03-15
    initial_response_hours = { 2 = 1 }
"""
FILES = {
    "config.toml": CONFIG,
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,japan,
        A3,Gamma,americas,Ann
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Silver,2026-01-01,2026-12-31
        A3,Gold,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity
        G1,A1,2026-03-09T18:00:00Z,2
        G2,A1,2026-03-10T05:30:00Z,2
        G3,A1,2026-03-10T06:00:00Z,2
        G4,A1,2026-03-11T18:00:00Z,3
        G5,A1,2026-03-11T18:00:00Z,1
        G6,A1,2026-04-02T18:00:00Z,2
        G7,A1,2026-04-02T18:00:00Z,3
        S1,A2,2026-03-09T14:59:59Z,1
        S2,A2,2026-03-09T15:00:00Z,1
        O1,A3,2026-03-05T18:00:00Z,1
        O2,A3,2026-03-14T18:00:00Z,2
        O3,A3,2026-03-16T18:00:00Z,2
        O4,A3,2026-04-02T18:00:00Z,2
        O5,A3,2026-03-16T18:00:00Z,3
    """,
    "responses.csv": """
        case_id,at,author_type,public
        G5,2026-03-11T19:00:00Z,agent,true
        O1,2026-03-05T19:00:00Z,agent,true
    """,
}


def write_dataset(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    folder = write_dataset(tmp_path_factory.mktemp("terms"), FILES)
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    connection = connect(db, read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def targets(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], tuple[int | None, str]]:
    rows = compute_obligations(con, AS_OF)
    return {(r.case_id, r.seq): (r.target_seconds, r.calendar) for r in rows.itertuples()}


def test_a_case_opened_before_any_version_has_the_package_keys(targets):
    """G1 opens on local 2026-03-09 (12:00 MDT), before every version: Gold's own 8 h on americas."""
    assert targets[("G1", 0)] == (8 * HOUR, "americas")


def test_the_version_holds_on_its_from_date_and_after(targets):
    """G3 opens at 00:00 MDT on 2026-03-10 itself, G4 and G5 the day after: the version holds."""
    assert targets[("G3", 0)] == (2 * HOUR, "americas")  # from 2026-03-10: severity 2 = 2 h
    assert targets[("G4", 0)] == (6 * HOUR, "24x7")  # severity 3 = 6 h, and its clock now 24x7


def test_the_local_date_decides_not_the_utc_date(targets):
    """At midnight across a timezone: G2 is 2026-03-10 in UTC but 23:30 on 03-09 in Denver (old terms);
    S2 is 15:00Z on 03-09 but 00:00 on 03-10 in Tokyo (new terms), one second after S1 (old)."""
    assert targets[("G2", 0)] == (8 * HOUR, "americas")
    assert targets[("S1", 0)] == (6 * HOUR, "24x7")
    assert targets[("S2", 0)] == (3 * HOUR, "24x7")


def test_a_table_key_merges_key_by_key(targets):
    """The 03-10 version writes initial severities 2 and 3: severity 1 keeps Gold's 4 h, follow-ups keep 32 h."""
    assert targets[("G5", 0)] == (4 * HOUR, "24x7")
    assert targets[("G5", 1)] == (32 * HOUR, "24x7")
    assert targets[("G7", 0)] == (6 * HOUR, "24x7")  # the 04-01 version changes severity 2 only


def test_two_versions_apply_in_date_order(targets):
    """G6 (2026-04-02): 03-10 sets severity 2 to 2 h, then 04-01 to 3 h; the later date wins
    although the file lists it first."""
    assert targets[("G6", 0)] == (3 * HOUR, "americas")


def test_an_override_without_from_holds_from_the_start(targets):
    """O1 (2026-03-05, before every version): A3's follow-up 1 = 12 h, while its initial keeps Gold's 4 h."""
    assert targets[("O1", 0)] == (4 * HOUR, "24x7")
    assert targets[("O1", 1)] == (12 * HOUR, "24x7")


def test_an_override_with_from_holds_from_its_date(targets):
    """O2 (03-14) precedes A3's 03-15 override: the 03-10 version's 2 h. O3 (03-16) takes the override's 1 h."""
    assert targets[("O2", 0)] == (2 * HOUR, "americas")
    assert targets[("O3", 0)] == (1 * HOUR, "americas")


def test_an_override_lies_on_top_of_every_version(targets):
    """O4 (04-02): versions 03-10 then 04-01 give 3 h, then the override (dated 03-15, earlier) gives 1 h;
    O5's severity 3 is untouched by the override and keeps the version's 6 h on 24x7."""
    assert targets[("O4", 0)] == (1 * HOUR, "americas")
    assert targets[("O5", 0)] == (6 * HOUR, "24x7")


def test_the_export_keeps_its_columns(con):
    """Versions and overrides add no column to the obligations export."""
    assert tuple(compute_obligations(con, AS_OF).columns) == EXPORT_COLUMNS


def test_explain_names_the_version_and_override_that_applied(con):
    """The explanation says which definition the target came from."""
    [item] = explain_case(con, "O4", AS_OF)
    assert item.terms is not None
    assert item.terms.describe() == (
        "Gold's own keys, then Gold's version from 2026-03-10, then Gold's version from 2026-04-01, "
        "then the override of A3 from the start, then the override of A3 from 2026-03-15"
    )
    text = format_explanations("O4", [item], dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    assert "  terms: Gold's own keys, then Gold's version from 2026-03-10" in text
    [before] = explain_case(con, "G1", AS_OF)
    assert before.terms is not None and before.terms.describe() == "Gold's own keys"


def test_the_first_escalation_runs_on_the_clock_in_force(tmp_path):
    """escalation_firsts takes the clock of the terms in force, one row per case (no duplicate
    from the spans of sla_targets): G4's severity 3 runs 24x7 after the 03-10 version, G1's
    severity 2 on americas before it."""
    changes = """
        case_id,at,field,value
        G4,2026-03-11T20:00:00Z,escalation,1
        G1,2026-03-10T02:00:00Z,escalation,1
    """
    folder = write_dataset(tmp_path / "escalated", {**FILES, "case_changes.csv": changes})
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    con = connect(db, read_only=True)
    try:
        firsts = time_to_first_escalation(take_snapshot(con, AS_OF))
    finally:
        con.close()
    assert firsts["case_id"].is_unique
    rows = firsts.set_index("case_id")
    # G4: recorded at 20:00Z, before its breach at 00:00Z; 18:00Z -> 20:00Z on 24x7 = 7,200 s both ways.
    assert (rows.loc["G4", "calendar"], rows.loc["G4", "business_seconds_to_first_escalation"]) == ("24x7", 7200)
    # G1: 12:00 MDT Mon -> 20:00 MDT (02:00Z Tue) = 28,800 s; business 12:00 -> 18:00 = 21,600 s.
    assert rows.loc["G1", "calendar"] == "americas"
    assert rows.loc["G1", "time_to_first_escalation_seconds"] == 28800
    assert rows.loc["G1", "business_seconds_to_first_escalation"] == 21600


def test_a_term_takes_the_entitlements_in_force_on_its_first_day(tmp_path):
    """Entitlements are per subscription term: the definition in force on the term's first local
    date, so a version from mid-term changes the next term, never the one under way."""
    files = {
        **FILES,
        "config.toml": """
            [[packages.Gold.versions]]
            from = 2026-03-01
            service_days = 5

            [[overrides]]
            account_id = "A3"
            from = 2026-07-01
            training_sessions = 9
            authorized_contacts = 6
        """,
        "subscriptions.csv": """
            account_id,package,start_date,end_date
            A1,Gold,2026-01-01,2026-06-30
            A1,Gold,2026-07-01,2026-12-31
            A3,Gold,2026-01-01,2026-06-30
            A3,Gold,2026-07-01,2026-12-31
        """,
    }
    folder = write_dataset(tmp_path / "entitled", files)
    db = folder / "store.duckdb"
    ingest(folder, db, strict=True)
    con = connect(db, read_only=True)
    try:
        terms = utilization_by_term(take_snapshot(con, "2026-08-01T00:00:00Z"))
    finally:
        con.close()
    got = {
        (r.account_id, str(r.term_start)[:10]): (r.service_days_entitled, r.training_sessions_entitled,
                                                 r.authorized_contacts_allotted)
        for r in terms.itertuples()
    }
    assert got == {
        ("A1", "2026-01-01"): (3, 4, 3),  # Gold's own keys: the 03-01 version came mid-term
        ("A1", "2026-07-01"): (5, 4, 3),  # the version: service days 5
        ("A3", "2026-01-01"): (3, 4, 3),  # the override is from 07-01
        ("A3", "2026-07-01"): (5, 9, 6),  # the version, then A3's override
    }
