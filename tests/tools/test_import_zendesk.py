"""The Zendesk importer on two hand-written exports of the same nine tickets (tests/data/zendesk).

`api/` is the Support API's JSON (incremental ticket export, ticket audits, users,
organizations, schedules); `warehouse/` the tables a Fivetran sync lands (ticket,
ticket_comment, ticket_field_history, user, organization, ... as CSV). The tickets:

| id  | org | what it shows |
|-----|-----|---------------|
| 101 | 501 | high (severity 2); pending -> open -> solved -> closed; a private note; comment 1013 edited later |
| 102 | 501 | priority normal -> urgent (16:00Z) -> high (19:30Z); repeated in tickets.jsonl (last version kept) |
| 103 | 502 | requester Dan's own organization is 501; comment 1032 by user 7099, absent from users (deleted) |
| 104 | 501 | closed by merge into 101 (tag closed_by_merge, audit via merge) |
| 105 | 501 | status deleted (spam) |
| 106 |  -  | no organization, no priority |
| 107 | 502 | urgent; logged by agent Alice (her description is no reply); pending at 17:00Z |
| 108 | 501 | opened on Friday 2026-03-13, the schedule's holiday; hold (not a pause) |
| 109 | 502 | comments by 7004 (no role) and by the system user -1 |

The schedule "Support Hours (US East)" is Mon-Fri 09:00-17:00 Eastern Time; from 2026-03-08
New York is on EDT (UTC-4), so working time is 13:00Z-21:00Z on weekdays.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.storage.store import PROJECT_ROOT
from metrics.tools.imports.zendesk import import_zendesk, parse_severity_map, parse_status_map

DATA = PROJECT_ROOT / "tests" / "data" / "zendesk"
API = DATA / "api"
WAREHOUSE = DATA / "warehouse"
TABLES = ("accounts", "subscriptions", "cases", "responses", "case_changes")


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def rows_of(folder: Path, table: str, case_id: str, columns: list[str]) -> list[tuple[str, ...]]:
    frame = read(folder, table)
    return [tuple(r) for r in frame.loc[frame["case_id"] == case_id, columns].itertuples(index=False)]


def case(folder: Path, case_id: str) -> pd.Series:
    return read(folder, "cases").set_index("case_id").loc[case_id]


@pytest.fixture(scope="module")
def api_import(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("zendesk") / "api"
    return out, import_zendesk(API, out)


@pytest.fixture(scope="module")
def warehouse_import(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("zendesk") / "warehouse"
    return out, import_zendesk(WAREHOUSE, out)


@pytest.fixture(scope="module")
def api(api_import) -> Path:
    return api_import[0]


@pytest.fixture(scope="module", params=["api", "warehouse"])
def folder(request, api_import, warehouse_import) -> Path:
    """Each mapping test runs on both sources: they must say the same."""
    return (api_import if request.param == "api" else warehouse_import)[0]


# ---------------------------------------------------------------- the report


def test_api_report_counts_every_skip_reason(api_import):
    """10 ticket lines (102 twice), 28 audits, 7 users, 2 organizations, 1 schedule; each skip named."""
    _, report = api_import
    assert report.files == {
        "tickets.jsonl": 10, "ticket_audits.json": 28, "users.json": 7, "organizations.json": 2, "schedules.json": 1,
    }
    assert report.rows_read == 48
    assert report.written == {"accounts": 2, "subscriptions": 2, "cases": 6, "responses": 14, "case_changes": 7}
    assert dict(report.skipped) == {
        "ticket repeated in the export (its last version kept)": 1,  # 102's first line
        "ticket deleted in Zendesk (status deleted: spam or removed)": 1,  # 105
        "ticket closed by merge into another (tag closed_by_merge or a merge audit): a duplicate": 1,  # 104
        "ticket without an organization (organization_id empty)": 1,  # 106
        # 104: 2 comments + 3 status/priority events; 105: 1 + 1; 106: 2 + 2
        "comment or change of a skipped ticket": 11,
        # Create assignee_id (audit 1), Notification (audit 3), CommentRedactionEvent (audit 6)
        "audit events and field history of other kinds (tags, assignee, notifications, ...)": 3,
        "comment by a user missing from the users export or without a role (deleted?), "
        "not the requester: who wrote it is unknown": 2,  # 1032 by 7099, 1092 by 7004
        "comment by the Zendesk system user (-1), not a person": 1,  # 1093
        "the ticket's description written by an agent (logged for the requester): not a reply": 1,  # 1071
    }
    summary = report.summary()
    assert "from ticket_audits.json: 28 records" in summary
    assert "Skipped 22 rows:" in summary


def test_warehouse_report_counts_every_skip_reason(warehouse_import):
    """The same skips from the tables, less the repeated ticket; one assignee_id history row is unused."""
    _, report = warehouse_import
    assert report.rows_read == 9 + 23 + 31 + 7 + 2 + 5 + 3 + 5 + 1 + 4
    assert report.written == {"accounts": 2, "subscriptions": 2, "cases": 6, "responses": 14, "case_changes": 7}
    assert dict(report.skipped) == {
        "ticket deleted in Zendesk (status deleted: spam or removed)": 1,
        "ticket closed by merge into another (tag closed_by_merge or a merge audit): a duplicate": 1,
        "ticket without an organization (organization_id empty)": 1,
        "comment or change of a skipped ticket": 11,  # 104: 2 comments + 3 history rows; 105: 1 + 1; 106: 2 + 2
        "audit events and field history of other kinds (tags, assignee, notifications, ...)": 1,
        "comment by a user missing from the users export or without a role (deleted?), "
        "not the requester: who wrote it is unknown": 2,
        "comment by the Zendesk system user (-1), not a person": 1,
        "the ticket's description written by an agent (logged for the requester): not a reply": 1,
    }


def test_api_and_warehouse_give_the_same_dataset(api_import, warehouse_import):
    """Both exports of the same tickets give identical tables, byte for byte."""
    for table in TABLES:
        assert (api_import[0] / f"{table}.csv").read_text() == (warehouse_import[0] / f"{table}.csv").read_text(), table


# ---------------------------------------------------------------- cases


def test_ticket_fields_map_onto_the_case(folder):
    """101: org 501, created 12:00Z, priority high -> 2, requester 7001, via email, assignee 9001 by name."""
    row = case(folder, "101")
    assert row["account_id"] == "501"
    assert row["opened_at"] == "2026-03-09T12:00:00Z"
    assert row["severity"] == "2"
    assert row["contact_id"] == "7001"
    assert row["channel"] == "email"
    assert row["subject"] == "Cannot log in"
    assert row["owner"] == "Alice Agent"
    assert row["closed_at"] == ""  # the close is a status change (solved 2026-03-10 16:00Z)
    assert (row["zendesk_status"], row["zendesk_priority"], row["type"], row["tags"]) == (
        "closed", "high", "incident", "login",
    )
    assert case(folder, "108")["channel"] == "chat"
    assert case(folder, "103")["owner"] == ""  # no assignee


def test_severity_is_the_priority_submitted_and_changes_follow(folder):
    """102 opens normal (3); urgent at 16:00Z is severity 1, high at 19:30Z severity 2; the ticket says high."""
    row = case(folder, "102")
    assert (row["severity"], row["submitted_priority"], row["zendesk_priority"]) == ("3", "normal", "high")
    changes = rows_of(folder, "case_changes", "102", ["at", "field", "value", "source_value"])
    assert [c for c in changes if c[1] == "severity"] == [
        ("2026-03-10T16:00:00Z", "severity", "1", "urgent"),
        ("2026-03-10T19:30:00Z", "severity", "2", "high"),
    ]


def test_status_history_maps_pending_to_pending_customer_and_solved_to_closed(folder):
    """101: new -> pending (18:00Z) -> open -> solved -> closed; closed after solved is no further change."""
    assert rows_of(folder, "case_changes", "101", ["at", "value", "source_value"]) == [
        ("2026-03-09T18:00:00Z", "pending_customer", "pending"),
        ("2026-03-10T14:00:00Z", "open", "open"),
        ("2026-03-10T16:00:00Z", "closed", "solved"),
    ]
    assert rows_of(folder, "case_changes", "107", ["at", "value"]) == [("2026-03-12T17:00:00Z", "pending_customer")]
    assert rows_of(folder, "case_changes", "108", ["at", "value"]) == []  # new -> hold: both open
    assert rows_of(folder, "case_changes", "103", ["at", "value"]) == []  # new -> open


def test_requester_in_several_organizations_follows_the_ticket(folder):
    """Dan's own organization is 501, yet ticket 103 names 502: the ticket's organization wins."""
    assert (case(folder, "102")["account_id"], case(folder, "103")["account_id"]) == ("501", "502")
    assert case(folder, "103")["contact_id"] == "7002"


def test_deleted_merged_and_organizationless_tickets_are_not_cases(folder):
    """104 (merged), 105 (deleted) and 106 (no organization) are skipped with their comments and changes."""
    cases = read(folder, "cases")
    assert sorted(cases["case_id"], key=int) == ["101", "102", "103", "107", "108", "109"]
    assert not {"104", "105", "106"} & set(read(folder, "responses")["case_id"])


# ---------------------------------------------------------------- responses


def test_comments_become_responses_by_the_authors_role(folder):
    """101: Carol (end-user) is the customer, Alice (agent) the agent; the private note is public=false."""
    assert rows_of(folder, "responses", "101", ["at", "author_type", "response_id", "author", "public"]) == [
        ("2026-03-09T12:00:00Z", "customer", "1011", "Carol Customer", "true"),  # the description
        ("2026-03-09T13:30:00Z", "agent", "1012", "Alice Agent", "false"),  # private: an internal note
        ("2026-03-09T18:00:00Z", "agent", "1013", "Alice Agent", "true"),
        ("2026-03-10T14:00:00Z", "customer", "1014", "Carol Customer", "true"),
        ("2026-03-10T16:00:00Z", "agent", "1015", "Alice Agent", "true"),
    ]
    # an admin's public comment is an agent response too
    assert rows_of(folder, "responses", "102", ["response_id", "author_type", "author_role"])[1] == (
        "1022", "agent", "admin",
    )


def test_comment_edited_later_keeps_its_created_time(folder):
    """1013 was redacted at 2026-03-11 09:00 (audit 6; `updated_at` in the table): it stays at 18:00Z."""
    responses = read(folder, "responses").set_index("response_id")
    assert responses.loc["1013", "at"] == "2026-03-09T18:00:00Z"


def test_agent_logged_description_is_no_reply(folder):
    """107's first comment (1071, by Alice at creation) is not an answer; her 17:00Z reply is the first."""
    assert rows_of(folder, "responses", "107", ["at", "response_id", "author_type"]) == [
        ("2026-03-12T17:00:00Z", "1072", "agent"),
    ]


