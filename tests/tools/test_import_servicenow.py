"""The ServiceNow importer on an excerpt of the UCI incident event log (tests/data/servicenow).

Expectations are traced by hand from the excerpt's rows, quoted in the comments as
`line: state, sys_mod_count, sys_updated_by, sys_updated_at (naive, America/Denver by default)`.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from metrics.engine.obligations import compute_obligations
from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT
from metrics.tools.imports.common import ImportReport
from metrics.tools.imports.servicenow import import_servicenow, localize, parse_priority_map

EXCERPT = PROJECT_ROOT / "tests" / "data" / "servicenow" / "incident_event_log_excerpt.csv.gz"
AS_OF = "2017-03-01T00:00:00Z"


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def rows_of(folder: Path, table: str, case_id: str, columns: list[str]) -> list[tuple[str, ...]]:
    frame = read(folder, table)
    return [tuple(r) for r in frame.loc[frame["case_id"] == case_id, columns].itertuples(index=False)]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ImportReport]:
    out = tmp_path_factory.mktemp("servicenow") / "dataset"
    return out, import_servicenow(EXCERPT, out)


@pytest.fixture(scope="module")
def folder(imported: tuple[Path, ImportReport]) -> Path:
    return imported[0]


@pytest.fixture(scope="module")
def obligations(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    db = tmp_path_factory.mktemp("store") / "servicenow.duckdb"
    ingest(folder, db, strict=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_obligations(con, AS_OF)
    finally:
        con.close()


def severity_changes(folder: Path, case_id: str) -> list[tuple[str, ...]]:
    rows = rows_of(folder, "case_changes", case_id, ["at", "value", "source_value", "field"])
    return [r[:3] for r in rows if r[3] == "severity"]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ---------------------------------------------------------------- the report


def test_report_counts_rows_and_every_skip_reason(imported):
    """300 rows of 44 incidents: one incident without a caller and four kinds of bad row are skipped."""
    _, report = imported
    assert report.rows_read == 300
    assert report.written == {
        "accounts": 42, "subscriptions": 42, "cases": 43, "responses": 184, "case_changes": 74,
    }
    assert dict(report.skipped) == {
        "caller_id is ? on every row of the incident (1 incidents)": 7,  # INC0005690
        "incident_state -100 (junk value, not a ServiceNow state)": 5,  # INC0028089 x2, INC0030413 x3
        "sys_updated_at is before the incident's opened_at": 2,  # INC0000130, INC0000131
        "sys_updated_at is after that of a later sys_mod_count (out of audit order)": 1,  # INC0000137
    }
    assert "Skipped 15 rows:" in report.summary()


# ---------------------------------------------------------------- cases


def test_case_takes_opening_fields_and_final_counters(folder):
    """INC0000047 opened 29/2/2016 04:40 MST = 11:40Z, priority 3, Phone; Closed by 908 on 6/3 10:00 MST."""
    cases = read(folder, "cases").set_index("case_id")
    case = cases.loc["INC0000047"]
    assert case["account_id"] == "Caller 2403"
    assert case["contact_id"] == "Caller 2403"
    assert case["opened_at"] == "2016-02-29T11:40:00Z"
    assert case["severity"] == "3"
    assert case["channel"] == "phone"
    assert case["owner"] == "Resolver 89"  # assigned_to on the last row
    assert case["closed_at"] == "2016-03-06T17:00:00Z"
    assert case["resolved_at"] == "2016-03-01T16:52:00Z"
    assert (case["reassignment_count"], case["reopen_count"], case["made_sla"]) == ("1", "0", "true")
    assert "INC0005690" not in cases.index  # caller_id `?` on all 7 rows


def test_account_is_the_opening_rows_caller(folder):
    """INC0005103: line 255 (mod 0) says Caller 3505, later rows Caller 290; the opening value wins."""
    cases = read(folder, "cases").set_index("case_id")
    assert cases.loc["INC0005103", "account_id"] == "Caller 3505"


def test_channels_are_mapped(folder):
    """contact_type Self service, Email, IVR and Direct opening become web, email, ivr and direct."""
    cases = read(folder, "cases").set_index("case_id")
    assert cases.loc[["INC0062300", "INC0003749", "INC0119241", "INC0109298"], "channel"].tolist() == [
        "web", "email", "ivr", "direct",
    ]


def test_accounts_and_one_term_covering_the_data(folder):
    """Every case's caller is an account in `americas` holding Gold from the first to the last local date."""
    accounts, terms, cases = read(folder, "accounts"), read(folder, "subscriptions"), read(folder, "cases")
    assert set(accounts["account_id"]) == set(cases["account_id"]) == set(terms["account_id"])
    assert set(accounts["region"]) == {"americas"}
    assert set(terms["package"]) == {"Gold"}
    assert set(terms["start_date"]) == {"2016-02-29"}  # first opened_at of the excerpt
    assert set(terms["end_date"]) == {"2017-02-13"}  # INC0119241 (IVR) closed 13/2/2017 06:45


