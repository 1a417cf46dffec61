"""The BPIC 2014 (Rabobank) importer on an excerpt of the real files (tests/data/bpic2014/).

Expected values are traced by hand from the excerpt rows quoted in each test: source times
are Dutch wall clock (CET = UTC+1, CEST = UTC+2), except activities stamped before
2013-08-19, which are UTC.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.obligations import compute_obligations
from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT, connect
from metrics.tools.imports.bpic2014 import (
    SKIP_ACT_OF_SKIPPED,
    SKIP_ACT_REPEATED,
    SKIP_ACT_TIME,
    SKIP_ACT_UNKNOWN,
    SKIP_CLOSE,
    SKIP_DUPLICATE,
    SKIP_NO_MEANING,
    SKIP_NO_OPEN_ACTIVITY,
    SKIP_NO_OPEN_TIME,
    SKIP_OPEN,
    SKIP_PRIORITY,
    SKIP_SAME_INSTANT,
    import_bpic2014,
)
from metrics.tools.imports.common import ImportReport

EXCERPT = PROJECT_ROOT / "tests" / "data" / "bpic2014"
INCIDENTS = "bpic14_incidents_sample.csv.gz"
ACTIVITIES = "bpic14_incident_activity_sample.csv.gz"
AS_OF = "2014-05-01T00:00:00Z"  # after the last activity (2014-04-02)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ImportReport]:
    out = tmp_path_factory.mktemp("bpic2014") / "dataset"
    return out, import_bpic2014(EXCERPT, out)


@pytest.fixture(scope="module")
def tables(imported: tuple[Path, ImportReport]) -> dict[str, pd.DataFrame]:
    out, _ = imported
    return {
        name: pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("accounts", "subscriptions", "cases", "responses", "case_changes")
    }


@pytest.fixture(scope="module")
def obligations(imported: tuple[Path, ImportReport], tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out, _ = imported
    db = tmp_path_factory.mktemp("bpic2014_db") / "store.duckdb"
    ingest(out, db, strict=True)
    con = connect(db, read_only=True)
    try:
        return compute_obligations(con, AS_OF)
    finally:
        con.close()


def rows(frame: pd.DataFrame, case_id: str, columns: list[str]) -> list[tuple[str, ...]]:
    return [tuple(r) for r in frame.loc[frame["case_id"] == case_id, columns].itertuples(index=False)]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False
    )


def copy_excerpt(folder: Path, activities: pd.DataFrame | None = None, incidents: pd.DataFrame | None = None) -> Path:
    """The excerpt (or edited frames of it) written as the sample's two gzip files."""
    folder.mkdir(parents=True, exist_ok=True)
    inc = incidents if incidents is not None else pd.read_csv(EXCERPT / INCIDENTS, dtype=str, keep_default_na=False)
    act = activities if activities is not None else pd.read_csv(EXCERPT / ACTIVITIES, dtype=str, keep_default_na=False)
    inc.to_csv(folder / INCIDENTS, index=False)
    act.to_csv(folder / ACTIVITIES, index=False)
    return folder


def test_report_counts_every_row(imported: tuple[Path, ImportReport]):
    """The report reads 32 incidents + 311 activities and accounts for each skipped row by reason."""
    _, report = imported
    assert report.rows_read == 32 + 311
    assert report.written == {
        "accounts": 18, "subscriptions": 18, "cases": 31, "responses": 48, "case_changes": 23,
    }
    assert dict(report.skipped) == {
        SKIP_NO_OPEN_ACTIVITY: 1,  # IM0000013, opened 2012-08-10, its first activity is 2013-02-13
        SKIP_ACT_OF_SKIPPED: 6,  # IM0000013's six activities
        SKIP_OPEN: 32,  # one per incident, two for IM0000105
        SKIP_CLOSE: 36,
        SKIP_SAME_INSTANT: 3,  # Impact + Urgency Change at one instant
        SKIP_NO_MEANING: 163,
    }


def test_ingests_strictly_with_met_and_breached(obligations: pd.DataFrame):
    """The written folder loads with --strict (nothing quarantined) and yields met and breached obligations."""
    counts = obligations.groupby("status").size().to_dict()
    assert counts == {"met": 20, "breached": 6, "cancelled": 26}
    assert len(obligations[obligations["kind"] == "initial"]) == 31  # one per case