def test_unknown_and_system_authors_are_not_responses(folder):
    """103's 1032 (user 7099, deleted) and 109's 1092 (no role) and 1093 (system -1) are skipped."""
    assert rows_of(folder, "responses", "103", ["response_id"]) == [("1031",)]
    assert rows_of(folder, "responses", "109", ["response_id", "author_type"]) == [
        ("1091", "customer"), ("1094", "agent"),
    ]


def test_unknown_author_option_reads_them_as_agents(tmp_path):
    """--unknown-author agent: 1032 and 1092 become agent responses, noted in the report; -1 stays out."""
    report = import_zendesk(API, tmp_path / "out", unknown_author="agent")
    assert rows_of(tmp_path / "out", "responses", "103", ["response_id", "author_type", "author"]) == [
        ("1031", "customer", "Dan Duo"), ("1032", "agent", "7099"),  # no name known: the id
    ]
    assert report.notes["comment by an unknown user read as agent (--unknown-author)"] == 2
    assert "1093" not in set(read(tmp_path / "out", "responses")["response_id"])


def test_deleted_requester_is_still_the_customer(tmp_path):
    """Without Carol (7001) in users, her comments on 101 are still the customer's: she is the requester."""
    folder = tmp_path / "api"
    shutil.copytree(API, folder)
    users = json.loads((folder / "users.json").read_text())
    users["users"] = [u for u in users["users"] if u["id"] != 7001]
    (folder / "users.json").write_text(json.dumps(users))
    import_zendesk(folder, tmp_path / "out")
    assert rows_of(tmp_path / "out", "responses", "101", ["response_id", "author_type", "author"])[0] == (
        "1011", "customer", "7001",
    )


