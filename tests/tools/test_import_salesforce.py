"""The Salesforce importer on a hand-written export (tests/data/salesforce).

The fixture's files carry the documented API field names; its IDs are shortened
(500C1 is a case, 001ACME an account, 005A1 a user). Expectations are traced by hand
from its rows, quoted in the comments. Calendars: `US Support` is America/New_York
Mon-Fri 08:00-18:00 (EDT, UTC-4, after 2026-03-08); `London Hours` Europe/London
Mon-Fri 09:00-17:30 (GMT in March). Packages are the built-in ones: Gold initial
4/8/12 h, follow-up 32/72/72 h; Premier initial 1/4/8 h, follow-up 12/48/48 h;
severity 1 runs 24x7, severities 2-3 on the account's calendar.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from metrics.engine.obligations import compute_obligations
from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT
from metrics.tools.imports.salesforce import SalesforceReport, import_salesforce, parse_pairs

EXPORT = PROJECT_ROOT / "tests" / "data" / "salesforce"
AS_OF = "2026-03-20T00:00:00Z"


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def rows_of(folder: Path, table: str, case_id: str, columns: list[str]) -> list[tuple[str, ...]]:
    frame = read(folder, table)
    return [tuple(r) for r in frame.loc[frame["case_id"] == case_id, columns].itertuples(index=False)]


def edited_export(tmp_path: Path, file: str, edit: Callable[[str], str]) -> Path:
    """A copy of the fixture export with one file's text edited."""
    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    path = folder / file
    path.write_text(edit(path.read_text()))
    return folder


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SalesforceReport]:
    out = tmp_path_factory.mktemp("salesforce") / "dataset"
    return out, import_salesforce(EXPORT, out)


@pytest.fixture(scope="module")
def folder(imported: tuple[Path, SalesforceReport]) -> Path:
    return imported[0]


