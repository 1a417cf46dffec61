"""The engine's run at the data's latest instant, stored in the store at load.

`ingest` calls `store_run` on the store it is about to publish (the engine registers it,
see metrics/engine/__init__.py: storage never imports the engine). The snapshot then reads
these tables instead of running the engine over every case (snapshot.derived_tables).
"""

from __future__ import annotations

import duckdb

from metrics import sqlfiles
from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import engine_tables
from metrics.storage.ingest import STORE_FORMAT
from metrics.storage.store import stored_config

RUN_SQL = sqlfiles.statements(sqlfiles.read(__file__, "stored_run.sql"))


def store_run(con: duckdb.DuckDBPyConnection) -> None:
    """Store the snapshot's tables as of the data's latest instant, each case with its settled_at."""
    config = stored_config(con)
    moment = latest_instant(con)
    obligations, facts = engine_tables(con, moment, config)
    cur = con.cursor()
    try:
        cur.execute("set preserve_insertion_order = true")  # the stored obligations keep the snapshot's order
        cur.register("run_obligation_rows", obligations)
        cur.register("run_case_fact_rows", facts)
        values: dict[str, object] = {"as_of": moment, "config": config.to_json(), "format": STORE_FORMAT}
        for statement in RUN_SQL:
            cur.execute(statement, sqlfiles.bind(statement, values))
    finally:
        cur.close()
