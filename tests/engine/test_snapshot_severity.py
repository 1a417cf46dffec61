"""The severity a breach is reported under ([reporting] breach_severity), worked by hand.

Account A1 (americas: America/Denver, Mon-Fri 07:00-18:00; MDT = UTC-6 from 2026-03-08) on
Platinum: initial 2 h (severity 1, 24x7), 6 h (severity 2, business), 10 h (severity 3,
business); follow-up 24 / 72 / 72 h. As of 2026-03-12 00:00Z.

- S1 (sla-rules.md example 5): severity 1 opened Tue 2026-03-10 15:00Z, deadline 17:00Z;
  lowered to 3 at 18:00Z; response 18:30Z. Breached at 17:00Z while severity 1 was in force.
  The engine's (final) severity is 3. Its follow-up (seq 1, from 18:30Z) runs at 3.
- S2 (a change at the breach instant): severity 3 opened 14:00Z (08:00 MDT); raised to 1 at
  19:00Z, whose deadline 14:00 + 2 h = 16:00Z already passed, so the piece that starts at
  19:00Z breaches at max(16:00Z, 19:00Z) = 19:00Z (the severity-3 piece [14:00, 19:00) is
  due 08:00 + 10 business h = 18:00 MDT = 00:00Z: no breach). Lowered to 2 at 20:00Z
  (its piece breaches too, at 20:00Z, but the first breach counts); response 20:30Z.
  The change at exactly breached_at is in force (a change holds from its instant on, and
  it is the piece starting there that breached): reported 1, never 3. Final: 2.
- S3 (a change at the old deadline): severity 1 opened 15:00Z (due 17:00Z), lowered to 3 at
  exactly 17:00Z, response 17:30Z. The severity-1 piece [15:00, 17:00) ends at its deadline
  (D < y is false); the severity-3 piece is due the next day: met, reported 3 either way.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from metrics.engine.obligations import export_obligations, obligations_arrow
from metrics.engine.snapshot import Snapshot, open_snapshot, take_snapshot
from metrics.storage.ingest import ingest

AS_OF = "2026-03-12T00:00:00Z"
FILES = {
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Platinum,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity,closed_at
        S1,A1,2026-03-10T15:00:00Z,1,
        S2,A1,2026-03-10T14:00:00Z,3,
        S3,A1,2026-03-10T15:00:00Z,1,
    """,
    "responses.csv": """
        case_id,at,author_type,public
        S1,2026-03-10T18:30:00Z,agent,true
        S2,2026-03-10T20:30:00Z,agent,true
        S3,2026-03-10T17:30:00Z,agent,true
    """,
    "case_changes.csv": """
        case_id,at,field,value
        S1,2026-03-10T18:00:00Z,severity,3
        S2,2026-03-10T19:00:00Z,severity,1
        S2,2026-03-10T20:00:00Z,severity,2
        S3,2026-03-10T17:00:00Z,severity,3
    """,
}


def _rows(snap: Snapshot) -> list[tuple[str, int, str, int, int]]:
    table = snap.query("select case_id, seq, status, severity, final_severity from obligations order by case_id, seq")
    return [tuple(r.values()) for r in table.to_pylist()]  # type: ignore[misc]


@pytest.fixture
def store(make_dataset: Callable[..., Path], db_path: Path) -> Path:
    ingest(make_dataset(FILES), db_path)
    return db_path


@pytest.fixture
def snap(store: Path) -> Iterator[Snapshot]:
    snapshot = open_snapshot(store, AS_OF)
    yield snapshot
    snapshot.con.close()


def test_at_breach_reports_the_severity_in_force_when_the_deadline_passed(snap: Snapshot) -> None:
    """Default at_breach: S1's miss under 1 (not 3), S2's under 1 (the change at the breach instant wins)."""
    assert snap.config.breach_severity == "at_breach"
    assert _rows(snap) == [
        # case, seq, status, reported severity, final severity
        ("S1", 0, "breached", 1, 3),  # breached 17:00Z at 1, lowered to 3 at 18:00Z
        ("S1", 1, "pending", 3, 3),  # from the 18:30Z response, never breached
        ("S2", 0, "breached", 1, 2),  # breached 19:00Z, the instant it was raised 3 -> 1
        ("S2", 1, "pending", 2, 2),
        ("S3", 0, "met", 3, 3),  # lowered at the deadline instant: no breach, final severity
        ("S3", 1, "pending", 3, 3),
    ]


def test_final_reports_every_obligation_under_its_final_severity(snap: Snapshot) -> None:
    """breach_severity = final: severity equals final_severity on every row (S1 under 3, S2 under 2)."""
    final = take_snapshot(snap.con, AS_OF, dataclasses.replace(snap.config, breach_severity="final"))
    assert _rows(final) == [
        ("S1", 0, "breached", 3, 3),
        ("S1", 1, "pending", 3, 3),
        ("S2", 0, "breached", 2, 2),
        ("S2", 1, "pending", 2, 2),
        ("S3", 0, "met", 3, 3),
        ("S3", 1, "pending", 3, 3),
    ]


def test_the_setting_is_read_from_the_datasets_config(make_dataset: Callable[..., Path], db_path: Path) -> None:
    """`[reporting] breach_severity = "final"` in config.toml reaches the snapshot: S1's miss under 3."""
    files = {**FILES, "config.toml": '[reporting]\nbreach_severity = "final"'}
    ingest(make_dataset(files), db_path)
    snapshot = open_snapshot(db_path, AS_OF)
    try:
        assert snapshot.config.breach_severity == "final"
        assert _rows(snapshot)[0] == ("S1", 0, "breached", 3, 3)
    finally:
        snapshot.con.close()


def test_the_export_keeps_the_final_severity_whatever_the_setting(snap: Snapshot, tmp_path: Path) -> None:
    """The obligations export runs the engine itself: severity = final (S1 #0: 3, S2 #0: 2), no extra column."""
    out = tmp_path / "obligations.csv"
    assert snap.config.breach_severity == "at_breach"
    export_obligations(snap.con, AS_OF, out)
    frame = pd.read_csv(out)
    assert "final_severity" not in frame.columns
    assert list(zip(frame["case_id"], frame["seq"], frame["severity"], strict=True)) == [
        ("S1", 0, 3), ("S1", 1, 3), ("S2", 0, 2), ("S2", 1, 2), ("S3", 0, 3), ("S3", 1, 3),
    ]  # fmt: skip


def test_the_snapshot_adds_a_column_and_changes_nothing_else(snap: Snapshot) -> None:
    """Apart from severity and the added final_severity, the snapshot's rows are the engine's, in its order."""
    engine = obligations_arrow(snap.con, AS_OF, snap.config)
    assert snap.obligations.column_names == [*engine.column_names, "final_severity"]
    assert snap.obligations.column("final_severity").to_pylist() == engine.column("severity").to_pylist()
    for name in engine.column_names:
        if name != "severity":
            assert decoded(snap.obligations.column(name)).equals(engine.column(name)), name


def decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column as its values: the snapshot holds some attributes dictionary-encoded (ENCODED_COLUMNS)."""
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def test_the_export_module_never_reads_the_snapshot() -> None:
    """metrics.engine.obligations (the export) imports no snapshot module: it cannot read the reported severity."""
    import metrics.engine.obligations as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not any(name and "snapshot" in name for name in imported)