@pytest.fixture(scope="module")
def obligations(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    db = tmp_path_factory.mktemp("store") / "salesforce.duckdb"
    ingest(folder, db, strict=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_obligations(con, AS_OF)
    finally:
        con.close()


# ---------------------------------------------------------------- the report


def test_report_counts_rows_and_every_skip_reason(imported):
    """71 rows over 12 files; each skipped row is counted under its reason."""
    _, report = imported
    # User 4, Account 4, Contact 4, Entitlement 4, ServiceContract 1, EntitlementContact 4,
    # BusinessHours 3, Holiday 5, Case 9, CaseHistory 16, casecomment 9, emailmessage 8
    assert report.rows_read == 71
    assert report.written == {
        "accounts": 3, "subscriptions": 3, "cases": 4, "responses": 10, "case_changes": 6, "contacts": 3,
    }
    assert dict(report.skipped) == {
        "Case merged into another case (MasterRecordId set or Status Merged)": 2,  # 500C5, 500C6
        "Case IsDeleted is true (in the Recycle Bin)": 1,  # 500C4
        "Case has no AccountId (a case needs the subscriber's account)": 1,  # 500C7
        "Case Priority is empty or not in --severity-map": 1,  # 500C9 Urgent
        "CaseHistory Field created (the creation is the case's opened_at)": 2,  # 017H01, 017H13
        "CaseHistory owner change (ownerAssignment, ownerAccepted, ...): not a status or severity": 2,  # H02-H03
        "CaseHistory of another field (not Status, Priority or IsEscalated)": 1,  # 017H10 Subject
        "CaseHistory IsDeleted is true": 1,  # 017H16
        "CaseHistory for a case not imported (deleted, merged, skipped or absent)": 1,  # 017H12 on 500C4
        "CaseComment IsDeleted is true": 1,  # 00aM08
        "CaseComment for a case not imported (deleted, merged, skipped or absent)": 1,  # 00aM07
        "CaseComment by an automation user (--system-user or UserType AutomatedProcess)": 1,  # 00aM06
        "EmailMessage has no ParentId (not attached to a case)": 1,  # 02sE05
        "EmailMessage is a draft (Status 5), never sent": 1,  # 02sE06
        "EmailMessage for a case not imported (deleted, merged, skipped or absent)": 1,  # 02sE08
        "EmailMessage sent by an automation user (auto-response)": 1,  # 02sE04
        "Entitlement IsDeleted is true": 1,  # 550E4
        "Entitlement Name maps to no package (add it to --package-map)": 1,  # 550E3 Basic Warranty
        "EntitlementContact for an entitlement not imported": 1,  # 55aL4 -> 550E3
        "EntitlementContact on an entitlement of another account than the contact's AccountId "
        "(a contact row holds one account)": 1,  # 55aL3: 003C3 (Acme) on Beta's 550E2
        "Contact has no AccountId": 1,  # 003C4
        "Account IsDeleted is true": 1,  # 001GONE
        "BusinessHours with no working time on any day": 1,  # 01mNONE
        "Holiday not all day (IsAllDay false): a part-day closure is not expressible": 1,  # 0C0H4
        "Holiday recurring other than yearly (RecursYearly, RecursYearlyNth are read)": 1,  # 0C0H5
    }
    summary = report.summary()
    assert "Skipped 28 rows:" in summary
    assert "CaseHistory Status values not in --status-map, taken as open: In Progress" in summary
    assert "1 case comments by a CreatedById with no User row, taken as written by --unknown-author agent" in summary


# ---------------------------------------------------------------- cases


def test_case_fields_are_mapped(folder):
    """500C1: CreatedDate -> opened_at, Origin Email -> email, OwnerId 005A2 -> Ben Agent, ClosedDate -> closed_at."""
    case = read(folder, "cases").set_index("case_id").loc["500C1"]
    assert (case["account_id"], case["contact_id"], case["opened_at"]) == ("001ACME", "003C1", "2026-03-10T13:00:00Z")
    assert (case["channel"], case["owner"], case["subject"]) == ("email", "Ben Agent", "Login fails after upgrade")
    assert case["closed_at"] == "2026-03-12T18:00:00Z"  # IsClosed true
    assert (case["case_number"], case["source_status"], case["source_priority"]) == ("00001001", "Closed", "Critical")


def test_opening_severity_is_the_first_priority_changes_old_value(folder):
    """500C1 ends Critical but opened Medium (017H04 OldValue): severity 3, then 2 and 1 as changes."""
    assert read(folder, "cases").set_index("case_id").loc["500C1", "severity"] == "3"
    severity = [r for r in rows_of(folder, "case_changes", "500C1", ["at", "field", "value"]) if r[1] == "severity"]
    assert severity == [
        ("2026-03-10T13:30:00Z", "severity", "2"),  # 017H04 Medium -> High
        ("2026-03-11T15:00:00Z", "severity", "1"),  # 017H08 High -> Critical
    ]
    # 500C2 never changed priority: its Critical is the opening one
    assert read(folder, "cases").set_index("case_id").loc["500C2", "severity"] == "1"


def test_status_changes_and_escalation(folder):
    """New -> Working is no change (both open); Waiting on Customer pauses; IsEscalated true is an escalation."""
    changes = [r for r in rows_of(folder, "case_changes", "500C1", ["at", "field", "value"]) if r[1] != "severity"]
    assert changes == [
        ("2026-03-10T16:00:00Z", "status", "pending_customer"),  # 017H06
        ("2026-03-11T14:05:00Z", "status", "open"),  # 017H07 back to Working
        ("2026-03-11T15:00:00Z", "escalation", "1"),  # 017H09
        ("2026-03-12T18:00:00Z", "status", "closed"),  # 017H11; 017H16 (Escalated) is deleted
    ]
    # 500C8: New -> In Progress (not in the map: open) -> Working: still open, no change
    assert rows_of(folder, "case_changes", "500C8", ["at"]) == []


def test_closed_case_without_history_closes_at_closed_date(folder):
    """500C3 has no CaseHistory: IsClosed true and ClosedDate 2026-03-17 12:00Z make closed_at."""
    assert read(folder, "cases").set_index("case_id").loc["500C3", "closed_at"] == "2026-03-17T12:00:00Z"
    assert rows_of(folder, "case_changes", "500C3", ["at"]) == []


def test_deleted_merged_and_accountless_cases_are_skipped_with_their_events(folder):
    """500C4 (deleted), 500C5 (MasterRecordId), 500C6 (Status Merged), 500C7 (no AccountId), 500C9 (Urgent)."""
    cases = set(read(folder, "cases")["case_id"])
    assert cases == {"500C1", "500C2", "500C3", "500C8"}
    assert not {"500C4", "500C5"} & set(read(folder, "responses")["case_id"])
    assert not {"500C4"} & set(read(folder, "case_changes")["case_id"])


def test_offset_timestamps_are_converted_to_utc(folder):
    """500C8 opened 09:00-0400 = 13:00Z; its email 02sE07 at 14:30+01:00 = 13:30Z."""
    assert read(folder, "cases").set_index("case_id").loc["500C8", "opened_at"] == "2026-03-16T13:00:00Z"
    assert rows_of(folder, "responses", "500C8", ["at", "response_id"]) == [("2026-03-17T13:30:00Z", "02sE07")]


# ---------------------------------------------------------------- responses


def test_emails_and_comments_become_responses_and_notes(folder):
    """500C1: outgoing email (agent), unpublished comment (internal note), incoming email (customer), comment."""
    assert rows_of(folder, "responses", "500C1", ["at", "author_type", "author", "channel", "public", "response_id"]) == [
        ("2026-03-10T15:00:00Z", "agent", "Ana Agent", "email", "true", "02sE01"),
        ("2026-03-11T10:00:00Z", "agent", "Ana Agent", "web", "false", "00aM01"),  # IsPublished false
        # Incoming true: the customer, whoever created the record (email-to-case's automation)
        ("2026-03-11T14:00:00Z", "customer", "carl@acme.example", "email", "true", "02sE02"),
        # 00aM02 edited 2026-03-13 09:00Z (LastModifiedDate): the CreatedDate counts
        ("2026-03-12T12:00:00Z", "agent", "Ben Agent", "web", "true", "00aM02"),
    ]


def test_portal_user_is_a_customer_and_unknown_author_an_agent(folder):
    """500C2: 005P1 (PowerCustomerSuccess) is a customer; 005ZZ has no User row: agent by default."""
    assert rows_of(folder, "responses", "500C2", ["at", "author_type", "author"]) == [
        ("2026-03-14T10:20:00Z", "customer", "Paula Portal"),
        ("2026-03-14T11:30:00Z", "agent", "Ana Agent"),
        ("2026-03-15T01:00:00Z", "agent", "005ZZ"),
        ("2026-03-15T02:00:00Z", "agent", "Ben Agent"),
    ]


def test_unknown_author_option_and_system_user(tmp_path):
    """--unknown-author customer turns 00aM09 into a customer; --system-user 005A2 drops Ben's messages."""
    out = tmp_path / "out"
    import_salesforce(EXPORT, out, unknown_author="customer", system_users=["005A2"])
    assert rows_of(out, "responses", "500C2", ["response_id", "author_type"]) == [
        ("00aM03", "customer"), ("00aM04", "agent"), ("00aM09", "customer"),  # 02sE03 by 005A2 is gone
    ]


def test_automation_users_never_respond(folder):
    """500C3: the auto-response 02sE04 (14:00:30Z) and 00aM06 by Automated Process are not responses."""
    assert rows_of(folder, "responses", "500C3", ["at", "response_id"]) == [("2026-03-16T15:00:00Z", "00aM05")]


# ---------------------------------------------------------------- accounts, subscriptions, contacts, calendars


def test_accounts_take_their_entitlements_business_hours(folder):
    """Acme's entitlement names US Support, Beta's London Hours; Gamma's is skipped: the default (US Support)."""
    accounts = read(folder, "accounts").set_index("account_id")
    assert accounts["region"].to_dict() == {"001ACME": "US Support", "001BETA": "London Hours", "001GAMMA": "US Support"}
    assert accounts.loc["001ACME", ["name", "advisor"]].tolist() == ["Acme Corp", "Ana Agent"]


def test_subscriptions_from_entitlements_and_contracts(folder):
    """Gold Support -> Gold; Beta's Silver Plan contract (to 03-31) yields to Premier Success from 01-01."""
    terms = read(folder, "subscriptions")
    assert [tuple(r) for r in terms.itertuples(index=False)] == [
        ("001ACME", "Gold", "2026-01-01", "2026-12-31"),
        ("001BETA", "Silver", "2025-07-01", "2025-12-31"),
        ("001BETA", "Premier", "2026-01-01", "2026-06-30"),  # Premier (rank 6) over Silver (rank 3)
    ]


def test_package_map_and_default_package(tmp_path):
    """--package-map renames Premier Success and Basic Warranty; --default-package covers bare accounts."""
    out = tmp_path / "out"
    import_salesforce(EXPORT, out, package_map={"premier success": "Platinum", "Basic Warranty": "Bronze"})
    terms = read(out, "subscriptions")
    assert [tuple(r) for r in terms.itertuples(index=False)] == [
        ("001ACME", "Gold", "2026-01-01", "2026-12-31"),
        ("001BETA", "Silver", "2025-07-01", "2025-12-31"),
        ("001BETA", "Platinum", "2026-01-01", "2026-06-30"),
        # no EndDate: runs to the data's last local date (2026-03-17: 02sE07 at 13:30Z = 09:30 EDT)
        ("001GAMMA", "Bronze", "2026-01-01", "2026-03-17"),
    ]
    out2 = tmp_path / "out2"
    import_salesforce(EXPORT, out2, default_package="Standard")
    gamma = read(out2, "subscriptions").set_index("account_id").loc["001GAMMA"]
    # the data's local dates run from 2026-03-10 (500C1 opened 09:00 EDT) to 2026-03-17
    assert gamma.tolist() == ["Standard", "2026-03-10", "2026-03-17"]


def test_contacts_are_authorized_by_their_own_accounts_entitlements(folder):
    """003C1 and 003C2 are named by entitlements of their accounts; 003C3 only by Beta's (not its own Acme)."""
    contacts = read(folder, "contacts").set_index("contact_id")
    assert contacts.loc["003C1", ["account_id", "name", "authorized", "authorized_from", "authorized_to"]].tolist() == [
        "001ACME", "Carl Customer", "true", "2026-01-01", "2026-12-31",
    ]
    assert contacts.loc["003C2", "authorized_to"] == "2026-06-30"
    assert contacts.loc["003C3", ["account_id", "authorized"]].tolist() == ["001ACME", "false"]
    # the contact under two accounts opened 500C2 for Beta: the case keeps the case's AccountId
    assert read(folder, "cases").set_index("case_id").loc["500C2", ["account_id", "contact_id"]].tolist() == [
        "001BETA", "003C3",
    ]


def test_calendars_from_business_hours_and_holidays(folder):
    """Both BusinessHours become calendars; holidays: one date, a yearly and a yearly-nth recurrence."""
    config = load_config(folder)
    us, london = config.calendars["US Support"], config.calendars["London Hours"]
    assert (us.timezone, london.timezone) == ("America/New_York", "Europe/London")
    assert us.hours[0] == ((8 * 60, 18 * 60),) and us.hours[5] == ()  # Monday 08:00-18:00, Saturday off
    assert london.hours[4] == ((9 * 60, 17 * 60 + 30),)
    assert us.holiday_country is None
    # data in 2026: 2026 and 2027. Thanksgiving is the fourth Thursday: 2026-11-26, 2027-11-25
    assert [d.isoformat() for d in us.holidays_add] == [
        "2026-04-03", "2026-07-04", "2026-11-26", "2027-07-04", "2027-11-25",
    ]
    assert config.reporting_timezone == "America/New_York"  # the default BusinessHours' zone


def test_config_records_every_choice(folder):
    """config.toml's [importer] records the maps, the region rule and the files read (found in any case)."""
    with (folder / "config.toml").open("rb") as f:
        importer = tomllib.load(f)["importer"]
    assert importer["severity_map"] == {"Critical": 1, "High": 2, "Medium": 3, "Low": 3}
    assert importer["status_map"]["Waiting on Customer"] == "pending_customer"
    assert (importer["default_region"], importer["unknown_author"]) == ("US Support", "agent")
    assert "casecomment.csv" in importer["files"] and "emailmessage.csv" in importer["files"]


# ---------------------------------------------------------------- options


def test_severity_and_status_maps_merge_over_the_defaults(tmp_path):
    """Urgent=1 imports 500C9; In Progress=pending_customer gives 500C8 a pause from 13:30Z to 13:45Z."""
    out = tmp_path / "out"
    import_salesforce(EXPORT, out, severity_map={"Urgent": "1"}, status_map={"In Progress": "pending_customer"})
    assert read(out, "cases").set_index("case_id").loc["500C9", "severity"] == "1"
    assert rows_of(out, "case_changes", "500C8", ["at", "value"]) == [
        ("2026-03-16T13:30:00Z", "pending_customer"),
        ("2026-03-16T13:45:00Z", "open"),
    ]


def test_naive_timestamps_need_a_source_timezone(tmp_path):
    """500C8's CreatedDate without offset: refused, or read in --source-timezone (09:00 EDT = 13:00Z)."""
    export = edited_export(tmp_path, "Case.csv", lambda t: t.replace("2026-03-16T09:00:00.000-0400", "2026-03-16 09:00:00"))
    with pytest.raises(LoadError, match=r"^Case.csv, row 8, column CreatedDate: a timestamp without an offset"):
        import_salesforce(export, tmp_path / "out")
    out = tmp_path / "out2"
    import_salesforce(export, out, source_timezone="America/New_York")
    assert read(out, "cases").set_index("case_id").loc["500C8", "opened_at"] == "2026-03-16T13:00:00Z"
    assert load_config(out).source_timezone == "America/New_York"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("Case.csv", ",Priority,", ",Prio,", "Case.csv, column Priority: missing; expected the Case object's API field"),
        # the fifth comment record (its body spans two lines, so row is not line)
        ("casecomment.csv", "2026-03-16T15:00:00.000Z", "yesterday",
         "casecomment.csv, row 5, column CreatedDate: not a timestamp; expected ISO 8601 such as 2026-03-01T09:15"),
        ("Case.csv", "2026-03-14T10:00:00.000Z", "2026-02-30T10:00:00.000Z", "Case.csv, row 2, column CreatedDate: not a"),
        ("Entitlement.csv", "2026-06-30", "30/06/2026", "Entitlement.csv, row 2, column EndDate: not a date"),
        ("emailmessage.csv", '"02sE03","500C2","false"', '"02sE03","500C2","maybe"',
         "emailmessage.csv, row 3, column Incoming: not a boolean; expected true or false"),
    ],
    ids=["missing-column", "bad-timestamp", "impossible-date", "bad-date", "bad-boolean"],
)
def test_bad_input_is_one_sentence(tmp_path, file, old, new, message):
    """A missing column or an unreadable value names the file, row and column, and what was expected."""
    export = edited_export(tmp_path, file, lambda t: t.replace(old, new, 1))
    with pytest.raises(LoadError) as info:
        import_salesforce(export, tmp_path / "out")
    assert str(info.value).startswith(message)
    assert "yesterday" not in str(info.value) and "maybe" not in str(info.value)  # values are not echoed


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"severity_map": {"Urgent": "4"}}, "--severity-map: severities are 1, 2 or 3"),
        ({"status_map": {"Hold": "paused"}}, "--status-map: statuses are open, pending_customer, closed"),
        ({"package_map": {"Gold Support": "Diamond"}}, "--package-map: unknown package 'Diamond'"),
        ({"default_package": "Diamond"}, "--default-package: unknown package 'Diamond'"),
        ({"region": "mars"}, "--region: unknown calendar 'mars'"),
        ({"source_timezone": "Mars/Olympus"}, "--source-timezone: expected an IANA timezone"),
    ],
)
def test_bad_options_are_one_clear_error(tmp_path, options, message):
    with pytest.raises(LoadError, match=message):
        import_salesforce(EXPORT, tmp_path / "out", **options)