# ---------------------------------------------------------------- options for the edge cases


def test_merged_tickets_can_be_kept(tmp_path):
    """--merged keep: 104 is a case closed at its merge (14:30Z); its merge note is an internal note."""
    import_zendesk(API, tmp_path / "out", merged="keep")
    assert rows_of(tmp_path / "out", "case_changes", "104", ["at", "value"]) == [("2026-03-11T14:30:00Z", "closed")]
    assert rows_of(tmp_path / "out", "responses", "104", ["response_id", "public"]) == [
        ("1041", "true"), ("1042", "false"),
    ]


def test_merge_is_found_by_its_audit_without_the_tag(tmp_path):
    """Without the closed_by_merge tag, the status change in an audit via merge still marks 104."""
    folder = tmp_path / "api"
    shutil.copytree(API, folder)
    lines = (folder / "tickets.jsonl").read_text().replace('"closed_by_merge", ', "")
    (folder / "tickets.jsonl").write_text(lines)
    report = import_zendesk(folder, tmp_path / "out")
    assert report.skipped["ticket closed by merge into another (tag closed_by_merge or a merge audit): a duplicate"] == 1


def test_ticket_without_organization_can_go_to_unassigned(tmp_path):
    """--missing-organization unassigned: 106 is a case of `unassigned`; no priority means severity 3 (none=3)."""
    import_zendesk(API, tmp_path / "out", missing_organization="unassigned")
    row = case(tmp_path / "out", "106")
    assert (row["account_id"], row["severity"], row["submitted_priority"]) == ("unassigned", "3", "")
    accounts = read(tmp_path / "out", "accounts").set_index("account_id")
    assert accounts.loc["unassigned", "name"] == "(no organization)"
    assert "105" not in set(read(tmp_path / "out", "cases")["case_id"])  # deleted stays out