def test_utc_stamped_activities_before_august_2013(tables: dict[str, pd.DataFrame]):
    """IM0000048: Open activity 13:07:45 is UTC (open_time 14:07:43 CET); a later Reopen is Dutch time."""
    cases, changes, responses = tables["cases"], tables["case_changes"], tables["responses"]
    assert rows(cases, "IM0000048", ["opened_at", "closed_at", "severity", "owner"]) == [
        ("2013-02-06T13:07:43Z", "2013-10-17T12:00:29Z", "3", "TEAM0013")  # priority 5; close 14:00:29 CEST
    ]
    assert rows(changes, "IM0000048", ["at", "field", "value"]) == [
        ("2013-02-06T13:10:52Z", "escalation", "vendor"),  # External Vendor Assignment, UTC stamp kept
        ("2013-02-06T15:23:11Z", "status", "closed"),  # the Closed activity the Reopen follows
        ("2013-10-17T10:22:44Z", "status", "open"),  # Reopen 12:22:44 CEST
    ]
    # Three Operator Updates are kept as internal notes: they never count as responses.
    assert rows(responses, "IM0000048", ["at", "author_type", "public"]) == [
        ("2013-02-06T13:10:52Z", "agent", "False"),
        ("2013-02-06T15:15:03Z", "agent", "False"),
        ("2013-02-06T15:22:49Z", "agent", "False"),
    ]


def test_impact_and_urgency_change_become_one_severity_change(tables: dict[str, pd.DataFrame], obligations: pd.DataFrame):
    """IM0025641 (priority 3 -> severity 2): Impact + Urgency Change at 12:04:48 CET make one change to 2."""
    assert rows(tables["cases"], "IM0025641", ["opened_at", "severity"]) == [("2014-01-06T09:28:17Z", "2")]
    assert rows(tables["case_changes"], "IM0025641", ["at", "field", "value"]) == [
        ("2014-01-06T11:04:48Z", "severity", "2")
    ]
    assert rows(tables["responses"], "IM0025641", ["at", "author_type", "public", "activity"]) == [
        ("2014-01-06T11:04:48Z", "agent", "True", "Communication with customer"),
        ("2014-01-06T11:52:09Z", "agent", "False", "Operator Update"),
    ]
    initial = obligations[(obligations["case_id"] == "IM0025641") & (obligations["seq"] == 0)].iloc[0]
    assert (initial["status"], initial["elapsed_seconds"]) == ("met", 5791)  # 09:28:17Z -> 11:04:48Z


def test_mail_and_customer_update(tables: dict[str, pd.DataFrame], obligations: pd.DataFrame):
    """IM0040553: Mail to Customer is an agent email, Update from customer a customer response."""
    assert rows(tables["responses"], "IM0040553", ["at", "author_type", "author", "channel", "public"]) == [
        ("2014-02-28T16:07:57Z", "agent", "TEAM0191", "email", "True"),  # 17:07:57 CET
        ("2014-03-03T10:33:15Z", "customer", "", "", "True"),
    ]
    assert rows(tables["cases"], "IM0040553", ["owner", "closed_at"]) == [("TEAM0191", "2014-03-04T15:21:17Z")]
    got = rows(obligations.astype(str), "IM0040553", ["kind", "status", "elapsed_seconds"])
    # Follow-up: Fri 16:07:57-18:00 (6723 s) + Mon 08-18 (36000) + Tue 08:00-15:21:17 (26477), London hours.
    assert got == [("initial", "met", "5204"), ("follow_up", "cancelled", "69200")]


def test_callback_request_is_a_customer_response(tables: dict[str, pd.DataFrame]):
    """IM0024833: the customer's Callback Request (14:25:09 CET) is a customer response by phone."""
    assert ("2014-01-02T13:25:09Z", "customer", "phone") in rows(
        tables["responses"], "IM0024833", ["at", "author_type", "channel"]
    )


def test_reopen_after_close_time_and_dst(tables: dict[str, pd.DataFrame], obligations: pd.DataFrame):
    """IM0008205: three Closed -> Reopen cycles across the end of CEST; the last Reopen is after close_time."""
    assert rows(tables["cases"], "IM0008205", ["opened_at", "closed_at", "owner"]) == [
        ("2013-10-25T08:21:32Z", "2013-10-30T14:53:29Z", "TEAM0053")  # 10:21:32 CEST, 15:53:29 CET
    ]
    assert rows(tables["case_changes"], "IM0008205", ["at", "value", "activity"]) == [
        ("2013-10-28T12:04:12Z", "closed", "Closed"),  # 13:04:12 CET, after the switch
        ("2013-10-30T08:39:53Z", "open", "Reopen"),
        ("2013-10-30T11:17:16Z", "closed", "Closed"),
        ("2013-10-30T13:53:18Z", "open", "Reopen"),
        ("2013-10-30T14:53:30Z", "closed", "Closed"),
        ("2013-11-06T05:57:59Z", "open", "Reopen"),  # after close_time: the next Resolved closes it again
        ("2013-11-06T09:33:24Z", "closed", "Resolved"),
    ]
    # Severity 3 (12 h on London's 08-18): Fri 08:21:32Z-17:00Z (BST) is 31108 s, Mon from 08:00Z (GMT)
    # leaves 12092 s: deadline 11:21:32Z, passed before the close at 12:04:12Z.
    initial = obligations[(obligations["case_id"] == "IM0008205") & (obligations["seq"] == 0)].iloc[0]
    assert initial["status"] == "breached"
    assert str(pd.Timestamp(initial["breached_at"]).tz_convert("UTC")) == "2013-10-28 11:21:32+00:00"
    assert initial["elapsed_seconds"] == 45760