def test_parse_pairs():
    """'Premier Success=Gold, Basic=Bronze' is a map; a pair without '=' is a LoadError."""
    assert parse_pairs("Premier Success=Gold, Basic=Bronze", "--package-map", "") == {
        "Premier Success": "Gold", "Basic": "Bronze",
    }
    with pytest.raises(LoadError, match="NAME=VALUE"):
        parse_pairs("Gold", "--package-map", "'Premier Success=Gold'")


# ---------------------------------------------------------------- end to end: verdicts worked out by hand


def test_dataset_ingests_strict_and_yields_verdicts(obligations):
    """The folder loads with --strict; the verdicts below follow from the fixture's times and targets."""
    by = obligations.set_index(["case_id", "seq"])

    # 500C1 (Acme, Gold, US Support). Opened Tue 2026-03-10 13:00Z = 09:00 EDT at severity 3,
    # raised to 2 at 13:30Z. Severity 2: 8 business hours from 09:00 EDT -> 17:00 EDT = 21:00Z.
    # (Severity 3's 12 h would end Wed 11:00 EDT, after 13:30Z: no breach before the raise.)
    # First agent response: email 02sE01 at 15:00Z -> met, 2 business hours = 7200 s.
    initial = by.loc[("500C1", 0)]
    assert (initial.status, initial.severity, initial.deadline_at) == ("met", 2, pd.Timestamp("2026-03-10T21:00Z"))
    assert initial.elapsed_seconds == 7200

    # Follow-up 1 from 15:00Z Mar 10; paused (Waiting on Customer) 16:00Z Mar 10 - 14:05Z Mar 11;
    # severity 1 (32 h, 24x7) from 15:00Z Mar 11. The internal note (Mar 11 10:00Z) and the customer's
    # email (14:00Z) do not end it; Ben's comment at 12:00Z Mar 12 does (not its edit on Mar 13).
    # Deadline: 1 h before the pause + 31 h after 14:05Z Mar 11 = 21:05Z Mar 12. Elapsed:
    # 1 h + (12:00Z Mar 12 - 14:05Z Mar 11 = 21 h 55 min) = 22 h 55 min = 82500 s.
    follow = by.loc[("500C1", 1)]
    assert (follow.status, follow.severity, follow.calendar) == ("met", 1, "24x7")
    assert (follow.deadline_at, follow.elapsed_seconds) == (pd.Timestamp("2026-03-12T21:05Z"), 82500)
    # Follow-up 2 from 12:00Z Mar 12 ends with the close at 18:00Z.
    assert (by.loc[("500C1", 2)].status, by.loc[("500C1", 2)].end_at) == ("cancelled", pd.Timestamp("2026-03-12T18:00Z"))

    # 500C2 (Beta, Premier in force on 2026-03-14, Critical = severity 1: 1 h initial, 12 h follow-up, 24x7).
    # Opened Sat 10:00Z; Paula's portal comment at 10:20Z is the customer's; Ana answers at 11:30Z:
    # breached at 11:00Z, elapsed 1.5 h = 5400 s.
    initial = by.loc[("500C2", 0)]
    assert (initial.status, initial.breached_at, initial.elapsed_seconds) == (
        "breached", pd.Timestamp("2026-03-14T11:00Z"), 5400,
    )
    # Follow-up 1 from 11:30Z, deadline 23:30Z; next agent message 01:00Z Mar 15 (00aM09): breached at 23:30Z.
    assert (by.loc[("500C2", 1)].status, by.loc[("500C2", 1)].breached_at) == (
        "breached", pd.Timestamp("2026-03-14T23:30Z"),
    )
    # Follow-up 2 from 01:00Z, deadline 13:00Z; Ben's email at 02:00Z: met after 3600 s.
    assert (by.loc[("500C2", 2)].status, by.loc[("500C2", 2)].elapsed_seconds) == ("met", 3600)

    # 500C3 (Gamma: its only entitlement maps to no package): untargeted; answered 15:00Z = 11:00 EDT,
    # one business hour after opening at 10:00 EDT (the 14:00:30Z auto-response does not count).
    initial = by.loc[("500C3", 0)]
    assert (initial.status, initial.end_at, initial.elapsed_seconds) == (
        "untargeted", pd.Timestamp("2026-03-16T15:00Z"), 3600,
    )

    # 500C8 (Acme, Gold, Low = severity 3: 12 business hours). Opened Mon 09:00 EDT; Monday gives 9 h,
    # Tuesday 08:00 + 3 h -> deadline 11:00 EDT = 15:00Z Mar 17. Answered 09:30 EDT (13:30Z): met,
    # 9 h + 1.5 h = 37800 s.
    initial = by.loc[("500C8", 0)]
    assert (initial.status, initial.deadline_at, initial.elapsed_seconds) == (
        "met", pd.Timestamp("2026-03-17T15:00Z"), 37800,
    )