def test_severity_and_status_maps(tmp_path):
    """normal=2 makes 108 severity 2; hold=pending_customer makes 108's hold a pause; none=1 gives 106 severity 1."""
    import_zendesk(
        API, tmp_path / "out", severity_map={"normal": 2, "none": 1}, status_map={"hold": "pending_customer"},
        missing_organization="unassigned",
    )
    assert case(tmp_path / "out", "108")["severity"] == "2"
    assert case(tmp_path / "out", "106")["severity"] == "1"
    assert rows_of(tmp_path / "out", "case_changes", "108", ["at", "value"]) == [
        ("2026-03-16T14:00:00Z", "pending_customer"),
    ]
    # 102: normal -> urgent -> high is now 2 -> 1 -> 2
    assert case(tmp_path / "out", "102")["severity"] == "2"
    config = tomllib.loads((tmp_path / "out" / "config.toml").read_text())
    assert config["importer"]["severity_map"] == {"urgent": 1, "high": 2, "normal": 2, "low": 3, "none": 1}
    assert config["importer"]["status_map"]["hold"] == "pending_customer"


def test_naive_warehouse_times_read_in_the_source_timezone(tmp_path):
    """--source-timezone America/New_York: naive 12:00 is 16:00Z (EDT); '11:00-04:00' stays 15:00Z."""
    import_zendesk(WAREHOUSE, tmp_path / "out", source_timezone="America/New_York")
    assert case(tmp_path / "out", "101")["opened_at"] == "2026-03-09T16:00:00Z"
    assert case(tmp_path / "out", "102")["opened_at"] == "2026-03-10T15:00:00Z"
    # 1013 was written with an offset (14:00-04:00), 1012 naive (13:30 local = 17:30Z)
    responses = read(tmp_path / "out", "responses").set_index("response_id")
    assert (responses.loc["1013", "at"], responses.loc["1012", "at"]) == (
        "2026-03-09T18:00:00Z", "2026-03-09T17:30:00Z",
    )
    assert load_config(tmp_path / "out").source_timezone == "America/New_York"


def test_package_from_an_organization_field_or_tag(tmp_path):
    """--package-field support_package: Acme Platinum, Globex Silver; `tags`: Acme's tag gold, Globex none."""
    for source in (API, WAREHOUSE):
        import_zendesk(source, tmp_path / source.name, package_field="support_package")
        terms = read(tmp_path / source.name, "subscriptions").set_index("account_id")
        assert terms["package"].to_dict() == {"501": "Platinum", "502": "Silver"}
    report = import_zendesk(API, tmp_path / "tags", package_field="tags", package="Bronze")
    terms = read(tmp_path / "tags", "subscriptions").set_index("account_id")
    assert terms["package"].to_dict() == {"501": "Gold", "502": "Bronze"}
    assert report.notes["organization whose tags names no package (--package Bronze used)"] == 1


def test_schedule_becomes_the_accounts_calendar(folder):
    """Schedule 360001 (Eastern Time, Mon-Fri 1980-2460 ... minutes from Sunday) with its holiday on 13 March."""
    assert set(read(folder, "accounts")["region"]) == {"support-hours-us-east"}
    calendar = load_config(folder).calendars["support-hours-us-east"]
    assert calendar.timezone == "America/New_York"
    nine_to_five = ((9 * 60, 17 * 60),)
    assert calendar.hours == (nine_to_five,) * 5 + ((), ())  # Monday first
    assert [d.isoformat() for d in calendar.holidays_add] == ["2026-03-13"]
    assert calendar.holiday_country is None
    terms = read(folder, "subscriptions")
    # first instant 2026-03-09 12:00Z (08:00 EDT), last 2026-03-16 16:00Z (12:00 EDT)
    assert set(zip(terms["start_date"], terms["end_date"], strict=True)) == {("2026-03-09", "2026-03-16")}


