"""The command line end to end, as a user runs it: a subprocess per command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from metrics.engine.obligations import EXPORT_COLUMNS
from metrics.storage.store import PROJECT_ROOT
from metrics.tools.imports import IMPORTERS
from tests.engine.test_obligations import write_examples


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False
    )


def test_export_obligations_writes_csv_and_parquet(tmp_path: Path):
    """`export obligations` writes the contract's columns; CSV and Parquet hold the same rows."""
    db = write_examples(tmp_path)
    csv = run("export", "obligations", str(tmp_path), "--db", str(db), "--as-of", "2026-12-01T00:00:00Z",
              "--out", str(tmp_path / "o.csv"))
    assert csv.returncode == 0, csv.stderr
    par = run("export", "obligations", str(tmp_path), "--db", str(db), "--as-of", "2026-12-01T00:00:00Z",
              "--out", str(tmp_path / "o.parquet"))
    assert par.returncode == 0, par.stderr
    from_csv = pd.read_csv(tmp_path / "o.csv")
    from_parquet = pd.read_parquet(tmp_path / "o.parquet")
    assert list(from_csv.columns) == list(EXPORT_COLUMNS) == list(from_parquet.columns)
    assert len(from_csv) == len(from_parquet) == 17  # 8 cases + 9 agent responses each starting a follow-up
    assert sorted(from_csv.status.unique()) == ["breached", "met", "pending"]


def test_export_refuses_other_file_endings(tmp_path: Path):
    """An --out that is neither .csv nor .parquet is a usage error, not a traceback."""
    db = write_examples(tmp_path)
    result = run("export", "obligations", str(tmp_path), "--db", str(db), "--as-of", "2026-12-01T00:00:00Z",
                 "--out", str(tmp_path / "o.xlsx"))
    assert result.returncode == 2
    assert "must end in .csv or .parquet" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_prints_each_obligation_with_a_verdict(tmp_path: Path):
    """`explain` names every obligation of the case and ends each with its one-sentence reason."""
    db = write_examples(tmp_path)
    result = run("explain", str(tmp_path), "--db", str(db), "--case", "E6", "--as-of", "2026-03-13T00:00:00Z")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "initial response [met]" in out
    assert "follow-up #1 [met]" in out
    assert "paused (pending_customer) 2026-03-10 12:00:00Z -> 2026-03-11 12:00:00Z" in out
    assert "follow-up #2 [pending]" in out  # 7 h into a 32 h clock at the cut


def test_bad_as_of_is_a_usage_error(tmp_path: Path):
    """A malformed --as-of gets a sentence saying what was expected."""
    db = write_examples(tmp_path)
    result = run("explain", str(tmp_path), "--db", str(db), "--case", "E6", "--as-of", "last tuesday")
    assert result.returncode == 2
    assert "expected an ISO 8601 instant" in result.stderr


def _dataset(folder: Path, cases: list[str]) -> Path:
    """A small dataset with the given case ids (all of account A1, opened on one Monday)."""
    folder.mkdir(parents=True)
    (folder / "accounts.csv").write_text("account_id,name,region\nA1,Acme,americas\n")
    (folder / "subscriptions.csv").write_text("account_id,package,start_date,end_date\nA1,Gold,2026-01-01,2026-12-31\n")
    (folder / "cases.csv").write_text(
        "case_id,account_id,opened_at,severity\n" + "".join(f"{c},A1,2026-03-09T15:00:00Z,2\n" for c in cases)
    )
    (folder / "responses.csv").write_text("case_id,at,author_type\n")
    return folder


def _export(folder: Path, out: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", "export", "obligations", str(folder), "--as-of", "2026-03-10T00:00:00Z",
         "--out", str(out), *extra],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False, env=env,
    )