def test_cli_import_ingest_and_export(tmp_path):
    """The three commands in a row: import prints the report, ingest --strict loads, export writes verdicts."""
    out, db, csv = tmp_path / "sf", tmp_path / "sf.duckdb", tmp_path / "obligations.csv"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "metrics", *args], capture_output=True, text=True,
                              cwd=PROJECT_ROOT, check=False)

    result = run("import", "salesforce", str(EXPORT), "--out", str(out), "--package-map", "Premier Success=Premier")
    assert result.returncode == 0, result.stderr
    assert "71 rows read" in result.stdout and "cases                   4 rows" in result.stdout
    assert "EmailMessage has no ParentId (not attached to a case): 1" in result.stdout
    assert run("ingest", str(out), "--db", str(db), "--strict", "--quiet").returncode == 0
    assert run("export", "obligations", str(out), "--db", str(db), "--as-of", AS_OF, "--out", str(csv)).returncode == 0
    exported = pd.read_csv(csv, dtype=str, keep_default_na=False).set_index(["case_id", "seq"])
    # 500C2's initial: 1 h from 10:00Z, answered 11:30Z (see above)
    assert exported.loc[("500C2", "0"), ["status", "deadline_at"]].tolist() == ["breached", "2026-03-14T11:00:00Z"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, "no such folder"),
        (lambda p: p.mkdir(), "no Case.csv"),
        (lambda p: (p.mkdir(), (p / "Case.csv").write_text("Id,AccountId\n500X,001X\n")), "column Priority: missing"),
        (lambda p: (p.mkdir(), (p / "Case.csv").write_text("Id,AccountId,Priority,Status,CreatedDate\n")),
         "no case could be imported"),
    ],
    ids=["missing", "no-case-file", "missing-column", "header-only"],
)
def test_cli_bad_input_is_one_error_line(tmp_path, setup, expected):
    """A missing folder, a folder without cases or a foreign file exits 2 with one `error:` line."""
    folder = tmp_path / "export"
    setup(folder)
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "import", "salesforce", str(folder), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
