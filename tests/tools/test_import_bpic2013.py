"""The BPIC 2013 (Volvo IT incidents) importer on an excerpt of the real file.

`tests/data/bpic2013/VINST_excerpt.csv` holds 259 rows (34 whole incidents) cut byte for
byte from VINST_incidents_ibm.csv.gz, BOM and missing final newline included; see its
ATTRIBUTION.md. The traced incidents below were derived by hand from those rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from metrics.engine.obligations import compute_obligations
from metrics.errors import LoadError
from metrics.storage.config import load_config
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT, connect
from metrics.tools.imports.bpic2013 import fix_mojibake, import_bpic2013
from metrics.tools.imports.common import ImportReport

EXCERPT = PROJECT_ROOT / "tests" / "data" / "bpic2013" / "VINST_excerpt.csv"
AS_OF = "2012-06-01T00:00:00Z"  # after the last event of the log (2012-05-23)
UNMATCHED = "Status Unmatched (a log-matching artefact, no status to map)"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImportReport, Path]:
    out = tmp_path_factory.mktemp("bpic2013")
    return import_bpic2013(EXCERPT, out), out


@pytest.fixture(scope="module")
def tables(imported: tuple[ImportReport, Path]) -> dict[str, pd.DataFrame]:
    _, out = imported
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in out.glob("*.csv")}


@pytest.fixture(scope="module")
def obligations(imported: tuple[ImportReport, Path], tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    _, out = imported
    db = tmp_path_factory.mktemp("db") / "bpic2013.duckdb"
    ingest(out, db, strict=True)
    con = connect(db, read_only=True)
    try:
        return compute_obligations(con, AS_OF)
    finally:
        con.close()


def utc(text: str) -> str:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference(path: Path) -> tuple[set[tuple[str, str, str, str]], set[tuple[str, str, str]]]:
    """A slow, obvious reading of the mapping rules: (changes, responses) as sets of tuples.

    Valid for files without two events of a case in one second (the excerpt has none).
    """
    rows_by_case: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if row["Status"] != "Unmatched":
                rows_by_case[row["SR Number"]].append(row)
    changes, responses = set(), set()
    for case, rows in rows_by_case.items():
        status, previous = "open", None
        for i, row in enumerate(rows):
            at = utc(row["Change Date+Time"])
            sub = row["Sub Status"]
            new = (
                "closed"
                if row["Status"] == "Completed"
                else "pending_customer"
                if sub in ("Wait - User", "Wait - Customer")
                else "open"
            )
            if new != status:
                changes.add((case, at, "status", new))
                status = new
            level = {"L1": 1, "L2": 2, "L3": 3, "L2/L3": 2}[row["ST Level"]]
            if previous is not None and level > {"L1": 1, "L2": 2, "L3": 3, "L2/L3": 2}[previous["ST Level"]]:
                changes.add((case, at, "escalation", str(level)))
            owner = (
                row["Resource"] if row["Resource"].isascii() else row["Resource"].encode("mac_roman").decode("cp1252")
            )
            in_progress = row["Activity"] == "Accepted-In Progress"
            repeat = (
                previous is not None
                and previous["Activity"] == "Accepted-In Progress"
                and previous["Resource"] == row["Resource"]
            )
            first_in_hand = i == 0 and row["Status"] != "Queued"
            if row["Owner First Name"] != "Siebel" and ((in_progress and not repeat) or first_in_hand):
                responses.add((case, at, owner))
            previous = row
    return changes, responses


def test_report_counts_rows_cases_and_the_skipped_unmatched_rows(imported: tuple[ImportReport, Path]):
    """The report counts the 259 rows, 34 incidents, and skips exactly the 2 `Unmatched` rows with a reason."""
    report, _ = imported
    assert report.rows_read == 259
    assert report.written["cases"] == 34
    assert report.written["accounts"] == report.written["subscriptions"] == 20  # distinct Products
    assert dict(report.skipped) == {UNMATCHED: 2}
    text = report.summary()
    assert "259 rows read" in text and f"{UNMATCHED}: 2" in text


def test_changes_and_responses_match_an_independent_reading(tables: dict[str, pd.DataFrame]):
    """Every status change, escalation and agent response equals a row-by-row pure-Python reading of the rules."""
    changes, responses = reference(EXCERPT)
    written_changes = set(
        tables["case_changes"][["case_id", "at", "field", "value"]].itertuples(index=False, name=None)
    )
    written_responses = set(tables["responses"][["case_id", "at", "author"]].itertuples(index=False, name=None))
    assert written_changes == changes
    assert written_responses == responses
    assert len(tables["case_changes"]) == len(changes) and len(tables["responses"]) == len(responses)


def test_wait_customer_incident_traced_by_hand(tables: dict[str, pd.DataFrame], obligations: pd.DataFrame):
    """1-738821480 (lines 199-205): a repeat In Progress is no response, Wait - Customer pauses, Resolved closes."""
    case = tables["cases"].set_index("case_id").loc["1-738821480"]
    assert (case.account_id, case.opened_at, case.severity) == ("PROD181", "2012-05-03T02:38:35Z", "3")  # Low
    assert (case.owner, case.closed_at, case.product_area) == ("my-Alex", "2012-05-07T04:37:32Z", "PROD181")
    responses = tables["responses"].query("case_id == '1-738821480'")
    assert list(zip(responses["at"], responses["author"], strict=True)) == [
        ("2012-05-03T02:38:35Z", "my-Prithi"),  # 03:44:17 by Prithi again is the same piece of work
        ("2012-05-04T02:37:42Z", "my-Alex"),
    ]
    changes = tables["case_changes"].query("case_id == '1-738821480'")
    assert list(zip(changes["at"], changes["field"], changes["value"], strict=True)) == [
        ("2012-05-04T02:38:37Z", "status", "pending_customer"),  # Wait - Customer
        ("2012-05-07T04:37:32Z", "status", "closed"),  # Resolved; the later Siebel Closed changes nothing
    ]
    ob = obligations.query("case_id == '1-738821480'").sort_values("seq")
    assert list(ob["status"]) == ["met", "met", "cancelled"]
    # Follow-up 1: Thu 2012-05-03 02:38Z -> Fri 02:37Z counts Thursday's 07:00-17:00Z (London BST 08-18).
    assert list(ob["elapsed_seconds"]) == [0, 36_000, 0]  # follow-up 2 paused from 1 minute in, then closed


def test_long_incident_with_waits_escalations_and_mojibake(tables: dict[str, pd.DataFrame], obligations: pd.DataFrame):
    """1-467153946 (lines 19-58): only Wait - User pauses; vendor waits breach; each rise of the line escalates."""
    case = tables["cases"].set_index("case_id").loc["1-467153946"]
    assert (case.owner, case.closed_at, case.support_line_max) == ("se-Torbjörn", "2012-05-15T15:57:39Z", "3")
    changes = tables["case_changes"].query("case_id == '1-467153946'")
    escalations = changes[changes["field"] == "escalation"]
    assert list(zip(escalations["at"], escalations["value"], strict=True)) == [
        ("2011-01-31T10:19:05Z", "2"),  # S42 -> N52 2nd
        ("2011-02-03T07:28:58Z", "3"),  # -> O3 3rd
        ("2012-01-25T14:50:41Z", "2"),  # back at L1 (M25), then queued to G142 2nd again
    ]
    statuses = changes[changes["field"] == "status"]
    assert list(zip(statuses["at"], statuses["value"], strict=True)) == [
        ("2011-01-31T13:37:55Z", "pending_customer"),
        ("2011-02-03T07:28:58Z", "open"),  # re-queued to 3rd line
        ("2011-03-10T11:21:51Z", "pending_customer"),
        ("2011-03-10T13:45:27Z", "open"),  # Accepted/Wait: the vendor's own wait
        ("2011-04-06T10:08:47Z", "pending_customer"),
        ("2011-04-07T11:36:47Z", "open"),
        ("2012-05-15T15:57:39Z", "closed"),
    ]
    authors = tables["responses"].query("case_id == '1-467153946'")["author"].tolist()
    assert len(authors) == 17
    assert authors[3] == "se-Åse" and authors[5] == "se-Björn T" and authors[-1] == "se-Torbjörn"
    ob = obligations.query("case_id == '1-467153946'").set_index("seq")
    # Follow-up 3 starts at Paul's In Progress (Mon 2011-02-07 11:37:33Z) and waits on implementation
    # for a month: 72 h on 08:00-18:00Z = 6h22m27s that Monday + 6 full days + 5h37m33s on Wed 16 Feb.
    assert ob.loc[3, "status"] == "breached"
    assert ob.loc[3, "breached_at"] == pd.Timestamp("2011-02-16T13:37:33Z")
    # Follow-up 2 is paused from the Wait - User (31 Jan 13:37:55Z) to the re-queue (3 Feb 07:28:58Z).
    assert ob.loc[2, "status"] == "met"
    # Counted: 31 Jan 11:59:46Z -> 13:37:55Z, then Thu 3 and Fri 4 Feb whole, then Mon 7 Feb 08:00 -> 11:37:33Z.
    assert ob.loc[2, "elapsed_seconds"] == (1 * 3600 + 38 * 60 + 9) + 2 * 36_000 + (3 * 3600 + 37 * 60 + 33)


def test_unmatched_row_is_skipped_and_a_completion_can_reopen(tables: dict[str, pd.DataFrame]):
    """1-722103633 (lines 75-96): the Unmatched row leaves no trace; In Progress after Resolved reopens the case."""
    changes = tables["case_changes"].query("case_id == '1-722103633' and field == 'status'")
    assert list(zip(changes["at"], changes["value"], strict=True)) == [
        ("2012-04-18T09:07:37Z", "pending_customer"),
        ("2012-04-18T09:07:40Z", "open"),
        ("2012-04-18T09:20:26Z", "pending_customer"),
        ("2012-04-19T12:46:05Z", "open"),
        ("2012-04-19T12:50:14Z", "closed"),
        ("2012-04-19T13:00:44Z", "open"),  # reopened by Kristoffer 10 minutes after Resolved
        ("2012-04-19T13:35:58Z", "pending_customer"),
        ("2012-04-23T14:03:29Z", "closed"),
        ("2012-04-24T13:48:12Z", "open"),  # the Unmatched row at 13:11:24Z is gone
        ("2012-04-25T11:26:34Z", "pending_customer"),
        ("2012-05-07T13:49:22Z", "closed"),
    ]
    assert "2012-04-24T13:11:24Z" not in set(tables["case_changes"]["at"]) | set(tables["responses"]["at"])
    responses = tables["responses"].query("case_id == '1-722103633'")
    assert len(responses) == 8
    assert ("2012-04-24T13:48:12Z", "se-Björn") in set(zip(responses["at"], responses["author"], strict=True))
    assert tables["cases"].set_index("case_id").loc["1-722103633", "closed_at"] == "2012-05-07T13:49:22Z"


def test_high_impact_is_severity_1_on_the_24x7_clock(tables: dict[str, pd.DataFrame], obligations: pd.DataFrame):
    """1-740371900 (High, opened in a queue): the initial clock runs 24x7 for 4 h and breaches on Friday."""
    assert tables["cases"].set_index("case_id").loc["1-740371900", "severity"] == "1"
    initial = obligations.query("case_id == '1-740371900' and kind == 'initial'").iloc[0]
    assert (initial.status, initial.calendar, initial.target_seconds) == ("breached", "24x7", 14_400)
    assert initial.breached_at == pd.Timestamp("2012-05-04T12:50:34Z")  # opened 08:50:34Z + 4 h
    assert initial.elapsed_seconds == 2 * 86_400 + 17 * 3600 + 37 * 60 + 43  # to Mon 02:28:17Z


def test_major_incident_queued_at_opening_escalates_through_the_lines(
    tables: dict[str, pd.DataFrame], obligations: pd.DataFrame
):
    """1-736499271 (Major): the first answer is the first In Progress, 40 min 52 s after the queue; 4 rises."""
    case = tables["cases"].set_index("case_id").loc["1-736499271"]
    assert (case.severity, case.country, case.owner) == ("1", "0", "0-Joris")
    escalations = tables["case_changes"].query("case_id == '1-736499271' and field == 'escalation'")
    assert list(escalations["value"]) == ["2", "3", "2", "2"]
    initial = obligations.query("case_id == '1-736499271' and kind == 'initial'").iloc[0]
    assert (initial.status, initial.elapsed_seconds) == ("met", 40 * 60 + 52)


def test_a_case_logged_in_an_agents_hands_has_its_answer_at_opening(
    tables: dict[str, pd.DataFrame], obligations: pd.DataFrame
):
    """1-732851321 starts at Wait - User (its history predates the log): answered at opening, not breached."""
    responses = tables["responses"].query("case_id == '1-732851321'")
    assert list(responses["at"]) == ["2012-04-26T06:27:27Z"]
    first = tables["case_changes"].query("case_id == '1-732851321'").iloc[0]
    assert (first["at"], first["value"]) == ("2012-04-26T06:27:27Z", "pending_customer")
    assert obligations.query("case_id == '1-732851321' and kind == 'initial'").iloc[0].status == "met"


def test_mojibake_is_repaired_and_sound_names_are_left_alone(tables: dict[str, pd.DataFrame]):
    """Latin-1 read as Mac Roman is undone everywhere; correct or already repaired names pass unchanged."""
    assert fix_mojibake("Bjˆrn") == "Björn"
    assert fix_mojibake("StÈphane") == "Stéphane"
    assert fix_mojibake("≈se") == "Åse"
    assert fix_mojibake("J¸ri") == "Jüri"
    for sound in ("Björn", "Åse", "Désirée", "Kent-Åke", "Adam"):
        assert fix_mojibake(sound) == sound
    names = pd.concat([tables["responses"]["author"], tables["cases"]["owner"]])
    assert not names.str.contains("[ˆ≈‰·¸ÈÂ]").any()


def test_dataset_ingests_strictly_and_yields_met_and_breached(obligations: pd.DataFrame):
    """The written folder loads with --strict (no quarantined row) and has met and breached obligations."""
    assert {"met", "breached"} <= set(obligations["status"])
    assert (obligations["kind"] == "initial").sum() == 34
    assert obligations["package"].eq("Gold").all()


def test_config_records_every_choice(imported: tuple[ImportReport, Path], tables: dict[str, pd.DataFrame]):
    """config.toml loads, reports in the region's timezone and records the options; terms cover every case."""
    _, out = imported
    config = load_config(out)
    assert config.reporting_timezone == "Europe/London" and config.source_timezone is None
    raw = tomllib.loads((out / "config.toml").read_text())["importer"]
    assert (raw["account_column"], raw["package"], raw["region"]) == ("Product", "Gold", "emea")
    assert raw["severity_map"] == {"Major": 1, "High": 1, "Medium": 2, "Low": 3}
    assert tables["accounts"]["region"].eq("emea").all()
    cases = tables["cases"].merge(tables["subscriptions"], on="account_id")
    local = pd.to_datetime(cases["opened_at"]).dt.tz_convert("Europe/London").dt.strftime("%Y-%m-%d")
    assert ((cases["start_date"] <= local) & (local <= cases["end_date"])).all()