def test_a_folder_is_computed_from_exactly_its_files(tmp_path: Path):
    """Two datasets sharing a folder name export their own cases; a case deleted at the source leaves the export."""
    import os

    env = {**os.environ, "SUPPORT_ANALYTICS_CACHE": str(tmp_path / "cache")}
    a = _dataset(tmp_path / "a" / "acme", ["C1", "C2", "C3"])
    b = _dataset(tmp_path / "b" / "acme", ["X1"])
    for folder, expected in ((a, {"C1", "C2", "C3"}), (b, {"X1"})):
        out = tmp_path / f"{folder.parent.name}.csv"
        result = _export(folder, out, env=env)
        assert result.returncode == 0, result.stderr
        assert set(pd.read_csv(out).case_id) == expected  # one initial obligation per case
    (a / "cases.csv").write_text("case_id,account_id,opened_at,severity\nC1,A1,2026-03-09T15:00:00Z,2\n")
    assert _export(a, tmp_path / "a2.csv", env=env).returncode == 0
    assert set(pd.read_csv(tmp_path / "a2.csv").case_id) == {"C1"}


def test_db_is_read_only(tmp_path: Path):
    """With --db a read command never writes the store, even when DATASET holds other files."""
    import os

    from metrics.storage.ingest import ingest
    from metrics.storage.store import store_version

    env = {**os.environ, "SUPPORT_ANALYTICS_CACHE": str(tmp_path / "cache")}
    a = _dataset(tmp_path / "a", ["C1", "C2"])
    b = _dataset(tmp_path / "b", ["X1"])
    db = tmp_path / "a.duckdb"
    ingest(a, db)
    version = store_version(db)
    result = _export(b, tmp_path / "o.csv", "--db", str(db), env=env)
    assert result.returncode == 0, result.stderr
    assert "does not hold the current files" in result.stderr
    assert store_version(db) == version
    assert set(pd.read_csv(tmp_path / "o.csv").case_id) == {"C1", "C2"}  # the store, as it is
    missing = _export(b, tmp_path / "o.csv", "--db", str(tmp_path / "none.duckdb"), env=env)
    assert missing.returncode == 2
    assert "none.duckdb: no such store" in missing.stderr


def test_store_errors_are_one_sentence(tmp_path: Path):
    """A DuckDB file that is not one of our stores gives one line, not a traceback."""
    import duckdb

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = run("export", "obligations", str(tmp_path), "--db", str(empty), "--as-of", "2026-12-01T00:00:00Z",
                 "--out", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the store could not be read (Catalog Error")
    assert "Traceback" not in result.stderr


def test_ingest_succeeds_while_the_store_is_being_read(tmp_path: Path):
    """A reader holding the store open (a running dashboard) no longer blocks a load: no lock error."""
    import duckdb

    from metrics.storage.ingest import ingest

    db = tmp_path / "served.duckdb"
    ingest(_dataset(tmp_path / "v1", ["C1"]), db)
    reader = duckdb.connect(str(db), read_only=True)
    try:
        result = run("ingest", str(_dataset(tmp_path / "v2", ["C1", "C2"])), "--db", str(db), "--quiet")
        assert result.returncode == 0, result.stderr
        assert "the store now mirrors it" in result.stdout
    finally:
        reader.close()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from cases").fetchall() == [(2,)]
    # the command line's load stores the engine's run too, as the dashboard's does: both cases in it
    assert con.execute("select count(*) from sla_run_cases").fetchall() == [(2,)]
    con.close()


def test_every_importer_ends_with_the_commands_that_follow(tmp_path: Path):
    """import -> ingest -> run: each importer prints the ingest and the dashboard line for its folder."""
    data = PROJECT_ROOT / "tests" / "data"
    sources = {
        "servicenow": data / "servicenow" / "incident_event_log_excerpt.csv.gz",
        "bpic2013": data / "bpic2013" / "VINST_excerpt.csv",
        "bpic2014": data / "bpic2014",
        "zendesk": data / "zendesk" / "api",
        "salesforce": data / "salesforce",
        "jsm": data / "jsm",
    }
    assert set(sources) == set(IMPORTERS), "an importer without its run here"
    for name, source in sources.items():
        out = tmp_path / name
        done = run("import", name, str(source), "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert f"python -m metrics ingest {out} --db {out}.duckdb" in done.stdout, name
        assert f"SUPPORT_ANALYTICS_DB={out}.duckdb streamlit run dashboard.py" in done.stdout, name