# ---------------------------------------------------------------- status and severity changes


def test_status_is_the_net_state_of_each_minute(folder):
    """INC0000047: lines 11-12 (Active, Awaiting User Info) share 9:14 -> one change; New->Active is no change."""
    assert rows_of(folder, "case_changes", "INC0000047", ["at", "field", "value"]) == [
        ("2016-03-01T16:14:00Z", "status", "pending_customer"),  # line 12, 1/3/2016 09:14 MST
        ("2016-03-01T16:52:00Z", "status", "closed"),  # line 13 Resolved 09:52; Closed 6/3 adds nothing
    ]


def test_awaiting_vendor_problem_and_evidence_stay_open(folder):
    """INC0001287 waits on Vendor then Evidence without a change; INC0002054 leaves Awaiting User Info by Evidence."""
    assert rows_of(folder, "case_changes", "INC0001287", ["at", "value"]) == [("2016-08-11T17:43:00Z", "closed")]
    assert rows_of(folder, "case_changes", "INC0002054", ["at", "value", "source_value"]) == [
        ("2016-04-25T17:31:00Z", "pending_customer", "Awaiting User Info"),  # line 245
        ("2016-08-09T23:13:00Z", "open", "Awaiting Evidence"),  # line 249
        ("2016-09-20T17:31:00Z", "closed", "Resolved"),  # line 250; Awaiting Problem (244) was no change
    ]


def test_resolved_closes_and_active_again_reopens(folder):
    """INC0000715 is resolved three times and reopened twice (reopen_count 2), all kept as status changes."""
    assert rows_of(folder, "case_changes", "INC0000715", ["at", "value"]) == [
        ("2016-03-03T15:36:00Z", "closed"),  # line 201 Resolved 3/3 08:36
        ("2016-03-04T19:42:00Z", "open"),  # line 202 Active, reopen_count 1
        ("2016-03-10T19:16:00Z", "closed"),  # lines 203-204 Active then Resolved in 12:16: net Resolved
        ("2016-03-10T19:47:00Z", "open"),  # line 205 Active, reopen_count 2
        ("2016-03-10T22:36:00Z", "closed"),  # line 208 Resolved 15:36
    ]
    assert read(folder, "cases").set_index("case_id").loc["INC0000715", "reopen_count"] == "2"