def test_options_change_severity_account_and_package(tmp_path: Path):
    """--severity-map, --account-column and --package are honoured; an unmapped impact is skipped with a reason."""
    report = import_bpic2013(
        EXCERPT,
        tmp_path,
        package="Platinum",
        account_column="Country",
        severity_map={"Major": 1, "High": 2, "Medium": 3},
    )
    cases = pd.read_csv(tmp_path / "cases.csv", dtype=str).set_index("case_id")
    assert cases.loc["1-740371900", "severity"] == "2"  # High
    assert "1-738821480" not in cases.index  # Low: not in the map
    assert report.skipped["SR Latest Impact 'Low' not in --severity-map"] > 0
    accounts = set(pd.read_csv(tmp_path / "accounts.csv", dtype=str, keep_default_na=False)["account_id"])
    assert "SE" not in accounts and "se" in accounts  # case variants of one country merge
    assert set(pd.read_csv(tmp_path / "subscriptions.csv")["package"]) == {"Platinum"}


def test_gzip_input_reads_like_the_plain_csv(tmp_path: Path, tables: dict[str, pd.DataFrame]):
    """The shipped format (gzip, BOM inside) gives the same tables as the plain excerpt."""
    gz = tmp_path / "VINST_excerpt.csv.gz"
    gz.write_bytes(gzip.compress(EXCERPT.read_bytes()))
    import_bpic2013(gz, tmp_path / "out")
    again = pd.read_csv(tmp_path / "out" / "cases.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(again, tables["cases"])


def test_naive_timestamps_need_a_timezone(tmp_path: Path):
    """A timestamp without offset is fatal (file, column, row named) unless --timezone says where it was written."""
    lines = EXCERPT.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].replace("+01:00", "", 1)
    naive = tmp_path / "naive.csv"
    naive.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(LoadError, match=r"naive\.csv, column Change Date\+Time, row 2: .* no UTC offset"):
        import_bpic2013(naive, tmp_path / "out")
    import_bpic2013(naive, tmp_path / "out", source_timezone="Europe/Brussels")
    first = pd.read_csv(tmp_path / "out" / "responses.csv", dtype=str).iloc[0]
    assert first["at"] == "2010-03-31T13:59:42Z"  # 15:59:42 CEST; with its +01:00 offset it was 14:59:42Z
    assert tomllib.loads((tmp_path / "out" / "config.toml").read_text())["source"]["timezone"] == "Europe/Brussels"