def test_region_option_overrides_the_schedule(tmp_path):
    """--region emea puts every account on emea; the schedule's calendar is still written."""
    import_zendesk(API, tmp_path / "out", region="emea")
    assert set(read(tmp_path / "out", "accounts")["region"]) == {"emea"}
    assert "support-hours-us-east" in load_config(tmp_path / "out").calendars


def test_without_schedules_accounts_use_americas(tmp_path):
    """No schedules.json: every account is on the built-in americas calendar."""
    folder = tmp_path / "api"
    shutil.copytree(API, folder)
    (folder / "schedules.json").unlink()
    import_zendesk(folder, tmp_path / "out")
    assert set(read(tmp_path / "out", "accounts")["region"]) == {"americas"}


def test_ticket_without_history_keeps_its_priority_and_closes_at_its_update(tmp_path):
    """101 with no audits: severity from its current priority (high: 2), closed at updated_at 2026-03-14 16:00Z."""
    folder = tmp_path / "api"
    shutil.copytree(API, folder)
    (folder / "ticket_audits.json").write_text('{"audits": []}')
    report = import_zendesk(folder, tmp_path / "out")
    row = case(tmp_path / "out", "101")
    assert (row["severity"], row["closed_at"]) == ("2", "2026-03-14T16:00:00Z")
    # 101 (closed) and 102 (solved); 104, closed too, is skipped as merged (its tag)
    assert report.notes["ticket solved or closed without a recorded status change (closed at its updated_at)"] == 2


def test_schedule_with_an_unknown_time_zone_is_skipped(tmp_path):
    """A schedule in 'Mars Time' becomes no calendar: its 5 interval rows are skipped, accounts use americas."""
    folder = tmp_path / "warehouse"
    shutil.copytree(WAREHOUSE, folder)
    schedule = pd.read_csv(folder / "schedule.csv", dtype=str)
    schedule.assign(time_zone="Mars Time").to_csv(folder / "schedule.csv", index=False)
    report = import_zendesk(folder, tmp_path / "out")
    assert report.skipped["schedule whose time_zone is neither a Zendesk nor an IANA time zone"] == 5
    assert set(read(tmp_path / "out", "accounts")["region"]) == {"americas"}


def test_config_records_every_choice(api):
    """config.toml records the source, maps, roles and policies; reporting in the schedule's timezone."""
    config = tomllib.loads((api / "config.toml").read_text())
    importer = config["importer"]
    assert (importer["source_kind"], importer["package"], importer["missing_organization"]) == ("api", "Gold", "skip")
    assert (importer["unknown_author"], importer["merged"]) == ("skip", "skip")
    assert importer["severity_map"] == {"urgent": 1, "high": 2, "normal": 3, "low": 3, "none": 3}
    assert importer["status_map"]["pending"] == "pending_customer"
    assert importer["agent_roles"] == ["agent", "admin"]
    assert importer["schedules"] == {"support-hours-us-east": "360001"}
    assert config["reporting"]["timezone"] == "America/New_York"


# ---------------------------------------------------------------- other shapes of the same export


def test_paged_tickets_file_gives_the_same_dataset(tmp_path, api):
    """tickets.json as one page {"tickets": [...], "next_page", "end_of_stream"} or pages a line: same tables."""
    records = [json.loads(line) for line in (API / "tickets.jsonl").read_text().splitlines()]
    for name, text in (
        ("tickets.json", json.dumps({"tickets": records, "next_page": None, "end_of_stream": True}, indent=2)),
        ("tickets.jsonl", "\n".join(
            json.dumps({"tickets": records[i:i + 4], "end_of_stream": i + 4 >= len(records)})
            for i in range(0, len(records), 4)
        )),
    ):
        folder = tmp_path / name
        shutil.copytree(API, folder)
        (folder / "tickets.jsonl").unlink()
        (folder / name).write_text(text)
        import_zendesk(folder, tmp_path / f"out-{name}")
        for table in TABLES:
            assert (tmp_path / f"out-{name}" / f"{table}.csv").read_text() == (api / f"{table}.csv").read_text()


