"""The Jira Service Management importer on hand-written REST API payloads (tests/data/jsm).

Every expected value is traced by hand from the fixture files, quoted in the comments as
`file: record, timestamp as written -> UTC`. The accounts hold Gold on `americas` by default:
initial response 4 h around the clock at severity 1, 8 and 12 business hours at 2 and 3;
follow-ups 32 h around the clock at 1, 72 business hours at 2 and 3. Business hours are
Monday to Friday 07:00-18:00 in Denver: MST (UTC-7) until Sunday 2026-03-08, MDT (UTC-6) after.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT
from metrics.tools.imports.jsm import (
    SKIP_COMMENT_APP,
    SKIP_COMMENT_DUPLICATE,
    SKIP_COMMENT_ORPHAN,
    SKIP_COMMENT_UNKNOWN,
    SKIP_DUPLICATE_ISSUE,
    SKIP_HISTORY_DUPLICATE,
    SKIP_NO_ACCOUNT,
    SKIP_PRIORITY,
    SKIP_SEVERAL_ACCOUNTS,
    JsmReport,
    import_jsm,
    parse_account_packages,
    parse_severity_map,
    parse_status_map,
)

FIXTURES = PROJECT_ROOT / "tests" / "data" / "jsm"
AS_OF = "2026-03-20T00:00:00Z"


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def rows_of(folder: Path, table: str, case_id: str, columns: list[str]) -> list[tuple[str, ...]]:
    frame = read(folder, table)
    return [tuple(r) for r in frame.loc[frame["case_id"] == case_id, columns].itertuples(index=False)]


def case(folder: Path, case_id: str) -> pd.Series:
    return read(folder, "cases").set_index("case_id").loc[case_id]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, JsmReport]:
    out = tmp_path_factory.mktemp("jsm") / "dataset"
    return out, import_jsm(FIXTURES, out)


@pytest.fixture(scope="module")
def folder(imported: tuple[Path, JsmReport]) -> Path:
    return imported[0]


def issue(key: str, **fields: Any) -> dict[str, Any]:
    """A minimal search-result issue of Acme Corp, priority High, created 2026-03-02 09:00 MST."""
    base: dict[str, Any] = {
        "created": "2026-03-02T09:00:00.000-0700",
        "priority": {"name": "High"},
        "status": {"name": "Waiting for support", "statusCategory": {"key": "new"}},
        "reporter": {"accountId": "qm:c", "accountType": "customer"},
        "customfield_10002": [{"id": "1", "name": "Acme Corp"}],
    }
    return {"key": key, "fields": {**base, **fields}, "changelog": {"histories": []}}


def write_page(path: Path, *issues: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"startAt": 0, "maxResults": 50, "total": len(issues), "issues": list(issues)}))
    return path


# ---------------------------------------------------------------- the report


def test_report_counts_what_was_read_written_and_skipped(imported):
    """9 issues (one twice), 17 comments and 10 changelog entries in 10 files; every skip has its reason."""
    _, report = imported
    # issues: 4 on page 1, 4 on page 2 (SUP-2 again), SUP-7 in issues.jsonl
    # comments: SUP-1 5, comments.jsonl 2, OPS-17 1, SUP-99 1, SUP-5 3, SUP-7 4, SUP-3's comment field 1
    # changelog entries: SUP-1 3, SUP-2 4, SUP-6 1 embedded + 2 in changelog/SUP-6.changelog.json
    assert (report.files, report.issues, report.comments, report.histories) == (10, 9, 17, 10)
    assert report.rows_read == 36
    assert report.written == {"accounts": 3, "subscriptions": 3, "cases": 6, "responses": 12, "case_changes": 6}
    assert dict(report.skipped) == {
        SKIP_DUPLICATE_ISSUE: 1,  # the older SUP-2 on page 2
        SKIP_NO_ACCOUNT: 1,  # SUP-4: customfield_10002 is []
        SKIP_PRIORITY: 1,  # SUP-8: Critical
        SKIP_COMMENT_DUPLICATE: 1,  # 10301 both in SUP-3's comment field and in comments.jsonl
        SKIP_COMMENT_ORPHAN: 1,  # SUP-99.comments.json: no such issue
        SKIP_COMMENT_APP: 1,  # SUP-1's 10005 by Automation for Jira
        SKIP_COMMENT_UNKNOWN: 2,  # SUP-5's 10501 (no author) and 10502 (accountId null)
        SKIP_HISTORY_DUPLICATE: 1,  # 10601 embedded and in the changelog page
    }
    summary = report.summary()
    assert summary.startswith("Imported jsm: 9 issues, 17 comments and 10 changelog entries read from 10 files")
    assert "Skipped 9 records:" in summary
    assert report.notes == [
        "1 files not ending in .json, .jsonl or .ndjson were not read",  # README.md
        "1 issues came without a changelog (search with expand=changelog): their status and priority "
        "changes are unknown",  # SUP-5
        "1 issues name several organisations; the first listed is the account (--multiple-accounts): SUP-3",
        "opening priorities not in the severity map (add them with --severity-map): 'Critical'",
        "statuses of unknown category were taken as open (map them with --status-map): 'Escalated'",
        "1 timestamps without an offset were read as America/Denver wall times",  # SUP-7's created
    ]


# ---------------------------------------------------------------- cases


def test_case_fields_are_mapped(folder):
    """SUP-1: key, Organizations, created 09:15+0100 = 08:15Z, Highest = 1, reporter, summary, type, assignee."""
    sup1 = case(folder, "SUP-1")
    assert sup1["account_id"] == "Acme Corp"
    assert sup1["opened_at"] == "2026-03-02T08:15:00Z"  # the colon-less offset +0100
    assert sup1["severity"] == "1"
    assert sup1["contact_id"] == "qm:customer-carla"
    assert sup1["subject"] == "VPN drops every few minutes"
    assert sup1["product_area"] == "Get IT help"
    assert sup1["owner"] == "Ana Agent"
    assert sup1["closed_at"] == "2026-03-03T13:00:00Z"  # history 10103, the change to Resolved
    assert sup1["resolved_at"] == "2026-03-03T13:00:00Z"  # resolutiondate 14:00+0100
    assert (sup1["status_name"], sup1["priority_name"]) == ("Resolved", "Highest")


def test_accounts_and_one_term_covering_the_data(folder):
    """One account per organisation on `americas`, Gold from the first to the last local date of the data."""
    accounts, terms = read(folder, "accounts"), read(folder, "subscriptions")
    assert accounts[["account_id", "name", "region"]].to_numpy().tolist() == [
        ["Acme Corp", "Acme Corp", "americas"], ["Globex", "Globex", "americas"], ["Initech", "Initech", "americas"],
    ]
    # first: SUP-1 opened 08:15Z = 01:15 MST on 03-02; last: SUP-7's 10704 at 2026-03-12T08:00-0600
    assert terms[["package", "start_date", "end_date"]].drop_duplicates().to_numpy().tolist() == [
        ["Gold", "2026-03-02", "2026-03-12"],
    ]


def test_several_organisations_take_the_first_or_skip(folder, tmp_path):
    """SUP-3 names Globex then Initech: Globex by default, the issue skipped with --multiple-accounts skip."""
    assert case(folder, "SUP-3")["account_id"] == "Globex"
    report = import_jsm(FIXTURES, tmp_path / "out", multiple_accounts="skip")
    assert "SUP-3" not in set(read(tmp_path / "out", "cases")["case_id"])
    assert report.skipped[SKIP_SEVERAL_ACCOUNTS] == 1


def test_missing_organisation_is_skipped_or_given_the_default_account(folder, tmp_path):
    """SUP-4 has no organisation: skipped by default, kept under --default-account."""
    assert "SUP-4" not in set(read(folder, "cases")["case_id"])
    report = import_jsm(FIXTURES, tmp_path / "out", default_account="No organisation")
    assert case(tmp_path / "out", "SUP-4")["account_id"] == "No organisation"
    assert SKIP_NO_ACCOUNT not in report.skipped
    assert "No organisation" in set(read(tmp_path / "out", "accounts")["account_id"])


def test_account_field_by_id_by_name_or_another_field(tmp_path):
    """--account-field takes an id or a name of `names`; a single-select field gives its option's value."""
    source = tmp_path / "src"
    source.mkdir()
    write_page(
        source / "page.json",
        issue("SUP-1", customfield_10050={"value": "Enterprise", "id": "10"}),
        issue("SUP-2", customfield_10050={"value": "Startup", "id": "11"}),
    )
    import_jsm(source, tmp_path / "a", account_field="customfield_10050")
    assert read(tmp_path / "a", "cases")["account_id"].tolist() == ["Enterprise", "Startup"]
    # without names nor --account-field, the field shaped like organisations is found
    import_jsm(source, tmp_path / "b")
    assert read(tmp_path / "b", "cases")["account_id"].tolist() == ["Acme Corp", "Acme Corp"]
    import_jsm(FIXTURES, tmp_path / "c", account_field="organizations")  # by name, any case
    assert case(tmp_path / "c", "SUP-1")["account_id"] == "Acme Corp"
    with pytest.raises(LoadError, match="--account-field: no field named 'Customer'"):
        import_jsm(FIXTURES, tmp_path / "d", account_field="Customer")