def test_events_in_one_second_write_no_duplicate_keys(tmp_path: Path):
    """Two events of a case in one second: the last status wins and one response is kept, so --strict loads."""
    header = EXCERPT.read_text(encoding="utf-8-sig").split("\n")[0]
    tail = "S42,S42,L1,Medium,PROD1,se,Sweden,Eva,se-Eva"

    def row(at: str, status: str, sub: str) -> str:
        return f"X1,2012-05-02T10:{at}+01:00,{status},{sub},{status}-{sub},{status}-{sub}-L1,V3_2,Org line C,{tail}"

    source = tmp_path / "same_second.csv"
    source.write_text(
        "\n".join(
            [
                header,
                row("00:00", "Accepted", "In Progress"),
                row("05:00", "Accepted", "Wait - User"),  # asked the user ...
                row("05:00", "Accepted", "In Progress"),  # ... and carried on in the same second
                row("09:00", "Completed", "Resolved"),
                row("09:00", "Accepted", "In Progress"),
                row("09:00", "Accepted", "Wait - User"),
            ]
        ),
        encoding="utf-8",
    )
    import_bpic2013(source, tmp_path / "out")
    changes = pd.read_csv(tmp_path / "out" / "case_changes.csv", dtype=str)
    assert list(zip(changes["at"], changes["value"], strict=True)) == [("2012-05-02T09:09:00Z", "pending_customer")]
    responses = pd.read_csv(tmp_path / "out" / "responses.csv", dtype=str)
    assert list(responses["at"]) == ["2012-05-02T09:00:00Z", "2012-05-02T09:05:00Z", "2012-05-02T09:09:00Z"]
    ingest(tmp_path / "out", tmp_path / "x.duckdb", strict=True)


