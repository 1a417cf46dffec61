"""`python -m metrics backup`: the store and its workspace copied whole, while both stay in use."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from metrics.errors import LoadError
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT
from metrics.tools.backup import backup_store
from metrics.workspace import Workspace

AT = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)


def test_backup_copies_the_store_and_its_workspace(make_dataset, tmp_path: Path):
    """Both files land in --out and read back: the cases and the sent update; a later save is not in the copy."""
    db = tmp_path / "live" / "support.duckdb"
    ingest(make_dataset(), db)
    ws = Workspace.beside(db)
    ws.mark_sent("A1", dt.date(2026, 11, 16), "sent text", "ann", AT)
    written = backup_store(db, tmp_path / "backup")
    assert [p.name for p in written] == ["support.duckdb", "support.workspace.sqlite"]
    ws.mark_sent("A1", dt.date(2026, 11, 23), "after the backup", "ann", AT)
    con = duckdb.connect(str(tmp_path / "backup" / "support.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from cases").fetchall() == [(2,)]
    finally:
        con.close()
    assert [s.text for s in Workspace(tmp_path / "backup" / "support.workspace.sqlite").sent_updates()] == ["sent text"]


def test_without_a_workspace_only_the_store_is_copied_and_bad_targets_are_refused(make_dataset, tmp_path: Path):
    db = tmp_path / "live" / "support.duckdb"
    ingest(make_dataset(), db)
    assert [p.name for p in backup_store(db, tmp_path / "b")] == ["support.duckdb"]
    with pytest.raises(LoadError, match="another folder"):
        backup_store(db, db.parent)
    with pytest.raises(LoadError, match="no such store"):
        backup_store(tmp_path / "missing.duckdb", tmp_path / "b")


def test_the_command_line(make_dataset, tmp_path: Path):
    db = tmp_path / "live" / "support.duckdb"
    ingest(make_dataset(), db)
    Workspace.beside(db).save_draft("A1", dt.date(2026, 11, 16), "draft", "ann", AT, 0)
    done = subprocess.run([sys.executable, "-m", "metrics", "backup", "--db", str(db), "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Wrote ") == 2
    assert Workspace(tmp_path / "b" / "support.workspace.sqlite").draft("A1", dt.date(2026, 11, 16)) is not None