def test_package_per_account(tmp_path):
    """--account-package gives Acme Corp Platinum; the others keep --package Silver."""
    import_jsm(FIXTURES, tmp_path / "out", package="Silver", account_packages={"Acme Corp": "Platinum", "Umbrella": "Gold"})
    terms = read(tmp_path / "out", "subscriptions").set_index("account_id")["package"].to_dict()
    assert terms == {"Acme Corp": "Platinum", "Globex": "Silver", "Initech": "Silver"}
    with (tmp_path / "out" / "config.toml").open("rb") as f:
        assert tomllib.load(f)["importer"]["account_packages"] == {"Acme Corp": "Platinum", "Umbrella": "Gold"}


def test_deleted_reporter_leaves_no_contact(folder):
    """SUP-5's reporter is a Former user with accountId null: the case has no contact."""
    assert case(folder, "SUP-5")["contact_id"] == ""


def test_duplicate_issue_keeps_the_latest_copy(folder):
    """Page 2 repeats SUP-2 as it was at creation (updated 10:00-0500, Low, no history): page 1's copy wins."""
    assert case(folder, "SUP-2")["status_name"] == "In Progress"
    assert len(rows_of(folder, "case_changes", "SUP-2", ["at"])) == 2


# ---------------------------------------------------------------- severity and status changes


