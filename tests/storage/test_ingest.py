"""The loader: every rule of the contract's "Bad input" section, one test each."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metrics.errors import LoadError
from metrics.storage.contract import TABLES
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT

UTC = dt.UTC


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every stored table's rows, sorted, to compare a store before and after."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [t.name for t in TABLES] + ["quarantine", "settings"]
        return {n: sorted(con.execute(f"select * from {n}").fetchall(), key=repr) for n in names}
    finally:
        con.close()


def quarantine(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select file, line, rule, reason from quarantine order by file, line").fetchall()
    finally:
        con.close()


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------- good loads


def test_loads_every_table_with_utc_instants(make_dataset, db_path):
    """A clean dataset lands whole; offsets are normalised to UTC; empty `public` means true."""
    folder = make_dataset(
        **{
            "cases.csv": """
                case_id,account_id,opened_at,severity,closed_at
                C1,A1,2026-03-06T16:00:00-07:00,2,
                C2,A2,2026-03-10T10:00:00+09:00,3,2026-03-11T00:00:00Z
            """
        }
    )
    report = ingest(folder, db_path)
    assert report.rows_stored == {"accounts": 2, "subscriptions": 2, "cases": 2, "responses": 2}
    assert report.total_quarantined == 0
    opened = dict(rows(db_path, "select case_id, opened_at from cases"))
    assert opened["C1"] == dt.datetime(2026, 3, 6, 23, 0, tzinfo=UTC)  # 16:00 MST = 23:00Z
    assert opened["C2"] == dt.datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 10:00 JST = 01:00Z
    assert rows(db_path, "select count(*) from responses where public") == [(2,)]


def test_extra_columns_are_kept_as_json(make_dataset, db_path):
    """Columns the contract does not name are kept (in `extra`) and ignored by the metrics."""
    folder = make_dataset(
        **{"accounts.csv": "account_id,name,region,segment\nA1,Acme,americas,enterprise\nA2,Beta,japan,smb"}
    )
    ingest(folder, db_path)
    assert rows(db_path, "select extra->>'segment' from accounts order by account_id") == [("enterprise",), ("smb",)]


def test_parquet_and_jsonl_load_like_csv(make_dataset, db_path, tmp_path):
    """The same table as Parquet (tz-aware timestamps) or JSONL stores the same rows as CSV."""
    csv_folder = make_dataset()
    ingest(csv_folder, db_path)
    expected = rows(db_path, "select case_id, account_id, opened_at, severity, closed_at from cases order by 1")

    pq_folder = make_dataset(**{"cases.csv": None})
    pq.write_table(
        pa.table(
            {
                "case_id": ["C1", "C2"],
                "account_id": ["A1", "A2"],
                "opened_at": pa.array(
                    [dt.datetime(2026, 3, 6, 23, tzinfo=UTC), dt.datetime(2026, 3, 10, 1, tzinfo=UTC)],
                    pa.timestamp("s", tz="UTC"),
                ),
                "severity": pa.array([2, 3], pa.int8()),
                "closed_at": pa.array([None, dt.datetime(2026, 3, 11, tzinfo=UTC)], pa.timestamp("s", tz="UTC")),
            }
        ),
        pq_folder / "cases.parquet",
    )
    pq_db = tmp_path / "pq.duckdb"
    ingest(pq_folder, pq_db)
    assert rows(pq_db, "select case_id, account_id, opened_at, severity, closed_at from cases order by 1") == expected

    js_folder = make_dataset(**{"cases.csv": None})
    (js_folder / "cases.jsonl").write_text(
        '{"case_id": "C1", "account_id": "A1", "opened_at": "2026-03-06T23:00:00Z", "severity": 2}\n'
        '{"case_id": "C2", "account_id": "A2", "opened_at": "2026-03-10T01:00:00Z", "severity": "3",'
        ' "closed_at": "2026-03-11T00:00:00Z"}\n'
    )
    js_db = tmp_path / "js.duckdb"
    ingest(js_folder, js_db)
    assert rows(js_db, "select case_id, account_id, opened_at, severity, closed_at from cases order by 1") == expected


def test_naive_timestamps_use_the_source_timezone(make_dataset, db_path):
    """With [source] timezone a naive time is local wall time there (07:05 MDT = 13:05Z)."""
    folder = make_dataset(
        **{
            "config.toml": '[source]\ntimezone = "America/Denver"\n',
            "responses.csv": "case_id,at,author_type\nC1,2026-03-09 07:05:00,agent\nC2,2026-03-10T02:00:00Z,agent",
        }
    )
    ingest(folder, db_path)
    assert rows(db_path, """select "at" from responses where case_id = 'C1'""") == [
        (dt.datetime(2026, 3, 9, 13, 5, tzinfo=UTC),)
    ]


def test_loading_the_same_files_twice_changes_nothing(make_dataset, db_path):
    """Keys decide identity: a second load of the same files leaves every table as it was."""
    folder = make_dataset(
        **{"responses.csv": "case_id,at,author_type,response_id\nC1,2026-03-09T18:30:00Z,agent,r1\nC9,2026-03-09T18:30:00Z,agent,r2"}
    )
    ingest(folder, db_path)
    before = snapshot(db_path)
    ingest(folder, db_path)
    assert snapshot(db_path) == before


def test_append_replaces_rows_by_key(make_dataset, db_path):
    """--append: re-loading a case with a close time updates that case; the other stored case stays."""
    ingest(make_dataset(), db_path)
    newer = make_dataset(
        **{
            "cases.csv": "case_id,account_id,opened_at,severity,closed_at\nC1,A1,2026-03-06T23:00:00Z,2,2026-03-12T00:00:00Z"
        }
    )
    report = ingest(newer, db_path, append=True)
    assert report.mode == "append"
    assert rows(db_path, "select case_id, closed_at is not null from cases order by 1") == [("C1", True), ("C2", True)]


def test_a_load_mirrors_the_folder(make_dataset, db_path):
    """Without --append the store holds exactly the folder: a deleted case is gone, a corrected response replaced."""
    ingest(make_dataset(), db_path)
    corrected = make_dataset(
        **{
            # C2 was deleted at the source; C1's response time was corrected (its key changes with it)
            "cases.csv": "case_id,account_id,opened_at,severity\nC1,A1,2026-03-06T23:00:00Z,2",
            "responses.csv": "case_id,at,author_type\nC1,2026-03-09T18:45:00Z,agent",
        }
    )
    ingest(corrected, db_path)
    assert rows(db_path, "select case_id from cases") == [("C1",)]
    assert rows(db_path, "select case_id, strftime(\"at\", '%H:%M') from responses") == [("C1", "18:45")]


def test_two_folders_with_one_name_never_mix(tmp_path, make_dataset, db_path):
    """A second folder named like the first replaces it whole: nothing of the first is left."""
    first = make_dataset()
    second_parent = tmp_path / "other"
    second_parent.mkdir()
    second = make_dataset(**{"cases.csv": "case_id,account_id,opened_at,severity\nC7,A1,2026-03-06T23:00:00Z,2",
                             "responses.csv": "case_id,at,author_type"})
    second = second.rename(second_parent / first.name)
    ingest(first, db_path)
    ingest(second, db_path)
    assert rows(db_path, "select case_id from cases") == [("C7",)]
    assert rows(db_path, "select count(*) from responses") == [(0,)]


def test_the_same_files_again_are_reported_unchanged(make_dataset, db_path):
    """A reload of identical files is a no-op: reported as such, the published file untouched."""
    from metrics.storage.store import store_version

    folder = make_dataset()
    ingest(folder, db_path)
    version = store_version(db_path)
    report = ingest(folder, db_path)
    assert report.unchanged
    assert "Unchanged" in report.summary()
    assert store_version(db_path) == version


def test_a_load_publishes_beside_open_readers(make_dataset, db_path):
    """A reader holding the store open keeps its version; the load publishes a new one without a lock error."""
    ingest(make_dataset(), db_path)
    reader = duckdb.connect(str(db_path), read_only=True)
    try:
        ingest(make_dataset(**{"cases.csv": "case_id,account_id,opened_at,severity\nC1,A1,2026-03-06T23:00:00Z,2"}),
               db_path)
        assert reader.execute("select count(*) from cases").fetchall() == [(2,)]  # the version it opened
    finally:
        reader.close()
    assert rows(db_path, "select count(*) from cases") == [(1,)]
    assert not db_path.with_name(db_path.name + ".next").exists()


def test_a_second_load_waits_then_fails_with_one_sentence(make_dataset, db_path):
    """Two loads of one store: the second waits for the lock, bounded, then says so in one sentence."""
    from metrics.storage.store import load_lock

    folder = make_dataset()
    ingest(folder, db_path)
    before = snapshot(db_path)
    with load_lock(db_path), pytest.raises(LoadError, match="another load of this store is still running"):
        ingest(make_dataset(**{"responses.csv": "case_id,at,author_type"}), db_path, lock_timeout=0.5)
    assert snapshot(db_path) == before


def test_a_store_must_be_a_duckdb_file(make_dataset, tmp_path):
    """`--db notadb.csv` is refused instead of reporting success; so is an existing file that is not a store."""
    with pytest.raises(LoadError, match=r"notadb\.csv: a store is a DuckDB file whose name ends in \.duckdb"):
        ingest(make_dataset(), tmp_path / "notadb.csv")
    fake = tmp_path / "fake.duckdb"
    fake.write_text("case_id\n")
    with pytest.raises(LoadError, match="is not a DuckDB store"):
        ingest(make_dataset(), fake)
    assert fake.read_text() == "case_id\n"


# ---------------------------------------------------------------- fatal problems


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"cases.csv": None}, "required table 'cases' is missing"),
        (
            {"responses.csv": "case_id,when,author_type\nC1,2026-03-09T18:30:00Z,agent"},
            "responses.csv: missing required column 'at'",
        ),
        (
            {"responses.csv": "case_id,at,author_type\nC1,2026-03-09T18:30:00Z,agent\nC1,2026-03-09 18:40:00,agent"},
            "responses.csv, column at, line 3: expected a timestamp with an offset",
        ),
        (
            {"accounts.csv": "account_id,name,region\nA1,Acme,americas\nA2,Beta,apac"},
            "accounts.csv, column region, line 3: 'apac' is not a calendar in the config",
        ),
        (
            {"subscriptions.csv": "account_id,package,start_date,end_date\nA1,Diamond,2026-01-01,2026-12-31"},
            "subscriptions.csv, column package, line 2: 'Diamond' is not a package in the config",
        ),
        ({"config.toml": "[reporting\ntimezone = 1"}, "config.toml: not valid TOML"),
        ({"config.toml": '[calendars.americas]\ntimezone = "Mars/Olympus"'}, "timezone: expected an IANA timezone"),
        ({"cases.parquet": "this is not parquet"}, "both cases.csv and cases.parquet exist"),
    ],
)
def test_fatal_problem_stops_the_load_and_keeps_the_store(make_dataset, db_path, files, message):
    """A fatal problem names file, column and row, and leaves what was stored unchanged."""
    ingest(make_dataset(), db_path)
    before = snapshot(db_path)
    with pytest.raises(LoadError, match=message.replace("(", r"\(").replace("[", r"\[")):
        ingest(make_dataset(files), db_path)
    assert snapshot(db_path) == before


def test_unreadable_file_is_fatal(make_dataset, db_path):
    """A file that is not what its ending says stops the load with the file's name."""
    folder = make_dataset(**{"cases.csv": None})
    (folder / "cases.parquet").write_bytes(b"PAR1 but not really")
    with pytest.raises(LoadError, match=r"cases\.parquet: could not be read as PARQUET"):
        ingest(folder, db_path)


