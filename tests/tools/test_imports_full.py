"""Each importer on the full public log: the dataset ingests strictly and yields met and breached obligations."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.engine.obligations import compute_obligations
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT, connect
from metrics.tools.imports.bpic2013 import import_bpic2013
from metrics.tools.imports.bpic2014 import import_bpic2014
from metrics.tools.imports.servicenow import import_servicenow

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
SOURCES = {
    "servicenow": (import_servicenow, DATASETS / "uci-incident-event-log" / "incident_event_log.csv.gz", "2017-03-01"),
    "bpic2013": (import_bpic2013, DATASETS / "bpic2013-volvo-incidents" / "VINST_incidents_ibm.csv.gz", "2012-06-01"),
    "bpic2014": (import_bpic2014, DATASETS / "bpic2014-rabobank-incidents-sample", "2014-05-01"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SOURCES))
def test_full_log_imports_ingests_and_has_met_and_breached(name: str, tmp_path: Path):
    """The whole file becomes a dataset that loads with --strict and whose clocks both meet and breach."""
    importer, source, as_of = SOURCES[name]
    if not source.exists():
        pytest.skip(f"{source} is not here (the shared datasets sit beside the project checkout)")
    out = tmp_path / name
    report = importer(source, out)
    assert report.written["cases"] > 1000
    db = tmp_path / f"{name}.duckdb"
    stored = ingest(out, db, strict=True)
    assert stored.total_quarantined == 0
    con = connect(db, read_only=True)
    try:
        statuses = set(compute_obligations(con, f"{as_of}T00:00:00Z")["status"])
    finally:
        con.close()
    assert {"met", "breached"} <= statuses