def test_bad_options_are_one_clear_error(tmp_path: Path):
    """An unknown region, package or account column stops the import with a LoadError naming the choices."""
    with pytest.raises(LoadError, match="--region 'mars': not a calendar; expected one of americas, emea, japan"):
        import_bpic2013(EXCERPT, tmp_path, region="mars")
    with pytest.raises(LoadError, match="--package 'Tin'"):
        import_bpic2013(EXCERPT, tmp_path, package="Tin")
    with pytest.raises(LoadError, match="no column 'Customer' for --account-column"):
        import_bpic2013(EXCERPT, tmp_path, account_column="Customer")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", "import", "bpic2013", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )


def test_cli_prints_the_report(tmp_path: Path):
    """`python -m metrics import bpic2013 FILE --out DIR` writes the folder and prints the report."""
    result = run(str(EXCERPT), "--out", str(tmp_path / "out"), "--region", "emea", "--package", "Gold")
    assert result.returncode == 0, result.stderr
    assert "259 rows read" in result.stdout
    assert "cases                  34 rows" in result.stdout
    assert f"{UNMATCHED}: 2" in result.stdout
    assert (tmp_path / "out" / "config.toml").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\x1f\x8b\x08garbage", "not a readable UTF-8 CSV export"),
        (b"a,b\n1,2\n", "missing column 'SR Number'"),
    ],
)
def test_cli_bad_input_is_one_error_line(tmp_path: Path, content: bytes | None, message: str):
    """A missing, garbled or foreign file exits 2 with one `error:` line and no traceback."""
    source = tmp_path / "input.csv.gz"
    if content is not None:
        source.write_bytes(content)
    result = run(str(source), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