def test_incremental_ticket_events_instead_of_audits(tmp_path):
    """Ticket 101 as the incremental ticket event export (comment_events sideloaded) gives 101's audits rows."""
    folder = tmp_path / "events"
    folder.mkdir()
    for name in ("users.json", "organizations.json", "schedules.json"):
        shutil.copy(API / name, folder / name)
    (folder / "tickets.jsonl").write_text((API / "tickets.jsonl").read_text().splitlines()[0] + "\n")

    def update(event_id, at, updater, via, *children):
        return {"id": event_id, "ticket_id": 101, "timestamp": 0, "created_at": at, "updater_id": updater,
                "via": via, "event_type": "Audit", "child_events": list(children)}

    def comment(comment_id, author, public, at):
        return {"id": comment_id, "event_type": "Comment", "author_id": author, "public": public, "created_at": at,
                "body": "...", "via": {"channel": "web"}}

    events = [
        update(1, "2026-03-09T12:00:00Z", 7001, "Mail", comment(1011, 7001, True, "2026-03-09T12:00:00Z"),
               {"id": 12, "event_type": "Create", "status": "new"},
               {"id": 13, "event_type": "Create", "priority": "high"}),
        update(2, "2026-03-09T13:30:00Z", 9001, "Web form", comment(1012, 9001, False, "2026-03-09T13:30:00Z")),
        update(3, "2026-03-09T18:00:00Z", 9001, "Web form", comment(1013, 9001, True, "2026-03-09T18:00:00Z"),
               {"id": 31, "event_type": "Change", "status": "pending", "previous_value": "new"}),
        update(4, "2026-03-10T14:00:00Z", 7001, "Mail", comment(1014, 7001, True, "2026-03-10T14:00:00Z"),
               {"id": 41, "event_type": "Change", "status": "open", "previous_value": "pending"}),
        update(5, "2026-03-10T16:00:00Z", 9001, "Web form", comment(1015, 9001, True, "2026-03-10T16:00:00Z"),
               {"id": 51, "event_type": "Change", "status": "solved", "previous_value": "open"}),
        update(7, "2026-03-14T16:00:00Z", -1, "Rule",
               {"id": 71, "event_type": "Change", "status": "closed", "previous_value": "solved"}),
    ]
    (folder / "ticket_events.jsonl").write_text("\n".join(json.dumps({"ticket_events": [e]}) for e in events))
    import_zendesk(folder, tmp_path / "events-out")
    import_zendesk(API, tmp_path / "audits-out")
    for table in ("cases", "responses", "case_changes"):
        from_audits = read(tmp_path / "audits-out", table)
        from_audits = from_audits[from_audits["case_id"] == "101"].reset_index(drop=True)
        pd.testing.assert_frame_equal(read(tmp_path / "events-out", table), from_audits)


def test_ticket_events_without_comment_sideload(tmp_path):
    """Without comment_events only comment_present/comment_public say a comment was written, by the updater."""
    folder = tmp_path / "events"
    folder.mkdir()
    shutil.copy(API / "users.json", folder / "users.json")
    (folder / "tickets.jsonl").write_text((API / "tickets.jsonl").read_text().splitlines()[0] + "\n")
    events = {"ticket_events": [
        {"id": 1, "ticket_id": 101, "created_at": "2026-03-09T12:00:00Z", "updater_id": 7001, "event_type": "Audit",
         "child_events": [{"id": 12, "event_type": "Create", "status": "new", "comment_present": True,
                           "comment_public": True}]},
        {"id": 3, "ticket_id": 101, "created_at": "2026-03-09T18:00:00Z", "updater_id": 9001, "event_type": "Audit",
         "child_events": [{"id": 31, "event_type": "Change", "status": "pending", "previous_value": "new",
                           "comment_present": True, "comment_public": True}]},
    ], "end_of_stream": True}
    (folder / "ticket_events.json").write_text(json.dumps(events))
    import_zendesk(folder, tmp_path / "out", region="americas")
    assert rows_of(tmp_path / "out", "responses", "101", ["at", "author_type", "response_id"]) == [
        ("2026-03-09T12:00:00Z", "customer", "1"), ("2026-03-09T18:00:00Z", "agent", "3"),
    ]


def test_parquet_warehouse_gives_the_same_dataset(tmp_path, api):
    """The warehouse tables as Parquet, instants typed and timezone-aware (UTC), give the same tables."""
    folder = tmp_path / "parquet"
    folder.mkdir()
    instants = {"created_at", "updated_at", "created", "updated", "_fivetran_synced"}
    for csv in WAREHOUSE.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for column in instants & set(frame.columns):
            frame[column] = pd.to_datetime(frame[column], format="ISO8601", utc=True)
        for column in ("id", "ticket_id", "organization_id", "schedule_id", "start_time", "end_time"):
            if column in frame.columns and csv.stem not in ("user", "ticket"):
                frame[column] = pd.to_numeric(frame[column]).astype("int64")
        frame.to_parquet(folder / f"{csv.stem}.parquet", index=False)
    import_zendesk(folder, tmp_path / "out")
    for table in TABLES:
        assert (tmp_path / "out" / f"{table}.csv").read_text() == (api / f"{table}.csv").read_text(), table