def test_priority_changed_several_times_in_an_unordered_changelog(folder):
    """SUP-2 lists history 10203 (High->Highest, 12:00-0500) before 10201 (Low->High, 11:00-0500).

    In time order the first priority change starts from Low, so the case opens at severity 3;
    then High (2) at 16:00Z and Highest (1) at 17:00Z.
    """
    assert case(folder, "SUP-2")["severity"] == "3"
    assert rows_of(folder, "case_changes", "SUP-2", ["at", "field", "value", "source_value"]) == [
        ("2026-03-03T16:00:00Z", "severity", "2", "High"),
        ("2026-03-03T17:00:00Z", "severity", "1", "Highest"),
    ]


def test_severity_map_is_merged_over_the_defaults(tmp_path):
    """--severity-map Critical=1 keeps SUP-8 (Critical) at severity 1; Highest..Lowest keep their defaults."""
    report = import_jsm(FIXTURES, tmp_path / "out", severity_map={"Critical": 1})
    assert case(tmp_path / "out", "SUP-8")["severity"] == "1"
    assert case(tmp_path / "out", "SUP-1")["severity"] == "1"
    assert SKIP_PRIORITY not in report.skipped


def test_status_changes_follow_the_map_and_the_category(folder):
    """SUP-1: Waiting for customer (map) pends at 10:05+0100, Waiting for support reopens, Resolved (done) closes."""
    assert rows_of(folder, "case_changes", "SUP-1", ["at", "field", "value", "source_value"]) == [
        ("2026-03-02T09:05:00Z", "status", "pending_customer", "Waiting for customer"),
        ("2026-03-03T09:05:00Z", "status", "open", "Waiting for support"),  # 10:05+0100, category new
        ("2026-03-03T13:00:00Z", "status", "closed", "Resolved"),  # resolution item beside it ignored
    ]
    # SUP-2: Waiting for support -> Escalated (unknown category: open) -> In Progress: no change
    assert [r for r in rows_of(folder, "case_changes", "SUP-2", ["field"]) if r == ("status",)] == []