def test_priority_changes_become_severity_changes(folder):
    """Priority 1->1, 2->2, 3 and 4->3: 3->1 and 1->4 change the severity, 3->4 does not."""
    cases = read(folder, "cases").set_index("case_id")
    # INC0000388: line 174 opens at 3 - Moderate, line 175 (29/2 17:23 MST) raises it to 1 - Critical
    assert cases.loc["INC0000388", "severity"] == "3"
    assert severity_changes(folder, "INC0000388") == [("2016-03-01T00:23:00Z", "1", "1 - Critical")]
    # INC0000579: 3 -> 1 (line 194) -> 3 (line 196)
    assert severity_changes(folder, "INC0000579") == [
        ("2016-03-03T18:13:00Z", "1", "1 - Critical"),
        ("2016-03-03T19:22:00Z", "3", "3 - Moderate"),
    ]
    # INC0000729 opens at 1 - Critical; 4 - Low (line 215) is severity 3
    assert cases.loc["INC0000729", "severity"] == "1"
    assert severity_changes(folder, "INC0000729") == [("2016-03-01T22:38:00Z", "3", "4 - Low")]
    # INC0001366: 3 - Moderate -> 4 - Low (line 238) maps 3 -> 3: no change
    assert severity_changes(folder, "INC0001366") == []


def test_junk_state_rows_are_skipped(folder):
    """INC0028089: the two -100 rows (lines 273-274) leave only Resolved at 16/6 12:03 MDT as a change."""
    assert rows_of(folder, "case_changes", "INC0028089", ["at", "value"]) == [("2016-06-16T18:03:00Z", "closed")]
    assert rows_of(folder, "responses", "INC0028089", ["at", "author"]) == [
        ("2016-06-16T18:03:00Z", "Updated by 750"),  # line 275, not the junk rows at 12:02
        ("2016-06-16T19:02:00Z", "Updated by 468"),
    ]


def test_row_out_of_audit_order_is_skipped(folder):
    """INC0000137: line 152 (New, mod 1, 11:10) after Resolved (mod 2, 11:03) with reopen_count 0 is no reopen."""
    assert rows_of(folder, "case_changes", "INC0000137", ["at", "value"]) == [("2016-02-29T18:03:00Z", "closed")]


def test_update_before_opened_at_is_skipped(folder):
    """INC0000131: line 148 at 07:14 precedes opened_at 09:41, so the first event is line 149 at 09:45 MST."""
    assert rows_of(folder, "responses", "INC0000131", ["at"])[0] == ("2016-02-29T16:45:00Z",)
    assert rows_of(folder, "case_changes", "INC0000131", ["at", "value"])[0] == (
        "2016-02-29T16:45:00Z", "pending_customer",
    )


# ---------------------------------------------------------------- responses


def test_responses_are_updates_by_people(folder):
    """INC0000047: the opening New row (line 6) and 908's close are not responses; two 9:14 rows are one."""
    assert rows_of(folder, "responses", "INC0000047", ["at", "author_type", "author"]) == [
        ("2016-02-29T12:30:00Z", "agent", "Updated by 21"),  # line 7 Active, 05:30 MST
        ("2016-02-29T12:33:00Z", "agent", "Updated by 21"),
        ("2016-02-29T18:31:00Z", "agent", "Updated by 804"),
        ("2016-02-29T18:32:00Z", "agent", "Updated by 703"),
        ("2016-03-01T16:14:00Z", "agent", "Updated by 332"),  # lines 11-12
        ("2016-03-01T16:52:00Z", "agent", "Updated by 332"),  # line 13 Resolved
    ]


def test_opening_row_that_leaves_new_is_a_response(folder):
    """INC0001287's line 229 is already Active by a person at 13:00 MST: the first response."""
    assert rows_of(folder, "responses", "INC0001287", ["at", "incident_state"])[0] == (
        "2016-03-02T20:00:00Z", "Active",
    )


def test_system_account_never_responds(folder):
    """INC0000093 is created Resolved and closed by Updated by 908 alone: no response, closed at opening."""
    assert rows_of(folder, "responses", "INC0000093", ["at"]) == []
    assert rows_of(folder, "case_changes", "INC0000093", ["at", "value"]) == [("2016-02-29T15:56:00Z", "closed")]
    assert "Updated by 908" not in set(read(folder, "responses")["author"])


