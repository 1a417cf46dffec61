"""The command line end to end, as a user runs it: a subprocess per command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from metrics.sla import EXPORT_COLUMNS
from metrics.store import PROJECT_ROOT
from tests.metrics.test_sla import write_examples


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