def test_cli_prints_one_line_and_no_traceback(make_dataset, db_path):
    """The CLI turns a fatal problem into one `error:` line and exit status 2."""
    folder = make_dataset(**{"cases.csv": None})
    run = subprocess.run(
        [sys.executable, "-m", "metrics", "ingest", str(folder), "--db", str(db_path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in run.stderr


# ---------------------------------------------------------------- quarantined rows


def test_bad_rows_are_quarantined_with_file_line_and_reason(make_dataset, db_path):
    """Each bad-row rule quarantines the row with its line; the good rows still load."""
    folder = make_dataset(
        **{
            "accounts.csv": """
                account_id,name,region
                A1,Acme,americas
                A2,Beta,japan
                A1,Acme again,americas
            """,
            "subscriptions.csv": """
                account_id,package,start_date,end_date
                A1,Gold,2026-01-01,2026-12-31
                A2,Silver,2026-01-01,2026-06-30
                A2,Silver,2026-06-01,2026-12-31
                A9,Gold,2026-01-01,2026-12-31
                A1,Gold,2027-02-01,2027-01-01
            """,
            "cases.csv": """
                case_id,account_id,opened_at,severity
                C1,A1,2026-03-06T23:00:00Z,2
                C2,A2,2026-03-10T01:00:00Z,3
                C3,A1,yesterday,2
                C4,A1,2026-03-10T01:00:00Z,4
                C5,A7,2026-03-10T01:00:00Z,2
                C1,A1,2026-03-06T23:00:00Z,2
                C6,A1,2026-03-10T01:00:00Z,
            """,
            "responses.csv": """
                case_id,at,author_type,public
                C1,2026-03-09T18:30:00Z,agent,true
                C1,2026-03-09T18:30:00Z,agent,true
                C2,2026-03-09T00:00:00Z,agent,true
                C8,2026-03-10T02:00:00Z,agent,true
                C2,2026-03-10T02:00:00Z,bot,true
                C2,2026-03-10T03:00:00Z,customer,maybe
                C2,2026-03-10T04:00:00Z,customer,true,surplus
            """,
            "case_changes.csv": """
                case_id,at,field,value
                C1,2026-03-07T00:00:00Z,status,pending_customer
                C1,2026-03-07T01:00:00Z,status,waiting
                C1,2026-03-07T02:00:00Z,severity,5
                C1,2026-03-07T03:00:00Z,colour,red
            """,
        }
    )
    report = ingest(folder, db_path)
    assert quarantine(db_path) == [
        ("accounts.csv", 4, "duplicate_key", "duplicate key (account_id) of line 2"),
        ("case_changes.csv", 3, "bad_value", "column value: expected open, pending_customer or closed for field status, got 'waiting'"),
        ("case_changes.csv", 4, "bad_value", "column value: expected 1, 2 or 3 for field severity, got '5'"),
        ("case_changes.csv", 5, "bad_value", "column field: expected 'severity', 'status' or 'escalation', got 'colour'"),
        ("cases.csv", 4, "bad_value", "column opened_at: expected an ISO 8601 timestamp with an offset, e.g. 2026-03-09T14:05:00Z, got 'yesterday'"),
        ("cases.csv", 5, "bad_value", "column severity: expected a severity 1, 2 or 3, got '4'"),
        ("cases.csv", 6, "unknown_account", "column account_id: unknown account 'A7'"),
        ("cases.csv", 7, "duplicate_key", "duplicate key (case_id) of line 2"),
        ("cases.csv", 8, "missing_value", "column severity: a value is required"),
        ("responses.csv", 3, "duplicate_key", "duplicate key (case_id, at, author_type) of line 2"),
        ("responses.csv", 4, "before_opened", "column at: 2026-03-09T00:00:00Z is before the case was opened at 2026-03-10T01:00:00Z"),
        ("responses.csv", 5, "unknown_case", "column case_id: unknown case 'C8'"),
        ("responses.csv", 6, "bad_value", "column author_type: expected 'agent' or 'customer', got 'bot'"),
        ("responses.csv", 7, "bad_value", "column public: expected true or false, got 'maybe'"),
        ("responses.csv", 8, "malformed_row", "TOO MANY COLUMNS: Expected Number of Columns: 4 Found: 5"),
        ("subscriptions.csv", 4, "overlapping_term", "column start_date: the term overlaps the term starting 2026-01-01"),
        ("subscriptions.csv", 5, "unknown_account", "column account_id: unknown account 'A9'"),
        ("subscriptions.csv", 6, "bad_range", "column end_date: is before start_date"),
    ]
    assert report.quarantined[("responses.csv", "bad_value")] == 2
    # the CLI report quotes the first offending value per file and rule (lines 6 and 7 are bad_value; 6 comes first)
    summary = report.summary()
    assert "    first: line 6: column author_type: expected 'agent' or 'customer', got 'bot'" in summary
    assert "    first: line 3: column value: expected open, pending_customer or closed for field status, got 'waiting'" in summary
    assert report.rows_stored == {
        "accounts": 2, "subscriptions": 2, "cases": 2, "responses": 1, "case_changes": 1,
    }


def test_strict_fails_on_any_quarantined_row(make_dataset, db_path):
    """--strict turns one bad row into a failed load that changes nothing."""
    ingest(make_dataset(), db_path)
    before = snapshot(db_path)
    bad = make_dataset(**{"responses.csv": "case_id,at,author_type\nC1,2026-03-09T18:30:00Z,agent\nC9,2026-03-09T18:30:00Z,agent"})
    with pytest.raises(LoadError, match=r"--strict: 1 rows would be quarantined; first: responses\.csv, line 3"):
        ingest(bad, db_path, strict=True)
    assert snapshot(db_path) == before


def test_responses_for_cases_stored_earlier_are_accepted(make_dataset, db_path):
    """An appended delta of responses may refer to cases stored by an earlier load."""
    ingest(make_dataset(), db_path)
    more = make_dataset(**{"responses.csv": "case_id,at,author_type,response_id\nC1,2026-03-10T18:30:00Z,customer,r9"})
    report = ingest(more, db_path, append=True)
    assert report.total_quarantined == 0
    assert rows(db_path, "select count(*) from responses") == [(3,)]


def test_instants_outside_the_supported_range_or_offsets_are_quarantined(make_dataset, db_path):
    """Years 0001 and 9999 and offsets beyond +-14:00 get reasons of their own instead of a shifted instant."""
    folder = make_dataset(**{
        "cases.csv": """
            case_id,account_id,opened_at,severity
            C1,A1,2026-03-06T23:00:00+99:99,2
            C2,A2,0001-01-01T00:00:00Z,3
            C3,A2,9999-12-31T00:00:00Z,3
            C4,A2,2026-03-06T23:00:00-14:00,3
            C5,A2,2026-03-06T23:00:00+14:01,3
            C6,A2,2026-03-06T23:00:00+05:30,3
        """,
        "responses.csv": "case_id,at,author_type",
        "subscriptions.csv": """
            account_id,package,start_date,end_date
            A1,Gold,2026-01-01,9999-12-31
            A2,Silver,2026-01-01,2026-12-31
        """,
    })
    ingest(folder, db_path)
    found = {(file, line): (rule, reason) for file, line, rule, reason in quarantine(db_path)}
    assert found[("cases.csv", 2)] == (
        "bad_offset", "column opened_at: the offset of '2026-03-06T23:00:00+99:99' is beyond +-14:00 "
        "(expected an offset such as Z, +02:00 or -07:00)")
    assert found[("cases.csv", 3)] == (
        "out_of_range", "column opened_at: '0001-01-01T00:00:00Z' is outside the supported range 1970-01-01..2100-12-31")
    assert found[("cases.csv", 4)][0] == "out_of_range"
    assert found[("cases.csv", 6)][0] == "bad_offset"
    assert found[("subscriptions.csv", 2)][0] == "out_of_range"
    # -14:00 is the furthest real offset: 23:00 on the 6th at -14:00 is 13:00Z on the 7th; +05:30 is 17:30Z
    assert rows(db_path, "select case_id, strftime(opened_at, '%d %H:%M') from cases order by 1") == [
        ("C4", "07 13:00"), ("C6", "06 17:30")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("case_id,account_id\nC1,A1\n".encode("utf-16"), "cases.csv: is UTF-16 text; expected UTF-8 CSV"),
        (b"case_id,account_id\x00\nC1,A1\n", "cases.csv: is not a text file (it contains NUL bytes)"),
        (b"", "cases.csv: is empty; expected a header line"),
        (b"case_id,account_id\n\xff\xfe\xfa,A1\n", "cases.csv: is not UTF-8 text (byte 20)"),
        (b"case_id,case_id,account_id,opened_at,severity\nC1,C9,A1,2026-03-06T23:00:00Z,2\n",
         "cases.csv, line 1: the header names column 'case_id' twice"),
        ((",".join(f"c{i:05d}" + "x" * 40 for i in range(10_000)) + "\n1\n").encode(),
         "missing required column 'case_id' (expected columns: case_id, account_id, opened_at, severity,"),
    ],
    ids=["utf16", "nul", "empty", "latin1", "duplicate-header", "10000-columns"],
)
def test_unreadable_text_gets_a_plain_reason(make_dataset, db_path, content, message):
    """Encoding, binary, empty and duplicate-header problems are named as such, not as a missing column."""
    ingest(make_dataset(), db_path)
    before = snapshot(db_path)
    folder = make_dataset()
    (folder / "cases.csv").write_bytes(content)
    with pytest.raises(LoadError) as caught:
        ingest(folder, db_path)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 700
    assert snapshot(db_path) == before


# ---------------------------------------------------------------- one transaction


@pytest.mark.slow
def test_a_killed_load_leaves_the_previous_data(tmp_path, make_dataset, db_path):
    """SIGKILL in the middle of storing a large load: the store still holds exactly the old data."""
    from metrics.tools.sample import generate_sample

    ingest(make_dataset(), db_path)
    before = snapshot(db_path)
    big = tmp_path / "big"
    generate_sample(big, seed=7, cases=150_000, fmt="parquet")
    proc = subprocess.Popen(
        [sys.executable, "-m", "metrics", "ingest", str(big), "--db", str(db_path)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=PROJECT_ROOT,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "storing cases" in line:  # accounts and subscriptions already merged, inside the transaction
            proc.kill()
            break
    proc.wait()
    assert proc.returncode == -9, "the load finished before it could be killed; use a larger dataset"
    assert snapshot(db_path) == before


def test_is_loaded_knows_when_files_changed(make_dataset, db_path):
    """Commands skip reloading only while the files' contents are exactly those of the latest load."""
    from metrics.storage.ingest import is_loaded

    folder = make_dataset()
    assert not is_loaded(folder, db_path)
    ingest(folder, db_path)
    assert is_loaded(folder, db_path)
    cases = folder / "cases.csv"
    cases.write_text(cases.read_text().replace("C2,A2", "C3,A2"))
    assert not is_loaded(folder, db_path)