def test_no_customer_responses_without_a_shared_identity(folder):
    """Callers and updaters are numbered apart ("Caller N", "Updated by N"), so every response is an agent's."""
    assert set(read(folder, "responses")["author_type"]) == {"agent"}


def test_wall_time_in_a_dst_gap_moves_forward(folder):
    """INC0006295: 13/3/2016 02:36 does not exist in Denver; it becomes 03:36 MDT = 09:36Z."""
    assert rows_of(folder, "responses", "INC0006295", ["at"])[0] == ("2016-03-13T09:36:00Z",)


def test_localize_takes_the_first_of_an_ambiguous_time():
    """01:30 on 2016-11-06 happens twice in Denver; the first (MDT, 07:30Z) is taken, as the engine does."""
    naive = pd.Series(pd.to_datetime(["2016-11-06 01:30", "2016-03-13 02:36", None]))
    assert localize(naive, "America/Denver").tolist()[:2] == [utc("2016-11-06T07:30Z"), utc("2016-03-13T09:36Z")]


# ---------------------------------------------------------------- the dataset loads and yields obligations


def test_dataset_ingests_strict_and_yields_met_and_breached(obligations):
    """The written folder loads with --strict (no quarantined row) and gives met and breached obligations."""
    counts = obligations["status"].value_counts().to_dict()
    assert counts["met"] > 0 and counts["breached"] > 0


def test_obligations_of_traced_cases(obligations):
    """INC0000047 all met; INC0000388 breaches its 32 h sev-1 follow-up; INC0000093 is cancelled at opening."""
    by_case = obligations.set_index(["case_id", "seq"])
    assert by_case.loc["INC0000047", "status"].tolist() == ["met"] * 6
    # initial: sev 3 opened Mon 04:40 MST, answered 05:30 MST before business hours: elapsed 0
    assert by_case.loc[("INC0000047", 0), "elapsed_seconds"] == 0
    initial = by_case.loc[("INC0000388", 0)]
    assert (initial.status, initial.severity, initial.end_at) == ("met", 1, utc("2016-03-01T00:23Z"))
    # Active again 7/3 15:27 MST = 22:27Z, next update 22/3: 32 h around the clock ends 9/3 06:27Z
    last = by_case.loc[("INC0000388", 4)]
    assert (last.status, last.breached_at) == ("breached", utc("2016-03-09T06:27Z"))
    # lines 176-177: waiting on the user from 1/3 00:52Z to 7/3 22:26Z, the follow-up clock is paused
    assert by_case.loc[("INC0000388", 2), "elapsed_seconds"] == 0
    assert by_case.loc[("INC0000093", 0), "status"] == "cancelled"


def test_config_records_every_choice(folder):
    """config.toml sets the source timezone and records package, region, account column and mappings."""
    assert load_config(folder).source_timezone == "America/Denver"
    with (folder / "config.toml").open("rb") as f:
        tree = tomllib.load(f)
    importer = tree["importer"]
    assert (importer["package"], importer["region"], importer["account_column"]) == ("Gold", "americas", "caller_id")
    assert importer["priority_map"] == {"1": 1, "2": 2, "3": 3, "4": 3}
    assert importer["system_users"] == ["Updated by 908"]
    assert importer["pending_customer_states"] == ["Awaiting User Info"]


# ---------------------------------------------------------------- options


def test_options_region_brazil_account_column_priority_map_package(tmp_path):
    """--region brazil reads times in São Paulo (UTC-3 in Feb 2016) and defines its calendar; the rest apply."""
    out = tmp_path / "br"
    import_servicenow(
        EXCERPT, out, region="brazil", package="Platinum", account_column="location",
        priority_map={1: 1, 2: 1, 3: 2, 4: 3},
    )
    cases = read(out, "cases").set_index("case_id")
    assert cases.loc["INC0000047", "opened_at"] == "2016-02-29T07:40:00Z"
    assert cases.loc["INC0000047", "account_id"] == "Location 165"
    assert cases.loc["INC0000047", "severity"] == "2"
    config = load_config(out)
    assert config.source_timezone == "America/Sao_Paulo"
    assert config.calendars["brazil"].holiday_country == "BR"
    assert set(read(out, "subscriptions")["package"]) == {"Platinum"}
    ingest(out, tmp_path / "br.duckdb", strict=True)