def test_status_map_overrides(tmp_path):
    """--status-map Escalated=pending_customer turns SUP-2's escalation (11:30-0500) into a pause until 16:00-0500."""
    import_jsm(FIXTURES, tmp_path / "out", status_map={"escalated": "pending_customer"})
    assert rows_of(tmp_path / "out", "case_changes", "SUP-2", ["at", "field", "value"]) == [
        ("2026-03-03T16:00:00Z", "severity", "2", ),
        ("2026-03-03T16:30:00Z", "status", "pending_customer"),
        ("2026-03-03T17:00:00Z", "severity", "1"),
        ("2026-03-03T21:00:00Z", "status", "open"),
    ]


def test_close_without_a_changelog_entry_uses_resolutiondate(folder):
    """SUP-3 is Closed (done) with an empty changelog: closed_at is resolutiondate 10:00-0700 = 17:00Z, no change row."""
    assert case(folder, "SUP-3")["closed_at"] == "2026-03-05T17:00:00Z"
    assert rows_of(folder, "case_changes", "SUP-3", ["at"]) == []


def test_moved_issue_takes_the_comments_of_its_former_key(folder):
    """SUP-6 was OPS-17 (changelog item Key): OPS-17.comments.json is its; its changelog page closes it at 11:00Z."""
    assert rows_of(folder, "responses", "SUP-6", ["at", "author_type", "response_id"]) == [
        ("2026-03-10T10:00:00Z", "agent", "SUP-6/10601"),
    ]
    assert rows_of(folder, "case_changes", "SUP-6", ["at", "value"]) == [("2026-03-10T11:00:00Z", "closed")]


def test_status_catalogue_and_ndjson_pages(tmp_path):
    """A /rest/api/3/status array (an .ndjson line) gives Escalated its category: done maps it to closed."""
    source = tmp_path / "src"
    shutil.copytree(FIXTURES, source)
    statuses = [{"name": "Escalated", "id": "10010", "statusCategory": {"id": 3, "key": "done"}}]
    (source / "statuses.ndjson").write_text(json.dumps(statuses) + "\n")
    report = import_jsm(source, tmp_path / "out")
    # SUP-2: Escalated at 11:30-0500 (16:30Z) now closes it, In Progress at 16:00-0500 (21:00Z) reopens it
    assert [r for r in rows_of(tmp_path / "out", "case_changes", "SUP-2", ["at", "field", "value"]) if r[1] == "status"] == [
        ("2026-03-03T16:30:00Z", "status", "closed"),
        ("2026-03-03T21:00:00Z", "status", "open"),
    ]
    assert not any("unknown category" in note for note in report.notes)


def test_comment_page_found_by_its_self_url(tmp_path):
    """A comment page whose file name names no issue (or a wrong one) goes where its comments' `self` points."""
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(FIXTURES / "search-page-1.json", source / "search.json")
    comments = json.loads((FIXTURES / "comments" / "SUP-1.comments.json").read_text())
    (source / "EXPORT-2026.json").write_text(json.dumps(comments))  # `self`: .../issue/10010/comment/... = SUP-1
    import_jsm(source, tmp_path / "out")
    assert len(rows_of(tmp_path / "out", "responses", "SUP-1", ["at"])) == 4


# ---------------------------------------------------------------- responses


def test_comments_become_responses_and_internal_notes(folder):
    """SUP-1: the internal note is kept as public=false; created is used even for 10002, edited on 03-15."""
    assert rows_of(folder, "responses", "SUP-1", ["at", "author_type", "public", "author"]) == [
        ("2026-03-02T08:30:00Z", "agent", "false", "557058:agent-ana"),  # 10001, jsdPublic false
        ("2026-03-02T09:00:00Z", "agent", "true", "557058:agent-ana"),  # 10002, 10:00+0100
        ("2026-03-03T09:05:00Z", "customer", "true", "qm:customer-carla"),  # 10003, accountType customer
        ("2026-03-03T12:00:00Z", "agent", "true", "557058:agent-ana"),  # 10004; the app's 10005 skipped
    ]