def test_closed_rows_without_reopen_are_not_status_changes(tables: dict[str, pd.DataFrame]):
    """IM0026254: a Closed at 16:16:10 by TEAM9999 before close_time 16:19:33 leaves no status change."""
    assert rows(tables["case_changes"], "IM0026254", ["field"]) == []
    assert rows(tables["cases"], "IM0026254", ["closed_at"]) == [("2014-01-07T15:19:33Z",)]


def test_skipped_incident_leaves_nothing(tables: dict[str, pd.DataFrame]):
    """IM0000013 (no Open activity: opened before the log began) has no case, response or change."""
    for name in ("cases", "responses", "case_changes"):
        assert "IM0000013" not in set(tables[name]["case_id"])


def test_accounts_subscriptions_and_config(imported: tuple[Path, ImportReport], tables: dict[str, pd.DataFrame]):
    """Accounts are service components on `emea`, all on Gold over the data's dates; config.toml records it."""
    out, _ = imported
    accounts = tables["accounts"]
    assert set(accounts["region"]) == {"emea"} and "WBS000073" in set(accounts["account_id"])
    assert set(accounts["account_id"]) == set(tables["cases"]["account_id"])
    subs = tables["subscriptions"]
    assert set(subs["package"]) == {"Gold"}
    assert set(zip(subs["start_date"], subs["end_date"], strict=True)) == {("2013-02-06", "2014-04-01")}
    config = tomllib.loads((out / "config.toml").read_text())
    assert config["source"] == {"timezone": "Europe/Amsterdam"}
    assert config["reporting"] == {"timezone": "Europe/London"}  # the emea calendar's
    assert config["importer"]["account_column"] == "service_component_wbs_aff"
    assert config["importer"]["operator_updates"] == "internal"
    assert load_config(out).source_timezone == "Europe/Amsterdam"  # the [importer] table is accepted


def test_options_change_accounts_package_and_operator_updates(tmp_path: Path):
    """--account-column, --package, --region and --operator-updates public change what is written."""
    out = tmp_path / "out"
    report = import_bpic2014(
        EXCERPT, out, account_column="ci_name_aff", package="Platinum", region="americas", operator_updates="public"
    )
    accounts = pd.read_csv(out / "accounts.csv", dtype=str)
    assert "SBA000662" in set(accounts["account_id"])  # IM0000048's affected CI
    assert set(accounts["region"]) == {"americas"}
    assert set(pd.read_csv(out / "subscriptions.csv")["package"]) == {"Platinum"}
    responses = pd.read_csv(out / "responses.csv", dtype=str)
    assert set(responses["public"]) == {"True"}
    assert report.written["responses"] == 48
    ingest(out, tmp_path / "s.duckdb", strict=True)


def test_row_order_does_not_matter(tmp_path: Path, tables: dict[str, pd.DataFrame]):
    """The activity file is not in time order; shuffling it again writes the same changes and responses."""
    act = pd.read_csv(EXCERPT / ACTIVITIES, dtype=str, keep_default_na=False).sample(frac=1.0, random_state=42)
    out = tmp_path / "out"
    import_bpic2014(copy_excerpt(tmp_path / "src", activities=act), out)
    for name in ("cases", "responses", "case_changes"):
        again = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(again, tables[name])


def test_bad_rows_are_skipped_with_reasons(tmp_path: Path):
    """Unreadable times, a bad priority, repeated ids and an unknown incident are counted, not fatal."""
    inc = pd.read_csv(EXCERPT / INCIDENTS, dtype=str, keep_default_na=False)
    act = pd.read_csv(EXCERPT / ACTIVITIES, dtype=str, keep_default_na=False)
    inc.loc[inc["incident_id"] == "IM0040553", "priority"] = "urgent"
    inc.loc[inc["incident_id"] == "IM0025641", "open_time"] = "06-01-2014 10:28"
    inc = pd.concat([inc, inc[inc["incident_id"] == "IM0026254"]])
    act.loc[act["incident_activity_number"] == "001A6273546", "data_stamp"] = ""  # IM0024833's Operator Update
    unknown = act.head(1).assign(incident_id="IM9999999", incident_activity_number="001X0000001")
    act = pd.concat([act, unknown, act[act["incident_activity_number"] == "001A6307328"]])  # a repeated row
    report = import_bpic2014(copy_excerpt(tmp_path / "src", act, inc), tmp_path / "out")
    assert report.skipped[SKIP_PRIORITY] == 1
    assert report.skipped[SKIP_NO_OPEN_TIME] == 1
    assert report.skipped[SKIP_DUPLICATE] == 1
    assert report.skipped[SKIP_ACT_TIME] == 1
    assert report.skipped[SKIP_ACT_UNKNOWN] == 1
    assert report.skipped[SKIP_ACT_REPEATED] == 1
    assert report.skipped[SKIP_ACT_OF_SKIPPED] == 6 + 8 + 8  # IM0000013, IM0040553, IM0025641
    assert report.written["cases"] == 29
    ingest(tmp_path / "out", tmp_path / "s.duckdb", strict=True)