# ---------------------------------------------------------------- bad input


def test_malformed_json_line_names_file_and_line(tmp_path):
    """A broken third line of tickets.jsonl is one sentence naming the file, the line and what was expected."""
    folder = tmp_path / "api"
    shutil.copytree(API, folder)
    lines = (folder / "tickets.jsonl").read_text().splitlines()
    lines[2] = lines[2][:40]
    (folder / "tickets.jsonl").write_text("\n".join(lines))
    with pytest.raises(LoadError, match=r"^tickets\.jsonl, line 3: not valid JSON \(.*\); expected one JSON object"):
        import_zendesk(folder, tmp_path / "out")


def test_missing_column_names_file_and_column(tmp_path):
    """ticket_comment.csv without `created` names the file, the column and the columns expected."""
    folder = tmp_path / "warehouse"
    shutil.copytree(WAREHOUSE, folder)
    frame = pd.read_csv(folder / "ticket_comment.csv", dtype=str)
    frame.drop(columns="created").to_csv(folder / "ticket_comment.csv", index=False)
    with pytest.raises(LoadError, match=r"^ticket_comment\.csv, column created or created_at: missing; expected"):
        import_zendesk(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"package": "Diamond"}, "--package: unknown package 'Diamond'"),
        ({"region": "mars"}, "--region: unknown calendar 'mars'"),
        ({"source_timezone": "Mars/Olympus"}, "--source-timezone: expected an IANA timezone"),
        ({"severity_map": {"urgent": 0}}, "--severity-map: severities are 1, 2 or 3"),
        ({"status_map": {"hold": "waiting"}}, "--status-map: statuses map to open, pending_customer or closed"),
        ({"unknown_author": "robot"}, "--unknown-author: expected one of skip, agent, customer"),
        ({"source_kind": "ftp"}, "--source-kind: expected api or warehouse"),
    ],
)
def test_bad_options_are_one_clear_error(tmp_path, options, message):
    """An option the configuration cannot honour is a LoadError naming it."""
    with pytest.raises(LoadError, match=message):
        import_zendesk(API, tmp_path / "out", **options)