def test_servicedesk_comments_without_account_types(folder):
    """SUP-7 (servicedeskapi form, no accountType): the reporter is a customer, others agents, public=false a note."""
    assert rows_of(folder, "responses", "SUP-7", ["at", "author_type", "public", "author"]) == [
        ("2026-03-11T15:30:00Z", "agent", "false", "557058:agent-ana"),  # 09:30-0600, public false
        ("2026-03-11T15:45:00Z", "customer", "true", "qm:customer-eli"),  # the reporter
        ("2026-03-11T16:30:00Z", "agent", "true", "557058:agent-ana"),  # atlassian elsewhere in the export
        ("2026-03-12T14:00:00Z", "agent", "true", "557058:agent-gus"),  # unseen, not a reporter: an agent
    ]


def test_deleted_comment_authors(folder, tmp_path):
    """SUP-5: no author and accountId null are unknown (skipped); a Former user with accountType atlassian is an agent."""
    assert rows_of(folder, "responses", "SUP-5", ["at", "author_type", "author"]) == [
        ("2026-03-09T17:00:00Z", "agent", "557058:former-agent"),  # 11:00-0600
    ]
    report = import_jsm(FIXTURES, tmp_path / "out", unknown_author="agent")
    assert rows_of(tmp_path / "out", "responses", "SUP-5", ["at", "author_type", "author"]) == [
        ("2026-03-09T15:00:00Z", "agent", ""),  # 10501, 09:00-0600
        ("2026-03-09T16:00:00Z", "agent", ""),  # 10502
        ("2026-03-09T17:00:00Z", "agent", "557058:former-agent"),
    ]
    assert SKIP_COMMENT_UNKNOWN not in report.skipped


def test_app_comments_can_count_as_agents(tmp_path):
    """--app-comments agent keeps Automation for Jira's 10005 on SUP-1 (13:00:05Z) as an agent response."""
    import_jsm(FIXTURES, tmp_path / "out", app_comments="agent")
    assert rows_of(tmp_path / "out", "responses", "SUP-1", ["at", "author"])[-1] == (
        "2026-03-03T13:00:05Z", "557058:automation",
    )


def test_naive_timestamps_are_read_in_the_source_timezone(folder, tmp_path):
    """SUP-7 created 2026-03-11T09:00:00.000 (no offset): 15:00Z in Denver (MDT), 09:00Z with --timezone UTC."""
    assert case(folder, "SUP-7")["opened_at"] == "2026-03-11T15:00:00Z"
    import_jsm(FIXTURES, tmp_path / "out", source_timezone="UTC")
    assert case(tmp_path / "out", "SUP-7")["opened_at"] == "2026-03-11T09:00:00Z"
    assert case(tmp_path / "out", "SUP-1")["opened_at"] == "2026-03-02T08:15:00Z"  # offsets are unaffected
    assert load_config(tmp_path / "out").source_timezone == "UTC"


def test_comment_before_its_issue_and_unreadable_times_are_skipped(tmp_path):
    """A comment dated before its issue, and a comment and a history with a bad created, are skipped by reason."""
    source = tmp_path / "src"
    source.mkdir()
    sup1 = issue("SUP-1")  # created 16:00Z
    sup1["changelog"]["histories"] = [{"id": "1", "created": "yesterday", "items": []}]
    write_page(source / "page.json", sup1)
    (source / "SUP-1.comments.json").write_text(json.dumps({"comments": [
        {"id": "1", "created": "2026-03-02T15:00:00.000+0000", "jsdPublic": True, "author": {"accountId": "a"}},
        {"id": "2", "created": None, "jsdPublic": True, "author": {"accountId": "a"}},
        {"id": "3", "created": "2026-03-02T17:00:00.000+0000", "jsdPublic": True, "author": {"accountId": "a"}},
    ]}))
    report = import_jsm(source, tmp_path / "out")
    assert read(tmp_path / "out", "responses")["at"].tolist() == ["2026-03-02T17:00:00Z"]
    assert report.skipped["comments created before their issue"] == 1
    assert report.skipped["comments whose created is missing or not a timestamp"] == 1
    assert report.skipped["changelog entries whose created is missing or not a timestamp"] == 1