def test_original_4tu_format(tmp_path: Path, tables: dict[str, pd.DataFrame]):
    """The original Detail_Incident*.csv layout (`;`, dd-mm-yyyy, original headers) gives the same cases."""
    inc = pd.read_csv(EXCERPT / INCIDENTS, dtype=str, keep_default_na=False)
    act = pd.read_csv(EXCERPT / ACTIVITIES, dtype=str, keep_default_na=False).drop(columns=["lifecycle"])
    for frame, columns in ((inc, ("open_time", "reopen_time", "resolved_time", "close_time")), (act, ("data_stamp",))):
        for column in columns:
            stamps = pd.to_datetime(frame[column], format="%Y-%m-%d %H:%M:%S")
            frame[column] = stamps.dt.strftime("%d-%m-%Y %H:%M:%S").fillna("")
    inc = inc.rename(columns={"incident_id": "Incident ID", "open_time": "Open Time", "close_time": "Close Time",
                              "priority": "Priority", "service_component_wbs_aff": "Service Component WBS (aff)",
                              "x_reassignments": "# Reassignments", "resolved_time": "Resolved Time"})
    act = act.rename(columns={"incident_id": "Incident ID", "data_stamp": "DateStamp",
                              "incident_activity_number": "IncidentActivity_Number",
                              "incident_activity_type": "IncidentActivity_Type", "assignment_group": "Assignment Group",
                              "interaction_id": "Interaction ID"})
    src = tmp_path / "src"
    src.mkdir()
    inc.to_csv(src / "Detail_Incident.csv", sep=";", index=False)
    act.to_csv(src / "Detail_Incident_Activity.csv", sep=";", index=False)
    import_bpic2014(src, tmp_path / "out")
    again = pd.read_csv(tmp_path / "out" / "cases.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(again, tables["cases"])


def test_nothing_importable_is_a_load_error(tmp_path: Path):
    """An incident file whose every row is unusable stops the import instead of writing an empty dataset."""
    inc = pd.read_csv(EXCERPT / INCIDENTS, dtype=str, keep_default_na=False).assign(priority="")
    with pytest.raises(LoadError, match="no incident could be imported"):
        import_bpic2014(copy_excerpt(tmp_path / "src", incidents=inc), tmp_path / "out")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"account_column": "customer"}, "--account-column 'customer' is not a column"),
        ({"package": "Diamond"}, "--package: expected one of"),
        ({"region": "mars"}, "--region: expected a calendar"),
        ({"source_timezone": "Europe/Rotterdam"}, "--timezone: expected an IANA timezone"),
    ],
)
def test_bad_options_are_load_errors(tmp_path: Path, options: dict[str, str], message: str):
    """An option naming an unknown column, package, calendar or timezone stops with one sentence."""
    with pytest.raises(LoadError, match=message):
        import_bpic2014(EXCERPT, tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_cli_prints_the_report(tmp_path: Path):
    """`python -m metrics import bpic2014 DIR --out OUT` writes the folder and prints the report."""
    result = run("import", "bpic2014", str(EXCERPT), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "343 rows read" in result.stdout
    assert "cases                  31 rows" in result.stdout
    assert f"{SKIP_NO_OPEN_ACTIVITY}: 1" in result.stdout
    assert (tmp_path / "out" / "config.toml").exists()


@pytest.mark.parametrize("problem", ["missing folder", "missing activity file", "garbled gzip", "wrong header"])
def test_cli_bad_input_is_one_error_line(tmp_path: Path, problem: str):
    """A missing or garbled input exits 2 with one `error:` line naming the file, never a traceback."""
    src = copy_excerpt(tmp_path / "src")
    if problem == "missing folder":
        src = tmp_path / "nowhere"
    elif problem == "missing activity file":
        (src / ACTIVITIES).unlink()
    elif problem == "garbled gzip":
        (src / ACTIVITIES).write_bytes(b"\x1f\x8b this is not gzip")
    else:
        (src / INCIDENTS).write_bytes(gzip.compress(b"id;opened\nIM1;2014-01-01\n"))
    result = run("import", "bpic2014", str(src), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