def test_parse_maps():
    """'urgent=1, high=1' and 'hold=pending_customer' parse; a pair without '=' is a LoadError."""
    assert parse_severity_map("urgent=1, HIGH=1") == {"urgent": 1, "high": 1}
    assert parse_status_map("hold=pending_customer") == {"hold": "pending_customer"}
    with pytest.raises(LoadError, match="NAME=VALUE"):
        parse_severity_map("urgent:1")
    with pytest.raises(LoadError, match="severities are 1, 2 or 3"):
        parse_severity_map("urgent=4")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("empty", "no Zendesk export found; expected tickets.jsonl"),
        ("no-users", "users.json missing"),
        ("bad-line", "tickets.jsonl, line 1: not valid JSON"),
        ("missing-column", "ticket.csv, column status: missing"),
    ],
)
def test_cli_bad_input_is_one_error_line(tmp_path, setup, expected):
    """An empty folder, a missing file, a broken line or a missing column: exit 2, one `error:` line."""
    folder = tmp_path / "src"
    if setup == "empty":
        folder.mkdir()
    elif setup == "no-users":
        shutil.copytree(API, folder)
        (folder / "users.json").unlink()
    elif setup == "bad-line":
        shutil.copytree(API, folder)
        (folder / "tickets.jsonl").write_text('{"id": 101,\n{"id": 102}\n')
    else:
        shutil.copytree(WAREHOUSE, folder)
        frame = pd.read_csv(folder / "ticket.csv", dtype=str)
        frame.drop(columns="status").to_csv(folder / "ticket.csv", index=False)
    result = run("import", "zendesk", str(folder), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- end to end


def test_import_ingest_strict_and_export_obligations(tmp_path):
    """import -> ingest --strict -> export obligations as of 2026-03-17T00:00Z, verdicts worked out by hand.

    Gold: initial 4/8/12 h for severity 1/2/3, follow-up 32/72/72 h; severity 1 runs 24x7,
    2-3 on the schedule (weekdays 13:00Z-21:00Z in EDT, Friday 2026-03-13 a holiday).
    """
    out, db = tmp_path / "zendesk", tmp_path / "zendesk.duckdb"
    imported = run("import", "zendesk", str(API), "--out", str(out))
    assert imported.returncode == 0, imported.stderr
    assert "cases                   6 rows" in imported.stdout
    assert "Skipped 22 rows:" in imported.stdout
    ingested = run("ingest", str(out), "--db", str(db), "--strict")
    assert ingested.returncode == 0, ingested.stderr
    exported = run("export", "obligations", str(out), "--db", str(db), "--as-of", "2026-03-17T00:00:00Z",
                   "--out", str(tmp_path / "obligations.csv"))
    assert exported.returncode == 0, exported.stderr
    got = pd.read_csv(tmp_path / "obligations.csv", dtype=str, keep_default_na=False).set_index(["case_id", "seq"])

    def row(case_id: str, seq: str) -> tuple[str, ...]:
        r = got.loc[(case_id, seq)]
        return (r["status"], r["severity"], r["deadline_at"], r["end_at"], r["elapsed_seconds"], r["breached_at"])

    assert len(got) == 11  # 6 initial + 5 follow-ups (102's and 101's last replies close their tickets)
    # 101 initial, severity 2 (high), opened Mon 12:00Z before hours: the clock starts at 13:00Z;
    # 8 business hours end at 21:00Z. Alice replies at 18:00Z: 5 h = 18000 s, met.
    assert row("101", "0") == ("met", "2", "2026-03-09T21:00:00Z", "2026-03-09T18:00:00Z", "18000", "")
    # 101 follow-up 1 from 18:00Z, paused (pending) until Carol's reply Tue 14:00Z, ended by Alice's
    # 16:00Z reply: 2 h = 7200 s. 72 h from Tue 14:00Z: Tue 7, Wed 8, Thu 8, Fri holiday, Mon-Fri 40,
    # Mon 23 8 = 71 h, then 1 h on Tue 24: 14:00Z.
    assert row("101", "1") == ("met", "2", "2026-03-24T14:00:00Z", "2026-03-10T16:00:00Z", "7200", "")
    # 102 initial, opened Tue 15:00Z at severity 3; urgent (1) from 16:00Z: 4 h around the clock from
    # 15:00Z is 19:00Z, before the change to high at 19:30Z, so it breached at 19:00Z. Reported at
    # its last severity 2: 8 business hours from 15:00Z = Tue 6 h + Wed 2 h = Wed 15:00Z.
    # Elapsed on that calendar to Adam's 20:00Z reply: 5 h.
    assert row("102", "0") == (
        "breached", "2", "2026-03-11T15:00:00Z", "2026-03-10T20:00:00Z", "18000", "2026-03-10T19:00:00Z",
    )
    # 102 follow-up 1 from Tue 20:00Z to Wed 14:00Z: 1 h + 1 h business = 7200 s, met.
    assert row("102", "1")[0::4] == ("met", "7200")
    # 103 initial, low (3) from Wed 13:00Z, no reply (1032's author is unknown): 12 business hours =
    # Wed 8 h + Thu 4 h = Thu 17:00Z, breached then.
    assert row("103", "0") == ("breached", "3", "2026-03-12T17:00:00Z", "", "86400", "2026-03-12T17:00:00Z")
    # 107 initial, urgent (1, 24x7) from Thu 14:00Z: deadline 18:00Z, Alice's 17:00Z reply after 3 h.
    assert row("107", "0") == ("met", "1", "2026-03-12T18:00:00Z", "2026-03-12T17:00:00Z", "10800", "")
    # 107 follow-up 1 from 17:00Z is paused (pending) to as-of: nothing elapsed, still pending.
    assert row("107", "1")[0::4] == ("pending", "0")
    # 108 initial opened on the holiday (Fri 14:00Z): the clock starts Mon 13:00Z; the reply at
    # Mon 14:00Z is 1 h in (8 h without the holiday). 12 h: Mon 8 h + Tue 4 h = Tue 17:00Z.
    assert row("108", "0") == ("met", "3", "2026-03-17T17:00:00Z", "2026-03-16T14:00:00Z", "3600", "")
    # 108 follow-up 1 from Mon 14:00Z: hold does not pause, 7 h to 21:00Z by as-of.
    assert row("108", "1")[0::4] == ("pending", "25200")
    # 109 initial Mon 13:00Z, Alice at 16:00Z (1092 and the system's 1093 are no replies): 3 h.
    assert row("109", "0") == ("met", "3", "2026-03-17T17:00:00Z", "2026-03-16T16:00:00Z", "10800", "")