def test_explicit_timezone_overrides_the_calendars(tmp_path):
    """--timezone UTC reads 29/2/2016 04:40 as 04:40Z while the accounts stay on `americas`."""
    out = tmp_path / "utc"
    import_servicenow(EXCERPT, out, source_timezone="UTC")
    assert read(out, "cases").set_index("case_id").loc["INC0000047", "opened_at"] == "2016-02-29T04:40:00Z"
    assert load_config(out).source_timezone == "UTC"


def test_plain_csv_gives_the_same_dataset(tmp_path, folder):
    """The decompressed excerpt (.csv) and the .csv.gz give identical tables."""
    plain = tmp_path / "excerpt.csv"
    plain.write_bytes(gzip.decompress(EXCERPT.read_bytes()))
    out = tmp_path / "plain"
    import_servicenow(plain, out)
    for table in ("accounts", "subscriptions", "cases", "responses", "case_changes"):
        assert (out / f"{table}.csv").read_text() == (folder / f"{table}.csv").read_text(), table


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"package": "Diamond"}, "--package: unknown package 'Diamond'"),
        ({"region": "mars"}, "--region: unknown calendar 'mars'"),
        ({"source_timezone": "Mars/Olympus"}, "--timezone: expected an IANA timezone"),
        ({"priority_map": {1: 0}}, "--priority-map: severities are 1, 2 or 3"),
        ({"account_column": "customer"}, "column customer: missing"),
    ],
)
def test_bad_options_are_one_clear_error(tmp_path, options, message):
    """An option the configuration or the file cannot honour is a LoadError naming it."""
    with pytest.raises(LoadError, match=message):
        import_servicenow(EXCERPT, tmp_path / "out", **options)


def test_parse_priority_map():
    """'1=1,2=2,3=2,4=3' is a map; a malformed pair is a LoadError."""
    assert parse_priority_map("1=1, 2=2,3=2,4=3") == {1: 1, 2: 2, 3: 2, 4: 3}
    with pytest.raises(LoadError, match="PRIORITY=SEVERITY"):
        parse_priority_map("1:1")


# ---------------------------------------------------------------- command line


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", "import", "servicenow", *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )


def test_cli_prints_the_report(tmp_path):
    """`python -m metrics import servicenow FILE --out DIR` writes the folder and prints counts and skips."""
    result = run(str(EXCERPT), "--out", str(tmp_path / "out"), "--priority-map", "1=1,2=2,3=3,4=3")
    assert result.returncode == 0, result.stderr
    assert "300 rows read" in result.stdout
    assert "cases                  43 rows" in result.stdout
    assert "incident_state -100 (junk value, not a ServiceNow state): 5" in result.stdout
    assert (tmp_path / "out" / "config.toml").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        (b"\x1f\x8b\x08\x00garbage", "not a readable CSV or gzipped CSV"),
        (b"number,incident_state\nINC1,New\n", "column sys_mod_count: missing"),
        (gzip.decompress(EXCERPT.read_bytes()).split(b"\n")[0] + b"\n", "no incident could be imported"),
    ],
    ids=["missing", "garbled-gzip", "missing-column", "header-only"],
)
def test_cli_bad_input_is_one_error_line(tmp_path, content, expected):
    """A missing, garbled, foreign or empty file exits 2 with one `error:` line and no traceback."""
    file = tmp_path / "log.csv.gz"
    if content is not None:
        file.write_bytes(content if content.startswith(b"\x1f\x8b") else gzip.compress(content))
    result = run(str(file), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