# ---------------------------------------------------------------- the dataset loads and yields obligations


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )


def test_end_to_end_import_ingest_strict_export(tmp_path):
    """import -> ingest --strict -> export obligations: verdicts worked out by hand from the fixtures."""
    out, db, csv = tmp_path / "jsm", tmp_path / "jsm.duckdb", tmp_path / "obligations.csv"
    assert run("import", "jsm", str(FIXTURES), "--out", str(out)).returncode == 0
    loaded = run("ingest", str(out), "--db", str(db), "--strict", "--quiet")
    assert loaded.returncode == 0, loaded.stderr
    exported = run("export", "obligations", str(out), "--db", str(db), "--as-of", AS_OF, "--out", str(csv))
    assert exported.returncode == 0, exported.stderr
    rows = pd.read_csv(csv, dtype=str, keep_default_na=False).set_index(["case_id", "seq"])
    columns = ["status", "severity", "deadline_at", "elapsed_seconds", "breached_at"]

    def verdict(case_id: str, seq: int) -> tuple[str, ...]:
        return tuple(rows.loc[(case_id, str(seq)), columns])

    # SUP-1, severity 1 (24x7): opened 08:15Z, first public agent comment 09:00Z (the 08:30Z note is internal):
    # met after 45 min = 2700 s, deadline 08:15Z + 4 h = 12:15Z
    assert verdict("SUP-1", 0) == ("met", "1", "2026-03-02T12:15:00Z", "2700", "")
    # follow-up from 09:00Z to the next agent comment 03-03 12:00Z = 27 h, paused while Waiting for customer
    # from 03-02 09:05Z to 03-03 09:05Z (24 h): 3 h = 10800 s; deadline 09:00Z + 32 h + 24 h = 03-04 17:00Z
    assert verdict("SUP-1", 1) == ("met", "1", "2026-03-04T17:00:00Z", "10800", "")
    # the follow-up from 03-03 12:00Z ends at the close (Resolved 13:00Z): cancelled
    assert rows.loc[("SUP-1", "2"), "status"] == "cancelled"
    # SUP-2 opens at severity 3 at 15:00Z (08:00 MST) and is raised to 2 at 16:00Z and 1 at 17:00Z.
    # Severity 3 (12 business h): deadline 03-04 09:00 MST, not within [15:00Z, 16:00Z);
    # severity 2 (8 business h): 16:00 MST = 23:00Z, not within [16:00Z, 17:00Z);
    # severity 1 (4 h, 24x7): 15:00Z + 4 h = 19:00Z, before the first agent comment at 20:30Z: breached at 19:00Z
    assert verdict("SUP-2", 0) == ("breached", "1", "2026-03-03T19:00:00Z", "19800", "2026-03-03T19:00:00Z")
    # its follow-up from 20:30Z is never answered: 20:30Z + 32 h = 03-05 04:30Z
    assert verdict("SUP-2", 1)[0::2] == ("breached", "2026-03-05T04:30:00Z", "2026-03-05T04:30:00Z")
    # SUP-3, severity 3: opened Wed 14:30 MST, answered Thu 09:00 MST: 3.5 h + 2 h = 19800 s;
    # deadline: 12 h - 3.5 h on Wed = 8.5 h from Thu 07:00 = 15:30 MST = 22:30Z
    assert verdict("SUP-3", 0) == ("met", "3", "2026-03-05T22:30:00Z", "19800", "")
    # SUP-5, severity 2, after the DST change (MDT): opened Mon 08:00, first known agent comment 11:00: 10800 s;
    # deadline 08:00 + 8 h = 16:00 MDT = 22:00Z
    assert verdict("SUP-5", 0) == ("met", "2", "2026-03-09T22:00:00Z", "10800", "")
    # its follow-up from Mon 03-09 11:00 MDT (72 business h) is never answered: Mon 7 h, Tue-Fri 44 h (51 h),
    # Mon 03-16 11 h (62 h), Tue 03-17 10 h from 07:00 = 17:00 MDT = 23:00Z
    assert verdict("SUP-5", 1)[0::2] == ("breached", "2026-03-17T23:00:00Z", "2026-03-17T23:00:00Z")
    # SUP-6, severity 1: opened 08:00Z, answered 10:00Z (the comment filed under OPS-17): 7200 s
    assert verdict("SUP-6", 0) == ("met", "1", "2026-03-10T12:00:00Z", "7200", "")
    # SUP-7, severity 3: opened Wed 09:00 MDT (naive), the customer's 09:45 does not count, the agent's 10:30 does:
    # 5400 s; deadline: 9 h on Wed, 3 h from Thu 07:00 = 10:00 MDT = 16:00Z
    assert verdict("SUP-7", 0) == ("met", "3", "2026-03-12T16:00:00Z", "5400", "")


def test_config_records_every_choice(folder):
    """config.toml holds the source timezone, the field found by name, both maps and every option."""
    with (folder / "config.toml").open("rb") as f:
        tree = tomllib.load(f)
    assert tree["source"] == {"timezone": "America/Denver"}
    assert tree["reporting"] == {"timezone": "America/Denver"}
    importer = tree["importer"]
    assert (importer["name"], importer["package"], importer["region"]) == ("jsm", "Gold", "americas")
    assert (importer["account_field"], importer["account_field_name"]) == ("customfield_10002", "Organizations")
    assert importer["severity_map"] == {"Highest": 1, "High": 2, "Medium": 3, "Low": 3, "Lowest": 3}
    assert importer["status_map"] == {"Waiting for customer": "pending_customer"}
    assert importer["status_categories"] == {"done": "closed", "new": "open", "indeterminate": "open"}
    assert (importer["multiple_accounts"], importer["unknown_author"], importer["app_comments"]) == (
        "first", "skip", "skip",
    )


# ---------------------------------------------------------------- bad input


def test_missing_created_is_one_sentence(tmp_path):
    """An issue without fields.created names the file, the issue, the field and what was expected."""
    bad = issue("SUP-1")
    del bad["fields"]["created"]
    write_page(tmp_path / "page.json", bad)
    with pytest.raises(LoadError) as exc:
        import_jsm(tmp_path / "page.json", tmp_path / "out")
    assert str(exc.value) == (
        "page.json, issue SUP-1, field fields.created: missing; expected the issue's creation time as Jira "
        "writes it, such as 2026-03-01T09:15:00.000+0100"
    )


def test_unreadable_created_is_one_sentence(tmp_path):
    """A created that is no timestamp says so, naming the file inside the source folder."""
    (tmp_path / "src" / "pages").mkdir(parents=True)
    write_page(tmp_path / "src" / "pages" / "p1.json", issue("SUP-1", created="01/03/2026 09:15"))
    with pytest.raises(LoadError, match=r"^pages/p1.json, issue SUP-1, field fields.created: not a timestamp; "):
        import_jsm(tmp_path / "src", tmp_path / "out")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.json", '{"issues": [{"key": "SUP-1",, }]}', r"^page.json, line 1, column 29: not valid JSON \("),
        ("page.jsonl", '{"key": "SUP-1", "fields": {}}\n{"key": \n', r"^page.jsonl, line 2: not valid JSON \("),
        ("page.json", "", r"^page.json: the file is empty"),
        ("page.json", '{"comments": []}', r"^page.json: no issue could be imported \(it holds no issue\)"),
    ],
    ids=["malformed-json", "malformed-line", "empty", "no-issue"],
)
def test_bad_files_are_one_clear_error(tmp_path, name, content, message):
    """Malformed JSON (with its line and column), an empty file and a file without issues are LoadErrors."""
    (tmp_path / name).write_text(content)
    with pytest.raises(LoadError, match=message):
        import_jsm(tmp_path / name, tmp_path / "out")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"package": "Diamond"}, "--package: unknown package 'Diamond'"),
        ({"account_packages": {"Acme Corp": "Diamond"}}, "--account-package: unknown package 'Diamond'"),
        ({"region": "mars"}, "--region: unknown calendar 'mars'"),
        ({"source_timezone": "Mars/Olympus"}, "--timezone: expected an IANA timezone"),
        ({"severity_map": {"Critical": 0}}, "--severity-map: severities are 1, 2 or 3"),
        ({"status_map": {"Pending": "waiting"}}, "--status-map: statuses are open, pending_customer, closed"),
        ({"unknown_author": "robot"}, "--unknown-author: expected one of skip, agent, customer"),
    ],
)
def test_bad_options_are_one_clear_error(tmp_path, options, message):
    """An option the configuration cannot honour is a LoadError naming it."""
    with pytest.raises(LoadError, match=message):
        import_jsm(FIXTURES, tmp_path / "out", **options)


def test_parse_options():
    """The maps and the package pairs parse; a malformed pair is a LoadError."""
    assert parse_severity_map("Critical=1, Major=2") == {"Critical": 1, "Major": 2}
    assert parse_status_map("Waiting for customer=pending_customer,Canceled=closed") == {
        "Waiting for customer": "pending_customer", "Canceled": "closed",
    }
    assert parse_account_packages(["Acme, Inc.=Platinum"]) == {"Acme, Inc.": "Platinum"}
    for bad in (lambda: parse_severity_map("Critical:1"), lambda: parse_severity_map("Critical=high"),
                lambda: parse_status_map("Pending"), lambda: parse_account_packages(["Acme"])):
        with pytest.raises(LoadError):
            bad()


# ---------------------------------------------------------------- command line


def test_cli_prints_the_report(tmp_path):
    """`python -m metrics import jsm SOURCE --out DIR` with options writes the folder and prints counts and skips."""
    result = run(
        "import", "jsm", str(FIXTURES), "--out", str(tmp_path / "out"), "--severity-map", "Critical=1",
        "--status-map", "Escalated=open", "--account-package", "Acme Corp=Platinum",
    )
    assert result.returncode == 0, result.stderr
    assert "9 issues, 17 comments and 10 changelog entries read from 10 files" in result.stdout
    assert "cases                   7 rows" in result.stdout  # SUP-8 kept by Critical=1
    assert f"{SKIP_COMMENT_APP}: 1" in result.stdout
    assert "'Escalated'" not in result.stdout  # mapped, so no guessed category
    assert case(tmp_path / "out", "SUP-8")["severity"] == "1"
    out = tmp_path / "out"  # it ends with the two commands that follow, as every importer does
    assert f"python -m metrics ingest {out} --db {out}.duckdb" in result.stdout
    assert f"SUPPORT_ANALYTICS_DB={out}.duckdb streamlit run dashboard.py" in result.stdout
    out = tmp_path / "out"  # it ends with the two commands that follow, as every importer does
    assert f"python -m metrics ingest {out} --db {out}.duckdb" in result.stdout
    assert f"SUPPORT_ANALYTICS_DB={out}.duckdb streamlit run dashboard.py" in result.stdout


def test_cli_bad_input_is_one_error_line(tmp_path):
    """Malformed JSON and a missing source exit 2 with one `error:` line, no traceback, no absolute path."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "page.json").write_text('{"issues": [')
    for source in (tmp_path / "src", tmp_path / "missing"):
        result = run("import", "jsm", str(source), "--out", str(tmp_path / "out"))
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert str(tmp_path) not in lines[0]


def test_single_file_source(tmp_path):
    """A single search page is a source too; its issues' comments are simply absent."""
    shutil.copy(FIXTURES / "search-page-1.json", tmp_path / "page.json")
    report = import_jsm(tmp_path / "page.json", tmp_path / "out")
    assert report.written["cases"] == 3  # SUP-1, SUP-2, SUP-3; SUP-4 has no organisation
    assert rows_of(tmp_path / "out", "responses", "SUP-3", ["at"]) == [("2026-03-05T16:00:00Z",)]  # comment field


def test_ingest_strict_accepts_the_written_folder(folder, tmp_path):
    """The default import loads with --strict from Python as well."""
    ingest(folder, tmp_path / "jsm.duckdb", strict=True)
